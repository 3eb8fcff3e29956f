"""Columns on demand: the LP relaxation of the set-partitioning model by column generation, its Lagrangian bound,
and the candidates an optimal schedule may use (formulations/columns.md).

``cpsat`` and ``milp`` used to tile every candidate before stating their model. Here the candidates are priced
instead: with layer prices π (the duals of the cover rows of a restricted LP), a candidate S has the reduced cost
rc(S) = c(S) − π(S), bounded from below without tiling by its cost floor: floor(S) − π(S). Only candidates whose
floor-reduced cost is negative are tiled, the most negative first, and those whose true reduced cost is negative
join the LP. For *any* π,

    L(π) = Σ_u π_u + Σ_u m_u,   m_u = min over candidates S ∋ u of rc(S)/|S|

bounds every schedule from below (a schedule is a partition: its cost is Σπ + Σ_S rc(S), and each group's rc(S)
is |S| shares of rc(S)/|S|, each at least the m_u of its layer), and a schedule that holds S costs at least
L(π) + rc(S) − Σ_{u∈S} m_u. With an upper bound U (a schedule), a candidate for which that exceeds U is in no
schedule of cost ≤ U: the columns left are the only ones an optimal schedule can use. Floors stand in for costs
everywhere (they are lower bounds of them), so an untiled candidate is judged by its floor, and only the
candidates that survive are tiled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..cost.candidates import Candidate, CandidateSpace, bits
from ..cost.cost_model import CostModel, Tiling
from ..utils import progress
from ..utils.deadline import Deadline, OutOfTime
from ..utils.highs import new_highs

#: Candidates tiled per pricing round (the most negative floor-reduced costs first).
BATCH = 512
#: Columns that join the LP per round, at most (the most negative reduced costs first).
JOIN = 4000
#: The bound L(π) is computed at every this many pricing passes (and at the last): the least share of each layer
#: is a pass over every membership of every candidate, the costliest step on a large pool.
BOUND_EVERY = 4
#: A reduced cost above −TOL times the typical cost counts as non-negative when deciding that the LP is solved.
#: Only the stopping rule uses it: bounds and the columns kept are computed without it.
TOL = 1e-9


class Pool:
    """The candidate space as arrays: each candidate's layers (rows of the cover), its size and the lower bound
    of its cost known so far: its cost floor, then its cost once tiled (infinite when no tiling fits)."""

    def __init__(self, cm: CostModel, space: CandidateSpace, deadline: Deadline) -> None:
        self.cm = cm
        self.candidates: list[Candidate] = list(space)
        row = {u: i for i, u in enumerate(space.rows)}
        sizes, flat = [], []
        for k, cand in enumerate(self.candidates):
            if k % 4096 == 0:
                deadline.check(f"indexing the {len(self.candidates):,} candidate groups")
            members = bits(cand.mask)
            sizes.append(len(members))
            flat.extend(row[u] for u in members)
        self._index(list(space.rows), np.array(sizes, dtype=np.int64), np.array(flat, dtype=np.int64))
        self.lower = np.array([cand.cost_floor for cand in self.candidates], dtype=np.float64)
        self.tiled = np.zeros(len(sizes), dtype=bool)
        self.tilings: dict[int, Tiling] = {}

    @classmethod
    def of_costs(cls, rows: list[int], members: np.ndarray, costs: np.ndarray) -> "Pool":
        """A pool of sets whose costs are all known, with nothing to tile: set k holds row i where ``members[k, i]``
        and costs ``costs[k]``."""
        pool = cls.__new__(cls)
        pool.cm, pool.candidates, pool.tilings = None, [], {}
        pool._index(list(rows), members.sum(axis=1).astype(np.int64), np.nonzero(members)[1].astype(np.int64))
        pool.lower = np.asarray(costs, dtype=np.float64)
        pool.tiled = np.ones(len(members), dtype=bool)
        return pool

    def _index(self, layers: list[int], size: np.ndarray, flat: np.ndarray) -> None:
        """Index the sets: ``size[k]`` rows each, listed one after another in ``flat``."""
        self.layers, self.size, self.flat = layers, size, flat
        self.starts = np.zeros(len(size), dtype=np.int64)
        self.starts[1:] = np.cumsum(size)[:-1]
        # the memberships grouped by layer, for the least share of each layer in one pass (np.minimum.at is slow)
        by_layer = np.argsort(self.flat.astype(np.uint16) if len(layers) <= 1 << 16 else self.flat, kind="stable")
        self._owners_by_layer = np.repeat(np.arange(len(size)), size)[by_layer]
        self._layer_starts = np.searchsorted(self.flat[by_layer], np.arange(len(self.layers)))
        self._held = np.bincount(self.flat, minlength=len(self.layers)) > 0
        self._memberships = np.full(len(self.flat) + 1, math.inf)
        # where the layers fit a word, each candidate's layers as a bitset cut into bytes: π(S) is then a sum of
        # one table look-up per byte instead of one per member
        self._bytes = None
        if len(self.layers) <= 63 and len(size):
            words = np.bitwise_or.reduceat(np.left_shift(1, self.flat), self.starts)
            self._bytes = [((words >> shift) & 0xFF).astype(np.uint8) for shift in range(0, len(self.layers), 8)]

    def __len__(self) -> int:
        return len(self.size)

    def tile(self, picks, deadline: Deadline) -> None:
        """Tile the candidates ``picks`` (indices) not tiled yet; each one's lower bound becomes its cost."""
        for j, k in enumerate(k for k in picks if not self.tiled[k]):
            if j % 64 == 0:
                deadline.check(f"tiling candidates ({int(self.tiled.sum()):,} of {len(self):,} so far)")
            tiling = self.candidates[k].tiling(self.cm)
            self.tiled[k] = True
            if tiling is None:
                self.lower[k] = math.inf
            else:
                self.tilings[k] = tiling
                self.lower[k] = tiling.cost

    def priced(self, pi: np.ndarray) -> np.ndarray:
        """π(S) of every candidate."""
        if self._bytes is None:
            return np.add.reduceat(pi[self.flat], self.starts)
        total = np.zeros(len(self.size))
        for k, part in enumerate(self._bytes):
            prices = pi[8 * k:8 * k + 8]
            total += (_BITS[:, :len(prices)] @ prices)[part]
        return total

    def shares(self, rc: np.ndarray) -> np.ndarray:
        """m_u = the least rc(S)/|S| over the candidates S that hold layer u (infinite when none may fit)."""
        # an infinite sentinel at the end keeps every start a valid index, even of layers that no candidate holds
        np.take(rc / self.size, self._owners_by_layer, out=self._memberships[:-1])
        m = np.minimum.reduceat(self._memberships, self._layer_starts)
        m[~self._held] = math.inf
        return m


