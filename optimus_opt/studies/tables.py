"""The markdown tables of a study's ``summary.md``: DRAM traffic, gap to the best proven bound, reduction against
layerwise, solve time, aggregates, options and failed or slow runs (:func:`study_tables`), and the small formatting
rules every table of the project shares (sizes, MB, percentages, a solver's status where it found no schedule).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Sequence

from ..model.accelerator import format_size
from .records import RUN_FAILURES
from .summary import Summary, solver_rank


def plural(count: int, word: str) -> str:
    """``1 run``, ``2 runs``."""
    return f"{count} {word}" + ("" if count == 1 else "s")


def buffer_label(nbytes: Any) -> str:
    return format_size(int(nbytes)) if isinstance(nbytes, int) else "-"


def _mb(nbytes: Any) -> str:
    return f"{nbytes / 1e6:,.3f}" if isinstance(nbytes, (int, float)) else "-"


def percent(value: float | None, *, signed: bool = False) -> str:
    if value is None:
        return "-"
    if value == 0:
        return "0 %"
    return f"{value * 100:+.2f} %" if signed else f"{value * 100:.1f} %"


def status_word(row: Mapping[str, Any] | None) -> str | None:
    if row is None:
        return "not run"
    if row["dram_bytes"] is None:
        return row["status"]
    return None


def markdown_table(head: Sequence[str], rows: Iterable[Sequence[str]], align: str | None = None) -> list[str]:
    align = align or "l" * len(head)
    sep = ["---:" if a == "r" else "---" for a in align]
    return ["| " + " | ".join(head) + " |", "| " + " | ".join(sep) + " |"] + \
        ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


#: The columns that name an instance in every per-instance table, and their alignment.
_KEY_HEAD = ["network", "accelerator", "buffer", "batch"]


_KEY_ALIGN = "llrr"


def accelerator_label(inst: Mapping[str, Any]) -> str:
    """An instance's accelerator as the tables name it, with its tiling model where that is not ``strips``:
    ``optimus-npu``, ``optimus-npu (tiles)``, ``optimus-npu (tiles, recompute)``."""
    tiling, halo = inst.get("tiling") or "strips", inst.get("halo") or "choose"
    if tiling == "strips":
        return str(inst["accelerator"])
    return f"{inst['accelerator']} ({tiling}" + (f", {halo})" if halo != "choose" else ")")


def _instance_key(inst: dict[str, Any]) -> list[str]:
    return [str(inst["network"]), accelerator_label(inst), buffer_label(inst["buffer_bytes"]), str(inst["batch"])]


def _per_instance_table(s: Summary, solvers: list[str], cell: Callable[[dict[str, Any], dict | None], str], *,
                        extra_head: tuple[str, ...] = (),
                        extra: Callable[[dict[str, Any]], list[str]] = lambda inst: []) -> list[str]:
    """One row per instance (its key, then ``extra`` columns, then ``cell(inst, row)`` for each of ``solvers``)."""
    body = [_instance_key(inst) + extra(inst) + [cell(inst, s.cell(inst["instance_id"], solver)) for solver in solvers]
            for inst in s.instances]
    return markdown_table(_KEY_HEAD + list(extra_head) + solvers, body,
                  _KEY_ALIGN + "r" * (len(extra_head) + len(solvers)))


def _intro(s: Summary, title: str) -> list[str]:
    statuses: dict[str, int] = {}
    for row in s.rows:
        statuses[row["status"]] = statuses.get(row["status"], 0) + 1
    return [f"# {title}", "",
            f"{plural(len(s.rows), 'run')}: {plural(len(s.instances), 'instance')} × {plural(len(s.solvers), 'solver')} "
            f"({', '.join(f'{v} {k}' for k, v in sorted(statuses.items()))}).", "",
            "DRAM traffic in MB (10^6 bytes). The gap is (DRAM − best proven bound) / best proven bound, where the "
            "best proven bound is the largest bound proven by an exact solver run without a group cap "
            "(`bound_scope` all, the segment bound of a stopped one included); `unproven` marks an instance "
            "without one, or whose best bound is only the compulsory traffic (inputs, outputs and weights once) "
            "that no schedule meets: the gap to the best schedule any solver found is given beside it, which "
            "proves nothing, and such runs are left out of the means. A solver's status stands where it "
            "found no schedule: `infeasible` (none in its space), `unknown` (stopped at its time limit), `error` "
            "(the run raised or died), `timeout` (killed at the hard wall limit).", ""]


def _objectives(s: Summary) -> set[str]:
    """What the study's runs minimised (formulations/energy.md): ``{"dram"}`` for a plain study."""
    return {row.get("objective") or "dram" for row in s.rows}


