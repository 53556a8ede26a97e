"""ArrayFunction: an array program compiled to NumPy (or JAX) code, called with arrays.

Calling binds each declared dimension from the arrays given and checks that
they agree (a ``TypeError`` naming the input and the dimension), that integer
inputs hold integers, that every index is in range and that no ``max`` reduces
an axis with no elements (``EvaluationError``), before any generated code runs.
"""

import contextlib
import numbers

import numpy as np

from ..backends import compile_source
from ..core.errors import EvaluationError, SymgradError
from ..views.hooks import NotebookDisplay
from . import graph, printer, shapes
from .build import ArrayExpression, from_pickled_text, parse
from .program import ArrayProgram
from .runtime import namespace

BACKENDS = ("numpy", "jax")


class ArrayFunction(NotebookDisplay):
    """A compiled array program: ``value_and_grad(**arrays)`` -> (value, {input: gradient}).

    ``inputs`` are every input, in order (declared arrays, then scalars);
    ``wrt`` those with a gradient (integer arrays have none); ``source`` the
    generated module; ``program`` the schedule it was printed from.
    """

    def __init__(self, program, backend="numpy", wrt=None):
        if backend not in BACKENDS:
            raise SymgradError(f"the {backend} backend does not compile array programs; "
                               f"array backends are: {', '.join(BACKENDS)}")
        expression = program if isinstance(program, ArrayExpression) else parse(program)
        self.expression, self.backend = expression, backend
        self.program = ArrayProgram(expression, wrt)
        self.inputs, self.wrt = self.program.inputs, self.program.wrt
        self.variables = self.inputs
        self.artifact = printer.function(self.program, "value_and_grad")
        self.source = self.artifact.source
        globals_ = namespace(backend)
        label = "array program"
        self._generated = compile_source(self.artifact, label, self, globals_)
        value = printer.function(self.program, "value")
        self._value_generated = compile_source(value, label, self, globals_)
        self._run, self._value = self._generated, self._value_generated
        if backend == "jax":
            import jax

            self._run, self._value = jax.jit(self._generated), jax.jit(self._value_generated)
        self._checks = _index_checks(expression)
        self._maxima = _max_checks(expression)
        self._trace = None
        self.last_inputs = None  # the views' default point: the last value_and_grad inputs

    def __reduce__(self):
        """Pickle as the program's text and options; unpickling compiles the text again."""
        return (_rebuild, (self.expression.text, self.backend, self.wrt))

    def __repr__(self):
        return f"<symgrad array program of ({', '.join(self.inputs)}), {self.backend}>"

    def bind(self, inputs):
        """The arguments in order, checked against the declarations, with every index in
        range and no max over no elements; {dimension: size}."""
        missing = [name for name in self.inputs if name not in inputs]
        unexpected = [name for name in inputs if name not in self.expression.inputs]
        if missing or unexpected:
            raise TypeError(f"expected inputs {', '.join(self.inputs)}"
                            + (f"; missing {', '.join(missing)}" if missing else "")
                            + (f"; unknown {', '.join(unexpected)}" if unexpected else ""))
        dims, args = {}, []
        for name in self.inputs:
            node = self.expression.inputs[name]
            args.append(_checked(name, node, inputs[name], dims))
        self._check_indices(args, dims)
        self._check_maxima(dims)
        return args, dims

    def _precision(self):
        """float64 for symgrad's own calls on JAX, whatever JAX's default (as the scalar
        JAX backend does); ``_run`` itself follows JAX's precision under a user's jit."""
        if self.backend != "jax":
            return contextlib.nullcontext()
        import jax

        return jax.enable_x64(True)

    def value_and_grad(self, **inputs):
        """``(value, {input: gradient of the value, an array of the input's shape})``."""
        args, dims = self.bind(inputs)
        self.last_inputs = inputs
        with self._precision():
            value, grads = self._run(*args)
        if self.backend == "jax":
            value, grads = np.asarray(value), [np.asarray(g) for g in grads]
        return float(value), _owned(self.wrt, grads, args)

    def __call__(self, **inputs):
        """The value, a float."""
        args, dims = self.bind(inputs)
        with self._precision():
            return float(self._value(*args))

    def _check_indices(self, args, dims):
        by_name = dict(zip(self.inputs, args))
        for name, dim, what in self._checks:
            size = dims[dim] if isinstance(dim, str) else dim
            if name.startswith("arange:"):
                length = dims.get(name[7:], None) if not name[7:].isdigit() else int(name[7:])
                if length is not None and length > size:
                    raise EvaluationError(f"arange({name[7:]}) = arange({length}) indexes "
                                          f"{what}, which has only {size} entries")
                continue
            index = by_name[name]
            if index.size == 0:
                continue
            low, high = index.min(), index.max()
            if low < 0:
                raise EvaluationError(f"{name} holds a negative index ({low}); indices count "
                                      "from 0")
            if high >= size:
                named = f" ({dim} = {size})" if isinstance(dim, str) else f" of size {size}"
                raise EvaluationError(f"{name} holds the index {high}, out of range for "
                                      f"{what}{named}")

    def _check_maxima(self, dims):
        """A maximum over no elements does not exist: NumPy and JAX raise, as does this."""
        for node in self._maxima:
            shape, axis = node.args[0].shape, node.attrs[0]
            axes = range(len(shape)) if axis is None else (axis,)
            empty = [_size_text(shape[a], a, dims) for a in axes
                     if (dims[shape[a]] if isinstance(shape[a], str) else shape[a]) == 0]
            if empty:
                what, operand = _in_words(node, self.expression)
                along = " along the axis it reduces" if axis is not None else ""
                raise EvaluationError(f"{what}: {operand} has no elements{along} "
                                      f"({', '.join(empty)}), so it has no maximum", what)

    def derivatives(self):
        """{input: its gradient over arrays, in the language, from the gradients before it}.

        ``transpose(X) @ grad_t1`` names the gradient of ``t1``: ``backward_lines``
        says how each is computed.
        """
        program, result = self.program, {}
        for name in self.wrt:
            node = self.expression.inputs[name]
            steps = [s for s in program.backward
                     if s.contribution is not None and s.contribution.operand is node]
            result[name] = " + ".join(printer.formula(s.value, program.names)
                                      for s in steps) or ("1" if node is program.root else "0")
        return result

    def backward_lines(self):
        """The backward pass in the language: (target, text, rule comment, shape)."""
        return printer.backward_lines(self.program)

    def trace(self, **inputs):
        """(value, {input: gradient}, [each step's value, forward then backward])."""
        if self._trace is None:
            artifact = printer.function(self.program, "trace")
            self._trace = compile_source(artifact, "array program trace", self,
                                         namespace("numpy"))
        args, dims = self.bind(inputs)
        value, grads, steps = self._trace(*args)
        return float(value), _owned(self.wrt, grads, args), steps

    def to_dot(self, point=None, rankdir="LR"):
        """Graphviz DOT text of the graph: each array's shape, and at ``point`` (default:
        the last ``value_and_grad`` inputs) a preview of its values and gradient."""
        from ..views.array_draw import to_dot

        return to_dot(self, self.last_inputs if point is None else point, rankdir)

    def to_html(self, point=None, path=None):
        """A page stepping through the code line by line at ``point`` (default: the last
        ``value_and_grad`` inputs); returns the HTML, and with ``path`` also writes it."""
        from ..views.array_html import to_html

        point = self.last_inputs if point is None else point
        if point is None:
            raise SymgradError("to_html needs a point: pass point={input: array}, or call "
                               "value_and_grad first")
        page = to_html(self, point)
        if path is not None:
            with open(path, "w", encoding="utf-8") as stream:
                stream.write(page)
        return page


