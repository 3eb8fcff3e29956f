"""Coupling the segment bound's windows: Lagrangian multipliers that make overlapping windows agree on which
adjacent layers share a group (formulations/segment-bound.md, "Coupling the windows").

The segment bound adds the optima of windows that overlap, each solved on its own. Each window places its groups'
edges where it pays least, often in the part it shares with a neighbour, where the neighbour would place them
differently: the sum of the two optima then counts a schedule that no single schedule agrees with.

For two layers u, v that are *adjacent* (one reads the other, or both read the same tensor) and lie in two windows
a < b, let y_a and y_b say whether window a's and window b's schedule put them in one piece. A schedule of the
network puts them in one group or not, and since they are adjacent, in one piece of every window that holds both:
y_a = y_b for its restriction to the windows. So for any integer multiplier λ per such pair and pair of windows,

    L(λ) = Σ_i min over schedules σ of window i of [ c̃_i(σ) + Σ_m s_im λ_m y_m(σ) ]      (s = +1 in a, −1 in b)

is at most every schedule's cost: evaluate each window at the network schedule's restriction, where the λ terms of
a and b cancel and what is left is the segment bound's sum, a lower bound. L(0) is the segment bound; a round
solves every window with its pieces' costs moved by λ (:class:`~.downset_graph.DownsetGraph`, a shortest path) and
moves λ along the disagreements y_a − y_b (a subgradient of the concave L), with Polyak's step toward a level a
quarter above the best bound so far, halved when rounds stop raising it. Integer multipliers keep every sum exact.
"""

from __future__ import annotations

import multiprocessing
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection

import numpy as np

from ..cost.cost_model import CostModel
from ..utils.deadline import NEVER, Deadline
from ..utils.processes import can_fork
from .downset_graph import DownsetGraph

#: Rounds without a better bound after which the step is halved, and the smallest step factor tried.
STALL_ROUNDS = 10
SMALLEST_STEP = 1 / 1024
#: The step aims this far above the best bound so far (Polyak's step toward an estimate of the dual optimum).
TARGET_ABOVE = 0.25


@dataclass(frozen=True)
class Window:
    """A solved window of the segment bound, what the coupling needs: its layers (node ids; bit k of a piece is
    ``layers[k]``), its graph of down-sets over its pieces, and each piece's local cost."""

    layers: tuple[int, ...]
    graph: DownsetGraph
    costs: np.ndarray


@dataclass(frozen=True)
class Coupled:
    """The coupled bound (bytes; the plain sum when no round beat it), the rounds run, the multipliers (pairs of
    adjacent layers times pairs of windows sharing them), the pairs the last round's windows still disagreed on and
    the seconds taken; ``pieces`` are the pieces some window chose in some round, as bitsets of layer ids (sorted),
    from which :mod:`.pooled` builds a schedule."""

    bytes: int
    rounds: int
    multipliers: int
    disagreements: int
    seconds: float
    pieces: tuple[int, ...] = ()


def adjacent_pairs(cm: CostModel) -> list[tuple[int, int]]:
    """The pairs of layers (u < v) that any group holding both holds in one connected piece of every window: a
    layer and its reader, and two layers reading the same tensor (formulations/cost-model.md §3, connected)."""
    net = cm.network
    pairs = set()
    for v in net.layer_ids:
        for p in net.producers[v]:
            if net.is_layer(p):
                pairs.add((p, v))
            pairs.update((min(v, w), max(v, w)) for w in net.consumers[p] if w != v)
    return sorted(pairs)


#: One window's part in one multiplier: (the multiplier's index, its sign there: +1 in the pair's first window, −1
#: in its second, the window's pieces that hold both layers, the two layers' bits in the window's positions).
Term = tuple[int, int, np.ndarray, int]


