"""A few of an array's numbers, as the views show them: a small grid, coloured as a heat map.

An array shows its first rows and columns (a matrix of three or more
dimensions its first matrix, ``[0, ...]``), each cell tinted red for positive
and blue for negative, as strongly as its size against the array's largest.
The same grid becomes a Graphviz HTML-like table or an HTML table; every text
is escaped.  Only array views load this module, and with it NumPy.
"""

import html
from collections import namedtuple

import numpy as np

from ..core.printer import format_short

ROWS, COLUMNS = 3, 4
Grid = namedtuple("Grid", "rows more_rows more_columns where")
Grid.__doc__ = """``rows`` of (text, colour); whether rows or columns were left out;
``where`` the slice shown, e.g. ``[0, :, :]``, or ""."""


def shape_of(value):
    """The concrete shape, as ``5×3`` (a scalar: ``scalar``)."""
    shape = np.shape(value)
    return "×".join(map(str, shape)) if shape else "scalar"


def short(value):
    """One field's text: a scalar's number, or an array's concrete shape."""
    return format_short(float(value)) if not np.shape(value) else shape_of(value)


def grid(value, rows=ROWS, columns=COLUMNS):
    """The ``Grid`` of ``value``'s first ``rows`` × ``columns`` numbers."""
    array = np.asarray(value)
    where = ""
    if array.ndim > 2:
        where = "[" + ", ".join(["0"] * (array.ndim - 2) + [":", ":"]) + "]"
        array = array[(0,) * (array.ndim - 2)] if array.size else np.zeros((0, 0))
    matrix = array.reshape(1, -1) if array.ndim < 2 else array
    shown = matrix[:rows, :columns]
    finite = np.abs(matrix[np.isfinite(matrix)]) if matrix.size else np.zeros(0)
    scale = float(finite.max()) if finite.size else 0.0
    cells = [[(_text(x), _colour(x, scale)) for x in row] for row in shown.tolist()]
    return Grid(cells, matrix.shape[0] > rows, matrix.shape[1] > columns, where)


def _text(x):
    return str(x) if isinstance(x, (int, bool)) else format_short(x)


def _colour(x, scale):
    """White at 0, red up to the largest positive, blue down to the most negative."""
    if x != x or abs(x) == float("inf"):
        return "#dddddd"
    t = 0.0 if scale == 0 else min(1.0, abs(float(x)) / scale)
    fade = round(255 - 120 * t)
    return f"#ff{fade:02x}{fade:02x}" if x > 0 else f"#{fade:02x}{fade:02x}ff"


def dot_rows(value):
    """The grid as rows of a Graphviz HTML-like table (``<TR>...</TR>``), and its width."""
    cells = grid(value)
    rows = [row for row in cells.rows if row]
    width = max(1, max(map(len, rows), default=0) + cells.more_columns)
    lines = [] if rows else [f'<TR><TD COLSPAN="{width}">(empty)</TD></TR>']
    if cells.where:
        lines.append(f'<TR><TD COLSPAN="{width}">{html.escape(cells.where)}</TD></TR>')
    for row in rows:
        tds = "".join(f'<TD BGCOLOR="{colour}">{html.escape(text)}</TD>' for text, colour in row)
        lines.append(f"<TR>{tds}{'<TD>…</TD>' if cells.more_columns else ''}</TR>")
    if cells.more_rows:
        lines.append(f'<TR><TD COLSPAN="{width}">⋮</TD></TR>')
    return "".join(lines), width


def html_table(value, caption=""):
    """The grid as a small HTML table (class ``heat``), under an escaped caption."""
    cells = grid(value)
    title = " ".join(part for part in (caption, cells.where) if part)
    parts = [f'<table class="heat"><caption>{html.escape(title)}</caption>']
    for row in cells.rows:
        tds = "".join(f'<td style="background:{colour}">{html.escape(text)}</td>'
                      for text, colour in row)
        parts.append(f"<tr>{tds}{'<td>…</td>' if cells.more_columns else ''}</tr>")
    if cells.more_rows:
        width = max(map(len, cells.rows), default=0) + cells.more_columns
        parts.append(f'<tr><td colspan="{max(1, width)}">⋮</td></tr>')
    parts.append("</table>")
    return "".join(parts)
