"""The gate: the one validation every graph passes before the compiler trusts it.

Text, pickled rows, ``Expression(...)``, traced functions and ``Value`` graphs
all arrive here.  After the gate every variable and label is a name of the
language (so the name allocator can hand it to generated code), every constant
is a float, every operation is a row of the table with its arity, and the
variable list matches the graph.  Before it nothing is trusted: a pickle is as
untrusted as text.  Failures are ``GraphError`` with plain words.
"""

import threading

from .errors import GraphError, TooLargeError
from .ir import MAX_OPERATIONS, Node, apply, const, is_name, topological_order, var
from .ops import OPS


def admit(root, variables, labels):
    """Check one program's graph; return ``(variables, labels)`` as a tuple and a dict.

    ``variables`` must name every input of the graph once (inputs that the graph
    does not use are allowed: a traced function's unused parameter); ``labels``
    maps operation nodes of the graph to names.
    """
    if type(root) is not Node:
        raise GraphError(f"the root of a program must be a graph node, not {type(root).__name__}")
    variables = tuple(variables)
    listed = _input_set(variables)
    labels = dict(labels or {})
    # Every labelled node must be found below the root: then walk all of it.
    nodes, inputs = _below(root, listed, everything=bool(labels))
    missing = sorted(inputs - listed)
    if missing:
        raise GraphError(f"the graph uses {', '.join(missing)}, which the input list lacks")
    for node in nodes:
        node.admitted = listed
    checked = {}
    for node, name in labels.items():
        if not is_name(name):
            raise GraphError(f"not a valid name for a value: {name!r}")
        if node in nodes and node.args:
            checked[node] = name
    return variables, checked


# The last few input tuples admitted, by identity: a program's gradients are admitted
# one after another with the program's own tuple, which is then checked once, not once
# per gradient (quadratic in the number of inputs).
_RECENT = {}
_RECENT_LOCK = threading.Lock()


def _input_set(variables):
    """The set of the names in the tuple ``variables``, checked: names, none twice."""
    with _RECENT_LOCK:
        known = _RECENT.get(id(variables))
    if known is not None and known[0] is variables:
        return known[1]
    for name in variables:
        if not is_name(name):
            raise GraphError(f"not a valid input name: {name!r}")
    listed = frozenset(variables)
    if len(listed) != len(variables):
        seen, twice = set(), set()
        for name in variables:
            (twice if name in seen else seen).add(name)
        raise GraphError(f"input named twice: {', '.join(sorted(twice))}")
    with _RECENT_LOCK:
        if len(_RECENT) >= 8:
            del _RECENT[next(iter(_RECENT))]
        _RECENT[id(variables)] = (variables, listed)  # the tuple kept: its id stays its own
    return listed


def _below(root, listed, everything):
    """The nodes below ``root``, each checked, and the names of the inputs among them;
    ``GraphError`` at the first malformed node.

    Unless ``everything``, the walk stops at nodes admitted with the (remembered)
    input set ``listed`` before: a graph below them needs no second walk (its inputs
    are in ``listed``).  A program's gradients share most of their nodes; walking
    each in full was quadratic.
    """
    nodes, stack, inputs = {root}, [root], set()
    while stack:
        node = stack.pop()
        if node.admitted is listed and not everything:
            continue
        # The checks are written here, not called: this runs for every node of every graph.
        op = node.op
        if op == "var":
            if node.args or not is_name(node.value):
                raise GraphError(f"not a valid variable: {node.value!r}")
            inputs.add(node.value)
        elif op == "const":
            if node.args or type(node.value) is not float:
                raise GraphError(f"not a valid constant: {node.value!r}")
        else:
            row = OPS.get(op) if type(op) is str else None
            if row is None or type(node.args) is not tuple or len(node.args) != row.arity:
                raise GraphError(f"not an operation of the table: {op!r}")
        for child in node.args:
            if type(child) is not Node:
                raise GraphError(f"a graph holds nodes, not {type(child).__name__}")
            if child not in nodes:
                nodes.add(child)
                stack.append(child)
    return nodes, inputs


# Rows: the plain-data form of a graph (pickles) -------------------------------------


def to_rows(roots):
    """The graph below ``roots`` as plain rows ``(op, operand row numbers, value)``, and
    each node's row number.

    Rows are in evaluation order; ``from_rows`` reads them back through the gate.  A
    constant folded from an operation (``log(2)``) is written as that operation, which
    folds again when read, so its text still shows what the user wrote.
    """
    order = topological_order(roots, operands=_written_operands)
    number = {node: index for index, node in enumerate(order)}
    rows = []
    for node in order:
        op, operands = node.origin if node.origin is not None else (node.op, node.args)
        rows.append((op, tuple(number[a] for a in operands),
                     None if node.origin is not None else node.value))
    return rows, number


def _written_operands(node):
    return node.origin[1] if node.origin is not None else node.args


def from_rows(rows):
    """The nodes of ``to_rows`` output, rebuilt through the constructors, in row order.

    Every row is checked: its shape, its operator and arity, operand numbers that
    point to earlier rows, names and constants.  Anything else is a ``GraphError``.
    """
    if type(rows) not in (list, tuple):
        raise GraphError(f"graph rows must be a list, not {type(rows).__name__}")
    if len(rows) > MAX_ROWS:
        raise _too_large(f"{len(rows):,} rows")
    operations = sum(1 for row in rows if type(row) in (list, tuple) and len(row) == 3
                     and row[0] not in ("var", "const"))
    if operations > MAX_OPERATIONS:  # refused before a node is built
        raise _too_large(f"{operations:,} operations")
    nodes = []
    for number, row in enumerate(rows):
        if type(row) not in (list, tuple) or len(row) != 3:
            raise GraphError(f"row {number} is not (op, operands, value): {row!r:.80}")
        op, operands, value = row
        if type(operands) not in (list, tuple) or not all(
                type(i) is int and 0 <= i < number for i in operands):
            raise GraphError(f"row {number} has operands that are not earlier rows: "
                             f"{operands!r:.80}")
        if op == "var" and not operands:
            nodes.append(var(value))
        elif op == "const" and not operands and type(value) is float and value == value:
            nodes.append(const(value))
        elif type(op) is str and op in OPS and value is None:
            nodes.append(apply(op, *(nodes[i] for i in operands)))
        else:
            raise GraphError(f"row {number} is not a symgrad graph row: {row!r:.80}")
    return nodes


# A graph of MAX_OPERATIONS operations has at most this many distinct nodes.
MAX_ROWS = 3 * MAX_OPERATIONS + 1


def _too_large(what):
    return TooLargeError(f"the pickled program has {what}; symgrad compiles at most "
                         f"{MAX_OPERATIONS:,} operations, as it reads from text")


def from_plain(rows, root, variables, labels):
    """``(root node, variables, labels)`` from pickled rows, all through the gate."""
    if type(labels) not in (list, tuple) or len(labels) > MAX_ROWS:
        raise GraphError("the labels of a pickle must be a list of (row, name) pairs")
    nodes = from_rows(rows)
    if not nodes:
        raise GraphError("a program needs at least one row")
    indices = [root] + [pair[0] if type(pair) in (list, tuple) and len(pair) == 2 else None
                        for pair in labels]
    if not all(type(i) is int and 0 <= i < len(nodes) for i in indices):
        raise GraphError("a row number in the pickle is out of range")
    if type(variables) not in (list, tuple):
        raise GraphError("the input list of a pickle must be a list of names")
    variables, labels = admit(nodes[root], variables,
                              {nodes[i]: name for i, name in labels})
    return nodes[root], variables, labels
