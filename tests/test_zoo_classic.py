"""The classic zoo networks (optimus_opt/zoo/classic.py) against their published sizes and their known structure.

Published figures are for a 224x224 input. Sources:

- TV: the torchvision model docs, one page per weights enum (``*_Weights.IMAGENET1K_V1``), fields ``num_params`` and
  ``GFLOPS`` (torchvision's "GFLOPS" counts multiply-accumulates, so it compares with ``Network.total_macs``);
- MN1: Howard et al. 2017, "MobileNets: Efficient Convolutional Neural Networks for Mobile Vision Applications",
  Tables 8 and 9, row "1.0 MobileNet-224": 569 million mult-adds, 4.2 million parameters.

Our weight words differ from the published parameter counts by batch-norm folding only: a batch-norm has 2
parameters per channel (scale and shift; the running statistics are buffers), folding leaves 1 (the conv's bias).
The exact-count tests below check that this is the whole difference.
"""

from __future__ import annotations

import pytest
from helpers import rel

from optimus_opt.model.network import Network
from optimus_opt.zoo import classic

# name: (params, MACs, source) -- the rounded figures the 2 % checks use.
PUBLISHED: dict[str, tuple[float, float, str]] = {
    "alexnet": (61.1e6, 0.71e9, "TV"),
    "vgg16": (138.4e6, 15.5e9, "TV"),
    "vgg19": (143.7e6, 19.63e9, "TV"),
    "resnet18": (11.7e6, 1.81e9, "TV"),
    "resnet34": (21.8e6, 3.66e9, "TV"),
    "resnet50": (25.6e6, 4.09e9, "TV"),
    "resnet101": (44.5e6, 7.80e9, "TV"),
    "resnet152": (60.2e6, 11.51e9, "TV"),
    "mobilenet_v1": (4.2e6, 569e6, "MN1"),
    "mobilenet_v2": (3.50e6, 0.30e9, "TV"),
    "squeezenet1_0": (1.25e6, 0.82e9, "TV"),
    "squeezenet1_1": (1.24e6, 0.35e9, "TV"),
    "densenet121": (8.0e6, 2.83e9, "TV"),
}

# Exact ``num_params`` of the torchvision docs (TV), for the exact-count tests.
TORCHVISION_NUM_PARAMS: dict[str, int] = {
    "alexnet": 61_100_840,
    "vgg16": 138_357_544,
    "vgg19": 143_667_240,
    "resnet18": 11_689_512,
    "resnet34": 21_797_672,
    "resnet50": 25_557_032,
    "resnet101": 44_549_160,
    "resnet152": 60_192_808,
    "mobilenet_v2": 3_504_872,
    "squeezenet1_0": 1_248_424,
    "squeezenet1_1": 1_235_496,
    "densenet121": 7_978_856,
}

