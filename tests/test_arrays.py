"""Array programs: every operation checked three ways (finite differences, the scalar
compiler on the program expanded element by element, and JAX's own autodiff)."""

import math

import numpy as np
import pytest

import symgrad
from array_cases import PROGRAMS, finite_differences, inputs
from cases import NEEDS_JAX, use_jax
from symgrad.arrays.scalarise import gradients_by_array, scalar_point, scalarise

NAMES = sorted(PROGRAMS)


@pytest.mark.parametrize("name", NAMES)
def test_gradients_agree_with_finite_differences(name):
    expression, values, _ = inputs(name)
    f = symgrad.compile(expression.text)
    value, grads = f.value_and_grad(**values)
    assert value == pytest.approx(f(**values), rel=1e-12)
    assert set(grads) == {n for n, node in expression.inputs.items() if node.dtype == "float"}
    for input_name, grad in grads.items():
        assert np.shape(grad) == np.shape(values[input_name])
        expected = finite_differences(f, values, input_name)
        np.testing.assert_allclose(grad, expected, rtol=1e-5, atol=1e-6, err_msg=input_name)


@pytest.mark.parametrize("name", NAMES)
def test_the_scalar_compiler_agrees_on_the_program_expanded_element_by_element(name):
    expression, values, dims = inputs(name, seed=1)
    ints = {k: v for k, v in values.items() if expression.inputs[k].dtype == "int"}
    scalar_expression, names = scalarise(expression, ints, dims)
    scalar = symgrad.compile(scalar_expression)
    point = scalar_point(values, names)
    scalar_value, scalar_grads = scalar.value_and_grad(
        **{v: point[v] for v in scalar.variables})
    value, grads = symgrad.compile(expression.text).value_and_grad(**values)
    assert value == pytest.approx(scalar_value, rel=1e-12, abs=1e-12)
    expected = gradients_by_array(scalar_grads, names)
    for input_name, grad in grads.items():
        np.testing.assert_allclose(grad, expected[input_name], rtol=1e-12, atol=1e-12,
                                   err_msg=input_name)


def test_sympy_checks_the_scalar_form():
    pytest.importorskip("sympy")
    expression, values, dims = inputs("mlp")
    scalar_expression, _ = scalarise(expression, {"Y": values["Y"]}, dims)
    report = symgrad.check(scalar_expression, points=1, symbolic=False)
    assert report.ok


@NEEDS_JAX
@pytest.mark.parametrize("name", NAMES)
def test_jax_grad_of_the_forward_pass_agrees(name):
    jax = use_jax()
    expression, values, _ = inputs(name, seed=2)
    f = symgrad.compile(expression.text)
    _, grads = f.value_and_grad(**values)
    jf = symgrad.compile(expression.text, backend="jax")
    floats = list(grads)
    forward = jf._value_generated  # the forward pass alone, over jax.numpy

    def loss(*args):
        merged = dict(values, **dict(zip(floats, args)))
        return forward(*(merged[n] for n in f.inputs))

    oracle = jax.grad(loss, argnums=tuple(range(len(floats))))(
        *(jax.numpy.asarray(values[n], dtype=float) for n in floats))
    for input_name, expected in zip(floats, oracle):
        np.testing.assert_allclose(grads[input_name], np.asarray(expected), rtol=1e-10,
                                   atol=1e-12, err_msg=input_name)
    value, jax_grads = jf.value_and_grad(**values)
    assert value == pytest.approx(f(**values), rel=1e-12)
    for input_name in floats:
        np.testing.assert_allclose(jax_grads[input_name], grads[input_name], rtol=1e-10,
                                   atol=1e-12)


