"""Neurons, layers and multi-layer perceptrons built on the engine, saved as JSON, bridged to PyTorch.

A neuron computes ``out = activation(net)`` with ``net = sum_i w_i x_i + b``. By default the
weighted sum is ONE graph node (the engine's fused ``linear`` op, whose backward is the delta
rule); ``fused=False`` builds the ``w_i * x_i`` and ``+`` nodes one by one, to look at in a drawing.

Parameters are labelled ``L{layer}.N{neuron}.w{i}`` and ``L{layer}.N{neuron}.b`` (0-based), which
is also their name in ``named_parameters()`` and ``state_dict()``, and what the graph renderer
groups by.
"""

from __future__ import annotations

import json
import math
import os
import random
import reprlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from numbers import Real
from pathlib import Path
from typing import TYPE_CHECKING, Any

from micrograd.data import check_count, make_rng
from micrograd.engine import Value, affine, affine_layer
from micrograd.files import read_regular, write_atomic
from micrograd.install import require

if TYPE_CHECKING:  # torch is imported only inside the bridge functions
    import torch

Input = Value | float
Output = Value | list[Value]
PathLike = str | os.PathLike[str]

ACTIVATIONS: dict[str, Callable[[Value], Value] | None] = {
    "relu": Value.relu,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "linear": None,
}
_DISPLAY = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "linear": "Linear"}

# Half-width of the uniform(-a, a) each weight is drawn from; biases start at 0 (as in the classic).
# kaiming (He): Var w = 2 / fan_in, for ReLU; xavier (Glorot): Var w = 2 / (fan_in + fan_out);
# lecun: Var w = 1 / fan_in. A uniform(-a, a) has variance a^2 / 3.
INITS: dict[str, Callable[[int, int], float]] = {
    "uniform": lambda fan_in, fan_out: 1.0,
    "kaiming": lambda fan_in, fan_out: math.sqrt(6.0 / fan_in),
    "xavier": lambda fan_in, fan_out: math.sqrt(6.0 / (fan_in + fan_out)),
    "lecun": lambda fan_in, fan_out: math.sqrt(3.0 / fan_in),
}

FORMAT = "micrograd-model"
FORMAT_VERSION = 1
# The largest model a file may hold. A file's architecture is checked against these, and its weights
# against its architecture, before anything is built: a tiny file claiming nin = 30,000,000 costs
# nothing. A saved weight takes at most 31 bytes (indent, 24 characters of digits, ",\n"), so a
# file of MAX_PARAMETERS weights fits in MAX_FILE_BYTES, and no larger file is read.
MAX_PARAMETERS = 1_000_000
MAX_LAYERS = 100
MAX_FILE_BYTES = 40_000_000


def _choice(value: object, options: Mapping[str, object], what: str) -> str:
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"unknown {what} {value!r}; choose one of {', '.join(options)}")
    return value


def _inputs(x: object, nin: int, who: str) -> list[Input]:
    """The inputs as a list of Values and floats, or an error naming what is wrong with them."""
    if isinstance(x, (str, bytes, Value, Real)) or not isinstance(x, Iterable):
        raise TypeError(f"{who} takes a list of {nin} numbers or Values, got {type(x).__name__} {x!r}")
    row = list(x)
    if len(row) != nin:
        raise ValueError(f"{who} expects {nin} inputs, received {len(row)}: {row!r}")
    for i, v in enumerate(row):
        if type(v) is float or isinstance(v, Value):
            pass
        elif isinstance(v, bool) or not isinstance(v, Real):
            raise TypeError(f"{who}: input {i} is {type(v).__name__} {v!r}; inputs must be numbers or Values")
        else:
            try:
                row[i] = v = float(v)
            except OverflowError:
                raise ValueError(
                    f"{who}: input {i} is an int of {int(v).bit_length()} bits, too large for a float; "
                    "inputs must be finite numbers"
                ) from None
        if type(v) is float and not math.isfinite(v):
            raise ValueError(f"{who}: input {i} is {v!r}; inputs must be finite numbers")
    return row


@dataclass(frozen=True)
class ParameterRole:
    """Where a parameter sits in a model: layer and neuron (0-based, in the model's order) and what it is."""

    layer: int
    neuron: int
    kind: str  # "weight" or "bias"
    index: int  # the input a weight multiplies (0-based); -1 for a bias
    name: str  # as named_parameters() names it: "L0.N1.w0"


