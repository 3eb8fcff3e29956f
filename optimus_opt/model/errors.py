"""Exception types of optimus-opt.

Every error a user can cause carries enough context to be fixed without a debugger: the file, the layer and the
field for bad input (:class:`InstanceError`), the group and the rule for an invalid schedule
(:class:`ScheduleError`). The command line prints ``str(error)`` and exits non-zero; it never shows a traceback
for these types.
"""

from __future__ import annotations


class OptimusError(Exception):
    """Base class of every error optimus-opt raises on purpose."""


class InstanceError(OptimusError, ValueError):
    """A malformed instance, network or accelerator description.

    Parameters
    ----------
    message:
        What is wrong, in words a user acts on.
    file:
        The file the bad input came from (``None`` for an in-memory object).
    layer:
        The name of the layer at fault, when a layer is at fault.
    field:
        The field at fault (``"kernel"``, ``"inputs"``, ``"accelerator.buffer_bytes"``...), when one is.
    """

    def __init__(self, message: str, *, file: str | None = None, layer: str | None = None,
                 field: str | None = None) -> None:
        self.message = message
        self.file = file
        self.layer = layer
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        if self.layer is not None:
            where.append(f"layer '{self.layer}'")
        if self.field:
            where.append(f"field '{self.field}'")
        return (": ".join(where) + ": " if where else "") + self.message

    def in_file(self, file: str | None) -> "InstanceError":
        """The same error, attributed to ``file`` (kept if it already names one)."""
        return InstanceError(self.message, file=self.file or file, layer=self.layer, field=self.field)


class ScheduleError(OptimusError, ValueError):
    """A schedule that breaks a rule of formulations/cost-model.md §3–4.

    ``kind`` names the rule (``overlap``, ``missing``, ``unknown-layer``, ``concat-in-group``, ``not-convex``, ``not-connected``,
    ``order``, ``infeasible-tiling``, ``bad-tiling``, ``mismatch``, ``format``) so that tools and tests can tell
    the failures apart; ``group`` is the 0-based position of the group at fault, when one is.
    """

    def __init__(self, message: str, *, kind: str, group: int | None = None) -> None:
        self.message = message
        self.kind = kind
        self.group = group
        super().__init__(str(self))

    def __str__(self) -> str:
        prefix = f"group {self.group}: " if self.group is not None else ""
        return f"invalid schedule ({self.kind}): {prefix}{self.message}"


class SolverError(OptimusError):
    """A solver that cannot run: unknown name, missing package, bad option."""