@NEEDS_JAX
def test_the_jax_backend_is_pure_and_jit_compiled_against_a_hand_written_loss():
    jax = use_jax()
    jnp = jax.numpy
    expression, values, _ = inputs("mlp")
    f = symgrad.compile(expression.text, backend="jax")

    def loss(X, W1, b1, W2, b2, Y):
        h = jnp.tanh(X @ W1 + b1)
        logits = h @ W2 + b2
        logp = logits - jax.scipy.special.logsumexp(logits, axis=1, keepdims=True)
        return -jnp.mean(logp[jnp.arange(len(Y)), Y]) + 0.01 * jnp.sum(W1**2)

    names = ["X", "W1", "b1", "W2", "b2"]
    expected = jax.jit(jax.grad(loss, argnums=(0, 1, 2, 3, 4)))(
        *(values[n] for n in names), values["Y"])
    value, grads = f.value_and_grad(**values)
    assert value == pytest.approx(float(loss(*(values[n] for n in names), values["Y"])),
                                  rel=1e-12)
    for name, grad in zip(names, expected):
        np.testing.assert_allclose(grads[name], np.asarray(grad), rtol=1e-10, atol=1e-12)
    jitted = jax.jit(f._generated)(*(values[n] for n in f.inputs))  # traceable: pure
    assert float(jitted[0]) == pytest.approx(value, rel=1e-12)


@NEEDS_JAX
def test_the_jax_backend_computes_in_float64_whatever_jax_s_default():
    jax = use_jax()
    expression, values, _ = inputs("mlp")
    expected = symgrad.compile(expression.text).value_and_grad(**values)
    f = symgrad.compile(expression.text, backend="jax")
    with jax.enable_x64(False):
        value, grads = f.value_and_grad(**values)
    assert value == pytest.approx(expected[0], rel=1e-12)
    for name, grad in grads.items():
        np.testing.assert_allclose(grad, expected[1][name], rtol=1e-10, atol=1e-12)


def test_a_dimension_name_is_its_size_bound_at_call_time():
    f = symgrad.compile("X: [n, 3]\nv = sum((X - mean(X, axis=0))**2, axis=0) / (n - 1)\nsum(v)")
    assert "    n = X.shape[0]\n" in f.source and " = float(n) - 1.0  # ()" in f.source
    for rows in (2, 5):
        X = np.random.default_rng(rows).normal(size=(rows, 3))
        value, grads = f.value_and_grad(X=X)
        assert value == pytest.approx(np.var(X, axis=0, ddof=1).sum(), rel=1e-12)
        np.testing.assert_allclose(grads["X"], 2 * (X - X.mean(axis=0)) / (rows - 1),
                                   rtol=1e-12, atol=1e-14)
    assert set(grads) == {"X"}  # the size gets no gradient


@pytest.mark.parametrize("backend", ["numpy", pytest.param("jax", marks=NEEDS_JAX)])
@pytest.mark.parametrize("name", NAMES)
def test_every_gradient_is_an_array_of_its_own(name, backend):
    """A step in place (``w -= rate * grad["w"]``) changes w and nothing else: no gradient
    is an input array (``x @ w`` has ``grad_x = w``), a view of one, or another gradient."""
    expression, values, _ = inputs(name)
    _, grads = symgrad.compile(expression.text, backend=backend).value_and_grad(**values)
    arrays = [v for v in values.values() if isinstance(v, np.ndarray)]
    for input_name, grad in grads.items():
        if np.ndim(grad):
            assert not any(np.may_share_memory(grad, other) for other in arrays), input_name
            arrays.append(grad)


def test_an_in_place_step_on_one_gradient_leaves_the_inputs_alone():
    x, w = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])
    _, grad = symgrad.compile("x: [3]\nw: [3]\nx @ w").value_and_grad(x=x, w=w)
    x -= 0.1 * grad["x"]
    w -= 0.1 * grad["w"]
    np.testing.assert_allclose(x, [0.6, 1.5, 2.4])  # x - 0.1 * w, w as it was
    np.testing.assert_allclose(w, [3.9, 4.8, 5.7])  # w - 0.1 * x, x as it was


