"""Cost model version 3: 2-D tiles whose halos are kept or recomputed (formulations/cost-model.md §7).

Under ``tiling: tiles`` a group's output is cut into Q_r tile rows × Q_c tile columns. Every tensor of the group
(and every external input) holds at each tile the hull of the intervals its readers need there, exactly, with the
padding offsets and clipping; rows and columns are independent, so each direction is worked out on its own and the
two are combined per tensor. The halo between tiles is either kept on chip (``cache``: a line buffer of the rows
consecutive tile rows share, as in Fused-Layer CNN Accelerators, MICRO 2016) or computed again (``recompute``:
each tile row computes its whole pyramid of rows, and re-reads its external inputs' overlap rows from DRAM; the
DeFiNES trade-off, HPCA 2023). A single conv or fc may also run in P output-channel passes, each keeping its
weights on chip (the per-layer blocking of the Optimus authors' artifact).

Speed comes from doing every useful tile count at once: in one direction, the tiles of every candidate Q are laid
end to end in one numpy array, the intervals are propagated through the group once, and the per-tensor counts of
§7.2 (span, line, repeated, distinct) are segmented reductions over that array. The footprint, traffic and MACs
of every (Q_r, Q_c, halo) are then outer products of the two directions' counts, the best Φ is the vectorised
maximum-weight independent set of version 2 over the whole grid, and the best tiling is a lexicographic minimum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np

from .parts import FULL, GroupIO, ReducedChannels, Tiling, TilingRules

if TYPE_CHECKING:
    from .cost_model import CostModel

#: The halo modes of §7.3, in the tie-break order of §7.7.
HALO_MODES = ("cache", "recompute")
#: Sentinels of an empty interval: it contributes nothing to a hull and needs nothing.
_NONE_A = 1 << 40
_NONE_E = -(1 << 40)


def useful_counts(heights: Iterable[int], qmax: int) -> np.ndarray:
    """The tile counts Q in 1..qmax at which the partition of some tensor of the given heights changes (§7.7): the
    least Q for each t = ⌈h/Q⌉. Any other Q repeats the partitions of Q − 1 with one more empty tile."""
    found = {1}
    for h in set(heights):
        t = np.arange(1, h + 1, dtype=np.int64)
        found.update(int(q) for q in np.unique(-(-h // t)) if q <= qmax)
    return np.array(sorted(found), dtype=np.int64)


@dataclass(frozen=True)
class _Reader:
    """How a consumer maps its interval to an input's in one direction (§7.2 "Needs")."""

    kind: str  # "window", "pass", "broadcast", "upsample", "reduce"
    stride: int = 1
    pad: int = 0
    span: int = 1
    scale: int = 1


