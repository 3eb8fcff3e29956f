"""A window of consecutive groups re-solved by columns on demand instead of the down-set DP (formulations/refine.md,
"Windows by columns").

The window refinement (:mod:`.windows`) re-solves the layers U of consecutive groups of a schedule: any valid
schedule of U run in their place keeps the whole schedule valid and changes its cost by exactly the window's. The
down-set DP does that exactly, but its down-sets multiply with the parallel paths a window holds: on NASNet-A
Mobile at 128 KiB a window of the five stem groups (71 layers) has 1.6 million candidates and its DP does not end
in 300 s. The set-partitioning model does not enumerate down-sets: the LP relaxation over U's candidates, by column
generation (formulations/columns.md, with the cover rows of U's layers only), proves the window cannot improve when
its bound reaches the groups' cost; else the candidates that pass the reduced-cost test with the groups' cost as
the upper bound are the only ones a schedule of U at most as cheap can use, and CP-SAT over them (with the
level-based order of cpsat.md) finds the window's optimum. On the four stem groups of the best 128 KiB schedule
then known (54 layers, 549,327 candidates) it finds 275,968 B fewer in 5.3 s, which no DP window had found.
"""

from __future__ import annotations

import numpy as np

from ..cost.candidates import Candidate, CandidateSpace, Reach
from ..cost.cost_model import CostModel, Tiling, bits, mask_of
from ..utils.deadline import Deadline, OutOfTime
from . import columns as generation
from .compiled_window import WindowPieces
from .cpsat_model import project_solver, solve_interruptibly, state_partition
from .downset_graph import WORD_LAYERS
from .partition_model import in_order, partition_model


def solve_by_columns(cm: CostModel, window: int, now: int, deadline: Deadline, max_group: int | None = None
                     ) -> tuple[list[tuple[int, Tiling]] | None, bool]:
    """A schedule of the layers of ``window`` (a bitset: the union of consecutive groups of a valid schedule, whose
    cost is ``now``) as (bitset, tiling) groups in execution order when one costs less than ``now`` (else None),
    and whether the window was solved exactly before ``deadline``: the schedule is its optimum, or none costs less
    than ``now``. A schedule cheaper than ``now`` that CP-SAT did not prove optimal by the deadline is returned
    too, unproven."""
    from ortools.sat.python import cp_model

    space = window_space(cm, window, max_group, deadline)
    if space is None:
        return None, False
    try:
        pool = generation.Pool(cm, space, deadline)
        lp = generation.relax(pool, deadline, enough=now)
        if lp.stopped or lp.uncovered:
            return None, False
        if lp.bound_bytes() >= now:  # no schedule of the window is cheaper than its groups
            return None, True
        chosen = sorted(set(generation.kept(pool, lp, now, deadline)) | set(lp.columns))
        data = partition_model(cm, space, [pool.candidates[k] for k in chosen], [pool.tilings[k] for k in chosen],
                               deadline=deadline)
        model = cp_model.CpModel()
        x, t = state_partition(model, data, deadline)
        model.minimize(sum(c * x[k] for k, c in enumerate(data.costs)))
    except OutOfTime:
        return None, False
    solver = project_solver(1, 0, deadline)
    status = solver.status_name(solve_interruptibly(solver, model))
    if status not in ("OPTIMAL", "FEASIBLE"):
        return None, False
    groups = in_order(data, [k for k in range(len(x)) if solver.value(x[k])], lambda u: solver.value(t[u]))
    cost = sum(tiling.cost for _, tiling in groups)
    better = [(mask_of(members), tiling) for members, tiling in groups] if cost < now else None
    return better, status == "OPTIMAL"


def window_space(cm: CostModel, window: int, max_group: int | None, deadline: Deadline) -> CandidateSpace | None:
    """The candidates inside ``window`` (None when ``deadline`` passed first): enumerated compiled where the
    window fits a machine word under ``strips`` (the pieces of the segment bound's windows,
    :class:`~.compiled_window.WindowPieces`, are the same sets: every convex connected set that passes the
    footprint floor), else by the candidate space in Python.

    The compiled ones get a cost floor without the weight reloads (candidate-space.md, "The cost floor": the
    tensors they read from outside, the members that escape, all weights once), a lower bound of the full floor
    and so of the cost, which is all column generation asks of it."""
    layers = tuple(bits(window))
    found = None
    if len(layers) <= WORD_LAYERS:
        found = WindowPieces.of(cm, Reach.of(cm), layers, max_group, deadline, None)
    if found is None:
        space = CandidateSpace(cm, max_group=max_group, deadline=deadline, within=window)
        return space if space.complete else None
    if not found.complete:
        return None
    return CandidateSpace(cm, max_group=max_group, within=window, listed=_priced(cm, layers, found))


def _priced(cm: CostModel, layers: tuple[int, ...], found: WindowPieces) -> list[Candidate]:
    """The window's pieces (window-local bitsets) as candidates over the network's node ids, with their floors."""
    m = len(layers)
    masks = found.masks.astype(np.int64)
    held = [(masks >> k) & 1 for k in range(m)]  # membership of each window position
    inside = {u: k for k, u in enumerate(layers)}
    floor = np.zeros(len(masks), np.int64)
    for k, u in enumerate(layers):
        floor += cm.weight_bytes[u] * held[k]
        outward = sum(1 << inside[c] for c in cm.consumers[u] if c in inside)
        surely = cm.is_output[u] or any(c not in inside for c in cm.consumers[u])
        escapes = held[k] if surely else held[k] & ((outward & ~masks) != 0)
        floor += cm.tensor_bytes[u] * escapes
    readers: dict[int, int] = {}  # each tensor the window's layers read: the positions that read it
    for k, u in enumerate(layers):
        for x in set(cm.producers[u]):
            readers[x] = readers.get(x, 0) | 1 << k
    for x, who in readers.items():
        read = (masks & who) != 0
        if x in inside:
            read &= ((masks >> inside[x]) & 1) == 0
        floor += cm.tensor_bytes[x] * read
    # node-id bitsets from the window-local ones, a byte of positions at a time
    gmask = np.zeros(len(masks), object)
    greads = np.zeros(len(masks), object)
    for c in range(0, m, 8):
        part = ((masks >> c) & 0xFF).astype(np.int64)
        members = [[layers[c + j] for j in range(8) if c + j < m and b >> j & 1] for b in range(256)]
        gmask |= np.array([mask_of(ms) for ms in members], object)[part]
        greads |= np.array([mask_of({p for u in ms for p in cm.producers[u] if cm.network.is_layer(p)})
                            for ms in members], object)[part]
    sizes = sum(held)
    return [Candidate(mask=mask, first=layers[first], size=int(size), needs=reads & ~mask,
                      cost_floor=cm.value_floor(int(value)))
            for mask, first, size, reads, value in zip(gmask.tolist(), found.firsts.tolist(), sizes.tolist(),
                                                        greads.tolist(), floor.tolist())]
