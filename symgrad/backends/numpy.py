"""The NumPy backend: the Python printer with NumPy templates; one call evaluates a batch.

Imported only when batches are used, since it imports NumPy.
"""

import numpy as np

from . import compile_source
from .python import FUNCTION_NAMES, PythonPrinter

NAME = "numpy"
KINDS = ("batch", "value_and_grad", "value")
GLOBALS = {"__builtins__": {}, "np": np}
PRINTER = PythonPrinter("numpy", "np")


def emit(program, kind="batch"):
    """The source of ``kind`` (see ``symgrad.backends.SIGNATURES``) over NumPy arrays."""
    return PRINTER.function(program, FUNCTION_NAMES[kind], gradients=kind != "value")


def load(source, kind, label, owner):
    return compile_source(source, FUNCTION_NAMES[kind], label, owner, GLOBALS)
