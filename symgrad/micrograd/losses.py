"""Compiled losses: a model's per-sample loss, compiled once, evaluated over a batch.

Two routes, one interface.  An ``nn.MLP`` whose loss the array language says
(a loss of one output, or ``cross_entropy``) on the NumPy or JAX backend becomes
an array program, one step per layer (``array_loss``).  Anything else is
called on symbols (``symgrad.tracing``), so the per-sample loss becomes one
Program over parameters ``p0, p1, ...``, inputs ``x0, x1, ...`` and the target
``y`` (or ``y0, y1, ...``), which a backend prints as straight-line code where
whole layers run as one call.  Either way the result is the mean loss over the
batch (plus an optional L2 term) and its gradient as one flat vector.  NumPy is
imported only here.
"""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from .. import backends
from ..core.loss_plan import LossProgram, LossSignature
from ..core.errors import SymgradError
from ..core.expression import Expression
from ..core.ir import paused_collector
from ..core.program import Program
from . import array_loss
from .nn import MLP, Layer, Neuron
from .tracing import Symbol, symbols

if TYPE_CHECKING:
    from .nn import Module


class ShapeError(SymgradError, ValueError):
    """Parameters, samples or targets whose shape does not fit the compiled loss."""


def compile_loss(model: Module, loss: Callable[..., Any], n_inputs: int, l2: float = 0.0,
                 backend: str = "numpy", targets: int | None = None) -> CompiledLoss:
    """A ``CompiledLoss`` for ``loss(model(x), y)`` averaged over samples, plus ``l2 * sum(p**2)``.

    ``loss(score, target)`` is written for Values (e.g. ``(1 - target*score).relu()``);
    ``n_inputs`` is the length of one sample; ``backend`` prints the code.  With
    ``targets=k`` a sample has k targets (a one-hot class, a vector): ``loss``
    receives them as a list of k symbols, and ``y`` has one row of k per sample.
    """
    with paused_collector():  # tracing builds one node per weight and product
        return CompiledLoss(model, loss, n_inputs, l2, backend, targets)


def cross_entropy(scores, targets):
    """Softmax cross-entropy of class ``scores`` against ``targets`` (one-hot, or probabilities).

    ``sum_j t_j * (lse - s_j)`` with ``lse = m + log(sum_j exp(s_j - m))``: ``m`` is
    the largest score (built from ``relu``: ``m + relu(s - m)``), so no ``exp``
    overflows, in the Value engine and in every backend's generated code.
    """
    scores = list(scores) if hasattr(scores, "__iter__") else [scores]
    if len(scores) < 2:  # one output: "'Symbol' object is not iterable" said nothing of it
        raise TypeError("cross_entropy compares a score per class with the targets: the "
                        "model needs 2 or more outputs, and compile_loss targets=k for k classes")
    m = scores[0]
    for s in scores[1:]:
        m = m + (s - m).relu()
    lse = m + sum((s - m).exp() for s in scores).log()
    return sum(t * (lse - s) for t, s in zip(targets, scores))


