"""Where a schedule's bytes meet the segment bound: each window's local cost of the schedule's pieces beside what the
window proved (formulations/segment-bound.md, "Charging a schedule").

The bound rests on two inequalities (segment-bound.md, "Why it is a bound"): a group costs at least the local costs
of its pieces summed over the windows, and the pieces of one window cost at least the window's optimum. Charging a
schedule splits its distance from the bound along them:

- *uncharged*: the schedule's bytes that no window charges (cost(G) − Σ_i c̃_i(G ∩ W_i), summed over its groups):
  what the windows cannot see, such as a tensor saved or paid across two cores;
- *excess*, window by window: what the window charges the schedule beyond its own optimum. A window whose excess
  is large either holds a part of the schedule that can be improved, or its optimum combines pieces that no one
  schedule agrees with (which the coupling and wider windows address).

The two add up to the schedule's bytes less the plain sum of the windows. Either one negative would break the
bound's proof, so it is checked here on every schedule charged: an exception names the window or the group.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..cost.cost_model import CostModel
from ..cost.schedule import Schedule, evaluate
from ..model.errors import SolverError
from ..model.instance import Instance
from .segment_bound import SegmentBound, local_costs


@dataclass(frozen=True)
class WindowCharge:
    """One window: the first and last layer of its core (node ids, in the window order), what it proved (its
    optimum, or its core's compulsory traffic where it was not solved) and what it charges the schedule (None where
    it was not solved)."""

    first: int
    last: int
    proven: int
    charged: int | None

    @property
    def excess(self) -> int | None:
        return None if self.charged is None else self.charged - self.proven


@dataclass(frozen=True)
class Charges:
    """A schedule charged by a bound's windows: its bytes, each window's charge, and the bound it was charged by."""

    schedule_bytes: int
    windows: tuple[WindowCharge, ...]
    bound_bytes: int

    @property
    def charged(self) -> int:
        """What the solved windows charge the schedule, summed."""
        return sum(w.charged for w in self.windows if w.charged is not None)

    @property
    def complete(self) -> bool:
        return all(w.charged is not None for w in self.windows)

    @property
    def uncharged(self) -> int | None:
        """The schedule's bytes no window charges (None unless every window was solved)."""
        return self.schedule_bytes - self.charged if self.complete else None

    @property
    def excess(self) -> int:
        """What the solved windows charge beyond what they proved, summed."""
        return sum(w.excess for w in self.windows if w.excess is not None)

    def to_dict(self) -> dict:
        return {"schedule_bytes": self.schedule_bytes, "bound_bytes": self.bound_bytes, "charged": self.charged,
                "uncharged": self.uncharged, "excess": self.excess,
                "windows": [{"first": w.first, "last": w.last, "proven": w.proven, "charged": w.charged,
                             "excess": w.excess} for w in self.windows]}


def charge(cm: CostModel, bound: SegmentBound, groups: Sequence[Sequence[int]], dram_bytes: Sequence[int]
           ) -> Charges:
    """Charge the schedule of ``groups`` (node ids), which move ``dram_bytes`` each in their tilings, by the
    windows ``bound`` solved, checking that no window charges it less than it proved and that the windows charge
    no group more than it moves (``groups`` must obey the bound's ``max_group``, if it had one)."""
    local_cost = local_costs(cm, bound.order)
    masks = [sum(1 << u for u in group) for group in groups]
    per_group = [0] * len(masks)
    out = []
    for index, (core, window) in enumerate(bound.windows):
        first, last = bound.segments[index]
        charged = None
        if window is not None:
            local = local_cost(core, window)
            charged = 0
            for k, mask in enumerate(masks):
                if mask & window:
                    cost = local(mask & window)
                    if cost is None:
                        raise SolverError(f"window {index}: group {k} of the schedule fits in no tiling by the "
                                          "window's local cost, though the schedule is valid")
                    per_group[k] += cost
                    charged += cost
            if charged < bound.per_segment[index]:
                raise SolverError(f"window {index} ({cm.network.layers[first].name} .. "
                                  f"{cm.network.layers[last].name}) charges the schedule {charged:,} B, less than "
                                  f"the {bound.per_segment[index]:,} B it proved")
        out.append(WindowCharge(first, last, bound.per_segment[index], charged))
    for k, group in enumerate(groups):
        if per_group[k] > dram_bytes[k]:
            raise SolverError(f"the windows charge group {k} ({cm.network.layers[group[0]].name} ..) "
                              f"{per_group[k]:,} B, more than the {dram_bytes[k]:,} B it moves")
    return Charges(sum(dram_bytes), tuple(out), bound.bytes)


def charge_schedule(instance: Instance, bound: SegmentBound, schedule: Schedule, max_group: int | None = None
                    ) -> Charges:
    """``oo.charge_schedule``: ``schedule`` (of ``instance``, checked and costed by :func:`~optimus_opt.evaluate`)
    charged by the windows of ``bound`` (from :func:`~optimus_opt.lower_bound` on the same instance, with at most
    ``max_group`` layers per group if it was given one)."""
    net = instance.network
    if bound.instance != instance:
        raise SolverError(f"the bound was computed for another instance than {instance.name!r}"
                          + ("" if bound.instance is None else f" ({bound.instance.name!r})"))
    evaluation = evaluate(instance, schedule)
    groups = [[net.index[name] for name in group.layers] for group in evaluation.schedule.groups]
    for k, group in enumerate(groups):
        if max_group is not None and len(group) > max_group:
            raise SolverError(f"group {k} ({net.layers[group[0]].name} ..) has {len(group)} layers: a bound over "
                              f"groups of at most {max_group} layers does not hold for it")
    return charge(CostModel(instance), bound, groups, [t.dram_bytes for t in evaluation.tilings])
