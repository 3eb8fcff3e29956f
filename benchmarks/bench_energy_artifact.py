"""The Optimus artifact's overall energy experiment, re-done with our energy model (formulations/energy.md).

SqueezeNet, VGG-16, MobileNet and ResNet-18 on ``optimus-artifact`` (131,072-byte buffer, Tc 32, weights streamed
past the buffer, ``tiling: strips``: the artifact's setting, built as benchmarks/bench_artifact.py builds it) at
batch 4. Each method (optimus, efficient-s, dnnvm, layerwise = no fusion, and the proven optimum: exact-dp, or
cpsat where exact-dp does not prove it) is solved twice, minimising DRAM bytes and minimising energy; the artifact's
own DP minimises DRAM words on SqueezeNet and an energy-weighted sum on the other three. Prints markdown tables:

1. every run: DRAM MiB, energy and its breakdown (DRAM, buffer, register files, MACs) in 1e10 pJ, the artifact's
   published energy and ours / artifact;
2. term by term against the artifact's breakdown (re-computed from its access counts, /work/notes/artifact_energy.md
   section 5), for the objective the artifact's DP used;
3. energy efficiency (baseline energy / Optimus energy) of the artifact beside ours, with the ranges the paper
   quotes as 1.86x-3.66x;
4. the DRAM-optimal and energy-optimal exact schedules side by side.

Every schedule is re-evaluated (``oo.evaluate``) and its energy and bytes checked against what the solver reported.

    python benchmarks/bench_energy_artifact.py [--nets squeezenet1_0,vgg16] [--time-limit 60] [--jsonl FILE]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from dataclasses import dataclass

import optimus_opt as oo
from optimus_opt.cost.cost_model import CostModel
from optimus_opt.model.presets import accelerator_preset
from optimus_opt.studies.comparison import ARTIFACT_MIB, MIB
from optimus_opt.zoo import build

#: (our solver, the artifact's name for the method); "optimum" is the exact optimum, which the artifact lacks.
METHODS = (("optimus", "Optimus"), ("efficient-s", "Efficient-S"), ("dnnvm", "DNNVM"), ("layerwise", "no fusion"),
           ("optimum", "optimum"))
BASELINES = ("efficient-s", "dnnvm", "layerwise")
OBJECTIVES = ("dram", "energy")

#: Published energies of the artifact's overall experiment, 1e10 pJ (Optimus, Efficient-S, DNNVM, no fusion).
ARTIFACT_ENERGY: dict[str, tuple[float, float, float, float]] = {
    "squeezenet1_0": (0.761, 1.141, 1.611, 1.908),
    "vgg16": (12.81, 20.28, 20.28, 21.64),
    "mobilenet_v1": (0.753, 2.056, 2.056, 2.812),
    "resnet18": (1.722, 2.537, 2.692, 2.841),
}

#: The artifact's energy by source, 1e10 pJ: (MAC, RF, GLB, DRAM, NoC), from its access counts times its access
#: costs in a re-run of its overall experiment (/work/notes/artifact_energy.md section 5; each row adds up to the
#: published total). Efficient-S and DNNVM have the same schedule on VGG-16 and MobileNet.
ARTIFACT_TERMS: dict[str, dict[str, tuple[float, float, float, float, float]]] = {
    "squeezenet1_0": {"optimus": (0.333, 0.133, 0.050, 0.207, 0.038),
                      "efficient-s": (0.333, 0.133, 0.242, 0.397, 0.035),
                      "dnnvm": (0.333, 0.133, 0.438, 0.675, 0.032),
                      "layerwise": (0.333, 0.133, 0.630, 0.784, 0.028)},
    "vgg16": {"optimus": (6.139, 2.455, 0.504, 3.492, 0.220),
              "efficient-s": (6.139, 2.455, 6.930, 4.480, 0.280),
              "dnnvm": (6.139, 2.455, 6.930, 4.480, 0.280),
              "layerwise": (6.139, 2.455, 7.880, 4.874, 0.293)},
    "mobilenet_v1": {"optimus": (0.221, 0.088, 0.046, 0.353, 0.046),
                     "efficient-s": (0.221, 0.088, 1.194, 0.508, 0.045),
                     "dnnvm": (0.221, 0.088, 1.194, 0.508, 0.045),
                     "layerwise": (0.221, 0.088, 1.737, 0.714, 0.053)},
    "resnet18": {"optimus": (0.731, 0.292, 0.060, 0.607, 0.033),
                 "efficient-s": (0.731, 0.292, 0.737, 0.735, 0.043),
                 "dnnvm": (0.731, 0.292, 0.818, 0.809, 0.042),
                 "layerwise": (0.731, 0.292, 0.936, 0.840, 0.043)},
}

#: MACs the artifact counts over the batch (convolutions and fully connected layers, depthwise ones excluded).
ARTIFACT_MACS = {"squeezenet1_0": 3.331e9, "vgg16": 6.139e10, "mobilenet_v1": 2.205e9, "resnet18": 7.306e9}

#: What the artifact's DP minimises on each network: DRAM words on SqueezeNet, an energy-weighted sum elsewhere.
ARTIFACT_OBJECTIVE = {"squeezenet1_0": "dram", "vgg16": "energy", "mobilenet_v1": "energy", "resnet18": "energy"}

#: The paper's energy-efficiency range (baseline energy / Optimus energy).
PAPER_RANGE = (1.86, 3.66)

#: fJ per 1e10 pJ.
UNIT = 10 ** 13


@dataclass(frozen=True)
class Run:
    """One solved and re-evaluated schedule."""

    net: str
    method: str
    objective: str
    solver: str
    schedule: oo.Schedule
    breakdown: dict[str, int]
    seconds: float

    @property
    def energy(self) -> float:
        """Energy in 1e10 pJ."""
        return self.schedule.energy_fj / UNIT


def artifact_instance(net: str) -> oo.Instance:
    """``net`` on the artifact's accelerator at batch 4, in strips (as benchmarks/bench_artifact.py builds it)."""
    acc = accelerator_preset("optimus-artifact")
    return oo.Instance(build(net), dataclasses.replace(acc, tiling="strips"), batch=4)


