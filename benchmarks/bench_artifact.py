"""Our schedules on the authors' artifact setting under both tiling models, beside the artifact's figures.

SqueezeNet, VGG-16, MobileNet and ResNet-18 on ``optimus-artifact`` (131,072-byte buffer, Tc 32, weights streamed
past the buffer) at batch 4: Optimus, Efficient-S, DNNVM, no fusion and the proven optimum, each under ``strips``
(cost model version 2, the artifact's own model) and ``tiles`` (version 3, ``halo: choose``), in MiB (2^20 bytes)
next to the artifact's published MiB (optimus_opt/studies/comparison.py, ARTIFACT_MIB). Prints a markdown table
for docs/reproduction.md.

    python benchmarks/bench_artifact.py [--time-limit 120]
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import optimus_opt as oo
from optimus_opt.model.presets import accelerator_preset
from optimus_opt.studies.comparison import ARTIFACT_MIB, MIB
from optimus_opt.zoo import build

SOLVERS = (("optimus", "Optimus"), ("efficient-s", "Efficient-S"), ("dnnvm", "DNNVM"), ("layerwise", "no fusion"),
           ("exact-dp", "optimum"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=120.0)
    args = ap.parse_args()
    acc = accelerator_preset("optimus-artifact")
    print("| network | schedule | artifact (MiB) | ours, strips (MiB) | ours, tiles (MiB) | tiles / strips | "
          "tiles: added MACs | tiles / artifact |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for net, (label, *theirs) in ARTIFACT_MIB.items():
        network = build(net)
        figures = dict(zip(("optimus", "efficient-s", "dnnvm", "layerwise"), theirs))
        for solver, what in SOLVERS:
            cells = {}
            for tiling in ("strips", "tiles"):
                inst = oo.Instance(network, dataclasses.replace(acc, tiling=tiling), batch=4)
                start = time.perf_counter()
                result = oo.solve(inst, solver=solver, time_limit=args.time_limit)
                ev = oo.evaluate(inst, result) if result.groups else None
                cells[tiling] = (result, ev, time.perf_counter() - start)
            (s, _, _), (t, ev, _) = cells["strips"], cells["tiles"]
            paper = figures.get(solver)
            proven = " (proven)" if solver == "exact-dp" and t.status == "optimal" else ""
            added = "-"
            if ev is not None:
                extra = sum(x.added_macs for x in ev.tilings)
                total = sum(x.macs for x in ev.tilings)
                added = f"{extra / (total - extra):.2%}"
            print(f"| {label} | {what} | {paper if paper else '-'} | {s.dram_bytes / MIB:,.2f} | "
                  f"{t.dram_bytes / MIB:,.2f}{proven} | {t.dram_bytes / s.dram_bytes:.2f}× | {added} | "
                  f"{(f'{t.dram_bytes / MIB / paper:.2f}×') if paper else '-'} |", flush=True)


if __name__ == "__main__":
    main()
