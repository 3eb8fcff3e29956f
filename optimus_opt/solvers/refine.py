"""``refine``: the better of the ``optimus`` and ``efficient-s`` schedules, improved window by window
(:mod:`~optimus_opt.solvers.windows`: consecutive groups re-solved exactly by the down-set DP) and by moving single
layers between groups, until no window of the widest width (the ``window`` option,
:data:`~optimus_opt.solvers.windows.DEFAULT_WINDOW` layers) nor move improves it or the time limit passes. A local
optimum, ``feasible``; ``optimal`` only when one window held the whole schedule.

Measured on NASNet-A Mobile (498 layers, batch 4), where no exact solver finishes, with a 60 s limit: from
123,660,292 B (optimus) to 80,169,716 B at 128 KiB, from 86,935,332 B (efficient-s) to 50,335,076 B at 512 KiB and
from 47,954,852 B to 35,536,292 B at 1 MiB (formulations/refine.md)."""

from __future__ import annotations

from ..cost.cost_model import CostModel
from ..model.errors import SolverError
from ..utils import progress
from . import anytime
from .base import SolveOptions, Solver, SolverResult
from .windows import DEFAULT_WINDOW, FIRST_WIDTH, refine


class Refine(Solver):
    name = "refine"
    description = (f"optimus and efficient-s, the better improved by exact DP over windows of consecutive groups "
                   f"({FIRST_WIDTH} to {DEFAULT_WINDOW} layers) and by single-layer moves: a local optimum")
    space = ("schedules reached from the better heuristic schedule by re-solving windows of consecutive groups "
             "exactly and moving single layers (optimal only when one window held the whole schedule)")
    timed = True
    extra_options = ("window",)
    order = 55

    def search(self, cm: CostModel, options: SolveOptions) -> SolverResult:
        window = options.extra.get("window", DEFAULT_WINDOW)
        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            raise SolverError(f"option window: expected a positive number of layers, got {window!r}")
        runs = anytime.heuristic_runs(cm, options, options.deadline, report=True)
        origin, start = anytime.cheapest(runs)
        if not start.groups:
            return start
        report = progress.of(options)
        report.solver(f"refine (windows of {origin}'s groups)")
        report.update(incumbent=anytime.schedule_cost(start))
        out = refine(cm, start.groups, options.deadline, window=window, max_group=options.max_group)
        info = {"start": origin, "start_bytes": anytime.schedule_cost(start), **out.info()}
        if out.proven:
            return SolverResult(status="optimal", groups=out.groups, bound_bytes=out.cost, info=info)
        return SolverResult(status="feasible", groups=out.groups, info=info)
