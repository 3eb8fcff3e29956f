"""A group's tilings priced by every metric at once: the best one under an objective other than DRAM bytes, and
the ones no other beats in a set of metrics (formulations/energy.md, "Objectives" and "Budgets").

Under the DRAM objective the cost model picks a group's tiling by its own fast paths (a bisection over strips,
a compiled scan of the tile grid). Energy and latency depend on every part of a tiling, so here every feasible
tiling of the group is listed (every useful tile grid, halo mode, weight family, the largest batch block and the
fewest passes that fit) with its DRAM bytes, MACs, energy and latency, as numpy vectors, and the choice is a
lexicographic minimum over them: the objective, then DRAM bytes, MACs, tiles, tile rows, halo, passes, batch block
(the tie-break of cost model §7.7 with the objective in front). The same listing, with the range of capacities
at which the cost model would take each tiling (:func:`spans`), gives the columns of the exact fronts with the
buffer as one metric (:mod:`optimus_opt.solvers.pareto`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from .energy import OBJECTIVE_FIELDS
from .parts import Tiling, TilingRules
from .tiles import grid

if TYPE_CHECKING:
    from .cost_model import CostModel

#: The metrics a tiling is priced by, as :class:`Options` names them.
METRICS = ("dram_bytes", "energy_fj", "latency_cycles", "added_macs")


@dataclass(frozen=True)
class Options:
    """Every feasible tiling of one group as parallel vectors: how to build it (``build(i)``) and what it costs."""

    figures: dict[str, np.ndarray]
    key: np.ndarray  # tie-break columns after the objective and DRAM: MACs, tiles (strips: resident first), tile
    # rows, halo, passes, b
    build: Callable[[int], Tiling]

    def __len__(self) -> int:
        return len(self.key)

    def tiling(self, i: int) -> Tiling:
        """Tiling i with its energy and latency filled in."""
        t = self.build(i)
        return replace(t, energy_fj=int(self.figures["energy_fj"][i]),
                       latency_cycles=int(self.figures["latency_cycles"][i]))

    def order(self, objective: str) -> np.ndarray:
        """Tilings by the objective, then DRAM bytes, then the tie-break of §7.7."""
        f = self.figures
        columns = [self.key[:, c] for c in range(self.key.shape[1] - 1, -1, -1)]
        return np.lexsort((*columns, f["dram_bytes"], f[OBJECTIVE_FIELDS[objective]]))


def options(cm: "CostModel", members: Sequence[int], rules: TilingRules) -> Options | None:
    """Every feasible tiling of a group at the model's buffer, priced by every metric; None when no tiling fits.

    Each useful tile grid and halo mode under ``tiles`` (each Q under ``strips``) with its weights resident where
    they fit, else streamed (one tile: the largest batch block that fits), and a single conv or fc in the fewest
    passes that fit: :func:`spans` at one capacity."""
    found = spans(cm, members, rules, at=cm.buffer)
    return None if found is None else found[0]


def best(cm: "CostModel", members: Sequence[int], rules: TilingRules, objective: str) -> Tiling | None:
    """The tiling of least ``objective`` (then DRAM bytes, then §7.7's tie-break), with ``value`` set."""
    opts = options(cm, members, rules)
    if opts is None:
        return None
    i = int(opts.order(objective)[0])
    return replace(opts.tiling(i), value=int(opts.figures[OBJECTIVE_FIELDS[objective]][i]))


def frontier(cm: "CostModel", members: Sequence[int], rules: TilingRules, objective: str,
             metrics: Sequence[str]) -> list[Tiling]:
    """The tilings that no other beats in the objective and every metric of ``metrics`` (names of
    :data:`METRICS`), in the objective's order; each with ``value`` set. The first is :func:`best`'s."""
    opts = options(cm, members, rules)
    if opts is None:
        return []
    value = opts.figures[OBJECTIVE_FIELDS[objective]]
    side = [opts.figures[m] for m in metrics if m != OBJECTIVE_FIELDS[objective]]
    kept: list[int] = []
    seen: list[tuple[int, ...]] = []
    for i in opts.order(objective).tolist():
        point = tuple(int(s[i]) for s in side)
        if any(all(a <= b for a, b in zip(old, point)) for old in seen):
            continue  # an earlier tiling is no worse in the objective and no worse in every side metric
        seen.append(point)
        kept.append(i)
    return [replace(opts.tiling(i), value=int(value[i])) for i in kept]


# ---- the listing: every tiling at one capacity, or at every capacity up to the buffer ------------------------

#: :func:`spans`' upper end of a tiling that :func:`options` lists at every capacity from its need up.
UNBOUNDED = int(np.iinfo(np.int64).max)


def _capacity_spans(f: int, single: bool, w: int, blk: int, n: int, stream: bool) -> list[tuple[int, int, int, int]]:
    """(family, batch block, low, high) of the tilings one point of a group's grid (footprint ``f`` bytes at
    b = 1) takes at the capacities B with low ≤ B < high, as :func:`options` chooses them: weights resident from
    f + W_G up; below that streamed from f + S_G, where one tile (``single``) takes the largest batch block b
    that fits: L = min(N, ⌊(B − S_G)/f⌋) samples, b = ⌈N/⌈N/L⌉⌉, a run of L per b."""
    out = [(0, 1, f + w, UNBOUNDED)]
    if not stream:
        return out
    top = f + w  # from here on the weights stay resident
    if not single or n == 1:
        out.append((1, 1, f + blk, top))
    elif f <= 0:
        out.append((1, n, f + blk, top))
    else:
        starts: list[tuple[int, int]] = []  # (least L, b) of each run
        for most in range(1, n + 1):
            b = -(-n // -(-n // most))
            if not starts or starts[-1][1] != b:
                starts.append((most, b))
        for k, (most, b) in enumerate(starts):
            high = starts[k + 1][0] * f + blk if k + 1 < len(starts) else UNBOUNDED
            out.append((1, b, most * f + blk, min(high, top)))
    return [s for s in out if s[2] < s[3]]


def _pass_spans(cm: "CostModel", io, g, rules: TilingRules) -> list[tuple[int, int, np.ndarray, np.ndarray]]:
    """(passes P, channels per pass, low, high per grid point) of a pass layer (§7.6). :func:`.tile_counts.pass_plan`
    takes P = ⌈K/k⌉ with k the most channels that fit, and m channels fit from the capacity
    w·(F − K·c + m·(c + K_w)) (with Φ, w·(F − K·c + Tc·i + max(m, Tc + 1)·(c − i + K_w))) up: F the group's
    words, c and i the layer's cells and interior cells, K_w its weights per output channel. So P passes are
    taken from the capacity that fits ⌈K/P⌉ channels up to the one that fits the channels of the next fewer
    passes (one pass: all K, when the group no longer runs in passes)."""
    tc = cm.tiles
    u = tc._pass_layer(io)
    if u is None or rules.resident_only:
        return []
    k_out = cm.C[u]
    per_out = cm.network.weights[u] // k_out
    row = g.row[u]
    cells, interior = g.cells[row], g.interior[row]
    reducible = bool(rules.reduced_channels and cm.is_conv[u])
    base = g.full_words - k_out * cells

    def reach(m: int) -> np.ndarray:  # the least capacity (bytes) at which m channels per pass fit
        words = base + m * (cells + per_out)
        if reducible:
            words = np.minimum(words, base + cm.tc * interior + max(m, cm.tc + 1) * (cells - interior + per_out))
        return cm.word * np.maximum(words, 0)

    counts = sorted({-(-k_out // k) for k in range(1, k_out)}, reverse=True)  # every P ≥ 2 that some k gives
    out = []
    for j, p in enumerate(counts):
        fewer = counts[j + 1] if j + 1 < len(counts) else 1
        out.append((p, -(-k_out // p), reach(-(-k_out // p)), reach(-(-k_out // fewer))))
    return out


def spans(cm: "CostModel", members: Sequence[int], rules: TilingRules, *, at: int | None = None
          ) -> tuple[Options, np.ndarray, np.ndarray] | None:
    """Every tiling that :func:`options` lists for a group at some capacity up to ``cm.buffer``, priced, with the
    capacities at which it does: from ``low`` (inclusive: the buffer it needs) to ``high`` (exclusive;
    :data:`UNBOUNDED`: every capacity from ``low`` up); None when none fits.

    Which tilings :func:`options` lists depends on the capacity: weights resident where they fit, else streamed;
    one tile takes the largest batch block that fits, a pass layer the fewest passes that fit. So each tiling is
    listed on one interval of capacities: a streamed tiling until its weights fit resident, a batch block until a
    larger one fits, P passes until fewer fit. A tiling's figures do not depend on the capacity. Used where the
    buffer is a decision and energy, latency or recompute the other metric (the exact fronts of
    :mod:`optimus_opt.solvers.pareto`). With ``at``, only the tilings listed at that one capacity (:func:`options`
    at ``cm.buffer``)."""
    members = sorted(members)
    n, buf, fm = cm.batch, cm.buffer, cm.figure_model
    stream_ok = not rules.resident_only
    capacity = at

    def listed(low, high):  # the tilings of interest: any capacity up to the buffer, or the one capacity
        return low <= buf if capacity is None else (low <= capacity) & (capacity < high)
    if cm.tiles is None:
        curve = cm.curve(members)
        io = curve.io
        fp = curve.footprint if rules.reduced_channels else curve.full_footprint
        w, blk = io.weight_bytes, io.weight_block_bytes
        rows = [(q, family, b, low, high) for q in range(1, curve.qlimit + 1)
                for family, b, low, high in _capacity_spans(int(fp[q - 1]), q == 1, w, blk, n, bool(w) and stream_ok)
                if listed(low, high)]
        if not rows:
            return None
        q_arr = np.array([r[0] for r in rows], dtype=np.int64)
        family = np.array([r[1] for r in rows], dtype=np.int64)
        b = np.array([r[2] for r in rows], dtype=np.int64)
        blocks = -(-n // b)
        qs = np.arange(1, curve.qlimit + 1, dtype=np.int64)
        rows_dir, cols = fm.geometry.directions(io, qs, np.ones(1, dtype=np.int64), ("cache",))
        over = fm.over_grid(io, rows_dir["cache"], cols, False)
        dram = io.ext_bytes + io.esc_bytes + np.where(family == 0, w, w * q_arr * blocks)
        ones = np.ones(len(rows), dtype=np.int64)
        macs = np.full(len(rows), io.macs, dtype=np.int64)
        staged, read = fm.weight_flows(io, q_arr, blocks, family)
        figures = fm.combine(io, fm.fixed(io), {k: v[q_arr - 1] for k, v in over.items()}, dram=dram,
                             ext_reads=np.full(len(rows), io.ext_bytes, dtype=np.int64), macs=macs,
                             weight_fills=staged, weight_reads=read, passes=ones,
                             pass_cycles=np.zeros(len(rows), dtype=np.int64))
        figures["added_macs"] = np.zeros(len(rows), dtype=np.int64)
        # version 2's own choice (cost-model.md §5): weights resident wherever they fit, even where streaming at
        # fewer strips moves the same bytes; then fewer strips
        key = np.stack([macs, family, q_arr, np.zeros_like(ones), ones, b], axis=1)
        low = np.array([r[3] for r in rows], dtype=np.int64)
        high = np.array([r[4] for r in rows], dtype=np.int64)

        def build(i: int) -> Tiling:
            q = int(q_arr[i])
            return cm._tiling(curve, q, int(b[i]), curve.reduced_set(q) if rules.reduced_channels else frozenset(),
                              bool(family[i] == 0))

        return Options(figures=figures, key=key, build=build), low, high
    tc = cm.tiles
    io = cm.io(members)
    w, blk = io.weight_bytes, io.weight_block_bytes
    directions, cols = tc._directions(io)
    parts = []
    for h, halo in enumerate(tc.halos):
        g = grid(cm, io, directions[halo], cols, halo)
        fp = tc._exact_footprints(io, g, rules)
        tiles = g.qr * g.qc
        picked: list[tuple[int, int, int, int, int, int]] = []  # (point, family, b, passes, low, high)
        for k in range(len(tiles)):
            for family, b, low, high in _capacity_spans(int(fp[k]), bool(tiles[k] == 1), w, blk, n,
                                                        bool(w) and stream_ok):
                if listed(low, high):
                    picked.append((k, family, b, 1, low, high))
        channels: dict[int, int] = {}
        for p, k_pass, low, high in _pass_spans(cm, io, g, rules):
            channels[p] = k_pass
            for k in np.flatnonzero(listed(low, high) & (low < high)).tolist():
                picked.append((k, 2, 1, p, int(low[k]), int(high[k])))
        if not picked:
            continue
        over = fm.over_grid(io, directions[halo], cols, halo == "recompute")
        at, family, b, p_arr, low, high = (np.array(c, dtype=np.int64) for c in zip(*picked))
        t_arr = tiles[at]
        blocks = -(-n // b)
        ext = p_arr * (io.ext_bytes + g.reread[at])
        dram = ext + np.where(family == 1, w * t_arr * blocks, w) + io.esc_bytes
        added = g.added_macs[at]
        macs = io.macs + added
        staged, read = fm.weight_flows(io, t_arr, blocks, family)
        got = fm.combine(io, fm.fixed(io), {k: v[at] for k, v in over.items()}, dram=dram, ext_reads=ext,
                         macs=macs, weight_fills=staged, weight_reads=read, passes=p_arr,
                         pass_cycles=fm.pass_cycles(io, p_arr))
        got["added_macs"] = added
        key = np.stack([macs, t_arr, g.qr[at], np.full(len(at), h, dtype=np.int64), p_arr, b], axis=1)
        parts.append((got, key, low, high, [(g, k, bb, pp, f, channels.get(pp)) for k, bb, pp, f in
                                            zip(at.tolist(), b.tolist(), p_arr.tolist(), family.tolist())]))
    if not parts:
        return None
    figures = {name: np.concatenate([p[0][name] for p in parts]) for name in parts[0][0]}
    how = [h for p in parts for h in p[4]]

    def build_tile(i: int) -> Tiling:
        g, k, bb, pp, family, k_pass = how[i]
        if family != 2:
            return tc._tiling(io, g, k, bb, 1, ("resident", "stream")[family], rules)
        u = io.members[0]  # as pass_plan: the layer keeps Tc channels when a pass has more and it has interior
        reduced = rules.reduced_channels and cm.is_conv[u] and k_pass > cm.tc and int(g.interior[g.row[u], k]) > 0
        return tc.assemble(io, g, k, b=1, reduced=frozenset(io.members) if reduced else frozenset(), passes=pp,
                           pass_channels=k_pass)

    return (Options(figures=figures, key=np.concatenate([p[1] for p in parts]),
                    build=build_tile), np.concatenate([p[2] for p in parts]), np.concatenate([p[3] for p in parts]))


__all__ = ["METRICS", "UNBOUNDED", "Options", "best", "frontier", "options", "spans"]
