"""The methods Jupyter and IPython look for, shared by every object symgrad shows.

They load ``symgrad.display`` (and SymPy, Graphviz, Pygments) only when called.
"""


class NotebookDisplay:
    """Mixin: rich display of an ``Expression``, ``CompiledFunction`` or ``Value``."""

    __slots__ = ()

    def _repr_html_(self):
        from .display import html_view

        return html_view(self)

    def _repr_latex_(self):
        from .display import latex

        return latex(self)

    def _repr_svg_(self):
        from .display import svg

        return svg(self)
