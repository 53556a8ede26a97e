"""The C backend's compiled losses: a loss program's layer plan printed as one C function.

``loss_and_grad(P, X, Y, n, G)`` returns the mean loss over ``n`` samples and
writes the flat gradient into ``G``, with no Python between layers.  It runs
sample by sample: per sample, every item of the plan forward, then backward,
adding into ``G``; a small layer's arrays (``t2[16]``, ``grad_t2[16]``) stay in
L1.  Arrays are sample-major: ``X[i*NX + k]`` is input ``k`` of sample ``i``,
``Y[i*NY + j]`` its target ``j``.  ``loss_values(P, X, Y, n, V)`` writes the
value per sample into ``V``.

The text reads like the NumPy loss (``numpy_loss``): the same names from the
plan (``t1``, ``W1``, ``grad_t2``), the same rule comments.  Scalar items and
lifted operators print through the table's ``c`` templates; a dense item is two
loops: ``b + w0*v0 + w1*v1 + ...`` per row, summed in that order (micrograd's),
and its backward steps (``add``: 1; ``mul``: ``y`` and ``x``) as loops adding
into ``G`` and into the source's gradient.
"""

import numpy as np

from ..core import ir
from ..core.errors import SymgradError
from ..core.ops import OPS
from ..core.printer import render, to_text
from .c_syntax import comment as _comment, literal
from .layers import PlanPrinter, Vector, plan

FUNCTION_NAMES = {"loss": "loss_and_grad", "loss_values": "loss_values"}
SIZES = "symgrad_loss_sizes"  # exported: {parameters, inputs per sample, targets per sample}
# Beyond this many weights a layer no longer sits in L1 and is read along its rows
# (four at a time) instead of column by column: 1.8x on a 128x64 layer, measured.
BLOCKED_SIZE = 2048


class LossShapeError(SymgradError, ValueError):
    """Arrays of the wrong shape for a compiled loss (the C would read past them)."""


def emit(program, kind="loss"):
    """The C source of the batch loss (``kind="loss"``) or its per-sample values."""
    return CLossPrinter(plan(program), program).emit(kind)


def _layout(indices):
    """(start, row stride) when ``indices`` is ``start + stride*row + column``, else None."""
    rows, columns = indices.shape
    start = int(indices[0, 0])
    stride = int(indices[1, 0] - start) if rows > 1 else columns
    expected = start + stride * np.arange(rows)[:, None] + np.arange(columns)[None, :]
    if stride >= 1 and np.array_equal(indices, expected):
        return start, stride
    return None


