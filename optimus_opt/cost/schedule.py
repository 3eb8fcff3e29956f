"""Schedules (formulations/formats.md) and :func:`evaluate`, which recomputes every number of a schedule from the instance and
its groups alone and rejects a schedule that breaks a rule of formulations/cost-model.md §3–4."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..model.errors import ScheduleError
from ..model.instance import Instance
from .cost_model import CostModel, Tiling
from .partition import components, convexity_violation, order_violation, quotient_cycle

SCHEDULE_FORMAT = "optimus-opt/schedule@2"
#: Schedules of cost model version 1 (concats were layers then); refused, since their numbers no longer hold.
OLD_SCHEDULE_FORMATS = ("optimus-opt/schedule@1",)
STATUSES = ("optimal", "feasible", "infeasible", "unknown")


@dataclass(frozen=True)
class Group:
    """One fusion group: its layers (topological order) and, when known, its tiling and traffic.

    A group written by hand may give only ``layers``; :func:`evaluate` then uses the group's best tiling.
    """

    layers: tuple[str, ...]
    strips: int | None = None
    batch_block: int | None = None
    reduced_channels: tuple[str, ...] | None = None
    resident_weights: bool | None = None
    read_bytes: int | None = None
    write_bytes: int | None = None
    footprint_bytes: int | None = None

    @property
    def dram_bytes(self) -> int | None:
        if self.read_bytes is None or self.write_bytes is None:
            return None
        return self.read_bytes + self.write_bytes

    @classmethod
    def from_tiling(cls, instance: Instance, members: Sequence[int], tiling: Tiling) -> "Group":
        names = instance.network.layers
        return cls(layers=tuple(names[u].name for u in sorted(members)), strips=tiling.strips,
                   batch_block=tiling.batch_block,
                   reduced_channels=tuple(names[u].name for u in sorted(tiling.reduced)),
                   resident_weights=tiling.resident, read_bytes=tiling.read_bytes, write_bytes=tiling.write_bytes,
                   footprint_bytes=tiling.footprint_bytes)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"layers": list(self.layers)}
        for key in ("strips", "batch_block", "reduced_channels", "resident_weights", "read_bytes", "write_bytes",
                    "footprint_bytes"):
            value = getattr(self, key)
            if value is not None:
                d[key] = list(value) if isinstance(value, tuple) else value
        return d


@dataclass(frozen=True)
class Schedule:
    """A solver's result (formulations/formats.md): ordered groups, status and the numbers that go with them.

    ``status`` is ``optimal`` (proven), ``feasible`` (not proven optimal), ``infeasible`` (proven: no valid
    schedule in the solver's space; ``unplaced`` names the layers that could not be placed) or ``unknown``.
    """

    instance: str
    solver: str
    status: str
    groups: tuple[Group, ...] = ()
    dram_bytes: int | None = None
    bound_bytes: int | None = None
    compulsory_bytes: int | None = None
    solve_seconds: float | None = None
    solver_info: Mapping[str, Any] = field(default_factory=dict)
    unplaced: tuple[str, ...] = ()
    message: str | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")

    @property
    def gap(self) -> float | None:
        """(cost − bound) / bound, where both are known."""
        if self.dram_bytes is None or not self.bound_bytes:
            return None
        return (self.dram_bytes - self.bound_bytes) / self.bound_bytes

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"format": SCHEDULE_FORMAT, "instance": self.instance, "solver": self.solver,
                             "status": self.status}
        for key in ("dram_bytes", "bound_bytes", "compulsory_bytes"):
            if getattr(self, key) is not None:
                d[key] = getattr(self, key)
        d["groups"] = [g.to_dict() for g in self.groups]
        if self.unplaced:
            d["unplaced"] = list(self.unplaced)
        if self.message:
            d["message"] = self.message
        if self.solve_seconds is not None:
            d["solve_seconds"] = round(self.solve_seconds, 6)
        d["solver_info"] = dict(self.solver_info)
        return d

    def to_json(self) -> str:
        """The schedule document, one group per line so that a schedule reads as a table in a diff."""
        d = self.to_dict()
        groups = d.pop("groups")
        body = json.dumps(d, indent=1)[:-2]
        lines = ",\n  ".join(json.dumps(g) for g in groups)
        return body + ',\n "groups": [\n  ' + lines + "\n ]\n}\n" if groups else body + ',\n "groups": []\n}\n'

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json())

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, file: str | None = None) -> "Schedule":
        """Read a schedule document; a malformed one raises :class:`ScheduleError` of kind ``format``."""
        where = f"{file}: " if file else ""
        if isinstance(d, Mapping) and d.get("format") in OLD_SCHEDULE_FORMATS:
            raise ScheduleError(f"{where}field 'format': \"{d['format']}\" was computed under version 1 of the "
                                "cost model (concats were layers then), so its groups and bytes no longer hold; "
                                "solve the instance again to get a \"" + SCHEDULE_FORMAT + "\" schedule",
                                kind="format")
        if not isinstance(d, Mapping) or d.get("format") != SCHEDULE_FORMAT:
            raise ScheduleError(f"{where}field 'format': expected \"{SCHEDULE_FORMAT}\"", kind="format")
        groups_doc = d.get("groups")
        if not isinstance(groups_doc, list):
            raise ScheduleError(f"{where}field 'groups': expected a list of groups", kind="format")
        groups = []
        allowed = set(Group.__dataclass_fields__)
        for k, g in enumerate(groups_doc):
            if not isinstance(g, Mapping) or not isinstance(g.get("layers"), list) or not all(
                    isinstance(n, str) for n in g["layers"]):
                raise ScheduleError(f"{where}group {k}: field 'layers': expected a list of layer names",
                                    kind="format")
            unknown = sorted(set(g) - allowed)
            if unknown:
                raise ScheduleError(f"{where}group {k}: unknown field '{unknown[0]}'", kind="format")
            if "reduced_channels" in g and not (isinstance(g["reduced_channels"], list) and all(
                    isinstance(n, str) for n in g["reduced_channels"])):
                raise ScheduleError(f"{where}group {k}: field 'reduced_channels': expected a list of layer names, "
                                    f"got {g['reduced_channels']!r}", kind="format")
            if "resident_weights" in g and not isinstance(g["resident_weights"], bool):
                raise ScheduleError(f"{where}group {k}: field 'resident_weights': expected true or false, got "
                                    f"{g['resident_weights']!r}", kind="format")
            kw = dict(g)
            kw["layers"] = tuple(g["layers"])
            if "reduced_channels" in g:
                kw["reduced_channels"] = tuple(g["reduced_channels"])
            for key in ("strips", "batch_block", "read_bytes", "write_bytes", "footprint_bytes"):
                if key in g and (isinstance(g[key], bool) or not isinstance(g[key], int)):
                    raise ScheduleError(f"{where}group {k}: field '{key}': expected an integer, got {g[key]!r}",
                                        kind="format")
            groups.append(Group(**kw))
        _check_top_fields(d, where)
        status = d.get("status", "feasible")
        if status not in STATUSES:
            raise ScheduleError(f"{where}field 'status': expected one of {', '.join(STATUSES)}, got {status!r}",
                                kind="format")
        return cls(instance=str(d.get("instance", "")), solver=str(d.get("solver", "")), status=status,
                   groups=tuple(groups), dram_bytes=d.get("dram_bytes"), bound_bytes=d.get("bound_bytes"),
                   compulsory_bytes=d.get("compulsory_bytes"), solve_seconds=d.get("solve_seconds"),
                   solver_info=d.get("solver_info", {}), unplaced=tuple(d.get("unplaced", ())),
                   message=d.get("message"))


def _check_top_fields(d: Mapping[str, Any], where: str) -> None:
    """The types of a schedule document's own fields (its groups are checked where they are read)."""
    kinds = {"dram_bytes": (int,), "bound_bytes": (int,), "compulsory_bytes": (int,), "solve_seconds": (int, float),
             "instance": (str,), "solver": (str,), "message": (str,), "solver_info": (Mapping,)}
    names = {int: "an integer", float: "a number", str: "a string", Mapping: "an object"}
    for key, types in kinds.items():
        value = d.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, types)):
            raise ScheduleError(f"{where}field '{key}': expected {names[types[-1]]} or null, got {value!r}",
                                kind="format")
    unplaced = d.get("unplaced", [])
    if not isinstance(unplaced, list) or not all(isinstance(n, str) for n in unplaced):
        raise ScheduleError(f"{where}field 'unplaced': expected a list of layer names, got {unplaced!r}",
                            kind="format")


