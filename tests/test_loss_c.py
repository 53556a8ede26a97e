"""Compiled losses on the C backend: the NumPy loss's numbers, the Value engine's, finite
differences.

These tests need a C compiler and fail (never skip) without one, unless
SYMGRAD_NO_CC=1 is set explicitly.  Targets per sample (``targets=k``) and the
softmax cross-entropy are checked on the NumPy backend too.
"""

import os
import random

import numpy as np
import pytest
from cases import Shuffled, loss_finite_differences as _finite_differences

from symgrad.backends.c_loss import LossShapeError
from symgrad.engine import Value
from symgrad.losses import compile_loss, cross_entropy
from symgrad.nn import MLP

pytestmark = pytest.mark.skipif(os.environ.get("SYMGRAD_NO_CC") == "1",
                                reason="SYMGRAD_NO_CC=1: C backend tests turned off explicitly")

RNG = np.random.default_rng(7)
X = RNG.normal(size=(12, 2))
Y = np.where(RNG.uniform(size=12) > 0.5, 1.0, -1.0)
CLASSES = 4
XC = RNG.normal(size=(10, 5))
LABELS = RNG.integers(0, CLASSES, size=10)
YC = np.eye(CLASSES)[LABELS]


def svm(score, y):
    return (1 + -y * score).relu()


def mse(score, y):
    return (score - y) ** 2


def _model(seed, nin, sizes):
    random.seed(seed)
    model = MLP(nin, sizes)
    for p in model.parameters():
        p.data += 0.05  # biases off zero, away from relu's kink
    return model


def _engine_loss(model, loss, X, Y, l2=0.0):
    """Mean loss and gradient by micrograd's route, on symgrad's Value engine."""
    model.zero_grad()
    rows = Y.tolist()
    total = sum(loss(model(list(map(Value, x))), y) for x, y in zip(X.tolist(), rows))
    total = total * (1.0 / len(rows)) + l2 * sum(p * p for p in model.parameters())
    total.backward()
    return total.data, np.array([p.grad for p in model.parameters()])


def _both(model, loss, n_inputs, **options):
    return (compile_loss(model, loss, n_inputs, backend="c", **options),
            compile_loss(model, loss, n_inputs, backend="numpy", **options))


def _assert_same(got, expected, rel=1e-12):
    assert got[0] == pytest.approx(expected[0], rel=rel)
    scale = np.abs(expected[1]).max()
    np.testing.assert_allclose(got[1], expected[1], rtol=rel, atol=rel * scale)


def test_the_moons_svm_loss_equals_numpy_and_the_value_engine():
    model = _model(1, 2, [16, 16, 1])
    c, numpy_ = _both(model, svm, 2, l2=1e-4)
    params = c.parameters()
    _assert_same(c(params, X, Y), numpy_(params, X, Y))
    _assert_same(c(params, X, Y), _engine_loss(model, svm, X, Y, 1e-4))
    assert "int loss_and_grad(const double *restrict P" in c.source
    assert "const double *W1 = P + 0;" in c.source  # micrograd's layout: views of P
    assert "// t2 = W1·x + b1  [each row is b + w0*v0" in c.source


def test_mse_equals_the_value_engine_and_finite_differences():
    model = _model(2, 2, [5, 4, 1])
    c, numpy_ = _both(model, mse, 2)
    params = c.parameters()
    _assert_same(c(params, X, Y), numpy_(params, X, Y))
    _assert_same(c(params, X, Y), _engine_loss(model, mse, X, Y))
    np.testing.assert_allclose(c(params, X, Y)[1], _finite_differences(c, params, X, Y),
                               rtol=1e-6, atol=1e-9)


def test_the_cross_entropy_classifier_equals_numpy_and_the_value_engine():
    model = _model(3, 5, [8, CLASSES])
    c, numpy_ = _both(model, cross_entropy, 5, targets=CLASSES)
    params = c.parameters()
    _assert_same(c(params, XC, YC), numpy_(params, XC, YC))
    _assert_same(numpy_(params, XC, YC), _engine_loss(model, cross_entropy, XC, YC))


