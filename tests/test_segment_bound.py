"""The segment bound (optimus_opt/solvers/segment_bound.py, formulations/segment-bound.md) never exceeds the
optimum: per group (what the windows charge a group is at most its cost) and per schedule (the bound is at most the
proven optimum), on random DAGs and on the zoo, and it is at least the compulsory traffic."""

from __future__ import annotations

import json
import multiprocessing
from dataclasses import dataclass

import numpy as np
import pytest
from helpers import local_costs, make_instance
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import instances

import optimus_opt as oo
from optimus_opt import zoo
from optimus_opt.cost.candidates import CandidateSpace
from optimus_opt.solvers import segment_bound as segment_bound_module
from optimus_opt.solvers.segment_bound import (
    MERGED_SEGMENT,
    NESTED_SECONDS,
    ORDERS,
    PIECE_BYTES,
    _smaller_first,
    assemble,
    couple_windows,
    merge_windows,
    nested_within,
    segment_bound,
    segments,
    solve_windows,
    widen_windows,
    window_order,
)
from optimus_opt.utils.deadline import Deadline
from optimus_opt.utils.memory import Memory

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(instances(min_layers=2, max_layers=9), st.integers(1, 4), st.integers(0, 3))
def test_windows_charge_a_group_at_most_its_cost(inst, size, overlap):
    assert_windows_charge_at_most_the_cost(inst, size, overlap)


def test_windows_charge_at_most_the_cost_when_the_order_is_not_the_ids():
    # in0 is read by l1gp (a global pool feeding the gate l1e of l1) and by l4, an output: the live order places l4
    # first (it adds no bytes awaiting a reader, l1gp adds 3), then l1gp, l1e, l1. A window must take a group's
    # first reader of in0 in that order, not by id, or two windows charge one load (found by Hypothesis)
    inst = make_instance([{"name": "in0", "op": "input", "shape": [3, 4, 2]},
                          {"name": "l1gp", "op": "pool", "inputs": ["in0"], "global": True, "mode": "avg"},
                          {"name": "l1e", "op": "fc", "inputs": ["l1gp"], "channels": 3},
                          {"name": "l1", "op": "mul", "inputs": ["in0", "l1e"]},
                          {"name": "l4", "op": "conv", "inputs": ["in0"], "channels": 3, "kernel": 1, "groups": 3}],
                         63, tc=4, word=1, outputs=["l1", "l4"])
    assert [inst.network.layers[u].name for u in window_order(oo.CostModel(inst))] == ["l4", "l1gp", "l1e", "l1"]
    assert_windows_charge_at_most_the_cost(inst, 3, 1)


@SETTINGS
@given(instances(min_layers=2, max_layers=9), st.integers(1, 4), st.integers(0, 3))
def test_what_a_window_keeps_of_its_members_is_the_same_for_every_piece(inst, size, overlap):
    # _LocalCost caches what it keeps of a member or an input by the readers the set and the surely-outside layers
    # hold; a piece costed after others (sharing the caches) costs what it costs alone
    cm = oo.CostModel(inst)
    shared = local_costs(cm, size, overlap)
    for cand in CandidateSpace(cm):
        for i, c in enumerate(shared):
            if cand.mask & c.window:
                assert c(cand.mask & c.window) == local_costs(cm, size, overlap)[i](cand.mask & c.window)


def assert_windows_charge_at_most_the_cost(inst, size, overlap):
    cm = oo.CostModel(inst)
    local = local_costs(cm, size, overlap)
    for cand in CandidateSpace(cm):
        tiling = cand.tiling(cm)
        if tiling is None:
            continue
        charged = [c(cand.mask & c.window) for c in local if cand.mask & c.window]
        assert None not in charged, "a window calls a feasible group infeasible"
        assert sum(charged) <= tiling.cost


@SETTINGS
@given(instances(min_layers=2, max_layers=10), st.integers(1, 5), st.integers(0, 3), st.sampled_from(ORDERS))
def test_bound_is_at_most_the_optimum(inst, size, overlap, order):
    best = oo.solve(inst, "exact-dp")
    bound = segment_bound(oo.CostModel(inst), size, overlap, order=order)
    assert bound.complete
    if not bound.feasible:  # a window without a schedule proves that the network has none (and the bytes of
        assert best.status == "infeasible"  # a proof of infeasibility bound nothing: no schedule exists)
        return
    assert bound.bytes >= oo.CostModel(inst).compulsory_bytes()
    if best.status == "optimal":
        assert bound.bytes <= best.dram_bytes


def test_one_window_over_the_worked_example_is_its_optimum():
    # one window holding all layers charges every load, store and weight exactly; only the reload factor comes
    # from a lower bound of the footprint, and at 64 KiB it is exact for the optimal groups
    inst = oo.load_instance("instances/example-64k.json")
    bound = segment_bound(oo.CostModel(inst), segment_layers=100)
    assert (bound.bytes, len(bound.segments), bound.crossing_bytes) == (253_460, 1, 0)


