"""The ``optimus-opt`` command.

Exit status: 0 when a schedule was found (or a schedule is valid), 1 when none was found or a schedule is invalid,
2 on bad input (a malformed instance, an unknown solver, a bad option), 130 when interrupted. Errors go to stderr,
one line each, never a traceback: bad input names the file, the layer and the field (or the option); an error
that is a bug of optimus-opt says so in one line and exits 3 (``OPTIMUS_OPT_DEBUG=1`` shows its traceback).

Long solves show their progress on stderr when it is a terminal (:mod:`optimus_opt.utils.progress`; ``--quiet`` turns
it off); results go to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from . import solvers, zoo
from .cost.cost_model import CostModel
from .cost.energy import OBJECTIVES
from .cost.schedule import Schedule, evaluate, load_schedule
from .io.figures import energy_unit, plot_front, plot_metric_front
from .io.resolve import PAPER_SETTING, read_source, resolve_instance, zoo_network
from .model.accelerator import HALOS, TILINGS, describe_size, parse_size
from .model.errors import InstanceError, OptimusError, ScheduleError, SolverError
from .model.instance import Instance, dump_document
from .model.limits import MAX_ROWS
from .model.presets import PRESETS
from .solvers.auto import DEFAULT_TIME_LIMIT
from .solvers.charges import Charges, charge_schedule
from .solvers.coupling import RELOAD_CUTS
from .solvers.segment_bound import (
    COUPLING_ROUNDS,
    DEFAULT_OVERLAP,
    DEFAULT_SEGMENT,
    MERGED_OVERLAP,
    MERGED_SEGMENT,
    ORDERS,
    RELAXED_SEGMENT,
    segment_bound,
)
from .studies.executors import EXECUTORS
from .studies.records import RESULTS_FILE, RUN_FAILURES
from .utils import extras, progress
from .utils.deadline import Deadline
from .version import __version__

if TYPE_CHECKING:  # the studies are imported when a study runs, not for every command
    from .model.network import Network
    from .studies.study import StudyConfig

EXIT_OK, EXIT_NO_SCHEDULE, EXIT_BAD_INPUT, EXIT_BUG = 0, 1, 2, 3

#: What ``optimus-opt --help`` says (plain text: argparse prints it as it is).
DESCRIPTION = ("Decide layer fusion and tiling for a DNN accelerator with a small on-chip buffer (the Optimus "
               "framework), so that DRAM traffic is least, and prove how close to the optimum a schedule is. "
               "Start with: optimus-opt solve mobilenet_v1")
EPILOG = ("Exit status: 0 a schedule was found (or is valid), 1 none was found (or the schedule is invalid), 2 bad "
          "input, 3 a bug of optimus-opt, 130 interrupted. 'optimus-opt COMMAND --help' describes each command.")
#: Cap of --workers: more threads than this only slow a solver down (and a typo of 10**6 would start that many).
MAX_WORKERS = 256
#: Seeds are 32-bit in CP-SAT and HiGHS.
MAX_SEED = 2 ** 31 - 1

def _size(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _integer(text: str, low: int, high: int | None = None, what: str = "") -> int:
    shown = repr(text) if len(text) <= 32 else f"'{text[:16]}...' ({len(text)} characters)"
    try:
        value = int(text) if len(text) <= 100 else None
    except ValueError:
        value = None
    if value is None:
        raise argparse.ArgumentTypeError(f"not an integer: {shown}")
    if value < low:
        raise argparse.ArgumentTypeError(f"must be at least {low}, got {value:,}")
    if high is not None and value > high:
        raise argparse.ArgumentTypeError(f"must be at most {high:,}{what}, got {shown}")
    return value


def _positive(text: str) -> int:
    return _integer(text, 1)


def _non_negative(text: str) -> int:
    return _integer(text, 0)


def _count_or_all(text: str) -> int | None:
    """A count of at least 0, or ``all`` (None: no limit)."""
    if text == "all":
        return None
    try:
        return _integer(text, 0)
    except argparse.ArgumentTypeError as err:
        raise argparse.ArgumentTypeError(f"{err} (a count, or 'all')") from None


def _workers(text: str) -> int:
    return _integer(text, 1, MAX_WORKERS)


def _seed(text: str) -> int:
    return _integer(text, 0, MAX_SEED, " (a 32-bit seed)")


def _resolution(text: str) -> int:
    return _integer(text, 1, MAX_ROWS, " (the most rows the cost model takes)")


def _seconds(text: str) -> float:
    """A time limit: a positive, finite number of seconds (0 or less would stop before any work)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r} (leave the option out "
                                         "for no limit)")
    return value


def _add_instance_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("instance", metavar="INSTANCE|NETWORK",
                   help="an instance file (JSON or YAML), or a network: the name of a zoo network ('optimus-opt zoo "
                        "list'), a network file ('optimus-opt zoo export') or an ONNX model (.onnx), which runs on "
                        f"--accelerator ({PAPER_SETTING.accelerator} by default) at --batch ({PAPER_SETTING.batch} by default, an ONNX "
                        "model too)")
    p.add_argument("--accelerator", metavar="NAME|FILE",
                   help="an accelerator preset ('optimus-opt accelerators') or an accelerator file; for a network "
                        f"the default is {PAPER_SETTING.accelerator}, for an instance file it replaces the file's accelerator")
    p.add_argument("--buffer", type=_size, metavar="SIZE",
                   help="override the buffer capacity: bytes, or 128KiB / 1MiB (binary) / 128KB (decimal), at most "
                        "2^53 bytes")
    p.add_argument("--batch", type=_positive, metavar="N",
                   help=f"override the batch size (a network, ONNX models included, runs at batch {PAPER_SETTING.batch}, the "
                        "Optimus paper's, unless given)")
    p.add_argument("--resolution", type=_resolution, metavar="R",
                   help="input resolution of a zoo network (default: the network's own)")
    p.add_argument("--tiling", choices=TILINGS,
                   help="override the tiling model: strips (cost model version 2, full-width row strips, the "
                        "default) or tiles (version 3: Q_r x Q_c tiles, halos kept or recomputed, output-channel "
                        "passes, MACs; formulations/cost-model.md section 7)")
    p.add_argument("--halo", choices=HALOS,
                   help="with tiles: choose (the default: each group keeps its tiles' overlap on chip or computes "
                        "it again, whichever moves fewer bytes), cache or recompute (every group)")


