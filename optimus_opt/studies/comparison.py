"""The comparison with the Optimus paper's evaluation and its authors' artifact: the published figures
(:data:`ARTIFACT_MIB`), the notes on where our networks differ from theirs, one table per experiment of the paper
preset (:func:`experiment_table`) and the reproduction text (:func:`artifact_comparison`, :func:`paper_comparison`)
that docs/reproduction.md quotes. The optimum of an instance is shown as proven only where an exact solver proved
it, else as a bound (:func:`optimum`).
"""

from __future__ import annotations

from typing import Any, Collection, Mapping, Sequence

from .. import solvers as _solvers
from ..io.resolve import PAPER_SETTING
from ..model.presets import accelerator_preset
from .paper import paper_experiments
from .planning import Experiment
from .summary import Summary, geomean, solver_rank
from .tables import buffer_label, markdown_table, percent, plural, status_word

#: DRAM traffic the Optimus authors' artifact publishes (LCTES 2021, "Towards Optimal Layer-Fusion on Deep Learning
#: Processors", github.com/SheaCai/optimus; the figures of optimus-opt issue 14), batch 4 on its NPU (our
#: ``optimus-artifact`` preset): Optimus (its HaFS), Efficient-S, DNNVM, no fusion. The artifact prints
#: words × 16 / 8 / 1024 / 1024 (fusion/scheduling/res_parse.py), i.e. MiB of bytes at 2 bytes per 16-bit word, the
#: unit :data:`MIB` converts our bytes to. Keys are our zoo names; the paper's MobileNet is MobileNetV1.
ARTIFACT_MIB: dict[str, tuple[str, float, float, float, float]] = {
    "squeezenet1_0": ("SqueezeNet", 19.74, 37.88, 64.35, 74.78),
    "vgg16": ("VGG-16", 333.0, 427.2, 427.2, 464.8),
    "mobilenet_v1": ("MobileNet", 33.63, 48.46, 48.46, 68.12),
    "resnet18": ("ResNet-18", 57.87, 70.08, 77.19, 80.07),
}


#: The setting of the artifact's figures, as our instances name it: the ``optimus-artifact`` preset (its buffer, its
#: name) at the paper's batch, in full-width strips (the artifact's model, cost model version 2).
ARTIFACT_SETTING = {"accelerator": "optimus-artifact",
                    "buffer_bytes": accelerator_preset("optimus-artifact").buffer_bytes, "batch": PAPER_SETTING.batch,
                    "tiling": "strips"}


#: Bytes per MiB, the artifact's unit.
MIB = 1 << 20


#: Differences between the artifact's model and ours that optimus-opt does not copy, read from the artifact's code
#: (fusion/scheduling/*, fusion/nn_models/*): the notes of the artifact table, per network what applies to it.
ARTIFACT_NOTES: dict[str, str] = {
    "ride": "pools, element-wise adds, concats and depthwise convolutions cost nothing in the artifact (only "
            "convolutions and fully connected layers are counted: alone such a layer moves no bytes, and it may "
            "not start a group); in our model each is a layer that reads and writes its tensors when it is a group "
            "alone (a concat is a view and moves no bytes, version 2)",
    "dw-weights": "the artifact does not count depthwise weights",
    "no-fc": "the artifact's model of this network has no fully connected layers (they are commented out in "
             "fusion/nn_models/), ours has the torchvision classifier",
    "input-227": "the artifact's SqueezeNet reads a 227×227 input (conv1 output 111×111); ours is torchvision's "
                 "224×224 (conv1 output 109×109)",
}


#: Which notes apply to which network.
ARTIFACT_NETWORK_NOTES: dict[str, tuple[str, ...]] = {
    "squeezenet1_0": ("ride", "input-227"),
    "vgg16": ("ride", "no-fc"),
    "mobilenet_v1": ("ride", "dw-weights"),
    "resnet18": ("ride", "no-fc"),
}


def _mib(nbytes: Any) -> str:
    return f"{nbytes / MIB:,.2f}" if isinstance(nbytes, (int, float)) else "-"


