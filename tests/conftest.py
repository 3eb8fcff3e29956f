"""Fixtures several test modules share: the worked example and registering a solver for one test; and the
hypothesis profiles: ``ci`` (what .ci/run selects) draws a fixed sequence of examples and keeps no database, so CI
cannot pass or fail by chance; ``dev`` (the default) draws new examples on every run."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

import optimus_opt as oo
from optimus_opt import solvers
from optimus_opt.solvers.base import Solver

ROOT = Path(__file__).resolve().parents[1]
#: The worked example of formulations/cost-model.md: 253,460 bytes at the optimum on its 64 KiB buffer.
EXAMPLE = ROOT / "instances" / "example-64k.json"


@pytest.fixture(scope="session")
def example() -> oo.Instance:
    """The worked example instance (``instances/example-64k.json``); instances are frozen, so one is shared."""
    return oo.load_instance(EXAMPLE)


@pytest.fixture
def register_solver() -> Callable[[type[Solver]], type[Solver]]:
    """Register solver classes for one test through the public registry; they are removed when it ends."""
    added: list[str] = []

    def add(cls: type[Solver]) -> type[Solver]:
        solvers.register(cls)
        added.append(cls.name)
        return cls

    yield add
    for name in added:
        solvers.unregister(name)
