"""Text to expression graph: the grammar's parser, building IR as it reduces, and readable errors.

The LALR parser runs tables shipped in the package (``tables``, ``lalr``).  Each
reduction builds its IR node at once, so there is no parse tree and no recursion:
absurdly deep input cannot overflow the stack.  Every parser error is translated
into a ``ParseError`` naming the line, the column and what was expected.
"""

from __future__ import annotations

import re
from collections import namedtuple
from functools import lru_cache

from . import ir, tables
from .errors import ParseError, TooLargeError
from .expression import Expression
from .lalr import UnexpectedCharacter, UnexpectedToken, position
from .ops import ALIASES, CONSTANTS, FUNCTIONS, OPS
from .tables import grammar_text  # noqa: F401 - part of this module's interface

MAX_TEXT = 2_000_000  # characters: each token may become a graph node (see codegen)
SPELLING = {
    "NAME": "a name", "NUMBER": "a number", "LPAR": "'('", "RPAR": "')'",
    "PLUS": "'+'", "MINUS": "'-'", "STAR": "'*'", "SLASH": "'/'", "_POW": "'**'",
    "COMMA": "','", "EQUAL": "'='", "_SEP": "';' or a new line", "$END": "the end of the input",
    "AT": "'@'", "LSQB": "'['", "RSQB": "']'", "COLON": "':'", "_TRANSPOSE": "'.T'",
}
# The grammar's rules for arrays (built by symgrad.arrays), refused by the scalar builder.
ARRAY_RULES = {"declare": "declarations such as 'X: [n, 3]'",
               "shape": "declarations such as 'X: [n, 3]'",
               "matmul": "'@'", "index": "indexing", "attr": "'.T'",
               "kwarg": "keyword arguments", "list": "lists"}


@lru_cache(maxsize=None)
def _parser():
    return tables.load()


def parse(text: str) -> Expression:
    """Parse a symgrad program into an ``Expression``; raise ``ParseError`` if it is invalid."""
    if not isinstance(text, str):
        raise TypeError(f"symgrad.parse expects a str, not {type(text).__name__}")
    if len(text) > MAX_TEXT:
        raise TooLargeError(f"the program is {len(text):,} characters long; symgrad reads at "
                            f"most {MAX_TEXT:,}: split it into smaller programs")
    text = newlines(text)
    _check_operator_count(text)
    with ir.paused_collector():
        try:
            return _parser().parse(text, _Builder(text))
        except (UnexpectedToken, UnexpectedCharacter) as error:
            raise _translate(error, text) from None
        except ParseError as error:
            raise _first_error(text, error) from None


