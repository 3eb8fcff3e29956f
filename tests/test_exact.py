"""The three exact solvers (exact-dp, cpsat, milp) agree to the byte, with each other and with a brute force."""

from __future__ import annotations

from pathlib import Path

import pytest
from bruteforce import brute_force_optimum
from helpers import make_instance
from hypothesis import HealthCheck, given, settings
from strategies import instances

import optimus_opt as oo

ROOT = Path(__file__).resolve().parents[1]
EXACT = ("exact-dp", "cpsat", "milp")


def solve_all(inst, **kw):
    return {name: oo.solve(inst, name, **kw) for name in EXACT}


def check_agreement(inst, results):
    statuses = {r.status for r in results.values()}
    assert statuses in ({"optimal"}, {"infeasible"}), {k: r.status for k, r in results.items()}
    if statuses == {"optimal"}:
        costs = {r.dram_bytes for r in results.values()}
        assert len(costs) == 1, {k: r.dram_bytes for k, r in results.items()}
        for r in results.values():
            assert r.bound_bytes == r.dram_bytes
            assert oo.evaluate(inst, r).dram_bytes == r.dram_bytes
        return costs.pop()
    return None


def test_worked_example(example):
    inst = example
    results = solve_all(inst)
    assert check_agreement(inst, results) == 253460
    for r in results.values():
        assert [set(g.layers) for g in r.groups] == [{"c1", "c2", "c3", "a1"}, {"p1", "c4", "c5", "g", "fc"}]


def ladder():
    """a1 -> a2, b1 -> b2, a1 -> b2, b1 -> a2, with a2 = add(a1, b1) and b2 = add(b1, a1).

    i is (8, 1, 8); a1, b1 are 1×1 convs to 32 channels; Tc = 4, batch 4, a 1,280-byte buffer. An add alone holds
    its two 32-channel inputs and its output: 768 words = 1,536 B, too much. Beside a1 with reduced channels it
    fits: i 64 + a1 4·8 + b1 256 + a2 256 = 608 words = 1,216 B, plus a1's 32-byte weight block (streamed). Each add
    therefore needs a1 or b1 in its group; all four together need 640 words + 32 B = 1,312 B, and an add with both
    convs leaves the other add alone. What remains is {a1, a2} with {b1, b2} (or {a1, b2} with {b1, a2}): each pair
    convex, connected and feasible, but each reads what the other writes, so no order runs them.
    """
    return make_instance([
        {"name": "i", "op": "input", "shape": [8, 1, 8]},
        {"name": "a1", "op": "conv", "inputs": ["i"], "channels": 32, "kernel": 1},
        {"name": "b1", "op": "conv", "inputs": ["i"], "channels": 32, "kernel": 1},
        {"name": "a2", "op": "add", "inputs": ["a1", "b1"]},
        {"name": "b2", "op": "add", "inputs": ["b1", "a1"]},
    ], buffer=1280, tc=4, batch=4)


def test_adversarial_ladder_needs_acyclicity():
    inst = ladder()
    # Without the order rule, the brute force takes a cyclic pair of groups: each reads i (512 B) and the other
    # pair's conv (2,048 B), streams its conv's 512 weight bytes once per sample (2,048 B) and writes two tensors
    # (4,096 B): 2 · 8,704 = 17,408 bytes ...
    cost, groups = brute_force_optimum(inst, acyclic=False)
    assert cost == 17408
    assert len(groups) == 2 and all(len(g) == 2 for g in groups)
    # ... with it, no schedule exists, and every exact solver proves so instead of returning the cycle.
    assert brute_force_optimum(inst)[0] is None
    for name, r in solve_all(inst).items():
        assert r.status == "infeasible", name
        assert not r.groups


def test_max_group_is_stated_and_respected(example):
    inst = example
    for name, r in solve_all(inst, max_group=4).items():
        assert r.solver_info["space"] == "convex connected groups (at most 4 layers)", name
        assert all(len(g.layers) <= 4 for g in r.groups)
        # {p1, c4, c5, g, fc} is out of reach: the best with at most 4 layers per group costs more
        assert r.dram_bytes > 253460
    assert len({r.dram_bytes for r in solve_all(inst, max_group=4).values()}) == 1


SMALL = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MANY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SMALL
@given(instances(min_layers=2, max_layers=8))
def test_exact_solvers_equal_brute_force(inst):
    expected, _ = brute_force_optimum(inst)
    assert check_agreement(inst, solve_all(inst)) == expected


