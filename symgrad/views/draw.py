"""Pictures of a program's graph: Graphviz DOT text, a terminal tree, rendered images.

Like micrograd's ``draw_dot``: one record box per value (its name, and its data
and gradient when known) and an op node between a value and its operands.
Names are those of the generated code: inputs and the program's own names, then
``t1, t2, ...`` and ``out``.  Numbers come from ``Program.evaluate``.  Building
DOT text needs nothing installed; only ``render`` runs Graphviz's ``dot`` program.
"""

import re
import shutil
import subprocess

from ..core.errors import EvaluationError, SymgradError, TooLargeError
from ..core.ir import Node
from ..core.ops import OPS
from ..core.printer import format_number, format_short
from ..core.printer import to_text as expression_text
from ..core.program import Program

RANKDIRS = ("LR", "RL", "TB", "BT")
INSTALL_HINT = "install Graphviz: apt-get install graphviz (or brew install graphviz)"
# Seconds Graphviz gets for one drawing: its layout time grows fast with crossing edges (a
# sum of 150 products over 50 shared inputs, 300 operations, took 150 s).
DOT_SECONDS = 60
# Operations the text tree draws at most: 2,100 in a chain printed 27 MB, rows 9,000 wide.
TREE_LIMIT = 1_000


def program_of(subject):
    """The ``Program`` to draw: given, a compiled function's, or built for an ``Expression``."""
    if isinstance(subject, Program):
        return subject
    program = getattr(subject, "program", None)
    return program if isinstance(program, Program) else Program(subject)


def node_values(program, point):
    """({node: value}, {node: gradient}) for every node of the graph at ``point``.

    Where the program is undefined, the numbers computed before the failure.
    """
    program = program_of(program)
    try:
        numbers = program.evaluate(point)
    except EvaluationError as error:
        if error.trace is None:
            raise
        numbers = error.trace
    graph = set(program.nodes)
    values = {node: x for node, x in numbers.values.items() if node in graph}
    return values, dict(numbers.grads)


def to_dot(subject, values=None, grads=None, backward=False, rankdir="LR"):
    """Graphviz DOT text of a ``Program`` (or a compiled function's, or an ``Expression``).

    ``values`` and ``grads`` map nodes, or input and node names (``"a"``,
    ``"t1"``, the program's own names), to numbers; boxes show them.  Given every
    input, the values of all operations are computed.  ``backward`` adds a dashed
    edge for every backward step of the program, labelled with its local derivative.
    """
    if rankdir not in RANKDIRS:
        raise SymgradError(f"rankdir must be one of {', '.join(RANKDIRS)}, not {rankdir!r}")
    plan = program_of(subject)
    order = plan.nodes
    data = _complete(plan, _by_node(values, plan))
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
        label = " | ".join(_record_escape(_fit(text)) for text in fields)
        lines.append(f'  {ids[node]} [shape=record, label="{{ {label} }}"];')
        if node.args:
            op = OPS[node.op]
            symbol = _escape(op.symbol or op.name)
            lines.append(f'  {ids[node]}_op [shape=ellipse, label="{symbol}"];')
            lines.append(f"  {ids[node]}_op -> {ids[node]};")
            for position, operand in enumerate(node.args):
                # Edges of an operator whose operands cannot swap say which is x and which y.
                label = "" if op.commutative or op.arity == 1 else f' [label="{"xy"[position]}"]'
                lines.append(f"  {ids[operand]} -> {ids[node]}_op{label};")
    if backward:
        for step in plan.backward:
            local = plan.local_text(step, parenthesize=True)
            style = "style=dashed, color=red, fontcolor=red, constraint=false"
            lines.append(f"  {ids[step.node]} -> {ids[step.operand]} "
                         f'[{style}, label="× {_escape(_fit(local))}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_text(subject, values=None, grads=None):
    """A tree of the program (or ``Expression``) for the terminal, from the output down to the inputs.

    A value used twice is drawn once; later uses say "(above)".  Iterative, so
    any depth prints.
    """
    plan = program_of(subject)
    if len(plan.forward) > TREE_LIMIT:  # a row per node, indented by its depth: the square
        raise TooLargeError(f"the program has {len(plan.forward):,} operations; the tree "
                            f"draws at most {TREE_LIMIT:,}: --code prints the program instead")
    data = _complete(plan, _by_node(values, plan))
    gradient = _by_node(grads, plan)
    rows, shown = [], set()
    stack = [(plan.root, "", "")]  # node, this row's prefix, its children's prefix
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


def render(dot_text, fmt, seconds=None):
    """The image of ``dot_text`` in format ``fmt`` ("svg", "png", ...) as bytes, via Graphviz,
    given ``seconds`` (default ``DOT_SECONDS``)."""
    if not re.fullmatch(r"[a-z0-9]+(:[a-z0-9]+)*", fmt):
        raise SymgradError(f"not an image format: {fmt!r}")
    program = shutil.which("dot")
    if program is None:
        raise SymgradError(f"drawing {fmt} needs Graphviz's 'dot' program; {INSTALL_HINT}")
    seconds = seconds or DOT_SECONDS
    try:
        result = subprocess.run([program, f"-T{fmt}"], input=dot_text.encode("utf-8"),
                                capture_output=True, check=False, timeout=seconds)
    except subprocess.TimeoutExpired:  # its layout grows fast with crossing edges
        raise SymgradError(f"Graphviz did not finish drawing in {seconds} s: "
                           "draw a smaller program (--graph prints the tree as text)") from None
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        stopped = f"stopped by signal {-result.returncode}" if result.returncode < 0 else ""
        raise SymgradError("Graphviz failed: "
                           f"{message[0] if message else stopped or 'no message'}")
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


def _complete(plan, data):
    """``data`` plus every operation's value, when ``data`` gives every input."""
    point = {node.value: x for node, x in data.items() if node.op == "var"}
    if not data or len(point) < len(plan.variables):
        return data
    values, _ = node_values(plan, point)
    return {**values, **data}


def _display_name(node, names):
    if node.op == "const":
        return format_number(node.value)
    return names[node]


def _printed(node, names):
    return expression_text(node, names, limit=60)


def _number(value):
    return format_short(value)


LABEL_LIMIT = 80  # characters of a name or a derivative a drawing shows; Graphviz
# refuses a label of 16,384 or more, and a long one is unreadable anyway


def _fit(text, limit=LABEL_LIMIT):
    """``text``, cut to ``limit`` characters with an ellipsis if longer."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _escape(text):
    """Text inside a DOT double-quoted string (our names and numbers hold no backslash)."""
    return text.replace('"', '\\"')


def _record_escape(text):
    """Text inside one field of a record label."""
    return _escape(re.sub(r"([{}|<>])", r"\\\1", text))