def optimum(s: Summary, instance_id: str) -> dict[str, Any]:
    """What the exact solvers of a study say about an instance's optimum.

    ``proven``: an exact solver without restrictions returned status ``optimal`` (its traffic, ``bytes``, is the
    optimum); otherwise ``bytes`` is the best bound proven over every schedule (None without one) and ``found``
    the least traffic any solver found. ``status`` is ``proven``, ``bound``, ``compulsory`` (the only bound is the
    compulsory traffic, which no schedule meets: unproven), ``infeasible`` (an exact solver proved that no schedule
    exists) or ``none``.
    """
    rows = [r for r in s.rows if r["instance_id"] == instance_id]
    proven = [r for r in rows if r["solver"] in _solvers.exact_solvers() and r["status"] == "optimal"
              and r["bound_scope"] == "all" and r["dram_bytes"] is not None]
    found = min((r["dram_bytes"] for r in rows if r["dram_bytes"] is not None), default=None)
    if proven:
        return {"status": "proven", "bytes": min(r["dram_bytes"] for r in proven), "found": found}
    inst = next((i for i in s.instances if i["instance_id"] == instance_id), None)
    if inst is not None and inst["proven_infeasible"]:
        return {"status": "infeasible", "bytes": None, "found": None}
    bound = inst["best_bound_bytes"] if inst is not None else None
    if bound and inst.get("bound_basis") == "compulsory":  # proves nothing about the optimum (summary.bound_basis)
        return {"status": "compulsory", "bytes": bound, "found": found}
    return {"status": "bound" if bound else "none", "bytes": bound, "found": found}


def _optimum_cell(opt: Mapping[str, Any]) -> str:
    if opt["status"] == "proven":
        return f"{_mib(opt['bytes'])} (proven)"
    if opt["status"] == "bound":
        return f"≥ {_mib(opt['bytes'])} (bound, not proven; best found {_mib(opt['found'])})"
    if opt["status"] == "compulsory":
        return f"unproven (the only bound is the compulsory traffic, {_mib(opt['bytes'])}; best found " \
               f"{_mib(opt['found'])})"
    if opt["status"] == "infeasible":
        return "no schedule (proven)"
    return "not proven"


def _dram_cell(row: Mapping[str, Any] | None) -> str:
    return status_word(row) or _mib(row["dram_bytes"])  # type: ignore[index]


def _above_optimum(row: Mapping[str, Any] | None, opt: Mapping[str, Any]) -> str:
    """How far a solver's traffic is above the proven optimum (``≤ x %`` against a bound only)."""
    if row is None or row["dram_bytes"] is None or not opt["bytes"]:
        return "-"
    if opt["status"] == "compulsory":
        return "unproven"
    gap = row["dram_bytes"] / opt["bytes"] - 1
    return percent(gap, signed=True) if opt["status"] == "proven" else f"≤ {percent(gap, signed=True)}"


def experiment_instances(s: Summary, experiment: Experiment) -> list[dict[str, Any]]:
    """The summary's instances that belong to ``experiment``, in the experiment's order."""
    by_id = {i["instance_id"]: i for i in s.instances}
    return [by_id[iid] for iid in dict.fromkeys(experiment.instance_ids()) if iid in by_id]


def experiment_table(s: Summary, experiment: Experiment) -> list[str]:
    """The markdown table of one experiment of the paper preset: its key columns, the DRAM traffic of each of its
    heuristics (MiB), the optimum (proven, or the bound and the best schedule found) and how far optimus is above
    it."""
    insts = experiment_instances(s, experiment)
    if not insts:
        return [f"_{experiment.title}: no run of it is in this study._"]
    exact = _solvers.exact_solvers()
    heuristics = sorted((sv for sv in dict.fromkeys(experiment.solvers) if sv not in exact), key=solver_rank)
    key_head, key_of = _experiment_key(experiment.key)
    body = []
    for inst in insts:
        opt = optimum(s, inst["instance_id"])
        cells = [_dram_cell(s.cell(inst["instance_id"], sv)) for sv in heuristics]
        base = s.cell(inst["instance_id"], "layerwise")
        mine = s.cell(inst["instance_id"], "optimus")
        reduction = "-"
        if base and mine and base["dram_bytes"] and mine["dram_bytes"] is not None:
            reduction = percent(1 - mine["dram_bytes"] / base["dram_bytes"])
        body.append(key_of(inst) + cells + [_optimum_cell(opt), _above_optimum(mine, opt), reduction])
    head = key_head + heuristics + ["optimum", "optimus above optimum", "optimus vs layerwise"]
    return markdown_table(head, body, "l" * len(key_head) + "r" * (len(head) - len(key_head)))


