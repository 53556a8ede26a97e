"""The errors symgrad raises; every message a person sees comes from here."""

ECHO_LIMIT = 200  # the longest piece of a source line echoed under a message


def caret_lines(source, column):
    """Two indented lines: ``source`` and a caret under its 1-based ``column``.

    Tabs count as one column.  A line longer than ``ECHO_LIMIT`` is cut to the
    ``ECHO_LIMIT`` characters around the caret, with ``...`` where it was cut.
    """
    source = source.expandtabs(1)
    offset = max(column - 1, 0)
    if len(source) > ECHO_LIMIT:
        start = max(0, min(offset - ECHO_LIMIT // 2, len(source) - ECHO_LIMIT))
        end = start + ECHO_LIMIT
        head = "..." if start else ""
        source = head + source[start:end] + ("..." if end < len(source) else "")
        offset += len(head) - start
    return f"  {source}\n  {' ' * offset}^"


def located(message, text, line, column):
    """``line L, column C: message``, then line ``line`` of ``text`` with a caret at ``column``."""
    lines = text.split("\n")
    source = lines[line - 1] if 0 < line <= len(lines) else ""
    return f"line {line}, column {column}: {message}\n{caret_lines(source, column)}"


class SymgradError(Exception):
    """Base class of every error symgrad raises on purpose."""


class ParseError(SymgradError, ValueError):
    """Text that is not a valid symgrad program.

    ``line`` and ``column`` are 1-based; ``str(error)`` shows the message, the
    offending line and a caret under the column.
    """

    def __init__(self, message, text, line, column, expected=()):
        self.message = message
        self.text = text
        self.line = line
        self.column = column
        self.expected = tuple(expected)
        super().__init__(self._render())

    def _render(self):
        return located(self.message, self.text, self.line, self.column)


class EvaluationError(SymgradError, ValueError):
    """A value or gradient that does not exist (or is not finite) at the given point.

    ``expression`` is the failing subexpression in symgrad's language;
    ``operation`` the program's operation where it failed: ``expression`` itself,
    or in a gradient the operation whose local derivative (``0.5/sqrt(x)``, text
    the program does not hold) fails, ``sqrt(x)``; ``node`` that operation's graph
    node, where known, so that a front end can point at it in the source.
    """

    def __init__(self, message, expression=None, operation=None, node=None):
        self.expression = expression
        self.operation = operation or expression
        self.node = node
        self.trace = None  # Program.evaluate: the numbers computed before the failure
        super().__init__(message)


class TooLargeError(SymgradError, ValueError):
    """A program beyond the size symgrad agrees to compile."""


class GraphError(SymgradError, ValueError):
    """A graph that is not a valid symgrad program: refused at the gate, before any code."""
