"""A picture of a schedule: the network drawn top to bottom, each fusion group a colour, with its DRAM traffic and
tiling (strips, or under ``tiling: tiles`` the tile grid, halo mode and passes) in a legend.

:func:`draw_schedule` uses Graphviz's ``dot`` where it is installed (each group a filled, labelled cluster) and a
matplotlib drawing otherwise. The matplotlib drawing lays the DAG out itself, in the layered (Sugiyama) way:

1. each node's level is its longest distance from a network input;
2. an edge that skips levels runs through one bend point per level it crosses, so it is drawn around the boxes
   rather than through them;
3. the order inside each level is improved by barycentre sweeps (fewer crossings);
4. x positions pull each node towards the mean of its neighbours, keeping the order and a minimum gap.

Each layer is a box holding its name (``*``: reduced channels) and ``g<k> · op C×H×W``; a box's colour is its
group's, inputs are white. An edge inside a group is drawn in the group's colour (its tensor stays on chip), an
edge between groups in grey (its tensor crosses DRAM). The legend lists every group: ``group k: bytes, 32 strips``,
or under ``tiling: tiles`` ``group k: bytes, 4 × 2 tiles, halo cache`` (and ``, 3 passes``).
"""

from __future__ import annotations

import math
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..cost.schedule import Schedule, evaluate, tiling_text
from ..model.errors import OptimusError
from ..model.instance import Instance
from ..utils import extras
from . import figures

#: Why nothing can draw a picture: neither matplotlib nor Graphviz is installed.
_NEEDS_A_DRAWER = ("drawing a schedule needs matplotlib or Graphviz's dot, and neither is installed: "
                   f"{extras.install_hint('plot')}; or apt-get install graphviz; or write Graphviz source with "
                   "-o FILE.dot")

#: Output formats by file suffix.
FORMATS = (".png", ".svg", ".pdf", ".dot")

#: Fill colours of the groups, chosen once (and checked by the tests) so that any two can be told apart in a
#: drawing: sRGB colours of CIELAB lightness 55–90 (black text stays readable: contrast at least 5:1) and chroma
#: at most 75, each taken as the one farthest, by the CIEDE2000 colour difference, from all taken before and from
#: white (inputs, concats) and grey (edges through DRAM). Any first n of them are so as far apart as the method
#: gets: every two of the first 15 differ by ΔE00 ≥ 19 and every two of all 20 by ≥ 16 (a viewer notices about
#: 1 to 2; the former palette had pairs at 2.8). Past 20 groups :func:`group_colors` keeps groups that touch apart.
PALETTE = ("#8ecae6", "#69d25a", "#ffa52d", "#ff87ff", "#ff5a5a", "#968700", "#009678", "#7878f0", "#f0e14b",
           "#00f0d2", "#e1b4b4", "#f03c96", "#b4784b", "#b4b487", "#b4b4e1", "#0096f0", "#3c96a5", "#4b9600",
           "#a57887", "#f0d2b4")
#: The same hues 38 lightness units darker, for edges inside a group and cluster borders.
EDGE_PALETTE = ("#23667f", "#006b00", "#8a4500", "#911695", "#870004", "#3f3600", "#00412a", "#002991", "#807b00",
                "#00866e", "#795253", "#890042", "#572800", "#52532b", "#51537a", "#003b87", "#003e4c", "#004100",
                "#4f2937", "#876d53")


def color(k: int) -> str:
    """The fill of palette entry ``k`` (cycled)."""
    return PALETTE[k % len(PALETTE)]


def edge_color(k: int) -> str:
    """The darker shade of palette entry ``k`` (cycled)."""
    return EDGE_PALETTE[k % len(EDGE_PALETTE)]


