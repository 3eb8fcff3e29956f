"""What a new user meets first (issue 15): the ``auto`` default and which solver ran, progress on a terminal and
its absence with ``--quiet``, infeasibility explained in figures, bounds labelled with their scope, missing optional
packages said before the work, resumable studies without duplicate records, ONNX batches that agree, colours that
can be told apart, help without markup and messages without typos."""

from __future__ import annotations

import io
import itertools
import json
import os
import sys
from pathlib import Path

import pytest
from helpers import make_instance, run_cli

import optimus_opt as oo
from optimus_opt import zoo
from optimus_opt.cli import build_parser, main
from optimus_opt.solvers.auto import DEFAULT_TIME_LIMIT
from optimus_opt.solvers.diagnose import least_buffer
from optimus_opt.studies import planning, study_progress
from optimus_opt.studies.records import RECORD_FORMAT, RESULTS_FILE, ResultStore
from optimus_opt.utils import progress

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "instances" / "example-64k.json"
E = str(EXAMPLE)


run = run_cli


# -- auto: the default of solve -----------------------------------------------------------------------------------

def test_solve_defaults_to_auto_and_says_what_ran(capsys, example):
    code, out, err = run(["solve", E, "--quiet"], capsys)
    assert code == 0
    assert "solver       auto: optimal" in out
    assert "ran          optimus (feasible" in out and "then efficient-s (feasible" in out
    assert "then cpsat warm-started from optimus (optimal" in out
    assert f"limit {DEFAULT_TIME_LIMIT:g} s" in out
    exact = oo.solve(example, "exact-dp")
    assert f"DRAM traffic {exact.dram_bytes:,} B" in out and f"lower bound  {exact.dram_bytes:,} B (gap 0" in out
    assert err == ""


def test_auto_returns_the_best_schedule_with_its_bound(example):
    sched = oo.solve(example, "auto")
    exact = oo.solve(example, "exact-dp")
    heuristic = oo.solve(example, "optimus")
    assert sched.status == "optimal" and sched.dram_bytes == sched.bound_bytes == exact.dram_bytes
    assert sched.dram_bytes <= heuristic.dram_bytes
    assert oo.evaluate(example, sched).dram_bytes == sched.dram_bytes
    phases = sched.solver_info["phases"]
    assert [p["solver"] for p in phases] == ["optimus", "efficient-s", "greedy-merge", "cpsat"]
    # on the worked example optimus and greedy-merge find the optimum, efficient-s not; a tie goes to the first
    assert phases[3]["warm_start"] == "optimus"
    assert phases[0]["dram_bytes"] == phases[2]["dram_bytes"] == heuristic.dram_bytes == 253_460
    assert phases[1]["dram_bytes"] == oo.solve(example, "efficient-s").dram_bytes > 253_460
    assert sched.solver_info["time_limit_s"] == DEFAULT_TIME_LIMIT and sched.solver_info["bound_scope"] == "all"


def test_auto_keeps_the_heuristic_when_the_exact_solver_has_no_time(example, monkeypatch):
    from optimus_opt.solvers import auto

    monkeypatch.setattr(auto, "MIN_EXACT_SECONDS", 1e9)  # no time would be enough for the exact solver
    monkeypatch.setattr(auto.Auto, "start_beside", lambda *args: None)  # nor is a bound computed beside it
    sched = oo.solve(example, "auto", time_limit=5)
    assert sched.status == "feasible" and sched.bound_bytes is None
    assert sched.dram_bytes == oo.solve(example, "optimus").dram_bytes
    assert sched.solver_info["chosen"] == "optimus" and "raise --time-limit" in sched.message


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the segment bound runs beside the search on a second core")
def test_auto_proves_the_heuristic_optimal_by_the_bound_computed_beside_it(example, monkeypatch):
    from optimus_opt.solvers import auto

    monkeypatch.setattr(auto, "MIN_EXACT_SECONDS", 1e9)  # the exact solver never runs: only the bound beside it
    sched = oo.solve(example, "auto", time_limit=20)
    # the example's one window holds its 9 layers: the segment bound is the optimum (253,460 B, test_exact.py),
    # which the optimus schedule meets
    assert (sched.status, sched.dram_bytes, sched.bound_bytes) == ("optimal", 253_460, 253_460)
    assert sched.solver_info["bound"] == "segment bound, computed beside the search (formulations/segment-bound.md)"
    assert sched.solver_info["segments_finished"] == 1 and sched.solve_seconds < 10


