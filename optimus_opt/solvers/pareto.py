"""The buffer as a decision: the least buffer that reaches a DRAM-traffic target, and the exact Pareto front of
DRAM traffic against buffer capacity (formulations/pareto.md).

The curve hardware designers draw when sizing a buffer (the Optimus paper sweeps 16 KB–1 MB for it; Orojenesis,
ISCA 2024, bounds it) is here computed exactly by the ε-constraint method over the capacity. Each group's tilings
trade footprint for traffic, so every non-dominated (buffer needed, bytes) tiling of every candidate group is a
column of its own. From the largest capacity down:

1. minimise traffic using only columns that need at most the current capacity B — the plain problem at buffer B;
2. with traffic held at that optimum C, minimise the largest buffer any chosen column needs: N ≤ B is the least
   capacity that reaches C, and (N, C) is a point of the front;
3. continue with B = N − 1 until no schedule fits or B falls below the range.

Between two consecutive points the optimum is constant, so the points are exactly the front's corners.

Every corner shares the columns (listed once, at the largest capacity) and, where the network has few down-sets
(SqueezeNet 1.0: 39), the chains of down-sets too: a corner is then one pass of a dynamic program over them that
minimises (traffic, largest need) in lexicographic order, steps 1 and 2 at once, in milliseconds. Otherwise each
step is a CP-SAT solve of one set-partitioning model, stated once and copied per solve.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from ..cost.candidates import CandidateSpace
from ..cost.cost_model import CostModel, Tiling
from ..cost.energy import OBJECTIVES, UNITS
from ..cost.objective import UNBOUNDED, spans
from ..cost.parts import FULL
from ..cost.schedule import Schedule
from ..model.errors import SolverError
from ..model.instance import Instance
from ..utils import progress as _progress
from ..utils.deadline import Deadline, OutOfTime
from .base import SolveOptions, schedule_of
from .cpsat import configured_solver
from .cpsat_model import solve_interruptibly, state_partition
from .partition_model import CHECK_EVERY, PartitionModel, build_model, in_order
from .setpartition import SetPartitionSolver

#: How a front is swept: ``dp`` (the down-set DP), ``cpsat``, or ``auto`` (the DP unless the network has more
#: down-sets or transitions than below).
METHODS = ("auto", "dp", "cpsat")
#: Down-sets above which ``auto`` sweeps with CP-SAT: each corner's DP pass visits every transition, in Python.
MAX_DOWNSETS = 100_000
#: Transitions (down-set, candidate group) above which ``auto`` sweeps with CP-SAT.
MAX_TRANSITIONS = 2_000_000

#: Why a sweep stopped before its end: the time limit, or Ctrl-C.
TIME_LIMIT, INTERRUPTED = "time limit", "interrupted"

Groups = list[tuple[tuple[int, ...], Tiling]]


@dataclass(frozen=True)
class ParetoPoint:
    """A corner of the front: the least ``buffer_bytes`` at which the optimum is ``dram_bytes``."""

    buffer_bytes: int
    dram_bytes: int
    schedule: Schedule


@dataclass(frozen=True)
class ParetoFront:
    """The corners of the traffic/capacity front within [min_buffer, max_buffer], largest buffer first.

    ``complete`` is False when the sweep stopped early, ``stopped`` says why (``"time limit"`` or
    ``"interrupted"``): the points found are still exact corners, and the front below the last one is missing.
    """

    instance: str
    min_buffer: int
    max_buffer: int
    points: tuple[ParetoPoint, ...]
    complete: bool
    seconds: float
    info: dict[str, Any] = field(default_factory=dict)
    stopped: str | None = None

    def optimum_at(self, buffer_bytes: int) -> int | None:
        """The optimal traffic at a capacity inside the range, read off the front (None: no schedule fits)."""
        for point in self.points:  # largest buffer first
            if point.buffer_bytes <= buffer_bytes:
                return point.dram_bytes
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"format": "optimus-opt/pareto@1", "instance": self.instance, "min_buffer": self.min_buffer,
                "max_buffer": self.max_buffer, "complete": self.complete, "partial": not self.complete,
                "stopped": self.stopped, "seconds": round(self.seconds, 6), "info": self.info,
                "points": [{"buffer_bytes": p.buffer_bytes, "dram_bytes": p.dram_bytes,
                            "groups": [list(g.layers) for g in p.schedule.groups]} for p in self.points]}


class FrontInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a sweep; ``front`` holds the corners found before it (``stopped`` ``"interrupted"``), so
    that a caller can still write them, marked partial. A :class:`KeyboardInterrupt`, so that code that does not
    know it stops as on any Ctrl-C."""

    def __init__(self, front: ParetoFront | RecomputeFront | MetricFront) -> None:
        super().__init__("interrupted")
        self.front = front


def _model(instance: Instance, max_buffer: int, options: SolveOptions, columns: Callable | None = None,
           objective: str = "dram") -> tuple[CostModel, PartitionModel]:
    """The set-partitioning model whose columns are every candidate's tilings that no other beats in both the
    buffer they need and their bytes, or what ``columns(cm)`` lists: (side value, tiling) pairs of a group, as
    :func:`~.setpartition.build_model`'s ``options_of``; ``cm`` prices by ``objective``."""
    cm = CostModel(instance.with_overrides(buffer_bytes=max_buffer), objective=objective)
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
                               options_of=None if columns is None else columns(cm))
    except OutOfTime:
        raise SolverError("the time limit passed while listing the tilings of the candidate groups; raise it or "
                          "set max_group") from None


# ---- the sweep by CP-SAT ----------------------------------------------------------------------------------------


