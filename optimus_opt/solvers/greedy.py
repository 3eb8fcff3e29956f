"""``greedy-merge``: greedy pairwise fusion. Start from layer-by-layer execution and, while some merge saves bytes,
make the merge that saves the largest share of what the groups it replaces cost, where merging groups A and B
joined by a tensor makes their hull (every layer on a path between them) one group
(:func:`~optimus_opt.solvers.windows.merge_groups`). The share, not the bytes: a merge of two large groups saves
many bytes and can block cheaper, better merges of its parts (on NASNet-A Mobile at 512 KiB ranking by bytes ends
at 52,173,044 B, by share at 47,333,924 B; on ResNet-18 at 512 KiB, 47,859,728 B against the optimum, 45,451,280
B).

This is the agglomerative fusion of compilers' greedy fusion passes, priced by the exact cost model and free of any
linear order, so it forms groups no segment of one order holds and that the Optimus recursion's beam drops: on
NASNet-A Mobile at 512 KiB, most of its groups are a normal cell's body with the next cell's first 1 × 1 conv. It
is a heuristic (a merge that would pay off only after a later one is never made), ``feasible`` at best, and runs in
seconds on the zoo's largest network; formulations/refine.md, "Group merges", states the move.
"""

from __future__ import annotations

from ..cost.candidates import bits
from ..cost.cost_model import CostModel
from .base import SolveOptions, Solver, SolverResult
from .layerwise import Layerwise
from .windows import merge_groups


class GreedyMerge(Solver):
    name = "greedy-merge"
    description = ("greedy fusion: from layer-by-layer, merge the two groups that save the largest share of their "
                   "cost, until no merge saves")
    space = ("schedules reached from layer-by-layer execution by merging, one pair at a time, two groups joined by "
             "a tensor into their hull, each merge the one that saves the largest share of what it replaces")
    order = 45

    def search(self, cm: CostModel, options: SolveOptions) -> SolverResult:
        start = Layerwise().search(cm, options)
        if not start.groups:
            return start
        current = [(1 << members[0], tiling) for members, tiling in start.groups]
        merged, stopped = merge_groups(cm, current, options.deadline, options.max_group)
        info = {"merges": merged, "stopped_by_time": stopped}
        return SolverResult(status="feasible", groups=[(tuple(bits(mask)), t) for mask, t in current], info=info)
