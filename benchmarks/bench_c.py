"""The C backend against the Python and NumPy backends, measured side by side in one run.

1. The lecture's neuron: ``f.value_and_grad(**inputs)`` with backend python and c,
   and the raw calls under it: the generated Python function, the C backend's
   extension function (by keyword and by position), and for comparison the
   ``ctypes`` call of the same C on ready buffers (the path without Python's headers).
2. ``f.batch`` over 10^6 points of ``tanh(a*b + c)``: numpy against c, on one thread
   and as it runs by default (split over the cores), and the largest difference of
   each from the Python backend over the same points.
3. Compile time of the C backend: cold (a fresh cache directory) and cached.

OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for every system alike (they
would tune NumPy's BLAS per machine; nothing here uses BLAS, but the run should
not depend on them).  Results are checked to agree before timing.

    python benchmarks/bench_c.py
"""

import os

for _name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
    os.environ.pop(_name, None)

import array  # noqa: E402
import ctypes  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import timeit  # noqa: E402

import numpy as np  # noqa: E402

import symgrad  # noqa: E402
from symgrad.backends import c as c_backend  # noqa: E402
from symgrad.backends import cbuild  # noqa: E402

NEURON = "tanh(x1*w1 + x2*w2 + b)"
NEURON_POINT = {"x1": 2.0, "w1": -3.0, "x2": 0.0, "w2": 1.0, "b": 6.8813735870195432}
BATCH = "tanh(a*b + c)"
POINTS = 10**6


def median_time(function, number, repeat=7):
    """Median seconds per call over ``repeat`` runs of ``number`` calls."""
    return statistics.median(timeit.repeat(function, number=number, repeat=repeat)) / number


def neuron():
    python = symgrad.compile(NEURON)
    c = symgrad.compile(NEURON, backend="c")
    assert python.value_and_grad(**NEURON_POINT) == c.value_and_grad(**NEURON_POINT)
    point = NEURON_POINT
    values = tuple(point.values())
    raw, raw_python = c._value_and_grad, python._value_and_grad
    assert raw(**point) == raw(*values) == raw_python(**point)
    times = {
        "python": lambda: python.value_and_grad(**point),
        "c": lambda: c.value_and_grad(**point),
        "raw python": lambda: raw_python(**point),
        "raw c, keywords": lambda: raw(**point),
        "raw c, positions": lambda: raw(*values),
    }
    # The ctypes call of the same C (no Python.h): buffers prepared once.
    library = ctypes.PyDLL(cbuild.build(c.source))
    function = library.value_and_grad
    function.restype, function.argtypes = ctypes.c_int, (ctypes.c_void_p, ctypes.c_void_p)
    buffer = array.array("d", list(values) + [0.0] * 6)
    address = buffer.buffer_info()[0]
    out = address + 8 * len(point)
    times["raw ctypes"] = lambda: function(address, out)
    # Interleaved rounds, so that a change of load on the machine hits every system alike.
    rounds = {name: [] for name in times}
    for _ in range(7):
        for name, call in times.items():
            rounds[name].append(min(timeit.repeat(call, number=20_000, repeat=3)) / 20_000)
    return {name: statistics.median(seconds) for name, seconds in rounds.items()}


def batch(rounds=7):
    """Median ms per ``f.batch`` of numpy, c on one thread and c as it runs by default,
    timed in interleaved rounds (each the best of 3 calls)."""
    numpy_ = symgrad.compile(BATCH, backend="numpy")
    c = symgrad.compile(BATCH, backend="c")
    rng = np.random.default_rng(0)
    inputs = {name: rng.uniform(-2, 2, POINTS) for name in "abc"}
    expected, got = numpy_.batch(**inputs), c.batch(**inputs)
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-12)

    def one_thread():
        c_backend.THREADS = 1
        try:
            return c.batch(**inputs)
        finally:
            c_backend.THREADS = None

    times = {"numpy": lambda: numpy_.batch(**inputs), "c, one thread": one_thread,
             "c": lambda: c.batch(**inputs)}
    seconds = {name: [] for name in times}
    for _ in range(rounds):
        for name, call in times.items():
            seconds[name].append(min(timeit.repeat(call, number=1, repeat=3)))
    return {name: statistics.median(s) for name, s in seconds.items()}, inputs