@MANY
@given(instances(min_layers=5, max_layers=40))
def test_exact_solvers_agree_on_random_dags(inst):
    # Groups of at most 8 layers: random DAGs whose tensors are tiny let nearly every convex set fit, and their
    # number grows exponentially with the width; the three solvers must agree on the same stated space.
    cost = check_agreement(inst, solve_all(inst, max_group=8))
    if cost is not None:
        layerwise = oo.solve(inst, "layerwise")
        if layerwise.status == "feasible":
            assert cost <= layerwise.dram_bytes
        assert cost >= oo.CostModel(inst).compulsory_bytes()


def test_time_limit_gives_an_honest_status():
    from optimus_opt import zoo

    inst = oo.Instance(zoo.build("nasnet_a_mobile"), oo.Accelerator(131072, 2, 32), batch=4)
    compulsory = oo.CostModel(inst).compulsory_bytes()
    heuristic = oo.solve(inst, "greedy-merge")  # the cheapest of the three (95.5 MB against 123.7 MB for optimus)
    for name, limit in (("exact-dp", 0.5), ("cpsat", 1.0), ("milp", 1.0)):
        # the limit stops enumeration; the solver falls back on the heuristic's schedule and proves a bound
        r = oo.solve(inst, name, time_limit=limit)
        assert r.status == "feasible" and r.groups and r.solve_seconds < 60, (name, r.status, r.solve_seconds)
        assert r.solver_info["incumbent"] == "greedy-merge" and r.dram_bytes == heuristic.dram_bytes
        assert oo.evaluate(inst, r).dram_bytes == r.dram_bytes
        # the bound: the compulsory traffic, or the segment bound over the windows solved beside the search by then
        kind = r.solver_info["bound"]
        if kind.startswith("segment bound"):
            assert compulsory < r.bound_bytes == r.solver_info["segment_bound_bytes"] < r.dram_bytes, name
        else:
            assert kind.startswith("compulsory traffic") and r.bound_bytes == compulsory < r.dram_bytes, name
        assert "stopped by the time limit while enumerating" in r.message
    # without the fallback nothing is claimed, but the bound still is
    r = oo.solve(inst, "exact-dp", time_limit=0.5, anytime=False)
    assert r.status == "unknown" and not r.groups and r.bound_bytes == compulsory


def test_an_enumeration_past_the_candidate_limit_stops_the_search(example, monkeypatch):
    """The worked example has 52 candidate groups. With ``max_candidates=3`` each exact solver stops after 3 and
    says so; its fallback (optimus, and the segment bound of one window, which holds the whole network) still
    proves the optimum, 253,460 B. The default limit is :data:`anytime.MAX_CANDIDATES`; None lifts it."""
    from optimus_opt.solvers import anytime

    for name in EXACT:
        r = oo.solve(example, name, max_candidates=3)
        assert (r.status, r.dram_bytes, r.solver_info["candidates"]) == ("optimal", 253_460, 3), name
        assert r.message.startswith("stopped by the candidate limit (3 groups, max_candidates) while enumerating "
                                    "candidate groups; the schedule of optimus meets the proven bound"), name
    assert oo.solve(example, "exact-dp", max_candidates=None).solver_info["candidates"] == 52
    monkeypatch.setattr(anytime, "MAX_CANDIDATES", 5)
    assert oo.solve(example, "cpsat").solver_info["candidates"] == 5
    for bad in (0, 2.5, True):
        with pytest.raises(oo.SolverError, match=f"max_candidates must be a positive integer or None \\(no limit\\), "
                                                 f"got {bad}"):
            oo.solve(example, "milp", max_candidates=bad)


def test_stopped_dp_proves_its_frontier_bound():
    inst = oo.load_instance(ROOT / "instances" / "paper" / "squeezenet1_0-optimus-npu-b4.json")
    optimum = oo.solve(inst, "exact-dp")
    compulsory = oo.CostModel(inst).compulsory_bytes()
    # a down-set limit stops the DP half-way: the least f(D) + remaining floor over its frontier is a bound
    r = oo.solve(inst, "exact-dp", max_downsets=8)
    assert r.status == "feasible" and "down-set limit" in r.message
    frontier = r.solver_info["frontier_bound"]
    assert compulsory < frontier <= optimum.dram_bytes <= r.dram_bytes
    assert oo.evaluate(inst, r).dram_bytes == r.dram_bytes
    # the fallback then computes the segment bound (no time limit: every window) and keeps the larger; on
    # SqueezeNet 1.0 at 128 KiB it reaches the optimum, which the heuristics' schedule misses
    assert frontier < r.bound_bytes == r.solver_info["segment_bound_bytes"] == optimum.dram_bytes == 34_120_864
    assert r.solver_info["bound"].startswith("segment bound") and r.dram_bytes > r.bound_bytes
    # a warm start that is a valid schedule is the incumbent when it is the cheaper one: here the optimum, which
    # the segment bound then proves
    warm = oo.solve(inst, "exact-dp", max_downsets=8, warm_start=optimum)
    assert warm.solver_info["incumbent"] == "warm_start" and warm.dram_bytes == optimum.dram_bytes
    assert warm.status == "optimal" and warm.bound_bytes == r.bound_bytes


