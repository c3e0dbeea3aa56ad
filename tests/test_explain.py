"""explain(): backward one node at a time, checked against backward(), torch and hand derivations."""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET

import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from micrograd.engine import Value, linear, total
from micrograd.explain import explain, node_names
from micrograd.viz import HIGHLIGHT, GraphvizNotFound

SVG = "{http://www.w3.org/2000/svg}"


# ----------------------------------------------------------------------------------------------
# The steps, by hand


def test_each_step_writes_the_chain_rule_in_numbers_derived_by_hand(lecture_graph):
    nodes = lecture_graph()
    steps = explain(nodes["L"])
    by_node = {step.name: step for step in steps}
    # the reverse of the order they were computed in (c, d, e, L): the output first, then backwards
    assert [step.name for step in steps] == ["L", "e", "d", "c"]
    assert set(by_node) == {"L", "d", "c", "e"}  # one step per op node; leaves pass nothing on
    c = by_node["c"]
    assert (c.op, c.formula, c.upstream) == ("*", "c = a * b", 2.0)  # dL/dc = f = 2
    assert [(t.name, t.local_grad) for t in c.terms] == [("a", -3.0), ("b", 2.0)]  # dc/da = b, dc/db = a
    assert c.equations()[0] == "dL/da += dL/dc * dc/da = 2.0000 * -3.0000 = -6.0000"
    assert c.equations()[-1] == "dL/db += dL/dc * dc/db = 2.0000 * 2.0000 = 4.0000"
    assert by_node["d"].equations() == [
        "dL/dc += dL/dd * dd/dc = 1.0000 * 2.0000 = 2.0000",
        "dL/df += dL/dd * dd/df = 1.0000 * -6.0000 = -6.0000",
    ]
    assert by_node["e"].formula == "e = a * 4"  # the constant is written as a number


def test_a_node_reached_by_two_paths_shows_both_contributions_added(lecture_graph):
    nodes = lecture_graph()
    steps = explain(nodes["L"])
    lines = [line for step in steps for line in step.equations() if line.startswith("dL/da")]
    # via c: dL/dc * dc/da = 2 * -3 = -6; via e: dL/de * de/da = 1 * 4 = 4; total -2
    via_c = "dL/da += dL/dc * dc/da = 2.0000 * -3.0000 = -6.0000"
    via_e = "dL/da += dL/de * de/da = 1.0000 * 4.0000 = 4.0000"
    assert lines in (
        [via_c, via_e, "dL/da = -6.0000 + 4.0000 = -2.0000"],
        [via_e, via_c, "dL/da = 4.0000 + -6.0000 = -2.0000"],
    )
    second = [t for step in steps for t in step.terms if t.name == "a"][1]
    assert second.adds_to_earlier and second.grad_after == -2.0
    assert nodes["a"].grad == -2.0


def test_the_same_operand_twice_accumulates_twice():
    x = Value(3.0, label="x")
    y = x * x
    y.label = "y"
    (step,) = explain(y)
    assert step.equations() == [
        "dy/dx += dy/dy * dy/dx = 1.0000 * 3.0000 = 3.0000",
        "dy/dx += dy/dy * dy/dx = 1.0000 * 3.0000 = 3.0000",
        "dy/dx = 3.0000 + 3.0000 = 6.0000",
    ]
    assert x.grad == 6.0  # d(x^2)/dx = 2x


def test_unlabelled_nodes_are_named_n1_n2_in_topological_order_in_every_rendering(tmp_path):
    x = Value(0.5)
    n1_label = Value(2.0, label="n1")  # a user's own "n1" keeps its name; generated names skip it
    out = (x * n1_label).tanh()
    names = node_names(out)
    assert sorted(names.values()) == ["n1", "n2", "n3", "n4"]
    assert names[n1_label] == "n1" and names[x] in ("n2", "n3")
    steps = explain(out)
    out_name = names[out]
    assert out_name == "n4" and steps[0].formula == f"n4 = tanh({names[out._prev[0]]})"
    text, markdown, page = steps.to_text(), steps.to_markdown(), steps.to_html()
    for name in names.values():
        assert name in text and name in markdown and name in page
    (svg_path,) = steps.render_steps(tmp_path)[:1]
    svg_texts = {"".join(t.itertext()) for t in ET.parse(svg_path).getroot().iter(f"{SVG}text")}
    assert set(names.values()) <= svg_texts


# ----------------------------------------------------------------------------------------------
# The same gradients as backward() and torch


OPS = [
    "add",
    "sub",
    "mul",
    "div",
    "tanh",
    "sigmoid",
    "relu",
    "square",
    "neg",
    "abs",
    "exp",
    "linear",
    "sum",
    "cmul",
]


