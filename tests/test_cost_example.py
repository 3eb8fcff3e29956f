"""The worked example of cost-model.md §6, number by number."""

from pathlib import Path

import pytest

import optimus_opt as oo
from optimus_opt.cost import CostModel

from helpers import ids

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def inst():
    return oo.load_instance(ROOT / "instances" / "example-64k.json")


@pytest.fixture(scope="module")
def cm(inst):
    return CostModel(inst)


def test_compulsory(cm):
    # x 16·32·32·2 = 32,768 + fc 10·2 = 20 + weights 2·(4608 + 9216 + 9216 + 2048 + 18432 + 1280) = 89,600
    assert cm.compulsory_bytes() == 32768 + 20 + 89600 == 122388


def test_c1_alone(inst, cm):
    t = cm.best_tiling(ids(inst, ["c1"]))
    assert (t.strips, t.batch_block, t.resident) == (1, 1, True)
    assert t.reduced == frozenset(ids(inst, ["c1"]))
    assert (t.read_bytes, t.write_bytes, t.cost) == (41984, 65536, 107520)
    assert t.weight_traffic == 9216


def test_c4_c5_cat(inst, cm):
    t = cm.best_tiling(ids(inst, ["c4", "c5", "cat"]))
    assert t.cost == 122880
    assert (t.strips, t.resident, t.footprint_bytes) == (4, True, 24576)
    assert t.reduced == frozenset(ids(inst, ["c4", "c5"]))


def test_residual_block_needs_32_strips(inst, cm):
    g = ids(inst, ["c1", "c2", "c3", "a1"])
    t = cm.best_tiling(g)
    assert t.cost == 144384
    assert (t.strips, t.resident, t.footprint_bytes) == (32, True, 18432)
    assert t.reduced == frozenset(ids(inst, ["c1", "c3"]))
    curve = cm.curve(g)
    rows = [int(curve.rows[i][31]) for i in ids(inst, ["x", "c1", "c2", "c3", "a1"])]
    assert rows == [7, 5, 3, 1, 1]
    # no Q below 32 keeps the 46,080 weight bytes resident
    assert curve.io.weight_bytes == 46080
    assert all(curve.footprint[q] + 46080 > 65536 for q in range(31))


def test_tail_group(inst, cm):
    t = cm.best_tiling(ids(inst, ["p1", "c4", "c5", "cat", "g", "fc"]))
    assert t.cost == 109076
    assert (t.strips, t.resident) == (16, True)
    assert t.reduced == frozenset(ids(inst, ["c4", "c5"]))


def test_optimum_schedule_evaluates_to_253460(inst):
    sched = oo.Schedule(instance=inst.name, solver="hand", status="feasible", groups=(
        oo.Group(layers=("c1", "c2", "c3", "a1")), oo.Group(layers=("p1", "c4", "c5", "cat", "g", "fc"))))
    ev = oo.evaluate(inst, sched)
    assert ev.dram_bytes == 253460
    assert ev.compulsory_bytes == 122388


def test_optimum_by_brute_force(inst, cm):
    """No valid schedule of the example beats 253,460 bytes (every set partition checked)."""
    from bruteforce import brute_force_optimum

    best, groups = brute_force_optimum(inst)
    assert best == 253460
    names = [sorted(inst.network.layers[u].name for u in g) for g in groups]
    assert names == [sorted(["c1", "c2", "c3", "a1"]), sorted(["p1", "c4", "c5", "cat", "g", "fc"])]


def test_baseline_restrictions(inst, cm):
    g = ids(inst, ["c1", "c2", "c3", "a1"])
    assert cm.best_tiling(g, resident_only=True).cost == 144384
    # without reduced channels, Q = 32 needs 2·(5120 + 3072 + 1024 + 1024 + 3584) = 27,648 bytes of feature maps,
    # and 27,648 + 46,080 > 65,536: no resident tiling is left
    assert cm.curve(g).full_footprint[31] == 27648
    assert cm.best_tiling(g, resident_only=True, reduced_channels=False) is None
    # streaming is still possible: each strip re-reads the 46,080 weight bytes
    t = cm.best_tiling(g, reduced_channels=False)
    assert t is not None and not t.resident and not t.reduced
    assert t.weight_traffic == 46080 * t.strips