IEEE_CASES = [  # (program, X's rows, the value NumPy's floats give)
    ("X: [n, m]\nsum(X*0) + n**m", 64, 64.0**3),  # np.power of two ints wrapped to 0
    ("X: [n, m]\nsum(X*0) + (n - 5)**0.5", 1, math.nan),  # Python's (-4)**0.5 is complex
    ("X: [n, m]\nsum(X*0) + abs((-8)**(1/3))", 1, math.nan),  # abs of the complex was 2
    ("X: [n, m]\nsum(X)*(1/(n - 1))", 1, math.inf),  # ZeroDivisionError: batch norm, n = 1
    ("X: [n, m]\nsum(X)*(1/0)", 1, math.inf),
    ("X: [n, m]\nsum(X)*0**-1", 1, math.inf),
]


@pytest.mark.parametrize("backend", ["numpy", pytest.param("jax", marks=NEEDS_JAX)])
@pytest.mark.parametrize("text, rows, expected", IEEE_CASES)
def test_arithmetic_on_sizes_and_constants_follows_ieee_as_the_arrays_do(
        text, rows, expected, backend):
    """Sizes of dimensions are Python ints and constants Python floats in generated
    code, whose / and ** do not follow IEEE: NumPy's functions compute those."""
    if backend == "jax":
        use_jax()
    f = symgrad.compile(text, backend=backend)
    with np.errstate(all="ignore"):
        value, grads = f.value_and_grad(X=np.ones((rows, 3)))
    np.testing.assert_equal(value, expected)
    assert grads["X"].shape == (rows, 3)


@pytest.mark.parametrize("backend", ["numpy", pytest.param("jax", marks=NEEDS_JAX)])
@pytest.mark.parametrize("text", ["X: [3]\nsum(X) + transpose(a)", "X: [3]\nsum(X) + 2.0.T",
                                  "X: [3]\ntranspose(sum(X*a))"])
def test_a_number_is_its_own_transpose(text, backend):
    """transpose(1.0) printed 1.0.T: 'float' object has no attribute 'T'."""
    if backend == "jax":
        use_jax()
    f = symgrad.compile(text, backend=backend)
    values = {"X": np.array([1.0, 2.0, 3.0]), "a": 2.0}
    values = {name: values[name] for name in f.inputs}
    _, grads = f.value_and_grad(**values)
    for name, grad in grads.items():
        np.testing.assert_allclose(grad, finite_differences(f, values, name), rtol=1e-6)


@pytest.mark.parametrize("backend", ["numpy", pytest.param("jax", marks=NEEDS_JAX)])
def test_indexing_with_a_constant_upstream_gradient(backend):
    """JAX's scatter_add read g.dtype of the upstream gradient 1.0, a Python float."""
    if backend == "jax":
        use_jax()
    f = symgrad.compile("X: [n, 3]\nI: int[]\nJ: int[]\nX[I, J] + 0.5*sum(X**2)",
                        backend=backend)
    X = np.arange(6.0).reshape(2, 3)
    _, grads = f.value_and_grad(X=X, I=np.array(1), J=np.array(2))
    expected = X.copy()
    expected[1, 2] += 1.0
    np.testing.assert_allclose(grads["X"], expected)


@pytest.mark.parametrize("backend", ["numpy", pytest.param("jax", marks=NEEDS_JAX)])
def test_arithmetic_on_sizes_is_in_floats(backend):
    """n*n*n*n at n = 60,000 passed int64 as Python ints: JAX refused the int, NumPy's exp
    took no int that large."""
    if backend == "jax":
        use_jax()
    f = symgrad.compile("X: [n]\nsum(X) / (n*n*n*n) + exp(n*n*n*n*0)", backend=backend)
    value, _ = f.value_and_grad(X=np.ones(60_000))
    assert value == pytest.approx(1.0 + 60_000 / 60_000.0**4)
