"""How numbers, names and colours look in every rendering: pictures, explanations, the training page.

One place for each:

- ``number(x, digits)`` keeps ``digits`` significant digits, so a small gradient stays readable
  (``4.386e-4``, never ``0.0004``); ``add_up(terms, total, digits)`` writes the terms of a sum and
  its total with one shared number of decimals, chosen so that the shown terms add up to the shown
  total: a student who adds them by hand gets the number printed after the equals sign;
- ``format_number`` (a value or gradient in a picture's box: 4 decimals) and ``format_constant``
  (a constant operand, short);
- ``node_names`` (a node's name: its label, or n1, n2, ... in forward order when unlabelled);
- the colours of roles and of positive and negative weights.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

from micrograd.engine import Value

DIGITS = 4  # the default: 0.7071, 0.08217, 4.386e-4
MAX_DIGITS = 17  # enough for every float to read back exactly
# Fixed notation between these magnitudes (0.001234 .. 12345.67); scientific outside.
SMALL = 1e-3
LARGE = 1e5


def check_digits(digits: object) -> int:
    """``digits`` as an int in 1..17, or a ValueError that names it."""
    if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= MAX_DIGITS:
        raise ValueError(f"digits must be a whole number from 1 to {MAX_DIGITS}, got {digits!r}")
    return digits


def _exponent(x: float, digits: int) -> int:
    """The decimal exponent of ``x`` after rounding to ``digits`` significant digits (9.9996 -> 1)."""
    return int(f"{x:.{digits - 1}e}".split("e")[1])


def decimals(x: float, digits: int = DIGITS) -> int:
    """How many decimals show ``x`` (non-zero) with ``digits`` significant digits in fixed notation."""
    return max(0, digits - 1 - _exponent(abs(x), digits))


def _clean(text: str) -> str:
    # -0.0000 is 0.0000: a minus sign on a number that shows as zero only puzzles
    if text.startswith("-") and not any(ch in "123456789" for ch in text.split("e")[0]):
        return text[1:]
    return text


def _scientific(x: float, digits: int) -> str:
    mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def number(x: float, digits: int = DIGITS) -> str:
    """``x`` with ``digits`` significant digits: ``0.7071``, ``-3.000``, ``4.386e-4``, ``1.235e6``."""
    x = float(x) + 0.0
    if x == 0.0:
        return "0"
    if not math.isfinite(x):
        return repr(x)
    if SMALL <= abs(x) < LARGE:
        places = digits - 1 - _exponent(abs(x), digits)
        if places < 0:  # fewer digits than the integer part has: 12345 to 3 digits is 12300
            return _clean(f"{round(x, places):.0f}")
        return _clean(f"{x:.{places}f}")
    return _scientific(x, digits)


def fixed(x: float, places: int) -> str:
    """``x`` with exactly ``places`` decimals (no minus sign on a zero)."""
    return _clean(f"{float(x) + 0.0:.{places}f}")


def add_up(terms: Sequence[float], total: float, digits: int = DIGITS) -> tuple[list[str], str]:
    """The terms of a sum and its total as text that adds up.

    All are written with one number of decimals: enough for ``digits`` significant digits of the
    total and of the largest term, and more when needed until the shown terms add up to the shown
    total exactly. Where no precision does (-1/3 + -1/3 = -0.6667), the terms get one decimal more
    than the total, and the shown total is their sum rounded to its last digit. A term too small to
    show at that precision keeps its significant digits (``3.1e-7``).
    """
    values = [float(t) for t in terms]
    sizes = [abs(v) for v in [*values, total] if v != 0.0]
    if not sizes:
        return ["0"] * len(values), "0"
    start = max(decimals(total, digits) if total else 0, decimals(max(sizes), digits))
    # First the terms with the total's decimals (their sum is then exactly the total); where no
    # precision gives that (-1/3 + -1/3), the terms get one decimal more than the total.
    for extra in (0, 1):
        for places in range(start, start + 4):
            unit = Decimal(1).scaleb(-places)
            term_places = places + extra
            shown = [
                fixed(v, term_places) if abs(v) >= float(unit) / 20 or v == 0.0 else number(v, digits)
                for v in values
            ]
            shown_total = fixed(total, places)
            added = sum((Decimal(s) for s in shown), Decimal(0)).quantize(unit)
            if added == Decimal(shown_total):
                return shown, shown_total
    return [fixed(v, start + 1) for v in values], fixed(total, start)  # not reached by float sums in practice


# Fill colour per role; colour-blind friendly pastel shades, dark text stays readable on each.
ROLE_COLORS = {
    "input": "#cfe2ff",
    "parameter": "#d3f9d8",
    "intermediate": "#f1f3f5",
    "output": "#ffd8a8",
    "neuron": "#e5dbff",
}
HIGHLIGHT = "#e03131"
INK = "#343a40"
MUTED = "#868e96"
FONT = "Helvetica,Arial,sans-serif"
# Weights and neuron outputs in the network view (as TensorFlow Playground colours them): blue for
# positive, orange for negative.
POSITIVE = "#1c7ed6"
NEGATIVE = "#f76707"


def format_number(x: float) -> str:
    """A value as the pictures and explanations print it: 4 decimals, or scientific when tiny or huge."""
    x = x + 0.0  # turns -0.0 into 0.0, which would otherwise print as "-0.0000"
    if x == 0.0 or 1e-4 <= abs(x) < 1e6:
        return f"{x:.4f}"
    return f"{x:.4e}"


def format_constant(x: float) -> str:
    """A constant operand, short as a person writes it: 2, 0.5, 1e-08."""
    return f"{x + 0.0:g}"


def printable(text: str) -> str:
    """``text`` on one line: newlines and other invisible characters written as escapes (``\\n``)."""
    return "".join(ch if ch.isprintable() or ch == " " else ascii(ch)[1:-1] for ch in text)


def node_names(order: Sequence[Value]) -> dict[Value, str]:
    """Each node's name in every rendering: its label (on one line), or n1, n2, ... when unlabelled.

    ``order`` is ``topological_order(root)``, so unlabelled nodes are numbered in forward order. A
    user's label "n2" keeps its name; the generated names skip it.
    """
    labels = {printable(node.label) for node in order if node.label}
    names: dict[Value, str] = {}
    k = 0
    for node in order:
        if node.label:
            names[node] = printable(node.label)
            continue
        k += 1
        while f"n{k}" in labels:
            k += 1
        names[node] = f"n{k}"
    return names