class _CpsatSweep:
    """The set-partitioning model of ``data`` stated once (formulations/cpsat.md); each solve copies it and adds
    only its own bounds and objective, so that the corners share the work of stating the columns.

    What is minimised and bounded are per-column vectors: ``costs`` (by default the tilings' costs, the bytes)
    and ``sides`` (by default ``data.needs``). ``highs`` (None: none) gives a column's capacity from which it may
    no longer be chosen, and ``floor`` the least capacity of the sweep, where sides are buffer needs."""

    def __init__(self, data: PartitionModel, options: SolveOptions, *, costs: Sequence[int] | None = None,
                 sides: Sequence[int] | None = None, highs: Sequence[int] | None = None, floor: int = 0) -> None:
        self.data, self.options = data, options
        self.costs = list(data.costs if costs is None else costs)
        self.sides = list(data.needs if sides is None else sides)
        self.highs, self.floor = highs, floor
        self.base = self.x = self.t = None
        self.solves = 0

    def _stated(self) -> bool:
        """State the shared model unless done; False when the deadline passed while stating it."""
        if self.base is None:
            from ortools.sat.python import cp_model

            base = cp_model.CpModel()
            try:
                self.x, self.t = state_partition(base, self.data, self.options.deadline)
            except OutOfTime:
                return False
            self.base = base
        return True

    def solve(self, cap: int | None, cost_cap: int | None, *, summed: bool = False):
        """Minimise the summed costs (cost_cap None) or, with their sum ≤ cost_cap, the side values, all within
        ``cap``. The side value is a buffer need (the largest one counts: columns needing more than ``cap`` are
        out, a column is chosen only below its high, and the largest chosen need, at least ``floor``, is
        minimised) or, with ``summed``, a sum (at most ``cap``, None for no bound, and minimised): the MACs
        recompute adds, energy, latency, bytes. Returns (CP-SAT status, the minimum, exact, groups in order); a
        passed deadline (stating the model or CP-SAT's search) gives status ``UNKNOWN`` and no answer. Ctrl-C
        raises :class:`KeyboardInterrupt` once the search has stopped."""
        options, costs, sides, highs = self.options, self.costs, self.sides, self.highs
        if not self._stated():
            return "UNKNOWN", None, None
        from ortools.sat.python.cp_model import LinearExpr

        self.solves += 1
        m, x = self.base.clone(), self.x  # a copy keeps the variables' indices: x and t still name them
        cost = LinearExpr.weighted_sum(x, costs)
        side = None
        if summed:
            side = LinearExpr.weighted_sum(x, sides)
            if cap is not None:
                m.add(side <= cap)
        else:
            for k, need in enumerate(sides):
                if need > cap:
                    m.add(x[k] == 0)
            # the largest need, when it is minimised or some column's high falls inside the capacities
            if cost_cap is not None or (highs is not None and any(h <= cap and n <= cap
                                                                   for n, h in zip(sides, highs))):
                side = m.new_int_var(self.floor, cap, "buffer")
                for k, need in enumerate(sides):
                    if need <= cap:
                        m.add(side >= need).only_enforce_if(x[k])
                        if highs is not None and highs[k] <= cap:
                            m.add(side < highs[k]).only_enforce_if(x[k])
        if cost_cap is None:
            m.minimize(cost)
        else:
            m.add(cost <= cost_cap)
            m.minimize(side)
        if options.deadline.expired():
            return "UNKNOWN", None, None
        solver = configured_solver(options, options.deadline)
        listen = _progress.cpsat_callback(options, solver) if cost_cap is None else None
        status = solver.status_name(solve_interruptibly(solver, m, listen))
        if status == "MODEL_INVALID":  # a sum of the columns' values beyond 64-bit integers
            raise SolverError("CP-SAT refused the front's model (its sums of the columns' values may overflow 64-bit "
                              "integers); set max_group to list fewer columns")
        if status != "OPTIMAL":
            return status, None, None
        chosen = [k for k in range(len(x)) if solver.value(x[k])]
        if cost_cap is None:
            value = sum(costs[k] for k in chosen)
        else:
            value = sum(sides[k] for k in chosen) if summed else int(solver.value(side))
        return status, value, in_order(self.data, chosen, lambda u: solver.value(self.t[u]))

    def corner(self, cap: int) -> tuple[str, int | None, int | None, Groups | None]:
        """The optimum C at capacity ``cap`` and the least capacity N ≤ cap that reaches it, with its groups:
        (status, C, N, groups); status ``INFEASIBLE`` when nothing fits ``cap``, ``UNKNOWN`` past the deadline."""
        status, best, _ = self.solve(cap, None)
        if best is None:
            return status, None, None, None
        status, need, groups = self.solve(cap, best)
        if need is None:
            return "UNKNOWN", None, None, None
        return status, best, need, groups


# ---- the sweep by the down-set DP -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Chains:
    """The chains of down-sets the candidate groups make (formulations/exact-dp.md), listed once for the sweep.

    Down-set i > 0 is entered by the transitions ``starts[i]`` to ``starts[i + 1]`` − 1, transition j from the
    down-set ``sources[j]`` (smaller, so listed before) by the candidate group ``groups[j]``; down-set 0 is ∅ and
    ``full`` the index of the whole network (None: no chain reaches it). Candidate group g's options, by
    increasing need, have the needs ``needs[g]``; ``cheapest[g][k]`` is (cost, need, column) of the cheapest of
    its first k + 1 options (the least need among equal costs): its best tiling at any capacity from
    ``needs[g][k]`` up to the next need; ``columns[g]`` are those options' columns.
    """

    starts: tuple[int, ...]
    sources: tuple[int, ...]
    groups: tuple[int, ...]
    full: int | None
    needs: tuple[tuple[int, ...], ...]
    cheapest: tuple[tuple[tuple[int, int, int], ...], ...]
    columns: tuple[tuple[int, ...], ...] = ()

    @property
    def downsets(self) -> int:
        return len(self.starts) - 1

    def corner(self, cap: int) -> tuple[str, int | None, int | None, list[int] | None]:
        """One pass of the DP at capacity ``cap``: each down-set's least (traffic, largest need) in lexicographic
        order over the chains that reach it with columns needing at most ``cap``. At the whole network this is
        the optimum C at ``cap`` and the least capacity N that reaches it (every group of an optimal schedule
        takes its cheapest option within ``cap``, else a cheaper one would beat C), the two CP-SAT solves of a
        corner at once; (status, C, N, columns in order), status ``INFEASIBLE`` when no schedule fits ``cap``.
        The DP is exact because the order is monotone: adding a group to the smaller of two pairs never gives the
        larger result."""
        pick = []
        for needs, cheapest in zip(self.needs, self.cheapest):
            k = bisect_right(needs, cap)
            pick.append(cheapest[k - 1] if k else None)
        return self.run(pick)

    def run(self, pick: list[tuple[int, int, int] | None]) -> tuple[str, int | None, int | None, list[int] | None]:
        """The DP pass of :meth:`corner` with candidate group g's option ``pick[g]`` (cost, need, column), None
        where it has none."""
        n, starts, sources, groups = self.downsets, self.starts, self.sources, self.groups
        cost: list[int | None] = [None] * n
        need = [0] * n
        back = [-1] * n
        cost[0] = 0
        for i in range(1, n):
            best_cost = best_need = None
            arg = -1
            for j in range(starts[i], starts[i + 1]):
                option = pick[groups[j]]
                if option is None:
                    continue
                src = sources[j]
                c = cost[src]
                if c is None:
                    continue
                c += option[0]
                nd = need[src] if need[src] > option[1] else option[1]
                if best_cost is None or c < best_cost or (c == best_cost and nd < best_need):
                    best_cost, best_need, arg = c, nd, j
            if arg >= 0:
                cost[i], need[i], back[i] = best_cost, best_need, arg
        if self.full is None or cost[self.full] is None:
            return "INFEASIBLE", None, None, None
        columns = []
        i = self.full
        while i:
            j = back[i]
            columns.append(pick[groups[j]][2])
            i = sources[j]
        columns.reverse()
        return "OPTIMAL", cost[self.full], need[self.full], columns


