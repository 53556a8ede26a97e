"""Second derivatives and forward mode: checked against SymPy, finite differences, the gradient."""

import math
import random

import pytest

import symgrad
from cases import CORPUS
from symgrad.core.errors import EvaluationError
from symgrad.core.ops import OPS


def points(f, count=2, seed=0):
    """Random points where the value, gradient and Hessian exist and kinks are away."""
    rng = random.Random(seed)
    chosen = []
    for attempt in range(count * 40):
        if len(chosen) == count:
            break
        low, high = (0.3, 1.7) if attempt % 2 == 0 else (-1.7, 1.7)
        point = {name: rng.uniform(low, high) for name in f.variables}
        try:
            f.value_and_grad(**point)
            f.hessian(**point)
        except EvaluationError:
            continue
        chosen.append(point)
    return chosen


def close(a, b, tolerance):
    return abs(a - b) <= tolerance * max(1.0, abs(a), abs(b))


# Second derivatives -----------------------------------------------------------------

SYMBOLIC = ["x**3*y", "tanh(a*b + c)", "sin(x)*cos(y)", "x**y", "log(1 + exp(x))",
            "sigmoid(x*y)", "sqrt(x*x + y*y)", "n = x1*w1 + x2*w2 + b; o = tanh(n); o",
            "exp(x)/(exp(x) + exp(y))", "atan2(x, y) + atan(x*y)", "x/y - tan(x)"]


@pytest.mark.parametrize("text", SYMBOLIC)
def test_second_derivatives_equal_sympy_hessian_symbolically(text):
    sympy = pytest.importorskip("sympy")
    from symgrad.core.higher import second_derivative_nodes
    from symgrad.core.sympy_bridge import symbols_for, to_sympy

    f = symgrad.compile(text)
    symbols = symbols_for(f.variables)
    ordered = [symbols[name] for name in f.variables]
    expected = sympy.hessian(to_sympy(f.expression.root, symbols), ordered)
    ours = second_derivative_nodes(f.expression, f.variables)
    for i, a in enumerate(f.variables):
        for j, b in enumerate(f.variables):
            difference = to_sympy(ours[a][b], symbols) - expected[i, j]
            assert sympy.simplify(difference) == 0, (a, b, difference)


@pytest.mark.parametrize("text, note", CORPUS, ids=[note for _, note in CORPUS])
def test_hessian_equals_finite_differences_of_the_gradient_on_the_corpus(text, note):
    f = symgrad.compile(text)
    step = 1e-5
    for point in points(f):
        hessian = f.hessian(**point)
        assert set(hessian) == set(f.wrt)
        for b in f.wrt:
            try:
                up = f.value_and_grad(**{**point, b: point[b] + step})[1]
                down = f.value_and_grad(**{**point, b: point[b] - step})[1]
            except EvaluationError:
                continue  # a domain edge within a step: no difference to compare with
            for a in f.wrt:
                numeric = (up[a] - down[a]) / (2 * step)
                assert close(hessian[a][b], numeric, 1e-4), (a, b, hessian[a][b], numeric)
                assert close(hessian[a][b], hessian[b][a], 1e-9)


def test_hvp_is_the_hessian_times_the_vector_and_missing_components_are_zero():
    f = symgrad.compile("n = x1*w1 + x2*w2 + b; o = tanh(n); o*x1")
    point = dict(x1=0.7, w1=-0.4, x2=1.3, w2=0.9, b=0.2)
    vector = {"x1": 0.5, "w1": -1.0, "x2": 2.0, "b": 0.25}
    hessian = f.hessian(**point)
    product = f.hvp(point, vector)
    for a in f.wrt:
        expected = sum(hessian[a][b] * vector.get(b, 0.0) for b in f.wrt)
        assert product[a] == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_hessian_of_wrt_is_over_wrt_only():
    f = symgrad.compile("x**2*y*z", wrt=["x", "z"])
    hessian = f.hessian(x=2.0, y=3.0, z=5.0)
    assert hessian == {"x": {"x": 30.0, "z": 12.0}, "z": {"x": 12.0, "z": 0.0}}


def test_second_order_code_is_generated_from_the_backward_pass():
    f = symgrad.compile("x**3*y")
    source = f.hessian_source
    assert "df_dx = " in source and "df_dy = " in source  # the first backward pass, as values
    assert "out = t3 + t4  # v_x*df_dx + v_y*df_dy" in source
    for word in ("for ", "while ", "lambda"):
        assert not any(word in line.split("#")[0] for line in source.splitlines()), word
    assert f.second_derivatives == {"x": {"x": "6*x*y", "y": "3*x**2"},
                                    "y": {"x": "3*x**2", "y": "0"}}


def test_second_derivative_errors_name_the_problem():
    f = symgrad.compile("log(x)*y")
    with pytest.raises(EvaluationError, match="log"):
        f.hessian(x=-1.0, y=2.0)
    with pytest.raises(TypeError, match="no component z"):
        f.hvp({"x": 1.0, "y": 2.0}, {"z": 1.0})
    with pytest.raises(TypeError, match="real number"):
        f.hvp({"x": 1.0, "y": 2.0}, {"x": "1"})
    with pytest.raises(EvaluationError, match="not a finite number"):
        f.hvp({"x": 1.0, "y": 2.0}, {"x": math.inf})
    with pytest.raises(EvaluationError, match="tangents's x = inf is not a finite number"):
        f.jvp({"x": 1.0, "y": 2.0}, {"x": 10**400})  # an int beyond the floats, as for inputs
    g = symgrad.compile("x**1.5")  # the value and gradient exist at 0, the curvature not
    with pytest.raises(EvaluationError, match="second derivative"):
        g.hessian(x=0.0)