def test_the_cross_entropy_gradient_is_softmax_minus_target():
    """By the last layer's biases the gradient is mean(softmax(s) - t): computed independently."""
    model = _model(4, 5, [8, CLASSES])
    c, numpy_ = _both(model, cross_entropy, 5, targets=CLASSES)
    params = c.parameters()
    scores = np.array([[s.data for s in model(list(map(Value, x)))] for x in XC.tolist()])
    softmax = np.exp(scores - scores.max(axis=1, keepdims=True))
    softmax /= softmax.sum(axis=1, keepdims=True)
    expected_loss = -np.mean(np.log(softmax[np.arange(len(LABELS)), LABELS]))
    bias = [len(model.parameters()) - (CLASSES - j) * 9 + 8 for j in range(CLASSES)]
    for loss in (c, numpy_):
        value, grad = loss(params, XC, YC)
        assert value == pytest.approx(expected_loss, rel=1e-12)
        np.testing.assert_allclose(grad[bias], (softmax - YC).mean(axis=0), rtol=1e-10,
                                   atol=1e-15)
    np.testing.assert_allclose(c(params, XC, YC)[1], _finite_differences(c, params, XC, YC),
                               rtol=1e-6, atol=1e-9)


def test_large_scores_do_not_overflow_the_log_sum_exp():
    model = _model(5, 5, [8, CLASSES])
    c, numpy_ = _both(model, cross_entropy, 5, targets=CLASSES)
    params = c.parameters() * 40  # scores in the thousands: exp would overflow unshifted
    value, grad = c(params, XC, YC)
    assert np.isfinite(value) and value > 100 and np.all(np.isfinite(grad))
    _assert_same((value, grad), numpy_(params, XC, YC))


def test_predict_and_per_sample_values():
    model = _model(6, 2, [4, 1])
    c, numpy_ = _both(model, svm, 2)
    params = c.parameters()
    np.testing.assert_allclose(c.predict(params, X), numpy_.predict(params, X), rtol=1e-12)
    expected = [model(list(map(Value, x))).data for x in X.tolist()]
    np.testing.assert_allclose(c.predict(params, X), expected, rtol=1e-12)


def test_a_layout_that_is_no_slice_reads_weights_through_index_arrays():
    model = Shuffled(_model(3, 2, [4, 3, 1]), seed=5)
    c = compile_loss(model, svm, 2, backend="c")
    assert "static const int K0[" in c.source and "P[K0[" in c.source
    _assert_same(c(c.parameters(), X, Y), _engine_loss(model, svm, X, Y))


def test_bad_shapes_are_refused_before_the_c_reads_anything():
    from symgrad import SymgradError

    c = compile_loss(_model(5, 2, [3, 1]), svm, 2, backend="c")
    params = c.parameters()
    # CompiledLoss checks shapes first; the C wrapper checks again (LossShapeError).
    with pytest.raises(SymgradError, match="2 inputs each"):
        c(params, np.zeros((4, 3)), np.zeros(4))
    with pytest.raises(SymgradError, match=f"{params.size} parameters"):
        c(params[:-1], X, Y)
    with pytest.raises(SymgradError, match="one target per sample"):
        c(params, X, Y[:-1])
    with pytest.raises(LossShapeError, match="samples of 2 inputs"):
        c._function(params, np.zeros((3, 4)), np.zeros(4))
    classifier = compile_loss(_model(5, 5, [3, CLASSES]), cross_entropy, 5, backend="c",
                              targets=CLASSES)
    with pytest.raises(ValueError, match=f"one row of {CLASSES} targets"):
        classifier(classifier.parameters(), XC, LABELS)


def test_targets_must_be_a_count():
    from symgrad import SymgradError
    with pytest.raises(SymgradError, match="targets must be a whole number"):
        compile_loss(_model(5, 2, [3, 1]), svm, 2, targets=0)


@pytest.mark.parametrize("shuffled", [False, True], ids=["slices of P", "index arrays"])
@pytest.mark.parametrize("samples", [6, 37], ids=["one block", "blocks and a rest"])
def test_wide_layers_read_their_weights_through_transposed_copies(shuffled, samples):
    model = _model(8, 40, [63, 3])  # 63 x 40 weights
    if shuffled:
        model = Shuffled(model, seed=2)
    c, numpy_ = _both(model, cross_entropy, 40, targets=3)
    copy = "W1T[63*c + r] = P[K0[40*r + c]];" if shuffled else "W1T[63*c + r] = W1[41*r + c];"
    assert copy in c.source
    X40 = RNG.normal(size=(samples, 40))
    Y3 = np.eye(3)[RNG.integers(0, 3, size=samples)]
    params = c.parameters()
    _assert_same(c(params, X40, Y3), numpy_(params, X40, Y3))
    _assert_same(c(params, X40, Y3), _engine_loss(model, cross_entropy, X40, Y3))
