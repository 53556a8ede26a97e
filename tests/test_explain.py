"""The step-by-step backward pass: its numbers agree with SymPy, its lines read like the lecture."""

import re

import pytest
import sympy

import symgrad
from symgrad.views.explain import explain

NEURON = "n = x1*w1 + x2*w2 + b; o = tanh(n); o"
NEURON_POINT = {"x1": 2.0, "w1": -3.0, "x2": 0.0, "w2": 1.0, "b": 6.8813735870195432}
FAN_OUT = "a*a + exp(a) - a/b"
FAN_OUT_POINT = {"a": 2.0, "b": -3.0}


def sympy_gradient(value_of, point):
    """{name: d value / d name at point} by sympy.diff; ``value_of`` builds the expression."""
    symbols = {name: sympy.Symbol(name, real=True) for name in point}
    value = value_of(**symbols)
    at = {symbols[name]: x for name, x in point.items()}
    return {name: float(sympy.diff(value, s).evalf(30, subs=at)) for name, s in symbols.items()}


def final_gradient(lines):
    """{input: number} from the closing lines ``∂o/∂x1 = -1.5``."""
    return {match[1]: float(match[2])
            for match in (re.match(r"  ∂\w+/∂(\w+) = (\S+)$", line) for line in lines) if match}


@pytest.mark.parametrize("text, point, value_of", [
    (NEURON, NEURON_POINT, lambda x1, w1, x2, w2, b: sympy.tanh(x1 * w1 + x2 * w2 + b)),
    (FAN_OUT, FAN_OUT_POINT, lambda a, b: a * a + sympy.exp(a) - a / b),
])
def test_the_explained_gradient_is_sympys_and_value_and_grads(text, point, value_of):
    f = symgrad.compile(text)
    explained = final_gradient(explain(f, point, digits=17))
    assert explained == pytest.approx(sympy_gradient(value_of, point), rel=1e-12)
    assert explained == pytest.approx(f.value_and_grad(**point)[1], rel=1e-15)


def test_the_neuron_reads_like_the_lecture():
    lines = explain(symgrad.compile(NEURON), NEURON_POINT)
    assert lines[0] == "grad_o = 1  (the seed: d o/d o = 1)"
    assert lines[1] == "o = tanh(n) = 0.7071  →  grad_n = grad_o * (1 - o**2) = 1 * 0.5 = 0.5"
    assert lines[2] == "n = t3 + b = 0.8814  →  grad_t3 = grad_n = 0.5"
    assert lines[3] == "                     →  grad_b = grad_n = 0.5"
    assert "t1 = x1*w1 = -6  →  grad_x1 = grad_t1 * w1 = 0.5 * (-3) = -1.5" in lines
    assert lines[-6:] == ["gradient of o:", "  ∂o/∂x1 = -1.5", "  ∂o/∂w1 = 1",
                          "  ∂o/∂x2 = 0.5", "  ∂o/∂w2 = 0", "  ∂o/∂b = 0.5"]


def test_fan_out_shows_every_contribution_and_the_running_total():
    lines = explain(symgrad.compile(FAN_OUT), FAN_OUT_POINT)
    plus = [line for line in lines if "grad_a +=" in line]
    assert len(plus) == 3  # exp(a), and a*a twice, after the first from a/b
    assert plus[-1].endswith("grad_a += grad_t1 * a = 1 * 2 = 2, so grad_a = 11.72")
    assert "grad_t4 = -grad_out = -1" in "\n".join(lines)


def test_evaluate_values_match_sympy_at_every_step():
    f = symgrad.compile("tanh(a*b + c)")
    numbers = f.program.evaluate({"a": 2.0, "b": -3.0, "c": 10.0})
    assert [c.step.first for c in numbers.contributions] == [True] * 5
    seed = numbers.contributions[0]
    assert seed.upstream == 1.0
    assert seed.local == pytest.approx(float(1 - sympy.tanh(4) ** 2), rel=1e-12)


def test_wrt_and_undefined_points():
    f = symgrad.compile("a*b", wrt=["b"])
    assert final_gradient(explain(f, {"a": 3.0, "b": 5.0})) == {"b": 3.0}
    with pytest.raises(symgrad.EvaluationError, match=r"log\(x\) is undefined"):
        explain(symgrad.compile("log(x)"), {"x": -1.0})
