"""Cost model version 3 (formulations/cost-model.md §7) on examples worked out by hand.

Each expected number below is derived in the comments from the spec's rules (partition, needs, cached and
recomputed propagation, span/line/repeated/distinct, footprint, re-reads, MACs, passes), not read off the code.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from helpers import ids, make_instance

from optimus_opt.cost.cost_model import CostModel
from optimus_opt.model.errors import InstanceError


def tiles(inst, halo: str = "choose"):
    return dataclasses.replace(inst, accelerator=dataclasses.replace(inst.accelerator, tiling="tiles", halo=halo))


def chain(buffer: int = 1 << 20, tc: int = 32):
    """x (2, 8, 8) -> c1: 3x3 conv to 4, padding 1 -> c2: 3x3 conv to 4, padding 1 (the output)."""
    return make_instance([
        {"name": "x", "op": "input", "shape": [2, 8, 8]},
        {"name": "c1", "op": "conv", "inputs": ["x"], "channels": 4, "kernel": 3, "padding": 1},
        {"name": "c2", "op": "conv", "inputs": ["c1"], "channels": 4, "kernel": 3, "padding": 1},
    ], buffer, tc=tc)


def counts(inst, members, q: int, cached: bool) -> dict[str, tuple[int, int, int, int]]:
    """(span, line, repeated, distinct) of every tensor of the group at Q tile rows, cached or recomputed."""
    cm = CostModel(tiles(inst))
    io = cm.io(ids(inst, members))
    qs = np.array([q], dtype=np.int64)
    halo = "cache" if cached else "recompute"
    d = cm.tiles.geometry.directions(io, qs, qs, (halo,))[0][halo]
    names = inst.network.layers
    return {names[t].name: tuple(int(v[0]) for v in d.of(t)) for t in d.tensors}


def test_one_window_at_two_tiles():
    # c (3x3, padding 1) over x (6 rows), Q = 2: t = 3, c's tiles [0,3) and [3,6); x needs [-1,4) -> [0,4) and
    # [2,7) -> [2,6): span 4, the boundary keeps [2,4) (2 rows), 2 rows repeated, 6 distinct
    inst = make_instance([
        {"name": "x", "op": "input", "shape": [1, 6, 6]},
        {"name": "c", "op": "conv", "inputs": ["x"], "channels": 2, "kernel": 3, "padding": 1},
    ], 1 << 20)
    for cached in (True, False):
        assert counts(inst, ["c"], 2, cached) == {"c": (3, 0, 0, 6), "x": (4, 2, 2, 6)}


def test_stride_two():
    # c (3x3, stride 2, padding 1) over x (8 rows) gives 4 rows; Q = 2: c's tiles [0,2), [2,4); x needs
    # [0*2-1, 1*2-1+3) = [-1,4) -> [0,4) and [2*2-1, 3*2-1+3) = [3,8): span 5, one row [3,4) shared
    inst = make_instance([
        {"name": "x", "op": "input", "shape": [1, 8, 8]},
        {"name": "c", "op": "conv", "inputs": ["x"], "channels": 2, "kernel": 3, "stride": 2, "padding": 1},
    ], 1 << 20)
    assert counts(inst, ["c"], 2, True) == {"c": (2, 0, 0, 4), "x": (5, 1, 1, 8)}


def test_upsample():
    # u = upsample(x, 2), x 4 rows, u 8 rows; Q = 3: t = 3, u's tiles [0,3), [3,6), [6,8); x needs
    # [0, 2//2+1) = [0,2), [1, 5//2+1) = [1,3), [3, 7//2+1) = [3,4): span 2, line 1 ([1,2) across the first
    # boundary, nothing across the second), repeated 1, distinct 4
    inst = make_instance([
        {"name": "x", "op": "input", "shape": [1, 4, 4]},
        {"name": "u", "op": "upsample", "inputs": ["x"], "scale": 2},
    ], 1 << 20)
    assert counts(inst, ["u"], 3, True) == {"u": (3, 0, 0, 8), "x": (2, 1, 1, 4)}


def test_cached_and_recomputed_rows_of_a_chain():
    # chain(), Q_r = 4: c2's tiles [0,2), [2,4), [4,6), [6,8).
    # c1 holds what c2 needs: [0,3), [1,5), [3,7), [5,8) in both modes (c2's new rows are its tiles).
    # recompute: x needs the windows of all of c1's rows: [0,4), [0,6), [2,8), [4,8) -> span 6, line 4, 12 repeated
    # cache: c1 computes only its new rows [0,3), [3,5), [5,7), [7,8), so x needs [0,4), [2,6), [4,8), [6,8) ->
    # span 4, line 2, 6 repeated (kept, not read again)
    inst = chain()
    group = ["c1", "c2"]
    assert counts(inst, group, 4, cached=False) == {"c2": (2, 0, 0, 8), "c1": (4, 2, 6, 8), "x": (6, 4, 12, 8)}
    assert counts(inst, group, 4, cached=True) == {"c2": (2, 0, 0, 8), "c1": (4, 2, 6, 8), "x": (4, 2, 6, 8)}


def test_footprint_traffic_and_macs_of_each_halo_mode():
    # chain() at 4 x 1 tiles, w = 2, N = 1. With one tile column every window is 8 columns wide and there is no
    # line buffer outside it, so a tensor holds C x span x 8 words.
    # cache:     x 2*4*8 + c1 4*4*8 + c2 4*2*8 = 256 words = 512 B; reads x once (256 B) + weights
    # recompute: x 2*6*8 + c1 4*4*8 + c2 4*2*8 = 288 words = 576 B; x's 12 repeated rows are read again:
    #            1*2*8*12*2 = 384 B more; c1's 6 repeated rows are computed again: 4 channels x 8 columns x 6 rows
    #            x 18 MACs (2 input channels x 3 x 3) = 3,456 MACs
    inst = chain()
    group = ids(inst, ["c1", "c2"])
    weights = 2 * (4 * 2 * 9 + 4 * 4 * 9)  # 432 B
    own = 4 * 64 * 18 + 4 * 64 * 36  # c1 and c2: 4 channels x 64 positions x (C/g)kh kw
    cm = CostModel(tiles(inst))
    cached = cm.tiling(group, 4, tile_cols=1, halo="cache")
    assert (cached.footprint_bytes, cached.read_bytes, cached.write_bytes) == (512, 256 + weights, 512)
    assert (cached.macs, cached.added_macs) == (own, 0)
    again = cm.tiling(group, 4, tile_cols=1, halo="recompute")
    assert (again.footprint_bytes, again.read_bytes, again.write_bytes) == (576, 256 + 384 + weights, 512)
    assert (again.macs, again.added_macs) == (own + 3456, 3456)


def test_reduced_channels_keep_every_channel_of_the_halo():
    # chain() with Tc = 2 and Φ = {c1} at 4 x 1 tiles: c1 (4 channels) has span 4, line 2, one tile column.
    # cache: cells 4*8 = 32, interior (4-2)*(8-0) = 16 -> 4*16 + 2*16 = 96 words (128 with all channels)
    # recompute: no rows kept, so every cell is interior: 2*32 = 64 words
    inst = chain(tc=2)
    group = ids(inst, ["c1", "c2"])
    cm = CostModel(tiles(inst))
    phi = ids(inst, ["c1"])
    full = cm.tiling(group, 4, tile_cols=1, halo="cache")
    assert cm.tiling(group, 4, tile_cols=1, halo="cache", reduced=phi).footprint_bytes == full.footprint_bytes - 2 * 32
    full = cm.tiling(group, 4, tile_cols=1, halo="recompute")
    assert cm.tiling(group, 4, tile_cols=1, halo="recompute", reduced=phi).footprint_bytes == \
        full.footprint_bytes - 2 * 64


def test_a_line_buffer_outside_the_window():
    # one conv c (3x3, padding 1) over x (1, 8, 8) at 2 x 2 tiles: x's window is 5 x 5 ([0,5) and [3,8) in each
    # direction), its line 2 rows, 8 distinct columns. cache: 2 * (8 - 5) + 5 * 5 = 31 cells of x; c's window
    # 4 x 4 = 16 cells with no line; 47 words = 94 B. recompute: 25 + 16 = 41 words, plus 2 rows of x read
    # again across its 8 columns (32 B)
    inst = make_instance([
        {"name": "x", "op": "input", "shape": [1, 8, 8]},
        {"name": "c", "op": "conv", "inputs": ["x"], "channels": 1, "kernel": 3, "padding": 1},
    ], 1 << 20)
    cm = CostModel(tiles(inst))
    c = ids(inst, ["c"])
    assert cm.tiling(c, 2, tile_cols=2, halo="cache").footprint_bytes == 94
    again = cm.tiling(c, 2, tile_cols=2, halo="recompute")
    assert (again.footprint_bytes, again.read_bytes - 18) == (82, 128 + 32)


def test_passes_read_the_input_once_per_pass():
    # x (4, 4, 4) -> c: 1x1 conv to 64 channels, w = 2, Tc = 32, buffer 400 B, weights 256 words = 512 B.
    # Weights never stay resident (512 > 400). Streamed, the 256-B weight block leaves 144 B, enough only for
    # one output position of all 64 channels (68 words = 136 B) at 4 x 4 tiles: 512 x 16 = 8,192 B of weights.
    # In P = 2 passes (32 channels, 256 B of weights each), the weights cross once and x is read twice:
    # 2 x 128 + 512 + the output 2,048 = 2,816 B. A pass needs its footprint within 400 - 256 = 144 B = 72 words:
    # at 2 x 4 tiles x holds 2 x 1 cells of 4 channels (8 words), the output 2 x 1 cells of 32 (64 words): 72,
    # while no tiling of fewer than 8 tiles fits; of the two 8-tile grids the one with fewer rows wins.
    inst = make_instance([
        {"name": "x", "op": "input", "shape": [4, 4, 4]},
        {"name": "c", "op": "conv", "inputs": ["x"], "channels": 64, "kernel": 1},
    ], 400, tc=32)
    cm = CostModel(tiles(inst))
    best = cm.best_tiling(ids(inst, ["c"]))
    assert (best.passes, best.cost, best.weight_traffic, best.strips, best.tile_cols) == (2, 2816, 512, 2, 4)
    assert best.footprint_bytes == 144
    assert cm.tiling(ids(inst, ["c"]), 4, tile_cols=4, halo="cache").cost == 128 + 8192 + 2048
    with pytest.raises(ValueError, match="does not fit"):
        cm.tiling(ids(inst, ["c"]), 2, tile_cols=2, halo="cache", passes=2)
    two = chain()
    with pytest.raises(ValueError, match="output-channel passes need a group of one conv or fc layer"):
        CostModel(tiles(two)).tiling(ids(two, ["c1", "c2"]), 1, passes=2)


def test_strips_is_version_two_and_refuses_version_three_fields():
    inst = chain()
    cm = CostModel(inst)
    with pytest.raises(ValueError, match="needs the accelerator's tiling: tiles"):
        cm.tiling(ids(inst, ["c1"]), 1, tile_cols=2)
    with pytest.raises(InstanceError, match="needs tiling: tiles"):
        dataclasses.replace(inst.accelerator, halo="recompute")


def test_worked_example_optima():
    """The spec's network under tiles (formulations/cost-model.md §7.9): the three exact solvers agree."""
    import optimus_opt as oo

    example64 = oo.load_instance("instances/example-64k.json")
    example32 = oo.load_instance("instances/example-32k.json")
    expected = {("64", "choose"): 155156, ("64", "cache"): 155156, ("64", "recompute"): 161300,
                ("32", "choose"): 425492, ("32", "cache"): 482836, ("32", "recompute"): 429588}
    for (size, halo), want in expected.items():
        inst = tiles(example64 if size == "64" else example32, halo)
        for solver in ("exact-dp", "cpsat", "milp"):
            result = oo.solve(inst, solver=solver)
            assert (result.status, result.dram_bytes) == ("optimal", want), (size, halo, solver)


