"""``cpsat``: the set-partitioning model (setpartition.py) solved to proven optimality by OR-Tools CP-SAT.

Variables: a Boolean x_S per feasible candidate group; a level t_u ∈ [0, L) per layer; a Boolean y_uv per adjacent
pair that some group holds together. Constraints: exactly one x_S per layer; y_uv = Σ_{S ∋ u,v} x_S;
y_uv ⇒ t_u = t_v; per edge u→v: t_v ≥ t_u, and ¬y_uv ⇒ t_v ≥ t_u + 1 (an edge between two groups climbs).
Objective: Σ c_S x_S in exact integer bytes (no scaling). See formulations/cpsat.md.
"""

from __future__ import annotations

from ..cost.cost_model import CostModel
from ..model.errors import SolverError
from ..utils import progress
from ..utils.deadline import NEVER, Deadline
from . import anytime
from .base import SolveOptions, SolverResult
from .setpartition import CHECK_EVERY, PartitionModel, SetPartitionSolver, same_group_pairs

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
        groups = self.in_order(model_data, chosen, lambda u: solver.value(t[u]))
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
                groups = self.in_order(model_data, chosen, lambda u: second.value(t[u]))
        return SolverResult(status=status, groups=groups, bound_bytes=bound, info=info)


def _bound(value: float) -> int | None:
    """CP-SAT's objective bound as whole bytes (rounded up: costs are integers), or None when it has none."""
    import math

    return int(math.ceil(value - 1e-6)) if math.isfinite(value) else None


def state_partition(m, data: PartitionModel, deadline: Deadline = NEVER):
    """Add the columns, the cover and the level-based acyclicity of ``data`` to the CP-SAT model ``m``; return
    the column Booleans x and the layer levels t. Raises :class:`~optimus_opt.utils.deadline.OutOfTime` once
    ``deadline`` has passed."""
    what = f"stating the CP-SAT model of {len(data.columns):,} columns"
    x = [m.new_bool_var(f"x{k}") for k in range(len(data.columns))]
    t = {u: m.new_int_var(0, data.levels - 1, f"t{u}") for u in data.layers}
    deadline.check(what)
    for u in data.layers:
        m.add_exactly_one(x[k] for k in data.cover[u])
    deadline.check(what)
    y = {}
    for k, (u, v) in enumerate(same_group_pairs(data)):
        if k % CHECK_EVERY == 0:
            deadline.check(what)
        y[(u, v)] = m.new_bool_var(f"y{u}_{v}")
        m.add(sum(x[k] for k in data.pairs[(u, v)]) == y[(u, v)])
        m.add(t[u] == t[v]).only_enforce_if(y[(u, v)])
    deadline.check(what)
    for (u, v) in data.edges:
        pair = y.get((u, v))
        if pair is None:
            m.add(t[v] >= t[u] + 1)
        else:
            m.add(t[v] >= t[u])
            m.add(t[v] >= t[u] + 1).only_enforce_if(~pair)
    return x, t


def configured_solver(options: SolveOptions, deadline: Deadline):
    """A CP-SAT solver with the project's settings, the options' seed and workers, what is left of ``deadline`` as
    its time limit (make it just before solving), and any ``parameters={...}`` overrides."""
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    params = solver.parameters
    params.num_workers = max(1, options.workers)
    params.random_seed = options.seed
    seconds = deadline.budget()
    if seconds is not None:
        params.max_time_in_seconds = seconds
    # The LP relaxation of set partitioning is nearly integral here: keep the full linearisation and skip the
    # presolve, which on 2 workers costs seconds to tens of seconds and wins nothing (formulations/cpsat.md).
    params.linearization_level = 2
    params.cp_model_presolve = False
    for key, value in dict(options.extra.get("parameters", {})).items():
        try:  # any SatParameters field, e.g. {"cp_model_presolve": False}
            setattr(params, key, value)
        except (AttributeError, TypeError, ValueError) as err:
            raise SolverError(f"cpsat parameter {key}={value!r} is not accepted: {err}") from None
    return solver


def solve_interruptibly(solver, model, callback=None) -> int:
    """``solver.solve(model, callback)``, but Ctrl-C raises :class:`KeyboardInterrupt` once the search has stopped.

    CP-SAT catches SIGINT itself and ends its search as if its time limit had passed, so an interrupted run would
    look like a timed-out one (and the command would exit 0). In the main thread the search therefore runs in a
    helper thread with CP-SAT's own handler off, while this thread waits and keeps Python's: on Ctrl-C it stops
    the search, waits for it to end and raises. Elsewhere (a Dask worker's thread) it is a plain solve."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return solver.solve(model, callback)
    solver.parameters.catch_sigint_signal = False
    outcome: dict = {}
    done = threading.Event()

    def search() -> None:
        try:
            outcome["code"] = solver.solve(model, callback)
        except BaseException as err:  # noqa: BLE001 - handed to the waiting thread, which raises it
            outcome["error"] = err
        finally:
            done.set()

    threading.Thread(target=search, name="cp-sat search", daemon=True).start()
    try:
        while not done.wait(0.1):
            pass
    except KeyboardInterrupt:
        solver.stop_search()
        done.wait()
        raise
    if "error" in outcome:
        raise outcome["error"]
    return outcome["code"]


def _version() -> str:
    import ortools

    return ortools.__version__
