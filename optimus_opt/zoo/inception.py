"""Inception networks: GoogLeNet (Inception v1) and Inception-v3, as torchvision defines them.

Definitions follow torchvision's ``torchvision/models/googlenet.py`` (``GoogLeNet``, Szegedy et al., "Going Deeper
with Convolutions", 2015) and ``torchvision/models/inception.py`` (``Inception3``, Szegedy et al., "Rethinking the
Inception Architecture for Computer Vision", 2016), both without their auxiliary classifiers (they only run in
training mode). Every torchvision ``BasicConv2d`` is a bias-free conv followed by batch-norm and ReLU; folded, it
is one conv with a per-channel bias. Dropout, flatten and ReLU leave no layer; the classifier is global average
pooling then an fc.

Deviations, all forced by the cost model's op set:

- torchvision's GoogLeNet pools with ``ceil_mode=True``; there is no such flag here, so those pools get extra
  bottom/right padding that makes the floor-mode output size equal the ceil-mode one (:func:`_ceil_mode_pad`).
- torchvision's GoogLeNet "5x5" branch really uses a 3x3 conv (a known torchvision quirk, pytorch/vision#906);
  this module follows torchvision, so the branch is named ``branch3`` and its conv is 3x3.

Layer names follow torchvision's module names (``inception3a.branch2.1``, ``Mixed_6b.branch7x7dbl_3``, ...).
"""

from __future__ import annotations

import math

from ..model.network import Network
from . import ZooEntry
from .builder import NetBuilder

__all__ = ["googlenet", "inception_v3", "ENTRIES"]


# -- GoogLeNet --------------------------------------------------------------------------------------------------

def _ceil_mode_pad(size: int, kernel: int, stride: int, padding: int = 0) -> int:
    """Extra bottom/right padding that makes a floor-mode pool give PyTorch's ``ceil_mode=True`` output size.

    PyTorch's ceil mode rounds the window count up but drops a last window that would start in the right padding.
    """
    out = math.ceil((size + 2 * padding - kernel) / stride) + 1
    if (out - 1) * stride >= size + padding:
        out -= 1
    return max(0, (out - 1) * stride + kernel - size - 2 * padding)


def _ceil_pool(b: NetBuilder, x: str, kernel: int, stride: int, name: str) -> str:
    """A max pool with ``ceil_mode=True`` (torchvision GoogLeNet), no symmetric padding."""
    _, h, w = b.shape(x)
    eh, ew = _ceil_mode_pad(h, kernel, stride), _ceil_mode_pad(w, kernel, stride)
    # ceil_mode emulated: extra bottom/right padding so the floor-mode output equals the ceil-mode size.
    return b.pool(x, kernel, stride, padding=(0, eh, 0, ew), name=name)


def _inception_v1(b: NetBuilder, x: str, name: str, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int,
                  ch5x5: int, pool_proj: int) -> str:
    """torchvision's ``Inception`` block: four branches concatenated (the "5x5" branch uses a 3x3 conv)."""
    b1 = b.conv(x, ch1x1, 1, name=f"{name}.branch1")
    b2 = b.conv(x, ch3x3red, 1, name=f"{name}.branch2.0")
    b2 = b.conv(b2, ch3x3, 3, padding=1, name=f"{name}.branch2.1")
    b3 = b.conv(x, ch5x5red, 1, name=f"{name}.branch3.0")
    b3 = b.conv(b3, ch5x5, 3, padding=1, name=f"{name}.branch3.1")  # 3x3, as in torchvision (not 5x5)
    # kernel 3, stride 1, padding 1: ceil mode changes nothing here, the output size is the input size.
    b4 = b.pool(x, 3, 1, padding=1, name=f"{name}.branch4.0")
    b4 = b.conv(b4, pool_proj, 1, name=f"{name}.branch4.1")
    return b.concat([b1, b2, b3, b4], name=f"{name}.concat")


_GOOGLENET_BLOCKS: dict[str, tuple[int, int, int, int, int, int]] = {
    # name: (ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj), torchvision's table (the paper's Table 1)
    "inception3a": (64, 96, 128, 16, 32, 32),
    "inception3b": (128, 128, 192, 32, 96, 64),
    "inception4a": (192, 96, 208, 16, 48, 64),
    "inception4b": (160, 112, 224, 24, 64, 64),
    "inception4c": (128, 128, 256, 24, 64, 64),
    "inception4d": (112, 144, 288, 32, 64, 64),
    "inception4e": (256, 160, 320, 32, 128, 128),
    "inception5a": (256, 160, 320, 32, 128, 128),
    "inception5b": (384, 192, 384, 48, 128, 128),
}


