"""The buffer VGGNet-E's first five convs and two pools need to run as one group, under each tiling model.

Alwani et al. (Fused-Layer CNN Accelerators, MICRO 2016) fuse VGG-16's features.0 … features.10 (conv1_1 to
conv3_1, 4-byte words, batch 1) with 362 KB of on-chip storage, so that only the input and conv3_1's output cross
DRAM. This prints the least buffer at which the group has any tiling (weights streamed straight to the PE array,
``weight_staging: none``) under ``strips`` (cost model version 2) and under ``tiles`` with each halo mode
(version 3), the tiling that reaches it, and the MACs recompute adds there.

    python benchmarks/least_buffer_vgg.py
"""

from __future__ import annotations

import time

from optimus_opt import Accelerator, Instance
from optimus_opt.cost.cost_model import CostModel
from optimus_opt.zoo import build

GROUP = ("features.0", "features.2", "features.4", "features.5", "features.7", "features.9", "features.10")


def model(net, buffer: int, tiling: str, halo: str) -> CostModel:
    acc = Accelerator(buffer_bytes=buffer, word_bytes=4, channel_tile=32, weight_staging="none", tiling=tiling,
                      halo=halo)
    return CostModel(Instance(net, acc, batch=1))


def main() -> None:
    net = build("vgg16")
    group = [net.index[n] for n in GROUP]
    print(f"VGG-16 {GROUP[0]} … {GROUP[-1]}, 4-byte words, batch 1, weights streamed unstaged; Fused-Layer: 362 KB")
    for tiling, halo in (("strips", "choose"), ("tiles", "cache"), ("tiles", "recompute"), ("tiles", "choose")):
        start = time.perf_counter()
        least = model(net, 1 << 40, tiling, halo).least_buffer(group)
        at = model(net, least, tiling, halo)
        t = at.best_tiling(group)
        below = model(net, least - 1, tiling, halo).best_tiling(group)
        assert t is not None and below is None, "least_buffer is not the least"
        grid = f"{t.strips} strips" if tiling == "strips" else f"{t.strips} x {t.tile_cols} tiles, {t.halo}"
        print(f"{tiling:>6} {halo:>9}: least buffer {least:>11,} B ({least / 1000:,.0f} KB), {grid}, DRAM "
              f"{t.cost:,} B, added MACs {t.added_macs:,} ({t.added_macs / (t.macs - t.added_macs):.0%} of "
              f"{t.macs - t.added_macs:,}); {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