def _chains(data: PartitionModel, deadline: Deadline, limits: tuple[int, int] | None) -> _Chains | None:
    """The :class:`_Chains` of the model's candidate groups, or None when ``limits`` (down-sets, transitions) are
    exceeded. Raises :class:`~optimus_opt.utils.deadline.OutOfTime` once ``deadline`` has passed."""
    space = data.space
    index: dict[int, int] = {}  # a candidate's mask -> its number
    needs: list[list[int]] = []
    options: list[list[tuple[int, int, int]]] = []
    for k, cand in enumerate(data.columns):
        g = index.setdefault(cand.mask, len(index))
        if g == len(needs):
            needs.append([])
            options.append([])
        options[g].append((data.needs[k], data.tilings[k].cost, k))
    cheapest: list[tuple[tuple[int, int, int], ...]] = []
    for g, listed in enumerate(options):
        listed.sort(key=lambda o: (o[0], o[1]))
        needs[g] = [need for need, _, _ in listed]
        running, best = [], None
        for need, cost, k in listed:
            if best is None or cost < best[0]:
                best = (cost, need, k)
            running.append(best)
        cheapest.append(tuple(running))
    full = space.layer_mask
    number: dict[int, int] = {}
    incoming: dict[int, list[tuple[int, int]]] = {0: []}
    buckets: dict[int, list[int]] = {0: [0]}
    starts, sources, groups = [0], [], []
    transitions = 0
    for size in range(full.bit_count() + 1):
        for d in buckets.pop(size, ()):
            if len(number) % CHECK_EVERY == 0:
                deadline.check("listing the chains of down-sets")
            i = number[d] = len(number)
            for src, g in incoming.pop(d):
                sources.append(src)
                groups.append(g)
            starts.append(len(sources))
            for cand in space.following(d):
                g = index.get(cand.mask)
                if g is None:
                    continue
                nd = d | cand.mask
                transitions += 1
                waiting = incoming.get(nd)
                if waiting is None:
                    incoming[nd] = waiting = []
                    buckets.setdefault(nd.bit_count(), []).append(nd)
                waiting.append((i, g))
            if limits is not None and (len(number) + len(incoming) > limits[0] or transitions > limits[1]):
                return None
    return _Chains(starts=tuple(starts), sources=tuple(sources), groups=tuple(groups), full=number.get(full),
                   needs=tuple(tuple(n) for n in needs), cheapest=tuple(cheapest),
                   columns=tuple(tuple(k for _, _, k in listed) for listed in options))


class _DPSweep:
    """The corners by :meth:`_Chains.corner`, with the groups of the columns it picks."""

    def __init__(self, data: PartitionModel, chains: _Chains) -> None:
        self.data, self.chains = data, chains
        self.solves = 0

    def corner(self, cap: int) -> tuple[str, int | None, int | None, Groups | None]:
        self.solves += 1
        status, best, need, columns = self.chains.corner(cap)
        if columns is None:
            return status, None, None, None
        return status, best, need, [(self.data.members[k], self.data.tilings[k]) for k in columns]


def _sweeper(data: PartitionModel, options: SolveOptions, method: str) -> _DPSweep | _CpsatSweep | None:
    """The sweep ``method`` asks for (``auto``: the DP within :data:`MAX_DOWNSETS` and :data:`MAX_TRANSITIONS`,
    else CP-SAT); None when the deadline passed while listing the down-sets."""
    if method not in METHODS:
        raise SolverError(f"unknown method '{method}' for the front (known: {', '.join(METHODS)})")
    if method != "cpsat":
        _progress.of(options).phase("listing the chains of down-sets")
        try:
            chains = _chains(data, options.deadline, (MAX_DOWNSETS, MAX_TRANSITIONS) if method == "auto" else None)
        except OutOfTime:
            return None
        if chains is not None:
            _progress.of(options).update(downsets=chains.downsets)
            return _DPSweep(data, chains)
    from . import get

    get("cpsat")  # a missing OR-Tools is said here, as a SolverError that names the package
    return _CpsatSweep(data, options)


def _describe(sweep: _DPSweep | _CpsatSweep | _ScanSweep | None) -> dict[str, Any]:
    """What ``info`` says of the sweep's method."""
    if isinstance(sweep, _ScanSweep):
        return {"method": "down-set DP at every capacity", "downsets": sweep.chains.downsets,
                "transitions": len(sweep.chains.sources), "capacities": len(sweep.capacities())}
    if isinstance(sweep, _DPSweep):
        return {"method": "down-set DP", "downsets": sweep.chains.downsets, "transitions": len(sweep.chains.sources)}
    return {"method": "cpsat"} if sweep is not None else {}


