"""The ONNX graph as the import (:mod:`.onnx_read`) finds it, before any node is mapped to a layer: the model read
from its file (refused in one line when it is not an ONNX model), its nodes in a topological order, those whose
results reach a graph output, the graph inputs that carry the network's data, the shapes ONNX infers with the
inputs' sizes fixed, and the value of a constant computed by nodes.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Collection, Mapping

from ..model.errors import InstanceError
from .onnx_common import EXPORT_IR_VERSION, tensor_dims

#: Operand slots of these ops may each carry network data (other ops carry it only in slot 0).
MULTI_DATA_OPS = ("Add", "Sub", "Mul", "Div", "Sum", "Concat", "Max", "Min", "Mean")
#: Element types of feature maps (TensorProto FLOAT, FLOAT16, DOUBLE, BFLOAT16; 0: undeclared).
FLOAT_TYPES = (0, 1, 10, 11, 16)
#: Initializers with more elements than this are replaced by shape-only inputs before shape inference.
SMALL_CONSTANT = 64


def load_model(onnx: Any, file: str) -> Any:
    """The ``ModelProto`` of ``file``, with its small external constants loaded where their files are present.

    Raises
    ------
    InstanceError
        A missing file or a directory, an unreadable one, or one that is not an ONNX model: one line naming the
        file and saying what it is instead (JSON or other text, or bytes that do not parse), never the protobuf
        library's own message.
    """
    path = Path(file)
    if path.is_dir():
        raise InstanceError("is a directory, not an ONNX file", file=file)
    if not path.is_file():
        raise InstanceError("ONNX file not found", file=file)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InstanceError(f"cannot read the ONNX file: {err.strerror or err}", file=file) from None
    try:
        model = onnx.load_model_from_string(data)  # the binary format, whatever the extension says
    except Exception:  # protobuf's DecodeError, whose text helps nobody
        model = None
    if model is None or not model.graph.node and not model.graph.input:
        raise InstanceError(f"not a readable ONNX model: {_what_it_is(data, parsed=model is not None)}", file=file)
    # Weights in external data files are never read (only their dims, which the model holds), so the files may be
    # absent. Small constants kept there are loaded where the file is present, as shape inference may need them
    # (a Reshape's target shape).
    from onnx.external_data_helper import load_external_data_for_tensor, uses_external_data

    for init in model.graph.initializer:
        if uses_external_data(init) and math.prod(init.dims) <= SMALL_CONSTANT:
            try:
                load_external_data_for_tensor(init, str(path.parent))
            except Exception:  # a missing or unreadable file (OSError), or a location onnx refuses (ValueError)
                continue
            init.data_location = onnx.TensorProto.DEFAULT  # as recent onnx versions do: the data is now inline
            del init.external_data[:]
    return model


def _what_it_is(data: bytes, *, parsed: bool) -> str:
    """What bytes that hold no ONNX graph are, in words: nothing, JSON (naming an optimus-opt document's format) or
    other text, bytes that do not parse (``parsed`` False), or a model whose graph is empty."""
    if not data:
        return "the file is empty"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = None
    if text is not None and all(c.isprintable() or c in "\n\r\t" for c in text):  # ONNX's tags are control bytes
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError):
            return "it is text, and an ONNX model is a binary protobuf file"
        fmt = doc.get("format") if isinstance(doc, dict) else None
        named = f" (an {fmt} document)" if isinstance(fmt, str) and fmt.startswith("optimus-opt/") else ""
        return f"it is JSON{named}, and an ONNX model is a binary protobuf file"
    if not parsed:
        return "its bytes do not parse as an ONNX model (ModelProto): a damaged file, or another format"
    return "the graph is empty"


def sorted_nodes(graph: Any, known: Collection[str], file: str | None) -> list:
    """The nodes of ``graph`` in a topological order (ONNX requires one; an unsorted file is sorted here, stably);
    ``known`` are the values no node produces (graph inputs and initializers)."""
    nodes = list(graph.node)
    producer = {o: i for i, n in enumerate(nodes) for o in n.output}
    order: list = []
    done = [False] * len(nodes)
    avail = set(known) | {""}
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
                            f"'{stuck[0].name or stuck[0].op_type}' ({stuck[0].op_type})", file=file)
    return order


def needed_nodes(graph: Any, nodes: list) -> set[int]:
    """The ids of the nodes whose results reach a graph output."""
    producer = {o: n for n in nodes for o in n.output}
    needed: set[int] = set()
    stack = [o.name for o in graph.output]
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


def network_inputs(graph: Any, nodes: list, inits: Collection[str]) -> list:
    """Graph inputs that carry the network's data, not weights given as shape-only inputs (``inits``: the
    initializers' names; ``nodes``: the nodes that are mapped).

    Readers are looked up through Identity nodes (exporters put those in front of weights they de-duplicate).
    An input carries data where a node reads it in its first slot, or, for an op whose every operand may be data
    (Add, Mul, Concat...), where it is a 4-D tensor. So an input read only in weight or bias slots (Conv W and B,
    Gemm B and C, MatMul B, BatchNormalization's parameters, none of them a first slot) is a weight whatever its
    rank.
    """
    readers: dict[str, list] = {}
    for n in nodes:
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
    for gi in graph.input:
        if gi.name in inits:
            continue
        if gi.type.tensor_type.elem_type not in FLOAT_TYPES:
            continue  # integer inputs (shapes, indices) are parameters
        dims = tensor_dims(gi.type)
        rank = len(dims) if dims is not None else None
        if any(rank == 4 if op in MULTI_DATA_OPS else slot == 0 for op, slot in uses(gi.name, set())):
            found.append(gi)
    return found


def infer_shapes(onnx: Any, model: Any, fixed: Mapping[str, tuple[int, ...]], inits: Collection[str],
                 file: str | None) -> dict[str, tuple[int | None, ...] | None]:
    """Run ONNX shape inference on a light copy of ``model``'s graph with the network inputs' dims ``fixed``
    (weights replaced by shape-only inputs); every value's dims, None where the rank is unknown."""
    g = model.graph
    helper = onnx.helper
    inputs, light_inits = [], []
    for gi in g.input:
        if gi.name in fixed:
            elem = gi.type.tensor_type.elem_type or onnx.TensorProto.FLOAT
            inputs.append(helper.make_tensor_value_info(gi.name, elem, list(fixed[gi.name])))
        elif gi.name not in inits:
            inputs.append(gi)
    for t in g.initializer:
        if math.prod(t.dims) <= SMALL_CONSTANT and not onnx.external_data_helper.uses_external_data(t):
            light_inits.append(t)
        else:  # weights: only their shape matters
            inputs.append(helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
    outputs = [helper.make_tensor_value_info(o.name, o.type.tensor_type.elem_type or onnx.TensorProto.FLOAT,
                                             None) for o in g.output]
    light = helper.make_graph(list(g.node), g.name or "g", inputs, outputs, initializer=light_inits,
                              sparse_initializer=list(g.sparse_initializer))
    copy = helper.make_model(light, opset_imports=list(model.opset_import), functions=list(model.functions))
    copy.ir_version = model.ir_version or EXPORT_IR_VERSION
    try:
        inferred = onnx.shape_inference.infer_shapes(copy, check_type=False, strict_mode=False, data_prop=True)
    except Exception as err:  # a malformed model
        raise InstanceError(f"ONNX shape inference failed: {err}", file=file) from None
    shapes: dict[str, tuple[int | None, ...] | None] = {}
    for vi in list(inferred.graph.input) + list(inferred.graph.value_info) + list(inferred.graph.output):
        dims = tensor_dims(vi.type)
        if dims is not None or vi.name not in shapes:
            shapes[vi.name] = dims
    for t in g.initializer:
        shapes[t.name] = tuple(t.dims)
    return shapes


def evaluate_constant(onnx: Any, model: Any, nodes: list, inits: Mapping[str, Any], value: str) -> Any:
    """The value of ``value`` computed by the ``nodes`` that compute it from initializers (``inits``, by name), as
    exporters compute a Pad's pads, with ONNX's reference evaluator; None where that fails or a graph input is
    needed."""
    helper = onnx.helper
    producer = {o: n for n in nodes for o in n.output}
    needed, stack, used_inits = [], [value], []
    seen: set[str] = set()
    while stack:
        v = stack.pop()
        if v in seen or not v:
            continue
        seen.add(v)
        if v in inits:
            used_inits.append(inits[v])
        elif v in producer:
            needed.append(producer[v])
            stack.extend(producer[v].input)
        else:
            return None  # a graph input: no value
    order = [n for n in nodes if any(n is m for m in needed)]
    try:
        from onnx.reference import ReferenceEvaluator

        graph = helper.make_graph(order, "constant", [], [helper.make_value_info(value, onnx.TypeProto())],
                                  initializer=used_inits)
        computed = helper.make_model(graph, opset_imports=list(model.opset_import))
        computed.ir_version = model.ir_version or EXPORT_IR_VERSION
        return ReferenceEvaluator(computed).run(None, {})[0]
    except Exception:
        return None


__all__ = ["FLOAT_TYPES", "MULTI_DATA_OPS", "SMALL_CONSTANT", "evaluate_constant", "infer_shapes", "load_model",
           "needed_nodes", "network_inputs", "sorted_nodes"]
