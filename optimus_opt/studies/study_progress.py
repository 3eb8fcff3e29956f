"""The progress bar of a study on stderr: runs done, runs in flight, elapsed time and an ETA.

On a terminal it is one line redrawn in place; in a log (stderr not a terminal) it is one line per finished run,
and a line listing the runs in flight once a run has gone a minute without news, so a log shows a long run is
alive without filling up. :func:`optimus_opt.studies.study.study` draws it with ``progress=True`` (the ``gap`` command
unless ``--no-progress``); a solve's own status line is :mod:`optimus_opt.utils.progress`.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, Mapping, Sequence

from .planning import estimate
from .records import RunSpec


class Progress:
    """A progress bar with an ETA on stderr: redrawn in place on a terminal, one line per run otherwise.

    It shows the runs in flight and how long each has been running (on a terminal, redrawn twice a second while
    they run, so a long run is seen to be alive; in a log, a line listing them once a run has gone a minute
    without news). The ETA weighs the remaining runs by a rough estimate of their cost (exact solvers and large
    networks count more), counts the time the runs in flight have already had, and rises while nothing finishes,
    so it does not sit at a stale value.
    """

    #: Seconds without a line after which a log (not a terminal) gets one listing the runs in flight.
    QUIET_SECONDS = 60.0

    def __init__(self, specs: Sequence[RunSpec], *, enabled: bool = True, stream=None, skipped: int = 0) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.total = len(specs)
        self.weights = {s.run_id: estimate(s) for s in specs}
        self.left = sum(self.weights.values())
        self.done_weight = 0.0
        self.done = 0
        self.skipped = skipped
        self.start = time.perf_counter()
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.last = ""
        self.running: dict[str, tuple[str, float]] = {}
        self._drawn = 0.0
        self._logged = time.perf_counter()

    def eta(self) -> float | None:
        if not self.done_weight:
            return None
        now = time.perf_counter()
        rate = (now - self.start) / self.done_weight  # seconds per unit of estimated work, so far
        credit = sum(min(self.weights.get(rid, 1.0), (now - t0) / rate) for rid, (_, t0) in self.running.items())
        return max(0.0, rate * max(0.0, self.left - credit))

    def line(self) -> str:
        frac = self.done / self.total if self.total else 1.0
        width = 24
        bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
        eta = self.eta()
        elapsed = time.perf_counter() - self.start
        skipped = f", {self.skipped} done before" if self.skipped else ""
        return (f"[{bar}] {self.done}/{self.total}{skipped} {frac:4.0%} elapsed {_clock(elapsed)} eta "
                f"{_clock(eta) if eta is not None else '?'}")

    def in_flight(self) -> str:
        """``running: resnet18 cpsat 0:12, nasnet exact-dp 0:05`` (longest first), or ``""``."""
        if not self.running:
            return ""
        now = time.perf_counter()
        runs = sorted(self.running.values(), key=lambda r: r[1])
        return "running: " + ", ".join(f"{label} {_clock(now - t0)}" for label, t0 in runs)

    def start_run(self, spec: RunSpec) -> None:
        """A run started (its process is up)."""
        self.running[spec.run_id] = (spec.label, time.perf_counter())
        if self.enabled and self.tty:
            self._draw()

    def draw_now(self) -> None:
        """Draw the bar at once (before any run has finished)."""
        if not self.enabled:
            return
        if self.tty:
            self._draw()
        elif self.total:
            print(f"{self.line()}  {self.total} runs to go", file=self.stream, flush=True)
            self._logged = time.perf_counter()

    def update(self, record: Mapping[str, Any]) -> None:
        self.done += 1
        self.running.pop(record["run_id"], None)
        w = self.weights.get(record["run_id"], 1.0)
        self.done_weight += w
        self.left = max(0.0, self.left - w)
        secs = record.get("wall_seconds")
        self.last = f"{record['instance']} {record['solver']}: {record['status']}" + \
            (f" in {secs:.2f} s" if isinstance(secs, (int, float)) else "")
        if not self.enabled:
            return
        if self.tty:
            self._draw()
        else:
            print(f"{self.line()}  {self.last}", file=self.stream, flush=True)
            self._logged = time.perf_counter()

    def tick(self) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if self.tty and now - self._drawn > 0.5:
            self._draw()
        elif not self.tty and self.running and now - self._logged > self.QUIET_SECONDS:
            print(f"{self.line()}  {self.in_flight()}", file=self.stream, flush=True)
            self._logged = now

    def _draw(self) -> None:
        self._drawn = time.perf_counter()
        news = self.in_flight() or self.last
        text = f"{self.line()}  {news}"
        cols = 0
        try:
            cols = os.get_terminal_size(self.stream.fileno()).columns
        except (OSError, ValueError, AttributeError):
            pass
        cols = cols if cols >= 20 else 120  # a pseudo-terminal without a size reports 0
        print("\r" + text[: cols - 1].ljust(cols - 1), end="", file=self.stream, flush=True)

    def close(self) -> None:
        if self.enabled and self.tty:
            print(file=self.stream, flush=True)


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


__all__ = ["Progress"]
