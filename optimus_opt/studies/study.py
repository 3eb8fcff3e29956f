"""Studies: every solver over a matrix of instances, buffer sizes and batch sizes, run as independent, resumable jobs.

A study expands its inputs (suites, instance files, network files, ONNX models, zoo names, :class:`Instance`
objects) into instances, optionally crossed with buffer capacities, batch sizes and tiling models, and crosses those
with solvers
(:mod:`optimus_opt.studies.planning`). Each (instance, solver, options) is one *run* with a stable id; its outcome is
one *record* in the study directory (:mod:`optimus_opt.studies.records`), written by the executor that ran it
(:mod:`optimus_opt.studies.executors`: a local process pool, a Dask cluster, or inline), and at the end the tables and
plots are rendered from the records (:mod:`optimus_opt.studies.report`). :func:`study` ties these together,
configured by one :class:`StudyConfig`.

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

Which solver gets which option (``time_limit``, ``workers``, ``max_group``, ``solver_options``) is what each solver
class states; :mod:`optimus_opt.studies.planning` says how. The Optimus paper's evaluation is :func:`paper_study`
(:mod:`optimus_opt.studies.paper`).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

from .. import solvers as _solvers
from ..cost.energy import OBJECTIVES
from ..cost.schedule import Schedule
from ..model.accelerator import HALOS, TILINGS, parse_size
from ..model.errors import InstanceError, OptimusError
from .executors import check_executor, connect_dask, run
from .paper import paper_experiments
from .planning import Experiment, check_runs, estimate, expand, plan, plan_experiments, resolve_inputs
from .records import (
    MANIFEST_FILE,
    MANIFEST_FORMAT,
    RUN_FAILURES,
    ResultStore,
    RunSpec,
    instance_id,
    iso_time,
    load_records,
    load_run_schedule,
    versions,
    write_atomic,
)
from .report import Summary, markdown, render, summarize
from .study_progress import Progress


@dataclass(frozen=True)
class StudyConfig:
    """How a study runs: its solvers and matrix, the solvers' options, where the runs execute and where the study
    is kept. Every field has a default; :func:`study` takes the fields as keyword arguments too.

    solvers:
        Solver names (default: every available solver but the composite ``auto``).
    buffers, batches:
        Cross every instance with these buffer capacities (bytes or ``"64KiB"``; stored as bytes) and batch sizes.
    tilings, halos:
        Cross every instance with these tiling models (``strips``, ``tiles``) and, for ``tiles``, halo modes
        (``choose``, ``cache``, ``recompute``); :func:`~optimus_opt.studies.planning.expand` says how.
    time_limit, seed, workers, max_group:
        Solver options; who gets which is in :mod:`optimus_opt.studies.planning`. ``solver_options`` overrides them per
        solver (``{"cpsat": {"max_group": 12, "time_limit": 60}}``), or per solver on one network (key
        ``"cpsat@nasnet_a_mobile"``, which wins), and passes solver-specific keys.
    jobs:
        Runs at once in the local pool.
    out:
        The study directory (``results.jsonl``, ``schedules/``, ``manifest.json``, ``summary.md``,
        ``summary.csv``, ``plots/``). Runs already recorded there are skipped. None keeps everything in memory.
    executor, scheduler:
        ``local`` (default), ``dask`` (``scheduler``: the address of a running scheduler, or a Client) or
        ``inline`` (:mod:`optimus_opt.studies.executors`).
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
    objective:
        What every run minimises: ``dram`` (the default), ``energy`` or ``latency`` (formulations/energy.md); the
        gaps are then of that objective, and every record keeps all three figures.
    """

    solvers: Sequence[str] | None = None
    buffers: Sequence[int | str] | None = None
    batches: Sequence[int] | None = None
    tilings: Sequence[str] | None = None
    halos: Sequence[str] | None = None
    time_limit: float | None = None
    seed: int = 0
    workers: int = 1
    max_group: int | None = None
    solver_options: Mapping[str, Mapping[str, Any]] | None = None
    jobs: int = 1
    out: str | Path | None = None
    executor: str = "local"
    scheduler: Any = None
    hard_limit: float | None = None
    retry_failed: bool = False
    progress: bool = False
    render: bool = True
    plots: bool = True
    callback: Callable[[dict], None] | None = None
    command: Sequence[str] | None = None
    preset: str | None = None
    objective: str = "dram"

    def __post_init__(self) -> None:
        if self.objective not in OBJECTIVES:
            raise InstanceError(f"must be one of {', '.join(OBJECTIVES)}, got {self.objective!r}", field="objective")
        if self.buffers:  # sizes as bytes, once: "64KiB" → 65536 (a ValueError for a size that is none)
            sizes = tuple(parse_size(b) if isinstance(b, str) else int(b) for b in self.buffers)
            object.__setattr__(self, "buffers", sizes)
        for key, known in (("tilings", TILINGS), ("halos", HALOS)):
            values = getattr(self, key)
            if isinstance(values, str):
                values = (values,)
            if values:
                bad = [v for v in values if v not in known]
                if bad:
                    raise InstanceError(f"must be among {', '.join(known)}, got {bad[0]!r}", field=key)
                object.__setattr__(self, key, tuple(dict.fromkeys(values)))

    @property
    def directory(self) -> Path | None:
        """The study directory, or None for a study kept in memory."""
        return Path(self.out) if self.out is not None else None

    def plan_options(self) -> dict[str, Any]:
        """The keyword arguments of :func:`~optimus_opt.studies.planning.plan` and
        :func:`~optimus_opt.studies.planning.plan_experiments` this configuration gives."""
        return dict(time_limit=self.time_limit, seed=self.seed, workers=self.workers, max_group=self.max_group,
                    solver_options_=self.solver_options, hard_limit=self.hard_limit, objective=self.objective)

    def manifest_options(self, solvers: Sequence[str]) -> dict[str, Any]:
        """What the manifest records of this configuration, with the study's ``solvers``."""
        return dict(solvers=list(solvers), buffers=list(self.buffers) if self.buffers else None,
                    batches=list(self.batches) if self.batches else None,
                    tilings=list(self.tilings) if self.tilings else None,
                    halos=list(self.halos) if self.halos else None, time_limit=self.time_limit,
                    seed=self.seed, workers=self.workers, max_group=self.max_group,
                    solver_options=dict(self.solver_options or {}), jobs=self.jobs, executor=self.executor,
                    scheduler=str(self.scheduler) if self.scheduler is not None else None,
                    hard_limit=self.hard_limit, retry_failed=self.retry_failed, objective=self.objective)


