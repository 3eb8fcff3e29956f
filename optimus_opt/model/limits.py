"""The largest sizes the cost model takes, and the check that refuses larger ones with a message naming the field.

Why these limits
----------------
Byte counts are Python integers everywhere they are added up for a schedule, but the cost model
(:mod:`optimus_opt.cost.cost_model`) computes the rows and footprints of a group for every strip count Q = 1 … H at
once, as numpy ``int64`` vectors. Two things can then go wrong with absurd inputs:

* **overflow**: a footprint is a sum over the group's tensors of (channels × kept rows × width × word bytes), and
  it is compared with the weights and the buffer; with channels of 10^40 the int64 arithmetic wraps or numpy
  refuses the Python integer. Every such vector entry is at most the sum, over all tensors of the network, of
  their bytes, plus all weights. So the check bounds **that total** (:data:`MAX_BYTES`, 2^53 bytes = 8 PiB), and
  with it every tensor, every layer's weights and the buffer (each at most 2^53 bytes too). 2^53 leaves a factor
  of 1,024 below int64's 2^63, and it is the largest integer a float64 holds exactly, so the ratios, megabytes
  and HiGHS's double-precision objective that other modules compute from these sizes stay exact as well.
* **length**: the vectors have one entry per possible strip count, i.e. the tallest tensor's height. A height of
  10^200 asks numpy for an impossible array ("Maximum allowed size exceeded"), and a height of 10^9 for gigabytes
  per group. Heights are limited to :data:`MAX_ROWS` (65,536), far above any image a DNN accelerator processes
  whole (4K video is 2,160 rows); widths only multiply and are bounded by the byte limit. A window's kernel,
  stride, dilation and padding enter the same vectors (rows needed = (rows − 1) × stride + span) and are limited
  to 65,536 too: anything larger exceeds every input the height limit allows.

Real networks are nowhere near these limits: the largest zoo instance (U-Net at batch 4) totals a few GB.

Every refusal is an :class:`~optimus_opt.model.errors.InstanceError` naming the layer and the field that made the size
too large (``channels``, ``shape``, ``scale``, ``padding``, ``inputs``, ``batch``, ``accelerator.word_bytes`` or
``accelerator.buffer_bytes``); the caller adds the file.
"""

from __future__ import annotations

from .errors import InstanceError
from .network import Network

#: The most bytes any size may have: one tensor at the batch, a layer's weights, the buffer, and all of the
#: network's tensors and weights added up (see the module's docstring for why).
MAX_BYTES = 2 ** 53
#: The most rows (height) a tensor may have: the cost model keeps a vector entry per strip count 1 … H.
MAX_ROWS = 2 ** 16


def amount(value: int) -> str:
    """An integer for a message: ``1,234,567``, or ``about 10^40`` when it has more than 30 digits (a number of
    hundreds of digits helps nobody)."""
    digits = len(str(abs(value)))
    return f"{value:,}" if digits <= 30 else f"about 10^{digits - 1}"


def limit_text() -> str:
    """How the byte limit reads in messages."""
    return f"the cost model's limit of {MAX_BYTES:,} bytes (2^53, 8 PiB)"


def check_size(value: int, what: str, *, field: str | None = None) -> int:
    """``value`` if it is at most :data:`MAX_BYTES`, else an :class:`InstanceError` naming ``field``."""
    if value > MAX_BYTES:
        raise InstanceError(f"{what} of {amount(value)} bytes is more than {limit_text()}",
                            field=field)
    return value


def _tensor_field(network: Network, node: int) -> str:
    """The field of a node that decides how large its output tensor is."""
    layer = network.layers[node]
    return {"input": "shape", "conv": "channels", "fc": "channels", "upsample": "scale",
            "concat": "inputs", "add": "inputs", "mul": "inputs"}.get(layer.op, "padding")


def _rows_field(network: Network, node: int) -> str:
    """The field of a node that decides its output height (a window's height grows only through padding)."""
    layer = network.layers[node]
    return {"input": "shape", "upsample": "scale", "concat": "inputs", "add": "inputs",
            "mul": "inputs"}.get(layer.op, "padding")


