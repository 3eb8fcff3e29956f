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
    from ..solvers.pareto import ParetoFront


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


def log2_x(ax: Any) -> None:
    """A base-2 log scale on the x axis of ``ax`` whose ticks read as plain numbers (64, 128, 256 KiB), not as
    powers 2^6, 2^7, 2^8 a reader has to work out."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


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


__all__ = ["log2_x", "plot_front", "pyplot", "save_atomically"]
