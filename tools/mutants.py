"""Mutation testing of optimus-opt: plant one deliberate bug at a time in the cost model, the exact solvers, the
heuristics and the study summaries, run the tests that should notice it, and report which bugs survive.

A test suite that passes says nothing about the bugs it would miss. Each mutant below is a small, realistic bug (an
off-by-one in a window span, a ceiling turned into a floor, a comparison made loose, a condition dropped, a term
counted once instead of per strip); a mutant is *killed* when one of its tests fails, and *survives* when they all
pass. A survivor is either a gap in the tests (write the test that kills it, in ``tests/test_mutant_kills.py``) or
an *equivalent* mutant, a change no input can observe: those are listed in :data:`ACCEPTED_SURVIVORS`, each with
the reason. CONTRIBUTING.md ("Mutation testing") says when to run it.

Mutants never touch the working tree: the script copies the repository's ``HEAD`` (``git archive``; with
``--worktree`` the working tree's tracked and untracked files instead) into a temporary directory, checks that a
Python started there imports the copy's ``optimus_opt`` and not the editable install, runs every selected mutant's
tests once unmutated (a failing baseline would make every mutant look killed), then for each mutant edits the
copy, runs ``python -m pytest -q -x -p no:cacheprovider <tests>`` with ``HYPOTHESIS_PROFILE=ci`` under a time
limit, and restores the file.

    python tools/mutants.py                  # every mutant, one at a time (7.5 minutes on two idle cores)
    python tools/mutants.py --list           # the mutants and their tests
    python tools/mutants.py --only ID [--only ID2] [--jobs 2] [--json out.json] [--timeout 900] [--worktree]

Exit status: 0 when every survivor is an accepted one; 1 when some other mutant survives, a mutant's run ends in
an error or a time-out, or the mutant list no longer matches the code (a snippet not found exactly once); 2 for
bad arguments or a failing baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The per-mutant time limit, in seconds, unless ``--timeout`` says otherwise: far above the slowest test set's
#: unmutated time (test_exact.py and its companions, 45 s on two idle cores), with room for a loaded machine.
DEFAULT_TIMEOUT = 900.0


@dataclass(frozen=True)
class Mutant:
    """One deliberate bug: replace the snippet ``find`` (which must occur exactly once in ``file``) by ``replace``,
    and run ``tests`` (test files or node ids, in the order given: the fastest that should fail first)."""

    id: str
    file: str
    find: str
    replace: str
    tests: tuple[str, ...]
    bug: str


# The test sets the mutants share, fastest first (unmutated on two idle cores: _COST 34 s, _EXACT 45 s).
_COST = ("tests/test_cost_example.py", "tests/test_cost_groups.py", "tests/test_evaluate.py",
         "tests/test_properties.py", "tests/test_pruning.py", "tests/test_oracle.py")
_TILES = ("tests/test_tiles.py", "tests/test_tiles_plumbing.py", "tests/test_oracle.py")
_EXACT = ("tests/test_cost_example.py", "tests/test_pruning.py", "tests/test_exact.py")
_STUDY = ("tests/test_studies.py", "tests/test_newcomer.py", "tests/test_tiles_plumbing.py",
          "tests/test_solver_plugin.py")

_ENERGY = ("tests/test_energy.py", "tests/test_objectives.py")
#: The compiled window against its oracles (the candidate space, the Python local cost), then the bound itself.
_COMPILED = ("tests/test_compiled_window.py", "tests/test_segment_bound.py")

MUTANTS: tuple[Mutant, ...] = (
    # -- cost model version 2 (optimus_opt/cost/cost_model.py) --------------------------------------------------
    Mutant("span-off-by-one", "optimus_opt/cost/cost_model.py",
           "self.span.append((layer.kernel[0] - 1) * dil + 1 if window else 1)",
           "self.span.append((layer.kernel[0] - 1) * dil if window else 1)",
           _COST, "a window spans one row less than its kernel: (K − 1)·d instead of (K − 1)·d + 1"),
    Mutant("rows-stride", "optimus_opt/cost/cost_model.py",
           "need = (rc - 1) * stride + span",
           "need = rc * stride + span - 1",
           _COST, "a strided window needs r·S + K − 1 input rows instead of (r − 1)·S + K (the same when S = 1)"),
    Mutant("reduce-rows-floor", "optimus_opt/cost/cost_model.py",
           "            elif kind == REDUCE:\n                need = -(-h // q)",
           "            elif kind == REDUCE:\n                need = h // q",
           _COST, "a reduction reads ⌊H/Q⌋ rows of its input per strip instead of ⌈H/Q⌉"),
    Mutant("stream-once-per-batch", "optimus_opt/cost/cost_model.py",
           "io.weight_bytes * q * -(-self.batch // b)",
           "io.weight_bytes * -(-self.batch // b)",
           _COST, "streamed weights are loaded once per batch block instead of once per strip and batch block"),
    Mutant("batch-block-floor", "optimus_opt/cost/cost_model.py",
           "return 1, -(-self.batch // blocks), False",
           "return 1, self.batch // blocks, False",
           _COST, "the batch block is ⌊N / blocks⌋ instead of ⌈N / blocks⌉ (more blocks than chosen)"),
    Mutant("saving-at-tc", "optimus_opt/cost/cost_model.py",
           "if self.is_conv[i] and self.C[i] > self.tc else 0",
           "if self.is_conv[i] and self.C[i] >= self.tc else 0",
           _COST, "a conv with exactly Tc channels counts as one that reduced channels save something on"),
    Mutant("given-tiling-fits-strictly", "optimus_opt/cost/cost_model.py",
           "        if footprint + io.weight_bytes <= self.buffer:\n            resident = True",
           "        if footprint + io.weight_bytes < self.buffer:\n            resident = True",
           _COST, "a given tiling whose footprint and weights fill the buffer exactly does not keep them resident"),
    # -- candidate space (optimus_opt/cost/candidates.py) -------------------------------------------------------
    Mutant("candidates-no-hull", "optimus_opt/cost/candidates.py",
           "grown = mask | (1 << v) | (d1 & a1)",
           "grown = mask | (1 << v)",
           ("tests/test_pruning.py", "tests/test_exact.py"),
           "growth adds a neighbour without closing the set under paths: non-convex candidate groups"),
    Mutant("cost-floor-too-high", "optimus_opt/cost/candidates.py",
           "reloads = 2 * batch",
           "reloads = 2 * batch + 1",
           ("tests/test_mutant_kills.py", "tests/test_pruning.py", "tests/test_exact.py"),
           "a group that streams at several strips gets a cost floor of 2N + 1 weight loads instead of 2N"),
    Mutant("tile-floor-one-reload-more", "optimus_opt/cost/tiles.py",
           "return cm.batch * tiles",
           "return cm.batch * tiles + 1",
           ("tests/test_pruning.py", "tests/test_exact.py"),
           "under tiles a group whose first tile forces Q tiles gets a cost floor of N·Q + 1 weight loads"),
    Mutant("segment-tiles-all-escape", "optimus_opt/solvers/segment_bound.py",
           "least_reloads(piece, reads, escaping, weights, block)",
           "least_reloads(piece, reads, piece, weights, block)",
           ("tests/test_segment_bound.py",),
           "under tiles a window takes every member of a piece as cut by the partition, though a reader beyond the "
           "window may be in the group"),
    Mutant("corner-part-too-large", "optimus_opt/cost/tile_counts.py",
           "part = (h + q - 1) // q",
           "part = (h + q - 1) // q + 1",
           ("tests/test_pruning.py",),
           "the first tile of an escaping tensor at Q tiles is taken one cell longer than ⌈H/Q⌉"),
    Mutant("prune-at-equal-floor", "optimus_opt/cost/candidates.py",
           "if rows1 + blk1 > buffer:",
           "if rows1 + blk1 >= buffer:",
           ("tests/test_mutant_kills.py", "tests/test_pruning.py", "tests/test_exact.py"),
           "growth drops a set whose footprint floor fills the buffer exactly, though it may fit"),
    # -- cost model version 3 (optimus_opt/cost/tiles.py, tile_counts.py) ----------------------------------------
    Mutant("halo-modes-swapped", "optimus_opt/cost/tiles.py",
           '*(cached if halo == "cache" else again)',
           '*(cached if halo == "recompute" else again)',
           _TILES, "the rows of halo cache are counted as recomputed and the reverse"),
    Mutant("tiles-stream-per-tile-row", "optimus_opt/cost/tiles.py",
           "weight_traffic = io.weight_bytes * qr * qc * -(-cm.batch // b)",
           "weight_traffic = io.weight_bytes * qr * -(-cm.batch // b)",
           _TILES, "streamed weights are loaded once per tile row instead of once per tile"),
    Mutant("passes-read-input-once", "optimus_opt/cost/tiles.py",
           "reads = passes * (io.ext_bytes + int(g.reread[index]))",
           "reads = io.ext_bytes + int(g.reread[index])",
           _TILES, "a layer run in P output-channel passes reads its input once instead of once per pass"),
    Mutant("phi-saves-the-halo", "optimus_opt/cost/tiles.py",
           "(cm.C[u] - cm.tc) * g.interior[g.row[u]]",
           "(cm.C[u] - cm.tc) * g.cells[g.row[u]]",
           _TILES, "reduced channels save on every cell of a tile, halo included, instead of its interior"),
    Mutant("window-ignores-padding", "optimus_opt/cost/tile_counts.py",
           "na, ne = a * stride - pad, (e - 1) * stride - pad + span",
           "na, ne = a * stride, (e - 1) * stride + span",
           _TILES, "a window's input interval ignores the padding offset"),
    Mutant("line-buffer-dropped", "optimus_opt/cost/tile_counts.py",
           "cell = lr * (c_dist[t, j] - sc) + sr * sc",
           "cell = sr * sc",
           _TILES, "the cached line buffer outside the tile's own columns is not counted in the footprint"),
    # -- evaluate (optimus_opt/cost/schedule.py) ----------------------------------------------------------------
    Mutant("evaluate-flags-equal-cost", "optimus_opt/cost/schedule.py",
           "if stated_tiling and best is not None and figures.value(cm.objective) > best.cost:",
           "if stated_tiling and best is not None and figures.value(cm.objective) >= best.cost:",
           ("tests/test_evaluate.py", "tests/test_tiles_plumbing.py", "tests/test_cli.py"),
           "evaluate flags a stated tiling as not the best when it costs exactly what the best does"),
    # -- exact solvers ----------------------------------------------------------------------------------------
    Mutant("dp-tie-break", "optimus_opt/solvers/downsets.py",
           "total < value or total == value",
           "total <= value or total == value",
           ("tests/test_tiebreak.py",) + _EXACT,
           "exact-dp's tie-break: of equal totals the last transition scanned wins, not the larger group (DP-2)"),
    Mutant("dp-ignores-needs", "optimus_opt/cost/candidates.py",
           "if not (cand.mask & done or cand.needs & ~done):",
           "if not cand.mask & done:",
           _EXACT, "the down-set DP takes a group before the layers it reads have run"),
    Mutant("dp-frontier-counts-unproduced", "optimus_opt/solvers/downsets.py",
           "if (done >> t & 1 or not cm.producers[t]) and any(",
           "if any(",
           ("tests/test_mutant_kills.py",) + _EXACT,
           "the frontier bound of a stopped DP charges a read of tensors not yet produced (counted twice)"),
    Mutant("exact-dp-trusts-partial-space", "optimus_opt/solvers/exact_dp.py",
           "        if not space.complete:  # a dynamic program over some of the candidates would prove nothing",
           "        if False:",
           ("tests/test_deadline.py",) + _EXACT,
           "exact-dp proves an optimum over a candidate space whose enumeration a deadline or the candidate limit "
           "cut short"),
    Mutant("cpsat-edges-need-not-climb", "optimus_opt/solvers/cpsat_model.py",
           "m.add(t[v] >= t[u] + 1).only_enforce_if(~pair)",
           "m.add(t[v] >= t[u]).only_enforce_if(~pair)",
           _EXACT, "CP-SAT lets an edge between two groups stay on one level: cyclic group orders pass"),
    Mutant("milp-edges-need-not-climb", "optimus_opt/solvers/milp.py",
           "rows.append((1.0, inf, [tv, tu, *cols]",
           "rows.append((0.0, inf, [tv, tu, *cols]",
           _EXACT, "the MILP lets an edge between two groups stay on one level: cyclic group orders pass"),
    Mutant("split-any-layer", "optimus_opt/solvers/partition_model.py",
           "if (source or sink) and rest is not None and single is not None:",
           "if rest is not None and single is not None:",
           _EXACT, "dominance drops a group for a split that takes out a middle layer, which no order can run"),
    Mutant("segment-least-rows-max", "optimus_opt/solvers/segment_bound.py",
           "        r = np.minimum(r, cm.need(c, least[c], cm.H[u], qs))",
           "        r = np.maximum(r, cm.need(c, least[c], cm.H[u], qs))",
           ("tests/test_mutant_kills.py", "tests/test_segment_bound.py"),
           "the segment bound's fewest rows of a node take its hungriest reader instead of its least hungry"),
    Mutant("segment-charges-shared-loads", "optimus_opt/solvers/segment_bound.py",
           "return inside and bool(self.core >> c & 1)",
           "return bool(self.core >> c & 1)",
           ("tests/test_compiled_window.py", "tests/test_segment_bound.py"),
           "the segment bound charges a load to a core though an earlier reader outside its window may be the "
           "group's first"),
    Mutant("segment-crossing-always-paid", "optimus_opt/solvers/segment_bound.py",
           "            if k is None:\n                paid += size",
           "            if True:\n                paid += size",
           ("tests/test_compiled_window.py", "tests/test_segment_bound.py"),
           "the segment bound charges every tensor crossing a window's edge in full, though a group may keep it on "
           "chip at the price of more weight reloads"),
    Mutant("segment-crossing-hull-without-piece", "optimus_opt/solvers/segment_bound.py",
           "self._fused_reloads(piece | self.reach.hull(required, around), out, cap)",
           "self._fused_reloads(self.reach.hull(required), out, cap)",
           ("tests/test_compiled_window.py", "tests/test_segment_bound.py"),
           "the segment bound prices keeping a crossing tensor by the reloads of its producer and readers alone, "
           "without the piece that a group keeping it holds too"),
    Mutant("segment-capped-window-dropped", "optimus_opt/solvers/segment_bound.py",
           "    yield from solve_windows(cm, cores, overlap, deadline, max_group, later, jobs=jobs, memory=memory)",
           "    yield from ()",
           ("tests/test_segment_bound.py",),
           "the widening never solves a window it put off for its many pieces: the four largest merged windows of "
           "NASNet-A at 512 KiB never join, however long the bound runs"),
    Mutant("segment-cut-not-nested", "optimus_opt/solvers/segment_bound.py",
           "    if within > size:\n        spans = tuple(inner",
           "    if False:\n        spans = tuple(inner",
           ("tests/test_segment_bound.py",),
           "a bound with time to widen keeps its free first cut, whose cores joined miss the least cut into cells: "
           "a 30-minute exact-dp run on NASNet-A at 512 KiB then proves 24,323,036 B, not 26,419,189 B"),
    Mutant("segment-crossing-cap-too-low", "optimus_opt/solvers/segment_bound.py",
           "cap = reloads + (-(-total // charged_weights) if charged_weights else 1)",
           "cap = reloads + 1",
           ("tests/test_compiled_window.py", "tests/test_segment_bound.py", "tests/test_coupling.py"),
           "the segment bound stops counting a crossing tensor's hull reloads before keeping the tensor costs more "
           "than paying for every crossing tensor: keeping is priced too low"),
    Mutant("segment-crossing-kept-also-paid", "optimus_opt/solvers/segment_bound.py",
           "sum(s for k2, s in kept if k2 > k)",
           "sum(s for k2, s in kept if k2 >= k)",
           ("tests/test_compiled_window.py", "tests/test_segment_bound.py"),
           "the segment bound charges the bytes of the crossing tensors a group keeps on chip as well as the "
           "reloads keeping them costs"),
    Mutant("compiled-charges-shared-loads", "optimus_opt/solvers/compiled_window.py",
           "return inside and _has(core, c) == 1",
           "return _has(core, c) == 1",
           _COMPILED, "the compiled local cost charges a load to a core though an earlier reader outside its window "
           "may be the group's first"),
    Mutant("compiled-crossing-hull-without-piece", "optimus_opt/solvers/compiled_window.py",
           "hull[w] = piece[w] | cross_req[j, w] | ((near[w] | d_all[w]) & (rd[w] | a_all[w]))",
           "hull[w] = cross_req[j, w] | (near[w] & rd[w])",
           _COMPILED, "the compiled local cost prices keeping a crossing tensor by the reloads of its producer and "
           "readers alone, without the piece"),
    Mutant("compiled-pieces-without-pyramid", "optimus_opt/solvers/compiled_window.py",
           "            if _pyramid(grown, w) + blk1 > buffer:",
           "            if False:",
           _COMPILED, "the compiled enumeration keeps sets whose pyramid floor cannot fit: pieces the candidate space "
           "never has"),
    Mutant("compiled-phi-tree-always-excludes", "optimus_opt/solvers/compiled_window.py",
           "exc[p] += max(inc[u], exc[u])",
           "exc[p] += exc[u]",
           _COMPILED, "Φ's independent set over a tree of conflicts never takes a child below a parent it leaves "
           "out: fewer words saved, groups called unfit"),
    # -- heuristics and refinement ---------------------------------------------------------------------------
    Mutant("layer-move-ignores-order", "optimus_opt/solvers/windows.py",
           "                    if _in_order(cm, trial) is not None:",
           "                    if True:",
           ("tests/test_refine.py",),
           "a layer move is made without checking that the groups still admit an order (no cycle between them)"),
    Mutant("merge-without-hull", "optimus_opt/solvers/windows.py",
           "                hull = reach.hull(key[0] | key[1])",
           "                hull = key[0] | key[1]",
           ("tests/test_refine.py",),
           "two groups are merged into their union, not its hull: the merged group may not be convex"),
    Mutant("merge-gain-ignores-parts", "optimus_opt/solvers/windows.py",
           "                gain = None if parts is None else _gain(cost_of, [hull, *parts], hit)",
           "                gain = None if parts is None else _gain(cost_of, [hull], hit)",
           ("tests/test_refine.py",),
           "a merge's gain leaves out the cost of what is left of the groups the hull cuts"),
    Mutant("merge-ignores-order", "optimus_opt/solvers/windows.py",
           "            ordered = _in_order(cm, [g for g in groups if g not in hit] + [hull, *parts])\n"
           "            if ordered is not None:",
           "            ordered = [g for g in groups if g not in hit] + [hull, *parts]\n"
           "            if ordered is not None:",
           ("tests/test_exact.py::test_time_limit_gives_an_honest_status",),
           "two groups are merged without checking that the groups still admit an order (no cycle between them)"),
    Mutant("refine-first-start-only", "optimus_opt/solvers/windows.py",
           "        if best is not None and (best[1].proven or deadline.expired()):\n            break",
           "        if best is not None:\n            break",
           ("tests/test_refine.py",),
           "refine stops after the cheapest heuristic schedule, though time is left for the others"),
    Mutant("coupling-same-sign", "optimus_opt/solvers/coupling.py",
           "                for i, sign in ((a, 1), (b, -1)):\n                    self.terms[i].append(",
           "                for i, sign in ((a, 1), (b, 1)):\n                    self.terms[i].append(",
           ("tests/test_coupling.py",),
           "a shared pair's multiplier enters both windows with the same sign: the terms no longer cancel for a "
           "schedule of the network, and the coupled 'bound' may pass the optimum"),
    Mutant("coupling-pairs-not-adjacent", "optimus_opt/solvers/coupling.py",
           "            pairs.update((min(v, w), max(v, w)) for w in net.consumers[p] if w != v)",
           "            pairs.update((min(v, w), max(v, w)) for w in net.layer_ids if w != v)",
           ("tests/test_coupling.py",),
           "the windows are made to agree on pairs of layers that are not adjacent, which one group may hold in "
           "two parts of a window: the multiplier terms need not cancel"),
    Mutant("coupling-step-away", "optimus_opt/solvers/coupling.py",
           "        lam += np.rint(step * ((1 + steps.above) * best - total) / disagree * g).astype(np.int64)",
           "        lam -= np.rint(step * ((1 + steps.above) * best - total) / disagree * g).astype(np.int64)",
           ("tests/test_coupling.py",),
           "the multipliers move against the subgradient: the bound stays at the plain sum (still a bound, but the "
           "worked example no longer reaches 247,316 B)"),
    Mutant("coupling-window-never-solved-again", "optimus_opt/solvers/coupling.py",
           "                     if last[i] is None or np.any(lam[own_multipliers[i]] != kept[i][1][own_multipliers[i]])]",
           "                     if last[i] is None]",
           ("tests/test_coupling.py",),
           "a window is solved in the first round only, as if its multipliers never moved: the bound stays at the "
           "plain sum"),
    Mutant("coupling-moved-costs-not-kept", "optimus_opt/solvers/coupling.py",
           "            d = sign[t] * (lam[m] - at[m])",
           "            d = sign[t] * lam[m]",
           ("tests/test_coupling.py",),
           "a window's kept costs are moved by the whole multiplier each time it changes, not by its change: "
           "multipliers that move twice count twice"),
    Mutant("coupling-free-term-forced", "optimus_opt/solvers/coupling.py",
           "            d = min(0, sign[t] * lam[m]) - min(0, sign[t] * at[m])",
           "            d = sign[t] * (lam[m] - at[m])",
           ("tests/test_coupling.py",),
           "a window holding one layer of a pair is made to say the pair shares a group wherever its piece is open "
           "to the other layer, where it may only choose to: the terms need not cancel"),
    Mutant("coupling-free-y-unpaid", "optimus_opt/solvers/coupling.py",
           "        elif kind[t] == FREE and sign[t] * lam[mult[t]] < 0:",
           "        elif kind[t] == FREE:",
           ("tests/test_coupling.py",),
           "a free term says its pair shares a group wherever the window's piece is open to the other layer, even "
           "where its multiplier makes that cost nothing: its subgradient is off and the rounds stray"),
    Mutant("coupling-exact-y-first-position", "optimus_opt/solvers/coupling.py",
           "            for e in range(a + 1, b):",
           "            for e in range(a + 1, a + 1):",
           ("tests/test_coupling.py",),
           "an exact term's y looks at one position of its set: a schedule that splits the set counts as holding it, "
           "and the windows look agreed where they are not"),
    Mutant("coupling-kept-moves-not-kept", "optimus_opt/solvers/coupling.py",
           "                                          - _kept_moves(window.kept.rises, slots, at)[0])",
           "                                          - 0)",
           ("tests/test_coupling.py",),
           "a window's pieces that keep stores are moved by what keeping costs at the new multipliers each time one "
           "changes, not by the change: the surcharges pile up and the bound passes the optimum"),
    Mutant("coupling-kept-watcher-sign", "optimus_opt/solvers/coupling.py",
           "self.terms[j].append((self.count, -1, _pieces(self.windows[j].graph.masks, held), held, EXACT))",
           "self.terms[j].append((self.count, 1, _pieces(self.windows[j].graph.masks, held), held, EXACT))",
           ("tests/test_coupling.py",),
           "the window that holds a kept store's readers is charged the multiplier instead of credited: the terms "
           "no longer cancel at a schedule, and L is no bound"),
    Mutant("compiled-kept-never-paid", "optimus_opt/solvers/compiled_window.py",
           "forced[i] = kept_slot[i] >= 0 and (subset >> kept_slot[i]) & 1 == 1",
           "forced[i] = False",
           ("tests/test_coupling.py",),
           "a piece's cost with its kept stores paid is taken to be its cost: no piece keeps a store, and the "
           "coupling cannot price them"),
    Mutant("coupling-levels-pay-the-lower-cuts", "optimus_opt/solvers/coupling.py",
           "                if floor[f] > floor[e]:",
           "                if floor[f] < floor[e]:",
           ("tests/test_coupling.py",),
           "a piece at a reload cut's level pays the multipliers of the cuts below it instead of those above: a "
           "group that escapes a higher cut is charged its rise and nothing for the cut it may violate"),
    Mutant("coupling-levels-add-the-rises", "optimus_opt/solvers/coupling.py",
           "            c = rise[e]\n",
           "            c = 0\n            for f in range(a, e + 1):\n                c += rise[f]\n",
           ("tests/test_coupling.py",),
           "a piece under several reload cuts pays the rises of every cut up to its level, not the one rise of the "
           "level: its weights are counted once per cut, and L may pass the optimum"),
    Mutant("coupling-chain-one-side-beyond", "optimus_opt/solvers/coupling.py",
           "            beyond = np.array([len(self.cuts[m].sides) - 1 if m in self.cuts else 0 for m in range(self.count)],",
           "            beyond = np.array([1 if m in self.cuts else 0 for m in range(self.count)],",
           ("tests/test_coupling.py",),
           "a chain's cut takes ν from L once instead of once per side beyond the first: where its sets are held "
           "it adds to L what no schedule spends"),
    Mutant("coupling-chain-links-shrunk", "optimus_opt/solvers/coupling.py",
           "            if x not in needed and still(union & ~(1 << x)):",
           "            if still(union & ~(1 << x)):",
           ("tests/test_coupling.py",),
           "shrinking a chain's sets may take out the layers that link them: the sets no longer lie in one group, "
           "and the cut forbids what a schedule may do"),
    Mutant("compiled-reload-rise-ignores-kept", "optimus_opt/solvers/compiled_window.py",
           "                    if kept_k[n_kept] > most:",
           "                    if False:",
           ("tests/test_coupling.py",),
           "a piece's reload rise counts from its own reloads, not from the most a kept crossing tensor may force: "
           "a group that keeps such a tensor is charged reloads it already paid"),
    Mutant("coupling-free-term-hull-loose", "optimus_opt/solvers/coupling.py",
           "        through = [(k, self.readers[k] & above | self.producers[k] & below)",
           "        through = [(k, (self.readers[k] | self.producers[k]) & (above | below))",
           ("tests/test_coupling.py",),
           "a piece counts as closed to a layer outside the window when a reader of the piece lies below that layer "
           "(or a producer above it), which the hull of the two does not hold: pieces a group may extend lose the "
           "free term"),
    Mutant("coupling-helper-answers-stale", "optimus_opt/solvers/coupling.py",
           "            pipe.send([(i, solve_moved(windows[i], made.terms[i], lam, kept[i], made.leveled.get(i), "
           "made.packed[i]))",
           "            pipe.send([(i, solve_moved(windows[i], made.terms[i], 0 * lam, kept[i], made.leveled.get(i), "
           "made.packed[i]))",
           ("tests/test_coupling.py",),
           "the second process of the coupling solves its windows at the multipliers of the first round, whatever "
           "it is sent"),
    Mutant("downset-graph-discovery-order", "optimus_opt/solvers/downset_graph.py",
           'start, dst, piece, rank = _by_size(np.argsort(sizes, kind="stable"),',
           "start, dst, piece, rank = _by_size(np.arange(count),",
           ("tests/test_coupling.py", "tests/test_segment_bound.py"),
           "a window's down-sets are solved in the order they were found, not by size: a down-set may be left before "
           "a smaller one that reaches it is final"),
    Mutant("windows-pool-past-the-deadline", "optimus_opt/solvers/segment_bound.py",
           "    if deadline.expired():  # none will be solved: no processes to start",
           "    if False:  # none will be solved: no processes to start",
           ("tests/test_segment_bound.py",),
           "windows asked for past the deadline still start a pool of processes, one per stage of the widening"),
    Mutant("graph-looks-only-when-full", "optimus_opt/solvers/downset_graph.py",
           "            stop = k + LOOK_STATES",
           "            stop = 1 << 62",
           ("tests/test_coupling.py",),
           "a window's graph looks at the deadline only when its arrays fill up: a large window runs far past it"),
    Mutant("graph-trusts-the-groups", "optimus_opt/solvers/downset_graph.py",
           "                    if masks[p] & d or needs[p] & ~d:\n                        continue",
           "                    if False:\n                        continue",
           ("tests/test_coupling.py",),
           "a window's graph takes every piece of a group that passes its test, without testing the piece whole"),
    Mutant("graph-keeps-a-half-recorded-state", "optimus_opt/solvers/downset_graph.py",
           "return count, t - i, k",
           "return count, t, k",
           ("tests/test_coupling.py",),
           "when the down-sets fill in the middle of a state, the graph keeps the transitions recorded so far and "
           "records them again after the arrays grow"),
    Mutant("frontier-ignores-the-run-deadline", "optimus_opt/solvers/downsets.py",
           "        if k % 256 == 255 and deadline.expired():",
           "        if False:",
           ("tests/test_exact.py",),
           "a stopped DP counts every open down-set for its frontier bound however long it takes, past the run's "
           "limit"),
    Mutant("feeders-break-convexity", "optimus_opt/solvers/segment_bound.py",
           "                if self.reach.hull(grown) == grown:",
           "                if True:",
           ("tests/test_segment_bound.py", "tests/test_coupling.py"),
           "a window takes in every feeder, though the window may then not be convex: a group's part inside it is "
           "not a union of the pieces the window's DP enumerates"),
    Mutant("feeders-tried-once", "optimus_opt/solvers/segment_bound.py",
           "        taken = True\n        while taken:\n            taken = False\n            for u in waiting:",
           "        taken = True\n        if taken:\n            taken = False\n            for u in waiting:",
           ("tests/test_coupling.py", "tests/test_segment_bound.py"),
           "a window stops at the first feeder it takes, never trying the others, nor again those refused before"),
    Mutant("feeders-one-pass", "optimus_opt/solvers/segment_bound.py",
           "                    waiting.remove(u)\n                    break",
           "                    waiting.remove(u)\n                    taken = False",
           ("tests/test_coupling.py", "tests/test_segment_bound.py"),
           "a window tries each feeder once, in turn, so one refused before a later one made room stays out"),
    Mutant("widening-skips-the-feeders", "optimus_opt/solvers/segment_bound.py",
           "    for stage in (None, *overlaps):",
           "    for stage in overlaps:",
           ("tests/test_segment_bound.py",),
           "windows solved as runs of the order (beside a search) never take in their feeders when widened at the "
           "same overlap"),
    Mutant("widened-windows-added", "optimus_opt/solvers/segment_bound.py",
           "        solved[result.index] = (result, window)",
           "        solved.append((result, window))",
           ("tests/test_segment_bound.py",),
           "a wider window is added beside its core's narrower one instead of replacing it: the core is counted "
           "twice"),
    Mutant("widened-windows-never-replaced", "optimus_opt/solvers/segment_bound.py",
           "            if result.value >= current[result.index].value:",
           "            if result.value > current[result.index].value:",
           ("tests/test_segment_bound.py", "tests/test_beside.py"),
           "a wider window replaces its core's only when it proves more alone, though it shares more with its "
           "neighbours for the coupling"),
    Mutant("merged-window-always-replaces", "optimus_opt/solvers/segment_bound.py",
           "        if result.value is not None and result.value >= sum(solved[k][0].value for k in members[j]):",
           "        if result.value is not None and result.value >= 0:",
           ("tests/test_segment_bound.py",),
           "a joined core's window replaces the windows of the cores it joins even when it proves less than they do "
           "together: widening can lower the plain sum"),
    Mutant("charges-keep-the-last-window", "optimus_opt/solvers/charges.py",
           "                    per_group[k] += cost",
           "                    per_group[k] = cost",
           ("tests/test_charges.py",),
           "what the windows charge a group is the last window's charge, not their sum: a group charged more than it "
           "moves, over several windows, passes the check"),
    Mutant("window-order-ids", "optimus_opt/solvers/segment_bound.py",
           "        u = min(ready, key=added)",
           "        u = min(ready)",
           ("tests/test_segment_bound.py",),
           "the live order places the ready layer of lowest id, not the one that adds the fewest live bytes: the "
           "readers of a tensor stay apart"),
    Mutant("pooled-skips-the-order", "optimus_opt/solvers/pooled.py",
           "        order = quotient_order(cm.network, groups)",
           "        order = list(range(len(chosen)))",
           ("tests/test_pooled.py",),
           "the schedule from the coupled windows' pieces takes the chosen groups without checking that some order "
           "runs them: two groups may each need the other first"),
    Mutant("optimus-allows-cycles", "optimus_opt/solvers/optimus_dp.py",
           "                if prod[v] & remaining & ~grown:\n                    continue",
           "                if False:\n                    continue",
           ("tests/test_heuristics.py",),
           "the Optimus recursion grows a group by a layer that reads a tensor not yet produced"),
    Mutant("refine-window-start", "optimus_opt/solvers/windows.py",
           "    for mask, _ in current[:i]:\n        start |= mask",
           "    for mask, _ in current[:i - 1]:\n        start |= mask",
           ("tests/test_refine.py",),
           "a window is solved after the groups before it less the last: it cannot read that group's outputs"),
    Mutant("refine-last-window-proves", "optimus_opt/solvers/windows.py",
           "whole = i == 0 and j == len(current)",
           "whole = j == len(current)",
           ("tests/test_refine.py", "tests/test_newcomer.py"),
           "the last window of a sweep counts as one holding the whole schedule, and claims the optimum"),
    Mutant("auto-never-refines", "optimus_opt/solvers/auto.py",
           "\n                and deadline.left() >= MIN_EXACT_SECONDS:",
           "\n                and False:",
           ("tests/test_auto.py", "tests/test_newcomer.py", "tests/test_deadline.py", "tests/test_refine.py"),
           "auto skips its window refinement when the exact phase proves nothing"),
    # -- study summaries, tables and records --------------------------------------------------------------------
    Mutant("summary-capped-bounds-count", "optimus_opt/studies/summary.py",
           'if r.get("bound_scope") == "all" and bound is not None',
           'if bound is not None',
           _STUDY, "a bound proven under a group cap (†) counts as a best proven bound in the gap tables"),
    Mutant("summary-gap-to-best-known", "optimus_opt/studies/summary.py",
           "            bound = bounds.get(iid)\n",
           "            bound = known.get(iid)\n",
           _STUDY, "the gap is measured against the best schedule found instead of the best proven bound"),
    Mutant("summary-unproven-in-means", "optimus_opt/studies/summary.py",
           'gaps = [row["gap"] for row in mine if row["gap"] is not None]',
           'gaps = [row["gap"] or 0.0 for row in mine if row["dram_bytes"] is not None]',
           _STUDY, "unproven runs count as gap 0 in the aggregates (geomean gap, optimal count)"),
    Mutant("tables-dagger-inverted", "optimus_opt/studies/tables.py",
           'restricted = row is not None and row["bound_bytes"] is not None and row["bound_scope"] != "all"',
           'restricted = row is not None and row["bound_bytes"] is not None and row["bound_scope"] == "all"',
           _STUDY, "the DRAM table marks unrestricted runs with † and leaves capped ones unmarked"),
    Mutant("records-side-constraints-unscoped", "optimus_opt/studies/records.py",
           'parts += [key for key in _SIDE_CONSTRAINTS if key in self.options.get("extra", {})]',
           "pass",
           ("tests/test_mutant_kills.py",) + _STUDY,
           "a run under side constraints (together, apart, max_groups) records its bound as holding everywhere"),
    # -- energy, latency, objectives and budgets (formulations/energy.md) -----------------------------------------
    Mutant("energy-rf-first-mac", "optimus_opt/cost/energy.py",
           'rf = 4 * macs - (fixed["out_mac"] + grid["again_mac"])',
           'rf = 4 * macs - fixed["out_mac"]',
           _ENERGY, "the first MAC of a recomputed output element is charged a partial-sum read"),
    Mutant("energy-weights-read-once", "optimus_opt/cost/energy.py",
           "np.where(family == 1, w * loads if self.staged else 0, w * loads))",
           "np.where(family == 1, w * loads if self.staged else 0, w))",
           _ENERGY, "resident weights are read from the buffer once, not once per tile and batch block"),
    Mutant("latency-sum-not-max", "optimus_opt/cost/energy.py",
           '"latency_cycles": np.maximum(compute, dram_cycles)}',
           '"latency_cycles": compute + dram_cycles}',
           _ENERGY, "a group's latency adds its compute and DRAM times instead of overlapping them"),
    Mutant("budget-loose", "optimus_opt/solvers/cpsat.py",
           "m.add(sum(a * x[k] for k, a in enumerate(amounts) if a) <= bound)",
           "m.add(sum(a * x[k] for k, a in enumerate(amounts) if a) <= 2 * bound + 1)",
           _ENERGY, "cpsat keeps a budget only up to twice its bound"),
    Mutant("dp-ties-most-dram", "optimus_opt/solvers/downsets.py",
           "bytes_ < moved or bytes_ == moved",
           "bytes_ > moved or bytes_ == moved",
           _ENERGY, "exact-dp keeps the optimum of most DRAM bytes among equal energies or latencies"),
    Mutant("dominance-drops-ties", "optimus_opt/solvers/partition_model.py",
           "beats = (lambda a, b: a < b) if cm.objective != \"dram\" else (lambda a, b: a <= b)",
           "beats = (lambda a, b: a <= b)",
           _ENERGY, "cpsat and milp drop a group a split of it only ties, losing optima of fewer DRAM bytes"),
    Mutant("objective-ties-by-tiles", "optimus_opt/cost/objective.py",
           'return np.lexsort((*columns, f["dram_bytes"], f[OBJECTIVE_FIELDS[objective]]))',
           'return np.lexsort((f["dram_bytes"], *columns, f[OBJECTIVE_FIELDS[objective]]))',
           _ENERGY, "a group's best tiling under energy breaks ties by MACs and tiles before DRAM bytes"),
    Mutant("pyramid-reduce-whole", "optimus_opt/cost/tile_counts.py",
           "else:  # a reduction at H strips reads one row\n                need = 1",
           "else:  # a reduction at H strips reads one row\n                need = height[t]",
           ("tests/test_pruning.py",), "the strips pyramid has a reduction read its whole input, though a reduction "
           "at H strips reads one row of it"),
    Mutant("corner-ignores-padding", "optimus_opt/cost/tile_counts.py",
           "need = (held - 1) * stride - pad + span",
           "need = (held - 1) * stride + span",
           ("tests/test_pruning.py",), "the first tile's windows are not clipped by the top and left padding"),
    Mutant("stopped-search-keeps-its-core", "optimus_opt/solvers/anytime.py",
           "            options.beside.release()",
           "            pass",
           ("tests/test_beside.py",), "a stopped exact solver with a process beside it never leaves it its core: the "
           "windows stay one at a time and the refinement in one lane"),
    Mutant("close-kills-the-child-alone", "optimus_opt/solvers/beside.py",
           "            os.killpg(self._process.pid, signal.SIGKILL)",
           "            raise ProcessLookupError",
           ("tests/test_beside.py",), "closing the process beside kills it but not the processes it started, which "
           "hold its pipe: closing waits for them"),
    Mutant("lanes-keep-the-last", "optimus_opt/solvers/beside.py",
           "                    if self._refined is None or _better(found[1], self._refined[1]):",
           "                    if True:",
           ("tests/test_beside.py",), "the caller keeps the last refinement sent, though the other lane may have "
           "sent a cheaper one before it"),
    Mutant("fixing-drops-ties", "optimus_opt/solvers/columns.py",
           "return np.isfinite(pool.lower) & (rc - held <= slack)",
           "return np.isfinite(pool.lower) & (rc - held < slack - 1e-6 - 1e-9 * abs(upper))",
           ("tests/test_columns.py",), "reduced-cost fixing drops the columns of schedules that cost exactly the "
           "upper bound, optima among them"),
)

#: Mutants that survive because no input can tell them from the code: id -> why.
ACCEPTED_SURVIVORS: dict[str, str] = {
    "saving-at-tc": "a conv with exactly Tc channels saves (C − Tc)·W = 0 words either way, and a saving of 0 is "
                    "filtered out (`if self.saving[u]`) before Φ is formed: no footprint, Φ or tiling changes",
    "split-any-layer": "a layer with both a producer and a consumer in S lies on a path between two members of "
                       "S − u, so S − u is not convex, not a candidate, and has no g value: the condition only "
                       "skips a lookup that finds nothing, and the same groups are dropped",
}


@dataclass(frozen=True)
class Result:
    """What one mutant's run came to: ``killed`` (a test failed, or collection did), ``survived``, ``timeout`` or
    ``error`` (pytest could not run the tests), after ``seconds``; ``detail`` names the first failing test."""

    id: str
    outcome: str
    seconds: float
    detail: str = ""


def problems(root: Path = ROOT, mutants: tuple[Mutant, ...] = MUTANTS) -> list[str]:
    """What is wrong with the mutant list against the files under ``root``: ids repeated, a snippet not found
    exactly once, a no-op replacement, a test path that does not exist, an accepted survivor that is no mutant."""
    out = []
    seen: set[str] = set()
    for m in mutants:
        if m.id in seen:
            out.append(f"{m.id}: id used twice")
        seen.add(m.id)
        path = root / m.file
        if not path.is_file():
            out.append(f"{m.id}: {m.file} does not exist")
            continue
        count = path.read_text().count(m.find)
        if count != 1:
            out.append(f"{m.id}: its snippet occurs {count} times in {m.file}, not once")
        if m.find == m.replace:
            out.append(f"{m.id}: the replacement equals the snippet")
        for test in m.tests:
            if not (root / test.split("::")[0]).is_file():
                out.append(f"{m.id}: test {test} does not exist")
    for key in ACCEPTED_SURVIVORS:
        if key not in {m.id for m in MUTANTS}:
            out.append(f"ACCEPTED_SURVIVORS names {key}, which is no mutant")
    return out


def make_copy(dest: Path, worktree: bool) -> None:
    """Put the repository's HEAD (or, with ``worktree``, its working tree's tracked and untracked files that git
    does not ignore) into the empty directory ``dest``."""
    if not worktree:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", "HEAD"], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
        return
    names = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, names):
        src = ROOT / name
        if src.is_file():  # a tracked file deleted in the working tree is left out
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


def environment(copy: Path) -> dict[str, str]:
    """The environment of a run in ``copy``: its package first on the path, the fixed hypothesis profile."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(copy) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["HYPOTHESIS_PROFILE"] = "ci"
    env.pop("PYTEST_ADDOPTS", None)
    return env


