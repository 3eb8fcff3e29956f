"""NASNet-A Mobile (4 @ 1056) from Zoph, Vasudevan, Shlens and Le, "Learning Transferable Architectures for
Scalable Image Recognition", CVPR 2018.

The definition follows the paper's reference implementation (TensorFlow-Slim ``nets/nasnet/nasnet.py`` with
``mobile_imagenet_config`` and ``nasnet_utils.py``): N = 4 normal cells per stack, 44 filters in the first stack
(so 6 x 176 = 1056 channels before the classifier), 32 stem filters, an ImageNet stem of a 3x3/2 VALID conv and
two stem reduction cells, reduction cells after normal cells 3 and 7, global average pooling and an fc. The
auxiliary head (training only) is left out, as in the paper's 5.3 M parameter count.

Each cell works on two hidden states: h0, the previous cell's output squeezed to the cell's filter count by a 1x1
conv (``<cell>.beginning``), and h1, the output of the cell before it, adjusted to the same shape (``<cell>.prev``)
as the reference does: a 1x1 conv when only channels differ, a factorized reduction when the spatial size differs
(the first normal cell after each reduction, and stem cell 1), nothing for stem cell 0 (whose h1 is the raw stem
conv output). Five combinations ``comb0``..``comb4`` each add two branches; an op is a stack of two separable
convs (each a depthwise conv then a 1x1 conv, the first one strided in reduction cells), a 3x3 pool, or the
identity, which is a read of the hidden state and adds no layer. The cell output concatenates the hidden states the
reference marks unused (``used_hiddenstates``; h1 and comb0..comb4 in a normal cell, comb1..comb4 in a reduction
cell). Operation lists and hidden-state indices are those of ``NasNetANormalCell`` and ``NasNetAReductionCell``;
only ops applied to h0 or h1 are strided.

Batch-norm and ReLU are folded; every conv gets a bias (the folded batch-norm's shift; for the depthwise conv of a
separable conv this is one word per channel that the reference does not have, since its batch-norm follows the
pointwise conv).

Approximations forced by the cost model's op set:

- TensorFlow's SAME padding is asymmetric for strided ops on even inputs (more padding at the bottom/right); here
  every k x k op has symmetric padding (k - 1) / 2. Output sizes are identical (ceil(H / stride)); only which
  border pixels are zero differs.
- The factorized reduction's second path shifts its input by one pixel (pad bottom/right by one, crop the first
  row and column) and then takes every second pixel with a 1x1 stride-2 average pool. There is no crop op, so the
  shifted path is a 2x2 stride-2 average pool (with one row/column of bottom/right padding for odd inputs): its
  windows cover exactly the odd-indexed pixels the shifted path reads (plus their even neighbours), it has the
  same output size and the same row reach, and it is a separate layer from the first path's 1x1 stride-2 pool.
  Both pools read the same tensor, as in the reference.
"""

from __future__ import annotations

from ..model.network import Network
from . import ZooEntry
from .builder import NetBuilder

__all__ = ["nasnet_a_mobile", "ENTRIES"]

_Cell = tuple[tuple[tuple[tuple[str, int], tuple[str, int]], ...], tuple[int, ...]]

#: Normal cell: (op, hidden-state index) for the left and right branch of each of the five combinations (states
#: 0, 1 are h0, h1; state 2 + i is the output of comb i), then the states concatenated into the cell output: the
#: reference's ``used_hiddenstates`` = [1, 0, 0, 0, 0, 0, 0], so h1 is concatenated although combinations read it.
_NORMAL_CELL: _Cell = ((
    (("sep5", 0), ("sep3", 1)),
    (("sep5", 1), ("sep3", 1)),
    (("avg3", 0), ("id", 1)),
    (("avg3", 1), ("avg3", 1)),
    (("sep3", 0), ("id", 0)),
), (1, 2, 3, 4, 5, 6))
#: Reduction cell: ``used_hiddenstates`` = [1, 1, 1, 0, 0, 0, 0], so comb1..comb4 form the output (comb1 although
#: comb3 reads it).
_REDUCTION_CELL: _Cell = ((
    (("sep5", 0), ("sep7", 1)),
    (("max3", 0), ("sep7", 1)),
    (("avg3", 0), ("sep5", 1)),
    (("id", 3), ("avg3", 2)),
    (("sep3", 2), ("max3", 0)),
), (3, 4, 5, 6))


