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

Batches are built twice from the same text.  The fast build vectorises the loop,
calling glibc's vector math (libmvec: ``tanh`` and the like 2, 4 or 8 at a time,
within a few ulp of the scalar functions; see ``cbuild.VECTOR_FLAGS``) where the
compiler offers it.  Those functions may raise a spurious flag at extreme inputs
(``sin(1e300)``), so when the flags matter (a strict batch, or NumPy's errstate
not ignoring them) a batch that raised any runs again in the exact build, the
scalar code's loop, whose flags are the scalar path's.
"""

import array
import ctypes
import os
import re
import threading

from ..core.ir import var
from ..core.ops import OPS
from ..core.printer import ATOM, render
from . import compile_source
from .c_ext import entry_point, load as load_extension
from .c_syntax import comment as _comment, literal
from .cbuild import CompilerError, VECTOR_FLAGS, build, build_extension, python_headers
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
# A batch's results are new arrays of the batch's shape (CompiledFunction need not copy them).
NEW_BATCH_ARRAYS = True
COMMENTED_SIZE = 20_000  # as in the Python backend: beyond this, no comments
# The <math.h> functions that glibc's libmvec (2.35 and later) also has in vector forms,
# with their number of arguments; sqrt and fabs are single instructions already.
VECTOR_MATH = {"tanh": 1, "exp": 1, "log": 1, "sin": 1, "cos": 1, "tan": 1, "atan": 1,
               "atan2": 2, "pow": 2}
# A batch this long is split over the machine's cores (each thread's start costs
# tens of microseconds; 2**16 samples take about 0.2 ms in one thread).
SPLIT_AT = 1 << 16
THREADS = None  # threads per long batch; None: as many as the process may use cores
HUGE_PAGE = 1 << 21  # bytes, on x86-64 and most Linux machines


class CPrinter:
    """Prints one program's C, noting which helper functions the text calls."""

    def __init__(self, program):
        self.program = program
        self.used = set()  # operators whose c_helper the text needs
        self.operators = set()  # every operator the text writes

    def template(self, op, node):
        self.operators.add(op.name)
        if op.c_helper is not None:
            self.used.add(op.name)
        return op.c

    def vector_math(self):
        """The ``VECTOR_MATH`` functions the printed text calls, itself or in a helper."""
        called = set()
        for name in self.operators:
            op = OPS[name]
            called.update(re.findall(r"\b(\w+)\(", (op.c or "") + (op.c_helper or "")))
        return sorted(called & VECTOR_MATH.keys())

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


def _vector_declarations(functions):
    """The lines that let the fast build call libmvec's vector forms of ``functions``."""
    lines = []
    if functions:
        lines += ["#ifdef SYMGRAD_VECTOR_MATH  // the fast build (symgrad/backends/cbuild.py)",
                  "// glibc's libmvec has these functions also 2, 4 and 8 at a time, within",
                  "// a few ulp of the scalar ones: declared so, the loop below vectorises.",
                  "// (const: they touch no memory, errno being off.)"]
        for name in functions:
            arguments = ", ".join(["double"] * VECTOR_MATH[name])
            lines += ["#pragma omp declare simd notinbranch",
                      f"double {name}({arguments}) __attribute__((const));"]
        lines += ["#endif"]
    return lines + [
        "#if defined SYMGRAD_VECTOR_MATH && defined __x86_64__",
        "// The loop once per instruction set (AVX-512, AVX2, SSE2), chosen when it loads.",
        '#define SYMGRAD_VECTORISED __attribute__((target_clones("avx512f", "avx2", "default")))',
        "#else",
        "#define SYMGRAD_VECTORISED",
        "#endif", ""]


