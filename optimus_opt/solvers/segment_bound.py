"""A lower bound of the optimum that needs no exact solve of the whole network: cut a topological order of the
layers (:func:`window_order`) into segments of consecutive layers (the *cores*), solve each core's *window* (the
core, ``overlap`` layers of the order on either side, and the core's feeders that keep it convex: :class:`Cores`)
exactly under a cost that never exceeds what a group spends on the core, and add the windows' optima
(formulations/segment-bound.md).

Why it is a bound. Let P = G ∩ W_i be what a group G of a schedule holds of window W_i, whose core is Σ_i. The
*local cost* c̃_i(P) charges

* the loads of the tensors P reads whose producer lies in W_i − P (surely outside G), or that are network inputs,
  when G's first reader of the tensor (first in the order) lies in Σ_i and every reader before it lies in W_i (so
  that the reader is surely G's first, and each load is charged in one core only);
* the stores of the members of P ∩ Σ_i that are network outputs or have a reader in W_i − P (surely outside G);
* the weights of P ∩ Σ_i times k(P), the fewest reloads any tiling of any group containing P can have. k(P) comes
  from a footprint that no superset's tiling undercuts at the same strips Q: each member keeps at least the rows
  its readers in P need, all ⌈H/Q⌉ rows if it escapes within W_i, and, if it has readers outside W_i, at least
  the least of ⌈H/Q⌉ and what those readers need with their own least rows (:func:`least_rows`); channels are
  full for a conv, which Φ may reduce; an input of P keeps what its readers in P need, with all channels when it
  is surely outside G, else its fewest. Under ``tiles`` k(P) comes instead from the first tile of P with the
  members that escape within W_i cut by the partition (:meth:`~optimus_opt.cost.tiles.TileGeometry.least_reloads`),
  for pieces of two layers or more (one layer may run in passes that load its weights once);
* under ``strips``, for the tensors crossing the window's edge whose store or load no item above charges (a core
  member read beyond W_i, a tensor from before W_i whose designated reader is in the core): the least, over which
  of them G keeps on chip, of the bytes of the others plus the core's weights times what the hulls of the kept
  ones add to k (:meth:`_LocalCost._fuse_or_pay`).

Each charged byte is a byte G moves and no byte is charged in two cores, so c(G) ≥ Σ_i c̃_i(G ∩ W_i). The pieces
of one window, taken in the schedule's order, run one after another as a schedule of the window (split into
connected parts, which changes no charged traffic and only lowers k and the crossing tensors' charge), so
Σ_G c̃_i(G ∩ W_i) ≥ OPT_i, the best such schedule, found by the down-set DP over the window's convex connected
pieces. Summing, every schedule costs at
least Σ_i OPT_i. Under ``max_group`` the pieces are capped too, and the bound holds over capped schedules. What
the bound cannot see are the tensors that reach past a window; the cuts are placed where the tensors crossing
them are lightest (:func:`segments`). With every window solved, :mod:`.coupling` raises the sum by making
overlapping windows agree on which of their shared layers run in one group.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from bisect import bisect_left
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable, Iterator

import numpy as np

from ..cost.candidates import CandidateSpace, Reach, bits
from ..cost.cost_model import CostModel
from ..cost.partition import components
from ..cost.parts import mask_of
from ..model.errors import SolverError
from ..model.instance import Instance
from ..utils.deadline import NEVER, Deadline
from ..utils.memory import Memory
from ..utils.processes import can_fork
from .columns import partition_bound
from .compiled_window import NO_FIT, WindowCosts, WindowPieces, piece_int, piece_members, wide_pieces
from .coupling import FAR_FLOOR, FIRST_STEPS, NEAR_STEPS, RELOAD_CUTS, Coupled, Kept, Steps, Window, couple
from .downset_graph import WORD_LAYERS, DownsetGraph

#: Layers per segment by default: NASNet-A Mobile's windows then take 2–5 s compiled (without feeders; 14–36 s in
#: Python); with 24 the bound is a few per cent higher on chains and Inception, but NASNet's did not finish in 15
#: minutes in Python (formulations/segment-bound.md).
DEFAULT_SEGMENT = 16
#: Layers per segment of a bound that must be done in less than :data:`LONG_BOUND_SECONDS`: NASNet-A Mobile's
#: windows took 5–11 s at 12 layers in Python (without feeders), and the bound is 4–6 % lower than at 16.
SHORT_SEGMENT = 12
#: Seconds from which a bound computed against a deadline (beside a search, or in a stopped solver's reserve) uses
#: :data:`DEFAULT_SEGMENT` rather than :data:`SHORT_SEGMENT`: a 60 s run on NASNet-A Mobile then proves 6 % more
#: (formulations/exact-dp.md).
LONG_BOUND_SECONDS = 45.0
#: Rounds of the coupling of the windows at most (:mod:`.coupling`); on NASNet-A Mobile the bound stops rising
#: well before (formulations/segment-bound.md, "Coupling the windows").
COUPLING_ROUNDS = 400
#: The share of the time left after the windows that their coupling may take, against a deadline.
COUPLING_SHARE = 0.25
#: The share of the time left after the first coupling that the last coupling, of the widened windows, may take:
#: with their kept stores the windows of whole cells at 512 KiB need about 300 rounds, 130 s in a 10-minute run of
#: NASNet-A Mobile (formulations/segment-bound.md, "Kept stores").
WIDENED_COUPLING_SHARE = 0.45
#: Layers each window shows beyond its core on either side: enough to see a residual or inception block's other
#: end; wider windows multiply the pieces on NASNet-class cells (formulations/segment-bound.md).
DEFAULT_OVERLAP = 4
#: The overlaps a bound with time to spare widens its windows to, one core at a time, once every window is solved
#: at :data:`DEFAULT_OVERLAP` (:func:`widen_windows`): on two cells of NASNet-A Mobile (75 layers) cores of 16 layers
#: prove 5,670,129 B at overlap 4, 6,221,626 B at 8 and 6,773,712 B at 12 (formulations/segment-bound.md).
WIDER_OVERLAPS = (8, 12)
#: Layers a merged core holds at most (:func:`merge_windows`): one NASNet-A cell (29–36 layers in the live order),
#: whose groups the cut through its middle splits between two windows of :data:`DEFAULT_SEGMENT` layers. With every
#: core merged this way and no overlap, NASNet-A Mobile's windows at 128 KiB sum to 70,591,796 B against 62,136,932 B
#: (formulations/segment-bound.md, "Merged cores").
MERGED_SEGMENT = 36
#: Layers a merged core's window shows beyond it on either side: none, as each merged window already has 300,000
#: pieces or more on NASNet-A Mobile; it takes in its feeders all the same.
MERGED_OVERLAP = 0
#: Layers a core bounded by its LP holds at most (:func:`relax_windows`): two merged cores. On NASNet-A Mobile at
#: 128 KiB the two stem cells' window (69 layers, 1,601,174 pieces) is bounded by 9,176,892 B where their two
#: windows prove 6,279,228 B (formulations/segment-bound.md, "Windows by their LP").
RELAXED_SEGMENT = 2 * MERGED_SEGMENT
#: Pieces at most of a window bounded by its LP: its LP holds every piece's layers. On NASNet-A Mobile at 128 KiB
#: the next pair of cells has 2,748,976 pieces and its LP proves what its two windows prove (165 s); two others
#: have more than 4,000,000. Joined, the pieces multiply: the windows of the cores joined had 373,426, 825,278,
#: 1,515,909 and 479,360 pieces together. So a core is not joined when its cores' windows have a quarter of this
#: together.
RELAXED_PIECES = 2_000_000
#: The share of the widening's time left that the windows bounded by their LP may take, so that the wider overlaps,
#: whose windows the coupling ties together, still have time. With 30 % a 10-minute exact-dp run on NASNet-A Mobile
#: at 128 KiB bounded no window by its LP on a machine a third slower than usual: the merged cores left it 25 s,
#: and the stem cells' window took 30 s (73,632,078 B against 74,894,016 B with half; formulations/exact-dp.md).
RELAXED_SHARE = 0.5
#: Seconds from which a bound that widens its windows nests its first cut inside the cut into merged cores
#: (:func:`nested_within`). Nested, NASNet-A Mobile's first windows prove less (63,267,936 B against 65,115,802 B
#: at 128 KiB, with their feeders) and its joined windows are larger, but they are the least cut into cells. With
#: the compiled windows a 10-minute exact-dp run joins every cell either way, and proves 73,674,768 B at 128 KiB and
#: 26,946,788 B at 512 KiB nested against 71,120,588 B and 25,424,886 B not (formulations/segment-bound.md, "Merged
#: cores"); 9 minutes leave such a run the margin its setup takes.
NESTED_SECONDS = 540.0
#: Pieces a window of the widening may have in its stage's first pass (:func:`widen_windows`,
#: :func:`merge_windows`): one with more is put off until every smaller one of the stage is solved. On NASNet-A
#: Mobile at 512 KiB the merged windows have 8,744 to 3,375,707 pieces; the four largest take 200-250 s each and
#: add less to the bound than the twelve others together (formulations/segment-bound.md, "Merged cores").
FIRST_PASS_PIECES = 1_500_000
#: Bytes a window's piece may take at most while the window is built and kept, with its share of the graph of
#: down-sets and of the coupling's terms: on NASNet-A Mobile at 512 KiB the windows of whole cells took 128–575 B
#: per piece at their peak and kept 56–213 B, and a 30-minute exact-dp run peaked at 23.3 GB with 74 million
#: pieces in its windows, 315 B each (formulations/segment-bound.md, "Memory").
PIECE_BYTES = 400


class MemoryShort(Exception):
    """The memory left would not hold a window's pieces (:data:`PIECE_BYTES` each, :class:`Memory`): the widening
    stops there (:func:`widened`)."""


@dataclass(frozen=True)
class SegmentBound:
    """The bound (bytes) and how it was reached: the segments as the first and last id of their layers in the
    window ``order`` (:func:`window_order`; each segment is the run of ``order`` between them), each one's
    optimum under the local cost (or its local compulsory traffic where its DP did not finish), whether each DP
    finished, the overlap of each one's window (wider where :func:`widen_windows` had time), ``feasible`` False
    when some window has no schedule (a proof that the network has none), the bytes of the tensors crossing the
    cuts (which the bound leaves out), pieces costed, down-sets visited and seconds, the feeders the windows took
    in (:class:`Cores`), the windows of joined cores (``merged``) and of those bounded by their LP (``relaxed``,
    :func:`relax_windows`), whether the widening stopped because the memory left would not hold a window
    (``memory_short``, :class:`MemoryShort`), and each core's layers and its window's as bitsets (the window None
    where it was not solved) with the instance they are of, from which :mod:`.charges` charges a schedule window by
    window;
    ``coupling`` says what coupling the windows (:mod:`.coupling`) gave when it ran: ``bytes`` is then the larger
    of it and the plain sum of ``per_segment``."""

    bytes: int
    segments: tuple[tuple[int, int], ...]
    order: tuple[int, ...]
    per_segment: tuple[int, ...]
    finished: tuple[bool, ...]
    feasible: bool
    crossing_bytes: int
    pieces: int
    downsets: int
    seconds: float
    coupling: Coupled | None = None
    overlaps: tuple[int, ...] = ()
    feeders: int = 0
    merged: int = 0
    relaxed: int = 0
    memory_short: bool = False
    windows: tuple[tuple[int, int | None], ...] = field(default=(), repr=False, compare=False)
    instance: Instance | None = field(default=None, repr=False, compare=False)

    @property
    def complete(self) -> bool:
        """Every segment's DP finished (otherwise those segments count only their local compulsory traffic)."""
        return all(self.finished)

    def info(self) -> dict:
        return {"segments": len(self.segments), "segment_bound_bytes": self.bytes,
                "segments_finished": sum(self.finished), "crossing_bytes": self.crossing_bytes,
                "segment_overlaps": {str(o): self.overlaps.count(o) for o in sorted(set(self.overlaps))},
                "segment_feeders": self.feeders, "segments_merged": self.merged,
                "segments_relaxed": self.relaxed, "segment_memory_short": self.memory_short,
                "segment_pieces": self.pieces, "segment_downsets": self.downsets,
                "segment_seconds": round(self.seconds, 3)} | ({} if self.coupling is None else {
                "segment_plain_bytes": sum(self.per_segment), "coupling_rounds": self.coupling.rounds,
                "coupling_multipliers": self.coupling.multipliers, "coupling_cuts": self.coupling.cuts,
                "coupling_kept": self.coupling.kept, "coupling_reload_cuts": self.coupling.reload_cuts,
                "coupling_planes": self.coupling.planes, "coupling_fixed": self.coupling.fixed,
                "coupling_disagreements": self.coupling.disagreements,
                "coupling_seconds": round(self.coupling.seconds, 3)})