def _rebuild(text, backend, wrt):
    """An ``ArrayFunction`` from its pickled form (see ``__reduce__``): the text parsed again."""
    if wrt is not None and (type(wrt) not in (list, tuple)
                            or not all(isinstance(name, str) for name in wrt)):
        raise SymgradError("not a pickled symgrad function: wrt is not a list of names")
    return ArrayFunction(from_pickled_text(text), backend, wrt)


def _owned(wrt, gradients, args):
    """{input: its gradient}, each a float or a writable float array of its own.

    Not a broadcast view, not an input (``x @ w`` returns ``grad_x = w``) and not
    another gradient: a caller's in-place step (``w -= rate * grad["w"]``) must
    change nothing else.
    """
    owned, arrays = {}, [arg for arg in args if isinstance(arg, np.ndarray)]
    for name, gradient in zip(wrt, gradients):
        if not np.ndim(gradient):
            owned[name] = float(gradient)
            continue
        array = np.asarray(gradient, dtype=float)
        if not array.flags.writeable or any(np.may_share_memory(array, other)
                                            for other in arrays):
            array = array.copy()
        arrays.append(array)
        owned[name] = array
    return owned


def _checked(name, node, value, dims):
    """``value`` as the array ``node`` declares, binding its dimensions in ``dims``."""
    if node.shape == () and node.dtype == "float":
        return _scalar(name, value)
    try:
        array = (value if hasattr(value, "dtype") and hasattr(value, "shape")
                 else np.asarray(value))
    except ValueError as error:  # rows of different lengths
        raise TypeError(f"{name} is not an array of numbers: {error}") from None
    if node.dtype == "int":
        if array.dtype.kind not in "iu":
            raise TypeError(f"{name} is declared {shapes.declared(node.shape, 'int')} but "
                            f"holds {array.dtype} values; pass an integer array")
        if not array.dtype.isnative:  # JAX takes native byte order only (floats become so)
            array = array.astype(array.dtype.newbyteorder("="))
    elif array.dtype.kind not in "fiub":
        raise TypeError(f"{name} must hold numbers, not {array.dtype}")
    else:
        array = np.asarray(array, dtype=float)
    if array.ndim != len(node.shape):
        raise TypeError(f"{name} is declared with shape {shapes.text(node.shape)} "
                        f"({len(node.shape)} dimensions) but has shape {array.shape}")
    for axis, (dim, size) in enumerate(zip(node.shape, array.shape)):
        if isinstance(dim, int):
            if size != dim:
                raise TypeError(f"{name}: dimension {axis} must be {dim}, got {size} "
                                f"(shape {array.shape})")
        elif dims.setdefault(dim, size) != size:
            raise TypeError(f"{name}: dimension {axis} is {dim} = {size}, but {dim} = "
                            f"{dims[dim]} from an earlier input")
    return array