def imported_from(copy: Path) -> str:
    """Where a Python started in ``copy`` imports ``optimus_opt`` from (it must be the copy, not the editable
    install of the repository), or why it cannot import it."""
    run = subprocess.run([sys.executable, "-c", "import optimus_opt; print(optimus_opt.__file__)"], cwd=copy,
                         env=environment(copy), capture_output=True, text=True)
    return run.stdout.strip() if run.returncode == 0 else "nowhere: " + (run.stderr.strip().splitlines() or ["?"])[-1]


def run_tests(copy: Path, tests: tuple[str, ...], timeout: float) -> tuple[str, float, str]:
    """Run ``tests`` in ``copy``; (outcome, seconds, the first failing test or the error's last line). The run is
    its own process group, so a time-out ends every process it started."""
    began = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests],
                            cwd=copy, env=environment(copy), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return "timeout", time.perf_counter() - began, f"no verdict within {timeout:g} s"
    except BaseException:  # Ctrl-C reaches only this process: end the tests' process group too
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    seconds = time.perf_counter() - began
    lines = out.splitlines()
    failed = next((line for line in lines if line.startswith(("FAILED ", "ERROR "))), None)
    last = lines[-1] if lines else ""
    if proc.returncode == 0:
        return "survived", seconds, ""
    if proc.returncode in (1, 2):  # 2: collection failed (the mutant broke an import), which also fails the suite
        return "killed", seconds, (failed or last)[:160]
    return "error", seconds, f"pytest exit status {proc.returncode}: {last}"[:160]


