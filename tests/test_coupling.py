"""The coupling of the segment bound's windows (optimus_opt/solvers/coupling.py, formulations/segment-bound.md,
"Coupling the windows"), against a brute force that shares none of its code: every window's schedules listed as
partitions of its layers into pieces, and the least sum of the windows' local costs over the tuples of window
schedules that agree on every pair of layers: no window holds two layers in one piece while another keeps them out
of one group (its piece holding one of them, or the first, is neither holding the other nor open to it); and that
hold no two pieces in one group that no buffer holds: two windows' pieces holding one layer lie in one group, so
the footprint floor of their convex hull fits the buffer.

Weak duality says the coupled bound never exceeds that least consistent sum (which never exceeds the optimum);
when the last round's windows agree, the multipliers are optimal and the two are equal. The brute force knows
neither kept stores nor reload cuts, which may take the bound past it (never past the optimum): it is compared with
the coupling without its reload cuts (``reload_cuts=0``), and only where no store is kept."""

from __future__ import annotations

import dataclasses
import itertools
from types import SimpleNamespace

import numpy as np
from helpers import ids, local_costs, make_instance
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import instances

import optimus_opt as oo
from optimus_opt.cost.candidates import CandidateSpace, bits
from optimus_opt.solvers.segment_bound import segment_bound


def closure(cm):
    """Each node with its descendants and with its ancestors, walked from the network's edges."""
    below = {u: {u} for u in range(cm.n)}
    above = {u: {u} for u in range(cm.n)}
    for u in sorted(range(cm.n), reverse=True):
        for c in cm.consumers[u]:
            below[u] |= below[c]
    for u in range(cm.n):
        for p in cm.producers[u]:
            above[u] |= above[p]
    return below, above


def window_schedules(cm, local, pairs, shared):
    """For one window: the least local cost of its schedules for each way they see the given pairs of layers (u <
    v, the window holding one or both) and each set of pieces holding the layers of ``shared`` (those other windows
    hold too), over every partition of the window into pieces of finite local cost whose
    order the pieces' producers allow. A partition sees a pair as 1 when one piece holds both, 0 when no group may
    hold both, and None when one may: the piece holding u (or the one it holds) could lie in a group with v, that
    is, the convex hull of the piece and v takes in no other layer of the window, and v, if the window holds it, is
    not next to the piece."""
    window = local.window
    pieces = {c.mask: local(c.mask) for c in CandidateSpace(cm, within=window)}
    pieces = {m: c for m, c in pieces.items() if c is not None}
    producers = {u: {p for p in cm.producers[u] if window >> p & 1} for u in bits(window)}
    below, above = closure(cm)
    best: dict[tuple, int] = {}

    def ordered(parts):  # the pieces' quotient graph has no cycle: peel pieces whose producers are placed
        left, placed = list(parts), 0
        while left:
            ready = [m for m in left if all(placed >> p & 1 or m >> p & 1 for u in bits(m) for p in producers[u])]
            if not ready:
                return False
            for m in ready:
                placed |= m
                left.remove(m)
        return True

    def next_to(piece, y):
        return any(y in cm.producers[u] or u in cm.producers[y] or set(cm.producers[u]) & set(cm.producers[y])
                   for u in bits(piece))

    def seen(parts, u, v):
        held, other = (u, v) if window >> u & 1 else (v, u)
        piece = next(m for m in parts if m >> held & 1)
        if piece >> other & 1:
            return 1
        members = set(bits(piece)) | {other}
        hull = set.union(*(below[x] for x in members)) & set.union(*(above[x] for x in members))
        joins = all(piece >> x & 1 or x == other for x in hull if window >> x & 1)
        return None if joins and not (window >> other & 1 and next_to(piece, other)) else 0

    def grow(rest, parts, cost):
        if not rest:
            if ordered(parts):
                key = (tuple(seen(parts, u, v) for u, v in pairs), tuple(sorted(m for m in parts if m & shared)))
                best[key] = min(best.get(key, cost), cost)
            return
        low = rest & -rest  # the piece holding the lowest layer left fixes each partition once
        for m, c in pieces.items():
            if m & low and m & rest == m:
                grow(rest & ~m, parts + [m], cost + c)

    grow(window, [], 0)
    return best


def least_consistent_sum(cm, size, overlap):
    """The least Σ of window optima over tuples of window schedules that agree on every pair of layers (no window
    holds them in one piece while another keeps them out of one group, ``window_schedules``) and whose pieces
    joined by the layers they share, two or more windows' pieces, fit one group (the footprint floor of their
    union's convex hull fits the buffer)."""
    sets = local_costs(cm, size, overlap)
    layers = [u for u in range(cm.n) if cm.network.is_layer(u)]
    below, above = closure(cm)

    def fits(mask):
        members = set(bits(mask))
        hull = set.union(*(below[x] for x in members)) & set.union(*(above[x] for x in members))
        return cm.footprint_floor(hull) <= cm.buffer

    def joined_fit(pieces):  # each set of pieces joined by shared layers, one group, fits
        groups = []
        for m in pieces:
            touching = [g for g in groups if g & m]
            groups = [g for g in groups if not g & m] + [m | sum(touching)]
        return all(fits(g) for g in groups)

    per_window = []
    for local in sets:
        pairs = [(u, v) for u, v in itertools.combinations(layers, 2) if local.window >> u & 1 or local.window >> v & 1]
        shared = sum(1 << u for u in layers if local.window >> u & 1
                     and any(other.window >> u & 1 for other in sets if other is not local))
        per_window.append((pairs, window_schedules(cm, local, pairs, shared)))
    best = None

    def search(i, fixed, placed, total):
        nonlocal best
        if best is not None and total >= best:
            return
        if i == len(per_window):
            best = total
            return
        pairs, table = per_window[i]
        for (key, held), cost in table.items():
            if all(y is None or fixed.get(p, y) in (None, y) for p, y in zip(pairs, key)) \
                    and joined_fit(placed + list(held)):
                search(i + 1, fixed | {p: y for p, y in zip(pairs, key) if y is not None}, placed + list(held),
                       total + cost)

    search(0, {}, [], 0)
    return best


