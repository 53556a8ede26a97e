"""Shapes over symbolic dimensions: a shape is a tuple of ints and dimension names."""

from ..core.errors import SymgradError


class ShapeError(SymgradError, ValueError):
    """Shapes that do not fit; ``build`` turns it into a located ``ParseError``, and
    ``symgrad.check`` raises it for sizes it cannot check."""


def text(shape):
    """``(n, 3)``, ``(4,)`` or ``()``, as NumPy prints shapes."""
    if len(shape) == 1:
        return f"({shape[0]},)"
    return "(" + ", ".join(map(str, shape)) + ")"


def declared(shape, dtype="float"):
    """A shape as a declaration writes it: ``[n, 3]`` or ``int[n]``."""
    return ("int" if dtype == "int" else "") + "[" + ", ".join(map(str, shape)) + "]"


def broadcast(a, b, what):
    """The shape NumPy's broadcasting gives ``a`` with ``b``, else ``ShapeError``."""
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        x = a[-i] if i <= len(a) else 1
        y = b[-i] if i <= len(b) else 1
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            raise ShapeError(f"{what}: shapes {text(a)} and {text(b)} do not broadcast "
                             f"({x} vs {y})")
    return tuple(reversed(out))


def unbroadcast_axes(operand, result):
    """(leading axes, kept axes): what to sum to bring a ``result``-shaped gradient back."""
    lead = len(result) - len(operand)
    kept = tuple(lead + i for i, d in enumerate(operand) if d == 1 and result[lead + i] != 1)
    return tuple(range(lead)), kept


def axis_of(axis, rank, what):
    """``axis`` as an index from 0 (negative counts from the end), else ``ShapeError``."""
    if axis is None:
        return None
    if not -rank <= axis < rank:
        raise ShapeError(f"{what}: axis {axis} is out of range for an array of {rank} "
                         f"dimension{'s' if rank != 1 else ''}")
    return axis % rank


def reduced(shape, axis, keepdims=False):
    """``shape`` after a reduction over ``axis`` (None: all; an int or a tuple)."""
    axes = range(len(shape)) if axis is None else (axis,) if isinstance(axis, int) else axis
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def size_of(shape, bound):
    """The number of elements of ``shape`` with dimensions ``bound`` {name: int}."""
    count = 1
    for d in shape:
        count *= bound[d] if isinstance(d, str) else d
    return count
