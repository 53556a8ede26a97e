"""Text of an array program to array nodes, checking shapes as each operation is built.

The grammar's parser (shared with scalar programs) reduces into this builder.
Declarations (``X: [n, 3]``, ``Y: int[n]``) give inputs their shapes; other
names are scalars.  Adjoints and definitions (``table.py``) are parsed by the
same builder over an environment of existing nodes, with the internal rows
allowed.
"""

import math
from types import MappingProxyType

from ..core import syntax
from ..core.autodiff import partial_pattern
from ..core.errors import GraphError, ParseError
from ..core.lalr import Token, UnexpectedCharacter, UnexpectedToken, position
from ..core.ops import ALIASES, CONSTANTS, FUNCTIONS, OPS
from ..backends import PYTHON_WORDS
from ..core.program import RESERVED
from ..core.runtime import scalar_function
from . import graph, shapes
from .shapes import ShapeError
from .table import ARRAY_OPS, DEFINITIONS, HELPERS, REDUCTIONS


# What a program may call.  The table's other rows (outer, size, expand...) are built only
# by adjoints and definitions, so their names are free for a program's own inputs.
LANGUAGE_FUNCTIONS = frozenset({*FUNCTIONS, *ALIASES, *REDUCTIONS, *DEFINITIONS, "transpose",
                                "reshape", "arange"})


class Dim(str):
    """A dimension name used in an expression (``arange(n)``, ``reshape(x, [n, 30])``).

    As an operand (``x / (n - 1)``) it is a "dim" node: the size, a number without
    gradient, bound when the function is called."""

    __slots__ = ()


class ArrayExpression:
    """An array program: its result node, inputs and their declarations, and its names.

    ``inputs`` {name: var node} in order (declared, then scalars by first use);
    ``labels`` {node: the name the program assigned it}; ``dims`` the dimension
    names in order of declaration.
    """

    def __init__(self, root, inputs, labels, dims, text):
        self.root, self.text = root, text
        self.inputs = MappingProxyType(dict(inputs))
        self.labels = MappingProxyType(dict(labels))
        self.dims = tuple(dims)

    @property
    def variables(self):
        return tuple(self.inputs)

    def __reduce__(self):
        """Pickle as the program's text; unpickling parses it again, as any text."""
        return (from_pickled_text, (self.text,))


def parse(text):
    """The ``ArrayExpression`` of ``text``; ``ParseError`` (with a caret) if it is invalid."""
    if not isinstance(text, str):
        raise TypeError(f"expected program text, not {type(text).__name__}")
    text = syntax.newlines(text)
    try:
        return syntax._parser().parse(text, Builder(text))
    except (UnexpectedToken, UnexpectedCharacter) as error:
        raise syntax._translate(error, text) from None


def from_pickled_text(text):
    """The ``ArrayExpression`` of a pickle's text (``GraphError`` or ``ParseError`` if bad)."""
    if type(text) is not str:
        raise GraphError(f"the text of a pickled array program must be a string, not "
                         f"{type(text).__name__}")
    return parse(text)