def test_worked_example_couples_to_the_least_consistent_sum():
    # segments of three layers with two of overlap: the windows' optima sum to 138,772 B, a long way below the
    # optimum (253,460 B): each window leaves the group edges it shares with a neighbour where the neighbour pays
    # for them. The multipliers make them agree: 247,316 B, the least consistent sum of the brute force. The
    # reload cuts then find what the agreeing windows still undercharge, the weights of a group no tiling keeps
    # resident (test_reload_cuts_charge_the_weights_of_a_group_that_streams_them), and reach the optimum.
    inst = oo.load_instance("instances/example-64k.json")
    cm = oo.CostModel(inst)
    plain = segment_bound(cm, 3, 2, coupling_rounds=0)
    coupled = segment_bound(cm, 3, 2, reload_cuts=0)
    assert plain.bytes == sum(plain.per_segment) == 138_772 and plain.coupling is None
    assert coupled.per_segment == plain.per_segment
    assert coupled.coupling.disagreements == 0 and coupled.coupling.multipliers == 24
    assert coupled.bytes == coupled.coupling.bytes == least_consistent_sum(cm, 3, 2) == 247_316
    reloaded = segment_bound(cm, 3, 2)
    assert reloaded.coupling.reload_cuts > 0 and reloaded.coupling.disagreements == 0
    assert reloaded.bytes == oo.solve(inst, "exact-dp").dram_bytes == 253_460


def test_windows_without_overlap_couple_through_their_feeders():
    # segments of three layers, no overlap: the windows share only the feeders they take in (c1 and c2 in the
    # second, p1 in the third, g in the fourth), and the multipliers make them agree on those pairs, from
    # 138,772 B summed to 230,932 B, the least consistent sum of the brute force; without feeders nothing is
    # shared and the bound stays the sum
    cm = oo.CostModel(oo.load_instance("instances/example-64k.json"))
    coupled = segment_bound(cm, 3, 0, reload_cuts=0)
    assert (sum(coupled.per_segment), coupled.feeders, coupled.coupling.disagreements) == (138_772, 4, 0)
    assert coupled.bytes == least_consistent_sum(cm, 3, 0) == 230_932
    assert segment_bound(cm, 3, 0, feeders=False).bytes == 138_772


def test_the_nearer_step_of_widened_windows_reaches_the_same_multipliers():
    # the widened windows' step rule (a level 5 % above the best L, halved after 6 stalled rounds) is another path
    # up the same concave L: on both cuts of the worked example it ends where the windows agree, at the least
    # consistent sum of the brute force, as the first coupling's rule does, in other rounds
    from optimus_opt.solvers import coupling
    from optimus_opt.solvers.segment_bound import segments, solve_windows

    cm = oo.CostModel(oo.load_instance("instances/example-64k.json"))
    for overlap, least in ((2, 247_316), (0, 230_932)):
        solved = list(solve_windows(cm, segments(cm, 3), overlap))
        windows, plain = [window for _, window in solved], sum(result.value for result, _ in solved)
        near = coupling.couple(cm, windows, plain, steps=coupling.NEAR_STEPS, reload_cuts=0)
        first = coupling.couple(cm, windows, plain, reload_cuts=0)
        assert near.bytes == first.bytes == least_consistent_sum(cm, 3, overlap) == least
        assert near.disagreements == first.disagreements == 0 and near.rounds != first.rounds


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(min_layers=2, max_layers=7), st.integers(1, 3), st.integers(1, 2))
def test_coupling_never_passes_the_least_consistent_sum(inst, size, overlap):
    cm = oo.CostModel(inst)
    bound = segment_bound(cm, size, overlap, reload_cuts=0)
    if not bound.feasible:
        return
    consistent = least_consistent_sum(cm, size, overlap)
    assert sum(bound.per_segment) <= bound.bytes
    if bound.coupling is None or not bound.coupling.kept:  # the brute force knows pairs and cuts, not kept stores
        assert bound.bytes <= consistent
        if bound.coupling is not None and bound.coupling.disagreements == 0:
            assert bound.bytes == consistent
    reloaded = segment_bound(cm, size, overlap)
    best = oo.solve(inst, "exact-dp")
    if best.status == "optimal":
        assert consistent <= best.dram_bytes and bound.bytes <= best.dram_bytes and reloaded.bytes <= best.dram_bytes


