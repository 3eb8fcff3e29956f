"""The figures of a study (:func:`plot`: traffic against buffer, the gap of each heuristic, time against size) and of
the paper preset (:func:`plot_paper`: one per experiment), drawn from a :class:`~optimus_opt.studies.summary.Summary`
with matplotlib through :mod:`optimus_opt.io.figures`, each as PNG and SVG.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from .. import solvers as _solvers
from ..io import figures
from ..io.resolve import tiling_label
from .comparison import ARTIFACT_MIB, MIB, experiment_instances, optimum
from .paper import paper_experiments
from .planning import Experiment
from .summary import Summary, solver_rank
from .tables import buffer_label

#: Dots per inch of the PNG files: a figure of :data:`MAX_WIDTH` inches is 1,920 pixels wide.
DPI = 120
#: The widest and the tallest a figure is drawn, in inches: more bars or rows than fit are wrapped (the gap figure
#: takes more columns of instances) or drawn narrower, never as a strip too wide to read.
MAX_WIDTH = 16.0
MAX_HEIGHT = 12.0


@dataclass(frozen=True)
class _Figures:
    """Where a report's figures go: pyplot, the plot directory, a fixed colour per solver, and the files written."""

    plt: Any
    out: Path
    colors: dict[str, Any]
    written: list[Path]

    @classmethod
    def open(cls, directory: str | Path, solvers: Iterable[str] = ()) -> "_Figures":
        """Raises ImportError without matplotlib. Registered solvers keep one colour in every study (tab10, by
        their table order); others (``solvers`` not registered) get Dark2 colours in their order."""
        plt = figures.pyplot()
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        known = sorted(_solvers.registered(), key=solver_rank)
        colors = {sv: plt.get_cmap("tab10")(k % 10) for k, sv in enumerate(known)}
        for k, sv in enumerate(x for x in solvers if x not in colors):
            colors[sv] = plt.get_cmap("Dark2")(k % 8)
        return cls(plt, out, colors, [])

    def subplots(self, width: float, height: float, rows: int = 1, cols: int = 1, **kw: Any) -> tuple[Any, Any]:
        """A figure of at most :data:`MAX_WIDTH` × :data:`MAX_HEIGHT` inches whose layout makes room for legends
        and labels outside the axes (matplotlib's constrained layout); the axes as a ``rows`` × ``cols`` array."""
        size = (min(width, MAX_WIDTH), min(height, MAX_HEIGHT))
        return self.plt.subplots(rows, cols, figsize=size, squeeze=False, layout="constrained", **kw)

    def save(self, fig: Any, stem: str) -> None:
        """Write ``fig`` as ``stem``.png and ``stem``.svg, cropped to what is drawn, and close it."""
        for ext in ("png", "svg"):
            path = self.out / f"{stem}.{ext}"
            figures.save_atomically(fig, path, dpi=DPI, bbox_inches="tight", pad_inches=0.08)
            self.written.append(path)
        self.plt.close(fig)


