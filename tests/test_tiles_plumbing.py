"""Cost model version 3 (``tiling: tiles``) around the core: the schedule format ``schedule@3`` and ``evaluate``, the
command line's ``--tiling`` and ``--halo``, ``show``, the instance schema, instance names and studies.

The worked example (instances/example-64k.json, formulations/cost-model.md §6) at batch 1 has these MACs per layer
(K·H·W output elements × the MACs of one, (C_in/g)·kh·kw for a conv, the flattened input for an fc):
c1 32·32·32·(16·9) = 4,718,592; c2 and c3 32·32·32·(32·9) = 9,437,184 each; c4 64·16·16·32 = 524,288;
c5 64·16·16·(32·9) = 4,718,592; fc 10·128 = 1,280; every other layer 0. In all 28,837,120.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import run_cli

import optimus_opt as oo
from optimus_opt.cost.schedule import SCHEDULE_FORMAT, tiling_text
from optimus_opt.io import show
from optimus_opt.io.resolve import instance_name, resolve_instance, variant_name
from optimus_opt.studies import planning, records

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = str(ROOT / "instances" / "example-64k.json")
OPTIMUM = (["c1", "c2", "c3", "a1"], ["p1", "c4", "c5", "g", "fc"])
#: The layers' own MACs (module docstring), and those of the optimum's two groups.
LAYER_MACS = {"c1": 4_718_592, "c2": 9_437_184, "c3": 9_437_184, "c4": 524_288, "c5": 4_718_592, "fc": 1_280}
NETWORK_MACS = 28_837_120
#: Group {c1, c2, c3, a1, p1} in 2 tile rows x 16 tile columns with halo recompute: p1 (16 rows) escapes, so tile
#: row 0 computes p1 rows [0, 8), a1 and c3 rows [0, 16), c2 rows [0, 17) (a 3x3 window with padding 1, clipped),
#: c1 rows [0, 18); tile row 1 computes p1 [8, 16), a1 and c3 [16, 32), c2 [15, 32), c1 [14, 32). Tile row 1
#: computes again R = 4 rows of c1 and 2 of c2, across all D = 32 columns: added = N·K·D·R·m =
#: 32·32·4·144 + 32·32·2·288 = 589,824 + 589,824 (formulations/cost-model.md §7.5).
RECOMPUTED = 1_179_648


@pytest.fixture(scope="module")
def example():
    return oo.load_instance(EXAMPLE)


def tiles(inst, halo="choose"):
    return inst.with_overrides(tiling="tiles", halo=halo)


def hand(*groups, **top):
    return oo.Schedule(instance="t", solver="hand", status="feasible",
                       groups=tuple(g if isinstance(g, oo.Group) else oo.Group(layers=tuple(g)) for g in groups),
                       **top)


def reject(inst, schedule, kind, text):
    with pytest.raises(oo.ScheduleError) as info:
        oo.evaluate(inst, schedule)
    assert info.value.kind == kind, str(info.value)
    assert text in str(info.value)
    assert "\n" not in str(info.value)
    return str(info.value)


# -- schedule@3 ----------------------------------------------------------------------------------------------------


def test_strips_schedule_round_trips_with_macs(example):
    sched = oo.solve(example, "exact-dp")
    doc = json.loads(sched.to_json())
    assert doc["format"] == SCHEDULE_FORMAT == "optimus-opt/schedule@3"
    assert (doc["dram_bytes"], doc["macs"], doc["added_macs"]) == (253460, NETWORK_MACS, 0)
    first, second = doc["groups"]
    assert first["layers"] == OPTIMUM[0] and second["layers"] == OPTIMUM[1]
    # strips: the tile rows are the strips (32 and 8, formulations/cost-model.md §6), one column, no halo, no passes
    assert (first["tile_rows"], first["tile_cols"], first["passes"]) == (32, 1, 1)
    assert (second["tile_rows"], second["tile_cols"], second["passes"]) == (8, 1, 1)
    assert "halo" not in first and "strips" not in first
    assert first["macs"] == LAYER_MACS["c1"] + LAYER_MACS["c2"] + LAYER_MACS["c3"] == 23_592_960
    assert second["macs"] == LAYER_MACS["c4"] + LAYER_MACS["c5"] + LAYER_MACS["fc"] == 5_244_160
    assert first["added_macs"] == second["added_macs"] == 0
    again = oo.Schedule.from_dict(doc)
    assert again.to_dict() == doc
    assert again.groups[0].strips == again.groups[0].tile_rows == 32 and not again.groups[0].tiles
    ev = oo.evaluate(example, again)
    assert (ev.dram_bytes, ev.macs, ev.added_macs) == (253460, NETWORK_MACS, 0)
    assert ev.schedule.to_dict()["groups"] == doc["groups"]


@pytest.mark.parametrize("halo", ["choose", "cache", "recompute"])
def test_tiles_schedule_round_trips_and_evaluate_agrees_with_the_solver(example, halo):
    inst = tiles(example, halo)
    sched = oo.solve(inst, "exact-dp")
    assert sched.status == "optimal"
    doc = json.loads(sched.to_json())
    for g in doc["groups"]:
        assert g["halo"] in (("cache", "recompute") if halo == "choose" else (halo,))
        assert {"tile_rows", "tile_cols", "passes", "macs", "added_macs"} <= set(g)
    assert doc["macs"] == sum(g["macs"] for g in doc["groups"])
    assert doc["added_macs"] == sum(g["added_macs"] for g in doc["groups"])
    # a tiling only adds MACs to the network's own, by recomputing halo rows
    assert doc["macs"] - doc["added_macs"] == NETWORK_MACS
    if halo == "cache":
        assert doc["added_macs"] == 0
    again = oo.Schedule.from_dict(doc)
    assert again.to_dict() == doc
    ev = oo.evaluate(inst, again)  # every stated number (MACs included) is checked against the cost model
    assert (ev.dram_bytes, ev.macs, ev.added_macs) == (sched.dram_bytes, sched.macs, sched.added_macs)
    assert ev.suboptimal_groups == ()
    assert ev.schedule.to_dict()["groups"] == doc["groups"]
    # version 3 never moves more bytes than version 2's optimum here (one tile column, cache, is close to strips)
    assert sched.dram_bytes < 253460


def test_recomputed_macs_of_a_given_tiling(example):
    inst = tiles(example, "recompute")
    grid = oo.Group(layers=("c1", "c2", "c3", "a1", "p1"), tile_rows=2, tile_cols=16, halo="recompute")
    ev = oo.evaluate(inst, hand(grid, ["c4", "c5", "g", "fc"]))
    first = ev.schedule.groups[0]
    assert (first.tile_rows, first.tile_cols, first.halo, first.passes) == (2, 16, "recompute", 1)
    assert first.added_macs == RECOMPUTED
    assert first.macs == LAYER_MACS["c1"] + LAYER_MACS["c2"] + LAYER_MACS["c3"] + RECOMPUTED
    assert ev.added_macs == ev.schedule.added_macs == RECOMPUTED
    assert ev.macs == ev.schedule.macs == NETWORK_MACS + RECOMPUTED
    assert tiling_text(first) == "2 × 16 tiles, halo recompute"
    # the same grid with its halo cached recomputes nothing
    cached = oo.evaluate(tiles(example), hand(oo.Group(layers=grid.layers, tile_rows=2, tile_cols=16, halo="cache"),
                                              ["c4", "c5", "g", "fc"]))
    assert cached.schedule.groups[0].added_macs == 0 and cached.macs == NETWORK_MACS


def test_a_group_without_a_halo_takes_the_accelerators(example):
    grid = oo.Group(layers=("c1", "c2", "c3", "a1", "p1"), tile_rows=2, tile_cols=16)
    fixed = oo.evaluate(tiles(example, "recompute"), hand(grid, ["c4", "c5", "g", "fc"]))
    assert fixed.schedule.groups[0].halo == "recompute" and fixed.added_macs == RECOMPUTED
    chosen = oo.evaluate(tiles(example), hand(grid, ["c4", "c5", "g", "fc"]))
    assert chosen.schedule.groups[0].halo == "cache" and chosen.added_macs == 0


def test_schedule_2_is_still_read(tmp_path, example):
    path = tmp_path / "v2.json"
    path.write_text(json.dumps({"format": "optimus-opt/schedule@2", "dram_bytes": 253460, "groups": [
        {"layers": OPTIMUM[0], "strips": 32, "batch_block": 1, "reduced_channels": ["c1", "c3"],
         "resident_weights": True, "read_bytes": 78848, "write_bytes": 65536, "footprint_bytes": 18432},
        {"layers": OPTIMUM[1], "strips": 8, "reduced_channels": ["c4", "c5"]}]}))
    sched = oo.load_schedule(path)
    assert [g.tile_rows for g in sched.groups] == [32, 8]
    assert [(g.tile_cols, g.halo, g.passes, g.macs) for g in sched.groups] == [(None, None, None, None)] * 2
    assert sched.macs is None
    ev = oo.evaluate(example, sched)
    assert (ev.dram_bytes, ev.macs) == (253460, NETWORK_MACS)
    out = ev.schedule.to_dict()
    assert out["format"] == "optimus-opt/schedule@3" and out["groups"][1]["tile_rows"] == 8
    # on a tiles instance its strips are tile rows, with one column and the halo cached
    under_tiles = oo.evaluate(tiles(example), oo.Schedule.from_dict(
        {"format": "optimus-opt/schedule@2", "groups": [{"layers": OPTIMUM[0], "strips": 32},
                                                       {"layers": OPTIMUM[1], "strips": 8, "reduced_channels": ["c4", "c5"]}]}))
    assert [(g.tile_rows, g.tile_cols, g.halo) for g in under_tiles.schedule.groups] == [(32, 1, "cache"),
                                                                                         (8, 1, "cache")]


def test_each_format_version_has_its_own_field_names():
    with pytest.raises(oo.ScheduleError, match="group 0: unknown field 'tile_rows'"):
        oo.Schedule.from_dict({"format": "optimus-opt/schedule@2", "groups": [{"layers": ["c1"], "tile_rows": 2}]})
    with pytest.raises(oo.ScheduleError, match="group 0: unknown field 'strips' \\(schedule@3 calls the strips "
                                               "'tile_rows'\\)"):
        oo.Schedule.from_dict({"format": "optimus-opt/schedule@3", "groups": [{"layers": ["c1"], "strips": 2}]})
    for key, value in (("tile_cols", "2"), ("passes", 1.5), ("macs", True), ("added_macs", None)):
        with pytest.raises(oo.ScheduleError, match=f"group 0: field '{key}': expected an integer"):
            oo.Schedule.from_dict({"format": SCHEDULE_FORMAT, "groups": [{"layers": ["c1"], key: value}]})
    with pytest.raises(oo.ScheduleError, match="group 0: field 'halo': expected \"cache\" or \"recompute\""):
        oo.Schedule.from_dict({"format": SCHEDULE_FORMAT, "groups": [{"layers": ["c1"], "halo": 1}]})
    with pytest.raises(oo.ScheduleError, match="field 'macs': expected an integer or null"):
        oo.Schedule.from_dict({"format": SCHEDULE_FORMAT, "macs": "many", "groups": []})
    with pytest.raises(oo.ScheduleError, match='was computed under version 1 of the cost model'):
        oo.Schedule.from_dict({"format": "optimus-opt/schedule@1", "groups": []})
    with pytest.raises(oo.ScheduleError, match='expected "optimus-opt/schedule@3" \\(or "optimus-opt/schedule@2"\\)'):
        oo.Schedule.from_dict({"format": "optimus-opt/schedule@4", "groups": []})


def test_group_takes_strips_as_the_tile_rows():
    assert oo.Group(layers=("c1",), strips=4) == oo.Group(layers=("c1",), tile_rows=4)
    assert oo.Group(layers=("c1",), strips=4).strips == 4
    with pytest.raises(TypeError, match="name the same number"):
        oo.Group(layers=("c1",), strips=4, tile_rows=2)


# -- evaluate refuses ----------------------------------------------------------------------------------------------


def test_evaluate_refuses_a_wrong_mac_count(example):
    good = oo.solve(example, "exact-dp")
    doc = json.loads(good.to_json())
    doc["groups"][1]["macs"] += 1
    reject(example, oo.Schedule.from_dict(doc), "mismatch",
           "group 1: macs says 5244161 but the cost model gives 5244160")
    doc = json.loads(good.to_json())
    doc["macs"] -= 1
    reject(example, oo.Schedule.from_dict(doc), "mismatch", "macs says 28837119 but the groups make 28837120")
    doc = json.loads(good.to_json())
    doc["added_macs"] = 5
    reject(example, oo.Schedule.from_dict(doc), "mismatch", "added_macs says 5 but the groups make 0")
    recompute = tiles(example, "recompute")
    grid = oo.Group(layers=("c1", "c2", "c3", "a1", "p1"), tile_rows=2, tile_cols=16, added_macs=0)
    reject(recompute, hand(grid, ["c4", "c5", "g", "fc"]), "mismatch",
           f"group 0: added_macs says 0 but the cost model gives {RECOMPUTED}")


@pytest.mark.parametrize("field, value", [("tile_cols", 2), ("halo", "cache"), ("passes", 2)])
def test_evaluate_refuses_version_3_fields_on_a_strips_instance(example, field, value):
    group = oo.Group(layers=tuple(OPTIMUM[0]), tile_rows=32, **{field: value})
    message = reject(example, hand(group, OPTIMUM[1]), "bad-tiling",
                     f"group 0: field '{field}': {json.dumps(value)} needs tiling: tiles")
    assert "tiles in strips" in message
    # what a strips schedule states itself (one tile column, one pass) is accepted
    stated = oo.Group(layers=tuple(OPTIMUM[0]), tile_rows=32, tile_cols=1, passes=1, reduced_channels=("c1", "c3"))
    assert oo.evaluate(example, hand(stated, OPTIMUM[1])).dram_bytes == 253460


def test_evaluate_refuses_a_halo_not_allowed(example):
    grid = dict(layers=("c1", "c2", "c3", "a1", "p1"), tile_rows=2, tile_cols=16)
    reject(tiles(example, "cache"), hand(oo.Group(**grid, halo="recompute"), ["c4", "c5", "g", "fc"]), "bad-tiling",
           "group 0: halo 'recompute' is not allowed by the accelerator (halo: cache)")
    reject(tiles(example), hand(oo.Group(**grid, halo="both"), ["c4", "c5", "g", "fc"]), "bad-tiling",
           "group 0: field 'halo': \"both\" is no halo mode (a group's halo is cache or recompute)")
    reject(tiles(example), hand(oo.Group(layers=grid["layers"], tile_cols=16), ["c4", "c5", "g", "fc"]),
           "bad-tiling", "group 0: field 'tile_cols' needs 'tile_rows'")


# -- the command line ----------------------------------------------------------------------------------------------


def test_solve_with_tiles_prints_the_grid(tmp_path, capsys):
    out = tmp_path / "s.json"
    code, text, err = run_cli(["solve", EXAMPLE, "--tiling", "tiles", "--halo", "recompute", "--solver", "exact-dp",
                               "-o", str(out), "-q"], capsys)
    assert code == 0, err
    doc = json.loads(out.read_text())
    assert doc["format"] == SCHEDULE_FORMAT
    assert "tiling       tiles, halo recompute:" in text and "(cost model version 3)" in text
    assert f"DRAM traffic {doc['dram_bytes']:,} B" in text
    added = f" ({doc['added_macs']:,} recomputed" if doc["added_macs"] else ""
    assert f"MACs         {doc['macs']:,}{added}" in text
    head = next(line for line in text.splitlines() if line.strip().startswith("#"))
    assert head.split()[:5] == ["#", "tiles", "halo", "P", "b"]
    rows = text.splitlines()[text.splitlines().index(head) + 1:][:len(doc["groups"])]
    for k, (row, g) in enumerate(zip(rows, doc["groups"])):
        assert row.split()[:4] == [str(k), f"{g['tile_rows']}x{g['tile_cols']}", "recompute", str(g["passes"])]
    # evaluate agrees with the solver, and prints the MACs
    code, text, _ = run_cli(["evaluate", EXAMPLE, str(out), "--tiling", "tiles", "--halo", "recompute"], capsys)
    assert code == 0 and f"MACs         {doc['macs']:,}" in text and "valid:" in text
    # the schedule was solved under tiles: on the strips instance it is refused (1, as any invalid schedule)
    code, _, err = run_cli(["evaluate", EXAMPLE, str(out)], capsys)
    if any(g["tile_cols"] != 1 or g["passes"] != 1 for g in doc["groups"]):
        assert code == 1 and "needs tiling: tiles" in err
    else:
        assert code == 1 and "invalid schedule (bad-tiling)" in err and "field 'halo'" in err


def test_solve_in_strips_says_so(capsys):
    code, text, _ = run_cli(["solve", EXAMPLE, "--solver", "exact-dp", "-q"], capsys)
    assert code == 0
    assert "tiling       strips: full-width row strips (cost model version 2" in text
    assert "MACs         28,837,120\n" in text
    assert "# strips   b  weights" in text


@pytest.mark.parametrize("argv, field", [
    (["--halo", "cache"], "--halo"),
    (["--tiling", "strips", "--halo", "recompute"], "--halo"),
])
def test_a_halo_without_tiles_is_bad_input(capsys, argv, field):
    code, out, err = run_cli(["solve", EXAMPLE, "--solver", "layerwise", *argv], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"optimus-opt: error: field '{field}': halo ")
    assert "needs --tiling tiles" in err


@pytest.mark.parametrize("argv", [["--tiling", "tile"], ["--halo", "both"]])
def test_unknown_tiling_words_are_bad_input(capsys, argv):
    code, out, err = run_cli(["solve", EXAMPLE, *argv], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and "invalid choice" in err


@pytest.mark.parametrize("command", [["evaluate", EXAMPLE, "s.json"], ["pareto", EXAMPLE], ["bound", EXAMPLE],
                                     ["show", EXAMPLE, "s.json", "-o", "x.dot"]])
def test_every_command_with_buffer_takes_the_tiling(command):
    from optimus_opt.cli import build_parser

    args = build_parser().parse_args([*command, "--buffer", "32KiB", "--tiling", "tiles", "--halo", "cache"])
    assert (args.buffer, args.tiling, args.halo) == (32768, "tiles", "cache")


def test_tiles_in_an_accelerator_file(tmp_path, capsys):
    doc = json.loads((ROOT / "instances" / "accelerators" / "optimus-npu.json").read_text())
    doc.update(tiling="tiles", halo="cache")
    acc = tmp_path / "npu-tiles.json"
    acc.write_text(json.dumps(doc))
    code, text, err = run_cli(["solve", "squeezenet1_1", "--accelerator", str(acc), "--solver", "layerwise", "-q"],
                              capsys)
    assert code == 0, err
    assert "instance     squeezenet1_1-optimus-npu-tiles-cache-b4:" in text
    assert "tiling       tiles, halo cache:" in text
    doc["halo"] = "sometimes"
    acc.write_text(json.dumps(doc))
    code, _, err = run_cli(["solve", "squeezenet1_1", "--accelerator", str(acc)], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "field 'halo': 'sometimes' is not one of ['choose', 'cache', 'recompute']" in err


def test_accelerators_say_how_to_pick_tiles(capsys):
    code, text, _ = run_cli(["accelerators"], capsys)
    assert code == 0 and "--tiling tiles" in text and '"tiling": "tiles"' in text
    # the presets themselves stay in strips
    assert all(acc.tiling == "strips" and acc.halo == "choose" for acc in oo.model.presets.PRESETS)


# -- show ----------------------------------------------------------------------------------------------------------


def test_show_draws_the_tile_grid(tmp_path, capsys, example):
    grid = oo.Group(layers=("c1", "c2", "c3", "a1", "p1"), tile_rows=2, tile_cols=16, halo="recompute")
    path = tmp_path / "s.json"
    hand(grid, ["c4", "c5", "g", "fc"]).save(path)
    dot = tmp_path / "s.dot"
    code, _, err = run_cli(["show", EXAMPLE, str(path), "--tiling", "tiles", "-o", str(dot)], capsys)
    assert code == 0, err
    text = dot.read_text()
    ev = oo.evaluate(tiles(example), oo.load_schedule(path)).schedule
    assert f'label="group 0: {ev.groups[0].dram_bytes:,} B, 2 × 16 tiles, halo recompute"' in text
    assert f"tiling tiles (halo choose), {RECOMPUTED:,} MACs recomputed" in text
    assert show.group_label(1, ev.groups[1]).startswith(f"group 1: {ev.groups[1].dram_bytes:,} B, ")
    # in strips the legend says strips, as before
    strips = oo.evaluate(example, hand(*OPTIMUM)).schedule
    assert show.group_label(0, strips.groups[0]) == "group 0: 144,384 B, 32 strips"
    passes = oo.Group(layers=("c5",), tile_rows=1, tile_cols=1, halo="cache", passes=4)
    assert tiling_text(passes) == "1 × 1 tile, halo cache, 4 passes"


# -- instances, names, the schema ----------------------------------------------------------------------------------


def test_names_say_the_tiling():
    assert instance_name("unet", "eyeriss", 1, 65536, tiling="tiles") == "unet-eyeriss-64KiB-tiles-b1"
    assert instance_name("unet", "eyeriss", 1, tiling="tiles", halo="recompute") == "unet-eyeriss-tiles-recompute-b1"
    assert instance_name("unet", "eyeriss", 1) == "unet-eyeriss-b1"
    assert variant_name("net-npu-tiles-b4", 4, tiling="strips") == "net-npu-tiles-strips-b4"
    inst = resolve_instance("squeezenet1_1", tiling="tiles", halo="cache")
    assert inst.name == "squeezenet1_1-optimus-npu-tiles-cache-b4"
    assert (inst.accelerator.tiling, inst.accelerator.halo) == ("tiles", "cache")
    same = resolve_instance(EXAMPLE, tiling="tiles")  # an instance file keeps its name, as under --buffer
    assert same.name == "cost-model-example-64k" and same.accelerator.tiling == "tiles"
    # back to strips drops the halo, which strips do not have
    assert same.with_overrides(halo="recompute").with_overrides(tiling="strips").accelerator.halo == "choose"
    with pytest.raises(oo.InstanceError, match="field 'accelerator.halo'"):
        resolve_instance(EXAMPLE, halo="recompute")


def test_schema_takes_tiling_and_halo(tmp_path):
    doc = json.loads(Path(EXAMPLE).read_text())
    doc["accelerator"].update(tiling="tiles", halo="recompute")
    inst = oo.Instance.from_dict(doc)
    assert (inst.accelerator.tiling, inst.accelerator.halo) == ("tiles", "recompute")
    assert inst.to_dict()["accelerator"]["tiling"] == "tiles"
    doc["accelerator"]["tiling"] = "tiled"
    with pytest.raises(oo.InstanceError, match="field 'accelerator.tiling': 'tiled' is not one of "
                                               "\\['strips', 'tiles'\\]"):
        oo.Instance.from_dict(doc, file="i.json")
    doc["accelerator"].update(tiling="strips", halo="cache")
    with pytest.raises(oo.InstanceError, match="i.json: field 'accelerator.halo': halo 'cache' needs tiling: tiles"):
        oo.Instance.from_dict(doc, file="i.json")


# -- studies -------------------------------------------------------------------------------------------------------


def test_strips_and_tiles_runs_never_collide(example):
    variants = planning.expand([example], tilings=["strips", "tiles"], halos=["choose", "recompute"])
    assert [(i.accelerator.tiling, i.accelerator.halo, i.name) for i in variants] == [
        ("strips", "choose", "cost-model-example-64k"),
        ("tiles", "choose", "cost-model-example-64k-tiles-b1"),
        ("tiles", "recompute", "cost-model-example-64k-tiles-recompute-b1")]
    specs = planning.plan(variants, ["layerwise"])
    assert len({s.run_id for s in specs}) == len({s.instance_id for s in specs}) == 3
    # a version 2 instance keeps the id it had before version 3 (its document has no tiling field)
    assert "tiling" not in example.to_dict()["accelerator"]
    with pytest.raises(oo.InstanceError, match="field '--halo': halo cache needs --tiling tiles"):
        planning.expand([example], halos=["cache"])


def test_study_records_carry_the_tiling_and_the_macs(tmp_path, capsys, example):
    out = tmp_path / "study"
    code, text, err = run_cli(["gap", EXAMPLE, "--solvers", "layerwise,exact-dp", "--tiling", "strips,tiles",
                               "--halo", "recompute", "--executor", "inline", "--no-progress", "--no-plots",
                               "--out", str(out)], capsys)
    assert code == 0, err
    recs = records.load_records(out)
    assert len(recs) == 4 and len({r["run_id"] for r in recs}) == 4
    by = {(r["tiling"], r["halo"], r["solver"]): r for r in recs}
    assert set(by) == {(t, h, s) for t, h in (("strips", "choose"), ("tiles", "recompute"))
                       for s in ("layerwise", "exact-dp")}
    assert by["strips", "choose", "exact-dp"]["macs"] == NETWORK_MACS
    assert by["strips", "choose", "exact-dp"]["added_macs"] == 0
    tiled = by["tiles", "recompute", "exact-dp"]
    assert tiled["macs"] == NETWORK_MACS + tiled["added_macs"]
    # each record's schedule re-evaluates to its numbers on its own instance
    inst = tiles(example, "recompute")
    ev = oo.evaluate(inst, records.load_run_schedule(out, tiled))
    assert (ev.dram_bytes, ev.macs) == (tiled["dram_bytes"], tiled["macs"])
    summary = (out / "summary.md").read_text()
    assert "| spec-example | spec-example (tiles, recompute) | 64 KiB | 1 |" in summary
    assert "| spec-example | spec-example | 64 KiB | 1 |" in summary
    csv_head = (out / "summary.csv").read_text().splitlines()[0].split(",")
    assert {"tiling", "halo", "macs", "added_macs"} <= set(csv_head)
    if tiled["added_macs"]:
        assert "## MACs (10^9)" in summary


def test_gap_refuses_a_halo_without_tiles(tmp_path, capsys):
    code, out, err = run_cli(["gap", EXAMPLE, "--solvers", "layerwise", "--tiling", "strips", "--halo", "cache",
                              "--out", str(tmp_path / "s")], capsys)
    assert code == 2 and err.count("\n") == 1 and "field '--halo'" in err
    code, out, err = run_cli(["gap", EXAMPLE, "--solvers", "layerwise", "--tiling", "tile",
                              "--out", str(tmp_path / "s")], capsys)
    assert code == 2 and "field '--tiling': expected comma-separated values among strips, tiles" in err
    assert not (tmp_path / "s").exists()


def test_readme_states_the_tiles_macs():
    text = (ROOT / "README.md").read_text()
    inst = oo.load_instance(EXAMPLE)
    macs = oo.solve(inst.with_overrides(tiling="tiles", halo="recompute"), "exact-dp").macs
    assert f"print(oo.solve(tiles, \"exact-dp\").macs)                  # {macs}: {RECOMPUTED:,} of them recomputed" \
        in text
    assert f"{oo.solve(inst.with_overrides(tiling='tiles'), 'exact-dp').dram_bytes:,} B in tiles" in text
    recompute = oo.solve(inst.with_overrides(tiling="tiles", halo="recompute"), "exact-dp")
    assert f"{recompute.dram_bytes:,} B with `--halo recompute`" in text
    formats = (ROOT / "formulations" / "formats.md").read_text()
    assert f"a schedule of {recompute.dram_bytes:,} bytes and {recompute.macs:,} MACs" in formats
    first = recompute.groups[0].to_dict()
    assert (f'`{{"layers": {json.dumps(first["layers"])}, "tile_rows": {first["tile_rows"]}, "tile_cols": '
            f'{first["tile_cols"]}, "halo": "recompute", "passes": 1, ...,\n"macs": {first["macs"]}, '
            f'"added_macs": {first["added_macs"]}}}`') in formats
