"""The JAX backend: NumPy's numbers (to 1e-12 with float64), jax.grad's gradients, many devices.

symgrad's gradient is its own backward pass printed over ``jax.numpy``; here it
is compared with the NumPy backend, with ``jax.grad`` of the forward pass alone,
The numeric conventions run on this
backend in test_numeric_edges.py.  Without JAX these tests skip with the reason
(CI sets SYMGRAD_REQUIRE_JAX=1 and installs it).
"""

import json
import os
import random
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import symgrad
from symgrad.backends import get
from symgrad.core.loss_plan import LossProgram
from symgrad.core.ops import FUNCTIONS
from symgrad.core.program import Program
from symgrad.losses import compile_loss
from symgrad.nn import MLP
from cases import CORPUS, HAND_WRITTEN, NEEDS_JAX, use_jax
from test_losses import ScalarRoute, TanhNet, svm

pytestmark = NEEDS_JAX

RNG = np.random.default_rng(7)


def _rows():
    """A quarter of the hand-written programs, and each operator once on a compound operand."""
    by_operator = {}
    for text, note in CORPUS[len(HAND_WRITTEN):]:
        by_operator.setdefault(note.split(" of ")[0].split(" after ")[0], []).append(text)
    return [text for text, _ in HAND_WRITTEN[::4]] + [rows[1] for rows in by_operator.values()]


ROWS = _rows()  # a sample, not the whole corpus: every row waits for XLA
TIGHT = {"rtol": 1e-12, "atol": 1e-12}


@pytest.fixture(scope="module")
def jax():
    return use_jax()


def test_the_rows_cover_every_operator():
    used = {node.op for text in ROWS for node in _nodes(symgrad.parse(text).root)}
    assert set(FUNCTIONS) | {"add", "sub", "mul", "div", "pow", "neg"} <= used


def _nodes(root, seen=None):
    seen = set() if seen is None else seen
    if root not in seen:
        seen.add(root)
        for arg in root.args:
            _nodes(arg, seen)
    return seen


def _points(variables, size=16):
    # Inside every row's domain (log, sqrt, x**y with a variable exponent need x > 0).
    return {name: RNG.uniform(0.3, 1.7, size) for name in variables}


@pytest.mark.parametrize("text", ROWS)
def test_batches_match_numpy_and_jax_grad(text, jax):
    program = Program(symgrad.parse(text))
    backend = get("jax")
    batch = backend.generated(backend.emit(program, "batch"), text, program)
    point = _points(program.variables)
    value, grads = batch(*point.values())
    expected_value, expected_grads = symgrad.compile(text, backend="numpy").batch(**point)
    np.testing.assert_allclose(value, expected_value, equal_nan=True, **TIGHT)
    for name, grad in zip(program.wrt, grads):
        np.testing.assert_allclose(np.broadcast_to(grad, expected_value.shape),
                                   expected_grads[name], equal_nan=True, **TIGHT)
    if not program.variables:
        return
    # jax.grad differentiates the forward pass on its own: a second, independent opinion.
    forward = backend.generated(backend.emit(program, "value"), text, program)
    by_jax = jax.vmap(jax.grad(forward, argnums=tuple(range(len(point)))))(*point.values())
    for grad, other in zip(grads, by_jax):
        grad = np.broadcast_to(grad, expected_value.shape)
        finite = np.isfinite(grad)
        np.testing.assert_allclose(grad[finite], np.asarray(other)[finite], rtol=1e-9,
                                   atol=1e-12)


@pytest.mark.parametrize("text", ["tanh(x1*w1 + x2*w2 + b)", "p = sigmoid(z); -(y*log(p) + "
                                  "(1 - y)*log(1 - p))", "atan2(x, y) + step(x) + sign(y)"])
def test_the_generated_function_is_pure_under_vmap_and_jit(text, jax):
    program = Program(symgrad.parse(text))
    backend = get("jax")
    function = backend.generated(backend.emit(program, "value_and_grad"), text, program)
    point = {name: RNG.uniform(0.1, 0.9, 32) for name in program.variables}
    values, grads = jax.vmap(function)(*point.values())
    again, again_grads = jax.jit(function)(*point.values())
    expected, expected_grads = symgrad.compile(text, backend="numpy").batch(**point)
    np.testing.assert_allclose(values, expected, **TIGHT)
    np.testing.assert_allclose(again, expected, **TIGHT)
    for name, grad, grad_jit in zip(program.wrt, grads, again_grads):
        np.testing.assert_allclose(grad, expected_grads[name], **TIGHT)
        np.testing.assert_allclose(grad_jit, expected_grads[name], **TIGHT)


