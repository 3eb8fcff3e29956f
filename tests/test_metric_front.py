"""The exact front of any two metrics (optimus_opt/solvers/pareto.py, ``metric_front``; ``pareto --x --y``) on the
cost model's worked example at 32 KiB in 2-D tiles: each corner against its own schedule, the optima of one metric,
budgeted solves and a brute force over every schedule; the columns against the buffer against the cost model at
each capacity; the command's table, file, plot and errors."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from bruteforce import _partitions, _quotient, resolved_graph

import optimus_opt as oo
from optimus_opt.cli import main
from optimus_opt.cost import objective
from optimus_opt.cost.cost_model import CostModel
from optimus_opt.cost.parts import FULL
from optimus_opt.model.errors import SolverError
from optimus_opt.solvers.pareto import (
    FRONT_FIELDS,
    FrontInterrupted,
    metric_front,
    pareto_front,
    recompute_front,
    schedule_value,
)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "instances" / "example-32k.json"


@pytest.fixture(scope="module")
def tiles() -> oo.Instance:
    return oo.load_instance(EXAMPLE).with_overrides(tiling="tiles")


def _undominated(points: set[tuple[int, int]]) -> list[tuple[int, int]]:
    """The pairs no other is at most in both, by increasing first value."""
    kept: list[tuple[int, int]] = []
    for a, b in sorted(points):
        if not kept or b < kept[-1][1]:
            kept.append((a, b))
    return kept


def _brute_front(inst: oo.Instance, x: str, y: str) -> list[tuple[int, int]]:
    """The front over every schedule: every partition into valid groups whose groups admit an order (the brute
    force's own rules), each group under every tiling the cost model lists for it, the sums reduced to pairs no
    other beats."""
    g, cm, net = resolved_graph(inst), CostModel(inst), inst.network
    fx, fy = FRONT_FIELDS[x], FRONT_FIELDS[y]
    pairs: dict[frozenset, list[tuple[int, int]]] = {}
    found: set[tuple[int, int]] = set()
    for _, blocks in _partitions(inst, g):
        if not nx.is_directed_acyclic_graph(_quotient(g, blocks)):
            continue
        sums = [(0, 0)]
        for block in blocks:
            if block not in pairs:
                opts = objective.options(cm, [net.index[n] for n in block], FULL)
                pairs[block] = _undominated({(int(a), int(b)) for a, b in zip(opts.figures[fx], opts.figures[fy])})
            sums = _undominated({(a + c, b + d) for a, b in sums for c, d in pairs[block]})
        found.update(sums)
    return _undominated(found)


def _values(inst: oo.Instance, point) -> dict[str, int]:
    """Every metric of a corner's schedule as evaluate recomputes it at the corner's capacity."""
    sched = oo.evaluate(inst.with_overrides(buffer_bytes=point.buffer_bytes), point.schedule).schedule
    return {"buffer": point.buffer_bytes, **{m: schedule_value(sched, m) for m in ("dram", "energy", "latency",
                                                                                    "recompute")}}


@pytest.mark.parametrize("x, y", [("dram", "energy"), ("energy", "latency"), ("recompute", "dram"),
                                  ("latency", "recompute")])
def test_the_front_is_the_brute_force_front_and_each_corner_its_schedule(tiles, x, y):
    front = metric_front(tiles, x, y)
    assert front.complete and front.stopped is None
    assert [(p.x, p.y) for p in front.points] == _brute_front(tiles, x, y)
    for p in front.points:
        assert p.buffer_bytes == 32768 and (_values(tiles, p)[x], _values(tiles, p)[y]) == (p.x, p.y)


def test_known_corners_and_their_ends(tiles):
    """DRAM against energy: three corners, from the least traffic (the plain optimum, 425,492 B) to the least
    energy (the energy objective's optimum), each corner the budgeted optimum at its traffic."""
    front = metric_front(tiles, "dram", "energy")
    assert [(p.x, p.y) for p in front.points] == [(425492, 98154259800), (429588, 96058131800),
                                                  (482836, 95163667800)]
    assert front.points[0].x == oo.solve(tiles, "cpsat").dram_bytes
    assert front.points[-1].y == oo.solve(tiles, "cpsat", objective="energy").energy_fj
    # the other way round: the least energy with at most a corner's bytes is that corner's energy
    for p in front.points:
        assert oo.solve(tiles, "cpsat", objective="energy", max_dram=p.x).energy_fj == p.y


def test_energy_against_recompute_is_the_budgeted_optimum_at_each_corner(tiles):
    front = metric_front(tiles, "energy", "recompute")
    assert front.points[0].x == oo.solve(tiles, "cpsat", objective="energy").energy_fj
    assert front.points[-1].y == 0  # no recompute is always possible here: the last corner has none
    for p in front.points:
        assert oo.solve(tiles, "cpsat", objective="energy", max_recompute=p.y).energy_fj == p.x


def test_traffic_fronts_are_the_existing_ones(tiles):
    """DRAM against the buffer is :func:`pareto_front`'s, against recompute :func:`recompute_front`'s."""
    ours = metric_front(tiles, "buffer", "dram", min_buffer=24 * 1024)
    theirs = pareto_front(tiles, 24 * 1024, 32768)
    assert [(p.x, p.y) for p in ours.points] == sorted((p.buffer_bytes, p.dram_bytes) for p in theirs.points)
    assert len(ours.points) == 11 and ours.to_dict()["units"] == {"x": "B", "y": "B"}
    assert [(p.x, p.y) for p in metric_front(tiles, "recompute", "dram").points] == \
        sorted((p.added_macs, p.dram_bytes) for p in recompute_front(tiles).points)


def test_energy_against_the_buffer_is_the_optimum_at_each_corner_and_not_below(tiles):
    """Each corner (capacity N, energy E): the energy objective's optimum at N is E, at N − 1 it is more (the
    front falls only at corners), and the DP over every capacity and CP-SAT find the same corners."""
    front = metric_front(tiles, "energy", "buffer", min_buffer=28 * 1024)
    assert front.complete and front.info["method"] == "down-set DP at every capacity"
    assert len(front.points) == 7 and front.points[0].y == 32768
    for p in front.points:
        assert _values(tiles, p)["energy"] == p.x
        assert oo.solve(tiles.with_overrides(buffer_bytes=p.y), "exact-dp", objective="energy").energy_fj == p.x
        below = oo.solve(tiles.with_overrides(buffer_bytes=p.y - 1), "exact-dp", objective="energy")
        assert p.y == 28 * 1024 or below.energy_fj > p.x
    # CP-SAT's sweep finds the DP's corners (layer by layer, to keep CP-SAT quick), the axes swapped too
    by_cpsat, by_dp = (metric_front(tiles, "buffer", "energy", min_buffer=28 * 1024, max_group=1, method=m)
                       for m in ("cpsat", "dp"))
    assert by_cpsat.info["method"] == "cpsat" and len(by_cpsat.points) == 6
    assert [(p.x, p.y) for p in by_cpsat.points] == [(p.x, p.y) for p in by_dp.points]


def test_the_columns_against_the_buffer_are_what_the_cost_model_lists_at_each_capacity(tiles):
    """``spans`` (every tiling at some capacity, with the capacities where it is taken) against ``options`` at
    each capacity, where streamed weights, batch blocks and passes change: batch 2, weights staged or not."""
    def listed(opts, rows):
        return {(t.strips, t.tile_cols, t.halo, t.batch_block, t.passes, t.resident, t.reduced,
                 *(int(opts.figures[m][i]) for m in objective.METRICS)) for i in rows for t in [opts.tiling(i)]}

    kinds = set()  # passes; streamed weights over several tiles; a streamed batch block of 2
    for staging in ("block", "none"):
        acc = dataclasses.replace(tiles.accelerator, weight_staging=staging)
        inst = dataclasses.replace(tiles, accelerator=acc).with_overrides(batch=2)
        top = CostModel(inst)
        for group in ([1], [6], [10], [1, 2], [5, 6, 7]):
            opts, low, high = objective.spans(top, group, FULL)
            edges = np.unique(np.concatenate([low, high[high <= 32768]]))
            edges = edges[np.linspace(0, len(edges) - 1, 6).astype(int)]  # six of them, the least and the largest
            for cap in sorted({32768, *(int(e) + d for e in edges for d in (-1, 0) if e + d > 0)}):
                want = objective.options(CostModel(inst.with_overrides(buffer_bytes=cap)), group, FULL)
                got = listed(opts, np.flatnonzero((low <= cap) & (cap < high)))
                assert got == (set() if want is None else listed(want, range(len(want)))), (staging, group, cap)
                kinds |= {"passes" if t[4] > 1 else "block of 2" if t[3] == 2 else "streamed" if not t[5] else ""
                          for t in got}
    assert kinds >= {"passes", "block of 2", "streamed"}


def test_bad_metrics_are_refused_in_one_line(tiles):
    with pytest.raises(SolverError, match=r"^unknown metric 'power' for a front \(known: dram, energy, latency, "
                                          r"recompute, buffer\)$"):
        metric_front(tiles, "power", "dram")
    with pytest.raises(SolverError, match="^a front trades two different metrics, got 'energy' twice"):
        metric_front(tiles, "energy", "energy")
    with pytest.raises(SolverError, match="^min_buffer and max_buffer bound a front against the buffer"):
        metric_front(tiles, "energy", "dram", max_buffer=4096)


def test_ctrl_c_keeps_the_corners_found(tiles):
    def stop(point):
        raise KeyboardInterrupt

    with pytest.raises(FrontInterrupted) as caught:
        metric_front(tiles, "dram", "energy", progress=stop)
    front = caught.value.front
    assert (front.complete, front.stopped, [(p.x, p.y) for p in front.points]) == \
        (False, "interrupted", [(425492, 98154259800)])
    assert front.to_dict()["partial"] is True


def test_pareto_command_with_two_metrics(tmp_path, capsys):
    out, png = tmp_path / "front.json", tmp_path / "front.png"
    assert main(["pareto", str(EXAMPLE), "--tiling", "tiles", "--x", "dram", "--y", "energy", "-o", str(out),
                 "--plot", str(png), "-q"]) == 0
    text = capsys.readouterr().out
    assert "dram (B)" in text and "energy (µJ)" in text and "3 corners" in text
    assert "429,588" in text and "96.058132" in text
    doc = json.loads(out.read_text())
    assert (doc["format"], doc["x"], doc["y"], doc["units"]) == ("optimus-opt/front@1", "dram", "energy",
                                                                 {"x": "B", "y": "fJ"})
    assert [(p["x"], p["y"]) for p in doc["points"]] == [(425492, 98154259800), (429588, 96058131800),
                                                        (482836, 95163667800)]
    assert png.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("args, message", [
    (["--x", "energy"], "field '--y': a front of two metrics needs both --x and --y"),
    (["--x", "energy", "--y", "energy"], "a front trades two different metrics, got 'energy' twice"),
    (["--x", "joules", "--y", "dram"], "unknown metric 'joules' for a front (known: dram, energy, latency, "
                                       "recompute, buffer)"),
    (["--x", "dram", "--y", "recompute"], "field '--y': a front of the MACs recompute adds needs 2-D tiles"),
    (["--x", "energy", "--y", "dram", "--buffers", "1KiB..2KiB"], "field '--buffers': --buffers is the range of "
                                                                  "a front against the buffer"),
    (["--x", "energy", "--y", "dram", "--target", "5"], "field '--target': --target asks for the least buffer"),
])
def test_pareto_command_refuses_bad_metrics_in_one_line(capsys, args, message):
    assert main(["pareto", str(EXAMPLE), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
