"""Array programs: shape errors when compiling, clean errors when calling, readable code."""

import copy
import pickle
import re

import numpy as np
import pytest

import symgrad
from cases import NEEDS_JAX
from symgrad.arrays.compiled import ArrayFunction

MLP = """X: [n, 3]
W1: [3, 4]
b1: [4]
W2: [4, 5]
Y: int[n]
h = tanh(X @ W1 + b1)
logits = h @ W2
cross_entropy(logits, Y)"""


@pytest.mark.parametrize("text, line, column, words", [
    ("X: [n, 3]\nW: [4, 5]\nsum(X @ W)", 3, 5, "X @ W: inner dimensions differ (3 vs 4)"),
    ("X: [n, 3]\nb: [4]\nsum(X + b)", 3, 5, "shapes (n, 3) and (4,) do not broadcast"),
    ("X: [n, 3]\nsum(foo(X))", 2, 5, "unknown function 'foo'"),
    ("X: [n, 3]\nsum(tanh(X, axis=1))", 2, 5, "tanh() takes no axis"),
    ("X: [n, 3]\nsum(reshape(X, [n, 4]))", 2, 5, "cannot reshape (n, 3) into (n, 4)"),
    ("X: [n, 3]\nY: [n]\nsum(X[arange(n), Y])", 3, 5, "an index must be an integer array"),
    ("X: [n, 3]\nsum(X, axis=2)", 2, 1, "axis 2 is out of range"),
    ("X: [n, 3]\nY: int[n]\nsum(Y)", 3, 1, "Y is an integer array"),
    ("X: [n, 3]\nX: [n]\nsum(X)", 2, 1, "'X' is declared"),
    ("X: [n, 2.5]\nsum(X)", 1, 8, "a dimension is a whole number or a name"),
    ("X: [n]\nn = sum(X)\nn", 2, 1, "'n' is an input or a dimension"),
    ("X: [n]\nY: int[m]\ncross_entropy(X, Y)", 3, 1, "got (n,) and int[m]"),
    ("X: double[n]\nsum(X)", 1, 4, "unknown element type 'double'"),
])
def test_shape_errors_point_at_the_operation(text, line, column, words):
    with pytest.raises(symgrad.ParseError) as caught:
        symgrad.compile(text)
    error = caught.value
    assert (error.line, error.column) == (line, column)
    assert words in str(error)
    assert "^" in str(error)


def test_the_value_must_be_a_scalar():
    with pytest.raises(symgrad.SymgradError, match=r"shape \(n, n\).*a scalar"):
        symgrad.compile("X: [n, 3]\nX @ X.T")


@pytest.mark.parametrize("backend", ["python", "c", "tape"])
def test_scalar_backends_refuse_array_programs(backend):
    with pytest.raises(symgrad.SymgradError, match="does not compile array programs"):
        symgrad.compile("x: [n]\nsum(x)", backend=backend)


def test_array_syntax_in_a_scalar_program_is_an_error_naming_declarations():
    with pytest.raises(symgrad.ParseError, match="only in array programs"):
        symgrad.parse("x: [n]\nsum(x)")
    with pytest.raises(symgrad.ParseError, match="'@'"):
        symgrad.parse("a @ b")
    assert type(symgrad.compile("a*b")).__name__ == "CompiledFunction"


def arrays():
    return {"X": np.ones((2, 3)), "W1": np.ones((3, 4)), "b1": np.zeros(4),
            "W2": np.ones((4, 5)), "Y": np.array([0, 4])}


@pytest.mark.parametrize("change, error, words", [
    ({"X": np.ones((2, 4))}, TypeError, "X: dimension 1 must be 3, got 4"),
    ({"W1": np.ones((3, 4, 1))}, TypeError, "W1 is declared with shape (3, 4)"),
    ({"Y": np.array([0, 1, 2])}, TypeError, "Y: dimension 0 is n = 3, but n = 2"),
    ({"Y": np.array([0.0, 1.0])}, TypeError, "Y is declared int[n] but holds float64"),
    ({"Y": np.array([0, 5])}, symgrad.EvaluationError, "Y holds the index 5, out of range"),
    ({"Y": np.array([-1, 0])}, symgrad.EvaluationError, "negative index (-1)"),
    ({"Z": 1.0}, TypeError, "unknown Z"),
    ({"X": np.array([["a", "b", "c"]] * 2)}, TypeError, "X must hold numbers"),
])
def test_calls_with_arrays_that_do_not_fit_are_clean_errors(change, error, words):
    f = symgrad.compile(MLP)
    with pytest.raises(error) as caught:
        f.value_and_grad(**{**arrays(), **change})
    assert words in str(caught.value)