def solve(inst: oo.Instance, method: str, objective: str, time_limit: float) -> tuple[str, oo.Schedule]:
    """The method's schedule; for ``optimum`` exact-dp, then cpsat when exact-dp has not proven it."""
    if method != "optimum":
        return method, oo.solve(inst, solver=method, objective=objective, time_limit=time_limit)
    best = None
    for solver in ("exact-dp", "cpsat"):
        sched = oo.solve(inst, solver=solver, objective=objective, time_limit=time_limit)
        if sched.status == "optimal":
            return solver, sched
        if sched.value is not None and (best is None or sched.value < best[1].value):
            best = (solver, sched)
    if best is None:
        raise SystemExit(f"{inst.name}: no exact solver found a schedule under objective {objective}")
    return best


def run(net: str, inst: oo.Instance, method: str, objective: str, time_limit: float) -> Run:
    """Solve, re-evaluate and check that the evaluation states the solver's bytes and energy."""
    start = time.perf_counter()
    solver, sched = solve(inst, method, objective, time_limit)
    seconds = time.perf_counter() - start
    ev = oo.evaluate(inst, sched)
    fig = ev.figures
    if (fig.energy_fj, fig.dram_bytes, fig.latency_cycles) != (sched.energy_fj, sched.dram_bytes,
                                                                sched.latency_cycles):
        raise SystemExit(f"{inst.name} {method} ({objective}): evaluate gives {fig.dram_bytes} B, {fig.energy_fj} fJ, "
                         f"{fig.latency_cycles} cycles; the solver reported {sched.dram_bytes} B, "
                         f"{sched.energy_fj} fJ, {sched.latency_cycles} cycles")
    breakdown = fig.breakdown_fj(CostModel(inst))
    if sum(breakdown.values()) != fig.energy_fj:
        raise SystemExit(f"{inst.name} {method}: the breakdown adds up to {sum(breakdown.values())} fJ, not "
                         f"{fig.energy_fj}")
    return Run(net, method, objective, solver, sched, breakdown, seconds)


def depthwise_macs(inst: oo.Instance) -> int:
    """MACs of the grouped (depthwise) convolutions over the batch: the artifact counts them as free."""
    net = inst.network
    return inst.batch * sum(m for layer, m in zip(net.layers, net.mac_counts) if layer.op == "conv"
                            and layer.groups > 1)