@dataclass(frozen=True)
class NeuronInfo:
    """One neuron of a model: its position, name, activation and parameters tuple (w_1..w_n, b)."""

    layer: int
    index: int
    name: str
    activation: str
    params: tuple[Value, ...]


@dataclass(frozen=True)
class Structure:
    """A model's shape, as pictures, explanations and the training page read it (passed, not parsed
    back from labels): its input count, its layers of neurons, and every parameter's role."""

    nin: int
    layers: tuple[tuple[NeuronInfo, ...], ...]
    params: Mapping[Value, ParameterRole]

    def neuron_of(self, node: Value) -> NeuronInfo | None:
        """The neuron whose forward pass made ``node``: its weighted sum (a fused ``linear`` node, or
        the ``.net`` node of an unfused one), or its activation applied to that sum; else None."""
        by_params, by_name = self._lookup
        if node._op == "linear" and node._b is not None:
            return by_params.get(id(node._a))
        label = node.label
        if label.endswith((".net", ".out")) and label.rsplit(".", 1)[0] in by_name:
            return by_name[label.rsplit(".", 1)[0]]
        operands = node.operands()
        if len(operands) == 1 and isinstance(operands[0], Value):
            inner = operands[0]
            if inner._op == "linear" and inner._b is not None:
                info = by_params.get(id(inner._a))
                # only the neuron's own activation: exp(logit) of a linear output neuron is the loss's
                return info if info is not None and node._op == info.activation else None
        return None

    @cached_property
    def _lookup(self) -> tuple[dict[int, NeuronInfo], dict[str, NeuronInfo]]:
        """Each neuron by its parameters tuple (by identity) and by name: built once per Structure."""
        neurons = [n for layer in self.layers for n in layer]
        return {id(n.params): n for n in neurons}, {n.name: n for n in neurons}


