"""The modules of optimus_opt form layers: no import cycle among them, counting the imports inside functions (and,
but for known pairs, those only a type checker runs), and the study's parts sit where issue 13 put them (the record
store below both studies and their report, one resolver below the CLI, studies and regeneration)."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parents[1] / "optimus_opt"

#: Imports that close a cycle today, each a member of a package calling back into the package's registry. Each is
#: harmless at run time (the registry is complete before the call) but is a cycle all the same; remove an entry
#: once its cycle is gone, and add none.
KNOWN_BACK_EDGES = {
    ("optimus_opt.solvers.base", "optimus_opt.solvers"):
        "Solver.check_options asks the registry which solvers take an option (solvers.takers)",
    **{(f"optimus_opt.zoo.{member}", "optimus_opt.zoo"): "zoo builders take ZooEntry from the zoo's registry"
       for member in ("classic", "detection", "inception", "modern", "nasnet")},
}


def _module_name(path: Path) -> str:
    parts = ("optimus_opt",) + path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imported(name: str, path: Path, known: set[str], *, type_checking: bool = False) -> set[str]:
    """The optimus_opt modules that module ``name`` imports anywhere in its file, at its top or in a function (and,
    with ``type_checking``, under ``if TYPE_CHECKING:``). ``from . import x`` is an import of the module ``x`` where
    there is one, else of the package (its face)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree) if type_checking else _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target not in known:
                continue
            subs = {f"{target}.{alias.name}" for alias in node.names} & known
            out.update(subs or {target})
            if len(subs) < len(node.names):  # names that are attributes of the target, not modules
                out.add(target)
    out.discard(name)
    return out


def _runtime_nodes(tree: ast.AST):
    """Every node of ``tree`` but those under ``if TYPE_CHECKING:`` (imports only a type checker runs)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
        else:
            stack.extend(ast.iter_child_nodes(node))


def import_graph(*, type_checking: bool = False) -> nx.DiGraph:
    """Which optimus_opt module imports which; ``type_checking`` counts the imports only a type checker runs."""
    modules = _modules()
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        graph.add_edges_from((name, dep) for dep in _imported(name, path, set(modules), type_checking=type_checking))
    return graph


#: Pairs of modules that import each other once the imports only a type checker runs are counted too (each knows
#: the other's type for its hints). Harmless at run time, but a circle for whoever reads the code; add none.
KNOWN_TYPE_CYCLES = {
    frozenset({"optimus_opt.cost.cost_model", "optimus_opt.cost.tiles"}):
        "tiles.py names CostModel in its hints, and cost_model.py builds on tiles.py",
    **{frozenset({"optimus_opt.cost.cost_model", *(f"optimus_opt.cost.{m}" for m in ms), *extra}):
       f"{' and '.join(ms)} name CostModel in their hints, and cost_model.py asks them for figures and tilings by "
       "objective" for ms in (("energy",), ("objective",), ("energy", "objective"))
       for extra in ((), ("optimus_opt.cost.tiles",))},
}


#: The floors of the house, lowest first; a module imports only from its own floor and the floors below it. The
#: floors that share a rank (cost and zoo, io and solvers) know nothing of each other.
FLOORS = {"version": 0, "model": 0, "utils": 1, "cost": 2, "zoo": 2, "solvers": 3, "io": 3, "studies": 4, "cli": 5,
          "": 6}


def _floor(module: str) -> str:
    return module.split(".")[1] if "." in module else ""


def test_every_import_goes_down_the_floors():
    graph = import_graph()
    assert {_floor(m) for m in graph} == set(FLOORS), "a new folder: give it its floor in FLOORS"
    upward = sorted((a, b) for a, b in graph.edges
                    if _floor(a) != _floor(b) and FLOORS[_floor(a)] <= FLOORS[_floor(b)])
    assert upward == [], f"imports that do not go down a floor: {upward}"


def test_the_modules_import_each_other_without_a_cycle():
    graph = import_graph()
    assert {"optimus_opt.studies.study", "optimus_opt.studies.report", "optimus_opt.studies.records"} <= set(graph)
    assert set(KNOWN_BACK_EDGES) <= set(graph.edges), "a known cycle is gone: drop it from KNOWN_BACK_EDGES"
    graph.remove_edges_from(KNOWN_BACK_EDGES)
    cycles = list(nx.simple_cycles(graph))
    assert cycles == [], f"import cycles: {cycles[:5]}"


def test_the_record_store_is_below_studies_and_report():
    graph = import_graph()
    assert "optimus_opt.studies.study" not in nx.descendants(graph, "optimus_opt.studies.report")
    assert "optimus_opt.studies.records" in graph["optimus_opt.studies.report"]
    assert "optimus_opt.studies.report" in graph["optimus_opt.studies.study"]  # through report, not lazily
    below = nx.descendants(graph, "optimus_opt.studies.records")
    assert not below & {f"optimus_opt.studies.{m}" for m in ("study", "report", "executors", "planning")}
    assert "optimus_opt" not in below


def test_one_resolver_below_the_cli_studies_and_regeneration():
    graph = import_graph()
    for user in ("optimus_opt.cli", "optimus_opt.studies.planning", "optimus_opt.studies.suite",
                 "optimus_opt.studies.regenerate"):
        assert "optimus_opt.io.resolve" in graph[user], user
    assert not nx.descendants(graph, "optimus_opt.io.resolve") & {
        "optimus_opt.cli", "optimus_opt.studies.study", "optimus_opt.studies.suite", "optimus_opt.studies.planning"}


def test_no_cycle_even_through_type_hints():
    graph = import_graph(type_checking=True)
    graph.remove_edges_from(KNOWN_BACK_EDGES)
    cycles = {frozenset(cycle) for cycle in nx.simple_cycles(graph)}
    new = [sorted(cycle) for cycle in cycles - set(KNOWN_TYPE_CYCLES)]
    assert new == [], f"import cycles through type hints: {new}"


def test_the_data_model_is_no_circle():
    """Issue 26: accelerator, instance and limits imported each other (limits named Instance in its hints). The
    limits sit below the accelerator, and the accelerator below the instance, type hints counted."""
    graph = import_graph(type_checking=True)
    model = graph.subgraph(m for m in graph if _floor(m) == "model")
    assert list(nx.simple_cycles(model)) == []
    limits, accelerator, instance = (f"optimus_opt.model.{m}" for m in ("limits", "accelerator", "instance"))
    assert nx.descendants(graph, limits) & {accelerator, instance} == set()
    assert limits in graph[accelerator] and accelerator in graph[instance]
