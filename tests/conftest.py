import os
from collections.abc import Callable, Iterator

import pytest
from hypothesis import settings

from micrograd.engine import FUNCTIONS, RULES, Value

# Derandomized in CI, so a red run is reproduced by running it again.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def _lecture_graph() -> dict[str, Value]:
    """a = 2, b = -3, f = 2; c = a*b = -6; d = c*f = -12; e = a*4 = 8; L = d + e = -4 (a: two paths)."""
    a, b, f = Value(2.0, label="a"), Value(-3.0, label="b"), Value(2.0, label="f")
    c = a * b
    d = c * f
    e = a * 4.0
    out = d + e
    for node, name in ((c, "c"), (d, "d"), (e, "e"), (out, "L")):
        node.label = name
    return {"a": a, "b": b, "f": f, "c": c, "d": d, "e": e, "L": out}


@pytest.fixture
def lecture_graph() -> Callable[[], dict[str, Value]]:
    """Builds the lecture's small graph, its nodes by name; call it again for a fresh copy."""
    return _lecture_graph


@pytest.fixture
def op_table() -> Iterator[None]:
    """Ops a test defines (defop, or a README block that calls it) are removed afterwards, so other
    tests see the rule table, the function table and Value's methods as they were."""
    rules, functions, attributes = dict(RULES), dict(FUNCTIONS), set(vars(Value))
    yield
    RULES.clear()
    RULES.update(rules)
    FUNCTIONS.clear()
    FUNCTIONS.update(functions)
    for name in set(vars(Value)) - attributes:
        delattr(Value, name)
