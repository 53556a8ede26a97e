"""The SymPy bridge: IR to SymPy, built from the graph, never from text.

``sympify`` uses ``eval`` and would turn names such as ``E``, ``I``, ``S`` or
``beta`` into SymPy objects, so SymPy expressions are built node by node from
the IR, bottom-up, without recursion.  Importing this module imports SymPy.

A SymPy expression is a tree: a graph whose shared parts nest (``a = sin(a) +
cos(a)`` ten times) would become exponentially large, and a deep one (150
nested ``tanh``) overflows the stack of SymPy's recursive algorithms.  ``build``
therefore inlines a graph only while the tree stays small and shallow; beyond
that, shared and deep parts become intermediate symbols with definitions, so
the SymPy side stays linear in the graph and every formula stays shallow.
"""

import math
from dataclasses import dataclass

import sympy

from .ir import topological_order
from .ops import OPS

INLINE_LIMIT = 2000  # tree nodes beyond which a graph is built with intermediate symbols
DEPTH_LIMIT = 30  # nesting beyond which SymPy's recursive algorithms may overflow the stack
SHARED_SIZE = 8  # in shared form, a shared part larger than this becomes a symbol
DEFINITION_DEPTH = 4  # and so does a part nested deeper than this


def symbols_for(names):
    """A real SymPy symbol per input name (``lambda`` and ``E`` stay plain symbols)."""
    return {name: sympy.Symbol(name, real=True) for name in names}


def to_sympy(root, symbols=None):
    """The SymPy expression of an IR node, as one tree, built bottom-up without recursion.

    The tree may be exponential in the graph's size: use ``build`` for graphs
    that are not known to be small.
    """
    symbols = symbols or {}
    built = {}
    for node in topological_order([root]):
        built[node] = _formula(node, built, symbols)
    return built[root]


@dataclass(frozen=True)
class Built:
    """SymPy expressions of some IR roots, with the definitions they use.

    ``definitions`` is ``[(symbol, formula)]`` in evaluation order: each formula
    uses inputs and earlier symbols only.  It is empty when the roots were small
    enough to build as plain trees, exactly as ``to_sympy`` builds them.
    """

    expressions: tuple  # one per root
    definitions: tuple

    @property
    def shared(self):
        return bool(self.definitions)


def build(roots, symbols=None, reserved=()):
    """``Built`` for the IR ``roots``: plain trees when small and shallow, else shared form.

    Intermediate symbols are real (the program computes in the reals) and named
    ``t1, t2, ...`` avoiding the inputs' names and ``reserved``.
    """
    symbols = symbols or {}
    order = topological_order(roots)
    if fits(order):
        built = {}
        for node in order:
            built[node] = _formula(node, built, symbols)
        return Built(tuple(built[root] for root in roots), ())
    uses = {}
    for node in order:
        for arg in node.args:
            uses[arg] = uses.get(arg, 0) + 1
    taken = {node.value for node in order if node.op == "var"} | set(reserved)
    names = (f"t{i}" for i in range(1, len(order) + len(taken) + 2))
    built, size, depth, definitions = {}, {}, {}, []
    for node in order:
        built[node] = _formula(node, built, symbols)
        size[node] = 1 + sum(size[a] for a in node.args)
        depth[node] = 1 + max((depth[a] for a in node.args), default=0)
        shared = uses.get(node, 0) > 1 and size[node] > SHARED_SIZE
        if node.args and (shared or depth[node] >= DEFINITION_DEPTH):
            symbol = sympy.Symbol(next(n for n in names if n not in taken), real=True)
            definitions.append((symbol, built[node]))
            built[node], size[node], depth[node] = symbol, 1, 1
    return Built(tuple(built[root] for root in roots), tuple(definitions))


def fits(order):
    """Whether the graph ``order`` (topologically sorted) is small and shallow as a tree."""
    size, depth = {}, {}
    for node in order:
        size[node] = min(1 + sum(size[a] for a in node.args), INLINE_LIMIT + 1)
        depth[node] = 1 + max((depth[a] for a in node.args), default=0)
        if depth[node] > DEPTH_LIMIT:
            return False
    return _tree_size(order, size) <= INLINE_LIMIT


def _tree_size(order, size):
    """Tree nodes of every root of ``order`` together (nodes no other node uses)."""
    used = {arg for node in order for arg in node.args}
    return sum(size[node] for node in order if node not in used)


def _formula(node, built, symbols):
    if node.op == "var":
        return symbols.get(node.value) or sympy.Symbol(node.value, real=True)
    if node.op == "const":
        return _sympy_number(node.value)
    return OPS[node.op].sympy(sympy, *(built[a] for a in node.args))


def _sympy_number(value):
    if abs(value) in (math.pi, math.e):  # the language's pi and e
        return (sympy.pi if abs(value) == math.pi else sympy.E) * (1 if value > 0 else -1)
    if math.isinf(value):
        return sympy.oo if value > 0 else -sympy.oo
    if math.isnan(value):
        return sympy.nan
    text = repr(value)
    if len(text) <= 10:
        return sympy.Rational(text)  # 0.1 stays 1/10, as the user wrote it
    return sympy.Float(value, 17)  # a rounded result (log(2) folded): inexact on purpose
