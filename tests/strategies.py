"""Hypothesis strategies: random small DNN graphs with residual skips, branches, concats (nested, and of one
input), strides, pools, upsampling, reductions and squeeze-excitation gates, always valid by construction; and
instances of them under either tiling model whose buffer lies where fusing layers is a real choice."""

from __future__ import annotations

import itertools
from typing import Sequence

from hypothesis import strategies as st

from optimus_opt import Accelerator, Instance, Network
from optimus_opt.cost.cost_model import CostModel
from optimus_opt.model.network import Layer, infer_shape


@st.composite
def networks(draw, min_layers: int = 2, max_layers: int = 10, max_hw: int = 24) -> Network:
    n_layers = draw(st.integers(min_layers, max_layers))
    c0 = draw(st.sampled_from([3, 4, 8, 16]))
    h0 = draw(st.integers(4, max_hw))
    w0 = draw(st.integers(2, 12))
    layers = [Layer(name="in0", op="input", shape=(c0, h0, w0))]
    shapes = {"in0": (c0, h0, w0)}
    if draw(st.booleans()) and n_layers > 3:  # a second network input of the same shape
        layers.append(Layer(name="in1", op="input", shape=(c0, h0, w0)))
        shapes["in1"] = (c0, h0, w0)
    names = [l.name for l in layers]
    def count() -> int:
        return len([l for l in layers if l.op not in ("input", "concat")])

    while count() < n_layers:
        i = len(layers)
        # like a DNN: mostly a chain, with branches and skips reaching back at most four tensors
        src = names[-1] if draw(st.integers(0, 9)) < 7 else draw(st.sampled_from(names[-4:]))
        c, h, w = shapes[src]
        op = draw(st.sampled_from(["conv", "conv", "conv", "pool", "add", "concat", "concat1", "upsample", "mul", "fc",
                                   "se"]))
        name = f"l{i}"
        layer: Layer | None = None
        if op == "conv":
            k = draw(st.sampled_from([1, 3, 5]))
            s = draw(st.sampled_from([1, 1, 2]))
            d = draw(st.sampled_from([1, 1, 2])) if k > 1 else 1
            pad = draw(st.integers(0, (k - 1) * d // 2 + 1))
            if d * (k - 1) + 1 > h + 2 * pad or d * (k - 1) + 1 > w + 2 * pad:
                k, d, pad = 1, 1, 0
            depthwise = draw(st.booleans()) and c > 1
            k_out = c if depthwise else draw(st.sampled_from([4, 8, 16, 32, 48]))
            layer = Layer(name=name, op="conv", inputs=(src,), channels=k_out, kernel=(k, k), stride=(s, s),
                          padding=(pad, pad, pad, pad), dilation=(d, d), groups=c if depthwise else 1,
                          bias=draw(st.booleans()))
        elif op == "pool":
            if draw(st.booleans()):
                layer = Layer(name=name, op="pool", inputs=(src,), global_pool=True, mode="avg")
            elif h >= 2 and w >= 2:
                layer = Layer(name=name, op="pool", inputs=(src,), kernel=(2, 2), stride=(2, 2))
        elif op in ("add", "mul", "concat"):
            same = [n for n in names[-4:] if n != src and (shapes[n] == shapes[src] if op != "concat"
                                                            else shapes[n][1:] == shapes[src][1:])]
            if same:
                other = draw(st.sampled_from(same))
                layer = Layer(name=name, op=op, inputs=(src, other))
        elif op == "concat1":
            layer = Layer(name=name, op="concat", inputs=(src,))
        elif op == "se" and h * w > 1 and c * 2 <= 64 and count() + 4 <= n_layers:
            # squeeze-excitation: global pool, one or two fc layers back to c channels, a broadcast mul (or add)
            squeeze = [Layer(name=f"{name}gp", op="pool", inputs=(src,), global_pool=True, mode="avg")]
            if draw(st.booleans()):
                squeeze.append(Layer(name=f"{name}r", op="fc", inputs=(squeeze[-1].name,),
                                     channels=max(1, c // 2)))
            squeeze.append(Layer(name=f"{name}e", op="fc", inputs=(squeeze[-1].name,), channels=c))
            for extra in squeeze:
                shapes[extra.name] = infer_shape(extra, [shapes[s] for s in extra.inputs])
                layers.append(extra)
                names.append(extra.name)
            layer = Layer(name=name, op=draw(st.sampled_from(["mul", "mul", "add"])),
                          inputs=(src, squeeze[-1].name))
        elif op == "upsample":
            if h <= 12:
                layer = Layer(name=name, op="upsample", inputs=(src,), scale=2)
        elif op == "fc":
            if c * h * w <= 4096:
                layer = Layer(name=name, op="fc", inputs=(src,), channels=draw(st.sampled_from([10, 32])))
        if layer is None:
            layer = Layer(name=name, op="conv", inputs=(src,), channels=8)
        shapes[name] = infer_shape(layer, [shapes[s] for s in layer.inputs])
        layers.append(layer)
        names.append(name)
    # inputs nobody reads are invalid: let the first layer read them
    read = {s for l in layers for s in l.inputs}
    for l in list(layers):
        if l.op == "input" and l.name not in read:
            layers.remove(l)
    return Network("random", tuple(layers))


#: The tiling models and halo modes an instance may draw (cost model versions 2 and 3).
TILINGS = ("strips", "tiles")
HALOS = ("choose", "cache", "recompute")
#: The buffers instances drew before they were drawn near the network's thresholds: kept for a share of the draws,
#: so that tests still meet buffers far below every layer's need and far above the whole network's.
FIXED_BUFFERS = (2048, 4096, 8192, 16384, 65536, 262144)


def buffer_needs(cm: CostModel, group: Sequence[int]) -> list[int]:
    """The buffer capacities (bytes) at which the group's least cost changes, in increasing order: what each of its
    tilings that no other beats in both buffer and bytes needs (``CostModel.tiling_options``). They do not depend
    on the model's own buffer; the first is the least buffer at which the group fits at all."""
    return [need for need, _ in cm.tiling_options(group)]


@st.composite
def instances(draw, min_layers: int = 2, max_layers: int = 10, tilings: Sequence[str] = TILINGS,
              fixed_share: int = 8) -> Instance:
    """A random network on an accelerator whose buffer is drawn where fusion is a real choice.

    Random networks have tiny tensors, so a buffer from a fixed list is nearly always below some layer's need (no
    schedule) or above the whole network's (one group at the compulsory traffic). The buffer is therefore one of
    the capacities at which a group's cost changes (:func:`buffer_needs` of each layer alone, of a run of 2 to 4
    consecutive layers and of the whole network), or one byte short of it, from the least at which every layer
    fits alone up to, not including, the one at which the whole network runs as one group at its least cost. One
    draw in 20 takes such a capacity below that range instead (some layer then fits only fused, or nowhere: the
    instance may be infeasible), and one in ``fixed_share`` (0: never) a buffer from :data:`FIXED_BUFFERS`.
    ``tilings`` are the cost models drawn from; ``"tiles"`` also draws a halo mode."""
    net = draw(networks(min_layers, max_layers))
    tiling = draw(st.sampled_from(tuple(tilings)))
    acc = Accelerator(buffer_bytes=FIXED_BUFFERS[-1], word_bytes=draw(st.sampled_from([1, 2])),
                      channel_tile=draw(st.sampled_from([4, 8, 16])),
                      weight_staging=draw(st.sampled_from(["block", "none"])), tiling=tiling,
                      halo=draw(st.sampled_from(HALOS)) if tiling == "tiles" else "choose")
    batch = draw(st.sampled_from([1, 1, 2, 3, 4]))

    def at(buffer: int) -> Instance:  # named after its own buffer
        return Instance(net, acc.with_overrides(buffer_bytes=buffer), batch)

    # rare branches test for the last value, not 0: hypothesis draws 0 far more often than its share
    if fixed_share and draw(st.integers(0, fixed_share - 1)) == fixed_share - 1:
        return at(draw(st.sampled_from(FIXED_BUFFERS)))
    cm = CostModel(at(FIXED_BUFFERS[-1]))  # the needs do not depend on the buffer
    layers = list(net.layer_ids)
    start = draw(st.integers(0, len(layers) - 1))
    window = layers[start:start + draw(st.integers(2, 4))]  # a run of the topological order: convex
    alone = [buffer_needs(cm, [u]) for u in layers]
    whole = buffer_needs(cm, layers)
    needs = sorted({*itertools.chain(*alone), *buffer_needs(cm, window), *whole})
    low, high = max(n[0] for n in alone), whole[-1]
    if draw(st.integers(0, 19)) == 19:
        return at(draw(st.sampled_from([b for b in needs if b < low] or [max(1, low // 2)])))
    buffer = draw(st.sampled_from([b for b in needs if low <= b < high] or [low]))
    if buffer > low:
        buffer -= draw(st.sampled_from([0, 0, 1]))  # a need, or one byte short of it
    return at(buffer)