def test_auto_starts_from_the_better_heuristic(monkeypatch):
    """On SqueezeNet 1.0 at 512 KiB greedy-merge's schedule (7,662,944 B) beats Efficient-S's (11,422,688 B) and
    the Optimus recursion's (15,416,160 B): auto keeps it when the exact phase has no time, and warm-starts cpsat
    from it otherwise."""
    from optimus_opt.solvers import auto

    inst = oo.Instance(zoo.build("squeezenet1_0"), oo.Accelerator(512 * 1024, 2, 32, name="optimus-npu"), batch=4)
    sched = oo.solve(inst, "auto")
    phases = sched.solver_info["phases"]
    assert [(p["solver"], p["dram_bytes"]) for p in phases[:3]] == [
        ("optimus", 15_416_160), ("efficient-s", 11_422_688), ("greedy-merge", 7_662_944)]
    assert phases[3]["warm_start"] == "greedy-merge" and sched.status == "optimal"
    assert sched.dram_bytes == oo.solve(inst, "exact-dp").dram_bytes == 7_289_696
    monkeypatch.setattr(auto, "MIN_EXACT_SECONDS", 1e9)
    sched = oo.solve(inst, "auto", time_limit=5)
    assert sched.status == "feasible" and sched.solver_info["chosen"] == "greedy-merge"
    assert sched.dram_bytes == 7_662_944 and oo.evaluate(inst, sched).dram_bytes == 7_662_944


def test_auto_without_ortools_falls_back_to_exact_dp(example, monkeypatch):
    from optimus_opt.solvers.cpsat import CPSat

    monkeypatch.setattr(CPSat, "is_available", classmethod(lambda cls: False))
    sched = oo.solve(example, "auto")
    assert sched.status == "optimal"
    assert [p["solver"] for p in sched.solver_info["phases"]] == ["optimus", "efficient-s", "greedy-merge", "exact-dp"]
    assert sched.dram_bytes == oo.solve(example, "exact-dp").dram_bytes


def test_auto_proves_infeasibility_and_refuses_side_constraints(example):
    tight = example.with_overrides(buffer_bytes=4096)
    sched = oo.solve(tight, "auto")
    assert sched.status == "infeasible" and sched.unplaced and "cpsat proved that no schedule exists" in sched.message
    with pytest.raises(oo.SolverError, match=r"solver 'auto' takes no option 'apart' \(it takes none\); exact-dp, "
                                             "cpsat, milp take it"):
        oo.solve(example, "auto", apart=[["c2", "c3"]])


def test_studies_leave_the_composite_out_by_default():
    from optimus_opt import solvers

    assert "auto" in solvers.available() and "auto" not in solvers.study_default()
    assert set(solvers.study_default()) == set(solvers.available()) - {"auto"}


def test_help_states_the_default_and_has_no_markup():
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # noqa: SLF001 - argparse keeps them there
    zoo = commands["zoo"]._subparsers._group_actions[0].choices  # noqa: SLF001
    texts = [parser.format_help()] + [p.format_help() for p in (*commands.values(), *zoo.values())]
    for text in texts:
        for markup in ("``", ":class:", ":func:", ":mod:", ":meth:"):
            assert markup not in text
    assert "optimus-opt solve mobilenet_v1" in texts[0]
    solve = " ".join(commands["solve"].format_help().split())
    assert f"{DEFAULT_TIME_LIMIT:g} s" in solve and "auto (the default" in solve


# -- progress -----------------------------------------------------------------------------------------------------

