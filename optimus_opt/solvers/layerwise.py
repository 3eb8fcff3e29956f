"""``layerwise``: no fusion. Every layer is its own group with its best tiling (the "no fusion" baseline of the
Optimus paper)."""

from __future__ import annotations

from ..cost.cost_model import CostModel
from .base import SolveOptions, Solver, SolverResult


class Layerwise(Solver):
    name = "layerwise"
    description = "no fusion: every layer alone, with its best tiling"
    space = "layer-by-layer schedules (one layer per group)"
    order = 10

    def search(self, cm: CostModel, options: SolveOptions) -> SolverResult:
        groups = []
        unplaced = []
        for u in cm.network.layer_ids:
            tiling = cm.best_tiling([u])
            if tiling is None:
                unplaced.append(u)
            else:
                groups.append(((u,), tiling))
        if unplaced:
            names = cm.network.layers
            worst = ", ".join(f"'{names[u].name}' needs at least {cm.least_buffer([u]):,} bytes" for u in unplaced[:3])
            rest = len(unplaced) - 3
            more = f" (and {rest} more layer{'s' if rest != 1 else ''})" if rest > 0 else ""
            return SolverResult(
                status="infeasible", unplaced=unplaced,
                message=f"no layer-by-layer schedule fits the {cm.buffer:,}-byte buffer: {worst}{more}. "
                        "A fused group may still place them (reduced channels of a producer shrink what a "
                        "layer reads); try an exact solver.")
        return SolverResult(status="feasible", groups=groups)
