"""Studies: every solver over a matrix of instances, buffer sizes and batch sizes, run as independent, resumable jobs.

A study expands its inputs (suites, instance files, network files, zoo names, :class:`Instance` objects) into
instances, optionally crossed with buffer capacities and batch sizes, and crosses those with solvers. Each
(instance, solver, options) is one *run* with a stable id: a hash of the instance's content, the solver's name and
the options it is given. A run's outcome is one *record* (a JSON object, one line of ``DIR/results.jsonl``) and its
schedule (``DIR/schedules/<run-id>.json``), so that every number can be re-evaluated later with
:func:`~optimus_opt.schedule.evaluate`.

Robustness:

* each record is appended and flushed (and fsync'ed) the moment its run finishes, after its schedule file was
  written, so an interrupted study (Ctrl-C, a killed process) loses no finished run; a half-written last line
  is ignored on reading;
* running the same study into the same directory again skips every run that has a record and executes the rest
  (``retry_failed`` also re-runs the runs recorded as ``error`` or ``timeout``; the newer record wins);
* a run that raises is recorded with status ``error`` and the error text; in the local process pool a run that
  outlives its hard wall limit (the time limit × 3 + 30 s by default) is killed and recorded as ``timeout``,
  and a worker process that dies (a crash in native code, the out-of-memory killer) is recorded as ``error``.
  The study goes on either way.

Executors: ``local`` starts one fresh process per run (forked from the study where the platform can fork), at most
``jobs`` at a time; ``dask`` submits the runs to an existing Dask distributed cluster (``pip install -e
'.[dask]'`` in the clone; every worker needs optimus-opt installed); ``inline`` runs them one after another in the
calling process (for debugging; no hard limit, no crash isolation).

Peak memory is ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` read in the process that ran the solve, at its end
(``peak_rss_bytes``), next to the same value read at the run's start (``start_rss_bytes``). In the local pool that
process is a fresh one per run, forked from the study driver, so the peak is this run's own plus what it inherited
from the driver (the start value); on a Dask worker or inline it is the long-lived process's peak so far, an upper
bound for the run. ``memory_measure`` in each record says which.

Which solver gets which option is what each solver class states (see :class:`~optimus_opt.solvers.Solver`):
``time_limit`` goes to the ``timed`` solvers (exact-dp, cpsat, milp, auto), ``workers`` to the ``threaded`` ones
(cpsat, milp, auto), ``max_group`` (the study's) to the ``exact`` ones; the heuristics run with their own defaults.
``solver_options`` overrides any of these per solver, and passes other keys as solver-specific options, which must be
among the solver's ``extra_options``.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import multiprocessing as mp
import os
import platform
import signal
import socket
import sys
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import wait as _wait_connections
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from . import solvers as _solvers
from . import zoo
from .errors import InstanceError, OptimusError, ScheduleError
from .instance import INSTANCE_FORMAT, NETWORK_FORMAT, Instance, load_instance, load_network, read_document
from .presets import looks_like_path, resolve_accelerator
from .schedule import Schedule, evaluate
from .suite import SUITE_FORMAT, Suite, instance_name, load_suite, size_label, suite_from_dict

RECORD_FORMAT = "optimus-opt/run@1"
MANIFEST_FORMAT = "optimus-opt/study@1"
RESULTS_FILE = "results.jsonl"
MANIFEST_FILE = "manifest.json"
SCHEDULES_DIR = "schedules"

#: Statuses a record can have besides the schedule statuses: the run raised or died, or outlived its hard limit.
RUN_FAILURES = ("error", "timeout")
_OPTION_KEYS = ("time_limit", "seed", "workers", "max_group")
_SIDE_CONSTRAINTS = ("together", "apart", "max_groups")

#: Where the repository keeps its suites (found in a source checkout or an editable install).
SUITES_DIR = Path(__file__).resolve().parent.parent / "instances" / "suites"


# --------------------------------------------------------------------------------------------------------------
# Runs


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def instance_id(instance: Instance) -> str:
    """A stable hash of an instance's content (network, accelerator, batch and name)."""
    return hashlib.sha256(_canonical(instance.to_dict()).encode()).hexdigest()[:16]