def _add_objective_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--objective", choices=OBJECTIVES, default="dram",
                   help="what to minimise: dram (bytes, the default), energy or latency (formulations/energy.md); "
                        "every schedule reports all three")
    p.add_argument("--max-recompute", metavar="MACS|P%",
                   help="at most this many MACs added by recompute, or P%% of the network's own MACs (cpsat, milp)")
    p.add_argument("--max-dram", metavar="SIZE", help="at most this much DRAM traffic: bytes or 40MiB (cpsat, milp)")
    p.add_argument("--max-latency", metavar="CYCLES|TIME",
                   help="at most this latency: cycles, or 2.5ms / 300us at the accelerator's clock (cpsat, milp)")


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``optimus-opt solve: error: argument --buffer: ...`` and where to read
    more, instead of the usage block followed by the error."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="optimus-opt", description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("solve", help="find a fusion schedule for an instance",
                       description="Find the fusion schedule with the least DRAM traffic. By default (--solver "
                                   f"auto) within {DEFAULT_TIME_LIMIT:g} s: the optimus, efficient-s and greedy-merge "
                                   "heuristics, then the exact cpsat solver warm-started from the best; the answer "
                                   "says whether it is proven optimal and gives the proven lower bound.")
    _add_instance_args(p)
    p.add_argument("--solver", default="auto",
                   help=f"auto (the default: optimus, efficient-s and greedy-merge, then cpsat warm-started from "
                        f"the best, within --time-limit, {DEFAULT_TIME_LIMIT:g} s by default), or one of: "
                        f"{', '.join(n for n in solvers.registered() if n not in solvers.composite())} ('optimus-opt solvers' says "
                        "what each proves)")
    p.add_argument("--time-limit", type=_seconds, metavar="S",
                   help=f"wall-clock limit in seconds of the searching solvers (auto: {DEFAULT_TIME_LIMIT:g} s "
                        "unless given; exact-dp, cpsat, milp: none unless given)")
    p.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    p.add_argument("--workers", type=_workers, default=1, help="solver threads (default 1)")
    p.add_argument("--max-group", type=_positive, metavar="K", help="at most K layers per group (default: no cap)")
    _add_objective_args(p)
    p.add_argument("-o", "--output", metavar="OUT.json", help="write the schedule here")
    p.add_argument("--json", action="store_true", help="print the schedule JSON instead of the summary")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress line on stderr")

    p = sub.add_parser("evaluate", help="recompute and check every number of a schedule")
    _add_instance_args(p)
    p.add_argument("schedule", help="a schedule file written by 'solve -o'")
    p.add_argument("--json", action="store_true", help="print the schedule with every number recomputed")

    p = sub.add_parser("pareto", help="the exact front of DRAM traffic against buffer capacity, or of any two "
                                      "metrics (--x, --y)")
    _add_instance_args(p)
    p.add_argument("--buffers", metavar="MIN..MAX",
                   help=f"capacity range (default {DEFAULT_BUFFERS}, the Optimus paper's sweep)")
    p.add_argument("--target", type=_size, metavar="BYTES",
                   help="instead of the front: the least buffer that reaches this much DRAM traffic or less")
    p.add_argument("--recompute", action="store_true",
                   help="instead: the front of DRAM traffic against the MACs recompute adds, at the instance's "
                        "buffer (with --tiling tiles)")
    p.add_argument("--x", metavar="METRIC",
                   help="with --y, instead: the exact front of any two of dram (bytes), energy (fJ), latency "
                        "(cycles), recompute (added MACs) and buffer (the capacity, over --buffers); each corner "
                        "the least x at its y")
    p.add_argument("--y", metavar="METRIC", help="the front's other metric (see --x)")
    p.add_argument("--max-group", type=_positive, metavar="K", help="at most K layers per group (default: no cap)")
    p.add_argument("--time-limit", type=_seconds, metavar="S", help="stop the sweep after S seconds (corners found "
                   "so far are exact)")
    p.add_argument("-o", "--output", metavar="FRONT.json", help="write the front (with each corner's groups)")
    p.add_argument("--plot", metavar="FRONT.png|svg", help="draw the front (needs matplotlib)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress line on stderr")

    p = sub.add_parser("bound", help="a proven lower bound of every schedule's DRAM traffic (the segment bound)",
                       description="Prove that no schedule moves fewer bytes than the segment bound: exact dynamic "
                                   "programs over windows of consecutive layers (in an order that keeps each tensor's "
                                   "readers together) under a cost that never exceeds a "
                                   "group's, summed, then raised by Lagrangian multipliers that make overlapping "
                                   "windows agree (formulations/segment-bound.md). Useful where no exact solver "
                                   "finishes (NASNet-A Mobile).")
    _add_instance_args(p)
    p.add_argument("--segment", type=_positive, default=DEFAULT_SEGMENT, metavar="L",
                   help=f"layers per segment (default {DEFAULT_SEGMENT})")
    p.add_argument("--overlap", type=_non_negative, default=DEFAULT_OVERLAP, metavar="O",
                   help=f"layers each window shows beyond its segment on either side (default {DEFAULT_OVERLAP})")
    p.add_argument("--order", choices=ORDERS, default=ORDERS[0],
                   help="the order of the layers the windows are runs of: live, next the layer that leaves the "
                        "fewest bytes awaiting a reader; ids, the network's own (default live)")
    p.add_argument("--rounds", type=_non_negative, default=COUPLING_ROUNDS, metavar="R",
                   help=f"rounds of the coupling of the windows at most; 0: the plain sum (default {COUPLING_ROUNDS})")
    p.add_argument("--planes", action="store_true", help="once the coupling's subgradient steps are spent, spend "
                   "its rounds left climbing by cutting planes (more bound, more time; formulations/segment-bound.md, "
                   "\"The planes\")")
    p.add_argument("--reload-cuts", type=_count_or_all, default=RELOAD_CUTS, metavar="N",
                   help=f"reload cuts leveled per window at most, or 'all' (default {RELOAD_CUTS}; more prove more, "
                        "each round slower)")
    p.add_argument("--upper", metavar="SCHEDULE|BYTES", help="a schedule of the instance (a file of solve -o), or "
                   "a byte count: the coupling fixes the pieces no cheaper schedule can use by their reduced costs, "
                   "which makes its rounds faster; the bound is then the least of it and the upper bound "
                   "(formulations/segment-bound.md, \"Fixing\")")
    p.add_argument("--max-group", type=_positive, metavar="K", help="bound the schedules with at most K layers per "
                   "group (default: no cap)")
    p.add_argument("--time-limit", type=_seconds, metavar="S", help="stop after S seconds: the windows not solved "
                   "count only their compulsory traffic, so the result is still a bound (default: no limit)")
    p.add_argument("--no-widen", dest="widen", action="store_false", help="with --time-limit, stop once every "
                   "window is solved and coupled, instead of widening the windows core by core in the time left "
                   "(with their feeders, then of cores joined as --merge and --relax say, then to overlap 8 and 12)")
    p.add_argument("--merge", type=_non_negative, default=MERGED_SEGMENT, metavar="L",
                   help="when widening, join consecutive cores into cores of at most L layers, each window at overlap "
                        f"{MERGED_OVERLAP} (default {MERGED_SEGMENT}, about a NASNet cell; 0: never)")
    p.add_argument("--relax", type=_non_negative, default=RELAXED_SEGMENT, metavar="L",
                   help="when widening, after --merge, join consecutive cores again into cores of at most L layers, "
                        f"each window bounded by its LP relaxation (default {RELAXED_SEGMENT}; 0: never)")
    p.add_argument("--no-feeders", dest="feeders", action="store_false", help="windows are runs of the order only, "
                   "without the producers of what their core reads from beyond them")
    p.add_argument("--jobs", type=_workers, default=1, help="windows solved at once (wider and merged ones too), "
                   "each in a process of its own (default 1); the same bound, sooner on a machine with that many "
                   "cores")
    p.add_argument("--charge", metavar="SCHEDULE", help="charge this schedule of the instance (a file of solve -o) "
                   "window by window: what each window charges it beside what the window proved, and its bytes no "
                   "window charges (formulations/segment-bound.md, \"Charging a schedule\")")
    p.add_argument("--json", action="store_true", help="print the bound and its figures as JSON")

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
    q.add_argument("--resolution", type=_resolution, metavar="R", help="input resolution (default: the network's own)")
    q.add_argument("-o", "--output", metavar="FILE",
                   help="write here (JSON, or YAML for .yaml/.yml) instead of to standard output")
    _add_study_parsers(sub)
    return parser


