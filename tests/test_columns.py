"""Columns on demand (optimus_opt/solvers/columns.py, formulations/columns.md): the Lagrangian bound holds for any
prices, the LP bound never exceeds the optimum, the columns kept hold every optimal schedule, and cpsat and milp
over generated columns prove what they prove over every column.
"""

from __future__ import annotations

import numpy as np
import pytest
from bruteforce import brute_force_optima
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import instances
from test_deadline import run

import optimus_opt as oo
from optimus_opt.cost.candidates import CandidateSpace
from optimus_opt.cost.cost_model import CostModel
from optimus_opt.solvers import columns
from optimus_opt.utils import progress
from optimus_opt.utils.deadline import NEVER

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SQUEEZENET = ROOT / "instances" / "paper" / "squeezenet1_0-optimus-npu-b4.json"


def _pool(inst: oo.Instance) -> columns.Pool:
    cm = CostModel(inst)
    return columns.Pool(cm, CandidateSpace(cm), NEVER)


@SETTINGS
@given(instances(min_layers=2, max_layers=7), st.integers(0, 2**32 - 1))
def test_the_lagrangian_bound_holds_for_any_prices(inst, seed):
    optimum, _ = brute_force_optima(inst)
    if optimum is None:
        return
    pool = _pool(inst)
    pool.tile(range(len(pool)), NEVER)
    rng = np.random.default_rng(seed)
    scale = float(np.nanmax(np.where(np.isfinite(pool.lower), pool.lower, np.nan)))
    for _ in range(5):  # prices from far below to far above any group's cost per layer
        pi = rng.uniform(-1, 2, len(pool.layers)) * scale
        rc = pool.lower - pool.priced(pi)
        assert pi.sum() + pool.shares(rc).sum() <= optimum * (1 + 1e-12)


@SETTINGS
@given(instances(min_layers=2, max_layers=7))
def test_the_lp_bound_is_below_the_optimum_and_the_kept_columns_hold_every_optimum(inst):
    optimum, optima = brute_force_optima(inst)
    pool = _pool(inst)
    lp = columns.relax(pool, NEVER)
    if optimum is None:
        return
    assert lp.solved and not lp.uncovered
    assert lp.bound_bytes() <= optimum and lp.lp_value <= optimum + 1e-6 * optimum
    # untiled candidates were judged by their floors: none of them could have a negative reduced cost
    rc = pool.lower - pool.priced(lp.pi)
    floors = np.array([c.cost_floor for c in pool.candidates], dtype=float)
    assert (rc[~pool.tiled] >= -1e-6 * max(1.0, float(np.median(floors)))).all()
    keep = {pool.candidates[k].mask for k in columns.kept(pool, lp, optimum, NEVER)}
    for schedule in optima:
        for group in schedule:
            assert sum(1 << u for u in group) in keep


@SETTINGS
@given(instances(min_layers=2, max_layers=9))
def test_generated_columns_prove_what_every_column_proves(inst):
    for solver in ("cpsat", "milp"):
        generated, every = oo.solve(inst, solver), oo.solve(inst, solver, columns="all")
        assert generated.status == every.status, solver
        assert generated.dram_bytes == every.dram_bytes, solver
        if generated.status == "optimal":
            assert generated.solver_info["lp_bound"] <= generated.dram_bytes


def test_squeezenet_lp_is_integral_and_few_candidates_are_tiled():
    inst = oo.load_instance(SQUEEZENET)
    optimum = oo.solve(inst, "exact-dp").dram_bytes
    for solver in ("cpsat", "milp"):
        s = oo.solve(inst, solver)
        info = s.solver_info
        assert (s.status, s.dram_bytes, info["lp_bound"]) == ("optimal", optimum, optimum) == (
            "optimal", 34_120_864, 34_120_864)
        assert info["columns"] < info["candidates"] and info["candidates_tiled"] <= info["candidates"]


def test_an_unknown_columns_option_is_refused(example):
    with pytest.raises(oo.SolverError, match="columns='some'"):
        oo.solve(example, "cpsat", columns="some")


class Heard(progress.Reporter):
    def __init__(self) -> None:
        self.values: dict = {}
        self.phases: list[str] = []

    def phase(self, name: str) -> None:
        self.phases.append(name)

    def update(self, **values) -> None:
        self.values.update(values)


def test_the_progress_line_hears_columns_and_the_lp_bound(example):
    heard = Heard()
    s = oo.solve(example, "cpsat", progress=heard)
    assert heard.phases[:3] == ["enumerating candidate groups", "column generation",
                                "solving the model over the LP's columns"]
    assert heard.values["bound"] == s.solver_info["lp_bound"] and heard.values["columns"] >= 1


@pytest.mark.parametrize("solver", ["cpsat", "milp"])
def test_a_limit_after_the_lp_keeps_its_bound(solver, example):
    # the LP is solved, then the limit passes before the model over its columns is stated: the LP bound stands
    optimum = oo.solve(example, "exact-dp").dram_bytes
    r = run(example, solver, 100, {"over the LP's columns": 95, "segment bound": 3})
    assert "stopped by the time limit" in r.message
    assert r.solver_info["lp_bound"] == optimum == 253_460
    assert r.solver_info["bound"] == "LP relaxation of the candidate columns by column generation"
    assert (r.status, r.bound_bytes) == ("optimal", optimum)  # the optimus schedule meets it