def googlenet(resolution: int = 224) -> Network:
    """GoogLeNet (Inception v1) as in torchvision, without the two auxiliary classifiers.

    81 layers: a stem of 3 convs and 2 pools, 9 inception blocks of 8 layers each, 2 more max pools, global average
    pool and fc. At 224x224 the last block's output is 1024x7x7.
    """
    b = NetBuilder("googlenet")
    x = b.input(3, resolution, resolution)
    x = b.conv(x, 64, 7, stride=2, padding=3, name="conv1")
    x = _ceil_pool(b, x, 3, 2, "maxpool1")
    x = b.conv(x, 64, 1, name="conv2")
    x = b.conv(x, 192, 3, padding=1, name="conv3")
    x = _ceil_pool(b, x, 3, 2, "maxpool2")
    for name, cfg in _GOOGLENET_BLOCKS.items():
        if name == "inception4a":
            x = _ceil_pool(b, x, 3, 2, "maxpool3")
        elif name == "inception5a":
            x = _ceil_pool(b, x, 2, 2, "maxpool4")
        x = _inception_v1(b, x, name, *cfg)
    x = b.pool(x, global_pool=True, mode="avg", name="avgpool")
    b.fc(x, 1000, name="fc")
    return b.build()


# -- Inception-v3 -----------------------------------------------------------------------------------------------

def _inception_a(b: NetBuilder, x: str, name: str, pool_features: int) -> str:
    """``InceptionA`` (35x35 grid): 1x1, 1x1-5x5, 1x1-3x3-3x3 and avgpool-1x1 branches."""
    b1 = b.conv(x, 64, 1, name=f"{name}.branch1x1")
    b5 = b.conv(x, 48, 1, name=f"{name}.branch5x5_1")
    b5 = b.conv(b5, 64, 5, padding=2, name=f"{name}.branch5x5_2")
    b3 = b.conv(x, 64, 1, name=f"{name}.branch3x3dbl_1")
    b3 = b.conv(b3, 96, 3, padding=1, name=f"{name}.branch3x3dbl_2")
    b3 = b.conv(b3, 96, 3, padding=1, name=f"{name}.branch3x3dbl_3")
    bp = b.pool(x, 3, 1, padding=1, mode="avg", name=f"{name}.avg_pool")
    bp = b.conv(bp, pool_features, 1, name=f"{name}.branch_pool")
    return b.concat([b1, b5, b3, bp], name=f"{name}.concat")


def _inception_b(b: NetBuilder, x: str, name: str) -> str:
    """``InceptionB`` (grid reduction 35 -> 17): strided 3x3, 1x1-3x3-3x3/2 and max-pool branches."""
    b3 = b.conv(x, 384, 3, stride=2, name=f"{name}.branch3x3")
    bd = b.conv(x, 64, 1, name=f"{name}.branch3x3dbl_1")
    bd = b.conv(bd, 96, 3, padding=1, name=f"{name}.branch3x3dbl_2")
    bd = b.conv(bd, 96, 3, stride=2, name=f"{name}.branch3x3dbl_3")
    bp = b.pool(x, 3, 2, name=f"{name}.max_pool")
    return b.concat([b3, bd, bp], name=f"{name}.concat")


def _inception_c(b: NetBuilder, x: str, name: str, c7: int) -> str:
    """``InceptionC`` (17x17 grid): 1x1, factorised 7x7 (1x7, 7x1), double 7x7 and avgpool-1x1 branches."""
    b1 = b.conv(x, 192, 1, name=f"{name}.branch1x1")
    b7 = b.conv(x, c7, 1, name=f"{name}.branch7x7_1")
    b7 = b.conv(b7, c7, (1, 7), padding=(0, 3), name=f"{name}.branch7x7_2")
    b7 = b.conv(b7, 192, (7, 1), padding=(3, 0), name=f"{name}.branch7x7_3")
    bd = b.conv(x, c7, 1, name=f"{name}.branch7x7dbl_1")
    bd = b.conv(bd, c7, (7, 1), padding=(3, 0), name=f"{name}.branch7x7dbl_2")
    bd = b.conv(bd, c7, (1, 7), padding=(0, 3), name=f"{name}.branch7x7dbl_3")
    bd = b.conv(bd, c7, (7, 1), padding=(3, 0), name=f"{name}.branch7x7dbl_4")
    bd = b.conv(bd, 192, (1, 7), padding=(0, 3), name=f"{name}.branch7x7dbl_5")
    bp = b.pool(x, 3, 1, padding=1, mode="avg", name=f"{name}.avg_pool")
    bp = b.conv(bp, 192, 1, name=f"{name}.branch_pool")
    return b.concat([b1, b7, bd, bp], name=f"{name}.concat")


def _inception_d(b: NetBuilder, x: str, name: str) -> str:
    """``InceptionD`` (grid reduction 17 -> 8): 1x1-3x3/2, 1x1-1x7-7x1-3x3/2 and max-pool branches."""
    b3 = b.conv(x, 192, 1, name=f"{name}.branch3x3_1")
    b3 = b.conv(b3, 320, 3, stride=2, name=f"{name}.branch3x3_2")
    b7 = b.conv(x, 192, 1, name=f"{name}.branch7x7x3_1")
    b7 = b.conv(b7, 192, (1, 7), padding=(0, 3), name=f"{name}.branch7x7x3_2")
    b7 = b.conv(b7, 192, (7, 1), padding=(3, 0), name=f"{name}.branch7x7x3_3")
    b7 = b.conv(b7, 192, 3, stride=2, name=f"{name}.branch7x7x3_4")
    bp = b.pool(x, 3, 2, name=f"{name}.max_pool")
    return b.concat([b3, b7, bp], name=f"{name}.concat")


