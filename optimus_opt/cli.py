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
                        "list'), a network file ('optimus-opt zoo export') or an ONNX model (.onnx), which runs on "
                        f"--accelerator ({ZOO_ACCELERATOR} by default) at --batch ({ZOO_BATCH} by default; an ONNX "
                        "model's own fixed batch where it has one)")
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
    _add_onnx_show_parsers(sub)

    p = sub.add_parser("zoo", help="the network zoo: list it, export a network file")
    zsub = p.add_subparsers(dest="zoo_command", required=True)
    q = zsub.add_parser("list", help="every zoo network with its layers, weights and MACs against published figures")
    q.add_argument("--sources", action="store_true", help="also print where each published figure comes from")
    q = zsub.add_parser("export", help="write a zoo network as a network file (optimus-opt/network@1)")
    q.add_argument("name", metavar="NAME", help="a zoo network ('optimus-opt zoo list')")
    q.add_argument("--resolution", type=_positive, metavar="R", help="input resolution (default: the network's own)")
    q.add_argument("-o", "--output", metavar="FILE",
                   help="write here (JSON, or YAML for .yaml/.yml) instead of to standard output")
    _add_study_parsers(sub)
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
    if spec.lower().endswith(".onnx"):
        return _load_onnx(args)
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
    args.argv = list(argv) if argv is not None else sys.argv[1:]  # the manifest of a study records the command
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
        if args.command in ("import-onnx", "export-onnx", "show"):
            return _onnx_or_show(args)
        if args.command == "solvers":
            for name in solvers.registered():
                cls = solvers._SOLVERS[name]
                mark = "" if cls.is_available() else "  (not installed: needs " + ", ".join(cls.requires) + ")"
                print(f"{name:14s} {cls.description}{mark}")
            return EXIT_OK
        if args.command == "pareto":
            return _pareto(args)
        if args.command in ("gap", "report"):
            return _study_command(args)
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


# ---- studies: ``gap`` and ``report`` (optimus_opt/studies.py, optimus_opt/report.py) ----------------------------


def _add_study_parsers(sub) -> None:
    p = sub.add_parser("gap", help="run every solver over suites × buffers × batches: gaps, tables, plots")
    p.add_argument("inputs", nargs="*", metavar="SUITE|INSTANCE",
                   help="suite files or bundled suite names (paper, all, smoke), instance or network files, zoo "
                        "network names (a network runs on optimus-npu at batch 4)")
    p.add_argument("--preset", choices=("paper",),
                   help="paper: the Optimus paper's study (the paper suite and the SqueezeNet buffer sweep 16 KiB "
                        "... 1 MiB, every solver, the exact ones under time limits and group caps)")
    p.add_argument("--solvers", metavar="A,B,...", help="solvers to run (default: every installed solver)")
    p.add_argument("--buffers", metavar="SIZE,...", help="cross every instance with these buffer capacities")
    p.add_argument("--batch", metavar="N,...", help="cross every instance with these batch sizes")
    p.add_argument("--time-limit", type=float, metavar="S", help="time limit of each run of a searching solver")
    p.add_argument("--max-group", type=_positive, metavar="K",
                   help="at most K layers per group, for the exact solvers (their bounds then hold only there)")
    p.add_argument("--seed", type=int, default=0, help="random seed of every run (default 0)")
    p.add_argument("--workers", type=_positive, default=1, help="threads of cpsat and milp per run (default 1)")
    p.add_argument("--option", action="append", default=[], metavar="SOLVER:KEY=VALUE",
                   help="an option of one solver (time_limit, max_group, seed, workers or a solver-specific one); "
                        "VALUE is JSON or a string; repeatable")
    p.add_argument("--jobs", type=_positive, default=1, help="runs at once in the local process pool (default 1)")
    p.add_argument("--out", metavar="DIR", help="study directory (default gap-study, or gap-<preset>); runs "
                   "already recorded there are skipped")
    p.add_argument("--executor", choices=("local", "dask", "inline"), default="local",
                   help="local process pool (default), an existing Dask cluster, or inline (debugging)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address, e.g. tcp://10.0.0.1:8786")
    p.add_argument("--hard-limit", type=float, metavar="S",
                   help="kill a run after S seconds (local pool; default: time limit x 3 + 30)")
    p.add_argument("--retry-failed", action="store_true", help="also run again the runs recorded as error/timeout")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--no-plots", action="store_true", help="tables only")

    p = sub.add_parser("report", help="re-render the tables and plots of a study directory from results.jsonl")
    p.add_argument("directory", metavar="DIR")
    p.add_argument("--no-plots", action="store_true", help="tables only")
    p.add_argument("--paper", action="store_true", help="add the comparison with the Optimus paper's reductions")


