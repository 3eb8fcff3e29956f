"""What the ONNX import (:mod:`.onnx_read`) and export (:mod:`.onnx_export`) share: the onnx package (an optional
extra, imported only when a model is read or written), the opset of exported files, the dims of a tensor type and
how messages print them, and unique names.
"""

from __future__ import annotations

from typing import Any, Iterable

from ..model.errors import OptimusError
from ..utils import extras

#: The opset and IR version of exported files (opset 17 / IR 8: read by every current ONNX tool).
EXPORT_OPSET = 17
EXPORT_IR_VERSION = 8


def onnx_module() -> Any:
    """The ``onnx`` package, or an :class:`OptimusError` that says how to install it."""
    try:
        import onnx
    except ImportError:
        raise OptimusError(extras.missing_message("onnx", "ONNX import and export need")) from None
    return onnx


def tensor_dims(type_proto: Any) -> tuple[int | None, ...] | None:
    """The dims of a tensor type (None for a symbolic or unknown dim), or None without a known rank."""
    if not type_proto.HasField("tensor_type") or not type_proto.tensor_type.HasField("shape"):
        return None
    return tuple(d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None
                 for d in type_proto.tensor_type.shape.dim)


def format_dims(dims: Iterable[int | None] | None) -> str:
    """Dims as messages print them: ``[1, 3, ?, ?]`` (``?`` for a symbolic dim), ``[unknown rank]``."""
    if dims is None:
        return "[unknown rank]"
    return "[" + ", ".join("?" if d is None else str(d) for d in dims) + "]"


class Namer:
    """Hands out names not taken yet: ``base``, else ``base_2``, ``base_3``, ..."""

    def __init__(self, taken: Iterable[str] = ()) -> None:
        self.taken = set(taken)

    def __call__(self, base: str) -> str:
        name, k = base, 1
        while name in self.taken:
            k += 1
            name = f"{base}_{k}"
        self.taken.add(name)
        return name


__all__ = ["EXPORT_IR_VERSION", "EXPORT_OPSET", "Namer", "format_dims", "onnx_module", "tensor_dims"]
