"""The runs of a study: its inputs as instances, crossed with buffers, batches and solvers, each with its options.

A study's inputs (suites, instance or network files, ONNX models, zoo names, :class:`Instance` objects) become
instances (:func:`resolve_inputs`, through :func:`optimus_opt.io.resolve.resolve_instance`), optionally crossed with
buffer capacities and batch sizes (:func:`expand`), and those with solvers (:func:`plan`), or several
:class:`Experiment` objects each with its own (:func:`plan_experiments`). Each (instance, solver, options) is one
:class:`~optimus_opt.studies.records.RunSpec`; the same run planned twice is one run.

Which solver gets which option is what each solver class states (see :class:`~optimus_opt.solvers.Solver`):
``time_limit`` goes to the ``timed`` solvers (exact-dp, cpsat, milp, auto), ``workers`` to the ``threaded`` ones
(cpsat, milp, auto), ``max_group`` (the study's) to the ``exact`` ones; the heuristics run with their own defaults.
``solver_options`` overrides any of these per solver, and passes other keys as solver-specific options, which must be
among the solver's ``extra_options``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from .. import solvers as _solvers
from .. import zoo
from ..io.resolve import is_onnx, resolve_instance, variant_name
from ..model.errors import InstanceError, SolverError
from ..model.instance import INSTANCE_FORMAT, NETWORK_FORMAT, Instance, read_document
from ..model.presets import looks_like_path
from ..solvers.base import SolveOptions
from .records import RunSpec, canonical, instance_id
from .suite import SUITE_FORMAT, Suite, bundled_suite, bundled_suite_names, load_suite

_OPTION_KEYS = ("time_limit", "seed", "workers", "max_group", "objective")


# --------------------------------------------------------------------------------------------------------------
# Options


def solver_options(solver: str, *, time_limit: float | None = None, seed: int = 0, workers: int = 1,
                   max_group: int | None = None, overrides: Mapping[str, Any] | None = None,
                   objective: str = "dram") -> dict[str, Any]:
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
    if objective != "dram":  # energy or latency (formulations/energy.md); DRAM runs keep the ids they had
        opts["objective"] = objective
    for key, value in dict(overrides or {}).items():
        if key in _OPTION_KEYS:
            opts[key] = value
        else:
            opts["extra"][key] = value
    cls.check_options(opts["extra"])
    return opts


def check_runs(specs: Iterable[RunSpec]) -> None:
    """Refuse options no run could use (a time limit of 0 or less, no workers...), naming the solver: once per
    distinct (solver, options), before anything runs, not as one error record per run."""
    distinct = {(s.solver, canonical(s.options)): s for s in specs}
    for spec in distinct.values():
        opts = spec.options
        try:
            SolveOptions(time_limit=opts.get("time_limit"), seed=opts.get("seed", 0), workers=opts.get("workers", 1),
                         max_group=opts.get("max_group"), extra=dict(opts.get("extra", {})),
                         objective=opts.get("objective", "dram"))
        except SolverError as err:
            raise SolverError(f"solver '{spec.solver}': {err}") from None


def default_hard_limit(time_limit: float | None) -> float | None:
    """The wall time after which the local pool gives a run up: the time limit × 3 + 30 s (none without one)."""
    return None if time_limit is None else 3 * float(time_limit) + 30.0


def estimate(spec: RunSpec) -> float:
    """A rough cost of a run, in no unit (exact solvers and large networks count more): what orders a study's runs
    (longest first, so that the slow ones do not end up alone at the end) and weighs its ETA."""
    size = max(1, len(spec.instance.network.layer_ids))
    if spec.solver in _solvers.exact_solvers():
        cost = 0.01 * size ** 1.5
        limit = spec.options.get("time_limit")
        return min(cost, float(limit)) if limit else cost
    return 0.001 * size


# --------------------------------------------------------------------------------------------------------------
# Inputs


def resolve_inputs(items: Iterable[Any] | Any) -> list[Instance]:
    """Instances from suites, suite or instance or network files, ONNX models, bundled suite names, zoo names or
    objects.

    A network (file or zoo name) runs in the Optimus paper's setting (:data:`~optimus_opt.io.resolve.PAPER_SETTING`:
    the Optimus NPU at batch 4).

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
        if is_onnx(spec):
            return [resolve_instance(spec)]
        doc = read_document(spec, "input")
        fmt = doc.get("format") if isinstance(doc, Mapping) else None
        if fmt == SUITE_FORMAT:
            return list(load_suite(path).instances())
        if fmt in (NETWORK_FORMAT, INSTANCE_FORMAT):
            return [resolve_instance(spec)]
        raise InstanceError(f"expected a suite, instance or network file, got format {fmt!r}", file=spec)
    if looks_like_path(spec):
        raise InstanceError("file not found", file=spec)
    suite = bundled_suite(spec)
    if suite is not None:
        return list(load_suite(suite).instances())
    if spec in zoo.names():
        return [resolve_instance(spec)]
    known = ", ".join(bundled_suite_names()) or "none found"
    raise InstanceError(f"'{spec}' is neither a file, a bundled suite ({known}) nor a zoo network "
                        f"({', '.join(zoo.names())})")


