"""Compiled losses on the NumPy, C and JAX backends, one training step, side by side in one run.

A step is the loss mean(relu(1 - y*score)) + 1e-4*sum(p**2) of micrograd's
``MLP(2, [16, 16, 1])``, its gradient and the SGD update, on the two moons:
100 samples (micrograd's demo) and 10^5 samples (a large batch).  NumPy: the
compiled loss, then ``params -= rate * grad``; JAX: the same step under one
``jax.jit`` (the gradient is still symgrad's own backward code).  The C backend
joins when it prints losses.  Every backend starts from the same weights; losses
and gradients are checked to agree (1e-12, float64) before timing.

OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset, and every system runs on one
thread (OpenBLAS, OpenMP and XLA alike), so the comparison is per core.

    pip install -e '.[jax]' && python benchmarks/bench_jax.py [--quick]
"""

from common import one_thread

one_thread()

import argparse  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import jax  # noqa: E402
import numpy as np  # noqa: E402

from bench_training import _format  # noqa: E402  (the same figures as the training table)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
from moons import make_moons  # noqa: E402

from symgrad import backends, nn  # noqa: E402
from symgrad.losses import compile_loss  # noqa: E402

jax.config.update("jax_enable_x64", True)
SIZES = [16, 16, 1]
L2, RATE = 1e-4, 0.1
WORKLOADS = (("moons, 100 samples", 100, 200), ("large batch, 10^5 samples", 100_000, 3))


def svm(score, target):
    return (1 + -target * score).relu()


def median_time(step, repeat, number):
    """Median seconds per call of ``step`` over ``repeat`` rounds of ``number`` calls."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(number):
            step()
        times.append((time.perf_counter() - started) / number)
    return statistics.median(times)


def array_step(loss, params, X, y):
    """NumPy (or C): the compiled loss, then the update in place."""
    def step():
        _, grad = loss(params, X, y)
        params[:] -= RATE * grad
    return step


def jax_step(loss, params, X, y):
    """JAX: loss, gradient and update in one jit-compiled function."""
    @jax.jit
    def train(P, X, y):
        value, grad = loss(P, X, y)
        return P - RATE * grad, value

    state = [jax.numpy.asarray(params)]
    X, y = jax.numpy.asarray(X), jax.numpy.asarray(y)
    train(state[0], X, y)[0].block_until_ready()  # compile before timing

    def step():
        state[0], _ = train(state[0], X, y)
        state[0].block_until_ready()
    return step


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args(argv)
    repeat = 3 if args.quick else 7
    names = ["numpy", "c", "jax"]
    if "loss" not in backends.get("c").kinds:
        names.remove("c")
        print("the C backend prints no compiled loss yet: left out")
    losses, compile_seconds = {}, {}
    jax.numpy.zeros(1).block_until_ready()  # JAX starts up here, not inside a compile time
    for name in names:
        random.seed(1337)
        started = time.perf_counter()
        losses[name] = compile_loss(nn.MLP(2, SIZES), svm, n_inputs=2, l2=L2, backend=name)
        compile_seconds[name] = time.perf_counter() - started
    P0 = losses["numpy"].parameters()
    rows = []
    for label, samples, number in WORKLOADS:
        X, y = make_moons(samples)
        expected_value, expected_grad = losses["numpy"](P0, X, y)
        times = {}
        for name, loss in losses.items():
            value, grad = loss(P0.copy(), X, y)
            # Sums over the batch run in another order on each backend (C: one by one,
            # NumPy: pairwise), so their rounding grows with the batch: about n*eps.
            rtol = max(1e-12, samples * 1e-15)
            if not (abs(float(value) - expected_value) <= rtol * abs(expected_value)
                    and np.allclose(grad, expected_grad, rtol=rtol, atol=1e-14)):
                raise SystemExit(f"{name} disagrees with numpy on {label}: not timing it")
            make = jax_step if name == "jax" else array_step
            times[name] = median_time(make(loss, P0.copy(), X, y), repeat, number)
        rows.append((label, times))
    print(f"agreement with the NumPy backend (1e-12, or n*1e-15 over n samples): ok for "
          f"{', '.join(names)}")
    print(f"\none training step of MLP(2, {SIZES}), loss + gradient + SGD update (median):")
    header = "  ".join(f"{name:>10s}" for name in names)
    ratios = "  ".join(f"{'numpy/' + name:>11s}" for name in names[1:])
    print(f"  {'workload':28s} {header}  {ratios}")
    for label, times in rows:
        cells = "  ".join(f"{_format(times[name]):>10s}" for name in names)
        ratio = "  ".join(f"{times['numpy'] / times[name]:>10.1f}x" for name in names[1:])
        print(f"  {label:28s} {cells}  {ratio}")
    print("  (ratios above 1: faster than the NumPy backend)")
    print("compile time (symgrad's code generation; JAX compiles again at the first call): "
          + ", ".join(f"{name} {seconds * 1e3:.0f} ms" for name, seconds in
                      compile_seconds.items()))


if __name__ == "__main__":
    main()
