"""Small ONNX graph builders for the ONNX tests, written with onnx.helper (import only after
``pytest.importorskip("onnx")``)."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from optimus_opt.io.onnx import read_onnx
from optimus_opt.model.errors import InstanceError


class G:
    """A small ONNX graph builder. ``weights=True`` stores weights as initializers (zeros), ``False`` as graph
    inputs with shapes only, as shape-only files do."""

    def __init__(self, weights: bool = True, opset: int = 17) -> None:
        self.weights, self.opset = weights, opset
        self.nodes, self.inputs, self.inits = [], [], []
        self.count = 0

    def input(self, name: str, dims) -> str:
        self.inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(dims)))
        return name

    def weight(self, name: str, dims) -> str:
        if self.weights:
            self.inits.append(onnx.numpy_helper.from_array(np.zeros(dims, dtype=np.float32), name))
        else:
            self.inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(dims)))
        return name

    def const(self, name: str, values, dtype=np.int64) -> str:
        """A small constant (shapes, scales, pads): always an initializer."""
        self.inits.append(onnx.numpy_helper.from_array(np.asarray(values, dtype=dtype), name))
        return name

    def node(self, op: str, inputs, name: str | None = "", n_out: int = 1, **attrs) -> str:
        self.count += 1
        base = name or f"t{self.count}"
        if any(base + "_out" in n.output for n in self.nodes):  # two nodes of one name: outputs stay distinct
            base = f"{base}{self.count}"
        outs = [f"{base}_out"] + [f"{base}_out{k}" for k in range(1, n_out)]
        self.nodes.append(helper.make_node(op, list(inputs), outs, name=name, **attrs))
        return outs[0]

    def conv(self, x, c_in, k_out, k, name, *, bias=False, groups=1, **attrs) -> str:
        ins = [x, self.weight(f"{name}.w", (k_out, c_in // groups, k, k))]
        if bias:
            ins.append(self.weight(f"{name}.b", (k_out,)))
        return self.node("Conv", ins, name, group=groups, kernel_shape=[k, k], **attrs)

    def bn(self, x, c, name) -> str:
        params = [self.weight(f"{name}.{p}", (c,)) for p in ("scale", "bias", "mean", "var")]
        return self.node("BatchNormalization", [x, *params], name)

    def model(self, outputs, name: str = "m"):
        outs = [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs]
        graph = helper.make_graph(self.nodes, name, self.inputs, outs, initializer=self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)])
        model.ir_version = 8
        return model


def refusal(model, **kw) -> str:
    with pytest.raises(InstanceError) as info:
        read_onnx(model, **kw)
    return str(info.value)
