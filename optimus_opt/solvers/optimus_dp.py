"""``optimus`` and ``optimus-online``: the DAG fusion dynamic program of the Optimus paper (Cai, Wang, Zhang,
"Optimus: An Operator Fusion Framework for Deep Neural Networks", ACM TECS 2022; LCTES 2021), on the exact cost
model of formulations/cost-model.md.

The paper's recursion over an open group G and the set V of layers not yet scheduled is

    M(G, V) = min( min over successors v of G in V:  M(G ∪ {v}, V),
                   MinCost(G) + M({v'}, V − G) )

where v' is the next layer of V − G whose producers are all scheduled. Growing adds one successor of a member;
a growth that would make the group read a tensor not yet produced (a cyclic dependency between the group and
the unscheduled layers, which includes every path that leaves the group and comes back) is rejected; an
infeasible group (no tiling fits the buffer) stops the growth that made it. A virtual zero-cost source joins the
network inputs, so the first group may grow from every layer that reads a network input.

Implementation. The scheduled layers S are a bitset (a Python int); node ids are topological positions, so v' is
the lowest unscheduled id, the *level* of S. For one S, :meth:`OptimusRecursion.groups` enumerates every group the
growth from v' can close (a set of visited bitsets plays the memo of M(G, V) at that V); M over scheduled sets is
then a shortest path, solved level by level since every closed group holds v' and so raises the level. Group
costs come from :meth:`~optimus_opt.cost.cost_model.CostModel.best_tiling`, cached per group.

The recursion is exponential on wide cell-based networks (on NASNet-A Mobile at 128 KiB: over 700,000 scheduled
sets, and up to 13,000 feasible groups from one start). Three work limits, each reported in ``solver_info`` when
it binds, keep it at interactive speed: a beam of scheduled sets per level (kept by traffic saved against
layer-by-layer so far; the prefix set is always kept), a budget of groups enumerated per start (growth stops at
the first size where the budget is reached), and an optional cap on the group size. When none binds (``exhaustive`` in ``solver_info``) the result is the exact
optimum of the paper's recursion. ``formulations/optimus-dp.md`` states every choice.

``optimus-online`` runs the same recursion with a filter that drops low-efficiency groups (a fused group must save
enough traffic per fused layer against layer-by-layer execution) and a small cap on the group size, so that it
answers at deployment speed.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Callable

from ..cost.candidates import bits
from ..cost.cost_model import CostModel, GroupCosts, Tiling
from ..cost.partition import components
from .base import SolveOptions, Solver, SolverResult

INF = float("inf")


class BitDag:
    """The network as bitsets.

    ``prod[u]`` holds the layer producers of u (network inputs are left out: they are always available),
    ``cons[u]`` its consumers, ``reads_input`` the layers that read a network input (the successors of the
    virtual source), ``full`` every layer.
    """

    def __init__(self, cm: CostModel) -> None:
        net = cm.network
        self.network = net
        self.n = len(net.layers)
        self.inputs = frozenset(net.input_ids)
        self.layers = net.layer_ids
        self.full = 0
        for u in self.layers:
            self.full |= 1 << u
        self.prod = [0] * self.n
        self.cons = [0] * self.n
        self.reads_input = 0
        for u in self.layers:
            for p in net.producers[u]:
                if p in self.inputs:
                    self.reads_input |= 1 << u
                else:
                    self.prod[u] |= 1 << p
            for c in net.consumers[u]:
                self.cons[u] |= 1 << c


#: The on-line variant's filter: (group bitset, its tiling) -> keep the group?
GroupFilter = Callable[[int, Tiling], bool]


@dataclass
class DPOutcome:
    """What the recursion found: groups in execution order (bitsets), their total, and search statistics."""

    groups: list[int]
    total: float
    states: int
    candidates: int
    dead_ends: list[int]
    dropped: int = 0
    budget_hits: int = 0
    cap_hits: int = 0

    @property
    def exhaustive(self) -> bool:
        """True when no work limit cut the search: the total is the optimum of the recursion's space."""
        return not (self.dropped or self.budget_hits or self.cap_hits)


