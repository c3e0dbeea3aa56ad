"""Graph pictures: every test runs the real Graphviz ``dot`` and reads what it drew."""

from __future__ import annotations

import dataclasses
import io
import xml.etree.ElementTree as ET

import pytest
from drawing import SVG, by_name, groups, red, run_dot, svg_of, texts, title, value_boxes
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from micrograd.engine import Value, linear, total
from micrograd.files import write_atomic
from micrograd.viz import (
    HIGHLIGHT,
    ROLE_COLORS,
    GraphvizNotFound,
    draw_dot,
    escape_label,
    render,
)

# ----------------------------------------------------------------------------------------------
# What the picture shows


def test_svg_shows_each_value_label_data_and_grad_and_the_ops_and_constants(lecture_graph):
    nodes = lecture_graph()
    nodes["L"].backward()
    svg = svg_of(draw_dot(nodes["L"]))
    # by hand: dL/dd = dL/de = 1, dL/dc = f = 2, dL/df = c = -6, dL/db = 2 * a = 4,
    # dL/da = 2 * b + 1 * 4 = -2 (two paths)
    expected = {
        "a": ("2.000", "-2.000"),
        "b": ("-3.000", "4.000"),
        "f": ("2.000", "-6.000"),
        "c": ("-6.000", "2.000"),
        "d": ("-12.00", "1.000"),
        "e": ("8.000", "1.000"),
        "L": ("-4.000", "1.000"),
    }
    boxes = value_boxes(svg)
    assert set(boxes) == set(expected)
    for name, (data, grad) in expected.items():
        assert boxes[name] == [name, f"data {data}", f"grad {grad}"]
    ops = sorted(texts(g)[0] for gid, g in groups(svg, "node").items() if gid.endswith("-op"))
    assert ops == ["*", "*", "*", "+"]
    constants = [texts(g)[0] for gid, g in groups(svg, "node").items() if "-c" in gid]
    assert constants == ["4"]  # e = a * 4: the constant is drawn, with an edge into its op
    assert len(groups(svg, "edge")) == 3 * 3 + 3  # three binary ops (2 in, 1 out) and + (2 in, 1 out)


def test_show_grad_false_leaves_out_the_grad_cell(lecture_graph):
    nodes = lecture_graph()
    svg = svg_of(draw_dot(nodes["L"], show_grad=False))
    assert value_boxes(svg)["c"] == ["c", "data -6.000"]


def test_each_role_has_its_own_colour():
    x = Value(1.5, label="x")
    w = Value(-0.5, label="L0.N0.w0")  # labelled as micrograd.nn labels a weight
    k = Value(3.0, label="k")  # an unlabelled-as-parameter leaf made a parameter by params=
    out = (w * x + k).tanh()
    out.label = "out"
    svg = svg_of(draw_dot(out, params=[k]))
    fills = {}
    for gid, g in groups(svg, "node").items():
        if gid[1:].isdigit():
            polygon_fills = {p.get("fill") for p in g.iter(f"{SVG}polygon")} - {"none"}
            fills[texts(g)[0]] = polygon_fills
    assert fills["x"] == {ROLE_COLORS["input"]}
    assert fills["L0.N0.w0"] == fills["k"] == {ROLE_COLORS["parameter"]}
    assert fills["out"] == {ROLE_COLORS["output"]}
    # the unlabelled w * x and (w * x) + k are n1 and n2
    assert fills["n1"] == fills["n2"] == {ROLE_COLORS["intermediate"]}
    assert len({ROLE_COLORS[r] for r in ("input", "parameter", "intermediate", "output")}) == 4
    legend = " ".join(texts(svg))
    assert all(role in legend for role in ("input", "parameter", "intermediate", "output"))


