"""A corpus of malformed inputs run through the command line: each exits 2 (bad input) or 1 (no schedule, an
invalid schedule) with a one-line message that names the file or the option, and never a traceback.

The files are made in ``tmp_path`` from the worked example (``instances/example-64k.json``): broken encodings,
nesting, directories where files belong, numbers too large for the cost model, options out of range, malformed
schedules and suites, and every instance mutation of ``tests/test_instance_errors.py``.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest
from helpers import run_cli
from test_instance_errors import CASES as INSTANCE_CASES

from optimus_opt.cli import main
from optimus_opt.model.limits import MAX_BYTES, MAX_ROWS

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "instances" / "example-64k.json"
BASE = json.loads(EXAMPLE.read_text())
ALL_LAYERS = [layer["name"] for layer in BASE["network"]["layers"] if layer["op"] not in ("input", "concat")]


run = run_cli


class Files:
    """Inputs written on demand into a temporary directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, name: str) -> str:
        return str(self.root / name)

    def text(self, name: str, text: str) -> str:
        (self.root / name).write_text(text)
        return self.path(name)

    def data(self, name: str, data: bytes) -> str:
        (self.root / name).write_bytes(data)
        return self.path(name)

    def doc(self, name: str, doc) -> str:
        return self.text(name, json.dumps(doc))

    def instance(self, name: str, mutate: Callable[[dict], None]) -> str:
        doc = copy.deepcopy(BASE)
        mutate(doc)
        return self.doc(name, doc)

    def network(self, name: str = "net.json", mutate: Callable[[dict], None] = lambda d: None) -> str:
        doc = {"format": "optimus-opt/network@1", **copy.deepcopy(BASE["network"])}
        mutate(doc)
        return self.doc(name, doc)

    def directory(self, name: str) -> str:
        (self.root / name).mkdir(exist_ok=True)
        return self.path(name)

    def schedule(self, groups, **top) -> str:
        return self.doc("sched.json", {"format": "optimus-opt/schedule@2", **top, "groups": groups})


def layer(doc: dict, name: str) -> dict:
    return next(entry for entry in doc["network"]["layers"] if entry["name"] == name)


NON_UTF8 = b"\xff\xfe{\"format\": 1}"
DEEP = "[" * 100_000 + "]" * 100_000
E = str(EXAMPLE)

