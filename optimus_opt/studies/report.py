"""A study's report, from its records alone (``DIR/results.jsonl``): :func:`render` writes ``summary.md`` (the
tables of :mod:`~optimus_opt.studies.tables`, and for the paper preset the comparison of
:mod:`~optimus_opt.studies.comparison`), ``summary.csv`` (:meth:`~optimus_opt.studies.summary.Summary.to_csv`) and
``plots/`` (:mod:`~optimus_opt.studies.plots`, PNG and SVG, with matplotlib) atomically; ``optimus-opt report DIR``
calls it. The names of those modules that other code reads are re-exported here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Collection

from .comparison import (
    ARTIFACT_MIB,
    ARTIFACT_NOTES,
    MIB,
    artifact_comparison,
    experiment_table,
    optimum,
    paper_comparison,
)
from .plots import plot, plot_paper
from .records import MANIFEST_FILE, load_records, write_atomic
from .summary import Summary, best_bounds, proven_infeasible, solver_rank, summarize
from .tables import study_tables


def markdown(s: Summary, *, title: str = "Optimality-gap study", paper: bool = False,
             figures: Collection[str] | None = None) -> str:
    """A study's ``summary.md``: its tables, and with ``paper`` the comparison with the Optimus paper, linking the
    plots named in ``figures`` (None: every experiment's)."""
    lines = study_tables(s, title)
    if paper:
        lines += ["", paper_comparison(s, figures=figures).rstrip()]
    return "\n".join(lines) + "\n"


def read_manifest(directory: str | Path) -> dict[str, Any]:
    path = Path(directory) / MANIFEST_FILE
    try:
        doc = json.loads(path.read_text(errors="replace"))
    except (OSError, ValueError, RecursionError):  # missing, unreadable or damaged: the records still render
        return {}
    return doc if isinstance(doc, dict) else {}


def render(directory: str | Path, *, plots: bool = True, paper: bool | None = None) -> Summary:
    """Write ``plots/`` (with matplotlib), ``summary.md`` and ``summary.csv`` of a study directory from its
    ``results.jsonl``; the paper comparison goes into ``summary.md`` when the manifest's preset is ``paper``
    (or ``paper`` says so), and links the plots that are there (an experiment without runs has none, nor has a
    study rendered without plots)."""
    directory = Path(directory)
    summary = summarize(load_records(directory))
    if paper is None:
        paper = read_manifest(directory).get("preset") == "paper"
    if plots:
        try:
            plot(summary, directory / "plots")
            if paper:
                plot_paper(summary, directory / "plots")
        except ImportError:
            pass  # matplotlib is an optional extra: the tables are written either way
    figures = {p.name for p in (directory / "plots").glob("paper-*.png")}
    write_atomic(directory / "summary.md", markdown(summary, paper=paper, figures=figures))
    write_atomic(directory / "summary.csv", summary.to_csv())
    return summary


__all__ = ["ARTIFACT_MIB", "ARTIFACT_NOTES", "MIB", "Summary", "artifact_comparison", "best_bounds",
           "experiment_table", "markdown", "optimum", "paper_comparison", "plot", "plot_paper", "proven_infeasible",
           "read_manifest", "render", "solver_rank", "summarize"]
