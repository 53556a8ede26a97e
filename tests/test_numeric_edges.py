"""The numeric conventions of docs/reference/numerics.md's table: one test per row per backend.

Scalar path: ``f(...)`` and ``f.value_and_grad(...)``.  Batch path: ``f.batch(...)``
follows NumPy; ``f.batch(..., strict=True)`` raises like the scalar path.
"""

import math
import warnings

import numpy as np
import pytest

import symgrad
from cases import BACKENDS, use_jax

INF, NAN = math.inf, math.nan


@pytest.fixture(autouse=True)
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from NumPy, ever
        yield


@pytest.fixture(params=BACKENDS)
def backend(request):
    if request.param == "jax":
        use_jax()
    return request.param


def strict_error(f, **inputs):
    with pytest.raises(symgrad.EvaluationError) as caught:
        f.batch(strict=True, **inputs)
    return str(caught.value)


def test_exp_overflow_is_an_error_on_the_scalar_path_and_inf_in_batches(backend):
    f = symgrad.compile("exp(x)", backend=backend)
    with pytest.raises(symgrad.EvaluationError, match=r"exp\(x\) overflows"):
        f(x=1000.0)
    value, grad = f.batch(x=[0.0, 1000.0])
    assert value[1] == INF and grad["x"][1] == INF
    assert "exp(x) overflows" in strict_error(f, x=[0.0, 1000.0])


def test_underflow_is_silent_zero_everywhere(backend):
    f = symgrad.compile("exp(x)", backend=backend)
    assert f.value_and_grad(x=-1000.0) == (0.0, {"x": 0.0})
    assert f.batch(strict=True, x=[-1000.0])[0][0] == 0.0


@pytest.mark.parametrize("x, value", [(-1000.0, 0.0), (1000.0, 1.0), (-745.2, 0.0)])
def test_sigmoid_far_out_saturates_without_overflow(x, value, backend):
    f = symgrad.compile("sigmoid(x)", backend=backend)
    result, grad = f.value_and_grad(x=x)
    assert result == pytest.approx(value, abs=1e-300) and grad["x"] == pytest.approx(0, abs=1e-300)
    batch_value, grad = f.batch(strict=True, x=[x])  # no FloatingPointError for underflow
    assert batch_value[0] == pytest.approx(value, abs=1e-300) and grad["x"][0] == 0.0


@pytest.mark.parametrize("x, value", [(-1000.0, -1.0), (1000.0, 1.0)])
def test_tanh_far_out_is_plus_or_minus_one_with_zero_gradient(x, value, backend):
    f = symgrad.compile("tanh(x)", backend=backend)
    assert f.value_and_grad(x=x) == (value, {"x": 0.0})
    assert f.batch(strict=True, x=[x])[0][0] == value


def test_log_of_zero_is_an_error_on_the_scalar_path_and_minus_inf_in_batches(backend):
    f = symgrad.compile("log(x)", backend=backend)
    with pytest.raises(symgrad.EvaluationError, match=r"log\(x\) is undefined"):
        f(x=0.0)
    value, grad = f.batch(x=[0.0])
    assert value[0] == -INF and grad["x"][0] == INF
    assert "log(x)" in strict_error(f, x=[1.0, 0.0])


def test_negative_base_with_fractional_exponent_is_an_error_and_nan_in_batches(backend):
    f = symgrad.compile("x**y", backend=backend)
    with pytest.raises(symgrad.EvaluationError, match=r"x\*\*y is undefined"):
        f(x=-8.0, y=1 / 3)
    assert math.isnan(f.batch(x=[-8.0], y=1 / 3)[0][0])
    assert "batch index (0,)" in strict_error(f, x=[-8.0], y=1 / 3)
    assert symgrad.compile("x**3", backend=backend).value_and_grad(x=-2.0) == (-8.0, {"x": 12.0})


def test_zero_to_the_zero_is_one_and_its_gradient_is_undefined(backend):
    f = symgrad.compile("x**y", backend=backend)
    assert f(x=0.0, y=0.0) == 1.0 and f.batch(x=[0.0], y=0.0)[0][0] == 1.0
    with pytest.raises(symgrad.EvaluationError, match="in the gradient of x\\*\\*y"):
        f.value_and_grad(x=0.0, y=0.0)


