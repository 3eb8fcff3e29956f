"""``refine``: the heuristics' schedules (``optimus``, ``efficient-s``, ``greedy-merge``), improved window by window
(:mod:`~optimus_opt.solvers.windows`: consecutive groups re-solved exactly by the down-set DP), by moving single
layers between groups and by merging pairs of groups, until no window of the widest width (the ``window`` option,
:data:`~optimus_opt.solvers.windows.DEFAULT_WINDOW` layers), move nor merge improves it or the time limit passes.
The cheapest schedule is refined first; while time is left, each next one is refined too once the one before has
converged, and the cheapest local optimum is returned: a cheaper start does not always lead to the better optimum
(SqueezeNet 1.0 at 1 MiB: greedy-merge's 4,815,248 B stays at 4,815,248 B, optimus's 7,460,240 B reaches the
optimum, 4,442,000 B). A local optimum, ``feasible``; ``optimal`` only when one window held the whole schedule.

Measured on NASNet-A Mobile (498 layers, batch 4), where no exact solver finishes, in formulations/refine.md."""

from __future__ import annotations

from ..cost.cost_model import CostModel
from ..model.errors import SolverError
from ..utils import progress
from . import anytime
from .base import SolveOptions, Solver, SolverResult
from .windows import DEFAULT_WINDOW, FIRST_WIDTH, Refinement, refine


class Refine(Solver):
    name = "refine"
    description = (f"optimus, efficient-s and greedy-merge, the best improved by exact DP over windows of "
                   f"consecutive groups ({FIRST_WIDTH} to {DEFAULT_WINDOW} layers), single-layer moves and group "
                   f"merges: a local optimum")
    space = ("schedules reached from the heuristic schedules, cheapest first, by re-solving windows of consecutive "
             "groups exactly, moving single layers and merging pairs of groups (optimal only when one window held the "
             "whole schedule)")
    timed = True
    extra_options = ("window",)
    order = 55

    def search(self, cm: CostModel, options: SolveOptions) -> SolverResult:
        window = options.extra.get("window", DEFAULT_WINDOW)
        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            raise SolverError(f"option window: expected a positive number of layers, got {window!r}")
        runs = anytime.heuristic_runs(cm, options, options.deadline, report=True)
        starts = sorted(((anytime.schedule_cost(result), k, name, result) for k, (name, result, _) in enumerate(runs)
                         if result.groups), key=lambda start: start[:2])  # cheapest first, then in run order
        if not starts:
            return anytime.cheapest(runs)[1]
        report = progress.of(options)
        best: tuple[str, int, Refinement] | None = None
        refined: list[str] = []
        stopped = False
        for cost, _, name, start in starts:
            if stopped or (best is not None and best[2].proven):
                break  # the deadline passed, or the optimum is proven: no further start
            report.solver(f"refine (windows of {name}'s groups)")
            report.update(incumbent=cost if best is None else min(cost, best[2].cost))
            out = refine(cm, start.groups, options.deadline, window=window, max_group=options.max_group)
            refined.append(name)
            stopped = out.stopped
            if best is None or out.cost < best[2].cost or (out.proven and not best[2].proven):
                best = (name, cost, out)
        assert best is not None
        origin, start_bytes, out = best
        info = {"start": origin, "start_bytes": start_bytes, "starts_refined": refined, **out.info(),
                "refine_stopped_by_time": stopped}
        if out.proven:
            return SolverResult(status="optimal", groups=out.groups, bound_bytes=out.cost, info=info)
        return SolverResult(status="feasible", groups=out.groups, info=info)
