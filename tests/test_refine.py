"""The window refinement (optimus_opt/solvers/windows.py, the ``refine`` solver) and the pieces it stands on: the
candidate space of a convex window and the down-set DP started at a down-set (formulations/refine.md)."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import pytest
from bruteforce import brute_force_optimum
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from strategies import instances

import optimus_opt as oo
from optimus_opt import zoo
from optimus_opt.cost.candidates import CandidateSpace, bits
from optimus_opt.cost.schedule import Group, Schedule
from optimus_opt.io.resolve import resolve_instance
from optimus_opt.model.errors import SolverError
from optimus_opt.model.network import Layer, Network
from optimus_opt.solvers import windows
from optimus_opt.solvers.downsets import downset_dp
from optimus_opt.solvers.windows import Refinement, branches, merge_groups, move_layers, refine, swap_branches, widths
from optimus_opt.utils.deadline import Deadline

EXAMPLE_32K = ROOT / "instances" / "example-32k.json"
SQUEEZENET = ROOT / "instances" / "paper" / "squeezenet1_0-optimus-npu-b4.json"


def _mask(inst: oo.Instance, names) -> int:
    return sum(1 << inst.network.index[n] for n in names)


def test_a_window_is_solved_after_its_start_down_set():
    """The worked example at 32 KiB (formulations/cost-model.md §6): its optimum is {c1}, {c2}, {c3}, {a1, p1},
    {c4, c5, g, fc} = 613,908 B. With {c1, c2, c3} run, the window of the other layers costs the optimum less the
    three single layers, and its best schedule is the optimum's last two groups."""
    inst = oo.load_instance(EXAMPLE_32K)
    cm = oo.CostModel(inst)
    start = _mask(inst, ["c1", "c2", "c3"])
    window = _mask(inst, ["a1", "p1", "c4", "c5", "g", "fc"])
    space = CandidateSpace(cm, within=window)
    assert all(c.mask & ~window == 0 for c in space) and {c.first for c in space} <= set(bits(window))
    cost, groups, _, finished = downset_dp(cm, space, start=start)
    singles = sum(cm.best_tiling([u]).cost for u in bits(start))
    assert finished and cost == 613_908 - singles
    assert [sorted(inst.network.layers[u].name for u in bits(c.mask)) for c in groups] == [
        ["a1", "p1"], ["c4", "c5", "fc", "g"]]
    # the layers before the window are not scheduled again: without the start down-set nothing is ready
    assert downset_dp(cm, space)[0] is None


def test_widths_grow_by_half_up_to_the_widest():
    # by half up to the DP's widest (24), then from the first width by columns (56) on
    assert widths(24) == [8, 12, 18, 24] and widths(40) == [8, 12, 18, 24, 40] and widths(3) == [3]
    assert widths(200) == [8, 12, 18, 24, 56, 84, 126, 189, 200] and widths(20) == [8, 12, 18, 20]


def test_one_window_over_the_whole_network_proves_the_optimum(example):
    """The example has 9 layers: the 12-layer window holds the whole schedule, so refine is the exact DP."""
    sched = oo.solve(example, "refine")
    assert (sched.status, sched.dram_bytes, sched.bound_bytes) == ("optimal", 253_460, 253_460)
    assert sched.solver_info["widest_window"] == 9
    # with windows of 2 layers it proves nothing, and still never does worse than where it started
    narrow = oo.solve(example, "refine", window=2)
    assert narrow.status == "feasible" and narrow.bound_bytes is None
    assert 253_460 <= narrow.dram_bytes <= narrow.solver_info["start_bytes"]


def test_widths_up_to_above_are_skipped(example):
    """The example has 9 layers: from every layer alone, with the widths up to 8 skipped, the one width left holds
    the whole schedule in one window, which proves the optimum, 253,460 B; with none left nothing is solved."""
    cm = oo.CostModel(example)
    alone = [((u,), cm.best_tiling((u,))) for u in cm.network.layer_ids]
    out = refine(cm, alone, window=None, above=8)
    assert (out.windows, out.widest, out.proven, out.cost) == (1, 9, True, 253_460)
    out = refine(cm, alone, window=8, above=8)
    assert (out.windows, out.cost) == (0, sum(tiling.cost for _, tiling in alone))


