"""The workload: layers, shape inference, weight and MAC counts, and the network DAG (formulations/cost-model.md §1).

A :class:`Network` is an immutable DAG of :class:`Layer` nodes kept in a stable topological order, so that a node's
position is its id everywhere else in the project (bitsets, arrays, solver variables). Every node produces one
tensor of shape (C, H, W) per sample; input nodes are network inputs and belong to no fusion group.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from .errors import InstanceError

OPS = ("input", "conv", "fc", "pool", "add", "mul", "concat", "upsample")
ELEMENTWISE = ("add", "mul")
#: Nodes that no group computes: network inputs live in DRAM, concats are views of their inputs.
VIEW_OPS = ("input", "concat")

#: The fields each op accepts besides ``name``, ``op`` and ``inputs`` (formulations/formats.md; unknown fields are an error).
OP_FIELDS: Mapping[str, tuple[str, ...]] = {
    "input": ("shape",),
    "conv": ("channels", "kernel", "stride", "padding", "dilation", "groups", "bias"),
    "fc": ("channels", "bias"),
    "pool": ("kernel", "stride", "padding", "global", "mode"),
    "add": (),
    "mul": (),
    "concat": (),
    "upsample": ("scale",),
}

Shape = tuple[int, int, int]


def _pair(value: Any, what: str, name: str) -> tuple[int, int]:
    if isinstance(value, bool):
        raise InstanceError(f"expected an int or [h, w], got {value!r}", layer=name, field=what)
    if isinstance(value, int):
        return (value, value)
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        return (value[0], value[1])
    raise InstanceError(f"expected an int or [h, w], got {value!r}", layer=name, field=what)


def _padding(value: Any, name: str) -> tuple[int, int, int, int]:
    """Normalise ``padding`` to (top, bottom, left, right)."""
    if isinstance(value, (list, tuple)) and len(value) == 4 and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        return (value[0], value[1], value[2], value[3])
    try:
        ph, pw = _pair(value, "padding", name)
    except InstanceError:
        raise InstanceError(f"expected an int, [h, w] or [top, bottom, left, right], got {value!r}",
                            layer=name, field="padding") from None
    return (ph, ph, pw, pw)


def _compact_pair(p: tuple[int, int]) -> int | list[int]:
    return p[0] if p[0] == p[1] else [p[0], p[1]]


@dataclass(frozen=True)
class Layer:
    """One node of the network, in normalised form (pairs and 4-tuples instead of the file's shorthands).

    ``kernel``, ``stride``, ``dilation`` are (h, w); ``padding`` is (top, bottom, left, right). For ``pool``,
    ``stride`` defaults to the kernel (formulations/cost-model.md §1). ``global_pool`` is the file's ``global`` field.
    """

    name: str
    op: str
    inputs: tuple[str, ...] = ()
    shape: Shape | None = None
    channels: int | None = None
    kernel: tuple[int, int] = (1, 1)
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int, int, int] = (0, 0, 0, 0)
    dilation: tuple[int, int] = (1, 1)
    groups: int = 1
    bias: bool = False
    global_pool: bool = False
    scale: int = 1
    mode: str = "max"

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise InstanceError(f"unknown op '{self.op}' (known: {', '.join(OPS)})", layer=self.name, field="op")
        positive = [("kernel", self.kernel), ("stride", self.stride), ("dilation", self.dilation),
                    ("groups", (self.groups,)), ("scale", (self.scale,))]
        if self.shape is not None:
            positive.append(("shape", self.shape))
        if self.channels is not None:
            positive.append(("channels", (self.channels,)))
        for what, values in positive:
            if any(v < 1 for v in values):
                raise InstanceError(f"must be positive, got {list(values)}", layer=self.name, field=what)
        if any(p < 0 for p in self.padding):
            raise InstanceError(f"must not be negative, got {list(self.padding)}", layer=self.name,
                                field="padding")
        if self.op == "input" and (self.shape is None or len(self.shape) != 3):
            raise InstanceError("an input needs shape [C, H, W]", layer=self.name, field="shape")
        if self.op in ("conv", "fc") and self.channels is None:
            raise InstanceError(f"{_a(self.op)} layer needs 'channels'", layer=self.name, field="channels")
        if self.mode not in ("max", "avg"):
            raise InstanceError(f"pool mode must be 'max' or 'avg', got {self.mode!r}", layer=self.name,
                                field="mode")

    # -- the file form ---------------------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Layer":
        """Build a layer from its formulations/formats.md dict, rejecting unknown and missing fields."""
        name = d.get("name")
        if not isinstance(name, str) or not name:
            raise InstanceError("every layer needs a non-empty string 'name'", field="name")
        op = d.get("op")
        if op not in OPS:
            raise InstanceError(f"unknown op {op!r} (known: {', '.join(OPS)})", layer=name, field="op")
        allowed = {"name", "op", "inputs", *OP_FIELDS[op]} - ({"inputs"} if op == "input" else set())
        for key in d:
            if key not in allowed:
                raise InstanceError(f"unknown field for op '{op}' (allowed: {', '.join(sorted(allowed))})",
                                    layer=name, field=key)
        kw: dict[str, Any] = {"name": name, "op": op}
        if op != "input":
            inputs = d.get("inputs")
            if inputs is None:
                raise InstanceError("missing field", layer=name, field="inputs")
            if isinstance(inputs, str):
                inputs = [inputs]
            if not isinstance(inputs, list) or not all(isinstance(i, str) for i in inputs):
                raise InstanceError(f"expected a list of layer names, got {inputs!r}", layer=name, field="inputs")
            kw["inputs"] = tuple(inputs)
        if op == "input":
            if "shape" not in d:
                raise InstanceError("missing field", layer=name, field="shape")
            shape = d["shape"]
            if not (isinstance(shape, list) and len(shape) == 3
                    and all(isinstance(v, int) and not isinstance(v, bool) for v in shape)):
                raise InstanceError(f"expected [C, H, W] of ints, got {shape!r}", layer=name, field="shape")
            kw["shape"] = tuple(shape)
        if op in ("conv", "fc"):
            if "channels" not in d:
                raise InstanceError("missing field", layer=name, field="channels")
            kw["channels"] = _int(d["channels"], name, "channels")
            kw["bias"] = _bool(d.get("bias", False), name, "bias")
        if op in ("conv", "pool"):
            is_global = op == "pool" and _bool(d.get("global", False), name, "global")
            if "kernel" not in d and not is_global:
                raise InstanceError("missing field", layer=name, field="kernel")
            if "kernel" in d:
                kw["kernel"] = _pair(d["kernel"], "kernel", name)
            if "stride" in d:
                kw["stride"] = _pair(d["stride"], "stride", name)
            elif op == "pool":
                kw["stride"] = kw.get("kernel", (1, 1))
            if "padding" in d:
                kw["padding"] = _padding(d["padding"], name)
        if op == "conv":
            if "dilation" in d:
                kw["dilation"] = _pair(d["dilation"], "dilation", name)
            kw["groups"] = _int(d.get("groups", 1), name, "groups")
        if op == "pool":
            kw["global_pool"] = _bool(d.get("global", False), name, "global")
            if "mode" in d:
                kw["mode"] = d["mode"]
        if op == "upsample":
            if "scale" not in d:
                raise InstanceError("missing field", layer=name, field="scale")
            kw["scale"] = _int(d["scale"], name, "scale")
        return cls(**kw)

    def to_dict(self) -> dict[str, Any]:
        """The compact formulations/formats.md dict; ``Layer.from_dict(layer.to_dict()) == layer``."""
        d: dict[str, Any] = {"name": self.name, "op": self.op}
        if self.op == "input":
            d["shape"] = list(self.shape or ())
            return d
        d["inputs"] = list(self.inputs)
        if self.op in ("conv", "fc"):
            d["channels"] = self.channels
        if self.op == "conv" or (self.op == "pool" and not self.global_pool):
            d["kernel"] = _compact_pair(self.kernel)
            if self.stride != (self.kernel if self.op == "pool" else (1, 1)):
                d["stride"] = _compact_pair(self.stride)
            if any(self.padding):
                t, b, l, r = self.padding
                d["padding"] = t if t == b == l == r else ([t, l] if (t == b and l == r) else [t, b, l, r])
        if self.op == "conv":
            if self.dilation != (1, 1):
                d["dilation"] = _compact_pair(self.dilation)
            if self.groups != 1:
                d["groups"] = self.groups
        if self.op == "pool":
            if self.global_pool:
                d["global"] = True
            if self.mode != "max":
                d["mode"] = self.mode
        if self.op in ("conv", "fc") and self.bias:
            d["bias"] = True
        if self.op == "upsample":
            d["scale"] = self.scale
        return d


def _int(value: Any, name: str, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InstanceError(f"expected an integer, got {value!r}", layer=name, field=what)
    return value


def _bool(value: Any, name: str, what: str) -> bool:
    if not isinstance(value, bool):
        raise InstanceError(f"expected true or false, got {value!r}", layer=name, field=what)
    return value


def _a(word: str) -> str:
    """``word`` with its indefinite article: ``an add``, ``a conv``, ``an upsample``."""
    return ("an " if word[:1] in "aeiou" else "a ") + word


def infer_shape(layer: Layer, in_shapes: Sequence[Shape]) -> Shape:
    """The output shape (C, H, W) of ``layer`` given the shapes of its inputs (formulations/cost-model.md §1).

    Raises
    ------
    InstanceError
        On a wrong number of inputs, mismatched shapes, channels not divisible by groups, or a kernel larger than
        its padded input; the error names the layer and the field.
    """
    op, name = layer.op, layer.name
    if op == "input":
        assert layer.shape is not None
        return layer.shape
    single = op in ("conv", "fc", "pool", "upsample")
    if single and len(in_shapes) != 1:
        raise InstanceError(f"{_a(op)} layer takes exactly one input, got {len(in_shapes)}", layer=name,
                            field="inputs")
    if op in ELEMENTWISE and len(in_shapes) < 2:
        raise InstanceError(f"{_a(op)} layer takes two or more inputs, got {len(in_shapes)}", layer=name,
                            field="inputs")
    if op == "concat" and not in_shapes:
        raise InstanceError("a concat layer takes one or more inputs, got 0", layer=name, field="inputs")
    c, h, w = in_shapes[0]
    if op == "conv":
        g = layer.groups
        assert layer.channels is not None
        if c % g or layer.channels % g:
            raise InstanceError(f"groups {g} must divide the input channels {c} and the output channels "
                                f"{layer.channels}", layer=name, field="groups")
        return (layer.channels, *_window(layer, h, w, layer.dilation))
    if op == "fc":
        assert layer.channels is not None
        return (layer.channels, 1, 1)
    if op == "pool":
        if layer.global_pool:
            return (c, 1, 1)
        return (c, *_window(layer, h, w, (1, 1)))
    if op == "upsample":
        return (c, h * layer.scale, w * layer.scale)
    if op in ELEMENTWISE:
        return _broadcast_shape(op, name, in_shapes)
    # concat
    for s in in_shapes[1:]:
        if s[1:] != in_shapes[0][1:]:
            raise InstanceError(f"a concat needs inputs of equal H and W, got {list(in_shapes[0])} and {list(s)}",
                                layer=name, field="inputs")
    return (sum(s[0] for s in in_shapes), h, w)


def _broadcast_shape(op: str, name: str, in_shapes: Sequence[Shape]) -> Shape:
    """The output of an element-wise ``add``/``mul``: its inputs have one full shape (C, H, W), and any other
    operand is (C, 1, 1) of the same C, which broadcasts over H and W (a squeeze-excitation gate)."""
    full = [s for s in in_shapes if s[1:] != (1, 1)] or list(in_shapes)
    out = full[0]
    for s in in_shapes:
        if s != out and s != (out[0], 1, 1):
            raise InstanceError(f"{_a(op)} needs inputs of equal shape or (C, 1, 1) operands of the same C, got "
                                f"{list(out)} and {list(s)}", layer=name, field="inputs")
    return out


def is_broadcast_operand(shape: Shape, out_shape: Shape) -> bool:
    """Whether an input of ``shape`` to an element-wise layer with output ``out_shape`` is a (C, 1, 1) operand
    broadcast over a larger H × W."""
    return shape[1:] == (1, 1) and out_shape[1] * out_shape[2] > 1


def _window(layer: Layer, h: int, w: int, dilation: tuple[int, int]) -> tuple[int, int]:
    """Output H and W of a sliding window (conv or pool)."""
    t, b, l, r = layer.padding
    out = []
    for size, pad, k, s, d, axis in ((h, t + b, layer.kernel[0], layer.stride[0], dilation[0], "height"),
                                     (w, l + r, layer.kernel[1], layer.stride[1], dilation[1], "width")):
        span = d * (k - 1) + 1
        if span > size + pad:
            raise InstanceError(f"kernel {list(layer.kernel)} (dilated span {span}) is larger than the padded "
                                f"input {axis} {size} + {pad}", layer=layer.name, field="kernel")
        out.append((size + pad - span) // s + 1)
    return out[0], out[1]


def weight_words(layer: Layer, in_shape: Shape | None) -> int:
    """Weight words of a layer: K·(C/g)·kh·kw (+K) for conv, C·H·W·K (+K) for fc, else 0."""
    if layer.op == "conv":
        assert in_shape is not None and layer.channels is not None
        k = layer.channels
        return k * (in_shape[0] // layer.groups) * layer.kernel[0] * layer.kernel[1] + (k if layer.bias else 0)
    if layer.op == "fc":
        assert in_shape is not None and layer.channels is not None
        c, h, w = in_shape
        return c * h * w * layer.channels + (layer.channels if layer.bias else 0)
    return 0


def macs(layer: Layer, in_shape: Shape | None, out_shape: Shape) -> int:
    """Multiply-accumulates per sample: weights (without bias) times output positions for conv, C·H·W·K for fc."""
    if layer.op == "conv":
        assert in_shape is not None and layer.channels is not None
        per_out = (in_shape[0] // layer.groups) * layer.kernel[0] * layer.kernel[1]
        return out_shape[0] * out_shape[1] * out_shape[2] * per_out
    if layer.op == "fc":
        assert in_shape is not None and layer.channels is not None
        return in_shape[0] * in_shape[1] * in_shape[2] * layer.channels
    return 0


@dataclass(frozen=True)
class Network:
    """An immutable DNN graph in stable topological order (file order wherever the file order allows).

    Parameters
    ----------
    name:
        The network's name.
    layers:
        Its nodes, inputs and concats included, in any order; they are stored topologically sorted.
    outputs:
        The network outputs as written; ``None`` means every non-input node without a consumer (formulations/cost-model.md §1).

    Node ids used throughout the project are positions in :attr:`layers`.

    A ``concat`` is a view (cost model version 2): it moves no bytes and belongs to no group. The network
    therefore keeps two graphs. ``written_producers``/``written_consumers`` are the graph as the file states it
    (shape inference, drawing, export); ``producers``/``consumers`` are the *resolved* graph the cost model and
    every solver use, in which a node that reads a concat reads the concat's inputs instead (recursively, each
    distinct tensor once) and concats have neither producers nor consumers. ``output_ids`` are resolved the same
    way: a concat that is a network output makes its inputs network outputs (except network inputs, which are in
    DRAM already).

    Raises
    ------
    InstanceError
        Duplicate names, dangling inputs, cycles, shape errors, unknown outputs, a layer whose result nobody uses
        (no consumer and not an output), or an output that is a network input.
    """

    name: str
    layers: tuple[Layer, ...]
    outputs: tuple[str, ...] | None = None
    index: Mapping[str, int] = field(init=False, repr=False, compare=False)
    written_producers: tuple[tuple[int, ...], ...] = field(init=False, repr=False, compare=False)
    written_consumers: tuple[tuple[int, ...], ...] = field(init=False, repr=False, compare=False)
    producers: tuple[tuple[int, ...], ...] = field(init=False, repr=False, compare=False)
    consumers: tuple[tuple[int, ...], ...] = field(init=False, repr=False, compare=False)
    view_sources: tuple[tuple[int, ...], ...] = field(init=False, repr=False, compare=False)
    shapes: tuple[Shape, ...] = field(init=False, repr=False, compare=False)
    weights: tuple[int, ...] = field(init=False, repr=False, compare=False)
    mac_counts: tuple[int, ...] = field(init=False, repr=False, compare=False)
    output_ids: frozenset[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        layers = tuple(self.layers)
        seen: dict[str, int] = {}
        for pos, layer in enumerate(layers):
            if layer.name in seen:
                raise InstanceError("duplicate layer name (also at position "
                                    f"{seen[layer.name]} of the layer list)", layer=layer.name, field="name")
            seen[layer.name] = pos
        for layer in layers:
            for src in layer.inputs:
                if src not in seen:
                    raise InstanceError(f"unknown input '{src}'", layer=layer.name, field="inputs")
        layers = _topological(layers, seen)
        index = {layer.name: i for i, layer in enumerate(layers)}
        written = tuple(tuple(index[s] for s in layer.inputs) for layer in layers)
        written_consumers = _consumers_of(written)
        shapes: list[Shape] = []
        for i, layer in enumerate(layers):
            shapes.append(infer_shape(layer, [shapes[p] for p in written[i]]))
        first_in = [shapes[p[0]] if p else None for p in written]
        # the resolved graph: concats are looked through
        sources: list[tuple[int, ...]] = []
        for i, layer in enumerate(layers):
            sources.append(_unique(t for p in written[i] for t in sources[p]) if layer.op == "concat" else (i,))
        producers = tuple(() if layer.op == "concat" else _unique(t for p in written[i] for t in sources[p])
                          for i, layer in enumerate(layers))
        if self.outputs is None:
            outputs = tuple(layer.name for i, layer in enumerate(layers)
                            if layer.op != "input" and not written_consumers[i])
        else:
            outputs = tuple(self.outputs)
            for out in outputs:
                if out not in index:
                    raise InstanceError(f"unknown output layer '{out}'", field="outputs")
                if layers[index[out]].op == "input":
                    raise InstanceError(f"'{out}' is a network input and cannot be an output", field="outputs")
        # a network input inside an output concat is in DRAM already: nothing computes or writes it
        output_ids = frozenset(t for o in outputs for t in sources[index[o]] if layers[t].op != "input")
        for i, layer in enumerate(layers):
            if not written_consumers[i] and layer.name not in outputs:
                what = "input is read by no layer" if layer.op == "input" else \
                    "has no consumer and is not listed in 'outputs'"
                raise InstanceError(what, layer=layer.name, field="outputs" if layer.op != "input" else "name")
        if not any(layer.op not in VIEW_OPS for layer in layers):
            raise InstanceError("the network has no layers besides its inputs and concats", field="layers")
        set_ = object.__setattr__
        set_(self, "layers", layers)
        set_(self, "outputs", outputs)
        set_(self, "index", index)
        set_(self, "written_producers", written)
        set_(self, "written_consumers", written_consumers)
        set_(self, "producers", producers)
        set_(self, "consumers", _consumers_of(producers))
        set_(self, "view_sources", tuple(sources))
        set_(self, "shapes", tuple(shapes))
        set_(self, "weights", tuple(weight_words(l, first_in[i]) for i, l in enumerate(layers)))
        set_(self, "mac_counts", tuple(macs(l, first_in[i], shapes[i]) for i, l in enumerate(layers)))
        set_(self, "output_ids", output_ids)

    # -- views ---------------------------------------------------------------------------------------------

    @property
    def input_ids(self) -> tuple[int, ...]:
        """Ids of the network inputs."""
        return tuple(i for i, l in enumerate(self.layers) if l.op == "input")

    @property
    def layer_ids(self) -> tuple[int, ...]:
        """Ids of the layers, the nodes a schedule places in groups (neither inputs nor concats), in topological
        order."""
        return tuple(i for i, l in enumerate(self.layers) if l.op not in VIEW_OPS)

    @property
    def concat_ids(self) -> tuple[int, ...]:
        """Ids of the concats: views that belong to no group (formulations/cost-model.md §1)."""
        return tuple(i for i, l in enumerate(self.layers) if l.op == "concat")

    def is_layer(self, node: int) -> bool:
        """Whether a node is a layer (computed in some group), not a network input or a concat."""
        return self.layers[node].op not in VIEW_OPS

    @property
    def total_weight_words(self) -> int:
        return sum(self.weights)

    @property
    def total_macs(self) -> int:
        """Multiply-accumulates per sample of the whole network."""
        return sum(self.mac_counts)

    def layer(self, name: str) -> Layer:
        return self.layers[self.index[name]]

    def shape(self, name: str) -> Shape:
        return self.shapes[self.index[name]]

    def to_networkx(self):  # -> networkx.DiGraph
        """The DAG as a ``networkx.DiGraph`` on layer names, with ``op`` and ``shape`` node attributes."""
        import networkx as nx

        g = nx.DiGraph()
        for i, layer in enumerate(self.layers):
            g.add_node(layer.name, op=layer.op, shape=self.shapes[i])
        for i, prods in enumerate(self.written_producers):
            for p in prods:
                g.add_edge(self.layers[p].name, self.layers[i].name)
        return g

    # -- the file form -------------------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Network":
        """Build from the ``network`` object of formulations/formats.md (the ``format`` key, if present, is ignored here)."""
        layers = d.get("layers")
        if not isinstance(layers, list) or not layers:
            raise InstanceError("expected a non-empty list of layers", field="layers")
        parsed = []
        for pos, ld in enumerate(layers):
            if not isinstance(ld, Mapping):
                raise InstanceError(f"layer {pos} is not an object", field="layers")
            parsed.append(Layer.from_dict(ld))
        outputs = d.get("outputs")
        if outputs is not None and (not isinstance(outputs, list) or not all(isinstance(o, str) for o in outputs)):
            raise InstanceError(f"expected a list of layer names, got {outputs!r}", field="outputs")
        return cls(name=str(d.get("name", "network")), layers=tuple(parsed),
                   outputs=tuple(outputs) if outputs is not None else None)

    def to_dict(self, *, with_format: bool = False) -> dict[str, Any]:
        """The formulations/formats.md ``network`` object (with ``"format"`` when it is to stand alone as a network file)."""
        d: dict[str, Any] = {"format": "optimus-opt/network@1"} if with_format else {}
        d["name"] = self.name
        d["layers"] = [layer.to_dict() for layer in self.layers]
        d["outputs"] = list(self.outputs or ())
        return d


def _unique(items: Iterable[int]) -> tuple[int, ...]:
    """The items in first-seen order, each once."""
    return tuple(dict.fromkeys(items))


def _consumers_of(producers: Sequence[Sequence[int]]) -> tuple[tuple[int, ...], ...]:
    """The consumer lists (ascending, each once) of a producer relation."""
    out: list[set[int]] = [set() for _ in producers]
    for i, prods in enumerate(producers):
        for p in prods:
            out[p].add(i)
    return tuple(tuple(sorted(s)) for s in out)


def _topological(layers: tuple[Layer, ...], position: Mapping[str, int]) -> tuple[Layer, ...]:
    """Kahn's algorithm, releasing ready nodes in file order (a stable, deterministic order)."""
    indegree = [len(set(layer.inputs)) for layer in layers]
    users: list[list[int]] = [[] for _ in layers]
    for i, layer in enumerate(layers):
        for src in set(layer.inputs):
            users[position[src]].append(i)
    ready = [i for i, d in enumerate(indegree) if d == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for u in users[i]:
            indegree[u] -= 1
            if indegree[u] == 0:
                heapq.heappush(ready, u)
    if len(order) < len(layers):
        stuck = [i for i, d in enumerate(indegree) if d > 0]
        cycle = _find_cycle(layers, position, set(stuck))
        raise InstanceError("the network has a cycle: " + " -> ".join(cycle), layer=cycle[0], field="inputs")
    return tuple(layers[i] for i in order)


def _find_cycle(layers: tuple[Layer, ...], position: Mapping[str, int], stuck: set[int]) -> list[str]:
    """One cycle among the nodes Kahn's algorithm could not release, as a list of names (first repeated last)."""
    start = min(stuck)
    path: list[int] = []
    on_path: dict[int, int] = {}
    node = start
    while node not in on_path:
        on_path[node] = len(path)
        path.append(node)
        node = next(position[s] for s in layers[node].inputs if position[s] in stuck)
    cycle = path[on_path[node]:] + [node]
    return [layers[i].name for i in reversed(cycle)]

