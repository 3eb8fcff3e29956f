"""Schedules (formulations/formats.md) and :func:`evaluate`, which recomputes every number of a schedule from the instance and
its groups alone and rejects a schedule that breaks a rule of formulations/cost-model.md §3–4 (and §7 under
``tiling: tiles``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..model.errors import ScheduleError
from ..model.instance import Instance
from .cost_model import CostModel, Tiling
from .energy import OBJECTIVE_FIELDS, OBJECTIVES, ZERO, Figures
from .partition import components, convexity_violation, order_violation, quotient_cycle
from .tiles import HALO_MODES  # a group's halo modes under tiling: tiles (formulations/cost-model.md §7.3)

SCHEDULE_FORMAT = "optimus-opt/schedule@3"
#: Schedules still read: version 2 of the format (cost model version 2, before tiles), whose groups say ``strips``
#: for the tile rows and have no tile columns, halo, passes or MACs.
READ_FORMATS = (SCHEDULE_FORMAT, "optimus-opt/schedule@2")
#: Schedules of cost model version 1 (concats were layers then); refused, since their numbers no longer hold.
OLD_SCHEDULE_FORMATS = ("optimus-opt/schedule@1",)
STATUSES = ("optimal", "feasible", "infeasible", "unknown")
#: The fields of a group in a ``schedule@2`` document (``strips`` is read as ``tile_rows``).
_V2_GROUP_FIELDS = ("layers", "strips", "batch_block", "reduced_channels", "resident_weights", "read_bytes",
                    "write_bytes", "footprint_bytes")
#: The integer fields of a group (the others: ``layers``, ``reduced_channels``, ``resident_weights``, ``halo``).
_INT_FIELDS = ("tile_rows", "tile_cols", "passes", "batch_block", "read_bytes", "write_bytes", "footprint_bytes",
               "macs", "added_macs", "energy_fj", "latency_cycles")
#: The figures of the energy and latency models a group and a schedule state (formulations/energy.md).
_FIGURE_FIELDS = ("energy_fj", "latency_cycles")


@dataclass(frozen=True, init=False)
class Group:
    """One fusion group: its layers (topological order) and, when known, its tiling, traffic and MACs.

    The tiling is ``tile_rows`` (Q_r; the number of strips under ``tiling: strips``), ``tile_cols`` (Q_c, 1 under
    strips), ``halo`` (``cache`` or ``recompute``; None under strips), ``passes`` (output-channel passes),
    ``batch_block`` and ``reduced_channels``; ``macs`` are the group's multiply-accumulates over the batch, of which
    ``added_macs`` are recomputed (formulations/cost-model.md §7.5); ``energy_fj`` and ``latency_cycles`` its
    energy (fJ) and latency (cycles) (formulations/energy.md). A group written by hand may give only
    ``layers``; :func:`evaluate` then uses the group's best tiling. ``strips=`` is accepted for ``tile_rows`` (the
    name of cost model version 2), and :attr:`strips` reads it.
    """

    layers: tuple[str, ...]
    tile_rows: int | None = None
    tile_cols: int | None = None
    halo: str | None = None
    passes: int | None = None
    batch_block: int | None = None
    reduced_channels: tuple[str, ...] | None = None
    resident_weights: bool | None = None
    read_bytes: int | None = None
    write_bytes: int | None = None
    footprint_bytes: int | None = None
    macs: int | None = None
    added_macs: int | None = None
    energy_fj: int | None = None
    latency_cycles: int | None = None

    def __init__(self, layers: Sequence[str], tile_rows: int | None = None, *, tile_cols: int | None = None,
                 halo: str | None = None, passes: int | None = None, batch_block: int | None = None,
                 reduced_channels: Sequence[str] | None = None, resident_weights: bool | None = None,
                 read_bytes: int | None = None, write_bytes: int | None = None, footprint_bytes: int | None = None,
                 macs: int | None = None, added_macs: int | None = None, strips: int | None = None,
                 energy_fj: int | None = None, latency_cycles: int | None = None) -> None:
        if strips is not None:
            if tile_rows is not None and tile_rows != strips:
                raise TypeError(f"Group: strips={strips} and tile_rows={tile_rows} name the same number (give one)")
            tile_rows = strips
        values = dict(layers=tuple(layers), tile_rows=tile_rows, tile_cols=tile_cols, halo=halo, passes=passes,
                      batch_block=batch_block,
                      reduced_channels=tuple(reduced_channels) if reduced_channels is not None else None,
                      resident_weights=resident_weights, read_bytes=read_bytes, write_bytes=write_bytes,
                      footprint_bytes=footprint_bytes, macs=macs, added_macs=added_macs, energy_fj=energy_fj,
                      latency_cycles=latency_cycles)
        for key, value in values.items():
            object.__setattr__(self, key, value)

    @property
    def strips(self) -> int | None:
        """The tile rows under their version 2 name (the strips of ``tiling: strips``)."""
        return self.tile_rows

    @property
    def tiles(self) -> bool:
        """Whether the group was tiled under ``tiling: tiles`` (it names a halo mode)."""
        return self.halo is not None

    @property
    def dram_bytes(self) -> int | None:
        if self.read_bytes is None or self.write_bytes is None:
            return None
        return self.read_bytes + self.write_bytes

    @classmethod
    def from_tiling(cls, instance: Instance, members: Sequence[int], tiling: Tiling,
                    figures: "Figures | None" = None) -> "Group":
        """The group of ``members`` under ``tiling``, with its energy and latency when ``figures`` are given."""
        names = instance.network.layers
        return cls(layers=tuple(names[u].name for u in sorted(members)), tile_rows=tiling.strips,
                   tile_cols=tiling.tile_cols, halo=tiling.halo, passes=tiling.passes,
                   batch_block=tiling.batch_block,
                   reduced_channels=tuple(names[u].name for u in sorted(tiling.reduced)),
                   resident_weights=tiling.resident, read_bytes=tiling.read_bytes, write_bytes=tiling.write_bytes,
                   footprint_bytes=tiling.footprint_bytes, macs=tiling.macs, added_macs=tiling.added_macs,
                   energy_fj=figures.energy_fj if figures else None,
                   latency_cycles=figures.latency_cycles if figures else None)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"layers": list(self.layers)}
        for key in ("tile_rows", "tile_cols", "halo", "passes", "batch_block", "reduced_channels",
                    "resident_weights", "read_bytes", "write_bytes", "footprint_bytes", "macs", "added_macs",
                    *_FIGURE_FIELDS):
            value = getattr(self, key)
            if value is not None:
                d[key] = list(value) if isinstance(value, tuple) else value
        return d


def tiling_text(g: Group) -> str:
    """A group's tiling in words: ``32 strips`` (``tiling: strips``), or ``4 × 2 tiles, halo cache`` (``tiles``,
    with ``, 3 passes`` when the group runs in output-channel passes); ``-`` when the group states none."""
    if g.tile_rows is None:
        return "-"
    if not g.tiles:
        return f"{g.tile_rows} strip" + ("s" if g.tile_rows != 1 else "")
    rows, cols = g.tile_rows, g.tile_cols or 1
    text = f"{rows} × {cols} tile" + ("s" if rows * cols != 1 else "") + f", halo {g.halo}"
    if g.passes and g.passes > 1:
        text += f", {g.passes} passes"
    return text


@dataclass(frozen=True)
class Schedule:
    """A solver's result (formulations/formats.md): ordered groups, status and the numbers that go with them.

    ``status`` is ``optimal`` (proven), ``feasible`` (not proven optimal), ``infeasible`` (proven: no valid
    schedule in the solver's space; ``unplaced`` names the layers that could not be placed) or ``unknown``.
    ``macs`` and ``added_macs`` are the sums over the groups; left out, they are summed from the groups when every
    group states its own; so are ``energy_fj`` and ``latency_cycles`` (formulations/energy.md).

    ``objective`` is what the solver minimised (``dram``, ``energy`` or ``latency``). Under ``dram`` its proven
    bound is ``bound_bytes``; under the others ``objective_bound``, in the objective's units (fJ, cycles).
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
    macs: int | None = None
    added_macs: int | None = None
    objective: str = "dram"
    objective_bound: int | None = None
    energy_fj: int | None = None
    latency_cycles: int | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {self.objective!r}")
        for key in ("macs", "added_macs", *_FIGURE_FIELDS):
            if getattr(self, key) is None and self.groups and all(getattr(g, key) is not None for g in self.groups):
                object.__setattr__(self, key, sum(getattr(g, key) for g in self.groups))

    @property
    def value(self) -> int | None:
        """The objective's value: DRAM bytes, energy (fJ) or latency (cycles)."""
        return getattr(self, OBJECTIVE_FIELDS[self.objective])

    @property
    def bound(self) -> int | None:
        """The proven lower bound of the objective, in its units."""
        return self.bound_bytes if self.objective == "dram" else self.objective_bound

    @property
    def gap(self) -> float | None:
        """(value − bound) / bound of the objective, where both are known."""
        if self.value is None or not self.bound:
            return None
        return (self.value - self.bound) / self.bound

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"format": SCHEDULE_FORMAT, "instance": self.instance, "solver": self.solver,
                             "status": self.status}
        if self.objective != "dram":
            d["objective"] = self.objective
        for key in ("dram_bytes", "bound_bytes", "objective_bound", "compulsory_bytes", "macs", "added_macs",
                    *_FIGURE_FIELDS):
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
        """Read a schedule document (``schedule@3``, or ``schedule@2``, whose ``strips`` are the tile rows); a
        malformed one raises :class:`ScheduleError` of kind ``format``."""
        where = f"{file}: " if file else ""
        if isinstance(d, Mapping) and d.get("format") in OLD_SCHEDULE_FORMATS:
            raise ScheduleError(f"{where}field 'format': \"{d['format']}\" was computed under version 1 of the "
                                "cost model (concats were layers then), so its groups and bytes no longer hold; "
                                "solve the instance again to get a \"" + SCHEDULE_FORMAT + "\" schedule",
                                kind="format")
        if not isinstance(d, Mapping) or d.get("format") not in READ_FORMATS:
            raise ScheduleError(f"{where}field 'format': expected \"{SCHEDULE_FORMAT}\" (or \"{READ_FORMATS[1]}\")",
                                kind="format")
        version2 = d["format"] != SCHEDULE_FORMAT
        groups_doc = d.get("groups")
        if not isinstance(groups_doc, list):
            raise ScheduleError(f"{where}field 'groups': expected a list of groups", kind="format")
        groups = []
        allowed = set(_V2_GROUP_FIELDS) if version2 else set(Group.__dataclass_fields__)
        for k, g in enumerate(groups_doc):
            if not isinstance(g, Mapping) or not isinstance(g.get("layers"), list) or not all(
                    isinstance(n, str) for n in g["layers"]):
                raise ScheduleError(f"{where}group {k}: field 'layers': expected a list of layer names",
                                    kind="format")
            unknown = sorted(set(g) - allowed)
            if unknown:
                hint = " (schedule@3 calls the strips 'tile_rows')" if unknown[0] == "strips" else \
                    f" (it is new in \"{SCHEDULE_FORMAT}\")" if version2 and unknown[0] in Group.__dataclass_fields__ \
                    else ""
                raise ScheduleError(f"{where}group {k}: unknown field '{unknown[0]}'{hint}", kind="format")
            if "reduced_channels" in g and not (isinstance(g["reduced_channels"], list) and all(
                    isinstance(n, str) for n in g["reduced_channels"])):
                raise ScheduleError(f"{where}group {k}: field 'reduced_channels': expected a list of layer names, "
                                    f"got {g['reduced_channels']!r}", kind="format")
            if "resident_weights" in g and not isinstance(g["resident_weights"], bool):
                raise ScheduleError(f"{where}group {k}: field 'resident_weights': expected true or false, got "
                                    f"{g['resident_weights']!r}", kind="format")
            if "halo" in g and not isinstance(g["halo"], str):
                raise ScheduleError(f"{where}group {k}: field 'halo': expected \"cache\" or \"recompute\", got "
                                    f"{g['halo']!r}", kind="format")
            kw = dict(g)
            if version2 and "strips" in kw:
                kw["tile_rows"] = kw.pop("strips")
            for key in _INT_FIELDS:
                shown = "strips" if version2 and key == "tile_rows" else key
                if key in kw and (isinstance(kw[key], bool) or not isinstance(kw[key], int)):
                    raise ScheduleError(f"{where}group {k}: field '{shown}': expected an integer, got {kw[key]!r}",
                                        kind="format")
            groups.append(Group(**kw))
        _check_top_fields(d, where)
        status = d.get("status", "feasible")
        if status not in STATUSES:
            raise ScheduleError(f"{where}field 'status': expected one of {', '.join(STATUSES)}, got {status!r}",
                                kind="format")
        objective = d.get("objective", "dram")
        if objective not in OBJECTIVES:
            raise ScheduleError(f"{where}field 'objective': expected one of {', '.join(OBJECTIVES)}, got "
                                f"{objective!r}", kind="format")
        return cls(instance=str(d.get("instance", "")), solver=str(d.get("solver", "")), status=status,
                   groups=tuple(groups), dram_bytes=d.get("dram_bytes"), bound_bytes=d.get("bound_bytes"),
                   compulsory_bytes=d.get("compulsory_bytes"), solve_seconds=d.get("solve_seconds"),
                   solver_info=d.get("solver_info", {}), unplaced=tuple(d.get("unplaced", ())),
                   message=d.get("message"), macs=None if version2 else d.get("macs"),
                   added_macs=None if version2 else d.get("added_macs"), objective=objective,
                   objective_bound=d.get("objective_bound"),
                   **{key: None if version2 else d.get(key) for key in _FIGURE_FIELDS})


