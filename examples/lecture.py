"""The micrograd lecture, node by node, in symgrad.

In the lecture's order:

1. The derivative of ``f(x) = 3x**2 - 4x + 5`` as a slope, numerically.
2. ``L = (a*b + c)*f`` with Values: gradients filled in by hand, then one
   gradient step that raises ``L``; then the same graph compiled.
3. The tanh neuron: each node's ``_backward()`` called by hand, from the output
   down, then ``backward()``; the ``a + a`` bug and its fix; tanh written with
   ``exp``; the neuron compiled, its generated code and derivatives.
4. The lecture's small MLP (``MLP(3, [4, 4, 1])``, four samples, squared error)
   trained with the Value engine and with the compiled loss: the same numbers.

    python examples/lecture.py [--steps 20]

Each part returns the numbers it prints, so ``tests/test_lecture.py`` checks them.
"""

import argparse
import math
import random
import sys

import numpy as np

import symgrad
from symgrad import Value
from symgrad.losses import compile_loss
from symgrad.nn import MLP

XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
YS = [1.0, -1.0, -1.0, 1.0]
NEURON = {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432}


def slope():
    """The derivative as rise over run: f(3) and (f(3 + h) - f(3))/h."""
    def f(x):
        return 3 * x**2 - 4 * x + 5

    h = 0.0001
    numbers = {"f(3)": f(3.0), "slope at 3": (f(3.0 + h) - f(3.0)) / h}
    print(f"f(3) = {numbers['f(3)']}, slope at 3 ~ {numbers['slope at 3']:.4f}")
    return numbers


def graph_l():
    """a, b, c, d, e, f, L of ``L = (a*b + c)*f``, each labelled."""
    a, b, c, f = (Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c"),
                  Value(-2.0, label="f"))
    e = a * b
    d = e + c
    L = d * f
    e.label, d.label, L.label = "e", "d", "L"
    return a, b, c, d, e, f, L


def expression_l():
    """``L = (a*b + c)*f``: gradients by hand (the chain rule, node by node), then a step."""
    a, b, c, d, e, f, L = graph_l()
    # By hand, as in the lecture: dL/dd = f, dL/df = d, then + routes, * swaps.
    L.grad = 1.0
    f.grad, d.grad = d.data, f.data
    c.grad = e.grad = d.grad
    a.grad, b.grad = e.grad * b.data, e.grad * a.data
    by_hand = {v.label: v.grad for v in (a, b, c, d, e, f)}
    for v in (a, b, c, f):  # one small step along the gradient raises L
        v.data += 0.01 * v.grad
    stepped = ((a * b + c) * f).data
    a, b, c, d, e, f, L = graph_l()  # the same with backward()
    L.backward()
    print(f"L = {L.data}; dL/da = {a.grad}, dL/db = {b.grad}, dL/dc = {c.grad}, dL/df = {f.grad}")
    print(f"after one step of 0.01 along the gradient, L = {stepped:.6f}")
    compiled = symgrad.compile(L.to_expression())
    print("the same graph compiled:", compiled.value_and_grad(a=2.0, b=-3.0, c=10.0, f=-2.0))
    return {"L": L.data, "by hand": by_hand, "stepped": stepped,
            "backward": {v.label: v.grad for v in (a, b, c, d, e, f)}}


def neuron_values():
    """The lecture's neuron, node by node: o = tanh(x1*w1 + x2*w2 + b)."""
    v = {name: Value(x, label=name) for name, x in NEURON.items()}
    v["x1w1"] = v["x1"] * v["w1"]
    v["x2w2"] = v["x2"] * v["w2"]
    v["x1w1x2w2"] = v["x1w1"] + v["x2w2"]
    v["n"] = v["x1w1x2w2"] + v["b"]
    v["o"] = v["n"].tanh()
    for name, value in v.items():
        value.label = name
    return v


def neuron_by_hand():
    """``o.grad = 1.0``, then each node's ``_backward()`` from the output down."""
    v = neuron_values()
    v["o"].grad = 1.0
    for name in ("o", "n", "b", "x1w1x2w2", "x2w2", "x1w1"):
        v[name]._backward()
    grads = {name: value.grad for name, value in v.items()}
    print("by hand, node by node:", _rounded(grads))
    return {"o": v["o"].data, "n": v["n"].data, "grads": grads}


def neuron_backward():
    """The same with ``backward()``: a topological order, then every ``_backward``."""
    v = neuron_values()
    v["o"].backward()
    grads = {name: value.grad for name, value in v.items()}
    print("o.backward():", _rounded(grads))
    return grads


def fan_out():
    """The lecture's bug: a value used twice must collect both gradients (``+=``)."""
    a = Value(3.0, label="a")
    b = a + a
    b.backward()
    x, y = Value(-2.0, label="a"), Value(3.0, label="b")
    f = (x * y) * (x + y)
    f.backward()
    print(f"b = a + a: a.grad = {a.grad};  f = (a*b)*(a + b): a.grad = {x.grad}, "
          f"b.grad = {y.grad}")
    return {"a + a": a.grad, "a": x.grad, "b": y.grad}


def tanh_by_exp():
    """tanh(n) = (exp(2n) - 1)/(exp(2n) + 1): more nodes, the same gradients."""
    v = {name: Value(x, label=name) for name, x in NEURON.items()}
    n = v["x1"] * v["w1"] + v["x2"] * v["w2"] + v["b"]
    e = (2 * n).exp()
    o = (e - 1) / (e + 1)
    o.backward()
    grads = {name: value.grad for name, value in v.items()}
    print(f"tanh by exp: o = {o.data:.4f},", _rounded(grads))
    return {"o": o.data, "grads": grads}


def neuron_compiled():
    f = symgrad.compile("n = x1*w1 + x2*w2 + b; o = tanh(n); o")
    print(f.source)
    for name, text in f.derivatives.items():
        print(f"  do/d{name} = {text}")
    print(f.value_and_grad(**NEURON))


def squared_error(score, target):
    return (score - target) ** 2


def train_both(steps, rate=0.05):
    """The MLP trained by the Value engine and by the compiled loss, side by side."""
    random.seed(42)
    engine_model = MLP(3, [4, 4, 1])
    random.seed(42)
    compiled_model = MLP(3, [4, 4, 1])
    loss = compile_loss(compiled_model, squared_error, n_inputs=3)
    params, X, y = loss.parameters(), np.array(XS), np.array(YS)
    losses = []
    for k in range(steps):
        total = sum(squared_error(engine_model(x), t) for x, t in zip(XS, YS)) * 0.25
        engine_model.zero_grad()
        total.backward()
        for p in engine_model.parameters():
            p.data -= rate * p.grad
        value, grad = loss(params, X, y)
        params -= rate * grad
        losses.append(total.data)
        print(f"step {k}: Value engine loss {total.data:.12f}, compiled loss {value:.12f}")
    loss.load(params)
    gap = max(abs(p.data - q.data) for p, q in
              zip(engine_model.parameters(), compiled_model.parameters()))
    print(f"largest difference between the two models' parameters: {gap:.1e}")
    return {"losses": losses, "gap": gap}


def _rounded(grads):
    return ", ".join(f"{name} {grad:.4g}" for name, grad in grads.items())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="training steps (default 20)")
    args = parser.parse_args(argv)
    slope()
    expression_l()
    neuron_by_hand()
    neuron_backward()
    fan_out()
    tanh_by_exp()
    neuron_compiled()
    trained = train_both(args.steps)
    return 0 if trained["gap"] < 1e-9 and math.isfinite(trained["losses"][-1]) else 1


if __name__ == "__main__":
    sys.exit(main())
