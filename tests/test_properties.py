"""Properties of the cost model and evaluate() on random DAGs (hypothesis)."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import instances

import optimus_opt as oo
from optimus_opt.cost.cost_model import CostModel
from optimus_opt.cost.partition import components

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(instances())
def test_layerwise_evaluates_to_the_sum_of_its_groups(inst):
    sched = oo.solve(inst, "layerwise")
    cm = CostModel(inst)
    if sched.status == "infeasible":
        assert sched.unplaced
        assert all(cm.best_tiling([inst.network.index[n]]) is None for n in sched.unplaced)
        return
    ev = oo.evaluate(inst, sched)
    assert ev.dram_bytes == sched.dram_bytes == sum(cm.best_tiling([u]).cost for u in inst.network.layer_ids)
    assert ev.dram_bytes >= cm.compulsory_bytes()


@SETTINGS
@given(instances(), st.randoms(use_true_random=False))
def test_random_fused_schedules_cost_at_least_compulsory(inst, rnd):
    """Contiguous runs of the topological order are convex; keep the connected, feasible ones as groups."""
    cm = CostModel(inst)
    net = inst.network
    assume(all(cm.best_tiling([u]) is not None for u in net.layer_ids))
    groups: list[list[int]] = []
    for u in net.layer_ids:
        if groups and rnd.random() < 0.6:
            trial = groups[-1] + [u]
            if len(components(net, trial)) == 1 and cm.best_tiling(trial) is not None:
                groups[-1] = trial
                continue
        groups.append([u])
    sched = oo.Schedule(instance=inst.name, solver="random", status="feasible",
                        groups=tuple(oo.Group(layers=tuple(net.layers[u].name for u in g)) for g in groups))
    ev = oo.evaluate(inst, sched)
    assert ev.dram_bytes == sum(cm.best_tiling(g).cost for g in groups)
    assert ev.dram_bytes >= cm.compulsory_bytes()
    # the recomputed schedule, with its tilings spelled out, evaluates to the same bytes
    assert oo.evaluate(inst, ev.schedule).dram_bytes == ev.dram_bytes


@SETTINGS
@given(instances(max_layers=7, tilings=("strips",)), st.randoms(use_true_random=False))
def test_footprint_curve_is_exact_and_monotone(inst, rnd):
    """The vectorised maximum-weight independent set (tree DP and branching) equals a brute force over every valid Φ
    at every Q, and the least footprint never grows with Q."""
    cm = CostModel(inst)
    net = inst.network
    lo = rnd.randrange(len(net.layer_ids))
    group = list(net.layer_ids[lo:lo + rnd.randint(1, 5)])
    curve = cm.curve(group)
    convs = [u for u in group if net.layers[u].op == "conv" and u not in curve.io.full_channels]
    for q in range(1, curve.qmax + 1):
        best = None
        for r in range(len(convs) + 1):
            for phi in itertools.combinations(convs, r):
                if any(p in phi for u in phi for p in net.producers[u]):
                    continue
                words = cm._footprint_words(curve, q, frozenset(phi))
                best = words if best is None else min(best, words)
        assert int(curve.footprint[q - 1]) == inst.accelerator.word_bytes * best
        assert cm._footprint_words(curve, q, curve.reduced_set(q)) == best
        if q > 1:
            assert curve.footprint[q - 1] <= curve.footprint[q - 2]


@SETTINGS
@given(instances(max_layers=6), st.randoms(use_true_random=False))
def test_more_buffer_never_costs_more(inst, rnd):
    net = inst.network
    lo = rnd.randrange(len(net.layer_ids))
    group = list(net.layer_ids[lo:lo + rnd.randint(1, 4)])
    small = CostModel(inst).best_tiling(group)
    large = CostModel(inst.with_overrides(buffer_bytes=inst.accelerator.buffer_bytes * 2)).best_tiling(group)
    if small is not None:
        assert large is not None and large.cost <= small.cost
