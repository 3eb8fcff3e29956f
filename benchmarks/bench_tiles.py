"""Proven optima under both tiling models (formulations/cost-model.md §7), measured in one run.

For each network (the eight paper networks, U-Net and YOLOv3-tiny by default), each buffer and each tiling model
(``strips``, cost model version 2; ``tiles``, version 3 with ``halo: choose``) on the Optimus NPU at batch 4,
solves with one exact solver and prints the status, DRAM bytes, the schedule's MACs (and the share recompute
adds), the groups and the solve time; with ``--agree`` it also runs the other exact solvers and checks they
reach the same bytes wherever they prove the optimum. One JSON line per run with ``--jsonl FILE``.

    python benchmarks/bench_tiles.py [--nets a,b] [--buffers 128KiB,512KiB] [--solver exact-dp] [--time-limit 120]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

import optimus_opt as oo
from optimus_opt.cost.cost_model import CostModel
from optimus_opt.model.accelerator import parse_size
from optimus_opt.zoo import build

PAPER = ("alexnet", "vgg16", "googlenet", "resnet18", "resnet50", "mobilenet_v1", "squeezenet1_0",
         "nasnet_a_mobile")


def instance(name: str, buffer: int, tiling: str) -> oo.Instance:
    """The paper setting (Optimus NPU, batch 4) for ``name`` at ``buffer`` under ``tiling``."""
    base = oo.load_instance("instances/paper/squeezenet1_0-optimus-npu-b4.json")
    try:
        inst = oo.load_instance(f"instances/paper/{name}-optimus-npu-b4.json")
    except Exception:  # U-Net, YOLOv3-tiny: the zoo network on the paper's accelerator and batch
        inst = oo.Instance(build(name), base.accelerator, batch=base.batch)
    acc = dataclasses.replace(inst.accelerator, buffer_bytes=buffer, tiling=tiling)
    return oo.Instance(inst.network, acc, batch=inst.batch)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nets", default=",".join(PAPER + ("unet", "yolov3_tiny")))
    ap.add_argument("--buffers", default="128KiB,512KiB")
    ap.add_argument("--tilings", default="strips,tiles")
    ap.add_argument("--solver", default="exact-dp")
    ap.add_argument("--agree", action="store_true", help="also run cpsat and milp and compare")
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--jsonl", help="append one JSON line per run to this file")
    args = ap.parse_args()
    solvers = [args.solver] + ([s for s in ("exact-dp", "cpsat", "milp") if s != args.solver] if args.agree else [])
    print(f"{'network':<16} {'buffer':>7} {'tiling':>6} {'solver':>8} {'status':>8} {'DRAM bytes':>15} "
          f"{'MACs':>16} {'added':>7} {'groups':>6} {'seconds':>8}", flush=True)
    for name in args.nets.split(","):
        for size in args.buffers.split(","):
            for tiling in args.tilings.split(","):
                inst = instance(name, parse_size(size), tiling)
                cm = CostModel(inst)
                proven = {}
                for solver in solvers:
                    start = time.perf_counter()
                    result = oo.solve(inst, solver=solver, time_limit=args.time_limit)
                    seconds = time.perf_counter() - start
                    macs = added = 0
                    for g in result.groups:
                        t = cm.best_tiling([inst.network.index[n] for n in g.layers])
                        macs += t.macs
                        added += t.added_macs
                    share = f"{added / (macs - added):.2%}" if macs else "-"
                    print(f"{name:<16} {size:>7} {tiling:>6} {solver:>8} {result.status:>8} "
                          f"{result.dram_bytes or 0:>15,} {macs:>16,} {share:>7} {len(result.groups):>6} "
                          f"{seconds:>8.1f}", flush=True)
                    if result.status == "optimal":
                        proven[solver] = result.dram_bytes
                    if args.jsonl:
                        with open(args.jsonl, "a") as f:
                            f.write(json.dumps(dict(network=name, buffer=size, tiling=tiling, solver=solver,
                                                    status=result.status, dram_bytes=result.dram_bytes,
                                                    bound_bytes=result.bound_bytes, macs=macs, added_macs=added,
                                                    groups=len(result.groups), seconds=round(seconds, 2))) + "\n")
                if len(set(proven.values())) > 1:
                    print(f"  DISAGREEMENT: {proven}", flush=True)


if __name__ == "__main__":
    main()
