"""Tables and plots of a study, from its records alone (``DIR/results.jsonl``, see :mod:`optimus_opt.studies.records`).

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
from typing import Any, Callable, Iterable, Mapping, Sequence

from ..io import figures
from ..model.accelerator import format_size
from .. import solvers as _solvers
from .paper import paper_experiments
from .planning import Experiment
from .records import MANIFEST_FILE, RUN_FAILURES, load_records, write_atomic

#: DRAM traffic the Optimus authors' artifact publishes (LCTES 2021, "Towards Optimal Layer-Fusion on Deep Learning
#: Processors", github.com/SheaCai/optimus; the figures of optimus-opt issue 14), batch 4 on its NPU (our
#: ``optimus-artifact`` preset): Optimus (its HaFS), Efficient-S, DNNVM, no fusion. The artifact prints
#: words × 16 / 8 / 1024 / 1024 (fusion/scheduling/res_parse.py), i.e. MiB of bytes at 2 bytes per 16-bit word, the
#: unit :data:`MIB` converts our bytes to. Keys are our zoo names; the paper's MobileNet is MobileNetV1.
ARTIFACT_MIB: dict[str, tuple[str, float, float, float, float]] = {
    "squeezenet1_0": ("SqueezeNet", 19.74, 37.88, 64.35, 74.78),
    "vgg16": ("VGG-16", 333.0, 427.2, 427.2, 464.8),
    "mobilenet_v1": ("MobileNet", 33.63, 48.46, 48.46, 68.12),
    "resnet18": ("ResNet-18", 57.87, 70.08, 77.19, 80.07),
}
#: The setting of the artifact's figures, as our instances name it.
ARTIFACT_SETTING = {"accelerator": "optimus-artifact", "buffer_bytes": 262_144, "batch": 4}
#: Bytes per MiB, the artifact's unit.
MIB = 1 << 20
#: Differences between the artifact's model and ours that optimus-opt does not copy, read from the artifact's code
#: (fusion/scheduling/*, fusion/nn_models/*): the notes of the artifact table, per network what applies to it.
ARTIFACT_NOTES: dict[str, str] = {
    "ride": "pools, element-wise adds, concats and depthwise convolutions may not start a group in the artifact, so "
            "they always ride in a producer's group and never cost a DRAM round trip of their own; in our model "
            "each is a layer that may be a group alone (a concat is a view and moves no bytes, version 2)",
    "dw-weights": "the artifact does not count depthwise weights",
    "last-output": "the artifact does not write a group's output that no later layer reads (the network's "
                   "output); we write every network output",
    "no-fc": "the artifact's model of this network has no fully connected layers (they are commented out in "
             "fusion/nn_models/), ours has the torchvision classifier",
    "input-227": "the artifact's SqueezeNet reads a 227×227 input (conv1 output 111×111); ours is torchvision's "
                 "224×224 (conv1 output 109×109)",
}
#: Which notes apply to which network.
ARTIFACT_NETWORK_NOTES: dict[str, tuple[str, ...]] = {
    "squeezenet1_0": ("ride", "last-output", "input-227"),
    "vgg16": ("ride", "last-output", "no-fc"),
    "mobilenet_v1": ("ride", "dw-weights", "last-output"),
    "resnet18": ("ride", "last-output", "no-fc"),
}

_KEY = ("network", "accelerator", "buffer_bytes", "batch")
_CSV_FIELDS = ("network", "accelerator", "buffer_bytes", "batch", "instance", "layers", "solver", "status",
               "dram_bytes", "best_bound_bytes", "gap", "best_known_bytes", "gap_to_best_known",
               "reduction_vs_layerwise", "solve_seconds", "wall_seconds",
               "peak_rss_bytes", "bound_bytes", "bound_scope", "compulsory_bytes", "groups", "options", "run_id",
               "error", "runs", "found", "with_gap", "optimal", "geomean_gap", "worst_gap", "geomean_reduction",
               "geomean_seconds", "total_seconds")


@dataclass(frozen=True)
class _Figures:
    """Where a report's figures go: pyplot, the plot directory, a fixed colour per solver, and the files written."""

    plt: Any
    out: Path
    colors: dict[str, Any]
    written: list[Path]

    @classmethod
    def open(cls, directory: str | Path, solvers: Iterable[str] = ()) -> "_Figures":
        """Raises ImportError without matplotlib. Registered solvers keep one colour in every study (tab10, by
        their table order); others (``solvers`` not registered) get Dark2 colours in their order."""
        plt = figures.pyplot()
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        known = sorted(_solvers.registered(), key=solver_rank)
        colors = {sv: plt.get_cmap("tab10")(k % 10) for k, sv in enumerate(known)}
        for k, sv in enumerate(x for x in solvers if x not in colors):
            colors[sv] = plt.get_cmap("Dark2")(k % 8)
        return cls(plt, out, colors, [])

    def save(self, fig: Any, stem: str) -> None:
        """Write ``fig`` as ``stem``.png and ``stem``.svg and close it."""
        fig.tight_layout()
        for ext in ("png", "svg"):
            path = self.out / f"{stem}.{ext}"
            figures.save_atomically(fig, path, dpi=120)
            self.written.append(path)
        self.plt.close(fig)


