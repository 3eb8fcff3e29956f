"""The memory cost model of a fused group (cost-model.md §3–5), exact to the byte.

A group G executes in Q row strips over b samples at a time; the rows each tensor keeps on chip are derived from
the group's escaping outputs backwards through every layer's window (the Optimus paper's t(l−1) = t(l)·S + K − S,
with dilation and padding made exact). A set Φ of conv layers, no two joined by an edge inside G, may keep only
min(Tc, C) output channels on chip (the paper's "buffer requirement reduction").

Everything a group's cost depends on is computed here once for all Q at a time: :meth:`CostModel.curve` returns
the rows of every tensor and the least footprint for Q = 1 … Qmax as numpy vectors, in one pass over the group in
reverse topological order. Since rows only shrink as Q grows, the least footprint is non-increasing in Q, and the
best tiling is read off the curve:

* weights **resident** at the smallest Q whose footprint leaves room for all weights — cost W_G, the least
  possible, so nothing beats it;
* otherwise **streamed**: at Q = 1 with the largest batch block b that fits (⌈N/b⌉ reloads ≤ N ≤ Q·N for any
  other Q), else at the smallest Q that fits, b = 1 (Q·N reloads).

The maximum-weight set Φ is exact: a conv layer has one input, so the conv-to-conv edges of a group form a forest
and a tree dynamic program over it (vectorised over Q) finds the best Φ for every Q at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

from .instance import Instance

# How a consumer's rows translate into the rows it needs of one of its inputs (cost-model.md §4).
_WINDOW, _REDUCE, _PASS, _UPSAMPLE = 0, 1, 2, 3


@dataclass(frozen=True)
class Tiling:
    """A feasible tiling (Q, b, Φ) of a group and the traffic it implies (bytes)."""

    strips: int
    batch_block: int
    reduced: frozenset[int]
    resident: bool
    footprint_bytes: int
    weight_traffic: int
    read_bytes: int
    write_bytes: int

    @property
    def cost(self) -> int:
        """DRAM bytes of the group: read + write (cost-model.md §5)."""
        return self.read_bytes + self.write_bytes


@dataclass(frozen=True)
class GroupIO:
    """What a group exchanges with DRAM, independent of its tiling."""

    members: tuple[int, ...]
    ext: tuple[int, ...]
    esc: tuple[int, ...]
    ext_bytes: int
    esc_bytes: int
    weight_bytes: int
    weight_slice_bytes: int


@dataclass(frozen=True)
class Curve:
    """Rows per tensor and the least footprint of a group for Q = 1 … qmax (index q − 1).

    ``rows`` maps every member and every external input to its rows-per-strip vector; ``footprint`` is the least
    feature-map footprint in bytes for one sample (b = 1) with the best Φ at each Q, ``full_footprint`` the one
    with Φ empty; ``inc``/``exc`` hold the tree DP tables that :meth:`CostModel.reduced_set` traces back to
    recover Φ at one Q.
    """

    io: GroupIO
    qmax: int
    rows: dict[int, np.ndarray]
    footprint: np.ndarray
    full_footprint: np.ndarray
    inc: dict[int, np.ndarray]
    exc: dict[int, np.ndarray]
    children: dict[int, list[int]]
    roots: tuple[int, ...]


class CostModel:
    """The cost model of one instance, with a per-instance cache of best tilings.

    Parameters
    ----------
    instance:
        The network, accelerator and batch size.

    Examples
    --------
    >>> cm = CostModel(instance)                                  # doctest: +SKIP
    >>> t = cm.best_tiling([net.index["c1"]]); t.cost, t.strips    # doctest: +SKIP
    (107520, 1)
    """

    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        net = instance.network
        acc = instance.accelerator
        self.network = net
        self.n = len(net.layers)
        self.batch = instance.batch
        self.word = acc.word_bytes
        self.buffer = acc.buffer_bytes
        self.tc = acc.channel_tile
        self.C = [s[0] for s in net.shapes]
        self.H = [s[1] for s in net.shapes]
        self.W = [s[2] for s in net.shapes]
        self.consumers = net.consumers
        self.producers = net.producers
        self.is_output = [i in net.output_ids for i in range(self.n)]
        self.tensor_bytes = [instance.batch * c * h * w * self.word for c, h, w in net.shapes]
        self.weight_bytes = [self.word * ww for ww in net.weights]
        self.slice_bytes = []
        for i, layer in enumerate(net.layers):
            k = layer.channels or 1
            ww = net.weights[i]
            self.slice_bytes.append(-(-self.word * ww * min(self.tc, k) // k) if ww else 0)
        # per consumer: how its rows map to its inputs' rows
        self.kind: list[int] = []
        self.param: list[tuple[int, int]] = []
        for layer in net.layers:
            if layer.op in ("conv", "pool") and not layer.global_pool:
                dil = layer.dilation[0] if layer.op == "conv" else 1
                self.kind.append(_WINDOW)
                self.param.append((layer.stride[0], (layer.kernel[0] - 1) * dil + 1))
            elif layer.op in ("fc", "pool"):
                self.kind.append(_REDUCE)
                self.param.append((0, 0))
            elif layer.op == "upsample":
                self.kind.append(_UPSAMPLE)
                self.param.append((layer.scale, 0))
            else:
                self.kind.append(_PASS)
                self.param.append((0, 0))
        # reduced channels: only conv layers with more than Tc channels save anything
        self.saving = [(self.C[i] - self.tc) * self.W[i] if layer.op == "conv" and self.C[i] > self.tc else 0
                       for i, layer in enumerate(net.layers)]
        self.is_conv = [layer.op == "conv" for layer in net.layers]
        self._best: dict[tuple[tuple[int, ...], bool, bool], Tiling | None] = {}

    # -- the parts of a group ------------------------------------------------------------------------------

    def io(self, members: Iterable[int]) -> GroupIO:
        """ext(G), esc(G) and the group's tiling-independent bytes."""
        g = tuple(sorted(set(members)))
        inside = set(g)
        ext = sorted({p for u in g for p in self.producers[u] if p not in inside})
        esc = [u for u in g if self.is_output[u] or any(c not in inside for c in self.consumers[u])]
        return GroupIO(members=g, ext=tuple(ext), esc=tuple(esc),
                       ext_bytes=sum(self.tensor_bytes[x] for x in ext),
                       esc_bytes=sum(self.tensor_bytes[u] for u in esc),
                       weight_bytes=sum(self.weight_bytes[u] for u in g),
                       weight_slice_bytes=max((self.slice_bytes[u] for u in g), default=0))

    def _need(self, c: int, rows_c: np.ndarray, h_u: int, qs: np.ndarray) -> np.ndarray:
        kind = self.kind[c]
        if kind == _WINDOW:
            stride, span = self.param[c]
            return np.minimum(h_u, (rows_c - 1) * stride + span)
        if kind == _REDUCE:
            return -(-h_u // qs)
        if kind == _PASS:
            return np.minimum(h_u, rows_c)
        scale = self.param[c][0]
        return np.minimum(h_u, (rows_c + scale - 2) // scale + 1)

    def curve(self, members: Iterable[int]) -> Curve:
        """Rows of every tensor and the least footprint for every Q, in one reverse-topological pass."""
        io = self.io(members)
        g, inside = io.members, set(io.members)
        esc = set(io.esc)
        qmax = max(self.H[u] for u in (*g, *io.ext))
        qs = np.arange(1, qmax + 1, dtype=np.int64)
        rows: dict[int, np.ndarray] = {}
        words = np.zeros(qmax, dtype=np.int64)
        inc: dict[int, np.ndarray] = {}
        exc: dict[int, np.ndarray] = {}
        children: dict[int, list[int]] = {}
        roots: list[int] = []
        zero = np.zeros(qmax, dtype=np.int64)
        for u in reversed(g):
            h_u = self.H[u]
            r = -(-h_u // qs) if u in esc else zero
            for c in self.consumers[u]:
                if c in inside:
                    r = np.maximum(r, self._need(c, rows[c], h_u, qs))
            r = np.minimum(r, h_u)
            rows[u] = r
            words += self.C[u] * self.W[u] * r
            if self.saving[u]:
                # tree DP over the forest of conv→conv edges (children have larger ids, so they are done)
                kids = children.get(u, [])
                inc_u = self.saving[u] * r
                exc_u = zero
                for k in kids:
                    inc_u = inc_u + exc[k]
                    exc_u = exc_u + np.maximum(inc[k], exc[k])
                inc[u], exc[u] = inc_u, exc_u
                parent = self.producers[u][0]
                if parent in inside and self.saving[parent]:
                    children.setdefault(parent, []).append(u)
                else:
                    roots.append(u)
        for x in io.ext:
            h_x = self.H[x]
            r = zero
            for c in self.consumers[x]:
                if c in inside:
                    r = np.maximum(r, self._need(c, rows[c], h_x, qs))
            rows[x] = r
            words += self.C[x] * self.W[x] * r
        full = self.word * words
        for root in roots:
            words = words - np.maximum(inc[root], exc[root])
        return Curve(io=io, qmax=qmax, rows=rows, footprint=self.word * words, full_footprint=full, inc=inc,
                     exc=exc, children=children, roots=tuple(roots))

    @staticmethod
    def reduced_set(curve: Curve, strips: int) -> frozenset[int]:
        """The best Φ at Q = ``strips``, traced back through the curve's tree DP (ties keep full channels)."""
        q = strips - 1
        chosen: set[int] = set()
        stack = [(root, False) for root in curve.roots]
        while stack:
            u, parent_in = stack.pop()
            take = not parent_in and curve.inc[u][q] > curve.exc[u][q]
            if take:
                chosen.add(u)
            stack.extend((k, take) for k in curve.children.get(u, ()))
        return frozenset(chosen)

    # -- tilings -------------------------------------------------------------------------------------------

    def best_tiling(self, members: Iterable[int], *, resident_only: bool = False,
                    reduced_channels: bool = True) -> Tiling | None:
        """The least-cost feasible tiling of a group, or ``None`` if no (Q, b, Φ) fits the buffer.

        ``resident_only`` admits only tilings that keep all weights on chip, and ``reduced_channels=False`` fixes
        Φ empty: the restrictions under which the Optimus paper's baselines (Efficient-S, DNNVM) fuse layers.
        Ties are broken towards fewer strips, then the smallest batch block with the same number of blocks.
        Results are cached per group and restriction.
        """
        key = (tuple(sorted(set(members))), resident_only, reduced_channels)
        if key not in self._best:
            self._best[key] = self._pick(self.curve(key[0]), resident_only, reduced_channels)
        return self._best[key]

    def _pick(self, curve: Curve, resident_only: bool = False, reduced_channels: bool = True) -> Tiling | None:
        io, buf = curve.io, self.buffer
        fp = curve.footprint if reduced_channels else curve.full_footprint
        phi = (lambda q: self.reduced_set(curve, q)) if reduced_channels else (lambda q: frozenset())
        resident = fp + io.weight_bytes <= buf
        if resident[-1]:
            q = int(np.argmax(resident)) + 1
            return self._tiling(curve, q, 1, phi(q), True)
        streamed = fp + io.weight_slice_bytes <= buf
        if resident_only or not streamed[-1]:
            return None
        if streamed[0]:
            largest = min(self.batch, (buf - io.weight_slice_bytes) // int(fp[0]))
            blocks = -(-self.batch // largest)
            b = -(-self.batch // blocks)
            return self._tiling(curve, 1, b, phi(1), False)
        q = int(np.argmax(streamed)) + 1
        return self._tiling(curve, q, 1, phi(q), False)

    def _tiling(self, curve: Curve, q: int, b: int, reduced: frozenset[int], resident: bool) -> Tiling:
        io = curve.io
        footprint = b * self._footprint_words(curve, q, reduced) * self.word
        weight_traffic = io.weight_bytes if resident else io.weight_bytes * q * -(-self.batch // b)
        return Tiling(strips=q, batch_block=b, reduced=reduced, resident=resident, footprint_bytes=footprint,
                      weight_traffic=weight_traffic, read_bytes=io.ext_bytes + weight_traffic,
                      write_bytes=io.esc_bytes)

    def _footprint_words(self, curve: Curve, q: int, reduced: frozenset[int]) -> int:
        total = 0
        for t, r in curve.rows.items():
            channels = min(self.tc, self.C[t]) if t in reduced else self.C[t]
            total += channels * int(r[q - 1]) * self.W[t]
        return total

    def tiling(self, members: Iterable[int], strips: int, batch_block: int = 1,
               reduced: Iterable[int] = ()) -> Tiling:
        """The traffic of a group under a given tiling, checked against every rule of cost-model.md §4.

        Raises
        ------
        ValueError
            If Q or b is out of range, Φ holds a non-conv layer, a layer outside the group or two layers joined by
            an edge inside the group, or the tiling does not fit the buffer (the message gives the bytes).
        """
        curve = self.curve(members)
        io = curve.io
        names = self.network.layers
        phi = frozenset(reduced)
        if not 1 <= strips <= curve.qmax:
            raise ValueError(f"strips {strips} out of range 1..{curve.qmax} (the tallest tensor of the group)")
        if not 1 <= batch_block <= self.batch:
            raise ValueError(f"batch_block {batch_block} out of range 1..{self.batch}")
        if batch_block > 1 and strips > 1:
            raise ValueError(f"batch_block {batch_block} > 1 needs strips = 1, got {strips}")
        inside = set(io.members)
        for u in sorted(phi):
            if u not in inside:
                raise ValueError(f"reduced-channel layer '{names[u].name}' is not in the group")
            if not self.is_conv[u]:
                raise ValueError(f"reduced-channel layer '{names[u].name}' is a {names[u].op}, not a conv")
            p = self.producers[u][0]
            if p in phi:
                raise ValueError(f"reduced-channel layers '{names[p].name}' and '{names[u].name}' are joined by "
                                 "an edge inside the group")
        footprint = batch_block * self._footprint_words(curve, strips, phi) * self.word
        if footprint + io.weight_bytes <= self.buffer:
            resident = True
        elif footprint + io.weight_slice_bytes <= self.buffer:
            resident = False
        else:
            raise ValueError(f"tiling does not fit: footprint {footprint} + weight slice {io.weight_slice_bytes} "
                             f"> buffer {self.buffer} bytes")
        return self._tiling(curve, strips, batch_block, phi, resident)

    def tiling_options(self, members: Iterable[int]) -> list[tuple[int, Tiling]]:
        """The tilings of a group that no other tiling beats in both the buffer it needs and its DRAM bytes, as
        (buffer bytes needed, tiling) pairs by increasing need and decreasing cost; the buffer is a decision here
        (used for the traffic/capacity Pareto front), so options above this model's own buffer are included.

        A tiling needs its footprint plus all weights when they stay resident, or plus the largest weight slice
        when they stream. For every capacity B, the cheapest option needing at most B costs what
        :meth:`best_tiling` finds at buffer B.
        """
        curve = self.curve(members)
        io, fp = curve.io, curve.footprint
        qmax, n = curve.qmax, self.batch
        phi = {}

        def reduced(q: int) -> frozenset[int]:
            if q not in phi:
                phi[q] = self.reduced_set(curve, q)
            return phi[q]

        raw: list[tuple[int, int, int, int, bool]] = []  # (need, cost, q, b, resident)
        base = io.ext_bytes + io.esc_bytes
        w = io.weight_bytes
        raw.append((int(fp[-1]) + w, base + w, qmax, 1, True))
        if w:
            for blocks in range(1, n + 1):
                b = -(-n // blocks)
                raw.append((b * int(fp[0]) + io.weight_slice_bytes, base + w * blocks, 1, b, False))
            for q in range(2, qmax + 1):
                raw.append((int(fp[q - 1]) + io.weight_slice_bytes, base + w * q * n, q, 1, False))
        raw.sort(key=lambda r: (r[0], r[1], r[2]))
        options: list[tuple[int, Tiling]] = []
        for need, cost, q, b, resident in raw:
            if options and cost >= options[-1][1].cost:
                continue
            tiling = self._tiling(curve, q, b, reduced(q), resident)
            assert tiling.cost == cost
            options.append((need, tiling))
        return options

    def least_buffer(self, members: Iterable[int]) -> int:
        """The least buffer capacity in bytes at which the group has any feasible tiling (Q = Qmax, b = 1)."""
        curve = self.curve(members)
        return int(curve.footprint[-1]) + curve.io.weight_slice_bytes

    def compulsory_bytes(self) -> int:
        """Σ|network inputs| + Σ|network outputs| + all weights once: a lower bound of every schedule."""
        net = self.network
        return (sum(self.tensor_bytes[i] for i in net.input_ids)
                + sum(self.tensor_bytes[i] for i in net.output_ids)
                + sum(self.weight_bytes))
