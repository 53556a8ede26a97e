"""The methods Jupyter and IPython look for, on every object symgrad shows.

They load ``symgrad.views.notebook`` (and SymPy, Graphviz, Pygments) only when a
notebook calls them, so defining them costs nothing at start-up.  ``Expression``
is a core type and carries no display code: ``symgrad/__init__`` attaches these.
"""


class NotebookDisplay:
    """Mixin: rich display of an ``Expression``, ``CompiledFunction`` or ``Value``."""

    __slots__ = ()

    def _repr_html_(self):
        from .notebook import html_view

        return html_view(self)

    def _repr_latex_(self):
        from .notebook import latex

        return latex(self)

    def _repr_svg_(self):
        from .notebook import svg

        return svg(self)


HOOKS = ("_repr_html_", "_repr_latex_", "_repr_svg_")
