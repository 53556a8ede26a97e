"""The expression graph: immutable, hash-consed nodes and iterative traversals.

Build nodes only through ``var``, ``const`` and ``apply``.  They return the
existing node for an identical (op, args), so equal subexpressions are one node
and node identity is structural equality.  ``apply`` also performs cheap local
simplification: constant folding (IEEE arithmetic, so ``-0.0 + 0`` is ``0.0``),
``x*1``, ``x*0`` (only for a total ``x``: see ``Node``), ``x+0``, ``--x``, ``x**1``.
A folded constant that no short decimal writes (``log(2)``, ``1/3``) remembers the
operation it came from as its ``origin``, so text can show what the user wrote
while code uses the number.
"""

import contextlib
import gc
import math
import numbers
import threading
import weakref
from operator import attrgetter

from .errors import GraphError
from .ops import OPS
from .runtime import scalar_function

MAX_OPERATIONS = 300_000  # per program; memory grows by about 7 KiB per operation


class Node:
    """One vertex of the graph: an input variable, a constant or an operation.

    ``op`` is "var", "const" or an operator name from ``OPS``; ``args`` the
    operand nodes; ``value`` the variable's name or the constant's float;
    ``depends`` whether any input variable lies below; ``total`` whether the
    node and its derivatives exist at every real input (only total operators
    over inputs and finite constants), so ``x*0`` may fold to 0 without hiding
    an error (``sqrt(x)*0`` at x = -4 must still raise); ``origin`` (constants
    only, else None) the ``(op name, operands)`` a folded constant was computed
    from, when its decimal would be unreadable.  Nodes never change; only the
    gate notes in ``admitted`` the inputs of the last program it admitted them in.
    """

    __slots__ = ("op", "args", "value", "depends", "total", "origin", "admitted",
                 "__weakref__")

    def __repr__(self):
        return f"Node({structure(self)})"


class _Ref(weakref.ref):
    """A weak reference to an interned node that knows the node's key."""

    __slots__ = ("key",)


# key -> _Ref of the one node with that key.  A plain dict of weak references, where
# weakref.WeakValueDictionary's Python-level bookkeeping made interning 3x slower.
_NODES = {}
# Entries are added only by dict.setdefault, which is atomic: two threads cannot each
# add "the" node for one key, so a graph never holds two different x's.  The lock
# guards only taking an entry away (a freed node's, or a dead one replaced), so no
# entry is removed between the check and the removal.  Reentrant: a node freed while
# the lock is held (in this thread) runs _forget at once.
_LOCK = threading.RLock()


def _forget(ref):
    """Drop a freed node's entry, unless a new node took its key meanwhile."""
    with _LOCK:
        if _NODES.get(ref.key) is ref:
            del _NODES[ref.key]


def _intern(key, op, args, value, depends, total, origin=None):
    ref = _NODES.get(key)
    node = None if ref is None else ref()
    if node is not None:
        return node
    node = Node()
    node.op, node.args, node.value = op, args, value
    node.depends, node.total, node.origin = depends, total, origin
    node.admitted = None
    ref = _Ref(node, _forget)
    ref.key = key
    while True:
        found = _NODES.setdefault(key, ref)
        if found is ref:
            return node
        other = found()
        if other is not None:  # another thread's node came first
            return other
        with _LOCK:  # a freed node's entry, not yet forgotten: take its place
            if _NODES.get(key) is found:
                _NODES[key] = ref
                return node


