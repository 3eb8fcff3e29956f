"""The Optimus paper's evaluation as experiments of a study: the ``paper`` preset (``optimus-opt gap --preset paper``).

:func:`paper_experiments` lists them (the overall comparison, the comparison with the authors' artifact, the buffer,
batch and PE-array sweeps), each an :class:`~optimus_opt.studies.planning.Experiment` with its instances, solvers and
options; :func:`optimus_opt.studies.study.paper_study` runs them, and :mod:`optimus_opt.studies.report` draws a table
and a plot per experiment. docs/reproduction.md says what the cost model cannot express and how the numbers compare.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

from .. import solvers as _solvers
from .. import zoo
from ..io.resolve import PAPER_SETTING, network_instance
from ..model.instance import Instance
from ..model.presets import resolve_accelerator
from .planning import Experiment, expand
from .records import instance_id
from .regenerate import PAPER_NETWORKS, PAPER_OTHER_ACCELERATORS
from .suite import SUITE_FORMAT, bundled_suite, load_suite, suite_from_dict

#: Buffer capacities of the paper's SqueezeNet sweep: the 17 sizes of the authors' artifact
#: (fusion/experiment/buffer_size.py), 16 KiB … 1 MiB. The artifact turns each size into bf·1024/2 words, i.e.
#: bf KiB of bytes, so these are bytes as the rest of optimus-opt counts them.
PAPER_SWEEP = tuple(k * 1024 for k in (16, 32, 64, 96, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 896,
                                       1024))
#: Batch sizes of the paper's batch sweep and its networks (fusion/experiment/batch_size.py of the artifact).
PAPER_BATCHES = (1, 2, 4, 6, 8, 16, 32)
PAPER_BATCH_NETWORKS = ("vgg16", "squeezenet1_0")
#: The PE-array sweep: channel tiles (the side of a Tc × Tc array) × buffer capacities, SqueezeNet at batch 4.
PAPER_PE_TILES = (16, 32, 64)
PAPER_PE_BUFFERS = tuple(k * 1024 for k in (128, 256, 512))
#: The networks whose figures the artifact publishes (comparison.ARTIFACT_MIB), run on the optimus-artifact preset.
ARTIFACT_NETWORKS = ("squeezenet1_0", "vgg16", "mobilenet_v1", "resnet18")
#: The exact solver the sweeps and the artifact experiment run (the overall comparison runs all three).
SWEEP_EXACT = "exact-dp"

#: The preset's per-solver options: every exact solver and ``refine`` (every solver that takes a time limit and runs
#: in a study by default) under a 30 s limit and no group cap, in every experiment
#: (the same options everywhere, so that an instance two experiments share is solved once). Measured on 2 cores:
#: under version 2 of the cost model every instance but NASNet-A Mobile's three is proven in about 10 s or less
#: (GoogLeNet's are the slowest); NASNet's stop at the limit and report, as an anytime exact solver does, the
#: optimus schedule with the bound proven so far, over every schedule (``bound_scope`` all), which the report marks
#: as a bound, not an optimum. The overall comparison runs all three exact solvers; the sweeps and the artifact
#: experiment run :data:`SWEEP_EXACT` only (on SqueezeNet and VGG-16 it proves the optimum in well under a second
#: at every buffer, batch and tile), so that the whole preset finishes in under 15 minutes with ``--jobs 2``.
PAPER_OPTIONS: dict[str, dict[str, Any]] = {
    "exact-dp": {"time_limit": 30.0},
    "cpsat": {"time_limit": 30.0},
    "milp": {"time_limit": 30.0},
    "refine": {"time_limit": 30.0},
}


def _paper_base() -> list[Instance]:
    """The ``paper`` suite's 24 instances (eight networks × Optimus NPU, Eyeriss-like, ShiDianNao-like, batch 4),
    from the repository's suite file, or built from the zoo and the presets without it."""
    path = bundled_suite("paper")
    if path is not None:
        return list(load_suite(path).instances())
    doc = {"format": SUITE_FORMAT, "name": "paper", "networks": list(PAPER_NETWORKS),
           "accelerators": [PAPER_SETTING.accelerator, *PAPER_OTHER_ACCELERATORS], "batches": [PAPER_SETTING.batch]}
    return list(suite_from_dict(doc).instances())


def _with_tile(inst: Instance, tile: int) -> Instance:
    """``inst`` on a Tc × Tc PE array (the channel tile), named ``<accelerator>-tc<Tc>``; Tc of the instance's
    own accelerator keeps the instance (and its run) as it is."""
    acc = inst.accelerator
    if tile == acc.channel_tile:
        return inst
    variant = dataclasses.replace(acc, name=f"{acc.name}-tc{tile}", channel_tile=tile, pe_array=(tile, tile),
                                  description=f"{acc.name} with a {tile}x{tile} PE array (channel tile {tile}), "
                                              "for the PE-array sweep of the Optimus paper")
    return Instance(inst.network, variant, inst.batch, name=inst.name.replace(f"-{acc.name}", f"-{variant.name}", 1))