def test_worked_example_in_segments_of_three():
    # Bytes crossing a cut just after each layer (x 32,768; c1, c2, c3, a1 65,536; p1 16,384; c4, c5 32,768;
    # g 256): c1 65,536 · c2 131,072 · c3 131,072 · a1 65,536 · p1 16,384 · c4 49,152 · c5 65,536 · g 256. With
    # at most three layers per segment the least total is 147,712, reached first by cutting after c2, p1 and g.
    inst = oo.load_instance("instances/example-64k.json")
    cm = oo.CostModel(inst)
    bound = segment_bound(cm, segment_layers=3, overlap=0)
    names = [(inst.network.layers[a].name, inst.network.layers[b].name) for a, b in bound.segments]
    assert names == [("c1", "c2"), ("c3", "p1"), ("c4", "g"), ("fc", "fc")]
    assert bound.crossing_bytes == 147_712
    # {c1, c2} as one piece: x loaded (32,768), nothing stored that the window sees read (a1 and c3 lie beyond
    # it), weights 27,648 resident: at many strips x keeps 3 rows of 16 channels, c1 3 rows and c2 1 row of 32,
    # Φ = {c1} saves 24 channels of c1's rows: 6,656 B + 27,648 B fit 64 KiB. Apart it would be 191,488.
    assert bound.per_segment[0] == 60_416
    # {c3, a1, p1}: c3's weights 18,432 once, and p1's store (16,384), read only beyond the window by c4 and c5: a
    # group that kept p1 would hold c3 … c5 with 59,392 B of weights beside at least 38,912 B of rows, so it
    # would stream c3's weights at least 4 times (Φ lets 4 strips fit beside a 1,152 B block), which costs more
    # than the store. c2's load is not charged: a group holding c2 too keeps its weights resident.
    assert bound.per_segment[1] == 18_432 + 16_384
    assert bound.per_segment == (60_416, 34_816, 40_960, 2_580)
    assert cm.compulsory_bytes() <= bound.bytes <= 253_460
    # the crossing tensors' charge sees what two layers of overlap showed the windows of the bound without it
    # (the windows' plain sum; their coupling raises it, tests/test_coupling.py)
    assert segment_bound(cm, segment_layers=3, overlap=2, coupling_rounds=0).bytes == sum(bound.per_segment) \
        == 138_772


@SETTINGS
@given(instances(min_layers=2, max_layers=12))
def test_live_order_is_a_topological_order_of_the_layers(inst):
    cm = oo.CostModel(inst)
    order = window_order(cm, "live")
    assert sorted(order) == sorted(inst.network.layer_ids)
    at = {u: k for k, u in enumerate(order)}
    assert all(at[p] < at[u] for u in order for p in cm.producers[u] if p in at)


def _sibling_far_apart(buffer: int):
    """x (16 × 16 × 16) read by a, the head of a chain a → b → c → d, and by e, written after the chain; s adds d
    and e. Every conv is 3 × 3 to 8 channels: |x| = 8,192 B, every other tensor 4,096 B."""
    def conv(name, source):
        return {"name": name, "op": "conv", "inputs": [source], "channels": 8, "kernel": 3, "padding": 1}

    return make_instance([{"name": "x", "op": "input", "shape": [16, 16, 16]}, conv("a", "x"), conv("b", "a"),
                          conv("c", "b"), conv("d", "c"), conv("e", "x"),
                          {"name": "s", "op": "add", "inputs": ["d", "e"]}], buffer)


def test_live_order_puts_the_readers_of_a_tensor_in_one_window():
    # Placing e after a adds its 4,096 B and frees x's 8,192 B, less than b's 4,096 - 4,096 = 0: the live order is
    # a, e, b, c, d, s. At 4 KiB a group of a and e streams its 4,608 B of weights 16 times (3 rows of x and a row
    # each of a and e, 2,048 B, leave no room for them), so x is loaded twice. The optimum, a | b | c | e | d+s, is
    # 14,592 + 9,344 + 9,344 + 14,592 + 13,440 = 61,312 B (a: x 8,192 + a 4,096 + weights 2,304, resident at 16
    # strips beside 3 rows of x and one of a, 1,792 B; b, c: 4,096 + 4,096 + 1,152; e like a; d+s: c and e 8,192,
    # s 4,096 and d's 1,152). In cores of two layers the id order puts a with b and e with s: e's window cannot
    # tell whether a, x's earlier reader, shares e's group, and leaves the second load of x out.
    inst = _sibling_far_apart(4096)
    cm = oo.CostModel(inst)
    assert [inst.network.layers[u].name for u in window_order(cm, "live")] == ["a", "e", "b", "c", "d", "s"]
    best = oo.solve(inst, "exact-dp")
    assert (best.status, best.dram_bytes) == ("optimal", 61_312)
    assert segment_bound(cm, 2, 0, order="ids").bytes == 61_312 - 8_192
    live = segment_bound(cm, 2, 0, order="live")
    assert live.bytes == 61_312
    assert [tuple(inst.network.layers[u].name for u in pair) for pair in live.segments] == \
        [("a", "e"), ("b", "c"), ("d", "s")]


