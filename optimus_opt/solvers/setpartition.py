"""The set-partitioning solvers' shared search (``cpsat`` and ``milp``; formulations/cpsat.md, formulations/milp.md):
the candidate space, side constraints, columns on demand and the checks every back-end shares, over the model data
of partition_model.py."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import replace

from ..cost.candidates import CandidateSpace
from ..cost.cost_model import CostModel
from ..model.errors import SolverError
from ..utils import progress
from ..utils.deadline import Deadline, OutOfTime
from . import anytime
from . import columns as generation
from .base import SolveOptions, Solver, SolverResult
from .partition_model import PartitionModel, build_model, partition_model


class SetPartitionSolver(anytime.Fallback, Solver):
    """A back-end of the set-partitioning model: the candidate space, side constraints, dominance and the checks
    every back-end shares are done here; a subclass states and solves the model in :meth:`optimise`."""

    space = "convex connected groups, or groups of at most max_group layers"

    def search(self, cm: CostModel, options: SolveOptions) -> SolverResult:
        together, apart, max_groups = self.side_constraints(cm, options)
        deadline, reserve = anytime.exact_phase(options, len(cm.network.layer_ids))
        report = progress.of(options)  # the CLI's status line, or nothing
        generate = self.generates(options, max_groups)  # refuses a bad ``columns`` before any work
        space = anytime.candidate_space(cm, options, deadline, together, apart)
        info = {"space": space.describe(), "candidates": len(space), **reserve}
        side = (together, apart, max_groups)
        if not space.complete:
            why = f"{anytime.unfinished(space)} while enumerating candidate groups"
            return anytime.stopped(cm, options, info, why=why, side=side)
        try:
            if generate:
                return self.by_columns(cm, space, options, max_groups, deadline, info, side)
            report.phase("tiling the candidate groups")
            if options.budgets:  # each group's tiling becomes a decision: its tilings no other beats are columns
                metrics = [field_ for _, field_, _ in options.budgets.items()]
                data = build_model(cm, space, all_tilings=True, deadline=deadline,
                                   options_of=lambda members: [(0, t) for t in cm.frontier(members, metrics)])
            else:  # a split adds a group: the dominance pruning is unsound under a cap on the number of groups
                data = build_model(cm, space, prune_dominated=max_groups is None and options.extra.get("prune", True),
                                   deadline=deadline)
            info["columns"] = len(data.columns)
            uncovered = data.uncovered()
            if uncovered:
                return _unplaced(uncovered, info)
            report.update(columns=len(data.columns))
            report.phase("solving the set-partitioning model")
            return self.optimise(cm, data, options, max_groups, deadline, info)
        except OutOfTime as stop:
            return anytime.stopped(cm, options, info, side=side, why=f"time limit while {stop}")

    @staticmethod
    def generates(options: SolveOptions, max_groups: int | None) -> bool:
        """Whether the columns come from column generation (``columns="generate"``, the default) rather than from
        tiling every candidate (``columns="all"``): not under budgets (a group's tiling is then a decision), a cap
        on the number of groups or ``prune=False`` (every feasible candidate a column), which take the latter."""
        how = options.extra.get("columns", "generate")
        if how not in ("generate", "all"):
            raise SolverError(f"columns={how!r}: expected 'generate' (column generation) or 'all' (every "
                              "candidate tiled)")
        return how == "generate" and not options.budgets and max_groups is None and options.extra.get("prune", True)

    def by_columns(self, cm: CostModel, space: CandidateSpace, options: SolveOptions, max_groups: int | None,
                   deadline: Deadline, info: dict, side) -> SolverResult:
        """Columns on demand (formulations/columns.md): the LP relaxation by column generation gives a bound and
        prices; the model over the LP's own columns gives a schedule, whose cost U decides which candidates any
        schedule of cost at most U can hold; the model over those is solved exactly."""
        report = progress.of(options)
        report.phase("column generation")
        pool = generation.Pool(cm, space, deadline)
        lp = generation.relax(pool, deadline, report, threads=max(1, options.workers))
        bound = lp.bound_bytes()
        info.update(lp_rounds=lp.rounds, columns_generated=len(lp.columns), candidates_tiled=int(pool.tiled.sum()))
        if bound is not None:
            info["lp_bound"] = bound
        if lp.uncovered:
            return _unplaced(lp.uncovered, info)
        kind = "LP relaxation of the candidate columns by column generation" + (
            "" if lp.solved else " (a Lagrangian bound of the prices reached)")
        if lp.stopped:
            info["columns"] = len(lp.columns)
            return anytime.stopped(cm, options, info, why=f"time limit during {lp.stopped}", bound=bound,
                                   bound_kind=kind, side=side)
        info["lp_value"] = lp.lp_value
        try:
            return self._over_kept(cm, space, options, max_groups, deadline, info, pool, lp, (bound, kind))
        except OutOfTime as stop:  # the LP bound stands
            return anytime.stopped(cm, options, info, why=f"time limit while {stop}", bound=bound, bound_kind=kind,
                                   side=side)

    def _over_kept(self, cm: CostModel, space: CandidateSpace, options: SolveOptions, max_groups: int | None,
                   deadline: Deadline, info: dict, pool: generation.Pool, lp: generation.Relaxation,
                   proven: tuple[int, str]) -> SolverResult:
        """:meth:`by_columns` once the LP is solved: a schedule over its columns, the columns kept, the model."""
        report = progress.of(options)
        report.phase("solving the model over the LP's columns")
        first = self.optimise(cm, partition_model(cm, space, [pool.candidates[k] for k in lp.columns],
                                                  [pool.tilings[k] for k in lp.columns], deadline=deadline),
                              replace(options, extra={**options.extra, "anytime": False}), max_groups,
                              deadline.sub(share=0.5), restricted := {})
        upper = sum(t.cost for _, t in first.groups) if first.groups else None
        info["restricted"] = first.status
        report.phase("fixing columns by reduced cost")
        keep = generation.kept(pool, lp, upper, deadline)
        info.update(columns_kept=len(keep), candidates_tiled=int(pool.tiled.sum()))
        if first.status == "optimal" and set(keep) <= set(lp.columns):  # no other column can beat U
            info.update(restricted, columns=len(lp.columns))
            return SolverResult(status="optimal", groups=first.groups, bound_bytes=upper, info=info)
        chosen = sorted(set(keep) | set(lp.columns))
        data = partition_model(cm, space, [pool.candidates[k] for k in chosen], [pool.tilings[k] for k in chosen],
                               deadline=deadline, proven=proven)
        info["columns"] = len(chosen)
        report.update(columns=len(chosen))
        report.phase("solving the set-partitioning model")
        return self.optimise(cm, data, options, max_groups, deadline, info)

    @abstractmethod
    def optimise(self, cm: CostModel, data: PartitionModel, options: SolveOptions, max_groups: int | None,
                 deadline: Deadline, info: dict) -> SolverResult:
        """State the model in the back-end's terms, solve it and return the result (``info`` to be extended).

        Stating the model draws on ``deadline`` too (:meth:`~optimus_opt.utils.deadline.Deadline.check`, whose
        :class:`~optimus_opt.utils.deadline.OutOfTime` the caller turns into a stopped result); the back-end gets
        what is left (:meth:`~optimus_opt.utils.deadline.Deadline.budget`), read just before it starts."""


def _unplaced(layers: list[int], info: dict) -> SolverResult:
    """The result when some layers fit no group of the candidate space (the instance has no schedule)."""
    return SolverResult(status="infeasible", unplaced=layers, info=info,
                        message=f"{len(layers)} layer{'s' if len(layers) != 1 else ''} fit no group of the candidate "
                                "space")
