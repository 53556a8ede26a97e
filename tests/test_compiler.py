"""Compiled gradients agree with SymPy and finite differences; the lecture's numbers come out."""

import math

import numpy as np
import pytest

import symgrad
from cases import BACKENDS, CORPUS, use_jax


@pytest.mark.parametrize("text, note", CORPUS, ids=[note for _, note in CORPUS])
def test_corpus_gradients_agree_with_sympy_and_finite_differences(text, note):
    report = symgrad.check(text, points=3, symbolic=False)
    assert report.ok, str(report)
    assert len(report.points) == 3


SYMBOLIC = ["tanh(a*b+c)", "(a*b + c)*f", "x**y", "log(1 + exp(x))", "relu(x*y) + abs(x)",
            "sigmoid(x)", "sqrt(x*x + y*y)", "x = x*2; x = x + 1; x*x", "sin(x)*cos(y)"]


@pytest.mark.parametrize("text", SYMBOLIC)
def test_gradients_are_symbolically_equal_to_sympy_diff(text):
    report = symgrad.check(text)
    assert report.ok, str(report)
    assert all(row.symbolic is True for row in report.rows), str(report)


def test_lecture_expression():
    value, grad = symgrad.compile("(a*b + c)*f").value_and_grad(a=2, b=-3, c=10, f=-2)
    assert value == -8.0
    assert grad == {"a": 6.0, "b": -4.0, "c": -2.0, "f": 4.0}


