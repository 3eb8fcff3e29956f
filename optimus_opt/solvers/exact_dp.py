"""``exact-dp``: the exact optimum by dynamic programming over the down-sets of the network
(:func:`~optimus_opt.solvers.downsets.downset_dp`, formulations/exact-dp.md), over every convex connected group
that may fit the buffer, with the anytime fallback of :mod:`~optimus_opt.solvers.anytime` when a limit stops it.
"""

from __future__ import annotations

from ..cost.candidates import CandidateSpace, bits
from ..cost.cost_model import CostModel
from ..model.errors import SolverError
from ..utils import progress
from . import anytime
from .base import SolveOptions, Solver, SolverResult
from .downsets import downset_dp


class ExactDP(anytime.Fallback, Solver):
    name = "exact-dp"
    description = "exact optimum: dynamic program over the network's down-sets"
    exact = timed = True
    #: ``max_groups`` is refused: the DP's state has no group count.
    extra_options = ("anytime", "apart", "max_candidates", "max_downsets", "prune", "together", "warm_start")
    order = 60
    space = "all valid schedules (convex connected groups), or groups of at most max_group layers"

    def search(self, cm: CostModel, options: SolveOptions) -> SolverResult:
        together, apart, max_groups = self.side_constraints(cm, options)
        if max_groups is not None:
            raise SolverError("exact-dp cannot cap the number of groups (its state has no group count); "
                              "use cpsat or milp for max_groups")
        deadline, reserve = anytime.exact_phase(options, len(cm.network.layer_ids))
        space = anytime.candidate_space(cm, options, deadline, together, apart)
        side = (together, apart, None)
        if not space.complete:  # a dynamic program over some of the candidates would prove nothing
            return anytime.stopped(cm, options, _info(space, {}, reserve), side=side,
                                   why=f"{anytime.unfinished(space)} while enumerating candidate groups")
        report = progress.of(options)  # the CLI's status line, or nothing
        report.phase("dynamic program over down-sets")
        max_states = options.extra.get("max_downsets")
        cost, groups, stats, finished = downset_dp(cm, space, deadline, max_states,
                                                   prune=bool(options.extra.get("prune", True)),
                                                   run_deadline=options.deadline)
        info = _info(space, stats, reserve)
        if not finished:
            why = stats.get("stopped_by") or "time limit"
            return anytime.stopped(cm, options, info, why=f"{why} after {stats['downsets']:,} down-sets of "
                                                          f"{len(space):,} candidate groups",
                                   bound=stats.get("frontier_bound"),
                                   bound_kind="DP frontier: least f(D) + remaining floor over reached, unexpanded "
                                              "down-sets D", side=side,
                                   found=[(bits(c.mask), c.tiling(cm)) for c in groups])
        if cost is None:
            covered = 0
            for cand in space:
                if cand.tiling(cm) is not None:
                    covered |= cand.mask
            unplaced = [u for u in space.layers if not covered >> u & 1]
            scope = "" if options.max_group is None else f" with at most {options.max_group} layers per group"
            return SolverResult(status="infeasible", unplaced=unplaced, info=info,
                                message=f"no valid schedule{scope}: "
                                        + (f"{len(unplaced)} layer{'s' if len(unplaced) != 1 else ''} fit no "
                                           "group" if unplaced else
                                           "every layer fits some group, but no ordered partition does"))
        return SolverResult(status="optimal", groups=[(bits(c.mask), c.tiling(cm)) for c in groups],
                            bound_bytes=cost, info=info)


def _info(space: CandidateSpace, stats: dict, reserve: dict) -> dict:
    """What ``solver_info`` says of the enumeration, the dynamic program (``stats``) and the fallback's reserve."""
    return {"space": space.describe(), "candidates": len(space), "candidates_explored": space.explored,
            "candidates_pruned": space.pruned, "enumeration_seconds": round(space.seconds, 6), **stats, **reserve}