# Layers (neither inputs nor concats, which are views), derived from the architectures; batch-norm, ReLU, dropout
# and flatten have no layer.
EXPECTED_LAYERS: dict[str, int] = {
    # 5 convs + 3 max pools + 3 fcs (the adaptive pool is an identity at 224)
    "alexnet": 5 + 3 + 3,
    # 13 convs + 5 pools + 3 fcs
    "vgg16": 13 + 5 + 3,
    # 16 convs + 5 pools + 3 fcs
    "vgg19": 16 + 5 + 3,
    # stem conv + max pool, 8 basic blocks of (2 convs + add), a 1x1 downsample in layer2..4, avg pool + fc
    "resnet18": 2 + 8 * 3 + 3 + 2,
    # 3 + 4 + 6 + 3 = 16 basic blocks
    "resnet34": 2 + 16 * 3 + 3 + 2,
    # 16 bottlenecks of (3 convs + add), a downsample in every stage (layer1 too: 64 -> 256 channels)
    "resnet50": 2 + 16 * 4 + 4 + 2,
    # 3 + 4 + 23 + 3 = 33 bottlenecks
    "resnet101": 2 + 33 * 4 + 4 + 2,
    # 3 + 8 + 36 + 3 = 50 bottlenecks
    "resnet152": 2 + 50 * 4 + 4 + 2,
    # first conv, 13 (depthwise + pointwise) pairs, avg pool, fc
    "mobilenet_v1": 1 + 13 * 2 + 1 + 1,
    # first conv; block 1 (t = 1): dw + project; 16 blocks of expand + dw + project; residual adds in the repeats
    # of each stage: (2-1) + (3-1) + (4-1) + (3-1) + (3-1) + (1-1) = 10; last 1x1 conv, avg pool, fc
    "mobilenet_v2": 1 + 2 + 16 * 3 + 10 + 1 + 1 + 1,
    # stem conv, 3 max pools, 8 fires of (squeeze, 2 expands; their concat is a view, no layer), classifier conv,
    # global avg pool
    "squeezenet1_0": 1 + 3 + 8 * 3 + 1 + 1,
    "squeezenet1_1": 1 + 3 + 8 * 3 + 1 + 1,
    # stem conv + pool; a block of n dense layers has 2n convs (and n concats, views), n = 6 + 12 + 24 + 16 = 58;
    # 3 transitions of (conv, avg pool); avg pool + fc
    "densenet121": 2 + 2 * 58 + 3 * 2 + 2,
}

# A non-default resolution for each network and the spatial size of its last feature map there.
OTHER_RESOLUTION: dict[str, tuple[int, str, int]] = {
    "alexnet": (416, "features.12", 12),  # 416 -> 103 -> 51 -> 25 -> 12; the 6x6 adaptive pool becomes a 2x2 pool
    "vgg16": (448, "features.30", 14),  # 448 / 32; the 7x7 adaptive pool becomes a 2x2 pool
    "vgg19": (256, "features.36", 8),  # 256 / 32 = 8: 7 does not divide it, the fc reads 8x8
    "resnet18": (160, "layer4.1.add", 5),
    "resnet34": (256, "layer4.2.add", 8),
    "resnet50": (160, "layer4.2.add", 5),
    "resnet101": (256, "layer4.2.add", 8),
    "resnet152": (160, "layer4.2.add", 5),
    "mobilenet_v1": (160, "Conv2d_13_pointwise", 5),
    "mobilenet_v2": (160, "features.18.0", 5),
    "squeezenet1_0": (256, "features.12.cat", 15),  # 256 -> 125 -> 62 -> 31 -> 15 (ceil mode)
    "squeezenet1_1": (256, "features.12.cat", 15),  # 256 -> 127 -> 63 -> 31 -> 15
    "densenet121": (160, "features.denseblock4.cat", 5),
}

ENTRIES = {e.name: e for e in classic.ENTRIES}
NAMES = list(EXPECTED_LAYERS)


@pytest.fixture(scope="module")
def nets() -> dict[str, Network]:
    return {name: ENTRIES[name].build(224) for name in NAMES}


def test_entries_cover_the_brief() -> None:
    assert [e.name for e in classic.ENTRIES] == NAMES
    for e in classic.ENTRIES:
        assert e.resolution == 224
        assert e.source
        params, macs, _ = PUBLISHED[e.name]
        assert (e.published_params, e.published_macs) == (params, macs)
        assert e.build is getattr(classic, e.name)


@pytest.mark.parametrize("name", NAMES)
def test_params_within_2_percent(nets: dict[str, Network], name: str) -> None:
    assert rel(nets[name].total_weight_words, PUBLISHED[name][0]) <= 0.02


@pytest.mark.parametrize("name", NAMES)
def test_macs_within_2_percent(nets: dict[str, Network], name: str) -> None:
    assert rel(nets[name].total_macs, PUBLISHED[name][1]) <= 0.02


