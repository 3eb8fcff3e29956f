"""What a stopped exact solver needs, computed beside its search on another core: the fallback heuristics'
schedule and the segment bound.

An exact solver that a time limit stops returns the best schedule it knows (its own, else the best of the
``optimus``, ``efficient-s`` and ``greedy-merge`` heuristics, refined) and the best lower bound it knows. On
networks the exact solvers cannot finish (NASNet-A Mobile) both cost time after the stop: the heuristics 3–4 s,
and the segment bound (:mod:`~optimus_opt.solvers.segment_bound`), the strongest bound the project proves there,
18 s at 128 KiB.
Computed after the exact phase, in what the limit leaves, the segment bound finished 1 of 34 windows and the
heuristics could overrun the limit; computed from the start in a forked process on the core the search leaves
idle, both have the whole limit. The child runs the heuristics first (when the solver has no ``warm_start``), then
solves the windows one by one, sending each outcome as soon as it is known; whatever has arrived when the caller
asks is a bound (:func:`~optimus_opt.solvers.segment_bound.assemble`: a window not yet solved counts its
compulsory traffic). With every window solved it couples them (:mod:`~optimus_opt.solvers.coupling`) in a quarter
of the time left and sends the coupled bound. With :data:`WIDEN_SECONDS` or more left it then widens the windows core by
core in 60 % of it, first by their feeders, which it leaves out of the first windows when it may widen, then
joining cores into cells (:func:`~optimus_opt.solvers.segment_bound.widened`), and sends the cores with their
windows at each change, and their coupling. With the
bound done and time left, it builds a schedule from the pieces the coupled windows chose and the heuristics'
groups (:mod:`~optimus_opt.solvers.pooled`) and refines it and the heuristics' schedules, each in a slice of the
time and then the best with the widths growing (:func:`~optimus_opt.solvers.windows.refine_starts`), until just
before the deadline, and sends the result with the name of its start, which the stopped solver takes when it
beats its own: on NASNet-A Mobile the search never finishes its candidates, and this gives the refinement the
whole limit on the other core instead of the solver's reserve. Once the stopped solver has the heuristics' runs it
has nothing left to do but wait, and leaves its core to the child (:meth:`Beside.release`): the child's windows are
then solved two at a time, each in a process of its own (on NASNet-A Mobile the solver stops at its candidate limit
within a minute, long before the windows of whole cells).

:meth:`~optimus_opt.solvers.base.Solver.solve` starts it for the exact solvers and ``auto``
(:class:`~optimus_opt.solvers.anytime.Fallback`) when the run has a time
limit, the machine has a core more than the run's workers, the platform can fork and the run is not a study's
worker process (a study's jobs share the cores already); otherwise the stopped solver runs the heuristics and
computes the bound itself, in its reserved time, as before (:mod:`~optimus_opt.solvers.anytime`). The process,
with the processes it started (a process group of its own), is killed as soon as the run returns, so a run whose
exact phase finishes pays only the fork.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event
from typing import Callable

from ..cost.cost_model import CostModel
from ..utils.deadline import NEVER, Deadline
from ..utils.memory import Memory
from ..utils.processes import can_fork
from .coupling import Coupled
from .pooled import pooled_schedule
from .segment_bound import (
    COUPLING_SHARE,
    DEFAULT_OVERLAP,
    Cores,
    SegmentBound,
    WindowResult,
    assemble,
    couple_windows,
    nested_within,
    segment_for,
    segments,
    solve_windows,
    widened,
)
from .windows import Refinement, by_cost, cheapest_first, refine_starts

#: Seconds (at most; 5 % of what is left when less) before the run's deadline at which the child's refinement
#: stops, to leave time to send its schedule: a window under way ends after its deadline, by 0.15 s on NASNet-A
#: Mobile at narrow widths and by seconds at the widest (its improvements so far are sent as they come).
REFINE_MARGIN = 2.0
#: Seconds that must be left after the coupling for the child to widen the windows (:func:`~optimus_opt.solvers.
#: segment_bound.widened`) before it refines: with the compiled windows a minute's run widens too (NASNet-A Mobile
#: at 128 KiB: the windows take their feeders and a few cells join, 60,986,331 → 66,144,226 B in 60 s).
WIDEN_SECONDS = 20.0
#: The share of the time left after the coupling that widening the windows and coupling them again may take. On
#: NASNet-A Mobile at 128 KiB in a 10-minute exact-dp run, with the refinement's widening taking up the wide widths
#: at once (:func:`~optimus_opt.solvers.windows.refine_starts`), 60 % proved 75,031,807 B where half proved
#: 74,894,016 B, and the refinement still reached 76,479,876 B 95 s before the deadline (2026-12-07).
WIDEN_SHARE = 0.6
#: The share of the time left after the bound that the schedule from its pieces (:mod:`.pooled`) may take.
POOL_SHARE = 0.1
#: The name of that schedule as a start of the refinement (``solver_info.incumbent``: "<name> + refine, ...").
POOLED = "coupled windows"


class Beside:
    """The fallback heuristics (``heuristics``, a call that makes their runs, when given) and the segment bound,
    computed in a child process until ``deadline``:
    :meth:`heuristic_runs` gives the former, :meth:`bound` what is proven so far, :meth:`close` stops it."""

    def __init__(self, cm: CostModel, deadline: Deadline, max_group: int | None, *,
                 heuristics: Callable[[], list] | None = None, widen: bool = True) -> None:
        self._cm = cm
        self._cores = segments(cm, segment_for(deadline.left()), within=nested_within(deadline.left(), widen))
        self._results: dict[int, WindowResult] = {}
        self._coupled: Coupled | None = None
        self._memory_short = False  # the widening stopped because the memory left would not hold a window
        self._bound_final = False
        self._runs: list | None = None
        self._refined: tuple[str, Refinement] | None = None
        self._refined_final = False
        self.heuristics = heuristics
        self._began = time.perf_counter()
        context = multiprocessing.get_context("fork")
        self._inbox, outbox = context.Pipe(duplex=False)
        self._freed = context.Event()
        # not a daemon, so that it may start processes of its own (windows two at a time) once it has a second core;
        # they and it form a process group of their own, which close() kills whole
        self._process = context.Process(target=_work, name="optimus-opt-beside",
                                        args=(cm, self._cores, deadline, max_group, heuristics, outbox, widen,
                                              self._freed))
        self._process.start()
        _own_group(self._process.pid)
        outbox.close()
        self._open = True
        # a thread takes the child's messages as they come, so that the child never waits on a full pipe while the
        # caller is busy (its own refinement, say) and nothing it sent is lost
        self._arrived = threading.Condition()
        self._reader = threading.Thread(target=self._read, name="optimus-opt-beside-reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        """Take the child's messages until it ends (its deadline, or killed)."""
        while True:
            try:
                kind, payload = self._inbox.recv()
            except (EOFError, OSError):
                with self._arrived:
                    self._open = False
                    self._arrived.notify_all()
                return
            with self._arrived:
                if kind == "runs":
                    self._runs = payload
                elif kind == "refined":  # the cheaper of what two lanes of the refinement sent is kept
                    found, self._refined_final = payload
                    if self._refined is None or _better(found[1], self._refined[1]):
                        self._refined = found
                elif kind == "coupled":
                    self._coupled = payload
                elif kind == "bound":  # with whether the widening stopped for memory
                    self._bound_final, self._memory_short = True, payload
                elif kind == "windows":  # wider windows, of cores that merged windows may have joined
                    self._cores, results = payload
                    self._results = {result.index: result for result in results}
                else:
                    self._results[payload.index] = payload
                self._arrived.notify_all()

    def _wait(self, done: Callable[[], bool], until: Deadline | None) -> None:
        """Wait until ``done()`` holds, the child has ended or ``until`` passes (no wait without it, forever if it
        never expires)."""
        with self._arrived:
            while not done() and self._open:
                left = until.left() if until is not None else 0.0
                if left is not None and left <= 0:
                    return
                self._arrived.wait(left)

    def heuristic_runs(self) -> list | None:
        """The runs of :func:`~optimus_opt.solvers.anytime.heuristic_runs` made in the child, waiting for them as
        long as they take (the caller would need as long to make them); None when the child was not asked for them
        or ended without them."""
        if self.heuristics is None:
            return None
        self._wait(lambda: self._runs is not None, NEVER)
        return self._runs

    def bound(self, until: Deadline | None = None) -> SegmentBound:
        """The segment bound over the windows solved so far, with their coupling as far as it got, waiting for
        more until every window is solved, coupled and widened as far as the child does, or ``until`` passes (no
        wait without it)."""
        self._wait(lambda: self._bound_final, until)
        with self._arrived:
            cores, results, coupled = self._cores, list(self._results.values()), self._coupled
            short = self._memory_short
        return assemble(self._cm, cores, results, time.perf_counter() - self._began, coupled, short)

    def refined(self, until: Deadline) -> tuple[str, Refinement] | None:
        """The child's refinement of the heuristic schedules, with the name of the heuristic whose schedule it
        started from, waiting for its end until ``until`` and else taking the last improvement it sent; None when
        the child was not asked for the heuristics, found no schedule, or had no time left for it."""
        if self.heuristics is None:
            return None
        self._wait(lambda: self._refined_final, until)
        return self._refined

    def release(self) -> None:
        """Give the child the caller's core: the caller's own search has stopped, and the child's windows are
        solved two at a time from now on (:func:`~optimus_opt.solvers.segment_bound.solve_windows`)."""
        self._freed.set()

    def close(self) -> None:
        """Stop the child and the processes it started (if they still run) and release its pipe."""
        try:
            os.killpg(self._process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):  # the group is gone (or was never formed): the child alone
            if self._process.is_alive():
                self._process.kill()
        self._process.join()
        self._reader.join()  # the pipe's far end is gone: the reader has had its end of file
        self._inbox.close()