def check_network(network: Network) -> None:
    """Refuse a network with a tensor taller than :data:`MAX_ROWS` or larger than :data:`MAX_BYTES` elements,
    whatever the batch and the word size; names the first such layer and its field."""
    for node, (c, h, w) in enumerate(network.shapes):
        layer = network.layers[node]
        name = layer.name
        for what in ("kernel", "stride", "dilation", "padding"):
            values = getattr(layer, what)
            if max(values) > MAX_ROWS:
                raise InstanceError(f"{amount(max(values))} is more than the {MAX_ROWS:,} the cost model takes for a "
                                    f"window's {what}", layer=name, field=what)
        if h > MAX_ROWS:
            raise InstanceError(f"the output has {amount(h)} rows, more than the {MAX_ROWS:,} the cost model takes "
                                "(it keeps one entry per strip count)", layer=name, field=_rows_field(network, node))
        elements = c * h * w
        if elements > MAX_BYTES:
            raise InstanceError(f"the output tensor {_shape(c, h, w)} has {amount(elements)} elements, more than "
                                f"{limit_text()} even at one byte per element", layer=name,
                                field=_tensor_field(network, node))
        if network.weights[node] > MAX_BYTES:
            raise InstanceError(f"the weights have {amount(network.weights[node])} words, more than "
                                f"{limit_text()} even at one byte per word", layer=name, field="channels")


def check_sizes(network: Network, *, word_bytes: int, buffer_bytes: int, batch: int) -> None:
    """Refuse an instance (``network`` at ``batch`` on an accelerator of ``word_bytes`` and ``buffer_bytes``) whose
    sizes the cost model cannot hold (see the module's docstring). It takes the accelerator's numbers, not the
    accelerator or the instance, so that this module sits below both (the accelerator checks its own sizes here).

    Checks, in this order, so that the message blames the cause: the network alone (:func:`check_network`); the
    buffer; each tensor at one sample (the word size), then at the batch; each layer's weights in bytes; and the
    network's tensors at the batch plus all weights, added up.
    """
    check_network(network)
    check_size(buffer_bytes, "a buffer", field="accelerator.buffer_bytes")
    total = per_sample_total = 0
    for node, (c, h, w) in enumerate(network.shapes):
        name = network.layers[node].name
        per_sample = c * h * w * word_bytes
        if per_sample > MAX_BYTES:
            raise InstanceError(f"{amount(word_bytes)}-byte words make the output tensor {_shape(c, h, w)} of layer "
                                f"'{name}' take {amount(per_sample)} bytes, more than {limit_text()}",
                                field="accelerator.word_bytes")
        tensor = per_sample * batch
        if tensor > MAX_BYTES:
            raise InstanceError(f"batch {amount(batch)} makes the output tensor {_shape(c, h, w)} of layer '{name}' "
                                f"take {amount(tensor)} bytes, more than {limit_text()}",
                                field="batch")
        weights = network.weights[node] * word_bytes
        if weights > MAX_BYTES:
            raise InstanceError(f"the weights take {amount(weights)} bytes, more than {limit_text()}", layer=name,
                                field="channels")
        if network.layers[node].op != "concat":  # a concat is a view: its bytes are its inputs'
            total += tensor + weights
            per_sample_total += per_sample + weights
        if total > MAX_BYTES:
            scope = f"at batch {amount(batch)}" if per_sample_total <= MAX_BYTES else "even at batch 1"
            raise InstanceError(f"the network's tensors and weights add up to {amount(total)} bytes by layer "
                                f"'{name}' ({scope}), more than {limit_text()}",
                                field="batch" if per_sample_total <= MAX_BYTES else "layers")


def _shape(c: int, h: int, w: int) -> str:
    return "[" + ", ".join(amount(v) for v in (c, h, w)) + "]"


__all__ = ["MAX_BYTES", "MAX_ROWS", "amount", "check_network", "check_size", "check_sizes", "limit_text"]
