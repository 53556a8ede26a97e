"""Array programs for the tests: one per array operation, with their random inputs."""

import numpy as np

from symgrad.core.ops import OPS

# name -> (program text, {dimension: size})
PROGRAMS = {
    "broadcast": ("X: [n, 3]\nb: [3]\nsum(tanh(X + b) * a - b / 2)", {"n": 3}),
    "broadcast_keepdims": ("X: [n, 3]\nc: [n, 1]\nr: [1, 3]\nsum(X * c + r**2)", {"n": 2}),
    "matmul": ("A: [n, 3]\nB: [3, 2]\nsum(sin(A @ B))", {"n": 2}),
    "matvec": ("A: [n, 3]\nv: [3]\nsum((A @ v)**2)", {"n": 2}),
    "vecmat": ("v: [n]\nB: [n, 2]\nsum(exp(v @ B))", {"n": 3}),
    "dot": ("u: [n]\nv: [n]\n(u @ v) * u @ u", {"n": 3}),
    "transpose": ("A: [n, 3]\nB: [n, 2]\nsum(cos(transpose(A) @ B)) + sum(A.T * A.T)",
                  {"n": 2}),
    "sum_axis": ("X: [n, 3]\nsum(sum(X, axis=0)**2) + sum(exp(sum(X, axis=1)))", {"n": 2}),
    "mean": ("X: [n, 3]\nmean(X**2) + sum(mean(X, axis=0)**2) + mean(sin(mean(X, axis=-1)))",
             {"n": 3}),
    "max": ("X: [n, 4]\nsum(max(X, axis=1)**2) + max(X) + sum(max(X, axis=0))", {"n": 3}),
    "logsumexp": ("X: [n, 4]\nsum(logsumexp(X, axis=1) * w) + logsumexp(X)", {"n": 2}),
    "gather": ("X: [n, 4]\nY: int[n]\nsum(tanh(X)[arange(n), Y] * k)", {"n": 3}),
    "embedding": ("C: [5, 2]\nX: int[n, 3]\nW: [6, 2]\nemb = C[X]\n"
                  "h = reshape(emb, [n, 6])\nsum(tanh(h @ W))", {"n": 2}),
    "softmax": ("X: [n, 3]\nT: [n, 3]\nsum(softmax(X, axis=1) * T) + sum(log_softmax(X) * T)",
                {"n": 2}),
    "cross_entropy": ("X: [n, 4]\nW: [4, 3]\nY: int[n]\ncross_entropy(X @ W, Y)", {"n": 3}),
    "mlp": ("X: [n, 3]\nW1: [3, 4]\nb1: [4]\nW2: [4, 3]\nb2: [3]\nY: int[n]\n"
            "h = tanh(X @ W1 + b1)\nlogits = h @ W2 + b2\n"
            "loss = cross_entropy(logits, Y)\nloss + 0.01 * sum(W1**2)", {"n": 2}),
    "spellings": ("X: [n, 3]\ny: [3]\nsum(max(X, y) * pi) + sum(log(exp(X) + 1, 2)) "
                  "+ max(ln(exp(X)), axis=1) @ max(X, axis=1)", {"n": 2}),
    "dimension_value": ("X: [n, 3]\nZ: [m, 2]\nv = sum((X - mean(X, axis=0))**2, axis=0) / (n - 1)\n"
                        "sum(v) + mean(Z) * m * n + exp(sum(X) / n**2) + sum(Z) / (2 * m)",
                        {"n": 3, "m": 2}),
    # makemore part 4's MLP (examples/backprop_ninja.sg) at small sizes
    "batchnorm_mlp": ("Xb: int[n, 3]\nYb: int[n]\nC: [5, 2]\nW1: [6, 4]\nb1: [4]\ng: [4]\n"
                      "beta: [4]\nW2: [4, 5]\nb2: [5]\nhpre = reshape(C[Xb], [n, 6]) @ W1 + b1\n"
                      "d = hpre - mean(hpre, axis=0)\nv = sum(d**2, axis=0) / (n - 1)\n"
                      "h = tanh(g * d * (v + 1e-5)**-0.5 + beta)\nlogits = h @ W2 + b2\n"
                      "counts = exp(logits - reshape(max(logits, axis=1), [n, 1]))\n"
                      "probs = counts * reshape(sum(counts, axis=1)**-1, [n, 1])\n"
                      "-mean(log(probs)[arange(n), Yb])", {"n": 3}),
    "relu_mlp": ("X: [n, 3]\nW: [3, 4]\nv: [4]\nsum(relu(X @ W) @ v) / 2", {"n": 3}),
}

