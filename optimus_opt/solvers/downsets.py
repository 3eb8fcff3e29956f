"""The dynamic program over down-sets that ``exact-dp`` solves the whole network with and the window refinement
(``refine``) solves each window with (formulations/exact-dp.md).

A valid schedule is a chain of down-sets ∅ = D0 ⊂ D1 ⊂ … ⊂ Dk = all layers whose differences are the groups: each
group reads only network inputs and tensors of earlier groups exactly when every prefix is a down-set, and the
difference of two nested down-sets is convex. Hence

    f(∅) = 0,    f(D ∪ S) = min over candidates S with S ∩ D = ∅ and needs(S) ⊆ D of f(D) + cost(S),

and f(all layers) is the optimum over the candidate space. Down-sets are visited in order of size, so each f(D) is
final before it is extended; a candidate is indexed by its first layer, which must be ready (all producers in D).
"""

from __future__ import annotations

import time

from ..cost.candidates import CandidateSpace
from ..cost.cost_model import CostModel
from ..utils.deadline import NEVER, Deadline

#: The share of what is left of the run that the frontier bound of a stopped DP may take: on two cells of NASNet-A
#: Mobile with groups of at most 3 layers, 364,564 open down-sets took 8.8 s after a DP stopped at 10 s.
FRONTIER_SHARE = 0.25


def downset_dp(cm: CostModel, space: CandidateSpace, deadline: Deadline = NEVER,
               max_states: int | None = None, prune: bool = True, start: int = 0, frontier: bool = True,
               run_deadline: Deadline = NEVER):
    """Run the DP until it finishes, ``deadline`` passes or it holds more than ``max_states`` down-sets; returns
    (cost or None, groups as candidates in order, statistics dict, finished flag). A stopped DP states its
    frontier bound (below) when ``frontier`` is set: one pass over the network per open down-set, seconds on a
    wide window of NASNet-A Mobile, which a caller that uses no bound (the window refinement) skips. It takes at
    most :data:`FRONTIER_SHARE` of what is left of ``run_deadline`` (the whole run's, which the fallback after it
    needs too; none by default): the bound is a least value over every open down-set, so one cut short proves
    nothing, and is then not stated (``frontier_skipped``).

    It schedules the space's layers (:attr:`CandidateSpace.within`, all of them by default) after the down-set
    ``start`` (layers taken as already run; by default none), so the cost is that of the space's layers alone.

    Transitions are *pulled*: expanding a final down-set D only records, for each candidate S it can take, the
    bound f(D) + floor(S) under D ∪ S. When D ∪ S comes up (all smaller down-sets are final by then), its
    transitions are tiled by increasing bound, and with ``prune`` the first bound that reaches the best value
    found ends the scan: no later transition can beat it (formulations/exact-dp.md, rule DP-1). A down-set no
    feasible transition reaches is dropped.

    Of transitions with equal totals the one whose group has the larger bitset wins (rule DP-2), so the schedule
    returned is fixed by the instance alone: of the optimal schedules, the one whose last group has the largest
    bitset, then its last but one, and so on; ``prune`` does not change it. Under an objective other than DRAM
    bytes, equal totals are first told apart by the DRAM bytes (formulations/energy.md §4): the schedule is one of
    least DRAM among the optima, the pair (total, DRAM) being minimised in lexicographic order, which sums keep.
    """
    second = cm.objective != "dram"  # equal totals: the fewer DRAM bytes first
    began = time.perf_counter()
    full = start | space.within
    best: dict[int, int] = {start: 0}
    dram: dict[int, int] = {start: 0}  # the DRAM bytes of best[d]'s schedule (the second criterion)
    back: dict[int, tuple[int, object]] = {}
    pending: dict[int, list[tuple[int, int, object]]] = {}
    first = start.bit_count()
    buckets: dict[int, list[int]] = {first: [start]}
    tilings = transitions = 0
    finished = True
    stopped_by = None
    for size in range(first, full.bit_count() + 1):
        level = buckets.pop(size, [])
        for i, d in enumerate(level):
            over = max_states is not None and len(best) > max_states
            if over or deadline.expired():
                finished = False
                stopped_by = "down-set limit" if over else "time limit"
                buckets[size] = level[i:]  # still open, for the frontier bound
                break
            if d != start:
                incoming = pending.pop(d)
                # by bound, then by the tie-break (rule DP-2: of equal totals the larger group bitset wins), so the
                # scan can end at the first entry that can neither beat the best total nor win a tie with it
                incoming.sort(key=lambda e: (e[0], -e[2].mask))
                value = arg = moved = None
                for bound, src, cand in incoming:
                    if prune and value is not None and (bound > value or bound == value and not second
                                                        and cand.mask < arg[1].mask):
                        break
                    tilings += 1
                    if tilings % 64 == 0 and deadline.expired():  # a down-set of many large groups takes seconds
                        finished, stopped_by = False, "time limit"
                        pending[d] = incoming  # still open, for the frontier bound
                        buckets[size] = level[i:]
                        break
                    tiling = cand.tiling(cm)
                    if tiling is None:
                        continue
                    total, bytes_ = best[src] + tiling.cost, dram[src] + tiling.dram_bytes
                    if value is None or total < value or total == value and (
                            bytes_ < moved or bytes_ == moved and cand.mask > arg[1].mask):
                        value, moved, arg = total, bytes_, (src, cand)
                if not finished:
                    break
                if value is None:
                    continue  # no feasible group reaches d
                best[d], dram[d], back[d] = value, moved, arg
            fd = best[d]
            for cand in space.following(d):
                nd = d | cand.mask
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
             "dp_seconds": round(time.perf_counter() - began, 6)}
    if not finished:  # every schedule enters an open down-set from a final one (formulations/exact-dp.md)
        stats["stopped_by"] = stopped_by
    if not finished and frontier:
        within = run_deadline.sub(share=FRONTIER_SHARE)
        budget = within.left()
        stats["frontier_bound"] = _frontier(cm, space, pending, buckets, within)
        if stats["frontier_bound"] is None and pending:
            stats["frontier_skipped"] = f"not every open down-set was counted in {budget:.3g} s"
    if full not in best:
        return None, [], stats, finished
    groups = []
    d = full
    while d != start:
        prev, cand = back[d]
        groups.append(cand)
        d = prev
    groups.reverse()
    return best[full], groups, stats, finished


def _frontier(cm: CostModel, space: CandidateSpace, pending: dict, buckets: dict, deadline: Deadline) -> int | None:
    """The frontier bound (formulations/exact-dp.md) over the open down-sets, or None when there are none or
    ``deadline`` passes before every one is counted."""
    best = None
    for k, d in enumerate(d for ds in buckets.values() for d in ds if d in pending):
        if k % 256 == 255 and deadline.expired():
            return None
        value = min(e[0] for e in pending[d]) + remaining_floor(cm, space, d)
        best = value if best is None or value < best else best
    return best


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
    return cm.value_floor(total)