def test_sqrt_at_zero_has_a_value_but_no_gradient(backend):
    f = symgrad.compile("sqrt(x)", backend=backend)
    assert f(x=0.0) == 0.0
    with pytest.raises(symgrad.EvaluationError, match="in the gradient of sqrt\\(x\\)"):
        f.value_and_grad(x=0.0)
    assert f.batch(x=[0.0])[1]["x"][0] == INF


@pytest.mark.parametrize("text", ["abs(x)", "relu(x)"])
def test_abs_and_relu_have_gradient_zero_at_zero(text, backend):
    f = symgrad.compile(text, backend=backend)
    assert f.value_and_grad(x=0.0) == (0.0, {"x": 0.0})
    value, grad = f.batch(strict=True, x=[-1.0, 0.0, 1.0])
    assert grad["x"].tolist() == [-1.0 if text == "abs(x)" else 0.0, 0.0, 1.0]


@pytest.mark.parametrize("bad", [NAN, INF, -INF])
def test_non_finite_inputs_are_refused_by_scalars_and_strict_batches(bad, backend):
    f = symgrad.compile("x*2 + y", backend=backend)
    with pytest.raises(symgrad.EvaluationError, match="input x = .* is not a finite number"):
        f(x=bad, y=1.0)
    value, _ = f.batch(x=[1.0, bad], y=1.0)  # NumPy's rules: propagated
    assert value[0] == 3.0 and not math.isfinite(value[1])
    assert "input x" in strict_error(f, x=[1.0, bad], y=1.0)


def test_huge_literals_are_infinity_and_tiny_ones_are_zero(backend):
    assert symgrad.parse("1e999").root.value == INF
    assert symgrad.parse("1e-400").root.value == 0.0
    f = symgrad.compile("x*1e999", backend=backend)
    with pytest.raises(symgrad.EvaluationError, match="overflows"):
        f(x=1.0)
    assert f.batch(x=[1.0])[0][0] == INF and "x*1e999" in strict_error(f, x=[1.0])
    assert symgrad.compile("x + 1e-400", backend=backend).source == symgrad.compile("x", backend=backend).source


def sign_of(x):
    return math.copysign(1.0, x)


@pytest.mark.parametrize("text, x, phrase", [
    ("sqrt(x)*0", -4.0, r"sqrt\(x\) is undefined"),
    ("0*log(x)", -1.0, r"log\(x\) is undefined"),
    ("(1/x)*0", 0.0, r"1/x is undefined"),
    ("x**0.5*0 + 1", -2.0, r"x\*\*0.5 is undefined"),
    ("tan(x)*0", 1.0, None),  # tan is not total: kept, but fine at 1
])
def test_times_zero_keeps_the_domain_errors_of_its_operand(text, x, phrase, backend):
    f = symgrad.compile(text, backend=backend)
    assert "x" in str(f.expression)  # not folded to a constant
    if phrase is None:
        assert f.value_and_grad(x=x) == (0.0, {"x": 0.0})
        return
    with pytest.raises(symgrad.EvaluationError, match=phrase):
        f(x=x)
    with pytest.raises(symgrad.EvaluationError, match=phrase):
        f.value_and_grad(x=x)
    assert math.isnan(f.batch(x=[x])[0][0])  # NumPy's rules: 0*nan is nan
    assert "batch index (1,)" in strict_error(f, x=[4.0, x])


@pytest.mark.parametrize("text, folded", [
    ("x*0 + y", "y"),
    ("exp(x)*0 + y", "y"),  # exp(1000) overflows, but 0*exp(x) is 0 for every real x
    ("0*sigmoid(tanh(sin(x) - cos(x))*atan(x)) + y", "y"),
    ("(relu(x) + abs(x)*step(x)*sign(x) - -x)*0 + y", "y"),
])
def test_times_zero_folds_over_total_operators(text, folded, backend):
    f = symgrad.compile(text, backend=backend)
    assert str(f.expression) == folded and f.variables == ("x", "y")
    assert f.value_and_grad(x=1000.0, y=2.0) == (2.0, {"x": 0.0, "y": 1.0})


def test_a_minus_zero_literal_keeps_its_sign(backend):
    f = symgrad.compile("-0.0", backend=backend)
    assert str(f.expression) == "-0.0" and sign_of(f()) < 0
    assert sign_of(f.value_and_grad()[0]) < 0 and sign_of(f.batch()[0]) < 0
    g = symgrad.compile("x*-0.0", backend=backend)  # IEEE's sign rule, not folded
    assert str(g.expression) == "x*-0.0" and g.value_and_grad(x=1.0)[1] == {"x": 0.0}
    assert sign_of(g(x=2.0)) < 0 and sign_of(g(x=-2.0)) > 0
    assert [sign_of(v) for v in g.batch(x=[2.0, -2.0])[0]] == [-1.0, 1.0]


