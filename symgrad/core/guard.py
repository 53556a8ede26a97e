"""Which values generated code checks for an overflow that a later step could hide.

Python's float arithmetic gives inf without raising only for ``+ - * /``
(``SILENT_OVERFLOW``); an inf or nan that only passes on to the result makes the
result inf or nan, which is checked anyway.  Generated Python and the tape check the
rest: the forward steps (``guarded_steps``) and the parts of local derivatives
(``guarded_locals``) whose inf or nan a later step may turn finite (1/inf is 0).
"""

from functools import lru_cache

from .autodiff import partial_pattern
from .runtime import PASSES_ON, SILENT_OVERFLOW


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
    pattern = partial_pattern(op_name, index)
    hidden = _hidden(pattern)
    return any(node in hidden and node.op in SILENT_OVERFLOW for node in pattern)
