"""IR back to text in symgrad's own language, with Python's precedence rules.

Sums print with spaces (``a*b + c``), products and powers without, as SymPy
does.  Printing is iterative, so deep graphs print without recursion.
"""

import math
import re
import string
from functools import lru_cache, partial

from .ir import topological_order, var
from .ops import CALL, CONSTANTS, OPS, POWER, PRODUCT, SUM, UNARY

ATOM = CALL  # names, numbers and calls bind tightest


_CONSTANT_NAMES = {value: name for name, value in CONSTANTS.items()}


def format_number(value, named=CONSTANTS.keys()):
    """A constant as the language writes it: ``2``, ``0.5``, ``pi``, ``1e999`` for infinity.

    Only constants in ``named`` print by name; the others as digits, for text
    where a name ``pi`` or ``e`` stands for something else.
    """
    name = _CONSTANT_NAMES.get(abs(value))
    if name is not None and name in named:
        return name if value > 0 else "-" + name
    if math.isinf(value):
        return "1e999" if value > 0 else "-1e999"
    if math.isnan(value):
        return "(1e999 - 1e999)"
    if value == 0 and math.copysign(1.0, value) < 0:
        return "-0.0"
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def format_short(value, digits=4):
    """A number for people reading a view (boxes, explanations): ``digits`` significant digits.

    micrograd's graph boxes show four; code and the language use ``repr`` exactness
    instead (``format_number``).  Zero shows as 0, never -0: the sign of a zero is
    IEEE bookkeeping, not something a learner should stop at.
    """
    return f"{value + 0.0:.{digits}g}"


def to_text(root, names=None, limit=None, named=CONSTANTS.keys()):
    """``root`` as one expression; nodes found in ``names`` print as that name.

    With ``limit``, printing stops a little after that many characters and ends
    in "...", so a short description of a huge graph costs little.  ``named``:
    see ``format_number``.
    """
    leaf = language_leaf if named == CONSTANTS.keys() else partial(language_leaf, named=named)
    # Not ``names or {}``: the truth of a mapping is its len(), which a view counts.
    return render(root, {} if names is None else names, leaf, language_template, limit,
                  unfold=True)


def language_leaf(node, named=CONSTANTS.keys()):
    """(text, precedence) of a variable or constant in the language."""
    if node.op == "var":
        return node.value, ATOM
    text = format_number(node.value, named)
    return text, UNARY if text.startswith("-") else ATOM



def language_template(op, node):
    """How the language writes a function application: ``tanh({x})``; None for infix."""
    if op.symbol is not None:
        return None
    return _call_template(op.name, op.arity)


@lru_cache(maxsize=None)
def _call_template(name, arity):
    return f"{name}({', '.join('{' + key + '}' for key in 'xy'[:arity])})"


_FORMATTER = string.Formatter()


def render(root, names, leaf, template, limit=None, unfold=False):
    """Precedence-aware text of ``root``, written left to right with an explicit stack.

    ``names`` maps nodes to the name that stands for them; ``leaf(node)`` gives
    (text, precedence) for variables and constants; ``template(op, node)`` gives
    a format string over {x} and {y} for a node written as a call (templates are
    atoms: calls or parenthesised), or None to write the operator's infix symbol.
    With ``unfold``, a folded constant that has an ``origin`` prints as the
    operation it came from (``log(2)``), as the user wrote it.  Time is linear in
    the length of the text.
    """
    pieces, length = [], 0
    stack = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            pieces.append(item)
            length += len(item)
            if limit is not None and length > limit:
                pieces.append("...")
                break
        elif item in names and item is not root:
            stack.append(names[item])
        elif not item.args and not (unfold and item.origin):
            stack.append(leaf(item)[0])
        else:
            stack.extend(reversed(_layout(item, names, leaf, template, unfold)))
    return "".join(pieces)


def _shape(node, unfold):
    """(op name, operands) of an operation, or of a folded constant's origin when unfolding."""
    if unfold and node.origin:
        return node.origin
    return node.op, node.args


def precedence(node, names, leaf, template, unfold=False):
    """How tightly the text of ``node`` binds, to decide on parentheses around it."""
    if node in names:
        return ATOM
    op_name, args = _shape(node, unfold)
    if not args:
        return leaf(node)[1]
    op = OPS[op_name]
    return ATOM if template(op, node) is not None else op.precedence


