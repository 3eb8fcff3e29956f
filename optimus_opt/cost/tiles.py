"""Cost model version 3: 2-D tiles whose halos are kept or recomputed (formulations/cost-model.md §7).

Under ``tiling: tiles`` a group's output is cut into Q_r tile rows × Q_c tile columns. Every tensor of the group
(and every external input) holds at each tile the hull of the intervals its readers need there, exactly, with the
padding offsets and clipping; rows and columns are independent, so each direction is worked out on its own and the
two are combined per tensor. The halo between tiles is either kept on chip (``cache``: a line buffer of the rows
consecutive tile rows share, as in Fused-Layer CNN Accelerators, MICRO 2016) or computed again (``recompute``:
each tile row computes its whole pyramid of rows, and re-reads its external inputs' overlap rows from DRAM; the
DeFiNES trade-off, HPCA 2023). A single conv or fc may also run in P output-channel passes, each keeping its
weights on chip (the per-layer blocking of the Optimus authors' artifact).

Speed comes from three things. The per-tile intervals and their counts (§7.2: span, line, repeated, distinct)
are compiled loops over every useful tile count (:mod:`.tile_counts`): one call per group gives the rows cached,
the rows recomputed and the columns. The footprint, traffic and MACs of every (Q_r, Q_c, halo) combine the two
directions' counts in another compiled loop, and so does the scan for the lexicographic minimum of §7.7; the best
Φ (the vectorised maximum-weight independent set of version 2) is solved only when that scan lands on a point
where it could matter. And a group whose weights can never stay resident looks at few tiles first
(:meth:`TileCosts.best`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np

from .parts import (
    BROADCAST,
    FULL,
    PASS,
    REDUCE,
    UPSAMPLE,
    WINDOW,
    GroupIO,
    ReducedChannels,
    Tiling,
    TilingRules,
    mask_of,
)
from .tile_counts import bitset_words, first_tile, grid_words, group_counts, pass_plan, pick

if TYPE_CHECKING:
    from .cost_model import CostModel

#: The halo modes of §7.3, in the tie-break order of §7.7.
HALO_MODES = ("cache", "recompute")


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
    """How a consumer maps its interval to an input's in one direction (§7.2 "Needs"; rules of
    :mod:`.tile_counts`)."""

    kind: int
    stride: int = 1
    pad: int = 0
    span: int = 1
    scale: int = 1


@dataclass(frozen=True)
class Direction:
    """The four counts of §7.2 in one direction: one row per tensor of the group (members in reverse topological
    order, then the external inputs: ``tensors``), one column per tile count of ``qs``; and ``reads``, one row per
    reader (edge of the group, in the order of :meth:`TileGeometry.structure`): the rows (or columns) it reads of
    its input over all tiles (formulations/energy.md)."""

    qs: np.ndarray
    tensors: tuple[int, ...]
    span: np.ndarray
    line: np.ndarray
    repeated: np.ndarray
    distinct: np.ndarray
    reads: np.ndarray

    def of(self, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Span, line, repeated and distinct of tensor ``t``."""
        k = self.tensors.index(t)
        return self.span[k], self.line[k], self.repeated[k], self.distinct[k]


