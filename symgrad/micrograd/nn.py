"""micrograd's ``nn``: Module, Neuron, Layer, MLP, on symgrad's ``Value``.

Same constructors, attributes (``w``, ``b``, ``neurons``, ``layers``), parameter
order (per layer, per neuron, weights then bias) and random initialisation as
micrograd, so its demo runs with only the import changed.  A module is called
on anything that supports ``+`` and ``*`` with Values: numbers, Values, or the
symbols of ``symgrad.tracing`` (which is how ``symgrad.losses`` compiles a model).
"""

from __future__ import annotations

from typing import Any, Sequence

import random

from .engine import Value


class Module:
    """Something with parameters."""

    def zero_grad(self) -> None:
        """Set every parameter's gradient to zero."""
        for p in self.parameters():
            p.grad = 0.0

    def parameters(self) -> list[Value]:
        """The parameters (Values), in a fixed order."""
        return []


class Neuron(Module):
    """``relu(w·x + b)`` (or ``w·x + b`` with ``nonlin=False``); weights uniform in [-1, 1]."""

    def __init__(self, nin: int, nonlin: bool = True) -> None:
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0)
        self.nonlin = nonlin

    def __call__(self, x: Sequence[float | Value]) -> Any:
        # b + w0*x0 + w1*x1 + ...: micrograd's order, so the sums round the same way.
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.relu() if self.nonlin else act

    def parameters(self):
        return self.w + [self.b]

    def __repr__(self):
        return f"{'ReLU' if self.nonlin else 'Linear'}Neuron({len(self.w)})"


class Layer(Module):
    """``nout`` neurons on the same inputs; one neuron gives a single output, as in micrograd."""

    def __init__(self, nin: int, nout: int, **kwargs: Any) -> None:
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

    def __call__(self, x: Sequence[float | Value]) -> Any:
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self):
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """Layers of sizes ``nouts`` after ``nin`` inputs; relu on all but the last."""

    def __init__(self, nin: int, nouts: Sequence[int]) -> None:
        sizes = [nin] + list(nouts)
        self.layers = [Layer(sizes[i], sizes[i + 1], nonlin=i != len(nouts) - 1)
                       for i in range(len(nouts))]

    def __call__(self, x: Sequence[float | Value]) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self):
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"
