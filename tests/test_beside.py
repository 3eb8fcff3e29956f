"""The segment bound computed beside an exact search (optimus_opt/solvers/beside.py): the child process proves the
same bound as :func:`segment_bound` in the parent, a stopped solver reports it, and the process ends with the run."""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import signal
import threading
import time

import pytest
from conftest import ROOT

import optimus_opt as oo
from optimus_opt import zoo
from optimus_opt.solvers import anytime, beside, get
from optimus_opt.solvers.base import SolveOptions
from optimus_opt.solvers.pooled import pooled_schedule
from optimus_opt.solvers.segment_bound import (
    DEFAULT_SEGMENT,
    SHORT_SEGMENT,
    couple_windows,
    segment_bound,
    segment_for,
    segments,
    solve_windows,
)
from optimus_opt.solvers.windows import Refinement, by_cost, refine, refine_starts
from optimus_opt.utils.deadline import Deadline

SQUEEZENET = ROOT / "instances" / "paper" / "squeezenet1_0-optimus-npu-b4.json"


def squeezenet_512k() -> oo.Instance:
    """SqueezeNet 1.0 at 512 KiB, batch 4: greedy-merge's 7,662,944 B is the cheapest heuristic schedule, and its
    refinement reaches the proven optimum, 7,289,696 B (tests/test_refine.py)."""
    return oo.Instance(zoo.build("squeezenet1_0"), oo.Accelerator(512 * 1024, 2, 32, name="optimus-npu"), batch=4)


def in_child_and_here(path, seconds: float = 120) -> tuple:
    """The segment bound of an instance computed in the process beside a search of ``seconds`` and in this one
    with the segments such a run uses (the child ends with the run). This one's comes first: the child, forked
    after it, then has the compiled windows (in a fresh clone, compiling them took a 30 s child most of its time on
    a slow afternoon, and it returned no window)."""
    cm = oo.CostModel(oo.load_instance(path))
    here = segment_bound(cm, segment_for(seconds))
    child = beside.Beside(cm, Deadline.after(seconds), None, widen=False)
    try:
        there = child.bound(until=Deadline.after(seconds))
    finally:
        child.close()
    assert not child._process.is_alive()
    return there, here


def test_a_short_run_bounds_with_shorter_segments():
    # a bound against a deadline of less than 45 s uses segments of 12 layers (NASNet-A Mobile's windows then
    # finish in 5-11 s instead of 14-36 s); without a limit, or with 45 s or more, the default 16
    assert (segment_for(None), segment_for(45.0), segment_for(44.9), segment_for(30)) == \
        (DEFAULT_SEGMENT, DEFAULT_SEGMENT, SHORT_SEGMENT, SHORT_SEGMENT) == (16, 16, 12, 12)


FORK = pytest.mark.skipif("fork" not in __import__("multiprocessing").get_all_start_methods(), reason="needs fork")


@FORK
def test_the_child_proves_what_the_parent_would():
    there, here = in_child_and_here(SQUEEZENET, 30)  # a run of 30 s: segments of 12 layers
    assert len(here.segments) == 4 and here.complete
    assert (there.bytes, there.segments, there.per_segment, there.finished) == \
        (here.bytes, here.segments, here.per_segment, here.finished)


@FORK
def test_the_child_couples_the_windows_as_the_parent_would():
    # ResNet-18 at 128 KiB: the default windows' optima (a run with 45 s or more left has them) sum to
    # 129,580,560 B; coupled, they prove more, the same in the child as in the parent (integer multipliers)
    there, here = in_child_and_here(ROOT / "instances" / "paper" / "resnet18-optimus-npu-b4.json", 200)
    assert sum(there.per_segment) == sum(here.per_segment) == 129_580_560
    assert dataclasses.replace(there.coupling, seconds=0) == dataclasses.replace(here.coupling, seconds=0)
    assert there.bytes == here.bytes > 129_580_560
    assert there.info()["segment_plain_bytes"] == 129_580_560 and there.info()["coupling_rounds"] > 0


