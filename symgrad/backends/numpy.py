"""The NumPy backend: the Python printer with NumPy templates; one call evaluates a batch.

Imported only when batches are used, since it imports NumPy.
"""

import numpy as np

from . import Backend, compile_source, numpy_loss
from .python import FUNCTION_NAMES, PythonPrinter

GLOBALS = {"__builtins__": {}, "np": np}


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


class NumpyBackend(Backend):
    """Arrays: a batch per call, and compiled losses whose layers are matrix products."""

    name = "numpy"
    kinds = ("batch", "value_and_grad", "value", "loss", "loss_values")
    module_name = "numpy"  # what the generated code's ``np`` is
    functional = False  # losses update gradients in place
    globals_ = GLOBALS

    def emit(self, program, kind="batch"):
        if kind in numpy_loss.FUNCTION_NAMES:
            return numpy_loss.emit(program, kind, self.functional)
        return PRINTER.function(program, FUNCTION_NAMES[kind], kind != "value", kind)

    def module(self, program, kind="batch"):
        """The printed function after ``import numpy as np``: a module that runs on its own."""
        return f"import {self.module_name} as np\n\n\n" + self.emit(program, kind).source

    def load(self, artifact, program, label, owner):
        return compile_source(artifact, label, owner, self.globals_)


BACKEND = NumpyBackend()