def test_integer_inputs_get_no_gradient_and_gradients_have_their_inputs_shapes():
    f = symgrad.compile(MLP)
    assert isinstance(f, ArrayFunction)
    value, grads = f.value_and_grad(**arrays())
    assert isinstance(value, float)
    assert set(grads) == {"X", "W1", "b1", "W2"}
    for name, grad in grads.items():
        assert grad.shape == arrays()[name].shape
        assert grad.flags.writeable


def test_backward_lines_name_their_rule_and_shape():
    source = symgrad.compile(MLP).source
    assert "grad_W2 = h.T @ grad_logits  # matmul: d logits/d W2 = hᵀ, on the left  (4, 5)" \
        in source
    assert "grad_b1 = np.sum(grad_t2, axis=0)  # add: d t2/d b1 = 1.0, summed over axis 0 " \
        "(broadcast)  (4,)" in source
    assert "scatter_add(" in source  # the gather's adjoint
    # t1 = X @ W1 and t2 = t1 + b1 share one gradient: no grad_t1 = grad_t2 line
    assert "grad_W1 = X.T @ grad_t2  # matmul: d t2/d W1 = Xᵀ, on the left" in source
    assert "grad_t1" not in source


def test_generated_code_is_deterministic():
    assert symgrad.compile(MLP).source == symgrad.compile(MLP).source


def test_compile_work_does_not_grow_with_shapes():
    small = symgrad.compile(MLP.replace("[n, 3]", "[2, 3]").replace("int[n]", "int[2]"))
    large = symgrad.compile(MLP.replace("[n, 3]", "[100000, 3]").replace("int[n]",
                                                                       "int[100000]"))
    symbolic = symgrad.compile(MLP)
    counts = {len(f.program.forward) + len(f.program.backward)
              for f in (small, large, symbolic)}
    assert len(counts) == 1


def test_wrt_limits_the_gradients():
    f = symgrad.compile(MLP, wrt=["W2"])
    assert set(f.value_and_grad(**arrays())[1]) == {"W2"}
    with pytest.raises(ValueError, match="not a float input"):
        symgrad.compile(MLP, wrt=["Y"])


def test_a_value_that_is_an_input_has_gradient_one():
    f = symgrad.compile("X: [n]\na")
    assert f.value_and_grad(X=np.ones(2), a=1.5) == (1.5, {"X": pytest.approx([0, 0]),
                                                         "a": 1.0})


def test_unused_inputs_get_zero_gradients():
    f = symgrad.compile("X: [n, 3]\nV: [n]\nsum(X) * a")
    _, grads = f.value_and_grad(X=np.ones((2, 3)), V=np.ones(2), a=2.0)
    assert grads["V"].tolist() == [0.0, 0.0]
    assert grads["a"] == 6.0


def run_cli(capsys, *argv):
    from symgrad.cli import main

    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def mlp_file(tmp_path):
    path = tmp_path / "mlp.sg"
    path.write_text(MLP)
    return str(path)


def test_cli_prints_gradients_as_formulas_over_arrays(capsys, mlp_file):
    status, out, _ = run_cli(capsys, "-f", mlp_file)
    assert status == 0
    assert "∂L/∂W2 = transpose(h) @ grad_logits    (4, 5)" in out
    assert "grad_t5 = scatter_add(" in out


def test_cli_code_is_a_runnable_module(capsys, mlp_file):
    status, out, _ = run_cli(capsys, "-f", mlp_file, "--code")
    namespace = {}
    exec(compile(out, "generated", "exec"), namespace)  # the module symgrad printed
    value, grads = namespace["value_and_grad"](**{k: v for k, v in arrays().items()})
    assert value == pytest.approx(symgrad.compile(MLP)(**arrays()))


