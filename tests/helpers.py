"""Small builders shared by the tests."""

from __future__ import annotations

from typing import Any, Sequence

from optimus_opt import Accelerator, Instance, Network
from optimus_opt.model.network import Layer


def make_instance(layers: Sequence[dict[str, Any]], buffer: int, *, tc: int = 8, word: int = 2, batch: int = 1,
                  outputs: Sequence[str] | None = None, name: str = "t") -> Instance:
    """An instance from formulations/formats.md layer dicts."""
    net = Network(name, tuple(Layer.from_dict(d) for d in layers), tuple(outputs) if outputs else None)
    return Instance(net, Accelerator(buffer_bytes=buffer, word_bytes=word, channel_tile=tc), batch=batch)


def local_costs(cm, size: int, overlap: int) -> list:
    """The local cost (``_LocalCost``, with its ``core`` and ``window`` bitsets) of each of the segment bound's
    windows, as it builds them (formulations/segment-bound.md)."""
    from optimus_opt.solvers import segment_bound

    cores = segment_bound.segments(cm, size)
    local_cost = segment_bound.local_costs(cm, cores.order, cores.reach)
    return [local_cost(cores.core(i), cores.window(i, overlap)) for i in range(len(cores))]


def ids(inst: Instance, names: Sequence[str]) -> list[int]:
    return [inst.network.index[n] for n in names]


def run_cli(argv: Sequence[str], capsys) -> tuple[int, str, str]:
    """Run the CLI in this process and return (exit status, stdout, stderr); argparse's exits count like returns."""
    from optimus_opt.cli import main

    try:
        code = main(list(argv))
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 2
    out, err = capsys.readouterr()
    return code, out, err


def rel(value: float, reference: float) -> float:
    """The relative difference of ``value`` from a published ``reference``."""
    return abs(value - reference) / reference


class FakeClock:
    """A clock that only moves when told (``clock.now += seconds``), for deadlines whose tests never wait."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now
