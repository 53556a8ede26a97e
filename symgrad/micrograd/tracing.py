"""From Python functions to symgrad's IR: call them on symbols instead of numbers.

A ``Symbol`` wraps an IR node and supports what a ``Value`` supports, so a
function written for Values (an ``nn`` model, a loss) builds the graph directly,
without computing anything.  Values met along the way become input variables
when ``names`` names them, constants (their current data) otherwise.
"""

import inspect

from ..core import ir
from ..core.errors import GraphError
from ..core.expression import Expression
from ..core.ops import OPS
from .engine import Value, checked_names, to_ir

_NUMBER = (int, float)


class Symbol:
    """A symbolic scalar: arithmetic on it builds IR (``symbol.node``)."""

    __slots__ = ("node", "names")

    def __init__(self, node, names=None):
        self.node = node
        self.names = names if names is not None else {}

    def __repr__(self):
        return f"Symbol({ir.structure(self.node)})"

    def __bool__(self):
        # `if x:` or `x if x else y` would pick a branch for every value of x at once.
        raise TypeError("a traced input has no value yet, so `if` cannot test it: control "
                        "flow cannot depend on it (relu, max, min and step choose by value)")

    def __float__(self):
        # math.sin(x) asks for a float: a traced input has no number yet.
        raise TypeError("a traced input is a symbol, not a number, so math.sin(x) and "
                        "float(x) cannot take it: write x.sin() (every function of symgrad "
                        "is a method: x.tanh(), x.log(), x.max(y))")

    def _lift(self, other):
        if isinstance(other, Symbol):
            return other.node
        if isinstance(other, _NUMBER):
            return ir.const(other)
        if isinstance(other, Value):
            if other in self.names:  # a parameter: the common case when tracing a model
                return ir.var(self.names[other])
            return to_ir(other, self.names, unnamed="constants")[0]
        return None

    def _apply(self, op_name, *operands):
        nodes = [self._lift(x) for x in operands]
        if any(node is None for node in nodes):
            return NotImplemented
        return Symbol(ir.apply(op_name, *nodes), self.names)


def _method(op_name, reflected=False):
    def method(self, *other):
        operands = (*other, self) if reflected else (self, *other)
        return self._apply(op_name, *operands)

    method.__name__ = op_name
    return method


def _function(op_name):
    apply = _method(op_name)

    def method(self, *other):
        result = apply(self, *other)
        if result is NotImplemented:
            raise TypeError(f"{op_name}() needs a symbol, Value or number")
        return result

    method.__name__ = op_name
    return method


# The same surface as Value, from the same table.
for _name, _op in OPS.items():
    if _op.dunder:
        setattr(Symbol, f"__{_op.dunder}__", _method(_name))
        if _op.arity == 2:
            setattr(Symbol, f"__r{_op.dunder}__", _method(_name, reflected=True))
    if _op.symbol is None:
        setattr(Symbol, _name, _function(_name))


def symbols(*names, values=None):
    """One ``Symbol`` per name; ``values`` maps Values (e.g. parameters) to input names."""
    return [Symbol(ir.var(name), values) for name in names]


def trace(function, *names, values=None):
    """``function`` called on symbols (named ``names``, else after its parameters) as an Expression.

    >>> from symgrad.tracing import trace
    >>> str(trace(lambda x, w, b: (x*w + b).tanh()))
    'tanh(x*w + b)'
    """
    if not names:
        parameters = inspect.signature(function).parameters.values()
        passed = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        if any(p.kind not in passed for p in parameters):
            raise TypeError("trace passes its inputs by position: give their names "
                            "(trace(f, 'x', 'y')) for a function with *args, keyword-only "
                            "or **keyword parameters")
        names = tuple(p.name for p in parameters)
    for name in names:
        if not ir.is_name(name):
            raise GraphError(f"not a valid input name: {name!r}")
    checked_names(values, taken=names)
    result = function(*symbols(*names, values=values))
    if isinstance(result, Value):
        result = Symbol(to_ir(result, values or {}, unnamed="constants")[0], values)
    if not isinstance(result, Symbol):
        raise TypeError(f"the traced function returned {type(result).__name__}, "
                        "not a symbolic scalar")
    # Every parameter is an input, used or not; inputs named by ``values`` follow.
    extra = [n for n in ir.variables_of([result.node]) if n not in names]
    return Expression(result.node, list(names) + extra)
