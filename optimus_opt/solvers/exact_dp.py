"""``exact-dp``: the exact optimum by dynamic programming over the down-sets of the network.

A valid schedule is a chain of down-sets ∅ = D0 ⊂ D1 ⊂ … ⊂ Dk = all layers whose differences are the groups: each
group reads only network inputs and tensors of earlier groups exactly when every prefix is a down-set, and the
difference of two nested down-sets is convex. Hence

    f(∅) = 0,    f(D ∪ S) = min over candidates S with S ∩ D = ∅ and needs(S) ⊆ D of f(D) + cost(S),

and f(all layers) is the optimum over the candidate space (formulations/exact-dp.md). Down-sets are visited in
order of size, so each f(D) is final before it is extended; a candidate is indexed by its first layer, which must
be ready (all producers in D). A candidate's tiling is computed only if f(D) plus the cost it has with resident
weights (a bound needing no tiling) can still improve f(D ∪ S).
"""

from __future__ import annotations

import time

from ..candidates import CandidateSpace, bits
from ..cost import CostModel
from ..errors import SolverError
from .base import Solver, SolveOptions, SolverResult


def downset_dp(cm: CostModel, space: CandidateSpace, time_limit: float | None = None,
               max_states: int | None = None):
    """Run the DP; returns (cost or None, groups as candidates in order, statistics dict, finished flag)."""
    start = time.perf_counter()
    full = space.layer_mask
    pred = space.pred
    consumers = cm.consumers
    best: dict[int, int] = {0: 0}
    back: dict[int, tuple[int, object]] = {}
    ready_of: dict[int, int] = {0: sum(1 << u for u in space.layers if pred[u] == 0)}
    buckets: dict[int, list[int]] = {0: [0]}
    tilings = relaxed = 0
    finished = True
    for size in range(full.bit_count() + 1):
        for d in buckets.pop(size, ()):
            if (time_limit is not None and time.perf_counter() - start > time_limit) or \
                    (max_states is not None and len(best) > max_states):
                finished = False
                break
            fd = best[d]
            ready = ready_of.pop(d)
            for r in bits(ready):
                for cand in space.by_first[r]:
                    mask = cand.mask
                    if mask & d or cand.needs & ~d:
                        continue
                    nd = d | mask
                    old = best.get(nd)
                    if old is not None and fd + cand.cost_floor >= old:
                        continue
                    tilings += 1
                    tiling = cand.tiling(cm)
                    if tiling is None or (old is not None and fd + tiling.cost >= old):
                        continue
                    relaxed += 1
                    best[nd] = fd + tiling.cost
                    back[nd] = (d, cand)
                    if old is None:
                        buckets.setdefault(nd.bit_count(), []).append(nd)
                        new_ready = ready & ~mask
                        for u in bits(mask):
                            for c in consumers[u]:
                                if not nd >> c & 1 and pred[c] & ~nd == 0:
                                    new_ready |= 1 << c
                        ready_of[nd] = new_ready
        if not finished:
            break
    stats = {"downsets": len(best), "tilings_asked": tilings, "improvements": relaxed,
             "dp_seconds": round(time.perf_counter() - start, 6)}
    if full not in best:
        return None, [], stats, finished
    groups = []
    d = full
    while d:
        prev, cand = back[d]
        groups.append(cand)
        d = prev
    groups.reverse()
    return best[full], groups, stats, finished


class ExactDP(Solver):
    name = "exact-dp"
    description = "exact optimum: dynamic program over the network's down-sets"
    space = "all valid schedules (convex connected groups), or groups of at most max_group layers"

    def search(self, cm: CostModel, options: SolveOptions) -> SolverResult:
        start = time.perf_counter()
        together, apart, max_groups = self.side_constraints(cm, options)
        if max_groups is not None:
            raise SolverError("exact-dp cannot cap the number of groups (its state has no group count); "
                              "use cpsat or milp for max_groups")
        space = CandidateSpace(cm, max_group=options.max_group, time_limit=options.time_limit)
        space.restrict(together, apart)
        left = None if options.time_limit is None else max(0.0, options.time_limit - (time.perf_counter() - start))
        max_states = options.extra.get("max_downsets")
        cost, groups, stats, finished = downset_dp(cm, space, left, max_states)
        info = {"space": space.describe(), "candidates": len(space), "candidates_explored": space.explored,
                "candidates_pruned": space.pruned, "enumeration_seconds": round(space.seconds, 6), **stats}
        if not space.complete or not finished:
            why = "time limit" if options.time_limit is not None else "down-set limit"
            return SolverResult(status="unknown", info=info,
                                message=f"stopped at the {why} after {stats['downsets']} down-sets and {len(space)} "
                                        "candidate groups; no proven schedule")
        if cost is None:
            covered = 0
            for cand in space:
                if cand.tiling(cm) is not None:
                    covered |= cand.mask
            unplaced = [u for u in space.layers if not covered >> u & 1]
            scope = "" if options.max_group is None else f" with at most {options.max_group} layers per group"
            return SolverResult(status="infeasible", unplaced=unplaced, info=info,
                                message=f"no valid schedule{scope}: "
                                        + (f"{len(unplaced)} layers fit no group" if unplaced else
                                           "every layer fits some group, but no ordered partition does"))
        return SolverResult(status="optimal", groups=[(bits(c.mask), c.tiling(cm)) for c in groups],
                            bound_bytes=cost, info=info)