def test_a_capacity_cut_keeps_two_windows_from_joining_what_no_buffer_holds():
    # a chain x → a → b → c → d of 1 × 1 convs to 8 channels on one row of 64 pixels: every tensor is 1,024 B,
    # every conv's weights 128 B. At 4,608 B three convs fit as a group (x and three tensors, 4,096 B, and their
    # weights), but no group holds four: the footprint floor of {a, b, c, d} is five tensors and a weight block,
    # 5,248 B. Cores {a, b} and {c, d}, no overlap: the second window takes b in as a feeder. Alone, the first
    # window keeps {a, b} (x's load and two weights: 1,280 B; b's store is free, {a, b, c} fits) and the second
    # {b, c, d} (two weights and d's store: 1,280 B), which agree on every pair and sum to 2,560 B, though together
    # they would be one group of all four. The rounds find the cut: b's pieces, shrunk to {a, b} and {b, d}
    # (taking c out leaves it in their hull), may not both be chosen. Giving up {a, b} costs the first window
    # 2,048 B (a stored and loaded), and the second's cheapest way out is {b}, {c, d}, which loads b: 1,024 B. So
    # the cut alone proves 3,584 B, the brute force's least sum. But {a, b} kept b's store only as long as b's group
    # holds c, and the second window sees whether it does (formulations/segment-bound.md, "Kept stores"): the first
    # keeps b (1,280 B) only beside {b, c}, {d} (3,328 B: c stored and loaded), else pays b's store (2,304 B) beside
    # {b}, {c, d} (2,304 B). The multipliers' best is 4,608 B, every schedule's cost: the subgradient rounds end
    # 1 B short of it (their step spent), and with ``planes`` the cutting planes that follow reach it.
    from optimus_opt.solvers import coupling
    from optimus_opt.solvers.segment_bound import segments, solve_windows

    conv = dict(op="conv", channels=8, kernel=1)
    inst = make_instance([dict(name="x", op="input", shape=[8, 1, 64]), dict(name="a", inputs=["x"], **conv),
                          dict(name="b", inputs=["a"], **conv), dict(name="c", inputs=["b"], **conv),
                          dict(name="d", inputs=["c"], **conv)], 4608)
    cm = oo.CostModel(inst)
    a, b, c, d = ids(inst, ["a", "b", "c", "d"])
    assert cm.footprint_floor([a, b, c]) == 4_224 and cm.best_tiling([a, b, c]) is not None
    assert cm.footprint_floor([a, b, c, d]) == 5_248
    cores = segments(cm, 2)
    assert [bits(cores.window(i, 0)) for i in range(len(cores))] == [[a, b], [b, c, d]]
    solved = list(solve_windows(cm, cores, 0))
    windows, plain = [window for _, window in solved], sum(result.value for result, _ in solved)
    assert [result.value for result, _ in solved] == [1_280, 1_280]
    made = coupling._Terms(cm, windows)
    made.adjacent()
    chosen = [[int(np.flatnonzero(w.graph.masks == (1 << len(w.layers)) - 1)[0])] for w in windows]
    found = made.capacity_cuts(chosen)
    assert found == [coupling.Cut(0, 1, 1 << a | 1 << b, 1 << b | 1 << d)]
    assert made.capacity_cuts(chosen) == found  # not yet given terms: found again
    made.add_cuts(found)
    assert made.capacity_cuts(chosen) == []
    # {b} and {a, b} keep b's store, 1,024 B more when paid (slot 0; the empty slots pay nothing)
    assert windows[0].kept.tensors.tolist() == [[b, -1, -1]] * 2 and windows[1].kept is None
    assert windows[0].kept.rises.tolist() == [[0, 1_024] * 4] * 2
    coupled = coupling.couple(cm, windows, plain)
    assert (coupled.bytes, coupled.cuts, coupled.kept, coupled.planes) == (4_607, 1, 1, 0)
    climbed = coupling.couple(cm, windows, plain, planes=True)
    assert (climbed.bytes, climbed.cuts, climbed.kept) == (4_608, 1, 1) and 0 < climbed.planes < climbed.rounds
    # with a deadline half gone when the rounds start (a clock at 0 as the coupling sets its stages, then at 6 of
    # 10), every round is a plane's, and they reach the best from λ = 0 all the same
    from optimus_opt.utils.deadline import Deadline

    ticks = itertools.chain([0.0], itertools.repeat(6.0))
    early = coupling.couple(cm, windows, plain, Deadline(10.0, lambda: next(ticks)), planes=True)
    assert (early.bytes, early.planes) == (4_608, early.rounds) and early.rounds > 1
    # with the optimum as upper bound, fixing leaves each window the transitions within 4,608 − 1 − L of its least:
    # 7 of the 9 go, and L reaches 4,608 in 8 rounds, so the schedule of 4,608 B is optimal; 1 B more and only one
    # goes, the rounds as without; below the optimum the bound is the number given (no schedule is cheaper than
    # it, or one is and the rounds bound it). The caller's windows keep their graphs
    fixed = coupling.couple(cm, windows, plain, upper=4_608)
    assert (fixed.bytes, fixed.rounds, fixed.fixed) == (4_608, 8, 7)
    assert [(c.bytes, c.rounds, c.fixed) for c in (coupling.couple(cm, windows, plain, upper=u) for u in (4_609, 4_000))
            ] == [(4_607, 137, 1), (4_000, 7, 5)]
    assert [window.graph.transitions for window in windows] == [3, 6]
    assert least_consistent_sum(cm, 2, 0) == 3_584
    bound = segment_bound(cm, 2, 0)
    assert (bound.bytes, bound.info()["coupling_cuts"], bound.info()["coupling_kept"]) == (4_607, 1, 1)
    assert segment_bound(cm, 2, 0, planes=True).info()["coupling_planes"] == climbed.planes
    assert oo.solve(inst, "exact-dp").dram_bytes == 4_608