class CLossPrinter(PlanPrinter):
    """C text of a ``LayerPlan``: per sample, the forward items, then the backward pass."""

    def __init__(self, layers, program):
        self.plan, self.program = layers, program
        self.steps, self.needs = layers.steps, layers.needs
        self.row_of, self.param, self.root = layers.row_of, layers.param, layers.root
        self.used, self.constants = set(), []
        self.names = dict(layers.names)
        variables = program.variables
        self.n_params = len(self.param)
        self.n_inputs = sum(1 for name in variables if name[0] == "x")
        targets = [name for name in variables if name[0] == "y"]
        self.n_targets = len(targets)
        # Per sample, ``x`` and ``y`` point at its inputs and targets.
        for k in range(self.n_inputs):
            self.names[ir.var(f"x{k}")] = f"x[{k}]"
        for j, name in enumerate(targets):
            self.names[ir.var(name)] = f"y[{j}]"
        self.vector_names = {"X": "x"}

    # ---- text helpers ----------------------------------------------------------------
    def template(self, op, node):
        if op.c_helper is not None:
            self.used.add(op.name)
        return op.c

    def text(self, node, names=None):
        """A node over the C names: a forward operation, or a local derivative."""
        names = self.names if names is None else names
        if node in names:
            return names[node]
        return render(node, names, self._literal, self.template)

    @staticmethod
    def _literal(node):
        return literal(node.value)

    def vname(self, vector):
        return self.vector_names.get(vector.name, vector.name)

    def _parts(self, vector):
        """C declarations of a dense item's weights and biases; how to index them by r, c."""
        lines = []
        for label, indices in (("W", vector.weights), ("b", vector.bias)):
            if indices is None:
                continue
            name = vector.extra[label]
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
                lines.append(f"    double *grad_{name} = G + {start};")
                vector.extra[label + "_at"] = (name, f"grad_{name}", index)
            else:  # another layout: an index array written into the source
                k = len(self.constants)
                self.constants.append(indices.ravel())
                index = f"K{k}[{columns}*r + c]" if label == "W" else f"K{k}[r]"
                lines.append(f"    // {name}: P at the index array K{k} ({rows}x{columns})")
                vector.extra[label + "_at"] = ("P", "G", index)
        return lines

    @staticmethod
    def _ref(vector, label, gradient=False):
        """A weight (``label`` "W") or bias ("b") of row r, column c; or its gradient."""
        value, grad, index = vector.extra[label + "_at"]
        return f"{grad if gradient else value}[{index}]"

    # ---- the function ------------------------------------------------------------------
    def emit(self, kind):
        gradients = kind == "loss"
        items = self.plan.items
        setup = []
        for item in items:
            if isinstance(item, Vector) and item.kind == "dense":
                setup += self._parts(item)
        body = ["        // forward pass"]
        for item in items:
            body += self._forward(item)
        root = self.text(self.root)
        if gradients:
            body.append(f"        value += {root};  // the sum; the mean is value / n")
            self.lines, self.grads = [], {}
            self.lines.append("        // backward pass: the chain rule, from the mean back to P")
            self._accumulate(self.root, "1.0 / n", "d value/d out = 1/n")
            for item in reversed(items):
                if isinstance(item, Vector):
                    self._backward_vector(item)
                elif item in self.grads:
                    self._backward_scalar(item)
            body += self.lines
        else:
            body.append(f"        V[i] = {root};")
            setup = [line for line in setup if "grad_" not in line]
        return self._module(kind, setup, body)

    def _module(self, kind, setup, body):
        helpers = [OPS[name].c_helper for name in sorted(self.used)]
        label = _comment(self.program.describe(self.root, 60))
        arrays = [f"static const int K{k}[{len(a)}] = {{{', '.join(map(str, a.tolist()))}}};"
                  for k, a in enumerate(self.constants)]
        sizes = (self.n_params, self.n_inputs, self.n_targets)
        head = [f"// symgrad: compiled loss of {label}",
                "#include <math.h>", "#include <string.h>", ""] + helpers + [
                f"const int {SIZES}[3] = {{{', '.join(map(str, sizes))}}};"
                "  // parameters, inputs and targets per sample"] + arrays + [""]
        doc = ["// P: the flat parameters; X[i*NX + k]: input k of sample i (sample-major);",
               "// Y[i*NY + j]: target j of sample i."]
        per_sample = [f"        const double *x = X + (long)i * {self.n_inputs};",
                      f"        const double *y = Y + (long)i * {self.n_targets};"]
        if kind == "loss":
            lines = doc + ["// Returns the mean loss over the n samples; writes its gradient "
                           f"by P into G ({self.n_params} doubles).",
                           "double loss_and_grad(const double *restrict P, const double "
                           "*restrict X, const double *restrict Y,",
                           "                     int n, double *restrict G)", "{",
                           f"    memset(G, 0, {self.n_params} * sizeof(double));",
                           "    double value = 0.0;"]
            tail = ["    }", "    return value / n;", "}"]
        else:
            lines = doc + ["// Writes the value of each of the n samples into V.",
                           "void loss_values(const double *restrict P, const double *restrict X,"
                           " const double *restrict Y,", "                 int n, double "
                           "*restrict V)", "{"]
            tail = ["    }", "}"]
        lines += setup + ["    for (int i = 0; i < n; i++) {"] + per_sample + body + tail
        return "\n".join(head + lines) + "\n"

    # ---- forward ------------------------------------------------------------------------
    def _forward(self, item):
        if not isinstance(item, Vector):
            rhs = render(item, self.names, self._literal, self.template)  # from its operands
            return [f"        const double {self.names[item]} = {rhs};"]
        name, rows = self.vname(item), len(item.rows)
        if item.kind == "stack":
            values = ", ".join(self.names[node] for node in item.rows)
            return [f"        const double {name}[{rows}] = {{{values}}};  // {rows} values "
                    "stacked as rows"]
        source = self.vname(item.source)
        if item.kind == "map":
            row = item.rows[0]
            op = self.text(row, {row.args[0]: f"{source}[r]"})
            return [f"        double {name}[{rows}];  // {item.op}({source}) row by row",
                    f"        for (int r = 0; r < {rows}; r++) {name}[r] = {op};"]
        terms = len(item.source.rows)
        weights = item.extra["W"]
        bias = self._ref(item, "b") if item.bias is not None else "0.0"
        start = "b + " if item.bias is not None else ""
        plural = "s" if rows > 1 else ""
        head = [f"        double {name}[{rows}];  // {rows} row{plural} of {start}w·{source}, "
                f"{terms} terms each ({weights})"]
        w = self._ref(item, "W")
        if rows * terms <= BLOCKED_SIZE:
            # Column by column, every row at once: independent sums, each in micrograd's order.
            return head + [f"        for (int r = 0; r < {rows}; r++) {name}[r] = {bias};",
                           f"        for (int c = 0; c < {terms}; c++)",
                           f"            for (int r = 0; r < {rows}; r++) "
                           f"{name}[r] += {w} * {source}[c];"]
        # Four rows at a time along their weights: four independent sums, micrograd's order.
        def at(text, k):
            if k == 0:
                return text
            return text.replace("*r", f"*(r + {k})") if "*r" in text else \
                text.replace("[r", f"[r + {k}")
        lines = ["        int r = 0;",
                 f"        for (; r + 4 <= {rows}; r += 4) {{",
                        "            double " + ", ".join(f"s{k} = {at(bias, k)}" for k in range(4))
                        + ";",
                        f"            for (int c = 0; c < {terms}; c++) {{"]
        lines += [f"                s{k} += {at(w, k)} * {source}[c];" for k in range(4)]
        lines += ["            }",
                  "            " + " ".join(f"{name}[r + {k}] = s{k};" for k in range(4)),
                  "        }",
                  f"        for (; r < {rows}; r++) {{",
                  f"            double s0 = {bias};",
                  f"            for (int c = 0; c < {terms}; c++) s0 += {w} * {source}[c];",
                  f"            {name}[r] = s0;",
                  "        }"]
        return head + ["        {"] + ["    " + line for line in lines] + ["        }"]

    # ---- backward -----------------------------------------------------------------------
    def _grad_name(self, name):
        return self.plan.allocate.fresh("grad_" + name.split("[")[0])

    def _vector_grad(self, vector, zero=True):
        """The gradient array of ``vector``: (name, declared before)."""
        if vector.name in self.grads:
            return self.grads[vector.name], True
        name = self.grads[vector.name] = self._grad_name(self.vname(vector))
        rows = len(vector.rows)
        self.lines.append(f"        double {name}[{rows}]" + (" = {0.0};" if zero else ";"))
        return name, False

    def _accumulate(self, node, contribution, note=""):
        """Add ``contribution`` to the gradient of ``node``."""
        if node not in self.needs:
            return
        note = f"  // {_comment(note)}" if note else ""
        if node in self.param:
            self.lines.append(f"        G[{self.param[node]}] += {contribution};{note}")
        elif node in self.row_of:
            vector, index = self.row_of[node]
            name, _ = self._vector_grad(vector)
            self.lines.append(f"        {name}[{index}] += {contribution};{note}")
        elif node in self.grads:
            self.lines.append(f"        {self.grads[node]} += {contribution};{note}")
        else:
            self.grads[node] = self._grad_name(self.names[node])
            self.lines.append(f"        double {self.grads[node]} = {contribution};{note}")

    def _product(self, grad, local, names=None):
        if ir.is_const(local, 1.0):
            return grad
        if ir.is_const(local, -1.0):
            return f"-{grad}"
        text = self.text(local, names)
        simple = (local in (names or self.names) or not local.args
                  or OPS[local.op].c is not None)  # a name, a literal or a call
        return f"{grad} * {text}" if simple and not text.startswith("-") else \
            f"{grad} * ({text})"

    def _backward_scalar(self, node):
        grad, names = self.grads[node], self.names
        op = OPS[node.op]
        self.lines.append(f"        // {names[node]} = {_comment(to_text(node, names))}  "
                          f"[{_comment(op.rule)}]")
        for step in self.steps.get(node, ()):
            note = (f"{op.name}: d {names[node]}/d {names[step.operand]} = "
                    f"{names.get(step.local) or to_text(step.local, names, limit=60)}")
            self._accumulate(step.operand, self._product(grad, step.local), note)

    def _backward_map(self, vector, grad):
        """Every row's step is the same rule: the first row's local, printed over row r."""
        source, op = vector.source, OPS[vector.op]
        found = self._map_step(vector)
        if found is None:
            return  # no parameter below the source: nothing to pass on
        row, step = found
        local = step.local
        name, src = self.vname(vector), self.vname(source)
        names = {**self.names, row: f"{name}[r]", row.args[0]: f"{src}[r]"}
        self.lines.append(f"        // {name} = {op.name}({src}), row by row  "
                          f"[{_comment(op.rule)}]")
        target, declared = self._vector_grad(source, zero=False)
        sign = "+=" if declared else "="
        plain = {**self.names, row: name, row.args[0]: src}  # for the comment: no [r]
        note = f"{op.name}: d {name}/d {src} = {plain.get(local) or to_text(local, plain, 60)}"
        self.lines.append(f"        for (int r = 0; r < {len(vector.rows)}; r++) "
                          f"{target}[r] {sign} {self._product(f'{grad}[r]', local, names)};"
                          f"  // {_comment(note)}")

    def _backward_dense(self, vector, grad):
        """The add and mul steps of every row's chain b + w0*v0 + ..., as loops."""
        source, weights = vector.source, vector.extra["W"]
        name, src = self.vname(vector), self.vname(source)
        rows, terms = len(vector.rows), len(source.rows)
        self.lines.append(f"        // {name} = {weights}·{src}"
                          f"{' + ' + vector.extra['b'] if vector.bias is not None else ''}  "
                          "[each row is b + w0*v0 + w1*v1 + ...: d/db = 1, d/dw = v, d/dv = w]")
        self.lines.append(f"        for (int r = 0; r < {rows}; r++) {{")
        if vector.bias is not None:
            self.lines.append(f"            {self._ref(vector, 'b', True)} += {grad}[r];"
                              f"  // add: d {name}/d {vector.extra['b']} = 1")
        self.lines.append(f"            for (int c = 0; c < {terms}; c++) "
                          f"{self._ref(vector, 'W', True)} += {grad}[r] * {src}[c];"
                          f"  // mul: d {name}/d {weights} = {src}")
        self.lines.append("        }")
        if any(r in self.needs for r in source.rows):
            target, _ = self._vector_grad(source)
            self.lines += [f"        for (int r = 0; r < {rows}; r++)",
                           f"            for (int c = 0; c < {terms}; c++) {target}[c] += "
                           f"{self._ref(vector, 'W')} * {grad}[r];"
                           f"  // mul: d {name}/d {src} = {weights}"]


