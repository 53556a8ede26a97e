"""The errors symgrad raises; every message a person sees comes from here."""


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
        lines = self.text.split("\n")
        source = lines[self.line - 1] if 0 < self.line <= len(lines) else ""
        source = source.expandtabs(1)
        caret = " " * (self.column - 1) + "^"
        return (
            f"line {self.line}, column {self.column}: {self.message}\n"
            f"  {source}\n  {caret}"
        )


class EvaluationError(SymgradError, ValueError):
    """A value or gradient that does not exist (or is not finite) at the given point.

    ``expression`` is the failing subexpression in symgrad's language.
    """

    def __init__(self, message, expression=None):
        self.expression = expression
        self.trace = None  # Program.evaluate: the numbers computed before the failure
        super().__init__(message)


class TooLargeError(SymgradError, ValueError):
    """A program beyond the size symgrad agrees to compile."""


class GraphError(SymgradError, ValueError):
    """A graph that is not a valid symgrad program: refused at the gate, before any code."""
