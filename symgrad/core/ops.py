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

    ``at`` is the operand's value there, or ``"tie"`` where the operand equals the
    other one (max and min); ``derivative`` is the convention (relu'(0) = 0), or
    None where evaluation raises ``EvaluationError`` instead (sqrt'(0));
    ``operand`` the operand it is about.
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
    ("internal", False),  # exists for other operators' partials (random tests leave it out)
    ("c", None),  # scalar forward in C over doubles; None: the infix symbol
    # The static inline C function the c template calls.  Helpers compare with
    # isgreater and the like: quiet comparisons, which raise no flag for nan, so that
    # GCC may turn the choice into a vector blend.  A nan operand gives nan, as in NumPy.
    ("c_helper", None),
    # Defined, with its local derivatives, at every real operand (overflow aside):
    # only then may ``x*0`` fold to 0 without hiding an error in x.
    ("total", False),
    # Other names a call may use (ln for log, arcsin for asin; pow, whose own name is infix).
    ("aliases", ()),
    # Other arities, each defined in the language over x and y: log(x, base).
    ("variants", ()),
    # For a numpy template that calls the operator by name, NumPy having no such
    # function (erf): the scalar function NumPy batches apply elementwise; JAX has
    # its own in jax.scipy.special.
    ("array_fallback", None),
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


def _softplus(x):
    """log(1 + exp(x)), computed without overflow for any finite x."""
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _max(x, y):
    """The larger of x and y, a float (generated code writes max(x, 2)); y at a tie, as
    relu(x) = max(x, 0) gives 0 at 0."""
    return float(x if x > y else y)


def _min(x, y):
    """The smaller of x and y, a float; y at a tie."""
    return float(x if x < y else y)


def _xlogy(x, y):
    """x*log(y), and 0 where x = 0 (whatever y): d/dy 0**y is 0 for y > 0."""
    return 0.0 if x == 0.0 else x * math.log(y)


def _cbrt(x):
    """The real cube root, negative for negative x (x**(1/3) is complex there)."""
    if hasattr(math, "cbrt"):  # Python 3.11
        return math.cbrt(x)
    return math.copysign(abs(x) ** (1.0 / 3.0), x)


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
           ("y*x**(y - 1)", "xlogy(out, x)"),
           "d/dx x**y = y*x**(y - 1), d/dy x**y = x**y*log(x)",
           lambda sp, x, y: x**y, ((0.2, 3), (-2, 2)), symbol="**", precedence=POWER,
           dunder="pow", note="d/dy x**y needs x > 0; d/dx at x = 0 needs y >= 1",
           c="pow({x}, {y})", aliases=("pow", "power")),
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
           lambda sp, x: sp.log(x), ((0.1, 5),), note="defined for x > 0", c="log({x})",
           aliases=("ln",), variants=((2, "log(x)/log(y)"),)),
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
           lambda sp, x: sp.atan(x), ((-3, 3),), c="atan({x})", total=True,
           aliases=("arctan",)),
        Op("atan2", 2, "math.atan2({x}, {y})", "np.arctan2({x}, {y})",
           ("y/(x**2 + y**2)", "-x/(x**2 + y**2)"),
           "d/dx atan2(x, y) = y/(x**2 + y**2), d/dy atan2(x, y) = -x/(x**2 + y**2)",
           lambda sp, x, y: sp.atan2(x, y), ((0.2, 3), (-3, 3)),
           note="the angle of the point (y, x); no derivative at the origin",
           c="atan2({x}, {y})", aliases=("arctan2",)),
        Op("relu", 1, "relu({x})", "np.maximum({x}, 0.0)", ("step(x)",),
           "d/dx relu(x) = 1 if x > 0 else 0",
           lambda sp, x: sp.Max(x, 0), ((-3, 3),), kinks=(Kink(0.0, 0.0),), helper=_relu,
           c="relu({x})",
           c_helper="static inline double relu(double x) { return islessequal(x, 0.0) ? 0.0 : x; }",
           total=True),
        Op("sigmoid", 1, "sigmoid({x})", "np.exp(-np.logaddexp(0.0, -{x}))",
           ("out*(1 - out)",),
           "d/dx sigmoid(x) = out*(1 - out), where out = sigmoid(x)",
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
        Op("xlogy", 2, "xlogy({x}, {y})", "({x}*np.log(np.where({x} == 0, 1.0, {y})))",
           ("log(y)", "x/y"),
           "d/dx xlogy(x, y) = log(y), d/dy xlogy(x, y) = x/y (xlogy(x, y) = x*log(y))",
           lambda sp, x, y: x * sp.log(y), ((-3, 3), (0.2, 3)), helper=_xlogy, internal=True,
           note="x*log(y), and 0 where x = 0: the y-derivative of x**y, 0 at 0**y",
           c="xlogy({x}, {y})",
           c_helper="static inline double xlogy(double x, double y) "
                    "{ return x * log(x == 0.0 ? 1.0 : y); }"),  # no branch: vectorises
        # Functions people type from calculators and other tools.
        Op("sinh", 1, "math.sinh({x})", "np.sinh({x})", ("cosh(x)",),
           "d/dx sinh(x) = cosh(x)",
           lambda sp, x: sp.sinh(x), ((-3, 3),), c="sinh({x})", total=True),
        Op("cosh", 1, "math.cosh({x})", "np.cosh({x})", ("sinh(x)",),
           "d/dx cosh(x) = sinh(x)",
           lambda sp, x: sp.cosh(x), ((-3, 3),), c="cosh({x})", total=True),
        Op("asinh", 1, "math.asinh({x})", "np.arcsinh({x})", ("1/sqrt(x**2 + 1)",),
           "d/dx asinh(x) = 1/sqrt(x**2 + 1)",
           lambda sp, x: sp.asinh(x), ((-3, 3),), c="asinh({x})", total=True,
           aliases=("arcsinh",)),
        Op("acosh", 1, "math.acosh({x})", "np.arccosh({x})", ("1/sqrt(x**2 - 1)",),
           "d/dx acosh(x) = 1/sqrt(x**2 - 1)",
           lambda sp, x: sp.acosh(x), ((1.1, 5),), kinks=(Kink(1.0, None),),
           note="defined for x >= 1; no derivative at 1", c="acosh({x})",
           aliases=("arccosh",)),
        Op("atanh", 1, "math.atanh({x})", "np.arctanh({x})", ("1/(1 - x**2)",),
           "d/dx atanh(x) = 1/(1 - x**2)",
           lambda sp, x: sp.atanh(x), ((-0.9, 0.9),), note="defined for -1 < x < 1",
           c="atanh({x})", aliases=("arctanh",)),
        Op("asin", 1, "math.asin({x})", "np.arcsin({x})", ("1/sqrt(1 - x**2)",),
           "d/dx asin(x) = 1/sqrt(1 - x**2)",
           lambda sp, x: sp.asin(x), ((-0.9, 0.9),),
           kinks=(Kink(1.0, None), Kink(-1.0, None)),
           note="defined for -1 <= x <= 1; no derivative at -1 and 1", c="asin({x})",
           aliases=("arcsin",)),
        Op("acos", 1, "math.acos({x})", "np.arccos({x})", ("-1/sqrt(1 - x**2)",),
           "d/dx acos(x) = -1/sqrt(1 - x**2)",
           lambda sp, x: sp.acos(x), ((-0.9, 0.9),),
           kinks=(Kink(1.0, None), Kink(-1.0, None)),
           note="defined for -1 <= x <= 1; no derivative at -1 and 1", c="acos({x})",
           aliases=("arccos",)),
        Op("log10", 1, "math.log10({x})", "np.log10({x})", ("1/(x*log(10))",),
           "d/dx log10(x) = 1/(x*log(10))",
           lambda sp, x: sp.log(x, 10), ((0.1, 5),), note="defined for x > 0",
           c="log10({x})"),
        Op("log2", 1, "math.log2({x})", "np.log2({x})", ("1/(x*log(2))",),
           "d/dx log2(x) = 1/(x*log(2))",
           lambda sp, x: sp.log(x, 2), ((0.1, 5),), note="defined for x > 0",
           c="log2({x})"),
        Op("log1p", 1, "math.log1p({x})", "np.log1p({x})", ("1/(1 + x)",),
           "d/dx log1p(x) = 1/(1 + x)",
           lambda sp, x: sp.log(1 + x), ((-0.9, 3),),
           note="log(1 + x), exact for tiny x; defined for x > -1", c="log1p({x})"),
        Op("expm1", 1, "math.expm1({x})", "np.expm1({x})", ("exp(x)",),
           "d/dx expm1(x) = exp(x)",
           lambda sp, x: sp.exp(x) - 1, ((-3, 3),), note="exp(x) - 1, exact for tiny x",
           c="expm1({x})", total=True),
        Op("cbrt", 1, "cbrt({x})", "np.cbrt({x})", ("1/(3*out**2)",),
           "d/dx cbrt(x) = 1/(3*cbrt(x)**2)",
           lambda sp, x: sp.sign(x) * sp.Abs(x)**sp.Rational(1, 3), ((-3, 3),),
           kinks=(Kink(0.0, None),), note="the real cube root; no derivative at 0",
           helper=_cbrt, c="cbrt({x})"),
        Op("softplus", 1, "softplus({x})", "np.logaddexp(0.0, {x})", ("sigmoid(x)",),
           "d/dx softplus(x) = sigmoid(x)",
           lambda sp, x: sp.log(1 + sp.exp(x)), ((-3, 3),),
           note="log(1 + exp(x)), without overflow for large x", helper=_softplus,
           c="softplus({x})",
           c_helper="static inline double softplus(double x) "
                    "{ return fmax(x, 0.0) + log1p(exp(-fabs(x))); }", total=True),
        Op("max", 2, "max({x}, {y})", "np.maximum({x}, {y})",
           ("step(x - y)", "1 - step(x - y)"),
           "d/dx max(x, y) = 1 if x > y else 0, d/dy max(x, y) = 1 - d/dx max(x, y)",
           lambda sp, x, y: sp.Max(x, y), ((-3, 3), (-3, 2)),
           kinks=(Kink("tie", 0.0, 0), Kink("tie", 1.0, 1)),
           note="at a tie x = y the gradient goes to y, as relu'(0) = 0", helper=_max,
           c="max({x}, {y})",
           c_helper="static inline double max(double x, double y) "
                    "{ return isgreater(x, y) ? x : y; }", total=True,
           aliases=("maximum", "fmax")),
        Op("min", 2, "min({x}, {y})", "np.minimum({x}, {y})",
           ("step(y - x)", "1 - step(y - x)"),
           "d/dx min(x, y) = 1 if x < y else 0, d/dy min(x, y) = 1 - d/dx min(x, y)",
           lambda sp, x, y: sp.Min(x, y), ((-3, 3), (-3, 2)),
           kinks=(Kink("tie", 0.0, 0), Kink("tie", 1.0, 1)),
           note="at a tie x = y the gradient goes to y", helper=_min,
           c="min({x}, {y})",
           c_helper="static inline double min(double x, double y) "
                    "{ return isless(x, y) ? x : y; }", total=True,
           aliases=("minimum", "fmin")),
        Op("hypot", 2, "math.hypot({x}, {y})", "np.hypot({x}, {y})", ("x/out", "y/out"),
           "d/dx hypot(x, y) = x/hypot(x, y), d/dy hypot(x, y) = y/hypot(x, y)",
           lambda sp, x, y: sp.sqrt(x**2 + y**2), ((-3, 3), (0.2, 3)),
           note="sqrt(x**2 + y**2) without overflow; no derivative at the origin",
           c="hypot({x}, {y})"),
        Op("erf", 1, "math.erf({x})", "erf({x})", ("2*exp(-x**2)/sqrt(pi)",),
           "d/dx erf(x) = 2*exp(-x**2)/sqrt(pi)",
           lambda sp, x: sp.erf(x), ((-3, 3),), c="erf({x})", total=True,
           array_fallback="math.erf", note="NumPy has no erf: batches call math.erf per element"),
        Op("erfc", 1, "math.erfc({x})", "erfc({x})", ("-2*exp(-x**2)/sqrt(pi)",),
           "d/dx erfc(x) = -2*exp(-x**2)/sqrt(pi)",
           lambda sp, x: sp.erfc(x), ((-3, 3),), c="erfc({x})", total=True,
           array_fallback="math.erfc", note="1 - erf(x), exact far out"),
    ]
}