def _experiment_key(key: str):
    """The key columns of an experiment's table and how to fill them from an instance."""
    if key == "buffer":
        return ["buffer"], lambda i: [buffer_label(i["buffer_bytes"])]
    if key == "batch":
        return ["network", "batch"], lambda i: [str(i["network"]), str(i["batch"])]
    if key == "pe-array":
        return ["PE array (Tc)", "buffer"], lambda i: [
            f"{i['channel_tile']}×{i['channel_tile']}" if i.get("channel_tile") else str(i["accelerator"]),
            buffer_label(i["buffer_bytes"])]
    return ["network", "accelerator"], lambda i: [str(i["network"]), str(i["accelerator"])]


def _artifact_instance(s: Summary, network: str) -> dict[str, Any] | None:
    return next((i for i in s.instances if i["network"] == network and all(
        i[k] == v for k, v in ARTIFACT_SETTING.items())), None)


def artifact_comparison(s: Summary) -> str:
    """Our optimus, efficient-s, dnnvm, layerwise and optimum on ``optimus-artifact`` next to the artifact's
    published figures (:data:`ARTIFACT_MIB`), both in MiB, each with its reduction against no fusion, then a
    paragraph per network on the differences between the two models (:data:`ARTIFACT_NOTES`)."""
    lines = ["### Against the authors' artifact", "",
             "Batch 4 on the accelerator the artifact measured (`optimus-artifact`: its \"128KB\" buffer holds "
             "65,536 16-bit words = 131,072 bytes, Tc 32, weights streamed past the buffer). Traffic in **MiB = "
             "2^20 bytes, 2 bytes per 16-bit word** (the artifact prints words × 16 / 8 / 2^20; we print bytes / "
             "2^20). Reductions are against each side's own no-fusion figure. The artifact's figures are "
             "published data, printed as given.", ""]
    body = []
    paragraphs = []
    for net, (label, *theirs) in ARTIFACT_MIB.items():
        inst = _artifact_instance(s, net)
        paper = dict(zip(("optimus", "efficient-s", "dnnvm", "layerwise"), theirs))
        mine = {sv: s.cell(inst["instance_id"], sv) if inst else None for sv in paper}
        base = mine["layerwise"]["dram_bytes"] if mine["layerwise"] else None
        for sv, what in (("optimus", "Optimus"), ("efficient-s", "Efficient-S"), ("dnnvm", "DNNVM"),
                         ("layerwise", "no fusion")):
            row = mine[sv]
            ours = _dram_cell(row) if inst else "not run"
            ours_red = percent(1 - row["dram_bytes"] / base) if row and row["dram_bytes"] is not None and base else "-"
            ratio = f"{row['dram_bytes'] / MIB / paper[sv]:.2f}×" if row and row["dram_bytes"] is not None else "-"
            body.append([label, what, f"{paper[sv]}", percent(1 - paper[sv] / paper["layerwise"]), ours, ours_red,
                         ratio])
        if inst is not None:
            opt = optimum(s, inst["instance_id"])
            cell = _optimum_cell(opt)
            red = percent(1 - opt["bytes"] / base) if opt["bytes"] and base else "-"
            body.append([label, "optimum" if opt["status"] == "proven" else "optimum (bound only)", "-", "-", cell,
                         ("" if opt["status"] == "proven" else "≤ ") + red if red != "-" else "-", "-"])
            paragraphs.append(_artifact_paragraph(net, label, paper, mine, opt, inst))
        else:
            paragraphs.append(f"**{label}.** Not run in this study.")
    lines += markdown_table(["network", "schedule", "artifact (MiB)", "artifact vs no fusion", "ours (MiB)",
                     "ours vs no fusion", "ours / artifact"], body, "llrrrrr")
    lines += ["", "Notes (differences of the artifact's model that optimus-opt does not copy): "
              + "; ".join(f"({k + 1}) {text}" for k, text in enumerate(ARTIFACT_NOTES.values())) + ".", ""]
    return "\n".join(lines + ["\n\n".join(paragraphs)])