class OptimusRecursion:
    """The Optimus recursion on one instance.

    Parameters
    ----------
    cm:
        The cost model; MinCost(G) is ``cm.best_tiling(G).cost``.
    max_group:
        Largest number of layers in a group (None: no cap).
    beam:
        Most scheduled sets kept per level (None: all, the exact recursion). A level with more keeps those that
        saved the most traffic against layer-by-layer execution so far (ties: the smaller bitset).
    group_budget:
        Groups enumerated per start before growth stops (None: no budget). Growth is breadth-first by size, so
        the budget acts as a cap on the group size local to each start: every group of the sizes reached is
        enumerated.
    keep:
        The on-line filter: a fused group for which it returns False is neither closed nor grown further.
    virtual_source:
        The first group grows from a zero-cost virtual source joined to every network input (the paper's rule).

    Examples
    --------
    >>> from optimus_opt import load_instance
    >>> out = OptimusRecursion(CostModel(load_instance("instances/example-64k.json"))).run()
    >>> out.total, [bits(g) for g in out.groups]
    (253460, [[1, 2, 3, 4], [5, 6, 7, 9, 10]])
    """

    def __init__(self, cm: CostModel, *, max_group: int | None = None, beam: int | None = None,
                 group_budget: int | None = None, keep: GroupFilter | None = None,
                 virtual_source: bool = True) -> None:
        self.cm = cm
        self.dag = BitDag(cm)
        self.cost = GroupCosts(cm)
        self.max_group = max_group
        self.beam = beam
        self.group_budget = group_budget
        self.keep = keep
        self.virtual_source = virtual_source
        self.candidates = 0
        self.budget_hits = 0
        self.cap_hits = 0
        self._alone_sum: dict[int, int] = {}

    # -- the groups M({v'}, V) can close -------------------------------------------------------------------------

    def groups(self, scheduled: int) -> list[tuple[int, int]]:
        """Every group the recursion can close next once ``scheduled`` is done, with its cost, in the order the
        growth reaches them (breadth-first: by size, then by the ids of the layers added)."""
        dag, cost, keep = self.dag, self.cost, self.keep
        prod, cons = dag.prod, dag.cons
        remaining = dag.full & ~scheduled
        cap = self.max_group or dag.n
        budget = self.group_budget
        from_source = self.virtual_source and scheduled == 0
        if from_source:
            start, succ, size0, c0 = 0, dag.reads_input, 0, 0
            check_connected = len(dag.inputs) > 1
        else:
            start = remaining & -remaining            # v': the lowest unscheduled id; its producers are done
            t = cost(start)
            if t is None:                             # an infeasible group stops the growth
                return []
            succ, size0, c0 = cons[start.bit_length() - 1], 1, t.cost
            check_connected = False
        out: list[tuple[int, int]] = []
        seen = {start}
        queue = [(start, succ, size0, c0)]
        stop = cap                                    # sizes from here on are not grown
        current = size0
        i = 0
        while i < len(queue):
            group, succ, size, c = queue[i]
            i += 1
            if group and (not check_connected or len(components(dag.network, bits(group))) == 1):
                out.append((group, c))
            if size != current:
                current = size
                if budget is not None and len(queue) >= budget and size < stop:
                    stop = size
                    self.budget_hits += 1
            if size >= stop:
                if size >= cap and succ & remaining & ~group:
                    self.cap_hits += 1
                continue
            cand = succ & remaining & ~group
            while cand:
                low = cand & -cand
                cand ^= low
                grown = group | low
                if grown in seen:
                    continue
                seen.add(grown)
                self.candidates += 1
                v = low.bit_length() - 1
                if prod[v] & remaining & ~grown:
                    continue                          # reads an unscheduled tensor: cyclic dependency, rejected
                t = cost(grown)
                if t is None:
                    continue                          # infeasible: stops this growth
                if keep is not None and size >= 1 and not keep(grown, t):
                    continue                          # on-line filter: a low-efficiency group
                queue.append((grown, succ | cons[v], size + 1, t.cost))
        return out

    def _alone(self, group: int) -> int:
        """Σ layer-by-layer traffic of the group's layers (cached)."""
        s = self._alone_sum.get(group)
        if s is None:
            s = self._alone_sum[group] = sum(self.cost.alone(u) for u in bits(group))
        return s

    # -- the recursion over scheduled sets ----------------------------------------------------------------------

    def run(self) -> DPOutcome:
        """M over the reachable scheduled sets, as a shortest path processed level by level.

        A state is a scheduled set S with (cost so far, layer-by-layer traffic of S, previous state, last group).
        Every move closes a group that holds the lowest unscheduled layer, so levels strictly increase along moves.
        """
        full = self.dag.full
        beam = self.beam
        levels: dict[int, dict[int, tuple[float, int, int, int]]] = {-1: {0: (0, 0, -1, 0)}}
        heap = [-1]
        back: dict[int, tuple[int, int]] = {}
        final: tuple[float, int, int] = (INF, -1, 0)
        dead: set[int] = set()
        states = dropped = 0
        while heap:
            level = heapq.heappop(heap)
            found = levels.pop(level)
            if beam is not None and len(found) > beam:
                # most traffic saved against layer-by-layer so far first; ties: the smaller bitset. The prefix
                # state (every layer below the level done) is always kept, so the layer-by-layer schedule
                # survives and the result is never worse than it.
                prefix = full & ((1 << level) - 1)
                items = sorted(found.items(), key=lambda kv: (kv[0] != prefix, kv[1][0] - kv[1][1], kv[0]))
                dropped += len(items) - beam
                items = items[:beam]
            else:
                items = sorted(found.items())
            for s, (g, alone, prev, group) in items:
                states += 1
                back[s] = (prev, group)
                moves = self.groups(s)
                if not moves:
                    rest = full & ~s
                    dead.add((rest & -rest).bit_length() - 1)
                for grp, c in moves:
                    nxt = s | grp
                    value = g + c
                    if nxt == full:
                        if value < final[0]:
                            final = (value, s, grp)
                        continue
                    rest = full & ~nxt
                    lvl = (rest & -rest).bit_length() - 1
                    bucket = levels.get(lvl)
                    if bucket is None:
                        bucket = levels[lvl] = {}
                        heapq.heappush(heap, lvl)
                    old = bucket.get(nxt)
                    if old is None or value < old[0]:
                        bucket[nxt] = (value, alone + (self._alone(grp) if beam is not None else 0), s, grp)
        groups: list[int] = []
        if final[0] < INF:
            s, grp = final[1], final[2]
            while s >= 0:
                groups.append(grp)
                s, grp = back[s]
            groups.reverse()
        return DPOutcome(groups=groups, total=final[0], states=states, candidates=self.candidates,
                         dead_ends=sorted(dead), dropped=dropped, budget_hits=self.budget_hits,
                         cap_hits=self.cap_hits)


