"""The networks that current accelerator papers evaluate besides the classics: MobileNetV3-Large and -Small,
EfficientNet-B0, MNASNet 1.0, RegNetY-400MF and ResNeXt-50 32x4d, each for a square RGB input of any resolution
(default 224), as torchvision defines them.

Most of them gate their feature maps with squeeze-and-excitation (Hu et al., "Squeeze-and-Excitation Networks",
2018): a global average pool to (C, 1, 1), two 1x1 convs (a squeeze to S channels and back to C, each with a real
bias and no batch-norm), a sigmoid (or hard sigmoid), and a channel-wise product with the map. In the cost model
(version 2) that is a global ``pool``, two ``conv`` layers on a 1x1 map and a ``mul`` whose second operand is
(C, 1, 1) and broadcasts over H x W. The activations (ReLU, hard swish, SiLU, sigmoid, hard sigmoid) and every
batch-norm fold into their producers, so every conv has ``bias=True`` (formulations/cost-model.md §1).

Architecture facts, from torchvision's ``torchvision.models``:

- channel counts are rounded by :func:`make_divisible` (torchvision's ``_make_divisible``: to the nearest multiple
  of 8, never below 8 nor more than 10 % below the exact value);
- MobileNetV3 (Howard et al., "Searching for MobileNetV3", 2019): the bneck tables of :data:`MOBILENET_V3_LARGE`
  and :data:`MOBILENET_V3_SMALL`; an SE block squeezes its expanded channels E to ``make_divisible(E // 4)``; the
  last 1x1 conv has 6x the last block's channels; the classifier is fc, hard swish, dropout, fc;
- EfficientNet-B0 (Tan & Le 2019, Table 1): the MBConv stages of :data:`EFFICIENTNET_B0`; every block has an SE
  block that squeezes to a quarter of the *block input* channels (``max(1, C_in // 4)``); the head is a 1x1 conv to
  4x the last stage's channels (1280);
- MNASNet 1.0 (Tan et al. 2019, torchvision's "B1" variant, without SE): the stacks of :data:`MNASNET_1_0`; the
  global pool is ``x.mean([2, 3])``, which exports to ONNX as a ReduceMean;
- RegNetY-400MF (Radosavovic et al., "Designing Network Design Spaces", 2020): depth 16, w0 48, wa 27.89, wm 2.09,
  group width 8, SE ratio 0.25 of the *block input* width, bottleneck ratio 1, from which :func:`regnet_stages`
  derives the stage widths 48/104/208/440 and depths 1/3/6/6 as torchvision's ``BlockParams`` does;
- ResNeXt-50 32x4d (Xie et al. 2017): ResNet-50 v1.5 whose bottleneck is 2·planes wide (32 groups of 4 channels
  per 64 planes) with a grouped 3x3 conv.

Layer names are torchvision's module names (``features.4.block.2.fc1``, ``trunk_output.block2.block2-0.f.b.0``,
``layers.8.0.layers.3``), with ``.mul`` for the SE product, ``.add`` for residual sums and ``mean`` for MNASNet's
pool, which torchvision writes in ``forward``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from ..model.network import Network
from . import ZooEntry
from .builder import NetBuilder
from .classic import _stem

__all__ = [
    "mobilenet_v3_large", "mobilenet_v3_small", "efficientnet_b0", "mnasnet1_0", "regnet_y_400mf",
    "resnext50_32x4d", "make_divisible", "regnet_stages", "ENTRIES",
]


def make_divisible(value: float, divisor: int = 8) -> int:
    """``value`` rounded to the nearest multiple of ``divisor`` (halves up), at least ``divisor``, and raised by one
    more ``divisor`` when rounding took off more than 10 % (torchvision's channel rounding, ``_make_divisible``)."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def _squeeze_excite(b: NetBuilder, x: str, squeeze: int, prefix: str) -> str:
    """A squeeze-and-excitation gate on ``x``: global average pool, 1x1 conv to ``squeeze`` channels, 1x1 conv back
    to the map's channels (both with their own bias; the activations between fold), and the channel-wise product of
    the map with the (C, 1, 1) gate, which broadcasts over H x W."""
    channels = b.shape(x)[0]
    gate = b.pool(x, global_pool=True, mode="avg", name=f"{prefix}.avgpool")
    gate = b.conv(gate, squeeze, 1, name=f"{prefix}.fc1")
    gate = b.conv(gate, channels, 1, name=f"{prefix}.fc2")
    return b.mul(x, gate, name=f"{prefix}.mul")


def _same(kernel: int, dilation: int = 1) -> int:
    """The symmetric padding that keeps H and W at stride 1 (torchvision's ``(k - 1) // 2 * dilation``)."""
    return (kernel - 1) // 2 * dilation


# -- MobileNetV3 -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bneck:
    """One MobileNetV3 bottleneck row (the paper's Tables 1 and 2, torchvision's ``InvertedResidualConfig``):
    kernel of the depthwise conv, expanded channels, output channels, whether it has an SE block and its stride.
    The activation (ReLU or hard swish) folds, so it is not recorded."""

    kernel: int
    expanded: int
    out: int
    se: bool
    stride: int


MOBILENET_V3_LARGE: tuple[Bneck, ...] = (
    Bneck(3, 16, 16, False, 1), Bneck(3, 64, 24, False, 2), Bneck(3, 72, 24, False, 1),
    Bneck(5, 72, 40, True, 2), Bneck(5, 120, 40, True, 1), Bneck(5, 120, 40, True, 1),
    Bneck(3, 240, 80, False, 2), Bneck(3, 200, 80, False, 1), Bneck(3, 184, 80, False, 1),
    Bneck(3, 184, 80, False, 1), Bneck(3, 480, 112, True, 1), Bneck(3, 672, 112, True, 1),
    Bneck(5, 672, 160, True, 2), Bneck(5, 960, 160, True, 1), Bneck(5, 960, 160, True, 1),
)
MOBILENET_V3_SMALL: tuple[Bneck, ...] = (
    Bneck(3, 16, 16, True, 2), Bneck(3, 72, 24, False, 2), Bneck(3, 88, 24, False, 1),
    Bneck(5, 96, 40, True, 2), Bneck(5, 240, 40, True, 1), Bneck(5, 240, 40, True, 1),
    Bneck(5, 120, 48, True, 1), Bneck(5, 144, 48, True, 1), Bneck(5, 288, 96, True, 2),
    Bneck(5, 576, 96, True, 1), Bneck(5, 576, 96, True, 1),
)


def _mobilenet_v3(name: str, table: Sequence[Bneck], last_channel: int, resolution: int) -> Network:
    """A MobileNetV3: a 3x3/2 conv to 16 channels, the bneck rows (1x1 expand unless the expansion keeps the
    channels, depthwise kxk, SE, 1x1 linear projection, a residual sum at stride 1 with equal channels), a 1x1 conv
    to 6x the last row's channels, global average pool, fc to ``last_channel`` and fc to 1000."""
    b = NetBuilder(name)
    x = b.input(3, resolution, resolution)
    x = b.conv(x, 16, 3, stride=2, padding=1, name="features.0.0")
    for index, row in enumerate(table, start=1):
        prefix = f"features.{index}"
        in_channels = b.shape(x)[0]
        y, part = x, 0
        if row.expanded != in_channels:
            y = b.conv(y, row.expanded, 1, name=f"{prefix}.block.{part}.0")
            part += 1
        y = b.dwconv(y, row.expanded, row.kernel, stride=row.stride, padding=_same(row.kernel),
                     name=f"{prefix}.block.{part}.0")
        part += 1
        if row.se:
            y = _squeeze_excite(b, y, make_divisible(row.expanded // 4), f"{prefix}.block.{part}")
            part += 1
        y = b.conv(y, row.out, 1, name=f"{prefix}.block.{part}.0")
        if row.stride == 1 and in_channels == row.out:
            y = b.add(y, x, name=f"{prefix}.add")
        x = y
    x = b.conv(x, 6 * b.shape(x)[0], 1, name=f"features.{len(table) + 1}.0")
    x = b.pool(x, global_pool=True, mode="avg", name="avgpool")
    x = b.fc(x, last_channel, name="classifier.0")
    b.fc(x, 1000, name="classifier.3")
    return b.build()


def mobilenet_v3_large(resolution: int = 224) -> Network:
    """MobileNetV3-Large 1.0 as in torchvision: 15 bneck rows, 960 channels before the pool, a 1280-wide
    classifier."""
    return _mobilenet_v3("mobilenet_v3_large", MOBILENET_V3_LARGE, 1280, resolution)


def mobilenet_v3_small(resolution: int = 224) -> Network:
    """MobileNetV3-Small 1.0 as in torchvision: 11 bneck rows, 576 channels before the pool, a 1024-wide
    classifier."""
    return _mobilenet_v3("mobilenet_v3_small", MOBILENET_V3_SMALL, 1024, resolution)


# -- EfficientNet-B0 ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MBConvStage:
    """One stage of EfficientNet (the paper's Table 1, torchvision's ``MBConvConfig``): expansion ratio, kernel of
    the depthwise conv, stride of the stage's first block, input and output channels, and the number of blocks."""

    expand: int
    kernel: int
    stride: int
    in_channels: int
    out_channels: int
    blocks: int


EFFICIENTNET_B0: tuple[MBConvStage, ...] = (
    MBConvStage(1, 3, 1, 32, 16, 1), MBConvStage(6, 3, 2, 16, 24, 2), MBConvStage(6, 5, 2, 24, 40, 2),
    MBConvStage(6, 3, 2, 40, 80, 3), MBConvStage(6, 5, 1, 80, 112, 3), MBConvStage(6, 5, 2, 112, 192, 4),
    MBConvStage(6, 3, 1, 192, 320, 1),
)


def efficientnet_b0(resolution: int = 224) -> Network:
    """EfficientNet-B0 as in torchvision: a 3x3/2 conv to 32 channels, 16 MBConv blocks in 7 stages (1x1 expand
    unless the ratio is 1, depthwise kxk, SE squeezing to a quarter of the block input channels, 1x1 projection,
    residual sum where stride is 1 and the channels are kept), a 1x1 conv to 1280, global average pool, fc to 1000.
    Stochastic depth and dropout only act in training and leave no layer."""
    b = NetBuilder("efficientnet_b0")
    x = b.input(3, resolution, resolution)
    x = b.conv(x, EFFICIENTNET_B0[0].in_channels, 3, stride=2, padding=1, name="features.0.0")
    for s, stage in enumerate(EFFICIENTNET_B0, start=1):
        for i in range(stage.blocks):
            prefix = f"features.{s}.{i}"
            in_channels = b.shape(x)[0]
            stride = stage.stride if i == 0 else 1
            expanded = make_divisible(in_channels * stage.expand)
            y, part = x, 0
            if expanded != in_channels:
                y = b.conv(y, expanded, 1, name=f"{prefix}.block.{part}.0")
                part += 1
            y = b.dwconv(y, expanded, stage.kernel, stride=stride, padding=_same(stage.kernel),
                         name=f"{prefix}.block.{part}.0")
            y = _squeeze_excite(b, y, max(1, in_channels // 4), f"{prefix}.block.{part + 1}")
            y = b.conv(y, stage.out_channels, 1, name=f"{prefix}.block.{part + 2}.0")
            if stride == 1 and in_channels == stage.out_channels:
                y = b.add(y, x, name=f"{prefix}.add")
            x = y
    x = b.conv(x, 4 * b.shape(x)[0], 1, name=f"features.{len(EFFICIENTNET_B0) + 1}.0")
    x = b.pool(x, global_pool=True, mode="avg", name="avgpool")
    b.fc(x, 1000, name="classifier.1")
    return b.build()


# -- MNASNet 1.0 -------------------------------------------------------------------------------------------------

#: MNASNet 1.0's stacks of inverted residuals (torchvision's ``_stack`` calls): output channels, kernel, stride of
#: the first block, expansion factor, repeats. The stem ends at 16 channels.
MNASNET_1_0: tuple[tuple[int, int, int, int, int], ...] = (
    (24, 3, 2, 3, 3), (40, 5, 2, 3, 3), (80, 5, 2, 6, 3), (96, 3, 1, 6, 2), (192, 5, 2, 6, 4), (320, 3, 1, 6, 1),
)


def mnasnet1_0(resolution: int = 224) -> Network:
    """MNASNet 1.0 as in torchvision (the B1 variant, no SE): a 3x3/2 conv to 32 channels, a depthwise-separable
    pair to 16, six stacks of inverted residuals (1x1 expand, depthwise kxk, 1x1 projection; a residual sum in all
    but each stack's first block), a 1x1 conv to 1280, the mean over H and W, fc to 1000."""
    b = NetBuilder("mnasnet1_0")
    x = b.input(3, resolution, resolution)
    x = b.conv(x, 32, 3, stride=2, padding=1, name="layers.0")
    x = b.dwconv(x, 32, 3, padding=1, name="layers.3")
    x = b.conv(x, 16, 1, name="layers.6")
    for index, (out, kernel, stride, expand, repeats) in enumerate(MNASNET_1_0, start=8):
        for i in range(repeats):
            prefix = f"layers.{index}.{i}"
            in_channels = b.shape(x)[0]
            mid = in_channels * expand
            y = b.conv(x, mid, 1, name=f"{prefix}.layers.0")
            y = b.dwconv(y, mid, kernel, stride=stride if i == 0 else 1, padding=kernel // 2,
                         name=f"{prefix}.layers.3")
            y = b.conv(y, out, 1, name=f"{prefix}.layers.6")
            if i > 0:
                y = b.add(y, x, name=f"{prefix}.add")
            x = y
    x = b.conv(x, 1280, 1, name=f"layers.{8 + len(MNASNET_1_0)}")
    x = b.pool(x, global_pool=True, mode="avg", name="mean")
    b.fc(x, 1000, name="classifier.1")
    return b.build()


# -- RegNetY-400MF -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegNetStage:
    """One RegNet stage: output width, number of blocks and group width (every stage starts with stride 2)."""

    width: int
    depth: int
    group_width: int


def regnet_stages(depth: int, w0: int, wa: float, wm: float, group_width: int) -> tuple[RegNetStage, ...]:
    """The stages of a RegNet from its design-space parameters (Radosavovic et al. 2020, §3.3), as torchvision's
    ``BlockParams.from_init_params`` computes them with a bottleneck ratio of 1.

    Block j has the continuous width w0 + wa·j, quantised in log space to w0·wm^k (k the nearest integer) and then
    to a multiple of 8; consecutive blocks of equal width form a stage. A stage's group width is at most its width,
    and the width is rounded (:func:`make_divisible`) to a multiple of the group width.
    """
    widths = []
    for j in range(depth):
        k = round(math.log((w0 + wa * j) / w0) / math.log(wm))
        widths.append(int(round(w0 * wm ** k / 8)) * 8)
    stages: list[list[int]] = []
    for w in widths:
        if stages and stages[-1][0] == w:
            stages[-1][1] += 1
        else:
            stages.append([w, 1])
    out = []
    for w, d in stages:
        g = min(group_width, w)
        out.append(RegNetStage(make_divisible(w, g), d, g))
    return tuple(out)


def regnet_y_400mf(resolution: int = 224) -> Network:
    """RegNetY-400MF as in torchvision: a 3x3/2 stem conv to 32 channels, 16 residual bottleneck blocks in the
    stages 48/104/208/440 wide (1/3/6/6 blocks, group width 8), global average pool, fc to 1000.

    A block is a 1x1 conv to the stage width, a grouped 3x3 conv carrying the stride (width / 8 groups), an SE
    block squeezing to round(0.25 x the block *input* width), a 1x1 conv, and the sum with the input or with its
    1x1 projection (strided) where width or stride change.
    """
    b = NetBuilder("regnet_y_400mf")
    x = b.input(3, resolution, resolution)
    x = b.conv(x, 32, 3, stride=2, padding=1, name="stem.0")
    for s, stage in enumerate(regnet_stages(16, 48, 27.89, 2.09, 8), start=1):
        for i in range(stage.depth):
            prefix = f"trunk_output.block{s}.block{s}-{i}"
            width_in = b.shape(x)[0]
            stride = 2 if i == 0 else 1
            y = b.conv(x, stage.width, 1, name=f"{prefix}.f.a.0")
            y = b.conv(y, stage.width, 3, stride=stride, padding=1, groups=stage.width // stage.group_width,
                       name=f"{prefix}.f.b.0")
            y = _squeeze_excite(b, y, int(round(0.25 * width_in)), f"{prefix}.f.se")
            y = b.conv(y, stage.width, 1, name=f"{prefix}.f.c.0")
            shortcut = x
            if width_in != stage.width or stride != 1:
                shortcut = b.conv(x, stage.width, 1, stride=stride, name=f"{prefix}.proj.0")
            x = b.add(shortcut, y, name=f"{prefix}.add")
    x = b.pool(x, global_pool=True, mode="avg", name="avgpool")
    b.fc(x, 1000, name="fc")
    return b.build()


# -- ResNeXt-50 32x4d --------------------------------------------------------------------------------------------


def resnext50_32x4d(resolution: int = 224) -> Network:
    """ResNeXt-50 32x4d as in torchvision: ResNet-50 v1.5 (bottlenecks 3/4/6/3, stride on the 3x3 conv) whose
    bottleneck width is planes x 4 / 64 x 32 = 2·planes, with 32 groups in its 3x3 conv."""
    b = NetBuilder("resnext50_32x4d")
    x = b.input(3, resolution, resolution)
    x = _stem(b, x, "conv1", "maxpool")
    groups, width_per_group = 32, 4
    for stage, (planes, count) in enumerate(zip((64, 128, 256, 512), (3, 4, 6, 3)), start=1):
        width = planes * width_per_group // 64 * groups
        for i in range(count):
            prefix = f"layer{stage}.{i}"
            stride = 2 if stage > 1 and i == 0 else 1
            in_channels = b.shape(x)[0]
            y = b.conv(x, width, 1, name=f"{prefix}.conv1")
            y = b.conv(y, width, 3, stride=stride, padding=1, groups=groups, name=f"{prefix}.conv2")
            y = b.conv(y, 4 * planes, 1, name=f"{prefix}.conv3")
            shortcut = x
            if stride != 1 or in_channels != 4 * planes:
                shortcut = b.conv(x, 4 * planes, 1, stride=stride, name=f"{prefix}.downsample.0")
            x = b.add(y, shortcut, name=f"{prefix}.add")
    x = b.pool(x, global_pool=True, mode="avg", name="avgpool")
    b.fc(x, 1000, name="fc")
    return b.build()


# -- the registry ------------------------------------------------------------------------------------------------


def _tv(weights: str, params: int, gflops: float) -> str:
    return (f"torchvision, {weights}.IMAGENET1K_V1 meta at 224x224: num_params {params:,}; _ops {gflops} GFLOPS "
            f"(multiply-adds; the docs round it to {gflops:.2f})")


ENTRIES: list[ZooEntry] = [
    ZooEntry("mobilenet_v3_large", mobilenet_v3_large, 224, 5_483_032, 0.217e9,
             _tv("MobileNet_V3_Large_Weights", 5_483_032, 0.217)),
    ZooEntry("mobilenet_v3_small", mobilenet_v3_small, 224, 2_542_856, 0.057e9,
             _tv("MobileNet_V3_Small_Weights", 2_542_856, 0.057)),
    ZooEntry("efficientnet_b0", efficientnet_b0, 224, 5_288_548, 0.386e9,
             _tv("EfficientNet_B0_Weights", 5_288_548, 0.386)),
    ZooEntry("mnasnet1_0", mnasnet1_0, 224, 4_383_312, 0.314e9, _tv("MNASNet1_0_Weights", 4_383_312, 0.314)),
    ZooEntry("regnet_y_400mf", regnet_y_400mf, 224, 4_344_144, 0.402e9,
             _tv("RegNet_Y_400MF_Weights", 4_344_144, 0.402)),
    ZooEntry("resnext50_32x4d", resnext50_32x4d, 224, 25_028_904, 4.23e9,
             _tv("ResNeXt50_32X4D_Weights", 25_028_904, 4.23)),
]
