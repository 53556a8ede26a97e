"""The numeric conventions of README's "Numeric conventions" table: one test per row per backend.

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
