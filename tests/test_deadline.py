"""One deadline per run (optimus_opt/utils/deadline.py): every phase draws on it, the back-ends get only what is
left, and an exact solver keeps a share of it for its fallback heuristics.

No test here waits: a fake clock moves when a phase starts (a reporter hears the phase names), so the tests say
exactly where time ran out and assert what each phase did about it.
"""

from __future__ import annotations

import dataclasses

import pytest
from conftest import ROOT
from helpers import FakeClock

import optimus_opt as oo
from optimus_opt.cost.candidates import CandidateSpace
from optimus_opt.solvers import anytime, get, windows
from optimus_opt.solvers.anytime import FALLBACK_SHARE
from optimus_opt.solvers.base import SolveOptions
from optimus_opt.solvers.diagnose import least_buffer
from optimus_opt.solvers.pareto import pareto_front
from optimus_opt.solvers.setpartition import build_model
from optimus_opt.utils import progress
from optimus_opt.utils.deadline import NEVER, Deadline, OutOfTime

#: Efficient-S beats the Optimus recursion here (tests/test_pruning.py): a stopped solver returns its schedule.
SQUEEZENET = ROOT / "instances" / "paper" / "squeezenet1_0-optimus-npu-b4.json"



class Jumps(progress.Reporter):
    """Moves ``clock`` forward by ``seconds`` when a phase (or solver) whose name contains ``text`` starts, once
    per entry of ``jumps`` (text → seconds)."""

    def __init__(self, clock: FakeClock, jumps: dict[str, float]) -> None:
        self.clock, self.jumps = clock, dict(jumps)

    def _heard(self, name: str) -> None:
        for text in [t for t in self.jumps if t in name]:
            self.clock.now += self.jumps.pop(text)

    def phase(self, name: str) -> None:
        self._heard(name)

    def solver(self, name: str) -> None:
        self._heard(name)


def run(instance: oo.Instance, solver: str, limit: float | None, jumps: dict[str, float], **extra):
    """Solve with a ``limit`` on a fake clock that jumps as ``jumps`` says."""
    clock = FakeClock()
    options = SolveOptions(time_limit=limit, extra=extra, progress=Jumps(clock, jumps),
                           deadline=Deadline.after(limit, clock=clock))
    return get(solver).solve(instance, options)


# -- the deadline itself ---------------------------------------------------------------------------------------

def test_deadline_counts_down_on_its_clock():
    clock = FakeClock()
    d = Deadline.after(10, clock=clock)
    assert (d.left(), d.expired(), d.budget()) == (10.0, False, 10.0)
    clock.now = 10.0
    assert (d.left(), d.expired(), d.budget()) == (0.0, True, 0.01)  # a back-end never gets 0 (read as no limit)
    with pytest.raises(OutOfTime, match="tiling"):
        d.check("tiling")
    assert NEVER.left() is None and not NEVER.expired() and NEVER.budget() is None and not NEVER.bounded
    NEVER.check("anything")


def test_a_stage_never_outlives_its_run():
    clock = FakeClock()
    d = Deadline.after(10, clock=clock)
    clock.now = 2.0
    assert d.sub(share=0.5).end == 6.0 and d.sub(3).end == 5.0 and d.sub(30).end == 10.0 and d.sub().end == 10.0
    assert Deadline.after(None, clock=clock).sub(30).end == 32.0 and NEVER.sub(share=0.5).end is None
    with pytest.raises(ValueError):
        d.sub(1, share=0.5)


def test_options_start_their_deadline_where_the_limit_enters():
    options = SolveOptions(time_limit=5)
    assert options.deadline.bounded and 4.0 < options.deadline.left() <= 5.0
    assert not SolveOptions().deadline.bounded
    again = dataclasses.replace(options, seed=3)
    assert again.deadline is options.deadline  # a stage's options draw on the same deadline
    assert SolveOptions(time_limit=5) == options  # the deadline is no part of a run's identity


# -- every phase draws on it -----------------------------------------------------------------------------------

def test_enumeration_and_model_building_stop_at_the_deadline():
    cm = oo.CostModel(oo.load_instance(SQUEEZENET))
    passed = Deadline(end=0.0, clock=FakeClock())
    space = CandidateSpace(cm)
    assert space.complete and not CandidateSpace(cm, deadline=passed).complete
    for all_tilings in (False, True):
        with pytest.raises(OutOfTime, match="tiling the"):
            build_model(cm, space, all_tilings=all_tilings, deadline=passed)


