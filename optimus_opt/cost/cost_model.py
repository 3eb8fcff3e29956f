"""The memory cost model of a fused group (formulations/cost-model.md), exact to the byte.

Version 2 (``tiling: strips``, the default) is worked out here; version 3 (``tiling: tiles``, §7: 2-D tiles, halo
modes, passes, MACs) in :mod:`.tiles`, which this module dispatches to for best tilings, given tilings, options,
least buffers and floors, so that every caller asks one :class:`CostModel` whatever the tiling model.

This module is the one place that knows the model's arithmetic: a layer's window span, the rows every tensor
keeps per strip, footprint floors, weight blocks, gated groups and the best tiling of a group, with one cache of
best tilings per instance. Candidates, solvers and baselines ask it; none re-derives a rule.

A group G executes in Q row strips over b samples at a time; the rows each tensor keeps on chip are derived from
the group's escaping outputs backwards through every consumer's window (the Optimus paper's
t(l−1) = t(l)·S + K − S, with dilation and padding made exact). A set Φ of conv layers, no two joined by an edge
inside G, may keep only min(Tc, C) output channels on chip (the paper's "buffer requirement reduction", BRR).

Everything a group's cost depends on is computed for all Q at once: :meth:`CostModel.curve` returns the rows of
every tensor and the least footprint for Q = 1 … Qmax as numpy vectors, in one pass over the group in reverse
topological order. Rows only shrink as Q grows, so the least footprint is non-increasing in Q and the best tiling
is read off the curve:

* weights **resident** at the smallest Q whose footprint leaves room for all weights: cost W_G, the least possible;
* otherwise **streamed**, staging one weight block S_G: at Q = 1 with the largest batch block b that fits
  (⌈N/b⌉ reloads ≤ N ≤ Q·N for any other Q), else at the smallest Q that fits with b = 1 (Q·N reloads).

A **gated** group (a squeeze-excitation gate computed and applied inside it) is feasible only at Q = 1, and the
producers of the gated tensor keep all their channels.

The best Φ is a maximum-weight independent set of the conflict graph (the saving convs of G, joined by the edges
inside G), with weights that depend on Q. Concats are views, so a conv may read several convs and that graph need
not be a forest: its tree components are solved by a tree dynamic program and the others by branching on their
busiest vertex with memoised sub-problems, both vectorised over Q, so Φ is exact at every Q.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

from ..model.instance import Instance
from ..model.network import is_broadcast_operand
from . import objective as objective_search
from .energy import OBJECTIVES, FigureModel, Figures, objective_floor
from .parts import FULL, PASS, REDUCE, UPSAMPLE, WINDOW, GroupIO, ReducedChannels, Tiling, TilingRules, bits, mask_of
from .tile_counts import bitset_words, strip_pyramid
from .tiles import HALO_MODES, TileCosts


@dataclass(frozen=True)
class Curve:
    """Rows per tensor and the least footprint of a group for Q = 1 … qmax (index q − 1).

    ``rows`` maps every member and every external input to its rows-per-strip vector; ``footprint`` is the least
    feature-map footprint in bytes for one sample (b = 1) with the best Φ at each Q, ``full_footprint`` the one
    with Φ empty. ``qlimit`` is the largest feasible Q: 1 for a gated group, else qmax.
    """

    io: GroupIO
    qmax: int
    qlimit: int
    rows: dict[int, np.ndarray]
    footprint: np.ndarray
    full_footprint: np.ndarray
    phi: ReducedChannels

    def reduced_set(self, strips: int) -> frozenset[int]:
        """The best Φ at Q = ``strips``."""
        return frozenset(self.phi.choose(strips))


@dataclass(frozen=True)
class _Plan:
    """The Q-independent structure of a group that :meth:`CostModel._at_strips` evaluates at one Q: ``order`` holds
    (u, H, escapes, consumers inside, C·W, saving per row or 0) per member in reverse topological order, ``ext``
    (x, H, consumers inside, C·W) per external input; consumers as (c, kind, stride, span, scale)."""

    io: GroupIO
    qmax: int
    qlimit: int
    order: list
    ext: list
    phi_nodes: list[int]
    phi_adj: dict[int, int]


class _Probe:
    """A group's rows and footprint at one Q. The least footprint lies between ``low`` (every saving conv
    reduced at once, Φ ignoring conflicts) and ``high`` (Φ empty); :meth:`exact` solves Φ only when asked, which
    is only when the buffer falls between the two."""

    __slots__ = ("word", "words", "rows", "saving", "plan", "low", "high", "_phi", "_exact")

    def __init__(self, word: int, words: int, rows: dict[int, int], saving: dict[int, int], plan: _Plan) -> None:
        self.word, self.words, self.rows, self.saving, self.plan = word, words, rows, saving, plan
        self.high = word * words
        self.low = word * (words - sum(saving.values()))
        self._phi: ReducedChannels | None = None
        self._exact: int | None = None if saving else self.high

    def _problem(self) -> ReducedChannels:
        if self._phi is None:
            self._phi = ReducedChannels(self.plan.phi_nodes, self.plan.phi_adj, self.saving, 0, scalar=True)
        return self._phi

    def exact(self) -> int:
        """The least footprint in bytes (b = 1) with the best Φ."""
        if self._exact is None:
            self._exact = self.word * (self.words - self._problem().value())
        return self._exact

    def reduced(self, q: int) -> frozenset[int]:
        """The best Φ (ties keep full channels, as :meth:`ReducedChannels.choose`)."""
        return frozenset(self._problem().choose(q)) if self.saving else frozenset()


class CostModel:
    """The cost model of one instance, with its cache of best tilings.

    The accelerator carries the model's options (``weight_staging``); baselines' restrictions are a
    :class:`TilingRules` value, part of the cache key.

    Examples
    --------
    >>> from optimus_opt import load_instance
    >>> inst = load_instance("instances/example-64k.json")  # the worked example of formulations/cost-model.md
    >>> cm = CostModel(inst)
    >>> t = cm.best_tiling([inst.network.index["c1"]]); (t.cost, t.strips, t.resident)
    (107520, 1, True)
    """

    def __init__(self, instance: Instance, objective: str = "dram") -> None:
        if objective not in OBJECTIVES:
            raise ValueError(f"unknown objective {objective!r} (known: {', '.join(OBJECTIVES)})")
        #: What a group's best tiling minimises and :attr:`Tiling.cost` is: DRAM bytes, energy or latency
        #: (formulations/energy.md).
        self.objective = objective
        self._figure_model: FigureModel | None = None
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
        staging = acc.weight_staging == "block"
        self.block_bytes = [self.word * self._block_words(i) if staging else 0 for i in range(self.n)]
        self.kind: list[int] = []
        self.stride: list[int] = []
        self.span: list[int] = []
        self.scale: list[int] = []
        for layer in net.layers:
            window = layer.op == "conv" or (layer.op == "pool" and not layer.global_pool)
            dil = layer.dilation[0] if layer.op == "conv" else 1
            self.kind.append(WINDOW if window else REDUCE if layer.op in ("fc", "pool")
                             else UPSAMPLE if layer.op == "upsample" else PASS)
            self.stride.append(layer.stride[0] if window else 1)
            self.span.append((layer.kernel[0] - 1) * dil + 1 if window else 1)
            self.scale.append(layer.scale)
        # reduced channels: only conv layers with more than Tc channels save anything
        self.is_conv = [layer.op == "conv" for layer in net.layers]
        self.saving = [(self.C[i] - self.tc) * self.W[i] if self.is_conv[i] and self.C[i] > self.tc else 0
                       for i in range(self.n)]
        self.min_channels = [min(self.tc, self.C[i]) if self.is_conv[i] else self.C[i] for i in range(self.n)]
        # gates: reductions over more than one row, and the broadcast operands of element-wise layers
        # (under tiles a reduction over one row of several columns is complete only after the last tile column)
        wide = acc.tiling == "tiles"
        self.gating_reduction = [self.kind[i] == REDUCE and any(self.H[p] > 1 or (wide and self.W[p] > 1)
                                                                for p in self.producers[i])
                                 for i in range(self.n)]
        self.gate_operands: dict[int, tuple[int, ...]] = {}
        self.full_operands: dict[int, tuple[int, ...]] = {}
        for i, layer in enumerate(net.layers):
            if layer.op in ("add", "mul"):
                gates = tuple(p for p in self.producers[i] if is_broadcast_operand(net.shapes[p], net.shapes[i]))
                if gates:
                    self.gate_operands[i] = gates
                    self.full_operands[i] = tuple(p for p in self.producers[i] if p not in gates)
        # MACs (formulations/cost-model.md §7.5): per output element, and each layer's own over the batch
        self.layer_macs = [self.batch * m for m in net.mac_counts]
        self.mac_per_element = [self.layer_macs[i] // max(1, self.batch * self.C[i] * self.H[i] * self.W[i])
                                for i in range(self.n)]
        self._best: dict[tuple[int, TilingRules], Tiling | None] = {}
        #: Version 3 (``tiling: tiles``) prices groups in :mod:`optimus_opt.cost.tiles`; None under ``strips``.
        self.tiles = TileCosts(self, HALO_MODES if acc.halo == "choose" else (acc.halo,)) \
            if acc.tiling == "tiles" else None
        self._strip_rules: tuple | None = None  # the arrays of the compiled strips pyramid, built on first use

    def _block_words(self, i: int) -> int:
        """blk(u): the weight words one Tc × Tc block of layer u holds (bias words are not staged)."""
        net = self.network
        layer = net.layers[i]
        if layer.op not in ("conv", "fc") or not net.producers[i]:
            return 0
        c, h, w = net.shapes[net.written_producers[i][0]]
        k = layer.channels or 1
        if layer.op == "fc":
            return min(self.tc, k) * min(self.tc, c * h * w)
        return min(self.tc, k) * min(self.tc, c // layer.groups) * layer.kernel[0] * layer.kernel[1]

    # -- the parts of a group ------------------------------------------------------------------------------

    def io(self, members: Iterable[int]) -> GroupIO:
        """ext(G), esc(G), the group's weights and whether it is gated."""
        g = tuple(sorted(set(members)))
        inside = set(g)
        ext = sorted({p for u in g for p in self.producers[u] if p not in inside})
        esc = [u for u in g if self.is_output[u] or any(c not in inside for c in self.consumers[u])]
        gated, full = self._gates(g, inside)
        return GroupIO(members=g, ext=tuple(ext), esc=tuple(esc),
                       ext_bytes=sum(self.tensor_bytes[x] for x in ext),
                       esc_bytes=sum(self.tensor_bytes[u] for u in esc),
                       weight_bytes=sum(self.weight_bytes[u] for u in g),
                       weight_block_bytes=max(self.block_bytes[u] for u in g),
                       gated=gated, full_channels=full, macs=sum(self.layer_macs[u] for u in g))

    def _gates(self, g: tuple[int, ...], inside: set[int]) -> tuple[bool, frozenset[int]]:
        """Whether a reduction of G over more than one row reaches, by edges inside G, a broadcast operand of an
        element-wise layer of G; and the layers of G that produce the full-size operands of such layers."""
        starts = [u for u in g if self.gating_reduction[u]]
        if not starts or not any(m in inside for m in self.gate_operands):
            return False, frozenset()
        reached = set(starts)
        for u in g:  # topological order: a member is reached once all paths to it are seen
            if u in reached:
                reached.update(c for c in self.consumers[u] if c in inside)
        full: set[int] = set()
        gated = False
        for m, gates in self.gate_operands.items():
            if m in inside and any(o in reached for o in gates):
                gated = True
                full.update(p for p in self.full_operands[m] if p in inside)
        return gated, frozenset(full)

    def need(self, c: int, rows_c: np.ndarray, h_u: int, qs: np.ndarray) -> np.ndarray:
        """The rows of an input of height ``h_u`` that consumer ``c`` needs per strip when it computes
        ``rows_c`` rows, for each number of strips in ``qs`` (§4, "Rows per strip"); never above ``h_u``, and
        non-decreasing in ``rows_c``."""
        kind = self.kind[c]
        if kind == WINDOW:
            return np.minimum(h_u, (rows_c - 1) * self.stride[c] + self.span[c])
        if kind == REDUCE:
            return -(-h_u // qs)
        if kind == PASS:
            return np.minimum(h_u, rows_c)
        scale = self.scale[c]
        return np.minimum(h_u, (rows_c + scale - 2) // scale + 1)

    def _conflicts(self, saving: Iterable[int]) -> dict[int, int]:
        """The conflict graph of Φ: each saving conv of the group and the bitset of the saving convs it shares an
        edge with (a producer or a consumer); no two of them may both keep reduced channels."""
        nodes = set(saving)
        adj = {u: 0 for u in nodes}
        for u in nodes:
            for c in self.consumers[u]:
                if c in nodes:
                    adj[u] |= 1 << c
                    adj[c] |= 1 << u
        return adj

    def largest_saving(self, saving: dict[int, int]) -> int:
        """The most words Φ can save at one Q, given what reducing each conv saves there (``saving[u]``): a
        maximum-weight independent set of their conflict graph (§4, "Reduced channels")."""
        return ReducedChannels(sorted(saving), self._conflicts(saving), saving, 0, scalar=True).value()

    def curve(self, members: Iterable[int]) -> Curve:
        """Rows of every tensor and the least footprint for every Q, in one reverse-topological pass."""
        io = self.io(members)
        g, inside = io.members, set(io.members)
        esc = set(io.esc)
        qmax = max(self.H[u] for u in (*g, *io.ext))
        qs = np.arange(1, qmax + 1, dtype=np.int64)
        rows: dict[int, np.ndarray] = {}
        words = np.zeros(qmax, dtype=np.int64)
        zero = np.zeros(qmax, dtype=np.int64)
        saving: dict[int, np.ndarray] = {}
        for u in reversed(g):
            h_u = self.H[u]
            r = -(-h_u // qs) if u in esc else zero
            for c in self.consumers[u]:
                if c in inside:
                    r = np.maximum(r, self.need(c, rows[c], h_u, qs))
            r = np.minimum(r, h_u)
            rows[u] = r
            words += self.C[u] * self.W[u] * r
            if self.saving[u] and u not in io.full_channels:
                saving[u] = self.saving[u] * r
        for x in io.ext:
            h_x = self.H[x]
            r = zero
            for c in self.consumers[x]:
                if c in inside:
                    r = np.maximum(r, self.need(c, rows[c], h_x, qs))
            rows[x] = r
            words += self.C[x] * self.W[x] * r
        phi = ReducedChannels(sorted(saving), self._conflicts(saving), saving, qmax)
        full = self.word * words
        return Curve(io=io, qmax=qmax, qlimit=1 if io.gated else qmax, rows=rows,
                     footprint=full - self.word * phi.value(), full_footprint=full, phi=phi)

    # -- tilings -------------------------------------------------------------------------------------------

    def best_tiling(self, members: Iterable[int], rules: TilingRules = FULL) -> Tiling | None:
        """The least-cost feasible tiling of a group, or ``None`` if no (Q, b, Φ) fits the buffer.

        Ties are broken towards fewer strips, then the smallest batch block with the same number of blocks.
        Results are cached per group and rules.
        """
        return self.best_tiling_of_mask(mask_of(members), rules)

    def best_tiling_of_mask(self, mask: int, rules: TilingRules = FULL) -> Tiling | None:
        """:meth:`best_tiling` of a group given as a bitset of node ids."""
        key = (mask, rules)
        try:
            return self._best[key]
        except KeyError:
            pass
        if self.objective != "dram":
            tiling = objective_search.best(self, bits(mask), rules, self.objective)
        elif self.tiles is not None:
            tiling = self.tiles.best(bits(mask), rules)
        else:
            tiling = self._pick_at_few_strips(bits(mask), rules)
        self._best[key] = tiling
        return tiling

    @property
    def figure_model(self) -> FigureModel:
        """The energy and latency models of this instance (formulations/energy.md), made when first asked for."""
        if self._figure_model is None:
            self._figure_model = FigureModel(self)
        return self._figure_model

    def figures(self, members: Iterable[int], tiling: Tiling) -> Figures:
        """DRAM bytes, buffer accesses, MACs, energy and latency of a group under one of its tilings."""
        return self.figure_model.figures(sorted(members), tiling)

    def value_floor(self, dram_bytes: int) -> int:
        """A lower bound, in the objective's units, of a group or schedule that moves at least ``dram_bytes``:
        the bytes themselves; their DRAM words' energy (every other term is at least 0); their transfer cycles
        (latency is at least the DRAM time)."""
        if self.objective == "dram":
            return dram_bytes
        fm = self.figure_model
        if self.objective == "energy":
            return dram_bytes // self.word * fm.e["dram_pj"]
        return -(-(dram_bytes * fm.clock) // fm.bandwidth)

    def objective_floor(self) -> int:
        """A lower bound of every schedule's objective value (:func:`.energy.objective_floor`): the compulsory
        traffic under the DRAM objective."""
        return objective_floor(self, self.objective)

    def frontier(self, members: Iterable[int], metrics: Iterable[str], rules: TilingRules = FULL) -> list[Tiling]:
        """The group's tilings that no other beats in this model's objective and every one of ``metrics``
        (``dram_bytes``, ``energy_fj``, ``latency_cycles``, ``added_macs``), best objective first
        (:func:`.objective.frontier`): the columns of a model that chooses tilings under budgets."""
        return objective_search.frontier(self, list(members), rules, self.objective, tuple(metrics))

    def _pick_at_few_strips(self, members: list[int], rules: TilingRules) -> Tiling | None:
        """:meth:`_pick` of the group's curve, computed at a few strip counts only.

        The least footprint is non-increasing in Q (every row count is, and so is the least over Φ of sums of
        them), so "the least Q whose footprint fits" is found by bisection over Q, each probe a scalar pass
        (:meth:`_at_strips`) with the same arithmetic as one entry of :meth:`curve`'s vectors; the Q, b, Φ and
        bytes chosen are those of :meth:`_pick` (tests/test_properties.py checks both agree).
        """
        plan = self._plan(members)
        buf = self.buffer
        probes: dict[int, _Probe] = {}

        def probe(q: int) -> _Probe:
            hit = probes.get(q)
            if hit is None:
                hit = probes[q] = self._at_strips(plan, q, rules.reduced_channels)
            return hit

        def fits(q: int, extra: int) -> bool:  # footprint(q) + extra <= buffer, solving Φ only when it decides
            p = probe(q)
            if p.low + extra > buf:
                return False
            if p.high + extra <= buf:
                return True
            return p.exact() + extra <= buf

        choice = self._choose(plan.io, plan.qlimit, fits, lambda: probe(1).exact(), rules)
        if choice is None:
            return None
        q, b, resident = choice
        return self._assemble(plan.io, q, b, probes[q].reduced(q), probes[q].rows, resident)

    def _choose(self, io: GroupIO, qlimit: int, fits, footprint_at_1, rules: TilingRules
                ) -> tuple[int, int, bool] | None:
        """The best (Q, b, resident) of a group, or ``None``: resident at the least Q that fits, else streamed at
        Q = 1 with the largest batch block that fits, else at the least Q that fits with b = 1 (the module's
        docstring says why). ``fits(q, extra)`` says whether the least footprint at Q = q (b = 1) plus ``extra``
        bytes fits the buffer; ``footprint_at_1()`` is that footprint at Q = 1. The footprint is non-increasing in
        Q, so the least Q that fits is found by bisection."""

        def least(extra: int) -> int:  # the least q in 1..qlimit that fits, given that qlimit fits
            if fits(1, extra):
                return 1
            lo, hi = 1, qlimit
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if fits(mid, extra):
                    hi = mid
                else:
                    lo = mid
            return hi

        if fits(qlimit, io.weight_bytes):
            return least(io.weight_bytes), 1, True
        blk = io.weight_block_bytes
        if rules.resident_only or not fits(qlimit, blk):
            return None
        if fits(1, blk):
            largest = min(self.batch, (self.buffer - blk) // footprint_at_1())
            blocks = -(-self.batch // largest)
            return 1, -(-self.batch // blocks), False
        return least(blk), 1, False

    def _plan(self, members: Iterable[int]) -> "_Plan":
        """What a group's footprint at any Q depends on, gathered once: members in reverse topological order with
        their consumers inside the group, the external inputs with theirs, and the conflict graph of Φ."""
        io = self.io(members)
        g, inside = io.members, set(io.members)
        esc = set(io.esc)
        rule = self.reader_rule
        order = [(u, self.H[u], u in esc, [rule(c) for c in self.consumers[u] if c in inside], self.C[u] * self.W[u],
                  self.saving[u] if self.saving[u] and u not in io.full_channels else 0) for u in reversed(g)]
        ext = [(x, self.H[x], [rule(c) for c in self.consumers[x] if c in inside], self.C[x] * self.W[x])
               for x in io.ext]
        saving = [u for u, *_, sv in order if sv]
        adj = self._conflicts(saving)
        qmax = max(self.H[u] for u in (*g, *io.ext))
        return _Plan(io=io, qmax=qmax, qlimit=1 if io.gated else qmax, order=order, ext=ext,
                     phi_nodes=sorted(saving), phi_adj=adj)

    def reader_rule(self, c: int) -> tuple[int, int, int, int, int]:
        """What :meth:`rows_needed` needs to know of a reader: (c, kind, stride, span, scale)."""
        return c, self.kind[c], self.stride[c], self.span[c], self.scale[c]

    @staticmethod
    def rows_needed(h: int, q: int, rows: dict[int, int], consumers: list[tuple]) -> int:
        """The rows a tensor of height h keeps at Q = q for its consumers inside the group (0 if none), given
        their rows and, per consumer, (c, kind, stride, span, scale) as :meth:`reader_rule` gives them."""
        r = 0
        for c, kind, stride, span, scale in consumers:
            rc = rows[c]
            if kind == WINDOW:
                need = (rc - 1) * stride + span
            elif kind == REDUCE:
                need = -(-h // q)
            elif kind == PASS:
                need = rc
            else:
                need = (rc + scale - 2) // scale + 1
            if need > r:
                r = need
        return r if r < h else h

    def _at_strips(self, plan: "_Plan", q: int, reduced_channels: bool) -> "_Probe":
        """The rows per tensor of a group at Q = q and what its least footprint (bytes, b = 1) is made of: one
        entry of :meth:`curve`, in scalar arithmetic."""
        rows: dict[int, int] = {}
        words = 0
        saving: dict[int, int] = {}
        need = self.rows_needed
        for u, h, esc, cons, unit, sv in plan.order:
            r = need(h, q, rows, cons)
            if esc:
                top = -(-h // q)
                if top > r:
                    r = top
            rows[u] = r
            words += unit * r
            if sv and reduced_channels:
                saving[u] = sv * r
        for x, h, cons, unit in plan.ext:
            r = need(h, q, rows, cons)
            rows[x] = r
            words += unit * r
        return _Probe(self.word, words, rows, saving, plan)

    def _pick(self, curve: Curve, rules: TilingRules) -> Tiling | None:
        """:meth:`best_tiling` read off the group's whole curve (the vectorised oracle of the few-strips path)."""
        fp = curve.footprint if rules.reduced_channels else curve.full_footprint
        choice = self._choose(curve.io, curve.qlimit, lambda q, extra: int(fp[q - 1]) + extra <= self.buffer,
                              lambda: int(fp[0]), rules)
        if choice is None:
            return None
        q, b, resident = choice
        return self._tiling(curve, q, b, curve.reduced_set(q) if rules.reduced_channels else frozenset(), resident)

    def _tiling(self, curve: Curve, q: int, b: int, reduced: frozenset[int], resident: bool) -> Tiling:
        return self._assemble(curve.io, q, b, reduced, self._rows_at(curve, q), resident)

    @staticmethod
    def _rows_at(curve: Curve, q: int) -> dict[int, int]:
        return {t: int(r[q - 1]) for t, r in curve.rows.items()}

    def _words(self, rows: dict[int, int], reduced: frozenset[int]) -> int:
        """Feature-map words (b = 1) of tensors holding ``rows`` rows, with the layers of Φ at min(Tc, C) channels."""
        return sum((min(self.tc, self.C[t]) if t in reduced else self.C[t]) * r * self.W[t] for t, r in rows.items())

    def _footprint_words(self, curve: Curve, q: int, reduced: frozenset[int]) -> int:
        return self._words(self._rows_at(curve, q), reduced)

    def _assemble(self, io: GroupIO, q: int, b: int, reduced: frozenset[int], rows: dict[int, int],
                  resident: bool) -> Tiling:
        """The tiling (Q, b, Φ) with the rows it holds at Q, and the traffic it implies."""
        weight_traffic = io.weight_bytes if resident else io.weight_bytes * q * -(-self.batch // b)
        return Tiling(strips=q, batch_block=b, reduced=reduced, resident=resident,
                      footprint_bytes=b * self._words(rows, reduced) * self.word, weight_traffic=weight_traffic,
                      read_bytes=io.ext_bytes + weight_traffic, write_bytes=io.esc_bytes, macs=io.macs)

    def tiling(self, members: Iterable[int], strips: int, batch_block: int = 1,
               reduced: Iterable[int] = (), *, tile_cols: int = 1, halo: str | None = None,
               passes: int = 1) -> Tiling:
        """The traffic of a group under a given tiling, checked against every rule of formulations/cost-model.md §4
        (``tiling: strips``) or §7 (``tiling: tiles``, where ``strips`` is the tile rows).

        Raises
        ------
        ValueError
            If Q or b is out of range (a gated group needs Q = 1), Φ holds a non-conv layer, a layer outside the
            group, two layers joined by an edge inside the group or a producer of a gated tensor, a version 3
            field is given under ``strips``, or the tiling does not fit the buffer (the message gives the bytes).
        """
        members = list(members)
        phi = frozenset(reduced)
        if self.tiles is None:
            for what, value, default in (("tile_cols", tile_cols, 1), ("halo", halo, None), ("passes", passes, 1)):
                if value != default:
                    raise ValueError(f"{what} {value!r} needs the accelerator's tiling: tiles (this one tiles in "
                                     "strips, cost model version 2)")
        io = self.io(members)
        self._check_reduced(io, phi)
        if self.tiles is not None:
            # no halo given: the accelerator's own (the first of its modes: cache under choose)
            return self.tiles.check(members, strips, tile_cols, batch_block, phi, halo or self.tiles.halos[0], passes)
        curve = self.curve(members)
        if io.gated and strips != 1:
            raise ValueError(f"strips {strips}: the group computes and applies a squeeze-excitation gate, which "
                             "needs whole tensors on chip (strips = 1)")
        if not 1 <= strips <= curve.qmax:
            raise ValueError(f"strips {strips} out of range 1..{curve.qmax} (the tallest tensor of the group)")
        if not 1 <= batch_block <= self.batch:
            raise ValueError(f"batch_block {batch_block} out of range 1..{self.batch}")
        if batch_block > 1 and strips > 1:
            raise ValueError(f"batch_block {batch_block} > 1 needs strips = 1, got {strips}")
        footprint = batch_block * self._footprint_words(curve, strips, phi) * self.word
        if footprint + io.weight_bytes <= self.buffer:
            resident = True
        elif footprint + io.weight_block_bytes <= self.buffer:
            resident = False
        else:
            raise ValueError(f"tiling does not fit: footprint {footprint:,} B + weight block "
                             f"{io.weight_block_bytes:,} B > buffer {self.buffer:,} B")
        return self._tiling(curve, strips, batch_block, phi, resident)

    def _check_reduced(self, io: GroupIO, phi: frozenset[int]) -> None:
        """Φ's own rules (§4): conv layers of the group, not producers of a gated tensor, no two joined."""
        names = self.network.layers
        inside = set(io.members)
        for u in sorted(phi):
            if u not in inside:
                raise ValueError(f"reduced-channel layer '{names[u].name}' is not in the group")
            if not self.is_conv[u]:
                raise ValueError(f"reduced-channel layer '{names[u].name}' is {'an' if names[u].op[0] in 'aeiou' else 'a'} "
                                 f"{names[u].op}, not a conv")
            if u in io.full_channels:
                raise ValueError(f"reduced-channel layer '{names[u].name}' produces the tensor a squeeze-"
                                 "excitation gate of the group scales, so it must keep all its channels")
            for p in self.producers[u]:
                if p in phi:
                    raise ValueError(f"reduced-channel layers '{names[p].name}' and '{names[u].name}' are joined "
                                     "by an edge inside the group")

    def tiling_options(self, members: Iterable[int]) -> list[tuple[int, Tiling]]:
        """The tilings of a group that no other tiling beats in both the buffer it needs and its DRAM bytes, as
        (buffer bytes needed, tiling) pairs by increasing need and decreasing cost; the buffer is a decision here
        (used for the traffic/capacity Pareto front), so options above this model's own buffer are included.

        A tiling needs its footprint plus all weights when they stay resident, or plus the weight block when they
        stream. For every capacity B, the cheapest option needing at most B costs what :meth:`best_tiling` finds
        at buffer B.
        """
        if self.tiles is not None:
            return self.tiles.options(list(members), FULL)
        curve = self.curve(members)
        io, fp = curve.io, curve.footprint
        qlimit, n = curve.qlimit, self.batch
        raw: list[tuple[int, int, int, int, bool]] = []  # (need, cost, q, b, resident)
        base = io.ext_bytes + io.esc_bytes
        w, blk = io.weight_bytes, io.weight_block_bytes
        raw.append((int(fp[qlimit - 1]) + w, base + w, qlimit, 1, True))
        if w:
            for blocks in range(1, n + 1):
                b = -(-n // blocks)
                raw.append((b * int(fp[0]) + blk, base + w * blocks, 1, b, False))
            for q in range(2, qlimit + 1):
                raw.append((int(fp[q - 1]) + blk, base + w * q * n, q, 1, False))
        raw.sort(key=lambda r: (r[0], r[1], r[2]))
        options: list[tuple[int, Tiling]] = []
        for need, cost, q, b, resident in raw:
            if options and cost >= options[-1][1].cost:
                continue
            tiling = self._tiling(curve, q, b, curve.reduced_set(q), resident)
            assert tiling.cost == cost
            options.append((need, tiling))
        return options

    def recompute_options(self, members: Iterable[int]) -> list[tuple[int, Tiling]]:
        """The group's tilings that no other beats in both added MACs and DRAM bytes at this buffer, as (added
        MACs, tiling) pairs by increasing added MACs and decreasing bytes (the columns of the traffic/recompute
        front: :func:`.objective.frontier` in DRAM bytes and added MACs); under ``strips`` nothing is recomputed
        and the best tiling is the only one."""
        found = objective_search.frontier(self, list(members), FULL, "dram", ("added_macs",))
        return [(t.added_macs, t) for t in reversed(found)]

    def least_buffer(self, members: Iterable[int]) -> int:
        """The least buffer capacity in bytes at which the group has any feasible tiling (the largest feasible Q,
        b = 1, weights streamed; under ``tiles`` also a pass of one output channel)."""
        if self.tiles is not None:
            return self.tiles.least_buffer(list(members))
        curve = self.curve(members)
        return int(curve.footprint[curve.qlimit - 1]) + curve.io.weight_block_bytes

    def footprint_floor(self, members: Iterable[int]) -> int:
        """A lower bound, in bytes, of the buffer any tiling of the group or of any group containing it needs: the
        pyramid floor (:meth:`pyramid_bytes`) plus the largest weight block. Under ``tiles``,
        :meth:`~optimus_opt.cost.tiles.TileCosts.floor` (which also knows output-channel passes)."""
        if self.tiles is not None:
            return self.tiles.floor(members)
        group = set(members)
        mask = mask_of(group)
        reads = mask_of({p for u in group for p in self.producers[u]})
        return self.pyramid_bytes(mask, reads) + max(self.block_bytes[u] for u in group)

    def pyramid_bytes(self, mask: int, reads: int) -> int:
        """The feature-map part of the footprint floor of the set ``mask`` whose members read ``reads`` (bitsets,
        network inputs included), in bytes: the pyramid of formulations/candidate-space.md. It only grows when the
        set grows.

        Under ``strips`` a member keeps at least one row, and at least what each consumer in the set needs for the
        rows it keeps (a window consumer of r rows needs (r − 1)·stride + span; a reduction one row); an external
        input what its consumers need; each at most its height, at min(Tc, C) channels (C for a non-conv): no
        strip count goes below it. Under ``tiles`` the same recursion in rows and in columns gives the extent of
        the first tile (the top-left corner, where windows are clipped by the top and left padding: (r − 1)·stride
        − padding + span), whose window every tiling holds (compiled: :meth:`.tiles.TileGeometry.first_tile`); 0
        when a window may lie wholly in its padding (a tile may then hold no cell of a tensor)."""
        if self.tiles is None:  # rows_needed at Q = H, compiled
            if self._strip_rules is None:
                readers = [list(self.consumers[t]) for t in range(self.n)]
                self._strip_rules = (
                    np.cumsum([0] + [len(r) for r in readers], dtype=np.int64),
                    np.array([c for r in readers for c in r] or [0], dtype=np.int64),
                    *(np.array(values, dtype=np.int64) for values in (self.kind, self.stride, self.span, self.scale,
                                                                      self.H)),
                    np.array([self.word * self.min_channels[t] * self.W[t] for t in range(self.n)], dtype=np.int64))
            return int(strip_pyramid(bitset_words(mask, self.n), bitset_words(reads, self.n), *self._strip_rules))
        geometry = self.tiles.geometry
        return geometry.first_tile(mask, reads)[2] if geometry.every_cell_held else 0

    def compulsory_bytes(self) -> int:
        """Σ|network inputs a layer reads| + Σ|network outputs a layer writes| + all weights once: a lower bound
        of every schedule. (An input that only a concat joined into an output is neither read nor written.)"""
        net = self.network
        inputs = set(net.input_ids)
        return (sum(self.tensor_bytes[i] for i in inputs if self.consumers[i])
                + sum(self.tensor_bytes[i] for i in set(net.output_ids) if i not in inputs)
                + sum(self.weight_bytes))


class GrowingFloor:
    """A lower bound of footprint + weights of a group that grows one layer at a time, for tilings with all
    weights resident and full channels (the baselines' rules); it never decreases as the group grows.

    The same rows as :meth:`CostModel.footprint_floor`, with full channels, kept incrementally: once the bound
    exceeds the buffer no larger group fits either.
    """

    def __init__(self, cm: CostModel) -> None:
        self.cm = cm
        # under tiles one cell of each tensor (a tile may be one row and one column)
        self.tiles = cm.tiles is not None
        cell = 0 if self.tiles and not cm.tiles.geometry.every_cell_held else 1
        self.row_bytes = [cm.word * cm.C[t] * (cell if self.tiles else cm.W[t]) for t in range(cm.n)]
        self.rows: dict[int, int] = {}
        self.total = 0

    def start(self, u: int) -> int:
        """Begin a new group of layer ``u``; return the bound in bytes."""
        self.rows = {}
        self.total = 0
        return self.add(u)

    def _bump(self, t: int, rows: int) -> None:
        old = self.rows.get(t, 0)
        if rows > old:
            self.rows[t] = rows
            self.total += (rows - old) * self.row_bytes[t]

    def add(self, u: int) -> int:
        """Add a layer; return the bound in bytes."""
        cm = self.cm
        self.total += cm.weight_bytes[u]
        self._bump(u, 1)
        for p in cm.producers[u]:
            self._bump(p, 1 if self.tiles else min(cm.H[p], cm.span[u]))
        return self.total


class GroupCosts:
    """Best tilings of groups given as bitsets under a solver's rules: the rules apply to fused groups of two or
    more layers, while a single layer always keeps its best tiling (the paper's "no fusion" schedule).

    The tilings live in the cost model's cache; this object only counts the distinct groups it was asked about.
    """

    def __init__(self, cm: CostModel, rules: TilingRules = FULL) -> None:
        self.cm = cm
        self.rules = rules
        self.asked: set[int] = set()

    def __call__(self, mask: int) -> Tiling | None:
        self.asked.add(mask)
        single = mask & (mask - 1) == 0
        return self.cm.best_tiling_of_mask(mask, FULL if single else self.rules)

    def __len__(self) -> int:
        return len(self.asked)

    def alone(self, u: int) -> int:
        """Layer-by-layer traffic of ``u``: its best tiling alone, or, if it fits no tiling alone, the traffic it
        would have with its weights reloaded once per sample (an estimate used only to rank partial schedules)."""
        t = self(1 << u)
        if t is not None:
            return t.cost
        cm = self.cm
        return (sum(cm.tensor_bytes[p] for p in cm.producers[u]) + cm.tensor_bytes[u]
                + cm.weight_bytes[u] * cm.batch)
