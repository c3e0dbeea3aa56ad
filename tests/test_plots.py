"""Training pictures: the decision boundary is drawn where the model's decision changes, and bad
input is refused before anything is written."""

import matplotlib.image
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


def test_k_output_model_colours_each_class(tmp_path):
    def model(x):  # three logits: class 0 left, class 1 middle, class 2 right
        return [Value(-x[0]), Value(1.0 - abs(x[0])), Value(x[0])]

    X = [[-2.0, 0.0], [0.0, 0.0], [2.0, 0.0]]
    path = decision_boundary(model, X, [0, 1, 2], tmp_path / "k.svg", resolution=12)
    svg = path.read_text()
    for colour in ("#a5d8ff", "#ffc9c9", "#b2f2bb"):
        assert colour in svg


def test_loss_curve_writes_a_png(tmp_path):
    history = History(loss=[1.0, 0.5, 0.25], accuracy=[0.5, 0.75, 1.0])
    data = loss_curve(history, tmp_path / "loss.png").read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 5000


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
