"""The language people type: other tools' spellings, pi and e, and messages quoting the input.

The functions themselves are rows of the operator table, checked by test_ops.py;
here, what a person writes and what symgrad answers.
"""

import math

import pytest

import symgrad
from cases import BACKENDS, run_cli, use_jax
from symgrad import Value
from symgrad.core.ops import CONSTANTS, FUNCTIONS


@pytest.mark.parametrize("typed, meant", [
    ("ln(x)", "log(x)"), ("arcsin(x/4)", "asin(x/4)"), ("arccos(x/4)", "acos(x/4)"),
    ("arctan(x)", "atan(x)"), ("arctan2(x, 2)", "atan2(x, 2)"), ("arcsinh(x)", "asinh(x)"),
    ("arctanh(x/4)", "atanh(x/4)"), ("arccosh(x + 2)", "acosh(x + 2)"),
    ("pow(x, 3)", "x**3"), ("power(x, 2.5)", "x**2.5"), ("maximum(x, 1)", "max(x, 1)"),
    ("log(x, 10)", "log10(x)"), ("log(x, 2)", "log2(x)"), ("log(x, e)", "log(x)"),
])
def test_other_tools_spellings_mean_the_symgrad_function(typed, meant):
    x = 1.7
    value, grad = symgrad.compile(typed).value_and_grad(x=x)
    expected, expected_grad = symgrad.compile(meant).value_and_grad(x=x)
    assert value == pytest.approx(expected, rel=1e-14)
    assert grad["x"] == pytest.approx(expected_grad["x"], rel=1e-14)


def test_log_with_a_base_is_differentiated_in_the_base_too():
    # d/db log(x)/log(b) = -log(x)/(b*log(b)**2), by hand
    x, b = 3.0, 5.0
    _, grad = symgrad.compile("log(x, b)").value_and_grad(x=x, b=b)
    assert grad["b"] == pytest.approx(-math.log(x) / (b * math.log(b) ** 2), rel=1e-14)


@pytest.mark.parametrize("text, phrase", [
    ("log(x, 2, 3)", "log() takes 1 or 2 arguments, got 3"),
    ("sin(x, y)", "sin() takes 1 argument, got 2"),
    ("max(x)", "max() takes 2 arguments, got 1"),
    ("np.sin(x)", "write sin(...), not np.sin(...)"),
    ("np.arctan(x) + 1", "write atan(...), not np.arctan(...)"),
    ("2*math.pi*r", "write pi, not math.pi"),
    ("torch.foo(x)", "symgrad has no function 'foo'"),
    ("x.tanh()", "write tanh(x), not x.tanh()"),
    ("minn(x, y)", "did you mean 'min'?"),
    ("pi(x + 1)", "'pi' is a number, not a function"),
    ("sin x", "write sin(x)"),
    ("3(x+1)", "write 3*(x+1)"),
    ("2x + 1", "write 2*x"),
    ("(a + b)(a - b)", "write (a + b)*(a - b)"),
])
def test_errors_answer_what_was_typed(text, phrase):
    with pytest.raises(symgrad.ParseError) as caught:
        symgrad.parse(text)
    assert phrase in str(caught.value)


def test_pi_and_e_are_numbers_not_inputs():
    f = symgrad.compile("exp(-x**2/2)/sqrt(2*pi) + e**x")
    assert f.variables == ("x",)
    x = 0.7
    value, grad = f.value_and_grad(x=x)
    assert value == pytest.approx(math.exp(-x * x / 2) / math.sqrt(2 * math.pi) + math.exp(x))
    expected = -x * math.exp(-x * x / 2) / math.sqrt(2 * math.pi) + math.exp(x)
    assert grad["x"] == pytest.approx(expected, rel=1e-13)


def test_printed_derivatives_keep_pi_and_e_by_name():
    assert symgrad.compile("exp(-x**2/2)/sqrt(2*pi)").derivatives["x"] == \
        "-exp(-x**2/2)*x/sqrt(2*pi)"
    assert symgrad.compile("e**x").derivatives["x"] == "e**x"
    assert symgrad.compile("pi*r**2").derivatives["r"] == "2*pi*r"


def test_an_assigned_e_is_the_program_s_name_as_in_the_lecture():
    f = symgrad.compile("e = a*b; d = e + c; d*2")
    assert f.variables == ("a", "b", "c")
    assert f.value_and_grad(a=2.0, b=-3.0, c=10.0) == (8.0, {"a": -6.0, "b": 4.0, "c": 2.0})
    assert symgrad.compile("pi = 3; pi*x").value_and_grad(x=1.0)[0] == 3.0


