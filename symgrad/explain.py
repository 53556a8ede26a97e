"""The backward pass at one point, step by step, the way the lecture does it by hand.

``trace`` evaluates every value, every local derivative and every gradient of a
compiled function's schedule with the scalar runtime; ``explain`` turns that
into lines such as::

    out = tanh(t2) = 0.9993  →  grad_t2 = grad_out * (1 - out**2) = 1 * 0.001341 = 0.001341

Names are those of the generated code (``f.source``), so both read alike.
"""

from dataclasses import dataclass

from . import ir
from .errors import EvaluationError
from .printer import to_text
from .runtime import scalar_function


@dataclass
class Contribution:
    """One chain-rule step with its numbers: grad[operand] += grad[node] * local."""

    step: object  # autodiff.Step
    upstream: float  # the gradient arriving at step.node
    local: float  # the local derivative's value
    amount: float  # upstream * local
    total: float  # the operand's gradient after adding amount
    first: bool  # whether this is the operand's first contribution (= rather than +=)


@dataclass
class Trace:
    """Every number of one evaluation: node values, gradients and the steps between."""

    values: dict  # node -> value: inputs, operations and local derivatives
    grads: dict  # node -> its complete gradient
    contributions: list  # one Contribution per backward step, in order


def trace(f, point):
    """Evaluate ``f`` (a ``CompiledFunction``) at ``point`` ({input: number}) node by node.

    Raises ``EvaluationError`` (naming the subexpression) where the value or a
    gradient does not exist, as ``f.value_and_grad`` does.
    """
    f.value_and_grad(**point)  # checks the inputs and reports any failure precisely
    plan = f._plan
    values = {ir.var(name): float(point[name]) for name in f.variables}
    for node in plan.forward:
        _evaluate(node, values)
    grads = {plan.root: 1.0}
    contributions = []
    for step in plan.steps:
        for node in ir.topological_order([step.local], values):
            _evaluate(node, values)
        upstream, local = grads[step.node], _value(step.local, values)
        first = step.operand not in grads
        amount = upstream * local
        grads[step.operand] = amount if first else grads[step.operand] + amount
        contributions.append(
            Contribution(step, upstream, local, amount, grads[step.operand], first))
    return Trace(values, grads, contributions)


def _value(node, values):
    return values[node] if node in values else node.value


def _evaluate(node, values):
    if node in values or not node.args:
        return
    try:
        values[node] = scalar_function(node.op)(*(_value(a, values) for a in node.args))
    except (ArithmeticError, ValueError) as error:  # value_and_grad found none: be safe
        raise EvaluationError(f"{to_text(node, limit=100)} failed: {error}") from None


def explain(f, point, digits=4):
    """The backward pass of ``f`` at ``point`` as lines of text, from the output back.

    Each node shows its forward value, then every gradient it passes on: the
    formula, the numbers and the result.  It ends with each input's gradient.
    Numbers have ``digits`` significant digits.
    """
    plan, numbers = f._plan, trace(f, point)

    def number(x):
        return f"{x:.{digits}g}"

    lines = []
    if plan.root in plan.grads:
        lines.append(f"{plan.grads[plan.root]} = 1  (the seed: d {_name(plan, plan.root)}/"
                     f"d {_name(plan, plan.root)} = 1)")
    current, indent = None, ""
    for item in numbers.contributions:
        node = item.step.node
        if node is not current:
            current = node
            head = (f"{plan.names[node]} = {to_text(node, plan.names)} = "
                    f"{number(numbers.values[node])}  ")
            indent = " " * len(head)
            lines.append(head + "→  " + _contribution_text(plan, item, number))
        else:
            lines.append(indent + "→  " + _contribution_text(plan, item, number))
    lines.append(f"gradient of {_name(plan, plan.root)}:")
    for name in plan.wrt:
        node = ir.var(name)
        lines.append(f"  ∂{_name(plan, plan.root)}/∂{name} = "
                     f"{number(numbers.grads.get(node, 0.0))}")
    return lines


def _name(plan, node):
    return plan.names.get(node) or to_text(node, limit=40)


def _contribution_text(plan, item, number):
    """``grad_x = grad_out * (local) = 1 * 0.5 = 0.5`` for one step (``+=`` after the first)."""
    step = item.step
    target, upstream = plan.grads[step.operand], plan.grads[step.node]
    sign = "=" if item.first else "+="
    if ir.is_const(step.local, 1.0) or ir.is_const(step.local, -1.0):
        minus = "-" if step.local.value < 0 else ""
        text = f"{target} {sign} {minus}{upstream} = {number(item.amount)}"
    else:
        local = plan.names.get(step.local) or to_text(step.local, plan.names)
        if step.local.args and step.local not in plan.names:
            local = f"({local})"
        text = (f"{target} {sign} {upstream} * {local} = {_factor(number(item.upstream))} * "
                f"{_factor(number(item.local))} = {number(item.amount)}")
    if not item.first:
        text += f", so {target} = {number(item.total)}"
    return text


def _factor(text):
    """A number as a factor of a product: negative ones in parentheses."""
    return f"({text})" if text.startswith("-") else text
