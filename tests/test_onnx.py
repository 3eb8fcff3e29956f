"""ONNX in and out (optimus_opt/io/onnx.py, onnx_export.py): models built here with onnx.helper, the way exporters write them,
import to the expected layers, shapes and weights; every zoo network survives export and import; every refusal
names its nodes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402
from onnx_graphs import G, refusal  # noqa: E402
from strategies import networks  # noqa: E402

import optimus_opt as oo  # noqa: E402
from optimus_opt import zoo  # noqa: E402
from optimus_opt.cli import main  # noqa: E402
from optimus_opt.io.onnx import parse_input_shape, read_onnx  # noqa: E402
from optimus_opt.io.onnx_export import network_to_onnx  # noqa: E402
from optimus_opt.model.errors import InstanceError  # noqa: E402


def layers(net: oo.Network) -> list[dict]:
    return net.to_dict()["layers"]


# -- the six blocks of the issue -----------------------------------------------------------------------------------

@pytest.mark.parametrize("weights", [True, False], ids=["initializers", "shape-only"])
def test_conv_bn_relu_chain(weights, tmp_path):
    g = G(weights)
    x = g.input("image", [1, 3, 32, 32])
    y = g.node("Relu", [g.bn(g.conv(x, 3, 16, 3, "conv1", pads=[1, 1, 1, 1]), 16, "bn1")], "relu1")
    y = g.conv(y, 16, 32, 3, "conv2", bias=True, strides=[2, 2], pads=[1, 1, 1, 1])
    y = g.node("Clip", [g.bn(y, 32, "bn2"), g.const("lo", 0.0, np.float32), g.const("hi", 6.0, np.float32)], "relu6")
    path = tmp_path / "chain.onnx"
    onnx.save(g.model([y], name="chain"), path)
    found = read_onnx(path)
    net = found.network
    assert found.batch == 1 and net.name == "chain"
    assert layers(net) == [
        {"name": "image", "op": "input", "shape": [3, 32, 32]},
        {"name": "conv1", "op": "conv", "inputs": ["image"], "channels": 16, "kernel": 3, "padding": 1, "bias": True},
        {"name": "conv2", "op": "conv", "inputs": ["conv1"], "channels": 32, "kernel": 3, "stride": 2, "padding": 1,
         "bias": True},
    ]
    assert net.shapes == ((3, 32, 32), (16, 32, 32), (32, 16, 16))
    # batch-norm folded into a bias word per channel (as the zoo counts weights)
    assert net.weights == (0, 16 * 3 * 9 + 16, 32 * 16 * 9 + 32)
    assert net.outputs == ("conv2",)
    assert oo.network_from_onnx(path) == net


def test_residual_block():
    g = G()
    x = g.input("x", [2, 64, 16, 16])
    a = g.node("Relu", [g.bn(g.conv(x, 64, 64, 3, "a", pads=[1, 1, 1, 1]), 64, "a.bn")], "a.relu")
    b = g.bn(g.conv(a, 64, 64, 3, "b", pads=[1, 1, 1, 1]), 64, "b.bn")
    y = g.node("Relu", [g.node("Add", [b, x], "add")], "out")
    found = read_onnx(g.model([y]))
    net = found.network
    assert found.batch == 2
    assert [(l.name, l.op, l.inputs) for l in net.layers] == [
        ("x", "input", ()), ("a", "conv", ("x",)), ("b", "conv", ("a",)), ("add", "add", ("b", "x"))]
    assert net.shape("add") == (64, 16, 16)
    assert net.total_weight_words == 2 * (64 * 64 * 9 + 64)


def test_inception_block_with_four_branches():
    g = G(weights=False)
    x = g.input("in", [1, 192, 28, 28])
    b1 = g.node("Relu", [g.conv(x, 192, 64, 1, "b1", bias=True)])
    b2 = g.conv(g.node("Relu", [g.conv(x, 192, 96, 1, "b2a", bias=True)]), 96, 128, 3, "b2b", bias=True,
                pads=[1, 1, 1, 1])
    b3 = g.conv(g.conv(x, 192, 16, 1, "b3a", bias=True), 16, 32, 5, "b3b", bias=True, pads=[2, 2, 2, 2])
    b4 = g.conv(g.node("MaxPool", [x], "b4pool", kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1]), 192,
                32, 1, "b4b", bias=True)
    cat = g.node("Concat", [b1, b2, b3, b4], "cat", axis=1)
    net = oo.network_from_onnx(g.model([cat]))
    assert net.layer("cat").inputs == ("b1", "b2b", "b3b", "b4b")
    assert net.shape("cat") == (256, 28, 28)
    assert net.layer("b4pool").to_dict() == {"name": "b4pool", "op": "pool", "inputs": ["in"], "kernel": 3,
                                             "stride": 1, "padding": 1}
    expect = {"b1": 192 * 64 + 64, "b2a": 192 * 96 + 96, "b2b": 96 * 128 * 9 + 128, "b3a": 192 * 16 + 16,
              "b3b": 16 * 32 * 25 + 32, "b4b": 192 * 32 + 32}
    assert {n: net.weights[net.index[n]] for n in expect} == expect
    assert len(net.layer_ids) == 7 and net.concat_ids == (net.index["cat"],)  # a concat is a view, not a layer


def test_depthwise_separable_block_with_pad_and_asymmetric_padding():
    g = G()
    x = g.input("x", [1, 32, 56, 56])
    # TensorFlow style: an explicit Pad (bottom and right only) in front of a stride-2 depthwise conv
    p = g.node("Pad", [x, g.const("pads", [0, 0, 0, 0, 0, 0, 1, 1])], "pad", mode="constant")
    dw = g.node("Relu", [g.bn(g.conv(p, 32, 32, 3, "dw", groups=32, strides=[2, 2]), 32, "dw.bn")])
    pw = g.node("HardSwish", [g.bn(g.conv(dw, 32, 64, 1, "pw"), 64, "pw.bn")])
    # and a second one with SAME_UPPER auto padding
    dw2 = g.conv(pw, 64, 64, 3, "dw2", groups=64, strides=[2, 2], auto_pad="SAME_UPPER")
    net = oo.network_from_onnx(g.model([dw2]))
    assert layers(net)[1:] == [
        {"name": "dw", "op": "conv", "inputs": ["x"], "channels": 32, "kernel": 3, "stride": 2,
         "padding": [0, 1, 0, 1], "groups": 32, "bias": True},
        {"name": "pw", "op": "conv", "inputs": ["dw"], "channels": 64, "kernel": 1, "bias": True},
        {"name": "dw2", "op": "conv", "inputs": ["pw"], "channels": 64, "kernel": 3, "stride": 2,
         "padding": [0, 1, 0, 1], "groups": 64},
    ]
    assert net.shape("dw") == (32, 28, 28) and net.shape("dw2") == (64, 14, 14)
    assert net.weights[net.index["dw"]] == 32 * 9 + 32 and net.weights[net.index["dw2"]] == 64 * 9


@pytest.mark.parametrize("style", ["gemm", "pytorch-matmul"])
def test_classifier_head(style):
    g = G()
    x = g.input("features", ["batch", 512, 7, 7])
    pooled = g.node("GlobalAveragePool", [x], "avgpool")
    if style == "gemm":
        flat = g.node("Flatten", [pooled], "flatten", axis=1)
        logits = g.node("Gemm", [flat, g.weight("fc.w", (1000, 512)), g.weight("fc.b", (1000,))], "fc", transB=1)
    else:  # x.view(x.size(0), -1) and a Linear exported as MatMul + Add
        shape = g.node("Shape", [pooled])
        n = g.node("Gather", [shape, g.const("zero", 0)], axis=0)
        dims = g.node("Concat", [g.node("Unsqueeze", [n, g.const("ax0", [0])]), g.const("minus1", [-1])], axis=0)
        flat = g.node("Reshape", [pooled, dims], "view")
        logits = g.node("Add", [g.weight("fc.b", (1000,)), g.node("MatMul", [flat, g.weight("fc.w", (512, 1000))],
                                                                   "fc")])
    probs = g.node("Softmax", [logits], "softmax", axis=1)
    found = read_onnx(g.model([probs]))
    net = found.network
    assert found.batch is None  # symbolic: treated as 1, the instance decides
    assert layers(net)[1:] == [
        {"name": "avgpool", "op": "pool", "inputs": ["features"], "global": True, "mode": "avg"},
        {"name": "fc", "op": "fc", "inputs": ["avgpool"], "channels": 1000, "bias": True},
    ]
    assert net.shape("fc") == (1000, 1, 1) and net.weights[net.index["fc"]] == 512 * 1000 + 1000


@pytest.mark.parametrize("resize", ["scales", "sizes", "upsample-9"])
def test_upsample_and_concat_decoder(resize):
    g = G(opset=9 if resize == "upsample-9" else 17)
    x = g.input("x", [1, 64, 16, 16])
    e1 = g.node("Relu", [g.conv(x, 64, 64, 3, "enc1", bias=True, pads=[1, 1, 1, 1])])
    e2 = g.conv(g.node("MaxPool", [e1], "pool", kernel_shape=[2, 2], strides=[2, 2]), 64, 128, 3, "enc2",
                bias=True, pads=[1, 1, 1, 1])
    if resize == "scales":
        up = g.node("Resize", [e2, "", g.const("scales", [1, 1, 2, 2], np.float32)], "up", mode="nearest")
    elif resize == "sizes":
        up = g.node("Resize", [e2, "", "", g.const("sizes", [1, 128, 16, 16])], "up", mode="nearest")
    else:
        up = g.node("Upsample", [e2, g.const("scales", [1, 1, 2, 2], np.float32)], "up", mode="nearest")
    cat = g.node("Concat", [up, e1], "cat", axis=1 if resize == "upsample-9" else -3)  # negative since opset 11
    out = g.conv(cat, 192, 64, 3, "dec", bias=True, pads=[1, 1, 1, 1])
    net = oo.network_from_onnx(g.model([out]))
    assert [l.name for l in net.layers] == ["x", "enc1", "pool", "enc2", "up", "cat", "dec"]
    assert net.layer("up").to_dict() == {"name": "up", "op": "upsample", "inputs": ["enc2"], "scale": 2}
    assert net.layer("cat").inputs == ("up", "enc1")
    assert net.shape("cat") == (192, 16, 16) and net.shape("dec") == (64, 16, 16)


# -- further mapping rules -----------------------------------------------------------------------------------------

def test_pool_modes_ceil_mode_and_same_padding():
    g = G()
    x = g.input("x", [1, 8, 112, 112])
    p1 = g.node("MaxPool", [x], "p1", kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)  # 112 → 56, not 55
    p2 = g.node("AveragePool", [p1], "p2", kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_LOWER")
    p3 = g.node("GlobalMaxPool", [p2], "p3")
    net = oo.network_from_onnx(g.model([p3]))
    assert net.layer("p1").padding == (0, 1, 0, 1) and net.shape("p1") == (8, 56, 56)
    assert net.layer("p2").mode == "avg" and net.layer("p2").padding == (1, 0, 1, 0)
    assert net.shape("p2") == (8, 28, 28)
    assert net.layer("p3").global_pool and net.layer("p3").mode == "max"


def test_pads_computed_by_nodes():
    # exporters compute F.pad's pads with a few constant nodes; shape inference cannot follow them, the import can
    g = G(opset=13)
    x = g.input("x", [1, 8, 16, 16])
    pads = g.node("Cast", [g.node("Concat", [g.const("nc", [0, 0]), g.const("hw", [1, 0, 0, 0, 0, 1])], axis=0)],
                  to=TensorProto.INT64)
    p = g.node("Pad", [x, pads], "pad", mode="reflect")
    c = g.node("MaxPool", [g.conv(p, 8, 8, 3, "c")], "pool", kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)
    net = oo.network_from_onnx(g.model([c]))
    assert net.layer("c").padding == (1, 0, 0, 1) and net.shape("c") == (8, 15, 15)
    # ceil mode: 15 rows make 8 windows of 2 (the last one half outside), hence one row of padding at the bottom
    assert net.layer("pool").padding == (0, 1, 0, 1) and net.shape("pool") == (8, 8, 8)


def test_folds_add_no_layers_and_names_are_made_unique():
    g = G()
    x = g.input("x", [1, 8, 8, 8])
    y = g.node("Sub", [x, g.const("mean", [0.5], np.float32)])  # input normalisation
    y = g.conv(y, 8, 8, 3, "conv", pads=[1, 1, 1, 1])
    y = g.node("Mul", [y, g.node("Sigmoid", [y])])  # swish: x * sigmoid(x)
    y = g.node("LeakyRelu", [g.node("Dropout", [g.node("Identity", [y])])], alpha=0.1)
    y = g.node("HardSigmoid", [y])
    z = g.node("Conv", [y, g.weight("w2", (8, 8, 1, 1))], "conv")  # a second node named 'conv'
    w = g.node("Conv", [z, g.weight("w3", (8, 8, 1, 1))], None)  # an unnamed node
    net = oo.network_from_onnx(g.model([w]))
    assert [l.name for l in net.layers] == ["x", "conv", "conv_2", "Conv_9"]
    assert net.layer("conv").inputs == ("x",) and net.layer("Conv_9").inputs == ("conv_2",)


def test_multiple_outputs_and_dead_branches():
    g = G()
    x = g.input("x", [1, 4, 8, 8])
    a = g.conv(x, 4, 4, 1, "a")
    b = g.conv(a, 4, 4, 1, "b")
    g.node("Transpose", [a], "unused", perm=[0, 2, 3, 1])  # reaches no output: ignored
    net = oo.network_from_onnx(g.model([b, g.node("Relu", [a])]))
    assert net.outputs == ("b", "a")


def test_input_shape_and_batch():
    g = G()
    x = g.input("x", ["N", 3, "H", "W"])
    model = g.model([g.conv(x, 3, 8, 3, "c", pads=[1, 1, 1, 1])])
    msg = refusal(model)
    assert "input 'x': shape [?, 3, ?, ?]: dynamic height, width" in msg and "--input-shape" in msg
    net = oo.network_from_onnx(model, input_shape=(3, 64, 48))
    assert net.shape("x") == (3, 64, 48) and net.shape("c") == (8, 64, 48)
    assert parse_input_shape("3x224x224") == (3, 224, 224)
    with pytest.raises(ValueError):
        parse_input_shape("3x224")
    # a dynamic batch runs at any batch; a fixed one only at its own
    assert oo.network_from_onnx(model, input_shape=(3, 8, 8), batch=4).shape("c") == (8, 8, 8)
    g = G()
    x = g.input("x", [1, 3, 8, 8])
    fixed = g.model([g.conv(x, 3, 8, 3, "c")])
    assert oo.network_from_onnx(fixed, batch=1).shape("c") == (8, 6, 6)
    assert "the model's batch is 1 but the instance's batch is 4" in refusal(fixed, batch=4)


# -- refusals --------------------------------------------------------------------------------------------------------

def test_unsupported_ops_are_all_listed_and_nothing_is_imported(tmp_path):
    g = G()
    x = g.input("x", [1, 8, 16, 16])
    a = g.node("Transpose", [g.conv(x, 8, 8, 3, "c1", pads=[1, 1, 1, 1])], "Transpose_3", perm=[0, 1, 3, 2])
    b = g.node("InstanceNormalization", [a, g.weight("s", (8,)), g.weight("b", (8,))], "norm")
    c = g.node("Erf", [g.conv(b, 8, 8, 1, "c2")], "Erf_9")
    path = tmp_path / "bad.onnx"
    onnx.save(g.model([c]), path)
    msg = refusal(path)
    assert msg.startswith(f"{path}: cannot import the model:\n  node ")
    for line in ("node 'Transpose_3' (Transpose): permutes the axes of [1, 8, 16, 16] by perm [0, 1, 3, 2]; the cost "
                 "model keeps every tensor as [N, C, H, W]", "node 'norm' (InstanceNormalization): unsupported op",
                 "node 'Erf_9' (Erf): unsupported op"):
        assert line in msg
    assert "c2" not in msg  # downstream of an unsupported node, but itself fine
    assert main(["import-onnx", str(path), "-o", str(tmp_path / "net.json")]) == 2
    assert not (tmp_path / "net.json").exists()


def test_dynamic_shape_is_refused():
    g = G()
    x = g.input("x", [1, 8, 16, 16])
    c = g.conv(x, 8, 8, 1, "c")
    # a Reshape whose target shape is computed from a second input: no static shape
    g.inputs.append(helper.make_tensor_value_info("target", TensorProto.INT64, [4]))
    r = g.node("Reshape", [c, "target"], "Reshape_4")
    msg = refusal(g.model([r]))
    assert "node 'Reshape_4' (Reshape): the shape of 'Reshape_4_out' is not static" in msg


def test_non_channel_concat_spatial_broadcast_and_linear_resize_are_refused():
    g = G()
    x = g.input("x", [1, 8, 16, 16])
    a = g.conv(x, 8, 8, 1, "a")
    b = g.conv(x, 8, 8, 1, "b")
    h = g.node("Concat", [a, b], "Concat_12", axis=2)
    spatial = g.node("Mul", [b, g.conv(x, 8, 1, 1, "attention")], "spatial")  # one map for all channels
    up = g.node("Resize", [a, "", g.const("sc", [1, 1, 2, 2], np.float32)], "bilinear", mode="linear")
    diff = g.node("Sub", [a, b], "diff")
    msg = refusal(g.model([h, spatial, up, diff]))
    assert "node 'Concat_12' (Concat): concatenates along axis 2 (height); only a concat on channels" in msg
    assert "node 'spatial' (Mul): inputs of shapes [1, 8, 16, 16], [1, 1, 16, 16]: the cost model's add and mul " \
           "take tensors of equal shape, or [N, C, 1, 1] operands of the same C" in msg
    assert "node 'bilinear' (Resize): mode 'linear': only nearest upsampling" in msg
    assert "node 'diff' (Sub): a Sub of two tensors is not an op of the cost model" in msg
    assert msg.count("\n  node ") == 4


def test_pad_feeding_other_than_conv_or_pool_is_refused():
    g = G()
    x = g.input("x", [1, 8, 16, 16])
    p = g.node("Pad", [g.conv(x, 8, 8, 1, "a"), g.const("pads", [0, 0, 1, 1, 0, 0, 1, 1])], "pad")
    r = g.node("Relu", [p], "relu")
    msg = refusal(g.model([r]))
    assert "node 'pad' (Pad): it feeds 'relu'; a Pad is folded only into the Conv or pooling nodes" in msg
    assert "node 'relu'" not in msg
    g = G()
    x = g.input("x", [1, 8, 16, 16])
    p = g.node("Pad", [x, g.const("pads", [0, 1, 0, 0, 0, 1, 0, 0])], "padc")
    assert "pad the batch or the channels" in refusal(g.model([g.conv(p, 10, 8, 1, "a")]))


def test_solve_of_an_onnx_file_runs_at_the_batch_asked_for(tmp_path, capsys):
    """``solve MODEL.onnx`` runs at batch 4, like ``import-onnx`` then ``solve``, whatever batch the model was
    exported at; ``--batch`` overrides it."""
    g = G()
    x = g.input("x", [2, 3, 16, 16])
    path = tmp_path / "b2.onnx"
    onnx.save(g.model([g.conv(x, 3, 8, 3, "c")]), path)
    assert main(["solve", str(path), "--solver", "layerwise", "--accelerator", "eyeriss"]) == 0
    assert "batch 4" in capsys.readouterr().out
    assert main(["solve", str(path), "--solver", "layerwise", "--accelerator", "eyeriss", "--batch", "2"]) == 0
    assert "batch 2" in capsys.readouterr().out


def test_unreadable_files(tmp_path):
    with pytest.raises(InstanceError, match="ONNX file not found"):
        read_onnx(tmp_path / "missing.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x00\x01 not a model")
    with pytest.raises(InstanceError, match="junk.onnx: not a readable ONNX model"):
        read_onnx(junk)


@pytest.mark.parametrize("name, content, why", [
    ("sq.json", json.dumps({"format": "optimus-opt/schedule@3", "groups": []}),
     "it is JSON (an optimus-opt/schedule@3 document), and an ONNX model is a binary protobuf file"),
    ("notes.onnx", "a model, in words\n", "it is text, and an ONNX model is a binary protobuf file"),
    ("junk.onnx", b"\x00\x01 not a model",
     "its bytes do not parse as an ONNX model (ModelProto): a damaged file, or another format"),
    ("empty.onnx", b"", "the file is empty"),
])
def test_a_file_that_is_not_onnx_is_one_line_that_says_what_it_is(tmp_path, capsys, name, content, why):
    """Issue 26: ``import-onnx sq.json`` printed protobuf's own message (onnx reads a .json file as protobuf's
    JSON form); now one line that names the file and says what it is instead."""
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert main(["import-onnx", str(path)]) == 2
    assert capsys.readouterr().err == f"optimus-opt: error: {path}: not a readable ONNX model: {why}\n"


# -- export and round trips -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", zoo.names())
def test_zoo_round_trip(name):
    net = zoo.build(name)
    model = network_to_onnx(net)
    onnx.checker.check_model(model)
    assert read_onnx(model).network == net


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(networks(max_layers=10))
def test_random_network_round_trip(net):
    assert oo.network_from_onnx(network_to_onnx(net, batch=3), batch=3) == net


def test_export_is_shape_only_and_small(tmp_path):
    net = zoo.build("vgg16")
    path = tmp_path / "vgg16.onnx"
    model = network_to_onnx(net, path, batch=4)
    assert path.stat().st_size < 20_000  # 138 M weights, none of them stored
    weights = {i.name: [d.dim_value for d in i.type.tensor_type.shape.dim] for i in model.graph.input}
    assert weights["data"] == [4, 3, 224, 224] and weights["features.0.weight"] == [64, 3, 3, 3]
    assert weights["classifier.0.weight"] == [4096, 512 * 7 * 7] and weights["classifier.0.bias"] == [4096]
    ops = {n.name: n.op_type for n in model.graph.node}
    assert ops["classifier.0"] == "Gemm" and ops["features.30.flat"] == "Flatten"
    assert ops["features.0"] == "Conv" and ops["features.4"] == "MaxPool"
    shapes = {v.name for v in model.graph.value_info}
    assert {n for n in net.index if n != "data"} <= shapes | {"classifier.6"}  # every layer's shape is in the file
    found = read_onnx(path)
    assert found.batch == 4 and found.network == net


def test_cli_import_export_solve_and_show(tmp_path, capsys):
    model = tmp_path / "squeezenet.onnx"
    assert main(["export-onnx", "squeezenet1_1", "-o", str(model), "--batch", "4"]) == 0
    assert "written to" in capsys.readouterr().out
    out = tmp_path / "net.json"
    assert main(["import-onnx", str(model), "-o", str(out)]) == 0
    assert "the model has batch 4" in capsys.readouterr().out
    assert oo.load_network(out) == zoo.build("squeezenet1_1")
    assert main(["import-onnx", str(model)]) == 0
    assert json.loads(capsys.readouterr().out)["format"] == "optimus-opt/network@1"
    # a network file exports too, and a solve of the .onnx is a solve of the network at the model's batch
    again = tmp_path / "again.onnx"
    assert main(["export-onnx", str(out), "-o", str(again)]) == 0
    capsys.readouterr()
    sched = tmp_path / "s.json"
    assert main(["solve", str(model), "--accelerator", "optimus-npu", "-o", str(sched)]) == 0
    text = capsys.readouterr().out
    assert "squeezenet1_1-optimus-npu-b4" in text
    assert main(["solve", "squeezenet1_1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["dram_bytes"] == json.loads(Path(sched).read_text())["dram_bytes"]
    assert main(["show", str(model), str(sched), "-o", str(tmp_path / "s.png"), "--engine", "matplotlib"]) == 0
    assert (tmp_path / "s.png").stat().st_size > 10_000
    with pytest.raises(SystemExit) as info:  # argparse's own error
        main(["import-onnx", str(model), "--input-shape", "3x224"])
    assert info.value.code == 2 and "expected three positive sizes" in capsys.readouterr().err
