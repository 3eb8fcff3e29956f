"""The per-tile intervals of a group in one direction and their counts (formulations/cost-model.md §7.2), compiled.

This is the inner loop of cost model version 3: for every tile count Q of a list and every tile i, the interval
each tensor of a group holds, set from the group's outputs backwards through every reader's window, and from those
intervals the four counts per tensor and Q: span (the largest interval), line (the most rows kept across a tile
boundary), repeated (rows an earlier tile already held) and distinct (rows any tile holds). It runs over plain
integer arrays so that numba compiles it (tens of microseconds for a group of twenty layers); without numba the
same function runs as Python, slowly but with the same results.

The floors of the candidate space are compiled here too, over bitsets of the group: the window of a group's first
tile (:func:`first_tile`, under ``tiles``) and the pyramid of rows of version 2 (:func:`strip_pyramid`).

The group is given in *processing order*: its members in reverse topological order, then its external inputs,
so that every reader comes before the tensor it reads. Reader ``k`` of tensor ``t`` (``first[t] <= k <
first[t + 1]``) is ``reader[k]``, an index in that order, with the rule ``rule[k]`` = (kind, stride, pad, span,
scale), the kinds of :mod:`.parts`.
"""

from __future__ import annotations

import numpy as np

from .parts import BROADCAST, PASS, REDUCE, UPSAMPLE, WINDOW

try:  # numba compiles the loops; without it they run as plain Python
    from numba import njit
except ImportError:  # pragma: no cover - exercised only where numba is missing
    def njit(*args, **kwargs):
        return (lambda f: f) if not args or not callable(args[0]) else args[0]

_EMPTY_A = 1 << 40
_EMPTY_E = -(1 << 40)


@njit(cache=True)
def _need(kind: int, stride: int, pad: int, span: int, scale: int, a: int, e: int, h: int) -> tuple[int, int]:
    """The interval of an input of size ``h`` a reader needs when it computes [a, e) (non-empty), clipped."""
    if kind == WINDOW:
        na, ne = a * stride - pad, (e - 1) * stride - pad + span
    elif kind == PASS:
        na, ne = a, e
    elif kind == BROADCAST:
        na, ne = 0, 1
    else:  # UPSAMPLE
        na, ne = a // scale, (e - 1) // scale + 1
    if na < 0:
        na = 0
    if ne > h:
        ne = h
    if ne <= na:
        return _EMPTY_A, _EMPTY_E
    return na, ne


