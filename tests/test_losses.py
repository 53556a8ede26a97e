"""Compiled losses: batch values and gradients agree with the Value engine and finite differences."""

import math
import random

import numpy as np
import pytest
from cases import Shuffled, loss_finite_differences

import symgrad
from symgrad.engine import Value
from symgrad.losses import compile_loss, cross_entropy
from symgrad.nn import MLP, Module

RNG = np.random.default_rng(0)
X = RNG.normal(size=(12, 2))
Y = np.where(RNG.uniform(size=12) > 0.5, 1.0, -1.0)


def svm(score, y):
    return (1 + -y * score).relu()


def _engine_loss(model, loss, X, Y, l2):
    """Mean loss and gradient by micrograd's route, on symgrad's Value engine."""
    model.zero_grad()
    total = sum(loss(model(list(map(Value, x))), y) for x, y in zip(X.tolist(), Y.tolist()))
    total = total * (1.0 / len(Y)) + l2 * sum(p * p for p in model.parameters())
    total.backward()
    return total.data, np.array([p.grad for p in model.parameters()])


def _finite_differences(loss, params):
    return loss_finite_differences(loss, params, X, Y)


class ScalarRoute(MLP):
    """An MLP that is not exactly ``MLP``: its losses take the scalar route."""


def _model(seed, sizes, cls=MLP):
    random.seed(seed)
    model = cls(2, sizes)
    for p in model.parameters():
        p.data += 0.05  # biases off zero, away from relu's kink
    return model


def test_mlp_svm_loss_matches_the_value_engine_and_finite_differences():
    model = _model(1, [5, 4, 1])
    loss = compile_loss(model, svm, n_inputs=2, l2=1e-3)
    params = loss.parameters()
    value, grad = loss(params, X, Y)
    expected_value, expected_grad = _engine_loss(model, svm, X, Y, 1e-3)
    assert value == pytest.approx(expected_value, rel=1e-12)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(grad, _finite_differences(loss, params), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("cls", [MLP, ScalarRoute])
def test_whole_layers_become_single_matrix_products(cls):
    loss = compile_loss(_model(2, [16, 16, 1], cls), svm, n_inputs=2)
    assert loss.route == ("arrays" if cls is MLP else "scalars")
    assert loss.size()["forward"] < 20 and loss.size()["backward"] < 25
    assert loss.source.count(" @ ") >= 3


class TanhNet(Module):
    """Shares one parameter between a layer and the output: part vectorized, part scalar."""

    def __init__(self):
        self.inner = MLP(2, [3])
        self.scale = Value(0.7)

    def __call__(self, x):
        hidden = [h.tanh() for h in self.inner(x)]
        return self.scale * hidden[0] + hidden[1] * hidden[2] + self.scale**2

    def parameters(self):
        return self.inner.parameters() + [self.scale]


def test_arbitrary_models_and_losses_fall_back_to_scalar_lines_correctly():
    random.seed(3)
    model = TanhNet()

    def squared(score, y):
        return (score - y) ** 2

    loss = compile_loss(model, squared, n_inputs=2)
    params = loss.parameters()
    value, grad = loss(params, X, Y)
    expected_value, expected_grad = _engine_loss(model, squared, X, Y, 0.0)
    assert value == pytest.approx(expected_value, rel=1e-12)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(grad, _finite_differences(loss, params), rtol=1e-5, atol=1e-8)


class InputsAgain(Module):
    """Inputs used past the first layer: stacked with hidden values into the next layer's
    inputs, and in a product of their own."""

    def __init__(self):
        self.first, self.second = MLP(2, [3]), MLP(4, [1])

    def __call__(self, x):
        hidden = [h.tanh() for h in self.first(x)]
        return self.second(hidden + [x[0]]) + x[0] * x[1]

    def parameters(self):
        return self.first.parameters() + self.second.parameters()


def test_inputs_used_past_the_first_layer_are_read_from_x():
    # They were named after the stack holding them (t4 = np.stack([..., t4[3]])) or not
    # at all, so such a loss failed on the NumPy backend.
    random.seed(6)
    model = InputsAgain()
    loss = compile_loss(model, svm, n_inputs=2, l2=1e-3)
    assert loss.route == "scalars" and "X[0] * X[1]" in loss.source
    params = loss.parameters()
    value, grad = loss(params, X, Y)
    expected_value, expected_grad = _engine_loss(model, svm, X, Y, 1e-3)
    assert value == pytest.approx(expected_value, rel=1e-12)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-14)