# ---- the front, the least buffer and the recompute front --------------------------------------------------------


def _schedule(instance: Instance, buffer: int, groups, dram: int, sweep: _DPSweep | _CpsatSweep) -> Schedule:
    """The point's schedule with each group's best tiling at that capacity (what evaluate recomputes), named after
    the sweep that found it (``pareto-dp``, ``pareto-cpsat``)."""
    at = instance.with_overrides(buffer_bytes=buffer)
    cm = CostModel(at)
    tiled = [(members, cm.best_tiling(members)) for members, _ in groups]
    total = sum(t.cost for _, t in tiled)
    if total != dram:  # the front's columns and the plain cost model must agree
        raise AssertionError(f"front point at {buffer} B: columns cost {dram}, best tilings cost {total}")
    return schedule_of(cm, "pareto-dp" if isinstance(sweep, _DPSweep) else "pareto-cpsat", "optimal", tiled,
                       bound=total)


def _down_capacities(sweep: _DPSweep | _CpsatSweep, min_buffer: int, max_buffer: int, options: SolveOptions,
                     found: Callable[[int, int, Groups], None]) -> str | None:
    """The ε-constraint over the capacity: from ``max_buffer`` down, each corner (the optimum C at capacity B, the
    least capacity N ≤ B that reaches it) told to ``found(C, max(N, min_buffer), groups)``, then B = N − 1, until
    nothing fits or B < ``min_buffer``. Returns None, or :data:`TIME_LIMIT` when the deadline stopped it."""
    report = _progress.of(options)
    cap, corners = max_buffer, 0
    while cap >= min_buffer:
        report.phase(f"the optimum at {cap:,} B")
        report.update(corners=corners, incumbent=None, bound=None)
        if options.deadline.expired():
            return TIME_LIMIT
        status, best, need, groups = sweep.corner(cap)
        if status == "INFEASIBLE":
            return None
        if best is None:
            return TIME_LIMIT
        found(best, max(need, min_buffer), groups)  # a corner below the range: the optimum holds down to min_buffer
        corners += 1
        cap = need - 1
    return None


def _down_budgets(sweep: _CpsatSweep, options: SolveOptions, found: Callable[[int, int, Groups], None],
                  what: str) -> str | None:
    """The ε-constraint over a summed side value: minimise the costs with the side values' sum at most ε (no bound
    at first), then, at that optimum C, the sum S ≤ ε; ``found(C, S, groups)`` is told the corner; continue with
    ε = S − 1 until no schedule is left. Returns None, or :data:`TIME_LIMIT` when the deadline stopped it."""
    report = _progress.of(options)
    budget, corners = None, 0
    while budget is None or budget >= 0:
        report.phase("the optimum" + ("" if budget is None else f" with at most {budget:,} {what}"))
        report.update(corners=corners, incumbent=None, bound=None)
        status, best, _ = sweep.solve(budget, None, summed=True)
        if status == "INFEASIBLE":
            return None
        if best is None:
            return TIME_LIMIT
        status, side, groups = sweep.solve(budget, best, summed=True)
        if side is None:
            return TIME_LIMIT
        found(best, side, groups)
        corners += 1
        budget = side - 1
    return None