@FORK
def test_with_minutes_left_the_child_widens_the_windows_as_the_parent_would():
    # DenseNet-121 at 512 KiB in a run of 200 s: once the default windows are coupled (54,090,896 B), 20 s or
    # more are left, so the child solves every window again with its feeders, joins the nine cores into five of at
    # most 36 layers (three of them joined), joins the first two again into one of 62 layers whose LP bounds its
    # window by 35,137,728 B (their windows prove 34,334,912 B), widens the others to overlaps of 8 and then 12
    # layers, and couples them with and without the window bounded by its LP, as segment_bound(widen=True) does
    # with that time: 65,423,824 B with it, 65,423,621 B without (the optimum is 69,055,312 B; 62,419,696 B
    # without joining cores, 62,415,778 B before the windows took in their feeders)
    cm = oo.CostModel(oo.Instance(zoo.build("densenet121"), oo.Accelerator(512 * 1024, 2, 32), batch=4))
    child = beside.Beside(cm, Deadline.after(200), None)
    try:
        there = child.bound(until=Deadline.after(200))
    finally:
        child.close()
    assert segment_bound(cm, DEFAULT_SEGMENT).bytes == 54_090_896
    here = segment_bound(cm, DEFAULT_SEGMENT, deadline=Deadline.after(200), widen=True)
    assert (here.bytes, here.overlaps, here.merged, here.relaxed) == (65_423_824, (0, 12, 12, 12), 2, 1)
    assert here.per_segment[0] == 35_137_728
    assert (there.bytes, there.segments, there.overlaps) == (here.bytes, here.segments, here.overlaps)
    assert there.info()["segment_overlaps"] == {"0": 1, "12": 3} and there.info()["segments_merged"] == 2
    assert there.info()["segments_relaxed"] == 1
    without = segment_bound(cm, DEFAULT_SEGMENT, deadline=Deadline.after(200), widen=True, relax=0)
    assert (without.bytes, without.overlaps, without.merged, without.relaxed) == (65_423_621, (12,) * 5, 3, 0)


def test_the_child_runs_the_fallback_heuristics_first_when_asked():
    cm = oo.CostModel(oo.load_instance(SQUEEZENET))
    here = anytime.heuristic_runs(cm, SolveOptions())
    child = beside.Beside(cm, Deadline.after(120), None, heuristics=lambda: anytime.heuristic_runs(cm, SolveOptions()))
    try:
        there = child.heuristic_runs()
        bound = child.bound(until=Deadline.after(120))
    finally:
        child.close()
    # on SqueezeNet 1.0 at 128 KiB Efficient-S beats the Optimus recursion, and greedy merging comes within 1.1 % of
    # the optimum (34,120,864 B)
    costs = [(name, anytime.schedule_cost(r)) for name, r, _ in there]
    assert costs == [(name, anytime.schedule_cost(r)) for name, r, _ in here]
    assert costs == [("optimus", 54_635_968), ("efficient-s", 52_860_992), ("greedy-merge", 34_493_600)]
    assert anytime.cheapest(there)[0] == "greedy-merge" and bound.complete
    unasked = beside.Beside(cm, Deadline.after(0.0), None)
    assert unasked.heuristic_runs() is None
    unasked.close()


def test_with_the_bound_done_the_child_refines_the_heuristic_schedules():
    """SqueezeNet 1.0 at 512 KiB: greedy-merge moves 7,662,944 B, the cheapest heuristic; the schedule from the
    coupled windows' pieces and the heuristics' groups is cheaper still, and its refinement reaches the optimum,
    7,289,696 B; the child sends the same refinement as the parent would make."""
    cm = oo.CostModel(squeezenet_512k())
    runs = anytime.heuristic_runs(cm, SolveOptions())
    name, start = anytime.cheapest(runs)
    cores = segments(cm, segment_for(120))
    coupled = couple_windows(cm, cores, list(solve_windows(cm, cores)))
    pooled = pooled_schedule(cm, cores.pool(cm, coupled.pieces), [groups for _, groups in by_cost(runs)],
                             Deadline.after(60))
    assert sum(t.cost for _, t in pooled) < 7_662_944
    here = refine_starts(cm, [(beside.POOLED, pooled), *by_cost(runs)], Deadline.after(120), widen=True)
    child = beside.Beside(cm, Deadline.after(120), None, heuristics=lambda: anytime.heuristic_runs(cm, SolveOptions()))
    try:
        there = child.refined(until=Deadline.after(120))
        bound = child.bound()
    finally:
        child.close()
    assert (name, anytime.schedule_cost(start)) == ("greedy-merge", 7_662_944)
    assert bound.complete  # the windows came first
    assert there[0] == here[0] == "coupled windows"
    assert there[1].cost == here[1].cost == 7_289_696 and there[1].groups == here[1].groups
    # the caller's core freed from the start: the windows two at a time, the refinement in two lanes, the same
    freed = beside.Beside(cm, Deadline.after(120), None, heuristics=lambda: anytime.heuristic_runs(cm, SolveOptions()))
    freed.release()
    try:
        also = freed.refined(until=Deadline.after(120))
        assert freed.bound().bytes == bound.bytes
    finally:
        freed.close()
    assert also[0] == "coupled windows" and also[1].cost == 7_289_696
    unasked = beside.Beside(cm, Deadline.after(120), None)  # no heuristics asked: nothing to refine
    assert unasked.refined(until=Deadline.after(120)) is None
    unasked.close()


