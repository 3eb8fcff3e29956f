"""DRAM-, energy- and latency-optimal schedules, and the price of a recompute budget (formulations/energy.md).

1. ``budgets``: of the networks with large feature maps (``--budget-nets``, default MobileNet V1 and SqueezeNet
   1.0, whose first layers are 112 × 112 and 111 × 111, VGG-16, U-Net, YOLOv3-tiny, ResNet-18) the one whose unconstrained DRAM optimum (cpsat) recomputes the largest share of the network's MACs
   is solved by cpsat, objective dram, with ``max_recompute`` 0 %, 1 %, 5 % and 20 % (``--budgets``); each run must
   be proven optimal, and milp must prove the same bytes.
2. ``timing``: cpsat without a budget and with the tightest and a loose budget on that network and the next two of
   the ranking, measured in this one run (a warm-up solve first, the median of ``--repeats`` runs each), as ratios.
3. ``objectives``: the eight paper networks (``--nets``) at 128 KiB on the Optimus NPU, batch 4, ``tiling: tiles``
   (``halo: choose``), solved by ``--solver`` (exact-dp) minimising DRAM bytes, energy and latency, with every
   figure: DRAM bytes, energy, latency, MACs, added MACs, status (and the gap of an unproven run), solve time.
   NASNet-A Mobile comes last; it stops at ``--time-limit`` with a bound.

Every schedule is re-evaluated (``oo.evaluate``): its bytes, energy and latency must be what the solver reported;
a schedule optimal in one objective that another proven schedule beats in that objective is printed as a BUG line.

    python benchmarks/bench_objectives.py [--parts budgets,timing,objectives] [--nets a,b] [--solver exact-dp]
        [--time-limit 120] [--jsonl FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import optimus_opt as oo
from optimus_opt.io.resolve import resolve_instance

PAPER = ("alexnet", "vgg16", "googlenet", "resnet18", "resnet50", "mobilenet_v1", "squeezenet1_0",
         "nasnet_a_mobile")
OBJECTIVES = ("dram", "energy", "latency")
PARTS = ("budgets", "timing", "objectives")

#: fJ per 1e10 pJ, the unit of the artifact's energies.
UNIT = 10 ** 13


def tiles_instance(net: str) -> oo.Instance:
    """``net`` in the paper's setting (Optimus NPU, 128 KiB, batch 4) in 2-D tiles, ``halo: choose``."""
    return resolve_instance(net, tiling="tiles")


def checked(inst: oo.Instance, sched: oo.Schedule) -> oo.Schedule:
    """``sched`` after checking that :func:`oo.evaluate` gives the bytes, energy and latency the solver reported."""
    if sched.groups:
        fig = oo.evaluate(inst, sched).figures
        got = (fig.dram_bytes, fig.energy_fj, fig.latency_cycles, fig.macs, fig.added_macs)
        said = (sched.dram_bytes, sched.energy_fj, sched.latency_cycles, sched.macs, sched.added_macs)
        if got != said:
            raise SystemExit(f"{inst.name} {sched.solver} ({sched.objective}): evaluate gives (B, fJ, cycles, MACs, "
                             f"added) {got}; the solver reported {said}")
    return sched


def record(path: str | None, part: str, inst: oo.Instance, sched: oo.Schedule, seconds: float, **extra) -> None:
    """One JSON line per run, appended to ``path``."""
    if not path:
        return
    with open(path, "a") as f:
        f.write(json.dumps({
            "bench": "objectives", "part": part, "date": time.strftime("%Y-%m-%d"), "instance": inst.name,
            "solver": sched.solver, "objective": sched.objective, "status": sched.status,
            "dram_bytes": sched.dram_bytes, "energy_fj": sched.energy_fj, "latency_cycles": sched.latency_cycles,
            "macs": sched.macs, "added_macs": sched.added_macs, "bound": sched.bound, "gap": sched.gap,
            "groups": len(sched.groups), "solve_seconds": sched.solve_seconds, "seconds": round(seconds, 3),
            **extra}) + "\n")


