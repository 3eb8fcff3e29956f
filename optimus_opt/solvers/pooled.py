"""A schedule from the pieces of the coupled segment bound: a Lagrangian heuristic (formulations/segment-bound.md,
"A schedule from the windows").

Each round of the coupling (:mod:`.coupling`) solves every window of the segment bound exactly under costs moved by
the multipliers, and the pieces the windows choose are convex connected groups that fit and that a cheap schedule
of the window uses. Pooled over all rounds, with the groups of some valid schedules (the heuristics') and every
layer alone, they are the columns of a small set-partitioning model: each layer in exactly one chosen column, least
total cost. CP-SAT solves it in a second or two; when the chosen groups cannot run in any order (two of them each
need the other first, cost-model.md §3), a constraint that forbids that cycle of groups is added and it is solved
again. The result is a valid schedule no costlier than any whose groups are all in the pool, so no costlier than
the cheapest start.
"""

from __future__ import annotations

from typing import Sequence

from ..cost.candidates import bits
from ..cost.cost_model import CostModel
from ..cost.partition import quotient_cycle, quotient_order
from ..cost.parts import Tiling, mask_of
from ..utils.deadline import Deadline

Groups = Sequence[tuple[Sequence[int], Tiling]]


def pooled_schedule(cm: CostModel, pieces: Sequence[int], starts: Sequence[Groups],
                    deadline: Deadline) -> list[tuple[tuple[int, ...], Tiling]] | None:
    """The cheapest schedule, in execution order, whose groups are among ``pieces`` (bitsets of layer ids), the
    groups of ``starts`` (valid schedules) and the single layers, found by CP-SAT within ``deadline`` (seed 0, one
    worker: the same pool gives the same schedule); None when none is found in time."""
    from ortools.sat.python import cp_model

    pool = set(pieces) | {1 << u for u in cm.network.layer_ids}
    pool |= {mask_of(members) for groups in starts for members, _ in groups}
    columns: list[tuple[tuple[int, ...], Tiling]] = []
    for mask in sorted(pool):
        tiling = cm.best_tiling_of_mask(mask)
        if tiling is not None:
            columns.append((tuple(bits(mask)), tiling))
    cover: dict[int, list[int]] = {u: [] for u in cm.network.layer_ids}
    for k, (members, _) in enumerate(columns):
        for u in members:
            cover[u].append(k)
    cycles: list[list[int]] = []  # sets of columns that cannot all be chosen: their groups need each other first
    while True:
        left = deadline.left()
        if left is not None and left <= 0:
            return None
        model = cp_model.CpModel()
        x = [model.new_bool_var(f"x{k}") for k in range(len(columns))]
        for ks in cover.values():
            model.add_exactly_one(x[k] for k in ks)
        for cycle in cycles:
            model.add(sum(x[k] for k in cycle) <= len(cycle) - 1)
        model.minimize(sum(tiling.cost * x[k] for k, (_, tiling) in enumerate(columns)))
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = 0
        if left is not None:
            solver.parameters.max_time_in_seconds = left
        if solver.solve(model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        chosen = [k for k in range(len(columns)) if solver.value(x[k])]
        groups = [columns[k][0] for k in chosen]
        order = quotient_order(cm.network, groups)
        if order is not None:
            return [columns[chosen[j]] for j in order]
        cycles.append(sorted({chosen[j] for j in quotient_cycle(cm.network, groups)}))
