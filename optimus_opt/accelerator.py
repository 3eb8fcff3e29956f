"""The accelerator: one on-chip buffer shared by feature maps and weights (cost-model.md §2)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from .errors import InstanceError


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
        Tc, the output-channel parallelism of the PE array: a reduced-channel layer keeps min(Tc, C) channels.
    name, pe_array, source, description:
        Documentation only; they do not enter the cost model.
    """

    buffer_bytes: int
    word_bytes: int = 2
    channel_tile: int = 32
    name: str = "accelerator"
    pe_array: tuple[int, int] | None = None
    source: str | None = None
    description: str | None = None

    def __post_init__(self) -> None:
        for what in ("buffer_bytes", "word_bytes", "channel_tile"):
            value = getattr(self, what)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InstanceError(f"must be a positive integer, got {value!r}", field=f"accelerator.{what}")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Accelerator":
        pe = d.get("pe_array")
        return cls(buffer_bytes=d["buffer_bytes"], word_bytes=d.get("word_bytes", 2),
                   channel_tile=d.get("channel_tile", 32), name=d.get("name", "accelerator"),
                   pe_array=tuple(pe) if pe is not None else None,  # type: ignore[arg-type]
                   source=d.get("source"), description=d.get("description"))

    def to_dict(self, *, with_format: bool = False) -> dict[str, Any]:
        d: dict[str, Any] = {"format": "optimus-opt/accelerator@1"} if with_format else {}
        d.update(name=self.name, buffer_bytes=self.buffer_bytes, word_bytes=self.word_bytes,
                 channel_tile=self.channel_tile)
        if self.pe_array is not None:
            d["pe_array"] = list(self.pe_array)
        for key in ("source", "description"):
            if getattr(self, key) is not None:
                d[key] = getattr(self, key)
        return d


_UNITS = {"": 1, "b": 1, "kib": 1024, "mib": 1024 ** 2, "gib": 1024 ** 3, "kb": 1000, "mb": 1000 ** 2,
          "gb": 1000 ** 3}


def parse_size(text: str) -> int:
    """Parse a byte size: ``131072``, ``128KiB``, ``181.5KiB``, ``1MiB`` (binary) or ``128KB`` (decimal, 1000).

    The binary and decimal prefixes are kept apart on purpose: the Optimus paper's "128 KB" is 128 KiB, and a
    summary always prints the plain byte count it used.

    Raises
    ------
    ValueError
        When the text is not a size or is not a whole number of bytes.
    """
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*", str(text))
    if not m or m.group(2).lower() not in _UNITS:
        raise ValueError(f"not a byte size: {text!r} (use e.g. 131072, 128KiB, 1MiB or 128KB)")
    value = float(m.group(1)) * _UNITS[m.group(2).lower()]
    if value != int(value) or value < 1:
        raise ValueError(f"not a whole positive number of bytes: {text!r} = {value}")
    return int(value)


def format_size(nbytes: int) -> str:
    """``131072`` → ``'128 KiB'``; exact binary multiples only, else the plain byte count."""
    for unit, factor in (("MiB", 1024 ** 2), ("KiB", 1024)):
        if nbytes % (factor // 2) == 0 and nbytes >= factor:
            value = nbytes / factor
            return f"{value:g} {unit}"
    return f"{nbytes} B"
