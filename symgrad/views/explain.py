"""The backward pass at one point, step by step, the way the lecture does it by hand.

``explain`` reads the numbers of ``Program.evaluate`` and writes lines such as::

    out = tanh(t2) = 0.9993  →  grad_t2 = grad_out * (1 - out**2) = 1 * 0.001341 = 0.001341

Names are those of the generated code (``f.source``), so both read alike.
"""

from ..core.ir import var
from ..core.printer import format_short, to_text
from .draw import program_of


def explain(subject, point, digits=4):
    """The backward pass of a program (or compiled function) at ``point`` as lines of text.

    Each node shows its forward value, then every gradient it passes on: the
    formula, the numbers and the result.  It ends with each input's gradient.
    Numbers have ``digits`` significant digits.  Raises ``EvaluationError``
    (naming the subexpression) where a value or gradient does not exist.
    """
    program = program_of(subject)
    numbers = program.evaluate({name: float(point[name]) for name in program.variables})

    def number(x):
        return format_short(x, digits)

    root_name = _name(program, program.root)
    lines = []
    if program.seed is not None:
        lines.append(f"{program.seed} = 1  (the seed: d {root_name}/d {root_name} = 1)")
    current, indent = None, ""
    for item in numbers.contributions:
        node = item.step.node
        if node is not current:
            current = node
            head = f"{program.statement(node)} = {number(numbers.values[node])}  "
            indent = " " * len(head)
            lines.append(head + "→  " + _contribution_text(program, item, number))
        else:
            lines.append(indent + "→  " + _contribution_text(program, item, number))
    lines.append(f"gradient of {root_name}:")
    for name in program.wrt:
        lines.append(f"  ∂{root_name}/∂{name} = {number(numbers.grads.get(var(name), 0.0))}")
    return lines


def _name(program, node):
    return program.names.get(node) or to_text(node, limit=40)


def _contribution_text(program, item, number):
    """``grad_x = grad_out * (local) = 1 * 0.5 = 0.5`` for one step (``+=`` after the first)."""
    step = item.step
    sign = "=" if step.first else "+="
    if step.local.op == "const" and step.local.value in (1.0, -1.0):
        minus = "-" if step.local.value < 0 else ""
        text = f"{step.target} {sign} {minus}{step.upstream} = {number(item.amount)}"
    else:
        local = program.local_text(step, parenthesize=True)
        text = (f"{step.target} {sign} {step.upstream} * {local} = "
                f"{_factor(number(item.upstream))} * {_factor(number(item.local))} = "
                f"{number(item.amount)}")
    if not step.first:
        text += f", so {step.target} = {number(item.total)}"
    return text


def _factor(text):
    """A number as a factor of a product: negative ones in parentheses."""
    return f"({text})" if text.startswith("-") else text


def explain_forward(schedule, point, direction, digits=4):
    """Forward mode at ``point`` along ``direction`` ({input of wrt: float}), as lines of text.

    ``schedule`` is a ``symgrad.core.forward.TangentProgram``.  Each value is
    followed by its tangent: the rule, the numbers and the result, in the order
    the generated ``jvp`` computes them.
    """
    program = schedule.program
    numbers = schedule.evaluate({name: float(point[name]) for name in program.variables},
                                direction)

    def number(x):
        return format_short(x, digits)

    given = ", ".join(f"{schedule.tangents[name]} = {number(direction.get(name, 0.0))}"
                      for name in program.wrt)
    lines = [f"{given}  (the direction: one tangent per input)"] if given else []
    for step, tangent in schedule.steps:
        head = f"{program.statement(step.node)} = {number(numbers.values[step.node])}  "
        if not tangent.terms:
            lines.append(head + "(no input of the direction below: its tangent is 0)")
            continue
        formula, values = [], []
        for term in tangent.terms:
            local = term.local
            local_value = numbers.values[local] if local in numbers.values else local.value
            tangent_value = number(numbers.tangents[term.operand])
            if local.op == "const" and abs(local.value) == 1.0:
                sign = "-" if local.value < 0 else "+"
                formula.append((sign, term.tangent))
                first_plus = sign == "+" and not values
                values.append((sign, tangent_value if first_plus else _factor(tangent_value)))
            else:
                text = schedule.local_text(term, step.node)
                text = f"({text})" if local.args and local not in schedule.known(step.node) \
                    else text
                formula.append(("+", f"{text}*{term.tangent}"))
                values.append(("+", f"{_factor(number(local_value))}*{_factor(tangent_value)}"))
        result = number(numbers.tangents[step.node])
        shown = [_sum(formula), _sum(values), result]
        if shown[1] == result:  # a single tangent passed on: its number once
            del shown[1]
        lines.append(f"{head}→  {tangent.name} = {' = '.join(shown)}")
    root_name = _name(program, program.root)
    result = numbers.tangents.get(program.root, 0.0)
    lines.append(f"directional derivative of {root_name}: {schedule.result or 0} = "
                 f"{number(result)}")
    return lines


def _sum(pieces):
    """``a + b - c`` from (sign, text) pairs."""
    text = ""
    for sign, piece in pieces:
        if not text:
            text = piece if sign == "+" else f"-{piece}"
        else:
            text += f" {sign} {piece}"
    return text
