"""Progress of a long solve: what phase it is in, how many candidates it has, its incumbent and bound.

A solver reports through the :class:`Reporter` carried in :class:`~optimus_opt.solvers.base.SolveOptions`
(``options.progress``): :func:`of` gives it, or a reporter that ignores everything when there is none, so a solver
calls ``progress.of(options).phase("tiling")`` without checking. The library reports nothing unless asked.

The command line gives solvers a :class:`StatusLine`: one line on standard error, redrawn in place, that appears
only once a run has taken longer than a second (a quick solve prints nothing extra) and is wiped before the result
is printed. It is used only when standard error is a terminal and ``--quiet`` is not given, so logs and pipes
never receive control characters. A background thread redraws it a few times a second, so the elapsed time moves
even while a solver is inside one long call (CP-SAT's search, the tiling of thousands of groups).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any, TextIO

#: Seconds a run must have taken before the status line appears.
DEFAULT_DELAY = 1.0
#: Seconds between redraws by the background thread.
DEFAULT_INTERVAL = 0.25

#: How the values a solver reports read on the status line, in this order.
_LABELS = (
    ("candidates", "{:,} candidate groups"),
    ("columns", "{:,} columns"),
    ("downsets", "{:,} down-sets"),
    ("corners", "{:,} corners"),
    ("incumbent", "incumbent {:,} B"),
    ("bound", "bound {:,} B"),
)


class Reporter:
    """Receives progress from solvers. This base class ignores it all (what the library does by default).

    ``phase`` names what the solver does now (``"enumerating candidate groups"``); ``update`` sets values that
    the status line shows: ``candidates``, ``columns``, ``downsets``, ``corners`` (counts), ``incumbent`` and
    ``bound`` (bytes of the best schedule found and of the best proven lower bound); ``solver`` sets the name
    shown in front. Values persist until changed; ``None`` removes one.
    """

    def solver(self, name: str) -> None:
        """The solver now running (a composite solver such as ``auto`` runs several)."""

    def phase(self, name: str) -> None:
        """The solver starts a new phase."""

    def update(self, **values: Any) -> None:
        """New values for the status line."""

    def close(self) -> None:
        """The run is over: remove anything drawn."""


NULL = Reporter()


def of(options: Any) -> Reporter:
    """The reporter of a :class:`~optimus_opt.solvers.base.SolveOptions` (or of anything with a ``progress``
    attribute), or one that ignores everything."""
    reporter = getattr(options, "progress", None)
    return reporter if reporter is not None else NULL


class StatusLine(Reporter):
    """A status line on a terminal, drawn once ``delay`` seconds have passed and redrawn in place.

    Parameters
    ----------
    stream:
        Where to draw (standard error by default).
    label:
        Put in front of the line (``"optimus-opt"``).
    delay:
        Seconds before anything is drawn (default :data:`DEFAULT_DELAY`); with 0 every event draws at once.
    interval:
        Seconds between redraws of the elapsed time by a background thread (default :data:`DEFAULT_INTERVAL`);
        0 starts no thread, so that only events draw.
    """

    def __init__(self, stream: TextIO | None = None, *, label: str = "optimus-opt", delay: float | None = None,
                 interval: float | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.label = label
        self.delay = DEFAULT_DELAY if delay is None else delay
        interval = DEFAULT_INTERVAL if interval is None else interval
        self.start = time.perf_counter()
        self.values: dict[str, Any] = {}
        self.current_solver = ""
        self.current_phase = ""
        self.drawn = False
        self.width = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if interval > 0:
            self._thread = threading.Thread(target=self._tick, args=(interval,), name="optimus-opt-progress",
                                            daemon=True)
            self._thread.start()

    # -- what solvers call --------------------------------------------------------------------------------------

    def solver(self, name: str) -> None:
        with self._lock:
            self.current_solver = name
            self.current_phase = ""
            self.values.clear()
        self._draw_if_due()

    def phase(self, name: str) -> None:
        with self._lock:
            self.current_phase = name
        self._draw_if_due()

    def update(self, **values: Any) -> None:
        with self._lock:
            for key, value in values.items():
                if value is None:
                    self.values.pop(key, None)
                else:
                    self.values[key] = value
        self._draw_if_due()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        with self._lock:
            if self.drawn:
                self._write("\r" + " " * self.width + "\r")
                self.drawn = False

    def print_above(self, text: str, stream: TextIO | None = None) -> None:
        """Print a line of results (to standard output) without mixing it into the status line: wipe the line,
        print, draw it again below."""
        with self._lock:
            was = self.drawn
            if was:
                self._write("\r" + " " * self.width + "\r")
                self.drawn = False
            print(text, file=stream if stream is not None else sys.stdout, flush=True)
            if was:
                self._draw()

    # -- drawing ------------------------------------------------------------------------------------------------

    def text(self) -> str:
        """The status line as it would be drawn now."""
        parts = [self.label + (f" {self.current_solver}" if self.current_solver else "")]
        if self.current_phase:
            parts.append(self.current_phase)
        for key, fmt in _LABELS:
            value = self.values.get(key)
            if value is not None:
                parts.append(fmt.format(value))
        parts.append(f"{time.perf_counter() - self.start:.1f} s")
        return ": ".join(parts[:2]) + ("; " + ", ".join(parts[2:]) if len(parts) > 2 else "")

    def _draw_if_due(self) -> None:
        if time.perf_counter() - self.start >= self.delay:
            with self._lock:
                self._draw()

    def _draw(self) -> None:
        cols = 0
        try:
            cols = os.get_terminal_size(self.stream.fileno()).columns
        except (OSError, ValueError, AttributeError):
            pass
        if cols < 20:  # unknown (a pseudo-terminal without a size) or absurdly narrow
            cols = int(os.environ.get("COLUMNS", "0") or 0) if os.environ.get("COLUMNS", "").isdigit() else 0
            cols = cols if cols >= 20 else 100
        line = self.text()[: cols - 1]
        pad = max(0, self.width - len(line))
        self._write("\r" + line + " " * pad)
        self.width = len(line)
        self.drawn = True

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # the terminal went away: stop drawing, never fail the solve
            self._stop.set()

    def _tick(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self._draw_if_due()

    def __enter__(self) -> "StatusLine":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def for_terminal(stream: TextIO | None = None, *, quiet: bool = False, **kwargs: Any) -> Reporter:
    """A :class:`StatusLine` on ``stream`` (standard error) when it is a terminal and not ``quiet``, else a
    reporter that ignores everything."""
    stream = stream if stream is not None else sys.stderr
    try:
        tty = bool(stream.isatty())
    except (AttributeError, ValueError):
        tty = False
    if quiet or not tty:
        return NULL
    return StatusLine(stream, **kwargs)


def cpsat_callback(options: Any, solver: Any) -> Any:
    """For CP-SAT: report each new best bound (``solver.best_bound_callback``) and return a solution callback that
    reports each incumbent; None (no callback at all) when nobody listens."""
    reporter = of(options)
    if reporter is NULL:
        return None
    from ortools.sat.python import cp_model

    try:
        solver.best_bound_callback = lambda bound: reporter.update(bound=int(round(bound)))
    except AttributeError:  # an OR-Tools without bound callbacks: incumbents only
        pass

    class _Incumbents(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self) -> None:
            reporter.update(incumbent=int(round(self.objective_value)), bound=int(round(self.best_objective_bound)))

    return _Incumbents()


__all__ = ["DEFAULT_DELAY", "NULL", "Reporter", "StatusLine", "cpsat_callback", "for_terminal", "of"]
