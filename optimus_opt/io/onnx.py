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

The code is split by concern, and this module names what the rest of optimus-opt imports: :mod:`.onnx_read` (the
import, its results and its report), :mod:`.onnx_graph` (the graph before any node is mapped: reading the file,
node order, network inputs, shape inference), :mod:`.onnx_ops` (the rule of each op of the table above) and
:mod:`.onnx_common` (what import and export share).
"""

from __future__ import annotations

from .onnx_common import EXPORT_IR_VERSION, EXPORT_OPSET, Namer, format_dims, onnx_module, tensor_dims
from .onnx_ops import (
    AFFINE_OPS,
    EXPLAINED_OPS,
    FLAT_FOLDED_OPS,
    FOLDED_OPS,
    LAYER_OPS,
    SHAPE_OPS,
    SUPPORTED_OPS,
    VIEW_OPS,
)
from .onnx_read import NODE_ROLES, NodeTally, OnnxImport, import_report, network_from_onnx, parse_input_shape, read_onnx

__all__ = ["AFFINE_OPS", "EXPLAINED_OPS", "EXPORT_IR_VERSION", "EXPORT_OPSET", "FLAT_FOLDED_OPS", "FOLDED_OPS",
           "LAYER_OPS", "NODE_ROLES", "Namer", "NodeTally", "OnnxImport", "SHAPE_OPS", "SUPPORTED_OPS", "VIEW_OPS",
           "format_dims", "import_report", "network_from_onnx", "onnx_module", "parse_input_shape", "read_onnx",
           "tensor_dims"]