def _one_producer_two_readers():
    """x (8 × 8 × 8) read by p and a, 1 × 1 convs to 8 channels; r1 and r2, 1 × 1 convs of p; s adds r1 and r2, t
    adds s and a. Every tensor is 1,024 B and every conv's weights 128 B."""
    def conv(name, source):
        return {"name": name, "op": "conv", "inputs": [source], "channels": 8, "kernel": 1}

    return make_instance([{"name": "x", "op": "input", "shape": [8, 8, 8]}, conv("p", "x"), conv("a", "x"),
                          conv("r1", "p"), conv("r2", "p"), {"name": "s", "op": "add", "inputs": ["r1", "r2"]},
                          {"name": "t", "op": "add", "inputs": ["s", "a"]}], 64 * 1024)


def test_a_window_takes_in_its_cores_feeders():
    # Groups of at most two layers, cores of two without overlap: {p, a}, {r1, r2}, {s, t}; everything fits 64 KiB
    # with weights resident. Without feeders the windows prove only the compulsory traffic, 2,560 B (x, t and the
    # weights): the core {r1, r2} prices p's load as a crossing tensor that a group holding p and both readers
    # would keep (formulations/segment-bound.md, item 4), and {s, t} so each of r1, r2 and a. With feeders the
    # second window is {p, r1, r2}: a piece holds p with one reader at most, so the other reader's piece has p
    # beside it outside its group and is charged p's load (1,024 B) besides r1's and r2's weights, 1,280 B. The
    # third is {a, r1, r2, s, t}: pieces of two keep at most two of the edges r1→s, r2→s, a→t and s→t (one per
    # piece holding s or t), and each other edge costs the core 1,024 B (a load by s or t) or 2,048 B (s stored
    # and loaded): 3,072 B, and t's store, 4,096 B. The first is unchanged: x's load, p's and a's weights, 1,280 B.
    # The optimum, p+r1 | r2+s | a+t, moves 9,728 B (x twice, p, r1 and s stored and loaded once each, t). Coupled,
    # the windows see more: the first two keep the stores of p, a, r1 and r2 only while their groups hold their
    # readers, which the windows after them see ("Kept stores"); the rounds end at 9,726 B, and the cutting planes
    # after them (``planes``) reach the optimum.
    inst = _one_producer_two_readers()
    cm = oo.CostModel(inst)

    def names(mask):
        return [inst.network.layers[u].name for u in inst.network.layer_ids if mask >> u & 1]

    plain, fed = segments(cm, 2, feeders=False), segments(cm, 2)
    assert [names(plain.window(i, 0)) for i in range(3)] == [["p", "a"], ["r1", "r2"], ["s", "t"]]
    assert [names(fed.window(i, 0)) for i in range(3)] == [["p", "a"], ["p", "r1", "r2"], ["a", "r1", "r2", "s", "t"]]
    assert [fed.feeders_in(i, 0) for i in range(3)] == [0, 1, 3]
    without = segment_bound(cm, 2, 0, max_group=2, feeders=False)
    assert (without.per_segment, without.bytes) == ((1_280, 256, 1_024), 2_560) and cm.compulsory_bytes() == 2_560
    bound = segment_bound(cm, 2, 0, max_group=2, coupling_rounds=0)
    assert (bound.per_segment, bound.bytes, bound.feeders) == ((1_280, 1_280, 4_096), 6_656, 4)
    coupled = segment_bound(cm, 2, 0, max_group=2)
    assert (coupled.bytes, coupled.coupling.kept) == (9_726, 4)
    assert oo.solve(inst, "exact-dp", max_group=2).dram_bytes == 9_728
    assert oo.lower_bound(inst, segment_layers=2, overlap=0, max_group=2, planes=True).bytes == 9_728


def test_widening_first_takes_in_the_feeders():
    # windows solved as runs of the order (as the process beside a search first solves them) are widened first by
    # their feeders at the same overlap: the second and third windows of test_a_window_takes_in_its_cores_feeders
    # prove more (1,280 and 4,096 B), the first has none and is not solved again
    cm = oo.CostModel(_one_producer_two_readers())
    cores = segments(cm, 2)
    runs = list(solve_windows(cm, cores, 0, max_group=2, fed=False))
    assert [r.value for r, _ in runs] == [1_280, 256, 1_024]
    wider = list(widen_windows(cm, cores, runs, Deadline.after(60), 2, overlaps=()))
    assert [(r.index, r.value, r.overlap, r.fed) for r, _ in wider] == [(1, 1_280, 0, True), (2, 4_096, 0, True)]
    solved = [runs[0], *wider]
    coupled = couple_windows(cm, cores, solved)
    assert assemble(cm, cores, [r for r, _ in solved], 0.0, coupled).bytes == 9_726


