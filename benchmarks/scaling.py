"""Scaling study of the exact solvers: wall time against network size, in depth and in width.

Two synthetic families (batch 4, Optimus NPU: Tc 32, 2-byte words), each solved by exact-dp, cpsat and milp:

* **depth**: a stem conv and d stacked residual blocks (3×3 conv, 3×3 conv, add) on 64 × 56 × 56 maps;
* **width**: three NASNet-like cells, each reading the two previous cells, with b parallel branches (1×1 conv then
  3×3 conv, the two cell inputs alternating) joined by a concat and a 1×1 projection, on 32 × 28 × 28 maps.

Prints one row per run (family, size, layers, candidates, solver, status, seconds) and, with ``--plot PATH``,
draws seconds against layers for both families (log scale).

    python benchmarks/scaling.py [--depths 2,4,8,16,32] [--widths 2,3,4,5,6] [--buffer 512KiB]
                                 [--time-limit 120] [--plot formulations/scaling.png]
"""

from __future__ import annotations

import argparse
import time

import optimus_opt as oo
from optimus_opt.model.accelerator import parse_size
from optimus_opt.model.network import Layer, Network


def conv(name: str, src: str, channels: int, k: int = 3) -> Layer:
    return Layer(name=name, op="conv", inputs=(src,), channels=channels, kernel=(k, k),
                 padding=(k // 2,) * 4)


def residual_stack(depth: int, channels: int = 64, hw: int = 56) -> Network:
    """A stem and ``depth`` residual blocks: 3·depth + 1 layers, a chain of narrow cuts."""
    layers = [Layer(name="x", op="input", shape=(channels, hw, hw)), conv("stem", "x", channels)]
    prev = "stem"
    for i in range(depth):
        layers += [conv(f"b{i}a", prev, channels), conv(f"b{i}b", f"b{i}a", channels),
                   Layer(name=f"b{i}", op="add", inputs=(f"b{i}b", prev))]
        prev = f"b{i}"
    return Network(f"res{depth}", tuple(layers))


def cell_stack(branches: int, cells: int = 3, channels: int = 32, hw: int = 28) -> Network:
    """``cells`` cells of ``branches`` two-conv branches, each cell reading the two before it (no single-tensor
    cut between cells, as in NASNet)."""
    layers = [Layer(name="x", op="input", shape=(channels, hw, hw)), conv("stem", "x", channels, 1)]
    inputs = ["x", "stem"]
    for c in range(cells):
        outs = []
        for b in range(branches):
            src = inputs[-1 - b % 2]
            layers += [conv(f"c{c}b{b}p", src, channels, 1), conv(f"c{c}b{b}q", f"c{c}b{b}p", channels)]
            outs.append(f"c{c}b{b}q")
        layers += [Layer(name=f"c{c}cat", op="concat", inputs=tuple(outs)), conv(f"c{c}", f"c{c}cat", channels, 1)]
        inputs.append(f"c{c}")
    return Network(f"cells{branches}", tuple(layers))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--depths", default="2,4,8,16,32")
    ap.add_argument("--widths", default="2,3,4,5,6")
    ap.add_argument("--buffer", default="512KiB")
    ap.add_argument("--solvers", default="exact-dp,cpsat,milp")
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--plot", default=None)
    args = ap.parse_args()
    acc = oo.Accelerator(parse_size(args.buffer), 2, 32, name="optimus-npu")
    nets = [("depth", int(d), residual_stack(int(d))) for d in args.depths.split(",") if d]  # "" for none
    nets += [("width", int(b), cell_stack(int(b))) for b in args.widths.split(",") if b]
    rows = []
    print(f"{'family':6s} {'size':>4} {'layers':>6} {'cands':>9} {'solver':9s} {'status':9s} {'seconds':>8}")
    for family, size, net in nets:
        inst = oo.Instance(net, acc, batch=4)
        for solver in args.solvers.split(","):
            start = time.perf_counter()
            s = oo.solve(inst, solver, time_limit=args.time_limit)
            seconds = time.perf_counter() - start
            row = (family, size, len(net.layer_ids), s.solver_info.get("candidates"), solver, s.status, seconds)
            rows.append(row)
            print(f"{family:6s} {size:>4} {row[2]:>6} {row[3] if row[3] is not None else '-':>9} {solver:9s} "
                  f"{s.status:9s} {seconds:>8.2f}", flush=True)
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        for ax, family, label in ((axes[0], "depth", "stacked residual blocks (depth)"),
                                  (axes[1], "width", "3 cells × b branches (width)")):
            for solver in args.solvers.split(","):
                pts = [(r[2], r[6]) for r in rows if r[0] == family and r[4] == solver]
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=solver)
            twin = ax.twinx()
            pts = [(r[2], r[3]) for r in rows if r[0] == family and r[4] == "exact-dp" and r[3]]
            twin.plot([p[0] for p in pts], [p[1] for p in pts], "k--", alpha=0.5, label="candidates")
            twin.set_yscale("log")
            twin.set_ylabel("candidate groups (dashed)")
            ax.set_yscale("log")
            ax.set_xlabel("layers")
            ax.set_ylabel("seconds")
            ax.set_title(label)
            ax.legend(loc="upper left")
        fig.suptitle(f"exact solvers, buffer {args.buffer}, batch 4, limit {args.time_limit:g} s")
        fig.tight_layout()
        fig.savefig(args.plot, dpi=110)
        print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
