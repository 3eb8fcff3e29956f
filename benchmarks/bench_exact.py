"""Time the exact solvers (exact-dp, cpsat, milp) on the zoo in the Optimus setting and check they agree.

For every network: layers, candidate groups, columns after dominance, down-sets visited by the DP, each solver's
status, DRAM bytes, proven bound and wall time. Networks and solvers run one after another in one process, so the
ratios between solvers are comparable on a noisy machine.

    python benchmarks/bench_exact.py [--networks a,b] [--solvers exact-dp,cpsat,milp] [--max-group 16]
                                     [--buffer 128KiB] [--batch 4] [--time-limit 60] [--workers 2]
"""

from __future__ import annotations

import argparse
import time

import optimus_opt as oo
from optimus_opt import zoo
from optimus_opt.accelerator import parse_size

DEFAULT = ("squeezenet1_0,squeezenet1_1,mobilenet_v1,mobilenet_v2,resnet18,resnet50,resnet152,densenet121,"
           "googlenet,inception_v3,yolov3_tiny,alexnet,vgg16")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--networks", default=DEFAULT)
    ap.add_argument("--solvers", default="exact-dp,cpsat,milp")
    ap.add_argument("--max-group", type=int, default=None, help="cap for cpsat and milp (exact-dp runs uncapped)")
    ap.add_argument("--buffer", default="128KiB")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    acc = oo.Accelerator(parse_size(args.buffer), 2, 32, name="optimus-npu")
    print(f"buffer {acc.buffer_bytes} B, batch {args.batch}, Tc 32; cpsat/milp max_group {args.max_group}, "
          f"workers {args.workers}, limit {args.time_limit} s")
    print(f"{'network':15s} {'layers':>6} {'solver':9s} {'status':10s} {'DRAM bytes':>12} {'bound':>12} "
          f"{'seconds':>8} {'cands':>7} {'cols':>6} {'downsets':>8}")
    for name in args.networks.split(","):
        inst = oo.Instance(zoo.build(name), acc, batch=args.batch)
        costs = set()
        for solver in args.solvers.split(","):
            cap = None if solver == "exact-dp" else args.max_group
            start = time.perf_counter()
            s = oo.solve(inst, solver, time_limit=args.time_limit, max_group=cap, workers=args.workers)
            seconds = time.perf_counter() - start
            if s.status == "optimal":
                costs.add(s.dram_bytes)
            info = s.solver_info
            print(f"{name:15s} {len(inst.network.layer_ids):>6} {solver:9s} {s.status:10s} "
                  f"{s.dram_bytes if s.dram_bytes is not None else '-':>12} "
                  f"{s.bound_bytes if s.bound_bytes is not None else '-':>12} {seconds:>8.2f} "
                  f"{info.get('candidates', '-'):>7} {info.get('columns', '-'):>6} {info.get('downsets', '-'):>8}",
                  flush=True)
        if len(costs) > 1:
            print(f"  DISAGREEMENT on {name}: {sorted(costs)}")


if __name__ == "__main__":
    main()
