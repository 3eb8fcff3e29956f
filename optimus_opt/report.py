"""Tables and plots of a study, from its records alone (``DIR/results.jsonl``, see :mod:`optimus_opt.studies`).

Definitions the tables use:

* **best proven bound** of an instance: the largest ``bound_bytes`` among its records whose bound holds over every
  schedule of the cost model (``bound_scope == "all"``: an exact solver run without a group cap or side
  constraints; an ``optimal`` one proves its cost, a timed-out cpsat or milp run may still prove a bound). A bound
  proven under a group cap holds only over that space and is not used.
* **gap** of a run: (DRAM bytes − best proven bound) / best proven bound; ``unproven`` where the instance has no
  proven bound. A run is **optimal** when its gap is exactly 0.
* **reduction against layerwise**: 1 − DRAM bytes / layerwise's DRAM bytes on the same instance.
* aggregates: geometric means of (1 + gap), of the ratio to layerwise and of the solve time (floored at 0.1 ms),
  over the instances where each is defined.

:func:`render` writes ``summary.md``, ``summary.csv`` and ``plots/`` (PNG and SVG, with matplotlib) atomically;
``optimus-opt report DIR`` calls it.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from .accelerator import format_size
from .studies import EXACT_SOLVERS, MANIFEST_FILE, RUN_FAILURES, load_records, write_atomic

#: Solver order in tables: the no-fusion reference, the baselines, the Optimus DPs, the exact solvers.
SOLVER_ORDER = ("layerwise", "dnnvm", "efficient-s", "optimus-online", "optimus", "exact-dp", "cpsat", "milp")

#: DRAM traffic the Optimus paper reports from its artifact (128 KB, batch 4; MB): Optimus, Efficient-S, DNNVM,
#: no fusion (the LCTES 2021 artifact). Keys are our zoo names; the paper's MobileNet is MobileNetV1.
PAPER_MB: dict[str, tuple[str, float, float, float, float]] = {
    "squeezenet1_0": ("SqueezeNet", 19.7, 37.9, 64.4, 74.8),
    "vgg16": ("VGG16", 333.0, 427.0, 427.0, 465.0),
    "mobilenet_v1": ("MobileNet", 33.6, 48.5, 48.5, 68.1),
    "resnet18": ("ResNet-18", 57.9, 70.1, 77.2, 80.1),
}
PAPER_SETTING = {"accelerator": "optimus-npu", "buffer_bytes": 131072, "batch": 4}
INFEASIBLE_NOTE = "n/a (infeasible under the exact cost model)"

_KEY = ("network", "accelerator", "buffer_bytes", "batch")
_CSV_FIELDS = ("network", "accelerator", "buffer_bytes", "batch", "instance", "layers", "solver", "status",
               "dram_bytes", "best_bound_bytes", "gap", "best_known_bytes", "gap_to_best_known",
               "reduction_vs_layerwise", "solve_seconds", "wall_seconds",
               "peak_rss_bytes", "bound_bytes", "bound_scope", "compulsory_bytes", "groups", "options", "run_id",
               "error", "runs", "found", "with_gap", "optimal", "geomean_gap", "worst_gap", "geomean_reduction",
               "geomean_seconds", "total_seconds")


def _n(count: int, word: str) -> str:
    """``1 run``, ``2 runs``."""
    return f"{count} {word}" + ("" if count == 1 else "s")


def solver_rank(name: str) -> tuple[int, str]:
    return (SOLVER_ORDER.index(name) if name in SOLVER_ORDER else len(SOLVER_ORDER), name)


def best_bounds(records: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """The best proven bound of each instance (by instance id), from the records whose bound holds everywhere."""
    out: dict[str, int] = {}
    for r in records:
        if r.get("bound_scope") == "all" and r.get("bound_bytes") is not None and \
                r.get("status") in ("optimal", "feasible", "unknown"):
            iid = r["instance_id"]
            out[iid] = max(out.get(iid, 0), int(r["bound_bytes"]))
    return out


def proven_infeasible(records: Iterable[Mapping[str, Any]]) -> set[str]:
    """Instances (ids) for which an exact solver without restrictions proved that no schedule exists."""
    return {r["instance_id"] for r in records
            if r.get("status") == "infeasible" and r.get("solver") in EXACT_SOLVERS and r.get("bound_scope") == "all"}


def _geomean(values: Sequence[float]) -> float | None:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


@dataclass
class Summary:
    """Rows (one per instance × solver), per-solver aggregates and the instances, with renderers."""

    rows: list[dict[str, Any]]
    aggregates: list[dict[str, Any]]
    instances: list[dict[str, Any]]
    solvers: list[str]
    records: list[dict[str, Any]]

    def cell(self, instance_id: str, solver: str) -> dict[str, Any] | None:
        for row in self.rows:
            if row["instance_id"] == instance_id and row["solver"] == solver:
                return row
        return None

    def to_csv(self) -> str:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=_CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in self.rows:
            writer.writerow({k: _csv_value(row.get(k)) for k in _CSV_FIELDS})
        for agg in self.aggregates:
            writer.writerow({k: _csv_value(agg.get(k)) for k in _CSV_FIELDS} | {"network": "(aggregate)"})
        return buf.getvalue()

    def to_markdown(self, *, title: str = "Optimality-gap study", paper: bool = False) -> str:
        return _markdown(self, title=title, paper=paper)


def summarize(records: Sequence[Mapping[str, Any]]) -> Summary:
    """Rows, aggregates and instances of a study's records (the newest record per run id)."""
    records = [dict(r) for r in records]
    bounds = best_bounds(records)
    infeasible = proven_infeasible(records)
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    instances: dict[str, dict[str, Any]] = {}
    for r in records:
        latest[(r["instance_id"], r["solver"])] = r  # a later record of the same pair wins
        instances.setdefault(r["instance_id"], {k: r.get(k) for k in ("instance_id", "instance", "layers", *_KEY)})
    known: dict[str, int] = {}
    for r in records:
        if r.get("dram_bytes") is not None and r.get("status") in ("optimal", "feasible"):
            known[r["instance_id"]] = min(known.get(r["instance_id"], r["dram_bytes"]), r["dram_bytes"])
    for iid, inst in instances.items():
        inst["best_bound_bytes"] = bounds.get(iid)
        inst["best_known_bytes"] = known.get(iid)
        inst["proven_infeasible"] = iid in infeasible
    solvers = sorted({s for _, s in latest}, key=solver_rank)
    order = sorted(instances.values(), key=lambda i: (str(i["network"]), str(i["accelerator"]),
                                                       i["buffer_bytes"] or 0, i["batch"] or 0, str(i["instance"])))
    rows = []
    for inst in order:
        iid = inst["instance_id"]
        base = latest.get((iid, "layerwise"))
        base_bytes = base.get("dram_bytes") if base else None
        for solver in solvers:
            r = latest.get((iid, solver))
            if r is None:
                continue
            dram = r.get("dram_bytes")
            bound = bounds.get(iid)
            gap = (dram - bound) / bound if dram is not None and bound else None
            reduction = 1 - dram / base_bytes if dram is not None and base_bytes else None
            best = known.get(iid)
            to_best = (dram - best) / best if dram is not None and best else None
            rows.append({
                **{k: inst[k] for k in ("instance_id", "instance", "layers", *_KEY)}, "best_known_bytes": best,
                "solver": solver, "status": r.get("status"), "dram_bytes": dram, "best_bound_bytes": bound,
                "gap": gap, "gap_to_best_known": to_best, "reduction_vs_layerwise": reduction,
                "solve_seconds": r.get("solve_seconds"),
                "wall_seconds": r.get("wall_seconds"), "peak_rss_bytes": r.get("peak_rss_bytes"),
                "bound_bytes": r.get("bound_bytes"), "bound_scope": r.get("bound_scope"),
                "compulsory_bytes": r.get("compulsory_bytes"), "groups": r.get("groups"),
                "options": options_text(r.get("options") or {}), "run_id": r.get("run_id"),
                "error": r.get("error") or (r.get("message") if r.get("status") in ("infeasible", "unknown")
                                            else None),
            })
    aggregates = []
    for solver in solvers:
        mine = [row for row in rows if row["solver"] == solver]
        gaps = [row["gap"] for row in mine if row["gap"] is not None]
        ratios = [1 - row["reduction_vs_layerwise"] for row in mine if row["reduction_vs_layerwise"] is not None]
        times = [max(row["solve_seconds"], 1e-4) for row in mine if row["solve_seconds"] is not None]
        counts = {s: sum(1 for row in mine if row["status"] == s)
                  for s in ("optimal", "feasible", "infeasible", "unknown", *RUN_FAILURES)}
        gm_gap = _geomean([1 + g for g in gaps])
        gm_ratio = _geomean(ratios)
        aggregates.append({
            "solver": solver, "runs": len(mine), "found": counts["optimal"] + counts["feasible"],
            "infeasible": counts["infeasible"], "unknown": counts["unknown"], "error": counts["error"],
            "timeout": counts["timeout"], "with_gap": len(gaps),
            "optimal": sum(1 for g in gaps if g == 0),
            "geomean_gap": gm_gap - 1 if gm_gap is not None else None,
            "worst_gap": max(gaps) if gaps else None,
            "geomean_reduction": 1 - gm_ratio if gm_ratio is not None else None,
            "geomean_seconds": _geomean(times),
            "total_seconds": sum(row["wall_seconds"] or 0 for row in mine),
            "status_counts": counts,
        })
    return Summary(rows=rows, aggregates=aggregates, instances=order, solvers=solvers, records=records)


