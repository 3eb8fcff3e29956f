"""The picture of a schedule (optimus_opt/io/show.py): the layered layout, the matplotlib drawing (what CI has), the
Graphviz source, and the Graphviz drawing where ``dot`` is installed."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

import optimus_opt as oo  # noqa: E402
from optimus_opt import zoo  # noqa: E402
from optimus_opt.cli import main  # noqa: E402
from optimus_opt.cost.schedule import Group, Schedule  # noqa: E402
from optimus_opt.io import show
from optimus_opt.model.errors import OptimusError, ScheduleError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "instances" / "example-64k.json"


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def example():
    inst = oo.load_instance(EXAMPLE)
    return inst, oo.solve(inst, "exact-dp")


@pytest.fixture(scope="module")
def googlenet():
    inst = oo.Instance(zoo.build("googlenet"), oo.accelerator_preset("optimus-npu"), 4, name="googlenet")
    return inst, oo.solve(inst, "optimus")


def test_layered_layout_levels_gaps_and_routes():
    net = zoo.build("resnet18")
    lay = show.layered_layout(net)
    # levels: longest distance from the input; every edge goes down
    for c, prods in enumerate(net.producers):
        for p in prods:
            assert lay.level[c] > lay.level[p]
            route = lay.routes[(p, c)]
            assert route[0] == p and route[-1] == c
            assert [lay.level[v] for v in route] == list(range(lay.level[p], lay.level[c] + 1))
    # no two things of a level overlap
    for row in lay.levels:
        xs = sorted((lay.x[v], show.BOX if isinstance(v, int) else show.BEND) for v in row)
        for (x0, w0), (x1, w1) in zip(xs, xs[1:]):
            assert x1 - x0 >= (w0 + w1) / 2 + min(show.GAP, show.BEND_GAP) - 1e-9
    # a residual skip runs beside the block it skips, not through it
    add = net.index["layer1.0.add"] if "layer1.0.add" in net.index else next(
        i for i, l in enumerate(net.layers) if l.op == "add")
    skip = max(net.producers[add], key=lambda p: lay.level[add] - lay.level[p])
    bends = lay.routes[(skip, add)][1:-1]
    assert bends and all(isinstance(b, tuple) for b in bends)


def test_layered_layout_bundles_dense_skips():
    # DenseNet: a layer feeding many later concats runs one trunk of bend points, not one per concat
    net = zoo.build("densenet121")
    lay = show.layered_layout(net)
    bends = [v for v in lay.level if isinstance(v, tuple)]
    assert len(bends) < 20 * len(net.layers)
    widest = max(len(row) for row in lay.levels)
    assert lay.width < widest * (show.BOX + show.GAP)


def test_matplotlib_png_and_svg(example, tmp_path):
    inst, sched = example
    png, svg = tmp_path / "s.png", tmp_path / "s.svg"
    assert show.draw_schedule(inst, sched, png, engine="matplotlib") == "matplotlib"
    assert png_size(png)[0] > 500
    assert show.draw_schedule(inst, sched, svg, engine="matplotlib") == "matplotlib"
    text = svg.read_text()
    # the legend: group k: bytes, strips (the worked example's optimum, formulations/cost-model.md §6)
    assert "group 0: 144,384 B, 32 strips" in text and "group 1: 109,076 B, 8 strips" in text
    # the concat is a view, drawn outside every group
    assert ">concat (view) 128×16×16<" in text
    for name in ("c1 *", "c2", "a1", "cat", "fc"):  # *: reduced channels
        assert f">{name}<" in text
    assert "253,460 B" in text


def test_auto_falls_back_to_matplotlib_without_dot(example, tmp_path, monkeypatch):
    inst, sched = example
    monkeypatch.setattr(show.shutil, "which", lambda name: None)
    assert show.draw_schedule(inst, sched, tmp_path / "s.png") == "matplotlib"
    with pytest.raises(OptimusError, match="needs Graphviz's 'dot'"):
        show.draw_schedule(inst, sched, tmp_path / "s.png", engine="graphviz")


def test_a_hundred_layer_network_is_drawn_readably(googlenet, tmp_path):
    inst, sched = googlenet
    assert len(inst.network.layers) > 80
    path = tmp_path / "googlenet.png"
    assert show.draw_schedule(inst, sched, path, engine="matplotlib") == "matplotlib"
    width, height = png_size(path)
    # boxes at full size: 1.65 in at 110 dpi, four inception branches side by side, one level every 0.62 in
    lay = show.layered_layout(inst.network)
    assert width >= 4 * 1.65 * 110 and height >= len(lay.levels) * 0.62 * 110
    assert width < 3000 and height < 8000


def test_dot_source_has_one_cluster_per_group(example, tmp_path):
    inst, sched = example
    path = tmp_path / "s.dot"
    assert show.draw_schedule(inst, sched, path) == "dot-source"
    text = path.read_text()
    assert text.count("subgraph cluster_") == len(sched.groups) == 2
    assert 'label="group 0: 144,384 B, 32 strips"' in text
    assert '"c1" -> "c2"' in text and '"a1" -> "p1" [color="#777777"]' in text  # between groups: grey
    # the concat is a node of no cluster; its edges stay on chip, in group 1's colour, since c4, c5 and g are there
    cluster_1 = text[text.index("subgraph cluster_1"):]
    cluster_1 = cluster_1[:cluster_1.index("}")]
    assert '"cat"' not in cluster_1 and '"cat" [label="cat\nconcat (view) 128×16×16", style="rounded,dotted"]' in text
    assert f'"c4" -> "cat" [color="{show.edge_color(1)}", penwidth=1.5]' in text
    assert f'"cat" -> "g" [color="{show.edge_color(1)}", penwidth=1.5]' in text


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_graphviz_drawing(example, tmp_path):
    inst, sched = example
    path = tmp_path / "s.png"
    assert show.draw_schedule(inst, sched, path, engine="graphviz") == "graphviz"
    assert png_size(path)[0] > 100
    assert show.draw_schedule(inst, sched, tmp_path / "s.svg") == "graphviz"
    assert "group 1: 109,076 B" in (tmp_path / "s.svg").read_text()


def test_bad_requests(example, tmp_path):
    inst, sched = example
    with pytest.raises(OptimusError, match="cannot draw to '.txt'"):
        show.draw_schedule(inst, sched, tmp_path / "s.txt")
    with pytest.raises(OptimusError, match="unknown drawing engine"):
        show.draw_schedule(inst, sched, tmp_path / "s.png", engine="tikz")
    bad = Schedule(instance="x", solver="hand", status="feasible", groups=(Group(("c1", "a1")),))
    with pytest.raises(ScheduleError):
        show.draw_schedule(inst, bad, tmp_path / "s.png")


def test_cli_show(tmp_path, capsys):
    sched = tmp_path / "s.json"
    assert main(["solve", str(EXAMPLE), "--solver", "exact-dp", "-o", str(sched)]) == 0
    out = tmp_path / "s.png"
    assert main(["show", str(EXAMPLE), str(sched), "-o", str(out), "--engine", "matplotlib"]) == 0
    assert f"drawing of cost-model-example-64k (2 groups) written to {out}" in capsys.readouterr().out
    assert png_size(out)[0] > 500
    assert main(["show", str(EXAMPLE), str(sched), "-o", str(tmp_path / "s.bmp")]) == 2
    assert "cannot draw to '.bmp'" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "optimus-opt/schedule@2", "groups": [{"layers": ["c1", "a1"]}]}')
    assert main(["show", str(EXAMPLE), str(bad), "-o", str(out)]) == 1
    assert "invalid schedule" in capsys.readouterr().err
