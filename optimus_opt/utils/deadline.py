"""The one clock of a run: a deadline made where the user's time limit enters, which every phase draws on.

A solve passes through several phases — enumerating candidate groups, tiling them, building a model, solving it,
falling back on a heuristic — and the user's ``time_limit`` bounds them all together. If each phase computed what
is left of the limit from its own start, the phases would add up to more than the limit (the Pareto sweep once
spent it twice: once enumerating, once solving). So the limit becomes one :class:`Deadline` when it enters
(:func:`optimus_opt.solve`, :func:`~optimus_opt.solvers.pareto.pareto_front`,
:func:`~optimus_opt.solvers.diagnose.least_buffer`) and is handed down: a phase asks it whether time is up
(:meth:`Deadline.expired`, :meth:`Deadline.check`), a back-end gets what is left (:meth:`Deadline.budget`), and a
stage that must leave time for a later one gets a :meth:`Deadline.sub` deadline that ends earlier. A deadline
without a limit never expires.

The clock is injectable (any zero-argument callable returning seconds, :func:`time.perf_counter` by default), so
tests can move time forward without waiting.

Examples
--------
>>> now = [0.0]
>>> d = Deadline.after(10, clock=lambda: now[0])
>>> d.left(), d.expired()
(10.0, False)
>>> stage = d.sub(share=0.5)          # half of what is left, for one stage
>>> now[0] = 6.0
>>> stage.expired(), d.left()
(True, 4.0)
>>> Deadline.after(None).left() is None and not Deadline.after(None).expired()
True
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["NEVER", "Deadline", "OutOfTime"]

#: The fewest seconds :meth:`Deadline.budget` gives a back-end: some read 0 as "no limit" or refuse it.
MIN_BUDGET = 0.01


class OutOfTime(Exception):
    """A phase found its deadline passed (:meth:`Deadline.check`); ``args[0]`` says what it was doing."""


@dataclass(frozen=True)
class Deadline:
    """A point in time after which a run stops, on ``clock``; ``end`` None means never.

    Make one with :meth:`after`; stage deadlines with :meth:`sub`.
    """

    end: float | None
    clock: Callable[[], float] = field(default=time.perf_counter, compare=False, repr=False)

    @classmethod
    def after(cls, seconds: float | None, *, clock: Callable[[], float] = time.perf_counter) -> Deadline:
        """The deadline ``seconds`` from now on ``clock`` (None: one that never expires)."""
        return cls(None if seconds is None else clock() + seconds, clock)

    @property
    def bounded(self) -> bool:
        """Whether this deadline can expire at all."""
        return self.end is not None

    def left(self) -> float | None:
        """Seconds until the deadline (0 once it has passed), or None when there is none."""
        return None if self.end is None else max(0.0, self.end - self.clock())

    def expired(self) -> bool:
        """Whether the deadline has passed."""
        return self.end is not None and self.clock() >= self.end

    def check(self, what: str) -> None:
        """Raise :class:`OutOfTime` (saying ``what`` was under way) if the deadline has passed."""
        if self.expired():
            raise OutOfTime(what)

    def budget(self, floor: float = MIN_BUDGET) -> float | None:
        """What is left, for a back-end's own time limit (CP-SAT, HiGHS): at least ``floor`` seconds, since a
        back-end may read 0 as no limit; None when there is no deadline. Ask just before starting the back-end."""
        left = self.left()
        return None if left is None else max(floor, left)

    def sub(self, seconds: float | None = None, *, share: float | None = None) -> Deadline:
        """A stage's deadline on the same clock: ``seconds`` from now, or ``share`` (0–1) of what is left; never
        later than this one. Without either it is this deadline. A stage of a deadline that never expires gets
        ``seconds`` (a default limit) or never expires either."""
        if seconds is not None and share is not None:
            raise ValueError("give seconds or share, not both")
        now = self.clock()
        if share is not None:
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"share must lie in [0, 1], got {share!r}")
            end = None if self.end is None else now + share * max(0.0, self.end - now)
        else:
            end = None if seconds is None else now + seconds
        if self.end is not None:
            end = self.end if end is None else min(end, self.end)
        return Deadline(end, self.clock)


#: The deadline of a run without a limit (and the default of functions that take one).
NEVER = Deadline(None)
