"""The records of the cost model and the one combinatorial piece both tiling models share.

The reader kinds, :class:`TilingRules` (what a solver's rules allow), :class:`Tiling` (a group's tiling and its bytes and MACs),
:class:`GroupIO` (what a group exchanges with DRAM, whatever its tiling), :class:`ReducedChannels` (the best set Φ of
reduced-channel layers, the Optimus paper's buffer requirement reduction, as a maximum-weight independent set) and
the bitsets over node ids that groups are. Version 2 (:mod:`.cost_model`) and version 3 (:mod:`.tiles`) both build
on them (formulations/cost-model.md §4 and §7).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

#: How a consumer's interval of rows (or columns) translates into what it needs of an input
#: (formulations/cost-model.md §4 and §7.2): a sliding window, a reduction, element-wise, nearest upsampling, and,
#: under tiles only, a broadcast (C, 1, 1) operand (version 2 treats it as element-wise, capped at its one row).
WINDOW, REDUCE, PASS, UPSAMPLE, BROADCAST = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class TilingRules:
    """Restrictions on the tilings a group may use; the default admits every tiling of the cost model.

    ``resident_only`` admits only tilings that keep all weights on chip and ``reduced_channels=False`` fixes Φ
    empty: the restrictions under which the Optimus paper's baselines (Efficient-S, DNNVM) fuse layers.
    """

    resident_only: bool = False
    reduced_channels: bool = True


FULL = TilingRules()


@dataclass(frozen=True)
class Tiling:
    """A feasible tiling of a group and the traffic it implies (bytes).

    Under ``tiling: strips`` (version 2) it is (Q, b, Φ): ``strips`` full-width row strips. Under ``tiling: tiles``
    (version 3, formulations/cost-model.md §7) ``strips`` is the number of tile rows Q_r, ``tile_cols`` the tile
    columns Q_c, ``halo`` the halo mode and ``passes`` the output-channel passes. ``macs`` are the group's
    multiply-accumulates over the batch, of which ``added_macs`` are recomputation.
    """

    strips: int
    batch_block: int
    reduced: frozenset[int]
    resident: bool
    footprint_bytes: int
    weight_traffic: int
    read_bytes: int
    write_bytes: int
    tile_cols: int = 1
    halo: str | None = None
    passes: int = 1
    macs: int = 0
    added_macs: int = 0
    value: int | None = None
    energy_fj: int | None = None
    latency_cycles: int | None = None

    @property
    def tile_rows(self) -> int:
        """Q_r: the tile rows (the strips of version 2)."""
        return self.strips

    @property
    def dram_bytes(self) -> int:
        """DRAM bytes of the group: read + write (formulations/cost-model.md §5)."""
        return self.read_bytes + self.write_bytes

    @property
    def cost(self) -> int:
        """What solvers minimise: the objective's :attr:`value`, or the DRAM bytes when the objective is DRAM."""
        return self.dram_bytes if self.value is None else self.value


@dataclass(frozen=True)
class GroupIO:
    """What a group exchanges with DRAM and its weights, independent of its tiling.

    ``gated`` marks a squeeze-excitation gate computed and applied inside the group (only Q = 1 is feasible);
    ``full_channels`` are the layers that must then keep all their channels (producers of gated tensors).
    """

    members: tuple[int, ...]
    ext: tuple[int, ...]
    esc: tuple[int, ...]
    ext_bytes: int
    esc_bytes: int
    weight_bytes: int
    weight_block_bytes: int
    gated: bool
    full_channels: frozenset[int]
    macs: int = 0


