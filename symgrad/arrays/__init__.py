"""Array programs: declared inputs with shapes, compiled through the same pipeline as scalars.

    text with declarations ─▶ graph.py nodes carrying symbolic shapes (build.py)
    ─▶ autodiff.py (reverse mode as more nodes) ─▶ program.py (named steps)
    ─▶ printer.py (NumPy or JAX source, an Artifact) ─▶ compiled.py (ArrayFunction)

Elementwise operations are rows of the operator table (``core/ops.py``),
broadcast; structural ones (``@``, reductions, indexing, reshape) are rows of
``table.py``.  Nothing here is imported by ``import symgrad``.
"""

import re

_DECLARATION = re.compile(r"(?:^|[;\n])[ \t\f\r]*[A-Za-z_][A-Za-z0-9_]*[ \t\f\r]*:")
_COMMENT = re.compile(r"#[^\n]*")


def is_array_program(text):
    """Whether ``text`` declares an input (``X: [n, 3]``): then it is an array program."""
    return isinstance(text, str) and ":" in text and bool(
        _DECLARATION.search(_COMMENT.sub("", text)))