def test_reload_cuts_charge_the_weights_of_a_group_that_streams_them():
    # the worked example in windows of three layers without overlap: {c1, c2}; {c3, a1, p1} with the feeders c1
    # and c2; {c4, c5, g} with p1; {fc} with g. Alone, the first keeps {c1, c2} (x's load and the weights once:
    # 60,416 B; c1's and c2's stores are item 4's, kept with their readers c3 and a1, a group that keeps its weights
    # resident) and the second {c1}, {c2, c3, a1, p1} (34,816 B). A group holding both pieces holds their hull
    # {c1, c2, c3, a1, p1}, whose best tiling streams its weights through 6 strips, and no group holding it does
    # better: 6 crossings of the weights where the first window charged one, 5 × 27,648 B more on its core, its
    # cut's rise. So does the third window's {p1, c5} beside the second's {c2, p1}.
    from optimus_opt.solvers import coupling
    from optimus_opt.solvers.segment_bound import _Reloads, local_costs, segments, solve_windows

    inst = oo.load_instance("instances/example-64k.json")
    cm = oo.CostModel(inst)
    c1, c2, c3, a1, p1, c4, c5 = ids(inst, ["c1", "c2", "c3", "a1", "p1", "c4", "c5"])
    streamed = cm.best_tiling([c1, c2, c3, a1, p1])
    assert (streamed.strips, streamed.batch_block, streamed.resident, inst.batch) == (6, 1, False, 1)
    assert cm.best_tiling([c1, c2, c3, a1]).resident and cm.weight_bytes[c1] + cm.weight_bytes[c2] == 27_648
    cores = segments(cm, 3)
    solved = list(solve_windows(cm, cores, 0))
    windows = [window for _, window in solved]
    assert [result.value for result, _ in solved] == [60_416, 34_816, 40_960, 2_580]
    local = local_costs(cm, cores.order, cores.reach)
    reloads = _Reloads([local(cores.core(r.index), cores.window(r.index, 0)) for r, _ in solved])
    made = coupling._Terms(cm, windows, reloads)
    made.adjacent()
    chosen = [window.graph.solve(window.costs)[1] for window in windows]
    found = made.capacity_cuts(chosen)
    # the three pieces are joined, {c1, c2} to {c2, p1} to {p1, c5}: their group holds the hull c1 .. c5, whose
    # best tiling streams through 16 strips, and a chain's cut is leveled in the first and in the third
    assert cm.best_tiling([c1, c2, c3, a1, p1, c4, c5]).strips == 16
    first, second, third = 1 << c1 | 1 << c2, 1 << c2 | 1 << p1, 1 << p1 | 1 << c5
    assert found == [coupling.ReloadCut(0, 1, first, second, floor=6), coupling.ReloadCut(2, 1, third, second, floor=6),
                     coupling.ReloadCut(0, 1, first, second, ((2, third),), floor=16),
                     coupling.ReloadCut(2, 0, third, first, ((1, second),), floor=16)]
    assert found[0].rises.tolist() == [5 * 27_648] and found[2].rises.tolist() == [15 * 27_648]
    assert max(found[1].rises) == 5 * (cm.weight_bytes[c4] + cm.weight_bytes[c5])
    assert max(found[3].rises) == 15 * (cm.weight_bytes[c4] + cm.weight_bytes[c5])
    made.add_cuts(found)
    assert made.capacity_cuts(chosen) == []  # each found once
    # a multiplier above a piece's rise moves it by the rise only: the terms give at most what the group spends
    m = next(m for m, cut in made.cuts.items() if cut == found[0])
    lam = np.zeros(made.count, np.int64)
    lam[m] = 200_000
    moved = (windows[0].costs.copy(), np.zeros(made.count, np.int64))
    coupling.solve_moved(windows[0], made.terms[0], lam, moved, made.leveled[0])
    assert (moved[0] - windows[0].costs).tolist() == [138_240 if p in found[0].pieces else 0
                                                     for p in range(len(windows[0].costs))]
    # coupled, they take the bound from the brute force's least consistent sum to the optimum
    bound = segment_bound(cm, 3, 0)
    assert (bound.bytes, bound.coupling.disagreements) == (oo.solve(inst, "exact-dp").dram_bytes, 0) == (253_460, 0)
    assert bound.info()["coupling_reload_cuts"] == bound.coupling.reload_cuts > 0


