"""Objectives and budgets through the command line and in studies (formulations/energy.md §4–§5): what a user
sees, the one-line refusals, and gaps of the objective a study ran for. The models' numbers are in
tests/test_energy.py."""

from __future__ import annotations

import dataclasses
import json

import pytest
from helpers import run_cli
from hypothesis import HealthCheck, given, settings
from strategies import instances

import optimus_opt as oo

EXAMPLE = "instances/example-32k.json"


def test_solve_prints_every_figure_and_the_objective(capsys):
    code, out, err = run_cli(["solve", EXAMPLE, "--tiling", "tiles", "--solver", "cpsat", "--objective", "energy",
                              "-q"], capsys)
    assert code == 0, err
    assert "objective    energy (formulations/energy.md)" in out
    assert "DRAM traffic 482,836 B" in out
    assert "energy       95.16 µJ (95,163,667.8 pJ)" in out
    assert "latency      462,880 cycles (462.9 µs at 1,000 MHz)" in out
    assert "lower bound  95.16 µJ (95,163,667.8 pJ) (gap 0.00%)" in out


def test_a_budget_is_kept_and_said(capsys, tmp_path):
    out_file = tmp_path / "s.json"
    code, out, err = run_cli(["solve", EXAMPLE, "--tiling", "tiles", "--solver", "milp", "--max-recompute", "0",
                              "-q", "-o", str(out_file)], capsys)
    assert code == 0, err
    assert "budgets      max-recompute 0" in out and "DRAM traffic 482,836 B" in out
    # the bound holds over the schedules that keep the budget only, and says so
    assert "lower bound  482,836 B (gap 0.00%), a bound over schedules with max_recompute=0 only" in out
    doc = json.loads(out_file.read_text())
    assert doc["added_macs"] == 0 and doc["solver_info"]["budgets"] == {"max_recompute": 0}
    code, out, err = run_cli(["evaluate", EXAMPLE, str(out_file), "--tiling", "tiles"], capsys)
    assert code == 0, err


@pytest.mark.parametrize("argv, message", [
    (["--solver", "exact-dp", "--max-recompute", "5%"],
     "optimus-opt: error: solver 'exact-dp' cannot keep budgets (max-recompute 1,441,856 added MACs): they couple "
     "the groups' tilings, which only cpsat and milp choose inside their model"),
    (["--solver", "cpsat", "--max-latency", "2.5"],
     "optimus-opt: error: max_latency: a number of cycles is whole, got '2.5' (a time needs a unit: s, ms, us)"),
    (["--solver", "cpsat", "--max-dram", "lots"],
     "optimus-opt: error: max_dram: not a byte size: 'lots' (use e.g. 131072, 128KiB, 1MiB or 128KB)"),
])
def test_bad_budgets_are_refused_in_one_line(capsys, argv, message):
    code, out, err = run_cli(["solve", EXAMPLE, "--tiling", "tiles", "-q", *argv], capsys)
    assert code == 2 and err.strip() == message and out == ""


def test_unknown_objective_is_refused(capsys):
    code, _, err = run_cli(["solve", EXAMPLE, "--objective", "joules"], capsys)
    assert code == 2 and "argument --objective: invalid choice: 'joules'" in err


def test_a_study_measures_gaps_of_its_objective(tmp_path):
    inst = oo.load_instance(EXAMPLE).with_overrides(tiling="tiles")
    result = oo.study([inst], solvers=["layerwise", "exact-dp"], objective="energy", out=tmp_path, plots=False)
    rows = {r["solver"]: r for r in result.rows}
    best = oo.solve(inst, "exact-dp", objective="energy")
    plain = oo.solve(inst, "layerwise", objective="energy")
    assert rows["exact-dp"]["gap"] == 0 and rows["exact-dp"]["energy_fj"] == best.energy_fj == 95_163_667_800
    assert rows["layerwise"]["gap"] == pytest.approx(plain.energy_fj / best.energy_fj - 1)
    assert rows["layerwise"]["dram_bytes"] == plain.dram_bytes
    text = (tmp_path / "summary.md").read_text()
    assert "The runs minimised **energy**" in text and "## Energy (mJ)" in text
    # a DRAM study of the same instance keeps its run ids: the objective enters a run's options only when set
    records = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert all(r["options"]["objective"] == "energy" for r in records)
    plain_plan = oo.study([inst], solvers=["layerwise"], out=tmp_path / "dram", plots=False)
    assert "objective" not in plain_plan.rows[0]["options"] and plain_plan.rows[0]["objective"] == "dram"