def timed(inst: oo.Instance, solver: str, time_limit: float, **options) -> tuple[oo.Schedule, float]:
    """Solve and re-evaluate; the wall time of the solve."""
    start = time.perf_counter()
    sched = oo.solve(inst, solver=solver, time_limit=time_limit, **options)
    seconds = time.perf_counter() - start
    return checked(inst, sched), seconds


def share(sched: oo.Schedule) -> float:
    """Recomputed MACs as a share of the network's own."""
    return sched.added_macs / (sched.macs - sched.added_macs)


def rank_budget_nets(nets: list[str], time_limit: float, jsonl: str | None) -> list[tuple[str, oo.Schedule]]:
    """The networks by the share of MACs their unconstrained DRAM optimum (cpsat) recomputes, most first."""
    print("## Which network recomputes most (cpsat, objective dram, no budget)\n")
    print("| network | status | DRAM B | added MACs | share of the network's MACs |")
    print("| --- | --- | ---: | ---: | ---: |")
    found = []
    for net in nets:
        inst = tiles_instance(net)
        sched, seconds = timed(inst, "cpsat", time_limit)
        record(jsonl, "rank", inst, sched, seconds)
        found.append((net, sched))
        print(f"| {net} | {sched.status} | {sched.dram_bytes:,} | {sched.added_macs:,} | {share(sched):.4%} |",
              flush=True)
    found.sort(key=lambda p: (-share(p[1]), -p[1].added_macs))
    return found


def budgets_part(net: str, budgets: list[str], time_limit: float, jsonl: str | None) -> None:
    """cpsat under each recompute budget, proven, with milp's bytes beside."""
    inst = tiles_instance(net)
    print(f"\n## Recompute budgets on {inst.name} (cpsat and milp, objective dram)\n")
    print("| max_recompute | MACs allowed | cpsat status | DRAM B | energy (1e10 pJ) | added MACs | latency cycles | "
          "cpsat s | milp status | milp DRAM B | agree |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |")
    for budget in [*budgets, None]:
        c, cs = timed(inst, "cpsat", time_limit, max_recompute=budget)
        m, ms = timed(inst, "milp", time_limit, max_recompute=budget)
        allowed = c.solver_info.get("budgets", {}).get("max_recompute")
        for s, sec in ((c, cs), (m, ms)):
            record(jsonl, "budgets", inst, s, sec, max_recompute=budget, allowed_macs=allowed)
        agree = c.status == m.status == "optimal" and c.dram_bytes == m.dram_bytes
        print(f"| {budget or 'none'} | {f'{allowed:,}' if allowed is not None else '-'} | {c.status} | "
              f"{c.dram_bytes:,} | {c.energy_fj / UNIT:.4f} | {c.added_macs:,} | {c.latency_cycles:,} | {cs:.2f} | "
              f"{m.status} | {m.dram_bytes:,} | {'yes' if agree else 'NO'} |", flush=True)
        if allowed is not None and c.added_macs > allowed:
            print(f"BUG: cpsat recomputes {c.added_macs:,} MACs over the budget {allowed:,}")


def timing_part(nets: list[str], budgets: list[str], repeats: int, time_limit: float, jsonl: str | None) -> None:
    """Median cpsat solve time without and with each budget, as ratios, all in this run."""
    print(f"\n## cpsat with and without a recompute budget (objective dram, median of {repeats}, one run)\n")
    head = " | ".join(f"{b}: s | {b} / none" for b in budgets)
    print(f"| instance | none: s | {head} |")
    print("| --- | ---: |" + " ---: | ---: |" * len(budgets))
    warm = tiles_instance(nets[0])
    timed(warm, "cpsat", time_limit)  # imports and compiles once, outside the measurement
    for net in nets:
        inst = tiles_instance(net)
        times: dict[str | None, list[float]] = {b: [] for b in [None, *budgets]}
        for _ in range(repeats):
            for budget in times:  # interleaved, so that a busy moment weighs on every column alike
                sched, seconds = timed(inst, "cpsat", time_limit, max_recompute=budget)
                if sched.status != "optimal":
                    print(f"note: {inst.name} max_recompute {budget}: cpsat {sched.status} in {seconds:.1f} s")
                record(jsonl, "timing", inst, sched, seconds, max_recompute=budget)
                times[budget].append(sched.solve_seconds)
        base = statistics.median(times[None])
        cells = " | ".join(f"{statistics.median(times[b]):.2f} | {statistics.median(times[b]) / base:.2f}×"
                           for b in budgets)
        print(f"| {inst.name} | {base:.2f} | {cells} |", flush=True)