@pytest.mark.parametrize("name", NAMES)
def test_output_and_layer_count(nets: dict[str, Network], name: str) -> None:
    net = nets[name]
    assert len(net.output_ids) == 1
    (out,) = net.output_ids
    assert net.shapes[out] == (1000, 1, 1)
    assert len(net.layer_ids) == EXPECTED_LAYERS[name]
    assert [net.layers[i].shape for i in net.input_ids] == [(3, 224, 224)]


@pytest.mark.parametrize("name", NAMES)
def test_deterministic_and_round_trip(nets: dict[str, Network], name: str) -> None:
    net = nets[name]
    again = getattr(classic, name)()
    assert again == net
    assert again.to_dict() == net.to_dict()
    back = Network.from_dict(net.to_dict())
    assert back == net
    assert back.shapes == net.shapes and back.weights == net.weights and back.mac_counts == net.mac_counts


@pytest.mark.parametrize("name", NAMES)
def test_other_resolution(name: str) -> None:
    resolution, last, size = OTHER_RESOLUTION[name]
    net = getattr(classic, name)(resolution)
    assert [net.layers[i].shape for i in net.input_ids] == [(3, resolution, resolution)]
    assert net.shape(last)[1:] == (size, size)
    (out,) = net.output_ids
    assert net.shapes[out] == (1000, 1, 1)


# -- exact parameter counts: the published count less what batch-norm folding removes ---------------------------


@pytest.mark.parametrize("name", ["alexnet", "vgg16", "vgg19", "squeezenet1_0", "squeezenet1_1"])
def test_exact_params_without_batch_norm(nets: dict[str, Network], name: str) -> None:
    # No batch-norm and biases everywhere in torchvision: the counts are equal.
    assert nets[name].total_weight_words == TORCHVISION_NUM_PARAMS[name]


@pytest.mark.parametrize("name", ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "mobilenet_v2"])
def test_exact_params_with_folded_batch_norm(nets: dict[str, Network], name: str) -> None:
    # Every conv is followed by one batch-norm and has no bias in torchvision: folding turns 2 words per output
    # channel into 1, so we have one word less per conv output channel.
    net = nets[name]
    conv_channels = sum(layer.channels or 0 for layer in net.layers if layer.op == "conv")
    assert net.total_weight_words == TORCHVISION_NUM_PARAMS[name] - conv_channels


def test_exact_params_densenet121(nets: dict[str, Network]) -> None:
    # DenseNet's batch-norms precede their convs (norm1 sees the whole concatenated input). Channels normalised:
    # norm0 64; norm1 of the layers: block b with input c0 has n·c0 + 32·n(n-1)/2 ->
    # 6·64+32·15 + 12·128+32·66 + 24·256+32·276 + 16·512+32·120 = 864 + 3648 + 14976 + 12032 = 31520;
    # norm2 58·128 = 7424; transitions 256 + 512 + 1024 = 1792; norm5 1024. Total 41824 channels, 83648 words.
    # Our conv biases: conv0 64 + 58·(128 + 32) + transitions 128 + 256 + 512 = 10240 words.
    assert nets["densenet121"].total_weight_words == TORCHVISION_NUM_PARAMS["densenet121"] - 83_648 + 10_240


# -- structure ---------------------------------------------------------------------------------------------------


def test_alexnet_and_vgg_classifier_input(nets: dict[str, Network]) -> None:
    # At 224 the adaptive pools are identities: no layer, the first fc reads 256x6x6 / 512x7x7.
    assert "avgpool" not in nets["alexnet"].index
    assert nets["alexnet"].shape("features.12") == (256, 6, 6)
    assert "avgpool" not in nets["vgg16"].index
    assert nets["vgg16"].shape("features.30") == (512, 7, 7)
    # Where 6 / 7 divides the map, a pool restores the classifier input, so the weights stay those at 224.
    for name, resolution in (("alexnet", 416), ("vgg16", 448)):
        net = getattr(classic, name)(resolution)
        pool = net.layer("avgpool")
        assert pool.mode == "avg" and pool.kernel == (2, 2) and pool.stride == (2, 2)
        assert net.total_weight_words == nets[name].total_weight_words
    # Otherwise the fc reads the map as it is: VGG-16 at 256 ends at 8x8.
    net = classic.vgg16(256)
    assert "avgpool" not in net.index
    assert net.weights[net.index["classifier.0"]] == 512 * 8 * 8 * 4096 + 4096


