"""Time a window of consecutive groups solved by columns against the down-set DP (formulations/refine.md, "Windows by
columns"), on NASNet-A Mobile at 128 KiB: the stem groups 1–4 of the best schedule known before the windows by
columns (tests/data/), 54 layers, and the next windows of the same schedule.

    python benchmarks/bench_window_columns.py [--dp-seconds 120] [--windows 3]

Per window: its candidates enumerated compiled and in Python (seconds), the window solved by columns (seconds, the
cost found, enumeration included) and by the DP over the candidates listed in Python (seconds, or "stopped" at the
cap). One process; run it on an otherwise idle machine and
compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import optimus_opt as oo
from optimus_opt.cost.candidates import CandidateSpace
from optimus_opt.io.resolve import resolve_instance
from optimus_opt.solvers.downsets import downset_dp
from optimus_opt.solvers.window_columns import solve_by_columns, window_space
from optimus_opt.utils.deadline import NEVER, Deadline

ROOT = Path(__file__).resolve().parents[1]
SCHEDULE = ROOT / "tests" / "data" / "nasnet_a_mobile-128KiB-before-columns.json"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dp-seconds", type=float, default=120.0, help="the DP's cap per window")
    ap.add_argument("--windows", type=int, default=3, help="how many windows of about 54 layers, from group 1")
    args = ap.parse_args()
    inst = resolve_instance("nasnet_a_mobile", buffer=128 * 1024)
    cm = oo.CostModel(inst)
    groups = [sum(1 << inst.network.index[n] for n in g.layers) for g in oo.load_schedule(SCHEDULE).groups]
    current = [(mask, cm.best_tiling_of_mask(mask)) for mask in groups]
    print("| groups | layers | candidates | compiled (s) | Python (s) | columns (s) | cost → | DP (s) |")
    print("|---|---|---|---|---|---|---|---|")
    i = 1
    for _ in range(args.windows):
        j, size = i, 0
        while j < len(current) and size + current[j][0].bit_count() <= 56:
            size += current[j][0].bit_count()
            j += 1
        window = 0
        for mask, _tiling in current[i:j]:
            window |= mask
        now = sum(t.cost for _, t in current[i:j])
        start = time.perf_counter()
        compiled = window_space(cm, window, None, NEVER)
        mid = time.perf_counter()
        listed = CandidateSpace(cm, within=window)
        end = time.perf_counter()
        assert len(compiled) == len(listed)
        better, _proven = solve_by_columns(cm, window, now, NEVER)
        columns = time.perf_counter() - end
        found = now if better is None else sum(t.cost for _, t in better)
        before = 0
        for mask, _tiling in current[:i]:
            before |= mask
        start_dp = time.perf_counter()  # the DP over the same candidates (their enumeration is the Python column)
        _cost, _groups, _states, finished = downset_dp(cm, listed, Deadline.after(args.dp_seconds), start=before,
                                                       frontier=False)
        dp_seconds = time.perf_counter() - start_dp
        dp_text = f"{dp_seconds:.1f}" if finished else f"stopped at {dp_seconds:.0f}"
        print(f"| {i}–{j - 1} | {size} | {len(listed):,} | {mid - start:.1f} | {end - mid:.1f} | {columns:.1f} | "
              f"{now:,} → {found:,} | {dp_text} |", flush=True)
        i = j


if __name__ == "__main__":
    main()