def test_cli_check_runs_three_checks(capsys, mlp_file):
    status, out, _ = run_cli(capsys, "-f", mlp_file, "--check", "--shapes", "n=2")
    assert status == 0, out
    assert out.count(" ok ") + out.count("skipped") == 4
    assert "finite differences" in out and "scalar compiler" in out


def test_cli_explain_walks_the_backward_pass_with_shapes_and_values(capsys, mlp_file, tmp_path):
    np.save(tmp_path / "x.npy", np.ones((2, 3)))
    status, out, _ = run_cli(capsys, "-f", mlp_file, "--explain", "--at", "random",
                             f"X={tmp_path / 'x.npy'}")
    assert status == 0
    assert "grad_W2 = transpose(h) @ grad_logits" in out and "(4, 5)" in out
    assert "[[" in out  # previews of the values


def test_cli_shape_errors_are_messages(capsys):
    status, _, err = run_cli(capsys, "X: [n, 3]\nW: [4, 2]\nsum(X @ W)")
    assert status == 2
    assert "inner dimensions differ (3 vs 4)" in err and "^" in err
    status, _, err = run_cli(capsys, "X: [n, 3]\nsum(X)", "--shapes", "m=2")
    assert status == 2 and "--shapes m=2" in err


def test_symgrad_check_runs_the_three_checks_on_array_programs():
    report = symgrad.check("X: [n, 3]\nW: [3, 2]\nsum(tanh(X @ W))", shapes={"n": 2})
    assert report.ok
    assert [row[0] for row in report.rows][:3] == [
        "finite differences", "scalar compiler, element by element", "SymPy on the scalar form"]
    assert report.rows[2][1] is True


def test_constants_no_literal_spells_print_as_numpy_names():
    f = symgrad.compile("x: [n]\nsum(x) + 1e999 * 0")
    assert "np.inf" in f.source
    assert np.isnan(f(x=np.ones(2)))


def test_names_of_the_user_never_collide_with_generated_ones():
    text = ("steps: [n]\nnp: [n]\nlambda: [n]\nt1 = steps * np\n"
            "out = sum(t1 * lambda)\nout * grad_t1")
    f = symgrad.compile(text)
    values = {"steps": np.arange(2.0), "np": np.ones(2), "lambda": np.full(2, 2.0),
              "grad_t1": 3.0}
    value, grads = f.value_and_grad(**values)
    assert value == 6.0
    assert grads["steps"].tolist() == [6.0, 6.0] and grads["grad_t1"] == 2.0
    traced, traced_grads, steps = f.trace(**values)
    assert traced == value and len(steps) == len(f.program.forward) + len(f.program.backward)


def _loss_over(dim):
    """Softmax regression whose batch dimension is called ``dim``."""
    return f"X: [{dim}, 3]\nW: [3, 4]\nY: int[{dim}]\ncross_entropy(X @ W, Y) / {dim}"


@pytest.mark.parametrize("dim", ["x", "y", "rows", "g", "out", "i0"])
def test_a_dimension_may_have_the_name_of_an_operand_of_the_definitions(dim):
    """cross_entropy's definition had the dimension written into its text, parsed with x
    and y bound to its operands: a dimension called x or y was read as an operand."""
    rng = np.random.default_rng(0)
    point = {"X": rng.normal(size=(5, 3)), "W": rng.normal(size=(3, 4)),
             "Y": np.array([0, 1, 2, 3, 0])}
    expected, expected_grads = symgrad.compile(_loss_over("n")).value_and_grad(**point)
    value, grads = symgrad.compile(_loss_over(dim)).value_and_grad(**point)
    assert value == pytest.approx(expected, rel=1e-12)
    for name in ("X", "W"):
        np.testing.assert_allclose(grads[name], expected_grads[name], rtol=1e-12)


# Rows of the array table a program cannot call: only adjoints and definitions build them.
ROW_NAMES = ["expand", "reshape_like", "broadcast_like", "size", "first_max", "outer",
             "scatter_add", "dim", "matmul", "amax", "take"]


