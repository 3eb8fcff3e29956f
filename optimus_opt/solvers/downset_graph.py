"""A window's schedules as the paths of its graph of down-sets: built once, solved for any costs of its pieces.

The segment bound (formulations/segment-bound.md) solves the down-set DP of each window (formulations/exact-dp.md)
over pieces whose costs are known up front, and its coupling solves every window again each round with the pieces'
costs moved by the multipliers. The down-sets a window reaches from ∅ and the transitions between them do not
depend on the costs, so they are built once (:meth:`DownsetGraph.build`); each solve is then one pass over the
transitions with the down-sets numbered by size, a shortest path in a DAG, which negative costs do not disturb
(:meth:`DownsetGraph.solve`).

The loops (the graph's search, its hash table, the shortest path) are compiled by numba over 64-bit bitsets, so a
window holds at most :data:`WORD_LAYERS` layers there; a wider window runs the same code as Python over Python
integers, slowly but with the same results. Transitions are numbered in 32 bits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..utils.deadline import NEVER, Deadline

try:  # numba compiles the loops; without it they run as plain Python
    from numba import njit
except ImportError:  # pragma: no cover - exercised only where numba is missing
    def njit(*args, **kwargs):
        return (lambda f: f) if not args or not callable(args[0]) else args[0]

#: An odd 63-bit constant: a down-set's slot in the hash table is bits 32 and up of its product with it (the bits
#: that every bit of the down-set moves). Down-sets share long runs of bits, which a fold by shifts and xors maps
#: onto a few slots: building NASNet's widest windows then spent most of its time probing.
_MIX = 0x5851F42D4C957F2D

#: The room the graph starts with, for down-sets and for transitions: doubled as they fill.
FIRST_STATES, FIRST_TRANSITIONS = 1024, 16384

#: Down-sets expanded between two looks at the deadline: a window of NASNet-A of 54 layers took 165 s to build,
#: and looked at the clock only when its arrays doubled, 100 s past its deadline.
LOOK_STATES = 1 << 15

#: The most layers a window may have for its bitsets to fit a signed 64-bit word, the compiled loops' type.
WORD_LAYERS = 62


@njit(cache=True)
def _expand(masks, needs, group_start, group_end, gkey, gneed, gfirst, glast, members, pred,
            states, table, src, dst, piece, scratch, count, t, k, stop):
    """Every down-set reachable from ∅ (``states``, in the order found, from position 0 = ∅; ``table`` an open
    addressing hash of their positions, −1 where empty, its size a power of two) and every transition
    (``src`` → ``dst`` by ``piece``), recorded state by state: a state's ready layers are those whose producers it
    holds, and a piece whose first layer is ready joins it when it is disjoint from it and needs nothing outside
    it. The pieces of each first layer come in groups that agree on the layers a down-set may or may not hold
    (:func:`_groups`): a group whose agreed layers meet the state, or need what it lacks, is passed over whole.
    The pieces that join a state are taken in their own order, so the graph is the same as piece by piece.

    Resumes at state ``k`` with ``count`` states and ``t`` transitions found; returns the numbers of states and
    transitions and the state it stopped at, which is ``count`` when done, ``stop`` when it has expanded the states
    before ``stop`` (the caller looks at the clock and calls again), and the state to resume from when an array is
    full (its transitions not recorded; the caller enlarges the arrays and calls again)."""
    n = len(pred)
    slots = len(table) - 1
    while k < count and k < stop:
        d = states[k]
        m = 0
        for r in range(n):
            if (d >> r) & 1 or pred[r] & ~d:
                continue
            for g in range(group_start[r], group_end[r]):
                if gkey[g] & d or gneed[g] & ~d:
                    continue
                for i in range(gfirst[g], glast[g]):
                    p = members[i]
                    if masks[p] & d or needs[p] & ~d:
                        continue
                    scratch[m] = p
                    m += 1
        if t + m > len(src):
            return count, t, k
        taken = np.sort(scratch[:m])
        for i in range(m):
            p = taken[i]
            e = d | masks[p]
            h = (e * _MIX >> 32) & slots
            while table[h] >= 0 and states[table[h]] != e:
                h = (h + 1) & slots
            j = table[h]
            if j < 0:
                if count == len(states) or 2 * count >= len(table):
                    return count, t - i, k  # this state's transitions are found again after the arrays grow
                j = count
                states[j] = e
                table[h] = j
                count += 1
            src[t], dst[t], piece[t] = k, j, p
            t += 1
        k += 1
    return count, t, k


@njit(cache=True)
def _rehash(states, count, table):
    """Put the first ``count`` states into the empty open addressing ``table`` (as :func:`_expand` does)."""
    slots = len(table) - 1
    for j in range(count):
        e = states[j]
        h = (e * _MIX >> 32) & slots
        while table[h] >= 0:
            h = (h + 1) & slots
        table[h] = j


def _groups(firsts: np.ndarray, masks: np.ndarray, needs: np.ndarray, pred: Sequence[int]):
    """The pieces of each first layer r grouped by what of them a down-set D that r may join decides: D holds
    every ancestor of r and no descendant (it is a down-set without r, whose producers it holds), so whether a
    piece with first r joins D depends on D only through r's *parallel* layers, neither ancestors nor descendants:
    a piece joins when none of its parallel layers lies in D and D holds the parallel layers it needs. Pieces that
    agree on both form one group, tested once; each member of a group that passes is still tested whole, so the
    graph never depends on that reasoning (nor on the pieces being convex), only the time. Returns, per first
    layer, its range of groups; per group its parallel layers (``gkey``), the parallel layers it needs
    (``gneed``) and its range of ``members`` (piece indices, ascending within a group)."""
    n = len(pred)
    below = [0] * n  # ancestors within the window
    for j in range(n):
        for i in range(j):
            if pred[j] >> i & 1:
                below[j] |= below[i] | 1 << i
    above = [0] * n
    for i in range(n):
        for j in range(i + 1, n):
            if below[j] >> i & 1:
                above[i] |= 1 << j
    everything = (1 << n) - 1
    parallel = np.array([everything & ~below[r] & ~above[r] & ~(1 << r) for r in range(n)], np.int64)[firsts]
    key, need = masks & parallel, needs & parallel
    members = np.lexsort((np.arange(len(firsts)), need, key, firsts))
    key, need, first = key[members], need[members], firsts[members]
    new = np.ones(len(members), np.bool_)
    new[1:] = (first[1:] != first[:-1]) | (key[1:] != key[:-1]) | (need[1:] != need[:-1])
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], len(members))
    group_first = first[starts]
    positions = np.arange(n)
    return (np.searchsorted(group_first, positions, "left"), np.searchsorted(group_first, positions, "right"),
            key[starts], need[starts], starts, ends, members)


def _singletons(firsts: np.ndarray, masks: np.ndarray, needs: np.ndarray, n: int):
    """Every piece a group of its own (:func:`_groups`' layout), for windows too wide for 64-bit bitsets."""
    positions = np.arange(n)
    index = np.arange(len(firsts))
    return (np.searchsorted(firsts, positions, "left"), np.searchsorted(firsts, positions, "right"), masks, needs,
            index, index + 1, index)


@njit(cache=True)
def _by_size(order, start, dst, piece):
    """The transitions renumbered so that state ``order[i]`` becomes state i: each state's transitions in their own
    order, the states one after another by size. A solve then walks the states and their transitions in memory
    order, which made the coupling's shortest paths 1.7 times as fast on NASNet-A's widest windows."""
    m = len(order)
    rank = np.empty(m, np.int64)
    for i in range(m):
        rank[order[i]] = i
    first = np.zeros(m + 1, np.int64)
    for i in range(m):
        s = order[i]
        first[i + 1] = first[i] + start[s + 1] - start[s]
    to = np.empty(len(dst), np.int32)
    by = np.empty(len(piece), np.int32)
    for i in range(m):
        s = order[i]
        k = first[i]
        for t in range(start[s], start[s + 1]):
            to[k] = rank[dst[t]]
            by[k] = piece[t]
            k += 1
    return first, to, by, rank


#: A down-set the shortest path has not reached: larger than any total of a window's piece costs.
_UNREACHED = np.iinfo(np.int64).max


@njit(cache=True)
def _forward(start, dst, piece, cost):
    """The least total cost from ∅ (state 0) to every state over the transitions, the states visited in their
    numbering, which is by size (each is final when it is left), and, per state, the transition that reaches it at
    that cost (−1: not reached)."""
    m = len(start) - 1
    best = np.full(m, _UNREACHED, np.int64)
    arg = np.full(m, -1, np.int64)
    best[0] = 0
    for s in range(m):
        b = best[s]
        if b == _UNREACHED:
            continue
        for t in range(start[s], start[s + 1]):
            j = dst[t]
            v = b + cost[piece[t]]
            if v < best[j]:
                best[j] = v
                arg[j] = t
    return best, arg


@njit(cache=True)
def _shortest(start, dst, piece, cost, full):
    """The least total cost from ∅ to the down-set ``full`` (:func:`_forward`), whether it is reached, and per state
    the transition that reaches it at least cost."""
    best, arg = _forward(start, dst, piece, cost)
    return best[full], best[full] != _UNREACHED, arg


@njit(cache=True)
def _within(start, dst, piece, cost, full, allowance):
    """The transitions that lie on some path from ∅ to ``full`` costing at most the least such path's cost plus
    ``allowance``, as the graph's arrays (``start``, ``dst``, ``piece``) restricted to them: the least cost to each
    state from ∅ (forward, in the states' numbering) and from each state to ``full`` (backward), and a transition
    kept when the one plus its piece's cost plus the other is within the allowance."""
    m = len(start) - 1
    unreached = _UNREACHED
    to = _forward(start, dst, piece, cost)[0]
    rest = np.full(m, unreached, np.int64)
    rest[full] = 0
    for s in range(m - 1, -1, -1):
        for t in range(start[s], start[s + 1]):
            if rest[dst[t]] != unreached:
                v = rest[dst[t]] + cost[piece[t]]
                if v < rest[s]:
                    rest[s] = v
    limit = to[full] + allowance
    new_start = np.zeros(m + 1, start.dtype)
    new_dst = np.empty(len(dst), dst.dtype)
    new_piece = np.empty(len(piece), piece.dtype)
    k = 0
    for s in range(m):
        if to[s] != unreached:
            for t in range(start[s], start[s + 1]):
                if rest[dst[t]] != unreached and to[s] + cost[piece[t]] + rest[dst[t]] <= limit:
                    new_dst[k] = dst[t]
                    new_piece[k] = piece[t]
                    k += 1
        new_start[s + 1] = k
    return new_start, new_dst[:k].copy(), new_piece[:k].copy()


@dataclass(frozen=True)
class DownsetGraph:
    """The down-sets of a window reachable from ∅ by its pieces, and the transitions between them.

    ``masks`` are the pieces as bitsets over the window's own positions (bit k is the window's k-th layer), int64
    or, in a window wider than :data:`WORD_LAYERS`, Python integers;
    the states are numbered by size (∅ is 0; of equal sizes, the one found first comes first), so that each
    comes after every state with a transition to it; transition t goes from the state whose range
    ``start[s] <= t < start[s + 1]`` holds it to ``dst[t]`` by piece ``piece[t]``; ``full`` is the index of the
    whole window (−1 when no chain of pieces covers it)."""

    masks: np.ndarray
    start: np.ndarray
    dst: np.ndarray
    piece: np.ndarray
    full: int

    @classmethod
    def build(cls, firsts: Sequence[int], masks: Sequence[int], needs: Sequence[int],
              pred: Sequence[int], deadline: Deadline = NEVER) -> "DownsetGraph | None":
        """The graph of pieces given sorted by their first (lowest) position ``firsts``, with the positions each
        reads outside itself (``needs``), over a window whose position k has the producers ``pred[k]``; None when
        ``deadline`` passes first (it is looked at every :data:`LOOK_STATES` down-sets and each time the arrays
        fill up)."""
        n = len(pred)
        wide = n > WORD_LAYERS  # then the same loop runs as Python over Python integers
        kind = object if wide else np.int64
        expand = getattr(_expand, "py_func", _expand) if wide else _expand
        firsts = np.asarray(firsts, np.int64)
        masks, needs, preds = np.asarray(masks, kind), np.asarray(needs, kind), np.asarray(pred, kind)
        grouped = _singletons(firsts, masks, needs, n) if wide else _groups(firsts, masks, needs, pred)
        states, table = np.zeros(FIRST_STATES, kind), np.full(2 * FIRST_STATES, -1, np.int64)
        scratch = np.empty(max(1, len(firsts)), np.int64)
        filled = []  # the transitions found, in arrays filled one after another (no copy as they grow)
        room = FIRST_TRANSITIONS
        arrays = None
        count, t, k = 1, 0, 0
        while True:
            if arrays is None:
                arrays, t = tuple(np.empty(room, np.int32) for _ in range(3)), 0
            stop = k + LOOK_STATES
            count, t, k = expand(masks, needs, *grouped, preds, states, table, *arrays, scratch, count, t, k, stop)
            if k == count:
                break
            if deadline.expired():
                return None
            if k == stop:  # the arrays have room: only the clock was to be looked at
                continue
            if count == len(states) or 2 * count >= len(table):
                states = np.concatenate([states, np.zeros(len(states), kind)])
                table = np.full(2 * len(table), -1, np.int64)
                (getattr(_rehash, "py_func", _rehash) if wide else _rehash)(states, count, table)
            else:  # the next state's transitions go to new, larger arrays
                filled.append(tuple(a[:t] for a in arrays))
                room, arrays = max(2 * room, len(scratch)), None
        filled.append(tuple(a[:t] for a in arrays))
        src, dst, piece = (np.concatenate([part[i] for part in filled]) for i in range(3))
        del filled
        sizes = np.fromiter((int(x).bit_count() for x in states[:count]), np.int64, count)
        start, dst, piece, rank = _by_size(np.argsort(sizes, kind="stable"),
                                           np.searchsorted(src, np.arange(count + 1), "left"), dst, piece)
        full = np.flatnonzero(states[:count] == (1 << n) - 1)
        return cls(masks=masks, start=start, dst=dst, piece=piece, full=int(rank[full[0]]) if len(full) else -1)

    @property
    def states(self) -> int:
        """The down-sets reached."""
        return len(self.start) - 1

    @property
    def transitions(self) -> int:
        """The transitions between down-sets."""
        return len(self.dst)

    def within(self, cost: np.ndarray, allowance: int) -> "DownsetGraph":
        """The graph with only the transitions on some chain of pieces covering the window whose total ``cost`` is
        at most the least plus ``allowance`` (0 or more, so the least chains stay): the reduced-cost fixing of
        :func:`~.coupling.couple` with an upper bound. The states and pieces keep their numbers."""
        if self.full < 0:
            return self
        start, dst, piece = _within(self.start, self.dst, self.piece, cost, self.full, allowance)
        return DownsetGraph(masks=self.masks, start=start, dst=dst, piece=piece, full=self.full)

    def solve(self, cost: np.ndarray) -> tuple[int, list[int]] | None:
        """The least total ``cost`` (an int64 per piece) of a chain of pieces covering the window, and the pieces
        of one such chain in order; None when no chain covers it."""
        if self.full < 0:
            return None
        value, reached, arg = _shortest(self.start, self.dst, self.piece, cost, self.full)
        if not reached:
            return None
        chosen = []
        s = self.full
        while s != 0:
            t = int(arg[s])
            chosen.append(int(self.piece[t]))
            s = int(np.searchsorted(self.start, t, "right")) - 1
        return int(value), chosen[::-1]
