"""The energy and latency models, objectives and budgets (formulations/energy.md, issue 24).

The worked examples of energy.md §6 are asserted with every flow derived by hand in the comments; the package's
figures of random groups and tilings are compared with a second implementation written from the page alone
(tests/energy_oracle.py); the budgets of cpsat and milp are checked against a brute force over every set partition
of the spec network and every frontier tiling of each of its groups.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from typing import Sequence

import energy_oracle as eo
import pytest
from conftest import ROOT
from helpers import ids, make_instance
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import instances

import optimus_opt as oo
from optimus_opt import Accelerator, solvers
from optimus_opt.cost.cost_model import CostModel
from optimus_opt.cost.schedule import check_structure
from optimus_opt.model.errors import InstanceError, ScheduleError, SolverError

FIELDS = tuple(eo.OracleFigures.__dataclass_fields__)
METRICS = ("dram_bytes", "energy_fj", "latency_cycles", "added_macs")
EXACT = ("exact-dp", "cpsat", "milp")


def as_dict(figures) -> dict[str, int]:
    return {k: getattr(figures, k) for k in FIELDS}


def tiles(inst: oo.Instance, halo: str = "choose") -> oo.Instance:
    return dataclasses.replace(inst, accelerator=dataclasses.replace(inst.accelerator, tiling="tiles", halo=halo))


@pytest.fixture(scope="module")
def example32() -> oo.Instance:
    """The network of cost model §6 at 32 KiB under 2-D tiles (energy.md §6, last paragraph)."""
    return tiles(oo.load_instance(ROOT / "instances" / "example-32k.json"))


# -- energy.md §6: the worked examples ---------------------------------------------------------------------------

# {c1} of the spec network at 64 KiB, one tile, weights resident (w = 2, N = 1, Tc = 8):
# DRAM: x 32,768 + weights 9,216 + c1 65,536 = 107,520 B = 53,760 words.
# fills x 16,384 + weights 32*16*9 = 4,608 -> 20,992; drains c1 32*32*32 = 32,768; writes 32,768;
# reads x once 16,384 + weights once 4,608 = 20,992; buffer 107,520 words.
# MACs 32*32*32 * 16*9 = 4,718,592; RF 4 * 4,718,592 - 32,768 = 18,841,600.
# energy 53,760*200 + 107,520*6 + 18,841,600*0.1 + 4,718,592*1 = 17,999,872 pJ.
# compute on 8 x 8: ceil(32/8) * ceil(16/8) * 9 = 72 cycles x 1,024 positions = 73,728;
# DRAM 107,520 * 1,000 / 25,600 = 4,200 cycles.
ONE_CONV = dict(dram_bytes=107_520, dram_words=53_760, buffer_words=107_520, fills=20_992, drains=32_768,
                writes=32_768, reads=20_992, macs=4_718_592, added_macs=0, rf_accesses=18_841_600,
                compute_cycles=73_728, dram_cycles=4_200, energy_fj=17_999_872_000, latency_cycles=73_728)

# x (2, 8, 8) -> c1 -> c2, 3x3 convs to 4 channels, padding 1, {c1, c2} at 4 x 1 tiles, Tc = 4 (a 4 x 4 array).
# cache: weights 72 + 144 = 216 words; DRAM x 128 + 216 + c2 256 = 600 words. c2 needs of c1 [0,3) [1,5) [3,7)
# [5,8): rho 14; c1's new rows [0,3) [3,5) [5,7) [7,8) need of x [0,4) [2,6) [4,8) [6,8): rho 14; gamma 8.
# reads 2*14*8 + 4*14*8 = 672 + weights 216*4 tiles = 1,536; fills 128 + 216 = 344; drains 256;
# writes 256 + 256 = 512; buffer 2,648. MACs 64*4*18 + 64*4*36 = 13,824; RF 4*13,824 - 512 = 54,784.
# energy 600*200 + 2,648*6 + 54,784*0.1 + 13,824 = 155,190.4 pJ; compute 9 cycles per position per conv
# (ceil(4/4) * ceil(2/4) * 9 and ceil(4/4) * ceil(4/4) * 9): 64*9 + 64*9 = 1,152; DRAM ceil(1,200 * 1,000 /
# 25,600) = 47.
CACHED = dict(dram_bytes=1_200, dram_words=600, buffer_words=2_648, fills=344, drains=256, writes=512,
              reads=1_536, macs=13_824, added_macs=0, rf_accesses=54_784, compute_cycles=1_152, dram_cycles=47,
              energy_fj=155_190_400, latency_cycles=1_152)
# recompute: c1 computes all of [0,3) [1,5) [3,7) [5,8): 6 rows again, +4*8*6 = 192 outputs, +192*18 = 3,456
# MACs; x needed [0,4) [0,6) [2,8) [4,8): rho 20, 12 rows again from DRAM: 2*8*12 = 192 words. DRAM 792 words;
# fills 320 + 216 = 536; drains 256; writes 512 + 192 = 704; reads 2*20*8 + 4*14*8 + 864 = 1,632; buffer 3,128.
# MACs 17,280; RF 4*17,280 - 704 = 68,416. energy 792*200 + 3,128*6 + 68,416*0.1 + 17,280 = 201,289.6 pJ;
# compute 1,152 + 48 recomputed positions * 9 = 1,584; DRAM ceil(1,584 * 1,000 / 25,600) = ceil(61.9) = 62.
RECOMPUTED = dict(dram_bytes=1_584, dram_words=792, buffer_words=3_128, fills=536, drains=256, writes=704,
                  reads=1_632, macs=17_280, added_macs=3_456, rf_accesses=68_416, compute_cycles=1_584,
                  dram_cycles=62, energy_fj=201_289_600, latency_cycles=1_584)


def chain() -> oo.Instance:
    return make_instance([
        {"name": "x", "op": "input", "shape": [2, 8, 8]},
        {"name": "c1", "op": "conv", "inputs": ["x"], "channels": 4, "kernel": 3, "padding": 1},
        {"name": "c2", "op": "conv", "inputs": ["c1"], "channels": 4, "kernel": 3, "padding": 1},
    ], 1 << 20, tc=4)


def both(inst: oo.Instance, names: Sequence[str], tiling) -> tuple[dict, dict]:
    """(package, oracle) figures of one tiling of a group."""
    members = ids(inst, names)
    return as_dict(CostModel(inst).figures(members, tiling)), as_dict(eo.of_tiling(inst, members, tiling))


def test_one_conv(example):
    cm = CostModel(example)
    best = cm.best_tiling(ids(example, ["c1"]))
    assert (best.strips, best.batch_block, best.resident) == (1, 1, True)
    assert both(example, ["c1"], best) == (ONE_CONV, ONE_CONV)
    under_tiles = tiles(example)
    one_tile = CostModel(under_tiles).tiling(ids(under_tiles, ["c1"]), 1, 1, best.reduced, tile_cols=1, halo="cache")
    assert both(under_tiles, ["c1"], one_tile) == (ONE_CONV, ONE_CONV)
    # the breakdown adds up: DRAM 10,752,000 pJ, buffer 645,120, RF 1,884,160, MACs 4,718,592
    assert cm.figures(ids(example, ["c1"]), best).breakdown_fj(cm) == {
        "dram": 10_752_000_000, "buffer": 645_120_000, "rf": 1_884_160_000, "mac": 4_718_592_000}


@pytest.mark.parametrize("halo, expected", [("cache", CACHED), ("recompute", RECOMPUTED)])
def test_cached_and_recomputed_rows(halo, expected):
    inst = tiles(chain())
    tiling = CostModel(inst).tiling(ids(inst, ["c1", "c2"]), 4, tile_cols=1, halo=halo)
    assert tiling.resident
    assert both(inst, ["c1", "c2"], tiling) == (expected, expected)


def test_strips_have_the_figures_of_cache():
    inst = chain()
    tiling = CostModel(inst).tiling(ids(inst, ["c1", "c2"]), 4)
    assert both(inst, ["c1", "c2"], tiling) == (CACHED, CACHED)


# The spec network at 32 KiB under tiles (energy.md §6): per objective, the value every exact solver proves and
# the other figures of the schedule the page names (DRAM optimum {c1, c2} recomputed, 589,824 MACs added,
# 98,223,379.8 pJ; energy optimum 482,836 B without recompute, 95,163,667.8 pJ, 462,880 cycles).
OPTIMA = {"dram": 425_492, "energy": 95_163_667_800, "latency": 462_880}


@pytest.fixture(scope="module")
def optima(example32) -> dict[tuple[str, str], oo.Schedule]:
    return {(objective, solver): oo.solve(example32, solver, objective=objective)
            for objective in OPTIMA for solver in EXACT}


@pytest.mark.parametrize("objective", list(OPTIMA))
def test_exact_solvers_agree_on_each_objective(example32, optima, objective):
    for solver in EXACT:
        sched = optima[objective, solver]
        assert (sched.status, sched.objective, sched.value, sched.bound) == \
            ("optimal", objective, OPTIMA[objective], OPTIMA[objective]), solver
        # the schedule's figures are the sums of its groups', as the oracle counts them
        ev = oo.evaluate(example32, sched)
        groups = [ids(example32, g.layers) for g in sched.groups]
        total = [eo.of_tiling(example32, g, t) for g, t in zip(groups, ev.tilings)]
        assert (sched.energy_fj, sched.latency_cycles) == (sum(f.energy_fj for f in total),
                                                           sum(f.latency_cycles for f in total))
    dram, energy = optima["dram", "cpsat"], optima["energy", "cpsat"]
    assert (dram.dram_bytes, dram.energy_fj, dram.added_macs) == (425_492, 98_223_379_800, 589_824)
    assert (energy.dram_bytes, energy.energy_fj, energy.added_macs, energy.latency_cycles) == \
        (482_836, 95_163_667_800, 0, 462_880)


def test_each_objective_trades_dram_for_its_own_figure(optima):
    dram = optima["dram", "exact-dp"]
    for objective, field in (("energy", "energy_fj"), ("latency", "latency_cycles")):
        best = optima[objective, "exact-dp"]
        assert getattr(best, field) <= getattr(dram, field)
        assert best.dram_bytes >= dram.dram_bytes
    assert optima["energy", "exact-dp"].energy_fj < dram.energy_fj  # strictly, here


def test_evaluate_recomputes_energy_and_latency(example32, optima):
    sched = optima["energy", "milp"]
    ev = oo.evaluate(example32, sched)
    assert (ev.schedule.energy_fj, ev.schedule.latency_cycles, ev.figures.energy_fj) == \
        (sched.energy_fj, sched.latency_cycles, sched.energy_fj)
    assert [g.energy_fj for g in ev.schedule.groups] == [g.energy_fj for g in sched.groups]
    edited = dataclasses.replace(sched, energy_fj=sched.energy_fj + 1)
    with pytest.raises(ScheduleError) as err:
        oo.evaluate(example32, edited)
    assert err.value.kind == "mismatch"
    assert err.value.message == f"energy_fj says {sched.energy_fj + 1} but the groups cost {sched.energy_fj}"
    groups = list(sched.groups)
    groups[1] = dataclasses.replace(groups[1], latency_cycles=groups[1].latency_cycles - 1)
    with pytest.raises(ScheduleError) as err:
        oo.evaluate(example32, dataclasses.replace(sched, groups=tuple(groups)))
    assert (err.value.kind, err.value.group) == ("mismatch", 1)
    assert err.value.message.startswith("latency_cycles says")


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(max_layers=6))
def test_objectives_on_random_instances(inst):
    found = {objective: oo.solve(inst, "exact-dp", objective=objective) for objective in OPTIMA}
    if found["dram"].status == "infeasible":
        assert {s.status for s in found.values()} == {"infeasible"}
        return
    assert {s.status for s in found.values()} == {"optimal"}
    dram = found["dram"]
    for objective, field in (("energy", "energy_fj"), ("latency", "latency_cycles")):
        assert getattr(found[objective], field) <= getattr(dram, field)
        assert found[objective].dram_bytes >= dram.dram_bytes
        ev = oo.evaluate(inst, found[objective])
        assert (ev.schedule.energy_fj, ev.schedule.latency_cycles) == \
            (found[objective].energy_fj, found[objective].latency_cycles)


# -- the package against the oracle ------------------------------------------------------------------------------

def _tilings(cm: CostModel, members: list[int], data) -> list:
    """The group's best tiling, its frontier, and drawn tilings that fit: two (Q_r, Q_c, P, b), each under both
    halo modes."""
    best = cm.best_tiling(members)
    if best is None:
        return []
    found = [best, *cm.frontier(members, METRICS)]
    net, inst = cm.network, cm.instance
    tensors = set(members) | {p for u in members for p in net.producers[u]}
    tall, wide = max(net.shapes[v][1] for v in tensors), max(net.shapes[v][2] for v in tensors)
    single = len(members) == 1 and net.layers[members[0]].op in ("conv", "fc") and net.weights[members[0]] > 0
    for _ in range(2):
        q_r = data.draw(st.integers(1, tall))
        options = [{}]
        if inst.accelerator.tiling == "tiles":
            q_c = data.draw(st.integers(1, wide))
            passes = data.draw(st.sampled_from([1, 2])) if single else 1
            options = [dict(tile_cols=q_c, halo=halo, passes=passes) for halo in ("cache", "recompute")]
            if q_r == q_c == 1 and passes == 1:
                options[0]["batch_block"] = data.draw(st.integers(1, inst.batch))
        for kw in options:
            try:
                found.append(cm.tiling(members, q_r, **kw))
            except ValueError:
                pass  # does not fit, or out of range
    return found


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(max_layers=7), st.data())
def test_package_figures_equal_the_oracle(inst, data):
    """Valid groups (those of the layerwise and exact-dp schedules, the latter also at 4 times the buffer, where
    groups are larger, and the whole network when it is one valid group), each under both tiling models and both
    weight stagings, at the drawn buffer and at 16 MiB (where deep groups recompute), and a few tilings
    of each (best, frontier, drawn): every figure of the package equals the oracle's."""
    larger = inst.with_overrides(buffer_bytes=4 * inst.accelerator.buffer_bytes)
    groups = {tuple(ids(inst, g.layers)) for at, solver in ((inst, "layerwise"), (inst, "exact-dp"),
                                                               (larger, "exact-dp"))
              for g in oo.solve(at, solver).groups}
    try:
        check_structure(inst, [list(inst.network.layer_ids)])
        groups.add(tuple(inst.network.layer_ids))
    except ScheduleError:
        pass
    buffers = (inst.accelerator.buffer_bytes, 1 << 24)
    for tiling, staging, buffer in itertools.product(("strips", "tiles"), ("block", "none"), buffers):
        acc = dataclasses.replace(inst.accelerator, tiling=tiling, halo="choose", weight_staging=staging,
                                  buffer_bytes=buffer)
        variant = dataclasses.replace(inst, accelerator=acc)
        cm = CostModel(variant)
        for members in sorted(groups):
            for t in _tilings(cm, list(members), data):
                package, oracle = as_dict(cm.figures(members, t)), as_dict(eo.of_tiling(variant, members, t))
                assert package == oracle, (tiling, staging, members, t)


