"""Compiled losses on the C backend: one training step against NumPy and JAX, in one run.

A step is loss + gradient + SGD update.  Models:
  moons       micrograd's MLP(2, [16, 16, 1]), SVM loss + 1e-4 L2, the 100 moons samples
  wide        MLP(2, [64, 64, 1]), the same loss, 256 synthetic samples
  classifier  MLP(64, [128, 10]), softmax cross-entropy over 10 classes, 256 synthetic samples
Systems: hand-written NumPy, symgrad's NumPy backend, symgrad's C backend (the
loss call then the update in NumPy, as ``loss.step`` does), the C backend built
without ``-march=native`` (portable: SSE2 on x86-64), and JAX's whole step in one
``jit`` where JAX is installed.  Every system starts from the same weights and
data; losses and gradients are checked to agree before timing, and the systems'
timing rounds are interleaved.  Compile time of the C backend, cold (fresh cache)
and cached, is in the same table.  OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are
unset for every system alike (this machine's environment sets them; they slow
NumPy's matrix products), and every library runs on one thread.

    python benchmarks/bench_c_loss.py [--quick]
"""

import os

from common import interleaved, one_thread

one_thread()

import argparse  # noqa: E402
import contextlib  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
from bench_training import numpy_loss_and_grad, numpy_mlp, unpack  # noqa: E402
from moons import make_moons  # noqa: E402

from symgrad import nn  # noqa: E402
from symgrad.backends import cbuild  # noqa: E402
from symgrad.losses import compile_loss, cross_entropy  # noqa: E402

L2, RATE = 1e-4, 0.1


def svm(score, y):
    return (1 + -y * score).relu()


def jax_step(nin, sizes, kind, X, Y):
    """JAX: value_and_grad and the SGD update in one jit."""
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    Xj, Yj = jnp.asarray(X), jnp.asarray(Y)

    def loss(P):
        h = Xj
        layers = unpack(P, nin, sizes)
        for i, (W, b) in enumerate(layers):
            h = h @ W.T + b
            if i < len(layers) - 1:
                h = jax.nn.relu(h)
        if kind == "svm":
            return jax.nn.relu(1 - Yj * h[:, 0]).mean() + L2 * (P * P).sum()
        return -(jax.nn.log_softmax(h) * Yj).sum(axis=1).mean()

    @jax.jit
    def step(P):
        value, grad = jax.value_and_grad(loss)(P)
        return P - RATE * grad, value, grad
    return step


def problem(name):
    """(nin, sizes, kind, X, Y, loss function, compile options)."""
    rng = np.random.default_rng(0)
    if name == "moons":
        X, Y = make_moons()
        return 2, [16, 16, 1], "svm", X, Y, svm, {"l2": L2}
    if name == "wide":
        X = rng.normal(size=(256, 2))
        Y = np.where(X[:, 0] * X[:, 1] > 0, 1.0, -1.0)
        return 2, [64, 64, 1], "svm", X, Y, svm, {"l2": L2}
    X = rng.normal(size=(256, 64))
    Y = np.eye(10)[rng.integers(0, 10, size=256)]
    return 64, [128, 10], "ce", X, Y, cross_entropy, {"targets": 10}


def compile_c(model, loss, nin, options):
    """Seconds to compile with the C backend in a fresh cache, then with that cache warm."""
    saved = os.environ.get("XDG_CACHE_HOME")
    try:
        with tempfile.TemporaryDirectory() as directory:
            os.environ["XDG_CACHE_HOME"] = directory
            started = time.perf_counter()
            compile_loss(model, loss, nin, backend="c", **options)
            cold = time.perf_counter() - started
            started = time.perf_counter()
            compiled = compile_loss(model, loss, nin, backend="c", **options)
            cached = time.perf_counter() - started
    finally:
        if saved is None:
            os.environ.pop("XDG_CACHE_HOME", None)
        else:
            os.environ["XDG_CACHE_HOME"] = saved
    return compiled, cold, cached


