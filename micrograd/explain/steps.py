"""The steps model: one lesson of forward pass, backward pass and update, as numbers and op references.

``explain`` records, without writing any text:

- a ``ForwardStep`` per op node, in the order the forward pass computed them (each node's op, its
  operands and its value; the last one is the output, e.g. the loss);
- a ``Step`` per op node that backward takes, with its upstream gradient ``dL/dn`` and, for each
  operand, a ``Term``: the op's local-derivative formula and what its symbols stand for (from the
  rule table), the local derivative's value, the contribution ``upstream * local`` and the
  operand's gradient before and after;
- an ``UpdateStep`` per parameter when asked (``lr=`` or ``optimizer=``): old value, gradient, new value.

The renderers (``render_text``, ``render_markdown``, ``render_latex``, ``render_html``, ``images``)
each turn this model into one format.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Real
from typing import Any, overload

from micrograd.engine import FUNCTIONS, Op, Operand, Value, split_linear, topological_order
from micrograd.explain.order import (
    PARAMETER_LABEL,
    Network,
    constant_names,
    network_order,
    node_names,
    splits_into_roles,
)
from micrograd.fmt import DIGITS, check_digits
from micrograd.formula import Formula, FormulaError

ORDERS = ("auto", "network", "backward")


@dataclass(frozen=True)
class ForwardStep:
    """One node computed by the forward pass: ``name = op(operands) = value``."""

    number: int
    node: Value
    name: str
    rule: Op
    operands: tuple[Operand, ...]
    operand_names: tuple[str, ...]  # a constant's name is its number, or x1, x2 for a network's inputs
    neuron: str | None

    @property
    def op(self) -> str:
        return self.rule.name

    @property
    def value(self) -> float:
        return self.node.data

    def formula(self) -> tuple[str, dict[str, int]] | None:
        """The op as a formula (``"a * b"``, ``"w_1 * x_1 + w_2 * x_2 + b"``) and what each symbol
        stands for; None where the rule table has no way to write it (a classic node, ``neg``)."""
        return forward_formula(self.rule, self.operands)


@dataclass(frozen=True)
class Term:
    """One operand of a backward step: its local derivative, and its gradient before and after.

    A constant operand (a plain number) has no gradient: its ``grad_before``, ``grad_after`` and
    ``contribution`` are None.
    """

    operand: Value | float
    name: str
    local_grad: float | None
    contribution: float | None
    grad_before: float | None
    grad_after: float | None
    # True when the operand already had a gradient from another path (or from an earlier slot)
    adds_to_earlier: bool
    index: int = 0  # the operand's position in the node's operands
    formula: str = ""  # the local derivative as the rule table writes it, in the symbols below
    # what each symbol of the formula stands for: an operand's position, or -1 for the node itself (out)
    symbols: Mapping[str, int] = field(default_factory=dict)
    contributions: tuple[float, ...] = ()  # every contribution to the operand so far, this one last

    @property
    def is_constant(self) -> bool:
        return not isinstance(self.operand, Value)


@dataclass(frozen=True)
class Step:
    """One node's step of backward: its upstream gradient, pushed into each operand."""

    number: int
    node: Value
    name: str
    rule: Op
    upstream: float
    terms: tuple[Term, ...]
    neuron: str | None = None
    classic: bool = False  # made the classic way (a _backward closure): the numbers, no formula
    operand_names: tuple[str, ...] = ()

    @property
    def operands(self) -> tuple[Operand, ...]:
        return tuple(self.node.operands())

    @property
    def op(self) -> str:
        return self.rule.name

    @property
    def skipped(self) -> bool:
        """Backward skips a node whose upstream gradient is 0: it would add 0 to every operand."""
        return self.upstream == 0.0

    @property
    def delta_rule(self) -> bool:
        """A neuron's weighted sum: its upstream is the neuron's delta, dL/dw_i = delta * x_i."""
        return splits_into_roles(self.rule)

    def updated(self) -> list[Term]:
        """The terms whose operand's grad this step adds into (none when backward skips it)."""
        return [] if self.skipped else [term for term in self.terms if not term.is_constant]


@dataclass(frozen=True)
class UpdateStep:
    """One parameter's update: ``new = old - lr * grad`` (SGD), or what the optimizer's step gives."""

    number: int
    param: Value
    name: str
    old: float
    grad: float
    new: float
    lr: float | None  # None when the optimizer's rule is not plain SGD
    neuron: str | None = None


