"""The README's library example runs as written and its comments state what it computes."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_library_example_numbers(monkeypatch):
    text = (ROOT / "README.md").read_text()
    block = text[text.index("## Library"):]
    code = block[block.index("```python") + len("```python"):]
    code = code[:code.index("```")]
    monkeypatch.chdir(ROOT)
    # the Pareto sweep of SqueezeNet is run, with its figures checked, by
    # tests/test_pareto.py::test_readme_pareto_front_example_runs
    quick, sweep = code.split("from optimus_opt import zoo")
    compile(sweep, "README.md", "exec")
    scope: dict = {}
    exec(compile(quick, "README.md", "exec"), scope)  # noqa: S102 - the README's own example
    assert (scope["t"].cost, scope["t"].strips, scope["t"].resident) == (144384, 32, True)
    assert "# 144384 32 True" in code
    assert scope["best"].dram_bytes == scope["best"].bound_bytes == 253460
    assert "proven optimum: 253460 bytes, bound 253460" in code
    charges = scope["charges"]
    assert sum(scope["pairs"].per_segment) == 151060 and "proving 151060 B alone" in code
    assert (charges.charged, charges.uncharged, charges.excess) == (253460, 0, 102400)
    assert "charged 253460 B, 0 B by no window, 102400 B above" in code
    capped = scope["capped"].dram_bytes
    assert re.search(r"side constraints: ([\d,]+) bytes", code).group(1) == f"{capped:,}"