def test_parameters_round_trip_through_the_model():
    model = _model(4, [3, 1])
    loss = compile_loss(model, svm, n_inputs=2)
    params = loss.parameters() * 2
    loss.load(params)
    assert [p.data for p in model.parameters()] == params.tolist()


def test_bad_shapes_and_losses_are_refused_clearly():
    loss = compile_loss(_model(5, [3, 1]), svm, n_inputs=2)
    with pytest.raises(ValueError, match="one sample per row"):
        loss(loss.parameters(), X[0], Y)
    with pytest.raises(TypeError, match="the loss must be computed"):
        compile_loss(_model(5, [3, 1]), lambda score, y: 1.0, n_inputs=2)


@pytest.mark.parametrize("call, phrase", [
    (lambda loss, P: loss(P[:-1], X, Y), r"vector of the model's 13 parameters, got shape \(12,\)"),
    (lambda loss, P: loss(np.append(P, 0.0), X, Y), r"got shape \(14,\)"),
    (lambda loss, P: loss(P, X[:, :1], Y), r"2 inputs each; got shape \(12, 1\)"),
    (lambda loss, P: loss(P, np.hstack([X, X]), Y), r"got shape \(12, 4\)"),
    (lambda loss, P: loss(P, X, Y[:5]), r"one target per sample: 12 samples"),
    (lambda loss, P: loss.predict(P[:3], X), r"13 parameters, got shape \(3,\)"),
    (lambda loss, P: loss.predict(P, X[:, :1]), r"2 inputs each"),
])
def test_wrong_parameter_length_or_sample_width_says_which(call, phrase):
    loss = compile_loss(_model(5, [3, 1]), svm, n_inputs=2)
    with pytest.raises(symgrad.SymgradError, match=phrase):
        call(loss, loss.parameters())


def test_a_compiled_loss_says_what_it_is():
    loss = compile_loss(_model(5, [3, 1]), svm, n_inputs=2, l2=1e-4)
    assert repr(loss) == ("<symgrad compiled loss of MLP: 13 parameters, 2 inputs per sample, "
                          "l2=0.0001, backend 'numpy'>")


def test_a_layout_that_is_no_slice_picks_weights_by_index_arrays():
    model = Shuffled(_model(3, [4, 3, 1]), seed=5)
    loss = compile_loss(model, svm, n_inputs=2)
    assert "at_W1 = np.array(" in loss.source and "P[at_W1]" in loss.source
    value, grad = loss(loss.parameters(), X, Y)
    expected_value, expected_grad = _engine_loss(model, svm, X, Y, 0.0)
    assert value == pytest.approx(expected_value, rel=1e-12)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-14)


def test_micrographs_layout_locates_each_layer_by_a_range():
    loss = compile_loss(_model(2, [16, 16, 1], ScalarRoute), svm, n_inputs=2)
    assert "at_W1 = np.arange(0, 48).reshape(16, 3)[:, :2].copy()" in loss.source
    assert "W1 = P[at_W1]" in loss.source and "np.array(" not in loss.source
    assert "# t2 = W1 @ X + b1  [each row is b + w0*v0" in loss.source


def test_the_loss_backend_is_chosen_from_the_registry():
    import symgrad

    with pytest.raises(symgrad.SymgradError, match="does not compile losses"):
        compile_loss(_model(2, [2, 1]), svm, n_inputs=2, backend="python")
    with pytest.raises(symgrad.SymgradError, match="unknown backend 'fortran'"):
        compile_loss(_model(2, [2, 1]), svm, n_inputs=2, backend="fortran")


@pytest.mark.parametrize("backend", ["numpy", "c"])
def test_predict_gives_every_output_of_a_multi_output_model(backend):
    model = _model(4, [5, 3])  # three scores per sample, as a classifier has

    def squared(scores, targets):
        return sum((s - t) * (s - t) for s, t in zip(scores, targets))

    loss = compile_loss(model, squared, 2, targets=3, backend=backend)
    scores = loss.predict(loss.parameters(), X)
    expected = [[v.data for v in model(list(map(Value, x)))] for x in X.tolist()]
    assert scores.shape == (len(X), 3)
    np.testing.assert_allclose(scores, expected, rtol=1e-12)


@pytest.mark.parametrize("backend", ["numpy", "c"])
def test_losses_may_use_the_calculator_functions(backend):
    model = _model(5, [4, 1])

    def loss(s, y):
        return ((-y * s).softplus() + s.max(y) * 0.1 + s.erf() * 0.2 + s.hypot(y) * 0.1
                + s.asinh() * 0.1)

    compiled = compile_loss(model, loss, 2, backend=backend)
    params = compiled.parameters()
    value, grad = compiled(params, X, Y)
    expected_value, expected_grad = _engine_loss(model, loss, X, Y, 0.0)
    assert value == pytest.approx(expected_value, rel=1e-12)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grad, loss_finite_differences(compiled, params, X, Y),
                               rtol=1e-5, atol=1e-7)