def _add_of_a_concat() -> oo.Instance:
    # s = add(x, concat(y, z)): two operands as written, three tensors in the resolved graph
    return make_instance([
        {"name": "x", "op": "input", "shape": [2, 1, 1]},
        {"name": "y", "op": "input", "shape": [1, 1, 1]},
        {"name": "z", "op": "input", "shape": [1, 1, 1]},
        {"name": "cat", "op": "concat", "inputs": ["y", "z"]},
        {"name": "s", "op": "add", "inputs": ["x", "cat"]},
    ], 1024)


def test_add_cycles_of_the_oracle():
    # the oracle's reading of energy.md §3, by hand: s adds two operands of 2 channels, on an 8 x 8 array
    # ceil(2/8) * (2 - 1) = 1 cycle at its one position; reads x, y, z (4 words), writes s (2): 12 B, 1 DRAM cycle
    inst = _add_of_a_concat()
    tiling = CostModel(inst).best_tiling(ids(inst, ["s"]))
    figures = eo.of_tiling(inst, ids(inst, ["s"]), tiling)
    assert (figures.compute_cycles, figures.dram_cycles, figures.latency_cycles) == (1, 1, 1)


def test_add_cycles_count_written_operands():
    # energy.md §3: the operands as written, a concat being one and a repeated input counting again
    inst = _add_of_a_concat()
    cm = CostModel(inst)
    assert cm.figures(ids(inst, ["s"]), cm.best_tiling(ids(inst, ["s"]))).compute_cycles == 1
    triple = make_instance([{"name": "x", "op": "input", "shape": [2, 1, 1]},
                            {"name": "s", "op": "add", "inputs": ["x", "x", "x"]}], 1024)
    cm = CostModel(triple)
    assert cm.figures(ids(triple, ["s"]), cm.best_tiling(ids(triple, ["s"]))).compute_cycles == 2