def _program_scaled_by(name, declaration):
    """A program whose every internal row appears in the backward pass, over input ``name``."""
    return (f"X: [n, 3]\nY: int[n]\nv: [3]\n{declaration}Z = X * {name}\n"
            "cross_entropy(Z, Y) + sum(max(Z, axis=1)) + mean(tanh(Z @ v)) + sum(Z) / n")


@pytest.mark.parametrize("name", ROW_NAMES)
def test_the_names_of_internal_rows_are_free_for_inputs(name):
    """A scalar 'size' was refused as a function to call as size(...), an unknown function."""
    rng = np.random.default_rng(0)
    point = {"X": rng.normal(size=(4, 3)), "Y": np.array([0, 1, 2, 0]), "v": rng.normal(size=3)}
    for declaration, value in [("", 1.5), ("{}: [n, 3]\n", rng.normal(size=(4, 3)))]:
        reference = symgrad.compile(_program_scaled_by("a", declaration.format("a")))
        expected, expected_grads = reference.value_and_grad(**point, a=value)
        f = symgrad.compile(_program_scaled_by(name, declaration.format(name)))
        result, grads = f.value_and_grad(**point, **{name: value})
        assert result == pytest.approx(expected, rel=1e-12)
        expected_grads[name] = expected_grads.pop("a")
        for input_name, grad in grads.items():
            np.testing.assert_allclose(grad, expected_grads[input_name], rtol=1e-12)


def test_internal_row_names_mean_in_array_programs_what_they_mean_in_scalar_ones():
    scalar = symgrad.compile("size*outer + dim")
    f = symgrad.compile("X: [3]\nsum(X)*size*outer + dim")
    point = {"size": 2.0, "outer": 3.0, "dim": 5.0}
    assert scalar.value_and_grad(**point) == (11.0, {"size": 3.0, "outer": 2.0, "dim": 1.0})
    value, grads = f.value_and_grad(X=np.ones(3), **point)
    assert (value, grads["outer"], grads["dim"]) == (23.0, 6.0, 1.0)
    with pytest.raises(symgrad.ParseError, match="unknown function 'size'"):
        symgrad.compile("X: [3]\nsum(X)*size(X)")
    for function in ("arange", "softmax", "tanh", "sum"):
        with pytest.raises(symgrad.ParseError, match=f"'{function}' is a function"):
            symgrad.compile(f"X: [3]\nsum(X)*{function}")


def test_derivatives_name_gradients_the_code_computes():
    import re

    f = symgrad.compile(MLP)
    targets = {line.split("=")[0].strip() for line in f.source.splitlines()
               if line.strip().startswith("grad_")}
    derivatives = f.derivatives()
    assert set(derivatives) == {"X", "W1", "b1", "W2"}
    for text in derivatives.values():
        used = set(re.findall(r"grad_\w+", text))
        assert used and used <= targets, (text, targets)


def test_each_name_of_the_program_keeps_its_own_gradient():
    # t1 = B + b1 shares A's gradient; B, named too, keeps its own line
    f = symgrad.compile("X: [n, 3]\nW: [3, 3]\nb1: [3]\nb2: [3]\nB = X @ W\nA = B + b1 + b2\n"
                        "sum(tanh(A))")
    assert "    grad_B = grad_A  # add: d A/d B = 1.0  (n, 3)\n" in f.source
    assert "grad_t1" not in f.source and "grad_W = X.T @ grad_B" in f.source


@pytest.mark.parametrize("backend", ["numpy", pytest.param("jax", marks=NEEDS_JAX)])
def test_a_scalar_input_divides_by_zero_as_ieee_arrays_do(backend):
    """X / a at a = 0: inf and its gradients, as NumPy and JAX give for arrays; the scalar
    input's own arithmetic (1.0 / a) was Python's, which raised ZeroDivisionError."""
    f = symgrad.compile("X: [n, 3]\nsum(X / a)", backend=backend)
    with np.errstate(divide="ignore", invalid="ignore"):
        value, grads = f.value_and_grad(X=np.ones((2, 3)), a=0.0)
    assert value == np.inf and np.all(grads["X"] == np.inf) and grads["a"] == -np.inf
    value, grads = f.value_and_grad(X=np.ones((2, 3)), a=2.0)
    assert value == 3.0 and grads["a"] == -1.5


