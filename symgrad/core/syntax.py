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
from .ops import FUNCTIONS, OPS
from .tables import grammar_text  # noqa: F401 - part of this module's interface

MAX_TEXT = 2_000_000  # characters: each token may become a graph node (see codegen)
SPELLING = {
    "NAME": "a name", "NUMBER": "a number", "LPAR": "'('", "RPAR": "')'",
    "PLUS": "'+'", "MINUS": "'-'", "STAR": "'*'", "SLASH": "'/'", "_POW": "'**'",
    "COMMA": "','", "EQUAL": "'='", "_SEP": "';' or a new line", "$END": "the end of the input",
}


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
    _check_operator_count(text)
    with ir.paused_collector():
        try:
            return _parser().parse(text, _Builder(text))
        except (UnexpectedToken, UnexpectedCharacter) as error:
            raise _translate(error, text) from None
        except ParseError as error:
            raise _first_error(text, error) from None


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
        if rule == "assign":
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
        op = FUNCTIONS.get(name)
        if op is None:
            import difflib  # only for this message: slow to import

            close = difflib.get_close_matches(name, FUNCTIONS, n=3)
            close.sort(key=lambda match: sorted(match) != sorted(name))  # tahn: tanh, not tan
            hint = f"; did you mean '{close[0]}'?" if close else (
                f"; functions are: {', '.join(sorted(FUNCTIONS))}")
            raise self._error(token, f"unknown function '{name}'{hint}")
        if len(args) != op.arity:
            plural = "" if op.arity == 1 else "s"
            raise self._error(token, f"{name}() takes {op.arity} argument{plural}, "
                              f"got {len(args)}")
        return ir.apply(name, *args)

    def _error(self, token, message):
        return ParseError(message, self.text, *position(self.text, token.pos))



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
        return ParseError(f"unexpected {what}", text, error.line, error.column,
                          _spell(error.allowed))
    token = error.token  # the end of the input is a token too, at offset len(text)
    previous = _previous_token(text, token.pos)
    message = _explain(error.expected, token, previous, text[:token.pos])
    return ParseError(message, text, error.line, error.column, _spell(error.expected))


def _explain(expected, token, previous, before):
    """The message for an unexpected token, from what the parser would have accepted."""
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
        return (f"expected an operator between {_quote(previous)} and {got} "
                "(there is no implicit multiplication: write 2*x)")
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