def test_node_colors_override_the_role_colour_and_legend_explains_them(lecture_graph):
    nodes = lecture_graph()
    colors = {nodes["a"]: "#ff0000", nodes["c"]: "#00ff00"}
    graph = draw_dot(nodes["L"], node_colors=colors, legend={"#ff0000": "level 0", "#00ff00": "level 1"})
    svg = svg_of(graph)
    for gid, g in groups(svg, "node").items():
        if gid[1:].isdigit() and texts(g)[0] in ("a", "c"):
            assert {p.get("fill") for p in g.iter(f"{SVG}polygon")} - {"none"} == {
                "#ff0000" if texts(g)[0] == "a" else "#00ff00"
            }
    assert "level 0" in texts(svg) and "level 1" in texts(svg)
    assert "input" not in texts(svg)  # the role legend would describe the wrong colours


def test_highlight_marks_the_node_its_op_and_its_incoming_edges_only(lecture_graph):
    nodes = lecture_graph()
    svg = svg_of(draw_dot(nodes["L"], highlight=[nodes["c"]]))
    ids = {texts(g)[0]: gid for gid, g in groups(svg, "node").items() if gid[1:].isdigit()}

    a, b, c = ids["a"], ids["b"], ids["c"]
    lit = sorted(gid for gid, g in groups(svg, "node").items() if red(g, HIGHLIGHT))
    assert lit == sorted([c, f"{c}-op"])
    red_edges = sorted(title(g) for g in groups(svg, "edge").values() if red(g, HIGHLIGHT))
    assert red_edges == sorted([f"{a}->{c}-op", f"{b}->{c}-op", f"{c}-op->{c}"])  # c = a * b


# ----------------------------------------------------------------------------------------------
# Files


def test_unlabelled_nodes_are_named_n1_n2_in_forward_order_as_explain_names_them():
    x, y = Value(3.0, label="x"), Value(-2.0, label="y")
    out = (x * y + x).tanh()  # forward order: x * y, then + x, then tanh
    boxes = value_boxes(svg_of(draw_dot(out)))
    assert boxes["n1"][1] == "data -6.000"  # 3 * -2
    assert boxes["n2"][1] == "data -3.000"  # -6 + 3
    assert boxes["n3"][1] == "data -0.9951"  # tanh(-3) = -0.99505, to 4 significant digits by hand
    steps = __import__("micrograd.explain", fromlist=["explain"]).explain(out)
    assert [step.name for step in steps] == ["n3", "n2", "n1"]  # explain's names: the same nodes


def test_a_user_label_n2_keeps_its_name_and_the_generated_names_skip_it():
    a = Value(1.0, label="n2")
    out = (a * 2.0) * 3.0
    boxes = value_boxes(svg_of(draw_dot(out)))
    # forward order: the leaf labelled n2, a * 2 is n1, (a * 2) * 3 is n3 (n2 is taken)
    assert sorted(boxes) == ["n1", "n2", "n3"]
    assert [boxes[name][1] for name in ("n2", "n1", "n3")] == ["data 1.000", "data 2.000", "data 6.000"]


def test_edges_carry_the_operand_roles_the_op_declares_and_none_into_a_weighted_sum():
    a, b = Value(5.0, label="a"), Value(2.0, label="b")
    svg = svg_of(draw_dot((a - b) / (a ** 2.0)))
    labels = sorted(texts(g)[0] for g in groups(svg, "edge").values() if texts(g))
    # engine's roles: "-" (+, \u2212), "/" (num, den), "**" (base, exp)
    assert labels == sorted(["+", "\u2212", "num", "den", "base", "exp"])
    w = [Value(0.5, label="w11"), Value(-1.0, label="w12")]
    net = linear(w, [Value(1.0, label="x1"), Value(2.0, label="x2")], Value(0.1, label="b1"))
    assert [texts(g) for g in groups(svg_of(draw_dot(net)), "edge").values() if texts(g)] == []


def test_a_weighted_sum_without_bias_draws_no_bias_constant():
    # linear(w, x) adds the constant 0: it adds nothing, and the seeds' networks have no biases
    w = [Value(0.5, label="w1"), Value(-1.0, label="w2")]
    net = linear(w, [Value(1.0, label="a1"), Value(2.0, label="a2")])
    nodes = groups(svg_of(draw_dot(net)), "node")
    assert [gid for gid in nodes if "-c" in gid] == []
    assert len(groups(svg_of(draw_dot(net)), "edge")) == 4 + 1  # w1, w2, a1, a2 into the op; op -> net