@pytest.mark.parametrize("backend", ["numpy", pytest.param("jax", marks=NEEDS_JAX)])
@pytest.mark.parametrize("text, words", [
    ("X: [n, 3]\nmax(X)", "max(X): X has no elements (n = 0)"),
    ("X: [n, 3]\nsum(max(X, axis=0))", "max(X, axis=0): X has no elements along the axis it "
                                       "reduces (n = 0)"),
    ("X: [n, 3]\nW: [3, 2]\nh = tanh(X @ W)\nmax(h)", "max(h): h has no elements (n = 0)"),
])
def test_a_maximum_over_no_elements_is_an_evaluation_error(backend, text, words):
    """As NumPy and JAX refuse it; it was NumPy's own ValueError from the generated code."""
    f = symgrad.compile(text, backend=backend)
    inputs = {"X": np.zeros((0, 3)), "W": np.ones((3, 2))}
    inputs = {name: inputs[name] for name in f.inputs}
    for call in (f.value_and_grad, f, f.trace):
        with pytest.raises(symgrad.EvaluationError) as caught:
            call(**inputs)
        assert words in str(caught.value) and "no maximum" in str(caught.value)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's mean of nothing, log(0)
def test_other_reductions_of_no_elements_follow_numpy_and_jax():
    empty = np.zeros((0, 3))
    expected = {"sum(X)": 0.0, "sum(max(X, axis=1))": 0.0, "logsumexp(X)": -np.inf,
                "sum(logsumexp(X, axis=0))": -np.inf, "sum(softmax(X, axis=0))": 0.0}
    for text, value in expected.items():
        result, grads = symgrad.compile("X: [n, 3]\n" + text).value_and_grad(X=empty)
        assert result == value and grads["X"].shape == (0, 3), text
    assert np.isnan(symgrad.compile("X: [n, 3]\nmean(X)")(X=empty))


def test_cli_says_a_maximum_over_no_elements_is_an_error(capsys):
    status, _, err = run_cli(capsys, "X: [n, 3]\nmax(X)", "--at", "random", "--shapes", "n=0")
    assert status == 2
    assert "symgrad: error: max(X): X has no elements (n = 0)" in err
    assert "internal error" not in err and "Traceback" not in err


@pytest.mark.parametrize("text, shapes, words", [
    ("X: [n, 3]\nW: [3, 2]\nsum(tanh(X @ W))", {"n": 0}, "shapes n=0: the checks need every "
                                                         "dimension at least 1"),
    ("X: [n, 3]\nW: [3, 2]\nsum(tanh(X @ W))", {"n": -1}, "shapes n=-1: the checks need"),
    ("X: [n, 3]\nW: [3, 2]\nsum(tanh(X @ W))", {"n": 2.5}, "shapes n=2.5: a size is a whole "
                                                           "number"),
    ("X: [n, 3]\nW: [3, 2]\nsum(tanh(X @ W))", {"q": 2}, "shapes q=2: q is not a dimension of "
                                                         "the program (dimensions: n)"),
    ("X: [0, 3]\nsum(X)", None, "X is declared [0, 3]: the checks need every dimension"),
])
def test_check_refuses_shapes_it_cannot_check(text, shapes, words):
    """Were IndexError from the scalar form of an empty sum, NumPy's own errors, or
    (an unknown name) silently ignored."""
    with pytest.raises(symgrad.SymgradError) as caught:
        symgrad.check(text, shapes=shapes)
    assert words in str(caught.value)


def test_check_takes_numpy_integers_as_sizes():
    report = symgrad.check("X: [n, 3]\nsum(tanh(X))", shapes={"n": np.int64(2)})
    assert report.ok and report.dims == {"n": 2}