def build(leaves, program, lib):
    """Build the same expression with micrograd ('mg') or torch ('torch'); every node in creation order."""
    nodes = list(leaves)
    for op, i, j, k in program:
        a, b, c = nodes[i % len(nodes)], nodes[j % len(nodes)], nodes[k % len(nodes)]
        if op == "add":
            out = a + b
        elif op == "sub":
            out = a - b
        elif op == "mul":
            out = a * b
        elif op == "div":
            out = a / (b * b + 1.0)
        elif op == "tanh":
            out = a.tanh() if lib == "mg" else torch.tanh(a)
        elif op == "sigmoid":
            out = a.sigmoid() if lib == "mg" else torch.sigmoid(a)
        elif op == "relu":
            out = a.relu() if lib == "mg" else torch.relu(a)
        elif op == "square":
            out = a**2
        elif op == "neg":
            out = -a
        elif op == "abs":
            out = abs(a)
        elif op == "exp":
            out = a.tanh().exp() if lib == "mg" else torch.exp(torch.tanh(a))
        elif op == "linear":  # w = (a, b), x = (c, 0.5), bias 0.25
            out = linear([a, b], [c, 0.5], 0.25) if lib == "mg" else a * c + b * 0.5 + 0.25
        elif op == "sum":
            out = total([a, b, c, 1.5]) if lib == "mg" else a + b + c + 1.5
        else:
            out = 2.5 * a
        nodes.append(out)
    return nodes


@settings(max_examples=40)
# one node in three slots of one linear op: the order of the additions shows in the last bit
@example(leaves=[1.192092896e-07], program=[("linear", 0, 0, 0)])
@given(
    leaves=st.lists(st.floats(-2.0, 2.0, allow_nan=False), min_size=1, max_size=4),
    program=st.lists(
        st.tuples(st.sampled_from(OPS), st.integers(0, 50), st.integers(0, 50), st.integers(0, 50)),
        min_size=1,
        max_size=8,
    ),
)
def test_explain_leaves_every_grad_exactly_as_backward_and_as_torch(leaves, program):
    explained = build([Value(x) for x in leaves], program, "mg")
    steps = explain(explained[-1])
    reference = build([Value(x) for x in leaves], program, "mg")
    reference[-1].backward()
    assert [n.grad for n in explained] == [n.grad for n in reference]  # bit for bit, every node

    tensors = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in leaves]
    build(tensors, program, "torch")[-1].backward()
    for node, tensor in zip(explained, tensors):
        expected = 0.0 if tensor.grad is None else tensor.grad.item()
        assert math.isclose(node.grad, expected, rel_tol=1e-9, abs_tol=1e-12), (node.grad, expected)
    final = steps.grads_after(len(steps))
    assert all(final[n] == n.grad for n in explained if n in final)


def test_a_zero_upstream_is_skipped_as_backward_skips_it_even_where_a_local_derivative_is_undefined():
    x, z = Value(0.0, label="x"), Value(0.0, label="z")
    root_of_x = x.sqrt()  # d sqrt(x)/dx = 0.5 / sqrt(x): undefined at 0
    root_of_x.label = "r"
    tripled = x * 3.0
    tripled.label = "t"
    y = root_of_x * z + tripled  # dy/dr = z = 0, so backward never needs dr/dx
    y.label = "y"
    steps = explain(y)
    reference_x, reference_z = Value(0.0), Value(0.0)
    (reference_x.sqrt() * reference_z + reference_x * 3.0).backward()
    assert (x.grad, z.grad, root_of_x.grad) == (reference_x.grad, reference_z.grad, 0.0) == (3.0, 0.0, 0.0)
    (skipped,) = [step for step in steps if step.name == "r"]
    assert skipped.skipped
    assert skipped.equations() == ["dy/dr = 0, so backward skips r: it would add 0 to each operand's grad"]
    (term,) = skipped.terms
    assert (term.name, term.local_grad, term.contribution) == ("x", None, 0.0)
    assert term.grad_after == term.grad_before and skipped.updated() == []  # untouched
    page = steps.to_html()
    data = json.loads(page.split('id="grad-data">')[1].split("</script>")[0])
    assert data["steps"][skipped.number - 1] == {}  # the page marks no grad as changed by it
    # x gets one contribution, 3 from x * 3: no sum with the skipped step's nothing
    x_lines = [line for step in steps for line in step.equations() if line.startswith("dy/dx")]
    assert x_lines == ["dy/dx += dy/dt * dt/dx = 1.0000 * 3.0000 = 3.0000"]
    assert r"\frac{\partial \text{y}}{\partial \text{r}} &= 0" in steps.to_latex()


