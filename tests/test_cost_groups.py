"""Single groups whose tiling and traffic were worked out by hand (the arithmetic is in each test's comments).

Notation: R_u rows per strip, Q strips, w = 2 bytes, F footprint; W_G all weights, S_G the weight block.
"""

import dataclasses

import pytest
from helpers import ids, make_instance

from optimus_opt.cost.cost_model import CostModel


def best(inst, names):
    return CostModel(inst).best_tiling(ids(inst, names))


def test_strided_conv():
    # x (8,16,16) -> s: conv 16, k3, stride 2, pad 1 -> (16,8,8). Weights 16·8·9 = 1152 words = 2304 B.
    # R_s = ceil(8/Q), R_x = min(16, (R_s-1)·2 + 3); Φ = {s} keeps 8 channels:
    # F words = 8·R_s·8 + 8·R_x·16 = 64 R_s + 128 R_x; resident needs F ≤ (4096-2304)/2 = 896 words.
    # Q=3: 192 + 896 = 1088 > 896; Q=4: R_s = 2, R_x = 5: 128 + 640 = 768 ≤ 896.
    inst = make_instance([
        {"name": "x", "op": "input", "shape": [8, 16, 16]},
        {"name": "s", "op": "conv", "inputs": ["x"], "channels": 16, "kernel": 3, "stride": 2, "padding": 1},
    ], buffer=4096, tc=8)
    assert inst.network.shape("s") == (16, 8, 8)
    t = best(inst, ["s"])
    assert (t.strips, t.resident, t.footprint_bytes) == (4, True, 1536)
    assert t.reduced == frozenset(ids(inst, ["s"]))
    # read x 8·16·16·2 = 4096 + weights 2304; write s 16·8·8·2 = 2048
    assert (t.read_bytes, t.write_bytes, t.cost) == (6400, 2048, 8448)


def test_dilated_conv():
    # x (4,20,10) -> d: conv 8, k3, dilation 2, pad 2: span 5, Ho = 20 + 4 - 5 + 1 = 20. Weights 8·4·9 = 288 w.
    # Φ = {d} keeps Tc = 4 channels: F words = 4·R_d·10 + 4·R_x·10 = 40 (R_d + R_x), R_x = min(20, R_d + 4).
    # Resident: 40 (R_d + R_x)·2 ≤ 1856 - 576 = 1280 -> R_d + R_x ≤ 16.
    # Q=3: 7 + 11 = 18 no; Q=4: 5 + 9 = 14 yes (without dilation Q=3 would do: 7 + 9 = 16).
    inst = make_instance([
        {"name": "x", "op": "input", "shape": [4, 20, 10]},
        {"name": "d", "op": "conv", "inputs": ["x"], "channels": 8, "kernel": 3, "dilation": 2, "padding": 2},
    ], buffer=1856, tc=4)
    assert inst.network.shape("d") == (8, 20, 10)
    t = best(inst, ["d"])
    assert (t.strips, t.resident, t.footprint_bytes) == (4, True, 1120)
    # read 4·20·10·2 = 1600 + 576; write 8·20·10·2 = 3200
    assert t.cost == 1600 + 576 + 3200 == 5376


def test_depthwise_conv_streams_weights():
    # x (16,8,8) -> dw: conv 16, groups 16, k3, pad 1. Weights 16·1·9 = 144 w = 288 B; block 8·1·9 w = 144 B.
    # Φ = {dw}: F words = 8·R·8 + 16·R_x·8, R_x = min(8, R + 2).
    # Q=8: 64 + 384 = 448 w = 896 B; Q=4: 128 + 512 = 640 w = 1280 B.
    # Resident needs F ≤ 1100 - 288 = 812: never. Streamed needs F ≤ 1100 - 144 = 956: Q = 8 only.
    inst = make_instance([
        {"name": "x", "op": "input", "shape": [16, 8, 8]},
        {"name": "dw", "op": "conv", "inputs": ["x"], "channels": 16, "groups": 16, "kernel": 3, "padding": 1},
    ], buffer=1100, tc=8)
    assert inst.network.weights[inst.network.index["dw"]] == 144
    t = best(inst, ["dw"])
    assert (t.strips, t.batch_block, t.resident, t.footprint_bytes) == (8, 1, False, 896)
    assert t.weight_traffic == 288 * 8
    # read x 2048 + weights 288·8 = 2304; write 2048
    assert t.cost == 2048 + 2304 + 2048 == 6400