@pytest.mark.parametrize("text, option, words", [
    ("X: [n, 3]\nW: [3, 2]\nsum(tanh(X @ W))", "--check", "--shapes n=0: the checks need "
                                                          "every dimension at least 1"),
    ("C: [n, 2]\nX: int[m]\nsum(C[X])", "--at=random", "X indexes axis 0 of an array of "
                                                      "shape (n, 2), with n = 0: no index is"),
])
def test_cli_check_and_random_inputs_refuse_empty_dimensions(capsys, text, option, words):
    status, _, err = run_cli(capsys, text, option, "--shapes", "n=0")
    assert status == 2 and words in err
    assert "internal error" not in err and "Traceback" not in err


@pytest.mark.parametrize("wrt, words", [
    ("Q", "symgrad: error: --wrt Q: Q is not an input (inputs: X, Y)"),
    ("X,Q", "--wrt X,Q: Q is not an input"),
    ("Y", "symgrad: error: --wrt Y: Y is an integer array: it gets no gradient"),
])
def test_cli_wrt_names_an_input_that_has_a_gradient(capsys, wrt, words):
    """The scalar command's message and status; it was an internal error (ValueError)."""
    status, _, err = run_cli(capsys, "X: [3]\nY: int[3]\nsum(X)", "--wrt", wrt)
    assert status == run_cli(capsys, "a*b", "--wrt", "Q")[0] == 2
    assert words in err
    assert "internal error" not in err and "Traceback" not in err


def test_wrt_of_no_float_input_is_a_symgrad_error_as_for_scalar_programs():
    with pytest.raises(symgrad.SymgradError, match="cannot differentiate with respect to Q"):
        symgrad.compile("X: [3]\nsum(X)", wrt=["Q"])


@pytest.mark.parametrize("value, kind", [
    ("2", "str"), (b"2", "bytes"), (True, "bool"), (np.bool_(True), "bool"),
    (np.array([2.0]), "ndarray"), (1 + 2j, "complex"),
])
def test_a_scalar_input_must_be_a_real_number_as_in_scalar_programs(value, kind):
    """Strings and True were read as the numbers 2.0 and 1.0 (through float())."""
    words = f"input a must be a real number, not {kind}"
    for f in (symgrad.compile("X: [3]\na: []\nsum(X * a)"), symgrad.compile("X: [3]\nsum(X * a)")):
        with pytest.raises(TypeError, match=words):
            f.value_and_grad(X=np.ones(3), a=value)
    with pytest.raises(TypeError, match=words):
        symgrad.compile("a * b")(a=value, b=1.0)


@pytest.mark.parametrize("value", [2, 2.0, np.float32(2.0), np.int64(2), np.array(2.0)])
def test_a_scalar_input_takes_python_and_numpy_numbers(value):
    f = symgrad.compile("X: [3]\nsum(X * a)")
    assert f.value_and_grad(X=np.ones(3), a=value) == (6.0, {"X": pytest.approx([2.0] * 3),
                                                            "a": 3.0})


@pytest.mark.parametrize("backend", ["numpy", pytest.param("jax", marks=NEEDS_JAX)])
def test_inputs_of_either_byte_order_give_the_same_numbers(backend):
    """JAX refused a big-endian integer input with its own error about abstract arrays."""
    f = symgrad.compile(MLP, backend=backend)
    swapped = {name: value.astype(value.dtype.newbyteorder("S"))  # S: the other order
               for name, value in arrays().items()}
    assert not any(value.dtype.isnative for value in swapped.values())
    value, grads = f.value_and_grad(**swapped)
    expected, expected_grads = f.value_and_grad(**arrays())
    assert value == pytest.approx(expected)
    for name, grad in grads.items():
        assert grad == pytest.approx(expected_grads[name])


def _pickled(f):
    return pickle.loads(pickle.dumps(f))