@pytest.mark.parametrize("solver", ["cpsat", "milp"])
def test_a_limit_passed_while_tiling_stops_the_model(solver, example):
    r = run(example, solver, 100, {"tiling the candidate groups": 95}, columns="all")
    assert r.groups and "columns" not in r.solver_info and "time limit while tiling the" in r.message
    # in the 5 s left the segment bound (one window of the example's 9 layers) reaches the optimum, which the
    # optimus schedule meets: the stopped solver still proves it, with nothing to refine
    assert (r.status, r.dram_bytes, r.bound_bytes) == ("optimal", 253_460, 253_460)
    assert r.solver_info["incumbent"] == "optimus" and r.solver_info["segment_bound_bytes"] == 253_460
    assert r.solver_info["bound"] == "segment bound: 1 of 1 windows solved exactly (formulations/segment-bound.md)"
    # when the segment bound's share of the time passes before it starts (its windows then count only their
    # compulsory traffic), the window refinement proves it: one window holds the whole network
    r = run(example, solver, 100, {"tiling the candidate groups": 95, "segment bound": 3}, columns="all")
    assert (r.status, r.dram_bytes, r.bound_bytes) == ("optimal", 253_460, 253_460)
    assert r.solver_info["segments_finished"] == 0 and r.solver_info["incumbent"] == "optimus + refine"
    assert r.solver_info["bound"] == "window refinement: one window held the whole network"


@pytest.mark.parametrize("solver, stated", [("cpsat", "CP-SAT"), ("milp", "HiGHS")])
def test_the_back_end_gets_only_what_is_left(solver, stated, example):
    # half the limit goes by between building the columns and stating the model: the back-end gets the rest of the
    # exact phase (the limit less the fallback's share), not the limit as it stood before the model was built
    r = run(example, solver, 100, {"solving the set-partitioning model": 50}, columns="all")
    assert r.status == "optimal"
    assert r.solver_info["backend_time_limit_s"] == pytest.approx(100 * (1 - FALLBACK_SHARE) - 50)
    # past the deadline by then, the back-end is not started at all (milp once gave HiGHS 0.01 s and solved on)
    r = run(example, solver, 100, {"solving the set-partitioning model": 95}, columns="all")
    assert r.groups and f"time limit while stating the {stated} model" in r.message
    assert "backend_time_limit_s" not in r.solver_info and f"{solver}_status" not in r.solver_info
    assert "highs_status" not in r.solver_info
    # the proof comes from the fallback (the segment bound), not from the back-end
    assert r.status == "optimal" and r.solver_info["bound"].startswith("segment bound")


# -- the fallback's share --------------------------------------------------------------------------------------

@pytest.mark.parametrize("solver, phase", [("exact-dp", "dynamic program"), ("cpsat", "column generation"),
                                           ("milp", "column generation")])
def test_a_stopped_exact_solver_leaves_its_fallback_time_within_the_limit(solver, phase, monkeypatch):
    """95 s of a 100 s limit gone before the exact work: the exact phase ended at 90 s, so the solver stops and
    the heuristics run in the 10 s kept for them, then the window refinement of their best schedule. On the fake
    clock no time passes while it runs, so its windows widen until one holds SqueezeNet's 26 layers: the stopped
    solver proves the optimum after all."""
    inst = oo.load_instance(SQUEEZENET)
    r = run(inst, solver, 100, {phase: 95, "segment bound": 3})  # past the segment bound's share (2.5 s)
    assert r.status == "optimal" and "stopped by the time limit" in r.message, (r.status, r.message)
    assert r.solver_info["fallback_reserve_s"] == pytest.approx(100 * FALLBACK_SHARE)
    assert r.solver_info["incumbent"] == "greedy-merge + refine" and r.solver_info["fallback_seconds"] >= 0
    assert r.dram_bytes == r.bound_bytes == oo.solve(inst, "exact-dp").dram_bytes
    assert r.solver_info["time_limit_s"] == 100
    # when the deadline stops the refinement in its first window, the heuristic's schedule is kept, with the
    # compulsory bound
    monkeypatch.setattr(anytime, "refine", lambda cm, groups, deadline, **kw: windows.Refinement(
        groups=tuple(groups), proven=False, stopped=True, windows=0, improved=0, widest=0, seconds=0.0))
    r = run(inst, solver, 100, {phase: 95, "segment bound": 3})
    assert r.status == "feasible" and r.solver_info["incumbent"] == "greedy-merge"
    assert r.dram_bytes == oo.solve(inst, "greedy-merge").dram_bytes
    assert r.bound_bytes == oo.CostModel(inst).compulsory_bytes() < r.dram_bytes


