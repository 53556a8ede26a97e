"""The JAX backend: the NumPy backend's code run on ``jax.numpy``, jit-compiled by XLA.

Every template of the NumPy column of the operator table has the same name and
meaning in ``jax.numpy``, so this backend prints exactly what the NumPy backend
prints (scalar functions, batches, and losses through ``numpy_loss.LossPrinter``
in its functional mode: ``G = G.at[K].add(...)``, since JAX arrays are
immutable) and runs it with the generated code's global ``np`` bound to
``jax.numpy``.  The functions are pure, so ``jax.jit``, ``jax.vmap`` and
sharded inputs work on them; the gradient is still symgrad's own backward pass,
never ``jax.grad``.

Precision follows JAX: float64 once ``jax.config.update("jax_enable_x64", True)``
has run, float32 otherwise.  Scalar functions return Python floats (a result that
is not finite is diagnosed by ``CompiledFunction`` through ``Program.evaluate``,
since JAX never raises on a domain error); losses return JAX arrays, so
``jax.jit(loss)(P, X, y)`` works.  Imported only when ``backend="jax"`` is used.
"""

import warnings

import jax
import jax.numpy as jnp

from ..core.ops import array_helpers
from . import compile_source, numpy_loss
from .numpy import NumpyPrinter
from .python import FUNCTION_NAMES

NAME = "jax"
KINDS = ("value_and_grad", "value", "batch", "loss", "loss_values")
# JAX's C++ dispatch imports numpy and ml_dtypes through the calling frame's
# builtins the first time it runs: the generated code's only builtin.
GLOBALS = {"__builtins__": {"__import__": __import__}, "np": jnp, **array_helpers(jnp)}
PRINTER = NumpyPrinter("numpy", "np")  # np.divide for literals: inf, as in every array op
# XLA reports no floating-point errors: strict batches run on the NumPy backend.
FLOATING_POINT_FLAGS = False


def emit(program, kind="value_and_grad"):
    """The source of ``kind`` (see ``symgrad.backends.SIGNATURES``), over ``jax.numpy``."""
    if kind in numpy_loss.FUNCTION_NAMES:
        return numpy_loss.emit(program, kind, functional=True)
    return PRINTER.function(program, FUNCTION_NAMES[kind], gradients=kind != "value")


def generated(source, kind, label, owner):
    """The generated function itself: pure, over JAX arrays, not yet jit-compiled."""
    name = numpy_loss.FUNCTION_NAMES.get(kind) or FUNCTION_NAMES[kind]
    with warnings.catch_warnings():
        # Index arrays are written as int64; without x64 JAX stores them as int32
        # (exact for any parameter count that fits in memory) and warns.
        warnings.filterwarnings("ignore", "Explicitly requested dtype", UserWarning)
        return compile_source(source, name, label, owner, GLOBALS)


def load(source, kind, label, owner):
    """``kind`` jit-compiled; scalar kinds return Python floats, as the Python backend does."""
    function = jax.jit(generated(source, kind, label, owner))
    if kind == "value_and_grad":
        def value_and_grad(*args, **inputs):
            value, grads = jax.device_get(function(*args, **inputs))
            return float(value), tuple(float(g) for g in grads)

        return value_and_grad
    if kind == "value":
        return lambda *args, **inputs: float(function(*args, **inputs))
    return function


def loss_inputs(params, X, y):
    """A compiled loss's arguments as JAX arrays; tracers and sharded arrays stay as they are."""
    return jnp.asarray(params, dtype=float), jnp.asarray(X, dtype=float), \
        jnp.asarray(y, dtype=float)


def loss_value(value):
    """The mean loss stays a JAX scalar, so the loss can be traced by ``jax.jit``."""
    return value
