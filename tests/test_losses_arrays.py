"""Compiled losses of an ``nn.MLP`` through array programs: which losses take that route,
and that they agree with the scalar route, the Value engine and finite differences."""

import random

import numpy as np
import pytest
from cases import NEEDS_JAX, loss_finite_differences, use_jax
from test_losses import ScalarRoute

import symgrad
from symgrad.core.ops import OPS
from symgrad.engine import Value
from symgrad.losses import compile_loss, cross_entropy
from symgrad.nn import MLP

RNG = np.random.default_rng(7)
X = RNG.normal(size=(30, 3))
SIGNS = np.where(RNG.uniform(size=30) > 0.5, 1.0, -1.0)
LABELS = RNG.integers(0, 4, size=30)
ONE_HOT = np.eye(4)[LABELS]
SOFT = RNG.dirichlet(np.ones(4), size=30)  # probability rows


def svm(score, y):
    return (1 + -y * score).relu()


def mse(score, y):
    return (score - y) ** 2


def _model(sizes, cls=MLP, seed=3, nin=3):
    random.seed(seed)
    model = cls(nin, sizes)
    for p in model.parameters():
        p.data += 0.05  # biases off zero, away from relu's kink
    return model


def _engine(model, loss, X, Y, l2):
    """Mean loss and gradient the way micrograd computes them, on symgrad's Value engine."""
    model.zero_grad()
    rows = Y.tolist()
    total = sum(loss(model(list(map(Value, x))), [Value(t) for t in y] if isinstance(y, list)
                     else y) for x, y in zip(X.tolist(), rows))
    total = total * (1.0 / len(rows)) + l2 * sum(p * p for p in model.parameters())
    total.backward()
    return total.data, np.array([p.grad for p in model.parameters()])


CASES = [  # (name, sizes, loss, targets, Y)
    ("svm", [8, 6, 1], svm, None, SIGNS),
    ("mse", [7, 1], mse, None, SIGNS * 0.5 + 0.1),
    ("linear-hidden", [5, 1], lambda s, y: (s - y).tanh() ** 2 + (s * y).exp() * 0.1, None,
     SIGNS),
    ("cross-entropy", [6, 5, 4], cross_entropy, 4, ONE_HOT),
    ("cross-entropy-soft", [5, 4], cross_entropy, 4, SOFT),
]


