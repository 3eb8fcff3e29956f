"""What a long bound reads of the memory left (optimus_opt/utils/memory.py), from files laid out as Linux lays
them out, in a directory of the test's own."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimus_opt.utils.memory import Memory, available_bytes, total_bytes

MEMINFO = ("MemTotal:       24683784 kB\nMemFree:        22000000 kB\nMemAvailable:   22584964 kB\n"
           "HugePages_Total:       0\n")


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_the_memory_available_is_meminfos_in_bytes(tmp_path):
    root = _write(tmp_path, {"proc/meminfo": MEMINFO})
    assert available_bytes(root) == 22_584_964 * 1024 and total_bytes(root) == 24_683_784 * 1024


@pytest.mark.parametrize("limit_file, usage_file", [
    ("sys/fs/cgroup/memory.max", "sys/fs/cgroup/memory.current"),  # cgroup v2
    ("sys/fs/cgroup/memory/memory.limit_in_bytes", "sys/fs/cgroup/memory/memory.usage_in_bytes"),  # v1
])
def test_a_control_groups_limit_below_the_machines_counts(tmp_path, limit_file, usage_file):
    # a container limited to 8 GiB that uses 6 GiB has 2 GiB left, though the machine has 21.5 GiB available
    root = _write(tmp_path, {"proc/meminfo": MEMINFO, limit_file: f"{8 << 30}\n", usage_file: f"{6 << 30}\n"})
    assert available_bytes(root) == 2 << 30
    # no limit: v2 writes "max", v1 a number above the machine's memory; then meminfo says what is left
    (tmp_path / limit_file).write_text("max\n" if limit_file.endswith(".max") else "9223372036854771712\n")
    assert available_bytes(root) == 22_584_964 * 1024


def test_where_nothing_can_be_read_nothing_is_known(tmp_path):
    assert available_bytes(tmp_path) is None and total_bytes(tmp_path) is None
    # nothing known, nothing guarded
    assert Memory(available=lambda: None).items(400) is None


def test_what_may_be_taken_leaves_the_reserve_and_is_shared():
    # 10 GB available on a machine of 20 GB: 15 % of 20 GB (3 GB) is left to the rest, 7 GB may be taken,
    # 17,500,000 pieces of 400 B; two processes taking it at once have 3.5 GB each
    memory = Memory(available=lambda: 10_000_000_000, total=lambda: 20_000_000_000)
    assert memory.usable() == 7_000_000_000 and memory.items(400) == 17_500_000
    assert Memory(sharing=2, available=memory.available, total=memory.total).items(400) == 8_750_000
    # less available than the reserve: nothing may be taken
    assert Memory(available=lambda: 2_000_000_000, total=lambda: 20_000_000_000).items(400) == 0