def test_scalar_calls_give_floats_and_errors_keep_their_meaning(jax):
    f = symgrad.compile("n = x1*w1 + x2*w2 + b; o = tanh(n); o", backend="jax")
    point = {"x1": 2.0, "w1": -3.0, "x2": 0.0, "w2": 1.0, "b": 6.8813735870195432}
    value, grads = f.value_and_grad(**point)
    assert type(value) is float and all(type(g) is float for g in grads.values())
    assert value == pytest.approx(2 ** -0.5, rel=1e-12)
    assert grads["w1"] == pytest.approx(2 * 0.5, rel=1e-12)  # x1 * (1 - o**2)
    g = symgrad.compile("a = x - 1; log(a)", backend="jax")
    with pytest.raises(symgrad.EvaluationError, match=r"log\(a\) is undefined.*a = -1"):
        g(x=0.0)
    with pytest.raises(symgrad.EvaluationError, match=r"log\(a\) is undefined"):
        g.value_and_grad(x=1.0)


def test_programs_deeper_than_xla_compiles_are_refused_in_words(jax, monkeypatch):
    """XLA's compiler crashes the process on chains of about 22,000 operations; the
    backend refuses deeper programs before jit (the limit lowered here, to test fast)."""
    monkeypatch.setattr(get("jax"), "max_depth", 5)
    deep = symgrad.compile("sin(sin(sin(sin(sin(sin(x))))))", backend="jax")  # 6 deep
    for call in (deep, deep.value_and_grad, lambda **point: deep.batch(**point)):
        with pytest.raises(symgrad.TooLargeError, match="6 operations deep.*at most 5.*numpy"):
            call(x=0.5)
    wide = symgrad.compile("x*x + sin(x) + (x + 1)*(x + 2)", backend="jax")  # 3 deep
    assert wide.value_and_grad(x=0.5)[1]["x"] == pytest.approx(2 * 0.5 + np.cos(0.5) + 4.0)


def _data(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 2)), np.where(rng.uniform(size=n) > 0.5, 1.0, -1.0)


def _mlp(seed, cls=MLP):
    random.seed(seed)
    model = cls(2, [16, 16, 1])
    for p in model.parameters():
        p.data += 0.05  # biases off zero, away from relu's kink
    return model


@pytest.mark.parametrize("make", [lambda: _mlp(1, ScalarRoute), TanhNet],
                         ids=["mlp", "shared-parameter"])
def test_compiled_losses_match_numpy_and_jax_grad(make, jax):
    random.seed(4)
    model = make()
    X, Y = _data(64)
    numpy_loss = compile_loss(model, svm, n_inputs=2, l2=1e-3)
    loss = compile_loss(model, svm, n_inputs=2, l2=1e-3, backend="jax")
    params = numpy_loss.parameters()
    value, grad = jax.jit(loss)(jax.numpy.asarray(params), jax.numpy.asarray(X),
                                jax.numpy.asarray(Y))
    expected_value, expected_grad = numpy_loss(params, X, Y)
    assert float(value) == pytest.approx(expected_value, rel=1e-12)
    np.testing.assert_allclose(grad, expected_grad, **TIGHT)
    # jax.grad of the mean of the per-sample values (no backward code of symgrad's).
    backend = get("jax")
    values = backend.generated(backend.emit(LossProgram(loss.program, loss.signature),
                                            "loss_values"), "values", loss)
    by_jax = jax.jit(jax.grad(lambda p: values(p, X, Y).mean() + 1e-3 * p @ p))(params)
    np.testing.assert_allclose(grad, by_jax, rtol=1e-10, atol=1e-14)