class Module:
    """Anything with parameters: zero their gradients, read and write them, save and load them."""

    def __call__(self, x: Sequence[Input]) -> Output:
        raise NotImplementedError(f"{type(self).__name__} does not define a forward pass")

    def named_parameters(self) -> list[tuple[str, Value]]:
        return []

    def parameters(self) -> list[Value]:
        # every neuron keeps its parameters in one tuple: no names to format on each training step
        return [p for layer in self._neuron_layers() for neuron in layer for p in neuron._params]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0

    def structure(self) -> Structure:
        """The model's layers of neurons and each parameter's role (layer, neuron, weight i or bias)."""
        layers = self._neuron_layers()
        infos = tuple(
            tuple(NeuronInfo(i, j, n.name, n.activation, n._params) for j, n in enumerate(layer))
            for i, layer in enumerate(layers)
        )
        params: dict[Value, ParameterRole] = {}
        for layer in infos:
            for n in layer:
                *weights, bias = n.params
                for k, w in enumerate(weights):
                    params[w] = ParameterRole(n.layer, n.index, "weight", k, f"{n.name}.w{k}")
                params[bias] = ParameterRole(n.layer, n.index, "bias", -1, f"{n.name}.b")
        return Structure(layers[0][0].nin, infos, params)

    def state_dict(self) -> dict[str, float]:
        """Parameter name -> value, in parameter order."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, float]) -> None:
        """Set every parameter from ``state``; checks all of it first, so a bad dict changes nothing."""
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state_dict takes a dict of name -> number, got {type(state).__name__}")
        named = self.named_parameters()
        names = [name for name, _ in named]
        missing = [n for n in names if n not in state]
        known = set(names)
        unexpected = [k for k in state if k not in known]
        if missing or unexpected:
            raise ValueError(
                f"state dict does not fit this {type(self).__name__}: missing {missing[:5]}"
                f"{' ...' if len(missing) > 5 else ''}, unexpected {unexpected[:5]}"
                f"{' ...' if len(unexpected) > 5 else ''}"
            )
        values = [_weight(state[name], f"state[{name!r}]") for name in names]
        for (_, p), value in zip(named, values):
            p.data = value

    # -- saved models -------------------------------------------------------------------------

    def _neuron_layers(self) -> list[list[Neuron]]:
        """The neurons layer by layer: what a saved file's weights are laid out by."""
        raise TypeError(
            f"{type(self).__name__} cannot be saved or loaded: files hold models made of "
            "Neurons (Neuron, Layer, MLP)"
        )

    def architecture(self) -> dict[str, Any]:
        """What a saved file records about the model's shape (everything but the weights)."""
        self._neuron_layers()  # a module that is not made of neurons says so here
        raise NotImplementedError

    def save(self, path: PathLike) -> None:
        """Write the model as JSON (format, version, architecture, weights), atomically.

        The file is written in full to a temporary file in the same directory and then renamed
        over ``path``, so a crash leaves either the old file or the new one, never half of one
        (see ``files.write_atomic``: symlinks are written through, an existing file keeps its
        permissions). A weight that is not finite is named and nothing is written; so is a model
        larger than a file may hold (``MAX_PARAMETERS``, ``MAX_LAYERS``).
        """
        layers = self._neuron_layers()
        _check_size(_shape(self.architecture()), f"cannot save {path}: the model")
        bad = [(name, p.data) for name, p in self.named_parameters() if not math.isfinite(p.data)]
        if bad:
            name, value = bad[0]
            more = f" (and {len(bad) - 1} more parameters)" if len(bad) > 1 else ""
            raise ValueError(
                f"cannot save {path}: parameter {name} is {value!r}{more}; a saved weight must be a "
                "finite number (no op makes one: was its .data set to it?)"
            )
        document = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "architecture": self.architecture(),
            "weights": [
                {"w": [[w.data for w in n.w] for n in layer], "b": [n.b.data for n in layer]}
                for layer in layers
            ],
        }
        write_atomic(Path(path), json.dumps(document, indent=1, allow_nan=False).encode("utf-8"))

    def load(self, path: PathLike) -> None:
        """Set the weights from a file written by ``save``; the model changes only if ALL of it is valid."""
        document = _read_model_file(path)
        expected = self.architecture()
        found = document["architecture"]
        if found != expected:
            differences = [
                f"{key}: file {found.get(key)!r}, model {expected.get(key)!r}"
                for key in dict.fromkeys([*expected, *found])
                if found.get(key) != expected.get(key)
            ]
            raise ValueError(f"{path}: architecture does not match the model ({'; '.join(differences)})")
        self._set_weights(_check_weights(document["weights"], _shape(found), str(path)))

    def _set_weights(self, values: list[tuple[list[list[float]], list[float]]]) -> None:
        for layer, (rows, biases) in zip(self._neuron_layers(), values):
            for neuron, row, bias in zip(layer, rows, biases):
                for w, value in zip(neuron.w, row):
                    w.data = value
                neuron.b.data = bias


class Neuron(Module):
    """``out = activation(sum_i w_i x_i + b)``; ``nonlin=False`` or activation="linear": a linear unit."""

    def __init__(
        self,
        nin: int,
        nonlin: bool = True,
        activation: str | None = None,
        fused: bool = True,
        init: str = "uniform",
        rng: random.Random | None = None,
        fan_out: int = 1,
        name: str = "L0.N0",
    ) -> None:
        self.nin = check_count(nin, "nin")
        self.activation = _choice(
            activation if activation is not None else ("relu" if nonlin else "linear"),
            ACTIVATIONS,
            "activation",
        )
        self.fused = bool(fused)
        self.init = _choice(init, INITS, "init")
        self.name = name
        bound = INITS[init](self.nin, fan_out)
        # without a generator, the global random state, so random.seed(...) works as in the classic
        uniform = rng.uniform if rng is not None else random.uniform
        weights = [Value(uniform(-bound, bound), label=f"{name}.w{i}") for i in range(self.nin)]
        # one tuple (w_1..w_n, b) for the neuron's life: every forward's linear node shares it,
        # so a graph walk visits the parameters once, not once per sample
        self._params = (*weights, Value(0.0, label=f"{name}.b"))
        self._act = ACTIVATIONS[self.activation]

    @property
    def w(self) -> tuple[Value, ...]:
        """The weights (fixed nodes: training changes their ``.data``)."""
        return self._params[:-1]

    @property
    def b(self) -> Value:
        return self._params[-1]

    def __call__(self, x: Sequence[Input]) -> Value:
        return self._forward(_inputs(x, self.nin, f"Neuron {self.name}"))

    def _forward(self, x: Sequence[Input]) -> Value:
        if self.fused:
            net = affine(self._params, x)  # engine.linear(w, x, b), without re-packing w and b
            return self._act(net) if self._act else net
        net = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        # labels only in teaching mode: a label costs memory in every node of every forward pass
        if self._act is None:
            net.label = f"{self.name}.out"
            return net
        net.label = f"{self.name}.net"
        out = self._act(net)
        out.label = f"{self.name}.out"
        return out

    def named_parameters(self) -> list[tuple[str, Value]]:
        return [*((f"{self.name}.w{i}", w) for i, w in enumerate(self.w)), (f"{self.name}.b", self.b)]

    def _neuron_layers(self) -> list[list[Neuron]]:
        return [[self]]

    def architecture(self) -> dict[str, Any]:
        return {"type": "Neuron", "nin": self.nin, "activation": self.activation}

    def __repr__(self) -> str:
        return f"{_DISPLAY[self.activation]}Neuron({self.nin})"