def test_a_piece_under_several_reload_cuts_pays_the_rise_of_one_level():
    # one piece under two reload cuts, floors 3 (rise 10) and 6 (rise 25), and a piece under the second only
    # (rise 7): the first runs at its own level and pays both multipliers, at 3 and pays the rise there and the
    # higher cut's multiplier, or at 6 and pays that rise alone, whichever is least; the rises are not added (a
    # group's weights cross DRAM some number of times, and each cut it escapes is one whose floor lies above that)
    from optimus_opt.solvers.coupling import LEVELED, _Leveled

    leveled = _Leveled.of([(0, 3, np.array([4]), np.array([10]), LEVELED),
                           (1, 6, np.array([2, 4]), np.array([7, 25]), LEVELED)])
    assert leveled.pieces.tolist() == [2, 4]
    for lam, moves, levels, paying in (([4, 8], [7, 12], [6, 0], {0, 1}), ([4, 30], [7, 25], [6, 6], set()),
                                       ([20, 8], [7, 18], [6, 3], {1}), ([0, 0], [0, 0], [0, 0], {0, 1})):
        lam = np.array(lam)
        assert [v.tolist() for v in leveled.moves(lam)] == [moves, levels]
        assert leveled.paying(lam, [4]) == paying
    assert leveled.paying(np.array([0, 0]), [2, 3]) == {1}


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 3))
def test_the_compiled_moves_and_ys_are_the_terms_by_their_definition(seed, overlap):
    # solve_moved moves the pieces of the terms whose multiplier changed and reads each term's y in compiled loops
    # over the packed terms; here both are worked out term by term from the definitions (an exact term moves its
    # pieces by sign · λ and its y is 1 when a chosen piece holds its whole set; a free term moves its pieces by
    # min(0, sign · λ) and its y is 1 when that is below 0 and the chosen piece meeting its layer is one of its
    # pieces), at random multipliers, moved from one set of them to the next as the rounds do, terms added on the way
    from optimus_opt.solvers import coupling
    from optimus_opt.solvers.segment_bound import segments, solve_windows

    inst = oo.load_instance("instances/example-64k.json")
    cm = oo.CostModel(inst)
    windows = [window for _, window in solve_windows(cm, segments(cm, 2, feeders=False), overlap)]
    made = coupling._Terms(cm, windows)
    made.adjacent()
    rng = np.random.default_rng(seed)
    kept = [(w.costs.copy(), np.zeros(made.count, np.int64)) for w in windows]
    for step in range(3):
        if step == 1:  # pairs that are not adjacent, as the rounds add them
            layers = sorted({u for w in windows for u in w.layers})
            pairs = sorted({(u, v) for u, v in itertools.combinations(layers, 2) if (u, v) not in made.pairs})
            made.add_pairs([pairs[k] for k in rng.choice(len(pairs), size=min(4, len(pairs)), replace=False)])
            coupling._at_zero(kept, made.count - len(kept[0][1]))
        lam = rng.integers(-30_000, 30_000, made.count)
        for i, (w, own) in enumerate(zip(windows, made.terms)):
            value, chosen, ys = coupling.solve_moved(w, own, lam, kept[i], None, made.packed[i])
            moved = w.costs.copy()
            for m, sign, inside, _, kind in own:
                moved[inside] += min(0, sign * lam[m]) if kind == coupling.FREE else sign * lam[m]
            assert kept[i][0].tolist() == moved.tolist()
            assert value == w.graph.solve(moved)[0]
            masks = [int(w.graph.masks[p]) for p in chosen]
            expected = []
            for m, sign, inside, pair, kind in own:
                if kind == coupling.EXACT:
                    expected.append(any(mask & pair == pair for mask in masks))
                else:
                    piece = next(p for p, mask in zip(chosen, masks) if mask & pair)
                    expected.append(bool(sign * lam[m] < 0) and piece in inside.tolist())
            assert list(ys) == expected


def test_a_free_term_lists_the_pieces_open_to_the_layer_outside():
    # x is read by q and p (two 1 × 1 convs, as NASNet-A's `beginning` of one cell and `prev` of the next); q → c → h
    # and p → r; s adds h and r. The window {p, h, r, s} holds p but not q. A group holding q and the piece holds the
    # hull of both: {p} + q and {p, r} + q add nothing of the window; {p, r, s} + q runs q → c → h → s through h,
    # which the window holds outside the piece; {p, r, s, h} + q takes in only c, outside the window. So the free
    # term of the pair (q, p) in this window moves {p}, {p, r} and {p, r, s, h}, and leaves {p, r, s}.
    from optimus_opt.cost.candidates import Reach
    from optimus_opt.solvers.coupling import Window, _WindowReach

    conv = dict(op="conv", channels=8, kernel=1)
    inst = make_instance([dict(name="x", op="input", shape=[8, 8, 8]), dict(name="q", inputs=["x"], **conv),
                          dict(name="p", inputs=["x"], **conv), dict(name="c", inputs=["q"], **conv),
                          dict(name="h", inputs=["c"], **conv), dict(name="r", inputs=["p"], **conv),
                          dict(name="s", op="add", inputs=["h", "r"])], 65536)
    cm = oo.CostModel(inst)
    p, h, r, s, q = ids(inst, ["p", "h", "r", "s", "q"])
    layers = (p, h, r, s)
    pieces = [(p,), (p, r), (p, r, s), (p, r, s, h), (h,), (r, s)]
    masks = np.array([sum(1 << layers.index(u) for u in piece) for piece in pieces], np.int64)
    window = Window(layers, SimpleNamespace(masks=masks), np.zeros(len(pieces), np.int64))
    m, sign, inside, bit, free = _WindowReach.of(window, Reach.of(cm)).free_term(7, -1, p, q)
    assert (m, sign, inside.tolist(), bit, free) == (7, -1, [0, 1, 3], 1, True)