def test_residual_add():
    # x (8,8,8) -> c1 (k3 p1, 8) -> c2 (k3 p1, 8) -> a = add(c2, x). C = Tc = 8, so Φ saves nothing.
    # R_a = ceil(8/Q); R_c2 = R_a; R_c1 = min(8, R_a + 2); R_x = max(R_c1 + 2 via c1, R_a via a) = min(8, R_a + 4)
    # F words = 64 (R_a + R_c2 + R_c1 + R_x): Q=4: 64·(2+2+4+6) = 896 w = 1792 B; Q=2: 64·22 = 1408 w.
    # Weights 2·576 = 1152 w = 2304 B; resident needs F ≤ 4096 - 2304 = 1792 B: Q = 4.
    inst = make_instance([
        {"name": "x", "op": "input", "shape": [8, 8, 8]},
        {"name": "c1", "op": "conv", "inputs": ["x"], "channels": 8, "kernel": 3, "padding": 1},
        {"name": "c2", "op": "conv", "inputs": ["c1"], "channels": 8, "kernel": 3, "padding": 1},
        {"name": "a", "op": "add", "inputs": ["c2", "x"]},
    ], buffer=4096, tc=8)
    cm = CostModel(inst)
    g = ids(inst, ["c1", "c2", "a"])
    t = cm.best_tiling(g)
    assert (t.strips, t.resident, t.footprint_bytes, t.reduced) == (4, True, 1792, frozenset())
    assert [int(cm.curve(g).rows[i][3]) for i in ids(inst, ["x", "c1", "c2", "a"])] == [6, 4, 2, 2]
    # read x once (1024) + weights 2304; write only a (1024): c1 and c2 stay on chip
    assert (t.read_bytes, t.write_bytes) == (3328, 1024)


def test_sibling_branches_sharing_an_input():
    # x (4,8,8) -> b1 (conv 8, k1), b2 (conv 8, k3 p1) -> cat. Group {b1, b2}: joined only by the shared input x.
    # No edge joins b1 and b2, so Φ = {b1, b2} (Tc = 4). R_b = ceil(8/Q), R_x = min(8, R_b + 2).
    # F words = 4·R·8·2 + 4·R_x·8: Q=1: 512 + 256 = 768 w = 1536 B; Q=2: 256 + 192 = 448 w = 896 B.
    # Weights (32 + 288) w = 640 B; resident needs F ≤ 1600 - 640 = 960 B: Q = 2.
    inst = make_instance([
        {"name": "x", "op": "input", "shape": [4, 8, 8]},
        {"name": "b1", "op": "conv", "inputs": ["x"], "channels": 8, "kernel": 1},
        {"name": "b2", "op": "conv", "inputs": ["x"], "channels": 8, "kernel": 3, "padding": 1},
        {"name": "cat", "op": "concat", "inputs": ["b1", "b2"]},
    ], buffer=1600, tc=4)
    assert inst.network.shape("cat") == (16, 8, 8)
    t = best(inst, ["b1", "b2"])
    assert (t.strips, t.resident, t.footprint_bytes) == (2, True, 896)
    assert t.reduced == frozenset(ids(inst, ["b1", "b2"]))
    # x is read once for both branches: 512 + 640; both branches escape to cat: 1024 + 1024
    assert (t.read_bytes, t.write_bytes) == (1152, 2048)


def test_fc_after_global_pool_reduces_across_strips():
    # x (16,4,4) -> g: global pool (16,1,1) -> f: fc 10. Both reductions accumulate across strips:
    # R_f = 1, R_g = 1, R_x = ceil(4/Q). F words = 10 + 16 + 16·R_x·4: Q=1: 282 w; Q=2: 154 w = 308 B.
    # fc weights 16·10 = 160 w = 320 B; resident needs F ≤ 700 - 320 = 380 B: Q = 2.
    inst = make_instance([
        {"name": "x", "op": "input", "shape": [16, 4, 4]},
        {"name": "g", "op": "pool", "inputs": ["x"], "global": True, "mode": "avg"},
        {"name": "f", "op": "fc", "inputs": ["g"], "channels": 10},
    ], buffer=700, tc=8)
    t = best(inst, ["g", "f"])
    assert (t.strips, t.resident, t.footprint_bytes) == (2, True, 308)
    # read x 16·4·4·2 = 512 + 320; write f 10·2 = 20
    assert t.cost == 512 + 320 + 20 == 852