def run_id(instance: Instance, solver: str, options: Mapping[str, Any]) -> str:
    """A stable hash of (instance content, solver, options): the identity of a run across invocations."""
    key = {"instance": instance_id(instance), "solver": solver, "options": options}
    return hashlib.sha256(_canonical(key).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class RunSpec:
    """One run of a study: an instance, a solver and the options it is solved with.

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


def solver_options(solver: str, *, time_limit: float | None = None, seed: int = 0, workers: int = 1,
                   max_group: int | None = None, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The options a study gives ``solver`` (see the module's docstring for which solver gets what).

    Raises
    ------
    SolverError
        An unknown solver, or an override that is neither a common option nor one of the solver's
        ``extra_options``.

    Examples
    --------
    >>> solver_options("cpsat", time_limit=10, workers=2, max_group=6)
    {'time_limit': 10, 'seed': 0, 'workers': 2, 'max_group': 6, 'extra': {}}
    >>> solver_options("optimus", time_limit=10, workers=2, max_group=6, overrides={"beam": 8})
    {'time_limit': None, 'seed': 0, 'workers': 1, 'max_group': None, 'extra': {'beam': 8}}
    """
    cls = _solvers.capabilities(solver)
    opts: dict[str, Any] = {
        "time_limit": time_limit if cls.timed else None,
        "seed": seed,
        "workers": workers if cls.threaded else 1,
        "max_group": max_group if cls.exact else None,
        "extra": {},
    }
    for key, value in dict(overrides or {}).items():
        if key in _OPTION_KEYS:
            opts[key] = value
        else:
            opts["extra"][key] = value
    cls.check_options(opts["extra"])
    return opts


def check_options(spec: "RunSpec") -> None:
    """Refuse options no run could use (a time limit of 0 or less, no workers...), naming the solver."""
    from .errors import SolverError
    from .solvers.base import SolveOptions

    opts = spec.options
    try:
        SolveOptions(time_limit=opts.get("time_limit"), seed=opts.get("seed", 0), workers=opts.get("workers", 1),
                     max_group=opts.get("max_group"), extra=dict(opts.get("extra", {})))
    except SolverError as err:
        raise SolverError(f"solver '{spec.solver}': {err}") from None


def default_hard_limit(time_limit: float | None) -> float | None:
    """The wall time after which the local pool gives a run up: the time limit × 3 + 30 s (none without one)."""
    return None if time_limit is None else 3 * float(time_limit) + 30.0


# --------------------------------------------------------------------------------------------------------------
# Records


def versions() -> dict[str, str]:
    """Versions of the project, its solvers' packages and Python, as this process sees them."""
    from importlib import metadata

    from . import __version__

    out = {"optimus_opt": __version__, "python": platform.python_version(),
           "implementation": platform.python_implementation(), "platform": platform.platform()}
    for dist in ("ortools", "highspy", "numpy", "networkx"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


_VERSIONS: dict[str, str] | None = None


def _cached_versions() -> dict[str, str]:
    global _VERSIONS
    if _VERSIONS is None:
        _VERSIONS = versions()
    return _VERSIONS


def _maxrss_bytes() -> int | None:
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss) if sys.platform == "darwin" else int(rss) * 1024  # bytes on macOS, KiB on Linux


def base_record(spec: RunSpec) -> dict[str, Any]:
    """The fields every record of ``spec`` has, whatever its outcome."""
    inst = spec.instance
    return {
        "format": RECORD_FORMAT, "run_id": spec.run_id, "instance_id": spec.instance_id, "instance": inst.name,
        "network": inst.network.name, "layers": len(inst.network.layer_ids), "accelerator": inst.accelerator.name,
        "buffer_bytes": inst.accelerator.buffer_bytes, "channel_tile": inst.accelerator.channel_tile,
        "weight_staging": inst.accelerator.weight_staging, "batch": inst.batch, "solver": spec.solver,
        "options": dict(spec.options), "bound_scope": spec.bound_scope(),
    }


def execute(spec: RunSpec, *, memory_measure: str = "ru_maxrss of this process (its peak so far)"
            ) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Run ``spec`` in this process; return its record and its schedule document (None when it raised).

    A schedule with groups is re-evaluated with :func:`evaluate` before it is recorded; a disagreement is
    recorded as an ``error``.
    """
    record = base_record(spec)
    start_rss = _maxrss_bytes()
    started = time.time()
    t0 = time.perf_counter()
    sched: Schedule | None = None
    error = None
    try:
        opts = spec.options
        sched = _solvers.solve(spec.instance, spec.solver, time_limit=opts.get("time_limit"),
                               seed=opts.get("seed", 0), workers=opts.get("workers", 1),
                               max_group=opts.get("max_group"), **dict(opts.get("extra", {})))
        if sched.groups:
            checked = evaluate(spec.instance, sched).dram_bytes
            if checked != sched.dram_bytes:
                raise ScheduleError(f"the schedule states {sched.dram_bytes} bytes, evaluate gives {checked}")
    except Exception as err:  # noqa: BLE001 - every failure of one run is recorded, never raised
        error = _error_text(err)
    wall = time.perf_counter() - t0
    record.update(started=_iso(started), wall_seconds=round(wall, 6), start_rss_bytes=start_rss,
                  peak_rss_bytes=_maxrss_bytes(), memory_measure=memory_measure, host=socket.gethostname(),
                  pid=os.getpid(), versions=_cached_versions())
    if error is not None or sched is None:
        record.update(status="error", error=error or "no schedule returned", dram_bytes=None, bound_bytes=None,
                      compulsory_bytes=None, groups=None, solve_seconds=None, unplaced=[], message=None,
                      schedule=None)
        return record, None
    record.update(status=sched.status, dram_bytes=sched.dram_bytes, bound_bytes=sched.bound_bytes,
                  compulsory_bytes=sched.compulsory_bytes, groups=len(sched.groups) if sched.groups else None,
                  solve_seconds=round(sched.solve_seconds or 0.0, 6), unplaced=list(sched.unplaced),
                  message=sched.message, error=None, schedule=f"{SCHEDULES_DIR}/{spec.run_id}.json")
    return record, sched.to_dict()


def failure_record(spec: RunSpec, status: str, error: str, *, wall: float | None = None) -> dict[str, Any]:
    """The record of a run that produced nothing: ``error`` (raised or died) or ``timeout`` (killed)."""
    record = base_record(spec)
    record.update(status=status, error=error, dram_bytes=None, bound_bytes=None, compulsory_bytes=None,
                  groups=None, solve_seconds=None, unplaced=[], message=None, schedule=None,
                  started=None, wall_seconds=None if wall is None else round(wall, 6), start_rss_bytes=None,
                  peak_rss_bytes=None, memory_measure=None, host=socket.gethostname(), pid=None,
                  versions=_cached_versions())
    return record


def _error_text(err: BaseException) -> str:
    tb = traceback.extract_tb(err.__traceback__)
    where = f" (at {Path(tb[-1].filename).name}:{tb[-1].lineno} in {tb[-1].name})" if tb else ""
    return f"{type(err).__name__}: {err}{where}"


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(t)) + f".{int(t % 1 * 1000):03d}"


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
            if not line:
                continue
            try:
                rec = json.loads(line)
            except (ValueError, RecursionError):
                continue
            if isinstance(rec, dict) and rec.get("format") == RECORD_FORMAT and "run_id" in rec:
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
            try:
                rec = json.loads(line)
            except (ValueError, RecursionError):
                continue
            if isinstance(rec, dict) and rec.get("format") == RECORD_FORMAT and "run_id" in rec:
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


# --------------------------------------------------------------------------------------------------------------
# Inputs


def bundled_suite(name: str) -> Path | None:
    """The file of a suite the repository ships (``paper``, ``all``, ``smoke``), if there is one."""
    path = SUITES_DIR / f"{name}.json"
    return path if path.is_file() else None


def resolve_inputs(items: Iterable[Any] | Any) -> list[Instance]:
    """Instances from suites, suite or instance or network files, bundled suite names, zoo names or objects.

    A network (file or zoo name) runs on the Optimus NPU at batch 4, the Optimus paper's setting.

    Raises
    ------
    InstanceError
        For an input that is none of these (the message says what was tried).
    """
    if isinstance(items, (str, Path, Instance, Suite)):
        items = [items]
    out: list[Instance] = []
    for item in items:
        if isinstance(item, Instance):
            out.append(item)
        elif isinstance(item, Suite):
            out.extend(item.instances())
        else:
            out.extend(_resolve_one(str(item)))
    return out


def _resolve_one(spec: str) -> list[Instance]:
    path = Path(spec)
    if path.is_file():
        doc = read_document(spec, "input")
        fmt = doc.get("format") if isinstance(doc, Mapping) else None
        if fmt == SUITE_FORMAT:
            return list(load_suite(path).instances())
        if fmt == NETWORK_FORMAT:
            return [_paper_setting(load_network(path))]
        if fmt == INSTANCE_FORMAT:
            return [load_instance(path)]
        raise InstanceError(f"expected a suite, instance or network file, got format {fmt!r}", file=spec)
    if looks_like_path(spec):
        raise InstanceError("file not found", file=spec)
    suite = bundled_suite(spec)
    if suite is not None:
        return list(load_suite(suite).instances())
    if spec in zoo.names():
        return [_paper_setting(zoo.build(spec))]
    known = sorted(p.stem for p in SUITES_DIR.glob("*.json")) if SUITES_DIR.is_dir() else []
    raise InstanceError(f"'{spec}' is neither a file, a bundled suite ({', '.join(known) or 'none found'}) nor a "
                        f"zoo network ({', '.join(zoo.names())})")


def _paper_setting(network) -> Instance:
    acc = resolve_accelerator("optimus-npu")
    return Instance(network, acc, 4, name=instance_name(network.name, acc.name, 4))


def expand(instances: Sequence[Instance], buffers: Sequence[int] | None = None,
           batches: Sequence[int] | None = None) -> list[Instance]:
    """Each instance × each buffer capacity × each batch size (an empty or None axis keeps the instance's own).

    A variant is named like a suite's matrix instance (``squeezenet1_0-optimus-npu-64KiB-b1``); one equal to its
    instance keeps the instance's name, so that it is the same run.
    """
    out = []
    for inst in instances:
        for buffer in buffers or (None,):
            for batch in batches or (None,):
                new_buffer = buffer if buffer is not None and buffer != inst.accelerator.buffer_bytes else None
                new_batch = batch if batch is not None and batch != inst.batch else None
                if new_buffer is None and new_batch is None:
                    out.append(inst)
                    continue
                stem = inst.name
                if stem.endswith(f"-b{inst.batch}"):
                    stem = stem[: -len(f"-b{inst.batch}")]
                name = stem + (f"-{size_label(new_buffer)}" if new_buffer is not None else "") + \
                    f"-b{new_batch or inst.batch}"
                variant = inst.with_overrides(buffer_bytes=new_buffer, batch=new_batch)
                out.append(dataclasses.replace(variant, name=name))
    return out


def plan(instances: Sequence[Instance], solvers: Sequence[str], *, time_limit: float | None = None, seed: int = 0,
         workers: int = 1, max_group: int | None = None,
         solver_options_: Mapping[str, Mapping[str, Any]] | None = None,
         hard_limit: float | None = None) -> list[RunSpec]:
    """The runs of a study, instances outermost, without duplicates (same run id)."""
    specs: list[RunSpec] = []
    seen: set[str] = set()
    overrides = dict(solver_options_ or {})
    for inst in instances:
        for solver in solvers:
            # "cpsat" applies everywhere, "cpsat@nasnet_a_mobile" to that network only (and wins)
            merged = {**overrides.get(solver, {}), **overrides.get(f"{solver}@{inst.network.name}", {})}
            opts = solver_options(solver, time_limit=time_limit, seed=seed, workers=workers, max_group=max_group,
                                  overrides=merged)
            limit = hard_limit if hard_limit is not None else default_hard_limit(
                opts["time_limit"] if opts["time_limit"] is not None else time_limit)
            spec = RunSpec(inst, solver, opts, hard_limit=limit)
            if spec.run_id not in seen:
                seen.add(spec.run_id)
                specs.append(spec)
    return specs


@dataclass(frozen=True)
class Experiment:
    """One experiment of a study: its instances, the solvers it runs on them and their options.

    ``key`` names it in the manifest and the report (``overall``, ``buffer``...); ``title`` and ``description``
    are what the report prints above its table. ``options`` are per-solver options as in :func:`study`'s
    ``solver_options`` (``"cpsat"`` or ``"cpsat@network"``). Experiments may share instances: a run with the same
    instance, solver and options is one run (one run id) whichever experiments list it.
    """

    key: str
    title: str
    instances: tuple[Instance, ...]
    solvers: tuple[str, ...]
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    description: str = ""

    def instance_ids(self) -> list[str]:
        """The ids of its instances, in its order."""
        return [instance_id(i) for i in self.instances]


def plan_experiments(experiments: Sequence[Experiment], *, time_limit: float | None = None, seed: int = 0,
                     workers: int = 1, max_group: int | None = None,
                     solver_options_: Mapping[str, Mapping[str, Any]] | None = None,
                     hard_limit: float | None = None) -> list[RunSpec]:
    """The runs of several experiments, each planned like :func:`plan` with its own solvers and options (the
    study's ``solver_options_`` on top of them), without duplicates."""
    specs: list[RunSpec] = []
    seen: set[str] = set()
    for exp in experiments:
        merged = {name: dict(opts) for name, opts in exp.options.items()}
        for name, opts in dict(solver_options_ or {}).items():
            merged.setdefault(name, {}).update(opts)
        merged = {k: v for k, v in merged.items() if k.partition("@")[0] in exp.solvers}
        for spec in plan(exp.instances, exp.solvers, time_limit=time_limit, seed=seed, workers=workers,
                         max_group=max_group, solver_options_=merged, hard_limit=hard_limit):
            if spec.run_id not in seen:
                seen.add(spec.run_id)
                specs.append(spec)
    return specs


# --------------------------------------------------------------------------------------------------------------
# Progress


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
        self.weights = {s.run_id: _estimate(s) for s in specs}
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


def _estimate(spec: RunSpec) -> float:
    size = max(1, len(spec.instance.network.layer_ids))
    if spec.solver in _solvers.exact_solvers():
        cost = 0.01 * size ** 1.5
        limit = spec.options.get("time_limit")
        return min(cost, float(limit)) if limit else cost
    return 0.001 * size


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


# --------------------------------------------------------------------------------------------------------------
# Executors

Sink = Callable[[dict, "dict | None"], None]


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


def run_local(specs: Sequence[RunSpec], sink: Sink, *, jobs: int = 1, tick: Callable[[], None] = lambda: None,
              started: Callable[[RunSpec], None] = lambda spec: None) -> None:
    """Run each spec in a fresh process, at most ``jobs`` at once, and hand each outcome to ``sink`` as it comes
    (``started`` hears of each run as its process starts).

    A process that exceeds its spec's hard limit is killed (a ``timeout`` record); one that dies without an
    answer gives an ``error`` record. On any exception (Ctrl-C, or one raised by ``sink``) every running process
    is killed before it propagates.
    """
    ctx = _context()
    if ctx.get_start_method() == "fork":
        _preload({s.solver for s in specs})
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
            now = time.perf_counter()
            for conn in list(running):
                proc, spec, t0 = running[conn]
                outcome = None
                if conn.poll():
                    try:
                        outcome = conn.recv()
                    except (EOFError, OSError):
                        proc.join(5)
                        outcome = (failure_record(spec, "error", f"the worker process died without an answer "
                                                                 f"({_exit_text(proc.exitcode)})", wall=now - t0),
                                   None)
                elif spec.hard_limit is not None and now - t0 > spec.hard_limit:
                    proc.kill()
                    outcome = (failure_record(spec, "timeout", f"killed after {now - t0:.1f} s, past the hard "
                                                               f"wall limit of {spec.hard_limit:g} s", wall=now - t0),
                               None)
                if outcome is None:
                    continue
                del running[conn]
                conn.close()
                proc.join(5)
                if proc.is_alive():
                    proc.kill()
                    proc.join()
                sink(*outcome)
            tick()
    finally:
        for conn, (proc, _, _) in running.items():
            if proc.is_alive():
                proc.kill()
            proc.join()
            conn.close()


def _preload(names: Iterable[str]) -> None:
    """Import the modules each named solver states in ``preload``, once in the driver, so that a forked run does
    not pay (and time) the import of its solver's package."""
    import importlib

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


def run_inline(specs: Sequence[RunSpec], sink: Sink, *, tick: Callable[[], None] = lambda: None,
               started: Callable[[RunSpec], None] = lambda spec: None) -> None:
    """Run every spec in this process, one after another (no hard limit, no crash isolation)."""
    for spec in specs:
        started(spec)
        sink(*execute(spec))
        tick()


def _dask_task(spec: RunSpec) -> tuple[dict[str, Any], dict[str, Any] | None]:
    return execute(spec, memory_measure="ru_maxrss of the Dask worker process (its peak so far, an upper bound "
                                        "for this run)")


def run_dask(specs: Sequence[RunSpec], sink: Sink, *, scheduler: Any,
             tick: Callable[[], None] = lambda: None) -> None:
    """Submit every spec to a Dask distributed cluster and hand each outcome to ``sink`` as it completes.

    ``scheduler`` is the scheduler's address (``tcp://host:8786``) or a ``distributed.Client``. A task that
    raises, or whose worker dies, gives an ``error`` record. The solver's own time limit bounds each run; there
    is no hard kill on a cluster.
    """
    try:
        from distributed import Client, as_completed
    except ImportError:
        from .extras import missing_message

        raise OptimusError(missing_message("dask", "the dask executor needs")) from None
    own = not isinstance(scheduler, Client)
    client = Client(scheduler, set_as_default=False, timeout="30s") if own else scheduler
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


# --------------------------------------------------------------------------------------------------------------
# Studies


@dataclass
class StudyResult:
    """What :func:`study` returns: the records and the summary table built from them.

    Iterating gives the summary rows (one per instance × solver, as dicts); ``records`` are the raw run records
    (the newest per run id); ``executed`` and ``skipped`` count the runs of this call; ``directory`` is where
    the study lives (None for a study kept in memory). ``retried`` are the run ids among ``executed`` that had
    failed before (``retry_failed``); their new record replaced the old one.
    """

    records: list[dict[str, Any]]
    directory: Path | None = None
    executed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    retried: list[str] = field(default_factory=list)
    schedules: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    wall_seconds: float = 0.0

    @functools.cached_property
    def table(self):
        """The summary (:class:`optimus_opt.report.Summary`): rows, aggregates, renderers."""
        from .report import summarize

        return summarize(self.records)

    @property
    def rows(self) -> list[dict[str, Any]]:
        return self.table.rows

    @property
    def aggregates(self) -> list[dict[str, Any]]:
        return self.table.aggregates

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.rows[index]

    def schedule(self, record: Mapping[str, Any]) -> Schedule | None:
        """The schedule a record's run produced (from memory, or from the study directory)."""
        doc = self.schedules.get(record["run_id"])
        if doc is not None:
            return Schedule.from_dict(doc)
        return load_run_schedule(self.directory, record) if self.directory is not None else None

    def to_markdown(self) -> str:
        return self.table.to_markdown()

    def to_csv(self, path: str | Path | None = None) -> str:
        text = self.table.to_csv()
        if path is not None:
            write_atomic(path, text)
        return text

    def to_pandas(self):
        """The rows as a pandas DataFrame (needs pandas)."""
        import pandas as pd

        return pd.DataFrame(self.rows)


def study(inputs: Any, *, solvers: Sequence[str] | None = None, buffers: Sequence[int | str] | None = None,
          batches: Sequence[int] | None = None, time_limit: float | None = None, seed: int = 0, workers: int = 1,
          max_group: int | None = None, solver_options: Mapping[str, Mapping[str, Any]] | None = None,
          jobs: int = 1, out: str | Path | None = None, executor: str = "local", scheduler: Any = None,
          hard_limit: float | None = None, retry_failed: bool = False, progress: bool = False,
          render: bool = True, plots: bool = True, callback: Callable[[dict], None] | None = None,
          command: Sequence[str] | None = None, preset: str | None = None,
          experiments: Sequence["Experiment"] | None = None) -> StudyResult:
    """Run every solver on every instance (× buffers × batches) and return the records and their summary.

    Parameters
    ----------
    inputs:
        A suite (object, file, or the name of a bundled suite: ``paper``, ``all``, ``smoke``), an instance or
        network file, a zoo network name, an :class:`Instance`, or a list of these.
    solvers:
        Solver names (default: every available solver).
    buffers, batches:
        Cross every instance with these buffer capacities (bytes or ``"64KiB"``) and batch sizes.
    time_limit, seed, workers, max_group:
        Solver options; who gets which is in this module's docstring. ``solver_options`` overrides them per
        solver (``{"cpsat": {"max_group": 12, "time_limit": 60}}``), or per solver on one network (key
        ``"cpsat@nasnet_a_mobile"``, which wins), and passes solver-specific keys.
    jobs:
        Runs at once in the local pool.
    out:
        The study directory (``results.jsonl``, ``schedules/``, ``manifest.json``, ``summary.md``,
        ``summary.csv``, ``plots/``). Runs already recorded there are skipped. None keeps everything in memory.
    executor, scheduler:
        ``local`` (default), ``dask`` (``scheduler``: the address of a running scheduler, or a Client) or
        ``inline``.
    hard_limit:
        Seconds after which the local pool kills a run (default: time limit × 3 + 30 s; none without one).
    retry_failed:
        Also run again the runs recorded as ``error`` or ``timeout``.
    progress:
        Draw a progress bar with an ETA on stderr.
    render, plots:
        Write the summaries (and the plots, which need matplotlib) when done, and after an interruption.
    callback:
        Called with each record right after it was stored.
    command, preset:
        What to write into the manifest as the command (default: a description of this call) and the preset.
    experiments:
        Instead of ``inputs`` × ``solvers``: the union of each :class:`Experiment`'s runs (its instances × its
        solvers, with its options under ``solver_options``), so that an experiment runs only the solvers it needs.
        ``buffers`` and ``batches`` must then be empty: an experiment's instances are already its matrix.

    Raises
    ------
    InstanceError, SolverError
        Bad inputs or an unknown solver, before anything runs.
    KeyboardInterrupt
        After the finished runs were stored and the summaries written.
    """
    from .accelerator import parse_size

    started = time.time()
    t0 = time.perf_counter()
    if experiments is not None:
        if buffers or batches:
            raise OptimusError("a study of experiments takes no --buffers or --batch: each experiment's instances "
                               "are its matrix")
        names = list(dict.fromkeys(sv for exp in experiments for sv in exp.solvers))
    else:
        names = list(solvers) if solvers else list(_solvers.study_default())
    for name in names:
        _solvers.get(name)  # unknown or not installed: a SolverError now, not one error record per run
    for name in dict(solver_options or {}):
        if name.partition("@")[0] not in names:
            raise OptimusError(f"solver options for '{name}', which is not among the study's solvers "
                               f"({', '.join(names)})")
    sizes = [parse_size(str(b)) if isinstance(b, str) else int(b) for b in buffers or ()]
    if executor not in ("local", "dask", "inline"):
        raise OptimusError(f"unknown executor '{executor}' (known: local, dask, inline)")
    if executor == "dask" and scheduler is None:
        raise OptimusError("the dask executor needs a scheduler address (--scheduler tcp://HOST:PORT)")
    if out is not None and Path(out).exists() and not Path(out).is_dir():
        raise InstanceError("is a file, not a study directory", file=str(out), field="out")
    if experiments is not None:
        specs = plan_experiments(experiments, time_limit=time_limit, seed=seed, workers=workers,
                                 max_group=max_group, solver_options_=solver_options, hard_limit=hard_limit)
    else:
        instances = expand(resolve_inputs(inputs), sizes, list(batches or ()))
        specs = plan(instances, names, time_limit=time_limit, seed=seed, workers=workers, max_group=max_group,
                     solver_options_=solver_options, hard_limit=hard_limit)
    for spec in {(s.solver, _canonical(s.options)): s for s in specs}.values():
        check_options(spec)  # a time limit of 0, say: refused now, not recorded as one error per run

    directory = Path(out) if out is not None else None
    previous = load_records(directory) if directory is not None else []
    done = {r["run_id"] for r in previous if not (retry_failed and r["status"] in RUN_FAILURES)}
    failed_before = {r["run_id"] for r in previous if r["status"] in RUN_FAILURES}
    pending = [s for s in specs if s.run_id not in done]
    skipped = [s.run_id for s in specs if s.run_id in done]
    # longest first: the slow runs do not end up alone at the end of the study
    pending.sort(key=_estimate, reverse=True)

    result = StudyResult(records=[], directory=directory, skipped=skipped,
                         retried=[s.run_id for s in pending if s.run_id in failed_before])
    bar = Progress(pending, enabled=progress, skipped=len(skipped))
    manifest = _manifest(directory, command=command, preset=preset, options=dict(
        solvers=names, buffers=sizes or None, batches=list(batches) if batches else None, time_limit=time_limit,
        seed=seed, workers=workers, max_group=max_group, solver_options=dict(solver_options or {}), jobs=jobs,
        executor=executor, scheduler=str(scheduler) if scheduler is not None else None, hard_limit=hard_limit,
        retry_failed=retry_failed), specs=specs, started=started)
    if experiments is not None:
        manifest["experiments"] = {exp.key: {"title": exp.title, "solvers": list(exp.solvers),
                                             "instances": [instance_id(i) for i in exp.instances]}
                                   for exp in experiments}
    fresh: list[dict[str, Any]] = []
    store = ResultStore(directory) if directory is not None else None
    if directory is not None:
        write_atomic(directory / MANIFEST_FILE, json.dumps(manifest, indent=1, default=str) + "\n")

    def sink(record: dict, schedule: dict | None) -> None:
        if store is not None:
            store.add(record, schedule)
        elif schedule is not None:
            result.schedules[record["run_id"]] = schedule
        fresh.append(record)
        result.executed.append(record["run_id"])
        bar.update(record)
        if callback is not None:
            callback(record)

    interrupted = False
    try:
        if store is not None:
            store.__enter__()
        bar.draw_now()  # at once, so that a resumed study says how far it is before its first run ends
        if executor == "local":
            run_local(pending, sink, jobs=jobs, tick=bar.tick, started=bar.start_run)
        elif executor == "inline":
            run_inline(pending, sink, tick=bar.tick, started=bar.start_run)
        else:
            run_dask(pending, sink, scheduler=scheduler, tick=bar.tick)
    except BaseException:
        interrupted = True
        raise
    finally:
        bar.close()
        if store is not None:
            store.__exit__(None, None, None)
        wall = time.perf_counter() - t0
        if directory is not None:
            result.records = load_records(directory)
        else:
            wanted = {s.run_id for s in specs}
            result.records = [r for r in fresh if r["run_id"] in wanted]
        result.wall_seconds = wall
        if directory is not None:
            manifest["finished"] = _iso(time.time())
            manifest["wall_seconds"] = round(wall, 3)
            manifest["runs"] = {"planned": len(specs), "skipped": len(skipped), "executed": len(result.executed),
                                "interrupted": interrupted}
            manifest["history"][-1].update(finished=manifest["finished"], wall_seconds=manifest["wall_seconds"],
                                           executed=len(result.executed), interrupted=interrupted)
            write_atomic(directory / MANIFEST_FILE, json.dumps(manifest, indent=1, default=str) + "\n")
            if render:
                from .report import render as render_dir

                render_dir(directory, plots=plots)
    return result


def _manifest(directory: Path | None, *, command: Sequence[str] | None, preset: str | None,
              options: dict[str, Any], specs: Sequence[RunSpec], started: float) -> dict[str, Any]:
    history: list[dict[str, Any]] = []
    if directory is not None and (directory / MANIFEST_FILE).is_file():
        try:
            history = list(json.loads((directory / MANIFEST_FILE).read_text(errors="replace")).get("history", []))
        except (OSError, ValueError, RecursionError, AttributeError, TypeError):
            history = []
    cmd = list(command) if command is not None else ["optimus_opt.study(...)"]
    seeds = sorted({s.options.get("seed", 0) for s in specs})
    vers = versions()
    if options.get("executor") == "dask":
        from importlib import metadata

        try:
            vers["distributed"] = metadata.version("distributed")
        except metadata.PackageNotFoundError:
            vers["distributed"] = "not installed"
    entry = {"command": cmd, "started": _iso(started), "options": options}
    history.append(entry)
    instances = {}
    for s in specs:
        instances.setdefault(s.instance_id, {"name": s.instance.name, "id": s.instance_id,
                                             "network": s.instance.network.name,
                                             "accelerator": s.instance.accelerator.name,
                                             "buffer_bytes": s.instance.accelerator.buffer_bytes,
                                             "batch": s.instance.batch})
    runs = [{"run_id": s.run_id, "instance": s.instance.name, "solver": s.solver, "options": dict(s.options)}
            for s in specs]
    return {"format": MANIFEST_FORMAT, "command": " ".join(cmd), "argv": cmd, "preset": preset,
            "started": _iso(started), "options": options, "seeds": seeds, "versions": vers,
            "instances": list(instances.values()), "runs_planned": runs, "history": history}


# --------------------------------------------------------------------------------------------------------------
# The paper preset

#: Buffer capacities of the paper's SqueezeNet sweep: the 17 sizes of the authors' artifact
#: (fusion/experiment/buffer_size.py), 16 KiB … 1 MiB. The artifact turns each size into bf·1024/2 words, i.e.
#: bf KiB of bytes, so these are bytes as the rest of optimus-opt counts them.
PAPER_SWEEP = tuple(k * 1024 for k in (16, 32, 64, 96, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 896,
                                       1024))
#: Batch sizes of the paper's batch sweep and its networks (fusion/experiment/batch_size.py of the artifact).
PAPER_BATCHES = (1, 2, 4, 6, 8, 16, 32)
PAPER_BATCH_NETWORKS = ("vgg16", "squeezenet1_0")
#: The PE-array sweep: channel tiles (the side of a Tc × Tc array) × buffer capacities, SqueezeNet at batch 4.
PAPER_PE_TILES = (16, 32, 64)
PAPER_PE_BUFFERS = tuple(k * 1024 for k in (128, 256, 512))
#: The networks whose figures the artifact publishes (report.ARTIFACT_MIB), run on the optimus-artifact preset.
ARTIFACT_NETWORKS = ("squeezenet1_0", "vgg16", "mobilenet_v1", "resnet18")
#: The exact solver the sweeps and the artifact experiment run (the overall comparison runs all three).
SWEEP_EXACT = "exact-dp"

#: The preset's per-solver options: every exact solver under a 30 s limit and no group cap, in every experiment
#: (the same options everywhere, so that an instance two experiments share is solved once). Measured on 2 cores:
#: under version 2 of the cost model every instance but NASNet-A Mobile's three is proven in about 10 s or less
#: (GoogLeNet's are the slowest); NASNet's stop at the limit and report, as an anytime exact solver does, the
#: optimus schedule with the bound proven so far, over every schedule (``bound_scope`` all), which the report marks
#: as a bound, not an optimum. The overall comparison runs all three exact solvers; the sweeps and the artifact
#: experiment run :data:`SWEEP_EXACT` only (on SqueezeNet and VGG-16 it proves the optimum in well under a second
#: at every buffer, batch and tile), so that the whole preset finishes in under 15 minutes with ``--jobs 2``.
PAPER_OPTIONS: dict[str, dict[str, Any]] = {
    "exact-dp": {"time_limit": 30.0},
    "cpsat": {"time_limit": 30.0},
    "milp": {"time_limit": 30.0},
}


def _paper_base() -> list[Instance]:
    """The ``paper`` suite's 24 instances (eight networks × Optimus NPU, Eyeriss-like, ShiDianNao-like, batch 4),
    from the repository's suite file, or built from the zoo and the presets without it."""
    path = bundled_suite("paper")
    if path is not None:
        return list(load_suite(path).instances())
    from .regenerate import PAPER_NETWORKS

    doc = {"format": SUITE_FORMAT, "name": "paper", "networks": list(PAPER_NETWORKS),
           "accelerators": ["optimus-npu", "eyeriss", "shidiannao"], "batches": [4]}
    return list(suite_from_dict(doc).instances())


def _with_tile(inst: Instance, tile: int) -> Instance:
    """``inst`` on a Tc × Tc PE array (the channel tile), named ``<accelerator>-tc<Tc>``; Tc of the instance's
    own accelerator keeps the instance (and its run) as it is."""
    acc = inst.accelerator
    if tile == acc.channel_tile:
        return inst
    variant = dataclasses.replace(acc, name=f"{acc.name}-tc{tile}", channel_tile=tile, pe_array=(tile, tile),
                                  description=f"{acc.name} with a {tile}x{tile} PE array (channel tile {tile}), "
                                              "for the PE-array sweep of the Optimus paper")
    return Instance(inst.network, variant, inst.batch, name=inst.name.replace(f"-{acc.name}", f"-{variant.name}", 1))


def paper_experiments(solvers: Sequence[str] | None = None) -> list[Experiment]:
    """The Optimus paper's evaluation as this cost model can express it (docs/reproduction.md lists what it
    cannot), one :class:`Experiment` each:

    * ``overall``: the eight networks × Optimus NPU, Eyeriss-like, ShiDianNao-like at batch 4, every solver;
    * ``artifact``: SqueezeNet, VGG-16, MobileNet, ResNet-18 on the ``optimus-artifact`` preset at batch 4 (the
      setting of the artifact's published figures), the heuristics and :data:`SWEEP_EXACT`;
    * ``buffer``: SqueezeNet on the Optimus NPU at batch 4 over :data:`PAPER_SWEEP`;
    * ``batch``: VGG-16 and SqueezeNet on the Optimus NPU at :data:`PAPER_BATCHES`;
    * ``pe-array``: SqueezeNet at batch 4, channel tile :data:`PAPER_PE_TILES` × :data:`PAPER_PE_BUFFERS`.

    ``solvers`` (default: every available one but ``auto``) limits every experiment to those; the sweeps run the
    heuristics and one exact solver, :data:`SWEEP_EXACT` when it is among them, else the first exact one that is.
    """
    names = list(solvers) if solvers else list(_solvers.study_default())
    exact_names = _solvers.exact_solvers()
    heuristics = tuple(n for n in names if n not in exact_names)
    exact = [n for n in names if n in exact_names]
    one_exact = tuple([SWEEP_EXACT] if SWEEP_EXACT in exact else exact[:1])
    sweep_solvers = heuristics + one_exact
    options = {name: dict(opts) for name, opts in PAPER_OPTIONS.items()}
    base = _paper_base()
    npu = {i.network.name: i for i in base if i.accelerator.name == "optimus-npu"}
    squeeze = npu["squeezenet1_0"]
    artifact_acc = resolve_accelerator("optimus-artifact")
    artifact = [Instance(zoo.build(n), artifact_acc, 4, name=instance_name(n, artifact_acc.name, 4))
                for n in ARTIFACT_NETWORKS]
    pe = [_with_tile(v, tile) for tile in PAPER_PE_TILES for v in expand([squeeze], list(PAPER_PE_BUFFERS))]
    return [
        Experiment("overall", "Overall comparison", tuple(base), tuple(names), options,
                   "The paper's eight networks on its three accelerators (Optimus NPU 128 KiB, Eyeriss-like and "
                   "ShiDianNao-like 181.5 KiB) at batch 4, every solver."),
        Experiment("artifact", "Against the authors' artifact", tuple(artifact), sweep_solvers, options,
                   "The four networks whose DRAM traffic the authors' artifact publishes, on the accelerator it "
                   "measured them on (optimus-artifact: 131,072 16-bit words = 256 KiB, Tc 32, weights streamed "
                   "past the buffer), batch 4."),
        Experiment("buffer", "Buffer sweep", tuple(expand([squeeze], list(PAPER_SWEEP))), sweep_solvers, options,
                   "SqueezeNet 1.0 on the Optimus NPU at batch 4, buffer 16 KiB … 1 MiB (the artifact's 17 sizes)."),
        Experiment("batch", "Batch sweep", tuple(expand([npu[n] for n in PAPER_BATCH_NETWORKS], None,
                                                        list(PAPER_BATCHES))), sweep_solvers, options,
                   "VGG-16 and SqueezeNet 1.0 on the Optimus NPU (128 KiB), batch 1 … 32."),
        Experiment("pe-array", "PE-array sweep", tuple(pe), sweep_solvers, options,
                   "SqueezeNet 1.0 at batch 4 on the Optimus NPU with a 16×16, 32×32 or 64×64 PE array (channel "
                   "tile Tc 16, 32, 64) and a 128, 256 or 512 KiB buffer."),
    ]


def paper_instances() -> list[Instance]:
    """Every instance of :func:`paper_experiments`, each once, in the experiments' order."""
    out: dict[str, Instance] = {}
    for exp in paper_experiments():
        for inst in exp.instances:
            out.setdefault(instance_id(inst), inst)
    return list(out.values())


def paper_study(**kwargs: Any) -> StudyResult:
    """:func:`study` of :func:`paper_experiments` (``solvers`` limits them; :data:`PAPER_OPTIONS`); other keyword
    arguments go to :func:`study`, ``solver_options`` on top of the preset's."""
    experiments = paper_experiments(kwargs.pop("solvers", None))
    kwargs.setdefault("preset", "paper")
    return study(None, experiments=experiments, **kwargs)


__all__ = ["ARTIFACT_NETWORKS", "Experiment", "PAPER_BATCHES", "PAPER_OPTIONS", "PAPER_SWEEP",
           "Progress", "ResultStore", "RunSpec", "StudyResult", "execute", "expand", "instance_id", "load_records",
           "load_run_schedule", "paper_experiments", "paper_instances", "paper_study", "plan", "plan_experiments",
           "resolve_inputs", "run_dask", "run_id", "run_inline", "run_local", "solver_options", "study", "versions",
           "write_atomic"]
