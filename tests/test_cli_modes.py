"""The command line's --hessian and --forward views."""

import pytest

from cases import run_cli as run


def test_hessian_prints_formulas_and_numbers():
    status, out, _ = run("x**3*y", "--hessian", "--at", "x=2", "y=3")
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == "x**3*y"
    assert "  ∂²/∂x∂y = 3*x**2" in lines and "  ∂²/∂y² = 0" in lines
    assert lines[-3:] == ["  ∂²/∂x²    36.0", "  ∂²/∂x∂y   12.0", "  ∂²/∂y²    0.0"]


def test_hessian_code_prints_hvp_and_hessian():
    status, out, _ = run("x**3*y", "--hessian", "--code")
    assert status == 0
    assert "def hvp(x, y, v_x, v_y):" in out and "def hessian(x, y):" in out


def test_forward_prints_the_directional_derivative_along_the_tangent():
    status, out, _ = run("x**3*y", "--forward", "--at", "x=2", "y=3", "--tangent", "y=1")
    assert status == 0
    assert out.splitlines()[1:] == ["at x = 2, y = 3, along dot_x = 0, dot_y = 1:",
                                    "  value                     24.0",
                                    "  directional derivative    8.0"]


def test_forward_explain_defaults_to_the_first_input():
    status, out, _ = run("x**3*y", "--forward", "--explain", "--at", "x=2", "y=3")
    assert status == 0
    assert "dot_x = 1, dot_y = 0  (the direction: one tangent per input)" in out
    assert out.splitlines()[-1] == "directional derivative of out: dot_out = 36"


def test_forward_code_is_the_jvp_module():
    status, out, _ = run("tanh(a*b + c)", "--forward", "--code")
    assert status == 0
    assert "def jvp(a, b, c, dot_a, dot_b, dot_c):" in out and "import math" in out


@pytest.mark.parametrize("argv, message", [
    (["x*y", "--tangent", "x=1", "--at", "x=1", "y=2"], "--tangent is the direction of --forward"),
    (["x*y", "--forward"], "--forward needs --code, --explain or --at"),
    (["x*y", "--hessian", "--dot"], "--hessian does not go with --dot"),
    (["x*y", "--hessian", "--forward", "--code"], "give one"),
    (["x*y", "--hessian", "--explain", "--at", "x=1", "y=2"], "--hessian does not go with"),
    (["x*y", "--forward", "--at", "x=1", "y=2", "--tangent", "z=1"], "z is not an input"),
    (["x*y", "--forward", "--at", "x=1", "y=2", "--tangent", "x=nan"], "not a finite number"),
])
def test_bad_combinations_exit_2_with_a_message(argv, message):
    status, _, err = run(*argv)
    assert status == 2 and message in err and "Traceback" not in err


def test_hessian_json_has_the_tidy_formulas_and_the_numbers():
    import json

    status, out, _ = run("x**3*y", "--hessian", "--json", "--at", "x=2", "y=3")
    assert status == 0
    result = json.loads(out)
    # d2/dx2 x**3*y = 6*x*y, d2/dxdy = 3*x**2, d2/dy2 = 0, by hand
    assert result["second_derivatives"]["x"] == {"x": "6*x*y", "y": "3*x**2"}
    assert result["hessian"] == {"x": {"x": 36.0, "y": 12.0}, "y": {"x": 12.0, "y": 0.0}}


def test_echoed_program_names_shared_parts_as_the_code_does():
    import symgrad

    text = "; ".join(["h = tanh(x*w + b)", "o = sigmoid(h*v + h*h*c)",
                      "o*o + o*y - y*log(o) + o*exp(-y) + o*sin(y*y) + o*cos(y*y) + o*tanh(y)"
                      " + o*atan(y) + o*relu(y) + o*y*y*y*y*y + o*y*y*y*y*y*y*y"])
    program = symgrad.compile(text).program
    echoed = symgrad.parse("; ".join(program.echo()))  # the same graph, hash-consed
    shared = {node: name for node, name in echoed.labels.items() if name not in ("h", "o")}
    assert shared
    for node, name in shared.items():  # t11 above is t11 in the code and steps below
        assert program.names[node] == name


def test_hessian_simplify_prints_sympys_forms_of_the_second_derivatives():
    """--simplify was ignored with --hessian."""
    status, out, _ = run("sin(x)*x**2*y", "--hessian", "--simplify")
    assert status == 0
    shown = out.split("simplified by SymPy:\n")[1]
    assert "  ∂²/∂x∂y = x*(x*cos(x) + 2*sin(x))" in shown
    assert "  ∂²/∂y² = 0" in shown


def test_hessian_simplify_json_is_symmetric():
    import json

    status, out, _ = run("x**3*y + x*y**2", "--hessian", "--simplify", "--json")
    result = json.loads(out)
    assert status == 0 and result["simplified"]["x"]["y"] == result["simplified"]["y"]["x"]
    assert result["simplified"]["y"]["y"] == "2*x"


@pytest.mark.parametrize("options", [(), ("--json",)])
def test_the_point_is_evaluated_once(options, monkeypatch):
    # A second evaluation would print and compile the code of a large program whose first
    # call ran on the tape: the table and the JSON reuse the numbers of the domain check.
    from symgrad.compiled import CompiledFunction

    calls, value_and_grad = [], CompiledFunction.value_and_grad
    monkeypatch.setattr(CompiledFunction, "value_and_grad",
                        lambda self, *args, **inputs: calls.append(inputs)
                        or value_and_grad(self, *args, **inputs))
    status, out, _ = run("x**3*y", "--at", "x=2", "y=3", *options)
    assert status == 0 and calls == [{"x": 2.0, "y": 3.0}]
    assert "36.0" in out  # d/dx = 3*x**2*y at (2, 3)
