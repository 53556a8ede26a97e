"""Names that generated NumPy (batch) code may call.  Imported only when batches are used."""

import numpy as np


def sigmoid(x):
    """1 / (1 + exp(-x)) over an array, without overflow: exp(-log(1 + exp(-x)))."""
    return np.exp(-np.logaddexp(0.0, -x))


NUMPY_GLOBALS = {"__builtins__": {}, "np": np, "sigmoid": sigmoid}
