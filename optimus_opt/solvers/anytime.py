"""Anytime behaviour of the exact solvers: what ``exact-dp``, ``cpsat`` and ``milp`` return when a limit stops them.

An exact solver that runs out of time before it proves anything still knows two things worth reporting: a good
schedule (the ``warm_start`` the caller gave, else the best of the :data:`HEURISTICS`, run
on the spot: a few seconds even on NASNet) and a lower bound of every schedule (at least the compulsory traffic,
often better: the DP's frontier, the MILP's dual bound, CP-SAT's objective bound). So a study can always report a
gap. Such a result has status ``feasible``; ``solver_info.incumbent`` says where the schedule came from and
``solver_info.bound`` what the bound is. The segment bound (:mod:`~optimus_opt.solvers.segment_bound`) replaces
the solver's bound when it is larger (on NASNet-A Mobile at 128 KiB it is 51.6 MB where the compulsory traffic is
11.8 MB): computed from the run's start beside the search (:mod:`~optimus_opt.solvers.beside`) where a core is free,
else here, in :data:`SEGMENT_SHARE` of the time left before the schedule is refined.

The fallback schedule must lie in the solver's stated space: under ``max_group``, ``together``, ``apart`` or
``max_groups`` a heuristic schedule that breaks them is not used (the status stays ``unknown``).

The fallback's time comes out of the limit, not on top of it: the heuristics run to completion (they are what makes
a stopped result ``feasible``) and take no time limit of their own, so an exact solver that will need them stops its
exact phase early. :func:`exact_phase` keeps :data:`FALLBACK_SHARE` of the run's deadline back for them (more on
a large network: :data:`FALLBACK_SECONDS_PER_LAYER`), and the segment bound and the window refinement of their
schedule (:mod:`~optimus_opt.solvers.windows`) share what the heuristics leave of it, when a limit is set, the
fallback is on and no ``warm_start`` is given (``solver_info.fallback_reserve_s`` says how many seconds;
``solver_info.fallback_seconds`` how long the heuristics then took). A run that finishes its exact phase never runs
them; its result is the same as without the reserve unless it would have finished in the reserved
share. See formulations/exact-dp.md, "When a limit stops it".
"""

from __future__ import annotations

import functools
import time
from typing import Sequence

from ..cost.candidates import CandidateSpace
from ..cost.cost_model import CostModel, Tiling, mask_of
from ..cost.schedule import Schedule, check_structure, group_ids
from ..model.errors import OptimusError, SolverError
from ..utils import progress
from ..utils.deadline import NEVER, Deadline
from . import beside
from .base import SolveOptions, SolverResult
from .segment_bound import segment_bound, segment_for
from .windows import Refinement, refine

Groups = Sequence[tuple[Sequence[int], Tiling]]


#: The share of what is left after the heuristics that a stopped exact solver gives the segment bound; the window
#: refinement of its schedule has the rest.
SEGMENT_SHARE = 0.5
#: The share of what is left of a run's deadline that an exact solver keeps for its fallback heuristics (10 %), at
#: least :data:`FALLBACK_SECONDS_PER_LAYER` per layer and at most half of what is left: on NASNet-A Mobile, the
#: largest zoo network (498 layers), the three heuristics take 3.1 s at 128 KiB and 4.0 s at 512 KiB, more than a
#: tenth of a 10 s limit.
FALLBACK_SHARE = 0.1
FALLBACK_SECONDS_PER_LAYER = 0.008
#: The heuristics whose best schedule a stopped exact solver (and ``auto``) starts from, in the order they run.
HEURISTICS = ("optimus", "efficient-s", "greedy-merge")
#: The most candidate groups an exact solver enumerates (option ``max_candidates``; None: no limit). Every zoo
#: network the exact solvers finish has at most 337,696 (Inception-v3 at 1 MiB under tiles); NASNet-A Mobile
#: passes a million in about a minute and never finishes. A search that reaches the limit stops there, and so gives
#: its core and its time to the fallback (formulations/exact-dp.md, "The candidate limit").
MAX_CANDIDATES = 1_000_000


class Fallback:
    """Mixed into the solvers a limit may stop (the exact ones and ``auto``): from the start of a run with a limit,
    the work their fallback needs, the heuristics' schedule (unless a ``warm_start`` stands in for it; ``auto`` runs
    the heuristics first itself) and the segment bound, is done in another process (:mod:`.beside`)."""

    def start_beside(self, cm: CostModel, options: SolveOptions) -> beside.Beside | None:
        runs = None
        if self.exact and not isinstance(options.extra.get("warm_start"), Schedule):  # type: ignore[attr-defined]
            runs = functools.partial(heuristic_runs, cm, SolveOptions(max_group=options.max_group, seed=options.seed))
        return beside.start(cm, self.run_deadline(options), workers=options.workers,  # type: ignore[attr-defined]
                            max_group=options.max_group, heuristics=runs)


