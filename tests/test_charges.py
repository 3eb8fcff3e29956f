"""A schedule charged by the segment bound's windows (optimus_opt/solvers/charges.py, formulations/segment-bound.md,
"Charging a schedule"): the charges derived by hand on the worked example, the bound's two inequalities on random
DAGs, and what the CLI prints and refuses."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from helpers import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import instances

import optimus_opt as oo
from optimus_opt.io.resolve import resolve_instance
from optimus_opt.solvers.charges import charge
from optimus_opt.solvers.segment_bound import segment_bound
from optimus_opt.utils.deadline import Deadline

EXAMPLE = "instances/example-64k.json"


def optimum_of_the_example():
    inst = oo.load_instance(EXAMPLE)
    best = oo.solve(inst, "exact-dp")
    assert [list(g.layers) for g in best.groups] == [["c1", "c2", "c3", "a1"], ["p1", "c4", "c5", "g", "fc"]]
    return inst, best


def test_the_worked_examples_optimum_charged_window_by_window():
    # cores of two layers, c1 c2 | c3 a1 | p1 c4 | c5 g | fc, each window with four layers either side
    inst, best = optimum_of_the_example()
    bound = oo.lower_bound(inst, segment_layers=2, merge=0)
    charges = oo.charge_schedule(inst, bound, best)
    charged = [w.charged for w in charges.windows]
    # {c1, c2}: x loaded (16 × 32 × 32 words) and the weights of c1 and c2 (16·32·9 + 32·32·9 words), resident
    assert charged[0] == 2 * (16 * 32 * 32 + 16 * 32 * 9 + 32 * 32 * 9) == 60_416
    # {c3, a1}: c3's weights, and a1 stored since its reader p1 lies in the window outside the group
    assert charged[1] == 2 * (32 * 32 * 9 + 32 * 32 * 32) == 83_968
    # {p1, c4}: a1 loaded by p1, its first reader, and c4's weights (1 × 1, 32 to 64 channels)
    assert charged[2] == 2 * (32 * 32 * 32 + 32 * 64) == 69_632
    # {c5, g}: c5's weights (3 × 3, 32 to 64 channels); g's tensor stays in the group
    assert charged[3] == 2 * 32 * 64 * 9 == 36_864
    # fc: its weights (128 channels of the concat to 10) and its output, a network output
    assert charged[4] == 2 * (128 * 10 + 10) == 2_580
    assert (charges.schedule_bytes, charges.charged, charges.uncharged) == (253_460, 253_460, 0)
    # the windows alone prove 151,060 B; the coupling raises them to the optimum
    assert [w.proven for w in charges.windows] == [60_416, 18_432, 32_768, 36_864, 2_580]
    assert charges.excess == 253_460 - 151_060 == 102_400
    assert [w.excess for w in charges.windows] == [0, 65_536, 36_864, 0, 0]
    assert charges.bound_bytes == bound.bytes == 253_460


SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(instances(min_layers=2, max_layers=9), st.integers(1, 4), st.integers(0, 3),
       st.sampled_from(["exact-dp", "greedy-merge", "layerwise"]))
def test_every_schedule_is_charged_at_most_its_bytes_and_each_window_at_least_what_it_proved(
        inst, size, overlap, solver):
    sched = oo.solve(inst, solver)
    if sched.status not in ("optimal", "feasible"):
        return
    bound = oo.lower_bound(inst, segment_layers=size, overlap=overlap)
    charges = oo.charge_schedule(inst, bound, sched)  # raises if either inequality fails
    assert charges.complete
    assert charges.schedule_bytes == sched.dram_bytes
    assert all(w.charged >= w.proven for w in charges.windows)
    assert charges.schedule_bytes == sum(w.proven for w in charges.windows) + charges.excess + charges.uncharged
    assert charges.uncharged >= 0


def test_a_window_claiming_more_than_it_charges_is_refused():
    inst, best = optimum_of_the_example()
    bound = oo.lower_bound(inst, segment_layers=2, merge=0)
    claimed = list(bound.per_segment)
    claimed[1] = 83_969
    with pytest.raises(oo.SolverError, match="window 1 .c3 .. a1. charges the schedule 83,968 B, less than the "
                                             "83,969 B it proved"):
        oo.charge_schedule(inst, replace(bound, per_segment=tuple(claimed)), best)


def test_windows_charging_a_group_more_than_it_moves_are_refused():
    inst, best = optimum_of_the_example()
    cm = oo.CostModel(inst)
    bound = segment_bound(cm, 2)
    groups = [[inst.network.index[name] for name in g.layers] for g in best.groups]
    moved = [g.read_bytes + g.write_bytes for g in best.groups]
    charge(cm, bound, groups, moved)
    with pytest.raises(oo.SolverError, match=r"group 0 \(c1 \.\.\) 144,384 B, more than the 144,383 B it moves"):
        charge(cm, bound, groups, [moved[0] - 1, moved[1]])


def test_cli_charges_a_schedule_file(capsys, tmp_path):
    sched = tmp_path / "best.json"
    assert run_cli(["solve", EXAMPLE, "--solver", "exact-dp", "-q", "-o", str(sched)], capsys)[0] == 0
    code, out, err = run_cli(["bound", EXAMPLE, "--segment", "2", "--merge", "0", "--charge", str(sched)], capsys)
    assert code == 0, err
    assert (f"charged      {sched}: 253,460 B; the solved windows charge 253,460 B, 0 B of it charged by no window, "
            "102,400 B beyond what each proved alone (the schedule is 0 B above the bound)") in out
    assert [line.split()[1:] for line in out.splitlines() if line.split()[:1] == ["1"]] == \
        [["18,432", "83,968", "65,536", "c3", "..", "a1"]]
    code, out, _ = run_cli(["bound", EXAMPLE, "--charge", str(sched), "--json"], capsys)
    doc = json.loads(out)["charges"]
    assert (doc["schedule_bytes"], doc["charged"], doc["uncharged"], doc["excess"]) == (253_460, 253_460, 0, 0)
    assert doc["windows"] == [{"first": 1, "last": 10, "proven": 253_460, "charged": 253_460, "excess": 0}]


def test_cli_refuses_what_it_cannot_charge(capsys, tmp_path):
    code, _, err = run_cli(["bound", EXAMPLE, "--charge", str(tmp_path / "none.json")], capsys)
    assert (code, err.strip()) == (2, f"optimus-opt: error: {tmp_path / 'none.json'}: schedule file not found")
    sched = tmp_path / "best.json"
    run_cli(["solve", EXAMPLE, "--solver", "exact-dp", "-q", "-o", str(sched)], capsys)
    code, _, err = run_cli(["bound", EXAMPLE, "--max-group", "4", "--charge", str(sched)], capsys)
    assert code == 2
    assert "group 1 (p1 ..) has 5 layers: a bound over groups of at most 4 layers does not hold for it" in err
    bound = oo.lower_bound(oo.load_instance(EXAMPLE), segment_layers=2)
    squeezenet = resolve_instance("squeezenet1_0", buffer=128 * 1024)
    with pytest.raises(oo.SolverError, match="the bound was computed for another instance than 'squeezenet1_0"):
        oo.charge_schedule(squeezenet, bound, oo.load_schedule(sched))
    # the same network at another buffer is another instance: its windows' local costs are not the bound's
    smaller = oo.load_instance("instances/example-32k.json")
    with pytest.raises(oo.SolverError, match="another instance than 'cost-model-example-32k' "
                                             "\\('cost-model-example-64k'\\)"):
        oo.charge_schedule(smaller, bound, oo.load_schedule(sched))


def test_windows_a_deadline_stopped_charge_nothing():
    inst, best = optimum_of_the_example()
    bound = segment_bound(oo.CostModel(inst), 2, deadline=Deadline.after(0))
    assert not any(bound.finished)
    charges = oo.charge_schedule(inst, bound, best)
    # each core then proves its weights once and its network outputs; no window charges the schedule anything
    # (c1 c2 | c3 a1 | p1 c4 | c5 g | fc)
    assert [(w.proven, w.charged, w.excess) for w in charges.windows] == [
        (2 * (16 * 32 * 9 + 32 * 32 * 9), None, None), (2 * 32 * 32 * 9, None, None), (2 * 32 * 64, None, None),
        (2 * 32 * 64 * 9, None, None), (2 * (128 * 10 + 10), None, None)]
    assert (charges.charged, charges.excess, charges.uncharged, charges.complete) == (0, 0, None, False)


def test_merged_cores_are_charged_by_their_own_windows():
    # widened in a time limit, the five cores of two layers join into one core of the whole network, whose window
    # proves the optimum: it charges the optimum all of its bytes, and no other window is left
    inst, best = optimum_of_the_example()
    bound = oo.lower_bound(inst, segment_layers=2, time_limit=30)
    assert (bound.merged, len(bound.segments)) == (1, 1)
    charges = oo.charge_schedule(inst, bound, best)
    assert [(w.first, w.last, w.proven, w.charged) for w in charges.windows] == [(1, 10, 253_460, 253_460)]
