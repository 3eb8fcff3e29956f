"""The files of instances/: generated from the zoo and the presets, byte for byte; the paper's instances; suites."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import optimus_opt as oo
from optimus_opt import zoo
from optimus_opt.io.resolve import instance_name, size_label
from optimus_opt.model.errors import InstanceError
from optimus_opt.model.presets import PRESETS, accelerator_preset, preset_names, resolve_accelerator
from optimus_opt.studies.regenerate import HAND_WRITTEN, PAPER_NETWORKS, generated_documents
from optimus_opt.studies.suite import Suite, bundled_suite, bundled_suite_names, load_suite, suite_from_dict

ROOT = Path(__file__).resolve().parents[1]
INSTANCES = ROOT / "instances"


# -- the checked-in files are exactly what instances/regenerate.py writes ---------------------------------------

def test_checked_in_files_are_regenerated_byte_for_byte(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, str(INSTANCES / "regenerate.py"), str(tmp_path)], capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stderr
    generated = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert generated == set(generated_documents())
    assert run.stdout.strip() == f"wrote {len(generated)} files under {tmp_path}"
    checked_in = {p.relative_to(INSTANCES).as_posix() for p in INSTANCES.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts}
    differing = sorted(rel for rel in generated & checked_in
                       if (tmp_path / rel).read_bytes() != (INSTANCES / rel).read_bytes())
    missing = sorted(generated - checked_in)
    stale = sorted(checked_in - generated - set(HAND_WRITTEN))
    assert not (differing or missing or stale), (
        f"instances/ is out of date: differing {differing}, missing {missing}, neither generated nor hand-written "
        f"{stale}; run 'python instances/regenerate.py' (and delete stale files), then commit")


def test_generated_layout() -> None:
    docs = generated_documents()
    assert sorted(k for k in docs if k.startswith("networks/")) == sorted(f"networks/{n}.json" for n in zoo.names())
    assert sorted(k for k in docs if k.startswith("accelerators/")) == sorted(
        f"accelerators/{n}.json" for n in ("optimus-npu", "optimus-npu-256k", "optimus-npu-512k", "optimus-npu-1m",
                                          "eyeriss", "shidiannao", "hpca20-lb", "optimus-artifact"))
    assert sorted(k for k in docs if k.startswith("paper/")) == sorted(
        f"paper/{n}-optimus-npu-b4.json" for n in ("alexnet", "vgg16", "googlenet", "squeezenet1_0", "mobilenet_v1",
                                                   "resnet18", "resnet50", "nasnet_a_mobile"))
    assert sorted(k for k in docs if k.startswith("suites/")) == ["suites/all.json", "suites/paper.json",
                                                                 "suites/smoke.json"]
    assert docs["paper/squeezenet1_0-optimus-npu-b4.json"] == {
        "format": "optimus-opt/instance@1", "name": "squeezenet1_0-optimus-npu-b4", "batch": 4,
        "accelerator": "../accelerators/optimus-npu.json", "network": "../networks/squeezenet1_0.json"}
    # The hand-written worked example stays as it is (formulations/cost-model.md section 6: optimum 253,460 bytes).
    example = oo.load_instance(INSTANCES / "example-64k.json")
    assert (example.name, example.accelerator.buffer_bytes, example.accelerator.channel_tile) == \
        ("cost-model-example-64k", 65536, 8)


# -- accelerator presets ----------------------------------------------------------------------------------------

def test_presets_and_their_files() -> None:
    expected = {  # name: (buffer bytes, word bytes, channel tile, PE array)
        "optimus-npu": (128 * 1024, 2, 32, (32, 32)),
        "optimus-npu-256k": (256 * 1024, 2, 32, (32, 32)),
        "optimus-npu-512k": (512 * 1024, 2, 32, (32, 32)),
        "optimus-npu-1m": (1024 * 1024, 2, 32, (32, 32)),
        "eyeriss": (185_856, 2, 16, (12, 14)),          # 181.5 KiB = 108 KiB + 168 x 448 B
        "shidiannao": (185_856, 2, 1, (8, 8)),
        "hpca20-lb": (177_664, 2, 32, (32, 32)),        # 173.5 KiB, 1024 PEs
        "optimus-artifact": (131_072, 2, 32, (32, 32)),  # the artifact's "128KB": 65,536 16-bit words
    }
    assert preset_names() == tuple(expected)
    assert 108 * 1024 + 168 * 448 == 185_856 == oo.parse_size("181.5KiB")
    for name, (buffer, word, tile, pes) in expected.items():
        acc = accelerator_preset(name)
        assert (acc.buffer_bytes, acc.word_bytes, acc.channel_tile, acc.pe_array) == (buffer, word, tile, pes)
        assert acc.source and "Channel tile" in acc.description   # where the numbers and the tile come from
        from_file = oo.load_accelerator(INSTANCES / "accelerators" / f"{name}.json")
        assert from_file == acc
        assert resolve_accelerator(name) is acc
        # only the artifact's accelerator streams weights past the buffer (its cost model does)
        assert acc.weight_staging == ("none" if name == "optimus-artifact" else "block")
        assert resolve_accelerator(f"accelerators/{name}.json", INSTANCES) == acc
    assert PRESETS[0].pe_array[0] * PRESETS[0].pe_array[1] == 1024


def test_unknown_preset_lists_the_known_ones() -> None:
    with pytest.raises(InstanceError, match=r"^unknown accelerator preset 'tpu' \(known: optimus-npu, "
                                            r"optimus-npu-256k, .*hpca20-lb, optimus-artifact\)$"):
        accelerator_preset("tpu")
    with pytest.raises(InstanceError, match="accelerator file not found"):
        resolve_accelerator("nowhere/acc.json")


# -- network files and the zoo's published figures --------------------------------------------------------------

def test_network_files_load_and_match_the_zoo() -> None:
    for name in zoo.names():
        net = oo.load_network(INSTANCES / "networks" / f"{name}.json")
        assert net.to_dict() == zoo.build(name).to_dict()
        assert net.name == name


@pytest.mark.parametrize("name", zoo.names())
def test_zoo_figures_within_2_percent_of_published(name: str) -> None:
    entry = zoo.entries()[name]
    net = entry.build(entry.resolution)
    assert abs(net.total_weight_words - entry.published_params) / entry.published_params < 0.02
    assert abs(net.total_macs - entry.published_macs) / entry.published_macs < 0.02


def test_comparable_figures_of_inception_v3_and_unet() -> None:
    entries = zoo.entries()
    # torchvision's 27,161,264 less the AuxLogits head (3,326,696), which the builder omits.
    assert entries["inception_v3"].published_params == 27_161_264 - 3_326_696 == 23_834_568
    assert "AuxLogits" in entries["inception_v3"].source
    # 192.38 G with transposed up-convolutions + 3 x 8.59 G for upsample + 2x2 conv (4x the taps per output).
    assert entries["unet"].published_macs == 192_384_335_872 + 3 * 8_589_934_592 == 218_154_139_648
    assert zoo.build("unet").total_macs == 218_154_139_648


# -- the paper's instances --------------------------------------------------------------------------------------

#: layerwise on the Optimus NPU at batch 4: DRAM bytes. Under cost model version 2 every paper network has a
#: schedule (version 1 left AlexNet, VGG-16 and the ResNets with none: a whole output-channel tile of a wide conv's
#: weights exceeded 128 KiB beside its rows; a streamed group now stages one Tc x Tc block), and concats cost
#: nothing.
PAPER_LAYERWISE = {
    "alexnet": ("feasible", 159_394_576),
    "vgg16": ("feasible", 2_761_788_688),
    "googlenet": ("feasible", 147_594_160),
    "squeezenet1_0": ("feasible", 96_670_912),
    "mobilenet_v1": ("feasible", 118_851_088),
    "resnet18": ("feasible", 152_862_224),
    "resnet50": ("feasible", 740_445_456),
    "nasnet_a_mobile": ("feasible", 258_741_116),
}


def test_paper_networks() -> None:
    assert tuple(PAPER_LAYERWISE) == PAPER_NETWORKS


@pytest.mark.parametrize("name", PAPER_NETWORKS)
def test_paper_instance_solves_with_layerwise(name: str) -> None:
    inst = oo.load_instance(INSTANCES / "paper" / f"{name}-optimus-npu-b4.json")
    assert inst.name == f"{name}-optimus-npu-b4" and inst.batch == 4
    assert inst.accelerator == accelerator_preset("optimus-npu")
    assert inst.network.to_dict() == zoo.build(name).to_dict()
    net = inst.network
    ends = [net.layers[i].name for i in net.input_ids] + list(net.outputs or ())
    io_words = sum(c * h * w for c, h, w in (net.shape(n) for n in ends))
    sched = oo.solve(inst, "layerwise")
    assert sched.compulsory_bytes == 2 * (4 * io_words + net.total_weight_words)
    status, value = PAPER_LAYERWISE[name]
    assert sched.status == status
    if status == "feasible":
        assert sched.dram_bytes == value
        assert len(sched.groups) == len(net.layer_ids)
        assert oo.evaluate(inst, sched).dram_bytes == value
    else:
        assert sched.dram_bytes is None and value in sched.message


# -- suites -----------------------------------------------------------------------------------------------------

def test_smoke_suite_solves_fast_with_an_exact_solver() -> None:
    suite = load_suite(INSTANCES / "suites" / "smoke.json")
    optima = {"cost-model-example-64k": 253_460, "squeezenet1_0-optimus-npu-b4": 34_120_864,
              "mobilenet_v1-optimus-npu-b4": 74_466_320, "squeezenet1_1-optimus-npu-b4": 17_645_856}
    assert len(suite) == 4
    instances = list(suite.instances())
    assert [i.name for i in instances] == list(optima)
    for inst in instances:
        sched = oo.solve(inst, "exact-dp")
        assert (sched.status, sched.dram_bytes) == ("optimal", optima[inst.name])
        assert sched.solve_seconds < 5  # well under a second on a laptop; generous for a loaded CI machine


def test_paper_and_all_suites() -> None:
    paper = load_suite(INSTANCES / "suites" / "paper.json")
    names = [i.name for i in paper.instances()]
    assert len(paper) == len(names) == 8 + 8 * 2
    assert names[:8] == [f"{n}-optimus-npu-b4" for n in PAPER_NETWORKS]
    assert names[8:10] == ["alexnet-eyeriss-b4", "alexnet-shidiannao-b4"]
    assert names[-1] == "nasnet_a_mobile-shidiannao-b4"
    everything = load_suite(INSTANCES / "suites" / "all.json")
    insts = list(everything.instances())
    assert len(everything) == len(insts) == len(zoo.names()) * len(preset_names()) * 2 == 24 * 8 * 2
    assert insts[0].name == "alexnet-optimus-npu-b1" and insts[1].name == "alexnet-optimus-npu-b4"
    assert {(i.accelerator.name, i.batch) for i in insts if i.network.name == "unet"} == \
        {(a, b) for a in preset_names() for b in (1, 4)}
    # the squeeze-excitation families and ResNeXt come last
    assert list(dict.fromkeys(i.network.name for i in insts))[-6:] == [
        "mobilenet_v3_large", "mobilenet_v3_small", "efficientnet_b0", "mnasnet1_0", "regnet_y_400mf",
        "resnext50_32x4d"]
    assert insts[-1].accelerator == accelerator_preset("optimus-artifact")
    assert insts[-1].network.name == "resnext50_32x4d"


def test_bundled_suites_are_the_files_of_instances_suites() -> None:
    """Suites given by name (``optimus-opt gap smoke``) are the checked-in files, found from the package's place."""
    assert bundled_suite_names() == ["all", "paper", "smoke"]
    assert bundled_suite("smoke") == INSTANCES / "suites" / "smoke.json"
    assert bundled_suite("nope") is None