def options_text(options: Mapping[str, Any]) -> str:
    """The options that differ from a plain run, as ``time_limit=30 max_group=12``."""
    parts = []
    for key in ("time_limit", "max_group", "workers", "seed"):
        value = options.get(key)
        if value is not None and not (key == "workers" and value == 1) and not (key == "seed" and value == 0):
            parts.append(f"{key}={value:g}" if isinstance(value, float) else f"{key}={value}")
    for key, value in sorted((options.get("extra") or {}).items()):
        parts.append(f"{key}={json.dumps(value)}")
    return " ".join(parts)


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return value


# ----------------------------------------------------------------------------------------------------------------
# Markdown


def _buffer(nbytes: Any) -> str:
    return format_size(int(nbytes)) if isinstance(nbytes, int) else "-"


def _mb(nbytes: Any) -> str:
    return f"{nbytes / 1e6:,.3f}" if isinstance(nbytes, (int, float)) else "-"


def _pct(value: float | None, *, signed: bool = False) -> str:
    if value is None:
        return "-"
    if value == 0:
        return "0 %"
    return f"{value * 100:+.2f} %" if signed else f"{value * 100:.1f} %"


def _status_word(row: Mapping[str, Any] | None) -> str | None:
    if row is None:
        return "not run"
    if row["dram_bytes"] is None:
        return row["status"]
    return None


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], align: str | None = None) -> list[str]:
    align = align or "l" * len(head)
    sep = ["---:" if a == "r" else "---" for a in align]
    return ["| " + " | ".join(head) + " |", "| " + " | ".join(sep) + " |"] + \
        ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


