"""C spelling shared by the C backend's printers: reserved words, literals, safe comments.

Light on purpose: the backend registry reads ``WORDS`` without loading the C backend.
"""

from ..core.ops import OPS
from ..core.printer import ATOM, UNARY, as_factor, precedence, render

# Names C code may not use for a variable: C's keywords and keyword macros, every name
# <math.h>, <fenv.h>, <stdlib.h> and <string.h> define, and the C backend's own names.
WORDS = frozenset("""
    auto break case char const continue default do double else enum extern float for goto
    if inline int long register restrict return short signed sizeof static struct switch
    typedef union unsigned void volatile while _Bool _Complex bool true false NULL errno
    acos asin atan atan2 cos sin tan cosh sinh tanh exp log log10 pow sqrt fabs floor ceil
    fmax fmin fmod hypot isfinite isnan isinf j0 j1 jn y0 y1 yn erf erfc gamma lgamma
    tgamma round trunc cbrt expm1 log1p log2 exp2 copysign nan HUGE_VAL INFINITY NAN
    main size_t ptrdiff_t NULL offsetof wchar_t float_t double_t fpclassify signbit isnormal
    isgreater isgreaterequal isless islessequal islessgreater isunordered HUGE_VALF HUGE_VALL
    FP_NAN FP_INFINITE FP_ZERO FP_SUBNORMAL FP_NORMAL FP_ILOGB0 FP_ILOGBNAN FP_FAST_FMA
    MATH_ERRNO MATH_ERREXCEPT math_errhandling fenv_t fexcept_t feclearexcept fetestexcept
    FE_OVERFLOW FE_DIVBYZERO FE_INVALID FE_UNDERFLOW FE_INEXACT FE_ALL_EXCEPT
    FE_DFL_ENV FE_TONEAREST FE_UPWARD FE_DOWNWARD FE_TOWARDZERO FE_NOMASK_ENV FE_DENORMAL
    FE_DFL_DISABLE_SSE_DENORMS_ENV FE_FLUSHTOZERO FE_DFL_MODE FE_SNANS_ALWAYS_SIGNAL
    FP_SUPERNORMAL FP_FAST_FMAF FP_FAST_FMAL FP_LLOGB0 FP_LLOGBNAN FP_INT_UPWARD
    FP_INT_DOWNWARD FP_INT_TOWARDZERO FP_INT_TONEARESTFROMZERO FP_INT_TONEAREST
    MAXFLOAT HUGE DOMAIN SING OVERFLOW UNDERFLOW TLOSS PLOSS X_TLOSS
    M_E M_LOG2E M_LOG10E M_LN2 M_LN10 M_PI M_PI_2 M_PI_4 M_1_PI M_2_PI M_2_SQRTPI M_SQRT2
    M_SQRT1_2 EXIT_FAILURE EXIT_SUCCESS MB_CUR_MAX RAND_MAX EDOM ERANGE EILSEQ
    assert static_assert alignas alignof noreturn thread_local complex imaginary
    I _Imaginary_I _Complex_I
    symgrad_in symgrad_out symgrad_status
""".split())


def literal(value):
    """(text, precedence) of a constant as a C double."""
    if value != value:
        return "NAN", ATOM
    if value in (float("inf"), float("-inf")):
        return ("INFINITY", ATOM) if value > 0 else ("-INFINITY", UNARY)
    text = repr(float(value))  # shortest round trip; always has '.' or 'e', so a double
    return text, UNARY if text.startswith("-") else ATOM


def comment(text):
    """``text`` safe inside a // comment (no line splice, no newline)."""
    return text.replace("\\", "/").replace("\n", " ").replace("??", "? ?")


def leaf(node):
    """(text, precedence) of a constant leaf, for ``render``."""
    return literal(node.value)


class CSpelling:
    """C text of nodes over named values; notes which helper functions (``c_helper``) it calls."""

    def __init__(self):
        self.used = set()

    def template(self, op, node):
        if op.c_helper is not None:
            self.used.add(op.name)
        return op.c

    def render(self, node, names):
        """The operation of ``node`` over the named values (``node``'s own name aside)."""
        return render(node, names, leaf, self.template)

    def text(self, node, names):
        """``node``'s name, or its operation over the named values."""
        return names[node] if node in names else self.render(node, names)

    def factor(self, node, names):
        """``text`` as a factor of a product: parenthesised unless it binds tightly."""
        if node in names:
            return names[node]
        return as_factor(self.render(node, names), precedence(node, names, leaf, self.template))

    def head(self, what, program, headers):
        """A generated file's first lines: what it is, its #includes, the helpers it calls."""
        return ([f"// symgrad: {what} of {comment(program.describe(program.root, 60))}"]
                + [f"#include <{header}>" for header in headers] + [""]
                + [OPS[name].c_helper for name in sorted(self.used)])
