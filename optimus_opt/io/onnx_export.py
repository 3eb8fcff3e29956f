"""Export to ONNX: :func:`network_to_onnx` writes one ONNX node per layer, named after the layer, whose output tensor
has the layer's name: Conv, MaxPool/AveragePool, GlobalMaxPool/GlobalAveragePool, Gemm (after a Flatten of a
feature map) for ``fc``, Add (Sum for three or more inputs), Mul (an fc's (C, 1, 1) output reshaped to
[N, C, 1, 1] where it broadcasts), Concat(axis=1) of any number of inputs, Resize (nearest, constant scales).
Weights and biases are graph inputs with their shapes and no values, so files stay small; the file holds
the shapes of every tensor (``value_info``). ``network_from_onnx`` of an exported file gives back the same network
(the one exception: a ``mul`` of more than two inputs is written, and read back, as a chain of binary Muls).

Its inverse is :func:`optimus_opt.io.onnx.network_from_onnx` (:mod:`optimus_opt.io.onnx`); both take the opset
constants and names of :mod:`optimus_opt.io.onnx_common`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from ..model.errors import InstanceError
from ..model.network import Layer, Network, Shape
from .onnx_common import EXPORT_IR_VERSION, EXPORT_OPSET, Namer, format_dims, onnx_module, tensor_dims


def network_to_onnx(network: Network, path: str | Path | None = None, *, batch: int = 1):
    """A shape-only ONNX model of ``network`` (written to ``path`` when given); returns the ``onnx.ModelProto``.

    Every layer is one node named after it, whose output tensor bears its name; weights and biases are graph
    inputs with shapes only (``{layer}.weight``, ``{layer}.bias``). ``batch`` is the first dimension of every
    tensor.
    """
    onnx = onnx_module()
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise InstanceError(f"must be a positive integer, got {batch!r}", field="batch")
    writer = _OnnxWriter(onnx, network, batch)
    for layer in network.layers:
        writer.layer(layer)
    model = onnx.shape_inference.infer_shapes(writer.model(), strict_mode=True)
    _check_inferred_shapes(model, network, batch, writer.rank)
    onnx.checker.check_model(model)
    if path is not None:
        onnx.save(model, str(path))
    return model


def _export_dims(batch: int, shape: Shape, rank: int) -> tuple[int, ...]:
    """The ONNX dims of a layer's output of ``shape`` (C, H, W): [N, C, H, W], or [N, C·H·W] where it is flat."""
    c, h, w = shape
    return (batch, c, h, w) if rank == 4 else (batch, c * h * w)


def _onnx_pads(layer: Layer) -> list[int]:
    """The layer's padding in ONNX's order: begins, then ends ([top, left, bottom, right])."""
    t, b, l, r = layer.padding
    return [t, l, b, r]