def test_the_legend_shows_what_the_picture_shows(lecture_graph):
    nodes = lecture_graph()
    svg = svg_of(draw_dot(nodes["L"], highlight=[nodes["c"]], grad_changed=[nodes["a"]]))
    legend = [g for g in svg.iter(f"{SVG}g") if g.get("class") == "graph"][0]
    cells = {}
    for text in legend.findall(f"{SVG}text"):
        cells["".join(text.itertext())] = text
    # the lecture graph has inputs (a, b, f), intermediates and the output; no parameter
    assert {"input", "intermediate", "output", "highlighted", "grad just updated"} <= set(cells)
    assert "parameter" not in cells and "neuron" not in cells
    assert cells["grad just updated"].get("fill") == HIGHLIGHT  # red text, as the changed grads are
    # the highlighted entry is a red outline around a white cell, as highlighted boxes are drawn
    shapes = [e for e in legend if e.tag in (f"{SVG}polygon", f"{SVG}text")]
    at = shapes.index(cells["highlighted"])
    fill, outline = shapes[at - 2], shapes[at - 1]  # the cell's fill, then its outline, then its text
    assert fill.get("fill") == "white" and outline.get("stroke") == HIGHLIGHT
    assert not [p for p in shapes if p.tag == f"{SVG}polygon" and p.get("fill") == HIGHLIGHT]  # no red fill
    boxes = [g for gid, g in groups(svg, "node").items() if gid[1:].isdigit()]
    red_grads = [texts(g)[0] for g in boxes for t in g.iter(f"{SVG}text") if t.get("fill") == HIGHLIGHT]
    assert red_grads == ["a"]  # a's grad, and only it


def test_parameters_are_coloured_as_parameters_when_given_by_name_or_by_the_model():
    from micrograd.nn import Neuron

    neuron = Neuron(2, activation="tanh")
    for p in neuron.parameters():
        p.label = ""  # nothing in the labels says these are parameters: only the model does
    out = neuron([1.0, -2.0])
    fills = {}
    svg = svg_of(draw_dot(out, model=neuron))
    for name, g in by_name(svg).items():
        fills[name] = {p.get("fill") for p in g.iter(f"{SVG}polygon")} - {"none"}
    parameter = {ROLE_COLORS["parameter"]}
    assert sum(1 for f in fills.values() if f == parameter) == 3  # w0, w1, b
    plain = svg_of(draw_dot(out, group=False))
    plain_fills = [
        {p.get("fill") for p in g.iter(f"{SVG}polygon")} - {"none"} for g in by_name(plain).values()
    ]
    assert parameter not in plain_fills  # without the model: inputs


def test_the_cli_colours_the_names_given_as_params_as_parameters(tmp_path, capsys):
    from micrograd.cli import NEURON, NEURON_ARGS, main

    path = tmp_path / "neuron.svg"
    assert main(["draw", NEURON, *NEURON_ARGS.split(), "--params", "w1,w2,b", "-o", str(path)]) == 0
    fills = {
        name: {p.get("fill") for p in g.iter(f"{SVG}polygon")} - {"none"}
        for name, g in by_name(ET.parse(path).getroot()).items()
    }
    assert fills["w1"] == fills["w2"] == fills["b"] == {ROLE_COLORS["parameter"]}
    assert fills["x1"] == fills["x2"] == {ROLE_COLORS["input"]}
    assert main(["draw", NEURON, *NEURON_ARGS.split(), "--params", "w1,v", "-o", str(path)]) == 2
    assert "--params w1,v: 'v' is not a name in the expression" in capsys.readouterr().err


def test_png_is_a_real_png_made_by_dot(tmp_path, lecture_graph):
    nodes = lecture_graph()
    nodes["L"].backward()
    path = render(nodes["L"], tmp_path / "graph.png")
    assert path == tmp_path / "graph.png"
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    assert len(data) > 5_000
    image = Image.open(io.BytesIO(data)).convert("RGB")
    assert image.size[0] > 400 and image.size[1] > 100
    colors = {rgb for _, rgb in image.getcolors(maxcolors=1 << 20)}  # type: ignore[union-attr]
    role_rgb = {tuple(int(ROLE_COLORS[r][i : i + 2], 16) for i in (1, 3, 5)) for r in ("input", "output")}
    assert role_rgb <= colors  # the boxes are really filled with their role colours
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.png"]  # no temporary file left


