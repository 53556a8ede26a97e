"""One training step of micrograd's moons demo, timed side by side on every system.

A step is: forward over the 100 samples, backward, SGD update, for micrograd's
``MLP(2, [16, 16, 1])`` with loss mean(relu(1 - y*score)) + 1e-4*sum(p**2).
Every system starts from the same weights and data; their losses and gradients
are checked to agree before anything is timed.  Peers are optional:

    pip install -e '.[bench]'        # micrograd, jax, numpy
    pip install -e '.[torch]'        # torch==2.13.0
    python benchmarks/bench_training.py [--quick] [--classifier]

Then the compiled loss of MLP(784, [128, 10]) with cross-entropy (256 samples):
its compile time on the numpy and jax backends and one SGD step against
hand-written NumPy and ``jax.jit(jax.value_and_grad)``, interleaved in one run.
"""

import argparse
import gc
import random
import statistics
import sys
import time
from pathlib import Path

from common import interleaved, one_thread

one_thread()  # before anything loads NumPy, for every system

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from moons import make_moons  # noqa: E402

from symgrad import engine, nn  # noqa: E402
from symgrad.losses import compile_loss  # noqa: E402

SIZES = [16, 16, 1]
L2, RATE = 1e-4, 0.1


def median_time(step, repeat, number=1, gc_off=False):
    """Median seconds per call of ``step`` over ``repeat`` rounds of ``number`` calls."""
    times = []
    for _ in range(repeat):
        if gc_off:
            gc.disable()
        try:
            started = time.perf_counter()
            for _ in range(number):
                step()
            times.append((time.perf_counter() - started) / number)
        finally:
            gc.enable()
    return statistics.median(times)


def value_engine_step(Value, model, X, y):
    """micrograd's own training step, for micrograd or symgrad's Value engine."""
    def step(update=True):
        inputs = [list(map(Value, row)) for row in X.tolist()]
        scores = list(map(model, inputs))
        losses = [(1 + -t * s).relu() for t, s in zip(y.tolist(), scores)]
        total = sum(losses) * (1.0 / len(losses)) + L2 * sum(p * p for p in model.parameters())
        model.zero_grad()
        total.backward()
        grad = np.array([p.grad for p in model.parameters()])
        if update:
            for p in model.parameters():
                p.data -= RATE * p.grad
        return total.data, grad
    return step


def unpack(P, nin, sizes):
    """(W, b) per layer from micrograd's flat order (per neuron: weights, then bias)."""
    layers, start = [], 0
    for fan_in, fan_out in zip([nin] + sizes, sizes):
        block = P[start:start + fan_out * (fan_in + 1)].reshape(fan_out, fan_in + 1)
        layers.append((block[:, :fan_in], block[:, fan_in]))
        start += fan_out * (fan_in + 1)
    return layers


def numpy_mlp(nin, sizes, kind):
    """Hand-written NumPy loss and gradient of a relu MLP (last layer linear)."""
    def loss_and_grad(P, X, Y):
        layers = unpack(P, nin, sizes)
        acts, pre = [X.T], []
        for i, (W, b) in enumerate(layers):
            z = W @ acts[-1] + b[:, None]
            pre.append(z)
            acts.append(np.maximum(z, 0) if i < len(layers) - 1 else z)
        n = X.shape[0]
        if kind == "svm":
            margin = 1 - Y * acts[-1][0]
            value = np.maximum(margin, 0).mean()
            g = ((margin > 0) * (-Y / n))[None, :]
        else:  # softmax cross-entropy, Y one-hot (n, classes)
            s = acts[-1]
            shifted = s - s.max(axis=0)
            log_sum = np.log(np.exp(shifted).sum(axis=0))
            value = np.mean(log_sum - (shifted * Y.T).sum(axis=0))
            g = (np.exp(shifted - log_sum) - Y.T) / n
        grads = []
        for i in reversed(range(len(layers))):
            W, _ = layers[i]
            if i < len(layers) - 1:
                g = g * (pre[i] > 0)
            grads.append(np.c_[g @ acts[i].T, g.sum(axis=1)].ravel())
            g = W.T @ g
        grad = np.concatenate(grads[::-1])
        return (value + L2 * (P @ P), grad + 2 * L2 * P) if kind == "svm" else (value, grad)
    return loss_and_grad


