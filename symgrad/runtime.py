"""Names that generated scalar code may call, and the same operators as Python callables.

Generated code runs with exactly these globals (see ``PYTHON_GLOBALS``); the
helpers are named after their operators, which are function names in the
language and so can never be a user's variable.
"""

import math
from functools import lru_cache

from .ops import OPS


def relu(x):
    """max(x, 0), with relu(0) = 0."""
    return x if x > 0.0 else 0.0


def step(x):
    """1 for x > 0, else 0: the derivative of relu."""
    return 1.0 if x > 0.0 else 0.0


def sign(x):
    """-1, 0 or 1: the derivative of abs."""
    return (x > 0.0) - (x < 0.0) + 0.0


def sigmoid(x):
    """1 / (1 + exp(-x)), computed without overflow for any finite x."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


PYTHON_GLOBALS = {
    "__builtins__": {},
    "math": math,
    "relu": relu,
    "step": step,
    "sign": sign,
    "sigmoid": sigmoid,
}


@lru_cache(maxsize=None)
def scalar_function(op_name):
    """The operator as a Python callable on floats, built from its table template."""
    op = OPS[op_name]
    params = ["x", "y"][: op.arity]
    body = op.python.format(x="x", y="y")
    # Only the table's own template is compiled here, never user text.
    return eval(f"lambda {', '.join(params)}: {body}", dict(PYTHON_GLOBALS))
