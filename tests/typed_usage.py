"""Typed code using symgrad's public API: tests/test_typing.py runs ``mypy --strict`` on it.

Under ``--strict`` every call of an unannotated function is an error, so this file
fails to check when a public callable loses its annotations.  It is never run.
"""

import numpy as np

import symgrad
from symgrad.nn import MLP
from symgrad.micrograd.nn import Module


def value_and_slope(text: str, x: float) -> tuple[float, float]:
    f: symgrad.CompiledFunction = symgrad.compile(text, wrt=["x"])
    value, grad = f.value_and_grad(x=x)
    return f(x=x) + value - value, grad["x"]


def parsed(text: str) -> tuple[str, ...]:
    expression: symgrad.Expression = symgrad.parse(text)
    program = symgrad.Program(expression)
    trace_values = program.evaluate({name: 1.0 for name in program.variables}, gradients=False)
    del trace_values
    return expression.variables + program.wrt + program.grad_names()


def derivatives(f: symgrad.CompiledFunction) -> dict[str, str]:
    ok: bool = symgrad.check(f, points=2).ok
    page: str = f.to_html({"x": 1.0})
    last: list[float] | None = f.last_point
    del ok, page, last
    return f.derivatives


def neuron() -> float:
    x, w = symgrad.Value(2.0, label="x"), symgrad.Value(-3.0, label="w")
    out = (x * w).tanh()
    out.backward()
    grads: dict[str, float] = symgrad.compile(out.to_expression()).value_and_grad(
        **out.inputs())[1]
    return x.grad + grads["x"]


def trained(model: Module) -> float:
    loss = symgrad.compile_loss(MLP(2, [4, 1]), lambda score, target: (score - target) ** 2, 2)
    params: np.ndarray = loss.parameters()
    value, grad = loss(params, np.zeros((3, 2)), np.ones(3))
    model.zero_grad()
    sizes: dict[str, int] = loss.size()
    return value + float(grad.sum()) + sizes["forward"]
