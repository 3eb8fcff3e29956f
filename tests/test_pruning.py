"""The speed-ups of the exact solvers never change what they prove.

* the incremental enumeration yields exactly the convex connected sets whose footprint floor fits;
* the cost floor of every candidate is at most its cost (what pruning rules DP-1 and SP-2 rely on);
* the best tiling computed at a few strip counts equals the one read off the full curve;
* pruning on and off gives the same optimum, equal to a brute force (random DAGs) and across the three solvers
  (the smoke suite).
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

from bruteforce import _valid_group, brute_force_optimum, resolved_graph
from helpers import ids, make_instance
from hypothesis import HealthCheck, example, given, settings
from strategies import instances

import optimus_opt as oo
from optimus_opt.cost.candidates import CandidateSpace, bits
from optimus_opt.cost.cost_model import FULL, CostModel, TilingRules

ROOT = Path(__file__).resolve().parents[1]
EXACT = ("exact-dp", "cpsat", "milp")
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _pool_alone_fits_no_first_tile() -> oo.Instance:
    """Under tiles, a 2 × 2 pool of stride 2 alone holds at least a 2 × 2 window of its input and a cell of its
    output (5 B at one channel and 1-byte words), more than a 4 B buffer, though one cell of each (what the
    enumeration's row floor counts) would fit: no group holding it may be listed."""
    inst = make_instance([{"name": "x", "op": "input", "shape": [1, 4, 4]},
                          {"name": "p", "op": "pool", "inputs": ["x"], "kernel": 2, "stride": 2},
                          {"name": "c", "op": "conv", "inputs": ["p"], "channels": 1, "kernel": 1}], 4, tc=1, word=1)
    return dataclasses.replace(inst, accelerator=dataclasses.replace(inst.accelerator, tiling="tiles"))


@SETTINGS
@given(instances(min_layers=2, max_layers=8))
@example(_pool_alone_fits_no_first_tile())
def test_enumeration_is_every_convex_connected_set_that_may_fit(inst):
    cm = CostModel(inst)
    space = CandidateSpace(cm)
    g = resolved_graph(inst)
    net = inst.network
    layers = list(net.layer_ids)
    expected = set()
    for k in range(1, len(layers) + 1):
        for combo in itertools.combinations(layers, k):
            if _valid_group(g, frozenset(net.layers[u].name for u in combo)) and \
                    cm.footprint_floor(combo) <= cm.buffer:
                expected.add(sum(1 << u for u in combo))
    masks = [c.mask for c in space]
    assert len(masks) == len(set(masks))
    assert set(masks) == expected
    # without floors (the segment bound's windows): the same candidates in the same order, each floor 0
    bare = CandidateSpace(cm, floors=False)
    assert [(c.mask, c.first, c.needs) for c in bare] == [(c.mask, c.first, c.needs) for c in space]
    assert {c.cost_floor for c in bare} <= {0}


@SETTINGS
@given(instances(min_layers=2, max_layers=10))
def test_cost_floor_is_a_lower_bound(inst):
    cm = CostModel(inst)
    for cand in CandidateSpace(cm):
        tiling = cand.tiling(cm)
        if tiling is not None:
            assert cand.cost_floor <= tiling.cost, bits(cand.mask)


@SETTINGS
@given(instances(min_layers=2, max_layers=10, tilings=("strips",)))
def test_best_tiling_at_few_strips_equals_the_curve(inst):
    cm = CostModel(inst)
    rules = (FULL, TilingRules(resident_only=True, reduced_channels=False), TilingRules(reduced_channels=False))
    for cand in CandidateSpace(cm, max_group=6):
        members = bits(cand.mask)
        for r in rules:
            assert cm._pick_at_few_strips(members, r) == cm._pick(cm.curve(members), r)


def _solve(inst, prune: bool) -> dict[str, oo.Schedule]:
    return {name: oo.solve(inst, name, prune=prune) for name in EXACT}


@SETTINGS
@given(instances(min_layers=2, max_layers=8))
def test_pruning_never_changes_the_optimum(inst):
    expected, _ = brute_force_optimum(inst)
    for prune in (True, False):
        for name, r in _solve(inst, prune).items():
            if expected is None:
                assert r.status == "infeasible", (name, prune)
            else:
                assert (r.status, r.dram_bytes, r.bound_bytes) == ("optimal", expected, expected), (name, prune)


def test_smoke_suite_with_pruning_on_and_off():
    from optimus_opt.studies.suite import load_suite

    for inst in load_suite(ROOT / "instances" / "suites" / "smoke.json").instances():
        on, off = _solve(inst, True), _solve(inst, False)
        costs = {r.dram_bytes for r in (*on.values(), *off.values())}
        assert len(costs) == 1 and None not in costs, inst.name
        assert all(r.status == "optimal" for r in (*on.values(), *off.values()))
        # pruning only ever saves work: fewer tilings in the DP, no more columns in the set partitioning
        assert on["exact-dp"].solver_info["tilings_asked"] <= off["exact-dp"].solver_info["tilings_asked"]
        for name in ("cpsat", "milp"):
            assert on[name].solver_info["columns"] <= off[name].solver_info["columns"]


def test_a_stopped_exact_solver_keeps_the_better_heuristic():
    """On SqueezeNet 1.0 in the paper's setting greedy-merge (34,493,600 B) beats Efficient-S (52,860,992 B),
    which beats the Optimus recursion (54,635,968 B, tests/test_heuristics.py): a solver stopped at once returns
    greedy-merge's schedule, feasible, with the compulsory traffic as its bound."""
    inst = oo.load_instance(ROOT / "instances" / "paper" / "squeezenet1_0-optimus-npu-b4.json")
    baseline = oo.solve(inst, "greedy-merge").dram_bytes
    assert baseline == 34_493_600 < oo.solve(inst, "efficient-s").dram_bytes < oo.solve(inst, "optimus").dram_bytes
    for solver in ("exact-dp", "cpsat", "milp"):
        r = oo.solve(inst, solver, time_limit=1e-6)
        assert (r.status, r.dram_bytes, r.solver_info["incumbent"]) == ("feasible", baseline, "greedy-merge"), solver
        assert r.bound_bytes == oo.CostModel(inst).compulsory_bytes() < r.dram_bytes
        assert oo.evaluate(inst, r).dram_bytes == baseline


def _chain_of_three(buffer: int) -> oo.Instance:
    return make_instance([
        {"name": "x", "op": "input", "shape": [4, 32, 8]},
        {"name": "c1", "op": "conv", "inputs": ["x"], "channels": 4, "kernel": 3, "padding": 1},
        {"name": "c2", "op": "conv", "inputs": ["c1"], "channels": 4, "kernel": 3, "padding": 1},
        {"name": "c3", "op": "conv", "inputs": ["c2"], "channels": 4, "kernel": 3, "padding": 1},
    ], buffer=buffer, tc=8)


def test_pyramid_floor_by_hand():
    # c3 computing one row needs 3 rows of c2, which need 5 of c1, which need 7 of x: 4 channels × 8 columns ×
    # (1 + 3 + 5 + 7) rows = 512 words = 1,024 B, plus the 4 × 4 × 3 × 3 weight block (288 B); the one-row floor
    # said 3 rows each (928 B). At 32 strips the group holds exactly that pyramid, so the floor is tight.
    inst = _chain_of_three(1312)
    cm = CostModel(inst)
    group = ids(inst, ["c1", "c2", "c3"])
    assert cm.footprint_floor(group) == 1312
    tiling = cm.best_tiling(group)
    assert (tiling.strips, tiling.resident, tiling.footprint_bytes) == (32, False, 1024)
    assert sum(1 << u for u in group) in {c.mask for c in CandidateSpace(cm)}
    tight = _chain_of_three(1311)
    cm = CostModel(tight)
    assert cm.best_tiling(group) is None
    assert sum(1 << u for u in group) not in {c.mask for c in CandidateSpace(cm)}


def test_corner_pyramid_by_hand():
    # under tiles the first tile computes c3's top-left cell; with the top and left padding of 1 each 3 × 3 window
    # is clipped to 2 × 2 there, so c2 keeps 2 × 2 cells, c1 3 × 3 and x 4 × 4: 4 channels × (1 + 4 + 9 + 16)
    # cells = 120 words = 240 B, plus the 288-B weight block (one cell each was 4 × 4 × 2 = 32 B)
    inst = _chain_of_three(1312).with_overrides(tiling="tiles")
    cm = CostModel(inst)
    group = ids(inst, ["c1", "c2", "c3"])
    assert cm.footprint_floor(group) == 528
    assert min(need for need, _ in cm.tiling_options(group)) >= 528


def test_first_tile_by_hand():
    # x (4 × 16 × 16) → c1 → c2, 3 × 3 convs of 8 channels with padding 1, words of 1 byte. At Q tiles along a
    # direction c2 (the output) keeps its first part t = ⌈16/Q⌉, c1 the t + 1 cells that window needs (clipped by
    # the top padding), x t + 2: 4·x + 8·c1 + 8·c2 bytes per cell product. One tile holds 5,120 B; 2 × 1 tiles
    # 4·10·16 + 8·9·16 + 8·8·16 = 2,816 B; 3 × 1 tiles 2,176 B; 2 × 2 tiles
    # 4·10² + 8·9² + 8·8² = 1,560 B and 4 × 1 tiles 4·6·16 + 8·5·16 + 8·4·16 = 1,536 B (both four tiles); five
    # tiles give the same parts as four; 3 × 2 tiles 4·8·10 + 8·7·9 + 8·6·8 = 1,208 B; 6 × 1 tiles 1,216 B; 2 × 4
    # tiles 4·10·6 + 8·9·5 + 8·8·4 = 856 B.
    inst = make_instance([
        {"name": "x", "op": "input", "shape": [4, 16, 16]},
        {"name": "c1", "op": "conv", "inputs": ["x"], "channels": 8, "kernel": 3, "padding": 1},
        {"name": "c2", "op": "conv", "inputs": ["c1"], "channels": 8, "kernel": 3, "padding": 1},
    ], buffer=65536, tc=16, word=1).with_overrides(tiling="tiles")
    cm = CostModel(inst)
    x, c1, c2 = ids(inst, ["x", "c1", "c2"])
    geometry = cm.tiles.geometry
    group, reads = (1 << c1) | (1 << c2), (1 << x) | (1 << c1)
    rooms = (5120, 5119, 2815, 2175, 1560, 1536, 1535, 1208, 1207)
    # the corner pyramid (one cell of c2): 8·1 + 8·2² + 4·3² = 76 B, what the footprint floor counts
    assert [geometry.first_tile(group, reads, 1 << c2, room) for room in rooms] == [
        (tiles, 5120, 76) for tiles in (1, 2, 3, 4, 4, 4, 6, 6, 8)]
    assert geometry.first_tile(group, reads) == (0, 0, 76) == (0, 0, cm.pyramid_bytes(group, reads))
    # with c1 escaping too (as in a window of the segment bound that shows one of its readers), c1 keeps its own
    # first part: at 4 × 1 tiles 4·6·16 + 8·5·16 + 8·4·16 = 1,536 B either way (t + 1 ≥ t), at one tile the same
    assert geometry.first_tile(group, reads, (1 << c1) | (1 << c2), 1535) == (6, 5120, 76)


@SETTINGS
@given(instances(min_layers=2, max_layers=8))
def test_footprint_floor_is_below_every_tiling_of_every_superset(inst):
    cm = CostModel(inst)
    space = CandidateSpace(cm)
    floors = {c.mask: cm.footprint_floor(bits(c.mask)) for c in space}
    for cand in space:
        needs = [need for need, _ in cm.tiling_options(bits(cand.mask))]
        for mask, floor in floors.items():
            if mask & cand.mask == mask:  # every subset's floor is below every tiling of the set
                assert all(floor <= need for need in needs), (bits(mask), bits(cand.mask))
