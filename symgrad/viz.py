"""Pictures of an expression graph: Graphviz DOT text, a terminal tree, rendered images.

Like micrograd's ``draw_dot``: one record box per value (its name, and its data
and gradient when known) and an op node between a value and its operands.
Names are those of the generated code: inputs and the program's own names, then
``t1, t2, ...`` and ``out``.  Building DOT text needs nothing installed; only
``render`` runs Graphviz's ``dot`` program.
"""

import re
import shutil
import subprocess

from .codegen import schedule
from .errors import SymgradError
from .ir import Node, topological_order
from .ops import OPS
from .printer import format_number
from .printer import to_text as expression_text
from .runtime import scalar_function

RANKDIRS = ("LR", "RL", "TB", "BT")
NON_COMMUTATIVE = {"sub", "div", "pow"}  # their edges say which operand is x and which y
INSTALL_HINT = "install Graphviz: apt-get install graphviz (or brew install graphviz)"


def node_values(f, point):
    """({node: value}, {node: gradient}) for every node of ``f``'s graph at ``point``."""
    from .explain import trace

    numbers = trace(f, point)
    graph = set(topological_order([f.expression.root]))
    values = {node: x for node, x in numbers.values.items() if node in graph}
    return values, dict(numbers.grads)


def to_dot(expression, values=None, grads=None, backward=False, rankdir="LR"):
    """Graphviz DOT text of ``expression`` (a ``symgrad.Expression``).

    ``values`` and ``grads`` map nodes, or input and node names (``"a"``,
    ``"t1"``, the program's own names), to numbers; boxes show them.  Values of
    operations left out are computed from their operands.  ``backward`` adds a
    dashed edge for every chain-rule step, labelled with its local derivative.
    """
    if rankdir not in RANKDIRS:
        raise SymgradError(f"rankdir must be one of {', '.join(RANKDIRS)}, not {rankdir!r}")
    plan = schedule(expression)
    order = topological_order([expression.root])
    data = _complete(order, _by_node(values, plan))
    gradient = _by_node(grads, plan)
    ids = {node: f"n{index}" for index, node in enumerate(order)}
    lines = ["digraph symgrad {", f"  rankdir={rankdir};",
             '  node [fontname="Helvetica"]; edge [fontname="Helvetica"];']
    for node in order:
        fields = [_display_name(node, plan.names)]
        if node in data and node.op != "const":
            fields.append(f"data {_number(data[node])}")
        if node in gradient:
            fields.append(f"grad {_number(gradient[node])}")
        label = " | ".join(_record_escape(text) for text in fields)
        lines.append(f'  {ids[node]} [shape=record, label="{{ {label} }}"];')
        if node.args:
            op = OPS[node.op]
            symbol = _escape(op.symbol or op.name)
            lines.append(f'  {ids[node]}_op [shape=ellipse, label="{symbol}"];')
            lines.append(f"  {ids[node]}_op -> {ids[node]};")
            for position, operand in enumerate(node.args):
                label = f' [label="{"xy"[position]}"]' if node.op in NON_COMMUTATIVE else ""
                lines.append(f"  {ids[operand]} -> {ids[node]}_op{label};")
    if backward:
        for step in plan.steps:
            local = plan.names.get(step.local) or expression_text(step.local, plan.names, limit=40)
            if step.local.args and step.local not in plan.names:
                local = f"({local})"
            style = "style=dashed, color=red, fontcolor=red, constraint=false"
            lines.append(f"  {ids[step.node]} -> {ids[step.operand]} "
                         f'[{style}, label="× {_escape(local)}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_text(expression, values=None, grads=None):
    """A tree of ``expression`` for the terminal, from the output down to the inputs.

    A value used twice is drawn once; later uses say "(above)".  Iterative, so
    any depth prints.
    """
    plan = schedule(expression)
    order = topological_order([expression.root])
    data = _complete(order, _by_node(values, plan))
    gradient = _by_node(grads, plan)
    rows, shown = [], set()
    stack = [(expression.root, "", "")]  # node, this row's prefix, its children's prefix
    while stack:
        node, prefix, child_prefix = stack.pop()
        name = _display_name(node, plan.names)
        if node in shown and node.args:
            rows.append((f"{prefix}{name} (above)", node))
            continue
        shown.add(node)
        text = f"{name} = {_printed(node, plan.names)}" if node.args else name
        rows.append((prefix + text, node))
        children = list(node.args)
        for position in reversed(range(len(children))):
            last = position == len(children) - 1
            stack.append((children[position], child_prefix + ("└─ " if last else "├─ "),
                          child_prefix + ("   " if last else "│  ")))
    width = max(len(text) for text, _ in rows)
    lines = []
    for text, node in rows:
        columns = []
        if node in data and node.op != "const":
            columns.append(f"data {_number(data[node]):<10}")
        if node in gradient:
            columns.append(f"grad {_number(gradient[node])}")
        lines.append(f"{text:<{width}}  {'  '.join(columns)}".rstrip())
    return "\n".join(lines) + "\n"


def render(dot_text, fmt):
    """The image of ``dot_text`` in format ``fmt`` ("svg", "png", ...) as bytes, via Graphviz."""
    if not re.fullmatch(r"[a-z0-9]+(:[a-z0-9]+)*", fmt):
        raise SymgradError(f"not an image format: {fmt!r}")
    program = shutil.which("dot")
    if program is None:
        raise SymgradError(f"drawing {fmt} needs Graphviz's 'dot' program; {INSTALL_HINT}")
    result = subprocess.run([program, f"-T{fmt}"], input=dot_text.encode("utf-8"),
                            capture_output=True, check=False)
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SymgradError(f"Graphviz failed: {message[0] if message else 'no message'}")
    return result.stdout


def _by_node(mapping, plan):
    """``mapping`` with names resolved to nodes; an unknown name is an error."""
    if not mapping:
        return {}
    nodes = {name: node for node, name in plan.names.items()}
    nodes.update({name: node for node, name in plan.labels.items()})
    nodes.update({node.value: node for node in plan.names if node.op == "var"})
    resolved = {}
    for key, number in mapping.items():
        node = key if isinstance(key, Node) else nodes.get(key)
        if node is None:
            raise SymgradError(f"no value in the graph is called {key!r}")
        resolved[node] = float(number)
    return resolved


def _complete(order, data):
    """``data`` plus every operation whose operands all have values (evaluated here)."""
    if not data:
        return data
    for node in order:
        if node in data or not node.args:
            continue
        operands = [data.get(arg, arg.value if arg.op == "const" else None) for arg in node.args]
        if None in operands:
            continue
        try:
            data[node] = scalar_function(node.op)(*operands)
        except (ArithmeticError, ValueError):
            continue  # undefined here: drawn without a value
    return data


def _display_name(node, names):
    if node.op == "const":
        return format_number(node.value)
    return names[node]


def _printed(node, names):
    return expression_text(node, names, limit=60)


def _number(value):
    return f"{value:.4g}"


def _escape(text):
    """Text inside a DOT double-quoted string (our names and numbers hold no backslash)."""
    return text.replace('"', '\\"')


def _record_escape(text):
    """Text inside one field of a record label."""
    return _escape(re.sub(r"([{}|<>])", r"\\\1", text))
