"""Where the runs of a study execute: a local process pool, a Dask cluster, or this process.

Every executor takes :class:`~optimus_opt.studies.records.RunSpec` objects and hands each outcome, a record and its
schedule document (None when the run produced none), to a *sink* the moment it is known; the study stores it there. A
run that fails never stops the others: it becomes a record (:func:`~optimus_opt.studies.records.failure_record`).

* ``local`` (:func:`run_local`) starts one fresh process per run (forked from the study where the platform can
  fork), at most ``jobs`` at a time. A run that outlives its hard wall limit is killed (a ``timeout`` record), a
  process that dies (a crash in native code, the out-of-memory killer) gives an ``error`` record, and each worker
  dies with the study driver (Linux), so a killed study leaves no orphan solving on.
* ``dask`` (:func:`run_dask`) submits the runs to an existing Dask distributed cluster (``pip install -e
  '.[dask]'`` in the clone; every worker needs optimus-opt installed); the solver's own time limit bounds a run.
* ``inline`` (:func:`run_inline`) runs them one after another in the calling process (for debugging; no hard
  limit, no crash isolation).

Peak memory is ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` read in the process that ran the solve, at its end
(``peak_rss_bytes``), next to the same value read at the run's start (``start_rss_bytes``). In the local pool that
process is a fresh one per run, forked from the study driver, so the peak is this run's own plus what it inherited
from the driver (the start value); on a Dask worker or inline it is the long-lived process's peak so far, an upper
bound for the run. ``memory_measure`` in each record says which.
"""

from __future__ import annotations

import importlib
import multiprocessing as mp
import os
import signal
import sys
import time
import traceback
from collections import deque
from multiprocessing.connection import wait as _wait_connections
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from .. import solvers as _solvers
from ..cost.schedule import Schedule, evaluate
from ..model.errors import OptimusError, ScheduleError
from .records import RunSpec, failure_record, run_record

#: The executors :func:`run` knows.
EXECUTORS = ("local", "dask", "inline")
#: Seconds a study waits for a Dask scheduler to answer before it refuses the address (before any folder is made).
CONNECT_SECONDS = 5.0

#: Receives each run's record and schedule document (None when it produced none), as it comes.
Sink = Callable[[dict, "dict | None"], None]
Outcome = tuple[dict[str, Any], "dict[str, Any] | None"]


def _nothing() -> None:
    """The default ``tick``: nothing to redraw."""


def _no_start(spec: RunSpec) -> None:
    """The default ``started``: nobody to tell."""


def check_executor(executor: str, scheduler: Any) -> None:
    """Refuse an unknown executor, or the dask executor without a scheduler (before anything runs)."""
    if executor not in EXECUTORS:
        raise OptimusError(f"unknown executor '{executor}' (known: {', '.join(EXECUTORS)})")
    if executor == "dask" and scheduler is None:
        raise OptimusError("the dask executor needs a scheduler address (--scheduler tcp://HOST:PORT)")


def run(executor: str, specs: Sequence[RunSpec], sink: Sink, *, jobs: int = 1, scheduler: Any = None,
        tick: Callable[[], None] = _nothing, started: Callable[[RunSpec], None] = _no_start) -> None:
    """Run ``specs`` on ``executor`` (one of :data:`EXECUTORS`), handing each outcome to ``sink``; ``tick`` is
    called while they run (to redraw a progress bar), ``started`` as each run starts (the Dask executor does not
    say)."""
    if executor == "local":
        run_local(specs, sink, jobs=jobs, tick=tick, started=started)
    elif executor == "inline":
        run_inline(specs, sink, tick=tick, started=started)
    else:
        run_dask(specs, sink, scheduler=scheduler, tick=tick)


# --------------------------------------------------------------------------------------------------------------
# One run


def execute(spec: RunSpec, *, memory_measure: str = "ru_maxrss of this process (its peak so far)") -> Outcome:
    """Run ``spec`` in this process; return its record and its schedule document (None when it raised).

    A schedule with groups is re-evaluated with :func:`evaluate` before it is recorded; a disagreement is
    recorded as an ``error``.
    """
    start_rss = _maxrss_bytes()
    started = time.time()
    t0 = time.perf_counter()
    sched: Schedule | None = None
    error = None
    try:
        opts = spec.options
        sched = _solvers.solve(spec.instance, spec.solver, time_limit=opts.get("time_limit"),
                               seed=opts.get("seed", 0), workers=opts.get("workers", 1),
                               max_group=opts.get("max_group"), objective=opts.get("objective", "dram"),
                               **dict(opts.get("extra", {})))
        if sched.groups:
            checked = evaluate(spec.instance, sched).dram_bytes
            if checked != sched.dram_bytes:
                raise ScheduleError(f"the schedule states {sched.dram_bytes} bytes, evaluate gives {checked}")
    except Exception as err:  # noqa: BLE001 - every failure of one run is recorded, never raised
        error = _error_text(err)
    record = run_record(spec, sched, error, started=started, wall=time.perf_counter() - t0, start_rss=start_rss,
                        peak_rss=_maxrss_bytes(), memory_measure=memory_measure)
    return record, (sched.to_dict() if error is None and sched is not None else None)