def run_mutant(copy: Path, mutant: Mutant, index: int, timeout: float) -> Result:
    """Apply ``mutant`` in ``copy``, run its tests and restore the file, mtime included. The mutated file gets an
    mtime of its own (the original's + ``index`` + 1 s), so that no bytecode or numba cache of the original or of
    another mutant of the same size is taken for it."""
    path = copy / mutant.file
    original = path.read_text()
    if original.count(mutant.find) != 1:
        raise ValueError(f"{mutant.id}: its snippet occurs {original.count(mutant.find)} times in {mutant.file}")
    stat = path.stat()
    try:
        path.write_text(original.replace(mutant.find, mutant.replace))
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + (index + 1) * 1_000_000_000))
        outcome, seconds, detail = run_tests(copy, mutant.tests, timeout)
    finally:
        path.write_text(original)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    if outcome == "survived" and mutant.id in ACCEPTED_SURVIVORS:
        detail = "accepted: " + ACCEPTED_SURVIVORS[mutant.id]
    return Result(mutant.id, outcome, seconds, detail)


def table(results: list[Result]) -> str:
    """The results as a markdown table, in the order of the mutant list."""
    files = {m.id: m.file.removeprefix("optimus_opt/") for m in MUTANTS}
    lines = ["| mutant | file | outcome | seconds | killed by / why it survives |", "|---|---|---|---:|---|"]
    for r in results:
        detail = r.detail.replace("|", "\\|")
        lines.append(f"| {r.id} | {files.get(r.id, '?')} | {r.outcome} | {r.seconds:.1f} | {detail} |")
    return "\n".join(lines)