def test_a_groups_best_tiling_breaks_ties_of_its_objective_by_dram():
    # formulations/energy.md §4: the objective, then DRAM bytes, then §7.7's tie-break. SqueezeNet's groups are
    # compute-bound under latency, so many tilings tie; the one chosen moves the fewest bytes among them
    from optimus_opt.cost import objective as search
    from optimus_opt.cost.cost_model import CostModel
    from optimus_opt.cost.parts import FULL

    inst = oo.load_instance("instances/paper/squeezenet1_0-optimus-npu-b4.json").with_overrides(tiling="tiles")
    cm = CostModel(inst, objective="latency")
    ties = 0
    for group in oo.solve(inst, "optimus").groups[:6]:
        members = [inst.network.index[n] for n in group.layers]
        best = cm.best_tiling(members)
        opts = search.options(cm, members, FULL)
        tied = opts.figures["latency_cycles"] == best.cost
        ties += int(tied.sum()) > 1
        assert best.latency_cycles == best.cost == int(opts.figures["latency_cycles"].min())
        assert best.dram_bytes == int(opts.figures["dram_bytes"][tied].min())
    assert ties >= 3  # the rule was exercised


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(max_layers=7))
def test_listing_every_tiling_finds_the_cost_models_own_best(inst):
    # objective.py lists every tiling at the buffer and takes the least (objective, DRAM, §7.7 key); with the DRAM
    # objective it must find exactly the tiling of the cost model's own searches (a bisection over strips, the
    # compiled scan of the tile grid), which are written independently of it, for every group of two schedules
    from optimus_opt.cost import objective as search
    from optimus_opt.cost.cost_model import CostModel
    from optimus_opt.cost.parts import FULL, TilingRules

    cm = CostModel(inst)
    groups = {tuple(sorted(inst.network.index[n] for n in g.layers))
              for solver in ("layerwise", "exact-dp") for g in oo.solve(inst, solver).groups}
    for members in sorted(groups):
        for rules in (FULL, TilingRules(resident_only=True, reduced_channels=False)):
            own = cm.best_tiling(members, rules)
            listed = search.best(cm, members, rules, "dram")
            if own is None:
                assert listed is None
                continue
            assert dataclasses.replace(listed, value=None, energy_fj=None, latency_cycles=None) == own, members


def test_milp_refuses_an_objective_beyond_exact_doubles_and_cpsat_solves_it():
    # 10^6 pJ per DRAM and buffer word at batch 8: every layer alone costs more than 2^53 fJ in all, where HiGHS's doubles
    # stop being exact to the fJ
    inst = oo.load_instance(EXAMPLE).with_overrides(tiling="tiles")
    costly = dataclasses.replace(inst, batch=8, accelerator=dataclasses.replace(inst.accelerator, dram_pj=1e6,
                                                                                buffer_pj=1e6))
    with pytest.raises(oo.SolverError, match=r"milp: this model's optimum \(energy\) may exceed 2\^53 .*use cpsat"):
        oo.solve(costly, "milp", objective="energy")
    exact = oo.solve(costly, "cpsat", objective="energy")
    assert exact.status == "optimal" and exact.energy_fj == exact.bound > 2 ** 53


def test_energies_that_would_wrap_64_bit_integers_are_refused():
    # 10^6 pJ on every access and MAC at batch 2^16: a single conv's energy passes 2^62 fJ, where int64 sums could
    # wrap; it is refused in one line instead of coming out negative
    inst = oo.load_instance(EXAMPLE).with_overrides(tiling="tiles")
    acc = dataclasses.replace(inst.accelerator, dram_pj=1e6, buffer_pj=1e6, rf_pj=1e6, mac_pj=1e6,
                              buffer_bytes=1 << 40)
    huge = dataclasses.replace(inst, batch=1 << 16, accelerator=acc)
    with pytest.raises(oo.SolverError, match=r"beyond the 2\^62 fJ \(4.6 kJ\) the energy model counts exactly"):
        oo.solve(huge, "layerwise", objective="energy")
    with pytest.raises(oo.InstanceError, match=r"accelerator.dram_pj.*from 0 to 1,000,000"):
        dataclasses.replace(inst.accelerator, dram_pj=1e7)


@pytest.mark.parametrize("objective", ["latency", "energy"])
def test_exact_solvers_agree_on_the_objective_and_then_the_dram_bytes(objective):
    # formulations/energy.md §4, ties: SqueezeNet's latency optima move from 34 MB to 66 MB (compute-bound groups);
    # every exact solver returns one of least DRAM among them
    inst = oo.load_instance("instances/paper/squeezenet1_0-optimus-npu-b4.json").with_overrides(tiling="tiles")
    found = {s: oo.solve(inst, s, objective=objective) for s in ("exact-dp", "cpsat", "milp")}
    # and over every candidate tiled, where the dominance rule drops a group only for a strictly cheaper split
    found |= {f"{s}, all columns": oo.solve(inst, s, objective=objective, columns="all") for s in ("cpsat", "milp")}
    pairs = {s: (sched.value, sched.dram_bytes) for s, sched in found.items()}
    assert len(set(pairs.values())) == 1, pairs
    expected = {"latency": (10_660_204, 34_349_152), "energy": (7_811_292_641_600, 26_185_952)}[objective]
    assert pairs["cpsat"] == expected and found["cpsat"].solver_info["least_dram"] == "OPTIMAL"


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(max_layers=7, tilings=("tiles",)))
def test_least_dram_among_latency_optima_on_random_instances(inst):
    pairs = {s: (sched.status, sched.value, sched.dram_bytes)
             for s in ("exact-dp", "cpsat", "milp") for sched in [oo.solve(inst, s, objective="latency")]}
    assert len(set(pairs.values())) == 1, pairs
