"""The records of a study and the directory that keeps them: one concept below both studies and their report.

A study runs (instance, solver, options) triples, each one :class:`RunSpec` with a stable id: a hash of the
instance's content (its accelerator's tiling model and halo mode included, so that a ``strips`` and a ``tiles`` run
of one network never share an id), the solver's name and the options it is given (:func:`run_id`). A run's outcome
is one *record*, a JSON object of format :data:`RECORD_FORMAT`, one line of ``DIR/results.jsonl``, and its schedule
(``DIR/schedules/<run-id>.json``), so that every number can be re-evaluated later with
:func:`~optimus_opt.cost.schedule.evaluate`. ``DIR/manifest.json`` (:data:`MANIFEST_FORMAT`) says how the study was run.

The store is append-only and robust to being killed: :class:`ResultStore` writes a run's schedule file first
(atomically, :func:`write_atomic`), then appends its record and flushes and fsyncs it, so an interrupted study
loses no finished run; :func:`load_records` skips a half-written last line and keeps the newest record of a run.

:mod:`optimus_opt.studies.study` writes records (through :mod:`optimus_opt.studies.executors`),
:mod:`optimus_opt.studies.report` reads them; neither needs the other for that.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import socket
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Mapping

from ..cost.schedule import Schedule
from ..model.instance import Instance
from ..version import __version__

RECORD_FORMAT = "optimus-opt/run@1"
MANIFEST_FORMAT = "optimus-opt/study@1"
RESULTS_FILE = "results.jsonl"
MANIFEST_FILE = "manifest.json"
SCHEDULES_DIR = "schedules"

#: Statuses a record can have besides the schedule statuses: the run raised or died, or outlived its hard limit.
RUN_FAILURES = ("error", "timeout")
#: Solver options that restrict the schedules a bound holds over (besides ``max_group``).
_SIDE_CONSTRAINTS = ("together", "apart", "max_groups")


# --------------------------------------------------------------------------------------------------------------
# Runs and their ids


def canonical(obj: Any) -> str:
    """``obj`` as compact JSON with sorted keys: equal content, equal text (what the ids hash)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def instance_id(instance: Instance) -> str:
    """A stable hash of an instance's content (network, accelerator, batch and name). The accelerator's ``tiling``
    and ``halo`` enter it where they are not version 2's (``strips``), so the ids of every version 2 instance stay
    what they were."""
    return hashlib.sha256(canonical(instance.to_dict()).encode()).hexdigest()[:16]