class Layer(Module):
    """``nout`` neurons reading the same inputs; a layer of one neuron returns a single Value."""

    def __init__(self, nin: int, nout: int, name: str = "L0", **kwargs: Any) -> None:
        self.nin = check_count(nin, "nin")
        self.nout = check_count(nout, "nout")
        self.name = name
        kwargs.setdefault("fan_out", self.nout)
        self.neurons = [Neuron(nin, name=f"{name}.N{j}", **kwargs) for j in range(self.nout)]
        self.activation = self.neurons[0].activation
        self._fused = self.neurons[0].fused
        self._neuron_params = [n._params for n in self.neurons]
        self._activation_key = None if self.activation == "linear" else self.activation

    def __call__(self, x: Sequence[Input]) -> Output:
        outs = self._forward(_inputs(x, self.nin, f"Layer {self.name}"))
        return outs[0] if len(outs) == 1 else outs

    def _forward(self, x: Sequence[Input]) -> list[Value]:
        x = tuple(x)  # one inputs tuple shared by every neuron's linear node
        if self._fused:  # the nodes of n._forward(x) for each neuron, built in one loop
            return affine_layer(self._neuron_params, x, self._activation_key)
        return [n._forward(x) for n in self.neurons]

    def named_parameters(self) -> list[tuple[str, Value]]:
        return [item for n in self.neurons for item in n.named_parameters()]

    def _neuron_layers(self) -> list[list[Neuron]]:
        return [self.neurons]

    def architecture(self) -> dict[str, Any]:
        return {"type": "Layer", "nin": self.nin, "nout": self.nout, "activation": self.activation}

    def __repr__(self) -> str:
        """``Layer(2 -> 16 relu, 48 parameters)``: one line, however wide the layer."""
        return f"Layer({self.nin} -> {self.nout} {self.activation}, {_count(self.parameters())})"


