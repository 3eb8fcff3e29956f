"""Tests written because a mutant of tools/mutants.py survived the rest of the suite (CONTRIBUTING.md, "Mutation
testing"): each one states a rule by a case worked out by hand, and names the mutant it kills.

Notation as in tests/test_cost_groups.py: w = 2 bytes per word, Q strips, R rows per strip, N the batch.
"""

from __future__ import annotations

import numpy as np
from helpers import ids, make_instance

import optimus_opt as oo
from optimus_opt.cost.candidates import CandidateSpace
from optimus_opt.cost.cost_model import CostModel
from optimus_opt.solvers.downsets import remaining_floor
from optimus_opt.solvers.segment_bound import least_rows
from optimus_opt.studies.records import RunSpec

#: x (4,4,4) -> a: conv 4, k1 -> b: conv 4, k1. Weights 16 words = 32 B each; with Tc = 8 the block of each is all
#: of its weights (32 B), and Φ saves nothing (C ≤ Tc). x, a and b hold 4·4·4·2 = 128 B each.
CHAIN = [{"name": "x", "op": "input", "shape": [4, 4, 4]},
         {"name": "a", "op": "conv", "inputs": ["x"], "channels": 4, "kernel": 1},
         {"name": "b", "op": "conv", "inputs": ["a"], "channels": 4, "kernel": 1}]


def test_the_cost_floor_of_a_group_that_streams_at_two_strips_is_its_cost():
    # Kills cost-floor-too-high. x (16,2,4) -> c: conv 16, k1, Tc = 8, buffer 330 B, N = 1.
    # Weights 16·16 = 256 words = 512 B; block 8·8 = 64 words = 128 B. Φ = {c} keeps 8 channels:
    # F = (16 R_x + 8 R_c)·4·2 B with R_x = R_c = ⌈2/Q⌉: Q=1: 384 B, Q=2: 192 B.
    # Resident needs F + 512 ≤ 330: never. Streamed: Q=1: 384 + 128 > 330; Q=2: 192 + 128 = 320 ≤ 330.
    # Cost: read x 256 + weights 512·Q·N = 1024, write c 256: 1536 B.
    # The floor (formulations/candidate-space.md): the floor rows (x 1 row of 16, c 1 row of 8: 192 B) + weights
    # exceed the buffer, and even one strip's floor (c all 2 rows of 8 channels: 256 B) + the block does: k ≥ 2N,
    # so the floor is 256 + 256 + 512·2 = 1536 B, the cost itself; a floor above it would let rule DP-1 prune the
    # only schedule there is.
    inst = make_instance([{"name": "x", "op": "input", "shape": [16, 2, 4]},
                          {"name": "c", "op": "conv", "inputs": ["x"], "channels": 16, "kernel": 1}],
                         buffer=330, tc=8)
    cm = CostModel(inst)
    t = cm.best_tiling(ids(inst, ["c"]))
    assert (t.strips, t.batch_block, t.resident, t.footprint_bytes, t.cost) == (2, 1, False, 192, 1536)
    [cand] = list(CandidateSpace(cm))
    assert cand.cost_floor == t.cost == 1536


def test_a_group_whose_footprint_floor_fills_the_buffer_exactly_is_a_candidate():
    # Kills prune-at-equal-floor. CHAIN at a 128 B buffer. The floor of {a, b}: one row of x, a and b
    # (3·16 words = 96 B) + the block (32 B) = 128 B, the buffer exactly; at Q = 4 every tensor keeps one row, so
    # the floor is met: streamed (96 + 64 > 128 resident), 96 + 32 = 128 ≤ 128.
    # Fused: read x 128 + weights 64·Q·N = 256, write b 128: 512 B. Alone, a and b each fit resident at Q = 4
    # (2·16 words = 64 B + 32 ≤ 128): 128 + 32 + 128 = 288 B each, 576 B in all. So the optimum is the fused group.
    inst = make_instance(CHAIN, buffer=128, tc=8)
    cm = CostModel(inst)
    ab = ids(inst, ["a", "b"])
    assert cm.footprint_floor(ab) == cm.buffer == 128
    assert sum(1 << u for u in ab) in {c.mask for c in CandidateSpace(cm)}
    t = cm.best_tiling(ab)
    assert (t.strips, t.resident, t.footprint_bytes, t.cost) == (4, False, 96, 512)
    s = oo.solve(inst, "exact-dp")
    assert (s.dram_bytes, [g.layers for g in s.groups]) == (512, [("a", "b")])


def test_the_remaining_floor_reads_only_tensors_already_produced():
    # Kills dp-frontier-counts-unproduced. CHAIN at 64 KiB: {a, b} keeps a on chip with its weights resident, so
    # the optimum is the compulsory traffic: read x 128 + weights 64 + write b 128 = 320 B. Before any layer has
    # run, what is still to come is at least that, and no more: a is not produced yet, so reading it is not owed
    # (fused with b, it never leaves the chip). Once a has run, b still reads it: 128 + 32 + 128 = 288 B.
    inst = make_instance(CHAIN, buffer=65536, tc=8)
    cm = CostModel(inst)
    space = CandidateSpace(cm)
    a = ids(inst, ["a"])[0]
    assert remaining_floor(cm, space, 0) == cm.compulsory_bytes() == 320
    assert oo.solve(inst, "exact-dp").dram_bytes == 320
    assert remaining_floor(cm, space, 1 << a) == 288


def test_least_rows_take_the_least_hungry_reader():
    # Kills segment-least-rows-max. x (4,8,8) -> u: conv k1 -> a: conv k1 and u -> b: conv k3 pad 1 (outputs a, b).
    # u escapes with ⌈8/Q⌉ rows; in a group with a it keeps what a needs at its own fewest rows, ⌈8/Q⌉; with b
    # it would keep min(8, ⌈8/Q⌉ + 2). The fewest over every group holding u: ⌈8/Q⌉, not b's larger need.
    inst = make_instance([{"name": "x", "op": "input", "shape": [4, 8, 8]},
                          {"name": "u", "op": "conv", "inputs": ["x"], "channels": 4, "kernel": 1},
                          {"name": "a", "op": "conv", "inputs": ["u"], "channels": 4, "kernel": 1},
                          {"name": "b", "op": "conv", "inputs": ["u"], "channels": 4, "kernel": 3, "padding": 1}],
                         buffer=65536, tc=8, outputs=["a", "b"])
    least = least_rows(CostModel(inst), np.arange(1, 9))
    assert least[inst.network.index["u"]].tolist() == [8, 4, 3, 2, 2, 2, 2, 1]


def test_side_constraints_restrict_the_scope_of_a_runs_bound(example):
    # Kills records-side-constraints-unscoped: a bound proven with groups forced together or apart, or with few
    # groups, holds over those schedules only, and the summary must not take it as a proven bound (bound_scope).
    def scope(options: dict) -> str:
        return RunSpec(example, "cpsat", options).bound_scope()

    assert scope({"max_group": None, "extra": {}}) == "all"
    assert scope({"extra": {"apart": [["c1", "c2"]]}}) == "apart"
    assert scope({"max_group": 4, "extra": {"max_groups": 2, "together": [["c1", "c2"]]}}) == \
        "max_group=4, together, max_groups"