def test_pairs_one_window_holds_in_a_piece_and_another_keeps_apart_get_terms():
    # x is read by q and p; q → c → o (the cell between, o its output), o → h, p → r, s adds h and r. Window A is
    # q, p, c, o, with the pieces {q, p} and {c, o}; window B is o, p, h, r, s (o and p its feeders), all in one
    # piece. B's piece says that o, p, h, r and s share a group, A's that p's group holds q and no more of A: a
    # group holding p and q and any of o, h or s holds c, a reader of q above them, which A keeps in another piece.
    # So the pairs (p, o), (p, h) and (p, s) are found; (o, h), (o, r), (o, s), (p, r) are not: adjacent ones
    # have terms already, and {c, o} is open to r and s (c's only reader in A is o, and o has none).
    from optimus_opt.solvers.coupling import Window, _Terms

    conv = dict(op="conv", channels=8, kernel=1)
    inst = make_instance([dict(name="x", op="input", shape=[8, 8, 8]), dict(name="q", inputs=["x"], **conv),
                          dict(name="p", inputs=["x"], **conv), dict(name="c", inputs=["q"], **conv),
                          dict(name="o", inputs=["c"], **conv), dict(name="h", inputs=["o"], **conv),
                          dict(name="r", inputs=["p"], **conv), dict(name="s", op="add", inputs=["h", "r"])], 65536)
    q, p, c, o, h, r, s = ids(inst, ["q", "p", "c", "o", "h", "r", "s"])

    def window(layers, pieces):
        masks = np.array([sum(1 << layers.index(u) for u in piece) for piece in pieces], np.int64)
        return Window(layers, SimpleNamespace(masks=masks), np.zeros(len(pieces), np.int64))

    a = window((q, p, c, o), [(q, p), (c, o), (q,), (p,)])
    b = window((o, p, h, r, s), [(o, p, h, r, s), (p, r), (o,), (p,), (h,), (r, s)])
    made = _Terms(oo.CostModel(inst), [a, b])
    made.adjacent()
    found = made.disagreements([[0, 1], [0]], 10)
    assert found == [(p, o), (p, h), (p, s)]
    assert made.disagreements([[0, 1], [0]], 2) == [(p, o), (p, h)]
    before = made.count
    assert made.add_pairs(found) == {0, 1} and made.count == before + 3
    # (p, o): both windows hold both. Each moves the pieces holding both (exact: none in A, B's first) and, free,
    # those holding p without o that are open to o: {p} in A ({q, p} reaches c through q), {p, r} and {p} in B
    terms = [[t for t in own if t[0] == before] for own in made.terms]
    assert [(sign, inside.tolist(), free) for _, sign, inside, _, free in terms[0]] == [(1, [], False), (1, [3], True)]
    assert [(sign, inside.tolist(), free) for _, sign, inside, _, free in terms[1]] == \
        [(-1, [0], False), (-1, [1, 3], True)]
    assert made.disagreements([[0, 1], [0]], 10) == []


def test_windows_wider_than_a_machine_word_give_the_same_bound(monkeypatch):
    # a window of more than 62 layers runs the same loops as Python over Python integers; forced here on the
    # worked example's windows (at most 7 layers), both paths give the same optima and the same coupled bound
    from optimus_opt.solvers import downset_graph

    cm = oo.CostModel(oo.load_instance("instances/example-64k.json"))
    narrow = segment_bound(cm, 3, 2)
    monkeypatch.setattr(downset_graph, "WORD_LAYERS", 2)
    wide = segment_bound(cm, 3, 2)
    assert wide.per_segment == narrow.per_segment == (60_416, 34_816, 40_960, 2_580)
    assert (wide.bytes, wide.coupling.rounds, wide.coupling.reload_cuts) == \
        (narrow.bytes, narrow.coupling.rounds, narrow.coupling.reload_cuts)
    assert wide.bytes == 253_460 and wide.coupling.reload_cuts > 0


def test_a_down_set_is_final_before_the_graph_leaves_it():
    # a chain of three layers; the piece {0, 1} is listed before {0}, so the graph finds the down-set {0, 1} before
    # {0}. Solved in that order, {0, 1} would be left at the cost of the piece {0, 1} (10) before {0} + {1} (2)
    # reaches it: 11 instead of the least chain, {0} + {1} + {2} = 3. By size, {0} comes first.
    from optimus_opt.solvers.downset_graph import DownsetGraph

    graph = DownsetGraph.build(firsts=[0, 0, 1, 2], masks=[0b011, 0b001, 0b010, 0b100], needs=[0, 0, 0, 0],
                               pred=[0, 0b001, 0b010])
    assert graph.states == 4
    assert graph.solve(np.array([10, 1, 1, 1], np.int64)) == (3, [1, 2, 3])
    assert graph.solve(np.array([1, 1, 1, 1], np.int64)) == (2, [0, 3])


def graph_by_definition(firsts, masks, needs, pred):
    """The down-sets reachable from ∅ and the transitions between them, straight from the definition: state by
    state in the order found, each ready layer in turn, each piece with that first layer in turn."""
    states, index, src, dst, piece = [0], {0: 0}, [], [], []
    k = 0
    while k < len(states):
        d = states[k]
        for r in range(len(pred)):
            if d >> r & 1 or pred[r] & ~d:
                continue
            for p, first in enumerate(firsts):
                if first == r and not masks[p] & d and not needs[p] & ~d:
                    e = d | masks[p]
                    if e not in index:
                        index[e] = len(states)
                        states.append(e)
                    src.append(k)
                    dst.append(index[e])
                    piece.append(p)
        k += 1
    return states, src, dst, piece


@st.composite
def piece_lists(draw):
    n = draw(st.integers(1, 7))
    pred = [draw(st.integers(0, (1 << k) - 1)) for k in range(n)]
    pieces = sorted(draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, (1 << n) - 1),
                                            st.integers(0, (1 << n) - 1)), max_size=30)))
    firsts = [first for first, _, _ in pieces]
    masks = [mask | 1 << first for first, mask, _ in pieces]
    return firsts, masks, [need & ~mask for _, mask, need in pieces], pred


