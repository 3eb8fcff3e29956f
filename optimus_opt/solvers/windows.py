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
then the next, wider one: :data:`FIRST_WIDTH`, ×1.5, … up to the ``window`` option (:data:`DEFAULT_WINDOW`). A
group larger than the width is kept as it is at that width. The result is a schedule no window of the last width
can improve; when one window held the whole schedule it is the optimum over every schedule, and the status says
``optimal``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Sequence

from ..cost.candidates import CandidateSpace, bits
from ..cost.cost_model import CostModel, Tiling, mask_of
from ..utils.deadline import NEVER, Deadline
from .downsets import downset_dp

#: The narrowest window, in layers, and the default widest (the ``window`` option).
FIRST_WIDTH = 8
DEFAULT_WINDOW = 24
#: Each width is this many times the one before (rounded down), until the widest.
GROWTH = 1.5


def widths(window: int) -> list[int]:
    """The window widths swept in turn, narrowest first, ending at ``window``.

    >>> widths(24), widths(8), widths(5)
    ([8, 12, 18, 24], [8], [5])
    """
    out = [min(FIRST_WIDTH, window)]
    while out[-1] < window:
        out.append(min(window, int(out[-1] * GROWTH)))
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

    @property
    def cost(self) -> int:
        return sum(t.cost for _, t in self.groups)

    def info(self) -> dict:
        return {"windows_solved": self.windows, "windows_improved": self.improved, "widest_window": self.widest,
                "refine_seconds": round(self.seconds, 6), "refine_stopped_by_time": self.stopped}


def refine(cm: CostModel, groups: Sequence[tuple[Sequence[int], Tiling]], deadline: Deadline = NEVER, *,
           window: int | None = DEFAULT_WINDOW, max_group: int | None = None) -> Refinement:
    """Improve a valid schedule (groups in execution order) window by window until no window of the widest width
    improves it or ``deadline`` passes; a window cut short by the deadline changes nothing. ``window`` is the
    widest width in layers; ``None`` widens until one window holds the whole schedule (or the deadline passes).
    ``max_group`` caps the groups the windows may form. Deterministic: windows and the DP go in a fixed order."""
    began = time.perf_counter()
    current = [(mask_of(members), tiling) for members, tiling in groups]
    if window is None:
        window = sum(mask.bit_count() for mask, _ in current)
    solved = improved = widest = 0
    proven = stopped = False
    for width in widths(window):
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
                if not finished:
                    stopped = True
                    break
                solved += 1
                widest = max(widest, size)
                whole = i == 0 and j == len(current)
                if better is not None:
                    current[i:j] = better
                    improved += 1
                    changed = True
                if whole and max_group is None:  # the window held the whole schedule: the DP proved it
                    proven = True
                    break
                i += max(1, (j - i if better is None else len(better)) // 2)
        if stopped or proven:
            break
    out = tuple((tuple(bits(mask)), tiling) for mask, tiling in current)
    return Refinement(groups=out, proven=proven, stopped=stopped, windows=solved, improved=improved, widest=widest,
                      seconds=time.perf_counter() - began)


def _solve_window(cm: CostModel, current: list[tuple[int, Tiling]], i: int, j: int, deadline: Deadline,
                  max_group: int | None) -> tuple[list[tuple[int, Tiling]] | None, bool]:
    """The best schedule of groups i … j−1 run after groups 0 … i−1 when it is cheaper than they are (else None),
    and whether the window was solved before the deadline."""
    start = window = 0
    for mask, _ in current[:i]:
        start |= mask
    for mask, _ in current[i:j]:
        window |= mask
    space = CandidateSpace(cm, max_group=max_group, deadline=deadline, within=window)
    if not space.complete:
        return None, False
    cost, cands, _, finished = downset_dp(cm, space, deadline, start=start)
    if not finished:
        return None, False
    if cost is None or cost >= sum(t.cost for _, t in current[i:j]):
        return None, True
    return [(c.mask, c.tiling(cm)) for c in cands], True
