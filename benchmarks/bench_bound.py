"""The segment bound (formulations/segment-bound.md) under both window orders, measured in one run.

For each network, buffer and tiling model on the Optimus NPU at batch 4, computes the segment bound once per window
order (``ids``, the network's own; ``live``, the default) with the given segment and overlap, and prints the
windows' summed optima, the coupled bound, the seconds (coupling included), the coupling's rounds and the pieces
costed: the tables of formulations/segment-bound.md ("Measured") come from it. With ``--time-limit`` each bound
has that long, and the windows widen in the time left ("Wider windows"); the cores at each overlap are printed.
``--feeders on,off`` measures the windows with their feeders ("Feeders", the default) and without.

    python benchmarks/bench_bound.py [--rows net:buffer,...] [--tilings strips] [--segment 24] [--overlap 4]
                                     [--orders ids,live] [--feeders on,off] [--time-limit S] [--markdown]
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import optimus_opt as oo
from optimus_opt.model.accelerator import parse_size
from optimus_opt.solvers.segment_bound import DEFAULT_OVERLAP, DEFAULT_SEGMENT, ORDERS
from optimus_opt.zoo import build

#: The rows of formulations/segment-bound.md's zoo table (network, buffer).
ZOO_ROWS = ("resnet18:128KiB,resnet50:512KiB,resnet152:1MiB,mobilenet_v2:128KiB,squeezenet1_0:128KiB,"
            "densenet121:512KiB,googlenet:128KiB,googlenet:512KiB,inception_v3:512KiB,inception_v3:1MiB")


def instance(name: str, buffer: int, tiling: str) -> oo.Instance:
    """The paper setting (Optimus NPU, batch 4) for zoo network ``name`` at ``buffer`` under ``tiling``."""
    base = oo.load_instance("instances/paper/squeezenet1_0-optimus-npu-b4.json")
    acc = dataclasses.replace(base.accelerator, buffer_bytes=buffer, tiling=tiling)
    return oo.Instance(build(name), acc, batch=base.batch)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default=ZOO_ROWS, help="network:buffer pairs, comma-separated")
    ap.add_argument("--tilings", default="strips")
    ap.add_argument("--segment", type=int, default=DEFAULT_SEGMENT)
    ap.add_argument("--overlap", type=int, default=DEFAULT_OVERLAP)
    ap.add_argument("--orders", default=",".join(reversed(ORDERS)), help="of " + ", ".join(ORDERS))
    ap.add_argument("--feeders", default="on", help="on, off or both (on,off): windows with or without feeders")
    ap.add_argument("--time-limit", type=float, help="seconds per bound, the windows widening in the time left")
    ap.add_argument("--markdown", action="store_true", help="print a markdown table at the end")
    args = ap.parse_args()
    rows = []
    print(f"segment {args.segment}, overlap {args.overlap}", flush=True)
    for row in args.rows.split(","):
        name, size = row.split(":")
        for tiling in args.tilings.split(","):
            inst = instance(name, parse_size(size), tiling)
            for order, fed in ((o, f) for o in args.orders.split(",") for f in args.feeders.split(",")):
                began = time.perf_counter()
                bound = oo.lower_bound(inst, segment_layers=args.segment, overlap=args.overlap, order=order,
                                       time_limit=args.time_limit, feeders=fed == "on")
                seconds = time.perf_counter() - began
                rounds = bound.coupling.rounds if bound.coupling else 0
                overlaps = " ".join(f"{o}:{n}" for o, n in bound.info()["segment_overlaps"].items())
                rows.append((name, size, tiling, order, fed, sum(bound.per_segment), bound.bytes, seconds, rounds,
                             bound.pieces, overlaps))
                print(f"{name:<16} {size:>7} {tiling:>6} {order:>4} feeders {fed:>3} {rows[-1][5]:>14,} "
                      f"{bound.bytes:>14,} {seconds:>7.1f} s {rounds:>4} rounds {bound.pieces:>9,} pieces, "
                      f"overlaps {overlaps}", flush=True)
    if args.markdown:
        print("\n| network | buffer | tiling | order | feeders | summed | coupled | seconds | rounds | pieces "
              "| overlaps |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for name, size, tiling, order, fed, summed, coupled, seconds, rounds, pieces, overlaps in rows:
            print(f"| {name} | {size} | {tiling} | {order} | {fed} | {summed:,} | {coupled:,} | {seconds:.1f} | "
                  f"{rounds} | {pieces:,} | {overlaps} |")


if __name__ == "__main__":
    main()
