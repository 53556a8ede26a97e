"""Rich display in Jupyter and IPython: the graph, the derivatives as LaTeX, the code.

``Expression``, ``CompiledFunction`` and ``Value`` have ``_repr_html_``,
``_repr_latex_`` and ``_repr_svg_`` methods that delegate here, so a notebook
shows them without extra calls.  The HTML view holds all three parts: the graph
(SVG when Graphviz's ``dot`` program is installed, else the text drawing), the
value and derivatives typeset from SymPy's LaTeX printer (built from the IR,
never from text), and the generated code, highlighted when Pygments is there.
After ``value_and_grad`` the graph shows each node's value and gradient at that
point, like micrograd's ``draw_dot`` after ``backward()``.
"""

import html
import shutil

from .errors import SymgradError
from .printer import inline_size

GRAPH_LIMIT = 300  # operations beyond which no picture is drawn: it would be unreadable
LATEX_LIMIT = 3000  # characters of text beyond which a formula is not typeset
RESULT_NAMES = ("f", "y", "out", "F", "result")  # for an unnamed result, the first one free


def subject(obj, values=None):
    """(``CompiledFunction``, {input: number} or None): what is shown, and at which point.

    The point is ``values`` when given, else a ``Value`` graph's leaf data, else
    the point of a compiled function's last ``value_and_grad``.
    """
    from . import compile
    from .compiled import CompiledFunction
    from .expression import Expression

    point = None
    if isinstance(obj, CompiledFunction):
        f = obj
        if getattr(f, "last_point", None) is not None:
            point = dict(zip(f.variables, f.last_point))
    elif isinstance(obj, (Expression, str)):
        f = compile(obj)
    elif hasattr(obj, "to_expression"):
        f = compile(obj.to_expression())
        point = dict(zip(f.variables, _leaf_data(obj)))
    else:
        raise TypeError(f"cannot display a {type(obj).__name__}: expected text, an "
                        "Expression, a CompiledFunction or a Value")
    return f, (point if values is None else dict(values))


def _leaf_data(value):
    """The data of a ``Value`` graph's inputs, in the order ``to_expression`` names them."""
    from .engine import Constant, topological_order

    return [v.data for v in topological_order(value) if not v._prev and type(v) is not Constant]


# LaTeX -------------------------------------------------------------------------------


def latex(obj):
    """The value and every derivative as one aligned LaTeX block, for ``_repr_latex_``."""
    f, _ = subject(obj)
    rows = latex_rows(f)
    return "$$\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}$$"


def latex_rows(f):
    """``name &= formula`` for the result, then ``d name / d input &= formula`` per input."""
    import sympy

    from .crosscheck import symbols_for

    symbols = symbols_for(f.variables)
    name = sympy.latex(sympy.Symbol(result_name(f), real=True))
    rows = [f"{name} &= {_latex_of(f.expression.root, symbols)}"]
    for variable, gradient in f.gradients.items():
        partial = f"\\frac{{\\partial {name}}}{{\\partial {sympy.latex(symbols[variable])}}}"
        rows.append(f"{partial} &= {_latex_of(gradient.root, symbols)}")
    return rows


def result_name(f):
    """The program's own name for its result, or a short name that no input uses."""
    label = f.expression.labels.get(f.expression.root)
    if label:
        return label
    return next(name for name in RESULT_NAMES if name not in f.variables)


def _latex_of(root, symbols):
    import sympy

    from .crosscheck import to_sympy

    if inline_size(root) > LATEX_LIMIT:
        return "\\text{(too long to typeset; see .derivatives)}"
    return sympy.latex(to_sympy(root, symbols))


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


def graph_dot(f, point, backward=False, rankdir="LR"):
    """DOT text of ``f``'s graph, with every node's value and gradient at ``point`` if given."""
    from . import viz

    values, grads = viz.node_values(f, point) if point is not None else (None, None)
    return viz.to_dot(f.expression, values, grads, backward=backward, rankdir=rankdir)


def svg(obj):
    """The graph as SVG text, for ``_repr_svg_``; None when it cannot be drawn."""
    return graph_svg(*subject(obj))


def graph_svg(f, point):
    """The graph as SVG text, or None without Graphviz's ``dot`` program or when too large."""
    from . import viz

    if shutil.which("dot") is None or _too_large(f):
        return None
    return viz.render(graph_dot(f, point), "svg").decode("utf-8")


def graph_text(f, point):
    """The graph drawn as a text tree: the fallback when there is no ``dot``."""
    from . import viz

    if _too_large(f):
        return f"(a graph of {len(f._plan.forward)} operations is too large to draw)\n"
    values, grads = viz.node_values(f, point) if point is not None else (None, None)
    return viz.to_text(f.expression, values, grads)


def _too_large(f):
    return len(f._plan.forward) > GRAPH_LIMIT


# The whole view ----------------------------------------------------------------------


def html_view(obj):
    """Graph, formulas and code in one HTML block, for ``_repr_html_``.

    Notebooks show only the richest representation, HTML, so it holds all three.
    """
    f, point = subject(obj)
    picture = graph_svg(f, point)
    if picture is None:
        picture = f'<pre class="symgrad-graph">{html.escape(graph_text(f, point))}</pre>'
    else:  # inline SVG must not carry the XML prologue and doctype
        picture = picture[picture.index("<svg"):]
    return (
        '<div class="symgrad">\n'
        f"<div>{picture}</div>\n"
        f"<div>{latex(f)}</div>\n"
        f"<details open><summary>generated code</summary>{code_html(f.source)}</details>\n"
        "</div>"
    )


def draw(obj, values=None, backward=False, rankdir="LR"):
    """A ``graphviz.Source`` of the graph, left to right by default.

    ``obj`` is text, an ``Expression``, a ``CompiledFunction`` or a ``Value``.
    ``values`` ({input: number}) shows every node's value and gradient there; a
    compiled function drawn without it uses the point of its last
    ``value_and_grad``, a ``Value`` its own data.  ``backward=True`` adds the
    backward graph, each edge labelled with its local derivative.
    """
    try:
        import graphviz
    except ImportError:
        raise SymgradError("symgrad.draw needs the graphviz package: "
                           "pip install 'symgrad[viz]'") from None

    f, point = subject(obj, values)
    return graphviz.Source(graph_dot(f, point, backward, rankdir))
