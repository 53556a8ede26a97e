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

from __future__ import annotations

from .core.errors import EvaluationError, GraphError, ParseError, SymgradError, TooLargeError
from .core.expression import Expression
from .core.program import Program
from .core.syntax import parse
from .views.hooks import HOOKS as _HOOKS
from .views.hooks import NotebookDisplay as _NotebookDisplay

TYPE_CHECKING = False  # typing itself is slow to import; type checkers read this as True
if TYPE_CHECKING:  # for the annotations only: importing these at run time would be heavy
    from collections.abc import Mapping, Sequence
    from typing import Any

    import graphviz

    from . import nn
    from .compiled import CompiledFunction
    from .crosscheck import CheckReport
    from .micrograd.engine import Value
    from .micrograd.losses import compile_loss

__all__ = [
    "CompiledFunction", "EvaluationError", "Expression", "GraphError", "ParseError", "Program",
    "SymgradError", "TooLargeError", "Value", "check", "compile", "compile_loss", "draw", "nn",
    "parse",
]
__version__ = "0.1.0"

for _hook in _HOOKS:  # Expression is a core type: the notebook hooks are attached here
    setattr(Expression, _hook, getattr(_NotebookDisplay, _hook))


def compile(program: str | Expression, wrt: Sequence[str] | None = None,
            backend: str | None = None) -> CompiledFunction:
    """Compile a program (text or ``Expression``) into a ``CompiledFunction``.

    ``wrt`` limits the gradient to those inputs; by default it covers all of them.
    ``backend`` chooses the code that runs (see ``symgrad.backends``; "python" by
    default).  A program that declares array inputs (``X: [n, 3]``) gives an
    ``ArrayFunction`` instead (``symgrad.arrays``; backends "numpy", the default,
    and "jax").
    """
    from .arrays import is_array_program

    if is_array_program(program) or type(program).__name__ == "ArrayExpression":
        from .arrays.compiled import ArrayFunction

        return ArrayFunction(program, backend or "numpy", wrt)  # type: ignore[return-value]
    backend = "python" if backend is None else backend
    from .compiled import CompiledFunction
    from .core.ir import topological_order
    from .core.syntax import operator_count
    from .progress import stages

    def size() -> int:  # counted only when a terminal could show a bar
        if isinstance(program, Expression):
            return len(topological_order([program.root]))
        return operator_count(program) if isinstance(program, str) else 0

    bar = stages("symgrad: compiling", 2, size)
    try:
        bar.set_postfix_str("parsing")
        expression = program if isinstance(program, Expression) else parse(program)
        bar.update()
        bar.set_postfix_str("differentiating and generating code")
        return CompiledFunction(expression, wrt, backend)
    finally:
        bar.update()
        bar.close()


def check(program: str | Expression | CompiledFunction, **options: Any) -> CheckReport:
    """Cross-check the gradients of a program against SymPy and finite differences.

    Returns a ``CheckReport``; ``report.ok`` says whether everything agreed.
    """
    from .arrays import is_array_program
    from .compiled import CompiledFunction
    from .crosscheck import check as run_check

    if is_array_program(program) or type(program).__name__ == "ArrayFunction":
        from .arrays.checks import check_array

        return check_array(program, **options)  # type: ignore[return-value]

    f = program if isinstance(program, CompiledFunction) else compile(program)
    return run_check(f, **options)


def draw(expression: str | Expression | CompiledFunction | Value,
         values: Mapping[str, float] | None = None, backward: bool = False,
         rankdir: str = "LR") -> graphviz.Source:
    """The graph of text, an ``Expression``, a ``CompiledFunction`` or a ``Value``.

    Returns a ``graphviz.Source`` (``pip install 'symgrad[viz]'``).  ``values``
    ({input: number}) puts each node's value and gradient on it; ``backward=True``
    adds the backward edges labelled with their local derivatives.
    """
    from .views.notebook import draw as draw_graph

    return draw_graph(expression, values, backward, rankdir)


def __getattr__(name: str) -> Any:
    """The public names whose modules load only when used (NumPy for ``compile_loss``)."""
    if name == "CompiledFunction":
        from .compiled import CompiledFunction

        return CompiledFunction
    if name == "Value":
        from .micrograd.engine import Value

        return Value
    if name == "compile_loss":
        from .micrograd.losses import compile_loss

        return compile_loss
    if name in ("nn", "losses", "tracing"):  # importing a submodule makes it an attribute
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'symgrad' has no attribute {name!r}")