def _maxrss_bytes() -> int | None:
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss) if sys.platform == "darwin" else int(rss) * 1024  # bytes on macOS, KiB on Linux


def _error_text(err: BaseException) -> str:
    tb = traceback.extract_tb(err.__traceback__)
    where = f" (at {Path(tb[-1].filename).name}:{tb[-1].lineno} in {tb[-1].name})" if tb else ""
    return f"{type(err).__name__}: {err}{where}"


# --------------------------------------------------------------------------------------------------------------
# The local process pool


def _child(spec: RunSpec, conn) -> None:
    """A local pool worker: ignore Ctrl-C (the study driver stops its workers), die with the driver (Linux), run,
    send, exit."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    outcome = execute(spec, memory_measure="ru_maxrss of a fresh process per run, forked from the study driver "
                                           "(start_rss_bytes: what it inherited)")
    try:
        conn.send(outcome)
    except OSError:  # the driver is gone: nobody to tell
        pass
    finally:
        conn.close()


def _die_with_parent() -> None:
    """Ask Linux to kill this process when the study driver dies (a killed driver leaves no orphan solving on)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _context():
    methods = mp.get_all_start_methods()
    return mp.get_context("fork" if "fork" in methods else "spawn")


def run_local(specs: Sequence[RunSpec], sink: Sink, *, jobs: int = 1, tick: Callable[[], None] = _nothing,
              started: Callable[[RunSpec], None] = _no_start) -> None:
    """Run each spec in a fresh process, at most ``jobs`` at once, and hand each outcome to ``sink`` as it comes
    (``started`` hears of each run as its process starts).

    A process that exceeds its spec's hard limit is killed (a ``timeout`` record); one that dies without an
    answer gives an ``error`` record. On any exception (Ctrl-C, or one raised by ``sink``) every running process
    is killed before it propagates.
    """
    ctx = _context()
    if ctx.get_start_method() == "fork":
        preload({s.solver for s in specs})
    queue = deque(specs)
    running: dict[Any, tuple[Any, RunSpec, float]] = {}
    try:
        while queue or running:
            while queue and len(running) < max(1, jobs):
                spec = queue.popleft()
                recv, send = ctx.Pipe(duplex=False)
                proc = ctx.Process(target=_child, args=(spec, send), daemon=True,
                                   name=f"optimus-opt-run-{spec.run_id}")
                proc.start()
                send.close()
                running[recv] = (proc, spec, time.perf_counter())
                started(spec)
            _wait_connections(list(running), timeout=0.25)
            for conn in list(running):
                outcome = _collect(conn, *running[conn])
                if outcome is not None:
                    del running[conn]
                    sink(*outcome)
            tick()
    finally:
        for conn, (proc, _, _) in running.items():
            if proc.is_alive():
                proc.kill()
            proc.join()
            conn.close()


def _collect(conn, proc, spec: RunSpec, t0: float) -> Outcome | None:
    """The outcome of one worker if it has one (its answer, its death, or its kill past the hard limit), with the
    worker reaped and its pipe closed; None while it is still working."""
    now = time.perf_counter()
    if conn.poll():
        try:
            outcome = conn.recv()
        except (EOFError, OSError):
            proc.join(5)
            outcome = (failure_record(spec, "error", f"the worker process died without an answer "
                                                     f"({_exit_text(proc.exitcode)})", wall=now - t0), None)
    elif spec.hard_limit is not None and now - t0 > spec.hard_limit:
        proc.kill()
        outcome = (failure_record(spec, "timeout", f"killed after {now - t0:.1f} s, past the hard wall limit of "
                                                   f"{spec.hard_limit:g} s", wall=now - t0), None)
    else:
        return None
    conn.close()
    proc.join(5)
    if proc.is_alive():
        proc.kill()
        proc.join()
    return outcome


def preload(names: Iterable[str]) -> None:
    """Import the modules each named solver states in ``preload``, once in the driver, so that a forked run does
    not pay (and time) the import of its solver's package."""
    for name in names:
        for module in _solvers.capabilities(name).preload:
            try:
                importlib.import_module(module)
            except ImportError:
                pass  # the run itself reports the missing package


