"""Checks of the multi-branch zoo networks (zoo/inception.py, zoo/nasnet.py, zoo/detection.py) against published
figures and figures derived by arithmetic from the original definitions.

Our model folds batch-norm into a per-channel conv bias (1 word per output channel), while published PyTorch /
TensorFlow parameter counts hold 2 batch-norm parameters per channel and no conv bias; the difference is one word
per batch-normed channel, well inside 2 %. Where the relation is exact, it is asserted exactly as well.

The modules are imported directly (not through the registry in zoo/__init__.py, which also needs zoo/classic.py).
"""

from __future__ import annotations

import pytest
from helpers import rel

from optimus_opt.model.network import Network
from optimus_opt.zoo import detection, inception, nasnet

ALL_ENTRIES = [*inception.ENTRIES, *nasnet.ENTRIES, *detection.ENTRIES]
ENTRY = {e.name: e for e in ALL_ENTRIES}


@pytest.fixture(scope="module")
def nets() -> dict[str, Network]:
    """Every network of these modules at its default resolution, built once."""
    return {e.name: e.build(e.resolution) for e in ALL_ENTRIES}


def conv_bias_words(net: Network) -> int:
    """Output channels summed over all convs: the bias words our folding adds."""
    return sum(layer.channels or 0 for layer in net.layers if layer.op == "conv" and layer.bias)


def n_layers(net: Network) -> int:
    return len(net.layer_ids)


def output_shapes(net: Network) -> dict[str, tuple[int, int, int]]:
    return {name: net.shape(name) for name in net.outputs or ()}


def test_entries() -> None:
    assert [e.name for e in ALL_ENTRIES] == ["googlenet", "inception_v3", "nasnet_a_mobile", "yolov3_tiny", "unet"]
    assert {e.name: e.resolution for e in ALL_ENTRIES} == {
        "googlenet": 224, "inception_v3": 299, "nasnet_a_mobile": 224, "yolov3_tiny": 416, "unet": 512}
    for e in ALL_ENTRIES:
        assert e.source and e.published_params and e.published_macs


# -- GoogLeNet ---------------------------------------------------------------------------------------------------

def test_googlenet(nets: dict[str, Network]) -> None:
    net = nets["googlenet"]
    # Source: torchvision docs, GoogLeNet_Weights.IMAGENET1K_V1: num_params 6,624,904 (aux classifiers removed),
    # GFLOPS 1.50 (torchvision's "GFLOPS" are multiply-adds), 224x224.
    assert ENTRY["googlenet"].published_params == 6.6e6 and ENTRY["googlenet"].published_macs == 1.50e9
    assert rel(net.total_weight_words, 6.6e6) < 0.02
    assert rel(net.total_macs, 1.50e9) < 0.02
    # Exact: torchvision's count has 2 batch-norm parameters per conv channel and no conv bias; we keep 1 word.
    assert net.total_weight_words == 6_624_904 - conv_bias_words(net)
    # Layers: stem conv1, maxpool1, conv2, conv3, maxpool2 (5); 9 inception blocks x (branch1 conv, branch2 two
    # convs, branch3 two convs, branch4 pool + conv, concat = 8) = 72; maxpool3, maxpool4 (2); avgpool, fc (2).
    # A concat is a view, not a layer (cost model version 2): 81 nodes less the 9 concats.
    assert n_layers(net) + len(net.concat_ids) == 5 + 9 * 8 + 2 + 2 == 81 and len(net.concat_ids) == 9
    assert output_shapes(net) == {"fc": (1000, 1, 1)}
    # ceil-mode pools (emulated by extra bottom/right padding): 112 -> 56 -> 28 -> 14 -> 7 as in torchvision.
    assert [net.shape(p)[1] for p in ("maxpool1", "maxpool2", "maxpool3", "maxpool4")] == [56, 28, 14, 7]
    assert net.layer("maxpool1").padding == (0, 1, 0, 1)
    assert net.shape("inception5b.concat") == (1024, 7, 7)
    # torchvision's "5x5" branch is a 3x3 conv.
    assert net.layer("inception3a.branch3.1").kernel == (3, 3)


