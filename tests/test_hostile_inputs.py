"""Hostile inputs, one row each: every one a clean answer, never a traceback or a hang.

Command-line rows run in a shell (so closed and full streams, endless inputs and
pipes are real); ``{symgrad}`` stands for the installed command.  Add a row per bug.
"""

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import symgrad
from cases import BACKENDS
from symgrad.core.syntax import MAX_TEXT

SYMGRAD = shutil.which("symgrad") or str(Path(sys.executable).parent / "symgrad")

# (shell command, exit status, text that must appear in stdout or stderr)
COMMANDS = [
    # input caps: read at most MAX_TEXT + 1 characters, then refuse
    ("{symgrad} -f /dev/zero", 2, f"more than {MAX_TEXT:,} characters"),
    ("yes x | {symgrad} -", 2, f"more than {MAX_TEXT:,} characters"),
    ("yes x | {symgrad} -f -", 2, f"more than {MAX_TEXT:,} characters"),
    # programs that start with '-', before or after the options
    ("{symgrad} '-log(p)' --at p=0.5", 0, "value   0.6931471805599453"),
    ("{symgrad} -- '-x**2' --at x=3", 0, "value  -9.0"),
    ("{symgrad} --at x=1 'x*2'", 0, "value   2.0"),
    ("{symgrad} --at x=1 -- -x", 0, "value  -1.0"),
    ("{symgrad} -x --at x=2", 0, "∂/∂x   -1.0"),
    ("{symgrad} --at 'x=1' 'a = x*2; a'", 0, "value   2.0"),
    ("{symgrad} x y", 2, "unrecognized arguments: y"),
    ("{symgrad} x -f prog.sg", 2, "give a program or -f FILE (not both)"),
    # -f - reads stdin; a byte-order mark is not part of the program
    ("echo 'x*3' | {symgrad} -f - --at x=2", 0, "value   6.0"),
    ("printf '\\357\\273\\277x*3' > bom.sg; {symgrad} -f bom.sg --at x=2", 0, "value   6.0"),
    ("printf '\\357\\273\\277x*3' | {symgrad} - --at x=2", 0, "value   6.0"),
    # --at: repeated options merge; numbers as the language writes them, or constants
    ("{symgrad} a*b --at a=2 --at b=3", 0, "value   6.0"),
    ("{symgrad} x --at x=pi/2", 0, "value   1.5707963267948966"),
    ("{symgrad} x --at x=-1/3", 0, "value  -0.3333333333333333"),
    ("{symgrad} x --at x=-e", 0, "value  -2.718281828459045"),
    ("{symgrad} x --at x=1_000", 2, "'1_000' is not a finite number"),
    ("{symgrad} x --at x=٣", 2, "'٣' is not a finite number"),
    ("{symgrad} x --at x=１", 2, "'１' is not a finite number"),
    ("{symgrad} x --at x=1e999", 2, "'1e999' is not a finite number"),
    ("{symgrad} x --at x=nan", 2, "'nan' is not a finite number"),
    ("{symgrad} x --at 'x=y*2'", 2, "'y*2' is not a finite number"),
    ("{symgrad} x --at 'x=__import__(\"os\")'", 2, "is not a finite number"),
    # --json is strict JSON: a non-finite number is an error, never "Infinity"
    ("{symgrad} 'x*0 + 1e999' --json --at x=1", 2, "is not finite, and JSON has no number"),
    ("{symgrad} 'x*0 - 1e999' --json --at x=1", 2, "-1e999 overflows to -inf"),
    ("{symgrad} -- -1e999 --json", 0, "\"expression\": \"-1e999\""),
    # closed or full streams: one line, status 1
    ("{symgrad} x > /dev/full", 1, "symgrad: error: No space left on device"),
    ("{symgrad} x >&-", 1, "symgrad: error: standard output is closed"),
    ("{symgrad} - <&-", 1, "symgrad: error: standard input is closed"),
    ("{symgrad} -f - <&-", 1, "symgrad: error: standard input is closed"),
]


@pytest.mark.parametrize("command, status, phrase", COMMANDS)
def test_command_line(command, status, phrase, tmp_path):
    result = subprocess.run(command.format(symgrad=shlex.quote(SYMGRAD)), shell=True,
                            cwd=tmp_path, capture_output=True, timeout=60)
    out, err = result.stdout.decode(), result.stderr.decode()
    assert "Traceback" not in out + err and "internal error" not in err
    assert result.returncode == status, err
    assert phrase in out + err
    if status and not err.startswith("usage:"):
        assert len(err.splitlines()) in (1, 3), err  # one line, or a line, a source, a caret


# (program text, error type, text the message must hold): refused before any work
PROGRAMS = [
    (" + ".join(["x"] * 400_000), symgrad.TooLargeError, "399,999 operators and calls"),
    ("-" * 300_001 + "x", symgrad.TooLargeError, "300,001 operators"),
    ("sin(" * 300_001 + "x" + ")" * 300_001, symgrad.TooLargeError, "300,001 operators"),
    ("x" * (MAX_TEXT + 1), symgrad.TooLargeError, "characters long"),
]


@pytest.mark.parametrize("text, error, phrase", PROGRAMS, ids=lambda x: str(x)[:20])
def test_program_refused(text, error, phrase):
    with pytest.raises(error, match=phrase):
        symgrad.parse(text)


def test_operators_in_comments_do_not_count():
    text = "# " + "+" * 400_000 + "\nx*2"
    assert str(symgrad.parse(text)) == "x*2"


@pytest.mark.parametrize("backend", BACKENDS)
def test_strict_batch_locates_the_failing_element_of_a_large_batch(backend):
    # 20,000 points of a 300-layer program: a Python loop over the points took 44 s;
    # benchmarks/bench_batch.py measures the array search that replaced it.
    import numpy as np

    text = "\n".join(["h = x"] + ["h = tanh(h*w + b)"] * 300 + ["log(h)"])
    f = symgrad.compile(text, backend=backend)
    b = np.full(20_000, 0.5)
    b[[19_000, 19_500]] = -3.0  # tanh layers with a negative bias end below 0
    with pytest.raises(symgrad.EvaluationError) as caught:
        f.batch(strict=True, x=1.0, w=1.0, b=b)
    message = str(caught.value)
    assert message.startswith("log(h) is undefined: math domain error (h = -0.99")
    assert message.endswith("(batch index (19000,))")