def _n(count: int, word: str) -> str:
    """``1 run``, ``2 runs``."""
    return f"{count} {word}" + ("" if count == 1 else "s")


def solver_rank(name: str) -> tuple[int, str]:
    """Where a solver goes in tables: the ``order`` its class states (the no-fusion reference, the baselines, the
    Optimus DPs, the exact solvers), then its name; a solver not registered goes last."""
    return _solvers.sort_key(name)


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
    exact = _solvers.exact_solvers()
    return {r["instance_id"] for r in records
            if r.get("status") == "infeasible" and r.get("solver") in exact and r.get("bound_scope") == "all"}


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
        instances.setdefault(r["instance_id"], {k: r.get(k) for k in ("instance_id", "instance", "layers", *_KEY,
                                                                     "channel_tile", "weight_staging")})
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


#: The columns that name an instance in every per-instance table, and their alignment.
_KEY_HEAD = ["network", "accelerator", "buffer", "batch"]
_KEY_ALIGN = "llrr"


def _instance_key(inst: dict[str, Any]) -> list[str]:
    return [str(inst["network"]), str(inst["accelerator"]), _buffer(inst["buffer_bytes"]), str(inst["batch"])]


def _per_instance_table(s: Summary, solvers: list[str], cell: Callable[[dict[str, Any], dict | None], str], *,
                        extra_head: tuple[str, ...] = (),
                        extra: Callable[[dict[str, Any]], list[str]] = lambda inst: []) -> list[str]:
    """One row per instance (its key, then ``extra`` columns, then ``cell(inst, row)`` for each of ``solvers``)."""
    body = [_instance_key(inst) + extra(inst) + [cell(inst, s.cell(inst["instance_id"], solver)) for solver in solvers]
            for inst in s.instances]
    return _table(_KEY_HEAD + list(extra_head) + solvers, body,
                  _KEY_ALIGN + "r" * (len(extra_head) + len(solvers)))


def _intro(s: Summary, title: str) -> list[str]:
    statuses: dict[str, int] = {}
    for row in s.rows:
        statuses[row["status"]] = statuses.get(row["status"], 0) + 1
    return [f"# {title}", "",
            f"{_n(len(s.rows), 'run')}: {_n(len(s.instances), 'instance')} × {_n(len(s.solvers), 'solver')} "
            f"({', '.join(f'{v} {k}' for k, v in sorted(statuses.items()))}).", "",
            "DRAM traffic in MB (10^6 bytes). The gap is (DRAM − best proven bound) / best proven bound, where the "
            "best proven bound is the largest bound proven by an exact solver run without a group cap "
            "(`bound_scope` all); `unproven` marks an instance without one (the gap to the best schedule any "
            "solver found is given beside it, which proves nothing). A solver's status stands where it "
            "found no schedule: `infeasible` (none in its space), `unknown` (stopped at its time limit), `error` "
            "(the run raised or died), `timeout` (killed at the hard wall limit).", ""]


def _dram_section(s: Summary) -> list[str]:
    def best_bound(inst):
        bound = inst["best_bound_bytes"]
        return [_mb(bound) if bound else ("infeasible (proven)" if inst["proven_infeasible"] else "unproven")]

    def dram(inst, row):
        restricted = row is not None and row["bound_bytes"] is not None and row["bound_scope"] != "all"
        return _status_word(row) or _mb(row["dram_bytes"]) + (" †" if restricted else "")

    lines = ["## DRAM traffic (MB)", ""]
    lines += _per_instance_table(s, s.solvers, dram, extra_head=("best bound",), extra=best_bound)
    if any(r["bound_bytes"] is not None and r["bound_scope"] != "all" for r in s.rows):
        lines += ["", "†: an exact solver run under a restriction (`bound_scope`, e.g. a group cap): its status and "
                      "bound hold only over that restricted space, so its bound is not a proven bound here."]
    return lines


def _gap_section(s: Summary) -> list[str]:
    def gap(inst, row):
        word = _status_word(row)
        if word is not None:
            return word
        if row["gap"] is None:
            return f"unproven ({_pct(row['gap_to_best_known'], signed=True)} vs best found)"
        return _pct(row["gap"], signed=True)

    return ["", "## Gap to the best proven bound", ""] + _per_instance_table(s, s.solvers, gap)