def expand(instances: Sequence[Instance], buffers: Sequence[int] | None = None,
           batches: Sequence[int] | None = None, tilings: Sequence[str] | None = None,
           halos: Sequence[str] | None = None) -> list[Instance]:
    """Each instance × each buffer capacity × each batch size × each tiling model (an empty or None axis keeps the
    instance's own).

    ``tilings`` are ``strips`` and ``tiles``; ``halos`` the halo modes of the ``tiles`` variants (a ``strips``
    variant has none, and appears once whatever ``halos`` says; a ``tiles`` variant of a ``strips`` instance
    without ``halos`` is ``choose``). A variant is named like a suite's matrix instance
    (``squeezenet1_0-optimus-npu-64KiB-tiles-b1``, :func:`~optimus_opt.io.resolve.variant_name`); one equal to its
    instance keeps the instance's name, so that it is the same run.

    Raises
    ------
    InstanceError
        For ``halos`` other than ``choose`` where no variant of an instance tiles (field ``--halo``).
    """
    out = []
    for inst in instances:
        models = _tiling_models(inst, tilings, halos)
        for buffer in buffers or (None,):
            for batch in batches or (None,):
                for tiling, halo in models:
                    new_buffer = buffer if buffer is not None and buffer != inst.accelerator.buffer_bytes else None
                    new_batch = batch if batch is not None and batch != inst.batch else None
                    same_tiling = (tiling, halo) == (inst.accelerator.tiling, inst.accelerator.halo)
                    if new_buffer is None and new_batch is None and same_tiling:
                        out.append(inst)
                        continue
                    variant = inst.with_overrides(buffer_bytes=new_buffer, batch=new_batch, tiling=tiling, halo=halo)
                    name = variant_name(inst.name, inst.batch, buffer_bytes=new_buffer, new_batch=new_batch,
                                        tiling=None if same_tiling else tiling, halo=halo)
                    out.append(dataclasses.replace(variant, name=name))
    return out


def _tiling_models(inst: Instance, tilings: Sequence[str] | None,
                   halos: Sequence[str] | None) -> list[tuple[str, str]]:
    """The (tiling, halo) pairs ``inst`` runs under (see :func:`expand`), without repeats."""
    acc = inst.accelerator
    models: list[tuple[str, str]] = []
    for tiling in tilings or (acc.tiling,):
        if tiling == "strips":
            pairs = [("strips", "choose")]
        elif halos:
            pairs = [(tiling, halo) for halo in halos]
        else:
            pairs = [(tiling, acc.halo if acc.tiling == tiling else "choose")]
        models += [p for p in pairs if p not in models]
    if halos and any(h != "choose" for h in halos) and all(t == "strips" for t, _ in models):
        raise InstanceError(f"halo {','.join(halos)} needs --tiling tiles: {inst.name} tiles in strips, which keep "
                            "every overlap on chip and have no halo to choose", field="--halo")
    return models


# --------------------------------------------------------------------------------------------------------------
# Plans


def plan(instances: Sequence[Instance], solvers: Sequence[str], *, time_limit: float | None = None, seed: int = 0,
         workers: int = 1, max_group: int | None = None,
         solver_options_: Mapping[str, Mapping[str, Any]] | None = None,
         hard_limit: float | None = None, objective: str = "dram") -> list[RunSpec]:
    """The runs of a study, instances outermost, without duplicates (same run id)."""
    specs: list[RunSpec] = []
    seen: set[str] = set()
    overrides = dict(solver_options_ or {})
    for inst in instances:
        for solver in solvers:
            # "cpsat" applies everywhere, "cpsat@nasnet_a_mobile" to that network only (and wins)
            merged = {**overrides.get(solver, {}), **overrides.get(f"{solver}@{inst.network.name}", {})}
            opts = solver_options(solver, time_limit=time_limit, seed=seed, workers=workers, max_group=max_group,
                                  overrides=merged, objective=objective)
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
    are what the report prints above its table. ``options`` are per-solver options as in a study's
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
                     hard_limit: float | None = None, objective: str = "dram") -> list[RunSpec]:
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
                         max_group=max_group, solver_options_=merged, hard_limit=hard_limit, objective=objective):
            if spec.run_id not in seen:
                seen.add(spec.run_id)
                specs.append(spec)
    return specs


__all__ = ["Experiment", "check_runs", "default_hard_limit", "estimate", "expand", "plan", "plan_experiments",
           "resolve_inputs", "solver_options"]