# Forward mode -----------------------------------------------------------------------


@pytest.mark.parametrize("text, note", CORPUS, ids=[note for _, note in CORPUS])
def test_jvp_is_the_gradient_dotted_with_the_tangent_on_the_corpus(text, note):
    f = symgrad.compile(text)
    rng = random.Random(1)
    for point in points(f):
        tangents = {name: rng.uniform(-1, 1) for name in f.wrt}
        value, grad = f.value_and_grad(**point)
        jvp_value, derivative = f.jvp(point, tangents)
        expected = sum(grad[name] * tangents[name] for name in f.wrt)
        assert jvp_value == value
        assert close(derivative, expected, 1e-12), (derivative, expected)


def test_the_corpus_exercises_every_operator_of_the_table_in_forward_mode():
    with_tangent, without = set(), set()
    for text, _ in CORPUS:
        schedule = symgrad.compile(text).tangent_program
        for _, tangent in schedule.steps:
            (with_tangent if tangent.terms else without).add(tangent.node.op)
    flat = {name for name, op in OPS.items() if set(op.partials) == {"0"}}  # step, sign
    assert flat and with_tangent == set(OPS) - flat and flat <= without


def test_a_tangent_never_uses_a_value_computed_after_it():
    f = symgrad.compile("tanh(x)**2 + y")  # tanh's rule is 1 - t1**2; t2 = t1**2 comes later
    lines = f.forward_source.splitlines()
    assert "    dot_t1 = (1 - t1**2) * dot_x  # tanh: d t1/d x = 1 - t1**2" in lines
    assert f.jvp({"x": 0.5, "y": 1.0}, {"x": 1.0})[1] == pytest.approx(
        2 * math.tanh(0.5) * (1 - math.tanh(0.5) ** 2), rel=1e-15)


def test_forward_code_has_a_tangent_line_naming_its_rule_after_each_value():
    f = symgrad.compile("n = x1*w1 + x2*w2 + b; o = tanh(n); o")
    lines = f.forward_source.splitlines()
    assert "def jvp(x1, w1, x2, w2, b, dot_x1, dot_w1, dot_x2, dot_w2, dot_b):" in lines
    assert "    o = math.tanh(n)  # tanh(n)" in lines
    index = lines.index("    o = math.tanh(n)  # tanh(n)")
    assert lines[index + 1] == "    dot_o = (1 - o**2) * dot_n  # tanh: d o/d n = 1 - o**2"
    assert ("    dot_t1 = w1 * dot_x1 + x1 * dot_w1  # mul: d t1/d x1 = w1, d t1/d w1 = x1"
            in lines)
    assert lines[-1] == "    return o, dot_o"


def test_forward_mode_tangents_follow_wrt_and_missing_ones_are_zero():
    f = symgrad.compile("x*y + y*z", wrt=["y"])
    assert f.tangent_program.params == ("x", "y", "z", "dot_y")
    assert f.jvp({"x": 2.0, "y": 3.0, "z": 5.0}, {"y": 2.0}) == (21.0, 14.0)
    assert f.jvp({"x": 2.0, "y": 3.0, "z": 5.0}, {}) == (21.0, 0.0)
    with pytest.raises(TypeError, match="no component x"):
        f.jvp({"x": 2.0, "y": 3.0, "z": 5.0}, {"x": 1.0})


def test_forward_mode_names_never_clash_with_the_users():
    f = symgrad.compile("dot_x*x + dot_x_2 + out")
    point = {"dot_x": 2.0, "x": 3.0, "dot_x_2": 5.0, "out": 7.0}
    value, derivative = f.jvp(point, {"x": 1.0, "dot_x": 10.0})
    assert (value, derivative) == (18.0, 2.0 + 30.0)


def test_forward_mode_errors_name_the_subexpression():
    f = symgrad.compile("sqrt(x)")
    with pytest.raises(EvaluationError, match="sqrt"):
        f.jvp({"x": 0.0}, {"x": 1.0})
    with pytest.raises(EvaluationError, match="log"):
        symgrad.compile("log(x)").jvp({"x": -1.0}, {"x": 1.0})


def test_forward_mode_of_constant_and_bare_input_programs():
    assert symgrad.compile("3").jvp({}, {}) == (3.0, 0.0)
    assert symgrad.compile("x").jvp({"x": 2.0}, {"x": 0.5}) == (2.0, 0.5)


def test_explain_forward_walks_each_value_then_its_tangent():
    from symgrad.views.explain import explain_forward

    f = symgrad.compile("n = x1*w1 + x2*w2 + b; o = tanh(n); o")
    point = dict(x1=2.0, w1=-3.0, x2=0.0, w2=1.0, b=6.8813735870195432)
    lines = explain_forward(f.tangent_program, point, {"w1": 1.0})
    assert lines[0].startswith("dot_x1 = 0, dot_w1 = 1,")
    assert lines[1] == "t1 = x1*w1 = -6  →  dot_t1 = w1*dot_x1 + x1*dot_w1 = (-3)*0 + 2*1 = 2"
    assert lines[-2] == "o = tanh(n) = 0.7071  →  dot_o = (1 - o**2)*dot_n = 0.5*2 = 1"
    assert lines[-1] == "directional derivative of o: dot_o = 1"
