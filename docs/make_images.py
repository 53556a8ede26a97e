"""Regenerate the pictures in docs/images/ with symgrad's own code.

Run from the repository root: python docs/make_images.py

- neuron.svg: the lecture's neuron after ``value_and_grad``, drawn by ``symgrad.draw``
  (needs Graphviz's ``dot`` program and the ``graphviz`` package: ``symgrad[viz]``).
- moons.png: the decision boundary of the MLP that ``examples/moons.py`` trains,
  plotted by that example's own ``plot`` (needs matplotlib).
"""

import importlib.util
import sys
from pathlib import Path

import symgrad
from symgrad.views import draw as viz

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
    """Train examples/moons.py's model and let it plot its decision boundary into ``path``."""
    moons = load_example("moons")
    _, loss, params, X, y, accuracy = moons.train(100)
    moons.plot(loss, params, X, y, str(path))
    return accuracy


def load_example(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    IMAGES.mkdir(parents=True, exist_ok=True)
    (IMAGES / "neuron.svg").write_bytes(neuron_svg())
    print(f"wrote {IMAGES / 'neuron.svg'}")
    accuracy = moons_png(IMAGES / "moons.png")
    print(f"wrote {IMAGES / 'moons.png'} (training accuracy {accuracy:.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
