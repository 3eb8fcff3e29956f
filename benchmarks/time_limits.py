"""Does every timed solver keep its time limit, and what bound does a stopped one report?

For each network × timed solver (batch 4, Optimus NPU, 128 KiB unless ``--buffer`` says otherwise) it solves with
``--limit`` seconds and prints the wall time of the call (cost model, solve and packaging; not the interpreter's
start), its ratio to the limit, the status, the bytes, the bound and what the bound is. The project promises
each ratio within 1.05 on an otherwise idle machine; a loaded one stretches the heuristics that a stopped exact
solver runs to completion. Takes about (networks × solvers × limit) seconds.

    python benchmarks/time_limits.py [--networks nasnet_a_mobile,inception_v3]
                                     [--solvers exact-dp,cpsat,milp,refine,auto] [--buffer 128KiB] [--limit 30]
"""

from __future__ import annotations

import argparse
import time

import optimus_opt as oo
from optimus_opt import zoo
from optimus_opt.model.accelerator import parse_size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--networks", default="nasnet_a_mobile,inception_v3")
    ap.add_argument("--solvers", default="exact-dp,cpsat,milp,refine,auto")
    ap.add_argument("--buffer", default="128KiB")
    ap.add_argument("--limit", type=float, default=30.0)
    args = ap.parse_args()
    print(f"{'network':18} {'solver':9} {'seconds':>8} {'ratio':>6} {'status':9} {'bytes':>13} {'bound':>13}  bound is")
    worst = 0.0
    for name in args.networks.split(","):
        inst = oo.Instance(zoo.build(name), oo.Accelerator(parse_size(args.buffer), 2, 32, name="optimus-npu"),
                           batch=4)
        for solver in args.solvers.split(","):
            start = time.perf_counter()
            sched = oo.solve(inst, solver, time_limit=args.limit)
            seconds = time.perf_counter() - start
            worst = max(worst, seconds / args.limit)
            kind = sched.solver_info.get("bound", "-")
            print(f"{name:18} {solver:9} {seconds:8.2f} {seconds / args.limit:6.3f} {sched.status:9} "
                  f"{sched.dram_bytes or 0:13,} {sched.bound_bytes or 0:13,}  {kind}", flush=True)
    print(f"worst ratio of wall time to the limit: {worst:.3f}")


if __name__ == "__main__":
    main()