# The demo's loss: mean(relu(1 - y*score)) + L2*sum(p**2), written by hand.
numpy_loss_and_grad = numpy_mlp(2, SIZES, "svm")


def array_loss(P, X, y, relu):
    """The demo's loss on a flat parameter vector, in any NumPy-like array library."""
    start, h = 0, X
    for i, (nin, nout) in enumerate(zip([2] + SIZES, SIZES)):
        block = P[start:start + nout * (nin + 1)].reshape(nout, nin + 1)
        start += nout * (nin + 1)
        h = h @ block[:, :nin].T + block[:, nin]
        if i < len(SIZES) - 1:
            h = relu(h)
    return relu(1 - y * h[:, 0]).mean() + L2 * (P * P).sum()


def torch_system(P0, X, y):
    import torch

    torch.set_num_threads(1)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    params = torch.tensor(P0, requires_grad=True)

    def loss_fn(P):
        return array_loss(P, Xt, yt, torch.relu)

    def step(update=True):
        params.grad = None
        loss = loss_fn(params)
        loss.backward()
        if update:
            with torch.no_grad():
                params.sub_(RATE * params.grad)
        return loss.item(), params.grad.numpy().copy()
    return step, params


def jax_system(P0, X, y):
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    Xj, yj = jnp.asarray(X), jnp.asarray(y)

    def loss_fn(P):
        return array_loss(P, Xj, yj, jax.nn.relu)

    @jax.jit
    def train_step(P):
        value, grad = jax.value_and_grad(loss_fn)(P)
        return P - RATE * grad, value, grad

    return train_step, jnp.asarray(P0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--classifier", action="store_true",
                        help="only the MLP(784, [128, 10]) cross-entropy section")
    args = parser.parse_args(argv)
    if args.classifier:
        return classifier(args.quick)
    slow_repeat, fast_repeat = (1, 3) if args.quick else (3, 7)
    X, y = make_moons()

    random.seed(1337)
    model = nn.MLP(2, SIZES)
    P0 = np.array([p.data for p in model.parameters()])
    expected_value, expected_grad = numpy_loss_and_grad(P0, X, y)
    results, checks = {}, []

    def check(name, value, grad):
        ok = abs(value - expected_value) <= 1e-9 * abs(expected_value) and np.allclose(
            grad, expected_grad, rtol=1e-9, atol=1e-12)
        checks.append((name, ok, abs(value - expected_value), np.abs(grad - expected_grad).max()))
        if not ok:
            raise SystemExit(f"{name} disagrees with hand-written NumPy: not timing it")

    def fresh_model(module):
        random.seed(1337)
        return module.MLP(2, SIZES)

    # symgrad compiled loss
    started = time.perf_counter()
    model = fresh_model(nn)
    loss = compile_loss(model, lambda s, t: (1 + -t * s).relu(), n_inputs=2, l2=L2)
    compile_seconds = time.perf_counter() - started
    params = loss.parameters()
    check("symgrad compiled loss", *loss(params, X, y))

    def compiled_step():
        value, grad = loss(params, X, y)
        params[:] -= RATE * grad
    results["symgrad compiled loss"] = median_time(compiled_step, fast_repeat, 200)

    # hand-written NumPy
    P = P0.copy()
    check("hand-written NumPy", *numpy_loss_and_grad(P, X, y))

    def numpy_step():
        value, grad = numpy_loss_and_grad(P, X, y)
        P[:] -= RATE * grad
    results["hand-written NumPy"] = median_time(numpy_step, fast_repeat, 200)

    try:
        step, torch_params = torch_system(P0, X, y)
        check("PyTorch (1 thread)", *step(update=False))
        results["PyTorch (1 thread)"] = median_time(step, fast_repeat, 100)
    except ImportError:
        print("PyTorch is not installed: pip install torch==2.13.0")

    try:
        train_step, jax_params = jax_system(P0, X, y)
        _, value, grad = train_step(jax_params)
        check("JAX (whole step in one jit)", float(value), np.asarray(grad))
        state = [jax_params]

        def jax_step():
            state[0], _, _ = train_step(state[0])
            state[0].block_until_ready()
        results["JAX (whole step in one jit)"] = median_time(jax_step, fast_repeat, 200)
    except ImportError:
        print("JAX is not installed: pip install jax")

    for name, gc_off in (("symgrad Value engine", True), ("symgrad Value engine", False)):
        step = value_engine_step(engine.Value, fresh_model(nn), X, y)
        check(name, *step(update=False))
        label = f"{name}, gc {'off' if gc_off else 'on (default)'}"
        results[label] = median_time(step, slow_repeat, gc_off=gc_off)

    try:
        import micrograd.engine
        import micrograd.nn
        for gc_off in (True, False):
            step = value_engine_step(micrograd.engine.Value, fresh_model(micrograd.nn), X, y)
            check("micrograd", *step(update=False))
            label = f"micrograd, gc {'off' if gc_off else 'on (default)'}"
            results[label] = median_time(step, slow_repeat, gc_off=gc_off)
    except ImportError:
        print("micrograd is not installed: pip install micrograd")

    print("agreement with hand-written NumPy (loss, gradient), before timing:")
    for name, ok, dv, dg in checks:
        print(f"  {name:32s} {'ok' if ok else 'DIFFERENT'}  |dloss| {dv:.1e}  max|dgrad| {dg:.1e}")
    print(f"\none training step of MLP(2, {SIZES}) on 100 samples (median):")
    refs = [("micrograd", "micrograd, gc on (default)"), ("micrograd gc off", "micrograd, gc off"),
            ("NumPy", "hand-written NumPy")]
    refs = [(short, results[name]) for short, name in refs if name in results]
    print(f"  {'system':38s} {'per step':>10s}  " + "  ".join(f"{'vs ' + s:>18s}" for s, _ in refs))
    for name, seconds in sorted(results.items(), key=lambda item: item[1]):
        ratios = "  ".join(f"{ref / seconds:>17.1f}x" for _, ref in refs)
        print(f"  {name:38s} {_format(seconds):>10s}  {ratios}")
    print("  (ratios: how many times faster than the reference; below 1 means slower)")
    print(f"\ncompiling the 337-parameter loss took {compile_seconds * 1e3:.0f} ms")
    compile_growth()
    classifier(args.quick)


