"""Regenerate the pictures in docs/images/ with symgrad's own code.

Run from the repository root: python docs/make_images.py

- neuron.svg: the lecture's neuron after ``value_and_grad``, drawn by ``symgrad.draw``
  (needs Graphviz's ``dot`` program and the ``graphviz`` package: ``symgrad[viz]``).
- moons.png: the decision boundary of the MLP trained by ``examples/moons.py``
  (needs matplotlib).
"""

import importlib.util
import sys
from pathlib import Path

import symgrad
from symgrad import viz

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
NEURON = "n = x1*w1 + x2*w2 + b; o = tanh(n); o"
LECTURE_POINT = dict(x1=2.0, x2=0.0, w1=-3.0, w2=1.0, b=6.8813735870195432)


def neuron_svg():
    """The neuron's graph with every value's data and gradient at the lecture's point."""
    neuron = symgrad.compile(NEURON)
    neuron.value_and_grad(**LECTURE_POINT)
    return viz.render(symgrad.draw(neuron).source, "svg")


def moons_png(path):
    """Train examples/moons.py's model and plot its decision boundary into ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    moons = load_example("moons")
    model, X, y = moons.train()
    xx, yy, scores = moons.decision_grid(model, X)
    figure, axes = plt.subplots(figsize=(5, 4), dpi=100)
    axes.contourf(xx, yy, scores > 0, cmap=plt.cm.Spectral, alpha=0.8)
    axes.scatter(X[:, 0], X[:, 1], c=y, s=20, cmap=plt.cm.Spectral, edgecolors="k")
    axes.set_title("decision boundary of examples/moons.py's MLP")
    figure.tight_layout()
    figure.savefig(path, metadata={"Software": None})  # no version stamp: stable bytes
    plt.close(figure)


def load_example(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    IMAGES.mkdir(parents=True, exist_ok=True)
    (IMAGES / "neuron.svg").write_bytes(neuron_svg())
    print(f"wrote {IMAGES / 'neuron.svg'}")
    moons_png(IMAGES / "moons.png")
    print(f"wrote {IMAGES / 'moons.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
