"""The lesson as plain text: the terminal's rendering (``Explanation.to_text``, ``str``).

Every other line-oriented rendering (Markdown, the HTML page's panels) reuses these lines, so a
step reads the same everywhere::

    Step 3/5: o = tanh(n)    upstream dL/do = 1.000
      ∂o/∂n = 1 - o^2 = 1 - 0.7071^2 = 0.5000
      dL/dn += dL/do * ∂o/∂n = 1.000 * 0.5000 = 0.5000
"""

from __future__ import annotations

from typing import Any

from micrograd.explain.notation import (
    chain,
    constant,
    factor,
    local,
    local_chain,
    numbers,
    plural,
    substituted,
    summed,
    total,
)
from micrograd.fmt import number


def title(ex: Any) -> str:
    parts = [
        f"the forward pass ({plural(len(ex.forward), 'node')})",
        f"the backward pass ({plural(len(ex), 'step')})",
    ]
    if ex.updates:
        parts.append(f"the update ({plural(len(ex.updates), 'parameter')})")
    return f"Backpropagation through {ex.output}: " + ", ".join(parts)


def legend(ex: Any) -> list[str]:
    out = ex.output
    return [
        f"{total(out, 'n')}: the gradient of {out} with respect to n, through every path "
        "(what n.grad holds).",
        f"{local('n', 'a')}: the local derivative of node n with respect to its operand a, by n's op alone.",
    ]


def forward_line(ex: Any, step: Any) -> str:
    num = numbers(ex.digits)
    written = step.formula()
    value = num(step.value)
    if written is None:
        args = ", ".join(step.operand_names)
        return f"{step.name} = {step.op}({args}) = {value}"
    source, symbols = written
    with_names, with_numbers = substituted(source, symbols, step, num)
    return f"{step.name} = " + chain(with_names, with_numbers, value)


def seed_line(ex: Any) -> str:
    out = ex.output
    return f"{total(out, out)} = 1 starts the pass: the output's gradient with respect to itself"


def step_heading(ex: Any, step: Any) -> str:
    where = ""
    if step.neuron is not None:
        where = f"    (neuron {step.neuron}" + (": the delta rule)" if step.delta_rule else ")")
    written = forward_formula_names(ex, step)
    return f"Step {step.number}/{len(ex)}: {step.name} = {written}{where}"


def forward_formula_names(ex: Any, step: Any) -> str:
    from micrograd.explain.steps import forward_formula

    written = forward_formula(step.rule, step.operands)
    if written is None:
        return f"{step.op}({', '.join(step.operand_names)})"
    return substituted(*written, step, numbers(ex.digits))[0]


def step_lines(ex: Any, step: Any) -> list[str]:
    """A backward step: the upstream, then per operand its local derivative and its contribution."""
    out, node, num = ex.output, step.name, numbers(ex.digits)
    upstream = num(step.upstream)
    if step.skipped:
        return [f"{total(out, node)} = 0, so backward skips {node}: it would add 0 to each operand's grad"]
    lines = []
    if step.delta_rule:
        lines.append(f"delta = {total(out, node)} = {upstream}")
    else:
        lines.append(f"upstream {total(out, node)} = {upstream}")
    for term in step.terms:
        if term.is_constant:
            continue
        x = term.name
        contribution = num(term.contribution)
        if step.classic:
            lines.append(
                f"{local(node, x)}: no formula ({node} was made the classic way, with a _backward closure)"
            )
            lines.append(f"{total(out, x)} += {contribution}  (what the closure added)")
        else:
            local_value = num(term.local_grad) if term.local_grad is not None else "undefined"
            if term.formula:
                with_names, with_numbers = substituted(term.formula, term.symbols, step, num)
            else:
                with_names = with_numbers = local_value + " (the rule table gives no formula)"
            product = f"{factor(upstream)} * {factor(local_value)} = {contribution}"
            if step.delta_rule:
                lines.append(
                    f"{total(out, x)} += delta * {local(node, x)} = "
                    + chain(f"delta * {with_names}", product)
                )
            else:
                parts = local_chain(with_names, with_numbers, local_value, term.local_grad)
                lines.append(f"{local(node, x)} = " + chain(*parts))
                lines.append(f"{total(out, x)} += {total(out, node)} * {local(node, x)} = {product}")
        if term.adds_to_earlier:
            lines.append(sum_line(ex, term))
    return lines


def sum_line(ex: Any, term: Any) -> str:
    """The contributions an operand's gradient has had so far, added up: dL/da = -6 + 4 = -2."""
    shown, shown_total = summed(term.contributions, term.grad_after, ex.digits)
    added = " + ".join([shown[0], *(factor(s) for s in shown[1:])])
    return f"{total(ex.output, term.name)} = {added} = {shown_total}"


def update_heading(ex: Any) -> list[str]:
    out = ex.output
    if ex.lr is not None and ex.optimizer in (None, "SGD"):
        rule = f"w <- w - lr * {total(out, 'w')} with lr = {constant(ex.lr)}"
        how = "SGD" if ex.optimizer is None else "SGD (the optimizer's step)"
        return [
            f"Update: {how}, {rule}.",
            f"Minus, not plus: the gradient points to where {out} grows fastest, so a small step against it",
            f"lowers {out}. (Adding it would climb.)",
        ]
    return [f"Update: what {ex.optimizer}'s step() gives each parameter (old -> new; explain undoes it)."]


def update_line(ex: Any, update: Any) -> str:
    num = numbers(ex.digits)
    if update.lr is None:
        gradient = f"{total(ex.output, update.name)} = {num(update.grad)}"
        return f"{update.name}: {num(update.old)} -> {num(update.new)}  ({gradient})"
    return (
        f"{update.name} <- {update.name} - {constant(update.lr)} * {total(ex.output, update.name)} = "
        f"{num(update.old)} - {constant(update.lr)} * {factor(num(update.grad))} = {num(update.new)}"
    )


def render(ex: Any) -> str:
    out = ex.output
    lines = [title(ex), *legend(ex), "", "Forward pass"]
    lines += ["  " + forward_line(ex, step) for step in ex.forward]
    lines += [f"  The output: {out} = {number(ex.root.data, ex.digits)}", ""]
    if not ex.steps:
        lines.append(f"{out} is a leaf: there is nothing to backpropagate.")
    else:
        lines += [f"Backward pass: {seed_line(ex)}", ""]
    for step in ex.steps:
        lines.append(step_heading(ex, step))
        lines += ["  " + line for line in step_lines(ex, step)]
        lines.append("")
    if ex.updates:
        lines += update_heading(ex)
        lines += ["  " + update_line(ex, update) for update in ex.updates]
    return "\n".join(lines).rstrip() + "\n"