#: The bits of each byte value, as rows of 0/1.
_BITS = ((np.arange(256)[:, None] >> np.arange(8)) & 1).astype(np.float64)


@dataclass
class Relaxation:
    """What column generation reached: the best Lagrangian bound L over the prices it priced at, the columns of
    the LP, whether the LP is solved over every candidate, and then its prices π, their shares m and L(π) (``at``),
    for the columns kept; and the work done."""

    bound: float = -math.inf
    pi: np.ndarray | None = None
    shares: np.ndarray | None = None
    at: float = -math.inf
    columns: list[int] = field(default_factory=list)
    solved: bool = False
    lp_value: float | None = None
    rounds: int = 0
    stopped: str | None = None
    uncovered: list[int] = field(default_factory=list)

    def bound_bytes(self) -> int | None:
        """The bound as a whole number in the objective's units (costs are integers), rounded down against float
        error in its sums; None before any."""
        if not math.isfinite(self.bound):
            return None
        return math.ceil(self.bound - 1e-9 * abs(self.bound) - 1e-6)


def relax(pool: Pool, deadline: Deadline, report: progress.Reporter = progress.NULL, threads: int = 1,
          enough: float | None = None) -> Relaxation:
    """Solve the LP relaxation of the cover rows (every layer in exactly one group; the order of groups is not
    part of it) by column generation over ``pool``, starting from the layers alone; stops when no candidate has
    a negative reduced cost, at ``deadline`` with the best bound so far (:class:`Relaxation`), or once the bound
    reaches ``enough`` (a caller's schedule that no other can then beat), on HiGHS with ``threads`` threads."""
    import highspy

    out = Relaxation()
    n = len(pool.layers)
    h = new_highs(threads, 0)
    singles = [k for k in range(len(pool)) if pool.size[k] == 1]
    try:
        pool.tile(singles, deadline)
        finite = pool.lower[np.isfinite(pool.lower)]
        scale = float(np.median(finite)) if len(finite) else 1.0
        scale = max(scale, 1.0)
        # a layer no single group covers gets an artificial column, so that the LP is feasible from the start;
        # its price does not matter for the bound (the LP with it is a relaxation of the one without)
        alone = {int(pool.flat[pool.starts[k]]): k for k in singles if math.isfinite(pool.lower[k])}
        artificial = 4.0 * (float(finite.sum()) if len(finite) else 1.0) / scale + 1.0
        h.addRows(n, np.ones(n), np.ones(n), 0, np.zeros(n, dtype=np.int32), np.array([], dtype=np.int32),
                  np.array([]))
        for u in range(n):
            if u not in alone:
                h.addCol(artificial, 0.0, math.inf, 1, np.array([u], dtype=np.int32), np.array([1.0]))
        inside = np.zeros(len(pool), dtype=bool)

        def join(ks) -> None:
            for k in ks:
                rows = pool.flat[pool.starts[k]:pool.starts[k] + pool.size[k]].astype(np.int32)
                h.addCol(pool.lower[k] / scale, 0.0, math.inf, len(rows), rows, np.ones(len(rows)))
                inside[k] = True
                out.columns.append(int(k))

        join(sorted(alone.values()))
        tol = TOL * scale
        passes = 0
        while True:
            deadline.check(f"column generation ({len(out.columns):,} columns)")
            h.run()
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                raise RuntimeError(f"restricted LP: {h.modelStatusToString(h.getModelStatus())}")
            out.rounds += 1
            pi = np.array(h.getSolution().row_dual, dtype=np.float64) * scale
            while True:  # price with these duals until a column joins or every candidate prices out
                rc = pool.lower - pool.priced(pi)
                negative = rc < -tol
                joining = np.flatnonzero(negative & pool.tiled & ~inside)
                untiled = np.flatnonzero(negative & ~pool.tiled) if not len(joining) else joining[:0]
                solved = not len(joining) and not len(untiled)
                if solved or passes % BOUND_EVERY == 0:
                    m = pool.shares(rc)
                    if not np.isfinite(m).all():  # every group that holds these layers was tiled: none fits
                        out.uncovered = [pool.layers[u] for u in np.flatnonzero(~np.isfinite(m))]
                        return out
                    bound = float(pi.sum() + m.sum())
                    if bound > out.bound:
                        out.bound = bound
                        report.update(columns=len(out.columns), bound=out.bound_bytes())
                        if enough is not None and out.bound_bytes() >= enough:
                            return out
                passes += 1
                if len(joining):
                    join(joining[np.argsort(rc[joining], kind="stable")][:JOIN])
                    break
                if solved:
                    out.solved = True
                    out.lp_value = float(h.getInfo().objective_function_value) * scale
                    out.pi, out.shares, out.at = pi, m, bound  # the solved LP's prices, for the columns kept
                    return out
                if len(untiled) > BATCH:
                    untiled = untiled[np.argpartition(rc[untiled], BATCH)[:BATCH]]
                pool.tile(sorted(untiled), deadline)
    except OutOfTime as stop:
        out.stopped = str(stop)
        return out


