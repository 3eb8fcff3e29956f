"""A DeFiNES-style sweep (Mei et al., HPCA 2023): one fused stack at fixed tile sizes under each halo mode.

DeFiNES evaluates depth-first schedules on a grid of tile sizes that the user picks, with the overlap between
tiles cached or recomputed. This script does the same on cost model version 3 (formulations/cost-model.md §7) for
one group of a network with large feature maps (by default U-Net's first stage, down1.conv1 … down2.conv2 at
512 × 512, Optimus NPU words, batch 1): for each tile of t × t output positions of the group's last layer and each
halo mode it prints the buffer that tiling needs (footprint plus resident weights), its DRAM bytes and the MACs
recompute adds; then, for a few buffer sizes, the best tiling the model picks for the group and the proven optimum
of the whole network with its added MACs.

    python benchmarks/sweep_tiles.py [--network unet] [--layers down1.conv1,...] [--tiles 1,2,4,8,16,32,64,128]
"""

from __future__ import annotations

import argparse
import time

import optimus_opt as oo
from optimus_opt import Accelerator, Instance
from optimus_opt.cost.cost_model import CostModel
from optimus_opt.model.accelerator import parse_size
from optimus_opt.zoo import build


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network", default="unet")
    ap.add_argument("--layers", default="down1.conv1,down1.conv2,down1.maxpool,down2.conv1,down2.conv2")
    ap.add_argument("--tiles", default="1,2,4,8,16,32,64,128,256")
    ap.add_argument("--buffers", default="128KiB,512KiB,2MiB")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--time-limit", type=float, default=120.0)
    args = ap.parse_args()
    net = build(args.network)
    group = [net.index[n] for n in args.layers.split(",")]
    last = max(group)
    height, width = net.shapes[last][1], net.shapes[last][2]

    def model(buffer: int, halo: str = "choose") -> CostModel:
        acc = Accelerator(buffer_bytes=buffer, word_bytes=2, channel_tile=32, tiling="tiles", halo=halo,
                          name="optimus-npu")
        return CostModel(Instance(net, acc, batch=args.batch))

    huge = model(1 << 50)
    own = huge.io(group).macs
    print(f"{args.network}: group {args.layers} ({len(group)} layers, output {height} x {width}), batch "
          f"{args.batch}, {own:,} MACs of its own")
    print(f"{'tile':>9} {'halo':>9} {'buffer needed':>14} {'DRAM bytes':>14} {'added MACs':>16} {'added':>7}")
    for t in (int(v) for v in args.tiles.split(",")):
        if t > max(height, width):
            continue
        rows, cols = -(-height // t), -(-width // t)
        for halo in ("cache", "recompute"):
            tiling = huge.tiling(group, rows, tile_cols=cols, halo=halo)
            need = tiling.footprint_bytes + huge.io(group).weight_bytes
            print(f"{t:>4} x {t:<3} {halo:>9} {need:>14,} {tiling.cost:>14,} {tiling.added_macs:>16,} "
                  f"{tiling.added_macs / own:>7.1%}", flush=True)
    print()
    print(f"{'buffer':>8} {'group: best tiling':>42} {'DRAM bytes':>14} {'added':>7} | {'network optimum':>16} "
          f"{'added MACs':>11} {'seconds':>8}")
    for size in args.buffers.split(","):
        cm = model(parse_size(size))
        best = cm.best_tiling(group)
        where = "no tiling fits" if best is None else (
            f"{best.strips} x {best.tile_cols} tiles, {best.halo}, P {best.passes}")
        start = time.perf_counter()
        result = oo.solve(cm.instance, solver="exact-dp", time_limit=args.time_limit)
        seconds = time.perf_counter() - start
        added = sum(cm.best_tiling([net.index[n] for n in g.layers]).added_macs for g in result.groups)
        total = sum(cm.layer_macs)
        print(f"{size:>8} {where:>42} {best.cost if best else 0:>14,} "
              f"{(best.added_macs / own if best else 0):>7.1%} | {result.dram_bytes or 0:>16,} "
              f"{added / total:>10.2%} {seconds:>8.1f} ({result.status})", flush=True)


if __name__ == "__main__":
    main()
