"""An independent optimum: every set partition of the layers, checked rule by rule with plain sets.

It shares only the per-group cost (CostModel.best_tiling) with the project, and re-derives the concat-free graph,
convexity, connectivity and acyclicity itself with networkx, so that it can catch a solver or evaluate() bending a
rule. Exponential:
for networks of at most about 10 layers.
"""

from __future__ import annotations

import networkx as nx

from optimus_opt import Instance
from optimus_opt.cost.cost_model import CostModel


def resolved_graph(inst: Instance) -> nx.DiGraph:
    """The written graph with every concat contracted: its readers read its inputs (cost model version 2)."""
    g = inst.network.to_networkx()
    for node in [n for n, op in g.nodes(data="op") if op == "concat"]:
        for p in g.predecessors(node):
            for c in g.successors(node):
                g.add_edge(p, c)
        g.remove_node(node)
    return g


def _valid_group(g: nx.DiGraph, block: frozenset[str]) -> bool:
    # convex: no node outside the block lies on a path between two block nodes
    outside = set(g) - block
    after = set().union(*(nx.descendants(g, u) for u in block)) & outside
    before = set().union(*(nx.ancestors(g, u) for u in block)) & outside
    if after & before:
        return False
    # connected: edges inside, or a shared reader of an outside tensor
    h = nx.Graph()
    h.add_nodes_from(block)
    for u in block:
        for p in g.predecessors(u):
            if p in block:
                h.add_edge(p, u)
            else:
                for c in g.successors(p):
                    if c in block:
                        h.add_edge(c, u)
    return nx.is_connected(h)


def _partitions(inst: Instance, g: nx.DiGraph, admit=None, max_groups: int | None = None):
    """Every set partition of the layers into valid groups that fit (``admit`` passes, at most ``max_groups``), as
    (traffic, blocks of node names), in a fixed order; whether the groups admit an order is not checked here."""
    net = inst.network
    cm = CostModel(inst)
    layers = [n for n, op in g.nodes(data="op") if op != "input"]
    cost_of: dict[frozenset[str], int | None] = {}

    def block_cost(block: frozenset[str]) -> int | None:
        if block not in cost_of:
            if not _valid_group(g, block) or (admit is not None and not admit(block)):
                cost_of[block] = None
            else:
                t = cm.best_tiling([net.index[n] for n in block])
                cost_of[block] = None if t is None else t.cost
        return cost_of[block]

    def rec(i: int, blocks: list[set[str]]):
        if i == len(layers):
            if max_groups is not None and len(blocks) > max_groups:
                return
            frozen = [frozenset(b) for b in blocks]
            costs = [block_cost(b) for b in frozen]
            if all(c is not None for c in costs):
                yield sum(costs), frozen  # type: ignore[arg-type]
            return
        name = layers[i]
        for b in blocks:
            b.add(name)
            yield from rec(i + 1, blocks)
            b.remove(name)
        blocks.append({name})
        yield from rec(i + 1, blocks)
        blocks.pop()

    yield from rec(0, [])


def _quotient(g: nx.DiGraph, blocks: list[frozenset[str]]) -> nx.DiGraph:
    """The graph of the groups: an edge from a group to each other group that reads one of its tensors."""
    q = nx.DiGraph()
    owner = {n: k for k, b in enumerate(blocks) for n in b}
    q.add_nodes_from(range(len(blocks)))
    for a, b in g.edges:
        if a in owner and b in owner and owner[a] != owner[b]:
            q.add_edge(owner[a], owner[b])
    return q


def brute_force_optimum(inst: Instance, *, acyclic: bool = True, admit=None,
                        max_groups: int | None = None) -> tuple[int | None, list[frozenset[int]]]:
    """The least cost over all valid schedules and one schedule attaining it (groups as node-id sets).

    ``acyclic=False`` drops the rule that the groups admit a topological order (to show what it costs);
    ``admit(set of names)`` rejects groups (side constraints); ``max_groups`` caps the number of groups.
    """
    g = resolved_graph(inst)
    best: list = [None, []]
    for total, frozen in _partitions(inst, g, admit, max_groups):
        if (best[0] is None or total < best[0]) and (not acyclic or nx.is_directed_acyclic_graph(_quotient(g, frozen))):
            best[0], best[1] = total, frozen
    ordered = [frozenset(inst.network.index[n] for n in b) for b in best[1]]
    ordered.sort(key=min)
    return best[0], ordered


def brute_force_optima(inst: Instance) -> tuple[int | None, list[tuple[frozenset[int], ...]]]:
    """The least cost over all valid schedules and every schedule attaining it: each optimal partition in each of
    the orders its groups admit (groups as node-id sets, in execution order)."""
    g = resolved_graph(inst)
    best: list = [None, []]
    for total, frozen in _partitions(inst, g):
        if best[0] is not None and total > best[0]:
            continue
        q = _quotient(g, frozen)
        if not nx.is_directed_acyclic_graph(q):
            continue
        ids = [frozenset(inst.network.index[n] for n in b) for b in frozen]
        orders = [tuple(ids[k] for k in order) for order in nx.all_topological_sorts(q)]
        if best[0] is None or total < best[0]:
            best[0], best[1] = total, orders
        else:
            best[1].extend(orders)
    return best[0], best[1]