def test_googlenet_ceil_mode_padding() -> None:
    # PyTorch ceil_mode sizes: floor((H - k + s - 1) / s) + 1, unless the last window would start in the padding.
    assert inception._ceil_mode_pad(112, 3, 2) == 1    # 55.5 -> 56 windows
    assert inception._ceil_mode_pad(113, 3, 2) == 0    # 56 exactly
    assert inception._ceil_mode_pad(14, 2, 2) == 0     # 7 exactly
    assert inception._ceil_mode_pad(15, 2, 2) == 1     # 7.5 -> 8
    net = inception.googlenet(320)
    assert [net.shape(p)[1] for p in ("conv1", "maxpool1", "maxpool2", "maxpool3", "maxpool4")] == [160, 80, 40, 20, 10]


# -- Inception-v3 ------------------------------------------------------------------------------------------------

def test_inception_v3(nets: dict[str, Network]) -> None:
    net = nets["inception_v3"]
    # Source: torchvision docs, Inception_V3_Weights.IMAGENET1K_V1: num_params 27,161,264, GFLOPS 5.71, 299x299.
    # That parameter count includes the AuxLogits head, which torchvision keeps in the pretrained model but which
    # only runs in training; our builder omits it (as the brief requires). Its parameters, by arithmetic from
    # torchvision's InceptionAux(768): conv0 1x1 768->128 + BN, conv1 5x5 128->768 + BN, fc 768->1000.
    aux = (768 * 128 + 2 * 128) + (128 * 768 * 25 + 2 * 768) + (768 * 1000 + 1000)
    assert aux == 3_326_696
    published_without_aux = 27_161_264 - aux          # 23,834,568
    assert rel(27.2e6, 27_161_264) < 0.002
    # Against the published 27.2 M the gap is 12.4 %, all of it the aux head:
    assert rel(net.total_weight_words, 27.2e6 - aux) < 0.02
    assert net.total_weight_words == published_without_aux - conv_bias_words(net)
    # The aux head runs only in training, so the published MACs (eval mode) exclude it.
    assert rel(net.total_macs, 5.71e9) < 0.02
    # Layers: stem 5 convs + 2 max pools (7); InceptionA x3: 1 + 2 + 3 convs, avg pool + conv, concat = 9;
    # InceptionB: 1 + 3 convs, max pool, concat = 6; InceptionC x4: 1 + 3 + 5 convs, avg pool + conv, concat = 12;
    # InceptionD: 2 + 4 convs, max pool, concat = 8; InceptionE x2: 1 conv; 1x1 + (1x3, 3x1) + concat = 4;
    # 1x1 + 3x3 + (1x3, 3x1) + concat = 5; avg pool + conv = 2; concat = 13; avgpool, fc (2).
    # 124 nodes, 15 of them concats (one per block, and the inner two of each InceptionE), which are views.
    assert n_layers(net) + len(net.concat_ids) == 7 + 3 * 9 + 6 + 4 * 12 + 8 + 2 * 13 + 2 == 124
    assert len(net.concat_ids) == 3 + 1 + 4 + 1 + 2 * 3 == 15
    assert output_shapes(net) == {"fc": (1000, 1, 1)}
    assert net.shape("maxpool2") == (192, 35, 35)
    assert net.shape("Mixed_5d.concat") == (288, 35, 35)
    assert net.shape("Mixed_6e.concat") == (768, 17, 17)
    assert net.shape("Mixed_7c.concat") == (2048, 8, 8)


def test_inception_v3_resolution_limit() -> None:
    assert inception.inception_v3(75).shape("Mixed_7c.concat") == (2048, 1, 1)
    with pytest.raises(ValueError):
        inception.inception_v3(74)


# -- NASNet-A Mobile ---------------------------------------------------------------------------------------------