# -- budgets -----------------------------------------------------------------------------------------------------

def _set_partitions(items: list[int]):
    """Every set partition of ``items`` (Bell(9) = 21,147 of the spec network's 9 layers), as lists of blocks."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in _set_partitions(rest):
        yield [[first], *part]
        for k in range(len(part)):
            yield [*part[:k], [first, *part[k]], *part[k + 1:]]


def _in_order(inst: oo.Instance, blocks: list[list[int]]) -> list[list[int]] | None:
    """The blocks in an order in which each reads only network inputs and earlier blocks, or None."""
    net, done, out, left = inst.network, set(inst.network.input_ids), [], [set(b) for b in blocks]
    while left:
        ready = next((b for b in left if all(p in done or p in b for u in b for p in net.producers[u])), None)
        if ready is None:
            return None
        out.append(sorted(ready))
        done |= ready
        left.remove(ready)
    return out


@pytest.fixture(scope="module")
def every_schedule(example32) -> tuple[list[list[list[int]]], dict]:
    """Every valid schedule of the spec network (all set partitions of its 9 layers, checked by check_structure)
    and every group's frontier tilings over all four metrics."""
    schedules = []
    for blocks in _set_partitions(list(example32.network.layer_ids)):
        order = _in_order(example32, blocks)
        if order is None:
            continue
        try:
            check_structure(example32, order)
        except ScheduleError:
            continue
        schedules.append(order)
    cm = CostModel(example32)
    fronts = {tuple(g): cm.frontier(g, METRICS) for s in schedules for g in s}
    return schedules, fronts


