"""Dense-prediction networks: YOLOv3-tiny (detection) and U-Net (segmentation).

- ``yolov3_tiny`` follows Darknet's ``cfg/yolov3-tiny.cfg`` (Redmon and Farhadi, "YOLOv3: An Incremental
  Improvement", 2018): 80 classes, so each of the two YOLO heads is a 1x1 conv with 3 x (80 + 5) = 255 channels;
  those convs are the network outputs (the ``[yolo]`` layers only decode boxes and have no cost here). Layer names
  are Darknet's layer indices (``conv0``, ``maxpool1``, ..., ``route20``).
- ``unet`` follows Ronneberger, Fischer and Brox, "U-Net: Convolutional Networks for Biomedical Image
  Segmentation", MICCAI 2015 (Fig. 1): 1 input channel, 64 to 1024 channels, 2 output classes, but with padding 1
  on every 3x3 conv so that the skip connections match without cropping (the usual "same" variant).

Deviations, all forced by the cost model's op set:

- Darknet's 2x2 stride-1 max pool (layer 11) pads one row and column at the bottom/right; it is
  ``pool(kernel 2, stride 1, padding (0, 1, 0, 1))``.
- There is no transposed convolution. U-Net's 2x2 stride-2 up-convolution is an ``upsample`` (nearest, x2)
  followed by a 2x2 conv with padding (0, 1, 0, 1) that halves the channels. It has exactly the transposed conv's
  weights, K x C x 2 x 2 + K, and the same output shape, but 4x its MACs: the conv evaluates all four taps at
  every output pixel, while the transposed conv touches each input pixel once per tap.

Batch-norm, leaky ReLU and ReLU are folded; every conv has a bias (Darknet's batch-norm shift or the head conv's
bias; U-Net's convs have biases).
"""

from __future__ import annotations

from ..model.network import Network
from . import ZooEntry
from .builder import NetBuilder

__all__ = ["yolov3_tiny", "unet", "ENTRIES"]


# -- YOLOv3-tiny ------------------------------------------------------------------------------------------------

def yolov3_tiny(resolution: int = 416) -> Network:
    """YOLOv3-tiny as in Darknet's ``yolov3-tiny.cfg``; the outputs are the two 255-channel head convs.

    21 layers: Darknet layers 0-15 and 17-22 without the ``[yolo]`` layers 16 and 23 (the ``[route]`` 17 only
    re-reads layer 13, so it is not a layer either; route 20 is a concat). At 416x416 the heads are 255x13x13 and
    255x26x26. Darknet needs the resolution to be a multiple of 32.
    """
    if resolution % 32:
        raise ValueError(f"yolov3_tiny needs a resolution that is a multiple of 32, got {resolution}")
    b = NetBuilder("yolov3_tiny")
    x = b.input(3, resolution, resolution)
    index = 0
    for filters in (16, 32, 64, 128, 256):
        x = b.conv(x, filters, 3, padding=1, name=f"conv{index}")
        if filters == 256:
            route8 = x
        x = b.pool(x, 2, 2, name=f"maxpool{index + 1}")
        index += 2
    x = b.conv(x, 512, 3, padding=1, name="conv10")
    x = b.pool(x, 2, 1, padding=(0, 1, 0, 1), name="maxpool11")  # Darknet pads bottom/right: size is kept
    x = b.conv(x, 1024, 3, padding=1, name="conv12")
    x = b.conv(x, 256, 1, name="conv13")
    y = b.conv(x, 512, 3, padding=1, name="conv14")
    head1 = b.conv(y, 255, 1, name="conv15")  # linear, before [yolo] 16 (anchors 3, 4, 5)
    y = b.conv(x, 128, 1, name="conv18")  # [route] 17 reads layer 13
    y = b.upsample(y, 2, name="upsample19")
    y = b.concat([y, route8], name="route20")
    y = b.conv(y, 256, 3, padding=1, name="conv21")
    head2 = b.conv(y, 255, 1, name="conv22")  # linear, before [yolo] 23 (anchors 0, 1, 2)
    return b.build(outputs=[head1, head2])


# -- U-Net ------------------------------------------------------------------------------------------------------