class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_drawn_on_a_terminal_and_wiped(monkeypatch, capsys):
    monkeypatch.setattr(progress, "DEFAULT_DELAY", 0.0)  # draw at once, on every event
    monkeypatch.setattr(progress, "DEFAULT_INTERVAL", 0.0)  # no redraw thread: only events draw
    term = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", term)
    assert main(["solve", E, "--solver", "cpsat"]) == 0
    drawn = term.getvalue()
    assert "\r" in drawn
    assert "optimus-opt cpsat: enumerating candidate groups" in drawn
    assert "column generation" in drawn and "solving the model over the LP's columns" in drawn
    assert "candidate groups" in drawn and " s" in drawn
    assert drawn.endswith("\r")  # wiped before the result was printed
    out = capsys.readouterr().out
    assert "cpsat: optimal" in out and "\r" not in out


def test_progress_shows_the_incumbent_and_the_bound(monkeypatch):
    monkeypatch.setattr(progress, "DEFAULT_DELAY", 0.0)
    monkeypatch.setattr(progress, "DEFAULT_INTERVAL", 0.0)
    monkeypatch.setenv("COLUMNS", "400")  # the fake terminal has no size; lines are not cut at 100 columns
    term = FakeTerminal()
    line = progress.for_terminal(term)
    sched = oo.solve(oo.load_instance(EXAMPLE), "auto", progress=line)
    line.close()
    drawn = term.getvalue()
    assert "optimus-opt optimus: growing groups" in drawn
    assert "optimus-opt cpsat (warm-started from optimus)" in drawn
    assert f"incumbent {sched.dram_bytes:,} B" in drawn and f"bound {sched.bound_bytes:,} B" in drawn


def test_no_progress_with_quiet_or_without_a_terminal(monkeypatch, capsys):
    monkeypatch.setattr(progress, "DEFAULT_DELAY", 0.0)
    term = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", term)
    assert main(["solve", E, "--solver", "cpsat", "--quiet"]) == 0
    assert term.getvalue() == ""
    assert progress.for_terminal(term, quiet=True) is progress.NULL
    assert progress.for_terminal(io.StringIO()) is progress.NULL  # not a terminal: a log stays clean
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert main(["solve", E, "--solver", "cpsat"]) == 0
    assert sys.stderr.getvalue() == ""


def test_a_quick_run_draws_nothing(monkeypatch):
    term = FakeTerminal()
    line = progress.StatusLine(term, delay=3600, interval=0)
    line.solver("x")
    line.phase("y")
    line.update(candidates=3)
    line.close()
    assert term.getvalue() == ""


def test_the_header_comes_before_the_solve(monkeypatch, capsys):
    seen = {}

    def spy(*args, **kwargs):
        seen["out"] = capsys.readouterr().out
        raise oo.SolverError("stop here")

    monkeypatch.setattr(oo.solvers, "solve", spy)
    assert main(["solve", E, "--quiet"]) == 2
    assert seen["out"].startswith("instance     cost-model-example-64k:")


def test_gap_progress_shows_the_runs_in_flight(capsys):
    specs = planning.plan([oo.load_instance(EXAMPLE)], ["layerwise", "exact-dp"])
    term = FakeTerminal()
    bar = study_progress.Progress(specs, stream=term, skipped=3)
    bar.draw_now()
    assert "0/2, 3 done before" in term.getvalue()
    bar.start_run(specs[0])
    assert "running: cost-model-example-64k layerwise 0:00" in term.getvalue()
    assert bar.eta() is None
    bar.update({"run_id": specs[0].run_id, "instance": "cost-model-example-64k", "solver": "layerwise",
                "status": "feasible", "wall_seconds": 0.01})
    assert bar.running == {} and bar.eta() is not None
    log = io.StringIO()
    quiet = study_progress.Progress(specs, stream=log)
    quiet.QUIET_SECONDS = 0.0
    quiet.start_run(specs[1])
    quiet.tick()
    assert "running: cost-model-example-64k exact-dp" in log.getvalue() and "\r" not in log.getvalue()


# -- infeasible instances, in figures -----------------------------------------------------------------------------

def test_infeasible_solve_says_what_each_layer_needs_and_the_least_buffer(capsys, example):
    code, out, err = run(["solve", E, "--buffer", "4096", "--quiet"], capsys)
    assert code == 1
    assert "fit no group of the 4,096 B buffer; each needs more:" in out
    alone = oo.CostModel(example).least_buffer([example.network.index["c2"]])
    assert f"'c2' needs {alone:,} B alone" in out
    need = least_buffer(example)
    assert need.least is not None and f"least buffer {need.least:,} B" in out and f"--buffer {need.least}" in out