def exact_phase(options: SolveOptions, layers: int = 0) -> tuple[Deadline, dict]:
    """The deadline of an exact solver's own phases (enumeration, tiling, model, search), and what goes into its
    ``solver_info`` about it: the run's deadline less a reserve kept for the fallback heuristics (the larger of
    :data:`FALLBACK_SHARE` of what is left and :data:`FALLBACK_SECONDS_PER_LAYER` per layer of the network's
    ``layers``, at most half of what is left), when the run has a limit and may need them (``anytime`` on and no
    ``warm_start``); else the run's deadline, unchanged. When the heuristics run beside the search
    (:mod:`~optimus_opt.solvers.beside`) the reserve is :data:`FALLBACK_SHARE` alone, for the refinement."""
    deadline = options.deadline
    if not deadline.bounded or not options.extra.get("anytime", True) \
            or isinstance(options.extra.get("warm_start"), Schedule):
        return deadline, {}
    left = deadline.left()
    if options.beside is not None and options.beside.heuristics is not None:  # they run beside: the reserve is the refinement's
        layers = 0
    reserve = min(0.5 * left, max(FALLBACK_SHARE * left, FALLBACK_SECONDS_PER_LAYER * layers))
    return deadline.sub(left - reserve), {"fallback_reserve_s": round(reserve, 6)}


def candidate_space(cm: CostModel, options: SolveOptions, deadline: Deadline, together: list[int] = (),
                    apart: list[int] = ()) -> CandidateSpace:
    """The candidate groups of an exact solver's search (candidate-space.md) with the side constraints, enumerated
    until ``deadline`` or the options' ``max_candidates`` (:data:`MAX_CANDIDATES` by default), shown on the
    progress line; :func:`unfinished` says which stopped it."""
    limit = options.extra.get("max_candidates", MAX_CANDIDATES)
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise SolverError(f"max_candidates must be a positive integer or None (no limit), got {limit!r}")
    report = progress.of(options)  # the CLI's status line, or nothing
    report.phase("enumerating candidate groups")
    space = CandidateSpace(cm, max_group=options.max_group, deadline=deadline, limit=limit)
    space.restrict(together, apart)
    report.update(candidates=len(space))
    return space


def unfinished(space: CandidateSpace) -> str:
    """What stopped an enumeration that is not complete, as the start of a stopped result's message."""
    return f"candidate limit ({space.explored:,} groups, max_candidates)" if space.capped else "time limit"


def warm_groups(cm: CostModel, schedule: Schedule) -> list[tuple[tuple[int, ...], Tiling]] | None:
    """A ``warm_start`` schedule as groups of node ids with their best tilings, or ``None`` when it is not a valid
    schedule of this instance (unknown layers, a group that fits no tiling, broken convexity or order)."""
    try:
        ids = group_ids(cm.instance, schedule)
        check_structure(cm.instance, ids)
    except OptimusError:
        return None
    out = []
    for members in ids:
        tiling = cm.best_tiling(members)
        if tiling is None:
            return None
        out.append((tuple(members), tiling))
    return out


def heuristic_runs(cm: CostModel, options: SolveOptions, deadline: Deadline = NEVER, *,
                   report: bool = False) -> list[tuple[str, SolverResult, float]]:
    """Run the heuristics that give a stopped exact solver (and ``auto``) its incumbent, ``optimus``,
    ``efficient-s`` then ``greedy-merge``, with the options' ``max_group`` and seed; each run as (solver name,
    result, seconds). None dominates the others: Efficient-S's breadth-first segments reach sibling groups that the
    Optimus recursion cannot (SqueezeNet 1.0 at 128 KiB), and greedy merging forms groups no linear order holds
    (NASNet-A Mobile at 512 KiB: 47.3 MB against 86.9 MB for the better of the other two), but it trails optimus on
    MobileNet and DenseNet-121 at 512 KiB. Once ``deadline`` has passed and a run has found a
    schedule, no further heuristic starts. With ``report`` each says so on the options' progress reporter."""
    # imported here: the heuristics import the solver machinery too
    from .baselines import EfficientS
    from .greedy import GreedyMerge
    from .optimus_dp import Optimus

    known = {cls.name: cls for cls in (Optimus, EfficientS, GreedyMerge)}
    reporter = progress.of(options) if report else None
    runs: list[tuple[str, SolverResult, float]] = []
    for solver in (known[name]() for name in HEURISTICS):
        if deadline.expired() and any(result.groups for _, result, _ in runs):
            break
        if reporter is not None:
            reporter.solver(solver.name)
            reporter.phase("growing groups (heuristic)")
        start = time.perf_counter()
        result = solver.search(cm, SolveOptions(max_group=options.max_group, seed=options.seed,
                                                progress=options.progress if report else None))
        runs.append((solver.name, result, time.perf_counter() - start))
    return runs