def compile_growth():
    print("compile time of the loss as the model grows:")
    for width in (16, 32, 64):
        random.seed(0)
        model = nn.MLP(2, [width, width, 1])
        started = time.perf_counter()
        loss = compile_loss(model, lambda s, t: (1 + -t * s).relu(), n_inputs=2)
        seconds = time.perf_counter() - started
        n = len(model.parameters())
        print(f"  MLP(2, [{width}, {width}, 1]): {n:5d} parameters, {seconds * 1e3:7.1f} ms, "
              f"{seconds / n * 1e6:6.1f} µs per parameter, {sum(loss.size().values())} lines")


def classifier(quick, nin=784, sizes=(128, 10), batch=256):
    """MLP(784, [128, 10]) + cross-entropy on 256 samples: compile time and one SGD step,
    symgrad's compiled loss (numpy and jax backends) against the same step by hand."""
    from symgrad.losses import cross_entropy

    sizes = list(sizes)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(batch, nin))
    T = np.eye(sizes[-1])[rng.integers(0, sizes[-1], size=batch)]
    random.seed(0)
    model = nn.MLP(nin, sizes)
    by_hand = numpy_mlp(nin, sizes, "ce")
    print(f"\nMLP({nin}, {sizes}), softmax cross-entropy, {batch} samples, float64, one thread")
    compiled, steps, rows = {}, {}, []
    systems = ["numpy"]
    try:
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)
        systems.append("jax")
    except ImportError:
        print("JAX is not installed: pip install jax")
    for backend in systems:  # jax is imported already: its import is not compile time
        started = time.perf_counter()
        compiled[backend] = compile_loss(model, cross_entropy, nin, backend=backend,
                                         targets=sizes[-1])
        rows.append((f"compile_loss, {backend} backend ({compiled[backend].route} route)",
                     time.perf_counter() - started))
    loss = compiled["numpy"]
    P = loss.parameters()
    value, grad = loss(P, X, T)
    hand_value, hand_grad = by_hand(P, X, T)
    assert abs(value - hand_value) <= 1e-12 * abs(hand_value), (value, hand_value)
    assert np.allclose(grad, hand_grad, rtol=1e-10, atol=1e-13)
    P1, P2 = P.copy(), P.copy()

    def symgrad_numpy():
        value, grad = loss(P1, X, T)
        P1[:] -= RATE * grad

    def hand_numpy():
        value, grad = by_hand(P2, X, T)
        P2[:] -= RATE * grad

    steps["symgrad compiled loss, numpy"] = symgrad_numpy
    steps["hand-written NumPy"] = hand_numpy
    if len(sizes) == 2:  # bench_arrays' step: W and b as arrays of their own, no flat P
        from bench_arrays import by_hand as separate

        (W1, b1), (W2, b2) = [(W.T.copy(), b.copy()) for W, b in unpack(P, nin, sizes)]
        labels = T.argmax(axis=1)
        assert abs(separate(X, W1, b1, W2, b2, labels)[0] - hand_value) < 1e-12

        def separate_numpy():
            value, grads = separate(X, W1, b1, W2, b2, labels)
            for array, g in zip((W1, b1, W2, b2), grads):
                array -= RATE * g

        steps["hand-written NumPy, separate W, b"] = separate_numpy
    if "jax" in compiled:
        Xj, Tj, jloss = jnp.asarray(X), jnp.asarray(T), compiled["jax"]

        def array_loss(P):
            h = Xj
            for i, (W, b) in enumerate(unpack(P, nin, sizes)):
                h = h @ W.T + b
                h = jax.nn.relu(h) if i < len(sizes) - 1 else h
            return -(jax.nn.log_softmax(h) * Tj).sum(axis=1).mean()

        @jax.jit
        def ours(P):
            value, grad = jloss(P, Xj, Tj)
            return P - RATE * grad, value, grad

        @jax.jit
        def theirs(P):
            value, grad = jax.value_and_grad(array_loss)(P)
            return P - RATE * grad, value, grad

        started = time.perf_counter()
        _, v1, g1 = jax.block_until_ready(ours(jnp.asarray(P)))
        rows.append(("first call of the jitted step, jax backend (XLA compiles)",
                     time.perf_counter() - started))
        _, v2, g2 = theirs(jnp.asarray(P))
        assert abs(float(v1) - hand_value) <= 1e-12 * abs(hand_value)
        assert np.allclose(np.asarray(g1), hand_grad, rtol=1e-10, atol=1e-13)
        assert np.allclose(np.asarray(g2), hand_grad, rtol=1e-10, atol=1e-13)
        state = {"ours": jnp.asarray(P), "theirs": jnp.asarray(P)}

        def timed(name, step):
            def run():
                state[name] = jax.block_until_ready(step(state[name])[0])
            return run

        steps["symgrad compiled loss, jax"] = timed("ours", ours)
        steps["jax.jit(jax.value_and_grad)"] = timed("theirs", theirs)
    for name, seconds in rows:
        print(f"  {name:58s} {seconds * 1e3:8.1f} ms")
    times = {name: statistics.median(rounds) for name, rounds
             in interleaved(steps, 5 if quick else 15, 5 if quick else 10).items()}
    print("  one SGD step (median of interleaved rounds; loss and gradient checked first):")
    for name, seconds in times.items():
        print(f"  {name:38s} {_format(seconds):>10s}")
    pairs = [("symgrad numpy / hand-written NumPy", "symgrad compiled loss, numpy",
              "hand-written NumPy"),
             ("symgrad numpy / hand-written, separate W, b", "symgrad compiled loss, numpy",
              "hand-written NumPy, separate W, b"),
             ("symgrad jax / jax.jit(jax.value_and_grad)", "symgrad compiled loss, jax",
              "jax.jit(jax.value_and_grad)")]
    for label, ours_name, theirs_name in pairs:
        if ours_name in times and theirs_name in times:
            print(f"  {label:44s} {times[ours_name] / times[theirs_name]:.2f}x")


def _format(seconds):
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} µs"


if __name__ == "__main__":
    main()