def test_the_widening_of_refine_starts_has_a_share_and_skips_the_widths_the_starts_had(monkeypatch):
    """With ``widen`` and ``reserve``, each of n starts has 1/(n + 1) of what is left when it begins, and the
    widening the rest, from the widths beyond the starts' own: on a clock each refinement spends all of, 90 s for
    two starts are 30, 30 and 30 s. Without ``reserve`` the starts have it all, and the widening none."""
    now = [0.0]
    calls = []

    def spends_its_time(cm, groups, deadline, *, window, max_group, improved_to, above=0):
        calls.append((round(deadline.left(), 6), window, above))
        now[0] = deadline.end
        return Refinement(groups=tuple(groups), proven=False, stopped=True, windows=0, improved=0, widest=0,
                          seconds=0.0)

    monkeypatch.setattr(windows, "refine", spends_its_time)
    starts = [("a", (((0,), SimpleNamespace(cost=2)),)), ("b", (((0,), SimpleNamespace(cost=1)),))]
    for reserve, spent in ((True, [(30.0, 24, 0), (30.0, 24, 0), (30.0, None, 24)]),
                           (False, [(45.0, 24, 0), (45.0, 24, 0)])):
        calls.clear()
        now[0] = 0.0
        windows.refine_starts(None, starts, Deadline.after(90, clock=lambda: now[0]), widen=True, reserve=reserve)
        assert calls == spent


def test_refine_improves_squeezenet_to_its_optimum():
    """SqueezeNet 1.0 at 512 KiB, batch 4: greedy-merge moves 7,662,944 B (efficient-s 11,422,688 B), the proven
    optimum is 7,289,696 B (tests/test_newcomer.py); windows of 8 to 24 layers reach it."""
    inst = oo.Instance(zoo.build("squeezenet1_0"), oo.Accelerator(512 * 1024, 2, 32, name="optimus-npu"), batch=4)
    sched = oo.solve(inst, "refine")
    assert sched.solver_info["start"] == "greedy-merge" and sched.solver_info["start_bytes"] == 7_662_944
    assert sched.dram_bytes == 7_289_696 == oo.solve(inst, "exact-dp").dram_bytes
    assert oo.evaluate(inst, sched).dram_bytes == sched.dram_bytes  # recomputable from the groups alone
    assert oo.solve(inst, "refine").groups == sched.groups  # deterministic


def test_refine_tries_each_heuristic_start_while_time_is_left():
    """SqueezeNet 1.0 at 1 MiB, batch 4: greedy-merge's 4,815,248 B is the cheapest start but a local optimum of the
    refinement; optimus's 7,460,240 B, refined next, reaches the proven optimum, 4,442,000 B."""
    inst = oo.Instance(zoo.build("squeezenet1_0"), oo.Accelerator(1024 * 1024, 2, 32, name="optimus-npu"), batch=4)
    sched = oo.solve(inst, "refine")
    info = sched.solver_info
    assert info["starts"] == ["greedy-merge", "optimus", "efficient-s"]
    assert (info["start"], info["start_bytes"], sched.dram_bytes) == ("optimus", 7_460_240, 4_442_000)
    assert oo.solve(inst, "exact-dp").dram_bytes == 4_442_000 == oo.evaluate(inst, sched).dram_bytes
    assert oo.solve(inst, "greedy-merge").dram_bytes == 4_815_248


def test_layer_moves_reach_the_optimum_of_the_example_at_32k():
    """From layer-by-layer (892,948 B, formulations/cost-model.md §6) single-layer moves alone reach the proven
    optimum at 32 KiB, 613,908 B; windows of one group add nothing, so refine with window=1 is the moves."""
    inst = oo.load_instance(EXAMPLE_32K)
    cm = oo.CostModel(inst)
    current = [(1 << u, cm.best_tiling([u])) for u in inst.network.layer_ids]
    assert sum(t.cost for _, t in current) == 892_948
    moved, stopped = move_layers(cm, current)
    assert (moved, stopped, sum(t.cost for _, t in current)) == (5, False, 613_908)
    names = [sorted(inst.network.layers[u].name for u in bits(m)) for m, _ in current]
    assert names == [["c1"], ["c2"], ["a1", "c3"], ["p1"], ["c4", "c5", "fc", "g"]]  # in a valid order
    sched = Schedule(instance=inst.name, solver="refine", status="feasible",
                     groups=tuple(Group.from_tiling(inst, bits(m), t) for m, t in current))
    assert oo.evaluate(inst, sched).dram_bytes == 613_908
    out = refine(cm, [((u,), cm.best_tiling([u])) for u in inst.network.layer_ids], window=1)
    assert (out.cost, out.moves) == (613_908, 5)


