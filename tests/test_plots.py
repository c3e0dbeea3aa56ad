"""Training pictures, checked by what they show: the decision boundary by the class painted at each
pixel of a model whose classes are known by construction, the loss curve by the points of its line;
and bad input is refused before anything is written."""

import math
import re
import xml.etree.ElementTree as ET

import matplotlib.image
import numpy as np
import pytest

from micrograd import Value
from micrograd.plots import decision_boundary, loss_curve, new_figure, save_figure
from micrograd.training import History

CLASS_0 = (0xA5, 0xD8, 0xFF)  # the light fills of class 0 and class 1
CLASS_1 = (0xFF, 0xC9, 0xC9)


def columns_of(row):
    """Which pixel columns of one image row show each class's fill."""
    found = {CLASS_0: [], CLASS_1: []}
    for col, pixel in enumerate(row):
        colour = tuple(round(255 * c) for c in pixel[:3])
        if colour in found:
            found[colour].append(col)
    return found[CLASS_0], found[CLASS_1]


def test_one_output_model_is_split_where_its_score_changes_sign(tmp_path):
    # score = x0 - 0.5: class 1 right of the vertical line x0 = 0.5, class 0 left of it
    def model(x):
        return Value(x[0]) - 0.5

    X = [[-1.0, -1.0], [-1.0, 1.0], [2.0, -1.0], [2.0, 1.0]]
    path = decision_boundary(model, X, [0, 0, 1, 1], tmp_path / "b.png", resolution=20)
    image = matplotlib.image.imread(path)
    row = image[image.shape[0] // 2]  # the middle row crosses the boundary, between the points
    left, right = columns_of(row)
    assert left and right
    assert max(left) < min(right)
    # x0 = 0.5 sits at half of the axis range [-1 - m, 2 + m]: the split is near the middle of the plot
    middle = (min(left) + max(right)) / 2
    assert abs((max(left) + min(right)) / 2 - middle) < 0.05 * (max(right) - min(left))


# -- the loss curve by its line's points -----------------------------------------------------------
#
# A line of the SVG is a path "M x0 y0 L x1 y1 ..." in page units, y growing downward. Whatever the
# axes' size and limits, a point's page position is an affine function of its value on that axis
# (of log10(value) on a log axis): so the steps must be equally spaced left to right, and each
# vertex's height must be a + b * value for the same a and b < 0 (a larger value is drawn higher).

LOSS_COLOUR, ACCURACY_COLOUR = "#1c7ed6", "#e8590c"  # the colours of the two axes' labels


def line_points(svg_text, colour):
    """The vertices of the one line drawn with stroke ``colour``."""
    root = ET.fromstring(svg_text)
    paths = [
        e for e in root.iter("{http://www.w3.org/2000/svg}path") if f"stroke: {colour}" in e.get("style", "")
    ]
    assert len(paths) == 1, f"{len(paths)} lines of colour {colour}"
    numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", paths[0].get("d"))]
    return list(zip(numbers[0::2], numbers[1::2]))


def assert_drawn_in_order(points, values, what):
    """``points`` (page coordinates) are ``values`` at steps 1, 2, ... under one affine map per axis."""
    assert len(points) == len(values), f"{what}: {len(points)} points for {len(values)} steps"
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    dx = (xs[-1] - xs[0]) / (len(xs) - 1)
    assert dx > 0, f"{what}: the steps run right to left"
    assert xs == pytest.approx([xs[0] + i * dx for i in range(len(xs))], abs=1e-3), f"{what}: steps"
    # a and b from the highest and lowest values, then every vertex must fit
    hi, lo = values.index(max(values)), values.index(min(values))
    b = (ys[hi] - ys[lo]) / (values[hi] - values[lo])
    assert b < 0, f"{what}: larger values are drawn lower"
    a = ys[hi] - b * values[hi]
    assert ys == pytest.approx([a + b * v for v in values], abs=1e-3), f"{what}: heights"


def test_the_loss_line_passes_through_each_steps_loss_in_order_on_a_log_axis(tmp_path):
    # not monotonic, and not a straight line on a log axis, so any reordering moves some vertex
    loss = [2.0, 1.1, 1.3, 0.4, 0.05, 0.2, 0.01]
    accuracy = [0.5, 0.55, 0.5, 0.8, 1.0, 0.9, 1.0]
    svg = loss_curve(History(loss=loss, accuracy=accuracy), tmp_path / "loss.svg").read_text()
    assert_drawn_in_order(line_points(svg, LOSS_COLOUR), [math.log10(v) for v in loss], "loss")
    assert_drawn_in_order(line_points(svg, ACCURACY_COLOUR), [100 * a for a in accuracy], "accuracy")


def test_a_reversed_history_is_a_different_picture(tmp_path):
    # the check above is not satisfied by the mirror image: the line of the reversed losses fails it
    loss = [2.0, 1.1, 1.3, 0.4, 0.05, 0.2, 0.01]
    svg = loss_curve(History(loss=loss[::-1]), tmp_path / "reversed.svg").read_text()
    with pytest.raises(AssertionError):
        assert_drawn_in_order(line_points(svg, LOSS_COLOUR), [math.log10(v) for v in loss], "loss")


def test_a_loss_that_reaches_zero_is_drawn_on_a_linear_axis(tmp_path):
    loss = [0.9, 0.3, 0.5, 0.0]  # a hinge loss can reach exactly 0, which no log axis shows
    svg = loss_curve(History(loss=loss), tmp_path / "loss.svg").read_text()
    assert_drawn_in_order(line_points(svg, LOSS_COLOUR), loss, "loss")
    assert f"stroke: {ACCURACY_COLOUR}" not in svg  # no accuracy recorded, no accuracy line


# -- the decision boundary by the class painted at each pixel ---------------------------------------
#
# The models below split the plane into quadrants around the centre of the samples (0, 0); the plot
# spans the samples with equal margins on each side, so (0, 0) is the centre of the painted area. Every
# pixel painted with a class's fill must lie in that class's quadrants, a few pixels from the
# quadrant lines aside (antialiasing, and the grid's resolution).

FILLS = {CLASS_0: 0, CLASS_1: 1, (0xB2, 0xF2, 0xBB): 2}
CORNERS = [[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]]


def painted_classes(path):
    """Per pixel, the class whose fill it shows, or -1 (a sample, a line, the legend, outside)."""
    rgb = np.round(matplotlib.image.imread(path)[:, :, :3] * 255).astype(int)
    classes = np.full(rgb.shape[:2], -1)
    for colour, c in FILLS.items():
        classes[(rgb == colour).all(axis=2)] = c
    return classes


def assert_quadrants_painted(path, expected, band=8):
    """``expected[(right, up)]`` is the class of each quadrant around the centre of the painted area."""
    classes = painted_classes(path)
    rows, cols = np.nonzero(classes >= 0)
    centre_row, centre_col = (rows.min() + rows.max()) / 2, (cols.min() + cols.max()) / 2
    seen = {quadrant: 0 for quadrant in expected}
    for row, col in zip(rows, cols):
        if abs(row - centre_row) < band or abs(col - centre_col) < band:
            continue
        quadrant = (bool(col > centre_col), bool(row < centre_row))  # image rows grow downward
        painted = classes[row, col]
        assert painted == expected[quadrant], f"pixel ({row}, {col}) shows class {painted}"
        seen[quadrant] += 1
    quarter = (rows.max() - rows.min()) * (cols.max() - cols.min()) / 4
    for quadrant, count in seen.items():
        assert count > 0.8 * quarter, f"quadrant {quadrant} is mostly unpainted: {count} pixels"


def test_a_one_output_model_paints_class_1_exactly_where_its_score_is_positive(tmp_path):
    # score = min(-x0, x1) > 0 only in the upper left quadrant; not symmetric under a transpose or a flip
    path = decision_boundary(lambda p: Value(min(-p[0], p[1])), CORNERS, [0, 1, 0, 0], tmp_path / "b.png")
    expected = {(False, True): 1, (True, True): 0, (False, False): 0, (True, False): 0}
    assert_quadrants_painted(path, expected)


def test_a_three_class_model_paints_each_class_where_its_logit_is_largest(tmp_path):
    def model(p):  # class 0 below x1 = 0; above it, class 1 on the left and class 2 on the right
        u, v = p
        return [Value(-v), Value(min(-u, v)), Value(min(u, v))]

    path = decision_boundary(model, CORNERS, [0, 1, 0, 2], tmp_path / "k.png", resolution=80)
    expected = {(False, True): 1, (True, True): 2, (False, False): 0, (True, False): 0}
    assert_quadrants_painted(path, expected)


@pytest.mark.parametrize(
    "X,y,name,error,message",
    [
        ([[1.0, 2.0, 3.0]], [0], "b.png", ValueError, "2 features, got 3"),
        ([], [], "b.png", ValueError, "empty"),
        ([[1.0, 2.0]], [0, 1], "b.png", ValueError, "1 samples but y has 2 labels"),
        ([[1.0, 2.0]], [0.5], "b.png", TypeError, r"labels\[0\] is float 0.5"),
        ([[1.0, 2.0]], [0], "b.gif", ValueError, "suffix '.gif'"),
    ],
)
def test_decision_boundary_refuses_bad_input_before_any_forward_pass(tmp_path, X, y, name, error, message):
    calls = []
    with pytest.raises(error, match=message):
        decision_boundary(lambda x: calls.append(x) or Value(x[0]), X, y, tmp_path / name)
    assert not calls and not list(tmp_path.iterdir())


def test_an_empty_history_or_an_unknown_suffix_is_refused(tmp_path):
    with pytest.raises(ValueError, match="history is empty"):
        loss_curve(History(), tmp_path / "loss.png")
    with pytest.raises(ValueError, match="suffix '.jpg'"):
        loss_curve(History(loss=[1.0], accuracy=[0.5]), tmp_path / "loss.jpg")
    assert not list(tmp_path.iterdir())


def test_save_figure_writes_the_type_its_suffix_names_and_refuses_others(tmp_path):
    figure = new_figure(2.0, 1.0)
    figure.add_subplot(facecolor="#e03131")
    image = matplotlib.image.imread(save_figure(figure, tmp_path / "red.png"))
    middle = image[image.shape[0] // 2][image.shape[1] // 2]
    assert tuple(round(255 * c) for c in middle[:3]) == (0xE0, 0x31, 0x31)
    assert save_figure(figure, tmp_path / "red.pdf").read_bytes().startswith(b"%PDF")
    with pytest.raises(ValueError, match="suffix '.jpg'"):
        save_figure(figure, tmp_path / "red.jpg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["red.pdf", "red.png"]  # no temporary file left


def test_minus_one_plus_one_labels_are_drawn_as_classes_0_and_1(tmp_path):
    X = [[-1.0, 0.0], [1.0, 0.0]]
    svg = decision_boundary(lambda x: Value(x[0]), X, [-1, 1], tmp_path / "b.svg", resolution=4).read_text()
    assert "class 0" in svg and "class 1" in svg and "class -1" not in svg


def test_a_class_the_model_never_predicts_gets_no_fill_between_two_others(tmp_path):
    # logits: class 0 left of x0 = 0, class 2 right of it, class 1 always far below both
    def model(x):
        return [Value(-x[0]), Value(-100.0), Value(x[0])]

    X = [[-2.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [2.0, 1.0]]
    path = decision_boundary(model, X, [0, 0, 2, 2], tmp_path / "k.png", resolution=12)
    image = matplotlib.image.imread(path)
    colours = {tuple(round(255 * c) for c in pixel[:3]) for row in image for pixel in row}
    assert CLASS_0 in colours and (0xB2, 0xF2, 0xBB) in colours  # class 0 and class 2 fills
    assert CLASS_1 not in colours
