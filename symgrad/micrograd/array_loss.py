"""Compiled losses as array programs: one step per layer, not one per weight.

When the model is exactly an ``nn.MLP`` and the loss is one the array language
says directly, the loss is written as an array program (``symgrad.arrays``)::

    h1 = relu(W1 @ transpose(X) + b1)      one line per layer (one sample per column), relu
    score = W3 @ h2 + b3                   or linear as its neurons say
    relu(1 + -Y*score) @ mean_weights      a per-sample loss of one output, traced and
                                           broadcast, averaged (mean_weights: 1/n each)
    -(sum(transpose(T) * log_softmax(logits, axis=0), axis=0) @ mean_weights)
                                           or cross_entropy with targets=k

and compiled once; its cost follows the number of layers.  A generated wrapper
``loss(P, X, Y, l2)`` views each layer's block of the flat parameter vector
(micrograd's order: per neuron its weights, then its bias) as ``W`` and ``b``
and puts the gradients back in that order.  ``plan`` says None when the scalar
route must be taken.
"""

from __future__ import annotations

from collections import namedtuple

from ..arrays import graph, printer
from ..arrays.build import parse
from ..arrays.runtime import namespace
from ..arrays.program import ArrayProgram
from ..backends import compile_source
from ..backends.artifact import Artifact
from ..core.errors import SymgradError
from ..core.expression import Expression
from ..core.ir import variables_of
from .nn import MLP, Layer, Neuron
from .tracing import Symbol, symbols

BACKENDS = ("numpy", "jax")
Plan = namedtuple("Plan", "layers loss text expression")
Plan.__doc__ = """``layers`` (inputs, outputs, relu) per layer; ``loss`` the per-sample
loss in the language over ``score`` and ``Y`` (None: cross-entropy); ``text`` the
array program and ``expression`` its parse."""


def layers_of(model, n_inputs):
    """(inputs, outputs, relu) per layer of an ``MLP`` that an array program can say, or None."""
    if type(model) is not MLP or not model.layers:
        return None
    sizes, nin = [], n_inputs
    for layer in model.layers:
        neurons = getattr(layer, "neurons", None)
        if type(layer) is not Layer or not neurons:
            return None
        if any(type(n) is not Neuron or len(n.w) != nin for n in neurons):
            return None
        kinds = {bool(n.nonlin) for n in neurons}
        if len(kinds) != 1:
            return None
        sizes.append((nin, len(neurons), kinds.pop()))
        nin = len(neurons)
    if any(nout == 1 for _, nout, _ in sizes[:-1]):  # micrograd cannot call such a model
        return None
    return sizes


def plan(model, loss, n_inputs, targets, backend, params, cross_entropy=False):
    """The ``Plan`` of the array route, or None when the loss takes the scalar route;
    ``cross_entropy`` says that ``loss`` is ``losses.cross_entropy``."""
    if backend not in BACKENDS:
        return None
    sizes = layers_of(model, n_inputs)
    if sizes is None or len({id(p) for p in params}) != len(params):
        return None
    outputs = sizes[-1][1]
    if cross_entropy:
        if targets != outputs or outputs < 2:
            return None
        return _planned(sizes, None)
    if targets is not None or outputs != 1:
        return None
    text = _per_sample(loss, params)
    return None if text is None else _planned(sizes, text)


def _planned(sizes, loss):
    """The ``Plan``, or None if the array language refuses the loss (the scalar route
    takes any)."""
    text = _text(sizes, loss)
    try:
        return Plan(sizes, loss, text, parse(text))
    except SymgradError:
        return None


def _per_sample(loss, params):
    """``loss(score, Y)`` traced into the language, or None if it reads anything else."""
    score, target = symbols("score", "Y", values={p: "p" for p in params})
    out = loss(score, target)
    if not isinstance(out, Symbol):
        raise TypeError("the loss must be computed from the model's output and the target, "
                        f"got {type(out).__name__}")
    if not set(variables_of([out.node])) <= {"score", "Y"}:
        return None  # it reads a parameter: only the scalar route sees that
    return str(Expression(out.node, ["score", "Y"]))