def _exit_text(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


# --------------------------------------------------------------------------------------------------------------
# Inline and Dask


def run_inline(specs: Sequence[RunSpec], sink: Sink, *, tick: Callable[[], None] = _nothing,
               started: Callable[[RunSpec], None] = _no_start) -> None:
    """Run every spec in this process, one after another (no hard limit, no crash isolation)."""
    for spec in specs:
        started(spec)
        sink(*execute(spec))
        tick()


def connect_dask(address: str, timeout: float | None = None) -> Any:
    """A ``distributed.Client`` of the scheduler at ``address``, or an
    :class:`~optimus_opt.model.errors.OptimusError` naming the address when it does not answer as a scheduler
    within about ``timeout`` seconds (default :data:`CONNECT_SECONDS`; a study calls this before it writes
    anything, so a wrong address leaves no study folder behind).

    A refused TCP address is refused at once. Dask's own connect timeout does not bound the handshake that follows
    (a port where something listens but never answers holds ``Client()`` indefinitely), so the client is made in a
    helper thread that is given up after the timeout; a client that connects after that is closed at once.
    """
    try:
        from distributed import Client
    except ImportError:
        from ..utils.extras import missing_message

        raise OptimusError(missing_message("dask", "the dask executor needs")) from None
    import threading

    timeout = CONNECT_SECONDS if timeout is None else timeout
    outcome: dict[str, Any] = {}
    lock, done = threading.Lock(), threading.Event()

    def connect() -> None:
        try:
            _probe(address, timeout)
            client = Client(address, set_as_default=False, timeout=f"{timeout:g}s")
            with lock:
                if outcome.get("abandoned"):
                    client.close()
                outcome["client"] = client
        except Exception as err:  # noqa: BLE001 - whatever fails (no answer, not a Dask scheduler) is said below
            outcome["error"] = err
        finally:
            done.set()

    threading.Thread(target=connect, name="dask connect", daemon=True).start()
    done.wait(timeout + 1.0)
    with lock:
        if "client" in outcome:
            return outcome["client"]
        outcome["abandoned"] = True
    err = outcome.get("error")
    why = "no answer" if err is None else err.strerror if isinstance(err, OSError) and err.strerror else \
        (str(err).splitlines() or [type(err).__name__])[0]
    raise OptimusError(f"cannot reach the Dask scheduler at {address} within {timeout:g} s ({why}); start it "
                       "(dask scheduler) or check --scheduler")


def _probe(address: str, timeout: float) -> None:
    """Open and close a TCP connection to a ``tcp://HOST:PORT`` (or ``HOST:PORT``) address; raises
    :class:`OSError` when nothing listens there. Other schemes (``tls://``, ``ucx://``) are left to Dask."""
    import socket

    scheme, sep, rest = address.partition("://")
    if not sep:
        scheme, rest = "tcp", address
    host, colon, port = rest.rpartition(":")
    if scheme != "tcp" or not colon or not port.isdigit():
        return
    socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()


def _dask_task(spec: RunSpec) -> Outcome:
    return execute(spec, memory_measure="ru_maxrss of the Dask worker process (its peak so far, an upper bound "
                                        "for this run)")


def run_dask(specs: Sequence[RunSpec], sink: Sink, *, scheduler: Any, tick: Callable[[], None] = _nothing) -> None:
    """Submit every spec to a Dask distributed cluster and hand each outcome to ``sink`` as it completes.

    ``scheduler`` is the scheduler's address (``tcp://host:8786``; :func:`connect_dask`) or a
    ``distributed.Client``. A task that raises, or whose worker dies, gives an ``error`` record. The solver's own
    time limit bounds each run; there is no hard kill on a cluster.
    """
    try:
        from distributed import Client, as_completed
    except ImportError:
        from ..utils.extras import missing_message

        raise OptimusError(missing_message("dask", "the dask executor needs")) from None
    own = not isinstance(scheduler, Client)
    client = connect_dask(scheduler) if own else scheduler
    futures = {}
    try:
        salt = os.urandom(4).hex()
        for spec in specs:
            fut = client.submit(_dask_task, spec, key=f"optimus-opt-run-{spec.run_id}-{salt}", pure=False)
            futures[fut] = spec
        for fut in as_completed(list(futures), loop=client.loop):  # loop: the client is not the default one
            spec = futures.pop(fut)
            try:
                outcome = fut.result()
            except Exception as err:  # noqa: BLE001 - a task's failure is a record
                outcome = (failure_record(spec, "error", _error_text(err)), None)
            sink(*outcome)
            tick()
    finally:
        if futures:
            client.cancel(list(futures))
        if own:
            client.close()


__all__ = ["CONNECT_SECONDS", "EXECUTORS", "Sink", "check_executor", "connect_dask", "execute", "preload", "run",
           "run_dask", "run_inline", "run_local"]
