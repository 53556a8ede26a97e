"""Python syntax for expressions: literals, operands and operators as Python (or NumPy) writes
them, from a template column of the operator table.

The Python-syntax backends print whole functions with it; the ``Value`` engine
prints its backward closures with it.
"""

import math

from .ops import OPS, infix_template
from .printer import ATOM, UNARY, as_factor, precedence, render


class PythonSpelling:
    """How one Python-syntax target writes operators and literals."""

    def __init__(self, column, module):
        self.column = column  # which Op field holds this target's forward template
        self.module = module  # the module literals such as inf refer to

    def literal(self, value, exact_int=True):
        """(text, precedence) of a constant."""
        if value != value:
            return f"{self.module}.nan", ATOM
        if value in (float("inf"), float("-inf")):
            return ("" if value > 0 else "-") + f"{self.module}.inf", ATOM if value > 0 else UNARY
        minus_zero = value == 0 and math.copysign(1.0, value) < 0  # int() would drop its sign
        whole = value.is_integer() and abs(value) < 1e15 and not minus_zero
        text = str(int(value)) if exact_int and whole else repr(value)
        return text, UNARY if text.startswith("-") else ATOM

    def atom(self, node, names, exact_int=True):
        """An operand as it appears inside a forward line: a name or a literal."""
        if node in names:
            return names[node]
        text, precedence = self.literal(node.value, exact_int)
        return text if precedence == ATOM else f"({text})"

    def template(self, op, node):
        """The call template for ``node``, or None to write the infix symbol."""
        if node.op == "pow" and _small_int_exponent(node) is not None:
            return None  # x**2 reads better than math.pow(x, 2) and is exact
        return getattr(op, self.column)

    def apply(self, node, operands):
        """The right-hand side computing ``node`` from its operands' texts (atoms)."""
        op = OPS[node.op]
        form = self.template(op, node) or infix_template(op)
        return form.format(**dict(zip("xy", operands)))

    def inline(self, root, names):
        """An expression over already named values: a local derivative in a gradient line."""
        if root in names:
            return names[root]
        return render(root, names, self._leaf, self.template)

    def factor(self, root, names):
        """``inline`` text as a factor of a product: parenthesised unless it binds tightly."""
        return as_factor(self.inline(root, names),
                         precedence(root, names, self._leaf, self.template))

    def _leaf(self, node):
        return self.literal(node.value)


def _small_int_exponent(node):
    """The exponent of ``x**n`` for a small whole constant n: printed as ``**``, not a call."""
    if node.op == "pow" and node.args[1].op == "const":
        value = node.args[1].value
        if value.is_integer() and abs(value) <= 64 and node.args[0].depends:
            return int(value)
    return None