def test_lecture_neuron():
    f = symgrad.compile("tanh(x1*w1 + x2*w2 + b)")
    value, grad = f.value_and_grad(x1=2, x2=0, w1=-3, w2=1, b=6.8813735870195432)
    assert value == pytest.approx(0.7071, abs=1e-4)
    expected = {"x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0, "b": 0.5}
    assert grad == pytest.approx(expected, abs=1e-6)


MICROGRAD_README = """\
c = a + b
d = a * b + b**3
c = c + c + 1
c = c + 1 + c + (-a)
d = d + d * 2 + relu(b + a)
d = d + 3 * d + relu(b - a)
e = c - d
f = e**2
g = f / 2.0
g = g + 10.0 / f
g"""


def test_micrograd_readme_example():
    value, grad = symgrad.compile(MICROGRAD_README).value_and_grad(a=-4.0, b=2.0)
    assert value == pytest.approx(24.7041, abs=1e-4)
    assert grad["a"] == pytest.approx(138.8338, abs=1e-4)
    assert grad["b"] == pytest.approx(645.5773, abs=1e-4)


def test_values_and_gradients_are_python_floats():
    value, grad = symgrad.compile("x**2 + 3").value_and_grad(x=2)
    assert type(value) is float and all(type(g) is float for g in grad.values())


@pytest.mark.parametrize("backend", [*BACKENDS, "numpy"])
@pytest.mark.parametrize("text", ["sign(x)*y", "tanh(x)*y", "relu(x) + y"])
def test_every_backend_returns_python_floats(backend, text):
    # NumPy's code computes some gradients as np.float64, which prints as one.
    if backend == "jax":
        use_jax()
    value, grad = symgrad.compile(text, backend=backend).value_and_grad(x=0.5, y=2.0)
    assert type(value) is float and all(type(g) is float for g in grad.values())


def test_constant_program_has_a_float_value_and_no_gradients():
    f = symgrad.compile("2+3")
    assert f.variables == ()
    assert f() == 5.0 and type(f()) is float
    assert f.value_and_grad() == (5.0, {})


def test_value_and_grad_is_pure_and_call_gives_the_value():
    f = symgrad.compile("a*a + b")
    first = f.value_and_grad(a=3.0, b=1.0)
    assert f.value_and_grad(a=3.0, b=1.0) == first == (10.0, {"a": 6.0, "b": 1.0})
    assert f(a=3.0, b=1.0) == 10.0 and f(3.0, 1.0) == 10.0


def test_fan_out_accumulates_instead_of_overwriting():
    # The lecture's bug: b = a + a must give db/da = 2, not 1.
    assert symgrad.compile("a + a").value_and_grad(a=3.0)[1] == {"a": 2.0}
    assert "+=" in symgrad.compile("a + a").source


def test_inputs_that_vanish_still_get_a_zero_gradient():
    f = symgrad.compile("x*0 + y")
    assert f.variables == ("x", "y")
    assert f.value_and_grad(x=5.0, y=2.0) == (2.0, {"x": 0.0, "y": 1.0})


def test_wrt_restricts_the_gradient():
    f = symgrad.compile("a*b + c", wrt=["c", "a"])
    assert f.value_and_grad(a=2.0, b=3.0, c=1.0) == (7.0, {"c": 1.0, "a": 3.0})
    assert "grad_b" not in f.source
    with pytest.raises(ValueError, match="not an input"):
        symgrad.compile("a*b", wrt=["z"])


def test_derivatives_are_text_in_the_language_that_parses_back():
    f = symgrad.compile("tanh(a*b + c)")
    assert f.derivatives["c"] == "1 - tanh(a*b + c)**2"
    for name, text in f.derivatives.items():
        g = symgrad.compile(text)
        point = {"a": 0.3, "b": -0.7, "c": 0.2}
        assert g(**{k: point[k] for k in g.variables}) == pytest.approx(
            f.value_and_grad(**point)[1][name], rel=1e-12)


def test_shared_parts_of_large_derivatives_are_named_once():
    text = "x1 = tanh(x*x); x2 = tanh(x1*x1); x3 = tanh(x2*x2); x4 = tanh(x3*x3); x4"
    f = symgrad.compile(text)
    assert f.derivatives["x"] == "16*(1 - x4**2)*x3*(1 - x3**2)*x2*(1 - x2**2)*x1*(1 - x1**2)*x"
    derivative = f.derivatives_expanded["x"]
    assert ";" in derivative and len(derivative) < 1000
    g = symgrad.compile(derivative)
    assert g(x=0.4) == pytest.approx(symgrad.compile(text).value_and_grad(x=0.4)[1]["x"])


def test_gradients_are_ir_and_can_be_differentiated_again():
    f = symgrad.compile("x**3")
    second = symgrad.compile(f.gradients["x"])
    value, grad = second.value_and_grad(x=2.0)
    assert value == 12.0 and grad == {"x": 12.0}  # 3x**2 and 6x at 2


def test_check_reports_a_mismatch_with_variable_values_and_rules(monkeypatch):
    from symgrad.core import autodiff, ops

    wrong = ops.OPS["tanh"]._replace(partials=("1 - out",))
    monkeypatch.setitem(ops.OPS, "tanh", wrong)
    autodiff.partial_pattern.cache_clear()
    try:
        report = symgrad.check("tanh(x*y)", points=2)
    finally:
        monkeypatch.undo()
        autodiff.partial_pattern.cache_clear()
    assert not report.ok
    text = str(report)
    assert "MISMATCH" in text and "d/dx" in text and "tanh" in text and "symgrad" in text


def test_check_at_a_given_point_and_batch_agree():
    f = symgrad.compile("x*log(y) + exp(-x)")
    report = symgrad.check(f, points=1, at={"x": 0.5, "y": 2.0})
    assert report.ok and report.points[0] == {"x": 0.5, "y": 2.0}
    values, grads = f.batch(x=[0.5, 1.0], y=[2.0, 3.0])
    for i, (x, y) in enumerate([(0.5, 2.0), (1.0, 3.0)]):
        value, grad = f.value_and_grad(x=x, y=y)
        assert values[i] == pytest.approx(value, rel=1e-14)
        assert grads["y"][i] == pytest.approx(grad["y"], rel=1e-14)
    assert math.isnan(symgrad.compile("log(x)").batch(x=[-1.0])[0][0])
    with pytest.raises(symgrad.EvaluationError):
        symgrad.compile("log(x)").batch(x=[-1.0], strict=True)


def test_batch_gradients_passed_to_two_inputs_stay_apart():
    # x + y hands one gradient array to both x and y; adding x's other
    # contribution in place would change y's gradient too.
    f = symgrad.compile("x*y + (x + y)*z")
    points = [(1.0, 3.0, 5.0), (2.0, 4.0, 6.0)]
    values, grads = f.batch(**{name: [p[i] for p in points] for i, name in enumerate("xyz")})
    for i, point in enumerate(points):
        value, grad = f.value_and_grad(**dict(zip("xyz", point)))
        assert values[i] == value
        assert {name: grads[name][i] for name in grad} == grad



@pytest.mark.parametrize("text", ["a", "a + b", "a*b + 2", "x = a*b; x + x*0 + b"])
def test_batch_results_are_arrays_of_their_own(text):
    # The generated code may return an input, one array for two gradients or a number:
    # each result must still be a fresh array that shares memory with nothing else.
    import numpy as np
    a, b = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])
    f = symgrad.compile(text)
    value, grads = f.batch(**{name: {"a": a, "b": b}[name] for name in f.variables})
    results = [value, *grads.values()]
    for i, result in enumerate(results):
        assert type(result) is np.ndarray and result.shape == (3,) and result.flags.writeable
        assert not any(np.shares_memory(result, other) for other in [a, b, *results[i + 1:]])
    expected = [f.value_and_grad(a=x, b=y) for x, y in zip(a, b)] if "b" in f.variables else [
        f.value_and_grad(a=x) for x in a]
    assert value.tolist() == [v for v, _ in expected]
    assert {n: g.tolist() for n, g in grads.items()} == {
        n: [grad[n] for _, grad in expected] for n in f.variables}