def _own_group(pid: int) -> None:
    """Make process ``pid`` (the child, or 0: this process) the leader of a process group of its own; both the
    parent and the child do it, so that the group exists whichever runs first."""
    try:
        os.setpgid(pid, pid)
    except OSError:  # the child has already done it, or has ended
        pass


def _work(cm: CostModel, cores: Cores, deadline: Deadline, max_group: int | None,
          heuristics: Callable[[], list] | None, outbox: Connection, widen: bool = True,
          freed: Event | None = None) -> None:
    """The child's work: the heuristics' runs first when asked (a stopped solver needs them before anything else),
    then each window's outcome as soon as it is solved, then their coupling in a share of the time left, then, with
    :data:`WIDEN_SECONDS` left and ``widen``, wider windows and their coupling in a share of it, then, with the
    heuristics' runs, the refinement of their schedules. Once ``freed`` is set (the caller's search has stopped
    and left its core), two processes solve the windows at once."""
    _own_group(0)
    jobs = (lambda: 2 if freed.is_set() else 1) if freed is not None else 1
    try:
        runs = None
        if heuristics is not None:
            runs = heuristics()
            outbox.send(("runs", runs))
        solved = []
        # with time to widen, the windows take in their feeders then (segment-bound.md, "Feeders"): their pieces
        # as runs of the order make the better pool for the schedule from the windows
        for result, window in solve_windows(cm, cores, DEFAULT_OVERLAP, deadline, max_group, fed=not widen,
                                            jobs=jobs):
            if result.value is None:  # the deadline stopped it: nothing more will be proven
                break
            outbox.send(("window", result))
            solved.append((result, window))
        coupled = couple_windows(cm, cores, solved, deadline.sub(share=COUPLING_SHARE), jobs=jobs)
        outbox.send(("coupled", coupled))
        pieces = coupled.pieces if coupled is not None else ()
        short = False
        if widen and coupled is not None and (deadline.left() or 0) >= WIDEN_SECONDS:
            first = coupled
            cores, solved, coupled, short = widened(
                cm, cores, solved, coupled, deadline.sub(share=WIDEN_SHARE), max_group,
                sent=lambda cores, results: outbox.send(("windows", (cores, results))), jobs=jobs, memory=Memory())
            if coupled is not first:
                outbox.send(("coupled", coupled))
                pieces = tuple(sorted(set(pieces) | set(coupled.pieces)))
        outbox.send(("bound", short))  # the bound is final
        starts = by_cost(runs or [])
        if starts and pieces:  # the coupled windows' pieces and the starts' groups, pooled: one more start, often
            pooled = pooled_schedule(cm, cores.pool(cm, pieces), [groups for _, groups in starts],  # the best
                                     deadline.sub(share=POOL_SHARE))
            if pooled is not None:
                starts = cheapest_first([(POOLED, pooled), *starts])
        left = deadline.left()
        if starts and left:
            # the refinement ends a little before the deadline, so that the last improvement reaches the caller
            until = deadline.sub(seconds=left - min(REFINE_MARGIN, 0.05 * left))
            two = freed is not None and freed.is_set() and len(starts) > 1
            outbox.send(("refined", (_refined_in_lanes(cm, starts, until, max_group, outbox, two), True)))
    except (KeyboardInterrupt, BrokenPipeError):  # the caller has gone (Ctrl-C reaches it alone; it kills us)
        pass
    finally:
        outbox.close()