class Builder:
    """Builds nodes as the parser reduces; ``env`` maps names to nodes already built."""

    def __init__(self, text, env=None, internal=False):
        self.text, self.internal = text, internal
        self.env = dict(env or {})
        self.declared, self.scalars, self.labels, self.dims = {}, {}, {}, {}
        self.names = {}  # node -> how messages call it

    # -- the parser's callback --------------------------------------------------------
    def __call__(self, rule, children, first):
        try:
            return self.reduce(rule, children, first)
        except ShapeError as error:
            raise self.error(first, str(error)) from None

    def reduce(self, rule, children, first):
        if rule in OPS:
            return self.elementwise(rule, children, first)
        method = getattr(self, "rule_" + rule, None)
        if method is None:
            raise self.error(first, f"{rule} is not supported in array programs")
        return method(children, first)

    def error(self, token, message):
        return ParseError(message, self.text, *position(self.text, token.pos))

    def rule_start(self, statements, first):
        *lines, last = statements
        for line in lines:
            if line[0] == "expr":
                raise self.error(line[1], "only the last statement may be a bare expression")
        if last[0] != "expr":
            raise self.error(last[1], "a program must end with an expression")
        if self.internal:
            return last[2]
        inputs = {**self.declared, **self.scalars}
        return ArrayExpression(last[2], inputs, self.labels, self.dims, self.text)

    def rule_expr(self, children, first):
        return ("expr", first, self.value(children[0], first))

    def rule_assign(self, children, first):
        name, node = children[0].text, self.value(children[1], first)
        if name in self.declared or name in self.scalars or name in self.dims:
            raise self.error(first, f"'{name}' is an input or a dimension; choose another "
                             "name")
        self.env[name] = node
        if node.args:
            self.labels.setdefault(node, name)
            self.names.setdefault(node, name)
        return ("assign", first)

    def rule_declare(self, children, first):
        name = children[0].text
        dtype = children[1].text if len(children) == 3 else "float"
        if dtype not in ("int", "float"):
            raise self.error(children[1], f"unknown element type '{dtype}'; use int[...] or "
                             "[...] (floats)")
        if name in self.declared or name in self.env or name in self.scalars:
            raise self.error(first, f"'{name}' is declared or used before this declaration")
        if name in self.dims:
            raise self.error(first, f"'{name}' is a dimension name")
        shape = children[-1]
        for dim in shape:
            if isinstance(dim, str):
                if dim in self.declared or dim in self.scalars or dim in self.env:
                    raise self.error(first, f"'{dim}' is an input, not a dimension name")
                if (dim in RESERVED or dim in PYTHON_WORDS or dim in HELPERS
                        or dim.startswith("_")):
                    raise self.error(first, f"'{dim}' cannot name a dimension in generated "
                                     "code; choose another name")
                self.dims.setdefault(dim, len(self.dims))
        node = graph.var(name, shape, dtype)
        self.declared[name] = node
        self.names[node] = name
        return ("declare", first)

    def rule_shape(self, children, first):
        dims = []
        for token in children:
            if token.type == "NUMBER":
                if not token.text.isdigit():
                    raise self.error(token, "a dimension is a whole number or a name")
                dims.append(int(token.text))
            else:
                dims.append(token.text)
        return tuple(dims)

    def rule_number(self, children, first):
        return graph.const(float(children[0].text))

    def rule_name(self, children, first):
        name = children[0].text
        if name in self.env:
            return self.env[name]
        if name in self.declared:
            return self.declared[name]
        if name in self.dims or self.internal:  # definitions name only dimensions freely
            return Dim(name)
        if name in CONSTANTS:  # pi and e are numbers, unless assigned or a dimension's names
            return graph.const(CONSTANTS[name])
        if name in self.scalars:
            return self.scalars[name]
        if name in LANGUAGE_FUNCTIONS:
            raise self.error(first, f"'{name}' is a function; call it as {name}(...)")
        node = self.scalars[name] = graph.var(name)
        self.names[node] = name
        return node

    def rule_pos(self, children, first):
        return children[0]

    def rule_list(self, children, first):
        return list(children)

    def rule_kwarg(self, children, first):
        return ("kwarg", children[0], children[1])

    def rule_matmul(self, children, first):
        x, y = (self.value(c, first) for c in children)
        return self.structural("matmul", (x, y), (), f"{self.name(x)} @ {self.name(y)}")

    def rule_attr(self, children, first):
        return self.structural("transpose", (self.value(children[0], first),), ())

    def rule_index(self, children, first):
        node, *index = children
        node = self.value(node, first)
        index = tuple(self.index(i, first) for i in index)
        return self.structural("take", (node, *index), (), f"{self.name(node)}[...]")

    def rule_call(self, children, first):
        token, *args = children
        positional = [a for a in args if not _is_kwarg(a)]
        keywords = {}
        for _, word, value in filter(_is_kwarg, args):
            if word.text in keywords:  # a dict would keep the last silently
                raise self.error(word, f"{word.text}= given twice")
            keywords[word.text] = value
        return self.call(token, positional, keywords)

    # -- building -----------------------------------------------------------------------
    def name(self, node):
        return self.names.get(node, "(...)")

    def value(self, node, token):
        """``node`` as an array operand: a dimension name is its size (a number); not a list."""
        if isinstance(node, Dim):
            return _dimension_operand(str(node))
        if isinstance(node, list) or isinstance(node, tuple):
            raise self.error(token, "a list is only a shape, as in reshape(x, [n, 30])")
        return node

    def index(self, node, token):
        node = self.value(node, token)
        if node.dtype != "int":
            raise self.error(token, "an index must be an integer array: declare it as "
                             "Y: int[n], or use arange(n)")
        return node

    def structural(self, name, args, attrs, what=None):
        if name == "transpose" and not args[0].shape:  # a number is its own transpose
            return args[0]
        row = ARRAY_OPS[name]
        for arg in args[:1] if name == "take" else args:
            if arg.dtype == "int" and not row.internal:
                raise ShapeError(f"{self.name(arg)} is an integer array: it can only index "
                                 "another array")
        try:
            shape, dtype = row.shape(args, attrs)
        except ShapeError as error:
            raise ShapeError(f"{what or row.rule}: {error}") from None
        return graph.make(name, tuple(args), tuple(attrs), shape, dtype)

    def elementwise(self, name, args, first=None):
        op = OPS[name]
        args = tuple(self.value(a, first) for a in args) if first else tuple(args)
        for arg in args:
            if arg.dtype == "int":
                raise ShapeError(f"{self.name(arg)} is an integer array: it can only index "
                                 "another array")
        simpler = _simplify(name, args)
        if simpler is not None:
            return simpler
        if all(graph.is_const(a) for a in args):
            try:
                folded = scalar_function(name)(*(a.value for a in args))
            except (ArithmeticError, ValueError):
                folded = math.nan
            if math.isfinite(folded):
                return graph.const(folded)
        shape = args[0].shape
        if len(args) == 2:
            what = f"{self.name(args[0])} {op.symbol or name} {self.name(args[1])}"
            shape = shapes.broadcast(args[0].shape, args[1].shape, what)
        return graph.make(name, args, (), shape)

    def instantiate(self, pattern, node):
        """The table's partial ``pattern`` (IR over x, y, out) built on ``node``."""
        built = {}
        for part in pattern:
            if part.op == "const":
                built[part] = graph.const(part.value)
            elif part.op == "var":
                built[part] = node if part.value == "out" else node.args[
                    0 if part.value == "x" else 1]
            else:
                built[part] = self.elementwise(part.op, [built[a] for a in part.args])
        return built[pattern[-1]]

    def call(self, token, args, keywords):
        name = token.text
        for keyword in keywords:
            if keyword != "axis":
                raise self.error(token, f"{name}() takes no keyword '{keyword}'")
        axis = self.axis(keywords, token) if "axis" in keywords else "none"
        if name in DEFINITIONS:
            return self.definition(token, name, args, axis)
        if name in REDUCTIONS and (axis != "none" or len(args) == 1 or name not in FUNCTIONS):
            self.arity(token, name, args, 1)
            x = self.value(args[0], token)
            axis = shapes.axis_of(None if axis == "none" else axis, x.rank, name)
            return self.structural(REDUCTIONS[name], (x,), (axis, False))
        if axis != "none" and not (self.internal and name in ARRAY_OPS):
            raise self.error(token, f"{name}() takes no axis")
        if name == "transpose":
            self.arity(token, name, args, 1)
            return self.structural("transpose", (self.value(args[0], token),), ())
        if name == "reshape":
            self.arity(token, name, args, 2)
            return self.reshape(token, *args)
        if name == "arange":
            self.arity(token, name, args, 1)
            return self.arange(token, args[0])
        op = FUNCTIONS.get(name) or ALIASES.get(name)
        if op is not None:
            variants = dict(op.variants)  # log(x, base): written in the language over x, y
            if len(args) in variants:
                env = dict(zip("xy", (self.value(a, token) for a in args)))
                return expand_text(variants[len(args)], env)
            self.arity(token, name, args, op.arity)
            return self.elementwise(op.name, args, token)
        if self.internal and name in ARRAY_OPS:
            args = tuple(self.value(a, token) for a in args)
            attrs = {"size": (axis if axis != "none" else None,),
                     "expand": (axis,),
                     "first_max": (axis if axis != "none" else None, False)}.get(name, ())
            return self.structural(name, args, attrs)
        known = sorted(LANGUAGE_FUNCTIONS)
        import difflib

        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f"; functions are: {', '.join(known)}"
        raise self.error(token, f"unknown function '{name}'{hint}")

    def arity(self, token, name, args, count):
        if len(args) != count:
            raise self.error(token, f"{name}() takes {count} argument{'s' * (count != 1)}, "
                             f"got {len(args)}")

    def axis(self, keywords, token):
        node = keywords["axis"]
        if (isinstance(node, graph.ANode) and graph.is_const(node)
                and node.value == int(node.value)):
            return int(node.value)
        raise self.error(token, "axis must be a whole number, such as axis=1")

    def reshape(self, token, x, target):
        x = self.value(x, token)
        if not isinstance(target, list):
            raise self.error(token, "reshape takes a shape as a list: reshape(x, [n, 30])")
        dims = []
        for dim in target:
            if isinstance(dim, Dim) or (isinstance(dim, graph.ANode) and dim.op == "dim"):
                dims.append(str(dim) if isinstance(dim, Dim) else dim.attrs[0])
            elif (isinstance(dim, graph.ANode) and graph.is_const(dim)
                  and dim.value == int(dim.value) and dim.value > 0):
                dims.append(int(dim.value))
            else:
                raise self.error(token, "a shape holds dimension names and whole numbers")
        return self.structural("reshape", (x,), (tuple(dims),))

    def arange(self, token, dim):
        if isinstance(dim, graph.ANode) and graph.is_const(dim) and dim.value == int(
                dim.value) and dim.value >= 0:
            dim = int(dim.value)
        elif isinstance(dim, graph.ANode) and dim.op == "dim":
            dim = dim.attrs[0]
        elif not isinstance(dim, (Dim, int)):
            raise self.error(token, "arange takes a dimension name or a whole number")
        return self.structural("arange", (), (dim if isinstance(dim, int) else str(dim),))

    def definition(self, token, name, args, axis):
        """softmax & co: their definition in the language, built on the arguments."""
        if name == "cross_entropy":
            self.arity(token, name, args, 2)
            if axis != "none":
                raise self.error(token, "cross_entropy() takes no axis (classes are axis 1)")
            logits, labels = self.value(args[0], token), self.value(args[1], token)
            if logits.rank != 2 or labels.dtype != "int" or labels.shape != logits.shape[:1]:
                raise self.error(token, "cross_entropy(logits, Y) takes logits of shape "
                                 f"(n, classes) and Y: int[n]; got {shapes.text(logits.shape)} "
                                 f"and {shapes.declared(labels.shape, labels.dtype)}")
            # The rows are bound as an operand, never written into the text: a dimension
            # called x or y would be read as the operand of that name.
            rows = _dimension_operand(logits.shape[0])
            return expand_text(DEFINITIONS[name], {"x": logits, "y": labels, "rows": rows})
        self.arity(token, name, args, 1)
        x = self.value(args[0], token)
        axis = shapes.axis_of(-1 if axis == "none" else axis, x.rank, name)
        return expand_text(DEFINITIONS[name].format(axis=axis), {"x": x})