@njit(cache=True)
def direction_counts(qs, size, escapes, first, reader, rule, cached):
    """Span, line, repeated and distinct (tensors × len(qs) int64 arrays) of a group in one direction, and the
    reads (readers × len(qs)): the rows each reader reads of its input over all tiles, the sum of what it needs
    at each tile (formulations/energy.md).

    ``size[t]`` is tensor t's height (or width), ``escapes[t]`` whether it is cut by the partition itself (an
    escaping member); ``rule[k]`` is reader k's (kind, stride, pad, span, scale); ``cached`` whether a reader needs
    only the window of its new rows (a cached direction) or of all its rows (a recomputed one).
    """
    n = size.shape[0]
    nq = qs.shape[0]
    out_span = np.zeros((n, nq), dtype=np.int64)
    out_line = np.zeros((n, nq), dtype=np.int64)
    out_rep = np.zeros((n, nq), dtype=np.int64)
    out_dist = np.zeros((n, nq), dtype=np.int64)
    out_reads = np.zeros((reader.shape[0], nq), dtype=np.int64)
    for j in range(nq):
        q = qs[j]
        a_of = np.full((q, n), _EMPTY_A, dtype=np.int64)
        e_of = np.full((q, n), _EMPTY_E, dtype=np.int64)
        held = np.zeros(n, dtype=np.int64)  # M: the largest end held so far, per tensor
        new_a = np.empty(n, dtype=np.int64)
        new_e = np.empty(n, dtype=np.int64)
        for i in range(q):
            for t in range(n):
                h = size[t]
                lo, hi = _EMPTY_A, _EMPTY_E
                if escapes[t]:
                    tt = (h + q - 1) // q
                    pa, pe = i * tt, min((i + 1) * tt, h)
                    if pa < pe:
                        lo, hi = pa, pe
                for k in range(first[t], first[t + 1]):
                    c = reader[k]
                    if rule[k, 0] == REDUCE:
                        tt = (h + q - 1) // q
                        na, ne = i * tt, min((i + 1) * tt, h)
                        if na >= ne:
                            continue
                    else:
                        if cached:
                            ca, ce = new_a[c], new_e[c]
                        else:
                            ca, ce = a_of[i, c], e_of[i, c]
                        if ce <= ca:
                            continue
                        na, ne = _need(rule[k, 0], rule[k, 1], rule[k, 2], rule[k, 3], rule[k, 4], ca, ce, h)
                        if ne <= na:
                            continue
                    out_reads[k, j] += ne - na
                    if na < lo:
                        lo = na
                    if ne > hi:
                        hi = ne
                a_of[i, t] = lo
                e_of[i, t] = hi
                if hi > lo:
                    start = lo if lo > held[t] else held[t]
                    if start < hi:
                        new_a[t], new_e[t] = start, hi
                    else:
                        new_a[t], new_e[t] = _EMPTY_A, _EMPTY_E
                    if hi > held[t]:
                        held[t] = hi
                else:
                    new_a[t], new_e[t] = _EMPTY_A, _EMPTY_E
        for t in range(n):
            best = 0
            repeated = 0
            total = 0
            upto = 0  # M_{i-1}
            for i in range(q):
                a, e = a_of[i, t], e_of[i, t]
                if e > a:
                    length = e - a
                    total += length
                    if length > best:
                        best = length
                    top = e if e < upto else upto
                    if top > a:
                        repeated += top - a
                    if e > upto:
                        upto = e
            # the line: rows held at or before a boundary and read after it, over every boundary
            line = 0
            later_a, later_e = _EMPTY_A, 0  # first start and largest end over non-empty tiles after i
            ends = np.zeros(q, dtype=np.int64)  # M_i
            m = 0
            for i in range(q):
                if e_of[i, t] > a_of[i, t] and e_of[i, t] > m:
                    m = e_of[i, t]
                ends[i] = m
            for i in range(q - 1, 0, -1):
                a, e = a_of[i, t], e_of[i, t]
                if e > a:
                    later_a = a
                    if e > later_e:
                        later_e = e
                top = ends[i - 1] if ends[i - 1] < later_e else later_e
                if top - later_a > line:
                    line = top - later_a
            out_span[t, j] = best
            out_line[t, j] = line
            out_rep[t, j] = repeated
            out_dist[t, j] = total - repeated
    return out_span, out_line, out_rep, out_dist, out_reads


@njit(cache=True)
def group_counts(qs_rows, qs_cols, size_rows, size_cols, escapes, first, reader, rule_rows, rule_cols, halos):
    """The counts of a group for every halo mode in one call: rows cached (``halos[0]``), rows recomputed
    (``halos[1]``; an empty result where a mode is not wanted) and columns (always cached)."""
    empty = np.zeros((0, 0), dtype=np.int64)
    none = (empty, empty, empty, empty, empty)
    cached = direction_counts(qs_rows, size_rows, escapes, first, reader, rule_rows, True) if halos[0] else none
    again = direction_counts(qs_rows, size_rows, escapes, first, reader, rule_rows, False) if halos[1] else none
    cols = direction_counts(qs_cols, size_cols, escapes, first, reader, rule_cols, True)
    return cached, again, cols


