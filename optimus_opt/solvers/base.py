"""The one interface every solver answers, and the result type solvers hand back.

A solver searches a stated space of schedules (``space``) and returns groups of node ids, each with a tiling, plus
what it proved. :meth:`Solver.solve` turns that into a :class:`~optimus_opt.schedule.Schedule`, times it and fills in
the numbers every schedule carries, so that a solver module holds only its algorithm (the cvxpy pattern: modelling
separate from back-ends, one small interface, registration in one place).
"""

from __future__ import annotations

import importlib.util
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping, Sequence

from ..cost import CostModel, Tiling
from ..errors import SolverError
from ..instance import Instance
from ..schedule import Group, Schedule


@dataclass(frozen=True)
class SolveOptions:
    """Options every solver accepts; a solver ignores those that do not apply to it and says which it used.

    Parameters
    ----------
    time_limit:
        Wall-clock seconds, for solvers that search (None: no limit).
    seed:
        Random seed of solvers with randomness; the same seed gives the same schedule.
    workers:
        Threads a solver may use.
    max_group:
        Largest number of layers in a group (None: no cap). A result is exact only over the space it searched, and
        says so in ``solver_info``.
    extra:
        Solver-specific options, by name.
    """

    time_limit: float | None = None
    seed: int = 0
    workers: int = 1
    max_group: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


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
    """

    name: ClassVar[str]
    description: ClassVar[str]
    space: ClassVar[str]
    requires: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def is_available(cls) -> bool:
        """Whether the packages this solver needs are installed."""
        return all(importlib.util.find_spec(p) is not None for p in cls.requires)

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
        cm = CostModel(instance)
        start = time.perf_counter()
        result = self.search(cm, options)
        seconds = time.perf_counter() - start
        net = instance.network
        groups = tuple(Group.from_tiling(instance, members, tiling) for members, tiling in result.groups)
        info = {"space": self.space, "seed": options.seed, "workers": options.workers,
                "time_limit_s": options.time_limit, "max_group": options.max_group, **result.info}
        return Schedule(instance=instance.name, solver=self.name, status=result.status, groups=groups,
                        dram_bytes=sum(t.cost for _, t in result.groups) if result.groups else None,
                        bound_bytes=result.bound_bytes, compulsory_bytes=cm.compulsory_bytes(),
                        solve_seconds=seconds, solver_info=info,
                        unplaced=tuple(net.layers[u].name for u in result.unplaced), message=result.message)
