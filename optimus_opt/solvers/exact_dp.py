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

from ..cost.candidates import CandidateSpace, bits
from ..cost.cost_model import CostModel
from ..model.errors import SolverError
from ..utils import progress
from ..utils.deadline import NEVER, Deadline
from . import anytime
from .base import SolveOptions, Solver, SolverResult


def downset_dp(cm: CostModel, space: CandidateSpace, deadline: Deadline = NEVER,
               max_states: int | None = None, prune: bool = True):
    """Run the DP until it finishes, ``deadline`` passes or it holds more than ``max_states`` down-sets; returns
    (cost or None, groups as candidates in order, statistics dict, finished flag).

    Transitions are *pulled*: expanding a final down-set D only records, for each candidate S it can take, the
    bound f(D) + floor(S) under D ∪ S. When D ∪ S comes up (all smaller down-sets are final by then), its
    transitions are tiled by increasing bound, and with ``prune`` the first bound that reaches the best value
    found ends the scan: no later transition can beat it (formulations/exact-dp.md, rule DP-1). A down-set no
    feasible transition reaches is dropped.
    """
    start = time.perf_counter()
    full = space.layer_mask
    layers = space.layers
    pred = space.pred
    best: dict[int, int] = {0: 0}
    back: dict[int, tuple[int, object]] = {}
    pending: dict[int, list[tuple[int, int, object]]] = {}
    buckets: dict[int, list[int]] = {0: [0]}
    tilings = transitions = 0
    finished = True
    stopped_by = None
    for size in range(full.bit_count() + 1):
        for d in buckets.pop(size, ()):
            over = max_states is not None and len(best) > max_states
            if over or deadline.expired():
                finished = False
                stopped_by = "down-set limit" if over else "time limit"
                buckets.setdefault(size, []).append(d)  # still open, for the frontier bound
                break
            if d:
                incoming = pending.pop(d)
                incoming.sort(key=lambda e: e[0])  # stable: equal bounds keep the order they were found in
                value = arg = None
                for bound, src, cand in incoming:
                    if prune and value is not None and bound >= value:
                        break
                    tilings += 1
                    tiling = cand.tiling(cm)
                    if tiling is not None and (value is None or best[src] + tiling.cost < value):
                        value, arg = best[src] + tiling.cost, (src, cand)
                if value is None:
                    continue  # no feasible group reaches d
                best[d], back[d] = value, arg
            fd = best[d]
            ready = 0
            for u in layers:
                if not d >> u & 1 and pred[u] & ~d == 0:
                    ready |= 1 << u
            for r in bits(ready):
                for cand in space.by_first[r]:
                    mask = cand.mask
                    if mask & d or cand.needs & ~d:
                        continue
                    nd = d | mask
                    transitions += 1
                    entry = (fd + cand.cost_floor, d, cand)
                    waiting = pending.get(nd)
                    if waiting is None:
                        pending[nd] = [entry]
                        buckets.setdefault(nd.bit_count(), []).append(nd)
                    else:
                        waiting.append(entry)
        if not finished:
            break
    stats = {"downsets": len(best), "transitions": transitions, "tilings_asked": tilings,
             "dp_seconds": round(time.perf_counter() - start, 6)}
    if not finished:  # every schedule enters an open down-set from a final one (formulations/exact-dp.md)
        stats["stopped_by"] = stopped_by
        stats["frontier_bound"] = min((min(e[0] for e in pending[d]) + remaining_floor(cm, space, d)
                                       for ds in buckets.values() for d in ds if d in pending), default=None)
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


def remaining_floor(cm: CostModel, space: CandidateSpace, done: int) -> int:
    """A lower bound of the traffic still to come once the layers of the down-set ``done`` have run: every other
    layer's weights once, every network output not yet written, and one read of every tensor (of ``done`` or a
    network input) that a layer outside ``done`` reads. The three sums are over disjoint tensors."""
    total = 0
    for u in space.layers:
        if not done >> u & 1:
            total += cm.weight_bytes[u]
            if cm.is_output[u]:
                total += cm.tensor_bytes[u]
    for t in range(cm.n):
        if (done >> t & 1 or not cm.producers[t]) and any(not done >> c & 1 for c in cm.consumers[t]):
            total += cm.tensor_bytes[t]
    return total


class ExactDP(Solver):
    name = "exact-dp"
    description = "exact optimum: dynamic program over the network's down-sets"
    exact = timed = True
    #: ``max_groups`` is refused: the DP's state has no group count.
    extra_options = ("anytime", "apart", "max_downsets", "prune", "together", "warm_start")
    order = 60
    space = "all valid schedules (convex connected groups), or groups of at most max_group layers"

    def search(self, cm: CostModel, options: SolveOptions) -> SolverResult:
        together, apart, max_groups = self.side_constraints(cm, options)
        if max_groups is not None:
            raise SolverError("exact-dp cannot cap the number of groups (its state has no group count); "
                              "use cpsat or milp for max_groups")
        deadline, reserve = anytime.exact_phase(options)
        report = progress.of(options)  # the CLI's status line, or nothing
        report.phase("enumerating candidate groups")
        space = CandidateSpace(cm, max_group=options.max_group, deadline=deadline)
        space.restrict(together, apart)
        report.update(candidates=len(space))
        report.phase("dynamic program over down-sets")
        max_states = options.extra.get("max_downsets")
        cost, groups, stats, finished = downset_dp(cm, space, deadline, max_states,
                                                   prune=bool(options.extra.get("prune", True)))
        info = {"space": space.describe(), "candidates": len(space), "candidates_explored": space.explored,
                "candidates_pruned": space.pruned, "enumeration_seconds": round(space.seconds, 6), **stats,
                **reserve}
        if not space.complete or not finished:
            why = stats.get("stopped_by") or "time limit"
            where = "while enumerating candidate groups" if not space.complete else \
                f"after {stats['downsets']:,} down-sets of {len(space):,} candidate groups"
            frontier = stats.get("frontier_bound") if space.complete else None
            return anytime.stopped(cm, options, info, why=f"{why} {where}", bound=frontier,
                                   bound_kind="DP frontier: least f(D) + remaining floor over reached, unexpanded "
                                              "down-sets D", side=(together, apart, None),
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
