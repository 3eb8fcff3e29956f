"""``milp``: the set-partitioning model (setpartition.py) as a mixed-integer linear program solved by HiGHS.

Columns: binary x_S per feasible candidate group; continuous levels t_u ∈ [0, L] per layer. Rows: Σ_{S ∋ u} x_S = 1
per layer; per adjacent pair held together by some group, with y_uv = Σ_{S ∋ u,v} x_S,
t_u − t_v + L·y_uv ≤ L and t_v − t_u + L·y_uv ≤ L (equal levels inside a group); per edge u→v, t_v − t_u ≥ 0 and
t_v − t_u + L·y_uv ≥ 1 (an edge between groups climbs a level). Objective Σ c_S x_S in bytes, with relative gap 0
and absolute gap below one byte, so an "optimal" answer is exact for integer costs. See formulations/milp.md.
"""

from __future__ import annotations

import numpy as np

from ..cost.cost_model import CostModel
from ..model.errors import SolverError
from ..utils.deadline import Deadline
from ..utils.highs import new_highs
from . import anytime
from .base import SolveOptions, SolverResult
from .partition_model import CHECK_EVERY, PartitionModel, in_order, same_group_pairs
from .setpartition import SetPartitionSolver

#: Above this many nonzeros HiGHS's presolve is switched off. It does not look at the time limit: on the width-4
#: scaling network (108,494 columns, 7.0 million nonzeros) it ran 200 s and more of a 10 s limit, and gained
#: nothing (formulations/milp.md); the models of the zoo networks milp solves stay far below.
PRESOLVE_MAX_NONZEROS = 2_000_000
#: The largest integer a double holds exactly (2^53): a model whose objective may add up beyond it (energies in fJ
#: of a large network at a large batch) is refused rather than solved inexactly.
EXACT_FLOAT = 2 ** 53


