"""The networks of current accelerator papers (optimus_opt/zoo/modern.py) against torchvision's published figures
and their known structure.

Published figures: torchvision's weights metadata, ``*_Weights.IMAGENET1K_V1.meta`` at 224x224: ``num_params``
and ``_ops``, the GFLOPS that the docs print rounded to two decimals. torchvision's "GFLOPS" count
multiply-accumulates, so they compare with ``Network.total_macs`` (convs and fcs; pools, sums and the SE products
have none). The 2 % checks use ``_ops`` (three significant digits): the docs' two-decimal figure of
MobileNetV3-Small, 0.06, is itself 5 % from 0.057.

Our weight words differ from ``num_params`` by batch-norm folding only: every conv but the SE convs (which have a
real bias and no batch-norm) is followed by a batch-norm of 2 parameters per channel and has no bias in torchvision;
folded, that is 1 bias word. So ``num_params`` = our words + the channels of the batch-normed convs, exactly.
"""

from __future__ import annotations

import pytest
from helpers import rel

from optimus_opt import zoo
from optimus_opt.model.network import Network
from optimus_opt.zoo import modern
from optimus_opt.zoo.modern import make_divisible, regnet_stages

# name: (num_params, _ops GFLOPS, the docs' rounded GFLOPS)
TORCHVISION: dict[str, tuple[int, float, float]] = {
    "mobilenet_v3_large": (5_483_032, 0.217, 0.22),
    "mobilenet_v3_small": (2_542_856, 0.057, 0.06),
    "efficientnet_b0": (5_288_548, 0.386, 0.39),
    "mnasnet1_0": (4_383_312, 0.314, 0.31),
    "regnet_y_400mf": (4_344_144, 0.402, 0.40),
    "resnext50_32x4d": (25_028_904, 4.23, 4.23),
}

# Layers (neither inputs nor concats), derived from the architectures; an SE block is 4 layers (pool, 2 convs, mul).
EXPECTED_LAYERS: dict[str, int] = {
    # stem; 15 rows: 14 expands (not the first, whose expansion keeps 16 channels), 15 depthwise, 15 projections,
    # 8 SE blocks, 10 residual sums (rows 1, 3, 5, 6, 8, 9, 10, 12, 14, 15); last conv, pool, 2 fcs
    "mobilenet_v3_large": 1 + 14 + 15 + 15 + 8 * 4 + 10 + 4,
    # stem; 11 rows: 10 expands, 11 depthwise, 11 projections, 9 SE blocks, 6 sums (rows 3, 5, 6, 8, 10, 11);
    # last conv, pool, 2 fcs
    "mobilenet_v3_small": 1 + 10 + 11 + 11 + 9 * 4 + 6 + 4,
    # stem; 16 blocks: 15 expands (not the first, ratio 1), 16 depthwise, 16 SE blocks, 16 projections, 9 sums
    # (the repeats of stages 2..6: 1 + 1 + 2 + 2 + 3); head conv, pool, fc
    "efficientnet_b0": 1 + 15 + 16 + 16 * 4 + 16 + 9 + 3,
    # stem conv + depthwise-separable pair; 16 blocks of 3 convs; sums in the 16 - 6 repeats; head conv, mean, fc
    "mnasnet1_0": 3 + 16 * 3 + 10 + 3,
    # stem; 16 blocks of (a, b, SE, c, sum) = 8 layers; a projection in each stage's first block; pool, fc
    "regnet_y_400mf": 1 + 16 * 8 + 4 + 2,
    # as ResNet-50: stem conv + max pool, 16 bottlenecks of (3 convs + sum), 4 downsamples, pool, fc
    "resnext50_32x4d": 2 + 16 * 4 + 4 + 2,
}

# A non-default resolution for each network and the spatial size of its last feature map there (input / 32).
OTHER_RESOLUTION: dict[str, tuple[int, str, int]] = {
    "mobilenet_v3_large": (160, "features.16.0", 5),
    "mobilenet_v3_small": (320, "features.12.0", 10),
    "efficientnet_b0": (256, "features.8.0", 8),
    "mnasnet1_0": (192, "layers.14", 6),
    "regnet_y_400mf": (160, "trunk_output.block4.block4-5.add", 5),
    "resnext50_32x4d": (288, "layer4.2.add", 9),
}

ENTRIES = {e.name: e for e in modern.ENTRIES}
NAMES = list(TORCHVISION)


@pytest.fixture(scope="module")
def nets() -> dict[str, Network]:
    return {name: ENTRIES[name].build(224) for name in NAMES}


