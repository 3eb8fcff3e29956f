"""Every kind of malformed input gets its own message naming the file, the layer and the field."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

import optimus_opt as oo

ROOT = Path(__file__).resolve().parents[1]
BASE = json.loads((ROOT / "instances" / "example-64k.json").read_text())


def layers(d):
    return d["network"]["layers"]


def layer(d, name):
    return next(l for l in layers(d) if l["name"] == name)


CASES = [
    ("unknown op", lambda d: layer(d, "c1").update(op="convolution"),
     "layer 'c1': field 'op': unknown op 'convolution'"),
    ("unknown field", lambda d: layer(d, "c1").update(kernal=3),
     "layer 'c1': field 'kernal': unknown field for op 'conv'"),
    ("missing field", lambda d: layer(d, "c1").pop("channels"), "layer 'c1': field 'channels': missing field"),
    ("pool without kernel", lambda d: layer(d, "p1").pop("kernel"), "layer 'p1': field 'kernel': missing field"),
    ("dangling input", lambda d: layer(d, "c2").update(inputs=["nope"]),
     "layer 'c2': field 'inputs': unknown input 'nope'"),
    ("cycle", lambda d: layer(d, "c1").update(inputs=["c3"]),
     "layer 'c1': field 'inputs': the network has a cycle: c1 -> c2 -> c3 -> c1"),
    ("add shape mismatch", lambda d: layer(d, "a1").update(inputs=["c3", "x"]),
     "layer 'a1': field 'inputs': an add needs inputs of equal shape or (C, 1, 1) operands of the same C, got [32, 32, 32] and [16, 32, 32]"),
    ("concat shape mismatch", lambda d: layer(d, "cat").update(inputs=["c4", "a1"]),
     "layer 'cat': field 'inputs': a concat needs inputs of equal H and W, got [64, 16, 16] and [32, 32, 32]"),
    ("groups", lambda d: layer(d, "c2").update(groups=3),
     "layer 'c2': field 'groups': groups 3 must divide the input channels 32 and the output channels 32"),
    ("zero channels", lambda d: layer(d, "c2").update(channels=0),
     "layer 'c2': field 'channels': must be at least 1, got 0"),
    ("zero height", lambda d: layer(d, "x").update(shape=[16, 0, 32]),
     "layer 'x': field 'shape': must be at least 1, got 0"),
    ("negative padding", lambda d: layer(d, "c1").update(padding=-1),
     "layer 'c1': field 'padding': expected an int >= 0"),
    ("zero buffer", lambda d: d["accelerator"].update(buffer_bytes=0),
     "field 'accelerator.buffer_bytes': must be at least 1, got 0"),
    ("zero batch", lambda d: d.update(batch=0), "field 'batch': must be at least 1, got 0"),
    ("duplicate name", lambda d: layer(d, "c3").update(name="c2"),
     "layer 'c2': field 'name': duplicate layer name"),
    ("kernel larger than padded input", lambda d: layer(d, "c1").update(kernel=40),
     "layer 'c1': field 'kernel': kernel [40, 40] (dilated span 40) is larger than the padded input height 32 + 2"),
    ("dilated kernel too large", lambda d: layer(d, "c4").update(kernel=3, dilation=9),
     "layer 'c4': field 'kernel': kernel [3, 3] (dilated span 19) is larger than the padded input height 16 + 0"),
    ("two inputs to a conv", lambda d: layer(d, "c2").update(inputs=["c1", "x"]),
     "layer 'c2': field 'inputs': a conv layer takes exactly one input, got 2"),
    ("one input to an add", lambda d: layer(d, "a1").update(inputs=["c3"]),
     "layer 'a1': field 'inputs': an add layer takes two or more inputs, got 1"),
    ("dead layer", lambda d: d["network"].update(outputs=["c4"]),
     "layer 'fc': field 'outputs': has no consumer and is not listed in 'outputs'"),
    ("unknown output", lambda d: d["network"].update(outputs=["zzz"]), "field 'outputs': unknown output layer 'zzz'"),
    ("wrong format", lambda d: d.update(format="optimus-opt/instance@9"),
     "field 'format': expected \"optimus-opt/instance@1\", got 'optimus-opt/instance@9'"),
    ("unknown top-level field", lambda d: d.update(buffer=5), "field 'buffer': unknown field for an instance"),
    ("bad kernel type", lambda d: layer(d, "c1").update(kernel="3"),
     "layer 'c1': field 'kernel': expected a positive int or [h, w], got '3'"),
]


@pytest.mark.parametrize("what, mutate, message", CASES, ids=[c[0] for c in CASES])
def test_malformed_instance(tmp_path, what, mutate, message):
    doc = copy.deepcopy(BASE)
    mutate(doc)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(oo.InstanceError) as info:
        oo.load_instance(path)
    assert str(info.value).startswith(f"{path}: ")
    assert message in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(oo.InstanceError, match="nothere.json: instance file not found"):
        oo.load_instance(tmp_path / "nothere.json")


def test_invalid_json(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"format": "optimus-opt/instance@1",\n "batch": }')
    with pytest.raises(oo.InstanceError, match=r"broken.json: not valid JSON: Expecting value at line 2 column 11"):
        oo.load_instance(path)


def test_network_and_accelerator_by_relative_path(tmp_path):
    (tmp_path / "nets").mkdir()
    net = {"format": "optimus-opt/network@1", **BASE["network"]}
    (tmp_path / "nets" / "example.yaml").write_text(json.dumps(net))  # JSON is valid YAML
    acc = {"format": "optimus-opt/accelerator@1", **BASE["accelerator"]}
    (tmp_path / "acc.json").write_text(json.dumps(acc))
    doc = {"format": "optimus-opt/instance@1", "name": "by-path", "batch": 2, "network": "nets/example.yaml",
           "accelerator": "acc.json"}
    (tmp_path / "inst.json").write_text(json.dumps(doc))
    inst = oo.load_instance(tmp_path / "inst.json")
    inline = oo.load_instance(ROOT / "instances" / "example-64k.json")
    assert inst.network == inline.network and inst.accelerator == inline.accelerator and inst.batch == 2


def test_error_in_a_network_file_names_that_file(tmp_path):
    net = copy.deepcopy({"format": "optimus-opt/network@1", **BASE["network"]})
    next(l for l in net["layers"] if l["name"] == "c5")["kernel"] = 99
    (tmp_path / "net.json").write_text(json.dumps(net))
    doc = {"format": "optimus-opt/instance@1", "network": "net.json", "accelerator": BASE["accelerator"]}
    (tmp_path / "inst.json").write_text(json.dumps(doc))
    with pytest.raises(oo.InstanceError) as info:
        oo.load_instance(tmp_path / "inst.json")
    assert str(info.value).startswith(f"{tmp_path / 'net.json'}: layer 'c5': field 'kernel': ")


def test_missing_network_file_names_the_instance(tmp_path):
    doc = {"format": "optimus-opt/instance@1", "network": "gone.json", "accelerator": BASE["accelerator"]}
    (tmp_path / "inst.json").write_text(json.dumps(doc))
    with pytest.raises(oo.InstanceError, match="gone.json: network file not found \\(named by field 'network' of"):
        oo.load_instance(tmp_path / "inst.json")


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_round_trip(tmp_path, suffix):
    inst = oo.load_instance(ROOT / "instances" / "example-64k.json")
    path = tmp_path / f"copy{suffix}"
    oo.save_instance(inst, path)
    again = oo.load_instance(path)
    assert again == inst
    assert again.network.to_dict() == inst.network.to_dict()


def test_shorthands_normalise():
    from optimus_opt.model.network import Layer

    a = Layer.from_dict({"name": "c", "op": "conv", "inputs": "x", "channels": 4, "kernel": [3, 1],
                         "padding": [1, 0], "stride": 1})
    assert (a.kernel, a.padding, a.stride, a.inputs) == ((3, 1), (1, 1, 0, 0), (1, 1), ("x",))
    assert Layer.from_dict(a.to_dict()) == a
    p = Layer.from_dict({"name": "p", "op": "pool", "inputs": ["x"], "kernel": 3, "padding": [0, 1, 0, 1]})
    assert p.stride == (3, 3) and p.padding == (0, 1, 0, 1)
    assert Layer.from_dict(p.to_dict()) == p


def test_schema_allows_exactly_the_fields_of_each_op():
    from optimus_opt.model.instance import instance_schema
    from optimus_opt.model.network import OP_FIELDS

    for branch in instance_schema()["$defs"]["layer"]["allOf"]:
        op = branch["if"]["properties"]["op"]["const"]
        allowed = set(branch["then"]["properties"]) - {"name", "op", "inputs"}
        assert allowed == set(OP_FIELDS[op]), op


def test_program_built_layers_are_checked():
    from optimus_opt.model.network import Layer

    with pytest.raises(oo.InstanceError, match="layer 'c': field 'stride': must be positive"):
        Layer(name="c", op="conv", channels=4, stride=(0, 1))