def test_svg_and_pdf_files_by_suffix(tmp_path, lecture_graph):
    nodes = lecture_graph()
    svg_path = render(nodes["L"], tmp_path / "graph.svg", rankdir="TB")
    root = ET.parse(svg_path).getroot()
    assert root.tag == f"{SVG}svg"
    assert value_boxes(root)["L"] == ["L", "data -4.000", "grad 0"]
    pdf = render(nodes["L"], tmp_path / "out" / "graph.PDF").read_bytes()
    assert pdf.startswith(b"%PDF-") and len(pdf) > 1_000


def test_unknown_suffix_is_refused_with_its_name(tmp_path, lecture_graph):
    nodes = lecture_graph()
    with pytest.raises(ValueError, match=r"'\.jpg'.*\.svg, \.png, \.pdf"):
        render(nodes["L"], tmp_path / "graph.jpg")
    with pytest.raises(ValueError, match="format='png' contradicts"):
        render(nodes["L"], tmp_path / "graph.svg", format="png")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "graph.svg"
    path.write_bytes(b"old picture")
    with pytest.raises(TypeError):
        write_atomic(path, "not bytes")  # type: ignore[arg-type]
    assert path.read_bytes() == b"old picture"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.svg"]


def test_missing_dot_says_how_to_install_graphviz_and_draw_dot_still_gives_the_source(
    tmp_path, monkeypatch, lecture_graph
):
    nodes = lecture_graph()
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    graph = draw_dot(nodes["L"])
    assert graph.source.startswith("digraph") and "data -4.000" in graph.source
    # this machine is Debian: apt's command, and no Makefile target (a pip user has no Makefile)
    with pytest.raises(GraphvizNotFound, match=r"with: +(sudo )?apt-get install -y graphviz ") as caught:
        render(nodes["L"], tmp_path / "graph.png")
    assert isinstance(caught.value, RuntimeError)
    assert "make" not in str(caught.value)
    assert not (tmp_path / "graph.png").exists()
    with pytest.raises(GraphvizNotFound, match=r"apt-get install -y graphviz"):
        graph._repr_mimebundle_()  # what Jupyter calls to show it inline: the same advice there


def test_draw_dot_result_shows_inline_in_jupyter(lecture_graph):
    nodes = lecture_graph()
    bundle = draw_dot(nodes["L"])._repr_mimebundle_()
    assert set(bundle) == {"image/svg+xml"}
    svg = ET.fromstring(bundle["image/svg+xml"])
    assert value_boxes(svg)["L"] == ["L", "data -4.000", "grad 0"]


# ----------------------------------------------------------------------------------------------
# Size limit


def chain(n: int) -> Value:
    x = Value(1.0, label="x")
    for _ in range(n - 1):
        x = x + 1.0
    return x


def test_above_max_nodes_the_error_gives_the_count_the_limit_and_the_ways_out():
    root = chain(30)  # 30 values and 29 constants
    with pytest.raises(ValueError) as caught:
        draw_dot(root, max_nodes=40)
    message = str(caught.value)
    assert "59 nodes" in message and "max_nodes=40" in message and "max_nodes=59" in message
    assert "draw_dot(an inner node)" in message  # collapse=True would not help: no neurons here
    assert draw_dot(root, max_nodes=59).source.count("data ") == 30

# ----------------------------------------------------------------------------------------------
# Escaping: no label can break the DOT text or inject markup


NASTY = [
    'a"b',
    "]",
    "lone \ud800 surrogate",
    "\u2028 line separator \ufeff",
    "<b>bold</b>",
    "{x|y}",
    "back\\slash\\n",
    "two\nlines",
    "]; evil [label=x",
    "&amp; &#60;",
    "\x00\x07\x1b",
]


