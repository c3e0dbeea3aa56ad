"""The true path: ``highlight_path(of=node, to=root)`` marks exactly what the chain rule multiplies along.

On the seed 004 network (2-4-3-2 sigmoid units, E_total = E_d1 + E_d2), the seed's equation (2) says
E_d1 = 1/2 (target_d1 - sig(w31 * out_c1 + ...))^2 and that E_d2 does not contain w31: the path from
w31 runs w31 -> net_d1 -> out_d1 -> (target_d1 - out_d1) -> its square -> E_d1 -> E_total, and no
edge from E_d2 is on it.
"""

from __future__ import annotations

import importlib

import pytest
from drawing import SVG, ends, groups, red, svg_of, texts
from test_demos import DEMOS

from micrograd.engine import Value
from micrograd.nn import MLP
from micrograd.viz import HIGHLIGHT, draw_dot, highlight_path


@pytest.fixture
def seed_004(monkeypatch):
    monkeypatch.syspath_prepend(str(DEMOS))
    demo = importlib.import_module("004_sigmoid_chain")
    E, errors, values, net, out = demo.build(demo.initial_weights())
    E.backward()
    return E, values["d"][0][0]


def lit(svg) -> tuple[set[str], set[tuple[str, str]]]:
    """The names of the highlighted boxes, and the highlighted edges as (from, to) names of values:
    an edge into an op node counts as an edge into the value the op makes."""
    nodes = groups(svg, "node")
    names = {gid: texts(g)[0] for gid, g in nodes.items() if gid[1:].isdigit()}
    boxes = {names[gid] for gid in names if red(nodes[gid], HIGHLIGHT)}
    ops = {gid for gid, g in nodes.items() if gid.endswith("-op") and red(g, HIGHLIGHT)}
    edges = set()
    for edge in groups(svg, "edge").values():
        if red(edge, HIGHLIGHT):
            tail, head = ends(edge)
            if tail.endswith("-op"):
                edges.add(("op", names[tail[: -len("-op")]]))
            else:
                edges.add((names[tail], names[head.removesuffix("-op")]))
    return boxes, edges | {("op node", names[op[: -len("-op")]]) for op in ops}


def test_the_path_from_w31_is_the_seeds_chain_and_nothing_else(seed_004):
    E, w31 = seed_004
    svg = svg_of(draw_dot(E, path_from=w31))
    boxes, edges = lit(svg)
    # n1 = target_d1 - out_d1 and n2 = n1 ** 2 (forward order: E_d1's terms come first)
    chain = ["w31", "net_d1", "out_d1", "n1", "n2", "E_d1", "E_total"]
    assert boxes == set(chain)
    assert {e for e in edges if e[0] not in ("op", "op node")} == set(zip(chain, chain[1:]))
    assert {e[1] for e in edges if e[0] == "op"} == set(chain[1:])  # each op -> its value
    assert {e[1] for e in edges if e[0] == "op node"} == set(chain[1:])
    assert ("E_d2", "E_total") not in edges  # the term that does not contain w31
    assert ("out_c1", "net_d1") not in edges and ("target_d1", "n1") not in edges
    names = [t for t in svg.iter(f"{SVG}text")]
    assert "on a path from w31 to E_total" in ["".join(t.itertext()) for t in names]


def test_highlight_path_gives_the_values_on_every_path_and_draws_the_same(seed_004):
    E, w31 = seed_004
    path = highlight_path(of=w31, to=E)
    assert {v.label for v in path.values if v.label} == {"w31", "net_d1", "out_d1", "E_d1", "E_total"}
    assert len(path.values) == 7
    assert lit(svg_of(draw_dot(E, highlight=path))) == lit(svg_of(draw_dot(E, path_from=w31)))


def test_two_paths_are_both_marked_and_a_leaf_off_the_graph_is_refused():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    c = a * b
    c.label = "c"
    out = c + a  # a reaches out directly and through c
    out.label = "out"
    boxes, edges = lit(svg_of(draw_dot(out, path_from=a)))
    assert boxes == {"a", "c", "out"}
    assert {e for e in edges if e[0] not in ("op", "op node")} == {("a", "c"), ("c", "out"), ("a", "out")}
    with pytest.raises(ValueError, match="not in the graph"):
        highlight_path(of=Value(1.0), to=out)
    with pytest.raises(ValueError, match="highlight= or path_from=, not both"):
        draw_dot(out, path_from=a, highlight=[c])


def test_in_a_network_the_path_from_one_weight_runs_through_its_neuron_only():
    model = MLP(2, [4, 4, 1], activation="tanh", seed=0)
    loss = (model([1.0, -2.0]) - 1.0) ** 2
    loss.label = "loss"
    w = model.layers[1].neurons[2].w[0]
    svg = svg_of(draw_dot(loss, model=model, path_from=w))
    boxes, _ = lit(svg)
    # L1.N2.w0 -> L1.N2's sum -> its tanh -> L2.N0's sum -> (out - 1) -> its square, the loss
    assert len(boxes) == 6 and "L1.N2.w0" in boxes and "loss" in boxes
    assert not any(name.startswith(("L1.N0", "L1.N1", "L1.N3", "L0.")) for name in boxes)