class _OnnxWriter:
    """The graph :func:`network_to_onnx` builds, one layer at a time: its nodes, data inputs, weight inputs and
    initializers, the rank of each layer's output (4: [N, C, H, W]; 2: flat, as an fc's), and the reshaped and
    flattened copies made so far, so that a tensor read in another rank by several layers is converted once.
    Helper tensors take names no layer has (:class:`Namer`)."""

    def __init__(self, onnx, network: Network, batch: int) -> None:
        self.helper, self.TP = onnx.helper, onnx.TensorProto
        self.network = network
        self.batch = batch
        self.fresh = Namer(layer.name for layer in network.layers)
        self.nodes: list = []
        self.inputs: list = []
        self.weights: list = []
        self.inits: list = []
        self.rank: dict[str, int] = {}
        self.as4: dict[str, str] = {}
        self.as2: dict[str, str] = {}

    # -- tensors -------------------------------------------------------------------------------------------

    def four(self, src: str) -> str:
        """``src`` as [N, C, H, W] (a flat fc output is reshaped, once)."""
        if self.rank[src] == 4:
            return src
        if src not in self.as4:
            c, h, w = self.network.shape(src)
            shape_name = self.fresh(f"{src}.shape4")
            self.inits.append(self.helper.make_tensor(shape_name, self.TP.INT64, [4], [self.batch, c, h, w]))
            self.as4[src] = self.fresh(f"{src}.4d")
            self.node("Reshape", [src, shape_name], self.as4[src])
        return self.as4[src]

    def two(self, src: str) -> str:
        """``src`` flattened to [N, C·H·W] (once)."""
        if self.rank[src] == 2:
            return src
        if src not in self.as2:
            self.as2[src] = self.fresh(f"{src}.flat")
            self.node("Flatten", [src], self.as2[src], axis=1)
        return self.as2[src]

    def weight(self, name: str, dims: Sequence[int]) -> str:
        """A shape-only graph input for a weight or bias (no values: the file stays small)."""
        w = self.fresh(name)
        self.weights.append(self.helper.make_tensor_value_info(w, self.TP.FLOAT, list(dims)))
        return w

    def node(self, op: str, ins: Sequence[str], out: str, **attrs: Any) -> None:
        """Append a node of one output, named after that output (as every layer's node is named after it)."""
        self.nodes.append(self.helper.make_node(op, ins, [out], name=out, **attrs))

    # -- layers --------------------------------------------------------------------------------------------

    def layer(self, layer: Layer) -> None:
        """Write ``layer``'s node(s), the network's layers coming in topological order, and note its rank."""
        write = {"input": self.input, "conv": self.conv, "pool": self.pool, "fc": self.fc, "add": self.combine,
                 "mul": self.combine, "concat": self.combine, "upsample": self.upsample}.get(layer.op)
        if write is None:  # pragma: no cover - every op of formulations/cost-model.md §1 has a writer
            raise InstanceError(f"no ONNX form for op '{layer.op}'", layer=layer.name, field="op")
        self.rank[layer.name] = write(layer)

    def input(self, layer: Layer) -> int:
        """A network input: a graph input [N, C, H, W]."""
        c, h, w = self.network.shape(layer.name)
        self.inputs.append(self.helper.make_tensor_value_info(layer.name, self.TP.FLOAT, [self.batch, c, h, w]))
        return 4

    def conv(self, layer: Layer) -> int:
        """A Conv, with its weights [K, C/groups, kh, kw] and, where the layer has one, its bias [K]."""
        assert layer.channels is not None
        src = layer.inputs[0]
        x = self.four(src)
        ins = [x, self.weight(f"{layer.name}.weight", (layer.channels, self.network.shape(src)[0] // layer.groups,
                                                         *layer.kernel))]
        if layer.bias:
            ins.append(self.weight(f"{layer.name}.bias", (layer.channels,)))
        self.node("Conv", ins, layer.name, kernel_shape=list(layer.kernel), strides=list(layer.stride),
                  pads=_onnx_pads(layer), dilations=list(layer.dilation), group=layer.groups)
        return 4

    def pool(self, layer: Layer) -> int:
        """A MaxPool / AveragePool, or their global forms."""
        x = self.four(layer.inputs[0])
        if layer.global_pool:
            self.node("GlobalMaxPool" if layer.mode == "max" else "GlobalAveragePool", [x], layer.name)
        else:
            self.node("MaxPool" if layer.mode == "max" else "AveragePool", [x], layer.name,
                      kernel_shape=list(layer.kernel), strides=list(layer.stride), pads=_onnx_pads(layer))
        return 4

    def fc(self, layer: Layer) -> int:
        """A Gemm of the flattened input by weights [K, C·H·W] (transB=1), and a bias [K] where the layer has one."""
        assert layer.channels is not None
        src = layer.inputs[0]
        c, h, w = self.network.shape(src)
        ins = [self.two(src), self.weight(f"{layer.name}.weight", (layer.channels, c * h * w))]
        if layer.bias:
            ins.append(self.weight(f"{layer.name}.bias", (layer.channels,)))
        self.node("Gemm", ins, layer.name, transB=1)
        return 2

    def combine(self, layer: Layer) -> int:
        """An add, mul or concat: flat where every input is flat, else of [N, C, H, W] inputs (a flat (C, 1, 1)
        input reshaped, so that it broadcasts as a gate)."""
        srcs = list(layer.inputs)
        flat = all(self.rank[s] == 2 for s in srcs)
        ins = srcs if flat else [self.four(s) for s in srcs]
        if layer.op == "concat":
            self.node("Concat", ins, layer.name, axis=1)
        elif layer.op == "add":
            self.node("Add" if len(ins) == 2 else "Sum", ins, layer.name)
        else:
            self.mul_chain(layer.name, ins)
        return 2 if flat else 4

    def mul_chain(self, name: str, ins: Sequence[str]) -> None:
        """ONNX's Mul is binary: a product of more than two inputs is a chain whose last node is ``name``."""
        acc = ins[0]
        for k, other in enumerate(ins[1:], start=1):
            part = name if k == len(ins) - 1 else self.fresh(f"{name}.part{k}")
            self.node("Mul", [acc, other], part)
            acc = part

    def upsample(self, layer: Layer) -> int:
        """A nearest Resize by constant scales (1, 1, s, s)."""
        s = float(layer.scale)
        scales = self.fresh(f"{layer.name}.scales")
        self.inits.append(self.helper.make_tensor(scales, self.TP.FLOAT, [4], [1.0, 1.0, s, s]))
        self.node("Resize", [self.four(layer.inputs[0]), "", scales], layer.name, mode="nearest")
        return 4

    # -- the model -----------------------------------------------------------------------------------------

    def model(self):
        """The ``onnx.ModelProto`` of what was written, the network's outputs as graph outputs (before shape
        inference)."""
        helper = self.helper
        outputs = [helper.make_tensor_value_info(o, self.TP.FLOAT,
                                                 list(_export_dims(self.batch, self.network.shape(o), self.rank[o])))
                   for o in self.network.outputs or ()]
        graph = helper.make_graph(self.nodes, self.network.name, self.inputs + self.weights, outputs,
                                  initializer=self.inits,
                                  doc_string="A shape-only graph written by optimus-opt: weights are inputs without "
                                             "values.")
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", EXPORT_OPSET)],
                                  producer_name="optimus-opt")
        model.ir_version = EXPORT_IR_VERSION
        return model


def _check_inferred_shapes(model, network: Network, batch: int, rank: Mapping[str, int]) -> None:
    """Check that ONNX's shape inference gives every layer's output the shape the cost model gives it, so that an
    exported file never describes another network than the one it was written from."""
    inferred = {vi.name: tensor_dims(vi.type) for vi in list(model.graph.value_info) + list(model.graph.output)}
    for layer, shape in zip(network.layers, network.shapes):
        if layer.op == "input":
            continue
        want = _export_dims(batch, shape, rank[layer.name])
        if inferred.get(layer.name) != want:
            raise InstanceError(f"ONNX's shape inference gives {format_dims(inferred.get(layer.name))} where the cost "
                                f"model gives {format_dims(want)}", layer=layer.name)


__all__ = ["network_to_onnx"]
