"""A small helper to write network definitions as code, the way model zoos do, emitting :class:`Network`.

Each method adds one layer and returns its name, so a builder reads like the network's forward pass::

    b = NetBuilder("tiny")
    x = b.input(3, 32, 32)
    y = b.conv(x, 16, 3, padding=1)
    b.fc(b.pool(y, global_pool=True), 10)
    net = b.build()

Batch-norm and activations are folded into their producer (formulations/cost-model.md §1), so there are no layers for them.
Names are given or made unique from a prefix (``conv1``, ``conv2``, ...).
"""

from __future__ import annotations

from typing import Sequence

from ..model.network import Layer, Network, infer_shape


class NetBuilder:
    """Accumulates layers in order and builds an immutable :class:`Network`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._layers: list[Layer] = []
        self._names: set[str] = set()
        self._counters: dict[str, int] = {}
        self._shapes: dict[str, tuple[int, int, int]] = {}

    def _name(self, name: str | None, prefix: str) -> str:
        if name is None:
            while True:
                self._counters[prefix] = self._counters.get(prefix, 0) + 1
                name = f"{prefix}{self._counters[prefix]}"
                if name not in self._names:
                    break
        if name in self._names:
            raise ValueError(f"duplicate layer name '{name}' in {self.name}")
        self._names.add(name)
        return name

    def _add(self, layer: Layer) -> str:
        self._shapes[layer.name] = infer_shape(layer, [self._shapes[i] for i in layer.inputs])
        self._layers.append(layer)
        return layer.name

    def input(self, channels: int, height: int, width: int, name: str = "data") -> str:
        return self._add(Layer(name=self._name(name, "input"), op="input", shape=(channels, height, width)))

    def conv(self, x: str, channels: int, kernel: int | tuple[int, int], stride: int | tuple[int, int] = 1,
             padding: int | tuple[int, int] | tuple[int, int, int, int] = 0, dilation: int | tuple[int, int] = 1,
             groups: int = 1, bias: bool = True, name: str | None = None) -> str:
        """A convolution; ``bias`` defaults to True because a folded batch-norm leaves a per-channel bias."""
        return self._add(Layer(name=self._name(name, "conv"), op="conv", inputs=(x,), channels=channels,
                               kernel=_pair(kernel), stride=_pair(stride), padding=_pad(padding),
                               dilation=_pair(dilation), groups=groups, bias=bias))

    def dwconv(self, x: str, channels: int, kernel: int | tuple[int, int], stride: int | tuple[int, int] = 1,
               padding: int | tuple[int, int] | tuple[int, int, int, int] = 0, bias: bool = True,
               name: str | None = None) -> str:
        """A depthwise convolution (groups = channels = input channels)."""
        return self.conv(x, channels, kernel, stride, padding, groups=channels, bias=bias, name=name)

    def fc(self, x: str, channels: int, bias: bool = True, name: str | None = None) -> str:
        return self._add(Layer(name=self._name(name, "fc"), op="fc", inputs=(x,), channels=channels, bias=bias))

    def pool(self, x: str, kernel: int | tuple[int, int] = 1, stride: int | tuple[int, int] | None = None,
             padding: int | tuple[int, int] | tuple[int, int, int, int] = 0, global_pool: bool = False,
             mode: str = "max", name: str | None = None) -> str:
        """A max (or ``mode="avg"``) pool; ``global_pool=True`` reduces to (C, 1, 1)."""
        k = _pair(kernel)
        return self._add(Layer(name=self._name(name, "pool"), op="pool", inputs=(x,), kernel=k,
                               stride=_pair(stride) if stride is not None else k, padding=_pad(padding),
                               global_pool=global_pool, mode=mode))

    def add(self, *xs: str, name: str | None = None) -> str:
        return self._add(Layer(name=self._name(name, "add"), op="add", inputs=tuple(xs)))

    def mul(self, *xs: str, name: str | None = None) -> str:
        return self._add(Layer(name=self._name(name, "mul"), op="mul", inputs=tuple(xs)))

    def concat(self, xs: Sequence[str], name: str | None = None) -> str:
        return self._add(Layer(name=self._name(name, "concat"), op="concat", inputs=tuple(xs)))

    def upsample(self, x: str, scale: int, name: str | None = None) -> str:
        return self._add(Layer(name=self._name(name, "up"), op="upsample", inputs=(x,), scale=scale))

    def shape(self, x: str) -> tuple[int, int, int]:
        """The (C, H, W) of a layer added so far, for builders whose next layer depends on it."""
        return self._shapes[x]

    def build(self, outputs: Sequence[str] | None = None) -> Network:
        return Network(self.name, tuple(self._layers), outputs=tuple(outputs) if outputs is not None else None)


def _pair(v: int | tuple[int, int]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (v[0], v[1])


def _pad(v: int | tuple[int, ...]) -> tuple[int, int, int, int]:
    if isinstance(v, int):
        return (v, v, v, v)
    if len(v) == 2:
        return (v[0], v[0], v[1], v[1])
    return (v[0], v[1], v[2], v[3])
