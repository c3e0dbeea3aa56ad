"""Backpropagation as a lesson: the forward pass, the backward pass node by node, the update step.

``explain(loss)`` runs the backward pass exactly as ``loss.backward()`` does and records every
step (``steps``: the model, numbers and op references only); each format is a small renderer of
it (``render_text``, ``render_markdown``, ``render_latex``, ``render_html`` with its page files,
``images`` for one picture per step). A step writes each local derivative as the rule table's
formula, then with the numbers substituted, then its value::

    ∂o/∂n = 1 - o^2 = 1 - 0.7071^2 = 0.5000
    dL/dn += dL/do * ∂o/∂n = 1.000 * 0.5000 = 0.5000

``dL/dn`` (a gradient of the output, through every path) and ``∂o/∂n`` (an op's local
derivative) never look alike. For graphs built by ``micrograd.nn`` (``explain(loss, model=mlp)``)
hidden outputs are named after their neuron (``L0.N1``), inputs x1, x2, ..., and the backward
steps go from the output layer back, neuron by neuron, each neuron's weighted sum as the delta
rule. ``lr=0.5`` (or ``optimizer=``) adds the update of every parameter.
"""

from micrograd.engine import Value, topological_order
from micrograd.explain.order import Network
from micrograd.explain.order import node_names as _node_names
from micrograd.explain.steps import Explanation, ForwardStep, Step, Term, UpdateStep, explain


def node_names(root: Value, model: object = None) -> dict[Value, str]:
    """Each node's name in explanations: its label; in a network, after its neuron (``L0.N1``) or
    input (``x1``); else n1, n2, ... in topological order."""
    order = topological_order(root)
    return _node_names(order, Network(order, model))


__all__ = ["Explanation", "ForwardStep", "Step", "Term", "UpdateStep", "explain", "node_names"]