def test_widening_joins_the_cores_whose_window_proves_as_much():
    # the worked example in cores of two layers at overlap 4: joined into cores of at most four layers, the first
    # two cores' window at overlap 0 proves 144,384 B, more than their 78,848 B, and replaces them; the next two's
    # proves 41,216 B, less than their 69,632 B, and they keep their windows; the last core joins none
    cm = oo.CostModel(oo.load_instance("instances/example-64k.json"))
    cores = segments(cm, 2)
    solved = list(solve_windows(cm, cores, 4))
    assert [r.value for r, _ in solved] == [60_416, 18_432, 32_768, 36_864, 2_580]
    joined, runs = cores.merged(cm, 4)
    assert runs == ((0, 1), (2, 3), (4, 4)) and joined.spans == ((0, 3), (4, 7), (8, 8)) == \
        ((cores.spans[0][0], cores.spans[1][1]), (cores.spans[2][0], cores.spans[3][1]), cores.spans[4])
    assert cores.merged(cm, 1) == (cores, ((0, 0), (1, 1), (2, 2), (3, 3), (4, 4)))  # no core is cut, none joined
    steps = list(merge_windows(cm, cores, solved, Deadline.after(60), size=4))
    assert len(steps) == 1
    mixed, now = steps[0]
    assert mixed.spans == (joined.spans[0], *cores.spans[2:]) and mixed.joins == (2, 1, 1, 1)
    assert [(r.index, r.value, r.overlap) for r, _ in now] == [(0, 144_384, 0), (1, 32_768, 4), (2, 36_864, 4),
                                                               (3, 2_580, 4)]
    bound = assemble(cm, mixed, [r for r, _ in now], 0.0, couple_windows(cm, mixed, now))
    assert sum(bound.per_segment) == 216_596 <= bound.bytes <= 253_460 and bound.merged == 1  # 253,460 B: the optimum


def test_a_cut_nested_in_the_cut_into_merged_cores():
    # the worked example in cores of two layers: the free cut leaves 246,016 B crossing its cuts, and its cores
    # joined into cores of at most five layers leave 65,536 B (cut after layer 4); nested in the least cut into
    # cores of five (cut after layer 5, 16,384 B), the cores of two leave 262,400 B, and joined find it again
    cm = oo.CostModel(oo.load_instance("instances/example-64k.json"))
    free, nested = segments(cm, 2), segments(cm, 2, within=5)
    crossing = free.crossing(cm)

    def crossed(cores) -> int:
        return sum(crossing[last] for _, last in cores.spans[:-1])

    assert free.ends() == ((1, 2), (3, 4), (5, 6), (7, 9), (10, 10)) and crossed(free) == 246_016
    assert nested.ends() == ((1, 1), (2, 3), (4, 5), (6, 6), (7, 9), (10, 10)) and crossed(nested) == 262_400
    assert crossed(free.merged(cm, 5)[0]) == 65_536
    assert nested.merged(cm, 5)[0].spans == segments(cm, 5).spans and crossed(segments(cm, 5)) == 16_384
    # a bound nests its cut when it has NESTED_SECONDS or more to widen in
    assert nested_within(NESTED_SECONDS - 1, True) == 0 and nested_within(NESTED_SECONDS, True) == MERGED_SEGMENT
    assert nested_within(None, True) == nested_within(600.0, False) == nested_within(600.0, True, merge=0) == 0
    inst = oo.load_instance("instances/example-64k.json")
    short, long = (oo.lower_bound(inst, segment_layers=2, overlap=0, time_limit=t, merge=5, relax=0)
                   for t in (NESTED_SECONDS - 1, NESTED_SECONDS + 1))
    assert (short.segments, short.per_segment, short.merged) == (((1, 4), (5, 10)), (144_384, 76_308), 2)
    assert (long.segments, long.per_segment, long.merged) == (((1, 5), (6, 10)), (209_920, 43_540), 2)
    assert short.bytes == long.bytes == 253_460  # the optimum
    # joined again into one core of at most 10 layers, the whole network, whose LP is the optimum
    lp = oo.lower_bound(inst, segment_layers=2, overlap=0, time_limit=NESTED_SECONDS - 1, merge=5, relax=10)
    assert (lp.segments, lp.per_segment, lp.merged, lp.relaxed, lp.bytes) == (((1, 10),), (253_460,), 0, 1, 253_460)


@pytest.mark.parametrize("jobs", [1, 2])
def test_windows_with_many_pieces_are_put_off(monkeypatch, jobs):
    # the worked example's cores of two layers joined into cores of at most four: the two joined windows at overlap
    # 0 have 10 and 18 pieces. Allowed fewer than 15 in a first pass, the second is enumerated to its 15th piece,
    # put off and solved after the first, even when asked for first; each proves what it proves alone
    monkeypatch.setattr(segment_bound_module, "FIRST_PASS_PIECES", 15)
    cm = oo.CostModel(oo.load_instance("instances/example-64k.json"))
    joined, _ = segments(cm, 2).merged(cm, 4)
    alone = [(r.index, r.value, r.pieces, r.capped) for r, _ in solve_windows(cm, joined, 0, indices=[1, 0])]
    assert alone == [(1, 41_216, 18, False), (0, 144_384, 10, False)]
    capped = list(solve_windows(cm, joined, 0, Deadline.after(600), indices=[1, 0], jobs=jobs, limit=15))
    assert [(r.index, r.value, r.pieces, r.capped, w is None) for r, w in capped] == \
        [(1, None, 15, True, True), (0, 144_384, 10, False, False)]
    passes = _smaller_first(cm, joined, 0, Deadline.after(600), None, [1, 0], jobs)
    assert [(r.index, r.value, r.pieces, r.capped) for r, _ in passes] == alone[::-1]


