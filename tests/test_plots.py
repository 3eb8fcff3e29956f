"""The figures of a study as a reader sees them (optimus_opt/studies/plots.py, report.py; issue 26 item 7): titles
that say each thing once, legends beside the axes rather than over bars and lines, PNG files of a size that can be
read however many instances a study has, and a summary.md that links only the plots that were written. The
records are made here (no solver runs), so each test takes about a second."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")
import matplotlib.image  # noqa: E402

from optimus_opt import zoo  # noqa: E402
from optimus_opt.model.instance import Instance  # noqa: E402
from optimus_opt.model.presets import accelerator_preset  # noqa: E402
from optimus_opt.studies import paper, plots, report  # noqa: E402
from optimus_opt.studies.records import RECORD_FORMAT, RESULTS_FILE, instance_id  # noqa: E402
from optimus_opt.studies.summary import summarize  # noqa: E402

#: The largest a PNG may be, in pixels: 16 × 12 inches at 120 dpi (a page or a screen), and a pad of 0.08 inch
#: on each side.
MAX_PIXELS = (16 * 120 + 20, 12 * 120 + 20)


def _records(instances: list[Instance]) -> list[dict]:
    """Records of layerwise, optimus and exact-dp on each instance, as a study writes them: the heuristics at 3 and
    2 times the optimum, exact-dp optimal (its bound is its traffic), the optimum shrinking with the buffer."""
    out = []
    for k, inst in enumerate(instances):
        best = 10_000_000 + 3 * 2 ** 30 // inst.accelerator.buffer_bytes * 1000 + 1000 * k
        for solver, factor in (("layerwise", 3), ("optimus", 2), ("exact-dp", 1)):
            exact = solver == "exact-dp"
            iid = instance_id(inst)
            out.append({"format": RECORD_FORMAT, "run_id": f"{iid}-{solver}", "instance_id": iid,
                        "instance": inst.name, "network": inst.network.name, "accelerator": inst.accelerator.name,
                        "buffer_bytes": inst.accelerator.buffer_bytes, "batch": inst.batch,
                        "channel_tile": inst.accelerator.channel_tile, "tiling": "strips", "halo": "choose",
                        "layers": len(inst.network.layer_ids), "solver": solver,
                        "status": "optimal" if exact else "feasible", "dram_bytes": best * factor,
                        "bound_bytes": best if exact else None, "bound_scope": "all" if exact else None,
                        "solve_seconds": 0.01 * factor, "wall_seconds": 0.02 * factor})
    return out


@pytest.fixture(scope="module")
def experiments():
    """The paper preset's experiments, the overall comparison cut to its first four instances."""
    exps = {e.key: e for e in paper.paper_experiments()}
    return {**exps, "overall": dataclasses.replace(exps["overall"], instances=exps["overall"].instances[:4])}


@pytest.fixture()
def drawn(monkeypatch):
    """Every figure saved, by file stem: its titles and whether each legend overlaps its axes, read just before
    the figure is written."""
    seen: dict[str, dict] = {}
    save = plots._Figures.save

    def record(canvas, fig, stem):
        save(canvas, fig, stem)  # drawn once to be written: the extents below are those of the files
        overlaps = [ax.get_legend().get_window_extent().overlaps(ax.get_window_extent())
                    for ax in fig.axes if ax.get_legend() is not None]
        titles = [fig.get_suptitle()] + [ax.get_title() for ax in fig.axes]
        seen[stem] = {"titles": [t for t in titles if t], "legend_over_axes": overlaps}

    monkeypatch.setattr(plots._Figures, "save", record)
    return seen


def _repeats(title: str) -> list[str]:
    """Pairs of words that occur twice in a title ("at batch 4, batch 4")."""
    words = re.findall(r"[\w.-]+", title.lower())
    pairs = [" ".join(p) for p in zip(words, words[1:])]
    return sorted({p for p in pairs if pairs.count(p) > 1})