def test_resnet_v1_5_stride_on_3x3(nets: dict[str, Network]) -> None:
    net = nets["resnet50"]
    assert net.layer("layer2.0.conv1").stride == (1, 1)
    assert net.layer("layer2.0.conv2").stride == (2, 2)
    assert net.layer("layer2.0.downsample.0").stride == (2, 2)
    assert net.shape("layer1.0.downsample.0") == (256, 56, 56)
    assert net.shape("layer4.2.add") == (2048, 7, 7)
    assert net.layer("layer3.5.add").inputs == ("layer3.5.conv3", "layer3.4.add")
    assert "layer1.0.downsample.0" not in nets["resnet18"].index
    assert all(layer.bias for layer in net.layers if layer.op in ("conv", "fc"))


def test_mobilenets_depthwise(nets: dict[str, Network]) -> None:
    v1 = nets["mobilenet_v1"]
    dw = [layer for layer in v1.layers if layer.name.endswith("_depthwise")]
    assert len(dw) == 13
    assert all(layer.groups == v1.shape(layer.inputs[0])[0] == layer.channels for layer in dw)
    assert v1.shape("Conv2d_13_pointwise") == (1024, 7, 7)
    v2 = nets["mobilenet_v2"]
    assert v2.layer("features.1.conv.0.0").groups == 32  # t = 1: the first block starts with its depthwise conv
    assert v2.layer("features.2.conv.1.0").groups == 96
    assert v2.shape("features.17.conv.2") == (320, 7, 7)
    adds = [layer.name for layer in v2.layers if layer.op == "add"]
    assert adds == [f"features.{i}.add" for i in (3, 5, 6, 8, 9, 10, 12, 13, 15, 16)]


def test_squeezenet_ceil_mode_pools(nets: dict[str, Network]) -> None:
    # SqueezeNet 1.0 at 224: 224 -> conv 109 -> pool 54 -> pool ceil((54-3)/2)+1 = 27 (floor mode would give 26)
    # -> pool 13. The middle pool needs one extra row and column of bottom/right padding.
    net = nets["squeezenet1_0"]
    assert net.shape("features.2")[1:] == (54, 54)
    assert net.layer("features.6").padding == (0, 1, 0, 1)
    assert net.shape("features.6")[1:] == (27, 27)
    assert net.shape("features.11")[1:] == (13, 13)
    # SqueezeNet 1.1 at 224: 111 -> 55 -> 27 -> 13, all odd, so no extra padding.
    net = nets["squeezenet1_1"]
    assert [net.shape(p)[1] for p in ("features.2", "features.5", "features.8")] == [55, 27, 13]
    assert all(net.layer(p).padding == (0, 0, 0, 0) for p in ("features.2", "features.5", "features.8"))
    assert net.layer("features.3.cat").inputs == ("features.3.expand1x1", "features.3.expand3x3")


def test_densenet_dense_connectivity(nets: dict[str, Network]) -> None:
    net = nets["densenet121"]
    # Layer 1 of a block reads the block input directly; layer L reads a concat of the input and L - 1 new maps.
    assert net.layer("features.denseblock1.denselayer1.conv1").inputs == ("features.pool0",)
    cat = net.layer("features.denseblock1.denselayer6.cat")
    assert len(cat.inputs) == 6 and net.shape(cat.name) == (64 + 5 * 32, 56, 56)
    assert len(net.layer("features.denseblock4.cat").inputs) == 17
    assert net.shape("features.denseblock1.cat") == (256, 56, 56)
    assert net.shape("features.transition1.pool") == (128, 28, 28)
    assert net.shape("features.transition3.conv") == (512, 14, 14)
    assert net.shape("features.denseblock4.cat") == (1024, 7, 7)
