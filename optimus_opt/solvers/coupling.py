"""Coupling the segment bound's windows: Lagrangian multipliers that make overlapping windows agree on which
adjacent layers share a group (formulations/segment-bound.md, "Coupling the windows").

The segment bound adds the optima of windows that overlap, each solved on its own. Each window places its groups'
edges where it pays least, often in the part it shares with a neighbour, where the neighbour would place them
differently: the sum of the two optima then counts a schedule that no single schedule agrees with.

For two layers u, v that are *adjacent* (one reads the other, or both read the same tensor) and lie in two windows
a < b, let y_a and y_b say whether window a's and window b's schedule put them in one piece. A schedule of the
network puts them in one group or not, and since they are adjacent, in one piece of every window that holds both:
y_a = y_b for its restriction to the windows. So for any integer multiplier λ per such pair and pair of windows,

    L(λ) = Σ_i min over schedules σ of window i of [ c̃_i(σ) + Σ_m s_im λ_m y_m(σ) ]      (s = +1 in a, −1 in b)

is at most every schedule's cost: evaluate each window at the network schedule's restriction, where the λ terms of a
and b cancel and what is left is the segment bound's sum, a lower bound. A window i that holds u but not v (when
some window a holds both) takes part too, with a *free* term: a group holding v and i's piece P ∋ u holds the convex
hull of P and v, which then takes in no other layer of window i, so i may pick y = 1 only where P is *open to v* in
that sense, and it picks what costs least: its term is min(0, −λ_m) on those pieces, against +λ_m · y_a in a, and a
schedule's own y is one it may pick. L(0) is the segment bound; a round solves every window with its pieces' costs
moved by λ (:class:`~.downset_graph.DownsetGraph`, a shortest path) and moves λ along the disagreements y_a − y_b (a
subgradient of the concave L), with Polyak's step toward a level a quarter above the best bound so far, halved when
rounds stop raising it. Integer multipliers keep every sum exact. Pairs that are not adjacent get terms too, once
the rounds find one window holding them in one piece and another keeping them out of one group
(:meth:`_Terms.disagreements`).

*Capacity cuts.* Agreeing on pairs, the windows may still join pieces into a group no buffer holds: window a's piece
and window b's piece share a layer f, so one group holds both, yet each window priced its piece as if the group
held little more. For sets S_a ∋ f and S_b ∋ f whose convex hull no group can hold (its footprint floor,
``CostModel.footprint_floor``, exceeds the buffer, and a superset's floor is no smaller), no schedule has a piece of
a holding S_a and a piece of b holding S_b: e_a + e_b ≤ 1 for those events. A multiplier ν ≥ 0 per such cut adds
ν · e to each window's pieces holding its set and −ν to L, which stays below every schedule's cost (there
e_a + e_b − 1 ≤ 0). The rounds find the cuts that the windows' schedules violate (:meth:`_Terms.capacity_cuts`).

*Kept stores.* Item 4 of the local cost lets a piece of window i keep the store of a member u whose readers lie
beyond the window whenever a group holding them could fit: it cannot see whether u's group does hold them. A window
j that holds u and readers of u can: u's store is saved only if u's group holds every reader, and then j's piece
holding u holds u's readers in j. So keep_i ≤ hold_j in every schedule, and a multiplier μ ≥ 0 adds μ to window
i's pieces that keep u (each piece's cost with its kept stores paid is known: :class:`Kept`) and −μ to window j's
pieces holding u and its readers there (:meth:`_Terms.kept_stores`).

*Reload cuts.* Two windows' pieces that share a layer may fit one group together and still not cheaply: each
window charges its core's weights as often as the fewest reloads of a group holding its own piece, while a group
holding both may have to cut its rows into so many strips that its weights cross DRAM far more often. For sets
S_a ∋ f, S_b ∋ f of windows a and b whose hull no group holds with its weights crossing fewer than K times, a
piece P ⊇ S_a of a, in a group that also holds S_b, spends at least its *reload rise* r(P) more on a's core than
c̃_a(P) charges (what its core's weights add at K reloads, whatever crossing tensors it keeps). A multiplier ν ≥ 0
adds ν to b's pieces holding S_b and −ν to L, and lets a's pieces holding S_a choose: pay ν, or run at *level* K
and pay r(P). A piece under several such cuts picks one level for all of them, paying the rise there and the
multipliers of the cuts whose floor lies above it: the weights of its group cross DRAM some number of times q,
every cut with a floor above q is one whose sets no group holds together, and the rise at the highest floor up to
q is no more than what the group spends, so the terms stay below every schedule's cost and no weight byte is
counted twice (:class:`_Leveled`, :meth:`_Terms.reload_cuts`).

*Chains.* Three windows' pieces or more, joined by the layers they share, lie in one group: where no group holds
their union (or none holds it with fewer than K reloads), a cut with a side per piece says that not every side
holds its set, −ν on L per side beyond the first (:meth:`_Terms._chain_cuts`).

*Planes.* Once the subgradient rounds' step is spent, or a share of a deadline's time has passed
(:data:`PLANES_SHARE`), ``planes`` lets the rounds left climb L by cutting planes (:class:`_Planes`): each window's
schedule at λ gives a plane above that window's part of L everywhere, and the LP over the planes so far, λ in a box
about the best point, proposes the next λ. Pairs and cuts still get terms as the schedules show them, and the planes
made before get their coefficients.

*Fixing.* Given ``upper``, the cost of some schedule, any schedule x cheaper than it has Σ_i c̃_i(x_i) − Σ_m (sides
beyond the first) · λ_m ≤ c(x) ≤ upper − 1 at every λ (the bound's own argument, made for any schedule instead of
the best one), and each window's c̃_i(x_i) is at least its least, L_i(λ); so x's part in window j costs at most
L_j(λ) + (upper − 1 − L(λ)). A transition of window j's graph of down-sets on no chain within that allowance of
L_j(λ) is used by no schedule cheaper than ``upper``, and is cut (:meth:`~.downset_graph.DownsetGraph.within`): the
rounds over the restricted windows bound the schedules cheaper than ``upper``, and the least of their bound and
``upper`` bounds every schedule. A cut holds at every later λ, so cuts add up; the windows are restricted again
each time the allowance has fallen by an eighth (:data:`FIX_SHRINK`), and once L reaches ``upper`` the schedule of
``upper`` is optimal. This is reduced-cost fixing of Lagrangian relaxation (Beasley, 1993), with the windows'
shortest paths both ways giving each transition's least chain.
"""

from __future__ import annotations

import collections
import functools
import hashlib
import itertools
import multiprocessing
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from typing import Protocol

import numpy as np

from ..cost.candidates import Reach, bits
from ..cost.cost_model import CostModel
from ..utils.deadline import NEVER, Deadline
from ..utils.highs import new_highs
from ..utils.processes import can_fork
from .downset_graph import DownsetGraph, njit

#: The smallest step factor tried.
SMALLEST_STEP = 1 / 1024


@dataclass(frozen=True)
class Steps:
    """A step rule: each step aims ``above`` (a fraction) above the best bound so far (Polyak's step toward an
    estimate of the dual optimum), and the step factor is halved after ``stall`` rounds without a better bound."""

    above: float
    stall: int


#: The first coupling's rule, on windows whose L rises 6 % and more above L(0).
FIRST_STEPS = Steps(0.25, 10)
#: The rule for windows already widened (segment-bound.md, "Wider windows"), whose plain sum lies within a few per
#: cent of the best multipliers' L: a level a quarter above threw the first rounds far below L(0) there (on NASNet-A
#: at 128 KiB, the 10-minute run's last windows, L came back to L(0) only after 40 rounds; aiming 5 % above, it was
#: 0.6 % above L(0) at round 20), while on the default windows the nearer level climbs more slowly.
NEAR_STEPS = Steps(0.05, 6)


@dataclass(frozen=True)
class Kept:
    """The stores that item 4 of the local cost lets a window's pieces keep on chip, for the coupling to price
    (formulations/segment-bound.md, "Kept stores"): each piece (``pieces``: indices into the window's pieces,
    ascending) whose cost rises when one of them is paid instead, the stores in its slots (``tensors``: layer ids,
    −1 for none) and the rise with each subset of its slots paid (``rises``: column K pays slot s when bit s of K is
    set; column 0 is 0)."""

    pieces: np.ndarray
    tensors: np.ndarray
    rises: np.ndarray

    @classmethod
    def of(cls, found: list[tuple[np.ndarray, np.ndarray, np.ndarray]], fit: np.ndarray) -> "Kept | None":
        """From what the compiled cost found (indices into every piece costed) and which pieces fit (the window's
        pieces are those); None when no piece keeps a store."""
        if not found:
            return None
        rows, tensors, rises = (np.concatenate(part) for part in zip(*found))
        held = fit[rows]
        return cls((np.cumsum(fit) - 1)[rows[held]], tensors[held], rises[held]) if held.any() else None


@dataclass(frozen=True)
class Window:
    """A solved window of the segment bound, what the coupling needs: its layers (node ids; bit k of a piece is
    ``layers[k]``), its graph of down-sets over its pieces, each piece's local cost, and the stores item 4 lets its
    pieces keep (:class:`Kept`, or None)."""

    layers: tuple[int, ...]
    graph: DownsetGraph
    costs: np.ndarray
    kept: Kept | None = None


