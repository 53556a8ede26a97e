"""The installed ``symgrad`` command, driven in subprocesses: every option and every error.

Numbers are compared with SymPy computed here, never with symgrad's own output.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sympy

BIN = Path(sys.executable).parent
SYMGRAD = shutil.which("symgrad") or str(BIN / "symgrad")
LECTURE = "tanh(a*b+c)"
POINT = {"a": 2.0, "b": -3.0, "c": 10.0}
JSON_KEYS = {"expression", "variables", "derivatives"}
JSON_KEYS_AT = JSON_KEYS | {"value", "gradient"}


def run(*args, stdin=None, env=None, command=(SYMGRAD,)):
    """Run the command; (exit status, stdout, stderr).  No run may print a traceback."""
    result = subprocess.run([*command, *args], input=stdin, capture_output=True, text=True,
                            env=env, timeout=120)
    assert "Traceback" not in result.stderr + result.stdout
    return result.returncode, result.stdout, result.stderr


def lecture_reference():
    """Value and gradient of tanh(a*b + c) at POINT, by SymPy."""
    a, b, c = sympy.symbols("a b c", real=True)
    value = sympy.tanh(a * b + c)
    at = {a: POINT["a"], b: POINT["b"], c: POINT["c"]}
    gradient = {str(s): float(sympy.diff(value, s).evalf(30, subs=at)) for s in (a, b, c)}
    return float(value.evalf(30, subs=at)), gradient


def assert_bad_input(status, out, err, *phrases):
    assert status == 2, err
    assert out == ""
    assert err.startswith("symgrad: error: ")
    for phrase in phrases:
        assert phrase in err, err


# Output options

def test_derivatives_are_printed_without_importing_sympy_or_numpy():
    status, out, err = run("-X", "importtime", "-m", "symgrad", LECTURE,
                           command=(sys.executable,))
    assert status == 0
    assert out == ("tanh(a*b + c)\n"
                   "  ∂/∂a = (1 - tanh(a*b + c)**2)*b\n"
                   "  ∂/∂b = (1 - tanh(a*b + c)**2)*a\n"
                   "  ∂/∂c = 1 - tanh(a*b + c)**2\n")
    imported = {line.split("|")[-1].strip() for line in err.splitlines()}
    assert "symgrad.cli" in imported
    assert not {name for name in imported if name.split(".")[0] in ("sympy", "numpy")}


def test_shared_parts_of_a_big_derivative_print_as_indented_named_lines():
    status, out, _ = run("u = exp(x*y); v = u*u + u; w = tanh(v*v + v); w*w + w")
    assert status == 0
    lines = out.splitlines()
    assert lines[:4] == ["u = exp(x*y)", "v = u*u + u", "w = tanh(v*v + v)", "w*w + w"]
    start = lines.index("  ∂/∂x:")
    assert lines[start + 1] == "    t1 = 1 + 2*w"  # the program's names u, v, w are used
    assert lines[lines.index("  ∂/∂y:") - 1].startswith("    ∂/∂x = ")
    assert ";" not in out


def test_at_prints_the_value_and_gradient_in_an_aligned_table():
    status, out, _ = run(LECTURE, "--at", "a=2", "b=-3", "c=10")
    value, gradient = lecture_reference()
    assert status == 0
    table = out[out.index("at a = 2, b = -3, c = 10:"):].splitlines()[1:]
    assert [row.split()[0] for row in table] == ["value", "∂/∂a", "∂/∂b", "∂/∂c"]
    shown = [float(row.split()[1]) for row in table]
    assert shown == pytest.approx([value, *gradient.values()], rel=1e-12)
    assert len({row.index(".") for row in table}) == 1  # decimal points line up


def test_json_has_the_documented_keys_and_sympys_numbers():
    status, out, _ = run(LECTURE, "--json", "--at", "a=2,b=-3,c=10")
    result = json.loads(out)
    value, gradient = lecture_reference()
    assert status == 0
    assert set(result) == JSON_KEYS_AT
    assert result["expression"] == "tanh(a*b + c)"
    assert result["variables"] == ["a", "b", "c"]
    assert result["derivatives"]["c"] == "1 - tanh(a*b + c)**2"
    assert result["value"] == pytest.approx(value, rel=1e-12)
    assert result["gradient"] == pytest.approx(gradient, rel=1e-12)


def test_json_without_a_point_and_with_simplify():
    status, out, _ = run("x**2*y", "--json", "--simplify", "--wrt", "x")
    result = json.loads(out)
    assert status == 0
    assert set(result) == JSON_KEYS | {"simplified"}
    assert list(result["derivatives"]) == ["x"]
    x, y = sympy.symbols("x y", real=True)
    simplified = result["simplified"]["x"]
    assert sympy.simplify(sympy.parse_expr(simplified, {"x": x, "y": y}) - 2 * x * y) == 0


def test_code_prints_exactly_the_source_the_library_runs():
    import symgrad

    status, out, _ = run(LECTURE, "--code")
    f = symgrad.compile(LECTURE)
    assert status == 0
    assert out == f.module_source and out.endswith("\n\n\n" + f.source)


def test_explain_walks_the_backward_pass_from_the_output():
    status, out, _ = run(LECTURE, "--explain", "--at", "a=2", "b=-3", "c=10")
    _, gradient = lecture_reference()
    lines = out.splitlines()
    assert status == 0
    assert lines[0] == "tanh(a*b + c)"
    assert lines[2] == "grad_out = 1  (the seed: d out/d out = 1)"
    assert lines[3].startswith("out = tanh(t2) = 0.9993  →  grad_t2 = grad_out * (1 - out**2)")
    assert "grad_a = grad_t1 * b = 0.001341 * (-3) = -0.004023" in out
    final = {line.split("/∂")[1].split(" =")[0]: float(line.split("= ")[-1])
             for line in lines if line.startswith("  ∂out/∂")}
    assert final == pytest.approx(gradient, rel=1e-3)


def test_simplify_and_check_at_random_points_and_at_the_given_point():
    status, out, _ = run("x*exp(x)", "--simplify", "--check", "--at", "x=0.5")
    assert status == 0
    x = sympy.Symbol("x", real=True)
    text = out.split("simplified by SymPy:\n  ∂/∂x = ")[1].splitlines()[0]
    assert sympy.simplify(sympy.parse_expr(text, {"x": x}) - (x + 1) * sympy.exp(x)) == 0
    assert "check of x*exp(x) at 6 points: all gradients agree" in out


def test_check_exits_1_naming_a_mismatch():
    # A deliberately wrong chain-rule template, planted before anything is differentiated.
    script = ("import sys\n"
              "from symgrad.core import ops\n"
              "ops.OPS['tanh'] = ops.OPS['tanh']._replace(partials=('1 + out**2',))\n"
              "from symgrad.cli import main\n"
              "sys.exit(main(['tanh(a*b + c)', '--check']))\n")
    status, out, _ = run("-c", script, command=(sys.executable,))
    assert status == 1
    assert "MISMATCH" in out
    assert re.search(r"d/da: .*\n    at a=.*: symgrad .*, sympy .*rel. error", out)


def test_graph_prints_a_tree_with_data_and_grad():
    status, out, _ = run(LECTURE, "--graph", "--at", "a=2", "b=-3", "c=10")
    lines = out.splitlines()
    assert status == 0
    assert lines[0].startswith("out = tanh(t2)")
    assert re.match(r"   │  ├─ a +data 2 +grad -0\.004023$", lines[3])


def test_dot_prints_one_record_per_value_and_an_op_node_between():
    status, out, _ = run(LECTURE, "--dot", "--at", "a=2", "b=-3", "c=10")
    assert status == 0
    assert out.startswith("digraph symgrad {") and out.rstrip().endswith("}")
    assert out.count("shape=record") == 6  # a, b, t1, c, t2, out
    assert out.count("shape=ellipse") == 3  # *, +, tanh
    assert 'label="{ a | data 2 | grad -0.004023 }"' in out


def test_svg_without_graphviz_says_how_to_install_it(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path))  # no 'dot' anywhere on this PATH
    status, out, err = run(LECTURE, "--svg", str(tmp_path / "g.svg"), env=env)
    assert_bad_input(status, out, err, "apt-get install graphviz")
    assert len(err.splitlines()) == 1
    assert not (tmp_path / "g.svg").exists()


def test_svg_and_png_run_graphviz_and_write_its_output(tmp_path):
    fake_dot = tmp_path / "dot"  # checks its arguments and that DOT text arrives on stdin
    fake_dot.write_text('#!/bin/sh\ngrep -q "^digraph symgrad" || exit 3\n'
                        'case "$1" in -Tsvg) echo "<svg/>";; -Tpng) echo PNG;; *) exit 4;; esac\n')
    fake_dot.chmod(0o755)
    env = dict(os.environ, PATH=f"{tmp_path}:/usr/bin:/bin")
    status, out, err = run(LECTURE, "--at", "a=2", "b=-3", "c=10", "--svg",
                           str(tmp_path / "g.svg"), "--png", str(tmp_path / "g.png"), env=env)
    assert status == 0, err
    assert (tmp_path / "g.svg").read_text() == "<svg/>\n"
    assert (tmp_path / "g.png").read_text() == "PNG\n"
    assert "wrote" in err and "∂/∂a" in out


def test_wrt_restricts_the_gradient():
    status, out, _ = run(LECTURE, "--wrt", "a,c", "--at", "a=2", "b=-3", "c=10")
    assert status == 0
    assert "∂/∂a" in out and "∂/∂c" in out and "∂/∂b" not in out


def test_a_program_from_a_file_and_from_stdin(tmp_path):
    program = "n = x*w + b\no = tanh(n)  # the neuron\no\n"
    (tmp_path / "model.sg").write_text(program)
    from_file = run("-f", str(tmp_path / "model.sg"))
    from_stdin = run("-", stdin=program)
    assert from_file == from_stdin
    status, out, _ = from_file
    assert status == 0
    assert out.splitlines()[:3] == ["n = x*w + b", "o = tanh(n)", "o"]
    assert "  ∂/∂b = 1 - o**2" in out


def test_help_lists_every_option_with_examples_and_version():
    status, out, _ = run("--help")
    assert status == 0
    for option in ("--at", "--json", "--code", "--check", "--simplify", "--explain", "--dot",
                   "--svg", "--png", "--graph", "--wrt", "-f", "--version", "--traceback"):
        assert option in out
    assert 'symgrad "tanh(a*b + c)" --at a=2 b=-3 c=10' in out
    assert run("--version")[:2] == (0, "symgrad 0.1.0\n")


# Bad input: status 2, a message with a position, never a traceback

def test_parse_error_shows_line_column_and_caret(tmp_path):
    (tmp_path / "bad.sg").write_text("n = a*b\no = tanh(n +)\no\n")
    status, out, err = run("-f", str(tmp_path / "bad.sg"))
    assert_bad_input(status, out, err, "line 2, column 13: expected an operand after '+'")
    assert err.splitlines()[1:] == ["  o = tanh(n +)", "              ^"]


def test_unknown_function_is_located_with_a_suggestion():
    status, out, err = run("a + tanhh(b)")
    assert_bad_input(status, out, err, "line 1, column 5: unknown function 'tanhh'",
                     "did you mean 'tanh'?")
    assert err.splitlines()[-1] == "      ^"


@pytest.mark.parametrize("at, phrase, caret_under", [
    (["a=2", "b=-3"], "--at is missing c", None),
    (["a=2,b=-3,c=10", "d=1"], "d is not an input (inputs: a, b, c)", "d=1"),
    (["a=2", "b=x", "c=10"], "'x' is not a finite number", "x c=10"),
])
def test_bad_points_are_shown_with_a_caret(at, phrase, caret_under):
    status, out, err = run(LECTURE, "--at", *at)
    assert_bad_input(status, out, err, phrase)
    _, shown, caret = err.splitlines()
    if caret_under:
        assert shown[caret.index("^"):].startswith(caret_under)


def test_a_domain_error_at_the_point_names_and_locates_the_subexpression():
    status, out, err = run("-", "--at", "a=1", "b=1", stdin="n = a*b\no = log(n - 1)\no\n")
    assert_bad_input(status, out, err, "log(n - 1) is undefined",
                     "line 2, column 5")
    assert err.splitlines()[1:] == ["  o = log(n - 1)", "      ^"]


def test_bad_wrt_and_unreadable_file():
    assert_bad_input(*run(LECTURE, "--wrt", "z"), "z is not an input")
    # An empty list was "no name is not an input".
    assert_bad_input(*run(LECTURE, "--wrt", " , "), "--wrt needs the inputs to differentiate "
                     "by, such as --wrt a,b (inputs: a, b, c)")
    assert_bad_input(*run("-f", "/nonexistent/model.sg"), "cannot read /nonexistent/model.sg")


@pytest.mark.parametrize("args, phrase", [
    (["--bogus", LECTURE], "unrecognized arguments: --bogus (symgrad --help lists the options)"),
    ([LECTURE, "--explain"], "--explain needs --at"),
    ([], "no program: give one"),
    ([LECTURE, "-f", "model.sg"], "give a program or -f FILE, not both"),
    ([LECTURE, "--at", "3"], "--at 3: expected NAME=VALUE, such as x=3"),
    ([LECTURE, "--json", "--check"], "would not be JSON"),
    ([LECTURE, "--json", "--code"], "not allowed with argument --json"),
    ([LECTURE, "--hessian", "--forward"], "separate views"),
])
def test_usage_errors_are_one_line_without_the_usage_block(args, phrase):
    status, out, err = run(*args)
    assert status == 2 and out == ""
    assert err.startswith("symgrad: error: ") and err.count("\n") == 1
    assert phrase in err


# Internal errors, in-process: one line and status 1, or the traceback on request

def test_internal_error_is_one_line_unless_traceback_is_asked(monkeypatch, capsys):
    from symgrad import cli

    def broken(args):
        raise RuntimeError("something inside broke")

    monkeypatch.setattr(cli, "run", broken)
    assert cli.main([LECTURE]) == 1
    err = capsys.readouterr().err
    assert err == ("symgrad: internal error: RuntimeError: something inside broke "
                   "(run again with --traceback for details)\n")
    with pytest.raises(RuntimeError):
        cli.main([LECTURE, "--traceback"])


@pytest.mark.parametrize("mode, kind", [("--hessian", "hvp"), ("--forward", "jvp")])
def test_code_of_another_backend_is_said_so(mode, kind):
    """--backend c --hessian --code printed Python without a word."""
    status, out, err = run("x**2*y", "--code", mode, "--backend", "c")
    assert status == 0 and f"def {kind}(" in out
    assert f"the c backend prints no {kind} code; this is the python backend's" in err
    assert run("x**2*y", "--code", mode)[2] == ""
