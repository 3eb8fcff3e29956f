"""The ONNX import (the table of :mod:`optimus_opt.io.onnx`): :func:`read_onnx` reads a model as a
:class:`~optimus_opt.model.network.Network` with its batch and what became of every node (:class:`OnnxImport`),
and :func:`import_report` prints that for ``import-onnx --check``. :class:`Importer` runs one import: the graph
steps of :mod:`.onnx_graph` around the node rules of :mod:`.onnx_ops`, so that one refusal lists every problem.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from ..model.errors import InstanceError
from ..model.network import OPS, Layer, Network, Shape
from .onnx_common import Namer, format_dims, onnx_module, tensor_dims
from .onnx_graph import SMALL_CONSTANT, infer_shapes, load_model, needed_nodes, network_inputs, sorted_nodes
from .onnx_ops import (
    AFFINE_OPS,
    EXPLAINED_OPS,
    FLAT_FOLDED_OPS,
    FOLDED_OPS,
    LAYER_OPS,
    SHAPE_OPS,
    SUPPORTED_OPS,
    VIEW_OPS,
    NodeMapper,
    Refuse,
    Skip,
    Val,
)

#: Names exporters give every graph; a network takes the file's stem instead.
_GENERIC_GRAPH_NAMES = ("", "main_graph", "torch_jit", "torch-jit-export", "tf2onnx", "graph")

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
        model = load_model(onnx, file)
    if input_shape is not None:
        input_shape = tuple(input_shape)
        if len(input_shape) != 3 or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0
                                            for v in input_shape):
            raise InstanceError(f"the input shape must be three positive integers C, H, W, got {list(input_shape)}",
                                file=file, field="input_shape")
    stem = Path(file).stem if file else "onnx"
    return Importer(onnx, model, file, stem, input_shape, batch).run()


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


# -- import ----------------------------------------------------------------------------------------------------

class Importer(NodeMapper):
    """One import of a model: select the nodes that reach a graph output, check and fix the network inputs' sizes,
    run shape inference, map every node in order by the rules of :class:`~optimus_opt.io.onnx_ops.NodeMapper`
    (collecting every problem rather than stopping at the first), then build the network."""

    def __init__(self, onnx: Any, model: Any, file: str | None, stem: str,
                 input_shape: tuple[int, int, int] | None, batch: int | None) -> None:
        super().__init__(onnx, model, file)
        self.stem = stem
        self.input_shape = input_shape
        self.want_batch = batch
        self.poisoned: set[str] = set()

    def fail(self, head: str) -> InstanceError:
        lines = "\n  ".join(self.problems)
        return InstanceError(f"{head}:\n  {lines}", file=self.file)

    def run(self) -> OnnxImport:
        """Import the model: pick the nodes that reach an output, fix the inputs' sizes, run shape inference, map
        every node in order, then build the network, or raise one error listing every problem found."""
        self._index_constants()
        nodes = self._select_nodes()
        net_inputs = network_inputs(self.graph, self.nodes, self.inits)
        if not net_inputs:
            self.problems.append("the model has no network input (a graph input [N, C, H, W] that a node reads)")
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
            and math.prod(t.dims) <= SMALL_CONSTANT}

    def _select_nodes(self) -> list:
        """Every node in a topological order (returned, for the tally); keep the ones that reach a graph output as
        the nodes to map, index their readers, and give the others the role "unused"."""
        nodes = sorted_nodes(self.graph, {x.name for x in self.graph.input} | set(self.inits), self.file)
        needed = needed_nodes(self.graph, nodes)
        self.nodes = [n for n in nodes if id(n) in needed]
        self.readers = {}
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
        fixed = {gi.name: (self.batch, *self.input_dims[gi.name]) for gi in net_inputs}
        self.shapes = infer_shapes(self.onnx, self.model, fixed, self.inits, self.file)
        return batch

    def _seed_values(self, net_inputs: list) -> None:
        """What is known before any node is mapped: each network input's layer holds its graph input, and every
        initializer, and every other graph input (a weight given with its shape only), is a constant."""
        for gi in net_inputs:
            c, h, w = self.input_dims[gi.name]
            name = self.names[("input", gi.name)]
            self.vals[gi.name] = Val(name)
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
                raise Refuse(f"its output '{extra[0]}' is used; only the first output of this op can be")
            layers_before = len(self.order)
            self.map_node(node, label)
            added = self.layers[self.order[-1]].op if len(self.order) > layers_before else None
            self.roles[id(node)] = "view" if added == "concat" or (
                added is None and node.op_type in VIEW_OPS + EXPLAINED_OPS) else "layer" if added else "folded"
        except Refuse as why:
            absent = [x for x in node.input if x in self.absent_constants]
            note = f"; its input '{absent[0]}' is a constant kept in the external data file " \
                   f"'{self.absent_constants[absent[0]]}', which is missing" if absent else ""
            self.problems.append(f"node '{label}' ({node.op_type}): {why}{note}")
            self.poisoned.update(node.output)
        except Skip:
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


__all__ = ["NODE_ROLES", "Importer", "NodeTally", "OnnxImport", "import_report", "network_from_onnx",
           "parse_input_shape", "read_onnx"]
