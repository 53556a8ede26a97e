"""symgrad: a symbolic expression compiler for gradients.

Parse a program such as ``tanh(a*b + c)``, differentiate it by the reverse-mode
chain rule, and get straight-line Python that computes its value and gradient,
checked against SymPy and finite differences.

>>> import symgrad
>>> f = symgrad.compile("tanh(a*b + c)")
>>> f.variables
('a', 'b', 'c')
>>> value, grad = f.value_and_grad(a=1.0, b=0.0, c=0.0)
>>> value, grad["a"]
(0.0, 0.0)
"""

from .core.errors import EvaluationError, GraphError, ParseError, SymgradError, TooLargeError
from .core.expression import Expression
from .core.program import Program
from .core.syntax import parse
from .views import notebook as _notebook  # noqa: F401  (attaches Expression's display hooks)

__all__ = [
    "CompiledFunction", "EvaluationError", "Expression", "GraphError", "ParseError", "Program",
    "SymgradError", "TooLargeError", "Value", "check", "compile", "draw", "parse",
]
__version__ = "0.1.0"


def compile(program, wrt=None, backend="python"):
    """Compile a program (text or ``Expression``) into a ``CompiledFunction``.

    ``wrt`` limits the gradient to those inputs; by default it covers all of them.
    ``backend`` chooses the code that runs (see ``symgrad.backends``).
    """
    from .compiled import CompiledFunction

    expression = program if isinstance(program, Expression) else parse(program)
    return CompiledFunction(expression, wrt, backend)


def check(program, **options):
    """Cross-check the gradients of a program against SymPy and finite differences.

    Returns a ``CheckReport``; ``report.ok`` says whether everything agreed.
    """
    from .compiled import CompiledFunction
    from .crosscheck import check as run_check

    f = program if isinstance(program, CompiledFunction) else compile(program)
    return run_check(f, **options)


def draw(expression, values=None, backward=False, rankdir="LR"):
    """The graph of text, an ``Expression``, a ``CompiledFunction`` or a ``Value``.

    Returns a ``graphviz.Source`` (``pip install 'symgrad[viz]'``).  ``values``
    ({input: number}) puts each node's value and gradient on it; ``backward=True``
    adds the backward edges labelled with their local derivatives.
    """
    from .views.notebook import draw as draw_graph

    return draw_graph(expression, values, backward, rankdir)


def __getattr__(name):
    if name == "CompiledFunction":
        from .compiled import CompiledFunction

        return CompiledFunction
    if name == "Value":
        from .micrograd.engine import Value

        return Value
    raise AttributeError(f"module 'symgrad' has no attribute {name!r}")