def test_no_share_is_kept_when_no_fallback_can_run():
    inst = oo.load_instance(SQUEEZENET)
    optimum = oo.solve(inst, "exact-dp")
    # without the fallback, or without a limit, the exact phase has the whole deadline: 5 s left suffice
    r = run(inst, "exact-dp", 100, {"dynamic program": 95}, anytime=False)
    assert (r.status, r.dram_bytes) == ("optimal", optimum.dram_bytes) and "fallback_reserve_s" not in r.solver_info
    r = run(inst, "exact-dp", None, {"dynamic program": 1e9})
    assert (r.status, r.dram_bytes) == ("optimal", optimum.dram_bytes) and "fallback_reserve_s" not in r.solver_info
    assert r.groups == optimum.groups  # the same schedule as a run without any clock


# -- auto, pareto and the diagnosis draw on one deadline --------------------------------------------------------

HEURISTIC_NAMES = ["optimus", "efficient-s", "greedy-merge"]


def test_auto_gives_its_exact_stage_only_what_the_heuristic_left(example):
    # the first heuristic took 9.8 s of 10: the others still run, but too little is left to start the exact solver
    r = run(example, "auto", 10, {"growing groups": 9.8})
    assert r.status == "feasible" and [p["solver"] for p in r.solver_info["phases"]] == HEURISTIC_NAMES
    assert "left no time" in r.message
    # past the limit after the first heuristic (which found a schedule): nothing else runs
    r = run(example, "auto", 10, {"growing groups": 10.5})
    assert r.status == "feasible" and [p["solver"] for p in r.solver_info["phases"]] == ["optimus"]
    # with no limit given, auto's default limit is counted from the same start
    r = run(example, "auto", None, {"growing groups": 29.8})
    assert [p["solver"] for p in r.solver_info["phases"]] == HEURISTIC_NAMES


def test_pareto_spends_one_limit_on_enumeration_and_tilings(example):
    clock = FakeClock()
    deadline = Deadline.after(10, clock=clock)
    # enumeration ate 11 s of 10: the tilings have none left (the sweep once started a fresh limit here)
    with pytest.raises(oo.SolverError, match="listing the tilings"):
        pareto_front(example, 16 * 1024, 64 * 1024, time_limit=10, deadline=deadline,
                     reporter=Jumps(clock, {"enumerating": 11}))
    clock = FakeClock()
    front = pareto_front(example, 16 * 1024, 64 * 1024, time_limit=10, deadline=Deadline.after(10, clock=clock),
                         reporter=Jumps(clock, {"the optimum at": 11}))
    assert not front.complete and not front.points


def test_least_buffer_brackets_what_it_cannot_prove_in_time():
    inst = oo.load_instance(SQUEEZENET)
    proven = least_buffer(inst, time_limit=None)
    stopped = least_buffer(inst, deadline=Deadline(end=0.0, clock=FakeClock()))
    assert stopped.low <= (proven.least or proven.low) <= stopped.high


def test_milp_switches_off_the_presolve_that_ignores_its_limit_on_large_models(example, monkeypatch):
    """HiGHS's presolve does not look at the time limit (202 s of a 10 s limit on 7 million nonzeros): above
    PRESOLVE_MAX_NONZEROS it is off; below, the model is solved as before."""
    from optimus_opt.solvers import milp

    before = oo.solve(example, "milp")
    assert "highs_presolve" not in before.solver_info
    assert 0 < before.solver_info["nonzeros"] < milp.PRESOLVE_MAX_NONZEROS
    monkeypatch.setattr(milp, "PRESOLVE_MAX_NONZEROS", 0)
    after = oo.solve(example, "milp")
    assert after.solver_info["highs_presolve"] == "off"
    assert (after.status, after.dram_bytes) == ("optimal", before.dram_bytes)


def test_the_fallback_reserve_grows_with_the_network():
    """10 % of what is left, but at least 8 ms per layer (the heuristics take 3.1 s on NASNet-A Mobile's 498 layers
    at 128 KiB) and at most half of what is left."""
    from optimus_opt.solvers.anytime import exact_phase

    def reserve(limit: float, layers: int) -> float:
        clock = FakeClock()
        options = SolveOptions(time_limit=limit, deadline=Deadline.after(limit, clock=clock))
        deadline, info = exact_phase(options, layers)
        assert deadline.left() == pytest.approx(limit - info["fallback_reserve_s"])
        return info["fallback_reserve_s"]

    assert reserve(100, 498) == pytest.approx(10.0)  # 10 % is more than 3.984 s
    assert reserve(10, 498) == pytest.approx(3.984)  # 10 % (1 s) would not hold the heuristics
    assert reserve(4, 498) == pytest.approx(2.0)  # never more than half
    assert reserve(10, 30) == pytest.approx(1.0)