def _refined_in_lanes(cm: CostModel, starts: list, until: Deadline, max_group: int | None, outbox: Connection,
                      two: bool) -> tuple[str, Refinement]:
    """The best refinement of ``starts`` (cheapest first) by ``until``, each improvement sent as it comes (a window
    running past the end then loses only its own). With ``two`` (the caller's core is free) in two lanes at once:
    the cheapest start alone here, with half the time and then the widths growing, and the others, as
    :func:`~optimus_opt.solvers.windows.refine_starts` takes them, in a process of its own; both send through
    ``outbox``, one message at a time, and the caller keeps the cheaper."""
    context = multiprocessing.get_context("fork")
    lock = context.Lock()

    def send(name: str, so_far: Refinement) -> None:
        with lock:
            outbox.send(("refined", ((name, so_far), False)))

    def lane(chosen: list) -> tuple[str, Refinement]:
        return refine_starts(cm, chosen, until, widen=True, reserve=True, max_group=max_group, improved_to=send)

    if not two or not can_fork():
        return lane(starts)
    answer, sender = context.Pipe(duplex=False)
    other = context.Process(target=_lane, args=(lane, starts[1:], sender), name="optimus-opt-refine")
    other.start()
    sender.close()
    best = lane(starts[:1])
    if answer.poll(max(until.left() or 0.0, 0.0) + REFINE_MARGIN):
        try:
            theirs = answer.recv()
        except EOFError:  # the other lane ended without an answer: what it sent on the way is the caller's already
            theirs = None
        if theirs is not None and _better(theirs[1], best[1]):
            best = theirs
    with lock:  # never in the middle of a message it sends
        other.kill()
    other.join()
    return best


def _lane(lane: Callable[[list], tuple[str, Refinement]], starts: list, sender: Connection) -> None:
    """The second lane of :func:`_refined_in_lanes`, in a process of its own: its best, sent back at the end."""
    sender.send(lane(starts))
    sender.close()


def _better(new: Refinement, old: Refinement) -> bool:
    """Whether refinement ``new`` beats ``old``: cheaper, or as cheap and proven where ``old`` is not."""
    return new.cost < old.cost or (new.proven and not old.proven and new.cost <= old.cost)


def start(cm: CostModel, deadline: Deadline, *, workers: int, max_group: int | None,
          heuristics: Callable[[], list] | None = None) -> Beside | None:
    """A :class:`Beside` when it can run on a core of its own: the run has a limit on the wall clock (a
    test's fake clock does not move in another process), the machine has more cores than the run's ``workers``,
    the platform forks and the run is not itself one of a study's worker processes (which have the cores between
    them, and may not start processes); else None."""
    if not deadline.bounded or deadline.clock is not time.perf_counter or (os.cpu_count() or 1) <= workers \
            or not can_fork():
        return None
    return Beside(cm, deadline, max_group, heuristics=heuristics)