def run_id(instance: Instance, solver: str, options: Mapping[str, Any]) -> str:
    """A stable hash of (instance content, solver, options): the identity of a run across invocations."""
    key = {"instance": instance_id(instance), "solver": solver, "options": options}
    return hashlib.sha256(canonical(key).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class RunSpec:
    """One run of a study: an instance, a solver and the options it is solved with (a record's key).

    ``options`` has the keys ``time_limit``, ``seed``, ``workers``, ``max_group`` and ``extra`` (solver-specific
    options); it is exactly what :func:`optimus_opt.solvers.solve` is given. ``hard_limit`` (seconds) is the wall
    time after which the local pool kills the run and records it as ``timeout``.
    """

    instance: Instance
    solver: str
    options: Mapping[str, Any]
    hard_limit: float | None = None
    run_id: str = ""
    instance_id: str = ""

    def __post_init__(self) -> None:
        if not self.instance_id:
            object.__setattr__(self, "instance_id", instance_id(self.instance))
        if not self.run_id:
            object.__setattr__(self, "run_id", run_id(self.instance, self.solver, self.options))

    @property
    def label(self) -> str:
        return f"{self.instance.name} {self.solver}"

    def bound_scope(self) -> str:
        """``all`` when a bound this run proves holds over every schedule of the cost model, else the restriction
        it holds under (a group cap, side constraints)."""
        parts = []
        if self.options.get("max_group") is not None:
            parts.append(f"max_group={self.options['max_group']}")
        parts += [key for key in _SIDE_CONSTRAINTS if key in self.options.get("extra", {})]
        return ", ".join(parts) if parts else "all"


# --------------------------------------------------------------------------------------------------------------
# Records


def versions() -> dict[str, str]:
    """Versions of the project, its solvers' packages and Python, as this process sees them."""
    out = {"optimus_opt": __version__, "python": platform.python_version(),
           "implementation": platform.python_implementation(), "platform": platform.platform()}
    for dist in ("ortools", "highspy", "numpy", "networkx"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


@functools.lru_cache(maxsize=1)
def _process_versions() -> dict[str, str]:
    """:func:`versions`, read once per process (every record of a process carries the same)."""
    return versions()


def iso_time(t: float) -> str:
    """A wall-clock time as records and manifests write it: local ISO 8601 with milliseconds."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(t)) + f".{int(t % 1 * 1000):03d}"


def base_record(spec: RunSpec) -> dict[str, Any]:
    """The fields every record of ``spec`` has, whatever its outcome."""
    inst = spec.instance
    return {
        "format": RECORD_FORMAT, "run_id": spec.run_id, "instance_id": spec.instance_id, "instance": inst.name,
        "network": inst.network.name, "layers": len(inst.network.layer_ids), "accelerator": inst.accelerator.name,
        "buffer_bytes": inst.accelerator.buffer_bytes, "channel_tile": inst.accelerator.channel_tile,
        "weight_staging": inst.accelerator.weight_staging, "tiling": inst.accelerator.tiling,
        "halo": inst.accelerator.halo, "batch": inst.batch, "solver": spec.solver,
        "options": dict(spec.options), "bound_scope": spec.bound_scope(),
    }


def _no_result(status: str, error: str) -> dict[str, Any]:
    """The outcome fields of a run that produced no schedule."""
    return dict(status=status, error=error, dram_bytes=None, bound_bytes=None, compulsory_bytes=None, macs=None,
                added_macs=None, energy_fj=None, latency_cycles=None, objective_bound=None, bound_kind=None,
                groups=None, solve_seconds=None, unplaced=[], message=None, schedule=None)


def run_record(spec: RunSpec, schedule: Schedule | None, error: str | None, *, started: float, wall: float,
               start_rss: int | None, peak_rss: int | None, memory_measure: str) -> dict[str, Any]:
    """The record of a run that this process executed: its schedule's numbers, or ``error`` when it raised
    (``error`` given, or no schedule), with when it started, how long it took and the memory it used."""
    record = base_record(spec)
    record.update(started=iso_time(started), wall_seconds=round(wall, 6), start_rss_bytes=start_rss,
                  peak_rss_bytes=peak_rss, memory_measure=memory_measure, host=socket.gethostname(),
                  pid=os.getpid(), versions=_process_versions())
    if error is not None or schedule is None:
        record.update(_no_result("error", error or "no schedule returned"))
        return record
    record.update(status=schedule.status, dram_bytes=schedule.dram_bytes, bound_bytes=schedule.bound_bytes,
                  compulsory_bytes=schedule.compulsory_bytes, macs=schedule.macs, added_macs=schedule.added_macs,
                  energy_fj=schedule.energy_fj, latency_cycles=schedule.latency_cycles,
                  objective=schedule.objective, objective_bound=schedule.objective_bound,
                  bound_kind=schedule.solver_info.get("bound"),
                  groups=len(schedule.groups) if schedule.groups else None,
                  solve_seconds=round(schedule.solve_seconds or 0.0, 6), unplaced=list(schedule.unplaced),
                  message=schedule.message, error=None, schedule=f"{SCHEDULES_DIR}/{spec.run_id}.json")
    return record


def failure_record(spec: RunSpec, status: str, error: str, *, wall: float | None = None) -> dict[str, Any]:
    """The record of a run that produced nothing: ``error`` (raised or died) or ``timeout`` (killed)."""
    record = base_record(spec)
    record.update(_no_result(status, error))
    record.update(started=None, wall_seconds=None if wall is None else round(wall, 6), start_rss_bytes=None,
                  peak_rss_bytes=None, memory_measure=None, host=socket.gethostname(), pid=None,
                  versions=_process_versions())
    return record


# --------------------------------------------------------------------------------------------------------------
# The store


def _parse_record(line: str) -> dict[str, Any] | None:
    """The record on one line of ``results.jsonl``, or None for a line that is not one (a killed writer's half
    line, a damaged byte)."""
    try:
        rec = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return rec if isinstance(rec, dict) and rec.get("format") == RECORD_FORMAT and "run_id" in rec else None


def load_records(directory: str | Path, *, latest: bool = True) -> list[dict[str, Any]]:
    """The records of ``DIR/results.jsonl`` (a missing file: none). A line that does not parse (the half-written
    last line of a killed study) is skipped. With ``latest``, only the last record of each run id is kept."""
    path = Path(directory) / RESULTS_FILE
    if not path.is_file():
        return []
    out: list[dict[str, Any]] = []
    with path.open(errors="replace") as fh:  # a damaged byte spoils its line only, which is skipped
        for line in fh:
            line = line.strip()
            rec = _parse_record(line) if line else None
            if rec is not None:
                out.append(rec)
    if not latest:
        return out
    last: dict[str, dict[str, Any]] = {}
    for rec in out:
        last.pop(rec["run_id"], None)  # keep the order of the newest record
        last[rec["run_id"]] = rec
    return list(last.values())


def load_run_schedule(directory: str | Path, record: Mapping[str, Any]) -> Schedule | None:
    """The stored schedule of a record, or None for a run that stored none."""
    if not record.get("schedule"):
        return None
    doc = json.loads((Path(directory) / record["schedule"]).read_text())
    return Schedule.from_dict(doc, file=record["schedule"])


def write_atomic(path: str | Path, text: str | bytes) -> None:
    """Write a file so that a reader sees the old or the new content, never a part (temp file, then rename)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as fh:
        fh.write(text.encode() if isinstance(text, str) else text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class ResultStore:
    """``DIR/results.jsonl`` and ``DIR/schedules/``: append-only, flushed per record."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / SCHEDULES_DIR).mkdir(exist_ok=True)
        self.path = self.directory / RESULTS_FILE
        self._fh = None

    def __enter__(self) -> "ResultStore":
        needs_newline = self.path.is_file() and self.path.stat().st_size > 0 and \
            self.path.read_bytes()[-1:] != b"\n"
        self._fh = self.path.open("a")
        if needs_newline:  # a killed writer left half a line: end it, it will be skipped on reading
            self._fh.write("\n")
        return self

    def __exit__(self, *exc) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        self.compact()

    def compact(self) -> int:
        """Keep one line per run id, the newest, where a retried run (``retry_failed``) appended a second record;
        the file is replaced atomically, so a kill meanwhile leaves the old or the new file, each valid. Lines that
        do not parse (a killed writer's half line) go too. Returns the number of lines dropped."""
        if not self.path.is_file():
            return 0
        lines = self.path.read_text(errors="replace").splitlines()
        newest: dict[str, int] = {}
        for k, line in enumerate(lines):
            rec = _parse_record(line)
            if rec is not None:
                newest[str(rec["run_id"])] = k
        keep = sorted(newest.values())
        if len(keep) == len(lines):
            return 0
        write_atomic(self.path, "".join(lines[k] + "\n" for k in keep))
        return len(lines) - len(keep)

    def add(self, record: Mapping[str, Any], schedule: Mapping[str, Any] | None) -> None:
        """Store the schedule (atomically), then append the record line and flush it to disk."""
        if schedule is not None and record.get("schedule"):
            sched = Schedule.from_dict(schedule)
            write_atomic(self.directory / record["schedule"], sched.to_json())
        assert self._fh is not None, "use the store as a context manager"
        self._fh.write(json.dumps(record, separators=(",", ":"), default=str) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())


__all__ = ["MANIFEST_FILE", "MANIFEST_FORMAT", "RECORD_FORMAT", "RESULTS_FILE", "RUN_FAILURES", "ResultStore",
           "RunSpec", "SCHEDULES_DIR", "base_record", "canonical", "failure_record", "instance_id", "iso_time",
           "load_records", "load_run_schedule", "run_id", "run_record", "versions", "write_atomic"]
