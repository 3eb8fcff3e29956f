"""Time the exact traffic/capacity front (issue 26, item 8): the command and the README's library example.

Times, in one run so that their ratio means something on a shared machine, ``optimus-opt pareto NETWORK`` (a fresh
process, start-up included) and the README's ``oo.pareto_front(net, 16 KiB, 1 MiB)`` (in this process, after one
warm-up sweep that imports everything), each swept two ways: by the down-set DP (the default wherever the network
has few down-sets) and by CP-SAT (two solves per corner of one model,
stated once; what ``auto`` falls back to, and how every front was swept before the DP). Checks that both give the
same corners and prints one row per way, then the ratio.

    python benchmarks/bench_pareto.py [--network squeezenet1_0] [--buffers 16KiB..1MiB] [--repeat 1] [--no-cpsat]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import optimus_opt as oo
from optimus_opt import zoo
from optimus_opt.model.accelerator import parse_size
from optimus_opt.solvers import pareto

#: The command line with the sweep forced onto CP-SAT (as for a network with too many down-sets for the DP).
BY_CPSAT = ("import sys; from optimus_opt.solvers import pareto; pareto.MAX_TRANSITIONS = 0; "
            "from optimus_opt.cli import main; sys.exit(main())")


def command_seconds(network: str, buffers: str, method: str) -> tuple[float, list[str]]:
    """Wall seconds of ``optimus-opt pareto`` in a fresh process, and its corner lines."""
    head = [sys.executable, "-m", "optimus_opt.cli"] if method == "dp" else [sys.executable, "-c", BY_CPSAT]
    start = time.perf_counter()
    run = subprocess.run(head + ["pareto", network, "--buffers", buffers, "-q"], capture_output=True, text=True,
                         check=True)
    seconds = time.perf_counter() - start
    return seconds, [line for line in run.stdout.splitlines() if line.strip().endswith(tuple("0123456789"))
                     and " B " in line]


def library_seconds(net: oo.Instance, low: int, high: int, method: str) -> tuple[float, list[tuple[int, int]]]:
    """Seconds of ``pareto_front`` (the README's call), and its corners."""
    start = time.perf_counter()
    front = pareto.pareto_front(net, low, high, method=method)
    seconds = time.perf_counter() - start
    assert front.complete
    return seconds, [(p.buffer_bytes, p.dram_bytes) for p in front.points]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network", default="squeezenet1_0", help="a zoo network (default: the README's)")
    ap.add_argument("--buffers", default="16KiB..1MiB", help="the capacity range MIN..MAX")
    ap.add_argument("--repeat", type=int, default=1, help="best of this many runs of each")
    ap.add_argument("--no-cpsat", action="store_true", help="time the DP only (the CP-SAT sweep takes ~30 s)")
    args = ap.parse_args()
    low, high = (parse_size(part) for part in args.buffers.split(".."))
    # the README's instance: the Optimus NPU (128 KiB, 16-bit words, Tc = 32) at batch 4
    net = oo.Instance(zoo.build(args.network), oo.Accelerator(131072, 2, 32), batch=4)
    methods = ["dp"] if args.no_cpsat else ["dp", "cpsat"]
    pareto.pareto_front(net, low, high)  # warm-up: imports and compiled kernels, for neither way's account
    print(f"exact traffic/capacity front of {net.name}, {args.buffers}; best of {args.repeat}")
    print(f"{'sweep':>6} {'command s':>10} {'library s':>10} {'corners':>8}")
    rows = {}
    for method in methods:
        cmd = min((command_seconds(args.network, args.buffers, method) for _ in range(args.repeat)),
                  key=lambda r: r[0])
        lib = min((library_seconds(net, low, high, method) for _ in range(args.repeat)), key=lambda r: r[0])
        assert len(cmd[1]) == len(lib[1]), "the command and the library disagree"
        rows[method] = (cmd[0], lib[0], lib[1])
        print(f"{method:>6} {cmd[0]:>10.2f} {lib[0]:>10.2f} {len(lib[1]):>8}")
    if "cpsat" in rows:
        assert rows["dp"][2] == rows["cpsat"][2], "the two sweeps disagree on the corners"
        print(f"cpsat / dp: command {rows['cpsat'][0] / rows['dp'][0]:.1f}x, "
              f"library {rows['cpsat'][1] / rows['dp'][1]:.1f}x (same corners)")


if __name__ == "__main__":
    main()