def _markdown(s: Summary, *, title: str, paper: bool) -> str:
    key_head = ["network", "accelerator", "buffer", "batch"]
    key_align = "llrr"

    def key(inst):
        return [str(inst["network"]), str(inst["accelerator"]), _buffer(inst["buffer_bytes"]), str(inst["batch"])]

    n_runs = len(s.rows)
    statuses: dict[str, int] = {}
    for row in s.rows:
        statuses[row["status"]] = statuses.get(row["status"], 0) + 1
    lines = [f"# {title}", "",
             f"{_n(n_runs, 'run')}: {_n(len(s.instances), 'instance')} × {_n(len(s.solvers), 'solver')} "
             f"({', '.join(f'{v} {k}' for k, v in sorted(statuses.items()))}).", "",
             "DRAM traffic in MB (10^6 bytes). The gap is (DRAM − best proven bound) / best proven bound, where the "
             "best proven bound is the largest bound proven by an exact solver run without a group cap "
             "(`bound_scope` all); `unproven` marks an instance without one (the gap to the best schedule any "
             "solver found is given beside it, which proves nothing). A solver's status stands where it "
             "found no schedule: `infeasible` (none in its space), `unknown` (stopped at its time limit), `error` "
             "(the run raised or died), `timeout` (killed at the hard wall limit).", ""]

    # DRAM traffic
    lines += ["## DRAM traffic (MB)", ""]
    body = []
    for inst in s.instances:
        bound = inst["best_bound_bytes"]
        bound_txt = _mb(bound) if bound else ("infeasible (proven)" if inst["proven_infeasible"] else "unproven")
        cells = []
        for solver in s.solvers:
            row = s.cell(inst["instance_id"], solver)
            restricted = row is not None and row["bound_bytes"] is not None and row["bound_scope"] != "all"
            cells.append(_status_word(row) or _mb(row["dram_bytes"]) + (" †" if restricted else ""))
        body.append(key(inst) + [bound_txt] + cells)
    lines += _table(key_head + ["best bound"] + s.solvers, body, key_align + "r" * (1 + len(s.solvers)))
    if any(r["bound_bytes"] is not None and r["bound_scope"] != "all" for r in s.rows):
        lines += ["", "†: an exact solver run under a restriction (`bound_scope`, e.g. a group cap): its status and "
                      "bound hold only over that restricted space, so its bound is not a proven bound here."]

    # gap
    lines += ["", "## Gap to the best proven bound", ""]
    body = []
    for inst in s.instances:
        cells = []
        for solver in s.solvers:
            row = s.cell(inst["instance_id"], solver)
            word = _status_word(row)
            if word is not None:
                cells.append(word)
            elif row["gap"] is None:
                cells.append(f"unproven ({_pct(row['gap_to_best_known'], signed=True)} vs best found)")
            else:
                cells.append(_pct(row["gap"], signed=True))
        body.append(key(inst) + cells)
    lines += _table(key_head + s.solvers, body, key_align + "r" * len(s.solvers))

    # reduction against layerwise
    others = [x for x in s.solvers if x != "layerwise"]
    if "layerwise" in s.solvers and others:
        lines += ["", "## Reduction of DRAM traffic against layerwise (no fusion)", ""]
        body = []
        for inst in s.instances:
            base = s.cell(inst["instance_id"], "layerwise")
            cells = []
            for solver in others:
                row = s.cell(inst["instance_id"], solver)
                word = _status_word(row)
                if word is not None:
                    cells.append(word)
                elif row["reduction_vs_layerwise"] is None:
                    cells.append(f"n/a (layerwise {base['status'] if base else 'not run'})")
                else:
                    cells.append(_pct(row["reduction_vs_layerwise"]))
            body.append(key(inst) + cells)
        lines += _table(key_head + others, body, key_align + "r" * len(others))

    # time
    lines += ["", "## Solve time (s)", ""]
    body = []
    for inst in s.instances:
        cells = []
        for solver in s.solvers:
            row = s.cell(inst["instance_id"], solver)
            if row is None:
                cells.append("not run")
            elif row["solve_seconds"] is not None:
                cells.append(f"{row['solve_seconds']:.3f}" + ("" if row["dram_bytes"] is not None or
                                                              row["status"] == "infeasible" else f" ({row['status']})"))
            else:
                wall = row.get("wall_seconds")
                cells.append(f"{row['status']}" + (f" after {wall:.1f}" if wall is not None else ""))
        body.append(key(inst) + [str(inst["layers"])] + cells)
    lines += _table(key_head + ["layers"] + s.solvers, body, key_align + "r" * (1 + len(s.solvers)))

    # aggregates
    lines += ["", "## Aggregates", ""]
    body = []
    for a in s.aggregates:
        failed = a["unknown"] + a["error"] + a["timeout"]
        body.append([a["solver"], str(a["runs"]), str(a["found"]), str(a["infeasible"]), str(failed),
                     _pct(a["geomean_gap"], signed=True), _pct(a["worst_gap"], signed=True),
                     f"{a['optimal']}/{a['with_gap']}", _pct(a["geomean_reduction"]),
                     f"{a['geomean_seconds']:.3g}" if a["geomean_seconds"] is not None else "-",
                     f"{a['total_seconds']:.1f}"])
    lines += _table(["solver", "runs", "schedule found", "infeasible", "unknown / error / timeout",
                     "geomean gap", "worst gap", "optimal (gap 0)", "geomean reduction vs layerwise",
                     "geomean time (s)", "total wall (s)"], body, "lrrrrrrrrrr")
    lines += ["", "`optimal (gap 0)`: instances where the solver's traffic equals the best proven bound, out of "
                  "those with a proven bound and a schedule of this solver."]

    # options
    opts = sorted({(row["solver"], row["options"]) for row in s.rows}, key=lambda p: solver_rank(p[0]))
    lines += ["", "## Solver options", ""]
    lines += _table(["solver", "options"], [[sv, f"`{o}`" if o else "defaults"] for sv, o in opts])

    # failures and slowest runs
    failures = [row for row in s.rows if row["status"] in RUN_FAILURES]
    if failures:
        lines += ["", "## Failed runs", ""]
        lines += _table(["instance", "solver", "status", "error"],
                        [[r["instance"], r["solver"], r["status"], str(r["error"]).replace("|", "\\|")]
                         for r in failures])
    slow = sorted((row for row in s.rows if row.get("wall_seconds") is not None),
                  key=lambda r: r["wall_seconds"], reverse=True)[:10]
    if slow:
        lines += ["", "## Slowest runs", ""]
        lines += _table(["instance", "solver", "status", "wall (s)", "peak RSS (MB)"],
                        [[r["instance"], r["solver"], r["status"], f"{r['wall_seconds']:.2f}",
                          f"{r['peak_rss_bytes'] / 1e6:.0f}" if r.get("peak_rss_bytes") else "-"] for r in slow],
                        "lllrr")
    if paper:
        lines += ["", paper_comparison(s)]
    return "\n".join(lines) + "\n"