def pareto_front(instance: Instance, min_buffer: int, max_buffer: int, *, max_group: int | None = None,
                 time_limit: float | None = None, seed: int = 0, workers: int = 1,
                 progress: Callable[[ParetoPoint], None] | None = None, reporter: _progress.Reporter | None = None,
                 deadline: Deadline | None = None, method: str = "auto", **extra: Any) -> ParetoFront:
    """The exact corners of DRAM traffic against buffer capacity for ``min_buffer`` ≤ B ≤ ``max_buffer``.

    Parameters
    ----------
    instance:
        The network, batch and accelerator (its buffer is replaced by the sweep).
    min_buffer, max_buffer:
        The capacity range in bytes.
    max_group, time_limit, seed, workers, extra:
        As for :func:`optimus_opt.solve`; ``extra`` may hold ``together``/``apart``. ``seed`` and ``workers``
        are CP-SAT's.
    progress:
        Called with each point as it is found (long sweeps show progress).
    reporter:
        A :class:`~optimus_opt.utils.progress.Reporter` told the phase, the candidates, each solve's incumbent and
        bound, and the corners found so far.
    deadline:
        The :class:`~optimus_opt.utils.deadline.Deadline` the whole sweep draws on (enumeration, tilings, every solve);
        by default ``time_limit`` seconds from the call.
    method:
        ``auto`` (default): the down-set DP where the network has at most :data:`MAX_DOWNSETS` down-sets and
        :data:`MAX_TRANSITIONS` transitions, else CP-SAT; ``dp`` or ``cpsat`` forces one. Both give the same
        corners; among equally good schedules of a corner they may pick different ones.

    Returns
    -------
    ParetoFront
        Corners by decreasing buffer; every point's schedule evaluates to its traffic at its buffer.

    Raises
    ------
    FrontInterrupted
        On Ctrl-C during the sweep, with the corners found so far (a :class:`KeyboardInterrupt`).
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
    stopped: str | None = None
    sweep = None

    def front() -> ParetoFront:
        info = {"columns": len(data.columns), "candidates": len(data.space), "solves": sweep.solves if sweep else 0,
                "space": data.space.describe(), **_describe(sweep)}
        return ParetoFront(instance=instance.name, min_buffer=min_buffer, max_buffer=max_buffer,
                           points=tuple(points), complete=stopped is None, seconds=time.perf_counter() - start,
                           info=info, stopped=stopped)

    def found(best: int, at: int, groups: Groups) -> None:
        point = ParetoPoint(buffer_bytes=at, dram_bytes=best, schedule=_schedule(instance, at, groups, best, sweep))
        points.append(point)
        if progress is not None:
            progress(point)

    try:
        sweep = _sweeper(data, options, method)
        stopped = TIME_LIMIT if sweep is None else _down_capacities(sweep, min_buffer, max_buffer, options, found)
    except KeyboardInterrupt:
        stopped = INTERRUPTED
        raise FrontInterrupted(front()) from None
    return front()


def least_buffer(instance: Instance, target_bytes: int, max_buffer: int, *, max_group: int | None = None,
                 time_limit: float | None = None, seed: int = 0, workers: int = 1,
                 reporter: _progress.Reporter | None = None, deadline: Deadline | None = None,
                 method: str = "auto", **extra: Any) -> ParetoPoint | None:
    """The least buffer capacity (≤ ``max_buffer``) at which some schedule moves at most ``target_bytes``, with
    that schedule; None if none does even at ``max_buffer``. The options are :func:`pareto_front`'s; one deadline
    bounds enumeration, tilings and every solve. By the DP it is the last corner of the front, swept from
    ``max_buffer`` down, whose traffic is within the target; by CP-SAT, the least largest need of a schedule
    within the target, then the optimum at that capacity."""
    options = SolveOptions(time_limit=time_limit, seed=seed, workers=workers, max_group=max_group, extra=extra,
                           progress=reporter, deadline=deadline)
    _, data = _model(instance, max_buffer, options)
    _progress.of(options).phase(f"the least buffer that moves at most {target_bytes:,} B")
    sweep = _sweeper(data, options, method)
    if sweep is None:
        raise SolverError("no proof within the time limit (it passed while listing the chains of down-sets)")
    if isinstance(sweep, _DPSweep):
        found, cap = None, max_buffer
        while cap >= 1 and not options.deadline.expired():
            status, best, need, groups = sweep.corner(cap)
            if status == "INFEASIBLE" or best > target_bytes:
                return found
            found, cap = ParetoPoint(buffer_bytes=need, dram_bytes=best,
                                     schedule=_schedule(instance, need, groups, best, sweep)), need - 1
        if cap < 1:
            return found
        raise SolverError("no proof within the time limit (the sweep of the front's corners stopped)")
    status, need, _ = sweep.solve(max_buffer, target_bytes)
    if status == "INFEASIBLE":
        return None
    if need is None:
        raise SolverError(f"no proof within the time limit (CP-SAT status {status})")
    # the least traffic at that capacity may be below the target: report it
    status, best, best_groups = sweep.solve(need, None)
    if best is None:
        raise SolverError(f"no proof within the time limit (CP-SAT status {status})")
    return ParetoPoint(buffer_bytes=need, dram_bytes=best,
                       schedule=_schedule(instance, need, best_groups, best, sweep))


@dataclass(frozen=True)
class RecomputePoint:
    """A corner of the traffic/recompute front: the fewest ``added_macs`` at which the optimum is ``dram_bytes``."""

    added_macs: int
    dram_bytes: int
    schedule: Schedule


@dataclass(frozen=True)
class RecomputeFront:
    """The corners of DRAM traffic against the MACs that recompute adds, at the instance's buffer, from the fewest
    bytes (most recompute) to no recompute; ``complete`` is False when the sweep stopped early, ``stopped`` says
    why (``"time limit"`` or ``"interrupted"``)."""

    instance: str
    points: tuple[RecomputePoint, ...]
    complete: bool
    seconds: float
    info: dict[str, Any] = field(default_factory=dict)
    stopped: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"format": "optimus-opt/recompute-front@1", "instance": self.instance, "complete": self.complete,
                "partial": not self.complete, "stopped": self.stopped, "seconds": round(self.seconds, 6),
                "info": self.info,
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
    Ctrl-C raises :class:`FrontInterrupted` with the corners found so far.
    """
    start = time.perf_counter()
    options = SolveOptions(time_limit=time_limit, seed=seed, workers=workers, max_group=max_group, extra=extra,
                           progress=reporter, deadline=deadline)
    cm, data = _model(instance, instance.accelerator.buffer_bytes, options, lambda cm: cm.recompute_options)
    sweep = _CpsatSweep(data, options)
    points: list[RecomputePoint] = []
    stopped: str | None = None

    def front() -> RecomputeFront:
        return RecomputeFront(instance=instance.name, points=tuple(points), complete=stopped is None,
                              seconds=time.perf_counter() - start, stopped=stopped,
                              info={"columns": len(data.columns), "candidates": len(data.space),
                                    "solves": sweep.solves, "method": "cpsat"})

    def found(best: int, added: int, tiled: Groups) -> None:
        schedule = schedule_of(cm, "recompute-front", "optimal", tiled, bound=best)
        assert sum(t.cost for _, t in tiled) == best and sum(t.added_macs for _, t in tiled) == added
        points.append(RecomputePoint(added_macs=added, dram_bytes=best, schedule=schedule))

    try:
        stopped = _down_budgets(sweep, options, found, "added MACs")
    except KeyboardInterrupt:
        stopped = INTERRUPTED
        raise FrontInterrupted(front()) from None
    return front()


# ---- the front of any two metrics -------------------------------------------------------------------------------

#: The metrics a front trades, with the field of a tiling that holds each: a schedule's value is the sum of its
#: groups', except the buffer, which is the largest need of its groups.
FRONT_FIELDS = {"dram": "dram_bytes", "energy": "energy_fj", "latency": "latency_cycles", "recompute": "added_macs",
                "buffer": None}
#: The unit of each metric's integer values.
FRONT_UNITS = {**UNITS, "recompute": "MACs", "buffer": "B"}


@dataclass(frozen=True)
class FrontPoint:
    """A corner of a two-metric front: a schedule whose ``x`` cannot fall without its ``y`` rising, and that no
    schedule of the same ``x`` beats in ``y``; ``buffer_bytes`` is the capacity it runs at (the least one for a
    front with the buffer)."""

    x: int
    y: int
    buffer_bytes: int
    schedule: Schedule