def brute_force(every_schedule, objective: str, budget: str, limit: int) -> int | None:
    """The least sum of ``objective`` over every schedule and every choice of a frontier tiling per group whose
    ``budget`` sums to at most ``limit`` (a knapsack over each schedule's groups)."""
    schedules, fronts = every_schedule
    best = None
    for schedule in schedules:
        spent = {0: 0}  # budget used -> least objective so far
        for g in schedule:
            nxt: dict[int, int] = {}
            for used, value in spent.items():
                for t in fronts[tuple(g)]:
                    u, v = used + getattr(t, budget), value + getattr(t, objective)
                    if u <= limit and v < nxt.get(u, v + 1):
                        nxt[u] = v
            spent = nxt
        if spent:
            best = min(spent.values()) if best is None else min(best, *spent.values())
    return best


def test_no_recompute_budget_gives_the_cache_optimum(example32):
    found = [oo.solve(example32, solver, max_recompute=0) for solver in ("cpsat", "milp")]
    assert [(s.status, s.dram_bytes, s.added_macs) for s in found] == [("optimal", 482_836, 0)] * 2
    assert found[0].solver_info["budgets"] == {"max_recompute": 0}


# max_recompute: the recompute front of the spec network is (589,824 MACs, 425,492 B), (0, 482,836 B), so any
# budget below 589,824 keeps the cache optimum. max_latency 470 us = 470,000 cycles at 1 GHz lies between the
# compute-bound latency without recompute (462,880) and that of the DRAM optimum (472,096), whose recompute it
# forbids. Least energy
# within 450,000 B (the brute force's number): 96,058,131.8 pJ at 429,588 B, which recomputes 884,736 MACs and
# beats the DRAM optimum's 98,223,379.8 pJ, so a budget makes groups take tilings that are not their DRAM best.
@pytest.mark.parametrize("objective, budget, limit, option, expected", [
    ("dram", "added_macs", 0, {"max_recompute": 0}, 482_836),
    ("dram", "added_macs", 100_000, {"max_recompute": 100_000}, 482_836),
    ("dram", "added_macs", 600_000, {"max_recompute": 600_000}, 425_492),
    ("dram", "latency_cycles", 470_000, {"max_latency": "470us"}, 482_836),
    ("dram", "latency_cycles", 472_096, {"max_latency": 472_096}, 425_492),
    ("energy", "dram_bytes", 450_000, {"max_dram": 450_000}, 96_058_131_800),
])
def test_budgets_equal_the_brute_force(example32, every_schedule, objective, budget, limit, option, expected):
    field = {"dram": "dram_bytes", "energy": "energy_fj"}[objective]
    optimum = brute_force(every_schedule, field, budget, limit)
    assert optimum == expected
    for solver in ("cpsat", "milp"):
        sched = oo.solve(example32, solver, objective=objective, **option)
        assert (sched.status, sched.value) == ("optimal", optimum), solver
        assert getattr(sched, budget) <= limit