def _objective_intro(s: Summary) -> list[str]:
    """Under another objective than DRAM, what the gaps measure, and the tables of energy and latency."""
    others = sorted(_objectives(s) - {"dram"})
    if not others:
        return []
    lines = ["", f"The runs minimised **{' and '.join(others)}** (`--objective`, formulations/energy.md): the gaps, "
                 "the bounds, the reduction against layerwise and the best found are of that objective; the DRAM "
                 "table gives each schedule's traffic.", ""]
    for key, head, scale in (("energy_fj", "Energy (mJ)", 1e12), ("latency_cycles", "Latency (10^6 cycles)", 1e6)):
        def cell(inst, row, key=key, scale=scale):
            word = status_word(row)
            return word or ("-" if row.get(key) is None else f"{row[key] / scale:,.4f}")
        lines += ["", f"## {head}", ""] + _per_instance_table(s, s.solvers, cell)
    return lines


def _dram_section(s: Summary) -> list[str]:
    def best_bound(inst):
        bound = inst["best_bound_bytes"]
        if bound and inst.get("bound_basis") == "compulsory":
            return [f"unproven (compulsory {_mb(bound)})"]
        return [_mb(bound) if bound else ("infeasible (proven)" if inst["proven_infeasible"] else "unproven")]

    def dram(inst, row):
        restricted = row is not None and row["bound_bytes"] is not None and row["bound_scope"] != "all"
        return status_word(row) or _mb(row["dram_bytes"]) + (" †" if restricted else "")

    lines = ["## DRAM traffic (MB)", ""]
    if _objectives(s) == {"dram"}:
        lines += _per_instance_table(s, s.solvers, dram, extra_head=("best bound",), extra=best_bound)
    else:  # the bounds are of the objective, in its units: the gap table says what they give
        lines += _per_instance_table(s, s.solvers, dram)
    if any(r["bound_bytes"] is not None and r["bound_scope"] != "all" for r in s.rows):
        lines += ["", "†: an exact solver run under a restriction (`bound_scope`, e.g. a group cap): its status and "
                      "bound hold only over that restricted space, so its bound is not a proven bound here."]
    return lines


def _gap_section(s: Summary) -> list[str]:
    def gap(inst, row):
        word = status_word(row)
        if word is not None:
            return word
        if row["gap"] is None:
            return f"unproven ({percent(row['gap_to_best_known'], signed=True)} vs best found)"
        return percent(row["gap"], signed=True)

    return ["", "## Gap to the best proven bound", ""] + _per_instance_table(s, s.solvers, gap)


def _macs_section(s: Summary) -> list[str]:
    """MACs per instance and solver, where some schedule recomputes a halo (otherwise every schedule has the
    network's own MACs and the table would say nothing)."""
    if not any(row.get("added_macs") for row in s.rows):
        return []

    def macs(inst, row):
        word = status_word(row)
        if word is not None:
            return word
        if row.get("macs") is None:
            return "-"
        added = row.get("added_macs") or 0
        own = row["macs"] - added
        return f"{row['macs'] / 1e9:,.3f}" + (f" ({percent(added / own, signed=True)})" if added and own else "")

    return (["", "## MACs (10^9)", "", "Multiply-accumulates of each schedule over the batch; in parentheses the "
             "share recomputed (halo `recompute`, formulations/cost-model.md §7.5) on top of the network's own.", ""]
            + _per_instance_table(s, s.solvers, macs))