@dataclass(frozen=True)
class MetricFront:
    """The corners of the front of two metrics (names of :data:`FRONT_FIELDS`), by increasing ``x`` and decreasing
    ``y``, at the instance's buffer, or, with the buffer as a metric, for capacities from ``min_buffer`` to
    ``max_buffer``. ``complete`` is False when the sweep stopped early, ``stopped`` says why (``"time limit"``
    or ``"interrupted"``): the corners found are still exact."""

    instance: str
    x: str
    y: str
    min_buffer: int
    max_buffer: int
    points: tuple[FrontPoint, ...]
    complete: bool
    seconds: float
    info: dict[str, Any] = field(default_factory=dict)
    stopped: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"format": "optimus-opt/front@1", "instance": self.instance, "x": self.x, "y": self.y,
                "units": {"x": FRONT_UNITS[self.x], "y": FRONT_UNITS[self.y]}, "min_buffer": self.min_buffer,
                "max_buffer": self.max_buffer, "complete": self.complete, "partial": not self.complete,
                "stopped": self.stopped, "seconds": round(self.seconds, 6), "info": self.info,
                "points": [{"x": p.x, "y": p.y, "buffer_bytes": p.buffer_bytes,
                            "dram_bytes": p.schedule.dram_bytes, "energy_fj": p.schedule.energy_fj,
                            "latency_cycles": p.schedule.latency_cycles, "added_macs": p.schedule.added_macs or 0,
                            "groups": [list(g.layers) for g in p.schedule.groups]} for p in self.points]}


def schedule_value(schedule: Schedule, metric: str) -> int:
    """A schedule's value of a summed metric (``dram``, ``energy``, ``latency``, ``recompute``)."""
    return {"dram": schedule.dram_bytes, "energy": schedule.energy_fj, "latency": schedule.latency_cycles,
            "recompute": schedule.added_macs or 0}[metric]


def check_metrics(x: str, y: str) -> None:
    """Refuse an unknown metric or the same one twice, with a one-line :class:`SolverError`."""
    for name in (x, y):
        if name not in FRONT_FIELDS:
            raise SolverError(f"unknown metric '{name}' for a front (known: {', '.join(FRONT_FIELDS)})")
    if x == y:
        raise SolverError(f"a front trades two different metrics, got '{x}' twice (known: {', '.join(FRONT_FIELDS)})")


def _undominated(low: Any, high: Any, value: Any) -> list[int]:
    """The rows that no other beats: a row is beaten by one of no greater value listed at every capacity it is
    (low no greater, high no smaller). Rows listed from their low up (:data:`~optimus_opt.cost.objective.UNBOUNDED`)
    are beaten only by such rows: a running minimum of their lows, by increasing value, settles them; the few
    bounded rows left are compared with the bounded rows kept. By increasing low."""
    order = np.lexsort((-high, low, value))
    low, high = low[order], high[order]
    open_ended = high == UNBOUNDED
    least = np.minimum.accumulate(np.where(open_ended, low, UNBOUNDED))
    before = np.concatenate(([UNBOUNDED], least[:-1]))  # the least low of an open-ended row before each row
    alive = before > low
    kept = np.flatnonzero(alive & open_ended).tolist()
    rest = np.flatnonzero(alive & ~open_ended)
    lows, highs = np.empty(len(rest), dtype=np.int64), np.empty(len(rest), dtype=np.int64)  # the bounded kept
    n = 0
    for k in rest.tolist():
        if not np.any((lows[:n] <= low[k]) & (highs[:n] >= high[k])):
            lows[n], highs[n] = low[k], high[k]
            n += 1
            kept.append(k)
    return [int(order[k]) for k in sorted(kept, key=lambda k: (int(low[k]), k))]