def test_solvers_without_budgets_refuse_them(example32):
    refused = [name for name in solvers.registered() if not solvers.capabilities(name).budgets
               and solvers.capabilities(name).is_available()]
    assert {"exact-dp", "layerwise", "optimus", "auto"} <= set(refused)
    for name in refused:
        with pytest.raises(SolverError) as err:
            oo.solve(example32, name, max_recompute=0)
        assert str(err.value) == (f"solver '{name}' cannot keep budgets (max-recompute 0 added MACs): they couple "
                                  "the groups' tilings, which only cpsat and milp choose inside their model")


def test_budgets_for_parses_and_refuses(example32):
    # own MACs of the spec network (N = 1): c1 4,718,592 + c2, c3 9,437,184 each + c4 524,288 + c5 4,718,592
    # + fc 1,280 = 28,837,120; 5 % of it is 1,441,856
    b = solvers.budgets_for(example32, max_recompute="5%", max_dram="40MiB", max_latency="2.5ms")
    assert (b.max_recompute, b.max_dram, b.max_latency) == (1_441_856, 40 * 2 ** 20, 2_500_000)
    assert solvers.budgets_for(example32, max_latency="300us").max_latency == 300_000
    b = solvers.budgets_for(example32, max_recompute="1200", max_dram="1200", max_latency="1200")
    assert (b.max_recompute, b.max_dram, b.max_latency) == (1200, 1200, 1200)
    for option in ("max_recompute", "max_dram", "max_latency"):
        for bad in ("abc", "-1", -1):
            with pytest.raises(SolverError, match=f"^{option}: .*{bad}"):
                solvers.budgets_for(example32, **{option: bad})
    with pytest.raises(SolverError, match=r"^max_latency: a number of cycles is whole, got '2\.5'"):
        solvers.budgets_for(example32, max_latency="2.5")