def batch_normed_channels(net: Network) -> int:
    """Output channels of the convs that torchvision follows with a batch-norm: all but the SE convs."""
    return sum(layer.channels or 0 for layer in net.layers
               if layer.op == "conv" and not layer.name.endswith((".fc1", ".fc2")))


def test_entries_are_registered_with_torchvision_figures() -> None:
    assert [e.name for e in modern.ENTRIES] == NAMES
    for e in modern.ENTRIES:
        params, ops, _ = TORCHVISION[e.name]
        assert (e.resolution, e.published_params) == (224, params)
        assert e.published_macs == pytest.approx(ops * 1e9, rel=1e-12)
        assert f"num_params {params:,}" in e.source and f"_ops {ops} GFLOPS" in e.source
        assert e.build is getattr(modern, e.name)
        assert zoo.entries()[e.name] == e  # in the registry, hence in the 'all' suite and instances/networks


@pytest.mark.parametrize("name", NAMES)
def test_weights_within_2_percent_and_exact_with_batch_norm_folded(nets: dict[str, Network], name: str) -> None:
    net = nets[name]
    params = TORCHVISION[name][0]
    assert rel(net.total_weight_words, params) <= 0.02
    assert net.total_weight_words + batch_normed_channels(net) == params


@pytest.mark.parametrize("name", NAMES)
def test_macs_within_2_percent(nets: dict[str, Network], name: str) -> None:
    _, ops, docs = TORCHVISION[name]
    assert rel(nets[name].total_macs, ops * 1e9) <= 0.02
    assert round(nets[name].total_macs / 1e9, 2) == docs


def test_exact_totals(nets: dict[str, Network]) -> None:
    # the figures the report quotes, so that a change of a builder shows here first
    assert {name: (net.total_weight_words, net.total_macs) for name, net in nets.items()} == {
        "mobilenet_v3_large": (5_470_832, 216_589_760),
        "mobilenet_v3_small": (2_536_800, 56_510_400),
        "efficientnet_b0": (5_267_540, 385_814_752),
        "mnasnet1_0": (4_364_352, 314_415_872),
        "regnet_y_400mf": (4_330_568, 401_842_848),
        "resnext50_32x4d": (24_994_792, 4_230_479_872),
    }


@pytest.mark.parametrize("name", NAMES)
def test_layers_outputs_and_round_trip(nets: dict[str, Network], name: str) -> None:
    net = nets[name]
    assert len(net.layer_ids) == EXPECTED_LAYERS[name] and not net.concat_ids
    (out,) = net.output_ids
    assert net.shapes[out] == (1000, 1, 1)
    assert [net.layers[i].shape for i in net.input_ids] == [(3, 224, 224)]
    assert all(layer.bias for layer in net.layers if layer.op in ("conv", "fc"))
    back = Network.from_dict(net.to_dict())
    assert back == net and back.weights == net.weights and back.mac_counts == net.mac_counts
    assert getattr(modern, name)() == net


@pytest.mark.parametrize("name", NAMES)
def test_other_resolution(name: str) -> None:
    resolution, last, size = OTHER_RESOLUTION[name]
    net = getattr(modern, name)(resolution)
    assert net.shape(last)[1:] == (size, size)
    (out,) = net.output_ids
    assert net.shapes[out] == (1000, 1, 1)
    # no fc reads a feature map: the weights do not depend on the resolution
    assert net.total_weight_words == ENTRIES[name].build(224).total_weight_words


# -- the architecture facts --------------------------------------------------------------------------------------