@SETTINGS
@given(instances(min_layers=2, max_layers=10), st.integers(1, 4), st.integers(0, 2), st.integers(0, 8), st.data())
def test_windows_of_mixed_overlaps_bound_the_optimum(inst, size, overlap, merge, data):
    # any window that holds its core gives a bound, whatever windows the other cores have, summed or coupled
    # (formulations/segment-bound.md, "Wider windows", "Merged cores"); widening keeps each core's window only when
    # it proves as much, and joins cores only when their joined window proves as much as theirs
    cm = oo.CostModel(inst)
    cores = segments(cm, size)
    narrow, wide = (list(solve_windows(cm, cores, o)) for o in (overlap, overlap + 2))
    pick = data.draw(st.lists(st.booleans(), min_size=len(cores), max_size=len(cores)))
    mixed = [w if p else n for n, w, p in zip(narrow, wide, pick)]
    best = oo.solve(inst, "exact-dp")
    if best.status != "optimal" or any(r.value < 0 for r, _ in narrow + wide):
        return
    coupled = couple_windows(cm, cores, mixed)
    assert sum(r.value for r, _ in mixed) <= coupled.bytes <= best.dram_bytes
    plain = segment_bound(cm, size, overlap)
    widened = segment_bound(cm, size, overlap, Deadline.after(60), widen=True, merge=merge)
    assert plain.bytes <= widened.bytes <= best.dram_bytes
    assert sum(plain.per_segment) <= sum(widened.per_segment)


@pytest.mark.parametrize("name,buffer,overlap", [("resnet18", "128KiB", 4), ("squeezenet1_0", "128KiB", 4),
                                                 ("googlenet", "512KiB", 4)])
def test_zoo_bound_below_the_proven_optimum(name, buffer, overlap):
    acc = oo.Accelerator(oo.parse_size(buffer), 2, 32)
    inst = oo.Instance(zoo.build(name), acc, batch=4)
    best = oo.solve(inst, "exact-dp")
    assert best.status == "optimal"
    bound = segment_bound(oo.CostModel(inst), 24, overlap)
    assert bound.complete and bound.bytes <= best.dram_bytes
    assert bound.bytes >= 0.95 * best.dram_bytes  # chains and Inception modules: within a few per cent


def test_deadline_leaves_a_valid_bound():
    acc = oo.Accelerator(oo.parse_size("128KiB"), 2, 32)
    inst = oo.Instance(zoo.build("googlenet"), acc, batch=4)
    cm = oo.CostModel(inst)
    from optimus_opt.utils.deadline import Deadline
    bound = segment_bound(cm, 24, 0, deadline=Deadline.after(0.0))
    assert not bound.complete and bound.bytes == cm.compulsory_bytes() - sum(
        cm.tensor_bytes[x] for x in inst.network.input_ids)


def test_windows_past_the_deadline_start_no_processes(monkeypatch):
    # a widening past its deadline asks for the windows of its later stages: none is solved, and no pool of
    # processes is started for them (forking a process that holds gigabytes of graphs took seconds a stage)
    cm = oo.CostModel(oo.load_instance("instances/example-64k.json"))
    cores = segments(cm, 3)

    def no_pool(*args):
        raise AssertionError("a pool was started past the deadline")

    monkeypatch.setattr(segment_bound_module, "_pooled", no_pool)
    stopped = list(solve_windows(cm, cores, 2, Deadline.after(0.0), jobs=2))
    assert [(result.index, result.value, result.pieces, window) for result, window in stopped] == \
        [(i, None, 0, None) for i in range(len(cores))]