@dataclass(frozen=True)
class Coupled:
    """The coupled bound (bytes; the plain sum when no round beat it), the rounds run, the multipliers (pairs of
    layers times pairs of windows sharing them, and the capacity cuts), the pairs and cuts the last round's windows
    still disagreed on or violated and the seconds taken; ``pieces`` are the pieces some window chose in some
    round, as bitsets of layer ids (sorted), from which :mod:`.pooled` builds a schedule."""

    bytes: int
    rounds: int
    multipliers: int
    disagreements: int
    seconds: float
    pieces: tuple[int, ...] = ()
    cuts: int = 0  # of the multipliers, the capacity cuts (module docstring)
    kept: int = 0  # of the multipliers, the kept stores (module docstring)
    reload_cuts: int = 0  # of the multipliers, the reload cuts (module docstring)
    planes: int = 0  # of the rounds, those of the cutting planes (module docstring)
    fixed: int = 0  # transitions of the windows' graphs cut by the fixing, with an upper bound (module docstring)


def adjacent_pairs(cm: CostModel) -> list[tuple[int, int]]:
    """The pairs of layers (u < v) that any group holding both holds in one connected piece of every window: a
    layer and its reader, and two layers reading the same tensor (formulations/cost-model.md §3, connected)."""
    net = cm.network
    pairs = set()
    for v in net.layer_ids:
        for p in net.producers[v]:
            if net.is_layer(p):
                pairs.add((p, v))
            pairs.update((min(v, w), max(v, w)) for w in net.consumers[p] if w != v)
    return sorted(pairs)


#: One window's part in one multiplier: (the multiplier's index, its sign there, the window's pieces the term moves,
#: the pair's bits in the window's positions, the term's kind). An exact term (the window holds both layers) moves
#: the pieces that hold both by sign · λ, and its y says whether the schedule holds both in one piece. A free term
#: (the window holds one layer of the pair; ``pair`` is its bit) lists the pieces holding that layer that a group
#: holding the other could extend: the window picks y there, so those pieces move by min(0, sign · λ), and its y is
#: 1 when the schedule's piece is one of them and sign · λ < 0. A kept term prices a store that item 4 lets the
#: window's pieces keep (:class:`Kept`); in place of pieces it gives the multiplier of each slot of the window's
#: :class:`Kept` (−1 for none; one array for all the window's kept terms), the pieces move by what keeping or paying
#: their slots' stores costs at once (:func:`_kept_moves`), and its y says whether the schedule keeps the store.
Term = tuple[int, int, np.ndarray, int | np.ndarray, int]
#: The kinds of :data:`Term`. A leveled term (a reload cut's first window: :class:`ReloadCut`) gives the cut's floor
#: in place of the sign and the reload rise of each of its pieces in place of ``pair``; the window's pieces move by
#: what their levels cost (:class:`_Leveled`), and its y says whether the schedule's piece is one of them below
#: the floor, paying λ.
EXACT, FREE, KEPT, LEVELED = 0, 1, 2, 3


@dataclass(frozen=True)
class Cut:
    """A capacity cut (module docstring): no schedule has a piece of window ``first`` holding ``first_holds`` and a
    piece of window ``second`` holding ``second_holds`` (bitsets of layer ids that share a layer), since no group
    can hold the two sets; a chain's cut has ``more`` sides, each set sharing a layer with another's, and no
    schedule holds all of them."""

    first: int
    second: int
    first_holds: int
    second_holds: int
    more: tuple[tuple[int, int], ...] = ()  # a chain's further sides, (window, set): all its sides share one group

    @property
    def sides(self) -> tuple[tuple[int, int], ...]:
        """Each side's window and set; no schedule holds every set in a piece of its window."""
        return ((self.first, self.first_holds), (self.second, self.second_holds)) + self.more


@dataclass(frozen=True)
class ReloadCut(Cut):
    """A reload cut (module docstring): a group holding ``first_holds`` of window ``first`` and the sets of its other
    sides moves its weights at least ``floor`` times, so each of ``first``'s pieces ``pieces`` (indices, ascending)
    that holds its set costs at least ``rises`` more on ``first``'s core in such a group."""

    floor: int = 1
    pieces: np.ndarray = field(default=None, compare=False, repr=False)
    rises: np.ndarray = field(default=None, compare=False, repr=False)


