"""The accelerator: one on-chip buffer shared by feature maps and weights (formulations/cost-model.md §2)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from .errors import InstanceError
from .limits import MAX_BYTES, amount, check_size, limit_text

#: How a group whose weights do not stay resident stages them (formulations/cost-model.md §4).
WEIGHT_STAGING = ("block", "none")
#: How a group is tiled: version 2's full-width row strips, or version 3's 2-D tiles (formulations/cost-model.md §7).
TILINGS = ("strips", "tiles")
#: Under ``tiles``, what a group does with the overlap of consecutive tiles (§7.3): each group takes the better of
#: the two (``choose``), or every group keeps it (``cache``) or computes it again (``recompute``).
HALOS = ("choose", "cache", "recompute")
#: The energy constants (pJ) and the latency constants of the energy and latency models (formulations/energy.md),
#: with their defaults: the Optimus NPU's energies per 16-bit access (register file 0.1, buffer 6, DRAM 200 pJ;
#: the paper and its artifact's arch/3_level_mem_64Reg.json) and 1 pJ per MAC (the artifact adds each MAC's
#: operation count to its energy in pJ), a 1 GHz clock and 25,600 MB/s of DRAM bandwidth (this project's
#: assumption: the paper gives neither). An accelerator document states only those it changes.
ENERGY_DEFAULTS = {"dram_pj": 200.0, "buffer_pj": 6.0, "rf_pj": 0.1, "mac_pj": 1.0}
LATENCY_DEFAULTS = {"clock_mhz": 1000, "dram_mbps": 25_600}


#: The largest energy constant, in pJ (1 µJ per access or MAC, thousands of times any real memory's): with it, a
#: group's energy stays far inside 64-bit integers of fJ for every instance the cost model's limits admit in practice.
MAX_PJ = 10 ** 6


def femtojoules(value: float, field: str) -> int:
    """An energy constant in pJ as a whole number of fJ (energies are exact integers of fJ); refuses a negative
    number, one with more than three decimals, or one above :data:`MAX_PJ`."""
    try:
        fj = Decimal(repr(value) if isinstance(value, float) else str(value)) * 1000
    except InvalidOperation:
        fj = Decimal(-1)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not fj.is_finite() or fj < 0 \
            or fj != fj.to_integral_value() or fj > MAX_PJ * 1000:
        raise InstanceError(f"must be a number of pJ from 0 to {MAX_PJ:,}, with at most three decimals (a whole "
                            f"number of fJ), got {value!r}", field=f"accelerator.{field}")
    return int(fj)


@dataclass(frozen=True)
class Accelerator:
    """An accelerator as the cost model sees it.

    Parameters
    ----------
    buffer_bytes:
        Capacity B of the on-chip buffer, in bytes.
    word_bytes:
        Bytes per word w (2 for 16-bit).
    channel_tile:
        Tc, the channel parallelism of the PE array: a reduced-channel layer keeps min(Tc, C) channels, and a
        streamed weight block holds Tc output × Tc input channels.
    weight_staging:
        ``"block"`` (the default): a group whose weights do not stay resident stages one weight block of
        min(Tc, K) × min(Tc, C/g) kernels of one layer at a time in the buffer. ``"none"``: streamed weights go
        straight from DRAM to the PE array and take no buffer space, as in the Optimus authors' artifact.
    tiling:
        ``"strips"`` (the default): cost model version 2, full-width row strips, every number as before.
        ``"tiles"``: version 3, Q_r × Q_c tiles with exact per-tile intervals, halo modes, output-channel passes
        and MACs (formulations/cost-model.md §7).
    halo:
        Under ``tiles``: ``"choose"`` (the default) lets each group keep its tiles' overlap on chip or compute it
        again, whichever is better; ``"cache"`` or ``"recompute"`` fixes the mode. Only ``choose`` is accepted
        under ``strips``, which has no halo choice.
    dram_pj, buffer_pj, rf_pj, mac_pj:
        The energy model's constants (formulations/energy.md): pJ per word moved between DRAM and the chip, per
        word written to or read from the buffer, per register-file access, per multiply-accumulate. Defaults:
        the Optimus NPU's 200, 6, 0.1 and 1 pJ (:data:`ENERGY_DEFAULTS`).
    clock_mhz, dram_mbps:
        The latency model's clock (MHz) and DRAM bandwidth (MB/s, 10^6 bytes per second); defaults 1,000 MHz and
        25,600 MB/s, this project's assumption (:data:`LATENCY_DEFAULTS`).
    pe_array:
        (rows, columns) of the PE array the latency model maps layers onto: rows take input channels, columns
        output channels; None: Tc × Tc.
    name, source, description:
        Documentation only; they do not enter the cost model.
    """

    buffer_bytes: int
    word_bytes: int = 2
    channel_tile: int = 32
    weight_staging: str = "block"
    tiling: str = "strips"
    halo: str = "choose"
    name: str = "accelerator"
    pe_array: tuple[int, int] | None = None
    source: str | None = None
    description: str | None = None
    dram_pj: float = ENERGY_DEFAULTS["dram_pj"]
    buffer_pj: float = ENERGY_DEFAULTS["buffer_pj"]
    rf_pj: float = ENERGY_DEFAULTS["rf_pj"]
    mac_pj: float = ENERGY_DEFAULTS["mac_pj"]
    clock_mhz: int = LATENCY_DEFAULTS["clock_mhz"]
    dram_mbps: int = LATENCY_DEFAULTS["dram_mbps"]

    def __post_init__(self) -> None:
        for what in ("buffer_bytes", "word_bytes", "channel_tile"):
            value = getattr(self, what)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InstanceError(f"must be a positive integer, got {value!r}", field=f"accelerator.{what}")
            check_size(value, "a buffer" if what == "buffer_bytes" else f"a {what.replace('_', ' ')}",
                       field=f"accelerator.{what}")  # the cost model's limit (optimus_opt/model/limits.py)
        if self.weight_staging not in WEIGHT_STAGING:
            raise InstanceError(f"must be one of {', '.join(WEIGHT_STAGING)}, got {self.weight_staging!r}",
                                field="accelerator.weight_staging")
        if self.tiling not in TILINGS:
            raise InstanceError(f"must be one of {', '.join(TILINGS)}, got {self.tiling!r}", field="accelerator.tiling")
        if self.halo not in HALOS:
            raise InstanceError(f"must be one of {', '.join(HALOS)}, got {self.halo!r}", field="accelerator.halo")
        for what in ENERGY_DEFAULTS:
            femtojoules(getattr(self, what), what)
        for what in LATENCY_DEFAULTS:
            value = getattr(self, what)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InstanceError(f"must be a positive integer, got {value!r}", field=f"accelerator.{what}")
        pe = self.pe_array
        if pe is not None and (len(pe) != 2 or any(isinstance(v, bool) or not isinstance(v, int) or v < 1
                                                   for v in pe)):
            raise InstanceError(f"must be two positive integers [rows, columns], got {list(pe)!r}",
                                field="accelerator.pe_array")
        if self.tiling == "strips" and self.halo != "choose":
            raise InstanceError(f"halo {self.halo!r} needs tiling: tiles (strips keep every overlap on chip and "
                                "have no halo to choose)", field="accelerator.halo")

    @property
    def array(self) -> tuple[int, int]:
        """(rows, columns) of the PE array the latency model uses: :attr:`pe_array`, or Tc × Tc."""
        return self.pe_array if self.pe_array is not None else (self.channel_tile, self.channel_tile)

    def energy_fj(self) -> dict[str, int]:
        """The energy constants in whole fJ, by field name."""
        return {what: femtojoules(getattr(self, what), what) for what in ENERGY_DEFAULTS}

    def with_overrides(self, *, buffer_bytes: int | None = None, tiling: str | None = None,
                       halo: str | None = None) -> "Accelerator":
        """A copy with another buffer capacity, tiling model or halo mode (None keeps this one's).
        ``tiling="strips"`` without a ``halo`` also sets the halo back to ``choose``, the only mode strips take;
        an invalid combination raises the :class:`InstanceError` of the constructor."""
        changes: dict[str, Any] = {}
        if buffer_bytes is not None:
            changes["buffer_bytes"] = buffer_bytes
        if tiling is not None:
            changes["tiling"] = tiling
            if tiling == "strips" and halo is None:
                changes["halo"] = "choose"
        if halo is not None:
            changes["halo"] = halo
        return replace(self, **changes) if changes else self

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Accelerator":
        pe = d.get("pe_array")
        return cls(buffer_bytes=d["buffer_bytes"], word_bytes=d.get("word_bytes", 2),
                   channel_tile=d.get("channel_tile", 32), weight_staging=d.get("weight_staging", "block"),
                   tiling=d.get("tiling", "strips"), halo=d.get("halo", "choose"),
                   name=d.get("name", "accelerator"),
                   pe_array=tuple(pe) if pe is not None else None,  # type: ignore[arg-type]
                   source=d.get("source"), description=d.get("description"),
                   **{k: d[k] for k in (*ENERGY_DEFAULTS, *LATENCY_DEFAULTS) if k in d})

    def to_dict(self, *, with_format: bool = False) -> dict[str, Any]:
        d: dict[str, Any] = {"format": "optimus-opt/accelerator@1"} if with_format else {}
        d.update(name=self.name, buffer_bytes=self.buffer_bytes, word_bytes=self.word_bytes,
                 channel_tile=self.channel_tile, weight_staging=self.weight_staging)
        if self.tiling != "strips":  # version 2 documents stay byte for byte as they were
            d.update(tiling=self.tiling, halo=self.halo)
        if self.pe_array is not None:
            d["pe_array"] = list(self.pe_array)
        for key in ("source", "description"):
            if getattr(self, key) is not None:
                d[key] = getattr(self, key)
        for key, default in (*ENERGY_DEFAULTS.items(), *LATENCY_DEFAULTS.items()):
            value = getattr(self, key)  # only what differs: documents without them keep their bytes
            if value != default:
                d[key] = int(value) if isinstance(value, float) and value.is_integer() else value
        return d


_UNITS = {"": 1, "b": 1, "kib": 1024, "mib": 1024 ** 2, "gib": 1024 ** 3, "tib": 1024 ** 4, "kb": 1000,
          "mb": 1000 ** 2, "gb": 1000 ** 3, "tb": 1000 ** 4}
#: More digits than this in a size is refused before any arithmetic (no size the cost model takes has 25).
_MAX_DIGITS = 40


def parse_size(text: str) -> int:
    """Parse a byte size: ``131072``, ``128KiB``, ``181.5KiB``, ``1MiB`` (binary) or ``128KB`` (decimal, 1000).

    The binary and decimal prefixes are kept apart on purpose: the Optimus paper's "128 KB" is 128 KiB, and a
    summary always prints the plain byte count it used. The arithmetic is exact (integers, never a float), so
    ``99999999999999999999999`` is that many bytes, and sizes above the cost model's limit
    (:data:`~optimus_opt.model.limits.MAX_BYTES`, 2^53 bytes) are refused.

    Raises
    ------
    ValueError
        When the text is not a size, is not a whole positive number of bytes, or is larger than the limit.
    """
    text = str(text)
    shown = repr(text) if len(text) <= 32 else f"'{text[:16]}...' ({len(text)} characters)"
    m = re.fullmatch(r"\s*([0-9]+)(?:\.([0-9]+))?\s*([A-Za-z]*)\s*", text)
    if not m or m.group(3).lower() not in _UNITS:
        raise ValueError(f"not a byte size: {shown} (use e.g. 131072, 128KiB, 1MiB or 128KB)")
    whole, fraction, unit = m.group(1), m.group(2) or "", _UNITS[m.group(3).lower()]
    if len(whole.lstrip("0")) + len(fraction) > _MAX_DIGITS:
        raise ValueError(f"{shown} has more than {_MAX_DIGITS} digits: more than {limit_text()}")
    places = len(fraction)
    value, rest = divmod(int(whole + fraction) * unit, 10 ** places)
    if rest:
        exact = f"{value:,}." + f"{rest:0{places}d}".rstrip("0")
        raise ValueError(f"not a whole number of bytes: {shown} is {exact} bytes")
    if value < 1:
        raise ValueError(f"a size must be at least 1 byte, got {shown}")
    if value > MAX_BYTES:
        raise ValueError(f"{shown} is {amount(value)} bytes, more than {limit_text()}")
    return value


def format_size(nbytes: int) -> str:
    """``131072`` → ``'128 KiB'``, ``185856`` → ``'181.5 KiB'``: multiples of half a KiB/MiB/GiB/TiB get the
    largest unit that keeps at most one decimal; any other count is the plain bytes (``'1000 B'``). Exact: no
    float is involved, so large counts keep every digit. No thousands separators: instance names are made of it
    (``suite.size_label``); :func:`describe_size` is the form for people."""
    for unit, factor in (("TiB", 1024 ** 4), ("GiB", 1024 ** 3), ("MiB", 1024 ** 2), ("KiB", 1024)):
        if nbytes >= factor and nbytes % (factor // 2) == 0:
            whole, half = divmod(nbytes, factor)
            return f"{whole}" + (".5" if half else "") + f" {unit}"
    return f"{nbytes} B"


def describe_size(nbytes: int) -> str:
    """The bytes with thousands separators, plus the binary unit when it says something more: ``'131,072 B (128
    KiB)'``, but ``'266,064 B'`` (never the same number twice)."""
    unit = format_size(nbytes)
    return f"{nbytes:,} B" + ("" if unit.endswith(" B") else f" ({unit})")
