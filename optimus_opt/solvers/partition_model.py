"""The set-partitioning model that ``cpsat`` and ``milp`` state over the candidate space (formulations/cpsat.md,
formulations/milp.md).

One 0/1 column x_S per feasible candidate group S with cost c_S (its best tiling's bytes, exact integers); every
layer is covered exactly once; the chosen groups must admit a topological order. Acyclicity uses one level t_u per
layer: layers of one group share a level, and an edge between two groups climbs at least one level. Because a group
is connected under the adjacency "an edge joins them or they read the same tensor", equal levels along the adjacent
pairs of a group make the whole group one level, so only those pairs need a same-group indicator

    y_uv = Σ_{S ∋ u, v} x_S,

not every pair of layers. This module builds the data; the back-ends state it in their own terms, and
setpartition.py runs them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..cost.candidates import Candidate, CandidateSpace, bits
from ..cost.cost_model import CostModel, Tiling
from ..utils.deadline import NEVER, Deadline


@dataclass(frozen=True)
class PartitionModel:
    """Columns, covers, adjacent pairs and edges of the set-partitioning model of one instance."""

    columns: tuple[Candidate, ...]
    tilings: tuple[Tiling, ...]
    members: tuple[tuple[int, ...], ...]
    needs: tuple[int, ...]
    layers: tuple[int, ...]
    cover: dict[int, list[int]]
    pairs: dict[tuple[int, int], list[int]]
    edges: tuple[tuple[int, int], ...]
    space: CandidateSpace
    #: A bound proven before the model was stated, over every schedule (not only these columns), with what it is:
    #: the LP relaxation's when the columns came from column generation (columns.py); a stopped back-end reports
    #: the larger of it and its own.
    proven: tuple[int, str] | None = None

    def stronger(self, bound: int | None, kind: str) -> tuple[int | None, str]:
        """The larger of a back-end's ``bound`` (of kind ``kind``) and :attr:`proven`, with its kind."""
        if self.proven is not None and (bound is None or self.proven[0] > bound):
            return self.proven
        return bound, kind

    @property
    def costs(self) -> list[int]:
        return [t.cost for t in self.tilings]

    def budget_rows(self, budgets) -> list[tuple[list[int], int]]:
        """Per budget of :class:`~optimus_opt.solvers.base.Budgets`, every column's amount of it (its tiling's
        added MACs, DRAM bytes or latency cycles) and the bound: Σ amount·x ≤ bound."""
        return [([getattr(t, field_) for t in self.tilings], bound) for _, field_, bound in budgets.items()]

    @property
    def levels(self) -> int:
        """Enough levels for any schedule: one per layer."""
        return len(self.layers)

    def uncovered(self) -> list[int]:
        return [u for u in self.layers if not self.cover[u]]


#: Candidates handled between two looks at the deadline while the model is built (a tiling takes well under a
#: millisecond, so the deadline is seen within a fraction of a second).
CHECK_EVERY = 64


def dominated_groups(cm: CostModel, space: CandidateSpace, deadline: Deadline = NEVER) -> set[int]:
    """Feasible candidates that some split of themselves runs at no greater cost.

    A layer u without producers in a group S (or without consumers in it) can run just before (or after) S − u,
    which stays convex; when S − u is a candidate, "u, then S − u" (or the reverse) replaces S in any schedule.
    With g(S) = min(cost(S), split(S)) and split(S) = min over such u of g(S − u) + g({u}), every S with
    split(S) ≤ cost(S) can be dropped: what g promises is always reachable with the groups kept (singletons are
    never dropped), so the optimum is unchanged. Raises :class:`~optimus_opt.utils.deadline.OutOfTime` once ``deadline``
    has passed.
    """
    g: dict[int, int] = {}
    dropped: set[int] = set()
    # under energy or latency the optima are told apart by DRAM bytes (formulations/energy.md §4): a split that
    # only ties may move more bytes, so only a strictly cheaper one drops a group
    beats = (lambda a, b: a < b) if cm.objective != "dram" else (lambda a, b: a <= b)
    what = f"tiling the {len(space):,} candidate groups"
    for k, cand in enumerate(sorted(space, key=lambda c: c.size)):
        if k % CHECK_EVERY == 0:
            deadline.check(what)
        mask = cand.mask
        split = None
        if cand.size > 1:
            for u in bits(mask):
                source = not space.pred[u] & mask
                sink = not any(mask >> c & 1 for c in cm.consumers[u])
                rest, single = g.get(mask & ~(1 << u)), g.get(1 << u)
                if (source or sink) and rest is not None and single is not None:
                    split = rest + single if split is None else min(split, rest + single)
        if split is not None and beats(split, cand.cost_floor):  # rule SP-2: dominated whatever its tiling costs
            dropped.add(mask)
            g[mask] = split
            continue
        tiling = cand.tiling(cm)
        if tiling is None:
            if split is not None:  # g(S) = split(S) (cost(S) is infinite): the split still replaces S
                g[mask] = split
            continue
        if split is not None and beats(split, tiling.cost):
            dropped.add(mask)
            g[mask] = split
        else:
            g[mask] = tiling.cost
    return dropped


