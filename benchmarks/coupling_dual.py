"""How close the coupling's subgradient rounds come to the best multipliers there are (formulations/segment-bound.md,
"How far the coupling is from its best").

The coupled bound is max over λ of the concave L(λ) (``optimus_opt/solvers/coupling.py``); the coupling climbs it by
subgradient steps and stops when the step is spent, which proves nothing about how far the maximum lies above.
This script solves the same windows and climbs L again by a cutting-plane method: each evaluation of L at λ gives
every window's chosen schedule σ_i, and θ_i ≤ c_i(σ_i) + Σ_m s_im y_m(σ_i) λ_m is a plane above window i's part of L
everywhere; the LP max Σ_i θ_i over the planes so far, with λ kept in a box about the best point (the box-step
method), proposes the next λ (rounded to integers, as the coupling's multipliers are). At the end the same LP
without the box is solved: every plane lies above L, so its value is an upper bound of max L (if it is bounded).

    python benchmarks/coupling_dual.py [--row nasnet_a_mobile:512KiB] [--segment 16] [--overlap 4] [--jobs 2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from optimus_opt.cost.cost_model import CostModel
from optimus_opt.io.resolve import resolve_instance
from optimus_opt.model.accelerator import parse_size
from optimus_opt.solvers.coupling import Window, couple, multiplier_terms, solve_moved
from optimus_opt.solvers.segment_bound import DEFAULT_OVERLAP, DEFAULT_SEGMENT, segments, solve_windows
from optimus_opt.utils.highs import new_highs

#: Plane-method iterations at most, and the box's first half-width in bytes.
ITERATIONS, FIRST_BOX = 400, 100_000


class Lagrangian:
    """L(λ) of the coupling over solved windows, with the plane each window's chosen schedule gives."""

    def __init__(self, cm: CostModel, windows: list[Window]) -> None:
        self.windows = windows
        self.terms, self.count = multiplier_terms(cm, windows)

    def __call__(self, lam: np.ndarray) -> tuple[int, list[tuple[int, int, dict[int, int]]]]:
        """L(lam), and per window its plane: (window, constant, coefficient per multiplier)."""
        total, planes = 0, []
        for i, (w, own) in enumerate(zip(self.windows, self.terms)):
            value, _, ys = solve_moved(w, own, lam)
            total += value
            coef: dict[int, int] = {}
            for (m, sign, *_), y in zip(own, ys):
                if y:
                    coef[m] = coef.get(m, 0) + sign
            planes.append((i, value - sum(s * int(lam[m]) for m, s in coef.items()), coef))
        return total, planes


def plane_max(windows: int, count: int, planes: list, box: tuple[np.ndarray, float] | None) -> tuple[float, np.ndarray]:
    """max Σ θ_i under the planes, λ within ``box`` (centre, half-width) or free: the value (inf if unbounded)
    and the λ found."""
    import highspy

    h = new_highs(1, 0)
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_ = windows + count
    lp.col_cost_ = np.array([-1.0] * windows + [0.0] * count)
    centre, half = box if box else (np.zeros(count), inf)
    lp.col_lower_ = np.concatenate([np.full(windows, -inf), centre - half])
    lp.col_upper_ = np.concatenate([np.full(windows, inf), centre + half])
    starts, index, value, upper = [0], [], [], []
    for i, constant, coef in planes:
        index.append(i)
        value.append(1.0)
        for m, s in coef.items():
            if s:
                index.append(windows + m)
                value.append(-float(s))
        starts.append(len(index))
        upper.append(float(constant))
    lp.num_row_ = len(planes)
    lp.row_lower_, lp.row_upper_ = np.full(len(planes), -inf), np.array(upper)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.array(starts, np.int32)
    lp.a_matrix_.index_ = np.array(index, np.int32)
    lp.a_matrix_.value_ = np.array(value)
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return float("inf"), centre
    return -h.getInfo().objective_function_value, np.array(h.getSolution().col_value[windows:])


def planes_climb(lagrangian: Lagrangian) -> tuple[int, float, int]:
    """The best L found by the box-step plane method, the unboxed planes' maximum (an upper bound of max L) and
    the iterations."""
    n, count = len(lagrangian.windows), lagrangian.count
    centre = np.zeros(count, np.int64)
    at_centre, planes = lagrangian(centre)
    half = float(FIRST_BOX)
    iterations = 0
    for iterations in range(1, ITERATIONS + 1):
        predicted, lam = plane_max(n, count, planes, (centre.astype(float), half))
        lam = np.rint(lam).astype(np.int64)
        value, new = lagrangian(lam)
        planes.extend(new)
        on_edge = bool(np.any(np.abs(lam - centre) >= half - 1))
        if value >= at_centre + 0.1 * (predicted - at_centre):  # a serious step: move the box
            centre, at_centre = lam, value
            half *= 2 if on_edge else 1
        elif value < at_centre:
            half = max(half / 2, 1.0)
        if predicted - at_centre < max(1.0, 1e-7 * at_centre) and not on_edge:
            break
    return at_centre, plane_max(n, count, planes, None)[0], iterations


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--row", default="nasnet_a_mobile:512KiB", help="network:buffer")
    ap.add_argument("--segment", type=int, default=DEFAULT_SEGMENT)
    ap.add_argument("--overlap", type=int, default=DEFAULT_OVERLAP)
    ap.add_argument("--jobs", type=int, default=1, help="processes solving the windows")
    args = ap.parse_args()
    name, size = args.row.split(":")
    cm = CostModel(resolve_instance(name, buffer=parse_size(size)))  # the paper setting: Optimus NPU, batch 4
    began = time.perf_counter()
    solved = list(solve_windows(cm, segments(cm, args.segment), args.overlap, jobs=args.jobs))
    windows = [window for _, window in solved]
    plain = sum(result.value for result, _ in solved)
    print(f"{name} {size}: {len(windows)} windows solved in {time.perf_counter() - began:.1f} s, "
          f"summed {plain:,} B", flush=True)
    coupled = couple(cm, windows, plain)
    print(f"coupling (subgradient): {coupled.bytes:,} B after {coupled.rounds} rounds, {coupled.multipliers} "
          f"multipliers, {coupled.disagreements} pairs still differ, {coupled.seconds:.1f} s", flush=True)
    began = time.perf_counter()
    best, above, iterations = planes_climb(Lagrangian(cm, windows))
    print(f"cutting planes (box-step): {best:,} B after {iterations} iterations, {time.perf_counter() - began:.1f} s",
          flush=True)
    if above == float("inf"):
        print("the planes do not bound max L from above (more iterations would)")
    else:
        print(f"max L is at most {above:,.0f} B: the coupling is within {above - coupled.bytes:,.0f} B "
              f"({(above - coupled.bytes) / coupled.bytes:.4%}) of the best multipliers")


if __name__ == "__main__":
    main()
