"""Window refinement: improve a schedule by re-solving windows of its consecutive groups exactly (a
large-neighbourhood search whose neighbourhoods are solved by the down-set DP). The ``refine`` solver
(:mod:`~optimus_opt.solvers.refine`), ``auto`` and the exact solvers' anytime fallback use it.

Why a window may be re-solved on its own (formulations/refine.md): the groups G_i … G_j that follow one another in a
valid schedule cover U = D_j − D_{i−1}, the difference of two of its down-sets, so U is convex and every tensor U
reads from outside is a network input or produced in D_{i−1}. Any valid schedule of U's layers run after D_{i−1}
can take the place of G_i … G_j: the groups after the window read tensors of D_j, all produced by then. A group's
cost depends on the group alone, so the schedule's cost changes by exactly the window's. The down-set DP of
``exact-dp`` restricted to U's convex connected groups and started at D_{i−1} finds the window's best schedule,
never worse than its present groups, which are among its candidates.

Windows are slid over the schedule with half-overlap; a width (in layers) is swept until a sweep improves nothing,
then the next, wider one: :data:`FIRST_WIDTH`, ×1.5, … up to the ``window`` option (:data:`DEFAULT_WINDOW`). Wider
windows (where the widths grow without end) are solved by columns on demand (:mod:`.window_columns`), whose LP and
CP-SAT do not enumerate the down-sets that multiply with a wide window's parallel paths. A
group larger than the width is kept as it is at that width. The result is a schedule no window of the last width
can improve; when one window held the whole schedule it is the optimum over every schedule, and the status says
``optimal``.

Windows see only groups that run one after another, but a layer's best group may run far from it: on NASNet-A a
1 × 1 conv that reads a cell's output belongs with the group that produces that output, two cells before the conv
runs. So whenever no window of a width improves, *layer moves* (:func:`move_layers`) try each layer in the group
of each of its producers and readers; improving moves are made, the groups are put back in a valid order, and the
windows of that width are swept again (formulations/refine.md, "Layer moves"). When no layer move improves either,
*group merges* (:func:`merge_groups`) join two groups linked by a tensor into their hull, which no single move can
do when each layer's move alone costs more ("Group merges"); the ``greedy-merge`` heuristic is that move alone,
from layer-by-layer execution. When no merge improves either, *branch swaps* (:func:`swap_branches`) exchange a
branch of one group for a branch of another, or move a branch between them: what a window cannot do when the two
groups hold more layers than its width, nor a move or a merge when the branch must leave as a whole and the
other group cannot take it without giving one back ("Branch swaps").
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ..cost.candidates import CandidateSpace, Reach, bits
from ..cost.cost_model import CostModel, Tiling, mask_of
from ..cost.partition import components
from ..utils.deadline import NEVER, Deadline
from .downsets import downset_dp
from .window_columns import solve_by_columns

#: The narrowest window, in layers, and the default widest (the ``window`` option).
FIRST_WIDTH = 8
DEFAULT_WINDOW = 24
#: Each width is this many times the one before (rounded down), until the widest.
GROWTH = 1.5
#: The widest window the DP solves; wider ones are solved by columns on demand (window_columns.py): the DP's
#: down-sets multiply with the parallel paths of a wide window. The first of those widths is COLUMN_WIDTH, where a
#: window's candidates are still enumerated compiled (at most a machine word of layers).
DP_WIDTH = DEFAULT_WINDOW
COLUMN_WIDTH = 56
#: The most seconds one window by columns may take; one that takes longer is left as it is (``windows_skipped``)
#: and the sweep goes on: a few windows of NASNet-A Mobile whose LP degenerates would otherwise take the whole run.
COLUMN_SECONDS = 60.0


def widths(window: int) -> list[int]:
    """The window widths swept in turn, narrowest first, ending at ``window``: ×1.5 from :data:`FIRST_WIDTH` up to
    :data:`DP_WIDTH`, then from :data:`COLUMN_WIDTH` on.

    >>> widths(24), widths(8), widths(5), widths(100), widths(30)
    ([8, 12, 18, 24], [8], [5], [8, 12, 18, 24, 56, 84, 100], [8, 12, 18, 24, 30])
    """
    out = [min(FIRST_WIDTH, window)]
    while out[-1] < window:
        grown = int(out[-1] * GROWTH)
        if out[-1] == DP_WIDTH:
            grown = COLUMN_WIDTH
        elif out[-1] < DP_WIDTH < grown:
            grown = DP_WIDTH
        out.append(min(window, grown))
    return out


@dataclass(frozen=True)
class Refinement:
    """The outcome of :func:`refine`: the schedule as groups with their tilings, whether it is proven optimal (a
    window held the whole schedule), whether the deadline cut it short, and what was done."""

    groups: tuple[tuple[tuple[int, ...], Tiling], ...]
    proven: bool
    stopped: bool
    windows: int
    improved: int
    widest: int
    seconds: float
    moves: int = 0
    merges: int = 0
    swaps: int = 0
    skipped: int = 0

    @property
    def cost(self) -> int:
        return sum(t.cost for _, t in self.groups)

    def info(self) -> dict:
        return {"windows_solved": self.windows, "windows_improved": self.improved, "widest_window": self.widest,
                "layer_moves": self.moves, "group_merges": self.merges, "branch_swaps": self.swaps,
                "windows_skipped": self.skipped,
                "refine_seconds": round(self.seconds, 6), "refine_stopped_by_time": self.stopped}


def refine(cm: CostModel, groups: Sequence[tuple[Sequence[int], Tiling]], deadline: Deadline = NEVER, *,
           window: int | None = DEFAULT_WINDOW, max_group: int | None = None,
           improved_to: Callable[[Refinement], None] | None = None, above: int = 0) -> Refinement:
    """Improve a valid schedule (groups in execution order) window by window until no window of the widest width
    improves it or ``deadline`` passes; a window cut short by the deadline changes nothing. ``window`` is the
    widest width in layers; ``None`` widens until one window holds the whole schedule (or the deadline passes).
    The widths up to ``above`` are skipped: a schedule already refined at them (:func:`refine_starts`) gains
    little from sweeping them again.
    ``max_group`` caps the groups the windows may form; ``improved_to``, when given, is called with the schedule
    so far after each window or round of moves that improves it (the process beside a search sends it on).
    Deterministic: windows and the DP go in a fixed order (but for a window by columns that reaches its cap of
    :data:`COLUMN_SECONDS`, which depends on the machine's speed)."""
    began = time.perf_counter()
    current = [(mask_of(members), tiling) for members, tiling in groups]
    if window is None:
        window = sum(mask.bit_count() for mask, _ in current)
    solved = improved = widest = moves = merges = swaps = skipped = 0
    proven = stopped = False

    def result() -> Refinement:
        return Refinement(groups=tuple((tuple(bits(mask)), tiling) for mask, tiling in current), proven=proven,
                          stopped=stopped, windows=solved, improved=improved, widest=widest,
                          seconds=time.perf_counter() - began, moves=moves, merges=merges, swaps=swaps,
                          skipped=skipped)
    for width in [width for width in widths(window) if width > above]:
        changed = True
        while changed and not (stopped or proven):
            changed = False
            i = 0
            while i < len(current):
                j, size = i, 0
                while j < len(current) and size + current[j][0].bit_count() <= width:
                    size += current[j][0].bit_count()
                    j += 1
                if j == i:  # one group wider than the window: kept at this width
                    i += 1
                    continue
                better, finished = _solve_window(cm, current, i, j, deadline, max_group)
                if better is None and not finished:
                    if deadline.expired():
                        stopped = True
                        break
                    skipped += 1  # a window by columns over its own limit: left as it is
                    i += max(1, (j - i) // 2)
                    continue
                solved += 1
                widest = max(widest, size)
                whole = i == 0 and j == len(current)
                if better is not None:
                    current[i:j] = better
                    improved += 1
                    changed = True
                    if improved_to is not None:
                        improved_to(result())
                if whole and finished and max_group is None:  # the window held the whole schedule, solved exactly
                    proven = True
                    break
                i += max(1, (j - i if better is None else len(better)) // 2)
            if not (changed or stopped or proven):  # no window of this width improves: move layers, sweep again
                moved, stopped = move_layers(cm, current, deadline, max_group)
                merged = swapped = 0
                if not (moved or stopped):  # nor any layer move: merge groups
                    merged, stopped = merge_groups(cm, current, deadline, max_group)
                    merges += merged
                if not (moved or merged or stopped):  # nor any merge: swap branches
                    swapped, stopped = swap_branches(cm, current, deadline, max_group)
                    swaps += swapped
                moves += moved
                changed = moved > 0 or merged > 0 or swapped > 0
                if changed and improved_to is not None:
                    improved_to(result())
        if stopped or proven:
            break
    return result()


def by_cost(runs: Sequence[tuple[str, Any, float]]) -> list[tuple[str, Sequence[tuple[Sequence[int], Tiling]]]]:
    """The schedules of heuristic runs (solver name, result, seconds) as (name, groups), cheapest first (equal costs
    in run order), leaving out runs that found none: the starts of :func:`refine_starts`."""
    return cheapest_first([(name, result.groups) for name, result, _ in runs if result.groups])


def cheapest_first(starts: Sequence[tuple[str, Sequence[tuple[Sequence[int], Tiling]]]]
                   ) -> list[tuple[str, Sequence[tuple[Sequence[int], Tiling]]]]:
    """Starts of :func:`refine_starts`, (name, groups), cheapest first (equal costs in the order given)."""
    return sorted(starts, key=lambda start: sum(t.cost for _, t in start[1]))


def refine_starts(cm: CostModel, starts: Sequence[tuple[str, Sequence[tuple[Sequence[int], Tiling]]]],
                  deadline: Deadline = NEVER, *, window: int = DEFAULT_WINDOW, widen: bool = False,
                  reserve: bool = False, max_group: int | None = None,
                  improved_to: Callable[[str, Refinement], None] | None = None) -> tuple[str, Refinement]:
    """Refine several valid schedules, (name, groups) in the order given (the cheapest first, say), and return the
    cheapest result with its start's name (the first on a tie; a proven one ends the search).

    Each start is refined up to ``window`` until it converges or its slice of the time passes: an equal share of
    what is left of ``deadline`` among the starts not yet refined, and with ``reserve`` the widening too (without
    a limit, each until it converges). With ``widen`` the cheapest result is then refined with the widths beyond
    ``window`` growing until the deadline: the starts had their time at the narrower ones. The process beside a
    search, with minutes to refine, reserves; ``auto``, with seconds, does not (formulations/refine.md, "Several
    starts", measures both). Why several: a cheaper start does not always reach the better local optimum. On
    NASNet-A Mobile at 128 KiB, 20 s each, greedy-merge's 95,462,996 B reaches 86,376,532 B, optimus's
    123,660,292 B 81,110,084 B and efficient-s's 176,228,932 B 80,557,444 B. ``improved_to`` is called with the
    start's name and the schedule so far whenever it is the cheapest yet."""
    best: tuple[str, Refinement] | None = None

    def better(out: Refinement) -> bool:
        return best is None or out.cost < best[1].cost or (out.proven and not best[1].proven)

    def report(name: str) -> Callable[[Refinement], None] | None:
        def send(so_far: Refinement) -> None:
            if better(so_far):
                improved_to(name, so_far)  # type: ignore[misc]
        return None if improved_to is None else send

    for k, (name, groups) in enumerate(starts):
        if best is not None and (best[1].proven or deadline.expired()):
            break
        share = 1 / (len(starts) - k + (widen and reserve))  # a reserved widening counts as one start more
        out = refine(cm, groups, deadline.sub(share=share), window=window, max_group=max_group,
                     improved_to=report(name))
        if better(out):
            best = (name, out)
    assert best is not None, "no start to refine"
    if widen and not best[1].proven and not deadline.expired():
        name = best[0]
        out = refine(cm, best[1].groups, deadline, window=None, max_group=max_group, improved_to=report(name),
                     above=window)
        if better(out):
            best = (name, out)
    return best


def move_layers(cm: CostModel, current: list[tuple[int, Tiling]], deadline: Deadline = NEVER,
                max_group: int | None = None) -> tuple[int, bool]:
    """Move single layers between groups while that lowers the cost, in place; return the moves made and whether
    the deadline cut the search short.

    For each layer v in id order, every group holding a producer or a reader of v is tried as v's new group: the
    move is valid when that group with v is convex, the rest of v's group splits into convex connected parts (or
    nothing), every changed group has a tiling, and the groups still admit an order (no cycle between them). The
    move that lowers the cost most is made (ties: the group of the earliest layer), and passes repeat until one
    makes no move. The groups are then put back in an order that runs each as early as its inputs allow, the
    earliest first layer first (:func:`_in_order`)."""
    reach = Reach.of(cm)
    net = cm.network
    groups = [mask for mask, _ in current]
    cost_of = _GroupCost(cm, current, max_group)
    moved = 0
    stopped = False
    again = True
    while again and not stopped:
        again = False
        for v in net.layer_ids:
            if deadline.expired():
                stopped = True
                break
            home = next(k for k, g in enumerate(groups) if g >> v & 1)
            best = None
            targets = sorted({k for k, g in enumerate(groups) if k != home
                              and any(g >> u & 1 for u in (*cm.producers[v], *cm.consumers[v]))},
                             key=lambda k: groups[k] & -groups[k])
            for k in targets:
                joined = groups[k] | 1 << v
                if reach.hull(joined) != joined or (delta := _move_delta(cm, groups, home, k, joined, reach,
                                                                         cost_of)) is None:
                    continue
                gain, parts = delta
                if gain < 0 and (best is None or gain < best[0]):
                    trial = [g for i, g in enumerate(groups) if i not in (home, k)] + [joined, *parts]
                    if _in_order(cm, trial) is not None:
                        best = (gain, trial)
            if best is not None:
                groups = best[1]
                moved += 1
                again = True
    if moved:
        current[:] = [(g, cost_of.tiling[g]) for g in _in_order(cm, groups)]
    return moved, stopped


def merge_groups(cm: CostModel, current: list[tuple[int, Tiling]], deadline: Deadline = NEVER,
                 max_group: int | None = None) -> tuple[int, bool]:
    """Merge pairs of groups while that lowers the cost, in place; return the merges made and whether the deadline
    cut the search short.

    For every two groups A, B joined by a tensor (one produces it and the other reads it, or both read it), the
    merged group is the hull M of A ∪ B (the layers on paths between them): every group that meets M gives its
    layers in M to M, and the rest of each splits into connected parts. The merge is valid when each part is
    convex, M and every part have a tiling, and the groups still admit an order. Of the valid merges that lower the
    cost, the one that saves the largest share of what the groups it replaces cost is made (ties: the pair that
    comes first in the schedule), the groups are put back in order (:func:`_in_order`), and merging repeats until
    none lowers the cost. Layer moves cannot do this when every layer's move alone costs more (a group split in two
    halves whose tensors between them are each read by several layers), nor windows when the two groups run far
    apart or hold more layers than the width."""
    reach = Reach.of(cm)
    groups = [mask for mask, _ in current]
    cost_of = _GroupCost(cm, current, max_group)
    merged = 0
    known: dict[tuple[int, int], tuple[float | None, int, tuple[int, ...], list[int]]] = {}
    while not deadline.expired():
        present = set(groups)
        gains = []
        for a, b in _linked(cm, groups):
            key = (groups[a], groups[b])
            if key not in known or not present.issuperset(known[key][2]):  # a merge's saving: while its groups stand
                hull = reach.hull(key[0] | key[1])
                hit = tuple(g for g in groups if g & hull)
                parts = _rest_parts(cm, reach, [g & ~hull for g in hit])
                gain = None if parts is None else _gain(cost_of, [hull, *parts], hit)
                # the share of their cost the merged groups save (negative), when the merge saves anything
                share = gain / sum(cost_of(g) for g in hit) if gain is not None and gain < 0 else None
                known[key] = (share, hull, hit, parts or [])
            share = known[key][0]
            if share is not None:  # the largest share first
                gains.append((share, len(gains), key))
        for _, _, key in sorted(gains):  # the best merge after which the groups still admit an order
            _, hull, hit, parts = known[key]
            ordered = _in_order(cm, [g for g in groups if g not in hit] + [hull, *parts])
            if ordered is not None:
                groups = ordered
                merged += 1
                break
        else:
            break
    if merged:
        current[:] = [(g, cost_of.tiling[g]) for g in groups]
    return merged, deadline.expired()


def swap_branches(cm: CostModel, current: list[tuple[int, Tiling]], deadline: Deadline = NEVER,
                  max_group: int | None = None) -> tuple[int, bool]:
    """Exchange a branch of one group for a branch of another, or move a branch from one group to another, while
    that lowers the cost, in place; return the exchanges and moves made and whether the deadline cut the search
    short.

    A *branch* of group A at layer v (:func:`branches`) is v with the layers of A whose readers all lie in the
    branch: what reaches the rest of the schedule only through v. For every two groups A, B joined by a tensor,
    each branch X of A and Y of B (Y possibly empty, and the same with A and B swapped) gives A − X + Y and
    B − Y + X; the change is valid when both are non-empty, convex and connected, have a tiling, and the groups
    still admit an order. The valid change that lowers the cost most is made (ties: the first found, pairs in
    schedule order), the groups are put back in order (:func:`_in_order`), and the search repeats until none lowers
    the cost. Found on NASNet-A Mobile at 512 KiB (formulations/refine.md, "Branch swaps"): a group held one
    comb of a cell and the next group the cell's other four; holding the other comb alone moves 137,984 B fewer.
    No layer move nor merge lowers the cost of that schedule, and the down-set DP does not finish a window of the
    two groups (30 layers) in 20 s."""
    reach = Reach.of(cm)
    groups = [mask for mask, _ in current]
    cost_of = _GroupCost(cm, current, max_group)
    readers = [sum(1 << c for c in cm.consumers[u]) for u in range(cm.n)]
    swapped = 0
    while not deadline.expired():
        best = None
        for a, b in _linked(cm, groups):
            base = cost_of(groups[a]) + cost_of(groups[b])
            ours, theirs = branches(cm, groups[a], readers), branches(cm, groups[b], readers)
            for x, y in [(x, y) for x in ours for y in (0, *theirs)] + [(0, y) for y in theirs]:
                new_a, new_b = groups[a] & ~x | y, groups[b] & ~y | x
                # convex and connected: the hull first, which refuses most (the parts alone: NASNet's swaps 3x slower)
                if not (new_a and new_b) or reach.hull(new_a) != new_a or reach.hull(new_b) != new_b \
                        or _rest_parts(cm, reach, [new_a]) != [new_a] or _rest_parts(cm, reach, [new_b]) != [new_b]:
                    continue
                costs = (cost_of(new_a), cost_of(new_b))
                if None in costs or sum(costs) - base >= (0 if best is None else best[0]):
                    continue
                trial = [g for k, g in enumerate(groups) if k not in (a, b)] + [new_a, new_b]
                if (ordered := _in_order(cm, trial)) is not None:
                    best = (sum(costs) - base, ordered)
            if deadline.expired():
                break
        if best is None:
            break
        groups = best[1]
        swapped += 1
    if swapped:
        current[:] = [(g, cost_of.tiling[g]) for g in groups]
    return swapped, deadline.expired()


def branches(cm: CostModel, group: int, readers: Sequence[int] | None = None) -> list[int]:
    """The branches of ``group`` (a bitset), as bitsets in increasing order, each once: for each member v, v and
    the members whose readers all lie in the branch, none of them a network output (layer ids are topological, so
    the members below v are decided from the last down). ``readers``: each node's readers as a bitset."""
    if readers is None:
        readers = [sum(1 << c for c in cm.consumers[u]) for u in range(cm.n)]
    members = list(bits(group))
    out = set()
    for k, v in enumerate(members):
        branch = 1 << v
        for u in reversed(members[:k]):
            if readers[u] and not cm.is_output[u] and not readers[u] & ~branch:
                branch |= 1 << u
        out.add(branch)
    return sorted(out)


def _linked(cm: CostModel, groups: Sequence[int]) -> list[tuple[int, int]]:
    """The pairs (a, b), a < b, of groups joined by a tensor (one produces it and the other reads it, or both read
    it), in order."""
    home = {u: k for k, g in enumerate(groups) for u in bits(g)}
    pairs = set()
    for tensor in (*cm.network.input_ids, *cm.network.layer_ids):
        near = sorted({home[c] for c in cm.consumers[tensor]} | ({home[tensor]} if tensor in home else set()))
        pairs.update((a, b) for i, a in enumerate(near) for b in near[i + 1:])
    return sorted(pairs)


class _GroupCost:
    """A group's cost by its best tiling (None: no tiling fits, or more layers than ``max_group``), cached; starts
    with the tilings the schedule already has."""

    def __init__(self, cm: CostModel, current: list[tuple[int, Tiling]], max_group: int | None) -> None:
        self.cm = cm
        self.max_group = max_group
        self.tiling: dict[int, Tiling | None] = {mask: t for mask, t in current}

    def __call__(self, mask: int) -> int | None:
        if mask not in self.tiling:
            over = self.max_group is not None and mask.bit_count() > self.max_group
            self.tiling[mask] = None if over else self.cm.best_tiling_of_mask(mask)
        t = self.tiling[mask]
        return None if t is None else t.cost


def _rest_parts(cm: CostModel, reach: Reach, rests: Sequence[int]) -> list[int] | None:
    """The connected parts of what is left of changed groups, or None when one of them is not convex."""
    parts = [mask_of(part) for rest in rests if rest for part in components(cm.network, bits(rest))]
    return None if any(reach.hull(p) != p for p in parts) else parts


def _gain(cost_of: _GroupCost, new: Sequence[int], old: Sequence[int]) -> int | None:
    """The change of cost when the groups ``old`` are replaced by ``new``; None when a new group has no tiling."""
    costs = [cost_of(m) for m in new]
    if None in costs:
        return None
    return sum(costs) - sum(cost_of(m) for m in old)


def _move_delta(cm: CostModel, groups: list[int], home: int, target: int, joined: int, reach: Reach,
                cost_of: _GroupCost) -> tuple[int, list[int]] | None:
    """The change of cost when the layer in ``joined`` but not in ``groups[target]`` leaves ``groups[home]``, with
    the parts its old group falls into; None when a changed group is not convex or has no tiling."""
    parts = _rest_parts(cm, reach, [groups[home] & ~joined])
    if parts is None or (gain := _gain(cost_of, [joined, *parts], [groups[home], groups[target]])) is None:
        return None
    return gain, parts


def _in_order(cm: CostModel, groups: list[int]) -> list[int] | None:
    """The groups in an order that runs each after the groups it reads from, the one with the earliest first layer
    whenever several may run (deterministic); None when no order exists (a cycle between groups)."""
    home = {}
    for k, g in enumerate(groups):
        for u in bits(g):
            home[u] = k
    after: list[set[int]] = [set() for _ in groups]
    waiting = [0] * len(groups)
    for k, g in enumerate(groups):
        for u in bits(g):
            for c in cm.consumers[u]:
                j = home.get(c, k)
                if j != k and j not in after[k]:
                    after[k].add(j)
                    waiting[j] += 1
    ready = [((g & -g).bit_length(), k) for k, g in enumerate(groups) if not waiting[k]]
    heapq.heapify(ready)
    out = []
    while ready:
        _, k = heapq.heappop(ready)
        out.append(groups[k])
        for j in after[k]:
            waiting[j] -= 1
            if not waiting[j]:
                heapq.heappush(ready, ((groups[j] & -groups[j]).bit_length(), j))
    return out if len(out) == len(groups) else None


def _solve_window(cm: CostModel, current: list[tuple[int, Tiling]], i: int, j: int, deadline: Deadline,
                  max_group: int | None) -> tuple[list[tuple[int, Tiling]] | None, bool]:
    """A cheaper schedule of groups i … j−1, run after groups 0 … i−1, than they are (else None), and whether the
    window was solved exactly before the deadline (then that schedule is its best). Windows of up to
    :data:`DP_WIDTH` layers are solved by the down-set DP, wider ones by columns on demand in at most
    :data:`COLUMN_SECONDS`."""
    start = window = 0
    for mask, _ in current[:i]:
        start |= mask
    for mask, _ in current[i:j]:
        window |= mask
    now = sum(t.cost for _, t in current[i:j])
    if window.bit_count() > DP_WIDTH:
        return solve_by_columns(cm, window, now, deadline.sub(COLUMN_SECONDS), max_group)
    space = CandidateSpace(cm, max_group=max_group, deadline=deadline, within=window)
    if not space.complete:
        return None, False
    cost, cands, _, finished = downset_dp(cm, space, deadline, start=start, frontier=False)
    if not finished:
        return None, False
    if cost is None or cost >= now:
        return None, True
    return [(c.mask, c.tiling(cm)) for c in cands], True