def cheapest(runs: Sequence[tuple[str, SolverResult, float]]) -> tuple[str, SolverResult]:
    """The run whose schedule moves the fewest bytes (the first on a tie), or the first run when none found one."""
    best = runs[0]
    for run in runs[1:]:
        cost, least = schedule_cost(run[1]), schedule_cost(best[1])
        if cost is not None and (least is None or cost < least):
            best = run
    return best[0], best[1]


def schedule_cost(result: SolverResult) -> int | None:
    """The bytes a result's schedule moves, or None when it has none."""
    return sum(t.cost for _, t in result.groups) if result.groups else None


def heuristic_groups(cm: CostModel, options: SolveOptions
                     ) -> tuple[list[tuple[tuple[int, ...], Tiling]] | None, str]:
    """The incumbent of a stopped exact solver and where it came from: the caller's ``warm_start`` when it is a
    valid schedule, else the cheaper of the :func:`heuristic_runs`' schedules, else ``None``."""
    hint = options.extra.get("warm_start")
    if isinstance(hint, Schedule):
        groups = warm_groups(cm, hint)
        if groups is not None:
            return groups, "warm_start"
    runs = options.beside.heuristic_runs() if options.beside is not None else None
    name, result = cheapest(runs if runs is not None else heuristic_runs(cm, options))
    if not result.groups:
        return None, "optimus"
    return [(tuple(m), t) for m, t in result.groups], name


def better_bound(cm: CostModel, options: SolveOptions, bound: int, kind: str, info: dict,
                 deadline: Deadline) -> tuple[int, str]:
    """``bound`` or, when larger, the segment bound (:mod:`~optimus_opt.solvers.segment_bound`) under the options'
    ``max_group``, with what it is: as far as the process beside the search (:mod:`~optimus_opt.solvers.beside`)
    gets by ``deadline``, or else computed here until ``deadline``. Its figures go to ``info``."""
    if options.beside is not None:
        segment = options.beside.bound(until=deadline)
        where = ", beside the search"
    else:
        reporter = progress.of(options)
        reporter.solver("segment bound")
        reporter.phase("exact DPs over windows of consecutive layers")
        segment = segment_bound(cm, segment_for(deadline.left()), deadline=deadline, max_group=options.max_group)
        where = ""
    info.update(segment.info())
    value = cm.value_floor(segment.bytes)  # a bound of DRAM bytes, priced in the objective's units
    if value > bound:
        done = sum(segment.finished)
        coupled = segment.coupling
        how = f", coupled in {coupled.rounds} rounds" if coupled and coupled.bytes > sum(segment.per_segment) else ""
        return value, (f"segment bound: {done} of {len(segment.segments)} windows solved exactly{how}{where} "
                       "(formulations/segment-bound.md)")
    return bound, kind


def within_budgets(cm: CostModel, groups: Groups, budgets) -> bool:
    """Whether a schedule keeps the options' budgets (sums of added MACs, DRAM bytes, latency cycles)."""
    if not budgets:
        return True
    figures = [cm.figures(members, tiling) for members, tiling in groups]
    return all(sum(getattr(f, field_) for f in figures) <= bound for _, field_, bound in budgets.items())


def admissible(groups: Groups, options: SolveOptions, together: list[int], apart: list[int],
               max_groups: int | None) -> bool:
    """Whether a schedule respects the solver's space: the group cap and the side constraints."""
    if max_groups is not None and len(groups) > max_groups:
        return False
    for members, _ in groups:
        mask = mask_of(members)
        if options.max_group is not None and len(members) > options.max_group:
            return False
        if any(mask & t not in (0, t) for t in together) or any((mask & a).bit_count() > 1 for a in apart):
            return False
    return True