#: (id, argv from the files, exit status, key words of the message on stderr, all of which must appear).
CORPUS: list[tuple[str, Callable[[Files], list[str]], int, tuple[str, ...]]] = [
    # -- files that cannot be read as documents -------------------------------------------------------------
    ("non-utf8 instance, solve", lambda f: ["solve", f.data("bin.json", NON_UTF8)], 2,
     ("bin.json: not a UTF-8 text file (byte 0xff at offset 0)",)),
    ("non-utf8 instance, evaluate", lambda f: ["evaluate", f.data("bin.json", NON_UTF8), E], 2,
     ("bin.json: not a UTF-8 text file",)),
    ("non-utf8 schedule, evaluate", lambda f: ["evaluate", E, f.data("bin.json", NON_UTF8)], 2,
     ("bin.json: not a UTF-8 text file", "schedule")),
    ("non-utf8 instance, gap", lambda f: ["gap", f.data("bin.json", NON_UTF8), "--out", f.path("g")], 2,
     ("bin.json: not a UTF-8 text file",)),
    ("non-utf8 yaml network", lambda f: ["solve", f.data("bin.yaml", NON_UTF8)], 2, ("bin.yaml: not a UTF-8",)),
    ("non-utf8 accelerator file", lambda f: ["solve", "mobilenet_v1", "--accelerator", f.data("acc.json", NON_UTF8)],
     2, ("acc.json: not a UTF-8 text file", "accelerator")),
    ("non-utf8 suite", lambda f: ["gap", f.data("suite.json", b'{"format": "optimus-opt/suite@1", "name": "\xff"}'),
                                  "--out", f.path("g")], 2, ("suite.json", "UTF-8")),
    ("non-utf8 schedule, show", lambda f: ["show", E, f.data("bin.json", NON_UTF8), "-o", f.path("s.dot")], 2,
     ("bin.json: not a UTF-8 text file",)),
    ("json nested 100,000 deep, solve", lambda f: ["solve", f.text("deep.json", DEEP)], 2,
     ("deep.json: nested too deeply",)),
    ("json nested 100,000 deep, schedule", lambda f: ["evaluate", E, f.text("deep.json", DEEP)], 2,
     ("deep.json: nested too deeply",)),
    ("json nested 100,000 deep, gap", lambda f: ["gap", f.text("deep.json", DEEP), "--out", f.path("g")], 2,
     ("deep.json: nested too deeply",)),
    ("json nested 200 deep", lambda f: ["solve", f.text("d200.json", '{"a":' * 200 + "1" + "}" * 200)], 2,
     ("d200.json: nested 200 levels deep",)),
    ("yaml nested 100,000 deep", lambda f: ["solve", f.text("deep.yaml", DEEP)], 2, ("deep.yaml: nested too",)),
    ("empty file", lambda f: ["solve", f.text("empty.json", "")], 2,
     ("empty.json: not valid JSON: Expecting value at line 1 column 1",)),
    ("unterminated string", lambda f: ["solve", f.text("str.json", '{"format": "optimus')], 2,
     ("str.json: not valid JSON: Unterminated string starting at line 1 column 12",)),
    ("control character", lambda f: ["solve", f.text("ctl.json", '"\t')], 2,
     ("ctl.json: not valid JSON: Invalid control character at line 1 column 2",)),
    ("yaml syntax error on one line", lambda f: ["solve", f.text("bad.yaml", "a: [1, 2\nb: 3\n")], 2,
     ("bad.yaml: not valid YAML: expected ',' or ']', but got ':' at line 2 column 2",)),
    ("a list, not an object", lambda f: ["solve", f.text("list.json", "[1, 2]")], 2,
     ("list.json: an instance document must be an object ({...}), got a list",)),
    ("a number of 5,000 digits", lambda f: ["solve", f.text("big.json", '{"batch": 1' + "0" * 5000 + "}")], 2,
     ("big.json: not valid JSON", "4300 digits")),
    ("missing instance file", lambda f: ["solve", f.path("nothere.json")], 2,
     ("nothere.json: instance file not found",)),
    ("missing schedule file", lambda f: ["evaluate", E, f.path("nothere.json")], 2,
     ("nothere.json: schedule file not found",)),
    ("network file names a missing file", lambda f: ["solve", f.doc("inst.json", {
        "format": "optimus-opt/instance@1", "network": "gone.json", "accelerator": BASE["accelerator"]})], 2,
     ("gone.json: network file not found (named by field 'network' of",)),
    # -- directories where files belong, outputs that cannot be written ---------------------------------------
    ("directory as instance", lambda f: ["solve", f.directory("adir")], 2,
     ("adir: is a directory, not an instance file",)),
    ("directory as instance, no slash", lambda f: ["solve", Path(f.directory("adir")).name], 2,
     ("adir: is a directory",)),
    ("directory as schedule", lambda f: ["evaluate", E, f.directory("sdir")], 2,
     ("sdir: is a directory, not a schedule file",)),
    ("directory as accelerator", lambda f: ["solve", "mobilenet_v1", "--accelerator", f.directory("acc.json")], 2,
     ("acc.json: is a directory",)),
    ("solve -o a directory", lambda f: ["solve", E, "-o", f.directory("odir")], 2,
     ("odir: field '--output': is a directory",)),
    ("solve -o in a missing folder", lambda f: ["solve", E, "-o", f.path("no/such/s.json")], 2,
     ("s.json: field '--output': the folder", "does not exist")),
    ("zoo export -o in a missing folder", lambda f: ["zoo", "export", "alexnet", "-o", f.path("no/n.json")], 2,
     ("n.json: field '--output': the folder", "does not exist")),
    ("zoo export -o a directory", lambda f: ["zoo", "export", "alexnet", "-o", f.directory("odir")], 2,
     ("field '--output': is a directory",)),
    ("export-onnx -o in a missing folder", lambda f: ["export-onnx", "alexnet", "-o", f.path("no/m.onnx")], 2,
     ("m.onnx: field '--output'", "does not exist")),
    ("show -o in a missing folder", lambda f: ["show", E, f.schedule([{"layers": ALL_LAYERS}]), "-o",
                                               f.path("no/s.png")], 2, ("s.png: field '--output'", "does not exist")),
    ("show -o a directory", lambda f: ["show", E, f.schedule([{"layers": ALL_LAYERS}]), "-o", f.directory("o.png")],
     2, ("o.png: field '--output': is a directory",)),
    ("pareto --plot in a missing folder", lambda f: ["pareto", E, "--plot", f.path("no/p.png")], 2,
     ("p.png: field '--plot'", "does not exist")),
    ("pareto -o a directory", lambda f: ["pareto", E, "-o", f.directory("odir")], 2,
     ("field '--output': is a directory",)),
    ("pareto --plot to an unknown format", lambda f: ["pareto", E, "--plot", f.path("p.bmp")], 2,
     ("p.bmp: field '--plot': cannot draw to '.bmp'",)),
    ("gap --out an existing file", lambda f: ["gap", E, "--solvers", "layerwise", "--out", f.text("afile", "x")], 2,
     ("afile: field '--out': is a file",)),
    ("gap --out in a missing folder", lambda f: ["gap", E, "--solvers", "layerwise", "--out", f.path("no/dir")], 2,
     ("field '--out': the folder", "does not exist")),
    ("report of a file", lambda f: ["report", f.text("afile", "x")], 2, ("afile: is a file, not a study",)),
    ("report of a missing directory", lambda f: ["report", f.path("nothing")], 2, ("no such study directory",)),
    ("report of a directory without results", lambda f: ["report", f.directory("empty")], 2,
     ("empty: no results.jsonl here",)),
    # -- numbers too large for the cost model --------------------------------------------------------------
    ("channels 10^40", lambda f: ["solve", f.instance("ch.json", lambda d: layer(d, "fc").update(channels=10 ** 40))],
     2, ("ch.json: layer 'fc': field 'channels':", "about 10^40", "2^53")),
    ("a shape of 10^200", lambda f: ["solve", f.instance("sh.json", lambda d: layer(d, "x").update(
        shape=[16, 10 ** 200, 32]))], 2, ("sh.json: layer 'x': field 'shape':", "about 10^200 rows", "65,536")),
    ("a wide shape of 10^200", lambda f: ["solve", f.instance("sw.json", lambda d: layer(d, "x").update(
        shape=[16, 32, 10 ** 200]))], 2, ("sw.json: layer 'x': field 'shape':", "elements")),
    ("buffer_bytes 10^400", lambda f: ["solve", f.instance("buf.json", lambda d: d["accelerator"].update(
        buffer_bytes=10 ** 400))], 2, ("buf.json: field 'accelerator.buffer_bytes':", "about 10^400 bytes", "2^53")),
    ("buffer_bytes 2^53 + 1", lambda f: ["solve", f.instance("buf.json", lambda d: d["accelerator"].update(
        buffer_bytes=MAX_BYTES + 1))], 2, ("field 'accelerator.buffer_bytes'", "9,007,199,254,740,993 bytes")),
    ("word_bytes 10^30", lambda f: ["solve", f.instance("w.json", lambda d: d["accelerator"].update(
        word_bytes=10 ** 30))], 2, ("w.json: field 'accelerator.word_bytes'",)),
    ("batch 10^15 in the file", lambda f: ["solve", f.instance("b.json", lambda d: d.update(batch=10 ** 15))], 2,
     ("b.json: field 'batch': batch 1,000,000,000,000,000 makes the output tensor",)),
    ("padding of 10^6", lambda f: ["solve", f.instance("p.json", lambda d: layer(d, "c1").update(
        padding=10 ** 6))], 2, ("p.json: layer 'c1': field 'padding':", "65,536")),
    ("stride of 2^63", lambda f: ["solve", f.instance("s.json", lambda d: d["network"].update(layers=[
        {"name": "x", "op": "input", "shape": [4, 8, 8]},
        {"name": "c", "op": "conv", "inputs": ["x"], "channels": 4, "kernel": 1, "stride": 2 ** 63}],
        outputs=["c"]))], 2,
     ("s.json: layer 'c': field 'stride':",)),
    ("upsample scale too large", lambda f: ["solve", f.network("up.json", lambda d: d["layers"].insert(
        len(d["layers"]) - 1, {"name": "up", "op": "upsample", "inputs": ["p1"], "scale": 10 ** 5}) or d.update(
        outputs=["fc", "up"]))], 2, ("up.json: layer 'up': field 'scale':",)),
    ("network file too large for the batch", lambda f: ["solve", f.network(mutate=lambda d: layer(
        {"network": d}, "x").update(shape=[16, 32, 2 ** 40])), "--batch", "1000000"], 2,
     ("field 'batch'",)),
    ("--buffer 1 and 400 zeros", lambda f: ["solve", E, "--buffer", "1" + "0" * 400], 2,
     ("argument --buffer:", "more than 40 digits")),
    ("--buffer 99999999999999999999999 is exact", lambda f: ["solve", E, "--buffer", "99999999999999999999999"], 2,
     ("argument --buffer:", "99,999,999,999,999,999,999,999 bytes", "2^53")),
    ("--buffer 0", lambda f: ["solve", E, "--buffer", "0"], 2, ("argument --buffer: a size must be at least 1 byte",)),
    ("--buffer 1.3KiB", lambda f: ["solve", E, "--buffer", "1.3KiB"], 2, ("'1.3KiB' is 1,331.2 bytes",)),
    ("--buffer 12 parsecs", lambda f: ["solve", E, "--buffer", "12 parsecs"], 2, ("not a byte size: '12 parsecs'",)),
    ("--batch 10^40", lambda f: ["solve", E, "--batch", "1" + "0" * 40], 2, ("field 'batch'",)),
    ("--batch 0", lambda f: ["solve", E, "--batch", "0"], 2, ("argument --batch: must be at least 1",)),
    ("--resolution too large", lambda f: ["solve", "mobilenet_v1", "--resolution", "1000000"], 2,
     ("argument --resolution: must be at most 65,536",)),
    ("--seed too large", lambda f: ["solve", E, "--seed", "99999999999999"], 2, ("argument --seed: must be at most",)),
    ("--workers 0", lambda f: ["solve", E, "--workers", "0"], 2, ("argument --workers: must be at least 1",)),
    ("--max-group 0", lambda f: ["solve", E, "--max-group", "0"], 2, ("argument --max-group: must be at least 1",)),
    # -- time limits ---------------------------------------------------------------------------------------
    ("solve --time-limit 0", lambda f: ["solve", E, "--time-limit", "0"], 2,
     ("argument --time-limit: must be a positive number of seconds, got '0'",)),
    ("solve --time-limit -1", lambda f: ["solve", E, "--solver", "exact-dp", "--time-limit", "-1"], 2,
     ("argument --time-limit: must be a positive number",)),
    ("solve --time-limit nan", lambda f: ["solve", E, "--time-limit", "nan"], 2, ("argument --time-limit",)),
    ("solve --time-limit inf", lambda f: ["solve", E, "--time-limit", "inf"], 2, ("argument --time-limit",)),
    ("solve --time-limit abc", lambda f: ["solve", E, "--time-limit", "abc"], 2, ("not a number of seconds",)),
    ("pareto --time-limit 0", lambda f: ["pareto", E, "--time-limit", "0"], 2, ("argument --time-limit",)),
    ("gap --time-limit -1", lambda f: ["gap", E, "--time-limit", "-1"], 2, ("argument --time-limit",)),
    ("gap --hard-limit 0", lambda f: ["gap", E, "--hard-limit", "0"], 2, ("argument --hard-limit",)),
    ("gap --option time_limit=0", lambda f: ["gap", E, "--solvers", "exact-dp", "--option", "exact-dp:time_limit=0",
                                             "--out", f.path("g")], 2,
     ("solver 'exact-dp': time_limit must be a positive number of seconds",)),
    # -- other options -------------------------------------------------------------------------------------
    ("unknown solver", lambda f: ["solve", E, "--solver", "nope"], 2, ("unknown solver 'nope' (known: auto,",)),
    ("unknown accelerator", lambda f: ["solve", E, "--accelerator", "tpu"], 2, ("unknown accelerator preset 'tpu'",)),
    ("unknown zoo network", lambda f: ["solve", "lenet"], 2, ("'lenet' is neither a file nor a zoo network",)),
    ("--resolution on a file", lambda f: ["solve", E, "--resolution", "100"], 2,
     ("--resolution applies to a zoo network",)),
    ("resolution a network cannot take", lambda f: ["zoo", "export", "yolov3_tiny", "--resolution", "100"], 2,
     ("field 'resolution'",)),
    ("pareto --buffers without ..", lambda f: ["pareto", E, "--buffers", "64KiB"], 2,
     ("field '--buffers': expected MIN..MAX",)),
    ("pareto --buffers reversed", lambda f: ["pareto", E, "--buffers", "64KiB..16KiB"], 2,
     ("field '--buffers': MIN 65,536 B is larger than MAX 16,384 B",)),
    ("pareto --buffers not sizes", lambda f: ["pareto", E, "--buffers", "a..b"], 2,
     ("field '--buffers': not a byte size: 'a'",)),
    ("pareto --target 0", lambda f: ["pareto", E, "--target", "0"], 2, ("argument --target",)),
    ("gap without inputs", lambda f: ["gap", "--out", f.path("g")], 2, ("nothing to run",)),
    ("gap with a preset and inputs", lambda f: ["gap", E, "--preset", "paper"], 2, ("a preset or inputs",)),
    ("gap --option without a key", lambda f: ["gap", E, "--option", "cpsat"], 2,
     ("field '--option': expected SOLVER:KEY=VALUE",)),
    ("gap --option for a solver not run", lambda f: ["gap", E, "--solvers", "layerwise", "--option",
                                                     "cpsat:seed=1", "--out", f.path("g")], 2,
     ("solver options for 'cpsat'",)),
    ("gap --batch not integers", lambda f: ["gap", E, "--batch", "a,b"], 2, ("field '--batch'",)),
    ("gap --batch zero", lambda f: ["gap", E, "--batch", "0"], 2, ("field '--batch': batch sizes must be positive",)),
    ("gap --buffers not sizes", lambda f: ["gap", E, "--buffers", "1.5"], 2, ("field '--buffers'",)),
    ("gap unknown input", lambda f: ["gap", "nosuchsuite"], 2, ("'nosuchsuite' is neither a file",)),
    ("gap missing file", lambda f: ["gap", f.path("x/none.json")], 2, ("none.json: file not found",)),
    ("gap dask without a scheduler", lambda f: ["gap", E, "--solvers", "layerwise", "--executor", "dask", "--out",
                                                f.path("g")], 2, ("needs a scheduler address",)),
    ("unknown command", lambda f: ["solvee"], 2, ("invalid choice: 'solvee'",)),
    ("no command", lambda f: [], 2, ("the following arguments are required",)),
    # -- suites ----------------------------------------------------------------------------------------------
    ("suite with an unknown key", lambda f: ["gap", f.doc("suite.json", {"format": "optimus-opt/suite@1",
                                                                           "name": "s", "nets": []})], 2,
     ("suite.json", "nets")),
    ("suite with a bad buffer", lambda f: ["gap", f.doc("suite.json", {
        "format": "optimus-opt/suite@1", "name": "s", "networks": ["alexnet"], "accelerators": ["optimus-npu"],
        "batches": [1], "buffers": ["1" + "0" * 30]})], 2, ("suite.json: field 'buffers[0]'",)),
    # -- schedules -------------------------------------------------------------------------------------------
    ("schedule of another format", lambda f: ["evaluate", E, f.doc("sched.json", {"format": "x", "groups": []})], 2,
     ("sched.json: field 'format'",)),
    ("schedule groups not a list", lambda f: ["evaluate", E, f.doc("sched.json", {
        "format": "optimus-opt/schedule@2", "groups": 5})], 2, ("sched.json: field 'groups'",)),
    ("schedule group with an unknown field", lambda f: ["evaluate", E, f.schedule([{"layers": ["c1"], "strip": 2}])],
     2, ("group 0: unknown field 'strip'",)),
    ("schedule reduced_channels not a list", lambda f: ["evaluate", E, f.schedule([{
        "layers": ALL_LAYERS, "reduced_channels": 5}])], 2, ("group 0: field 'reduced_channels'",)),
    ("schedule resident_weights not a boolean", lambda f: ["evaluate", E, f.schedule([{
        "layers": ALL_LAYERS, "resident_weights": "no"}])], 2, ("group 0: field 'resident_weights'",)),
    ("schedule strips not an integer", lambda f: ["evaluate", E, f.schedule([{"layers": ALL_LAYERS,
                                                                              "strips": "2"}])], 2,
     ("group 0: field 'strips': expected an integer",)),
    ("schedule solver_info not an object", lambda f: ["evaluate", E, f.schedule([{"layers": ALL_LAYERS}],
                                                                                 solver_info=5)], 2,
     ("field 'solver_info'",)),
    ("schedule dram_bytes not an integer", lambda f: ["evaluate", E, f.schedule([{"layers": ALL_LAYERS}],
                                                                                 dram_bytes="x")], 2,
     ("field 'dram_bytes'",)),
    ("schedule unplaced not a list", lambda f: ["evaluate", E, f.schedule([], unplaced=5)], 2, ("field 'unplaced'",)),
    ("schedule solve_seconds not a number", lambda f: ["evaluate", E, f.schedule([{"layers": ALL_LAYERS}],
                                                                                  solve_seconds="x")], 2,
     ("field 'solve_seconds'",)),
    ("schedule with an unknown layer", lambda f: ["evaluate", E, f.schedule([{"layers": ["zz"]}])], 1,
     ("invalid schedule (unknown-layer)",)),
    ("schedule missing layers", lambda f: ["evaluate", E, f.schedule([{"layers": ["c1"]}])], 1,
     ("invalid schedule (missing)",)),
    ("schedule with strips out of range", lambda f: ["evaluate", E, f.schedule([
        {"layers": [n], "strips": 10 ** 20} for n in ALL_LAYERS])], 1, ("invalid schedule",)),
    ("schedule of an infeasible buffer", lambda f: ["evaluate", E, f.schedule([{"layers": ALL_LAYERS}]), "--buffer",
                                                    "1KiB"], 1, ("invalid schedule (infeasible-tiling)",)),
    # -- ONNX ------------------------------------------------------------------------------------------------
    ("not an ONNX model", lambda f: ["solve", f.text("m.onnx", "not a model")], 2, ("m.onnx",)),
    ("missing ONNX model", lambda f: ["solve", f.path("none.onnx")], 2, ("none.onnx",)),
]
# every mutation of the instance-error tests, through the command line
CORPUS += [(f"instance: {what}", lambda f, mutate=mutate: ["solve", f.instance("bad.json", mutate)], 2,
            ("bad.json: ", message)) for what, mutate, message in INSTANCE_CASES]