def test_every_constant_is_a_name_no_function_takes():
    assert not set(CONSTANTS) & set(FUNCTIONS)


def test_softplus_is_stable_far_out():
    f = symgrad.compile("softplus(x)")
    assert f.value_and_grad(x=1000.0) == (1000.0, {"x": 1.0})
    assert f.value_and_grad(x=-1000.0) == (0.0, {"x": 0.0})
    value, grad = f.value_and_grad(x=-30.0)
    assert value == pytest.approx(math.log1p(math.exp(-30.0)), rel=1e-14)
    with pytest.raises(symgrad.EvaluationError):  # the formula people write overflows
        symgrad.compile("log(1 + exp(x))")(x=1000.0)


@pytest.mark.parametrize("text, point, gradient", [
    ("max(x, y)", {"x": 2.0, "y": 2.0}, {"x": 0.0, "y": 1.0}),  # a tie: y, as relu'(0) = 0
    ("min(x, y)", {"x": 2.0, "y": 2.0}, {"x": 0.0, "y": 1.0}),
    ("max(x, y)", {"x": 3.0, "y": 2.0}, {"x": 1.0, "y": 0.0}),
    ("min(x, y)", {"x": 3.0, "y": 2.0}, {"x": 0.0, "y": 1.0}),
    ("max(x, 0) - relu(x)", {"x": 0.0}, {"x": 0.0}),
])
@pytest.mark.parametrize("backend", BACKENDS)
def test_max_and_min_conventions_at_a_tie(text, point, gradient, backend):
    if backend == "jax":
        use_jax()
    f = symgrad.compile(text, backend=backend)
    assert f.value_and_grad(**point)[1] == gradient


def test_check_names_the_tie_convention_of_max():
    report = symgrad.check(symgrad.compile("max(x, y)"), at={"x": 1.0, "y": 1.0})
    assert report.ok
    assert "at a kink of max" in str(report) and "at x = y is 0" in str(report)


@pytest.mark.parametrize("text, point", [
    ("asin(x)", {"x": 2.0}), ("acosh(x)", {"x": 0.5}), ("atanh(x)", {"x": 1.0}),
    ("log10(x)", {"x": -1.0}), ("log1p(x)", {"x": -1.0}), ("cbrt(x)", {"x": 0.0}),
    ("hypot(x, y)", {"x": 0.0, "y": 0.0}), ("asin(x)", {"x": 1.0}),
])
def test_outside_a_domain_is_an_evaluation_error(text, point):
    with pytest.raises(symgrad.EvaluationError):
        symgrad.compile(text).value_and_grad(**point)


def test_cbrt_of_a_negative_number_is_real():
    value, grad = symgrad.compile("cbrt(x)").value_and_grad(x=-8.0)
    assert value == pytest.approx(-2.0, rel=1e-15)
    assert grad["x"] == pytest.approx(1 / 12, rel=1e-14)  # 1/(3*(-2)**2)


def test_erf_batches_agree_with_math_erf():
    np = pytest.importorskip("numpy")
    xs = np.linspace(-3, 3, 13)
    values, grads = symgrad.compile("erf(x) + erfc(2*x)").batch(x=xs)
    expected = [math.erf(x) + math.erfc(2 * x) for x in xs]
    slope = [2 / math.sqrt(math.pi) * (math.exp(-x * x) - 2 * math.exp(-4 * x * x)) for x in xs]
    assert np.allclose(values, expected, rtol=1e-14, atol=1e-16)
    assert np.allclose(grads["x"], slope, rtol=1e-13, atol=1e-16)


@pytest.mark.parametrize("method", ["step", "sign", "sinh", "softplus", "erf", "cbrt"])
def test_value_has_every_function_of_the_language(method):
    a = Value(-0.5)
    out = getattr(a, method)()
    out.backward()
    f = symgrad.compile(f"{method}(x)")
    value, grad = f.value_and_grad(x=-0.5)
    assert out.data == pytest.approx(value, rel=1e-15) and a.grad == pytest.approx(grad["x"])


def test_value_binary_functions_take_the_other_operand():
    a, b = Value(2.0), Value(3.0)
    out = a.max(b) + a.hypot(b) + a.min(1.0)
    out.backward()
    assert out.data == pytest.approx(3.0 + math.hypot(2, 3) + 1.0)
    assert (a.grad, b.grad) == pytest.approx((2 / math.hypot(2, 3), 1 + 3 / math.hypot(2, 3)))


run = run_cli  # the command in-process: (status, stdout, stderr)


