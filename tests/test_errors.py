"""Bad input: every error is a ParseError with a line, a column and plain words."""

import pytest

import symgrad
from symgrad.arrays.build import parse as parse_array

BAD = [
    # text, line, column, words the message must contain
    ("a +", 1, 4, "expected an operand after '+'"),
    ("a * ", 1, 5, "expected an operand after '*'"),
    ("tanh(a", 1, 7, "'(' at column 5 is never closed"),
    ("a)", 1, 2, "unmatched ')'"),
    ("a b", 1, 3, "expected an operator between 'a' and 'b'"),
    ("2x", 1, 2, "no implicit multiplication"),
    ("0x1F", 1, 2, "expected an operator"),
    ("1_000", 1, 2, "expected an operator"),
    ("1j", 1, 2, "expected an operator"),
    ("", 1, 1, "expected an expression"),
    ("   \n  ", 2, 3, "expected an expression"),
    ("()", 1, 2, "expected an expression inside '()'"),
    ("a @ b", 1, 3, "'@': only in array programs"),
    ("\u0663", 1, 1, "unexpected character"),
    ("a\0", 1, 2, "NUL byte"),
    ("x = 1", 1, 6, "a program must end with an expression"),
    ("a = 1\nb = 2", 2, 6, "a program must end with an expression"),
    ("a\nb = 2\nb", 1, 1, "only the last statement may be a bare expression"),
    ("tahn(x)", 1, 1, "did you mean 'tanh'"),
    ("foo(x)", 1, 1, "unknown function 'foo'"),
    ("tanh(a, b)", 1, 1, "tanh() takes 1 argument, got 2"),
    ("exp()", 1, 1, "exp() takes 1 argument, got 0"),
    ("x + tanh", 1, 5, "'tanh' is a function"),
    ("a = 1\nb = a +\nb", 2, 8, "expected an operand after '+'"),
    ("a + b = c", 1, 7, "only a name can be assigned"),
    ("x = (a\n + b)\nx", 1, 7, "never closed"),
]


@pytest.mark.parametrize("text, line, column, words", BAD)
def test_parse_errors_name_line_column_and_what_was_expected(text, line, column, words):
    with pytest.raises(symgrad.ParseError) as caught:
        symgrad.parse(text)
    error = caught.value
    assert (error.line, error.column) == (line, column)
    assert words in str(error)
    assert isinstance(error, ValueError)


def test_message_quotes_the_line_with_a_caret_under_the_column():
    with pytest.raises(symgrad.ParseError) as caught:
        symgrad.parse("n = a*b\no = tanh(n +)\no")
    lines = str(caught.value).splitlines()
    assert lines[0].startswith("line 2, column 13:")
    assert lines[1] == "  o = tanh(n +)"
    assert lines[2] == "  " + " " * 12 + "^"


def test_parse_rejects_non_text():
    with pytest.raises(TypeError):
        symgrad.parse(b"x + 1")


EVALUATION = [
    ("log(x)", {"x": -1.0}, "log(x)"),
    ("log(x)", {"x": 0.0}, "log(x)"),
    ("1/x", {"x": 0.0}, "1/x"),
    ("sqrt(x)", {"x": -4.0}, "sqrt(x)"),
    ("x**0.5", {"x": -2.0}, "x**0.5"),
    ("x**y", {"x": -2.0, "y": 2.0}, "xlogy(x**y, x)"),  # d/dy x**y = x**y*log(x) needs x > 0
    ("x**y", {"x": 0.0, "y": -2.0}, "x**y"),
    ("exp(x)", {"x": 1000.0}, "exp(x)"),
    ("a*b", {"a": 1e200, "b": 1e200}, "a*b"),
    ("n = a - b; log(n) + a", {"a": 1.0, "b": 2.0}, "log(n)"),
    ("sqrt(x)", {"x": 0.0}, "0.5/sqrt(x)"),  # the value exists, the gradient does not
]


