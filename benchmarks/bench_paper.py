"""The Optimus paper's eight networks on its NPU at batch 4: every heuristic next to the proven optimum.

For each network and buffer, in one process (so the times are comparable on a noisy machine): layerwise, optimus,
efficient-s and dnnvm (status, DRAM bytes, seconds), then the exact solvers (status, DRAM bytes, proven bound,
seconds). Prints a markdown table; the exact solvers must agree wherever two of them prove optimality.

    python benchmarks/bench_paper.py [--buffers 128KiB,512KiB] [--exact exact-dp,cpsat,milp] [--time-limit 60]
"""

from __future__ import annotations

import argparse
import time

import optimus_opt as oo
from optimus_opt import zoo
from optimus_opt.io.resolve import PAPER_SETTING
from optimus_opt.model.accelerator import parse_size
from optimus_opt.model.presets import accelerator_preset
from optimus_opt.studies.regenerate import PAPER_NETWORKS

HEURISTICS = ("layerwise", "optimus", "efficient-s", "dnnvm")


def cell(s: oo.Schedule, seconds: float) -> str:
    if s.dram_bytes is None:
        return f"{s.status} ({seconds:.2f} s)"
    return f"{s.dram_bytes:,} ({seconds:.2f} s)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--networks", default=",".join(PAPER_NETWORKS))
    ap.add_argument("--buffers", default="128KiB,512KiB")
    ap.add_argument("--exact", default="exact-dp,cpsat,milp")
    ap.add_argument("--time-limit", type=float, default=60.0)
    args = ap.parse_args()
    exact = args.exact.split(",")
    print("| network | buffer | " + " | ".join(HEURISTICS) + " | " + " | ".join(exact) + " |")
    print("|---" * (2 + len(HEURISTICS) + len(exact)) + "|")
    for buffer in args.buffers.split(","):
        acc = accelerator_preset(PAPER_SETTING.accelerator)
        for name in args.networks.split(","):
            inst = oo.Instance(zoo.build(name), acc, batch=PAPER_SETTING.batch).with_overrides(
                buffer_bytes=parse_size(buffer))
            cells = []
            for solver in HEURISTICS:
                start = time.perf_counter()
                s = oo.solve(inst, solver)
                cells.append(cell(s, time.perf_counter() - start))
            proven = set()
            for solver in exact:
                start = time.perf_counter()
                s = oo.solve(inst, solver, time_limit=args.time_limit)
                seconds = time.perf_counter() - start
                if s.status == "optimal":
                    proven.add(s.dram_bytes)
                bound = f", bound {s.bound_bytes:,}" if s.bound_bytes is not None else ""
                cells.append(f"{s.status}: {cell(s, seconds)}{bound}")
            print(f"| {name} | {buffer} | " + " | ".join(cells) + " |", flush=True)
            if len(proven) > 1:
                print(f"DISAGREEMENT on {name} at {buffer}: {sorted(proven)}", flush=True)


if __name__ == "__main__":
    main()