def multiplier_terms(cm: CostModel, windows: list[Window]) -> tuple[list[list[Term]], int]:
    """For each window, the terms of the multipliers it takes part in, and how many multipliers there are: one per
    adjacent pair and two consecutive windows among those holding both layers (module docstring)."""
    where: dict[int, list[int]] = {}  # layer → the windows holding it, in order
    for i, w in enumerate(windows):
        for u in w.layers:
            where.setdefault(u, []).append(i)
    terms: list[list[Term]] = [[] for _ in windows]
    count = 0
    for u, v in adjacent_pairs(cm):
        shared = [i for i in where.get(u, ()) if i in where.get(v, ())]
        for a, b in zip(shared, shared[1:]):
            for i, sign in ((a, 1), (b, -1)):
                w = windows[i]
                pair = 1 << w.layers.index(u) | 1 << w.layers.index(v)
                inside = np.flatnonzero((w.graph.masks & pair) == pair)
                terms[i].append((count, sign, inside.astype(np.int32) if len(w.costs) < 2 ** 31 else inside, pair))
            count += 1
    return terms, count


def solve_moved(window: Window, terms: list[Term], lam: np.ndarray,
                kept: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[int, list[int], list[bool]]:
    """The window's least cost with each piece's cost moved by its multipliers' terms at ``lam``, the pieces of a
    schedule that reaches it, and for each term whether that schedule holds the pair in one piece (its y).
    ``kept``, the window's costs moved at the multipliers ``kept[1]`` by an earlier call, is brought to ``lam`` in
    place, moving only the pieces of the terms whose multiplier changed since."""
    costs, at = (window.costs.copy(), np.zeros_like(lam)) if kept is None else kept
    for m, sign, inside, _ in terms:
        if lam[m] != at[m]:
            costs[inside] += sign * (lam[m] - at[m])
    at[:] = lam
    value, chosen = window.graph.solve(costs)
    masks = [int(window.graph.masks[p]) for p in chosen]
    return value, chosen, [any(mask & pair == pair for mask in masks) for _, _, _, pair in terms]


def couple(cm: CostModel, windows: list[Window], plain: int, deadline: Deadline = NEVER, *,
           max_rounds: int = 400, jobs: int = 1) -> Coupled:
    """The best L(λ) found (module docstring) over the solved ``windows``, whose plain optima sum to ``plain``,
    within ``deadline`` and ``max_rounds`` rounds; with ``jobs`` of 2 or more (and a platform that forks) a second
    process solves a share of the windows each round, the same rounds in less time."""
    began = time.perf_counter()
    terms, count = multiplier_terms(cm, windows)
    lam = np.zeros(count, np.int64)
    kept = [(w.costs.copy(), np.zeros(count, np.int64)) for w in windows]  # each window's moved costs
    # a window none of whose multipliers moved since its last solve has the same optimum: it is not solved again
    own_multipliers = [np.array([m for m, *_ in own], np.int64) for own in terms]
    last: list[tuple[int, list[int], list[bool]] | None] = [None] * len(windows)
    best, step, stall, rounds, disagree = plain, 1.0, 0, 0, 0
    chosen_pieces: set[tuple[int, int]] = set()  # (window, piece) chosen in some round
    theirs = set(_shares(windows)[1]) if jobs > 1 and count and can_fork() else set()
    helper = _Helper(windows, terms, kept) if theirs else None
    try:
        while count and rounds < max_rounds and step >= SMALLEST_STEP and not deadline.expired():
            moved = [i for i in range(len(windows))
                     if last[i] is None or np.any(lam[own_multipliers[i]] != kept[i][1][own_multipliers[i]])]
            if helper is not None:
                helper.ask(lam, [i for i in moved if i in theirs])
            for i in moved:
                if helper is None or i not in theirs:
                    last[i] = solve_moved(windows[i], terms[i], lam, kept[i])
            if helper is not None:
                answers = helper.answer()
                if answers is None:  # the helper has died (out of memory?): this process solves its windows now
                    helper.close()
                    helper = None
                    for i in theirs:
                        kept[i] = (windows[i].costs.copy(), np.zeros(count, np.int64))  # the helper had them
                        last[i] = solve_moved(windows[i], terms[i], lam, kept[i])
                    answers = []
                for i, outcome in answers:
                    last[i] = outcome
                    kept[i][1][:] = lam  # the helper's copy of the window's costs is at lam now
            total, together = 0, np.zeros((count, 2), np.int64)  # per multiplier: y in its first and second window
            for i, own in enumerate(terms):
                value, chosen, ys = last[i]
                total += value
                chosen_pieces.update((i, p) for p in chosen)
                for (m, sign, _, _), y in zip(own, ys):
                    together[m, 0 if sign > 0 else 1] = y
            rounds += 1
            g = together[:, 0] - together[:, 1]
            disagree = int(np.count_nonzero(g))
            if total > best:
                best, stall = total, 0
            else:
                stall += 1
                if stall >= STALL_ROUNDS:
                    step, stall = step / 2, 0
            if not disagree:  # the windows agree: no multiplier can move L further along this subgradient
                break
            lam += np.rint(step * ((1 + TARGET_ABOVE) * best - total) / disagree * g).astype(np.int64)
    finally:
        if helper is not None:
            helper.close()
    pieces = {sum(1 << u for k, u in enumerate(windows[i].layers) if int(windows[i].graph.masks[p]) >> k & 1)
              for i, p in chosen_pieces}
    return Coupled(best, rounds, count, disagree, time.perf_counter() - began, tuple(sorted(pieces)))


def _shares(windows: list[Window]) -> tuple[list[int], list[int]]:
    """The windows this process solves each round and those a second process solves: the largest graphs first,
    each to the share with fewer transitions so far, so that both take about as long."""
    shares: tuple[list[int], list[int]] = ([], [])
    load = [0, 0]
    for i in sorted(range(len(windows)), key=lambda i: (-len(windows[i].graph.dst), i)):
        k = 0 if load[0] <= load[1] else 1
        shares[k].append(i)
        load[k] += len(windows[i].graph.dst)
    return sorted(shares[0]), sorted(shares[1])


class _Helper:
    """A forked process that solves the windows it is told to at the multipliers it is sent, each round, keeping
    their moved costs as :func:`solve_moved` does. Forked after the windows' graphs exist, it shares them with this
    process (copy on write) and is sent only the multipliers and which windows moved."""

    def __init__(self, windows: list[Window], terms: list[list[Term]],
                 kept: list[tuple[np.ndarray, np.ndarray]]) -> None:
        context = multiprocessing.get_context("fork")
        self._pipe, theirs = context.Pipe()
        self._process = context.Process(target=_serve, args=(windows, terms, kept, theirs),
                                        name="optimus-opt-coupling", daemon=True)
        self._process.start()
        theirs.close()

    def ask(self, lam: np.ndarray, moved: list[int]) -> None:
        try:
            self._pipe.send((lam, moved))
        except (BrokenPipeError, ConnectionResetError):  # it has gone: :meth:`answer` says so
            pass

    def answer(self) -> list[tuple[int, tuple[int, list[int], list[bool]]]] | None:
        """The outcomes of the windows last asked for, or None when the helper has gone."""
        try:
            return self._pipe.recv()
        except (EOFError, ConnectionResetError):
            return None

    def close(self) -> None:
        self._process.kill()
        self._process.join()
        self._pipe.close()


def _serve(windows: list[Window], terms: list[list[Term]], kept: list[tuple[np.ndarray, np.ndarray]],
           pipe: Connection) -> None:
    """The helper's loop: each (multipliers, windows) it receives, solved, sent back until the pipe closes."""
    try:
        while True:
            lam, moved = pipe.recv()
            pipe.send([(i, solve_moved(windows[i], terms[i], lam, kept[i])) for i in moved])
    except (EOFError, BrokenPipeError, KeyboardInterrupt):  # the coupling has ended, or Ctrl-C: it kills us anyway
        pass
