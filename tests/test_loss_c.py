"""Compiled losses on the C backend: the NumPy loss's numbers, the Value engine's, finite
differences; the SGD step; losses built for this processor (-march=native).

These tests need a C compiler and fail (never skip) without one, unless
SYMGRAD_NO_CC=1 is set explicitly.  Targets per sample (``targets=k``) and the
softmax cross-entropy are checked on the NumPy backend too.
"""

import ctypes
import os
import random
import subprocess

import numpy as np
import pytest
from cases import Shuffled, loss_finite_differences as _finite_differences

from symgrad.backends import c_loss, cbuild
from symgrad.backends.c_loss import LossShapeError
from symgrad.engine import Value
from symgrad.losses import compile_loss, cross_entropy
from symgrad.nn import MLP, Module

pytestmark = pytest.mark.skipif(os.environ.get("SYMGRAD_NO_CC") == "1",
                                reason="SYMGRAD_NO_CC=1: C backend tests turned off explicitly")

RNG = np.random.default_rng(7)
X = RNG.normal(size=(12, 2))
Y = np.where(RNG.uniform(size=12) > 0.5, 1.0, -1.0)
CLASSES = 4
XC = RNG.normal(size=(10, 5))
LABELS = RNG.integers(0, CLASSES, size=10)
YC = np.eye(CLASSES)[LABELS]
X37 = RNG.normal(size=(37, 2))  # two blocks of 16 samples and a rest of 5
Y37 = np.where(X37[:, 0] * X37[:, 1] > 0, 1.0, -1.0)


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


def test_size_counts_the_c_code_lines_too():
    small, large = (_both(_model(7, 2, sizes), svm, 2)[0].size() for sizes in ([4, 1], [4, 4, 1]))
    assert all(small[part] > 0 for part in ("forward", "backward"))
    assert all(large[part] > small[part] for part in ("forward", "backward"))  # one more layer


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


def test_blocks_and_a_rest_of_samples_equal_the_value_engine():
    model = _model(10, 2, [16, 16, 1])
    c, numpy_ = _both(model, svm, 2, l2=1e-3)
    assert "enum { BLOCK = 16 };" in c.source
    params = c.parameters()
    _assert_same(c(params, X37, Y37), _engine_loss(model, svm, X37, Y37, 1e-3))
    _assert_same(c(params, X37, Y37), numpy_(params, X37, Y37))
    expected = [model(list(map(Value, x))).data for x in X37.tolist()]
    np.testing.assert_allclose(c.predict(params, X37), expected, rtol=1e-12)


class Rescaled(Module):
    """A layer's outputs times a shared parameter, stacked into the next layer: scalar items
    between dense ones, and a stack whose rows pass gradients back to the parameter."""

    def __init__(self):
        self.first, self.second = MLP(2, [4]), MLP(4, [1])
        self.scale = Value(0.8)

    def __call__(self, x):
        hidden = [(h.tanh() * self.scale) for h in self.first(x)]
        return self.second(hidden) + self.scale * x[0]

    def parameters(self):
        return self.first.parameters() + self.second.parameters() + [self.scale]


def test_scalar_items_and_stacks_between_layers_equal_the_value_engine():
    random.seed(11)
    model = Rescaled()
    c = compile_loss(model, mse, 2, backend="c")
    assert "values stacked as rows" in c.source
    params = c.parameters()
    _assert_same(c(params, X37, Y37), _engine_loss(model, mse, X37, Y37))
    np.testing.assert_allclose(c(params, X, Y)[1], _finite_differences(c, params, X, Y),
                               rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("backend", ["c", "numpy"])
def test_step_takes_one_gradient_step_in_place(backend):
    model = _model(12, 2, [16, 16, 1])
    loss = compile_loss(model, svm, 2, l2=1e-3, backend=backend)
    params = loss.parameters()
    expected_value, expected_grad = _engine_loss(model, svm, X37, Y37, 1e-3)
    before = params.copy()
    value = loss.step(params, X37, Y37, 0.5)
    assert isinstance(value, float) and value == pytest.approx(expected_value, rel=1e-12)
    np.testing.assert_allclose(params, before - 0.5 * expected_grad, rtol=1e-12, atol=1e-15)
    strided = np.zeros(2 * params.size)[::2]  # not contiguous: updated all the same
    strided[:] = before
    assert loss.step(strided, X37, Y37, 0.5) == pytest.approx(value, rel=1e-14)
    np.testing.assert_allclose(strided, params, rtol=1e-14, atol=1e-17)


def test_step_refuses_parameters_it_cannot_update_in_place():
    loss = compile_loss(_model(13, 2, [3, 1]), svm, 2, backend="c")
    params = loss.parameters()
    frozen = params.copy()
    frozen.flags.writeable = False
    for bad in (params.tolist(), params.astype(np.float32), frozen):
        with pytest.raises(TypeError, match="updates params in place"):
            loss.step(bad, X, Y, 0.1)
    with pytest.raises(ValueError, match="2 inputs each"):
        loss.step(params, np.zeros((4, 3)), np.zeros(4), 0.1)


def test_losses_for_this_processor_give_the_portable_builds_numbers_to_the_bit():
    """-march=native (when the compiler takes it) changes no result: no contraction into FMA."""
    model = _model(14, 5, [8, CLASSES])
    source = compile_loss(model, cross_entropy, 5, targets=CLASSES, backend="c").source
    native = c_loss.load(ctypes.CDLL(cbuild.build(source, native=True)), "loss")
    portable = c_loss.load(ctypes.CDLL(cbuild.build(source)), "loss")
    params = np.array([p.data for p in model.parameters()])
    value, grad = native(params, XC, YC, 1e-3)
    assert value == portable(params, XC, YC, 1e-3)[0]
    np.testing.assert_array_equal(grad, portable(params, XC, YC, 1e-3)[1])


def test_the_cache_keeps_a_library_per_processor(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    source = "int symgrad_answer(void) { return 42; }\n"
    paths = set()
    for target in ("-march=haswell -mavx2", "-march=icelake-client -mavx512f"):
        monkeypatch.setattr(cbuild, "native_target", lambda command, target=target: target)
        paths.add(cbuild.build(source, native=True))
    monkeypatch.setattr(cbuild, "native_target", lambda command: None)  # the flag refused
    paths.add(cbuild.build(source, native=True))
    assert len(paths) == 3 and cbuild.build(source) in paths


def test_a_processor_build_the_toolchain_refuses_falls_back_to_the_portable_one(tmp_path,
                                                                               monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(cbuild, "native_target", lambda command: "-march=imaginary")
    monkeypatch.setattr(cbuild, "NATIVE_FLAGS", ("-march=no-such-processor",))
    source = "int symgrad_answer(void) { return 42; }\n"
    assert cbuild.build(source, native=True) == cbuild.build(source)


def test_what_native_means_is_read_from_the_compiler():
    target = cbuild.native_target(tuple(cbuild.compiler()))
    if target is not None:  # GCC: -march=<its name>; Clang: -target-cpu <its name>
        assert "-march=" in target or "-target-cpu" in target
        assert "/" not in target  # no temporary file names: the same text every time


def test_a_compiler_that_does_not_say_what_native_means_gets_the_portable_build(monkeypatch):
    def silent(*args, **kwargs):
        raise subprocess.TimeoutExpired(args[0], kwargs.get("timeout"))

    monkeypatch.setattr(cbuild.subprocess, "run", silent)
    assert cbuild.native_target(("no-answer-cc",)) is None  # lru_cache: a command of its own
