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

    def save(self, fig: Any, stem: str) -> None:
        """Write ``fig`` as ``stem``.png and ``stem``.svg and close it."""
        fig.tight_layout()
        for ext in ("png", "svg"):
            path = self.out / f"{stem}.{ext}"
            figures.save_atomically(fig, path, dpi=120)
            self.written.append(path)
        self.plt.close(fig)


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
    fig, ax = canvas.plt.subplots(figsize=(7.0, 4.4))
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
    ax.set_xscale("log", base=2)
    ax.set_xlabel("buffer capacity (KiB)")
    ax.set_ylabel("DRAM traffic (MB)")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    canvas.save(fig, stem)


def _gap_figure(canvas: _Figures, summary: Summary) -> None:
    heuristics = [sv for sv in summary.solvers if sv not in _solvers.exact_solvers()]
    with_bound = [i for i in summary.instances if i["best_bound_bytes"]]
    fig, ax = canvas.plt.subplots(figsize=(max(6.4, 0.45 * len(with_bound) * max(1, len(heuristics)) / 2.5 + 2),
                                           5.4))
    if with_bound and heuristics:
        width = 0.8 / len(heuristics)
        for k, solver in enumerate(heuristics):
            xs, ys = [], []
            for j, inst in enumerate(with_bound):
                row = summary.cell(inst["instance_id"], solver)
                if row is not None and row["gap"] is not None:
                    xs.append(j - 0.4 + width * (k + 0.5))
                    ys.append(row["gap"] * 100)
            ax.bar(xs, ys, width=width, label=solver, color=canvas.colors[solver])
        ax.set_xticks(range(len(with_bound)))
        ax.set_xticklabels([_short(i) for i in with_bound], rotation=60, ha="right", fontsize=7)
        ax.set_yscale("symlog", linthresh=1.0)  # gaps span 0 % to thousands of percent
        ax.set_ylabel("gap to the best proven bound (%, symlog)")
        ax.legend(fontsize=7)
    else:
        ax.text(0.5, 0.5, "no instance has a proven bound", ha="center", va="center", transform=ax.transAxes)
        ax.set_xticks([])
    ax.set_title("gap of each heuristic")
    ax.grid(True, axis="y", alpha=0.3)
    canvas.save(fig, "gap")


def _time_vs_size(canvas: _Figures, summary: Summary) -> None:
    fig, ax = canvas.plt.subplots(figsize=(7.0, 4.4))
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
    if summary.rows:
        ax.legend(fontsize=7)
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
        panel = _PaperPanel(summary, canvas, exp, insts,
                            sorted((sv for sv in dict.fromkeys(exp.solvers) if sv not in _solvers.exact_solvers()),
                                   key=solver_rank),
                            [optimum(summary, i["instance_id"]) for i in insts])
        fig, axes = _PAPER_FIGURES.get(exp.key, _paper_overall)(panel)
        for ax in axes:
            ax.grid(True, alpha=0.3)
        canvas.save(fig, f"paper-{exp.key}")
    return canvas.written



@dataclass(frozen=True)
class _PaperPanel:
    """What every figure of the paper preset draws from: one experiment's instances, its heuristics (the solvers
    that are not exact) and the optimum of each instance (proven or a bound)."""

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
    fig, ax = p.canvas.plt.subplots(figsize=(8.0, 4.4))
    pairs = (("optimus", 1), ("efficient-s", 2), ("dnnvm", 3), ("layerwise", 4))
    width = 0.1
    for k, (sv, col) in enumerate(pairs):
        xs = [j + (2 * k - 3.5) * width for j in range(len(nets))]
        ax.bar([x - width / 2 for x in xs], [ARTIFACT_MIB[i["network"]][col] for i in nets], width,
               color=colors[sv], alpha=0.45, hatch="//", label=f"artifact {sv}")
        ax.bar([x + width / 2 for x in xs], [p.mib(i, sv) or 0 for i in nets], width, color=colors[sv],
               label=f"ours {sv}")
    ax.set_xticks(range(len(nets)))
    ax.set_xticklabels([ARTIFACT_MIB[i["network"]][0] for i in nets])
    ax.set_yscale("log")
    ax.set_ylabel("DRAM traffic (MiB, log)")
    ax.set_title("ours on optimus-artifact against the artifact's figures, batch 4")
    ax.legend(fontsize=6, ncol=2)
    return fig, [ax]


