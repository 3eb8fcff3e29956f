"""Recompute the slow and the timed figures of README.md and docs/reproduction.md, each beside what the page says.

The quick figures are asserted by tests/test_readme_figures.py; this script takes the rest, with the options the
pages give: figures that take more than a few seconds to recompute (the heuristics on NASNet-A Mobile, its segment
bound, the overall comparison table of docs/reproduction.md, the tiles-against-strips range of benchmarks/
bench_tiles.py) and figures measured under a time limit or on a clock (``auto``'s 30 s on NASNet, solve and bound
times, benchmarks/bench_tiling.py, the paper study's wall time). Each stated figure is read out of the page by a
phrase around it; a row is printed as soon as it is measured, with the page's figure, the measured one, their
ratio and a flag: ``DIFFERS`` where a deterministic figure is not the one stated, ``> 2 %`` where a time-limited
run's bytes are more than 2 % from it, ``slower x2`` or ``faster x2`` where a time is more than twice or less than
half the stated one, ``over`` where a time exceeds a ceiling the page states (a loaded machine is slower: read
those against the load), ``NOT FOUND`` where the page no longer has the phrase.

About 13 minutes on 2 shared cores (most of it exact runs at their 30 s and 60 s limits: NASNet-A Mobile in the
overall table and under ``tiles``, GoogLeNet under ``tiles``); ``--study`` adds ``optimus-opt gap --preset paper
--jobs 2`` and its ``--resume`` (about 6 minutes more).

    python benchmarks/readme_figures.py [--sections nasnet,bounds,overall,sweeps,tiles,tiling] [--study]
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.metadata
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optimus_opt as oo
from optimus_opt.cost.candidates import CandidateSpace
from optimus_opt.io.resolve import resolve_instance
from optimus_opt.solvers.anytime import HEURISTICS
from optimus_opt.solvers.segment_bound import segment_bound
from optimus_opt.studies.paper import paper_experiments

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ("nasnet", "bounds", "overall", "sweeps", "tiles", "tiling")
#: bench_tiles.py's networks (its default), and the buffers and limit of the run docs/reproduction.md reports.
TILES_NETWORKS = ("alexnet", "vgg16", "googlenet", "resnet18", "resnet50", "mobilenet_v1", "squeezenet1_0",
                  "nasnet_a_mobile", "unet", "yolov3_tiny")
TILES_BUFFERS = (128 * 1024, 512 * 1024)
TILES_LIMIT = 60.0
#: The heuristic columns of the overall comparison table, in its order.
TABLE_HEURISTICS = ("layerwise", "dnnvm", "efficient-s", "optimus-online", "optimus")


def flat(relative: str) -> str:
    """A page with every run of white space made one space, so that a phrase may span lines."""
    return re.sub(r"\s+", " ", (ROOT / relative).read_text(encoding="utf-8"))


PAGES = {"README": flat("README.md"), "reproduction": flat("docs/reproduction.md")}


@dataclass(frozen=True)
class Row:
    """One figure: what it is, the page and the figure it states (None: phrase not found), what was measured, and
    how to compare them (``exact``: must be equal; ``bytes``: a time-limited run's bytes, within 2 %; ``seconds``:
    within a factor 2; ``at most``: a time the page gives as a ceiling ("in a tenth of a second"); ``claim``:
    ``holds`` says whether the page's statement is true of the measurement)."""

    figure: str
    page: str
    stated: float | str | None
    measured: float | str
    kind: str
    holds: bool = True

    def ratio(self) -> float | None:
        if isinstance(self.stated, (int, float)) and isinstance(self.measured, (int, float)) and self.stated:
            return self.measured / self.stated
        return None

    def flag(self) -> str:
        ratio = self.ratio()
        if self.stated is None:
            return "NOT FOUND"
        if self.kind == "exact":
            return "" if self.stated == self.measured else "DIFFERS"
        if self.kind == "bytes":
            return "> 2 %" if ratio is None or abs(ratio - 1) > 0.02 else ""
        if self.kind == "seconds":
            return "?" if ratio is None else "slower x2" if ratio > 2 else "faster x2" if ratio < 0.5 else ""
        if self.kind == "at most":
            return "?" if ratio is None else "over" if ratio > 1 else ""
        return "" if self.holds else "DIFFERS"


def show(value: float | str | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.4g}"
    return f"{value:,}" if isinstance(value, (int, float)) else value


def emit(row: Row) -> None:
    ratio = row.ratio()
    print(f"| {row.figure} | {row.page} | {show(row.stated)} | {show(row.measured)} | "
          f"{'' if ratio is None else f'{ratio:.3f}'} | {row.flag()} |", flush=True)


def stated(page: str, pattern: str) -> tuple[str, ...] | None:
    """The groups of ``pattern``'s first match in ``page`` (README or reproduction), None when it has none."""
    match = re.search(pattern, PAGES[page])
    return match.groups() if match else None


def num(text: str | None) -> int | float | None:
    """``'95,315,716'`` -> 95315716, ``'0.5'`` -> 0.5; None stays None."""
    if text is None:
        return None
    value = float(text.replace(",", ""))
    return int(value) if value.is_integer() else value


def timed(fn: Callable[..., object], *args: object, **kwargs: object) -> tuple[Any, float]:
    """``fn(*args, **kwargs)`` and the wall seconds it took."""
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


# -- sections ------------------------------------------------------------------------------------------------------

def nasnet() -> Iterator[Row]:
    """README, solve: auto's 30 s on NASNet-A Mobile against the heuristics; bound: the default segment bound."""
    inst = resolve_instance("nasnet_a_mobile")
    found = stated("README", r"\(NASNet-A Mobile: (?:[\d,]+–)?([\d,]+) B at 128 KiB, against ([\d,]+) B from the "
                             r"heuristics\)")  # a range of runs: its upper end
    auto_bytes, heuristic_bytes = found or (None, None)
    best = min(oo.solve(inst, name).dram_bytes for name in HEURISTICS)
    yield Row("NASNet 128 KiB: best of optimus, efficient-s, greedy-merge (B)", "README", num(heuristic_bytes), best,
              "exact")
    result, seconds = timed(oo.solve, inst, "auto")
    yield Row(f"NASNet 128 KiB: auto, default limit (B; {result.status}, {seconds:.0f} s)", "README",
              num(auto_bytes), result.dram_bytes, "bytes")
    found = stated("README", r"on NASNet-A Mobile, where at 128 KiB it proves ([\d,]+) B in (\d+) s")
    bound_bytes, bound_seconds = found or (None, None)
    bound, seconds = timed(oo.lower_bound, inst)
    finished = "" if bound.complete else f", {sum(bound.finished)} of {len(bound.finished)} segments finished"
    yield Row(f"NASNet 128 KiB: bound, default segment (B{finished})", "README", num(bound_bytes), bound.bytes,
              "exact")
    yield Row("NASNet 128 KiB: bound, default segment (s)", "README", num(bound_seconds), round(seconds, 1),
              "seconds")


def bounds() -> Iterator[Row]:
    """README, bound: the time of `--segment 24` on ResNet-18, MobileNetV2 and SqueezeNet ("half a second");
    DenseNet-121's bound at 512 KiB before and after its windows widen in a time limit, and how long that takes;
    NASNet-A Mobile's best schedule known at 512 KiB charged by the default windows (`bound --charge`)."""
    found = stated("README", r"With `--segment (\d+)` it meets the optimum on ResNet-18 .{0,80} at 128 KiB in under "
                             r"(half) a second")
    width = int(found[0]) if found else 24
    for net in ("resnet18", "mobilenet_v2", "squeezenet1_0"):
        bound = oo.lower_bound(resolve_instance(net), segment_layers=width)
        yield Row(f"{net} 128 KiB: bound --segment {width} (s, its own clock)", "README", 0.5 if found else None,
                  round(bound.seconds, 3), "at most")
    found = stated("README", r"on DenseNet-121 at 512 KiB the bound rises from ([\d,]+) B to ([\d,]+) B in ([\d.]+) s")
    narrow, wide, wide_seconds = found or (None, None, None)
    inst = dataclasses.replace(resolve_instance("densenet121"), accelerator=dataclasses.replace(
        resolve_instance("densenet121").accelerator, buffer_bytes=512 * 1024))
    yield Row("densenet121 512 KiB: bound, default segment (B)", "README", num(narrow), oo.lower_bound(inst).bytes,
              "exact")
    bound = oo.lower_bound(inst, time_limit=300)  # the windows widen in the time left, until none grows
    yield Row("densenet121 512 KiB: bound --time-limit 300, widened (B)", "README", num(wide), bound.bytes, "exact")
    yield Row("densenet121 512 KiB: bound --time-limit 300, widened (s, its own clock)", "README", num(wide_seconds),
              round(bound.seconds, 1), "seconds")
    found = stated("README", r"at 512 KiB, the best schedule known \(([\d,]+) B, .{0,140} is charged ([\d,]+) B by the "
                             r"default windows \(`--no-widen`, (\d+) s\): ([\d,]+) B no window sees, and ([\d,]+) B")
    total, charged, seconds, unseen, excess = found or (None,) * 5
    inst = resolve_instance("nasnet_a_mobile", buffer=512 * 1024)
    bound = oo.lower_bound(inst, widen=False)
    best = oo.load_schedule(ROOT / "benchmarks" / "schedules" / "nasnet_a_mobile-512KiB.json")
    charges = oo.charge_schedule(inst, bound, best)
    for figure, stated_bytes, measured in (("schedule", total, charges.schedule_bytes),
                                           ("charged", charged, charges.charged),
                                           ("charged by no window", unseen, charges.uncharged),
                                           ("above the windows", excess, charges.excess)):
        yield Row(f"nasnet_a_mobile 512 KiB: best known, {figure} (B)", "README", num(stated_bytes), measured, "exact")
    yield Row("nasnet_a_mobile 512 KiB: bound --no-widen (s, its own clock)", "README", num(seconds),
              round(bound.seconds, 1), "seconds")
    found = stated("README", r"`--segment 36 --overlap 0` proves ([\d,]+) B, and with `--planes --reload-cuts all "
                             r"--rounds 1000` ([\d,]+) B")
    rounds, planes = found or (None, None)
    part = oo.CostModel(oo.load_instance(ROOT / "benchmarks" / "schedules"
                                      / "nasnet_a_mobile-512KiB-groups-5-7.instance.json"))
    yield Row("nasnet_a_mobile 512 KiB, groups 5-7: bound --segment 36 --overlap 0 (B)", "README", num(rounds),
              segment_bound(part, 36, 0).bytes, "exact")
    yield Row("nasnet_a_mobile 512 KiB, groups 5-7: the same, --planes --reload-cuts all --rounds 1000 (B)", "README",
              num(planes), segment_bound(part, 36, 0, coupling_rounds=1000, planes=True, reload_cuts=None).bytes,
              "exact")


def _overall_rows() -> list[tuple[str, str, list[str]]]:
    """The rows of docs/reproduction.md's overall comparison table: network, accelerator and the nine cells
    (layerwise, dnnvm, efficient-s, optimus-online, optimus, refine, optimum, optimus above it, optimus against
    layerwise)."""
    text = (ROOT / "docs" / "reproduction.md").read_text(encoding="utf-8")
    section = text[text.index("### Overall comparison"):]
    section = section[:section.index("\n#", 1)]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 11 and cells[0] not in ("network", "---"):
            rows.append((cells[0], cells[1], cells[2:]))
    return rows


def mib(nbytes: int) -> str:
    return f"{nbytes / 2 ** 20:,.2f}"


def overall() -> Iterator[Row]:
    """docs/reproduction.md, the overall comparison table (the heuristics, exact-dp at the preset's 30 s and the
    derived columns), and README: "every exact solver proves the optimum of each but NASNet-A Mobile in seconds"
    (exact-dp, cpsat and milp on the Optimus NPU under bench_paper.py's default 60 s)."""
    experiment = next(e for e in paper_experiments() if e.key == "overall")
    instances = {(i.network.name, i.accelerator.name): i for i in experiment.instances}
    limit = experiment.options["exact-dp"]["time_limit"]
    unproven = []
    for network, accelerator, cells in _overall_rows():
        inst = instances[(network, accelerator)]
        measured = {name: oo.solve(inst, name).dram_bytes for name in TABLE_HEURISTICS}
        exact, seconds = timed(oo.solve, inst, "exact-dp", time_limit=limit)
        where = f"{network} {accelerator}"
        differ = [f"{name} {mib(measured[name])} (page {cell})" for name, cell in zip(TABLE_HEURISTICS, cells)
                  if mib(measured[name]) != cell]
        optimus, layerwise = measured["optimus"], measured["layerwise"]
        reduction = f"{100 * (1 - optimus / layerwise):.1f} %"
        if reduction != cells[8]:
            differ.append(f"optimus vs layerwise {reduction} (page {cells[8]})")
        if exact.status == "optimal":
            if cells[6] != f"{mib(exact.dram_bytes)} (proven)":
                differ.append(f"optimum {mib(exact.dram_bytes)} (page {cells[6]})")
            gap = optimus / exact.dram_bytes - 1
            above = "0 %" if gap == 0 else f"+{100 * gap:.2f} %"
            if above != cells[7]:
                differ.append(f"optimus above optimum {above} (page {cells[7]})")
        else:
            unproven.append(where)
            page_bound = re.match(r"≥ ([\d,.]+)", cells[6])
            found = (f"{exact.status} after {seconds:.0f} s, {mib(exact.dram_bytes or 0)} ≥ bound "
                     f"{mib(exact.bound_bytes or 0)}")
            if page_bound:
                yield Row(f"{where}: exact-dp {limit:g} s bound (MiB; {found})", "reproduction",
                          num(page_bound.group(1)), float(mib(exact.bound_bytes or 0)), "bytes")
            else:
                yield Row(f"{where}: exact-dp {limit:g} s (MiB)", "reproduction", cells[6], found, "claim",
                          holds=False)
        yield Row(f"{where}: overall table, 8 columns", "reproduction", "as measured",
                  "; ".join(differ) or "all agree", "claim", holds=not differ)
    yield Row(f"overall table: instances exact-dp leaves unproven in {limit:g} s", "reproduction",
              "NASNet-A Mobile's three", ", ".join(unproven), "claim",
              holds=sorted(unproven) == [f"nasnet_a_mobile {a}" for a in ("eyeriss", "optimus-npu", "shidiannao")])
    claim = stated("README", r"every exact solver proves the optimum of each but NASNet-A Mobile (in seconds)")
    npu = [i for (net, acc), i in instances.items() if acc == "optimus-npu" and net != "nasnet_a_mobile"]
    for solver in ("exact-dp", "cpsat", "milp"):
        runs = [(timed(oo.solve, inst, solver, time_limit=60.0), inst.network.name) for inst in npu]
        worst = max(runs, key=lambda run: run[0][1])
        failed = [name for (result, _), name in runs if result.status != "optimal"]
        yield Row(f"{solver}: slowest optimum of the paper networks but NASNet, 128 KiB ({worst[1]}"
                  f"{'; not proven: ' + ', '.join(failed) if failed else ''})", "README",
                  10.0 if claim else None, round(worst[0][1], 2), "at most")


def sweeps() -> Iterator[Row]:
    """docs/reproduction.md: exact-dp "proves SqueezeNet and VGG-16 optimal in well under a second at every point"
    of the sweeps (buffer, batch, PE array) at the preset's 30 s."""
    claim = stated("reproduction", r"which proves SqueezeNet and VGG-16 optimal in (well under a second) at every "
                                   r"point")
    worst, where, unproven = 0.0, "", []
    for experiment in paper_experiments():
        if experiment.key not in ("buffer", "batch", "pe-array"):
            continue
        limit = experiment.options["exact-dp"]["time_limit"]
        for inst in experiment.instances:
            result, seconds = timed(oo.solve, inst, "exact-dp", time_limit=limit)
            if result.status not in ("optimal", "infeasible"):
                unproven.append(inst.name)
            if seconds > worst:
                worst, where = seconds, inst.name
    yield Row(f"sweeps: slowest exact-dp point ({where}{'; unproven: ' + ', '.join(unproven) if unproven else ''})",
              "reproduction", 1.0 if claim else None, round(worst, 3), "at most")


def tiles() -> Iterator[Row]:
    """README: under 2-D tiles "tiles are 0.2–50 % below strips wherever both are proven" (bench_tiles.py's run
    in docs/reproduction.md: exact-dp, 60 s, 128 and 512 KiB)."""
    found = stated("README", r"tiles are ([\d.]+)–([\d.]+) % below strips wherever both are proven")
    below = []
    for name in TILES_NETWORKS:
        for buffer in TILES_BUFFERS:
            proven = {}
            for tiling in ("strips", "tiles"):
                result = oo.solve(resolve_instance(name, buffer=buffer, tiling=tiling), "exact-dp",
                                  time_limit=TILES_LIMIT)
                if result.status == "optimal":
                    proven[tiling] = result.dram_bytes
            if len(proven) == 2:
                below.append((100 * (1 - proven["tiles"] / proven["strips"]), f"{name} {buffer // 1024} KiB"))
            print(f"  tiles: {name} {buffer // 1024} KiB: proven {proven}", file=sys.stderr, flush=True)
    low, high = min(below), max(below)
    yield Row(f"tiles below strips, least ({low[1]}; %)", "README", num(found[0]) if found else None,
              round(low[0], 2), "claim", holds=found is not None and round(low[0], 1) == num(found[0]))
    yield Row(f"tiles below strips, most ({high[1]}; %)", "README", num(found[1]) if found else None,
              round(high[0], 2), "claim", holds=found is not None and round(high[0]) == num(found[1]))


def tiling() -> Iterator[Row]:
    """README, benchmarks: bench_tiling.py (best of 5) and the best tiling of a ~20-layer GoogLeNet candidate."""
    found = stated("README", r"best of (\d+): (\d+) ms in strips, (\d+) ms in tiles, ([\d.]+)×; a GoogLeNet "
                             r"candidate of ~(\d+) layers takes about ([\d.]+) ms in tiles")
    repeat, strips_ms, tiles_ms, ratio, size, candidate_ms = found or ("5",) + (None,) * 5
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_tiling.py"), "--repeat", repeat],
                         capture_output=True, text=True, check=True, cwd=ROOT).stdout
    totals = dict(re.findall(r"^(\w+): all groups of up to \d+ layers: ([\d.]+) ms", out, re.MULTILINE))
    yield Row(f"bench_tiling.py --repeat {repeat}: strips (ms)", "README", num(strips_ms),
              float(totals["strips"]), "seconds")
    yield Row(f"bench_tiling.py --repeat {repeat}: tiles (ms)", "README", num(tiles_ms), float(totals["tiles"]),
              "seconds")
    yield Row("bench_tiling.py: tiles / strips", "README", num(ratio),
              round(float(totals["tiles"]) / float(totals["strips"]), 2), "seconds")
    inst = resolve_instance("googlenet", tiling="tiles")
    span = int(size or 20)
    picked = [c for c in CandidateSpace(oo.CostModel(inst)) if abs(c.size - span) <= 2]
    sample = picked[::max(1, len(picked) // 50)]
    oo.CostModel(inst).best_tiling_of_mask(sample[0].mask)  # compiles the numba kernels before the clock starts
    times = []
    for candidate in sample:
        cm = oo.CostModel(inst)  # a fresh cache: the group's own work, nothing shared with another group
        times.append(timed(cm.best_tiling_of_mask, candidate.mask)[1])
    yield Row(f"GoogLeNet candidate of {span - 2}-{span + 2} layers, tiles: median of {len(times)} (ms)", "README",
              num(candidate_ms), round(1e3 * statistics.median(times), 2), "seconds")


def study(jobs: int) -> Iterator[Row]:
    """README and docs/reproduction.md: ``optimus-opt gap --preset paper --jobs 2`` and its ``--resume``."""
    readme = stated("README", r"with `--jobs 2` the (\d+) runs take about (\d+) minutes")
    docs = stated("reproduction", r"(\d+) runs \((\d+) instances\) in \*\*[\d.]+ s\*\* \((\d+) min (\d+) s for "
                                  r"the whole command")
    resume = stated("reproduction", r"\*\*([\d.]+) s\*\* for the whole command")
    nasnet_each = stated("reproduction", r"The nine NASNet exact runs \(about (\d+) s each\)")
    versions = stated("reproduction", r"OR-Tools ([\d.]+), HiGHS ([\d.]+)\.")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "gap-paper"
        command = [sys.executable, "-m", "optimus_opt.cli", "gap", "--preset", "paper", "--jobs", str(jobs),
                   "--out", str(out)]
        first, seconds = timed(subprocess.run, command, capture_output=True, check=False, cwd=ROOT)
        second, again = timed(subprocess.run, [*command, "--resume"], capture_output=True, check=False, cwd=ROOT)
        records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines() if line.strip()]
    yield Row("paper study: runs", "README", num(readme[0]) if readme else None, len(records), "exact")
    yield Row(f"paper study --jobs {jobs}: whole command (min; exit {first.returncode})", "README",
              num(readme[1]) if readme else None, round(seconds / 60, 1), "seconds")
    yield Row(f"paper study --jobs {jobs}: whole command (s)", "reproduction",
              60 * int(docs[2]) + int(docs[3]) if docs else None, round(seconds, 1), "seconds")
    yield Row(f"paper study --resume: whole command (s; exit {second.returncode})", "reproduction",
              num(resume[0]) if resume else None, round(again, 1), "seconds")
    exact = {"exact-dp", "cpsat", "milp"}
    walls = [r["wall_seconds"] for r in records
             if r["network"] == "nasnet_a_mobile" and r["solver"] in exact and r.get("wall_seconds") is not None]
    yield Row(f"paper study: NASNet exact runs, mean of {len(walls)} (s)", "reproduction",
              num(nasnet_each[0]) if nasnet_each else None, round(statistics.mean(walls), 1) if walls else 0.0,
              "seconds")
    installed = (importlib.metadata.version("ortools"), importlib.metadata.version("highspy"))
    yield Row("OR-Tools, HiGHS of the run (installed here)", "reproduction", ", ".join(versions or ("-",)),
              ", ".join(installed), "claim",
              holds=versions is not None and all(i.startswith(v) for i, v in zip(installed, versions)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated, of {', '.join(SECTIONS)}")
    ap.add_argument("--study", action="store_true", help="also run the paper study (about 5 minutes more)")
    ap.add_argument("--jobs", type=int, default=2, help="--jobs of the paper study (default 2, as the pages)")
    args = ap.parse_args()
    chosen = [name for name in args.sections.split(",") if name]
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown:
        ap.error(f"unknown sections {', '.join(unknown)}; known: {', '.join(SECTIONS)}")
    runs: dict[str, Callable[[], Iterator[Row]]] = {
        "nasnet": nasnet, "bounds": bounds, "overall": overall, "sweeps": sweeps, "tiles": tiles, "tiling": tiling}
    print(f"optimus-opt {importlib.metadata.version('optimus-opt')}, Python {sys.version.split()[0]}; "
          f"{time.strftime('%Y-%m-%d %H:%M')}")
    print("| figure | page | stated | measured | ratio | flag |")
    print("|---|---|---:|---:|---:|---|")
    flagged = 0
    start = time.perf_counter()
    for name in chosen:
        for row in runs[name]():
            emit(row)
            flagged += bool(row.flag())
    if args.study:
        for row in study(args.jobs):
            emit(row)
            flagged += bool(row.flag())
    print(f"{flagged} flagged; {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