def _feasible(inst: oo.Instance, buffer: int) -> bool:
    return oo.solve(inst.with_overrides(buffer_bytes=buffer), "exact-dp").status == "optimal"


def test_least_buffer_is_the_least(example):
    need = least_buffer(example)
    assert need.least is not None and need.least <= need.layer_by_layer
    assert _feasible(example, need.least) and not _feasible(example, need.least - 1)


def test_least_buffer_below_layer_by_layer_when_fusion_helps():
    # a wide conv that reads a wider one: alone, c2 reads all 64 channels of c1; fused, c1 keeps Tc = 8 of them
    inst = make_instance([
        {"name": "x", "op": "input", "shape": [4, 16, 16]},
        {"name": "c1", "op": "conv", "inputs": ["x"], "channels": 64, "kernel": 1},
        {"name": "c2", "op": "conv", "inputs": ["c1"], "channels": 4, "kernel": 3, "padding": 1},
    ], 1 << 20, tc=8)
    need = least_buffer(inst, layers=["c2"])
    assert need.least is not None and need.least < need.layer_by_layer
    assert need.layers["c2"].in_group < need.layers["c2"].alone
    assert _feasible(inst, need.least) and not _feasible(inst, need.least - 1)


def test_least_buffer_gives_bounds_when_out_of_time(example, monkeypatch):
    import optimus_opt.solvers.diagnose as diagnose

    inst = make_instance([
        {"name": "x", "op": "input", "shape": [4, 16, 16]},
        {"name": "c1", "op": "conv", "inputs": ["x"], "channels": 64, "kernel": 1},
        {"name": "c2", "op": "conv", "inputs": ["c1"], "channels": 4, "kernel": 3, "padding": 1},
    ], 1 << 20, tc=8)
    original = diagnose.CandidateSpace.__init__

    def stopped(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.complete = False

    monkeypatch.setattr(diagnose.CandidateSpace, "__init__", stopped)
    need = least_buffer(inst)
    assert need.least is None and need.low < need.high == need.layer_by_layer


# -- bounds over a restricted space are labelled ---------------------------------------------------------------------

def test_a_capped_bound_is_labelled(capsys):
    code, out, err = run(["solve", E, "--solver", "cpsat", "--max-group", "2", "--quiet"], capsys)
    assert code == 0
    bound_line = next(line for line in out.splitlines() if line.startswith("lower bound"))
    assert "a bound over groups of at most 2 layers only: not a bound over all schedules" in bound_line
    code, out, err = run(["solve", E, "--solver", "cpsat", "--quiet"], capsys)
    bound_line = next(line for line in out.splitlines() if line.startswith("lower bound"))
    assert "only" not in bound_line


# -- optional packages: said before the work ------------------------------------------------------------------------

@pytest.fixture
def no_matplotlib(monkeypatch):
    """As if matplotlib were not installed: importing it fails (a None entry in sys.modules)."""
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)


def test_pareto_plot_without_matplotlib_is_refused_before_the_work(no_matplotlib, monkeypatch, capsys, tmp_path):
    from optimus_opt.solvers import pareto

    def must_not_run(*args, **kwargs):
        raise AssertionError("the front was computed")

    monkeypatch.setattr(pareto, "pareto_front", must_not_run)
    code, out, err = run(["pareto", E, "--plot", str(tmp_path / "p.png")], capsys)
    assert code == 2 and out == ""
    assert err == ("optimus-opt: error: --plot needs matplotlib, which is not installed: pip install -e '.[plot]' in "
                   "the optimus-opt clone, or pip install matplotlib\n")


def test_gap_and_report_without_matplotlib_say_so_and_write_no_plots(no_matplotlib, capsys, tmp_path):
    out_dir = tmp_path / "study"
    code, out, err = run(["gap", E, "--solvers", "layerwise", "--out", str(out_dir), "--no-progress"], capsys)
    assert code == 0
    assert err.startswith("optimus-opt: note: no plots: plots need matplotlib, which is not installed: "
                          "pip install -e '.[plot]'")
    assert not (out_dir / "plots").exists() and (out_dir / "summary.md").is_file()
    code, out, err = run(["report", str(out_dir)], capsys)
    assert code == 0 and "plots" not in out and "pip install -e '.[plot]'" in err
    code, out, err = run(["report", str(out_dir), "--no-plots"], capsys)
    assert code == 0 and err == ""