def configure(config: StudyConfig | None = None, **options: Any) -> StudyConfig:
    """``config`` (default: the defaults) with ``options`` (fields of :class:`StudyConfig`) replaced.

    Raises
    ------
    TypeError
        For an option that is no field of :class:`StudyConfig`.
    """
    base = config if config is not None else StudyConfig()
    return dataclasses.replace(base, **options) if options else base


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
    def table(self) -> Summary:
        """The summary (:class:`optimus_opt.studies.report.Summary`): rows, aggregates, renderers."""
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
        return markdown(self.table)

    def to_csv(self, path: str | Path | None = None) -> str:
        text = self.table.to_csv()
        if path is not None:
            write_atomic(path, text)
        return text

    def to_pandas(self):
        """The rows as a pandas DataFrame (needs pandas)."""
        import pandas as pd

        return pd.DataFrame(self.rows)



def study(inputs: Any = None, config: StudyConfig | None = None, *,
          experiments: Sequence[Experiment] | None = None, **options: Any) -> StudyResult:
    """Run every solver on every instance (× buffers × batches) and return the records and their summary.

    Parameters
    ----------
    inputs:
        A suite (object, file, or the name of a bundled suite: ``paper``, ``all``, ``smoke``), an instance or
        network file, an ONNX model, a zoo network name, an :class:`Instance`, or a list of these.
    config:
        How the study runs (:class:`StudyConfig`; default: its defaults).
    experiments:
        Instead of ``inputs`` × ``solvers``: the union of each :class:`~optimus_opt.studies.planning.Experiment`'s
        runs (its instances × its solvers, with its options under ``solver_options``), so that an experiment runs
        only the solvers it needs. ``buffers`` and ``batches`` must then be empty: an experiment's instances are
        already its matrix.
    **options:
        Fields of :class:`StudyConfig` (``solvers``, ``buffers``, ``batches``, ``tilings``, ``halos``,
        ``time_limit``, ``seed``, ``workers``, ``max_group``, ``solver_options``, ``jobs``, ``out``, ``executor``,
        ``scheduler``, ``hard_limit``, ``retry_failed``, ``progress``, ``render``, ``plots``, ``callback``, ``command``,
        ``preset``), replacing those of ``config``: ``study("smoke", solvers=["optimus"], out="gap-smoke")``.

    Raises
    ------
    InstanceError, SolverError
        Bad inputs or an unknown solver, before anything runs.
    KeyboardInterrupt
        After the finished runs were stored and the summaries written.
    """
    config = configure(config, **options)
    started, t0 = time.time(), time.perf_counter()
    names = _solver_names(config, experiments)
    specs = _plan(inputs, experiments, config, names)
    pending, skipped, retried = _todo(specs, config)
    result = StudyResult(records=[], directory=config.directory, skipped=skipped, retried=retried)
    manifest = _manifest(config, names, specs, experiments, started)
    _execute(pending, specs, config, result, manifest, t0)
    return result