def test_library_and_cli(capsys, tmp_path):
    from helpers import run_cli

    inst = oo.load_instance("instances/example-64k.json")
    # one window holds the example's 9 layers: the bound is the optimum, 253,460 B (tests/test_cost_example.py)
    assert oo.lower_bound(inst).bytes == 253_460
    thirds = oo.lower_bound(inst, segment_layers=3, overlap=0)
    # the windows share their feeders, and coupled they agree on them; their reload cuts then reach the optimum
    # (test_coupling.py)
    assert thirds.per_segment[0] == 60_416 and (sum(thirds.per_segment), thirds.bytes) == (138_772, 253_460)
    # capped at one layer per group the bound is layer-by-layer's traffic, which is then optimal
    assert oo.lower_bound(inst, max_group=1).bytes == oo.solve(inst, "layerwise").dram_bytes == 892_948
    with pytest.raises(oo.SolverError, match="overlap must be at least 0"):
        oo.lower_bound(inst, overlap=-1)
    with pytest.raises(oo.SolverError, match=r"unknown window order 'random' \(known: live, ids\)"):
        oo.lower_bound(inst, order="random")
    code, out, _ = run_cli(["bound", "instances/example-64k.json", "--segment", "3", "--overlap", "0"], capsys)
    assert code == 0 and f"lower bound  {thirds.bytes:,} B: every schedule moves at least this much" in out
    assert "unseen       147,712 B" in out and "windows      4 of 4 solved exactly" in out
    # with a time limit the windows widen once solved: the four cores join into one of the 9 layers, whose window
    # proves the optimum (test_cost_example.py); without joining, at overlap 8 each of the four windows holds all 9
    # layers, and coupled they agree on it
    merged = oo.lower_bound(inst, segment_layers=3, overlap=0, time_limit=60)
    assert (merged.bytes, merged.segments, merged.overlaps, merged.merged) == (253_460, ((1, 10),), (0,), 1)
    widened = oo.lower_bound(inst, segment_layers=3, overlap=0, time_limit=60, merge=0, relax=0)
    assert (widened.bytes, widened.overlaps, widened.merged) == (253_460, (8, 8, 8, 8), 0)
    # not merged, the four cores join again into one bounded by its LP, which is the optimum too
    lp = oo.lower_bound(inst, segment_layers=3, overlap=0, time_limit=60, merge=0)
    assert (lp.bytes, lp.segments, lp.merged, lp.relaxed) == (253_460, ((1, 10),), 0, 1)
    with pytest.raises(oo.SolverError, match="merge must be at least 0"):
        oo.lower_bound(inst, merge=-1)
    with pytest.raises(oo.SolverError, match="relax must be at least 0"):
        oo.lower_bound(inst, relax=-1)
    assert oo.lower_bound(inst, segment_layers=3, overlap=0, time_limit=60, widen=False).bytes == thirds.bytes
    args = ["bound", "instances/example-64k.json", "--segment", "3", "--overlap", "0", "--time-limit", "60"]
    code, out, _ = run_cli(args, capsys)
    assert code == 0 and "lower bound  253,460 B" in out
    assert "merged       1 windows of joined cores in the time left (at most 36 layers, overlap 0)" in out
    code, out, _ = run_cli(args + ["--json"], capsys)
    assert code == 0 and '"merged": 1' in out and '"lower_bound_bytes": 253460' in out
    code, out, _ = run_cli(args + ["--merge", "0", "--relax", "0"], capsys)
    assert code == 0 and "lower bound  253,460 B" in out and "merged" not in out and "by LP" not in out
    assert "widened      4 windows in the time left, to overlap 8, each proving at least as much alone" in out
    code, out, _ = run_cli(args + ["--merge", "0", "--json"], capsys)
    assert code == 0 and '"relaxed": 1' in out and '"merged": 0' in out
    code, out, _ = run_cli(args + ["--merge", "0"], capsys)
    assert "by LP        1 windows of cores joined again (at most 72 layers), each bounded by its LP" in out
    code, out, _ = run_cli(args + ["--no-widen"], capsys)
    assert code == 0 and f"lower bound  {thirds.bytes:,} B" in out and "widened" not in out
    code, out, _ = run_cli(["bound", "instances/example-64k.json", "--json"], capsys)
    assert code == 0 and '"lower_bound_bytes": 253460' in out and '"order": "live"' in out
    oo.save_instance(_sibling_far_apart(4096), tmp_path / "siblings.json")
    for order, bound in (("ids", 53_120), ("live", 61_312)):  # test_live_order_puts_the_readers_of_a_tensor_...
        code, out, _ = run_cli(["bound", str(tmp_path / "siblings.json"), "--segment", "2", "--overlap", "0",
                                "--order", order], capsys)
        assert code == 0 and f"lower bound  {bound:,} B" in out and f"of at most 2 layers of the {order} order" in out
    oo.save_instance(_one_producer_two_readers(), tmp_path / "feeders.json")
    args = ["bound", str(tmp_path / "feeders.json"), "--segment", "2", "--overlap", "0", "--max-group", "2"]
    code, out, _ = run_cli(args, capsys)  # test_a_window_takes_in_its_cores_feeders
    assert code == 0 and "lower bound  9,726 B" in out and "overlap 0, 4 feeders taken in)" in out
    code, out, _ = run_cli(args + ["--no-feeders"], capsys)
    assert code == 0 and "lower bound  2,560 B" in out and "overlap 0, 0 feeders taken in)" in out
    code, out, _ = run_cli(args + ["--planes", "--reload-cuts", "all"], capsys)
    assert code == 0 and "lower bound  9,728 B" in out and "by cutting planes" in out
    code, _, err = run_cli(args + ["--reload-cuts", "some"], capsys)
    assert code == 2 and "argument --reload-cuts: not an integer: 'some' (a count, or 'all')" in err
    # fixing by an upper bound (coupling.py "Fixing"): the optimum's bytes, given or as exact-dp's schedule, prove
    # it optimal; 1 B more proves 9,727 B, 1 B above the rounds alone
    code, out, _ = run_cli(["solve", str(tmp_path / "feeders.json"), "--solver", "exact-dp", "--max-group", "2", "-o",
                            str(tmp_path / "best.json")], capsys)
    assert code == 0
    for upper in ("9,728", str(tmp_path / "best.json")):
        code, out, _ = run_cli(args + ["--upper", upper], capsys)
        assert code == 0 and "lower bound  9,728 B" in out
        assert ("fixing       by the upper bound 9,728 B (the bound reaches it: no schedule moves fewer bytes): "
                "28 transitions") in out
    code, out, _ = run_cli(args + ["--upper", "9729", "--json"], capsys)
    figures = json.loads(out)
    assert (figures["lower_bound_bytes"], figures["upper_bytes"], figures["coupling"]["fixed"]) == (9_727, 9_729, 24)
    code, out, _ = run_cli(args + ["--json"], capsys)
    assert code == 0 and '"lower_bound_bytes": 9726' in out and '"feeders": 4' in out
    code, _, err = run_cli(["bound", "instances/example-64k.json", "--overlap", "-1"], capsys)
    assert code == 2 and "argument --overlap: must be at least 0, got -1" in err