def _reduction_section(s: Summary) -> list[str]:
    others = [x for x in s.solvers if x != "layerwise"]
    if "layerwise" not in s.solvers or not others:
        return []

    def reduction(inst, row):
        word = _status_word(row)
        if word is not None:
            return word
        if row["reduction_vs_layerwise"] is None:
            base = s.cell(inst["instance_id"], "layerwise")
            return f"n/a (layerwise {base['status'] if base else 'not run'})"
        return _pct(row["reduction_vs_layerwise"])

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
                     _pct(a["geomean_gap"], signed=True), _pct(a["worst_gap"], signed=True),
                     f"{a['optimal']}/{a['with_gap']}", _pct(a["geomean_reduction"]),
                     f"{a['geomean_seconds']:.3g}" if a["geomean_seconds"] is not None else "-",
                     f"{a['total_seconds']:.1f}"])
    return (["", "## Aggregates", ""]
            + _table(["solver", "runs", "schedule found", "infeasible", "unknown / error / timeout",
                      "geomean gap", "worst gap", "optimal (gap 0)", "geomean reduction vs layerwise",
                      "geomean time (s)", "total wall (s)"], body, "lrrrrrrrrrr")
            + ["", "`optimal (gap 0)`: instances where the solver's traffic equals the best proven bound, out of "
                   "those with a proven bound and a schedule of this solver."])


def _runs_sections(s: Summary) -> list[str]:
    """The options each solver ran with, the failed runs and the ten slowest."""
    opts = sorted({(row["solver"], row["options"]) for row in s.rows}, key=lambda p: solver_rank(p[0]))
    lines = ["", "## Solver options", ""]
    lines += _table(["solver", "options"], [[sv, f"`{o}`" if o else "defaults"] for sv, o in opts])
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
    return lines


def _markdown(s: Summary, *, title: str, paper: bool) -> str:
    lines = (_intro(s, title) + _dram_section(s) + _gap_section(s) + _reduction_section(s) + _time_section(s)
             + _aggregates_section(s) + _runs_sections(s))
    if paper:
        lines += ["", paper_comparison(s).rstrip()]
    return "\n".join(lines) + "\n"


def _mib(nbytes: Any) -> str:
    return f"{nbytes / MIB:,.2f}" if isinstance(nbytes, (int, float)) else "-"


def optimum(s: Summary, instance_id: str) -> dict[str, Any]:
    """What the exact solvers of a study say about an instance's optimum.

    ``proven``: an exact solver without restrictions returned status ``optimal`` (its traffic, ``bytes``, is the
    optimum); otherwise ``bytes`` is the best bound proven over every schedule (None without one) and ``found``
    the least traffic any solver found. ``status`` is ``proven``, ``bound``, ``infeasible`` (an exact solver
    proved that no schedule exists) or ``none``.
    """
    rows = [r for r in s.rows if r["instance_id"] == instance_id]
    proven = [r for r in rows if r["solver"] in _solvers.exact_solvers() and r["status"] == "optimal"
              and r["bound_scope"] == "all" and r["dram_bytes"] is not None]
    found = min((r["dram_bytes"] for r in rows if r["dram_bytes"] is not None), default=None)
    if proven:
        return {"status": "proven", "bytes": min(r["dram_bytes"] for r in proven), "found": found}
    inst = next((i for i in s.instances if i["instance_id"] == instance_id), None)
    if inst is not None and inst["proven_infeasible"]:
        return {"status": "infeasible", "bytes": None, "found": None}
    bound = inst["best_bound_bytes"] if inst is not None else None
    return {"status": "bound" if bound else "none", "bytes": bound, "found": found}


def _optimum_cell(opt: Mapping[str, Any]) -> str:
    if opt["status"] == "proven":
        return f"{_mib(opt['bytes'])} (proven)"
    if opt["status"] == "bound":
        return f"≥ {_mib(opt['bytes'])} (bound, not proven; best found {_mib(opt['found'])})"
    if opt["status"] == "infeasible":
        return "no schedule (proven)"
    return "not proven"


def _dram_cell(row: Mapping[str, Any] | None) -> str:
    return _status_word(row) or _mib(row["dram_bytes"])  # type: ignore[index]


def _above_optimum(row: Mapping[str, Any] | None, opt: Mapping[str, Any]) -> str:
    """How far a solver's traffic is above the proven optimum (``≤ x %`` against a bound only)."""
    if row is None or row["dram_bytes"] is None or not opt["bytes"]:
        return "-"
    gap = row["dram_bytes"] / opt["bytes"] - 1
    return _pct(gap, signed=True) if opt["status"] == "proven" else f"≤ {_pct(gap, signed=True)}"


def _experiment_instances(s: Summary, experiment: Experiment) -> list[dict[str, Any]]:
    """The summary's instances that belong to ``experiment``, in the experiment's order."""
    by_id = {i["instance_id"]: i for i in s.instances}
    return [by_id[iid] for iid in dict.fromkeys(experiment.instance_ids()) if iid in by_id]