def _solver_names(config: StudyConfig, experiments: Sequence[Experiment] | None) -> list[str]:
    """The study's solvers, each known and installed, and every per-solver option for one of them (a
    :class:`~optimus_opt.model.errors.SolverError` now, not one error record per run)."""
    if experiments is not None:
        if config.buffers or config.batches or config.tilings or config.halos:
            raise OptimusError("a study of experiments takes no --buffers, --batch, --tiling or --halo: each "
                               "experiment's instances are its matrix")
        names = list(dict.fromkeys(sv for exp in experiments for sv in exp.solvers))
    else:
        names = list(config.solvers) if config.solvers else list(_solvers.study_default())
    for name in names:
        _solvers.get(name)  # unknown or not installed: a SolverError now, not one error record per run
    for name in dict(config.solver_options or {}):
        if name.partition("@")[0] not in names:
            raise OptimusError(f"solver options for '{name}', which is not among the study's solvers "
                               f"({', '.join(names)})")
    return names


def _plan(inputs: Any, experiments: Sequence[Experiment] | None, config: StudyConfig,
          names: Sequence[str]) -> list[RunSpec]:
    """Every run of the study, checked: its executor, its directory and its options, before anything runs."""
    check_executor(config.executor, config.scheduler)
    out = config.directory
    if out is not None and out.exists() and not out.is_dir():
        raise InstanceError("is a file, not a study directory", file=str(config.out), field="out")
    if experiments is not None:
        specs = plan_experiments(experiments, **config.plan_options())
    else:
        instances = expand(resolve_inputs(inputs), list(config.buffers or ()), list(config.batches or ()),
                           list(config.tilings or ()), list(config.halos or ()))
        specs = plan(instances, names, **config.plan_options())
    check_runs(specs)  # a time limit of 0, say: refused now, not recorded as one error per run
    return specs


def _todo(specs: Sequence[RunSpec], config: StudyConfig) -> tuple[list[RunSpec], list[str], list[str]]:
    """The runs to execute now, longest first (so that the slow ones do not end up alone at the end); the run ids
    skipped, recorded before; the run ids among those to execute that had failed before (``retry_failed``)."""
    previous = load_records(config.directory) if config.directory is not None else []
    done = {r["run_id"] for r in previous if not (config.retry_failed and r["status"] in RUN_FAILURES)}
    failed_before = {r["run_id"] for r in previous if r["status"] in RUN_FAILURES}
    pending = sorted((s for s in specs if s.run_id not in done), key=estimate, reverse=True)
    skipped = [s.run_id for s in specs if s.run_id in done]
    return pending, skipped, [s.run_id for s in pending if s.run_id in failed_before]


def _execute(pending: Sequence[RunSpec], specs: Sequence[RunSpec], config: StudyConfig, result: StudyResult,
             manifest: dict[str, Any], t0: float) -> None:
    """Run ``pending`` on the study's executor, storing each outcome as it comes, then finish the study (records,
    manifest, summaries) whether the runs ended or were interrupted."""
    directory = config.directory
    scheduler = config.scheduler
    own_client = None
    if config.executor == "dask" and pending and isinstance(scheduler, str):
        # connect before the study folder is made: an address that does not answer leaves nothing behind
        own_client = scheduler = connect_dask(scheduler)
    bar = Progress(pending, enabled=config.progress, skipped=len(result.skipped))
    store = ResultStore(directory) if directory is not None else None
    if directory is not None:
        write_atomic(directory / MANIFEST_FILE, json.dumps(manifest, indent=1, default=str) + "\n")

    def sink(record: dict, schedule: dict | None) -> None:
        if store is not None:
            store.add(record, schedule)
        elif schedule is not None:
            result.schedules[record["run_id"]] = schedule
        result.records.append(record)
        result.executed.append(record["run_id"])
        bar.update(record)
        if config.callback is not None:
            config.callback(record)

    interrupted = False
    try:
        if store is not None:
            store.__enter__()
        bar.draw_now()  # at once, so that a resumed study says how far it is before its first run ends
        run(config.executor, pending, sink, jobs=config.jobs, scheduler=scheduler, tick=bar.tick,
            started=bar.start_run)
    except BaseException:
        interrupted = True
        raise
    finally:
        if own_client is not None:
            own_client.close()
        bar.close()
        if store is not None:
            store.__exit__(None, None, None)
        _finish(result, specs, config, manifest, time.perf_counter() - t0, interrupted)


