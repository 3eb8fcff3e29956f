"""The baselines the Optimus paper compares against, as options of one mechanism: a dynamic program over the
contiguous segments of one linear (topological) order, with a validity rule for fused segments and the cost
model's baseline restrictions.

- ``efficient-s`` (Zheng et al., "Efficient scheduling of irregular network structures on CNN accelerators",
  TCAD 2020): one breadth-first topological order; a segment of it is a group if it is connected; a fused group
  counts only with all its weights resident and without reduced channels.
- ``dnnvm`` (Xing et al., "DNNVM: End-to-end compiler leveraging heterogeneous optimizations on FPGA-based CNN
  accelerators", 2019): fusion of chains only; every fused layer has one producer, and every
  fused layer but the last has one consumer (the next layer of the chain) and is no network output; weights
  resident, no reduced channels.

The restrictions (resident weights, no reduced channels, one linear order, chains) apply to fused groups of two or
more layers; a single layer keeps its best tiling, as in the paper's "no fusion" schedule. Costs come from
:meth:`~optimus_opt.cost.cost_model.CostModel.best_tiling` under :data:`BASELINE_RULES` (see
:class:`~optimus_opt.cost.cost_model.GroupCosts`); the DP is exact over its space, but the space is the
baseline's, so the status is ``feasible``.
"""

from __future__ import annotations

import heapq
from collections import deque
from typing import Sequence

from ..cost.cost_model import CostModel, GroupCosts, GrowingFloor, TilingRules, mask_of
from ..model.network import Network
from .base import SolveOptions, Solver, SolverResult

#: The rules under which Efficient-S and DNNVM fuse layers: weights resident, every channel kept.
BASELINE_RULES = TilingRules(resident_only=True, reduced_channels=False)

INF = float("inf")


# -- linear orders -----------------------------------------------------------------------------------------------


def breadth_first_order(net: Network) -> list[int]:
    """The layers in breadth-first topological order (Kahn's algorithm with a FIFO queue): first the layers that
    read only network inputs, then each layer once its last producer is placed; ties in id order."""
    layers = net.layer_ids
    waiting = {u: sum(net.is_layer(p) for p in net.producers[u]) for u in layers}
    queue = deque(u for u in layers if waiting[u] == 0)
    order: list[int] = []
    while queue:
        u = queue.popleft()
        order.append(u)
        for c in net.consumers[u]:
            waiting[c] -= 1
            if waiting[c] == 0:
                queue.append(c)
    return order


def chain_link(net: Network, u: int) -> int | None:
    """The layer a chain continues into from ``u``: u's only consumer, if u is no network output and that
    consumer's only producer is u; else None."""
    cons = net.consumers[u]
    if len(cons) != 1 or u in net.output_ids:
        return None
    c = cons[0]
    return c if set(net.producers[c]) == {u} else None


def chain_order(net: Network) -> list[int]:
    """A topological order in which every chain is contiguous: Kahn's algorithm releasing the lowest id first,
    except that a layer's chain successor (see :func:`chain_link`) is placed right after it."""
    layers = net.layer_ids
    waiting = {u: sum(net.is_layer(p) for p in net.producers[u]) for u in layers}
    ready = [u for u in layers if waiting[u] == 0]
    heapq.heapify(ready)
    order: list[int] = []
    nxt: int | None = None
    while ready or nxt is not None:
        u = nxt if nxt is not None else heapq.heappop(ready)
        nxt = None
        order.append(u)
        link = chain_link(net, u)
        for c in net.consumers[u]:
            waiting[c] -= 1
            if waiting[c] == 0:
                if c == link:
                    nxt = c
                else:
                    heapq.heappush(ready, c)
    return order


# -- the segment DP ----------------------------------------------------------------------------------------------

class SegmentValidity:
    """Incremental validity of a segment of the order as a fused group; subclasses define ``add``."""

    def __init__(self, net: Network) -> None:
        self.net = net

    def start(self, u: int) -> None:
        raise NotImplementedError

    def add(self, u: int) -> tuple[bool, bool]:
        """Add the next layer of the order; return (the segment is a valid group, longer segments may be)."""
        raise NotImplementedError


class ConnectedSegment(SegmentValidity):
    """A segment is valid if its layers are connected (formulations/cost-model.md §3: an edge, or a tensor from outside the
    group read by both). A contiguous segment of a topological order is always convex and in order."""

    def start(self, u: int) -> None:
        self.root: dict[int, int] = {u: u}
        self.readers: dict[int, int] = {}
        self.parts = 1
        self._link(u)

    def _find(self, u: int) -> int:
        root = self.root
        while root[u] != u:
            root[u] = root[root[u]]
            u = root[u]
        return u

    def _union(self, a: int, b: int) -> None:
        ra, rb = self._find(a), self._find(b)
        if ra != rb:
            self.root[max(ra, rb)] = min(ra, rb)
            self.parts -= 1

    def _link(self, u: int) -> None:
        for p in set(self.net.producers[u]):
            if p in self.root:
                self._union(p, u)
            elif p in self.readers:
                self._union(self.readers[p], u)
            else:
                self.readers[p] = u

    def add(self, u: int) -> tuple[bool, bool]:
        self.root[u] = u
        self.parts += 1
        self._link(u)
        return self.parts == 1, True


