"""How much memory is left to this process, so that a long bound stops taking in wider windows before the machine
runs short (``solvers/segment_bound.py``, formulations/segment-bound.md, "Memory").

Read on Linux from ``/proc/meminfo`` (``MemAvailable``: what may be allocated without swapping) and, where the
process runs in a control group with a limit (a container, a batch job), from that group's limit less its usage
(cgroup v2 ``memory.max`` and ``memory.current``, or v1 ``memory.limit_in_bytes`` and ``memory.usage_in_bytes``);
the least of them. Elsewhere nothing is known, and nothing is guarded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

#: The control-group files of a limit and the usage beside it, cgroup v2 first (paths under the root).
CGROUP_FILES = (("sys/fs/cgroup/memory.max", "sys/fs/cgroup/memory.current"),
                ("sys/fs/cgroup/memory/memory.limit_in_bytes", "sys/fs/cgroup/memory/memory.usage_in_bytes"))


def _meminfo(root: Path) -> dict[str, int]:
    """The fields of ``/proc/meminfo`` in bytes (empty where it cannot be read)."""
    try:
        text = (root / "proc/meminfo").read_text()
    except OSError:
        return {}
    fields = {}
    for line in text.splitlines():
        name, _, value = line.partition(":")
        words = value.split()
        if words and words[0].isdigit():
            fields[name.strip()] = int(words[0]) * (1024 if words[1:] == ["kB"] else 1)
    return fields


def _cgroup_left(root: Path, total: int | None) -> int | None:
    """The bytes the control group's limit leaves, or None where no limit below ``total`` is set."""
    for limit_file, usage_file in CGROUP_FILES:
        try:
            limit, usage = ((root / name).read_text().strip() for name in (limit_file, usage_file))
        except OSError:
            continue
        if limit.isdigit() and usage.isdigit() and (total is None or int(limit) < total):
            return max(0, int(limit) - int(usage))
    return None


def available_bytes(root: str | Path = "/") -> int | None:
    """The bytes this process may still allocate (module docstring), or None where that is not known. ``root``
    is where ``/proc`` and ``/sys`` are looked for (a test's directory).

    >>> available_bytes("/nowhere") is None
    True
    """
    root = Path(root)
    info = _meminfo(root)
    known = [value for value in (info.get("MemAvailable"), _cgroup_left(root, info.get("MemTotal")))
             if value is not None]
    return min(known) if known else None


def total_bytes(root: str | Path = "/") -> int | None:
    """The machine's memory (``MemTotal``), or None where it is not known."""
    return _meminfo(Path(root)).get("MemTotal")


@dataclass(frozen=True)
class Memory:
    """The memory a long run may use: what is available now (``available()``, :func:`available_bytes` by
    default) less ``reserve``, a share of the machine's total (``total()``, :func:`total_bytes`), which the run
    leaves to the system and to whatever else runs beside it; split between ``sharing`` processes taking it at
    once. Read when asked, so a test may pass functions of its own (module-level ones where processes are forked
    and pickle them)."""

    reserve: float = 0.15
    sharing: int = 1
    available: Callable[[], int | None] | None = field(default=None, compare=False, repr=False)
    total: Callable[[], int | None] | None = field(default=None, compare=False, repr=False)

    def usable(self) -> int | None:
        """The bytes this process may still take, or None where nothing is known (nothing is then guarded)."""
        free = (self.available or available_bytes)()
        if free is None:
            return None
        total = (self.total or total_bytes)() or 0
        return max(0, free - int(self.reserve * total)) // max(1, self.sharing)

    def items(self, each: int) -> int | None:
        """How many items of ``each`` bytes fit in what this process may still take (None: no limit known)."""
        usable = self.usable()
        return None if usable is None else usable // each
