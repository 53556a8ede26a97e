"""The graph of an array program: one box per array, with its shape and a preview of its values.

Views read an ``ArrayFunction`` (its ``program`` and its ``trace``) without
importing it.  The boxes are the program's inputs and the values its forward
code names (``t1``, ``logits``, ``out``); constants and ``arange(n)`` are small
boxes of their own.  With a point, each box shows its concrete shape and its
first numbers as a heat map, and under them its gradient's.
"""

import html

from ..arrays import printer, shapes
from ..arrays.program import INLINE, ArrayProgram
from ..arrays.table import ARRAY_OPS
from ..core.errors import SymgradError
from ..core.ops import OPS
from ..core.printer import format_number
from .draw import RANKDIRS

SYMBOLS = {"matmul": "@", "take": "[ ]"}


def is_array_function(obj):
    """Whether ``obj`` is a compiled array program (it has an ``ArrayProgram``)."""
    return isinstance(getattr(obj, "program", None), ArrayProgram)


def numbers(f, point, steps=None):
    """({node: value}, {node: gradient}) of every box at ``point``, from ``f.trace``
    (or from its ``steps``, already traced)."""
    if point is None:
        return {}, {}
    if steps is None:
        _, _, steps = f.trace(**point)
    program = f.program
    values = {program.expression.inputs[name]: point[name] for name in program.inputs}
    values.update((step.node, value) for step, value in zip(program.forward, steps))
    owner = {name: node for node, name in program.grads.items()}
    grads = {}
    for step, value in zip(program.backward, steps[len(program.forward):]):
        if step.target in owner:  # later contributions to the same gradient overwrite
            grads[owner[step.target]] = value
    return values, grads


def boxes(program):
    """The nodes drawn, operands first: the inputs, then each forward step."""
    order = list(program.expression.inputs.values())
    for step in program.forward:
        order += [a for a in step.node.args if a.op in INLINE and a not in order]
        if step.node not in order:
            order.append(step.node)
    return order


def operands(node, drawn):
    """The boxes an arrow runs from into ``node`` (none into inputs and inline values)."""
    if node.op == "var" or node.op in INLINE:
        return ()
    return tuple(a for a in node.args if a in drawn)


def label(node, names):
    """A box's name: the code's name, a constant's number, ``arange(n)``."""
    if node.op == "const":
        return format_number(node.value)
    if node in names:
        return names[node]
    return printer.formula(node, names)


def shape_text(node):
    """The declared shape: ``(n, 4)``, or ``int[n]`` for an integer array."""
    return shapes.declared(node.shape, "int") if node.dtype == "int" else shapes.text(node.shape)


def symbol(node):
    """(what the operation's circle says, the roles its edges are labelled with)."""
    if node.op in OPS:
        op = OPS[node.op]
        return op.symbol or op.name, ("x", "y") if not op.commutative and op.arity == 2 else ()
    row = ARRAY_OPS[node.op]
    roles = ("x", "i", "j", "k") if node.op == "take" else ("x", "y")
    return SYMBOLS.get(node.op, row.rule), roles if len(node.args) > 1 else ()


def to_dot(f, point=None, rankdir="LR"):
    """Graphviz DOT text of an ``ArrayFunction``'s graph, with values at ``point`` when given."""
    if rankdir not in RANKDIRS:
        raise SymgradError(f"rankdir must be one of {', '.join(RANKDIRS)}, not {rankdir!r}")
    program = f.program
    values, grads = numbers(f, point)
    order = boxes(program)
    drawn = set(order)
    ids = {node: f"n{index}" for index, node in enumerate(order)}
    lines = ["digraph symgrad {", f"  rankdir={rankdir};",
             '  node [fontname="Helvetica", shape=plain]; edge [fontname="Helvetica"];']
    for node in order:
        lines.append(f"  {ids[node]} [label=<{_table(node, program, values, grads)}>];")
        args = operands(node, drawn)
        if not args:
            continue
        text, roles = symbol(node)
        lines.append(f'  {ids[node]}_op [shape=ellipse, label="{_quoted(text)}"];')
        lines.append(f"  {ids[node]}_op -> {ids[node]};")
        for position, operand in enumerate(node.args):
            if operand in drawn:
                role = f' [label="{roles[position]}"]' if position < len(roles) else ""
                lines.append(f"  {ids[operand]} -> {ids[node]}_op{role};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _table(node, program, values, grads):
    """A box as a Graphviz HTML-like table: name and shape, then data and grad previews."""
    from . import previews

    name = html.escape(label(node, program.names))
    shape = html.escape(shape_text(node))
    parts, rows = [], []
    width = 1
    for title, mapping in (("data", values), ("grad", grads)):
        if node in mapping and node.op != "const":
            cells, span = previews.dot_rows(mapping[node])
            width = max(width, span)
            size = previews.shape_of(mapping[node]) if node.shape else ""
            rows.append((html.escape(f"{title} {size}".strip()), cells))
    fill = ' BGCOLOR="#f4f4f4"' if node.op in INLINE else ""
    parts.append(f'<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3"{fill}>')
    heading = name if node.op in INLINE else f"<B>{name}</B> {shape}"
    parts.append(f'<TR><TD COLSPAN="{width}">{heading}</TD></TR>')
    for title, cells in rows:
        parts.append(f'<TR><TD COLSPAN="{width}"><I>{title}</I></TD></TR>{cells}')
    parts.append("</TABLE>")
    return "".join(parts)


def _quoted(text):
    """Text inside a DOT double-quoted string."""
    return text.replace("\\", "\\\\").replace('"', '\\"')
