"""ONNX files as researchers have them (optimus_opt/io/onnx.py): models built here with onnx.helper in the way
torch.onnx.export writes torchvision's networks, with weights as initializers or, as shape-only files ship them, as
typed graph inputs without data, some behind Identity nodes; weights in an external data file that is absent;
ReduceMean pooling; DenseNet's one-input Concat; squeeze-excitation with 1x1 convs and with Gemm; channel shuffles,
which are refused with the reason; and the ``import-onnx --check`` report."""

from __future__ import annotations

import pytest

onnx = pytest.importorskip("onnx")
from onnx import helper  # noqa: E402
from onnx_graphs import G, refusal  # noqa: E402

import optimus_opt as oo  # noqa: E402
from optimus_opt.cli import main  # noqa: E402
from optimus_opt.io.onnx import NodeTally, import_report, read_onnx  # noqa: E402
from optimus_opt.io.onnx_export import network_to_onnx  # noqa: E402
from optimus_opt.zoo.builder import NetBuilder  # noqa: E402


class Export(G):
    """An ONNX graph written the way torch.onnx.export writes a torchvision model: nodes named by module path
    (``/features/features.0/Conv``) with outputs ``<node>_output_0``, batch-norm folded into the Conv's weights,
    which get names like ``onnx::Conv_101``. ``shape_only=True`` gives every weight as a typed graph input without
    data (as the shape-only files of accelerator tools do); otherwise weights are initializers (zeros)."""

    def __init__(self, shape_only: bool = False, opset: int = 17) -> None:
        super().__init__(weights=not shape_only, opset=opset)
        self.serial = 100

    def weight(self, dims, name: str | None = None) -> str:  # type: ignore[override]
        if name is None:
            self.serial += 1
            name = f"onnx::Conv_{self.serial}"
        return super().weight(name, dims)

    def identity(self, of: str) -> str:
        """The Identity node torch puts in front of a weight equal to another one it de-duplicated."""
        self.serial += 1
        out = f"onnx::Conv_{self.serial}"
        self.nodes.append(helper.make_node("Identity", [of], [out], name=f"Identity_{self.serial}"))
        return out

    def node(self, op: str, inputs, path: str, **attrs) -> str:  # type: ignore[override]
        name = f"{path}/{op}"
        self.nodes.append(helper.make_node(op, list(inputs), [f"{name}_output_0"], name=name, **attrs))
        return f"{name}_output_0"

    def conv(self, x, c_in, c_out, k, path, *, stride=1, groups=1, bias=True, weights=None) -> str:  # type: ignore[override]
        """A Conv (with the bias a folded batch-norm leaves, unless ``bias=False``), padding (k - 1) / 2."""
        w, b = weights or (self.weight((c_out, c_in // groups, k, k)), self.weight((c_out,)) if bias else None)
        pad = (k - 1) // 2
        return self.node("Conv", [x, w] + ([b] if b else []), path, group=groups, kernel_shape=[k, k],
                         strides=[stride, stride], pads=[pad] * 4)

    def model(self, outputs, name: str = "main_graph"):
        return super().model(outputs, name)


def tallies(found) -> dict[str, tuple[int, int, int, int, int]]:
    """op type: (layer, folded, view, constant, unused) node counts."""
    return {t.op_type: (t.layer, t.folded, t.view, t.constant, t.unused) for t in found.nodes}


# -- weights: initializers, typed graph inputs of any rank, behind Identity nodes, in absent external files -------

def _residual_classifier(e: Export):
    """A stem conv, a basic block whose second conv shares its weights with the first through Identity nodes (as
    torch writes de-duplicated weights), a pre-activation batch-norm whose parameters are rank-1 inputs (one of them
    behind an Identity), global pool, Flatten and a Gemm whose B and C are weights too."""
    x = e.input("input", [1, 3, 32, 32])
    stem = e.node("Relu", [e.conv(x, 3, 16, 3, "/conv1")], "/relu")
    a = e.node("Relu", [e.conv(stem, 16, 16, 3, "/layer1/layer1.0/conv1")], "/layer1/layer1.0/relu")
    shared_w, shared_b = e.weight((16, 16, 3, 3)), e.weight((16,))
    b = e.conv(a, 16, 16, 3, "/layer1/layer1.0/conv2", weights=(shared_w, shared_b))
    c = e.conv(b, 16, 16, 3, "/layer1/layer1.0/conv3", weights=(e.identity(shared_w), e.identity(shared_b)))
    add = e.node("Add", [c, stem], "/layer1/layer1.0")
    scale = e.weight((16,), "bn.weight")
    params = [e.identity(scale), e.weight((16,), "bn.bias"), e.weight((16,), "bn.running_mean"),
              e.weight((16,), "bn.running_var")]
    y = e.node("Relu", [e.node("BatchNormalization", [add, *params], "/bn")], "/relu_1")
    flat = e.node("Flatten", [e.node("GlobalAveragePool", [y], "/avgpool")], "/flatten", axis=1)
    fc = e.node("Gemm", [flat, e.weight((10, 16), "fc.weight"), e.weight((10,), "fc.bias")], "/fc", transB=1)
    return e.model([fc])


@pytest.mark.parametrize("shape_only", [False, True], ids=["initializers", "typed-inputs"])
def test_weights_are_initializers_or_typed_inputs_of_any_rank_also_behind_identity(shape_only):
    found = read_onnx(_residual_classifier(Export(shape_only)))
    net = found.network
    assert [(layer.name, layer.op, layer.inputs) for layer in net.layers] == [
        ("input", "input", ()),
        ("/conv1/Conv", "conv", ("input",)),
        ("/layer1/layer1.0/conv1/Conv", "conv", ("/conv1/Conv",)),
        ("/layer1/layer1.0/conv2/Conv", "conv", ("/layer1/layer1.0/conv1/Conv",)),
        ("/layer1/layer1.0/conv3/Conv", "conv", ("/layer1/layer1.0/conv2/Conv",)),
        ("/layer1/layer1.0/Add", "add", ("/layer1/layer1.0/conv3/Conv", "/conv1/Conv")),
        ("/avgpool/GlobalAveragePool", "pool", ("/layer1/layer1.0/Add",)),
        ("/fc/Gemm", "fc", ("/avgpool/GlobalAveragePool",)),
    ]
    # the shared weights count once per conv that uses them: the cost model moves them once per layer
    assert net.weights[1:] == (16 * 27 + 16, 16 * 144 + 16, 16 * 144 + 16, 16 * 144 + 16, 0, 0, 16 * 10 + 10)
    assert net.total_macs == 32 * 32 * (16 * 27 + 3 * 16 * 144) + 160
    # the five Identity nodes only carry weights: constants, not layers or folds
    assert tallies(found)["Identity"] == (0, 0, 0, 3, 0)
    assert tallies(found)["BatchNormalization"] == (0, 1, 0, 0, 0)
    # every graph input but the image is a weight
    assert [net.layers[i].name for i in net.input_ids] == ["input"]


def test_a_data_input_of_the_wrong_rank_is_still_refused():
    e = Export(shape_only=True)
    x = e.input("image", [3, 32, 32])  # no batch axis: a data input (read in a Conv's first slot), refused
    model = e.model([e.conv(x, 3, 8, 3, "/conv")])
    msg = refusal(model)
    assert "cannot import the model's inputs:\n  input 'image': shape [3, 32, 32]: expected [N, C, H, W]" in msg
    assert "onnx::Conv" not in msg  # the weights are not mistaken for inputs


def test_weights_in_an_absent_external_data_file(tmp_path):
    e = Export()
    x = e.input("input", [1, 3, 16, 16])
    y = e.conv(x, 3, 32, 3, "/conv1", stride=2)
    flat = e.node("Reshape", [y, e.const("shape", [1, -1])], "/Reshape")  # a small constant, kept inline
    fc = e.node("Gemm", [flat, e.weight((10, 32 * 8 * 8), "fc.weight"), e.weight((10,), "fc.bias")], "/fc",
                transB=1)
    model = e.model([fc])
    expected = read_onnx(model).network
    path = tmp_path / "big.onnx"
    onnx.save_model(model, str(path), save_as_external_data=True, location="big.onnx.data")
    (tmp_path / "big.onnx.data").unlink()
    stored = onnx.load(str(path), load_external_data=False)
    external = {t.name for t in stored.graph.initializer if onnx.external_data_helper.uses_external_data(t)}
    assert external == {"onnx::Conv_101", "fc.weight"}  # the tensors over 1 KiB
    found = read_onnx(path)
    assert found.network.layers == expected.layers and found.network.name == "big"
    assert found.network.total_weight_words == 32 * 27 + 32 + 2048 * 10 + 10
    assert read_onnx(stored).network.layers == expected.layers  # a ModelProto loaded without its data
    # every tensor external, the Reshape's small target shape too: read where the file is there, and where it is
    # missing, the refusal says so
    every = tmp_path / "every.onnx"
    onnx.save_model(model, str(every), save_as_external_data=True, location="every.data", size_threshold=0)
    assert read_onnx(every).network.layers == expected.layers
    (tmp_path / "every.data").unlink()
    assert refusal(every) == (
        f"{every}: cannot import the model:\n  node '/Reshape/Reshape' (Reshape): the shape of "
        "'/Reshape/Reshape_output_0' is not static after shape inference ([?, ?]); give --input-shape, or export the "
        "model with fixed sizes; its input 'shape' is a constant kept in the external data file 'every.data', which "
        "is missing")


# -- pooling, concat views, squeeze-excitation ------------------------------------------------------------------

@pytest.mark.parametrize("style", ["mnasnet-mean", "axes-input-keepdims", "reduce-max-negative"])
def test_reduce_over_height_and_width_is_a_global_pool(style):
    e = Export(opset=18 if style == "axes-input-keepdims" else 13)
    x = e.input("input", [1, 3, 32, 32])
    y = e.conv(x, 3, 64, 3, "/layers/layers.0", stride=2)
    if style == "mnasnet-mean":  # x.mean([2, 3]) then the classifier, with no Flatten: ReduceMean keepdims=0
        pooled = e.node("ReduceMean", [y], "/ReduceMean", axes=[2, 3], keepdims=0)
        flat = pooled
    elif style == "axes-input-keepdims":  # opset 18 gives the axes as an input
        pooled = e.node("ReduceMean", [y, e.const("axes", [2, 3])], "/ReduceMean", keepdims=1)
        flat = e.node("Flatten", [pooled], "/Flatten", axis=1)
    else:
        pooled = e.node("ReduceMax", [y], "/ReduceMax", axes=[-1, -2], keepdims=1)
        flat = e.node("Flatten", [pooled], "/Flatten", axis=1)
    fc = e.node("Gemm", [flat, e.weight((1000, 64), "fc.weight"), e.weight((1000,), "fc.bias")],
                "/classifier/classifier.1", transB=1)
    net = read_onnx(e.model([fc])).network
    pool = net.layers[2]
    assert (pool.op, pool.global_pool, pool.mode) == ("pool", True, "max" if style == "reduce-max-negative" else "avg")
    assert net.shape(pool.name) == (64, 1, 1)
    assert net.layer("/classifier/classifier.1/Gemm").inputs == (pool.name,)
    assert net.weights[net.index["/classifier/classifier.1/Gemm"]] == 64 * 1000 + 1000


def test_reduce_without_axes_and_noop_flag_is_an_identity():
    e = Export(opset=18)
    x = e.input("input", [1, 8, 16, 16])
    y = e.node("ReduceMean", [e.conv(x, 8, 8, 1, "/conv")], "/noop", keepdims=1, noop_with_empty_axes=1)
    found = read_onnx(e.model([e.conv(y, 8, 4, 1, "/next")]))
    assert found.network.layer("/next/Conv").inputs == ("/conv/Conv",) and len(found.network.layer_ids) == 2
    assert tallies(found)["ReduceMean"] == (0, 1, 0, 0, 0)


def test_reductions_over_other_axes_are_refused():
    e = Export(opset=13)
    x = e.input("input", [1, 8, 16, 16])
    y = e.conv(x, 8, 8, 1, "/conv")
    channels = e.node("ReduceMean", [y], "/mean_c", axes=[1], keepdims=1)
    width = e.node("ReduceMax", [y], "/max_w", axes=[3], keepdims=1)
    everything = e.node("ReduceMean", [y], "/mean_all", keepdims=1)
    msg = refusal(e.model([channels, width, everything]))
    assert "node '/mean_c/ReduceMean' (ReduceMean): reduces over axes [1] (channels); only a mean or max over " \
           "height and width (a global pool)" in msg
    assert "node '/max_w/ReduceMax' (ReduceMax): reduces over axes [3] (width)" in msg
    assert "node '/mean_all/ReduceMean' (ReduceMean): reduces over every axis (no axes given)" in msg
    assert msg.count("\n  node ") == 3


def test_densenet_one_input_concat_is_a_view():
    # torchvision's DenseNet: the first dense layer of a block concatenates a list of one tensor; its batch-norms
    # come before the convs (pre-activation) and its convs have no bias
    e = Export()
    x = e.input("input", [1, 3, 64, 64])
    stem = e.node("MaxPool", [e.conv(x, 3, 64, 7, "/features/conv0", stride=2, bias=False)], "/features/pool0",
                  kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    feats = [stem]
    for layer in (1, 2):
        path = f"/features/denseblock1/denselayer{layer}"
        cat = e.node("Concat", feats, path, axis=1)
        c_in = 64 + 32 * (layer - 1)
        bn = [e.weight((c_in,), f"{path}.norm1.{p}") for p in ("weight", "bias", "mean", "var")]
        y = e.node("Relu", [e.node("BatchNormalization", [cat, *bn], f"{path}/norm1")], f"{path}/relu1")
        y = e.node("Relu", [e.conv(y, c_in, 128, 1, f"{path}/conv1")], f"{path}/relu2")
        feats.append(e.conv(y, 128, 32, 3, f"{path}/conv2", bias=False))
    out = e.node("Concat", feats, "/features/denseblock1", axis=1)
    found = read_onnx(e.model([out]))
    net = found.network
    first = net.layer("/features/denseblock1/denselayer1/Concat")
    assert first.op == "concat" and first.inputs == ("/features/pool0/MaxPool",)
    assert net.shape(first.name) == (64, 16, 16)
    assert net.shape("/features/denseblock1/Concat") == (128, 16, 16)
    # a concat is a view: no layer of a group, and its reader reads what it concatenates
    assert len(net.layer_ids) == 6 and len(net.concat_ids) == 3
    conv1 = net.index["/features/denseblock1/denselayer1/conv1/Conv"]
    assert [net.layers[p].name for p in net.producers[conv1]] == ["/features/pool0/MaxPool"]
    assert net.weights[conv1] == 64 * 128 + 128
    assert net.weights[net.index["/features/denseblock1/denselayer2/conv2/Conv"]] == 128 * 32 * 9
    assert tallies(found)["Concat"] == (0, 0, 3, 0, 0)
    # and the network goes out and back in as it is
    assert read_onnx(network_to_onnx(net)).network == net


@pytest.mark.parametrize("gate", ["hardsigmoid", "sigmoid-silu"])
def test_squeeze_excitation_with_1x1_convs(gate):
    # MobileNetV3 (ReLU squeeze, Hardsigmoid gate) and EfficientNet (SiLU = x * sigmoid(x), Sigmoid gate):
    # expand, depthwise, SE on the expanded map, projection
    e = Export(shape_only=True)
    x = e.input("input", [1, 24, 28, 28])
    y = e.node("HardSwish", [e.conv(x, 24, 72, 1, "/block/block.0/block.0.0")], "/block/block.0/block.0.2")
    y = e.node("HardSwish", [e.conv(y, 72, 72, 5, "/block/block.1/block.1.0", stride=2, groups=72)],
               "/block/block.1/block.1.2")
    s = e.node("GlobalAveragePool", [y], "/block/block.2/avgpool")
    s = e.conv(s, 72, 24, 1, "/block/block.2/fc1")
    if gate == "hardsigmoid":
        s = e.node("Relu", [s], "/block/block.2/activation")
        s = e.node("HardSigmoid", [e.conv(s, 24, 72, 1, "/block/block.2/fc2")], "/block/block.2/scale_activation",
                   alpha=1.0 / 6, beta=0.5)
    else:
        s = e.node("Mul", [s, e.node("Sigmoid", [s], "/block/block.2/activation")], "/block/block.2/activation")
        s = e.node("Sigmoid", [e.conv(s, 24, 72, 1, "/block/block.2/fc2")], "/block/block.2/scale_activation")
    scaled = e.node("Mul", [s, y], "/block/block.2")  # torchvision: scale * input
    out = e.conv(scaled, 72, 40, 1, "/block/block.3/block.3.0")
    found = read_onnx(e.model([out]))
    net = found.network
    mul = net.layer("/block/block.2/Mul")
    assert mul.op == "mul" and mul.inputs == ("/block/block.2/fc2/Conv", "/block/block.1/block.1.0/Conv")
    assert net.shape("/block/block.2/fc2/Conv") == (72, 1, 1) and net.shape(mul.name) == (72, 14, 14)
    weights = {net.layers[i].name.split("/")[-2]: net.weights[i] for i in net.layer_ids}
    assert weights == {"block.0.0": 24 * 72 + 72, "block.1.0": 72 * 25 + 72, "avgpool": 0, "fc1": 72 * 24 + 24,
                       "fc2": 24 * 72 + 72, "block.2": 0, "block.3.0": 72 * 40 + 40}
    assert net.total_macs == 28 * 28 * 24 * 72 + 14 * 14 * 72 * 25 + 2 * 72 * 24 + 14 * 14 * 72 * 40
    # the same block as the zoo writes it
    b = NetBuilder(net.name)
    z = b.input(24, 28, 28, name="input")
    z = b.conv(z, 72, 1, name="/block/block.0/block.0.0/Conv")
    y2 = b.dwconv(z, 72, 5, stride=2, padding=2, name="/block/block.1/block.1.0/Conv")
    g = b.pool(y2, global_pool=True, mode="avg", name="/block/block.2/avgpool/GlobalAveragePool")
    g = b.conv(b.conv(g, 24, 1, name="/block/block.2/fc1/Conv"), 72, 1, name="/block/block.2/fc2/Conv")
    b.conv(b.mul(g, y2, name="/block/block.2/Mul"), 40, 1, name="/block/block.3/block.3.0/Conv")
    assert net == b.build()
    assert tallies(found)["Mul"] == ((1, 0, 0, 0, 0) if gate == "hardsigmoid" else (1, 1, 0, 0, 0))


@pytest.mark.parametrize("view", ["reshape", "unsqueeze-twice"])
def test_squeeze_excitation_with_gemm(view):
    # SENet as Hu et al. write it: pool, flatten, Linear, ReLU, Linear, Sigmoid, view(b, c, 1, 1), product
    e = Export(opset=13)
    x = e.input("input", [1, 64, 14, 14])
    y = e.conv(x, 64, 64, 3, "/conv")
    s = e.node("Flatten", [e.node("GlobalAveragePool", [y], "/se/avg_pool")], "/se/Flatten", axis=1)
    s = e.node("Relu", [e.node("Gemm", [s, e.weight((16, 64), "se.fc.0.weight"), e.weight((16,), "se.fc.0.bias")],
                                "/se/fc/fc.0", transB=1)], "/se/fc/fc.1")
    s = e.node("Sigmoid", [e.node("Gemm", [s, e.weight((64, 16), "se.fc.2.weight"), e.weight((64,), "se.fc.2.b")],
                                   "/se/fc/fc.2", transB=1)], "/se/fc/fc.3")
    if view == "reshape":
        s = e.node("Reshape", [s, e.const("shape", [1, 64, 1, 1])], "/se/Reshape")
    else:
        s = e.node("Unsqueeze", [e.node("Unsqueeze", [s, e.const("ax", [-1])], "/se/u1"), e.const("ax2", [-1])],
                   "/se/u2")
    out = e.node("Mul", [y, s], "/se")
    found = read_onnx(e.model([out]))
    net = found.network
    assert [(layer.op, layer.inputs) for layer in net.layers[1:]] == [
        ("conv", ("input",)), ("pool", ("/conv/Conv",)), ("fc", ("/se/avg_pool/GlobalAveragePool",)),
        ("fc", ("/se/fc/fc.0/Gemm",)), ("mul", ("/conv/Conv", "/se/fc/fc.2/Gemm"))]
    assert net.shape("/se/fc/fc.2/Gemm") == (64, 1, 1) and net.shape("/se/Mul") == (64, 14, 14)
    assert net.weights[3:5] == (64 * 16 + 16, 16 * 64 + 64)
    views = tallies(found)["Reshape" if view == "reshape" else "Unsqueeze"]
    assert views == ((0, 0, 1, 0, 0) if view == "reshape" else (0, 0, 2, 0, 0))


def test_broadcasts_other_than_a_channel_gate_are_refused():
    e = Export()
    x = e.input("input", [1, 8, 16, 16])
    y = e.conv(x, 8, 8, 3, "/conv")
    spatial = e.node("ReduceMean", [y], "/attention", axes=[1], keepdims=1)  # CBAM's spatial map
    flat = e.node("Flatten", [e.node("GlobalAveragePool", [y], "/gap")], "/gap_flat", axis=1)
    flat_gate = e.node("Mul", [y, flat], "/flat_gate")  # [N, C] aligns with W, not with C
    msg = refusal(e.model([e.node("Mul", [y, spatial], "/scale"), flat_gate]))
    assert "node '/attention/ReduceMean' (ReduceMean): reduces over axes [1] (channels)" in msg
    assert "node '/flat_gate/Mul' (Mul): inputs of shapes [1, 8, 16, 16], [1, 8]: the cost model's add and mul take " \
           "tensors of equal shape, or [N, C, 1, 1] operands of the same C" in msg
    assert "/scale/Mul" not in msg  # downstream of a refused node: not listed again


def test_export_of_a_broadcast_gate_from_an_fc_and_of_a_one_input_concat():
    # an SENet gate computed by fcs is flat in ONNX: the export reshapes it to [N, C, 1, 1] for the broadcast Mul;
    # a one-input concat is written as a Concat of one input; both read back as they were
    b = NetBuilder("se-fc")
    x = b.conv(b.input(16, 12, 12), 32, 3, padding=1, name="conv")
    view = b.concat([x], name="cat")
    gate = b.fc(b.fc(b.pool(view, global_pool=True, mode="avg", name="gap"), 8, name="fc1"), 32, name="fc2")
    b.conv(b.mul(view, gate, name="scale"), 10, 1, name="head")
    net = b.build()
    model = network_to_onnx(net, batch=2)
    ops = {n.name: (n.op_type, list(n.input)) for n in model.graph.node}
    assert ops["cat"] == ("Concat", ["conv"])
    assert ops["fc2.4d"][0] == "Reshape" and ops["scale"] == ("Mul", ["cat", "fc2.4d"])
    inferred = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim] for v in model.graph.value_info}
    assert inferred["fc2"] == [2, 32] and inferred["fc2.4d"] == [2, 32, 1, 1] and inferred["scale"] == [2, 32, 12, 12]
    assert read_onnx(model, batch=2).network == net
    assert net.shape("scale") == (32, 12, 12) and net.weights[net.index["fc2"]] == 8 * 32 + 32


# -- refused: channel shuffles and transposes, all at once --------------------------------------------------------

def test_channel_shuffle_and_transposes_are_refused_with_the_reason():
    e = Export()
    x = e.input("input", [1, 8, 16, 16])
    y = e.conv(x, 8, 8, 1, "/stage2/stage2.0/branch2/branch2.0")
    # ShuffleNetV2's channel_shuffle: view(b, groups, c / groups, h, w), transpose(1, 2), view(b, c, h, w)
    g = e.node("Reshape", [y, e.const("grouped", [1, 2, 4, 16, 16])], "/stage2/stage2.0/Reshape")
    t = e.node("Transpose", [g], "/stage2/stage2.0/Transpose", perm=[0, 2, 1, 3, 4])
    shuffled = e.node("Reshape", [t, e.const("back", [1, 8, 16, 16])], "/stage2/stage2.0/Reshape_1")
    a = e.conv(shuffled, 8, 8, 1, "/stage2/stage2.1/branch2/branch2.0")
    nhwc = e.node("Transpose", [e.conv(x, 8, 8, 1, "/other")], "/to_nhwc", perm=[0, 2, 3, 1])
    erf = e.node("Erf", [e.conv(x, 8, 8, 1, "/gelu_in")], "/gelu")
    msg = refusal(e.model([a, nhwc, erf]))
    assert "node '/stage2/stage2.0/Reshape/Reshape' (Reshape): with '/stage2/stage2.0/Transpose/Transpose' " \
           "(Transpose) and '/stage2/stage2.0/Reshape_1/Reshape' (Reshape), a channel shuffle (as in ShuffleNet): " \
           "it splits the 8 channels of [1, 8, 16, 16] into 2 groups of 4 and interleaves them, and the cost model " \
           "has no op that reorders channels" in msg
    assert "node '/to_nhwc/Transpose' (Transpose): permutes the axes of [1, 8, 16, 16] by perm [0, 2, 3, 1]; the " \
           "cost model keeps every tensor as [N, C, H, W]" in msg
    assert "node '/gelu/Erf' (Erf): unsupported op" in msg
    assert msg.count("\n  node ") == 3  # every offending node once; the shuffle's own Transpose is named in its line
    assert "/stage2/stage2.1" not in msg


def test_a_transpose_of_unit_axes_is_a_view():
    e = Export()
    x = e.input("input", [1, 16, 8, 8])
    s = e.node("GlobalAveragePool", [e.conv(x, 16, 16, 3, "/conv")], "/pool")
    s = e.node("Transpose", [s], "/swap", perm=[0, 1, 3, 2])  # [1, 16, 1, 1] stays [1, 16, 1, 1]
    found = read_onnx(e.model([e.conv(s, 16, 4, 1, "/fc")]))
    assert found.network.layer("/fc/Conv").inputs == ("/pool/GlobalAveragePool",)
    assert tallies(found)["Transpose"] == (0, 0, 1, 0, 0)


# -- the import report --------------------------------------------------------------------------------------------

def test_import_report_and_check_flag(tmp_path, capsys):
    path = tmp_path / "resnetish.onnx"
    onnx.save(_residual_classifier(Export(shape_only=True)), path)
    found = read_onnx(path)
    assert found.nodes[0] == NodeTally("Conv", layer=4)
    assert sum(t.total for t in found.nodes) == len(_residual_classifier(Export()).graph.node) == 15
    report = import_report(found)
    lines = report.splitlines()
    assert lines[0] == f"{path}: network 'resnetish', batch 1"
    assert lines[1:7] == [
        "  input    input [3, 32, 32]",
        "  output   /fc/Gemm [10, 1, 1]",
        "  layers   7 (conv 4, fc 1, pool 1, add 1)",
        "  weights  7,578 words (0.01 M; a folded batch-norm leaves one bias word per channel)",
        "  MACs     7,520,416 per sample (0.008 G)",
        "  nodes    15 ONNX nodes, by what the import made of them:",
    ]
    assert lines[7].split() == ["op", "type", "nodes", "layer", "folded", "view", "constant", "unused"]
    rows = {line.split()[0]: [int(v) for v in line.split()[1:]] for line in lines[8:-1]}
    assert rows == {"Conv": [4, 4, 0, 0, 0, 0], "Relu": [3, 0, 3, 0, 0, 0], "Identity": [3, 0, 0, 0, 3, 0],
                    "Add": [1, 1, 0, 0, 0, 0], "BatchNormalization": [1, 0, 1, 0, 0, 0],
                    "GlobalAveragePool": [1, 1, 0, 0, 0, 0], "Flatten": [1, 0, 0, 1, 0, 0], "Gemm": [1, 1, 0, 0, 0, 0]}
    assert lines[-1] == "  folded   Relu 3, BatchNormalization 1"
    # the command line prints it instead of the network, or next to writing the file
    assert main(["import-onnx", str(path), "--check"]) == 0
    assert capsys.readouterr().out == report + "\n"
    out = tmp_path / "net.json"
    assert main(["import-onnx", str(path), "--check", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.startswith(report + "\n") and f"written to {out}" in text
    assert oo.load_network(out) == found.network


def test_report_counts_nodes_that_reach_no_output():
    e = Export()
    x = e.input("input", [1, 4, 8, 8])
    y = e.conv(x, 4, 4, 1, "/a")
    e.node("Relu", [e.conv(y, 4, 4, 1, "/dead")], "/dead_relu")  # a branch no graph output needs
    found = read_onnx(e.model([y]))
    assert tallies(found) == {"Conv": (1, 0, 0, 0, 1), "Relu": (0, 0, 0, 0, 1)}
    assert "  folded   nothing" in import_report(found)


def test_check_of_a_refused_model_names_the_file_and_exits_2(tmp_path, capsys):
    e = Export()
    x = e.input("input", [1, 4, 8, 8])
    path = tmp_path / "nhwc.onnx"
    t = e.node("Transpose", [e.conv(x, 4, 4, 1, "/a")], "/t", perm=[0, 2, 3, 1])
    onnx.save(e.model([t]), path)
    assert main(["import-onnx", str(path), "--check"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (f"optimus-opt: error: {path}: cannot import the model:\n  node '/t/Transpose' (Transpose): "
                            "permutes the axes of [1, 4, 8, 8] by perm [0, 2, 3, 1]; the cost model keeps every tensor "
                            "as [N, C, H, W] (or flattened to [N, C·H·W]) and has no op that moves axes or reorders "
                            "channels\n")
