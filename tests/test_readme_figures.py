"""The quick figures of README.md, docs/reproduction.md and CONTRIBUTING.md, recomputed (issue 26, item 4).

Each test reads its number out of the document with a regular expression around a stable phrase and recomputes it
through the library or the command line, so that editing a figure without measuring it again fails here. Figures
that take more than a few seconds, or depend on a time limit, are in ``benchmarks/readme_figures.py``. Figures other
tests assert are left to them: the library example's comments (tests/test_readme.py), the ``import-onnx --check``
report (tests/test_onnx_exports.py), the presets and the paper preset's experiments (tests/test_studies.py), the zoo's
weights and MACs (tests/test_zoo_*.py).
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
from helpers import run_cli

import optimus_opt as oo
from optimus_opt.io.resolve import resolve_instance
from optimus_opt.solvers.diagnose import least_buffer
from optimus_opt.solvers.pareto import recompute_front

ROOT = Path(__file__).resolve().parents[1]


def _flat(relative: str) -> str:
    """A document with every run of white space made one space, so that a phrase may span lines."""
    return re.sub(r"\s+", " ", (ROOT / relative).read_text(encoding="utf-8"))


README = _flat("README.md")


def stated(pattern: str, text: str | None = None) -> tuple[str, ...]:
    """The groups of ``pattern``'s one match in ``text`` (README.md by default); fails naming the phrase when the
    document lost it."""
    found = re.findall(pattern, README if text is None else text)
    assert len(found) == 1, f"expected one match of {pattern!r} in the document, found {len(found)}"
    return found[0] if isinstance(found[0], tuple) else (found[0],)


def number(text: str) -> int:
    """``'253,460'`` -> 253460."""
    return int(text.replace(",", ""))


def percent(part: int, whole: int, decimals: int) -> str:
    """``part`` as a percentage of ``whole``, printed as the documents print it."""
    return f"{100 * part / whole:.{decimals}f}"


def bound_of(argv: list[str], capsys) -> int:
    """The bytes of ``optimus-opt bound ...``'s line ``lower bound  N B``."""
    code, out, err = run_cli(["bound", *argv], capsys)
    assert code == 0, err
    return number(re.search(r"^lower bound +([\d,]+) B", out, re.MULTILINE).group(1))


# -- the worked example ------------------------------------------------------------------------------------------

def test_worked_example_in_strips_tiles_and_recompute(example):
    strips, tiles, recompute, macs, share = stated(
        r"The worked example moves ([\d,]+) B in strips, ([\d,]+) B in tiles and ([\d,]+) B with `--halo recompute`, "
        r"which computes ([\d,]+) MACs \(([\d.]+) %\) twice")
    lib_macs, lib_added = stated(r"\.macs\) +# (\d+): ([\d,]+) of them recomputed")
    runs = {halo: oo.solve(example if halo is None else example.with_overrides(tiling="tiles", halo=halo), "exact-dp")
            for halo in (None, "choose", "recompute")}
    assert {h: (s.status, s.dram_bytes) for h, s in runs.items()} == {
        None: ("optimal", number(strips)), "choose": ("optimal", number(tiles)),
        "recompute": ("optimal", number(recompute))}
    redone = runs["recompute"]
    own = example.batch * example.network.total_macs  # what no schedule can avoid computing once
    assert redone.macs == own + redone.added_macs
    assert redone.added_macs == number(macs) == number(lib_added)
    assert percent(redone.added_macs, own, 2) == share
    assert redone.macs == int(lib_macs)


# -- the segment bound (README, `bound`) ---------------------------------------------------------------------------