class CompiledLoss:
    """``loss(params, X, y) -> (mean loss, gradient)``; params and gradient are flat vectors.

    ``X`` has one sample per row, ``y`` one target per sample (a row of k with
    ``targets=k``).  ``parameters()`` reads the model's current parameters,
    ``load(params)`` writes them back.  ``route`` is "arrays" (one step per layer)
    or "scalars" (one per scalar of the model); ``program`` what was printed.
    """

    def __init__(self, model, loss, n_inputs, l2=0.0, backend="numpy", targets=None):
        self._backend = backends.get(backend)
        if "loss" not in self._backend.kinds:
            raise SymgradError(f"the {backend} backend does not compile losses; backends that "
                               "do: numpy, c, jax")
        if isinstance(l2, bool) or not isinstance(l2, numbers.Real) or not math.isfinite(2 * l2):
            raise SymgradError(f"l2 must be a finite number (its gradient 2*l2*P too), got "
                               f"{l2!r}")
        self.model, self.l2, self.backend = model, float(l2), backend
        self._params = model.parameters()
        if targets is None:
            self._targets = ["y"]
        elif isinstance(targets, int) and not isinstance(targets, bool) and targets >= 1:
            self._targets = [f"y{j}" for j in range(targets)]
        else:
            raise SymgradError(f"targets must be a whole number of targets per sample (1 or "
                               f"more), got {targets!r}")
        _check_inputs(model, n_inputs)
        self._n_inputs, self._predict = n_inputs, None
        self.signature = LossSignature(tuple(f"p{i}" for i in range(len(self._params))),
                                       tuple(f"x{i}" for i in range(n_inputs)),
                                       tuple(self._targets))
        arrays = array_loss.plan(model, loss, n_inputs, targets, backend, self._params,
                                 cross_entropy=loss is cross_entropy)
        self.route = "scalars" if arrays is None else "arrays"
        self._arrays = None if arrays is None else array_loss.ArrayLoss(arrays, backend, self)
        if self._arrays is not None:
            self.program, self.artifact = self._arrays.program, self._arrays.artifact
            self._function = self._arrays.function
        else:
            self._trace(loss, targets)
            self.artifact = self._backend.emit(LossProgram(self.program, self.signature), "loss")
            self._function = self._backend.load(self.artifact, self.program, "compiled loss",
                                                self)
        self.source = self.artifact.source

    def _trace(self, loss, targets):
        """The scalar route: the model and the loss called on symbols, one per scalar."""
        names = {p: f"p{i}" for i, p in enumerate(self._params)}
        inputs = symbols(*(f"x{i}" for i in range(self._n_inputs)), values=names)
        target = symbols(*self._targets, values=names)
        self._score = model_output = self.model(inputs)
        out = loss(model_output, target[0] if targets is None else target)
        if not isinstance(out, Symbol):
            raise TypeError("the loss must be computed from the model's output and the target, "
                            f"got {type(out).__name__}")
        self.program = self._program(out.node, gradients=True)

    def __reduce__(self):
        raise TypeError("a compiled loss does not pickle: its loss is a Python function and its "
                        "code is loaded in this process; pickle the model (its Values pickle) "
                        "and call compile_loss again")

    def __repr__(self) -> str:
        return (f"<symgrad compiled loss of {type(self.model).__name__}: "
                f"{len(self._params)} parameters, {self._n_inputs} inputs per sample, "
                f"l2={self.l2:g}, backend {self.backend!r}>")

    def __call__(self, params: np.ndarray, X: np.ndarray, y: np.ndarray
                 ) -> tuple[float, np.ndarray]:
        """(mean loss + L2 term, its gradient with respect to ``params``)."""
        backend = self._backend
        _some_samples(X, y)
        P, X, Y = backend.loss_arrays(params, X, y)
        if not backend.checks_loss_shapes:
            self._check_shapes(P, X, Y)
        try:
            value, grad = self._function(P, X, Y, self.l2)
        except ValueError:
            self._checked(params, X, y)  # on a misfit, say which array
            raise
        return backend.loss_value(value), grad

    def step(self, params: np.ndarray, X: np.ndarray, y: np.ndarray, rate: float) -> float:
        """One step of gradient descent, in place: ``params -= rate * gradient``.

        Returns the loss before the step (``loss(params, X, y)[0]``, L2 term included),
        as ``torch.optim.SGD(...).step(closure)`` does without momentum.  ``params``
        must be a writeable float64 NumPy vector, such as ``parameters()`` gives.
        """
        if not (isinstance(params, np.ndarray) and params.dtype == np.float64
                and params.flags.writeable):
            raise TypeError("step updates params in place: pass a writeable float64 NumPy "
                            "vector (loss.parameters() gives one)")
        if type(rate) is not float or rate - rate != 0.0:  # not the common call: check it
            rate = _finite_rate(rate)
        value, grad = self(params, X, y)
        params -= rate * np.asarray(grad)
        return float(value)

    def predict(self, params: np.ndarray, X: np.ndarray) -> np.ndarray:
        """The model's output for every row of ``X``: a vector, or for a model with k
        outputs (a classifier's scores) one row of k per sample."""
        if self._arrays is not None:
            params, X = self._checked(params, X)
            P, X, _ = self._backend.loss_arrays(params, X, None)
            return np.asarray(self._arrays.predict(P, X), dtype=float)
        single = isinstance(self._score, Symbol)
        scores = [self._score] if single else list(self._score)
        if not scores or not all(isinstance(score, Symbol) for score in scores):
            raise TypeError("predict needs a model whose output is a symbolic scalar or a "
                            "list of them")
        if self._predict is None:
            self._predict = [self._output_function(score) for score in scores]
        params, X = self._checked(params, X)
        arrays = self._backend.loss_arrays(params, X, None)
        columns = [np.asarray(function(*arrays), dtype=float).reshape(-1)
                   for function in self._predict]
        return columns[0] if single else np.stack(columns, axis=1)

    def _output_function(self, score):
        """One output of the model over a batch, compiled."""
        program = self._program(score.node, gradients=False)
        artifact = self._backend.emit(LossProgram(program, self.signature), "loss_values")
        return self._backend.load(artifact, program, "model output", self)

    def _checked(self, params, X, y=None):
        """``params``, ``X`` (and ``y``) as float arrays, or ``ShapeError`` saying which does
        not fit."""
        params, X = np.asarray(params, dtype=float), np.asarray(X, dtype=float)
        y = None if y is None else np.asarray(y, dtype=float)
        self._check_shapes(params, X, y)
        return (params, X) if y is None else (params, X, y)

    def _check_shapes(self, params, X, y=None):
        """``ShapeError`` saying which array does not fit (JAX tracers have shapes too)."""
        if params.shape != (len(self._params),):
            raise ShapeError(f"params must be a vector of the model's {len(self._params)} "
                             f"parameters, got shape {params.shape}")
        if X.ndim != 2 or X.shape[1] != self._n_inputs:
            raise ShapeError(f"X must have one sample per row, {self._n_inputs} inputs each; "
                             f"got shape {X.shape}")
        k = len(self._targets)
        if y is not None and y.shape != ((X.shape[0],) if k == 1 else (X.shape[0], k)):
            what = "one target" if k == 1 else f"one row of {k} targets"
            raise ShapeError(f"y must hold {what} per sample: {X.shape[0]} samples, "
                             f"got y of shape {y.shape}")

    def _program(self, root, gradients):
        """The per-sample program over the signature's names, differentiated by the
        parameters."""
        params, inputs, targets = self.signature
        variables = [*params, *inputs, *targets]
        return Program(Expression(root, variables), params if gradients else ())

    def parameters(self) -> np.ndarray:
        """The model's parameters as one flat vector, in ``model.parameters()`` order."""
        return np.array([p.data for p in self._params])

    def load(self, params: np.ndarray) -> None:
        """Write the flat vector ``params`` back into the model's Values."""
        params = np.asarray(params, dtype=float)
        if params.shape != (len(self._params),):
            raise ShapeError(f"load takes {len(self._params)} parameters, got an array of "
                             f"shape {params.shape}")
        for p, value in zip(self._params, params.tolist()):
            p.data = value

    def size(self) -> dict[str, int]:
        """How long the generated code is: ``{"forward": lines, "backward": lines}``.

        Lines that compute something, from the function's start to the "backward
        pass" comment and from there to the result; comments, braces, the signature
        and the return do not count.
        """
        lines, at = self.source.splitlines(), self.artifact.lines
        comment = "//" if self.artifact.language == "c" else "#"
        forward, backward, end = at["forward"], at["backward"], at["end"]
        return {"forward": _code_lines(lines[forward:backward - 1], comment),
                "backward": _code_lines(lines[backward:end - 1], comment)}


