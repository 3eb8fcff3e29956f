"""A segment-bound window's pieces and their local costs, compiled: the same pieces, in the same order, as the
candidate space over the window (:class:`~optimus_opt.cost.candidates.CandidateSpace`), and the same costs as
:class:`~optimus_opt.solvers.segment_bound._LocalCost`, for a whole window at once (formulations/segment-bound.md,
"Merged cores", *Compiled pieces and costs*).

In Python a piece took 13–15 µs to list and 30–45 µs to price, in many small steps (listing bits, building a
group's shape, looking its footprint up at a few strip counts), and NASNet-A Mobile's windows of whole cells have
millions of pieces. :class:`WindowPieces` grows them here over the window's positions (one 64-bit word, at most
:data:`~.downset_graph.WORD_LAYERS` layers), with the footprint floor's rows and pyramid. :class:`WindowCosts`
prices them with every set as 64-bit words over the node ids (the hulls of the tensors crossing the window's edge
reach beyond it): the loads and stores, the fewest weight reloads of any group containing the piece (footprints
at the few strip counts that decide them, Φ as a heaviest independent set of the reducible convolutions, component
by component) and what the crossing tensors add. It keeps none of the Python cost's caches, whose entries are
functions of the sets alone, so the costs are the same. Only the ``strips`` model is compiled, and a component of
Φ's conflicts larger than :data:`MOST_REDUCIBLE` leaves the window to the Python cost (:meth:`WindowCosts.costs`
returns None); ``tests/test_compiled_window.py`` checks both against their Python oracles.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass

import numpy as np

from ..cost.candidates import CandidateSpace
from ..cost.cost_model import CostModel, bits
from ..cost.parts import PASS, REDUCE, WINDOW
from ..cost.tile_counts import bitset_words
from .downset_graph import WORD_LAYERS

try:  # numba compiles the loops; without it they run as plain Python
    from numba import njit, objmode
except ImportError:  # pragma: no cover - exercised only where numba is missing
    def njit(*args, **kwargs):
        return (lambda f: f) if not args or not callable(args[0]) else args[0]

    def objmode(**kwargs):
        return contextlib.nullcontext()

#: The most reducible convolutions a group's Φ is solved over here: a 63-bit word of them.
MOST_REDUCIBLE = 63
#: What a piece that no group containing fits costs in the returned array.
NO_FIT = -1
#: The stores item 4 lets a piece keep that the coupling may price, at most (formulations/segment-bound.md, "Kept
#: stores"): each piece's cost is kept for every subset of them paid, 2^KEPT_SLOTS numbers.
KEPT_SLOTS = 3
#: Pieces a window's enumeration finds between two looks at the clock.
CLOCK_PIECES = 1 << 16
#: Bits of a window-local piece per word where a window is wider than a word (positive signed 64-bit words).
PIECE_BITS = 62

_DEBRUIJN = 0x03F79D71B4CB0A89
_DEBRUIJN_TABLE = np.zeros(64, dtype=np.int64)
for _i in range(64):
    _DEBRUIJN_TABLE[((_DEBRUIJN << _i) & (2 ** 64 - 1)) >> 58] = _i


@njit(cache=True)
def _index(low, table):
    """The position of the single set bit of ``low`` (an int64 word, the sign bit included)."""
    return table[((low * 0x03F79D71B4CB0A89) >> 58) & 63]


@njit(cache=True)
def _ids(mask, table, out):
    """The ids of a bitset (words) into ``out``, ascending; their number."""
    count = 0
    for w in range(mask.shape[0]):
        word = mask[w]
        while word != 0:
            low = word & -word
            out[count] = w * 64 + _index(low, table)
            count += 1
            word ^= low
    return count


@njit(cache=True)
def _has(mask, u):
    """1 when node u is in the bitset (words), else 0."""
    return (mask[u >> 6] >> (u & 63)) & 1


@njit(cache=True)
def _meets(a, b):
    """Whether two bitsets (words) share a node."""
    for w in range(a.shape[0]):
        if a[w] & b[w]:
            return True
    return False


@njit(cache=True)
def _need(kind, stride, span, scale, rc, h, q):
    """The rows a reader needs of a tensor of height h when it keeps ``rc`` rows, at Q = q (unclipped)."""
    if kind == WINDOW:
        return (rc - 1) * stride + span
    if kind == REDUCE:
        return -(-h // q)
    if kind == PASS:
        return rc
    return (rc + scale - 2) // scale + 1


@njit(cache=True)
def _mwis(mask, adj, weight):
    """The largest weight of an independent set among the nodes of ``mask`` (one int64 word, at most 63 nodes)
    of the graph ``adj``: component by component, a tree by its dynamic program, else branching on a node of the
    largest degree."""
    if mask == 0:
        return 0
    low = mask & -mask
    comp = low
    frontier = low
    while frontier != 0:
        b = frontier & -frontier
        frontier ^= b
        i = 0
        while (b >> i) & 1 == 0:
            i += 1
        new = adj[i] & mask & ~comp
        comp |= new
        frontier |= new
    rest = mask & ~comp
    if rest != 0:
        return _mwis(comp, adj, weight) + _mwis(rest, adj, weight)
    nodes = 0
    edges = 0
    best_degree = -1
    v = -1
    for i in range(63):
        if (comp >> i) & 1:
            nodes += 1
            d = 0
            m = adj[i] & comp
            while m != 0:
                m &= m - 1
                d += 1
            edges += d
            if d > best_degree:
                best_degree, v = d, i
    edges //= 2
    if edges == nodes - 1:  # a tree: with and without each node, leaves first
        order = np.empty(nodes, dtype=np.int64)
        parent = np.full(63, -1, dtype=np.int64)
        root = 0
        while (comp >> root) & 1 == 0:
            root += 1
        order[0] = root
        seen = np.int64(1) << root
        count = 1
        k = 0
        while k < count:
            u = order[k]
            k += 1
            m = adj[u] & comp & ~seen
            for j in range(63):
                if (m >> j) & 1:
                    parent[j] = u
                    order[count] = j
                    count += 1
                    seen |= np.int64(1) << j
        inc = np.zeros(63, dtype=np.int64)
        exc = np.zeros(63, dtype=np.int64)
        for k in range(count - 1, -1, -1):
            u = order[k]
            inc[u] += weight[u]
            p = parent[u]
            if p >= 0:
                inc[p] += exc[u]
                exc[p] += max(inc[u], exc[u])
        return max(inc[root], exc[root])
    bit = np.int64(1) << v
    without = _mwis(comp & ~bit, adj, weight)
    with_v = weight[v] + _mwis(comp & ~bit & ~adj[v], adj, weight)
    return max(without, with_v)


@njit(cache=True)
def _shape(group, out, g):
    """Gather what a group's footprint needs into the scratch of ``g`` (:func:`_footprint`): its members in reverse
    topological order, whether each keeps all its rows (a network output or a reader in ``out``) and whether it
    has readers neither in the group nor in ``out``, its inputs and their channels, its weights and largest
    weight block, and the conflict graph of its reducible convolutions. Returns False when these are more than
    :data:`MOST_REDUCIBLE`."""
    table, cons_off, cons, readers, reads, unit, unit_min, saving = g[0], g[1], g[2], g[3], g[4], g[6], g[7], g[8]
    wbytes, blocks, is_output, netin, members, flags, inputs, input_unit = g[9], g[10], g[11], g[12], g[18], g[19], \
        g[20], g[21]
    counts, reads_acc, sav_members, scratch = g[22], g[23], g[24], g[28]
    n_members = _ids(group, table, scratch)
    reads_acc[:] = 0
    weights = 0
    block = 0
    n_sav = 0
    for k in range(n_members):
        u = scratch[n_members - 1 - k]
        members[k] = u
        for w in range(reads_acc.shape[0]):
            reads_acc[w] |= reads[u, w]
        weights += wbytes[u]
        if blocks[u] > block:
            block = blocks[u]
        local_out = is_output[u] or _meets(readers[u], out)
        far = False
        for e in range(cons_off[u], cons_off[u + 1]):
            c = cons[e]
            if not _has(group, c) and not _has(out, c):
                far = True
        flags[k] = (1 if local_out else 0) | (2 if far else 0)
        if saving[u] != 0:
            sav_members[n_sav] = k
            n_sav += 1
    if not _conflicts(n_sav, g):
        return False
    for w in range(reads_acc.shape[0]):
        reads_acc[w] &= ~group[w]
    n_inputs = _ids(reads_acc, table, inputs)
    for k in range(n_inputs):
        x = inputs[k]
        input_unit[k] = unit[x] if netin[x] or _has(out, x) else unit_min[x]
    counts[0], counts[1], counts[2], counts[3], counts[4] = n_members, n_inputs, n_sav, weights, block
    return True


@njit(cache=True)
def _neighbours(j, g, found):
    """The positions, among the group's reducible convolutions, of those that read the one at position ``j`` or
    that it reads, into ``found``; their number."""
    table, cons_off, cons, reads, members, sav_members, where = g[0], g[1], g[2], g[4], g[18], g[24], g[32]
    u = members[sav_members[j]]
    count = 0
    for e in range(cons_off[u], cons_off[u + 1]):
        k = where[cons[e]]
        if k >= 0 and k != j:
            found[count] = k
            count += 1
    producers = _ids(reads[u], table, g[28])
    for i in range(producers):
        k = where[g[28][i]]
        if k >= 0 and k != j:
            found[count] = k
            count += 1
    return count


@njit(cache=True)
def _conflicts(n_sav, g):
    """The conflict graph of Φ over the group's ``n_sav`` reducible convolutions (two conflict when one reads the
    other), split into its components, each a word of at most :data:`MOST_REDUCIBLE` nodes: ``comp_list`` holds
    their positions among them component by component (component c from ``comp_start[c]``), ``comp_adj`` each
    one's neighbours as a bitset of positions within its component. False when a component is larger."""
    members, counts, sav_members = g[18], g[22], g[24]
    comp_start, comp_list, where, comp_adj, local, found = g[30], g[31], g[32], g[25], g[34], g[35]
    for i in range(n_sav):
        where[members[sav_members[i]]] = i
        local[i] = -1
    placed = 0
    n_comps = 0
    fits = True
    for i in range(n_sav):
        if local[i] >= 0:
            continue
        comp_start[n_comps] = placed
        local[i] = 0
        comp_list[placed] = i
        head, placed = placed, placed + 1
        while head < placed and fits:
            count = _neighbours(comp_list[head], g, found)
            head += 1
            for f in range(count):
                k = found[f]
                if local[k] < 0:
                    if placed - comp_start[n_comps] == MOST_REDUCIBLE:
                        fits = False
                        break
                    local[k] = placed - comp_start[n_comps]
                    comp_list[placed] = k
                    placed += 1
        n_comps += 1
        if not fits:
            break
    comp_start[n_comps] = placed
    if fits:
        for p in range(placed):
            j = comp_list[p]
            comp_adj[p] = 0
            count = _neighbours(j, g, found)
            for f in range(count):
                comp_adj[p] |= np.int64(1) << local[found[f]]
    for i in range(n_sav):
        where[members[sav_members[i]]] = -1
    counts[5] = n_comps
    return fits