def paper_experiments(solvers: Sequence[str] | None = None) -> list[Experiment]:
    """The Optimus paper's evaluation as this cost model can express it (docs/reproduction.md lists what it
    cannot), one :class:`Experiment` each:

    * ``overall``: the eight networks × Optimus NPU, Eyeriss-like, ShiDianNao-like at batch 4, every solver;
    * ``artifact``: SqueezeNet, VGG-16, MobileNet, ResNet-18 on the ``optimus-artifact`` preset at batch 4 (the
      setting of the artifact's published figures), the heuristics and :data:`SWEEP_EXACT`;
    * ``buffer``: SqueezeNet on the Optimus NPU at batch 4 over :data:`PAPER_SWEEP`;
    * ``batch``: VGG-16 and SqueezeNet on the Optimus NPU at :data:`PAPER_BATCHES`;
    * ``pe-array``: SqueezeNet at batch 4, channel tile :data:`PAPER_PE_TILES` × :data:`PAPER_PE_BUFFERS`.

    ``solvers`` (default: every available one but ``auto``) limits every experiment to those; the sweeps run the
    heuristics and one exact solver, :data:`SWEEP_EXACT` when it is among them, else the first exact one that is.
    """
    names = list(solvers) if solvers else list(_solvers.study_default())
    exact_names = _solvers.exact_solvers()
    heuristics = tuple(n for n in names if n not in exact_names)
    exact = [n for n in names if n in exact_names]
    one_exact = tuple([SWEEP_EXACT] if SWEEP_EXACT in exact else exact[:1])
    sweep_solvers = heuristics + one_exact
    options = {name: dict(opts) for name, opts in PAPER_OPTIONS.items()}
    base = _paper_base()
    npu = {i.network.name: i for i in base if i.accelerator.name == PAPER_SETTING.accelerator}
    squeeze = npu["squeezenet1_0"]
    artifact_acc = resolve_accelerator("optimus-artifact")
    artifact = [network_instance(zoo.build(n), artifact_acc, PAPER_SETTING.batch) for n in ARTIFACT_NETWORKS]
    pe = [_with_tile(v, tile) for tile in PAPER_PE_TILES for v in expand([squeeze], list(PAPER_PE_BUFFERS))]
    return [
        Experiment("overall", "Overall comparison", tuple(base), tuple(names), options,
                   "The paper's eight networks on its three accelerators (Optimus NPU 128 KiB, Eyeriss-like and "
                   "ShiDianNao-like 181.5 KiB) at batch 4, every solver."),
        Experiment("artifact", "Against the authors' artifact", tuple(artifact), sweep_solvers, options,
                   "The four networks whose DRAM traffic the authors' artifact publishes, on the accelerator it "
                   "measured them on (optimus-artifact: 131,072 16-bit words = 256 KiB, Tc 32, weights streamed "
                   "past the buffer), batch 4."),
        Experiment("buffer", "Buffer sweep", tuple(expand([squeeze], list(PAPER_SWEEP))), sweep_solvers, options,
                   "SqueezeNet 1.0 on the Optimus NPU at batch 4, buffer 16 KiB … 1 MiB (the artifact's 17 sizes)."),
        Experiment("batch", "Batch sweep", tuple(expand([npu[n] for n in PAPER_BATCH_NETWORKS], None,
                                                        list(PAPER_BATCHES))), sweep_solvers, options,
                   "VGG-16 and SqueezeNet 1.0 on the Optimus NPU (128 KiB), batch 1 … 32."),
        Experiment("pe-array", "PE-array sweep", tuple(pe), sweep_solvers, options,
                   "SqueezeNet 1.0 at batch 4 on the Optimus NPU with a 16×16, 32×32 or 64×64 PE array (channel "
                   "tile Tc 16, 32, 64) and a 128, 256 or 512 KiB buffer."),
    ]


def paper_instances() -> list[Instance]:
    """Every instance of :func:`paper_experiments`, each once, in the experiments' order."""
    out: dict[str, Instance] = {}
    for exp in paper_experiments():
        for inst in exp.instances:
            out.setdefault(instance_id(inst), inst)
    return list(out.values())


__all__ = ["ARTIFACT_NETWORKS", "PAPER_BATCHES", "PAPER_BATCH_NETWORKS", "PAPER_OPTIONS", "PAPER_PE_BUFFERS",
           "PAPER_PE_TILES", "PAPER_SWEEP", "SWEEP_EXACT", "paper_experiments", "paper_instances"]
