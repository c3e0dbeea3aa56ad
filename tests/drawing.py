"""Reading what dot drew: the SVG groups of nodes and edges, their texts, outlines and positions.

Shared by the picture tests; every fact they check is read from dot's own SVG (or PNG), never from
the DOT text micrograd wrote.
"""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET

import graphviz

SVG = "{http://www.w3.org/2000/svg}"


def svg_of(graph: graphviz.Digraph) -> ET.Element:
    return ET.fromstring(graph.pipe(format="svg"))


def run_dot(source: str) -> ET.Element:
    done = subprocess.run(["dot", "-Tsvg"], input=source.encode("utf-8"), capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    assert b"Error" not in done.stderr and b"Warning" not in done.stderr, done.stderr
    return ET.fromstring(done.stdout)


def groups(svg: ET.Element, kind: str) -> dict[str, ET.Element]:
    """The SVG groups dot drew for nodes ('node') or edges ('edge'), by id."""
    return {g.get("id"): g for g in svg.iter(f"{SVG}g") if kind in (g.get("class") or "").split()}


def texts(group: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in group.iter(f"{SVG}text")]


def title(group: ET.Element) -> str:
    return group.find(f"{SVG}title").text  # type: ignore[union-attr, return-value]


def ends(edge: ET.Element) -> tuple[str, str]:
    """An edge's tail and head node names, from its title 'tail->head'."""
    tail, head = title(edge).split("->")
    return tail, head


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


def center(group: ET.Element) -> tuple[float, float]:
    """The middle of what dot drew for the group: its outline, or its text when it has none."""
    try:
        x0, y0, x1, y1 = box(group)
    except ValueError:  # a plain text node (a constant)
        text = group.find(f"{SVG}text")
        return float(text.get("x")), float(text.get("y"))  # type: ignore[arg-type, union-attr]
    return (x0 + x1) / 2, (y0 + y1) / 2


def value_boxes(svg: ET.Element) -> dict[str, list[str]]:
    """Texts of each value's box (ids v0, v1, ...), keyed by its first text (the name)."""
    return {texts(g)[0]: texts(g) for gid, g in groups(svg, "node").items() if gid[1:].isdigit()}


def by_name(svg: ET.Element) -> dict[str, ET.Element]:
    """Each drawn box (values and shared inputs) by its name, the first text in it."""
    return {
        texts(g)[0]: g
        for gid, g in groups(svg, "node").items()
        if (gid[1:].isdigit() or re.fullmatch(r"x\d+-\d+", gid)) and texts(g)
    }


def red(group: ET.Element, color: str) -> bool:
    """Whether dot drew the group's outline (or line) in ``color``."""
    return any(shape.get("stroke") == color for shape in group.iter() if shape.tag != f"{SVG}text")


def shown(x: float) -> str:
    """A number as the pictures print it, by hand: 4 significant digits, trailing zeros kept; fixed
    notation (Python's ``#.4g``) for 0.001 <= |x| < 10,000, ``m.mmme-N`` below; 0 as ``0``."""
    if x == 0:
        return "0"
    if abs(x) < 1e-3:
        mantissa, exponent = f"{x:.3e}".split("e")
        return f"{mantissa}e{int(exponent)}"
    assert abs(x) < 1e4, f"{x} is outside the range this oracle covers"
    return f"{x:#.4g}"