def test_nothing_behind_a_relu_at_zero_gets_a_step_as_in_backward():
    x = Value(2.0, label="x")
    shifted = x - 2.0
    shifted.label = "s"
    r = shifted.relu()  # relu(0) = 0 and its slope there is 0: backward stops walking here
    r.label = "r"
    out = r * 3.0 + x
    out.label = "out"
    steps = explain(out)
    assert "s" not in [step.name for step in steps]
    assert [step.name for step in steps][-1] == "r"
    assert steps[-1].equations() == ["dout/ds += dout/dr * dr/ds = 3.0000 * 0.0000 = 0.0000"]
    assert (x.grad, shifted.grad) == (1.0, 0.0)  # d out/dx = 0 * 3 + 1, by hand


def test_explain_shows_one_pass_whatever_grad_held_before(lecture_graph):
    fresh, used = lecture_graph(), lecture_graph()
    fresh_steps = explain(fresh["L"])
    used["L"].backward()
    used["L"].backward()  # the leaves now hold two passes
    used_steps = explain(used["L"])
    again = explain(used["L"])
    assert str(used_steps) == str(fresh_steps) == str(again)
    # afterwards .grad holds one pass from zero: by hand a = -2 (dL/dc * dc/da + 4 = 2 * -3 + 4)
    assert used["a"].grad == fresh["a"].grad == -2.0


def test_a_leaf_has_nothing_to_explain():
    x = Value(1.0, label="x")
    steps = explain(x)
    assert len(steps) == 0 and x.grad == 1.0
    assert "nothing to backpropagate" in steps.to_text()
    assert "Step 0 / 0" in steps.to_html()


def test_explain_refuses_a_non_value():
    with pytest.raises(TypeError, match="root must be a Value, got float 2.0"):
        explain(2.0)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------
# Renderings


def test_text_table_lists_each_operand_with_local_grad_before_and_after(lecture_graph):
    nodes = lecture_graph()
    steps = explain(nodes["L"])
    text = str(steps)
    assert text == steps.to_text()
    block = text.split("Step ")[[s.name for s in steps].index("c") + 1]
    assert block.startswith(
        f"{[s.name for s in steps].index('c') + 1}/4: c = a * b    upstream dL/dc = 2.0000"
    )
    rows = [line.split() for line in block.splitlines()[1:4]]
    assert rows[0] == ["operand", "data", "local", "grad", "grad", "before", "grad", "after"]
    # a: data 2, local b = -3, grad 0 -> -6 (if c's step runs first) or 4 -> -2 (if e's does)
    assert rows[1][:3] == ["a", "2.0000", "-3.0000"] and rows[1][4] in ("-6.0000", "-2.0000")
    assert rows[2] == ["b", "-3.0000", "2.0000", "0.0000", "4.0000"]
    for step in steps:
        for equation in step.equations():
            assert equation in text


def test_markdown_has_a_table_per_step_and_escapes_labels():
    a = Value(2.0, label="a|b*")
    out = a * 3.0
    out.label = "out_1"
    markdown = explain(out).to_markdown()
    assert "### Step 1/1: out\\_1 = a\\|b\\* \\* 3" in markdown
    assert "| operand | data | local grad | grad before | grad after |" in markdown
    rows = [line for line in markdown.splitlines() if line.startswith("| a")]
    assert rows == ["| a\\|b\\* | 2.0000 | 3.0000 | 0.0000 | 3.0000 |"]
    assert len(re.findall(r"(?<!\\)\|", rows[0])) == 6  # five cells: the label's pipe is escaped
    assert (
        "- dout\\_1/da\\|b\\* += dout\\_1/dout\\_1 \\* dout\\_1/da\\|b\\* = 1.0000 \\* 3.0000 = 3.0000"
        in markdown
    )


def test_latex_writes_fractions_and_escapes_labels(lecture_graph):
    nodes = lecture_graph()
    nodes["a"].label = "a_1 & {x} 50%"
    latex = explain(nodes["L"]).to_latex()
    assert latex.count(r"\begin{align*}") == latex.count(r"\end{align*}") == 1
    assert r"\text{a\_1 \& \{x\} 50\%}" in latex
    assert (
        r"\frac{\partial \text{L}}{\partial \text{b}} &\mathrel{+}= "
        r"\frac{\partial \text{L}}{\partial \text{c}} \, \frac{\partial \text{c}}{\partial \text{b}}"
        r" = 2.0000 \cdot 2.0000 = 4.0000 \\"
    ) in latex
    assert r"2.0000 \cdot (-3.0000) = -6.0000" in latex  # negative factors in parentheses
    unescaped = re.sub(r"\\[{}]", "", latex)
    assert unescaped.count("{") == unescaped.count("}")
    document = explain(lecture_graph()["L"]).to_latex(document=True)
    assert document.startswith(r"\documentclass{article}") and r"\usepackage{amsmath}" in document


