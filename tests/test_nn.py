"""symgrad.nn behaves like micrograd's nn: same surface, order, initialisation and gradients."""

import random

import pytest

from symgrad.engine import Value
from symgrad.nn import MLP, Layer, Module, Neuron


def test_mlp_has_micrograds_parameter_count_and_order():
    model = MLP(2, [16, 16, 1])
    params = model.parameters()
    assert len(params) == 337
    first = model.layers[0].neurons[0]
    assert params[:3] == first.w + [first.b]
    assert params[-1] is model.layers[-1].neurons[-1].b
    assert all(isinstance(p, Value) for p in params)


def test_initialisation_draws_the_same_random_numbers_as_micrograd():
    random.seed(7)
    model = MLP(3, [4, 1])
    random.seed(7)
    expected = [random.uniform(-1, 1) for _ in range(3 * 4 + 4)]
    weights = [w.data for layer in model.layers for n in layer.neurons for w in n.w]
    assert weights == expected
    assert all(n.b.data == 0 for layer in model.layers for n in layer.neurons)


def test_layers_neurons_and_outputs_look_like_micrograds():
    model = MLP(3, [4, 4, 1])
    assert repr(model).startswith("MLP of [Layer of [ReLUNeuron(3)")
    assert "LinearNeuron(4)" in repr(model.layers[-1])
    assert isinstance(model([1.0, 2.0, 3.0]), Value)  # one output neuron: a single Value
    assert len(Layer(3, 2)([1.0, 2.0, 3.0])) == 2
    assert Module().parameters() == []


def test_neuron_computes_relu_of_bias_plus_weighted_sum():
    neuron = Neuron(2)
    neuron.w[0].data, neuron.w[1].data, neuron.b.data = 0.5, -2.0, 0.25
    assert neuron([2.0, 0.1]).data == pytest.approx(1.05)
    assert neuron([0.0, 1.0]).data == 0.0
    linear = Neuron(2, nonlin=False)
    linear.w[0].data, linear.w[1].data = 1.0, 1.0
    assert linear([-1.0, -2.0]).data == -3.0


def test_gradients_agree_with_finite_differences_and_zero_grad_clears_them():
    random.seed(3)
    model = MLP(3, [4, 4, 1])
    for layer in model.layers:
        for neuron in layer.neurons:
            neuron.b.data = 0.1  # away from relu's kink, where differences disagree
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]

    def loss():
        return sum(((model(x) - y) ** 2 for x, y in zip(xs, ys)), Value(0.0))

    out = loss()
    out.backward()
    for p in model.parameters()[::5]:
        analytic, saved, h = p.grad, p.data, 1e-6
        p.data = saved + h
        up = loss().data
        p.data = saved - h
        down = loss().data
        p.data = saved
        assert analytic == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-7)
    model.zero_grad()
    assert all(p.grad == 0 for p in model.parameters())


def test_gradient_descent_on_the_lecture_example_reduces_the_loss():
    random.seed(1)
    model = MLP(3, [4, 4, 1])
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    losses = []
    for _ in range(20):
        out = sum((model(x) - y) ** 2 for x, y in zip(xs, ys))
        model.zero_grad()
        out.backward()
        for p in model.parameters():
            p.data -= 0.02 * p.grad
        losses.append(out.data)
    assert losses[-1] < 0.5 * losses[0]
