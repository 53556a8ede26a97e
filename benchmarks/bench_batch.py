"""``f.batch(strict=True)`` locating its failing element: array search against a scalar loop.

20,000 points of a 300-layer program (``h = tanh(h*w + b)``, then ``log(h)``) where
points 19,000 and 19,500 fail.  ``strict`` is the whole call (a failing pass, a
pass under NumPy's ``ignore``, the search, one scalar evaluation for the message);
``loop`` is how it was located before: ``Program.evaluate`` point by point until
one fails (timed over the first ``SAMPLE`` points, scaled to the 19,001 it needs).  ``plain`` is one non-strict batch, the unit of cost.  Medians of a few
runs, all in this run, on each backend.

    python benchmarks/bench_batch.py
"""

import statistics
import time

import numpy as np

import symgrad

TEXT = "\n".join(["h = x"] + ["h = tanh(h*w + b)"] * 300 + ["log(h)"])
POINTS, FAILING = 20_000, (19_000, 19_500)
SAMPLE = 200


def median_seconds(function, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    b = np.full(POINTS, 0.5)
    b[list(FAILING)] = -3.0
    inputs = {"x": 1.0, "w": 1.0, "b": b}
    for backend in ("python", "c"):
        f = symgrad.compile(TEXT, backend=backend)
        f.batch(**inputs)  # compiles the batch function

        def strict():
            try:
                f.batch(strict=True, **inputs)
            except symgrad.EvaluationError as error:
                assert str(error).endswith(f"(batch index ({FAILING[0]},))")

        def loop():
            for i in range(SAMPLE):
                f.program.evaluate({"x": 1.0, "w": 1.0, "b": float(b[i])})

        plain = median_seconds(lambda: f.batch(**inputs), 5)
        fast = median_seconds(strict, 5)
        slow = median_seconds(loop, 3) * (FAILING[0] + 1) / SAMPLE
        print(f"{backend:>6}: plain batch {plain:7.3f} s   strict (locating) {fast:7.3f} s"
              f" = {fast / plain:4.1f} batches   scalar loop ~{slow:6.1f} s"
              f" = {slow / fast:5.0f}x the strict call")


if __name__ == "__main__":
    import argparse

    # No options: --help prints what the benchmark measures instead of running it.
    argparse.ArgumentParser(description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    main()
