"""The candidate space: every convex, connected group of a network that may fit the buffer (formulations/cost-model.md §3).

Groups are Python-int bitsets over node ids (ids are topological positions). A convex set is the difference of two
nested down-sets; equivalently it contains every node on a path between two of its members. Candidates are grown so
that only convex, connected sets are ever built:

* start from a seed r, which will be the group's smallest id (its first layer in topological order);
* add a layer v > r adjacent to the group (an edge joins them, or both read the same tensor), then close the set
  under paths: hull(T) = T ∪ (descendants(T) ∩ ancestors(T)). The hull of a connected set plus an adjacent node is
  connected and convex, and every convex connected set with smallest id r is reached this way (grow it one
  adjacent member at a time; every hull along the way stays inside it).

Growth stops at sets that cannot fit the buffer however they are tiled, by a bound that only grows with the set
(:meth:`~optimus_opt.cost.CostModel.footprint_floor`): a layer keeps at least one row of at least min(Tc, C)
channels, at least the kernel's span of rows of an input its window consumer reads in the group, and the largest
weight block must fit. A set that fails the bound is dropped with all its supersets; a set that passes is a candidate even when its
exact tilings all fail, since a larger group may still fit (reduced channels of a producer shrink what a layer
reads). ``max_group`` caps the number of layers; a result states the space it is exact over.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .cost import CostModel, Tiling


def bits(mask: int) -> list[int]:
    """The ids set in a bitset, ascending."""
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


@dataclass(frozen=True)
class Candidate:
    """One convex connected group: its bitset, the layers it reads from (``needs``), and a lower bound of its cost
    (its traffic with resident weights) that needs no tiling."""

    mask: int
    first: int
    size: int
    needs: int
    cost_floor: int

    def tiling(self, cm: CostModel) -> Tiling | None:
        """The group's best tiling (cached by the cost model)."""
        return cm.best_tiling_of_mask(self.mask)


class CandidateSpace:
    """All convex connected groups of an instance that pass the footprint floor, indexed by their first layer.

    Parameters
    ----------
    cm:
        The instance's cost model.
    max_group:
        At most this many layers per group (``None``: no cap).
    time_limit:
        Seconds after which enumeration stops and :attr:`complete` is False.
    """

    def __init__(self, cm: CostModel, max_group: int | None = None, time_limit: float | None = None) -> None:
        self.cm = cm
        self.max_group = max_group
        net = cm.network
        n = len(net.layers)
        self.n = n
        self.layers = net.layer_ids
        is_layer = [net.is_layer(u) for u in range(n)]
        self.layer_mask = sum(1 << u for u in self.layers)
        self.pred = [sum(1 << p for p in net.producers[u] if is_layer[p]) for u in range(n)]
        adj = [0] * n
        for u in self.layers:
            for p in net.producers[u]:
                if is_layer[p]:
                    adj[u] |= 1 << p
                    adj[p] |= 1 << u
                for sib in net.consumers[p]:
                    if sib != u:
                        adj[u] |= 1 << sib
        self.adj = adj
        desc = [0] * n
        for u in reversed(range(n)):
            for c in net.consumers[u]:
                desc[u] |= (1 << c) | desc[c]
        anc = [0] * n
        for u in range(n):
            for p in net.producers[u]:
                if is_layer[p]:
                    anc[u] |= (1 << p) | anc[p]
        self.desc, self.anc = desc, anc
        self.by_first: dict[int, list[Candidate]] = {u: [] for u in self.layers}
        self.explored = 0
        self.pruned = 0
        self.complete = True
        self.seconds = 0.0
        self._enumerate(time_limit)

    # -- bounds ----------------------------------------------------------------------------------------------

    def footprint_floor(self, mask: int) -> int:
        """A lower bound, in bytes, of the buffer any tiling of the group or of any larger group needs
        (:meth:`CostModel.footprint_floor`)."""
        return self.cm.footprint_floor(bits(mask))

    def _make(self, mask: int, first: int) -> Candidate:
        cm = self.cm
        members = bits(mask)
        ext: set[int] = set()
        esc = 0
        for u in members:
            ext.update(p for p in cm.producers[u] if not mask >> p & 1)
            if cm.is_output[u] or any(not mask >> c & 1 for c in cm.consumers[u]):
                esc += cm.tensor_bytes[u]
        floor = sum(cm.tensor_bytes[x] for x in ext) + esc + sum(cm.weight_bytes[u] for u in members)
        needs = 0
        for u in members:
            needs |= self.pred[u]
        return Candidate(mask=mask, first=first, size=len(members), needs=needs & ~mask, cost_floor=floor)

    # -- enumeration -----------------------------------------------------------------------------------------

    def hull(self, mask: int) -> int:
        """The convex closure of a set: every node on a path between two members."""
        d = a = 0
        for u in bits(mask):
            d |= self.desc[u]
            a |= self.anc[u]
        return mask | (d & a)

    def _enumerate(self, time_limit: float | None) -> None:
        start = time.perf_counter()
        cap = self.max_group
        buffer = self.cm.buffer
        for r in self.layers:
            seed = 1 << r
            if self.footprint_floor(seed) > buffer:
                self.pruned += 1
                continue
            seen = {seed}
            stack = [seed]
            above = ~((1 << (r + 1)) - 1)
            found = self.by_first[r]
            while stack:
                mask = stack.pop()
                self.explored += 1
                found.append(self._make(mask, r))
                if time_limit is not None and self.explored % 256 == 0 \
                        and time.perf_counter() - start > time_limit:
                    self.complete = False
                    self.seconds = time.perf_counter() - start
                    return
                if cap is not None and mask.bit_count() >= cap:
                    continue
                reach = 0
                for u in bits(mask):
                    reach |= self.adj[u]
                reach &= above & ~mask
                for v in reversed(bits(reach)):
                    grown = self.hull(mask | (1 << v))
                    if grown in seen:
                        continue
                    seen.add(grown)
                    if cap is not None and grown.bit_count() > cap:
                        continue
                    if self.footprint_floor(grown) > buffer:
                        self.pruned += 1
                        continue
                    stack.append(grown)
            found.sort(key=lambda c: (c.size, c.mask))
        self.seconds = time.perf_counter() - start

    def restrict(self, together: list[int] = (), apart: list[int] = ()) -> None:
        """Keep only groups that hold each ``together`` set whole or not at all, and at most one layer of each
        ``apart`` set (bitsets). Growth already passed through the dropped sets, so no kept group is lost."""
        for r, found in self.by_first.items():
            self.by_first[r] = [c for c in found
                                if all(c.mask & t in (0, t) for t in together)
                                and all((c.mask & a).bit_count() <= 1 for a in apart)]

    def __iter__(self):
        for r in self.layers:
            yield from self.by_first[r]

    def __len__(self) -> int:
        return sum(len(v) for v in self.by_first.values())

    def describe(self) -> str:
        cap = f"at most {self.max_group} layers" if self.max_group else "no size cap"
        return f"convex connected groups ({cap})"