def _batch(program):
    """One loop over ``symgrad_n`` samples; every input and result an array of doubles."""
    printer = CPrinter(program)
    indent = "        "
    body = printer.body(indent, lambda i: f"symgrad_in[{i}][symgrad_i]", True)
    stores = [f"{indent}symgrad_out[0][symgrad_i] = {printer.atom(program.root)};"]
    stores += [f"{indent}symgrad_out[{i + 1}][symgrad_i] = {name};"
               for i, name in enumerate(program.grad_names())]
    preamble = printer.preamble("value and gradient over a batch")
    lines = preamble[:4] + _vector_declarations(printer.vector_math()) + preamble[4:] + [
        "// symgrad_in[k][i] is input k of sample i; symgrad_out[0] the values, then the"
        " gradients.",
        "// Returns the floating-point exceptions raised: 1 overflow, 2 division by zero,"
        " 4 invalid.",
        "SYMGRAD_VECTORISED",
        "int value_and_grad_batch(long symgrad_n, const double *const *symgrad_in,",
        "                         double *const *symgrad_out)", "{",
        f"    {CLEAR}",
        "#ifdef SYMGRAD_VECTOR_MATH",
        "    #pragma omp simd  // the samples are independent",
        "#endif",
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
        fast, exact = _fast_batch(source), _exact_batch(source)
        if fast is None:
            fast, exact = exact(), None
        return _batch_caller(fast, exact, _outputs(source) - 1)
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


_NO_VECTOR_MATH = set()  # sets of functions the fast build failed on, in this process


def _fast_batch(source):
    """The batch function of the fast build, or None where the compiler cannot make one."""
    functions = frozenset(_declared(source))
    if functions in _NO_VECTOR_MATH:
        return None
    try:
        return _batch_function(build(source, VECTOR_FLAGS))
    except CompilerError:
        _NO_VECTOR_MATH.add(functions)  # libmvec lacks one, or the compiler a flag
        return None


def _exact_batch(source):
    """``exact()``: the batch function of the exact build, built on the first call."""
    built = []

    def exact():
        if not built:
            built.append(_batch_function(build(source)))
        return built[0]

    return exact


def _batch_function(path):
    function = ctypes.CDLL(path)[FUNCTION_NAMES["batch"]]  # releases the GIL
    function.restype = ctypes.c_int
    function.argtypes = (ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p)
    return function


def _declared(source):
    """The vector functions the source declares, read back from its ``#pragma`` lines."""
    lines = source.splitlines()
    return [lines[i + 1].split("(", 1)[0].split()[-1] for i, line in enumerate(lines)
            if line == "#pragma omp declare simd notinbranch"]


def _batch_caller(fast, exact, gradients):
    """``f(*arrays) -> (values, gradients)`` over arrays of one shape; NumPy's errstate rules.

    ``fast`` is a batch function; ``exact()``, if not None, the exact build's, which
    runs a batch again when ``fast`` raised flags and they matter.  The results are
    new arrays.
    """
    import numpy as np

    def value_and_grad_batch(*arrays):
        arrays = [np.ascontiguousarray(a, dtype=np.float64) for a in arrays]
        shape = arrays[0].shape if arrays else ()
        count = int(np.prod(shape, dtype=np.int64))
        results = [_new_array(shape, count) for _ in range(gradients + 1)]
        flags = _run(fast, count, arrays, results)
        errstate = np.geterr()
        if flags and exact is not None and any(errstate[c] != "ignore" for c in FLAGS.values()):
            flags = _run(exact(), count, arrays, results)  # the scalar code's flags
        if flags:
            _report(flags, errstate)
        return results[0], tuple(results[1:])

    return value_and_grad_batch


def _new_array(shape, count):
    """An uninitialised float array of ``shape`` (``count`` elements) that nothing else uses.

    A large one takes its memory from ``RESULTS`` (see ``ResultPool``): fresh memory
    is pages the kernel zeroes and maps on first touch, which cost as much as the
    arithmetic of a large batch.
    """
    import numpy as np

    if count < 2 * HUGE_PAGE // 8:
        return np.empty(shape)
    return np.asarray(RESULTS.lend(shape, count))


class ResultPool:
    """Memory of large batch results that no array uses any more, kept for the next batch.

    Each result is an array over a ``_Lease`` (its ``base``); when the array, its
    views and anything else holding the lease are gone, the memory comes back here,
    and the next batch of the same size takes it instead of fresh pages.  At most
    ``limit`` bytes are kept; the rest is freed.
    """

    def __init__(self, limit):
        self.limit = limit
        self.kept = {}  # elements -> blocks of memory nobody uses
        self.bytes = 0
        self.lock = threading.Lock()

    def lend(self, shape, count):
        with self.lock:
            blocks = self.kept.get(count)
            block = blocks.pop() if blocks else None
            if block is not None:
                self.bytes -= 8 * count
        return _Lease(self, block if block is not None else _fresh_block(count), shape)

    def give_back(self, block):
        with self.lock:
            if self.bytes + block.nbytes <= self.limit:
                self.kept.setdefault(block.size, []).append(block)
                self.bytes += block.nbytes

    def clear(self):
        with self.lock:
            self.kept.clear()
            self.bytes = 0


class _Lease:
    """One result's memory, lent by a ``ResultPool``: NumPy's array interface over it."""

    def __init__(self, pool, block, shape):
        self.pool, self.block = pool, block
        self.__array_interface__ = {"shape": shape, "typestr": "<f8", "version": 3,
                                    "data": (block.ctypes.data, False)}

    def __del__(self):
        self.pool.give_back(self.block)


def _fresh_block(count):
    """``count`` doubles starting on a 2 MiB boundary, so that every 2 MiB of them can be a
    huge page (NumPy asks the kernel for them; one is far cheaper to fault in than 512
    small ones)."""
    import numpy as np

    block = np.empty(count + HUGE_PAGE // 8)
    skip = (-block.ctypes.data % HUGE_PAGE) // 8
    return block[skip:skip + count]


RESULTS = ResultPool(limit=256 << 20)


def _run(function, count, arrays, results):
    """The flags ``function`` raised over ``count`` samples, split over the cores if long."""
    parts = max(1, min(_cores(), count // SPLIT_AT))
    bounds = [count * k // parts for k in range(parts + 1)]
    flags = [None] * parts

    def run(part):
        start, stop = bounds[part], bounds[part + 1]
        inputs = (ctypes.c_void_p * max(len(arrays), 1))(
            *[a.ctypes.data + 8 * start for a in arrays])
        outputs = (ctypes.c_void_p * len(results))(*[r.ctypes.data + 8 * start for r in results])
        flags[part] = function(stop - start, inputs, outputs)  # each thread has its own flags

    threads = [threading.Thread(target=run, args=(part,), daemon=True)
               for part in range(1, parts)]
    for thread in threads:
        thread.start()
    try:
        run(0)
    finally:
        for thread in threads:
            thread.join()
    if None in flags:
        raise RuntimeError("a thread of the C batch failed")
    result = 0
    for part_flags in flags:
        result |= part_flags
    return result


def _cores():
    """How many threads a long batch uses: ``THREADS`` if set, else the usable cores."""
    if THREADS is not None:
        return THREADS
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


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