def forward_formula(rule: Op, operands: Sequence[Operand]) -> tuple[str, dict[str, int]] | None:
    """The op applied to its operands as a formula source, and the operand position of each symbol."""
    if not rule.key or rule.arity == 0:
        return None
    if splits_into_roles(rule):
        n = len(split_linear(operands)[0])
        parts = [f"w_{i + 1} * x_{i + 1}" for i in range(n)]
        symbols: dict[str, int] = {}
        for i in range(n):
            symbols[f"w_{i + 1}"], symbols[f"x_{i + 1}"] = i, n + i
        bias = operands[2 * n]
        if isinstance(bias, Value) or bias != 0.0:
            parts.append("b")
            symbols["b"] = 2 * n
        return " + ".join(parts) or "0", symbols
    if rule.arity == -1:
        symbols = {f"t_{i + 1}": i for i in range(len(operands))}
        return " + ".join(symbols), symbols
    names = rule.symbols[: len(operands)]
    if rule.infix and len(operands) == 2:
        source = f"{names[0]} {rule.name} {names[1]}"
    elif rule.name in FUNCTIONS:
        source = f"{rule.name}({', '.join(names)})"
    else:
        return None
    try:
        Formula(source)
    except FormulaError:
        return None
    return source, {name: i for i, name in enumerate(names)}


def local_formula(rule: Op, operands: Sequence[Operand], j: int) -> tuple[str, dict[str, int]]:
    """The local derivative d node / d operand j as the rule table writes it, and what its symbols
    stand for: an operand's position, or -1 for the node's own value (``out``)."""
    if not rule.key or not rule.formula:
        return "", {}
    if splits_into_roles(rule):
        n = len(split_linear(operands)[0])
        if j == 2 * n:
            return rule.formula[2], {}
        i = j % n
        return rule.formula[0 if j < n else 1], {"x_i": n + i, "w_i": i}
    if rule.arity == -1:
        return rule.formula[0], {}
    text = rule.formula[j] if j < len(rule.formula) else ""
    symbols = rule.symbols
    return text, {
        **{s: i for i, s in enumerate(symbols[: len(operands)])},
        **dict.fromkeys(symbols[len(operands) :], -1),
    }


def _accumulation_order(rule: Op, count: int) -> list[int]:
    """Operand positions in the order backward adds into them: a neuron's sum pairs w_i with x_i.

    The order matters only to the last bit, when one node fills several slots of one op.
    """
    if not splits_into_roles(rule):
        return list(range(count))
    n = (count - 1) // 2
    return [j for i in range(n) for j in (i, n + i)] + [2 * n]


def _local_grads(node: Value, upstream: float) -> tuple[float | None, ...]:
    """The node's local derivatives; None where backward never needs them (zero upstream) and they fail."""
    try:
        return node.local_grads()
    except (ArithmeticError, ValueError):
        if upstream != 0.0:
            raise
        return (None,) * len(node.operands())  # e.g. sqrt at 0: backward skips this node anyway


def _finite_rate(lr: object) -> float:
    if isinstance(lr, bool) or not isinstance(lr, Real) or not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"explain: lr must be a finite number > 0 (the learning rate), got {lr!r}")
    return float(lr)


