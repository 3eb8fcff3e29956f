"""The one interface every solver answers, and the result type solvers hand back.

A solver searches a stated space of schedules (``space``) and returns groups of node ids, each with a tiling, plus
what it proved. :meth:`Solver.solve` turns that into a :class:`~optimus_opt.cost.schedule.Schedule`, times it and
fills in the numbers every schedule carries, so that a solver module holds only its algorithm (the cvxpy pattern:
modelling separate from back-ends, one small interface, registration in one place).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping, Sequence

from ..cost.cost_model import CostModel, Tiling
from ..cost.schedule import Group, Schedule
from ..model.errors import SolverError
from ..model.instance import Instance
from ..utils.deadline import Deadline


@dataclass(frozen=True)
class SolveOptions:
    """Options every solver accepts; a solver ignores those that do not apply to it and says which it used.

    Parameters
    ----------
    time_limit:
        Wall-clock seconds, for solvers that search (None: no limit): the user's number, kept for records and
        messages. Solvers draw on ``deadline``, never on this.
    seed:
        Random seed of solvers with randomness; the same seed gives the same schedule.
    workers:
        Threads a solver may use.
    max_group:
        Largest number of layers in a group (None: no cap). A result is exact only over the space it searched, and
        says so in ``solver_info``.
    extra:
        Solver-specific options, by name.
    progress:
        A :class:`~optimus_opt.utils.progress.Reporter` that solvers tell their phase, candidates, incumbent and bound
        (``progress.of(options)`` gives it, or one that ignores everything); not part of a run's identity.
    deadline:
        The run's :class:`~optimus_opt.utils.deadline.Deadline`, which every phase of every solver draws on
        (enumeration, tiling, model building, the back-end's search, the anytime fallback). By default ``time_limit``
        seconds from when the options are made, i.e. where the user's limit enters (:func:`optimus_opt.solve`); give
        one to share a deadline between runs or to use another clock. Not part of a run's identity.
    beside:
        The :class:`~optimus_opt.solvers.beside.Beside` computing the fallback heuristics and the segment bound in
        another process while an exact solver searches, which :meth:`Solver.solve` starts and stops; a stopped
        solver takes its schedule and its bound. Not part of a run's identity.

    Raises
    ------
    SolverError
        A time limit that is not a positive number of seconds (0 or less would stop before any work and answer
        ``unknown``), fewer than one worker, or a group cap below one layer.
    """

    time_limit: float | None = None
    seed: int = 0
    workers: int = 1
    max_group: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    progress: Any = field(default=None, compare=False, repr=False)
    deadline: Deadline = field(default=None, compare=False, repr=False)  # type: ignore[assignment]
    beside: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        limit = self.time_limit
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, float))
                                  or not math.isfinite(limit) or limit <= 0):
            raise SolverError(f"time_limit must be a positive number of seconds, got {limit!r} (give none for no "
                              "limit)")
        if self.deadline is None:  # frozen: set once, here, where the limit enters
            object.__setattr__(self, "deadline", Deadline.after(limit))
        for key, value in (("workers", self.workers), ("max_group", self.max_group)):
            if value is None and key == "max_group":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SolverError(f"{key} must be a positive integer, got {value!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise SolverError(f"seed must be an integer, got {self.seed!r}")


@dataclass(frozen=True)
class SolverResult:
    """What a solver's algorithm returns: groups in execution order with their tilings, and what it proved."""

    status: str
    groups: Sequence[tuple[Sequence[int], Tiling]] = ()
    bound_bytes: int | None = None
    unplaced: Sequence[int] = ()
    message: str | None = None
    info: Mapping[str, Any] = field(default_factory=dict)


class Solver(ABC):
    """A fusion-and-tiling solver.

    Subclasses set ``name`` (the registry key), ``description``, ``space`` (which schedules it searches, in words a
    reader of a result needs) and ``requires`` (Python packages it imports), and implement :meth:`search`.

    They also state their capabilities, which studies, reports and the command line read from the registry (so a
    new solver needs no edit there):

    ``exact``
        A run without a group cap or side constraints proves its bound (and ``infeasible``) over every schedule of
        the cost model; a study gives it its ``max_group`` and a report trusts its infeasibility.
    ``timed``
        It searches under a time limit; a study gives it its ``time_limit`` (the others run to their own limits).
    ``threaded``
        It uses more than one thread when given ``workers``.
    ``composite``
        It only combines other solvers (``auto``); a study leaves it out unless it is named.
    ``extra_options``
        The names of the solver-specific options (``SolveOptions.extra``) it reads; any other is an error.
    ``order``
        Its place in tables and plots (lowest first; equal places by name).
    ``preload``
        Modules a study imports once before forking its runs, so that no run pays (and times) their import.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    space: ClassVar[str]
    requires: ClassVar[tuple[str, ...]] = ()
    exact: ClassVar[bool] = False
    timed: ClassVar[bool] = False
    threaded: ClassVar[bool] = False
    composite: ClassVar[bool] = False
    extra_options: ClassVar[tuple[str, ...]] = ()
    order: ClassVar[int] = 1000
    preload: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def is_available(cls) -> bool:
        """Whether the packages this solver needs are installed."""
        return all(importlib.util.find_spec(p) is not None for p in cls.requires)

    @classmethod
    def check_options(cls, extra: Mapping[str, Any]) -> None:
        """Refuse solver-specific options this solver does not read.

        Raises
        ------
        SolverError
            Naming the solver, the first unknown option, the options it takes and which registered solvers take
            that option, if any.

        Examples
        --------
        >>> from optimus_opt.solvers import get
        >>> type(get("cpsat")).check_options({"warm_start": None, "prune": False})
        >>> type(get("layerwise")).check_options({"beam": 4})
        Traceback (most recent call last):
        ...
        optimus_opt.model.errors.SolverError: solver 'layerwise' takes no option 'beam' (it takes none); optimus, optimus-online take it
        """
        for key in extra:
            if key in cls.extra_options:
                continue
            from . import takers  # the registry imports this module

            takes = ", ".join(sorted(cls.extra_options)) if cls.extra_options else None
            others = takers(key)
            hint = f"; {', '.join(others)} take{'s' if len(others) == 1 else ''} it" if others else ""
            raise SolverError(f"solver '{cls.name}' takes no option '{key}' "
                              f"({'it takes: ' + takes if takes else 'it takes none'}){hint}")

    def start_beside(self, cm: CostModel, options: SolveOptions) -> Any:
        """What this solver computes in another process while it searches (an object with ``close()``, which
        :meth:`solve` calls when the search returns), or None: nothing, by default
        (:class:`~optimus_opt.solvers.anytime.Fallback` starts the fallback's work beside an exact search)."""
        return None

    def run_deadline(self, options: SolveOptions) -> Deadline:
        """The deadline this solver's run keeps: the options' (a solver with a limit of its own says so)."""
        return options.deadline

    @abstractmethod
    def search(self, cm: CostModel, options: SolveOptions) -> SolverResult:
        """Find a schedule of ``cm.instance`` within this solver's space."""

    @staticmethod
    def side_constraints(cm: CostModel, options: SolveOptions) -> tuple[list[int], list[int], int | None]:
        """The ``together`` and ``apart`` layer sets (as bitsets) and ``max_groups`` from ``options.extra``.

        ``together``: lists of layer names that must share one group; ``apart``: lists of layer names no two of
        which may share a group; ``max_groups``: at most this many groups.

        Raises
        ------
        SolverError
            For an unknown layer name or a malformed option.
        """
        index = cm.network.index

        def masks(key: str) -> list[int]:
            out = []
            for names in options.extra.get(key, ()):
                if isinstance(names, str) or len(names) < 2:
                    raise SolverError(f"option {key}: expected lists of two or more layer names, got {names!r}")
                mask = 0
                for name in names:
                    if name not in index or cm.network.layer(name).op == "input":
                        raise SolverError(f"option {key}: unknown layer '{name}'")
                    mask |= 1 << index[name]
                out.append(mask)
            return out

        max_groups = options.extra.get("max_groups")
        if max_groups is not None and (isinstance(max_groups, bool) or not isinstance(max_groups, int)
                                       or max_groups < 1):
            raise SolverError(f"option max_groups: expected a positive integer, got {max_groups!r}")
        return masks("together"), masks("apart"), max_groups

    def solve(self, instance: Instance, options: SolveOptions | None = None) -> Schedule:
        """Run :meth:`search` and package its result as a schedule with every number filled in."""
        options = options or SolveOptions()
        self.check_options(options.extra)
        cm = CostModel(instance)
        start = time.perf_counter()
        beside = None
        if options.beside is None and options.extra.get("anytime", True):
            beside = self.start_beside(cm, options)
            if beside is not None:
                options = dataclasses.replace(options, beside=beside)
        try:
            result = self.search(cm, options)
        finally:
            if beside is not None:
                beside.close()
        seconds = time.perf_counter() - start
        net = instance.network
        groups = tuple(Group.from_tiling(instance, members, tiling) for members, tiling in result.groups)
        info = {"space": self.space, "seed": options.seed, "workers": options.workers,
                "time_limit_s": options.time_limit, "max_group": options.max_group, **result.info}
        if result.bound_bytes is not None:  # over which schedules the bound holds: "all", or the restriction
            info.setdefault("bound_scope", bound_scope(options))
        return Schedule(instance=instance.name, solver=self.name, status=result.status, groups=groups,
                        dram_bytes=sum(t.cost for _, t in result.groups) if result.groups else None,
                        bound_bytes=result.bound_bytes, compulsory_bytes=cm.compulsory_bytes(),
                        solve_seconds=seconds, solver_info=info,
                        unplaced=tuple(net.layers[u].name for u in result.unplaced), message=result.message)


def bound_scope(options: SolveOptions) -> str:
    """``all`` when a bound proven under ``options`` holds over every schedule of the cost model, else the
    restriction it holds under: ``max_group=4``, side constraints (``together``, ``apart``, ``max_groups``)."""
    parts = [f"max_group={options.max_group}"] if options.max_group is not None else []
    parts += [key for key in ("together", "apart", "max_groups") if options.extra.get(key)]
    return ", ".join(parts) if parts else "all"