def test_a_layer_move_that_would_leave_no_order_is_not_made():
    """Two convex groups may still need each other: v's best moves, into {h, h2} or into {x1, x2}, save the same
    load of v (4,096 B of 8 × 16 × 16 two-byte words), but with v in {h, h2} that group feeds x1 and {x1, x2}
    feeds h2, so the two could run in no order. The move into {x1, x2} is made instead, then x2 joins {h, h2}:
    {v, x1} loads x and y and stores v and x1 (16,384 B) with v's 128 weight bytes, {h, x2, h2} loads v and y and
    stores h2 (12,288 B) with 256 weight bytes, 29,056 B in all from 37,248 B."""
    layers = (Layer(name="x", op="input", shape=(8, 16, 16)), Layer(name="y", op="input", shape=(8, 16, 16)),
              Layer(name="v", op="conv", inputs=("x",), channels=8, kernel=(1, 1)),
              Layer(name="h", op="conv", inputs=("v",), channels=8, kernel=(1, 1)),
              Layer(name="x1", op="add", inputs=("v", "y")),
              Layer(name="x2", op="conv", inputs=("y",), channels=8, kernel=(1, 1)),
              Layer(name="h2", op="add", inputs=("h", "x2")))
    inst = oo.Instance(Network("no-order", layers, outputs=("x1", "h2")), oo.Accelerator(64 * 1024, 2, 8), batch=1)
    cm = oo.CostModel(inst)
    current = [(m, cm.best_tiling_of_mask(m)) for m in (_mask(inst, g) for g in (["v"], ["x1", "x2"], ["h", "h2"]))]
    assert sum(t.cost for _, t in current) == 37_248
    assert move_layers(cm, current) == (2, False)
    assert [sorted(inst.network.layers[u].name for u in bits(m)) for m, _ in current] == [
        ["v", "x1"], ["h", "h2", "x2"]]
    assert [t.cost for _, t in current] == [16_512, 12_544]


def test_two_groups_no_layer_move_improves_are_merged():
    """A = {p0, p} and B = {r1, r2}, where r2 adds p and r1 = conv(p): every tensor is 8 × 16 × 16 two-byte words
    (4,096 B) and every 1 × 1 conv has 128 weight bytes. A loads x and stores p (8,448 B), B loads p and stores r2
    (8,320 B): 16,768 B. Moving p into B only trades p's store and load for p0's (gain 0); moving r1 into A makes
    r1 a stored tensor too (24,960 B); r2 cannot join A without r1. Merging A and B keeps p on chip: 4,096 + 384 +
    4,096 = 8,576 B. greedy-merge from layer-by-layer (3 × 8,320 + 12,288 = 37,248 B) ends there in two merges:
    first p with its reader r2, whose hull {p, r1, r2} (8,448 B) saves 20,480 B of the three layers' 28,928 B, the
    largest share of any pair; then p0."""
    layers = (Layer(name="x", op="input", shape=(8, 16, 16)),
              Layer(name="p0", op="conv", inputs=("x",), channels=8, kernel=(1, 1)),
              Layer(name="p", op="conv", inputs=("p0",), channels=8, kernel=(1, 1)),
              Layer(name="r1", op="conv", inputs=("p",), channels=8, kernel=(1, 1)),
              Layer(name="r2", op="add", inputs=("p", "r1")))
    inst = oo.Instance(Network("halves", layers, outputs=("r2",)), oo.Accelerator(64 * 1024, 2, 8), batch=1)
    cm = oo.CostModel(inst)
    current = [(m, cm.best_tiling_of_mask(m)) for m in (_mask(inst, g) for g in (["p0", "p"], ["r1", "r2"]))]
    assert [t.cost for _, t in current] == [8_448, 8_320]
    assert move_layers(cm, current) == (0, False)
    assert merge_groups(cm, current) == (1, False)
    assert [(m, t.cost) for m, t in current] == [(_mask(inst, ["p0", "p", "r1", "r2"]), 8_576)]
    greedy = oo.solve(inst, "greedy-merge")
    assert (greedy.dram_bytes, len(greedy.groups), greedy.solver_info["merges"]) == (8_576, 1, 2)


