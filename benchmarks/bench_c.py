"""The C backend against the Python backend, measured side by side in one run.

1. The lecture's neuron: ``f.value_and_grad(**inputs)`` with backend python and c,
   and the raw calls under it: the generated Python function, the C backend's
   ``ctypes`` wrapper, and the bare ``ctypes`` call of the same C on ready buffers.
2. Compile time of the C backend, text to the first value: cold (a fresh cache
   directory) and cached.

Batches on the C backend run the NumPy backend's code (see docs/architecture.md),
so they are not measured here.  OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for
every system alike.  Results are checked to agree before timing.

    python benchmarks/bench_c.py
"""

import os

from common import unset_blas_tuning

unset_blas_tuning()

import array  # noqa: E402
import ctypes  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import timeit  # noqa: E402

import symgrad  # noqa: E402
from symgrad.backends import cbuild  # noqa: E402

NEURON = "tanh(x1*w1 + x2*w2 + b)"
NEURON_POINT = {"x1": 2.0, "w1": -3.0, "x2": 0.0, "w2": 1.0, "b": 6.8813735870195432}


def median_time(function, number, repeat=7):
    """Median seconds per call over ``repeat`` runs of ``number`` calls."""
    return statistics.median(timeit.repeat(function, number=number, repeat=repeat)) / number


def neuron():
    python = symgrad.compile(NEURON)
    c = symgrad.compile(NEURON, backend="c")
    assert python.value_and_grad(**NEURON_POINT) == c.value_and_grad(**NEURON_POINT)
    point = NEURON_POINT
    raw, raw_python = c._load("value_and_grad"), python._load("value_and_grad")
    assert raw(**point) == raw_python(**point)
    times = {
        "python": lambda: python.value_and_grad(**point),
        "c": lambda: c.value_and_grad(**point),
        "raw python": lambda: raw_python(**point),
        "raw c": lambda: raw(**point),
    }
    # The bare ctypes call of the same C: buffers prepared once.
    library = ctypes.PyDLL(cbuild.build(c.source))
    function = library.value_and_grad
    function.restype, function.argtypes = ctypes.c_int, (ctypes.c_void_p, ctypes.c_void_p)
    buffer = array.array("d", list(point.values()) + [0.0] * 6)
    address = buffer.buffer_info()[0]
    out = address + 8 * len(point)
    times["raw ctypes"] = lambda: function(address, out)
    # Interleaved rounds, so that a change of load on the machine hits every system alike.
    rounds = {name: [] for name in times}
    for _ in range(7):
        for name, call in times.items():
            rounds[name].append(min(timeit.repeat(call, number=20_000, repeat=3)) / 20_000)
    return {name: statistics.median(seconds) for name, seconds in rounds.items()}


def compile_times():
    """Seconds from text to the first value of the neuron with backend c: a cold cache,
    then a warm one; and with backend python."""
    cold, cached = [], []
    saved = os.environ.get("XDG_CACHE_HOME")
    try:
        for _ in range(5):
            with tempfile.TemporaryDirectory() as directory:
                os.environ["XDG_CACHE_HOME"] = directory
                start = time.perf_counter()
                symgrad.compile(NEURON, backend="c").value_and_grad(**NEURON_POINT)
                cold.append(time.perf_counter() - start)
                start = time.perf_counter()
                symgrad.compile(NEURON, backend="c").value_and_grad(**NEURON_POINT)
                cached.append(time.perf_counter() - start)
    finally:
        if saved is None:
            os.environ.pop("XDG_CACHE_HOME", None)
        else:
            os.environ["XDG_CACHE_HOME"] = saved
    python = median_time(lambda: symgrad.compile(NEURON).value_and_grad(**NEURON_POINT), 20)
    return statistics.median(cold), statistics.median(cached), python


def main():
    print(f"symgrad's C backend ({' '.join(cbuild.compiler())}: "
          f"{cbuild.version(tuple(cbuild.compiler())).splitlines()[0]}; flags "
          f"{' '.join(cbuild.FLAGS)})")
    t = neuron()
    print(f"\nthe lecture's neuron {NEURON}, median of 7 interleaved rounds,\n"
          "  each the best of 3 runs of 20,000 calls:")
    print(f"  value_and_grad(**inputs), backend python  {t['python'] * 1e6:6.3f} µs")
    print(f"  value_and_grad(**inputs), backend c       {t['c'] * 1e6:6.3f} µs   "
          f"({t['c'] / t['python']:.2f}x python's time)")
    print(f"  raw generated Python function, keywords   {t['raw python'] * 1e6:6.3f} µs")
    print(f"  raw C through its ctypes wrapper          {t['raw c'] * 1e6:6.3f} µs")
    print(f"  bare ctypes call, buffers ready           {t['raw ctypes'] * 1e6:6.3f} µs")
    cold, cached, python = compile_times()
    print(f"\ntext -> first value_and_grad of {NEURON}, median:")
    print(f"  backend python      {python * 1e3:8.2f} ms")
    print(f"  backend c, cold     {cold * 1e3:8.2f} ms   (runs the C compiler)")
    print(f"  backend c, cached   {cached * 1e3:8.2f} ms   (loads the cached library)")
    print("\nThe figures vary with the machine, the ratios less so.")


if __name__ == "__main__":
    import argparse

    # No options: --help prints what the benchmark measures instead of running it.
    argparse.ArgumentParser(description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    main()