@contextlib.contextmanager
def portable():
    """Compiled losses built without -march=native, as where the compiler refuses it."""
    saved = cbuild.native_target
    cbuild.native_target = lambda command: None
    try:
        yield
    finally:
        cbuild.native_target = saved


def run(name, repeat, number):
    nin, sizes, kind, X, Y, loss, options = problem(name)
    random.seed(1337)
    model = nn.MLP(nin, sizes)
    P0 = np.array([p.data for p in model.parameters()])
    hand = numpy_loss_and_grad if name == "moons" else numpy_mlp(nin, sizes, kind)
    expected = hand(P0, X, Y)
    started = time.perf_counter()
    numpy_backend = compile_loss(model, loss, nin, **options)
    numpy_compile = time.perf_counter() - started
    c_backend, cold, cached = compile_c(model, loss, nin, options)
    with portable():
        c_portable = compile_loss(model, loss, nin, backend="c", **options)
    systems = {"hand-written NumPy": hand, "symgrad NumPy backend": numpy_backend,
               "symgrad C backend": c_backend, "C backend, portable build": c_portable}
    steps = {}
    for label, function in systems.items():
        value, grad = function(P0, X, Y)
        if abs(value - expected[0]) > 1e-10 * abs(expected[0]) or not np.allclose(
                grad, expected[1], rtol=1e-9, atol=1e-12):
            raise SystemExit(f"{label} disagrees with hand-written NumPy on {name}")
        P = P0.copy()

        def step(function=function, P=P):
            _, grad = function(P, X, Y)
            P -= RATE * grad
        steps[label] = step
    try:
        jstep = jax_step(nin, sizes, kind, X, Y)
        _, value, grad = jstep(P0)
        if not np.allclose(np.asarray(grad), expected[1], rtol=1e-9, atol=1e-12):
            raise SystemExit(f"JAX disagrees with hand-written NumPy on {name}")
        state = [P0.copy()]

        def jax_timed():
            state[0], _, _ = jstep(state[0])
            state[0].block_until_ready()
        steps["JAX (whole step in one jit)"] = jax_timed
    except ImportError:
        pass
    times = {label: statistics.median(rounds)
             for label, rounds in interleaved(steps, repeat, number, warm=False).items()}
    return times, {"numpy": numpy_compile, "c cold": cold, "c cached": cached}, len(P0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args(argv)
    repeat = 3 if args.quick else 7
    command = cbuild.compiler()
    native = cbuild.native_target(tuple(command))
    march = next((word for word in (native or "").split() if word.startswith("-march=")), None)
    print(f"C compiler: {' '.join(command)} ({cbuild.version(tuple(command)).splitlines()[0]}); "
          f"flags {' '.join(cbuild.FLAGS)}"
          + (f" {' '.join(cbuild.NATIVE_FLAGS)} (here {march or native})" if native else
             " (-march=native refused: every C build is portable)"))
    print("OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for every system; one thread each.\n")
    descriptions = {"moons": "MLP(2, [16, 16, 1]), SVM loss, 100 moons samples",
                    "wide": "MLP(2, [64, 64, 1]), SVM loss, 256 samples",
                    "classifier": "MLP(64, [128, 10]), softmax cross-entropy, 256 samples"}
    for name, number in (("moons", 200), ("wide", 50), ("classifier", 20)):
        times, compiles, n_params = run(name, repeat, number)
        hand = times["hand-written NumPy"]
        print(f"{descriptions[name]} ({n_params} parameters): one step (median)")
        for label, seconds in sorted(times.items(), key=lambda item: item[1]):
            print(f"  {label:30s} {seconds * 1e6:9.1f} µs   {seconds / hand:5.2f}x "
                  "hand-written NumPy's time")
        print(f"  compile: NumPy backend {compiles['numpy'] * 1e3:.0f} ms, C backend cold "
              f"{compiles['c cold'] * 1e3:.0f} ms, cached {compiles['c cached'] * 1e3:.0f} ms\n")
    print("Figures vary with the machine (and its load); ratios from one run, less so.")


if __name__ == "__main__":
    main()
