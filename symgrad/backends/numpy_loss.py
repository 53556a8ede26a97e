"""The NumPy backend's compiled losses: a ``LayerPlan`` printed over a batch.

Arrays are (rows, batch): a dense item is a matrix product, a lifted map one call,
every other step a line over 1-D batch arrays.  The backward pass is the program's
own steps; a dense item's (``add``: 1; ``mul``: ``y`` and ``x``), summed over its
terms, are two matrix products.  Each backward block quotes its forward line and
the operator's rule, as the scalar code does.
"""

from ..core.printer import to_text
from ..core.pyspell import PythonSpelling
from . import Artifact
from ..core.loss_plan import Dense, LayerPlan, Stack, Vector, regular
from .loss_printer import PlanPrinter

NUMPY = PythonSpelling("numpy", "np")
FUNCTION_NAMES = {"loss": "loss_and_grad", "loss_values": "loss_values"}


def emit(loss, kind="loss", functional=False):
    """The artifact of the batch loss (``kind="loss"``) or its per-sample values ("loss_values");
    ``functional``: no in-place update (``G = G.at[...].add(...)``), for JAX."""
    return LossPrinter(LayerPlan(loss), functional).emit(kind)


class LossPrinter(PlanPrinter):
    """NumPy text of a ``LayerPlan``: the forward items, then the backward pass."""

    spell = NUMPY

    def __init__(self, layers, functional=False):
        super().__init__(layers)
        self.functional = functional
        self.constants = {}  # an index matrix's (shape, bytes) -> (its name, its text)

    def emit(self, kind):
        gradients = kind == "loss"
        params = ("P", "X", "Y", "l2") if gradients else ("P", "X", "Y")
        lines = self.lines = [
            f"def {FUNCTION_NAMES[kind]}({', '.join(params)}):",
            "    X, Y = X.T, Y.T  # one sample per column" if self.plan.reads_targets
            else "    X = X.T  # one sample per column", "    n = X.shape[1]", "    # forward pass"]
        for item in self.plan.items:
            if isinstance(item, Dense):
                parts = ((item.weights_name, item.weights), (item.bias_name, item.bias))
                lines += [f"    {name} = P[{self._indices(indices, name)}]"
                          for name, indices in parts if indices is not None]
            if isinstance(item, Vector):
                lines.append(f"    {item.name} = {self._forward(item)}  # {self._describe(item)}")
            else:
                operands = [NUMPY.atom(a, self.names, item.depends) for a in item.args]
                lines.append(f"    {self.names[item]} = {NUMPY.apply(item, operands)}")
        root, sections = self.names[self.root], {}
        if gradients:
            lines.append(f"    value = np.sum({root}) / n + l2 * (P @ P)  # the mean over the "
                         "batch, and the L2 term")
            backward = len(lines) + 1
            lines += ["    # backward pass: the chain rule, from the mean back to P",
                      "    G = (2 * l2) * P  # d/dP l2*sum(P**2)"]
            self._accumulate(self.root, "np.full(n, 1.0 / n)", "d value/d out = 1/n")
            self._backward_items(self.plan.items)
            sections = {"forward": 4, "backward": backward, "end": len(lines) + 1}
            lines.append("    return value, G")
        else:
            lines.append(f"    return np.broadcast_to({root}, (n,))")
        # The function, after the index arrays that say where each layer sits in P.
        header = [f"{name} = {text}" for name, text in self.constants.values()]
        if header:
            header.insert(0, "# where each layer's weights and biases sit in P and G")
        at = {key: line + len(header) for key, line in sections.items()}
        return Artifact("\n".join(header + lines) + "\n", FUNCTION_NAMES[kind], params,
                        ("value", "G") if gradients else ("values",), at, kind)

    def _indices(self, indices, name):
        """The module-level index array ``at_<name>`` of ``indices``, written once.

        micrograd's parameter order (per neuron: weights, then bias) makes a layer's
        weights a reshaped range, ``np.arange(0, 48).reshape(16, 3)[:, :2]``; other
        layouts are written out.  Index arrays beat views here: ``G[at] += g``
        costs half of making a strided view of G and adding through it.
        """
        key = (indices.shape, indices.tobytes())
        if key not in self.constants:
            self.constants[key] = (self.allocate.fresh("at_" + name), _index_text(indices))
        return self.constants[key][0]

    def _forward(self, vector):
        if isinstance(vector, Stack):
            return f"np.stack([{', '.join(self.names[n] for n in vector.rows)}])"
        if not isinstance(vector, Dense):
            return NUMPY.apply(vector.rows[0], [vector.source.name])
        bias = f" + {vector.bias_name}" if vector.bias is not None else ""
        return f"{vector.weights_name} @ {vector.source.name}{bias}"

    def _add_at(self, array, at, contribution, note="", indices=None):
        """``array[at] += contribution``; ``np.add.at`` if ``indices`` repeat (tied weights)."""
        note = f"  # {note}" if note else ""
        if self.functional:
            self.lines.append(f"    {array} = {array}.at[{at}].add({contribution}){note}")
        elif indices is not None and len(set(indices.flat)) < indices.size:  # += adds one
            self.lines.append(f"    np.add.at({array}, {at}, {contribution}){note}")
        else:
            self.lines.append(f"    {array}[{at}] += {contribution}{note}")

    def _accumulate(self, node, contribution, note=""):
        """Add ``contribution`` to the gradient of ``node``."""
        if node not in self.needs:
            return
        if node in self.param:
            self._add_at("G", self.param[node], f"np.sum({contribution})", note)
        elif node in self.row_of:
            vector, index = self.row_of[node]
            if vector.name not in self.grads:
                self.grads[vector.name] = self._grad_name(vector.name)
                self.lines.append(f"    {self.grads[vector.name]} = np.zeros(({len(vector.rows)}"
                                  ", n))")
            self._add_at(self.grads[vector.name], index, contribution, note)
        else:
            self._add_to(node, self.names[node], contribution, note)

    def _add_to(self, key, name, contribution, note):
        """``grads[key]`` is ``contribution``, or grows by it after the first: never by +=,
        since a NumPy gradient may be the very array another one names."""
        note = f"  # {note}" if note else ""
        if key in self.grads:
            grad = self.grads[key]
            self.lines.append(f"    {grad} = {grad} + {contribution}{note}")
        else:
            grad = self.grads[key] = self._grad_name(name)
            self.lines.append(f"    {grad} = {contribution}{note}")

    def _backward_scalar(self, node):
        """The program's backward steps of ``node``, over batch arrays."""
        names = self.names
        self.lines.append(f"    # {names[node]} = {to_text(node, names)}")
        for step in self.steps.get(node, ()):
            self._accumulate(step.operand, self._product(self.grads[node], step.local, names),
                             self._step_note(node, step, names))

    def _backward_map(self, vector, grad):
        """Every row's step is the same rule: print the first row's local over the arrays."""
        source, found = vector.source, self.plan.map_step(vector)
        if found is None:
            return  # no parameter below the source: nothing to pass on
        row, step = found
        self.lines.append(f"    # {vector.name} = {vector.op}({source.name}), row by row")
        names = {**self.names, row: vector.name, row.args[0]: source.name}
        self._add_to(source.name, source.name, self._product(grad, step.local, names),
                     self._step_note(row, step, names))

    def _backward_dense(self, vector, grad):
        """The add and mul steps of every row's chain b + w0*v0 + ..., as matrix products."""
        source, weights = vector.source.name, vector.weights_name
        self.lines.append(f"    # {self._dense_rule(vector, self._forward(vector))}")
        self._add_at("G", self._indices(vector.weights, weights), f"{grad} @ {source}.T",
                     f"mul: d {vector.name}/d {weights} = {source}", vector.weights)
        if vector.bias is not None:
            total = f"np.sum({grad}, axis=1)" if self.functional else f"np.add.reduce({grad}, 1)"
            self._add_at("G", self._indices(vector.bias, vector.bias_name), f"{total}[:, None]",
                         f"add: d {vector.name}/d {vector.bias_name} = 1", vector.bias)
        if any(r in self.needs for r in vector.source.rows):
            self._add_to(source, source, f"{weights}.T @ {grad}",
                         f"mul: d {vector.name}/d {source} = {weights}")


def _index_text(indices):
    """Python text of an index matrix: a reshaped range where the layout is regular."""
    rows, columns = indices.shape
    found = regular(indices)
    if found is None or found[1] < columns:
        return f"np.array({indices.tolist()!r}, dtype=np.int64)"
    start, stride = found
    if columns == 1:
        step = "" if stride == 1 else f", {stride}"
        return f"np.arange({start}, {start + rows * stride}{step})[:, None]"
    # A sliced range is a strided view; indexing with it costs 10% of the step.
    whole = "" if stride == columns else f"[:, :{columns}].copy()"
    return f"np.arange({start}, {start + rows * stride}).reshape({rows}, {stride}){whole}"
