"""The operator table: the single source of truth for every operator symgrad knows.

One ``Op`` row is one operator, of every kind (infix, unary or binary function,
helper): how each backend computes it, its local derivative per operand
(written in symgrad's own language over ``x``, ``y`` for the operands and
``out`` for the result), a one-line rule for learners, its SymPy twin, where
tests sample it, its conventions at kinks, and how it prints.  Everything else
(parser, backends, ``Value``, SymPy check, tests) is generic over this table.

Templates receive atoms only (names or parenthesised literals) and are
themselves atoms (calls or parenthesised), so no backend needs precedence
rules for them.  A template of ``None`` means "write the infix symbol".  This
module imports nothing from symgrad.
"""

import math
from collections import namedtuple

SUM, PRODUCT, UNARY, POWER, CALL = 1, 2, 3, 4, 5  # printing precedence, loosest first


class Kink(namedtuple("Kink", "at derivative operand", defaults=(0,))):
    """A point where the derivative does not exist, and what symgrad gives there.

    ``derivative`` is the convention (relu'(0) = 0), or None where evaluation
    raises ``EvaluationError`` instead (sqrt'(0)); ``operand`` the operand it is
    about.
    """

    __slots__ = ()


_REQUIRED = object()
# The fields of an Op, each with its default.  (A namedtuple, not a dataclass:
# importing dataclasses costs a tenth of a command-line run.)
_OP_FIELDS = [
    ("name", _REQUIRED),  # the name in the language and in the IR
    ("arity", _REQUIRED),
    ("python", _REQUIRED),  # scalar forward over {x} and {y}; None: the infix symbol
    ("numpy", _REQUIRED),  # batch forward over NumPy arrays (also JAX's, as jax.numpy)
    ("partials", _REQUIRED),  # local derivative per operand, in the language
    ("rule", _REQUIRED),  # one line for learners, shown in generated comments
    ("sympy", _REQUIRED),  # (sympy module, *operands) -> SymPy expression
    ("domain", _REQUIRED),  # (low, high) per operand: where tests sample points
    ("symbol", None),  # infix spelling; None for functions
    ("precedence", CALL),  # how tightly its text binds when printed
    ("dunder", None),  # Python operator method: "add" gives __add__, __radd__
    ("commutative", False),
    ("kinks", ()),  # Kink conventions, read by check and the tests
    ("note", ""),  # what a learner should know about where it is defined
    ("helper", None),  # the scalar function the python template calls by name
    ("internal", False),  # exists for other operators' partials: no Value method
    ("c", None),  # scalar forward in C over doubles; None: the infix symbol
    # The static inline C function the c template calls.  Helpers compare with
    # isgreater and the like: quiet comparisons, which raise no flag for nan, so that
    # GCC may turn the choice into a vector blend.  A nan operand gives nan, as in NumPy.
    ("c_helper", None),
    # Defined, with its local derivatives, at every real operand (overflow aside):
    # only then may ``x*0`` fold to 0 without hiding an error in x.
    ("total", False),
]


class Op(namedtuple("Op", [field for field, _ in _OP_FIELDS],
                    defaults=[default for _, default in _OP_FIELDS if default is not _REQUIRED])):
    """One operator: forward templates, partials, learner's rule, SymPy twin, conventions.

    Rows never change; ``op._replace(partials=...)`` gives a changed copy.
    """

    __slots__ = ()
    __hash__ = object.__hash__  # rows are looked up by identity; their lambdas make equality moot
    __eq__ = object.__eq__


def _relu(x):
    """max(x, 0), with relu(0) = 0."""
    return 0.0 if x <= 0.0 else x  # nan stays nan, as in NumPy


def _step(x):
    """1 for x > 0, else 0: the derivative of relu."""
    return 1.0 if x > 0.0 else 0.0 if x <= 0.0 else x


def _sign(x):
    """-1, 0 or 1: the derivative of abs."""
    return (x > 0.0) - (x < 0.0) + 0.0 if x == x else x