# Every public elementwise row of the operator table, broadcast over arrays.
for _name, _op in OPS.items():
    if _op.internal:
        continue
    _call = _op.symbol is None
    if _op.arity == 1:
        _expr = f"{_name}(X)" if _call else f"{_op.symbol}X"
        PROGRAMS[f"op_{_name}"] = (f"X: [n, 2]\nsum({_expr} * X)", {"n": 2})
    else:
        _expr = f"{_name}(X, y)" if _call else f"X {_op.symbol} y"
        PROGRAMS[f"op_{_name}"] = (f"X: [n, 2]\ny: [2]\nsum({_expr})", {"n": 2})


# Softmax regression, three features and four classes: the program the views show.
SOFTMAX_REGRESSION = """
X: [n, 3]
W: [3, 4]
b: [4]
Y: int[n]
logits = X @ W + b
cross_entropy(logits, Y)
"""


def softmax_regression_point(seed):
    """Five samples of ``SOFTMAX_REGRESSION``'s inputs, every class among the labels."""
    rng = np.random.default_rng(seed)
    return {"X": rng.normal(size=(5, 3)), "W": rng.normal(size=(3, 4)),
            "b": rng.normal(size=4), "Y": np.array([0, 1, 2, 3, 0])}


def inputs(name, seed=0):
    """Random inputs of ``name``'s program: in each row's domain for the table's rows."""
    from symgrad.arrays.build import parse

    text, dims = PROGRAMS[name]
    expression = parse(text)
    rng = np.random.default_rng(seed)
    values = {}
    domains = ((-2.0, 2.0), (-2.0, 2.0))
    if name.startswith("op_"):
        domains = OPS[name[3:]].domain
    for position, (input_name, node) in enumerate(expression.inputs.items()):
        shape = tuple(dims[d] if isinstance(d, str) else d for d in node.shape)
        if node.dtype == "int":
            bound = _index_bound(expression, input_name, dims)
            values[input_name] = rng.integers(0, bound, size=shape)
        else:
            low, high = domains[min(position, len(domains) - 1)]
            values[input_name] = rng.uniform(low, high, size=shape) if shape else float(
                rng.uniform(low, high))
    return expression, values, dims


def _index_bound(expression, name, dims):
    from symgrad.arrays import graph

    for node in graph.order([expression.root]):
        if node.op == "take":
            for axis, index in enumerate(node.args[1:]):
                if index.op == "var" and index.value == name:
                    d = node.args[0].shape[axis]
                    return dims[d] if isinstance(d, str) else d
    raise AssertionError(name)


def finite_differences(f, values, name, h=1e-6):
    """d f / d values[name] by central differences, element by element."""
    value = values[name]
    if np.ndim(value) == 0:
        up, down = dict(values), dict(values)
        up[name], down[name] = value + h, value - h
        return (f(**up) - f(**down)) / (2 * h)
    grad = np.zeros(np.shape(value))
    for index in np.ndindex(grad.shape):
        for sign in (1, -1):
            moved = dict(values)
            moved[name] = np.array(value, dtype=float)
            moved[name][index] += sign * h
            grad[index] += sign * f(**moved) / (2 * h)
    return grad
