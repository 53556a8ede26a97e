"""Reverse mode on arrays, as more array nodes.

Walking the forward nodes from the result back, each operand that a float
input lies below receives a contribution built over ``grad(node)`` (the
gradient arriving at the node, a named leaf): for an elementwise row,
``g * partial`` from the operator table, then summed over the axes its operand
was broadcast along (an explicit ``sum(..., axis=k)``); for a structural row,
the row's adjoint text, built by the same builder.  Integer inputs get no
gradient.
"""

from collections import namedtuple

from ..core.autodiff import partial_pattern
from ..core.ops import OPS
from . import graph, shapes
from .build import Builder, expand_text
from .table import ARRAY_OPS

Contribution = namedtuple("Contribution", "node index operand value local broadcast")
Contribution.__doc__ = """grad[operand] += value, where value is built over grad(node).

``local`` is the elementwise partial's node (None for structural rows);
``broadcast`` the axes summed to undo broadcasting (empty if none)."""

_BUILDER = Builder("", internal=True)


def contributions(root, wrt=None):
    """Every contribution, in the order they run; the seed grad(root) is the constant 1.

    With ``wrt`` (input names), only operands that one of them lies below get one.
    """
    order = graph.order([root])
    needed = {node for node in order if node.depends}
    if wrt is not None:
        wanted, needed = set(wrt), set()
        for node in order:
            if (node.op == "var" and node.value in wanted and node.dtype == "float") or any(
                    arg in needed for arg in node.args):
                needed.add(node)
    has_grad, result = {root}, []
    for node in reversed(order):
        if node not in has_grad or not node.args:
            continue
        upstream = graph.const(1.0) if node is root else graph.grad(node)
        for index, operand in enumerate(node.args):
            if operand not in needed:
                continue
            contribution = _contribution(node, index, operand, upstream)
            if contribution is not None:
                result.append(contribution)
                has_grad.add(operand)
    return result


def _contribution(node, index, operand, g):
    if node.op in OPS:
        local = _BUILDER.instantiate(partial_pattern(node.op, index), node)
        if graph.is_const(local, 0):
            return None
        value = _BUILDER.elementwise("mul", (g, local))
        value, axes = unbroadcast(value, operand)
        return Contribution(node, index, operand, value, local, axes)
    row = ARRAY_OPS[node.op]
    text = row.adjoints(node.args, node.attrs)[index]
    if text is None:
        return None
    env = {"g": g, "out": node, "x": node.args[0]}
    if node.op == "take":
        env.update({f"i{n}": arg for n, arg in enumerate(node.args[1:])})
    elif len(node.args) > 1:
        env["y"] = node.args[1]
    value = expand_text(text, env)
    if value.shape != operand.shape:  # e.g. the seed 1.0 of sum(x): give it x's shape
        value = _BUILDER.structural("broadcast_like", (value, operand), ())
    return Contribution(node, index, operand, value, None, ())


def unbroadcast(value, operand):
    """``value`` summed back to ``operand``'s shape along the axes broadcasting added; and
    those axes."""
    shape = operand.shape
    if value.shape == shape:
        return value, ()
    lead, kept = shapes.unbroadcast_axes(shape, value.shape)
    if lead:
        axis = None if len(lead) == value.rank else lead
        value = _BUILDER.structural("sum", (value,), (axis, False))
    if kept:
        value = _BUILDER.structural("sum", (value,), (tuple(k - len(lead) for k in kept), True))
    if value.shape != shape:  # a scalar seed against an array: spread it
        value = _BUILDER.structural("broadcast_like", (value, operand), ())
    return value, lead + kept


def gradient_nodes(root, steps=None):
    """{input var node: its gradient as one array formula over the forward nodes}."""
    steps = contributions(root) if steps is None else steps
    total = {root: graph.const(1.0)}
    for step in steps:
        value = _substitute(step.value, total)
        previous = total.get(step.operand)
        total[step.operand] = value if previous is None else _BUILDER.elementwise(
            "add", (previous, value))
    return {node: value for node, value in total.items() if node.op == "var"}


def _substitute(value, total):
    """``value`` with every grad(node) leaf replaced by that node's total gradient."""
    built = {}
    for part in graph.order([value]):
        if part.op == "grad":
            built[part] = total[part.args[0]]
        elif part.args and any(a in built and built[a] is not a for a in part.args):
            args = tuple(built.get(a, a) for a in part.args)
            built[part] = graph.make(part.op, args, part.attrs, part.shape, part.dtype,
                                     part.value)
        else:
            built[part] = part
    return built[value]
