"""The same schedule for the same instance (issue 27): where several schedules have the optimal traffic, exact-dp
returns the one rule DP-2 of formulations/exact-dp.md picks, with pruning on or off; cpsat and milp put the groups
they chose in a stated order.

Rule DP-2: read each group as its bitset (Σ 2^u over its layers' node ids); of two optimal schedules the one whose
last group has the larger bitset wins, then the last but one decides, and so on. :func:`dp2_choice` applies it to
a list of schedules; the brute force of tests/bruteforce.py gives every optimal schedule of a small instance, and
:func:`count_optima` (a DP over all down-sets with every candidate, no pruning, that counts instead of choosing)
says how many a bundled instance has.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from bruteforce import brute_force_optima
from hypothesis import HealthCheck, given, settings
from strategies import instances

import optimus_opt as oo
from optimus_opt.cost.candidates import CandidateSpace
from optimus_opt.cost.cost_model import CostModel
from optimus_opt.solvers.partition_model import in_order

ROOT = Path(__file__).resolve().parents[1]
SQUEEZENET = ROOT / "instances" / "paper" / "squeezenet1_0-optimus-npu-b4.json"
RESNET18 = ROOT / "instances" / "paper" / "resnet18-optimus-npu-b4.json"
EXAMPLE_32K = ROOT / "instances" / "example-32k.json"

Schedule = tuple[frozenset[int], ...]


def dp2_choice(schedules: list[Schedule]) -> Schedule:
    """The schedule rule DP-2 picks: the largest sequence of group bitsets read from the last group."""
    return max(schedules, key=lambda s: [sum(1 << u for u in g) for g in reversed(s)])


def as_ids(inst: oo.Instance, groups) -> Schedule:
    """Groups given by layer names (a schedule's groups, or lists of names) as node-id sets, in order."""
    return tuple(frozenset(inst.network.index[n] for n in (g.layers if hasattr(g, "layers") else g)) for g in groups)


def count_optima(inst: oo.Instance) -> tuple[int, int]:
    """(optimal traffic, number of optimal schedules): f and a count over every down-set reached from ∅ by every
    feasible candidate, pushed forwards in order of size; a schedule is a chain of down-sets, so counted once."""
    cm = CostModel(inst)
    space = CandidateSpace(cm)
    groups = [(c.mask, c.needs, c.tiling(cm).cost) for c in space if c.tiling(cm) is not None]
    best: dict[int, tuple[int, int]] = {0: (0, 1)}
    by_size: dict[int, set[int]] = {0: {0}}
    for size in range(space.within.bit_count() + 1):
        for d in by_size.get(size, ()):
            value, count = best[d]
            for mask, needs, cost in groups:
                if mask & d or needs & ~d:
                    continue
                nd, total = d | mask, value + cost
                old = best.get(nd)
                if old is None or total < old[0]:
                    best[nd] = (total, count)
                elif total == old[0]:
                    best[nd] = (total, old[1] + count)
                by_size.setdefault(nd.bit_count(), set()).add(nd)
    return best[space.within]


def exact_dp(inst: oo.Instance) -> dict[bool, oo.Schedule]:
    """exact-dp's schedule with pruning on and off: rule DP-2 must not depend on it."""
    return {prune: oo.solve(inst, "exact-dp", prune=prune) for prune in (True, False)}


# -- golden schedules of bundled instances ----------------------------------------------------------------------

#: exact-dp's schedule of SqueezeNet 1.0 in the paper's setting (128 KiB, batch 4), 34,120,864 B.
SQUEEZENET_GROUPS = [
    ["features.0", "features.2", "features.3.squeeze"],
    ["features.3.expand1x1", "features.3.expand3x3", "features.4.squeeze", "features.4.expand1x1",
     "features.4.expand3x3", "features.5.squeeze"],
    ["features.5.expand1x1", "features.5.expand3x3", "features.6", "features.7.squeeze"],
    ["features.7.expand1x1", "features.7.expand3x3", "features.8.squeeze"],
    ["features.8.expand1x1", "features.8.expand3x3", "features.9.squeeze"],
    ["features.9.expand1x1", "features.9.expand3x3", "features.10.squeeze"],
    ["features.10.expand3x3"],
    ["features.10.expand1x1", "features.11"],
    ["features.12.squeeze"],
    ["features.12.expand3x3"],
    ["features.12.expand1x1", "classifier.1", "classifier.3"],
]


def test_squeezenet_schedule_is_fixed():
    # This schedule is the only optimal one (count_optima finds one chain of down-sets at 34,120,864 B), so no
    # tie-break is involved: it is fixed by the optimum itself, whatever the order of the DP's scan. (Issue 27
    # reported that `<` -> `<=` in the DP's update changed these groups; with a single optimum it cannot, before
    # or after rule DP-2; the ties are on ResNet-18 and the 32 KiB example below.)
    inst = oo.load_instance(SQUEEZENET)
    assert count_optima(inst) == (34_120_864, 1)
    for prune, sched in exact_dp(inst).items():
        assert (sched.status, sched.dram_bytes) == ("optimal", 34_120_864), prune
        assert [list(g.layers) for g in sched.groups] == SQUEEZENET_GROUPS, prune


#: exact-dp's schedule of ResNet-18 in the paper's setting, 130,383,376 B.
RESNET18_GROUPS = [
    ["conv1", "maxpool"], ["layer1.0.conv1"], ["layer1.0.conv2", "layer1.0.add"], ["layer1.1.conv1"],
    ["layer1.1.conv2", "layer1.1.add"], ["layer2.0.conv1"], ["layer2.0.conv2"],
    ["layer2.0.downsample.0", "layer2.0.add"], ["layer2.1.conv1"], ["layer2.1.conv2"], ["layer2.1.add"],
    ["layer3.0.conv1"], ["layer3.0.conv2"],
    ["layer3.0.downsample.0", "layer3.0.add"], ["layer3.1.conv1"], ["layer3.1.conv2"], ["layer3.1.add"],
    ["layer4.0.conv1", "layer4.0.downsample.0"], ["layer4.0.conv2"], ["layer4.0.add"], ["layer4.1.conv1"],
    ["layer4.1.conv2"], ["layer4.1.add", "avgpool"], ["fc"],
]


def test_resnet18_tie_goes_to_the_larger_last_group():
    # Two schedules move 130,383,376 B: this one, and the one that runs layer3.0's 1x1 downsample with
    # layer2.1.add ({layer2.1.add, layer3.0.downsample.0}, ..., {layer3.0.add}). Read from the end they first
    # differ at {layer3.0.downsample.0, layer3.0.add} against {layer3.0.add}: the larger bitset wins (rule DP-2).
    inst = oo.load_instance(RESNET18)
    assert count_optima(inst) == (130_383_376, 2)
    k = RESNET18_GROUPS.index(["layer2.1.add"])
    other = RESNET18_GROUPS[:k] + [["layer2.1.add", "layer3.0.downsample.0"], ["layer3.0.conv1"], ["layer3.0.conv2"],
                                   ["layer3.0.add"]] + RESNET18_GROUPS[k + 4:]
    hand = oo.Schedule(instance=inst.name, solver="hand", status="feasible",
                       groups=tuple(oo.Group(layers=tuple(g)) for g in other))
    assert oo.evaluate(inst, hand).dram_bytes == 130_383_376
    assert dp2_choice([as_ids(inst, other), as_ids(inst, RESNET18_GROUPS)]) == as_ids(inst, RESNET18_GROUPS)
    for prune, sched in exact_dp(inst).items():
        assert sched.dram_bytes == 130_383_376, prune
        assert [list(g.layers) for g in sched.groups] == RESNET18_GROUPS, prune


def test_worked_example_tie_at_32k_goes_to_the_larger_last_group():
    # formulations/cost-model.md: at 32 KiB {c3}, {a1, p1} and {c3, a1}, {p1} cost the same (613,908 B in all).
    # The last groups agree ({c4, c5, g, fc}); the ones before differ, {a1, p1} against {p1}: {a1, p1} wins.
    inst = oo.load_instance(EXAMPLE_32K)
    chosen = [["c1"], ["c2"], ["c3"], ["a1", "p1"], ["c4", "c5", "g", "fc"]]
    other = [["c1"], ["c2"], ["c3", "a1"], ["p1"], ["c4", "c5", "g", "fc"]]
    # the two ways to count agree: the brute force lists exactly these two optimal schedules
    assert count_optima(inst) == (613_908, 2)
    cost, optima = brute_force_optima(inst)
    assert (cost, len(optima), set(optima)) == (613_908, 2, {as_ids(inst, other), as_ids(inst, chosen)})
    assert dp2_choice([as_ids(inst, other), as_ids(inst, chosen)]) == as_ids(inst, chosen)
    for prune, sched in exact_dp(inst).items():
        assert sched.dram_bytes == 613_908, prune
        assert [sorted(g.layers) for g in sched.groups] == [sorted(g) for g in chosen], prune


# -- every optimal schedule of small random instances ----------------------------------------------------------

@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(min_layers=2, max_layers=7))
def test_exact_dp_returns_the_optimum_rule_dp2_picks(inst):
    cost, optima = brute_force_optima(inst)
    for prune, sched in exact_dp(inst).items():
        if cost is None:
            assert sched.status == "infeasible", prune
            continue
        assert (sched.status, sched.dram_bytes) == ("optimal", cost), prune
        assert as_ids(inst, sched.groups) == dp2_choice(optima), (prune, len(optima))


# -- cpsat and milp: the order of the chosen groups -------------------------------------------------------------

def test_set_partitioning_orders_groups_by_level_then_first_layer():
    # The back-end chooses the columns and the levels; groups on one level (no edge between them) run in order of
    # their first layer, whatever order the columns have in the model.
    data = SimpleNamespace(members=((5,), (2, 3), (7,), (4,)), tilings=("t5", "t23", "t7", "t4"))
    level = {5: 0, 2: 0, 3: 0, 7: 1, 4: 1}
    assert in_order(data, [0, 1, 2, 3], level.get) == [((2, 3), "t23"), ((5,), "t5"), ((4,), "t4"), ((7,), "t7")]


@pytest.mark.parametrize("solver", ["cpsat", "milp"])
def test_set_partitioning_repeats_its_schedule(solver):
    # One worker and seed 0 (the defaults): the same back-end run, the same schedule, on an instance with a tie.
    inst = oo.load_instance(RESNET18)
    first, second = oo.solve(inst, solver), oo.solve(inst, solver)
    assert first.dram_bytes == second.dram_bytes == 130_383_376
    assert [g.layers for g in first.groups] == [g.layers for g in second.groups]
