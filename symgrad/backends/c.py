"""The C backend: a program printed as C, built by the system compiler, called from Python.

Scalar functions (``value_and_grad``, ``value``) load as a CPython extension
(``c_ext``: a call costs about what a call of a builtin does) where Python's
headers are installed, else through ``ctypes`` with a small Python wrapper;
batches and losses always go through ``ctypes``, whose cost their long calls hide.

Adding a backend, with this one as the example: give each ``Op`` row a template
column for the target (here ``c``, plus ``c_helper`` for the few operators C
lacks), print ``program.forward`` one line per step and ``program.backward``
one chain-rule line per step under the program's own names, and render each
local derivative with ``symgrad.core.printer.render`` and that column.  ``emit``
returns the text; ``load`` turns it into a callable with the Python backend's
calling convention.  Register the module in ``MODULES``; ``CompiledFunction``
needs nothing else.  The build (``cbuild``) caches the shared library on disk.

Domain errors: the C functions report any floating-point exception (overflow,
division by zero, invalid) they raised; the scalar functions then raise
``FloatingPointError``, which ``CompiledFunction`` hands to ``Program.evaluate``
for the exact ``EvaluationError``.  Batches follow NumPy's ``errstate``.
"""

import array
import ctypes

from ..core.ir import var
from ..core.ops import OPS
from ..core.printer import ATOM, render
from . import compile_source
from .c_ext import entry_point, load as load_extension
from .c_syntax import comment as _comment, literal
from .cbuild import build, build_extension, python_headers
from .python import _comments

NAME = "c"
KINDS = ("value_and_grad", "value", "batch", "loss", "loss_values", "step")
FUNCTION_NAMES = {"value_and_grad": "value_and_grad", "value": "value",
                  "batch": "value_and_grad_batch"}
# The bits the C functions return, and NumPy's errstate category for each.
FLAGS = {1: "over", 2: "divide", 4: "invalid"}
FLAG_WORDS = {"over": "overflow", "divide": "division by zero", "invalid": "invalid operation"}
LOSS_KINDS = ("loss", "loss_values", "step")  # printed by c_loss from the layer plan
# Its losses take X and Y with one sample per row, as the user passes them, and the L2
# weight, and add the L2 term themselves, in the same call: f(P, X, Y, l2).
LOSS_BY_ROWS = True
COMMENTED_SIZE = 20_000  # as in the Python backend: beyond this, no comments


class CPrinter:
    """Prints one program's C, noting which helper functions the text calls."""

    def __init__(self, program):
        self.program = program
        self.used = set()  # operators whose c_helper the text needs

    def template(self, op, node):
        if op.c_helper is not None:
            self.used.add(op.name)
        return op.c

    def atom(self, node):
        names = self.program.names
        if node in names:
            return names[node]
        text, precedence = literal(node.value)
        return text if precedence == ATOM else f"({text})"

    def inline(self, root):
        """A local derivative over named values, or a forward operation over its operands."""
        if root in self.program.names and not root.args:
            return self.program.names[root]
        return render(root, self.program.names, lambda node: literal(node.value), self.template)

    def forward(self, indent):
        program = self.program
        commented = len(program.forward) <= COMMENTED_SIZE
        comments = _comments(program) if commented else {}
        lines = []
        for step in program.forward:
            node = step.node
            rhs = self.inline(node)  # names[node] is skipped: render starts at its root
            note = comments.get(node)
            lines.append(f"{indent}const double {step.name} = {rhs};"
                         + (f"  // {_comment(note)}" if note else ""))
        return lines

    def backward(self, indent):
        program = self.program
        commented = len(program.forward) <= COMMENTED_SIZE
        lines = [f"{indent}// backward pass: the chain rule, from the output back to the inputs"]
        if program.seed is not None:
            lines.append(f"{indent}double {program.seed} = 1.0;")
        current = None
        for step in program.backward:
            if step.node is not current and commented:
                current = step.node
                lines.append(f"{indent}// {_comment(program.statement(step.node))}")
            rhs = self.contribution(step)
            head = f"double {step.target} =" if step.first else f"{step.target} +="
            note = ""
            if commented:
                note = f"  // {_comment(program.rule(step))}"
            lines.append(f"{indent}{head} {rhs};{note}")
        for name in program.unreached:
            lines.append(f"{indent}double {program.grads[var(name)]} = 0.0;  // {name} does not "
                         "affect the value")
        return lines

    def contribution(self, step):
        """``upstream * local``, written without multiplying by one."""
        local = step.local
        if local.op == "const" and local.value in (1.0, -1.0):
            return step.upstream if local.value == 1.0 else f"-{step.upstream}"
        if local in self.program.names:
            return f"{step.upstream} * {self.program.names[local]}"
        text = self.inline(local)
        simple = local in self.program.names or (not local.args and not text.startswith("-"))
        return f"{step.upstream} * {text}" if simple else f"{step.upstream} * ({text})"

    def body(self, indent, load_input, gradients):
        program = self.program
        lines = [f"{indent}const double {name} = {load_input(index)};"
                 for index, name in enumerate(program.params)]
        lines.append(f"{indent}// forward pass")
        lines += self.forward(indent)
        if gradients:
            lines += self.backward(indent)
        return lines

    def preamble(self, what):
        helpers = [OPS[name].c_helper for name in sorted(self.used)]
        label = _comment(self.program.describe(self.program.root, 60))
        return ([f"// symgrad: {what} of {label}", "#include <fenv.h>", "#include <math.h>", ""]
                + helpers + ([""] if helpers else []))


