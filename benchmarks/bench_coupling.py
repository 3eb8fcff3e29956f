"""The coupling of the segment bound's windows (formulations/segment-bound.md, "Coupling the windows"), timed.

Solves the windows of one network once (two processes), then runs the same number of coupling rounds in one
process and in two (`couple(jobs=2)`: a forked helper solves about half of the windows each round), alternately,
and prints each run's seconds; the runs must give the same bound, rounds and pieces, which the script checks. The
figures of "Coupling the windows" come from it:

    python benchmarks/bench_coupling.py [--network nasnet_a_mobile] [--buffer 128KiB] [--segment 36]
                                        [--overlap 4] [--rounds 20] [--repeats 2] [--steps]

With ``--steps`` it compares the two step rules instead (the level each step aims above the best bound, the
stalled rounds before the step is halved): the first coupling's (``FIRST_STEPS``) and the widened windows'
(``NEAR_STEPS``), each given 20, 40 and ``--rounds`` rounds in two processes, and prints the bound each reaches.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import optimus_opt as oo
from optimus_opt.model.accelerator import parse_size
from optimus_opt.solvers.coupling import FIRST_STEPS, NEAR_STEPS, couple
from optimus_opt.solvers.segment_bound import segments, solve_windows
from optimus_opt.zoo import build


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network", default="nasnet_a_mobile")
    ap.add_argument("--buffer", default="128KiB")
    ap.add_argument("--segment", type=int, default=36, help="layers per core (36: NASNet-A's cells)")
    ap.add_argument("--overlap", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=2, help="runs in one process and in two, alternately")
    ap.add_argument("--steps", action="store_true", help="compare step rules instead of one and two processes")
    args = ap.parse_args()
    base = oo.load_instance("instances/paper/squeezenet1_0-optimus-npu-b4.json")
    acc = dataclasses.replace(base.accelerator, buffer_bytes=parse_size(args.buffer))
    cm = oo.CostModel(oo.Instance(build(args.network), acc, batch=base.batch))
    began = time.perf_counter()
    solved = list(solve_windows(cm, segments(cm, args.segment), args.overlap, jobs=2))
    windows = [window for _, window in solved]
    if not all(windows):
        raise SystemExit("a window has no schedule: nothing to couple")
    plain = sum(result.value for result, _ in solved)
    print(f"{args.network} at {args.buffer}: {len(windows)} windows (segment {args.segment}, overlap {args.overlap}), "
          f"{sum(len(w.graph.dst) for w in windows):,} transitions, plain sum {plain:,} B, "
          f"solved in {time.perf_counter() - began:.1f} s", flush=True)
    if args.steps:
        for steps in (FIRST_STEPS, NEAR_STEPS):
            for rounds in sorted({20, 40, args.rounds}):
                began = time.perf_counter()
                coupled = couple(cm, windows, plain, max_rounds=rounds, jobs=2, steps=steps)
                print(f"  aim {steps.above:.0%} above, halved after {steps.stall} stalled rounds, at most {rounds}: "
                      f"{coupled.bytes:,} B after {coupled.rounds} rounds, {time.perf_counter() - began:.1f} s",
                      flush=True)
        return
    outcomes = set()
    for _ in range(args.repeats):
        for jobs in (1, 2):
            began = time.perf_counter()
            coupled = couple(cm, windows, plain, max_rounds=args.rounds, jobs=jobs)
            print(f"  {jobs} process{'es' if jobs > 1 else ''}: {coupled.bytes:,} B after {coupled.rounds} rounds, "
                  f"{time.perf_counter() - began:.1f} s", flush=True)
            outcomes.add((coupled.bytes, coupled.rounds, coupled.disagreements, coupled.pieces))
    if len(outcomes) != 1:
        raise SystemExit("one and two processes coupled the windows differently")


if __name__ == "__main__":
    main()