def _text(sizes, loss):
    """The array program: declarations, one line per layer, the batch's loss.

    One sample per column inside (``W @ h + b``, as micrograd's neurons are rows
    of ``W``), so each layer's ``W`` and its gradient are rows of P's block.
    """
    last = len(sizes)
    lines = [f"X: [n, {sizes[0][0]}]"]
    for i, (nin, nout, _) in enumerate(sizes, 1):
        if i == last and loss is not None:  # one output: a vector of weights, a scalar bias
            lines += [f"W{i}: [{nin}]", f"b{i}: []"]
        else:
            lines += [f"W{i}: [{nout}, {nin}]", f"b{i}: [{nout}, 1]"]
    lines.append("Y: [n]" if loss is not None else f"T: [n, {sizes[-1][1]}]")
    lines.append("mean_weights: [n]")  # 1/n each: the mean as one dot product
    h = "transpose(X)"
    for i, (_, _, relu) in enumerate(sizes, 1):
        name = f"h{i}" if i < last else ("logits" if loss is None else "score")
        layer = f"W{i} @ {h} + b{i}"
        lines.append(f"{name} = relu({layer})" if relu else f"{name} = {layer}")
        h = name
    if loss is None:
        lines.append("-(sum(transpose(T) * log_softmax(logits, axis=0), axis=0) @ mean_weights)")
    else:
        lines.append(f"({loss}) @ mean_weights")
    return "\n".join(lines) + "\n"