def _limits(options: SolveOptions, defaults: dict) -> dict:
    """The work limits of a run: ``max_group`` from the common options, the others from ``extra``; 0 or None
    in ``extra`` lifts a limit."""
    out = {}
    for key, default in defaults.items():
        value = options.extra.get(key, default)
        if key == "max_group" and options.max_group is not None:
            value = options.max_group
        out[key] = int(value) if value else None
    return out


def _solve(cm: CostModel, rec: OptimusRecursion, restrictions: str, info: dict, *,
           cap_in_space: bool = False) -> SolverResult:
    """Run the recursion and report it. ``exhaustive`` says that no work limit cut the search (the group-size cap
    counts as one unless ``cap_in_space``, where it is part of the solver's space)."""
    out = rec.run()
    exhaustive = not (out.dropped or out.budget_hits or (out.cap_hits and not cap_in_space))
    info = {"restrictions": restrictions, "exhaustive": exhaustive, "states": out.states,
            "states_dropped_by_beam": out.dropped, "starts_cut_by_group_budget": out.budget_hits,
            "groups_at_max_group": out.cap_hits, "groups_evaluated": len(rec.cost),
            "growths_tried": out.candidates, **info}
    if out.total == INF:
        names = cm.network.layers
        stuck = ", ".join(f"'{names[u].name}'" for u in out.dead_ends[:5])
        more = f" and {len(out.dead_ends) - 5} more" if len(out.dead_ends) > 5 else ""
        cut = "" if exhaustive else " (within the work limits it ran under, see solver_info)"
        return SolverResult(
            status="infeasible", unplaced=out.dead_ends, info=info,
            message=f"the Optimus recursion finds no schedule{cut}: every branch stops at a layer that would start "
                    f"a group, and no tiling of it alone fits the {cm.buffer:,}-byte buffer ({stuck}{more}); no "
                    "group the recursion can grow reaches past it")
    groups = [(tuple(bits(g)), rec.cost(g)) for g in out.groups]
    return SolverResult(status="feasible", groups=groups, info=info)  # type: ignore[arg-type]