def experiment_table(s: Summary, experiment: Experiment) -> list[str]:
    """The markdown table of one experiment of the paper preset: its key columns, the DRAM traffic of each of its
    heuristics (MiB), the optimum (proven, or the bound and the best schedule found) and how far optimus is above
    it."""
    insts = _experiment_instances(s, experiment)
    if not insts:
        return [f"_{experiment.title}: no run of it is in this study._"]
    exact = _solvers.exact_solvers()
    heuristics = sorted((sv for sv in dict.fromkeys(experiment.solvers) if sv not in exact), key=solver_rank)
    key_head, key_of = _experiment_key(experiment.key)
    body = []
    for inst in insts:
        opt = optimum(s, inst["instance_id"])
        cells = [_dram_cell(s.cell(inst["instance_id"], sv)) for sv in heuristics]
        base = s.cell(inst["instance_id"], "layerwise")
        mine = s.cell(inst["instance_id"], "optimus")
        reduction = "-"
        if base and mine and base["dram_bytes"] and mine["dram_bytes"] is not None:
            reduction = _pct(1 - mine["dram_bytes"] / base["dram_bytes"])
        body.append(key_of(inst) + cells + [_optimum_cell(opt), _above_optimum(mine, opt), reduction])
    head = key_head + heuristics + ["optimum", "optimus above optimum", "optimus vs layerwise"]
    return _table(head, body, "l" * len(key_head) + "r" * (len(head) - len(key_head)))


def _experiment_key(key: str):
    """The key columns of an experiment's table and how to fill them from an instance."""
    if key == "buffer":
        return ["buffer"], lambda i: [_buffer(i["buffer_bytes"])]
    if key == "batch":
        return ["network", "batch"], lambda i: [str(i["network"]), str(i["batch"])]
    if key == "pe-array":
        return ["PE array (Tc)", "buffer"], lambda i: [
            f"{i['channel_tile']}×{i['channel_tile']}" if i.get("channel_tile") else str(i["accelerator"]),
            _buffer(i["buffer_bytes"])]
    return ["network", "accelerator"], lambda i: [str(i["network"]), str(i["accelerator"])]


def _artifact_instance(s: Summary, network: str) -> dict[str, Any] | None:
    return next((i for i in s.instances if i["network"] == network and all(
        i[k] == v for k, v in ARTIFACT_SETTING.items())), None)


def artifact_comparison(s: Summary) -> str:
    """Our optimus, efficient-s, dnnvm, layerwise and optimum on ``optimus-artifact`` next to the artifact's
    published figures (:data:`ARTIFACT_MIB`), both in MiB, each with its reduction against no fusion, then a
    paragraph per network on the differences between the two models (:data:`ARTIFACT_NOTES`)."""
    lines = ["### Against the authors' artifact", "",
             "Batch 4 on the accelerator the artifact measured (`optimus-artifact`: its \"128KB\" buffer holds "
             "131,072 16-bit words = 262,144 bytes, Tc 32, weights streamed past the buffer). Traffic in **MiB = "
             "2^20 bytes, 2 bytes per 16-bit word** (the artifact prints words × 16 / 8 / 2^20; we print bytes / "
             "2^20). Reductions are against each side's own no-fusion figure. The artifact's figures are "
             "published data, printed as given.", ""]
    body = []
    paragraphs = []
    for net, (label, *theirs) in ARTIFACT_MIB.items():
        inst = _artifact_instance(s, net)
        paper = dict(zip(("optimus", "efficient-s", "dnnvm", "layerwise"), theirs))
        mine = {sv: s.cell(inst["instance_id"], sv) if inst else None for sv in paper}
        base = mine["layerwise"]["dram_bytes"] if mine["layerwise"] else None
        for sv, what in (("optimus", "Optimus"), ("efficient-s", "Efficient-S"), ("dnnvm", "DNNVM"),
                         ("layerwise", "no fusion")):
            row = mine[sv]
            ours = _dram_cell(row) if inst else "not run"
            ours_red = _pct(1 - row["dram_bytes"] / base) if row and row["dram_bytes"] is not None and base else "-"
            ratio = f"{row['dram_bytes'] / MIB / paper[sv]:.2f}×" if row and row["dram_bytes"] is not None else "-"
            body.append([label, what, f"{paper[sv]}", _pct(1 - paper[sv] / paper["layerwise"]), ours, ours_red,
                         ratio])
        if inst is not None:
            opt = optimum(s, inst["instance_id"])
            cell = _optimum_cell(opt)
            red = _pct(1 - opt["bytes"] / base) if opt["bytes"] and base else "-"
            body.append([label, "optimum" if opt["status"] == "proven" else "optimum (bound only)", "-", "-", cell,
                         ("" if opt["status"] == "proven" else "≤ ") + red if red != "-" else "-", "-"])
            paragraphs.append(_artifact_paragraph(net, label, paper, mine, opt, inst))
        else:
            paragraphs.append(f"**{label}.** Not run in this study.")
    lines += _table(["network", "schedule", "artifact (MiB)", "artifact vs no fusion", "ours (MiB)",
                     "ours vs no fusion", "ours / artifact"], body, "llrrrrr")
    lines += ["", "Notes (differences of the artifact's model that optimus-opt does not copy): "
              + "; ".join(f"({k + 1}) {text}" for k, text in enumerate(ARTIFACT_NOTES.values())) + ".", ""]
    return "\n".join(lines + ["\n\n".join(paragraphs)])


