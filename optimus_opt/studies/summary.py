"""What a study's records add up to, before any table is drawn: one row per instance × solver with its gap, the
per-solver aggregates and the instances with their best proven bounds (:func:`summarize`), from the records alone
(``DIR/results.jsonl``, see :mod:`optimus_opt.studies.records`).

Definitions:

* **best proven bound** of an instance: the largest ``bound_bytes`` among its records whose bound holds over every
  schedule of the cost model (``bound_scope == "all"``: an exact solver run without a group cap or side
  constraints; an ``optimal`` one proves its cost, a timed-out cpsat or milp run may still prove a bound). A bound
  proven under a group cap holds only over that space and is not used.
* **gap** of a run: (DRAM bytes − best proven bound) / best proven bound; ``unproven`` where the instance has no
  proven bound, or where that bound is only the compulsory traffic (inputs, outputs and weights once, which every
  schedule pays) and no schedule meets it (``bound_basis`` ``compulsory``): such a gap measures the compulsory
  traffic, not the solver (NASNet-A Mobile: +600 % for every solver). A run is **optimal** when its gap is
  exactly 0.
* **reduction against layerwise**: 1 − DRAM bytes / layerwise's DRAM bytes on the same instance.
* aggregates: geometric means of (1 + gap), of the ratio to layerwise and of the solve time (floored at 0.1 ms),
  over the instances where each is defined; ``unproven`` counts the runs with a schedule but no gap, left out of
  the gap means.

An instance is identified by its id (a hash of its content, tiling model included); its key columns are the
network, the accelerator, the buffer, the batch and the tiling model (``tiling`` and ``halo``; records written
before cost model version 3 have neither and are ``strips``).
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from .. import solvers as _solvers
from ..cost.energy import OBJECTIVE_FIELDS
from .records import RUN_FAILURES

_KEY = ("network", "accelerator", "buffer_bytes", "batch", "tiling", "halo")
#: What a record written before cost model version 3 (without these fields) stands for.
_KEY_DEFAULTS = {"tiling": "strips", "halo": "choose"}


_CSV_FIELDS = ("network", "accelerator", "buffer_bytes", "batch", "tiling", "halo", "instance", "layers", "solver",
               "status", "dram_bytes", "macs", "added_macs", "best_bound_bytes", "gap", "best_known_bytes",
               "gap_to_best_known", "reduction_vs_layerwise", "solve_seconds", "wall_seconds",
               "peak_rss_bytes", "bound_bytes", "bound_scope", "compulsory_bytes", "groups", "options", "run_id",
               "error", "runs", "found", "with_gap", "unproven", "optimal", "geomean_gap", "worst_gap", "geomean_reduction",
               "geomean_seconds", "total_seconds")


def solver_rank(name: str) -> tuple[int, str]:
    """Where a solver goes in tables: the ``order`` its class states (the no-fusion reference, the baselines, the
    Optimus DPs, the exact solvers), then its name; a solver not registered goes last."""
    return _solvers.sort_key(name)


def value_of(r: Mapping[str, Any]) -> int | None:
    """What the run minimised: its DRAM bytes, or its energy or latency when it was solved for that."""
    return r.get(OBJECTIVE_FIELDS[r.get("objective") or "dram"])


def bound_of(r: Mapping[str, Any]) -> int | None:
    """The run's proven bound of what it minimised. Under energy or latency, a bound that is only the compulsory
    traffic priced in the objective's units proves nothing about the solver and is left out (a gap against it is
    unproven, like a DRAM gap against the compulsory traffic alone)."""
    if (r.get("objective") or "dram") == "dram":
        return r.get("bound_bytes")
    return None if str(r.get("bound_kind") or "").startswith("compulsory") else r.get("objective_bound")


def best_bounds(records: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """The best proven bound of each instance (by instance id), from the records whose bound holds everywhere."""
    out: dict[str, int] = {}
    for r in records:
        bound = bound_of(r)
        if r.get("bound_scope") == "all" and bound is not None and \
                r.get("status") in ("optimal", "feasible", "unknown"):
            iid = r["instance_id"]
            out[iid] = max(out.get(iid, 0), int(bound))
    return out


def bound_basis(bound: int | None, compulsory: int | None, best_known: int | None) -> str | None:
    """What an instance's best proven bound rests on: ``proven`` (it exceeds the compulsory traffic, or a schedule
    meets it), ``compulsory`` (it is the compulsory traffic and no schedule meets it: gaps against it are unproven),
    None without a bound.

    >>> bound_basis(44_232_258, 11_786_148, 95_315_716), bound_basis(11_786_148, 11_786_148, 95_315_716)
    ('proven', 'compulsory')
    >>> bound_basis(253_460, 253_460, 253_460), bound_basis(None, 253_460, 253_460)
    ('proven', None)
    """
    if bound is None:
        return None
    if compulsory is not None and bound <= compulsory and (best_known is None or best_known > bound):
        return "compulsory"
    return "proven"


def proven_infeasible(records: Iterable[Mapping[str, Any]]) -> set[str]:
    """Instances (ids) for which an exact solver without restrictions proved that no schedule exists."""
    exact = _solvers.exact_solvers()
    return {r["instance_id"] for r in records
            if r.get("status") == "infeasible" and r.get("solver") in exact and r.get("bound_scope") == "all"}


def geomean(values: Sequence[float]) -> float | None:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None



@dataclass
class Summary:
    """Rows (one per instance × solver), per-solver aggregates and the instances; :meth:`to_csv` writes them
    (the markdown tables are :func:`optimus_opt.studies.report.markdown`'s)."""

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



def summarize(records: Sequence[Mapping[str, Any]]) -> Summary:
    """Rows, aggregates and instances of a study's records (the newest record per run id)."""
    records = [dict(r) for r in records]
    bounds = best_bounds(records)
    infeasible = proven_infeasible(records)
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    instances: dict[str, dict[str, Any]] = {}
    for r in records:
        latest[(r["instance_id"], r["solver"])] = r  # a later record of the same pair wins
        instances.setdefault(r["instance_id"], {k: r.get(k, _KEY_DEFAULTS.get(k)) for k in (
            "instance_id", "instance", "layers", *_KEY, "channel_tile", "weight_staging")})
    known: dict[str, int] = {}
    for r in records:
        value = value_of(r)
        if value is not None and r.get("status") in ("optimal", "feasible"):
            known[r["instance_id"]] = min(known.get(r["instance_id"], value), value)
    compulsory: dict[str, int] = {}
    for r in records:
        if r.get("compulsory_bytes") is not None and (r.get("objective") or "dram") == "dram":
            compulsory[r["instance_id"]] = max(compulsory.get(r["instance_id"], 0), int(r["compulsory_bytes"]))
    for iid, inst in instances.items():
        inst["best_bound_bytes"] = bounds.get(iid)
        inst["best_known_bytes"] = known.get(iid)
        inst["proven_infeasible"] = iid in infeasible
        inst["bound_basis"] = bound_basis(bounds.get(iid), compulsory.get(iid), known.get(iid))
    solvers = sorted({s for _, s in latest}, key=solver_rank)
    order = sorted(instances.values(), key=lambda i: (str(i["network"]), str(i["accelerator"]),
                                                       i["buffer_bytes"] or 0, i["batch"] or 0, str(i["tiling"]),
                                                       str(i["halo"]), str(i["instance"])))
    rows = []
    for inst in order:
        iid = inst["instance_id"]
        base = latest.get((iid, "layerwise"))
        base_bytes = value_of(base) if base else None
        for solver in solvers:
            r = latest.get((iid, solver))
            if r is None:
                continue
            dram = value_of(r)
            bound = bounds.get(iid)
            gap = (dram - bound) / bound if dram is not None and bound and inst["bound_basis"] == "proven" else None
            reduction = 1 - dram / base_bytes if dram is not None and base_bytes else None
            best = known.get(iid)
            to_best = (dram - best) / best if dram is not None and best else None
            rows.append({
                **{k: inst[k] for k in ("instance_id", "instance", "layers", *_KEY)}, "best_known_bytes": best,
                "solver": solver, "status": r.get("status"), "dram_bytes": r.get("dram_bytes"),
                "macs": r.get("macs"), "added_macs": r.get("added_macs"), "energy_fj": r.get("energy_fj"),
                "latency_cycles": r.get("latency_cycles"), "objective": r.get("objective") or "dram",
                "best_bound_bytes": bound,
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
        gm_gap = geomean([1 + g for g in gaps])
        gm_ratio = geomean(ratios)
        aggregates.append({
            "solver": solver, "runs": len(mine), "found": counts["optimal"] + counts["feasible"],
            "infeasible": counts["infeasible"], "unknown": counts["unknown"], "error": counts["error"],
            "timeout": counts["timeout"], "with_gap": len(gaps),
            "unproven": sum(1 for row in mine if row["dram_bytes"] is not None and row["gap"] is None),
            "optimal": sum(1 for g in gaps if g == 0),
            "geomean_gap": gm_gap - 1 if gm_gap is not None else None,
            "worst_gap": max(gaps) if gaps else None,
            "geomean_reduction": 1 - gm_ratio if gm_ratio is not None else None,
            "geomean_seconds": geomean(times),
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


__all__ = ["Summary", "best_bounds", "bound_basis", "geomean", "options_text", "proven_infeasible", "solver_rank", "summarize"]