def test_segment_bound_meets_the_optimum_with_wider_segments(capsys):
    wide, resnet, mobilenet, squeeze = stated(
        r"With `--segment (\d+)` it meets the optimum on ResNet-18 \(([\d,]+) B\), MobileNetV2 \(([\d,]+) B\) and "
        r"SqueezeNet \(([\d,]+) B\) at 128 KiB")
    default, resnet16, mobilenet16, resnet_coupled, mobilenet_coupled = stated(
        r"the default (\d+) layers per segment give ([\d,]+) B and ([\d,]+) B on the first two when summed \(`--rounds "
        r"0`\), and ([\d,]+) B and ([\d,]+) B once the windows are coupled")
    from optimus_opt.solvers.segment_bound import DEFAULT_SEGMENT

    assert int(default) == DEFAULT_SEGMENT
    for net, optimum, summed, coupled in (("resnet18", resnet, resnet16, resnet_coupled),
                                          ("mobilenet_v2", mobilenet, mobilenet16, mobilenet_coupled),
                                          ("squeezenet1_0", squeeze, squeeze, squeeze)):  # SqueezeNet's at both widths
        solved = oo.solve(resolve_instance(net), "exact-dp")
        assert (solved.status, solved.dram_bytes) == ("optimal", number(optimum)), net
        assert bound_of([net, "--segment", wide], capsys) == number(optimum), net
        assert bound_of([net, "--rounds", "0"], capsys) == number(summed), net
        assert number(summed) <= bound_of([net], capsys) == number(coupled) <= number(optimum), net


def test_nasnet_compulsory_traffic():
    (compulsory,) = stated(r"against a compulsory traffic of ([\d,]+) B")
    inst = resolve_instance("nasnet_a_mobile")
    assert oo.evaluate(inst, oo.solve(inst, "layerwise")).compulsory_bytes == number(compulsory)
    # by hand: the input and the outputs once, at the batch, and every weight once (2-byte words)
    net, word = inst.network, inst.accelerator.word_bytes

    def words(t: int) -> int:
        c, h, w = net.shapes[t]
        return c * h * w

    tensors = sum(words(t) for t in (*net.input_ids, *net.output_ids))
    assert word * (inst.batch * tensors + net.total_weight_words) == number(compulsory)


# -- the traffic/recompute front of SqueezeNet (README, `pareto --recompute`) --------------------------------------

def test_squeezenet_recompute_front_corners():
    most, share, none = stated(
        r"\(SqueezeNet at 128 KiB: ([\d,]+) B with ([\d.]+) % of its MACs recomputed, down to ([\d,]+) B with none\)")
    inst = resolve_instance("squeezenet1_0", tiling="tiles")
    front = recompute_front(inst)
    assert front.complete
    first, last = front.points[0], front.points[-1]
    assert first.dram_bytes == number(most)
    assert percent(first.added_macs, inst.batch * inst.network.total_macs, 2) == share
    assert (last.dram_bytes, last.added_macs) == (number(none), 0)


# -- version 1 against version 2 on ResNet-18 (README) ------------------------------------------------------------

def test_resnet18_output_channel_tile_and_staged_block():
    tile, block = stated(r"tile \(([\d,]+) bytes for ResNet-18's `layer3.0.conv2`\); version 2 stages one Tc × Tc "
                         r"block \(([\d,]+) bytes\)")
    inst = resolve_instance("resnet18")
    net, acc = inst.network, inst.accelerator
    conv = net.index["layer3.0.conv2"]
    layer = net.layers[conv]
    (source,) = net.producers[conv]
    kh, kw = layer.kernel
    per_output_channel = net.shapes[source][0] // layer.groups * kh * kw  # 256 × 3 × 3 weight words
    assert acc.word_bytes * acc.channel_tile * per_output_channel == number(tile) > acc.buffer_bytes
    assert acc.word_bytes * acc.channel_tile * acc.channel_tile * kh * kw == number(block)
    assert oo.CostModel(inst).block_bytes[conv] == number(block)


# -- least buffers (README: studies, benchmarks) ------------------------------------------------------------------

