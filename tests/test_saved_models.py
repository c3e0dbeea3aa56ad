"""Saved models: the JSON format, atomic writes, and every bad file refused before the model changes."""

import json
import os
import random
import re
import resource
import select
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from micrograd import nn
from micrograd.nn import MLP, Layer, Module, Neuron

REPO = Path(__file__).resolve().parents[1]


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
    # JSON lists and objects are unhashable: each is refused by the field's name, not a TypeError
    "list type": (
        set_in(["architecture", "type"], ["MLP"]),
        r"architecture\.type must be one of .*, got \['MLP'\]",
    ),
    "object type": (set_in(["architecture", "type"], {"MLP": 1}), r"architecture\.type must be one of"),
    "list activation": (
        set_in(["architecture", "activation"], ["relu"]),
        r"architecture\.activation is \['relu'\]",
    ),
    "object activation": (set_in(["architecture", "activation"], {}), r"architecture\.activation is \{\}"),
    "list output activation": (
        set_in(["architecture", "output_activation"], ["linear"]),
        r"architecture\.output_activation is \['linear'\]",
    ),
    "huge value quoted short": (
        set_in(["architecture", "activation"], ["relu"] * 100_000),
        r"activation is \['relu', 'relu', 'relu', 'relu', 'relu', \.\.\.\]; expected one of",
    ),
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


# -- files that would take the machine ----------------------------------------------------------------

HUGE_CLAIM = (
    '{"format": "micrograd-model", "version": 1, "architecture": {"type": "MLP", "nin": 30000000, '
    '"nouts": [1], "activation": "relu", "output_activation": "linear"}, "weights": [{"w": [[0.0]], '
    '"b": [0.0]}]}'
)


LOAD_AND_MEASURE = """
import sys, tracemalloc
from micrograd.nn import MLP
tracemalloc.start()
try:
    MLP.from_file(sys.argv[1])
except ValueError as exc:
    print(exc)
print(tracemalloc.get_traced_memory()[1])
"""


def load_in_a_guarded_child(path: Path) -> tuple[str, int]:
    """``MLP.from_file(path)`` in a child limited to 1 GB and 60 s (a regression must not take the
    machine: this file once cost 3.9 GB and 112 s): the error message and the peak of allocations."""

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", LOAD_AND_MEASURE, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        preexec_fn=limit_memory,
    )
    assert done.returncode == 0, done.stderr
    message, peak = done.stdout.splitlines()
    return message, int(peak)


def test_a_tiny_file_claiming_a_huge_model_is_refused_before_anything_is_built(tmp_path):
    path = tmp_path / "huge.json"
    path.write_text(HUGE_CLAIM)
    assert path.stat().st_size < 250
    message, peak = load_in_a_guarded_child(path)
    # 30,000,000 weights of one neuron and its bias: 30,000,001 parameters, by hand
    assert message == (
        f"{path}: architecture describes a model that has 30,000,001 parameters; "
        "a saved model has at most 1,000,000"
    )
    assert peak < 1_000_000


def test_the_weights_are_checked_against_the_architecture_before_the_model_is_built(tmp_path):
    # within the limit (800,002 parameters: about 80 MB of Values), but the file holds one short row
    path = tmp_path / "short.json"
    path.write_text(HUGE_CLAIM.replace("30000000", "400000").replace("[1]", "[2]"))
    message, peak = load_in_a_guarded_child(path)
    assert message == f"{path}: weights[0].w must hold 2 rows (one per neuron), got a list of 1"
    assert peak < 1_000_000


def test_a_model_of_more_than_100_layers_is_refused(tmp_path):
    path = tmp_path / "deep.json"
    document = json.loads(HUGE_CLAIM.replace("30000000", "1"))
    document["architecture"]["nouts"] = [1] * 101
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match=r"nouts has 101 layers; a saved model has at most 100$"):
        MLP.from_file(path)


def test_a_file_larger_than_any_saved_model_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "big.json"
    with open(path, "wb") as f:
        f.truncate(40_000_001)  # sparse
    with pytest.raises(
        ValueError, match=r"it is 40,000,001 bytes; a saved model is at most 40,000,000 bytes"
    ):
        MLP.from_file(path)


