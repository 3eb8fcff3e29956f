"""Time the exact solvers (exact-dp, cpsat, milp) on the zoo in the Optimus setting and check that they agree.

For every network × buffer × solver: status, wall seconds, candidate groups, DRAM bytes and the proven bound.
Under the time limit a solver that is stopped returns its best schedule (its own, or the ``optimus`` heuristic's)
as ``feasible`` with the bound it proved, so every row has a gap. Rows are printed as they finish; with
``--markdown`` a table for formulations/exact-dp.md follows. Runs are sequential within one process, so
``--shard k/n`` splits the rows between processes (the measured table used two shards on the two cores, one
worker each).

    python benchmarks/bench_exact.py [--networks a,b] [--buffers 128KiB,512KiB,1MiB] [--solvers exact-dp,cpsat,milp]
                                     [--batch 4] [--time-limit 60] [--workers 1] [--shard 1/2] [--markdown]
"""

from __future__ import annotations

import argparse
import time

import optimus_opt as oo
from optimus_opt import zoo
from optimus_opt.model.accelerator import parse_size


def run(name: str, buffer: str, solver: str, *, batch: int, limit: float, workers: int) -> dict:
    """One measured row."""
    acc = oo.Accelerator(parse_size(buffer), 2, 32, name="optimus-npu")
    inst = oo.Instance(zoo.build(name), acc, batch=batch)
    start = time.perf_counter()
    s = oo.solve(inst, solver, time_limit=limit, workers=workers)
    seconds = time.perf_counter() - start
    info = s.solver_info
    return {"network": name, "buffer": buffer, "layers": len(inst.network.layer_ids), "solver": solver,
            "status": s.status, "seconds": seconds, "candidates": info.get("candidates"),
            "columns": info.get("columns"), "dram": s.dram_bytes, "bound": s.bound_bytes,
            "incumbent": info.get("incumbent")}


def _fmt(v) -> str:
    return "–" if v is None else f"{v:,}" if isinstance(v, int) else str(v)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--networks", default=",".join(zoo.names()))
    ap.add_argument("--buffers", default="128KiB,512KiB,1MiB")
    ap.add_argument("--solvers", default="exact-dp,cpsat,milp")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--shard", default="1/1", help="k/n: run every n-th row, starting at the k-th")
    ap.add_argument("--markdown", action="store_true", help="print a markdown table at the end")
    args = ap.parse_args()
    k, n = (int(x) for x in args.shard.split("/"))
    jobs = [(net, buf, solver) for net in args.networks.split(",") for buf in args.buffers.split(",")
            for solver in args.solvers.split(",")]
    jobs = jobs[k - 1::n]
    print(f"batch {args.batch}, Tc 32, word 2 B, limit {args.time_limit} s, workers {args.workers}, shard {args.shard}")
    print(f"{'network':18s} {'buffer':>7} {'layers':>6} {'solver':9s} {'status':9s} {'seconds':>8} {'cands':>9} "
          f"{'DRAM bytes':>13} {'bound':>13} incumbent", flush=True)
    rows = []
    for net, buf, solver in jobs:
        r = run(net, buf, solver, batch=args.batch, limit=args.time_limit, workers=args.workers)
        rows.append(r)
        print(f"{net:18s} {buf:>7} {r['layers']:>6} {solver:9s} {r['status']:9s} {r['seconds']:>8.2f} "
              f"{_fmt(r['candidates']):>9} {_fmt(r['dram']):>13} {_fmt(r['bound']):>13} {r['incumbent'] or ''}",
              flush=True)
    proven: dict[tuple[str, str], set[int]] = {}
    for r in rows:
        if r["status"] == "optimal":
            proven.setdefault((r["network"], r["buffer"]), set()).add(r["dram"])
    for key, costs in proven.items():
        if len(costs) > 1:
            print(f"DISAGREEMENT on {key}: {sorted(costs)}")
    if args.markdown:
        print("\n| network | buffer | solver | status | seconds | candidates | DRAM bytes | bound |")
        print("|---|---|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['network']} | {r['buffer']} | {r['solver']} | {r['status']} | {r['seconds']:.1f} | "
                  f"{_fmt(r['candidates'])} | {_fmt(r['dram'])} | {_fmt(r['bound'])} |")


if __name__ == "__main__":
    main()