def _max_checks(expression):
    """Every ``max`` reduction of the program."""
    return [node for node in graph.order([expression.root]) if node.op == "amax"]


def _in_words(node, expression):
    """(``node``, its first operand) in the language, over the program's own names."""
    names = {var: name for name, var in expression.inputs.items()}
    names.update(expression.labels)
    operand = printer.formula(node.args[0], names)
    names.pop(node, None)
    return printer.formula(node, names), operand


def _size_text(dim, axis, dims):
    """``n = 0`` for a named dimension, ``axis 1 of size 0`` for a number."""
    return f"{dim} = {dims[dim]}" if isinstance(dim, str) else f"axis {axis} of size {dim}"


def _scalar(name, value):
    """``value`` as NumPy's float, so a scalar's arithmetic follows IEEE as the arrays' does
    (1.0 / a at a = 0 is inf, not ZeroDivisionError).  Real numbers only, as the scalar
    compiler takes: NumPy and JAX scalars are, ``True`` and ``"2"`` are not."""
    dtype = getattr(value, "dtype", None)
    real = isinstance(value, numbers.Real) and not isinstance(value, bool) or (
        dtype is not None and dtype.kind in "iuf" and np.ndim(value) == 0)
    if not real:
        raise TypeError(f"input {name} must be a real number, not {type(value).__name__}")
    try:
        return np.float64(value)
    except OverflowError:  # an int beyond the floats: IEEE's infinity, as arrays would
        return np.float64(np.inf if value > 0 else -np.inf)


def _index_checks(expression):
    """(index input or "arange:dim", size of the axis it indexes, what) for every index."""
    checks = []
    for node in graph.order([expression.root]):
        if node.op != "take":
            continue
        x = node.args[0]
        for axis, index in enumerate(node.args[1:]):
            what = f"axis {axis} of an array of shape {shapes.text(x.shape)}"
            if index.op == "var":
                checks.append((index.value, x.shape[axis], what))
            elif index.op == "arange":
                checks.append((f"arange:{index.attrs[0]}", x.shape[axis], what))
    return checks