#: Cells (down-sets × capacities) of one block of :class:`_ScanSweep`'s table.
SCAN_CELLS = 1 << 21
#: No schedule: above any sum of values (and summing two stays within 64 bits).
_NONE = int(np.iinfo(np.int64).max // 4)


class _ScanSweep:
    """The front of a summed metric against the buffer by the down-set DP, exact where a column is allowed only on
    an interval of capacities (formulations/pareto.md, "Any two metrics"). The least sum E(z) at capacity z
    changes only where some column starts or stops being allowed, so the DP runs at all those capacities at once,
    as numpy vectors over them, by increasing capacity (in blocks of :data:`SCAN_CELLS` cells); a corner is each
    capacity where E falls below its value at every smaller one. Its schedule is one more pass, at that capacity,
    that keeps the columns it picks (:meth:`_Chains.run`)."""

    def __init__(self, data: PartitionModel, chains: _Chains, values: Sequence[int], highs: Sequence[int],
                 floor: int, ceiling: int) -> None:
        self.data, self.chains = data, chains
        self.values = np.asarray(values, dtype=np.int64)
        self.lows = np.asarray(data.needs, dtype=np.int64)
        self.highs = np.asarray(highs, dtype=np.int64)
        self.floor, self.ceiling = floor, ceiling
        # each candidate group's columns by decreasing value: written in that order, the least value stays
        self.columns = [ks[np.argsort(-self.values[ks], kind="stable")]
                        for ks in (np.asarray(c, dtype=np.int64) for c in chains.columns)]
        self.solves = 0  # DP passes over a block of capacities

    def capacities(self) -> np.ndarray:
        """``floor`` and every capacity in (floor, ceiling] where a column starts or stops being allowed."""
        edges = np.concatenate(([self.floor], self.lows, self.highs))
        return np.unique(edges[(edges >= self.floor) & (edges <= self.ceiling)])

    def _least(self, zs: np.ndarray, deadline: Deadline) -> tuple[np.ndarray, list[np.ndarray]]:
        """E at each capacity of ``zs`` (ascending), :data:`_NONE` where no schedule is allowed, and per candidate
        group its column of least value allowed at each capacity (−1: none), then the DP over the down-sets."""
        picks, args = [], []
        for ks in self.columns:
            best = np.full(len(zs), _NONE, dtype=np.int64)
            arg = np.full(len(zs), -1, dtype=np.int64)
            starts = np.searchsorted(zs, self.lows[ks])
            ends = np.searchsorted(zs, self.highs[ks])
            for k, a, b in zip(ks.tolist(), starts.tolist(), ends.tolist()):
                best[a:b] = self.values[k]
                arg[a:b] = k
            picks.append(best)
            args.append(arg)
        c = self.chains
        cost = np.empty((c.downsets, len(zs)), dtype=np.int64)
        cost[0] = 0
        for i in range(1, c.downsets):
            if i % CHECK_EVERY == 0:
                deadline.check("the least sums at every capacity")
            row = np.full(len(zs), _NONE, dtype=np.int64)
            for j in range(c.starts[i], c.starts[i + 1]):
                np.minimum(row, cost[c.sources[j]] + picks[c.groups[j]], out=row)
            cost[i] = np.minimum(row, _NONE)
        return (cost[c.full] if c.full is not None else np.full(len(zs), _NONE, dtype=np.int64)), args

    def _at(self, index: int, args: list[np.ndarray]) -> tuple[int, Groups]:
        """E at the block's capacity ``index`` and the groups of a schedule that reaches it, by one DP pass over
        each candidate group's column of least value there."""
        pick = [None if arg[index] < 0 else (int(self.values[arg[index]]), 0, int(arg[index])) for arg in args]
        _, value, _, columns = self.chains.run(pick)
        return value, [(self.data.members[k], self.data.tilings[k]) for k in columns]

    def sweep(self, options: SolveOptions, found: Callable[[int, int, Groups], None]) -> str | None:
        """Tell ``found(E, z, groups)`` each corner, by increasing capacity; None, or :data:`TIME_LIMIT` when the
        deadline stopped the scan."""
        zs = self.capacities()
        report = _progress.of(options)
        size = max(1, SCAN_CELLS // max(self.chains.downsets, 2 * len(self.columns)))
        best, corners = _NONE, 0
        for start in range(0, len(zs), size):
            block = zs[start:start + size]
            report.phase(f"the optima at {len(zs):,} capacities ({start:,} done)")
            report.update(corners=corners, incumbent=None, bound=None)
            if options.deadline.expired():
                return TIME_LIMIT
            try:
                least, args = self._least(block, options.deadline)
            except OutOfTime:
                return TIME_LIMIT
            self.solves += 1
            before = np.minimum.accumulate(np.concatenate(([best], least)))[:-1]
            for idx in np.flatnonzero(least < before).tolist():
                value, groups = self._at(idx, args)
                assert value == int(least[idx]), (value, int(least[idx]))
                found(value, int(block[idx]), groups)
                corners += 1
            best = min(best, int(least.min()))
        return None


def _spanned(field_: str, highs: dict[int, int]) -> Callable[[CostModel], Callable]:
    """The columns of a front of ``field_`` against the buffer: each group's tilings at every capacity up to the
    model's (:func:`~optimus_opt.cost.objective.spans`) that no other beats in ``field_`` and the capacities
    they run at, as (need, tiling); each column's high goes to ``highs``, under its tiling's ``id``."""
    def columns(cm: CostModel) -> Callable:
        def of(members: list[int]) -> list[tuple[int, Tiling]]:
            got = spans(cm, members, FULL)
            if got is None:
                return []
            opts, low, high = got
            out = []
            for i in _undominated(low, high, opts.figures[field_]):
                tiling = opts.tiling(i)
                highs[id(tiling)] = int(high[i])
                out.append((int(low[i]), tiling))
            return out
        return of
    return columns


def _run_at(instance: Instance, buffer: int, groups: Groups, objective: str, bound: int | None,
            solver: str) -> Schedule:
    """The corner's schedule at capacity ``buffer``, named after ``solver``: each group's tiling stated again
    through the cost model at that capacity (what evaluate does), which must take it as the column did (weights
    resident or streamed)."""
    cm = CostModel(instance.with_overrides(buffer_bytes=buffer), objective=objective)
    for members, t in groups:
        again = cm.tiling(members, t.strips, t.batch_block, t.reduced, tile_cols=t.tile_cols, halo=t.halo,
                          passes=t.passes)
        if (again.resident, again.dram_bytes, again.added_macs) != (t.resident, t.dram_bytes, t.added_macs):
            raise AssertionError(f"front point at {buffer} B: group {list(members)} runs otherwise than its column")
    return schedule_of(cm, solver, "optimal", groups, bound=bound)


def _front_of_traffic(front: ParetoFront, x: str, y: str) -> MetricFront:
    """A traffic/capacity front (:func:`pareto_front`) as a :class:`MetricFront` of ``x`` and ``y``."""
    points = [FrontPoint(x=p.buffer_bytes if x == "buffer" else p.dram_bytes,
                         y=p.buffer_bytes if y == "buffer" else p.dram_bytes, buffer_bytes=p.buffer_bytes,
                         schedule=p.schedule) for p in front.points]
    return MetricFront(instance=front.instance, x=x, y=y, min_buffer=front.min_buffer, max_buffer=front.max_buffer,
                       points=tuple(sorted(points, key=lambda p: p.x)), complete=front.complete,
                       seconds=front.seconds, info=front.info, stopped=front.stopped)


def metric_front(instance: Instance, x: str = "energy", y: str = "recompute", *, min_buffer: int | None = None,
                 max_buffer: int | None = None, max_group: int | None = None, time_limit: float | None = None,
                 seed: int = 0, workers: int = 1, progress: Callable[[FrontPoint], None] | None = None,
                 reporter: _progress.Reporter | None = None, deadline: Deadline | None = None,
                 method: str = "auto", **extra: Any) -> MetricFront:
    """The exact corners of the front of any two of DRAM bytes (``dram``), energy in fJ (``energy``), latency in
    cycles (``latency``), the MACs recompute adds (``recompute``) and the buffer capacity (``buffer``)
    (formulations/pareto.md, "Any two metrics").

    Without the buffer, at the instance's buffer, by the ε-constraint over ``y``: minimise Σ x with Σ y ≤ ε (no
    bound at first), then Σ y with Σ x at that optimum; the pair is a corner, and ε becomes its y − 1, until no
    schedule is left. Each group's columns are its tilings no other beats in both
    (:meth:`~optimus_opt.cost.cost_model.CostModel.frontier`); each solve is CP-SAT's, proven optimal.

    With the buffer, for capacities from ``min_buffer`` (default 1) to ``max_buffer`` (default the instance's);
    traffic against the buffer is :func:`pareto_front`'s. Otherwise the columns are every tiling a group takes
    at some capacity (:func:`~optimus_opt.cost.objective.spans`), each allowed only at the capacities where the
    cost model takes it, and a corner is a capacity where the least sum of the other metric falls below its
    value at every smaller capacity. ``method`` ``auto`` (default) or ``dp``: the down-set DP at every capacity
    where a column starts or stops being allowed (``auto`` within :data:`MAX_DOWNSETS` and
    :data:`MAX_TRANSITIONS`, else as ``cpsat``); ``cpsat``: the ε-constraint over the capacity, as
    :func:`pareto_front`'s. The other options are :func:`pareto_front`'s.

    Returns corners by increasing ``x``; each schedule evaluates to the corner's values at its ``buffer_bytes``.
    Raises :class:`~optimus_opt.model.errors.SolverError` for an unknown metric or the same one twice, and
    :class:`FrontInterrupted` on Ctrl-C, with the corners found so far.
    """
    check_metrics(x, y)
    if method not in METHODS:
        raise SolverError(f"unknown method '{method}' for the front (known: {', '.join(METHODS)})")
    start = time.perf_counter()
    own = instance.accelerator.buffer_bytes
    if "buffer" not in (x, y):
        if min_buffer is not None or max_buffer is not None:
            raise SolverError("min_buffer and max_buffer bound a front against the buffer; this one is at the "
                              f"instance's {own:,} B (set the instance's buffer instead)")
        low = high = own
    else:
        low, high = 1 if min_buffer is None else min_buffer, own if max_buffer is None else max_buffer
        if not 1 <= low <= high:
            raise SolverError(f"expected 1 <= min_buffer <= max_buffer, got {low} and {high}")
    if {x, y} == {"dram", "buffer"}:
        show = None if progress is None else (
            lambda p: progress(FrontPoint(x=p.buffer_bytes if x == "buffer" else p.dram_bytes,
                                          y=p.buffer_bytes if y == "buffer" else p.dram_bytes,
                                          buffer_bytes=p.buffer_bytes, schedule=p.schedule)))
        try:
            return _front_of_traffic(pareto_front(instance, low, high, max_group=max_group, time_limit=time_limit,
                                                  seed=seed, workers=workers, progress=show, reporter=reporter,
                                                  deadline=deadline, method=method, **extra), x, y)
        except FrontInterrupted as stop:
            raise FrontInterrupted(_front_of_traffic(stop.front, x, y)) from None
    if "buffer" not in (x, y):
        from . import get

        get("cpsat")  # a missing OR-Tools is said here, as a SolverError that names the package
    options = SolveOptions(time_limit=time_limit, seed=seed, workers=workers, max_group=max_group, extra=extra,
                           progress=reporter, deadline=deadline)
    objective = next((m for m in (x, y) if m in OBJECTIVES), "dram")
    points: list[FrontPoint] = []
    stopped: str | None = None

    def add(point: FrontPoint) -> None:
        points.append(point)
        if progress is not None:
            progress(point)

    if "buffer" in (x, y):
        other = y if x == "buffer" else x
        highs: dict[int, int] = {}
        _, data = _model(instance, high, options, _spanned(FRONT_FIELDS[other], highs), objective)
        values = [getattr(t, FRONT_FIELDS[other]) for t in data.tilings]
        column_highs = [highs[id(t)] for t in data.tilings]
        sweep = _sweeper(data, options, method)
        if isinstance(sweep, _DPSweep):
            sweep = _ScanSweep(data, sweep.chains, values, column_highs, low, high)
        elif sweep is not None:
            sweep = _CpsatSweep(data, options, costs=values, highs=column_highs, floor=low)

        def found(best: int, at: int, groups: Groups) -> None:
            schedule = _run_at(instance, at, groups, objective, best if other == objective else None,
                               "front-dp" if isinstance(sweep, _ScanSweep) else "front-cpsat")
            assert schedule_value(schedule, other) == best, (schedule_value(schedule, other), best)
            pair = {"buffer": at, other: best}
            add(FrontPoint(x=pair[x], y=pair[y], buffer_bytes=at, schedule=schedule))

        def run() -> str | None:
            if isinstance(sweep, _ScanSweep):
                return sweep.sweep(options, found)
            return TIME_LIMIT if sweep is None else _down_capacities(sweep, low, high, options, found)
    else:
        if method == "dp":
            raise SolverError("the down-set DP sweeps fronts against the buffer only (method 'auto' or 'cpsat')")
        fx, fy = FRONT_FIELDS[x], FRONT_FIELDS[y]
        cm, data = _model(instance, high, options,
                          lambda cm: lambda members: [(0, t) for t in cm.frontier(members, (fx, fy))], objective)
        sweep = _CpsatSweep(data, options, costs=[getattr(t, fx) for t in data.tilings],
                            sides=[getattr(t, fy) for t in data.tilings])

        def found(best: int, side: int, groups: Groups) -> None:
            schedule = schedule_of(cm, "front-cpsat", "optimal", groups, bound=best if x == objective else None)
            assert (schedule_value(schedule, x), schedule_value(schedule, y)) == (best, side)
            add(FrontPoint(x=best, y=side, buffer_bytes=high, schedule=schedule))

        def run() -> str | None:
            return _down_budgets(sweep, options, found, FRONT_UNITS[y])

    _progress.of(options).update(columns=len(data.columns))

    def front() -> MetricFront:
        info = {"columns": len(data.columns), "candidates": len(data.space),
                "solves": sweep.solves if sweep else 0, "space": data.space.describe(), **_describe(sweep)}
        return MetricFront(instance=instance.name, x=x, y=y, min_buffer=low, max_buffer=high,
                           points=tuple(sorted(points, key=lambda p: p.x)), complete=stopped is None,
                           seconds=time.perf_counter() - start, info=info, stopped=stopped)

    try:
        stopped = run()
    except KeyboardInterrupt:
        stopped = INTERRUPTED
        raise FrontInterrupted(front()) from None
    return front()