class _Tiles:
    """The tiles of several tile counts laid end to end: ``q[k]`` tiles per count, tile ``i`` of count ``q``
    at positions ``offsets[k] + i``."""

    def __init__(self, counts: np.ndarray) -> None:
        self.counts = counts
        self.offsets = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
        total = int(counts.sum())
        self.seg = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
        self.index = np.arange(total, dtype=np.int64) - self.offsets[self.seg]
        self.q = counts[self.seg]
        self.first = self.index == 0
        self.last = self.index == self.q - 1
        big = np.int64(1 << 41)  # segment keys for running maxima of values in [0, 2**41)
        self.key = self.seg * big
        self.rkey = ((len(counts) - self.seg) * big)[::-1].copy()

    def partition(self, h: int) -> tuple[np.ndarray, np.ndarray]:
        """E(i) = [i·t, min((i+1)·t, h)), t = ⌈h/Q⌉; empty tiles as sentinels."""
        t = -(-h // self.q)
        a = self.index * t
        e = np.minimum(a + t, h)
        empty = a >= h
        return np.where(empty, _NONE_A, a), np.where(empty, _NONE_E, e)

    def _cummax(self, x: np.ndarray) -> np.ndarray:
        """Running maximum along each row within each segment; 0 ≤ x < 2**41."""
        return np.maximum.accumulate(x + self.key, axis=1) - self.key

    def _cummax_back(self, x: np.ndarray) -> np.ndarray:
        """Running maximum backwards (from the segment's last tile) along each row within each segment."""
        return (np.maximum.accumulate(x[:, ::-1] + self.rkey, axis=1) - self.rkey)[:, ::-1]

    def previous_end(self, a: np.ndarray, e: np.ndarray) -> np.ndarray:
        """M_{i-1}: the largest end of the non-empty intervals before each tile in its segment (0 if none)."""
        upto = self._cummax(np.where(e <= a, 0, e)[None, :])[0]
        before = np.zeros_like(upto)
        before[1:] = upto[:-1]
        before[self.first] = 0
        return before

    def counts_of(self, a: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Span, line, repeated and distinct (§7.2) per tile count (columns) of several tensors' intervals (one
        tensor per row of ``a`` and ``e``)."""
        empty = e <= a
        length = np.where(empty, 0, e - a)
        starts = self.offsets
        span = np.maximum.reduceat(length, starts, axis=1)
        e0 = np.where(empty, 0, e)
        upto = self._cummax(e0)  # M_i: the largest end over non-empty tiles ≤ i (0 if none)
        before = np.zeros_like(upto)  # M_{i-1}, 0 at a segment's first tile
        before[:, 1:] = upto[:, :-1]
        before[:, self.first] = 0
        rep = np.where(empty, 0, np.maximum(0, np.minimum(e, before) - a))
        repeated = np.add.reduceat(rep, starts, axis=1)
        distinct = np.add.reduceat(length, starts, axis=1) - repeated
        after_e = self._cummax_back(e0)  # largest end over non-empty tiles ≥ i
        after_a = _NONE_A - self._cummax_back(np.where(empty, 0, _NONE_A - a))  # smallest start over them
        keep = np.zeros_like(upto)  # rows kept across the boundary after tile i (none after the last)
        keep[:, :-1] = np.maximum(0, np.minimum(upto[:, :-1], after_e[:, 1:]) - after_a[:, 1:])
        keep[:, self.last] = 0
        line = np.maximum.reduceat(keep, starts, axis=1)
        return span, line, repeated, distinct


@dataclass(frozen=True)
class Direction:
    """The four counts of §7.2 for every tensor of a group in one direction, one entry per tile count of ``qs``."""

    qs: np.ndarray
    span: dict[int, np.ndarray]
    line: dict[int, np.ndarray]
    repeated: dict[int, np.ndarray]
    distinct: dict[int, np.ndarray]


class TileGeometry:
    """The per-direction rules of every layer of a network (rows: axis 0, columns: axis 1)."""

    def __init__(self, cm: "CostModel") -> None:
        net = cm.network
        self.cm = cm
        self.size = ([s[1] for s in net.shapes], [s[2] for s in net.shapes])
        self.readers: list[dict[tuple[int, int], _Reader]] = [{}, {}]
        self.reduction = [cm.kind[i] == 1 for i in range(cm.n)]  # REDUCE
        for c, layer in enumerate(net.layers):
            for u in cm.producers[c]:
                for axis in (0, 1):
                    self.readers[axis][(c, u)] = self._reader(c, u, axis)
        self._tiles: dict[bytes, _Tiles] = {}  # the tiles of each list of tile counts, built once
        self._useful: dict[tuple[int, frozenset[int]], np.ndarray] = {}

    def _reader(self, c: int, u: int, axis: int) -> _Reader:
        from ..model.network import is_broadcast_operand

        net = self.cm.network
        layer = net.layers[c]
        if layer.op == "conv" or (layer.op == "pool" and not layer.global_pool):
            dil = layer.dilation[axis] if layer.op == "conv" else 1
            return _Reader("window", stride=layer.stride[axis], pad=layer.padding[2 * axis],
                           span=(layer.kernel[axis] - 1) * dil + 1)
        if layer.op in ("fc", "pool"):
            return _Reader("reduce")
        if layer.op == "upsample":
            return _Reader("upsample", scale=layer.scale)
        if is_broadcast_operand(net.shapes[u], net.shapes[c]):
            return _Reader("broadcast")
        return _Reader("pass")

    def direction(self, io: GroupIO, axis: int, qs: np.ndarray, cached: bool = True) -> Direction:
        """Propagate every tile of every count in ``qs`` through the group (reverse topological order) and count.

        In a ``cached`` direction (columns always, rows under ``cache``) a consumer needs only the window of the
        rows it computes new at a tile, the others being kept from earlier tiles; otherwise (rows under
        ``recompute``) the window of every row it holds there (§7.2)."""
        key = qs.tobytes()
        tiles = self._tiles.get(key)
        if tiles is None:
            tiles = self._tiles[key] = _Tiles(qs)
        size = self.size[axis]
        readers = self.readers[axis]
        cm = self.cm
        inside = set(io.members)
        esc = set(io.esc)
        iv: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        new: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # what each member computes new at each tile
        total = int(qs.sum())
        none_a = np.full(total, _NONE_A, dtype=np.int64)
        none_e = np.full(total, _NONE_E, dtype=np.int64)

        def need(c: int, u: int) -> tuple[np.ndarray, np.ndarray]:
            r = readers[(c, u)]
            h = size[u]
            if r.kind == "reduce":
                return tiles.partition(h)
            a, e = new[c] if cached else iv[c]
            empty = e <= a
            if r.kind == "window":
                na, ne = a * r.stride - r.pad, (e - 1) * r.stride - r.pad + r.span
            elif r.kind == "pass":
                na, ne = a, e
            elif r.kind == "broadcast":
                na, ne = np.zeros_like(a), np.ones_like(e)
            else:
                na, ne = a // r.scale, (e - 1) // r.scale + 1
            na, ne = np.maximum(na, 0), np.minimum(ne, h)
            gone = empty | (ne <= na)
            return np.where(gone, _NONE_A, na), np.where(gone, _NONE_E, ne)

        def hull(tensor: int, parts: list[tuple[np.ndarray, np.ndarray]]) -> None:
            if not parts:
                iv[tensor] = (none_a, none_e)
                return
            a, e = parts[0]
            for pa, pe in parts[1:]:
                a, e = np.minimum(a, pa), np.maximum(e, pe)
            iv[tensor] = (a, e)

        for u in reversed(io.members):
            parts = [tiles.partition(size[u])] if u in esc else []
            parts += [need(c, u) for c in cm.consumers[u] if c in inside]
            hull(u, parts)
            if cached:
                a, e = iv[u]
                na = np.maximum(a, tiles.previous_end(a, e))
                new[u] = (np.where(na < e, na, _NONE_A), np.where(na < e, e, _NONE_E))
        for x in io.ext:
            hull(x, [need(c, x) for c in cm.consumers[x] if c in inside])
        order = list(iv)
        counted = tiles.counts_of(np.stack([iv[t][0] for t in order]), np.stack([iv[t][1] for t in order]))
        span, line, rep, dist = ({t: c[k] for k, t in enumerate(order)} for c in counted)
        return Direction(qs=qs, span=span, line=line, repeated=rep, distinct=dist)

    def useful(self, io: GroupIO, axis: int) -> np.ndarray:
        """The tile counts worth examining in one direction (§7.7): where an escaping tensor's or a reduction's
        input's partition changes, up to the largest size of the group's tensors."""
        size = self.size[axis]
        tensors = (*io.members, *io.ext)
        qmax = max(size[t] for t in tensors)
        heights = {size[u] for u in io.esc}
        heights |= {size[p] for u in io.members if self.reduction[u] for p in self.cm.producers[u]}
        key = (qmax, frozenset(heights))
        hit = self._useful.get(key)
        if hit is None:
            hit = self._useful[key] = useful_counts(heights, qmax)
        return hit


@dataclass(frozen=True)
class Grid:
    """Everything the choice of a tiling needs, over the grid of tile counts (Q_r × Q_c, flattened row-major) for
    one halo mode: feature-map words with all channels, what Φ can save, re-read bytes and added MACs."""

    halo: str
    qr: np.ndarray
    qc: np.ndarray
    full_words: np.ndarray
    cells: dict[int, np.ndarray]
    interior: dict[int, np.ndarray]
    reread: np.ndarray
    added_macs: np.ndarray


def grid(cm: "CostModel", io: GroupIO, rows: Direction, cols: Direction, halo: str) -> Grid:
    """Footprint words (b = 1, Φ empty), Φ's cells, re-reads and added MACs of every (Q_r, Q_c) (§7.4–§7.5)."""
    nr, nc = len(rows.qs), len(cols.qs)
    qr = np.repeat(rows.qs, nc)
    qc = np.tile(cols.qs, nr)
    full = np.zeros(nr * nc, dtype=np.int64)
    cells: dict[int, np.ndarray] = {}
    interior: dict[int, np.ndarray] = {}
    reread = np.zeros(nr * nc, dtype=np.int64)
    added = np.zeros(nr * nc, dtype=np.int64)
    keep = halo == "cache"
    n = cm.batch
    for t in (*io.members, *io.ext):
        sr, sc = rows.span[t], cols.span[t]
        lr = rows.line[t] if keep else np.zeros_like(sr)
        lc, dc = cols.line[t], cols.distinct[t]
        c = (np.outer(lr, dc - sc) + np.outer(sr, sc)).ravel()
        cells[t] = c
        interior[t] = np.outer(sr - lr, sc - lc).ravel()
        full += cm.C[t] * c
        if not keep:
            again = np.outer(rows.repeated[t], dc).ravel()
            if t in io.ext:
                reread += n * cm.C[t] * cm.word * again
            else:
                added += n * cm.C[t] * cm.mac_per_element[t] * again
    return Grid(halo=halo, qr=qr, qc=qc, full_words=full, cells=cells, interior=interior, reread=reread,
                added_macs=added)


@dataclass(frozen=True)
class TileChoice:
    """One tiling under ``tiles`` before its Φ is fixed: where it sits in its grid and its numbers."""

    grid: Grid
    index: int
    batch_block: int
    passes: int
    resident: bool
    cost: int
    macs: int


def phi_saving(cm: "CostModel", io: GroupIO, g: Grid, rules: TilingRules,
               channels: dict[int, int] | None = None) -> dict[int, np.ndarray]:
    """What reducing each eligible conv saves (words) at every grid point: (C − Tc)·interior."""
    if not rules.reduced_channels:
        return {}
    out = {}
    for u in io.members:
        c = (channels or {}).get(u, cm.C[u])
        if cm.is_conv[u] and c > cm.tc and u not in io.full_channels:
            out[u] = (c - cm.tc) * g.interior[u]
    return out


class TileCosts:
    """Best and given tilings of groups under ``tiling: tiles`` for one cost model (§7.4–§7.7)."""

    def __init__(self, cm: "CostModel", halos: Sequence[str]) -> None:
        self.cm = cm
        self.geometry = TileGeometry(cm)
        self.halos = tuple(halos)

    # -- the pieces ------------------------------------------------------------------------------------------

    def _directions(self, io: GroupIO, qr: Sequence[int] | None = None, qc: Sequence[int] | None = None,
                    halos: Sequence[str] | None = None) -> tuple[dict[str, Direction], Direction]:
        """The rows under each halo mode (cached or recomputed) and the columns (always cached) of a group, at the
        given tile counts or at every useful one."""
        halos = self.halos if halos is None else halos
        geo = self.geometry
        if io.gated:
            qr, qc = (1,), (1,)
        rows_q = np.asarray(qr, dtype=np.int64) if qr is not None else geo.useful(io, 0)
        cols_q = np.asarray(qc, dtype=np.int64) if qc is not None else geo.useful(io, 1)
        rows = {halo: geo.direction(io, 0, rows_q, cached=halo == "cache") for halo in halos}
        return rows, geo.direction(io, 1, cols_q)

    def _phi(self, io: GroupIO, g: Grid, rules: TilingRules):
        saving = phi_saving(self.cm, io, g, rules)
        return ReducedChannels(sorted(saving), self.cm._conflicts(saving), saving, len(g.qr))

    def _pass_plan(self, io: GroupIO, g: Grid, rules: TilingRules) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For a single conv or fc with weights: at each grid point the fewest passes P ≥ 2 that fit (0 where
        none does or one pass fits), the channels per pass k = ⌈K/P⌉ and whether the layer is then in Φ."""
        cm = self.cm
        size = len(g.qr)
        none = (np.zeros(size, dtype=np.int64),) * 2 + (np.zeros(size, dtype=bool),)
        if len(io.members) != 1 or rules.resident_only:
            return none
        u = io.members[0]
        if cm.network.layers[u].op not in ("conv", "fc") or not cm.weight_bytes[u]:
            return none
        k_out = cm.C[u]
        per_out = cm.network.weights[u] // k_out
        cells, inter = g.cells[u], g.interior[u]
        cap = cm.buffer // cm.word - (g.full_words - k_out * cells)
        k_full = cap // (cells + per_out)
        reducible = rules.reduced_channels and cm.is_conv[u]
        if reducible:
            k_red = (cap - cm.tc * inter) // (cells - inter + per_out)
            use_red = (k_red > cm.tc) & (k_red > k_full)
            k = np.where(use_red, k_red, k_full)
        else:
            k = k_full
        k = np.minimum(k, k_out)
        ok = k >= 1
        passes = np.where(ok, -(-k_out // np.maximum(k, 1)), 0)
        passes = np.where(passes >= 2, passes, 0)
        kk = np.where(passes > 0, -(-k_out // np.maximum(passes, 1)), 0)
        reduced = reducible & (kk > cm.tc) & (inter > 0)
        return passes, kk, reduced

    # -- the best tiling -------------------------------------------------------------------------------------

    def best(self, members: Sequence[int], rules: TilingRules):
        """The least (DRAM bytes, MACs, tiles, Q_r, halo, P, b) tiling of a group, or ``None`` (§7.7)."""
        cm = self.cm
        io = cm.io(members)
        rows, cols = self._directions(io)
        buf, word = cm.buffer, cm.word
        w_g, blk = io.weight_bytes, io.weight_block_bytes
        fixed = io.esc_bytes + io.ext_bytes
        keys: list[np.ndarray] = []  # per option family: cost, macs, tiles, qr, halo, passes, b, family, index
        found = []
        for h, halo in enumerate(self.halos):
            g = grid(cm, io, rows[halo], cols, halo)
            phi = self._phi(io, g, rules)
            fp = word * (g.full_words - (phi.value() if phi.mask else 0))
            tiles = g.qr * g.qc
            base = fixed + g.reread
            macs = io.macs + g.added_macs
            idx = np.arange(len(g.qr))
            resident = fp + w_g <= buf
            fams = [(resident, base + w_g, 1, 1, "resident")]
            if not rules.resident_only:
                stream = (fp + blk <= buf) & ~resident
                fams.append((stream, base + w_g * tiles, 1, 1, "stream"))
                passes, kk, red = self._pass_plan(io, g, rules)
                if passes.any():
                    fams.append((passes > 0, passes * (base - io.esc_bytes) + io.esc_bytes + w_g, passes, 1, "pass"))
            for mask, cost, p, b, family in fams:
                if not mask.any():
                    continue
                sel = idx[mask]
                p_arr = np.broadcast_to(np.asarray(p), idx.shape)[sel]
                found.append((cost[sel], macs[sel], tiles[sel], g.qr[sel], np.full(len(sel), h), p_arr,
                              np.ones(len(sel), dtype=np.int64), sel, family, g, phi, fp, h))
        if not found:
            return None
        # the streamed (1, 1) point may take a batch block b > 1 (b > 1 needs one tile): its cost then drops
        best = None
        for cost, macs, tiles, qr, hh, pp, bb, sel, family, g, phi, fp, h in found:
            if family == "stream" and cm.batch > 1 and sel[0] == 0 and tiles[0] == 1:
                fp1 = int(fp[0])
                largest = min(cm.batch, (buf - blk) // fp1) if fp1 else cm.batch
                blocks = -(-cm.batch // largest)
                cost = cost.copy()
                bb = bb.copy()
                cost[0] = fixed + int(g.reread[0]) + w_g * blocks
                bb[0] = -(-cm.batch // blocks)
            order = np.lexsort((bb, pp, hh, qr, tiles, macs, cost))
            k = order[0]
            key = (int(cost[k]), int(macs[k]), int(tiles[k]), int(qr[k]), int(hh[k]), int(pp[k]), int(bb[k]))
            if best is None or key < best[0]:
                best = (key, family, int(sel[k]), g, phi, h)
        (cost, macs, _, _, _, passes, b), family, index, g, phi, h = best
        return self._tiling(io, g, index, b, passes, family, phi, rules)

    def _tiling(self, io: GroupIO, g: Grid, index: int, b: int, passes: int, family: str, phi, rules):
        """The :class:`~optimus_opt.cost.cost_model.Tiling` at one grid point of a chosen family."""
        cm = self.cm
        if family == "pass":
            _, kk, red = self._pass_plan(io, g, rules)
            k = int(kk[index])
            reduced = frozenset(io.members) if bool(red[index]) else frozenset()
            return self.assemble(io, g, index, b=1, reduced=reduced, passes=passes, pass_channels=k)
        reduced = frozenset(phi.choose(index + 1)) if phi.mask else frozenset()
        return self.assemble(io, g, index, b=b, reduced=reduced, passes=1, resident=family == "resident")

    def assemble(self, io: GroupIO, g: Grid, index: int, *, b: int, reduced: frozenset[int], passes: int,
                 resident: bool = True, pass_channels: int | None = None):
        """The tiling at grid point ``index`` with Φ = ``reduced`` and the traffic it implies (no feasibility
        check: :meth:`check` and :meth:`best` decide that)."""
        cm = self.cm
        words = int(g.full_words[index])
        for u in reduced:
            f = pass_channels if pass_channels is not None else cm.C[u]
            words -= (f - min(cm.tc, f)) * int(g.interior[u][index])
        if pass_channels is not None:
            u = io.members[0]
            words -= (cm.C[u] - pass_channels) * int(g.cells[u][index])
        qr, qc = int(g.qr[index]), int(g.qc[index])
        if passes > 1:
            weight_traffic = io.weight_bytes
            resident = False
        elif resident:
            weight_traffic = io.weight_bytes
        else:
            weight_traffic = io.weight_bytes * qr * qc * -(-cm.batch // b)
        reads = passes * (io.ext_bytes + int(g.reread[index]))
        added = int(g.added_macs[index])
        return Tiling(strips=qr, batch_block=b, reduced=reduced, resident=resident,
                      footprint_bytes=b * words * cm.word, weight_traffic=weight_traffic,
                      read_bytes=reads + weight_traffic, write_bytes=io.esc_bytes, tile_cols=qc, halo=g.halo,
                      passes=passes, macs=io.macs + added, added_macs=added)

    # -- a given tiling --------------------------------------------------------------------------------------

    def check(self, members: Sequence[int], tile_rows: int, tile_cols: int, batch_block: int,
              reduced: frozenset[int], halo: str, passes: int):
        """The tiling (Q_r, Q_c, b, Φ, h, P) of a group, checked against every rule of §7.1 and §7.6.

        Raises ValueError naming the rule broken (the caller has checked Φ's own rules)."""
        cm = self.cm
        io = cm.io(members)
        geo = self.geometry
        if halo not in self.halos:
            allowed = " or ".join(self.halos)
            raise ValueError(f"halo '{halo}' is not allowed by the accelerator (halo: {allowed})")
        if io.gated and (tile_rows, tile_cols) != (1, 1):
            raise ValueError(f"tiles {tile_rows} x {tile_cols}: the group computes and applies a squeeze-excitation "
                             "gate, which needs whole tensors on chip (one tile)")
        tensors = (*io.members, *io.ext)
        for what, q, axis in (("tile_rows", tile_rows, 0), ("tile_cols", tile_cols, 1)):
            top = max(geo.size[axis][t] for t in tensors)
            if not 1 <= q <= top:
                raise ValueError(f"{what} {q} out of range 1..{top} (the {'tallest' if axis == 0 else 'widest'} "
                                 "tensor of the group)")
        if batch_block > 1 and (tile_rows, tile_cols) != (1, 1):
            raise ValueError(f"batch_block {batch_block} > 1 needs one tile, got {tile_rows} x {tile_cols}")
        rows, cols = self._directions(io, (tile_rows,), (tile_cols,), (halo,))
        g = grid(cm, io, rows[halo], cols, halo)
        if passes > 1:
            u = io.members[0]
            layer = cm.network.layers[u]
            if len(io.members) != 1 or layer.op not in ("conv", "fc") or not cm.weight_bytes[u]:
                raise ValueError(f"passes {passes}: output-channel passes need a group of one conv or fc layer "
                                 "with weights")
            if passes > cm.C[u]:
                raise ValueError(f"passes {passes} out of range 1..{cm.C[u]} (the layer's output channels)")
            if batch_block != 1:
                raise ValueError(f"passes {passes} need batch_block 1, got {batch_block}")
            k = -(-cm.C[u] // passes)
            t = self.assemble(io, g, 0, b=1, reduced=reduced, passes=passes, pass_channels=k)
            pass_weights = cm.word * k * (cm.network.weights[u] // cm.C[u])
            if t.footprint_bytes + pass_weights > cm.buffer:
                raise ValueError(f"tiling does not fit: footprint {t.footprint_bytes:,} B + the weights of one pass "
                                 f"{pass_weights:,} B > buffer {cm.buffer:,} B")
            return t
        t = self.assemble(io, g, 0, b=batch_block, reduced=reduced, passes=1)
        if t.footprint_bytes + io.weight_bytes <= cm.buffer:
            return t
        if t.footprint_bytes + io.weight_block_bytes <= cm.buffer:
            return self.assemble(io, g, 0, b=batch_block, reduced=reduced, passes=1, resident=False)
        raise ValueError(f"tiling does not fit: footprint {t.footprint_bytes:,} B + weight block "
                         f"{io.weight_block_bytes:,} B > buffer {cm.buffer:,} B")

    # -- buffer needs ----------------------------------------------------------------------------------------

    def options(self, members: Sequence[int], rules: TilingRules):
        """Every tiling family's (buffer needed, tiling) over the grid, as :meth:`CostModel.tiling_options` needs:
        the non-dominated ones by increasing need and decreasing cost."""
        cm = self.cm
        io = cm.io(members)
        rows, cols = self._directions(io)
        raw = []
        for h, halo in enumerate(self.halos):
            g = grid(cm, io, rows[halo], cols, halo)
            phi = self._phi(io, g, rules)
            fp = cm.word * (g.full_words - (phi.value() if phi.mask else 0))
            tiles = g.qr * g.qc
            base = io.ext_bytes + io.esc_bytes + g.reread
            macs = io.macs + g.added_macs
            for i in range(len(g.qr)):
                raw.append((int(fp[i]) + io.weight_bytes, int(base[i]) + io.weight_bytes, int(macs[i]),
                            int(tiles[i]), int(g.qr[i]), h, 1, 1, "resident", i, g, phi))
                if io.weight_bytes and not rules.resident_only:
                    raw.append((int(fp[i]) + io.weight_block_bytes, int(base[i]) + io.weight_bytes * int(tiles[i]) *
                                cm.batch, int(macs[i]), int(tiles[i]), int(g.qr[i]), h, 1, 1, "stream", i, g, phi))
            if io.weight_bytes and not rules.resident_only:
                for blocks in range(1, cm.batch):
                    b = -(-cm.batch // blocks)
                    raw.append((b * int(fp[0]) + io.weight_block_bytes, int(base[0]) + io.weight_bytes * blocks,
                                int(macs[0]), 1, 1, h, 1, b, "stream", 0, g, phi))
            if len(io.members) == 1 and not rules.resident_only:
                u = io.members[0]
                if cm.network.layers[u].op in ("conv", "fc") and cm.weight_bytes[u]:
                    per_out = cm.network.weights[u] // cm.C[u]
                    for i in range(len(g.qr)):
                        for p in range(2, cm.C[u] + 1):
                            k = -(-cm.C[u] // p)
                            if p > 2 and -(-cm.C[u] // (p - 1)) == k:
                                continue
                            t = self.assemble(io, g, i, b=1, reduced=frozenset(), passes=p, pass_channels=k)
                            raw.append((t.footprint_bytes + cm.word * k * per_out, t.cost, int(macs[i]),
                                        int(tiles[i]), int(g.qr[i]), h, p, 1, "pass", i, g, None, k))
        raw.sort(key=lambda r: r[:8])
        out = []
        for r in raw:
            need, cost = r[0], r[1]
            if out and cost >= out[-1][1].cost:
                continue
            family, i, g = r[8], r[9], r[10]
            if family == "pass":
                tiling = self.assemble(io, g, i, b=1, reduced=frozenset(), passes=r[6], pass_channels=r[12])
            else:
                phi = r[11]
                reduced = frozenset(phi.choose(i + 1)) if phi.mask else frozenset()
                tiling = self.assemble(io, g, i, b=r[7], reduced=reduced, passes=1, resident=family == "resident")
            out.append((need, tiling))
        return out

    def least_buffer(self, members: Sequence[int]) -> int:
        """The least buffer at which the group has any tiling: the least over the grid of the footprint (b = 1)
        plus the weight block, or plus one output channel's weights in passes of one channel each."""
        cm = self.cm
        io = cm.io(members)
        rows, cols = self._directions(io)
        least = None
        for halo in self.halos:
            g = grid(cm, io, rows[halo], cols, halo)
            phi = self._phi(io, g, FULL)
            fp = cm.word * (g.full_words - (phi.value() if phi.mask else 0))
            need = int(fp.min()) + io.weight_block_bytes
            u = io.members[0]
            if len(io.members) == 1 and cm.network.layers[u].op in ("conv", "fc") and cm.weight_bytes[u]:
                one = cm.word * (g.full_words - (cm.C[u] - 1) * g.cells[u] + cm.network.weights[u] // cm.C[u])
                need = min(need, int(one.min()))
            least = need if least is None else min(least, need)
        assert least is not None
        return least

    def floor(self, members: Iterable[int]) -> int:
        """A lower bound of the buffer any tiling of the group or of a group containing it needs: one cell of
        min(Tc, C) channels (C for a non-conv) per tensor, and the weight block (a tile may be one row and one
        column, and windows clipped at the border can be narrower than the kernel). A single conv or fc may
        instead run in passes of one output channel, which stage no block but one channel's weights."""
        cm = self.cm
        members = list(members)
        tensors: set[int] = set()
        block = 0
        for c in members:
            tensors.add(c)
            tensors.update(cm.producers[c])
            block = max(block, cm.block_bytes[c])
        floor = cm.word * sum(cm.min_channels[t] for t in tensors) + block
        if len(members) == 1:
            u = members[0]
            if cm.network.layers[u].op in ("conv", "fc") and cm.weight_bytes[u]:
                one = 1 + sum(cm.C[x] for x in set(cm.producers[u])) + cm.network.weights[u] // cm.C[u]
                floor = min(floor, cm.word * one)
        return floor
