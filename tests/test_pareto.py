"""The exact traffic/capacity Pareto front, checked against re-solving the plain problem at every corner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import optimus_opt as oo
from optimus_opt.cli import main
from optimus_opt.solvers import pareto
from optimus_opt.solvers.pareto import FrontInterrupted, least_buffer, pareto_front
from optimus_opt.utils import progress as _progress
from optimus_opt.utils.deadline import Deadline

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "instances" / "example-64k.json"


@pytest.fixture(scope="module")
def front(example):
    return pareto_front(example, 8 * 1024, 256 * 1024)


def test_every_corner_is_the_plain_optimum_and_the_least_buffer_for_it(example, front):
    assert front.complete and len(front.points) == 30
    previous = None
    for point in front.points:
        # the plain problem (exact-dp, which knows nothing of the front's columns) at the corner's capacity ...
        at = oo.solve(example.with_overrides(buffer_bytes=point.buffer_bytes), "exact-dp")
        assert at.status == "optimal" and at.dram_bytes == point.dram_bytes
        # ... and one byte less: strictly worse, or nothing fits (the front's lowest point may be the bottom of its
        # range rather than a corner)
        if point.buffer_bytes > front.min_buffer:
            below = oo.solve(example.with_overrides(buffer_bytes=point.buffer_bytes - 1), "exact-dp")
            assert below.status == "infeasible" or below.dram_bytes > point.dram_bytes
        # each point's schedule evaluates to its traffic at its capacity
        at_point = example.with_overrides(buffer_bytes=point.buffer_bytes)
        assert oo.evaluate(at_point, point.schedule).dram_bytes == point.dram_bytes
        if previous is not None:
            assert point.buffer_bytes < previous.buffer_bytes and point.dram_bytes > previous.dram_bytes
        previous = point


def test_known_corners(front):
    corners = {p.buffer_bytes: p.dram_bytes for p in front.points}
    # compulsory traffic (122,388 B: the whole network as one group with resident weights) needs 142,612 B =
    # 53,012 B of feature maps at Q = 32 + 89,600 B of weights (the concat is a view and holds nothing of its own)
    assert corners[142612] == 122388
    # the spec's 64 KiB optimum, 253,460 B, already holds from 64,512 B = 18,432 B of feature maps + 46,080 B
    # of resident weights for {c1, c2, c3, a1} at Q = 32
    assert corners[64512] == 253460
    assert front.optimum_at(65536) == 253460
    # weight blocks let every layer run below 8 KiB: the front reaches down to the bottom of its range
    assert min(corners) == 8192


def test_least_buffer_with_any_schedule(example):
    low = pareto_front(example, 1024, 8192)
    assert min(p.buffer_bytes for p in low.points) == 7808 and low.optimum_at(7807) is None
    assert oo.solve(example.with_overrides(buffer_bytes=7807), "exact-dp").status == "infeasible"


def test_least_buffer_for_a_target(example, front):
    point = least_buffer(example, 300000, 256 * 1024)
    assert (point.buffer_bytes, point.dram_bytes) == (60416, 286228)
    assert least_buffer(example, 122387, 256 * 1024) is None  # below compulsory traffic: impossible


# -- the two sweeps, the README's example, and a sweep that stops early ---------------------------------------------

def test_the_cpsat_sweep_gives_the_dps_corners(example, front, monkeypatch):
    """A network with more down-sets than the DP takes is swept by CP-SAT (one model, copied per solve): the same
    corners. The worked example has 11 down-sets; a limit of 0 transitions sends it to CP-SAT."""
    assert (front.info["method"], front.info["downsets"], front.info["solves"]) == ("down-set DP", 11, 30)
    monkeypatch.setattr(pareto, "MAX_TRANSITIONS", 0)
    by_cpsat = pareto_front(example, 8 * 1024, 256 * 1024)
    assert by_cpsat.info["method"] == "cpsat" and by_cpsat.info["solves"] == 2 * 30  # P1 and P2 per corner
    assert [(p.buffer_bytes, p.dram_bytes) for p in by_cpsat.points] == \
        [(p.buffer_bytes, p.dram_bytes) for p in front.points]
    assert {p.schedule.solver for p in by_cpsat.points} == {"pareto-cpsat"}
    assert {p.schedule.solver for p in front.points} == {"pareto-dp"}
    point = least_buffer(example, 300000, 256 * 1024)
    assert (point.buffer_bytes, point.dram_bytes) == (60416, 286228)
    with pytest.raises(oo.SolverError, match=r"unknown method 'milp' for the front \(known: auto, dp, cpsat\)"):
        pareto_front(example, 8 * 1024, 256 * 1024, method="milp")


def test_readme_pareto_front_example_runs():
    """The README's library example of the front (SqueezeNet 1.0 from 16 KiB to 1 MiB), run as written."""
    text = (ROOT / "README.md").read_text()
    block = text[text.index("## Library"):]
    code = block[block.index("```python") + len("```python"):]
    code = code[:code.index("```")]
    sweep = "import optimus_opt as oo\n" + code[code.index("from optimus_opt import zoo"):]
    scope: dict = {}
    exec(compile(sweep, "README.md", "exec"), scope)  # noqa: S102 - the README's own example
    front = scope["front"]
    corners = [(p.buffer_bytes, p.dram_bytes) for p in front.points]
    assert front.complete and len(corners) == 65
    assert corners[0] == (1005696, 4442000) and corners[-1] == (70272, 77848160)
    # at 128 KiB the front gives exact-dp's optimum (the solve command's figure for this instance)
    assert front.optimum_at(131072) == oo.solve(scope["net"], "exact-dp").dram_bytes == 34120864
    assert "# 65 exact corners of traffic against buffer capacity" in code


