"""The ``optimus-opt`` command.

Exit status: 0 when a schedule was found (or a schedule is valid), 1 when none was found or a schedule is invalid,
2 on bad input (a malformed instance, an unknown solver, a bad option). Errors go to stderr, one line each, never a
traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from . import solvers
from .accelerator import format_size, parse_size
from .errors import InstanceError, OptimusError, ScheduleError, SolverError
from .instance import Instance, load_instance
from .schedule import Schedule, evaluate, load_schedule

EXIT_OK, EXIT_NO_SCHEDULE, EXIT_BAD_INPUT = 0, 1, 2


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _add_instance_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("instance", help="an instance file (JSON or YAML)")
    p.add_argument("--buffer", type=_size, metavar="SIZE",
                   help="override the buffer capacity: bytes, or 128KiB / 1MiB (binary) / 128KB (decimal)")
    p.add_argument("--batch", type=_positive, metavar="N", help="override the batch size")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="optimus-opt", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("solve", help="find a fusion schedule for an instance")
    _add_instance_args(p)
    p.add_argument("--solver", default="layerwise", help=f"one of: {', '.join(solvers.registered())}")
    p.add_argument("--time-limit", type=float, metavar="S", help="wall-clock limit in seconds (searching solvers)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--workers", type=_positive, default=1, help="solver threads (default 1)")
    p.add_argument("--max-group", type=_positive, metavar="K", help="at most K layers per group (default: no cap)")
    p.add_argument("-o", "--output", metavar="OUT.json", help="write the schedule here")
    p.add_argument("--json", action="store_true", help="print the schedule JSON instead of the summary")

    p = sub.add_parser("evaluate", help="recompute and check every number of a schedule")
    _add_instance_args(p)
    p.add_argument("schedule", help="a schedule file written by 'solve -o'")
    p.add_argument("--json", action="store_true", help="print the schedule with every number recomputed")

    sub.add_parser("solvers", help="list the solvers and whether they are installed")
    return parser


def _version() -> str:
    from . import __version__

    return __version__


def _load(args: argparse.Namespace) -> Instance:
    inst = load_instance(args.instance)
    return inst.with_overrides(buffer_bytes=args.buffer, batch=args.batch)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "solve":
            return _solve(args)
        if args.command == "evaluate":
            return _evaluate(args)
        if args.command == "solvers":
            for name in solvers.registered():
                cls = solvers._SOLVERS[name]
                mark = "" if cls.is_available() else "  (not installed: needs " + ", ".join(cls.requires) + ")"
                print(f"{name:14s} {cls.description}{mark}")
            return EXIT_OK
    except (InstanceError, SolverError) as err:
        print(f"optimus-opt: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ScheduleError as err:
        print(f"optimus-opt: {err}", file=sys.stderr)
        return EXIT_NO_SCHEDULE if err.kind != "format" else EXIT_BAD_INPUT
    except OptimusError as err:  # any other deliberate error
        print(f"optimus-opt: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("optimus-opt: interrupted", file=sys.stderr)
        return 130
    parser.error(f"unknown command {args.command}")
    return EXIT_BAD_INPUT


def _solve(args: argparse.Namespace) -> int:
    inst = _load(args)
    sched = solvers.solve(inst, args.solver, time_limit=args.time_limit, seed=args.seed, workers=args.workers,
                          max_group=args.max_group)
    if args.output:
        Path(args.output).write_text(sched.to_json())
    if args.json:
        sys.stdout.write(sched.to_json())
    else:
        print(summary(inst, sched))
        if args.output:
            print(f"schedule written to {args.output}")
    return EXIT_OK if sched.status in ("optimal", "feasible") else EXIT_NO_SCHEDULE


def _evaluate(args: argparse.Namespace) -> int:
    inst = _load(args)
    sched = load_schedule(args.schedule)
    ev = evaluate(inst, sched)
    if args.json:
        sys.stdout.write(ev.schedule.to_json())
        return EXIT_OK
    print(summary(inst, ev.schedule))
    print("valid: every group is convex, connected, in topological order and fits the buffer; "
          "the stated numbers agree with the cost model")
    for k in ev.suboptimal_groups:
        best = ev.tilings[k]
        print(f"note: group {k} uses a tiling that costs more than its best one ({best.cost} bytes as given)")
    return EXIT_OK


def summary(inst: Instance, sched: Schedule, *, max_rows: int = 60) -> str:
    """The short human summary that ``solve`` and ``evaluate`` print."""
    net, acc = inst.network, inst.accelerator
    lines = [
        f"instance     {sched.instance}: network {net.name} ({len(net.layer_ids)} layers, "
        f"{net.total_weight_words:,} weights, {net.total_macs / 1e6:,.1f} M MACs per sample)",
        f"accelerator  {acc.name}: buffer {acc.buffer_bytes:,} B ({format_size(acc.buffer_bytes)}), "
        f"{acc.word_bytes}-byte words, channel tile {acc.channel_tile}; batch {inst.batch}",
        f"solver       {sched.solver}: {sched.status}"
        + (f" — over {sched.solver_info['space']}" if sched.solver_info.get("space") else ""),
    ]
    if sched.dram_bytes is not None:
        ratio = sched.dram_bytes / sched.compulsory_bytes if sched.compulsory_bytes else float("nan")
        lines.append(f"DRAM traffic {sched.dram_bytes:,} B ({ratio:.3f} x compulsory {sched.compulsory_bytes:,} B)")
    elif sched.compulsory_bytes is not None:
        lines.append(f"DRAM traffic none found (compulsory {sched.compulsory_bytes:,} B)")
    if sched.bound_bytes is not None:
        gap = sched.gap
        lines.append(f"lower bound  {sched.bound_bytes:,} B" + (f" (gap {gap:.4%})" if gap is not None else ""))
    if sched.solve_seconds is not None:
        lines.append(f"time         {sched.solve_seconds:.3f} s")
    if sched.message:
        lines.append(f"note         {sched.message}")
    if sched.groups:
        lines.append(f"groups       {len(sched.groups)}")
        lines.append(f"  {'#':>3} {'strips':>6} {'b':>3} {'weights':>8} {'read B':>12} {'write B':>12}  layers"
                     " (*: reduced channels)")
        for k, g in enumerate(sched.groups[:max_rows]):
            reduced = set(g.reduced_channels or ())
            names = " ".join(n + ("*" if n in reduced else "") for n in g.layers)
            if len(names) > 70:
                names = names[:67] + "..."
            lines.append(f"  {k:>3} {g.strips or '-':>6} {g.batch_block or '-':>3} "
                         f"{'resident' if g.resident_weights else 'streamed':>8} {g.read_bytes or 0:>12,} "
                         f"{g.write_bytes or 0:>12,}  {names}")
        if len(sched.groups) > max_rows:
            lines.append(f"  ... {len(sched.groups) - max_rows} more groups (write them all with -o)")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
