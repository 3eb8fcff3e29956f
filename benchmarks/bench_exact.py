"""Time the exact solvers (exact-dp, cpsat, milp) on the zoo in the Optimus setting and check that they agree.

For every network × buffer × tiling × solver: status, wall seconds, candidate groups, columns of the
set-partitioning model (cpsat, milp), DRAM bytes, the proven bound and the gap between them.
Under the time limit a solver that is stopped returns its best schedule (its own, or the ``optimus`` heuristic's)
as ``feasible`` with the bound it proved, so every row has a gap. Rows are printed as they finish; with
``--markdown`` a table for formulations/exact-dp.md follows. Runs are sequential within one process, so
``--shard k/n`` splits the rows between processes (the measured table used two shards on the two cores, one
worker each).

    python benchmarks/bench_exact.py [--networks a,b] [--buffers 128KiB,512KiB,1MiB] [--tilings strips,tiles]
                                     [--solvers exact-dp,cpsat,milp] [--batch 4] [--time-limit 60] [--workers 1]
                                     [--shard 1/2] [--markdown]
"""

from __future__ import annotations

import argparse
import time

import optimus_opt as oo
from optimus_opt import zoo
from optimus_opt.model.accelerator import parse_size


def run(name: str, buffer: str, tiling: str, solver: str, *, batch: int, limit: float, workers: int) -> dict:
    """One measured row."""
    acc = oo.Accelerator(parse_size(buffer), 2, 32, name="optimus-npu")
    inst = oo.Instance(zoo.build(name), acc, batch=batch).with_overrides(tiling=tiling)
    start = time.perf_counter()
    s = oo.solve(inst, solver, time_limit=limit, workers=workers)
    seconds = time.perf_counter() - start
    info = s.solver_info
    gap = None if s.dram_bytes is None or not s.bound_bytes else (s.dram_bytes - s.bound_bytes) / s.bound_bytes
    return {"network": name, "buffer": buffer, "tiling": tiling, "layers": len(inst.network.layer_ids),
            "solver": solver, "status": s.status, "seconds": seconds, "candidates": info.get("candidates"),
            "columns": info.get("columns"), "dram": s.dram_bytes, "bound": s.bound_bytes, "gap": gap,
            "bound_kind": info.get("bound") if s.status != "optimal" else None}


def _gap(g) -> str:
    return "–" if g is None else "0" if g == 0 else "< 0.01%" if g < 1e-4 else f"{100 * g:.2f}%"


def _fmt(v) -> str:
    return "–" if v is None else f"{v:,}" if isinstance(v, int) else str(v)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--networks", default=",".join(zoo.names()))
    ap.add_argument("--buffers", default="128KiB,512KiB,1MiB")
    ap.add_argument("--tilings", default="strips")
    ap.add_argument("--solvers", default="exact-dp,cpsat,milp")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--shard", default="1/1", help="k/n: run every n-th row, starting at the k-th")
    ap.add_argument("--markdown", action="store_true", help="print a markdown table at the end")
    args = ap.parse_args()
    k, n = (int(x) for x in args.shard.split("/"))
    jobs = [(net, buf, tiling, solver) for net in args.networks.split(",") for buf in args.buffers.split(",")
            for tiling in args.tilings.split(",") for solver in args.solvers.split(",")]
    jobs = jobs[k - 1::n]
    print(f"batch {args.batch}, Tc 32, word 2 B, limit {args.time_limit} s, workers {args.workers}, shard {args.shard}")
    print(f"{'network':18s} {'buffer':>7} {'tiling':6s} {'solver':9s} {'status':9s} {'seconds':>8} {'cands':>9} "
          f"{'columns':>9} {'DRAM bytes':>13} {'bound':>13} {'gap':>8}  bound kind", flush=True)
    rows = []
    for net, buf, tiling, solver in jobs:
        r = run(net, buf, tiling, solver, batch=args.batch, limit=args.time_limit, workers=args.workers)
        rows.append(r)
        print(f"{net:18s} {buf:>7} {tiling:6s} {solver:9s} {r['status']:9s} {r['seconds']:>8.2f} "
              f"{_fmt(r['candidates']):>9} {_fmt(r['columns']):>9} {_fmt(r['dram']):>13} {_fmt(r['bound']):>13} "
              f"{_gap(r['gap']):>8}  {r['bound_kind'] or ''}", flush=True)
    proven: dict[tuple[str, str, str], set[int]] = {}
    for r in rows:
        if r["status"] == "optimal":
            proven.setdefault((r["network"], r["buffer"], r["tiling"]), set()).add(r["dram"])
    for key, costs in proven.items():
        if len(costs) > 1:
            print(f"DISAGREEMENT on {key}: {sorted(costs)}")
    if args.markdown:
        print("\n| network | buffer | tiling | solver | status | seconds | candidates | columns | DRAM bytes | bound "
              "| gap |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['network']} | {r['buffer']} | {r['tiling']} | {r['solver']} | {r['status']} | "
                  f"{r['seconds']:.1f} | {_fmt(r['candidates'])} | {_fmt(r['columns'])} | {_fmt(r['dram'])} | "
                  f"{_fmt(r['bound'])} | {_gap(r['gap'])} |")


if __name__ == "__main__":
    main()
