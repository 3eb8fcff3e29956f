"""A solver added in one file (this one) appears everywhere solvers are listed, without editing the studies,
the report or cli.py: ``optimus-opt solvers``, a ``gap`` study, its tables; its capabilities decide its options."""

from __future__ import annotations

import csv
import re

import pytest
from conftest import EXAMPLE, ROOT
from helpers import run_cli

import optimus_opt as oo
from optimus_opt import solvers
from optimus_opt.cost.cost_model import CostModel
from optimus_opt.cost.schedule import check_structure
from optimus_opt.model.errors import OptimusError
from optimus_opt.solvers.base import SolveOptions, Solver, SolverResult
from optimus_opt.studies import planning, report
from optimus_opt.studies.records import load_records


class Pairs(Solver):
    """A toy heuristic: fuse consecutive pairs of layers (in id order) where the pair has a tiling and is a valid
    group, else run the layer alone."""

    name = "toy-pairs"
    description = "toy: fuse neighbouring layers two by two where they fit"
    space = "pairs of consecutive layers, or single layers"
    timed = True
    extra_options = ("greedy",)
    order = 45  # between optimus-online and optimus

    def search(self, cm: CostModel, options: SolveOptions) -> SolverResult:
        """Pair layer ids in order; a pair that has no tiling (or ``greedy=False``) stays two single layers."""
        ids = list(cm.network.layer_ids)
        groups = []
        i = 0
        while i < len(ids):
            pair = ids[i:i + 2]
            tiling = cm.best_tiling(pair) if len(pair) == 2 and options.extra.get("greedy", True) else None
            if tiling is not None and _valid(cm, pair, groups):
                groups.append((tuple(pair), tiling))
                i += 2
                continue
            single = cm.best_tiling([ids[i]])
            assert single is not None
            groups.append(((ids[i],), single))
            i += 1
        return SolverResult(status="feasible", groups=groups, info={"seen_time_limit": options.time_limit})


def _valid(cm: CostModel, pair: list[int], before: list) -> bool:
    """Whether fusing ``pair`` after the groups ``before`` keeps a valid (convex, ordered) schedule prefix."""
    rest = [[u] for u in cm.network.layer_ids if u not in pair and all(u not in m for m, _ in before)]
    try:
        check_structure(cm.instance, [list(m) for m, _ in before] + [pair] + rest)
    except OptimusError:
        return False
    return True


def test_toy_solver_is_listed_solved_and_tabled(tmp_path, capsys, register_solver):
    register_solver(Pairs)
    assert "toy-pairs" in solvers.registered() and "toy-pairs" in solvers.study_default()
    assert "toy-pairs" not in solvers.exact_solvers()

    code, out, _ = run_cli(["solvers"], capsys)
    assert code == 0
    line = next(l for l in out.splitlines() if l.startswith("toy-pairs"))
    assert "fuse neighbouring layers two by two" in line

    sched = oo.solve(oo.load_instance(EXAMPLE), "toy-pairs")
    assert oo.evaluate(oo.load_instance(EXAMPLE), sched).dram_bytes == sched.dram_bytes
    assert any(len(g.layers) == 2 for g in sched.groups)

    # a gap study from the command line: timed, so it is given the study's limit; its rows in both tables
    code, out, err = run_cli(["gap", str(EXAMPLE), "--solvers", "toy-pairs,layerwise,exact-dp", "--time-limit", "7",
                              "--executor", "inline", "--out", str(tmp_path), "--no-plots", "--no-progress"], capsys)
    assert code == 0, err
    records = {r["solver"]: r for r in load_records(tmp_path)}
    assert set(records) == {"toy-pairs", "layerwise", "exact-dp"}
    toy = records["toy-pairs"]
    assert toy["status"] == "feasible" and toy["dram_bytes"] == sched.dram_bytes
    assert toy["options"]["time_limit"] == 7 and toy["options"]["max_group"] is None
    rows = list(csv.DictReader((tmp_path / "summary.csv").open()))
    cell = next(r for r in rows if r["solver"] == "toy-pairs")
    assert int(cell["dram_bytes"]) == sched.dram_bytes
    assert float(cell["gap"]) == pytest.approx(sched.dram_bytes / 253_460 - 1)  # exact-dp proved 253,460
    text = (tmp_path / "summary.md").read_text()
    assert "| best bound | layerwise | toy-pairs | exact-dp |" in text  # its stated order, between the two
    assert report.solver_rank("layerwise") < report.solver_rank("toy-pairs") < report.solver_rank("exact-dp")


