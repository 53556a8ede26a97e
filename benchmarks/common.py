"""What the benchmarks share: the same BLAS and thread settings for every system, and
rounds in which the systems take turns.

Run a benchmark from the project root (``python benchmarks/bench_x.py``): this file
sits beside it, on its path.
"""

import os
import time


def unset_blas_tuning():
    """Unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, which this machine's environment sets
    and which slow NumPy's matrix products: before NumPy loads, for every system alike."""
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        os.environ.pop(name, None)


def one_thread():
    """``unset_blas_tuning``, and OpenBLAS, OpenMP and XLA on one thread each: comparisons
    per core.  Call it before NumPy or JAX is imported."""
    unset_blas_tuning()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("XLA_FLAGS",
                          "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")


def interleaved(steps, repeat, number, warm=True):
    """{name: seconds per call in each of ``repeat`` rounds}; in every round each step runs
    ``number`` times in turn (after one call to warm it, if ``warm``), so a burst of load
    on this shared machine falls on every system alike."""
    rounds = {name: [] for name in steps}
    for _ in range(repeat):
        for name, step in steps.items():
            if warm:
                step()
            started = time.perf_counter()
            for _ in range(number):
                step()
            rounds[name].append((time.perf_counter() - started) / number)
    return rounds