@pytest.mark.parametrize("backend", ["numpy", pytest.param("jax", marks=NEEDS_JAX)])
@pytest.mark.parametrize("duplicate", [_pickled, copy.deepcopy], ids=["pickle", "deepcopy"])
def test_an_array_function_pickles_and_copies_as_its_text(duplicate, backend):
    """A MappingProxyType of the expression refused both: cannot pickle 'mappingproxy'."""
    f = symgrad.compile(MLP, backend=backend, wrt=["W1", "b1", "W2"])
    again = duplicate(f)
    assert (again.source, again.wrt, again.backend) == (f.source, f.wrt, backend)
    assert duplicate(f.expression).text == f.expression.text
    rng = np.random.default_rng(0)
    point = {name: rng.normal(size=value.shape) for name, value in arrays().items()}
    point["Y"] = np.array([0, 4])
    value, grads = again.value_and_grad(**point)
    expected, expected_grads = f.value_and_grad(**point)
    assert value == expected and set(grads) == {"W1", "b1", "W2"}
    for name, grad in grads.items():
        np.testing.assert_array_equal(grad, expected_grads[name])


BAD_TEXTS = [("X: [n\nsum(X)", "line 1, column 6"),
             ("__import__('os').system('echo pwned')", "line 1"),
             (b"X: [n]\nsum(X)", "must be a string, not bytes")]


@pytest.mark.parametrize("text, backend, wrt, words", [
    *((text, "numpy", None, words) for text, words in BAD_TEXTS),
    ("X: [n]\nsum(X)", "c", None, "array backends are: numpy, jax"),
    ("X: [n]\nsum(X)", "numpy", "X", "wrt is not a list of names"),
    ("X: [n]\nsum(X)", "numpy", ["Z"], "with respect to Z: not a float input"),
])
def test_a_tampered_array_function_pickle_is_a_symgrad_error_at_load(text, backend, wrt,
                                                                      words, capfd):
    function, _ = symgrad.compile("X: [n]\nsum(X)").__reduce__()  # what pickle calls
    with pytest.raises(symgrad.SymgradError, match=re.escape(words)):
        function(text, backend, wrt)
    assert "pwned" not in capfd.readouterr().out


@pytest.mark.parametrize("text, words", BAD_TEXTS)
def test_a_tampered_array_expression_pickle_is_a_symgrad_error_at_load(text, words):
    function, _ = symgrad.compile("X: [n]\nsum(X)").expression.__reduce__()
    with pytest.raises(symgrad.SymgradError, match=re.escape(words)):
        function(text)


@pytest.mark.parametrize("dim", ["e", "pi"])
def test_a_dimension_called_e_or_pi_is_the_dimension_not_the_constant(dim):
    """sum(X) / e over X: [e, 3] of ones (5 rows) gave 15/2.718, not 3."""
    f = symgrad.compile(f"X: [{dim}, 3]\nsum(X) / {dim} + sum(reshape(X, [3, {dim}]))*0")
    assert f.value_and_grad(X=np.ones((5, 3)))[0] == 3.0


def test_the_checks_do_not_count_nan_as_agreement():
    """nan compared false, so a nan gradient 'agreed' with any number."""
    from symgrad.arrays.checks import _agree

    assert not _agree({"X": np.array([np.nan])}, {"X": np.array([1.0])}, 1e-10)[0]
    assert not _agree({"X": np.array([np.inf])}, {"X": np.array([-np.inf])}, 1e-10)[0]
    assert _agree({"X": np.array([np.nan, 1.0])}, {"X": np.array([np.nan, 1.0])}, 1e-10)[0]


@pytest.mark.parametrize("text", [
    "X: [n, 3]\nsum(log(X))",  # the scalar form raised at a normal draw below 0
    "A: [5]\nB: [2]\nI: int[k]\nsum(A[I]) + sum(B[I])",  # I was drawn for A's 5, not B's 2
])
def test_check_draws_inputs_where_the_program_has_numbers(text):
    report = symgrad.check(text)
    assert report.ok, str(report)


def test_odd_call_inputs_get_plain_answers():
    f = symgrad.compile("X: [3]\na: []\nsum(X*a)")
    assert f.value_and_grad(X=np.ones(3), a=-10**400)[0] == -np.inf  # was OverflowError
    with pytest.raises(TypeError, match="X is not an array of numbers"):  # was ValueError
        symgrad.compile("X: [n]\nsum(X)").value_and_grad(X=[[1, 2], [3]])
    with pytest.raises(symgrad.ParseError, match="axis= given twice"):  # the last one won
        symgrad.compile("X: [n, 2]\nsum(X, axis=0, axis=1)")
