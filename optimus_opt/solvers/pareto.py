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
from typing import Any, Callable

from ..cost.candidates import CandidateSpace
from ..cost.cost_model import CostModel, Tiling
from ..cost.schedule import Group, Schedule
from ..model.errors import SolverError
from ..model.instance import Instance
from ..utils import progress as _progress
from ..utils.deadline import Deadline, OutOfTime
from .base import SolveOptions
from .cpsat import configured_solver, solve_interruptibly, state_partition
from .setpartition import CHECK_EVERY, PartitionModel, SetPartitionSolver, build_model

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

    def __init__(self, front: ParetoFront | RecomputeFront) -> None:
        super().__init__("interrupted")
        self.front = front


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


# ---- the sweep by CP-SAT ----------------------------------------------------------------------------------------


class _CpsatSweep:
    """The set-partitioning model of ``data`` stated once (formulations/cpsat.md); each solve copies it and adds
    only its own bounds and objective, so that the corners share the work of stating the columns."""

    def __init__(self, data: PartitionModel, options: SolveOptions) -> None:
        self.data, self.options = data, options
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
        """Minimise traffic (cost_cap None) or, with traffic ≤ cost_cap, the columns' side values
        (``data.needs``), all within ``cap``. The side value is a buffer need (the largest one counts: columns
        needing more than ``cap`` are out, and the largest chosen need is minimised) or, with ``summed``, the MACs
        recompute adds (their sum is at most ``cap``, None for no bound, and is minimised). Returns (CP-SAT status,
        objective, groups in order); a passed deadline (stating the model or CP-SAT's search) gives status
        ``UNKNOWN`` and no answer. Ctrl-C raises :class:`KeyboardInterrupt` once the search has stopped."""
        data, options = self.data, self.options
        if not self._stated():
            return "UNKNOWN", None, None
        self.solves += 1
        m, x = self.base.clone(), self.x  # a copy keeps the variables' indices: x and t still name them
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
        listen = _progress.cpsat_callback(options, solver) if cost_cap is None else None
        status = solver.status_name(solve_interruptibly(solver, m, listen))
        if status != "OPTIMAL":
            return status, None, None
        chosen = [k for k in range(len(x)) if solver.value(x[k])]
        return status, int(round(solver.objective_value)), \
            SetPartitionSolver.in_order(data, chosen, lambda u: solver.value(self.t[u]))

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
    ``needs[g][k]`` up to the next need.
    """

    starts: tuple[int, ...]
    sources: tuple[int, ...]
    groups: tuple[int, ...]
    full: int | None
    needs: tuple[tuple[int, ...], ...]
    cheapest: tuple[tuple[tuple[int, int, int], ...], ...]

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
                   needs=tuple(tuple(n) for n in needs), cheapest=tuple(cheapest))


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


def _describe(sweep: _DPSweep | _CpsatSweep | None) -> dict[str, Any]:
    """What ``info`` says of the sweep's method."""
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
    return Schedule(instance=at.name, solver="pareto-dp" if isinstance(sweep, _DPSweep) else "pareto-cpsat",
                    status="optimal",
                    groups=tuple(Group.from_tiling(at, m, t) for m, t in tiled), dram_bytes=total,
                    bound_bytes=total, compulsory_bytes=cm.compulsory_bytes())


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

    try:
        sweep = _sweeper(data, options, method)
        stopped = TIME_LIMIT if sweep is None else None
        cap = max_buffer
        while stopped is None and cap >= min_buffer:
            report.phase(f"the optimum at {cap:,} B")
            report.update(corners=len(points), incumbent=None, bound=None)
            if options.deadline.expired():
                stopped = TIME_LIMIT
                break
            status, best, need, groups = sweep.corner(cap)
            if status == "INFEASIBLE":
                break
            if best is None:
                stopped = TIME_LIMIT
                break
            at = max(need, min_buffer)  # a corner below the range: the optimum holds down to min_buffer
            point = ParetoPoint(buffer_bytes=at, dram_bytes=best,
                                schedule=_schedule(instance, at, groups, best, sweep))
            points.append(point)
            if progress is not None:
                progress(point)
            cap = need - 1
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
    cm, data = _model(instance, instance.accelerator.buffer_bytes, options, recompute=True)
    sweep = _CpsatSweep(data, options)
    points: list[RecomputePoint] = []
    stopped: str | None = None

    def front() -> RecomputeFront:
        return RecomputeFront(instance=instance.name, points=tuple(points), complete=stopped is None,
                              seconds=time.perf_counter() - start, stopped=stopped,
                              info={"columns": len(data.columns), "candidates": len(data.space),
                                    "solves": sweep.solves, "method": "cpsat"})

    budget = None
    try:
        while budget is None or budget >= 0:
            status, best, _ = sweep.solve(budget, None, summed=True)
            if status == "INFEASIBLE":
                break
            if best is None:
                stopped = TIME_LIMIT
                break
            status, added, tiled = sweep.solve(budget, best, summed=True)
            if added is None:
                stopped = TIME_LIMIT
                break
            schedule = Schedule(instance=instance.name, solver="recompute-front", status="optimal",
                                groups=tuple(Group.from_tiling(instance, m, t) for m, t in tiled), dram_bytes=best,
                                bound_bytes=best, compulsory_bytes=cm.compulsory_bytes())
            assert sum(t.cost for _, t in tiled) == best and sum(t.added_macs for _, t in tiled) == added
            points.append(RecomputePoint(added_macs=added, dram_bytes=best, schedule=schedule))
            budget = added - 1
    except KeyboardInterrupt:
        stopped = INTERRUPTED
        raise FrontInterrupted(front()) from None
    return front()