def test_upsample():
    # x (4,4,4) -> u: upsample 2 (4,8,8) -> c: conv 4, k3 p1. Tc = 4: nothing to reduce.
    # R_c = ceil(8/Q); R_u = min(8, R_c + 2); R_x = min(4, ceil((R_u - 1)/2) + 1).
    # F words = 32 R_c + 32 R_u + 16 R_x: Q=2: 4,6,4 -> 384 w = 768 B; Q=4: 2,4,3 -> 240 w = 480 B.
    # Weights 4·4·9 = 144 w = 288 B; resident needs F ≤ 800 - 288 = 512 B: Q = 4.
    inst = make_instance([
        {"name": "x", "op": "input", "shape": [4, 4, 4]},
        {"name": "u", "op": "upsample", "inputs": ["x"], "scale": 2},
        {"name": "c", "op": "conv", "inputs": ["u"], "channels": 4, "kernel": 3, "padding": 1},
    ], buffer=800, tc=4)
    cm = CostModel(inst)
    g = ids(inst, ["u", "c"])
    t = cm.best_tiling(g)
    assert (t.strips, t.resident, t.footprint_bytes) == (4, True, 480)
    assert [int(cm.curve(g).rows[i][3]) for i in ids(inst, ["x", "u", "c"])] == [3, 4, 2]
    assert t.cost == 128 + 288 + 512


BATCH_NET = [
    {"name": "x", "op": "input", "shape": [8, 2, 2]},
    {"name": "c", "op": "conv", "inputs": ["x"], "channels": 64, "kernel": 1},
]
# Batch N = 4, Tc = 16. Weights 64·8 = 512 w = 1024 B; slice ceil(1024·16/64) = 256 B. Φ = {c}:
# F per sample = 16·R·2 + 8·R·2 = 48 R words, R = ceil(2/Q): Q=1: 192 B; Q=2: 96 B.
# read x = 4·8·2·2·2 = 256 B; write c = 4·64·2·2·2 = 2048 B.


@pytest.mark.parametrize("buffer, strips, block, resident, weight_traffic, footprint", [
    # resident at Q=1 needs 192 + 1024 = 1216 > 1200; at Q=2: 96 + 1024 = 1120 ≤ 1200
    (1200, 2, 1, True, 1024, 96),
    # never resident (1120 > 1100); streamed at Q=1 with b samples: 192 b + 256 ≤ 1100 -> b = 4, one block
    (1100, 1, 4, False, 1024, 768),
    # streamed: 192 b + 256 ≤ 1000 -> b ≤ 3; ceil(4/3) = 2 blocks, balanced to b = 2: weights read twice
    (1000, 1, 2, False, 2048, 384),
    # Q=1 does not fit (192 + 256 = 448 > 400); Q=2: 96 + 256 = 352: weights read Q·N = 8 times
    (400, 2, 1, False, 8192, 96),
])
def test_batch_blocks_and_streaming(buffer, strips, block, resident, weight_traffic, footprint):
    inst = make_instance(BATCH_NET, buffer=buffer, tc=16, batch=4)
    t = best(inst, ["c"])
    assert (t.strips, t.batch_block, t.resident) == (strips, block, resident)
    assert (t.weight_traffic, t.footprint_bytes) == (weight_traffic, footprint)
    assert t.cost == 256 + weight_traffic + 2048


def test_no_tiling_fits():
    # F at Q = Qmax = 2 is 96 B and the slice 256 B: a 351-byte buffer holds neither tiling
    inst = make_instance(BATCH_NET, buffer=351, tc=16, batch=4)
    cm = CostModel(inst)
    assert cm.best_tiling(ids(inst, ["c"])) is None
    assert cm.least_buffer(ids(inst, ["c"])) == 352


def test_given_tiling_is_checked():
    inst = make_instance(BATCH_NET, buffer=1000, tc=16, batch=4)
    cm = CostModel(inst)
    g = ids(inst, ["c"])
    assert cm.tiling(g, 1, 2, g).cost == 256 + 2048 + 2048
    with pytest.raises(ValueError, match="batch_block 2 > 1 needs strips = 1"):
        cm.tiling(g, 2, 2, g)
    with pytest.raises(ValueError, match="does not fit"):
        cm.tiling(g, 1, 4, g)  # 4·192 + 256 = 1024 > 1000
    with pytest.raises(ValueError, match="strips 3 out of range 1..2"):
        cm.tiling(g, 3, 1, g)


