"""The worked examples of formulations/cost-model.md §6 (cost model version 2), number by number, for the cost
model, for ``evaluate`` and for the three exact solvers."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from helpers import ids

import optimus_opt as oo
from optimus_opt.cost.cost_model import FULL, CostModel, TilingRules

ROOT = Path(__file__).resolve().parents[1]
EXACT = ("exact-dp", "cpsat", "milp")


def load(name: str, *, buffer: int | None = None, staging: str | None = None) -> oo.Instance:
    inst = oo.load_instance(ROOT / "instances" / name).with_overrides(buffer_bytes=buffer)
    if staging is not None:
        inst = dataclasses.replace(inst, accelerator=dataclasses.replace(inst.accelerator, weight_staging=staging))
    return inst


def names(inst, members):
    return sorted(inst.network.layers[u].name for u in members)


def assert_optimum(inst, cost, *, groups=None, unique=True):
    """All three exact solvers prove ``cost`` and evaluate recomputes it; the given groups cost ``cost`` too, and,
    where the optimum is ``unique``, they are what every solver returns."""
    for solver in EXACT:
        r = oo.solve(inst, solver)
        assert (r.status, r.dram_bytes, r.bound_bytes) == ("optimal", cost, cost), solver
        assert oo.evaluate(inst, r).dram_bytes == cost
        if groups is not None and unique:
            assert [sorted(g.layers) for g in r.groups] == [sorted(g) for g in groups], solver
    if groups is not None:
        sched = oo.Schedule(instance=inst.name, solver="hand", status="feasible",
                            groups=tuple(oo.Group(layers=tuple(g)) for g in groups))
        assert oo.evaluate(inst, sched).dram_bytes == cost


# -- B = 65,536 ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def inst():
    return load("example-64k.json")


@pytest.fixture(scope="module")
def cm(inst):
    return CostModel(inst)


def test_compulsory(cm):
    # x 16·32·32·2 = 32,768 + fc 10·2 = 20 + weights 2·(4608 + 9216 + 9216 + 2048 + 18432 + 1280) = 89,600
    assert cm.compulsory_bytes() == 32768 + 20 + 89600 == 122388


def test_concat_is_no_layer(inst):
    net = inst.network
    assert "cat" not in names(inst, net.layer_ids)
    # g reads the concat's inputs instead of the concat; its shape still comes from the concat (64 + 64 channels)
    assert names(inst, net.producers[net.index["g"]]) == ["c4", "c5"]
    assert net.shape("g") == (128, 1, 1)


def test_c1_alone(inst, cm):
    t = cm.best_tiling(ids(inst, ["c1"]))
    assert (t.strips, t.batch_block, t.resident) == (1, 1, True)
    assert t.reduced == frozenset(ids(inst, ["c1"]))
    assert (t.read_bytes, t.write_bytes, t.cost) == (41984, 65536, 107520)
    assert t.weight_traffic == 9216


def test_c4_c5(inst, cm):
    t = cm.best_tiling(ids(inst, ["c4", "c5"]))
    assert (t.cost, t.resident) == (122880, True)
    assert names(inst, t.reduced) == ["c4", "c5"]


def test_residual_block_needs_32_strips(inst, cm):
    g = ids(inst, ["c1", "c2", "c3", "a1"])
    t = cm.best_tiling(g)
    assert t.cost == 144384
    assert (t.strips, t.resident, t.footprint_bytes) == (32, True, 18432)
    assert names(inst, t.reduced) == ["c1", "c3"]
    curve = cm.curve(g)
    assert [int(curve.rows[i][31]) for i in ids(inst, ["x", "c1", "c2", "c3", "a1"])] == [7, 5, 3, 1, 1]
    # no Q below 32 keeps the 46,080 weight bytes resident
    assert curve.io.weight_bytes == 46080
    assert all(curve.footprint[q] + 46080 > 65536 for q in range(31))


def test_tail_group_least_q_is_8(inst, cm):
    g = ids(inst, ["p1", "c4", "c5", "g", "fc"])
    t = cm.best_tiling(g)
    assert (t.cost, t.strips, t.resident) == (109076, 8, True)
    assert names(inst, t.reduced) == ["c4", "c5"]
    assert cm.curve(g).footprint[6] + cm.curve(g).io.weight_bytes > 65536


@pytest.mark.parametrize("staging", ["block", "none"])
def test_optimum_64k(staging):
    assert_optimum(load("example-64k.json", staging=staging), 253460,
                   groups=[["c1", "c2", "c3", "a1"], ["p1", "c4", "c5", "g", "fc"]])


def test_optimum_by_brute_force(inst):
    """No valid schedule of the example beats 253,460 bytes (every set partition checked)."""
    from bruteforce import brute_force_optimum

    best, groups = brute_force_optimum(inst)
    assert best == 253460
    assert [names(inst, g) for g in groups] == [sorted(["c1", "c2", "c3", "a1"]),
                                                 sorted(["p1", "c4", "c5", "g", "fc"])]


def test_baseline_restrictions(inst, cm):
    g = ids(inst, ["c1", "c2", "c3", "a1"])
    assert cm.best_tiling(g, TilingRules(resident_only=True)).cost == 144384
    # without reduced channels, Q = 32 needs 2·(5120 + 3072 + 1024 + 1024 + 3584) = 27,648 bytes of feature maps,
    # and 27,648 + 46,080 > 65,536: no resident tiling is left
    assert cm.curve(g).full_footprint[31] == 27648
    assert cm.best_tiling(g, TilingRules(resident_only=True, reduced_channels=False)) is None
    # streaming is still possible: each strip re-reads the 46,080 weight bytes
    t = cm.best_tiling(g, TilingRules(reduced_channels=False))
    assert t is not None and not t.resident and not t.reduced
    assert t.weight_traffic == 46080 * t.strips


def test_one_cache_per_rules(inst, cm):
    g = ids(inst, ["c1", "c2", "c3", "a1"])
    assert cm.best_tiling(g) is cm.best_tiling(g, FULL)
    assert cm.best_tiling(g, TilingRules(reduced_channels=False)) is not cm.best_tiling(g)


# -- B = 32,768: streaming and weight staging ----------------------------------------------------------------

def test_streamed_once_at_32k():
    inst = load("example-32k.json")
    cm = CostModel(inst)
    t = cm.best_tiling(ids(inst, ["c4", "c5", "g", "fc"]))
    # 43,520 weight bytes beside a 24,852-byte footprint at Q = 1 exceed 32,768: stream them once (Q = 1, N = 1)
    assert (t.cost, t.strips, t.batch_block, t.resident) == (59924, 1, 1, False)
    assert (t.read_bytes, t.write_bytes, t.footprint_bytes) == (16384 + 43520, 20, 24852)


@pytest.mark.parametrize("staging, strips, cost, footprint", [("block", 16, 442368, None),
                                                               ("none", 8, 294912, 32768)])
def test_weight_staging_decides_the_strips(staging, strips, cost, footprint):
    inst = load("example-32k.json", staging=staging)
    t = CostModel(inst).best_tiling(ids(inst, ["c3", "a1", "p1"]))
    assert (t.strips, t.cost, t.resident) == (strips, cost, False)
    if footprint is not None:
        assert t.footprint_bytes == footprint


def test_optimum_32k_block():
    # the optimum ties: {c3}, {a1, p1} and {c3, a1}, {p1} cost the same, so only the cost is fixed
    assert_optimum(load("example-32k.json"), 613908,
                   groups=[["c1"], ["c2"], ["c3"], ["a1", "p1"], ["c4", "c5", "g", "fc"]], unique=False)


def test_optimum_32k_none():
    assert_optimum(load("example-32k.json", staging="none"), 611860,
                   groups=[["c1"], ["c2"], ["c3", "a1", "p1"], ["c4", "c5", "g", "fc"]])


# -- squeeze-excitation ------------------------------------------------------------------------------------

def test_se_compulsory():
    assert CostModel(load("example-se.json")).compulsory_bytes() == 27648


def test_se_gated_group_at_48k():
    inst = load("example-se.json")
    cm = CostModel(inst)
    g = ids(inst, ["c1", "gp", "f1", "f2", "m"])
    curve = cm.curve(g)
    assert curve.io.gated and curve.qlimit == 1
    assert names(inst, curve.io.full_channels) == ["c1"]
    t = cm.best_tiling(g)
    assert (t.strips, t.reduced, t.footprint_bytes, t.cost) == (1, frozenset(), 41104, 34816)
    whole = cm.best_tiling(ids(inst, ["c1", "gp", "f1", "f2", "m", "c2"]))
    assert (whole.strips, names(inst, whole.reduced), whole.cost) == (1, ["c2"], 27648)


@pytest.mark.parametrize("buffer, cost, groups", [
    (49152, 27648, [["c1", "gp", "f1", "f2", "m", "c2"]]),
    (40960, 60416, [["c1"], ["gp", "f1", "f2", "m", "c2"]]),
    (16384, 60448, [["c1", "gp", "f1"], ["f2", "m", "c2"]]),
])
def test_se_optimum(buffer, cost, groups):
    assert_optimum(load("example-se.json", buffer=buffer), cost, groups=groups)


def test_se_parts_at_40k_and_16k():
    inst = load("example-se.json", buffer=40960)
    cm = CostModel(inst)
    assert cm.best_tiling(ids(inst, ["c1"])).cost == 33792
    t = cm.best_tiling(ids(inst, ["gp", "f1", "f2", "m", "c2"]))
    # gated (gp reduces 16 rows and its result gates m), but c1 is read from DRAM once: Q = 1
    assert (t.cost, t.strips) == (26624, 1)
    small = load("example-se.json", buffer=16384)
    assert CostModel(small).best_tiling(ids(small, ["c1", "gp", "f1", "f2", "m"])) is None