def _check_top_fields(d: Mapping[str, Any], where: str) -> None:
    """The types of a schedule document's own fields (its groups are checked where they are read)."""
    kinds = {"dram_bytes": (int,), "bound_bytes": (int,), "compulsory_bytes": (int,), "macs": (int,),
             "added_macs": (int,), "solve_seconds": (int, float), "objective_bound": (int,), "energy_fj": (int,),
             "latency_cycles": (int,),
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
    figures: Figures = ZERO

    @property
    def dram_bytes(self) -> int:
        return sum(t.dram_bytes for t in self.tilings)

    @property
    def compulsory_bytes(self) -> int:
        assert self.schedule.compulsory_bytes is not None
        return self.schedule.compulsory_bytes

    @property
    def macs(self) -> int:
        """The schedule's multiply-accumulates over the batch (formulations/cost-model.md §7.5)."""
        return sum(t.macs for t in self.tilings)

    @property
    def added_macs(self) -> int:
        """Of :attr:`macs`, those that recompute a halo (0 under ``tiling: strips`` and halo ``cache``)."""
        return sum(t.added_macs for t in self.tilings)


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
                raise ScheduleError(_unknown_layer(name, instance, schedule), kind="unknown-layer", group=k)
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


def _unknown_layer(name: str, instance: Instance, schedule: Schedule) -> str:
    """Why a schedule's layer is not the instance's: which network it is not in, and, when the schedule says it
    was made for another instance, which (a schedule of one network evaluated on another fails at its first
    layer)."""
    made_for = schedule.instance
    other = f" (this schedule is for {made_for})" if made_for and made_for != instance.name else ""
    return f"layer '{name}' is not in {instance.network.name}{other}"


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
        The groups in execution order; each group's tiling (tile rows, and under ``tiling: tiles`` tile columns,
        halo and passes; batch block, reduced channels) is used when ``tile_rows`` is given, else the group's best
        tiling. Left out, ``tile_cols`` and ``passes`` are 1, ``batch_block`` 1 and ``halo`` the accelerator's
        (``cache`` where it lets each group choose).
    check_numbers:
        Also compare the numbers the schedule states (per-group bytes, MACs and ``resident_weights``,
        ``dram_bytes``, ``compulsory_bytes``, ``macs``, ``added_macs``) with the recomputed ones and reject a
        disagreement.

    Returns
    -------
    Evaluation
        The schedule with recomputed numbers, the tilings, and which groups' stated tilings are not their best.

    Raises
    ------
    ScheduleError
        With ``kind`` naming the broken rule: ``unknown-layer``, ``concat-in-group``, ``overlap``, ``missing``, ``not-convex``,
        ``not-connected``, ``order``, ``bad-tiling`` (a tiling field out of its range, or a field of ``tiling:
        tiles`` on an instance that tiles in strips), ``infeasible-tiling`` or ``mismatch``.
    """
    cm = CostModel(instance, objective=schedule.objective)
    net = instance.network
    acc = instance.accelerator
    groups = group_ids(instance, schedule)
    check_structure(instance, groups)
    tilings: list[Tiling] = []
    all_figures: list[Figures] = []
    suboptimal: list[int] = []
    new_groups: list[Group] = []
    for k, (g, ids) in enumerate(zip(schedule.groups, groups)):
        _check_tiling_fields(g, acc.tiling, k)
        best = cm.best_tiling(ids)
        stated_tiling = g.tile_rows is not None
        if not stated_tiling:
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
            halo = g.halo
            if acc.tiling == "tiles" and halo is None:
                halo = acc.halo if acc.halo in HALO_MODES else "cache"
            try:
                tiling = cm.tiling(ids, g.tile_rows, g.batch_block or 1, reduced, tile_cols=g.tile_cols or 1,
                                   halo=halo, passes=g.passes or 1)
            except ValueError as err:
                kind = "infeasible-tiling" if "does not fit" in str(err) else "bad-tiling"
                raise ScheduleError(str(err), kind=kind, group=k) from None
        figures = cm.figures(ids, tiling)
        if stated_tiling and best is not None and figures.value(cm.objective) > best.cost:
            suboptimal.append(k)
        recomputed = Group.from_tiling(instance, ids, tiling, figures)
        if check_numbers:
            for key in ("read_bytes", "write_bytes", "footprint_bytes", "resident_weights", "macs", "added_macs",
                        *_FIGURE_FIELDS):
                stated = getattr(g, key)
                if stated is not None and stated != getattr(recomputed, key):
                    raise ScheduleError(f"{key} says {stated} but the cost model gives {getattr(recomputed, key)}",
                                        kind="mismatch", group=k)
        tilings.append(tiling)
        all_figures.append(figures)
        new_groups.append(replace(recomputed, layers=tuple(net.layers[i].name for i in ids)))
    total = sum(all_figures, ZERO)
    compulsory = cm.compulsory_bytes()
    sums = {"dram_bytes": total.dram_bytes, "compulsory_bytes": compulsory, "macs": total.macs,
            "added_macs": total.added_macs, "energy_fj": total.energy_fj, "latency_cycles": total.latency_cycles}
    if check_numbers:
        for key, value in sums.items():
            stated = getattr(schedule, key)
            if stated is not None and stated != value:
                raise ScheduleError(f"{key} says {stated} but the groups {'make' if 'macs' in key else 'cost'} "
                                    f"{value}", kind="mismatch")
    out = replace(schedule, groups=tuple(new_groups), unplaced=(), **sums,
                  status=schedule.status if schedule.status in ("optimal", "feasible") else "feasible")
    return Evaluation(schedule=out, tilings=tuple(tilings), suboptimal_groups=tuple(suboptimal),
                      figures=total)


def _check_tiling_fields(g: Group, tiling: str, k: int) -> None:
    """Refuse, as ``bad-tiling``, the fields of ``tiling: tiles`` on an instance that tiles in strips, a halo
    that is no mode, and tile columns, a halo or passes without the tile rows they go with."""
    if tiling == "strips":
        for key, default in (("tile_cols", 1), ("halo", None), ("passes", 1)):
            value = getattr(g, key)
            if value is not None and value != default:
                raise ScheduleError(f"field '{key}': {json.dumps(value)} needs tiling: tiles, and the instance's "
                                    "accelerator tiles in strips (cost model version 2: full-width strips, "
                                    "every overlap kept on chip, no passes); was the schedule solved under "
                                    "tiling: tiles (--tiling tiles)?", kind="bad-tiling", group=k)
    elif g.halo is not None and g.halo not in HALO_MODES:
        raise ScheduleError(f"field 'halo': {json.dumps(g.halo)} is no halo mode (a group's halo is "
                            f"{' or '.join(HALO_MODES)})", kind="bad-tiling", group=k)
    if g.tile_rows is None:
        for key in ("tile_cols", "halo", "passes"):
            if getattr(g, key) is not None:
                raise ScheduleError(f"field '{key}' needs 'tile_rows' (the tiling fields go with the tile rows; "
                                    "a group without any takes its best tiling)", kind="bad-tiling", group=k)
