"""The C backend's compiled losses: a loss program's layer plan printed as one C function.

Its functions (``loss_and_grad``, ``loss_values``) say what they do
in the C (``LOSS``, ``VALUES``).  Samples go through in blocks: per block, every
item of the plan forward, then backward.  A block's arrays are sample-major
(``t2[16*s + r]``: row ``r`` of sample ``s``), so every loop over a layer's rows
or columns runs over contiguous memory a fixed number of times: the compiler
vectorises it without reordering any sum.  The forward pass reads each layer's
weights column by column from a transposed copy made once per call (``W2T``);
the backward pass reads them in ``P``'s own rows.  Names and comments are the
NumPy loss's; a dense item's sums run in micrograd's order, ``b + w0*v0 + ...``.
"""

from string import Template

import numpy as np

from ..core import ir
from ..core.errors import SymgradError
from ..core.ops import OPS
from ..core.printer import to_text
from . import Artifact
from .c_syntax import CSpelling, comment as _comment
from ..core.loss_plan import Dense, Input, LayerPlan, Map, Stack, Vector, regular
from .loss_printer import PlanPrinter

FUNCTION_NAMES = {"loss": "loss_and_grad", "loss_values": "loss_values"}
PARAMS = {"loss": ("P", "X", "Y", "n", "l2", "G", "mean"), "loss_values": ("P", "X", "Y", "n", "V")}
SIZES = "symgrad_loss_sizes"  # exported: {parameters, inputs per sample, targets per sample}
# Samples per block: at most this many, fewer where one sample's arrays are large, so a
# block's arrays (on the stack) stay within BLOCK_DOUBLES, 128 KB.  Measured on the moons
# model: blocks of 4 to 32 samples within the noise of each other.
MAX_BLOCK = 16
BLOCK_DOUBLES = 16384
HEAD = Template("""\
$declarations
enum { BLOCK = $block };  // samples per block

// P: the flat parameters; X[i*NX + k]: input k of sample i (sample-major);
// Y[i*NY + j]: target j of sample i.  Returns 0, or 1 when out of memory.
""")
LOSS = Template("""\
// Writes the mean loss over the n samples plus l2 * sum(P[k]^2) into *mean,
// its gradient by P into G ($n doubles).
int loss_and_grad(const double *restrict P, const double *restrict X, const double *restrict Y,
                  int n, double l2, double *restrict G, double *restrict mean)
{
    memset(G, 0, $n * sizeof(double));
    double value = 0.0;
$body
    double squares = 0.0;  // the L2 term: d/dP[k] l2*P[k]^2 = 2*l2*P[k]
    if (l2 != 0.0)
        for (int k = 0; k < $n; k++) {
            squares += P[k] * P[k];
            G[k] += 2.0 * l2 * P[k];
        }
    *mean = value / n + l2 * squares;
    return 0;
}
""")
VALUES = Template("""\
// Writes the value of each of the n samples into V.
int loss_values(const double *restrict P, const double *restrict X, const double *restrict Y,
                int n, double *restrict V)
{
$body
    return 0;
}
""")
BACKWARD = "        // backward pass: the chain rule, from the mean back to P"
# Where loss_and_grad opens, its body goes and its mean is written, in LOSS's own lines:
# with the body's length they give the artifact's sections, and nothing reads the output.
_LOSS_LINES = LOSS.template.split("\n")
_OPEN, _BODY = _LOSS_LINES.index("{"), _LOSS_LINES.index("$body")
_MEAN = _LOSS_LINES.index("    *mean = value / n + l2 * squares;")


class LossShapeError(SymgradError, ValueError):
    """Arrays of the wrong shape for a compiled loss (the C would read past them)."""


def emit(loss, kind="loss"):
    """The artifact of the batch loss (``kind="loss"``) or its per-sample values
    ("loss_values")."""
    printer = CLossPrinter(LayerPlan(loss))
    source = printer.emit(kind)
    outputs = ("V",) if kind == "loss_values" else ("mean", "G")
    return Artifact(source, FUNCTION_NAMES[kind], PARAMS[kind], outputs, printer.sections,
                    kind, "c")