def _layout(node, names, leaf, template, unfold=False):
    """The pieces of one node's text: strings and operand nodes, left to right."""
    op_name, args = _shape(node, unfold)
    form = template(OPS[op_name], node)
    levels = tuple(precedence(arg, names, leaf, template, unfold) for arg in args)
    pieces = []
    for piece in _arrangement(op_name, form, levels):
        if type(piece) is str:
            pieces.append(piece)
        else:
            index, wrapped = piece
            pieces += ["(", args[index], ")"] if wrapped else [args[index]]
    return pieces


def compose(op, form, texts, levels):
    """(text, precedence) of an operation from its operands' texts and precedences, bottom-up.

    ``form`` is the template (``template(op, node)``), or None for the infix symbol.
    The same layout as ``render``, for printers that build text from named parts.
    """
    return (_format(op.name, form, tuple(levels)).format(*texts),
            ATOM if form is not None else op.precedence)


@lru_cache(maxsize=None)
def _format(op_name, form, levels):
    """``_arrangement`` as a format string over the operands' texts: ``{0} - ({1})``."""
    return "".join(piece.replace("{", "{{").replace("}", "}}") if type(piece) is str
                   else f"({{{piece[0]}}})" if piece[1] else f"{{{piece[0]}}}"
                   for piece in _arrangement(op_name, form, levels))


@lru_cache(maxsize=None)
def _arrangement(op_name, form, levels):
    """An operation's text as strings and (operand index, whether parenthesised) pairs.

    ``levels`` is how tightly each operand's text binds.
    """
    op = OPS[op_name]
    if form is not None:
        pieces = []
        for text, index, alone in _parsed_template(form):
            pieces.append(text)
            if index is not None:
                pieces.append((index, not alone and levels[index] < ATOM))
        return tuple(pieces)
    if op.arity == 1:
        return op.symbol, (0, levels[0] <= UNARY)
    if op.precedence == POWER:  # right-associative; the exponent may be unary
        return (0, levels[0] <= POWER), "**", (1, levels[1] < UNARY)
    # Equal precedence on the right keeps its parentheses: a - (b - c), a + (b + c).
    symbol = f" {op.symbol} " if op.precedence == SUM else op.symbol
    return (0, levels[0] < op.precedence), symbol, (1, levels[1] <= op.precedence)


@lru_cache(maxsize=None)
def _parsed_template(form):
    """(text, operand index or None, whether the operand stands alone as an argument)."""
    pieces = []
    for text, key, _, _ in _FORMATTER.parse(form):
        alone = key is not None and re.search(r"[(,]\s*\{" + key + r"\}\s*[,)]", form)
        pieces.append((text, None if key is None else "xy".index(key), bool(alone)))
    return tuple(pieces)


def inline_size(root, leaves=(), order=None):
    """Length the inline text of ``root`` would roughly have, without building it;
    ``order`` is ``topological_order([root], leaves)``, if the caller has it."""
    size = {}
    for node in topological_order([root], leaves) if order is None else order:
        size[node] = 4 if node in leaves else sum(size[a] for a in node.args) + 4
    return size[root]


def printed_constants(root, reserved=(), labels=None, known=None, order=None):
    """The constants (pi, e) that text of ``root`` may print by name: those that are no
    name of it, of ``reserved``, ``labels`` or ``known`` (pi = a*b makes pi a name);
    ``order`` is ``topological_order([root], known)``, if the caller has it."""
    used = set(reserved) | set((labels or {}).values()) | set((known or {}).values())
    order = topological_order([root], known or {}) if order is None else order
    used |= {n.value for n in order if n.op == "var"}
    return CONSTANTS.keys() - used