def lab(hex_color: str) -> tuple[float, float, float]:
    """CIELAB (D65) of an sRGB colour ``#rrggbb``."""
    def linear(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(int(hex_color[i:i + 2], 16)) for i in (1, 3, 5))
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116

    fx, fy, fz = f(x), f(y), f(z)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def delta_e(a: str, b: str) -> float:
    """The CIEDE2000 colour difference of two ``#rrggbb`` colours (Sharma, Wu, Dalal, "The CIEDE2000
    color-difference formula", 2005): lightness, chroma and hue differences weighted by where in colour space
    they are, which is what a viewer perceives far better than the plain Lab distance."""
    (l1, a1, b1), (l2, a2, b2) = lab(a), lab(b)
    c_mean = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(c_mean ** 7 / (c_mean ** 7 + 25 ** 7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1, c2 = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1 = math.degrees(math.atan2(b1, a1p)) % 360
    h2 = math.degrees(math.atan2(b2, a2p)) % 360
    dl, dc = l2 - l1, c2 - c1
    dh = 0.0 if c1 * c2 == 0 else (h2 - h1 + 180) % 360 - 180
    dh_big = 2 * math.sqrt(c1 * c2) * math.sin(math.radians(dh / 2))
    l_mean, c_mean_p = (l1 + l2) / 2, (c1 + c2) / 2
    if c1 * c2 == 0:
        h_mean = h1 + h2
    elif abs(h1 - h2) <= 180:
        h_mean = (h1 + h2) / 2
    else:
        h_mean = (h1 + h2 + 360) / 2 if h1 + h2 < 360 else (h1 + h2 - 360) / 2
    t = (1 - 0.17 * math.cos(math.radians(h_mean - 30)) + 0.24 * math.cos(math.radians(2 * h_mean))
         + 0.32 * math.cos(math.radians(3 * h_mean + 6)) - 0.20 * math.cos(math.radians(4 * h_mean - 63)))
    rotation = 30 * math.exp(-(((h_mean - 275) / 25) ** 2))
    r_c = 2 * math.sqrt(c_mean_p ** 7 / (c_mean_p ** 7 + 25 ** 7))
    s_l = 1 + 0.015 * (l_mean - 50) ** 2 / math.sqrt(20 + (l_mean - 50) ** 2)
    s_c = 1 + 0.045 * c_mean_p
    s_h = 1 + 0.015 * c_mean_p * t
    r_t = -math.sin(math.radians(2 * rotation)) * r_c
    return math.sqrt((dl / s_l) ** 2 + (dc / s_c) ** 2 + (dh_big / s_h) ** 2 + r_t * (dc / s_c) * (dh_big / s_h))


def group_colors(instance: Instance, sched: Schedule) -> list[int]:
    """The palette entry of each group: group k gets entry k while the palette lasts (so up to 20 groups all
    differ); past it, each group takes the entry farthest (ΔE) from those of the groups it shares an edge with,
    preferring entry k mod 20 when it is as far, so that neighbours never look alike."""
    net = instance.network
    group_of = _group_of(instance, sched)
    touching: list[set[int]] = [set() for _ in sched.groups]
    for c, prods in enumerate(net.producers):
        for p in prods:
            a, b = group_of.get(p), group_of.get(c)
            if a is not None and b is not None and a != b:
                touching[a].add(b)
                touching[b].add(a)
    n = len(PALETTE)
    chosen: list[int] = []
    for k in range(len(sched.groups)):
        if k < n:
            chosen.append(k)
            continue
        used = [chosen[j] for j in touching[k] if j < k]

        def distance(entry: int, used: list[int] = used) -> float:
            return min((delta_e(PALETTE[entry], PALETTE[u]) for u in used), default=float("inf"))

        chosen.append(max(range(n), key=lambda e: (distance(e), e == k % n)))
    return chosen


def draw_schedule(instance: Instance, schedule: Schedule, path: str | Path, *, engine: str = "auto",
                  title: str | None = None) -> str:
    """Draw ``schedule`` (recomputed by :func:`~optimus_opt.cost.schedule.evaluate` first) to ``path``.

    Parameters
    ----------
    path:
        ``.png``, ``.svg`` or ``.pdf``; ``.dot`` writes the Graphviz source.
    engine:
        ``"graphviz"``, ``"matplotlib"``, or ``"auto"``: Graphviz when ``dot`` is on the PATH, else matplotlib.

    Returns
    -------
    str
        The engine used (``"graphviz"``, ``"matplotlib"`` or ``"dot-source"``).

    Raises
    ------
    ScheduleError
        The schedule is invalid for the instance.
    OptimusError
        An unknown format or engine, or the engine is not installed.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise OptimusError(f"{path}: cannot draw to '{suffix or path.name}' (formats: {', '.join(FORMATS)})")
    if engine not in ("auto", "graphviz", "matplotlib"):
        raise OptimusError(f"unknown drawing engine '{engine}' (known: auto, graphviz, matplotlib)")
    if suffix != ".dot":  # what draws it, known before the schedule is evaluated
        if engine == "graphviz" and not shutil.which("dot"):
            raise OptimusError("the graphviz engine needs Graphviz's 'dot' program on the PATH (apt-get install "
                               "graphviz)")
        use_dot = engine == "graphviz" or (engine == "auto" and shutil.which("dot") is not None)
        if not use_dot and not extras.available("plot"):
            raise OptimusError(_NEEDS_A_DRAWER if engine == "auto" else
                               extras.missing_message("plot", "the matplotlib engine needs"))
    sched = evaluate(instance, schedule).schedule
    title = title or headline(instance, sched)
    if suffix == ".dot":
        path.write_text(to_dot(instance, sched, title=title))
        return "dot-source"
    if use_dot:
        _draw_graphviz(instance, sched, path, title)
        return "graphviz"
    _draw_matplotlib(instance, sched, path, title)
    return "matplotlib"


def headline(instance: Instance, sched: Schedule) -> str:
    total = sched.dram_bytes or 0
    ratio = f" ({total / sched.compulsory_bytes:.3f} x compulsory)" if sched.compulsory_bytes else ""
    acc = instance.accelerator
    tiling = "" if acc.tiling == "strips" else f", tiling {acc.tiling} (halo {acc.halo})"
    macs = f", {sched.added_macs:,} MACs recomputed" if sched.added_macs else ""
    return (f"{instance.name}: {sched.solver} ({sched.status}), DRAM traffic {total:,} B{ratio}, "
            f"{len(sched.groups)} groups{tiling}{macs}")


def group_label(k: int, g) -> str:
    """The legend entry of group ``k``: ``group k: bytes, 32 strips``, or ``group k: bytes, 4 × 2 tiles, halo
    cache`` (:func:`~optimus_opt.cost.schedule.tiling_text`)."""
    extra = f", {g.batch_block} samples at a time" if g.batch_block and g.batch_block > 1 else ""
    weights = "" if g.resident_weights else ", weights streamed"
    return f"group {k}: {g.dram_bytes:,} B, {tiling_text(g)}{extra}{weights}"


def _group_of(instance: Instance, sched: Schedule) -> dict[int, int]:
    net = instance.network
    return {net.index[n]: k for k, g in enumerate(sched.groups) for n in g.layers}


def _edge_group(net, group_of: dict[int, int], p: int, c: int) -> int | None:
    """The group an edge of the written graph stays inside (its tensor never leaves the chip), or ``None``.

    Concats are views in no group: an edge out of a concat stays on chip when every tensor the concat joins is
    produced in the reader's group, and an edge into a concat when every layer reading that concat is in the
    producer's group."""
    if net.layers[c].op == "concat":
        ends = [(p, r) for r in net.written_consumers[c]]
    else:
        ends = [(p, c)]
    groups = set()
    for a, b in ends:
        for src in net.view_sources[a]:
            if src not in group_of or b not in group_of:
                return None
            groups.update((group_of[src], group_of[b]))
    return groups.pop() if len(groups) == 1 else None


def _shape_text(shape: Sequence[int]) -> str:
    return "×".join(str(d) for d in shape)


# -- Graphviz ----------------------------------------------------------------------------------------------------

def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(instance: Instance, sched: Schedule, *, title: str = "") -> str:
    """The Graphviz source: one cluster per group, filled with the group's colour and labelled with its legend."""
    net = instance.network
    group_of = _group_of(instance, sched)
    pal = group_colors(instance, sched)
    lines = ["digraph schedule {", "  rankdir=TB; newrank=true; nodesep=0.25; ranksep=0.35;",
             f"  label={_quote(title)}; labelloc=t; fontname=Helvetica; fontsize=14;",
             '  node [shape=box, style="rounded,filled", fillcolor=white, fontname=Helvetica, fontsize=10, '
             'height=0.3];',
             "  edge [arrowsize=0.5];"]
    for i in net.input_ids:
        layer = net.layers[i]
        lines.append(f"  {_quote(layer.name)} [label={_quote(layer.name + chr(10) + _shape_text(net.shapes[i]))}, "
                     'style="rounded,dashed"];')
    for i in net.concat_ids:  # views, outside every group
        label = f"{net.layers[i].name}\nconcat (view) {_shape_text(net.shapes[i])}"
        lines.append(f'  {_quote(net.layers[i].name)} [label={_quote(label)}, style="rounded,dotted"];')
    for k, g in enumerate(sched.groups):
        lines.append(f"  subgraph cluster_{k} {{")
        lines.append(f'    label={_quote(group_label(k, g))}; style="rounded,filled"; fillcolor="{color(pal[k])}"; '
                     f'color="{edge_color(pal[k])}"; fontsize=9; fontname=Helvetica;')
        reduced = set(g.reduced_channels or ())
        for name in g.layers:
            i = net.index[name]
            label = f"{name}{' *' if name in reduced else ''}\n{net.layers[i].op} {_shape_text(net.shapes[i])}"
            lines.append(f"    {_quote(name)} [label={_quote(label)}];")
        lines.append("  }")
    for i, prods in enumerate(net.written_producers):
        for p in prods:
            k = _edge_group(net, group_of, p, i)
            style = f'color="{edge_color(pal[k])}", penwidth=1.5' if k is not None else 'color="#777777"'
            lines.append(f"  {_quote(net.layers[p].name)} -> {_quote(net.layers[i].name)} [{style}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _draw_graphviz(instance: Instance, sched: Schedule, path: Path, title: str) -> None:
    source = to_dot(instance, sched, title=title)
    with tempfile.NamedTemporaryFile("w", suffix=".dot", delete=False) as f:
        f.write(source)
        dot_file = f.name
    try:
        run = subprocess.run(["dot", f"-T{path.suffix.lower()[1:]}", "-o", str(path), dot_file],
                             capture_output=True, text=True, timeout=300)
    finally:
        Path(dot_file).unlink(missing_ok=True)
    if run.returncode != 0:
        raise OptimusError(f"Graphviz's dot failed: {run.stderr.strip() or run.returncode}")


# -- the layered layout ------------------------------------------------------------------------------------------

#: Widths in layout units: a box, a bend point of a long edge, the least gap between two boxes and the least gap
#: next to a bend point.
BOX, BEND, GAP, BEND_GAP = 1.0, 0.06, 0.22, 0.08


@dataclass
class Layout:
    """Where everything goes: ``level`` and ``x`` of every node id and bend point; ``routes`` the points of every
    edge (producer id, consumer id) from producer to consumer."""

    level: dict
    x: dict
    routes: dict[tuple[int, int], list]
    levels: list[list]

    @property
    def width(self) -> float:
        xs = [self.x[v] for v in self.x]
        return max(xs) - min(xs) if xs else 0.0


def layered_layout(instance_or_network, sweeps: int = 12) -> Layout:
    """The layered layout of a network (or of an instance's network); see the module's description."""
    net = getattr(instance_or_network, "network", instance_or_network)
    n = len(net.layers)
    level: dict = {}
    for i in range(n):  # ids are in topological order
        level[i] = 1 + max((level[p] for p in net.written_producers[i]), default=-1)
    # every network input sits right above its first reader, not at the top when read much later
    for i in net.input_ids:
        if net.written_consumers[i]:
            level[i] = max(0, min(level[c] for c in net.written_consumers[i]) - 1)
    n_levels = 1 + max(level.values())
    levels: list[list] = [[] for _ in range(n_levels)]
    for i in range(n):
        levels[level[i]].append(i)
    up: dict = {i: [] for i in range(n)}
    down: dict = {i: [] for i in range(n)}
    routes: dict[tuple[int, int], list] = {}
    for p in range(n):
        # one trunk of bend points per producer, down to the level above its last consumer; each consumer leaves
        # the trunk at its own level (a bundle: DenseNet's many skips from one layer share one line)
        readers = net.written_consumers[p]
        if not readers:
            continue
        trunk = [p]
        for lv in range(level[p] + 1, max(level[c] for c in readers)):
            bend = ("bend", p, lv)
            level[bend] = lv
            levels[lv].append(bend)
            up[bend], down[bend] = [trunk[-1]], []
            down[trunk[-1]].append(bend)
            trunk.append(bend)
        for c in readers:
            stem = trunk[:level[c] - level[p]]
            down[stem[-1]].append(c)
            up[c].append(stem[-1])
            routes[(p, c)] = stem + [c]
    # order inside the levels: barycentre sweeps, down then up
    pos = {v: k for lv in levels for k, v in enumerate(lv)}
    for sweep in range(sweeps):
        rng = range(1, n_levels) if sweep % 2 == 0 else range(n_levels - 2, -1, -1)
        for lv in rng:
            nbrs = up if sweep % 2 == 0 else down

            def key(v, nbrs=nbrs):
                ps = nbrs[v]
                return sum(pos[u] for u in ps) / len(ps) if ps else pos[v]

            levels[lv].sort(key=key)
            for k, v in enumerate(levels[lv]):
                pos[v] = k
    # x positions: start packed, then pull towards the neighbours' mean, keeping order and gaps
    width = {v: BEND if isinstance(v, tuple) else BOX for v in level}
    x: dict = {}
    for lv in levels:
        cursor = 0.0
        for v in lv:
            x[v] = cursor + width[v] / 2
            cursor += width[v] + GAP
        shift = cursor / 2
        for v in lv:
            x[v] -= shift
    for sweep in range(2 * sweeps):
        rng = range(n_levels) if sweep % 2 == 0 else range(n_levels - 1, -1, -1)
        for lv in rng:
            row = levels[lv]
            want = []
            for v in row:
                ns = up[v] + down[v]
                want.append(sum(x[u] for u in ns) / len(ns) if ns else x[v])
            x.update(zip(row, _pack(row, want, width)))
    return Layout(level=level, x=x, routes=routes, levels=levels)


def _pack(row: list, want: list[float], width: dict) -> list[float]:
    """Positions closest to ``want`` that keep the row's order and gaps: the mean of a left-to-right pass (push
    right) and a right-to-left pass (push left), which both keep the gaps and so does their mean."""
    m = len(row)
    if m == 0:
        return []
    sep = [(width[row[k - 1]] + width[row[k]]) / 2 + (GAP if width[row[k - 1]] == width[row[k]] == BOX else BEND_GAP)
           for k in range(1, m)]
    fwd = [want[0]]
    for k in range(1, m):
        fwd.append(max(want[k], fwd[-1] + sep[k - 1]))
    bwd = [0.0] * m
    bwd[-1] = want[-1]
    for k in range(m - 2, -1, -1):
        bwd[k] = min(want[k], bwd[k + 1] - sep[k])
    return [(a + b) / 2 for a, b in zip(fwd, bwd)]


# -- matplotlib ---------------------------------------------------------------------------------------------------

#: Inches: a layout unit, the distance between levels, a box's height, a legend line.
UNIT_IN, LEVEL_IN, BOX_H_IN, LEGEND_LINE_IN, LEGEND_W_IN = 1.65, 0.62, 0.40, 0.19, 3.6


def _fit(name: str) -> tuple[str, float]:
    """A box's name and font size: smaller type for long names, and past 36 characters the head dropped (the tail
    of a dotted name is its most specific part)."""
    if len(name) <= 24:
        return name, 7.0
    if len(name) <= 30:
        return name, 6.0
    if len(name) <= 36:
        return name, 5.2
    return "…" + name[-35:], 5.2


def _draw_matplotlib(instance: Instance, sched: Schedule, path: Path, title: str) -> None:
    try:
        plt = figures.pyplot()
        from matplotlib.patches import FancyBboxPatch, Rectangle
    except ImportError:
        raise OptimusError(_NEEDS_A_DRAWER) from None
    net = instance.network
    group_of = _group_of(instance, sched)
    pal = group_colors(instance, sched)
    reduced = {n for g in sched.groups for n in (g.reduced_channels or ())}
    lay = layered_layout(net)
    n_levels = len(lay.levels)
    xs = list(lay.x.values())
    x_min, x_max = min(xs) - BOX / 2, max(xs) + BOX / 2
    graph_w = (x_max - x_min) * UNIT_IN
    graph_h = n_levels * LEVEL_IN
    legend_h = (len(sched.groups) + 2) * LEGEND_LINE_IN
    margin = 0.3
    title_lines = title.split(": ", 1) if ": " in title else [title]
    fig_w = max(graph_w + LEGEND_W_IN + 3 * margin, max(len(t) for t in title_lines) * 0.1 + 2 * margin)
    fig_h = max(graph_h, legend_h) + 2 * margin + 0.6
    fig = plt.figure(figsize=(fig_w, fig_h))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, fig_w)
    ax.set_ylim(0, fig_h)
    ax.axis("off")
    top = fig_h - margin - 0.6

    def px(v) -> float:
        return margin + (lay.x[v] - x_min) * UNIT_IN

    def py(v) -> float:
        return top - (lay.level[v] + 0.5) * LEVEL_IN

    ax.text(margin, fig_h - margin, "\n".join(title_lines), fontsize=10.5, va="top", ha="left", linespacing=1.5)
    # edges first, under the boxes
    half = BOX_H_IN / 2
    for (p, c), chain in lay.routes.items():
        pts = [(px(v), py(v)) for v in chain]
        pts[0] = (pts[0][0], pts[0][1] - half)
        pts[-1] = (pts[-1][0], pts[-1][1] + half)
        k = _edge_group(net, group_of, p, c)
        inside = k is not None
        col = edge_color(pal[k]) if inside else "#8a8a8a"
        lw = 1.4 if inside else 0.8
        ax.plot([q[0] for q in pts[:-1]] + [pts[-1][0]], [q[1] for q in pts[:-1]] + [pts[-1][1] + 0.06],
                color=col, lw=lw, zorder=1, solid_capstyle="round")
        ax.annotate("", xy=pts[-1], xytext=(pts[-1][0], pts[-1][1] + 0.07),
                    arrowprops=dict(arrowstyle="-|>", color=col, lw=lw, mutation_scale=7), zorder=1)
    # boxes
    bw, bh = BOX * UNIT_IN - 0.06, BOX_H_IN
    for i, layer in enumerate(net.layers):
        cx, cy = px(i), py(i)
        k = group_of.get(i)
        is_input = layer.op == "input"
        face = "white" if k is None else color(pal[k])
        edge = "#555555" if k is None else edge_color(pal[k])
        style = "--" if is_input else ":" if layer.op == "concat" else "-"
        box = FancyBboxPatch((cx - bw / 2, cy - bh / 2), bw, bh, boxstyle="round,pad=0,rounding_size=0.07",
                             facecolor=face, edgecolor=edge, lw=1.0, ls=style, zorder=2)
        ax.add_patch(box)
        text, size = _fit(layer.name + (" *" if layer.name in reduced else ""))
        ax.text(cx, cy + 0.065, text, fontsize=size, ha="center", va="center", zorder=3)
        kind = "input " if is_input else "concat (view) " if k is None else f"g{k} · {layer.op} "
        sub = kind + _shape_text(net.shapes[i])
        ax.text(cx, cy - 0.105, sub, fontsize=5.5, ha="center", va="center", color="#333333", zorder=3)
    # legend
    lx = margin + graph_w + margin
    ly = top
    ax.text(lx, ly, "groups (execution order)", fontsize=8, fontweight="bold", va="top")
    for k, g in enumerate(sched.groups):
        y = ly - (k + 1.3) * LEGEND_LINE_IN
        ax.add_patch(Rectangle((lx, y - 0.06), 0.14, 0.12, facecolor=color(pal[k]), edgecolor=edge_color(pal[k]),
                               lw=0.8))
        ax.text(lx + 0.2, y, group_label(k, g), fontsize=6.5, va="center")
    y = ly - (len(sched.groups) + 1.6) * LEGEND_LINE_IN
    ax.text(lx, y, "coloured edge: stays on chip; grey edge: through DRAM;\n*: reduced channels (keeps only a "
            "channel tile on chip)", fontsize=6, va="top", color="#555555", linespacing=1.5)
    # PNG: 110 dpi, less for a drawing so large that Agg could not hold it; SVG: text kept as text (searchable)
    save = {"dpi": min(110.0, 60000 / max(fig_w, fig_h))} if path.suffix.lower() == ".png" else {}
    with plt.rc_context({"svg.fonttype": "none"}):
        figures.save_atomically(fig, path, **save)
    plt.close(fig)
