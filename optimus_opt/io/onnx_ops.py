"""The rules that turn one ONNX node into a layer of the network, a folding into its producer or a view (the table
of :mod:`optimus_opt.io.onnx`): :class:`NodeMapper` maps a node over the state of an import, which
:class:`~optimus_opt.io.onnx_read.Importer` runs over a whole graph. A node the rules cannot map raises
:class:`Refuse` with the reason, which the import lists with every other problem.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Mapping

from ..model.errors import InstanceError
from ..model.network import Layer, Shape, infer_shape
from .onnx_common import format_dims
from .onnx_graph import evaluate_constant

#: Ops that become a layer.
LAYER_OPS = ("Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "ReduceMean", "ReduceMax", "Gemm",
             "MatMul", "Add", "Sum", "Mul", "Concat", "Resize", "Upsample")
#: Unary ops folded into the producer of their (first) input.
FOLDED_OPS = ("BatchNormalization", "Relu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "LeakyRelu", "PRelu",
              "Tanh", "Elu", "Selu", "Softplus", "Mish", "Gelu", "LRN", "Dropout", "Identity", "Cast",
              "QuantizeLinear", "DequantizeLinear")
#: Views: folded when they flatten to [N, C·H·W] or give back the producer's own shape.
VIEW_OPS = ("Flatten", "Reshape", "Squeeze", "Unsqueeze")
#: Folded only on a flat tensor (a classifier's last step).
FLAT_FOLDED_OPS = ("Softmax", "LogSoftmax")
#: Folded when one operand is a constant.
AFFINE_OPS = ("Sub", "Div")
#: Ops that only compute shapes; their results are constants once shapes are known.
SHAPE_OPS = ("Shape", "Size")
#: Ops read to say why they are refused (a Transpose that permutes nothing is folded as a view).
EXPLAINED_OPS = ("Transpose",)
SUPPORTED_OPS = LAYER_OPS + FOLDED_OPS + VIEW_OPS + FLAT_FOLDED_OPS + AFFINE_OPS + ("Pad",) + SHAPE_OPS + EXPLAINED_OPS


class Refuse(Exception):
    """A node the import cannot map; the message says why."""


class Skip(Exception):
    """A node that cannot be mapped because of a problem already reported at another node."""


@dataclass(frozen=True)
class Val:
    """A tensor on the network's data path: the layer that holds it, whether it is that layer's output flattened
    to [N, C·H·W], the padding of Pad nodes still waiting for the Conv or pool that will absorb it, and the dims of
    a step between views that only another view may read (``[N, C, 1]`` between two Unsqueezes of a gate)."""

    layer: str
    flat: bool = False
    pad: tuple[int, int, int, int] | None = None
    pad_node: str | None = None
    between_views: tuple[int, ...] | None = None


def _attrs(onnx, node) -> dict[str, Any]:
    out = {}
    for a in node.attribute:
        v = onnx.helper.get_attribute_value(a)
        out[a.name] = v.decode() if isinstance(v, bytes) else v
    return out


def _ceil_windows(size: int, begin: int, total: int, kernel: int, stride: int) -> int:
    """Windows of a ceil-mode pool along one axis."""
    n = -(-(size + total - kernel) // stride) + 1
    if (n - 1) * stride >= size + begin:
        n -= 1
    return n


class NodeMapper:
    """What an import knows while it maps nodes in order, and the rules that map one node (:meth:`map_node`).

    The import (:class:`~optimus_opt.io.onnx_read.Importer`) sets the graph's context before the first node is
    mapped: the nodes that reach an output (``nodes``), their readers by value, the layer name of each node, the
    initializers, the batch and the shapes ONNX inferred. Mapping a node adds a layer (``layers``, ``order``,
    ``shapes_of``), or says which layer holds its output (``vals``: folded into the producer, or a view of it), or
    raises :class:`Refuse`; a Pad that feeds no Conv or pool is a problem of its own (``problems``).
    """

    nodes: list
    readers: dict[str, list]
    names: dict
    inits: dict[str, Any]
    batch: int
    shapes: dict[str, tuple[int | None, ...] | None]

    def __init__(self, onnx: Any, model: Any, file: str | None) -> None:
        self.onnx = onnx
        self.model = model
        self.graph = model.graph
        self.file = file
        self.problems: list[str] = []
        self.layers: dict[str, Layer] = {}
        self.order: list[str] = []
        self.shapes_of: dict[str, Shape] = {}
        self.vals: dict[str, Val] = {}
        self.consts: dict[str, Any] = {}  # value name → the node or initializer that defines it (None: unknown)
        self.pad_problem_nodes: set[str] = set()

    # -- helpers for the mapping ---------------------------------------------------------------------------

    def _shape(self, value: str) -> tuple[int | None, ...] | None:
        return self.shapes.get(value)

    def _static(self, value: str, rank: int | None = None) -> tuple[int, ...]:
        dims = self._shape(value)
        if dims is None or any(d is None for d in dims):
            raise Refuse(f"the shape of '{value}' is not static after shape inference ({format_dims(dims)}); give "
                         "--input-shape, or export the model with fixed sizes")
        if rank is not None and len(dims) != rank:
            raise Refuse(f"'{value}' has shape {format_dims(dims)}, expected rank {rank}")
        return dims  # type: ignore[return-value]

    def _pad_problem(self, v: Val, why: str) -> None:
        if v.pad_node not in self.pad_problem_nodes:
            self.pad_problem_nodes.add(v.pad_node or "")
            self.problems.append(f"node '{v.pad_node}' (Pad): {why}; a Pad is folded only into the Conv or "
                                 "pooling nodes it feeds")

    def _data(self, value: str, *, padded: bool = False, reader: str = "", view: bool = False) -> Val:
        if value not in self.vals:
            raise Refuse(f"reads the constant '{value}' where it takes the network's tensor")
        v = self.vals[value]
        if v.pad is not None and not padded:
            self._pad_problem(v, f"it feeds '{reader}'")
            raise Skip()
        if v.between_views is not None and not view:
            raise Refuse(f"reads '{value}' of shape {format_dims(v.between_views)}; expected [N, C, H, W] or a tensor "
                         "flattened to [N, C·H·W]")
        return v

    def _feature_map(self, value: str, reader: str, *, padded: bool = False) -> Val:
        v = self._data(value, padded=padded, reader=reader)
        if v.flat:
            raise Refuse(f"reads the flattened tensor '{value}' {format_dims(self._shape(value))}; "
                         "expected [N, C, H, W]")
        return v

    def _const_value(self, value: str):
        """The value of a constant input (an initializer or a Constant node), or None."""
        numpy_helper = self.onnx.numpy_helper
        src = self.consts.get(value)
        if src is None:
            return None
        if isinstance(src, self.onnx.TensorProto):
            try:
                return numpy_helper.to_array(src)
            except Exception:
                return None
        if getattr(src, "op_type", None) == "Constant":
            a = _attrs(self.onnx, src)
            if "value" in a:
                return numpy_helper.to_array(a["value"])
            for key in ("value_ints", "value_int", "value_floats", "value_float"):
                if key in a:
                    return a[key]
        return evaluate_constant(self.onnx, self.model, self.nodes, self.inits, value)

    def _is_const(self, value: str) -> bool:
        return value in self.consts

    def _add_layer(self, layer: Layer, out_value: str, *, flat: bool = False) -> None:
        """Add a layer, checking its shape against ONNX's for the node's output (or filling that in)."""
        try:
            shape = infer_shape(layer, [self.shapes_of[i] for i in layer.inputs])
        except InstanceError as err:
            raise Refuse(err.message) from None
        self.shapes_of[layer.name] = shape
        self._check_output(out_value, Val(layer.name, flat=flat))
        self.layers[layer.name] = layer
        self.order.append(layer.name)
        self.vals[out_value] = Val(layer.name, flat=flat)

    def _value_dims(self, v: Val) -> tuple[int, ...]:
        """The ONNX shape a value has under the mapping: [N, C, H, W] (padded by a waiting Pad) or [N, C·H·W]."""
        c, h, w = self.shapes_of[v.layer]
        if v.between_views is not None:
            return v.between_views
        if v.flat:
            return (self.batch, c * h * w)
        t, b, l, r = v.pad or (0, 0, 0, 0)
        return (self.batch, c, h + t + b, w + l + r)

    def _check_output(self, out: str, v: Val) -> None:
        """Check ONNX's shape of a node's output against the mapping's; where ONNX's is unknown (shape inference
        stops at values it cannot compute, as computed pads), the mapping's fills it in for the nodes below."""
        want = self._value_dims(v)
        dims = self._shape(out)
        if dims is not None and None not in dims:
            if tuple(dims) != want:
                raise Refuse(f"ONNX gives its output the shape {format_dims(dims)}, "
                             f"the cost model {format_dims(want)}")
        elif dims is not None and (len(dims) != len(want) or any(d not in (None, e) for d, e in zip(dims, want))):
            raise Refuse(f"ONNX gives its output the shape {format_dims(dims)}, the cost model {format_dims(want)}")
        else:
            self.shapes[out] = want

    def _set_bias(self, layer_name: str) -> None:
        layer = self.layers.get(layer_name)
        if layer is not None and layer.op in ("conv", "fc") and not layer.bias:
            self.layers[layer_name] = dataclasses.replace(layer, bias=True)

    # -- the mapping ---------------------------------------------------------------------------------------

    def map_node(self, node, label: str) -> None:
        """Map ``node`` (named ``label``) by its op type, or raise :class:`Refuse` (:class:`Skip` where the
        problem is already reported at another node)."""
        op = node.op_type
        a = _attrs(self.onnx, node)
        ins = list(node.input)
        out = node.output[0]
        if op == "Conv":
            self._conv(node, label, a, ins, out)
        elif op in ("MaxPool", "AveragePool"):
            self._pool(node, label, a, ins, out)
        elif op in ("GlobalAveragePool", "GlobalMaxPool"):
            x = self._feature_map(ins[0], label)
            self._static(ins[0], 4)
            mode = "avg" if op == "GlobalAveragePool" else "max"
            self._add_layer(Layer(name=label, op="pool", inputs=(x.layer,), global_pool=True, mode=mode), out)
        elif op in ("ReduceMean", "ReduceMax"):
            self._reduce(node, label, a, ins, out)
        elif op in ("Gemm", "MatMul"):
            self._fc(node, label, a, ins, out)
        elif op in ("Add", "Sum", "Mul", "Sub", "Div"):
            self._elementwise(node, label, ins, out)
        elif op == "Concat":
            self._concat(node, label, a, ins, out)
        elif op in ("Resize", "Upsample"):
            self._upsample(node, label, a, ins, out)
        elif op in VIEW_OPS:
            self._view(node, label, ins, out)
        elif op == "Transpose":
            self._transpose(label, a, ins, out)
        elif op == "Pad":
            self._pad(node, label, a, ins, out)
        elif op in FOLDED_OPS or op in FLAT_FOLDED_OPS:
            self._fold(node, label, ins, out)
        else:  # pragma: no cover - SUPPORTED_OPS and this dispatch agree
            raise Refuse("unsupported op")

    def _window(self, a: Mapping[str, Any], in_hw: tuple[int, int], kernel: tuple[int, int],
                dilation: tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int, int, int]]:
        strides = tuple(a.get("strides", (1, 1)))
        if len(strides) != 2:
            raise Refuse(f"strides {list(strides)}: only 2-D windows")
        auto = a.get("auto_pad", "NOTSET") or "NOTSET"
        if auto == "NOTSET":
            pads = tuple(a.get("pads", (0, 0, 0, 0)))
            if len(pads) != 4:
                raise Refuse(f"pads {list(pads)}: only 2-D windows")
            if any(p < 0 for p in pads):
                raise Refuse(f"negative pads {list(pads)}")
            t, l, b, r = pads
            return (strides[0], strides[1]), (t, b, l, r)
        if auto == "VALID":
            return (strides[0], strides[1]), (0, 0, 0, 0)
        if auto not in ("SAME_UPPER", "SAME_LOWER"):
            raise Refuse(f"auto_pad {auto!r} is not an ONNX value")
        pairs = []
        for size, k, s, d in zip(in_hw, kernel, strides, dilation):
            out = -(-size // s)
            total = max(0, (out - 1) * s + (k - 1) * d + 1 - size)
            small, big = total // 2, total - total // 2
            pairs.append((small, big) if auto == "SAME_UPPER" else (big, small))
        return (strides[0], strides[1]), (pairs[0][0], pairs[0][1], pairs[1][0], pairs[1][1])

    @staticmethod
    def _plus(p: tuple[int, int, int, int], q: tuple[int, int, int, int] | None) -> tuple[int, int, int, int]:
        if q is None:
            return p
        return (p[0] + q[0], p[1] + q[1], p[2] + q[2], p[3] + q[3])

    def _conv(self, node, label, a, ins, out) -> None:
        x = self._feature_map(ins[0], label, padded=True)
        _, c, h, w = self._static(ins[0], 4)  # the padded input, when a Pad is waiting
        if len(ins) < 2 or not ins[1]:
            raise Refuse("has no weight input")
        if not self._is_const(ins[1]):
            raise Refuse(f"its weights '{ins[1]}' are computed from the network input; only constant weights")
        wdims = self._shape(ins[1])
        if wdims is None or len(wdims) != 4:
            rank = "unknown" if wdims is None else len(wdims)
            raise Refuse(f"weights of rank {rank}: only 2-D convolutions (weights [K, C/groups, kh, kw])")
        groups = int(a.get("group", 1))
        kernel = tuple(a.get("kernel_shape", wdims[2:]))
        if len(kernel) != 2 or any(k is None for k in kernel):
            raise Refuse(f"kernel {format_dims(kernel)}: only 2-D convolutions")
        dilation = tuple(a.get("dilations", (1, 1)))
        stride, padding = self._window(a, (h, w), kernel, dilation)  # type: ignore[arg-type]
        padding = self._plus(padding, x.pad)
        k_out = wdims[0] if wdims[0] is not None else self._static(out, 4)[1]
        if wdims[1] is not None and wdims[1] * groups != c:
            raise Refuse(f"weights {format_dims(wdims)} do not match {c} input channels, {k_out} output channels and "
                         f"group {groups}")
        bias = len(ins) > 2 and bool(ins[2])
        layer = Layer(name=label, op="conv", inputs=(x.layer,), channels=k_out, kernel=kernel,  # type: ignore[arg-type]
                      stride=stride, padding=padding, dilation=dilation, groups=groups,  # type: ignore[arg-type]
                      bias=bias)
        self._add_layer(layer, out)

    def _pool(self, node, label, a, ins, out) -> None:
        x = self._feature_map(ins[0], label, padded=True)
        _, c, h, w = self._static(ins[0], 4)
        kernel = tuple(a.get("kernel_shape", ()))
        if len(kernel) != 2:
            raise Refuse(f"kernel_shape {list(kernel)}: only 2-D pooling")
        if any(d != 1 for d in a.get("dilations", (1, 1))):
            raise Refuse(f"dilations {list(a['dilations'])}: the cost model's pool has no dilation")
        stride, padding = self._window(a, (h, w), kernel, (1, 1))  # type: ignore[arg-type]
        padding = self._plus(padding, x.pad)
        if a.get("ceil_mode", 0):
            # the extra bottom/right padding that makes the floor-mode output size the ceil-mode one
            t, b, l, r = padding
            dims = self._shape(out)
            if dims is not None and len(dims) == 4 and None not in dims[2:]:
                ho, wo = dims[2], dims[3]
            else:  # ceil, but no window may start in the bottom/right padding (PyTorch's and ONNX's rule)
                ho, wo = (_ceil_windows(size, begin, begin + end, k, st) for size, begin, end, k, st in
                          ((h, t, b, kernel[0], stride[0]), (w, l, r, kernel[1], stride[1])))
            b += max(0, (ho - 1) * stride[0] + kernel[0] - (h + t + b))
            r += max(0, (wo - 1) * stride[1] + kernel[1] - (w + l + r))
            padding = (t, b, l, r)
        mode = "max" if node.op_type == "MaxPool" else "avg"
        layer = Layer(name=label, op="pool", inputs=(x.layer,), kernel=kernel, stride=stride,  # type: ignore
                      padding=padding, mode=mode)
        self._add_layer(layer, out)

    def _fc(self, node, label, a, ins, out) -> None:
        op = node.op_type
        if len(ins) < 2 or ins[1] in self.vals or (len(ins) > 2 and ins[2] in self.vals) or ins[0] not in self.vals:
            raise Refuse("multiplies two tensors of the network; only a tensor by constant weights")
        x = self._data(ins[0], reader=label)
        xdims = self._static(ins[0])
        if not x.flat or len(xdims) != 2:
            raise Refuse(f"reads '{ins[0]}' of shape {format_dims(xdims)}; "
                         "expected a tensor flattened to [N, C·H·W] (by Flatten or Reshape)")
        if op == "Gemm" and a.get("transA", 0):
            raise Refuse("transA=1: only Gemm of the flattened input by weights")
        dims = self._static(out, 2)
        wdims = self._shape(ins[1])
        if wdims is not None and None not in wdims:
            want = (dims[1], xdims[1]) if op == "Gemm" and a.get("transB", 0) else (xdims[1], dims[1])
            if tuple(wdims) != want:
                raise Refuse(f"weights {format_dims(wdims)} do not match {xdims[1]} inputs and {dims[1]} outputs")
        bias = op == "Gemm" and len(ins) > 2 and bool(ins[2])
        layer = Layer(name=label, op="fc", inputs=(x.layer,), channels=dims[1], bias=bias)
        self._add_layer(layer, out, flat=True)

    def _elementwise(self, node, label, ins, out) -> None:
        op = node.op_type
        data = [x for x in ins if x and x in self.vals]
        consts = [x for x in ins if x and x not in self.vals]
        vals = [self._data(x, reader=label) for x in data]
        if consts and len(data) == 1:
            # scaling or shifting by a constant: folded; a per-channel constant added to a conv or fc is its bias
            layer = self.layers.get(vals[0].layer)
            cdims = self._shape(consts[0])
            if op in ("Add", "Sum") and layer is not None and layer.op in ("conv", "fc") and cdims is not None \
                    and None not in cdims and math.prod(cdims) == layer.channels:  # type: ignore[arg-type]
                self._set_bias(layer.name)
            self._check_output(out, vals[0])
            self.vals[out] = vals[0]
            return
        if op in AFFINE_OPS:
            raise Refuse(f"a {op} of two tensors is not an op of the cost model (only by a constant, folded)")
        if len({v.layer for v in vals}) == 1 and len(set(data)) > 1:
            # x * sigmoid(x), x + relu(x): a gate or activation of one tensor, folded into its producer
            self._check_output(out, vals[0])
            self.vals[out] = vals[0]
            return
        shapes = [self._static(x) for x in data]
        full = max(shapes, key=math.prod)
        gate = (full[0], full[1], 1, 1) if len(full) == 4 else None
        if any(s != full and s != gate for s in shapes):
            raise Refuse(f"inputs of shapes {', '.join(format_dims(s) for s in shapes)}: "
                         "the cost model's add and mul take tensors of equal shape, or [N, C, 1, 1] operands of the "
                         "same C (a squeeze-and-excitation gate) that broadcast over H and W")
        flat = self._flat_inputs(data)
        kind = "mul" if op == "Mul" else "add"
        self._add_layer(Layer(name=label, op=kind, inputs=tuple(v.layer for v in vals)), out, flat=flat)

    def _flat_inputs(self, data: list[str]) -> bool:
        ranks = {len(self._static(x)) for x in data}
        if ranks == {4}:
            return False
        if ranks == {2}:
            return True
        raise Refuse(f"inputs of ranks {sorted(ranks)}; expected [N, C, H, W] or flattened [N, C·H·W] tensors")

    def _concat(self, node, label, a, ins, out) -> None:
        data = [x for x in ins if x]
        consts = [x for x in data if x not in self.vals]
        if consts:
            raise Refuse(f"concatenates the constant '{consts[0]}'")
        vals = [self._data(x, reader=label) for x in data]
        rank = len(self._static(data[0]))
        axis = int(a.get("axis", 1))
        axis = axis + rank if axis < 0 else axis
        if axis != 1:
            named = {0: "the batch", 2: "height", 3: "width"}.get(axis, f"axis {axis}") if rank == 4 else \
                f"axis {axis}"
            raise Refuse(f"concatenates along axis {a.get('axis', 1)} ({named}); only a concat on channels "
                         "(axis 1) is in the cost model")
        flat = self._flat_inputs(data)
        self._add_layer(Layer(name=label, op="concat", inputs=tuple(v.layer for v in vals)), out, flat=flat)

    def _upsample(self, node, label, a, ins, out) -> None:
        x = self._feature_map(ins[0], label)
        mode = a.get("mode", "nearest")
        if mode != "nearest":
            raise Refuse(f"mode '{mode}': only nearest upsampling is in the cost model")
        n, c, h, w = self._static(ins[0], 4)
        n2, c2, ho, wo = self._static(out, 4)
        if (n2, c2) != (n, c) or ho % h or wo % w or ho // h != wo // w:
            raise Refuse(f"resizes {format_dims((n, c, h, w))} to {format_dims((n2, c2, ho, wo))}: "
                         "only one integer scale for height and width")
        self._add_layer(Layer(name=label, op="upsample", inputs=(x.layer,), scale=ho // h), out)

    def _view(self, node, label, ins, out) -> None:
        v = self._data(ins[0], reader=label, view=True)
        dims = tuple(self._static(out))
        shape = self.shapes_of[v.layer]
        if not self._reshape(v, dims, out):
            shuffle = self._channel_shuffle(node, dims, shape) if not v.flat else None
            if shuffle is not None:
                raise Refuse(shuffle)
            c, h, w = shape
            raise Refuse(f"reshapes {format_dims(self._shape(ins[0]))} to {format_dims(dims)}; only a flatten to "
                         f"[N, C·H·W] = {format_dims((self.batch, c * h * w))} or back to "
                         f"{format_dims((self.batch, c, h, w))}")

    def _reshape(self, v: Val, dims: tuple[int, ...], out: str) -> bool:
        """Give ``out`` the view ``dims`` of the layer that holds ``v``, if the cost model has it: flattened
        [N, C·H·W], the map [N, C, H, W] itself, or, for a (C, 1, 1) map, the step [N, C, 1] between two
        Unsqueezes."""
        c, h, w = self.shapes_of[v.layer]
        if dims == (self.batch, c * h * w):
            self.vals[out] = Val(v.layer, flat=True)
        elif dims == (self.batch, c, h, w):
            self.vals[out] = Val(v.layer, flat=False)
        elif (h, w) == (1, 1) and dims == (self.batch, c, 1):
            self.vals[out] = Val(v.layer, between_views=dims)
        else:
            return False
        return True

    def _channel_shuffle(self, node, dims: tuple[int, ...], shape: Shape) -> str | None:
        """Why a Reshape that splits the channels into groups is refused, when it starts a channel shuffle
        (ShuffleNet's Reshape to [N, g, C/g, H, W], Transpose of the two group axes, Reshape back); else None."""
        c, h, w = shape
        if len(dims) != 5 or dims[0] != self.batch or dims[1] * dims[2] != c or dims[3:] != (h, w) or dims[1] < 2:
            return None
        swap = [n for n in self.readers.get(node.output[0], ()) if n.op_type == "Transpose"
                and list(_attrs(self.onnx, n).get("perm", ())) == [0, 2, 1, 3, 4]]
        if not swap:
            return None
        back = [n for n in self.readers.get(swap[0].output[0], ()) if n.op_type in VIEW_OPS]
        steps = f"'{self.names[id(swap[0])]}' (Transpose)"
        if back:
            steps += f" and '{self.names[id(back[0])]}' ({back[0].op_type})"
        return (f"with {steps}, a channel shuffle (as in ShuffleNet): it splits the {c} channels of "
                f"{format_dims((self.batch, c, h, w))} into {dims[1]} groups of {dims[2]} and interleaves them, "
                "and the cost model has no op that reorders channels (a layer reads the channels of its input in "
                "order)")

    def _transpose(self, label, a, ins, out) -> None:
        """A Transpose that moves only axes of size 1 is a view; any other is refused (the cost model has no op
        that reorders axes or channels)."""
        v = self._data(ins[0], reader=label, view=True)
        dims = tuple(self._static(ins[0]))
        perm = [int(p) for p in a.get("perm", range(len(dims) - 1, -1, -1))]
        if sorted(perm) == list(range(len(dims))) and \
                [p for p in perm if dims[p] != 1] == [i for i in range(len(dims)) if dims[i] != 1] and \
                self._reshape(v, tuple(dims[p] for p in perm), out):
            return
        raise Refuse(f"permutes the axes of {format_dims(dims)} by perm {perm}; the cost model keeps every tensor as "
                     "[N, C, H, W] (or flattened to [N, C·H·W]) and has no op that moves axes or reorders channels")

    def _reduce(self, node, label, a, ins, out) -> None:
        """ReduceMean / ReduceMax over height and width: a global average / max pool (keepdims=0 flattens it)."""
        x = self._feature_map(ins[0], label)
        self._static(ins[0], 4)
        if len(ins) > 1 and ins[1]:  # opset 18: the axes are an input
            given = self._const_value(ins[1])
            if given is None:
                raise Refuse("its axes are not a constant")
            listed = given.tolist() if hasattr(given, "tolist") else given
            axes = [int(ax) for ax in (listed if isinstance(listed, list) else [listed])]
        else:
            axes = [int(ax) for ax in a.get("axes", ())]
        if not axes and int(a.get("noop_with_empty_axes", 0)):  # opset 18: no axes and this flag is an identity
            self._check_output(out, x)
            self.vals[out] = x
            return
        if not axes:
            raise Refuse("reduces over every axis (no axes given); only a mean or max over height and width (a "
                         "global pool) is in the cost model")
        axes = sorted({ax + 4 if ax < 0 else ax for ax in axes})
        if axes != [2, 3]:
            named = ", ".join({0: "batch", 1: "channels", 2: "height", 3: "width"}.get(ax, str(ax)) for ax in axes)
            raise Refuse(f"reduces over axes {axes} ({named}); only a mean or max over height and width (a global "
                         "pool) is in the cost model")
        mode = "avg" if node.op_type == "ReduceMean" else "max"
        layer = Layer(name=label, op="pool", inputs=(x.layer,), global_pool=True, mode=mode)
        self._add_layer(layer, out, flat=not int(a.get("keepdims", 1)))

    def _pad(self, node, label, a, ins, out) -> None:
        v = self._feature_map(ins[0], label, padded=True)
        self._static(ins[0], 4)
        if len(ins) > 1 and ins[1]:
            pads = self._const_value(ins[1])
            if pads is None:
                raise Refuse("its pads are not a constant")
            pads = [int(p) for p in list(pads)]
            axes = None
            if len(ins) > 3 and ins[3]:
                axes = self._const_value(ins[3])
                if axes is None:
                    raise Refuse("its axes are not a constant")
                axes = [int(ax) + 4 if int(ax) < 0 else int(ax) for ax in list(axes)]
        else:
            pads, axes = [int(p) for p in a.get("pads", ())], None
        axes = axes if axes is not None else list(range(len(pads) // 2))
        if len(pads) != 2 * len(axes):
            raise Refuse(f"pads {pads} do not match the axes {axes}")
        begin = dict(zip(axes, pads[:len(axes)]))
        end = dict(zip(axes, pads[len(axes):]))
        if any(begin.get(ax, 0) or end.get(ax, 0) for ax in (0, 1)):
            raise Refuse(f"pads {pads} pad the batch or the channels; only height and width")
        if any(p < 0 for p in pads):
            raise Refuse(f"pads {pads} crop; only non-negative padding")
        pad = (begin.get(2, 0), end.get(2, 0), begin.get(3, 0), end.get(3, 0))
        padded = Val(v.layer, pad=self._plus(pad, v.pad), pad_node=v.pad_node or label)
        self._check_output(out, padded)
        self.vals[out] = padded

    def _fold(self, node, label, ins, out) -> None:
        v = self._data(ins[0], reader=label)
        others = [x for x in ins[1:] if x and x in self.vals]
        if others:
            raise Refuse(f"its input '{others[0]}' is a tensor of the network; only constant parameters")
        if node.op_type in FLAT_FOLDED_OPS:
            layer_shape = self.shapes_of.get(v.layer)
            if not v.flat and (layer_shape is None or layer_shape[1:] != (1, 1)):
                raise Refuse("a softmax over a feature map; only on a flat tensor (a classifier's output)")
        if node.op_type == "BatchNormalization":
            self._set_bias(v.layer)
        self._check_output(out, v)
        self.vals[out] = v


__all__ = ["AFFINE_OPS", "EXPLAINED_OPS", "FLAT_FOLDED_OPS", "FOLDED_OPS", "LAYER_OPS", "NodeMapper", "Refuse",
           "SHAPE_OPS", "SUPPORTED_OPS", "Skip", "VIEW_OPS", "Val"]