def explain(
    root: Value,
    *,
    model: Any = None,
    lr: float | None = None,
    optimizer: Any = None,
    params: Iterable[Value] | None = None,
    digits: int = DIGITS,
    order: str = "auto",
) -> Explanation:
    """The forward pass, then ``root``'s backward pass node by node (exactly ``root.backward()``'s
    numbers), then, with ``lr=`` or ``optimizer=``, the update of every parameter.

    - ``model``: the ``micrograd.nn`` module that built the graph: hidden outputs are named after
      their neuron (``L0.N1``), inputs x1, x2, ..., and the backward steps go layer by layer from the
      output back, neuron by neuron. Without it the parameters' labels (``L0.N1.w0``) are read.
    - ``order``: "auto" (the network's order when there is a network, else backward's), "network",
      or "backward" (the reverse topological order ``backward()`` walks).
    - ``lr``: show SGD's update ``w <- w - lr * dL/dw``; ``optimizer``: show what its ``step()``
      gives (computed, then undone: explain changes no parameter and no optimizer state);
      ``params``: the values to update (default: the model's or optimizer's parameters, else the
      leaves labelled as nn parameters, else every leaf).
    - ``digits``: significant digits of the numbers shown (default 4: 0.08217, 4.386e-4).

    Fresh gradients: the explanation is of ONE pass. Every ``.grad`` in the graph (and of the
    parameters) is set to 0 first, so explaining twice, or after ``backward()``, shows the same
    steps; afterwards every ``.grad`` holds exactly what one ``backward()`` from zero gives.
    """
    if not isinstance(root, Value):
        raise TypeError(f"explain: root must be a Value, got {type(root).__name__} {root!r}")
    digits = check_digits(digits)
    if order not in ORDERS:
        raise ValueError(f"explain: order={order!r} is not one of {', '.join(map(repr, ORDERS))}")
    if lr is not None and optimizer is not None:
        raise ValueError("explain: give lr= (plain SGD) or optimizer=, not both")
    rate = _finite_rate(lr) if lr is not None else None
    if optimizer is not None and not (
        hasattr(optimizer, "params") and callable(getattr(optimizer, "step", None))
    ):
        raise TypeError(
            f"explain: optimizer must be a micrograd.optim optimizer, got {type(optimizer).__name__}"
        )

    nodes = topological_order(root)  # every node: names, and the positions pictures' ids use
    network = Network(nodes, model)
    names = node_names(nodes, network)
    extra = list(model.parameters()) if model is not None and hasattr(model, "parameters") else []
    if optimizer is not None:
        extra += list(optimizer.params)
    # 1. backward's own numbers, and its errors where it has any
    for node in [*nodes, *extra]:
        node.grad = 0.0
    root.backward()
    final = {node: node.grad for node in [*extra, *nodes]}
    # 2. the same pass, one node at a time, in the lesson's order
    for node in nodes:
        node.grad = 0.0
    root.grad = 1.0
    start = {node: node.grad for node in nodes}
    walk = list(reversed(topological_order(root, live_only=True)))  # backward stops at a relu at 0
    if order == "network" or (order == "auto" and network):
        walk = network_order(walk, network)
    try:
        steps = _walk(walk, names, network)
    finally:
        for node, value in final.items():  # 3. exactly backward's gradients, whatever the order
            node.grad = value
    forward = _forward(nodes, names, network)
    updates = _updates(steps, final, names, network, nodes, rate, optimizer, params, model)
    return Explanation(root, nodes, names, forward, steps, updates, start, digits, rate, optimizer)


def _operand_names(node: Value, names: Mapping[Value, str], network: Network) -> tuple[str, ...]:
    constants = constant_names(node, network, names)
    return tuple(
        names[x] if isinstance(x, Value) else constants.get(j, f"{x + 0.0:g}")
        for j, x in enumerate(node.operands())
    )


def _neuron_name(node: Value, network: Network) -> str | None:
    neuron = network.neuron_of(node)
    return neuron.name if neuron is not None else None


def _forward(nodes: Sequence[Value], names: Mapping[Value, str], network: Network) -> tuple[ForwardStep, ...]:
    steps: list[ForwardStep] = []
    for node in nodes:
        if node._rule.arity == 0:
            continue
        steps.append(
            ForwardStep(
                len(steps) + 1,
                node,
                names[node],
                node._rule,
                tuple(node.operands()),
                _operand_names(node, names, network),
                _neuron_name(node, network),
            )
        )
    return tuple(steps)