def paper_comparison(s: Summary) -> str:
    """The Optimus paper's reductions (from its artifact's MB, LCTES 2021) next to ours, in its setting."""
    lines = ["## Against the Optimus paper", "",
             "The paper reports 17–75 % fewer off-chip accesses than its baselines (Optimus NPU, 128 KB, batch 4). "
             "Below, the reduction of Optimus's DRAM traffic against each baseline: the paper's, from the MB its "
             "artifact measures, and ours, from this study (our `optimus` against `layerwise`, `efficient-s` and "
             "`dnnvm`), plus the proven optimum's where we have one. The paper's artifact has its own cost details, "
             "so compare trends, not bytes.", ""]
    body = []
    for net, (label, opt, eff, dnnvm, nofuse) in PAPER_MB.items():
        inst = next((i for i in s.instances if i["network"] == net and all(
            i[k] == v for k, v in PAPER_SETTING.items())), None)
        mine = {sv: s.cell(inst["instance_id"], sv) if inst else None
                for sv in ("optimus", "layerwise", "efficient-s", "dnnvm")}
        infeasible = inst is not None and (inst["proven_infeasible"] or all(
            r is None or r["status"] == "infeasible" for r in mine.values()))
        for against, theirs, solver in (("no fusion", nofuse, "layerwise"), ("Efficient-S", eff, "efficient-s"),
                                        ("DNNVM", dnnvm, "dnnvm")):
            paper_red = 1 - opt / theirs
            if inst is None:
                ours = "not run"
            elif infeasible:
                ours = INFEASIBLE_NOTE
            else:
                a, b = mine["optimus"], mine[solver]
                if a is None or b is None:
                    ours = "not run"
                elif a["dram_bytes"] is None or b["dram_bytes"] is None:
                    missing, row = ("optimus", a) if a["dram_bytes"] is None else (solver, b)
                    ours = f"n/a ({missing} {row['status']})"
                else:
                    ours = f"{(1 - a['dram_bytes'] / b['dram_bytes']) * 100:.1f} % ({_mb(a['dram_bytes'])} vs " \
                           f"{_mb(b['dram_bytes'])} MB)"
            body.append([label, f"Optimus vs {against}", f"{paper_red * 100:.1f} % ({opt:g} vs {theirs:g} MB)", ours])
        if inst is not None and not infeasible and inst["best_bound_bytes"] and mine["layerwise"] and \
                mine["layerwise"]["dram_bytes"]:
            best = inst["best_bound_bytes"]
            optimum = [r for r in s.rows if r["instance_id"] == inst["instance_id"] and r["dram_bytes"] == best]
            if optimum:
                body.append([label, "proven optimum vs no fusion", "-",
                             f"{(1 - best / mine['layerwise']['dram_bytes']) * 100:.1f} % ({_mb(best)} vs "
                             f"{_mb(mine['layerwise']['dram_bytes'])} MB)"])
    return "\n".join(lines + _table(["network", "reduction", "paper", "ours"], body))


