"""The C backend's compiled losses: a loss program's layer plan printed as one C function.

``loss_and_grad(P, X, Y, n, l2, G, mean)`` writes the mean loss over ``n``
samples plus ``l2 * sum(P[k]^2)`` into ``*mean`` and its flat gradient into
``G``, with no Python between layers; ``sgd_step`` does that and then
``P -= rate * G``.  Samples go through in blocks of ``BLOCK``: per block,
every item of the plan forward, then backward, adding into ``G``.  A block's
arrays are sample-major (``t2[16*s + r]``: row ``r`` of sample ``s``), so
every loop over a layer's rows or columns runs over contiguous memory, a fixed
number of times: the compiler vectorises it without reordering any sum.  A
weight row is read once per block, not once per sample.  The forward pass
reads each layer's weights column by column from a transposed copy made once
per call (``W2T``); the backward pass reads them in ``P``'s own rows.
Arrays ``X``, ``Y`` are sample-major too: ``X[i*NX + k]`` is input ``k`` of
sample ``i``, ``Y[i*NY + j]`` its target ``j``.  ``loss_values(P, X, Y, n,
V)`` writes the value per sample into ``V``.  Each returns 0, or 1 when the
copies of the weights cannot be allocated.

The text reads like the NumPy loss (``numpy_loss``): the same names from the
plan (``t1``, ``W1``, ``grad_t2``), the same rule comments.  Scalar items and
lifted operators print through the table's ``c`` templates, one loop over the
block's samples for a run of scalar items; a dense item is ``b + w0*v0 +
w1*v1 + ...`` per row, summed in that order (micrograd's), and its backward
steps (``add``: 1; ``mul``: ``y`` and ``x``) loops adding into ``G`` and into
the source's gradient, over the samples in order.
"""

import numpy as np

from ..core import ir
from ..core.errors import SymgradError
from ..core.ops import OPS
from ..core.printer import contribution, render, to_text
from . import Artifact
from .c_syntax import comment as _comment, factor as c_factor, leaf
from .layers import Dense, LayerPlan, Map, PlanPrinter, Stack, Vector

FUNCTION_NAMES = {"loss": "loss_and_grad", "loss_values": "loss_values", "step": "sgd_step"}
SIZES = "symgrad_loss_sizes"  # exported: {parameters, inputs per sample, targets per sample}
# Samples per block: at most this many, fewer where one sample's arrays are large, so a
# block's arrays (on the stack) stay within BLOCK_DOUBLES, 128 KB.  Measured on the moons
# model: blocks of 4 to 32 samples within the noise of each other.
MAX_BLOCK = 16
BLOCK_DOUBLES = 16384


class LossShapeError(SymgradError, ValueError):
    """Arrays of the wrong shape for a compiled loss (the C would read past them)."""


def emit(loss, kind="loss"):
    """The artifact of the batch loss (``kind="loss"``), its gradient step ("step", in the
    same source) or its per-sample values ("loss_values")."""
    printed = "loss_values" if kind == "loss_values" else "loss"
    printer = CLossPrinter(LayerPlan(loss))
    source = printer.emit(printed)
    params = {"loss": ("P", "X", "Y", "n", "l2", "G", "mean"),
              "step": ("P", "X", "Y", "n", "l2", "rate", "G", "mean"),
              "loss_values": ("P", "X", "Y", "n", "V")}[kind]
    outputs = ("V",) if kind == "loss_values" else ("mean", "G")
    return Artifact(source, FUNCTION_NAMES[kind], params, outputs, printer.sections, kind, "c")


def _layout(indices):
    """(start, row stride) when ``indices`` is ``start + stride*row + column``, else None."""
    rows, columns = indices.shape
    start = int(indices[0, 0])
    stride = int(indices[1, 0] - start) if rows > 1 else columns
    expected = start + stride * np.arange(rows)[:, None] + np.arange(columns)[None, :]
    if stride >= 1 and np.array_equal(indices, expected):
        return start, stride
    return None


