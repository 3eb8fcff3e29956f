"""The per-tile intervals of a group in one direction and their counts (formulations/cost-model.md §7.2), compiled.

This is the inner loop of cost model version 3: for every tile count Q of a list and every tile i, the interval
each tensor of a group holds, set from the group's outputs backwards through every reader's window, and from those
intervals the four counts per tensor and Q: span (the largest interval), line (the most rows kept across a tile
boundary), repeated (rows an earlier tile already held) and distinct (rows any tile holds). It runs over plain
integer arrays so that numba compiles it (tens of microseconds for a group of twenty layers); without numba the
same function runs as Python, slowly but with the same results.

The group is given in *processing order*: its members in reverse topological order, then its external inputs,
so that every reader comes before the tensor it reads. Reader ``k`` of tensor ``t`` (``first[t] <= k <
first[t + 1]``) is ``reader[k]``, an index in that order, with the rule ``kind[k]`` and its parameters.
"""

from __future__ import annotations

import numpy as np

try:  # numba compiles the loops; without it they run as plain Python
    from numba import njit
except ImportError:  # pragma: no cover - exercised only where numba is missing
    def njit(*args, **kwargs):
        return (lambda f: f) if not args or not callable(args[0]) else args[0]

#: Reader rules (§7.2 "Needs").
WINDOW, PASS, BROADCAST, UPSAMPLE, REDUCE = 0, 1, 2, 3, 4
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
def direction_counts(qs, size, escapes, first, reader, kind, stride, pad, span, scale, cached):
    """Span, line, repeated and distinct (tensors × len(qs) int64 arrays) of a group in one direction.

    ``size[t]`` is tensor t's height (or width), ``escapes[t]`` whether it is cut by the partition itself (an
    escaping member); ``cached`` whether a reader needs only the window of its new rows (a cached direction) or of
    all its rows (a recomputed one).
    """
    n = size.shape[0]
    nq = qs.shape[0]
    out_span = np.zeros((n, nq), dtype=np.int64)
    out_line = np.zeros((n, nq), dtype=np.int64)
    out_rep = np.zeros((n, nq), dtype=np.int64)
    out_dist = np.zeros((n, nq), dtype=np.int64)
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
                    if kind[k] == REDUCE:
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
                        na, ne = _need(kind[k], stride[k], pad[k], span[k], scale[k], ca, ce, h)
                        if ne <= na:
                            continue
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
    return out_span, out_line, out_rep, out_dist
