"""The generated files of ``instances/``: zoo networks, accelerator presets, the paper's instances and the suites.

``write_generated(root)`` writes all of them under ``root`` (``instances/regenerate.py`` calls it on the checked-in
directory; tests/test_instances.py calls it on a temporary one and compares byte for byte). Everything comes from
:mod:`optimus_opt.zoo` and :mod:`optimus_opt.model.presets`, the paper's setting (batch 4 on the Optimus NPU) and the
instance names from :mod:`optimus_opt.io.resolve`; nothing here holds a number of its own except the choice of suites.

Layout::

    networks/<zoo name>.json                  every zoo network at its default resolution (optimus-opt/network@1)
    accelerators/<preset>.json                every preset (optimus-opt/accelerator@1)
    paper/<network>-optimus-npu-b4.json       the Optimus paper's setting, referencing the two files above
    suites/{paper,all,smoke}.json             optimus-opt/suite@1

``example-64k.json``, ``example-32k.json`` and ``example-se.json`` (the worked examples of
formulations/cost-model.md) are written by hand and are not generated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import zoo
from ..io.resolve import PAPER_SETTING, instance_name
from ..model.instance import INSTANCE_FORMAT, dump_document
from ..model.presets import PRESETS, preset_names
from .suite import SUITE_FORMAT

#: The networks of the Optimus paper's evaluation ("MobileNet" there is MobileNet v1, "ResNet" 18 and 50).
PAPER_NETWORKS = ("alexnet", "vgg16", "googlenet", "squeezenet1_0", "mobilenet_v1", "resnet18", "resnet50",
                  "nasnet_a_mobile")
#: The accelerators the paper compares the Optimus NPU (:data:`~optimus_opt.io.resolve.PAPER_SETTING`) with.
PAPER_OTHER_ACCELERATORS = ("eyeriss", "shidiannao")

#: Files under instances/ that are written by hand, not generated.
HAND_WRITTEN = ("example-64k.json", "example-32k.json", "example-se.json", "regenerate.py")


def paper_instance_path(network: str) -> str:
    """``'paper/mobilenet_v1-optimus-npu-b4.json'``, relative to ``instances/``."""
    return f"paper/{instance_name(network, PAPER_SETTING.accelerator, PAPER_SETTING.batch)}.json"


def generated_documents() -> dict[str, dict[str, Any]]:
    """Every generated document by its path relative to ``instances/``, in writing order."""
    npu, batch = PAPER_SETTING.accelerator, PAPER_SETTING.batch
    docs: dict[str, dict[str, Any]] = {}
    for name in zoo.names():
        docs[f"networks/{name}.json"] = zoo.build(name).to_dict(with_format=True)
    for acc in PRESETS:
        docs[f"accelerators/{acc.name}.json"] = acc.to_dict(with_format=True)
    for name in PAPER_NETWORKS:
        docs[paper_instance_path(name)] = {
            "format": INSTANCE_FORMAT, "name": instance_name(name, npu, batch),
            "batch": batch, "accelerator": f"../accelerators/{npu}.json",
            "network": f"../networks/{name}.json"}
    docs["suites/paper.json"] = {
        "format": SUITE_FORMAT, "name": "paper",
        "description": "The Optimus paper's evaluation: its eight networks at batch 4 on the Optimus NPU (the "
                       "instance files in ../paper/), then the same networks on the Eyeriss-like and ShiDianNao-like "
                       "accelerators.",
        "instances": [f"../{paper_instance_path(name)}" for name in PAPER_NETWORKS],
        "networks": list(PAPER_NETWORKS), "accelerators": list(PAPER_OTHER_ACCELERATORS), "batches": [batch]}
    docs["suites/all.json"] = {
        "format": SUITE_FORMAT, "name": "all",
        "description": "Every zoo network on every accelerator preset, at batch 1 and at the paper's batch 4.",
        "networks": list(zoo.names()), "accelerators": list(preset_names()), "batches": [1, batch]}
    docs["suites/smoke.json"] = {
        "format": SUITE_FORMAT, "name": "smoke",
        "description": "A few small instances that every solver, the exact ones included, solves in well under a "
                       "second each: the worked example of formulations/cost-model.md, SqueezeNet 1.0 and MobileNet v1 in the "
                       "paper's setting, and SqueezeNet 1.1 on the Optimus NPU at batch 4.",
        "instances": ["../example-64k.json", f"../{paper_instance_path('squeezenet1_0')}",
                      f"../{paper_instance_path('mobilenet_v1')}"],
        "networks": ["squeezenet1_1"], "accelerators": [npu], "batches": [batch]}
    return docs


def write_generated(root: str | Path) -> list[Path]:
    """Write every generated file under ``root`` (directories are created); return the paths written."""
    root = Path(root)
    written = []
    for rel, doc in generated_documents().items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        dump_document(doc, path)
        written.append(path)
    return written


__all__ = ["HAND_WRITTEN", "PAPER_NETWORKS", "PAPER_OTHER_ACCELERATORS", "generated_documents",
           "paper_instance_path", "write_generated"]