def test_a_whole_training_step_jits_and_trains(jax):
    model = _mlp(2)
    loss = compile_loss(model, svm, n_inputs=2, backend="jax")
    X, Y = _data(100, seed=1)

    @jax.jit
    def step(params, X, Y):
        value, grad = loss(params, X, Y)
        return params - 0.1 * grad, value

    params = jax.numpy.asarray(loss.parameters())
    first = None
    for _ in range(30):
        params, value = step(params, X, Y)
        first = value if first is None else first
    assert float(value) < 0.8 * float(first)
    loss.load(np.asarray(params))
    assert [p.data for p in model.parameters()] == pytest.approx(np.asarray(params).tolist())


SHARDED = textwrap.dedent("""
    import json, os, random
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=8"
    import jax
    import numpy as np
    from jax.sharding import Mesh, NamedSharding, PartitionSpec
    jax.config.update("jax_enable_x64", True)
    from symgrad.losses import compile_loss
    from symgrad.nn import MLP

    random.seed(5)
    loss = compile_loss(MLP(2, [16, 16, 1]), lambda s, y: (1 + -y * s).relu(), n_inputs=2,
                        l2=1e-4, backend="jax")
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(800, 2)), np.where(rng.uniform(size=800) > 0.5, 1.0, -1.0)
    mesh = Mesh(np.array(jax.devices()), ("batch",))
    X8 = jax.device_put(X, NamedSharding(mesh, PartitionSpec("batch", None)))
    y8 = jax.device_put(y, NamedSharding(mesh, PartitionSpec("batch")))
    one = jax.devices()[0]
    X1, y1 = jax.device_put(X, one), jax.device_put(y, one)
    step = jax.jit(loss)
    params = loss.parameters()
    value8, grad8 = jax.block_until_ready(step(params, X8, y8))
    value1, grad1 = step(params, X1, y1)
    hlo = step.lower(params, X8, y8).compile().as_text()
    print(json.dumps({
        "devices": len(jax.devices()),
        "shards": sorted(len(s.data) for s in X8.addressable_shards),
        "value_difference": abs(float(value8) - float(value1)),
        "gradient_difference": float(np.max(np.abs(np.asarray(grad8) - np.asarray(grad1)))),
        "value": float(value1), "dtype": str(grad8.dtype),
        "all_reduce": "all-reduce" in hlo,
    }))
""")


def test_the_batch_sharded_over_eight_devices_gives_the_one_device_result():
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=8"}
    out = subprocess.run([sys.executable, "-c", SHARDED], capture_output=True, text=True,
                         env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["devices"] == 8 and result["shards"] == [100] * 8
    assert result["all_reduce"]  # each device sums its own samples, then they add up
    assert result["dtype"] == "float64" and result["value"] > 0.1
    assert result["value_difference"] <= 1e-12 * result["value"]
    assert result["gradient_difference"] <= 1e-12


def test_import_symgrad_and_other_backends_leave_jax_unloaded():
    code = ("import sys, symgrad; f = symgrad.compile('tanh(a*b)', backend='numpy'); "
            "f.batch(a=[1.0], b=2.0); print('jax' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


SCRIPT_FLOAT32_DEFAULT = """
import math, numpy as np, symgrad
f = symgrad.compile("exp(x)", backend="jax")
value, grads = f.value_and_grad(x=89.0)  # beyond float32's range, within float64's
assert math.isclose(value, math.exp(89.0), rel_tol=1e-15) and math.isfinite(grads["x"])
try:
    f.value_and_grad(x=1000.0)
except symgrad.EvaluationError as error:
    assert "exp(x) overflows" in str(error)
else:
    raise AssertionError("exp(1000) gave a number")
assert symgrad.compile("x/y", backend="jax").value_and_grad(x=1e200, y=1e200)[0] == 1.0
batch = symgrad.compile("log(x)", backend="jax").batch(x=np.array([1e-46]))[0]
assert math.isclose(float(batch[0]), math.log(1e-46), rel_tol=1e-15)
import jax.numpy as jnp
assert jnp.zeros(1).dtype == jnp.float32  # the user's own JAX code keeps its default
"""


def test_symgrads_own_jax_calls_compute_in_float64_whatever_the_default():
    done = subprocess.run([sys.executable, "-c", SCRIPT_FLOAT32_DEFAULT], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