def newlines(text):
    """``text`` with Windows' and old Macs' line ends (``\r\n``, ``\r``) as ``\n``, as
    Python reads source: a column after a ``\r`` was one too far, and a lone ``\r`` no
    line end at all."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def positions(text: str) -> dict:
    """Where each operation of ``text``'s graph first occurs: node -> offset in ``text``.

    Parsed again, only when an error has to be pointed at: the graph holds no
    positions, since one node may stand for several places in the text.
    """
    recorder = _PositionRecorder(text)
    with ir.paused_collector():
        _parser().parse(text, recorder)
    return recorder.positions


def _first_error(text, error):
    """The error a reader meets first: ``error`` came while building, so the rest of the
    text was not parsed yet, and the statements are checked only at the end."""
    try:
        _parser().parse(text, _StatementsOnly(text))
    except (UnexpectedToken, UnexpectedCharacter) as syntax:
        return _translate(syntax, text)
    except ParseError as structure:
        if (structure.line, structure.column) <= (error.line, error.column):
            return structure
    return error


_COMMENT = re.compile(r"#[^\n]*")
_CALL = re.compile(r"\w[ \t\f\r]*\(")


def _check_operator_count(text):
    """Refuse, before parsing, text with more operators than a program may have operations.

    Each operation comes from one operator symbol or call in the text, so their count
    bounds the operations; counting characters is fast where parsing 2,000,000 of
    them takes half a minute.
    """
    count = operator_count(text)
    if count > ir.MAX_OPERATIONS:
        raise TooLargeError(f"the program has {count:,} operators and calls; symgrad "
                            f"compiles at most {ir.MAX_OPERATIONS:,} operations: split it "
                            "into smaller programs")


def operator_count(text: str) -> int:
    """The operator symbols and calls in ``text``: a bound on its operations, found fast."""
    code = _COMMENT.sub("", text) if "#" in text else text
    return (sum(code.count(symbol) for symbol in "+-*/^") - code.count("**")
            + len(_CALL.findall(code)))


Statement = namedtuple("Statement", "first name value")  # name is None for a bare expression


class _StatementsOnly:
    """Builds nothing but checks the order of statements: the shape of a program."""

    def __init__(self, text):
        self.text = text

    def __call__(self, rule, children, first):
        if rule == "assign" or rule == "declare":
            return Statement(first, str(children[0]), None)
        if rule == "expr":
            return Statement(first, None, None)
        if rule == "start":
            self.check(children)
        return None

    def check(self, statements):
        *assignments, last = statements
        for statement in assignments:
            if statement.name is None:
                raise ParseError("only the last statement may be a bare expression; name this "
                                 "one (n = ...) or remove it", self.text,
                                 *position(self.text, statement.first.pos))
        if last.name is not None:
            code = self.text.rstrip()
            raise ParseError("a program must end with an expression (add a last line such "
                             f"as '{last.name}')", self.text, *position(code, len(code)))


class _Builder(_StatementsOnly):
    """Builds the ``Expression`` of one program, one reduction at a time.

    The parser reduces statements in order, so names are looked up as they are
    assigned; ``used`` collects the inputs the statement being parsed names, and
    ``reads`` the assignments it reads.  The inputs a program depends on are found
    once, at the end, by a walk over the assignments: copying them into every
    assignment was quadratic in a chain of reassignments (h = h*x1; h = h*x2...).
    """

    def __init__(self, text):
        super().__init__(text)
        self.env = {}  # assigned name -> (node, number of its assignment)
        self.assignments = []  # per assignment: (inputs it names, assignments it reads)
        self.first_use = {}  # input name -> order of its first appearance
        self.labels = {}  # node -> the first name the program gave it
        self.inputs = {}  # input name -> its node
        self.used = set()
        self.reads = set()

    def __call__(self, rule, children, first):
        if rule in OPS:
            return ir.apply(rule, *children)
        if rule == "number":
            return ir.const(float(children[0].text))
        if rule == "name":
            return self.name(children[0])
        if rule == "call":
            return self.call(children[0], children[1:])
        if rule == "pos":
            return children[0]
        if rule == "assign":
            return self.assign(first, children)
        if rule == "expr":
            statement = Statement(first, None, (children[0], self._depends()))
            self.used, self.reads = set(), set()
            return statement
        if rule in ARRAY_RULES:
            at = self.text.find("@", first.pos) if rule == "matmul" else first.pos
            raise ParseError(f"{ARRAY_RULES[rule]}: only in array programs, which declare "
                             "their array inputs (X: [n, 3]) and are compiled with "
                             "symgrad.compile", self.text, *position(self.text, at))
        return self.program(children)

    def assign(self, first, children):
        name, node = str(children[0]), children[1]
        if node.args:
            self.labels.setdefault(node, name)
        self.assignments.append((self.used, self.reads))
        self.env[name] = (node, len(self.assignments) - 1)
        self.used, self.reads = set(), set()
        return Statement(first, name, None)

    def _depends(self):
        """The inputs the statement being parsed depends on, through what it reads."""
        names, seen = set(self.used), set(self.reads)
        stack = list(self.reads)
        while stack:
            used, reads = self.assignments[stack.pop()]
            names |= used
            for number in reads - seen:
                seen.add(number)
                stack.append(number)
        return names

    def program(self, statements):
        self.check(statements)
        root, used = statements[-1].value
        variables = tuple(sorted(used, key=self.first_use.__getitem__))
        return Expression(root, variables, self.labels, self.text)

    def name(self, token):
        name = token.text
        if name in self.env:
            node, number = self.env[name]
            self.reads.add(number)
            return node
        if name in CONSTANTS:  # pi and e are numbers, unless assigned above
            return ir.const(CONSTANTS[name])
        self.used.add(name)
        node = self.inputs.get(name)
        if node is None:
            if name in FUNCTIONS:
                raise self._error(token, f"'{name}' is a function; call it as {name}(...)")
            self.first_use[name] = len(self.first_use)
            node = self.inputs[name] = ir.var(name)
        return node

    def call(self, token, args):
        name = token.text
        op = FUNCTIONS.get(name) or ALIASES.get(name)
        if op is None:
            raise self._error(token, unknown_function(name))
        variants = dict(op.variants)
        if len(args) in variants:
            return _instantiate(variants[len(args)], args)
        if len(args) != op.arity:
            counts = " or ".join(map(str, sorted([op.arity, *variants])))
            plural = "" if counts == "1" else "s"
            raise self._error(token, f"{name}() takes {counts} argument{plural}, "
                              f"got {len(args)}")
        return ir.apply(op.name, *args)

    def _error(self, token, message):
        return ParseError(message, self.text, *position(self.text, token.pos))



def unknown_function(name):
    """The message for a call of ``name``, which is no function: the closest ones named."""
    if name in CONSTANTS:
        return f"'{name}' is a number, not a function: write {name}*(...) to multiply"
    import difflib  # only for this message: slow to import

    known = sorted(FUNCTIONS) + sorted(ALIASES)
    close = difflib.get_close_matches(name, known, n=3)
    close.sort(key=lambda match: sorted(match) != sorted(name))  # tahn: tanh, not tan
    hint = f"; did you mean '{close[0]}'?" if close else (
        f"; functions are: {', '.join(sorted(FUNCTIONS))}")
    return f"unknown function '{name}'{hint}"


def _instantiate(text, args):
    """The graph of ``text`` (in the language, over x and y) with ``args`` for x and y."""
    built = {}
    for part in ir.topological_order([parse(text).root]):
        if part.args:
            built[part] = ir.apply(part.op, *[built[a] for a in part.args])
        else:
            built[part] = args["xy".index(part.value)] if part.op == "var" else part
    return built[part]


class _PositionRecorder(_Builder):
    """Builds the program like ``_Builder`` and notes where each operation starts."""

    def __init__(self, text):
        super().__init__(text)
        self.positions = {}

    def __call__(self, rule, children, first):
        value = super().__call__(rule, children, first)
        if type(value) is ir.Node and value.args:
            self.positions.setdefault(value, first.pos)
        return value


def _translate(error, text):
    """A ``ParseError`` saying in plain words what the parser expected."""
    if isinstance(error, UnexpectedCharacter):
        char = text[error.pos]
        what = "NUL byte" if char == "\0" else f"character {char!r}"
        hint = _module_hint(text, error.pos) if char == "." else None
        return ParseError(f"unexpected {what}" + (f": {hint}" if hint else ""), text,
                          error.line, error.column, _spell(error.allowed))
    token = error.token  # the end of the input is a token too, at offset len(text)
    previous = _previous_token(text, token.pos)
    message = _explain(error.expected, token, previous, text)
    return ParseError(message, text, error.line, error.column, _spell(error.expected))


_DOTTED = re.compile(r"([A-Za-z_]\w*)\.([A-Za-z_]\w*)")


def _module_hint(text, dot):
    """For ``np.sin``, ``math.pi``: the symgrad spelling, which has no module in front."""
    start = dot
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    match = _DOTTED.match(text, start)
    if match is None or match.end(1) != dot:
        return None
    module, name = match.groups()
    if name in CONSTANTS:
        return f"write {name}, not {module}.{name}"
    op = FUNCTIONS.get(name) or ALIASES.get(name)
    rest = text[match.end():].lstrip(" \t")
    if op is not None and rest.startswith("()"):  # x.sin(), as a Value is written
        return f"write {op.name}({module}), not {module}.{name}()"
    if op is not None:
        return (f"write {op.name}(...), not {module}.{name}(...): symgrad's functions "
                "have no module")
    if rest.startswith("("):
        return f"symgrad has no function '{name}' (and functions have no '{module}.')"
    return None


def _implicit_product(text, previous, token):
    """What the user meant, in their own text: ``write sin(x)``, ``write 3*(x+1)``."""
    right = _group(text, token.pos, 1) if token.type == "LPAR" else token.text
    if previous.type == "NAME" and previous.text in FUNCTIONS and token.type != "LPAR":
        return f"write {previous.text}({right})"
    left = _group(text, previous.pos, -1) if previous.type == "RPAR" else previous.text
    return f"write {left}*{right}"


def _group(text, at, step):
    """The parenthesised group whose '(' (step 1) or ')' (step -1) is at ``at``, on its
    line; shortened in the middle when long."""
    depth, index, end = 0, at, None
    while 0 <= index < len(text) and text[index] != "\n":
        depth += {"(": step, ")": -step}.get(text[index], 0)
        if depth == 0:
            end = index
            break
        index += step
    if end is None:  # never closed: up to the end of the line
        end = index - step
    low, high = sorted((at, end))
    group = text[low:high + 1]
    return group if len(group) <= 40 else group[:18] + "..." + group[-18:]


def _explain(expected, token, previous, text):
    """The message for an unexpected token, from what the parser would have accepted."""
    before = text[:token.pos]
    got = "the end of the input" if token.type == "$END" else _quote(token)
    if expected & {"NAME", "NUMBER"}:
        if previous is None or previous.type == "_SEP":
            return f"expected an expression, got {got}"
        if previous.type == "LPAR" and token.type == "RPAR":
            return "expected an expression inside '()'"
        return f"expected an operand after {_quote(previous)}, got {got}"
    if token.type == "RPAR":
        return "unmatched ')'"
    if token.type in ("$END", "_SEP") and "RPAR" in expected:
        return f"'(' at column {_unclosed_paren(before)} is never closed; expected ')'"
    if token.type in {"NAME", "NUMBER", "LPAR"} and previous is not None:
        meant = _implicit_product(text, previous, token)
        return (f"expected an operator between {_quote(previous)} and {got} "
                f"(there is no implicit multiplication: {meant})")
    if token.type == "EQUAL":
        return "only a name can be assigned to: write name = expression"
    return f"unexpected {got}; expected {', '.join(_spell(expected))}"


def _previous_token(text, pos):
    previous = None
    for previous in _parser().lex(text[:pos]):
        pass
    return previous


def _unclosed_paren(before):
    """Column (in its line) of the last '(' in ``before`` that no ')' closes."""
    depth, line_start = 0, before.rfind("\n") + 1
    for index in range(len(before) - 1, line_start - 1, -1):
        if before[index] == ")":
            depth += 1
        elif before[index] == "(":
            if depth == 0:
                return index - line_start + 1
            depth -= 1
    return 1


def _quote(token):
    if token.type == "_SEP":
        return "the end of the line" if token.text == "\n" else "';'"
    return f"'{token}'"


def _spell(terminals):
    return sorted(SPELLING.get(name, name) for name in terminals)
