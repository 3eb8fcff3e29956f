"""The structural rules of a schedule's groups (formulations/cost-model.md §3): convex, connected, topologically ordered.

Functions here take a :class:`~optimus_opt.model.network.Network` and sets of node ids; they return ``None`` when a rule
holds and a short human reason when it does not, so that both solvers (which only need the yes/no) and
``evaluate`` (which must explain) use the same code.
"""

from __future__ import annotations

from typing import Collection, Sequence

from ..model.network import Network


def convexity_violation(net: Network, group: Collection[int]) -> list[int] | None:
    """A path that leaves ``group`` and comes back into it (as node ids), or ``None`` if the group is convex.

    Node ids are topological positions, so a path that returns to the group never passes a node beyond the
    group's last member: the search explores only those.
    """
    inside = set(group)
    last = max(inside)
    parent: dict[int, int] = {}
    stack = []
    for u in sorted(inside):
        for c in net.consumers[u]:
            if c not in inside and c < last and c not in parent:
                parent[c] = u
                stack.append(c)
    while stack:
        v = stack.pop()
        for c in net.consumers[v]:
            if c in inside:
                path = [c, v]
                while path[-1] in parent:
                    path.append(parent[path[-1]])
                return path[::-1]
            if c < last and c not in parent:
                parent[c] = v
                stack.append(c)
    return None


def components(net: Network, group: Collection[int]) -> list[list[int]]:
    """The connected components of ``group``: two layers are adjacent if an edge joins them or both read the same
    tensor produced outside the group (so sibling branches with a shared input may be fused)."""
    inside = sorted(set(group))
    root = {u: u for u in inside}

    def find(u: int) -> int:
        while root[u] != u:
            root[u] = root[root[u]]
            u = root[u]
        return u

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            root[max(ra, rb)] = min(ra, rb)

    readers: dict[int, int] = {}
    for u in inside:
        for p in net.producers[u]:
            if p in root:
                union(p, u)
            elif p in readers:
                union(readers[p], u)
            else:
                readers[p] = u
    comps: dict[int, list[int]] = {}
    for u in inside:
        comps.setdefault(find(u), []).append(u)
    return list(comps.values())


def order_violation(net: Network, groups: Sequence[Collection[int]]) -> tuple[int, int, int] | None:
    """The first (group k, tensor x, producing group j ≥ k) where group k reads a tensor not yet produced, or
    ``None`` if every group reads only network inputs and tensors of earlier groups."""
    owner: dict[int, int] = {}
    for k, g in enumerate(groups):
        for u in g:
            owner[u] = k
    for k, g in enumerate(groups):
        inside = set(g)
        for u in sorted(inside):
            for p in net.producers[u]:
                if p not in inside and p in owner and owner[p] >= k:
                    return (k, p, owner[p])
    return None


def _quotient(net: Network, groups: Sequence[Collection[int]]):
    """The groups' quotient graph: an edge k → j when group j reads a tensor of group k."""
    import networkx as nx

    owner = {u: k for k, g in enumerate(groups) for u in g}
    q = nx.DiGraph()
    q.add_nodes_from(range(len(groups)))
    for u, k in owner.items():
        for c in net.consumers[u]:
            if c in owner and owner[c] != k:
                q.add_edge(k, owner[c])
    return q


def quotient_cycle(net: Network, groups: Sequence[Collection[int]]) -> list[int] | None:
    """A cycle among the groups (as group positions, first repeated last), or ``None``.

    Convex groups can still depend on each other in a cycle (edges a1→a2, b1→b2, a1→b2, b1→a2 with groups
    {a1, b2} and {b1, a2}); no order of such groups is valid.
    """
    import networkx as nx

    try:
        cycle = nx.find_cycle(_quotient(net, groups))
    except nx.NetworkXNoCycle:
        return None
    return [a for a, _ in cycle] + [cycle[0][0]]


def quotient_order(net: Network, groups: Sequence[Collection[int]]) -> list[int] | None:
    """An order of the groups (positions) in which each reads only network inputs and earlier groups' tensors,
    by their lowest layer id where the order is free; ``None`` when the groups lie on a cycle (:func:`quotient_cycle`
    names one)."""
    import networkx as nx

    q = _quotient(net, groups)
    if not nx.is_directed_acyclic_graph(q):
        return None
    return list(nx.lexicographical_topological_sort(q, key=lambda k: min(groups[k])))