@pytest.mark.parametrize("name, sizes, loss, targets, Y", CASES, ids=[c[0] for c in CASES])
def test_the_array_route_equals_the_scalar_route_the_engine_and_finite_differences(
        name, sizes, loss, targets, Y):
    model = _model(sizes)
    if name == "linear-hidden":  # a hidden layer without relu: every neuron of it
        for neuron in model.layers[0].neurons:
            neuron.nonlin = False
    compiled = compile_loss(model, loss, 3, l2=1e-3, targets=targets)
    assert compiled.route == "arrays"
    scalar_model = _model(sizes, ScalarRoute)
    for ours, theirs in zip(model.parameters(), scalar_model.parameters()):
        theirs.data = ours.data
    for neuron, twin in zip(model.layers[0].neurons, scalar_model.layers[0].neurons):
        twin.nonlin = neuron.nonlin
    scalar = compile_loss(scalar_model, loss, 3, l2=1e-3, targets=targets)
    assert scalar.route == "scalars"
    P = compiled.parameters()
    value, grad = compiled(P, X, Y)
    scalar_value, scalar_grad = scalar(P, X, Y)
    engine_value, engine_grad = _engine(model, loss, X, Y, 1e-3)
    assert value == pytest.approx(scalar_value, rel=1e-12)
    assert value == pytest.approx(engine_value, rel=1e-12)
    np.testing.assert_allclose(grad, scalar_grad, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(grad, engine_grad, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(grad, loss_finite_differences(compiled, P, X, Y),
                               rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(compiled.predict(P, X), scalar.predict(P, X), rtol=1e-12,
                               atol=1e-14)


def test_the_route_is_the_arrays_only_where_they_say_the_loss():
    def reads_a_parameter(model):
        return lambda s, y: (s - y) ** 2 + model.parameters()[0] * 0.1

    single, classifier = _model([4, 1]), _model([4, 3])
    assert compile_loss(single, svm, 3).route == "arrays"
    assert compile_loss(classifier, cross_entropy, 3, targets=3).route == "arrays"
    assert compile_loss(_model([4, 1], ScalarRoute), svm, 3).route == "scalars"
    assert compile_loss(single, svm, 3, backend="c").route == "scalars"
    assert compile_loss(single, reads_a_parameter(single), 3).route == "scalars"
    with pytest.raises(symgrad.SymgradError, match="first neurons take 3 inputs"):
        compile_loss(single, svm, 2)  # n_inputs is not the model's: refused, not traced

    def squared(scores, targets):
        return sum((s - t) * (s - t) for s, t in zip(scores, targets))

    assert compile_loss(classifier, squared, 3, targets=3).route == "scalars"
    assert compile_loss(classifier, cross_entropy, 3, targets=2).route == "scalars"
    mixed = _model([4, 1])
    mixed.layers[0].neurons[1].nonlin = False
    assert compile_loss(mixed, svm, 3).route == "scalars"
    with pytest.raises(TypeError, match="the loss must be computed"):
        compile_loss(single, lambda score, y: 1.0, 3)


def test_the_source_is_the_array_code_and_size_counts_it():
    loss = compile_loss(_model([16, 16, 1]), svm, 3, l2=1e-4)
    source = loss.source
    assert "def loss_and_grads(X, W1, b1, W2, b2, W3, b3, Y, mean_weights):" in source
    assert "h1 = np.maximum(t4, 0.0)  # (16, n)" in source
    assert "grad_W1 = grad_t4 @ t2.T  # matmul:" in source
    assert "def loss(P, X, Y, l2):" in source and "A2 = P[64:336].reshape(16, 17)" in source
    assert "at_W1" not in source  # no index arrays: each layer is a block of P
    size = loss.size()
    assert size == {"forward": 14, "backward": 13}


def test_compile_work_is_flat_in_the_layer_width():
    """Program steps, not times: the same count for every width."""
    def steps(*sizes, nin=3, loss=svm, targets=None):
        compiled = compile_loss(_model(list(sizes), nin=nin), loss, nin, targets=targets)
        program = compiled.program
        return len(program.forward) + len(program.backward), sum(compiled.size().values())

    assert steps(4, 4, 1) == steps(16, 16, 1) == steps(64, 64, 1)
    assert steps(8, 10, nin=20, loss=cross_entropy, targets=10) == steps(
        128, 10, nin=784, loss=cross_entropy, targets=10)


def test_steps_predictions_and_parameters_keep_working():
    model = _model([5, 4])
    loss = compile_loss(model, cross_entropy, 3, targets=4, l2=1e-3)
    P = loss.parameters()
    expected = [[v.data for v in model(list(map(Value, x)))] for x in X.tolist()]
    np.testing.assert_allclose(loss.predict(P, X), expected, rtol=1e-12)
    value, grad = loss(P, X, ONE_HOT)
    before = P.copy()
    assert loss.step(P, X, ONE_HOT, 0.5) == value
    np.testing.assert_allclose(P, before - 0.5 * grad, rtol=1e-15)
    loss.load(P)
    assert [p.data for p in model.parameters()] == P.tolist()
    assert loss(P, X, ONE_HOT)[0] < value
    single = compile_loss(_model([3, 1]), svm, 3)
    assert single.predict(single.parameters(), X).shape == (len(X),)


def test_a_loss_of_the_target_alone_has_only_the_l2_gradient():
    loss = compile_loss(_model([4, 1]), lambda s, y: y * y + s * 0, 3, l2=0.5)
    P = loss.parameters()
    value, grad = loss(P, X, SIGNS)
    assert value == pytest.approx(1 + 0.5 * P @ P)
    np.testing.assert_allclose(grad, P, rtol=1e-15)


@NEEDS_JAX
@pytest.mark.parametrize("loss, targets, Y", [(svm, None, SIGNS), (cross_entropy, 4, SOFT)],
                         ids=["svm", "cross-entropy"])
def test_jax_route_equals_numpy_and_jax_grad_of_the_same_model(loss, targets, Y):
    jax = use_jax()
    import jax.numpy as jnp

    sizes = [6, 1] if targets is None else [6, 4]
    model = _model(sizes)
    ours = compile_loss(model, loss, 3, l2=1e-3, targets=targets, backend="jax")
    assert ours.route == "arrays"
    numpy_loss = compile_loss(model, loss, 3, l2=1e-3, targets=targets)
    P = numpy_loss.parameters()
    value, grad = jax.jit(ours)(jnp.asarray(P), jnp.asarray(X), jnp.asarray(Y))
    expected_value, expected_grad = numpy_loss(P, X, Y)
    assert float(value) == pytest.approx(expected_value, rel=1e-12)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-12, atol=1e-14)

    def by_hand(P):  # jax.grad of the model written in jax.numpy: no symgrad code
        W1 = P[:6 * 4].reshape(6, 4)
        h = jax.nn.relu(X @ W1[:, :3].T + W1[:, 3])
        W2 = P[6 * 4:].reshape(sizes[1], 7)
        s = h @ W2[:, :6].T + W2[:, 6]
        if targets is None:
            per_sample = jax.nn.relu(1 - Y * s[:, 0])
        else:
            per_sample = -(Y * jax.nn.log_softmax(s, axis=1)).sum(axis=1)
        return per_sample.mean() + 1e-3 * P @ P

    np.testing.assert_allclose(grad, jax.grad(by_hand)(jnp.asarray(P)), rtol=1e-10,
                               atol=1e-14)
    np.testing.assert_allclose(ours.predict(P, X), numpy_loss.predict(P, X), rtol=1e-12)


def _table_loss(name):
    """A loss that applies the table's operation ``name`` to the score (and the target)."""
    op = OPS[name]
    method = f"__{op.dunder}__" if op.dunder else name
    shift = 1.5 if name == "acosh" else 0.3  # inside every function's domain
    if op.arity == 1:
        return lambda s, y: getattr(s * 0.1 + shift, method)() * y
    return lambda s, y: getattr(s * 0.1 + shift, method)(y)


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_operation_of_the_table_is_lifted_over_the_batch(name):
    X_small = X[:10] * 0.3
    Y_small = np.linspace(0.2, 0.8, 10)
    loss = _table_loss(name)
    ours = compile_loss(_model([3, 1], seed=1), loss, 3)
    theirs = compile_loss(_model([3, 1], ScalarRoute, seed=1), loss, 3)
    assert ours.route == "arrays"
    value, grad = ours(ours.parameters(), X_small, Y_small)
    expected_value, expected_grad = theirs(theirs.parameters(), X_small, Y_small)
    assert value == pytest.approx(expected_value, rel=1e-12)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-13)


def test_a_program_the_array_language_refuses_falls_back_to_the_scalar_route(monkeypatch):
    from symgrad.micrograd import array_loss

    monkeypatch.setattr(array_loss, "_text", lambda sizes, loss: "X: [n, 3]\nsum(X @ X)\n")
    model = _model([4, 1])
    loss = compile_loss(model, svm, 3)
    assert loss.route == "scalars"
    value, grad = loss(loss.parameters(), X, SIGNS)
    expected_value, expected_grad = _engine(model, svm, X, SIGNS, 0.0)
    assert value == pytest.approx(expected_value, rel=1e-12)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-12, atol=1e-14)