STATUS = ["int symgrad_status = fetestexcept(FE_OVERFLOW | FE_DIVBYZERO | FE_INVALID);",
          "return (symgrad_status & FE_OVERFLOW ? 1 : 0) | (symgrad_status & FE_DIVBYZERO ? 2 : 0)"
          "\n        | (symgrad_status & FE_INVALID ? 4 : 0);"]
# Clearing the flags rewrites the x87 environment too (about 100 ns, most of a neuron's
# call); reading them costs a few ns, and they are almost always clear already.
CLEAR = ("if (fetestexcept(FE_OVERFLOW | FE_DIVBYZERO | FE_INVALID))"
         "\n        feclearexcept(FE_OVERFLOW | FE_DIVBYZERO | FE_INVALID);")


def _scalar(program, kind):
    """``int f(const double *symgrad_in, double *symgrad_out)``: out[0] value, then gradients."""
    printer = CPrinter(program)
    gradients = kind == "value_and_grad"
    indent = "    "
    body = printer.body(indent, lambda i: f"symgrad_in[{i}]", gradients)
    value = printer.atom(program.root)
    stores = [f"{indent}symgrad_out[0] = {value};"]
    if gradients:
        stores += [f"{indent}symgrad_out[{i + 1}] = {name};"
                   for i, name in enumerate(program.grad_names())]
    what = "value and gradient" if gradients else "value"
    lines = printer.preamble(what) + [
        "// Returns the floating-point exceptions raised: 1 overflow, 2 division by zero,"
        " 4 invalid.",
        f"int {FUNCTION_NAMES[kind]}(const double *symgrad_in, double *symgrad_out)", "{",
        f"{indent}{CLEAR}"] + body + stores + [indent + line for line in STATUS] + ["}"]
    lines += entry_point(FUNCTION_NAMES[kind], program.variables, len(stores), gradients)
    return "\n".join(lines) + "\n"


def _batch(program):
    """One loop over ``symgrad_n`` samples; every input and result an array of doubles."""
    printer = CPrinter(program)
    indent = "        "
    body = printer.body(indent, lambda i: f"symgrad_in[{i}][symgrad_i]", True)
    stores = [f"{indent}symgrad_out[0][symgrad_i] = {printer.atom(program.root)};"]
    stores += [f"{indent}symgrad_out[{i + 1}][symgrad_i] = {name};"
               for i, name in enumerate(program.grad_names())]
    lines = printer.preamble("value and gradient over a batch") + [
        "// symgrad_in[k][i] is input k of sample i; symgrad_out[0] the values, then the"
        " gradients.",
        "// Returns the floating-point exceptions raised: 1 overflow, 2 division by zero,"
        " 4 invalid.",
        "int value_and_grad_batch(long symgrad_n, const double *const *symgrad_in,",
        "                         double *const *symgrad_out)", "{",
        f"    {CLEAR}",
        "    for (long symgrad_i = 0; symgrad_i < symgrad_n; symgrad_i++) {",
    ] + body + stores + ["    }"] + ["    " + line for line in STATUS] + ["}"]
    return "\n".join(lines) + "\n"