def build_model(cm: CostModel, space: CandidateSpace, *, prune_dominated: bool = True,
                all_tilings: bool = False, deadline: Deadline = NEVER, options_of=None) -> PartitionModel:
    """Compute every candidate's best tiling and keep the feasible, undominated ones as columns (stable order).

    With ``prune_dominated``, a group that some split of itself runs at no greater cost (:func:`dominated_groups`)
    is not a column: the optimum is unchanged and the model is smaller. With ``all_tilings`` (the buffer as a
    decision), every tiling of :meth:`~optimus_opt.cost.cost_model.CostModel.tiling_options` is a column of its own,
    with the buffer it needs; dominance is then off. ``options_of`` (with ``all_tilings``) lists other (side
    value, tiling) pairs instead, e.g. :meth:`~optimus_opt.cost.cost_model.CostModel.recompute_options`. Raises :class:`~optimus_opt.utils.deadline.OutOfTime` once
    ``deadline`` has passed, in any of its loops.
    """
    dropped = dominated_groups(cm, space, deadline) if prune_dominated and not all_tilings else set()
    columns, tilings, needs = [], [], []
    what = f"tiling the {len(space):,} candidate groups"
    for k, cand in enumerate(space):
        if k % CHECK_EVERY == 0:
            deadline.check(what)
        if all_tilings:
            options = (options_of or cm.tiling_options)(bits(cand.mask))
        else:
            tiling = None if cand.mask in dropped else cand.tiling(cm)
            options = [] if tiling is None else [(0, tiling)]
        for need, tiling in options:
            columns.append(cand)
            tilings.append(tiling)
            needs.append(need)
    return partition_model(cm, space, columns, tilings, needs, deadline)


def partition_model(cm: CostModel, space: CandidateSpace, columns: list[Candidate], tilings: list[Tiling],
                    needs: list[int] | None = None, deadline: Deadline = NEVER,
                    proven: tuple[int, str] | None = None) -> PartitionModel:
    """The model whose columns are ``columns`` with their ``tilings`` (and the buffer each ``needs``; 0 by
    default): covers, same-group pairs and edges; ``proven`` as :attr:`PartitionModel.proven`. Raises
    :class:`~optimus_opt.utils.deadline.OutOfTime` once ``deadline`` has passed."""
    members = [tuple(bits(cand.mask)) for cand in columns]
    layers = space.rows
    cover: dict[int, list[int]] = {u: [] for u in layers}
    pairs: dict[tuple[int, int], list[int]] = {}
    adjacent = space.adj
    for k, group in enumerate(members):
        if k % CHECK_EVERY == 0:
            deadline.check(f"building the covers of the {len(members):,} columns")
        inside = columns[k].mask
        for u in group:
            cover[u].append(k)
            for v in bits(adjacent[u] & inside):
                if u < v:
                    pairs.setdefault((u, v), []).append(k)
    is_layer = set(layers)
    edges = tuple((p, u) for u in layers for p in sorted(set(cm.producers[u])) if p in is_layer)
    return PartitionModel(columns=tuple(columns), tilings=tuple(tilings), members=tuple(members),
                          needs=tuple(needs or [0] * len(columns)), layers=layers,
                          cover=cover, pairs=pairs, edges=edges, space=space, proven=proven)


def same_group_pairs(model: PartitionModel) -> list[tuple[int, int]]:
    """Adjacent pairs that some column holds together, in a stable order."""
    return sorted(model.pairs)


def in_order(data: PartitionModel, chosen: list[int], level) -> list[tuple[tuple[int, ...], Tiling]]:
    """The chosen columns as groups in execution order: by level (``level`` of a layer), then by first layer."""
    order = sorted(chosen, key=lambda k: (level(data.members[k][0]), data.members[k][0]))
    return [(data.members[k], data.tilings[k]) for k in order]