def _artifact_paragraph(net: str, label: str, paper: Mapping[str, float], mine: Mapping[str, Any],
                        opt: Mapping[str, Any], inst: Mapping[str, Any]) -> str:
    """One network's differences between our figures and the artifact's, with the bytes each note accounts for
    in our model (computed from the zoo network on ``optimus-artifact``)."""
    facts = _network_facts(net, inst)
    parts = [f"**{label}.**"]
    lw, op = mine["layerwise"], mine["optimus"]
    if lw and lw["dram_bytes"] is not None:
        ratio = lw["dram_bytes"] / MIB / paper["layerwise"]
        parts.append(f"Our no-fusion traffic is {_mib(lw['dram_bytes'])} MiB, {ratio:.2f}× the artifact's "
                     f"{paper['layerwise']}.")
    if op and op["dram_bytes"] is not None:
        parts.append(f"Our optimus moves {_mib(op['dram_bytes'])} MiB against the artifact's {paper['optimus']} "
                     f"({op['dram_bytes'] / MIB / paper['optimus']:.2f}×).")
    notes = ARTIFACT_NETWORK_NOTES.get(net, ())
    keys = list(ARTIFACT_NOTES)
    for note in notes:
        ref = f"Note ({keys.index(note) + 1})"
        if note == "ride" and facts:
            parts.append(f"{ref}: {facts['riders']} of our layers are pools, adds or depthwise convolutions; alone "
                         f"(as in our no-fusion schedule) they read and write {_mib(facts['rider_bytes'])} MiB, "
                         "traffic the artifact's no-fusion baseline never has, and which our fused schedules pay "
                         "wherever fusing them does not pay off.")
        elif note == "dw-weights" and facts:
            parts.append(f"{ref}: our depthwise weights are {_mib(facts['dw_weight_bytes'])} MiB, read at least once "
                         "by every schedule.")
        elif note == "last-output" and facts:
            parts.append(f"{ref}: the network output we write is {_mib(facts['output_bytes'])} MiB, too little to "
                         "matter.")
        elif note == "no-fc" and facts:
            parts.append(f"{ref}: our fully connected weights are {_mib(facts['fc_weight_bytes'])} MiB, read at "
                         "least once by every schedule, so every one of our figures exceeds the artifact's by at "
                         "least that much.")
        elif note == "input-227":
            parts.append(f"{ref}: {ARTIFACT_NOTES[note]}, so the artifact's feature maps are about "
                         f"{(111 / 109) ** 2 - 1:.0%} larger than ours, in the other direction.")
    if facts and facts["reread_bytes"]:
        parts.append(f"Outside the notes: alone, our layers read their weights {_mib(facts['reread_bytes'])} MiB more "
                     "than once over (a streamed group reads its weights again for every strip and batch block, "
                     "formulations/cost-model.md §4), where the artifact searches each layer's loop order and "
                     "blocking, which our model does not.")
    if opt["status"] == "proven" and op and op["dram_bytes"] is not None:
        parts.append(f"Our proven optimum is {_mib(opt['bytes'])} MiB: optimus is "
                     f"{_pct(op['dram_bytes'] / opt['bytes'] - 1, signed=True)} above it, the distance from "
                     "optimal the paper could not measure.")
    elif opt["status"] == "bound" and op and op["dram_bytes"] is not None:
        parts.append(f"No exact solver finished; the optimum is at least {_mib(opt['bytes'])} MiB, so optimus is at "
                     f"most {_pct(op['dram_bytes'] / opt['bytes'] - 1, signed=True)} above it.")
    return " ".join(parts)


def _network_facts(net: str, inst: Mapping[str, Any]) -> dict[str, Any] | None:
    """Bytes of a zoo network on the instance's accelerator that the artifact's notes concern: the layers that may
    not start a group there (pools, adds, depthwise convs) as groups of their own, depthwise and fully connected
    weights, the network outputs, the weights its layers alone read more than once. None when the network is not
    in the zoo."""
    from .. import zoo
    from ..cost.cost_model import CostModel
    from ..model.instance import Instance
    from ..model.presets import accelerator_preset

    if net not in zoo.names():
        return None
    network = zoo.build(net)
    acc = accelerator_preset(str(inst["accelerator"]))
    instance = Instance(network, acc, int(inst["batch"]))
    cm = CostModel(instance)
    word = acc.word_bytes * instance.batch
    riders, rider_bytes, dw, fc, reread = 0, 0, 0, 0, 0
    for node in network.layer_ids:
        layer = network.layers[node]
        if network.weights[node]:
            alone = cm.best_tiling([node])
            reread += alone.weight_traffic - network.weights[node] * acc.word_bytes if alone is not None else 0
        depthwise = layer.op == "conv" and layer.groups > 1 and layer.groups == network.shapes[
            network.producers[node][0]][0] if network.producers[node] else False
        if layer.op in ("pool", "add", "mul") or depthwise:
            riders += 1
            tiling = cm.best_tiling([node])
            rider_bytes += tiling.cost if tiling is not None else 0
        if depthwise:
            dw += network.weights[node] * acc.word_bytes
        if layer.op == "fc":
            fc += network.weights[node] * acc.word_bytes
    outputs = sum(math.prod(network.shapes[network.index[name]]) for name in network.outputs) * word \
        if network.outputs else 0
    return {"riders": riders, "rider_bytes": rider_bytes, "dw_weight_bytes": dw, "fc_weight_bytes": fc,
            "output_bytes": outputs, "reread_bytes": reread}