@settings(max_examples=150, deadline=None)
@given(piece_lists(), st.booleans(), st.booleans())
def test_the_graph_of_down_sets_is_the_one_its_definition_gives(drawn, wide, small):
    # pieces grouped by the layers a down-set decides, a better hash, arrays that grow without starting again,
    # a window as wide as a word or wider: the same down-sets, found in the same order, and the same transitions
    from optimus_opt.solvers import downset_graph

    firsts, masks, needs, pred = drawn
    states, src, dst, piece = graph_by_definition(firsts, masks, needs, pred)
    saved = downset_graph.WORD_LAYERS, downset_graph.FIRST_STATES, downset_graph.FIRST_TRANSITIONS
    try:
        downset_graph.WORD_LAYERS = 0 if wide else saved[0]
        if small:  # every array fills at once and grows, in the middle of a state's transitions too
            downset_graph.FIRST_STATES, downset_graph.FIRST_TRANSITIONS = 1, 1
        graph = downset_graph.DownsetGraph.build(firsts, masks, needs, pred)
    finally:
        downset_graph.WORD_LAYERS, downset_graph.FIRST_STATES, downset_graph.FIRST_TRANSITIONS = saved
    # numbered by size, of equal sizes in the order found; each state's transitions in their own order
    by_size = sorted(range(len(states)), key=lambda k: (states[k].bit_count(), k))
    rank = {k: i for i, k in enumerate(by_size)}
    leaving = [[(rank[d], p) for s, d, p in zip(src, dst, piece) if s == k] for k in by_size]
    assert graph.states == len(states)
    assert graph.start.tolist() == [0, *itertools.accumulate(len(out) for out in leaving)]
    assert list(zip(graph.dst.tolist(), graph.piece.tolist())) == [t for out in leaving for t in out]
    full = (1 << len(pred)) - 1
    assert graph.full == (rank[states.index(full)] if full in states else -1)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(min_layers=3, max_layers=9), st.integers(1, 3), st.integers(0, 2))
def test_a_second_process_gives_the_same_rounds(inst, size, overlap):
    # the windows split between this process and a forked helper, each round: the same bound, rounds,
    # disagreements and chosen pieces as one process solving them all
    from optimus_opt.solvers.coupling import couple
    from optimus_opt.solvers.segment_bound import segments, solve_windows

    cm = oo.CostModel(inst)
    solved = list(solve_windows(cm, segments(cm, size), overlap))
    if not all(window for _, window in solved):
        return
    windows, plain = [window for _, window in solved], sum(result.value for result, _ in solved)
    alone, shared = (dataclasses.replace(couple(cm, windows, plain, jobs=jobs), seconds=0.0) for jobs in (1, 2))
    assert shared == alone


def test_the_helper_makes_the_terms_of_new_pairs_itself(monkeypatch):
    # the worked example's rounds add the terms of 4 pairs (20 multipliers, then 24): the helper, sent the pairs,
    # makes the same terms and answers every round (were it to die, the coupling would solve its windows here and
    # end the same, hiding the fault)
    from optimus_opt.solvers import coupling
    from optimus_opt.solvers.segment_bound import segments, solve_windows

    cm = oo.CostModel(oo.load_instance("instances/example-64k.json"))
    solved = list(solve_windows(cm, segments(cm, 3), 2))
    windows, plain = [window for _, window in solved], sum(result.value for result, _ in solved)
    answer = coupling._Helper.answer

    def alive(helper):
        outcomes = answer(helper)
        assert outcomes is not None, "the helper died"
        return outcomes

    monkeypatch.setattr(coupling._Helper, "answer", alive)
    assert coupling.multiplier_terms(cm, windows)[1] == 20
    shared = coupling.couple(cm, windows, plain, jobs=2)
    assert (shared.bytes, shared.rounds, shared.multipliers) == (247_316, 97, 24)


def test_a_helper_that_dies_leaves_its_windows_to_the_coupling(monkeypatch):
    # the second process ends at once (as if killed for its memory): its windows are solved here from then on, and
    # the worked example couples to the same 247,316 B in the same rounds
    from optimus_opt.solvers import coupling
    from optimus_opt.solvers.segment_bound import segments, solve_windows

    cm = oo.CostModel(oo.load_instance("instances/example-64k.json"))
    solved = list(solve_windows(cm, segments(cm, 3), 2))
    windows, plain = [window for _, window in solved], sum(result.value for result, _ in solved)
    alone = coupling.couple(cm, windows, plain)
    monkeypatch.setattr(coupling, "_serve", lambda *args: None)
    dead = coupling.couple(cm, windows, plain, jobs=2)
    assert (dead.bytes, dead.rounds, dead.pieces) == (alone.bytes, alone.rounds, alone.pieces)
    assert (alone.bytes, alone.rounds) == (247_316, 97)


def test_the_windows_are_shared_by_their_transitions():
    # the largest graph first, each to the share with fewer transitions so far: 9 | 7, 5 | 4 → 9 + 4, 7 + 5
    from optimus_opt.solvers.coupling import Window, _shares

    def window(transitions):
        graph = SimpleNamespace(dst=np.zeros(transitions, np.int32))
        return Window(layers=(), graph=graph, costs=np.zeros(0, np.int64))

    assert _shares([window(k) for k in (5, 9, 4, 7)]) == ([1, 2], [0, 3])


def test_the_graph_looks_at_the_deadline_between_down_sets(monkeypatch):
    # eight layers that read nothing, each a piece of its own: every set of them is a down-set, 256 in all. With a
    # look at the clock every 10 down-sets and a clock that ticks at each look, a deadline 3 ticks away stops the
    # graph at its third look (30 down-sets expanded); without one, the graph is the one built in a single pass
    from optimus_opt.solvers import downset_graph
    from optimus_opt.utils.deadline import Deadline

    layers = dict(firsts=list(range(8)), masks=[1 << k for k in range(8)], needs=[0] * 8, pred=[0] * 8)
    whole = downset_graph.DownsetGraph.build(**layers)
    assert whole.states == 256 and len(whole.dst) == 8 * 2 ** 7  # each layer joins the half of the sets without it
    monkeypatch.setattr(downset_graph, "LOOK_STATES", 10)
    looks = []
    ticking = Deadline(3.0, lambda: looks.append(1) or float(len(looks)))
    assert downset_graph.DownsetGraph.build(**layers, deadline=ticking) is None and len(looks) == 3
    again = downset_graph.DownsetGraph.build(**layers)
    assert [again.start.tolist(), again.dst.tolist(), again.piece.tolist(), again.full] == \
        [whole.start.tolist(), whole.dst.tolist(), whole.piece.tolist(), whole.full]


