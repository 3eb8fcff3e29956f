"""The energy and the latency of a group's tiling (formulations/energy.md), and the objective a solver minimises.

The Optimus paper reports energy beside DRAM accesses (Cai, Wang, Zhang, ACM TECS 2022: 1.86×–3.66× better energy
efficiency than Efficient-S and DNNVM), and its authors' artifact prices every 16-bit access to the DRAM, the
global buffer and the register files (200, 6 and 0.1 pJ) and every MAC (1 pJ). This module states a model of the
same kind that needs nothing but the cost model's own quantities: a tiling's DRAM words, the words it writes to
and reads from the buffer (what enters from DRAM, what each layer computes, what each tile reads of its inputs
and weights, what leaves for DRAM), its MACs and their register-file accesses. Latency is the larger of a group's
compute cycles on the PE array and its DRAM transfer cycles, summed over groups.

Every figure is an exact integer: energies in fJ (the constants are whole fJ), latencies in cycles. Rows and
columns are independent (cost model §7.2), so a count over all tiles is a product of a row sum and a column sum,
and every count over the grid of tile counts is a matrix product of two directions' arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np

from ..model.errors import SolverError
from .parts import REDUCE, GroupIO, Tiling
from .tiles import Direction, TileGeometry

if TYPE_CHECKING:
    from .cost_model import CostModel

#: What a solver minimises: DRAM bytes (the cost model's own number), energy (fJ) or latency (cycles).
OBJECTIVES = ("dram", "energy", "latency")
#: The most fJ a group's energy may reach (2^62, about 4.6 kJ): sums of groups then stay within 64-bit integers.
ENERGY_LIMIT = float(2 ** 62)
#: The unit each objective's integer value is in.
UNITS = {"dram": "B", "energy": "fJ", "latency": "cycles"}
#: Where each objective's value is kept: the field of :class:`Figures`, of a schedule and of a study's record.
OBJECTIVE_FIELDS = {"dram": "dram_bytes", "energy": "energy_fj", "latency": "latency_cycles"}


@dataclass(frozen=True)
class Figures:
    """Everything the energy and latency models say of one group's tiling (or, added up, of a schedule).

    ``buffer_words`` = fills (words entering the buffer from DRAM) + drains (words leaving it for DRAM) + writes
    (output elements the layers compute) + reads (what the tiles read of feature maps and weights);
    ``rf_accesses`` = 4 per MAC less one per output element of a layer with MACs; ``energy_fj`` = DRAM words ×
    e_DRAM + buffer words × e_buffer + RF accesses × e_RF + MACs × e_MAC; ``latency_cycles`` = max(compute, DRAM)
    per group (for a schedule, the sum of its groups')."""

    dram_bytes: int
    dram_words: int
    buffer_words: int
    fills: int
    drains: int
    writes: int
    reads: int
    macs: int
    added_macs: int
    rf_accesses: int
    compute_cycles: int
    dram_cycles: int
    energy_fj: int
    latency_cycles: int

    def __add__(self, other: "Figures") -> "Figures":
        return Figures(**{k: getattr(self, k) + getattr(other, k) for k in self.__dataclass_fields__})

    def value(self, objective: str) -> int:
        """The objective's value: DRAM bytes, energy in fJ or latency in cycles."""
        return getattr(self, OBJECTIVE_FIELDS[objective])

    def breakdown_fj(self, cm: "CostModel") -> dict[str, int]:
        """The energy by source (fJ): DRAM, buffer, register files, MACs; they add up to :attr:`energy_fj`."""
        e = cm.instance.accelerator.energy_fj()
        return {"dram": self.dram_words * e["dram_pj"], "buffer": self.buffer_words * e["buffer_pj"],
                "rf": self.rf_accesses * e["rf_pj"], "mac": self.macs * e["mac_pj"]}


ZERO = Figures(*([0] * len(Figures.__dataclass_fields__)))


def layer_cycles(cm: "CostModel", u: int, out_channels: int | None = None) -> int:
    """Cycles layer u takes per output position (formulations/energy.md, "Latency"): a conv ⌈K/a_c⌉·⌈(C/g)/a_r⌉
    ·kh·kw on an a_r × a_c array (rows take input channels, columns output channels), an fc ⌈K/a_c⌉·⌈C·H·W/a_r⌉,
    and a layer without weights ⌈C/a_c⌉ lanes times its taps: a pool's window (a global pool's whole input), an
    add's or mul's operands as written less one, 1 for an upsample. ``out_channels`` replaces K (a pass's channels)."""
    layer = cm.network.layers[u]
    rows, cols = cm.instance.accelerator.array
    k = cm.C[u] if out_channels is None else out_channels
    lanes = -(-k // cols)
    if layer.op == "conv":
        taps = layer.kernel[0] * layer.kernel[1]
        return lanes * -(-(cm.mac_per_element[u] // taps) // rows) * taps  # (C/g)·kh·kw MACs per element
    if layer.op == "fc":
        return lanes * -(-cm.mac_per_element[u] // rows)
    if layer.op == "pool":
        if layer.global_pool:
            p = cm.producers[u][0]
            return lanes * cm.H[p] * cm.W[p]
        return lanes * layer.kernel[0] * layer.kernel[1]
    if layer.op in ("add", "mul"):  # the operands as written: a concat is one operand, a repeated input counts again
        return lanes * max(1, len(layer.inputs) - 1)
    return lanes


class FigureModel:
    """The energy and latency of a cost model's groups: per group the constants that do not depend on the tiling
    (:meth:`fixed`), the vectors over a grid of tile counts that do (:meth:`over_grid`), and the figures of
    tilings given as vectors (:meth:`combine`) or of one tiling (:meth:`figures`)."""

    def __init__(self, cm: "CostModel") -> None:
        self.cm = cm
        acc = cm.instance.accelerator
        self.e = acc.energy_fj()
        self.clock, self.bandwidth = acc.clock_mhz, acc.dram_mbps
        self.geometry = cm.tiles.geometry if cm.tiles is not None else TileGeometry(cm)
        self.has_macs = [cm.network.layers[u].op in ("conv", "fc") for u in range(cm.n)]
        layers = set(cm.network.layer_ids)
        self.cycles = [layer_cycles(cm, u) if u in layers else 0 for u in range(cm.n)]
        self.staged = acc.weight_staging == "block"

    def _positions(self, u: int) -> int:
        """Output positions of layer u over the batch (a reduction has one per sample)."""
        cm = self.cm
        return cm.batch * cm.H[u] * cm.W[u]

    def fixed(self, io: GroupIO) -> dict[str, int]:
        """What a group's figures owe to its layers whatever the tiling: own output elements (all layers, and
        those of MAC layers), own compute cycles, own MACs."""
        cm = self.cm
        out = sum(cm.batch * cm.C[u] * cm.H[u] * cm.W[u] for u in io.members)
        out_mac = sum(cm.batch * cm.C[u] * cm.H[u] * cm.W[u] for u in io.members if self.has_macs[u])
        cycles = sum(self._positions(u) * self.cycles[u] for u in io.members)
        return {"out": out, "out_mac": out_mac, "cycles": cycles}

    def over_grid(self, io: GroupIO, rows: Direction, cols: Direction, recompute: bool) -> dict[str, np.ndarray]:
        """Over every (Q_r, Q_c) of the two directions (row-major, as :class:`~.tiles.Grid`): the feature-map
        words the tiles read, the output elements recomputed (all layers, MAC layers) and the compute cycles
        recomputing takes. Rows of ``rows`` are recomputed when ``recompute``, else cached."""
        cm = self.cm
        order, _, first, reader, _, _ = self.geometry.structure(io)
        n_edges = len(reader)
        weight = np.zeros(n_edges, dtype=np.int64)  # words per read row × column: N × the input's channels
        for t_pos, t in enumerate(order):
            for k in range(first[t_pos], first[t_pos + 1]):
                weight[k] = cm.batch * cm.C[t]
        reads = (rows.reads.T * weight) @ cols.reads if n_edges else \
            np.zeros((len(rows.qs), len(cols.qs)), dtype=np.int64)
        size = len(rows.qs) * len(cols.qs)
        again = np.zeros(size, dtype=np.int64)
        again_mac = np.zeros(size, dtype=np.int64)
        again_cycles = np.zeros(size, dtype=np.int64)
        if recompute:
            members = set(io.members)
            for k, t in enumerate(order):
                if t not in members or cm.kind[t] == REDUCE:
                    continue
                cells = np.outer(rows.repeated[k], cols.distinct[k]).ravel() * cm.batch
                again += cells * cm.C[t]
                if self.has_macs[t]:
                    again_mac += cells * cm.C[t]
                again_cycles += cells * self.cycles[t]
        return {"reads": reads.ravel(), "again": again, "again_mac": again_mac, "again_cycles": again_cycles}

    def combine(self, io: GroupIO, fixed: dict[str, int], grid: dict[str, np.ndarray], *, dram: np.ndarray,
                ext_reads: np.ndarray, macs: np.ndarray, weight_fills: np.ndarray, weight_reads: np.ndarray,
                passes: np.ndarray, pass_cycles: np.ndarray) -> dict[str, np.ndarray]:
        """The figures of tilings given as vectors: DRAM bytes, external bytes read (re-reads and passes
        included), MACs, weight words staged in and read from the buffer, passes (the tiles' feature-map reads
        happen once per pass) and the cycles a pass layer's passes add (0 elsewhere)."""
        cm = self.cm
        word = cm.word
        e = self.e
        dram_words = dram // word
        fills = ext_reads // word + weight_fills
        drains = np.full_like(dram, io.esc_bytes // word)
        writes = fixed["out"] + grid["again"]
        reads = passes * grid["reads"] + weight_reads
        buffer_words = fills + drains + writes + reads
        rf = 4 * macs - (fixed["out_mac"] + grid["again_mac"])
        energy = dram_words * e["dram_pj"] + buffer_words * e["buffer_pj"] + rf * e["rf_pj"] + macs * e["mac_pj"]
        approx = (dram_words * float(e["dram_pj"]) + buffer_words * float(e["buffer_pj"]) + rf * float(e["rf_pj"])
                  + macs * float(e["mac_pj"]))  # the same sum in floats: 64-bit integers must not have wrapped
        if len(approx) and float(approx.max()) >= ENERGY_LIMIT:
            raise SolverError(f"a group's energy reaches {float(approx.max()):.3g} fJ, beyond the 2^62 fJ "
                              "(4.6 kJ) the energy model counts exactly; lower the energy constants or the batch")
        compute = fixed["cycles"] + grid["again_cycles"] + pass_cycles
        dram_cycles = -(-(dram * self.clock) // self.bandwidth)
        return {"dram_bytes": dram, "dram_words": dram_words, "buffer_words": buffer_words, "fills": fills,
                "drains": drains, "writes": writes, "reads": reads, "macs": macs, "rf_accesses": rf,
                "compute_cycles": compute, "dram_cycles": dram_cycles, "energy_fj": energy,
                "latency_cycles": np.maximum(compute, dram_cycles)}

    def weight_flows(self, io: GroupIO, tiles: np.ndarray, blocks: np.ndarray, family: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
        """Weight words staged in the buffer and read from it, per tiling: family 0 resident (staged once, read
        once per tile and batch block), 1 streamed (staged and read once per load with ``block`` staging, neither
        with ``none``: the weights go straight to the array), 2 in passes (staged once, read once per tile)."""
        w = io.weight_bytes // self.cm.word
        loads = tiles * blocks
        staged = np.where(family == 1, w * loads if self.staged else 0, w)
        read = np.where(family == 2, w * tiles, np.where(family == 1, w * loads if self.staged else 0, w * loads))
        return staged, read

    def pass_cycles(self, io: GroupIO, passes: np.ndarray) -> np.ndarray:
        """The cycles passes add to the one layer of a pass group: P·⌈k/a_c⌉ column lanes instead of ⌈K/a_c⌉."""
        out = np.zeros(len(passes), dtype=np.int64)
        if len(io.members) != 1:
            return out
        u = io.members[0]
        for i, p in enumerate(passes):
            if p > 1:
                k = -(-self.cm.C[u] // int(p))
                out[i] = self._positions(u) * (int(p) * layer_cycles(self.cm, u, k) - self.cycles[u])
        return out

    # -- one tiling ------------------------------------------------------------------------------------------

    def figures(self, members: Sequence[int], tiling: Tiling) -> Figures:
        """The figures of a group under one of its tilings."""
        cm = self.cm
        io = cm.io(members)
        halo = tiling.halo or "cache"
        rows, cols = self.geometry.directions(io, np.array([tiling.strips], dtype=np.int64),
                                              np.array([tiling.tile_cols], dtype=np.int64), (halo,))
        grid = self.over_grid(io, rows[halo], cols, halo == "recompute")
        one = lambda v: np.array([v], dtype=np.int64)  # noqa: E731
        family = 2 if tiling.passes > 1 else 0 if tiling.resident else 1
        tiles = tiling.strips * tiling.tile_cols
        blocks = -(-cm.batch // tiling.batch_block)
        staged, read = self.weight_flows(io, one(tiles), one(blocks), one(family))
        ext = tiling.read_bytes - tiling.weight_traffic
        got = self.combine(io, self.fixed(io), grid, dram=one(tiling.dram_bytes), ext_reads=one(ext),
                           macs=one(tiling.macs), weight_fills=staged, weight_reads=read,
                           passes=one(tiling.passes), pass_cycles=self.pass_cycles(io, one(tiling.passes)))
        return Figures(added_macs=tiling.added_macs, **{k: int(v[0]) for k, v in got.items()})


def objective_floor(cm: "CostModel", objective: str) -> int:
    """A lower bound of every schedule's objective value: the compulsory DRAM traffic for ``dram``; for energy,
    that traffic's DRAM words plus the network's own MACs and their register-file accesses; for latency, the
    larger of the network's own compute cycles and the compulsory traffic's transfer cycles (a sum of maxima is
    at least the maximum of the sums)."""
    compulsory = cm.compulsory_bytes()
    if objective == "dram":
        return compulsory
    fm = cm.figure_model
    layers = cm.network.layer_ids
    macs = sum(cm.layer_macs[u] for u in layers)
    out_mac = sum(cm.batch * cm.C[u] * cm.H[u] * cm.W[u] for u in layers if fm.has_macs[u])
    if objective == "energy":
        e = fm.e
        return compulsory // cm.word * e["dram_pj"] + macs * e["mac_pj"] + (4 * macs - out_mac) * e["rf_pj"]
    cycles = sum(fm._positions(u) * fm.cycles[u] for u in layers)
    return max(cycles, -(-(compulsory * fm.clock) // fm.bandwidth))


__all__ = ["OBJECTIVES", "OBJECTIVE_FIELDS", "UNITS", "Figures", "FigureModel", "ZERO", "layer_cycles", "objective_floor"]