@njit(cache=True)
def grid_words(r_span, r_line, r_rep, c_span, c_line, c_dist, channels, per_ext, per_mac, keep_rows):
    """Footprint words with all channels, cells, interior cells, re-read bytes and added MACs of every (Q_r, Q_c)
    point (row-major over ``r_*`` columns × ``c_*`` columns) of a group under one halo mode (§7.4–§7.5).

    ``keep_rows``: the rows shared by consecutive tile rows stay on chip (``cache``); otherwise they are computed
    again, and ``per_ext[t]`` (bytes per re-read row-column of an external input) and ``per_mac[t]`` (MACs per
    recomputed row-column of a member, 0 for a reduction) price what repeats."""
    n, nr = r_span.shape
    nc = c_span.shape[1]
    size = nr * nc
    full = np.zeros(size, dtype=np.int64)
    cells = np.zeros((n, size), dtype=np.int64)
    interior = np.zeros((n, size), dtype=np.int64)
    reread = np.zeros(size, dtype=np.int64)
    added = np.zeros(size, dtype=np.int64)
    for t in range(n):
        for i in range(nr):
            sr = r_span[t, i]
            lr = r_line[t, i] if keep_rows else 0
            rows_in = sr - lr if sr > lr else 0
            for j in range(nc):
                k = i * nc + j
                sc = c_span[t, j]
                cols_in = sc - c_line[t, j]
                if cols_in < 0:
                    cols_in = 0
                cell = lr * (c_dist[t, j] - sc) + sr * sc
                cells[t, k] = cell
                interior[t, k] = rows_in * cols_in
                full[k] += channels[t] * cell
                if not keep_rows:
                    again = r_rep[t, i] * c_dist[t, j]
                    reread[k] += per_ext[t] * again
                    added[k] += per_mac[t] * again
    return full, cells, interior, reread, added