def test_nasnet_a_mobile(nets: dict[str, Network]) -> None:
    net = nets["nasnet_a_mobile"]
    # Source: Zoph et al., "Learning Transferable Architectures for Scalable Image Recognition", CVPR 2018,
    # Table 2: NASNet-A (4 @ 1056), 5.3 M parameters, 564 M mult-adds, 224x224.
    assert rel(net.total_weight_words, 5.3e6) < 0.02
    assert rel(net.total_macs, 564e6) < 0.02
    # Layers. A stacked separable op is 4 convs (depthwise, pointwise, twice). Normal cell: prev 1x1 conv,
    # beginning 1x1 conv, comb0 (sep + sep + add = 9), comb1 (9), comb2 (avg pool + identity + add = 2), comb3
    # (two avg pools + add = 3), comb4 (sep + identity + add = 5), concat: 2 + 28 + 1 = 31. A factorized
    # reduction (two pools, two convs, concat) is 5 layers instead of the prev 1x1, so the first normal cell of a
    # stack has 35. Reduction cell: prev + beginning (2), comb0 (9), comb1 (max pool + sep + add = 6), comb2 (6),
    # comb3 (identity + avg pool + add = 2), comb4 (sep + max pool + add = 6), concat: 2 + 29 + 1 = 32. Stem cell 0
    # has no prev adjustment (31), stem cell 1 a factorized reduction (36).
    normal, first, reduction = 31, 35, 32
    # 518 nodes, 20 of them concats, which are views: one per cell (2 stem, 12 normal, 2 reduction cells) and one
    # per factorized reduction (stem cell 1 and the first normal cell of each of the 3 stacks).
    assert n_layers(net) + len(net.concat_ids) == 1 + 31 + 36 + 3 * (first + 3 * normal) + 2 * reduction + 2 == 518
    assert len(net.concat_ids) == (2 + 12 + 2) + (1 + 3) == 20
    assert output_shapes(net) == {"fc": (1000, 1, 1)}
    expected = {"conv0": (32, 111, 111), "cell_stem_0.concat": (44, 56, 56), "cell_stem_1.concat": (88, 28, 28),
                "cell_3.concat": (264, 28, 28), "reduction_cell_0.concat": (352, 14, 14),
                "cell_7.concat": (528, 14, 14), "reduction_cell_1.concat": (704, 7, 7),
                "cell_11.concat": (1056, 7, 7)}
    assert {name: net.shape(name) for name in expected} == expected
    # Factorized reduction of cell_4's second input (cell_3, 264x28x28) to 88 channels at 14x14.
    assert net.shape("cell_4.prev.path1.avgpool") == net.shape("cell_4.prev.path2.avgpool") == (264, 14, 14)
    assert net.shape("cell_4.prev.concat") == (88, 14, 14)
    # Identity branches are reads of the hidden states: comb2 adds avg-pooled h0 to h1 (the prev adjustment).
    assert net.layer("cell_5.comb2.add").inputs == ("cell_5.comb2.left.avgpool", "cell_5.prev.conv")
    assert net.layer("cell_5.comb4.add").inputs == ("cell_5.comb4.left.separable_2.pointwise",
                                                    "cell_5.beginning.conv")
    # The normal cell's output includes h1 although combinations read it (reference's used_hiddenstates).
    assert net.layer("cell_5.concat").inputs[0] == "cell_5.prev.conv"
    # Stem cell 0 reads the raw 32-channel stem conv on its h1 side.
    assert net.layer("cell_stem_0.comb0.right.separable_1.depthwise").inputs == ("conv0",)
    assert net.layer("cell_stem_0.comb0.right.separable_1.depthwise").groups == 32


def test_nasnet_odd_sizes() -> None:
    # 331x331 (NASNet-A Large's input): conv0 165, then 83, 42, 42, 21, 11; factorized reductions of odd maps
    # pad their shifted path so both paths give ceil(H / 2).
    net = nasnet.nasnet_a_mobile(331)
    assert net.shape("conv0")[1:] == (165, 165)
    assert net.shape("cell_stem_1.prev.concat") == (22, 83, 83)
    assert net.shape("cell_8.prev.concat") == (176, 11, 11)
    assert net.shape("cell_11.concat") == (1056, 11, 11)
    assert n_layers(net) + len(net.concat_ids) == 518


# -- YOLOv3-tiny -------------------------------------------------------------------------------------------------

#: yolov3-tiny.cfg convolutions: (darknet index, filters, size, batch_normalize, input channels, output size at 416)
YOLO_CONVS = [(0, 16, 3, True, 3, 416), (2, 32, 3, True, 16, 208), (4, 64, 3, True, 32, 104),
              (6, 128, 3, True, 64, 52), (8, 256, 3, True, 128, 26), (10, 512, 3, True, 256, 13),
              (12, 1024, 3, True, 512, 13), (13, 256, 1, True, 1024, 13), (14, 512, 3, True, 256, 13),
              (15, 255, 1, False, 512, 13), (18, 128, 1, True, 256, 13), (21, 256, 3, True, 384, 26),
              (22, 255, 1, False, 256, 26)]
