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
from ..cost.energy import OBJECTIVES, ZERO
from ..cost.schedule import Group, Schedule
from ..model.errors import SolverError
from ..model.instance import Instance
from ..utils.deadline import Deadline

#: The budgets a schedule may be held to (ε-constraints, formulations/energy.md "Budgets"): the Tiling fields they
#: sum, by option name.
BUDGET_FIELDS = {"max_recompute": "added_macs", "max_dram": "dram_bytes", "max_latency": "latency_cycles"}


@dataclass(frozen=True)
class Budgets:
    """Upper bounds on a schedule's sums over its groups: MACs added by recompute, DRAM bytes, latency cycles
    (None: no bound). They couple the groups, so only solvers that choose each group's tiling inside their model
    (``budgets`` capability: cpsat, milp) honour them."""

    max_recompute: int | None = None
    max_dram: int | None = None
    max_latency: int | None = None

    def __post_init__(self) -> None:
        for key in BUDGET_FIELDS:
            value = getattr(self, key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise SolverError(f"{key} must be a whole number of at least 0, got {value!r}")

    def items(self) -> list[tuple[str, str, int]]:
        """(option, Tiling field, bound) of every bound given."""
        return [(key, field_, getattr(self, key)) for key, field_ in BUDGET_FIELDS.items()
                if getattr(self, key) is not None]

    def __bool__(self) -> bool:
        return bool(self.items())

    def describe(self) -> str:
        units = {"max_recompute": "added MACs", "max_dram": "B", "max_latency": "cycles"}
        return ", ".join(f"{key.replace('_', '-')} {value:,} {units[key]}" for key, _, value in self.items())


NO_BUDGETS = Budgets()


def budgets_for(instance: Instance, *, max_recompute: int | str | None = None, max_dram: int | str | None = None,
                max_latency: int | str | None = None) -> Budgets:
    """:class:`Budgets` from what a user writes: ``max_recompute`` a count of MACs or a percentage of the network's
    own MACs over the batch (``"5%"``); ``max_dram`` bytes or a size (``"40MiB"``); ``max_latency`` cycles or a
    time at the accelerator's clock (``"2.5ms"``, ``"300us"``, ``"1s"``; whole cycles, rounded down).

    Raises
    ------
    SolverError
        For a value that is none of these, naming the option.
    """
    from decimal import Decimal, InvalidOperation

    from ..model.accelerator import parse_size

    def number(text: str, key: str) -> Decimal:
        try:
            value = Decimal(text)
        except InvalidOperation:
            value = Decimal(-1)
        if not value.is_finite() or value < 0:
            raise SolverError(f"{key}: expected a number of at least 0, got {text!r}")
        return value

    def whole(value, key: str, parse) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool):
            raise SolverError(f"{key}: expected a whole number, got {value!r}")
        if isinstance(value, int):
            if value < 0:
                raise SolverError(f"{key}: expected a whole number of at least 0, got {value}")
            return value
        return parse(str(value).strip())

    def macs(text: str) -> int:
        if text.endswith("%"):
            own = instance.batch * instance.network.total_macs
            return int(number(text[:-1], "max_recompute") * own / 100)
        return int(number(text, "max_recompute"))

    def size(text: str) -> int:
        if text.isdigit():
            return int(text)
        try:
            return parse_size(text)
        except ValueError as err:
            raise SolverError(f"max_dram: {err}") from None

    def cycles(text: str) -> int:
        import re

        m = re.fullmatch(r"([0-9.]+)\s*(s|ms|us|µs|cycles)?", text)
        if not m:
            raise SolverError(f"max_latency: expected cycles or a time (2.5ms, 300us, 1s), got {text!r}")
        value, unit = number(m.group(1), "max_latency"), m.group(2) or "cycles"
        if unit != "cycles":  # seconds at the clock, in whole cycles
            per_second = {"s": 1, "ms": 10 ** 3, "us": 10 ** 6, "µs": 10 ** 6}[unit]
            return int(value * instance.accelerator.clock_mhz * 10 ** 6 / per_second)
        if value != value.to_integral_value():
            raise SolverError(f"max_latency: a number of cycles is whole, got {text!r} (a time needs a unit: s, "
                              "ms, us)")
        return int(value)

    return Budgets(max_recompute=whole(max_recompute, "max_recompute", macs),
                   max_dram=whole(max_dram, "max_dram", size),
                   max_latency=whole(max_latency, "max_latency", cycles))


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
    objective:
        What the solver minimises: ``dram`` (bytes, the default), ``energy`` (fJ) or ``latency`` (cycles), as
        formulations/energy.md defines them. Every schedule reports all three, whatever it minimised.
    budgets:
        :class:`Budgets` the schedule must keep (solvers with the ``budgets`` capability only).
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
    objective: str = "dram"
    budgets: Budgets = NO_BUDGETS

    def __post_init__(self) -> None:
        if self.objective not in OBJECTIVES:
            raise SolverError(f"unknown objective {self.objective!r} (known: {', '.join(OBJECTIVES)})")
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
    ``budgets``
        It honours :class:`Budgets` (each group's tiling is a decision of its model); the others refuse them.
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
    budgets: ClassVar[bool] = False

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

    @classmethod
    def check_budgets(cls, budgets: Budgets) -> None:
        """Refuse budgets this solver cannot keep (it has no ``budgets`` capability), naming those that can.

        Raises
        ------
        SolverError
            In one line: the solver, the budgets and the solvers that keep them.
        """
        if not budgets or cls.budgets:
            return
        from . import capabilities, registered  # the registry imports this module

        able = " and ".join(n for n in registered() if capabilities(n).budgets)
        raise SolverError(f"solver '{cls.name}' cannot keep budgets ({budgets.describe()}): they couple the groups' "
                          f"tilings, which only {able} choose inside their model")

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
        self.check_budgets(options.budgets)
        cm = CostModel(instance, objective=options.objective)
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
        info = {"space": self.space, "seed": options.seed, "workers": options.workers,
                "time_limit_s": options.time_limit, "max_group": options.max_group, **result.info}
        if options.budgets:
            info["budgets"] = {key: value for key, _, value in options.budgets.items()}
        if result.bound_bytes is not None:  # over which schedules the bound holds: "all", or the restriction
            info.setdefault("bound_scope", bound_scope(options))
        return schedule_of(cm, self.name, result.status, result.groups, bound=result.bound_bytes,
                           solve_seconds=seconds, solver_info=info,
                           unplaced=tuple(net.layers[u].name for u in result.unplaced), message=result.message)


def schedule_of(cm: CostModel, solver: str, status: str, groups: Sequence[tuple[Sequence[int], Tiling]], *,
                bound: int | None = None, **fields: Any) -> Schedule:
    """A schedule of ``groups`` with every figure of every group (DRAM bytes, MACs, energy, latency) and the
    bound in the cost model's objective: ``bound_bytes`` under the DRAM objective, ``objective_bound`` otherwise."""
    instance = cm.instance
    figures = [cm.figures(members, tiling) for members, tiling in groups]
    total = sum(figures, ZERO) if groups else None
    dram = cm.objective == "dram"
    return Schedule(instance=instance.name, solver=solver, status=status,
                    groups=tuple(Group.from_tiling(instance, members, tiling, f)
                                 for (members, tiling), f in zip(groups, figures)),
                    dram_bytes=total.dram_bytes if total else None, bound_bytes=bound if dram else None,
                    compulsory_bytes=cm.compulsory_bytes(), objective=cm.objective,
                    objective_bound=None if dram else bound,
                    energy_fj=total.energy_fj if total else None,
                    latency_cycles=total.latency_cycles if total else None, **fields)


def bound_scope(options: SolveOptions) -> str:
    """``all`` when a bound proven under ``options`` holds over every schedule of the cost model, else the
    restriction it holds under: ``max_group=4``, side constraints (``together``, ``apart``, ``max_groups``),
    budgets (``max_recompute=0``: a bound over the schedules that keep them)."""
    parts = [f"max_group={options.max_group}"] if options.max_group is not None else []
    parts += [key for key in ("together", "apart", "max_groups") if options.extra.get(key)]
    parts += [f"{key}={value}" for key, _, value in options.budgets.items()]
    return ", ".join(parts) if parts else "all"
