"""Solvers behind one interface (:class:`Solver`) and one registry.

Adding a solver touches one module (its class, with its capabilities: see :class:`Solver`) and one line here (or a
call of :func:`register`); studies, reports and the command line read everything else from the registry.

Examples
--------
>>> "cpsat" in registered() and "cpsat" in exact_solvers() and "optimus" not in exact_solvers()
True
>>> capabilities("milp").extra_options
('anytime', 'apart', 'columns', 'export_model', 'max_candidates', 'max_groups', 'prune', 'together', 'warm_start')
"""

from __future__ import annotations

from ..model.errors import SolverError
from .auto import Auto
from .base import Budgets, SolveOptions, Solver, SolverResult, budgets_for
from .baselines import DNNVM, EfficientS
from .cpsat import CPSat
from .exact_dp import ExactDP
from .greedy import GreedyMerge
from .layerwise import Layerwise
from .milp import Milp
from .optimus_dp import Optimus, OptimusOnline
from .refine import Refine

_SOLVERS: dict[str, type[Solver]] = {cls.name: cls for cls in (Auto, Layerwise, ExactDP, CPSat, Milp, Optimus,
                                                                OptimusOnline, EfficientS, DNNVM, GreedyMerge,
                                                                Refine)}


def register(cls: type[Solver]) -> type[Solver]:
    """Add a solver class to the registry under its ``name`` (usable as a class decorator) and return it.

    Raises
    ------
    SolverError
        A class that is no :class:`Solver`, has no name, or whose name another class already holds.
    """
    if not (isinstance(cls, type) and issubclass(cls, Solver)) or not getattr(cls, "name", ""):
        raise SolverError(f"{cls!r} is no named Solver subclass")
    if _SOLVERS.get(cls.name, cls) is not cls:
        raise SolverError(f"solver name '{cls.name}' is taken by {_SOLVERS[cls.name].__qualname__}")
    _SOLVERS[cls.name] = cls
    return cls


def unregister(name: str) -> None:
    """Remove a solver from the registry (a no-op for an unknown name)."""
    _SOLVERS.pop(name, None)


def registered() -> tuple[str, ...]:
    """Names of every solver the project has, installed or not, in registration order (``auto``, the default,
    first); :func:`sort_key` gives the order of tables."""
    return tuple(_SOLVERS)


def capabilities(name: str) -> type[Solver]:
    """The class registered under ``name`` (its capabilities, description and requirements), installed or not.

    Raises
    ------
    SolverError
        An unknown name (the message lists the known ones).
    """
    if name not in _SOLVERS:
        raise SolverError(f"unknown solver '{name}' (known: {', '.join(registered())})")
    return _SOLVERS[name]


def exact_solvers() -> tuple[str, ...]:
    """Registered solvers that prove their bound and infeasibility over the whole space of the cost model."""
    return tuple(sorted((n for n in _SOLVERS if _SOLVERS[n].exact), key=sort_key))


def composite() -> tuple[str, ...]:
    """Registered solvers that only combine others (``auto``): a study leaves them out unless they are named."""
    return tuple(n for n in registered() if _SOLVERS[n].composite)


def takers(option: str) -> tuple[str, ...]:
    """Registered solvers that take the solver-specific option ``option``."""
    return tuple(n for n in registered() if option in _SOLVERS[n].extra_options)


def sort_key(name: str) -> tuple[int, str]:
    """Where a solver goes in tables: by its ``order``, then by name; a name not registered goes last."""
    cls = _SOLVERS.get(name)
    return (cls.order if cls is not None else 1 << 30, name)


def available() -> tuple[str, ...]:
    """Names of the solvers whose packages are installed."""
    return tuple(name for name in registered() if _SOLVERS[name].is_available())


def study_default() -> tuple[str, ...]:
    """The solvers a study runs when none are named: every available one except the composites."""
    return tuple(name for name in available() if not _SOLVERS[name].composite)


def get(name: str) -> Solver:
    """A solver by name.

    Raises
    ------
    SolverError
        An unknown name (the message lists the known ones) or a solver whose package is missing.
    """
    cls = capabilities(name)
    if not cls.is_available():
        raise SolverError(f"solver '{name}' needs the packages {', '.join(cls.requires)}; install them with pip")
    return cls()


def solve(instance, solver: str = "layerwise", *, time_limit: float | None = None, seed: int = 0,
          workers: int = 1, max_group: int | None = None, progress=None, objective: str = "dram",
          max_recompute: int | str | None = None, max_dram: int | str | None = None,
          max_latency: int | str | None = None, **extra):
    """Solve an instance with the named solver and return its :class:`~optimus_opt.cost.schedule.Schedule`.

    ``progress`` is an optional :class:`~optimus_opt.utils.progress.Reporter` that hears the solver's phases,
    candidates, incumbent and bound (the CLI draws them on a terminal); the other options are
    :class:`SolveOptions`'s. ``solver="auto"`` gives the best schedule within the time limit (30 s by default)
    with its proven bound. ``objective`` is ``dram``, ``energy`` or ``latency`` (formulations/energy.md); the
    budgets ``max_recompute`` (MACs, or ``"5%"`` of the network's), ``max_dram`` (bytes or ``"40MiB"``) and
    ``max_latency`` (cycles or ``"2.5ms"``) are kept by ``cpsat`` and ``milp`` (:func:`~.base.budgets_for`).

    Examples
    --------
    >>> import optimus_opt as oo
    >>> sched = oo.solve(oo.load_instance("instances/example-64k.json"), "cpsat")
    >>> sched.status, sched.dram_bytes, sched.bound_bytes
    ('optimal', 253460, 253460)
    """
    budgets = budgets_for(instance, max_recompute=max_recompute, max_dram=max_dram, max_latency=max_latency)
    options = SolveOptions(time_limit=time_limit, seed=seed, workers=workers, max_group=max_group, extra=extra,
                           progress=progress, objective=objective, budgets=budgets)
    return get(solver).solve(instance, options)


__all__ = ["Budgets", "budgets_for", "Solver", "SolveOptions", "SolverResult", "available", "capabilities", "composite", "exact_solvers",
           "get", "register", "registered", "solve", "sort_key", "study_default", "takers", "unregister"]
