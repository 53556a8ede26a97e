"""The core's speed: a compiled ``value_and_grad`` against micrograd's Value, and compile growth.

1. The lecture's neuron ``tanh(x1*w1 + x2*w2 + b)`` and a ~1,000-node DAG
   (``h = tanh(h*w_i + b_i)``, ten shared weights), one forward + backward each,
   with micrograd's Value, symgrad's Value engine and symgrad's compiled function.
   micrograd on PyPI has no tanh; the benchmark adds the lecture's (a closure,
   exactly as in the video).  Gradients are checked to agree before timing.
2. Compile time (parse -> code) per graph node for growing programs: linear
   growth shows as a flat per-node time.

    python benchmarks/bench_core.py
"""

import math
import statistics
import sys
import time
import timeit

import symgrad
from symgrad import engine

NEURON = "tanh(x1*w1 + x2*w2 + b)"
NEURON_POINT = {"x1": 2.0, "w1": -3.0, "x2": 0.0, "w2": 1.0, "b": 6.8813735870195432}


def dag_program(layers):
    lines = ["h = x"] + [f"h = tanh(h*w{i % 10} + b{i % 10})" for i in range(layers)]
    return "; ".join(lines + ["h"])


def dag_point():
    point = {"x": 0.5}
    for i in range(10):
        point[f"w{i}"] = 0.5 + 0.05 * i
        point[f"b{i}"] = 0.1 - 0.02 * i
    return point


def add_lecture_tanh(Value):
    """The lecture's tanh for micrograd's Value (its closure style, unchanged)."""
    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t**2) * out.grad
        out._backward = _backward
        return out
    Value.tanh = tanh


def run_values(Value, program_fn, point):
    """Forward + backward of the program with Values; returns {name: grad}."""
    leaves = {name: Value(x) for name, x in point.items()}
    out = program_fn(leaves)
    out.backward()
    return {name: v.grad for name, v in leaves.items()}


def neuron_fn(v):
    return (v["x1"] * v["w1"] + v["x2"] * v["w2"] + v["b"]).tanh()


def dag_fn(layers):
    def build(v):
        h = v["x"]
        for i in range(layers):
            h = (h * v[f"w{i % 10}"] + v[f"b{i % 10}"]).tanh()
        return h
    return build


def median_seconds(function, number):
    return statistics.median(timeit.repeat(function, number=number, repeat=5)) / number


def compare(title, text, build, point, systems, number):
    f = symgrad.compile(text)
    _, expected = f.value_and_grad(**point)
    args = [point[name] for name in f.variables]
    raw = f._load("value_and_grad")  # the generated function itself
    times = {"symgrad compiled value_and_grad(**inputs)": median_seconds(
        lambda: f.value_and_grad(**point), number)}
    times["symgrad compiled, raw generated function"] = median_seconds(
        lambda: raw(*args), number)
    for name, Value in systems:
        grads = run_values(Value, build, point)
        bad = [k for k in expected if not math.isclose(grads[k], expected[k], rel_tol=1e-9,
                                                       abs_tol=1e-12)]
        if bad:
            raise SystemExit(f"{name} disagrees on {bad}")
        times[name] = median_seconds(lambda: run_values(Value, build, point), max(1, number // 10))
    reference = times.get("micrograd Value", times["symgrad Value engine"])
    print(f"\n{title} ({len(f.source.splitlines())} generated lines), median per forward+backward:")
    for name, seconds in sorted(times.items(), key=lambda item: item[1]):
        print(f"  {name:45s} {seconds * 1e6:10.1f} µs   {reference / seconds:7.1f}x vs micrograd")


def compile_growth():
    print("\ncompile time (parse -> generated code -> Python function) per graph node:")
    for layers in (300, 1000, 3000, 10000):
        text = dag_program(layers)
        started = time.perf_counter()
        expression = symgrad.parse(text)
        parsed = time.perf_counter()
        symgrad.compile(expression)
        done = time.perf_counter()
        nodes = 3 * layers
        print(f"  {nodes:6d} nodes: parse {(parsed - started) / nodes * 1e6:5.1f} µs/node, "
              f"compile {(done - parsed) / nodes * 1e6:5.1f} µs/node, "
              f"total {(done - started) * 1e3:7.1f} ms")


def main():
    systems = [("symgrad Value engine", engine.Value)]
    try:
        import micrograd.engine

        add_lecture_tanh(micrograd.engine.Value)
        # micrograd's recursive topological sort needs more than the default 1000 frames.
        sys.setrecursionlimit(10_000)
        systems.append(("micrograd Value", micrograd.engine.Value))
    except ImportError:
        print("micrograd is not installed (pip install micrograd): comparing symgrad only")
    compare("the lecture's neuron " + NEURON, NEURON, neuron_fn, NEURON_POINT, systems, 20000)
    layers = 333
    compare(f"a {3 * layers}-node DAG", dag_program(layers), dag_fn(layers), dag_point(),
            systems, 200)
    compile_growth()


if __name__ == "__main__":
    import argparse

    # No options: --help prints what the benchmark measures instead of running it.
    argparse.ArgumentParser(description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    main()