def load(library, kind):
    """The built ``kind`` with the NumPy loss's calling convention: ``f(P, X, Y)``.

    ``X`` is (inputs, batch) as for NumPy; its transpose, sample-major, is what the
    C reads (free when ``X`` is the transpose of a C-ordered array, as
    ``CompiledLoss`` passes it).  Shapes are checked here: the C trusts them.
    """
    import ctypes

    handle = ctypes.CDLL(library)  # releases the GIL while the loop runs
    n_params, n_inputs, n_targets = (ctypes.c_int * 3).in_dll(handle, SIZES)
    function = handle[FUNCTION_NAMES[kind]]
    function.restype = ctypes.c_double if kind == "loss" else None
    function.argtypes = (ctypes.c_void_p,) * 3 + (ctypes.c_int, ctypes.c_void_p)
    as_array, empty = np.ascontiguousarray, np.empty
    view = ctypes.c_double * 0  # a ctypes view of an array's memory: cheaper than .ctypes.data

    def pointer(array):
        try:
            return view.from_buffer(array)
        except TypeError:  # a read-only array: the C reads a copy
            return view.from_buffer(array.copy())

    def arrays(P, X, Y):
        P = as_array(P, dtype=np.float64)
        X = np.asarray(X, dtype=np.float64)
        n = X.shape[1] if X.ndim == 2 else -1
        if P.shape != (n_params,) or X.shape != (n_inputs, n):
            raise LossShapeError(f"the compiled loss takes {n_params} parameters and samples of "
                                 f"{n_inputs} inputs; got {P.size} parameters and samples of "
                                 f"{X.shape[0] if X.ndim == 2 else '?'} inputs")
        expected = (n,) if n_targets == 1 else (n_targets, n)
        Y = np.zeros(expected) if Y is None else np.asarray(Y, dtype=np.float64)
        if Y.shape != expected:
            raise LossShapeError(f"the compiled loss takes {n_targets} target"
                                 f"{'s' if n_targets != 1 else ''} per sample for {n} samples; "
                                 f"got targets of shape {Y.T.shape}")
        return P, as_array(X.T), as_array(Y.T), n  # sample-major

    if kind == "loss":
        def loss_and_grad(P, X, Y):
            P, X, Y, n = arrays(P, X, Y)
            G = empty(n_params)
            value = function(pointer(P), pointer(X), pointer(Y), n, pointer(G))
            return value, G
        return loss_and_grad

    def loss_values(P, X, Y):
        P, X, Y, n = arrays(P, X, Y)
        V = empty(n)
        function(pointer(P), pointer(X), pointer(Y), n, pointer(V))
        return V
    return loss_values