def test_check_allows_for_ill_conditioned_points_without_hiding_errors():
    # cos(exp(exp(2x))) near x = 1.54: the argument is about 1e10, so float rounding
    # moves the exact gradient by about 1e-5 and finite differences are meaningless.
    report = symgrad.check("x = x + x; cos(exp(exp(x)))", points=0,
                           at={"x": 1.5401133655865746}, symbolic=False)
    assert report.ok, str(report)
    assert report.rows[0].sympy_error > 1e-8  # the float result really does differ
    # A well-conditioned point keeps the tight tolerance.
    assert symgrad.check("cos(exp(exp(x)))", points=3, symbolic=False).rows[0].sympy_error < 1e-12


@pytest.mark.parametrize("point", [
    {"x": 1.5, "y": -0.25},  # floats: Python binds the keywords itself
    {"x": 3, "y": -1},  # ints: converted on the checked path
])
def test_both_calling_paths_give_the_same_floats(point):
    f = symgrad.compile("x*exp(y) + y**2")
    value, grad = f.value_and_grad(**point)
    x, y = float(point["x"]), float(point["y"])
    assert type(value) is float and all(type(g) is float for g in grad.values())
    assert value == pytest.approx(x * math.exp(y) + y * y, rel=1e-15)
    assert grad == pytest.approx({"x": math.exp(y), "y": x * math.exp(y) + 2 * y}, rel=1e-15)
    assert f.last_point == [x, y]


def test_a_check_at_one_point_says_point():
    assert str(symgrad.check("x*y", points=1)).startswith("check of x*y at 1 point: ")


def test_check_says_where_sympy_s_formula_has_no_number_and_does_not_count_it():
    """SymPy's d/dy x**y is x**y*log(x), nan at x = 0: it was counted as an error of inf
    that failed no test (nan compares false), under "all gradients agree"."""
    report = symgrad.check("x**y", at={"x": 0.0, "y": 2.0})
    assert report.ok
    for row in report.rows:
        assert math.isfinite(row.sympy_error) and row.sympy_error < 1e-12
        assert any("x=0, y=2, SymPy's formula has no value" in note for note in row.notes)


def test_an_input_called_strict_is_an_input_of_batch():
    """batch's own keyword swallowed it: "missing inputs: strict" though it was given."""
    f = symgrad.compile("strict*2 + log(x)")
    values, grads = f.batch(strict=[1.0, 2.0], x=[1.0, 1.0])
    assert list(values) == [2.0, 4.0] and list(grads["strict"]) == [2.0, 2.0]
    # As one mapping, the keyword is the option again.
    with pytest.raises(symgrad.EvaluationError, match="log"):
        f.batch({"strict": [1.0], "x": [-1.0]}, strict=True)
    assert np.isnan(f.batch({"strict": [1.0], "x": [-1.0]})[0][0])
    with pytest.raises(TypeError, match="one mapping or as keywords, not both"):
        f.batch({"strict": [1.0]}, x=[1.0])