class Milp(SetPartitionSolver):
    name = "milp"
    description = "exact optimum: set partitioning with big-M level acyclicity, HiGHS MILP"
    requires = ("highspy",)
    exact = timed = threaded = budgets = True
    #: ``warm_start`` is the incumbent a limit leaves (solvers/anytime.py), not a MIP start; no ``parameters``.
    extra_options = ("anytime", "apart", "columns", "export_model",
                     "max_candidates", "max_groups", "prune", "together", "warm_start")
    order = 80
    preload = ("highspy",)

    def optimise(self, cm: CostModel, data: PartitionModel, options: SolveOptions, max_groups: int | None,
                 deadline: Deadline, info: dict) -> SolverResult:
        import highspy

        what = f"stating the HiGHS model of {len(data.columns):,} columns"
        n_layers = len(data.layers)
        alone = {data.members[k][0]: c for k, c in enumerate(data.costs) if len(data.members[k]) == 1}
        ceiling = sum(alone.values()) if len(alone) == len(data.layers) else max(data.costs, default=0) * n_layers
        if ceiling > EXACT_FLOAT:  # the optimum is at most every layer alone (or, without that, any sum)
            raise SolverError(f"milp: this model's optimum ({cm.objective}) may exceed 2^53 (every layer alone "
                              f"costs {ceiling:,}), where HiGHS's double-precision objective is no longer exact to "
                              "the unit; use cpsat (exact 64-bit integers)")

        n_x = len(data.columns)
        level_of = {u: n_x + i for i, u in enumerate(data.layers)}
        big = float(data.levels)
        h = new_highs(options.workers, options.seed)
        h.setOptionValue("mip_rel_gap", 0.0)
        h.setOptionValue("mip_abs_gap", 0.999)  # integer bytes: a gap below one byte proves optimality
        inf = highspy.kHighsInf
        costs = np.array(data.costs + [0] * len(data.layers), dtype=np.float64)
        lower = np.zeros(len(costs))
        upper = np.array([1.0] * n_x + [big] * len(data.layers))
        h.addVars(len(costs), lower, upper)
        h.changeColsCost(len(costs), np.arange(len(costs), dtype=np.int32), costs)
        h.changeColsIntegrality(n_x, np.arange(n_x, dtype=np.int32),
                                np.array([highspy.HighsVarType.kInteger] * n_x))
        rows: list[tuple[float, float, list[int], list[float]]] = []
        for u in data.layers:
            rows.append((1.0, 1.0, data.cover[u], [1.0] * len(data.cover[u])))
        deadline.check(what)
        together = {pair: data.pairs[pair] for pair in same_group_pairs(data)}
        for k, ((u, v), cols) in enumerate(together.items()):
            if k % CHECK_EVERY == 0:
                deadline.check(what)
            tu, tv = level_of[u], level_of[v]
            rows.append((-inf, big, [tu, tv, *cols], [1.0, -1.0, *[big] * len(cols)]))
            rows.append((-inf, big, [tv, tu, *cols], [1.0, -1.0, *[big] * len(cols)]))
        for (u, v) in data.edges:
            tu, tv = level_of[u], level_of[v]
            cols = together.get((u, v), [])
            rows.append((0.0, inf, [tv, tu], [1.0, -1.0]))
            rows.append((1.0, inf, [tv, tu, *cols], [1.0, -1.0, *[big] * len(cols)]))
        if max_groups is not None:
            rows.append((-inf, float(max_groups), list(range(n_x)), [1.0] * n_x))
        for amounts, bound in data.budget_rows(options.budgets):
            used = [k for k, a in enumerate(amounts) if a]
            rows.append((-inf, float(bound), used, [float(amounts[k]) for k in used]))
        deadline.check(what)
        starts, index, value = [], [], []
        for _, _, idx, val in rows:
            starts.append(len(index))
            index.extend(idx)
            value.extend(val)
        h.addRows(len(rows), np.array([r[0] for r in rows]), np.array([r[1] for r in rows]), len(index),
                  np.array(starts, dtype=np.int32), np.array(index, dtype=np.int32), np.array(value))
        info["nonzeros"] = len(index)
        if len(index) > PRESOLVE_MAX_NONZEROS:  # HiGHS's presolve would not heed the limit (module docstring)
            h.setOptionValue("presolve", "off")
            info["highs_presolve"] = "off"
        if options.extra.get("export_model"):
            h.writeModel(str(options.extra["export_model"]))
        deadline.check(what)
        seconds = deadline.budget()  # what is left now that the model is stated: HiGHS's clock starts at run()
        if seconds is not None:
            h.setOptionValue("time_limit", seconds)
            info["backend_time_limit_s"] = round(seconds, 6)
        h.run()
        status = h.getModelStatus()
        hinfo = h.getInfo()
        info.update(highs_status=h.modelStatusToString(status), mip_nodes=int(hinfo.mip_node_count),
                    highs=h.version())
        bound = hinfo.mip_dual_bound
        bound_bytes = int(np.ceil(bound - 1e-6)) if np.isfinite(bound) else None
        if status == highspy.HighsModelStatus.kInfeasible:
            return SolverResult(status="infeasible", info=info,
                                message="no ordered partition into candidate groups exists")
        side = self.side_constraints(cm, options)
        proven, kind = data.stronger(bound_bytes, "HiGHS dual bound over the candidate columns")
        if hinfo.primal_solution_status != 2:  # no feasible point
            return anytime.stopped(cm, options, info, bound=proven, bound_kind=kind, side=side,
                                   why=f"limit before HiGHS found a schedule ({h.modelStatusToString(status)})")
        values = h.getSolution().col_value
        chosen = [k for k in range(n_x) if values[k] > 0.5]
        groups = in_order(data, chosen, lambda u: values[level_of[u]])
        total = sum(data.tilings[k].cost for k in chosen)
        optimal = status == highspy.HighsModelStatus.kOptimal
        if optimal:
            bound_bytes = total if bound_bytes is None else min(bound_bytes, total)
        if not optimal:
            return anytime.stopped(cm, options, info, bound=proven, bound_kind=kind, found=groups, side=side,
                                   why=f"limit before HiGHS proved its schedule optimal ({h.modelStatusToString(status)})")
        if cm.objective != "dram":  # of the optima, one of least DRAM bytes (formulations/energy.md §4)
            h.addRow(-inf, float(total), n_x, np.arange(n_x, dtype=np.int32), costs[:n_x])
            h.changeColsCost(n_x, np.arange(n_x, dtype=np.int32),
                             np.array([float(t.dram_bytes) for t in data.tilings], dtype=np.float64))
            seconds = deadline.budget()
            if seconds is not None:
                h.setOptionValue("time_limit", max(seconds, 0.0))
            h.run()
            info["least_dram"] = h.modelStatusToString(h.getModelStatus())
            if h.getInfo().primal_solution_status == 2:
                values = h.getSolution().col_value
                again = [k for k in range(n_x) if values[k] > 0.5]
                if sum(data.tilings[k].cost for k in again) == total:  # the bound row holds to the unit
                    groups = in_order(data, again, lambda u: values[level_of[u]])
        return SolverResult(status="optimal", groups=groups, bound_bytes=bound_bytes, info=info)