class Reloads(Protocol):
    """What the reload cuts need of the windows' local costs (:class:`~.segment_bound._Reloads`)."""

    def least(self, group: int) -> int | None:
        """The fewest times the weights of any group holding ``group`` (layer ids) cross DRAM; None if none fits."""

    def levels(self, i: int, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """Of each piece ``masks`` of window ``i``, the most reloads any choice of kept tensors leads to and its
        core's weights w: its reload rise at a floor K is w · max(0, K − most). None when they are not known."""


def multiplier_terms(cm: CostModel, windows: list[Window]) -> tuple[list[list[Term]], int]:
    """For each window, the terms of the multipliers it takes part in, and how many multipliers there are: one per
    adjacent pair and two consecutive windows among those holding both layers, and one per adjacent pair and window
    holding only one of them, tied to the first window holding both (module docstring)."""
    return _Terms(cm, windows).adjacent()


#: The reload cuts each window may take the leveled side of: each adds terms that every round then moves, and on
#: NASNet-A Mobile's windows without a limit they came by the thousand and slowed the rounds fivefold.
RELOAD_CUTS = 8


class _Terms:
    """The multipliers' terms of a set of windows, as they are made: those of the adjacent pairs, then of the pairs
    of layers the windows' schedules are found to disagree on (:meth:`add_pairs`)."""

    def __init__(self, cm: CostModel, windows: list[Window], reloads: Reloads | None = None,
                 reload_cuts: int | None = RELOAD_CUTS) -> None:
        self.windows = windows
        self.reloads = reloads
        self.most_leveled = reload_cuts if reload_cuts is not None else 1 << 62  # per window at most (None: any)
        self.raised: collections.Counter[int] = collections.Counter()  # window → the reload cuts leveled in it
        self.where: dict[int, list[int]] = {}  # layer → the windows holding it, in order
        for i, w in enumerate(windows):
            for u in w.layers:
                self.where.setdefault(u, []).append(i)
        self.terms: list[list[Term]] = [[] for _ in windows]
        self.count = 0
        self.cm = cm
        self.reach = Reach.of(cm)
        self._reaches: dict[int, _WindowReach] = {}
        self.pairs = set(adjacent_pairs(cm))  # the pairs with terms, or without any window holding both
        self.cuts: dict[int, Cut] = {}  # multiplier → the capacity cut it prices
        self.kept: set[int] = set()  # the multipliers of kept stores (:meth:`kept_stores`)
        self._fit: dict[int, bool] = {}  # a hull (bitset of node ids) → whether its footprint floor fits
        # what :meth:`capacity_cuts` found of two windows' pieces (a, b, P_a, P_b), kept for the rounds after: the
        # cut they violate, or None when they fit one group
        self._violated: dict[tuple[int, int, int, int], Cut | None] = {}
        self._reloaded: dict[tuple[int, int, int, int], list[ReloadCut]] = {}  # :meth:`reload_cuts`, by pair of pieces
        self._least: dict[int, int | None] = {}  # a hull (node ids) → the fewest reloads of a group holding it
        self._chained: dict[tuple, list] = {}  # :meth:`_chain_cuts`, by joined set of pieces
        self.leveled: dict[int, _Leveled] = {}  # window → its reload cuts' levels, made again as cuts come
        self.packed = [_Packed() for _ in windows]  # each window's terms as arrays, packed as they come
        self._kinds = (np.zeros(0, bool), np.zeros(0, bool), np.zeros(0, np.int64))  # :meth:`kinds`, as of count
        self._most: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # window → :meth:`_rises`' most, weights per piece

    def kinds(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per multiplier: whether it prices a cut, whether it stays at 0 or above (a cut's or a kept store's), and
        its cut's sides beyond the first (0 for the others)."""
        if len(self._kinds[0]) != self.count:
            cut = np.array([m in self.cuts for m in range(self.count)], bool)
            priced = cut | np.array([m in self.kept for m in range(self.count)], bool)
            beyond = np.array([len(self.cuts[m].sides) - 1 if m in self.cuts else 0 for m in range(self.count)],
                              np.int64)
            self._kinds = (cut, priced, beyond)
        return self._kinds

    def reach_of(self, i: int) -> "_WindowReach":
        if i not in self._reaches:
            self._reaches[i] = _WindowReach.of(self.windows[i], self.reach)
        return self._reaches[i]

    def adjacent(self) -> tuple[list[list[Term]], int]:
        for u, v in sorted(self.pairs):
            holding_u, holding_v = self.where.get(u, ()), self.where.get(v, ())
            shared = [i for i in holding_u if i in holding_v]
            for a, b in zip(shared, shared[1:]):
                for i, sign in ((a, 1), (b, -1)):
                    self.terms[i].append(_exact_term(self.windows[i], self.count, sign, u, v))
                self.count += 1
            if not shared:
                continue
            alone = [(i, u, v) for i in holding_u if i not in shared] + [(i, v, u) for i in holding_v if i not in shared]
            if not alone:
                continue
            _, _, inside, pair, _ = _exact_term(self.windows[shared[0]], 0, 1, u, v)  # the pieces listed once
            for i, held, other in sorted(alone):
                self.terms[shared[0]].append((self.count, 1, inside, pair, EXACT))
                self.terms[i].append(self.reach_of(i).free_term(self.count, -1, held, other))
                self.count += 1
        return self.terms, self.count

    def kept_stores(self) -> int:
        """Terms for the stores item 4 lets the windows' pieces keep (module docstring), one multiplier μ ≥ 0 per
        store u of window i that another window j holds with some of its readers (of those, the one holding the
        most, ties to the first): in j the pieces holding u and its readers there move by −μ, in i the pieces that
        keep u pay μ for it (:data:`Term`). Returns the multipliers there are now."""
        for i, w in enumerate(self.windows):
            if w.kept is None:
                continue
            slots = np.full_like(w.kept.tensors, -1)
            for u in np.unique(w.kept.tensors[w.kept.tensors >= 0]).tolist():
                readers = self.cm.consumers[u]
                seen = [(sum(c in self.reach_of(j).position for c in readers), -j) for j in self.where[u] if j != i]
                if not seen or max(seen)[0] == 0:
                    continue
                j = -max(seen)[1]
                held = self.reach_of(j)._inside(sum(1 << c for c in readers) | 1 << u)
                self.terms[j].append((self.count, -1, _pieces(self.windows[j].graph.masks, held), held, EXACT))
                slots[w.kept.tensors == u] = self.count
                self.kept.add(self.count)
                self.count += 1
            self.terms[i] += [(m, 1, slots, 0, KEPT) for m in np.unique(slots[slots >= 0]).tolist()]
        return self.count

    def add_pairs(self, pairs: list[tuple[int, int]]) -> set[int]:
        """Terms for ``pairs`` (u < v, not adjacent), one multiplier per two consecutive windows holding u or v: in
        a window holding both, the pieces holding both (exact) and those holding u that are open to v (free); in a
        window holding one, those holding it that are open to the other. Returns the windows that got terms."""
        touched = set()
        for u, v in pairs:
            self.pairs.add((u, v))
            seen = sorted(set(self.where.get(u, ())) | set(self.where.get(v, ())))
            for a, b in zip(seen, seen[1:]):
                for i, sign in ((a, 1), (b, -1)):
                    w, reach = self.windows[i], self.reach_of(i)
                    if u in reach.position and v in reach.position:
                        self.terms[i] += [_exact_term(w, self.count, sign, u, v),
                                          reach.free_term(self.count, sign, u, v)]
                    else:
                        held, other = (u, v) if u in reach.position else (v, u)
                        self.terms[i].append(reach.free_term(self.count, sign, held, other))
                    touched.add(i)
                self.count += 1
        return touched

    def add_cuts(self, cuts: list["Cut"]) -> set[int]:
        """Terms for capacity ``cuts`` (module docstring), one multiplier each: in each of its two windows, the
        pieces holding its set move by +ν. Returns the windows that got terms."""
        touched = set()
        for cut in cuts:
            for side, (i, held) in enumerate(cut.sides):
                bit = self.reach_of(i)._inside(held)
                if side == 0 and isinstance(cut, ReloadCut):
                    self.terms[i].append((self.count, cut.floor, cut.pieces, cut.rises, LEVELED))
                else:
                    self.terms[i].append((self.count, 1, _pieces(self.windows[i].graph.masks, bit), bit, EXACT))
                touched.add(i)
            self.cuts[self.count] = cut
            if isinstance(cut, ReloadCut):
                self.raised[cut.first] += 1
            self.count += 1
        for i in touched:
            leveled = _Leveled.of(self.terms[i])
            if leveled is not None:
                self.leveled[i] = leveled
        return touched

    def capacity_cuts(self, chosen: list[list[int]]) -> list["Cut"]:
        """The capacity cuts the windows' schedules (``chosen``: each window's pieces) violate and that have no
        multiplier yet: for two windows a < b and a layer f both hold, their pieces holding f, when no group can
        hold both (the footprint floor of their hull exceeds the buffer), shrunk to sets that still cannot share a
        group (each layer but f taken out in turn, the farthest from f in ids first, where the rest still cannot),
        each piece's part of them, f included, its window's event. Each pair of pieces once, at their first shared
        layer; what is found of a pair is kept for the rounds after (each round looks again). Where they fit, the
        reload cuts of the pair (:meth:`reload_cuts`), while the window of the leveled side has fewer than
        its :attr:`most_leveled`; then the cuts of chains of three pieces or more (:meth:`_chain_cuts`)."""
        masks = [[self.layers(i, int(self.windows[i].graph.masks[p])) for p in own] for i, own in enumerate(chosen)]
        known = set(self.cuts.values())
        found: list[Cut] = []
        raised = self.raised.copy()
        for (a, b), shared in sorted(self.sharing.items()):
            for f in shared:
                piece_a = next(m for m in masks[a] if m >> f & 1)
                piece_b = next(m for m in masks[b] if m >> f & 1)
                key = (a, b, piece_a, piece_b)
                if key not in self._violated:
                    self._violated[key] = self._cut(a, b, f, piece_a, piece_b)
                cut = self._violated[key]
                if cut is not None and cut not in known:
                    known.add(cut)
                    found.append(cut)
                elif cut is None and self.reloads is not None:
                    if key not in self._reloaded:
                        at = {i: chosen[i][masks[i].index(piece)] for i, piece in ((a, piece_a), (b, piece_b))}
                        self._reloaded[key] = self.reload_cuts(a, b, f, piece_a, piece_b, at)
                    for extra in self._reloaded[key]:
                        if extra not in known and raised[extra.first] < self.most_leveled:
                            raised[extra.first] += 1
                            known.add(extra)
                            found.append(extra)
        for cut in self._chain_cuts(masks, chosen):
            if cut not in known and (not isinstance(cut, ReloadCut) or raised[cut.first] < self.most_leveled):
                if isinstance(cut, ReloadCut):
                    raised[cut.first] += 1
                known.add(cut)
                found.append(cut)
        return found

    def _chain_cuts(self, masks: list[list[int]], chosen: list[list[int]]) -> list["Cut"]:
        """The cuts that three chosen pieces or more joined in a chain violate (each link a layer that two of them, in
        different windows, hold), what is found of each joined set kept for the rounds after: in one group, they
        hold their union, so where no group holds it not every piece may hold its part, and where every group
        holding it moves its weights K times or more, a piece with a rise at K pays it or one side lets go
        (module docstring)."""
        pieces = [(i, m) for i, own in enumerate(masks) for m in own]
        index = [p for own in chosen for p in own]
        holding: dict[int, list[int]] = {}
        for k, (i, m) in enumerate(pieces):
            for u in bits(m):
                if len(self.where[u]) > 1:
                    holding.setdefault(u, []).append(k)
        parent = list(range(len(pieces)))

        def find(k: int) -> int:
            while parent[k] != k:
                parent[k] = parent[parent[k]]
                k = parent[k]
            return k

        links: dict[tuple[int, int], int] = {}
        for u in sorted(holding):
            for j, k in itertools.combinations(holding[u], 2):
                if (j, k) not in links:
                    links[j, k] = u
                    parent[find(k)] = find(j)
        components: dict[int, list[int]] = {}
        for k in range(len(pieces)):
            components.setdefault(find(k), []).append(k)
        cuts = []
        for members in components.values():
            if len(members) < 3:
                continue
            key = tuple(pieces[k] for k in members)
            if key not in self._chained:
                self._chained[key] = self._chain_cut(pieces, index, members, links)
            cuts += self._chained[key]
        return cuts

    def _chain_cut(self, pieces: list[tuple[int, int]], index: list[int], members: list[int],
                   links: dict[tuple[int, int], int]) -> list["Cut"]:
        """The cuts of :meth:`_chain_cuts` for one joined set of pieces (``members``, indices into ``pieces``, the
        windows' chosen pieces as (window, layer ids), ``index`` their indices in their windows): a capacity cut
        where no group holds their union; else, where its K is 2 or more, a reload cut leveled in each piece with a
        rise at K. The set is shrunk first: pieces at the leaves of a spanning tree of the links taken out, then
        layers other than the links (the highest ids first), wherever what is left still makes the cut."""
        union = functools.reduce(int.__or__, (pieces[k][1] for k in members))
        fits = self._fits(union)
        if fits and self.reloads is None:
            return []
        floor = self._fewest(union) if fits else None
        if fits and (floor is None or floor <= 1):
            return []
        # the pieces with a rise at K, each the leveled side of a cut (the first of them is never shrunk away)
        rising = [k for k in members if self._rises(pieces[k][0], np.array([index[k]]), floor)[0] > 0] if fits \
            else [members[0]]
        if not rising:
            return []
        tree: dict[int, dict[int, int]] = {k: {} for k in members}  # a spanning tree, breadth first from the first
        seen, queue = {members[0]}, [members[0]]
        for j in queue:
            for k in members:
                u = links.get((min(j, k), max(j, k)))
                if k not in seen and u is not None:
                    seen.add(k)
                    queue.append(k)
                    tree[j][k] = tree[k][j] = u
        left = set(members)

        def still(rest: int) -> bool:
            return (self._fewest(rest) or 0) >= floor if fits else not self._fits(rest)

        cut_down = True
        while cut_down and len(left) > 3:
            cut_down = False
            for k in reversed(queue):
                if k in left and k not in rising[:1] and sum(j in left for j in tree[k]) == 1 and \
                        still(functools.reduce(int.__or__, (pieces[j][1] for j in left if j != k))):
                    left.discard(k)
                    cut_down = True
        needed = {u for k in left for j, u in tree[k].items() if j in left}
        union = functools.reduce(int.__or__, (pieces[k][1] for k in left))
        for x in sorted(bits(union), reverse=True):
            if x not in needed and still(union & ~(1 << x)):
                union &= ~(1 << x)
        if not fits:
            sides = sorted((pieces[k][0], pieces[k][1] & union) for k in left)
            return [Cut(sides[0][0], sides[1][0], sides[0][1], sides[1][1], tuple(sides[2:]))]
        cuts = []
        for first in sorted(k for k in rising if k in left):
            i, mine = pieces[first]
            holding = _pieces(self.windows[i].graph.masks, self.reach_of(i)._inside(union & mine))
            rises = self._rises(i, holding, floor)
            up = rises > 0
            others = sorted((pieces[k][0], pieces[k][1] & union) for k in left if k != first)
            cuts.append(ReloadCut(i, others[0][0], union & mine, others[0][1], tuple(others[1:]), floor=floor,
                                  pieces=holding[up], rises=rises[up]))
        return cuts

    def reload_cuts(self, a: int, b: int, f: int, piece_a: int, piece_b: int, at: dict[int, int]
                    ) -> list["ReloadCut"]:
        """The reload cuts (module docstring) that two chosen pieces sharing the layer ``f`` violate, on the
        side of each window ``at`` names (with its chosen piece's index): the fewest reloads K of a group holding
        both; where a window's chosen piece has a reload rise at K, their union shrunk as for a capacity cut
        wherever the rest's K stays, and a cut on that window's side for its pieces holding its part of it, with
        their rises."""
        both = piece_a | piece_b
        floor = self._fewest(both)
        if floor is None or floor <= 1:
            return []
        # most pairs of pieces have no rise: only then is the union shrunk and every piece holding it priced
        rising = [i for i in sorted(at) if self._rises(i, np.array([at[i]]), floor)[0] > 0]
        if not rising:
            return []
        both = _shrunk(both, f, lambda rest: (self._fewest(rest) or 0) >= floor)
        cuts = []
        for first in rising:
            second, mine, theirs = (b, piece_a, piece_b) if first == a else (a, piece_b, piece_a)
            holding = _pieces(self.windows[first].graph.masks, self.reach_of(first)._inside(both & mine))
            rises = self._rises(first, holding, floor)  # the chosen piece holds the set, and its rise is the same
            up = rises > 0
            cuts.append(ReloadCut(first, second, both & mine, both & theirs, (), floor=floor, pieces=holding[up],
                                  rises=rises[up]))
        return cuts

    def _rises(self, i: int, pieces: np.ndarray, floor: int) -> np.ndarray:
        """The reload rises at ``floor`` of window ``i``'s ``pieces`` (indices); all 0 where the local cost does not
        know them. A piece's rise is w · max(0, K − most), w its core's weights and most the most reloads a choice
        of kept tensors leads to, which does not depend on K where it is below K: both are asked once per piece
        (:meth:`Reloads.levels`) and remembered."""
        if i not in self._most:
            self._most[i] = (np.full(len(self.windows[i].costs), -1, np.int64),
                             np.zeros(len(self.windows[i].costs), np.int64))
        most, weights = self._most[i]
        new = pieces[most[pieces] < 0]
        if len(new):
            found = self.reloads.levels(i, self.windows[i].graph.masks[new])
            most[new], weights[new] = found if found is not None else (FAR_FLOOR, 0)
        return weights[pieces] * np.maximum(0, floor - most[pieces])

    def _fewest(self, members: int) -> int | None:
        """The fewest reloads of any group holding ``members`` (layer ids), through their convex hull."""
        hull = self.reach.hull(members)
        if hull not in self._least:
            self._least[hull] = self.reloads.least(hull)
        return self._least[hull]

    def _cut(self, a: int, b: int, f: int, piece_a: int, piece_b: int) -> "Cut | None":
        """The cut of :meth:`capacity_cuts` that two pieces sharing the layer ``f`` violate, None when they fit."""
        both = piece_a | piece_b
        if self._fits(both):
            return None
        both = _shrunk(both, f, lambda rest: not self._fits(rest))
        return Cut(a, b, both & piece_a, both & piece_b)

    @functools.cached_property
    def sharing(self) -> dict[tuple[int, int], list[int]]:
        """For two windows a < b that share layers, those layers in order (looked at each round, made once)."""
        shared: dict[tuple[int, int], list[int]] = {}
        for u in sorted(self.where):
            for pair in itertools.combinations(self.where[u], 2):
                shared.setdefault(pair, []).append(u)
        return shared

    def layers(self, i: int, piece: int) -> int:
        """A piece of window ``i`` (a bitset over its positions) as a bitset of layer ids."""
        return sum(1 << self.windows[i].layers[k] for k in bits(piece))

    def _fits(self, members: int) -> bool:
        """Whether a group holding ``members`` (a bitset of layer ids) is not ruled out by the buffer: the
        footprint floor of their convex hull, which no group holding them undercuts, fits it
        (formulations/candidate-space.md, "Pruning that never loses a candidate")."""
        hull = self.reach.hull(members)
        if hull not in self._fit:
            self._fit[hull] = self.cm.footprint_floor(bits(hull)) <= self.cm.buffer
        return self._fit[hull]

    def disagreements(self, chosen: list[list[int]], most: int) -> list[tuple[int, int]]:
        """Up to ``most`` pairs of layers without terms that one window's schedule (``chosen``: each window's
        pieces) holds in one piece and another window's schedule keeps out of one group: its piece holding the
        first of them it holds (u, when it holds both) does not hold the other and is not open to it
        (:meth:`_WindowReach.opens`). The pairs in the order of their layers."""
        def piece_of(i: int, u: int) -> int:
            w, k = self.windows[i], self.reach_of(i).position[u]
            return next(int(w.graph.masks[p]) for p in chosen[i] if int(w.graph.masks[p]) >> k & 1)

        def forbids(i: int, u: int, v: int) -> bool:  # as the terms of :meth:`add_pairs` see it
            reach = self.reach_of(i)
            held, other = (u, v) if u in reach.position else (v, u)
            piece = piece_of(i, held)
            return not (other in reach.position and piece >> reach.position[other] & 1 or reach.opens(piece, other))

        found: set[tuple[int, int]] = set()
        for b, w in enumerate(self.windows):
            for p in chosen[b]:
                members = [w.layers[k] for k in bits(int(w.graph.masks[p]))]
                for u in members:
                    if len(self.where[u]) < 2:
                        continue
                    for v in members:
                        pair = (min(u, v), max(u, v))
                        if v == u or pair in self.pairs or pair in found:
                            continue
                        if any(forbids(a, *pair) for a in sorted(set(self.where[u]) | set(self.where[v])) if a != b):
                            found.add(pair)
        return sorted(found)[:most]


def _shrunk(both: int, f: int, still: Callable[[int], bool]) -> int:
    """The set ``both`` (layer ids) with each layer but ``f`` taken out in turn, the farthest from f in ids first
    (ties to the lower id), wherever what is left ``still`` makes the cut: a smaller set makes a stronger cut."""
    for x in sorted(bits(both), key=lambda x: (-abs(x - f), x)):
        if x != f and still(both & ~(1 << x)):
            both &= ~(1 << x)
    return both


def _exact_term(w: Window, m: int, sign: int, u: int, v: int) -> Term:
    pair = 1 << w.layers.index(u) | 1 << w.layers.index(v)
    return m, sign, _pieces(w.graph.masks, pair), pair, EXACT


def _pieces(masks: np.ndarray, held: int, near: int = 0, through: Sequence[tuple[int, int]] = ()) -> np.ndarray:
    """The indices of the pieces (bitsets over a window's positions) that hold every position of ``held`` and
    none of ``near``, and that hold, with each position k of theirs that ``through`` lists as (k, t), all of t."""
    wide = masks.dtype == object  # a window wider than a word: the same loop over Python integers
    at, ts = np.array([k for k, _ in through], np.int64), np.array([t for _, t in through], masks.dtype)
    return (getattr(_scan, "py_func", _scan) if wide else _scan)(masks, held, near, at, ts)


@njit(cache=True)
def _scan(masks, held, near, at, through):  # pragma: no cover - compiled
    out = np.empty(len(masks), np.int32)
    n = 0
    for i in range(len(masks)):
        m = masks[i]
        if m & held != held or m & near:
            continue
        ok = True
        for j in range(len(at)):
            if (m >> at[j]) & 1 and m & through[j] != through[j]:
                ok = False
                break
        if ok:
            out[n] = i
            n += 1
    return out[:n]


@dataclass(frozen=True)
class _WindowReach:
    """What the free terms of a window need: each position's producers and readers inside the window (bitsets over
    its positions), and the network's reachability."""

    window: Window
    reach: Reach
    position: dict[int, int]
    producers: tuple[int, ...]
    readers: tuple[int, ...]
    reaching: dict[int, tuple[list[tuple[int, int]], int]] = field(default_factory=dict)  # :meth:`_reaching`, by layer

    @classmethod
    def of(cls, window: Window, reach: Reach) -> "_WindowReach":
        position = {u: k for k, u in enumerate(window.layers)}
        producers = tuple(sum(1 << position[x] for x in bits(reach.pred[u]) if x in position) for u in window.layers)
        readers = tuple(sum(1 << k for k, x in enumerate(window.layers) if reach.pred[x] >> u & 1)
                        for u in window.layers)
        return cls(window, reach, position, producers, readers)

    def _inside(self, mask: int) -> int:
        return sum(1 << self.position[x] for x in bits(mask) if x in self.position)

    def _reaching(self, other: int) -> tuple[list[tuple[int, int]], int]:
        """For the layer ``other``: the positions whose readers in the window lie above it or whose producers lie
        below it, with those layers (a piece holding the position and a group holding ``other`` take them in), and
        the positions a piece may not hold or touch for a group to hold it in another piece (``other`` and the
        layers next to it, when the window holds it)."""
        if other in self.reaching:
            return self.reaching[other]
        above, below = self._inside(self.reach.anc[other]), self._inside(self.reach.desc[other])
        through = [(k, self.readers[k] & above | self.producers[k] & below) for k in range(len(self.window.layers))]
        near = self._inside(self.reach.adj[other] | 1 << other) if other in self.position else 0
        self.reaching[other] = [(k, t) for k, t in through if t], near
        return self.reaching[other]

    def opens(self, piece: int, other: int) -> bool:
        """Whether a group may hold ``other`` and the piece (a bitset over the window's positions) as one of its
        pieces of the window, other than the one holding ``other``: see :meth:`free_term`."""
        through, near = self._reaching(other)
        return not piece & near and all(piece & t == t for k, t in through if piece >> k & 1)

    def free_term(self, m: int, sign: int, held: int, other: int) -> Term:
        """The free term of the pair (``held``, in the window; ``other``): its pieces are those holding ``held``,
        not ``other``, and *open* to it: a group holding ``other`` and the piece holds their convex hull, and a
        layer of the window in it would lie in the same piece (a path from the piece to it inside the convex window
        starts at a reader of the piece above ``other`` or ends at a producer of the piece below it, which the hull
        holds, and which is next to the piece), so the hull may hold no other layer of the window, and ``other``, if
        the window holds it, may not be next to the piece."""
        through, near = self._reaching(other)  # a member at k takes t into the hull: the piece must hold t
        bit = 1 << self.position[held]
        return m, sign, _pieces(self.window.graph.masks, bit, near, through), bit, FREE


def solve_moved(window: Window, terms: list[Term], lam: np.ndarray,
                kept: tuple[np.ndarray, np.ndarray] | None = None, leveled: "_Leveled | None" = None,
                packed: "_Packed | None" = None) -> tuple[int, list[int], list[bool]]:
    """The window's least cost with each piece's cost moved by its multipliers' terms at ``lam``, the pieces of a
    schedule that reaches it, and for each term its y in that schedule (:data:`Term`). ``kept``, the window's
    costs moved at the multipliers ``kept[1]`` by an earlier call, is brought to ``lam`` in place, moving only the
    pieces of the terms whose multiplier changed since. ``leveled`` is the window's reload cuts as levels
    (``_Terms.leveled``, made as the cuts come); the leveled terms move no piece without it. ``packed`` is the
    terms as arrays from an earlier call (:class:`_Packed`, brought up to ``terms`` here); without it they are
    packed anew."""
    costs, at = (window.costs.copy(), np.zeros_like(lam)) if kept is None else kept
    packed = packed if packed is not None else _Packed()
    packed.sync(terms)
    slots = packed.slots
    level = None
    if leveled is not None and np.any(lam[leveled.multiplier] != at[leveled.multiplier]):
        moves, level = leveled.moves(lam)
        costs[leveled.pieces] += moves - leveled.moves(at)[0]
    _move(costs, packed.kind, packed.sign, packed.multiplier, packed.start, packed.pieces, lam, at)
    if slots is not None:
        priced = slots >= 0
        if np.any(lam[slots[priced]] != at[slots[priced]]):
            costs[window.kept.pieces] += (_kept_moves(window.kept.rises, slots, lam)[0]
                                          - _kept_moves(window.kept.rises, slots, at)[0])
    at[:] = lam
    value, chosen = window.graph.solve(costs)
    owner = np.empty(len(window.layers), np.int64)  # the chosen piece holding each position of the window
    for p in chosen:
        owner[bits(int(window.graph.masks[p]))] = p
    ys = _ys(packed.kind, packed.sign, packed.multiplier, packed.start, packed.pieces, packed.held_start,
             packed.held, owner, lam).tolist()
    if slots is not None or leveled is not None:
        keeps = _keeps(window.kept, slots, lam, chosen) if slots is not None else set()
        paying = leveled.paying(lam, chosen, level) if leveled is not None else set()
        for t in np.nonzero(packed.kind >= KEPT)[0].tolist():
            m = int(packed.multiplier[t])
            ys[t] = m in keeps if packed.kind[t] == KEPT else m in paying
    return value, chosen, ys


class _Packed:
    """A window's multiplier terms as arrays, for the compiled moves and y's of :func:`solve_moved`: per term its
    multiplier, sign and kind, the pieces it moves (``pieces[start[t]:start[t + 1]]``, ascending, the first
    :attr:`listed` terms'; none for kept and leveled terms, which move their pieces by themselves) and the window
    positions of its ``pair`` (``held[held_start[t]:held_start[t + 1]]``), and the kept terms' slots (one array for
    them all, or None).
    Terms only ever come at the end of a window's list, so :meth:`sync` packs those it has not seen and keeps the
    rest."""

    def __init__(self) -> None:
        self.count = 0
        self.listed = 0  # the terms whose pieces are packed: only a window this process solves needs them
        self.slots: np.ndarray | None = None
        self.kind = np.zeros(0, np.int64)
        self.sign = np.zeros(0, np.int64)
        self.multiplier = np.zeros(0, np.int64)
        self.start = np.zeros(1, np.int64)
        self._pieces = np.zeros(0, np.int32)  # room for more: terms come a few at a time
        self.pieces = self._pieces
        self.held_start = np.zeros(1, np.int64)
        self.held = np.zeros(0, np.int64)

    def sync(self, terms: list[Term], pieces: bool = True) -> None:
        """Pack the terms after the first :attr:`count` of ``terms``, the window's, and with ``pieces`` the pieces
        of those after the first :attr:`listed`."""
        new = terms[self.count:]
        if new:
            moving = [kind <= FREE for *_, kind in new]
            held = [np.array(bits(int(pair)) if move else [], np.int64) for (*_, pair, _), move in zip(new, moving)]
            self.kind = np.append(self.kind, [kind for *_, kind in new])
            self.sign = np.append(self.sign, [sign for _, sign, *_ in new])  # a leveled term's is its floor
            self.multiplier = np.append(self.multiplier, [m for m, *_ in new])
            self.held_start = np.append(self.held_start, self.held_start[-1] + np.cumsum([len(x) for x in held]))
            self.held = np.concatenate([self.held, *held])
            self.slots = next((inside for _, _, inside, _, kind in new if kind == KEPT), self.slots)
            self.count = len(terms)
        if pieces and self.listed < len(terms):
            listed = [inside if kind <= FREE else self._pieces[:0] for _, _, inside, _, kind in terms[self.listed:]]
            used = int(self.start[-1])
            self.start = np.append(self.start, used + np.cumsum([len(x) for x in listed]))
            self._pieces = _extended(self._pieces, used, listed)
            self.pieces = self._pieces[:self.start[-1]]
            self.listed = len(terms)


def _extended(room: np.ndarray, used: int, more: list[np.ndarray]) -> np.ndarray:
    """``room`` (its first ``used`` entries in use) with ``more`` written after them: the same array when there is
    room, else one a quarter larger or as large as needed, so that packing terms a few at a time copies each entry a
    few times, not once per call, and leaves little unused."""
    need = used + sum(len(x) for x in more)
    if need > len(room):
        room = np.concatenate([room[:used], np.empty(max(need, len(room) * 5 // 4) - used, room.dtype)])
    at = used
    for x in more:
        room[at:at + len(x)] = x
        at += len(x)
    return room


@njit(cache=True)
def _move(costs, kind, sign, mult, start, pieces, lam, at):  # pragma: no cover - compiled
    """Each exact and free term whose multiplier changed from ``at`` to ``lam`` moves its pieces: an exact term by
    sign · Δλ, a free one by the change of min(0, sign · λ)."""
    for t in range(len(kind)):
        m = mult[t]
        if kind[t] > FREE or lam[m] == at[m]:
            continue
        if kind[t] == FREE:
            d = min(0, sign[t] * lam[m]) - min(0, sign[t] * at[m])
        else:
            d = sign[t] * (lam[m] - at[m])
        if d != 0:
            for e in range(start[t], start[t + 1]):
                costs[pieces[e]] += d


@njit(cache=True)
def _ys(kind, sign, mult, start, pieces, held_start, held, owner, lam):  # pragma: no cover - compiled
    """Each exact and free term's y in the schedule whose piece at each position is ``owner``: an exact term's is 1
    when one piece holds all its positions; a free term's when its sign makes it pay (sign · λ < 0) and the piece
    holding its position is one of its pieces. Kept and leveled terms get 0 here."""
    ys = np.zeros(len(kind), np.bool_)
    for t in range(len(kind)):
        a, b = held_start[t], held_start[t + 1]
        if kind[t] == EXACT:
            y = True
            for e in range(a + 1, b):
                if owner[held[e]] != owner[held[a]]:
                    y = False
                    break
            ys[t] = y
        elif kind[t] == FREE and sign[t] * lam[mult[t]] < 0:
            piece = owner[held[a]]
            lo, hi = start[t], start[t + 1]
            while lo < hi:  # its pieces are ascending
                mid = (lo + hi) // 2
                if pieces[mid] < piece:
                    lo = mid + 1
                else:
                    hi = mid
            ys[t] = lo < start[t + 1] and pieces[lo] == piece
    return ys


@dataclass(frozen=True)
class _Leveled:
    """A window's reload cuts (its leveled terms) as levels: each piece they list may run at the floor K of any cut
    listing it, paying its reload rise there and the multipliers of the cuts with a higher floor that list it, or
    at its own level, paying them all; it moves by the least of these. A cut added at ν = 0 leaves every piece's
    least as it was (a piece's rises grow with the floor, so the new level costs no less than the level below it),
    so the costs a window keeps moved stay right (:func:`_at_zero`)."""

    pieces: np.ndarray  # the pieces listed, ascending
    starts: np.ndarray  # each piece's entries: starts[k]:starts[k + 1] of the arrays below
    floor: np.ndarray
    rise: np.ndarray
    multiplier: np.ndarray

    @classmethod
    def of(cls, terms: list[Term]) -> "_Leveled | None":
        """From a window's terms (its leveled ones); None when it has none."""
        terms = [term for term in terms if term[4] == LEVELED]
        if not terms:
            return None
        piece = np.concatenate([t[2] for t in terms])
        floor = np.concatenate([np.full(len(t[2]), t[1], np.int64) for t in terms])
        rise = np.concatenate([t[3] for t in terms])
        mult = np.concatenate([np.full(len(t[2]), t[0], np.int64) for t in terms])
        order = np.lexsort((mult, piece))
        piece = piece[order]
        pieces, starts = np.unique(piece, return_index=True)
        return cls(pieces, np.append(starts, len(piece)).astype(np.int64), floor[order], rise[order], mult[order])

    def moves(self, lam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each listed piece's move at ``lam`` and the floor of its level there (0: its own)."""
        return _level_moves(self.starts, self.floor, self.rise, self.multiplier, lam)

    def paying(self, lam: np.ndarray, chosen: list[int], level: np.ndarray | None = None) -> set[int]:
        """The multipliers whose cuts the chosen pieces pay at ``lam`` (their level below the cut's floor), given
        each piece's ``level`` there when known."""
        rows = np.searchsorted(self.pieces, chosen)
        paid: set[int] = set()
        if level is None:
            level = self.moves(lam)[1]
        for r, p in zip(rows.tolist(), chosen):
            if r < len(self.pieces) and self.pieces[r] == p:
                for e in range(self.starts[r], self.starts[r + 1]):
                    if self.floor[e] > level[r]:
                        paid.add(int(self.multiplier[e]))
        return paid


@njit(cache=True)
def _level_moves(starts, floor, rise, mult, lam):  # pragma: no cover - compiled
    """For each piece of a :class:`_Leveled`, its least move and the floor of the level reaching it (0: its own)."""
    n = len(starts) - 1
    moves = np.empty(n, np.int64)
    level = np.empty(n, np.int64)
    for r in range(n):
        a, b = starts[r], starts[r + 1]
        best, at = 0, 0
        for e in range(a, b):
            best += lam[mult[e]]
        for e in range(a, b):
            c = rise[e]
            for f in range(a, b):
                if floor[f] > floor[e]:
                    c += lam[mult[f]]
            if c < best:
                best, at = c, floor[e]
        moves[r], level[r] = best, at
    return moves, level


@njit(cache=True)
def _kept_moves(rises, slots, lam):  # pragma: no cover - compiled
    """For each piece of a window's :class:`Kept`, what its kept stores move its cost by at the multipliers
    ``lam`` (``slots``: each slot's multiplier, −1 for none): the least, over the subsets K of its slots paid, of
    the rise with K paid plus the multipliers of the slots kept; and that least K (ties to the one paying more)."""
    n, width = rises.shape
    moves = np.empty(n, np.int64)
    least = np.empty(n, np.int64)
    for r in range(n):
        best, arg = 0, -1
        for subset in range(width - 1, -1, -1):
            c = rises[r, subset]
            for s in range(slots.shape[1]):
                if not (subset >> s) & 1 and slots[r, s] >= 0:
                    c += lam[slots[r, s]]
            if arg < 0 or c < best:
                best, arg = c, subset
        moves[r], least[r] = best, arg
    return moves, least


def _keeps(kept: Kept, slots: np.ndarray, lam: np.ndarray, chosen: list[int]) -> set[int]:
    """The multipliers of the stores a window's schedule (``chosen``) keeps: those of the slots its pieces in
    ``kept`` do not pay at ``lam``."""
    keeps: set[int] = set()
    rows = np.searchsorted(kept.pieces, chosen)
    for r, p in zip(rows.tolist(), chosen):
        if r < len(kept.pieces) and kept.pieces[r] == p:
            least = int(_kept_moves(kept.rises[r:r + 1], slots[r:r + 1], lam)[1][0])
            keeps.update(int(slots[r, s]) for s in range(slots.shape[1]) if not least >> s & 1 and slots[r, s] >= 0)
    return keeps


#: A floor of reloads above any a group can have: the pieces' rises there give their levels (:meth:`Reloads.levels`).
FAR_FLOOR = 1 << 24
#: Pairs of layers one look at the windows' disagreements adds at most (:meth:`_Terms.disagreements`).
NEW_PAIRS = 256
#: The step factor below which each round first looks for pairs the windows disagree on that have no terms yet.
PAIRS_STEP = 1 / 8


#: The share of a coupling's time, when it has a deadline, after which its planes start (``planes``) even if the
#: subgradient's step is not spent.
PLANES_SHARE = 0.5
#: The box's first, smallest and largest half-width about the best multipliers (bytes), and the gain, as a share of
#: the LP's promise, that moves the box's centre to the point found (the box-step method). On the groups 5-7 part of
#: NASNet-A Mobile at 512 KiB (every reload cut, 1,000 rounds), the box halved down to 1 B leaves the planes at
#: 3,890,144 B; down to 1,024 B they reach its optimum, 3,934,832 B, in 801 rounds (formulations/segment-bound.md).
FIRST_BOX, SMALLEST_BOX, LARGEST_BOX, SERIOUS = 100_000, 1024, 2.0 ** 40, 0.1


class _Planes:
    """Box-step cutting planes over a fixed set of multipliers (module docstring, *Planes*). Each round solves every
    window at λ; window i's schedule σ_i gives the plane θ_i ≤ c_i(σ_i) + a_i · λ (a_i the multipliers' coefficients
    in σ_i), which lies above window i's part of L at every λ, since σ_i is a schedule of the window there too. The LP
    max Σ_i θ_i − (sides beyond the first) · λ over the planes so far, with λ within a box about the point of the best
    L (the centre), gives the next λ, rounded to integers and the priced multipliers kept at 0 or above: every λ
    evaluated is a bound. The box moves to a point that gains a tenth of what the LP promised (doubling when that
    point was on its edge) and halves, down to :data:`SMALLEST_BOX`, when the point is below the centre; the planes
    are done when the LP promises less than a byte above the centre (then no λ does better: the planes lie above L,
    and L is concave), or proposes only points where L is known: the LP's point rounded to the nearest integers,
    and then away from the centre (where the LP's point lies about half-way between integers).

    The LP is kept between points (HiGHS, warm from its last basis): new planes are added as rows, new multipliers
    as columns with their coefficients in the planes already there, and the box as the columns' bounds. A plane
    that is already there (the same window, constant and coefficients) is not added again."""

    def __init__(self, windows: int, priced: np.ndarray, beyond: np.ndarray) -> None:
        self.windows = windows
        self.priced, self.beyond = priced, beyond.astype(float)
        # per plane: its window, constant, multipliers and their coefficients, and the schedule it came from with
        # the count of its window's terms then (so that terms added later get their coefficients in it)
        self.planes: list[tuple[int, float, np.ndarray, np.ndarray]] = []
        self.schedules: list[tuple[list[int], int]] = []
        self.seen: set[tuple] = set()  # the planes there are (window, constant, coefficients)
        self.evaluated: set[bytes] = set()  # the multipliers L is known at (digests: a λ may have 10,000)
        self.best: tuple[int, np.ndarray] | None = None  # the best L known, and where
        self.centre: np.ndarray | None = None
        self.at_centre = 0
        self.half = float(FIRST_BOX)
        self.promised = float("inf")
        self.on_edge = False
        # the LP as HiGHS holds it: its rows are the first ``rows`` planes, its columns θ and the first ``columns``
        # multipliers; ``late`` the coefficients of multipliers beyond those in its rows, (row, multiplier, value)
        self.lp = None
        self.rows = self.columns = 0
        self.late: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, i: int, value: int, lam: np.ndarray, row: np.ndarray, chosen: list[int], terms: int) -> None:
        """Window i's plane from its schedule ``chosen`` at ``lam`` (least moved cost ``value``, coefficients
        ``row``), when the window has ``terms`` terms; nothing when the window has that plane already."""
        at = np.flatnonzero(row)
        plane = (i, float(value - int(row[at] @ lam[at])), at, row[at].astype(float))
        key = (i, plane[1], at.tobytes(), plane[3].tobytes())
        if key in self.seen:
            return
        self.seen.add(key)
        self.planes.append(plane)
        self.schedules.append((chosen, terms))

    def extend(self, windows: list[Window], terms: list[list[Term]], count: int, cut: np.ndarray,
               priced: np.ndarray, beyond: np.ndarray) -> None:
        """New multipliers (``count`` in all, their kinds ``cut``, ``priced`` and ``beyond``), at 0, with their
        terms at the end of ``terms``: each plane gets their coefficients in its schedule, so that it stays above its
        window's part of L. An exact term's is its y there (as :func:`_coefficients` counts it); a free term's 0,
        since it moves a piece by min(0, ±λ) ≤ 0; a leveled term's 1, since its multiplier is 0 or above and the
        piece pays it or a level whose cost the plane already counts."""
        if self.centre is None:  # no plane yet: the planes start at the end of this round
            self.priced, self.beyond = priced, beyond.astype(float)
            return
        old = len(self.centre)
        for k, ((i, constant, at, coef), (chosen, known)) in enumerate(zip(self.planes, self.schedules)):
            new = terms[i][known:]
            if not new:
                continue
            masks = [int(windows[i].graph.masks[p]) for p in chosen]
            ys = np.array([1 if kind == LEVELED else int(kind == EXACT and any(mask & pair == pair for mask in masks))
                           for _, _, _, pair, kind in new], np.int64)
            ms = np.array([m for m, *_ in new], np.int64)
            row = _coefficients(count - old, ms - old, np.array([sign for _, sign, *_ in new]), cut[ms], ys)
            more = np.flatnonzero(row)
            self.planes[k] = (i, constant, np.concatenate([at, old + more]), np.concatenate([coef, row[more]]))
            self.schedules[k] = (chosen, len(terms[i]))
            if k < self.rows and len(more):
                self.late.append((np.full(len(more), k), old + more, row[more].astype(float)))
        added = count - old
        self.centre = np.concatenate([self.centre, np.zeros(added, np.int64)])
        self.best = (self.best[0], np.concatenate([self.best[1], np.zeros(added, np.int64)]))
        self.priced, self.beyond = priced, beyond.astype(float)

    def next(self, lam: np.ndarray, total: int) -> np.ndarray | None:
        """The multipliers to evaluate after ``lam``, whose L is ``total`` (its planes added), or None when done."""
        self.evaluated.add(_digest(lam))
        if self.centre is None:
            self.centre, self.at_centre = lam.copy(), total
        elif total > self.at_centre and total >= self.at_centre + SERIOUS * (self.promised - self.at_centre):
            self.centre, self.at_centre = lam.copy(), total
            self.half = min(self.half * (2 if self.on_edge else 1), LARGEST_BOX)
        elif total < self.at_centre:
            self.half = max(self.half / 2, SMALLEST_BOX)
        if self.best is None or total > self.best[0]:
            self.best = (total, lam.copy())
        while True:
            self.promised, point = self._lp()
            if self.promised - self.at_centre < 1:
                # the planes, above L everywhere, rise nowhere in the box above L at the centre: L being concave,
                # the centre is its best (to a byte)
                return None
            # the nearest integers, or, when L is known there (the LP's point lies between integers, about a half),
            # the integers beyond it from the centre
            away = np.sign(point - self.centre) * np.ceil(np.abs(point - self.centre) - 1e-6)
            for proposed in (np.rint(point), self.centre + away):
                proposed = proposed.astype(np.int64)
                proposed[self.priced] = np.maximum(proposed[self.priced], 0)
                if _digest(proposed) not in self.evaluated:
                    self.on_edge = bool(np.any(np.abs(proposed - self.centre) >= max(self.half - 1, 1)))
                    return proposed
            # the LP offers only known points: the centre moves to the best of them, however little it gains, or,
            # when none is above it, the box halves (below :data:`SMALLEST_BOX`), the planes ending at a box of 1
            if self.best[0] > self.at_centre:
                self.centre, self.at_centre = self.best[1].copy(), self.best[0]
            elif self.half > 1:
                self.half = max(self.half / 2, 1.0)
            else:
                return None

    def _lp(self) -> tuple[float, np.ndarray]:
        import highspy

        n, count, inf = self.windows, len(self.centre), highspy.kHighsInf
        if self.lp is None:
            self.lp = new_highs(1, 0)
            self.lp.setOptionValue("presolve", "off")  # each run starts from the last one's basis
            self.lp.addVars(n, np.full(n, -inf), np.full(n, inf))
            self.lp.changeColsCost(n, np.arange(n, dtype=np.int32), -np.ones(n))  # HiGHS minimises −(Σ θ − …)
        h = self.lp
        if count > self.columns:  # the new multipliers, with their coefficients in the rows there already
            rows, ms, values = (np.concatenate(parts) for parts in zip(*self.late)) if self.late else \
                (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
            order = np.lexsort((rows, ms))
            rows, ms, values = rows[order], ms[order], values[order]
            starts = np.searchsorted(ms, np.arange(self.columns, count)).astype(np.int32)
            added = count - self.columns
            h.addCols(added, self.beyond[self.columns:], np.zeros(added), np.zeros(added), len(rows), starts,
                      rows.astype(np.int32), -values)
            self.columns, self.late = count, []
        if len(self.planes) > self.rows:
            fresh = self.planes[self.rows:]
            starts = np.concatenate([[0], np.cumsum([1 + len(at) for _, _, at, _ in fresh])[:-1]]).astype(np.int32)
            index = np.concatenate([np.concatenate([[i], n + at]) for i, _, at, _ in fresh]).astype(np.int32)
            value = np.concatenate([np.concatenate([[1.0], -coef]) for _, _, _, coef in fresh])
            h.addRows(len(fresh), np.full(len(fresh), -inf), np.array([constant for _, constant, _, _ in fresh]),
                      len(index), starts, index, value)
            self.rows = len(self.planes)
        low, high = self.centre - self.half, self.centre + self.half
        low[self.priced] = np.maximum(low[self.priced], 0)
        h.changeColsBounds(count, np.arange(n, n + count, dtype=np.int32), low.astype(float), high.astype(float))
        h.run()
        proposed = np.array(h.getSolution().col_value[n:])
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal or not np.all(np.isfinite(proposed)):
            return float(self.at_centre), self.centre.astype(float)  # promises nothing: the planes end
        return -h.getInfo().objective_function_value, proposed


def _digest(lam: np.ndarray) -> bytes:
    """A 128-bit digest of the multipliers ``lam``, for :attr:`_Planes.evaluated`."""
    return hashlib.blake2b(lam.tobytes(), digest_size=16).digest()


def couple(cm: CostModel, windows: list[Window], plain: int, deadline: Deadline = NEVER, *,
           max_rounds: int = 400, jobs: int = 1, steps: Steps = FIRST_STEPS, reloads: Reloads | None = None,
           planes: bool = False, reload_cuts: int | None = RELOAD_CUTS, upper: int | None = None) -> Coupled:
    """The best L(λ) found (module docstring) over the solved ``windows``, whose plain optima sum to ``plain``,
    within ``deadline`` and ``max_rounds`` rounds; with ``jobs`` of 2 or more (and a platform that forks) a second
    process solves a share of the windows each round, the same rounds in less time. The steps follow ``steps``
    (:data:`FIRST_STEPS`, or :data:`NEAR_STEPS` for widened windows).

    The rounds start with the terms of the adjacent pairs. Once the step has fallen below :data:`PAIRS_STEP`, or
    the windows agree, each round first adds the terms of the pairs of layers that the last round's schedules
    disagree on (:meth:`_Terms.disagreements`), their multipliers starting at 0, so that L is where it was; once
    there are none, the rounds go on until the step is spent or the windows agree. Each round, too, the capacity
    cuts the last round's schedules violate get multipliers, at 0 (:meth:`_Terms.capacity_cuts`), and with
    ``reloads`` (what the windows' local costs say of weight reloads) the reload cuts (:meth:`_Terms.reload_cuts`).

    ``upper``, the bytes of a schedule of the network (any number keeps the result a bound; a schedule's makes it
    strong), lets the rounds fix pieces by their reduced costs (module docstring, *Fixing*): the rounds then bound
    the schedules cheaper than ``upper``, and what returns is the least of their bound and ``upper``."""
    began = time.perf_counter()
    windows = list(windows)  # fixing puts restricted windows in their places
    made = _Terms(cm, windows, reloads, reload_cuts)
    terms, _ = made.adjacent()
    count = made.kept_stores()
    lam = np.zeros(count, np.int64)
    kept = [(w.costs.copy(), np.zeros(count, np.int64)) for w in windows]  # each window's moved costs
    last: list[tuple[int, list[int], list[bool]] | None] = [None] * len(windows)
    # a window none of whose multipliers moved since its last solve has the same optimum: it is not solved again
    own_multipliers = [np.array([m for m, *_ in own], np.int64) for own in terms]
    best, step, stall, rounds, disagree, searching = plain, 1.0, 0, 0, 0, True
    best_lam, climbing, planned = lam.copy(), None, 0  # the multipliers of the best L; the planes once they start
    allowance, fixed = None, 0  # the fixing's last allowance above each window's least (with upper), transitions cut
    chosen_pieces: set[tuple[int, int]] = set()  # (window, piece) chosen in some round
    theirs = set(_shares(windows)[1]) if jobs > 1 and count and can_fork() else set()
    helper = _Helper(windows, made, kept) if theirs else None
    steps_until = deadline.sub(share=PLANES_SHARE)  # then the planes start, spent or not (never, without a deadline)

    def more(kind: str, chosen: list[list[int]]) -> bool:
        """Add the terms of the pairs the last round's schedules (``chosen``) disagree on (``kind`` "pairs") or of
        the capacity cuts they violate ("cuts"), if any."""
        nonlocal count, lam, best_lam, climbing
        found = made.disagreements(chosen, NEW_PAIRS) if kind == "pairs" else made.capacity_cuts(chosen)
        if not found:
            return False
        touched = made.add_pairs(found) if kind == "pairs" else made.add_cuts(found)
        added, count = made.count - count, made.count
        lam = np.concatenate([lam, np.zeros(added, np.int64)])
        best_lam = np.concatenate([best_lam, np.zeros(added, np.int64)])  # L there is what it was: the terms are 0
        if helper is not None:  # it makes the same terms in its copy, as this process does below
            helper.add(kind, found)
        _at_zero(kept, added)
        if climbing is not None:
            climbing.extend(windows, terms, count, *made.kinds())
        for i in touched:
            last[i] = None  # solved again, for the y of its new terms
            own_multipliers[i] = np.array([m for m, *_ in terms[i]], np.int64)
        return True

    try:
        while count and rounds < max_rounds and (planes or step >= SMALLEST_STEP) and not deadline.expired():
            if planes and climbing is None and (step < SMALLEST_STEP or steps_until.expired()):  # from the best point
                climbing, lam = _Planes(len(windows), *made.kinds()[1:]), best_lam.copy()
            if all(last):  # every window's last schedule is known (none has new terms since)
                chosen = [outcome[1] for outcome in last]
                if searching and step < PAIRS_STEP:
                    searching = more("pairs", chosen)
                more("cuts", chosen)
            moved = [i for i in range(len(windows))
                     if last[i] is None or np.any(lam[own_multipliers[i]] != kept[i][1][own_multipliers[i]])]
            if helper is not None:
                helper.ask(lam, [i for i in moved if i in theirs])
            for i in moved:
                if helper is None or i not in theirs:
                    last[i] = solve_moved(windows[i], terms[i], lam, kept[i], made.leveled.get(i), made.packed[i])
            if helper is not None:
                answers = helper.answer()
                if answers is None:  # the helper has died (out of memory?): this process solves its windows now
                    helper.close()
                    helper = None
                    for i in theirs:
                        kept[i] = (windows[i].costs.copy(), np.zeros(count, np.int64))  # the helper had them
                        last[i] = solve_moved(windows[i], terms[i], lam, kept[i], made.leveled.get(i),
                                              made.packed[i])
                    answers = []
                for i, outcome in answers:
                    last[i] = outcome
                    kept[i][1][:] = lam  # the helper's copy of the window's costs is at lam now
            cut, priced, beyond = made.kinds()
            total = -int((lam * beyond).sum())  # each cut's −ν per side beyond the first
            together = np.zeros((count, 2), np.int64)  # per multiplier: y in its first and second window
            held = np.zeros(count, np.int64)  # per cut: how many of its sides' sets the schedules hold
            for i, own in enumerate(terms):
                value, chosen, ys = last[i]
                total += value
                chosen_pieces.update((i, p) for p in chosen)
                packed = made.packed[i]
                packed.sync(own, pieces=False)  # the y's alone: the helper packs its windows' pieces in its copy
                ms, ys = packed.multiplier, np.asarray(ys, np.int64)
                side = cut[ms]
                np.add.at(held, ms[side], ys[side])
                # a window may give one multiplier two terms
                np.maximum.at(together, (ms[~side], (packed.sign[~side] < 0).astype(np.int64)), ys[~side])
                if climbing is not None:
                    climbing.add(i, value, lam, _coefficients(count, ms, packed.sign, side, ys), chosen, len(own))
            rounds += 1
            planned += climbing is not None
            g = np.where(cut, held - beyond, together[:, 0] - together[:, 1])
            g[priced & (lam <= 0) & (g < 0)] = 0
            disagree = int(np.count_nonzero(g))
            if upper is not None and total >= upper:  # no schedule is cheaper than upper's: it is optimal
                best = max(best, total)
                break
            if upper is not None and (allowance is None or upper - 1 - total <= allowance - allowance // FIX_SHRINK):
                allowance = upper - 1 - total
                fixed += _fix(windows, kept, [i for i in range(len(windows)) if i not in theirs], allowance)
                if helper is not None:
                    fixed += helper.fix(allowance)
            if total > best:
                best, stall, best_lam = total, 0, lam.copy()
            elif climbing is None:
                stall += 1
                if stall >= steps.stall:
                    step, stall = step / 2, 0
            if climbing is not None and disagree:
                proposed = climbing.next(lam, total)
                if proposed is not None:
                    lam = proposed
                    continue
                # the planes promise no more over these multipliers: new pairs or cuts, if the schedules show any
                chosen = [outcome[1] for outcome in last]
                if not more("pairs", chosen) and not more("cuts", chosen):
                    break
                continue
            if not disagree:  # the windows agree: no multiplier moves L further, unless new pairs or cuts get terms
                chosen = [outcome[1] for outcome in last]
                if not (searching and more("pairs", chosen)) and not more("cuts", chosen):
                    break
                continue
            lam += np.rint(step * ((1 + steps.above) * best - total) / disagree * g).astype(np.int64)
            lam[priced] = np.maximum(lam[priced], 0)
    finally:
        if helper is not None:
            helper.close()
    pieces = {made.layers(i, int(windows[i].graph.masks[p])) for i, p in chosen_pieces}
    reload_cuts = sum(isinstance(cut, ReloadCut) for cut in made.cuts.values())
    return Coupled(min(best, upper) if upper is not None else best, rounds, count, disagree,
                   time.perf_counter() - began, tuple(sorted(pieces)), len(made.cuts) - reload_cuts, len(made.kept),
                   reload_cuts, planned, fixed)


#: The fixing restricts the windows again once the allowance (the upper bound less the last L, less a byte) has
#: fallen by this share (1/8) of what it was at the last restriction.
FIX_SHRINK = 8


def _fix(windows: list[Window], kept: list[tuple[np.ndarray, np.ndarray]], which: Iterable[int], allowance: int
         ) -> int:
    """Restrict the graphs of the windows ``which`` (in place in ``windows``) to the transitions within
    ``allowance`` of each one's least moved cost (``kept``, at the multipliers of the last round; module docstring,
    *Fixing*): the transitions cut."""
    cut = 0
    for i in which:
        graph = windows[i].graph
        restricted = graph.within(kept[i][0], allowance)
        cut += graph.transitions - restricted.transitions
        windows[i] = replace(windows[i], graph=restricted)
    return cut


def _coefficients(count: int, ms: np.ndarray, sign: np.ndarray, side: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Each multiplier's coefficient in a window's moved cost of the schedule whose terms' y's are ``ys``: a cut's,
    the sides the schedule holds; a pair's or a kept store's, +y where the window's terms add λ, −y where they take it
    away (the terms ``ms`` of the window, with their ``sign`` and whether they are a cut's ``side``)."""
    row = np.zeros(count, np.int64)
    np.add.at(row, ms[side], ys[side])
    signed = np.zeros((count, 2), np.int64)
    np.maximum.at(signed, (ms[~side], (sign[~side] < 0).astype(np.int64)), ys[~side])
    return row + signed[:, 0] - signed[:, 1]


def _shares(windows: list[Window]) -> tuple[list[int], list[int]]:
    """The windows this process solves each round and those a second process solves: the largest graphs first,
    each to the share with fewer transitions so far, so that both take about as long."""
    shares: tuple[list[int], list[int]] = ([], [])
    load = [0, 0]
    for i in sorted(range(len(windows)), key=lambda i: (-len(windows[i].graph.dst), i)):
        k = 0 if load[0] <= load[1] else 1
        shares[k].append(i)
        load[k] += len(windows[i].graph.dst)
    return sorted(shares[0]), sorted(shares[1])


class _Helper:
    """A forked process that solves the windows it is told to at the multipliers it is sent, each round, keeping
    their moved costs as :func:`solve_moved` does. Forked after the windows' graphs exist, it shares them with this
    process (copy on write) and is sent only the multipliers and which windows moved, and the pairs of layers and
    capacity cuts that get terms: it makes the same terms in its own copy of them (:meth:`_Terms.add_pairs` and
    :meth:`_Terms.add_cuts` are deterministic)."""

    def __init__(self, windows: list[Window], made: _Terms, kept: list[tuple[np.ndarray, np.ndarray]]) -> None:
        context = multiprocessing.get_context("fork")
        self._pipe, theirs = context.Pipe()
        self._process = context.Process(target=_serve, args=(windows, made, kept, theirs),
                                        name="optimus-opt-coupling", daemon=True)
        self._process.start()
        theirs.close()

    def ask(self, lam: np.ndarray, moved: list[int]) -> None:
        self._send(("solve", lam, moved))

    def add(self, kind: str, found: list) -> None:
        """Pairs (``kind`` "pairs") or capacity cuts ("cuts") that get terms."""
        self._send((kind, found))

    def _send(self, message: tuple) -> None:
        try:
            self._pipe.send(message)
        except (BrokenPipeError, ConnectionResetError):  # it has gone: :meth:`answer` says so
            pass

    def fix(self, allowance: int) -> int:
        """Fix the pieces of the windows the helper solves (:func:`_fix`) at ``allowance``: the transitions it cut
        (0 when it has gone)."""
        self._send(("fix", allowance))
        cut = self.answer()
        return cut if isinstance(cut, int) else 0

    def answer(self) -> list[tuple[int, tuple[int, list[int], list[bool]]]] | None:
        """The outcomes of the windows last asked for, or None when the helper has gone."""
        try:
            return self._pipe.recv()
        except (EOFError, ConnectionResetError):
            return None

    def close(self) -> None:
        self._process.kill()
        self._process.join()
        self._pipe.close()


def _at_zero(kept: list[tuple[np.ndarray, np.ndarray]], added: int) -> None:
    """``added`` new multipliers, at 0, in each window's kept multipliers: the moved costs stay as they are."""
    for i, (costs, at) in enumerate(kept):
        kept[i] = (costs, np.concatenate([at, np.zeros(added, np.int64)]))


def _serve(windows: list[Window], made: _Terms, kept: list[tuple[np.ndarray, np.ndarray]], pipe: Connection) -> None:
    """The helper's loop: each (multipliers, windows) it receives, solved and sent back, and each list of new
    pairs or cuts given its terms, and each fixing of the windows it solves, until the pipe closes."""
    helped: set[int] = set()  # the windows it has solved: their moved costs are its own
    try:
        while True:
            kind, *message = pipe.recv()
            if kind in ("pairs", "cuts"):
                before = made.count
                (made.add_pairs if kind == "pairs" else made.add_cuts)(*message)
                _at_zero(kept, made.count - before)
                continue
            if kind == "fix":
                pipe.send(_fix(windows, kept, helped, *message))
                continue
            lam, moved = message
            helped.update(moved)
            pipe.send([(i, solve_moved(windows[i], made.terms[i], lam, kept[i], made.leveled.get(i), made.packed[i]))
                       for i in moved])
    except (EOFError, BrokenPipeError, KeyboardInterrupt):  # the coupling has ended, or Ctrl-C: it kills us anyway
        pass