def _code_lines(lines, comment="#"):
    return sum(1 for line in lines
               if line.strip() not in ("", "{", "}") and not line.lstrip().startswith(comment))


def _check_inputs(model, n_inputs):
    """``SymgradError`` unless ``n_inputs`` is a count (1 or more) that the model takes: an
    ``nn`` model's neurons zip their weights with the inputs, so a count too small would
    leave weights out, silently, and one too large inputs."""
    if isinstance(n_inputs, bool) or not isinstance(n_inputs, int) or n_inputs < 1:
        raise SymgradError(f"n_inputs must be a whole number of inputs per sample (1 or more), "
                           f"got {n_inputs!r}")
    first = model.layers[0] if isinstance(model, MLP) else model
    first = first.neurons[0] if isinstance(first, Layer) else first
    if isinstance(first, Neuron) and len(first.w) != n_inputs:
        raise SymgradError(f"n_inputs={n_inputs}, but the model's first neurons take "
                           f"{len(first.w)} inputs")


def _finite_rate(rate):
    """``rate`` as a float: a ``TypeError`` for what is no number, a ``ValueError`` for inf
    and nan, which would make every parameter nan."""
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real):
        raise TypeError(f"rate must be a number, not {type(rate).__name__}")
    if not math.isfinite(rate):
        raise ValueError(f"rate must be finite, not {rate!r}: the step is params -= rate * "
                         "gradient")
    return float(rate)


def _some_samples(X, y):
    """``ShapeError`` for a batch without samples, whose mean is undefined, or without
    targets."""
    if y is None:
        raise ShapeError("y is None: the loss compares the model's output with targets, one "
                         "per sample (predict gives the output alone)")
    if np.ndim(X) == 0:
        raise ShapeError(f"X must have one sample per row; got a {type(X).__name__}")
    if np.iscomplexobj(X) or np.iscomplexobj(y):  # float() would keep the real parts
        raise TypeError("X and y hold real numbers; got complex ones")
    if len(X) == 0:
        raise ShapeError("X holds no samples: the mean loss over 0 samples is undefined")