class TileGeometry:
    """The per-direction rules of every layer of a network (rows: axis 0, columns: axis 1)."""

    def __init__(self, cm: "CostModel") -> None:
        net = cm.network
        self.cm = cm
        self.size = (cm.H, cm.W)
        # every edge (reader c, tensor u) of the resolved graph gets an id; its rule per axis lives in arrays
        self.edge: dict[tuple[int, int], int] = {}
        rules: list[list[_Reader]] = [[], []]
        for c in range(cm.n):
            for u in cm.producers[c]:
                self.edge[(c, u)] = len(self.edge)
                for axis in (0, 1):
                    rules[axis].append(self._reader(c, u, axis))
        self.rules = [np.array([[r.kind, r.stride, r.pad, r.span, r.scale] for r in rules[axis]] or [[0] * 5],
                               dtype=np.int64) for axis in (0, 1)]
        self.sizes = [np.array(self.size[axis], dtype=np.int64) for axis in (0, 1)]
        # whether every tensor of every group holds at least one cell at every tiling: true unless some window
        # can lie wholly in its padding (padding ≥ span on a side) or some layer is read by nobody and no output
        vanishing = any(layer.op in ("conv", "pool") and not layer.global_pool and any(
            max(layer.padding[2 * axis], layer.padding[2 * axis + 1]) >=
            (layer.kernel[axis] - 1) * (layer.dilation[axis] if layer.op == "conv" else 1) + 1 for axis in (0, 1))
            for layer in net.layers)
        dead = any(not cm.consumers[u] and not cm.is_output[u] for u in net.layer_ids)
        self.every_cell_held = not vanishing and not dead
        self._useful: dict[tuple[int, frozenset[int]], np.ndarray] = {}
        self._structures: dict[tuple[int, ...], tuple] = {}
        self._readers: tuple | None = None

    def first_tile(self, mask: int, reads: int, escaping: int = 0, room: int = -1) -> tuple[int, int, int]:
        """The first tile of the set ``mask`` (reading ``reads``, with the members ``escaping`` cut by the
        partition; bitsets) at min(Tc, C) channels (C for a non-conv): the fewest tiles Q_r·Q_c at which it fits
        in ``room`` bytes (0 when no grid does), its bytes at one tile, and the corner pyramid's bytes
        (:func:`.tile_counts.first_tile`; with no ``room``, only the pyramid, which ``escaping`` does not change,
        is computed and the first two are 0)."""
        if self._readers is None:  # every tensor's readers with their edges' rules, as arrays numba takes
            cm = self.cm
            by_tensor: list[list[tuple[int, int]]] = [[] for _ in range(cm.n)]
            for (c, u), edge in self.edge.items():
                by_tensor[u].append((c, edge))
            first = np.cumsum([0] + [len(r) for r in by_tensor], dtype=np.int64)
            pairs = np.array([pair for r in by_tensor for pair in r] or [(0, 0)], dtype=np.int64)
            unit = np.array([cm.word * cm.min_channels[t] for t in range(cm.n)], dtype=np.int64)
            self._readers = (first, pairs, unit)
        first, pairs, unit = self._readers
        n = self.cm.n
        tiles, one, pyramid = first_tile(bitset_words(mask, n), bitset_words(reads, n), bitset_words(escaping, n),
                                         first, pairs, self.rules[0], self.rules[1], self.sizes[0], self.sizes[1],
                                         unit, room)
        return int(tiles), int(one), int(pyramid)

    def least_reloads(self, mask: int, reads: int, escaping: int, weights: int, block: int) -> int | None:
        """A lower bound of how often the weights cross DRAM in any tiling of any group of two or more layers whose
        first tile holds at least the window of the set ``mask`` with the members ``escaping`` cut by the
        partition (bitsets), that group having at least ``weights`` bytes of weights and a block of ``block``:
        once if the corner pyramid leaves room for the weights; else N·T* for the fewest tiles T* at which the
        first tile fits beside the block, or ⌈N/b_max⌉ when one tile does, b_max the samples it holds; None when
        no grid fits (formulations/candidate-space.md, "The cost floor"). Only valid where every tensor keeps a
        cell at every tiling (``every_cell_held``)."""
        cm = self.cm
        room = cm.buffer - block
        tiles, one, pyramid = self.first_tile(mask, reads, escaping, room)
        if pyramid > room:
            return None
        if pyramid + weights <= cm.buffer:
            return 1
        if tiles == 1:  # b samples of the one tile beside the block
            return -(-cm.batch // min(cm.batch, room // one))
        return cm.batch * tiles  # b = 1 beyond one tile: every tile reloads the weights for every sample

    def _reader(self, c: int, u: int, axis: int) -> _Reader:
        """Reader c's rule for input u along ``axis``: the cost model's kind of c, with the axis's window
        parameters, and a broadcast (C, 1, 1) operand told apart from an element-wise one."""
        cm = self.cm
        layer = cm.network.layers[c]
        kind = cm.kind[c]
        if kind == WINDOW:
            dil = layer.dilation[axis] if layer.op == "conv" else 1
            return _Reader(WINDOW, stride=layer.stride[axis], pad=layer.padding[2 * axis],
                           span=(layer.kernel[axis] - 1) * dil + 1)
        if kind == UPSAMPLE:
            return _Reader(UPSAMPLE, scale=layer.scale)
        if kind == PASS and u in cm.gate_operands.get(c, ()):
            return _Reader(BROADCAST)
        return _Reader(kind)

    def directions(self, io: GroupIO, rows_q: np.ndarray, cols_q: np.ndarray,
                   halos: Sequence[str]) -> tuple[dict[str, Direction], Direction]:
        """The counts of every tensor of the group at every tile count: the rows under each halo mode of
        ``halos`` and the columns, in one compiled call (:func:`.tile_counts.group_counts`). In a cached direction
        (columns always, rows under ``cache``) a consumer needs only the window of the rows it computes new at a
        tile, the others being kept from earlier tiles; otherwise (rows under ``recompute``) the window of every
        row it holds there (§7.2)."""
        order, escapes, first, reader, per_axis, _ = self.structure(io)
        (size_r, rule_r), (size_c, rule_c) = per_axis
        wanted = np.array(["cache" in halos, "recompute" in halos], dtype=np.bool_)
        cached, again, cols = group_counts(rows_q, cols_q, size_r, size_c, escapes, first, reader, rule_r, rule_c,
                                           wanted)
        rows = {halo: Direction(rows_q, order, *(cached if halo == "cache" else again)) for halo in halos}
        return rows, Direction(cols_q, order, *cols)

    def structure(self, io: GroupIO) -> tuple:
        """The group in processing order (members in reverse topological order, then external inputs) as the
        arrays :func:`.tile_counts.group_counts` and :func:`.tile_counts.grid_words` take, built once per group."""
        hit = self._structures.get(io.members)
        if hit is not None:
            return hit
        order = (*reversed(io.members), *io.ext)
        where = {t: k for k, t in enumerate(order)}
        inside = set(io.members)
        esc = set(io.esc)
        first = [0]
        reader: list[int] = []
        edges: list[int] = []
        for t in order:
            for c in self.cm.consumers[t]:
                if c in inside:
                    reader.append(where[c])
                    edges.append(self.edge[(c, t)])
            first.append(len(reader))
        tensors, edge_ids = np.array(order, dtype=np.int64), np.array(edges, dtype=np.int64)
        # per axis: the tensors' sizes, then the readers' kind, stride, pad, span and scale
        per_axis = [(self.sizes[axis][tensors], self.rules[axis][edge_ids]) for axis in (0, 1)]
        # per tensor: channels, re-read bytes per row-column (external inputs), MACs per recomputed row-column
        # (members but reductions, which accumulate once: §7.5)
        cm, ext = self.cm, set(io.ext)
        priced = (np.array([cm.C[t] for t in order], dtype=np.int64),
                  np.array([cm.batch * cm.C[t] * cm.word if t in ext else 0 for t in order], dtype=np.int64),
                  np.array([0 if t in ext or cm.kind[t] == REDUCE else cm.batch * cm.C[t] * cm.mac_per_element[t]
                            for t in order], dtype=np.int64))
        out = (order, np.array([t in esc for t in order], dtype=np.bool_), np.array(first, dtype=np.int64),
               np.array(reader, dtype=np.int64), per_axis, priced)
        if len(self._structures) > 4:  # only the group being tiled is asked for again
            self._structures.clear()
        self._structures[io.members] = out
        return out

    def useful(self, io: GroupIO, axis: int) -> np.ndarray:
        """The tile counts worth examining in one direction (§7.7): where an escaping tensor's or a reduction's
        input's partition changes, up to the largest size of the group's tensors."""
        size = self.size[axis]
        tensors = (*io.members, *io.ext)
        qmax = max(size[t] for t in tensors)
        heights = {size[u] for u in io.esc}
        heights |= {size[p] for u in io.members if self.cm.kind[u] == REDUCE for p in self.cm.producers[u]}
        key = (qmax, frozenset(heights))
        hit = self._useful.get(key)
        if hit is None:
            hit = self._useful[key] = useful_counts(heights, qmax)
        return hit


@dataclass(frozen=True)
class Grid:
    """Everything the choice of a tiling needs, over the grid of tile counts (Q_r × Q_c, flattened row-major) for
    one halo mode: feature-map words with all channels, each tensor's cells and interior cells (§7.4; one row per
    tensor, ``row`` maps a tensor to its row), re-read bytes and added MACs (§7.5)."""

    halo: str
    qr: np.ndarray
    qc: np.ndarray
    row: dict[int, int]
    full_words: np.ndarray
    cells: np.ndarray
    interior: np.ndarray
    reread: np.ndarray
    added_macs: np.ndarray


def grid(cm: "CostModel", io: GroupIO, rows: Direction, cols: Direction, halo: str) -> Grid:
    """Footprint words (b = 1, Φ empty), Φ's cells, re-reads and added MACs of every (Q_r, Q_c) (§7.4–§7.5),
    for all tensors at once (:func:`.tile_counts.grid_words`)."""
    tensors = rows.tensors
    channels, per_ext, per_mac = cm.tiles.geometry.structure(io)[5]
    full, cells, interior, reread, added = grid_words(rows.span, rows.line, rows.repeated, cols.span, cols.line,
                                                      cols.distinct, channels, per_ext, per_mac, halo == "cache")
    nc = len(cols.qs)
    return Grid(halo=halo, qr=np.repeat(rows.qs, nc), qc=np.tile(cols.qs, len(rows.qs)),
                row={t: k for k, t in enumerate(tensors)}, full_words=full, cells=cells, interior=interior,
                reread=reread, added_macs=added)


def phi_saving(cm: "CostModel", io: GroupIO, g: Grid, rules: TilingRules) -> dict[int, np.ndarray]:
    """What reducing each eligible conv saves (words) at every grid point: (C − Tc)·interior (§7.4)."""
    if not rules.reduced_channels:
        return {}
    return {u: (cm.C[u] - cm.tc) * g.interior[g.row[u]] for u in io.members
            if cm.is_conv[u] and cm.C[u] > cm.tc and u not in io.full_channels}


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
        return geo.directions(io, rows_q, cols_q, halos)

    def _footprint(self, io: GroupIO, g: Grid, rules: TilingRules) -> tuple[np.ndarray, np.ndarray]:
        """The least footprint (bytes, b = 1) at every grid point, and where it is exact. With no two savers of
        Φ joined, Φ takes every saving and all of it is exact. Otherwise the footprint with every saving at once
        (a lower bound) decides like the exact one wherever it cannot matter whether weights stay resident or
        stream (even Φ empty keeps them resident, or even the lower bound cannot stream); the other points are
        marked not exact (:meth:`_exact_footprint` solves Φ at one point)."""
        cm = self.cm
        word = cm.word
        saving = phi_saving(cm, io, g, rules)
        high = word * g.full_words
        if not saving:
            return high, np.ones(len(high), dtype=np.bool_)
        low = high - word * sum(saving.values())
        if not any(cm._conflicts(saving).values()):  # no two savers joined: Φ takes every saving
            return low, np.ones(len(high), dtype=np.bool_)
        undecided = (low + io.weight_block_bytes <= cm.buffer) & (high + io.weight_bytes > cm.buffer)
        return low, ~undecided

    def _solve_phi(self, io: GroupIO, g: Grid, rules: TilingRules, fp: np.ndarray, exact: np.ndarray) -> None:
        """Make ``fp`` exact wherever ``exact`` is False (in place): the maximum-weight independent set of Φ,
        vectorised over those points."""
        at = np.flatnonzero(~exact)
        if not len(at):
            return
        cm = self.cm
        saving = {u: w[at] for u, w in phi_saving(cm, io, g, rules).items()}
        phi = ReducedChannels(sorted(saving), cm._conflicts(saving), saving, len(at))
        fp[at] = cm.word * (g.full_words[at] - phi.value())
        exact[at] = True

    def _exact_footprints(self, io: GroupIO, g: Grid, rules: TilingRules) -> np.ndarray:
        """The least footprint (bytes, b = 1) at every grid point, whatever the buffer (for the buffer as a
        decision and for the least buffer): Φ solved at every point unless no two savers are joined."""
        fp, exact = self._footprint(io, g, rules)
        saving = phi_saving(self.cm, io, g, rules)
        if any(self.cm._conflicts(saving).values()):  # the doubt was judged against this model's buffer
            self._solve_phi(io, g, rules, fp, np.zeros(len(fp), dtype=np.bool_))
        return fp

    def _exact_footprint(self, io: GroupIO, g: Grid, index: int, rules: TilingRules) -> int:
        """The least footprint (bytes, b = 1) at one grid point, with the best Φ there."""
        reduced = self._reduced_at(io, g, index, rules)
        words = int(g.full_words[index]) - sum((self.cm.C[u] - self.cm.tc) * int(g.interior[g.row[u], index])
                                               for u in reduced)
        return self.cm.word * words

    def _reduced_at(self, io: GroupIO, g: Grid, index: int, rules: TilingRules) -> frozenset[int]:
        """The best Φ at one grid point (ties keep full channels)."""
        saving = {u: int(w[index]) for u, w in phi_saving(self.cm, io, g, rules).items()}
        if not saving:
            return frozenset()
        phi = ReducedChannels(sorted(saving), self.cm._conflicts(saving), saving, 0, scalar=True)
        return frozenset(phi.choose(1))

    def _pass_layer(self, io: GroupIO) -> int | None:
        """The layer of a group that may run in output-channel passes (§7.6): its only layer, a conv or an fc
        with weights; None for any other group."""
        if len(io.members) != 1:
            return None
        u = io.members[0]
        return u if self.cm.network.layers[u].op in ("conv", "fc") and self.cm.weight_bytes[u] else None

    def _pass_plan(self, io: GroupIO, g: Grid, rules: TilingRules) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For a single conv or fc with weights: at each grid point the fewest passes P ≥ 2 that fit (0 where
        none does or one pass fits), the channels per pass k = ⌈K/P⌉ and whether the layer is then in Φ."""
        cm = self.cm
        u = self._pass_layer(io)
        if u is None or rules.resident_only:
            size = len(g.qr)
            return np.zeros(size, dtype=np.int64), np.zeros(size, dtype=np.int64), np.zeros(size, dtype=bool)
        k_out = cm.C[u]
        row = g.row[u]
        return pass_plan(g.full_words, g.cells[row], g.interior[row], k_out, cm.network.weights[u] // k_out,
                         cm.buffer // cm.word, cm.tc, bool(rules.reduced_channels and cm.is_conv[u]))

    # -- the best tiling -------------------------------------------------------------------------------------

    def best(self, members: Sequence[int], rules: TilingRules):
        """The least (DRAM bytes, MACs, tiles, Q_r, halo, P, b) tiling of a group, or ``None`` (§7.7).

        When no tiling can keep the weights resident (the footprint floor plus the weights exceeds the buffer) and
        passes do not apply, every tiling of T ≥ 2 tiles costs at least ext + esc + W_G·T·N, which grows with T.
        The grid is then examined at tile counts up to K = 4, 16, 64, … only, until the best tiling found costs
        less than any tiling with more than K tiles could (ext + esc + W_G·(K + 1)·N): the same answer as the
        whole grid, at a fraction of the tiles. (When nothing fits up to K = 4, the next look is the whole grid.)"""
        cm = self.cm
        io = cm.io(members)
        geo = self.geometry
        rows_q = np.ones(1, dtype=np.int64) if io.gated else geo.useful(io, 0)
        cols_q = np.ones(1, dtype=np.int64) if io.gated else geo.useful(io, 1)
        streams_only = io.weight_bytes and self._pass_layer(io) is None and \
            self.floor(io.members, block=False) + io.weight_bytes > cm.buffer
        if not streams_only or rules.resident_only:
            found = self._best_over(io, rows_q, cols_q, rules)
            return None if found is None else found[1]
        limit = 4
        while True:
            qr, qc = rows_q[rows_q <= limit], cols_q[cols_q <= limit]
            found = self._best_over(io, qr, qc, rules)
            whole = len(qr) == len(rows_q) and len(qc) == len(cols_q)
            more = io.ext_bytes + io.esc_bytes + io.weight_bytes * (limit + 1) * cm.batch
            if whole or (found is not None and found[0][0] < more):
                return None if found is None else found[1]
            # nothing fits with few tiles: most such groups fit nowhere, and one look at the whole grid says so
            limit = limit * 4 if found is not None else max(int(rows_q[-1]), int(cols_q[-1]))

    def _best_over(self, io: GroupIO, rows_q: np.ndarray, cols_q: np.ndarray, rules: TilingRules):
        """The best tiling with Q_r in ``rows_q`` and Q_c in ``cols_q`` and its key (cost, MACs, tiles, Q_r,
        halo, P, b), or None (the scan over modes, families and points: :func:`.tile_counts.pick`)."""
        cm = self.cm
        rows, cols = self._directions(io, rows_q, cols_q)
        grids = [grid(cm, io, rows[halo], cols, halo) for halo in self.halos]
        bounds = [self._footprint(io, g, rules) for g in grids]
        fp = np.stack([f for f, _ in bounds])
        exact = np.stack([e for _, e in bounds])
        fixed = io.esc_bytes + io.ext_bytes
        base = np.stack([fixed + g.reread for g in grids])
        added = np.stack([g.added_macs for g in grids])
        passes = np.stack([self._pass_plan(io, g, rules)[0] for g in grids])
        g0 = grids[0]
        tiles = g0.qr * g0.qc
        # Where Φ is not solved, the footprint is the optimistic one (every saving at once), so every tiling's key
        # there is at most its true key: the best over optimistic footprints is the true best once its own point is
        # exact; otherwise Φ is solved at every point in doubt and the scan runs once more
        while True:
            h, k, family, b, p, cost, macs = pick(fp, base, added, passes, tiles, g0.qr, io.macs, io.weight_bytes,
                                                  io.weight_block_bytes, io.esc_bytes, cm.buffer, cm.batch,
                                                  np.ascontiguousarray(fp[:, 0]), rules.resident_only)
            if h < 0:
                return None
            if family == 2 or exact[h, k]:  # a pass's footprint is exact (one layer: no conflicts)
                break
            for m, g in enumerate(grids):
                self._solve_phi(io, g, rules, fp[m], exact[m])
        key = (int(cost), int(macs), int(g0.qr[k] * g0.qc[k]), int(g0.qr[k]), int(h), int(p), int(b))
        return key, self._tiling(io, grids[h], int(k), int(b), int(p), ("resident", "stream", "pass")[family], rules)

    def _tiling(self, io: GroupIO, g: Grid, index: int, b: int, passes: int, family: str, rules: TilingRules):
        """The :class:`~optimus_opt.cost.cost_model.Tiling` at one grid point of a chosen family."""
        if family == "pass":
            _, kk, red = self._pass_plan(io, g, rules)
            k = int(kk[index])
            reduced = frozenset(io.members) if bool(red[index]) else frozenset()
            return self.assemble(io, g, index, b=1, reduced=reduced, passes=passes, pass_channels=k)
        return self.assemble(io, g, index, b=b, reduced=self._reduced_at(io, g, index, rules), passes=1,
                             resident=family == "resident")

    def assemble(self, io: GroupIO, g: Grid, index: int, *, b: int, reduced: frozenset[int], passes: int,
                 resident: bool = True, pass_channels: int | None = None):
        """The tiling at grid point ``index`` with Φ = ``reduced`` and the traffic it implies (no feasibility
        check: :meth:`check` and :meth:`best` decide that)."""
        cm = self.cm
        words = int(g.full_words[index])
        for u in reduced:
            f = pass_channels if pass_channels is not None else cm.C[u]
            words -= (f - min(cm.tc, f)) * int(g.interior[g.row[u], index])
        if pass_channels is not None:
            u = io.members[0]
            words -= (cm.C[u] - pass_channels) * int(g.cells[g.row[u], index])
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
        if not 1 <= batch_block <= cm.batch:
            raise ValueError(f"batch_block {batch_block} out of range 1..{cm.batch}")
        if batch_block > 1 and (tile_rows, tile_cols) != (1, 1):
            raise ValueError(f"batch_block {batch_block} > 1 needs one tile, got {tile_rows} x {tile_cols}")
        rows, cols = self._directions(io, (tile_rows,), (tile_cols,), (halo,))
        g = grid(cm, io, rows[halo], cols, halo)
        if passes > 1:
            u = self._pass_layer(io)
            if u is None:
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
            fp = self._exact_footprints(io, g, rules)
            tiles = g.qr * g.qc
            base = io.ext_bytes + io.esc_bytes + g.reread
            macs = io.macs + g.added_macs
            for i in range(len(g.qr)):
                raw.append((int(fp[i]) + io.weight_bytes, int(base[i]) + io.weight_bytes, int(macs[i]),
                            int(tiles[i]), int(g.qr[i]), h, 1, 1, "resident", i, g, None))
                if io.weight_bytes and not rules.resident_only:
                    raw.append((int(fp[i]) + io.weight_block_bytes, int(base[i]) + io.weight_bytes * int(tiles[i]) *
                                cm.batch, int(macs[i]), int(tiles[i]), int(g.qr[i]), h, 1, 1, "stream", i, g, None))
            if io.weight_bytes and not rules.resident_only:
                for blocks in range(1, cm.batch):
                    b = -(-cm.batch // blocks)
                    raw.append((b * int(fp[0]) + io.weight_block_bytes, int(base[0]) + io.weight_bytes * blocks,
                                int(macs[0]), 1, 1, h, 1, b, "stream", 0, g, None))
            u = self._pass_layer(io)
            if u is not None and not rules.resident_only:
                per_out = cm.network.weights[u] // cm.C[u]
                for i in range(len(g.qr)):
                    for p in range(2, cm.C[u] + 1):
                        k = -(-cm.C[u] // p)
                        if p > 2 and -(-cm.C[u] // (p - 1)) == k:
                            continue
                        phis = [frozenset()]
                        if rules.reduced_channels and cm.is_conv[u] and k > cm.tc:
                            phis.append(frozenset(io.members))  # the output reduced to Tc channels (§7.4)
                        for phi in phis:
                            t = self.assemble(io, g, i, b=1, reduced=phi, passes=p, pass_channels=k)
                            raw.append((t.footprint_bytes + cm.word * k * per_out, t.cost, int(macs[i]),
                                        int(tiles[i]), int(g.qr[i]), h, p, 1, "pass", i, g, phi, k))
        raw.sort(key=lambda r: r[:8])
        out = []
        for r in raw:
            need, cost = r[0], r[1]
            if out and cost >= out[-1][1].cost:
                continue
            family, i, g = r[8], r[9], r[10]
            if family == "pass":
                tiling = self.assemble(io, g, i, b=1, reduced=r[11], passes=r[6], pass_channels=r[12])
            else:
                tiling = self.assemble(io, g, i, b=r[7], reduced=self._reduced_at(io, g, i, rules), passes=1,
                                       resident=family == "resident")
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
            need = int(self._exact_footprints(io, g, FULL).min()) + io.weight_block_bytes
            u = self._pass_layer(io)
            if u is not None:  # passes of one output channel: that channel's weights instead of the block
                one = cm.word * (g.full_words - (cm.C[u] - 1) * g.cells[g.row[u]] + cm.network.weights[u] // cm.C[u])
                need = min(need, int(one.min()))
            least = need if least is None else min(least, need)
        assert least is not None
        return least

    def floor(self, members: Iterable[int], block: bool = True) -> int:
        """A lower bound of the buffer any tiling of the group or of a group containing it needs: the window of
        the first tile (:meth:`~optimus_opt.cost.cost_model.CostModel.pyramid_bytes`: the extents of the top-left
        corner's pyramid, at least one cell of min(Tc, C) channels, C for a non-conv, per tensor), and the weight
        block (with ``block``). A tile may be one row and one column, and windows clipped at the border can be
        narrower than the kernel; a window whose padding is at least its span on a side can even need no cell at
        all, so in a network with such a window, or with a layer nobody reads, the cells are not counted. A single
        conv or fc may instead run in passes of one output channel, which stage no block but one channel's
        weights."""
        cm = self.cm
        members = list(members)
        staged = max(cm.block_bytes[c] for c in members)
        reads = mask_of({p for c in members for p in cm.producers[c]})
        floor = cm.pyramid_bytes(mask_of(members), reads) + (staged if block else 0)
        if len(members) == 1 and block:
            u = members[0]
            if cm.network.layers[u].op in ("conv", "fc") and cm.weight_bytes[u]:
                held = 1 + sum(cm.C[x] for x in set(cm.producers[u])) if self.geometry.every_cell_held else 0
                floor = min(floor, cm.word * (held + cm.network.weights[u] // cm.C[u]))
        return floor
