"""The NumPy backend's compiled losses: a loss program's layer plan printed over a batch.

A neural network's scalar graph is full of isomorphic nodes: every neuron of a
layer computes ``b + w0*v0 + w1*v1 + ...`` over the same inputs ``v``.  This
module reads the loss's ``Program``, finds such affine chains, stacks the ones
that share inputs into one matrix product (a *dense* item, one row per neuron),
lifts unary operators applied to every row of a stack (``relu`` of a layer) into
one call, and leaves every other step as a line over 1-D batch arrays.  Arrays
are laid out as (rows, batch).  The backward pass is the program's own backward
steps: scalar and lifted steps print their local derivative from the program; a
dense item's steps (the table's ``add`` and ``mul`` partials: 1; ``y`` and ``x``)
summed over its terms are two matrix products.

The loss program's inputs follow one convention: parameters ``p0, p1, ...``,
one sample's inputs ``x0, x1, ...`` and the target ``y``; it is differentiated
with respect to the parameters.  Generated code: ``loss_and_grad(P, X, Y, l2) ->
(mean loss + l2*sum(P**2), its gradient)`` with ``P`` the flat parameters and one
sample per row of ``X`` and ``Y``, turned into (inputs, batch) arrays by its first
line; without gradients, ``loss_values(P, X, Y)`` gives the value per sample.  A layer's weights are views of ``P`` (micrograd's parameter
order makes them slices); another layout picks them with index arrays written
into the module.  Names come from the program's allocator, in evaluation order;
each backward block quotes its forward line and the operator's rule, as the
scalar code does.
"""

import numpy as np

from ..core import ir
from ..core.ops import OPS
from ..core.printer import contribution, to_text
from . import Artifact
from .layers import Dense, Map, PlanPrinter, Stack, Vector, plan
from .python import PythonPrinter

NUMPY = PythonPrinter("numpy", "np")
FUNCTION_NAMES = {"loss": "loss_and_grad", "loss_values": "loss_values"}


def emit(loss, kind="loss", functional=False):
    """The artifact of the batch loss (``kind="loss"``) or its per-sample values
    ("loss_values"), from a ``LossProgram``.

    ``functional`` prints no in-place update (``G = G.at[...].add(...)``), for JAX.
    """
    printer = LossPrinter(plan(loss), functional)
    return printer.emit(FUNCTION_NAMES[kind], kind)