def test_a_merge_that_cuts_a_group_pays_for_what_is_left_of_it():
    """a = conv(x), c1 = conv(a), c2 = conv(c1), b = a + c1, with c2 and b outputs; every tensor 4,096 B, every conv
    128 weight bytes. From A = {a} (8,320 B), C = {c1, c2} (loads a, stores c1 and c2: 12,544 B) and B = {b}
    (loads a and c1, stores b: 12,288 B): merging A and B takes their hull {a, c1, b} (12,544 B) and leaves {c2}
    (8,320 B), saving 12,288 B of 33,152 (37 %); merging C and B gives {c1, c2, b} (12,544 B), saving 12,288 B of
    24,832 (49 %), so it comes first; then A joins: x loaded, c2 and b stored, 4,096 + 384 + 8,192 = 12,672 B.
    With groups of at most 3 layers A cannot join, and the first merge is what is left."""
    layers = (Layer(name="x", op="input", shape=(8, 16, 16)),
              Layer(name="a", op="conv", inputs=("x",), channels=8, kernel=(1, 1)),
              Layer(name="c1", op="conv", inputs=("a",), channels=8, kernel=(1, 1)),
              Layer(name="c2", op="conv", inputs=("c1",), channels=8, kernel=(1, 1)),
              Layer(name="b", op="add", inputs=("a", "c1")))
    inst = oo.Instance(Network("cut", layers, outputs=("c2", "b")), oo.Accelerator(64 * 1024, 2, 8), batch=1)
    cm = oo.CostModel(inst)
    current = [(m, cm.best_tiling_of_mask(m)) for m in (_mask(inst, g) for g in (["a"], ["c1", "c2"], ["b"]))]
    assert [t.cost for _, t in current] == [8_320, 12_544, 12_288]
    assert cm.best_tiling_of_mask(_mask(inst, ["a", "c1", "b"])).cost == 12_544
    capped = list(current)
    assert merge_groups(cm, current) == (2, False)
    assert [(m, t.cost) for m, t in current] == [(_mask(inst, ["a", "c1", "c2", "b"]), 12_672)]
    assert merge_groups(cm, capped, max_group=3) == (1, False)
    assert [(m, t.cost) for m, t in capped] == [(_mask(inst, ["a"]), 8_320), (_mask(inst, ["c1", "c2", "b"]), 12_544)]


def test_a_branch_is_its_layer_and_what_reaches_the_rest_only_through_it():
    """a = conv(x), b = conv(a), c = conv(x), d = b + c, e = conv(d), in the group {a, b, c, d}: the branch at a is
    {a}, at b {a, b} (a is read by b alone), at c {c}, at d the whole group. With b a network output too, b's store
    leaves the group outside d: the branch at d is {c, d}."""
    def group_branches(outputs):
        layers = (Layer(name="x", op="input", shape=(8, 16, 16)),
                  Layer(name="a", op="conv", inputs=("x",), channels=8, kernel=(1, 1)),
                  Layer(name="b", op="conv", inputs=("a",), channels=8, kernel=(1, 1)),
                  Layer(name="c", op="conv", inputs=("x",), channels=8, kernel=(1, 1)),
                  Layer(name="d", op="add", inputs=("b", "c")),
                  Layer(name="e", op="conv", inputs=("d",), channels=8, kernel=(1, 1)))
        inst = oo.Instance(Network("branches", layers, outputs=outputs), oo.Accelerator(64 * 1024, 2, 8), batch=1)
        cm = oo.CostModel(inst)
        found = branches(cm, _mask(inst, ["a", "b", "c", "d"]))
        return [sorted(inst.network.layers[u].name for u in bits(m)) for m in found]

    assert group_branches(("e",)) == [["a"], ["a", "b"], ["c"], ["a", "b", "c", "d"]]
    assert group_branches(("b", "e")) == [["a"], ["a", "b"], ["c"], ["c", "d"]]


