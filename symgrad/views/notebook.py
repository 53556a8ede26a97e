"""Rich display in Jupyter and IPython: the graph, the derivatives as LaTeX, the code.

``Expression``, ``CompiledFunction`` and ``Value`` have ``_repr_html_``,
``_repr_latex_`` and ``_repr_svg_`` methods that call this module, so a notebook
shows them without extra calls.  The HTML view holds all three parts: the graph
(SVG when Graphviz's ``dot`` program is installed, else the text drawing), the
value and derivatives typeset from SymPy's LaTeX printer (built from the IR,
never from text), and the generated code, highlighted when Pygments is there.
After ``value_and_grad`` the graph shows each node's value and gradient at that
point, like micrograd's ``draw_dot`` after ``backward()``.

Views read a ``Program``; they import nothing above the core and the backends.
The hooks themselves are ``views.hooks.NotebookDisplay``, which loads this module
only when a notebook asks.
"""

import html
import shutil

from ..core.autodiff import gradient_nodes
from ..core.errors import SymgradError
from ..core.expression import Expression
from ..core.printer import inline_size
from ..core.program import Program

GRAPH_LIMIT = 300  # operations beyond which no picture is drawn: it would be unreadable
NOTEBOOK_SECONDS = 10  # Graphviz's time for a notebook's picture; then the text tree
LATEX_LIMIT = 3000  # characters of text beyond which a formula is not typeset
LATEX_DEFINITIONS = 30  # intermediate values beyond which a shared graph is not typeset
TOO_LONG = "\\text{(too long to typeset; see .derivatives)}"
RESULT_NAMES = ("f", "y", "out", "F", "result")  # for an unnamed result, the first one free


class Shown:
    """What a view shows: a program, its generated Python, and a point (or None)."""

    def __init__(self, program, source, point):
        self.program, self.source, self.point = program, source, point


def subject(obj, values=None):
    """The ``Shown`` for text, an ``Expression``, a compiled function or a ``Value``.

    The point is ``values`` when given, else a ``Value`` graph's leaf data, else
    the point of a compiled function's last ``value_and_grad``.
    """
    from .. import backends
    from ..core.syntax import parse

    def python_source(program):
        return backends.get(backends.DEFAULT).emit(program, "value_and_grad").source

    point = None
    if isinstance(getattr(obj, "program", None), Program):  # a CompiledFunction
        program, source = obj.program, obj.source
        if getattr(obj, "last_point", None) is not None:
            point = dict(zip(program.variables, obj.last_point))
    elif isinstance(obj, (Expression, str)):
        program = Program(parse(obj) if isinstance(obj, str) else obj)
        source = python_source(program)
    elif hasattr(obj, "to_expression") and hasattr(obj, "inputs"):  # a Value
        # Numbers that met a Value are Values in micrograd's drawings, with a gradient.
        program = Program(obj.to_expression(numbers="inputs"))
        source = python_source(program)
        point = obj.inputs(numbers="inputs")
    else:
        raise TypeError(f"cannot display a {type(obj).__name__}: expected text, an "
                        "Expression, a CompiledFunction or a Value")
    return Shown(program, source, point if values is None else dict(values))


# LaTeX -------------------------------------------------------------------------------


def latex(obj):
    """The value and every derivative as one aligned LaTeX block, for ``_repr_latex_``.

    None for an array program: its derivatives are array code, shown as such.
    """
    if _is_array(obj):
        return None
    return _aligned(latex_rows(subject(obj).program))


def _aligned(rows):
    return "$$\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}$$"


def latex_rows(program):
    """``name &= formula`` for the result, then ``d name / d input &= formula`` per input.

    A graph too large or deep for one formula is typeset in shared form: its
    intermediate values first, ``t_{1} &= ...``, when there are few enough.
    """
    import sympy

    from ..core.sympy_bridge import build, symbols_for

    symbols = symbols_for(program.variables)
    plain_name = result_name(program)
    name = sympy.latex(sympy.Symbol(plain_name, real=True))
    gradients = gradient_nodes(program.root, program.wrt, program.backward)
    roots = [program.root, *gradients.values()]
    built = build(roots, symbols, reserved={plain_name})
    heads = [name] + [f"\\frac{{\\partial {name}}}{{\\partial {sympy.latex(symbols[variable])}}}"
                      for variable in gradients]
    if not built.shared:
        return [f"{head} &= {_latex_of(expression, root)}"
                for head, expression, root in zip(heads, built.expressions, roots)]
    if len(built.definitions) > LATEX_DEFINITIONS:
        return [f"{head} &= {TOO_LONG}" for head in heads]
    return ([f"{sympy.latex(symbol)} &= {sympy.latex(formula)}"
             for symbol, formula in built.definitions]
            + [f"{head} &= {sympy.latex(expression)}"
               for head, expression in zip(heads, built.expressions)])


def result_name(program):
    """The program's own name for its result, or a short name that no input uses."""
    label = program.labels.get(program.root)
    if label:
        return label
    return next(name for name in RESULT_NAMES if name not in program.variables)


