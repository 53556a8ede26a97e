"""Scale: end-to-end cost of symgrad on programs of 10^3 .. 10^6 graph nodes, per node.

Each (shape, size) runs in a fresh subprocess, so the peak memory (max RSS) is its
own.  Times are CPU seconds of that process (``time.process_time``): on a shared
machine, wall-clock time also counts the waits for a free core.  Stages: parse (text
-> graph), program (chain-rule steps, names), code (printing the Python), compile and
eval (CPython's ``compile``, then one value_and_grad).  SymPy's route (``sympy.diff``
for every input, ``cse``, ``lambdify``) is measured in the same run on the same
graph, as far as it finishes within ``--sympy-cap`` seconds.

    python benchmarks/bench_scale.py                 # 10^3 .. 10^5, all shapes
    python benchmarks/bench_scale.py --max 1000000   # include 10^6
    python benchmarks/bench_scale.py --sum-of-x 200000 --shapes   # x + x + ... + x only

``--sum-of-x N`` times the whole route from text to value and gradient, ``import
symgrad`` included, on ``x + x + ... + x`` with N terms, in ``--repeat`` fresh
processes: CPU and wall-clock seconds, median and fastest, and the stages;
``--baseline DIR`` times another checkout's symgrad in runs interleaved with these.
"""

import argparse
import json
import os
import subprocess
import sys
import time

SHAPES = ("sum", "chain", "layers")