def test_the_loss_plan_is_frozen_for_its_printers():
    """Printers keep their own tables: an item of the plan cannot be written."""
    import dataclasses

    from symgrad.core.loss_plan import LayerPlan, LossProgram, Vector

    model = MLP(2, [3, 1])
    loss = compile_loss(model, lambda score, y: (1 + -y * score).relu(), n_inputs=2,
                        backend="c")
    plan = LayerPlan(LossProgram(loss.program, loss.signature))
    vectors = [item for item in plan.items if isinstance(item, Vector)]
    assert vectors
    for item in vectors:
        with pytest.raises(dataclasses.FrozenInstanceError):
            item.name = "changed"


@pytest.mark.parametrize("backend", ["numpy", "c"])
def test_a_weight_tied_to_another_gets_every_contribution(backend):
    """One Value as two weights of a layer: NumPy's G[at] += g added one of its two
    contributions (the gradient was 0.46 where the engine and C give 1.03)."""
    model = _model(2, [3, 1])
    neuron = model.layers[0].neurons[0]
    neuron.w[1] = neuron.w[0]
    loss = compile_loss(model, svm, n_inputs=2, backend=backend)
    _, grad = loss(loss.parameters(), X, Y)
    _, engine = _engine_loss(model, svm, X, Y, 0.0)  # the tied Value's grad at both places
    # The compiled loss gives the tied weight's whole gradient at one of its places.
    assert grad[0] + grad[1] == pytest.approx(engine[0], rel=1e-12)
    np.testing.assert_allclose(grad[2:], engine[2:], rtol=1e-12)


@pytest.mark.parametrize("backend", ["numpy", "c"])
def test_a_step_s_rate_and_the_targets_are_checked(backend):
    """nan as the rate made every parameter nan, a string rate gave NumPy's own error, and
    the C loss read missing targets (y=None) as zeros."""
    loss = compile_loss(_model(2, [2, 1]), svm, n_inputs=2, backend=backend)
    params = loss.parameters()
    for rate, error in ((math.nan, ValueError), (math.inf, ValueError), ("0.1", TypeError),
                        (True, TypeError)):
        with pytest.raises(error, match="rate must be"):
            loss.step(params, X, Y, rate)
    assert np.isfinite(params).all()
    loss.step(params, X, Y, 1)  # an int is a number
    with pytest.raises(symgrad.SymgradError, match="y is None"):
        loss(params, X, None)
    with pytest.raises(symgrad.SymgradError, match="one sample per row; got a float"):
        loss(params, 3.0, Y)


@pytest.mark.parametrize("n_inputs, phrase", [
    (3, "n_inputs=3, but the model's first neurons take 2 inputs"),  # an input left out
    (1, "n_inputs=1, but the model's first neurons take 2 inputs"),  # a weight left out
    (-1, "a whole number of inputs per sample"), (True, "a whole number"), (2.0, "a whole")])
def test_n_inputs_must_be_what_the_model_takes(n_inputs, phrase):
    """A neuron zips its weights with the inputs: n_inputs=1 on a 2-input MLP compiled,
    left one weight out of the loss and gave it gradient 0."""
    with pytest.raises(symgrad.SymgradError, match=phrase):
        compile_loss(_model(2, [2, 1]), svm, n_inputs=n_inputs)


def test_cross_entropy_of_a_single_score_says_it_needs_one_per_class():
    """It raised "'Symbol' object is not iterable"."""
    with pytest.raises(TypeError, match="a score per class"):
        compile_loss(_model(2, [2, 1]), cross_entropy, 2, targets=1)


def test_l2_and_the_arrays_must_be_real_finite_numbers():
    """l2=1e308 made the gradient nan at zero parameters (2*l2 is inf, times 0), and complex
    X was cut to its real part with only NumPy's warning."""
    for l2 in (1e308, math.nan, "0.1"):
        with pytest.raises(symgrad.SymgradError, match="l2 must be a finite number"):
            compile_loss(_model(2, [2, 1]), svm, 2, l2=l2)
    loss = compile_loss(_model(2, [2, 1]), svm, 2)
    with pytest.raises(TypeError, match="real numbers; got complex ones"):
        loss(loss.parameters(), X + 1j, Y)
