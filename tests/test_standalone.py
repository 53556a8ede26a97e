"""Generated code stands on its own: ``--code > g.py`` runs, and rule comments use the code's names."""

import json
import re
import subprocess
import sys

import pytest

import symgrad
from symgrad import cli
from symgrad.core.ops import OPS

# relu, sigmoid, softplus, max, min, cbrt (called forward) and step, sign, xlogy (called
# by the derivatives of relu, abs, max, min and of x**y in y).
EVERY_HELPER = ("relu(x)*sigmoid(y) + abs(x*y) + step(x) + sign(y) + tanh(x) + softplus(x)"
                " + max(x, y) + min(x, y) + cbrt(y) + x**y")
POINT = {"x": 0.7, "y": -1.3}


def run_module(path, function, *args):
    """What ``function(*args)`` of the module at ``path`` returns, run by a fresh Python."""
    code = (f"import json, runpy; result = runpy.run_path({str(path)!r})[{function!r}]"
            f"(*{list(args)!r}); print(json.dumps(result))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, cwd=path.parent)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_every_helper_of_the_table_is_used_by_the_module_test_program():
    f = symgrad.compile(EVERY_HELPER)
    helpers = {name for name, op in OPS.items() if op.helper is not None}
    assert all(f"def {name}(x" in f.module_source for name in helpers)


def test_code_written_by_the_command_runs_as_a_module(tmp_path, capsys):
    assert cli.main([EVERY_HELPER, "--code"]) == 0
    path = tmp_path / "g.py"
    path.write_text(capsys.readouterr().out)
    value, grads = run_module(path, "value_and_grad", POINT["x"], POINT["y"])
    expected_value, expected = symgrad.compile(EVERY_HELPER).value_and_grad(**POINT)
    assert value == expected_value and grads == [expected["x"], expected["y"]]


def test_forward_and_hessian_modules_run_on_their_own(tmp_path, capsys):
    assert cli.main([EVERY_HELPER, "--forward", "--code"]) == 0
    path = tmp_path / "jvp.py"
    path.write_text(capsys.readouterr().out)
    f = symgrad.compile(EVERY_HELPER)
    assert run_module(path, "jvp", 0.7, -1.3, 0.5, 2.0) == list(
        f.jvp(POINT, {"x": 0.5, "y": 2.0}))
    text = "x**3*y + sigmoid(x*y)"
    assert cli.main([text, "--hessian", "--code"]) == 0
    path = tmp_path / "hessian.py"
    path.write_text(capsys.readouterr().out)
    hessian = symgrad.compile(text).hessian(**POINT)
    assert run_module(path, "hessian", 0.7, -1.3) == [[hessian[a][b] for b in "xy"] for a in "xy"]


def test_source_stays_the_bare_function_at_the_end_of_the_module():
    f = symgrad.compile("sigmoid(a)*b")
    assert f.source.startswith("def value_and_grad(a, b):")
    assert f.module_source.endswith("\n\n\n" + f.source)
    assert "import math" in f.module_source and "def sigmoid(x):" in f.module_source
    assert "import math" not in symgrad.compile("a*b").module_source


@pytest.mark.parametrize("text", ["x/y", "tanh(x)*y", "x**y + relu(y)", "atan2(x, y)"])
def test_rule_comments_use_only_the_codes_own_names(text):
    """Every name in a backward comment is a name of the generated code (no stray x, y)."""
    f = symgrad.compile(text.replace("x", "p").replace("y", "q"))  # inputs are not x and y
    code_names = set(f.program.names.values()) | set(f.program.grads.values())
    for line in f.source.split("# backward pass")[1].splitlines():
        if "#" not in line:
            continue
        comment = line.split("#", 1)[1]
        comment = re.sub(r"^ \w+: ", " ", comment)  # the operator's name
        words = set(re.findall(r"[A-Za-z_]\w*", comment)) - {"d"} - set(OPS) - {"math"}
        assert words <= code_names, (line, words - code_names)