@pytest.mark.parametrize("name, argv, code, words", CORPUS, ids=[c[0] for c in CORPUS])
def test_malformed_input_gets_one_line_and_an_exit_status(tmp_path, monkeypatch, capsys, name, argv, code, words):
    monkeypatch.chdir(tmp_path)
    got, out, err = run(argv(Files(tmp_path)), capsys)
    assert "Traceback" not in err and "Traceback" not in out
    assert "internal error" not in err, err
    assert got == code, (got, err)
    lines = [line for line in err.splitlines() if not line.startswith("optimus-opt: note:")]
    if code == 2:
        assert len(lines) == 1, err  # one line, whatever went wrong
        assert lines[0].startswith("optimus-opt")
    for word in words:
        assert word in err, (word, err)


def test_corpus_size():
    # the 57 inputs the issue found handled, and every case it listed, are in the corpus
    assert len(CORPUS) >= 57 + 20


@pytest.mark.parametrize("argv", [["solve", "BIN"], ["evaluate", E, "BIN"], ["gap", "BIN", "--out", "OUT"]])
def test_no_traceback_in_a_real_process(tmp_path, argv):
    """The same guarantee from a real interpreter (what a user runs), for the non-UTF-8 file."""
    binary = tmp_path / "bin.json"
    binary.write_bytes(NON_UTF8)
    argv = [str(binary) if a == "BIN" else str(tmp_path / "g") if a == "OUT" else a for a in argv]
    run_ = subprocess.run([sys.executable, "-m", "optimus_opt.cli", *argv], capture_output=True, text=True,
                          timeout=120)
    assert run_.returncode == 2
    assert run_.stderr.count("\n") == 1 and "Traceback" not in run_.stderr
    assert f"{binary}: not a UTF-8 text file" in run_.stderr


