"""``auto``: the best schedule a user can have within a stated time, with its proven bound (the CLI's default).

It runs the heuristics first (:func:`~optimus_opt.solvers.anytime.heuristic_runs`: the ``optimus`` recursion, the
``efficient-s`` baseline and ``greedy-merge``, together about 4 s on NASNet-A Mobile, the largest zoo network, and
well under a second on the others; none dominates), then an
exact solver over all valid schedules, warm-started from the cheapest heuristic schedule, for two thirds of the time
left (:data:`EXACT_SHARE` of :data:`DEFAULT_TIME_LIMIT` seconds unless ``time_limit`` says otherwise): ``cpsat``
when OR-Tools is installed, else ``exact-dp`` (which takes no warm start). When the exact solver has not proved
the optimum by then, its schedule and the heuristics' are improved window by window
(:func:`~optimus_opt.solvers.windows.refine_starts`: consecutive groups re-solved exactly, each schedule in its
share) in the rest of the time: on NASNet-A Mobile, where no exact solver finishes,
this is what makes the default command's schedule better than the heuristics'. It returns the cheapest schedule with

* status ``optimal`` when the exact solver proved it (its cost equals the proven bound), ``feasible`` when the
  limit stopped the proof (the bound the exact solver proved by then is kept, so the gap is known), ``infeasible``
  when the exact solver proved that no schedule exists, ``unknown`` when neither found one in time;
* ``solver_info.phases``: what each solver did (status, bytes, seconds), and ``solver_info.chosen``: whose
  schedule was returned.

With ``max_group`` every phase searches groups of at most that many layers, and the proof holds over that space
only (``solver_info.bound_scope``). Side constraints (``together``, ``apart``, ``max_groups``) are refused: the
heuristics cannot honour them; use ``cpsat`` or ``milp`` for them.
"""

from __future__ import annotations

import dataclasses
import time

from ..cost.cost_model import CostModel
from ..cost.schedule import Group, Schedule
from ..model.errors import SolverError
from ..utils import progress
from ..utils.deadline import Deadline
from . import anytime
from .base import SolveOptions, Solver, SolverResult
from .cpsat import CPSat
from .exact_dp import ExactDP
from .windows import by_cost, refine_starts

#: The time limit of ``auto`` when none is given, in seconds (the CLI's ``--help`` states it).
DEFAULT_TIME_LIMIT = 30.0
#: Below this many seconds left after the heuristic, the exact solver is not started (it could prove nothing), nor
#: the window refinement after it.
MIN_EXACT_SECONDS = 0.5
#: The share of the time left after the heuristics that the exact solver may use; the window refinement of the best
#: schedule so far has the rest when the exact solver did not prove the optimum.
EXACT_SHARE = 2 / 3


class Auto(anytime.Fallback, Solver):
    name = "auto"
    description = (f"the best schedule in a stated time (default {DEFAULT_TIME_LIMIT:g} s): optimus, efficient-s "
                   "and greedy-merge, then cpsat (exact-dp without OR-Tools) warm-started from the best, then refine "
                   "if that proved nothing; proven bound and status")
    space = "all valid schedules (convex connected groups), or groups of at most max_group layers"
    #: Its status is its exact phase's, but a study runs the phases' solvers themselves: not counted as exact.
    timed = threaded = composite = True
    order = 90

    def run_deadline(self, options: SolveOptions) -> Deadline:
        """One deadline for every stage: the run's, or :data:`DEFAULT_TIME_LIMIT` seconds when it has none."""
        return options.deadline if options.deadline.bounded else options.deadline.sub(DEFAULT_TIME_LIMIT)

    def search(self, cm: CostModel, options: SolveOptions) -> SolverResult:
        for key in ("together", "apart", "max_groups"):
            if options.extra.get(key):
                raise SolverError(f"auto takes no side constraint '{key}' (its heuristic cannot honour it); use "
                                  "cpsat or milp")
        limit = options.time_limit if options.time_limit is not None else DEFAULT_TIME_LIMIT
        deadline = self.run_deadline(options)
        report = progress.of(options)
        phases: list[dict] = []

        runs = anytime.heuristic_runs(cm, options, deadline, report=True)
        phases.extend(_phase(name, result, seconds) for name, result, seconds in runs)
        h_name, heuristic = anytime.cheapest(runs)
        h_cost = anytime.schedule_cost(heuristic)

        exact_cls = CPSat if CPSat.is_available() else ExactDP
        exact: SolverResult | None = None
        if deadline.left() >= MIN_EXACT_SECONDS:
            extra = {}
            if exact_cls is CPSat and heuristic.groups:
                extra["warm_start"] = _hint(cm, heuristic, h_name)
            report.solver(exact_cls.name + (f" (warm-started from {h_name})" if extra else ""))
            if h_cost is not None:
                report.update(incumbent=h_cost)
            t0 = time.perf_counter()
            exact = exact_cls().search(cm, dataclasses.replace(options, deadline=deadline.sub(share=EXACT_SHARE),
                                                               extra=extra))
            phases.append(_phase(exact_cls.name, exact, time.perf_counter() - t0, warm=h_name if extra else None))

        if (exact is None or exact.status not in ("optimal", "infeasible")) \
                and deadline.left() >= MIN_EXACT_SECONDS:
            h_name, heuristic = _refined(cm, options, deadline, runs, exact, exact_cls.name, phases)

        info = {"time_limit_s": limit, "exact_solver": exact_cls.name, "phases": phases}
        if exact is not None:
            info.update({k: v for k, v in exact.info.items() if k in ("space", "candidates", "columns", "bound")})
        segment = None
        if options.beside is not None and (exact is None or exact.status not in ("optimal", "infeasible")):
            segment = options.beside.bound(until=deadline)  # what it proved while the phases ran, or by the limit
            info.update(segment.info())
        return _combine(heuristic, h_name, exact, info, exact_cls.name, limit,
                        segment.bytes if segment is not None and segment.feasible else None)