class ChainSegment(SegmentValidity):
    """A segment is valid if it is a chain: every layer has one producer, and each layer but the last has the
    next one as its only consumer and is no network output (:func:`chain_link`)."""

    def start(self, u: int) -> None:
        self.last = u
        self.ok = len(set(self.net.producers[u])) == 1

    def add(self, u: int) -> tuple[bool, bool]:
        self.ok = self.ok and chain_link(self.net, self.last) == u
        self.last = u
        return self.ok, self.ok


def segment_dp(cm: CostModel, order: Sequence[int], rule: SegmentValidity, costs: GroupCosts,
               max_group: int | None = None) -> tuple[float, list[tuple[int, ...]], list[int]]:
    """The least-cost partition of ``order`` into contiguous segments that ``rule`` accepts and ``costs`` can
    tile.

    Returns
    -------
    (total, groups, unplaced)
        The total cost (inf if no partition exists), the groups as id tuples in order, and, when there is none,
        the layers at which every partition stops (reachable positions from which no segment is feasible).

    When fused groups must keep their weights resident without reduced channels, extension stops once
    :class:`~optimus_opt.cost.cost_model.GrowingFloor` exceeds the buffer: no longer segment can fit either.
    """
    n = len(order)
    best = [INF] * (n + 1)
    cut = [0] * (n + 1)
    best[0] = 0
    cap = max_group or n
    bound = GrowingFloor(cm) if costs.rules == BASELINE_RULES else None
    stuck: list[int] = []
    for i in range(n):
        if best[i] == INF:
            continue
        u = order[i]
        rule.start(u)
        mask = 1 << u
        if bound is not None:
            bound.start(u)
        extended = False
        for j in range(i + 1, min(n, i + cap) + 1):
            if j > i + 1:
                v = order[j - 1]
                valid, more = rule.add(v)
                mask |= 1 << v
                if bound is not None and bound.add(v) > cm.buffer:
                    break
                if not valid:
                    if not more:
                        break
                    continue
            t = costs(mask)
            if t is None:
                continue
            extended = True
            value = best[i] + t.cost
            if value < best[j]:
                best[j], cut[j] = value, i
        if not extended:
            stuck.append(u)
    if best[n] == INF:
        return INF, [], stuck
    groups: list[tuple[int, ...]] = []
    j = n
    while j > 0:
        i = cut[j]
        groups.append(tuple(sorted(order[i:j])))
        j = i
    groups.reverse()
    return best[n], groups, []


class _SegmentBaseline(Solver):
    """A baseline: one linear order, a validity rule for fused segments, resident weights, no reduced channels."""

    order_name: str
    restrictions: str

    def layer_order(self, net: Network) -> list[int]:
        raise NotImplementedError

    def rule(self, net: Network) -> SegmentValidity:
        raise NotImplementedError

    def search(self, cm: CostModel, options: SolveOptions) -> SolverResult:
        net = cm.network
        costs = GroupCosts(cm, BASELINE_RULES)
        total, groups, stuck = segment_dp(cm, self.layer_order(net), self.rule(net), costs, options.max_group)
        info = {"restrictions": self.restrictions + (f"; groups of at most {options.max_group} layers"
                                                     if options.max_group else ""),
                "order": self.order_name, "resident_only": True, "reduced_channels": False,
                "groups_evaluated": len(costs)}
        if total == INF:
            names = ", ".join(f"'{net.layers[u].name}'" for u in stuck[:5])
            return SolverResult(
                status="infeasible", unplaced=stuck, info=info,
                message=f"no schedule of {self.name}'s space fits the {cm.buffer:,}-byte buffer: no group of its space "
                        f"starting at {names} has a feasible tiling")
        return SolverResult(status="feasible", groups=[(g, costs(mask_of(g))) for g in groups],  # type: ignore[misc]
                            info=info)


class EfficientS(_SegmentBaseline):
    name = "efficient-s"
    description = "Efficient-S (Zheng et al. 2020): DP over segments of one breadth-first order, weights resident"
    space = ("contiguous segments of one breadth-first topological order that are connected; fused groups only "
             "with all weights resident and no reduced channels (a single layer keeps its best tiling)")
    order_name = "breadth-first"
    order = 30
    restrictions = ("fused groups: contiguous connected segments of one breadth-first topological order, all "
                    "weights resident, no reduced channels; single layers: best tiling")

    def layer_order(self, net: Network) -> list[int]:
        return breadth_first_order(net)

    def rule(self, net: Network) -> SegmentValidity:
        return ConnectedSegment(net)


class DNNVM(_SegmentBaseline):
    name = "dnnvm"
    description = "DNNVM (Xing et al. 2019): fusion of chains only, weights resident"
    space = ("chains (each fused layer has one producer; each but the last has the next as its only consumer and is "
             "no network output); fused groups only with all weights resident and no reduced channels (a single "
             "layer keeps its best tiling)")
    order_name = "chains contiguous (lowest id first)"
    order = 20
    restrictions = ("fused groups: chains only, all weights resident, no reduced channels; single layers: best "
                    "tiling")

    def layer_order(self, net: Network) -> list[int]:
        return chain_order(net)

    def rule(self, net: Network) -> SegmentValidity:
        return ChainSegment(net)