def _walk(walk: Sequence[Value], names: Mapping[Value, str], network: Network) -> tuple[Step, ...]:
    contributions: dict[Value, list[float]] = {}
    steps: list[Step] = []
    for node in walk:
        operands = node.operands()
        if not operands:
            continue  # a leaf: nothing to pass on
        rule = node._rule
        upstream = node.grad
        labels = _operand_names(node, names, network)
        if not rule.key:
            terms = _classic_terms(node, upstream, labels, contributions)
        else:
            local_grads = _local_grads(node, upstream)
            terms = []
            for j in _accumulation_order(rule, len(operands)):
                x, local_grad = operands[j], local_grads[j]
                formula, symbols = local_formula(rule, operands, j)
                if not isinstance(x, Value):
                    terms.append(Term(x, labels[j], local_grad, None, None, None, False, j, formula, symbols))
                    continue
                before = x.grad
                if upstream == 0.0:  # backward skips the node: adding zeros would change nothing
                    terms.append(
                        Term(x, labels[j], local_grad, 0.0, before, before, False, j, formula, symbols)
                    )
                    continue
                contribution = upstream * local_grad  # type: ignore[operator]  # the float op backward does
                x.grad += contribution
                earlier = contributions.setdefault(x, [])
                earlier.append(contribution)
                terms.append(
                    Term(
                        x,
                        labels[j],
                        local_grad,
                        contribution,
                        before,
                        x.grad,
                        len(earlier) > 1,
                        j,
                        formula,
                        symbols,
                        tuple(earlier),
                    )
                )
        steps.append(
            Step(
                len(steps) + 1,
                node,
                names[node],
                rule,
                upstream,
                tuple(terms),
                _neuron_name(node, network),
                classic=not rule.key,
                operand_names=labels,
            )
        )
    return tuple(steps)


def _classic_terms(
    node: Value, upstream: float, labels: Sequence[str], contributions: dict[Value, list[float]]
) -> list[Term]:
    """A classic node's step: its closure runs, and each operand's change is what it added."""
    operands = node.operands()
    distinct = list(dict.fromkeys(x for x in operands if isinstance(x, Value)))
    before = {x: x.grad for x in distinct}
    if upstream != 0.0:
        node._backward()
    terms = []
    for x in distinct:
        j = operands.index(x)
        if upstream == 0.0:
            terms.append(Term(x, labels[j], None, 0.0, before[x], before[x], False, j))
            continue
        change = x.grad - before[x]
        earlier = contributions.setdefault(x, [])
        earlier.append(change)
        terms.append(
            Term(x, labels[j], None, change, before[x], x.grad, len(earlier) > 1, j, "", {}, tuple(earlier))
        )
    return terms


def _updates(
    steps: Sequence[Step],
    final: Mapping[Value, float],
    names: Mapping[Value, str],
    network: Network,
    nodes: Sequence[Value],
    lr: float | None,
    optimizer: Any,
    params: Iterable[Value] | None,
    model: Any,
) -> tuple[UpdateStep, ...]:
    if lr is None and optimizer is None:
        return ()
    chosen = _parameters(nodes, optimizer, params, model)
    # in the order the backward steps finished them: the output layer's first, as a lecture goes
    reached = [t.operand for s in steps for t in s.terms if isinstance(t.operand, Value)]
    rank = {p: i for i, p in reversed(list(enumerate(reached)))}
    chosen.sort(key=lambda p: rank.get(p, len(rank)))
    new: dict[Value, float] = {}
    rate: float | None = lr
    if optimizer is not None:
        new, rate = _optimizer_step(optimizer)
    result: list[UpdateStep] = []
    for p in chosen:
        grad = final.get(p, p.grad)
        value = p.data - rate * grad if optimizer is None else new.get(p, p.data)  # type: ignore[operator]
        neuron = None
        if network:
            label = PARAMETER_LABEL.fullmatch(names.get(p, p.label))
            neuron = label.group(0).rsplit(".", 1)[0] if label else None
        result.append(
            UpdateStep(len(result) + 1, p, names.get(p, p.label or "?"), p.data, grad, value, rate, neuron)
        )
    return tuple(result)


def _parameters(
    nodes: Sequence[Value], optimizer: Any, params: Iterable[Value] | None, model: Any
) -> list[Value]:
    if params is not None:
        chosen = list(params)
        for i, p in enumerate(chosen):
            if not isinstance(p, Value):
                raise TypeError(f"explain: params[{i}] is {type(p).__name__} {p!r}, not a Value")
        return list(dict.fromkeys(chosen))
    if optimizer is not None:
        return list(dict.fromkeys(optimizer.params))
    if model is not None and hasattr(model, "parameters"):
        return list(dict.fromkeys(model.parameters()))
    leaves = [node for node in nodes if node._rule.arity == 0]
    labelled = [node for node in leaves if PARAMETER_LABEL.fullmatch(node.label)]
    return labelled or leaves


def _optimizer_step(optimizer: Any) -> tuple[dict[Value, float], float | None]:
    """What the optimizer's next step sets each parameter to, then everything put back as it was."""
    state = {key: copy.deepcopy(value) for key, value in vars(optimizer).items() if key != "params"}
    old = [p.data for p in optimizer.params]
    try:
        optimizer.step()
        new = {p: p.data for p in optimizer.params}
        rate = optimizer.lr if _plain_sgd(optimizer) else None
    finally:
        for p, value in zip(optimizer.params, old):
            p.data = value
        vars(optimizer).update(state)
    return new, rate


