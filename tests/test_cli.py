"""The optimus-opt command: summaries, files, exit codes and error messages."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from optimus_opt.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = str(ROOT / "instances" / "example-64k.json")


def test_solve_prints_a_summary_and_writes_the_schedule(tmp_path, capsys):
    out = tmp_path / "s.json"
    assert main(["solve", EXAMPLE, "--solver", "layerwise", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    # every layer alone (the concat is a view, in no group): 892,948 / 122,388 = 7.296
    assert "DRAM traffic 892,948 B (7.296 x compulsory 122,388 B)" in text
    assert "layerwise: feasible" in text
    assert "groups       9" in text
    doc = json.loads(out.read_text())
    assert doc["format"] == "optimus-opt/schedule@3" and doc["dram_bytes"] == 892948
    assert doc["compulsory_bytes"] == 122388 and len(doc["groups"]) == 9


def test_solve_json_and_evaluate(tmp_path, capsys):
    assert main(["solve", EXAMPLE, "--solver", "layerwise", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc))
    assert main(["evaluate", EXAMPLE, str(path)]) == 0
    assert "valid: every group is convex" in capsys.readouterr().out
    assert main(["evaluate", EXAMPLE, str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["dram_bytes"] == 892948


def test_overrides(capsys):
    # With 16 KiB, c2 and c3 (18,432 weight bytes each) can no longer keep their weights resident and read them
    # once per strip (8 strips, staging one 1,152-byte block): 2 · 7 · 18,432 bytes more, plus c5 streaming at 2
    # strips (36,864) and the rest unchanged: 892,948 + 258,048 + 36,864 = 1,187,860.
    assert main(["solve", EXAMPLE, "--solver", "layerwise", "--buffer", "16KiB"]) == 0
    text = capsys.readouterr().out
    assert "buffer 16,384 B (16 KiB)" in text and "DRAM traffic 1,187,860 B" in text
    assert main(["solve", EXAMPLE, "--solver", "layerwise", "--batch", "4", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["compulsory_bytes"] == 4 * (32768 + 20) + 89600


def test_invalid_schedule_exits_1(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"format": "optimus-opt/schedule@2", "groups": [
        {"layers": ["c1", "a1"]}, {"layers": ["c2", "c3"]}, {"layers": ["p1", "c4", "c5", "g", "fc"]}]}))
    assert main(["evaluate", EXAMPLE, str(path)]) == 1
    assert "invalid schedule (not-convex): group 0: not convex" in capsys.readouterr().err


def test_layerwise_infeasible_names_the_layer(capsys):
    assert main(["solve", EXAMPLE, "--solver", "layerwise", "--buffer", "4096"]) == 1
    out = capsys.readouterr().out
    assert "layerwise: infeasible" in out
    assert "'c1' needs at least" in out


def test_bad_input_exits_2_without_traceback(tmp_path):
    bad = tmp_path / "bad.json"
    doc = json.loads(Path(EXAMPLE).read_text())
    doc["network"]["layers"][1]["op"] = "convolution"
    bad.write_text(json.dumps(doc))
    run = subprocess.run([sys.executable, "-m", "optimus_opt.cli", "solve", str(bad)], capture_output=True, text=True)
    assert run.returncode == 2
    assert run.stderr.strip() == (f"optimus-opt: error: {bad}: layer 'c1': field 'op': unknown op 'convolution' "
                                  "(known: input, conv, fc, pool, add, mul, concat, upsample)")
    assert "Traceback" not in run.stderr


def test_unknown_solver_and_bad_size(capsys):
    assert main(["solve", EXAMPLE, "--solver", "nope"]) == 2
    assert "unknown solver 'nope' (known: auto, layerwise" in capsys.readouterr().err
    try:
        main(["solve", EXAMPLE, "--buffer", "12 parsecs"])
    except SystemExit as exit_:
        assert exit_.code == 2
    assert "not a byte size: '12 parsecs'" in capsys.readouterr().err


def test_parse_size():
    from optimus_opt import parse_size

    assert parse_size("131072") == 131072
    assert parse_size("128KiB") == 131072
    assert parse_size("181.5KiB") == 185856
    assert parse_size("128KB") == 128000
    assert parse_size("1MiB") == 1 << 20


# -- zoo, presets and network names in place of instance files ---------------------------------------------------

PAPER_MOBILENET = str(ROOT / "instances" / "paper" / "mobilenet_v1-optimus-npu-b4.json")


def test_zoo_list_prints_every_network_against_published_figures(capsys):
    from optimus_opt import zoo

    assert main(["zoo", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["network", "res", "layers", "weights", "published", "diff", "MACs", "published",
                                "diff"]
    rows = {line.split()[0]: line.split() for line in lines[1:1 + len(zoo.names())]}
    assert list(rows) == list(zoo.names())
    assert rows["alexnet"] == ["alexnet", "224", "11", "61,100,840", "61.1", "M", "+0.00%", "714,188,480", "0.71",
                               "G", "+0.59%"]
    assert rows["inception_v3"][:7] == ["inception_v3", "299", "109", "23,817,352", "23.83", "M", "-0.07%"]
    assert rows["unet"][7:] == ["218,154,139,648", "218.2", "G", "+0.00%"]
    for row in rows.values():  # every network within 2 % of its published weights and MACs
        assert abs(float(row[6].rstrip("%"))) < 2 and abs(float(row[10].rstrip("%"))) < 2
    # the columns line up under the head, the longest names included: every line's second column ends in one place
    ends = {re.match(r"\S+\s+\S+", line).end() for line in lines[:1 + len(zoo.names())]}
    assert len(ends) == 1, ends
    assert main(["zoo", "list", "--sources"]) == 0
    assert "inception_v3: torchvision docs" in capsys.readouterr().out


def test_zoo_export_loads_and_solves(tmp_path, capsys):
    from optimus_opt import load_network, zoo

    assert main(["zoo", "export", "squeezenet1_1"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc == zoo.build("squeezenet1_1").to_dict(with_format=True)
    out = tmp_path / "sq.json"
    assert main(["zoo", "export", "squeezenet1_1", "--resolution", "112", "-o", str(out)]) == 0
    assert capsys.readouterr().out == f"network squeezenet1_1 (30 layers) written to {out}\n"
    assert load_network(out).shape("data") == (3, 112, 112)
    # A network file solves like a zoo name: on the Optimus NPU at batch 4 unless told otherwise.
    assert main(["solve", str(out), "--solver", "layerwise"]) == 0
    text = capsys.readouterr().out
    assert "instance     squeezenet1_1-optimus-npu-b4:" in text and "layerwise: feasible" in text
    assert main(["zoo", "export", "yolov3_tiny", "--resolution", "100"]) == 2
    assert capsys.readouterr().err == ("optimus-opt: error: field 'resolution': yolov3_tiny needs a resolution that "
                                       "is a multiple of 32, got 100\n")


def test_solve_a_zoo_name_is_the_paper_instance(capsys):
    assert main(["solve", "mobilenet_v1", "--solver", "layerwise", "--json"]) == 0
    by_name = json.loads(capsys.readouterr().out)
    assert main(["solve", PAPER_MOBILENET, "--solver", "layerwise", "--json"]) == 0
    by_file = json.loads(capsys.readouterr().out)
    assert by_name["instance"] == by_file["instance"] == "mobilenet_v1-optimus-npu-b4"
    assert by_name["dram_bytes"] == by_file["dram_bytes"] == 118_851_088
    assert by_name["groups"] == by_file["groups"]
    assert main(["solve", "mobilenet_v1", "--solver", "layerwise"]) == 0
    text = capsys.readouterr().out
    assert "accelerator  optimus-npu: buffer 131,072 B (128 KiB), 2-byte words, channel tile 32; batch 4" in text


def test_solve_and_evaluate_with_accelerator_batch_and_buffer(tmp_path, capsys):
    assert main(["solve", "squeezenet1_0", "--accelerator", "eyeriss", "--batch", "1", "--solver", "exact-dp",
                 "-o", str(tmp_path / "s.json")]) == 0
    text = capsys.readouterr().out
    assert "instance     squeezenet1_0-eyeriss-b1:" in text
    assert "accelerator  eyeriss: buffer 185,856 B (181.5 KiB), 2-byte words, channel tile 16; batch 1" in text
    assert "DRAM traffic 5,126,944 B" in text and "exact-dp: optimal" in text
    assert main(["evaluate", "squeezenet1_0", str(tmp_path / "s.json"), "--accelerator", "eyeriss",
                 "--batch", "1"]) == 0
    assert "valid: every group is convex" in capsys.readouterr().out
    # An accelerator file works as well as a preset name; --buffer still applies on top and names the instance.
    acc = str(ROOT / "instances" / "accelerators" / "shidiannao.json")
    assert main(["solve", "mobilenet_v1", "--solver", "layerwise", "--accelerator", acc, "--buffer", "64KiB"]) == 0
    text = capsys.readouterr().out
    assert "instance     mobilenet_v1-shidiannao-64KiB-b4:" in text and "buffer 65,536 B (64 KiB)" in text
    # --accelerator replaces an instance file's accelerator: VGG-16 at 96 KiB, infeasible layer by layer on the
    # Optimus NPU (Tc 32: 32 x 32 weight blocks), fits ShiDianNao's (Tc 1) at the same buffer.
    vgg = str(ROOT / "instances" / "paper" / "vgg16-optimus-npu-b4.json")
    assert main(["solve", vgg, "--solver", "layerwise", "--buffer", "96KiB"]) == 1
    assert "layerwise: infeasible" in capsys.readouterr().out
    assert main(["solve", vgg, "--solver", "layerwise", "--accelerator", "shidiannao", "--buffer", "96KiB"]) == 0
    text = capsys.readouterr().out
    assert "accelerator  shidiannao:" in text and "channel tile 1; batch 4" in text
    assert "DRAM traffic 3,233,015,056 B" in text


def test_unknown_zoo_name_or_preset_exits_2_listing_the_known_names(capsys):
    assert main(["solve", "lenet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("optimus-opt: error: 'lenet' is neither a file nor a zoo network (known networks: "
                          "alexnet, vgg16,") and err.rstrip().endswith("yolov3_tiny, unet, mobilenet_v3_large, "
                                                                    "mobilenet_v3_small, efficientnet_b0, mnasnet1_0, "
                                                                    "regnet_y_400mf, resnext50_32x4d)")
    assert main(["zoo", "export", "lenet"]) == 2
    assert capsys.readouterr().err.startswith("optimus-opt: error: unknown zoo network 'lenet' (known networks: ")
    assert main(["solve", "mobilenet_v1", "--accelerator", "tpu"]) == 2
    assert capsys.readouterr().err == ("optimus-opt: error: unknown accelerator preset 'tpu' (known: optimus-npu, "
                                       "optimus-npu-256k, optimus-npu-512k, optimus-npu-1m, eyeriss, shidiannao, "
                                       "hpca20-lb, optimus-artifact)\n")
    assert main(["solve", EXAMPLE, "--resolution", "100"]) == 2
    assert "--resolution applies to a zoo network, not to a file" in capsys.readouterr().err
    assert main(["solve", "missing.json"]) == 2
    assert capsys.readouterr().err == "optimus-opt: error: missing.json: instance file not found\n"


def test_accelerators_lists_the_presets(capsys):
    assert main(["accelerators"]) == 0
    lines = capsys.readouterr().out.splitlines()
    # with the energy constants (pJ) and the latency model's clock and bandwidth (formulations/energy.md §1)
    assert lines[1].split() == ["optimus-npu", "131,072", "B", "(128", "KiB)", "2", "32", "32x32", "200/6/0.1/1",
                                "1,000", "25,600"]
    assert lines[5].split() == ["eyeriss", "185,856", "B", "(181.5", "KiB)", "2", "16", "12x14", "200/6/1/1", "200",
                                "25,600"]
    assert lines[7].split() == ["hpca20-lb", "177,664", "B", "(173.5", "KiB)", "2", "32", "32x32", "200/6/0.5/1",
                                "1,000", "25,600"]
    assert main(["accelerators", "-v"]) == 0
    assert "source: Chen, Krishna, Emer, Sze, 'Eyeriss" in capsys.readouterr().out


@pytest.mark.parametrize("args", [["zoo", "list"], ["zoo", "export", "nasnet_a_mobile"], ["solve", "mobilenet_v1"]])
def test_broken_pipe_exits_quietly(args):
    # As in 'optimus-opt zoo list | head': the reader has gone before the command writes (closing our end of the
    # pipe first makes every write fail, deterministically).
    proc = subprocess.Popen([sys.executable, "-m", "optimus_opt.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 0
    assert err == b""


def test_pareto_command(tmp_path, capsys):
    out, png = tmp_path / "front.json", tmp_path / "front.png"
    assert main(["pareto", EXAMPLE, "--buffers", "60KiB..64KiB", "-o", str(out), "--plot", str(png)]) == 0
    text = capsys.readouterr().out
    # corners inside 61,440..65,536 B (see tests/test_pareto.py for the whole front, checked with exact-dp)
    assert "64,512 B" in text and "253,460 B" in text and "2 corners" in text
    doc = json.loads(out.read_text())
    assert [(p["buffer_bytes"], p["dram_bytes"]) for p in doc["points"]] == [(64512, 253460), (61440, 286228)]
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert main(["pareto", EXAMPLE, "--target", "300000", "--buffers", "8KiB..256KiB"]) == 0
    assert "least buffer for at most 300,000 B: 60,416 B" in capsys.readouterr().out
    assert main(["pareto", EXAMPLE, "--buffers", "64KiB"]) == 2
    assert "field '--buffers': expected MIN..MAX, got '64KiB'" in capsys.readouterr().err


def test_version_has_one_place(capsys):
    """``--version``, the package and the installed distribution's metadata all read optimus_opt/version.py."""
    import importlib.metadata

    from optimus_opt.version import __version__

    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out == f"optimus-opt {__version__}\n"
    assert importlib.metadata.version("optimus-opt") == __version__
    assert 'version = "' not in (Path(__file__).parents[1] / "pyproject.toml").read_text()


