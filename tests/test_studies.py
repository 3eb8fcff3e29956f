"""Studies (optimus_opt/studies/study.py, report.py): the run matrix, records that re-evaluate, gaps, resume
after an interruption, failures recorded without stopping, the Dask executor, the CLI and the paper preset."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import time
from pathlib import Path

import pytest

import optimus_opt as oo
from optimus_opt.cli import main
from optimus_opt.solvers.base import Solver, SolverResult
from optimus_opt.studies import paper, planning, report
from optimus_opt.studies.records import instance_id, load_records, load_run_schedule, run_id

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "instances" / "suites" / "smoke.json"
EXAMPLE = ROOT / "instances" / "example-64k.json"
SQUEEZE = ROOT / "instances" / "paper" / "squeezenet1_0-optimus-npu-b4.json"
VGG = ROOT / "instances" / "paper" / "vgg16-optimus-npu-b4.json"
EXACT = ("exact-dp", "cpsat", "milp")


def _instances_by_id(inputs) -> dict[str, oo.Instance]:
    return {instance_id(i): i for i in planning.resolve_inputs(inputs)}


@pytest.fixture(scope="module")
def smoke_study(tmp_path_factory):
    out = tmp_path_factory.mktemp("smoke")
    solvers = ["layerwise", "dnnvm", "efficient-s", "optimus", "exact-dp", "cpsat", "milp"]
    result = oo.study(str(SMOKE), solvers=solvers, time_limit=30, jobs=2, out=out)
    return out, solvers, result


def test_smoke_study_writes_every_file_and_numbers_re_evaluate(smoke_study):
    out, solvers, result = smoke_study
    for name in ("results.jsonl", "summary.md", "summary.csv", "manifest.json"):
        assert (out / name).is_file(), name
    for stem in ("gap", "time-vs-size"):
        for ext in ("png", "svg"):
            assert (out / "plots" / f"{stem}.{ext}").stat().st_size > 1000
    records = load_records(out)
    assert len(records) == 4 * len(solvers) == len(result.records) == len(result.executed)
    by_id = _instances_by_id(str(SMOKE))
    for rec in records:
        assert rec["status"] in ("optimal", "feasible"), rec
        inst = by_id[rec["instance_id"]]
        sched = load_run_schedule(out, rec)
        assert sched is not None and sched.solver == rec["solver"]
        ev = oo.evaluate(inst, sched)
        assert ev.dram_bytes == rec["dram_bytes"]
        assert ev.compulsory_bytes == rec["compulsory_bytes"]
        assert len(sched.groups) == rec["groups"]
        assert rec["peak_rss_bytes"] >= rec["start_rss_bytes"] > 0
        assert rec["versions"]["optimus_opt"] == oo.__version__
    # the known optima: the worked example of formulations/cost-model.md, SqueezeNet 1.0 in the paper's setting
    optimum = {r["instance"]: r["dram_bytes"] for r in records if r["solver"] == "exact-dp"}
    assert optimum["cost-model-example-64k"] == 253_460
    assert optimum["squeezenet1_0-optimus-npu-b4"] == 34_120_864


def test_smoke_study_gaps_are_exact(smoke_study):
    out, solvers, result = smoke_study
    records = load_records(out)
    optimum = {r["instance_id"]: r["dram_bytes"] for r in records if r["solver"] == "exact-dp"}
    rows = result.rows
    assert len(rows) == len(records)
    for row in rows:
        assert row["best_bound_bytes"] == optimum[row["instance_id"]]
        assert row["gap"] >= 0
        assert row["gap"] == (row["dram_bytes"] - optimum[row["instance_id"]]) / optimum[row["instance_id"]]
        if row["solver"] in EXACT:
            assert row["gap"] == 0 and row["status"] == "optimal"
    squeeze = {r["solver"]: r for r in rows if r["instance"] == "squeezenet1_0-optimus-npu-b4"}
    assert squeeze["optimus"]["gap"] == pytest.approx(54_635_968 / 34_120_864 - 1)
    assert squeeze["optimus"]["reduction_vs_layerwise"] == pytest.approx(1 - 54_635_968 / 96_670_912)
    agg = {a["solver"]: a for a in result.aggregates}
    for name in EXACT:
        assert agg[name]["geomean_gap"] == 0 and agg[name]["worst_gap"] == 0 and agg[name]["optimal"] == 4
    assert agg["layerwise"]["optimal"] == 0 and agg["layerwise"]["worst_gap"] > 0
    assert agg["optimus"]["worst_gap"] == max(r["gap"] for r in rows if r["solver"] == "optimus")

    text = (out / "summary.md").read_text()
    assert "| squeezenet1_0 | optimus-npu | 128 KiB | 4 | 34.121 | 96.671 |" in text
    assert "+60.12 %" in text and "## Aggregates" in text
    table = list(csv.DictReader(io.StringIO((out / "summary.csv").read_text())))
    assert len(table) == len(rows) + len(solvers)
    cell = next(r for r in table if r["instance"] == "squeezenet1_0-optimus-npu-b4" and r["solver"] == "cpsat")
    assert int(cell["dram_bytes"]) == 34_120_864 and float(cell["gap"]) == 0
    assert sum(1 for r in table if r["network"] == "(aggregate)") == len(solvers)

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format"] == "optimus-opt/study@1" and manifest["seeds"] == [0]
    assert manifest["options"]["solvers"] == solvers and manifest["options"]["time_limit"] == 30
    assert {"optimus_opt", "python", "ortools", "highspy"} <= set(manifest["versions"])
    assert manifest["runs"] == {"planned": 28, "skipped": 0, "executed": 28, "interrupted": False}


def test_run_ids_are_stable_and_depend_on_content_solver_and_options():
    inst = oo.load_instance(EXAMPLE)
    opts = planning.solver_options("cpsat", time_limit=10)
    assert run_id(inst, "cpsat", opts) == run_id(oo.load_instance(EXAMPLE), "cpsat", dict(opts))
    assert run_id(inst, "cpsat", opts) != run_id(inst, "milp", opts)
    assert run_id(inst, "cpsat", opts) != run_id(inst, "cpsat", {**opts, "time_limit": 11})
    bigger = inst.with_overrides(buffer_bytes=2 * inst.accelerator.buffer_bytes)
    assert run_id(inst, "cpsat", opts) != run_id(bigger, "cpsat", opts)
    # heuristics take no time limit, so a new limit does not make their runs new
    assert planning.solver_options("optimus", time_limit=5) == planning.solver_options("optimus", time_limit=50)


class _Stop(Exception):
    pass


def test_resume_after_interruption_runs_exactly_the_missing_runs(tmp_path):
    solvers = ["layerwise", "optimus", "exact-dp"]
    inputs = [str(EXAMPLE), str(SQUEEZE)]
    kw = dict(solvers=solvers, buffers=["64KiB", "128KiB"], time_limit=20, out=tmp_path, plots=False)
    seen = []

    def stop_after_three(record):
        seen.append(record["run_id"])
        if len(seen) == 3:
            raise _Stop

    with pytest.raises(_Stop):
        oo.study(inputs, jobs=2, callback=stop_after_three, **kw)
    recorded = [r["run_id"] for r in load_records(tmp_path)]
    assert recorded == seen  # every finished run was stored, in order, nothing else
    assert (tmp_path / "summary.md").is_file()  # summaries are written on the way out
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["runs"]["interrupted"] is True and manifest["runs"]["executed"] == 3
    # a process killed in the middle of a write leaves half a line: it is skipped, and the file stays usable
    with (tmp_path / "results.jsonl").open("a") as fh:
        fh.write('{"format": "optimus-opt/run@1", "run_id": "dead')

    planned = planning.plan(planning.expand(planning.resolve_inputs(inputs), [65536, 131072]), solvers,
                           time_limit=20)
    assert len(planned) == 12
    again = oo.study(inputs, jobs=2, **kw)
    assert sorted(again.skipped) == sorted(seen)
    assert sorted(again.executed) == sorted({s.run_id for s in planned} - set(seen))
    records = load_records(tmp_path)
    assert sorted(r["run_id"] for r in records) == sorted(s.run_id for s in planned)
    third = oo.study(inputs, jobs=2, **kw)
    assert third.executed == [] and len(third.skipped) == 12
    assert len(json.loads((tmp_path / "manifest.json").read_text())["history"]) == 3


class _Boom(Solver):
    name = "test-boom"
    description = "raises"
    space = "none"

    def search(self, cm, options):
        raise RuntimeError("kaput in the solver")


class _Sleepy(Solver):
    name = "test-sleepy"
    description = "sleeps past any hard limit"
    space = "none"

    def search(self, cm, options):
        time.sleep(60)
        return SolverResult(status="unknown")


class _Dies(Solver):
    name = "test-dies"
    description = "kills its process"
    space = "none"

    def search(self, cm, options):
        os._exit(3)


def test_failures_are_recorded_and_do_not_stop_the_study(tmp_path, register_solver):
    for cls in (_Boom, _Sleepy, _Dies):
        register_solver(cls)
    solvers = ["test-boom", "test-sleepy", "test-dies", "layerwise"]
    result = oo.study(str(EXAMPLE), solvers=solvers, jobs=2, hard_limit=1.5, out=tmp_path, plots=False)
    by_solver = {r["solver"]: r for r in result.records}
    assert by_solver["layerwise"]["status"] == "feasible" and by_solver["layerwise"]["dram_bytes"] == 892_948
    assert by_solver["test-boom"]["status"] == "error"
    assert "RuntimeError: kaput in the solver" in by_solver["test-boom"]["error"]
    assert by_solver["test-sleepy"]["status"] == "timeout"
    assert "hard wall limit of 1.5 s" in by_solver["test-sleepy"]["error"]
    assert by_solver["test-dies"]["status"] == "error" and "exit code 3" in by_solver["test-dies"]["error"]
    text = (tmp_path / "summary.md").read_text()
    assert "## Failed runs" in text and "kaput in the solver" in text
    # a rerun leaves failures alone, unless asked to retry them
    assert oo.study(str(EXAMPLE), solvers=solvers, out=tmp_path, hard_limit=1.5, plots=False).executed == []
    retried = oo.study(str(EXAMPLE), solvers=["test-boom", "layerwise"], out=tmp_path, retry_failed=True,
                       plots=False, render=False)
    assert [by_solver["test-boom"]["run_id"]] == retried.executed


def test_infeasible_and_unproven_runs_are_reported_honestly(tmp_path):
    # VGG-16 has no schedule at 32 KiB (features.2 alone needs more); no exact solver: gaps are unproven
    small_vgg = oo.load_instance(VGG).with_overrides(buffer_bytes=32 * 1024)
    result = oo.study([small_vgg, str(SQUEEZE)], solvers=["layerwise", "optimus"], out=tmp_path, plots=False)
    vgg = [r for r in result.rows if r["network"] == "vgg16"]
    assert {r["status"] for r in vgg} == {"infeasible"} and all(r["dram_bytes"] is None for r in vgg)
    assert all(r["gap"] is None and r["best_bound_bytes"] is None for r in result.rows)
    squeeze = next(r for r in result.rows if r["network"] == "squeezenet1_0" and r["solver"] == "layerwise")
    assert squeeze["gap_to_best_known"] == pytest.approx(96_670_912 / 54_635_968 - 1)
    text = (tmp_path / "summary.md").read_text()
    assert "| vgg16 | optimus-npu | 32 KiB | 4 | unproven | infeasible | infeasible |" in text
    assert f"unproven (+{100 * (96_670_912 / 54_635_968 - 1):.2f} % vs best found)" in text


class _Stopped(Solver):
    """An exact solver that proves small networks (exact-dp's result) and that a limit stops at once on larger ones,
    as on NASNet-A Mobile: layerwise's schedule, and the compulsory traffic as its only bound (``bound_scope``
    all)."""

    name, description, space, exact = "test-stopped", "stopped at once beyond 9 layers", "every schedule", True

    def search(self, cm, options):
        if len(cm.network.layer_ids) <= 9:
            return oo.solvers.get("exact-dp").search(cm, options)
        every_layer = [((u,), cm.best_tiling((u,))) for u in cm.network.layer_ids]
        return SolverResult(status="feasible", groups=every_layer, bound_bytes=cm.compulsory_bytes())


def test_a_gap_against_the_compulsory_traffic_alone_is_unproven_and_left_out_of_the_means(tmp_path, register_solver):
    register_solver(_Stopped)
    result = oo.study([str(SQUEEZE), str(EXAMPLE)], solvers=["layerwise", "optimus", "test-stopped"],
                      out=tmp_path, plots=False, jobs=1)
    rows = {(r["network"], r["solver"]): r for r in result.rows}
    # SqueezeNet: the only bound is the compulsory traffic, which no schedule meets: no gap, marked unproven
    compulsory = oo.CostModel(oo.load_instance(SQUEEZE)).compulsory_bytes()
    squeeze = rows[("squeezenet1_0", "optimus")]
    assert (squeeze["best_bound_bytes"], squeeze["gap"]) == (compulsory, None) and squeeze["dram_bytes"] > compulsory
    # the example (9 layers): its optimum, 253,460 B, is proven, and every gap there is measured against it
    assert rows[("spec-example", "optimus")]["gap"] == 0.0
    assert rows[("spec-example", "layerwise")]["gap"] == pytest.approx(892_948 / 253_460 - 1)
    by_solver = {a["solver"]: a for a in result.aggregates}
    assert (by_solver["optimus"]["with_gap"], by_solver["optimus"]["unproven"]) == (1, 1)
    assert by_solver["layerwise"]["geomean_gap"] == pytest.approx(892_948 / 253_460 - 1)  # SqueezeNet's left out
    text = (tmp_path / "summary.md").read_text()
    assert f"| unproven (compulsory {compulsory / 1e6:,.3f}) |" in text
    assert "| unproven (left out) |" in text


def test_paper_preset_plan_and_comparison(tmp_path):
    # the plan: the experiments issue 14 lists, each with its instances and solvers
    exps = {e.key: e for e in paper.paper_experiments()}
    assert list(exps) == ["overall", "artifact", "buffer", "batch", "pe-array"]
    everything = set(oo.solvers.study_default())
    overall = exps["overall"]
    assert {(i.network.name, i.accelerator.name, i.batch) for i in overall.instances} == {
        (n, a, 4) for n in ("alexnet", "vgg16", "googlenet", "squeezenet1_0", "mobilenet_v1", "resnet18",
                            "resnet50", "nasnet_a_mobile") for a in ("optimus-npu", "eyeriss", "shidiannao")}
    assert set(overall.solvers) == everything and {"exact-dp", "cpsat", "milp"} <= everything
    sweep_solvers = (everything - {"cpsat", "milp"})
    for key in ("artifact", "buffer", "batch", "pe-array"):
        assert set(exps[key].solvers) == sweep_solvers
    art = exps["artifact"].instances
    assert [i.network.name for i in art] == ["squeezenet1_0", "vgg16", "mobilenet_v1", "resnet18"]
    assert {(i.accelerator.name, i.accelerator.buffer_bytes, i.accelerator.word_bytes, i.accelerator.channel_tile,
             i.accelerator.weight_staging, i.batch) for i in art} == {("optimus-artifact", 131_072, 2, 32, "none", 4)}
    buffer = exps["buffer"].instances
    assert {(i.network.name, i.accelerator.name, i.batch) for i in buffer} == {("squeezenet1_0", "optimus-npu", 4)}
    assert [i.accelerator.buffer_bytes for i in buffer] == [k * 1024 for k in (
        16, 32, 64, 96, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 896, 1024)]
    assert [(i.network.name, i.batch, i.accelerator.buffer_bytes) for i in exps["batch"].instances] == [
        (n, b, 131_072) for n in ("vgg16", "squeezenet1_0") for b in (1, 2, 4, 6, 8, 16, 32)]
    pe = exps["pe-array"].instances
    assert [(i.accelerator.channel_tile, i.accelerator.buffer_bytes // 1024) for i in pe] == [
        (t, k) for t in (16, 32, 64) for k in (128, 256, 512)]
    assert {(i.network.name, i.batch) for i in pe} == {("squeezenet1_0", 4)}
    assert pe[0].name == "squeezenet1_0-optimus-npu-tc16-b4" and pe[0].accelerator.pe_array == (16, 16)
    specs = planning.plan_experiments(list(exps.values()))
    # 62 instances (overall: 10 solvers; sweeps: 7 heuristics and one exact), shared runs once
    assert len({s.run_id for s in specs}) == len(specs) == 24 * 10 + 38 * 8
    assert len(paper.paper_instances()) == 62
    timed = {"exact-dp", "cpsat", "milp", "refine"}  # every solver of the plan that takes a time limit gets one
    assert {s.solver for s in specs if oo.solvers.get(s.solver).timed} == timed
    for spec in specs:  # every exact run under the preset's 30 s, uncapped: its bound holds over every schedule
        assert spec.options["time_limit"] == (30.0 if spec.solver in timed else None), spec.solver
        if spec.solver in oo.solvers.exact_solvers():
            assert spec.options["max_group"] is None and spec.bound_scope() == "all"

    # the artifact's published figures, as given
    assert report.ARTIFACT_MIB == {
        "squeezenet1_0": ("SqueezeNet", 19.74, 37.88, 64.35, 74.78), "vgg16": ("VGG-16", 333.0, 427.2, 427.2, 464.8),
        "mobilenet_v1": ("MobileNet", 33.63, 48.46, 48.46, 68.12),
        "resnet18": ("ResNet-18", 57.87, 70.08, 77.19, 80.07)}

    # the reproduction table, from a small recorded study: SqueezeNet and VGG-16 in the artifact's setting
    small = dataclasses.replace(exps["artifact"], instances=art[:2])
    result = oo.study(None, experiments=[small], solvers=None, out=tmp_path, plots=False, preset="paper",
                      executor="inline")
    by = {(r["network"], r["solver"]): r for r in result.rows}
    assert by["squeezenet1_0", "optimus"]["dram_bytes"] == 53_010_368
    assert by["squeezenet1_0", "layerwise"]["dram_bytes"] == 95_045_312
    assert by["squeezenet1_0", "exact-dp"]["status"] == "optimal"
    assert by["squeezenet1_0", "exact-dp"]["dram_bytes"] == 30_063_520
    text = report.artifact_comparison(result.table)
    assert "in **MiB = 2^20 bytes, 2 bytes per 16-bit word**" in text
    for line in ("| SqueezeNet | Optimus | 19.74 | 73.6 % | 50.55 | 44.2 % | 2.56× |",   # 53,010,368 / 2^20
                 "| SqueezeNet | no fusion | 74.78 | 0 % | 90.64 | 0 % | 1.21× |",
                 "| SqueezeNet | optimum | - | - | 28.67 (proven) | 68.4 % | - |",
                 "| VGG-16 | DNNVM | 427.2 | 8.1 % | 1,795.43 | 0 % | 4.20× |",
                 "| VGG-16 | no fusion | 464.8 | 0 % | 1,795.43 | 0 % | 3.86× |",
                 "| MobileNet | Optimus | 33.63 | 50.6 % | not run | - | - |",
                 "| ResNet-18 | DNNVM | 77.19 | 3.6 % | not run | - | - |"):
        assert line in text
    # the paragraphs quantify the notes from the network: VGG-16's 123,642,856 fc weights of 2 bytes
    assert "Note (3): our fully connected weights are 235.83 MiB" in text
    assert f"Our proven optimum is 28.67 MiB: optimus is {100 * (53_010_368 / 30_063_520 - 1):+.2f} %" in text
    assert "**MobileNet.** Not run in this study." in text
    summary = (tmp_path / "summary.md").read_text()
    assert "## The Optimus paper's evaluation" in summary and "| SqueezeNet | Efficient-S | 37.88 |" in summary
    assert "_Buffer sweep: no run of it is in this study._" in summary
    assert "](plots/" not in summary  # rendered without plots: no figure to link (tests/test_plots.py links them)

    # an optimum that no exact solver proved is shown as a bound, never as proven
    records = [dict(r) for r in load_records(tmp_path)]
    for r in records:
        if r["network"] == "squeezenet1_0" and r["solver"] == "exact-dp":
            r.update(status="feasible", dram_bytes=53_010_368, bound_bytes=25_000_000)
    text = report.artifact_comparison(report.summarize(records))
    refine_bytes, = (r["dram_bytes"] for r in records if r["network"] == "squeezenet1_0" and r["solver"] == "refine")
    # best found: refine's schedule, which is the optimum exact-dp proved (30,063,520 bytes), though no record
    # now says it is proven; the bound 25,000,000 B is 23.84 MiB, 1 − 25,000,000 / 95,045,312 = 73.7 % below no fusion
    assert refine_bytes == 30_063_520
    assert "| SqueezeNet | optimum (bound only) | - | - | ≥ 23.84 (bound, not proven; best found 28.67) | " \
        "≤ 73.7 % |" in text
    assert "No exact solver finished; the optimum is at least 23.84 MiB" in text


def test_cli_resume_needs_a_study(tmp_path, capsys):
    # --resume continues a study; with nothing recorded in --out it refuses before any run
    assert main(["gap", "--preset", "paper", "--resume", "--out", str(tmp_path / "fresh"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "nothing to resume: no results.jsonl here" in err and "fresh" in err
    assert not (tmp_path / "fresh").exists()


def test_cli_gap_then_report(tmp_path, capsys):
    out = tmp_path / "study"
    args = ["gap", str(EXAMPLE), "--solvers", "layerwise,optimus,exact-dp", "--buffers", "32KiB,64KiB",
            "--time-limit", "20", "--jobs", "2", "--out", str(out), "--no-progress"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "6 runs (6 run now, 0 recorded before)" in text and "| exact-dp | 2 | 2 |" in text
    for ext in ("png", "svg"):
        assert (out / "plots" / f"traffic-vs-buffer-spec-example-spec-example-b1.{ext}").is_file()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["argv"] == ["optimus-opt", *args]
    before = (out / "summary.md").read_text()
    (out / "summary.md").unlink()
    assert main(["report", str(out), "--no-plots"]) == 0
    assert (out / "summary.md").read_text() == before
    assert main(args) == 0
    assert "6 runs (0 run now, 6 recorded before)" in capsys.readouterr().out
    assert main(["report", str(tmp_path / "nothing")]) == 2
    assert main(["gap", str(EXAMPLE), "--solvers", "no-such-solver", "--out", str(tmp_path / "x")]) == 2
    assert main(["gap", "--out", str(tmp_path / "x")]) == 2
    assert "unknown solver 'no-such-solver'" in capsys.readouterr().err


def test_dask_cluster_gives_the_same_results_as_the_local_pool(tmp_path):
    distributed = pytest.importorskip("distributed")
    solvers = ["layerwise", "optimus", "exact-dp"]
    inputs = [str(EXAMPLE), str(SQUEEZE)]
    local = oo.study(inputs, solvers=solvers, time_limit=20, jobs=2, out=tmp_path / "local", plots=False)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        remote = oo.study(inputs, solvers=solvers, time_limit=20, executor="dask",
                          scheduler=cluster.scheduler_address, out=tmp_path / "dask", plots=False)
    assert sorted(remote.executed) == sorted(local.executed) and len(remote.executed) == 6
    a = {r["run_id"]: r for r in local.records}
    b = {r["run_id"]: r for r in remote.records}
    for rid, rec in a.items():
        for key in ("status", "dram_bytes", "bound_bytes", "compulsory_bytes", "groups", "instance"):
            assert b[rid][key] == rec[key], key
        assert "Dask worker" in b[rid]["memory_measure"]
        sa = load_run_schedule(tmp_path / "local", rec)
        sb = load_run_schedule(tmp_path / "dask", b[rid])
        assert [g.layers for g in sa.groups] == [g.layers for g in sb.groups]
    assert [r["gap"] for r in local.rows] == [r["gap"] for r in remote.rows]


def test_in_memory_study_keeps_schedules():
    result = oo.study(str(EXAMPLE), solvers=["layerwise", "exact-dp"], executor="inline")
    assert result.directory is None and len(result) == 2
    inst = oo.load_instance(EXAMPLE)
    for rec in result.records:
        assert oo.evaluate(inst, result.schedule(rec)).dram_bytes == rec["dram_bytes"]
    assert [r["solver"] for r in result] == ["layerwise", "exact-dp"]
    assert result[1]["gap"] == 0 and result.to_csv().startswith("network,accelerator,buffer_bytes")


def test_paper_plots_one_figure_per_experiment(tmp_path):
    """Every experiment of the paper preset draws its figure (each kind has its own drawing code), from a study
    that keeps two or three cheap instances of each and three solvers."""
    pytest.importorskip("matplotlib")
    keep = {"overall": 2, "artifact": 1, "buffer": 3, "batch": 2, "pe-array": 2}
    small = [dataclasses.replace(e, instances=[i for i in e.instances if i.network.name in ("squeezenet1_0", "vgg16")]
                                 [:keep[e.key]], solvers=("layerwise", "optimus", "exact-dp"))
             for e in paper.paper_experiments()]
    oo.study(None, experiments=small, solvers=None, out=tmp_path, preset="paper", executor="inline",
             progress=False)
    written = sorted(p.name for p in (tmp_path / "plots").glob("paper-*"))
    assert written == sorted(f"paper-{k}.{ext}" for k in keep for ext in ("png", "svg"))
    assert all((tmp_path / "plots" / name).stat().st_size > 10_000 for name in written)


# -- bounds proven under a restriction (†) are never proven bounds -------------------------------------------------

def _hand_record(iid: str, network: str, solver: str, status: str, dram: int | None, bound: int | None = None,
                 max_group: int | None = None) -> dict:
    """A study record with the fields summarize() reads; ``max_group`` makes it a capped run (bound_scope)."""
    return {"instance_id": iid, "instance": f"{network}-optimus-npu-b4", "network": network, "layers": 9,
            "accelerator": "optimus-npu", "buffer_bytes": 131072, "batch": 4, "tiling": "strips", "halo": "choose",
            "channel_tile": 32, "weight_staging": "block", "solver": solver, "status": status, "dram_bytes": dram,
            "bound_bytes": bound, "bound_scope": "all" if max_group is None else f"max_group={max_group}",
            "options": {"max_group": max_group}, "run_id": f"{iid}-{solver}", "solve_seconds": 0.5,
            "wall_seconds": 1.0}


def test_a_capped_bound_counts_nowhere():
    # Instance "s": exact-dp capped at 2 layers per group proves 60,000,000 B over that space only, above what
    # optimus (54,635,968) and cpsat (40,000,000) found; cpsat, uncapped, proves 34,120,864. Instance "v": the
    # capped exact-dp finds no schedule, which proves nothing about the uncapped space either.
    records = [
        _hand_record("s", "squeezenet1_0", "layerwise", "feasible", 96_670_912),
        _hand_record("s", "squeezenet1_0", "optimus", "feasible", 54_635_968),
        _hand_record("s", "squeezenet1_0", "exact-dp", "optimal", 60_000_000, 60_000_000, max_group=2),
        _hand_record("s", "squeezenet1_0", "cpsat", "feasible", 40_000_000, 34_120_864),
        _hand_record("v", "vgg16", "optimus", "feasible", 2_800_000_000),
        _hand_record("v", "vgg16", "exact-dp", "infeasible", None, max_group=1),
    ]
    s = report.summarize(records)
    assert [(i["instance_id"], i["best_bound_bytes"], i["proven_infeasible"]) for i in s.instances] == [
        ("s", 34_120_864, False), ("v", None, False)]
    gaps = {(r["instance_id"], r["solver"]): r["gap"] for r in s.rows}
    assert gaps == {("s", "layerwise"): (96_670_912 - 34_120_864) / 34_120_864,
                    ("s", "optimus"): (54_635_968 - 34_120_864) / 34_120_864,
                    ("s", "exact-dp"): (60_000_000 - 34_120_864) / 34_120_864,
                    ("s", "cpsat"): (40_000_000 - 34_120_864) / 34_120_864,
                    ("v", "optimus"): None, ("v", "exact-dp"): None}
    agg = {a["solver"]: a for a in s.aggregates}
    # the capped optimum is not an optimum here: exact-dp is at gap 0 nowhere, and its worst gap is +75.85 %
    assert (agg["exact-dp"]["with_gap"], agg["exact-dp"]["optimal"]) == (1, 0)
    assert agg["exact-dp"]["worst_gap"] == agg["exact-dp"]["geomean_gap"] == pytest.approx(25_879_136 / 34_120_864)
    assert (agg["optimus"]["with_gap"], agg["optimus"]["worst_gap"]) == (1, pytest.approx(20_515_104 / 34_120_864))

    text = report.markdown(s)
    assert "| squeezenet1_0 | optimus-npu | 128 KiB | 4 | 34.121 | 96.671 | 54.636 | 60.000 † | 40.000 |" in text
    assert "| vgg16 | optimus-npu | 128 KiB | 4 | unproven | not run | 2,800.000 | infeasible | not run |" in text
    assert "†: an exact solver run under a restriction (`bound_scope`, e.g. a group cap)" in text
    assert "| squeezenet1_0 | optimus-npu | 128 KiB | 4 | +183.32 % | +60.12 % | +75.85 % | +17.23 % |" in text
    assert "| vgg16 | optimus-npu | 128 KiB | 4 | not run | unproven (0 % vs best found) | infeasible | not run |" \
        in text
    assert "| exact-dp | 2 | 1 | 1 | 0 | +75.85 % | +75.85 % | 0/1 |" in text