def _latex_of(expression, root):
    """SymPy's LaTeX for ``expression`` (built from ``root``), unless its text would be too long."""
    import sympy

    if inline_size(root) > LATEX_LIMIT:
        return TOO_LONG
    return sympy.latex(expression)


# Code --------------------------------------------------------------------------------


def code_html(source):
    """The generated source as HTML: highlighted by Pygments if installed, else plain."""
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer
    except ImportError:
        return f'<pre class="symgrad-code">{html.escape(source)}</pre>'
    # Inline styles: the notebook needs no stylesheet.
    return highlight(source, PythonLexer(), HtmlFormatter(noclasses=True))


# Graph -------------------------------------------------------------------------------


def graph_dot(shown, backward=False, rankdir="LR"):
    """DOT text of the graph, with every node's value and gradient at the point if there is one."""
    from . import draw

    values, grads = _numbers(shown)
    return draw.to_dot(shown.program, values, grads, backward=backward, rankdir=rankdir)


def _numbers(shown):
    from . import draw

    if shown.point is None:
        return None, None
    return draw.node_values(shown.program, shown.point)


def svg(obj):
    """The graph as SVG text, for ``_repr_svg_``; None when it cannot be drawn."""
    if _is_array(obj):
        return array_svg(obj)
    return graph_svg(subject(obj))


def graph_svg(shown):
    """The graph as SVG text, or None without Graphviz's ``dot`` program or when too large."""
    if shutil.which("dot") is None or _too_large(shown.program):
        return None
    return _svg(graph_dot(shown))


def graph_text(shown):
    """The graph drawn as a text tree: the fallback when there is no ``dot``."""
    from . import draw

    if _too_large(shown.program):
        return f"(a graph of {len(shown.program.forward)} operations is too large to draw)\n"
    return draw.to_text(shown.program, *_numbers(shown))


def _svg(dot_text):
    """``dot_text`` drawn as SVG text, or None where Graphviz fails or takes longer than
    NOTEBOOK_SECONDS (150 tanh layers took 60 s): the view then shows the text instead."""
    from . import draw

    try:
        return draw.render(dot_text, "svg", NOTEBOOK_SECONDS).decode("utf-8")
    except SymgradError:
        return None


def _too_large(program):
    return len(program.forward) > GRAPH_LIMIT


# The whole view ----------------------------------------------------------------------


def html_view(obj):
    """Graph, formulas and code in one HTML block, for ``_repr_html_``.

    Notebooks show only the richest representation, HTML, so it holds all three.
    """
    if _is_array(obj):
        return array_view(obj)
    shown = subject(obj)
    picture = graph_svg(shown)
    if picture is None:
        picture = f'<pre class="symgrad-graph">{html.escape(graph_text(shown))}</pre>'
    else:  # inline SVG must not carry the XML prologue and doctype
        picture = picture[picture.index("<svg"):]
    return (
        '<div class="symgrad">\n'
        f"<div>{picture}</div>\n"
        f"<div>{_aligned(latex_rows(shown.program))}</div>\n"
        f"<details open><summary>generated code</summary>{code_html(shown.source)}</details>\n"
        "</div>"
    )


def draw(obj, values=None, backward=False, rankdir="LR"):
    """A ``graphviz.Source`` of the graph, left to right by default.

    ``obj`` is text, an ``Expression``, a ``CompiledFunction`` or a ``Value``.
    ``values`` ({input: number}) shows every node's value and gradient there; a
    compiled function drawn without it uses the point of its last
    ``value_and_grad``, a ``Value`` its own data.  ``backward=True`` adds the
    program's backward steps, each edge labelled with its local derivative.
    """
    try:
        import graphviz
    except ImportError:
        raise SymgradError("symgrad.draw needs the graphviz package: "
                           "pip install 'symgrad[viz]'") from None

    if _is_array(obj):
        from .array_draw import to_dot

        if backward:
            raise SymgradError("backward=True draws scalar programs only; an array program's "
                               "backward pass is its code (see .source)")
        point = obj.last_inputs if values is None else dict(values)
        return graphviz.Source(to_dot(obj, point, rankdir))
    return graphviz.Source(graph_dot(subject(obj, values), backward, rankdir))


# Array programs ----------------------------------------------------------------------


def _is_array(obj):
    """Whether ``obj`` is a compiled array program (an ``ArrayFunction``, not imported here)."""
    return type(obj).__name__ == "ArrayFunction" and hasattr(obj, "trace")


def array_svg(obj):
    """An array program's graph as SVG at its last inputs; None without ``dot`` or too large."""
    from .array_draw import to_dot

    if shutil.which("dot") is None or _too_large(obj.program):
        return None
    return _svg(to_dot(obj, obj.last_inputs))


def array_view(obj):
    """The graph (when ``dot`` is installed) and the generated code, in HTML."""
    picture = array_svg(obj)
    if picture is None:
        picture = "<p>(no drawing: it needs Graphviz's dot program and a graph it draws fast)</p>"
    else:
        picture = picture[picture.index("<svg"):]
    return ('<div class="symgrad">\n'
            f"<div>{picture}</div>\n"
            f"<details open><summary>generated code</summary>{code_html(obj.source)}</details>\n"
            "</div>")
