"""``cpsat``: the set-partitioning model (setpartition.py) solved to proven optimality by OR-Tools CP-SAT, as
cpsat_model.py states it. Objective: Σ c_S x_S in exact integer bytes (no scaling). See formulations/cpsat.md.
"""

from __future__ import annotations

from ..cost.cost_model import CostModel
from ..model.errors import SolverError
from ..utils import progress
from ..utils.deadline import Deadline
from . import anytime
from .base import SolveOptions, SolverResult
from .cpsat_model import project_solver, solve_interruptibly, state_partition
from .partition_model import PartitionModel, in_order
from .setpartition import SetPartitionSolver

_STATUS = {"OPTIMAL": "optimal", "FEASIBLE": "feasible", "INFEASIBLE": "infeasible", "UNKNOWN": "unknown",
           "MODEL_INVALID": "unknown"}


class CPSat(SetPartitionSolver):
    name = "cpsat"
    description = "exact optimum: set partitioning with level-based acyclicity, OR-Tools CP-SAT"
    requires = ("ortools",)
    exact = timed = threaded = budgets = True
    extra_options = ("anytime", "apart", "columns", "export_model", "max_candidates",
                     "max_groups", "parameters", "prune", "together", "warm_start")
    order = 70
    preload = ("ortools.sat.python.cp_model",)

    def optimise(self, cm: CostModel, model_data: PartitionModel, options: SolveOptions, max_groups: int | None,
                 deadline: Deadline, info: dict) -> SolverResult:
        from ortools.sat.python import cp_model

        m = cp_model.CpModel()
        x, t = state_partition(m, model_data, deadline)
        if max_groups is not None:
            m.add(sum(x) <= max_groups)
        for amounts, bound in model_data.budget_rows(options.budgets):
            m.add(sum(a * x[k] for k, a in enumerate(amounts) if a) <= bound)
        m.minimize(sum(c * x[k] for k, c in enumerate(model_data.costs)))
        hint = options.extra.get("warm_start")
        if hint is not None:
            chosen = {frozenset(cm.network.index[n] for n in g.layers) for g in hint.groups}
            for k, group in enumerate(model_data.members):
                m.add_hint(x[k], frozenset(group) in chosen)
        export = options.extra.get("export_model")
        if export:
            m.export_to_file(str(export))
        deadline.check(f"stating the CP-SAT model of {len(x):,} columns")
        solver = configured_solver(options, deadline)
        if deadline.bounded:
            info["backend_time_limit_s"] = round(solver.parameters.max_time_in_seconds, 6)
        code = solve_interruptibly(solver, m, progress.cpsat_callback(options, solver))  # incumbents, bounds
        status = _STATUS[solver.status_name(code)]
        info.update(cpsat_status=solver.status_name(code), branches=solver.num_branches,
                    conflicts=solver.num_conflicts, wall_seconds=round(solver.wall_time, 6), ortools=_version())
        if status == "infeasible":
            return SolverResult(status="infeasible", info=info,
                                message="no ordered partition into candidate groups exists")
        bound = _bound(solver.best_objective_bound)
        side = self.side_constraints(cm, options)
        proven, kind = model_data.stronger(bound, "CP-SAT objective bound over the candidate columns")
        if status == "unknown":
            return anytime.stopped(cm, options, info, why="time limit before CP-SAT found a schedule", bound=proven,
                                   bound_kind=kind, side=side)
        chosen = [k for k in range(len(x)) if solver.value(x[k])]
        groups = in_order(model_data, chosen, lambda u: solver.value(t[u]))
        if status == "feasible":
            return anytime.stopped(cm, options, info, why="time limit before CP-SAT proved its schedule optimal",
                                   bound=proven, bound_kind=kind, found=groups, side=side)
        if cm.objective != "dram":  # of the optima, one of least DRAM bytes (formulations/energy.md §4)
            m.add(sum(c * x[k] for k, c in enumerate(model_data.costs)) <= bound)
            m.minimize(sum(tiling.dram_bytes * x[k] for k, tiling in enumerate(model_data.tilings)))
            m.clear_hints()
            for k in range(len(x)):
                m.add_hint(x[k], k in chosen)
            second = configured_solver(options, deadline)
            code = solve_interruptibly(second, m)
            info["least_dram"] = second.status_name(code)
            if second.status_name(code) in ("OPTIMAL", "FEASIBLE"):
                chosen = [k for k in range(len(x)) if second.value(x[k])]
                groups = in_order(model_data, chosen, lambda u: second.value(t[u]))
        return SolverResult(status=status, groups=groups, bound_bytes=bound, info=info)


def _bound(value: float) -> int | None:
    """CP-SAT's objective bound as whole bytes (rounded up: costs are integers), or None when it has none."""
    import math

    return int(math.ceil(value - 1e-6)) if math.isfinite(value) else None


def configured_solver(options: SolveOptions, deadline: Deadline):
    """A CP-SAT solver with the project's settings, the options' seed and workers, what is left of ``deadline`` as
    its time limit (make it just before solving), and any ``parameters={...}`` overrides."""
    solver = project_solver(options.workers, options.seed, deadline)
    params = solver.parameters
    for key, value in dict(options.extra.get("parameters", {})).items():
        try:  # any SatParameters field, e.g. {"cp_model_presolve": False}
            setattr(params, key, value)
        except (AttributeError, TypeError, ValueError) as err:
            raise SolverError(f"cpsat parameter {key}={value!r} is not accepted: {err}") from None
    return solver


def _version() -> str:
    import ortools

    return ortools.__version__