def _finish(result: StudyResult, specs: Sequence[RunSpec], config: StudyConfig, manifest: dict[str, Any],
            wall: float, interrupted: bool) -> None:
    """The result's records (the study directory's, or this call's runs of the plan), the manifest's account of
    the call, and the summaries."""
    result.wall_seconds = wall
    directory = config.directory
    if directory is None:
        wanted = {s.run_id for s in specs}
        result.records = [r for r in result.records if r["run_id"] in wanted]
        return
    result.records = load_records(directory)
    manifest["finished"] = iso_time(time.time())
    manifest["wall_seconds"] = round(wall, 3)
    manifest["runs"] = {"planned": len(specs), "skipped": len(result.skipped), "executed": len(result.executed),
                        "interrupted": interrupted}
    manifest["history"][-1].update(finished=manifest["finished"], wall_seconds=manifest["wall_seconds"],
                                   executed=len(result.executed), interrupted=interrupted)
    write_atomic(directory / MANIFEST_FILE, json.dumps(manifest, indent=1, default=str) + "\n")
    if config.render:
        render(directory, plots=config.plots)


def _manifest(config: StudyConfig, names: Sequence[str], specs: Sequence[RunSpec],
              experiments: Sequence[Experiment] | None, started: float) -> dict[str, Any]:
    """``manifest.json`` of the study as it starts: how it was run, with what, and the history of the calls that
    ran into its directory before (this one last)."""
    options = config.manifest_options(names)
    cmd = list(config.command) if config.command is not None else ["optimus_opt.study(...)"]
    history = _history(config.directory)
    history.append({"command": cmd, "started": iso_time(started), "options": options})
    instances: dict[str, dict[str, Any]] = {}
    for s in specs:
        acc = s.instance.accelerator
        instances.setdefault(s.instance_id, {"name": s.instance.name, "id": s.instance_id,
                                             "network": s.instance.network.name, "accelerator": acc.name,
                                             "buffer_bytes": acc.buffer_bytes, "tiling": acc.tiling,
                                             "halo": acc.halo, "batch": s.instance.batch})
    runs = [{"run_id": s.run_id, "instance": s.instance.name, "solver": s.solver, "options": dict(s.options)}
            for s in specs]
    manifest = {"format": MANIFEST_FORMAT, "command": " ".join(cmd), "argv": cmd, "preset": config.preset,
                "started": iso_time(started), "options": options, "seeds": sorted({s.options.get("seed", 0)
                                                                                   for s in specs}),
                "versions": _manifest_versions(config.executor), "instances": list(instances.values()),
                "runs_planned": runs, "history": history}
    if experiments is not None:
        manifest["experiments"] = {exp.key: {"title": exp.title, "solvers": list(exp.solvers),
                                             "instances": [instance_id(i) for i in exp.instances]}
                                   for exp in experiments}
    return manifest


def _history(directory: Path | None) -> list[dict[str, Any]]:
    """The calls recorded in the manifest already in ``directory`` (none for a new or unreadable one)."""
    if directory is None or not (directory / MANIFEST_FILE).is_file():
        return []
    try:
        return list(json.loads((directory / MANIFEST_FILE).read_text(errors="replace")).get("history", []))
    except (OSError, ValueError, RecursionError, AttributeError, TypeError):
        return []


def _manifest_versions(executor: str) -> dict[str, str]:
    """:func:`~optimus_opt.studies.records.versions`, with the distributed package's for a Dask study."""
    vers = versions()
    if executor == "dask":
        try:
            vers["distributed"] = metadata.version("distributed")
        except metadata.PackageNotFoundError:
            vers["distributed"] = "not installed"
    return vers


def paper_study(config: StudyConfig | None = None, **options: Any) -> StudyResult:
    """:func:`study` of :func:`~optimus_opt.studies.paper.paper_experiments` (``solvers`` limits them;
    :data:`~optimus_opt.studies.paper.PAPER_OPTIONS`); ``config`` and ``options`` as for :func:`study`,
    ``solver_options`` on top of the preset's, ``preset`` ``paper`` unless given."""
    config = configure(config, **options)
    experiments = paper_experiments(config.solvers)
    config = dataclasses.replace(config, solvers=None, preset=config.preset or "paper")
    return study(None, config, experiments=experiments)


__all__ = ["StudyConfig", "StudyResult", "configure", "paper_study", "study"]