def test_branch_swaps_improve_nasnet_at_512k_where_no_move_nor_merge_does():
    """The best NASNet-A Mobile schedule at 512 KiB known before branch swaps (tests/data/, 32,086,692 B)
    is a local optimum of layer moves and group merges. Two swaps of branches improve it (found by a separate
    script that tried every branch pair of every two linked groups): the stem's first group gives cell_stem_0's
    comb3 (its avgpool and add) to the second and takes the second's first pointwise conv of cell_stem_1's comb0
    (−551,936 B); in cell 6, the group holding comb0 alone holds comb1 instead, and comb0 joins the group of the
    cell's other combs (−137,984 B): 31,396,772 B, which evaluate confirms."""
    inst = resolve_instance("nasnet_a_mobile", buffer=512 * 1024)
    cm = oo.CostModel(inst)
    best = oo.load_schedule(ROOT / "tests" / "data" / "nasnet_a_mobile-512KiB-before-swaps.json")
    current = [(_mask(inst, g.layers), cm.best_tiling_of_mask(_mask(inst, g.layers))) for g in best.groups]
    assert sum(t.cost for _, t in current) == 32_086_692
    assert move_layers(cm, list(current)) == (0, False) and merge_groups(cm, list(current)) == (0, False)
    before = dict(current)
    assert swap_branches(cm, current) == (2, False)
    comb3 = _mask(inst, ["cell_stem_0.comb3.right.avgpool", "cell_stem_0.comb3.add"])
    pointwise = _mask(inst, ["cell_stem_1.comb0.right.separable_1.pointwise"])
    comb0, comb1 = ([f"cell_6.comb{k}.{layer}" for layer in (
        "left.separable_1.depthwise", "left.separable_1.pointwise", "left.separable_2.depthwise",
        "left.separable_2.pointwise", "right.separable_1.depthwise", "right.separable_1.pointwise",
        "right.separable_2.depthwise", "right.separable_2.pointwise", "add")] for k in (0, 1))
    comb0, comb1 = _mask(inst, comb0), _mask(inst, comb1)
    first, second = (m for m in before if m & (comb3 | pointwise))
    alone, rest = (m for m in before if m & (comb0 | comb1))
    assert first & comb3 == comb3 and second & pointwise == pointwise and alone == comb0 and rest & comb1 == comb1
    now = dict(current)
    stem = [first & ~comb3 | pointwise, second & ~pointwise | comb3]
    assert set(now) - set(before) == {*stem, comb1, rest & ~comb1 | comb0}
    assert set(before) - set(now) == {first, second, alone, rest}
    assert before[first].cost + before[second].cost - sum(now[m].cost for m in stem) == 551_936
    assert before[comb0].cost - now[comb1].cost == 137_984
    sched = Schedule(instance=inst.name, solver="refine", status="feasible",
                     groups=tuple(Group.from_tiling(inst, bits(m), t) for m, t in current))
    assert oo.evaluate(inst, sched).dram_bytes == 31_396_772


@given(instances(max_layers=8))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_after_branch_swaps_no_exchange_nor_move_of_branches_lowers_the_cost(inst):
    # from dnnvm's schedule (of the heuristics', the one swaps improve most often): once swap_branches stops, no
    # branch X of a group A (or none) given for a branch Y of another group B (or none) gives a cheaper valid
    # schedule, judged by evaluate in an order networkx finds
    import networkx as nx

    cm = oo.CostModel(inst)
    start = oo.solve(inst, "dnnvm")
    if not start.groups:
        return
    current = [(m, cm.best_tiling_of_mask(m)) for m in (_mask(inst, g.layers) for g in start.groups)]
    swap_branches(cm, current)
    groups = [m for m, _ in current]
    cost = sum(t.cost for _, t in current)
    linked = nx.Graph()  # layers joined by a tensor, one producing and one reading it or both reading it
    linked.add_nodes_from(inst.network.layer_ids)
    for x in range(cm.n):  # cm.consumers sees through concats
        linked.add_edges_from((x, u) for u in cm.consumers[x] if x in linked)
        linked.add_edges_from(itertools.combinations(cm.consumers[x], 2))

    def evaluated(trial):
        parts = nx.DiGraph()
        parts.add_nodes_from(range(len(trial)))
        home = {u: k for k, m in enumerate(trial) for u in bits(m)}
        for u in home:
            parts.add_edges_from((home[p], home[u]) for p in cm.producers[u] if p in home and home[p] != home[u])
        tilings = [cm.best_tiling_of_mask(m) for m in trial]
        if None in tilings or not nx.is_directed_acyclic_graph(parts) or not all(
                nx.is_connected(linked.subgraph(bits(m))) for m in trial):
            return None
        order = list(nx.lexicographical_topological_sort(parts))
        sched = Schedule(instance=inst.name, solver="refine", status="feasible",
                         groups=tuple(Group.from_tiling(inst, bits(trial[k]), tilings[k]) for k in order))
        try:
            return oo.evaluate(inst, sched).dram_bytes
        except oo.ScheduleError:  # a group that is not convex
            return None

    assert evaluated(groups) == cost
    for a in range(len(groups)):
        for b in range(len(groups)):
            if a == b:
                continue
            for x in (0, *branches(cm, groups[a])):
                for y in (0, *branches(cm, groups[b])):
                    new_a, new_b = groups[a] & ~x | y, groups[b] & ~y | x
                    if (x or y) and new_a and new_b:
                        trial = [new_a if k == a else new_b if k == b else m for k, m in enumerate(groups)]
                        after = evaluated(trial)
                        assert after is None or after >= cost