def paper_comparison(s: Summary, experiments: Sequence[Experiment] | None = None) -> str:
    """The Optimus paper's evaluation as the paper preset reproduces it: one section per experiment of
    :func:`optimus_opt.studies.paper.paper_experiments` (a table and its plot), the comparison with the authors'
    artifact (:func:`artifact_comparison`) and what the proven optimum says about the paper's heuristic."""
    exps = list(experiments) if experiments is not None else paper_experiments()
    lines = ["## The Optimus paper's evaluation", "",
             "Each experiment of the paper that the cost model can express (docs/reproduction.md lists the others). "
             "Traffic in MiB (2^20 bytes) throughout this section. **optimum**: `(proven)` where an exact solver "
             "returned status optimal; otherwise the best bound proven over every schedule, marked `bound, not "
             "proven`, with the best schedule found. **optimus above optimum**: how much more traffic the "
             "paper's dynamic program moves than the optimum (`≤` against a bound).", ""]
    for exp in exps:
        if exp.key == "artifact":
            lines += [artifact_comparison(s), "", f"![{exp.title}](plots/paper-{exp.key}.png)", ""]
            continue
        lines += [f"### {exp.title}", "", exp.description, ""]
        lines += experiment_table(s, exp)
        lines += ["", f"![{exp.title}](plots/paper-{exp.key}.png)", ""]
    lines += _optimality_summary(s, exps)
    return "\n".join(lines).rstrip() + "\n"


def _optimality_summary(s: Summary, experiments: Sequence[Experiment]) -> list[str]:
    """How far optimus is above the optimum over every instance of the experiments: worst, geometric mean and how
    often it is optimal, counting proven optima only."""
    gaps: list[float] = []
    bounded = 0
    seen: set[str] = set()
    for exp in experiments:
        for inst in _experiment_instances(s, exp):
            if inst["instance_id"] in seen:
                continue
            seen.add(inst["instance_id"])
            opt, row = optimum(s, inst["instance_id"]), s.cell(inst["instance_id"], "optimus")
            if row is None or row["dram_bytes"] is None or not opt["bytes"]:
                continue
            if opt["status"] == "proven":
                gaps.append(row["dram_bytes"] / opt["bytes"] - 1)
            else:
                bounded += 1
    if not gaps:
        return []
    gm = _geomean([1 + g for g in gaps])
    return ["### How far is Optimus from optimal?", "",
            f"Over the {_n(len(gaps), 'instance')} of this section with a proven optimum, optimus is optimal on "
            f"{sum(1 for g in gaps if g == 0)}, {_pct((gm or 1) - 1, signed=True)} above the optimum in geometric "
            f"mean and {_pct(max(gaps), signed=True)} at worst"
            + (f"; on {_n(bounded, 'more instance')} only a bound is proven" if bounded else "") + "."]


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
    canvas = _Figures.open(directory, summary.solvers)
    series: dict[tuple, list[dict]] = {}
    for inst in summary.instances:
        series.setdefault((inst["network"], inst["accelerator"], inst["batch"]), []).append(inst)
    for (net, acc, batch), insts in series.items():
        if len({i["buffer_bytes"] for i in insts}) >= 2:
            _traffic_vs_buffer(canvas, summary, sorted(insts, key=lambda i: i["buffer_bytes"]),
                               f"{net} on {acc}, batch {batch}", f"traffic-vs-buffer-{_slug(net)}-{_slug(acc)}-b{batch}")
    _gap_figure(canvas, summary)
    _time_vs_size(canvas, summary)
    return canvas.written


def _traffic_vs_buffer(canvas: _Figures, summary: Summary, insts: list[dict], title: str, stem: str) -> None:
    fig, ax = canvas.plt.subplots(figsize=(7.0, 4.4))
    for solver in summary.solvers:
        pts = [(i["buffer_bytes"] / 1024, row["dram_bytes"] / 1e6) for i in insts
               if (row := summary.cell(i["instance_id"], solver)) and row["dram_bytes"] is not None]
        if pts:
            xs, ys = zip(*pts)
            ax.plot(xs, ys, marker="o", markersize=3.5, label=solver, color=canvas.colors[solver])
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
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    canvas.save(fig, stem)


