"""Windows bounded by their LP (formulations/segment-bound.md, "Windows by their LP"): a joined core's window whose
value is the LP relaxation of covering its layers by its pieces, solved by column generation. Its value against an
LP stated whole (every piece a column at once), against the window's DP optimum, and the bound against the optimum;
the compiled local cost of windows wider than a word against the Python cost."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import instances

import optimus_opt as oo
from optimus_opt.cost.candidates import CandidateSpace, Reach, bits
from optimus_opt.io.resolve import resolve_instance
from optimus_opt.solvers import segment_bound as sb
from optimus_opt.solvers.compiled_window import NO_FIT, WindowPieces, piece_int, piece_members, wide_pieces
from optimus_opt.utils.deadline import NEVER
from optimus_opt.utils.highs import new_highs

EXAMPLE = "instances/example-64k.json"


def whole_lp(cm, cores, index: int) -> float:
    """The LP of the window of joined core ``index`` stated whole: a column for every piece that fits, at once."""
    seg = cores.window(index, sb.MERGED_OVERLAP, True)
    layers = tuple(bits(seg))
    found = WindowPieces.listed(CandidateSpace(cm, within=seg, floors=False), layers)
    cost = sb.local_costs(cm, cores.order, cores.reach)(cores.core(index), seg)
    h = new_highs(1, 0)
    h.addRows(len(layers), np.ones(len(layers)), np.ones(len(layers)), 0, np.zeros(len(layers), np.int32),
              np.array([], np.int32), np.array([]))
    for mask in found.masks:
        c = cost(sum(1 << layers[i] for i in bits(int(mask))))
        if c is not None:
            rows = np.array(bits(int(mask)), np.int32)
            h.addCol(float(c), 0.0, math.inf, len(rows), rows, np.ones(len(rows)))
    h.run()
    return h.getInfo().objective_function_value


def relaxed(cm, size: int, joined: int) -> tuple[sb.Cores, list]:
    """The cores of ``size`` layers (overlap 0), their windows solved, then joined into cores of ``joined`` layers
    bounded by their LP where that proves more (:func:`sb.relax_windows`, :func:`sb.with_relaxed`)."""
    cores = sb.segments(cm, size)
    solved = list(sb.solve_windows(cm, cores, 0))
    found = None
    for found in sb.relax_windows(cm, cores, solved, NEVER, size=joined):
        pass
    return (found and sb.with_relaxed(cores, solved, found)) or (cores, solved)


def test_the_worked_example_bounded_by_lp_windows_is_its_optimum():
    """Cores of three layers without overlap prove 138,772 B and couple to 230,932 B without reload cuts (with them,
    to the optimum: test_coupling.py); joined into cores of six layers whose windows are bounded by their LP,
    c1 .. c5 and g, fc, they prove 209,920 + 43,540 = 253,460 B, the optimum exact-dp proves."""
    inst = resolve_instance(EXAMPLE)
    cm = oo.CostModel(inst)
    cores = sb.segments(cm, 3)
    solved = list(sb.solve_windows(cm, cores, 0))
    assert sum(result.value for result, _ in solved) == 138_772
    assert sb.couple_windows(cm, cores, solved, reload_cuts=0).bytes == 230_932
    assert sb.couple_windows(cm, cores, solved).bytes == 253_460
    joined, windows = relaxed(cm, 3, 6)
    assert [(result.value, result.relaxed, window) for result, window in windows] == \
        [(209_920, True, None), (43_540, True, None)]
    assert sb.couple_windows(cm, joined, windows).bytes == 253_460
    assert oo.solve(inst, solver="exact-dp").dram_bytes == 253_460


def test_the_lp_windows_with_the_fewest_pieces_come_first(monkeypatch):
    """In cores of three layers the worked example's windows have 3, 15, 12 and 3 pieces; joined into cores of at
    most six, {c4, c5, g, fc} (15 pieces apart) is bounded before {c1, c2, c3, a1, p1} (18), though the cut inside
    the latter hides 131,072 B and the other's 256 B: a deadline then stops the fewest."""
    cm = oo.CostModel(resolve_instance(EXAMPLE))
    cores = sb.segments(cm, 3)
    solved = list(sb.solve_windows(cm, cores, 0))
    assert [result.pieces for result, _ in solved] == [3, 15, 12, 3]
    asked, real = [], sb.solve_windows
    monkeypatch.setattr(sb, "solve_windows", lambda *args, **kw: asked.append(list(args[5])) or real(*args, **kw))
    found = list(sb.relax_windows(cm, cores, solved, NEVER, size=6))
    assert asked == [[1, 0]] and [sorted(step[2]) for step in found] == [[1], [0, 1]]