def test_vgg16_has_no_schedule_below_its_least_buffer():
    (least,) = stated(r"VGG-16 below ([\d,]+) bytes")
    need = least_buffer(resolve_instance("vgg16"))
    assert need.low == need.high == number(least)
    assert oo.solve(resolve_instance("vgg16", buffer=number(least) - 1), "exact-dp").status == "infeasible"
    assert oo.solve(resolve_instance("vgg16", buffer=number(least)), "exact-dp").status == "optimal"


def test_least_buffer_of_vgg16s_fused_layer_group():
    strips, cached, recomputed, more = stated(
        r"batch 1\): ([\d,]+) B in strips, ([\d,]+) B in tiles with cached halos \(Fused-Layer, MICRO 2016: 362 KB\) "
        r"and ([\d,]+) B with recomputed ones, which then compute (\d+) % more MACs")
    net = oo.zoo.build("vgg16")
    group = [net.index[f"features.{k}"] for k in (0, 2, 4, 5, 7, 9, 10)]  # conv1_1 … conv3_1 and two pools

    def model(buffer: int, tiling: str, halo: str) -> oo.CostModel:
        acc = oo.Accelerator(buffer_bytes=buffer, word_bytes=4, channel_tile=32, weight_staging="none",
                             tiling=tiling, halo=halo)
        return oo.CostModel(oo.Instance(net, acc, batch=1))

    at_least = {}
    for tiling, halo, stated_bytes in (("strips", "choose", strips), ("tiles", "cache", cached),
                                       ("tiles", "recompute", recomputed)):
        least = model(1 << 40, tiling, halo).least_buffer(group)
        assert least == number(stated_bytes), (tiling, halo)
        assert model(least - 1, tiling, halo).best_tiling(group) is None
        at_least[halo] = model(least, tiling, halo).best_tiling(group)
    redone = at_least["recompute"]
    assert percent(redone.added_macs, redone.macs - redone.added_macs, 0) == more


def test_unet_at_128kib_has_a_schedule_only_in_tiles():
    stated(r"U-Net at 128 KiB has a schedule only in tiles")
    assert oo.solve(resolve_instance("unet"), "exact-dp").status == "infeasible"
    assert oo.solve(resolve_instance("unet", tiling="tiles"), "layerwise").dram_bytes is not None


# -- messages README quotes -----------------------------------------------------------------------------------------

def test_input_error_example(tmp_path, monkeypatch, capsys):
    (quoted,) = stated(r"for example: ``` (optimus-opt: error: net\.json: [^`]*?) ```")
    # a network whose conv3 reads a 4-row tensor (16 -> 8 -> 4 through two stride-2 convs) with a 7 x 7 kernel
    convs = [("conv1", "x", 3, 2), ("conv2", "conv1", 3, 2), ("conv3", "conv2", 7, 1)]
    layers = [{"name": "x", "op": "input", "shape": [3, 16, 16]}] + [
        {"name": name, "op": "conv", "inputs": [src], "channels": 8, "kernel": k, "stride": s, "padding": 1}
        for name, src, k, s in convs]
    (tmp_path / "net.json").write_text(json.dumps({"format": "optimus-opt/network@1", "name": "net",
                                                   "layers": layers}))
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(["solve", "net.json"], capsys)
    assert (code, out, err) == (2, "", quoted + "\n")


# -- ONNX (README) ------------------------------------------------------------------------------------------------

