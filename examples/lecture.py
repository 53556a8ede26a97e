"""The micrograd lecture's path, in symgrad.

1. ``L = (a*b + c)*f`` with the Value engine, then as a compiled Expression.
2. The tanh neuron: its generated code and derivatives.
3. The lecture's small MLP (``MLP(3, [4, 4, 1])``, four samples, squared error)
   trained with the Value engine and with the compiled loss: the same numbers.

    python examples/lecture.py [--steps 20]
"""

import argparse
import random
import sys

import numpy as np

import symgrad
from symgrad import Value
from symgrad.losses import compile_loss
from symgrad.nn import MLP

XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
YS = [1.0, -1.0, -1.0, 1.0]


def expression_l():
    a, b, c, f = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c"), \
        Value(-2.0, label="f")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    L = d * f
    L.backward()
    print(f"L = {L.data}; dL/da = {a.grad}, dL/db = {b.grad}, dL/dc = {c.grad}, dL/df = {f.grad}")
    compiled = symgrad.compile(L.to_expression())
    print("the same graph compiled:", compiled.value_and_grad(a=2.0, b=-3.0, c=10.0, f=-2.0))


def neuron():
    f = symgrad.compile("n = x1*w1 + x2*w2 + b; o = tanh(n); o")
    print(f.source)
    for name, text in f.derivatives.items():
        print(f"  do/d{name} = {text}")
    print(f.value_and_grad(x1=2.0, w1=-3.0, x2=0.0, w2=1.0, b=6.8813735870195432))


def squared_error(score, target):
    return (score - target) ** 2


def train_both(steps, rate=0.05):
    random.seed(42)
    engine_model = MLP(3, [4, 4, 1])
    random.seed(42)
    compiled_model = MLP(3, [4, 4, 1])
    loss = compile_loss(compiled_model, squared_error, n_inputs=3)
    params, X, y = loss.parameters(), np.array(XS), np.array(YS)
    for k in range(steps):
        total = sum(squared_error(engine_model(x), t) for x, t in zip(XS, YS)) * 0.25
        engine_model.zero_grad()
        total.backward()
        for p in engine_model.parameters():
            p.data -= rate * p.grad
        value, grad = loss(params, X, y)
        params -= rate * grad
        print(f"step {k}: Value engine loss {total.data:.12f}, compiled loss {value:.12f}")
    loss.load(params)
    gap = max(abs(p.data - q.data) for p, q in
              zip(engine_model.parameters(), compiled_model.parameters()))
    print(f"largest difference between the two models' parameters: {gap:.1e}")
    return gap


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="training steps (default 20)")
    args = parser.parse_args(argv)
    expression_l()
    neuron()
    return 0 if train_both(args.steps) < 1e-9 else 1


if __name__ == "__main__":
    sys.exit(main())
