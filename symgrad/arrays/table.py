"""The array table: one row per structural operation (elementwise ones are ``core.ops`` rows).

A row gives the operation's shape rule, its spelling in NumPy (the same text
runs on ``jax.numpy``), and its adjoint per operand written in the language
over ``g`` (the gradient arriving at the result), the operands ``x``, ``y``
(index arrays ``i0``, ``i1``...), the result ``out`` and the row's ``axis``,
exactly as the table's partials are written over ``x``, ``y`` and ``out``.
An adjoint of None means the operand gets no gradient (an index, a shape).
Rows named ``internal`` only appear in adjoints and definitions.
"""

from collections import namedtuple

from . import shapes
from .shapes import ShapeError

ArrayOp = namedtuple("ArrayOp", "name shape code adjoints rule local internal",
                     defaults=(False,))
ArrayOp.__doc__ = """One structural operation.

``shape(node-like args, attrs)`` -> (shape, dtype) or ``ShapeError``;
``code(operand texts, attrs)`` -> NumPy text; ``adjoints(args, attrs)`` -> one
adjoint text (or None) per operand; ``rule`` the name shown in comments;
``local`` per operand, the local derivative as a learner writes it (``{x}``,
``{y}``, ``{out}`` stand for the operands' and result's names)."""


def _axis_text(attrs):
    """``, axis=1``, ``, axis=(0, 1), keepdims=True`` or nothing."""
    axis, keepdims = attrs
    if axis is None:
        text = ""
    elif isinstance(axis, tuple):
        text = f", axis={axis[0]}" if len(axis) == 1 else f", axis={axis}"
    else:
        text = f", axis={axis}"
    return text + (", keepdims=True" if keepdims else "")


def _reduce_shape(args, attrs):
    return shapes.reduced(args[0].shape, attrs[0], attrs[1]), "float"


def _keep(axis, text):
    """``text`` with ``g`` (the reduced gradient) given its axis back, when there is one."""
    return text if axis is None else text.replace("g", f"expand(g, axis={axis})", 1)


def _matmul_shape(args, attrs):
    x, y = args
    if x.rank not in (1, 2) or y.rank not in (1, 2):
        raise ShapeError(f"@ takes vectors and matrices, not arrays of {x.rank} and {y.rank} "
                         "dimensions")
    inner_x, inner_y = x.shape[-1], y.shape[0]
    if inner_x != inner_y:
        raise ShapeError(f"inner dimensions differ ({inner_x} vs {inner_y}): shapes "
                         f"{shapes.text(x.shape)} and {shapes.text(y.shape)}")
    return x.shape[:-1] + y.shape[1:], "float"


_MATMUL_ADJOINTS = {
    (2, 2): ("g @ transpose(y)", "transpose(x) @ g"),
    (2, 1): ("outer(g, y)", "transpose(x) @ g"),
    (1, 2): ("y @ g", "outer(x, g)"),
    (1, 1): ("g * y", "g * x"),
}


def _take_shape(args, attrs):
    x, *index = args
    if len(index) > x.rank:
        raise ShapeError(f"too many indices ({len(index)}) for an array of {x.rank} "
                         "dimensions")
    for i in index:
        if i.dtype != "int":
            raise ShapeError("an index must be an integer array (declared as Y: int[n], "
                             "or arange(n))")
    shape = index[0].shape
    for i in index[1:]:
        shape = shapes.broadcast(shape, i.shape, "indices")
    return shape + x.shape[len(index):], "float"


def _reshape_shape(args, attrs):
    (x,), (target,) = args, attrs
    names = lambda s: sorted(d for d in s if isinstance(d, str))  # noqa: E731
    count = lambda s: _product(d for d in s if isinstance(d, int))  # noqa: E731
    if names(x.shape) != names(target) or count(x.shape) != count(target):
        raise ShapeError(f"cannot reshape {shapes.text(x.shape)} into {shapes.text(target)}")
    return target, "float"


def _product(numbers):
    result = 1
    for n in numbers:
        result *= n
    return result


def _transpose_shape(args, attrs):
    return tuple(reversed(args[0].shape)), "float"


def _same_as(position):
    return lambda args, attrs: (args[position].shape, "float")


def _dims_text(dims):
    return "(" + ", ".join(map(str, dims)) + ("," if len(dims) == 1 else "") + ")"