class _Stopper(_progress.Reporter):
    """Moves a fake clock past the deadline when the sweep starts its third corner."""

    def __init__(self, now: list[float]) -> None:
        self.now, self.corners = now, 0

    def phase(self, name: str) -> None:
        if name.startswith("the optimum at"):
            self.corners += 1
            if self.corners == 3:
                self.now[0] = 11.0


def _stopped_after_two_corners(real):
    def sweep(*args, **kwargs):
        now = [0.0]
        kwargs.update(deadline=Deadline.after(10, clock=lambda: now[0]), reporter=_Stopper(now))
        return real(*args, **kwargs)
    return sweep


def test_a_sweep_stopped_by_its_time_limit_or_ctrl_c_keeps_its_corners_marked_partial(example, front):
    stopped = _stopped_after_two_corners(pareto_front)(example, 8 * 1024, 256 * 1024)
    assert (stopped.complete, stopped.stopped) == (False, "time limit")
    assert stopped.points == front.points[:2]
    doc = stopped.to_dict()
    assert (doc["partial"], doc["stopped"], len(doc["points"])) == (True, "time limit", 2)
    assert (front.to_dict()["partial"], front.to_dict()["stopped"]) == (False, None)

    def ctrl_c_at_the_second_corner(point):
        if point.buffer_bytes == front.points[1].buffer_bytes:
            raise KeyboardInterrupt

    with pytest.raises(FrontInterrupted) as stop:
        pareto_front(example, 8 * 1024, 256 * 1024, progress=ctrl_c_at_the_second_corner)
    assert isinstance(stop.value, KeyboardInterrupt)  # code that does not know it stops as on any Ctrl-C
    assert (stop.value.front.complete, stop.value.front.stopped) == (False, "interrupted")
    assert stop.value.front.points == front.points[:2]
    assert stop.value.front.to_dict()["partial"] is True


def test_pareto_command_marks_a_front_stopped_by_its_time_limit(tmp_path, capsys, monkeypatch):
    """A time-limit stop exits 0, says so, and marks the file and the plot's title partial."""
    from optimus_opt.io import figures

    monkeypatch.setattr(pareto, "pareto_front", _stopped_after_two_corners(pareto.pareto_front))
    titles = []
    save = figures.save_atomically
    monkeypatch.setattr(figures, "save_atomically", lambda fig, path, **kw: (titles.append(fig.axes[0].get_title()),
                                                                           save(fig, path, **kw)))
    out, png = tmp_path / "front.json", tmp_path / "front.png"
    assert main(["pareto", str(EXAMPLE), "--buffers", "8KiB..256KiB", "-o", str(out), "--plot", str(png)]) == 0
    text = capsys.readouterr().out
    assert "2 corners in " in text and "(stopped at the time limit: the front below the last corner is missing)" in text
    assert f"front written to {out} (partial: time limit)" in text
    assert f"plot written to {png} (partial: time limit)" in text
    doc = json.loads(out.read_text())
    assert (doc["complete"], doc["partial"], doc["stopped"]) == (False, True, "time limit")
    assert [(p["buffer_bytes"], p["dram_bytes"]) for p in doc["points"]] == [(142612, 122388), (140032, 122900)]
    assert titles == ["cost-model-example-64k: exact traffic/capacity front (partial: time limit)"]
