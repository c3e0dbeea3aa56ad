"""What every renderer writes the same way: numbers, names in derivatives, formulas with names and numbers.

Two kinds of derivative must never look alike: the gradient of the output, a total derivative
through every path (``dL/dn``, what ``n.grad`` holds), and an op's local derivative with
respect to one operand (``∂n/∂a``, from the rule table).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from micrograd.engine import Value
from micrograd.fmt import add_up, number
from micrograd.formula import Formula

# a name that reads as one word needs no parentheses after d or ∂: x1, L0.N1, w¹_12, E_total, out#2
_WORD = re.compile(r"[\w.#'^()\[\]]+")


@lru_cache(maxsize=512)
def formula(source: str) -> Formula:
    return Formula(source)


def word(name: str) -> str:
    """``name`` ready to follow d or ∂: parenthesised when it has spaces or operators (x1*w1 + x2*w2)."""
    return name if _WORD.fullmatch(name) and not name.startswith("-") else f"({name})"


def total(out: str, x: str) -> str:
    """The gradient of the output with respect to x: dL/dx."""
    return f"d{word(out)}/d{word(x)}"


def local(n: str, x: str) -> str:
    """The local derivative of node n with respect to its operand x: ∂n/∂x."""
    return f"\u2202{word(n)}/\u2202{word(x)}"


def value_of(step: Any, j: int) -> float:
    """The number an operand position stands for (-1: the node's own value)."""
    if j == -1:
        return float(step.node.data)
    x = step.operands[j]
    return float(x.data if isinstance(x, Value) else x)


def name_of(step: Any, j: int) -> str:
    return str(step.name if j == -1 else step.operand_names[j])


def substituted(
    source: str,
    symbols: Mapping[str, int],
    step: Any,
    number_text: Callable[[float], str],
    name_text: Callable[[str], str] = str,
    tex: bool = False,
) -> tuple[str, str]:
    """The formula with each symbol replaced by its operand's name, and by its number."""
    f = formula(source)
    names: dict[str, str | float] = {
        s: name_text(name_of(step, j))
        if j == -1 or isinstance(step.operands[j], Value) or not is_literal(name_of(step, j))
        else constant(value_of(step, j), tex)  # a constant is its number (x1, an input, keeps its name)
        for s, j in symbols.items()
    }
    # a constant operand is written as it was typed (the 2 of n^2, the 0.05 of an input)
    numbers: dict[str, str | float] = {
        s: value_of(step, j)
        if j == -1 or isinstance(step.operands[j], Value)
        else constant(value_of(step, j), tex)
        for s, j in symbols.items()
    }
    if tex:
        return f.tex(names, number=number_text), f.tex(numbers, number=number_text)
    return f.text(names, number=number_text), f.text(numbers, number=number_text)


def constant(x: float, tex: bool = False) -> str:
    """A constant as a person typed it: 2, 0.05, 1e-08 (LaTeX: 1 \\times 10^{-8})."""
    text = f"{x + 0.0:g}"
    if tex and "e" in text:
        mantissa, exponent = text.split("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return text


def is_literal(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def chain(*parts: str) -> str:
    """``a = b = c`` without repeating a part equal to the one before it (``b = b``)."""
    kept: list[str] = []
    for part in parts:
        if not kept or part != kept[-1]:
            kept.append(part)
    return " = ".join(kept)


def local_chain(with_names: str, with_numbers: str, value: str, local_value: float | None) -> list[str]:
    """The parts of ``∂n/∂a = formula = numbers = value``; a formula that is just a number (the 1 of
    a sum, the 0.5 of 0.5 * n) is written once."""
    if is_literal(with_names) and local_value is not None and float(with_names) == local_value:
        return [with_names]
    return [with_names, with_numbers, value]


def factor(text: str) -> str:
    """A number as a factor of a product: negative ones in parentheses, 2 * (-3)."""
    return f"({text})" if text.startswith("-") else text


def summed(terms: Sequence[float], total_value: float, digits: int) -> tuple[list[str], str]:
    """A sum's terms and total as text that adds up (see ``micrograd.fmt.add_up``)."""
    return add_up(terms, total_value, digits)


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def numbers(digits: int) -> Callable[[float], str]:
    return lambda x: number(x, digits)