def test_in_two_lanes_the_cheapest_start_is_refined_alone_and_the_others_beside_it():
    """SqueezeNet 1.0 at 512 KiB, the heuristics' schedules as starts: greedy-merge's (7,662,944 B), the cheapest,
    in this process, efficient-s's and optimus's in another. Both lanes send their improvements through the same
    pipe, whole messages one at a time, and the best is the optimum, 7,289,696 B."""
    cm = oo.CostModel(squeezenet_512k())
    starts = by_cost(anytime.heuristic_runs(cm, SolveOptions()))
    assert [name for name, _ in starts] == ["greedy-merge", "efficient-s", "optimus"]
    inbox, outbox = multiprocessing.get_context("fork").Pipe(duplex=False)
    best = beside._refined_in_lanes(cm, starts, Deadline.after(120), None, outbox, two=True)
    outbox.close()
    sent = []
    while True:
        try:
            sent.append(inbox.recv())
        except EOFError:  # every end that wrote is closed: all was read
            break
    assert best[1].cost == 7_289_696 and best[1].proven
    assert {kind for kind, _ in sent} == {"refined"} and not any(final for _, (_, final) in sent)
    assert {name for _, ((name, _), _) in sent} >= {"greedy-merge", "efficient-s"}  # both lanes sent
    assert min(so_far.cost for _, ((_, so_far), _) in sent) == 7_289_696


def test_of_what_two_lanes_send_the_caller_keeps_the_cheaper(monkeypatch):
    """Two lanes of the refinement send their improvements as they come, so a later message may be worse than an
    earlier one from the other lane: the caller keeps the cheapest it was sent (here greedy-merge's 7,662,944 B,
    sent before optimus's dearer schedule), and a proven one over an unproven one of the same cost."""
    cm = oo.CostModel(squeezenet_512k())
    runs = {name: result for name, result, _ in anytime.heuristic_runs(cm, SolveOptions())}

    def refinement(name: str, proven: bool = False):
        return name, Refinement(tuple((tuple(m), t) for m, t in runs[name].groups), proven, False, 0, 0, 0, 0.0)

    def sends(messages):
        def work(*args) -> None:
            outbox = args[5]
            for message in messages:
                outbox.send(("refined", (message, False)))
            outbox.close()
        return work

    cheaper, dearer = refinement("greedy-merge"), refinement("optimus")
    assert cheaper[1].cost == 7_662_944 < dearer[1].cost
    for messages, kept in (([cheaper, dearer], cheaper), ([dearer, cheaper], cheaper),
                           ([cheaper, refinement("greedy-merge", proven=True)], refinement("greedy-merge", True))):
        monkeypatch.setattr(beside, "_work", sends(messages))
        child = beside.Beside(cm, Deadline.after(60), None, heuristics=lambda: [])
        try:
            child._wait(lambda: not child._open, Deadline.after(30))  # every message read
            got = child.refined(until=Deadline.after(0.0))
        finally:
            child.close()
        assert (got[0], got[1].cost, got[1].proven) == (kept[0], kept[1].cost, kept[1].proven)


def test_before_any_window_arrives_the_bound_is_the_compulsory_traffic_of_each_core():
    cm = oo.CostModel(oo.load_instance(SQUEEZENET))
    child = beside.Beside(cm, Deadline.after(0.0), None)  # its deadline has passed: it solves nothing
    try:
        bound = child.bound(until=Deadline.after(30))  # the pipe closes at once: no wait for the 30 s
    finally:
        child.close()
    assert bound.finished == (False,) * 4 and bound.seconds < 10  # a short run: segments of 12 layers
    # no window solved: each core counts its weights once and its network outputs, which sum to the compulsory
    # traffic less the network's inputs
    inputs = sum(cm.tensor_bytes[u] for u in cm.network.input_ids)
    assert bound.bytes == cm.compulsory_bytes() - inputs


