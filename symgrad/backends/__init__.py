"""Backends: each one prints a ``Program`` as an ``Artifact`` for one target and loads it.

A backend is a ``Backend`` (below), the ``BACKEND`` of its module, registered here
by name with the words its code reserves.  It prints the program's steps and names
through the printer core (``symgrad.core.printer``), never deriving anything
itself.  Every optional capability is an attribute of ``Backend`` with its default,
so callers read it instead of probing.  Modules load only when used.
"""

import importlib
import itertools
import keyword
import linecache
import weakref

from ..core.errors import SymgradError
from ..core.ops import OPS
from ..core.program import reserve
from .artifact import Artifact
from .c_syntax import WORDS as C_WORDS

SIGNATURES = {
    "value_and_grad": "f(*inputs) -> (value, (gradient per wrt input))",
    "value": "f(*inputs) -> value",
    "batch": "f(*arrays) -> (values, (gradients per wrt input)), arrays of one shape",
    # Losses are printed from a core.loss_plan.LossProgram: the per-sample program and its
    # signature.
    "loss": "f(P, X, Y, l2) -> (mean value over the rows + l2*sum(P**2), gradient by P); "
            "one sample per row of X and Y",
    "loss_values": "f(P, X, Y) -> the value per sample (row)",
    # The program of symgrad.core.higher.hvp_expression: inputs, then the vector v.
    "hvp": "f(*inputs, *vector) -> (gradient . vector, (Hessian @ vector per wrt input))",
    # Printed from a symgrad.core.forward.TangentProgram: inputs, then their tangents.
    "jvp": "f(*inputs, *tangents) -> (value, directional derivative)",
}
DEFAULT = "python"
# Where a backend prints no batch function, batches run on this one.
BATCH_FALLBACK = "numpy"
# Where a backend prints no second-order or forward-mode function, these run on Python.
PYTHON_FALLBACK = ("hvp", "jvp")
# Words Python-syntax code may not use as names: keywords, the modules it calls, the
# names it calls (helpers by their operator's name; array code's float(n) for a size).
PYTHON_WORDS = (frozenset(keyword.kwlist) | frozenset(OPS) | {
    "math", "np", "jnp", "jax", "__debug__", "__builtins__", "OverflowError", "float"})


class Backend:
    """A target: how it prints a program and loads what it printed, and what it can do."""

    name = ""
    kinds = ()  # the functions it prints (see SIGNATURES)
    max_operations = None  # the largest program it takes; None: the IR's own cap
    max_depth = None  # the longest chain of operations it compiles (Program.depth); None: any
    floating_point_flags = True  # its batches report floating-point errors as NumPy's do
    checks_loss_shapes = False  # its loss checks the arrays' shapes itself
    # Its scalar functions raise when a value overflowed, even one a later step hid
    # (1/(x*x) at 1e200); else CompiledFunction evaluates the program to find out.
    checks_overflow = False
    first_call_on_tape = False  # a large program's first call runs on the tape, as exact

    def emit(self, program, kind):
        """The ``Artifact`` of ``kind`` (see ``SIGNATURES``) for ``program``."""
        raise NotImplementedError

    def load(self, artifact, program, label, owner):
        """The callable of ``artifact``, alive while ``owner`` is."""
        raise NotImplementedError

    def module(self, program, kind="value_and_grad"):
        """The printed function as a module that runs on its own."""
        return self.emit(program, kind).source

    def loss_arrays(self, P, X, Y):
        """A compiled loss's arguments as this backend's arrays."""
        import numpy as np

        return (np.asarray(P, dtype=float), np.asarray(X, dtype=float),
                None if Y is None else np.asarray(Y, dtype=float))

    def loss_value(self, value):
        """The loss's value as returned to the user."""
        return float(value)


MODULES = {}  # name -> the module whose BACKEND it is
_serial = itertools.count(1)
# The optional packages backends import, and the extra of symgrad that installs each.
EXTRAS = {"numpy": "batch", "jax": "jax", "jaxlib": "jax"}


def register(name, module, words=()):
    """Make ``backend=name`` load ``module``'s ``BACKEND``; its code reserves ``words``, which
    every program's names avoid, so one program prints on every backend."""
    MODULES[name] = module
    reserve(words)


register("python", f"{__name__}.python", PYTHON_WORDS)
register("numpy", f"{__name__}.numpy", PYTHON_WORDS)
register("c", f"{__name__}.c", C_WORDS)
register("tape", f"{__name__}.tape")
register("jax", f"{__name__}.jax", PYTHON_WORDS)


def get(name):
    """The ``Backend`` called ``name``; ``SymgradError`` listing the choices otherwise,
    or naming the extra to install when the package it needs is missing."""
    module = MODULES.get(name) if isinstance(name, str) else None
    if module is None:
        raise SymgradError(f"unknown backend {name!r}; backends are: {', '.join(MODULES)}")
    try:
        return importlib.import_module(module).BACKEND
    except ImportError as error:
        package = (error.name or "").split(".")[0]
        if package not in EXTRAS:
            raise
        raise SymgradError(f"the {name} backend needs {package}, which is not installed: "
                           f"pip install 'symgrad[{EXTRAS[package]}]'") from None


def for_kind(name, kind):
    """The backend that prints ``kind`` for a function compiled with ``backend=name``."""
    backend = get(name)
    if kind in backend.kinds:
        return backend
    if kind == "batch":
        return get(BATCH_FALLBACK)
    if kind in PYTHON_FALLBACK:
        return get(DEFAULT)
    raise SymgradError(f"the {name} backend does not print {kind} functions")


def compile_source(artifact, label, owner, globals_):
    """The entry function of a Python ``artifact`` (code a backend printed), compiled.

    Its source is in ``linecache`` under a made-up file name while ``owner`` lives, so
    tracebacks, ``pdb`` and ``inspect.getsource`` show it.
    """
    source, filename = artifact.source, f"<symgrad {next(_serial)}: {label}>"
    namespace = dict(globals_)
    exec(compile(source, filename, "exec"), namespace)  # code of a program that passed the gate
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    weakref.finalize(owner, linecache.cache.pop, filename, None)
    return namespace[artifact.entry]


__all__ = ["Artifact", "Backend", "SIGNATURES", "compile_source", "for_kind", "get",
           "register"]
