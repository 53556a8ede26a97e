"""A shared corpus of programs used by several tests: (text, note) rows.

Hand-written rows cover the lecture, precedence traps, programs and awkward
names; generated rows apply every operator to several kinds of operands.
"""

from symgrad.core.ops import FUNCTIONS
from symgrad.nn import Module

HAND_WRITTEN = [
    ("tanh(a*b+c)", "the lecture's first example"),
    ("(a*b + c)*f", "L = (a*b + c)*f"),
    ("e = a*b; d = e + c; L = d*f; L", "the lecture's program"),
    ("tanh(x1*w1 + x2*w2 + b)", "the lecture's neuron"),
    ("n = x1*w1 + x2*w2 + b; o = tanh(n); o", "the neuron as a program"),
    ("n = x1*w1 + x2*w2 + b\ne = exp(2*n)\no = (e - 1)/(e + 1)\no", "tanh spelled out"),
    ("a + a", "fan-out: the += bug from the lecture"),
    ("b = a*a; b*b", "fan-out through a name"),
    ("x*x*x", "repeated operand"),
    ("x**2", "constant exponent"),
    ("x**y", "variable exponent"),
    ("2**x", "constant base"),
    ("x**-1", "negative exponent"),
    ("x**0.5", "fractional exponent"),
    ("x**3 - 2*x**2 + x - 7", "a polynomial"),
    ("-x**2", "minus binds looser than **"),
    ("(-x)**2", "parenthesised base"),
    ("a**b**c", "** is right-associative"),
    ("a - b - c", "- is left-associative"),
    ("a/b/c", "/ is left-associative"),
    ("a - (b - c)", "explicit grouping"),
    ("a/(b/c)", "explicit grouping"),
    ("-a*b", "unary minus on a product"),
    ("+a - -b", "unary plus and double minus"),
    ("--x", "double negation"),
    ("x^2 + y^3", "^ means **"),
    ("1/(1 + exp(-x))", "sigmoid by hand"),
    ("sigmoid(x)*(1 - sigmoid(x))", "sigmoid's derivative"),
    ("log(exp(x))", "inverse functions"),
    ("exp(log(x))", "inverse functions"),
    ("sqrt(x*x + y*y)", "a norm"),
    ("sin(x)**2 + cos(x)**2", "always 1"),
    ("relu(x) - relu(-x)", "relu pair"),
    ("abs(x*y - 1)", "abs of a product"),
    ("tanh(tanh(tanh(x)))", "nested functions"),
    ("exp(-x**2/2)", "a gaussian"),
    ("log(1 + exp(x))", "softplus"),
    ("x*log(x)", "entropy term"),
    ("sqrt(x)*sqrt(x)", "sqrt squared"),
    ("x/(1 + abs(x))", "softsign"),
    ("(x - y)**2", "squared error"),
    ("h = x*w + b; relu(h)**2", "a relu neuron"),
    ("x = x*2; x = x + 1; x*x", "reassignment"),
    ("a = x\nb = a\nc = b\nc*c", "chains of names"),
    ("# comment\nn = a + b  # more\n\n; n * n", "comments and blank lines"),
    ("lambda*2 + import", "Python keywords as names"),
    ("math + np + out + t1 + grad_x + x", "names generated code might use"),
    ("self*kwargs + sum*len", "names of Python builtins"),
    ("E*I + S*beta + N", "names SymPy would misread"),
    ("x*pi + e**y + inf - nan", "pi and e are numbers; inf and nan are names"),
    ("e = a*b; pi = e + 1; pi*e", "pi and e assigned are names"),
    ("__import__ + __builtins__ + os", "injection-shaped names"),
    ("None_ + True_ + False_", "near-keywords"),
    ("x*0 + y", "x disappears but stays an input"),
    ("x + 1e-3*y", "scientific notation"),
    ("x*.5 + 2.5*y", "leading-dot numbers"),
    ("x*6.8813735870195432", "long literals"),
    ("2*3*x", "constant folding"),
    ("x*1 + 0 + y**1", "identities"),
    ("exp(x)/exp(x)", "shared subexpression"),
    ("t = tanh(x); t*t + t", "shared named subexpression"),
    ("sigmoid(x*y) + sigmoid(y*x)", "commuted products are distinct nodes"),
    ("x1*x2*x3*x4*x5*x6*x7*x8", "many inputs"),
    ("(x + y)*(x - y)", "difference of squares"),
    ("step(x) + sign(y)", "the helper operators"),
    ("c = a + b; d = a*b + b**3; c = c + c + 1; c = c + 1 + c + (-a)\n"
     "d = d + d*2 + relu(b + a); d = d + 3*d + relu(b - a)\n"
     "e = c - d; f = e**2; g = f/2.0; g = g + 10.0/f; g", "micrograd's README example"),
    ("a = 2*x; b = a*a; c = b*b; d = c*c; d", "repeated squaring"),
    ("u = x*y; v = u + x; w = v*u; w + v + u", "a small DAG"),
    ("p = sigmoid(z); -(y*log(p) + (1 - y)*log(1 - p))", "logistic loss"),
    ("s = w1*x1 + w2*x2 + b; (tanh(s) - y)**2", "squared error of a neuron"),
    ("h1 = relu(w11*x + b1); h2 = relu(w12*x + b2); v1*h1 + v2*h2", "a tiny network"),
    ("m = (a + b + c)/3; (a - m)**2 + (b - m)**2 + (c - m)**2", "a variance"),
    ("exp(x)/(exp(x) + exp(y))", "a softmax entry"),
    ("q = x**2; r = q**2; s = r**2; s/q", "powers of powers"),
    ("k = 3; k*x**k", "a constant by name"),
    ("sqrt(1 + x**2) - log(x + sqrt(1 + x**2))", "asinh pieces"),
    ("abs(x) + abs(-x) + relu(x)*relu(-x)", "kinks together"),
]