def _legend(ax: Any, *more: Any) -> None:
    """The legend of ``ax`` (and of the axes ``more``, each label once) beside it on the right, outside the axes so
    that it covers no bar or line; nothing when no series is labelled."""
    entries: dict[str, Any] = {}
    for a in (ax, *more):
        for handle, label in zip(*a.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    if entries:
        ax.legend(list(entries.values()), list(entries), loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  borderaxespad=0.0, fontsize=7, frameon=False)


def _log_y(ax: Any) -> None:
    """A base-10 log scale on the y axis of ``ax``, ticks at 1, 2 and 5 times each power of ten, read as plain
    numbers (20, 50, 100), so that a bar between two powers of ten can be read."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _setting(insts: Sequence[Mapping[str, Any]], *, buffer: bool = True, batch: bool = True) -> str:
    """What the instances of a figure share, for its title: ``squeezenet1_0 on optimus-npu (128 KiB), batch 4``;
    a network, accelerator, buffer or batch they do not share is left out (the axis or the labels say it)."""
    def one(key: str) -> Any:
        values = {i[key] for i in insts}
        return values.pop() if len(values) == 1 else None

    net, acc, size, n = one("network"), one("accelerator"), one("buffer_bytes"), one("batch")
    text = " on ".join(str(v) for v in (net, acc) if v is not None)
    if buffer and size is not None:
        text += f" ({buffer_label(size)})"
    if batch and n is not None:
        text += (", " if text else "") + f"batch {n}"
    return text


def plot(summary: Summary, directory: str | Path) -> list[Path]:
    """Draw the study's figures into ``directory`` (PNG and SVG each); return the files written.

    * ``traffic-vs-buffer-<network>-<accelerator>-b<batch>``: DRAM traffic against buffer size, a line per solver
      and the best proven bound dashed, for every network run at two or more buffer sizes (the figure the Optimus
      paper draws for SqueezeNet);
    * ``gap``: the gap of each heuristic (every solver that is not exact) on every instance with a proven bound;
    * ``time-vs-size``: solve time against network size (layers), log axes; hollow markers for runs that stopped
      at a limit or failed.

    Raises
    ------
    ImportError
        Without matplotlib.
    """
    canvas = _Figures.open(directory, summary.solvers)
    series: dict[tuple, list[dict]] = {}
    for inst in summary.instances:
        tiling = tiling_label(inst.get("tiling") or "strips", inst.get("halo") or "choose")
        series.setdefault((inst["network"], inst["accelerator"], inst["batch"], tiling), []).append(inst)
    for (net, acc, batch, tiling), insts in series.items():
        if len({i["buffer_bytes"] for i in insts}) >= 2:
            label = f" ({tiling[1:].replace('-', ', ')})" if tiling else ""
            _traffic_vs_buffer(canvas, summary, sorted(insts, key=lambda i: i["buffer_bytes"]),
                               f"{net} on {acc}{label}, batch {batch}",
                               f"traffic-vs-buffer-{_slug(net)}-{_slug(acc)}{tiling}-b{batch}")
    _gap_figure(canvas, summary)
    _time_vs_size(canvas, summary)
    return canvas.written


def _traffic_vs_buffer(canvas: _Figures, summary: Summary, insts: list[dict], title: str, stem: str) -> None:
    fig, axes = canvas.subplots(8.2, 4.4)
    ax = axes[0][0]
    for solver in summary.solvers:
        pts = [(i["buffer_bytes"] / 1024, row["dram_bytes"] / 1e6) for i in insts
               if (row := summary.cell(i["instance_id"], solver)) and row["dram_bytes"] is not None]
        if pts:
            xs, ys = zip(*pts)
            ax.plot(xs, ys, marker="o", markersize=3.5, label=solver, color=canvas.colors[solver])
    pts = [(i["buffer_bytes"] / 1024, i["best_bound_bytes"] / 1e6) for i in insts if i["best_bound_bytes"]]
    if pts:
        xs, ys = zip(*pts)
        ax.plot(xs, ys, linestyle="--", color="black", linewidth=1, label="best proven bound")
    none = [i["buffer_bytes"] / 1024 for i in insts if not any(
        (row := summary.cell(i["instance_id"], sv)) and row["dram_bytes"] is not None for sv in summary.solvers)]
    if none:
        ax.plot(none, [0] * len(none), linestyle="none", marker="x", color="crimson", markersize=8,
                label="no schedule found (infeasible)", clip_on=False)
    ax.set_ylim(bottom=0)
    figures.log2_x(ax)
    ax.set_xlabel("buffer capacity (KiB)")
    ax.set_ylabel("DRAM traffic (MB)")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    _legend(ax)
    canvas.save(fig, stem)


def _gap_figure(canvas: _Figures, summary: Summary) -> None:
    """The gap of each heuristic, as horizontal bars beside each instance's name (names read across, however
    many), in as many columns of instances as :data:`MAX_HEIGHT` asks and :data:`MAX_WIDTH` allows."""
    heuristics = [sv for sv in summary.solvers if sv not in _solvers.exact_solvers()]
    shown = [sv for sv in heuristics if any((row := summary.cell(i["instance_id"], sv)) is not None
                                            and row["gap"] is not None for i in summary.instances)]
    with_bound = [i for i in summary.instances if i["best_bound_bytes"]]
    if not (with_bound and shown):
        fig, axes = canvas.subplots(6.4, 2.4)
        ax = axes[0][0]
        ax.text(0.5, 0.5, "no heuristic has a gap: no instance has a proven bound", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title("gap of each heuristic")
        canvas.save(fig, "gap")
        return
    per_instance = 0.1 + 0.07 * len(shown)  # inches of height: one bar per heuristic
    label_width = 0.35 + 0.055 * max(len(_short(i)) for i in with_bound)  # a 7-point label, by its characters
    column_width = label_width + 3.2
    fits = max(1, int((MAX_HEIGHT - 1.4) / per_instance))
    columns = max(1, min(-(-len(with_bound) // fits), int((MAX_WIDTH - 1.6) // column_width)))
    rows = -(-len(with_bound) // columns)
    fig, axes = canvas.subplots(column_width * columns + 1.6, per_instance * rows + 1.4, 1, columns, sharex=True)
    width = 0.8 / len(shown)
    for c, ax in enumerate(axes[0]):
        chunk = with_bound[c * rows:(c + 1) * rows]
        for k, solver in enumerate(shown):
            ys, gaps = [], []
            for j, inst in enumerate(chunk):
                row = summary.cell(inst["instance_id"], solver)
                if row is not None and row["gap"] is not None:
                    ys.append(j - 0.4 + width * (k + 0.5))
                    gaps.append(row["gap"] * 100)
            ax.barh(ys, gaps, height=width, label=solver, color=canvas.colors[solver])
        ax.set_yticks(range(len(chunk)))
        ax.set_yticklabels([_short(i) for i in chunk], fontsize=7)
        ax.set_ylim(rows - 0.5, -0.5)  # the first instance on top; every column at the same bar height
        ax.set_xscale("symlog", linthresh=1.0)  # gaps span 0 % to thousands of percent
        ax.set_xlabel("gap to the best proven bound (%, symlog)", fontsize=8)
        ax.grid(True, axis="x", alpha=0.3)
    fig.suptitle("gap of each heuristic")
    _legend(axes[0][-1])
    canvas.save(fig, "gap")


def _time_vs_size(canvas: _Figures, summary: Summary) -> None:
    fig, axes = canvas.subplots(8.2, 4.4)
    ax = axes[0][0]
    for solver in summary.solvers:
        done, stopped = [], []
        for row in summary.rows:
            if row["solver"] != solver or not row["layers"]:
                continue
            secs = row["solve_seconds"] if row["solve_seconds"] is not None else row.get("wall_seconds")
            if secs is None:
                continue
            point = (row["layers"], max(secs, 1e-4))
            (done if row["status"] in ("optimal", "feasible", "infeasible") else stopped).append(point)
        if done:
            xs, ys = zip(*sorted(done))
            ax.scatter(xs, ys, s=14, label=solver, color=canvas.colors[solver])
        if stopped:
            xs, ys = zip(*sorted(stopped))
            ax.scatter(xs, ys, s=30, facecolors="none", edgecolors=canvas.colors[solver],
                       label=f"{solver} (limit or failure)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("network size (layers)")
    ax.set_ylabel("solve time (s)")
    ax.set_title("solve time against network size")
    ax.grid(True, which="both", alpha=0.3)
    _legend(ax)
    canvas.save(fig, "time-vs-size")


def plot_paper(summary: Summary, directory: str | Path, experiments: Sequence[Experiment] | None = None) -> list[Path]:
    """Draw one figure per experiment of the paper preset into ``directory`` (``paper-<key>.png`` and ``.svg``,
    the files :func:`paper_comparison` links); return the files written. Traffic in MiB.

    * ``overall``: optimus and the baselines normalised to layerwise, per network and accelerator, with the
      optimum (a bound where unproven, hollow);
    * ``buffer``: traffic against buffer capacity, a line per solver and the optimum dashed;
    * ``batch``: traffic per sample against batch size, one panel per network;
    * ``pe-array``: traffic per (Tc, buffer), normalised to the first configuration, as the artifact draws it;
    * ``artifact``: our figures next to the artifact's, per network and schedule.

    Raises
    ------
    ImportError
        Without matplotlib.
    """
    canvas = _Figures.open(directory, summary.solvers)
    for exp in experiments if experiments is not None else paper_experiments():
        insts = experiment_instances(summary, exp)
        if not insts:
            continue
        heuristics = sorted((sv for sv in dict.fromkeys(exp.solvers) if sv not in _solvers.exact_solvers()),
                            key=solver_rank)
        ran = [sv for sv in heuristics if any((row := summary.cell(i["instance_id"], sv)) is not None
                                              and row["dram_bytes"] is not None for i in insts)]
        panel = _PaperPanel(summary, canvas, exp, insts, ran, [optimum(summary, i["instance_id"]) for i in insts])
        fig, axes = _PAPER_FIGURES.get(exp.key, _paper_overall)(panel)
        for ax in axes:
            ax.grid(True, alpha=0.3)
        canvas.save(fig, f"paper-{exp.key}")
    return canvas.written


@dataclass(frozen=True)
class _PaperPanel:
    """What every figure of the paper preset draws from: one experiment's instances, its heuristics (the solvers
    that are not exact) that have a schedule on one of them at least, and the optimum of each instance (proven or
    a bound)."""

    summary: Summary
    canvas: _Figures
    exp: Experiment
    insts: list[dict]
    heuristics: list[str]
    opts: list[dict]

    def mib(self, inst: Mapping[str, Any], solver: str) -> float | None:
        row = self.summary.cell(inst["instance_id"], solver)
        return row["dram_bytes"] / MIB if row is not None and row["dram_bytes"] is not None else None


def _paper_artifact(p: _PaperPanel):
    colors = p.canvas.colors
    nets = [i for i in p.insts if i["network"] in ARTIFACT_MIB]
    fig, axes = p.canvas.subplots(2.0 + 1.8 * len(nets), 4.4)
    ax = axes[0][0]
    pairs = (("optimus", 1), ("efficient-s", 2), ("dnnvm", 3), ("layerwise", 4))
    width = 0.1
    for k, (sv, col) in enumerate(pairs):
        xs = [j + (2 * k - 3.5) * width for j in range(len(nets))]
        ax.bar([x - width / 2 for x in xs], [ARTIFACT_MIB[i["network"]][col] for i in nets], width,
               color=colors[sv], alpha=0.45, hatch="//", label=f"artifact {sv}")
        ours = [(x + width / 2, mib) for x, i in zip(xs, nets) if (mib := p.mib(i, sv)) is not None]
        if ours:
            ax.bar([x for x, _ in ours], [m for _, m in ours], width, color=colors[sv], label=f"ours {sv}")
    ax.set_xticks(range(len(nets)))
    ax.set_xticklabels([ARTIFACT_MIB[i["network"]][0] for i in nets])
    _log_y(ax)
    ax.set_ylabel("DRAM traffic (MiB, log)")
    ax.set_title(f"ours against the artifact's published figures: {_setting(nets)}")
    _legend(ax)
    return fig, [ax]


def _paper_buffer(p: _PaperPanel):
    fig, axes = p.canvas.subplots(8.2, 4.4)
    ax = axes[0][0]
    xs = [i["buffer_bytes"] / 1024 for i in p.insts]
    for sv in p.heuristics:
        ax.plot(xs, [p.mib(i, sv) for i in p.insts], marker="o", markersize=3, label=sv, color=p.canvas.colors[sv])
    ax.plot(xs, [o["bytes"] / MIB if o["bytes"] else None for o in p.opts], "k--", linewidth=1,
            label="optimum (proven or bound)")
    none = [x for x, i, o in zip(xs, p.insts, p.opts) if not o["bytes"] and all(p.mib(i, sv) is None
                                                                                for sv in p.heuristics)]
    if none:
        ax.plot(none, [0] * len(none), linestyle="none", marker="x", color="crimson", markersize=8,
                label="no schedule found", clip_on=False)
    figures.log2_x(ax)
    ax.set_xlabel("buffer capacity (KiB)")
    ax.set_ylabel("DRAM traffic (MiB)")
    ax.set_ylim(bottom=0)
    ax.set_title(f"{_setting(p.insts, buffer=False)}: buffer sweep")
    _legend(ax)
    return fig, [ax]


def _paper_batch(p: _PaperPanel):
    nets = list(dict.fromkeys(i["network"] for i in p.insts))
    fig, axes = p.canvas.subplots(1.5 + 4.6 * len(nets), 4.0, 1, len(nets))
    for ax, net in zip(axes[0], nets):
        mine = [(i, o) for i, o in zip(p.insts, p.opts) if i["network"] == net]
        xs = [i["batch"] for i, _ in mine]
        for sv in p.heuristics:
            ax.plot(xs, [(p.mib(i, sv) or float("nan")) / i["batch"] for i, _ in mine], marker="o",
                    markersize=3, label=sv, color=p.canvas.colors[sv])
        ax.plot(xs, [o["bytes"] / MIB / i["batch"] if o["bytes"] else float("nan") for i, o in mine],
                "k--", linewidth=1, label="optimum (proven or bound)")
        figures.log2_x(ax)
        ax.set_xlabel("batch size")
        ax.set_ylabel("DRAM traffic per sample (MiB)")
        ax.set_title(_setting([i for i, _ in mine], batch=False))
    _legend(axes[0][-1], *axes[0][:-1])
    return fig, list(axes[0])


def _paper_pe_array(p: _PaperPanel):
    fig, axes = p.canvas.subplots(8.0, 4.0)
    ax = axes[0][0]
    labels = [f"{i.get('channel_tile')}x{i.get('channel_tile')}, {buffer_label(i['buffer_bytes'])}" for i in p.insts]
    tiles = [i.get("channel_tile") for i in p.insts]
    runs = [[k for k, t in enumerate(tiles) if t == tile] for tile in dict.fromkeys(tiles)]  # a line per PE array

    def draw(values: list[float], **style: Any) -> None:
        for r, run in enumerate(runs):
            ax.plot(run, [values[k] for k in run], **(style if r == 0 else {**style, "label": "_"}))

    first = {sv: p.mib(p.insts[0], sv) for sv in p.heuristics}
    for sv in p.heuristics:
        if first[sv]:
            draw([(p.mib(i, sv) or float("nan")) / first[sv] for i in p.insts], marker="o", markersize=3, label=sv,
                 color=p.canvas.colors[sv])
    if p.opts[0]["bytes"]:
        draw([o["bytes"] / p.opts[0]["bytes"] if o["bytes"] else float("nan") for o in p.opts], color="black",
             linestyle="--", linewidth=1, label="optimum (proven or bound)")
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=30, ha="right", rotation_mode="anchor", fontsize=7)
    ax.set_xlabel("PE array (Tc x Tc), buffer")
    ax.set_ylabel(f"DRAM traffic / at {labels[0]}")
    ax.set_title(f"{_setting(p.insts, buffer=False)}: PE array (channel tile) × buffer")
    _legend(ax)
    return fig, [ax]


def _paper_overall(p: _PaperPanel):
    fig, axes = p.canvas.subplots(3.5 + 0.42 * len(p.insts), 4.6)
    ax = axes[0][0]
    shown = [sv for sv in p.heuristics if sv != "layerwise"]
    width = 0.8 / (len(shown) + 1)
    for k, sv in enumerate(shown):
        ys = [(p.mib(i, sv) or 0) / (p.mib(i, "layerwise") or float("nan")) for i in p.insts]
        ax.bar([j - 0.4 + width * (k + 0.5) for j in range(len(p.insts))], ys, width, label=sv,
               color=p.canvas.colors[sv])
    x_opt = [j - 0.4 + width * (len(shown) + 0.5) for j in range(len(p.insts))]
    ys = [(o["bytes"] / MIB if o["bytes"] else 0) / (p.mib(i, "layerwise") or float("nan"))
          for i, o in zip(p.insts, p.opts)]
    for proven, label, style in ((True, "optimum (proven)", {"color": "black"}),
                                 (False, "optimum (bound, not proven)",
                                  {"facecolor": "none", "edgecolor": "black", "linewidth": 0.8})):
        pick = [j for j, o in enumerate(p.opts) if (o["status"] == "proven") == proven and o["bytes"]]
        if pick:
            ax.bar([x_opt[j] for j in pick], [ys[j] for j in pick], width, label=label, **style)
    ax.set_xticks(range(len(p.insts)))
    ax.set_xticklabels([f"{i['network']} {i['accelerator']}" for i in p.insts], rotation=60, ha="right",
                       rotation_mode="anchor", fontsize=7)
    ax.set_xlim(-0.6, len(p.insts) - 0.4)
    ax.set_ylabel("DRAM traffic / layerwise")
    ax.set_title(f"overall comparison: {_setting(p.insts)}")
    _legend(ax)
    return fig, [ax]


#: The figure of each experiment of the paper preset, by key; any other experiment is drawn like ``overall``.
_PAPER_FIGURES = {"artifact": _paper_artifact, "buffer": _paper_buffer, "batch": _paper_batch,
                  "pe-array": _paper_pe_array, "overall": _paper_overall}


def _slug(text: Any) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in str(text))


def _short(inst: Mapping[str, Any]) -> str:
    """An instance as the gap figure labels it: ``squeezenet1_0 optimus-npu 128KiB b4``."""
    size = buffer_label(inst["buffer_bytes"]).replace(" ", "")
    return f"{inst['network']} {inst['accelerator']} {size} b{inst['batch']}"


__all__ = ["plot", "plot_paper"]
