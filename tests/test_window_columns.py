"""Windows of consecutive groups solved by columns on demand (optimus_opt/solvers/window_columns.py,
formulations/refine.md, "Windows by columns"), and the pricing arrays of the column generation they run on."""

from __future__ import annotations

import math

import numpy as np
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from strategies import instances

import optimus_opt as oo
from optimus_opt.cost.candidates import CandidateSpace, bits
from optimus_opt.cost.schedule import Group, Schedule
from optimus_opt.io.resolve import resolve_instance
from optimus_opt.solvers.columns import Pool
from optimus_opt.solvers.window_columns import solve_by_columns, window_space
from optimus_opt.utils.deadline import NEVER

SQUEEZENET = ROOT / "instances" / "paper" / "squeezenet1_0-optimus-npu-b4.json"


def _mask(inst: oo.Instance, names) -> int:
    return sum(1 << inst.network.index[n] for n in names)


def test_prices_and_shares_are_the_sums_and_least_ratios_of_their_definition():
    """π(S) = Σ_{u∈S} π_u and m_u = min over S ∋ u of rc(S)/|S|, computed member by member here, against the
    pool's byte tables (SqueezeNet 1.0: its 50 layers fit a word) and its sums over memberships (GoogLeNet)."""
    googlenet = resolve_instance("googlenet", buffer=128 * 1024)
    for inst, words in ((oo.load_instance(SQUEEZENET), True), (googlenet, False)):
        cm = oo.CostModel(inst)
        pool = Pool(cm, CandidateSpace(cm), NEVER)
        assert (pool._bytes is not None) == words
        pi = np.random.default_rng(7).normal(size=len(pool.layers)) * 1e5
        row = {u: k for k, u in enumerate(pool.layers)}
        members = [[row[u] for u in bits(cand.mask)] for cand in pool.candidates]
        priced = np.array([sum(pi[k] for k in ks) for ks in members])
        assert np.allclose(pool.priced(pi), priced, rtol=0, atol=1e-6)
        rc = pool.lower - priced
        least = [math.inf] * len(pool.layers)
        for c, ks in enumerate(members):
            for k in ks:
                least[k] = min(least[k], rc[c] / len(ks))
        assert np.allclose(pool.shares(rc), least, rtol=1e-12, atol=0)


@given(instances(max_layers=9, tilings=("strips",)))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_compiled_candidates_of_a_window_are_the_candidate_space_with_lower_floors(inst):
    cm = oo.CostModel(inst)
    window = sum(1 << u for u in inst.network.layer_ids)
    compiled = {c.mask: c for c in window_space(cm, window, None, NEVER)}
    listed = {c.mask: c for c in CandidateSpace(cm, within=window)}
    assert compiled.keys() == listed.keys()
    for mask, c in compiled.items():
        other = listed[mask]
        assert (c.first, c.size, c.needs) == (other.first, other.size, other.needs)
        assert c.cost_floor <= other.cost_floor
        tiling = c.tiling(cm)
        assert tiling is None or c.cost_floor <= tiling.cost


@given(instances(max_layers=9))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_window_holding_the_whole_network_reaches_the_dp_optimum(inst):
    # from layer-by-layer execution: the window is the whole network, so its best schedule is exact-dp's optimum;
    # asked to beat the optimum itself, it proves that nothing does
    cm = oo.CostModel(inst)
    exact = oo.solve(inst, "exact-dp")
    if exact.status != "optimal":
        return
    window = sum(1 << u for u in inst.network.layer_ids)
    alone = sum(cm.best_tiling_of_mask(1 << u).cost for u in inst.network.layer_ids)
    better, finished = solve_by_columns(cm, window, alone, NEVER)
    assert finished
    assert (alone if better is None else sum(t.cost for _, t in better)) == exact.dram_bytes
    if better is not None:
        groups = tuple(Group.from_tiling(inst, bits(m), t) for m, t in better)
        sched = Schedule(instance=inst.name, solver="columns", status="feasible", groups=groups)
        assert oo.evaluate(inst, sched).dram_bytes == exact.dram_bytes
    assert solve_by_columns(cm, window, exact.dram_bytes, NEVER) == (None, True)


def test_the_stem_window_of_nasnet_at_128k_is_improved_where_the_dp_windows_stopped():
    """The best 128 KiB schedule of NASNet-A Mobile before windows by columns (tests/data): no DP window up to 39
    layers improved it in 20 minutes. Its groups 1–4 (54 layers of cell_stem_0 and cell_stem_1) run cheaper as
    4 other groups: 6,674,580 B → 6,398,612 B, and the whole schedule 76,755,844 B → 76,479,876 B by evaluate.
    The same window asked to beat its new groups proves that nothing does."""
    inst = resolve_instance("nasnet_a_mobile", buffer=128 * 1024)
    cm = oo.CostModel(inst)
    before = oo.load_schedule(ROOT / "tests" / "data" / "nasnet_a_mobile-128KiB-before-columns.json")
    current = [(_mask(inst, g.layers), cm.best_tiling_of_mask(_mask(inst, g.layers))) for g in before.groups]
    assert sum(t.cost for _, t in current) == 76_755_844
    window = 0
    for mask, _ in current[1:5]:
        window |= mask
    assert window.bit_count() == 54
    better, finished = solve_by_columns(cm, window, sum(t.cost for _, t in current[1:5]), NEVER)
    assert finished and sum(t.cost for _, t in better) == 6_398_612
    assert solve_by_columns(cm, window, 6_398_612, NEVER) == (None, True)
    current[1:5] = better
    sched = Schedule(instance=inst.name, solver="refine", status="feasible",
                     groups=tuple(Group.from_tiling(inst, bits(m), t) for m, t in current))
    assert oo.evaluate(inst, sched).dram_bytes == 76_479_876
