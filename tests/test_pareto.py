"""The exact traffic/capacity Pareto front, checked against re-solving the plain problem at every corner."""

from __future__ import annotations

import pytest

import optimus_opt as oo
from optimus_opt.solvers.pareto import least_buffer, pareto_front


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
