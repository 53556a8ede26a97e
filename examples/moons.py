"""micrograd's two-moons demo, trained through symgrad's compiled loss.

The model is micrograd's ``MLP(2, [16, 16, 1])`` (337 parameters); the loss is
the mean of ``relu(1 - y*score)`` plus ``1e-4 * sum(p**2)``; 100 steps of SGD
with learning rate ``1.0 - 0.9*k/100``.  The per-sample loss is compiled once;
each step is one call of generated NumPy over the 100 samples.

    python examples/moons.py [--steps 100] [--plot moons.png]

tqdm (progress bar) and matplotlib (decision-boundary plot) are optional:
``pip install 'symgrad[examples]'``.
"""

import argparse
import random
import sys
import time

import numpy as np

from symgrad.losses import compile_loss
from symgrad.nn import MLP


def make_moons(n_samples=100, noise=0.1, seed=1):
    """Two interleaving half circles, labels -1 and 1, as in scikit-learn's make_moons."""
    rng = np.random.default_rng(seed)
    n_outer = n_samples // 2
    outer = np.linspace(0, np.pi, n_outer)
    inner = np.linspace(0, np.pi, n_samples - n_outer)
    X = np.concatenate([np.c_[np.cos(outer), np.sin(outer)],
                        np.c_[1 - np.cos(inner), 0.5 - np.sin(inner)]])
    y = np.concatenate([-np.ones(n_outer), np.ones(n_samples - n_outer)])
    return X + rng.normal(scale=noise, size=X.shape), y


def hinge(score, target):
    """micrograd's per-sample "max-margin" loss."""
    return (1 + -target * score).relu()


def progress(steps):
    """A tqdm progress bar when tqdm is installed and stderr is a terminal, else plain steps."""
    if not sys.stderr.isatty():  # a log file or a pipe gets the plain lines, not a bar
        return range(steps), None
    try:
        from tqdm import trange
    except ImportError:
        print("(tqdm is not installed: no progress bar; pip install tqdm)")
        return range(steps), None
    bar = trange(steps, desc="training")
    return bar, bar


def train(steps, seed=1337):
    """Train micrograd's model on the moons; returns (model, loss, params, X, y, accuracy)."""
    random.seed(seed)
    X, y = make_moons()
    model = MLP(2, [16, 16, 1])
    started = time.perf_counter()
    loss = compile_loss(model, hinge, n_inputs=2, l2=1e-4)
    compiled_in = time.perf_counter() - started
    sizes = loss.size()
    print(f"compiled the loss of {len(model.parameters())} parameters in {compiled_in:.3f} s: "
          f"{sizes['forward']} forward and {sizes['backward']} backward lines")
    params = loss.parameters()
    steps_range, bar = progress(steps)
    started = time.perf_counter()
    for k in steps_range:
        value, grad = loss(params, X, y)
        accuracy = np.mean((loss.predict(params, X) > 0) == (y > 0))
        params -= (1.0 - 0.9 * k / 100) * grad
        if bar is not None:
            bar.set_postfix(loss=f"{value:.4f}", accuracy=f"{accuracy:.0%}")
        elif k % 10 == 0 or k == steps - 1:
            print(f"step {k}: loss {value:.4f}, accuracy {accuracy:.0%}")
    elapsed = time.perf_counter() - started
    loss.load(params)
    accuracy = np.mean((loss.predict(params, X) > 0) == (y > 0))
    print(f"{steps} steps in {elapsed:.3f} s; final loss {loss(params, X, y)[0]:.4f}, "
          f"training accuracy {accuracy:.0%}")
    return model, loss, params, X, y, accuracy


def plot(loss, params, X, y, path):
    """The decision boundary as a PNG, when matplotlib is installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(matplotlib is not installed: no plot; pip install matplotlib)")
        return
    xx, yy = np.meshgrid(np.arange(-2, 3, 0.05), np.arange(-1.5, 2, 0.05))
    grid = np.c_[xx.ravel(), yy.ravel()]
    scores = loss.predict(params, grid).reshape(xx.shape)
    plt.contourf(xx, yy, scores > 0, cmap=plt.cm.Spectral, alpha=0.8)
    plt.scatter(X[:, 0], X[:, 1], c=y, s=20, cmap=plt.cm.Spectral)
    plt.savefig(path)
    print(f"decision boundary written to {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100, help="SGD steps (default 100)")
    parser.add_argument("--plot", default="moons.png", help="PNG to write ('' for none)")
    args = parser.parse_args(argv)
    _, loss, params, X, y, _ = train(args.steps)
    if args.plot:
        plot(loss, params, X, y, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