def _artifact_paragraph(net: str, label: str, paper: Mapping[str, float], mine: Mapping[str, Any],
                        opt: Mapping[str, Any], inst: Mapping[str, Any]) -> str:
    """One network's differences between our figures and the artifact's, with the bytes each note accounts for
    in our model (computed from the zoo network on ``optimus-artifact``)."""
    facts = _network_facts(net, inst)
    parts = [f"**{label}.**"]
    lw, op = mine["layerwise"], mine["optimus"]
    if lw and lw["dram_bytes"] is not None:
        ratio = lw["dram_bytes"] / MIB / paper["layerwise"]
        parts.append(f"Our no-fusion traffic is {_mib(lw['dram_bytes'])} MiB, {ratio:.2f}× the artifact's "
                     f"{paper['layerwise']}.")
    if op and op["dram_bytes"] is not None:
        parts.append(f"Our optimus moves {_mib(op['dram_bytes'])} MiB against the artifact's {paper['optimus']} "
                     f"({op['dram_bytes'] / MIB / paper['optimus']:.2f}×).")
    notes = ARTIFACT_NETWORK_NOTES.get(net, ())
    keys = list(ARTIFACT_NOTES)
    for note in notes:
        ref = f"Note ({keys.index(note) + 1})"
        if note == "ride" and facts:
            parts.append(f"{ref}: {facts['riders']} of our layers are pools, adds or depthwise convolutions; alone "
                         f"(as in our no-fusion schedule) they read and write {_mib(facts['rider_bytes'])} MiB, "
                         "traffic the artifact's no-fusion baseline never has, and which our fused schedules pay "
                         "wherever fusing them does not pay off.")
        elif note == "dw-weights" and facts:
            parts.append(f"{ref}: our depthwise weights are {_mib(facts['dw_weight_bytes'])} MiB, read at least once "
                         "by every schedule.")
        elif note == "no-fc" and facts:
            parts.append(f"{ref}: our fully connected weights are {_mib(facts['fc_weight_bytes'])} MiB, read at "
                         "least once by every schedule, so every one of our figures exceeds the artifact's by at "
                         "least that much.")
        elif note == "input-227":
            parts.append(f"{ref}: {ARTIFACT_NOTES[note]}, so the artifact's feature maps are about "
                         f"{(111 / 109) ** 2 - 1:.0%} larger than ours, in the other direction.")
    if facts and facts["reread_bytes"]:
        parts.append(f"Outside the notes: alone, our layers read their weights {_mib(facts['reread_bytes'])} MiB more "
                     "than once over (a streamed group reads its weights again for every strip and batch block, "
                     "formulations/cost-model.md §4), where the artifact searches each layer's loop order and "
                     "blocking, which our model does not.")
    if opt["status"] == "proven" and op and op["dram_bytes"] is not None:
        parts.append(f"Our proven optimum is {_mib(opt['bytes'])} MiB: optimus is "
                     f"{percent(op['dram_bytes'] / opt['bytes'] - 1, signed=True)} above it, the distance from "
                     "optimal the paper could not measure.")
    elif opt["status"] == "bound" and op and op["dram_bytes"] is not None:
        parts.append(f"No exact solver finished; the optimum is at least {_mib(opt['bytes'])} MiB, so optimus is at "
                     f"most {percent(op['dram_bytes'] / opt['bytes'] - 1, signed=True)} above it.")
    return " ".join(parts)