def test_a_window_none_of_whose_pieces_fits_has_no_schedule():
    """Three 1 × 1 convolutions and a pool under a 20 B buffer (the case hypothesis found): no conv fits alone, so
    the LP of the window of all four has no cover and says so (−1, as the DP's windows do) instead of failing on an
    empty matrix; joined cores and exact-dp agree that the network has no schedule."""
    chain = (oo.Layer(name="in0", op="input", inputs=(), shape=(3, 4, 2)),) + tuple(
        oo.Layer(name=f"l{k}", op="conv", inputs=(f"l{k - 1}" if k > 1 else "in0",), channels=4) for k in (1, 2, 3))
    chain += (oo.Layer(name="l4", op="pool", inputs=("l3",), kernel=(2, 2), stride=(2, 2)),)
    inst = oo.Instance(network=oo.Network(name="chain", layers=chain, outputs=("l4",)), batch=1, name="chain-20B",
                       accelerator=oo.Accelerator(buffer_bytes=20, word_bytes=1, channel_tile=4))
    cm = oo.CostModel(inst)
    assert [cm.best_tiling([u]) is None for u in range(1, 5)] == [True, True, True, False]
    cores = sb.segments(cm, 4)
    seg = cores.window(0, 0, True)
    cost = sb.local_costs(cm, cores.order, cores.reach)(cores.core(0), seg)
    assert sb._segment_lp(cm, seg, cost, NEVER, None)[0] == -1
    _, windows = relaxed(cm, 1, 2)
    assert [result.value for result, _ in windows] == [-1] * 4
    assert oo.solve(inst, solver="exact-dp").status == "infeasible"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(min_layers=3, max_layers=9), st.integers(1, 3))
def test_lp_windows_match_the_whole_lp_and_never_exceed_the_dp_or_the_optimum(inst, size):
    """Each LP window's bound is the LP stated whole (to the byte, rounded up), at most the DP optimum of the same
    window; the coupled bound over the mixed windows is at most the optimum."""
    cm = oo.CostModel(inst)
    cores, windows = relaxed(cm, size, 2 * size)
    for index, (result, window) in enumerate(windows):
        if not result.relaxed:
            continue
        assert window is None and result.pieces > 0
        assert result.value == math.ceil(whole_lp(cm, cores, index) - 1e-6)
        (dp, _), = sb.solve_windows(cm, cores, sb.MERGED_OVERLAP, indices=[index])
        assert result.value <= dp.value
    optimum = oo.solve(inst, solver="exact-dp")
    coupled = sb.couple_windows(cm, cores, windows)
    if optimum.status == "optimal":
        assert coupled.bytes <= optimum.dram_bytes
    else:
        assert optimum.status == "infeasible"


def test_the_compiled_cost_prices_windows_wider_than_a_word():
    """The stem of NASNet-A Mobile at 128 KiB, its first two joined cores (69 layers): the first 3,000 pieces the
    candidate space lists from its 41st layer on cost what the Python local cost says, bitsets of two words."""
    cm = oo.CostModel(resolve_instance("nasnet_a_mobile", buffer=128 * 1024))
    cores = sb.segments(cm, 36)
    seg = cores.window(0, 0, True) | cores.window(1, 0, True)
    core = cores.core(0) | cores.core(1)
    layers = tuple(bits(seg))
    assert len(layers) == 69
    upper = sum(1 << u for u in layers[40:])  # a convex part (the ids are topological): its pieces reach past 62
    found = WindowPieces.listed(CandidateSpace(cm, within=upper, floors=False, limit=3000), layers)
    assert found.masks.dtype == object and any(int(mask) >> 62 for mask in found.masks)
    cost = sb.local_costs(cm, cores.order, cores.reach)(core, seg)
    compiled = cost.compiled.costs(core, seg, np.array(layers), found.masks)
    python = [cost(sum(1 << layers[i] for i in bits(int(mask)))) for mask in found.masks]
    assert compiled.tolist() == [NO_FIT if c is None else c for c in python]
    members = piece_members(found.masks, len(layers))
    assert [[layers[i] for i in np.flatnonzero(row)] for row in members[:50]] == \
        [[layers[i] for i in bits(int(mask))] for mask in found.masks[:50]]


@pytest.mark.parametrize("name, pieces", [("resnet50", 290), ("googlenet", 16_935)])
def test_windows_wider_than_a_word_have_the_candidate_spaces_pieces(name, pieces):
    """A whole network of 72 layers as one window at 128 KiB: the pieces enumerated compiled from its last 62 layers
    and by the candidate space before them are the candidate space's own, each once; their layers as read back."""
    cm = oo.CostModel(resolve_instance(name))
    layers = tuple(cm.network.layer_ids)
    assert len(layers) == 72
    words, complete, capped = wide_pieces(cm, Reach.of(cm), layers, None, NEVER, None)
    assert complete and not capped and words.shape == (pieces, 2)
    position = {u: k for k, u in enumerate(layers)}
    listed = CandidateSpace(cm, floors=False)
    expected = sorted(tuple(position[u] for u in bits(c.mask)) for cands in listed.by_first.values() for c in cands)
    members = piece_members(words, len(layers))
    found = sorted(tuple(int(i) for i in np.flatnonzero(row)) for row in members)
    assert found == expected and len(expected) == pieces
    assert any(row[0] < len(layers) - 62 for row in found) and any(row[-1] >= 62 for row in found)
    assert [piece_int(w) for w in words[:5]] == [sum(1 << i for i in np.flatnonzero(row)) for row in members[:5]]
    # a limit stops it, as it stops the candidate space
    assert wide_pieces(cm, Reach.of(cm), layers, None, NEVER, pieces // 2)[1:] == (False, True)