def test_greedy_merge_reaches_the_optimum_of_the_example_at_32k():
    """From layer-by-layer (892,948 B) four merges reach the proven optimum at 32 KiB, 613,908 B, with exact-dp's
    groups."""
    inst = oo.load_instance(EXAMPLE_32K)
    sched = oo.solve(inst, "greedy-merge")
    assert (sched.status, sched.dram_bytes, sched.solver_info["merges"]) == ("feasible", 613_908, 4)
    assert [sorted(g.layers) for g in sched.groups] == [["c1"], ["c2"], ["c3"], ["a1", "p1"], ["c4", "c5", "fc", "g"]]
    assert oo.evaluate(inst, sched).dram_bytes == 613_908 == oo.solve(inst, "exact-dp").dram_bytes


def test_a_passed_deadline_changes_nothing():
    inst = oo.load_instance(SQUEEZENET)
    cm = oo.CostModel(inst)
    start = [(m, t) for m, t in ((tuple(g), cm.best_tiling(g)) for g in ([u] for u in inst.network.layer_ids))]
    out = refine(cm, start, Deadline(end=0.0, clock=lambda: 1.0))
    assert out.stopped and out.windows == 0 and out.moves == 0 and not out.proven
    assert [m for m, _ in out.groups] == [m for m, _ in start]


def test_the_window_option_is_checked(example):
    with pytest.raises(SolverError, match="option window: expected a positive number of layers, got 0"):
        oo.solve(example, "refine", window=0)


@given(instances(max_layers=8))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_refine_never_worsens_and_stays_above_the_optimum(inst):
    """From the no-fusion schedule with windows of at most 3 layers: the result is a valid schedule that
    evaluate() prices the same, no dearer than the start and no cheaper than exact-dp's optimum."""
    cm = oo.CostModel(inst)
    start = [((u,), cm.best_tiling([u])) for u in inst.network.layer_ids]
    if any(t is None for _, t in start):
        return  # a layer that fits no tiling alone: no no-fusion schedule to start from
    out = refine(cm, start, window=3)
    optimum = oo.solve(inst, "exact-dp")
    assert optimum.dram_bytes <= out.cost <= sum(t.cost for _, t in start)
    sched = Schedule(instance=inst.name, solver="refine", status="feasible",
                     groups=tuple(Group.from_tiling(inst, members, tiling) for members, tiling in out.groups))
    assert oo.evaluate(inst, sched).dram_bytes == out.cost


@given(instances(max_layers=8))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_greedy_merge_is_valid_and_between_the_brute_force_optimum_and_no_fusion(inst):
    """greedy-merge on random networks: a schedule evaluate() prices the same (every group convex, connected and
    tiled, the groups in a valid order), no dearer than layer-by-layer, from which it starts, and no cheaper than the
    brute-force optimum over every partition; infeasible exactly when layer-by-layer is."""
    layerwise = oo.solve(inst, "layerwise")
    greedy = oo.solve(inst, "greedy-merge")
    assert greedy.status == ("infeasible" if layerwise.status == "infeasible" else "feasible")
    if greedy.status == "feasible":
        assert brute_force_optimum(inst)[0] <= greedy.dram_bytes <= layerwise.dram_bytes
        assert oo.evaluate(inst, greedy).dram_bytes == greedy.dram_bytes