def test_streamed_weights_fit_only_as_blocks():
    # x (32,8,8) -> c: conv 64, k3, pad 1. Weights 64·32·9 = 18,432 w = 36,864 B. Tc = 8: a block is 8·8·9 = 576 w
    # = 1,152 B (version 1 staged a whole output-channel tile, 36,864·8/64 = 4,608 B, which never fits here).
    # Φ = {c} keeps 8 channels; R_c = ceil(8/Q), R_x = min(8, R_c + 2):
    # F words = 8·R_c·8 + 32·R_x·8: Q=1: 512 + 2048 = 2560 w; Q=2: 256 + 1536 = 1792 w = 3,584 B;
    # Q=4: 128 + 1024 = 1152 w = 2,304 B. At B = 3,600, block staging needs F + 1,152: Q = 4; no staging: Q = 2.
    layers = [
        {"name": "x", "op": "input", "shape": [32, 8, 8]},
        {"name": "c", "op": "conv", "inputs": ["x"], "channels": 64, "kernel": 3, "padding": 1},
    ]
    inst = make_instance(layers, buffer=3600, tc=8)
    cm = CostModel(inst)
    assert cm.io(ids(inst, ["c"])).weight_block_bytes == 1152
    t = best(inst, ["c"])
    assert (t.strips, t.resident, t.footprint_bytes) == (4, False, 2304)
    # read x 4,096 + weights 36,864·4 = 147,456; write c 64·8·8·2 = 8,192
    assert (t.read_bytes, t.write_bytes) == (4096 + 147456, 8192)
    none = dataclasses.replace(inst, accelerator=dataclasses.replace(inst.accelerator, weight_staging="none"))
    t = best(none, ["c"])
    assert (t.strips, t.resident, t.footprint_bytes, t.cost) == (2, False, 3584, 4096 + 2 * 36864 + 8192)
    # one byte less than 2,304 + 1,152 leaves only Q = 8 (1,664 + 1,152 B)
    assert CostModel(inst.with_overrides(buffer_bytes=3455)).best_tiling(ids(inst, ["c"])).strips == 8


def se_block(buffer: int):
    """x (8,4,4) -> c1: conv 1x1 to 16 -> gp: global pool -> f: fc 16 -> m = mul(c1, f) (f broadcast). Tc = 4."""
    return make_instance([
        {"name": "x", "op": "input", "shape": [8, 4, 4]},
        {"name": "c1", "op": "conv", "inputs": ["x"], "channels": 16, "kernel": 1},
        {"name": "gp", "op": "pool", "inputs": ["c1"], "global": True},
        {"name": "f", "op": "fc", "inputs": ["gp"], "channels": 16},
        {"name": "m", "op": "mul", "inputs": ["c1", "f"]},
    ], buffer=buffer, tc=4)


def test_gated_group():
    # {c1, gp, f, m}: gp reduces 4 rows and its result gates m inside the group: Q = 1, and c1 (the full-size
    # operand of m) keeps its 16 channels. At Q = 1 every tensor is whole: x 8·4·4 = 128 w, c1 256, gp 16, f 16,
    # m 256: F = 672 w = 1,344 B. Weights c1 16·8 = 128 w + f 16·16 = 256 w = 768 B: resident at 2,112 B.
    inst = se_block(2112)
    cm = CostModel(inst)
    group = ids(inst, ["c1", "gp", "f", "m"])
    io = cm.io(group)
    assert io.gated and io.full_channels == frozenset(ids(inst, ["c1"]))
    t = cm.best_tiling(group)
    assert (t.strips, t.resident, t.reduced, t.footprint_bytes) == (1, True, frozenset(), 1344)
    # read x 256 + weights 768; write m 16·4·4·2 = 512
    assert (t.read_bytes, t.write_bytes) == (1024, 512)
    # with Q = 1 only and c1 whole, 1,344 B + the 32-byte block of f (4·4 w) does not fit 1,300 B
    assert CostModel(se_block(1300)).best_tiling(group) is None


