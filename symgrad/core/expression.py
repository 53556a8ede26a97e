"""``Expression``: a program's output node with its inputs and the names it gave to values."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from types import MappingProxyType

from .errors import GraphError
from .gate import admit, from_plain, to_rows
from .ir import Node, variables_of
from .printer import to_program


class Expression:
    """The graph of one program, admitted through the gate.

    ``root`` is the output node; ``variables`` the input names in order of first
    appearance; ``labels`` maps nodes to the names the program assigned them
    (kept for readable output); ``text`` is the source, when there is one.
    Rich display in notebooks is attached by ``symgrad.views.notebook``.
    """

    __slots__ = ("root", "variables", "labels", "text", "__weakref__")
    root: Node
    variables: tuple[str, ...]
    labels: Mapping[Node, str]
    text: str | None

    def __init__(self, root: Node, variables: Iterable[str] | None = None,
                 labels: Mapping[Node, str] | None = None, text: str | None = None) -> None:
        if variables is None:
            variables = variables_of([root]) if isinstance(root, Node) else ()
        variables, labels = admit(root, variables, labels)
        for name, value in (("root", root), ("variables", variables),
                            ("labels", MappingProxyType(labels)),
                            ("text", text if isinstance(text, str) else None)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise AttributeError("an Expression cannot change: build a new one (through the gate)")

    def __str__(self) -> str:
        return "; ".join(to_program(self.root, self.labels, reserved=self.variables))

    def __repr__(self):
        return f"symgrad.Expression({str(self)!r})"

    def __eq__(self, other):
        return isinstance(other, Expression) and (self.root, self.variables) == (
            other.root, other.variables)

    def __hash__(self):
        return hash((self.root, self.variables))

    def __reduce__(self):
        """Pickle as plain graph rows; unpickling passes them through the gate."""
        return (_rebuild, to_plain(self))


def to_plain(expression):
    """(rows, root row, variables, [(row, label)], text): an Expression as plain data."""
    rows, index = to_rows([expression.root, *expression.labels])
    labels = [(index[node], name) for node, name in expression.labels.items()]
    return rows, index[expression.root], expression.variables, labels, expression.text


def from_plain_expression(plain):
    """The ``Expression`` of ``to_plain`` output, through the gate (``GraphError`` if bad)."""
    if type(plain) is not tuple or len(plain) != 5:
        raise GraphError("not a pickled symgrad program: expected (rows, root, variables, "
                         "labels, text)")
    rows, root, variables, labels, text = plain
    if text is not None and type(text) is not str:
        raise GraphError(f"the text of a pickled program must be a string, not "
                         f"{type(text).__name__}")
    root, variables, labels = from_plain(rows, root, variables, labels)
    return Expression(root, variables, labels, text)


def _rebuild(rows, root, variables, labels, text=None):
    return from_plain_expression((rows, root, variables, labels, text))