# Functions are called by name in the language; infix operators are syntax.
FUNCTIONS = {name: op for name, op in OPS.items() if op.symbol is None}
# Other spellings a call may use: ln(x) is log(x), pow(x, y) is x**y.
ALIASES = {alias: op for op in OPS.values() for alias in op.aliases}
# Names that stand for numbers unless the program assigns them.
CONSTANTS = {"pi": math.pi, "e": math.e}


def infix_template(op):
    """``{x} + {y}``, ``-{x}``, ``{x}**{y}``: an infix operator written with its symbol."""
    if op.arity == 1:
        return op.symbol + "{x}"
    spaced = f" {op.symbol} " if op.precedence == SUM or op.precedence == PRODUCT else op.symbol
    return "{x}" + spaced + "{y}"


def helpers():
    """{name: function} of every scalar helper a row registers, for generated code's globals."""
    return {name: op.helper for name, op in OPS.items() if op.helper is not None}


def array_helpers(np):
    """{name: function over arrays} for the rows NumPy has no function for, as module ``np``
    (numpy, or jax.numpy) computes them; ``array_helper_text`` is the same in source."""
    rows = [op for op in OPS.values() if op.array_fallback]
    if rows and np.__name__.startswith("jax"):
        import jax.scipy.special

        return {op.name: getattr(jax.scipy.special, op.name) for op in rows}
    return {op.name: np.vectorize(getattr(math, op.array_fallback.split(".")[1]), otypes=[float])
            for op in rows}


def array_helper_text(op, module="numpy"):
    """The line defining ``op``'s array helper in a standalone module over ``module``
    (numpy, or jax.numpy: as ``array_helpers``)."""
    if module.startswith("jax"):
        return f"from jax.scipy.special import {op.name}"
    return f"{op.name} = np.vectorize({op.array_fallback}, otypes=[float])"