def _plain_sgd(optimizer: Any) -> bool:
    from micrograd.optim import SGD

    return type(optimizer) is SGD and not optimizer.momentum and not optimizer.weight_decay


class Explanation(Sequence[Step]):
    """A lesson: the forward steps, the backward steps (the sequence itself), the update steps.

    Renderings: ``to_text()`` (also ``str``), ``to_markdown()``, ``to_latex()``, ``to_html()`` (a
    page that steps through it, ``quiz=True`` for exercises), ``render_steps()`` (one image per
    backward step); in Jupyter it shows itself (``_repr_html_``, ``_repr_markdown_``).
    """

    def __init__(
        self,
        root: Value,
        order: list[Value],
        names: dict[Value, str],
        forward: Sequence[ForwardStep],
        steps: Sequence[Step],
        updates: Sequence[UpdateStep],
        start: dict[Value, float],
        digits: int = DIGITS,
        lr: float | None = None,
        optimizer: Any = None,
    ) -> None:
        self.root = root
        self.order = order
        self.names = names
        self.forward = tuple(forward)
        self.steps = tuple(steps)
        self.updates = tuple(updates)
        self.start = start  # every grad right after the output was seeded with 1
        self.digits = digits
        self.lr = lr
        self.optimizer = type(optimizer).__name__ if optimizer is not None else None

    @overload
    def __getitem__(self, i: int) -> Step: ...

    @overload
    def __getitem__(self, i: slice) -> Sequence[Step]: ...

    def __getitem__(self, i: int | slice) -> Step | Sequence[Step]:
        return self.steps[i]

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    @property
    def output(self) -> str:
        return self.names[self.root]

    def __repr__(self) -> str:
        return (
            f"<Explanation of {self.output!r}: {len(self.forward)} forward, {len(self)} backward, "
            f"{len(self.updates)} update steps>"
        )

    def __str__(self) -> str:
        return self.to_text()

    def grads_after(self, k: int) -> dict[Value, float]:
        """Every node's grad after the first ``k`` backward steps (0: just after seeding the output)."""
        if not 0 <= k <= len(self):
            raise ValueError(
                f"grads_after: k={k} is outside 0..{len(self)} (this pass has {len(self)} steps)"
            )
        grads = dict(self.start)
        for step in self.steps[:k]:
            for term in step.terms:
                if isinstance(term.operand, Value):
                    grads[term.operand] = term.grad_after  # type: ignore[assignment]
        return grads

    # -- renderings: each in a module of its own --------------------------------------------------

    def to_text(self) -> str:
        """The lesson as plain text, for the terminal."""
        from micrograd.explain.render_text import render

        return render(self)

    def to_markdown(self) -> str:
        """The lesson as Markdown: a section per pass, the equations as code."""
        from micrograd.explain.render_markdown import render

        return render(self)

    def to_latex(self, document: bool = False) -> str:
        """The lesson in LaTeX (``align*`` blocks, needs amsmath); ``document=True``: a whole document
        that pdflatex compiles."""
        from micrograd.explain.render_latex import render

        return render(self, document=document)

    def to_html(self, path: Any = None, quiz: bool = False, **options: object) -> str:
        """One self-contained page stepping through the lesson (written atomically to ``path``).

        ``quiz=True``: at each backward step the student types the local derivative and the new
        gradient before the answer shows; the page checks them and keeps a score. ``page.html#step-7``
        opens backward step 7 (``#forward-2``, ``#update`` the others). ``options`` go to ``draw_dot``.
        """
        from micrograd.explain.render_html import page

        return page(self, path, quiz=quiz, **options)

    def render_steps(self, directory: Any, format: str = "svg", **options: object) -> list[Any]:
        """One graph image per backward step (``step-001.svg`` ...): the graph is laid out once by dot,
        then each image shows the gradients after its step, the active node and what it changed in red."""
        from micrograd.explain.images import render_steps

        return render_steps(self, directory, format, **options)

    def _repr_html_(self) -> str:
        from micrograd.explain.render_html import fragment

        return fragment(self)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()