@dataclass(frozen=True)
class _Bytes:
    """A fixed reading of the memory left (picklable, for the processes that solve windows at once)."""

    count: int

    def __call__(self) -> int:
        return self.count


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_widening_stops_where_the_memory_left_would_not_hold_a_window(jobs, capsys, monkeypatch):
    """The worked example in cores of three, overlap 0, widened to overlap 8 only (merge 0, relax 0): each wider
    window has 52 pieces (208 in all, above). Memory for 60 pieces of PIECE_BYTES takes them in, and the bound is
    the optimum; two processes solving them at once have 30 each, so the widening stops at the first, with the
    four first windows kept and coupled: 253,460 B, the bound they prove (test_library_and_cli)."""
    from helpers import run_cli

    inst = oo.load_instance("instances/example-64k.json")

    def bound(pieces: int) -> oo.SegmentBound:
        memory = Memory(available=_Bytes(pieces * PIECE_BYTES), total=_Bytes(0))
        return oo.lower_bound(inst, segment_layers=3, overlap=0, time_limit=60, merge=0, relax=0, jobs=jobs,
                              memory=memory)

    ample = bound(60 * jobs)
    assert (ample.bytes, ample.overlaps, ample.pieces, ample.memory_short) == (253_460, (8, 8, 8, 8), 208, False)
    short = bound(60)
    assert short.memory_short == (jobs == 2)
    if jobs == 2:
        assert (short.bytes, short.overlaps, short.pieces) == (253_460, (0, 0, 0, 0), 33)
    # the CLI says so, and so does its JSON (the machine's memory read as none left)
    monkeypatch.setattr("optimus_opt.utils.memory.available_bytes", lambda root="/": 0)
    args = ["bound", "instances/example-64k.json", "--segment", "3", "--overlap", "0", "--time-limit", "60",
            "--merge", "0", "--relax", "0", "--jobs", str(jobs)]
    code, out, _ = run_cli(args, capsys)
    assert code == 0 and "lower bound  253,460 B" in out and "widened" not in out
    assert "memory       the widening stopped where the memory left would not hold the next window's pieces" in out
    code, out, _ = run_cli(args + ["--json"], capsys)
    assert code == 0 and json.loads(out)["memory_short"] is True


def test_windows_solved_in_processes_of_their_own_give_the_same_bound(capsys):
    # two processes solve the four windows of the worked example (cores of three layers, overlap 2): the same
    # optima in the same order, the same pieces, the same coupling, and the CLI prints the same figures
    from helpers import run_cli

    inst = oo.load_instance("instances/example-64k.json")
    alone = oo.lower_bound(inst, segment_layers=3, overlap=2)
    shared = oo.lower_bound(inst, segment_layers=3, overlap=2, jobs=2)
    assert shared.per_segment == alone.per_segment == (60_416, 34_816, 40_960, 2_580)
    assert (shared.bytes, shared.pieces, shared.downsets) == (alone.bytes, alone.pieces, alone.downsets)
    assert (shared.bytes, shared.coupling.rounds) == (253_460, 30)
    with pytest.raises(oo.SolverError, match="jobs must be at least 1, got 0"):
        oo.lower_bound(inst, jobs=0)
    args = ["bound", "instances/example-64k.json", "--segment", "3", "--overlap", "2", "--json"]
    outs = []
    for extra in ([], ["--jobs", "2"]):
        code, out, _ = run_cli(args + extra, capsys)
        assert code == 0
        figures = json.loads(out)
        del figures["seconds"], figures["coupling"]["seconds"]
        outs.append(figures)
    assert outs[0] == outs[1] and outs[1]["lower_bound_bytes"] == 253_460
    code, _, err = run_cli(["bound", "instances/example-64k.json", "--jobs", "0"], capsys)
    assert code == 2 and "argument --jobs: must be at least 1, got 0" in err
    # a daemon process (a study's worker) may not start processes: it solves the
    # windows itself
    context = multiprocessing.get_context("fork")
    answers = context.Queue()
    child = context.Process(target=_bound_into, args=(inst, answers), daemon=True)
    child.start()
    child.join(60)
    assert answers.get(timeout=1) == 253_460