@settings(max_examples=50)
@given(labels=st.lists(st.one_of(st.text(max_size=30), st.sampled_from(NASTY)), min_size=3, max_size=3))
def test_any_label_and_op_name_is_drawn_verbatim_and_dot_parses_it(labels):
    a, b = Value(1.5, label=labels[0]), Value(2.5, label=labels[1])  # c = 3.75
    c = a * b
    c._rule = dataclasses.replace(c._rule, name=labels[2])  # an op named by hostile text, too
    svg = run_dot(draw_dot(c).source)
    nodes = groups(svg, "node")
    assert sorted(nodes) == ["v0", "v1", "v2", "v2-op"]  # nothing injected, nothing lost
    shown = {"".join(texts(g)).split("data ")[-1].split("grad")[0]: "".join(texts(g)) for g in nodes.values()}
    shown["op"] = "".join(texts(nodes["v2-op"]))
    for key, text in (("1.500", labels[0]), ("2.500", labels[1]), ("op", labels[2])):
        if all(ch.isprintable() or ch in " \n" for ch in text):
            # dot writes spaces as no-break spaces and a line per <BR/>: compare ignoring whitespace
            assert "".join(text.split()) in "".join(shown[key].split())


def drawn_label(label: str) -> list[str]:
    """The text lines dot draws in the box of a leaf labelled ``label`` (its name cell only)."""
    leaf = Value(1.5, label=label)
    svg = run_dot(draw_dot(leaf, show_grad=False, legend=False).source)
    return [t for t in texts(groups(svg, "node")["v0"]) if t != "data 1.500"]


def test_invisible_characters_are_shown_as_escapes():
    assert drawn_label('a\x07b\n<"c">') == ["a\\x07b", '<"c">']


def test_escape_label_output_draws_verbatim_in_a_hand_written_dot_source():
    text = "cost\\Node & <b>\\G</b>"
    svg = run_dot(f"digraph G {{ n [shape=plain label=<{escape_label(text)}>] }}")
    assert texts(groups(svg, "node")["node1"]) == [text]


@pytest.mark.parametrize(
    "label",
    ["cost\\Node", "\\G \\E \\T \\H \\L \\N", "two \\\\ backslashes", "ends in \\", "\\x07 typed"],
)
def test_dot_escape_sequences_in_a_label_are_drawn_as_typed(label):
    # dot would draw cost\Node as costv0ode (\N is the node's name), \G as the graph's name
    assert drawn_label(label) == [label]


def test_dot_escape_sequences_in_op_names_and_legend_text_are_drawn_as_typed():
    a = Value(2.0, label="a")
    out = a * 3.0
    out._rule = dataclasses.replace(out._rule, name="\\N")
    svg = run_dot(draw_dot(out, node_colors={a: "#ffffff"}, legend={"#ffffff": "set \\G here"}).source)
    assert texts(groups(svg, "node")["v1-op"]) == ["\\N"]
    assert "set \\G here" in texts(svg)


@pytest.mark.parametrize("char", ["x", "\u00e9", "\\", "\ud800", "&"])
def test_a_label_too_long_for_dot_is_drawn_cut_with_a_note_of_what_was_left_out(char):
    # dot's HTML scanner fails on a run of text of 16,384 bytes: 'é' is 2 bytes, '\ud800' is drawn in 6
    label = char * 100_000
    shown = {"\\": "\\", "\ud800": "\\ud800"}.get(char, char)
    assert drawn_label(label) == [shown * 2000 + "\u2026 (98,000 more characters)"]


def test_a_label_of_the_longest_length_drawn_whole_is_not_cut():
    assert drawn_label("\ud800" * 2000) == ["\\ud800" * 2000]
    assert drawn_label("y" * 2001) == ["y" * 2000 + "\u2026 (1 more character)"]


def test_every_hostile_label_at_once_parses_and_nothing_is_injected():
    leaves = [Value(float(i), label=text) for i, text in enumerate(NASTY)]
    out = total(leaves)
    out.label = "".join(NASTY)
    svg = run_dot(draw_dot(out).source)
    assert len([gid for gid in groups(svg, "node") if gid[1:].isdigit()]) == len(NASTY) + 1