# -- messages that name what they should (issue 26 item 9) ---------------------------------------------------------

def test_evaluate_on_another_network_names_the_schedule_and_both_networks(tmp_path, capsys):
    sched = tmp_path / "sq.json"
    sched.write_text(json.dumps({"format": "optimus-opt/schedule@3", "instance": "squeezenet1_0-optimus-npu-b4",
                                 "solver": "layerwise", "status": "feasible",
                                 "groups": [{"layers": ["features.0"]}, {"layers": ["features.3.squeeze"]}]}))
    assert main(["evaluate", "resnet18", str(sched)]) == 1
    assert capsys.readouterr().err == (
        f"optimus-opt: {sched}: invalid schedule (unknown-layer): group 0: layer 'features.0' is not in resnet18 "
        "(this schedule is for squeezenet1_0-optimus-npu-b4)\n")


def test_a_resolution_too_small_names_the_network_the_resolution_and_the_layer(capsys):
    # at 7 x 7, features.0 (7 x 7, stride 2) leaves a 1 x 1 map, too small for the 3 x 3 pool features.2
    assert main(["solve", "squeezenet1_0", "--resolution", "7"]) == 2
    assert capsys.readouterr().err == (
        "optimus-opt: error: field 'resolution': squeezenet1_0 cannot take resolution 7: layer 'features.2': field "
        "'kernel': kernel [3, 3] (dilated span 3) is larger than the padded input height 1 + 0\n")


