"""Backends: each one prints a ``Program`` as code for one target and loads that code.

A backend is a module with
    NAME                      its name for ``backend=``
    KINDS                     which functions it prints (see ``SIGNATURES``)
    emit(program, kind)       the source text of one function
    load(source, kind, label, owner)
                              that function, ready to call
It reads the program's steps and names and prints them; it never walks the
IR on its own or derives anything.  Modules load only when used.  A backend
printing losses may also define ``loss_inputs(params, X, y)`` (the arrays its
loss takes; NumPy's by default) and ``loss_value(value)`` (the mean loss as
returned; ``float`` by default): the JAX backend keeps JAX arrays, so
``jax.jit`` can trace the loss.  ``LOSS_BY_ROWS = True`` says its loss
functions take ``X`` and ``Y`` with one sample per row (as the user passes
them) and the loss also the L2 weight, ``f(P, X, Y, l2)``, adding the term
itself; a ``step`` kind (in the loss's own source) is one step of gradient
descent in place (the C backend: one call for loss, gradient, L2 and update).
"""

import importlib
import itertools
import linecache
import weakref

from ..core.errors import SymgradError

SIGNATURES = {
    "value_and_grad": "f(*inputs) -> (value, (gradient per wrt input))",
    "value": "f(*inputs) -> value",
    "batch": "f(*arrays) -> (values, (gradients per wrt input)), arrays of one shape",
    # A loss program's inputs are p0, p1, ... (parameters, its wrt), x0, x1, ... and y.
    "loss": "f(P, X, Y) -> (mean value over the batch, gradient by P); X is (inputs, batch)",
    "loss_values": "f(P, X, Y) -> the value per sample",
    "step": "f(P, X, Y, l2, rate) -> mean value + l2*sum(P**2); then P -= rate * gradient; "
            "one sample per row",
    # The program of symgrad.core.higher.hvp_expression: inputs, then the vector v.
    "hvp": "f(*inputs, *vector) -> (gradient . vector, (Hessian @ vector per wrt input))",
    # Printed from a symgrad.core.forward.TangentProgram: inputs, then their tangents.
    "jvp": "f(*inputs, *tangents) -> (value, directional derivative)",
}
MODULES = {"python": "python", "numpy": "numpy", "c": "c", "tape": "tape", "jax": "jax"}
DEFAULT = "python"
# Where a backend prints no batch function, batches run on this one.
BATCH_FALLBACK = "numpy"
# Where a backend prints no second-order or forward-mode function, these run on Python.
PYTHON_FALLBACK = ("hvp", "jvp")

_serial = itertools.count(1)


# The optional packages backends import, and the extra of symgrad that installs each.
EXTRAS = {"numpy": "batch", "jax": "jax", "jaxlib": "jax"}


def get(name):
    """The backend module called ``name``; ``SymgradError`` listing the choices otherwise,
    or naming the extra to install when the package it needs is missing."""
    module = MODULES.get(name) if isinstance(name, str) else None
    if module is None:
        raise SymgradError(f"unknown backend {name!r}; backends are: {', '.join(MODULES)}")
    try:
        return importlib.import_module(f"{__name__}.{module}")
    except ImportError as error:
        package = (error.name or "").split(".")[0]
        if package not in EXTRAS:
            raise
        raise SymgradError(f"the {name} backend needs {package}, which is not installed: "
                           f"pip install 'symgrad[{EXTRAS[package]}]'") from None


def for_kind(name, kind):
    """The backend that prints ``kind`` for a function compiled with ``backend=name``."""
    backend = get(name)
    if kind in backend.KINDS:
        return backend
    if kind == "batch":
        return get(BATCH_FALLBACK)
    if kind in PYTHON_FALLBACK:
        return get(DEFAULT)
    raise SymgradError(f"the {name} backend does not print {kind} functions")


def compile_source(source, function_name, label, owner, globals_):
    """Compile generated Python ``source`` and return its function ``function_name``.

    Only code a backend printed from a program reaches this.  The source is
    registered in ``linecache`` under a fake file name while ``owner`` lives, so
    tracebacks, ``pdb`` and ``inspect.getsource`` show it.
    """
    filename = f"<symgrad {next(_serial)}: {label}>"
    code = compile(source, filename, "exec")
    namespace = dict(globals_)
    exec(code, namespace)  # printed from a program that passed the gate
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    weakref.finalize(owner, linecache.cache.pop, filename, None)
    return namespace[function_name]
