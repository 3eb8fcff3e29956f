"""Time every heuristic (layerwise, dnnvm, efficient-s, optimus-online, optimus) on the zoo networks of the Optimus
paper's suite, in the paper's setting: the Optimus NPU (128 KiB buffer, 16-bit words, Tc = 32), batch 4.

For each network and buffer, every solver runs on a fresh cost model (no cache shared between solvers); its
schedule is checked with ``evaluate``; the table gives the DRAM bytes, the reduction against layer-by-layer
execution measured in the same run, and the search time (best of ``--repeat`` runs). ``limits`` says whether a
work limit of the Optimus recursion bound (``exhaustive``: the recursion's optimum; else which limit).

Under version 2 of formulations/cost-model.md every paper network has a schedule at 128 KiB; the default also runs
512 KiB. GoogLeNet and NASNet-A Mobile come from ``optimus_opt.zoo.inception`` and
``optimus_opt.zoo.nasnet`` when those modules import.

With ``--exact exact-dp`` (or another registered exact solver) each network also runs that solver under
``--exact-time-limit`` seconds, and a last column gives every heuristic's gap to the optimum it proves.

    python benchmarks/bench_heuristics.py [--buffers 128KiB,512KiB] [--batch 4] [--repeat 1] [--networks a,b,...]
                                          [--exact exact-dp] [--exact-time-limit 60]
"""

from __future__ import annotations

import argparse
import importlib
import time

import optimus_opt as oo
from optimus_opt import Accelerator, Instance, parse_size

SOLVERS = ("layerwise", "dnnvm", "efficient-s", "optimus-online", "optimus")
#: The paper's suite, as (name, module, builder); "MobileNet" in the paper is MobileNetV1, V2 is added.
SUITE = (
    ("alexnet", "classic", "alexnet"),
    ("vgg16", "classic", "vgg16"),
    ("googlenet", "inception", "googlenet"),
    ("squeezenet1_0", "classic", "squeezenet1_0"),
    ("mobilenet_v1", "classic", "mobilenet_v1"),
    ("mobilenet_v2", "classic", "mobilenet_v2"),
    ("resnet18", "classic", "resnet18"),
    ("resnet50", "classic", "resnet50"),
    ("nasnet_a_mobile", "nasnet", "nasnet_a_mobile"),
)


def build(module: str, builder: str):
    """A zoo network straight from its module (not through the zoo registry)."""
    mod = importlib.import_module(f"optimus_opt.zoo.{module}")
    return getattr(mod, builder)()


def limits(sched: oo.Schedule) -> str:
    info = sched.solver_info
    if "exhaustive" not in info:
        return ""
    if info["exhaustive"]:
        return "exhaustive"
    bound = []
    if info.get("states_dropped_by_beam"):
        bound.append(f"beam {info.get('beam')}")
    if info.get("starts_cut_by_group_budget"):
        bound.append(f"budget {info.get('group_budget')}")
    if info.get("groups_at_max_group") and "min_saving" not in info:   # the on-line cap is part of its space
        bound.append(f"max_group {info.get('max_group')}")
    return "limits: " + ", ".join(bound)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--buffers", default="128KiB,512KiB", help="comma-separated buffer sizes (default 128KiB,512KiB)")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=1, help="time each solver as the best of this many runs")
    ap.add_argument("--networks", default=",".join(n for n, _, _ in SUITE))
    ap.add_argument("--solvers", default=",".join(SOLVERS))
    ap.add_argument("--exact", default=None, help="also run this exact solver and print the gap to its optimum")
    ap.add_argument("--exact-time-limit", type=float, default=60.0)
    args = ap.parse_args()
    wanted = args.networks.split(",")
    solvers = args.solvers.split(",")
    nets = []
    for name, module, builder in SUITE:
        if name not in wanted:
            continue
        try:
            nets.append((name, build(module, builder)))
        except Exception as err:  # a zoo module being written elsewhere may not import yet
            print(f"# {name}: skipped ({type(err).__name__}: {err})")
    for text in args.buffers.split(","):
        buffer = parse_size(text)
        acc = Accelerator(buffer_bytes=buffer, word_bytes=2, channel_tile=32, name="optimus-npu")
        print(f"\nOptimus NPU, buffer {buffer} bytes ({text}), 16-bit, Tc 32, batch {args.batch}"
              + ("  [the paper's setting]" if buffer == 131072 and args.batch == 4 else ""))
        print(f"{'network':<16} {'layers':>6} {'solver':<15} {'status':<10} {'DRAM bytes':>13} "
              f"{'vs layerwise':>12} {'seconds':>9}  notes")
        for name, net in nets:
            inst = Instance(net, acc, batch=args.batch)
            base = None
            optimum = None
            if args.exact:
                exact = oo.solve(inst, args.exact, time_limit=args.exact_time_limit)
                optimum = exact.dram_bytes if exact.status == "optimal" else None
                shown = f"{exact.dram_bytes:>13,}" if exact.dram_bytes else f"{'-':>13}"
                print(f"{name:<16} {len(net.layer_ids):>6} {args.exact:<15} {exact.status:<10} {shown} {'':>12} "
                      f"{exact.solve_seconds:>9.3f}  (the optimum, where status is optimal)", flush=True)
            for solver in solvers:
                best = None
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    sched = oo.solve(inst, solver)
                    wall = time.perf_counter() - start
                    if best is None or sched.solve_seconds < best[0].solve_seconds:
                        best = (sched, wall)
                sched, _ = best
                note = limits(sched)
                if sched.status == "feasible":
                    assert oo.evaluate(inst, sched).dram_bytes == sched.dram_bytes
                    if solver == "layerwise":
                        base = sched.dram_bytes
                    ratio = f"{1 - sched.dram_bytes / base:>11.1%}" if base else f"{'-':>11}"
                    dram = f"{sched.dram_bytes:>13,}"
                    if optimum:
                        note = f"gap {sched.dram_bytes / optimum - 1:+.1%}" + (f"; {note}" if note else "")
                else:
                    ratio, dram = f"{'-':>11}", f"{'-':>13}"
                    if sched.unplaced:
                        note = (note + "; " if note else "") + "unplaced: " + ", ".join(sched.unplaced[:2])
                print(f"{name:<16} {len(net.layer_ids):>6} {solver:<15} {sched.status:<10} {dram} {ratio:>12} "
                      f"{sched.solve_seconds:>9.3f}  {note}", flush=True)


if __name__ == "__main__":
    main()