def _paper_buffer(p: _PaperPanel):
    fig, ax = p.canvas.plt.subplots(figsize=(7.0, 4.4))
    xs = [i["buffer_bytes"] / 1024 for i in p.insts]
    for sv in p.heuristics:
        ax.plot(xs, [p.mib(i, sv) for i in p.insts], marker="o", markersize=3, label=sv, color=p.canvas.colors[sv])
    ax.plot(xs, [o["bytes"] / MIB if o["bytes"] else None for o in p.opts], "k--", linewidth=1,
            label="optimum (proven or bound)")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("buffer capacity (KiB)")
    ax.set_ylabel("DRAM traffic (MiB)")
    ax.set_ylim(bottom=0)
    ax.set_title(p.exp.description.split(",")[0] + ", batch 4")
    ax.legend(fontsize=7)
    return fig, [ax]


def _paper_batch(p: _PaperPanel):
    nets = list(dict.fromkeys(i["network"] for i in p.insts))
    fig, axes = p.canvas.plt.subplots(1, len(nets), figsize=(5.0 * len(nets), 4.0), squeeze=False)
    for ax, net in zip(axes[0], nets):
        mine = [(i, o) for i, o in zip(p.insts, p.opts) if i["network"] == net]
        xs = [i["batch"] for i, _ in mine]
        for sv in p.heuristics:
            ax.plot(xs, [(p.mib(i, sv) or float("nan")) / i["batch"] for i, _ in mine], marker="o",
                    markersize=3, label=sv, color=p.canvas.colors[sv])
        ax.plot(xs, [o["bytes"] / MIB / i["batch"] if o["bytes"] else float("nan") for i, o in mine],
                "k--", linewidth=1, label="optimum")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("batch size")
        ax.set_ylabel("DRAM traffic per sample (MiB)")
        ax.set_title(f"{net} on optimus-npu (128 KiB)")
        ax.legend(fontsize=7)
    return fig, list(axes[0])


def _paper_pe_array(p: _PaperPanel):
    fig, ax = p.canvas.plt.subplots(figsize=(8.0, 4.0))
    labels = [f"{i.get('channel_tile')}x{i.get('channel_tile')}, {buffer_label(i['buffer_bytes'])}" for i in p.insts]
    first = {sv: p.mib(p.insts[0], sv) for sv in p.heuristics}
    for sv in p.heuristics:
        if first[sv]:
            ax.plot(labels, [(p.mib(i, sv) or float("nan")) / first[sv] for i in p.insts], marker="o",
                    markersize=3, label=sv, color=p.canvas.colors[sv])
    if p.opts[0]["bytes"]:
        ax.plot(labels, [o["bytes"] / p.opts[0]["bytes"] if o["bytes"] else float("nan") for o in p.opts],
                "k--", linewidth=1, label="optimum")
    ax.set_ylabel(f"DRAM traffic / at {labels[0]}")
    ax.set_title("SqueezeNet 1.0, batch 4: PE array (channel tile) × buffer")
    ax.tick_params(axis="x", labelrotation=30, labelsize=7)
    ax.legend(fontsize=7)
    return fig, [ax]


def _paper_overall(p: _PaperPanel):
    fig, ax = p.canvas.plt.subplots(figsize=(max(7.0, 0.42 * len(p.insts) + 2), 4.6))
    shown = [sv for sv in p.heuristics if sv != "layerwise"]
    width = 0.8 / (len(shown) + 1)
    for k, sv in enumerate(shown):
        ys = [(p.mib(i, sv) or 0) / (p.mib(i, "layerwise") or float("nan")) for i in p.insts]
        ax.bar([j - 0.4 + width * (k + 0.5) for j in range(len(p.insts))], ys, width, label=sv,
               color=p.canvas.colors[sv])
    ys = [(o["bytes"] / MIB if o["bytes"] else 0) / (p.mib(i, "layerwise") or float("nan"))
          for i, o in zip(p.insts, p.opts)]
    ax.bar([j - 0.4 + width * (len(shown) + 0.5) for j in range(len(p.insts))], ys, width, color="black",
           label="optimum (proven or bound)")
    ax.set_xticks(range(len(p.insts)))
    ax.set_xticklabels([f"{i['network']} {i['accelerator']}" for i in p.insts], rotation=60, ha="right",
                       fontsize=7)
    ax.set_ylabel("DRAM traffic / layerwise")
    ax.set_title("overall comparison, batch 4")
    ax.legend(fontsize=7)
    return fig, [ax]


#: The figure of each experiment of the paper preset, by key; any other experiment is drawn like ``overall``.
_PAPER_FIGURES = {"artifact": _paper_artifact, "buffer": _paper_buffer, "batch": _paper_batch,
                  "pe-array": _paper_pe_array, "overall": _paper_overall}


def _slug(text: Any) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in str(text))


def _short(inst: Mapping[str, Any]) -> str:
    return f"{inst['network']} {inst['accelerator']} {buffer_label(inst['buffer_bytes']).replace(' ', '')} b{inst['batch']}"


__all__ = ["plot", "plot_paper"]