def test_make_divisible_rounds_like_torchvision() -> None:
    # nearest multiple of 8 (halves up), at least 8, and never more than 10 % below the value
    assert [make_divisible(v) for v in (3, 16, 18, 20, 30, 72 // 4, 120 // 4, 480 // 4, 960 // 4)] == \
        [8, 16, 24, 24, 32, 24, 32, 120, 240]
    assert make_divisible(100.0, 8) == 104 and make_divisible(96.0, 8) == 96 and make_divisible(92, 8) == 96
    assert make_divisible(444, 8) == 448 and make_divisible(440, 8) == 440


def test_squeeze_excitation_blocks(nets: dict[str, Network]) -> None:
    v3 = nets["mobilenet_v3_large"]
    # row 4 (5x5, 72 expanded, SE): the squeeze is make_divisible(72 // 4) = 24, and the gate broadcasts
    assert v3.layer("features.4.block.2.fc1").channels == 24
    assert v3.shape("features.4.block.2.fc2") == (72, 1, 1) and v3.shape("features.4.block.2.mul") == (72, 28, 28)
    assert v3.layer("features.4.block.2.mul").inputs == ("features.4.block.1.0", "features.4.block.2.fc2")
    assert v3.layer("features.4.block.3.0").inputs == ("features.4.block.2.mul",)
    assert [v3.layer(f"features.{i}.block.2.fc1").channels for i in (4, 11, 13)] == [24, 120, 168]
    assert "features.7.block.2.fc1" not in v3.index  # rows 7..10 have no SE
    assert v3.shape("features.16.0") == (960, 7, 7) and v3.layer("classifier.0").channels == 1280
    small = nets["mobilenet_v3_small"]
    # the first row has SE and no expansion: depthwise, SE (16 // 4 = 4 rounds up to 8), projection
    assert small.layer("features.1.block.1.fc1").channels == 8 and small.shape("features.1.block.0.0") == (16, 56, 56)
    assert small.shape("features.12.0") == (576, 7, 7) and small.layer("classifier.0").channels == 1024
    b0 = nets["efficientnet_b0"]
    # the SE of EfficientNet squeezes to a quarter of the block *input*: 16 // 4 = 4 in features.2.0 (96 expanded)
    assert b0.layer("features.2.0.block.2.fc1").channels == 4 and b0.shape("features.2.0.block.2.fc2")[0] == 96
    assert b0.layer("features.1.0.block.1.fc1").channels == 8  # the first block: 32 // 4, no expand conv
    assert b0.layer("features.6.3.block.2.fc1").channels == 48 and b0.shape("features.6.3.add") == (192, 7, 7)
    assert b0.layer("features.5.0.block.1.0").kernel == (5, 5) and b0.shape("features.8.0") == (1280, 7, 7)
    ry = nets["regnet_y_400mf"]
    # RegNet's SE squeezes to a quarter of the block *input* width: 32 -> 8 in block1-0, 48 -> 12 in block2-0,
    # 104 -> 26 in block2-1
    assert [ry.layer(f"trunk_output.{b}.f.se.fc1").channels for b in
            ("block1.block1-0", "block2.block2-0", "block2.block2-1", "block4.block4-0")] == [8, 12, 26, 52]


def test_regnet_stages_and_groups(nets: dict[str, Network]) -> None:
    assert [(s.width, s.depth, s.group_width) for s in regnet_stages(16, 48, 27.89, 2.09, 8)] == \
        [(48, 1, 8), (104, 3, 8), (208, 6, 8), (440, 6, 8)]
    # RegNetY-800MF's parameters give torchvision's 64/144/320/784 (depths 1/3/8/2, group width 16)
    assert [(s.width, s.depth) for s in regnet_stages(14, 56, 38.84, 2.4, 16)] == \
        [(64, 1), (144, 3), (320, 8), (784, 2)]
    net = nets["regnet_y_400mf"]
    conv = net.layer("trunk_output.block3.block3-2.f.b.0")
    assert (conv.groups, conv.channels, conv.stride) == (208 // 8, 208, (1, 1))
    assert net.layer("trunk_output.block3.block3-0.f.b.0").stride == (2, 2)
    assert net.layer("trunk_output.block3.block3-0.proj.0").stride == (2, 2)
    assert "trunk_output.block3.block3-1.proj.0" not in net.index
    assert net.shape("trunk_output.block4.block4-5.add") == (440, 7, 7)


def test_mnasnet_and_resnext(nets: dict[str, Network]) -> None:
    mn = nets["mnasnet1_0"]
    assert mn.layer("layers.8.0.layers.0").channels == 16 * 3 and mn.layer("layers.8.0.layers.3").stride == (2, 2)
    assert mn.layer("layers.12.3.layers.3").kernel == (5, 5) and mn.shape("layers.12.3.add") == (192, 7, 7)
    assert "layers.8.0.add" not in mn.index and mn.layer("layers.8.1.add").inputs == ("layers.8.1.layers.6",
                                                                                      "layers.8.0.layers.6")
    pool = mn.layer("mean")
    assert (pool.global_pool, pool.mode) == (True, "avg") and mn.layer("classifier.1").inputs == ("mean",)
    rx = nets["resnext50_32x4d"]
    # bottleneck width 2·planes with 32 groups: 128 in layer1, 1024 in layer4
    assert [(rx.layer(f"layer{s}.0.conv2").channels, rx.layer(f"layer{s}.0.conv2").groups) for s in (1, 4)] == \
        [(128, 32), (1024, 32)]
    assert rx.weights[rx.index["layer1.0.conv2"]] == 128 * 4 * 9 + 128
    assert rx.layer("layer2.0.conv2").stride == (2, 2) and rx.shape("layer4.2.add") == (2048, 7, 7)