def _generated():
    """Every function applied to several operand shapes, every infix operator to pairs."""
    operands = ["x", "2*x + 1", "x*y", "x - y", "x**2 + 1", "-x", "y/3"]
    positive = ["x**2 + 1", "exp(x)", "y*y + 0.5", "sqrt(x*x + 1)"]
    rows = []
    within_one = ["x/4", "tanh(x)", "x*y/9", "sin(x)/2", "(x - y)/5", "-x/3", "y/3"]
    for name, op in sorted(FUNCTIONS.items()):
        low, high = op.domain[0]  # where the table samples the (first) operand
        shapes = ([f"{shape} + 1" for shape in positive] if low >= 1 else positive if low >= 0
                  else within_one if high <= 1 else operands)
        if op.arity == 1:
            rows += [(f"{name}({shape})", f"{name} of {shape}") for shape in shapes]
        else:  # a binary function: a positive first operand keeps to its domain
            rows += [(f"{name}({first}, {shape})", f"{name} of {first} and {shape}")
                     for first, shape in zip(positive * 2, shapes)]
    pairs = [("x", "y"), ("x*y", "y + 1"), ("sin(x)", "cos(y)"), ("tanh(x)", "x")]
    for symbol in ["+", "-", "*", "/"]:
        rows += [(f"({a}) {symbol} ({b})", f"{symbol} of {a} and {b}") for a, b in pairs]
    rows += [(f"({a})**2", f"square of {a}") for a, _ in pairs]
    rows += [(f"exp({a})**({b})", f"power of {a} and {b}") for a, b in pairs]
    smooth = ["tanh", "exp", "sin", "cos", "sigmoid", "log", "sqrt"]
    rows += [(f"{f}({g}(x)**2 + y)" if f in ("log", "sqrt") else f"{f}({g}(x)*y + 1)",
              f"{f} after {g}") for f in smooth for g in smooth if g not in ("log", "sqrt")]
    return rows


CORPUS = HAND_WRITTEN + _generated()


def _backends():
    """The backends every convention is tested on; C is skipped only on explicit request."""
    import os

    import pytest

    no_cc = os.environ.get("SYMGRAD_NO_CC") == "1"
    return ["python", "tape", pytest.param("c", marks=pytest.mark.skipif(
        no_cc, reason="SYMGRAD_NO_CC=1: C backend tests turned off explicitly")),
        pytest.param("jax", marks=NEEDS_JAX)]


def _needs_jax():
    """Skip JAX tests, with the reason, where JAX is missing; CI (SYMGRAD_REQUIRE_JAX=1) fails."""
    import importlib.util
    import os

    import pytest

    missing = importlib.util.find_spec("jax") is None
    return pytest.mark.skipif(missing and os.environ.get("SYMGRAD_REQUIRE_JAX") != "1",
                              reason="JAX is not installed: pip install -e '.[jax]' runs these")


def use_jax():
    """JAX with float64 on: the JAX backend is compared with the others to 1e-12."""
    import jax

    jax.config.update("jax_enable_x64", True)
    return jax


NEEDS_JAX = _needs_jax()
BACKENDS = _backends()


class Shuffled(Module):
    """An MLP whose parameters come in a scrambled order: no layer is a slice of P."""

    def __init__(self, model, seed):
        import random

        self.model = model
        self.order = list(model.parameters())
        random.Random(seed).shuffle(self.order)

    def __call__(self, x):
        return self.model(x)

    def parameters(self):
        return self.order


def loss_finite_differences(loss, params, X, Y, h=1e-6):
    """The gradient of a compiled loss by central differences, one parameter at a time."""
    import numpy as np

    grad = np.zeros_like(params)
    for i in range(params.size):
        step = np.zeros_like(params)
        step[i] = h
        grad[i] = (loss(params + step, X, Y)[0] - loss(params - step, X, Y)[0]) / (2 * h)
    return grad


def run_cli(*argv):
    """The ``symgrad`` command in this process: (exit status, stdout, stderr)."""
    import contextlib
    import io

    from symgrad import cli

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = cli.main(list(argv))
        except SystemExit as exit_:
            status = exit_.code
    return status, out.getvalue(), err.getvalue()