def _load(args: argparse.Namespace) -> Instance:
    """The instance of ``solve``, ``evaluate``, ``show``, ``pareto`` and ``bound``: the argument with the command
    line's accelerator, buffer, batch, resolution, tiling and halo (:func:`optimus_opt.io.resolve.resolve_instance`);
    a note on stderr says when an ONNX model was exported at another batch than it runs at. A ``--halo`` that needs
    ``--tiling tiles`` is refused naming the option."""
    try:
        return resolve_instance(args.instance, accelerator=args.accelerator, buffer=args.buffer, batch=args.batch,
                                resolution=args.resolution, tiling=args.tiling, halo=args.halo, note=_note)
    except InstanceError as err:
        if args.halo is not None and err.field == "accelerator.halo" and not err.file:  # the option is at fault
            raise InstanceError(f"halo {args.halo} needs --tiling tiles (the instance tiles in strips, which keep "
                                "every overlap on chip and have no halo to choose)", field="--halo") from None
        raise


def _note(text: str) -> None:
    print(f"optimus-opt: note: {text}", file=sys.stderr)


def _capability_line(cls: type[solvers.Solver]) -> str:
    """What ``optimus-opt solvers`` says a solver proves and takes, from the capabilities its class states."""
    proves = "proves: the optimum and infeasibility" if cls.exact else \
        "proves: what its exact phase proves" if cls.composite else "proves: nothing (heuristic)"
    takes = ["--time-limit"] if cls.timed else []
    takes += ["--workers"] if cls.threaded else []
    extra = f"; options: {', '.join(cls.extra_options)}" if cls.extra_options else ""
    return f"{proves}; takes {', '.join(takes) if takes else 'no time limit'}{extra}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(argv) if argv is not None else sys.argv[1:]  # the manifest of a study records the command
    try:
        try:
            status = _run(parser, args)
        except (BrokenPipeError, KeyboardInterrupt):
            raise
        except Exception as err:  # noqa: BLE001 - a bug of ours: one line that says so, never a traceback
            if os.environ.get("OPTIMUS_OPT_DEBUG"):
                raise
            print(f"optimus-opt: internal error (a bug of optimus-opt, please report it with the command): "
                  f"{_bug_text(err)}; OPTIMUS_OPT_DEBUG=1 shows the traceback", file=sys.stderr)
            return EXIT_BUG
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


def _bug_text(err: BaseException) -> str:
    import traceback

    tb = traceback.extract_tb(err.__traceback__)
    where = f" at {Path(tb[-1].filename).name}:{tb[-1].lineno} in {tb[-1].name}" if tb else ""
    return f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}{where}"


def check_output(path: str, option: str) -> None:
    """Refuse, before any work, an output path that cannot be written: a directory, or a file in a folder that
    does not exist (``option`` names the command-line option in the message)."""
    target = Path(path)
    if target.is_dir():
        raise InstanceError(f"is a directory; {option} takes a file name", file=path, field=option)
    parent = target.parent
    if not parent.is_dir():
        what = "is not a folder" if parent.exists() else "does not exist"
        raise InstanceError(f"the folder '{parent}' {what}; create it first or write elsewhere", file=path,
                            field=option)


