"""Hostile sizes: deep nesting and long sums compile or fail clearly, never with RecursionError."""

import pytest

import symgrad


def test_100000_nested_parentheses():
    depth = 100_000
    f = symgrad.compile("(" * depth + "x" + ")" * depth)
    assert f.value_and_grad(x=2.0) == (2.0, {"x": 1.0})


def test_deep_composition_of_functions():
    depth = 20_000
    f = symgrad.compile("sin(" * depth + "x" + ")" * depth)
    value, grad = f.value_and_grad(x=0.5)
    assert 0 < value < 0.5 and 0 < grad["x"] < 1


def test_deep_chain_of_assignments():
    lines = ["h = x"] + [f"h = tanh(h*w + {i % 7 / 10})" for i in range(5_000)] + ["h"]
    f = symgrad.compile("\n".join(lines))
    value, grad = f.value_and_grad(x=0.3, w=0.9)
    assert set(grad) == {"x", "w"} and -1 < value < 1


def test_long_sum():
    terms = 50_000
    f = symgrad.compile(" + ".join(f"x{i % 1000}" for i in range(terms)))
    value, grad = f.value_and_grad(**{f"x{i}": 1.0 for i in range(1000)})
    assert value == terms and grad["x0"] == terms / 1000


def test_deep_unary_minus_and_powers():
    f = symgrad.compile("-" * 10_001 + "x")
    assert f.value_and_grad(x=3.0) == (-3.0, {"x": -1.0})
    with pytest.raises(symgrad.EvaluationError):
        symgrad.compile("2**" * 2_000 + "x").value_and_grad(x=3.0)