@pytest.mark.parametrize("buffer, name", [(None, "squeezenet1_1-optimus-npu-b4"),
                                          ("128KiB", "squeezenet1_1-optimus-npu-b4"),
                                          ("128kib", "squeezenet1_1-optimus-npu-b4"),
                                          ("131072", "squeezenet1_1-optimus-npu-b4"),
                                          ("64kib", "squeezenet1_1-optimus-npu-64KiB-b4"),
                                          ("65536", "squeezenet1_1-optimus-npu-64KiB-b4")])
def test_one_buffer_one_instance_name_however_it_is_spelled(buffer, name, capsys):
    """The Optimus NPU's own 128 KiB, given or not, in any spelling, is one instance with one name (the rule of
    io/resolve.py's instance_name: the buffer only where it is not the accelerator's)."""
    extra = ["--buffer", buffer] if buffer else []
    assert main(["solve", "squeezenet1_1", "--solver", "layerwise", "--json", *extra]) == 0
    assert json.loads(capsys.readouterr().out)["instance"] == name


def test_a_gap_is_printed_with_two_decimals_at_most():
    from optimus_opt.cli import bound_text
    from optimus_opt.cost.schedule import Schedule

    def text(dram: int, bound: int) -> str:
        return bound_text(Schedule(instance="t", solver="x", status="feasible", dram_bytes=dram, bound_bytes=bound))

    assert text(1_498_075, 1_000_000) == "1,000,000 B (gap 49.81%)"  # 0.498075, which printed 49.8075%
    assert text(1_000_000, 1_000_000) == "1,000,000 B (gap 0.00%)"
    assert text(1_000_000_001, 1_000_000_000) == "1,000,000,000 B (gap < 0.01%)"  # not 0.00%: it is not optimal