def _check_outputs(args: argparse.Namespace) -> None:
    for attr, option in (("output", "--output"), ("plot", "--plot")):
        value = getattr(args, attr, None)
        if isinstance(value, str) and value:
            check_output(value, option)


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    try:
        _check_outputs(args)
        if args.command == "solve":
            return _solve(args)
        if args.command == "evaluate":
            return _evaluate(args)
        if args.command in ("import-onnx", "export-onnx"):
            extras.require("onnx", f"{args.command} needs")  # said before any work, with the command that works
        if args.command in ("import-onnx", "export-onnx", "show"):
            return _onnx_or_show(args)
        if args.command == "solvers":
            for name in solvers.registered():
                cls = solvers.capabilities(name)
                mark = "" if cls.is_available() else "  (not installed: needs " + ", ".join(cls.requires) + ")"
                print(f"{name:14s} {cls.description}{mark}")
                print(f"{'':14s}   {_capability_line(cls)}")
            return EXIT_OK
        if args.command == "pareto":
            return _pareto(args)
        if args.command == "bound":
            return _bound(args)
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
        if err.kind == "format":  # an unreadable or malformed schedule file is bad input
            print(f"optimus-opt: error: {err.message}", file=sys.stderr)
            return EXIT_BAD_INPUT
        print(f"optimus-opt: {err}", file=sys.stderr)
        return EXIT_NO_SCHEDULE
    except OptimusError as err:  # any other deliberate error
        print(f"optimus-opt: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        raise
    except OSError as err:  # writing an output failed (disk full, permissions, a path that changed meanwhile)
        where = f"{err.filename}: " if err.filename else ""
        print(f"optimus-opt: error: {where}{err.strerror or err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("optimus-opt: interrupted", file=sys.stderr)
        return 130
    parser.error(f"unknown command {args.command}")
    return EXIT_BAD_INPUT


#: Seconds ``solve`` spends, after an infeasible answer, looking for the least buffer that has a schedule.
DIAGNOSIS_SECONDS = 10.0


def _solve(args: argparse.Namespace) -> int:
    inst = _load(args)
    solvers.get(args.solver)  # an unknown or missing solver: refused before anything is printed
    solvers.capabilities(args.solver).check_budgets(solvers.budgets_for(  # refused before anything is printed
        inst, max_recompute=args.max_recompute, max_dram=args.max_dram, max_latency=args.max_latency))
    if not args.json:
        print(header(inst), flush=True)  # what is being solved, before a solve that may take a while
    reporter = progress.for_terminal(quiet=args.quiet)
    explanation: list[str] = []
    reporter.solver(args.solver)
    try:
        sched = solvers.solve(inst, args.solver, time_limit=args.time_limit, seed=args.seed, workers=args.workers,
                              max_group=args.max_group, progress=None if reporter is progress.NULL else reporter,
                              objective=args.objective, max_recompute=args.max_recompute, max_dram=args.max_dram,
                              max_latency=args.max_latency)
        if sched.status == "infeasible" and not args.json:
            from .solvers.diagnose import explain

            reporter.solver("diagnosis")
            why, least = explain(inst, sched.unplaced, time_limit=args.time_limit or DIAGNOSIS_SECONDS,
                                 reporter=reporter)
            explanation = [f"{'why' if k == 0 else '':<12} {line}" for k, line in enumerate(why)]
            explanation.append(f"least buffer {least}")
    finally:
        reporter.close()
    if args.output:
        Path(args.output).write_text(sched.to_json())
    if args.json:
        sys.stdout.write(sched.to_json())
    else:
        print(body(sched, clock_mhz=inst.accelerator.clock_mhz))
        for line in explanation:
            print(line)
        if args.output:
            print(f"schedule written to {args.output}")
    return EXIT_OK if sched.status in ("optimal", "feasible") else EXIT_NO_SCHEDULE


def _evaluate(args: argparse.Namespace) -> int:
    inst = _load(args)
    sched = load_schedule(args.schedule)
    try:
        ev = evaluate(inst, sched)
    except ScheduleError as err:  # an invalid schedule names its file: it may be another instance's
        if err.kind == "format":
            raise
        print(f"optimus-opt: {args.schedule}: {err}", file=sys.stderr)
        return EXIT_NO_SCHEDULE
    if args.json:
        sys.stdout.write(ev.schedule.to_json())
        return EXIT_OK
    print(summary(inst, ev.schedule))
    print("valid: every group is convex, connected, in topological order and fits the buffer; "
          "the stated numbers agree with the cost model")
    for k in ev.suboptimal_groups:
        best = ev.tilings[k]
        print(f"note: group {k} uses a tiling that costs more than its best one ({best.cost:,} bytes as given)")
    return EXIT_OK


def _buffer_range(text: str) -> tuple[int, int]:
    low, sep, high = text.partition("..")
    if not sep:
        raise InstanceError(f"expected MIN..MAX, got {text!r}", field="--buffers")
    try:
        return parse_size(low), parse_size(high)
    except ValueError as err:
        raise InstanceError(str(err), field="--buffers") from None


#: What ``pareto --plot`` draws to.
PLOT_FORMATS = (".png", ".svg", ".pdf")
#: The capacities ``pareto`` sweeps unless ``--buffers`` says otherwise.
DEFAULT_BUFFERS = "16KiB..1MiB"


def _upper_bytes(inst: Instance, text: str) -> int:
    """``bound --upper``: a byte count, or the bytes a schedule file of the instance moves."""
    if text.replace(",", "").isdigit():
        return int(text.replace(",", ""))
    return evaluate(inst, load_schedule(text)).dram_bytes


def _bound(args: argparse.Namespace) -> int:
    inst = _load(args)
    sched = None if args.charge is None else load_schedule(args.charge)  # a bad file is refused before the work
    upper = None if args.upper is None else _upper_bytes(inst, args.upper)
    if not args.json:
        print(header(inst), flush=True)
    cm = CostModel(inst)  # the arguments' ranges are checked by their parsers
    result = segment_bound(cm, args.segment, args.overlap, Deadline.after(args.time_limit), args.max_group,
                           coupling_rounds=args.rounds, order=args.order, widen=args.widen,
                           feeders=args.feeders, merge=args.merge, relax=args.relax, jobs=args.jobs,
                           planes=args.planes, reload_cuts=args.reload_cuts, upper=upper)
    compulsory = cm.compulsory_bytes()
    coupled = result.coupling
    charges = None if sched is None else charge_schedule(inst, result, sched, args.max_group)
    if args.json:
        print(json.dumps({"instance": inst.name, "lower_bound_bytes": result.bytes, "compulsory_bytes": compulsory,
                          "feasible": result.feasible, "complete": result.complete,
                          "order": args.order, "window_order": list(result.order),
                          "segments": [list(span) for span in result.segments],
                          "per_segment_bytes": list(result.per_segment), "finished": list(result.finished),
                          "overlaps": list(result.overlaps), "feeders": result.feeders, "merged": result.merged,
                          "relaxed": result.relaxed, "memory_short": result.memory_short,
                          "plain_bytes": sum(result.per_segment),
                          "coupling": None if coupled is None else {
                              "bytes": coupled.bytes, "rounds": coupled.rounds, "multipliers": coupled.multipliers,
                              "cuts": coupled.cuts, "kept": coupled.kept, "reload_cuts": coupled.reload_cuts,
                              "planes": coupled.planes, "disagreements": coupled.disagreements,
                              "fixed": coupled.fixed, "seconds": round(coupled.seconds, 3)},
                          "upper_bytes": upper,
                          "crossing_bytes": result.crossing_bytes, "pieces": result.pieces,
                          "downsets": result.downsets, "seconds": round(result.seconds, 3),
                          "max_group": args.max_group} | ({} if charges is None else {"charges": charges.to_dict()}),
                         indent=2))
        return EXIT_OK
    scope = "every schedule" if args.max_group is None else f"every schedule of groups of at most {args.max_group} layers"
    print(f"{'lower bound':<12} {result.bytes:,} B: {scope} moves at least this much")
    print(f"{'compulsory':<12} {compulsory:,} B (inputs, outputs and weights once)")
    print(f"{'windows':<12} {sum(result.finished)} of {len(result.segments)} solved exactly (segments of at most "
          f"{args.segment} layers of the {args.order} order, overlap {args.overlap}, {result.feeders} feeders taken "
          "in); the others count their compulsory traffic")
    if result.merged:
        print(f"{'merged':<12} {result.merged} windows of joined cores in the time left (at most {args.merge} layers, "
              f"overlap {MERGED_OVERLAP}), each proving at least as much as the windows it replaces")
    if result.relaxed:
        print(f"{'by LP':<12} {result.relaxed} windows of cores joined again (at most {args.relax} layers), each "
              "bounded by its LP relaxation to at least what the windows it replaces prove; they hold no multipliers")
    wider = sorted({o for o in result.overlaps if o > args.overlap})
    if wider:
        print(f"{'widened':<12} {sum(o > args.overlap for o in result.overlaps)} windows in the time left, to overlap "
              f"{' or '.join(map(str, wider))}, each proving at least as much alone and coupled again")
    if result.memory_short:
        print(f"{'memory':<12} the widening stopped where the memory left would not hold the next window's pieces; "
              "the windows taken in so far were coupled in the time left")
    if coupled is not None:
        agree = "they agree" if not coupled.disagreements else f"{coupled.disagreements} still differ"
        print(f"{'coupled':<12} {sum(result.per_segment):,} B summed, {coupled.bytes:,} B after {coupled.rounds} "
              f"rounds ({coupled.planes} by cutting planes) of {coupled.multipliers} multipliers "
              f"({coupled.multipliers - coupled.cuts - coupled.kept - coupled.reload_cuts} on shared pairs, "
              f"{coupled.cuts} on capacity cuts, {coupled.reload_cuts} on reload cuts, {coupled.kept} on kept stores; "
              f"{agree}), {coupled.seconds:.2f} s")
    if upper is not None:
        optimal = " (the bound reaches it: no schedule moves fewer bytes)" if result.bytes >= upper else ""
        print(f"{'fixing':<12} by the upper bound {upper:,} B{optimal}: {0 if coupled is None else coupled.fixed:,} "
              "transitions of the windows' graphs cut, used by no cheaper schedule")
    print(f"{'unseen':<12} {result.crossing_bytes:,} B of tensors cross the cuts (the windows see them only in "
          "part)")
    print(f"{'work':<12} {result.pieces:,} pieces, {result.downsets:,} down-sets, {result.seconds:.2f} s")
    if not result.feasible:
        print(f"{'infeasible':<12} a window has no schedule, so the instance has none")
    if charges is not None:
        print(charges_text(charges, args.charge, inst.network))
    return EXIT_OK


def charges_text(charges: Charges, file: str, network: Network) -> str:
    """The schedule charged by the bound's windows, as ``bound --charge`` prints it: totals, a line a window."""
    unseen = "" if charges.uncharged is None else f", {charges.uncharged:,} B of it charged by no window"
    total = (f"{'charged':<12} {file}: {charges.schedule_bytes:,} B; the solved windows charge {charges.charged:,} B"
             f"{unseen}, {charges.excess:,} B beyond what each proved alone (the schedule is "
             f"{charges.schedule_bytes - charges.bound_bytes:,} B above the bound)")
    lines = [total,
             f"  {'window':>6} {'proved':>13} {'charged':>13} {'excess':>12}  core (first .. last layer)"]
    for k, w in enumerate(charges.windows):
        charged, excess = ("not solved", "") if w.charged is None else (f"{w.charged:,}", f"{w.excess:,}")
        lines.append(f"  {k:>6} {w.proven:>13,} {charged:>13} {excess:>12}  {network.layers[w.first].name} .. "
                     f"{network.layers[w.last].name}")
    return "\n".join(lines)


def _pareto(args: argparse.Namespace) -> int:
    from .solvers.pareto import FrontInterrupted, least_buffer, pareto_front

    if args.plot and args.target is None:  # refused now, not after minutes of solving
        if Path(args.plot).suffix.lower() not in PLOT_FORMATS:
            raise InstanceError(f"cannot draw to '{Path(args.plot).suffix or Path(args.plot).name}' (formats: "
                                f"{', '.join(PLOT_FORMATS)})", file=args.plot, field="--plot")
        extras.require("plot", "--plot needs")
    if args.x is not None or args.y is not None:
        return _metric_front(args)
    inst = _load(args)
    if args.recompute:
        solvers.get("cpsat")  # that front is computed with CP-SAT: a missing OR-Tools is said before any work
        return _recompute_front(inst, args)
    low, high = _buffer_range(args.buffers or DEFAULT_BUFFERS)
    if low > high:
        raise InstanceError(f"MIN {low:,} B is larger than MAX {high:,} B", field="--buffers")
    reporter = progress.for_terminal(quiet=args.quiet)
    reporter.solver("pareto")
    listen = None if reporter is progress.NULL else reporter
    if args.target is not None:
        try:
            point = least_buffer(inst, args.target, high, max_group=args.max_group, time_limit=args.time_limit,
                                 reporter=listen)
        finally:
            reporter.close()
        if point is None:
            print(f"no schedule moves at most {args.target:,} B of DRAM traffic with up to {high:,} B of buffer")
            return EXIT_NO_SCHEDULE
        print(f"least buffer for at most {args.target:,} B: {describe_size(point.buffer_bytes)}, where the optimum "
              f"is {point.dram_bytes:,} B in {_count(len(point.schedule.groups), 'group')}")
        return EXIT_OK

    def show(point) -> None:
        reporter.update(corners=None)
        line = (f"  {point.buffer_bytes:>12,} B {point.buffer_bytes / 1024:>9,.1f} KiB {point.dram_bytes:>16,} B "
                f"{len(point.schedule.groups):>7}")
        if isinstance(reporter, progress.StatusLine):
            reporter.print_above(line)
        else:
            print(line, flush=True)

    print(f"exact traffic/capacity front of {inst.name}, {low:,}..{high:,} B (each corner: the least buffer at "
          "which that traffic is optimal)", flush=True)
    print(f"  {'buffer':>14} {'':>12} {'DRAM traffic':>18} {'groups':>7}", flush=True)
    try:
        front = pareto_front(inst, low, high, max_group=args.max_group, time_limit=args.time_limit, progress=show,
                             reporter=listen)
    except FrontInterrupted as stop:  # what was found is written, marked partial; then exit 130 as any Ctrl-C
        reporter.close()
        _front_outputs(stop.front, args)
        raise
    finally:
        reporter.close()
    if not front.points and front.complete:
        print(f"no schedule fits any buffer up to {high:,} B")
    _front_outputs(front, args)
    return EXIT_OK if front.points else EXIT_NO_SCHEDULE


def _front_outputs(front, args: argparse.Namespace) -> None:
    """The traffic/capacity front's last line, its file (``-o``) and its plot (``--plot``), each marked partial
    when the sweep stopped early."""
    _front_written(front, args, "the front below the last corner is missing")
    if args.plot:
        plot_front(front, args.plot)
        print(f"plot written to {args.plot}" + ("" if front.complete else f" (partial: {front.stopped})"))


def _recompute_front(inst, args: argparse.Namespace) -> int:
    """``pareto --recompute``: the exact front of DRAM traffic against the MACs that recompute adds."""
    from .solvers.pareto import FrontInterrupted, recompute_front

    if inst.accelerator.tiling != "tiles":
        raise InstanceError("the traffic/recompute front needs 2-D tiles (strips recompute nothing): add "
                            "--tiling tiles", field="--recompute")
    reporter = progress.for_terminal(quiet=args.quiet)
    reporter.solver("pareto --recompute (cpsat)")
    try:
        front = recompute_front(inst, max_group=args.max_group, time_limit=args.time_limit,
                                reporter=None if reporter is progress.NULL else reporter)
    except FrontInterrupted as stop:  # the corners found are printed and written, marked partial; then exit 130
        reporter.close()
        front = stop.front
        _recompute_lines(inst, front)
        _front_written(front, args, "the corners with fewer MACs are missing")
        raise
    finally:
        reporter.close()
    _recompute_lines(inst, front)
    _front_written(front, args, "the corners with fewer MACs are missing")
    return EXIT_OK if front.points else EXIT_NO_SCHEDULE


def _metric_front(args: argparse.Namespace) -> int:
    """``pareto --x X --y Y``: the exact front of any two metrics, its table, file and plot."""
    from .solvers.pareto import FrontInterrupted, check_metrics, metric_front

    if args.x is None or args.y is None:
        raise InstanceError("a front of two metrics needs both --x and --y (dram, energy, latency, recompute, "
                            "buffer)", field="--y" if args.y is None else "--x")
    check_metrics(args.x, args.y)  # refused before the instance is read
    for flag, given, what in (("--recompute", args.recompute, "the traffic/recompute front (--x recompute --y dram "
                                "draws it too)"), ("--target", args.target is not None, "the least buffer for a "
                                                   "traffic target")):
        if given:
            raise InstanceError(f"{flag} asks for {what}; leave it out with --x and --y", field=flag)
    inst = _load(args)
    if "recompute" in (args.x, args.y) and inst.accelerator.tiling != "tiles":
        raise InstanceError("a front of the MACs recompute adds needs 2-D tiles (strips recompute nothing): add "
                            "--tiling tiles", field="--x" if args.x == "recompute" else "--y")
    if "buffer" in (args.x, args.y):
        low, high = _buffer_range(args.buffers or DEFAULT_BUFFERS)
        if low > high:
            raise InstanceError(f"MIN {low:,} B is larger than MAX {high:,} B", field="--buffers")
        where, bounds = f"{low:,}..{high:,} B", {"min_buffer": low, "max_buffer": high}
    elif args.buffers:
        raise InstanceError("--buffers is the range of a front against the buffer; this front is at the instance's "
                            "buffer (set it with --buffer)", field="--buffers")
    else:
        where, bounds = f"at {describe_size(inst.accelerator.buffer_bytes)}", {}
    print(f"exact front of {args.y} against {args.x} of {inst.name}, {where} (each corner: the least {args.x} at "
          f"which that {args.y} is reached)", flush=True)
    reporter = progress.for_terminal(quiet=args.quiet)
    reporter.solver(f"pareto --x {args.x} --y {args.y}")
    missing = "the corners past the last one found are missing"
    try:
        front = metric_front(inst, args.x, args.y, max_group=args.max_group, time_limit=args.time_limit,
                             reporter=None if reporter is progress.NULL else reporter, **bounds)
    except FrontInterrupted as stop:  # the corners found are printed and written, marked partial; then exit 130
        reporter.close()
        _metric_outputs(stop.front, args, missing)
        raise
    finally:
        reporter.close()
    _metric_outputs(front, args, missing)
    return EXIT_OK if front.points else EXIT_NO_SCHEDULE


def _metric_outputs(front, args: argparse.Namespace, missing: str) -> None:
    """A two-metric front's table (x then y, each in its unit; the groups), last line, file and plot."""
    from .solvers.pareto import FRONT_UNITS

    columns = []  # (heading, how a value is shown)
    for metric, values in ((front.x, [p.x for p in front.points]), (front.y, [p.y for p in front.points])):
        if metric == "energy":
            scale, unit = energy_unit(values)
            columns.append((f"energy ({unit})", lambda v, s=scale: f"{v / s:,.6f}"))
        else:
            columns.append((f"{metric} ({FRONT_UNITS[metric]})", lambda v: f"{v:,}"))
    width = [max(18, len(name)) for name, _ in columns]
    print("  " + " ".join(f"{name:>{w}}" for (name, _), w in zip(columns, width)) + f" {'groups':>7}")
    for p in front.points:
        cells = [show(v) for (_, show), v in zip(columns, (p.x, p.y))]
        print("  " + " ".join(f"{c:>{w}}" for c, w in zip(cells, width)) + f" {len(p.schedule.groups):>7}")
    if not front.points and front.complete:
        print("no schedule fits" + (f" any buffer up to {front.max_buffer:,} B" if "buffer" in (front.x, front.y)
                                    else " the buffer"))
    _front_written(front, args, missing)
    if args.plot:
        plot_metric_front(front, args.plot)
        print(f"plot written to {args.plot}" + ("" if front.complete else f" (partial: {front.stopped})"))


def _recompute_lines(inst, front) -> None:
    """The traffic/recompute front's table (printed at the end: its corners come in a few seconds)."""
    own = inst.network.total_macs * inst.batch
    print(f"exact traffic/recompute front of {inst.name} at {describe_size(inst.accelerator.buffer_bytes)} (each "
          "corner: the fewest added MACs at which that traffic is optimal)")
    print(f"  {'added MACs':>18} {'of own':>8} {'DRAM traffic':>18} {'groups':>7}")
    for p in front.points:
        print(f"  {p.added_macs:>18,} {p.added_macs / own:>8.2%} {p.dram_bytes:>16,} B {len(p.schedule.groups):>7}")


def _front_written(front, args: argparse.Namespace, missing: str) -> None:
    """A front's last line (its corners, its time, what a stop left out) and its file with ``-o``, which says
    ``"partial": true`` and why when the time limit or Ctrl-C stopped the sweep."""
    why = "stopped at the time limit" if front.stopped == "time limit" else front.stopped
    print(f"{_count(len(front.points), 'corner')} in {front.seconds:.2f} s"
          + ("" if front.complete else f" ({why}: {missing})"), flush=True)
    if args.output:
        Path(args.output).write_text(json.dumps(front.to_dict(), indent=1) + "\n")
        print(f"front written to {args.output}" + ("" if front.complete else f" (partial: {front.stopped})"),
              flush=True)


def _zoo_export(args: argparse.Namespace) -> int:
    network = zoo_network(args.name, args.resolution)
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
    width = max(len("network"), *map(len, zoo.names()))
    head = (f"{'network':<{width}} {'res':>4} {'layers':>6} {'weights':>12} {'published':>10} {'diff':>7} "
            f"{'MACs':>16} {'published':>10} {'diff':>7}")
    lines = [head]
    for name, entry in zoo.entries().items():
        net = entry.build(entry.resolution)
        pub_w = f"{entry.published_params / 1e6:.4g} M" if entry.published_params else "-"
        pub_m = f"{entry.published_macs / 1e9:.4g} G" if entry.published_macs else "-"
        lines.append(f"{name:<{width}} {entry.resolution:>4} {len(net.layer_ids):>6} {net.total_weight_words:>12,} "
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
    lines = [f"{'name':<17} {'buffer':>25} {'word':>4} {'Tc':>3} {'PEs':>7} {'pJ DRAM/buf/RF/MAC':>19} {'MHz':>5} "
             f"{'MB/s':>7}"]
    for acc in PRESETS:
        buffer = describe_size(acc.buffer_bytes)
        pes = "x".join(map(str, acc.pe_array)) if acc.pe_array else "-"
        pj = "/".join(f"{getattr(acc, k):g}" for k in ("dram_pj", "buffer_pj", "rf_pj", "mac_pj"))
        lines.append(f"{acc.name:<17} {buffer:>25} {acc.word_bytes:>4} {acc.channel_tile:>3} {pes:>7} {pj:>19} "
                     f"{acc.clock_mhz:>5,} {acc.dram_mbps:>7,}")
        if verbose:
            lines.append(f"    {acc.description}")
            lines.append(f"    source: {acc.source}")
    if not verbose:
        lines.append("Tc: channel tile; pJ per word (DRAM, buffer), per access (register file), per MAC; clock and DRAM "
                     "bandwidth of the latency model (formulations/energy.md); -v says where each number comes from")
    lines.append("Every preset tiles in strips (cost model version 2); --tiling tiles (or \"tiling\": \"tiles\" in an "
                 "accelerator file) prices it in 2-D tiles (version 3), --halo cache|recompute fixes the halo mode")
    return "\n".join(lines)


def summary(inst: Instance, sched: Schedule, *, max_rows: int = 60) -> str:
    """The short human summary that ``solve`` and ``evaluate`` print: :func:`header`, then :func:`body`."""
    return header(inst, sched.instance) + "\n" + body(sched, max_rows=max_rows,
                                                       clock_mhz=inst.accelerator.clock_mhz)


def header(inst: Instance, name: str | None = None) -> str:
    """What is solved: the instance, its network and its accelerator (printed before a solve starts)."""
    net, acc = inst.network, inst.accelerator
    return "\n".join([
        f"instance     {name or inst.name}: network {net.name} ({_count(len(net.layer_ids), 'layer')}, "
        f"{net.total_weight_words:,} weights, {net.total_macs / 1e6:,.1f} M MACs per sample)",
        f"accelerator  {acc.name}: buffer {describe_size(acc.buffer_bytes)}, {acc.word_bytes}-byte words, "
        f"channel tile {acc.channel_tile}; batch {inst.batch}",
        f"tiling       {tiling_model(acc)}",
    ])


def tiling_model(acc) -> str:
    """The tiling model of an accelerator in words, as the header prints it."""
    if acc.tiling == "strips":
        return "strips: full-width row strips (cost model version 2; --tiling tiles for 2-D tiles)"
    halo = {"choose": "each group keeps its halo on chip or recomputes it, whichever moves fewer bytes",
            "cache": "every group keeps its halo on chip", "recompute": "every group recomputes its halo rows"}
    return f"tiles, halo {acc.halo}: Q_r x Q_c tiles, {halo[acc.halo]} (cost model version 3)"


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def energy_text(fj: int) -> str:
    """An energy in fJ as people read it: ``95.16 µJ (95,163,667.8 pJ)``."""
    pj = fj / 1000
    for unit, scale in (("J", 1e12), ("mJ", 1e9), ("µJ", 1e6), ("nJ", 1e3)):
        if pj >= scale:
            return f"{pj / scale:,.2f} {unit} ({pj:,.1f} pJ)"
    return f"{pj:,.3f} pJ"


def latency_text(cycles: int, clock_mhz: int | None) -> str:
    """A latency in cycles, with its time at the clock when known: ``462,880 cycles (462.9 µs at 1,000 MHz)``."""
    if not clock_mhz:
        return f"{cycles:,} cycles"
    us = cycles / clock_mhz
    time = f"{us / 1000:,.3f} ms" if us >= 1000 else f"{us:,.1f} µs"
    return f"{cycles:,} cycles ({time} at {clock_mhz:,} MHz)"


def objective_text(value: int, objective: str, clock_mhz: int | None = None) -> str:
    """A value of the objective in its units."""
    if objective == "energy":
        return energy_text(value)
    if objective == "latency":
        return latency_text(value, clock_mhz)
    return f"{value:,} B"


def bound_text(sched: Schedule, clock_mhz: int | None = None) -> str | None:
    """The lower bound as the summary prints it, saying over which schedules it holds when that is not all."""
    if sched.bound is None:
        return None
    gap = sched.gap
    text = objective_text(sched.bound, sched.objective, clock_mhz) + \
        (f" (gap {gap_text(gap)})" if gap is not None else "")
    scope = sched.solver_info.get("bound_scope", "all")
    if scope and scope != "all":
        cap = sched.solver_info.get("max_group")
        where = f"groups of at most {cap} layers" if scope == f"max_group={cap}" else f"schedules with {scope}"
        text += f", a bound over {where} only: not a bound over all schedules"
    return text


def gap_text(gap: float) -> str:
    """A gap as a percentage with at most two decimals (``49.81%``); a positive gap too small to show is
    ``< 0.01%``, never ``0.00%``, which would read as optimal."""
    return "< 0.01%" if 0 < gap < 0.00005 else f"{gap:.2%}"


def _phases_text(info) -> str | None:
    """What ``auto`` ran: each solver with its status, bytes and seconds, and whose schedule it kept."""
    phases = info.get("phases")
    if not phases:
        return None
    parts = []
    for ph in phases:
        what = ph["solver"] + (f" warm-started from {ph['warm_start']}" if ph.get("warm_start") else "")
        found = f", {ph['dram_bytes']:,} B" if ph.get("dram_bytes") is not None else ""
        parts.append(f"{what} ({ph['status']}{found}, {ph['seconds']:.2f} s)")
    chosen = info.get("chosen")
    return ", then ".join(parts) + (f"; kept {chosen}'s schedule" if chosen else "") + \
        (f"; limit {info['time_limit_s']:g} s" if info.get("time_limit_s") else "")


def body(sched: Schedule, *, max_rows: int = 60, clock_mhz: int | None = None) -> str:
    """The result: which solver ran and what it proved, the traffic, energy and latency, the bound, the groups."""
    lines = [
        f"solver       {sched.solver}: {sched.status}"
        + (f" — over {sched.solver_info['space']}" if sched.solver_info.get("space") else ""),
    ]
    if sched.objective != "dram":
        lines.append(f"objective    {sched.objective} (formulations/energy.md)")
    budgets = sched.solver_info.get("budgets")
    if budgets:
        lines.append("budgets      " + ", ".join(f"{k.replace('_', '-')} {v:,}" for k, v in budgets.items()))
    ran = _phases_text(sched.solver_info)
    if ran:
        lines.append(f"ran          {ran}")
    if sched.dram_bytes is not None:
        ratio = sched.dram_bytes / sched.compulsory_bytes if sched.compulsory_bytes else float("nan")
        lines.append(f"DRAM traffic {sched.dram_bytes:,} B ({ratio:.3f} x compulsory {sched.compulsory_bytes:,} B)")
    elif sched.compulsory_bytes is not None:
        lines.append(f"DRAM traffic none found (compulsory {sched.compulsory_bytes:,} B)")
    if sched.macs is not None:
        added = sched.added_macs or 0
        share = f", {added / (sched.macs - added):+.2%}" if added and sched.macs > added else ""
        lines.append(f"MACs         {sched.macs:,}" + (f" ({added:,} recomputed{share})" if added else ""))
    if sched.energy_fj is not None:
        lines.append(f"energy       {energy_text(sched.energy_fj)}")
    if sched.latency_cycles is not None:
        lines.append(f"latency      {latency_text(sched.latency_cycles, clock_mhz)}")
    bound = bound_text(sched, clock_mhz)
    if bound is not None:
        lines.append(f"lower bound  {bound}")
    if sched.solve_seconds is not None:
        lines.append(f"time         {sched.solve_seconds:.3f} s")
    if sched.message:
        lines.append(f"note         {sched.message}")
    if sched.unplaced:
        more = f" and {len(sched.unplaced) - 10} more" if len(sched.unplaced) > 10 else ""
        lines.append(f"unplaced     {', '.join(sched.unplaced[:10])}{more}")
    if sched.groups:
        lines.append(f"groups       {len(sched.groups):,}")
        tiles = any(g.tiles for g in sched.groups)
        grid = f"{'tiles':>7} {'halo':>9} {'P':>3}" if tiles else f"{'strips':>6}"
        lines.append(f"  {'#':>3} {grid} {'b':>3} {'weights':>8} {'read B':>12} {'write B':>12}  layers"
                     " (*: reduced channels)")
        for k, g in enumerate(sched.groups[:max_rows]):
            reduced = set(g.reduced_channels or ())
            names = " ".join(n + ("*" if n in reduced else "") for n in g.layers)
            if len(names) > 70:
                names = names[:67] + "..."
            if tiles:
                shape = f"{g.tile_rows}x{g.tile_cols or 1}" if g.tile_rows else "-"
                grid = f"{shape:>7} {g.halo or '-':>9} {g.passes or '-':>3}"
            else:
                grid = f"{g.tile_rows or '-':>6}"
            lines.append(f"  {k:>3} {grid} {g.batch_block or '-':>3} "
                         f"{'resident' if g.resident_weights else 'streamed':>8} {g.read_bytes or 0:>12,} "
                         f"{g.write_bytes or 0:>12,}  {names}")
        if tiles:
            lines.append("  tiles: Q_r x Q_c (tile rows x tile columns); P: output-channel passes")
        if len(sched.groups) > max_rows:
            lines.append(f"  ... {len(sched.groups) - max_rows} more groups (write them all with -o)")
    return "\n".join(lines)


# ---- studies: ``gap`` and ``report`` (optimus_opt/studies/study.py, optimus_opt/studies/report.py) -------------


def _add_study_parsers(sub) -> None:
    p = sub.add_parser("gap", help="run every solver over suites × buffers × batches: gaps, tables, plots")
    p.add_argument("inputs", nargs="*", metavar="SUITE|INSTANCE",
                   help="suite files or bundled suite names (paper, all, smoke), instance or network files, zoo "
                        f"network names (a network runs on {PAPER_SETTING.accelerator} at batch {PAPER_SETTING.batch})")
    p.add_argument("--preset", choices=("paper",),
                   help="paper: the Optimus paper's evaluation (its networks on its three accelerators, the artifact's "
                        "setting, the buffer, batch and PE-array sweeps; exact solvers under time limits; "
                        "docs/reproduction.md)")
    p.add_argument("--solvers", metavar="A,B,...",
                   help="solvers to run (default: every installed solver but the composite auto)")
    p.add_argument("--buffers", metavar="SIZE,...", help="cross every instance with these buffer capacities")
    p.add_argument("--batch", metavar="N,...", help="cross every instance with these batch sizes")
    p.add_argument("--tiling", metavar="strips,tiles",
                   help="cross every instance with these tiling models (strips: cost model version 2, the default; "
                        "tiles: version 3)")
    p.add_argument("--halo", metavar="MODE,...",
                   help="the halo modes of the tiles runs: choose (the default), cache, recompute")
    p.add_argument("--time-limit", type=_seconds, metavar="S", help="time limit of each run of a searching solver")
    p.add_argument("--max-group", type=_positive, metavar="K",
                   help="at most K layers per group, for the exact solvers (their bounds then hold only there)")
    p.add_argument("--objective", choices=OBJECTIVES, default="dram",
                   help="what every run minimises and the gaps measure: dram (the default), energy or latency")
    p.add_argument("--seed", type=_seed, default=0, help="random seed of every run (default 0)")
    p.add_argument("--workers", type=_workers, default=1, help="threads of cpsat and milp per run (default 1)")
    p.add_argument("--option", action="append", default=[], metavar="SOLVER:KEY=VALUE",
                   help="an option of one solver (time_limit, max_group, seed, workers or a solver-specific one); "
                        "VALUE is JSON or a string; repeatable")
    p.add_argument("--jobs", type=_workers, default=1, help="runs at once in the local process pool (default 1)")
    p.add_argument("--out", metavar="DIR", help="study directory (default gap-study, or gap-<preset>); runs "
                   "already recorded there are skipped")
    p.add_argument("--executor", choices=EXECUTORS, default="local",
                   help="local process pool (default), an existing Dask cluster, or inline (debugging)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address, e.g. tcp://10.0.0.1:8786")
    p.add_argument("--hard-limit", type=_seconds, metavar="S",
                   help="kill a run after S seconds (local pool; default: time limit x 3 + 30)")
    p.add_argument("--resume", action="store_true",
                   help="continue the study already in --out (an error if there is none): only the runs it has no "
                        "record of are run, as always, then every table and plot is rewritten")
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


def _plots_available() -> bool:
    """Whether the study's plots can be drawn; if not, say so on stderr before the work (tables are written
    either way)."""
    if extras.available("plot"):
        return True
    print(f"optimus-opt: note: no plots: {extras.missing_message('plot', 'plots need')}; --no-plots silences "
          "this", file=sys.stderr)
    return False


def _study_command(args: argparse.Namespace) -> int:
    """``gap``: run the study the arguments describe, then print its aggregates (``report``: re-render one)."""
    from .studies import report
    from .studies import study as studies

    if args.command == "report":
        return _report_command(args)
    config = _study_config(args)
    out = config.directory
    try:
        if args.preset == "paper":
            result = studies.paper_study(config)
        else:
            result = studies.study(args.inputs, config)
    except KeyboardInterrupt:
        print(f"optimus-opt: interrupted; every finished run is in {out / RESULTS_FILE} (summaries "
              "rewritten); run the same command again to finish the rest", file=sys.stderr)
        return 130
    summary = result.table
    retried = f" ({len(result.retried)} of them again after an error or timeout)" if result.retried else ""
    print(f"{_count(len(result.executed) + len(result.skipped), 'run')} ({len(result.executed)} run now{retried}, "
          f"{len(result.skipped)} recorded before) in {result.wall_seconds:.1f} s; results in {out}/")
    agg = report.markdown(summary).split("## Aggregates", 1)[1].split("\n## ", 1)[0].strip()
    print("\n" + agg)
    if args.preset == "paper":
        print(f"\n{report.artifact_comparison(summary)}\n\nEvery experiment's table and plot: {out / 'summary.md'}")
    mine = set(result.executed) | set(result.skipped)
    failed = [r for r in result.records if r["run_id"] in mine and r["status"] in RUN_FAILURES]
    if failed:
        print(f"\n{_count(len(failed), 'run')} failed (error or timeout); see {out / 'summary.md'}; "
              "--retry-failed runs them again", file=sys.stderr)
        return EXIT_NO_SCHEDULE
    return EXIT_OK


def _report_command(args: argparse.Namespace) -> int:
    """``report``: the tables and plots of a study directory, again."""
    from .studies import report

    directory = Path(args.directory)
    if not directory.is_dir():
        what = "is a file, not a study directory" if directory.exists() else "no such study directory"
        raise InstanceError(what, file=str(directory))
    if not (directory / RESULTS_FILE).is_file():
        raise InstanceError(f"no {RESULTS_FILE} here: not a study directory (write one with "
                            "'optimus-opt gap ... --out DIR')", file=str(directory))
    plots = not args.no_plots and _plots_available()
    s = report.render(directory, plots=plots, paper=True if args.paper else None)
    print(f"{_count(len(s.rows), 'run')}; wrote {directory / 'summary.md'}, {directory / 'summary.csv'}"
          + (f" and {directory / 'plots'}/" if plots else ""))
    return EXIT_OK


def _choices(text: str | None, known: Sequence[str], option: str) -> list[str] | None:
    """A comma-separated list of ``known`` words (``--tiling strips,tiles``), or None without the option."""
    if text is None:
        return None
    values = [v for v in text.split(",") if v]
    bad = [v for v in values if v not in known]
    if bad or not values:
        raise InstanceError(f"expected comma-separated values among {', '.join(known)}, got {text!r}", field=option)
    return values


def _study_config(args: argparse.Namespace) -> StudyConfig:
    """The :class:`~optimus_opt.studies.study.StudyConfig` of ``gap``'s arguments, each checked before any work."""
    from .studies.study import StudyConfig

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
    tilings = _choices(args.tiling, TILINGS, "--tiling")
    halos = _choices(args.halo, HALOS, "--halo")
    if halos and any(h != "choose" for h in halos) and tilings and "tiles" not in tilings:
        raise InstanceError(f"halo {args.halo} needs tiles among the tiling models (strips keep every overlap on "
                            "chip and have no halo to choose)", field="--halo")
    out = Path(args.out or (f"gap-{args.preset}" if args.preset else "gap-study"))
    if out.exists() and not out.is_dir():
        raise InstanceError("is a file; --out names the study directory (a new one, or one to resume)",
                            file=str(out), field="--out")
    if not out.parent.is_dir():
        raise InstanceError(f"the folder '{out.parent}' does not exist; create it first", file=str(out),
                            field="--out")
    if args.resume and not (out / RESULTS_FILE).is_file():
        raise InstanceError(f"nothing to resume: no {RESULTS_FILE} here (run without --resume to start the "
                            "study)", file=str(out), field="--resume")
    plots = not args.no_plots and _plots_available()
    return StudyConfig(
        solvers=names, buffers=buffers, batches=batches, tilings=tilings, halos=halos, time_limit=args.time_limit,
        seed=args.seed, workers=args.workers, max_group=args.max_group, solver_options=_study_options(args.option),
        jobs=args.jobs,
        out=out, executor=args.executor, scheduler=args.scheduler, hard_limit=args.hard_limit,
        retry_failed=args.retry_failed, progress=not args.no_progress, plots=plots, objective=args.objective,
        command=["optimus-opt", *getattr(args, "argv", [])])


# ---- ONNX and pictures: ``import-onnx``, ``export-onnx``, ``show`` (io/onnx.py, onnx_export.py, show.py) ----


def _input_shape(text: str) -> tuple[int, int, int]:
    from .io.onnx import parse_input_shape

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
    p.add_argument("--check", action="store_true",
                   help="print what the import found (inputs, outputs, layers by op, weights, MACs, and every ONNX "
                        "op type with what became of its nodes) instead of the network; with -o, write it too")

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


def _onnx_or_show(args: argparse.Namespace) -> int:
    if args.command == "import-onnx":
        from .io.onnx import import_report, read_onnx

        found = read_onnx(args.model, input_shape=args.input_shape, batch=args.batch)
        net = found.network
        doc = net.to_dict(with_format=True)
        if args.check:
            print(import_report(found))
            if not args.output:
                return EXIT_OK
        elif not args.output:
            sys.stdout.write(json.dumps(doc, indent=1) + "\n")
            return EXIT_OK
        dump_document(doc, args.output)
        batch = f"batch {found.batch}" if found.batch is not None else "a dynamic batch"
        print(f"network {net.name} ({len(net.layer_ids)} layers, {net.total_weight_words:,} weights) written to "
              f"{args.output}; the model has {batch}")
        return EXIT_OK
    if args.command == "export-onnx":
        from .io.onnx_export import network_to_onnx

        source = read_source(args.network, resolution=args.resolution, kind="network")
        network = source.network
        batch = args.batch or (source.instance.batch if source.instance is not None else None)
        network_to_onnx(network, args.output, batch=batch or 1)
        print(f"network {network.name} ({len(network.layer_ids)} layers) written to {args.output} as a shape-only "
              f"ONNX graph (batch {batch or 1})")
        return EXIT_OK
    from .io.show import draw_schedule

    inst = _load(args)
    sched = load_schedule(args.schedule)
    engine = draw_schedule(inst, sched, args.output, engine=args.engine)
    what = {"dot-source": "Graphviz source", "graphviz": "Graphviz drawing"}.get(engine, "drawing")
    print(f"{what} of {inst.name} ({len(sched.groups)} groups) written to {args.output}")
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