# -- accelerator constants ---------------------------------------------------------------------------------------

CONSTANTS = {"dram_pj": 150, "buffer_pj": 5.5, "rf_pj": 0.25, "mac_pj": 0.5, "clock_mhz": 800, "dram_mbps": 12_800}


@pytest.mark.parametrize("value", [0.0001, -1, "x"])
def test_bad_energy_constant_is_refused(value):
    with pytest.raises(InstanceError, match="at most three decimals") as err:
        Accelerator(buffer_bytes=65_536, rf_pj=value)
    assert err.value.field == "accelerator.rf_pj"


def test_constants_round_trip_and_load(example, tmp_path):
    acc = Accelerator(buffer_bytes=65_536, pe_array=(16, 8), **CONSTANTS)
    d = acc.to_dict()
    assert {k: d[k] for k in CONSTANTS} == CONSTANTS and d["pe_array"] == [16, 8]
    assert Accelerator.from_dict(d) == acc
    assert acc.energy_fj() == {"dram_pj": 150_000, "buffer_pj": 5_500, "rf_pj": 250, "mac_pj": 500}
    assert not set(CONSTANTS) & set(Accelerator(buffer_bytes=65_536).to_dict())
    assert not set(CONSTANTS) & set(example.to_dict()["accelerator"])
    doc = json.loads((ROOT / "instances" / "example-64k.json").read_text())
    doc["accelerator"].update(CONSTANTS, pe_array=[16, 8])
    path = tmp_path / "constants.json"
    path.write_text(json.dumps(doc))
    inst = oo.load_instance(path)
    assert inst.accelerator == dataclasses.replace(example.accelerator, pe_array=(16, 8), **CONSTANTS)
    # {c1} of §6 with these constants: energy 53,760*150 + 107,520*5.5 + 18,841,600*0.25 + 4,718,592*0.5 =
    # 15,725,056 pJ; compute on 16 x 8: ceil(32/8) * ceil(16/16) * 9 = 36 cycles x 1,024 = 36,864; DRAM
    # 107,520 * 800 / 12,800 = 6,720 cycles
    cm = CostModel(inst)
    c1 = ids(inst, ["c1"])
    tiling = cm.best_tiling(c1)
    for figures in (cm.figures(c1, tiling), eo.of_tiling(inst, c1, tiling)):
        assert (figures.energy_fj, figures.compute_cycles, figures.dram_cycles) == (15_725_056_000, 36_864, 6_720)
    doc["accelerator"]["rf_pj"] = 0.0001
    path.write_text(json.dumps(doc))
    with pytest.raises(InstanceError) as err:
        oo.load_instance(path)
    assert err.value.field == "accelerator.rf_pj" and str(path) in str(err.value)
