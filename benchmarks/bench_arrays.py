"""One training step of a 784-128-10 MLP with cross-entropy, written as an array program.

Batch of 256 synthetic samples, float64.  Four systems in one run, each timing
the loss and the gradient by every parameter (what a step needs):

- symgrad's generated NumPy (``symgrad.compile(MLP)``, the default backend);
- the same step written by hand in NumPy (the lecture's ``dlogits``, ``dW2 = h.T @ dlogits``);
- symgrad's JAX backend (its own backward code, under ``jax.jit``);
- ``jax.jit(jax.value_and_grad(loss))`` of the same loss written in ``jax.numpy``.

Losses and gradients are checked to agree (1e-10) before timing.
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for every system alike, and
every system runs on one thread (OpenBLAS, OpenMP and XLA), so the comparison
is per core.

    python benchmarks/bench_arrays.py [--quick]
"""

from common import interleaved, one_thread

one_thread()

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import symgrad  # noqa: E402

MLP = """\
X: [n, 784]
W1: [784, 128]
b1: [128]
W2: [128, 10]
b2: [10]
Y: int[n]
h = relu(X @ W1 + b1)
logits = h @ W2 + b2
cross_entropy(logits, Y)
"""
PARAMS = ("W1", "b1", "W2", "b2")


def data(batch=256, seed=0):
    rng = np.random.default_rng(seed)
    return {"X": rng.normal(size=(batch, 784)), "W1": rng.normal(size=(784, 128)) * 0.05,
            "b1": np.zeros(128), "W2": rng.normal(size=(128, 10)) * 0.1, "b2": np.zeros(10),
            "Y": rng.integers(0, 10, size=batch)}


def by_hand(X, W1, b1, W2, b2, Y):
    """The step as a careful person writes it in NumPy."""
    n = X.shape[0]
    z1 = X @ W1 + b1
    h = np.maximum(z1, 0.0)
    logits = h @ W2 + b2
    top = logits.max(axis=1, keepdims=True)
    shifted = logits - top
    exp = np.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    logp = shifted - np.log(total)
    loss = -logp[np.arange(n), Y].mean()
    dlogits = exp / total
    dlogits[np.arange(n), Y] -= 1.0
    dlogits /= n
    dW2 = h.T @ dlogits
    db2 = dlogits.sum(axis=0)
    dz1 = (dlogits @ W2.T) * (z1 > 0)
    dW1 = X.T @ dz1
    db1 = dz1.sum(axis=0)
    return loss, (dW1, db1, dW2, db2)


def jax_loss():
    import jax
    import jax.numpy as jnp

    def loss(W1, b1, W2, b2, X, Y):
        h = jnp.maximum(X @ W1 + b1, 0.0)
        logits = h @ W2 + b2
        logp = logits - jax.scipy.special.logsumexp(logits, axis=1, keepdims=True)
        return -jnp.mean(logp[jnp.arange(X.shape[0]), Y])

    return jax.jit(jax.value_and_grad(loss, argnums=(0, 1, 2, 3)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    args = parser.parse_args()
    repeat, number = (5, 10) if args.quick else (21, 20)
    d = data()
    ordered = [d[k] for k in ("X", *PARAMS, "Y")]

    started = time.perf_counter()
    f = symgrad.compile(MLP, wrt=list(PARAMS))
    compile_ms = (time.perf_counter() - started) * 1e3
    value, grads = f.value_and_grad(**d)
    hand_value, hand_grads = by_hand(*ordered)
    assert abs(value - hand_value) < 1e-10
    for name, g in zip(PARAMS, hand_grads):
        assert np.allclose(grads[name], g, rtol=1e-10, atol=1e-12), name
    generated = f._generated  # the generated function itself, without the call-time checks
    steps = {"symgrad NumPy (generated)": lambda: generated(*ordered),
             "symgrad NumPy, checked call": lambda: f.value_and_grad(**d),
             "hand-written NumPy": lambda: by_hand(*ordered)}
    try:
        import jax
    except ImportError:
        jax = None
    if jax is not None:
        jax.config.update("jax_enable_x64", True)
        fj = symgrad.compile(MLP, wrt=list(PARAMS), backend="jax")
        run = fj._run  # jax.jit of the generated function
        jd = [jax.numpy.asarray(a) for a in ordered]
        oracle = jax_loss()
        jv, jg = oracle(*jd[1:5], jd[0], jd[5])
        sv, sg = run(*jd)
        assert abs(float(jv) - float(sv)) < 1e-10
        for a, b in zip(jg, sg):
            assert np.allclose(np.asarray(a), np.asarray(b), rtol=1e-10, atol=1e-12)

        def ours():
            jax.block_until_ready(run(*jd))

        def theirs():
            jax.block_until_ready(oracle(*jd[1:5], jd[0], jd[5]))

        steps["symgrad JAX backend, jax.jit"] = ours
        steps["jax.jit(jax.value_and_grad)"] = theirs
    times = {name: (statistics.median(rounds), min(rounds))
             for name, rounds in interleaved(steps, repeat, number).items()}
    print("784-128-10 MLP, cross-entropy, batch 256, float64, one thread; "
          "OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for every system")
    print(f"symgrad compile (parse, differentiate, print, load): {compile_ms:.1f} ms\n")
    print(f"  {'':32s} {'median':>9s}    {'best':>9s}")
    for name, (median, best) in times.items():
        print(f"  {name:32s} {median * 1e6:9.1f} µs {best * 1e6:9.1f} µs")
    best = {name: pair[1] for name, pair in times.items()}
    times = {name: pair[0] for name, pair in times.items()}
    pairs = [("generated / hand-written NumPy", "symgrad NumPy (generated)",
              "hand-written NumPy"),
             ("checked call / hand-written NumPy", "symgrad NumPy, checked call",
              "hand-written NumPy")]
    if jax is not None:
        pairs.append(("symgrad JAX / jax.jit(jax.value_and_grad)",
                      "symgrad JAX backend, jax.jit", "jax.jit(jax.value_and_grad)"))
    print(f"\n  ratios (median, best):")
    for label, ours, theirs in pairs:
        print(f"  {label:44s} {times[ours] / times[theirs]:.2f}x  "
              f"{best[ours] / best[theirs]:.2f}x")


if __name__ == "__main__":
    main()