def test_how_many_windows_are_solved_at_once_may_change_while_they_are():
    """The process beside a search solves its windows one at a time until the search leaves its core, then two
    at a time (``jobs`` a function, looked at while they are solved): the same outcomes in the same order as one
    process gives, and the same coupling; and the widening's stages, feeders and merged cores, the same too."""
    inst = oo.load_instance("instances/example-64k.json")
    cm = oo.CostModel(inst)
    cores = segments(cm, 3)
    alone = list(solve_windows(cm, cores, 2))
    asked = []

    def jobs() -> int:
        asked.append(len(asked))
        return 1 if len(asked) < 3 else 2

    shared = list(solve_windows(cm, cores, 2, Deadline.after(600), jobs=jobs))
    assert [result for result, _ in shared] == [result for result, _ in alone]
    assert [result.value for result, _ in shared] == [60_416, 34_816, 40_960, 2_580]
    assert len(asked) >= len(cores)  # asked before each window started
    assert couple_windows(cm, cores, shared).bytes == couple_windows(cm, cores, alone).bytes == 253_460
    # cores of two layers, merged into cores of at most four: the same cores and optima with two processes
    merged = [oo.lower_bound(inst, segment_layers=2, overlap=0, time_limit=600, merge=4, relax=0, jobs=n)
              for n in (1, 2)]
    assert merged[0].segments == merged[1].segments == ((1, 4), (5, 9), (10, 10))
    assert merged[0].per_segment == merged[1].per_segment == (144_384, 73_728, 2_580)
    assert merged[0].bytes == merged[1].bytes == 253_460
    # and joined again into cores of at most eight, the first two bounded by their LP: the same with two processes
    relaxed = [oo.lower_bound(inst, segment_layers=2, overlap=0, time_limit=600, merge=4, relax=8, jobs=n)
               for n in (1, 2)]
    assert relaxed[0].segments == relaxed[1].segments == ((1, 9), (10, 10))
    assert relaxed[0].per_segment == relaxed[1].per_segment == (250_880, 2_580)
    assert relaxed[0].relaxed == relaxed[1].relaxed == 1


def _bound_into(inst, answers) -> None:
    answers.put(oo.lower_bound(inst, segment_layers=3, overlap=2, jobs=2).bytes)


def test_under_tiles_a_member_read_beyond_the_window_is_not_cut():
    """The worked example at 32 KiB under tiles, segments of 4 layers, no overlap: the first core {c1, c2, c3, a1}
    loads x (32,768 B) and keeps the weights of c1, c2 and c3 (9,216 + 18,432 + 18,432 B) resident: a1's reader
    p1 lies beyond the window and may be in the group, so a1 keeps only what its readers in the piece need (none)
    and the first tile fits beside all 46,080 weight bytes. Taking every member as cut by the partition would
    charge those weights 6 times (309,248 B). The bound stays below the tiles optimum, 425,492 B (exact-dp)."""
    inst = oo.load_instance("instances/example-32k.json").with_overrides(tiling="tiles")
    bound = segment_bound(oo.CostModel(inst), 4, 0)
    assert bound.per_segment[0] == 32_768 + 9_216 + 18_432 + 18_432 == 78_848
    assert bound.bytes <= oo.solve(inst, "exact-dp").dram_bytes == 425_492


@SETTINGS
@given(instances(min_layers=2, max_layers=10), st.integers(1, 5), st.integers(0, 3), st.integers(-2, 2))
def test_fixing_by_an_upper_bound_keeps_the_bound_below_the_optimum(inst, size, overlap, off):
    # the coupling's fixing with an upper bound near the optimum (off bytes from it, either side: any number keeps
    # the bound a bound, coupling.py "Fixing") proves at most the optimum, and at most the upper bound
    best = oo.solve(inst, "exact-dp")
    if best.status != "optimal":
        return
    upper = best.dram_bytes + off
    bound = segment_bound(oo.CostModel(inst), size, overlap, upper=upper)
    assert bound.bytes <= best.dram_bytes and bound.bytes <= max(upper, sum(bound.per_segment))


def test_a_graph_within_an_allowance_keeps_the_transitions_of_the_chains_within_it():
    # the windows of the worked example, random piece costs: a transition stays exactly when some chain of pieces
    # from ∅ to the whole window through it costs at most the least chain plus the allowance (every chain listed)
    from optimus_opt.solvers.segment_bound import segments, solve_windows

    cm = oo.CostModel(oo.load_instance("instances/example-64k.json"))
    rng = np.random.default_rng(3)
    checked = 0
    for _, window in solve_windows(cm, segments(cm, 4), 1):
        graph = window.graph
        src = np.repeat(np.arange(graph.states), np.diff(graph.start))
        for allowance in (0, 5, 40):
            cost = rng.integers(0, 30, len(graph.masks)).astype(np.int64)
            chains = []  # (cost, transitions) of every chain from ∅ to the whole window

            def walk(s, spent, path):
                if s == graph.full:
                    chains.append((spent, path))
                for t in range(graph.start[s], graph.start[s + 1]):
                    walk(int(graph.dst[t]), spent + int(cost[graph.piece[t]]), path + [t])

            walk(0, 0, [])
            least = min(spent for spent, _ in chains)
            near = {t for spent, path in chains if spent <= least + allowance for t in path}
            within = graph.within(cost, allowance)
            kept = {(int(src[t]), int(graph.dst[t]), int(graph.piece[t])) for t in near}
            their_src = np.repeat(np.arange(within.states), np.diff(within.start))
            assert {(int(a), int(b), int(p)) for a, b, p in zip(their_src, within.dst, within.piece)} == kept
            assert within.solve(cost)[0] == graph.solve(cost)[0] == least
            checked += len(chains)
    assert checked > 100