def _network_facts(net: str, inst: Mapping[str, Any]) -> dict[str, Any] | None:
    """Bytes of a zoo network on the instance's accelerator that the artifact's notes concern: the layers that may
    not start a group there (pools, adds, depthwise convs) as groups of their own, depthwise and fully connected
    weights, the network outputs, the weights its layers alone read more than once. None when the network is not
    in the zoo."""
    from .. import zoo
    from ..cost.cost_model import CostModel
    from ..model.instance import Instance
    from ..model.presets import accelerator_preset

    if net not in zoo.names():
        return None
    network = zoo.build(net)
    acc = accelerator_preset(str(inst["accelerator"]))
    instance = Instance(network, acc, int(inst["batch"]))
    cm = CostModel(instance)
    riders, rider_bytes, dw, fc, reread = 0, 0, 0, 0, 0
    for node in network.layer_ids:
        layer = network.layers[node]
        if network.weights[node]:
            alone = cm.best_tiling([node])
            reread += alone.weight_traffic - network.weights[node] * acc.word_bytes if alone is not None else 0
        depthwise = layer.op == "conv" and layer.groups > 1 and layer.groups == network.shapes[
            network.producers[node][0]][0] if network.producers[node] else False
        if layer.op in ("pool", "add", "mul") or depthwise:
            riders += 1
            tiling = cm.best_tiling([node])
            rider_bytes += tiling.cost if tiling is not None else 0
        if depthwise:
            dw += network.weights[node] * acc.word_bytes
        if layer.op == "fc":
            fc += network.weights[node] * acc.word_bytes
    return {"riders": riders, "rider_bytes": rider_bytes, "dw_weight_bytes": dw, "fc_weight_bytes": fc,
            "reread_bytes": reread}


def paper_comparison(s: Summary, experiments: Sequence[Experiment] | None = None, *,
                     figures: Collection[str] | None = None) -> str:
    """The Optimus paper's evaluation as the paper preset reproduces it: one section per experiment of
    :func:`optimus_opt.studies.paper.paper_experiments` (a table and its plot), the comparison with the authors'
    artifact (:func:`artifact_comparison`) and what the proven optimum says about the paper's heuristic.
    ``figures``: the plot files there are to link (``paper-<key>.png``); None links every experiment's."""
    exps = list(experiments) if experiments is not None else paper_experiments()

    def plot_link(exp: Experiment) -> list[str]:
        name = f"paper-{exp.key}.png"
        return [f"![{exp.title}](plots/{name})", ""] if figures is None or name in figures else []

    lines = ["## The Optimus paper's evaluation", "",
             "Each experiment of the paper that the cost model can express (docs/reproduction.md lists the others). "
             "Traffic in MiB (2^20 bytes) throughout this section. **optimum**: `(proven)` where an exact solver "
             "returned status optimal; otherwise the best bound proven over every schedule, marked `bound, not "
             "proven`, with the best schedule found. **optimus above optimum**: how much more traffic the "
             "paper's dynamic program moves than the optimum (`≤` against a bound).", ""]
    for exp in exps:
        if exp.key == "artifact":
            lines += [artifact_comparison(s), ""] + plot_link(exp)
            continue
        lines += [f"### {exp.title}", "", exp.description, ""]
        lines += experiment_table(s, exp)
        lines += [""] + plot_link(exp)
    lines += _optimality_summary(s, exps)
    return "\n".join(lines).rstrip() + "\n"


def _optimality_summary(s: Summary, experiments: Sequence[Experiment]) -> list[str]:
    """How far optimus is above the optimum over every instance of the experiments: worst, geometric mean and how
    often it is optimal, counting proven optima only."""
    gaps: list[float] = []
    bounded = 0
    seen: set[str] = set()
    for exp in experiments:
        for inst in experiment_instances(s, exp):
            if inst["instance_id"] in seen:
                continue
            seen.add(inst["instance_id"])
            opt, row = optimum(s, inst["instance_id"]), s.cell(inst["instance_id"], "optimus")
            if row is None or row["dram_bytes"] is None or not opt["bytes"]:
                continue
            if opt["status"] == "proven":
                gaps.append(row["dram_bytes"] / opt["bytes"] - 1)
            else:
                bounded += 1
    if not gaps:
        return []
    gm = geomean([1 + g for g in gaps])
    return ["### How far is Optimus from optimal?", "",
            f"Over the {plural(len(gaps), 'instance')} of this section with a proven optimum, optimus is optimal on "
            f"{sum(1 for g in gaps if g == 0)}, {percent((gm or 1) - 1, signed=True)} above the optimum in geometric "
            f"mean and {percent(max(gaps), signed=True)} at worst"
            + (f"; on {plural(bounded, 'more instance')} no optimum is proven" if bounded else "") + "."]


__all__ = ["ARTIFACT_MIB", "ARTIFACT_NETWORK_NOTES", "ARTIFACT_NOTES", "ARTIFACT_SETTING", "MIB", "artifact_comparison",
           "experiment_instances", "experiment_table", "optimum", "paper_comparison"]