#: its max pools: (index, size, channels, output size at 416)
YOLO_POOLS = [(1, 2, 16, 208), (3, 2, 32, 104), (5, 2, 64, 52), (7, 2, 128, 26), (9, 2, 256, 13),
              (11, 2, 512, 13)]


def test_yolov3_tiny(nets: dict[str, Network]) -> None:
    net = nets["yolov3_tiny"]
    weights = sum(k * c * s * s for _, k, s, _, c, _ in YOLO_CONVS)
    bn_channels = sum(k for _, k, _, bn, _, _ in YOLO_CONVS if bn)
    head_biases = sum(k for _, k, _, bn, _, _ in YOLO_CONVS if not bn)
    # Source: Darknet yolov3-tiny.cfg and yolov3-tiny.weights. The weights file stores, per conv, the biases and,
    # with batch-norm, the scales, rolling means and rolling variances: by arithmetic from the cfg 8,858,734 numbers
    # ("about 8.86 M").
    weights_file = weights + 4 * bn_channels + head_biases
    assert weights_file == 8_858_734 and rel(weights_file, 8.86e6) < 0.001
    # We keep one bias per channel: 3 words per batch-norm channel fewer than the file.
    assert net.total_weight_words == weights + bn_channels + head_biases == 8_849_182
    assert rel(net.total_weight_words, ENTRY["yolov3_tiny"].published_params) < 0.02
    # Source: Darknet prints "Total BFLOPS 5.571" at 416x416. Its conv figure is 2 x MACs (a multiply and an add
    # per MAC); it also counts size^2 comparisons per max-pool output element (0.0057 BFLOPs). Check that this
    # reproduces the printed figure, then compare our MACs with 5.571e9 / 2 (0.1 % gap: the pool comparisons).
    conv_macs = sum(k * c * s * s * hw * hw for _, k, s, _, c, hw in YOLO_CONVS)
    pool_ops = sum(s * s * c * hw * hw for _, s, c, hw in YOLO_POOLS)
    assert round((2 * conv_macs + pool_ops) / 1e9, 3) == 5.571
    assert net.total_macs == conv_macs
    assert ENTRY["yolov3_tiny"].published_macs == 5.571e9 / 2
    assert rel(net.total_macs, 5.571e9 / 2) < 0.02
    # Layers: 7 convs and 6 max pools (darknet 0-12), convs 13, 14, 15, conv 18, upsample 19, route 20 (concat),
    # convs 21, 22; the [yolo] layers 16, 23 and the single-input [route] 17 are no layers.
    assert n_layers(net) + len(net.concat_ids) == 13 + 3 + 1 + 1 + 1 + 2 == 21 and len(net.concat_ids) == 1
    assert output_shapes(net) == {"conv15": (255, 13, 13), "conv22": (255, 26, 26)}
    assert net.shape("maxpool11") == (512, 13, 13)
    assert net.shape("route20") == (384, 26, 26)
    for index, k, s, _, c, hw in YOLO_CONVS:
        assert net.shape(f"conv{index}") == (k, hw, hw)
        assert net.shape(net.layer(f"conv{index}").inputs[0])[0] == c


def test_yolov3_tiny_resolution() -> None:
    net = detection.yolov3_tiny(608)
    assert output_shapes(net) == {"conv15": (255, 19, 19), "conv22": (255, 38, 38)}
    with pytest.raises(ValueError):
        detection.yolov3_tiny(400)


# -- U-Net -------------------------------------------------------------------------------------------------------

#: U-Net (Ronneberger et al. 2015, Fig. 1), 2 classes: 3x3 convs (input channels, output channels, level), level l
#: being at resolution / 2**l; then the 2x2 up-convolutions (input channels, output channels, input level).
UNET_CONVS = [(1, 64, 0), (64, 64, 0), (64, 128, 1), (128, 128, 1), (128, 256, 2), (256, 256, 2), (256, 512, 3),
              (512, 512, 3), (512, 1024, 4), (1024, 1024, 4), (1024, 512, 3), (512, 512, 3), (512, 256, 2),
              (256, 256, 2), (256, 128, 1), (128, 128, 1), (128, 64, 0), (64, 64, 0)]
UNET_UPCONVS = [(1024, 512, 4), (512, 256, 3), (256, 128, 2), (128, 64, 1)]