def differences(inputs):
    """The largest difference of each batch from the Python backend over every point:
    (relative, relative with values below 1 compared absolutely) for values and gradients."""
    python = symgrad.compile(BATCH)._value_and_grad  # the generated function: (value, grads)
    points = list(zip(*(inputs[name].tolist() for name in "abc")))
    expected = np.array([[value, *grads] for value, grads in (python(*p) for p in points)])
    found = {}
    for backend in ("numpy", "c"):
        value, grads = symgrad.compile(BATCH, backend=backend).batch(**inputs)
        got = np.column_stack([value, *grads.values()])
        gap = np.abs(got - expected)
        relative = gap / np.abs(expected)
        floored = gap / np.maximum(1.0, np.maximum(np.abs(got), np.abs(expected)))
        found[backend] = [(float(np.nanmax(relative[:, columns])), float(floored[:, columns].max()))
                          for columns in (slice(0, 1), slice(1, None))]
    return found


def compile_times():
    """Seconds to compile the neuron with backend c: a cold cache, then a warm one."""
    cold, cached = [], []
    saved = os.environ.get("XDG_CACHE_HOME")
    try:
        for _ in range(5):
            with tempfile.TemporaryDirectory() as directory:
                os.environ["XDG_CACHE_HOME"] = directory
                start = time.perf_counter()
                symgrad.compile(NEURON, backend="c")
                cold.append(time.perf_counter() - start)
                start = time.perf_counter()
                symgrad.compile(NEURON, backend="c")
                cached.append(time.perf_counter() - start)
    finally:
        if saved is None:
            os.environ.pop("XDG_CACHE_HOME", None)
        else:
            os.environ["XDG_CACHE_HOME"] = saved
    python = median_time(lambda: symgrad.compile(NEURON), 20)
    return statistics.median(cold), statistics.median(cached), python


def main():
    print(f"symgrad's C backend ({' '.join(cbuild.compiler())}: "
          f"{cbuild.version(tuple(cbuild.compiler())).splitlines()[0]}; flags "
          f"{' '.join(cbuild.FLAGS)};\n  batches' fast build adds "
          f"{' '.join(cbuild.VECTOR_FLAGS[len(cbuild.FLAGS):])})")
    t = neuron()
    print(f"\nthe lecture's neuron {NEURON}, median of 7 interleaved rounds,\n  each the best of 3 runs of 20,000 calls:")
    print(f"  value_and_grad(**inputs), backend python  {t['python'] * 1e6:6.3f} µs")
    print(f"  value_and_grad(**inputs), backend c       {t['c'] * 1e6:6.3f} µs   "
          f"({t['c'] / t['python']:.2f}x python's time; target <= 1)")
    print(f"  raw generated Python function, keywords   {t['raw python'] * 1e6:6.3f} µs")
    print(f"  raw C extension function, keywords        {t['raw c, keywords'] * 1e6:6.3f} µs   "
          "(target < 0.3)")
    print(f"  raw C extension function, positions       {t['raw c, positions'] * 1e6:6.3f} µs")
    print(f"  raw ctypes call, buffers ready            {t['raw ctypes'] * 1e6:6.3f} µs   "
          "(the fallback without Python.h, before its wrapper)")
    t, inputs = batch()
    print(f"\nf.batch over {POINTS:,} points of {BATCH}, median of 7 interleaved rounds,\n"
          f"  each the best of 3 calls ({c_backend._cores()} threads by default):")
    print(f"  backend numpy             {t['numpy'] * 1e3:8.2f} ms")
    print(f"  backend c, one thread     {t['c, one thread'] * 1e3:8.2f} ms   "
          f"({t['numpy'] / t['c, one thread']:.1f}x faster)")
    print(f"  backend c                 {t['c'] * 1e3:8.2f} ms   "
          f"({t['numpy'] / t['c']:.1f}x faster; target >= 5x)")
    print("  largest difference from the Python backend over the same points, relative\n"
          "  (and relative, or absolute below 1, as the tests measure):")
    for backend, ((value, value_floored), (grad, grad_floored)) in differences(inputs).items():
        print(f"    {backend:5s}  values {value:.1e} ({value_floored:.1e}), "
              f"gradients {grad:.1e} ({grad_floored:.1e})")
    cold, cached, python = compile_times()
    print(f"\ncompile time of {NEURON} (text -> callable), median:")
    print(f"  backend python      {python * 1e3:8.2f} ms")
    print(f"  backend c, cold     {cold * 1e3:8.2f} ms   (runs the C compiler)")
    print(f"  backend c, cached   {cached * 1e3:8.2f} ms   (loads the cached library)")
    path = ("a CPython extension" if cbuild.python_headers()
            else "ctypes (Python.h not found: the fallback)")
    print(f"\nscalar calls of backend c go through {path}; the figures vary with the "
          "machine, the ratios less so.")


if __name__ == "__main__":
    main()
