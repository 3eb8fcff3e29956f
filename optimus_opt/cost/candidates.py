"""The candidate space: every convex, connected group of a network that may fit the buffer (formulations/cost-model.md §3).

Groups are Python-int bitsets over node ids (ids are topological positions). A convex set is the difference of two
nested down-sets; equivalently it contains every node on a path between two of its members. Candidates are grown so
that only convex, connected sets are ever built:

* start from a seed r, which will be the group's smallest id (its first layer in topological order);
* add a layer v > r adjacent to the group (an edge joins them, or both read the same tensor), then close the set
  under paths: hull(T) = T ∪ (descendants(T) ∩ ancestors(T)). The hull of a connected set plus an adjacent node is
  connected and convex, and every convex connected set with smallest id r is reached this way (grow it one
  adjacent member at a time; every hull along the way stays inside it).

Growth stops at sets that cannot fit the buffer however they are tiled, by a bound that only grows with the set
(:meth:`~optimus_opt.cost.cost_model.CostModel.footprint_floor`): a cheap one-row floor kept incrementally (a layer
keeps at least one row of at least min(Tc, C) channels, at least the kernel's span of rows of an input its window
consumer reads in the group), then the pyramid (:meth:`~optimus_opt.cost.cost_model.CostModel.pyramid_bytes`: the
rows a window consumer needs for the rows its own consumers need, and so on up), with the largest weight block. A
set that fails the bound is dropped with all its supersets; a set that passes is a candidate even when its exact
tilings all fail, since a larger group may still fit (reduced channels of a producer shrink what a layer reads).
``max_group`` caps the number of layers; a result states the space it is exact over.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

from ..utils.deadline import NEVER, Deadline
from .cost_model import CostModel, Tiling, bits

__all__ = ["Candidate", "CandidateSpace", "Reach", "bits"]


@dataclass(frozen=True)
class Reach:
    """The reachability of a network's layers as bitsets over node ids, what growing and closing groups needs:
    each node's layer producers (``pred``), the layers it is adjacent to in the sense of connected groups (an edge,
    or reading the same tensor: ``adj``), and its descendants and layer ancestors (``desc``, ``anc``)."""

    pred: tuple[int, ...]
    adj: tuple[int, ...]
    desc: tuple[int, ...]
    anc: tuple[int, ...]

    @classmethod
    def of(cls, cm: CostModel) -> "Reach":
        net = cm.network
        n = len(net.layers)
        is_layer = [net.is_layer(u) for u in range(n)]
        pred = [sum(1 << p for p in net.producers[u] if is_layer[p]) for u in range(n)]
        adj = [0] * n
        for u in net.layer_ids:
            for p in net.producers[u]:
                if is_layer[p]:
                    adj[u] |= 1 << p
                    adj[p] |= 1 << u
                for sib in net.consumers[p]:
                    if sib != u:
                        adj[u] |= 1 << sib
        desc = [0] * n
        for u in reversed(range(n)):
            for c in net.consumers[u]:
                desc[u] |= (1 << c) | desc[c]
        anc = [0] * n
        for u in range(n):
            for p in net.producers[u]:
                if is_layer[p]:
                    anc[u] |= (1 << p) | anc[p]
        return cls(tuple(pred), tuple(adj), tuple(desc), tuple(anc))

    def around(self, mask: int) -> tuple[int, int]:
        """The nodes below some member of a set and those above some member (its descendants and ancestors)."""
        d = a = 0
        for u in bits(mask):
            d |= self.desc[u]
            a |= self.anc[u]
        return d, a

    def hull(self, mask: int, around: tuple[int, int] = (0, 0)) -> int:
        """The convex closure of a set: every node on a path between two members, that is below one and above one.
        ``around``, what :meth:`around` gives of other nodes, adds them as members without listing them again: the
        hull of a set and each of several others shares the set's part."""
        d, a = self.around(mask)
        return mask | ((d | around[0]) & (a | around[1]))


@dataclass(frozen=True)
class Candidate:
    """One convex connected group: its bitset, the layers it reads from (``needs``), and a lower bound of its cost
    that needs no tiling (``cost_floor``: its traffic with the fewest weight reloads its footprint floor allows,
    priced in the cost model's objective by :meth:`~optimus_opt.cost.cost_model.CostModel.value_floor`)."""

    mask: int
    first: int
    size: int
    needs: int
    cost_floor: int

    def tiling(self, cm: CostModel) -> Tiling | None:
        """The group's best tiling (cached by the cost model)."""
        return cm.best_tiling_of_mask(self.mask)


