"""Graph pictures: every test runs the real Graphviz ``dot`` and reads what it drew."""

from __future__ import annotations

import dataclasses
import io
import math
import re
import subprocess
import xml.etree.ElementTree as ET

import graphviz
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from micrograd.engine import Value, linear, total
from micrograd.files import write_atomic
from micrograd.nn import MLP
from micrograd.viz import (
    HIGHLIGHT,
    ROLE_COLORS,
    GraphvizNotFound,
    draw_dot,
    escape_label,
    render,
)

SVG = "{http://www.w3.org/2000/svg}"


def svg_of(graph: graphviz.Digraph) -> ET.Element:
    return ET.fromstring(graph.pipe(format="svg"))


def groups(svg: ET.Element, kind: str) -> dict[str, ET.Element]:
    """The SVG groups dot drew for nodes ('node'), edges ('edge') or boxes ('cluster'), by id."""
    return {g.get("id"): g for g in svg.iter(f"{SVG}g") if kind in (g.get("class") or "").split()}


def texts(group: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in group.iter(f"{SVG}text")]


def title(group: ET.Element) -> str:
    return group.find(f"{SVG}title").text  # type: ignore[union-attr, return-value]


def box(group: ET.Element) -> tuple[float, float, float, float]:
    """Bounding box (x0, y0, x1, y1) of the outline dot drew for the group (polygons, paths, ellipses)."""
    xs, ys = [], []
    for shape in group:
        if shape.tag in (f"{SVG}polygon", f"{SVG}path"):
            for x, y in re.findall(r"(-?[\d.]+),(-?[\d.]+)", shape.get("points") or shape.get("d", "")):
                xs.append(float(x))
                ys.append(float(y))
        elif shape.tag == f"{SVG}ellipse":
            cx, cy, rx, ry = (float(shape.get(k)) for k in ("cx", "cy", "rx", "ry"))  # type: ignore[arg-type]
            xs += [cx - rx, cx + rx]
            ys += [cy - ry, cy + ry]
    return min(xs), min(ys), max(xs), max(ys)


def inside(inner: tuple[float, ...], outer: tuple[float, ...]) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def value_boxes(svg: ET.Element) -> dict[str, list[str]]:
    """Texts of each value's box, keyed by its first text (the label)."""
    return {texts(g)[0]: texts(g) for gid, g in groups(svg, "node").items() if gid[1:].isdigit()}


# ----------------------------------------------------------------------------------------------
# What the picture shows