def least_rows(cm: CostModel, qs: np.ndarray) -> list[np.ndarray]:
    """For every node and every number of strips in ``qs``, the fewest rows per strip it keeps in any group that
    holds it: ⌈H/Q⌉ if it escapes, else what some reader in the group needs at that reader's own fewest rows
    (by induction from the last node back, since ``need`` grows with the rows it is given)."""
    rows: list[np.ndarray] = [np.zeros(0)] * cm.n
    for u in reversed(range(cm.n)):
        rows[u] = rows_for(cm, u, cm.consumers[u], rows, qs)
    return rows


def rows_for(cm: CostModel, u: int, readers, least: list[np.ndarray], qs: np.ndarray) -> np.ndarray:
    """For each number of strips in ``qs``, the fewest rows node u keeps for ``readers`` that a group holding it
    may or may not hold: ⌈H/Q⌉ if one of them is outside, else what it needs at its own fewest rows ``least``."""
    r = -(-cm.H[u] // qs)
    for c in readers:
        r = np.minimum(r, cm.need(c, least[c], cm.H[u], qs))
    return r


#: The topological orders the cores may be cut from (:func:`window_order`).
ORDERS = ("live", "ids")


def segment_for(seconds: float | None) -> int:
    """Layers per segment of a bound to be computed within ``seconds`` (None: no limit): :data:`DEFAULT_SEGMENT`
    from :data:`LONG_BOUND_SECONDS` on, else :data:`SHORT_SEGMENT`, whose windows NASNet-A Mobile finishes in
    5–11 s rather than 14–36 s (without feeders)."""
    return DEFAULT_SEGMENT if seconds is None or seconds >= LONG_BOUND_SECONDS else SHORT_SEGMENT


def window_order(cm: CostModel, order: str = "live") -> tuple[int, ...]:
    """A topological order of the layers for the windows to be ranges of. ``ids`` is the network's own order.
    ``live`` (the default) places next, of the layers whose producers are all placed, the one that adds the fewest
    bytes to the tensors produced and still awaiting a reader (its own tensor, less the tensors it is the last
    reader of; ties to the lowest id): the readers of one tensor then sit side by side, and a tensor's readers near
    its producer, so that windows see more of the traffic. On NASNet-A Mobile it places the 1 × 1 conv that
    adjusts a cell's output for the cell after next beside the next cell's own 1 × 1 conv of it, which the id order
    puts a whole cell apart (formulations/segment-bound.md, "The order of the layers")."""
    layers = cm.network.layer_ids
    if order == "ids":
        return tuple(layers)
    if order != "live":
        raise SolverError(f"unknown window order {order!r} (known: {', '.join(ORDERS)})")
    awaited = [len(cm.consumers[t]) for t in range(cm.n)]  # readers of each tensor not yet placed
    waiting = {u: sum(1 for p in cm.producers[u] if cm.network.is_layer(p)) for u in layers}
    ready = {u for u in layers if not waiting[u]}
    placed: list[int] = []

    def added(u: int) -> tuple[int, int]:
        freed = sum(cm.tensor_bytes[p] for p in cm.producers[u] if awaited[p] == 1)
        return (cm.tensor_bytes[u] if cm.consumers[u] else 0) - freed, u

    while ready:
        u = min(ready, key=added)
        ready.discard(u)
        placed.append(u)
        for p in cm.producers[u]:
            awaited[p] -= 1
        for c in cm.consumers[u]:
            waiting[c] -= 1
            if not waiting[c]:
                ready.add(c)
    return tuple(placed)


@dataclass(frozen=True)
class Cores:
    """The cores of the segment bound: consecutive runs of ``order`` (a topological order of the layers, so that
    every run of it is convex: a path that left a run and came back would pass a layer placed between two of
    its layers), each given as the (first, last) position of its layers in ``order``; and for each core its
    *feeders* (none when ``reach`` is None), the layers outside it whose tensors it reads, the largest tensor
    first, which its window takes in where they keep it convex (:meth:`window`)."""

    order: tuple[int, ...]
    spans: tuple[tuple[int, int], ...]
    reach: Reach | None = None
    feeders: tuple[tuple[int, ...], ...] = ()
    joins: tuple[int, ...] = ()  # per core, how many cores of the first cut it joins (:func:`merge_windows`)

    def __len__(self) -> int:
        return len(self.spans)

    def core(self, index: int) -> int:
        """The layers of core ``index`` as a bitset."""
        first, last = self.spans[index]
        return sum(1 << u for u in self.order[first:last + 1])

    def window(self, index: int, overlap: int, fed: bool = True) -> int:
        """Core ``index`` and ``overlap`` layers of the order on either side, as a bitset, with (when ``fed``) each
        of the core's feeders that leaves it convex, taken in turn (again after each one taken, which may make room
        for an earlier one: formulations/segment-bound.md, "Feeders")."""
        window = sum(1 << u for u in self._run(index, overlap))
        waiting = list(self.feeders[index]) if fed and self.reach is not None else []
        taken = True
        while taken:
            taken = False
            for u in waiting:
                grown = window | 1 << u
                if self.reach.hull(grown) == grown:
                    window, taken = grown, True
                    waiting.remove(u)
                    break
        return window

    def feeders_in(self, index: int, overlap: int) -> int:
        """How many feeders the window of core ``index`` at ``overlap`` takes in (layers beyond its run)."""
        return self.window(index, overlap).bit_count() - len(self._run(index, overlap))

    def _run(self, index: int, overlap: int) -> tuple[int, ...]:
        """Core ``index`` and ``overlap`` layers of the order on either side."""
        first, last = self.spans[index]
        return self.order[max(0, first - overlap):last + overlap + 1]

    def pool(self, cm: CostModel, pieces: Iterable[int]) -> tuple[int, ...]:
        """``pieces`` (bitsets the coupled windows chose, for :mod:`.pooled`) and, of each that holds a feeder, its
        convex connected parts without the feeders: a window never charges a feeder, so its pieces take one in
        for free where a schedule would often rather not (formulations/segment-bound.md, "A schedule from the
        windows")."""
        fed = sum(1 << u for u in {u for feeders in self.feeders for u in feeders})
        pool = set(pieces)
        for piece in [piece for piece in pool if piece & fed]:
            for part in components(cm.network, bits(piece & ~fed)):
                mask = mask_of(part)
                if self.reach.hull(mask) == mask:
                    pool.add(mask)
        return tuple(sorted(pool))

    def merged(self, cm: CostModel, size: int) -> tuple["Cores", tuple[tuple[int, int], ...]]:
        """These cores joined, consecutive ones, into cores of at most ``size`` layers, cut where the fewest bytes
        cross (:func:`segments`' rule over this partition's cuts alone), each with its feeders when these have
        theirs; and for each joined core the first and last index of the cores it joins."""
        cuts = [first for first, _ in self.spans] + [len(self.order)]
        spans = _least_cuts(self.crossing(cm), cuts, size)  # a core longer than ``size`` stays as it is
        index = {first: k for k, (first, _) in enumerate(self.spans)} | {len(self.order): len(self.spans)}
        runs = tuple((index[first], index[last + 1] - 1) for first, last in spans)
        joined = Cores(self.order, spans) if self.reach is None else _with_feeders(cm, self.order, spans, self.reach)
        return joined, runs

    def ends(self) -> tuple[tuple[int, int], ...]:
        """The first and last layer (ids) of each core."""
        return tuple((self.order[first], self.order[last]) for first, last in self.spans)

    def crossing(self, cm: CostModel) -> list[int]:
        """For each position of the order, the bytes of the tensors its layers up to there produce and a later
        layer reads: what a cut just after it leaves unseen."""
        at = {u: k for k, u in enumerate(self.order)}
        last = [max((at[c] for c in cm.consumers[u]), default=-1) for u in self.order]
        return [sum(cm.tensor_bytes[u] for k, u in enumerate(self.order[:i + 1]) if last[k] > i)
                for i in range(len(self.order))]


def segments(cm: CostModel, size: int, order: str = "live", feeders: bool = True, within: int = 0) -> Cores:
    """Cut the layers, in the window order ``order`` (:func:`window_order`), into runs of at most ``size`` layers
    so that the bytes of the tensors produced before a cut and read after it, summed over the cuts, are least (a DP
    over cut positions; ties go to the earliest cut); with ``feeders``, each core's window also takes in the
    producers of the tensors the core reads from beyond it, where they keep it convex (:meth:`Cores.window`).
    With ``within`` above ``size`` the cut is *nested*: first the least cut into runs of at most ``within`` layers,
    then each of those cut into runs of at most ``size``, so that joining the cores into cores of at most
    ``within`` layers (:meth:`Cores.merged`) finds that first cut again (formulations/segment-bound.md, "Merged
    cores")."""
    layers = window_order(cm, order)
    crossing = Cores(layers, ()).crossing(cm)  # bytes crossing a cut just after layers[i]
    spans = _least_cuts(crossing, list(range(len(layers) + 1)), max(size, within))
    if within > size:
        spans = tuple(inner for first, last in spans
                      for inner in _least_cuts(crossing, list(range(first, last + 2)), size))
    return _with_feeders(cm, layers, spans, Reach.of(cm)) if feeders else Cores(layers, spans)


def nested_within(seconds: float | None, widen: bool, merge: int = MERGED_SEGMENT) -> int:
    """The ``within`` of :func:`segments` for a bound computed within ``seconds`` that widens its windows (or not,
    ``widen``) and joins cores into cores of at most ``merge`` layers: ``merge`` from :data:`NESTED_SECONDS` on,
    when there is time to join them, else 0 (the first cut is then free, and its windows prove more)."""
    return merge if widen and seconds is not None and seconds >= NESTED_SECONDS else 0


def _least_cuts(crossing: list[int], allowed: list[int], size: int) -> tuple[tuple[int, int], ...]:
    """The runs (first, last position) between cuts in ``allowed`` (ascending positions, both ends included: 0 … n
    for the whole order), each of at most ``size`` positions or between two consecutive cuts, whose cuts leave the
    fewest bytes crossing them (``crossing[i]``: the bytes crossing a cut just after position i); ties go to the
    earliest cut."""
    start, n = allowed[0], allowed[-1]
    best = {start: 0}  # least crossing bytes covering positions [start, j), for each allowed j reached
    cut: dict[int, int] = {}
    for k, j in enumerate(allowed[1:], 1):
        for i in allowed[min(bisect_left(allowed, j - size), k - 1):k]:
            if i in best:
                value = best[i] + (crossing[j - 1] if j < n else 0)
                if j not in best or value < best[j]:
                    best[j], cut[j] = value, i
    spans = []
    j = n
    while j > start:
        spans.append((cut[j], j - 1))
        j = cut[j]
    return tuple(reversed(spans))


def _with_feeders(cm: CostModel, layers: tuple[int, ...], spans: tuple[tuple[int, int], ...], reach: Reach) -> Cores:
    """The cores ``spans`` of the order ``layers``, each with its feeders: the layers outside it whose tensors it
    reads, the largest tensor first (ties to the lowest id)."""
    fed = []
    for first, last in spans:
        core = layers[first:last + 1]
        outside = {p for u in core for p in cm.producers[u] if cm.network.is_layer(p)} - set(core)
        fed.append(tuple(sorted(outside, key=lambda p: (-cm.tensor_bytes[p], p))))
    return Cores(layers, spans, reach, tuple(fed))


class _LocalCost:
    """c̃_i of the pieces of one window: what a group spends on the layers of the segment's core that the window
    shows it surely spends (module docstring). Footprints are evaluated at the few strip counts that decide the
    reloads, in scalar arithmetic, with Φ solved only when the buffer falls between its extremes."""

    def __init__(self, cm: CostModel, core: int, window: int, qs: np.ndarray, least: list[np.ndarray],
                 reach: Reach, ordered: list[list[int]], compiled: WindowCosts | None = None) -> None:
        self.cm, self.core, self.window, self.reach = cm, core, window, reach
        self.compiled = compiled  # the same costs for a whole window at once (:mod:`.compiled_window`), or None
        self.ordered = ordered  # each tensor's readers in the window order: which of them a piece holds comes first
        self.qs, self.least = qs, least
        self.top = int(qs[-1])  # every tensor keeps its fewest rows from here on
        self._network_inputs = sum(1 << x for x in cm.network.input_ids)
        self._beyond: dict[tuple[int, tuple[int, ...]], list[int]] = {}
        self._fused: dict[tuple[int, int], tuple[int, bool] | None] = {}
        # what _shape keeps of a member or an input depends on the set and ``out`` only through its readers: keyed
        # by which of them the set and ``out`` hold, many pieces share each entry
        self._readers = [sum(1 << c for c in cm.consumers[u]) for u in range(cm.n)]
        self._reads = [sum(1 << p for p in cm.producers[u]) for u in range(cm.n)]
        self._members: dict[tuple[int, int, int], tuple] = {}
        self._inputs: dict[tuple[int, int, bool], tuple] = {}
        self._saved: dict[tuple[tuple[int, int], ...], int] = {}  # Φ's most words saved, by convs and their words
        self._strips = 2  # the last fewest strips found, where the next search starts (:meth:`_least_strips`)

    def __call__(self, piece: int) -> int | None:
        """The local cost of ``piece`` (a bitset inside the window), or None when no group containing it fits."""
        if not piece & self.core:
            return 0
        cm, core, window, readers_of = self.cm, self.core, self.window, self._readers
        # the layers of the window next to the piece but not in it: a group holding one of them would hold the
        # piece's component of the window too, so they lie surely outside any group whose piece this is
        members = bits(piece)
        near = reads = 0
        for u in members:
            near |= self.reach.adj[u]
            reads |= self._reads[u]
        out = near & window & ~piece
        traffic = charged_weights = 0
        stores: list[tuple[int, int]] = []  # core members read only beyond the window: item 4's stores
        for u in bits(piece & core):
            charged_weights += cm.weight_bytes[u]
            if cm.is_output[u] or out & readers_of[u]:
                traffic += cm.tensor_bytes[u]
            elif readers_of[u] & ~window:
                stores.append((cm.tensor_bytes[u], readers_of[u]))
        for x in bits(reads & ~piece & (out | self._network_inputs)):
            if self._designated(x, piece):
                traffic += cm.tensor_bytes[x]
        if cm.tiles is None:
            reloads = self._fewest_reloads(*self._shape(piece, out, members))
            if reloads is not None:
                traffic += self._fuse_or_pay(piece, out, reads, charged_weights, reloads, stores)
        elif piece & (piece - 1) and cm.tiles.geometry.every_cell_held:
            # under tiles (cost model version 3) every group containing the piece holds the first tile of the
            # piece with its surely escaping members cut by the partition (no passes: two layers or more)
            escaping = sum(1 << u for u in members if cm.is_output[u] or out & readers_of[u])
            weights = sum(cm.weight_bytes[u] for u in members)
            block = max(cm.block_bytes[u] for u in members)
            reloads = cm.tiles.geometry.least_reloads(piece, reads, escaping, weights, block)
        else:  # one layer may load its weights once in passes; a tile may hold no cell of a tensor
            reloads = 1
        return None if reloads is None else traffic + charged_weights * reloads

    def _designated(self, x: int, piece: int) -> bool:
        """Whether a load of x by a group whose piece is ``piece`` is this core's to charge: the piece's first
        reader of x in the window order lies in the core, and every reader of x before it lies in the window, so
        that it is surely the group's first reader and no other core charges the same load."""
        inside = True
        for c in self.ordered[x]:
            if piece >> c & 1:
                return inside and bool(self.core >> c & 1)
            if not self.window >> c & 1:
                inside = False
        return False

    def _fuse_or_pay(self, piece: int, out: int, reads: int, charged_weights: int, reloads: int,
                     stores: list[tuple[int, int]]) -> int:
        """What the tensors crossing the window's edge add (formulations/segment-bound.md, item 4): the store of
        a core member read only beyond the window, and the load of a tensor from before the window by its
        designated core reader. The group either moves those bytes or holds the tensor's producer and readers,
        hence the hull X of them and the piece; then its weights cross DRAM at least as often as any group holding
        X without the layers ``out`` may (:meth:`_fewest_reloads`), which the core's weights pay. A tensor whose X
        cannot be held that way is paid in full; of the others, the group keeps some set F and pays the rest, and
        the least over every F is found by trying each reload count as the largest in F."""
        crossing = list(stores)  # (bytes, what the group must also hold to keep them on chip)
        for x in bits(reads & ~self.window & ~self._network_inputs):
            if self._designated(x, piece):
                crossing.append((self.cm.tensor_bytes[x], 1 << x))
        if not crossing:
            return 0
        # keeping a tensor at `cap` reloads or more costs the core's weights at least what paying every crossing
        # tensor costs, so no choice of F below changes when such counts are only known to be at least `cap`
        total = sum(size for size, _ in crossing)
        cap = reloads + (-(-total // charged_weights) if charged_weights else 1)
        paid = 0
        kept: list[tuple[int, int]] = []  # (reloads when kept, or cap when at least cap; bytes)
        around = self.reach.around(piece)  # shared by the hulls of the piece with each tensor's layers
        for size, required in crossing:
            k = self._fused_reloads(piece | self.reach.hull(required, around), out, cap)
            if k is None:
                paid += size
            else:
                kept.append((k, size))
        best = sum(size for _, size in kept)  # F empty: every crossing tensor paid
        for k, _ in kept:
            best = min(best, sum(s for k2, s in kept if k2 > k) + charged_weights * max(0, k - reloads))
        return paid + best

    def _fused_reloads(self, hull: int, out: int, cap: int) -> int | None:
        """The fewest weight reloads of a group that holds ``hull`` and none of ``out``, or ``cap`` when they are at
        least ``cap``; None if none fits."""
        key = (hull, out)
        known = self._fused.get(key, ())  # (reloads, whether exact: else they are at least that) or None
        if known == () or known is not None and not known[1] and known[0] < cap:
            k = None if hull & out else self._fewest_reloads(*self._shape(hull, out), cap=cap)
            self._fused[key] = known = None if k is None else (k, k < cap)
        return None if known is None else min(known[0], cap)

    def _shape(self, group: int, out: int, ids: list[int] | None = None) -> tuple[list, list, int, int]:
        """What :meth:`_footprint` needs of a set of layers that a group holds while it holds none of ``out``:
        each member's rows rule (all ⌈H/Q⌉ rows if it has a reader in ``out``; what its readers in the set need;
        for each other reader, the least of ⌈H/Q⌉ and what that reader needs at its own fewest rows), each input's
        readers and channels (all when the input is in ``out`` or a network input, else its fewest), the set's
        weight bytes and largest weight block."""
        cm, readers_of, members, inputs = self.cm, self._readers, self._members, self._inputs
        order, ext = [], []
        weights = block = reads = 0
        for u in reversed(bits(group) if ids is None else ids):
            key = (u, group & readers_of[u], out & readers_of[u])
            member = members.get(key)
            if member is None:
                local_out = cm.is_output[u] or bool(out & readers_of[u])
                inside = [cm.reader_rule(c) for c in cm.consumers[u] if group >> c & 1]
                far = tuple(c for c in cm.consumers[u] if not (group | out) >> c & 1)
                members[key] = member = (u, cm.H[u], local_out, inside, cm.C[u] * cm.W[u], cm.saving[u],
                                         self._least_rows_for(u, far) if far else None)
            order.append(member)
            reads |= self._reads[u]
            weights += cm.weight_bytes[u]
            block = max(block, cm.block_bytes[u])
        for x in bits(reads & ~group):
            key = (x, group & readers_of[x], bool((self._network_inputs | out) >> x & 1))  # surely not in the group
            read = inputs.get(key)
            if read is None:
                inputs[key] = read = (cm.H[x], [cm.reader_rule(c) for c in cm.consumers[x] if group >> c & 1],
                                      (cm.C[x] if key[2] else cm.min_channels[x]) * cm.W[x])
            ext.append(read)
        return order, ext, weights, block

    def _least_rows_for(self, u: int, far: tuple[int, ...]) -> list[int]:
        """For each Q, the fewest rows member u keeps for readers ``far`` that the group may or may not hold."""
        key = (u, far)
        if key not in self._beyond:
            self._beyond[key] = rows_for(self.cm, u, far, self.least, self.qs).tolist()
        return self._beyond[key]

    def _footprint(self, order: list, ext: list, q: int) -> tuple[int, dict[int, int]]:
        """Words per sample at Q = q with every conv at full channels, and the words reducing each conv would
        save there (what Φ chooses from)."""
        cm = self.cm
        need = cm.rows_needed
        rows: dict[int, int] = {}
        words = 0
        saving: dict[int, int] = {}
        for u, h, local_out, inside, unit, sv, beyond in order:
            r = need(h, q, rows, inside) if inside else 0
            if local_out:
                top = -(-h // q)
                if top > r:
                    r = top
            if beyond is not None and beyond[q - 1] > r:
                r = beyond[q - 1]
            rows[u] = r
            words += unit * r
            if sv:
                saving[u] = sv * r
        for h, readers, unit in ext:
            words += unit * need(h, q, rows, readers)
        return words, saving

    def _fits(self, footprint: tuple[int, dict[int, int]], extra: int) -> bool:
        """Whether a footprint (:meth:`_footprint`'s words and savings at some Q), with Φ at its best, plus
        ``extra`` bytes fits the buffer."""
        cm = self.cm
        words, saving = footprint
        room = cm.buffer - extra
        if cm.word * words <= room:
            return True
        if not saving or cm.word * (words - sum(saving.values())) > room:
            return False
        if cm.word * (words - max(saving.values())) <= room:  # one conv alone may always keep reduced channels
            return True
        return cm.word * (words - self._largest_saving(saving)) <= room

    def _largest_saving(self, saving: dict[int, int]) -> int:
        """Φ's most words saved (:meth:`CostModel.largest_saving`), remembered: pieces grown one from another
        often ask it of the same convs and rows."""
        key = tuple(saving.items())
        known = self._saved.get(key)
        if known is None:
            self._saved[key] = known = self.cm.largest_saving(saving)
        return known

    def _fewest_reloads(self, order: list, ext: list, weights: int, block: int, cap: int | None = None) -> int | None:
        """How often, at least, weights cross DRAM in a group whose footprint is at least the pieces' at every Q,
        with at least ``weights`` bytes of weights and a block of ``block``, or ``cap`` when that is ``cap`` or more;
        None if no tiling fits."""
        cm = self.cm
        buffer, batch, top = cm.buffer, cm.batch, self.top
        known: dict[int, tuple[int, dict[int, int]]] = {}  # the footprint at each Q asked, computed once

        def at(q: int) -> tuple[int, dict[int, int]]:
            footprint = known.get(q)
            if footprint is None:
                known[q] = footprint = self._footprint(order, ext, q)
            return footprint

        if not self._fits(at(top), block):  # rows only shrink as Q grows
            return None
        if self._fits(at(top), weights):
            return 1  # resident at some Q
        if self._fits(at(1), block):  # one strip, the largest batch block that fits
            words, saving = at(1)
            one = cm.word * (words - (self._largest_saving(saving) if saving else 0))
            return -(-batch // min(batch, (buffer - block) // one))
        lo, hi = 2, top  # the fewest strips that fit: top fits, 1 does not
        if cap is not None:
            last = (cap - 1) // batch  # the most strips whose reloads stay below cap
            if last < 2 or last < top and not self._fits(at(last), block):
                return cap
            hi = min(hi, last)
        self._strips = self._least_strips(lambda q: self._fits(at(q), block), lo, hi)
        return self._strips * batch

    def _least_strips(self, fits: Callable[[int], bool], lo: int, hi: int) -> int:
        """The fewest strips in [lo, hi] at which ``fits``, given that it fits at ``hi`` (and only better at more
        strips). The pieces come grown one from another, so the search starts at the last piece's answer and
        doubles its steps away from it before it halves."""
        q = min(max(self._strips, lo), hi)
        step = 1
        if fits(q):
            hi = q
            while hi - step >= lo and fits(hi - step):
                hi -= step
                step *= 2
            lo = max(lo, hi - step + 1)
        else:
            lo = q + 1
            while lo + step - 1 < hi:
                if fits(lo + step - 1):
                    hi = lo + step - 1
                    break
                lo += step
                step *= 2
        while lo < hi:
            mid = (lo + hi) // 2
            if fits(mid):
                hi = mid
            else:
                lo = mid + 1
        return lo


class _Reloads:
    """What the coupling's reload cuts need of the windows' local costs (formulations/segment-bound.md, "Reload
    cuts"), window by window as the coupling numbers them: how often, at least, any group holding a set of layers
    moves its weights, and the reload rises of a window's pieces at such a floor (compiled only: under ``tiles``,
    or where the compiled cost does not take a window, there are none)."""

    def __init__(self, costs: list[_LocalCost]) -> None:
        self.costs = costs

    def least(self, group: int) -> int | None:
        """The fewest times the weights of any group holding ``group`` (a bitset of layer ids) cross DRAM, with
        nothing known of what else it holds; None when no group holding it fits (or under ``tiles``)."""
        cost = self.costs[0]
        return None if cost.cm.tiles is not None else cost._fewest_reloads(*cost._shape(group, 0))

    def levels(self, i: int, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """For each of window ``i``'s pieces ``masks`` (bitsets over its layers), the most reloads any choice of
        kept tensors leads to and its core's weights w, so that its reload rise at a floor K is w · max(0, K − most)
        (:meth:`~.compiled_window.WindowCosts.costs` asked once, at :data:`~.coupling.FAR_FLOOR`, above any group's
        reloads); None where the compiled cost does not take the window."""
        cost = self.costs[i]
        if cost.compiled is None:
            return None
        layers = np.array(bits(cost.window), dtype=np.int64)
        weights = np.empty(len(masks), dtype=np.int64)
        far = cost.compiled.costs(cost.core, cost.window, layers, masks, floor=FAR_FLOOR, charges=weights)
        if far is None:
            return None
        return np.where(weights > 0, FAR_FLOOR - far // np.maximum(weights, 1), FAR_FLOOR), weights


def _segment_dp(cm: CostModel, seg: int, cost: _LocalCost, deadline: Deadline,
                max_group: int | None, limit: int | None = None) -> tuple[int | None, int, Window | None, bool]:
    """The least local cost of a schedule of the window ``seg`` (None if the deadline passed first, or if the
    window has ``limit`` pieces or more; -1 if the window has no schedule, so neither has the network), the pieces
    costed (``limit`` when it had that many), the window with its graph of down-sets (:mod:`.downset_graph`) for
    the coupling, when it was solved, and whether ``limit`` stopped it."""
    layers = tuple(bits(seg))
    found = _window_pieces(cm, seg, layers, cost.reach, max_group, deadline, limit)
    if not found.complete:
        return None, len(found.masks) if found.capped else 0, None, found.capped
    pieces = len(found.masks)
    kept: list = []
    costs = _piece_costs(cost, seg, layers, found.masks, deadline, kept)
    if costs is None:
        return None, pieces, None, False
    fit = costs != NO_FIT
    position = {u: k for k, u in enumerate(layers)}
    preds = [sum(1 << position[p] for p in bits(cost.reach.pred[u] & seg)) for u in layers]
    graph = DownsetGraph.build(found.firsts[fit], found.masks[fit], found.needs[fit], preds, deadline)
    if graph is None:
        return None, pieces, None, False
    window = Window(layers, graph, costs[fit], Kept.of(kept, fit))
    solved = graph.solve(window.costs)
    return (-1, pieces, None, False) if solved is None else (solved[0], pieces, window, False)


def _segment_lp(cm: CostModel, seg: int, cost: _LocalCost, deadline: Deadline, max_group: int | None,
                limit: int | None = None) -> tuple[int | None, int, bool]:
    """A lower bound of the least local cost of a schedule of the window ``seg``: the LP relaxation of covering its
    layers by its pieces (formulations/segment-bound.md, "Windows by their LP"), or the best bound its column
    generation reached by ``deadline``; None when the deadline or ``limit`` stopped the enumeration first, −1 when
    a layer lies in no piece that fits; with the pieces costed and whether ``limit`` stopped it."""
    layers = tuple(bits(seg))
    wide = wide_pieces(cm, cost.reach, layers, max_group, deadline, limit) if len(layers) > WORD_LAYERS else None
    if wide is None:
        found = _window_pieces(cm, seg, layers, cost.reach, max_group, deadline, limit)
        wide = found.masks, found.complete, found.capped
    masks, complete, capped = wide
    if not complete:
        return None, len(masks) if capped else 0, capped
    costs = _piece_costs(cost, seg, layers, masks, deadline)
    if costs is None:
        return None, len(masks), False
    fit = costs != NO_FIT
    value = partition_bound(list(layers), piece_members(masks[fit], len(layers)), costs[fit], deadline)
    return value, len(masks), False


def _window_pieces(cm: CostModel, seg: int, layers: tuple[int, ...], reach: Reach, max_group: int | None,
                   deadline: Deadline, limit: int | None) -> WindowPieces:
    """The pieces of the window ``seg``: enumerated compiled (:mod:`.compiled_window`) where its bitsets fit a
    word and the model is ``strips``, else by the candidate space."""
    if len(layers) <= WORD_LAYERS:
        found = WindowPieces.of(cm, reach, layers, max_group, deadline, limit)
        if found is not None:
            return found
    space = CandidateSpace(cm, max_group=max_group, within=seg, deadline=deadline, floors=False, limit=limit)
    return WindowPieces.listed(space, layers)


#: Pieces the compiled local cost prices between two looks at the deadline.
COMPILED_CHUNK = 1 << 15


def _piece_costs(cost: _LocalCost, seg: int, layers: tuple[int, ...], masks: np.ndarray,
                 deadline: Deadline, kept: list | None = None) -> np.ndarray | None:
    """The local cost of each piece (``masks``: window-local bitsets), :data:`~.compiled_window.NO_FIT` where no
    group containing it fits; None when the deadline passed first. The compiled cost prices the pieces chunk by
    chunk where it takes the window (not under ``tiles``, nor one with a group whose conflicts of Φ have a component
    larger than it solves); the Python cost the others. ``kept``, when given, gets what the compiled cost finds of
    the stores item 4 lets the pieces keep (:meth:`~.compiled_window.WindowCosts.costs`, indices into ``masks``);
    the Python cost finds none."""
    if cost.compiled is not None:
        order = np.array(layers, dtype=np.int64)
        parts, found = [], []
        for start in range(0, len(masks), COMPILED_CHUNK):
            if deadline.expired():
                return None
            chunk: list = []
            part = cost.compiled.costs(cost.core, seg, order, masks[start:start + COMPILED_CHUNK], chunk)
            if part is None:
                break
            parts.append(part)
            found += [(rows + start, tensors, rises) for rows, tensors, rises in chunk if len(rows)]
        else:
            if kept is not None:
                kept.extend(found)
            return np.concatenate(parts) if parts else np.zeros(0, np.int64)
    costs = np.empty(len(masks), np.int64)
    for k, mask in enumerate(masks):
        if k % 256 == 255 and deadline.expired():
            return None
        c = cost(sum(1 << layers[i] for i in bits(piece_int(mask))))
        costs[k] = NO_FIT if c is None else c
    return costs if not deadline.expired() else None


def _local_compulsory(cm: CostModel, core: int) -> int:
    """What every schedule spends on a core whatever its groups: its weights once and its network outputs."""
    return sum(cm.weight_bytes[u] + (cm.tensor_bytes[u] if cm.is_output[u] else 0) for u in bits(core))


@dataclass(frozen=True)
class WindowResult:
    """One window's outcome: its optimum under the local cost (None when the deadline stopped its DP; −1 when the
    window has no schedule), the pieces costed, the down-sets visited, the window's overlap and whether it took in
    its core's feeders."""

    index: int
    value: int | None
    pieces: int
    downsets: int
    overlap: int = DEFAULT_OVERLAP
    fed: bool = True
    capped: bool = False  # not solved: it has as many pieces as it was allowed or more
    relaxed: bool = False  # value is its LP's bound (formulations/segment-bound.md, "Windows by their LP")


def local_costs(cm: CostModel, order: tuple[int, ...], reach: Reach | None = None
                ) -> Callable[[int, int], _LocalCost]:
    """The local cost c̃ of a window, given its core and the window as bitsets, for windows over the window order
    ``order``: what the windows' DPs price their pieces by, and what :mod:`.charges` charges a schedule by. The
    fewest rows each node keeps at each strip count are computed once for all windows."""
    position = {u: k for k, u in enumerate(order)}
    ordered = [sorted(cm.consumers[x], key=position.__getitem__) for x in range(cm.n)]
    qs = np.arange(1, max(cm.H) + 1, dtype=np.int64)
    least, reach = least_rows(cm, qs), reach or Reach.of(cm)
    compiled = WindowCosts.of(cm, reach, least, qs, ordered)
    return lambda core, window: _LocalCost(cm, core, window, qs, least, reach, ordered, compiled)


#: A number of processes, or a function that says how many may solve windows now (:func:`solve_windows`).
Jobs = int | Callable[[], int]
#: Seconds between looks at how many processes a function :data:`Jobs` allows, while windows are being solved.
JOBS_POLL = 0.5


def solve_windows(cm: CostModel, cores: Cores, overlap: int = DEFAULT_OVERLAP, deadline: Deadline = NEVER,
                  max_group: int | None = None, indices: Iterable[int] | None = None, fed: bool = True,
                  jobs: Jobs = 1, limit: int | None = None, relaxed: bool = False, memory: Memory | None = None
                  ) -> Iterator[tuple[WindowResult, Window | None]]:
    """Solve the window of each of ``cores`` (from :func:`segments`; or of those numbered ``indices``; with their
    feeders when ``fed``; a window with ``limit`` pieces or more is left unsolved, ``capped``) in turn, yielding
    each outcome as it is known, with the window when it was solved, so that a caller may stop early, collect the
    outcomes from another process (:mod:`.beside`) or couple the windows (:mod:`.coupling`). With ``jobs`` above
    1, or a function of how many processes may run now (the process beside a search, whose caller frees its core
    once its own search stops; :mod:`.beside`), windows are solved in processes of their own, that many at once,
    where this process may fork and the deadline is on the wall clock; they are yielded in the same order, each the
    same as alone. With ``relaxed``, each window's value is its LP's bound instead of its DP's optimum
    (:func:`_segment_lp`), and no window is returned. With ``memory``, a window whose pieces the memory left would
    not hold, :data:`PIECE_BYTES` each, raises :class:`MemoryShort` once its enumeration has found that many (the
    processes solving windows at once share what is left)."""
    todo = list(range(len(cores)) if indices is None else indices)
    if deadline.expired():  # none will be solved: no processes to start (a fork of a process holding gigabytes of
        for index in todo:  # graphs takes seconds, and a widening past its deadline started a pool per stage)
            yield WindowResult(index, None, 0, 0, overlap, fed, False), None
        return
    if (callable(jobs) or jobs > 1) and len(todo) > 1 and can_fork() and deadline.clock is time.perf_counter:
        yield from _pooled(todo, jobs, cm, cores, overlap, deadline, max_group, fed, limit, relaxed, memory)
        return
    local_cost = local_costs(cm, cores.order, cores.reach)
    for index in todo:
        seg = cores.window(index, overlap, fed)
        cost = local_cost(cores.core(index), seg)
        allowed, short = _allowed(limit, memory)
        if deadline.expired():
            value, pieces, window, capped = None, 0, None, False
        elif relaxed:
            (value, pieces, capped), window = _segment_lp(cm, seg, cost, deadline, max_group, allowed), None
        else:
            value, pieces, window, capped = _segment_dp(cm, seg, cost, deadline, max_group, allowed)
        if capped and short:
            raise MemoryShort(f"window {index} has {pieces:,} pieces or more, more than the memory left holds")
        yield WindowResult(index, value, pieces, window.graph.states if window else 0, overlap, fed, capped,
                           relaxed), window


def _allowed(limit: int | None, memory: Memory | None) -> tuple[int | None, bool]:
    """The pieces a window may have (``limit``, or fewer where the memory left holds fewer: :class:`Memory`), and
    whether the memory set it; raises :class:`MemoryShort` when the memory left holds not one piece."""
    held = memory.items(PIECE_BYTES) if memory is not None else None
    if held is None or (limit is not None and limit <= held):
        return limit, False
    if held < 1:
        raise MemoryShort("the memory left holds no window")
    return held, True


def _pooled(todo: list[int], jobs: Jobs, cm: CostModel, cores: Cores, overlap: int, deadline: Deadline,
            max_group: int | None, fed: bool, limit: int | None, relaxed: bool, memory: Memory | None
            ) -> Iterator[tuple[WindowResult, Window | None]]:
    """:func:`solve_windows` in a pool of forked processes, at most ``jobs`` (or ``jobs()``, looked at every
    :data:`JOBS_POLL` seconds) windows at once, started and yielded in the order of ``todo``."""
    allowed = jobs if callable(jobs) else lambda: jobs
    most = (os.cpu_count() or 1) if callable(jobs) else jobs  # a process for each core at most
    shared = replace(memory, sharing=min(most, len(todo))) if memory is not None else None
    pool = ProcessPoolExecutor(min(most, len(todo)), mp_context=multiprocessing.get_context("fork"))
    started: dict[int, Future] = {}
    waiting = iter(todo)
    done = False
    try:
        for index in todo:
            while index not in started or not started[index].done():
                running = [future for future in started.values() if not future.done()]
                if len(running) < max(1, allowed()):
                    following = next(waiting, None)
                    if following is not None:
                        started[following] = pool.submit(_solved_windows, cm, cores, overlap, deadline, max_group,
                                                         [following], fed, 1, limit, relaxed, shared)
                        continue
                wait(running, timeout=JOBS_POLL if callable(jobs) else None, return_when=FIRST_COMPLETED)
            yield started.pop(index).result()[0]
        done = True
    finally:
        # a pool whose windows are all solved is closed whole: one left to the interpreter's exit may print
        # "Exception ignored ... Bad file descriptor" there (seen once on 3.11, a race in concurrent.futures); a
        # caller that stops early, or Ctrl-C, leaves no window waiting to start and does not wait for those under way
        pool.shutdown(wait=done, cancel_futures=not done)


def _solved_windows(*args) -> list[tuple[WindowResult, Window | None]]:
    """:func:`solve_windows`' outcomes as a list, in one process (what a process of its pool runs)."""
    return list(solve_windows(*args))


def widen_windows(cm: CostModel, cores: Cores, solved: list[tuple[WindowResult, Window | None]],
                  deadline: Deadline, max_group: int | None = None, overlaps: Iterable[int] = WIDER_OVERLAPS,
                  jobs: Jobs = 1, memory: Memory | None = None) -> Iterator[tuple[WindowResult, Window]]:
    """Solve wider windows of the same cores, first each core's with its feeders where it has none, then overlap by
    overlap, core by core (those whose narrower window had the fewest pieces first, in two passes:
    :func:`_smaller_first`), until ``deadline``, yielding
    each that proves at least as much as the window its core has (``solved``: every window solved and with a
    schedule, as :func:`solve_windows` gave them), to take its place. A wider window seldom proves more alone, but
    it shares more pairs of layers with its neighbours, which the coupling makes agree. Any window that holds its
    core gives a bound, whichever windows the other cores have, and so does the coupling of any such windows
    (formulations/segment-bound.md, "Wider windows"), so the bound never falls. A window the deadline stops
    changes nothing. ``jobs`` processes solve each stage's windows at once, and ``memory`` guards each
    (:func:`solve_windows`)."""
    current = {result.index: result for result, _ in solved}
    for stage in (None, *overlaps):  # None: each core's own overlap, with its feeders
        at = {i: current[i].overlap if stage is None else stage for i in current}
        grows = sorted((i for i in current if at[i] >= current[i].overlap
                        and cores.window(i, at[i]) != cores.window(i, current[i].overlap, current[i].fed)),
                       key=lambda i: (current[i].pieces, i))  # the cheapest first: a deadline then stops fewer
        for overlap in sorted({at[i] for i in grows}):
            for result, window in _smaller_first(cm, cores, overlap, deadline, max_group,
                                                 [i for i in grows if at[i] == overlap], jobs, memory):
                if result.value is None:  # the deadline stopped it (one solved at once may still finish)
                    continue
                if result.value >= current[result.index].value:  # as much alone, and more shared with neighbours
                    current[result.index] = result
                    yield result, window


def _smaller_first(cm: CostModel, cores: Cores, overlap: int, deadline: Deadline, max_group: int | None,
                   todo: list[int], jobs: Jobs, memory: Memory | None = None
                   ) -> Iterator[tuple[WindowResult, Window | None]]:
    """:func:`solve_windows` over the windows numbered ``todo`` (with their feeders) in two passes: first each that
    has fewer than :data:`FIRST_PASS_PIECES` pieces, then, in the same order, those that had more. How many pieces a
    window has is known only once it is enumerated, and a few windows have ten times the pieces of most; put off,
    they stop no smaller window when the deadline comes (formulations/segment-bound.md, "Merged cores")."""
    later = []
    for result, window in solve_windows(cm, cores, overlap, deadline, max_group, todo, jobs=jobs,
                                        limit=FIRST_PASS_PIECES, memory=memory):
        if result.capped:
            later.append(result.index)
        else:
            yield result, window
    yield from solve_windows(cm, cores, overlap, deadline, max_group, later, jobs=jobs, memory=memory)


def merge_windows(cm: CostModel, cores: Cores, solved: list[tuple[WindowResult, Window | None]],
                  deadline: Deadline, max_group: int | None = None, size: int = MERGED_SEGMENT,
                  overlap: int = MERGED_OVERLAP, jobs: Jobs = 1, memory: Memory | None = None
                  ) -> Iterator[tuple[Cores, list[tuple[WindowResult, Window | None]]]]:
    """Join consecutive cores into cores of at most ``size`` layers (:meth:`Cores.merged`) and solve the window of
    each joined core that joins two or more (``overlap`` layers on either side, with its feeders), those whose
    cores' windows had the fewest pieces first, until ``deadline``. Each that proves at least as much as the
    windows of the cores it joins (``solved``, every window solved and with a schedule) takes their place, and the
    cores and windows so far are then yielded: the cores still partition the layers, so they give a bound, and so
    does the coupling of their windows (formulations/segment-bound.md, "Merged cores"). A window the deadline
    stops changes nothing. ``jobs`` processes solve the windows at once, and ``memory`` guards each
    (:func:`solve_windows`)."""
    joined, runs = cores.merged(cm, size)
    members = [range(first, last + 1) for first, last in runs]  # the cores each joined core joins
    taken: dict[int, tuple[WindowResult, Window | None]] = {}
    todo = sorted((j for j, joins in enumerate(members) if len(joins) > 1),
                  key=lambda j: (sum(solved[k][0].pieces for k in members[j]), j))
    for result, window in _smaller_first(cm, joined, overlap, deadline, max_group, todo, jobs, memory):
        j = result.index
        if result.value is not None and result.value >= sum(solved[k][0].value for k in members[j]):
            taken[j] = (result, window)
            yield _mixed(cores, joined, runs, solved, taken)


#: What :func:`relax_windows` found: the joined cores, the runs of the present cores each joins, and the windows of
#: the joined cores bounded by their LP so far, by index.
Relaxed = tuple[Cores, tuple[tuple[int, int], ...], dict[int, WindowResult]]
#: Cores and their windows, as :func:`solve_windows` gives them: a state of the widening.
State = tuple[Cores, list[tuple[WindowResult, Window | None]]]


def relax_windows(cm: CostModel, cores: Cores, solved: list[tuple[WindowResult, Window | None]], deadline: Deadline,
                  max_group: int | None = None, size: int = RELAXED_SEGMENT, jobs: Jobs = 1,
                  memory: Memory | None = None) -> Iterator[Relaxed]:
    """Join consecutive cores into cores of at most ``size`` layers (:meth:`Cores.merged`) and bound the window of
    each joined core that joins two or more (overlap 0, with its feeders, at most :data:`RELAXED_PIECES` pieces,
    and whose cores' windows in ``solved`` have less than a quarter of that) by its LP (:func:`_segment_lp`), those
    whose cores' windows have the fewest pieces first, until ``deadline``; yielding what is known after each
    (formulations/segment-bound.md, "Windows by their LP"), ``memory`` guarding each (:func:`solve_windows`).
    :func:`with_relaxed` puts them in place of the cores they join."""
    joined, runs = cores.merged(cm, size)
    members = [range(first, last + 1) for first, last in runs]
    apart = [sum(solved[k][0].pieces for k in joins) for joins in members]
    todo = sorted((j for j, joins in enumerate(members) if len(joins) > 1 and 4 * apart[j] < RELAXED_PIECES),
                  key=lambda j: (apart[j], j))  # the cheapest first, as in every stage: a deadline then stops fewer
    found: dict[int, WindowResult] = {}
    for result, _ in solve_windows(cm, joined, MERGED_OVERLAP, deadline, max_group, todo, jobs=jobs,
                                   limit=RELAXED_PIECES, relaxed=True, memory=memory):
        if result.value is not None and result.value >= 0:
            found[result.index] = result
            yield joined, runs, dict(found)


def with_relaxed(cores: Cores, solved: list[tuple[WindowResult, Window | None]], relaxed: Relaxed) -> State | None:
    """The partition with each window bounded by its LP (``relaxed``, over the joined cores of ``cores``) in place
    of the cores it joins where it proves at least what their windows in ``solved`` prove, with every core's window,
    as in :func:`merge_windows`; None when none does."""
    joined, runs, found = relaxed
    taken = {j: (result, None) for j, result in found.items()
             if result.value >= sum(solved[k][0].value for k in range(runs[j][0], runs[j][1] + 1))}
    return _mixed(cores, joined, runs, solved, taken) if taken else None


def _mixed(cores: Cores, joined: Cores, runs: tuple[tuple[int, int], ...],
           solved: list[tuple[WindowResult, Window | None]], taken: dict[int, tuple[WindowResult, Window | None]]
           ) -> tuple[Cores, list[tuple[WindowResult, Window | None]]]:
    """The partition with the joined cores ``taken`` (by index in ``joined``, with their windows) in place of the
    cores of ``cores`` they join, and every core's window, numbered in the new partition."""
    spans, feeders, joins, now = [], [], [], []
    first = cores.joins or (1,) * len(cores)  # how many cores of the first cut each present core joins
    for j, (a, b) in enumerate(runs):
        parts = [(joined, j, taken[j], sum(first[a:b + 1]))] if j in taken else \
            [(cores, k, solved[k], first[k]) for k in range(a, b + 1)]
        for owner, k, (result, window), count in parts:
            now.append((replace(result, index=len(spans)), window))
            spans.append(owner.spans[k])
            feeders.append(owner.feeders[k] if owner.feeders else ())
            joins.append(count)
    return Cores(cores.order, tuple(spans), cores.reach, tuple(feeders) if cores.feeders else (), tuple(joins)), now


def couple_windows(cm: CostModel, cores: Cores, solved: list[tuple[WindowResult, Window | None]],
                   deadline: Deadline = NEVER, rounds: int = COUPLING_ROUNDS, jobs: Jobs = 1,
                   steps: Steps = FIRST_STEPS, planes: bool = False, reload_cuts: int | None = RELOAD_CUTS,
                   upper: int | None = None) -> Coupled | None:
    """Up to ``rounds`` rounds of the coupling (:mod:`.coupling`) of the windows of ``cores``, as
    :func:`solve_windows` gave them, within ``deadline``, ``jobs`` processes solving the windows of each round
    (the number when it starts), its steps by ``steps``, with cutting planes once the steps are spent (``planes``) and
    at most ``reload_cuts`` reload cuts leveled per window (None: no limit), fixing pieces by ``upper`` when given
    (:mod:`.coupling`); None unless every
    window was solved (and has a schedule). A window bounded by its LP (``relaxed``) holds no multiplier: its bound
    is added as it is (formulations/segment-bound.md, "Windows by their LP")."""
    if rounds <= 0 or len(solved) < len(cores) or not all(window or result.relaxed for result, window in solved) \
            or any(result.value is None or result.value < 0 for result, _ in solved):
        return None
    fixed = sum(result.value for result, _ in solved if result.relaxed)
    local_cost = local_costs(cm, cores.order, cores.reach)
    reloads = _Reloads([local_cost(cores.core(result.index), cores.window(result.index, result.overlap, result.fed))
                        for result, window in solved if window])
    coupled = couple(cm, [window for _, window in solved if window],
                     sum(result.value for result, _ in solved) - fixed, deadline, max_rounds=rounds,
                     jobs=jobs() if callable(jobs) else jobs, steps=steps, reloads=reloads, planes=planes,
                     reload_cuts=reload_cuts, upper=None if upper is None else upper - fixed)
    return replace(coupled, bytes=coupled.bytes + fixed)


def assemble(cm: CostModel, cores: Cores, results: Iterable[WindowResult], seconds: float,
             coupling: Coupled | None = None, memory_short: bool = False) -> SegmentBound:
    """The bound from the windows' outcomes: Σ of the finished windows' optima, and each other core's local
    compulsory traffic (its weights once and its network outputs), so that any subset of outcomes gives a bound;
    or the coupled windows' bound (``coupling``, from every window solved) where larger; ``memory_short`` as the
    widening says (:func:`widened`)."""
    known = {r.index: r for r in results}
    per, done = [], []
    feasible = True
    for index in range(len(cores)):
        value = known[index].value if index in known else None
        done.append(value is not None)
        feasible = feasible and value != -1
        per.append(value if value is not None and value >= 0 else _local_compulsory(cm, cores.core(index)))
    crossing = cores.crossing(cm)
    return SegmentBound(bytes=max(sum(per), coupling.bytes if coupling else 0), segments=cores.ends(),
                        order=cores.order, per_segment=tuple(per), finished=tuple(done), feasible=feasible,
                        crossing_bytes=sum(crossing[last] for _, last in cores.spans[:-1]),
                        pieces=sum(r.pieces for r in known.values()),
                        downsets=sum(r.downsets for r in known.values()), seconds=seconds, coupling=coupling,
                        overlaps=tuple(known[i].overlap if i in known else 0 for i in range(len(cores))),
                        feeders=sum(cores.feeders_in(i, r.overlap) for i, r in known.items() if r.fed),
                        merged=sum(1 for i, joins in enumerate(cores.joins)
                                   if joins > 1 and not (i in known and known[i].relaxed)),
                        relaxed=sum(1 for r in known.values() if r.relaxed), memory_short=memory_short,
                        windows=tuple((cores.core(i), cores.window(i, known[i].overlap, known[i].fed)
                                       if done[i] else None) for i in range(len(cores))), instance=cm.instance)


def segment_bound(cm: CostModel, segment_layers: int = DEFAULT_SEGMENT, overlap: int = DEFAULT_OVERLAP,
                  deadline: Deadline = NEVER, max_group: int | None = None, *,
                  coupling_rounds: int = COUPLING_ROUNDS, order: str = "live", widen: bool = False,
                  feeders: bool = True, merge: int = MERGED_SEGMENT, relax: int = RELAXED_SEGMENT,
                  jobs: int = 1, memory: Memory | None = Memory(), planes: bool = False,
                  reload_cuts: int | None = RELOAD_CUTS, upper: int | None = None) -> SegmentBound:
    """Σ over cores of at most ``segment_layers`` consecutive layers of the window order ``order``
    (:func:`window_order`) of the optimum of each one's window (the core, ``overlap`` layers of the order on
    either side and, with ``feeders``, the producers of what the core reads from beyond them) under the local
    cost: a lower bound of every schedule's traffic, or of every schedule with at most ``max_group`` layers per
    group (module docstring). A window whose DP the deadline stops counts its core's
    weights and outputs instead, so the result is a bound whenever it returns. With every window solved, up to
    ``coupling_rounds`` rounds of the coupling (:mod:`.coupling`) raise it while the deadline lasts. With ``widen``
    and a deadline, the time left then goes to wider windows (:func:`widened`: with their feeders, of cores joined
    into cores of at most ``merge`` layers, of cores joined again into cores of at most ``relax`` layers bounded by
    their LP, at wider overlaps), coupled again at the end; with
    :data:`NESTED_SECONDS` or more, the first cut is then nested in the cut into cores of ``merge`` layers
    (:func:`nested_within`); the widening stops where the memory left (``memory``; None: unguarded) would not hold
    a window. ``jobs`` processes solve the windows at once (:func:`solve_windows`), the wider ones stage by
    stage. ``planes``, ``reload_cuts`` and ``upper`` go to every coupling (:func:`couple_windows`)."""
    began = time.perf_counter()
    within = nested_within(deadline.left(), widen and coupling_rounds > 0, merge)
    cores = segments(cm, segment_layers, order, feeders, within)
    solved = list(solve_windows(cm, cores, overlap, deadline, max_group, jobs=jobs))
    climb = dict(planes=planes, reload_cuts=reload_cuts, upper=upper)
    coupled = couple_windows(cm, cores, solved, deadline, coupling_rounds, jobs, **climb)
    short = False
    if widen and coupled is not None and deadline.bounded:
        cores, solved, coupled, short = widened(cm, cores, solved, coupled, deadline, max_group, coupling_rounds,
                                                merge=merge, relax=relax, jobs=jobs, memory=memory, climb=climb)
    return assemble(cm, cores, [result for result, _ in solved], time.perf_counter() - began, coupled, short)


def widened(cm: CostModel, cores: Cores, solved: list[tuple[WindowResult, Window | None]], coupled: Coupled,
            deadline: Deadline, max_group: int | None = None, coupling_rounds: int = COUPLING_ROUNDS,
            sent: Callable[[Cores, list[WindowResult]], object] = lambda cores, results: None,
            merge: int = MERGED_SEGMENT, relax: int = RELAXED_SEGMENT, jobs: Jobs = 1, memory: Memory | None = None,
            climb: dict | None = None) -> tuple[Cores, list[tuple[WindowResult, Window | None]], Coupled, bool]:
    """Wider windows in place of those of ``solved`` until the coupling's share of ``deadline`` is all that is
    left: first each core's with its feeders, then those of cores joined into cores of at most ``merge`` layers
    (:func:`merge_windows`; none when ``merge`` is 0), then those of cores joined again into cores of at most
    ``relax`` layers and bounded by their LP (:func:`relax_windows`; none when ``relax`` is 0), then wider overlaps
    (:func:`widen_windows`); and the cores they leave, their windows (each change passed to ``sent`` with the
    cores, as it comes) and the best of ``coupled`` and the coupling of the new windows in that share, with the
    windows bounded by their LP and then, in the time left, without them; ``jobs`` processes solve the wider windows
    of each stage at once. With ``memory``, the widening stops at the first window whose pieces the memory left
    would not hold (:func:`solve_windows`), and the last element says whether it did. ``climb`` (``planes``,
    ``reload_cuts``, ``upper``) goes to the couplings (:func:`couple_windows`)."""
    state = without = None
    short = False
    climb = climb or {}
    try:
        widening = deadline.sub(share=1 - WIDENED_COUPLING_SHARE)
        for state, without in _widening(cm, cores, solved, widening, max_group, merge, relax, jobs, memory):
            sent(state[0], [result for result, _ in state[1]])
    except MemoryShort:  # the windows taken in so far stay, and the time left goes to their coupling
        short = True
    if state is None:
        return cores, solved, coupled, short
    cores, solved = state
    # windows bounded by their LP hold no multipliers: coupled without them (in place of their cores' windows) the
    # others may prove more, so those are coupled too in the time the coupling with them leaves, and the better kept
    again = couple_windows(cm, cores, solved, deadline, coupling_rounds, jobs, NEAR_STEPS, **climb)
    if without and not deadline.expired():
        other = couple_windows(cm, *without, deadline, coupling_rounds, jobs, NEAR_STEPS, **climb)
        if other is not None and (again is None or other.bytes > again.bytes):
            again = other
    return cores, solved, again if again is not None and again.bytes > coupled.bytes else coupled, short


def _widening(cm: CostModel, cores: Cores, solved: list[tuple[WindowResult, Window | None]], deadline: Deadline,
              max_group: int | None, merge: int, relax: int, jobs: Jobs = 1, memory: Memory | None = None
              ) -> Iterator[tuple[State, State | None]]:
    """The cores and their windows after each change :func:`widened` makes, in its order, until ``deadline``: with
    the windows bounded by their LP in place of the cores they join once there are such (:func:`with_relaxed`),
    and then also the cores and windows without them (else None)."""
    solved = list(solved)
    relaxed: Relaxed | None = None

    def shown() -> tuple[State, State | None]:
        mixed = with_relaxed(cores, solved, relaxed) if relaxed else None
        return (mixed, (cores, solved)) if mixed else ((cores, solved), None)

    def replaced(overlaps: Iterable[int]) -> Iterator[tuple[State, State | None]]:
        """Each wider window :func:`widen_windows` yields for the present cores, put in its core's place."""
        for result, window in widen_windows(cm, cores, solved, deadline, max_group, overlaps, jobs, memory):
            solved[result.index] = (result, window)
            yield shown()

    yield from replaced(())
    for cores, solved in merge_windows(cm, cores, solved, deadline, max_group, merge, jobs=jobs, memory=memory) \
            if merge else ():
        yield shown()
    relaxing = relax_windows(cm, cores, solved, deadline.sub(share=RELAXED_SHARE), max_group, relax, jobs,
                             memory) if relax else ()
    for relaxed in relaxing:
        yield shown()
    yield from replaced(WIDER_OVERLAPS)  # its first stage, the feeders', has nothing left to do


def lower_bound(instance: Instance, *, time_limit: float | None = None, max_group: int | None = None,
                segment_layers: int = DEFAULT_SEGMENT, overlap: int = DEFAULT_OVERLAP,
                order: str = "live", widen: bool = True, feeders: bool = True,
                merge: int = MERGED_SEGMENT, relax: int = RELAXED_SEGMENT, jobs: int = 1,
                memory: Memory | None = Memory(), planes: bool = False,
                reload_cuts: int | None = RELOAD_CUTS, upper: int | None = None) -> SegmentBound:
    """The segment bound of ``instance`` (``oo.lower_bound``, ``optimus-opt bound``): no schedule moves fewer
    bytes, or none with at most ``max_group`` layers per group. Within ``time_limit`` seconds (none by default) the
    windows not finished count only their compulsory traffic, so what returns is a bound either way; with every
    window solved before it, the time left widens the windows (``widen``, :func:`widened`). ``feeders`` (the
    default) lets each window take in the producers of the tensors its core reads from beyond it (:class:`Cores`);
    widening, after the feeders, joins consecutive cores into cores of at most ``merge`` layers (0: never), then
    into cores of at most ``relax`` layers bounded by their LP (0: never), and stops where the memory left
    (``memory``, :class:`~optimus_opt.utils.memory.Memory`; None: unguarded) would not hold a window's pieces.
    ``jobs`` processes solve the windows at once (the same bound, sooner on a machine with that many cores).
    ``planes`` lets the coupling go on by cutting planes once its subgradient steps are spent, and ``reload_cuts``
    caps the reload cuts leveled per window (None: no limit): more of both prove more, in more time
    (formulations/segment-bound.md, "The planes"). ``upper``, the bytes of a schedule (any number keeps the result a
    bound), lets the couplings fix the pieces no cheaper schedule uses, which makes their rounds faster; the result
    is then at most ``upper`` (formulations/segment-bound.md, "Fixing")."""
    if segment_layers < 1:
        raise SolverError(f"segment_layers must be at least 1, got {segment_layers}")
    if overlap < 0:
        raise SolverError(f"overlap must be at least 0, got {overlap}")
    if max_group is not None and max_group < 1:
        raise SolverError(f"max_group must be at least 1, got {max_group}")
    if merge < 0:
        raise SolverError(f"merge must be at least 0, got {merge}")
    if relax < 0:
        raise SolverError(f"relax must be at least 0, got {relax}")
    if jobs < 1:
        raise SolverError(f"jobs must be at least 1, got {jobs}")
    return segment_bound(CostModel(instance), segment_layers, overlap, Deadline.after(time_limit), max_group,
                         order=order, widen=widen, feeders=feeders, merge=merge, relax=relax, jobs=jobs,
                         memory=memory, planes=planes, reload_cuts=reload_cuts, upper=upper)
