"""Checking a batch's inputs: real numbers only, refused by name otherwise.

``np.asarray(value, dtype=float)`` alone would drop a complex number's imaginary
part (a warning only) and read strings ('nan', '1e999') and dates as numbers.
"""

import numbers

REAL_KINDS = "biuf"  # bool, signed and unsigned int, float: NumPy's dtype kinds


def real_array(name, value):
    """``value`` as a float array; TypeError naming ``name`` unless it holds real numbers."""
    import numpy as np

    array = np.asarray(value)
    if array.dtype.kind == "O":
        wrong = [item for item in array.ravel().tolist() if not isinstance(item, numbers.Real)]
        if wrong:
            wrong = wrong[0]
            raise TypeError(f"input {name!r} holds {type(wrong).__name__} {_short(wrong)}, "
                            "not a real number")
        try:
            return array.astype(float)
        except OverflowError:
            raise ValueError(f"input {name!r} holds an integer too large for a float") from None
    if array.dtype.kind not in REAL_KINDS:
        raise TypeError(f"input {name!r} is an array of {array.dtype} ({_kind(array.dtype)}), "
                        "not of real numbers")
    return array.astype(float, copy=False)


def _kind(dtype):
    return {"c": "complex numbers", "U": "text", "S": "bytes", "M": "dates", "m": "durations",
            "V": "records"}.get(dtype.kind, "not numbers")


def _short(item):
    text = repr(item)
    return text if len(text) <= 40 else text[:37] + "..."
