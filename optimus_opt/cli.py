"""The ``optimus-opt`` command.

Exit status: 0 when a schedule was found (or a schedule is valid), 1 when none was found or a schedule is invalid,
2 on bad input (a malformed instance, an unknown solver, a bad option). Errors go to stderr, one line each, never a
traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Sequence

from . import solvers, zoo
from .accelerator import format_size, parse_size
from .errors import InstanceError, OptimusError, ScheduleError, SolverError
from .instance import NETWORK_FORMAT, Instance, read_document, dump_document, load_instance, load_network
from .network import Network
from .presets import PRESETS, looks_like_path, resolve_accelerator
from .schedule import Schedule, evaluate, load_schedule
from .suite import instance_name

EXIT_OK, EXIT_NO_SCHEDULE, EXIT_BAD_INPUT = 0, 1, 2

#: What ``solve`` and ``evaluate`` use for a zoo network name: the Optimus paper's setting.
ZOO_ACCELERATOR, ZOO_BATCH = "optimus-npu", 4


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
    p.add_argument("instance", metavar="INSTANCE|NETWORK",
                   help="an instance file (JSON or YAML), or a network: the name of a zoo network ('optimus-opt zoo "
                        "list') or a network file ('optimus-opt zoo export'), which runs on --accelerator "
                        f"({ZOO_ACCELERATOR} by default) at --batch ({ZOO_BATCH} by default)")
    p.add_argument("--accelerator", metavar="NAME|FILE",
                   help="an accelerator preset ('optimus-opt accelerators') or an accelerator file; for a network "
                        f"the default is {ZOO_ACCELERATOR}, for an instance file it replaces the file's accelerator")
    p.add_argument("--buffer", type=_size, metavar="SIZE",
                   help="override the buffer capacity: bytes, or 128KiB / 1MiB (binary) / 128KB (decimal)")
    p.add_argument("--batch", type=_positive, metavar="N",
                   help=f"override the batch size (a network runs at batch {ZOO_BATCH}, the Optimus paper's, unless "
                        "given)")
    p.add_argument("--resolution", type=_positive, metavar="R",
                   help="input resolution of a zoo network (default: the network's own)")


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

    p = sub.add_parser("pareto", help="the exact front of DRAM traffic against buffer capacity (CP-SAT)")
    _add_instance_args(p)
    p.add_argument("--buffers", default="16KiB..1MiB", metavar="MIN..MAX",
                   help="capacity range (default 16KiB..1MiB, the Optimus paper's sweep)")
    p.add_argument("--target", type=_size, metavar="BYTES",
                   help="instead of the front: the least buffer that reaches this much DRAM traffic or less")
    p.add_argument("--max-group", type=_positive, metavar="K", help="at most K layers per group (default: no cap)")
    p.add_argument("--time-limit", type=float, metavar="S", help="stop the sweep after S seconds (corners found so "
                   "far are exact)")
    p.add_argument("-o", "--output", metavar="FRONT.json", help="write the front (with each corner's groups)")
    p.add_argument("--plot", metavar="FRONT.png|svg", help="draw the front (needs matplotlib)")

    sub.add_parser("solvers", help="list the solvers and whether they are installed")

    p = sub.add_parser("accelerators", help="list the accelerator presets")
    p.add_argument("-v", "--verbose", action="store_true", help="also print where each preset's numbers come from")

    p = sub.add_parser("zoo", help="the network zoo: list it, export a network file")
    zsub = p.add_subparsers(dest="zoo_command", required=True)
    q = zsub.add_parser("list", help="every zoo network with its layers, weights and MACs against published figures")
    q.add_argument("--sources", action="store_true", help="also print where each published figure comes from")
    q = zsub.add_parser("export", help="write a zoo network as a network file (optimus-opt/network@1)")
    q.add_argument("name", metavar="NAME", help="a zoo network ('optimus-opt zoo list')")
    q.add_argument("--resolution", type=_positive, metavar="R", help="input resolution (default: the network's own)")
    q.add_argument("-o", "--output", metavar="FILE",
                   help="write here (JSON, or YAML for .yaml/.yml) instead of to standard output")
    return parser


def _version() -> str:
    from . import __version__

    return __version__


def _is_network_name(spec: str) -> bool:
    """An argument that names no file and does not look like a path is taken for a zoo network name."""
    return not Path(spec).is_file() and not looks_like_path(spec)


def _zoo_network(name: str, resolution: int | None, *, or_file: bool = False) -> Network:
    """Build a zoo network; an unknown name or a resolution it cannot take is an :class:`InstanceError`."""
    known = zoo.names()
    if name not in known:
        what = f"'{name}' is neither a file nor a zoo network" if or_file else f"unknown zoo network '{name}'"
        raise InstanceError(f"{what} (known networks: {', '.join(known)})")
    try:
        return zoo.build(name, resolution)
    except InstanceError:
        raise
    except ValueError as err:  # a resolution the network cannot take
        raise InstanceError(str(err), field="resolution") from None


def _load(args: argparse.Namespace) -> Instance:
    """The instance of ``solve``/``evaluate``: an instance file, a network file or a zoo network, with the command
    line's overrides. A network (zoo or file) runs on ``--accelerator`` (default optimus-npu) at ``--batch``
    (default 4, the Optimus paper's setting)."""
    spec = args.instance
    if _is_network_name(spec):
        network = _zoo_network(spec, args.resolution, or_file=True)
        label = spec if args.resolution is None else f"{spec}-{args.resolution}"
    else:
        if args.resolution is not None:
            raise InstanceError("--resolution applies to a zoo network, not to a file", file=spec)
        doc = read_document(spec, "instance")
        if doc.get("format") != NETWORK_FORMAT:
            inst = load_instance(spec)
            if args.accelerator:
                inst = dataclasses.replace(inst, accelerator=resolve_accelerator(args.accelerator))
            return inst.with_overrides(buffer_bytes=args.buffer, batch=args.batch)
        network = load_network(spec)
        label = network.name
    acc = resolve_accelerator(args.accelerator or ZOO_ACCELERATOR)
    batch = args.batch or ZOO_BATCH
    name = instance_name(label, acc.name, batch, args.buffer)
    return Instance(network, acc, batch, name=name).with_overrides(buffer_bytes=args.buffer)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status = _run(parser, args)
        sys.stdout.flush()  # here, where a broken pipe is caught, rather than at the interpreter's exit
        return status
    except BrokenPipeError:
        # The reader went away (``optimus-opt zoo list | head``): stop quietly, and keep the interpreter's final
        # flush of stdout from failing again.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):  # stdout is not a real file (captured in a test, say)
            pass
        return EXIT_OK


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
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
        if args.command == "pareto":
            return _pareto(args)
        if args.command == "accelerators":
            print(accelerator_table(verbose=args.verbose))
            return EXIT_OK
        if args.command == "zoo":
            if args.zoo_command == "list":
                print(zoo_table(sources=args.sources))
                return EXIT_OK
            return _zoo_export(args)
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


def _buffer_range(text: str) -> tuple[int, int]:
    low, sep, high = text.partition("..")
    if not sep:
        raise InstanceError(f"expected MIN..MAX, got {text!r}", field="--buffers")
    try:
        return parse_size(low), parse_size(high)
    except ValueError as err:
        raise InstanceError(str(err), field="--buffers") from None


def _pareto(args: argparse.Namespace) -> int:
    from .pareto import least_buffer, pareto_front

    inst = _load(args)
    low, high = _buffer_range(args.buffers)
    if args.target is not None:
        point = least_buffer(inst, args.target, high, max_group=args.max_group, time_limit=args.time_limit)
        if point is None:
            print(f"no schedule moves at most {args.target:,} B of DRAM traffic with up to {high:,} B of buffer")
            return EXIT_NO_SCHEDULE
        print(f"least buffer for at most {args.target:,} B: {point.buffer_bytes:,} B "
              f"({format_size(point.buffer_bytes)}), where the optimum is {point.dram_bytes:,} B "
              f"in {len(point.schedule.groups)} groups")
        return EXIT_OK

    def show(point) -> None:
        print(f"  {point.buffer_bytes:>12,} B {point.buffer_bytes / 1024:>9.1f} KiB {point.dram_bytes:>16,} B "
              f"{len(point.schedule.groups):>7}", flush=True)

    print(f"exact traffic/capacity front of {inst.name}, {low:,}..{high:,} B (each corner: the least buffer at "
          "which that traffic is optimal)")
    print(f"  {'buffer':>14} {'':>12} {'DRAM traffic':>18} {'groups':>7}")
    front = pareto_front(inst, low, high, max_group=args.max_group, time_limit=args.time_limit, progress=show)
    if not front.points:
        print(f"no schedule fits any buffer up to {high:,} B")
    print(f"{len(front.points)} corners in {front.seconds:.2f} s"
          + ("" if front.complete else " (stopped at the time limit: the front below the last corner is missing)"))
    if args.output:
        Path(args.output).write_text(json.dumps(front.to_dict(), indent=1) + "\n")
        print(f"front written to {args.output}")
    if args.plot:
        plot_front(front, args.plot)
        print(f"plot written to {args.plot}")
    return EXIT_OK if front.points else EXIT_NO_SCHEDULE


def plot_front(front, path: str) -> None:
    """Draw the front as a staircase: traffic against capacity, log-scaled capacity axis."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SolverError("--plot needs matplotlib: pip install matplotlib") from None
    pts = sorted(front.points, key=lambda p: p.buffer_bytes)
    xs = [p.buffer_bytes / 1024 for p in pts] + [front.max_buffer / 1024]
    ys = [p.dram_bytes / 1e6 for p in pts] + [pts[-1].dram_bytes / 1e6] if pts else []
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    if pts:
        ax.step(xs, ys, where="post", color="tab:blue")
        ax.plot(xs[:-1], ys[:-1], "o", color="tab:blue", markersize=3)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("buffer capacity (KiB)")
    ax.set_ylabel("optimal DRAM traffic (MB)")
    ax.set_title(f"{front.instance}: exact traffic/capacity front")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _zoo_export(args: argparse.Namespace) -> int:
    network = _zoo_network(args.name, args.resolution)
    doc = network.to_dict(with_format=True)
    if args.output:
        dump_document(doc, args.output)
        print(f"network {network.name} ({len(network.layer_ids)} layers) written to {args.output}")
    else:
        sys.stdout.write(json.dumps(doc, indent=1) + "\n")
        sys.stdout.flush()
    return EXIT_OK


def _delta(value: float, published: float | None) -> str:
    return f"{(value - published) / published:+.2%}" if published else "-"


def zoo_table(*, sources: bool = False) -> str:
    """What ``zoo list`` prints: every zoo network at its default resolution against its published figures."""
    head = (f"{'network':<16} {'res':>4} {'layers':>6} {'weights':>12} {'published':>10} {'diff':>7} "
            f"{'MACs':>16} {'published':>10} {'diff':>7}")
    lines = [head]
    for name, entry in zoo.entries().items():
        net = entry.build(entry.resolution)
        pub_w = f"{entry.published_params / 1e6:.4g} M" if entry.published_params else "-"
        pub_m = f"{entry.published_macs / 1e9:.4g} G" if entry.published_macs else "-"
        lines.append(f"{name:<16} {entry.resolution:>4} {len(net.layer_ids):>6} {net.total_weight_words:>12,} "
                     f"{pub_w:>10} {_delta(net.total_weight_words, entry.published_params):>7} "
                     f"{net.total_macs:>16,} {pub_m:>10} {_delta(net.total_macs, entry.published_macs):>7}")
    lines.append("weights: words, batch-norm folded into one bias word per channel; MACs: per sample; diff: against")
    lines.append("the published figure, made comparable where the builder differs" +
                 (" (see below)" if sources else " (--sources says where each comes from)"))
    if sources:
        lines.append("")
        lines.extend(f"{name}: {entry.source}" for name, entry in zoo.entries().items())
    return "\n".join(lines)


def accelerator_table(*, verbose: bool = False) -> str:
    """What ``accelerators`` prints: every preset (instances/accelerators/<name>.json holds the same)."""
    lines = [f"{'name':<17} {'buffer':>25} {'word':>4} {'Tc':>3} {'PEs':>7}"]
    for acc in PRESETS:
        buffer = f"{acc.buffer_bytes:,} B ({format_size(acc.buffer_bytes)})"
        pes = "x".join(map(str, acc.pe_array)) if acc.pe_array else "-"
        lines.append(f"{acc.name:<17} {buffer:>25} {acc.word_bytes:>4} {acc.channel_tile:>3} {pes:>7}")
        if verbose:
            lines.append(f"    {acc.description}")
            lines.append(f"    source: {acc.source}")
    if not verbose:
        lines.append("Tc: channel tile; -v says where each number comes from and how Tc was chosen")
    return "\n".join(lines)


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
    if sched.unplaced:
        more = f" and {len(sched.unplaced) - 10} more" if len(sched.unplaced) > 10 else ""
        lines.append(f"unplaced     {', '.join(sched.unplaced[:10])}{more}")
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