@pytest.mark.parametrize("text, value", [("-0.0 + 0", 0.0), ("-0.0 - 0", -0.0),
                                         ("-0.0*1", -0.0), ("0 - 0", 0.0), ("-(0)", -0.0)])
def test_constants_fold_by_ieee_arithmetic(text, value):
    root = symgrad.parse(text).root
    assert root.op == "const" and root.value == value and sign_of(root.value) == sign_of(value)


@pytest.mark.parametrize("text", ["x/0", "x*(1/0)", "y = 1/0; x + y"])
def test_division_by_a_zero_literal_follows_numpy_in_batches(text, backend):
    f = symgrad.compile(text, backend=backend)
    with pytest.raises(symgrad.EvaluationError, match="division by zero"):
        f(x=1.0)
    value, _ = f.batch(x=[1.0, -1.0])
    assert value.tolist() == [INF, -INF] if text != "y = 1/0; x + y" else [INF, INF]
    assert "division by zero" in strict_error(f, x=[1.0])


@pytest.mark.parametrize("text", ["tanh(1/x) + y", "step(1/x)*y"])
def test_strict_batches_catch_errors_whose_inf_vanishes(text, backend):
    f = symgrad.compile(text, wrt=["y"], backend=backend)
    value, grads = f.batch(x=[2.0, 0.0, 0.0], y=1.0)  # every result finite
    assert np.isfinite(value).all() and np.isfinite(grads["y"]).all()
    message = strict_error(f, x=[[2.0, 3.0], [0.0, 0.0]], y=1.0)
    assert "1/x is undefined" in message and "batch index (1, 0)" in message


def test_a_constant_infinity_is_an_error_from_value_and_grad_as_from_the_call(backend):
    """The scalar path returns finite numbers only: `f(...)` raised for 1e999 as the
    value, and `value_and_grad` returned inf."""
    f = symgrad.compile("x*0 + 1e999", backend=backend)
    for call in (f, f.value_and_grad):
        with pytest.raises(symgrad.EvaluationError, match="the value is not finite"):
            call(x=1.0)


@pytest.mark.parametrize("text", ["min(x, 2)", "min(2, x)", "max(x, 2)", "max(2, x)"])
def test_a_whole_number_operand_returned_as_the_value_is_a_float(text, backend):
    """Generated Python writes whole numbers as `2` (Python then computes in floats):
    `min` handed the int 2 back as the value."""
    f = symgrad.compile(text, backend=backend)
    value, grads = f.value_and_grad(x=3.0 if text.startswith("min") else 1.0)
    assert type(value) is float and value == 2.0
    assert type(f(x=3.0 if text.startswith("min") else 1.0)) is float
    assert all(type(g) is float for g in grads.values())


def test_jax_zeroing_a_subnormal_is_an_error_where_it_makes_a_result_not_finite():
    """XLA on CPU treats subnormal numbers as 0: sqrt(x*y) at 1e-160 has x*y = 1e-320,
    so JAX's gradient x/(2 sqrt(x*y)) was inf, returned as a number."""
    use_jax()
    f = symgrad.compile("sqrt(x*y)", backend="jax")
    with pytest.raises(symgrad.EvaluationError, match="on the jax backend, but 0.50000"):
        f.value_and_grad(x=1e-160, y=1e-160)
    value, grads = symgrad.compile("sqrt(x*y)").value_and_grad(x=1e-160, y=1e-160)
    assert grads["x"] == pytest.approx(0.5, rel=1e-4)


def test_the_numpy_scalar_path_raises_its_error_without_numpy_s_warnings():
    """NumPy warned ("divide by zero encountered in log") before symgrad's own error, on
    stderr of the command too; under this module's fixture a warning is an exception."""
    f = symgrad.compile("log(x) + exp(y)", backend="numpy")
    for point, problem in (({"x": 0.0, "y": 1.0}, "log"), ({"x": 1.0, "y": 1000.0}, "exp")):
        for call in (f, f.value_and_grad):
            with pytest.raises(symgrad.EvaluationError, match=problem):
                call(**point)
