"""Why an instance has no schedule, in figures: what each layer needs, and the least buffer with which a schedule
exists.

A group is feasible at buffer B exactly when B is at least its *need*: the least footprint over its strip counts
plus its largest weight block (:meth:`~optimus_opt.cost.cost_model.CostModel.least_buffer`; a tiling that keeps all
weights resident needs more, and the footprint only shrinks with more strips). So the least buffer B* with which the
instance has any valid schedule is a bottleneck problem over the same chains of down-sets as ``exact-dp``:

    g(∅) = 0,    g(D ∪ S) = min over candidates S that can follow D of max(g(D), need(S)),

and B* = g(all layers). Two bounds bracket it and often meet: no layer can do with less than the least need of
any group containing it (every layer is in some group; the footprint floor bounds groups too large to list), and
the layer-by-layer schedule fits at the largest need of a single layer. The dynamic program runs only between
them, over the candidate groups that fit the upper bound, under a time limit; without the time to finish it the
bounds are reported as bounds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..cost.candidates import CandidateSpace, bits
from ..cost.cost_model import CostModel
from ..model.instance import Instance
from ..utils import progress as _progress
from ..utils.deadline import Deadline


@dataclass(frozen=True)
class LayerNeed:
    """What one layer needs: ``alone`` (bytes, as its own group; ``weight_block`` of it is the weight block
    staged) and ``in_group``, the least need of any candidate group that contains it (≤ ``alone``)."""

    name: str
    alone: int
    weight_block: int
    in_group: int


@dataclass(frozen=True)
class BufferNeed:
    """The least buffer with which the instance has a schedule: ``least`` when proven, else within
    [``low``, ``high``]. ``layer_by_layer`` is the least buffer of the schedule without fusion; ``layers`` the
    needs of the layers asked about."""

    low: int
    high: int
    layer_by_layer: int
    layers: dict[str, LayerNeed] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def least(self) -> int | None:
        return self.low if self.low == self.high else None


def least_buffer(instance: Instance, *, layers: list[str] | None = None, time_limit: float | None = 10.0,
                 reporter: _progress.Reporter | None = None, deadline: Deadline | None = None) -> BufferNeed:
    """The least buffer capacity (bytes) with which ``instance`` has a valid schedule, and what ``layers`` (names;
    default none) need. The instance's own buffer does not matter. See the module's docstring for the method.

    Raises nothing for a hard instance: past ``time_limit`` seconds (or ``deadline``, a
    :class:`~optimus_opt.utils.deadline.Deadline` to draw on instead) the result holds bounds (``least`` is None).
    """
    start = time.perf_counter()
    deadline = deadline or Deadline.after(time_limit)
    report = reporter or _progress.NULL
    report.phase("finding the least buffer with which a schedule exists")
    cm = CostModel(instance)
    net = cm.network
    ids = list(net.layer_ids)
    alone = {u: cm.least_buffer([u]) for u in ids}
    high = max(alone.values())
    low = max(cm.footprint_floor([u]) for u in ids)
    in_group = dict(alone)
    if low < high:
        low, high, in_group = _bottleneck(instance, ids, alone, low, high, deadline, report)
    wanted = [net.index[n] for n in layers or () if n in net.index]
    needs = {net.layers[u].name: LayerNeed(name=net.layers[u].name, alone=alone[u],
                                           weight_block=cm.io([u]).weight_block_bytes, in_group=in_group[u])
             for u in wanted}
    return BufferNeed(low=low, high=high, layer_by_layer=max(alone.values()), layers=needs,
                      seconds=time.perf_counter() - start)


def _bottleneck(instance: Instance, ids: list[int], alone: dict[int, int], low: int, high: int,
                deadline: Deadline, report: _progress.Reporter) -> tuple[int, int, dict[int, int]]:
    """Tighten [low, high] by the candidate groups that fit ``high`` and the bottleneck DP over them, until
    ``deadline``."""
    cm = CostModel(instance.with_overrides(buffer_bytes=high))
    space = CandidateSpace(cm, deadline=deadline)
    in_group = dict(alone)
    report.update(candidates=len(space))
    if not space.complete:
        return low, high, in_group
    need: dict[int, int] = {}
    for k, cand in enumerate(space):
        if k % 256 == 0 and deadline.expired():
            return low, high, in_group
        n = cm.least_buffer(bits(cand.mask))
        need[cand.mask] = n
        for u in bits(cand.mask):
            if n < in_group[u]:
                in_group[u] = n
    low = max(low, max(in_group.values()))
    if low >= high:
        return high, high, in_group
    # g over down-sets, visited by size; only chains whose every group needs less than ``high`` are of interest
    full = space.layer_mask
    best: dict[int, int] = {0: 0}
    buckets: dict[int, list[int]] = {0: [0]}
    visited = 0
    for size in range(full.bit_count() + 1):
        for d in buckets.pop(size, ()):
            visited += 1
            if visited % 256 == 0:
                if deadline.expired():
                    return low, high, in_group
                report.update(downsets=len(best))
            gd = best[d]
            for cand in space.following(d):
                g = max(gd, need[cand.mask])
                if g >= high:
                    continue
                nd = d | cand.mask
                old = best.get(nd)
                if old is None:
                    buckets.setdefault(nd.bit_count(), []).append(nd)
                if old is None or g < old:
                    best[nd] = g
    if full in best:
        return max(low, best[full]), best[full], in_group
    return high, high, in_group  # no chain beats the layer-by-layer schedule


def explain(instance: Instance, unplaced: list[str] | tuple[str, ...], *, time_limit: float | None = 10.0,
            reporter: _progress.Reporter | None = None) -> tuple[list[str], str]:
    """Why there is no schedule, in figures: a line per layer that fits no group (at most 10) with what it needs,
    and a line with the least buffer with which the instance has a schedule (proven, or bracketed when the time
    limit stopped the search)."""
    from ..model.accelerator import describe_size

    result = least_buffer(instance, layers=list(unplaced), time_limit=time_limit, reporter=reporter)
    buffer = instance.accelerator.buffer_bytes
    lines = []
    if unplaced:
        lines.append(f"{len(unplaced)} layer{'s' if len(unplaced) != 1 else ''} fit no group of the {buffer:,} B "
                     "buffer; each needs more:")
    shown = list(unplaced)[:10]
    for name in shown:
        need = result.layers.get(name)
        if need is None:
            continue
        maps = need.alone - need.weight_block
        parts = f"{need.alone:,} B alone (feature maps {maps:,} B" + \
            (f" + weight block {need.weight_block:,} B)" if need.weight_block else ")")
        if need.in_group < need.alone:
            parts += f", {need.in_group:,} B in its best fused group"
        lines.append(f"  '{name}' needs {parts}")
    if len(unplaced) > len(shown):
        lines.append(f"  ... and {len(unplaced) - len(shown)} more (the schedule's 'unplaced' lists them all)")
    fusion = f"layer by layer: {result.layer_by_layer:,} B"
    if result.least is not None:
        least = f"{describe_size(result.least)}: the least with which the instance has any schedule ({fusion}); " \
                f"try --buffer {result.least}"
    else:
        least = (f"between {result.low:,} B and {describe_size(result.high)} ({fusion}); the search for the least "
                 f"stopped after {result.seconds:.0f} s")
    return lines, least


__all__ = ["BufferNeed", "LayerNeed", "explain", "least_buffer"]
