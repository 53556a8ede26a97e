"""The language: precedence, associativity, numbers, names and programs."""

import pytest

import symgrad
from symgrad.core.ir import structure

PRECEDENCE = [
    ("-x**2", "neg(pow(x, 2.0))"),
    ("a**b**c", "pow(a, pow(b, c))"),
    ("a-b-c", "sub(sub(a, b), c)"),
    ("a/b/c", "div(div(a, b), c)"),
    ("x**-1", "pow(x, -1.0)"),
    ("x^2", "pow(x, 2.0)"),
    ("a+b*c", "add(a, mul(b, c))"),
    ("(a+b)*c", "mul(add(a, b), c)"),
    ("-a*b", "mul(neg(a), b)"),
    ("+a", "a"),
    ("2**-x", "pow(2.0, neg(x))"),
    ("-2**2", "-4.0"),
    ("tanh(a*b+c)", "tanh(add(mul(a, b), c))"),
    ("a*b/c*d", "mul(div(mul(a, b), c), d)"),
]


@pytest.mark.parametrize("text, expected", PRECEDENCE)
def test_precedence_and_associativity_follow_python(text, expected):
    assert structure(symgrad.parse(text).root) == expected


NUMBERS = [("2", 2.0), ("2.5", 2.5), (".5", 0.5), ("1e-3", 0.001), ("1e+2", 100.0),
           ("6.8813735870195432", 6.8813735870195432), ("1E3", 1000.0), ("3.", 3.0),
           ("1e999", float("inf")), ("1e-400", 0.0)]


@pytest.mark.parametrize("text, value", NUMBERS)
def test_decimal_numbers_become_constants(text, value):
    root = symgrad.parse(text).root
    assert root.op == "const" and root.value == value


@pytest.mark.parametrize("text, names", [
    ("lambda*2 + import", ("lambda", "import")),
    ("inf - nan + E + PI", ("inf", "nan", "E", "PI")),
    ("self + kwargs", ("self", "kwargs")),
    ("None + True + False", ("None", "True", "False")),
    ("__import__ + os", ("__import__", "os")),
])
def test_every_non_function_identifier_is_a_variable(text, names):
    assert symgrad.parse(text).variables == names


def test_variables_in_order_of_first_appearance_in_the_text():
    assert symgrad.parse("n = b*a; c + n").variables == ("b", "a", "c")


def test_assigned_names_are_not_inputs_and_unused_ones_are_dropped():
    expression = symgrad.parse("n = x1*w1 + x2*w2 + b; unused = q*q; o = tanh(n); o")
    assert expression.variables == ("x1", "w1", "x2", "w2", "b")


def test_reassignment_refers_to_the_previous_value():
    assert structure(symgrad.parse("x = x*2; x = x + 1; x").root) == "add(mul(x, 2.0), 1.0)"


def test_separators_blank_lines_tabs_and_comments_are_free():
    text = "\n# a comment\n\tn = a + b ;; # trailing\n\n m = n*n\n\nm\n\n"
    assert structure(symgrad.parse(text).root) == "mul(add(a, b), add(a, b))"


def test_identical_subexpressions_are_one_node():
    root = symgrad.parse("tanh(a*b) + tanh(a*b)").root
    assert root.args[0] is root.args[1]


@pytest.mark.parametrize("text, expected", [
    ("x*1", "x"), ("1*x", "x"), ("x + 0", "x"), ("0 + x", "x"), ("x*0 + y", "y"),
    ("x**1", "x"), ("--x", "x"), ("2*3 + x", "add(6.0, x)"), ("x - 0", "x"), ("x/1", "x"),
])
def test_cheap_simplification(text, expected):
    assert structure(symgrad.parse(text).root) == expected


def test_printing_round_trips_through_the_parser():
    for text in ["a - (b - c)", "(a**b)**c", "-(x + y)", "x**-y", "a/(b*c)", "(-2)**x"]:
        printed = str(symgrad.parse(text))
        assert symgrad.parse(printed).root is symgrad.parse(text).root, printed


def test_grammar_aliases_are_the_infix_rows_of_the_operator_table():
    import re

    from symgrad.core.ops import OPS
    from symgrad.core.syntax import grammar_text

    aliases = set(re.findall(r"->\s*(\w+)", grammar_text()))
    from symgrad.core.syntax import ARRAY_RULES

    structural = {"assign", "expr", "number", "name", "call", "pos", *ARRAY_RULES}
    infix = {name for name, op in OPS.items() if op.symbol is not None}
    assert aliases - structural == infix