class MLP(Module):
    """A multi-layer perceptron: ``MLP(2, [16, 16, 1])`` has two ReLU layers of 16 and a linear output.

    ``seed`` makes the initial weights reproducible (drawn from their own generator, not the
    global random state); ``init`` picks the scheme: "uniform" (the classic uniform(-1, 1)),
    "kaiming", "xavier" or "lecun" (scaled by fan-in).
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "relu",
        fused: bool = True,
        init: str = "uniform",
        seed: int | None = None,
        output_activation: str = "linear",
    ) -> None:
        self.nin = check_count(nin, "nin")
        if isinstance(nouts, (str, bytes)) or not isinstance(nouts, Sequence) or len(nouts) == 0:
            raise ValueError(
                f"nouts must be a non-empty list of layer sizes, e.g. [16, 16, 1]; got {nouts!r}"
            )
        self.nouts = [check_count(n, f"nouts[{i}]") for i, n in enumerate(nouts)]
        self.activation = _choice(activation, ACTIVATIONS, "activation")
        self.output_activation = _choice(output_activation, ACTIVATIONS, "output_activation")
        rng = make_rng(seed) if seed is not None else None
        sizes = [self.nin, *self.nouts]
        last = len(self.nouts) - 1
        self.layers = [
            Layer(
                sizes[i],
                sizes[i + 1],
                name=f"L{i}",
                activation=self.output_activation if i == last else self.activation,
                fused=fused,
                init=init,
                rng=rng,
            )
            for i in range(len(self.nouts))
        ]

    def __call__(self, x: Sequence[Input]) -> Output:
        out: list[Input] | list[Value] = _inputs(x, self.nin, "MLP")
        for layer in self.layers:
            out = layer._forward(out)
        return out[0] if len(out) == 1 else out  # type: ignore[return-value]

    def named_parameters(self) -> list[tuple[str, Value]]:
        return [item for layer in self.layers for item in layer.named_parameters()]

    def _neuron_layers(self) -> list[list[Neuron]]:
        return [layer.neurons for layer in self.layers]

    def architecture(self) -> dict[str, Any]:
        return {
            "type": "MLP",
            "nin": self.nin,
            "nouts": list(self.nouts),
            "activation": self.activation,
            "output_activation": self.output_activation,
        }

    @classmethod
    def from_file(cls, path: PathLike, fused: bool = True) -> MLP:
        """A new MLP with the architecture and weights saved in ``path`` (checked in full first).

        The weights are checked against the file's architecture before the model is built, and the
        architecture against ``MAX_PARAMETERS`` and ``MAX_LAYERS``: a file cannot make this build
        a model its weights do not fill.
        """
        document = _read_model_file(path)
        arch = document["architecture"]
        if arch["type"] != "MLP":
            raise ValueError(f"{path}: the file holds a {arch['type']}, not an MLP")
        values = _check_weights(document["weights"], _shape(arch), str(path))
        model = cls(
            arch["nin"],
            arch["nouts"],
            activation=arch["activation"],
            output_activation=arch["output_activation"],
            fused=fused,
            seed=0,  # the file's weights replace these; a seed leaves the global random state alone
        )
        model._set_weights(values)
        return model

    def __repr__(self) -> str:
        """``MLP(2 -> 16 relu -> 16 relu -> 1 linear, 337 parameters)``: one line, however big the net."""
        sizes = " -> ".join(f"{layer.nout} {layer.activation}" for layer in self.layers)
        return f"MLP({self.nin} -> {sizes}, {_count(self.parameters())})"


# ------------------------------------------------------------------------------------------------
# Reading saved models: everything is checked before any parameter is touched.


def _weight(x: object, where: str) -> float:
    if isinstance(x, bool) or not isinstance(x, Real):
        raise ValueError(f"{where} is {type(x).__name__} {_short(x)}; a weight must be a number")
    try:
        value = float(x)
    except OverflowError:
        value = math.inf
    if not math.isfinite(value):
        raise ValueError(f"{where} is {_short(x)}; a weight must be a finite number")
    return value


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number a weight can have (every weight is finite)")


def _fields(obj: object, keys: Sequence[str], where: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise ValueError(f"{where} must be a JSON object with keys {list(keys)}, got {type(obj).__name__}")
    missing = [k for k in keys if k not in obj]
    if missing:
        raise ValueError(f"{where} is missing the key(s) {missing}")
    extra = [k for k in obj if k not in keys]
    if extra:
        raise ValueError(f"{where} has unexpected key(s) {_short(extra)}; expected exactly {list(keys)}")
    return obj


_ARCH_KEYS = {
    "Neuron": ["type", "nin", "activation"],
    "Layer": ["type", "nin", "nout", "activation"],
    "MLP": ["type", "nin", "nouts", "activation", "output_activation"],
}


def _check_architecture(arch: object, where: str) -> dict[str, Any]:
    kind = arch.get("type") if isinstance(arch, dict) else None
    if not isinstance(kind, str) or kind not in _ARCH_KEYS:
        raise ValueError(f"{where}.type must be one of {list(_ARCH_KEYS)}, got {_short(kind)}")
    arch = _fields(arch, _ARCH_KEYS[kind], where)  # type: ignore[arg-type]
    sizes: dict[str, Any] = {k: arch[k] for k in ("nin", "nout") if k in arch}
    if kind == "MLP":
        nouts = arch["nouts"]
        if not isinstance(nouts, list) or not nouts:
            raise ValueError(f"{where}.nouts must be a non-empty list of layer sizes, got {_describe(nouts)}")
        if len(nouts) > MAX_LAYERS:
            raise ValueError(
                f"{where}.nouts has {len(nouts):,} layers; a saved model has at most {MAX_LAYERS}"
            )
        sizes.update({f"nouts[{i}]": n for i, n in enumerate(nouts)})
    for key, n in sizes.items():
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"{where}.{key} must be an integer >= 1, got {_short(n)}")
    for key in ("activation", "output_activation"):
        if key in arch and (not isinstance(arch[key], str) or arch[key] not in ACTIVATIONS):
            raise ValueError(f"{where}.{key} is {_short(arch[key])}; expected one of {list(ACTIVATIONS)}")
    _check_size(_shape(arch), f"{where} describes a model that")
    return arch


def _shape(arch: Mapping[str, Any]) -> list[tuple[int, int]]:
    """(neurons, inputs per neuron) of each layer of a checked architecture."""
    if arch["type"] == "Neuron":
        return [(1, arch["nin"])]
    if arch["type"] == "Layer":
        return [(arch["nout"], arch["nin"])]
    sizes = [arch["nin"], *arch["nouts"]]
    return [(sizes[i + 1], sizes[i]) for i in range(len(arch["nouts"]))]


def _check_size(shape: Sequence[tuple[int, int]], what: str) -> None:
    """Refuse a model beyond MAX_PARAMETERS (counted with exact integers, however large the claim)."""
    count = sum(nout * (nin + 1) for nout, nin in shape)
    if count > MAX_PARAMETERS:
        raise ValueError(f"{what} has {count:,} parameters; a saved model has at most {MAX_PARAMETERS:,}")
    if len(shape) > MAX_LAYERS:
        raise ValueError(f"{what} has {len(shape):,} layers; a saved model has at most {MAX_LAYERS}")


def _read_model_file(path: PathLike) -> dict[str, Any]:
    """A saved model's document, its structure and architecture checked (weights: by the caller).

    Only a regular file of at most MAX_FILE_BYTES is read (never a FIFO or a device).
    """
    raw = read_regular(path, MAX_FILE_BYTES, "a saved model")
    try:
        document = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not a saved model: the file is not UTF-8 text ({exc})") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not a saved model: the JSON is corrupt ({exc})") from None
    except RecursionError:
        raise ValueError(f"{path}: not a saved model: the JSON is nested too deeply") from None
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    document = _fields(document, ["format", "version", "architecture", "weights"], f"{path}")
    if document["format"] != FORMAT:
        raise ValueError(f"{path}: format is {_short(document['format'])}, expected {FORMAT!r}")
    version = document["version"]
    if isinstance(version, bool) or version != FORMAT_VERSION or not isinstance(version, int):
        raise ValueError(
            f"{path}: format version {_short(version)} is not supported "
            f"(this micrograd reads {FORMAT_VERSION})"
        )
    _check_architecture(document["architecture"], f"{path}: architecture")
    return document


def _short(x: object) -> str:
    """``repr(x)`` of at most 5 items a list and about 60 characters: a message quotes a value from a
    file, not the file (a 40 MB list is not repr'd whole)."""
    return _SHORT.repr(x)


_SHORT = reprlib.Repr()
_SHORT.maxlist = _SHORT.maxdict = 5
_SHORT.maxstring = _SHORT.maxlong = _SHORT.maxother = 60


def _check_weights(
    weights: object, shape: Sequence[tuple[int, int]], source: str
) -> list[tuple[list[list[float]], list[float]]]:
    """Each layer's (rows of w, biases) as floats, if ``weights`` has exactly the layers' shapes."""
    if not isinstance(weights, list) or len(weights) != len(shape):
        count = len(weights) if isinstance(weights, list) else type(weights).__name__
        raise ValueError(f"{source}: weights must be a list of {len(shape)} layers, got {count}")
    values = []
    for i, (layer, (nout, nin)) in enumerate(zip(weights, shape)):
        where = f"{source}: weights[{i}]"
        layer = _fields(layer, ["w", "b"], where)
        w, b = layer["w"], layer["b"]
        if not isinstance(w, list) or len(w) != nout:
            raise ValueError(f"{where}.w must hold {nout} rows (one per neuron), got {_describe(w)}")
        if not isinstance(b, list) or len(b) != nout:
            raise ValueError(f"{where}.b must hold {nout} biases (one per neuron), got {_describe(b)}")
        rows = []
        for j, row in enumerate(w):
            if not isinstance(row, list) or len(row) != nin:
                raise ValueError(
                    f"{where}.w[{j}] must hold {nin} weights (one per input), got {_describe(row)}"
                )
            rows.append([_weight(x, f"{where}.w[{j}][{k}]") for k, x in enumerate(row)])
        values.append((rows, [_weight(x, f"{where}.b[{j}]") for j, x in enumerate(b)]))
    return values


def _count(params: Sequence[Value]) -> str:
    return f"{len(params):,} parameter{'' if len(params) == 1 else 's'}"


def _describe(x: object) -> str:
    return f"a list of {len(x)}" if isinstance(x, list) else f"{type(x).__name__} {_short(x)}"


# ------------------------------------------------------------------------------------------------
# The bridge to PyTorch (torch is imported here only, when asked for)


def to_torch(model: MLP) -> torch.nn.Sequential:
    """An equivalent ``torch.nn.Sequential`` (Linear + activation modules) in float64, same weights."""
    require("torch", "to_torch", "torch")
    import torch

    if not isinstance(model, MLP):
        raise TypeError(f"to_torch takes an MLP, got {type(model).__name__}")
    modules: list[torch.nn.Module] = []
    for layer in model.layers:
        linear_ = torch.nn.Linear(layer.nin, layer.nout, dtype=torch.float64)
        with torch.no_grad():
            linear_.weight.copy_(
                torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64)
            )
            linear_.bias.copy_(torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64))
        modules.append(linear_)
        if layer.activation != "linear":
            modules.append(_torch_activations()[layer.activation]())
    return torch.nn.Sequential(*modules)