def test_traffic_buffer_front_under_tiles():
    """The exact front of DRAM traffic against buffer under tiles: its value at 64 KiB and 32 KiB is the proven
    optimum at that buffer (the columns of the front are every non-dominated tiling, passes with reduced channels
    included, and must agree with each group's best tiling at every corner)."""
    import optimus_opt as oo

    inst = tiles(oo.load_instance("instances/example-64k.json"))
    front = oo.pareto_front(inst, 16 * 1024, 64 * 1024)
    at = {b: min(p.dram_bytes for p in front.points if p.buffer_bytes <= b) for b in (32 * 1024, 64 * 1024)}
    assert at == {32 * 1024: 425_492, 64 * 1024: 155_156}


def test_a_branch_holds_the_hull_of_its_readers_windows():
    # x (1, 6, 6) read by c1 (3x3, padding 1) and c2 (1x1); a = add(c1, c2) is the output. Q_r = 2: a's tiles
    # [0,3), [3,6); c1 and c2 hold the same (add passes its interval on). x needs [-1,4) -> [0,4) and [2,6) of c1,
    # [0,3) and [3,6) of c2: the hull [0,4), [2,6): span 4, line 2, repeated 2, distinct 6
    inst = make_instance([
        {"name": "x", "op": "input", "shape": [1, 6, 6]},
        {"name": "c1", "op": "conv", "inputs": ["x"], "channels": 1, "kernel": 3, "padding": 1},
        {"name": "c2", "op": "conv", "inputs": ["x"], "channels": 1, "kernel": 1},
        {"name": "a", "op": "add", "inputs": ["c1", "c2"]},
    ], 1 << 20)
    for cached in (True, False):
        assert counts(inst, ["c1", "c2", "a"], 2, cached) == {
            "a": (3, 0, 0, 6), "c2": (3, 0, 0, 6), "c1": (3, 0, 0, 6), "x": (4, 2, 2, 6)}


def test_traffic_recompute_front(capsys):
    """The exact front of DRAM traffic against added MACs on the spec network at 32 KiB (§7.9): the optimum
    425,492 B recomputes 589,824 MACs ({c1, c2} at 3 × 32 tiles, §7.9's table), and without recompute the best is
    the cache optimum 482,836 B; every corner's schedule evaluates to its numbers."""
    from helpers import run_cli

    import optimus_opt as oo
    from optimus_opt.solvers.pareto import recompute_front

    inst = tiles(oo.load_instance("instances/example-32k.json"))
    front = recompute_front(inst)
    assert [(p.added_macs, p.dram_bytes) for p in front.points] == [(589_824, 425_492), (0, 482_836)]
    for p in front.points:
        ev = oo.evaluate(inst, p.schedule)
        assert (ev.dram_bytes, sum(t.added_macs for t in ev.tilings)) == (p.dram_bytes, p.added_macs)
    code, out, err = run_cli(["pareto", "instances/example-32k.json", "--recompute"], capsys)
    assert code == 2 and "needs 2-D tiles" in err and "--recompute" in err
