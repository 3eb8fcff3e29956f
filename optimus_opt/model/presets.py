"""Accelerator presets: the accelerators of the Optimus paper's evaluation and a few variants, as data.

This module is the one place where their numbers live; the files in ``instances/accelerators/`` are generated from
it (``instances/regenerate.py``). Each preset says where its numbers come from (``source``) and how its channel
tile was chosen (``description``).

"KB" in the papers is KiB: the Optimus NPU's 128 KB buffer is 131,072 bytes, Eyeriss's 181.5 KB is 185,856 bytes.

Every preset tiles in full-width row strips (``tiling: strips``, cost model version 2), the model of the Optimus
paper and its artifact, so that every figure computed on them before version 3 still holds. To price a paper
accelerator in version 3's 2-D tiles (formulations/cost-model.md §7), pick it as usual and add ``--tiling tiles``
on the command line (``--halo cache`` or ``--halo recompute`` fixes the halo mode; the default ``choose`` lets each
group take the better), write ``"tiling": "tiles"`` (and ``"halo"``) in an accelerator file (a copy of
``instances/accelerators/<name>.json``, say), or in Python
``accelerator_preset("optimus-npu").with_overrides(tiling="tiles")``. (The presets' descriptions do not repeat this:
a description is part of every instance's content, and so of the id of every study run on it.)

>>> accelerator_preset("eyeriss").with_overrides(tiling="tiles", halo="recompute").tiling
'tiles'

Energy and latency constants (formulations/energy.md §1). Every preset takes the Optimus NPU's energies per 16-bit
word unless said here: DRAM 200 pJ, buffer 6 pJ, register file 0.1 pJ (the paper; the authors' artifact,
``arch/3_level_mem_64Reg.json``) and 1 pJ per MAC (the artifact adds MAC counts to its pJ). The artifact's files for
the other accelerators change only the register file: Eyeriss 1 pJ (``processor/eyeriss.json``), the HPCA 2020
lower-bound NPU 0.5 pJ (``processor/lowerbound.json``); ShiDianNao keeps 0.1 pJ (``processor/shiDianNao.json``).
Clocks: Eyeriss 200 MHz (its JSSC 2017 paper's core clock), ShiDianNao 1 GHz (its ISCA 2015 paper); the Optimus NPU
and the HPCA 2020 NPU give none, and take this project's 1 GHz. DRAM bandwidth is this project's 25,600 MB/s (one
64-bit DDR4-3200 channel) everywhere: none of the papers states the bandwidth its figures assume.

>>> accelerator_preset("eyeriss").rf_pj, accelerator_preset("eyeriss").clock_mhz
(1.0, 200)
>>> accelerator_preset("optimus-npu").buffer_bytes
131072
>>> preset_names()[:2]
('optimus-npu', 'optimus-npu-256k')
"""

from __future__ import annotations

from pathlib import Path

from .accelerator import Accelerator
from .errors import InstanceError

KIB = 1024

_OPTIMUS_SOURCE = ("Cai, Wang, Zhang, 'Optimus: An Operator Fusion Framework for Deep Neural Networks', ACM TECS "
                   "22(1), 2022, DOI 10.1145/3520142 (and LCTES 2021), evaluation setup: a 128 KB on-chip buffer "
                   "shared by feature maps and weights, a 32x32 PE array and 16-bit data")
_OPTIMUS_TILE = ("Channel tile 32: one side of the 32x32 array, i.e. the 32 output channels the array computes at "
                 "once, which is the Tc of the paper's buffer-requirement reduction (formulations/cost-model.md section 2 default).")


def _optimus_variant(name: str, kib: int, paper_label: str, label: str) -> Accelerator:
    return Accelerator(
        name=name, buffer_bytes=kib * KIB, word_bytes=2, channel_tile=32, pe_array=(32, 32),
        source=_OPTIMUS_SOURCE + f"; the {paper_label} buffer is this project's variant for buffer-size studies, "
               "not a configuration of the paper",
        description=f"The Optimus NPU with a {label} ({kib * KIB:,}-byte) buffer; everything else as optimus-npu. "
                    + _OPTIMUS_TILE)