def objectives_part(nets: list[str], solver: str, time_limit: float, jsonl: str | None) -> None:
    """Each network's DRAM-, energy- and latency-optimal schedules with all their figures."""
    print(f"\n## DRAM-, energy- and latency-optimal schedules ({solver}, --time-limit {time_limit:g})\n")
    print("| network | objective | status (gap) | DRAM B | energy (1e10 pJ) | latency cycles | MACs | added MACs | "
          "groups | solve s |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for net in nets:
        inst = tiles_instance(net)
        got: dict[str, oo.Schedule] = {}
        for objective in OBJECTIVES:
            sched, seconds = timed(inst, solver, time_limit, objective=objective)
            record(jsonl, "objectives", inst, sched, seconds)
            got[objective] = sched
            gap = f" ({sched.gap:.1%}; bound {sched.bound:,})" if sched.status != "optimal" and sched.gap else ""
            print(f"| {net} | {objective} | {sched.status}{gap} | {sched.dram_bytes:,} | "
                  f"{sched.energy_fj / UNIT:.4f} | {sched.latency_cycles:,} | {sched.macs:,} | "
                  f"{sched.added_macs:,} ({share(sched):.2%}) | {len(sched.groups)} | {sched.solve_seconds:.2f} |",
                  flush=True)
        for objective, best in got.items():
            if best.status != "optimal":
                continue
            for other in got.values():
                if _value(other, objective) < _value(best, objective):
                    print(f"BUG: {net}: the {objective}-optimal schedule ({_value(best, objective):,}) is beaten in "
                          f"{objective} by the {other.objective}-optimal one ({_value(other, objective):,})")


def _value(sched: oo.Schedule, objective: str) -> int:
    """A schedule's figure in ``objective``'s units, whatever it minimised."""
    return {"dram": sched.dram_bytes, "energy": sched.energy_fj, "latency": sched.latency_cycles}[objective]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parts", default=",".join(PARTS), help=f"which parts, in this order ({', '.join(PARTS)})")
    ap.add_argument("--nets", default=",".join(PAPER), help="networks of the objectives part")
    ap.add_argument("--solver", default="exact-dp", help="solver of the objectives part")
    ap.add_argument("--time-limit", type=float, default=120.0, help="seconds per run (default 120)")
    ap.add_argument("--budget-nets", default="mobilenet_v1,squeezenet1_0,vgg16,unet,yolov3_tiny,resnet18")
    ap.add_argument("--budgets", default="0%,1%,5%,20%")
    ap.add_argument("--timing-budgets", default="0%,5%", help="budgets of the timing part")
    ap.add_argument("--repeats", type=int, default=3, help="runs per timing cell (median)")
    ap.add_argument("--jsonl", help="append one JSON line per run to this file")
    args = ap.parse_args()
    parts = args.parts.split(",")
    if set(parts) - set(PARTS):
        ap.error(f"--parts: unknown {', '.join(sorted(set(parts) - set(PARTS)))} (known: {', '.join(PARTS)})")
    start = time.perf_counter()
    if "budgets" in parts or "timing" in parts:
        ranked = rank_budget_nets(args.budget_nets.split(","), args.time_limit, args.jsonl)
        chosen = ranked[0][0]
        print(f"\nChosen: {chosen} (recomputes {share(ranked[0][1]):.4%} of its MACs unconstrained, "
              f"{ranked[0][1].added_macs:,} MACs)")
        if "budgets" in parts:
            budgets_part(chosen, args.budgets.split(","), args.time_limit, args.jsonl)
        if "timing" in parts:
            timing_part([n for n, _ in ranked[:3]], args.timing_budgets.split(","), args.repeats, args.time_limit,
                        args.jsonl)
    if "objectives" in parts:
        objectives_part(args.nets.split(","), args.solver, args.time_limit, args.jsonl)
    print(f"\n{time.perf_counter() - start:.1f} s in all")


if __name__ == "__main__":
    main()
