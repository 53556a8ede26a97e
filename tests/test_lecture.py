"""examples/lecture.py shows the lecture's numbers: each checked against SymPy or plain floats."""

import importlib.util
import math
from pathlib import Path

import pytest
import sympy

PATH = Path(__file__).parent.parent / "examples" / "lecture.py"


@pytest.fixture(scope="module")
def lecture():
    spec = importlib.util.spec_from_file_location("lecture_example", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _neuron():
    x1, w1, x2, w2, b = sympy.symbols("x1 w1 x2 w2 b")
    point = {x1: 2, w1: -3, x2: 0, w2: 1, b: sympy.Float("6.8813735870195432", 30)}
    n = x1 * w1 + x2 * w2 + b
    o = sympy.tanh(n)
    grads = {str(s): float(sympy.diff(o, s).subs(point)) for s in (x1, w1, x2, w2, b)}
    # Intermediate nodes: do/dnode is do/dn = 1 - o**2 for every node of the sum.
    for name in ("n", "x1w1x2w2", "x1w1", "x2w2"):
        grads[name] = float((1 - o**2).subs(point))
    grads["o"] = 1.0
    return float(n.subs(point)), float(o.subs(point)), grads


def test_the_slope_of_f_at_3(lecture):
    x = sympy.Symbol("x")
    f = 3 * x**2 - 4 * x + 5
    numbers = lecture.slope()
    assert numbers["f(3)"] == float(f.subs(x, 3)) == 20.0
    assert numbers["slope at 3"] == pytest.approx(float(sympy.diff(f, x).subs(x, 3)), abs=1e-3)


def test_l_by_hand_by_backward_and_after_one_step(lecture):
    a, b, c, f = sympy.symbols("a b c f")
    e = a * b
    d = e + c
    L = d * f
    point = {a: 2, b: -3, c: 10, f: -2}
    expected = {str(s): float(sympy.diff(L, s).subs(point)) for s in (a, b, c, f)}
    expected["d"], expected["e"] = float(f.subs(point)), float(f.subs(point))
    numbers = lecture.expression_l()
    assert numbers["L"] == float(L.subs(point)) == -8.0
    assert numbers["by hand"] == expected
    assert numbers["backward"] == expected
    stepped = {s: point[s] + 0.01 * expected[str(s)] for s in (a, b, c, f)}
    assert numbers["stepped"] == pytest.approx(float(L.subs(stepped)), rel=1e-12)
    assert round(numbers["stepped"], 6) == -7.286496  # the lecture's number


def test_the_neuron_node_by_node_with_underscore_backward(lecture):
    n, o, expected = _neuron()
    numbers = lecture.neuron_by_hand()
    assert numbers["n"] == pytest.approx(n, rel=1e-15)
    assert numbers["o"] == pytest.approx(o, rel=1e-15)
    assert round(o, 4) == 0.7071
    for name, grad in expected.items():
        assert numbers["grads"][name] == pytest.approx(grad, rel=1e-12, abs=1e-15), name
    shown = {name: round(numbers["grads"][name], 4) for name in ("x1", "w1", "x2", "w2")}
    assert shown == {"x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0}  # the lecture's numbers


def test_the_neuron_with_backward(lecture):
    _, _, expected = _neuron()
    grads = lecture.neuron_backward()
    for name, grad in expected.items():
        assert grads[name] == pytest.approx(grad, rel=1e-12, abs=1e-15), name


def test_fan_out_collects_every_use(lecture):
    a, b = sympy.symbols("a b")
    f = (a * b) * (a + b)
    point = {a: -2, b: 3}
    numbers = lecture.fan_out()
    assert numbers["a + a"] == float(sympy.diff(2 * a, a)) == 2.0
    assert numbers["a"] == float(sympy.diff(f, a).subs(point)) == -3.0
    assert numbers["b"] == float(sympy.diff(f, b).subs(point)) == -8.0


def test_tanh_written_with_exp_gives_the_same_gradients(lecture):
    x1, w1, x2, w2, b = sympy.symbols("x1 w1 x2 w2 b")
    point = {x1: 2, w1: -3, x2: 0, w2: 1, b: sympy.Float("6.8813735870195432", 30)}
    e = sympy.exp(2 * (x1 * w1 + x2 * w2 + b))
    o = (e - 1) / (e + 1)
    numbers = lecture.tanh_by_exp()
    assert numbers["o"] == pytest.approx(float(o.subs(point)), rel=1e-12)
    for s in (x1, w1, x2, w2, b):
        expected = float(sympy.diff(o, s).subs(point))
        assert numbers["grads"][str(s)] == pytest.approx(expected, rel=1e-9, abs=1e-12), s


def test_the_mlp_loss_goes_down_along_a_gradient_checked_by_differences(lecture):
    import random

    from symgrad.nn import MLP

    random.seed(42)  # the weights train_both starts from
    model = MLP(3, [4, 4, 1])
    weights = [p.data for p in model.parameters()]
    total = sum((model(x) - t) ** 2 for x, t in zip(lecture.XS, lecture.YS)) * 0.25
    total.backward()
    grad = [p.grad for p in model.parameters()]
    loss = lambda w: _mean_squared_error(w, lecture.XS, lecture.YS)  # noqa: E731
    h = 1e-7
    for i, g in enumerate(grad):
        # One-sided differences: a ReLU sitting exactly at 0 (a dead layer gives
        # it 0 + 0) has a kink there, and relu'(0) = 0 is one of the two sides.
        up = (loss(_bumped(weights, i, h)) - loss(weights)) / h
        down = (loss(weights) - loss(_bumped(weights, i, -h))) / h
        assert min(abs(g - up), abs(g - down)) < 1e-5, i
    numbers = lecture.train_both(6)
    losses = numbers["losses"]
    assert losses[0] == pytest.approx(loss(weights), rel=1e-12)
    assert losses[1] == pytest.approx(loss([w - 0.05 * g for w, g in zip(weights, grad)]),
                                      rel=1e-12)
    assert all(later < earlier for earlier, later in zip(losses, losses[1:]))
    assert numbers["gap"] < 1e-12


def _bumped(weights, index, h):
    return [w + h if i == index else w for i, w in enumerate(weights)]


def _mean_squared_error(weights, xs, ys, sizes=(3, 4, 4, 1)):
    """micrograd's MLP (per neuron: weights, then bias; ReLU but last) in plain floats."""
    total = 0.0
    for x, target in zip(xs, ys):
        start, activations = 0, list(x)
        for layer, (nin, nout) in enumerate(zip(sizes, sizes[1:])):
            out = []
            for _ in range(nout):
                w, bias = weights[start:start + nin], weights[start + nin]
                start += nin + 1
                act = bias + sum(wi * xi for wi, xi in zip(w, activations))
                out.append(max(act, 0.0) if layer < len(sizes) - 2 else act)
            activations = out
        total += (activations[0] - target) ** 2
    return total / len(xs)


def test_the_example_runs_as_a_script():
    import subprocess
    import sys

    result = subprocess.run([sys.executable, str(PATH), "--steps", "2"], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "by hand, node by node: x1 -1.5, x2 0.5, w1 1, w2 0" in result.stdout
    assert math.isfinite(float(result.stdout.split("step 1: Value engine loss ")[1].split(",")[0]))
