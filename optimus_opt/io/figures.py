"""Figures drawn with matplotlib, set up one way for every picture the project writes: the file-only Agg back-end
(no display is needed, so figures draw on a headless CI machine or a cluster node), and files replaced atomically
so that an interrupted run never leaves half a PNG. The report's plots, the schedule pictures of :mod:`.show` and
the Pareto staircase of :func:`plot_front` all come through here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..model.errors import SolverError
from ..utils import extras

if TYPE_CHECKING:
    from ..solvers.pareto import MetricFront, ParetoFront


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg back-end. Raises ImportError without matplotlib (callers that know who
    asked turn it into :func:`optimus_opt.utils.extras.missing_message`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_atomically(fig: Any, path: Path, **savefig: Any) -> None:
    """Write ``fig`` to ``path`` through a hidden temporary file beside it, then rename it into place."""
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    fig.savefig(tmp, **savefig)
    tmp.replace(path)


def log2_x(ax: Any, which: str = "x") -> None:
    """A base-2 log scale on the x axis of ``ax`` (or its y axis, ``which="y"``) whose ticks read as plain numbers
    (64, 128, 256 KiB), not as powers 2^6, 2^7, 2^8 a reader has to work out."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    (ax.set_xscale if which == "x" else ax.set_yscale)("log", base=2)
    axis = ax.xaxis if which == "x" else ax.yaxis
    axis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:g}"))
    axis.set_minor_formatter(NullFormatter())


def plot_front(front: ParetoFront, path: str | Path) -> None:
    """Draw an exact traffic/capacity front (:func:`optimus_opt.solvers.pareto.pareto_front`) as a staircase:
    optimal DRAM traffic against buffer capacity, the capacity axis log-scaled, one dot per corner."""
    try:
        plt = pyplot()
    except ImportError:
        raise SolverError(extras.missing_message("plot", "--plot needs")) from None
    pts = sorted(front.points, key=lambda p: p.buffer_bytes)
    xs = [p.buffer_bytes / 1024 for p in pts] + [front.max_buffer / 1024]
    ys = [p.dram_bytes / 1e6 for p in pts] + [pts[-1].dram_bytes / 1e6] if pts else []
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    if pts:
        ax.step(xs, ys, where="post", color="tab:blue")
        ax.plot(xs[:-1], ys[:-1], "o", color="tab:blue", markersize=3)
    log2_x(ax)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("buffer capacity (KiB)")
    ax.set_ylabel("optimal DRAM traffic (MB)")
    partial = "" if front.complete else f" (partial: {front.stopped or 'stopped'})"
    ax.set_title(f"{front.instance}: exact traffic/capacity front{partial}")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    save_atomically(fig, Path(path))
    plt.close(fig)


def energy_unit(values: list[int]) -> tuple[float, str]:
    """The unit energies in fJ read best in: (fJ per unit, unit), µJ, or mJ once one reaches 1 mJ."""
    return (1e12, "mJ") if values and max(values) >= 1e12 else (1e9, "µJ")


def metric_scale(metric: str, values: list[int]) -> tuple[float, str]:
    """How a front's metric is drawn: (divisor, axis label with its unit). Energy in µJ or mJ
    (:func:`energy_unit`), DRAM bytes in MB, the buffer in KiB, latency in cycles and recompute in added MACs
    (both in millions from a million up)."""
    if metric == "energy":
        scale, unit = energy_unit(values)
        return scale, f"energy ({unit})"
    millions = bool(values) and max(values) >= 1e6
    return {"dram": (1e6, "DRAM traffic (MB)"), "buffer": (1024, "buffer capacity (KiB)"),
            "latency": (1e6, "latency (million cycles)") if millions else (1, "latency (cycles)"),
            "recompute": (1e6, "MACs added by recompute (millions)") if millions else
            (1, "MACs added by recompute")}[metric]


def plot_metric_front(front: MetricFront, path: str | Path) -> None:
    """Draw an exact front of two metrics (:func:`optimus_opt.solvers.pareto.metric_front`) as a staircase: the
    least ``y`` reachable at each ``x``, one dot per corner, each axis in its metric's unit (the buffer on a
    base-2 log scale, as :func:`plot_front`, when its corners span a factor of 4 or more)."""
    try:
        plt = pyplot()
    except ImportError:
        raise SolverError(extras.missing_message("plot", "--plot needs")) from None
    pts = sorted(front.points, key=lambda p: p.x)
    (sx, x_label), (sy, y_label) = (metric_scale(front.x, [p.x for p in pts]),
                                    metric_scale(front.y, [p.y for p in pts]))
    xs, ys = [p.x / sx for p in pts], [p.y / sy for p in pts]
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    if pts:
        ax.step(xs, ys, where="post", color="tab:blue")
        ax.plot(xs, ys, "o", color="tab:blue", markersize=3)
    buffers = [p.buffer_bytes for p in pts]
    if buffers and "buffer" in (front.x, front.y) and max(buffers) >= 4 * min(buffers):  # else no power of 2 shows
        log2_x(ax, "x" if front.x == "buffer" else "y")
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    partial = "" if front.complete else f" (partial: {front.stopped or 'stopped'})"
    ax.set_title(f"{front.instance}\nexact front of {front.y} against {front.x}{partial}", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    save_atomically(fig, Path(path))
    plt.close(fig)


__all__ = ["energy_unit", "log2_x", "metric_scale", "plot_front", "plot_metric_front", "pyplot", "save_atomically"]