#: Every preset, in the order ``preset_names()`` lists them.
PRESETS: tuple[Accelerator, ...] = (
    Accelerator(
        name="optimus-npu", buffer_bytes=128 * KIB, word_bytes=2, channel_tile=32, pe_array=(32, 32),
        source=_OPTIMUS_SOURCE,
        description="The NPU of the Optimus paper's main experiments (run at batch 4): 128 KB read as 128 KiB = "
                    "131,072 bytes, 16-bit words. " + _OPTIMUS_TILE),
    _optimus_variant("optimus-npu-256k", 256, "256 KB", "256 KiB"),
    _optimus_variant("optimus-npu-512k", 512, "512 KB", "512 KiB"),
    _optimus_variant("optimus-npu-1m", 1024, "1 MB", "1 MiB"),
    Accelerator(
        name="eyeriss", buffer_bytes=185_856, word_bytes=2, channel_tile=16, pe_array=(12, 14), rf_pj=1.0,
        clock_mhz=200,
        source="Chen, Krishna, Emer, Sze, 'Eyeriss: An Energy-Efficient Reconfigurable Accelerator for Deep "
               "Convolutional Neural Networks', IEEE JSSC 52(1), 2017 (ISSCC 2016): 12x14 = 168 PEs, 16-bit data, "
               "181.5 kB of on-chip SRAM = the 108 kB global buffer + 168 filter scratch pads of 224 x 16 bit "
               "(168 x 448 B = 73.5 kB); the Optimus paper's Eyeriss-like configuration (181.5 KB, 168 PEs) counts "
               "this total as its buffer",
        description="Eyeriss-like: the whole 181.5 KiB (185,856 bytes) as one buffer shared by feature maps and "
                    "weights, as the Optimus paper counts it. Channel tile 16, this project's choice (the papers give "
                    "none): in Eyeriss's row-stationary dataflow the output channels in flight are the p filters "
                    "interleaved in each PE's 224-word filter scratch pad (times t PE sets); p = 16 is the largest "
                    "power of two that fits q = 4 input channels of a 3-wide kernel row (16 x 4 x 3 = 192 <= 224), "
                    "and t = 1 is taken."),
    Accelerator(
        name="shidiannao", buffer_bytes=185_856, word_bytes=2, channel_tile=1, pe_array=(8, 8),
        source="Du et al., 'ShiDianNao: Shifting Vision Processing Closer to the Sensor', ISCA 2015: an 8x8 array "
               "of 64 PEs, 16-bit fixed point, output-stationary; the Optimus paper's ShiDianNao-like configuration "
               "(181.5 KB, 64 PEs) gives it Eyeriss's 181.5 KB so that only the array and the dataflow differ "
               "(ShiDianNao's own SRAM is split into separate input, output and synapse buffers)",
        description="ShiDianNao-like: 181.5 KiB (185,856 bytes) as one shared buffer, 16-bit words. Channel tile 1, "
                    "this project's choice (the papers give none): every PE computes one output neuron and all 64 "
                    "PEs work on the same output feature map, with one kernel weight broadcast to all of them per "
                    "cycle, so the array computes one output channel at a time."),
    Accelerator(
        name="hpca20-lb", buffer_bytes=177_664, word_bytes=2, channel_tile=32, pe_array=(32, 32), rf_pj=0.5,
        source="Chen, Han, Wang, 'Communication Lower Bound in Convolution Accelerators', HPCA 2020 "
               "(arXiv:1911.05662): the communication-optimal accelerator it designs and evaluates, 1024 PEs and "
               "173.5 KB of on-chip memory; 16-bit words as in the other presets",
        description="The HPCA 2020 lower-bound NPU: 173.5 KiB (177,664 bytes) as one shared buffer. The PE count "
                    "(1024) is the paper's; the 32x32 arrangement is this file's assumption. Channel tile 32, this "
                    "project's choice: the output-channel parallelism of the Optimus NPU, which has the same 1024 "
                    "PEs, so that the two differ only in the buffer."),
    Accelerator(
        name="optimus-artifact", buffer_bytes=128 * KIB, word_bytes=2, channel_tile=32, weight_staging="none",
        pe_array=(32, 32),
        source="The Optimus authors' public artifact for LCTES 2021 ('Towards Optimal Layer-Fusion on Deep Learning "
               "Processors', github.com/SheaCai/optimus, Zenodo DOI 10.5281/zenodo.4735557 via its README badge): "
               "fusion/arch/3_level_mem_64Reg.json, the file its overall experiment reads, sets the buffer level's "
               "capacity to 131072 bytes (fusion/scheduling/resource.py: capacities in bytes; "
               "fusion/scheduling/extract_info.py divides them by precision/8 = 2 into 65,536 16-bit words, and "
               "res_parse.py labels the result 128KB) and parallel_count 1024; fusion/dataflow/dataflow_Ow_Cout.json "
               "unrolls 32 x 32 (the channel tile); its cost model streams weights from DRAM to the PE array without "
               "buffering them (weight_staging none)",
        description="The accelerator the artifact's published DRAM figures were measured on: its \"128KB\" "
                    "buffer, 65,536 16-bit words = 128 KiB (131,072 bytes); Tc 32; streamed weights take no buffer "
                    "space. Channel tile 32: the artifact's dataflow partitions 32 x 32, the side of its 1024-PE "
                    "array. It differs from optimus-npu only in its weights, which the artifact streams past the "
                    "buffer; it exists to compare bytes with the artifact's figures (report.ARTIFACT_MIB)."),
)

_BY_NAME = {acc.name: acc for acc in PRESETS}


def preset_names() -> tuple[str, ...]:
    """The names of every preset."""
    return tuple(_BY_NAME)


def accelerator_preset(name: str) -> Accelerator:
    """The preset called ``name``.

    Raises
    ------
    InstanceError
        For an unknown name; the message lists the known ones.
    """
    try:
        return _BY_NAME[name]
    except KeyError:
        raise InstanceError(f"unknown accelerator preset '{name}' (known: {', '.join(_BY_NAME)})") from None


def looks_like_path(spec: str) -> bool:
    """Whether ``spec`` names a file rather than a preset or a zoo network (a separator or a file extension)."""
    return "/" in spec or "\\" in spec or Path(spec).suffix.lower() in (".json", ".yaml", ".yml")


def resolve_accelerator(spec: str, base: str | Path | None = None) -> Accelerator:
    """A preset name, or the path of an accelerator file (relative to ``base`` when given).

    An existing file wins over a preset of the same name; a name that is neither raises an
    :class:`InstanceError` listing the presets.
    """
    from .instance import load_accelerator

    path = Path(base) / spec if base is not None else Path(spec)
    if spec in _BY_NAME and not path.is_file():
        return _BY_NAME[spec]
    if path.is_file() or looks_like_path(spec):
        return load_accelerator(path)
    return accelerator_preset(spec)


__all__ = ["PRESETS", "accelerator_preset", "preset_names", "resolve_accelerator", "looks_like_path"]
