"""The C backend: a program printed as C, built by the system compiler, called through ctypes.

Scalar functions (``value_and_grad``, ``value``) take the inputs and return the
value and gradients in one array of doubles; a small Python function with the
program's own parameters calls them, so keywords bind as on the Python
backend.  Compiled losses (``c_loss``) run a whole batch, layer by layer, in
one call.  Batches (``f.batch``) run on the NumPy backend: the same program,
printed for NumPy.  The build (``cbuild``) caches the shared library on disk.

Domain errors: the C functions report any floating-point exception (overflow,
division by zero, invalid) they raised; the scalar functions then raise
``FloatingPointError``, which ``CompiledFunction`` hands to ``Program.evaluate``
for the exact ``EvaluationError``.
"""

import array
import ctypes
from string import Template

from ..core.printer import ATOM, backward_lines, forward_comments, forward_lines
from . import Artifact, Backend, compile_source
from .c_syntax import CSpelling, comment as _comment, literal
from .cbuild import load

LOSS_KINDS = ("loss", "loss_values")  # printed by c_loss from the layer plan
COMMENTED_SIZE = 20_000  # as in the Python backend: beyond this, no comments
# Clearing the flags rewrites the x87 environment too (about 100 ns, most of a neuron's
# call); reading them costs a few ns, and they are almost always clear already.
SCALAR = Template("""\
// Returns the floating-point exceptions raised: 1 overflow, 2 division by zero, 4 invalid.
int $name(const double *symgrad_in, double *symgrad_out)
{
    if (fetestexcept(FE_OVERFLOW | FE_DIVBYZERO | FE_INVALID))
        feclearexcept(FE_OVERFLOW | FE_DIVBYZERO | FE_INVALID);
$body
    int symgrad_status = fetestexcept(FE_OVERFLOW | FE_DIVBYZERO | FE_INVALID);
    return (symgrad_status & FE_OVERFLOW ? 1 : 0) | (symgrad_status & FE_DIVBYZERO ? 2 : 0)
        | (symgrad_status & FE_INVALID ? 4 : 0);
}
""")


class CPrinter(CSpelling):
    """How C writes the statements of one program's listing (``core.printer``)."""

    def define(self, name, node, names):
        return f"const double {name} = {self.render(node, names)}"

    def assign(self, target, rhs):
        return f"double {target} = {rhs}"

    def accumulate(self, target, rhs):
        return f"{target} += {rhs}"

    def line(self, statement, note=None):
        return f"    {statement};" + (f"  // {_comment(note)}" if note else "")

    def comment_line(self, text):
        return f"    // {_comment(text)}"


def _scalar(program, kind):
    """``int f(const double *symgrad_in, double *symgrad_out)``: out[0] value, then gradients."""
    printer, gradients = CPrinter(), kind == "value_and_grad"
    commented = len(program.forward) <= COMMENTED_SIZE
    comments = forward_comments(program) if commented else {}
    body = [f"    const double {name} = symgrad_in[{index}];"
            for index, name in enumerate(program.params)] + ["    // forward pass"]
    body += forward_lines(program, printer, comments, {})
    if gradients:
        body += backward_lines(program, printer, {}, commented=commented)
    value = program.names.get(program.root)
    if value is None:  # a constant result, parenthesised when negative
        text, precedence = literal(program.root.value)
        value = text if precedence == ATOM else f"({text})"
    outputs = (value, *program.grad_names()) if gradients else (value,)
    body += [f"    symgrad_out[{i}] = {name};" for i, name in enumerate(outputs)]
    head = printer.head("value and gradient" if gradients else "value", program,
                        ("fenv.h", "math.h")) + ([""] if printer.used else [])
    source = "\n".join(head) + "\n" + SCALAR.substitute(name=kind, body="\n".join(body))
    return Artifact(source, kind, tuple(program.params), outputs, {}, kind, "c")


class CBackend(Backend):
    """C through the system compiler: scalar functions and compiled losses."""

    name = "c"
    kinds = ("value_and_grad", "value", "loss", "loss_values")
    checks_overflow = True  # FE_OVERFLOW
    checks_loss_shapes = True  # c_loss's loader checks them: the C trusts them

    def emit(self, program, kind="value_and_grad"):
        if kind in LOSS_KINDS:
            from . import c_loss  # imports NumPy: only for losses

            return c_loss.emit(program, kind)
        return _scalar(program, kind)

    def module(self, program, kind="value_and_grad"):
        """The C source, then how Python calls it."""
        artifact = self.emit(program, kind)
        call = (f"// Called from Python through ctypes: {artifact.entry}(in, out) with in = "
                f"[{', '.join(artifact.params)}], out = [{', '.join(artifact.outputs)}].")
        return artifact.source + "\n" + call + "\n"

    def loss_arrays(self, P, X, Y):
        return P, X, Y  # c_loss's loader converts and checks them

    def load(self, artifact, program, label, owner):
        """The compiled function with the Python backend's calling convention."""
        if artifact.kind in LOSS_KINDS:
            from . import c_loss  # imports NumPy: only for losses

            return c_loss.load(load(artifact.source, ctypes.CDLL, native=True), artifact.kind)
        function = load(artifact.source, ctypes.PyDLL)[artifact.entry]  # short: keep the GIL
        function.restype = ctypes.c_int
        function.argtypes = (ctypes.c_void_p, ctypes.c_void_p)
        return _shim(artifact, function, label, owner)


def _shim(artifact, function, label, owner):
    """A small Python function with the program's own parameters, so keywords bind as with
    the Python backend; the buffer of inputs and outputs is allocated per call (thread safe)."""
    params, n = artifact.params, len(artifact.params)
    values = ", ".join(list(params) + ["0.0"] * len(artifact.outputs))
    result = (f"symgrad_io[{n}], symgrad_tuple(symgrad_io[{n + 1}:])"
              if artifact.kind == "value_and_grad" else f"symgrad_io[{n}]")
    shim = (f"def {artifact.entry}({', '.join(params)}):\n"
            f"    symgrad_io = symgrad_array('d', [{values}])\n"
            f"    symgrad_in = symgrad_io.buffer_info()[0]\n"
            f"    if symgrad_call(symgrad_in, symgrad_in + {8 * n}):\n"
            f"        raise symgrad_fpe('a floating-point exception in the C code')\n"
            f"    return {result}\n")
    globals_ = {"__builtins__": {}, "symgrad_array": array.array, "symgrad_call": function,
                "symgrad_fpe": FloatingPointError, "symgrad_tuple": tuple}
    return compile_source(artifact._replace(source=shim), label, owner, globals_)


BACKEND = CBackend()
