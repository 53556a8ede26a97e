"""Second derivatives from the backward pass itself: reverse mode run over its own result.

The backward pass is IR (``autodiff.gradient_nodes``), so it can be differentiated
again by the same templates; no second differentiator exists.  ``hvp_expression``
builds the program ``v_a*grad_a + v_b*grad_b + ...`` whose gradient is the
Hessian-vector product ``H v``; ``second_derivative_nodes`` gives every
``d2f/da db`` as IR.
"""

from .autodiff import gradient_nodes
from .expression import Expression
from .ir import apply, const, var


def vector_names(variables, wrt):
    """{input of wrt: the name of its component of the vector}: ``v_a``, never an input's name."""
    taken = set(variables)
    names = {}
    for name in wrt:
        candidate, number = f"v_{name}", 1
        while candidate in taken:
            number += 1
            candidate = f"v_{name}_{number}"
        taken.add(candidate)
        names[name] = candidate
    return names


def hvp_expression(expression, wrt):
    """(program computing the gradient dotted with ``v``, {input: vector component name}).

    Its value is the directional derivative ``grad f . v``, its gradient with
    respect to ``wrt`` is ``H v``.  The first-order gradients are labelled
    ``grad_<input>`` so the printed forward pass reads as the first backward pass.
    """
    variables = expression.variables
    vector = vector_names(variables, wrt)
    grads = gradient_nodes(expression.root, wrt)
    labels = dict(expression.labels)
    total = const(0.0)
    for name in wrt:
        node = grads[name]
        if node.args and node not in labels:
            labels[node] = f"df_d{name}"
        total = apply("add", total, apply("mul", var(vector[name]), node))
    return Expression(total, (*variables, *vector.values()), labels), vector


def second_derivative_nodes(expression, wrt):
    """{a: {b: IR of d2f/da db}} for every pair of ``wrt``: the gradient of each gradient."""
    grads = gradient_nodes(expression.root, wrt)
    return {a: gradient_nodes(grads[a], wrt) for a in wrt}
