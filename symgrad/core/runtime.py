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


def guarded_steps(program):
    """The forward steps whose overflow Python would not raise (``+ - * /``) and a later
    step could hide: generated Python and the tape check these are finite.  An overflow
    that only ever passes on to the result makes the result inf or nan, which is
    checked anyway (a 200,000-term sum needs no check of its own)."""
    hidden = _hidden([step.node for step in program.forward])
    return [step for step in program.forward if step.node in hidden and _may_overflow(step.node)]


def guarded_locals(program):
    """The unnamed ``+ - * /`` parts of local derivatives that a later part may hide
    (``x - y`` in max's ``step(x - y)`` at x = 1e308, y = -1e308): checked as
    ``guarded_steps`` are, since the evaluator and the C code report them."""
    found, names = {}, program.names
    for step in program.backward:
        if step.local.args and step.local not in names and _may_hide(step.node.op, step.index):
            parts = program.local_operations(step.local, names)
            hidden = _hidden(parts)
            found.update((node, None) for node in parts
                         if node in hidden and _may_overflow(node))
    return list(found)


def _may_overflow(node):
    """Whether ``node`` is a ``+ - * /`` whose finite operands may give inf, which Python
    does not raise: not with a constant that keeps it finite (y - 1, x*0.5, x/2).  An inf
    operand comes from a step before, which is guarded itself if it may be hidden."""
    if node.op not in SILENT_OVERFLOW or not node.depends:
        return False
    constant = next((arg.value for arg in node.args if arg.op == "const"), None)
    if constant is None:
        return True
    if node.op in ("add", "sub"):  # |x ± c| reaches inf only for |c| near the largest float
        return not abs(constant) < 1e292
    if node.op == "mul":
        return not abs(constant) <= 1.0
    return node.args[1].op != "const" or not abs(constant) >= 1.0  # x/c shrinks for |c| >= 1


def _hidden(order):
    """The nodes below ``order`` (operands first) whose inf or nan a later one may turn finite."""
    hidden = set()
    for node in reversed(order):  # every user of a value before it
        hidden.update(node.args if node in hidden else node.args[PASSES_ON.get(node.op, 0):])
    return hidden


@lru_cache(maxsize=None)
def _may_hide(op_name, index):
    """Whether the table's partial of ``op_name`` by operand ``index`` has a ``+ - * /`` part
    that a later part may hide: only these local derivatives need a look."""
    from .autodiff import partial_pattern  # autodiff needs ir, which needs this module

    pattern = partial_pattern(op_name, index)
    hidden = _hidden(pattern)
    return any(node in hidden and node.op in SILENT_OVERFLOW for node in pattern)


@lru_cache(maxsize=None)
def scalar_function(op_name):
    """The operator as a Python callable on floats, built from its table template."""
    op = OPS[op_name]
    params = ["x", "y"][: op.arity]
    body = (op.python or infix_template(op)).format(x="x", y="y")
    # Only the table's own template is compiled here, never user text.
    return eval(f"lambda {', '.join(params)}: {body}", dict(PYTHON_GLOBALS))