def test_it_runs_only_where_it_has_a_core_and_a_wall_clock(monkeypatch):
    cm = oo.CostModel(oo.load_instance(SQUEEZENET))
    assert beside.start(cm, Deadline.after(None), workers=1, max_group=None) is None  # no limit: the solver finishes
    assert beside.start(cm, Deadline.after(10, clock=lambda: 0.0), workers=1, max_group=None) is None  # fake clock
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert beside.start(cm, Deadline.after(10), workers=2, max_group=None) is None  # the search takes both cores
    started = beside.start(cm, Deadline.after(10), workers=1, max_group=None)
    assert started is not None
    started.close()


def test_the_processes_the_child_starts_end_with_it(monkeypatch):
    """The child may start processes of its own (its windows two at a time, once the search has stopped): they
    form a process group with it, and closing the child ends them all at once, here a grandchild that would sleep
    ten minutes. Killing the child alone would not do: its grandchildren hold the pipe that closing waits on."""
    context = multiprocessing.get_context("fork")
    grandchildren = context.Queue()

    def starts_a_sleeper(*args) -> None:
        beside._own_group(0)
        pid = os.fork()
        if pid == 0:
            time.sleep(600)
            os._exit(0)
        grandchildren.put(pid)
        time.sleep(600)

    monkeypatch.setattr(beside, "_work", starts_a_sleeper)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    started = beside.start(oo.CostModel(oo.load_instance(SQUEEZENET)), Deadline.after(60), workers=1, max_group=None)
    grandchild = grandchildren.get(timeout=30)
    try:
        assert _running(grandchild)
        closing = threading.Thread(target=started.close)
        closing.start()
        closing.join(30)
        assert not closing.is_alive()
        ends = time.monotonic() + 10  # a signal is delivered, not awaited
        while _running(grandchild) and time.monotonic() < ends:
            time.sleep(0.01)
        assert not _running(grandchild)
    finally:
        if _running(grandchild):
            os.kill(grandchild, signal.SIGKILL)


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists and has not ended (a zombie has)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


class Proven:
    """Stands for the process beside the search: it has proven ``bound`` by the time it is asked."""

    heuristics = None

    def __init__(self, bound) -> None:
        self.value, self.asked = bound, 0

    def heuristic_runs(self):
        return None

    def bound(self, until=None):
        self.asked += 1
        return self.value

    def refined(self, until):
        return None


class Refined(Proven):
    """Stands for a process beside the search that ran the heuristics, proved ``bound`` and refined their
    schedules into ``refinement``, (the name of its start, the refinement), by the time it is asked."""

    def __init__(self, bound, runs, refinement) -> None:
        super().__init__(bound)
        self.heuristics, self.runs, self.refinement = (lambda: runs), runs, refinement
        self.released = False

    def release(self) -> None:
        self.released = True

    def heuristic_runs(self):
        return self.runs

    def refined(self, until):
        return self.refinement


def test_a_stopped_exact_solver_reports_the_bound_proven_beside_it(example):
    cm = oo.CostModel(example)
    proven = Proven(segment_bound(cm))  # one window holds the example's 9 layers: the optimum, 253,460 B
    # a limit so short that the exact phase stops at once; the optimus schedule meets the bound
    options = SolveOptions(time_limit=1e-6, beside=proven)
    sched = get("exact-dp").solve(example, options)
    assert (sched.status, sched.dram_bytes, sched.bound_bytes) == ("optimal", 253_460, 253_460)
    assert sched.solver_info["bound"] == ("segment bound: 1 of 1 windows solved exactly, beside the search "
                                          "(formulations/segment-bound.md)")
    assert proven.asked >= 1


def test_a_stopped_exact_solver_takes_the_refinement_made_beside_it():
    """With no time left for its own refinement, exact-dp stopped at once on SqueezeNet 1.0 at 512 KiB returns the
    child's refinement (7,289,696 B) where it would return greedy-merge's 7,662,944 B, named after the start the
    child refined it from: here optimus's (15,416,160 B), not the cheapest."""
    inst = squeezenet_512k()
    cm = oo.CostModel(inst)
    runs = anytime.heuristic_runs(cm, SolveOptions())
    optimus = next(result for name, result, _ in runs if name == "optimus")
    refinement = ("optimus", refine(cm, optimus.groups, window=None))
    options = SolveOptions(time_limit=1e-6, beside=Refined(segment_bound(cm, 4, 0), runs, refinement))
    sched = get("exact-dp").solve(inst, options)
    assert sched.status in ("feasible", "optimal") and sched.dram_bytes == 7_289_696
    assert sched.solver_info["incumbent"] == "optimus + refine, beside the search"
    assert oo.evaluate(inst, sched).dram_bytes == 7_289_696
    assert options.beside.released  # the stopped search left its core to the child's windows
