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
# How many leading operands these operators always pass on, inf or nan, as inf or nan
# (inf - inf and inf*0 are nan; div passes on its numerator).  Any other operand, of any
# other operator, may be hidden: 1/inf is 0, tanh(inf) is 1, relu(nan) is 0.  A new
# operator needs no entry to be safe.
PASSES_ON = {"add": 2, "sub": 2, "mul": 2, "div": 1, "neg": 1}


@lru_cache(maxsize=None)
def scalar_function(op_name):
    """The operator as a Python callable on floats, built from its table template."""
    op = OPS[op_name]
    params = ["x", "y"][: op.arity]
    body = (op.python or infix_template(op)).format(x="x", y="y")
    # Only the table's own template is compiled here, never user text.
    return eval(f"lambda {', '.join(params)}: {body}", dict(PYTHON_GLOBALS))