def expand_text(text, env):
    """Build ``text`` (an adjoint or a definition, in the language) over ``env``'s nodes."""
    builder = Builder(text, env, internal=True)
    return syntax._parser().parse(text, builder)


def _dimension_operand(dim):
    """A dimension as an operand: its size, a "dim" node for a name, a number otherwise."""
    if isinstance(dim, int):
        return graph.const(float(dim))
    return graph.make("dim", (), (dim,), (), "float")


def _is_kwarg(arg):
    return isinstance(arg, tuple) and len(arg) == 3 and arg[0] == "kwarg"


def _simplify(name, args):
    """The cheap identities of ``core.ir``: x*1, x*-1, x+0, x-0, x/1, x**1, --x."""
    x = args[0]
    y = args[1] if len(args) == 2 else None
    if name == "neg":
        return x.args[0] if x.op == "neg" else None
    if name == "mul":
        for a, b in ((x, y), (y, x)):
            if graph.is_const(a, 1) and _keeps_shape(b, a):
                return b
            if graph.is_const(a, -1) and _keeps_shape(b, a):
                return graph.make("neg", (b,), (), b.shape)
    if name in ("add", "sub") and graph.is_const(y, 0):
        return x
    if name == "add" and graph.is_const(x, 0):
        return y
    if name in ("div", "pow") and graph.is_const(y, 1):
        return x
    return None


def _keeps_shape(node, const):
    return node.dtype == "float"


__all__ = ["ArrayExpression", "Builder", "parse", "expand_text", "partial_pattern", "Token"]
