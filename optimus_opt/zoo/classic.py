"""Classic image classifiers: AlexNet, VGG-16/19, ResNet-18/34/50/101/152, MobileNetV1, MobileNetV2,
SqueezeNet 1.0/1.1 and DenseNet-121, each for a square RGB input of any resolution (default 224).

Definitions follow torchvision's ``torchvision.models`` (the architectures, channel counts, strides, paddings and
module names) wherever torchvision has the network:

- AlexNet is torchvision's single-tower variant (Krizhevsky, "One weird trick...", 2014) with 64/192/384/256/256
  channels, not the two-tower original of 2012;
- ResNet-50/101/152 are torchvision's "v1.5": a bottleneck's stride sits on its 3x3 conv, not on its first 1x1;
- DenseNet-121 has growth rate 32, blocks 6/12/24/16, bottleneck width 4·growth and compression 0.5.

MobileNetV1 is not in torchvision; it follows Howard et al., "MobileNets: Efficient Convolutional Neural Networks
for Mobile Vision Applications" (2017), Table 1, width multiplier 1.0, with symmetric padding 1 on every 3x3 conv
(the output sizes equal TensorFlow's "SAME" ones, so weights and MACs are the same).

The rules of our model (formulations/cost-model.md §1) apply throughout: batch-norm, ReLU/ReLU6, dropout and flatten have no
layer; every conv and fc has ``bias=True`` (a folded batch-norm leaves a per-channel bias, original biases stay);
an fc flattens its input; a depthwise conv is a conv with groups equal to its channels. Layer names are
torchvision's module names (``features.3``, ``layer1.0.conv1``, ``features.denseblock1.denselayer1.conv2``), with
``.add`` / ``.cat`` for the element-wise sums and concatenations torchvision writes in ``forward``.
"""

from __future__ import annotations

from typing import Sequence

from ..model.network import Network
from . import ZooEntry
from .builder import NetBuilder

__all__ = [
    "alexnet", "vgg16", "vgg19", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
    "mobilenet_v1", "mobilenet_v2", "squeezenet1_0", "squeezenet1_1", "densenet121", "ENTRIES",
]


# -- shared pieces -----------------------------------------------------------------------------------------------


