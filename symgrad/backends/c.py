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

from ..core.ir import var
from ..core.printer import ATOM, contribution, forward_comments
from . import Artifact, Backend, compile_source
from .c_syntax import CSpelling, comment as _comment, literal
from .cbuild import build

LOSS_KINDS = ("loss", "loss_values", "step")  # printed by c_loss from the layer plan
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
    """Prints one program's C: the forward pass, then the backward pass."""

    def __init__(self, program):
        super().__init__()
        self.program = program
        self.commented = len(program.forward) <= COMMENTED_SIZE

    def forward(self):
        program = self.program
        comments = forward_comments(program) if self.commented else {}
        lines = [f"    const double {name} = symgrad_in[{index}];"
                 for index, name in enumerate(program.params)] + ["    // forward pass"]
        for step in program.forward:
            note = comments.get(step.node)
            lines.append(f"    const double {step.name} = {self.render(step.node, program.names)};"
                         + (f"  // {_comment(note)}" if note else ""))
        return lines

    def backward(self):
        program, names = self.program, self.program.names
        lines = ["    // backward pass: the chain rule, from the output back to the inputs"]
        if program.seed is not None:
            lines.append(f"    double {program.seed} = 1.0;")
        current = None
        for step in program.backward:
            if step.node is not current and self.commented:
                current = step.node
                lines.append(f"    // {_comment(program.statement(step.node))}")
            rhs = contribution(step.upstream, step.local,
                               lambda local: self.factor(local, names))
            head = f"double {step.target} =" if step.first else f"{step.target} +="
            note = f"  // {_comment(program.rule(step))}" if self.commented else ""
            lines.append(f"    {head} {rhs};{note}")
        for name in program.unreached:
            lines.append(f"    double {program.grads[var(name)]} = 0.0;  // {name} does not "
                         "affect the value")
        return lines


def _scalar(program, kind):
    """``int f(const double *symgrad_in, double *symgrad_out)``: out[0] value, then gradients."""
    printer, gradients = CPrinter(program), kind == "value_and_grad"
    body = printer.forward() + (printer.backward() if gradients else [])
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
    kinds = ("value_and_grad", "value", "loss", "loss_values", "step")
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

            return c_loss.load(build(artifact.source, native=True), artifact.kind)
        function = ctypes.PyDLL(build(artifact.source))[artifact.entry]  # short: keep the GIL
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
