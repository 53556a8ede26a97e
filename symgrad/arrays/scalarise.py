"""An array program expanded element by element into a scalar symgrad ``Expression``.

For small shapes this is the array compiler's oracle: the scalar compiler (and
through it SymPy) must agree with it.  Input ``X``'s element ``[i, j]`` becomes
the scalar input ``X_i_j``; integer inputs are fixed to the given values.
``max`` folds as ``m + relu(x - m)`` (the gradient goes to the first maximum,
as the array rule says); ``logsumexp`` is ``log(sum(exp(x)))``.
"""

import numpy as np

from ..core import ir
from ..core.expression import Expression
from ..core.ops import OPS


def element_name(name, index):
    return "_".join([name, *map(str, index)])


def scalarise(expression, ints, dims):
    """(Expression, {input: array of its element names}) for ``dims`` {name: size}."""
    values, names = {}, {}
    for node in _order(expression.root):
        values[node] = _scalar(node, [values[a] for a in node.args], ints, dims, names)
    for node in expression.inputs.values():  # inputs the value does not use: gradient 0
        if node not in values and node.dtype == "float":
            _scalar(node, (), ints, dims, names)
    root = np.asarray(values[expression.root], dtype=object).item()
    variables = [n for name in expression.inputs if name in names
                 for n in np.asarray(names[name], dtype=object).ravel()]
    used = set(ir.variables_of([root]))
    return Expression(root, [v for v in variables if v in used]), names


def _order(root):
    from .graph import order

    return order([root])


def _obj(value):
    out = np.empty(np.shape(value), dtype=object)
    out[...] = value
    return out


def _fold(items, op):
    items = list(items)
    total = items[0]
    for item in items[1:]:
        total = op(total, item)
    return total


def _add(a, b):
    return ir.apply("add", a, b)


def _max(m, x):
    return ir.apply("add", m, ir.apply("relu", ir.apply("sub", x, m)))


def _reduce(x, axis, combine):
    x = _obj(x)
    if axis is None:
        return _obj(combine(list(x.ravel())))
    moved = np.moveaxis(x, axis, -1)
    flat = moved.reshape(-1, moved.shape[-1])
    return _obj(np.array([combine(list(row)) for row in flat] + [None],
                         dtype=object)[:-1].reshape(moved.shape[:-1]))


def _scalar(node, args, ints, dims, names):
    op = node.op
    size = lambda d: dims[d] if isinstance(d, str) else d  # noqa: E731
    if op == "var":
        if node.dtype == "int":
            return np.asarray(ints[node.value])
        shape = tuple(size(d) for d in node.shape)
        if not shape:
            names[node.value] = node.value
            return _obj(ir.var(node.value))
        labels = np.empty(shape, dtype=object)
        for index in np.ndindex(shape):
            labels[index] = element_name(node.value, index)
        names[node.value] = labels
        return np.frompyfunc(ir.var, 1, 1)(labels)
    if op == "const":
        return _obj(ir.const(node.value))
    if op in OPS:
        apply = np.frompyfunc(lambda *a: ir.apply(op, *a), len(args), 1)
        return _obj(apply(*args))
    axis = node.attrs[0] if node.attrs else None
    if op == "matmul":
        x, y = _obj(args[0]), _obj(args[1])
        x2 = x.reshape(1, -1) if x.ndim == 1 else x
        y2 = y.reshape(-1, 1) if y.ndim == 1 else y
        out = np.empty((x2.shape[0], y2.shape[1]), dtype=object)
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                out[i, j] = _fold((ir.apply("mul", x2[i, k], y2[k, j])
                                   for k in range(x2.shape[1])), _add)
        return out.reshape(x.shape[:-1] + y.shape[1:])
    if op == "transpose":
        return _obj(args[0]).T
    if op == "sum":
        return _reduce(args[0], axis, lambda items: _fold(items, _add))
    if op == "mean":
        return _reduce(args[0], axis, lambda items: ir.apply(
            "div", _fold(items, _add), ir.const(len(items))))
    if op == "amax":
        return _reduce(args[0], axis, lambda items: _fold(items, _max))
    if op == "logsumexp":
        return _reduce(args[0], axis, lambda items: ir.apply("log", _fold(
            (ir.apply("exp", item) for item in items), _add)))
    if op == "expand":
        return np.expand_dims(_obj(args[0]), axis)
    if op == "reshape":
        return _obj(args[0]).reshape(tuple(size(d) for d in node.attrs[0]))
    if op == "arange":
        return np.arange(size(node.attrs[0]))
    if op == "dim":  # a dimension's size, a number
        return _obj(ir.const(float(dims[node.attrs[0]])))
    if op == "take":
        return _obj(_obj(args[0])[tuple(np.asarray(i) for i in args[1:])])
    raise ValueError(f"cannot expand {op} into scalars")


def scalar_point(values, names):
    """The arrays' elements as the scalar program's inputs: {element name: float}."""
    point = {}
    for name, labels in names.items():
        if isinstance(labels, str):
            point[labels] = float(values[name])
        else:
            for index in np.ndindex(labels.shape):
                point[labels[index]] = float(values[name][index])
    return point


def gradients_by_array(gradients, names):
    """The scalar compiler's {element name: number} as {input: array}."""
    result = {}
    for name, labels in names.items():
        if isinstance(labels, str):
            result[name] = gradients.get(labels, 0.0)
        else:
            result[name] = np.vectorize(lambda n: gradients.get(n, 0.0), otypes=[float])(labels)
    return result
