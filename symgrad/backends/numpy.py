"""The NumPy backend: the Python printer with NumPy templates; one call evaluates a batch.

Imported only when batches are used, since it imports NumPy.
"""

import numpy as np

from ..core.ops import array_helpers
from . import compile_source, numpy_loss
from .python import FUNCTION_NAMES, PythonPrinter

NAME = "numpy"
KINDS = ("batch", "value_and_grad", "value", "loss", "loss_values")
GLOBALS = {"__builtins__": {}, "np": np, **array_helpers(np)}


class NumpyPrinter(PythonPrinter):
    """The Python printer, except that a division of literals is NumPy's, not Python's."""

    def template(self, op, node):
        # Python's 1.0/0.0 raises ZeroDivisionError; np.divide gives inf (or raises
        # under strict errstate) like every array operation around it.
        if op.name == "div" and not node.depends:
            return "np.divide({x}, {y})"
        return super().template(op, node)

    def accumulate(self, target, rhs):
        # Not +=, which adds in place: a first contribution passed through unchanged
        # (grad_x = grad_t1) shares its array with every other gradient that received
        # grad_t1, and one += would change them all.
        return f"{target} = {target} + {rhs}"


PRINTER = NumpyPrinter("numpy", "np")


def emit(program, kind="batch"):
    """The source of ``kind`` (see ``symgrad.backends.SIGNATURES``) over NumPy arrays."""
    if kind in numpy_loss.FUNCTION_NAMES:
        return numpy_loss.emit(program, kind)
    return PRINTER.function(program, FUNCTION_NAMES[kind], gradients=kind != "value")


def load(source, kind, label, owner):
    name = numpy_loss.FUNCTION_NAMES.get(kind) or FUNCTION_NAMES[kind]
    return compile_source(source, name, label, owner, GLOBALS)