def _at(name, rows, index):
    """Row ``index`` (C text) of sample ``s`` in a block array of ``rows`` rows."""
    return f"{name}[s]" if rows == 1 else f"{name}[{rows}*s + {index}]"


def _joined(declarations):
    """Declarations of plain ``double name[BLOCK]`` arrays joined, lines of up to 100
    characters once indented."""
    plain = [d[len("double "):-1] for d in declarations if d.endswith("[BLOCK];")]
    lines, line = [d for d in declarations if not d.endswith("[BLOCK];")], ""
    for name in plain:
        if line and len(line) + len(name) + 3 > 92:
            lines.append(line + ";")
            line = ""
        line = f"{line}, {name}" if line else f"double {name}"
    return lines + ([line + ";"] if line else [])


def _block_start(array, whole, count, index):
    """The line pointing ``array`` at the block's first sample in ``whole``."""
    start = "i" if count == 1 else f"(long)i * {count}"
    return (f"        const double *{array} = {whole} + {start};"
            f"  // sample s: {_at(array, count, index)}")


class CLossPrinter(PlanPrinter):
    """C text of a ``LayerPlan``: per block of samples, the forward items, then the backward."""

    def __init__(self, layers):
        super().__init__(layers)
        self.spell, self.constants = CSpelling(), []  # constants: the index arrays K0, K1...
        signature = layers.signature
        self.sizes = (len(self.param), len(signature.inputs), len(signature.targets))
        # How to read each dense item's weights and biases (see _parts), and their copies.
        self.ref, self.copies = {}, {}
        # In the code, a value is its block array at sample s: t1[s], t6[s], x[2*s + 1].
        self.code = {node: text for node, text in self.names.items() if node in self.param}
        for array, names in (("x", signature.inputs), ("y", signature.targets)):
            for k, name in enumerate(names):
                self.names[ir.var(name)] = f"{array}[{k}]"
                self.code[ir.var(name)] = _at(array, len(names), k)
        self.code.update((item, f"{self.names[item]}[s]") for item in layers.items
                         if not isinstance(item, Vector))
        self.code.update((node, _at(vector.name, len(vector.rows), index))
                         for node, (vector, index) in self.row_of.items()
                         if not isinstance(vector, Input))
        self.sections, self.per_sample = {}, 0  # per_sample: doubles in a sample's arrays

    def _vname(self, vector):
        return "x" if isinstance(vector, Input) else vector.name

    _row = staticmethod(_at)

    def _declare(self, name, rows, zero=False):
        """A block array: ``rows`` doubles per sample."""
        self.per_sample += rows
        size = "BLOCK" if rows == 1 else f"BLOCK*{rows}"
        return f"double {name}[{size}]" + (" = {0.0};" if zero else ";")

    def _parts(self, vector, gradients):
        """C declarations of a dense item's weights and biases (and their gradients' if
        ``gradients``); ``ref`` says how to read either, and its gradient, at r, c."""
        lines = []
        for label, name, indices in (("W", vector.weights_name, vector.weights),
                                     ("b", vector.bias_name, vector.bias)):
            if indices is None:
                continue
            rows, columns = indices.shape
            found = regular(indices)
            if found is None:  # an index array written into the source
                k = len(self.constants)
                self.constants.append(indices.ravel())
                index = f"K{k}[{columns}*r + c]" if label == "W" else f"K{k}[r]"
                lines.append(f"    // {name}: P at the index array K{k} ({rows}x{columns})")
                self.ref[vector, label] = (f"P[{index}]", f"G[{index}]")
                continue
            start, stride = found
            row = "r" if stride == 1 else f"{stride}*r"
            index = f"{row} + c" if label == "W" else row
            where = f"row r{', column c' if label == 'W' else ''} at {name}[{index}]"
            lines.append(f"    const double *{name} = P + {start};  // {rows}x{columns}, {where}")
            if gradients:
                lines.append(f"    double *grad_{name} = G + {start};")
            self.ref[vector, label] = (f"{name}[{index}]", f"grad_{name}[{index}]")
        return lines

    def _copies(self, dense):
        """The lines making the transposed copies the forward pass reads, if any."""
        declarations, loops, offset = [], [], 0
        for vector in dense:
            rows, terms = len(vector.rows), len(vector.source.rows)
            weights = vector.weights_name
            copy = self.copies[vector, "W"] = self.allocate.fresh(weights + "T")
            at = f"{copy}[{rows}*c + r]" if rows > 1 else f"{copy}[c]"
            declarations.append(f"    double *{copy} = T + {offset};  // {at} = {weights} row r, "
                                "column c")
            offset += rows * terms
            body = [f"for (int c = 0; c < {terms}; c++) {at} = {self.ref[vector, 'W'][0]};"]
            if vector.bias is not None:
                bias = self.copies[vector, "b"] = self.allocate.fresh(vector.bias_name + "T")
                declarations.append(f"    double *{bias} = T + {offset};  // {bias}[r] = "
                                    f"{vector.bias_name} row r")
                offset += rows
                body.insert(0, f"{bias}[r] = {self.ref[vector, 'b'][0]};")
            loops += [f"    for (int r = 0; r < {rows}; r++) {{"] + \
                [f"        {line}" for line in body] + ["    }"]
        if not offset:
            return []
        return ["    // The forward pass reads each layer's weights column by column: "
                        "copies, made once.", f"    double *T = malloc({offset} * sizeof(double));",
                        "    if (T == NULL) return 1;"] + declarations + loops

    # ---- the function ------------------------------------------------------------------
    def emit(self, kind):
        gradients = kind == "loss"
        items = self.plan.items
        dense = [item for item in items if isinstance(item, Dense)]
        setup = [line for vector in dense for line in self._parts(vector, gradients)]
        copies = self._copies(dense)
        self.lines, self.declarations, self.group = ["        // forward pass"], [], []
        for item in items:
            self._forward(item)
        root = self.spell.text(self.root, self.code)
        if gradients:
            self._in_group(f"value += {root};  // the sum; the mean is value / n")
            self._flush()
            self.lines.append(BACKWARD)
            self._accumulate(self.root, "1.0 / n", "d value/d out = 1/n")
            self._backward_items(items)
        else:
            self._in_group(f"V[i + s] = {root};")
        self._flush()
        n_params, n_inputs, n_targets = self.sizes
        body = setup + copies + [
            "    for (int i = 0; i < n; i += BLOCK) {",
            "        const int m = n - i < BLOCK ? n - i : BLOCK;  // samples in this block",
            _block_start("x", "X", n_inputs, "k"), _block_start("y", "Y", n_targets, "j"),
            *self.lines, "    }"] + (["    free(T);"] if copies else [])
        block = max(1, min(MAX_BLOCK, BLOCK_DOUBLES // max(1, self.per_sample)))
        declarations = self.spell.head("compiled loss", self.plan.program,
                                       ("math.h", "stdlib.h", "string.h")) + [
            f"const int {SIZES}[3] = {{{', '.join(map(str, self.sizes))}}};"
            "  // parameters, inputs and targets per sample"] + [
            f"static const int K{k}[{len(a)}] = {{{', '.join(map(str, a.tolist()))}}};"
            for k, a in enumerate(self.constants)]
        function = LOSS if gradients else VALUES
        head = HEAD.substitute(declarations="\n".join(declarations), block=block)
        source = head + function.substitute(n=n_params, body="\n".join(body))
        if gradients:  # the lines where the forward pass, the backward pass, the rest begin
            top = head.count("\n")  # LOSS starts on this line (0-based)
            before = body[:body.index(BACKWARD)]
            backward = top + _BODY + sum(part.count("\n") + 1 for part in before)
            extra = sum(part.count("\n") for part in body) + len(body) - 1  # beyond $body's
            self.sections = {"forward": top + _OPEN + 1, "backward": backward + 1,
                             "end": top + _MEAN + extra + 2}
        return source

    # ---- loops over the block's samples ----------------------------------------------
    def _in_group(self, line, declaration=None):
        """A line inside the open loop over the block's samples."""
        if declaration is not None:
            self.declarations.append(declaration)
        self.group.append(line)

    def _flush(self):
        """The open loop over samples, after the declarations waiting."""
        self.lines += [f"        {line}" for line in _joined(self.declarations)]
        if self.group:
            self.lines += ["        for (int s = 0; s < m; s++) {",
                           *(f"            {line}" for line in self.group), "        }"]
        self.declarations, self.group = [], []

    def _loop(self, declaration, loops):
        """Declaration and loops of one vector item, after the open loop over samples."""
        self._flush()
        if declaration:
            self.lines.append(f"        {declaration}")
        self.lines += [f"        {line}" for line in loops]

    # ---- forward ------------------------------------------------------------------------
    def _forward(self, item):
        if not isinstance(item, Vector):
            name = self.names[item]
            self._in_group(f"{name}[s] = {self.spell.render(item, self.code)};",
                           self._declare(name, 1))
            return
        name, rows = self._vname(item), len(item.rows)
        declaration = self._declare(name, rows)
        if isinstance(item, Stack):
            self._in_group(f"// {name}: {self._describe(item)}", declaration)
            for j, node in enumerate(item.rows):
                self._in_group(f"{_at(name, rows, j)} = {self.spell.text(node, self.code)};")
            return
        source, terms = self._vname(item.source), len(item.source.rows)
        if isinstance(item, Map):
            row = item.rows[0]
            op = self.spell.text(row, {row.args[0]: _at(source, rows, "r")})
            self._loop(f"{declaration}  // {self._describe(item)}",
                       ["for (int s = 0; s < m; s++)",
                        f"    for (int r = 0; r < {rows}; r++) {_at(name, rows, 'r')} = {op};"])
            return
        copy, bias = self.copies[item, "W"], self.copies.get((item, "b"))
        note = f"  // {self._describe(item)} ({item.weights_name}), per sample"
        inputs = _at(source, terms, "c")
        if rows == 1:  # one sum per sample
            self._loop(declaration + note, [
                "for (int s = 0; s < m; s++) {",
                f"    double sum = {f'{bias}[0]' if bias else '0.0'};",
                f"    for (int c = 0; c < {terms}; c++) sum += {copy}[c] * {inputs};",
                f"    {name}[s] = sum;", "}"])
            return
        # Column by column, every row at once: independent sums, each in micrograd's order.
        out = _at(name, rows, "r")
        self._loop(declaration + note, [
            "for (int s = 0; s < m; s++)",
            f"    for (int r = 0; r < {rows}; r++) {out} = {f'{bias}[r]' if bias else '0.0'};",
            f"for (int c = 0; c < {terms}; c++)",
            "    for (int s = 0; s < m; s++)",
            f"        for (int r = 0; r < {rows}; r++) {out} += {copy}[{rows}*c + r] * {inputs};"])

    # ---- backward -----------------------------------------------------------------------
    def _vector_grad(self, vector, zero=True):
        """The gradient array of ``vector``: (name, declared before)."""
        if vector.name in self.grads:
            return self.grads[vector.name], True
        name = self.grads[vector.name] = self._grad_name(self._vname(vector))
        self.declarations.append(self._declare(name, len(vector.rows), zero))
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
            name, _ = self._vector_grad(vector)
            self._in_group(f"{_at(name, len(vector.rows), index)} += {contribution};{note}")
        elif node in self.grads:
            self._in_group(f"{self.grads[node]}[s] += {contribution};{note}")
        else:
            name = self.grads[node] = self._grad_name(self.names[node])
            self._in_group(f"{name}[s] = {contribution};{note}", self._declare(name, 1))

    def _backward_scalar(self, node):
        names, rule = self.names, _comment(OPS[node.op].rule)
        self._in_group(f"// {names[node]} = {_comment(to_text(node, names))}  [{rule}]")
        grad = f"{self.grads[node]}[s]"
        for step in self.steps.get(node, ()):
            self._accumulate(step.operand, self._product(grad, step.local, self.code),
                             self._step_note(node, step, names))

    def _backward_map(self, vector, grad):
        """Every row's step is the same rule: the first row's local, printed over row r."""
        found = self.plan.map_step(vector)
        if found is None:
            return  # no parameter below the source: nothing to pass on
        row, step = found
        name, src, rows = self._vname(vector), self._vname(vector.source), len(vector.rows)
        self._flush()
        self.lines.append(f"        // {name} = {vector.op}({src}), row by row  "
                          f"[{_comment(OPS[vector.op].rule)}]")
        target, declared = self._vector_grad(vector.source, zero=False)
        note = self._step_note(row, step, {**self.names, row: name, row.args[0]: src})
        names = {**self.code, row: _at(name, rows, "r"), row.args[0]: _at(src, rows, "r")}
        product = self._product(_at(grad, rows, "r"), step.local, names)
        self._loop(None, ["for (int s = 0; s < m; s++)",
                          f"    for (int r = 0; r < {rows}; r++) {_at(target, rows, 'r')} "
                          f"{'+=' if declared else '='} {product};  // {_comment(note)}"])

    def _backward_dense(self, vector, grad):
        """The add and mul steps of every row's chain b + w0*v0 + ..., as loops.

        Row by row, the samples in order: a weight row's gradient is read once per block.
        """
        source, weights = vector.source, vector.weights_name
        name, src = self._vname(vector), self._vname(source)
        rows, terms = len(vector.rows), len(source.rows)
        g = _at(grad, rows, "r")
        bias = f" + {vector.bias_name}" if vector.bias is not None else ""
        self._flush()
        self.lines.append(f"        // {self._dense_rule(vector, f'{weights}·{src}{bias}')}")
        loop = [f"for (int r = 0; r < {rows}; r++)", "    for (int s = 0; s < m; s++) {"]
        if vector.bias is not None:
            loop.append(f"        {self.ref[vector, 'b'][1]} += {g};"
                        f"  // add: d {name}/d {vector.bias_name} = 1")
        loop += [f"        for (int c = 0; c < {terms}; c++) {self.ref[vector, 'W'][1]} += "
                 f"{g} * {_at(src, terms, 'c')};  // mul: d {name}/d {weights} = {src}", "    }"]
        self._loop(None, loop)
        if any(r in self.needs for r in source.rows):
            target, _ = self._vector_grad(source)
            self._loop(None, [
                f"for (int r = 0; r < {rows}; r++)",
                "    for (int s = 0; s < m; s++)",
                f"        for (int c = 0; c < {terms}; c++) {_at(target, terms, 'c')} += "
                f"{self.ref[vector, 'W'][0]} * {g};  // mul: d {name}/d {src} = {weights}"])


def load(library, kind):
    """The built ``kind``: ``loss(P, X, Y, l2=0.0) -> (value, G)`` or
    ``loss_values(P, X, Y) -> V``, from the ``ctypes.CDLL`` ``library`` (which releases
    the GIL while the loop runs).

    ``X`` is (batch, inputs) and ``Y`` (batch,) or (batch, targets), as the user passes
    them: the C reads them as they are.  Shapes are checked here: the C trusts them.
    """
    import ctypes

    n_params, n_inputs, n_targets = (ctypes.c_int * 3).in_dll(library, SIZES)
    # No argtypes: every argument is passed as a ctypes object (a third of the call's cost).
    function = library[FUNCTION_NAMES[kind]]
    function.restype = ctypes.c_int
    as_array, empty, float64 = np.ascontiguousarray, np.empty, np.dtype(np.float64)
    double, byref = ctypes.c_double, ctypes.byref
    view = (ctypes.c_double * 0).from_buffer  # cheaper than .ctypes.data

    def memory(array):
        try:
            return view(array)
        except TypeError:  # a read-only array: the C reads a copy
            return view(array.copy())

    def call(P, X, Y, l2=0.0):
        """The C run on the arrays once checked (``l2``: the loss's only)."""
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
        P, X, Y = memory(P), memory(X), memory(Y)
        if kind == "loss_values":
            out = empty(n)
            status = function(P, X, Y, n, view(out))
        else:
            G, mean = empty(n_params), double()
            status = function(P, X, Y, n, double(l2), view(G), byref(mean))
            out = mean.value, G
        if status != 0:
            raise MemoryError("the compiled loss could not allocate its copy of the weights")
        return out

    return call