def load_schedule(path: str | Path) -> Schedule:
    """Read a schedule file written by ``optimus-opt solve -o`` (or by hand)."""
    from ..model.errors import InstanceError
    from ..model.instance import parse_text, read_text

    try:  # one-line errors: not found, a directory, not UTF-8, bad JSON, nested too deeply
        doc = parse_text(read_text(str(path), "schedule"), str(path), "schedule")
    except InstanceError as err:
        raise ScheduleError(str(err), kind="format") from None
    return Schedule.from_dict(doc, file=str(path))


@dataclass(frozen=True)
class Evaluation:
    """What :func:`evaluate` recomputed.

    ``schedule`` is the input schedule with every number replaced by its recomputed value; ``tilings`` the tiling
    of each group; ``suboptimal_groups`` the positions of groups whose stated tiling costs more than the group's
    best tiling (valid, but not what an optimiser would pick).
    """

    schedule: Schedule
    tilings: tuple[Tiling, ...]
    suboptimal_groups: tuple[int, ...]

    @property
    def dram_bytes(self) -> int:
        return sum(t.cost for t in self.tilings)

    @property
    def compulsory_bytes(self) -> int:
        assert self.schedule.compulsory_bytes is not None
        return self.schedule.compulsory_bytes


def group_ids(instance: Instance, schedule: Schedule) -> list[list[int]]:
    """The node ids of each group, after checking names, overlaps and coverage."""
    net = instance.network
    owner: dict[str, int] = {}
    groups: list[list[int]] = []
    for k, g in enumerate(schedule.groups):
        if not g.layers:
            raise ScheduleError("empty group", kind="empty", group=k)
        ids = []
        for name in g.layers:
            if name not in net.index:
                raise ScheduleError(f"unknown layer '{name}'", kind="unknown-layer", group=k)
            if net.layer(name).op == "input":
                raise ScheduleError(f"'{name}' is a network input and belongs to no group", kind="unknown-layer",
                                    group=k)
            if net.layer(name).op == "concat":
                raise ScheduleError(f"'{name}' is a concat, a view of its inputs that belongs to no group (cost "
                                    "model version 2); remove it from the group", kind="concat-in-group", group=k)
            if name in owner:
                raise ScheduleError(f"layer '{name}' is also in group {owner[name]}", kind="overlap", group=k)
            owner[name] = k
            ids.append(net.index[name])
        groups.append(sorted(ids))
    missing = [net.layers[i].name for i in net.layer_ids if net.layers[i].name not in owner]
    if missing:
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise ScheduleError(f"layers in no group: {', '.join(missing[:5])}{more}", kind="missing")
    return groups


