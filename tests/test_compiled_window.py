"""The compiled window (optimus_opt/solvers/compiled_window.py) against its oracles: the candidate space enumerates
the same pieces, and the Python local cost (segment_bound._LocalCost) gives every piece the same cost, on random
DAGs and on windows of the zoo whose bitsets span several words; Φ's independent sets against brute force."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import instances

import optimus_opt as oo
from optimus_opt.cost.candidates import CandidateSpace, bits
from optimus_opt.io.resolve import resolve_instance
from optimus_opt.solvers import segment_bound as sb
from optimus_opt.solvers.compiled_window import NO_FIT, WindowPieces, _mwis
from optimus_opt.utils.deadline import NEVER, Deadline

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def listed(cm, cores, seg: int, max_group=None, limit=None) -> WindowPieces:
    return WindowPieces.listed(CandidateSpace(cm, max_group=max_group, within=seg, floors=False, limit=limit),
                               tuple(bits(seg)))


def assert_same_window(cm, cores, index: int, overlap: int, fed: bool, max_group=None, first: int | None = None):
    """The compiled pieces of one window are the candidate space's, in the same order, and each costs what the
    Python local cost says (``first``: only that many pieces are costed)."""
    seg = cores.window(index, overlap, fed)
    layers = tuple(bits(seg))
    compiled = WindowPieces.of(cm, cores.reach, layers, max_group, NEVER, None)
    reference = listed(cm, cores, seg, max_group)
    assert compiled.complete and reference.complete
    assert compiled.firsts.tolist() == reference.firsts.tolist()
    assert compiled.masks.tolist() == reference.masks.tolist()
    assert compiled.needs.tolist() == reference.needs.tolist()
    cost = sb.local_costs(cm, cores.order, cores.reach)(cores.core(index), seg)
    masks = compiled.masks[:first]
    costs = cost.compiled.costs(cost.core, seg, np.array(layers), masks)
    python = [cost(sum(1 << layers[i] for i in bits(int(m)))) for m in masks]
    assert costs.tolist() == [NO_FIT if c is None else c for c in python]


@SETTINGS
@given(instances(min_layers=2, max_layers=10), st.integers(1, 5), st.integers(0, 3), st.booleans(),
       st.sampled_from([None, 1, 2, 3]))
def test_compiled_windows_match_the_candidate_space_and_the_python_cost(inst, size, overlap, fed, max_group):
    cm = oo.CostModel(inst)
    cores = sb.segments(cm, size)
    for index in range(len(cores)):
        if cm.tiles is not None:  # not compiled: the Python local cost prices the pieces of the candidate space
            assert WindowPieces.of(cm, cores.reach, tuple(bits(cores.window(index, overlap, fed))), max_group, NEVER,
                                   None) is None
        else:
            assert_same_window(cm, cores, index, overlap, fed, max_group)


@pytest.mark.parametrize("name, buffer, merged, index, first", [
    ("googlenet", 512 * 1024, False, 1, None),  # an inception module: 5,342 pieces
    ("inception_v3", 1024 * 1024, False, 4, 3000),
    ("nasnet_a_mobile", 128 * 1024, True, 6, None),  # a cell's window, 781 pieces: hulls span cells
    ("nasnet_a_mobile", 512 * 1024, True, 11, 3000),  # 9,624 pieces, many with tensors crossing the edge
])
def test_compiled_windows_match_on_the_zoo(name, buffer, merged, index, first):
    # NASNet-A Mobile has 519 nodes: every set is 9 words wide, and the hulls of the tensors crossing a
    # window's edge reach far beyond it
    cm = oo.CostModel(resolve_instance(name, buffer=buffer))
    cores = sb.segments(cm, sb.DEFAULT_SEGMENT)
    overlap, fed = (sb.DEFAULT_OVERLAP, False)
    if merged:
        cores = cores.merged(cm, sb.MERGED_SEGMENT)[0]
        overlap, fed = sb.MERGED_OVERLAP, True
    assert_same_window(cm, cores, index, overlap, fed, first=first)


def test_a_limit_stops_the_compiled_enumeration_where_the_candidate_space_stops():
    cm = oo.CostModel(resolve_instance("googlenet", buffer=512 * 1024))
    cores = sb.segments(cm, sb.DEFAULT_SEGMENT)
    seg = cores.window(1, sb.DEFAULT_OVERLAP, False)
    whole = WindowPieces.of(cm, cores.reach, tuple(bits(seg)), None, NEVER, None)
    assert (len(whole.masks), whole.complete, whole.capped) == (5342, True, False)
    capped = WindowPieces.of(cm, cores.reach, tuple(bits(seg)), None, NEVER, 5342)
    assert (len(capped.masks), capped.complete, capped.capped) == (5342, False, True)
    assert (capped.complete, capped.capped) == (listed(cm, cores, seg, limit=5342).complete, True)


def test_under_tiles_the_python_cost_prices_the_windows():
    cm = oo.CostModel(oo.load_instance("instances/example-32k.json").with_overrides(tiling="tiles"))
    cores = sb.segments(cm, 3)
    assert WindowPieces.of(cm, cores.reach, tuple(bits(cores.window(0, 0))), None, NEVER, None) is None
    assert sb.local_costs(cm, cores.order, cores.reach)(cores.core(0), cores.window(0, 0)).compiled is None


def test_the_python_cost_gives_a_window_the_same_optimum():
    inst = oo.load_instance("instances/example-64k.json")
    cm = oo.CostModel(inst)
    cores = sb.segments(cm, 3)
    local = sb.local_costs(cm, cores.order, cores.reach)
    values = []
    for compiled in (True, False):
        cost = local(cores.core(0), cores.window(0, 0))
        if not compiled:
            cost.compiled = None
        values.append(sb._segment_dp(cm, cores.window(0, 0), cost, NEVER, None)[0])
    assert values == [60_416, 60_416]  # test_segment_bound's {c1, c2}, derived by hand there


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 11).flatmap(lambda n: st.tuples(
    st.lists(st.integers(0, 1000), min_size=n, max_size=n),
    st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=2 * n))))
def test_the_compiled_independent_set_is_the_heaviest(graph):
    weights, edges = graph
    n = len(weights)
    adj = np.zeros(n, np.int64)
    for a, b in edges:
        if a != b:
            adj[a] |= 1 << b
            adj[b] |= 1 << a
    best = max(sum(weights[i] for i in chosen) for size in range(n + 1)
               for chosen in itertools.combinations(range(n), size)
               if all(not adj[i] >> j & 1 for i in chosen for j in chosen))
    assert _mwis((1 << n) - 1, adj, np.array(weights, np.int64)) == best


def test_the_compiled_enumeration_stops_at_the_deadline():
    # the merged window of cores 5 and 6 of NASNet-A at 512 KiB has 3,130,173 pieces, 6 s of enumeration on an idle
    # machine: the wall clock is looked at every CLOCK_PIECES pieces, inside a first layer's growth as well
    cm = oo.CostModel(resolve_instance("nasnet_a_mobile", buffer=512 * 1024))
    joined = sb.segments(cm, sb.DEFAULT_SEGMENT).merged(cm, sb.MERGED_SEGMENT)[0]
    layers = tuple(bits(joined.window(3, sb.MERGED_OVERLAP, True)))
    began = time.perf_counter()
    found = WindowPieces.of(cm, joined.reach, layers, None, Deadline.after(0.2), None)
    assert (found.complete, found.capped) == (False, False)
    assert len(found.masks) < 3_130_173 and time.perf_counter() - began < 2.0