def _at(name, rows, index):
    """Row ``index`` (C text) of sample ``s`` in a block array of ``rows`` rows."""
    return f"{name}[s]" if rows == 1 else f"{name}[{rows}*s + {index}]"


def _joined(declarations, width=100):
    """Declarations of plain ``double name[BLOCK]`` arrays joined, a line up to ``width``."""
    plain = [d[len("double "):-1] for d in declarations
             if d.startswith("double ") and d.endswith("[BLOCK];")]
    lines, line = [d for d in declarations if d[len("double "):-1] not in plain], ""
    for name in plain:
        if line and len(line) + len(name) + 3 > width - 8:
            lines.append(line + ";")
            line = ""
        line = f"{line}, {name}" if line else f"double {name}"
    return lines + ([line + ";"] if line else [])


class CLossPrinter(PlanPrinter):
    """C text of a ``LayerPlan``: per block of samples, the forward items, then the backward."""

    def __init__(self, layers):
        self.plan, self.program = layers, layers.program
        self.steps, self.needs = layers.steps, layers.needs
        self.row_of, self.param, self.root = layers.row_of, layers.param, layers.root
        self.used, self.constants = set(), []
        self.allocate = layers.names_in_use()
        self.names = dict(layers.names)  # plain names, for comments: t1, t6[0], W2
        signature = layers.signature
        self.n_params = len(self.param)
        self.n_inputs = len(signature.inputs)
        targets = signature.targets
        self.n_targets = len(targets)
        # Where each dense item's weights and biases are (see _parts), and their copies.
        self.where, self.copies = {}, {}
        # In the code, a value is its block array at sample s: t1[s], t6[s], x[2*s + 1].
        self.code = {node: text for node, text in self.names.items() if node in self.param}
        for k, name in enumerate(signature.inputs):
            self.names[ir.var(name)] = f"x[{k}]"
            self.code[ir.var(name)] = _at("x", self.n_inputs, k)
        for j, name in enumerate(targets):
            self.names[ir.var(name)] = f"y[{j}]"
            self.code[ir.var(name)] = _at("y", self.n_targets, j)
        for item in layers.items:
            if isinstance(item, Vector):
                rows = len(item.rows)
                for index, node in enumerate(item.rows):
                    if self.row_of.get(node, (None,))[0] is item:
                        self.code[node] = _at(item.name, rows, index)
            else:
                self.code[item] = f"{self.names[item]}[s]"
        self.vector_names = {"X": "x"}
        self.sections, self.backward_at = {}, 0  # see _module
        self.per_sample = 0  # doubles in one sample's block arrays

    # ---- text helpers ----------------------------------------------------------------
    def template(self, op, node):
        if op.c_helper is not None:
            self.used.add(op.name)
        return op.c

    def text(self, node, names=None):
        """A node over the C names: a forward operation, or a local derivative."""
        names = self.code if names is None else names
        if node in names:
            return names[node]
        return render(node, names, leaf, self.template)

    def vname(self, vector):
        return self.vector_names.get(vector.name, vector.name)

    def _declare(self, name, rows, zero=False):
        """A block array: ``rows`` doubles per sample."""
        self.per_sample += rows
        size = "BLOCK" if rows == 1 else f"BLOCK*{rows}"
        return f"double {name}[{size}]" + (" = {0.0};" if zero else ";")

    def _parts(self, vector, gradients):
        """C declarations of a dense item's weights and biases (and their gradients' if
        ``gradients``); how to index them by r, c."""
        lines = []
        for label, indices in (("W", vector.weights), ("b", vector.bias)):
            if indices is None:
                continue
            name = vector.weights_name if label == "W" else vector.bias_name
            rows, columns = indices.shape
            found = _layout(indices)
            if found is not None:
                start, stride = found
                row = "r" if stride == 1 else f"{stride}*r"
                index = f"{row} + c" if label == "W" else row
                where = f"row r, column c at {name}[{index}]" if label == "W" \
                    else f"row r at {name}[{index}]"
                lines.append(f"    const double *{name} = P + {start};  // {rows}x{columns}, "
                             f"{where}")
                if gradients:
                    lines.append(f"    double *grad_{name} = G + {start};")
                self.where[vector, label] = (name, f"grad_{name}", index)
            else:  # another layout: an index array written into the source
                k = len(self.constants)
                self.constants.append(indices.ravel())
                index = f"K{k}[{columns}*r + c]" if label == "W" else f"K{k}[r]"
                lines.append(f"    // {name}: P at the index array K{k} ({rows}x{columns})")
                self.where[vector, label] = ("P", "G", index)
        return lines

    def _ref(self, vector, label, gradient=False):
        """A weight (``label`` "W") or bias ("b") of row r, column c; or its gradient."""
        value, grad, index = self.where[vector, label]
        return f"{grad if gradient else value}[{index}]"

    def _copies(self, dense):
        """The transposed copies the forward pass reads: declarations, then the copy loop."""
        declarations, loops, offset = [], [], 0
        for vector in dense:
            rows, terms = len(vector.rows), len(vector.source.rows)
            weights = vector.weights_name
            copy = self.copies[vector, "W"] = self.allocate.fresh(weights + "T")
            at = f"{copy}[{rows}*c + r]" if rows > 1 else f"{copy}[c]"
            declarations.append(f"    double *{copy} = T + {offset};  // {at} = {weights} row r, "
                                "column c")
            offset += rows * terms
            body = [f"for (int c = 0; c < {terms}; c++) {at} = {self._ref(vector, 'W')};"]
            if vector.bias is not None:
                bias = self.copies[vector, "b"] = self.allocate.fresh(vector.bias_name + "T")
                declarations.append(f"    double *{bias} = T + {offset};  // {bias}[r] = "
                                    f"{vector.bias_name} row r")
                offset += rows
                body.insert(0, f"{bias}[r] = {self._ref(vector, 'b')};")
            loops += [f"    for (int r = 0; r < {rows}; r++) {{"] + \
                [f"        {line}" for line in body] + ["    }"]
        return offset, declarations, loops
    # ---- the function ------------------------------------------------------------------
    def emit(self, kind):
        gradients = kind == "loss"
        items = self.plan.items
        dense = [item for item in items if isinstance(item, Dense)]
        setup = []
        for vector in dense:
            setup += self._parts(vector, gradients)
        copied, declarations, copies = self._copies(dense)
        self.lines, self.group, self.grads = [], None, {}
        self.lines.append("        // forward pass")
        for item in items:
            self._forward(item)
        if gradients:
            self._in_group(f"value += {self.text(self.root)};  // the sum; the mean is value / n")
            self._flush()
            self.backward_at = len(self.lines)
            self.lines.append("        // backward pass: the chain rule, from the mean back to P")
            self._accumulate(self.root, "1.0 / n", "d value/d out = 1/n")
            self._backward_items(items)
        else:
            self._in_group(f"V[i + s] = {self.text(self.root)};")
        self._flush()
        if copied:
            setup += ["    // The forward pass reads each layer's weights column by column: "
                      "copies, made once.",
                      f"    double *T = malloc({copied} * sizeof(double));",
                      "    if (T == NULL) return 1;"] + declarations + copies
        return self._module(kind, setup, self.lines, copied)

    def _module(self, kind, setup, body, copied):
        helpers = [OPS[name].c_helper for name in sorted(self.used)]
        label = _comment(self.program.describe(self.root, 60))
        arrays = [f"static const int K{k}[{len(a)}] = {{{', '.join(map(str, a.tolist()))}}};"
                  for k, a in enumerate(self.constants)]
        sizes = (self.n_params, self.n_inputs, self.n_targets)
        block = max(1, min(MAX_BLOCK, BLOCK_DOUBLES // max(1, self.per_sample)))
        head = [f"// symgrad: compiled loss of {label}",
                "#include <math.h>", "#include <stdlib.h>", "#include <string.h>", ""] + \
            helpers + [
                f"const int {SIZES}[3] = {{{', '.join(map(str, sizes))}}};"
                "  // parameters, inputs and targets per sample"] + arrays + [
                f"enum {{ BLOCK = {block} }};  // samples per block", ""]
        doc = ["// P: the flat parameters; X[i*NX + k]: input k of sample i (sample-major);",
               "// Y[i*NY + j]: target j of sample i.  Returns 0, or 1 when out of memory."]
        per_block = [
            "        const int m = n - i < BLOCK ? n - i : BLOCK;  // samples in this block",
            f"        const double *x = X + (long)i * {self.n_inputs};"
            f"  // sample s: x[{self.n_inputs}*s + k]" if self.n_inputs > 1 else
            "        const double *x = X + i;  // sample s: x[s]",
            f"        const double *y = Y + (long)i * {self.n_targets};"
            f"  // sample s: y[{self.n_targets}*s + j]" if self.n_targets > 1 else
            "        const double *y = Y + i;  // sample s: y[s]"]
        free = ["    free(T);"] if copied else []
        n = self.n_params
        if kind == "loss":
            lines = doc + [
                "// Writes the mean loss over the n samples plus l2 * sum(P[k]^2) into *mean,",
                f"// its gradient by P into G ({n} doubles).",
                "int loss_and_grad(const double *restrict P, const double *restrict X, "
                "const double *restrict Y,",
                "                  int n, double l2, double *restrict G, double *restrict mean)",
                "{", f"    memset(G, 0, {n} * sizeof(double));", "    double value = 0.0;"]
            tail = free + [
                "    double squares = 0.0;  // the L2 term: d/dP[k] l2*P[k]^2 = 2*l2*P[k]",
                "    if (l2 != 0.0)",
                f"        for (int k = 0; k < {n}; k++) {{",
                "            squares += P[k] * P[k];",
                "            G[k] += 2.0 * l2 * P[k];",
                "        }",
                "    *mean = value / n + l2 * squares;", "    return 0;", "}", "",
                "// One step of gradient descent: the loss and gradient at P (into *mean and G),",
                "// then P -= rate * G.",
                "int sgd_step(double *restrict P, const double *restrict X, "
                "const double *restrict Y, int n,",
                "             double l2, double rate, double *restrict G, "
                "double *restrict mean)",
                "{",
                "    if (loss_and_grad(P, X, Y, n, l2, G, mean) != 0) return 1;",
                f"    for (int k = 0; k < {n}; k++) P[k] -= rate * G[k];",
                "    return 0;", "}"]
        else:
            lines = doc + ["// Writes the value of each of the n samples into V.",
                           "int loss_values(const double *restrict P, const double *restrict X,"
                           " const double *restrict Y,", "                int n, double "
                           "*restrict V)", "{"]
            tail = free + ["    return 0;", "}"]
        lines += setup + ["    for (int i = 0; i < n; i += BLOCK) {"] + per_block
        body_start = len(head) + len(lines)  # 0-based, in the whole text
        lines += body + ["    }"] + tail
        if kind == "loss":  # the lines where the forward pass, the backward pass, the rest begin
            brace = len(head) + len(doc) + 4  # 0-based: the "{" opening loss_and_grad
            mean = len(head) + len(lines) - len(tail) + len(free) + 6  # 0-based: "*mean = ..."
            self.sections = {"forward": brace + 1, "backward": body_start + self.backward_at + 1,
                             "end": mean + 2}
        return "\n".join(head + lines) + "\n"

    # ---- loops over the block's samples ----------------------------------------------
    def _in_group(self, line, declaration=None):
        """A line inside the current loop over the block's samples (opened if need be)."""
        if self.group is None:
            self.group = ([], [])
        if declaration is not None:
            self.group[0].append(declaration)
        self.group[1].append(line)

    def _flush(self):
        """Close the current loop over samples: its declarations, then the loop."""
        if self.group is None:
            return
        declarations, lines = self.group
        self.group = None
        self.lines += [f"        {line}" for line in _joined(declarations)]
        self.lines.append("        for (int s = 0; s < m; s++) {")
        self.lines += [f"            {line}" for line in lines]
        self.lines.append("        }")

    def _loop(self, declaration, loops):
        """Declaration and loops of one vector item, after the open loop over samples."""
        self._flush()
        if declaration:
            self.lines.append(f"        {declaration}")
        self.lines += [f"        {line}" for line in loops]

    # ---- forward ------------------------------------------------------------------------
    def _forward(self, item):
        if not isinstance(item, Vector):
            rhs = render(item, self.code, leaf, self.template)  # from its operands
            name = self.names[item]
            self._in_group(f"{name}[s] = {rhs};", self._declare(name, 1))
            return
        name, rows = self.vname(item), len(item.rows)
        declaration = self._declare(name, rows)
        if isinstance(item, Stack):
            values = [f"{_at(name, rows, j)} = {self.text(node)};"
                      for j, node in enumerate(item.rows)]
            self._in_group(f"// {name}: {rows} values stacked as rows", declaration)
            for line in values:
                self._in_group(line)
            return
        source = self.vname(item.source)
        terms = len(item.source.rows)
        if isinstance(item, Map):
            row = item.rows[0]
            op = self.text(row, {row.args[0]: _at(source, rows, "r")})
            self._loop(f"{declaration}  // {item.op}({source}) row by row",
                       ["for (int s = 0; s < m; s++)",
                        f"    for (int r = 0; r < {rows}; r++) {_at(name, rows, 'r')} = {op};"])
            return
        weights, copy = item.weights_name, self.copies[item, "W"]
        start = "b + " if item.bias is not None else ""
        bias = f"{self.copies[item, 'b']}[r]" if item.bias is not None else "0.0"
        plural = "s" if rows > 1 else ""
        note = (f"  // {rows} row{plural} of {start}w·{source}, {terms} terms each ({weights}), "
                "per sample")
        inputs = _at(source, terms, "c")
        if rows == 1:  # one sum per sample
            bias = f"{self.copies[item, 'b']}[0]" if item.bias is not None else "0.0"
            self._loop(declaration + note, [
                "for (int s = 0; s < m; s++) {",
                f"    double sum = {bias};",
                f"    for (int c = 0; c < {terms}; c++) sum += {copy}[c] * {inputs};",
                f"    {name}[s] = sum;", "}"])
            return
        # Column by column, every row at once: independent sums, each in micrograd's order.
        out = _at(name, rows, "r")
        self._loop(declaration + note, [
            "for (int s = 0; s < m; s++)",
            f"    for (int r = 0; r < {rows}; r++) {out} = {bias};",
            f"for (int c = 0; c < {terms}; c++)",
            "    for (int s = 0; s < m; s++)",
            f"        for (int r = 0; r < {rows}; r++) {out} += {copy}[{rows}*c + r] * {inputs};"])

    # ---- backward -----------------------------------------------------------------------
    def _grad_name(self, name):
        return self.allocate.fresh("grad_" + name.split("[")[0])

    def _vector_grad(self, vector, zero=True):
        """The gradient array of ``vector``: (name, declared before)."""
        if vector.name in self.grads:
            return self.grads[vector.name], True
        name = self.grads[vector.name] = self._grad_name(self.vname(vector))
        declaration = self._declare(name, len(vector.rows), zero)
        if self.group is not None:
            self.group[0].append(declaration)
        else:
            self.lines.append(f"        {declaration}")
        return name, False

    def _accumulate(self, node, contribution, note=""):
        """Add ``contribution`` to the gradient of ``node``, in the loop over samples."""
        if node not in self.needs:
            return
        note = f"  // {_comment(note)}" if note else ""
        if node in self.param:
            self._in_group(f"G[{self.param[node]}] += {contribution};{note}")
        elif node in self.row_of:
            vector, index = self.row_of[node]
            if self.group is None:
                self.group = ([], [])
            name, _ = self._vector_grad(vector)
            self._in_group(f"{_at(name, len(vector.rows), index)} += {contribution};{note}")
        elif node in self.grads:
            self._in_group(f"{self.grads[node]}[s] += {contribution};{note}")
        else:
            name = self.grads[node] = self._grad_name(self.names[node])
            self._in_group(f"{name}[s] = {contribution};{note}", self._declare(name, 1))

    def _product(self, grad, local, names=None):
        names = self.code if names is None else names
        return contribution(grad, local, lambda local: c_factor(local, names, self.template))

    def _backward_scalar(self, node):
        grad, names = f"{self.grads[node]}[s]", self.names
        op = OPS[node.op]
        self._in_group(f"// {names[node]} = {_comment(to_text(node, names))}  "
                       f"[{_comment(op.rule)}]")
        for step in self.steps.get(node, ()):
            note = (f"{op.name}: d {names[node]}/d {names[step.operand]} = "
                    f"{names.get(step.local) or to_text(step.local, names, limit=60)}")
            self._accumulate(step.operand, self._product(grad, step.local), note)

    def _row(self, array, rows, index):
        return _at(array, rows, index)

    def _backward_map(self, vector, grad):
        """Every row's step is the same rule: the first row's local, printed over row r."""
        source, op = vector.source, OPS[vector.op]
        found = self._map_step(vector)
        if found is None:
            return  # no parameter below the source: nothing to pass on
        row, step = found
        local = step.local
        name, src = self.vname(vector), self.vname(source)
        rows = len(vector.rows)
        names = {**self.code, row: _at(name, rows, "r"), row.args[0]: _at(src, rows, "r")}
        self._flush()
        self.lines.append(f"        // {name} = {op.name}({src}), row by row  "
                          f"[{_comment(op.rule)}]")
        target, declared = self._vector_grad(source, zero=False)
        sign = "+=" if declared else "="
        plain = {**self.names, row: name, row.args[0]: src}  # for the comment: no [r]
        note = f"{op.name}: d {name}/d {src} = {plain.get(local) or to_text(local, plain, 60)}"
        product = self._product(_at(grad, rows, "r"), local, names)
        self._loop(None, ["for (int s = 0; s < m; s++)",
                          f"    for (int r = 0; r < {rows}; r++) {_at(target, rows, 'r')} "
                          f"{sign} {product};  // {_comment(note)}"])

    def _backward_dense(self, vector, grad):
        """The add and mul steps of every row's chain b + w0*v0 + ..., as loops.

        Row by row, the samples in order: a weight row's gradient is read once per block.
        """
        source, weights = vector.source, vector.weights_name
        name, src = self.vname(vector), self.vname(source)
        rows, terms = len(vector.rows), len(source.rows)
        g = _at(grad, rows, "r")
        self._flush()
        self.lines.append(f"        // {name} = {weights}·{src}"
                          f"{' + ' + vector.bias_name if vector.bias is not None else ''}  "
                          "[each row is b + w0*v0 + w1*v1 + ...: d/db = 1, d/dw = v, d/dv = w]")
        loop = [f"for (int r = 0; r < {rows}; r++)", "    for (int s = 0; s < m; s++) {"]
        if vector.bias is not None:
            loop.append(f"        {self._ref(vector, 'b', True)} += {g};"
                        f"  // add: d {name}/d {vector.bias_name} = 1")
        loop += [f"        for (int c = 0; c < {terms}; c++) {self._ref(vector, 'W', True)} += "
                 f"{g} * {_at(src, terms, 'c')};  // mul: d {name}/d {weights} = {src}", "    }"]
        self._loop(None, loop)
        if any(r in self.needs for r in source.rows):
            target, _ = self._vector_grad(source)
            self._loop(None, [
                f"for (int r = 0; r < {rows}; r++)",
                "    for (int s = 0; s < m; s++)",
                f"        for (int c = 0; c < {terms}; c++) {_at(target, terms, 'c')} += "
                f"{self._ref(vector, 'W')} * {g};  // mul: d {name}/d {src} = {weights}"])


def load(library, kind):
    """The built ``kind``, called with one sample per row: ``f(P, X, Y)``.

    ``X`` is (batch, inputs) and ``Y`` (batch,) or (batch, targets), as the user
    passes them: the C reads them as they are.  ``loss`` takes the L2 weight too,
    ``f(P, X, Y, l2) -> (value, G)``, and ``step`` updates ``P`` in place,
    ``f(P, X, Y, l2, rate) -> value`` (the loss before).  Shapes are checked
    here: the C trusts them.
    """
    import ctypes

    handle = ctypes.CDLL(library)  # releases the GIL while the loop runs
    n_params, n_inputs, n_targets = (ctypes.c_int * 3).in_dll(handle, SIZES)
    # No argtypes: every argument is passed as a ctypes object (a third of the call's cost).
    function = handle[FUNCTION_NAMES[kind]]
    function.restype = ctypes.c_int
    as_array, empty, float64 = np.ascontiguousarray, np.empty, np.dtype(np.float64)
    double, byref = ctypes.c_double, ctypes.byref
    view = (ctypes.c_double * 0).from_buffer  # cheaper than .ctypes.data

    def memory(array):
        try:
            return view(array)
        except TypeError:  # a read-only array: the C reads a copy
            return view(array.copy())

    def arrays(P, X, Y):
        P, X = as_array(P, dtype=float64), as_array(X, dtype=float64)
        n = len(X) if X.ndim == 2 else -1
        if P.shape != (n_params,) or X.shape != (n, n_inputs):
            raise LossShapeError(f"the compiled loss takes {n_params} parameters and samples of "
                                 f"{n_inputs} inputs; got {P.size} parameters and samples of "
                                 f"{X.shape[1] if X.ndim == 2 else '?'} inputs")
        expected = (n,) if n_targets == 1 else (n, n_targets)
        Y = np.zeros(expected) if Y is None else as_array(Y, dtype=float64)
        if Y.shape != expected:
            raise LossShapeError(f"the compiled loss takes {n_targets} target"
                                 f"{'s' if n_targets != 1 else ''} per sample for {n} samples; "
                                 f"got targets of shape {Y.shape}")
        return memory(P), memory(X), memory(Y), n

    def checked(status):
        if status != 0:
            raise MemoryError("the compiled loss could not allocate its copy of the weights")

    if kind == "loss":
        def loss_and_grad(P, X, Y, l2=0.0):
            P, X, Y, n = arrays(P, X, Y)
            G, mean = empty(n_params), double()
            checked(function(P, X, Y, n, double(l2), view(G), byref(mean)))
            return mean.value, G
        return loss_and_grad

    if kind == "step":
        def sgd_step(P, X, Y, l2, rate):
            if not (isinstance(P, np.ndarray) and P.dtype == float64 and P.flags.writeable):
                raise TypeError("step updates params in place: pass a writeable float64 NumPy "
                                "vector (loss.parameters() gives one)")
            if not P.flags.c_contiguous:  # the C updates a contiguous copy, written back
                contiguous = P.copy()
                value = sgd_step(contiguous, X, Y, l2, rate)
                P[...] = contiguous
                return value
            P, X, Y, n = arrays(P, X, Y)  # P: a view of the caller's array, written in place
            G, mean = empty(n_params), double()
            checked(function(P, X, Y, n, double(l2), double(rate), view(G), byref(mean)))
            return mean.value
        return sgd_step

    def loss_values(P, X, Y):
        P, X, Y, n = arrays(P, X, Y)
        V = empty(n)
        checked(function(P, X, Y, n, view(V)))
        return V
    return loss_values