def test_an_exact_toy_solver_counts_as_proving_infeasibility(register_solver):
    class Never(Solver):
        name = "toy-never"
        description = "toy: proves every instance infeasible"
        space = "none"
        exact = True

        def search(self, cm, options):
            return SolverResult(status="infeasible", message="toy")

    register_solver(Never)
    assert "toy-never" in solvers.exact_solvers()
    record = {"instance_id": "i", "solver": "toy-never", "status": "infeasible", "bound_scope": "all"}
    assert report.proven_infeasible([record]) == {"i"}
    assert planning.solver_options("toy-never", max_group=3, time_limit=5)["max_group"] == 3
    assert planning.solver_options("toy-never", max_group=3, time_limit=5)["time_limit"] is None  # not timed
    solvers.unregister("toy-never")
    assert report.proven_infeasible([record]) == set()


def test_unknown_or_unsupported_options_name_the_solver_and_what_it_takes(register_solver):
    inst = oo.load_instance(EXAMPLE)
    with pytest.raises(oo.SolverError) as err:
        oo.solve(inst, "milp", parameters={"threads": 2})
    assert str(err.value) == ("solver 'milp' takes no option 'parameters' (it takes: anytime, apart, columns, "
                              "export_model, max_candidates, max_groups, prune, together, warm_start); cpsat takes it")
    with pytest.raises(oo.SolverError, match=r"solver 'optimus' takes no option 'baem' \(it takes: beam, "
                                             r"group_budget\)$"):
        oo.solve(inst, "optimus", baem=4)
    with pytest.raises(oo.SolverError, match="solver 'layerwise' takes no option 'prune' .*exact-dp, cpsat, milp"):
        planning.solver_options("layerwise", overrides={"prune": False})
    register_solver(Pairs)
    with pytest.raises(oo.SolverError, match="solver 'toy-pairs' takes no option 'greed' \\(it takes: greedy\\)"):
        oo.solve(inst, "toy-pairs", greed=False)
    assert all(len(g.layers) == 1 for g in oo.solve(inst, "toy-pairs", greedy=False).groups)


def test_a_study_refuses_an_option_its_solver_does_not_take_before_any_run(tmp_path, capsys):
    code, _, err = run_cli(["gap", str(EXAMPLE), "--solvers", "layerwise,exact-dp", "--option",
                            "exact-dp:max_groups=2", "--executor", "inline", "--out", str(tmp_path / "s"),
                            "--no-plots", "--no-progress"], capsys)
    assert code == 2
    assert "solver 'exact-dp' takes no option 'max_groups'" in err and "cpsat, milp take it" in err
    assert not (tmp_path / "s" / "results.jsonl").exists()


def _readme_solver_rows() -> dict[str, str]:
    """The README's solver table: each solver named in a row's first cell, with the row's options cell."""
    text = (ROOT / "README.md").read_text()
    table = text[text.index("| solver | what it proves | options |"):].split("\n\n")[0]
    rows = {}
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        for name in re.findall(r"`([a-z-]+)`", cells[0].split("(")[0]):
            rows[name] = cells[2]
    return rows


def test_readme_solver_table_states_each_solvers_options():
    rows = _readme_solver_rows()
    assert set(rows) == set(solvers.registered())
    for name, cell in rows.items():
        cls = solvers.capabilities(name)
        library = cell.partition("library:")[2]
        said = set(re.findall(r"(?<!no )`([a-z_]+)`", library))
        denied = set(re.findall(r"no `([a-z_]+)`", library))
        # a row may name several solvers (optimus, optimus-online): each takes only what the row says
        row_names = [n for n, c in rows.items() if c == cell]
        assert set(cls.extra_options) <= said, (name, set(cls.extra_options) - said)
        assert said <= set().union(*(solvers.capabilities(n).extra_options for n in row_names)), name
        assert not denied & set(cls.extra_options), name
        assert ("--time-limit" in cell) == cls.timed, name
        assert ("--workers" in cell) == cls.threaded, name
