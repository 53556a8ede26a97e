"""``Expression``: a program's output node with its inputs and the names it gave to values."""

from .ir import topological_order, variables_of
from .notebook import NotebookDisplay
from .printer import to_program


class Expression(NotebookDisplay):
    """The graph of one program.

    ``root`` is the output node; ``variables`` the input names in order of first
    appearance; ``labels`` maps nodes to the names the program assigned them
    (kept for readable output); ``text`` is the source, when there is one.
    """

    def __init__(self, root, variables=None, labels=None, text=None):
        self.root = root
        self.variables = tuple(variables_of([root]) if variables is None else variables)
        reachable = set(topological_order([root]))
        self.labels = {node: name for node, name in (labels or {}).items() if node in reachable}
        self.text = text

    def __str__(self):
        return "; ".join(to_program(self.root, self.labels, reserved=self.variables))

    def __repr__(self):
        return f"symgrad.Expression({str(self)!r})"

    def __eq__(self, other):
        return isinstance(other, Expression) and (self.root, self.variables) == (
            other.root, other.variables)

    def __hash__(self):
        return hash((self.root, self.variables))

