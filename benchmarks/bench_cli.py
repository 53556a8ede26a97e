"""Whole-process time of ``symgrad "tanh(a*b+c)"`` beside the same job done with SymPy.

Both print d/da, d/db and d/dc of tanh(a*b + c) from a fresh Python process;
the runs alternate so that machine load hits all alike.  Prints each side's
median and the ratio (target: symgrad at most a sixth of SymPy's time).  The
LALR tables ship inside the package, so every run is a first run.  symgrad's
modules are byte-compiled first, as ``pip install`` leaves an installed package
(SymPy's are): with PYTHONDONTWRITEBYTECODE set, as on this project's machines,
an editable install would otherwise compile its source at every start.

    python benchmarks/bench_cli.py            # 15 runs each
    python benchmarks/bench_cli.py --runs 31
"""

import argparse
import compileall
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROGRAM = "tanh(a*b+c)"
SYMPY_SCRIPT = (
    "import sympy\n"
    "a, b, c = sympy.symbols('a b c')\n"
    "f = sympy.tanh(a*b + c)\n"
    "for v in (a, b, c):\n"
    "    print(f'd/d{v} =', sympy.diff(f, v))\n"
)


def symgrad_command():
    script = shutil.which("symgrad") or str(Path(sys.executable).parent / "symgrad")
    return [script, PROGRAM]


def seconds(command):
    """Wall-clock time of one run of ``command``; it must succeed."""
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs of each command")
    runs = parser.parse_args().runs
    import symgrad

    compileall.compile_dir(str(Path(symgrad.__file__).parent), quiet=1)
    commands = {"symgrad": symgrad_command(), "sympy": [sys.executable, "-c", SYMPY_SCRIPT]}
    for command in commands.values():  # warm the file cache
        seconds(command)
    times = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            times[name].append(seconds(command))
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"whole process, median of {runs} runs each")
    print(f"  symgrad {PROGRAM!r:16} {medians['symgrad'] * 1000:7.0f} ms")
    print(f"  python -c sympy.diff x3     {medians['sympy'] * 1000:7.0f} ms")
    ratio = medians["symgrad"] / medians["sympy"]
    verdict = "meets" if ratio <= 1 / 6 else "MISSES"
    print(f"  ratio symgrad/sympy {ratio:.2f} ({verdict} the target of at most 0.17)")


if __name__ == "__main__":
    main()
