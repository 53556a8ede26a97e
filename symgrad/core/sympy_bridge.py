"""The SymPy bridge: IR to SymPy, built from the graph, never from text.

``sympify`` uses ``eval`` and would turn names such as ``E``, ``I``, ``S`` or
``beta`` into SymPy objects, so SymPy expressions are built node by node from
the IR, bottom-up, without recursion.  Importing this module imports SymPy.
"""

import math

import sympy

from .ir import topological_order
from .ops import OPS


def symbols_for(names):
    """A real SymPy symbol per input name (``lambda`` and ``E`` stay plain symbols)."""
    return {name: sympy.Symbol(name, real=True) for name in names}


def to_sympy(root, symbols=None):
    """The SymPy expression of an IR node, built bottom-up without recursion."""
    symbols = symbols or {}
    built = {}
    for node in topological_order([root]):
        if node.op == "var":
            built[node] = symbols.get(node.value) or sympy.Symbol(node.value, real=True)
        elif node.op == "const":
            built[node] = _sympy_number(node.value)
        else:
            built[node] = OPS[node.op].sympy(sympy, *(built[a] for a in node.args))
    return built[root]


def _sympy_number(value):
    if math.isinf(value):
        return sympy.oo if value > 0 else -sympy.oo
    if math.isnan(value):
        return sympy.nan
    text = repr(value)
    if len(text) <= 10:
        return sympy.Rational(text)  # 0.1 stays 1/10, as the user wrote it
    return sympy.Float(value, 17)  # a rounded result (log(2) folded): inexact on purpose