def test_show_without_a_drawer_is_refused_before_the_work(no_matplotlib, monkeypatch, capsys, tmp_path):
    import shutil

    from optimus_opt.io import show

    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(show, "evaluate", lambda *a, **k: (_ for _ in ()).throw(AssertionError("evaluated")))
    sched = tmp_path / "s.json"
    assert main(["solve", E, "--solver", "layerwise", "-o", str(sched), "--quiet"]) == 0
    capsys.readouterr()
    code, out, err = run(["show", E, str(sched), "-o", str(tmp_path / "s.png")], capsys)
    assert code == 2 and "matplotlib or Graphviz's dot, and neither is installed: pip install -e '.[plot]'" in err


def test_install_hints_work_from_a_clone():
    from optimus_opt.utils import extras

    for extra in ("plot", "onnx", "dask"):
        assert f"pip install -e '.[{extra}]'" in extras.install_hint(extra)
    readme = (ROOT / "README.md").read_text()
    assert "pip install 'optimus-opt[" not in readme


# -- studies: retrying failed runs leaves one record per run ----------------------------------------------------------

def test_retry_failed_replaces_the_record(tmp_path, capsys):
    out_dir = tmp_path / "study"
    # exact-dp refuses a side constraint on an unknown layer when it runs: the run is recorded as an error, every time
    bad = ["gap", E, "--solvers", "layerwise,exact-dp", "--option", "exact-dp:apart=[[c2, nosuch]]", "--out",
           str(out_dir),
           "--no-progress", "--no-plots", "--executor", "inline"]
    assert main(bad) == 1
    capsys.readouterr()
    lines = (out_dir / "results.jsonl").read_text().splitlines()
    assert len(lines) == 2
    assert main(bad + ["--retry-failed"]) == 1
    text = capsys.readouterr()
    assert "2 runs (1 run now (1 of them again after an error or timeout), 1 recorded before)" in text.out
    assert "1 run failed (error or timeout)" in text.err
    lines = (out_dir / "results.jsonl").read_text().splitlines()
    ids = [json.loads(line)["run_id"] for line in lines]
    assert len(lines) == 2 and len(set(ids)) == 2  # one record per run, the newer one
    summary = (out_dir / "summary.md").read_text()
    assert "2 runs: 1 instance × 2 solvers (1 error, 1 feasible)" in summary


def test_compaction_keeps_the_newest_record_and_drops_half_lines(tmp_path):
    store = ResultStore(tmp_path)
    rec = {"format": RECORD_FORMAT, "run_id": "a", "status": "error"}
    newer = dict(rec, status="feasible")
    other = dict(rec, run_id="b")
    (tmp_path / RESULTS_FILE).write_text(
        "\n".join(json.dumps(r) for r in (rec, other, newer)) + "\n{\"format\": \"optimus-o")
    assert store.compact() == 2
    assert [json.loads(line) for line in (tmp_path / RESULTS_FILE).read_text().splitlines()] == [other, newer]
    assert store.compact() == 0


def test_study_refuses_a_file_as_its_directory(tmp_path):
    path = tmp_path / "afile"
    path.write_text("x")
    with pytest.raises(oo.InstanceError, match="afile: field 'out': is a file"):
        oo.study(E, solvers=["layerwise"], out=path)


# -- ONNX: solve MODEL.onnx agrees with import-onnx then solve ---------------------------------------------------------

