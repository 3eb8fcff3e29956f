"""The ONNX boundary: read an ONNX model as a :class:`~optimus_opt.model.network.Network` (this module), and write a
network as a shape-only ONNX graph (:mod:`optimus_opt.io.onnx_export`).

**Import** (:func:`read_onnx`, :func:`network_from_onnx`) runs ONNX shape inference with the model's input sizes
fixed, then maps each node that computes on the network's data:

=========================================================  =====================================================
ONNX                                                       layer (formulations/cost-model.md §1)
=========================================================  =====================================================
Conv (2-D: group, dilations, pads, strides, auto_pad)      ``conv``; a bias input gives ``bias: true``
MaxPool / AveragePool (pads, strides, auto_pad, ceil_mode) ``pool`` mode max / avg; ceil_mode=1 becomes extra
                                                           bottom/right padding with the same output size
GlobalAveragePool / GlobalMaxPool                          ``pool`` with ``global: true``
ReduceMean / ReduceMax over height and width (axes 2, 3)   ``pool`` with ``global: true``, mode avg / max;
                                                           keepdims=0 leaves it flattened
Gemm, or MatMul by a constant, on a flattened tensor       ``fc``; Gemm's C input gives ``bias: true``
Add, Sum / Mul of tensors of equal shape, or of            ``add`` / ``mul`` (a broadcast operand: cost model
[N, C, 1, 1] operands broadcast over [N, C, H, W]          version 2, as a squeeze-and-excitation gate)
Concat along channels (axis 1), of one input or more       ``concat`` (a view: no group computes it)
Resize / Upsample, nearest, one integer scale for H and W  ``upsample``
=========================================================  =====================================================

Folded into the layer that produces their input (they add no layer): BatchNormalization (which gives a conv or fc
producer ``bias: true``, as a folded batch-norm leaves a per-channel bias), Relu, Clip, Sigmoid, HardSigmoid,
HardSwish, LeakyRelu, PRelu, Tanh, Elu, Selu, Softplus, Mish, Gelu, LRN, Dropout, Identity, Cast, QuantizeLinear,
DequantizeLinear, Softmax on a flat tensor, an Add/Sub/Mul/Div by a constant (an Add of one constant per channel
gives a bias), a product or sum of two foldings of the same tensor (``x * sigmoid(x)``), and the views Flatten,
Reshape, Squeeze and Unsqueeze to ``[N, C·H·W]`` or back to the producer's own shape (through ``[N, C, 1]`` for
a (C, 1, 1) map, as two Unsqueezes do), and a Transpose that moves only axes of size 1. A Pad (any mode, on H and W
only) is folded into the padding of the Conv or pooling nodes it feeds. Nodes that only compute on constants or
shapes (Shape, Gather, Constant, Identity of a weight...) are ignored; so are nodes whose results reach no graph
output. Any other Transpose is refused with the reason, and a channel shuffle (Reshape to [N, g, C/g, H, W],
Transpose of the group axes, Reshape back, as in ShuffleNet) is refused as one, naming its three nodes: the cost
model has no op that reorders channels.

Layer names are the node names (``{op_type}_{index}`` for an unnamed node), made unique with ``_2``, ``_3``...;
input layers take the graph input's name. Weights may be initializers or graph inputs with shapes only (as in the
shape-only files other accelerator tools ship); weight values are never read. A graph input that is read only in
weight or bias slots (Conv W and B, Gemm B and C, MatMul B, BatchNormalization's parameters), directly or through
the Identity nodes exporters put in front of weights they de-duplicate, is a weight whatever its rank. Weights in
external data files are not loaded (only their dims, which the model holds, are read), so the files may be absent.
:attr:`OnnxImport.nodes` says what became of every node (:class:`NodeTally`); :func:`import_report` prints it with
the network's layers, weights and MACs (``import-onnx --check``).

The batch is the first dimension of the model's inputs: a fixed N is recorded (:attr:`OnnxImport.batch`), a
symbolic one is allowed and treated as 1 for shape inference. A symbolic channel or spatial dimension is refused
unless ``input_shape`` gives (C, H, W). Every refusal is one :class:`~optimus_opt.model.errors.InstanceError` naming
the file and listing every offending node with its op type; nothing is half-imported.

**Export** (:func:`~optimus_opt.io.onnx_export.network_to_onnx`) is the other direction, in
:mod:`optimus_opt.io.onnx_export`.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from ..model.errors import InstanceError, OptimusError
from ..model.network import OPS, Layer, Network, Shape, infer_shape
from ..utils import extras

#: The opset and IR version of exported files (opset 17 / IR 8: read by every current ONNX tool).
EXPORT_OPSET = 17
EXPORT_IR_VERSION = 8

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

#: Operand slots of these ops may each carry network data (other ops carry it only in slot 0).
_MULTI_DATA_OPS = ("Add", "Sub", "Mul", "Div", "Sum", "Concat", "Max", "Min", "Mean")
#: Element types of feature maps (TensorProto FLOAT, FLOAT16, DOUBLE, BFLOAT16; 0: undeclared).
_FLOAT_TYPES = (0, 1, 10, 11, 16)
#: Names exporters give every graph; a network takes the file's stem instead.
_GENERIC_GRAPH_NAMES = ("", "main_graph", "torch_jit", "torch-jit-export", "tf2onnx", "graph")
#: Initializers with more elements than this are replaced by shape-only inputs before shape inference.
_SMALL_CONSTANT = 64


def onnx_module():
    try:
        import onnx
    except ImportError:
        raise OptimusError(extras.missing_message("onnx", "ONNX import and export need")) from None
    return onnx


#: What the import made of a node (:class:`NodeTally`), in the order the report lists them.
NODE_ROLES = ("layer", "folded", "view", "constant", "unused")


@dataclass(frozen=True)
class NodeTally:
    """How the import used the nodes of one ONNX op type, so that a reader can check at a glance that nothing of
    the network was lost: how many became a layer, were folded into the layer that produces their input
    (activations, batch-norm, biases, Pad, ``x * sigmoid(x)``), were views (Flatten, Reshape, Squeeze, Unsqueeze,
    and Concat, a ``concat`` node of the network that moves no bytes), computed on constants or shapes only
    (weights behind Identity nodes, Shape, Gather), or reach no graph output."""

    op_type: str
    layer: int = 0
    folded: int = 0
    view: int = 0
    constant: int = 0
    unused: int = 0

    @property
    def total(self) -> int:
        return self.layer + self.folded + self.view + self.constant + self.unused


@dataclass(frozen=True)
class OnnxImport:
    """What :func:`read_onnx` found: the network, the model's batch (``None`` when the batch is symbolic), and how
    every node of the graph was used (:class:`NodeTally`, one per op type, in order of first appearance)."""

    network: Network
    batch: int | None
    file: str | None = None
    nodes: tuple[NodeTally, ...] = ()


def network_from_onnx(source: Any, input_shape: Sequence[int] | None = None, batch: int | None = None) -> Network:
    """The network of an ONNX model (a path, or an ``onnx.ModelProto``).

    Parameters
    ----------
    input_shape:
        (C, H, W) of the model's one input, replacing what the model declares (needed where it declares a
        symbolic channel or spatial size).
    batch:
        The batch the network will run at (the instance's); a model with another fixed batch is refused.

    Raises
    ------
    InstanceError
        The model cannot be read, or has nodes or shapes the cost model has no layer for; the message lists every
        offending node.
    """
    return read_onnx(source, input_shape=input_shape, batch=batch).network


def read_onnx(source: Any, input_shape: Sequence[int] | None = None, batch: int | None = None) -> OnnxImport:
    """Like :func:`network_from_onnx`, also returning the model's batch."""
    onnx = onnx_module()
    if isinstance(source, onnx.ModelProto):
        model, file = source, None
    else:
        file = str(source)
        model = _load_model(onnx, file)
    if input_shape is not None:
        input_shape = tuple(input_shape)
        if len(input_shape) != 3 or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0
                                            for v in input_shape):
            raise InstanceError(f"the input shape must be three positive integers C, H, W, got {list(input_shape)}",
                                file=file, field="input_shape")
    stem = Path(file).stem if file else "onnx"
    return _Importer(onnx, model, file, stem, input_shape, batch).run()


