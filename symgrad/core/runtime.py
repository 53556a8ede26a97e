"""The operators as Python callables on floats, and the globals generated scalar code runs with.

Both are derived from the operator table: a row that calls a helper registers
it, so no list here is kept by hand.
"""

import math
from functools import lru_cache

from .ops import OPS, helpers, infix_template

# Generated Python runs with exactly these globals: no builtins, math, the helpers, and
# the error its overflow guard raises.
PYTHON_GLOBALS = {"__builtins__": {}, "math": math, "OverflowError": OverflowError,
                  **helpers()}
# Python's float arithmetic gives inf without raising only for these operators.
SILENT_OVERFLOW = ("add", "sub", "mul", "div")


def guarded_steps(program):
    """The forward steps whose overflow Python would not raise (``+ - * /``), but the
    result's, which is checked anyway: generated Python and the tape check these are finite."""
    return [step for step in program.forward
            if step.op.name in SILENT_OVERFLOW and step.node.depends
            and step.node is not program.root]


@lru_cache(maxsize=None)
def scalar_function(op_name):
    """The operator as a Python callable on floats, built from its table template."""
    op = OPS[op_name]
    params = ["x", "y"][: op.arity]
    body = (op.python or infix_template(op)).format(x="x", y="y")
    # Only the table's own template is compiled here, never user text.
    return eval(f"lambda {', '.join(params)}: {body}", dict(PYTHON_GLOBALS))
