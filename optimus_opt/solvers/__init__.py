"""Solvers behind one interface (:class:`Solver`) and one registry.

Adding a solver touches one module and one line here.
"""

from __future__ import annotations

from ..errors import SolverError
from .auto import Auto
from .base import Solver, SolveOptions, SolverResult
from .baselines import DNNVM, EfficientS
from .cpsat import CPSat
from .exact_dp import ExactDP
from .layerwise import Layerwise
from .milp import Milp
from .optimus_dp import Optimus, OptimusOnline

_SOLVERS: dict[str, type[Solver]] = {cls.name: cls for cls in (Auto, Layerwise, ExactDP, CPSat, Milp, Optimus,
                                                                OptimusOnline, EfficientS, DNNVM)}
#: Solvers that only combine others (``auto``): a study runs the solvers themselves, so it leaves these out
#: unless they are named.
COMPOSITE = ("auto",)


def registered() -> tuple[str, ...]:
    """Names of every solver the project has, installed or not."""
    return tuple(_SOLVERS)


def available() -> tuple[str, ...]:
    """Names of the solvers whose packages are installed."""
    return tuple(name for name, cls in _SOLVERS.items() if cls.is_available())


def study_default() -> tuple[str, ...]:
    """The solvers a study runs when none are named: every available one except the composites."""
    return tuple(name for name in available() if name not in COMPOSITE)


def get(name: str) -> Solver:
    """A solver by name.

    Raises
    ------
    SolverError
        An unknown name (the message lists the known ones) or a solver whose package is missing.
    """
    if name not in _SOLVERS:
        raise SolverError(f"unknown solver '{name}' (known: {', '.join(_SOLVERS)})")
    cls = _SOLVERS[name]
    if not cls.is_available():
        raise SolverError(f"solver '{name}' needs the packages {', '.join(cls.requires)}; install them with pip")
    return cls()


def solve(instance, solver: str = "layerwise", *, time_limit: float | None = None, seed: int = 0,
          workers: int = 1, max_group: int | None = None, progress=None, **extra):
    """Solve an instance with the named solver and return its :class:`~optimus_opt.schedule.Schedule`.

    ``progress`` is an optional :class:`~optimus_opt.progress.Reporter` that hears the solver's phases,
    candidates, incumbent and bound (the CLI draws them on a terminal); the other options are
    :class:`SolveOptions`'s. ``solver="auto"`` gives the best schedule within the time limit (30 s by default)
    with its proven bound.

    Examples
    --------
    >>> import optimus_opt as oo                                          # doctest: +SKIP
    >>> sched = oo.solve(oo.load_instance("instances/example-64k.json"))  # doctest: +SKIP
    """
    options = SolveOptions(time_limit=time_limit, seed=seed, workers=workers, max_group=max_group, extra=extra,
                           progress=progress)
    return get(solver).solve(instance, options)


__all__ = ["COMPOSITE", "Solver", "SolveOptions", "SolverResult", "available", "get", "registered", "solve",
           "study_default"]
