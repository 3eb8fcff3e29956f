"""The set-partitioning model stated for OR-Tools CP-SAT (formulations/cpsat.md), and the solver settings and
interruptible solve that ``cpsat``, ``pareto`` and the windows by columns share.

Variables: a Boolean x_S per column; a level t_u ∈ [0, L) per layer; a Boolean y_uv per adjacent pair that some
column holds together. Constraints: exactly one x_S per layer; y_uv = Σ_{S ∋ u,v} x_S; y_uv ⇒ t_u = t_v; per edge
u→v: t_v ≥ t_u, and ¬y_uv ⇒ t_v ≥ t_u + 1 (an edge between two groups climbs).
"""

from __future__ import annotations

from ..utils.deadline import NEVER, Deadline
from .partition_model import CHECK_EVERY, PartitionModel, same_group_pairs


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


def project_solver(workers: int, seed: int, deadline: Deadline):
    """A CP-SAT solver with the project's settings, ``workers`` threads, ``seed`` and what is left of ``deadline``
    as its time limit (make it just before solving)."""
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    params = solver.parameters
    params.num_workers = max(1, workers)
    params.random_seed = seed
    seconds = deadline.budget()
    if seconds is not None:
        params.max_time_in_seconds = seconds
    # The LP relaxation of set partitioning is nearly integral here: keep the full linearisation and skip the
    # presolve, which on 2 workers costs seconds to tens of seconds and wins nothing (formulations/cpsat.md).
    params.linearization_level = 2
    params.cp_model_presolve = False
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
