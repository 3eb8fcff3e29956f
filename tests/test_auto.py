"""``auto``'s phases (issue 27): when its exact phase stops without a proof, the window refinement improves the best
schedule so far, and the time left after the heuristics is split as stated: :data:`~optimus_opt.solvers.auto.
EXACT_SHARE` (two thirds) for the exact solver, the rest for the refinement.

No test waits or depends on the machine's speed: a fake clock moves only when a phase starts (the heuristics'
time), and a fake exact solver stands in for cpsat, records the deadline it is given, spends it all and returns a
schedule that is valid but not optimal. The other tests of ``auto`` (its default, its bound, the heuristics it
starts from) are in tests/test_newcomer.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import FakeClock

import optimus_opt as oo
from optimus_opt.cost.cost_model import CostModel
from optimus_opt.solvers import anytime, auto
from optimus_opt.solvers.base import SolveOptions, Solver, SolverResult
from optimus_opt.utils import progress
from optimus_opt.utils.deadline import Deadline

ROOT = Path(__file__).resolve().parents[1]
SQUEEZENET = ROOT / "instances" / "paper" / "squeezenet1_0-optimus-npu-b4.json"
#: SqueezeNet 1.0 in the paper's setting: the optimum (tests/test_studies.py), Efficient-S's schedule, the better
#: heuristic one (tests/test_pruning.py), and the compulsory traffic.
OPTIMUM, EFFICIENT_S, COMPULSORY = 34_120_864, 52_860_992, 3_709_072
#: The optimal schedule's first group split in two, {features.0, features.2} then {features.3.squeeze}: 4,478,976 B
#: above the optimum, below both heuristics, so the refinement starts from it.
SPLIT = 38_599_840
LIMIT = 30.0
#: Seconds the two heuristics take on the fake clock, before the exact phase starts.
HEURISTICS = 3.0



class Timeline(progress.Reporter):
    """Hears each solver ``auto`` starts, moves the clock forward by ``jumps[name]`` when it does (the time the
    phase before took), and notes when each started."""

    def __init__(self, clock: FakeClock, jumps: dict[str, float]) -> None:
        self.clock, self.jumps, self.started = clock, jumps, {}

    def solver(self, name: str) -> None:
        key = name.split()[0]
        self.clock.now += self.jumps.get(key, 0.0)
        self.started[key] = self.clock.now


def split_schedule(cm: CostModel) -> list:
    """exact-dp's optimal groups with the first split: a valid schedule of :data:`SPLIT` bytes."""
    ix = cm.instance.network.index
    best = oo.solve(cm.instance, "exact-dp")
    first = list(best.groups[0].layers)
    assert first == ["features.0", "features.2", "features.3.squeeze"]
    names = [first[:2], first[2:]] + [list(g.layers) for g in best.groups[1:]]
    return [(tuple(sorted(ix[n] for n in g)), cm.best_tiling([ix[n] for n in g])) for g in names]


def fake_exact(clock: FakeClock, seen: dict, *, spend: float | None = None) -> type[Solver]:
    """A stand-in for cpsat that records the deadline and the warm start it is given, moves the clock to its own
    deadline (or by ``spend`` seconds) and returns :func:`split_schedule`, feasible, with the compulsory bound."""

    class FakeExact(Solver):
        name = "fake-exact"
        description = "a stopped exact solver"
        space = "all valid schedules"

        @classmethod
        def is_available(cls) -> bool:
            return True

        def search(self, cm: CostModel, options: SolveOptions) -> SolverResult:
            seen.update(left=options.deadline.left(), warm_start=options.extra.get("warm_start"))
            clock.now = options.deadline.end if spend is None else clock.now + spend
            return SolverResult(status="feasible", groups=split_schedule(cm), bound_bytes=COMPULSORY,
                                message="stopped by the time limit")

    return FakeExact


def run_auto(monkeypatch, *, spend: float | None = None):
    """``auto`` on SqueezeNet with a 30 s limit on a fake clock, the heuristics optimus and efficient-s taking 3 s
    (greedy-merge is left out: its 34,493,600 B would be the cheapest start, where these tests need the fake exact
    solver's), the fake exact solver and a refinement that records the deadline it is given; (result, what the fake
    saw, refine's seconds left, timeline)."""
    clock = FakeClock()
    seen: dict = {}
    refine_left: list[float] = []
    real_refine = auto.refine_starts

    def refine(cm, starts, deadline, **kw):
        refine_left.append(deadline.left())
        return real_refine(cm, starts, deadline, **kw)

    monkeypatch.setattr(anytime, "HEURISTICS", ("optimus", "efficient-s"))
    monkeypatch.setattr(auto, "CPSat", fake_exact(clock, seen, spend=spend))
    monkeypatch.setattr(auto, "refine_starts", refine)
    timeline = Timeline(clock, {"efficient-s": 2.0, "fake-exact": HEURISTICS - 2.0})
    options = SolveOptions(time_limit=LIMIT, progress=timeline, deadline=Deadline.after(LIMIT, clock=clock))
    result = auto.Auto().search(CostModel(oo.load_instance(SQUEEZENET)), options)
    return result, seen, refine_left, timeline


def cost(result: SolverResult) -> int:
    return sum(t.cost for _, t in result.groups)


def test_the_refinement_improves_a_stopped_exact_phase(monkeypatch):
    result, seen, refine_left, _ = run_auto(monkeypatch)
    phases = result.info["phases"]
    assert [(p["solver"], p["status"], p["dram_bytes"]) for p in phases] == [
        ("optimus", "feasible", 54_635_968), ("efficient-s", "feasible", EFFICIENT_S),
        ("fake-exact", "feasible", SPLIT), ("refine", "optimal", OPTIMUM)]
    # the exact phase was warm-started from the better heuristic; the refinement started from the better of the
    # heuristic's and the exact phase's schedules (the exact one), and its last window held the whole network
    assert seen["warm_start"].solver == "efficient-s"
    assert phases[3]["start"] == "fake-exact" and len(refine_left) == 1
    assert result.info["chosen"] == "fake-exact + refine"
    assert (result.status, cost(result), result.bound_bytes) == ("optimal", OPTIMUM, OPTIMUM)


def test_the_exact_phase_has_two_thirds_of_the_time_the_heuristics_left(monkeypatch):
    result, seen, refine_left, timeline = run_auto(monkeypatch)
    assert timeline.started["fake-exact"] == HEURISTICS
    # 27 s were left after the heuristics: the exact solver's deadline was 18 s away, the refinement had 9 s
    assert seen["left"] == pytest.approx((LIMIT - HEURISTICS) * 2 / 3, abs=1e-9)
    assert refine_left == [pytest.approx((LIMIT - HEURISTICS) / 3, abs=1e-9)]


def test_no_refinement_when_the_exact_phase_leaves_no_time(monkeypatch):
    # the exact solver overran its share and the whole limit: nothing else starts, its schedule is kept, not proven
    result, seen, refine_left, _ = run_auto(monkeypatch, spend=LIMIT)
    assert refine_left == [] and [p["solver"] for p in result.info["phases"]][-1] == "fake-exact"
    assert result.info["chosen"] == "fake-exact"
    assert (result.status, cost(result), result.bound_bytes) == ("feasible", SPLIT, COMPULSORY)
    assert f"no schedule moves less than {COMPULSORY:,} B" in result.message