def test_suite_matrix_with_files_buffers_and_yaml(tmp_path: Path) -> None:
    (tmp_path / "nets").mkdir()
    (tmp_path / "nets" / "tiny.json").write_text(json.dumps(zoo.build("squeezenet1_1", 64).to_dict(with_format=True)))
    (tmp_path / "acc.json").write_text(json.dumps({"format": "optimus-opt/accelerator@1", "name": "mine",
                                                   "buffer_bytes": 50000, "channel_tile": 8}))
    (tmp_path / "s.yaml").write_text(
        "format: optimus-opt/suite@1\n"
        f"instances: [{(INSTANCES / 'example-64k.json').as_posix()}]\n"
        "networks: [nets/tiny.json, mobilenet_v1]\naccelerators: [acc.json, eyeriss]\nbatches: [2]\n"
        "buffers: [64KiB, 1048576]\n")
    suite = load_suite(tmp_path / "s.yaml")
    assert isinstance(suite, Suite) and suite.name == "s" and len(suite) == 1 + 2 * 2 * 2
    insts = list(suite.instances())
    assert [i.name for i in insts] == ["cost-model-example-64k"] + [
        f"{n}-{a}-{b}-b2" for n in ("squeezenet1_1", "mobilenet_v1") for a in ("mine", "eyeriss")
        for b in ("64KiB", "1MiB")]
    assert [i.accelerator.buffer_bytes for i in insts[1:5]] == [65536, 1 << 20] * 2
    assert insts[1].accelerator.channel_tile == 8 and insts[3].accelerator.channel_tile == 16
    assert insts[1].network.shape("data") == (3, 64, 64)
    assert size_label(185_856) == "181.5KiB" and size_label(1000) == "1000B"
    assert instance_name("unet", "eyeriss", 1, 65536) == "unet-eyeriss-64KiB-b1"


