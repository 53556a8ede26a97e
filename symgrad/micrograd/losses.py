"""Compiled losses: a model's per-sample loss, compiled once, evaluated over a batch.

The model is called on symbols (``symgrad.tracing``), so the per-sample loss
becomes one Program over parameters ``p0, p1, ...``, inputs ``x0, x1, ...`` and
the target ``y``.  A backend (NumPy by default) prints it as straight-line code
where whole layers run as one call; the result is the mean loss over the batch
(plus an optional L2 term) and its gradient as one flat vector.  NumPy is
imported only here.
"""

import numpy as np

from .. import backends
from ..core.errors import SymgradError
from ..core.expression import Expression
from ..core.program import Program
from .tracing import Symbol, symbols


def compile_loss(model, loss, n_inputs, l2=0.0, backend="numpy"):
    """A ``CompiledLoss`` for ``loss(model(x), y)`` averaged over samples, plus ``l2 * sum(p**2)``.

    ``loss(score, target)`` is written for Values (e.g. ``(1 - target*score).relu()``);
    ``n_inputs`` is the length of one sample; ``backend`` prints the code.
    """
    return CompiledLoss(model, loss, n_inputs, l2, backend)


class CompiledLoss:
    """``loss(params, X, y) -> (mean loss, gradient)``; params and gradient are flat vectors.

    ``X`` has one sample per row, ``y`` one target per sample.  ``parameters()``
    reads the model's current parameters, ``load(params)`` writes them back.
    """

    def __init__(self, model, loss, n_inputs, l2=0.0, backend="numpy"):
        self._backend = backends.get(backend)
        if "loss" not in self._backend.KINDS:
            raise SymgradError(f"the {backend} backend does not compile losses; backends that "
                               "do: numpy")
        self.model, self.l2, self.backend = model, float(l2), backend
        self._params = model.parameters()
        names = {p: f"p{i}" for i, p in enumerate(self._params)}
        inputs = symbols(*(f"x{i}" for i in range(n_inputs)), values=names)
        (target,) = symbols("y", values=names)
        self._n_inputs, self._score = n_inputs, model(inputs)
        self._predict = None
        out = loss(self._score, target)
        if not isinstance(out, Symbol):
            raise TypeError("the loss must be computed from the model's output and the target, "
                            f"got {type(out).__name__}")
        self.program = self._program(out.node, gradients=True)
        self.source = self._backend.emit(self.program, "loss")
        self._function = self._backend.load(self.source, "loss", "compiled loss", self)

    def __call__(self, params, X, y):
        """(mean loss + L2 term, its gradient with respect to ``params``)."""
        # A backend may keep its own arrays (JAX: tracers under jax.jit); NumPy's otherwise.
        params, X, y = getattr(self._backend, "loss_inputs", _numpy_inputs)(params, X, y)
        if X.ndim != 2:
            raise ValueError(f"X must have one sample per row, got shape {X.shape}")
        value, grad = self._function(params, X.T, y)
        if self.l2:
            value = value + self.l2 * (params @ params)
            grad += (2 * self.l2) * params
        return getattr(self._backend, "loss_value", float)(value), grad

    def predict(self, params, X):
        """The model's output for every row of ``X`` (single-output models)."""
        if not isinstance(self._score, Symbol):
            raise TypeError("predict needs a model with one output")
        if self._predict is None:
            program = self._program(self._score.node, gradients=False)
            source = self._backend.emit(program, "loss_values")
            self._predict = self._backend.load(source, "loss_values", "model output", self)
        X = np.asarray(X, dtype=float)
        return np.array(self._predict(params, X.T, None))

    def _program(self, root, gradients):
        """The per-sample program over p0.., x0.. and y, differentiated by the parameters."""
        params = [f"p{i}" for i in range(len(self._params))]
        variables = params + [f"x{i}" for i in range(self._n_inputs)] + ["y"]
        return Program(Expression(root, variables), params if gradients else ())

    def parameters(self):
        """The model's parameters as one flat vector, in ``model.parameters()`` order."""
        return np.array([p.data for p in self._params])

    def load(self, params):
        """Write the flat vector ``params`` back into the model's Values."""
        for p, value in zip(self._params, params.tolist()):
            p.data = value

    def size(self):
        """How long the generated code is: ``{"forward": lines, "backward": lines}``.

        Lines that compute something; comments and the signature do not count.
        """
        code = [line for line in self.source.splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
        marker = next(i for i, line in enumerate(self.source.splitlines())
                      if "# backward pass" in line)
        before = sum(1 for line in self.source.splitlines()[:marker]
                     if line.strip() and not line.lstrip().startswith("#"))
        return {"forward": before - 1, "backward": len(code) - before - 1}


def _numpy_inputs(params, X, y):
    return params, np.asarray(X, dtype=float), np.asarray(y, dtype=float)