@njit(cache=True)
def _footprint(q, group, out, g):
    """Words per sample of the shaped group (:func:`_shape`) at Q = q, with every convolution at full channels;
    what reducing each reducible one would save there goes to ``sav_weight``."""
    cons_off, cons, height, unit, saving, kind, stride, span, scale = g[1], g[2], g[5], g[6], g[8], g[13], g[14], \
        g[15], g[16]
    need_uc, members, flags, inputs, input_unit, counts, sav_members, sav_weight, rows = g[17], g[18], g[19], g[20], \
        g[21], g[22], g[24], g[26], g[27]
    n_members, n_inputs, n_sav = counts[0], counts[1], counts[2]
    words = 0
    for k in range(n_members):
        u = members[k]
        h = height[u]
        r = 0
        for e in range(cons_off[u], cons_off[u + 1]):
            c = cons[e]
            if _has(group, c):
                need = _need(kind[c], stride[c], span[c], scale[c], rows[c], h, q)
                if need > r:
                    r = need
        if r > h:
            r = h
        top = -(-h // q)
        if flags[k] & 1 and top > r:
            r = top
        if flags[k] & 2:
            beyond = top
            for e in range(cons_off[u], cons_off[u + 1]):
                c = cons[e]
                if not _has(group, c) and not _has(out, c) and need_uc[e, q - 1] < beyond:
                    beyond = need_uc[e, q - 1]
            if beyond > r:
                r = beyond
        rows[u] = r
        words += unit[u] * r
    for i in range(n_sav):
        u = members[sav_members[i]]
        sav_weight[i] = saving[u] * rows[u]
    for k in range(n_inputs):  # the members' loop again, written out: a helper called here cost 50 % of the time
        x = inputs[k]
        h = height[x]
        r = 0
        for e in range(cons_off[x], cons_off[x + 1]):
            c = cons[e]
            if _has(group, c):
                need = _need(kind[c], stride[c], span[c], scale[c], rows[c], h, q)
                if need > r:
                    r = need
        if r > h:
            r = h
        words += input_unit[k] * r
    return words


@njit(cache=True)
def _largest_saving(g):
    """Φ's most words saved at the strip count last footprinted: the heaviest independent set of conflicts."""
    sav_weight, comp_start, comp_list, comp_adj, weight = g[26], g[30], g[31], g[25], g[33]
    total = 0
    for c in range(g[22][5]):
        start, size = comp_start[c], comp_start[c + 1] - comp_start[c]
        for p in range(size):
            weight[p] = sav_weight[comp_list[start + p]]
        total += _mwis((np.int64(1) << size) - 1, comp_adj[start:start + size], weight)
    return total


@njit(cache=True)
def _fits(words, extra, g, word, buffer):
    """Whether the footprint last computed (``words`` and the savings), with Φ at its best, plus ``extra`` bytes
    fits the buffer."""
    n_sav = g[22][2]
    sav_weight = g[26]
    room = buffer - extra
    if word * words <= room:
        return True
    if n_sav == 0:
        return False
    total = 0
    most = sav_weight[0]
    for i in range(n_sav):
        total += sav_weight[i]
        if sav_weight[i] > most:
            most = sav_weight[i]
    if word * (words - total) > room:
        return False
    if word * (words - most) <= room:
        return True
    return word * (words - _largest_saving(g)) <= room


@njit(cache=True)
def _fits_at(q, extra, group, out, g, word, buffer):
    """Whether the shaped group fits the buffer at Q = q beside ``extra`` bytes (:func:`_fits` of its footprint)."""
    return _fits(_footprint(q, group, out, g), extra, g, word, buffer)


@njit(cache=True)
def _fewest_reloads(group, out, cap, g, word, buffer, batch, top):
    """How often, at least, weights cross DRAM in a group holding ``group`` and none of ``out`` (its shape
    gathered), or ``cap`` when that is ``cap`` or more (``cap`` < 0: no cap); :data:`NO_FIT` if no tiling fits
    (as :meth:`~optimus_opt.solvers.segment_bound._LocalCost._fewest_reloads`)."""
    counts, state = g[22], g[29]
    weights, block = counts[3], counts[4]
    words = _footprint(top, group, out, g)  # rows only shrink as Q grows
    if not _fits(words, block, g, word, buffer):
        return NO_FIT
    if _fits(words, weights, g, word, buffer):
        return 1  # resident at some Q
    words = _footprint(1, group, out, g)
    if _fits(words, block, g, word, buffer):  # one strip, the largest batch block that fits
        one = word * (words - (_largest_saving(g) if counts[2] else 0))
        largest = (buffer - block) // one
        if largest > batch:
            largest = batch
        return -(-batch // largest)
    lo, hi = 2, top
    if cap >= 0:
        last = (cap - 1) // batch
        if last < 2 or last < top and not _fits_at(last, block, group, out, g, word, buffer):
            return cap
        if last < hi:
            hi = last
    # the fewest strips that fit in [lo, hi], fitting at hi: from the last answer, steps doubling away from it
    q = min(max(state[0], lo), hi)
    step = 1
    if _fits_at(q, block, group, out, g, word, buffer):
        hi = q
        while hi - step >= lo and _fits_at(hi - step, block, group, out, g, word, buffer):
            hi -= step
            step *= 2
        lo = max(lo, hi - step + 1)
    else:
        lo = q + 1
        while lo + step - 1 < hi:
            if _fits_at(lo + step - 1, block, group, out, g, word, buffer):
                hi = lo + step - 1
                break
            lo += step
            step *= 2
    while lo < hi:
        mid = (lo + hi) // 2
        if _fits_at(mid, block, group, out, g, word, buffer):
            hi = mid
        else:
            lo = mid + 1
    state[0] = lo
    return lo * batch


@njit(cache=True)
def _designated(x, piece, core, window, ord_off, ord_list):
    """Whether the load of x by a group whose piece is ``piece`` is this core's to charge (the piece's first reader
    of x in the window order is in the core, and every reader before it in the window)."""
    inside = True
    for k in range(ord_off[x], ord_off[x + 1]):
        c = ord_list[k]
        if _has(piece, c):
            return inside and _has(core, c) == 1
        if not _has(window, c):
            inside = False
    return False


@njit(cache=True)
def _least_kept(kept_k, kept_size, n_kept, forced, reloads, charged):
    """Item 4's least charge over the sets F of kept tensors (:meth:`_LocalCost._fuse_or_pay`), the tensors flagged
    in ``forced`` paid: F empty, or each reload count as F's largest."""
    best = 0
    for i in range(n_kept):
        best += kept_size[i]
    for i in range(n_kept):
        if forced[i]:
            continue
        s = 0
        for j in range(n_kept):
            if forced[j] or kept_k[j] > kept_k[i]:
                s += kept_size[j]
        more = kept_k[i] - reloads
        s += charged * (more if more > 0 else 0)
        if s < best:
            best = s
    return best


@njit(cache=True)
def _costs(pieces, layers, core, window, g, adj, desc, anc, tbytes, ord_off, ord_list, word, buffer, batch, top,
           costs, kept_tensors, kept_extra, floor, charges):
    """The local cost of every piece (window-local bitsets over ``layers``, one row of :data:`PIECE_BITS`-bit words
    per piece) into ``costs`` (:data:`NO_FIT` where no group containing it fits); False when a group had too many
    reducible convolutions. For each piece, too, the first :data:`KEPT_SLOTS` stores that item 4 lets it keep (layer
    ids into ``kept_tensors``, −1 where there are fewer) and what its cost rises by with each subset of them paid
    (``kept_extra``, column K for the subset whose slot s is bit s of K): formulations/segment-bound.md, "Kept
    stores". With ``floor`` above 1, ``costs`` gets instead each piece's *reload rise*: what its core's weights
    add to its cost, whatever crossing tensors its group keeps, when the group's weights are known to cross DRAM at
    least ``floor`` times ("Reload cuts"). ``charges`` gets each piece's core weights, the w of its rises (0 where
    it meets no core layer or no group holding it fits)."""
    table, readers, reads, is_output, netin, wbytes = g[0], g[3], g[4], g[11], g[12], g[9]
    K = core.shape[0]
    piece = np.zeros(K, dtype=np.int64)
    out = np.zeros(K, dtype=np.int64)
    near = np.zeros(K, dtype=np.int64)
    rd = np.zeros(K, dtype=np.int64)
    tmp = np.zeros(K, dtype=np.int64)
    d_all = np.zeros(K, dtype=np.int64)
    a_all = np.zeros(K, dtype=np.int64)
    hull = np.zeros(K, dtype=np.int64)
    ids = np.empty(64 * K, dtype=np.int64)
    stores = np.empty(64 * K, dtype=np.int64)
    cross_size = np.empty(64 * K, dtype=np.int64)
    cross_req = np.zeros((64 * K, K), dtype=np.int64)
    kept_k = np.empty(64 * K, dtype=np.int64)
    kept_size = np.empty(64 * K, dtype=np.int64)
    kept_slot = np.empty(64 * K, dtype=np.int64)  # each kept tensor's slot, −1 if it has none
    forced = np.zeros(64 * K, dtype=np.bool_)
    m = layers.shape[0]
    for p in range(pieces.shape[0]):
        kept_tensors[p, :] = -1
        kept_extra[p, :] = 0
        charges[p] = 0
        piece[:] = 0
        for i in range(m):
            if (pieces[p, i // PIECE_BITS] >> (i % PIECE_BITS)) & 1:
                u = layers[i]
                piece[u >> 6] |= np.int64(1) << (u & 63)
        if not _meets(piece, core):
            costs[p] = 0
            continue
        near[:] = 0
        rd[:] = 0
        n_members = _ids(piece, table, ids)
        for k in range(n_members):
            u = ids[k]
            for w in range(K):
                near[w] |= adj[u, w]
                rd[w] |= reads[u, w]
        for w in range(K):
            out[w] = near[w] & window[w] & ~piece[w]
        traffic = 0
        charged = 0
        n_stores = 0
        for k in range(n_members):
            u = ids[k]
            if not _has(core, u):
                continue
            charged += wbytes[u]
            if is_output[u] or _meets(readers[u], out):
                traffic += tbytes[u]
            else:
                for w in range(K):
                    if readers[u, w] & ~window[w]:
                        stores[n_stores] = u
                        n_stores += 1
                        break
        for w in range(K):  # the loads of tensors from the window's layers outside the group
            tmp[w] = rd[w] & ~piece[w] & out[w]
        n_loads = _ids(tmp, table, ids[n_members:])
        for k in range(n_loads):
            x = ids[n_members + k]
            if _designated(x, piece, core, window, ord_off, ord_list):
                traffic += tbytes[x]
        for w in range(K):  # and of network inputs
            tmp[w] = rd[w] & ~piece[w] & ~out[w]
        n_loads = _ids(tmp, table, ids[n_members:])
        for k in range(n_loads):
            x = ids[n_members + k]
            if netin[x] and _designated(x, piece, core, window, ord_off, ord_list):
                traffic += tbytes[x]
        if not _shape(piece, out, g):
            return False
        reloads = _fewest_reloads(piece, out, -1, g, word, buffer, batch, top)
        if reloads == NO_FIT:
            costs[p] = NO_FIT
            continue
        # the tensors crossing the window's edge: kept with the hull of their layers, or paid
        n_cross = 0
        total = 0
        for k in range(n_stores):
            u = stores[k]
            cross_size[n_cross] = tbytes[u]
            cross_req[n_cross, :] = readers[u]
            total += tbytes[u]
            n_cross += 1
        for w in range(K):
            tmp[w] = rd[w] & ~window[w]
        n_loads = _ids(tmp, table, ids[n_members:])
        for k in range(n_loads):
            x = ids[n_members + k]
            if not netin[x] and _designated(x, piece, core, window, ord_off, ord_list):
                cross_size[n_cross] = tbytes[x]
                cross_req[n_cross, :] = 0
                cross_req[n_cross, x >> 6] = np.int64(1) << (x & 63)
                total += tbytes[x]
                n_cross += 1
        extra = 0
        n_slots = 0
        most = reloads  # the most reloads any choice of kept tensors leads to (each k_X at least `cap` counts as cap)
        if n_cross:
            cap = reloads + (-(-total // charged) if charged else 1)
            if cap < floor:
                cap = floor
            d_all[:] = 0
            a_all[:] = 0
            for k in range(n_members):
                u = ids[k]
                for w in range(K):
                    d_all[w] |= desc[u, w]
                    a_all[w] |= anc[u, w]
            paid = 0
            n_kept = 0
            for j in range(n_cross):
                near[:] = 0  # the required layers' descendants and ancestors
                rd[:] = 0
                n_req = _ids(cross_req[j], table, ids[n_members:])
                for k in range(n_req):
                    u = ids[n_members + k]
                    for w in range(K):
                        near[w] |= desc[u, w]
                        rd[w] |= anc[u, w]
                for w in range(K):
                    hull[w] = piece[w] | cross_req[j, w] | ((near[w] | d_all[w]) & (rd[w] | a_all[w]))
                if _meets(hull, out):
                    k_hull = NO_FIT
                else:
                    if not _shape(hull, out, g):
                        return False
                    k_hull = _fewest_reloads(hull, out, cap, g, word, buffer, batch, top)
                if k_hull == NO_FIT:
                    paid += cross_size[j]
                else:
                    kept_k[n_kept] = k_hull if k_hull < cap else cap
                    if kept_k[n_kept] > most:
                        most = kept_k[n_kept]
                    kept_size[n_kept] = cross_size[j]
                    kept_slot[n_kept] = -1
                    forced[n_kept] = False
                    if j < n_stores and n_slots < KEPT_SLOTS:
                        kept_tensors[p, n_slots] = stores[j]
                        kept_slot[n_kept] = n_slots
                        n_slots += 1
                    n_kept += 1
            best = _least_kept(kept_k, kept_size, n_kept, forced, reloads, charged)
            for subset in range(1, 1 << n_slots):
                for i in range(n_kept):
                    forced[i] = kept_slot[i] >= 0 and (subset >> kept_slot[i]) & 1 == 1
                kept_extra[p, subset] = _least_kept(kept_k, kept_size, n_kept, forced, reloads, charged) - best
            for subset in range(1 << n_slots, 1 << KEPT_SLOTS):  # a slot without a tensor pays nothing
                kept_extra[p, subset] = kept_extra[p, subset & ((1 << n_slots) - 1)]
            extra = paid + best
        charges[p] = charged
        if floor > 1:
            costs[p] = charged * (floor - most) if most < floor else 0
        else:
            costs[p] = traffic + extra + charged * reloads
    return True


def _words(mask: int, n: int) -> np.ndarray:
    """A bitset over n nodes as little-endian 64-bit words, signed (the compiled loops' type)."""
    return bitset_words(mask, n).view(np.int64).copy()


@dataclass(frozen=True)
class WindowCosts:
    """The compiled local cost of a cost model's windows over one window order: the network as arrays, built
    once (``least``: each node's fewest rows at each strip count, ``ordered``: each tensor's readers in the
    window order, as the Python local cost takes them)."""

    arrays: tuple
    adj: np.ndarray
    desc: np.ndarray
    anc: np.ndarray
    tbytes: np.ndarray
    ord_off: np.ndarray
    ord_list: np.ndarray
    word: int
    buffer: int
    batch: int
    top: int
    n: int

    @classmethod
    def of(cls, cm: CostModel, reach, least: list[np.ndarray], qs: np.ndarray,
           ordered: list[list[int]]) -> "WindowCosts | None":
        """The arrays of ``cm`` (None under ``tiles``, whose local cost is not compiled)."""
        if cm.tiles is not None:
            return None
        n = cm.n
        K = n // 64 + 1

        def rows_of(masks) -> np.ndarray:
            return np.stack([_words(m, n) for m in masks]) if n else np.zeros((0, K), np.int64)

        cons_off = np.cumsum([0] + [len(cm.consumers[u]) for u in range(n)]).astype(np.int64)
        cons = np.array([c for u in range(n) for c in cm.consumers[u]] or [0], dtype=np.int64)
        top = int(qs[-1])
        need_uc = np.zeros((max(1, len(cons)), top), dtype=np.int64)
        e = 0
        for u in range(n):
            for c in cm.consumers[u]:
                need_uc[e] = cm.need(c, least[c], cm.H[u], qs)
                e += 1
        readers = rows_of([sum(1 << c for c in cm.consumers[u]) for u in range(n)])
        reads = rows_of([sum(1 << p for p in cm.producers[u]) for u in range(n)])
        ints = lambda values: np.array(values, dtype=np.int64)  # noqa: E731
        netin = np.zeros(n, dtype=np.bool_)
        netin[list(cm.network.input_ids)] = True
        # the network part of the tuple ``g`` the compiled loops index: 0 bit positions, 1–2 consumers (CSR),
        # 3 readers and 4 producers (words), 5 H, 6 C·W, 7 fewest channels · W, 8 what reducing saves per row,
        # 9 weight bytes, 10 weight block, 11 network output, 12 network input, 13–16 reader rules, 17 each consumer
        # edge's fewest rows at every Q
        arrays = (
            _DEBRUIJN_TABLE, cons_off, cons, readers, reads, ints(cm.H), ints([cm.C[u] * cm.W[u] for u in range(n)]),
            ints([cm.min_channels[u] * cm.W[u] for u in range(n)]), ints(cm.saving), ints(cm.weight_bytes),
            ints(cm.block_bytes), np.array(cm.is_output, dtype=np.bool_), netin, ints(cm.kind), ints(cm.stride),
            ints(cm.span), ints(cm.scale), need_uc)
        ord_off = np.cumsum([0] + [len(r) for r in ordered]).astype(np.int64)
        ord_list = np.array([c for r in ordered for c in r] or [0], dtype=np.int64)
        return cls(arrays, rows_of(reach.adj), rows_of(reach.desc), rows_of(reach.anc), ints(cm.tensor_bytes),
                   ord_off, ord_list, cm.word, cm.buffer, cm.batch, top, n)

    def costs(self, core: int, window: int, layers: np.ndarray, pieces: np.ndarray, kept: list | None = None,
              floor: int = 1, charges: np.ndarray | None = None) -> np.ndarray | None:
        """The local cost of each piece (window-local bitsets over the window's ``layers``, ascending, in any form
        :func:`_piece_words` takes) of the window with this core, :data:`NO_FIT` where no group containing it fits;
        None when a group held more reducible convolutions in one component of Φ's conflicts than the compiled Φ
        takes. ``kept``, when given, gets the pieces whose cost rises when a store item 4 lets them keep is paid
        instead: (their indices, the stores' layer ids in their slots, the rises), as :func:`_costs` gives them.
        With ``floor`` above 1, each piece's reload rise at that floor instead (:func:`_costs`). ``charges``, when
        given (one entry per piece), gets each piece's core weights, the w of its rises."""
        n, K = self.n, self.n // 64 + 1
        # the scratch part of ``g``: 18 a group's members (last first), 19 their flags (keeps all rows, has readers
        # beyond), 20 its inputs, 21 their words per row, 22 counts (members, inputs, reducible, weights, block,
        # components), 23 what it reads, 24 its reducible members, 25 their conflicts within their component,
        # 26 their savings at the last Q, 27 rows per node, 28 listing space, 29 the last fewest strips, 30–31 the
        # components (CSR), 32 a node's reducible position, 33 one component's savings, 34 a position within its
        # component, 35 neighbours found
        scratch = (
            np.empty(n, np.int64), np.zeros(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64),
            np.zeros(6, np.int64), np.zeros(K, np.int64), np.empty(n, np.int64), np.zeros(n, np.int64),
            np.zeros(n, np.int64), np.zeros(n, np.int64), np.empty(64 * K, np.int64), np.full(1, 2, np.int64),
            np.zeros(n + 1, np.int64), np.zeros(n, np.int64), np.full(n, -1, np.int64), np.zeros(64, np.int64),
            np.zeros(n, np.int64), np.zeros(n, np.int64))
        g = (*self.arrays, *scratch)
        costs = np.empty(len(pieces), dtype=np.int64)
        tensors = np.empty((len(pieces), KEPT_SLOTS), dtype=np.int64)
        extra = np.empty((len(pieces), 1 << KEPT_SLOTS), dtype=np.int64)
        done = _costs(_piece_words(pieces, len(layers)), layers.astype(np.int64), _words(core, n), _words(window, n), g,
                      self.adj, self.desc, self.anc, self.tbytes, self.ord_off, self.ord_list, self.word, self.buffer,
                      self.batch, self.top, costs, tensors, extra, floor,
                      charges if charges is not None else np.empty(len(pieces), dtype=np.int64))
        if done and kept is not None:
            rises = np.nonzero(extra.max(axis=1) > 0)[0]
            kept.append((rises, tensors[rises], extra[rises]))
        return costs if done else None


def _piece_words(pieces: np.ndarray, m: int) -> np.ndarray:
    """Window-local bitsets over ``m`` positions as rows of :data:`PIECE_BITS`-bit words, from 64-bit integers (a
    window of one word), Python integers (a wider one) or such rows already."""
    if pieces.ndim == 2:
        return pieces
    if pieces.dtype != object:
        return pieces.astype(np.int64).reshape(-1, 1)
    words = -(-m // PIECE_BITS)
    low = (1 << PIECE_BITS) - 1
    return np.array([[mask >> (PIECE_BITS * k) & low for k in range(words)] for mask in pieces],
                    dtype=np.int64).reshape(-1, words)


def piece_int(piece) -> int:
    """A window-local bitset as one integer, from a 64-bit or Python integer or a row of :data:`PIECE_BITS`-bit
    words."""
    if np.ndim(piece) == 0:
        return int(piece)
    return sum(int(word) << (PIECE_BITS * k) for k, word in enumerate(piece))


def piece_members(pieces: np.ndarray, m: int) -> np.ndarray:
    """Window-local bitsets over ``m`` positions (64-bit integers, or Python integers where the window is wider
    than a word) as a matrix of booleans, a row per piece: whether it holds each position."""
    if not len(pieces):
        return np.zeros((0, m), bool)
    words = _piece_words(pieces, m)
    unpacked = np.unpackbits(words.astype("<i8").view(np.uint8).reshape(len(words), -1), axis=1, bitorder="little")
    return unpacked[:, [64 * (i // PIECE_BITS) + i % PIECE_BITS for i in range(m)]].astype(bool)


@njit(cache=True)
def _floor_rows(t, mask, member_of, rdr_off, rdr_node, rdr_rows):
    """The rows the footprint floor keeps of tensor t (window-local reader positions) for the set ``mask``: the most
    any reader of it in the set needs (min(H, span)), at least one if it is a member."""
    r = 1 if member_of[t] >= 0 and (mask >> member_of[t]) & 1 else 0
    for k in range(rdr_off[t], rdr_off[t + 1]):
        if (mask >> rdr_node[k]) & 1 and rdr_rows[k] > r:
            r = rdr_rows[k]
    return r


@njit(cache=True)
def _floor_step(mask, grown, added, w):
    """How much the footprint floor's row sum grows from ``mask`` to ``grown`` (``added`` = grown − mask): only
    the added members and what they read change (as :meth:`~optimus_opt.cost.candidates.CandidateSpace._floor_step`)."""
    (m, adj, desc, anc, reads, prod_off, prod_t, rdr_off, rdr_node, rdr_rows, unit, height, member_of, kind, stride,
     span, scale, blocks, mark, stamp, tensors, rows) = w
    stamp[0] += 1
    delta = 0
    for i in range(m):
        if (added >> i) & 1:
            for k in range(-1, prod_off[i + 1] - prod_off[i]):
                t = i if k < 0 else prod_t[prod_off[i] + k]
                if mark[t] == stamp[0]:
                    continue
                mark[t] = stamp[0]
                delta += unit[t] * (_floor_rows(t, grown, member_of, rdr_off, rdr_node, rdr_rows)
                                    - _floor_rows(t, mask, member_of, rdr_off, rdr_node, rdr_rows))
    return delta


@njit(cache=True)
def _pyramid(mask, w):
    """The strips pyramid of the set ``mask`` in bytes (as :func:`~optimus_opt.cost.tile_counts.strip_pyramid`):
    each member keeps at least one row and what each reader in the set needs for the rows it keeps, and so does
    each tensor it reads; the members first, from the last, so that every reader's rows are known."""
    (m, adj, desc, anc, reads, prod_off, prod_t, rdr_off, rdr_node, rdr_rows, unit, height, member_of, kind, stride,
     span, scale, blocks, mark, stamp, tensors, rows) = w
    stamp[0] += 1
    count = 0
    for i in range(m - 1, -1, -1):
        if (mask >> i) & 1:
            tensors[count] = i
            mark[i] = stamp[0]
            count += 1
    members = count
    for j in range(members):
        i = tensors[j]
        for k in range(prod_off[i], prod_off[i + 1]):
            t = prod_t[k]
            if mark[t] != stamp[0]:
                mark[t] = stamp[0]
                tensors[count] = t
                count += 1
    total = 0
    for j in range(count):
        t = tensors[j]
        r = 1 if j < members else 0
        for k in range(rdr_off[t], rdr_off[t + 1]):
            c = rdr_node[k]
            if not (mask >> c) & 1:
                continue
            # at Q = H strips: a reduction reads one row
            need = _need(kind[c], stride[c], span[c], scale[c], rows[c], height[t], height[t])
            if need > r:
                r = need
        if r > height[t]:
            r = height[t]
        if j < members:
            rows[t] = r
        total += unit[t] * r
    return total


@njit(cache=True)
def _grow(seed, w, buffer, cap, limit, until, rows0, out_masks, out_needs, out_sizes, count):
    """Every convex connected set of the window with smallest position ``seed`` that passes the footprint floor
    (:meth:`~optimus_opt.cost.candidates.CandidateSpace._enumerate`, over window positions), appended to the output
    arrays from ``count`` on (made twice as large when full), sorted by (size, set); returns the new count, or
    −1 − count when ``limit`` sets were reached or the clock (:func:`time.perf_counter`) passed ``until``, with the
    output arrays."""
    (m, adj, desc, anc, reads, prod_off, prod_t, rdr_off, rdr_node, rdr_rows, unit, height, member_of, kind, stride,
     span, scale, blocks, mark, stamp, tensors, rows) = w
    start = count
    one = np.int64(1)
    bit = one << seed
    above = ~((one << (seed + 1)) - 1) & ((one << m) - 1 if m < 63 else ~(one << 63))
    seen = {bit}
    stack_mask = [bit]
    stack_size = [1]
    stack_d = [desc[seed]]
    stack_a = [anc[seed]]
    stack_near = [adj[seed]]
    stack_rows = [rows0]
    stack_blk = [blocks[seed]]
    while len(stack_mask):
        mask, size, d, a = stack_mask.pop(), stack_size.pop(), stack_d.pop(), stack_a.pop()
        near, rws, blk = stack_near.pop(), stack_rows.pop(), stack_blk.pop()
        if count == out_masks.shape[0]:
            out_masks = np.concatenate((out_masks, np.empty_like(out_masks)))
            out_needs = np.concatenate((out_needs, np.empty_like(out_needs)))
            out_sizes = np.concatenate((out_sizes, np.empty_like(out_sizes)))
        rd = 0
        for i in range(m):
            if (mask >> i) & 1:
                rd |= reads[i]
        out_masks[count] = mask
        out_needs[count] = rd & ~mask
        out_sizes[count] = size
        count += 1
        if count == limit:
            return -1 - count, out_masks, out_needs, out_sizes
        if count % CLOCK_PIECES == 0 and until < math.inf:
            with objmode(now="float64"):
                now = time.perf_counter()
            if now >= until:
                return -1 - count, out_masks, out_needs, out_sizes
        if cap >= 0 and size >= cap:
            continue
        grow = near & above & ~mask
        for v in range(m - 1, -1, -1):
            if not (grow >> v) & 1:
                continue
            d1, a1 = d | desc[v], a | anc[v]
            grown = mask | (one << v) | (d1 & a1)
            if grown in seen:
                continue
            seen.add(grown)
            added = grown & ~mask
            size1 = size
            near1, blk1 = near, blk
            for i in range(m):
                if (added >> i) & 1:
                    size1 += 1
                    near1 |= adj[i]
                    if blocks[i] > blk1:
                        blk1 = blocks[i]
            if cap >= 0 and size1 > cap:
                continue
            rows1 = rws + _floor_step(mask, grown, added, w)
            if rows1 + blk1 > buffer:
                continue
            if _pyramid(grown, w) + blk1 > buffer:
                continue
            stack_mask.append(grown)
            stack_size.append(size1)
            stack_d.append(d1)
            stack_a.append(a1)
            stack_near.append(near1)
            stack_rows.append(rows1)
            stack_blk.append(blk1)
    order = np.argsort(out_masks[start:count], kind="mergesort")
    order = order[np.argsort(out_sizes[start:count][order], kind="mergesort")]
    out_masks[start:count] = out_masks[start:count][order]
    out_needs[start:count] = out_needs[start:count][order]
    out_sizes[start:count] = out_sizes[start:count][order]
    return count, out_masks, out_needs, out_sizes


@dataclass(frozen=True)
class WindowPieces:
    """A window's pieces, enumerated compiled: every convex connected set of its layers that passes the footprint
    floor, as window-local bitsets (position k is the window's k-th layer by id), with the positions each reads
    outside itself (``needs``) and its first position; ``complete`` is False when the deadline or ``limit`` stopped
    it (``capped`` for the latter, ``count`` then the limit)."""

    masks: np.ndarray
    needs: np.ndarray
    firsts: np.ndarray
    complete: bool
    capped: bool

    @classmethod
    def listed(cls, space, layers: tuple[int, ...]) -> "WindowPieces":
        """The pieces a :class:`~optimus_opt.cost.candidates.CandidateSpace` over the window found (as Python
        integers when the window is wider than a word)."""
        position = {u: k for k, u in enumerate(layers)}
        kind = np.int64 if len(layers) <= WORD_LAYERS else object

        def local(mask: int) -> int:
            return sum(1 << position[u] for u in bits(mask) if u in position)

        every = [cand for cands in space.by_first.values() for cand in cands]
        return cls(np.array([local(c.mask) for c in every], kind), np.array([local(c.needs) for c in every], kind),
                   np.array([position[c.first] for c in every], np.int64), space.complete, space.capped)

    @classmethod
    def of(cls, cm: CostModel, reach, layers: tuple[int, ...], max_group: int | None, deadline,
           limit: int | None) -> "WindowPieces | None":
        """The pieces of the window of ``layers`` (sorted ids, a convex set of at most 62); None under ``tiles``,
        whose floors are not compiled."""
        if cm.tiles is not None:
            return None
        m = len(layers)
        position = {u: k for k, u in enumerate(layers)}
        inside = set(layers)

        def local(mask: int) -> int:
            return sum(1 << position[u] for u in layers if mask >> u & 1)

        # tensors: the window's layers (positions 0..m−1), then what they read from outside it
        outside = sorted({p for u in layers for p in cm.producers[u] if p not in inside})
        tensor = {**position, **{t: m + k for k, t in enumerate(outside)}}
        ids = [*layers, *outside]
        prod = [sorted({tensor[p] for p in cm.producers[u]}) for u in layers]
        readers = [[c for c in dict.fromkeys(cm.consumers[t]) if c in inside] for t in ids]
        ints = lambda values: np.array(values, dtype=np.int64)  # noqa: E731
        word = [ints([local(mask) for mask in (reach.adj[u], reach.desc[u], reach.anc[u])])
                for u in layers]
        reads = ints([sum(1 << tensor[p] for p in cm.producers[u] if p in inside) for u in layers])
        w = (m, ints([x[0] for x in word]), ints([x[1] for x in word]), ints([x[2] for x in word]), reads,
             ints(np.cumsum([0] + [len(p) for p in prod])), ints([t for p in prod for t in p] or [0]),
             ints(np.cumsum([0] + [len(r) for r in readers])), ints([position[c] for r in readers for c in r] or [0]),
             ints([min(cm.H[t], cm.span[c]) for t, r in zip(ids, readers) for c in r] or [0]),
             ints([cm.word * cm.min_channels[t] * cm.W[t] for t in ids]), ints([cm.H[t] for t in ids]),
             ints([k if k < m else -1 for k in range(len(ids))]),
             *(ints([values[u] for u in layers]) for values in (cm.kind, cm.stride, cm.span, cm.scale,
                                                                 cm.block_bytes)),
             np.zeros(len(ids), np.int64), np.zeros(1, np.int64), np.zeros(len(ids), np.int64),
             np.zeros(len(ids), np.int64))
        masks, needs, sizes = (np.empty(1 << 16, np.int64) for _ in range(3))
        firsts = []
        count = 0
        cap = -1 if max_group is None else max_group
        # the clock is looked at inside the compiled loop only when it is the wall clock; else between seeds
        until = deadline.end if deadline.end is not None and deadline.clock is time.perf_counter else math.inf
        for seed in range(m):
            u = layers[seed]
            rows0 = _floor_step(0, 1 << seed, 1 << seed, w)
            if rows0 + cm.block_bytes[u] > cm.buffer and cm.footprint_floor([u]) > cm.buffer:
                continue
            if deadline.expired():
                return cls(masks[:count], needs[:count], np.array(firsts, np.int64), False, False)
            found, masks, needs, sizes = _grow(seed, w, cm.buffer, cap, -1 if limit is None else limit, until, rows0,
                                               masks, needs, sizes, count)
            if found < 0:
                count = -1 - found
                firsts.extend([seed] * (count - len(firsts)))
                return cls(masks[:count], needs[:count], np.array(firsts, np.int64), False, count == limit)
            firsts.extend([seed] * (found - count))
            count = found
        return cls(masks[:count], needs[:count], np.array(firsts, np.int64), True, False)


def wide_pieces(cm: CostModel, reach, layers: tuple[int, ...], max_group: int | None, deadline,
                limit: int | None) -> tuple[np.ndarray, bool, bool] | None:
    """The pieces of a window wider than a word and at most two (``layers``: its sorted ids, a convex set), as rows
    of two :data:`PIECE_BITS`-bit words over its positions, whether their enumeration finished and whether
    ``limit`` stopped it; None under ``tiles`` or for a wider window.

    Node ids are topological, so the hull of a set of the window's last :data:`~.downset_graph.WORD_LAYERS` layers
    lies among them (a layer on a path between two of them comes between them in every topological order): they are
    a convex window of their own, whose pieces are the window's pieces that start there, and those are enumerated
    compiled. The candidate space lists the pieces that start before them: on the stem window of NASNet-A Mobile at
    128 KiB (69 layers, 1,601,174 pieces), 85,000 start in the first 7 layers."""
    if cm.tiles is not None or len(layers) > 2 * PIECE_BITS:
        return None
    shift = len(layers) - WORD_LAYERS
    upper = WindowPieces.of(cm, reach, layers[shift:], max_group, deadline, limit)
    # as two words of PIECE_BITS bits over the window's positions (the upper layers' masks moved up by ``shift``)
    words = np.stack([(upper.masks << shift) & ((1 << PIECE_BITS) - 1), upper.masks >> (PIECE_BITS - shift)], axis=1)
    if not upper.complete:
        return words, False, upper.capped
    space = CandidateSpace(cm, max_group, deadline, within=sum(1 << u for u in layers), floors=False,
                           limit=None if limit is None else limit - len(words),
                           seeds=sum(1 << u for u in layers[:shift]))
    lower = _piece_words(WindowPieces.listed(space, layers).masks, len(layers)).reshape(-1, 2)
    return np.concatenate([lower, words]), space.complete, space.capped