def _torch_activations() -> dict[str, Any]:
    import torch

    return {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid}


def from_torch(sequential: torch.nn.Sequential, fused: bool = True) -> MLP:
    """An MLP equal to a ``Sequential`` of ``Linear`` layers, each optionally followed by ReLU/Tanh/Sigmoid.

    The hidden layers must share one activation (an MLP has one); the output may have its own.
    """
    require("torch", "from_torch", "torch")
    import torch

    if not isinstance(sequential, torch.nn.Sequential):
        raise TypeError(f"from_torch takes a torch.nn.Sequential, got {type(sequential).__name__}")
    by_class = {cls: name for name, cls in _torch_activations().items()}
    layers: list[list[Any]] = []  # [Linear, activation name]
    for i, module in enumerate(sequential):
        if isinstance(module, torch.nn.Linear):
            if layers and module.in_features != layers[-1][0].out_features:
                raise ValueError(
                    f"from_torch: module {i} ({module}) takes {module.in_features} inputs but the layer "
                    f"before it gives {layers[-1][0].out_features}"
                )
            layers.append([module, "linear"])
        elif type(module) in by_class or isinstance(module, torch.nn.Identity):
            if not layers or layers[-1][1] != "linear":
                raise ValueError(f"from_torch: module {i} ({module}) must follow a Linear layer directly")
            layers[-1][1] = by_class.get(type(module), "linear")
        else:
            raise ValueError(
                f"from_torch: module {i} is {module}; only Linear, ReLU, Tanh, Sigmoid and Identity convert"
            )
    if not layers:
        raise ValueError("from_torch: the Sequential has no Linear layer")
    hidden = {act for _, act in layers[:-1]}
    if len(hidden) > 1:
        raise ValueError(
            f"from_torch: hidden layers use different activations {sorted(hidden)}; an MLP has one"
        )
    model = MLP(
        layers[0][0].in_features,
        [lin.out_features for lin, _ in layers],
        activation=hidden.pop() if hidden else "relu",
        output_activation=layers[-1][1],
        fused=fused,
        seed=0,  # the weights are overwritten below; a seed leaves the global random state alone
    )
    for layer, (lin, _) in zip(model.layers, layers):
        rows = lin.weight.detach().to(torch.float64).tolist()
        biases = lin.bias.detach().to(torch.float64).tolist() if lin.bias is not None else [0.0] * layer.nout
        for neuron, row, bias in zip(layer.neurons, rows, biases):
            for w, value in zip(neuron.w, row):
                w.data = _weight(value, f"from_torch: {neuron.name} weight")
            neuron.b.data = _weight(bias, f"from_torch: {neuron.name}.b")
    return model