def program(shape, nodes):
    """A program text with about ``nodes`` graph nodes."""
    if shape == "sum":  # a long sum over 100 inputs: one add node per term
        return " + ".join(f"x{i % 100}" for i in range(nodes))
    if shape == "chain":  # a deep composition: one node per call
        funcs = ("sin", "tanh", "cos")
        return "".join(f"{funcs[i % 3]}(" for i in range(nodes)) + "x" + ")" * nodes
    # wide DAG with heavy sharing: h = tanh(h*w + b) layers, three nodes each
    lines = ["h = x"] + [f"h = tanh(h*w{i % 10} + b{i % 10})" for i in range(nodes // 3)]
    return "\n".join(lines + ["h"])


def measure_symgrad(shape, nodes):
    """Stage times in seconds and the peak RSS, measured in this (fresh) process."""
    import resource

    import symgrad
    from symgrad.core import ir
    from symgrad.compiled import CompiledFunction

    symgrad.compile("tanh(sin(cos(a*b + c)))").value_and_grad(a=1, b=2, c=3)  # warm up
    text = program(shape, nodes)
    times = {}
    start = time.process_time()
    try:
        expression = symgrad.parse(text)
    except symgrad.TooLargeError as error:
        return {"refused": str(error).splitlines()[0]}
    times["parse"] = time.process_time() - start
    times["nodes"] = len(ir.topological_order([expression.root]))
    start = time.process_time()
    try:
        f = CompiledFunction(expression)  # the program: backward pass, names, steps
    except symgrad.TooLargeError as error:
        times["refused"] = str(error).splitlines()[0]
        return times
    times["program"] = time.process_time() - start
    point = {name: 0.1 for name in f.variables}
    start = time.process_time()
    f.value_and_grad(**point)  # the code printed, compiled and run; for a large program, the tape
    times["first call"] = time.process_time() - start
    # What the code costs where the first call did not need it (a large program's second).
    start = time.process_time()
    times["lines"] = f.source.count("\n")
    times["code"] = time.process_time() - start
    start = time.process_time()
    f.value_and_grad(**point)
    times["second call"] = time.process_time() - start
    times["peak_MiB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return times


def measure_end_to_end(_, terms):
    """Text to value and gradient for ``x + x + ... + x``: stage and total seconds."""
    cpu, wall = time.process_time, time.perf_counter
    text = " + ".join(["x"] * terms)
    start_cpu, start_wall = cpu(), wall()
    import symgrad

    marks = [("import", cpu())]
    f = symgrad.compile(symgrad.parse(text))  # the graph and its program
    marks.append(("parse+program", cpu()))
    # The first call: on the tape where the Python backend answers a large program's
    # first call there (compiled.FIRST_CALL_ON_TAPE), else printed, compiled and run.
    value, grads = f.value_and_grad(x=0.5)
    marks.append(("first call", cpu()))
    assert (value, grads["x"]) == (terms / 2, float(terms))
    times = {"cpu": cpu() - start_cpu, "wall": wall() - start_wall}
    last = start_cpu
    for stage, at in marks:
        times[stage], last = at - last, at
    start = cpu()
    assert f.value_and_grad(x=0.5) == (value, grads)  # the code, printed and compiled now
    times["second call"] = cpu() - start
    return times


def end_to_end(terms, repeat, cap, baseline=None):
    """Print the median and fastest of ``repeat`` fresh processes running
    ``measure_end_to_end``; with ``baseline`` (another checkout's directory), its runs
    interleaved with ours, and the ratio of the medians."""
    import statistics

    systems = {"symgrad": None} if baseline is None else {"symgrad": None, "baseline": baseline}
    runs = {name: [] for name in systems}
    for _ in range(repeat):
        for name, path in systems.items():
            runs[name].append(run_child("e2e", "x", terms, cap, path))
    print(f"x + x + ... + x, {terms:,} terms, text to value and gradient, {repeat} fresh "
          "processes each (seconds: median, fastest)")
    medians = {}
    for name, results in runs.items():
        good = [run for run in results if "cpu" in run]
        if not good:
            print(f"  {name}: {results[0]}")
            continue
        where = "" if systems[name] is None else f" ({systems[name]})"
        print(f"  {name}{where}")
        for key in ("cpu", "wall", "import", "parse+program", "first call", "second call"):
            values = [run[key] for run in good]
            print(f"    {key:18} {statistics.median(values):6.2f}  {min(values):6.2f}")
        medians[name] = statistics.median(run["cpu"] for run in good)
    if len(medians) == 2:
        ratio = medians["symgrad"] / medians["baseline"]
        print(f"  symgrad / baseline, median CPU time: {ratio:.2f}")


def measure_api(shape, nodes):
    """A graph built through the API (no text), compiled with backend='tape', one evaluation."""
    import resource

    import symgrad
    from symgrad.core import ir

    times, start = {}, time.process_time()
    with ir.paused_collector():
        h = ir.var("x")
        for i in range(nodes // 3):  # the "layers" shape, three operations a layer
            h = ir.apply("tanh", ir.apply("add", ir.apply("mul", h, ir.var(f"w{i % 10}")),
                                          ir.var(f"b{i % 10}")))
        expression = symgrad.Expression(h)
    times["build"] = time.process_time() - start
    start = time.process_time()
    f = symgrad.compile(expression, backend="tape")
    times["compile"] = time.process_time() - start
    for key in ("first_eval", "eval"):  # the first builds the tape, then runs it
        start = time.process_time()
        f.value_and_grad(**{name: 0.1 for name in f.variables})
        times[key] = time.process_time() - start
    times["nodes"] = nodes
    times["peak_MiB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return times


def measure_sympy(shape, nodes):
    """SymPy's route on the same graph: diff for every input, cse, lambdify."""
    import sympy

    import symgrad
    from symgrad.core.sympy_bridge import symbols_for, to_sympy

    expression = symgrad.parse(program(shape, nodes))
    symbols = symbols_for(expression.variables)
    start = time.process_time()
    value = to_sympy(expression.root, symbols)
    grads = [sympy.diff(value, symbols[name]) for name in expression.variables]
    replacements, reduced = sympy.cse([value] + grads)
    function = sympy.lambdify(list(symbols.values()), [replacements, reduced], "math")
    function(*[0.1] * len(symbols))
    return {"sympy": time.process_time() - start}


def run_child(kind, shape, nodes, cap, path=None):
    """Run one measurement in a subprocess (importing symgrad from ``path`` if given)."""
    command = [sys.executable, __file__, "--child", kind, shape, str(nodes)]
    env = None if path is None else {**os.environ, "PYTHONPATH": path}
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=cap, env=env)
    except subprocess.TimeoutExpired:
        return {"timeout": cap}
    if done.returncode != 0:
        return {"failed": (done.stderr.strip().splitlines() or ["?"])[-1].split(":")[0]}
    return json.loads(done.stdout)


def report(shape, nodes, ours, theirs):
    if "refused" in ours or "timeout" in ours or "failed" in ours:
        print(f"{shape:7} {nodes:>8}  {ours}")
        return
    n = ours["nodes"]
    stages = ("parse", "program", "first call", "code", "second call")
    total = ours["parse"] + ours["program"] + ours["first call"]
    per = {k: ours[k] / n * 1e6 for k in stages}
    sympy_text = (f"{theirs['sympy']:8.2f} s" if "sympy" in theirs
                  else f"  > {theirs['timeout']} s" if "timeout" in theirs else theirs["failed"])
    ratio = f"{theirs['sympy'] / total:7.1f}x" if "sympy" in theirs else "      -"
    print(f"{shape:7} {n:>8} {total:8.2f} s {total / n * 1e6:8.1f} "
          f"{per['parse']:7.1f} {per['program']:7.1f} {per['first call']:7.1f} "
          f"{per['code']:7.1f} {per['second call']:7.1f} {ours['peak_MiB']:8.0f}   "
          f"{sympy_text} {ratio}")
    return total / n


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=100_000, help="largest size (nodes)")
    parser.add_argument("--shapes", nargs="*", default=list(SHAPES), choices=SHAPES,
                        help="shapes to run (none: only --sum-of-x or --api)")
    parser.add_argument("--cap", type=float, default=300, help="seconds per symgrad run")
    parser.add_argument("--sympy-cap", type=float, default=60, help="seconds per SymPy run")
    parser.add_argument("--api", type=int, default=0, metavar="NODES",
                        help="also build a graph of NODES operations through the API and run it "
                             "on backend='tape' (e.g. 1000000)")
    parser.add_argument("--sum-of-x", type=int, default=0, metavar="TERMS",
                        help="also time x + x + ... + x from text to value and gradient "
                             "(e.g. 200000)")
    parser.add_argument("--repeat", type=int, default=5, help="fresh processes for --sum-of-x")
    parser.add_argument("--baseline", metavar="DIR",
                        help="with --sum-of-x, also time the symgrad of another checkout "
                             "(e.g. a git worktree of an older commit), runs interleaved")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, shape, nodes = args.child
        measure = {"symgrad": measure_symgrad, "sympy": measure_sympy, "api": measure_api,
                   "e2e": measure_end_to_end}[kind]
        print(json.dumps(measure(shape, int(nodes))))
        return 0
    sizes = [n for n in (1_000, 10_000, 100_000, 1_000_000) if n <= args.max]
    if args.shapes:
        print("CPU time per node in microseconds; total = parse + program + the first call "
              "(code printed, compiled, run; from 1,000 operations on, the tape), then what "
              "printing the code and the second call (compiling it) cost after that")
        print(f"{'shape':7} {'nodes':>8} {'total':>10} {'us/node':>8} {'parse':>7} "
              f"{'program':>7} {'first':>7} {'code':>7} {'second':>7} {'peak MiB':>8}   "
              f"{'sympy':>10} {'ratio':>7}")
    for shape in args.shapes:
        per_node, sympy_done = {}, True
        for nodes in sizes:
            ours = run_child("symgrad", shape, nodes, args.cap)
            theirs = (run_child("sympy", shape, nodes, args.sympy_cap) if sympy_done
                      else {"failed": "not run"})
            sympy_done = "sympy" in theirs
            per_node[nodes] = report(shape, nodes, ours, theirs)
        if per_node.get(1_000) and per_node.get(100_000):
            print(f"{shape:7} per-node cost at 10^5 / at 10^3: "
                  f"{per_node[100_000] / per_node[1_000]:.2f}")
    if args.api:
        api = run_child("api", "layers", args.api, args.cap)
        print(f"\nthrough the API, {args.api:,} operations on backend='tape': " + (
            f"build {api['build']:.1f} s, compile (the program) {api['compile']:.1f} s, first "
            f"evaluation (the tape built, then run) {api['first_eval']:.1f} s, next evaluations "
            f"{api['eval']:.2f} s, peak {api['peak_MiB']:.0f} MiB" if "build" in api
            else str(api)))
    if args.sum_of_x:
        print()
        end_to_end(args.sum_of_x, args.repeat, args.cap, args.baseline)
    return 0


if __name__ == "__main__":
    sys.exit(main())