def _double_conv(b: NetBuilder, x: str, channels: int, name: str) -> str:
    """Two 3x3 convs (padding 1 here, unpadded in the paper), each followed by a folded ReLU."""
    x = b.conv(x, channels, 3, padding=1, name=f"{name}.conv1")
    return b.conv(x, channels, 3, padding=1, name=f"{name}.conv2")


def _up_conv(b: NetBuilder, x: str, channels: int, name: str) -> str:
    """The paper's 2x2 up-convolution, as nearest upsampling then a 2x2 conv padded bottom/right by one."""
    x = b.upsample(x, 2, name=f"{name}.upsample")
    # Transposed-conv weights (K x C x 2 x 2 + K), 4x its MACs: see the module docstring.
    return b.conv(x, channels, 2, padding=(0, 1, 0, 1), name=f"{name}.upconv")


def unet(resolution: int = 512) -> Network:
    """U-Net (2015) with padded 3x3 convs: 1 input channel, 2 output classes at full resolution.

    35 layers: four encoder levels (two 3x3 convs and a 2x2 max pool each), the two-conv bottleneck, four decoder
    levels (upsample, 2x2 conv, concat with the skip connection, two 3x3 convs each) and the final 1x1 conv. The
    resolution must be a multiple of 16 (four poolings whose outputs are concatenated back).
    """
    if resolution % 16:
        raise ValueError(f"unet needs a resolution that is a multiple of 16, got {resolution}")
    b = NetBuilder("unet")
    x = b.input(1, resolution, resolution)
    skips = []
    for level, channels in enumerate((64, 128, 256, 512), start=1):
        x = _double_conv(b, x, channels, f"down{level}")
        skips.append(x)
        x = b.pool(x, 2, 2, name=f"down{level}.maxpool")
    x = _double_conv(b, x, 1024, "bottleneck")
    for level, channels in zip((4, 3, 2, 1), (512, 256, 128, 64)):
        x = _up_conv(b, x, channels, f"up{level}")
        x = b.concat([skips[level - 1], x], name=f"up{level}.concat")  # the skip first, as in Fig. 1
        x = _double_conv(b, x, channels, f"up{level}")
    b.conv(x, 2, 1, name="final.conv")
    return b.build()


#: U-Net's MACs at 512x512 with padded 3x3 convs and true 2x2 stride-2 transposed up-convolutions, by arithmetic
#: from the paper's definition (there is no published figure for this variant): sum over convs of
#: output pixels x K x C x kh x kw, and input pixels x K x C x 4 for each up-convolution.
UNET_REFERENCE_MACS_512 = 192_384_335_872

#: The same figure made comparable with this builder, whose upsample + 2x2 conv does 4x the MACs of each
#: transposed up-convolution: plus 3 x the up-convolutions' 8,589,934,592 MACs (25.77 G) = 218.15 G.
UNET_COMPARABLE_MACS_512 = UNET_REFERENCE_MACS_512 + 3 * 8_589_934_592


ENTRIES = [
    ZooEntry(name="yolov3_tiny", build=yolov3_tiny, resolution=416, published_params=8.86e6,
             published_macs=5.571e9 / 2,
             source="Darknet yolov3-tiny.cfg / yolov3-tiny.weights: Darknet prints 5.571 BFLOPs at 416x416, which "
                    "is 2 x conv MACs plus 0.006 BFLOPs of max-pool comparisons; the weights file holds 8,858,734 "
                    "numbers (conv weights, head biases, and bias, scale, mean, variance per batch-norm channel)"),
    ZooEntry(name="unet", build=unet, resolution=512, published_params=31_030_658,
             published_macs=UNET_COMPARABLE_MACS_512,
             source="Ronneberger et al., MICCAI 2015, Fig. 1: 31,030,658 parameters for 2 classes by arithmetic "
                    "from the definition; MACs by arithmetic at 512x512 with padded 3x3 convs: 192.38 G with true "
                    "transposed up-convolutions, plus 25.77 G because this builder models each up-convolution as "
                    "upsample + 2x2 conv, which evaluates 4x its MACs (3 x 8.59 G more) = 218.15 G comparable"),
]
