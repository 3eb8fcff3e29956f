"""A second implementation of the energy and latency models, written from formulations/energy.md alone.

It enumerates every tile row and tile column of a group with plain Python intervals (cost model §7.2: the
partitions of escaping tensors, the needs table, New rows in a cached direction and all rows A in a recomputed
one, the hull over a tensor's readers, clipping), and from them counts the four buffer flows, the register-file
accesses, the MACs, the compute cycles and the energy of energy.md §2-§3. It imports nothing from
``optimus_opt.cost``; from the data model it takes the resolved graph (``producers``, ``consumers``,
``output_ids``), shapes and weight words, and from the memory cost model only what that model decides: the
tiling's DRAM bytes (``read_bytes``, ``write_bytes``) and whether its weights are resident, which
:func:`figures` receives.

Readings where the page leaves room (each used literally below):
- a "recomputed layer" is a member that is not a reduction (fc, global pool; cost model §7.5): only those add
  written outputs, register-file outputs and positions under ``recompute``;
- the operands of an add/mul are its inputs as written (a concat operand is one operand);
- under ``strips`` the needs are those of ``tiles`` with one tile column and rows cached (energy.md §2).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Optional, Sequence

Interval = Optional[tuple[int, int]]  # [a, e) with a < e, or None when empty


def cdiv(a: int, b: int) -> int:
    return -(-a // b)


def clip(a: int, e: int, h: int) -> Interval:
    a, e = max(a, 0), min(e, h)
    return (a, e) if a < e else None


def size(iv: Interval) -> int:
    return 0 if iv is None else iv[1] - iv[0]


def hull(parts: Sequence[Interval]) -> Interval:
    full = [p for p in parts if p is not None]
    return (min(p[0] for p in full), max(p[1] for p in full)) if full else None


def part(h: int, q: int, i: int) -> Interval:
    """Tile row i of a tensor of height h cut into q: [i·t, min((i+1)·t, h)), t = ⌈h/q⌉."""
    t = cdiv(h, q)
    return clip(i * t, (i + 1) * t, h)


def fresh(col: list[Interval]) -> list[Interval]:
    """New(i) = [max(a_i, M_{i-1}), e_i): the rows of A(i) that no earlier tile row held."""
    out, m = [], 0
    for iv in col:
        out.append(None if iv is None else clip(max(iv[0], m), iv[1], iv[1]))
        if iv is not None:
            m = max(m, iv[1])
    return out


def repeated(col: list[Interval]) -> int:
    """R = Σ_{i ≥ 1} |[a_i, min(e_i, M_{i-1}))| over the non-empty A(i)."""
    total, m = 0, None
    for iv in col:
        if iv is not None:
            if m is not None:
                total += max(0, min(iv[1], m) - iv[0])
            m = iv[1] if m is None else max(m, iv[1])
    return total


@dataclass(frozen=True)
class OracleFigures:
    """The fields of the package's ``Figures``, computed from the page."""

    dram_bytes: int
    dram_words: int
    buffer_words: int
    fills: int
    drains: int
    writes: int
    reads: int
    macs: int
    added_macs: int
    rf_accesses: int
    compute_cycles: int
    dram_cycles: int
    energy_fj: int
    latency_cycles: int