def _gap_figure(canvas: _Figures, summary: Summary) -> None:
    heuristics = [sv for sv in summary.solvers if sv not in _solvers.exact_solvers()]
    with_bound = [i for i in summary.instances if i["best_bound_bytes"]]
    fig, ax = canvas.plt.subplots(figsize=(max(6.4, 0.45 * len(with_bound) * max(1, len(heuristics)) / 2.5 + 2),
                                           5.4))
    if with_bound and heuristics:
        width = 0.8 / len(heuristics)
        for k, solver in enumerate(heuristics):
            xs, ys = [], []
            for j, inst in enumerate(with_bound):
                row = summary.cell(inst["instance_id"], solver)
                if row is not None and row["gap"] is not None:
                    xs.append(j - 0.4 + width * (k + 0.5))
                    ys.append(row["gap"] * 100)
            ax.bar(xs, ys, width=width, label=solver, color=canvas.colors[solver])
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
    canvas.save(fig, "gap")


def _time_vs_size(canvas: _Figures, summary: Summary) -> None:
    fig, ax = canvas.plt.subplots(figsize=(7.0, 4.4))
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
            ax.scatter(xs, ys, s=14, label=solver, color=canvas.colors[solver])
        if stopped:
            xs, ys = zip(*sorted(stopped))
            ax.scatter(xs, ys, s=30, facecolors="none", edgecolors=canvas.colors[solver],
                       label=f"{solver} (limit or failure)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("network size (layers)")
    ax.set_ylabel("solve time (s)")
    ax.set_title("solve time against network size")
    ax.grid(True, which="both", alpha=0.3)
    if summary.rows:
        ax.legend(fontsize=7)
    canvas.save(fig, "time-vs-size")


def plot_paper(summary: Summary, directory: str | Path, experiments: Sequence[Experiment] | None = None) -> list[Path]:
    """Draw one figure per experiment of the paper preset into ``directory`` (``paper-<key>.png`` and ``.svg``,
    the files :func:`paper_comparison` links); return the files written. Traffic in MiB.

    * ``overall``: optimus and the baselines normalised to layerwise, per network and accelerator, with the
      optimum (a bound where unproven, hollow);
    * ``buffer``: traffic against buffer capacity, a line per solver and the optimum dashed;
    * ``batch``: traffic per sample against batch size, one panel per network;
    * ``pe-array``: traffic per (Tc, buffer), normalised to the first configuration, as the artifact draws it;
    * ``artifact``: our figures next to the artifact's, per network and schedule.

    Raises
    ------
    ImportError
        Without matplotlib.
    """
    canvas = _Figures.open(directory, summary.solvers)
    for exp in experiments if experiments is not None else paper_experiments():
        insts = _experiment_instances(summary, exp)
        if not insts:
            continue
        panel = _PaperPanel(summary, canvas, exp, insts,
                            sorted((sv for sv in dict.fromkeys(exp.solvers) if sv not in _solvers.exact_solvers()),
                                   key=solver_rank),
                            [optimum(summary, i["instance_id"]) for i in insts])
        fig, axes = _PAPER_FIGURES.get(exp.key, _paper_overall)(panel)
        for ax in axes:
            ax.grid(True, alpha=0.3)
        canvas.save(fig, f"paper-{exp.key}")
    return canvas.written


@dataclass(frozen=True)
class _PaperPanel:
    """What every figure of the paper preset draws from: one experiment's instances, its heuristics (the solvers
    that are not exact) and the optimum of each instance (proven or a bound)."""

    summary: Summary
    canvas: _Figures
    exp: Experiment
    insts: list[dict]
    heuristics: list[str]
    opts: list[dict]

    def mib(self, inst: Mapping[str, Any], solver: str) -> float | None:
        row = self.summary.cell(inst["instance_id"], solver)
        return row["dram_bytes"] / MIB if row is not None and row["dram_bytes"] is not None else None


def _paper_artifact(p: _PaperPanel):
    colors = p.canvas.colors
    nets = [i for i in p.insts if i["network"] in ARTIFACT_MIB]
    fig, ax = p.canvas.plt.subplots(figsize=(8.0, 4.4))
    pairs = (("optimus", 1), ("efficient-s", 2), ("dnnvm", 3), ("layerwise", 4))
    width = 0.1
    for k, (sv, col) in enumerate(pairs):
        xs = [j + (2 * k - 3.5) * width for j in range(len(nets))]
        ax.bar([x - width / 2 for x in xs], [ARTIFACT_MIB[i["network"]][col] for i in nets], width,
               color=colors[sv], alpha=0.45, hatch="//", label=f"artifact {sv}")
        ax.bar([x + width / 2 for x in xs], [p.mib(i, sv) or 0 for i in nets], width, color=colors[sv],
               label=f"ours {sv}")
    ax.set_xticks(range(len(nets)))
    ax.set_xticklabels([ARTIFACT_MIB[i["network"]][0] for i in nets])
    ax.set_yscale("log")
    ax.set_ylabel("DRAM traffic (MiB, log)")
    ax.set_title("ours on optimus-artifact against the artifact's figures, batch 4")
    ax.legend(fontsize=6, ncol=2)
    return fig, [ax]


def _paper_buffer(p: _PaperPanel):
    fig, ax = p.canvas.plt.subplots(figsize=(7.0, 4.4))
    xs = [i["buffer_bytes"] / 1024 for i in p.insts]
    for sv in p.heuristics:
        ax.plot(xs, [p.mib(i, sv) for i in p.insts], marker="o", markersize=3, label=sv, color=p.canvas.colors[sv])
    ax.plot(xs, [o["bytes"] / MIB if o["bytes"] else None for o in p.opts], "k--", linewidth=1,
            label="optimum (proven or bound)")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("buffer capacity (KiB)")
    ax.set_ylabel("DRAM traffic (MiB)")
    ax.set_ylim(bottom=0)
    ax.set_title(p.exp.description.split(",")[0] + ", batch 4")
    ax.legend(fontsize=7)
    return fig, [ax]


def _paper_batch(p: _PaperPanel):
    nets = list(dict.fromkeys(i["network"] for i in p.insts))
    fig, axes = p.canvas.plt.subplots(1, len(nets), figsize=(5.0 * len(nets), 4.0), squeeze=False)
    for ax, net in zip(axes[0], nets):
        mine = [(i, o) for i, o in zip(p.insts, p.opts) if i["network"] == net]
        xs = [i["batch"] for i, _ in mine]
        for sv in p.heuristics:
            ax.plot(xs, [(p.mib(i, sv) or float("nan")) / i["batch"] for i, _ in mine], marker="o",
                    markersize=3, label=sv, color=p.canvas.colors[sv])
        ax.plot(xs, [o["bytes"] / MIB / i["batch"] if o["bytes"] else float("nan") for i, o in mine],
                "k--", linewidth=1, label="optimum")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("batch size")
        ax.set_ylabel("DRAM traffic per sample (MiB)")
        ax.set_title(f"{net} on optimus-npu (128 KiB)")
        ax.legend(fontsize=7)
    return fig, list(axes[0])


def _paper_pe_array(p: _PaperPanel):
    fig, ax = p.canvas.plt.subplots(figsize=(8.0, 4.0))
    labels = [f"{i.get('channel_tile')}x{i.get('channel_tile')}, {_buffer(i['buffer_bytes'])}" for i in p.insts]
    first = {sv: p.mib(p.insts[0], sv) for sv in p.heuristics}
    for sv in p.heuristics:
        if first[sv]:
            ax.plot(labels, [(p.mib(i, sv) or float("nan")) / first[sv] for i in p.insts], marker="o",
                    markersize=3, label=sv, color=p.canvas.colors[sv])
    if p.opts[0]["bytes"]:
        ax.plot(labels, [o["bytes"] / p.opts[0]["bytes"] if o["bytes"] else float("nan") for o in p.opts],
                "k--", linewidth=1, label="optimum")
    ax.set_ylabel(f"DRAM traffic / at {labels[0]}")
    ax.set_title("SqueezeNet 1.0, batch 4: PE array (channel tile) × buffer")
    ax.tick_params(axis="x", labelrotation=30, labelsize=7)
    ax.legend(fontsize=7)
    return fig, [ax]


def _paper_overall(p: _PaperPanel):
    fig, ax = p.canvas.plt.subplots(figsize=(max(7.0, 0.42 * len(p.insts) + 2), 4.6))
    shown = [sv for sv in p.heuristics if sv != "layerwise"]
    width = 0.8 / (len(shown) + 1)
    for k, sv in enumerate(shown):
        ys = [(p.mib(i, sv) or 0) / (p.mib(i, "layerwise") or float("nan")) for i in p.insts]
        ax.bar([j - 0.4 + width * (k + 0.5) for j in range(len(p.insts))], ys, width, label=sv,
               color=p.canvas.colors[sv])
    ys = [(o["bytes"] / MIB if o["bytes"] else 0) / (p.mib(i, "layerwise") or float("nan"))
          for i, o in zip(p.insts, p.opts)]
    ax.bar([j - 0.4 + width * (len(shown) + 0.5) for j in range(len(p.insts))], ys, width, color="black",
           label="optimum (proven or bound)")
    ax.set_xticks(range(len(p.insts)))
    ax.set_xticklabels([f"{i['network']} {i['accelerator']}" for i in p.insts], rotation=60, ha="right",
                       fontsize=7)
    ax.set_ylabel("DRAM traffic / layerwise")
    ax.set_title("overall comparison, batch 4")
    ax.legend(fontsize=7)
    return fig, [ax]


#: The figure of each experiment of the paper preset, by key; any other experiment is drawn like ``overall``.
_PAPER_FIGURES = {"artifact": _paper_artifact, "buffer": _paper_buffer, "batch": _paper_batch,
                  "pe-array": _paper_pe_array, "overall": _paper_overall}


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
            if paper:
                plot_paper(summary, directory / "plots")
        except ImportError:
            pass  # matplotlib is an optional extra: the tables are written either way
    return summary


__all__ = ["ARTIFACT_MIB", "ARTIFACT_NOTES", "MIB", "Summary", "artifact_comparison", "best_bounds",
           "experiment_table", "optimum", "paper_comparison", "plot", "plot_paper", "proven_infeasible",
           "read_manifest", "render", "summarize"]