class CandidateSpace:
    """All convex connected groups of an instance that pass the footprint floor, indexed by their first layer.

    Parameters
    ----------
    cm:
        The instance's cost model.
    max_group:
        At most this many layers per group (``None``: no cap).
    deadline:
        The run's deadline (:class:`~optimus_opt.utils.deadline.Deadline`); once it passes, enumeration stops and
        :attr:`complete` is False. By default there is none.
    within:
        Only groups inside this set of layers (a bitset; ``None``: the whole network). The set must be convex, as
        a window of consecutive groups of a schedule is (the window refinement, ``optimus_opt/solvers/
        refine.py``): the hull of a subset of a convex set stays inside it, so growth never leaves the window.
    floors:
        Whether each candidate gets its cost floor; without (the segment bound's windows, which price their
        pieces by a cost of their own), every floor is 0, which is still a floor.
    limit:
        Stop after this many candidates (``None``: no limit); :attr:`complete` is then False and :attr:`capped`
        True. An exact solver's dynamic program or model cannot use more than a few hundred thousand candidates
        in any time a run has (formulations/exact-dp.md, "The candidate limit").
    seeds:
        Only groups whose first layer (the least id) is in this set (a bitset; ``None``: any layer of ``within``).
    listed:
        The candidates, enumerated elsewhere (the compiled enumeration of a window, :mod:`optimus_opt.solvers.
        window_columns`): they are taken as they are instead of enumerated.
    """

    def __init__(self, cm: CostModel, max_group: int | None = None, deadline: Deadline = NEVER,
                 within: int | None = None, floors: bool = True, limit: int | None = None,
                 listed: Sequence[Candidate] | None = None, seeds: int | None = None) -> None:
        self.cm = cm
        self.max_group = max_group
        net = cm.network
        n = len(net.layers)
        self.n = n
        self.layers = net.layer_ids
        self.layer_mask = sum(1 << u for u in self.layers)
        self.within = self.layer_mask if within is None else within & self.layer_mask
        #: The layers a schedule of this space covers (those of ``within``): the rows of a set-partitioning model.
        self.rows = tuple(u for u in self.layers if self.within >> u & 1)
        self.seeds = self.within if seeds is None else seeds & self.within
        reach = Reach.of(cm)
        self.pred, self.adj, self.desc, self.anc = reach.pred, reach.adj, reach.desc, reach.anc
        self.hull = reach.hull
        self.by_first: dict[int, list[Candidate]] = {u: [] for u in self.layers}
        self.explored = 0
        self.pruned = 0
        self.complete = True
        self.capped = False
        self.seconds = 0.0
        if listed is None:
            self._enumerate(deadline, self._make if floors else self._unpriced, limit)
            return
        for cand in listed:
            self.by_first[cand.first].append(cand)
        self.explored = len(listed)

    # -- bounds ----------------------------------------------------------------------------------------------

    def footprint_floor(self, mask: int) -> int:
        """A lower bound, in bytes, of the buffer any tiling of the group or of any larger group needs
        (:meth:`CostModel.footprint_floor`)."""
        return self.cm.footprint_floor(bits(mask))

    def _make(self, mask: int, first: int, size: int, reads: int, weights: int, rows: int, block: int,
              pyramid: int) -> Candidate:
        """The candidate of a set, given the union of its members' producers (``reads``, inputs included), its
        weight bytes, the row part of its footprint floor, its largest weight block (bytes) and its pyramid floor
        without the block (:meth:`~optimus_opt.cost.cost_model.CostModel.pyramid_bytes`; 0 for a single layer).

        Its cost floor is ext + esc + W·k, with k a lower bound of the number of times its weights cross DRAM
        (formulations/candidate-space.md, "The cost floor"): 1 when the footprint floor leaves room for all
        weights; otherwise they stream, and k ≥ ⌈N / b_max⌉ where b_max is the largest batch block a one-strip
        tiling could hold, or k ≥ 2N when no one-strip tiling fits; under ``tiles``, k ≥ N·T* when the first
        tile's window needs T* ≥ 2 tiles to fit beside the weight block
        (:meth:`~optimus_opt.cost.tiles.TileGeometry.least_reloads`).
        """
        cm = self.cm
        tb = cm.tensor_bytes
        floor = weights
        ext = reads & ~mask
        for x in bits(ext):
            floor += tb[x]
        out, unit = self.outside, self.row_unit
        whole = rows  # the floor at one strip: escaping members keep all their rows
        esc = esc_bytes = 0  # the escaping members (bitset) and their bytes whole at their fewest channels
        m = mask
        while m:
            low = m & -m
            u = low.bit_length() - 1
            m ^= low
            if out[u] & ~mask or self.is_output[u]:
                floor += tb[u]
                whole += self.whole_unit[u] - unit[u] * self._row_need(u, mask)
                esc_bytes += self.whole_unit[u]
                esc |= low
        if pyramid > rows:  # the pyramid floor holds at every tiling, one strip (one tile) included
            whole, rows = max(whole, pyramid), pyramid
        buffer, batch = cm.buffer, cm.batch
        # under tiles a single conv or fc may run in output-channel passes that load its weights once
        if weights and rows + weights > buffer and (cm.tiles is None or size > 1):
            # under tiles the first tile's window at every grid (it holds the escaping members' tiles, so the
            # bound below is implied); else one strip, and b samples of every escaping member's tile
            reloads = self._least_reloads(mask, reads, esc, weights, block) if self._least_reloads else None
            if reloads is None:
                if whole + block > buffer:
                    reloads = 2 * batch
                else:
                    reloads = -(-batch // min(batch, (buffer - block) // whole))
                if buffer > block:  # T/b ≥ E/(B − S)
                    reloads = max(reloads, -(-batch * esc_bytes // (buffer - block)))
            floor += weights * (reloads - 1)
        return Candidate(mask=mask, first=first, size=size, needs=ext & self.layer_mask,
                         cost_floor=cm.value_floor(floor))

    def _unpriced(self, mask: int, first: int, size: int, reads: int, *_) -> Candidate:
        """The candidate of a set with a cost floor of 0 (``floors=False``)."""
        return Candidate(mask=mask, first=first, size=size, needs=reads & ~mask & self.layer_mask, cost_floor=0)

    # -- enumeration -----------------------------------------------------------------------------------------

    def _row_need(self, t: int, mask: int) -> int:
        """The rows the footprint floor keeps of tensor t for the set ``mask``: the largest min(H, span) of its
        readers in the set, at least 1 if t is a member, 0 if neither."""
        for c, rows in self.readers[t]:  # by decreasing rows: the first reader in the set decides
            if mask >> c & 1:
                return rows
        return mask >> t & 1

    def _floor_step(self, mask: int, grown: int, added: int) -> int:
        """How much :meth:`footprint_floor`'s row sum grows from ``mask`` to ``grown`` (``added`` = grown − mask):
        only the added members and their producers change."""
        touched = added
        m = added
        while m:
            low = m & -m
            m ^= low
            touched |= self.reads[low.bit_length() - 1]
        delta = 0
        unit = self.row_unit
        while touched:
            low = touched & -touched
            touched ^= low
            t = low.bit_length() - 1
            delta += unit[t] * (self._row_need(t, grown) - self._row_need(t, mask))
        return delta

    def _prepare_floor(self) -> None:
        cm = self.cm
        n = self.n
        self.reads = [0] * n  # producers of each node, network inputs included
        self.outside = [0] * n  # consumers of each node
        for u in range(n):
            for p in cm.producers[u]:
                self.reads[u] |= 1 << p
            for c in cm.consumers[u]:
                self.outside[u] |= 1 << c
        self.is_output = cm.is_output
        # under tiles a tile may be one row and one column, and a window clipped at the border may be narrower
        # than the kernel: the floor keeps one cell of each tensor (formulations/cost-model.md §7)
        tiles = cm.tiles is not None
        cell = 0 if tiles and not cm.tiles.geometry.every_cell_held else 1
        self.row_unit = [cm.word * cm.min_channels[t] * (cell if tiles else cm.W[t]) for t in range(n)]
        # what an escaping member holds at one strip (one tile): all its rows (and columns)
        self.whole_unit = [cm.word * cm.min_channels[t] * cm.H[t] * cm.W[t] for t in range(n)]
        readers: list[list[tuple[int, int]]] = [[] for _ in range(n)]
        for c in self.layers:
            for p in set(cm.producers[c]):
                readers[p].append((c, 1 if tiles else min(cm.H[p], cm.span[c])))
        self.readers = [sorted(r, key=lambda cr: (-cr[1], cr[0])) for r in readers]
        # under tiles, where every tensor keeps a cell at every tiling, the reload floor counts the tiles that
        # the first tile's window forces (formulations/candidate-space.md, "The cost floor")
        self._least_reloads = cm.tiles.geometry.least_reloads if tiles and cell == 1 else None

    def _enumerate(self, deadline: Deadline, make: Callable[..., Candidate], limit: int | None = None) -> None:
        """Grow every convex connected set from each seed, carrying for each set the unions of its members'
        descendants, ancestors, neighbours and producers, its weight bytes and its footprint floor, so that a
        growth step costs a few bitset operations instead of a pass over the members (formulations/
        candidate-space.md)."""
        start = time.perf_counter()
        cap = self.max_group
        cm = self.cm
        buffer = cm.buffer
        self._prepare_floor()
        pyramid = cm.pyramid_bytes
        desc, anc, adj, reads = self.desc, self.anc, self.adj, self.reads
        wb, blocks = cm.weight_bytes, cm.block_bytes
        within = self.within
        for r in self.layers:
            if not self.seeds >> r & 1:
                continue
            seed = 1 << r
            rows0 = self._floor_step(0, seed, seed)
            # under tiles the layer's own floor decides (passes need no block; its first tile may need more than
            # the one cell per tensor that rows0 counts); under strips rows0 and the block are that floor
            if (cm.tiles is not None or rows0 + blocks[r] > buffer) and cm.footprint_floor([r]) > buffer:
                self.pruned += 1
                continue
            seen = {seed}
            # (set, size, descendants, ancestors, neighbours, producers, weight bytes, floor rows part, block, pyramid)
            stack = [(seed, 1, desc[r], anc[r], adj[r], reads[r], wb[r], rows0, blocks[r], 0)]
            above = ~((1 << (r + 1)) - 1) & within
            found = self.by_first[r]
            while stack:
                mask, size, d, a, near, rd, w, rows, blk, pyr = stack.pop()
                self.explored += 1
                found.append(make(mask, r, size, rd, w, rows, blk, pyr))
                if self.explored == limit or (self.explored % 256 == 0 and deadline.expired()):
                    self.complete, self.capped = False, self.explored == limit
                    self.seconds = time.perf_counter() - start
                    return
                if cap is not None and size >= cap:
                    continue
                for v in reversed(bits(near & above & ~mask)):
                    d1, a1 = d | desc[v], a | anc[v]
                    grown = mask | (1 << v) | (d1 & a1)
                    if grown in seen:
                        continue
                    seen.add(grown)
                    added = grown & ~mask
                    size1 = size + added.bit_count()
                    if cap is not None and size1 > cap:
                        continue
                    near1, rd1, w1, blk1 = near, rd, w, blk
                    m = added
                    while m:
                        low = m & -m
                        m ^= low
                        u = low.bit_length() - 1
                        near1 |= adj[u]
                        rd1 |= reads[u]
                        w1 += wb[u]
                        if blocks[u] > blk1:
                            blk1 = blocks[u]
                    rows1 = rows + self._floor_step(mask, grown, added)
                    if rows1 + blk1 > buffer:
                        self.pruned += 1
                        continue
                    pyr1 = pyramid(grown, rd1)
                    if pyr1 + blk1 > buffer:
                        self.pruned += 1
                        continue
                    stack.append((grown, size1, d1, a1, near1, rd1, w1, rows1, blk1, pyr1))
            found.sort(key=lambda c: (c.size, c.mask))
        self.seconds = time.perf_counter() - start

    def restrict(self, together: list[int] = (), apart: list[int] = ()) -> None:
        """Keep only groups that hold each ``together`` set whole or not at all, and at most one layer of each
        ``apart`` set (bitsets). Growth already passed through the dropped sets, so no kept group is lost."""
        if not together and not apart:  # nothing to drop: skip a pass over every candidate
            return
        for r, found in self.by_first.items():
            self.by_first[r] = [c for c in found
                                if all(c.mask & t in (0, t) for t in together)
                                and all((c.mask & a).bit_count() <= 1 for a in apart)]

    def following(self, done: int) -> Iterator[Candidate]:
        """The candidate groups that may run right after the layers of the down-set ``done``: those whose first
        layer is ready (every producer in ``done``), that hold no layer of ``done`` and read nothing outside it
        (the transitions of the down-set DP, formulations/exact-dp.md)."""
        pred, by_first = self.pred, self.by_first
        for r in self.rows:
            if done >> r & 1 or pred[r] & ~done:
                continue
            for cand in by_first[r]:
                if not (cand.mask & done or cand.needs & ~done):
                    yield cand

    def __iter__(self):
        for r in self.layers:
            yield from self.by_first[r]

    def __len__(self) -> int:
        return sum(len(v) for v in self.by_first.values())

    def describe(self) -> str:
        cap = f"at most {self.max_group} layers" if self.max_group else "no size cap"
        return f"convex connected groups ({cap})"