_REACH = ("groups the Optimus recursion grows: from the lowest unscheduled layer (the first group from a virtual "
          "source on the inputs) by successors of members, through feasible groups that read only produced tensors; "
          "reduced channels and streamed weights allowed")


class Optimus(Solver):
    name = "optimus"
    description = "the Optimus paper's off-line DAG fusion DP: grow the open group by a successor, or close it"
    space = _REACH + "; work limits in solver_info (exhaustive = true: the recursion's optimum)"
    #: Work limits: none binds on the classic networks and GoogLeNet at the paper's setting; NASNet needs them.
    DEFAULTS = {"beam": 32, "group_budget": 64, "max_group": None}
    extra_options = ("beam", "group_budget")
    order = 50

    def search(self, cm: CostModel, options: SolveOptions) -> SolverResult:
        lim = _limits(options, self.DEFAULTS)
        rec = OptimusRecursion(cm, **lim)
        return _solve(cm, rec, "only the recursion's reach (see space); work limits: " + _describe(lim), lim)


def _describe(lim: dict) -> str:
    parts = [f"{k.replace('_', ' ')} {v}" for k, v in lim.items() if v is not None and k != "min_saving"]
    return ", ".join(parts) if parts else "none"


class OnlineFilter:
    """The on-line variant's filter of low-efficiency groups.

    A fused group G of k ≥ 2 layers is kept only if the traffic it saves against running its layers one by one,
    per layer fused into it, is at least ``min_saving`` of the mean layer-by-layer traffic of its layers::

        Σ_{u∈G} MinCost({u}) − MinCost(G)  ≥  min_saving · (k − 1) · Σ_{u∈G} MinCost({u}) / k

    A layer that fits no tiling alone makes every group holding it pass (fusing it saves everything).
    """

    def __init__(self, costs: GroupCosts, min_saving: float) -> None:
        self.costs = costs
        self.min_saving = min_saving

    def __call__(self, group: int, tiling: Tiling) -> bool:
        alone = 0
        members = bits(group)
        for u in members:
            t = self.costs(1 << u)
            if t is None:
                return True
            alone += t.cost
        k = len(members)
        return (alone - tiling.cost) * k >= self.min_saving * (k - 1) * alone


class OptimusOnline(Solver):
    name = "optimus-online"
    description = "the Optimus DP with its on-line filter: low-efficiency and large groups are not explored"
    space = ("the Optimus recursion's groups (see optimus) of at most max_group layers (default 8) that save, per "
             "fused layer, at least min_saving (default 0.25) of their layers' mean layer-by-layer traffic; work "
             "limits in solver_info")
    DEFAULTS = {"beam": 4, "group_budget": 32, "max_group": 8}
    DEFAULT_MIN_SAVING = 0.25
    extra_options = ("beam", "group_budget", "min_saving")
    order = 40

    def search(self, cm: CostModel, options: SolveOptions) -> SolverResult:
        lim = _limits(options, self.DEFAULTS)
        min_saving = float(options.extra.get("min_saving", self.DEFAULT_MIN_SAVING))
        rec = OptimusRecursion(cm, **lim)
        rec.keep = OnlineFilter(rec.cost, min_saving)
        return _solve(cm, rec, f"on-line filter: each fused group saves at least {min_saving:g} of its layers' mean "
                               f"layer-by-layer traffic per fused layer; work limits: {_describe(lim)}",
                      {**lim, "min_saving": min_saving}, cap_in_space=True)