@pytest.mark.parametrize("text, point, subexpression", EVALUATION)
def test_domain_errors_name_the_subexpression(text, point, subexpression):
    f = symgrad.compile(text)
    with pytest.raises(symgrad.EvaluationError) as caught:
        f.value_and_grad(**point)
    assert caught.value.expression == subexpression
    assert subexpression in str(caught.value)


@pytest.mark.parametrize("text, point, operation, operand", [
    ("a = x*y; b = sqrt(a); b", {"x": 0.0, "y": 1.0}, "sqrt(a)", "a"),
    ("a = x*y; b = a**0.5; b*2", {"x": 0.0, "y": 1.0}, "a**0.5", "a"),
    ("x**y", {"x": -2.0, "y": 2.0}, "x**y", "y"),  # at x = 0 the derivative in y is 0
])
def test_gradient_errors_name_the_operation_and_the_operand_by_its_name(text, point, operation,
                                                                      operand):
    f = symgrad.compile(text)
    with pytest.raises(symgrad.EvaluationError) as caught:
        f.value_and_grad(**point)
    assert caught.value.operation == operation
    assert f"in the gradient of {operation} with respect to {operand} (" in str(caught.value)
    assert caught.value.operation in str(caught.value)
    with pytest.raises(symgrad.EvaluationError) as caught:
        f.batch(strict=True, **{name: [1.0, x] for name, x in point.items()})
    assert caught.value.operation == operation


@pytest.mark.parametrize("text, point", [("log(x)", {"x": -1.0}), ("1/x", {"x": 0.0}),
                                         ("exp(x)", {"x": 1000.0})])
def test_plain_calls_raise_the_same_errors(text, point):
    with pytest.raises(symgrad.EvaluationError):
        symgrad.compile(text)(**point)


def test_value_that_exists_is_returned_even_if_only_the_gradient_fails():
    assert symgrad.compile("sqrt(x)")(x=0.0) == 0.0


@pytest.mark.parametrize("call, words", [
    (lambda f: f(a=1.0), "missing input: b"),
    (lambda f: f(a=1.0, b=2.0, c=3.0), "unexpected input: c"),
    (lambda f: f(1.0, a=1.0, b=2.0), "given twice: a"),
    (lambda f: f(1.0, 2.0, 3.0), "at most 2 positional"),
    (lambda f: f(a="1", b=2.0), "must be a real number"),
])
def test_bad_inputs_raise_type_error_naming_them(call, words):
    with pytest.raises(TypeError, match=words):
        call(symgrad.compile("a*b"))


def test_an_int_beyond_the_floats_is_refused_by_name():
    with pytest.raises(symgrad.EvaluationError, match="input x = inf"):
        symgrad.compile("x + 1")(x=10**400)


def test_non_finite_inputs_are_refused():
    with pytest.raises(symgrad.EvaluationError, match="x = nan"):
        symgrad.compile("x + 1").value_and_grad(x=float("nan"))


@pytest.mark.parametrize("text, line, column", [
    ("a = x*2\r\nb = a +\r\nb", 2, 8),  # was column 9: the \r counted as a character
    ("x = 2\rx $", 2, 3),  # a lone \r ends a line, as in Python: was "2x" on line 1
])
def test_windows_and_old_mac_line_ends_give_the_same_positions(text, line, column):
    for parse in (symgrad.parse, parse_array):
        with pytest.raises(symgrad.ParseError) as caught:
            parse(text)
        assert (caught.value.line, caught.value.column) == (line, column)


def test_a_program_with_windows_line_ends_means_what_it_means_with_unix_ones():
    assert symgrad.parse("a = x*2\r\nb = a + 1\r\nb") == symgrad.parse("a = x*2\nb = a + 1\nb")


def test_an_int_input_beyond_the_floats_keeps_its_sign_in_the_message():
    with pytest.raises(symgrad.EvaluationError, match="input x = -inf"):
        symgrad.compile("x").value_and_grad(x=-10**400)