def test_a_utf8_byte_order_mark_is_accepted(tmp_path, capsys):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + EXAMPLE.read_bytes())
    code, out, err = run(["solve", str(path), "--solver", "layerwise", "--quiet"], capsys)
    assert code == 0 and "layerwise: feasible" in out


def test_a_bug_is_one_line_that_says_so(monkeypatch, capsys):
    """An exception that is not a deliberate error is still one line (exit 3), naming where it was raised; with
    OPTIMUS_OPT_DEBUG set it propagates, for the traceback."""
    from optimus_opt import cli

    def broken(args):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(cli, "_solve", broken)
    code, out, err = run(["solve", E], capsys)
    assert code == 3
    assert err.startswith("optimus-opt: internal error (a bug of optimus-opt") and err.count("\n") == 1
    assert "ZeroDivisionError: division by zero at test_malformed.py" in err
    monkeypatch.setenv("OPTIMUS_OPT_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        main(["solve", E])


def test_limits_are_what_the_cost_model_takes():
    """The largest sizes go through the cost model without overflow; one more is refused."""
    import optimus_opt as oo

    doc = copy.deepcopy(BASE)
    doc["accelerator"]["buffer_bytes"] = MAX_BYTES
    inst = oo.Instance.from_dict(doc)
    assert oo.solve(inst, "layerwise").status == "feasible"  # a buffer of 2^53 bytes holds everything
    tall = oo.Instance.from_dict({**copy.deepcopy(BASE), "network": {"name": "tall", "layers": [
        {"name": "x", "op": "input", "shape": [1, MAX_ROWS, 1]},
        {"name": "p", "op": "pool", "inputs": ["x"], "kernel": [2, 1]}]}})
    assert oo.solve(tall, "layerwise").dram_bytes == 2 * (MAX_ROWS + MAX_ROWS // 2)
    with pytest.raises(oo.InstanceError, match="field 'shape'"):
        oo.Instance.from_dict({**copy.deepcopy(BASE), "network": {"name": "taller", "layers": [
            {"name": "x", "op": "input", "shape": [1, MAX_ROWS + 1, 1]},
            {"name": "p", "op": "pool", "inputs": ["x"], "kernel": [2, 1]}]}})


def test_parse_size_is_exact():
    from optimus_opt import parse_size
    from optimus_opt.model.accelerator import describe_size, format_size

    assert parse_size("9007199254740991") == 2 ** 53 - 1  # a float would round it to 2^53
    assert parse_size("9007199254740993B".replace("3B", "2B")) == 2 ** 53
    assert parse_size("181.5KiB") == 185856 and parse_size("0.5KiB") == 512 and parse_size("2TiB") == 2 << 40
    for text in ("9007199254740993", "1.0000000001KiB", "-5", "5 PiB"):
        with pytest.raises(ValueError):
            parse_size(text)
    assert format_size(185856) == "181.5 KiB" and format_size(266064) == "266064 B"  # instance names use it
    assert describe_size(266064) == "266,064 B" and describe_size(131072) == "131,072 B (128 KiB)"
    assert format_size(2 ** 53) == "8192 TiB" and describe_size(2 ** 53) == "9,007,199,254,740,992 B (8192 TiB)"