def _refined(cm: CostModel, options: SolveOptions, deadline, runs: list, exact: SolverResult | None,
             exact_name: str, phases: list[dict]) -> tuple[str, SolverResult]:
    """The stopped exact solver's and the heuristics' schedules, cheapest first, each improved window by window in
    its share of the time (:func:`~optimus_opt.solvers.windows.refine_starts`), the cheapest result then with the
    windows growing until the deadline or until one holds the whole network, which then proves the optimum (the
    result's ``bound_bytes``); named "<whose> + refine". The cheapest heuristic's schedule, unchanged, when there is
    no schedule to start from."""
    starts = by_cost(([(exact_name, exact, 0.0)] if exact else []) + runs)
    if not starts:
        return anytime.cheapest(runs)
    progress.of(options).solver(f"refine (windows of the groups of {', '.join(name for name, _ in starts)})")
    name, out = refine_starts(cm, starts, deadline, widen=True, max_group=options.max_group)
    result = SolverResult(status="optimal" if out.proven else "feasible", groups=out.groups,
                          bound_bytes=out.cost if out.proven else None, info=out.info())
    phases.append(dict(_phase("refine", result, out.seconds), start=name, **out.info()))
    return f"{name} + refine", result


def _phase(name: str, result: SolverResult, seconds: float, *, warm: str | None = None) -> dict:
    phase = {"solver": name, "status": result.status, "dram_bytes": anytime.schedule_cost(result),
             "bound_bytes": result.bound_bytes, "seconds": round(seconds, 6)}
    if warm:
        phase["warm_start"] = warm
    if result.message:
        phase["message"] = result.message
    return phase


def _hint(cm: CostModel, result: SolverResult, solver: str) -> Schedule:
    """The heuristic's groups as a schedule, the form cpsat's ``warm_start`` takes."""
    inst = cm.instance
    return Schedule(instance=inst.name, solver=solver, status="feasible",
                    groups=tuple(Group.from_tiling(inst, members, tiling) for members, tiling in result.groups))


def _combine(heuristic: SolverResult, h_name: str, exact: SolverResult | None, info: dict, exact_name: str,
             limit: float, segment: int | None = None) -> SolverResult:
    """The cheaper schedule, with the best proven bound (the exact solver's, the refinement's proof, the segment
    bound computed beside them) and an honest status (see the module's docstring)."""
    h_cost = anytime.schedule_cost(heuristic)
    e_cost = anytime.schedule_cost(exact) if exact is not None else None
    bound = exact.bound_bytes if exact is not None and exact.status in ("optimal", "feasible") else None
    prover = exact_name
    if heuristic.status == "optimal" and heuristic.bound_bytes is not None:  # the refinement's one window proved it
        bound = max(bound or 0, heuristic.bound_bytes)
    if segment is not None and (bound is None or segment > bound):
        bound, prover = segment, "the segment bound"
        info["bound"] = "segment bound, computed beside the search (formulations/segment-bound.md)"
    if exact is not None and exact.status == "infeasible" and h_cost is None:
        info["chosen"] = None
        return SolverResult(status="infeasible", unplaced=exact.unplaced, info=info,
                            message=f"{exact_name} proved that no schedule exists: {exact.message}"
                            if exact.message else f"{exact_name} proved that no schedule exists")
    better = e_cost is not None and (h_cost is None or e_cost < h_cost or
                                     (e_cost == h_cost and exact.status == "optimal"))  # type: ignore[union-attr]
    if better:
        chosen, groups, cost = exact_name, exact.groups, e_cost  # type: ignore[union-attr]
    elif h_cost is not None:
        chosen, groups, cost = h_name, heuristic.groups, h_cost
    else:
        info["chosen"] = None
        why = "no exact solver ran (the heuristic used the whole limit)" if exact is None else \
            f"{exact_name}: {exact.message or exact.status}"
        return SolverResult(status="unknown", unplaced=heuristic.unplaced, info=info,
                            message=f"no schedule found within {limit:g} s: {h_name} found none ({heuristic.message}); "
                                    f"{why}. Raise --time-limit")
    info["chosen"] = chosen
    if bound is not None and cost <= bound:
        return SolverResult(status="optimal", groups=groups, bound_bytes=bound, info=info)
    if bound is not None:
        note = (f"not proven optimal within {limit:g} s: {prover} proves that no schedule moves less than "
                f"{bound:,} B, so this one is at most {(cost - bound) / bound:.2%} above the optimum; raise "
                "--time-limit to close the gap")
    elif exact is None:
        note = f"not proven optimal: the {limit:g} s limit left no time for {exact_name}; raise --time-limit"
    else:
        note = f"not proven optimal within {limit:g} s ({exact_name}: {exact.message or exact.status}); raise " \
               "--time-limit"
    return SolverResult(status="feasible", groups=groups, bound_bytes=bound, info=info, message=note)


__all__ = ["Auto", "DEFAULT_TIME_LIMIT"]
