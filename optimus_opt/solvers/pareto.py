"""The buffer as a decision: the least buffer that reaches a DRAM-traffic target, and the exact Pareto front of
DRAM traffic against buffer capacity (formulations/pareto.md).

The curve hardware designers draw when sizing a buffer (the Optimus paper sweeps 16 KB–1 MB for it; Orojenesis,
ISCA 2024, bounds it) is here computed exactly by the ε-constraint method over the capacity. Each group's tilings
trade footprint for traffic, so every non-dominated (buffer needed, bytes) tiling of every candidate group is a
CP-SAT column of its own. From the largest capacity down:

1. minimise traffic using only columns that need at most the current capacity B — the plain problem at buffer B;
2. with traffic held at that optimum C, minimise the largest buffer any chosen column needs: N ≤ B is the least
   capacity that reaches C, and (N, C) is a point of the front;
3. continue with B = N − 1 until no schedule fits or B falls below the range.

Between two consecutive points the optimum is constant, so the points are exactly the front's corners.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from ..cost.candidates import CandidateSpace
from ..cost.cost_model import CostModel
from ..cost.schedule import Group, Schedule
from ..model.errors import SolverError
from ..model.instance import Instance
from ..utils import progress as _progress
from ..utils.deadline import Deadline, OutOfTime
from .base import SolveOptions
from .cpsat import configured_solver, state_partition
from .setpartition import PartitionModel, SetPartitionSolver, build_model


@dataclass(frozen=True)
class ParetoPoint:
    """A corner of the front: the least ``buffer_bytes`` at which the optimum is ``dram_bytes``."""

    buffer_bytes: int
    dram_bytes: int
    schedule: Schedule


@dataclass(frozen=True)
class ParetoFront:
    """The corners of the traffic/capacity front within [min_buffer, max_buffer], largest buffer first.

    ``complete`` is False when a time limit stopped the sweep (the points found are still exact corners).
    """

    instance: str
    min_buffer: int
    max_buffer: int
    points: tuple[ParetoPoint, ...]
    complete: bool
    seconds: float
    info: dict[str, Any] = field(default_factory=dict)

    def optimum_at(self, buffer_bytes: int) -> int | None:
        """The optimal traffic at a capacity inside the range, read off the front (None: no schedule fits)."""
        for point in self.points:  # largest buffer first
            if point.buffer_bytes <= buffer_bytes:
                return point.dram_bytes
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"format": "optimus-opt/pareto@1", "instance": self.instance, "min_buffer": self.min_buffer,
                "max_buffer": self.max_buffer, "complete": self.complete, "seconds": round(self.seconds, 6),
                "info": self.info,
                "points": [{"buffer_bytes": p.buffer_bytes, "dram_bytes": p.dram_bytes,
                            "groups": [list(g.layers) for g in p.schedule.groups]} for p in self.points]}


def _model(instance: Instance, max_buffer: int, options: SolveOptions,
           recompute: bool = False) -> tuple[CostModel, PartitionModel]:
    """The set-partitioning model whose columns are every candidate's tilings that no other beats in both the
    buffer they need and their bytes (or, with ``recompute``, the MACs recompute adds and their bytes)."""
    cm = CostModel(instance.with_overrides(buffer_bytes=max_buffer))
    together, apart, _ = SetPartitionSolver.side_constraints(cm, options)
    report = _progress.of(options)
    report.phase(f"enumerating the candidate groups that fit {max_buffer:,} B")
    space = CandidateSpace(cm, max_group=options.max_group, deadline=options.deadline)
    if not space.complete:
        raise SolverError("candidate enumeration hit the time limit; raise it or set max_group")
    space.restrict(together, apart)
    report.update(candidates=len(space))
    report.phase("listing the tilings of every candidate group")
    try:  # the same deadline as enumeration's: the limit bounds the whole sweep
        return cm, build_model(cm, space, all_tilings=True, deadline=options.deadline,
                               options_of=cm.recompute_options if recompute else None)
    except OutOfTime:
        raise SolverError("the time limit passed while listing the tilings of the candidate groups; raise it or "
                          "set max_group") from None


def _solve(data: PartitionModel, options: SolveOptions, cap: int | None, cost_cap: int | None, *,
           summed: bool = False):
    """Minimise traffic (cost_cap None) or, with traffic ≤ cost_cap, the columns' side values (``data.needs``),
    all within ``cap``. The side value is a buffer need (the largest one counts: columns needing more than ``cap``
    are out, and the largest chosen need is minimised) or, with ``summed``, the MACs recompute adds (their sum is
    at most ``cap``, None for no bound, and is minimised). A passed deadline (stating the model or CP-SAT's
    search) gives status ``UNKNOWN`` and no answer."""
    from ortools.sat.python import cp_model

    m = cp_model.CpModel()
    try:
        x, t = state_partition(m, data, options.deadline)
    except OutOfTime:
        return "UNKNOWN", None, None
    cost = sum(c * x[k] for k, c in enumerate(data.costs))
    if summed:
        side = sum(a * x[k] for k, a in enumerate(data.needs) if a)
        if cap is not None:
            m.add(side <= cap)
    else:
        for k, need in enumerate(data.needs):
            if need > cap:
                m.add(x[k] == 0)
    if cost_cap is None:
        m.minimize(cost)
    else:
        m.add(cost <= cost_cap)
        if not summed:  # the largest need of a chosen column
            side = m.new_int_var(0, cap, "buffer")
            for k, need in enumerate(data.needs):
                if need <= cap:
                    m.add(side >= need).only_enforce_if(x[k])
        m.minimize(side)
    if options.deadline.expired():
        return "UNKNOWN", None, None
    solver = configured_solver(options, options.deadline)
    status = solver.status_name(solver.solve(m, _progress.cpsat_callback(options, solver) if cost_cap is None
                                             else None))
    if status != "OPTIMAL":
        return status, None, None
    chosen = [k for k in range(len(x)) if solver.value(x[k])]
    return status, int(round(solver.objective_value)), SetPartitionSolver.in_order(data, chosen,
                                                                                  lambda u: solver.value(t[u]))


def _schedule(instance: Instance, buffer: int, groups, dram: int) -> Schedule:
    """The point's schedule with each group's best tiling at that capacity (what evaluate recomputes)."""
    at = instance.with_overrides(buffer_bytes=buffer)
    cm = CostModel(at)
    tiled = [(members, cm.best_tiling(members)) for members, _ in groups]
    total = sum(t.cost for _, t in tiled)
    if total != dram:  # the front's columns and the plain cost model must agree
        raise AssertionError(f"front point at {buffer} B: columns cost {dram}, best tilings cost {total}")
    return Schedule(instance=at.name, solver="pareto-cpsat", status="optimal",
                    groups=tuple(Group.from_tiling(at, m, t) for m, t in tiled), dram_bytes=total,
                    bound_bytes=total, compulsory_bytes=cm.compulsory_bytes())


def pareto_front(instance: Instance, min_buffer: int, max_buffer: int, *, max_group: int | None = None,
                 time_limit: float | None = None, seed: int = 0, workers: int = 1, progress=None,
                 reporter: _progress.Reporter | None = None, deadline: Deadline | None = None,
                 **extra: Any) -> ParetoFront:
    """The exact corners of DRAM traffic against buffer capacity for ``min_buffer`` ≤ B ≤ ``max_buffer``.

    Parameters
    ----------
    instance:
        The network, batch and accelerator (its buffer is replaced by the sweep).
    min_buffer, max_buffer:
        The capacity range in bytes.
    max_group, time_limit, seed, workers, extra:
        As for :func:`optimus_opt.solve`; ``extra`` may hold ``together``/``apart``.
    progress:
        Called with each point as it is found (long sweeps show progress).
    reporter:
        A :class:`~optimus_opt.utils.progress.Reporter` told the phase, the candidates, each solve's incumbent and
        bound, and the corners found so far.
    deadline:
        The :class:`~optimus_opt.utils.deadline.Deadline` the whole sweep draws on (enumeration, tilings, every solve);
        by default ``time_limit`` seconds from the call.

    Returns
    -------
    ParetoFront
        Corners by decreasing buffer; every point's schedule evaluates to its traffic at its buffer.
    """
    if not 1 <= min_buffer <= max_buffer:
        raise SolverError(f"expected 1 <= min_buffer <= max_buffer, got {min_buffer} and {max_buffer}")
    start = time.perf_counter()
    options = SolveOptions(time_limit=time_limit, seed=seed, workers=workers, max_group=max_group, extra=extra,
                           progress=reporter, deadline=deadline)
    _, data = _model(instance, max_buffer, options)
    report = _progress.of(options)
    report.update(columns=len(data.columns))
    points: list[ParetoPoint] = []
    cap, complete, solves = max_buffer, True, 0
    while cap >= min_buffer:
        report.phase(f"the optimum at {cap:,} B")
        report.update(corners=len(points), incumbent=None, bound=None)
        status, best, groups = _solve(data, options, cap, None)
        solves += 1
        if status == "INFEASIBLE":
            break
        if best is None:
            complete = False
            break
        status, need, groups = _solve(data, options, cap, best)
        solves += 1
        if need is None:
            complete = False
            break
        report.phase(f"the least buffer for {best:,} B")
        point = ParetoPoint(buffer_bytes=need, dram_bytes=best, schedule=_schedule(instance, need, groups, best))
        if need < min_buffer:  # the corner lies below the range: the optimum holds down to min_buffer
            point = ParetoPoint(buffer_bytes=min_buffer, dram_bytes=best,
                                schedule=_schedule(instance, min_buffer, groups, best))
        points.append(point)
        if progress is not None:
            progress(point)
        cap = need - 1
    info = {"columns": len(data.columns), "candidates": len(data.space), "solves": solves,
            "space": data.space.describe()}
    return ParetoFront(instance=instance.name, min_buffer=min_buffer, max_buffer=max_buffer, points=tuple(points),
                       complete=complete, seconds=time.perf_counter() - start, info=info)


def least_buffer(instance: Instance, target_bytes: int, max_buffer: int, *, max_group: int | None = None,
                 time_limit: float | None = None, seed: int = 0, workers: int = 1,
                 reporter: _progress.Reporter | None = None, deadline: Deadline | None = None,
                 **extra: Any) -> ParetoPoint | None:
    """The least buffer capacity (≤ ``max_buffer``) at which some schedule moves at most ``target_bytes``, with
    that schedule; None if none does even at ``max_buffer``. The options are :func:`pareto_front`'s; one deadline
    bounds enumeration, tilings and both solves."""
    options = SolveOptions(time_limit=time_limit, seed=seed, workers=workers, max_group=max_group, extra=extra,
                           progress=reporter, deadline=deadline)
    _, data = _model(instance, max_buffer, options)
    _progress.of(options).phase(f"the least buffer that moves at most {target_bytes:,} B")
    status, need, groups = _solve(data, options, max_buffer, target_bytes)
    if status == "INFEASIBLE":
        return None
    if need is None:
        raise SolverError(f"no proof within the time limit (CP-SAT status {status})")
    # the least traffic at that capacity may be below the target: report it
    status, best, best_groups = _solve(data, options, need, None)
    if best is None:
        raise SolverError(f"no proof within the time limit (CP-SAT status {status})")
    return ParetoPoint(buffer_bytes=need, dram_bytes=best, schedule=_schedule(instance, need, best_groups, best))


@dataclass(frozen=True)
class RecomputePoint:
    """A corner of the traffic/recompute front: the fewest ``added_macs`` at which the optimum is ``dram_bytes``."""

    added_macs: int
    dram_bytes: int
    schedule: Schedule


@dataclass(frozen=True)
class RecomputeFront:
    """The corners of DRAM traffic against the MACs that recompute adds, at the instance's buffer, from the fewest
    bytes (most recompute) to no recompute; ``complete`` is False when a time limit stopped the sweep."""

    instance: str
    points: tuple[RecomputePoint, ...]
    complete: bool
    seconds: float
    info: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"format": "optimus-opt/recompute-front@1", "instance": self.instance, "complete": self.complete,
                "seconds": round(self.seconds, 6), "info": self.info,
                "points": [{"added_macs": p.added_macs, "dram_bytes": p.dram_bytes,
                            "groups": [list(g.layers) for g in p.schedule.groups]} for p in self.points]}


def recompute_front(instance: Instance, *, max_group: int | None = None, time_limit: float | None = None,
                    seed: int = 0, workers: int = 1, reporter: _progress.Reporter | None = None,
                    deadline: Deadline | None = None, **extra: Any) -> RecomputeFront:
    """The exact corners of DRAM traffic against the MACs recompute adds (cost model version 3, ``tiling:
    tiles``), at the instance's buffer, by the ε-constraint method over the added MACs (formulations/pareto.md):
    minimise traffic with at most ε added MACs, then, at that traffic, the added MACs M; (M, traffic) is a corner;
    continue with ε = M − 1 until no schedule is left. Each group's columns are its tilings that no other beats in
    both (:meth:`~optimus_opt.cost.cost_model.CostModel.recompute_options`); the options are :func:`pareto_front`'s.
    """
    start = time.perf_counter()
    options = SolveOptions(time_limit=time_limit, seed=seed, workers=workers, max_group=max_group, extra=extra,
                           progress=reporter, deadline=deadline)
    cm, data = _model(instance, instance.accelerator.buffer_bytes, options, recompute=True)
    points: list[RecomputePoint] = []
    budget, complete, solves = None, True, 0
    while budget is None or budget >= 0:
        status, best, _ = _solve(data, options, budget, None, summed=True)
        solves += 1
        if status == "INFEASIBLE":
            break
        if best is None:
            complete = False
            break
        status, added, tiled = _solve(data, options, budget, best, summed=True)
        solves += 1
        if added is None:
            complete = False
            break
        schedule = Schedule(instance=instance.name, solver="recompute-front", status="optimal",
                            groups=tuple(Group.from_tiling(instance, m, t) for m, t in tiled), dram_bytes=best,
                            bound_bytes=best, compulsory_bytes=cm.compulsory_bytes())
        assert sum(t.cost for _, t in tiled) == best and sum(t.added_macs for _, t in tiled) == added
        points.append(RecomputePoint(added_macs=added, dram_bytes=best, schedule=schedule))
        budget = added - 1
    return RecomputeFront(instance=instance.name, points=tuple(points), complete=complete,
                          seconds=time.perf_counter() - start,
                          info={"columns": len(data.columns), "candidates": len(data.space), "solves": solves})