def test_gate_from_another_group_is_not_gated():
    inst = se_block(1000)
    cm = CostModel(inst)
    # {gp, f, m} is gated (gp reduces c1's 4 rows): Q = 1 with c1 read whole twice over (by gp and m): c1 256 w,
    # gp 16, f 16, m 256 = 544 w = 1,088 B + f's 32-byte block > 1,000 B
    assert cm.io(ids(inst, ["gp", "f", "m"])).gated
    assert cm.best_tiling(ids(inst, ["gp", "f", "m"])) is None
    # {m} applies a gate computed elsewhere: any Q. Q = 1: c1 256 + f 16 + m 256 = 528 w = 1,056 B, too much;
    # Q = 2: 128 + 16 + 128 = 272 w = 544 B. Reads c1 512 + f 32, writes m 512.
    t = cm.best_tiling(ids(inst, ["m"]))
    assert not cm.io(ids(inst, ["m"])).gated
    assert (t.strips, t.footprint_bytes, t.cost) == (2, 544, 512 + 32 + 512)
    # {f, m}: f reduces gp, a single row, so the group is not gated either. Q = 2 (and 3): gp 16, f 16, c1 128,
    # m 128 = 288 w = 576 B, with f's 512 weight bytes 1,088 B > 1,000 B; Q = 4: 16 + 16 + 64 + 64 = 160 w = 320 B,
    # + 512 = 832 B: resident.
    t = cm.best_tiling(ids(inst, ["f", "m"]))
    assert not cm.io(ids(inst, ["f", "m"])).gated
    assert (t.strips, t.resident, t.footprint_bytes) == (4, True, 320)
    assert (t.read_bytes, t.write_bytes) == (32 + 512 + 512, 512)


def test_conv_reading_a_concat_of_three_tensors():
    # x (4,8,8) -> a, b: conv 1x1 to 8; cat = concat(a, b, x) (20 channels); c: conv 3x3, pad 1, to 16, reads cat.
    # Resolved, c reads a, b and x. Weights a 32 w, b 32 w, c 16·20·9 = 2,880 w: 5,888 B. Tc = 4.
    # R_c = ceil(8/Q); a, b and x feed c's window: R = min(8, R_c + 2). Conflicts: a–c, b–c, so Φ is {a, b}
    # (saving 2·4·8·R) or {c} (saving 12·8·R_c):
    # Q=1: full 256 + 512 + 512 + 1024 = 2304 w; {a, b} saves 512, {c} 768: Φ = {c}, F = 1536 w = 3,072 B.
    # Q=4: R_c = 2, R = 4: full 128 + 256 + 256 + 256 = 896 w; {a, b} saves 256, {c} 192: Φ = {a, b}, 640 w.
    # Q=2: R_c = 4, R = 6: full 1472 w, both save 384 (a tie, full channels kept where equal): 1088 w = 2,176 B.
    # At B = 7,168 the weights stay resident from Q = 4 (1,280 + 5,888 = 7,168), not at Q = 2 (8,064).
    inst = make_instance([
        {"name": "x", "op": "input", "shape": [4, 8, 8]},
        {"name": "a", "op": "conv", "inputs": ["x"], "channels": 8, "kernel": 1},
        {"name": "b", "op": "conv", "inputs": ["x"], "channels": 8, "kernel": 1},
        {"name": "cat", "op": "concat", "inputs": ["a", "b", "x"]},
        {"name": "c", "op": "conv", "inputs": ["cat"], "channels": 16, "kernel": 3, "padding": 1},
    ], buffer=7168, tc=4)
    net = inst.network
    assert sorted(net.layers[p].name for p in net.producers[net.index["c"]]) == ["a", "b", "x"]
    assert net.weights[net.index["c"]] == 2880
    cm = CostModel(inst)
    group = ids(inst, ["a", "b", "c"])
    curve = cm.curve(group)
    assert [int(curve.footprint[q - 1]) for q in (1, 2, 4)] == [3072, 2176, 1280]
    assert curve.reduced_set(1) == frozenset(ids(inst, ["c"]))
    assert curve.reduced_set(4) == frozenset(ids(inst, ["a", "b"]))
    t = cm.best_tiling(group)
    assert (t.strips, t.resident, t.footprint_bytes) == (4, True, 1280)
    # read x once (512) + weights 5,888; write c 16·8·8·2 = 2,048
    assert (t.read_bytes, t.write_bytes) == (6400, 2048)