def _sigmoid(x):
    """1 / (1 + exp(-x)), computed without overflow for any finite x."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


OPS = {
    op.name: op
    for op in [
        Op("add", 2, None, None, ("1", "1"),
           "d/dx (x + y) = 1, d/dy (x + y) = 1",
           lambda sp, x, y: x + y, ((-3, 3), (-3, 3)), symbol="+", precedence=SUM,
           dunder="add", commutative=True, total=True),
        Op("sub", 2, None, None, ("1", "-1"),
           "d/dx (x - y) = 1, d/dy (x - y) = -1",
           lambda sp, x, y: x - y, ((-3, 3), (-3, 3)), symbol="-", precedence=SUM,
           dunder="sub", total=True),
        Op("mul", 2, None, None, ("y", "x"),
           "d/dx (x*y) = y, d/dy (x*y) = x",
           lambda sp, x, y: x * y, ((-3, 3), (-3, 3)), symbol="*", precedence=PRODUCT,
           dunder="mul", commutative=True, total=True),
        Op("div", 2, None, None, ("1/y", "-out/y"),
           "d/dx (x/y) = 1/y, d/dy (x/y) = -x/y**2 = -out/y",
           lambda sp, x, y: x / y, ((-3, 3), (0.5, 3)), symbol="/", precedence=PRODUCT,
           dunder="truediv"),
        # Python's ** gives complex numbers for (-8)**(1/3); math.pow raises instead.
        Op("pow", 2, "math.pow({x}, {y})", "np.power({x}, {y})",
           ("y*x**(y - 1)", "out*log(x)"),
           "d/dx x**y = y*x**(y - 1), d/dy x**y = x**y*log(x)",
           lambda sp, x, y: x**y, ((0.2, 3), (-2, 2)), symbol="**", precedence=POWER,
           dunder="pow", note="d/dy x**y needs x > 0; d/dx at x = 0 needs y >= 1",
           c="pow({x}, {y})"),
        Op("neg", 1, None, None, ("-1",), "d/dx (-x) = -1",
           lambda sp, x: -x, ((-3, 3),), symbol="-", precedence=UNARY, dunder="neg", total=True),
        Op("tanh", 1, "math.tanh({x})", "np.tanh({x})", ("1 - out**2",),
           "d/dx tanh(x) = 1 - tanh(x)**2",
           lambda sp, x: sp.tanh(x), ((-3, 3),), c="tanh({x})", total=True),
        Op("exp", 1, "math.exp({x})", "np.exp({x})", ("out",),
           "d/dx exp(x) = exp(x)",
           lambda sp, x: sp.exp(x), ((-3, 3),), c="exp({x})", total=True),
        Op("log", 1, "math.log({x})", "np.log({x})", ("1/x",),
           "d/dx log(x) = 1/x",
           lambda sp, x: sp.log(x), ((0.1, 5),), note="defined for x > 0", c="log({x})"),
        Op("sqrt", 1, "math.sqrt({x})", "np.sqrt({x})", ("0.5/out",),
           "d/dx sqrt(x) = 1/(2*sqrt(x))",
           lambda sp, x: sp.sqrt(x), ((0.1, 5),), kinks=(Kink(0.0, None),),
           note="defined for x >= 0; no derivative at 0", c="sqrt({x})"),
        Op("sin", 1, "math.sin({x})", "np.sin({x})", ("cos(x)",),
           "d/dx sin(x) = cos(x)",
           lambda sp, x: sp.sin(x), ((-3, 3),), c="sin({x})", total=True),
        Op("cos", 1, "math.cos({x})", "np.cos({x})", ("-sin(x)",),
           "d/dx cos(x) = -sin(x)",
           lambda sp, x: sp.cos(x), ((-3, 3),), c="cos({x})", total=True),
        Op("tan", 1, "math.tan({x})", "np.tan({x})", ("1 + out**2",),
           "d/dx tan(x) = 1 + tan(x)**2",
           lambda sp, x: sp.tan(x), ((-1.2, 1.2),), note="undefined at odd multiples of pi/2",
           c="tan({x})"),
        Op("atan", 1, "math.atan({x})", "np.arctan({x})", ("1/(1 + x**2)",),
           "d/dx atan(x) = 1/(1 + x**2)",
           lambda sp, x: sp.atan(x), ((-3, 3),), c="atan({x})", total=True),
        Op("atan2", 2, "math.atan2({x}, {y})", "np.arctan2({x}, {y})",
           ("y/(x**2 + y**2)", "-x/(x**2 + y**2)"),
           "d/dx atan2(x, y) = y/(x**2 + y**2), d/dy atan2(x, y) = -x/(x**2 + y**2)",
           lambda sp, x, y: sp.atan2(x, y), ((0.2, 3), (-3, 3)),
           note="the angle of the point (y, x); no derivative at the origin",
           c="atan2({x}, {y})"),
        Op("relu", 1, "relu({x})", "np.maximum({x}, 0.0)", ("step(x)",),
           "d/dx relu(x) = 1 if x > 0 else 0",
           lambda sp, x: sp.Max(x, 0), ((-3, 3),), kinks=(Kink(0.0, 0.0),), helper=_relu,
           c="relu({x})",
           c_helper="static inline double relu(double x) { return islessequal(x, 0.0) ? 0.0 : x; }",
           total=True),
        Op("sigmoid", 1, "sigmoid({x})", "np.exp(-np.logaddexp(0.0, -{x}))",
           ("out*(1 - out)",),
           "d/dx sigmoid(x) = sigmoid(x)*(1 - sigmoid(x))",
           lambda sp, x: 1 / (1 + sp.exp(-x)), ((-3, 3),), helper=_sigmoid, c="sigmoid({x})",
           c_helper="static inline double sigmoid(double x) { double z = exp(-fabs(x)); "
                    "return (isgreaterequal(x, 0.0) ? 1.0 : z) / (1.0 + z); }", total=True),
        Op("abs", 1, "math.fabs({x})", "np.abs({x})", ("sign(x)",),
           "d/dx abs(x) = sign(x)",
           lambda sp, x: sp.Abs(x), ((-3, 3),), dunder="abs", kinks=(Kink(0.0, 0.0),),
           c="fabs({x})", total=True),
        Op("step", 1, "step({x})", "np.heaviside({x}, 0.0)", ("0",),
           "d/dx step(x) = 0 (step(x) is 1 for x > 0, else 0)",
           lambda sp, x: sp.Heaviside(x, 0), ((-3, 3),), kinks=(Kink(0.0, 0.0),),
           note="step(0) = 0", helper=_step, internal=True, c="step({x})",
           c_helper="static inline double step(double x) "
                    "{ return isgreater(x, 0.0) ? 1.0 : islessequal(x, 0.0) ? 0.0 : x; }",
           total=True),
        Op("sign", 1, "sign({x})", "np.sign({x})", ("0",),
           "d/dx sign(x) = 0 (sign(x) is -1, 0 or 1)",
           lambda sp, x: sp.sign(x), ((-3, 3),), kinks=(Kink(0.0, 0.0),),
           note="sign(0) = 0", helper=_sign, internal=True, c="sign({x})",
           c_helper="static inline double sign(double x) "
                    "{ double s = isgreater(x, 0.0) ? 1.0 : 0.0; s = isless(x, 0.0) ? -1.0 : s; "
                    "return isunordered(x, 0.0) ? x : s; }", total=True),
    ]
}

# Functions are called by name in the language; infix operators are syntax.
FUNCTIONS = {name: op for name, op in OPS.items() if op.symbol is None}


def infix_template(op):
    """``{x} + {y}``, ``-{x}``, ``{x}**{y}``: an infix operator written with its symbol."""
    if op.arity == 1:
        return op.symbol + "{x}"
    spaced = f" {op.symbol} " if op.precedence == SUM or op.precedence == PRODUCT else op.symbol
    return "{x}" + spaced + "{y}"


def helpers():
    """{name: function} of every scalar helper a row registers, for generated code's globals."""
    return {name: op.helper for name, op in OPS.items() if op.helper is not None}