def import_report(found: OnnxImport) -> str:
    """What ``import-onnx --check`` prints: the imported network's inputs, outputs, layers by op, weights and MACs,
    then every ONNX node type of the file with what the import made of its nodes (:class:`NodeTally`) and the ops
    it folded, so that a researcher can see at a glance that the import is the network they meant (a layer count
    or a weight total that differs from the paper's says that something was folded or cut that should not be)."""
    net = found.network
    batch = f"batch {found.batch}" if found.batch is not None else "a dynamic batch"
    lines = [f"{found.file or 'model'}: network '{net.name}', {batch}"]
    lines += [f"  input    {net.layers[i].name} {list(net.shapes[i])}" for i in net.input_ids]
    lines += [f"  output   {o} {list(net.shape(o))}" for o in net.outputs or ()]
    kinds = Counter(layer.op for layer in net.layers)
    by_op = ", ".join(f"{op} {kinds[op]}" for op in OPS if kinds[op] and op not in ("input", "concat"))
    views = f"; {kinds['concat']} concat views (no layer)" if kinds["concat"] else ""
    lines.append(f"  layers   {len(net.layer_ids)} ({by_op}){views}")
    lines.append(f"  weights  {net.total_weight_words:,} words ({net.total_weight_words / 1e6:.2f} M; a folded "
                 "batch-norm leaves one bias word per channel)")
    lines.append(f"  MACs     {net.total_macs:,} per sample ({net.total_macs / 1e9:.3f} G)")
    total = sum(t.total for t in found.nodes)
    width = max([len("op type")] + [len(t.op_type) for t in found.nodes])
    lines.append(f"  nodes    {total} ONNX nodes, by what the import made of them:")
    lines.append(f"    {'op type':<{width}} {'nodes':>6} " + " ".join(f"{role:>8}" for role in NODE_ROLES))
    for t in found.nodes:
        lines.append(f"    {t.op_type:<{width}} {t.total:>6} "
                     + " ".join(f"{getattr(t, role):>8}" for role in NODE_ROLES))
    folded = [f"{t.op_type} {t.folded}" for t in found.nodes if t.folded]
    lines.append("  folded   " + (", ".join(folded) if folded else "nothing"))
    return "\n".join(lines)


def parse_input_shape(text: str) -> tuple[int, int, int]:
    """``"3x224x224"`` (or ``3,224,224``) → (3, 224, 224)."""
    parts = text.lower().replace(",", "x").split("x")
    try:
        dims = tuple(int(p) for p in parts)
    except ValueError:
        raise ValueError(f"expected CxHxW, for example 3x224x224, got {text!r}") from None
    if len(dims) != 3 or min(dims) < 1:
        raise ValueError(f"expected three positive sizes CxHxW, for example 3x224x224, got {text!r}")
    return dims  # type: ignore[return-value]


def _load_model(onnx, file: str):
    path = Path(file)
    if not path.is_file():
        raise InstanceError("ONNX file not found", file=file)
    try:
        model = onnx.load(file, load_external_data=False)
    except Exception as err:  # onnx raises protobuf's DecodeError, and OSError
        raise InstanceError(f"not a readable ONNX model: {err}", file=file) from None
    if not model.graph.node and not model.graph.input:
        raise InstanceError("not a readable ONNX model: the graph is empty", file=file)
    # Weights in external data files are never read (only their dims, which the model holds), so the files may be
    # absent. Small constants kept there are loaded where the file is present, as shape inference may need them
    # (a Reshape's target shape).
    from onnx.external_data_helper import load_external_data_for_tensor, uses_external_data

    for init in model.graph.initializer:
        if uses_external_data(init) and math.prod(init.dims) <= _SMALL_CONSTANT:
            try:
                load_external_data_for_tensor(init, str(path.parent))
            except Exception:  # a missing or unreadable file (OSError), or a location onnx refuses (ValueError)
                continue
            init.data_location = onnx.TensorProto.DEFAULT  # as recent onnx versions do: the data is now inline
            del init.external_data[:]
    return model


