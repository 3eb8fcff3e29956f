"""Time windows bounded by their LP (formulations/segment-bound.md, "Windows by their LP") on NASNet-A Mobile: the
cores of whole cells (`--segment 36`, overlap 0, feeders), each pair of consecutive cores joined, step by step.

    python benchmarks/bench_window_lp.py [--buffer 128] [--pairs 0] [--python] [--seconds S]

Per pair: the pieces of its two windows (their DP), the least buffer of each core's layers as one group and of both
cores' (`CostModel.least_buffer`: what a group holding them needs at its thinnest strips), the joined window's layers
and pieces, the seconds to enumerate them (compiled from the last 62 layers, the candidate space before them; with
--python also by the candidate space alone), to price them, to index their layers, and to solve the LP by column
generation, and the LP's bound beside what the two windows prove. With --seconds the enumeration stops after S
seconds, and a pair it did not finish prints the pieces found by then ("more than") and nothing after them. One
process; run it on an otherwise idle machine and compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import time

import optimus_opt as oo
from optimus_opt.cost.candidates import CandidateSpace, bits
from optimus_opt.io.resolve import resolve_instance
from optimus_opt.solvers import segment_bound as sb
from optimus_opt.solvers.columns import Pool, relax
from optimus_opt.solvers.compiled_window import NO_FIT, piece_members, wide_pieces
from optimus_opt.utils.deadline import NEVER, Deadline


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--buffer", type=int, default=128, help="KiB (default 128)")
    ap.add_argument("--pairs", type=int, nargs="*", default=[0], help="the pairs of cores (k: cores 2k and 2k+1)")
    ap.add_argument("--python", action="store_true", help="also enumerate by the candidate space alone")
    ap.add_argument("--seconds", type=float, default=None, help="stop each enumeration after S seconds")
    args = ap.parse_args()
    cm = oo.CostModel(resolve_instance("nasnet_a_mobile", buffer=args.buffer * 1024))
    cores = sb.segments(cm, sb.MERGED_SEGMENT)
    print("| cores | their pieces | proven apart | least buffers (B) | layers | pieces | enumerate (s) | Python (s) "
          "| price (s) | index (s) | LP (s) | LP rounds | LP bound |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for pair in args.pairs:
        members = [2 * pair, 2 * pair + 1]
        apart = list(sb.solve_windows(cm, cores, 0, indices=members))
        core = cores.core(members[0]) | cores.core(members[1])
        seg = cores.window(members[0], 0) | cores.window(members[1], 0)
        layers = tuple(bits(seg))
        cost = sb.local_costs(cm, cores.order, cores.reach)(core, seg)
        least = " / ".join(f"{cm.least_buffer(bits(c)):,}" for c in (cores.core(members[0]), cores.core(members[1]),
                                                                     core))
        start = time.perf_counter()
        masks, complete, _ = wide_pieces(cm, cores.reach, layers, None, Deadline.after(args.seconds), None)
        enumerated = time.perf_counter() - start
        head = (f"| {members[0]}, {members[1]} | {sum(r.pieces for r, _ in apart):,} | "
                f"{sum(r.value for r, _ in apart):,} | {least} | {len(layers)} |")
        if not complete:
            print(f"{head} more than {len(masks):,} | {enumerated:.1f} (stopped) | | | | | | |", flush=True)
            continue
        python = "-"
        if args.python:
            start = time.perf_counter()
            listed = CandidateSpace(cm, within=seg, floors=False)
            python = f"{time.perf_counter() - start:.1f}"
            assert sum(len(found) for found in listed.by_first.values()) == len(masks)
        start = time.perf_counter()
        costs = sb._piece_costs(cost, seg, layers, masks, NEVER)
        priced = time.perf_counter() - start
        fit = costs != NO_FIT
        start = time.perf_counter()
        pool = Pool.of_costs(list(layers), piece_members(masks[fit], len(layers)), costs[fit])
        indexed = time.perf_counter() - start
        start = time.perf_counter()
        lp = relax(pool, NEVER)
        solved = time.perf_counter() - start
        print(f"{head} {len(masks):,} | {enumerated:.1f} | {python} | "
              f"{priced:.1f} | {indexed:.1f} | {solved:.1f} | {lp.rounds} | {lp.bound_bytes():,} |", flush=True)


if __name__ == "__main__":
    main()
