"""The NumPy backend: the Python printer with NumPy templates; one call evaluates a batch.

Imported only when batches are used, since it imports NumPy.
"""

import numpy as np

from . import compile_source, numpy_loss
from .python import FUNCTION_NAMES, PythonPrinter

NAME = "numpy"
KINDS = ("batch", "value_and_grad", "value", "loss", "loss_values")
GLOBALS = {"__builtins__": {}, "np": np}
PRINTER = PythonPrinter("numpy", "np")


def emit(program, kind="batch"):
    """The source of ``kind`` (see ``symgrad.backends.SIGNATURES``) over NumPy arrays."""
    if kind in numpy_loss.FUNCTION_NAMES:
        return numpy_loss.emit(program, kind)
    return PRINTER.function(program, FUNCTION_NAMES[kind], gradients=kind != "value")


def load(source, kind, label, owner):
    name = numpy_loss.FUNCTION_NAMES.get(kind) or FUNCTION_NAMES[kind]
    return compile_source(source, name, label, owner, GLOBALS)