class ReducedChannels:
    """The best Φ of one group at every Q: a maximum-weight independent set of the conflict graph.

    ``weight[u]`` is the saving (words) of reducing u's channels at every Q; ``adj[u]`` the bitset of u's
    conflict neighbours. :meth:`value` gives the largest saving at every Q, :meth:`choose` the set at one Q.
    """

    def __init__(self, nodes: list[int], adj: dict[int, int], weight: dict[int, np.ndarray], qmax: int,
                 scalar: bool = False) -> None:
        # ``scalar``: the weights are plain ints, for one Q (CostModel._at_strips); the arithmetic is the same,
        # element by element, so the values and choices equal the vectors' entry at that Q
        self.adj = adj
        self.weight = weight
        self.scalar = scalar
        self.zero = 0 if scalar else np.zeros(qmax, dtype=np.int64)
        self._max = max if scalar else np.maximum
        self.memo: dict[int, tuple] = {}
        self.mask = 0
        for u in nodes:
            self.mask |= 1 << u

    def _components(self, mask: int) -> list[int]:
        comps = []
        while mask:
            seed = mask & -mask
            comp, frontier = seed, seed
            while frontier:
                low = frontier & -frontier
                frontier ^= low
                new = self.adj[low.bit_length() - 1] & mask & ~comp
                comp |= new
                frontier |= new
            comps.append(comp)
            mask &= ~comp
        return comps

    def value(self, mask: int | None = None) -> np.ndarray:
        mask = self.mask if mask is None else mask
        total = self.zero
        for comp in self._components(mask):
            total = total + self._solve(comp)[0]
        return total

    def _solve(self, comp: int) -> tuple:
        """(value vector, how): ``how`` is ("tree", root, children, inc, exc) or ("branch", v)."""
        hit = self.memo.get(comp)
        if hit is not None:
            return hit
        nodes = bits(comp)
        edges = sum((self.adj[u] & comp).bit_count() for u in nodes) // 2
        if edges == len(nodes) - 1:
            root = nodes[0]
            order, children, parent = [root], {root: []}, {root: -1}
            for u in order:
                for v in bits(self.adj[u] & comp):
                    if v != parent[u]:
                        parent[v] = u
                        children[u].append(v)
                        children[v] = []
                        order.append(v)
            inc: dict[int, np.ndarray] = {}
            exc: dict[int, np.ndarray] = {}
            for u in reversed(order):
                i, e = self.weight[u], self.zero
                for k in children[u]:
                    i = i + exc[k]
                    e = e + self._max(inc[k], exc[k])
                inc[u], exc[u] = i, e
            out = (self._max(inc[root], exc[root]), ("tree", root, children, inc, exc))
        else:
            v = max(nodes, key=lambda u: ((self.adj[u] & comp).bit_count(), -u))
            without = self.value(comp & ~(1 << v))
            with_v = self.weight[v] + self.value(comp & ~(1 << v) & ~self.adj[v])
            out = (self._max(without, with_v), ("branch", v))
        self.memo[comp] = out
        return out

    def choose(self, q: int, mask: int | None = None) -> set[int]:
        """The best Φ at Q = q (index q − 1); ties keep full channels."""
        mask = self.mask if mask is None else mask
        chosen: set[int] = set()
        at = (lambda v: v) if self.scalar else (lambda v: v[q - 1])
        for comp in self._components(mask):
            how = self._solve(comp)[1]
            if how[0] == "tree":
                _, root, children, inc, exc = how
                stack = [(root, False)]
                while stack:
                    u, parent_in = stack.pop()
                    take = not parent_in and at(inc[u]) > at(exc[u])
                    if take:
                        chosen.add(u)
                    stack.extend((k, take) for k in children[u])
            else:
                v = how[1]
                rest = comp & ~(1 << v)
                with_v = at(self.weight[v]) + at(self.value(rest & ~self.adj[v]))
                if with_v > at(self.value(rest)):
                    chosen.add(v)
                    chosen |= self.choose(q, rest & ~self.adj[v])
                else:
                    chosen |= self.choose(q, rest)
        return chosen


def mask_of(ids: Iterable[int]) -> int:
    """The bitset of a set of node ids (the inverse of :func:`bits`)."""
    mask = 0
    for u in ids:
        mask |= 1 << u
    return mask


def bits(mask: int) -> list[int]:
    """The ids set in a bitset (a Python int over node ids), ascending."""
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out