def test_paper_figures_say_each_thing_once_with_legends_beside_the_axes(tmp_path, experiments, drawn):
    insts = [i for exp in experiments.values() for i in exp.instances]
    summary = summarize(_records(list({instance_id(i): i for i in insts}.values())))
    written = plots.plot_paper(summary, tmp_path, list(experiments.values()))
    assert sorted(p.name for p in written if p.suffix == ".png") == \
        [f"paper-{k}.png" for k in ("artifact", "batch", "buffer", "overall", "pe-array")]
    # the title the buffer sweep had said "...at batch 4, batch 4"
    assert drawn["paper-buffer"]["titles"] == ["squeezenet1_0 on optimus-npu, batch 4: buffer sweep"]
    assert drawn["paper-batch"]["titles"] == [f"{net} on optimus-npu (128 KiB)" for net in ("vgg16", "squeezenet1_0")]
    for stem, fig in drawn.items():
        assert fig["titles"], stem
        assert [_repeats(t) for t in fig["titles"]] == [[] for _ in fig["titles"]], stem
        assert fig["legend_over_axes"] and not any(fig["legend_over_axes"]), stem  # one legend, beside the axes
    for path in written:
        if path.suffix == ".png":
            height, width = matplotlib.image.imread(path).shape[:2]
            assert 400 <= width <= MAX_PIXELS[0] and 300 <= height <= MAX_PIXELS[1], (path.name, width, height)


def test_the_gap_figure_of_many_instances_wraps_into_columns(tmp_path, drawn):
    """60 instances × 2 heuristics made a gap figure 2,832 pixels wide (the paper preset's was 7,886): now columns
    of instances, within MAX_WIDTH × MAX_HEIGHT inches, each instance's name written across. The study's other
    figures keep their legends beside the axes too."""
    acc = accelerator_preset("optimus-npu")
    net = zoo.build("squeezenet1_0")
    insts = [Instance(net, acc.with_overrides(buffer_bytes=64 * 1024 + 1024 * k), 4, name=f"sq-{k}")
             for k in range(60)]
    plots.plot(summarize(_records(insts)), tmp_path)
    height, width = matplotlib.image.imread(tmp_path / "gap.png").shape[:2]
    assert 800 <= width <= MAX_PIXELS[0] and 800 <= height <= MAX_PIXELS[1], (width, height)
    assert drawn["gap"]["titles"] == ["gap of each heuristic"]  # one title over both columns
    stem = "traffic-vs-buffer-squeezenet1_0-optimus-npu-b4"
    assert drawn[stem]["titles"] == ["squeezenet1_0 on optimus-npu, batch 4"]
    for stem, fig in drawn.items():
        assert fig["legend_over_axes"] and not any(fig["legend_over_axes"]), stem


def _study(directory: Path, instances: list[Instance]) -> None:
    directory.mkdir()
    (directory / RESULTS_FILE).write_text("".join(json.dumps(r) + "\n" for r in _records(instances)))


def _links(directory: Path) -> list[str]:
    return re.findall(r"\]\((plots/[^)]+)\)", (directory / "summary.md").read_text())


def test_report_links_only_the_plots_it_wrote(tmp_path, experiments, monkeypatch):
    """``report --paper`` on a study that is not the paper's: its SqueezeNet instance is in the overall comparison
    and the sweeps, so their figures are drawn and linked; no run is in the artifact experiment, whose figure is
    neither drawn nor linked. Rendered without plots, summary.md links none. (The study's own figures, which
    summary.md does not link, are left out to save time.)"""
    monkeypatch.setattr(report, "plot", lambda summary, directory: [])
    squeeze = experiments["overall"].instances[3]
    assert squeeze.name == "squeezenet1_0-optimus-npu-b4"
    _study(tmp_path / "s", [squeeze])
    report.render(tmp_path / "s", plots=True, paper=True)
    links = _links(tmp_path / "s")
    assert links == [f"plots/paper-{k}.png" for k in ("overall", "buffer", "batch", "pe-array")]
    assert all((tmp_path / "s" / link).is_file() for link in links)
    assert not (tmp_path / "s" / "plots" / "paper-artifact.png").exists()
    _study(tmp_path / "bare", [squeeze])
    report.render(tmp_path / "bare", plots=False, paper=True)
    assert _links(tmp_path / "bare") == [] and not (tmp_path / "bare" / "plots").exists()