def test_at_refuses_a_value_for_pi():
    status, out, err = run("sin(pi*x)", "--at", "pi=3", "x=1")
    assert status == 2 and out == ""
    assert "pi is the number 3.141592653589793, not an input" in err
    assert "assign it in the program (pi = ...)" in err


def test_at_and_the_program_agree_on_pi():
    status, out, _ = run("x - pi", "--at", "x=pi")
    assert status == 0 and "value   0.0" in out


def test_a_program_without_inputs_prints_its_value():
    status, out, _ = run("2 + 3")
    assert status == 0 and out.splitlines()[-1] == "  no inputs: the value is 5"


def test_a_missing_numpy_names_the_extra_to_install(monkeypatch):
    import sys

    loaded = [name for name in sys.modules
              if name == "numpy" or name.startswith(("numpy.", "symgrad.backends.numpy"))]
    for name in loaded:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "numpy", None)  # import numpy fails, as when not installed
    status, _, err = run("x*y", "--backend", "numpy", "--at", "x=1", "y=2")
    assert status == 2
    assert "the numpy backend needs numpy, which is not installed: " \
        "pip install 'symgrad[batch]'" in err


def test_numpy_code_is_a_module_that_runs_on_its_own(tmp_path):
    np = pytest.importorskip("numpy")
    import runpy

    source = symgrad.compile("erf(x)*y + max(x, y)", backend="numpy").module_source
    path = tmp_path / "generated.py"
    path.write_text(source)
    namespace = runpy.run_path(str(path))  # a fresh namespace: no np unless it imports it
    value, (gx, gy) = namespace["value_and_grad"](np.array([0.5, 2.0]), np.array([1.0, 1.0]))
    assert value == pytest.approx([math.erf(0.5) + 1.0, math.erf(2.0) + 2.0], rel=1e-14)
    slope = [2 / math.sqrt(math.pi) * math.exp(-x * x) for x in (0.5, 2.0)]
    assert gx == pytest.approx([slope[0], slope[1] + 1.0], rel=1e-13)
    assert gy == pytest.approx([math.erf(0.5) + 1.0, math.erf(2.0)], rel=1e-14)


def test_python_code_with_new_helpers_runs_on_its_own(tmp_path):
    import runpy

    path = tmp_path / "generated.py"
    path.write_text(symgrad.compile("cbrt(x) + softplus(x) + min(x, 1)").module_source)
    value, (grad,) = runpy.run_path(str(path))["value_and_grad"](-8.0)
    assert value == pytest.approx(-2.0 + math.log1p(math.exp(-8.0)) - 8.0, rel=1e-14)
    sigmoid = 1 / (1 + math.exp(8.0))
    assert grad == pytest.approx(1 / 12 + sigmoid + 1.0, rel=1e-14)


def test_the_function_list_is_generated_from_the_table():
    import runpy
    from pathlib import Path

    hooks = runpy.run_path(str(Path(__file__).parent.parent / "docs" / "hooks.py"))
    page = hooks["functions_markdown"]()
    assert all(f"`{name}(" in page for name in FUNCTIONS)
    assert "`log(x, y)` = `log(x)/log(y)`" in page and "`ln` is `log`" in page
    assert "`pi` = 3.141592653589793" in page


def test_check_of_a_program_defined_nowhere_it_samples_cannot_check():
    report = symgrad.check(symgrad.compile("sqrt(-x*x - 1)"))
    assert not report.ok and not report.mismatch
    assert str(report).startswith("cannot check sqrt(-x*x - 1)") and "MISMATCH" not in str(report)
    status, _, err = run("sqrt(-x*x - 1)", "--check")
    assert status == 2 and "cannot check" in err


def test_a_constant_outside_its_domain_is_cannot_check_not_a_sympy_error():
    # Found by hypothesis: SymPy refuses Max(x, acos(2)) (not comparable), and the check
    # built it before finding that no point is defined.
    report = symgrad.check("max(x, acos(2.0))")
    assert not report.ok and not report.mismatch
    assert str(report).startswith("cannot check max(x, acos(2))")


@pytest.mark.parametrize("backend", BACKENDS)
def test_zero_to_a_positive_power_has_derivative_zero_in_the_exponent(backend):
    # 0**y is 0 for every y > 0, so d/dy is 0 there (autograd's test asks the same)
    if backend == "jax":
        use_jax()
    f = symgrad.compile("x**y", backend=backend)
    assert f.value_and_grad(x=0.0, y=2.5) == (0.0, {"x": 0.0, "y": 0.0})
    values, grads = f.batch(strict=True, x=[0.0, 2.0], y=[2.5, 0.5])
    assert list(grads["y"]) == pytest.approx([0.0, math.sqrt(2.0) * math.log(2.0)], rel=1e-6)