@njit(cache=True)
def pick(fp, base, added, passes, tiles, qr, own_macs, w_g, blk, esc, buf, batch, fp1, resident_only):
    """The best tiling of §7.7 over every halo mode h (rows of the ``fp``, ``base``, ``added``, ``passes`` arrays)
    and grid point: weights resident, streamed (one tile may take a batch block b, from ``fp1[h]``, the exact
    one-tile footprint) or in ``passes[h, k]`` passes. Returns (h, k, family: 0 resident, 1 streamed, 2 passes, b,
    P, cost, MACs), h = −1 when nothing fits."""
    best = (-1, -1, -1, 0, 0, 0, 0)
    key = (0, 0, 0, 0, 0, 0, 0)
    for h in range(fp.shape[0]):
        for k in range(fp.shape[1]):
            macs = own_macs + added[h, k]
            for family in range(3):
                b, p = 1, 1
                if family == 0:
                    if fp[h, k] + w_g > buf:
                        continue
                    cost = base[h, k] + w_g
                elif family == 1:
                    if resident_only or fp[h, k] + blk > buf or fp[h, k] + w_g <= buf:
                        continue
                    if tiles[k] == 1 and batch > 1:
                        largest = batch if fp1[h] <= 0 else min(batch, (buf - blk) // fp1[h])
                        blocks = (batch + largest - 1) // largest
                        b = (batch + blocks - 1) // blocks
                        cost = base[h, k] + w_g * blocks
                    else:
                        cost = base[h, k] + w_g * tiles[k] * batch
                else:
                    if passes[h, k] == 0:
                        continue
                    p = passes[h, k]
                    cost = p * (base[h, k] - esc) + esc + w_g
                candidate = (cost, macs, tiles[k], qr[k], h, p, b)
                if best[0] < 0 or candidate < key:
                    key = candidate
                    best = (h, k, family, b, p, cost, macs)
    return best


@njit(cache=True)
def pass_plan(full_words, cells, interior, k_out, per_out, room_words, tc, reducible):
    """For a single conv or fc (§7.6): at each grid point the fewest passes P ≥ 2 that fit (0 where none does or
    one pass fits), the channels per pass k = ⌈K/P⌉ and whether the layer is then reduced to Tc channels.
    ``room_words`` is ⌊B/w⌋; the layer's own cells and interior cells are ``cells`` and ``interior``."""
    size = full_words.shape[0]
    passes = np.zeros(size, dtype=np.int64)
    channels = np.zeros(size, dtype=np.int64)
    reduced = np.zeros(size, dtype=np.bool_)
    for i in range(size):
        cap = room_words - (full_words[i] - k_out * cells[i])
        k = cap // (cells[i] + per_out)
        if reducible:
            k_red = (cap - tc * interior[i]) // (cells[i] - interior[i] + per_out)
            if k_red > tc and k_red > k:
                k = k_red
        if k > k_out:
            k = k_out
        if k < 1:
            continue
        p = (k_out + k - 1) // k
        if p < 2:
            continue
        passes[i] = p
        channels[i] = (k_out + p - 1) // p
        reduced[i] = reducible and channels[i] > tc and interior[i] > 0
    return passes, channels, reduced


@njit(cache=True)
def _corner(q, tensors, member, escapes, where, first, reader, rule, size):
    """The extent [0, e) of every tensor of a group (``tensors`` ascending, so read backwards in reverse
    topological order) that the first tile holds in one direction at q tiles: an escaping member its own first
    part ⌈H/q⌉, a member at least one cell, and at least what each member reader needs for its own extent (§7.2
    "Needs" at the top-left corner; a reduction its input's first part), clipped to the tensor's size."""
    n = tensors.shape[0]
    out = np.zeros(n, dtype=np.int64)
    for i in range(n - 1, -1, -1):
        t = tensors[i]
        h = size[t]
        part = (h + q - 1) // q
        e = part if escapes[i] else (1 if member[i] else 0)
        for k in range(first[t], first[t + 1]):
            j = where[reader[k, 0]]
            if j < 0 or not member[j]:
                continue
            kind, stride, pad, span, scale = rule[reader[k, 1]]
            held = out[j]
            if kind == WINDOW:
                need = (held - 1) * stride - pad + span
            elif kind == PASS:
                need = held
            elif kind == UPSAMPLE:
                need = (held - 1) // scale + 1
            elif kind == REDUCE:
                need = part
            else:  # BROADCAST
                need = 1
            if need > e:
                e = need
        out[i] = e if e < h else h
    return out


def bitset_words(mask: int, n: int) -> np.ndarray:
    """A bitset over n nodes as the little-endian 64-bit words the compiled floors take."""
    return np.frombuffer(mask.to_bytes(8 * (n // 64 + 1), "little"), dtype=np.uint64)


@njit(cache=True)
def _tensors(members, reads, n):
    """The ids (ascending) of the set ``members`` and of what it reads (bitsets as little-endian 64-bit words),
    with a member flag each, and each node's index among them (−1 for the others)."""
    tensors = np.empty(n, dtype=np.int64)
    member = np.empty(n, dtype=np.bool_)
    where = np.full(n, -1, dtype=np.int64)
    count = 0
    for t in range(n):
        word, bit = t >> 6, np.uint64(1) << np.uint64(t & 63)
        inside = (members[word] & bit) != 0
        if inside or (reads[word] & bit) != 0:
            tensors[count] = t
            member[count] = inside
            where[t] = count
            count += 1
    return tensors[:count], member[:count], where


@njit(cache=True)
def _window_bytes(unit, tensors, rows, cols):
    total = 0
    for i in range(tensors.shape[0]):
        total += unit[tensors[i]] * rows[i] * cols[i]
    return total


@njit(cache=True)
def first_tile(members, reads, escaping, first, reader, rule_rows, rule_cols, size_rows, size_cols, unit, room):
    """The fewest tiles Q_r·Q_c at which the first tile's window of a group (:func:`_corner`, ``unit[t]`` bytes
    per cell of tensor t) fits in ``room`` bytes (0 when no grid fits), that window's bytes at one tile, and its
    bytes at one cell of every escaping member (the corner pyramid, every tiling's least window).

    ``members``, ``reads`` and ``escaping`` are bitsets of the group, of what it reads and of the members whose
    first part the partition sets (little-endian 64-bit words); reader k
    of tensor t (``first[t] <= k < first[t + 1]``) is layer ``reader[k, 0]`` under the rule
    ``rule_*[reader[k, 1]]``. Rows and columns never mix, so the window's bytes at (Q_r, Q_c) are
    Σ unit·rows(Q_r)·cols(Q_c); both only shrink as the counts grow, so for each Q_r the least fitting Q_c is found
    by bisection. A negative ``room`` asks for the corner pyramid alone."""
    tensors, member, where = _tensors(members, reads, size_rows.shape[0])
    n = tensors.shape[0]
    escapes = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        t = tensors[i]
        escapes[i] = (escaping[t >> 6] & (np.uint64(1) << np.uint64(t & 63))) != 0
    hmax = wmax = 1
    for i in range(n):
        hmax = max(hmax, size_rows[tensors[i]])
        wmax = max(wmax, size_cols[tensors[i]])
    # at as many tiles as the largest size, every escaping member's first part is one cell: the corner pyramid
    pyramid = _window_bytes(unit, tensors, _corner(hmax, tensors, member, escapes, where, first, reader, rule_rows,
                                                   size_rows),
                            _corner(wmax, tensors, member, escapes, where, first, reader, rule_cols, size_cols))
    if room < 0:
        return 0, 0, pyramid
    rows = np.zeros((hmax + 1, n), dtype=np.int64)
    cols = np.zeros((wmax + 1, n), dtype=np.int64)
    have_rows = np.zeros(hmax + 1, dtype=np.bool_)
    have_cols = np.zeros(wmax + 1, dtype=np.bool_)
    rows[1] = _corner(1, tensors, member, escapes, where, first, reader, rule_rows, size_rows)
    cols[1] = _corner(1, tensors, member, escapes, where, first, reader, rule_cols, size_cols)
    have_rows[1] = have_cols[1] = True
    one = _window_bytes(unit, tensors, rows[1], cols[1])
    if one <= room:
        return 1, one, pyramid
    best = 0
    for qr in range(1, hmax + 1):
        if best and qr >= best:
            break
        if not have_rows[qr]:
            rows[qr] = _corner(qr, tensors, member, escapes, where, first, reader, rule_rows, size_rows)
            have_rows[qr] = True
        lo, hi = 1, wmax if not best else min(wmax, (best - 1) // qr)
        while lo <= hi:  # bisection for the least fitting Q_c: every fit found has fewer tiles than the best
            mid = (lo + hi) // 2
            if not have_cols[mid]:
                cols[mid] = _corner(mid, tensors, member, escapes, where, first, reader, rule_cols, size_cols)
                have_cols[mid] = True
            if _window_bytes(unit, tensors, rows[qr], cols[mid]) <= room:
                best, hi = qr * mid, mid - 1
            else:
                lo = mid + 1
    return best, one, pyramid


@njit(cache=True)
def strip_pyramid(members, reads, first, reader, kind, stride, span, scale, height, unit):
    """The strips pyramid of a set (bitset words as in :func:`first_tile`), in bytes: every member keeps at least
    one row, and what each reader in the set needs for the rows it keeps (a window (r − 1)·stride + span, a
    reduction one row, an upsample by s (r + s − 2)//s + 1), at most its height; ``unit[t]`` bytes per row of
    tensor t (formulations/candidate-space.md, "The pyramid"). Reader k of tensor t (``first[t] <= k <
    first[t + 1]``) is layer ``reader[k]``, whose kind, stride, span and scale the per-layer arrays give."""
    tensors, member, where = _tensors(members, reads, height.shape[0])
    n = tensors.shape[0]
    rows = np.zeros(n, dtype=np.int64)
    total = 0
    for i in range(n - 1, -1, -1):
        t = tensors[i]
        r = 1 if member[i] else 0
        for k in range(first[t], first[t + 1]):
            c = reader[k]
            j = where[c]
            if j < 0 or not member[j]:
                continue
            held = rows[j]
            if kind[c] == WINDOW:
                need = (held - 1) * stride[c] + span[c]
            elif kind[c] == PASS:
                need = held
            elif kind[c] == UPSAMPLE:
                need = (held + scale[c] - 2) // scale[c] + 1
            else:  # a reduction at H strips reads one row
                need = 1
            if need > r:
                r = need
        rows[i] = r if r < height[t] else height[t]
        total += unit[t] * rows[i]
    return total