def _refined(out: Refinement, best, best_cost: int, source: str, bound: int, bound_kind: str, info: dict,
             name: str) -> tuple:
    """The incumbent and bound after a refinement ``out`` of the incumbent's start: its schedule when cheaper (or
    proven), named ``name``, and its cost as the bound when one window held the whole network."""
    if out.cost < best_cost or (out.proven and out.cost <= best_cost):
        best, best_cost, source = list(out.groups), out.cost, name
    if out.proven:
        bound, bound_kind = out.cost, "window refinement: one window held the whole network"
        info["bound"] = bound_kind
    return best, best_cost, source, bound, bound_kind


def stopped(cm: CostModel, options: SolveOptions, info: dict, *, why: str, bound: int | None = None,
            bound_kind: str | None = None, found: Groups = (), side: tuple[list[int], list[int], int | None] = ([], [], None)
            ) -> SolverResult:
    """The result of an exact solver that a limit stopped: the cheaper of ``found`` (the solver's own incumbent,
    if any) and the warm start or heuristic, status ``feasible``, with the larger of ``bound`` and the compulsory
    traffic as the proven bound; ``unknown`` (no schedule claimed) when neither exists.

    ``why`` says what stopped the solver ("time limit while enumerating candidates", …) and ``bound_kind`` what
    ``bound`` is; both go to ``solver_info`` and the message.
    """
    compulsory = cm.objective_floor()
    if bound is None or bound <= compulsory:
        bound, bound_kind = compulsory, "compulsory traffic (inputs, outputs and all weights once)" + (
            "" if cm.objective == "dram" else f", priced as {cm.objective} with the network's own compute")
    info["bound"] = bound_kind
    best = list(found)
    best_cost = sum(t.cost for _, t in best) if best else None
    source = "solver" if best else None
    if options.extra.get("anytime", True):
        start = time.perf_counter()
        groups, origin = heuristic_groups(cm, options)
        info["fallback_seconds"] = round(time.perf_counter() - start, 6)
        if groups is not None and not (admissible(groups, options, *side)
                                       and within_budgets(cm, groups, options.budgets)):
            groups = None
        cost = sum(t.cost for _, t in groups) if groups is not None else None
        if cost is not None and (best_cost is None or cost < best_cost):
            best, best_cost, source = groups, cost, origin
        if best_cost is None or best_cost > bound:
            bound, bound_kind = better_bound(cm, options, bound, bound_kind, info,
                                             options.deadline.sub(share=0.0 if options.beside else SEGMENT_SHARE))
            info["bound"] = bound_kind
        # the refinement does not know the side constraints, nor improves a caller's schedule
        refinable = best_cost is not None and best_cost > bound and source not in ("solver", "warm_start") \
            and not any(side) and not options.budgets and options.deadline.bounded
        if options.beside is not None and options.beside.heuristics is not None:
            # the process beside refines every heuristic's schedule and the windows' own: this core is of more use
            # solving its windows than refining one of those schedules again
            options.beside.release()
        elif refinable and not options.deadline.expired():
            out = refine(cm, best, options.deadline, window=None, max_group=options.max_group)
            best, best_cost, source, bound, bound_kind = _refined(out, best, best_cost, source, bound, bound_kind,
                                                                  info, f"{source} + refine")
        if refinable and best_cost > bound and options.beside is not None:  # the child's, from every heuristic
            got = options.beside.refined(until=options.deadline)
            if got is not None:
                start, out = got
                best, best_cost, source, bound, bound_kind = _refined(
                    out, best, best_cost, source, bound, bound_kind, info, f"{start} + refine, beside the search")
        if options.beside is not None and best_cost is not None and best_cost > bound:
            # what the process beside proved meanwhile, waiting for the rest while the limit lasts
            bound, bound_kind = better_bound(cm, options, bound, bound_kind, info, options.deadline)
            info["bound"] = bound_kind
    if best_cost is None:
        return SolverResult(status="unknown", info=info, bound_bytes=bound,
                            message=f"stopped by the {why}; no schedule found (proven bound {bound:,} B)")
    info["incumbent"] = source
    if best_cost <= bound:  # the incumbent meets the bound: proven after all
        return SolverResult(status="optimal", groups=best, bound_bytes=best_cost, info=info,
                            message=f"stopped by the {why}; the schedule of {source} meets the proven bound "
                                    f"({info['bound']})")
    gap = (best_cost - bound) / bound if bound else float("inf")
    return SolverResult(status="feasible", groups=best, bound_bytes=bound, info=info,
                        message=f"stopped by the {why}: the schedule of {source} is within {gap:.2%} of the proven "
                                f"bound ({bound_kind})")
