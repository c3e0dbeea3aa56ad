"""Saved models: the JSON format, atomic writes, and every bad file refused before the model changes."""

import json
import os
import random

import pytest

from micrograd.nn import MLP, Layer, Module, Neuron


@pytest.fixture
def saved(tmp_path):
    """A 2-3-2 model saved to disk, and the path."""
    model = MLP(2, [3, 2], seed=0)
    path = tmp_path / "model.json"
    model.save(path)
    return model, path


def weights(model):
    return [p.data for p in model.parameters()]


def test_a_saved_file_holds_format_version_architecture_and_weights(saved):
    model, path = saved
    document = json.loads(path.read_text())
    assert document["format"] == "micrograd-model"
    assert document["version"] == 1
    assert document["architecture"] == {
        "type": "MLP",
        "nin": 2,
        "nouts": [3, 2],
        "activation": "relu",
        "output_activation": "linear",
    }
    layer = model.layers[1]
    assert document["weights"][1] == {
        "w": [[w.data for w in n.w] for n in layer.neurons],
        "b": [n.b.data for n in layer.neurons],
    }


def test_load_restores_every_weight_exactly(saved):
    model, path = saved
    other = MLP(2, [3, 2], seed=1)
    assert weights(other) != weights(model)
    other.load(path)
    assert weights(other) == weights(model)  # JSON floats round-trip exactly


def test_a_hand_written_file_builds_the_model_it_describes(tmp_path):
    path = tmp_path / "hand.json"
    document = {
        "format": "micrograd-model",
        "version": 1,
        "architecture": {
            "type": "MLP",
            "nin": 2,
            "nouts": [1],
            "activation": "relu",
            "output_activation": "linear",
        },
        "weights": [{"w": [[2.0, -3]], "b": [0.5]}],
    }
    path.write_text(json.dumps(document))
    model = MLP.from_file(path)
    assert model([1.0, 1.0]).data == 2.0 - 3.0 + 0.5


def test_from_file_rebuilds_architecture_and_weights(tmp_path):
    model = MLP(3, [4, 2], activation="tanh", output_activation="sigmoid", seed=5)
    path = tmp_path / "m.json"
    model.save(path)
    state = random.getstate()
    copy = MLP.from_file(path)
    assert random.getstate() == state
    assert copy.architecture() == model.architecture()
    assert weights(copy) == weights(model)
    assert [o.data for o in copy([0.1, 0.2, 0.3])] == [o.data for o in model([0.1, 0.2, 0.3])]


def test_from_file_refuses_a_file_holding_something_else(tmp_path):
    path = tmp_path / "n.json"
    Neuron(3, rng=random.Random(0)).save(path)
    with pytest.raises(ValueError, match="holds a Neuron, not an MLP"):
        MLP.from_file(path)


@pytest.mark.parametrize(
    "make",
    [lambda: Neuron(3, activation="tanh", rng=random.Random(0)), lambda: Layer(3, 2, rng=random.Random(0))],
)
def test_neurons_and_layers_save_and_load_too(tmp_path, make):
    model, other = make(), make()
    for p in other.parameters():
        p.data = 0.0
    model.save(tmp_path / "x.json")
    other.load(tmp_path / "x.json")
    assert weights(other) == weights(model)


def test_the_computation_mode_is_not_part_of_the_architecture(saved):
    model, path = saved
    teaching = MLP(2, [3, 2], seed=1, fused=False)
    teaching.load(path)
    assert weights(teaching) == weights(model)


def test_save_writes_atomically_and_leaves_no_temporary_file(saved):
    model, path = saved
    model.layers[0].neurons[0].b.data = 42.0
    model.save(path)
    assert os.listdir(path.parent) == ["model.json"]
    assert json.loads(path.read_text())["weights"][0]["b"][0] == 42.0


def test_a_save_that_fails_before_the_rename_keeps_the_old_file(saved, monkeypatch):
    model, path = saved
    before = path.read_bytes()
    model.layers[0].neurons[0].b.data = 42.0

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert os.listdir(path.parent) == ["model.json"]


def test_a_module_not_made_of_neurons_cannot_be_saved(tmp_path):
    with pytest.raises(TypeError, match="cannot be saved"):
        Module().save(tmp_path / "x.json")


# -- corrupted files --------------------------------------------------------------------------------


def edit(change):
    """A corruption made on the parsed document, written back as JSON."""

    def corrupt(text):
        document = json.loads(text)
        change(document)
        return json.dumps(document)

    return corrupt


def set_in(keys, value):
    def change(document):
        target = document
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return edit(change)


def delete(*keys):
    def change(document):
        target = document
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]

    return edit(change)


def last_weight_text(replacement):
    """Replace the very last weight's number in the raw text (NaN, Infinity are not JSON numbers)."""

    def corrupt(text):
        document = json.loads(text)
        marker = 123.456
        document["weights"][1]["b"][1] = marker
        return json.dumps(document).replace(repr(marker), replacement)

    return corrupt