def verdict(results: list[Result]) -> tuple[int, list[str]]:
    """The exit status and the lines that explain it."""
    notes = []
    for r in results:
        if r.outcome == "survived" and r.id not in ACCEPTED_SURVIVORS:
            notes.append(f"{r.id} survives: a gap in its tests, or an equivalent mutant to list in "
                         "ACCEPTED_SURVIVORS with the reason")
        elif r.outcome in ("timeout", "error"):
            notes.append(f"{r.id}: {r.outcome} ({r.detail})")
        elif r.outcome == "killed" and r.id in ACCEPTED_SURVIVORS:
            notes.append(f"note: {r.id} is listed in ACCEPTED_SURVIVORS but was killed: it is not equivalent, or a "
                         "test is flaky; remove it from the list")
    failed = any(not n.startswith("note:") for n in notes)
    return (1 if failed else 0), notes


def main(argv: list[str] | None = None) -> int:
    """The command line (module docstring); returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", metavar="ID", help="run this mutant (repeatable)")
    parser.add_argument("--list", action="store_true", help="list the mutants and their tests, and stop")
    parser.add_argument("--jobs", type=int, default=1, help="mutants run at once, each in its own copy (default 1)")
    parser.add_argument("--json", metavar="OUT", help="also write the results to this JSON file")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help=f"seconds one mutant's tests may take (default {DEFAULT_TIMEOUT:g})")
    parser.add_argument("--worktree", action="store_true",
                        help="copy the working tree (uncommitted changes and untracked files) instead of HEAD")
    args = parser.parse_args(argv)
    if args.list:
        for m in MUTANTS:
            print(f"{m.id:34} {m.file:40} {m.bug}\n{'':34} tests: {' '.join(m.tests)}")
        return 0
    if args.jobs < 1 or args.timeout <= 0:
        parser.error("--jobs and --timeout must be positive")
    known = {m.id for m in MUTANTS}
    unknown = [i for i in args.only or () if i not in known]
    if unknown:
        parser.error(f"unknown mutant {', '.join(unknown)} (--list lists them)")
    chosen = [m for m in MUTANTS if not args.only or m.id in args.only]

    with tempfile.TemporaryDirectory(prefix="optimus-mutants-") as tmp:
        copies = [Path(tmp) / f"copy{k}" for k in range(min(args.jobs, len(chosen)))]
        for copy in copies:
            copy.mkdir()
            make_copy(copy, args.worktree)
        stale = problems(copies[0], tuple(chosen))
        if stale:  # the list no longer matches the code: say where, and run nothing
            print("the mutant list does not match the copied code:\n  " + "\n  ".join(stale), file=sys.stderr)
            return 1
        where = imported_from(copies[0])
        if not where.startswith(str(copies[0])):
            print(f"a Python started in the copy imports optimus_opt from {where}, not the copy", file=sys.stderr)
            return 2
        union = tuple(dict.fromkeys(t for m in chosen for t in m.tests))
        print(f"baseline: {len(union)} test files unmutated ...", flush=True)
        outcome, seconds, detail = run_tests(copies[0], union, args.timeout * 2)
        print(f"baseline: {outcome} in {seconds:.1f} s", flush=True)
        if outcome != "survived":  # the unmutated tests must pass, or no mutant's death means anything
            print(f"the unmutated tests do not pass ({outcome}: {detail}); fix them first", file=sys.stderr)
            return 2
        free: queue.Queue[Path] = queue.Queue()
        for copy in copies:
            free.put(copy)

        def one(item: tuple[int, Mutant]) -> Result:
            index, mutant = item
            copy = free.get()
            try:
                result = run_mutant(copy, mutant, index, args.timeout)
            finally:
                free.put(copy)
            print(f"{result.id:34} {result.outcome:9} {result.seconds:7.1f} s  {result.detail}", flush=True)
            return result

        with ThreadPoolExecutor(max_workers=len(copies)) as pool:
            results = list(pool.map(one, enumerate(chosen)))
    print()
    print(table(results))
    status, notes = verdict(results)
    counts = {o: sum(r.outcome == o for r in results) for o in ("killed", "survived", "timeout", "error")}
    print()
    print(", ".join(f"{v} {k}" for k, v in counts.items() if v) + f"; {sum(r.seconds for r in results):.0f} s of tests")
    for note in notes:
        print(note)
    if args.json:
        Path(args.json).write_text(json.dumps({"results": [asdict(r) for r in results], "counts": counts,
                                               "status": status}, indent=2) + "\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