@pytest.mark.parametrize("change,field,message", [
    ({"format": "optimus-opt/suite@2"}, "format", 'expected "optimus-opt/suite@1"'),
    ({"network": ["alexnet"]}, "network", "unknown field for a suite document"),
    ({"instances": ["../missing.json"]}, "instances[0]", "instance file not found"),
    ({"networks": ["alexnet", "lenet"]}, "networks[1]", "unknown zoo network 'lenet' (known: alexnet, vgg16"),
    ({"accelerators": ["tpu"]}, "accelerators[0]", "unknown accelerator preset 'tpu' (known: optimus-npu"),
    ({"accelerators": ["x/acc.json"]}, "accelerators[0]", "accelerator file not found"),
    ({"batches": [4, 0]}, "batches[1]", "must be a positive integer, got 0"),
    ({"buffers": ["12 parsecs"]}, "buffers[0]", "not a byte size"),
    ({"batches": []}, "batches", "a matrix needs non-empty networks, accelerators and batches"),
    ({"networks": "alexnet"}, "networks", "expected a list of non-empty strings"),
])
def test_suite_errors_name_the_file_and_field(tmp_path: Path, change: dict, field: str, message: str) -> None:
    doc = {"format": "optimus-opt/suite@1", "networks": ["alexnet"], "accelerators": ["optimus-npu"], "batches": [4]}
    doc.update(change)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(InstanceError) as info:
        load_suite(path)
    assert info.value.file == str(path) and info.value.field == field
    assert message in str(info.value) and str(info.value).startswith(f"{path}: field '{field}': ")


def test_suite_without_instances_or_matrix_and_unreadable(tmp_path: Path) -> None:
    with pytest.raises(InstanceError, match="a suite lists instance files, or a matrix"):
        suite_from_dict({"format": "optimus-opt/suite@1", "name": "empty"})
    with pytest.raises(InstanceError, match="suite file not found"):
        load_suite(tmp_path / "nope.json")
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(InstanceError, match="not valid JSON"):
        load_suite(tmp_path / "broken.json")