def _separable(b: NetBuilder, x: str, channels: int, kernel: int, stride: int, name: str) -> str:
    """One separable conv: a k x k depthwise conv (groups = input channels) then a 1x1 conv to ``channels``."""
    c = b.shape(x)[0]
    d = b.dwconv(x, c, kernel, stride=stride, padding=kernel // 2, name=f"{name}.depthwise")
    return b.conv(d, channels, 1, name=f"{name}.pointwise")


def _stacked_separable(b: NetBuilder, x: str, channels: int, kernel: int, stride: int, name: str) -> str:
    """The reference's ``separable_kxk_2``: two separable convs, only the first strided (4 conv layers)."""
    y = _separable(b, x, channels, kernel, stride, f"{name}.separable_1")
    return _separable(b, y, channels, kernel, 1, f"{name}.separable_2")


def _factorized_reduction(b: NetBuilder, x: str, channels: int, name: str) -> str:
    """Halve H and W of ``x`` and map it to ``channels``: two 1x1 paths of channels/2 each, concatenated.

    Path 1 is a 1x1 stride-2 average pool (every even pixel) and a 1x1 conv. Path 2 in the reference reads the
    input shifted by one pixel (every odd pixel); it is modelled as a 2x2 stride-2 average pool, whose windows
    contain those pixels, then a 1x1 conv (see the module docstring).
    """
    _, h, w = b.shape(x)
    p1 = b.pool(x, 1, 2, mode="avg", name=f"{name}.path1.avgpool")
    p1 = b.conv(p1, channels // 2, 1, name=f"{name}.path1.conv")
    # shift approximation: a 2x2/2 window covers the odd pixel the shifted 1x1/2 path reads; pad odd sizes so
    # the output size is ceil(H / 2), like path 1.
    p2 = b.pool(x, 2, 2, padding=(0, h % 2, 0, w % 2), mode="avg", name=f"{name}.path2.avgpool")
    p2 = b.conv(p2, channels - channels // 2, 1, name=f"{name}.path2.conv")
    return b.concat([p1, p2], name=f"{name}.concat")


def _branch(b: NetBuilder, x: str, op: str, channels: int, stride: int, name: str) -> str:
    """One branch of a combination: a stacked separable conv, a 3x3 pool, or the identity (no layer)."""
    if op == "id":
        assert stride == 1 and b.shape(x)[0] == channels
        return x
    kernel = int(op[-1])
    if op.startswith("sep"):
        return _stacked_separable(b, x, channels, kernel, stride, name)
    # Every pooled hidden state already has ``channels`` channels, so the reference adds no 1x1 conv after it.
    assert b.shape(x)[0] == channels
    mode = "avg" if op.startswith("avg") else "max"
    return b.pool(x, kernel, stride, padding=kernel // 2, mode=mode, name=f"{name}.{mode}pool")


def _cell(b: NetBuilder, x: str, prev: str | None, filters: int, reduction: bool, name: str) -> str:
    """A NASNet-A cell on the previous cell's output ``x`` and the one before it, ``prev`` (None in stem cell 0).

    Returns the concatenation of the hidden states the reference's ``used_hiddenstates`` marks unused.
    """
    # h1 first, as the reference builds it: adjust ``prev`` to the shape of ``x``.
    if prev is None:
        h1 = x
    elif b.shape(prev)[1:] != b.shape(x)[1:]:
        h1 = _factorized_reduction(b, prev, filters, f"{name}.prev")
    elif b.shape(prev)[0] != filters:
        h1 = b.conv(prev, filters, 1, name=f"{name}.prev.conv")
    else:
        h1 = prev
    h0 = b.conv(x, filters, 1, name=f"{name}.beginning.conv")
    states = [h0, h1]
    combinations, output_states = _REDUCTION_CELL if reduction else _NORMAL_CELL
    for i, combination in enumerate(combinations):
        branches = []
        for side, (op, index) in zip(("left", "right"), combination):
            stride = 2 if reduction and index < 2 else 1
            branches.append(_branch(b, states[index], op, filters, stride, f"{name}.comb{i}.{side}"))
        states.append(b.add(*branches, name=f"{name}.comb{i}.add"))
    # The output states all have the final shape here, so the reference's extra reductions never apply.
    return b.concat([states[i] for i in output_states], name=f"{name}.concat")


def nasnet_a_mobile(resolution: int = 224) -> Network:
    """NASNet-A Mobile (4 @ 1056), without the auxiliary head.

    518 layers: conv0; stem cells 0 and 1 (31 and 36 layers); three stacks of four normal cells (35 layers for the
    first cell of a stack, which factorizes its second input, 31 for the others) with a reduction cell (32 layers)
    between stacks; global average pool and fc. At 224x224 the feature maps are 111 (conv0), 56, 28 (stem cells),
    28, 14, 7 (stacks), with 1056 channels at the end.
    """
    num_filters, stem_filters, cells_per_stack = 44, 32, 4
    b = NetBuilder("nasnet_a_mobile")
    x = b.input(3, resolution, resolution)
    x = b.conv(x, stem_filters, 3, stride=2, name="conv0")  # VALID padding
    prev: str | None = None
    for i, filters in enumerate((num_filters // 4, num_filters // 2)):
        x, prev = _cell(b, x, prev, filters, True, f"cell_stem_{i}"), x
    cell = 0
    for stack in range(3):
        filters = num_filters * 2 ** stack
        if stack > 0:
            x, prev = _cell(b, x, prev, filters, True, f"reduction_cell_{stack - 1}"), x
        for _ in range(cells_per_stack):
            x, prev = _cell(b, x, prev, filters, False, f"cell_{cell}"), x
            cell += 1
    x = b.pool(x, global_pool=True, mode="avg", name="global_pool")
    b.fc(x, 1000, name="fc")
    return b.build()


ENTRIES = [
    ZooEntry(name="nasnet_a_mobile", build=nasnet_a_mobile, resolution=224, published_params=5.3e6,
             published_macs=564e6,
             source="Zoph et al., CVPR 2018, Table 2: NASNet-A (4 @ 1056), 5.3 M parameters, 564 M mult-adds, "
                    "224x224"),
]
