"""Derivatives of a few expressions, their generated code, and a SymPy cross-check.

Run: python examples/derivatives.py
"""

import argparse

import symgrad

argparse.ArgumentParser(description=__doc__).parse_args()  # --help says what this prints
for text in ["tanh(a*b + c)", "(a*b + c)*f", "n = x1*w1 + x2*w2 + b; o = tanh(n); o"]:
    f = symgrad.compile(text)
    print(f.expression)
    for name, derivative in f.derivatives.items():
        print(f"  d/d{name} = {derivative}")

neuron = symgrad.compile("n = x1*w1 + x2*w2 + b; o = tanh(n); o")
value, grad = neuron.value_and_grad(x1=2.0, x2=0.0, w1=-3.0, w2=1.0, b=6.8813735870195432)
print(f"\nthe lecture's neuron: o = {value:.4f}")
for name, g in grad.items():
    print(f"  grad_{name} = {g:.4f}")
print("\n" + neuron.source)
print(symgrad.check(neuron))