def test_unet(nets: dict[str, Network]) -> None:
    net = nets["unet"]
    # Source: the parameter count of the 2015 network by arithmetic from its definition (every conv has a bias;
    # no batch-norm): eighteen 3x3 convs, four 2x2 up-convolutions, the final 1x1 conv to 2 classes.
    params = (sum(co * ci * 9 + co for ci, co, _ in UNET_CONVS) + sum(co * ci * 4 + co for ci, co, _ in UNET_UPCONVS)
              + 64 * 2 + 2)
    assert params == 31_030_658 == ENTRY["unet"].published_params
    # Our upsample + 2x2 conv has exactly the transposed conv's weights, so the count is exact.
    assert net.total_weight_words == params
    # MACs by arithmetic at 512x512 with padded 3x3 convs (no published figure for this variant): output pixels x
    # K x C x 9 per conv; a 2x2 stride-2 transposed conv does K x C x 4 per *input* pixel.
    r = 512
    convs = sum((r >> lv) ** 2 * co * ci * 9 for ci, co, lv in UNET_CONVS) + r * r * 64 * 2
    upconvs = sum((r >> lv) ** 2 * co * ci * 4 for ci, co, lv in UNET_UPCONVS)
    reference = convs + upconvs
    assert reference == detection.UNET_REFERENCE_MACS_512
    # the zoo entry holds the figure comparable with our upsample + conv modelling (see below)
    assert ENTRY["unet"].published_macs == reference + 3 * upconvs == detection.UNET_COMPARABLE_MACS_512
    # Our 2x2 conv after the x2 upsample evaluates all 4 taps at each of the 4x as many output pixels: 4 x the
    # transposed conv's MACs for those four layers, i.e. 3 x upconvs extra (25.8 G, +13.4 % on the total).
    assert net.total_macs == reference + 3 * upconvs
    assert rel(net.total_macs - 3 * upconvs, reference) < 0.02
    for ci, co, lv in UNET_UPCONVS:
        layer = f"up{lv}.upconv"
        assert net.mac_counts[net.index[layer]] == 4 * (r >> lv) ** 2 * co * ci * 4
    # Layers: 4 encoder levels x (2 convs + max pool) = 12; bottleneck 2 convs; 4 decoder levels x (upsample,
    # 2x2 conv, concat, 2 convs) = 20; final 1x1 conv.
    assert n_layers(net) + len(net.concat_ids) == 12 + 2 + 20 + 1 == 35 and len(net.concat_ids) == 4
    assert output_shapes(net) == {"final.conv": (2, 512, 512)}
    assert net.shape("bottleneck.conv2") == (1024, 32, 32)
    assert net.shape("up4.upconv") == (512, 64, 64)
    assert net.shape("up4.concat") == (1024, 64, 64)
    assert net.layer("up4.concat").inputs == ("down4.conv2", "up4.upconv")


def test_unet_resolution() -> None:
    net = detection.unet(256)
    assert output_shapes(net) == {"final.conv": (2, 256, 256)}
    assert net.total_weight_words == 31_030_658
    with pytest.raises(ValueError):
        detection.unet(500)


# -- all networks: determinism, file round trip, other resolutions --------------------------------------------------

@pytest.mark.parametrize("name", list(ENTRY))
def test_deterministic_and_round_trip(name: str, nets: dict[str, Network]) -> None:
    net = nets[name]
    assert net.name == name
    again = ENTRY[name].build(ENTRY[name].resolution)
    assert again == net and again.to_dict() == net.to_dict()
    restored = Network.from_dict(net.to_dict())
    assert restored == net
    assert restored.shapes == net.shapes and restored.weights == net.weights
    assert restored.mac_counts == net.mac_counts and restored.outputs == net.outputs


@pytest.mark.parametrize("name,resolution", [("googlenet", 320), ("inception_v3", 224), ("nasnet_a_mobile", 331),
                                             ("yolov3_tiny", 320), ("unet", 256)])
def test_other_resolution(name: str, resolution: int, nets: dict[str, Network]) -> None:
    net = ENTRY[name].build(resolution)
    default = nets[name]
    assert net.layers[0].shape == (default.layers[0].shape[0], resolution, resolution)
    # Same structure and weights (global pooling makes the classifiers resolution-independent); other MACs.
    assert n_layers(net) == n_layers(default)
    assert net.total_weight_words == default.total_weight_words
    assert net.total_macs != default.total_macs
    assert Network.from_dict(net.to_dict()) == net