class _Group:
    """One group of an instance: ext, esc, and its per-tile intervals in either direction."""

    def __init__(self, inst, members: Sequence[int]) -> None:
        net = self.net = inst.network
        self.g = set(members)
        self.members = sorted(self.g)  # node ids are topological
        self.ext = sorted({p for u in self.members for p in net.producers[u] if p not in self.g})
        self.esc = {u for u in self.members if u in net.output_ids or any(c not in self.g for c in net.consumers[u])}

    def reduction(self, u: int) -> bool:
        layer = self.net.layers[u]
        return layer.op == "fc" or (layer.op == "pool" and layer.global_pool)

    def need(self, c: int, v: int, iv: Interval, i: int, q: int, d: int) -> Interval:
        """What c needs of its input v at tile index i when it computes iv (cost model §7.2, d 0 rows, 1 cols)."""
        layer, hv = self.net.layers[c], self.net.shapes[v][1 + d]
        if self.reduction(c):
            return part(hv, q, i)
        if iv is None:
            return None
        a, e = iv
        if layer.op in ("conv", "pool"):
            k, s, p = layer.kernel[d], layer.stride[d], layer.padding[2 * d]
            dil = layer.dilation[d] if layer.op == "conv" else 1
            return clip(a * s - p, (e - 1) * s - p + (k - 1) * dil + 1, hv)
        if layer.op in ("add", "mul"):
            out = self.net.shapes[c]
            if self.net.shapes[v][1:] == (1, 1) and out[1] * out[2] > 1:  # a broadcast operand
                return clip(0, 1, hv)
            return clip(a, e, hv)
        if layer.op == "upsample":
            return clip(a // layer.scale, (e - 1) // layer.scale + 1, hv)
        raise AssertionError(f"no need rule for {layer.op}")

    def direction(self, q: int, d: int, cached: bool) -> tuple[dict[int, list[Interval]], dict]:
        """(A_v(0..q-1) of every tensor, {(c, v): Σ_i |need of c of v at i|}) in direction d."""
        A: dict[int, list[Interval]] = {}
        computes: dict[int, list[Interval]] = {}  # New_c in a cached direction, A_c in a recomputed one
        for u in reversed(self.members):
            readers = [c for c in self.net.consumers[u] if c in self.g]
            A[u] = [hull([part(self.net.shapes[u][1 + d], q, i) if u in self.esc else None]
                         + [self.need(c, u, computes[c][i], i, q, d) for c in readers]) for i in range(q)]
            computes[u] = fresh(A[u]) if cached else A[u]
        for x in self.ext:
            A[x] = [hull([self.need(c, x, computes[c][i], i, q, d) for c in self.net.consumers[x] if c in self.g])
                    for i in range(q)]
        needs = {(c, v): sum(size(self.need(c, v, computes[c][i], i, q, d)) for i in range(q))
                 for c in self.members for v in self.net.producers[c]}
        return A, needs


def layer_cycles(inst, u: int, passes: int = 1) -> int:
    """Cycles per output position of u, all its output channels (energy.md §3)."""
    net, layer = inst.network, inst.network.layers[u]
    rows, cols = inst.accelerator.pe_array or (inst.accelerator.channel_tile,) * 2
    c_in, h_in, w_in = net.shapes[net.written_producers[u][0]]
    k = net.shapes[u][0]
    if layer.op in ("conv", "fc"):
        out = passes * cdiv(cdiv(k, passes), cols)
        if layer.op == "conv":
            return out * cdiv(c_in // layer.groups, rows) * layer.kernel[0] * layer.kernel[1]
        return out * cdiv(c_in * h_in * w_in, rows)
    if layer.op == "pool":
        return cdiv(c_in, cols) * (h_in * w_in if layer.global_pool else layer.kernel[0] * layer.kernel[1])
    if layer.op in ("add", "mul"):
        return cdiv(k, cols) * (len(layer.inputs) - 1)
    return cdiv(k, cols)  # upsample


def fj(pj: float) -> int:
    """A constant in pJ as whole fJ."""
    value = Decimal(repr(pj)) * 1000
    assert value == value.to_integral_value(), pj
    return int(value)


def figures(inst, members: Sequence[int], *, tile_rows: int, tile_cols: int = 1, halo: str | None = None,
            batch_block: int = 1, passes: int = 1, resident: bool, read_bytes: int,
            write_bytes: int) -> OracleFigures:
    """Every figure of energy.md §2-§3 of a group under one tiling (``halo`` None: strips)."""
    acc, net = inst.accelerator, inst.network
    grp, n, w = _Group(inst, members), inst.batch, acc.word_bytes
    recompute = halo == "recompute"
    rows, rho = grp.direction(tile_rows, 0, cached=not recompute)
    cols, gamma = grp.direction(tile_cols, 1, cached=True)
    distinct_cols = {v: sum(size(iv) for iv in col) - repeated(col) for v, col in cols.items()}
    again = {u: n * distinct_cols[u] * repeated(rows[u]) if recompute and not grp.reduction(u) else 0
             for u in grp.members}  # recomputed positions (over the batch)

    def per_element(u: int) -> int:  # MACs of one output element
        c_in, h_in, w_in = net.shapes[net.written_producers[u][0]]
        layer = net.layers[u]
        if layer.op == "conv":
            return c_in // layer.groups * layer.kernel[0] * layer.kernel[1]
        return c_in * h_in * w_in if layer.op == "fc" else 0

    k = {u: net.shapes[u][0] for u in grp.members}
    positions = {u: n * net.shapes[u][1] * net.shapes[u][2] for u in grp.members}
    added = sum(k[u] * again[u] * per_element(u) for u in grp.members)
    macs = sum(k[u] * positions[u] * per_element(u) for u in grp.members) + added
    rf = 4 * macs - sum(k[u] * (positions[u] + again[u]) for u in grp.members if net.layers[u].op in ("conv", "fc"))
    writes = sum(k[u] * (positions[u] + again[u]) for u in grp.members)
    reread = sum(n * net.shapes[x][0] * distinct_cols[x] * repeated(rows[x]) for x in grp.ext) if recompute else 0
    ext_words = sum(n * net.shapes[x][0] * net.shapes[x][1] * net.shapes[x][2] for x in grp.ext)
    weight_words = sum(net.weights[u] for u in grp.members)
    tiles = tile_rows * tile_cols
    if passes > 1:
        staged, weight_reads = weight_words, weight_words * tiles
    elif resident:
        staged, weight_reads = weight_words, weight_words * tiles * cdiv(n, batch_block)
    elif acc.weight_staging == "block":
        staged = weight_reads = weight_words * tiles * cdiv(n, batch_block)
    else:
        staged = weight_reads = 0
    fills = passes * (ext_words + reread) + staged
    drains = write_bytes // w
    fmap_reads = passes * sum(n * net.shapes[v][0] * rho[c, v] * gamma[c, v] for c, v in rho)
    reads = fmap_reads + weight_reads
    buffer = fills + drains + writes + reads
    dram = read_bytes + write_bytes
    e = {key: fj(getattr(acc, key)) for key in ("dram_pj", "buffer_pj", "rf_pj", "mac_pj")}
    energy = dram // w * e["dram_pj"] + buffer * e["buffer_pj"] + rf * e["rf_pj"] + macs * e["mac_pj"]
    compute = sum((positions[u] + again[u]) * layer_cycles(inst, u, passes) for u in grp.members)
    dram_cycles = cdiv(dram * acc.clock_mhz, acc.dram_mbps)
    return OracleFigures(dram, dram // w, buffer, fills, drains, writes, reads, macs, added, rf, compute,
                         dram_cycles, energy, max(compute, dram_cycles))


def of_tiling(inst, members: Sequence[int], tiling) -> OracleFigures:
    """:func:`figures` of a package ``Tiling`` (only its tiling fields and DRAM bytes are read)."""
    return figures(inst, members, tile_rows=tiling.strips, tile_cols=tiling.tile_cols, halo=tiling.halo,
                   batch_block=tiling.batch_block, passes=tiling.passes, resident=tiling.resident,
                   read_bytes=tiling.read_bytes, write_bytes=tiling.write_bytes)