def _inception_e(b: NetBuilder, x: str, name: str) -> str:
    """``InceptionE`` (8x8 grid): 1x1, 1x1 split into 1x3 and 3x1, 1x1-3x3 split likewise, avgpool-1x1.

    torchvision concatenates each split pair first (``torch.cat(branch3x3, 1)``) and then the four branches; both
    concatenations are kept.
    """
    b1 = b.conv(x, 320, 1, name=f"{name}.branch1x1")
    b3 = b.conv(x, 384, 1, name=f"{name}.branch3x3_1")
    b3a = b.conv(b3, 384, (1, 3), padding=(0, 1), name=f"{name}.branch3x3_2a")
    b3b = b.conv(b3, 384, (3, 1), padding=(1, 0), name=f"{name}.branch3x3_2b")
    b3 = b.concat([b3a, b3b], name=f"{name}.branch3x3.concat")
    bd = b.conv(x, 448, 1, name=f"{name}.branch3x3dbl_1")
    bd = b.conv(bd, 384, 3, padding=1, name=f"{name}.branch3x3dbl_2")
    bda = b.conv(bd, 384, (1, 3), padding=(0, 1), name=f"{name}.branch3x3dbl_3a")
    bdb = b.conv(bd, 384, (3, 1), padding=(1, 0), name=f"{name}.branch3x3dbl_3b")
    bd = b.concat([bda, bdb], name=f"{name}.branch3x3dbl.concat")
    bp = b.pool(x, 3, 1, padding=1, mode="avg", name=f"{name}.avg_pool")
    bp = b.conv(bp, 192, 1, name=f"{name}.branch_pool")
    return b.concat([b1, b3, bd, bp], name=f"{name}.concat")


def inception_v3(resolution: int = 299) -> Network:
    """Inception-v3 as in torchvision (``Inception3``), without the auxiliary classifier.

    124 layers: a stem of 5 convs and 2 max pools, Mixed_5b-5d (InceptionA, 9 layers each), Mixed_6a
    (InceptionB, 6), Mixed_6b-6e (InceptionC, 12 each), Mixed_7a (InceptionD, 8), Mixed_7b-7c (InceptionE, 13
    each), global average pool and fc. At 299x299 the last block's output is 2048x8x8. torchvision requires at
    least 75x75.
    """
    if resolution < 75:
        raise ValueError(f"inception_v3 needs an input of at least 75x75, got {resolution}")
    b = NetBuilder("inception_v3")
    x = b.input(3, resolution, resolution)
    x = b.conv(x, 32, 3, stride=2, name="Conv2d_1a_3x3")
    x = b.conv(x, 32, 3, name="Conv2d_2a_3x3")
    x = b.conv(x, 64, 3, padding=1, name="Conv2d_2b_3x3")
    x = b.pool(x, 3, 2, name="maxpool1")
    x = b.conv(x, 80, 1, name="Conv2d_3b_1x1")
    x = b.conv(x, 192, 3, name="Conv2d_4a_3x3")
    x = b.pool(x, 3, 2, name="maxpool2")
    x = _inception_a(b, x, "Mixed_5b", 32)
    x = _inception_a(b, x, "Mixed_5c", 64)
    x = _inception_a(b, x, "Mixed_5d", 64)
    x = _inception_b(b, x, "Mixed_6a")
    x = _inception_c(b, x, "Mixed_6b", 128)
    x = _inception_c(b, x, "Mixed_6c", 160)
    x = _inception_c(b, x, "Mixed_6d", 160)
    x = _inception_c(b, x, "Mixed_6e", 192)
    x = _inception_d(b, x, "Mixed_7a")
    x = _inception_e(b, x, "Mixed_7b")
    x = _inception_e(b, x, "Mixed_7c")
    x = b.pool(x, global_pool=True, mode="avg", name="avgpool")
    b.fc(x, 1000, name="fc")
    return b.build()


ENTRIES = [
    ZooEntry(name="googlenet", build=googlenet, resolution=224, published_params=6.6e6, published_macs=1.50e9,
             source="torchvision docs, GoogLeNet_Weights.IMAGENET1K_V1 (num_params 6,624,904; 1.50 GFLOPS, "
                    "which torchvision counts as multiply-adds), 224x224, without aux classifiers"),
    ZooEntry(name="inception_v3", build=inception_v3, resolution=299, published_params=27_161_264 - 3_326_696,
             published_macs=5.71e9,
             source="torchvision docs, Inception_V3_Weights.IMAGENET1K_V1, 299x299: num_params 27,161,264 (27.2 M) "
                    "less the 3,326,696 parameters of the AuxLogits head, which runs only in training and which this "
                    "builder omits, = 23,834,568 (23.83 M) comparable parameters; 5.71 GFLOPS = multiply-adds, "
                    "eval mode, so without the aux head"),
]