def _reduction_section(s: Summary) -> list[str]:
    others = [x for x in s.solvers if x != "layerwise"]
    if "layerwise" not in s.solvers or not others:
        return []

    def reduction(inst, row):
        word = status_word(row)
        if word is not None:
            return word
        if row["reduction_vs_layerwise"] is None:
            base = s.cell(inst["instance_id"], "layerwise")
            return f"n/a (layerwise {base['status'] if base else 'not run'})"
        return percent(row["reduction_vs_layerwise"])

    return (["", "## Reduction of DRAM traffic against layerwise (no fusion)", ""]
            + _per_instance_table(s, others, reduction))


def _time_section(s: Summary) -> list[str]:
    def seconds(inst, row):
        if row is None:
            return "not run"
        if row["solve_seconds"] is not None:
            found = row["dram_bytes"] is not None or row["status"] == "infeasible"
            return f"{row['solve_seconds']:.3f}" + ("" if found else f" ({row['status']})")
        wall = row.get("wall_seconds")
        return f"{row['status']}" + (f" after {wall:.1f}" if wall is not None else "")

    return (["", "## Solve time (s)", ""]
            + _per_instance_table(s, s.solvers, seconds, extra_head=("layers",),
                                  extra=lambda inst: [str(inst["layers"])]))


def _aggregates_section(s: Summary) -> list[str]:
    body = []
    for a in s.aggregates:
        failed = a["unknown"] + a["error"] + a["timeout"]
        body.append([a["solver"], str(a["runs"]), str(a["found"]), str(a["infeasible"]), str(failed),
                     percent(a["geomean_gap"], signed=True), percent(a["worst_gap"], signed=True),
                     f"{a['optimal']}/{a['with_gap']}", str(a.get("unproven", 0)), percent(a["geomean_reduction"]),
                     f"{a['geomean_seconds']:.3g}" if a["geomean_seconds"] is not None else "-",
                     f"{a['total_seconds']:.1f}"])
    return (["", "## Aggregates", ""]
            + markdown_table(["solver", "runs", "schedule found", "infeasible", "unknown / error / timeout",
                      "geomean gap", "worst gap", "optimal (gap 0)", "unproven (left out)",
                      "geomean reduction vs layerwise", "geomean time (s)", "total wall (s)"], body, "lrrrrrrrrrrr")
            + ["", "`optimal (gap 0)`: instances where the solver's traffic equals the best proven bound, out of "
                   "those with a proven bound and a schedule of this solver. `unproven (left out)`: its schedules "
                   "on instances without a proven bound (or with only the compulsory traffic as bound), which the "
                   "gap columns leave out."])


def _runs_sections(s: Summary) -> list[str]:
    """The options each solver ran with, the failed runs and the ten slowest."""
    opts = sorted({(row["solver"], row["options"]) for row in s.rows}, key=lambda p: solver_rank(p[0]))
    lines = ["", "## Solver options", ""]
    lines += markdown_table(["solver", "options"], [[sv, f"`{o}`" if o else "defaults"] for sv, o in opts])
    failures = [row for row in s.rows if row["status"] in RUN_FAILURES]
    if failures:
        lines += ["", "## Failed runs", ""]
        lines += markdown_table(["instance", "solver", "status", "error"],
                        [[r["instance"], r["solver"], r["status"], str(r["error"]).replace("|", "\\|")]
                         for r in failures])
    slow = sorted((row for row in s.rows if row.get("wall_seconds") is not None),
                  key=lambda r: r["wall_seconds"], reverse=True)[:10]
    if slow:
        lines += ["", "## Slowest runs", ""]
        lines += markdown_table(["instance", "solver", "status", "wall (s)", "peak RSS (MB)"],
                        [[r["instance"], r["solver"], r["status"], f"{r['wall_seconds']:.2f}",
                          f"{r['peak_rss_bytes'] / 1e6:.0f}" if r.get("peak_rss_bytes") else "-"] for r in slow],
                        "lllrr")
    return lines


def study_tables(s: Summary, title: str) -> list[str]:
    """The lines of a study's tables, from its title to the slowest runs."""
    return (_intro(s, title) + _dram_section(s) + _objective_intro(s) + _gap_section(s) + _macs_section(s)
            + _reduction_section(s)
            + _time_section(s) + _aggregates_section(s) + _runs_sections(s))


__all__ = ["accelerator_label", "buffer_label", "markdown_table", "percent", "plural", "status_word", "study_tables"]
