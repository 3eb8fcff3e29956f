"""evaluate() recomputes a schedule and rejects each kind of invalid one with its own message."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import make_instance

import optimus_opt as oo

ROOT = Path(__file__).resolve().parents[1]


def sched(*groups, **kw):
    return oo.Schedule(instance="t", solver="hand", status="feasible",
                       groups=tuple(g if isinstance(g, oo.Group) else oo.Group(layers=tuple(g)) for g in groups),
                       **kw)


OPTIMUM = (["c1", "c2", "c3", "a1"], ["p1", "c4", "c5", "g", "fc"])


def reject(inst, schedule, kind, message):
    with pytest.raises(oo.ScheduleError) as info:
        oo.evaluate(inst, schedule)
    assert info.value.kind == kind
    assert message in str(info.value)


def test_overlap(example):
    reject(example, sched(*OPTIMUM, ["c1"]), "overlap", "group 2: layer 'c1' is also in group 0")


def test_missing(example):
    reject(example, sched(["c1", "c2", "c3", "a1"], ["p1"]), "missing",
           "layers in no group: c4, c5, g, fc")


def test_unknown_layer(example):
    reject(example, sched(*OPTIMUM, ["c9"]), "unknown-layer",
           "group 2: layer 'c9' is not in spec-example (this schedule is for t)")


def test_input_in_a_group(example):
    reject(example, sched(["x", *OPTIMUM[0]], OPTIMUM[1]), "unknown-layer",
           "group 0: 'x' is a network input and belongs to no group")


def test_concat_in_a_group(example):
    reject(example, sched(OPTIMUM[0], [*OPTIMUM[1], "cat"]), "concat-in-group",
           "group 1: 'cat' is a concat, a view of its inputs that belongs to no group (cost model version 2); remove "
           "it from the group")


def test_schedule_of_cost_model_1_is_refused(tmp_path):
    path = tmp_path / "old.json"
    path.write_text('{"format": "optimus-opt/schedule@1", "groups": [{"layers": ["c1"]}]}')
    with pytest.raises(oo.ScheduleError) as info:
        oo.load_schedule(path)
    assert info.value.kind == "format"
    assert str(info.value).startswith(f"invalid schedule (format): {path}: field 'format': "
                                      '"optimus-opt/schedule@1" was computed under version 1 of the cost model')
    assert "solve the instance again" in str(info.value)


def test_gated_group_needs_one_strip():
    inst = oo.load_instance(ROOT / "instances" / "example-se.json")
    gated = oo.Group(layers=("c1", "gp", "f1", "f2", "m"), strips=2)
    reject(inst, sched(gated, ["c2"]), "bad-tiling", "the group computes and applies a squeeze-excitation gate")
    reduced = oo.Group(layers=("c1", "gp", "f1", "f2", "m"), strips=1, reduced_channels=("c1",))
    reject(inst, sched(reduced, ["c2"]), "bad-tiling", "reduced-channel layer 'c1' produces the tensor a squeeze-"
           "excitation gate of the group scales")
    # the same layers without the reduction: m's gate comes from another group, so any Q is allowed
    ungated = oo.Group(layers=("m", "c2"), strips=4)
    assert oo.evaluate(inst, sched(["c1", "gp", "f1", "f2"], ungated)).schedule.groups[1].strips == 4


def test_not_convex(example):
    # c1 -> c2 -> c3 -> a1 and c1 -> a1: {c1, a1} without c2, c3 is left and re-entered
    reject(example, sched(["c1", "a1"], ["c2", "c3"], OPTIMUM[1]), "not-convex",
           "group 0: not convex: the path c1 -> c2 -> c3 -> a1 leaves the group and comes back")


def test_not_connected():
    inst = make_instance([
        {"name": "x", "op": "input", "shape": [4, 8, 8]},
        {"name": "y", "op": "input", "shape": [4, 8, 8]},
        {"name": "a", "op": "conv", "inputs": ["x"], "channels": 4, "kernel": 1},
        {"name": "b", "op": "conv", "inputs": ["y"], "channels": 4, "kernel": 1},
    ], buffer=1 << 20)
    reject(inst, sched(["a", "b"]), "not-connected", "group 0: not connected: its layers fall apart into 2 parts")
    # siblings that read the same outside tensor are connected
    inst2 = make_instance([
        {"name": "x", "op": "input", "shape": [4, 8, 8]},
        {"name": "a", "op": "conv", "inputs": ["x"], "channels": 4, "kernel": 1},
        {"name": "b", "op": "conv", "inputs": ["x"], "channels": 4, "kernel": 1},
    ], buffer=1 << 20)
    assert oo.evaluate(inst2, sched(["a", "b"])).dram_bytes == 512 + 64 + 512 * 2


def test_out_of_order(example):
    reject(example, sched(OPTIMUM[1], OPTIMUM[0]), "order",
           "group 0: reads 'a1', which group 1 produces later (groups out of topological order)")


def ladder():
    # a1 -> a2, b1 -> b2, a1 -> b2, b1 -> a2: the groups {a1, b2} and {b1, a2} are each convex and connected,
    # yet each needs the other first.
    return make_instance([
        {"name": "i", "op": "input", "shape": [4, 4, 4]},
        {"name": "a1", "op": "conv", "inputs": ["i"], "channels": 4, "kernel": 1},
        {"name": "b1", "op": "conv", "inputs": ["i"], "channels": 4, "kernel": 1},
        {"name": "a2", "op": "add", "inputs": ["a1", "b1"]},
        {"name": "b2", "op": "add", "inputs": ["b1", "a1"]},
    ], buffer=1 << 20)


def test_cycle_between_convex_groups():
    inst = ladder()
    reject(inst, sched(["a1", "b2"], ["b1", "a2"]), "order", "groups 0 -> 1 -> 0 depend on each other in a cycle")
    # the same layers in an acyclic partition are fine
    assert oo.evaluate(inst, sched(["a1", "b1"], ["a2"], ["b2"])).dram_bytes > 0


def test_infeasible_tiling(example):
    tiny = example.with_overrides(buffer_bytes=4096)
    reject(tiny, sched(*OPTIMUM), "infeasible-tiling", "group 0: no tiling of the group fits the buffer: it needs "
           "at least")
    given = oo.Group(layers=tuple(OPTIMUM[0]), strips=1, batch_block=1, reduced_channels=("c1", "c3"))
    reject(example, sched(given, OPTIMUM[1]), "infeasible-tiling", "group 0: tiling does not fit: footprint")


def test_bad_tilings(example):
    adjacent = oo.Group(layers=tuple(OPTIMUM[0]), strips=32, reduced_channels=("c1", "c2"))
    reject(example, sched(adjacent, OPTIMUM[1]), "bad-tiling",
           "reduced-channel layers 'c1' and 'c2' are joined by an edge inside the group")
    not_conv = oo.Group(layers=tuple(OPTIMUM[0]), strips=32, reduced_channels=("a1",))
    reject(example, sched(not_conv, OPTIMUM[1]), "bad-tiling", "reduced-channel layer 'a1' is an add, not a conv")
    outside = oo.Group(layers=tuple(OPTIMUM[0]), strips=32, reduced_channels=("c4",))
    reject(example, sched(outside, OPTIMUM[1]), "bad-tiling", "reduced-channel layer 'c4' is not in the group")
    too_many = oo.Group(layers=tuple(OPTIMUM[0]), strips=33)
    reject(example, sched(too_many, OPTIMUM[1]), "bad-tiling", "strips 33 out of range 1..32")


def test_stated_numbers_must_agree(example):
    good = oo.evaluate(example, sched(*OPTIMUM)).schedule
    wrong_group = oo.Group(**{**good.groups[0].__dict__, "read_bytes": good.groups[0].read_bytes + 1})
    reject(example, sched(wrong_group, good.groups[1]), "mismatch", "group 0: read_bytes says 78849 but the cost "
           "model gives 78848")
    reject(example, sched(*good.groups, dram_bytes=1), "mismatch", "dram_bytes says 1 but the groups cost 253460")
    assert oo.evaluate(example, sched(*good.groups, dram_bytes=253460, compulsory_bytes=122388)).dram_bytes == 253460


def test_given_tiling_is_used_and_flagged_when_not_best(example):
    # {c1,c2,c3,a1} at Q = 32 keeps weights resident; nothing smaller than Q = 32 fits with resident weights, so a
    # given Q = 8 (streamed: weights read 8 times) is valid but costs 7 · 46,080 bytes more.
    slow = oo.Group(layers=tuple(OPTIMUM[0]), strips=8, reduced_channels=("c1", "c3"))
    ev = oo.evaluate(example, sched(slow, OPTIMUM[1]))
    assert ev.suboptimal_groups == (0,)
    assert ev.schedule.groups[0].resident_weights is False
    assert ev.dram_bytes == 253460 + 7 * 46080


def test_schedule_json_round_trip(example, tmp_path):
    s = oo.solve(example, "layerwise")
    path = tmp_path / "s.json"
    s.save(path)
    again = oo.load_schedule(path)
    assert again.to_dict() == s.to_dict()
    # every layer alone; the concat is a view and costs nothing (version 1 charged its copy: 1,024,020 bytes)
    assert oo.evaluate(example, again).dram_bytes == s.dram_bytes == 1024020 - 2 * 65536 == 892948


def test_malformed_schedule_file(tmp_path):
    path = tmp_path / "s.json"
    path.write_text('{"format": "optimus-opt/schedule@2", "groups": [{"layers": "c1"}]}')
    with pytest.raises(oo.ScheduleError, match="group 0: field 'layers': expected a list of layer names"):
        oo.load_schedule(path)
    path.write_text('{"format": "optimus-opt/schedule@2", "groups": [{"layers": ["c1"], "strip": 2}]}')
    with pytest.raises(oo.ScheduleError, match="group 0: unknown field 'strip'"):
        oo.load_schedule(path)