def emit(program, kind="value_and_grad"):
    """The C source of ``kind`` (see ``symgrad.backends.SIGNATURES``) for ``program``."""
    if kind == "batch":
        return _batch(program)
    if kind in LOSS_KINDS:
        from . import c_loss  # imports NumPy: only for losses
        return c_loss.emit(program, "loss_values" if kind == "loss_values" else "loss")
    return _scalar(program, kind)


def load(source, kind, label, owner):
    """The compiled ``kind`` with the Python backend's calling convention (the extension
    takes the user's names as keywords; the ctypes wrapper, the program's identifiers)."""
    if kind in LOSS_KINDS:
        from . import c_loss  # imports NumPy: only for losses
        return c_loss.load(build(source, native=True), kind)
    if kind == "batch":
        function = ctypes.CDLL(build(source))[FUNCTION_NAMES[kind]]  # releases the GIL
        function.restype = ctypes.c_int
        function.argtypes = (ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p)
        return _batch_caller(function, _outputs(source) - 1)
    headers = python_headers()
    if headers is not None:
        return load_extension(*build_extension(source, headers), FUNCTION_NAMES[kind])
    function = ctypes.PyDLL(build(source))[FUNCTION_NAMES[kind]]  # short calls: keep the GIL
    function.restype = ctypes.c_int
    function.argtypes = (ctypes.c_void_p, ctypes.c_void_p)
    params = _params(source)
    outputs = _outputs(source)
    # A small Python function with the program's own parameters, so keywords bind
    # as with the Python backend; the buffer is allocated per call (thread safe).
    values = ", ".join(list(params) + ["0.0"] * outputs) + ("," if len(params) + outputs == 1
                                                            else "")
    result = ("symgrad_io[{n}], symgrad_tuple(symgrad_io[{m}:])" if kind == "value_and_grad"
              else "symgrad_io[{n}]").format(n=len(params), m=len(params) + 1)
    shim = (f"def {FUNCTION_NAMES[kind]}({', '.join(params)}):\n"
            f"    symgrad_io = symgrad_array('d', ({values}))\n"
            f"    symgrad_in = symgrad_io.buffer_info()[0]\n"
            f"    if symgrad_call(symgrad_in, symgrad_in + {8 * len(params)}):\n"
            f"        raise symgrad_fpe('a floating-point exception in the C code')\n"
            f"    return {result}\n")
    globals_ = {"__builtins__": {}, "symgrad_array": array.array, "symgrad_call": function,
                "symgrad_fpe": FloatingPointError, "symgrad_tuple": tuple}
    return compile_source(shim, FUNCTION_NAMES[kind], label, owner, globals_)


def _params(source):
    """The input names, read back from the ``const double x = symgrad_in[i];`` lines."""
    params = []
    for line in source.splitlines():
        line = line.strip()
        if line.startswith("const double ") and line.endswith(f" = symgrad_in[{len(params)}];"):
            params.append(line[len("const double "):].split(" ", 1)[0])
    return params


def _outputs(source):
    """How many results the function stores: the value, then one per gradient."""
    return sum(line.lstrip().startswith("symgrad_out[") for line in source.splitlines())


def _batch_caller(function, gradients):
    """``f(*arrays) -> (values, gradients)`` over arrays of one shape; NumPy's errstate rules."""
    import numpy as np

    def value_and_grad_batch(*arrays):
        arrays = [np.ascontiguousarray(a, dtype=np.float64) for a in arrays]
        shape = arrays[0].shape if arrays else ()
        results = [np.empty(shape) for _ in range(gradients + 1)]
        inputs = (ctypes.c_void_p * max(len(arrays), 1))(*[a.ctypes.data for a in arrays])
        outputs = (ctypes.c_void_p * len(results))(*[r.ctypes.data for r in results])
        flags = function(int(np.prod(shape, dtype=np.int64)), inputs, outputs)
        if flags:
            _report(flags, np.geterr())
        return results[0], tuple(results[1:])

    return value_and_grad_batch


def _report(flags, errstate):
    """Raise, warn or call as NumPy would for the floating-point exceptions in ``flags``."""
    import warnings

    import numpy as np

    for bit, category in FLAGS.items():
        if flags & bit:
            mode = errstate[category]
            message = f"{FLAG_WORDS[category]} encountered in the C batch"
            if mode == "raise":
                raise FloatingPointError(message)
            if mode == "call":  # NumPy's seterrcall: a function of (message, flag bit)
                np.geterrcall()(message, bit)
            elif mode != "ignore":
                warnings.warn(message, RuntimeWarning, stacklevel=3)