def _study_options(items: Sequence[str]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for item in items:
        solver, sep, rest = item.partition(":")
        key, eq, value = rest.partition("=")
        if not sep or not eq or not solver or not key:
            raise InstanceError(f"expected SOLVER:KEY=VALUE, got {item!r}", field="--option")
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = value
        out.setdefault(solver, {})[key] = parsed
    return out


def _study_command(args: argparse.Namespace) -> int:
    from . import report, studies

    if args.command == "report":
        directory = Path(args.directory)
        if not (directory / studies.RESULTS_FILE).is_file():
            raise InstanceError(f"no {studies.RESULTS_FILE} in {directory}", file=str(directory))
        s = report.render(directory, plots=not args.no_plots, paper=True if args.paper else None)
        print(f"{len(s.rows)} runs; wrote {directory / 'summary.md'}, {directory / 'summary.csv'}"
              + ("" if args.no_plots else f" and {directory / 'plots'}/"))
        return EXIT_OK

    if args.preset and args.inputs:
        raise InstanceError("give a preset or inputs, not both", field="inputs")
    if not args.preset and not args.inputs:
        raise InstanceError("nothing to run: give suites, instances or networks, or --preset paper", field="inputs")
    names = [n for n in args.solvers.split(",") if n] if args.solvers else None
    try:
        buffers = [parse_size(b) for b in args.buffers.split(",") if b] if args.buffers else None
    except ValueError as err:
        raise InstanceError(str(err), field="--buffers") from None
    try:
        batches = [int(b) for b in args.batch.split(",") if b] if args.batch else None
    except ValueError:
        raise InstanceError(f"expected comma-separated integers, got {args.batch!r}", field="--batch") from None
    if batches and min(batches) < 1:
        raise InstanceError(f"batch sizes must be positive, got {args.batch!r}", field="--batch")
    out = Path(args.out or (f"gap-{args.preset}" if args.preset else "gap-study"))
    common = dict(buffers=buffers, batches=batches, time_limit=args.time_limit, seed=args.seed,
                  workers=args.workers, max_group=args.max_group, solver_options=_study_options(args.option),
                  jobs=args.jobs, out=out, executor=args.executor, scheduler=args.scheduler,
                  hard_limit=args.hard_limit, retry_failed=args.retry_failed, progress=not args.no_progress,
                  plots=not args.no_plots, command=["optimus-opt", *getattr(args, "argv", [])])
    try:
        if args.preset == "paper":
            result = studies.paper_study(solvers=names, **common)
        else:
            result = studies.study(args.inputs, solvers=names, **common)
    except KeyboardInterrupt:
        print(f"optimus-opt: interrupted; every finished run is in {out / studies.RESULTS_FILE} (summaries "
              "rewritten); run the same command again to finish the rest", file=sys.stderr)
        return 130
    summary = result.table
    print(f"{len(result.executed) + len(result.skipped)} runs ({len(result.executed)} run now, "
          f"{len(result.skipped)} recorded before) in {result.wall_seconds:.1f} s; results in {out}/")
    agg = summary.to_markdown().split("## Aggregates", 1)[1].split("\n## ", 1)[0].strip()
    print("\n" + agg)
    if args.preset == "paper":
        print("\n" + report.paper_comparison(summary))
    mine = set(result.executed) | set(result.skipped)
    failed = [r for r in result.records if r["run_id"] in mine and r["status"] in studies.RUN_FAILURES]
    if failed:
        print(f"\n{len(failed)} runs failed (error or timeout); see {out / 'summary.md'}", file=sys.stderr)
        return EXIT_NO_SCHEDULE
    return EXIT_OK


# ---- ONNX and pictures: ``import-onnx``, ``export-onnx``, ``show`` (optimus_opt/onnx_io.py, optimus_opt/show.py) ----


def _input_shape(text: str) -> tuple[int, int, int]:
    from .onnx_io import parse_input_shape

    try:
        return parse_input_shape(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _add_onnx_show_parsers(sub) -> None:
    p = sub.add_parser("import-onnx", help="read an ONNX model as a network file (needs the onnx package)")
    p.add_argument("model", metavar="MODEL.onnx")
    p.add_argument("-o", "--output", metavar="NETWORK.json",
                   help="write here (JSON, or YAML for .yaml/.yml) instead of to standard output")
    p.add_argument("--input-shape", type=_input_shape, metavar="CxHxW",
                   help="the input's channels, height and width, for example 3x224x224 (needed where the model "
                        "leaves them dynamic; replaces what it declares)")
    p.add_argument("--batch", type=_positive, metavar="N", help="refuse a model whose fixed batch is not N")

    p = sub.add_parser("export-onnx", help="write a network as a shape-only ONNX graph (needs the onnx package)")
    p.add_argument("network", metavar="NETWORK",
                   help="a zoo network ('optimus-opt zoo list'), a network file or an instance file")
    p.add_argument("-o", "--output", required=True, metavar="MODEL.onnx")
    p.add_argument("--resolution", type=_positive, metavar="R",
                   help="input resolution of a zoo network (default: the network's own)")
    p.add_argument("--batch", type=_positive, metavar="N",
                   help="the graph's batch dimension (default 1, or an instance file's batch)")

    p = sub.add_parser("show", help="draw a schedule: the network with each fusion group in its colour")
    _add_instance_args(p)
    p.add_argument("schedule", help="a schedule file written by 'solve -o'")
    p.add_argument("-o", "--output", required=True, metavar="PICTURE",
                   help="a .png, .svg or .pdf file (or .dot: the Graphviz source)")
    p.add_argument("--engine", choices=("auto", "graphviz", "matplotlib"), default="auto",
                   help="auto (default): Graphviz's dot where it is installed, else matplotlib")


def _load_onnx(args: argparse.Namespace) -> Instance:
    """An ONNX model runs like a network file, at the model's own fixed batch unless --batch says otherwise (a
    model whose fixed batch differs from --batch is refused)."""
    from .onnx_io import read_onnx

    spec = args.instance
    if args.resolution is not None:
        raise InstanceError("--resolution applies to a zoo network, not to a file", file=spec)
    found = read_onnx(spec, batch=args.batch)
    acc = resolve_accelerator(args.accelerator or ZOO_ACCELERATOR)
    batch = args.batch or found.batch or ZOO_BATCH
    name = instance_name(found.network.name, acc.name, batch, args.buffer)
    return Instance(found.network, acc, batch, name=name).with_overrides(buffer_bytes=args.buffer)


def _onnx_or_show(args: argparse.Namespace) -> int:
    if args.command == "import-onnx":
        from .onnx_io import read_onnx

        found = read_onnx(args.model, input_shape=args.input_shape, batch=args.batch)
        net = found.network
        doc = net.to_dict(with_format=True)
        if not args.output:
            sys.stdout.write(json.dumps(doc, indent=1) + "\n")
            return EXIT_OK
        dump_document(doc, args.output)
        batch = f"batch {found.batch}" if found.batch is not None else "a dynamic batch"
        print(f"network {net.name} ({len(net.layer_ids)} layers, {net.total_weight_words:,} weights) written to "
              f"{args.output}; the model has {batch}")
        return EXIT_OK
    if args.command == "export-onnx":
        from .onnx_io import network_to_onnx

        spec, batch = args.network, args.batch
        if _is_network_name(spec):
            network = _zoo_network(spec, args.resolution, or_file=True)
        else:
            if args.resolution is not None:
                raise InstanceError("--resolution applies to a zoo network, not to a file", file=spec)
            if read_document(spec, "network").get("format") == NETWORK_FORMAT:
                network = load_network(spec)
            else:
                inst = load_instance(spec)
                network, batch = inst.network, batch or inst.batch
        network_to_onnx(network, args.output, batch=batch or 1)
        print(f"network {network.name} ({len(network.layer_ids)} layers) written to {args.output} as a shape-only "
              f"ONNX graph (batch {batch or 1})")
        return EXIT_OK
    from .show import draw_schedule

    inst = _load(args)
    sched = load_schedule(args.schedule)
    engine = draw_schedule(inst, sched, args.output, engine=args.engine)
    what = {"dot-source": "Graphviz source", "graphviz": "Graphviz drawing"}.get(engine, "drawing")
    print(f"{what} of {inst.name} ({len(sched.groups)} groups) written to {args.output}")
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
