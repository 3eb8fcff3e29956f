"""The network zoo: builders of well-known DNNs, each faithful to its original definition (torchvision's where
it has one), batch-norm and activations folded into their producers.

``build(name, resolution=None)`` returns a :class:`~optimus_opt.model.network.Network`; ``entries()`` lists what is
here with the published figures each builder is checked against (tests/test_zoo*.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..model.network import Network


@dataclass(frozen=True)
class ZooEntry:
    """One zoo network: its builder, default input resolution and the published figures it must match."""

    name: str
    build: Callable[[int], Network]
    resolution: int
    published_params: float | None = None
    published_macs: float | None = None
    source: str = ""


def _entries() -> dict[str, ZooEntry]:
    from . import classic, detection, inception, modern, nasnet

    found: dict[str, ZooEntry] = {}
    for module in (classic, inception, nasnet, detection, modern):
        for entry in module.ENTRIES:
            found[entry.name] = entry
    return found


def entries() -> dict[str, ZooEntry]:
    """Every zoo network by name."""
    return _entries()


def names() -> tuple[str, ...]:
    return tuple(_entries())


def build(name: str, resolution: int | None = None) -> Network:
    """Build a zoo network at its default input resolution or at ``resolution`` (square inputs).

    Raises
    ------
    KeyError
        For an unknown name; the message lists the known ones.
    """
    table = _entries()
    if name not in table:
        raise KeyError(f"unknown zoo network '{name}' (known: {', '.join(table)})")
    entry = table[name]
    return entry.build(resolution or entry.resolution)