def test_value_agrees_on_zero_powers():
    x, y = Value(0.0), Value(2.5)
    (x**y).backward()
    assert (x.grad, y.grad) == (0.0, 0.0)
    z = Value(0.0)
    (z**0.0).backward()  # x**0 is the constant 1, as the compiler folds it
    assert z.grad == symgrad.compile("x**0").value_and_grad(x=0.0)[1]["x"] == 0.0


def test_the_derivative_in_an_exponent_still_reads_out_times_log():
    assert symgrad.compile("x**y").derivatives["y"] == "x**y*log(x)"
    assert symgrad.compile("2**x").derivatives["x"] == "log(2)*2**x"


def test_tracing_math_sin_says_to_use_the_method():
    from symgrad.tracing import trace

    with pytest.raises(TypeError, match=r"write x\.sin\(\)"):
        trace(lambda x: math.sin(x))
    assert str(trace(lambda x, y: x.sin().max(y).softplus())) == "softplus(max(sin(x), y))"


def test_a_program_that_names_pi_prints_the_number_in_digits():
    f = symgrad.compile("pi = a*b; pi*3.141592653589793 + e")
    assert str(f.expression) == "pi = a*b; pi*3.141592653589793 + e"
    assert f.derivatives["a"] == "3.141592653589793*b"
    again = symgrad.compile(str(f.expression))  # the text means what the program meant
    assert again.value_and_grad(a=2.0, b=1.0) == f.value_and_grad(a=2.0, b=1.0)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("text, x", [("asin(x)", 2.0), ("acosh(x)", 0.5), ("atanh(x)", 1.5),
                                     ("log2(x)", -1.0), ("log1p(x)", -2.0)])
def test_new_functions_outside_their_domain_follow_the_numeric_conventions(text, x, backend):
    np = pytest.importorskip("numpy")
    if backend == "jax":
        use_jax()
    f = symgrad.compile(text, backend=backend)
    with pytest.raises(symgrad.EvaluationError, match=r"x\)"):
        f.value_and_grad(x=x)
    with np.errstate(all="ignore"):
        values, _ = f.batch(x=[0.5 if "acosh" not in text else 2.0, x])
    assert np.isfinite(values[0]) and not np.isfinite(values[1])  # nan in batches
    with pytest.raises(symgrad.EvaluationError):
        f.batch(strict=True, x=[x])


def test_batches_without_numpy_name_the_extra_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "numpy", None)  # import numpy fails, as when not installed
    with pytest.raises(symgrad.SymgradError, match=r"pip install 'symgrad\[batch\]'"):
        symgrad.compile("x*y").batch(x=[1.0], y=[2.0])


def test_minus_zero_is_shown_as_zero_to_learners():
    status, out, _ = run("x*-0.0 + y", "--at", "x=1", "y=2", "--graph")
    assert status == 0 and "data 0 " in out and "data -0" not in out
    assert "-0 " not in run("x*-0.0 + y", "--at", "x=1", "y=2", "--explain")[1]


def test_jax_code_with_erf_is_a_module_that_runs_on_its_own(tmp_path):
    """The module wrote np.vectorize(math.erf, otypes=[float]) over jax.numpy, whose
    vectorize has no otypes: importing it failed."""
    pytest.importorskip("jax")
    import runpy

    path = tmp_path / "generated_jax.py"
    path.write_text(symgrad.compile("erf(x)*erfc(x)", backend="jax").module_source)
    value, (grad,) = runpy.run_path(str(path))["value_and_grad"](0.3)
    assert float(value) == pytest.approx(math.erf(0.3) * math.erfc(0.3), rel=1e-6)


def test_array_code_with_erf_is_a_module_that_runs_on_its_own(tmp_path):
    """The array module defined logsumexp and the like, not erf: NameError."""
    np = pytest.importorskip("numpy")
    import runpy

    from symgrad.arrays.cli import module_source

    f = symgrad.compile("A: [n]\nsum(erf(A) * erfc(A))")
    path = tmp_path / "generated_arrays.py"
    path.write_text(module_source(f))
    A = np.array([0.1, 0.2])
    value, (grad,) = runpy.run_path(str(path))["value_and_grad"](A)
    assert value == f.value_and_grad(A=A)[0]
    np.testing.assert_array_equal(grad, f.value_and_grad(A=A)[1]["A"])