def test_the_largest_model_a_file_may_hold_fits_in_the_file_size_limit(tmp_path):
    # every weight at its longest: 24 characters of digits, the most a float's repr has
    longest = -2.2250738585072014e-308
    assert len(repr(longest)) == 24
    model = MLP(9, [100], seed=0)  # 1,000 parameters
    for p in model.parameters():
        p.data = longest
    model.save(tmp_path / "m.json")
    per_parameter = (tmp_path / "m.json").stat().st_size / 1000
    assert per_parameter * nn.MAX_PARAMETERS <= nn.MAX_FILE_BYTES


def test_a_model_larger_than_a_file_may_hold_is_not_saved(tmp_path, monkeypatch):
    monkeypatch.setattr(nn, "MAX_PARAMETERS", 100)
    with pytest.raises(ValueError, match=r"the model has 110 parameters; a saved model has at most 100$"):
        MLP(10, [10], seed=0).save(tmp_path / "m.json")  # 10 neurons of 10 weights and a bias
    assert list(tmp_path.iterdir()) == []


FROM_A_FIFO = """
import sys
from micrograd.nn import MLP, Neuron
for load in (MLP.from_file, Neuron(2).load):
    try:
        load(sys.argv[1])
    except ValueError as exc:
        print(exc)
"""


def test_loading_from_a_fifo_is_refused_at_once(tmp_path):
    fifo = tmp_path / "model.json"
    os.mkfifo(fifo)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # in a child with a time limit: a loader that opens the FIFO waits forever for a writer
    done = subprocess.run(
        [sys.executable, "-c", FROM_A_FIFO, str(fifo)], capture_output=True, text=True, timeout=60, env=env
    )
    message = f"cannot read {fifo}: it is a named pipe (FIFO); a saved model is read only from a regular file"
    assert done.stdout.splitlines() == [message, message], done.stderr


# -- what save() promises --------------------------------------------------------------------------------


def test_a_weight_that_is_not_finite_is_named_and_nothing_is_written(saved):
    model, path = saved
    before = path.read_bytes()
    model.layers[1].neurons[0].w[2].data = float("nan")
    model.layers[0].neurons[1].b.data = float("inf")
    message = (
        f"cannot save {path}: parameter L0.N1.b is inf (and 1 more parameters); "
        "a saved weight must be a finite number"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}"):
        model.save(path)
    assert path.read_bytes() == before and os.listdir(path.parent) == ["model.json"]


def test_save_keeps_a_private_files_mode_and_writes_through_a_symlink(tmp_path):
    target = tmp_path / "models" / "moons.json"
    target.parent.mkdir()
    MLP(2, [3, 2], seed=0).save(target)
    os.chmod(target, 0o600)
    link = tmp_path / "latest.json"
    link.symlink_to(target)
    model = MLP(2, [3, 2], seed=1)
    model.save(link)
    assert link.is_symlink() and stat.S_IMODE(target.stat().st_mode) == 0o600
    assert weights(MLP.from_file(target)) == weights(model)


KILLED_MID_SAVE = """
import sys, time
import micrograd.files
from micrograd.nn import MLP
def stuck(fd):  # the temporary holds the whole new model; the rename has not happened
    print("written", flush=True)
    time.sleep(120)
micrograd.files.os.fsync = stuck
MLP(2, [3, 2], seed=1).save(sys.argv[1])
"""


def test_a_save_killed_midway_leaves_the_old_model_and_the_next_save_cleans_up(saved):
    model, path = saved
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_MID_SAVE, str(path)], stdout=subprocess.PIPE, env=env
    )
    try:
        ready, _, _ = select.select([child.stdout], [], [], 60)
        assert ready and child.stdout.readline() == b"written\n"  # type: ignore[union-attr]
    finally:
        child.kill()  # SIGKILL, mid-save
        child.wait(timeout=60)
    (left,) = [name for name in os.listdir(path.parent) if name != "model.json"]
    assert left.startswith(f".model.json.{child.pid}-") and left.endswith(".tmp")
    assert weights(MLP.from_file(path)) == weights(model)  # the old model, whole
    other = MLP(2, [3, 2], seed=2)
    other.save(path)
    assert os.listdir(path.parent) == ["model.json"]
    assert weights(MLP.from_file(path)) == weights(other)