class LossPrinter(PlanPrinter):
    """NumPy text of a ``LayerPlan``: the forward items, then the backward pass."""

    def __init__(self, layers, functional=False):
        self.plan, self.functional = layers, functional
        self.names, self.steps, self.needs = layers.names, layers.steps, layers.needs
        self.row_of, self.param, self.root = layers.row_of, layers.param, layers.root
        self.allocate, self.constants, self._known = layers.names_in_use(), [], []
        self.forward_text = {}  # dense item -> its forward expression, quoted when going back
        self.sections = {}  # "forward", "backward", "end": the line where each begins

    def emit(self, function_name, kind):
        gradients = kind == "loss"
        items = self.plan.items
        targets = set(self.plan.targets) & set(ir.topological_order([self.root]))
        lines = [f"def {function_name}(P, X, Y{', l2' if gradients else ''}):",
                 "    X, Y = X.T, Y.T  # one sample per column" if targets
                 else "    X = X.T  # one sample per column", "    n = X.shape[1]",
                 "    # forward pass"]
        for item in items:
            if isinstance(item, Vector):
                if isinstance(item, Dense):
                    weights = item.weights_name
                    lines.append(f"    {weights} = {self._select('P', item.weights, weights)}")
                    if item.bias is not None:
                        bias = item.bias_name
                        lines.append(f"    {bias} = {self._select('P', item.bias, bias)}")
                forward = self.forward_text[item] = self._forward_vector(item)
                lines.append(f"    {item.name} = {forward}  # {self._describe(item)}")
            else:
                operands = [NUMPY.atom(a, self.names, item.depends) for a in item.args]
                lines.append(f"    {self.names[item]} = {NUMPY.apply(item, operands)}")
        if not gradients:
            lines.append(f"    return np.broadcast_to({self.names[self.root]}, (n,))")
            return self._module(lines, function_name, kind, ("values",))
        root = self.names[self.root]
        lines.append(f"    value = np.sum({root}) / n + l2 * (P @ P)  # the mean over the batch, "
                     "and the L2 term")
        self.grad_lines, self.grads = [], {}
        self.grad_lines += ["    # backward pass: the chain rule, from the mean back to P",
                            "    G = (2 * l2) * P  # d/dP l2*sum(P**2)"]
        self._accumulate(self.root, "np.full(n, 1.0 / n)", "d value/d out = 1/n")
        self._backward_items(items)
        self.sections = {"forward": 4, "backward": len(lines) + 1,
                         "end": len(lines) + len(self.grad_lines) + 1}
        lines += self.grad_lines + ["    return value, G"]
        return self._module(lines, function_name, kind, ("value", "G"))

    def _module(self, lines, function_name, kind, outputs):
        """The function, after the index arrays that say where each layer sits in P."""
        header = []
        if self.constants:
            header = ["# where each layer's weights and biases sit in P and G"]
            header += [f"{name} = {text}" for name, text in self.constants]
        params = ("P", "X", "Y", "l2") if kind == "loss" else ("P", "X", "Y")
        # Where the forward pass, the backward pass and the code after them begin.
        at = {key: line + len(header) for key, line in self.sections.items()}
        return Artifact("\n".join(header + lines) + "\n", function_name, params, outputs,
                        at, kind)

    def _add_into(self, array, indices, name, contribution, note):
        """``array[indices] += contribution`` (``G = G.at[...].add(...)`` when functional)."""
        at = self._indices(indices, name)
        if self.functional:
            self.grad_lines.append(f"    {array} = {array}.at[{at}].add({contribution})  # {note}")
        else:
            self.grad_lines.append(f"    {array}[{at}] += {contribution}  # {note}")

    def _select(self, array, indices, name):
        """``array`` at ``indices`` (a 2-D index matrix), through a named index array."""
        return f"{array}[{self._indices(indices, name)}]"

    def _indices(self, indices, name):
        """The module-level index array ``at_<name>`` for ``indices``, written once.

        micrograd's parameter order (per neuron: weights, then bias) makes a layer's
        weights a reshaped range, ``np.arange(0, 48).reshape(16, 3)[:, :2]``; other
        layouts are written out.  Index arrays beat views here: ``G[at] += g``
        costs half of making a strided view of G and adding through it.
        """
        for known, (label, _) in zip(self._known, self.constants):
            if known.shape == indices.shape and np.array_equal(known, indices):
                return label
        label = self.allocate.fresh("at_" + name)
        self.constants.append((label, _index_text(indices)))
        self._known.append(indices)
        return label

    def _describe(self, vector):
        """The forward comment of a vector: what each of its rows holds."""
        rows = len(vector.rows)
        if isinstance(vector, Stack):
            return f"{rows} values stacked as rows"
        if isinstance(vector, Map):
            return f"{vector.op}({vector.source.name}) row by row"
        terms = len(vector.source.rows)
        bias = "b + " if vector.bias is not None else ""
        return (f"{rows} row{'s' if rows > 1 else ''} of {bias}w·{vector.source.name}, "
                f"{terms} term{'s' if terms > 1 else ''} each")

    def _forward_vector(self, vector):
        if isinstance(vector, Stack):
            return f"np.stack([{', '.join(self.names[n] for n in vector.rows)}])"
        source = vector.source.name
        if isinstance(vector, Map):
            return NUMPY.apply(vector.rows[0], [source])
        line = f"{vector.weights_name} @ {source}"
        if vector.bias is not None:
            line += f" + {vector.bias_name}"
        return line

    def _grad_name(self, name):
        return self.allocate.fresh("grad_" + name.split("[")[0])

    def _accumulate(self, node, contribution, note=""):
        """Add ``contribution`` to the gradient of ``node``."""
        if node not in self.needs:
            return
        out = self.grad_lines
        note = f"  # {note}" if note else ""
        if node in self.param:
            out.append(self._add_at("G", self.param[node], f"np.sum({contribution})") + note)
        elif node in self.row_of:
            vector, index = self.row_of[node]
            if vector.name not in self.grads:
                self.grads[vector.name] = self._grad_name(vector.name)
                out.append(f"    {self.grads[vector.name]} = np.zeros(({len(vector.rows)}, n))")
            out.append(self._add_at(self.grads[vector.name], index, contribution) + note)
        elif node in self.grads:
            # Never += on a NumPy gradient: it may be the very array another one names.
            out.append(f"    {self.grads[node]} = {self.grads[node]} + {contribution}{note}")
        else:
            self.grads[node] = self._grad_name(self.names[node])
            out.append(f"    {self.grads[node]} = {contribution}{note}")

    def _add_at(self, array, index, contribution):
        if self.functional:
            return f"    {array} = {array}.at[{index}].add({contribution})"
        return f"    {array}[{index}] += {contribution}"

    def _accumulate_vector(self, vector, contribution, note):
        if vector.name in self.grads:
            name = self.grads[vector.name]
            self.grad_lines.append(f"    {name} = {name} + {contribution}  # {note}")
        else:
            self.grads[vector.name] = name = self._grad_name(vector.name)
            self.grad_lines.append(f"    {name} = {contribution}  # {note}")

    def _backward_scalar(self, node):
        """The program's backward steps of ``node``, over batch arrays."""
        grad, names = self.grads[node], self.names
        op = OPS[node.op]
        self.grad_lines.append(f"    # {names[node]} = {to_text(node, names)}")
        for step in self.steps.get(node, ()):
            local = step.local
            note = f"{op.name}: d {names[node]}/d {names[step.operand]} = " \
                   f"{ir_text(local, names)}"
            self._accumulate(step.operand, contribution(
                grad, local, lambda local: NUMPY.factor(local, names)), note)

    def _backward_map(self, vector, grad):
        """Every row's step is the same rule: print the first row's local over the arrays."""
        source, op = vector.source, OPS[vector.op]
        found = self._map_step(vector)
        if found is None:
            return  # no parameter below the source: nothing to pass on
        self.grad_lines.append(f"    # {vector.name} = {op.name}({source.name}), row by row")
        row, step = found
        names = {**self.names, row: vector.name, row.args[0]: source.name}
        note = f"{op.name}: d {vector.name}/d {source.name} = {ir_text(step.local, names)}"
        self._accumulate_vector(source, contribution(
            grad, step.local, lambda local: NUMPY.factor(local, names)), note)

    def _backward_dense(self, vector, grad):
        """The add and mul steps of every row's chain b + w0*v0 + ..., as matrix products."""
        source, weights = vector.source, vector.weights_name
        self.grad_lines.append(f"    # {vector.name} = {self.forward_text[vector]}  [each row is "
                               "b + w0*v0 + w1*v1 + ...: d/db = 1, d/dw = v, d/dv = w]")
        self._add_into("G", vector.weights, weights, f"{grad} @ {source.name}.T",
                       f"mul: d {vector.name}/d {weights} = {source.name}")
        if vector.bias is not None:
            bias = vector.bias_name
            total = f"np.sum({grad}, axis=1)" if self.functional else f"np.add.reduce({grad}, 1)"
            self._add_into("G", vector.bias, bias, f"{total}[:, None]",
                           f"add: d {vector.name}/d {bias} = 1")
        if any(r in self.needs for r in source.rows):
            self._accumulate_vector(source, f"{weights}.T @ {grad}",
                                    f"mul: d {vector.name}/d {source.name} = {weights}")


def ir_text(node, names):
    """A node over the generated names, in the language (for comments)."""
    return names[node] if node in names else to_text(node, names, limit=60)


def _index_text(indices):
    """Python text of an index matrix: a reshaped range where the layout is regular."""
    rows, columns = indices.shape
    start = int(indices[0, 0])
    stride = int(indices[1, 0] - start) if rows > 1 else columns
    regular = start + stride * np.arange(rows)[:, None] + np.arange(columns)[None, :]
    if stride >= columns and np.array_equal(indices, regular):
        if columns == 1:
            step = "" if stride == 1 else f", {stride}"
            return f"np.arange({start}, {start + rows * stride}{step})[:, None]"
        # A sliced range is a strided view; indexing with it costs 10% of the step.
        whole = "" if stride == columns else f"[:, :{columns}].copy()"
        return f"np.arange({start}, {start + rows * stride}).reshape({rows}, {stride}){whole}"
    return f"np.array({indices.tolist()!r}, dtype=np.int64)"
