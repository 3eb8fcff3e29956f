"""``refine``: the heuristics' schedules (``optimus``, ``efficient-s``, ``greedy-merge``), improved window by window
(:mod:`~optimus_opt.solvers.windows`: consecutive groups re-solved exactly by the down-set DP), by moving single
layers between groups, by merging pairs of groups and by swapping branches between them, until no window of the
widest width (the ``window`` option, :data:`~optimus_opt.solvers.windows.DEFAULT_WINDOW` layers), move, merge nor
swap improves it or the time limit passes.
Each schedule, the cheapest first, is refined until it converges or its slice of the time limit passes (an equal
share of what is left; :func:`~optimus_opt.solvers.windows.refine_starts`), and the cheapest local optimum is
returned: a cheaper start does not always lead to the better optimum (SqueezeNet 1.0 at 1 MiB: greedy-merge's
4,815,248 B stays at 4,815,248 B, optimus's 7,460,240 B reaches the optimum, 4,442,000 B). A local optimum,
``feasible``; ``optimal`` only when one window held the whole schedule.

Measured on NASNet-A Mobile (498 layers, batch 4), where no exact solver finishes, in formulations/refine.md."""

from __future__ import annotations

from ..cost.cost_model import CostModel
from ..model.errors import SolverError
from ..utils import progress
from . import anytime
from .base import SolveOptions, Solver, SolverResult
from .windows import DEFAULT_WINDOW, FIRST_WIDTH, by_cost, refine_starts


class Refine(Solver):
    name = "refine"
    description = (f"optimus, efficient-s and greedy-merge, each improved in its share of the time by exact DP "
                   f"over windows of consecutive groups ({FIRST_WIDTH} to {DEFAULT_WINDOW} layers), single-layer "
                   f"moves, group merges and branch swaps: the cheapest local optimum")
    space = ("schedules reached from the heuristic schedules, cheapest first, by re-solving windows of consecutive "
             "groups exactly, moving single layers, merging pairs of groups and swapping branches between them "
             "(optimal only when one window held the whole schedule)")
    timed = True
    extra_options = ("window",)
    order = 55

    def search(self, cm: CostModel, options: SolveOptions) -> SolverResult:
        window = options.extra.get("window", DEFAULT_WINDOW)
        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            raise SolverError(f"option window: expected a positive number of layers, got {window!r}")
        runs = anytime.heuristic_runs(cm, options, options.deadline, report=True)
        starts = by_cost(runs)
        if not starts:
            return anytime.cheapest(runs)[1]
        report = progress.of(options)
        report.solver(f"refine (windows of the groups of {', '.join(name for name, _ in starts)})")
        report.update(incumbent=sum(t.cost for _, t in starts[0][1]))
        origin, out = refine_starts(cm, starts, options.deadline, window=window, max_group=options.max_group)
        info = {"start": origin, "start_bytes": sum(t.cost for _, t in dict(starts)[origin]),
                "starts": [name for name, _ in starts], **out.info()}
        if out.proven:
            return SolverResult(status="optimal", groups=out.groups, bound_bytes=out.cost, info=info)
        return SolverResult(status="feasible", groups=out.groups, info=info)
