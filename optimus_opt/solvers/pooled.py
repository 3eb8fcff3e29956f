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

import networkx as nx

from ..cost.candidates import bits
from ..cost.cost_model import CostModel
from ..cost.parts import Tiling
from ..utils.deadline import Deadline

Groups = Sequence[tuple[Sequence[int], Tiling]]


def pooled_schedule(cm: CostModel, pieces: Sequence[int], starts: Sequence[Groups],
                    deadline: Deadline) -> list[tuple[tuple[int, ...], Tiling]] | None:
    """The cheapest schedule, in execution order, whose groups are among ``pieces`` (bitsets of layer ids), the
    groups of ``starts`` (valid schedules) and the single layers, found by CP-SAT within ``deadline`` (seed 0, one
    worker: the same pool gives the same schedule); None when none is found in time."""
    from ortools.sat.python import cp_model

    pool = set(pieces) | {1 << u for u in cm.network.layer_ids}
    pool |= {sum(1 << u for u in members) for groups in starts for members, _ in groups}
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
        order = _in_order(cm, columns, chosen)
        if isinstance(order, list):
            return [columns[k] for k in order]
        cycles.append(sorted(order))


def _in_order(cm: CostModel, columns: list[tuple[tuple[int, ...], Tiling]], chosen: list[int]) -> list[int] | set:
    """The chosen columns in an execution order (by their first layer where free), or, when none exists, the set of
    columns on a cycle of groups that each read from the next."""
    group_of = {u: k for k in chosen for u in columns[k][0]}
    graph = nx.DiGraph()
    graph.add_nodes_from(chosen)
    graph.add_edges_from((group_of[p], k) for k in chosen for u in columns[k][0] for p in cm.producers[u]
                         if p in group_of and group_of[p] != k)
    if nx.is_directed_acyclic_graph(graph):
        return list(nx.lexicographical_topological_sort(graph, key=lambda k: columns[k][0][0]))
    return {k for edge in nx.find_cycle(graph) for k in edge[:2]}