ARRAY_OPS = {row.name: row for row in [
    ArrayOp("matmul", _matmul_shape, lambda a, k: f"{a[0]} @ {a[1]}",
            lambda args, k: _MATMUL_ADJOINTS[(max(args[0].rank, 1), max(args[1].rank, 1))],
            "matmul", ("{y}ᵀ, on the right", "{x}ᵀ, on the left")),
    ArrayOp("transpose", _transpose_shape, lambda a, k: f"{a[0]}.T",
            lambda args, k: ("transpose(g)",), "transpose", ("transpose back",)),
    ArrayOp("sum", _reduce_shape, lambda a, k: f"np.sum({a[0]}{_axis_text(k)})",
            lambda args, k: (_keep(k[0], "broadcast_like(g, x)"),), "sum",
            ("1 for every summed element",)),
    ArrayOp("mean", _reduce_shape, lambda a, k: f"np.mean({a[0]}{_axis_text(k)})",
            lambda args, k: (_keep(k[0], "broadcast_like(g, x)")
                             + f" / size(x{'' if k[0] is None else f', axis={k[0]}'})",),
            "mean", ("1/count for every averaged element",)),
    ArrayOp("amax", _reduce_shape, lambda a, k: f"np.max({a[0]}{_axis_text(k)})",
            lambda args, k: (_keep(k[0], "g * first_max(x" +
                                   ("" if k[0] is None else f", axis={k[0]}") + ")"),),
            "max", ("1 at the first maximum, 0 elsewhere",)),
    ArrayOp("logsumexp", _reduce_shape, lambda a, k: f"logsumexp({a[0]}{_axis_text(k)})",
            lambda args, k: (_keep(k[0], "g * exp(x - out)") if k[0] is None else
                             f"expand(g, axis={k[0]}) * exp(x - expand(out, axis={k[0]}))",),
            "logsumexp", ("softmax({x})",)),
    ArrayOp("take", _take_shape,
            lambda a, k: f"{a[0]}[{', '.join(a[1:])}]",
            lambda args, k: ("scatter_add(g, x, " + ", ".join(
                f"i{n}" for n in range(len(args) - 1)) + ")",) + (None,) * (len(args) - 1),
            "index", ("1 at each picked element (scatter-add)",)),
    ArrayOp("reshape", _reshape_shape,
            lambda a, k: f"np.reshape({a[0]}, {_dims_text(k[0])})",
            lambda args, k: ("reshape_like(g, x)",), "reshape", ("reshape back",)),
    # Internal rows: they appear in adjoints and in the definitions of softmax & co.
    ArrayOp("expand", lambda args, k: (args[0].shape[:k[0]] + (1,) + args[0].shape[k[0]:],
                                       "float"),
            lambda a, k: f"np.expand_dims({a[0]}, {k[0]})",
            lambda args, k: ("reshape_like(g, x)",), "expand", ("reshape back",), True),
    ArrayOp("reshape_like", _same_as(1), lambda a, k: f"np.reshape({a[0]}, {a[1]}.shape)",
            lambda args, k: ("reshape_like(g, x)", None), "reshape", ("reshape back",), True),
    ArrayOp("broadcast_like", _same_as(1),
            lambda a, k: f"np.broadcast_to({a[0]}, {a[1]}.shape)",
            lambda args, k: (None, None), "broadcast", ("",), True),
    ArrayOp("size", lambda args, k: ((), "float"),
            lambda a, k: f"{a[0]}.size" if k[0] is None else f"{a[0]}.shape[{k[0]}]",
            lambda args, k: (None,), "size", ("",), True),
    ArrayOp("first_max", _same_as(0), lambda a, k: f"first_max({a[0]}{_axis_text(k)})",
            lambda args, k: (None,), "max", ("",), True),
    ArrayOp("outer", lambda args, k: (args[0].shape + args[1].shape, "float"),
            lambda a, k: f"np.outer({a[0]}, {a[1]})",
            lambda args, k: ("g @ y", "x @ g"), "outer", ("", ""), True),
    ArrayOp("scatter_add", lambda args, k: (args[1].shape, "float"),
            lambda a, k: f"scatter_add({a[0]}, {a[1]}.shape, {', '.join(a[2:])})",
            lambda args, k: (None,) * len(args), "index", ("",), True),
    # A size as a number is a float, as every other number of the code: Python's ints
    # would multiply past NumPy's int64 (n*n*n*n at n = 60,000 failed on JAX).
    ArrayOp("dim", lambda args, k: ((), "float"), lambda a, k: f"float({k[0]})",
            lambda args, k: (), "dimension", (), True),
    ArrayOp("arange", lambda args, k: ((k[0],), "int"), lambda a, k: f"np.arange({k[0]})",
            lambda args, k: (), "arange", (), True),
]}

# Names that only reductions take with axis=, else the table's elementwise function.
REDUCTIONS = {"sum": "sum", "mean": "mean", "max": "amax", "logsumexp": "logsumexp"}

# Operations by name, defined in the language (their backward follows from the definition),
# over the operands x, y and cross_entropy's number of rows, bound as operands.
DEFINITIONS = {
    "softmax": "exp(x - expand(logsumexp(x, axis={axis}), axis={axis}))",
    "log_softmax": "x - expand(logsumexp(x, axis={axis}), axis={axis})",
    "cross_entropy": "-mean(log_softmax(x, axis=1)[arange(rows), y])",
}

# Functions generated code calls by name, with one implementation per array library.
HELPERS = ("logsumexp", "first_max", "scatter_add")
