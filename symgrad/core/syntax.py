"""Text to expression graph: the Lark grammar, the parse, and readable parse errors.

The LALR parser is loaded once, from tables shipped in the package (``tables``).
The parse tree becomes IR through an explicit stack, never Python recursion, so
absurdly deep input cannot overflow it.
Every Lark error is translated into a ``ParseError``; users never see Lark types.
"""

from __future__ import annotations

import difflib
import re
from functools import lru_cache

from lark import Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from . import ir, tables
from .errors import ParseError, TooLargeError
from .expression import Expression
from .ops import FUNCTIONS
from .tables import grammar_text

MAX_TEXT = 2_000_000  # characters: each token may become a graph node (see codegen)
SPELLING = {
    "NAME": "a name", "NUMBER": "a number", "LPAR": "'('", "RPAR": "')'",
    "PLUS": "'+'", "MINUS": "'-'", "STAR": "'*'", "SLASH": "'/'", "_POW": "'**'",
    "COMMA": "','", "EQUAL": "'='", "_SEP": "';' or a new line", "$END": "the end of the input",
}


@lru_cache(maxsize=None)
def _parser():
    return tables.load() or tables.build(grammar_text())


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
            tree = _parser().parse(text)
        except UnexpectedInput as error:
            raise _translate(error, text) from error
        return _Builder(text).program(tree.children)


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


class _Builder:
    """Turns the statements of one parse tree into one ``Expression``."""

    def __init__(self, text):
        self.text = text
        self.env = {}  # assigned name -> (node, names of the inputs it uses)
        self.first_use = {}  # input name -> order of its first appearance
        self.labels = {}  # node -> the first name the program gave it

    def program(self, statements):
        *assignments, last = statements
        for statement in assignments:
            if statement.data != "assign":
                raise self._error(statement, "only the last statement may be a bare "
                                  "expression; name this one (n = ...) or remove it")
            self.assign(statement)
        if last.data == "assign":
            self.assign(last)
            raise self._error_at_end("a program must end with an expression "
                                     f"(add a last line such as '{last.children[0]}')")
        root, used = self.expression(last)
        variables = tuple(sorted(used, key=self.first_use.__getitem__))
        return Expression(root, variables, self.labels, self.text)

    def assign(self, statement):
        name, value = statement.children
        node, used = self.expression(value)
        if node.args:
            self.labels.setdefault(node, str(name))
        self.env[str(name)] = (node, used)

    def expression(self, tree):
        """The IR node of an expression subtree and the input names it uses."""
        used = set()
        values = []
        stack = [(tree, False)]
        while stack:
            item, children_done = stack.pop()
            if not isinstance(item, Tree):
                values.append(item)
            elif children_done:
                count = len(item.children)
                operands = values[len(values) - count:]
                del values[len(values) - count:]
                values.append(self.node(item.data, operands, used))
            else:
                stack.append((item, True))
                stack.extend((child, False) for child in reversed(item.children))
        return values[0], used

    def node(self, kind, operands, used):
        """One tree node as IR; its operands are already converted."""
        if kind == "number":
            return ir.const(float(operands[0]))
        if kind == "name":
            return self.name(operands[0], used)
        if kind == "call":
            return self.call(operands[0], operands[1:])
        if kind == "pos":
            return operands[0]
        return ir.apply(kind, *operands)

    def name(self, token, used):
        name = str(token)
        if name in self.env:
            node, names = self.env[name]
            used.update(names)
            return node
        if name in FUNCTIONS:
            raise self._error(token, f"'{name}' is a function; call it as {name}(...)")
        self.first_use.setdefault(name, len(self.first_use))
        used.add(name)
        return ir.var(name)

    def call(self, token, args):
        name = str(token)
        op = FUNCTIONS.get(name)
        if op is None:
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

    def _error(self, where, message):
        token = where if isinstance(where, Token) else _first_token(where)
        return ParseError(message, self.text, token.line, token.column)

    def _error_at_end(self, message):
        line, column = _end_position(self.text.rstrip())
        return ParseError(message, self.text, line, column)


def _first_token(tree):
    while isinstance(tree, Tree):
        tree = tree.children[0]
    return tree


def _end_position(text):
    line = text.count("\n") + 1
    return line, len(text) - (text.rfind("\n") + 1) + 1


def _translate(error, text):
    """A ``ParseError`` saying in plain words what the parser expected."""
    if isinstance(error, UnexpectedCharacters):
        char = text[error.pos_in_stream]
        what = "NUL byte" if char == "\0" else f"character {char!r}"
        return ParseError(f"unexpected {what}", text, error.line, error.column,
                          _spell(error.allowed))
    if not isinstance(error, UnexpectedToken):  # pragma: no cover - LALR raises only these
        line, column = _end_position(text)
        return ParseError("invalid program", text, line, column)
    token = error.token
    at_end = token.type == "$END"
    line, column = _end_position(text) if at_end else (token.line, token.column)
    pos = len(text) if at_end else token.start_pos
    previous = _previous_token(text, pos)
    message = _explain(error.expected, token, previous, text[:pos])
    return ParseError(message, text, line, column, _spell(error.expected))


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
    tokens = list(_parser().lex(text[:pos]))
    return tokens[-1] if tokens else None


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
        return "the end of the line" if token == "\n" else "';'"
    return f"'{token}'"


def _spell(terminals):
    return sorted(SPELLING.get(name, name) for name in terminals)