def kept(pool: Pool, relaxation: Relaxation, upper: float | None, deadline: Deadline) -> list[int]:
    """The candidates a schedule of cost at most ``upper`` can hold (all that may fit when there is none), tiled,
    by the reduced-cost test of the module's docstring with the prices of ``relaxation``."""
    if upper is None or relaxation.pi is None:
        pool.tile(np.flatnonzero(np.isfinite(pool.lower) & ~pool.tiled), deadline)
        return [int(k) for k in np.flatnonzero(np.isfinite(pool.lower))]
    slack = upper - relaxation.at + 1e-9 * abs(upper) + 1e-6  # never drop a column for float error

    def survivors() -> np.ndarray:
        rc = pool.lower - pool.priced(relaxation.pi)
        held = np.add.reduceat(relaxation.shares[pool.flat], pool.starts)
        return np.isfinite(pool.lower) & (rc - held <= slack)

    pool.tile(np.flatnonzero(survivors() & ~pool.tiled), deadline)
    return [int(k) for k in np.flatnonzero(survivors())]


def partition_bound(rows: list[int], members: np.ndarray, costs: np.ndarray, deadline: Deadline) -> int | None:
    """A lower bound of the least total cost of sets that cover each of ``rows`` exactly once (set k holds row i
    where ``members[k, i]``, and costs ``costs[k]``): the LP relaxation's value by column generation (:func:`relax`),
    or the best Lagrangian bound L(π) reached when ``deadline`` stops it (None before any); −1 when some row lies
    in no set, so that no cover exists."""
    out = relax(Pool.of_costs(rows, members, costs), deadline)
    return -1 if out.uncovered else out.bound_bytes()