@contextlib.contextmanager
def paused_collector():
    """Pause CPython's cyclic garbage collector while a large graph is built.

    Building allocates hundreds of thousands of nodes, steps and tuples that form
    no reference cycles (refcounting frees them), yet each allocation burst makes
    the collector scan every live object again: quadratic time on big programs.

    On the way out, what was built moves straight to the oldest generation
    (``gc.freeze`` then ``gc.unfreeze``, which scan nothing): otherwise the next
    young collection would scan every one of those objects at once, a tenth of
    a second at 10^5 operations, only to find them alive.  Skipped when the
    program has frozen objects of its own, which ``unfreeze`` would release.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def is_name(name):
    """Whether ``name`` is a name in the language: ASCII letters, digits, _, not a digit first."""
    return type(name) is str and name.isascii() and name.isidentifier()


def var(name):
    """The input variable called ``name`` (a name of the language, else ``GraphError``)."""
    if not is_name(name):
        raise GraphError(f"not a valid variable name: {name!r} (names are letters, digits "
                         "and _, not starting with a digit)")
    return _intern(("var", name), "var", (), name, True, True)


def const(value):
    """The constant ``value``, a real number stored as a float (else ``GraphError``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise GraphError(f"a constant must be a real number, not {type(value).__name__}")
    try:
        value = float(value)
    except OverflowError:  # an int beyond the floats
        value = math.inf if value > 0 else -math.inf
    return _intern(("const", value.hex()), "const", (), value, False, math.isfinite(value))


def is_const(node, value=None):
    """Whether ``node`` is a constant (equal to ``value`` when one is given)."""
    return node.op == "const" and (value is None or node.value == value)


def apply(op_name, *args):
    """The node for operator ``op_name`` on ``args``, simplified where it is cheap."""
    op = OPS.get(op_name) if type(op_name) is str else None
    if op is None or len(args) != op.arity:
        raise GraphError(f"not an operation of the table: {op_name!r} on {len(args)} operands")
    constants, depends, total = 0, False, op.total
    for arg in args:  # one pass: this runs for every node of every graph
        if type(arg) is not Node:
            raise GraphError(f"not an operation of the table: {op_name!r} on {len(args)} "
                             "operands")
        constants += arg.op == "const"
        depends = depends or arg.depends
        total = total and arg.total
    # Constants fold first, by IEEE arithmetic: the identities below ignore signed zeros.
    if constants == len(args):
        folded = _fold(op_name, args)
        if folded is not None:
            return folded
    if constants or op_name == "neg":  # each identity has a constant operand, or is --x
        simpler = _SIMPLIFY.get(op_name, _no_rule)(*args)
        if simpler is not None:
            return simpler
    return _intern((op_name,) + args, op_name, args, None, depends, total)


def _fold(op_name, args):
    """The constant result, or None where evaluation fails or leaves the reals."""
    try:
        result = scalar_function(op_name)(*(arg.value for arg in args))
    except (ArithmeticError, ValueError):
        return None  # left in the graph, so evaluation reports it where it is
    if not math.isfinite(result):
        return None
    result = float(result)
    for arg in args:  # 1*log(2) is log(2), bit for bit: keep the operand and its text
        if arg.value == result and math.copysign(1.0, arg.value) == math.copysign(1.0, result):
            return arg
    if len(repr(result)) <= _READABLE:
        return const(result)
    # A separate node from the literal of the same value, so its text never
    # depends on which of the two was built first.
    return _intern(("const", result.hex(), op_name, *args), "const", (), result, False, True,
                   (op_name, args))


_READABLE = 8  # characters: 0.125 and 1234.5 print as they are; 0.6931471805599453 does not


def _no_rule(*args):
    return None


def _simplify_add(x, y):
    if is_const(y, 0):
        return x
    if is_const(x, 0):
        return y
    return None


def _simplify_sub(x, y):
    if is_const(y, 0):
        return x
    if is_const(x, 0):
        return apply("neg", y)
    return None


def _simplify_mul(x, y):
    for a, b in ((x, y), (y, x)):
        if is_const(a, 1):
            return b
        # 0*x is 0 only where x exists; -0.0*x keeps IEEE's sign rule, so is left as written.
        if is_const(a, 0) and math.copysign(1.0, a.value) > 0 and b.depends and b.total:
            return a
        if is_const(a, -1):
            return apply("neg", b)
    return None


def _simplify_div(x, y):
    return x if is_const(y, 1) else None


def _simplify_pow(x, y):
    if is_const(y, 1):
        return x
    if is_const(y, 0):
        return const(1.0)
    return None


def _simplify_neg(x):
    return x.args[0] if x.op == "neg" else None


def _simplify_xlogy(x, y):
    # Only x = 0 makes xlogy differ from x*log(y), and log(y) then raises: with a
    # positive constant y (2**x's derivative) the product is exact and reads better.
    if is_const(y) and y.value > 0:
        return apply("mul", x, apply("log", y))
    return None


_SIMPLIFY = {
    "add": _simplify_add,
    "sub": _simplify_sub,
    "mul": _simplify_mul,
    "div": _simplify_div,
    "pow": _simplify_pow,
    "neg": _simplify_neg,
    "xlogy": _simplify_xlogy,
}


def topological_order(roots, leaves=(), operands=attrgetter("args")):
    """Every node below ``roots``, each after its operands, in evaluation order.

    Iterative depth-first search, operands left to right: deterministic and free
    of Python's recursion limit.  Nodes in ``leaves`` (any container) are not
    looked into, except the roots themselves.  ``operands`` gives a node's
    operands, so graphs of other node types (``Value``) share this walk.
    """
    order, seen = [], set()
    for root in roots:
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(operands(root)))]
        while stack:
            node, pending = stack[-1]
            for child in pending:
                if child not in seen:
                    seen.add(child)
                    stack.append((child, iter(() if child in leaves else operands(child))))
                    break
            else:
                stack.pop()
                order.append(node)
    return order


def variables_of(roots):
    """Names of the input variables below ``roots``, in order of first use."""
    return tuple(n.value for n in topological_order(roots) if n.op == "var")


def operators_of(roots):
    """Names of the operators below ``roots``."""
    return {n.op for n in topological_order(roots) if n.args}


def structure(root):
    """A fully parenthesised prefix rendering, e.g. ``add(mul(a, b), c)``, for tests."""
    text = {}
    for node in topological_order([root]):
        if node.op == "var":
            text[node] = node.value
        elif node.op == "const":
            text[node] = repr(node.value)
        else:
            text[node] = f"{node.op}({', '.join(text[a] for a in node.args)})"
    return text[root]