def test_a_stopped_dp_states_its_frontier_only_when_it_has_time_to_count_it():
    # NASNet-A Mobile with groups of at most two layers, stopped after 500 down-sets: the frontier bound is the
    # least over every open down-set, so it is stated only when all of them are counted within a quarter of what
    # is left of the run (an exact-dp run on two NASNet cells spent 17 s after its 30 s limit counting 364,564)
    from optimus_opt.cost.candidates import CandidateSpace
    from optimus_opt.io.resolve import resolve_instance
    from optimus_opt.solvers.downsets import downset_dp
    from optimus_opt.utils.deadline import Deadline

    cm = oo.CostModel(resolve_instance("nasnet_a_mobile"))
    space = CandidateSpace(cm, max_group=2)
    assert downset_dp(cm, space, max_states=500)[2]["frontier_bound"] == 23_554_988
    stats = downset_dp(cm, space, max_states=500, run_deadline=Deadline.after(0.0))[2]
    assert stats["frontier_bound"] is None
    assert stats["frontier_skipped"] == "not every open down-set was counted in 0 s"


def test_side_constraints_match_brute_force():
    inst = oo.load_instance(ROOT / "instances" / "example-64k.json")
    apart = brute_force_optimum(inst, admit=lambda b: not {"c2", "c3"} <= b)[0]
    together = brute_force_optimum(inst, admit=lambda b: "a1" in b and "p1" in b or not b & {"a1", "p1"})[0]
    assert (apart, together) == (417300, 286228)
    for name in EXACT:
        assert oo.solve(inst, name, apart=[["c2", "c3"]]).dram_bytes == apart, name
        r = oo.solve(inst, name, together=[["a1", "p1"]])
        assert r.dram_bytes == together and any({"a1", "p1"} <= set(g.layers) for g in r.groups), name


def test_max_groups(example):
    inst = example
    # one group: the whole network reads x (32,768 B), writes fc (20 B) and, unable to keep its 89,600 weight
    # bytes resident, streams them once per strip at Q = 16
    assert brute_force_optimum(inst, max_groups=1)[0] == 32768 + 20 + 16 * 89600
    for name in ("cpsat", "milp"):
        one = oo.solve(inst, name, max_groups=1)
        assert (one.dram_bytes, len(one.groups), one.groups[0].strips) == (1466388, 1, 16)
        assert oo.solve(inst, name, max_groups=2).dram_bytes == 253460
    with pytest.raises(oo.SolverError, match=r"solver 'exact-dp' takes no option 'max_groups' .*; cpsat, milp take it"):
        oo.solve(inst, "exact-dp", max_groups=2)
    with pytest.raises(oo.SolverError, match="option apart: unknown layer 'c9'"):
        oo.solve(inst, "cpsat", apart=[["c2", "c9"]])


def test_smoke_suite_agreement():
    from optimus_opt.studies.suite import load_suite

    costs = {}
    for inst in load_suite(ROOT / "instances" / "suites" / "smoke.json").instances():
        costs[inst.name] = check_agreement(inst, solve_all(inst))
    # every smoke instance has a proven optimum (none is infeasible), equal for all three solvers
    assert costs and all(c is not None for c in costs.values()), costs


def test_warm_start_and_model_export(tmp_path, example):
    inst = example
    hint = oo.solve(inst, "optimus")
    r = oo.solve(inst, "cpsat", warm_start=hint, export_model=tmp_path / "m.pb")
    assert r.dram_bytes == 253460 and (tmp_path / "m.pb").stat().st_size > 0
    m = oo.solve(inst, "milp", export_model=tmp_path / "m.mps")
    assert m.dram_bytes == 253460 and "ROWS" in (tmp_path / "m.mps").read_text()