def check_structure(instance: Instance, groups: Sequence[Sequence[int]]) -> None:
    """Raise :class:`ScheduleError` unless every group is convex and connected and the order is topological."""
    net = instance.network
    name = lambda i: net.layers[i].name  # noqa: E731
    for k, g in enumerate(groups):
        path = convexity_violation(net, g)
        if path is not None:
            raise ScheduleError("not convex: the path " + " -> ".join(map(name, path)) + " leaves the group and "
                                "comes back", kind="not-convex", group=k)
        comps = components(net, g)
        if len(comps) > 1:
            parts = " | ".join(", ".join(map(name, c)) for c in comps)
            raise ScheduleError(f"not connected: its layers fall apart into {len(comps)} parts ({parts})",
                                kind="not-connected", group=k)
    bad = order_violation(net, groups)
    if bad is not None:
        cycle = quotient_cycle(net, groups)
        if cycle is not None:
            raise ScheduleError("groups " + " -> ".join(map(str, cycle)) + " depend on each other in a cycle; "
                                "no order of them is valid", kind="order")
        k, x, j = bad
        raise ScheduleError(f"reads '{name(x)}', which group {j} produces later (groups out of topological order)",
                            kind="order", group=k)


def evaluate(instance: Instance, schedule: Schedule, *, check_numbers: bool = True) -> Evaluation:
    """Recompute every number of ``schedule`` from the instance and the groups alone.

    Parameters
    ----------
    instance:
        The instance the schedule is for.
    schedule:
        The groups in execution order; each group's tiling (strips, batch block, reduced channels) is used when
        given, else the group's best tiling.
    check_numbers:
        Also compare the numbers the schedule states (per-group bytes, ``dram_bytes``, ``compulsory_bytes``,
        ``resident_weights``) with the recomputed ones and reject a disagreement.

    Returns
    -------
    Evaluation
        The schedule with recomputed numbers, the tilings, and which groups' stated tilings are not their best.

    Raises
    ------
    ScheduleError
        With ``kind`` naming the broken rule: ``unknown-layer``, ``concat-in-group``, ``overlap``, ``missing``, ``not-convex``,
        ``not-connected``, ``order``, ``bad-tiling``, ``infeasible-tiling`` or ``mismatch``.
    """
    cm = CostModel(instance)
    net = instance.network
    groups = group_ids(instance, schedule)
    check_structure(instance, groups)
    tilings: list[Tiling] = []
    suboptimal: list[int] = []
    new_groups: list[Group] = []
    for k, (g, ids) in enumerate(zip(schedule.groups, groups)):
        best = cm.best_tiling(ids)
        if g.strips is None:
            if best is None:
                raise ScheduleError(f"no tiling of the group fits the buffer: it needs at least "
                                    f"{cm.least_buffer(ids):,} bytes, the buffer has {cm.buffer:,}",
                                    kind="infeasible-tiling", group=k)
            tiling = best
        else:
            reduced = []
            for n in g.reduced_channels or ():
                if n not in net.index:
                    raise ScheduleError(f"unknown reduced-channel layer '{n}'", kind="bad-tiling", group=k)
                reduced.append(net.index[n])
            try:
                tiling = cm.tiling(ids, g.strips, g.batch_block or 1, reduced)
            except ValueError as err:
                kind = "infeasible-tiling" if "does not fit" in str(err) else "bad-tiling"
                raise ScheduleError(str(err), kind=kind, group=k) from None
            if best is not None and tiling.cost > best.cost:
                suboptimal.append(k)
        recomputed = Group.from_tiling(instance, ids, tiling)
        if check_numbers:
            for key in ("read_bytes", "write_bytes", "footprint_bytes", "resident_weights"):
                stated = getattr(g, key)
                if stated is not None and stated != getattr(recomputed, key):
                    raise ScheduleError(f"{key} says {stated} but the cost model gives {getattr(recomputed, key)}",
                                        kind="mismatch", group=k)
        tilings.append(tiling)
        new_groups.append(replace(recomputed, layers=tuple(net.layers[i].name for i in ids)))
    total = sum(t.cost for t in tilings)
    compulsory = cm.compulsory_bytes()
    if check_numbers:
        for key, value in (("dram_bytes", total), ("compulsory_bytes", compulsory)):
            stated = getattr(schedule, key)
            if stated is not None and stated != value:
                raise ScheduleError(f"{key} says {stated} but the groups cost {value}", kind="mismatch")
    out = replace(schedule, groups=tuple(new_groups), dram_bytes=total, compulsory_bytes=compulsory,
                  unplaced=(), status=schedule.status if schedule.status in ("optimal", "feasible") else "feasible")
    return Evaluation(schedule=out, tilings=tuple(tilings), suboptimal_groups=tuple(suboptimal))
