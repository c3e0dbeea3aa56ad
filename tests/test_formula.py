"""micrograd.formula: a local-derivative formula read once (never run as code), evaluated, written."""

from __future__ import annotations

import math

import pytest

from micrograd import RULES
from micrograd.fmt import number
from micrograd.formula import Formula, FormulaError


def test_substituting_names_then_numbers_writes_the_textbook_lines():
    f = Formula("1 - out**2")
    assert f.text({"out": "o"}) == "1 - o^2"
    # substituted numbers take the given format; the formula's own 1 and 2 stay as written
    assert f.text({"out": 0.70710678}, number=lambda x: number(x, 4)) == "1 - 0.7071^2"
    assert f.evaluate({"out": 0.5}) == 0.75  # 1 - 0.25, by hand


def test_names_and_negative_numbers_get_parentheses_where_they_need_them():
    f = Formula("n * a**(n - 1)")
    assert f.text({"n": "2", "a": "x1*w1 + x2*w2"}) == "2 * (x1*w1 + x2*w2)^(2 - 1)"
    assert f.text({"n": 2.0, "a": -0.5}) == "2 * (-0.5)^(2 - 1)"
    assert Formula("a - b").text({"a": "x", "b": -3.0}) == "x - (-3)"
    assert Formula("-a / b**2").text({"a": -1.0, "b": "L0.N1"}) == "-(-1) / L0.N1^2"
    for word in ("L0.N1", "x1#2", "W[0][1]", "w_1"):  # one word each: no parentheses
        assert Formula("a * a").text({"a": word}) == f"{word} * {word}"


def test_latex_writes_fractions_powers_and_cases():
    assert Formula("-a / b**2").tex({"a": "x", "b": "y"}) == r"\frac{-x}{{y}^{2}}"
    assert Formula("out * (1 - out)").tex({"out": r"\sigma"}) == r"\sigma \cdot (1 - \sigma)"
    assert Formula("1 if a > 0 else 0").tex({"a": "x"}) == (
        r"\begin{cases} 1 & \text{if } x > 0 \\ 0 & \text{otherwise} \end{cases}"
    )


def test_every_rule_formula_reads_and_equals_its_derivative_at_a_point():
    for key, rule in RULES.items():
        if rule.arity not in (1, 2):
            continue
        xs = [0.7, 1.3][: rule.arity]
        out = rule.forward(*xs)
        values = dict(zip(rule.symbols, [*xs, out]))
        for source, local in zip(rule.formula, rule.local(*xs, out)):
            if not source:
                continue  # the constant exponent of a ** n has no derivative
            shown = Formula(source).evaluate(values)
            assert math.isclose(shown, float(getattr(local, "data", local)), rel_tol=1e-12), key


@pytest.mark.parametrize(
    "source", ["__import__('os')", "a.real", "a[0]", "lambda: 1", "'x'", "a if b else c", "foo(a)"]
)
def test_anything_outside_the_whitelist_is_refused_without_running_it(source):
    with pytest.raises(FormulaError):
        Formula(source)