# -- import ----------------------------------------------------------------------------------------------------

class _Refuse(Exception):
    """A node the import cannot map; the message says why."""


class _Skip(Exception):
    """A node that cannot be mapped because of a problem already reported at another node."""


@dataclass(frozen=True)
class _Val:
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


def tensor_dims(type_proto) -> tuple[int | None, ...] | None:
    """The dims of a tensor type (None for a symbolic or unknown dim), or None without a known rank."""
    if not type_proto.HasField("tensor_type") or not type_proto.tensor_type.HasField("shape"):
        return None
    return tuple(d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None
                 for d in type_proto.tensor_type.shape.dim)


def format_dims(dims: Iterable[int | None] | None) -> str:
    if dims is None:
        return "[unknown rank]"
    return "[" + ", ".join("?" if d is None else str(d) for d in dims) + "]"


def _ceil_windows(size: int, begin: int, total: int, kernel: int, stride: int) -> int:
    """Windows of a ceil-mode pool along one axis."""
    n = -(-(size + total - kernel) // stride) + 1
    if (n - 1) * stride >= size + begin:
        n -= 1
    return n


class _Importer:
    def __init__(self, onnx, model, file: str | None, stem: str, input_shape: tuple[int, int, int] | None,
                 batch: int | None) -> None:
        self.onnx = onnx
        self.model = model
        self.graph = model.graph
        self.file = file
        self.stem = stem
        self.input_shape = input_shape
        self.want_batch = batch
        self.problems: list[str] = []
        self.layers: dict[str, Layer] = {}
        self.order: list[str] = []
        self.shapes_of: dict[str, Shape] = {}
        self.vals: dict[str, _Val] = {}
        self.poisoned: set[str] = set()
        self.consts: dict[str, Any] = {}  # value name → the node or initializer that defines it (None: unknown)
        self.pad_problem_nodes: set[str] = set()

    # -- driver --------------------------------------------------------------------------------------------

    def fail(self, head: str) -> InstanceError:
        lines = "\n  ".join(self.problems)
        return InstanceError(f"{head}:\n  {lines}", file=self.file)

    def run(self) -> OnnxImport:
        """Import the model: pick the nodes that reach an output, fix the inputs' sizes, run shape inference, map
        every node in order, then build the network, or raise one error listing every problem found."""
        self._index_constants()
        nodes = self._select_nodes()
        net_inputs = self._network_inputs()
        self.names = self._node_names(nodes, net_inputs)
        batch = self._fix_inputs(net_inputs)
        self._seed_values(net_inputs)
        unsupported = self._map_nodes()
        outputs = self._outputs()
        self._refuse_problems(unsupported)
        return OnnxImport(self._network(net_inputs, outputs), batch, self.file, self._tally(nodes))

    def _index_constants(self) -> None:
        """Index the initializers, and the small constants whose external data file could not be read (weights are
        never read, so only these matter: a refusal that needs one names its missing file)."""
        g = self.graph
        self.inits = {t.name: t for t in g.initializer}
        self.inits.update({t.values.name: t.values for t in g.sparse_initializer})
        self.absent_constants = {
            t.name: {e.key: e.value for e in t.external_data}.get("location", "?") for t in g.initializer
            if self.onnx.external_data_helper.uses_external_data(t) and not t.HasField("raw_data")
            and math.prod(t.dims) <= _SMALL_CONSTANT}

    def _select_nodes(self) -> list:
        """Every node in a topological order (returned, for the tally); keep the ones that reach a graph output as
        the nodes to map, index their readers, and give the others the role "unused"."""
        nodes = self._sorted_nodes()
        needed = self._needed(nodes)
        self.nodes = [n for n in nodes if id(n) in needed]
        self.readers: dict[str, list] = {}
        for n in self.nodes:
            for x in dict.fromkeys(i for i in n.input if i):
                self.readers.setdefault(x, []).append(n)
        self.roles: dict[int, str] = {id(n): "unused" for n in nodes if id(n) not in needed}
        return nodes

    def _fix_inputs(self, net_inputs: list) -> int | None:
        """Check the network inputs (refusing the model if they are wrong, before shape inference could fail on
        them), then run shape inference with their sizes fixed; return the model's batch (None when symbolic)."""
        batch = self._check_inputs(net_inputs)
        if self.problems:
            if self.batch_problem:
                self.problems.append(self.batch_problem)
            raise self.fail("cannot import the model's inputs")
        self.batch = batch if batch is not None else 1
        self.shapes = self._infer_shapes(net_inputs)
        return batch

    def _seed_values(self, net_inputs: list) -> None:
        """What is known before any node is mapped: each network input's layer holds its graph input, and every
        initializer, and every other graph input (a weight given with its shape only), is a constant."""
        for gi in net_inputs:
            c, h, w = self.input_dims[gi.name]
            name = self.names[("input", gi.name)]
            self.vals[gi.name] = _Val(name)
            self.input_layers[gi.name] = Layer(name=name, op="input", shape=(c, h, w))
            self.shapes_of[name] = (c, h, w)
        for name in self.inits:
            self.consts[name] = self.inits[name]
        for gi in self.graph.input:
            if gi.name not in self.vals and gi.name not in self.consts:
                self.consts[gi.name] = None  # a weight given as a shape-only input

    def _map_nodes(self) -> bool:
        """Map every node that reaches an output, in order, collecting the problems; True where some node's op is
        unsupported (the refusal then lists the ops the cost model has)."""
        used = self._used_values()
        unsupported = False
        for node in self.nodes:
            if self._map_node(node, used):
                unsupported = True
        return unsupported

    def _map_node(self, node, used: set[str]) -> bool:
        """Map one node: a node that computes on constants only is a constant; one whose op is unsupported, or that
        reads a value a problem already poisoned, poisons its outputs. True where the op is unsupported."""
        label = self.names[id(node)]
        data = [x for x in node.input if x and (x in self.vals or x in self.poisoned)]
        if node.op_type in SHAPE_OPS and node.domain in ("", "ai.onnx") or not data:
            for out in node.output:
                self.consts[out] = node
            self.roles[id(node)] = "constant"
            return False
        if node.domain not in ("", "ai.onnx") or node.op_type not in SUPPORTED_OPS:
            domain = f" of domain '{node.domain}'" if node.domain not in ("", "ai.onnx") else ""
            self.problems.append(f"node '{label}' ({node.op_type}): unsupported op{domain}")
            self.poisoned.update(node.output)
            return True
        if any(x in self.poisoned for x in data):
            self.poisoned.update(node.output)
        else:
            self._map_supported(node, label, used)
        return False

    def _map_supported(self, node, label: str, used: set[str]) -> None:
        """Map a node of a supported op that reads the network's data and note its role; a refusal becomes a
        problem (naming a missing external data file where one is the cause) and poisons the node's outputs."""
        extra = [o for o in node.output[1:] if o and o in used]
        try:
            if extra:
                raise _Refuse(f"its output '{extra[0]}' is used; only the first output of this op can be")
            layers_before = len(self.order)
            self._map(node, label)
            added = self.layers[self.order[-1]].op if len(self.order) > layers_before else None
            self.roles[id(node)] = "view" if added == "concat" or (
                added is None and node.op_type in VIEW_OPS + EXPLAINED_OPS) else "layer" if added else "folded"
        except _Refuse as why:
            absent = [x for x in node.input if x in self.absent_constants]
            note = f"; its input '{absent[0]}' is a constant kept in the external data file " \
                   f"'{self.absent_constants[absent[0]]}', which is missing" if absent else ""
            self.problems.append(f"node '{label}' ({node.op_type}): {why}{note}")
            self.poisoned.update(node.output)
        except _Skip:
            self.poisoned.update(node.output)

    def _refuse_problems(self, unsupported: bool) -> None:
        """Raise one error listing every problem (a batch that differs from the instance's first), if any."""
        if self.batch_problem:
            self.problems.insert(0, self.batch_problem)
        if self.problems:
            if unsupported:
                self.problems.append("(the cost model has layers for " + ", ".join(LAYER_OPS) + "; it folds "
                                     + ", ".join(FOLDED_OPS + VIEW_OPS + FLAT_FOLDED_OPS + AFFINE_OPS)
                                     + " and Pad)")
            raise self.fail("cannot import the model")

    def _network(self, net_inputs: list, outputs: list[str]) -> Network:
        """The network of the mapped layers, with the network inputs that some layer reads."""
        read = {src for layer in self.layers.values() for src in layer.inputs}
        inputs = [self.input_layers[gi.name] for gi in net_inputs if self.input_layers[gi.name].name in read]
        layers = inputs + [self.layers[n] for n in self.order]
        name = self.graph.name if self.graph.name not in _GENERIC_GRAPH_NAMES else self.stem
        try:
            return Network(name, tuple(layers), outputs=tuple(outputs))
        except InstanceError as err:
            raise err.in_file(self.file) from None

    def _tally(self, nodes: list) -> tuple[NodeTally, ...]:
        """How many nodes of each op type took each role (:data:`NODE_ROLES`), op types in order of appearance."""
        counts: dict[str, dict[str, int]] = {}
        for n in nodes:
            kind = n.op_type if n.domain in ("", "ai.onnx") else f"{n.domain}.{n.op_type}"
            row = counts.setdefault(kind, dict.fromkeys(NODE_ROLES, 0))
            row[self.roles[id(n)]] += 1
        return tuple(NodeTally(op, **row) for op, row in counts.items())

    # -- graph structure -----------------------------------------------------------------------------------

    def _sorted_nodes(self) -> list:
        """The nodes in a topological order (ONNX requires one; an unsorted file is sorted here, stably)."""
        nodes = list(self.graph.node)
        known = {x.name for x in self.graph.input} | set(self.inits) | {""}
        producer = {o: i for i, n in enumerate(nodes) for o in n.output}
        order: list = []
        done = [False] * len(nodes)
        avail = set(known)
        progress = True
        while progress and len(order) < len(nodes):
            progress = False
            for i, n in enumerate(nodes):
                if not done[i] and all(x in avail or x not in producer for x in n.input):
                    done[i] = True
                    order.append(n)
                    avail.update(n.output)
                    progress = True
        if len(order) < len(nodes):
            stuck = [n for i, n in enumerate(nodes) if not done[i]]
            raise InstanceError(f"the graph has a cycle through {len(stuck)} node(s), for example "
                                f"'{stuck[0].name or stuck[0].op_type}' ({stuck[0].op_type})", file=self.file)
        return order

    def _needed(self, nodes: list) -> set[int]:
        """Nodes whose results reach a graph output."""
        producer = {o: n for n in nodes for o in n.output}
        needed: set[int] = set()
        stack = [o.name for o in self.graph.output]
        seen: set[str] = set()
        while stack:
            v = stack.pop()
            if v in seen or v not in producer:
                continue
            seen.add(v)
            n = producer[v]
            if id(n) not in needed:
                needed.add(id(n))
                stack.extend(x for x in n.input if x)
        return needed

    def _node_names(self, nodes: list, net_inputs: list) -> dict:
        """Unique layer names: graph inputs first, then nodes (``{op_type}_{index}`` for an unnamed node)."""
        unique = Namer()
        names: dict = {}

        for gi in net_inputs:
            names[("input", gi.name)] = unique(gi.name)
        for i, n in enumerate(nodes):
            names[id(n)] = unique(n.name or f"{n.op_type}_{i}")
        return names

    def _used_values(self) -> set[str]:
        used = {x for n in self.nodes for x in n.input if x}
        used.update(o.name for o in self.graph.output)
        return used

    def _network_inputs(self) -> list:
        """Graph inputs that carry the network's data, not weights given as shape-only inputs.

        Readers are looked up through Identity nodes (exporters put those in front of weights they de-duplicate).
        An input carries data where a node reads it in its first slot, or, for an op whose every operand may be data
        (Add, Mul, Concat...), where it is a 4-D tensor. So an input read only in weight or bias slots (Conv W and B,
        Gemm B and C, MatMul B, BatchNormalization's parameters, none of them a first slot) is a weight whatever its
        rank.
        """
        readers: dict[str, list] = {}
        for n in self.nodes:
            for slot, x in enumerate(n.input):
                if x:
                    readers.setdefault(x, []).append((n, slot))

        def uses(value: str, seen: set[str]) -> list[tuple[str, int]]:
            """(op type, slot) of every reader of ``value``, looking through Identity nodes."""
            found: list[tuple[str, int]] = []
            for n, slot in readers.get(value, ()):
                if n.op_type == "Identity" and n.domain in ("", "ai.onnx") and n.output[0] not in seen:
                    seen.add(n.output[0])
                    found.extend(uses(n.output[0], seen))
                else:
                    found.append((n.op_type, slot))
            return found

        found = []
        for gi in self.graph.input:
            if gi.name in self.inits:
                continue
            if gi.type.tensor_type.elem_type not in _FLOAT_TYPES:
                continue  # integer inputs (shapes, indices) are parameters
            dims = tensor_dims(gi.type)
            rank = len(dims) if dims is not None else None
            if any(rank == 4 if op in _MULTI_DATA_OPS else slot == 0 for op, slot in uses(gi.name, set())):
                found.append(gi)
        if not found:
            self.problems.append("the model has no network input (a graph input [N, C, H, W] that a node reads)")
        return found

    def _check_inputs(self, net_inputs: list) -> int | None:
        """Check the inputs' dims; fix (C, H, W) of each; return the fixed batch (None when symbolic)."""
        self.input_dims: dict[str, Shape] = {}
        self.input_layers: dict[str, Layer] = {}
        self.batch_problem: str | None = None
        if self.input_shape is not None and len(net_inputs) > 1:
            self.problems.append(f"--input-shape gives the shape of one input, but the model has {len(net_inputs)}: "
                                 + ", ".join(f"'{gi.name}'" for gi in net_inputs))
            return None
        batches: dict[str, int] = {}
        for gi in net_inputs:
            dims = tensor_dims(gi.type)
            what = f"input '{gi.name}'"
            if dims is None or len(dims) != 4:
                self.problems.append(f"{what}: shape {format_dims(dims)}: expected [N, C, H, W]")
                continue
            if dims[0] is not None:
                batches[gi.name] = dims[0]
            if self.input_shape is not None:
                self.input_dims[gi.name] = self.input_shape
                continue
            missing = [axis for axis, d in zip(("channels", "height", "width"), dims[1:]) if d is None]
            if missing:
                self.problems.append(f"{what}: shape {format_dims(dims)}: dynamic {', '.join(missing)} "
                                     "(only the batch may be dynamic; give the input shape, --input-shape CxHxW)")
                continue
            self.input_dims[gi.name] = (dims[1], dims[2], dims[3])  # type: ignore[assignment]
        if len(set(batches.values())) > 1:
            self.problems.append("the inputs have different batches: "
                                 + ", ".join(f"'{k}' {v}" for k, v in batches.items()))
            return None
        batch = next(iter(batches.values()), None)
        if batch is not None and self.want_batch is not None and batch != self.want_batch:
            first = next(iter(batches))
            self.batch_problem = (f"input '{first}': the model's batch is {batch} but the instance's batch is "
                                  f"{self.want_batch} (use batch {batch}, or export the model with a dynamic or "
                                  f"matching batch)")
        return batch

    def _infer_shapes(self, net_inputs: list) -> dict[str, tuple[int | None, ...] | None]:
        """Run ONNX shape inference on a light copy of the graph with the inputs' sizes fixed."""
        onnx, g = self.onnx, self.graph
        helper = onnx.helper
        fixed = {gi.name: (self.batch, *self.input_dims[gi.name]) for gi in net_inputs}
        inputs, inits = [], []
        for gi in g.input:
            if gi.name in fixed:
                elem = gi.type.tensor_type.elem_type or onnx.TensorProto.FLOAT
                inputs.append(helper.make_tensor_value_info(gi.name, elem, list(fixed[gi.name])))
            elif gi.name not in self.inits:
                inputs.append(gi)
        for t in g.initializer:
            if math.prod(t.dims) <= _SMALL_CONSTANT and not onnx.external_data_helper.uses_external_data(t):
                inits.append(t)
            else:  # weights: only their shape matters
                inputs.append(helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
        outputs = [helper.make_tensor_value_info(o.name, o.type.tensor_type.elem_type or onnx.TensorProto.FLOAT,
                                                 None) for o in g.output]
        light = helper.make_graph(list(g.node), g.name or "g", inputs, outputs, initializer=inits,
                                  sparse_initializer=list(g.sparse_initializer))
        model = helper.make_model(light, opset_imports=list(self.model.opset_import),
                                  functions=list(self.model.functions))
        model.ir_version = self.model.ir_version or EXPORT_IR_VERSION
        try:
            inferred = onnx.shape_inference.infer_shapes(model, check_type=False, strict_mode=False, data_prop=True)
        except Exception as err:  # a malformed model
            raise InstanceError(f"ONNX shape inference failed: {err}", file=self.file) from None
        shapes: dict[str, tuple[int | None, ...] | None] = {}
        for vi in list(inferred.graph.input) + list(inferred.graph.value_info) + list(inferred.graph.output):
            dims = tensor_dims(vi.type)
            if dims is not None or vi.name not in shapes:
                shapes[vi.name] = dims
        for t in g.initializer:
            shapes[t.name] = tuple(t.dims)
        return shapes

    def _outputs(self) -> list[str]:
        outs: list[str] = []
        for o in self.graph.output:
            if o.name in self.poisoned:
                continue
            v = self.vals.get(o.name)
            if v is None:
                self.problems.append(f"graph output '{o.name}': does not depend on a network input")
                continue
            if v.pad is not None:
                self._pad_problem(v, "it is a graph output")
                continue
            if v.layer not in self.layers:
                self.problems.append(f"graph output '{o.name}': is the network input '{v.layer}' itself")
                continue
            if v.layer not in outs:
                outs.append(v.layer)
        return outs

    # -- helpers for the mapping ---------------------------------------------------------------------------

    def _shape(self, value: str) -> tuple[int | None, ...] | None:
        return self.shapes.get(value)

    def _static(self, value: str, rank: int | None = None) -> tuple[int, ...]:
        dims = self._shape(value)
        if dims is None or any(d is None for d in dims):
            raise _Refuse(f"the shape of '{value}' is not static after shape inference ({format_dims(dims)}); give "
                          "--input-shape, or export the model with fixed sizes")
        if rank is not None and len(dims) != rank:
            raise _Refuse(f"'{value}' has shape {format_dims(dims)}, expected rank {rank}")
        return dims  # type: ignore[return-value]

    def _pad_problem(self, v: _Val, why: str) -> None:
        if v.pad_node not in self.pad_problem_nodes:
            self.pad_problem_nodes.add(v.pad_node or "")
            self.problems.append(f"node '{v.pad_node}' (Pad): {why}; a Pad is folded only into the Conv or "
                                 "pooling nodes it feeds")

    def _data(self, value: str, *, padded: bool = False, reader: str = "", view: bool = False) -> _Val:
        if value not in self.vals:
            raise _Refuse(f"reads the constant '{value}' where it takes the network's tensor")
        v = self.vals[value]
        if v.pad is not None and not padded:
            self._pad_problem(v, f"it feeds '{reader}'")
            raise _Skip()
        if v.between_views is not None and not view:
            raise _Refuse(f"reads '{value}' of shape {format_dims(v.between_views)}; expected [N, C, H, W] or a tensor "
                          "flattened to [N, C·H·W]")
        return v

    def _feature_map(self, value: str, reader: str, *, padded: bool = False) -> _Val:
        v = self._data(value, padded=padded, reader=reader)
        if v.flat:
            raise _Refuse(f"reads the flattened tensor '{value}' {format_dims(self._shape(value))}; "
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
        return self._evaluate_constant(value)

    def _evaluate_constant(self, value: str):
        """Run the nodes that compute a constant from other constants (as exporters compute a Pad's pads), with
        ONNX's reference evaluator; None where that fails."""
        onnx, helper = self.onnx, self.onnx.helper
        producer = {o: n for n in self.nodes for o in n.output}
        needed, stack, inits = [], [value], []
        seen: set[str] = set()
        while stack:
            v = stack.pop()
            if v in seen or not v:
                continue
            seen.add(v)
            if v in self.inits:
                inits.append(self.inits[v])
            elif v in producer:
                needed.append(producer[v])
                stack.extend(producer[v].input)
            else:
                return None  # a graph input: no value
        order = [n for n in self.nodes if any(n is m for m in needed)]
        try:
            from onnx.reference import ReferenceEvaluator

            graph = helper.make_graph(order, "constant", [], [helper.make_value_info(value, onnx.TypeProto())],
                                      initializer=inits)
            model = helper.make_model(graph, opset_imports=list(self.model.opset_import))
            model.ir_version = self.model.ir_version or EXPORT_IR_VERSION
            return ReferenceEvaluator(model).run(None, {})[0]
        except Exception:
            return None

    def _is_const(self, value: str) -> bool:
        return value in self.consts

    def _add_layer(self, layer: Layer, out_value: str, *, flat: bool = False) -> None:
        """Add a layer, checking its shape against ONNX's for the node's output (or filling that in)."""
        try:
            shape = infer_shape(layer, [self.shapes_of[i] for i in layer.inputs])
        except InstanceError as err:
            raise _Refuse(err.message) from None
        self.shapes_of[layer.name] = shape
        self._check_output(out_value, _Val(layer.name, flat=flat))
        self.layers[layer.name] = layer
        self.order.append(layer.name)
        self.vals[out_value] = _Val(layer.name, flat=flat)

    def _value_dims(self, v: _Val) -> tuple[int, ...]:
        """The ONNX shape a value has under the mapping: [N, C, H, W] (padded by a waiting Pad) or [N, C·H·W]."""
        c, h, w = self.shapes_of[v.layer]
        if v.between_views is not None:
            return v.between_views
        if v.flat:
            return (self.batch, c * h * w)
        t, b, l, r = v.pad or (0, 0, 0, 0)
        return (self.batch, c, h + t + b, w + l + r)

    def _check_output(self, out: str, v: _Val) -> None:
        """Check ONNX's shape of a node's output against the mapping's; where ONNX's is unknown (shape inference
        stops at values it cannot compute, as computed pads), the mapping's fills it in for the nodes below."""
        want = self._value_dims(v)
        dims = self._shape(out)
        if dims is not None and None not in dims:
            if tuple(dims) != want:
                raise _Refuse(f"ONNX gives its output the shape {format_dims(dims)}, "
                              f"the cost model {format_dims(want)}")
        elif dims is not None and (len(dims) != len(want) or any(d not in (None, e) for d, e in zip(dims, want))):
            raise _Refuse(f"ONNX gives its output the shape {format_dims(dims)}, the cost model {format_dims(want)}")
        else:
            self.shapes[out] = want

    def _set_bias(self, layer_name: str) -> None:
        layer = self.layers.get(layer_name)
        if layer is not None and layer.op in ("conv", "fc") and not layer.bias:
            self.layers[layer_name] = dataclasses.replace(layer, bias=True)

    # -- the mapping ---------------------------------------------------------------------------------------

    def _map(self, node, label: str) -> None:
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
            raise _Refuse("unsupported op")

    def _window(self, a: Mapping[str, Any], in_hw: tuple[int, int], kernel: tuple[int, int],
                dilation: tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int, int, int]]:
        strides = tuple(a.get("strides", (1, 1)))
        if len(strides) != 2:
            raise _Refuse(f"strides {list(strides)}: only 2-D windows")
        auto = a.get("auto_pad", "NOTSET") or "NOTSET"
        if auto == "NOTSET":
            pads = tuple(a.get("pads", (0, 0, 0, 0)))
            if len(pads) != 4:
                raise _Refuse(f"pads {list(pads)}: only 2-D windows")
            if any(p < 0 for p in pads):
                raise _Refuse(f"negative pads {list(pads)}")
            t, l, b, r = pads
            return (strides[0], strides[1]), (t, b, l, r)
        if auto == "VALID":
            return (strides[0], strides[1]), (0, 0, 0, 0)
        if auto not in ("SAME_UPPER", "SAME_LOWER"):
            raise _Refuse(f"auto_pad {auto!r} is not an ONNX value")
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
            raise _Refuse("has no weight input")
        if not self._is_const(ins[1]):
            raise _Refuse(f"its weights '{ins[1]}' are computed from the network input; only constant weights")
        wdims = self._shape(ins[1])
        if wdims is None or len(wdims) != 4:
            rank = "unknown" if wdims is None else len(wdims)
            raise _Refuse(f"weights of rank {rank}: only 2-D convolutions (weights [K, C/groups, kh, kw])")
        groups = int(a.get("group", 1))
        kernel = tuple(a.get("kernel_shape", wdims[2:]))
        if len(kernel) != 2 or any(k is None for k in kernel):
            raise _Refuse(f"kernel {format_dims(kernel)}: only 2-D convolutions")
        dilation = tuple(a.get("dilations", (1, 1)))
        stride, padding = self._window(a, (h, w), kernel, dilation)  # type: ignore[arg-type]
        padding = self._plus(padding, x.pad)
        k_out = wdims[0] if wdims[0] is not None else self._static(out, 4)[1]
        if wdims[1] is not None and wdims[1] * groups != c:
            raise _Refuse(f"weights {format_dims(wdims)} do not match {c} input channels, {k_out} output channels and "
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
            raise _Refuse(f"kernel_shape {list(kernel)}: only 2-D pooling")
        if any(d != 1 for d in a.get("dilations", (1, 1))):
            raise _Refuse(f"dilations {list(a['dilations'])}: the cost model's pool has no dilation")
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
            raise _Refuse("multiplies two tensors of the network; only a tensor by constant weights")
        x = self._data(ins[0], reader=label)
        xdims = self._static(ins[0])
        if not x.flat or len(xdims) != 2:
            raise _Refuse(f"reads '{ins[0]}' of shape {format_dims(xdims)}; "
                          "expected a tensor flattened to [N, C·H·W] (by Flatten or Reshape)")
        if op == "Gemm" and a.get("transA", 0):
            raise _Refuse("transA=1: only Gemm of the flattened input by weights")
        dims = self._static(out, 2)
        wdims = self._shape(ins[1])
        if wdims is not None and None not in wdims:
            want = (dims[1], xdims[1]) if op == "Gemm" and a.get("transB", 0) else (xdims[1], dims[1])
            if tuple(wdims) != want:
                raise _Refuse(f"weights {format_dims(wdims)} do not match {xdims[1]} inputs and {dims[1]} outputs")
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
            raise _Refuse(f"a {op} of two tensors is not an op of the cost model (only by a constant, folded)")
        if len({v.layer for v in vals}) == 1 and len(set(data)) > 1:
            # x * sigmoid(x), x + relu(x): a gate or activation of one tensor, folded into its producer
            self._check_output(out, vals[0])
            self.vals[out] = vals[0]
            return
        shapes = [self._static(x) for x in data]
        full = max(shapes, key=math.prod)
        gate = (full[0], full[1], 1, 1) if len(full) == 4 else None
        if any(s != full and s != gate for s in shapes):
            raise _Refuse(f"inputs of shapes {', '.join(format_dims(s) for s in shapes)}: "
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
        raise _Refuse(f"inputs of ranks {sorted(ranks)}; expected [N, C, H, W] or flattened [N, C·H·W] tensors")

    def _concat(self, node, label, a, ins, out) -> None:
        data = [x for x in ins if x]
        consts = [x for x in data if x not in self.vals]
        if consts:
            raise _Refuse(f"concatenates the constant '{consts[0]}'")
        vals = [self._data(x, reader=label) for x in data]
        rank = len(self._static(data[0]))
        axis = int(a.get("axis", 1))
        axis = axis + rank if axis < 0 else axis
        if axis != 1:
            named = {0: "the batch", 2: "height", 3: "width"}.get(axis, f"axis {axis}") if rank == 4 else \
                f"axis {axis}"
            raise _Refuse(f"concatenates along axis {a.get('axis', 1)} ({named}); only a concat on channels "
                          "(axis 1) is in the cost model")
        flat = self._flat_inputs(data)
        self._add_layer(Layer(name=label, op="concat", inputs=tuple(v.layer for v in vals)), out, flat=flat)

    def _upsample(self, node, label, a, ins, out) -> None:
        x = self._feature_map(ins[0], label)
        mode = a.get("mode", "nearest")
        if mode != "nearest":
            raise _Refuse(f"mode '{mode}': only nearest upsampling is in the cost model")
        n, c, h, w = self._static(ins[0], 4)
        n2, c2, ho, wo = self._static(out, 4)
        if (n2, c2) != (n, c) or ho % h or wo % w or ho // h != wo // w:
            raise _Refuse(f"resizes {format_dims((n, c, h, w))} to {format_dims((n2, c2, ho, wo))}: "
                          "only one integer scale for height and width")
        self._add_layer(Layer(name=label, op="upsample", inputs=(x.layer,), scale=ho // h), out)

    def _view(self, node, label, ins, out) -> None:
        v = self._data(ins[0], reader=label, view=True)
        dims = tuple(self._static(out))
        shape = self.shapes_of[v.layer]
        if not self._reshape(v, dims, out):
            shuffle = self._channel_shuffle(node, dims, shape) if not v.flat else None
            if shuffle is not None:
                raise _Refuse(shuffle)
            c, h, w = shape
            raise _Refuse(f"reshapes {format_dims(self._shape(ins[0]))} to {format_dims(dims)}; only a flatten to "
                          f"[N, C·H·W] = {format_dims((self.batch, c * h * w))} or back to "
                          f"{format_dims((self.batch, c, h, w))}")

    def _reshape(self, v: _Val, dims: tuple[int, ...], out: str) -> bool:
        """Give ``out`` the view ``dims`` of the layer that holds ``v``, if the cost model has it: flattened
        [N, C·H·W], the map [N, C, H, W] itself, or, for a (C, 1, 1) map, the step [N, C, 1] between two
        Unsqueezes."""
        c, h, w = self.shapes_of[v.layer]
        if dims == (self.batch, c * h * w):
            self.vals[out] = _Val(v.layer, flat=True)
        elif dims == (self.batch, c, h, w):
            self.vals[out] = _Val(v.layer, flat=False)
        elif (h, w) == (1, 1) and dims == (self.batch, c, 1):
            self.vals[out] = _Val(v.layer, between_views=dims)
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
        raise _Refuse(f"permutes the axes of {format_dims(dims)} by perm {perm}; the cost model keeps every tensor as "
                      "[N, C, H, W] (or flattened to [N, C·H·W]) and has no op that moves axes or reorders channels")

    def _reduce(self, node, label, a, ins, out) -> None:
        """ReduceMean / ReduceMax over height and width: a global average / max pool (keepdims=0 flattens it)."""
        x = self._feature_map(ins[0], label)
        self._static(ins[0], 4)
        if len(ins) > 1 and ins[1]:  # opset 18: the axes are an input
            given = self._const_value(ins[1])
            if given is None:
                raise _Refuse("its axes are not a constant")
            listed = given.tolist() if hasattr(given, "tolist") else given
            axes = [int(ax) for ax in (listed if isinstance(listed, list) else [listed])]
        else:
            axes = [int(ax) for ax in a.get("axes", ())]
        if not axes and int(a.get("noop_with_empty_axes", 0)):  # opset 18: no axes and this flag is an identity
            self._check_output(out, x)
            self.vals[out] = x
            return
        if not axes:
            raise _Refuse("reduces over every axis (no axes given); only a mean or max over height and width (a "
                          "global pool) is in the cost model")
        axes = sorted({ax + 4 if ax < 0 else ax for ax in axes})
        if axes != [2, 3]:
            named = ", ".join({0: "batch", 1: "channels", 2: "height", 3: "width"}.get(ax, str(ax)) for ax in axes)
            raise _Refuse(f"reduces over axes {axes} ({named}); only a mean or max over height and width (a global "
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
                raise _Refuse("its pads are not a constant")
            pads = [int(p) for p in list(pads)]
            axes = None
            if len(ins) > 3 and ins[3]:
                axes = self._const_value(ins[3])
                if axes is None:
                    raise _Refuse("its axes are not a constant")
                axes = [int(ax) + 4 if int(ax) < 0 else int(ax) for ax in list(axes)]
        else:
            pads, axes = [int(p) for p in a.get("pads", ())], None
        axes = axes if axes is not None else list(range(len(pads) // 2))
        if len(pads) != 2 * len(axes):
            raise _Refuse(f"pads {pads} do not match the axes {axes}")
        begin = dict(zip(axes, pads[:len(axes)]))
        end = dict(zip(axes, pads[len(axes):]))
        if any(begin.get(ax, 0) or end.get(ax, 0) for ax in (0, 1)):
            raise _Refuse(f"pads {pads} pad the batch or the channels; only height and width")
        if any(p < 0 for p in pads):
            raise _Refuse(f"pads {pads} crop; only non-negative padding")
        pad = (begin.get(2, 0), end.get(2, 0), begin.get(3, 0), end.get(3, 0))
        padded = _Val(v.layer, pad=self._plus(pad, v.pad), pad_node=v.pad_node or label)
        self._check_output(out, padded)
        self.vals[out] = padded

    def _fold(self, node, label, ins, out) -> None:
        v = self._data(ins[0], reader=label)
        others = [x for x in ins[1:] if x and x in self.vals]
        if others:
            raise _Refuse(f"its input '{others[0]}' is a tensor of the network; only constant parameters")
        if node.op_type in FLAT_FOLDED_OPS:
            layer_shape = self.shapes_of.get(v.layer)
            if not v.flat and (layer_shape is None or layer_shape[1:] != (1, 1)):
                raise _Refuse("a softmax over a feature map; only on a flat tensor (a classifier's output)")
        if node.op_type == "BatchNormalization":
            self._set_bias(v.layer)
        self._check_output(out, v)
        self.vals[out] = v


class Namer:
    """Hands out names not taken yet: ``base``, else ``base_2``, ``base_3``, ..."""

    def __init__(self, taken=()) -> None:
        self.taken = set(taken)

    def __call__(self, base: str) -> str:
        name, k = base, 1
        while name in self.taken:
            k += 1
            name = f"{base}_{k}"
        self.taken.add(name)
        return name