def to_program(root, labels=None, limit=200, reserved=(), known=None, preferred=None,
               named=None):
    """Text of ``root``: inline when short, else shared parts as named lines first.

    Returns a list of lines; all but the last are ``name = expression``.  Nodes
    in ``labels`` get a line under that name; nodes in ``known`` print as their
    name with no line (names defined elsewhere, such as the program's own).  A
    shared part in ``preferred`` is named as there (generated code's ``t3``);
    names it gives other nodes are never invented for a part.  ``named`` is the
    constants that print by name, if the caller knows them (else worked out here,
    which costs a pass over ``reserved``).
    """
    preferred = preferred or {}
    labels, known = dict(labels or {}), dict(known or {})
    if root in known:
        return [known[root]]
    order = topological_order([root], known)  # one walk for every question below
    if named is None:  # pi and e print by name unless a name of this text is pi or e
        named = printed_constants(root, reserved, labels, known, order)
    if not labels and inline_size(root, known, order) <= limit:
        return [to_text(root, known, named=named)]
    uses = {}
    for node in order:
        for arg in node.args:
            uses[arg] = uses.get(arg, 0) + 1
    taken = (set(reserved) | set(labels.values()) | set(known.values())
             | set(preferred.values()) | {n.value for n in order if n.op == "var"})
    names, counter = dict(known), 0
    for node in order:
        if node is root or not node.args or node in known:
            continue
        if node in labels:
            names[node] = labels[node]
        elif uses.get(node, 0) > 1 and node in preferred:
            names[node] = preferred[node]
        elif uses.get(node, 0) > 1:
            counter += 1
            while f"t{counter}" in taken:
                counter += 1
            names[node] = f"t{counter}"
    lines = [f"{names[n]} = {to_text(n, names, named=named)}" for n in order
             if n in names and n not in known]
    if root in labels:  # keep the program's own name for its result
        return lines + [f"{labels[root]} = {to_text(root, names, named=named)}", labels[root]]
    return lines + [to_text(root, names, named=named)]


# The printer core: what every backend's code shares, whatever its spelling.

COMMENT_LIMIT = 60  # longest subexpression quoted in a forward comment


def as_factor(text, level):
    """``text`` (binding as tightly as ``level``) as a factor of a product."""
    return text if level > PRODUCT and not text.startswith("-") else f"({text})"


def contribution(upstream, local, factor):
    """The chain rule's term, ``upstream * local``, written without multiplying by one.

    ``factor(local)`` is the target's text of the local derivative as a factor
    (``as_factor``): every backend writes this rule through here.
    """
    if local.op == "const" and local.value in (1.0, -1.0):
        return upstream if local.value == 1.0 else f"-{upstream}"
    return f"{upstream} * {factor(local)}"


def forward_lines(program, spell, comments, at, offset=0):
    """The readable forward pass, one step a line with its comment (from ``comments``), as
    ``spell`` writes statements: ``at`` records each step's line, the function's first
    being ``offset`` lines before."""
    lines, names = [], program.names
    for index, step in enumerate(program.forward):
        at["forward", index] = offset + len(lines) + 1
        lines.append(spell.line(spell.define(step.name, step.node, names),
                                comments.get(step.node)))
    return lines


def backward_lines(program, spell, at, offset=0, commented=True):
    """The readable backward pass: each operation's statement as a comment, then a line for
    each contribution it passes on, with its rule (``commented``); ``at`` as in
    ``forward_lines``.  A backend supplies only its spelling (``spell``): how it writes a
    statement (``assign``, ``accumulate``), a line and a comment."""
    names = program.names
    lines = [spell.comment_line("backward pass: the chain rule, from the output back to the "
                                "inputs")]
    if program.seed is not None:
        at["seed"] = offset + len(lines) + 1
        lines.append(spell.line(spell.assign(program.seed, "1.0")))
    current = None
    for index, step in enumerate(program.backward):
        if commented and step.node is not current:
            current = step.node
            lines.append(spell.comment_line(program.statement(step.node)))
        rhs = contribution(step.upstream, step.local, lambda local: spell.factor(local, names))
        statement = (spell.assign(step.target, rhs) if step.first
                     else spell.accumulate(step.target, rhs))
        at["backward", index] = offset + len(lines) + 1
        lines.append(spell.line(statement, program.rule(step) if commented else None))
    for name in program.unreached:
        at["unreached", name] = offset + len(lines) + 1
        lines.append(unreached_line(program, spell, name))
    return lines


def unreached_line(program, spell, name):
    """The line giving the input ``name``, which the result does not depend on, gradient 0."""
    return spell.line(spell.assign(program.grads[var(name)], "0.0"),
                      f"{name} does not affect the value")


def forward_comments(program):
    """Each value's subexpression in the user's terms, where it is short enough to quote.

    A capped size estimate, computed bottom-up, keeps this linear: only values
    that will fit are printed.
    """
    labels = program.labels
    size, comments = {}, {}
    for step in program.forward:
        node = step.node
        estimate = sum(len(labels[a]) if a in labels else size[a] if a in size
                       else len(str(a.value)) for a in node.args)
        size[node] = min(estimate + 1, COMMENT_LIMIT + 1)  # a lower bound: to_text decides
        if size[node] <= COMMENT_LIMIT:
            text = to_text(node, labels, limit=COMMENT_LIMIT)
            if not text.endswith("..."):
                comments[node] = text
    return comments