def ratio_range(pairs: list[tuple[str, str, float]]) -> str:
    """``lo-hi×`` (with where each end is) of (network, baseline, ratio) triples."""
    lo, hi = min(pairs, key=lambda p: p[2]), max(pairs, key=lambda p: p[2])
    return f"{lo[2]:.2f}× ({lo[0]}, {lo[1]}) – {hi[2]:.2f}× ({hi[0]}, {hi[1]})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nets", default=",".join(ARTIFACT_ENERGY))
    ap.add_argument("--time-limit", type=float, default=60.0, help="seconds per exact run (default 60)")
    ap.add_argument("--jsonl", help="append one JSON line per run to this file")
    args = ap.parse_args()
    nets = args.nets.split(",")
    unknown = [n for n in nets if n not in ARTIFACT_ENERGY]
    if unknown:
        ap.error(f"--nets: {', '.join(unknown)} not in the artifact's experiment ({', '.join(ARTIFACT_ENERGY)})")
    names = dict(METHODS)
    runs: dict[tuple[str, str, str], Run] = {}
    instances: dict[str, oo.Instance] = {}
    wall = time.perf_counter()

    print("## Every run (energy in 1e10 pJ; artifact: published energy of the same method)\n")
    print("| network | method | objective | solver, status | DRAM MiB | energy | DRAM | buffer | RF | MAC | "
          "artifact | ours / artifact | s |")
    print("| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for net in nets:
        inst = instances[net] = artifact_instance(net)
        label = ARTIFACT_MIB[net][0]
        theirs = dict(zip(("optimus", *BASELINES), ARTIFACT_ENERGY[net]))
        for method, _ in METHODS:
            for objective in OBJECTIVES:
                r = runs[net, method, objective] = run(net, inst, method, objective, args.time_limit)
                b = {k: v / UNIT for k, v in r.breakdown.items()}
                paper = theirs.get(method)
                mark = " *" if objective == ARTIFACT_OBJECTIVE[net] else ""
                print(f"| {label} | {names[method]} | {objective}{mark} | {r.solver}, {r.schedule.status} | "
                      f"{r.schedule.dram_bytes / MIB:,.2f} | {r.energy:.3f} | {b['dram']:.3f} | {b['buffer']:.3f} | "
                      f"{b['rf']:.3f} | {b['mac']:.3f} | {paper if paper else '-'} | "
                      f"{f'{r.energy / paper:.2f}×' if paper else '-'} | {r.seconds:.2f} |", flush=True)
                if args.jsonl:
                    with open(args.jsonl, "a") as f:
                        s = r.schedule
                        f.write(json.dumps({
                            "bench": "energy_artifact", "date": time.strftime("%Y-%m-%d"), "instance": inst.name,
                            "network": net, "method": method, "solver": r.solver, "objective": objective,
                            "status": s.status, "dram_bytes": s.dram_bytes, "energy_fj": s.energy_fj,
                            "latency_cycles": s.latency_cycles, "macs": s.macs, "added_macs": s.added_macs,
                            "breakdown_fj": r.breakdown, "groups": len(s.groups), "bound": s.bound,
                            "seconds": round(r.seconds, 3), "artifact_energy_1e10pj": paper,
                            "time_limit": args.time_limit}) + "\n")
    print("\n`*`: the objective the artifact's DP searches on this network (DRAM words on SqueezeNet, an "
          "energy-weighted sum elsewhere).")

    print("\n## Term by term (1e10 pJ, ours / artifact; our runs under the objective the artifact's DP uses)\n")
    print("| network | method | MACs ours / artifact (ours depthwise) | MAC | RF | DRAM | buffer vs GLB | "
          "artifact NoC (not modelled) | total |")
    print("| --- | --- | --- | --- | --- | --- | --- | ---: | --- |")
    for net in nets:
        label = ARTIFACT_MIB[net][0]
        for method in ("optimus", *BASELINES):
            r = runs[net, method, ARTIFACT_OBJECTIVE[net]]
            mac, rf, glb, dram, noc = ARTIFACT_TERMS[net][method]
            b = {k: v / UNIT for k, v in r.breakdown.items()}
            cell = lambda ours, art: f"{ours:.3f} / {art:.3f} ({ours / art:.2f}×)"  # noqa: E731
            total = ARTIFACT_ENERGY[net][("optimus", *BASELINES).index(method)]
            macs = r.schedule.macs - r.schedule.added_macs
            print(f"| {label} | {names[method]} | {macs / 1e9:.3f}e9 / {ARTIFACT_MACS[net] / 1e9:.3f}e9 "
                  f"({depthwise_macs(instances[net]) / 1e9:.3f}e9) | {cell(b['mac'], mac)} | {cell(b['rf'], rf)} | "
                  f"{cell(b['dram'], dram)} | {cell(b['buffer'], glb)} | {noc:.3f} | {cell(r.energy, total)} |")

    print("\n## Energy efficiency: baseline energy / Optimus (or optimum) energy\n")
    print("| network | baseline | artifact: / Optimus | ours (energy): / optimus | ours (energy): / optimum | "
          "ours (dram): / optimus | ours (dram): / optimum |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    pairs: dict[str, list[tuple[str, str, float]]] = {k: [] for k in ("artifact", "energy-optimus", "energy-optimum",
                                                                       "dram-optimus", "dram-optimum")}
    for net in nets:
        label = ARTIFACT_MIB[net][0]
        theirs = dict(zip(("optimus", *BASELINES), ARTIFACT_ENERGY[net]))
        for base in BASELINES:
            cells = {"artifact": theirs[base] / theirs["optimus"]}
            for objective in OBJECTIVES:
                e = runs[net, base, objective].energy
                cells[f"{objective}-optimus"] = e / runs[net, "optimus", objective].energy
                cells[f"{objective}-optimum"] = e / runs[net, "optimum", objective].energy
            for key, value in cells.items():
                pairs[key].append((label, names[base], value))
            print(f"| {label} | {names[base]} | {cells['artifact']:.2f}× | {cells['energy-optimus']:.2f}× | "
                  f"{cells['energy-optimum']:.2f}× | {cells['dram-optimus']:.2f}× | {cells['dram-optimum']:.2f}× |")
    print(f"\nThe paper quotes {PAPER_RANGE[0]}×–{PAPER_RANGE[1]}× (min–max over networks × baselines).")
    for key, what in (("artifact", "artifact's published energies"), ("energy-optimus", "ours, optimus (energy)"),
                      ("energy-optimum", "ours, optimum (energy)"), ("dram-optimus", "ours, optimus (dram)"),
                      ("dram-optimum", "ours, optimum (dram)")):
        fused = [p for p in pairs[key] if p[1] != names["layerwise"]]
        print(f"- {what}: {ratio_range(pairs[key])}; against Efficient-S and DNNVM only: {ratio_range(fused)}")
    art = pairs["artifact"]
    lo, hi = min(p[2] for p in art), max(p[2] for p in art)
    agrees = round(lo, 2) == PAPER_RANGE[0] and round(hi, 2) == PAPER_RANGE[1]
    print(f"- the published energies {'give' if agrees else 'do not give'} the paper's range "
          f"({lo:.2f}×–{hi:.2f}× over {len(art)} pairs)")

    print("\n## The exact optimum: DRAM-optimal against energy-optimal\n")
    print("| network | DRAM-optimal: groups | DRAM MiB | energy | energy-optimal: groups | DRAM MiB | energy | "
          "same schedule |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for net in nets:
        d, e = runs[net, "optimum", "dram"], runs[net, "optimum", "energy"]
        if e.schedule.energy_fj > d.schedule.energy_fj and e.schedule.status == "optimal":
            print(f"BUG: {net}: the energy-optimal schedule ({e.schedule.energy_fj} fJ) uses more energy than the "
                  f"DRAM-optimal one ({d.schedule.energy_fj} fJ)")
        if d.schedule.dram_bytes > e.schedule.dram_bytes and d.schedule.status == "optimal":
            print(f"BUG: {net}: the DRAM-optimal schedule ({d.schedule.dram_bytes} B) moves more than the "
                  f"energy-optimal one ({e.schedule.dram_bytes} B)")
        same = [g.layers for g in d.schedule.groups] == [g.layers for g in e.schedule.groups]
        tilings = [g.to_dict() for g in d.schedule.groups] == [g.to_dict() for g in e.schedule.groups]
        print(f"| {ARTIFACT_MIB[net][0]} | {len(d.schedule.groups)} | {d.schedule.dram_bytes / MIB:,.2f} | "
              f"{d.energy:.4f} | {len(e.schedule.groups)} | {e.schedule.dram_bytes / MIB:,.2f} | {e.energy:.4f} | "
              f"{'yes' if tilings else 'same groups, other tilings' if same else 'no'} |")
    print(f"\n{len(runs)} runs in {time.perf_counter() - wall:.1f} s (--time-limit {args.time_limit:g})")


if __name__ == "__main__":
    main()
