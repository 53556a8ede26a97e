"""The operator table: the single source of truth for every operator symgrad knows.

Each entry says how to compute the operator (a template per backend), its local
derivative per operand (written in symgrad's own language over the names ``x``,
``y`` for the operands and ``out`` for the result), a one-line rule for
learners, its SymPy equivalent and where tests may sample it.

Templates receive atoms only (names or parenthesised literals), so they need no
precedence handling.  This module imports nothing from symgrad.
"""

from dataclasses import dataclass
from typing import Callable, Optional


@dataclass(frozen=True)
class Op:
    """One operator: forward templates, partials, learner's rule, SymPy twin."""

    name: str  # the name in the language and in the IR
    arity: int
    python: str  # scalar forward, a template over {x} and {y}
    numpy: str  # batch forward over NumPy arrays
    partials: tuple  # local derivative per operand, in the language
    rule: str  # one line for learners, shown in generated comments
    sympy: Callable  # (sympy module, *operands) -> SymPy expression
    domain: tuple  # (low, high) per operand: where tests sample points
    symbol: Optional[str] = None  # infix spelling, None for functions
    precedence: int = 5  # printing: 1 sum, 2 product, 3 unary, 4 power, 5 call
    kink: str = ""  # convention where the derivative does not exist
    helper: bool = False  # exists mainly for other operators' partials


OPS = {
    op.name: op
    for op in [
        Op("add", 2, "{x} + {y}", "{x} + {y}", ("1", "1"),
           "d/dx (x + y) = 1, d/dy (x + y) = 1",
           lambda sp, x, y: x + y, ((-3, 3), (-3, 3)), symbol="+", precedence=1),
        Op("sub", 2, "{x} - {y}", "{x} - {y}", ("1", "-1"),
           "d/dx (x - y) = 1, d/dy (x - y) = -1",
           lambda sp, x, y: x - y, ((-3, 3), (-3, 3)), symbol="-", precedence=1),
        Op("mul", 2, "{x} * {y}", "{x} * {y}", ("y", "x"),
           "d/dx (x*y) = y, d/dy (x*y) = x",
           lambda sp, x, y: x * y, ((-3, 3), (-3, 3)), symbol="*", precedence=2),
        Op("div", 2, "{x} / {y}", "{x} / {y}", ("1/y", "-out/y"),
           "d/dx (x/y) = 1/y, d/dy (x/y) = -x/y**2 = -out/y",
           lambda sp, x, y: x / y, ((-3, 3), (0.5, 3)), symbol="/", precedence=2),
        Op("pow", 2, "math.pow({x}, {y})", "np.power({x}, {y})",
           ("y*x**(y - 1)", "out*log(x)"),
           "d/dx x**y = y*x**(y - 1), d/dy x**y = x**y*log(x)",
           lambda sp, x, y: x**y, ((0.2, 3), (-2, 2)), symbol="**", precedence=4,
           kink="d/dy x**y needs x > 0; d/dx at x = 0 needs y >= 1"),
        Op("neg", 1, "-{x}", "-{x}", ("-1",), "d/dx (-x) = -1",
           lambda sp, x: -x, ((-3, 3),), symbol="-", precedence=3),
        Op("tanh", 1, "math.tanh({x})", "np.tanh({x})", ("1 - out**2",),
           "d/dx tanh(x) = 1 - tanh(x)**2",
           lambda sp, x: sp.tanh(x), ((-3, 3),)),
        Op("exp", 1, "math.exp({x})", "np.exp({x})", ("out",),
           "d/dx exp(x) = exp(x)",
           lambda sp, x: sp.exp(x), ((-3, 3),)),
        Op("log", 1, "math.log({x})", "np.log({x})", ("1/x",),
           "d/dx log(x) = 1/x",
           lambda sp, x: sp.log(x), ((0.1, 5),)),
        Op("sqrt", 1, "math.sqrt({x})", "np.sqrt({x})", ("0.5/out",),
           "d/dx sqrt(x) = 1/(2*sqrt(x))",
           lambda sp, x: sp.sqrt(x), ((0.1, 5),), kink="no derivative at 0"),
        Op("sin", 1, "math.sin({x})", "np.sin({x})", ("cos(x)",),
           "d/dx sin(x) = cos(x)",
           lambda sp, x: sp.sin(x), ((-3, 3),)),
        Op("cos", 1, "math.cos({x})", "np.cos({x})", ("-sin(x)",),
           "d/dx cos(x) = -sin(x)",
           lambda sp, x: sp.cos(x), ((-3, 3),)),
        Op("relu", 1, "relu({x})", "np.maximum({x}, 0.0)", ("step(x)",),
           "d/dx relu(x) = 1 if x > 0 else 0",
           lambda sp, x: sp.Max(x, 0), ((-3, 3),), kink="relu'(0) = 0"),
        Op("sigmoid", 1, "sigmoid({x})", "sigmoid({x})", ("out*(1 - out)",),
           "d/dx sigmoid(x) = sigmoid(x)*(1 - sigmoid(x))",
           lambda sp, x: 1 / (1 + sp.exp(-x)), ((-3, 3),)),
        Op("abs", 1, "math.fabs({x})", "np.abs({x})", ("sign(x)",),
           "d/dx abs(x) = sign(x)",
           lambda sp, x: sp.Abs(x), ((-3, 3),), kink="abs'(0) = 0"),
        Op("step", 1, "step({x})", "np.heaviside({x}, 0.0)", ("0",),
           "d/dx step(x) = 0 (step(x) is 1 for x > 0, else 0)",
           lambda sp, x: sp.Heaviside(x, 0), ((-3, 3),),
           kink="step(0) = 0; derivative taken as 0", helper=True),
        Op("sign", 1, "sign({x})", "np.sign({x})", ("0",),
           "d/dx sign(x) = 0 (sign(x) is -1, 0 or 1)",
           lambda sp, x: sp.sign(x), ((-3, 3),),
           kink="sign(0) = 0; derivative taken as 0", helper=True),
    ]
}

# Infix operators are syntax; the grammar's aliases are these names.
INFIX = {name for name, op in OPS.items() if op.symbol is not None}
FUNCTIONS = {name: op for name, op in OPS.items() if op.symbol is None}