def _climb(schedules, priced, beyond):
    """Drive the coupling's cutting planes over windows whose schedules are given as (cost, coefficients): each
    window's part of L is the least cost + coefficients · λ over its schedules. The best L found; the planes must end
    within 100 points."""
    from optimus_opt.solvers.coupling import _Planes

    count = len(priced)
    planes = _Planes(len(schedules), np.array(priced), np.array(beyond))
    lam, best, rounds = np.zeros(count, np.int64), None, 0
    while lam is not None:
        assert rounds < 100, "the planes did not end"
        total = -int(np.dot(beyond, lam))
        for i, own in enumerate(schedules):
            cost, row = min(((c + int(np.dot(a, lam)), np.array(a)) for c, a in own), key=lambda x: x[0])
            planes.add(i, cost, lam, row, [], 0)
            total += cost
        best = total if best is None else max(best, total)
        lam, rounds = planes.next(lam, total), rounds + 1
    return best


def test_the_planes_reach_the_best_multipliers():
    # two windows share a pair: a puts it in one piece for 5 B (+λ) or apart for 8 B; b for 9 B (−λ) or apart for
    # 4 B. L(λ) = min(5 + λ, 8) + min(9 − λ, 4) is 9 at λ = 0 and 12 for 3 ≤ λ ≤ 5, the least agreeing sum (apart)
    assert _climb([[(5, [1]), (8, [0])], [(9, [-1]), (4, [0])]], [False], [0]) == 12
    # a cut of two sides priced by ν ≥ 0 (−ν on L), besides the pair: brute force over a grid that holds the best
    rng = np.random.default_rng(7)
    for _ in range(20):
        schedules = [[(int(rng.integers(0, 60)), [int(rng.integers(-1, 2)), int(rng.integers(0, 2))])
                      for _ in range(4)] for _ in range(3)]
        for own in schedules:
            own.append((100, [0, 0]))  # every window has a schedule that no multiplier moves: L is bounded
        value = lambda lam: sum(min(c + a[0] * lam[0] + a[1] * lam[1] for c, a in own) for own in schedules) - lam[1]
        brute = max(value((x, v)) for x in range(-150, 151) for v in range(0, 151))
        assert _climb(schedules, [False, True], [0, 1]) == brute


def test_the_planes_lp_kept_warm_is_the_lp_built_anew():
    # the planes keep their LP between points: rows for new planes, columns for new multipliers (with their
    # coefficients in the rows there), the box as bounds. Layers 0-2, pieces {0}, {1}, {2}, {0, 1}, {1, 2} (masks 1,
    # 2, 4, 3, 6); a pair multiplier λ0 on {0, 1} (+ in window 0, − in window 1), then λ1 on {1, 2}. Window 0 has
    # the schedules A = {0, 1} {2} at 30 + λ0, B = {0} {1, 2} at 28 (+ λ1 once λ1 exists) and C = {0} {1} {2} at 40;
    # window 1 has C at 35. With λ0 alone the LP promises max min(30 + λ0, 28, 40) + 35 = 63; with λ1, B's plane
    # rises with it and the LP promises 40 + 35 = 75; a plane θ0 ≤ 45 − λ1 added then makes it max min(28 + λ1,
    # 45 − λ1) + 35 = 71.5. Each time the kept LP promises what an LP built at once over the same planes does
    from optimus_opt.solvers.coupling import EXACT, _Planes

    windows = [SimpleNamespace(graph=SimpleNamespace(masks=np.array([1, 2, 4, 3, 6])))] * 2
    terms = [[(0, 1, np.array([3]), 3, EXACT)], [(0, -1, np.array([3]), 3, EXACT)]]
    warm = _Planes(2, np.array([False]), np.array([0]))

    def built_anew() -> float:
        cold = _Planes(2, warm.priced, warm.beyond)
        cold.planes, cold.centre, cold.half = list(warm.planes), warm.centre.copy(), warm.half
        return cold._lp()[0]

    lam = np.zeros(1, np.int64)
    for i, cost, row, chosen in [(0, 30, [1], [3, 2]), (0, 28, [0], [0, 4]), (0, 40, [0], [0, 1, 2]),
                                 (1, 35, [0], [0, 1, 2])]:
        warm.add(i, cost, lam, np.array(row), chosen, 1)
    warm.next(lam, 28 + 35)
    assert warm.promised == built_anew() == 63
    terms[0].append((1, 1, np.array([4]), 6, EXACT))
    terms[1].append((1, -1, np.array([4]), 6, EXACT))
    warm.extend(windows, terms, 2, np.array([False, False]), np.array([False, False]), np.array([0, 0]))
    assert [(i, at.tolist()) for i, _, at, _ in warm.planes] == [(0, [0]), (0, [1]), (0, []), (1, [])]
    assert warm._lp()[0] == built_anew() == 75
    warm.add(0, 45, np.zeros(2, np.int64), np.array([0, -1]), [0, 1, 2], 2)
    assert warm._lp()[0] == built_anew() == 71.5
