"""Layouts are kept per input: a journey page's refresh redraws the same graph."""

from __future__ import annotations

from aisle_dashboard.svg.layout import EdgeSpec, layered_layout

NODES = [("a", 50.0, 20.0), ("b", 50.0, 20.0), ("c", 50.0, 20.0)]


def test_the_same_input_is_laid_out_once() -> None:
    edges = [EdgeSpec("ab", "a", "b"), EdgeSpec("bc", "b", "c")]
    first = layered_layout(NODES, edges, first="a")
    again = layered_layout(list(NODES), list(edges), first="a")
    assert again is first


def test_a_changed_input_gets_its_own_layout() -> None:
    chain = layered_layout(NODES, [EdgeSpec("ab", "a", "b"), EdgeSpec("bc", "b", "c")])
    fork = layered_layout(NODES, [EdgeSpec("ab", "a", "b"), EdgeSpec("ac", "a", "c")])
    wider = layered_layout(NODES, [EdgeSpec("ab", "a", "b", 90.0, 20.0), EdgeSpec("bc", "b", "c")])
    assert fork is not chain and wider is not chain
    assert fork.nodes["c"].y < chain.nodes["c"].y
    assert wider.width > chain.width
