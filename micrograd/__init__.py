"""micrograd: a scalar autograd engine with a small PyTorch-like neural-network library on top."""

from micrograd.engine import (
    RULES,
    DomainError,
    GradcheckResult,
    Op,
    Value,
    affine,
    exp,
    grad,
    gradcheck,
    is_grad_enabled,
    linear,
    log,
    no_grad,
    relu,
    sigmoid,
    sqrt,
    tanh,
    topological_order,
    total,
)

__version__ = "0.2.0"

__all__ = [
    "RULES",
    "DomainError",
    "GradcheckResult",
    "Op",
    "Value",
    "affine",
    "exp",
    "grad",
    "gradcheck",
    "is_grad_enabled",
    "linear",
    "log",
    "no_grad",
    "relu",
    "sigmoid",
    "sqrt",
    "tanh",
    "topological_order",
    "total",
]
