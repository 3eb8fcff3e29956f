"""One way from an argument to an :class:`Instance`, one paper setting, one naming rule.

:func:`resolve_instance` turns a *spec* (an instance file, a network file, an ONNX model or a zoo network name)
into an instance, with an accelerator, a buffer capacity, a batch size and a resolution; the command line
(``solve``, ``evaluate``, ``show``, ``pareto``), studies and the files of ``instances/`` all go through it, so
that a network means the same instance wherever it is named:

* an instance file is that instance; ``accelerator`` replaces its accelerator, ``buffer``, ``batch``,
  ``tiling`` and ``halo`` its own (its name stays);
* a network (a zoo name, a network file, an ONNX model) runs on ``accelerator`` at ``batch``, by default in the
  Optimus paper's setting (:data:`PAPER_SETTING`: the Optimus NPU at batch 4), and is named by
  :func:`instance_name`; an ONNX model runs at that batch too, whatever batch it was exported with (the network
  is per sample);
* ``resolution`` applies to a zoo network only;
* ``tiling`` and ``halo`` replace the accelerator's tiling model and halo mode (formulations/cost-model.md §7), and
  a network's instance name says so (``squeezenet1_1-optimus-npu-tiles-b4``).

What cannot be resolved is an :class:`InstanceError` naming the file and the field.

>>> inst = resolve_instance("squeezenet1_1")
>>> inst.name, inst.accelerator.name, inst.batch
('squeezenet1_1-optimus-npu-b4', 'optimus-npu', 4)
>>> resolve_instance("squeezenet1_1", buffer=65536, batch=1).name
'squeezenet1_1-optimus-npu-64KiB-b1'
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .. import zoo
from ..model.accelerator import Accelerator, format_size
from ..model.errors import InstanceError
from ..model.instance import NETWORK_FORMAT, Instance, load_instance, load_network, read_document
from ..model.network import Network
from ..model.presets import looks_like_path, resolve_accelerator
from ..utils import extras


@dataclass(frozen=True)
class PaperSetting:
    """The setting of the Optimus paper's main experiments: the accelerator preset a network runs on, and the
    batch size, when nothing else is said."""

    accelerator: str = "optimus-npu"
    batch: int = 4


#: The Optimus paper's setting: the Optimus NPU (128 KiB) at batch 4.
PAPER_SETTING = PaperSetting()


# --------------------------------------------------------------------------------------------------------------
# Names


def size_label(nbytes: int) -> str:
    """``65536`` → ``'64KiB'``, ``185856`` → ``'181.5KiB'``, ``1000`` → ``'1000B'`` (for instance names)."""
    return format_size(nbytes).replace(" ", "")


def tiling_label(tiling: str = "strips", halo: str = "choose") -> str:
    """What an instance name adds for a tiling model: nothing for ``strips`` (version 2, the default), ``-tiles``
    for ``tiles``, ``-tiles-cache`` or ``-tiles-recompute`` for a fixed halo mode."""
    if tiling == "strips":
        return ""
    return f"-{tiling}" + (f"-{halo}" if halo != "choose" else "")


def instance_name(network: str, accelerator: str, batch: int, buffer_bytes: int | None = None, *,
                  tiling: str = "strips", halo: str = "choose") -> str:
    """The name of a network on an accelerator at a batch: ``mobilenet_v1-optimus-npu-b4``,
    ``unet-eyeriss-64KiB-b1`` (the buffer only where it is not the accelerator's own),
    ``unet-eyeriss-tiles-recompute-b1`` (the tiling model where it is not ``strips``, :func:`tiling_label`)."""
    middle = f"-{size_label(buffer_bytes)}" if buffer_bytes is not None else ""
    return f"{network}-{accelerator}{middle}{tiling_label(tiling, halo)}-b{batch}"


def variant_name(name: str, batch: int, *, buffer_bytes: int | None = None, new_batch: int | None = None,
                 tiling: str | None = None, halo: str = "choose") -> str:
    """The name of a variant of instance ``name`` (at ``batch``) with another buffer capacity, batch size or
    tiling model (given only where it changes), by the rule of :func:`instance_name`:
    ``squeezenet1_0-optimus-npu-b4`` → ``squeezenet1_0-optimus-npu-64KiB-b1``,
    ``squeezenet1_0-optimus-npu-tiles-b4``.

    >>> variant_name("example-64k", 4, new_batch=1)
    'example-64k-b1'
    >>> variant_name("example-64k", 4, tiling="tiles", halo="cache")
    'example-64k-tiles-cache-b4'
    """
    stem = name[: -len(f"-b{batch}")] if name.endswith(f"-b{batch}") else name
    middle = f"-{size_label(buffer_bytes)}" if buffer_bytes is not None else ""
    if tiling is not None:  # a variant in strips says so: its instance tiles, or the name would not tell them apart
        middle += tiling_label(tiling, halo) or f"-{tiling}"
    return f"{stem}{middle}-b{new_batch or batch}"


# --------------------------------------------------------------------------------------------------------------
# What a spec names


def is_onnx(spec: str) -> bool:
    """Whether ``spec`` names an ONNX model (by its extension)."""
    return spec.lower().endswith(".onnx")


def is_network_name(spec: str) -> bool:
    """An argument that names no file or directory and does not look like a path is taken for a zoo network
    name."""
    return not Path(spec).exists() and not looks_like_path(spec)


def zoo_network(name: str, resolution: int | None = None, *, or_file: bool = False) -> Network:
    """Build a zoo network; an unknown name or a resolution it cannot take is an :class:`InstanceError`
    (``or_file``: the name was given where a file could have been). A resolution too small for a layer names the
    network, the resolution and the layer:

    >>> zoo_network("squeezenet1_0", 7)
    Traceback (most recent call last):
    ...
    optimus_opt.model.errors.InstanceError: field 'resolution': squeezenet1_0 cannot take resolution 7: layer \
'features.2': field 'kernel': kernel [3, 3] (dilated span 3) is larger than the padded input height 1 + 0
    """
    known = zoo.names()
    if name not in known:
        what = f"'{name}' is neither a file nor a zoo network" if or_file else f"unknown zoo network '{name}'"
        raise InstanceError(f"{what} (known networks: {', '.join(known)})")
    try:
        return zoo.build(name, resolution)
    except InstanceError as err:  # a layer the resolution leaves too small: the option is at fault
        if resolution is None:
            raise
        raise InstanceError(f"{name} cannot take resolution {resolution}: {err}", field="resolution") from None
    except ValueError as err:  # a resolution the network cannot take
        raise InstanceError(str(err), field="resolution") from None


@dataclass(frozen=True)
class Source:
    """What a spec names before it is put on an accelerator: an instance (an instance file), or a network with
    the label its instances are named by, the file it came from (None for a zoo network) and, for an ONNX model,
    the batch it was exported with (None where it leaves the batch dynamic)."""

    network: Network
    label: str
    file: str | None = None
    instance: Instance | None = None
    model_batch: int | None = None


def read_source(spec: str, *, resolution: int | None = None, kind: str = "instance") -> Source:
    """Read what ``spec`` names: a zoo network (at ``resolution``), an ONNX model, or a network or instance file
    (``kind`` is what a missing or unreadable file is called in the message).

    Raises
    ------
    InstanceError
        An unknown name, a file that does not load, or a resolution given for a file.
    """
    if not is_onnx(spec) and is_network_name(spec):
        label = spec if resolution is None else f"{spec}-{resolution}"
        return Source(zoo_network(spec, resolution, or_file=True), label)
    if resolution is not None:
        raise InstanceError("--resolution applies to a zoo network, not to a file", file=spec)
    if is_onnx(spec):
        from .onnx import read_onnx

        extras.require("onnx", "reading an ONNX model needs")
        found = read_onnx(spec)  # the model's own batch is read, never refused
        return Source(found.network, found.network.name, spec, model_batch=found.batch)
    if read_document(spec, kind).get("format") != NETWORK_FORMAT:
        inst = load_instance(spec)
        return Source(inst.network, inst.name, spec, instance=inst)
    network = load_network(spec)
    return Source(network, network.name, spec)


def resolve_instance(spec: str, *, accelerator: str | None = None, buffer: int | None = None,
                     batch: int | None = None, resolution: int | None = None, tiling: str | None = None,
                     halo: str | None = None, note: Callable[[str], None] | None = None) -> Instance:
    """The instance ``spec`` names (see the module's docstring): an instance file with ``accelerator`` (a preset
    name or an accelerator file), ``buffer`` (bytes), ``batch``, ``tiling`` and ``halo`` replacing its own, or a
    network on ``accelerator`` (with ``tiling`` and ``halo``) at ``batch`` (by default :data:`PAPER_SETTING`).
    ``note`` hears, in one line, that an ONNX model was exported at another batch than the one it runs at.

    Raises
    ------
    InstanceError
        Naming the file and the field, for whatever cannot be read or built (a halo mode other than ``choose``
        under ``tiling: strips`` names ``accelerator.halo``).
    """
    source = read_source(spec, resolution=resolution)
    if source.instance is not None:
        inst = source.instance
        if accelerator:
            inst = dataclasses.replace(inst, accelerator=resolve_accelerator(accelerator))
        return inst.with_overrides(buffer_bytes=buffer, batch=batch, tiling=tiling, halo=halo)
    acc = resolve_accelerator(accelerator or PAPER_SETTING.accelerator)
    acc = acc.with_overrides(tiling=tiling, halo=halo)
    runs_at = batch or PAPER_SETTING.batch
    model = source.model_batch
    if note is not None and model is not None and model != runs_at and not batch:
        note(f"{spec}: the model was exported at batch {model}; it runs at batch {runs_at} like every network "
             f"(--batch {model} runs it at the model's)")
    return network_instance(source.network, acc, runs_at, buffer=buffer, label=source.label, file=source.file)


def network_instance(network: Network, accelerator: Accelerator, batch: int, *, buffer: int | None = None,
                     label: str | None = None, file: str | None = None) -> Instance:
    """``network`` on ``accelerator`` at ``batch`` (with ``buffer`` bytes instead of the accelerator's own), named
    by :func:`instance_name` after ``label`` (default: the network's name), whose rule names the buffer only where
    it is not the accelerator's own: ``--buffer 128KiB``, ``128kib`` or ``131072`` on the Optimus NPU is its own
    buffer, and its instance is named as without the option. A size the cost model cannot take names the
    network's ``file``.

    >>> npu = resolve_accelerator("optimus-npu")
    >>> [network_instance(zoo.build("squeezenet1_1"), npu, 4, buffer=b).name for b in (None, 131072, 65536)]
    ['squeezenet1_1-optimus-npu-b4', 'squeezenet1_1-optimus-npu-b4', 'squeezenet1_1-optimus-npu-64KiB-b4']
    """
    named = buffer if buffer != accelerator.buffer_bytes else None
    name = instance_name(label or network.name, accelerator.name, batch, named, tiling=accelerator.tiling,
                         halo=accelerator.halo)
    try:
        return Instance(network, accelerator, batch, name=name).with_overrides(buffer_bytes=buffer)
    except InstanceError as err:
        raise (err.in_file(file) if err.layer is not None else err) from None


__all__ = ["PAPER_SETTING", "PaperSetting", "Source", "instance_name", "is_network_name", "is_onnx",
           "network_instance", "read_source", "resolve_instance", "size_label", "tiling_label", "variant_name",
           "zoo_network"]