def test_svg_shows_each_value_label_data_and_grad_and_the_ops_and_constants(lecture_graph):
    nodes = lecture_graph()
    nodes["L"].backward()
    svg = svg_of(draw_dot(nodes["L"]))
    # by hand: dL/dd = dL/de = 1, dL/dc = f = 2, dL/df = c = -6, dL/db = 2 * a = 4,
    # dL/da = 2 * b + 1 * 4 = -2 (two paths)
    expected = {
        "a": ("2.0000", "-2.0000"),
        "b": ("-3.0000", "4.0000"),
        "f": ("2.0000", "-6.0000"),
        "c": ("-6.0000", "2.0000"),
        "d": ("-12.0000", "1.0000"),
        "e": ("8.0000", "1.0000"),
        "L": ("-4.0000", "1.0000"),
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
    assert value_boxes(svg)["c"] == ["c", "data -6.0000"]


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
    intermediates = [fill for name, fill in fills.items() if name.startswith("data")]
    assert intermediates == [{ROLE_COLORS["intermediate"]}] * 2
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

    def red(g: ET.Element) -> bool:
        return any(shape.get("stroke") == HIGHLIGHT for shape in g)

    a, b, c = ids["a"], ids["b"], ids["c"]
    assert sorted(gid for gid, g in groups(svg, "node").items() if red(g)) == sorted([c, f"{c}-op"])
    red_edges = sorted(title(g) for g in groups(svg, "edge").values() if red(g))
    assert red_edges == sorted([f"{a}->{c}-op", f"{b}->{c}-op", f"{c}-op->{c}"])  # c = a * b


# ----------------------------------------------------------------------------------------------
# Files


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
    assert value_boxes(root)["L"] == ["L", "data -4.0000", "grad 0.0000"]
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
    assert graph.source.startswith("digraph") and "data -4.0000" in graph.source
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
    assert value_boxes(svg)["L"] == ["L", "data -4.0000", "grad 0.0000"]


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
    assert "collapse=True" in message
    assert draw_dot(root, max_nodes=59).source.count("data ") == 30


def test_a_value_used_at_many_depths_is_refused_before_dot_spends_minutes_on_it():
    # Horner's rule, acc = acc * x + 1 sixty times: 182 nodes to draw, far below max_nodes, yet dot
    # takes minutes, since x feeds every step. By hand: step i's product op sits at rank 4i - 3 (x
    # at rank 0), so x's edge into it crosses 4i - 4 ranks: 2k(k - 1) = 7080 hidden nodes for k = 60;
    # with the 3k + 2 values and constants and 2k op nodes, dot would lay out 2k^2 + 3k + 2 = 7382.
    x = Value(0.7, label="x")
    acc = Value(1.0)
    for _ in range(60):
        acc = acc * x + 1.0
    with pytest.raises(ValueError) as caught:
        draw_dot(acc)
    message = str(caught.value)
    assert "only 182 nodes to draw" in message and "7382 nodes in all" in message
    assert "6 x max_nodes = 3000" in message and "'x' alone adds 7080" in message
    assert "max_nodes=1231" in message
    assert draw_dot(acc, max_nodes=1231).source.count("data ") == 122  # the way out given works
    assert draw_dot(chain(200)).source.count("data ") == 200  # 399 nodes, no edge crosses a rank


def tiny_mlp(examples: int = 1) -> Value:
    """2 inputs, layer 0 (2 tanh neurons), layer 1 (1 tanh neuron), squared error; labelled as nn does."""
    params = {}
    for layer, fan_in, width in ((0, 2, 2), (1, 2, 1)):
        for n in range(width):
            weights = [Value(0.1 * (i + 1) * (n + 1), label=f"L{layer}.N{n}.w{i}") for i in range(fan_in)]
            params[layer, n] = (weights, Value(0.05, label=f"L{layer}.N{n}.b"))
    loss = Value(0.0, label="zero")
    for k in range(examples):
        xs = [Value(1.0 + k, label=f"x{k}.0"), Value(-2.0, label=f"x{k}.1")]
        hidden = [linear(params[0, n][0], xs, params[0, n][1]).tanh() for n in range(2)]
        out = linear(params[1, 0][0], hidden, params[1, 0][1]).tanh()
        loss = loss + (out - 1.0) ** 2
    loss.label = "loss"
    return loss


def test_collapse_draws_one_box_per_neuron_and_the_error_suggests_it():
    loss = tiny_mlp(examples=2)
    with pytest.raises(ValueError) as caught:
        draw_dot(loss, max_nodes=20)
    suggestion = re.search(r"collapse=True to draw one box per neuron \((\d+) nodes\)", str(caught.value))
    assert suggestion, str(caught.value)
    collapsed_count = int(suggestion.group(1))
    # by hand, per example: 2 inputs + 3 neuron boxes + (out - 1) with its constant + (..)**2 with
    # its constant = 9; plus the zero leaf and the two additions into the loss: 2 * 9 + 3 = 21
    assert collapsed_count == 21
    svg = svg_of(draw_dot(loss, collapse=True, max_nodes=21))
    neuron_boxes = [
        texts(g)
        for gid, g in groups(svg, "node").items()
        if gid[1:].isdigit() and texts(g)[0].startswith("L")
    ]
    assert sorted(t[0].split(":")[0] for t in neuron_boxes) == [
        "L0.N0",
        "L0.N0",
        "L0.N1",
        "L0.N1",
        "L1.N0",
        "L1.N0",
    ]
    assert all("2 weights" in t for t in neuron_boxes)


def test_neurons_and_layers_are_drawn_as_boxes_around_their_nodes():
    loss = tiny_mlp()
    svg = svg_of(draw_dot(loss))
    clusters = {title(g): box(g) for g in groups(svg, "cluster").values()}
    assert set(clusters) == {"cluster_L0", "cluster_L1", "cluster_L0.N0", "cluster_L0.N1", "cluster_L1.N0"}
    nodes = groups(svg, "node")
    by_label = {texts(g)[0]: box(g) for gid, g in nodes.items() if gid[1:].isdigit()}
    for layer, n in ((0, 0), (0, 1), (1, 0)):
        neuron = clusters[f"cluster_L{layer}.N{n}"]
        assert inside(neuron, clusters[f"cluster_L{layer}"])
        for name in (f"L{layer}.N{n}.w0", f"L{layer}.N{n}.w1", f"L{layer}.N{n}.b"):
            assert inside(by_label[name], neuron)
    linear_ops = [box(g) for gid, g in nodes.items() if gid.endswith("-op") and texts(g) == ["linear"]]
    tanh_ops = [box(g) for gid, g in nodes.items() if gid.endswith("-op") and texts(g) == ["tanh"]]
    assert len(linear_ops) == len(tanh_ops) == 3
    neuron_boxes = [b for name, b in clusters.items() if ".N" in name]
    for op in linear_ops + tanh_ops:  # each weighted sum and its activation sit in one neuron's box
        assert sum(inside(op, b) for b in neuron_boxes) == 1
    for name in ("x0.0", "x0.1", "loss"):  # the inputs and the loss belong to no neuron
        assert not any(inside(by_label[name], b) for b in clusters.values())
    assert groups(svg_of(draw_dot(loss, group="none")), "cluster") == {}


# ----------------------------------------------------------------------------------------------
# Escaping: no label can break the DOT text or inject markup


def run_dot(source: str) -> ET.Element:
    done = subprocess.run(["dot", "-Tsvg"], input=source.encode("utf-8"), capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    assert b"Error" not in done.stderr and b"Warning" not in done.stderr, done.stderr
    return ET.fromstring(done.stdout)


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
    shown = {"".join(texts(g)).split("data ")[-1][:6]: "".join(texts(g)) for g in nodes.values()}
    shown["op"] = "".join(texts(nodes["v2-op"]))
    for key, text in (("1.5000", labels[0]), ("2.5000", labels[1]), ("op", labels[2])):
        if all(ch.isprintable() or ch in " \n" for ch in text):
            # dot writes spaces as no-break spaces and a line per <BR/>: compare ignoring whitespace
            assert "".join(text.split()) in "".join(shown[key].split())


def drawn_label(label: str) -> list[str]:
    """The text lines dot draws in the box of a leaf labelled ``label`` (its name cell only)."""
    leaf = Value(1.5, label=label)
    svg = run_dot(draw_dot(leaf, show_grad=False, legend=False).source)
    return [t for t in texts(groups(svg, "node")["v0"]) if t != "data 1.5000"]


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


def test_an_unfused_neuron_groups_its_products_and_partial_sums_and_collapses_to_one_box():
    # Built as micrograd.nn does with fused=False: net = (b + w0*x0) + w1*x1, out = tanh(net)
    xs = [Value(1.0, label="x0"), Value(-2.0, label="x1")]
    w = [Value(0.5, label="L0.N0.w0"), Value(-0.25, label="L0.N0.w1")]
    b = Value(0.1, label="L0.N0.b")
    net = b + w[0] * xs[0] + w[1] * xs[1]
    net.label = "L0.N0.net"
    out = net.tanh()
    out.label = "L0.N0.out"
    loss = (out - 1.0) ** 2
    svg = svg_of(draw_dot(loss))
    (neuron,) = [box(g) for g in groups(svg, "cluster").values() if title(g) == "cluster_L0.N0"]
    nodes = groups(svg, "node")
    values = {gid: g for gid, g in nodes.items() if gid[1:].isdigit()}
    inside_neuron = sorted(texts(g)[0] for g in values.values() if inside(box(g), neuron))
    # the 3 params, 2 products, the partial sum b + w0*x0, net and out: 8 boxes, data by hand
    assert inside_neuron == sorted(
        [
            "L0.N0.w0",
            "L0.N0.w1",
            "L0.N0.b",
            "data 0.5000",
            "data 0.5000",
            "data 0.6000",
            "L0.N0.net",
            "L0.N0.out",
        ]
    )
    collapsed = svg_of(draw_dot(loss, collapse=True))
    boxes = [texts(g) for gid, g in groups(collapsed, "node").items() if gid[1:].isdigit()]
    neuron_box = [t for t in boxes if t[0].startswith("L0.N0:")]
    # net = 0.1 + 0.5 * 1 + -0.25 * -2 = 1.1
    assert neuron_box == [
        ["L0.N0: tanh(w\u00b7x+b)", "2 weights", f"data {math.tanh(1.1):.4f}", "grad 0.0000"]
    ]
    assert sorted(t[0] for t in boxes if t[0].startswith("x")) == ["x0", "x1"]  # its inputs stay


@pytest.mark.parametrize("fused", [True, False])
def test_a_real_mlp_is_drawn_with_a_box_per_neuron_and_layer_and_collapses_to_one_box_each(fused):
    model = MLP(2, [3, 1], activation="tanh", fused=fused, seed=0)
    loss = (model([1.0, -2.0]) - 1.0) ** 2
    svg = svg_of(draw_dot(loss))
    clusters = {title(g): box(g) for g in groups(svg, "cluster").values()}
    neurons = ["cluster_L0.N0", "cluster_L0.N1", "cluster_L0.N2", "cluster_L1.N0"]
    assert sorted(clusters) == sorted(["cluster_L0", "cluster_L1", *neurons])
    by_label = {texts(g)[0]: box(g) for gid, g in groups(svg, "node").items() if gid[1:].isdigit()}
    for name, _ in model.named_parameters():  # every weight and bias sits in its own neuron's box
        assert inside(by_label[name], clusters[f"cluster_{name.rsplit('.', 1)[0]}"])

    collapsed = svg_of(draw_dot(loss, collapse=True))
    boxes = sorted(
        texts(g)[0] for gid, g in groups(collapsed, "node").items() if gid[1:].isdigit() and texts(g)
    )
    # by hand: one box per neuron (the output neuron has no activation), then the two loss nodes
    error = loss.operands()[0].data  # score - 1
    assert boxes == sorted(
        [
            "L0.N0: tanh(w\u00b7x+b)",
            "L0.N1: tanh(w\u00b7x+b)",
            "L0.N2: tanh(w\u00b7x+b)",
            "L1.N0: w\u00b7x+b",
            f"data {error:.4f}",
            f"data {error**2:.4f}",
        ]
    )
