"""Time the best-tiling search of the cost model (issue: foundation).

Builds a 200-layer chain (3x3 convs, a stride-2 conv every 50 layers, 32..256 channels, input 16x56x56) on the
Optimus NPU (128 KiB, 16-bit, Tc = 32) and times ``CostModel.best_tiling`` for every group of 1..4 consecutive
layers, each on a fresh cache, under each tiling model (``strips``, cost model version 2; ``tiles``, version 3 with
``halo: choose``), measured in one run so that their ratio means something on a shared machine. Prints one table
row per group size and model, and the ratio tiles/strips.

    python benchmarks/bench_tiling.py [--layers 200] [--max-size 4] [--repeat 3] [--tiling strips,tiles]
"""

from __future__ import annotations

import argparse
import time

from optimus_opt import Accelerator, Instance
from optimus_opt.cost.cost_model import CostModel
from optimus_opt.zoo.builder import NetBuilder


def chain(n_layers: int):
    b = NetBuilder(f"chain{n_layers}")
    x = b.input(16, 56, 56)
    channels = 32
    for i in range(n_layers):
        stride = 2 if i % 50 == 49 else 1
        if stride == 2:
            channels = min(256, channels * 2)
        x = b.conv(x, channels, 3, stride=stride, padding=1, name=f"conv{i}")
    return b.build()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layers", type=int, default=200)
    ap.add_argument("--max-size", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--tiling", default="strips,tiles", help="tiling models to time, comma-separated")
    args = ap.parse_args()
    net = chain(args.layers)
    ids = net.layer_ids
    print(f"{args.layers}-layer chain, Optimus NPU 128 KiB, batch 4; best of {args.repeat} runs")
    print(f"{'tiling':>6} {'size':>4} {'groups':>7} {'feasible':>8} {'total ms':>9} {'us/group':>9}")
    totals = {}
    for tiling in args.tiling.split(","):
        inst = Instance(net, Accelerator(buffer_bytes=128 * 1024, word_bytes=2, channel_tile=32, name="optimus-npu",
                                         tiling=tiling), batch=4)
        grand = 0.0
        for size in range(1, args.max_size + 1):
            groups = [ids[i:i + size] for i in range(len(ids) - size + 1)]
            times = []
            for _ in range(args.repeat):
                cm = CostModel(inst)
                start = time.perf_counter()
                found = [cm.best_tiling(g) for g in groups]
                times.append(time.perf_counter() - start)
            best = min(times)
            grand += best
            feasible = sum(t is not None for t in found)
            print(f"{tiling:>6} {size:>4} {len(groups):>7} {feasible:>8} {best * 1e3:>9.1f} "
                  f"{best / len(groups) * 1e6:>9.1f}")
        totals[tiling] = grand
        print(f"{tiling}: all groups of up to {args.max_size} layers: {grand * 1e3:.1f} ms")
    if "strips" in totals and "tiles" in totals:
        print(f"tiles / strips: {totals['tiles'] / totals['strips']:.2f}x")


if __name__ == "__main__":
    main()
