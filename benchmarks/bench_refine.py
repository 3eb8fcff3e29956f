"""Measure the window refinement (``refine``) against the heuristics it starts from and the proven optimum.

For every network × buffer (batch 4, Optimus NPU, Tc 32, 2-byte words): the bytes of ``optimus``,
``efficient-s`` and ``greedy-merge``, then ``refine`` (its bytes, seconds, windows solved, widest window, status)
and ``exact-dp`` (the optimum where it proves one within the limit, else its bound), and refine's gap to the
optimum. Rows are printed as they finish; ``--markdown`` adds a table for formulations/refine.md. ``--shard k/n``
splits the rows between processes.

    python benchmarks/bench_refine.py [--networks a,b] [--buffers 128KiB,512KiB,1MiB] [--batch 4]
                                      [--time-limit 60] [--shard 1/2] [--markdown]
"""

from __future__ import annotations

import argparse
import time

import optimus_opt as oo
from optimus_opt import zoo
from optimus_opt.model.accelerator import parse_size


def run(name: str, buffer: str, *, batch: int, limit: float) -> dict:
    """One measured row."""
    inst = oo.Instance(zoo.build(name), oo.Accelerator(parse_size(buffer), 2, 32, name="optimus-npu"), batch=batch)
    row = {"network": name, "buffer": buffer}
    for solver in ("optimus", "efficient-s", "greedy-merge"):
        row[solver] = oo.solve(inst, solver).dram_bytes
    start = time.perf_counter()
    refined = oo.solve(inst, "refine", time_limit=limit)
    row.update(refine=refined.dram_bytes, refine_status=refined.status, refine_s=time.perf_counter() - start,
               windows=refined.solver_info.get("windows_solved"), widest=refined.solver_info.get("widest_window"))
    exact = oo.solve(inst, "exact-dp", time_limit=limit)
    row.update(exact_status=exact.status, optimum=exact.dram_bytes if exact.status == "optimal" else None,
               bound=exact.bound_bytes)
    return row


def _fmt(v) -> str:
    return "–" if v is None else f"{v:,}" if isinstance(v, int) else f"{v:.1f}" if isinstance(v, float) else str(v)


def _gap(row: dict) -> str:
    if row["optimum"] is None:
        return f"≤ {100 * (row['refine'] / row['bound'] - 1):.1f} % (bound)"
    return f"{100 * (row['refine'] / row['optimum'] - 1):.2f} %"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--networks", default=",".join(zoo.names()))
    ap.add_argument("--buffers", default="128KiB,512KiB,1MiB")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--shard", default="1/1", help="k/n: run every n-th row, starting at the k-th")
    ap.add_argument("--markdown", action="store_true", help="print a markdown table at the end")
    args = ap.parse_args()
    k, n = (int(x) for x in args.shard.split("/"))
    jobs = [(net, buf) for net in args.networks.split(",") for buf in args.buffers.split(",")][k - 1::n]
    print(f"batch {args.batch}, Tc 32, word 2 B, limit {args.time_limit} s, shard {args.shard}", flush=True)
    rows = []
    for net, buf in jobs:
        try:
            row = run(net, buf, batch=args.batch, limit=args.time_limit)
        except oo.OptimusError as err:  # e.g. no schedule at this buffer
            print(f"{net:18s} {buf:>7} {err}", flush=True)
            continue
        if row["refine"] is None:
            print(f"{net:18s} {buf:>7} no schedule ({row['refine_status']}; exact-dp {row['exact_status']})", flush=True)
            continue
        rows.append(row)
        print(f"{net:18s} {buf:>7} optimus {_fmt(row['optimus']):>15} efficient-s {_fmt(row['efficient-s']):>15} "
              f"greedy-merge {_fmt(row['greedy-merge']):>15} refine {_fmt(row['refine']):>15} "
              f"({row['refine_status']}, {row['refine_s']:.1f} s, "
              f"{row['windows']} windows, widest {row['widest']}) exact-dp {row['exact_status']} "
              f"{_fmt(row['optimum'] or row['bound'])} gap {_gap(row)}", flush=True)
    if args.markdown:
        print("\n| network | buffer | optimus | efficient-s | greedy-merge | refine | seconds | optimum (or bound) "
              "| refine's gap |")
        print("|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            best = _fmt(r["optimum"]) if r["optimum"] is not None else f"≥ {_fmt(r['bound'])}"
            print(f"| {r['network']} | {r['buffer']} | {_fmt(r['optimus'])} | {_fmt(r['efficient-s'])} | "
                  f"{_fmt(r['greedy-merge'])} | {_fmt(r['refine'])} | {r['refine_s']:.1f} | {best} | {_gap(r)} |")


if __name__ == "__main__":
    main()