def _adaptive_avg_pool(b: NetBuilder, x: str, size: int, name: str) -> str:
    """torchvision's ``AdaptiveAvgPool2d(size)`` before a classifier, as far as our model can express it.

    An identity when the map already is ``size`` x ``size`` (no layer); an average pool of kernel = stride =
    H / size when ``size`` divides the map; otherwise no layer, and the fc reads the map as it is (its weights
    then grow or shrink with the map, where torchvision would resample the map to ``size`` x ``size``).
    """
    _, h, w = b.shape(x)
    if (h, w) == (size, size) or h % size or w % size:
        return x
    return b.pool(x, (h // size, w // size), mode="avg", name=name)


def _ceil_mode_max_pool(b: NetBuilder, x: str, kernel: int, stride: int, name: str) -> str:
    """A max pool with PyTorch's ``ceil_mode=True`` (no padding), written as a floor-mode pool."""
    _, h, w = b.shape(x)
    extra_h, extra_w = (-(h - kernel)) % stride, (-(w - kernel)) % stride
    # ceil_mode emulated: extra bottom/right padding makes floor((H + extra - k)/s) + 1 equal ceil((H - k)/s) + 1.
    return b.pool(x, kernel, stride, padding=(0, extra_h, 0, extra_w), name=name)


def _stem(b: NetBuilder, x: str, conv_name: str, pool_name: str) -> str:
    """The ResNet/DenseNet stem: a 7x7/2 conv to 64 channels (padding 3), a 3x3/2 max pool (padding 1)."""
    y = b.conv(x, 64, 7, stride=2, padding=3, name=conv_name)
    return b.pool(y, 3, 2, padding=1, name=pool_name)


# -- AlexNet and VGG ---------------------------------------------------------------------------------------------


def alexnet(resolution: int = 224) -> Network:
    """AlexNet as in torchvision (the "One weird trick" variant: 64/192/384/256/256 channels).

    torchvision's ``AdaptiveAvgPool2d((6, 6))`` is an identity at 224 (the features end at 6x6); at other
    resolutions it becomes an average pool when 6 divides the final map (e.g. 12x12 at 416), and otherwise the fc
    reads the final map as it is, so ``classifier.1`` has C·H·W·4096 weights for that H x W (see
    :func:`_adaptive_avg_pool`).
    """
    b = NetBuilder("alexnet")
    x = b.input(3, resolution, resolution)
    x = b.conv(x, 64, 11, stride=4, padding=2, name="features.0")
    x = b.pool(x, 3, 2, name="features.2")
    x = b.conv(x, 192, 5, padding=2, name="features.3")
    x = b.pool(x, 3, 2, name="features.5")
    x = b.conv(x, 384, 3, padding=1, name="features.6")
    x = b.conv(x, 256, 3, padding=1, name="features.8")
    x = b.conv(x, 256, 3, padding=1, name="features.10")
    x = b.pool(x, 3, 2, name="features.12")
    x = _adaptive_avg_pool(b, x, 6, "avgpool")
    x = b.fc(x, 4096, name="classifier.1")
    x = b.fc(x, 4096, name="classifier.4")
    b.fc(x, 1000, name="classifier.6")
    return b.build()


#: VGG configurations (Simonyan & Zisserman 2014, Table 1, columns D and E): channels of each 3x3 conv, "M" a
#: 2x2/2 max pool.
_VGG_CFG: dict[str, tuple[int | str, ...]] = {
    "vgg16": (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"),
    "vgg19": (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
              512, 512, 512, 512, "M"),
}


def _vgg(name: str, resolution: int) -> Network:
    b = NetBuilder(name)
    x = b.input(3, resolution, resolution)
    index = 0  # torchvision's index into ``features``: a conv and its ReLU take two slots, a pool one
    for item in _VGG_CFG[name]:
        if item == "M":
            x = b.pool(x, 2, 2, name=f"features.{index}")
            index += 1
        else:
            assert isinstance(item, int)
            x = b.conv(x, item, 3, padding=1, name=f"features.{index}")
            index += 2
    x = _adaptive_avg_pool(b, x, 7, "avgpool")
    x = b.fc(x, 4096, name="classifier.0")
    x = b.fc(x, 4096, name="classifier.3")
    b.fc(x, 1000, name="classifier.6")
    return b.build()


def vgg16(resolution: int = 224) -> Network:
    """VGG-16 (configuration D) as in torchvision, without batch-norm.

    torchvision's ``AdaptiveAvgPool2d((7, 7))`` is an identity at 224; at other resolutions it becomes an average
    pool when 7 divides the final map (e.g. 14x14 at 448), and otherwise the fc reads the final map as it is
    (e.g. 8x8 at 256, so ``classifier.0`` has 512·8·8·4096 weights).
    """
    return _vgg("vgg16", resolution)


def vgg19(resolution: int = 224) -> Network:
    """VGG-19 (configuration E) as in torchvision, without batch-norm; the classifier input as in :func:`vgg16`."""
    return _vgg("vgg19", resolution)


# -- ResNet ------------------------------------------------------------------------------------------------------


def _basic_block(b: NetBuilder, x: str, planes: int, stride: int, prefix: str) -> str:
    """A ResNet basic block: two 3x3 convs, a 1x1 projection when the shape changes, and the residual sum."""
    in_channels = b.shape(x)[0]
    y = b.conv(x, planes, 3, stride=stride, padding=1, name=f"{prefix}.conv1")
    y = b.conv(y, planes, 3, padding=1, name=f"{prefix}.conv2")
    shortcut = x
    if stride != 1 or in_channels != planes:
        shortcut = b.conv(x, planes, 1, stride=stride, name=f"{prefix}.downsample.0")
    return b.add(y, shortcut, name=f"{prefix}.add")


def _bottleneck(b: NetBuilder, x: str, planes: int, stride: int, prefix: str) -> str:
    """A ResNet v1.5 bottleneck: 1x1 reduce, 3x3 (carrying the stride), 1x1 expand to 4·planes, and the sum."""
    in_channels = b.shape(x)[0]
    out_channels = 4 * planes
    y = b.conv(x, planes, 1, name=f"{prefix}.conv1")
    y = b.conv(y, planes, 3, stride=stride, padding=1, name=f"{prefix}.conv2")
    y = b.conv(y, out_channels, 1, name=f"{prefix}.conv3")
    shortcut = x
    if stride != 1 or in_channels != out_channels:
        shortcut = b.conv(x, out_channels, 1, stride=stride, name=f"{prefix}.downsample.0")
    return b.add(y, shortcut, name=f"{prefix}.add")


def _resnet(name: str, bottleneck: bool, blocks: Sequence[int], resolution: int) -> Network:
    b = NetBuilder(name)
    x = b.input(3, resolution, resolution)
    x = _stem(b, x, "conv1", "maxpool")
    block = _bottleneck if bottleneck else _basic_block
    for stage, (planes, count) in enumerate(zip((64, 128, 256, 512), blocks), start=1):
        for i in range(count):
            stride = 2 if stage > 1 and i == 0 else 1
            x = block(b, x, planes, stride, f"layer{stage}.{i}")
    x = b.pool(x, global_pool=True, mode="avg", name="avgpool")
    b.fc(x, 1000, name="fc")
    return b.build()


def resnet18(resolution: int = 224) -> Network:
    """ResNet-18 (He et al. 2015) as in torchvision: basic blocks 2/2/2/2."""
    return _resnet("resnet18", False, (2, 2, 2, 2), resolution)


def resnet34(resolution: int = 224) -> Network:
    """ResNet-34 as in torchvision: basic blocks 3/4/6/3."""
    return _resnet("resnet34", False, (3, 4, 6, 3), resolution)


def resnet50(resolution: int = 224) -> Network:
    """ResNet-50 v1.5 as in torchvision: bottlenecks 3/4/6/3, stride on the 3x3 conv."""
    return _resnet("resnet50", True, (3, 4, 6, 3), resolution)


def resnet101(resolution: int = 224) -> Network:
    """ResNet-101 v1.5 as in torchvision: bottlenecks 3/4/23/3."""
    return _resnet("resnet101", True, (3, 4, 23, 3), resolution)


def resnet152(resolution: int = 224) -> Network:
    """ResNet-152 v1.5 as in torchvision: bottlenecks 3/8/36/3."""
    return _resnet("resnet152", True, (3, 8, 36, 3), resolution)


# -- MobileNets --------------------------------------------------------------------------------------------------

#: MobileNetV1 body (Howard et al. 2017, Table 1): (stride of the depthwise 3x3, channels of the pointwise 1x1).
#: The table's last depthwise row says "s2" but maps 7x7 to 7x7; it is stride 1, as in every implementation.
_MOBILENET_V1: tuple[tuple[int, int], ...] = (
    (1, 64), (2, 128), (1, 128), (2, 256), (1, 256), (2, 512),
    (1, 512), (1, 512), (1, 512), (1, 512), (1, 512),
    (2, 1024), (1, 1024),
)


def mobilenet_v1(resolution: int = 224) -> Network:
    """MobileNetV1 1.0 (Howard et al. 2017, Table 1): a 3x3/2 conv to 32 channels, 13 depthwise-separable pairs,
    global average pool, fc to 1000. Names follow TF-slim's ``Conv2d_{i}_depthwise`` / ``Conv2d_{i}_pointwise``.
    """
    b = NetBuilder("mobilenet_v1")
    x = b.input(3, resolution, resolution)
    x = b.conv(x, 32, 3, stride=2, padding=1, name="Conv2d_0")
    for i, (stride, channels) in enumerate(_MOBILENET_V1, start=1):
        x = b.dwconv(x, b.shape(x)[0], 3, stride=stride, padding=1, name=f"Conv2d_{i}_depthwise")
        x = b.conv(x, channels, 1, name=f"Conv2d_{i}_pointwise")
    x = b.pool(x, global_pool=True, mode="avg", name="avgpool")
    b.fc(x, 1000, name="fc")
    return b.build()


#: MobileNetV2 inverted-residual settings (Sandler et al. 2018, Table 2; torchvision): expansion t, output
#: channels c, repeats n, first stride s.
_MOBILENET_V2: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
)


def _inverted_residual(b: NetBuilder, x: str, channels: int, stride: int, expansion: int, prefix: str) -> str:
    """A MobileNetV2 block: 1x1 expand (unless t = 1), 3x3 depthwise, 1x1 linear projection, and the residual sum
    when stride is 1 and the channels are kept. Names are torchvision's conv modules inside ``{prefix}.conv``."""
    in_channels = b.shape(x)[0]
    hidden = in_channels * expansion
    y, part = x, 0
    if expansion != 1:
        y = b.conv(y, hidden, 1, name=f"{prefix}.conv.{part}.0")
        part += 1
    y = b.dwconv(y, hidden, 3, stride=stride, padding=1, name=f"{prefix}.conv.{part}.0")
    y = b.conv(y, channels, 1, name=f"{prefix}.conv.{part + 1}")
    if stride == 1 and in_channels == channels:
        y = b.add(y, x, name=f"{prefix}.add")
    return y


def mobilenet_v2(resolution: int = 224) -> Network:
    """MobileNetV2 1.0 as in torchvision: a 3x3/2 conv to 32 channels, 17 inverted residuals, a 1x1 conv to 1280,
    global average pool, fc to 1000."""
    b = NetBuilder("mobilenet_v2")
    x = b.input(3, resolution, resolution)
    x = b.conv(x, 32, 3, stride=2, padding=1, name="features.0.0")
    index = 1
    for t, c, n, s in _MOBILENET_V2:
        for i in range(n):
            x = _inverted_residual(b, x, c, s if i == 0 else 1, t, f"features.{index}")
            index += 1
    x = b.conv(x, 1280, 1, name=f"features.{index}.0")
    x = b.pool(x, global_pool=True, mode="avg", name="avgpool")
    b.fc(x, 1000, name="classifier.1")
    return b.build()


# -- SqueezeNet --------------------------------------------------------------------------------------------------


def _fire(b: NetBuilder, x: str, squeeze: int, expand: int, prefix: str) -> str:
    """A fire module: 1x1 squeeze, then 1x1 and 3x3 expands (``expand`` channels each) concatenated."""
    s = b.conv(x, squeeze, 1, name=f"{prefix}.squeeze")
    e1 = b.conv(s, expand, 1, name=f"{prefix}.expand1x1")
    e3 = b.conv(s, expand, 3, padding=1, name=f"{prefix}.expand3x3")
    return b.concat([e1, e3], name=f"{prefix}.cat")


def _squeezenet(name: str, stem: tuple[int, int], body: Sequence[tuple[int, int] | str], resolution: int
                ) -> Network:
    """SqueezeNet: a strided stem conv, ceil-mode 3x3/2 max pools ("M") between fire modules given as
    (squeeze, expand), and a 1x1 conv classifier followed by a global average pool."""
    b = NetBuilder(name)
    x = b.input(3, resolution, resolution)
    channels, kernel = stem
    x = b.conv(x, channels, kernel, stride=2, name="features.0")
    x = _ceil_mode_max_pool(b, x, 3, 2, "features.2")
    for index, item in enumerate(body, start=3):
        if item == "M":
            x = _ceil_mode_max_pool(b, x, 3, 2, f"features.{index}")
        else:
            squeeze, expand = item
            x = _fire(b, x, squeeze, expand, f"features.{index}")
    x = b.conv(x, 1000, 1, name="classifier.1")
    b.pool(x, global_pool=True, mode="avg", name="classifier.3")
    return b.build()


def squeezenet1_0(resolution: int = 224) -> Network:
    """SqueezeNet 1.0 (Iandola et al. 2016) as in torchvision: a 7x7/2 conv to 96 channels, fires 2-9."""
    body: tuple[tuple[int, int] | str, ...] = (
        (16, 64), (16, 64), (32, 128), "M", (32, 128), (48, 192), (48, 192), (64, 256), "M", (64, 256))
    return _squeezenet("squeezenet1_0", (96, 7), body, resolution)


def squeezenet1_1(resolution: int = 224) -> Network:
    """SqueezeNet 1.1 as in torchvision: a 3x3/2 conv to 64 channels, pools moved earlier."""
    body: tuple[tuple[int, int] | str, ...] = (
        (16, 64), (16, 64), "M", (32, 128), (32, 128), "M", (48, 192), (48, 192), (64, 256), (64, 256))
    return _squeezenet("squeezenet1_1", (64, 3), body, resolution)


# -- DenseNet ----------------------------------------------------------------------------------------------------


def _dense_layer(b: NetBuilder, features: Sequence[str], growth: int, bn_size: int, prefix: str) -> str:
    """A DenseNet-B layer: the concatenation of every earlier feature map of the block (no layer when there is
    only one), a 1x1 conv to bn_size·growth, a 3x3 conv to growth. Its batch-norms and ReLUs are folded."""
    x = features[0] if len(features) == 1 else b.concat(list(features), name=f"{prefix}.cat")
    y = b.conv(x, bn_size * growth, 1, name=f"{prefix}.conv1")
    return b.conv(y, growth, 3, padding=1, name=f"{prefix}.conv2")


def densenet121(resolution: int = 224) -> Network:
    """DenseNet-121 (Huang et al. 2017) as in torchvision: growth 32, blocks 6/12/24/16, bn_size 4, compression 0.5.

    As in torchvision's ``forward``, every dense layer concatenates all earlier maps of its block afresh
    (``features.denseblockB.denselayerL.cat``, a concat with L inputs), and each block ends with the concat of all
    its maps (``features.denseblockB.cat``), which the transition (1x1 conv halving the channels, 2x2/2 average
    pool) or the final global average pool reads.
    """
    growth, bn_size = 32, 4
    b = NetBuilder("densenet121")
    x = b.input(3, resolution, resolution)
    x = _stem(b, x, "features.conv0", "features.pool0")
    blocks = (6, 12, 24, 16)
    for block, count in enumerate(blocks, start=1):
        features = [x]
        for layer in range(1, count + 1):
            features.append(_dense_layer(b, features, growth, bn_size,
                                         f"features.denseblock{block}.denselayer{layer}"))
        x = b.concat(features, name=f"features.denseblock{block}.cat")
        if block < len(blocks):
            x = b.conv(x, b.shape(x)[0] // 2, 1, name=f"features.transition{block}.conv")
            x = b.pool(x, 2, 2, mode="avg", name=f"features.transition{block}.pool")
    x = b.pool(x, global_pool=True, mode="avg", name="avgpool")
    b.fc(x, 1000, name="classifier")
    return b.build()


# -- the registry ------------------------------------------------------------------------------------------------

_TV = "torchvision.models docs (IMAGENET1K_V1 weights: num_params, GFLOPS = GMACs at 224x224)"

ENTRIES: list[ZooEntry] = [
    ZooEntry("alexnet", alexnet, 224, 61.1e6, 0.71e9, _TV),
    ZooEntry("vgg16", vgg16, 224, 138.4e6, 15.5e9, _TV),
    ZooEntry("vgg19", vgg19, 224, 143.7e6, 19.63e9, _TV),
    ZooEntry("resnet18", resnet18, 224, 11.7e6, 1.81e9, _TV),
    ZooEntry("resnet34", resnet34, 224, 21.8e6, 3.66e9, _TV),
    ZooEntry("resnet50", resnet50, 224, 25.6e6, 4.09e9, _TV),
    ZooEntry("resnet101", resnet101, 224, 44.5e6, 7.80e9, _TV),
    ZooEntry("resnet152", resnet152, 224, 60.2e6, 11.51e9, _TV),
    ZooEntry("mobilenet_v1", mobilenet_v1, 224, 4.2e6, 569e6,
             "Howard et al. 2017, MobileNets, Tables 8/9 row '1.0 MobileNet-224' (million parameters, "
             "million mult-adds)"),
    ZooEntry("mobilenet_v2", mobilenet_v2, 224, 3.50e6, 0.30e9, _TV),
    ZooEntry("squeezenet1_0", squeezenet1_0, 224, 1.25e6, 0.82e9, _TV),
    ZooEntry("squeezenet1_1", squeezenet1_1, 224, 1.24e6, 0.35e9, _TV),
    ZooEntry("densenet121", densenet121, 224, 8.0e6, 2.83e9, _TV),
]