def test_onnx_export_of_vgg16():
    pytest.importorskip("onnx")
    opset, batch = stated(r"`export-onnx` writes a shape-only graph \(opset (\d+), batch (\d+) unless `--batch`\)")
    (kilobytes,) = stated(r"VGG-16 is (\d+) KB")
    model = oo.network_to_onnx(oo.zoo.build("vgg16"))
    assert [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")] == [int(opset)]
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_value == int(batch)
    assert round(len(model.SerializeToString()) / 1000) == int(kilobytes)


def test_channel_shuffle_refusal_example(tmp_path, monkeypatch, capsys):
    pytest.importorskip("onnx")
    import onnx
    from onnx_graphs import G

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("optimus-opt: error: shufflenet.onnx")
    example = text[start:text.index("```", start)].rstrip("\n").splitlines()
    # the model README quotes: ShuffleNetV2's channel shuffle of 58 channels at 56 × 56, then an Erf
    g = G(weights=False)
    x = g.input("input", [1, 58, 56, 56])
    grouped = g.node("Reshape", [x, g.const("grouped", [1, 2, 29, 56, 56])], "/stage2/stage2.0/Reshape/Reshape")
    swapped = g.node("Transpose", [grouped], "/stage2/stage2.0/Transpose/Transpose", perm=[0, 2, 1, 3, 4])
    back = g.node("Reshape", [swapped, g.const("back", [1, 58, 56, 56])], "/stage2/stage2.0/Reshape_1/Reshape")
    erf = g.node("Erf", [back], "/stage2/stage2.1/gelu/Erf")
    onnx.save(g.model([erf]), tmp_path / "shufflenet.onnx")
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(["import-onnx", "shufflenet.onnx"], capsys)
    lines = err.splitlines()
    assert (code, out, len(lines)) == (2, "", len(example))
    assert lines[:-1] == example[:-1]
    # README shortens the list of ops in the last line with "..."
    head, _, rest = example[-1].partition(", ...")
    assert lines[-1].startswith(head) and "; it folds BatchNormalization, Relu, " in lines[-1]
    assert lines[-1].endswith(rest.rpartition(", ...")[2])


# -- stated defaults and limits (README, CONTRIBUTING) -------------------------------------------------------------

def test_stated_defaults_and_limits():
    from optimus_opt.cli import DIAGNOSIS_SECONDS
    from optimus_opt.model.limits import MAX_BYTES, MAX_ROWS
    from optimus_opt.solvers.auto import DEFAULT_TIME_LIMIT, EXACT_SHARE
    from optimus_opt.solvers.windows import DEFAULT_WINDOW, FIRST_WIDTH
    from optimus_opt.studies.paper import PAPER_OPTIONS
    from optimus_opt.studies.planning import default_hard_limit

    assert float(stated(r"re-solved exactly\), within (\d+) s in all")[0]) == DEFAULT_TIME_LIMIT
    assert "warm-started from the best schedule for two thirds of the time left" in README and EXACT_SHARE == 2 / 3
    assert float(stated(r"under (\d+) s or `--time-limit`")[0]) == DIAGNOSIS_SECONDS
    assert tuple(map(int, stated(r"\((\d+) to (\d+) layers, widening\)"))) == (FIRST_WIDTH, DEFAULT_WINDOW)
    factor, extra = map(int, stated(r"by default the time limit × (\d+) \+ (\d+) s"))
    assert default_hard_limit(7.0) == factor * 7.0 + extra
    power, pebibytes = map(int, stated(r"sizes up to 2\^(\d+) bytes \((\d+) PiB\)"))
    assert MAX_BYTES == 2 ** power == pebibytes * 2 ** 50
    assert number(stated(r"tensors up to ([\d,]+) rows high")[0]) == MAX_ROWS
    assert number(stated(r"windows \(kernel, stride, dilation, padding\) up to ([\d,]+)")[0]) == MAX_ROWS
    limit = float(stated(r"Every exact run has (\d+) s and no group cap")[0])
    assert {name: opts["time_limit"] for name, opts in PAPER_OPTIONS.items()} == dict.fromkeys(PAPER_OPTIONS, limit)
    columns = int(stated(r"lines are at most (\d+) characters", _flat("CONTRIBUTING.md"))[0])
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["line-length"] == columns


# -- the paper preset (README, docs/reproduction.md) --------------------------------------------------------------

def test_paper_preset_counts_its_runs_and_instances():
    from optimus_opt.studies.paper import paper_experiments, paper_instances
    from optimus_opt.studies.planning import plan_experiments

    planned = (len(plan_experiments(paper_experiments())), len(paper_instances()))
    (readme_runs,) = stated(r"with `--jobs 2` the (\d+) runs take about")
    docs_runs, docs_instances = stated(r"(\d+) runs \((\d+) instances\) in", _flat("docs/reproduction.md"))
    assert planned[0] == int(readme_runs), f"README: {readme_runs} runs; the preset plans {planned[0]}"
    assert planned == (int(docs_runs), int(docs_instances)), \
        f"docs/reproduction.md: {docs_runs} runs, {docs_instances} instances; the preset plans {planned}"


def test_paper_experiments_table_of_the_reproduction_page():
    from optimus_opt.studies.paper import PAPER_BATCHES, PAPER_PE_BUFFERS, PAPER_PE_TILES, PAPER_SWEEP

    docs = _flat("docs/reproduction.md")
    (sweep,) = stated(r"\| buffer sweep \| SqueezeNet on `optimus-npu`, batch 4, ([\d, ]+) KiB \|", docs)
    assert tuple(int(k) * 1024 for k in sweep.split(", ")) == PAPER_SWEEP
    assert int(stated(r"`buffer_size.py` \(its (\d+) sizes\)", docs)[0]) == len(PAPER_SWEEP)
    (batches,) = stated(r"\| batch sweep \| VGG-16 and SqueezeNet on `optimus-npu`, batch ([\d, ]+) \|", docs)
    assert tuple(int(b) for b in batches.split(", ")) == PAPER_BATCHES
    tiles, buffers = stated(r"\| PE-array sweep \| SqueezeNet, batch 4, Tc ([\d, ]+) \(a Tc × Tc array\) × "
                            r"([\d, ]+) KiB \|", docs)
    assert tuple(int(t) for t in tiles.split(", ")) == PAPER_PE_TILES
    assert tuple(int(k) * 1024 for k in buffers.split(", ")) == PAPER_PE_BUFFERS


def test_readme_energy_objective_and_budget_figures():
    dram_b, dram_uj, recomputed, energy_b, energy_uj = stated(
        r"the DRAM optimum moves ([\d,]+) B and takes ([\d.]+) µJ by recomputing ([\d,]+) MACs; `--objective energy` "
        r"gives ([\d,]+) B and ([\d.]+) µJ with no recompute, which is also what `--max-recompute 0` gives")
    inst = oo.load_instance("instances/example-32k.json").with_overrides(tiling="tiles")
    by_dram, by_energy = oo.solve(inst, "cpsat"), oo.solve(inst, "cpsat", objective="energy")
    held = oo.solve(inst, "cpsat", max_recompute=0)
    assert (by_dram.dram_bytes, f"{by_dram.energy_fj / 1e9:.2f}", by_dram.added_macs) == \
        (number(dram_b), dram_uj, number(recomputed))
    assert (by_energy.dram_bytes, f"{by_energy.energy_fj / 1e9:.2f}", by_energy.added_macs) == \
        (number(energy_b), energy_uj, 0)
    assert held.dram_bytes == number(energy_b) and held.added_macs == 0


def test_readme_energy_recompute_front():
    from optimus_opt.solvers.pareto import metric_front

    corners, top_mj, top_macs, low_mj = stated(
        r"`optimus-opt pareto squeezenet1_0 --tiling tiles --x energy --y recompute` gives (\d+) corners at 128 KiB, "
        r"from ([\d.]+) mJ with ([\d,]+) MACs recomputed to ([\d.]+) mJ with none")
    inst = resolve_instance("squeezenet1_0", tiling="tiles")
    front = metric_front(inst, "energy", "recompute")
    first, last = front.points[0], front.points[-1]
    assert len(front.points) == int(corners)
    assert (f"{first.x / 1e12:.3f}", first.y, f"{last.x / 1e12:.3f}", last.y) == \
        (top_mj, number(top_macs), low_mj, 0)