# ----------------------------------------------------------------------------------------------------------------
# Plots


def plot(summary: Summary, directory: str | Path) -> list[Path]:
    """Draw the study's figures into ``directory`` (PNG and SVG each); return the files written.

    * ``traffic-vs-buffer-<network>-<accelerator>-b<batch>``: DRAM traffic against buffer size, a line per solver
      and the best proven bound dashed, for every network run at two or more buffer sizes (the figure the Optimus
      paper draws for SqueezeNet);
    * ``gap``: the gap of each heuristic (every solver that is not exact) on every instance with a proven bound;
    * ``time-vs-size``: solve time against network size (layers), log axes; hollow markers for runs that stopped
      at a limit or failed.

    Raises
    ------
    ImportError
        Without matplotlib.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    colors = {sv: plt.get_cmap("tab10")(k % 10) for k, sv in enumerate(SOLVER_ORDER)}
    for k, sv in enumerate(x for x in summary.solvers if x not in colors):
        colors[sv] = plt.get_cmap("Dark2")(k % 8)

    def save(fig, stem: str) -> None:
        fig.tight_layout()
        for ext in ("png", "svg"):
            path = out / f"{stem}.{ext}"
            tmp = out / f".{stem}.tmp.{ext}"
            fig.savefig(tmp, dpi=120)
            tmp.replace(path)
            written.append(path)
        plt.close(fig)

    # traffic against buffer
    series: dict[tuple, list[dict]] = {}
    for inst in summary.instances:
        series.setdefault((inst["network"], inst["accelerator"], inst["batch"]), []).append(inst)
    for (net, acc, batch), insts in series.items():
        if len({i["buffer_bytes"] for i in insts}) < 2:
            continue
        insts = sorted(insts, key=lambda i: i["buffer_bytes"])
        fig, ax = plt.subplots(figsize=(7.0, 4.4))
        for solver in summary.solvers:
            pts = [(i["buffer_bytes"] / 1024, row["dram_bytes"] / 1e6) for i in insts
                   if (row := summary.cell(i["instance_id"], solver)) and row["dram_bytes"] is not None]
            if pts:
                xs, ys = zip(*pts)
                ax.plot(xs, ys, marker="o", markersize=3.5, label=solver, color=colors[solver])
        pts = [(i["buffer_bytes"] / 1024, i["best_bound_bytes"] / 1e6) for i in insts if i["best_bound_bytes"]]
        if pts:
            xs, ys = zip(*pts)
            ax.plot(xs, ys, linestyle="--", color="black", linewidth=1, label="best proven bound")
        none = [i["buffer_bytes"] / 1024 for i in insts if not any(
            (row := summary.cell(i["instance_id"], sv)) and row["dram_bytes"] is not None for sv in summary.solvers)]
        if none:
            ax.plot(none, [0] * len(none), linestyle="none", marker="x", color="crimson", markersize=8,
                    label="no schedule found (infeasible)", clip_on=False)
        ax.set_ylim(bottom=0)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("buffer capacity (KiB)")
        ax.set_ylabel("DRAM traffic (MB)")
        ax.set_title(f"{net} on {acc}, batch {batch}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
        save(fig, f"traffic-vs-buffer-{_slug(net)}-{_slug(acc)}-b{batch}")

    # gap per heuristic
    heuristics = [sv for sv in summary.solvers if sv not in EXACT_SOLVERS]
    with_bound = [i for i in summary.instances if i["best_bound_bytes"]]
    fig, ax = plt.subplots(figsize=(max(6.4, 0.45 * len(with_bound) * max(1, len(heuristics)) / 2.5 + 2), 5.4))
    if with_bound and heuristics:
        width = 0.8 / len(heuristics)
        for k, solver in enumerate(heuristics):
            xs, ys = [], []
            for j, inst in enumerate(with_bound):
                row = summary.cell(inst["instance_id"], solver)
                if row is not None and row["gap"] is not None:
                    xs.append(j - 0.4 + width * (k + 0.5))
                    ys.append(row["gap"] * 100)
            ax.bar(xs, ys, width=width, label=solver, color=colors[solver])
        ax.set_xticks(range(len(with_bound)))
        ax.set_xticklabels([_short(i) for i in with_bound], rotation=60, ha="right", fontsize=7)
        ax.set_yscale("symlog", linthresh=1.0)  # gaps span 0 % to thousands of percent
        ax.set_ylabel("gap to the best proven bound (%, symlog)")
        ax.legend(fontsize=7)
    else:
        ax.text(0.5, 0.5, "no instance has a proven bound", ha="center", va="center", transform=ax.transAxes)
        ax.set_xticks([])
    ax.set_title("gap of each heuristic")
    ax.grid(True, axis="y", alpha=0.3)
    save(fig, "gap")

    # time against size
    fig, ax = plt.subplots(figsize=(7.0, 4.4))
    for solver in summary.solvers:
        done, stopped = [], []
        for row in summary.rows:
            if row["solver"] != solver or not row["layers"]:
                continue
            secs = row["solve_seconds"] if row["solve_seconds"] is not None else row.get("wall_seconds")
            if secs is None:
                continue
            point = (row["layers"], max(secs, 1e-4))
            (done if row["status"] in ("optimal", "feasible", "infeasible") else stopped).append(point)
        if done:
            xs, ys = zip(*sorted(done))
            ax.scatter(xs, ys, s=14, label=solver, color=colors[solver])
        if stopped:
            xs, ys = zip(*sorted(stopped))
            ax.scatter(xs, ys, s=30, facecolors="none", edgecolors=colors[solver],
                       label=f"{solver} (limit or failure)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("network size (layers)")
    ax.set_ylabel("solve time (s)")
    ax.set_title("solve time against network size")
    ax.grid(True, which="both", alpha=0.3)
    if summary.rows:
        ax.legend(fontsize=7)
    save(fig, "time-vs-size")
    return written


def _slug(text: Any) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in str(text))


def _short(inst: Mapping[str, Any]) -> str:
    return f"{inst['network']} {inst['accelerator']} {_buffer(inst['buffer_bytes']).replace(' ', '')} b{inst['batch']}"


# ----------------------------------------------------------------------------------------------------------------
# A study directory


def read_manifest(directory: str | Path) -> dict[str, Any]:
    path = Path(directory) / MANIFEST_FILE
    try:
        doc = json.loads(path.read_text(errors="replace"))
    except (OSError, ValueError, RecursionError):  # missing, unreadable or damaged: the records still render
        return {}
    return doc if isinstance(doc, dict) else {}


def render(directory: str | Path, *, plots: bool = True, paper: bool | None = None) -> Summary:
    """Write ``summary.md``, ``summary.csv`` and (with matplotlib) ``plots/`` of a study directory from its
    ``results.jsonl``; the paper comparison goes into ``summary.md`` when the manifest's preset is ``paper``
    (or ``paper`` says so)."""
    directory = Path(directory)
    summary = summarize(load_records(directory))
    if paper is None:
        paper = read_manifest(directory).get("preset") == "paper"
    write_atomic(directory / "summary.md", summary.to_markdown(paper=paper))
    write_atomic(directory / "summary.csv", summary.to_csv())
    if plots:
        try:
            plot(summary, directory / "plots")
        except ImportError:
            pass  # matplotlib is an optional extra: the tables are written either way
    return summary


__all__ = ["PAPER_MB", "Summary", "best_bounds", "paper_comparison", "plot", "proven_infeasible", "read_manifest",
           "render", "summarize"]
