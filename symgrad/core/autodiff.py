"""Reverse mode over the IR: the chain rule, one operator template at a time.

Walking from the output back to the inputs, every operand of every node gets the
contribution ``grad[node] * local``, where ``local`` is the operator's partial
from the table, instantiated on this node.  The result is IR again: a list of
steps (for code generation) and, on request, one gradient node per input.
"""

from collections import namedtuple
from functools import lru_cache
from operator import attrgetter

from . import ir
from .ops import OPS
from .syntax import parse

Step = namedtuple("Step", "node index operand local")
Step.__doc__ = "One chain-rule contribution: grad[operand] += grad[node] * local."


@lru_cache(maxsize=None)
def partial_pattern(op_name, index):
    """The partial's IR over the pattern variables x, y and out, in evaluation order."""
    # The partials are written in the language itself.
    return ir.topological_order([parse(OPS[op_name].partials[index]).root])


@lru_cache(maxsize=None)
def constant_partials(op_name):
    """Per operand, the partial as a constant node where it is one (``add``: 1), else None."""
    patterns = (partial_pattern(op_name, index) for index in range(OPS[op_name].arity))
    return tuple(pattern[0] if len(pattern) == 1 and pattern[0].op == "const" else None
                 for pattern in patterns)


def local_derivative(node, index):
    """d node / d node.args[index], as IR built on the node's own operands."""
    pattern = partial_pattern(node.op, index)
    if len(pattern) == 1:  # a constant, or one of x, y, out: nothing to build
        return _bound(pattern[0], node)
    built = {}
    for part in pattern:
        if part.args:
            built[part] = ir.apply(part.op, *[built[a] for a in part.args])
        else:
            built[part] = _bound(part, node)
    return built[part]


def _bound(leaf, node):
    """A pattern's constant, or the node (``out``) or operand (``x``, ``y``) it stands for."""
    if leaf.op == "const":
        return leaf
    if leaf.value == "out":
        return node
    return node.args[0 if leaf.value == "x" else 1]


def backward_steps(root, wrt=None, order=None):
    """The chain-rule steps from ``root`` back to its inputs, in the order they run.

    Every node's gradient is complete before it is passed on, because nodes are
    visited in reverse evaluation order.  Operands that no input (of ``wrt``, when
    given) lies below get no gradient: constants never do.  ``order`` is
    ``ir.topological_order([root])``, if the caller has it already.
    """
    return list(map(Step._make, chain_rule(root, wrt, order)))


def chain_rule(root, wrt=None, order=None):
    """``backward_steps`` as plain ``(node, index, operand, local)`` tuples, one at a time."""
    order = ir.topological_order([root]) if order is None else order
    needed = _needed(order, wrt)
    has_grad = {root}
    for node in reversed(order):
        if node not in has_grad or not node.args:  # inputs pass nothing on
            continue
        partials = constant_partials(node.op)
        for index, operand in enumerate(node.args):
            if operand not in needed:
                continue
            local = partials[index] or local_derivative(node, index)
            if local.op == "const" and local.value == 0:
                continue
            yield node, index, operand, local
            has_grad.add(operand)


def _needed(order, wrt):
    """Nodes with a wanted input below them."""
    if wrt is None:
        return set(filter(attrgetter("depends"), order))
    wanted = set(wrt)
    needed = set()
    for node in order:
        if node.op == "var":
            if node.value in wanted:
                needed.add(node)
        elif any(arg in needed for arg in node.args):
            needed.add(node)
    return needed


def gradient_nodes(root, variables, steps=None):
    """{name: IR of d root / d name} for every name in ``variables``."""
    steps = backward_steps(root, variables) if steps is None else steps
    one = ir.const(1.0)  # interned: every partial that is 1 is this node
    adjoint = {root: one}
    for step in steps:
        # upstream * 1 is upstream, as apply would simplify it: an add's steps skip the call
        upstream = adjoint[step.node]
        contribution = upstream if step.local is one else ir.apply("mul", upstream, step.local)
        previous = adjoint.get(step.operand)
        adjoint[step.operand] = (
            contribution if previous is None else ir.apply("add", previous, contribution))
    zero = ir.const(0.0)
    return {name: adjoint.get(ir.var(name), zero) for name in variables}