CORRUPTIONS = {
    "truncated": (lambda text: text[: len(text) // 2], "JSON is corrupt"),
    "empty": (lambda text: "", "JSON is corrupt"),
    "deeply nested": (lambda text: "[" * 100_000 + "]" * 100_000, "nested too deeply"),
    "not an object": (lambda text: "[1, 2]", "must be a JSON object"),
    "missing format": (delete("format"), r"missing the key\(s\) \['format'\]"),
    "wrong format": (set_in(["format"], "pickle"), "format is 'pickle'"),
    "missing version": (delete("version"), r"missing the key\(s\) \['version'\]"),
    "future version": (set_in(["version"], 2), "version 2 is not supported"),
    "string version": (set_in(["version"], "1"), "version '1' is not supported"),
    "bool version": (set_in(["version"], True), "version True is not supported"),
    "extra key": (set_in(["code"], "import os"), r"unexpected key\(s\) \['code'\]"),
    "missing architecture": (delete("architecture"), r"missing the key\(s\) \['architecture'\]"),
    "unknown type": (set_in(["architecture", "type"], "Conv"), "type must be one of"),
    "bool size": (set_in(["architecture", "nin"], True), "nin must be an integer >= 1, got True"),
    "zero size": (set_in(["architecture", "nouts"], [3, 0]), r"nouts\[1\] must be an integer >= 1"),
    "unknown activation": (set_in(["architecture", "activation"], "gelu"), "activation is 'gelu'"),
    "architecture missing key": (delete("architecture", "nouts"), r"missing the key\(s\) \['nouts'\]"),
    "missing weights": (delete("weights"), r"missing the key\(s\) \['weights'\]"),
    "too few layers": (edit(lambda d: d["weights"].pop()), "must be a list of 2 layers, got 1"),
    "weights not a list": (set_in(["weights"], {"w": 1}), "must be a list of 2 layers, got dict"),
    "layer not an object": (set_in(["weights", 1], [[0.0]]), "must be a JSON object"),
    "layer missing biases": (delete("weights", 1, "b"), r"missing the key\(s\) \['b'\]"),
    "too few rows": (edit(lambda d: d["weights"][1]["w"].pop()), r"weights\[1\]\.w must hold 2 rows"),
    "short row": (edit(lambda d: d["weights"][1]["w"][1].pop()), r"weights\[1\]\.w\[1\] must hold 3 weights"),
    "too many biases": (
        edit(lambda d: d["weights"][1]["b"].append(0.0)),
        r"weights\[1\]\.b must hold 2 biases",
    ),
    "string weight": (
        set_in(["weights", 1, "w", 1, 2], "0.5"),
        r"w\[1\]\[2\] is str '0.5'; a weight must be a number",
    ),
    "null weight": (set_in(["weights", 1, "w", 1, 2], None), "is NoneType None; a weight must be a number"),
    "bool weight": (set_in(["weights", 1, "b", 1], True), r"b\[1\] is bool True; a weight must be a number"),
    "list weight": (set_in(["weights", 1, "b", 1], [1.0]), "a weight must be a number"),
    "NaN": (last_weight_text("NaN"), "NaN is not a number a weight can have"),
    "Infinity": (last_weight_text("-Infinity"), "-Infinity is not a number a weight can have"),
    "overflowing float": (last_weight_text("1e999"), r"b\[1\] is inf; a weight must be a finite number"),
    "overflowing int": (last_weight_text("1" + "0" * 400), "a weight must be a finite number"),
}


# valid files, but for another model
MISMATCHES = {
    "other layer sizes": (set_in(["architecture", "nouts"], [4, 2]), r"does not match the model \(nouts"),
    "other activation": (
        set_in(["architecture", "activation"], "tanh"),
        "activation: file 'tanh', model 'relu'",
    ),
    "other type": (
        set_in(["architecture"], {"type": "Neuron", "nin": 2, "activation": "relu"}),
        "type: file",
    ),
}


@pytest.mark.parametrize("name", [*CORRUPTIONS, *MISMATCHES])
def test_a_bad_file_is_refused_with_a_reason_and_the_model_is_unchanged(saved, name):
    _, path = saved
    corrupt, message = CORRUPTIONS.get(name) or MISMATCHES[name]
    path.write_text(corrupt(path.read_text()))
    # the other model's first layer would already be overwritten by a loader that checks as it goes
    other = MLP(2, [3, 2], seed=1)
    before = weights(other)
    with pytest.raises(ValueError, match=message):
        other.load(path)
    assert weights(other) == before
    if name in CORRUPTIONS:  # a file for another architecture is still one from_file can build
        with pytest.raises(ValueError, match=message):
            MLP.from_file(path)


def test_a_binary_file_is_refused_as_not_text(saved):
    _, path = saved
    path.write_bytes(b"\x80\x04\x95pickle\xff")
    with pytest.raises(ValueError, match="not UTF-8 text"):
        MLP(2, [3, 2], seed=1).load(path)


def test_a_file_for_another_architecture_names_both(tmp_path):
    path = tmp_path / "big.json"
    MLP(2, [16, 16, 1], seed=0).save(path)
    with pytest.raises(ValueError, match=r"nouts: file \[16, 16, 1\], model \[3, 2\]"):
        MLP(2, [3, 2], seed=0).load(path)


def test_a_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        MLP(2, [3, 2], seed=0).load(tmp_path / "nope.json")
