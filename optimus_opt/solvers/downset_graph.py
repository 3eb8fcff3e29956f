"""A window's schedules as the paths of its graph of down-sets: built once, solved for any costs of its pieces.

The segment bound (formulations/segment-bound.md) solves the down-set DP of each window (formulations/exact-dp.md)
over pieces whose costs are known up front, and its coupling solves every window again each round with the pieces'
costs moved by the multipliers. The down-sets a window reaches from ∅ and the transitions between them do not
depend on the costs, so they are built once (:meth:`DownsetGraph.build`); each solve is then one pass over the
transitions in order of down-set size, a shortest path in a DAG, which negative costs do not disturb
(:meth:`DownsetGraph.solve`).

Both loops are compiled by numba over 64-bit bitsets, so a window holds at most :data:`WORD_LAYERS` layers there;
a wider window runs the same code as Python over Python integers, slowly but with the same results.
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

#: The most layers a window may have for its bitsets to fit a signed 64-bit word, the compiled loops' type.
WORD_LAYERS = 62


@njit(cache=True)
def _expand(masks, needs, first_start, first_end, pred, states, table, src, dst, piece):
    """Every down-set reachable from ∅ (``states``, in the order found, from position 0 = ∅; ``table`` an open
    addressing hash of their positions, −1 where empty, its size a power of two) and every transition
    (``src`` → ``dst`` by ``piece``), recorded state by state: a state's ready layers are those whose producers it
    holds, and a piece whose first layer is ready joins it when it is disjoint from it and needs nothing outside
    it. Returns the numbers of states and transitions, or (−1, −1) when an array is full (the caller doubles it)."""
    n = len(pred)
    slots = len(table) - 1
    count, t, k = 1, 0, 0
    while k < count:
        d = states[k]
        for r in range(n):
            if (d >> r) & 1 or pred[r] & ~d:
                continue
            for p in range(first_start[r], first_end[r]):
                if masks[p] & d or needs[p] & ~d:
                    continue
                e = d | masks[p]
                h = (e ^ (e >> 17) ^ (e >> 31) ^ (e >> 47)) & slots
                while table[h] >= 0 and states[table[h]] != e:
                    h = (h + 1) & slots
                j = table[h]
                if j < 0:
                    if count == len(states) or 2 * count >= len(table):
                        return -1, -1
                    j = count
                    states[j] = e
                    table[h] = j
                    count += 1
                if t == len(src):
                    return -1, -1
                src[t], dst[t], piece[t] = k, j, p
                t += 1
        k += 1
    return count, t


@njit(cache=True)
def _shortest(order, start, dst, piece, cost, full):
    """The least total cost from ∅ to the down-set ``full`` over the transitions (states visited in ``order``, by
    size, so each is final when it is left) and, per state, the transition that reaches it at that cost (−1: not
    reached)."""
    m = len(start) - 1
    best = np.zeros(m, np.int64)
    reached = np.zeros(m, np.bool_)
    arg = np.full(m, -1, np.int64)
    reached[0] = True
    for s in order:
        if not reached[s]:
            continue
        b = best[s]
        for t in range(start[s], start[s + 1]):
            j = dst[t]
            v = b + cost[piece[t]]
            if not reached[j] or v < best[j]:
                best[j] = v
                reached[j] = True
                arg[j] = t
    return best[full], reached[full], arg


@dataclass(frozen=True)
class DownsetGraph:
    """The down-sets of a window reachable from ∅ by its pieces, and the transitions between them.

    ``masks`` are the pieces as bitsets over the window's own positions (bit k is the window's k-th layer), int64
    or, in a window wider than :data:`WORD_LAYERS`, Python integers;
    transition t goes from the state whose range ``start[s] <= t < start[s + 1]`` holds it to ``dst[t]`` by piece
    ``piece[t]``; ``order`` visits the states by size; ``full`` is the index of the whole window (−1 when no chain
    of pieces covers it)."""

    masks: np.ndarray
    start: np.ndarray
    dst: np.ndarray
    piece: np.ndarray
    order: np.ndarray
    full: int

    @classmethod
    def build(cls, firsts: Sequence[int], masks: Sequence[int], needs: Sequence[int],
              pred: Sequence[int], deadline: Deadline = NEVER) -> "DownsetGraph | None":
        """The graph of pieces given sorted by their first (lowest) position ``firsts``, with the positions each
        reads outside itself (``needs``), over a window whose position k has the producers ``pred[k]``; None when
        ``deadline`` passes first (it is looked at each time the arrays fill up and are made twice as large)."""
        n = len(pred)
        positions = np.arange(n)
        first_start = np.searchsorted(np.asarray(firsts, np.int64), positions, "left")
        first_end = np.searchsorted(np.asarray(firsts, np.int64), positions, "right")
        wide = n > WORD_LAYERS  # then the same loop runs as Python over Python integers
        kind = object if wide else np.int64
        expand = getattr(_expand, "py_func", _expand) if wide else _expand
        args = (np.asarray(masks, kind), np.asarray(needs, kind), first_start, first_end, np.asarray(pred, kind))
        state_room, transition_room = 1024, 16384
        while True:
            states = np.zeros(state_room, kind)
            src, dst, piece = (np.empty(transition_room, np.int64) for _ in range(3))
            count, t = expand(*args, states, np.full(2 * state_room, -1, np.int64), src, dst, piece)
            if count >= 0:
                break
            if deadline.expired():
                return None
            state_room, transition_room = 2 * state_room, 2 * transition_room
        sizes = np.fromiter((int(x).bit_count() for x in states[:count]), np.int64, count)
        full = np.flatnonzero(states[:count] == (1 << n) - 1)
        return cls(masks=args[0], start=np.searchsorted(src[:t], np.arange(count + 1), "left"), dst=dst[:t],
                   piece=piece[:t], order=np.argsort(sizes, kind="stable"), full=int(full[0]) if len(full) else -1)

    @property
    def states(self) -> int:
        """The down-sets reached."""
        return len(self.start) - 1

    def solve(self, cost: np.ndarray) -> tuple[int, list[int]] | None:
        """The least total ``cost`` (an int64 per piece) of a chain of pieces covering the window, and the pieces
        of one such chain in order; None when no chain covers it."""
        if self.full < 0:
            return None
        value, reached, arg = _shortest(self.order, self.start, self.dst, self.piece, cost, self.full)
        if not reached:
            return None
        chosen = []
        s = self.full
        while s != 0:
            t = int(arg[s])
            chosen.append(int(self.piece[t]))
            s = int(np.searchsorted(self.start, t, "right")) - 1
        return int(value), chosen[::-1]
