"""The JAX backend: the NumPy backend's code run on ``jax.numpy``, jit-compiled by XLA.

Every template of the operator table's NumPy column means the same in ``jax.numpy``,
so this backend prints what the NumPy backend prints (losses in its functional mode:
``G = G.at[K].add(...)``, JAX arrays being immutable) with the code's global ``np``
bound to ``jax.numpy``.  The functions are pure, so ``jax.jit``, ``jax.vmap`` and
sharded inputs work on them; the gradient is still symgrad's own backward pass.
Scalar functions and batches, which symgrad calls itself, compute in float64 (the
other backends' numbers); scalar functions return Python floats (``CompiledFunction``
diagnoses a result that is not finite, since JAX never raises on a domain error).
Losses follow JAX's precision and return JAX arrays, so ``jax.jit(loss)`` works.
"""

import warnings

import jax
import jax.numpy as jnp

from ..core.ops import array_helpers
from . import compile_source
from .numpy import NumpyBackend


class JaxBackend(NumpyBackend):
    """The NumPy backend's code over ``jax.numpy``, jit-compiled; losses stay JAX arrays."""

    name = "jax"
    kinds = ("value_and_grad", "value", "batch", "loss", "loss_values")
    module_name = "jax.numpy"
    functional = True  # JAX arrays are immutable: G = G.at[K].add(...)
    # JAX's C++ dispatch imports numpy and ml_dtypes through the calling frame's
    # builtins the first time it runs: the generated code's only builtin.
    globals_ = {"__builtins__": {"__import__": __import__}, "np": jnp, **array_helpers(jnp)}
    # XLA reports no floating-point errors: strict batches run on the NumPy backend.
    floating_point_flags = False
    # XLA's compiler recurses along chains of operations: a sum of 24,000 terms crashed
    # the process (8 MiB stack, jax 0.10).  Room to spare for the callers' frames.
    max_depth = 10_000

    def generated(self, artifact, label, owner):
        """The generated function itself: pure, over JAX arrays, not yet jit-compiled."""
        with warnings.catch_warnings():
            # Index arrays are written as int64; without x64 JAX stores them as int32
            # (exact for any parameter count that fits in memory) and warns.
            warnings.filterwarnings("ignore", "Explicitly requested dtype", UserWarning)
            return compile_source(artifact, label, owner, self.globals_)

    def load(self, artifact, program, label, owner):
        """jit-compiled: symgrad's own calls in float64, losses in JAX's precision (module doc)."""
        function = jax.jit(self.generated(artifact, label, owner))
        if artifact.kind == "value_and_grad":
            def value_and_grad(*args, **inputs):
                with jax.enable_x64(True):
                    value, grads = jax.device_get(function(*args, **inputs))
                return float(value), tuple(float(g) for g in grads)
            return value_and_grad
        if artifact.kind == "value":
            def value(*args, **inputs):
                with jax.enable_x64(True):
                    return float(function(*args, **inputs))
            return value
        if artifact.kind == "batch":
            def batch(*arrays):
                with jax.enable_x64(True):
                    return function(*arrays)
            return batch
        return function

    def loss_arrays(self, P, X, Y):
        """JAX arrays; tracers and sharded arrays stay as they are."""
        return (jnp.asarray(P, dtype=float), jnp.asarray(X, dtype=float),
                None if Y is None else jnp.asarray(Y, dtype=float))

    def loss_value(self, value):
        """The mean loss stays a JAX scalar, so the loss can be traced by ``jax.jit``."""
        return value


BACKEND = JaxBackend()