def test_solve_onnx_runs_like_its_imported_network(tmp_path, capsys):
    pytest.importorskip("onnx")
    model, net = tmp_path / "sq.onnx", tmp_path / "sq.json"
    assert main(["export-onnx", "squeezenet1_1", "-o", str(model)]) == 0  # exported at batch 1
    assert main(["import-onnx", str(model), "-o", str(net)]) == 0
    capsys.readouterr()
    code, direct, err = run(["solve", str(model), "--solver", "layerwise", "--json"], capsys)
    assert code == 0 and "exported at batch 1; it runs at batch 4" in err
    code, imported, _ = run(["solve", str(net), "--solver", "layerwise", "--json"], capsys)
    assert json.loads(direct)["dram_bytes"] == json.loads(imported)["dram_bytes"]
    assert json.loads(direct)["instance"] == json.loads(imported)["instance"] == "squeezenet1_1-optimus-npu-b4"
    code, out, err = run(["solve", str(model), "--solver", "layerwise", "--batch", "2", "--quiet"], capsys)
    assert code == 0 and "batch 2" in out and err == ""  # --batch overrides, and is never refused


# -- pictures: groups that can be told apart ------------------------------------------------------------------------

def test_palette_colours_differ():
    from optimus_opt.io.show import PALETTE, delta_e

    assert delta_e("#ffffff", "#ffffff") == 0
    # the pairs the issue could not tell apart in the former palette
    assert delta_e("#f9c74f", "#ffd166") < 5
    assert min(delta_e(a, b) for a, b in itertools.combinations(PALETTE[:15], 2)) > 19
    assert min(delta_e(a, b) for a, b in itertools.combinations(PALETTE, 2)) > 16
    assert min(delta_e(c, "#ffffff") for c in PALETTE) > 15


def test_past_the_palette_touching_groups_differ():
    from optimus_opt.io.show import PALETTE, delta_e, group_colors

    n = len(PALETTE) + 12
    layers = [{"name": "x", "op": "input", "shape": [4, 8, 8]}]
    layers += [{"name": f"c{k}", "op": "conv", "inputs": [f"c{k - 1}" if k else "x"], "channels": 4, "kernel": 1}
               for k in range(n)]
    inst = make_instance(layers, 1 << 20)
    sched = oo.solve(inst, "layerwise")
    colours = group_colors(inst, sched)
    assert colours[:len(PALETTE)] == list(range(len(PALETTE)))
    for k in range(1, n):  # a chain: group k touches group k - 1
        assert delta_e(PALETTE[colours[k]], PALETTE[colours[k - 1]]) > 16


# -- messages -------------------------------------------------------------------------------------------------------

def test_message_wording(tmp_path, example):
    with pytest.raises(oo.InstanceError, match=r"Unterminated string starting at line 1 column 1$"):
        oo.load_instance(_write(tmp_path, "s.json", '"abc'))
    with pytest.raises(oo.InstanceError, match="an instance document must be an object"):
        oo.load_instance(_write(tmp_path, "l.json", "[]"))
    tight = example.with_overrides(buffer_bytes=4000)
    message = oo.solve(tight, "layerwise").message
    assert "the 4,000-byte buffer" in message and "needs at least 4,736 bytes" in message
    one = oo.solve(make_instance([{"name": "x", "op": "input", "shape": [64, 8, 8]},
                                  {"name": "c", "op": "conv", "inputs": ["x"], "channels": 64, "kernel": 3}], 64),
                   "exact-dp")
    assert one.status == "infeasible" and "1 layer fit no group" in one.message
    with pytest.raises(oo.InstanceError, match="an upsample layer takes exactly one input, got 2"):
        make_instance([{"name": "x", "op": "input", "shape": [4, 8, 8]},
                       {"name": "y", "op": "input", "shape": [4, 8, 8]},
                       {"name": "u", "op": "upsample", "inputs": ["x", "y"], "scale": 2}], 1 << 20)
    from optimus_opt.cli import summary

    odd = example.with_overrides(buffer_bytes=266064)
    text = summary(odd, oo.solve(odd, "layerwise"))
    assert "buffer 266,064 B, 2-byte words" in text and "266064" not in text


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_onnx_export_without_onnx_says_how_to_install_it(monkeypatch, example):
    """The library call (not only the CLI, which checks first) names the missing extra and its install command."""
    for name in list(sys.modules):
        if name == "onnx" or name.startswith("onnx."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(oo.OptimusError) as err:
        oo.network_to_onnx(example.network)
    assert str(err.value) == ("ONNX import and export need onnx, which is not installed: pip install -e '.[onnx]' in "
                              "the optimus-opt clone, or pip install onnx")
