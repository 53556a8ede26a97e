"""The few functions generated array code calls by name, for NumPy and for jax.numpy."""

from ..core.ops import array_helpers


def namespace(backend):
    """The globals generated array code runs in on ``backend`` ("numpy" or "jax")."""
    if backend == "numpy":
        import numpy as np

        return {"__builtins__": {}, "np": np, "float": float, **array_helpers(np),
                **helpers(np, functional=False)}
    import jax.numpy as jnp

    return {"__builtins__": {"__import__": __import__}, "np": jnp, "float": float,
            **array_helpers(jnp), **helpers(jnp, functional=True)}


def helpers(xp, functional):
    """{name: function} over the array module ``xp``; ``functional`` for JAX (no in-place)."""

    def logsumexp(x, axis=None, keepdims=False):
        """log(sum(exp(x))) computed stably: the maximum is taken out first.  Over no
        elements it is log(0) = -inf, as in JAX and PyTorch (``initial`` keeps max defined)."""
        top = xp.max(x, axis=axis, keepdims=True, initial=-xp.inf)
        top = xp.where(xp.isfinite(top), top, 0.0)
        result = xp.log(xp.sum(xp.exp(x - top), axis=axis, keepdims=True)) + top
        return result if keepdims else xp.squeeze(result, axis=axis)

    def first_max(x, axis=None, keepdims=False):
        """1.0 at the first maximum along ``axis`` (of all of x, if None), 0.0 elsewhere."""
        if axis is None:
            return (xp.arange(x.size) == xp.argmax(x)).reshape(x.shape).astype(x.dtype)
        where = xp.expand_dims(xp.argmax(x, axis=axis), axis)
        places = xp.arange(x.shape[axis]).reshape(
            [-1 if i == axis else 1 for i in range(x.ndim)])
        return (places == where).astype(x.dtype)

    if functional:
        def scatter_add(g, shape, *index):
            """Zeros of ``shape`` with ``g`` added at ``index`` (repeats add up)."""
            g = xp.asarray(g)  # a constant upstream gradient is a Python float
            return xp.zeros(shape, dtype=g.dtype).at[index].add(g)
    else:
        def scatter_add(g, shape, *index):
            """Zeros of ``shape`` with ``g`` added at ``index`` (repeats add up)."""
            out = xp.zeros(shape)
            xp.add.at(out, index, g)
            return out

    return {"logsumexp": logsumexp, "first_max": first_max, "scatter_add": scatter_add}
