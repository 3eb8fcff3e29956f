"""The optimus-opt command: summaries, files, exit codes and error messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from optimus_opt.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = str(ROOT / "instances" / "example-64k.json")


def test_solve_prints_a_summary_and_writes_the_schedule(tmp_path, capsys):
    out = tmp_path / "s.json"
    assert main(["solve", EXAMPLE, "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "DRAM traffic 1,024,020 B (8.367 x compulsory 122,388 B)" in text
    assert "layerwise: feasible" in text
    assert "groups       10" in text
    doc = json.loads(out.read_text())
    assert doc["format"] == "optimus-opt/schedule@1" and doc["dram_bytes"] == 1024020
    assert doc["compulsory_bytes"] == 122388 and len(doc["groups"]) == 10


def test_solve_json_and_evaluate(tmp_path, capsys):
    assert main(["solve", EXAMPLE, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc))
    assert main(["evaluate", EXAMPLE, str(path)]) == 0
    assert "valid: every group is convex" in capsys.readouterr().out
    assert main(["evaluate", EXAMPLE, str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["dram_bytes"] == 1024020


def test_overrides(capsys):
    # With 16 KiB, c2 and c3 (18,432 weight bytes each) can no longer keep their weights resident and read them
    # once per strip (11 strips): 2 · 10 · 18,432 bytes more, plus c5 streaming at 3 strips (2 · 36,864) and the
    # rest unchanged: 1,024,020 + 368,640 + 73,728 = 1,466,388.
    assert main(["solve", EXAMPLE, "--buffer", "16KiB"]) == 0
    text = capsys.readouterr().out
    assert "buffer 16,384 B (16 KiB)" in text and "DRAM traffic 1,466,388 B" in text
    assert main(["solve", EXAMPLE, "--batch", "4", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["compulsory_bytes"] == 4 * (32768 + 20) + 89600


def test_invalid_schedule_exits_1(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"format": "optimus-opt/schedule@1", "groups": [
        {"layers": ["c1", "a1"]}, {"layers": ["c2", "c3"]}, {"layers": ["p1", "c4", "c5", "cat", "g", "fc"]}]}))
    assert main(["evaluate", EXAMPLE, str(path)]) == 1
    assert "invalid schedule (not-convex): group 0: not convex" in capsys.readouterr().err


def test_layerwise_infeasible_names_the_layer(capsys):
    assert main(["solve", EXAMPLE, "--buffer", "4096"]) == 1
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
    assert "unknown solver 'nope' (known: layerwise" in capsys.readouterr().err
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
