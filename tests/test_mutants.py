"""The mechanics of tools/mutants.py (the mutation testing of CONTRIBUTING.md), not its mutants' verdicts: the
mutant list still matches the code (every snippet occurs exactly once in its file, so the list cannot rot
silently), a mutant is judged by its tests and its file comes back byte for byte, and the exit status follows the
accepted survivors."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _load():
    spec = importlib.util.spec_from_file_location("optimus_mutants", ROOT / "tools" / "mutants.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["optimus_mutants"] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


mutants = _load()


def test_every_snippet_occurs_exactly_once_in_the_code():
    assert mutants.problems() == []
    assert 20 <= len(mutants.MUTANTS) <= 100  # each mutant costs a run of its tests: the list stays short
    assert set(mutants.ACCEPTED_SURVIVORS) <= {m.id for m in mutants.MUTANTS}


def test_a_stale_or_doubled_snippet_is_reported(tmp_path):
    (tmp_path / "pkg.py").write_text("X = 1\nY = 1\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_pkg.py").write_text("")
    made = [mutants.Mutant("gone", "pkg.py", "Z = 1", "Z = 2", ("tests/test_pkg.py",), "absent"),
            mutants.Mutant("twice", "pkg.py", " = 1", " = 2", ("tests/test_pkg.py",), "doubled"),
            mutants.Mutant("no-test", "pkg.py", "X = 1", "X = 2", ("tests/test_none.py",), "untested")]
    assert mutants.problems(tmp_path, tuple(made)) == [
        "gone: its snippet occurs 0 times in pkg.py, not once",
        "twice: its snippet occurs 2 times in pkg.py, not once",
        "no-test: test tests/test_none.py does not exist",
    ]


def test_a_mutant_is_killed_or_survives_and_its_file_is_restored(tmp_path):
    source = tmp_path / "pkg.py"
    source.write_text("def double(x):\n    return 2 * x\n")
    os.utime(source, ns=(1_000_000_000, 1_000_000_000))
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_pkg.py").write_text("from pkg import double\n\n\ndef test_double():\n"
                                                    "    assert double(3) == 6\n")
    killed = mutants.Mutant("plus", "pkg.py", "2 * x", "2 + x", ("tests/test_pkg.py",), "a sum, not a product")
    same = mutants.Mutant("swap", "pkg.py", "2 * x", "x * 2", ("tests/test_pkg.py",), "the same product")
    first = mutants.run_mutant(tmp_path, killed, 0, timeout=60)
    assert (first.id, first.outcome) == ("plus", "killed")
    assert first.detail.startswith("FAILED tests/test_pkg.py::test_double")
    assert (mutants.run_mutant(tmp_path, same, 1, timeout=60).outcome) == "survived"
    assert source.read_text() == "def double(x):\n    return 2 * x\n"
    assert source.stat().st_mtime_ns == 1_000_000_000


def test_only_a_survivor_not_accepted_fails_the_run():
    accepted = next(iter(mutants.ACCEPTED_SURVIVORS))
    ok = [mutants.Result("a", "killed", 1.0, "FAILED x"), mutants.Result(accepted, "survived", 2.0)]
    assert mutants.verdict(ok) == (0, [])
    status, notes = mutants.verdict(ok + [mutants.Result("b", "survived", 3.0)])
    assert status == 1 and notes[0].startswith("b survives")
    assert mutants.verdict([mutants.Result("c", "timeout", 9.0, "no verdict within 9 s")]) == (
        1, ["c: timeout (no verdict within 9 s)"])