def test_a_linear_node_is_written_in_its_operands_order_and_explained_in_backwards_order():
    w1, w2, x1, x2 = (Value(v, label=n) for v, n in ((0.5, "w1"), (-1.0, "w2"), (2.0, "x1"), (3.0, "x2")))
    out = linear([w1, w2], [x1, x2], 0.25)
    out.label = "out"
    steps = explain(out)
    (step,) = steps
    assert step.formula == "out = linear(w1, w2, x1, x2, 0.25)"
    tex = r"\operatorname{\text{linear}}(\text{w1}, \text{w2}, \text{x1}, \text{x2}, 0.25)"
    assert tex in steps.to_latex()
    # backward adds into w_i and x_i in pairs, then b: d out/d w_i = x_i, d out/d x_i = w_i
    assert [(t.name, t.local_grad) for t in step.terms] == [
        ("w1", 2.0),
        ("x1", 0.5),
        ("w2", 3.0),
        ("x2", -1.0),
        ("0.25", 1.0),
    ]
    assert "one node at a time (1 step)" in steps.to_text()


def test_render_steps_draws_one_image_per_step_with_its_node_highlighted(tmp_path, lecture_graph):
    nodes = lecture_graph()
    steps = explain(nodes["L"])
    paths = steps.render_steps(tmp_path / "steps")
    assert [p.name for p in paths] == ["step-001.svg", "step-002.svg", "step-003.svg", "step-004.svg"]
    for step, path in zip(steps, paths):
        svg = ET.parse(path).getroot()
        red_boxes = [
            ["".join(t.itertext()) for t in g.iter(f"{SVG}text")]
            for g in svg.iter(f"{SVG}g")
            if g.get("class") == "node"
            and g.get("id", "")[1:].isdigit()
            and any(p.get("stroke") == HIGHLIGHT for p in g.iter(f"{SVG}polygon"))
        ]
        assert [box[0] for box in red_boxes] == [step.name]
    # After c's step, a and b show what the step gave them (grads after that step, not the final ones)
    c_index = [s.name for s in steps].index("c")
    svg = ET.parse(paths[c_index]).getroot()
    boxes = {
        texts[0]: texts
        for g in svg.iter(f"{SVG}g")
        if g.get("class") == "node"
        for texts in [["".join(t.itertext()) for t in g.iter(f"{SVG}text")]]
        if texts
    }
    assert boxes["b"][-1] == "grad 4.0000"
    assert boxes["a"][-1] in ("grad -6.0000", "grad -2.0000")  # -2 if e's step ran before c's
    png = steps.render_steps(tmp_path / "png", format="png")
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in png)
    with pytest.raises(ValueError, match="format='gif'"):
        steps.render_steps(tmp_path, format="gif")
    with pytest.raises(ValueError, match="highlight"):
        steps.render_steps(tmp_path, highlight=[nodes["a"]])


def test_html_page_is_one_self_contained_file_written_atomically(tmp_path, lecture_graph):
    nodes = lecture_graph()
    nodes["b"].label = "</script><script>alert(1)</script> @DATA@"
    steps = explain(nodes["L"])
    path = tmp_path / "page.html"
    page = steps.to_html(path)
    assert path.read_text(encoding="utf-8") == page
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.html"]
    assert page.count("<script") == 2  # the data and the code: the label injected nothing
    assert page.count("<svg") == 1 and 'id="prev"' in page and 'id="next"' in page
    assert "Step 1 / 4" in page
    assert page.count('<section class="step"') == 4
    lowered = page.lower()
    for loader in ("<link", "<img", "<iframe", "@import", "url(", "src=", "fetch(", "xmlhttprequest"):
        assert loader not in lowered
    assert re.findall(r"https?://[^\s\"'<>]+", page) in (
        [],
        ["http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"],
    )
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; @DATA@" in page


def test_pictures_without_dot_say_how_to_install_graphviz(tmp_path, monkeypatch, lecture_graph):
    steps = explain(lecture_graph()["L"])
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(GraphvizNotFound, match="apt-get install -y graphviz"):
        steps.to_html(tmp_path / "page.html")
    with pytest.raises(GraphvizNotFound, match="apt-get install -y graphviz"):
        steps.render_steps(tmp_path / "steps")
    assert "dL/da" in steps.to_text()  # the text renderings need no Graphviz
