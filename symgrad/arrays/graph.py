"""Array nodes: like ``core.ir`` nodes, plus a shape, a dtype and static attributes.

``op`` is "var", "const", "grad" (the gradient arriving at a forward node, a leaf
of adjoint expressions), a row name of the operator table (elementwise,
broadcast) or of ``table.ARRAY_OPS``.  ``attrs`` holds the static arguments (an
axis, a target shape).  Nodes are hash-consed: one node per (op, args, attrs).
"""

import threading
import weakref

from .. core import ir

_NODES = weakref.WeakValueDictionary()
_LOCK = threading.Lock()


class ANode:
    """One array value: ``shape`` (ints and dimension names), ``dtype`` "float" or "int"."""

    __slots__ = ("op", "args", "attrs", "value", "shape", "dtype", "depends", "__weakref__")

    def __repr__(self):
        return f"ANode({self.op}, shape={self.shape})"

    @property
    def rank(self):
        return len(self.shape)


def make(op, args, attrs, shape, dtype="float", value=None):
    """The node for ``op`` on ``args`` with ``attrs``; the existing one when it is built."""
    key = (op, args, attrs, value if op != "const" else float(value).hex())
    with _LOCK:
        node = _NODES.get(key)
        if node is None:
            node = ANode()
            node.op, node.args, node.attrs, node.value = op, args, attrs, value
            node.shape, node.dtype = tuple(shape), dtype
            node.depends = op == "var" and dtype == "float" or any(a.depends for a in args)
            _NODES[key] = node
        return node


def var(name, shape=(), dtype="float"):
    return make("var", (), (tuple(shape), dtype), shape, dtype, name)


def const(value):
    return make("const", (), (), (), "float", float(value))


def grad(node):
    """The gradient arriving at ``node``: a named leaf of the backward pass."""
    return make("grad", (node,), (), node.shape)


def is_const(node, value=None):
    return node.op == "const" and (value is None or node.value == value)


def order(roots):
    """Every node below ``roots``, operands first (iterative, deterministic)."""
    return ir.topological_order(roots)