class ArrayLoss:
    """The array route's program, source and functions for one ``Plan`` and backend.

    ``loss(P, X, Y, l2)`` and ``predict(P, X)`` are generated Python (jit-compiled
    on JAX); ``source`` is the loss's module, ``sections`` where its forward and
    backward lines are (for ``CompiledLoss.size``).
    """

    def __init__(self, plan, backend, owner):
        self.plan, self.backend = plan, backend
        expression = plan.expression
        weights = [f"{w}{i}" for i in range(1, len(plan.layers) + 1) for w in "Wb"]
        self.program = ArrayProgram(expression, wrt=weights)
        body = printer.function(self.program, "value_and_grad", "loss_and_grads")
        lines = body.source.splitlines()
        first = body.lines[("forward", 0)] - 1
        backward = body.lines.get(("backward", 0), len(lines)) - 1
        lines.insert(backward, "    # backward pass: one rule a line, from the loss back to "
                               "each layer")
        grads = [self.program.grads.get(expression.inputs[w]) for w in weights]
        names = ", ".join(g or "_" for g in grads) + "," * (len(grads) == 1)
        wrapper = self._wrapper("loss", "P, X, Y, l2", [
            "mean_weights = np.full(X.shape[0], 1.0 / X.shape[0])  # the mean: 1/n a sample",
            f"out, ({names}) = loss_and_grads(", f"    {self._arguments()})",
            "# the gradients back in micrograd's order, and the L2 term",
            *self._gradient(grads)])
        self.sections = {"forward": first, "backward": backward + 1,
                         "end": len(lines)}
        self.source = "\n".join(lines) + "\n\n" + wrapper
        self.artifact = Artifact(self.source, "loss", ("P", "X", "Y", "l2"), ("value", "G"),
                                 self.sections, "loss", "python")
        self.function = self._load(self.artifact, "compiled loss (arrays)", owner)
        self._owner, self._predict = owner, None

    def _arguments(self, predict=False):
        """The program's arguments: X, Y, each layer's W and b as views of its block, the
        mean's weights (``predict`` needs neither Y nor those: None)."""
        views = {"X": "X"} if predict else {"X": "X", "Y": "Y", "T": "Y",
                                            "mean_weights": "mean_weights"}
        for i, (nin, _, _) in enumerate(self.plan.layers, 1):
            vector = i == len(self.plan.layers) and self.plan.loss is not None
            views[f"W{i}"] = f"A{i}[0, :{nin}]" if vector else f"A{i}[:, :{nin}]"
            views[f"b{i}"] = f"A{i}[0, {nin}]" if vector else f"A{i}[:, {nin}:]"
        return ", ".join(views.get(name, "None") for name in self.program.params)

    def _gradient(self, grads):
        """Lines that make ``G`` (each layer's gradients in P's order, plus the L2 term's)
        and return the value with it."""
        pieces, start, jax = [], 0, self.backend == "jax"
        for i, (nin, nout, _) in enumerate(self.plan.layers, 1):
            w, b = grads[2 * i - 2:2 * i]
            vector = i == len(self.plan.layers) and self.plan.loss is not None
            end = start + nout * (nin + 1)
            if jax:  # JAX arrays are immutable: one new vector
                w = w or (f"np.zeros({nin})" if vector else f"np.zeros(({nout}, {nin}))")
                b = b or ("0.0" if vector else f"np.zeros(({nout}, 1))")
                pieces.append(f"    np.append({w}, {b})," if vector else
                              f"    np.concatenate(({w}, {b}), axis=1).reshape(-1),")
            elif vector:  # every entry of G is written once: a block without gradient is 0
                pieces += [f"G[{start}:{end - 1}] = {w or 0.0}", f"G[{end - 1}] = {b or 0.0}"]
            else:
                pieces += [f"G{i} = G[{start}:{end}].reshape({nout}, {nin + 1})",
                           f"G{i}[:, :{nin}] = {w or 0.0}", f"G{i}[:, {nin}:] = {b or 0.0}"]
            start = end
        if jax:
            return ["G = (2 * l2) * P + np.concatenate((", *pieces, "))",
                    "return out + l2 * (P @ P), G"]
        return [f"G = np.empty({start})", *pieces,
                "if l2:  # the L2 term l2*sum(P**2) and its gradient",
                "    G += (2 * l2) * P", "    out = out + l2 * (P @ P)", "return out, G"]

    def _wrapper(self, entry, params, body):
        """``def entry(params)``: each layer's block of P as a matrix, then ``body``."""
        lines = [f"def {entry}({params}):",
                 "    # layer i's block of P: one row per neuron, its weights then its bias"]
        start = 0
        for i, (nin, nout, _) in enumerate(self.plan.layers, 1):
            end = start + nout * (nin + 1)
            lines.append(f"    A{i} = P[{start}:{end}].reshape({nout}, {nin + 1})")
            start = end
        return "\n".join(lines + [f"    {line}" for line in body]) + "\n"

    def _load(self, artifact, label, owner):
        function = compile_source(artifact, label, owner, namespace(self.backend))
        if self.backend == "jax":
            import jax

            function = jax.jit(function)
        return function

    def predict(self, P, X):
        """The model's outputs for every row of ``X`` (a vector, or one row per sample)."""
        if self._predict is None:
            scores = _outputs(self.program, "score" if self.plan.loss else "logits")
            wrapper = self._wrapper("predict", "P, X", [
                f"return scores({self._arguments(predict=True)}).T  # one row per sample"])
            artifact = Artifact(scores + "\n" + wrapper, "predict", ("P", "X"), ("scores",),
                                {}, "loss_values", "python")
            self._predict = self._load(artifact, "model output (arrays)", self._owner)
        return self._predict(P, X)


def _outputs(program, label):
    """``def scores(...)``: the forward steps that the node labelled ``label`` needs."""
    node = next(n for n, name in program.expression.labels.items() if name == label)
    needed = set(graph.order([node]))
    lines = [f"def scores({', '.join(program.params)}):"]
    lines += [f"    {dim} = {source}.shape[{axis}]"
              for dim, (source, axis) in sorted(program.dims.items())]
    for step in program.forward:
        if step.node in needed:
            text = printer.render(step.node, printer.without(program.names, step.node))[0]
            lines.append(f"    {step.name} = {text}")
    lines.append(f"    return {program.names[node]}")
    return "\n".join(lines) + "\n"


__all__ = ["ArrayLoss", "Plan", "layers_of", "plan"]
