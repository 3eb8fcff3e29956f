"""A second implementation of the memory cost model, written from formulations/cost-model.md alone.

Why a second implementation
---------------------------
The project's cost model (``optimus_opt/cost``) is vectorised numpy with pruning: it skips tile counts, solves Φ by
a clever search, and reads the best tiling off curves. A test that compares it with itself, or with numbers derived
from its own helpers, cannot catch a rule it bends. This module re-derives every number from the specification
page only (§1–§5: version 2, ``tiling: strips``; §7: version 3, ``tiling: tiles``), by the plainest means
available: Python loops over every tile row and tile column, explicit interval lists, and explicit enumeration
of every tiling (every Q_r in 1..max H, every Q_c in 1..max W, both halo modes the accelerator allows, every P,
every b, every admissible subset Φ). It imports nothing from ``optimus_opt.cost``; from ``optimus_opt.model`` it
uses only the parsed layers and their shapes (``Network.layers``, ``Network.shapes``, ``Network.outputs``,
``written_producers``), and re-derives the concat-resolved graph, the weight counts, the MACs, ext/esc, the gated
rule, convexity, connectivity and the order rule itself.

It follows the page as of commit 4667372 (§7.2 with the cached/recomputed needs: in a cached direction a
consumer needs only the window of the rows it computes new, New_c(i)). It is slow (pure Python, exponential in the
group size), which is fine for groups of a handful of layers on maps of a few dozen rows. Where the page leaves a
choice open, the choice made here is written in the docstring of the function that makes it, and :data:`READINGS`
lists them; where a claim of the page fails, the formulas are still applied literally and the case is recorded
in :data:`CLAIM_FAILURES`.

Public functions
----------------
``group_tilings(inst, members)``   every feasible tiling of a group (a generator of :class:`OracleTiling`)
``best_tiling(inst, members)``     the best tiling (§7.7 under tiles, §5 under strips), or None
``tiling_of(inst, members, ...)``  the numbers of one given tiling, or None when it is not allowed or does not fit
``least_buffer(inst, members)``    the least buffer at which the group has any tiling
``convex_connected_groups(inst)``  every valid group (§3), optionally of at most k layers
``brute_force(inst)``              the optimum over every set partition (convex, connected, in order), with the
                                   oracle's best tiling of each group (or any ``cost_of`` given)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Iterable, Iterator, Optional

#: The readings this oracle takes where the page leaves room (see the report / each function's docstring).
READINGS = {
    "gate_rows": "§4 'a reduction over more than one row' (H > 1) under strips; §7.1 'more than one element' "
                 "(H·W > 1) under tiles",
    "phi_small": "Φ may hold a conv with C ≤ Tc (tiling_of accepts it; it changes nothing), but the enumeration "
                 "of subsets leaves such convs out: they only forbid their neighbours",
    "recompute_reductions": "§7.5: a reduction (fc, global pool) is never recomputed: its R^r adds no MACs",
    "strips_ties": "§5: among equal costs, fewer strips (then b = 1 when resident, the largest b when streamed)",
    "v2_reduction_rows": "§4 fc/global-pool need ⌈H/Q⌉ uses H of the reduction's input u",
}


def cdiv(a: int, b: int) -> int:
    return -(-a // b)


Interval = Optional[tuple]  # (a, e) with a < e, or None when empty


def hull(parts: Iterable[Interval]) -> Interval:
    """§7.2: [smallest a, largest e) over the non-empty intervals; empty if all are empty."""
    parts = [p for p in parts if p is not None]
    if not parts:
        return None
    return (min(p[0] for p in parts), max(p[1] for p in parts))


def clip(a: int, e: int, h: int) -> Interval:
    a, e = max(a, 0), min(e, h)
    return (a, e) if a < e else None


def partition(h: int, q: int, i: int) -> Interval:
    """§7.2 Partition: t = ⌈H/Q⌉, E(i) = [i·t, min((i+1)·t, H)), empty when i·t ≥ H."""
    t = cdiv(h, q)
    return clip(i * t, (i + 1) * t, h)


#: Where the page's claims did not hold (§7.2 "starts never decrease", §7.4 0 ≤ interior ≤ cells): the oracle
#: still applies the page's formulas literally and records the case here (a list of tuples) for the report.
CLAIM_FAILURES: list = []


@dataclass(frozen=True)
class Counts:
    """span S, line L, repeated R, distinct D of one tensor in one direction (§7.2)."""

    S: int
    L: int
    R: int
    D: int


def counts(iv: list) -> Counts:
    """The four counts of §7.2 of the intervals A_v(0 … Q−1), by the page's formulas, with a check of the page's
    claim that D (Σ|A| − R) is the number of distinct rows any tile row holds."""
    q = len(iv)
    sizes = [(e - a) if x is not None else 0 for x in iv for (a, e) in [x or (0, 0)]]
    S = max(sizes, default=0)
    L = 0
    if q > 1:
        for i in range(q - 1):
            before = [x for x in iv[:i + 1] if x is not None]
            after = [x for x in iv[i + 1:] if x is not None]
            if not before or not after:
                continue
            M = max(e for _, e in before)
            Nn = max(e for _, e in after)
            a1 = after[0][0]
            L = max(L, max(0, min(M, Nn) - a1))
    R = 0
    M = None  # largest e over non-empty k ≤ i − 1
    for i, x in enumerate(iv):
        if x is None:
            continue
        a, e = x
        if i >= 1 and M is not None:
            R += max(0, min(e, M) - a)
        M = e if M is None else max(M, e)
    D = sum(sizes) - R
    starts = [x[0] for x in iv if x is not None]
    if any(b < a for a, b in zip(starts, starts[1:])):
        union = set()
        for x in iv:
            if x is not None:
                union.update(range(*x))
        CLAIM_FAILURES.append(("starts decrease", tuple(iv), Counts(S, L, R, D), len(union)))
    return Counts(S, L, R, D)


@dataclass(frozen=True)
class OracleTiling:
    """One tiling and its numbers. ``tile_rows`` is Q_r (the strips of version 2); under strips ``tile_cols`` is 1,
    ``halo`` None, ``passes`` 1."""

    tile_rows: int
    tile_cols: int
    halo: Optional[str]
    passes: int
    batch_block: int
    reduced: frozenset
    resident: bool
    footprint_bytes: int
    weight_traffic: int
    read_bytes: int
    write_bytes: int
    macs: int
    added_macs: int

    @property
    def cost(self) -> int:
        return self.read_bytes + self.write_bytes

    @property
    def key(self) -> tuple:
        """§7.7: DRAM bytes, MACs, tiles, Q_r, cache before recompute, P, b."""
        return (self.cost, self.macs, self.tile_rows * self.tile_cols, self.tile_rows,
                0 if self.halo in (None, "cache") else 1, self.passes, self.batch_block)


# -- the instance as the page describes it -------------------------------------------------------------------

class Oracle:
    """Everything of one instance the cost model needs, derived from the layers and shapes only."""

    def __init__(self, inst, *, gate_cells: bool = False) -> None:
        net = inst.network
        acc = inst.accelerator
        self.inst = inst
        self.net = net
        self.N = inst.batch
        self.w = acc.word_bytes
        self.Tc = acc.channel_tile
        self.B = acc.buffer_bytes
        self.staging = acc.weight_staging
        self.mode = getattr(acc, "tiling", "strips")
        self.halo = getattr(acc, "halo", "choose")
        self.gate_cells = gate_cells or self.mode == "tiles"  # §7.1: a gate over more than one element
        n = len(net.layers)
        self.layers = net.layers
        self.shape = list(net.shapes)
        ops = [l.op for l in net.layers]
        self.op = ops
        # §1 the resolved graph: a reader of a concat reads each tensor the concat joins (nested, each once)
        written = net.written_producers
        sources: list[tuple] = []
        for i in range(n):
            if ops[i] == "concat":
                seen: list[int] = []
                for p in written[i]:
                    for t in sources[p]:
                        if t not in seen:
                            seen.append(t)
                sources.append(tuple(seen))
            else:
                sources.append((i,))
        self.prod: list[tuple] = []
        for i in range(n):
            if ops[i] == "concat":
                self.prod.append(())
                continue
            seen = []
            for p in written[i]:
                for t in sources[p]:
                    if t not in seen:
                        seen.append(t)
            self.prod.append(tuple(seen))
        self.cons: list[list[int]] = [[] for _ in range(n)]
        for i in range(n):
            for p in self.prod[i]:
                self.cons[p].append(i)
        # outputs: listed, or every node no one reads (written graph); a concat output → its sources (not inputs)
        index = {l.name: i for i, l in enumerate(net.layers)}
        out_names = list(net.outputs) if net.outputs else [l.name for i, l in enumerate(net.layers)
                                                             if ops[i] != "input" and not any(
                                                                 i in written[j] for j in range(n))]
        self.outputs = {t for o in out_names for t in sources[index[o]] if ops[t] != "input"}
        self.layer_ids = [i for i in range(n) if ops[i] not in ("input", "concat")]
        # the written input shape of each node (C counts every channel of a concat it reads)
        self.in_shape = [self.shape[written[i][0]] if written[i] else None for i in range(n)]
        self.weights = [self._weight_words(i) for i in range(n)]
        self.per_out = [self._per_out_channel(i) for i in range(n)]
        self.m = [self._mac_per_element(i) for i in range(n)]
        self.own_macs = [self.shape[i][0] * self.shape[i][1] * self.shape[i][2] * self.m[i] for i in range(n)]
        self.blk = [self._block_words(i) for i in range(n)]
        # reachability in the resolved graph (for convexity and gates)
        self.desc: list[set] = [set() for _ in range(n)]
        for i in reversed(range(n)):
            for c in self.cons[i]:
                self.desc[i].add(c)
                self.desc[i] |= self.desc[c]
        self._groups: dict = {}

    # §1 weight words, §7.5 MACs per output element, §4 weight block, §7.6 weights per output channel
    def _weight_words(self, i: int) -> int:
        l, s = self.layers[i], self.in_shape[i]
        if l.op == "conv":
            return l.channels * (s[0] // l.groups) * l.kernel[0] * l.kernel[1] + (l.channels if l.bias else 0)
        if l.op == "fc":
            return s[0] * s[1] * s[2] * l.channels + (l.channels if l.bias else 0)
        return 0

    def _per_out_channel(self, i: int) -> int:
        l, s = self.layers[i], self.in_shape[i]
        if l.op == "conv":
            return (s[0] // l.groups) * l.kernel[0] * l.kernel[1] + (1 if l.bias else 0)
        if l.op == "fc":
            return s[0] * s[1] * s[2] + (1 if l.bias else 0)
        return 0

    def _mac_per_element(self, i: int) -> int:
        l, s = self.layers[i], self.in_shape[i]
        if l.op == "conv":
            return (s[0] // l.groups) * l.kernel[0] * l.kernel[1]
        if l.op == "fc":
            return s[0] * s[1] * s[2]
        return 0

    def _block_words(self, i: int) -> int:
        l, s = self.layers[i], self.in_shape[i]
        if l.op == "conv":
            return min(self.Tc, l.channels) * min(self.Tc, s[0] // l.groups) * l.kernel[0] * l.kernel[1]
        if l.op == "fc":
            return min(self.Tc, l.channels) * min(self.Tc, s[0] * s[1] * s[2])
        return 0

    def size(self, v: int) -> int:
        """|T| = N·C·H·W·w."""
        c, h, w = self.shape[v]
        return self.N * c * h * w * self.w

    def is_reduction(self, v: int) -> bool:
        return self.op[v] == "fc" or (self.op[v] == "pool" and self.layers[v].global_pool)

    def broadcast(self, u: int, c: int) -> bool:
        """u is a (C, 1, 1) operand of an element-wise c whose output is larger than 1 × 1."""
        return (self.op[c] in ("add", "mul") and self.shape[u][1:] == (1, 1)
                and self.shape[c][1] * self.shape[c][2] > 1)

    def compulsory(self) -> int:
        ins = sum(self.size(i) for i in range(len(self.op)) if self.op[i] == "input")
        return ins + sum(self.size(o) for o in self.outputs) + self.w * sum(self.weights)

    def network_macs(self) -> int:
        return self.N * sum(self.own_macs)

    # -- §3 groups ---------------------------------------------------------------------------------------------

    def convex(self, g: frozenset) -> bool:
        """No path of the resolved graph leaves g and re-enters it."""
        after = set().union(*(self.desc[u] for u in g)) - g
        return not any(self.desc[o] & g for o in after)

    def connected(self, g: frozenset) -> bool:
        """Linked by edges inside g or by reading the same outside tensor."""
        parent = {u: u for u in g}

        def find(u):
            while parent[u] != u:
                u = parent[u]
            return u

        readers: dict[int, list] = {}
        for u in g:
            for p in self.prod[u]:
                if p in g:
                    parent[find(p)] = find(u)
                else:
                    readers.setdefault(p, []).append(u)
        for rs in readers.values():
            for r in rs[1:]:
                parent[find(r)] = find(rs[0])
        return len({find(u) for u in g}) == 1

    def valid_group(self, g: frozenset) -> bool:
        return bool(g) and all(u in self.layer_ids for u in g) and self.convex(g) and self.connected(g)

    def group(self, members: Iterable[int]) -> "Group":
        g = frozenset(members)
        if g not in self._groups:
            self._groups[g] = Group(self, g)
        return self._groups[g]


class Group:
    """One group G: ext, esc, gates, the Φ candidates, and the per-direction counts at each tile count."""

    def __init__(self, o: Oracle, g: frozenset) -> None:
        self.o = o
        self.members = sorted(g)
        self.inside = g
        self.ext = sorted({p for u in self.members for p in o.prod[u] if p not in g})
        self.esc = [u for u in self.members if u in o.outputs or any(c not in g for c in o.cons[u])]
        self.tensors = self.members + self.ext
        self.ext_bytes = sum(o.size(x) for x in self.ext)
        self.esc_bytes = sum(o.size(u) for u in self.esc)
        self.W = o.w * sum(o.weights[u] for u in self.members)
        self.S = o.w * max((o.blk[u] for u in self.members), default=0) if o.staging == "block" else 0
        self.own_macs = o.N * sum(o.own_macs[u] for u in self.members)
        self.edges = [(p, u) for u in self.members for p in o.prod[u] if p in g]
        self.gated, self.full_channels = self._gates()
        self.maxH = max(o.shape[v][1] for v in self.tensors)
        self.maxW = max(o.shape[v][2] for v in self.tensors)
        self._counts: dict = {}

    def _gates(self) -> tuple[bool, frozenset]:
        """§4 gated groups: a reduction over more than one row whose result reaches, by edges inside G, a
        (C, 1, 1) operand of an add/mul of G whose output is larger than 1 × 1. The producers (in G) of that
        add/mul's full-size operands keep all their channels."""
        o, g = self.o, self.inside

        def multi(r: int) -> bool:
            s = o.in_shape[r]
            return (s[1] * s[2] > 1) if o.gate_cells else s[1] > 1

        sources = [r for r in self.members if o.is_reduction(r) and multi(r)]
        reach = set()
        stack = list(sources)
        while stack:
            v = stack.pop()
            if v in reach:
                continue
            reach.add(v)
            stack.extend(c for c in o.cons[v] if c in g)
        gated, full = False, set()
        for m in self.members:
            if o.op[m] not in ("add", "mul"):
                continue
            if any(v in g and v in reach and o.broadcast(v, m) for v in o.prod[m]):
                gated = True
                full |= {v for v in o.prod[m] if v in g and not o.broadcast(v, m)}
        return gated, frozenset(full)

    def phi_candidates(self) -> list[int]:
        """Convs of G that may be reduced (not producers of gated tensors). Those with C ≤ Tc change nothing and
        are left out of the enumeration of subsets."""
        o = self.o
        return [u for u in self.members if o.op[u] == "conv" and u not in self.full_channels
                and o.shape[u][0] > o.Tc]

    def phi_subsets(self, candidates: Optional[list] = None) -> list[frozenset]:
        """Every subset of the candidates with no two joined by an edge inside G."""
        cand = self.phi_candidates() if candidates is None else candidates
        out = []
        for k in range(len(cand) + 1):
            for sub in itertools.combinations(cand, k):
                s = set(sub)
                if not any(p in s and u in s for p, u in self.edges):
                    out.append(frozenset(sub))
        return out

    def phi_allowed(self, phi: frozenset) -> bool:
        o = self.o
        return (all(u in self.inside and o.op[u] == "conv" and u not in self.full_channels for u in phi)
                and not any(p in phi and u in phi for p, u in self.edges))

    # -- §7.2 intervals ----------------------------------------------------------------------------------------

    def _need(self, c: int, u: int, ci: Interval, i: int, q: int, d: int) -> Interval:
        """What consumer c needs of its input u at tile index i when it computes ci (direction d: 1 rows, 2 cols)."""
        o = self.o
        l = o.layers[c]
        hu = o.shape[u][d]
        if o.is_reduction(c):
            return partition(hu, q, i)
        if ci is None:
            return None
        a, e = ci
        ax = 0 if d == 1 else 1
        if l.op in ("conv", "pool"):
            k, s = l.kernel[ax], l.stride[ax]
            dil = l.dilation[ax] if l.op == "conv" else 1
            p = l.padding[0] if d == 1 else l.padding[2]
            return clip(a * s - p, (e - 1) * s - p + (k - 1) * dil + 1, hu)
        if l.op in ("add", "mul"):
            if o.broadcast(u, c):
                return clip(0, 1, hu)
            return clip(a, e, hu)
        if l.op == "upsample":
            s = l.scale
            return clip(a // s, (e - 1) // s + 1, hu)
        raise AssertionError(f"no need rule for op {l.op}")

    def intervals(self, q: int, d: int, cached: bool) -> dict[int, list]:
        """A_v(0 … q−1) of every tensor of G ∪ ext(G), set in reverse topological order (§7.2).

        In a ``cached`` direction (columns always, rows under ``cache``) a consumer c needs the window of
        New_c(i) = [max(a_i, M_{i−1}), e_i), the rows of A_c(i) no earlier tile held; in a recomputed direction
        (rows under ``recompute``) the window of A_c(i). A reduction needs its input's partition part either way.
        """
        o, g = self.o, self.inside
        A: dict[int, list] = {}
        new: dict[int, list] = {}
        for u in reversed(self.members):
            col = []
            for i in range(q):
                parts = []
                if u in self.esc:
                    parts.append(partition(o.shape[u][d], q, i))
                for c in o.cons[u]:
                    if c in g:
                        parts.append(self._need(c, u, (new if cached else A)[c][i], i, q, d))
                col.append(hull(parts))
            A[u] = col
            fresh, M = [], None  # M: the largest end over non-empty A_u(k), k ≤ i − 1
            for x in col:
                if x is None:
                    fresh.append(None)
                    continue
                a = x[0] if M is None else max(x[0], M)
                fresh.append((a, x[1]) if a < x[1] else None)
                M = x[1] if M is None else max(M, x[1])
            new[u] = fresh
        for x in self.ext:
            A[x] = [hull(self._need(c, x, (new if cached else A)[c][i], i, q, d) for c in o.cons[x] if c in g)
                    for i in range(q)]
        return A

    def counts(self, q: int, d: int, cached: bool = True) -> dict[int, Counts]:
        key = (q, d, cached)
        if key not in self._counts:
            A = self.intervals(q, d, cached)
            self._counts[key] = {v: counts(A[v]) for v in self.tensors}
        return self._counts[key]

    # -- §7.4 footprint pieces ---------------------------------------------------------------------------------

    def cells(self, qr: int, qc: int, halo: str) -> dict[int, tuple[int, int]]:
        """(cells_v − interior_v, interior_v) of every tensor at (Q_r, Q_c, h)."""
        rc, cc = self.counts(qr, 1, halo == "cache"), self.counts(qc, 2)
        out = {}
        for v in self.tensors:
            r, c = rc[v], cc[v]
            L = r.L if halo == "cache" else 0
            cells = L * (c.D - c.S) + r.S * c.S
            interior = max(0, r.S - L) * max(0, c.S - c.L)  # §7.4: never negative
            if not 0 <= interior <= cells:
                CLAIM_FAILURES.append(("interior outside [0, cells]", v, qr, qc, halo, r, c))
            out[v] = (cells - interior, interior)
        return out

    def words(self, pieces: dict, phi: frozenset, pass_channels: Optional[int] = None) -> int:
        """Σ_v words_v: f_v·(cells − interior) + r_v·interior."""
        o = self.o
        total = 0
        for v, (halo_cells, interior) in pieces.items():
            f = o.shape[v][0]
            if pass_channels is not None and v in self.inside:
                f = pass_channels
            r = min(o.Tc, f) if v in phi else f
            total += f * halo_cells + r * interior
        return total

    # -- §7.5 traffic and MACs ---------------------------------------------------------------------------------

    def recompute_extra(self, qr: int, qc: int) -> tuple[int, int]:
        """(Σ_x reread(x), added MACs) under recompute."""
        o = self.o
        rc, cc = self.counts(qr, 1, False), self.counts(qc, 2)
        reread = sum(o.N * o.shape[x][0] * cc[x].D * rc[x].R * o.w for x in self.ext)
        added = sum(o.N * o.shape[u][0] * cc[u].D * rc[u].R * o.m[u] for u in self.members
                    if not o.is_reduction(u))  # §7.5: reductions accumulate once, never recomputed
        return reread, added

    def passes_allowed(self) -> bool:
        o = self.o
        return len(self.members) == 1 and o.op[self.members[0]] in ("conv", "fc") and o.weights[self.members[0]] > 0

    def halos(self) -> list[str]:
        h = self.o.halo
        return ["cache", "recompute"] if h == "choose" else [h]

    def tile_counts(self) -> Iterator[tuple[int, int]]:
        if self.gated:
            yield (1, 1)
            return
        for qr in range(1, self.maxH + 1):
            for qc in range(1, self.maxW + 1):
                yield (qr, qc)

    def _make(self, qr, qc, halo, P, b, phi, words) -> Optional[OracleTiling]:
        """Feasibility and numbers of one tiling given its footprint words (§7.5, §7.6)."""
        o = self.o
        F = o.w * b * words
        reread, added = self.recompute_extra(qr, qc) if halo == "recompute" else (0, 0)
        if P > 1:
            u = self.members[0]
            k = cdiv(o.shape[u][0], P)
            if F + o.w * k * o.per_out[u] > o.B:
                return None
            resident, wt = True, self.W
        elif F + self.W <= o.B:
            resident, wt = True, self.W
        elif F + self.S <= o.B:
            resident, wt = False, self.W * qr * qc * cdiv(o.N, b)
        else:
            return None
        read = P * (self.ext_bytes + reread) + wt
        return OracleTiling(qr, qc, halo, P, b, phi, resident, F, wt, read, self.esc_bytes,
                            self.own_macs + added, added)

    def tiles_enumerate(self, every_phi: bool = True) -> Iterator[OracleTiling]:
        """Every tiling of §7.1 that fits. With every_phi False, one tiling per (Q_r, Q_c, h, P, b): the least
        footprint over Φ (fewest reduced layers among the least), which is the one §7.7 keeps."""
        o = self.o
        subsets = self.phi_subsets()
        subsets.sort(key=len)
        K = o.shape[self.members[0]][0] if self.passes_allowed() else 1
        for qr, qc in self.tile_counts():
            for halo in self.halos():
                pieces = self.cells(qr, qc, halo)
                for P in range(1, K + 1):
                    k = cdiv(K, P) if P > 1 else None
                    per_phi = [(self.words(pieces, phi, k), phi) for phi in subsets]
                    bs = range(1, o.N + 1) if (qr == qc == 1 and P == 1) else (1,)
                    if not every_phi:
                        least = min(wd for wd, _ in per_phi)
                        per_phi = [next(x for x in per_phi if x[0] == least)]
                    for b in bs:
                        for wd, phi in per_phi:
                            t = self._make(qr, qc, halo, P, b, phi, wd)
                            if t is not None:
                                yield t

    def best_tiles(self) -> Optional[OracleTiling]:
        """§7.7's best tiling, by the same exhaustive loops as :meth:`tiles_enumerate` (every (Q_r, Q_c), halo,
        P, b and every Φ) but without building a record for each: Φ enters only through the footprint, and a
        smaller footprint is never worse (resident beats streamed beats infeasible), so the least footprint over
        every Φ is taken at each (Q_r, Q_c, h, P, b)."""
        o = self.o
        subsets = sorted(self.phi_subsets(), key=len)
        single = self.members[0] if self.passes_allowed() else None
        K = o.shape[single][0] if single is not None else 1
        best_key, best_args = None, None
        w, B, N = o.w, o.B, o.N
        for qr, qc in self.tile_counts():
            for halo in self.halos():
                pieces = self.cells(qr, qc, halo)
                reread, added = self.recompute_extra(qr, qc) if halo == "recompute" else (0, 0)
                macs = self.own_macs + added
                least, phi0 = min(((self.words(pieces, phi), phi) for phi in subsets), key=lambda x: x[0])
                for b in (range(1, N + 1) if qr == qc == 1 else (1,)):
                    F = w * b * least
                    if F + self.W <= B:
                        wt = self.W
                    elif F + self.S <= B:
                        wt = self.W * qr * qc * cdiv(N, b)
                    else:
                        continue
                    key = (self.ext_bytes + reread + wt + self.esc_bytes, macs, qr * qc, qr,
                           0 if halo == "cache" else 1, 1, b)
                    if best_key is None or key < best_key:
                        best_key, best_args = key, (qr, qc, halo, 1, b, phi0, least)
                if single is None:
                    continue
                hc_u, it_u = pieces[single]
                rest = sum(o.shape[v][0] * (hc + it) for v, (hc, it) in pieces.items() if v != single)
                for P in range(2, K + 1):
                    k = cdiv(K, P)
                    words = min(rest + k * hc_u + (min(o.Tc, k) if single in phi else k) * it_u
                                for phi in subsets)
                    if w * words + w * k * o.per_out[single] > B:
                        continue
                    key = (P * (self.ext_bytes + reread) + self.W + self.esc_bytes, macs, qr * qc, qr,
                           0 if halo == "cache" else 1, P, 1)
                    if best_key is None or key < best_key:
                        best_key, best_args = key, (qr, qc, halo, P, 1, None, None)
        if best_args is None:
            return None
        qr, qc, halo, P, b, phi, wd = best_args
        pieces = self.cells(qr, qc, halo)
        if P > 1:
            k = cdiv(K, P)
            wd, phi = min(((self.words(pieces, ph, k), ph) for ph in subsets), key=lambda x: x[0])
        t = self._make(qr, qc, halo, P, b, phi, wd)
        assert t is not None and t.key == best_key, (t, best_key)
        return t

    def least_buffer_tiles(self) -> int:
        """The least buffer at which the group has any tiling under tiles: the least over every (Q_r, Q_c, h, Φ)
        at b = 1 of F + S_G (streamed; resident needs more), and for a single conv or fc of F + w·k·(weights per
        output channel) over every P."""
        o = self.o
        subsets = self.phi_subsets()
        single = self.members[0] if self.passes_allowed() else None
        K = o.shape[single][0] if single is not None else 1
        least = None
        for qr, qc in self.tile_counts():
            for halo in self.halos():
                pieces = self.cells(qr, qc, halo)
                need = o.w * min(self.words(pieces, phi) for phi in subsets) + self.S
                for P in range(2, K + 1):
                    k = cdiv(K, P)
                    need = min(need, o.w * min(self.words(pieces, phi, k) for phi in subsets)
                               + o.w * k * o.per_out[single])
                least = need if least is None else min(least, need)
        return least

    # -- version 2: strips (§4, §5) ----------------------------------------------------------------------------

    def strip_rows(self, q: int) -> dict[int, int]:
        """R(v) for every tensor of G ∪ ext(G) at Q strips (§4)."""
        o, g = self.o, self.inside
        R: dict[int, int] = {}

        def need(c: int, u: int) -> int:
            l = o.layers[c]
            hu = o.shape[u][1]
            if o.is_reduction(c):
                n = cdiv(hu, q)
            elif l.op in ("conv", "pool"):
                dil = l.dilation[0] if l.op == "conv" else 1
                n = (R[c] - 1) * l.stride[0] + (l.kernel[0] - 1) * dil + 1
            elif l.op in ("add", "mul"):
                n = R[c]
            elif l.op == "upsample":
                n = cdiv(R[c] - 1, l.scale) + 1
            else:
                raise AssertionError(l.op)
            return min(n, hu)

        for u in reversed(self.members):
            hu = o.shape[u][1]
            rows = cdiv(hu, q) if u in self.esc else 0
            for c in o.cons[u]:
                if c in g:
                    rows = max(rows, need(c, u))
            R[u] = min(rows, hu)
        for x in self.ext:
            R[x] = max(need(c, x) for c in o.cons[x] if c in g)
        return R

    def strips_enumerate(self, every_phi: bool = True) -> Iterator[OracleTiling]:
        o = self.o
        subsets = sorted(self.phi_subsets(), key=len)
        qs = [1] if self.gated else range(1, self.maxH + 1)
        for q in qs:
            R = self.strip_rows(q)
            per_phi = []
            for phi in subsets:
                wd = sum((min(o.Tc, o.shape[v][0]) if v in phi else o.shape[v][0]) * R[v] * o.shape[v][2]
                         for v in self.tensors)
                per_phi.append((wd, phi))
            if not every_phi:
                least = min(wd for wd, _ in per_phi)
                per_phi = [next(x for x in per_phi if x[0] == least)]
            for b in (range(1, o.N + 1) if q == 1 else (1,)):
                for wd, phi in per_phi:
                    F = o.w * b * wd
                    if F + self.W <= o.B:
                        resident, wt = True, self.W
                    elif F + self.S <= o.B:
                        resident, wt = False, self.W * q * cdiv(o.N, b)
                    else:
                        continue
                    yield OracleTiling(q, 1, None, 1, b, phi, resident, F, wt, self.ext_bytes + wt,
                                       self.esc_bytes, self.own_macs, 0)


# -- the public functions -----------------------------------------------------------------------------------

_ORACLES: dict = {}


def oracle(inst, **kw) -> Oracle:
    key = (id(inst), tuple(sorted(kw.items())))
    hit = _ORACLES.get(key)
    if hit is None or hit.inst is not inst:
        hit = Oracle(inst, **kw)
        if len(_ORACLES) > 64:
            _ORACLES.clear()
        _ORACLES[key] = hit
    return hit


def group_tilings(inst, members: Iterable[int], *, every_phi: bool = True, **kw) -> Iterator[OracleTiling]:
    """Every feasible tiling of the group under the instance's ``tiling`` (a generator; can be long)."""
    o = oracle(inst, **kw)
    g = o.group(members)
    if o.mode == "tiles":
        return g.tiles_enumerate(every_phi)
    return g.strips_enumerate(every_phi)


def _strips_key(t: OracleTiling) -> tuple:
    """§5: least cost, ties to fewer strips; then (the page's recipe) b = 1 when resident, the largest b when
    streamed."""
    return (t.cost, t.tile_rows, t.batch_block if t.resident else -t.batch_block)


def best_tiling(inst, members: Iterable[int], **kw) -> Optional[OracleTiling]:
    """The best tiling of a group: §7.7's order under tiles, §5's under strips; None if none is feasible. Its
    footprint is the least over Φ at the chosen (Q_r, Q_c, h, P, b). Does not check that the group is valid."""
    o = oracle(inst, **kw)
    if o.mode == "tiles":
        return o.group(members).best_tiles()
    best = None
    tiles = False
    for t in group_tilings(inst, members, every_phi=False, **kw):
        k = t.key if tiles else _strips_key(t)
        if best is None or k < best[0]:
            best = (k, t)
    return None if best is None else best[1]


def least_buffer(inst, members: Iterable[int], **kw) -> int:
    """The least buffer at which the group has a feasible tiling (under tiles; §4's Q = 1..max H under strips)."""
    o = oracle(inst, **kw)
    g = o.group(members)
    if o.mode == "tiles":
        return g.least_buffer_tiles()
    least = None
    for q in ([1] if g.gated else range(1, g.maxH + 1)):
        R = g.strip_rows(q)
        wd = min(sum((min(o.Tc, o.shape[v][0]) if v in phi else o.shape[v][0]) * R[v] * o.shape[v][2]
                     for v in g.tensors) for phi in g.phi_subsets())
        least = o.w * wd + g.S if least is None else min(least, o.w * wd + g.S)
    return least


def tiling_of(inst, members: Iterable[int], tile_rows: int, tile_cols: int = 1, batch_block: int = 1,
              reduced: Iterable[int] = (), halo: Optional[str] = None, passes: int = 1,
              **kw) -> Optional[OracleTiling]:
    """The numbers of one given tiling, or None when a rule of §7.1 (§4 under strips) refuses it or it does not
    fit the buffer. Under tiles ``halo`` None means the accelerator's fixed mode, or cache under ``choose``."""
    o = oracle(inst, **kw)
    g = o.group(members)
    phi = frozenset(reduced)
    if not g.phi_allowed(phi):
        return None
    b, P = batch_block, passes
    if not 1 <= b <= o.N:
        return None
    if o.mode != "tiles":
        if tile_cols != 1 or halo is not None or P != 1:
            return None
        if not 1 <= tile_rows <= g.maxH or (b > 1 and tile_rows > 1) or (g.gated and tile_rows > 1):
            return None
        return next((t for t in g.strips_enumerate() if t.tile_rows == tile_rows and t.batch_block == b
                     and t.reduced == phi), None)
    if halo is None:
        halo = "cache" if o.halo == "choose" else o.halo
    if halo not in g.halos():
        return None
    qr, qc = tile_rows, tile_cols
    if not (1 <= qr <= g.maxH and 1 <= qc <= g.maxW):
        return None
    if b > 1 and (qr, qc) != (1, 1):
        return None
    if g.gated and (qr, qc) != (1, 1):
        return None
    if P > 1:
        if not g.passes_allowed() or P > o.shape[g.members[0]][0] or b > 1:
            return None
    elif P < 1:
        return None
    pieces = g.cells(qr, qc, halo)
    k = cdiv(o.shape[g.members[0]][0], P) if P > 1 else None
    return g._make(qr, qc, halo, P, b, phi, g.words(pieces, phi, k))


# -- schedules: a brute force over set partitions ------------------------------------------------------------

def convex_connected_groups(inst, max_size: Optional[int] = None, **kw) -> list[frozenset]:
    """Every convex, connected group of layers (of at most ``max_size`` layers), by plain enumeration of subsets
    grown from each layer."""
    o = oracle(inst, **kw)
    layers = o.layer_ids
    limit = len(layers) if max_size is None else max_size
    found: set[frozenset] = set()
    # connected sets grown one neighbour at a time (neighbour: edge, or a shared outside tensor), then filtered
    def neighbours(u):
        ns = set(p for p in o.prod[u] if p in layers) | set(o.cons[u])
        for p in o.prod[u]:
            ns |= set(o.cons[p])
        ns.discard(u)
        return ns

    frontier = {frozenset([u]) for u in layers}
    size = 1
    while frontier and size <= limit:
        found |= frontier
        nxt = set()
        if size < limit:
            for s in frontier:
                for u in s:
                    for v in neighbours(u):
                        if v not in s and v in layers:
                            nxt.add(s | {v})
        frontier = nxt
        size += 1
    return sorted((g for g in found if o.valid_group(g)), key=lambda g: (len(g), sorted(g)))


def brute_force(inst, cost_of=None, **kw) -> tuple[Optional[int], list[frozenset], dict]:
    """The least DRAM bytes over every set partition of the layers into convex, connected groups that admit an
    order (the quotient graph is acyclic) and each have a feasible tiling; with one optimal schedule and the
    oracle's best tiling of each of its groups. ``cost_of(group)`` may replace the oracle's best tiling."""
    o = oracle(inst, **kw)
    layers = o.layer_ids
    memo: dict[frozenset, Optional[OracleTiling]] = {}

    def tile(block: frozenset):
        if block not in memo:
            memo[block] = (best_tiling(inst, block, **kw) if cost_of is None else cost_of(block)) \
                if o.valid_group(block) else None
        return memo[block]

    best: list = [None, None]

    def acyclic(blocks: list[frozenset]) -> bool:
        owner = {u: k for k, b in enumerate(blocks) for u in b}
        succ = {k: set() for k in range(len(blocks))}
        for u in owner:
            for c in o.cons[u]:
                if c in owner and owner[c] != owner[u]:
                    succ[owner[u]].add(owner[c])
        state = [0] * len(blocks)

        def dfs(k):
            state[k] = 1
            for j in succ[k]:
                if state[j] == 1 or (state[j] == 0 and not dfs(j)):
                    return False
            state[k] = 2
            return True

        return all(state[k] or dfs(k) for k in range(len(blocks)))

    def rec_leaf(i: int, blocks: list[set]) -> None:
        if i == len(layers):
            frozen = [frozenset(b) for b in blocks]
            ts = [tile(b) for b in frozen]
            if any(t is None for t in ts):
                return
            total = sum(t.cost for t in ts)
            if (best[0] is None or total < best[0]) and acyclic(frozen):
                best[0], best[1] = total, frozen
            return
        u = layers[i]
        for b in blocks:
            b.add(u)
            rec_leaf(i + 1, blocks)
            b.remove(u)
        blocks.append({u})
        rec_leaf(i + 1, blocks)
        blocks.pop()

    rec_leaf(0, [])
    if best[0] is None:
        return None, [], {}
    groups = sorted(best[1], key=min)
    return best[0], groups, {g: memo[g] for g in groups}
