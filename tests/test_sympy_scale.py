"""SymPy's side stays linear and shallow: shared graphs, deep nesting, time budgets, kinks, copies.

Gradients are compared with SymPy computed here or with finite differences,
never with symgrad's own numbers.
"""

import copy
import math
import multiprocessing
import pickle
import sys
import types

import pytest
import sympy

import symgrad
from symgrad import cli
from symgrad.core import autodiff, ir, ops
from symgrad.core.errors import GraphError
from symgrad.core.expression import Expression
from symgrad.core.simplify_budget import simplify_within
from symgrad.core.sympy_bridge import build, symbols_for, to_sympy
from symgrad.micrograd import engine
from symgrad.micrograd.engine import Value


def chain(k):
    """``a = sin(a) + cos(a)`` k times: a graph of 3k nodes whose tree has about 2**k."""
    return "a = x; " + "a = sin(a) + cos(a); " * k + "a"


def nested(function, depth):
    return f"{function}(" * depth + "x" + ")" * depth


def sympy_size(expression):
    return sum(1 for _ in sympy.preorder_traversal(expression))


def reference_gradient_of_chain(k, x):
    """d a_k/dx by the chain rule in floats, independent of symgrad and of SymPy trees."""
    a, da = x, 1.0
    for _ in range(k):
        a, da = math.sin(a) + math.cos(a), (math.cos(a) - math.sin(a)) * da
    return da


@pytest.fixture
def wrong_rule(monkeypatch):
    """Replace one operator's partial by a wrong one, for as long as the test runs."""
    def replace(name, partial):
        monkeypatch.setitem(ops.OPS, name, ops.OPS[name]._replace(partials=(partial,)))
        autodiff.partial_pattern.cache_clear()

    yield replace
    monkeypatch.undo()
    autodiff.partial_pattern.cache_clear()


# Shared subexpressions -----------------------------------------------------------------


@pytest.mark.parametrize("k", [10, 40])
def test_the_sympy_side_of_a_shared_graph_grows_linearly(k):
    f = symgrad.compile(chain(k))
    built = build([f.expression.root, f.gradients["x"].root], symbols_for(f.variables))
    assert built.shared
    total = sum(map(sympy_size, built.expressions)) + sum(
        sympy_size(formula) for _, formula in built.definitions)
    assert total < 60 * k  # a plain tree would hold about 2**k nodes


def test_small_graphs_are_built_as_one_tree_as_before():
    f = symgrad.compile(chain(3))
    built = build([f.expression.root], symbols_for(f.variables))
    assert not built.shared
    assert built.expressions[0] == to_sympy(f.expression.root, symbols_for(f.variables))


def test_check_of_a_shared_graph_agrees_with_an_independent_chain_rule():
    k = 30
    report = symgrad.check(chain(k), points=3)
    assert report.ok, str(report)
    assert len(report.points) == 3 and report.rows[0].symbolic is None
    f = symgrad.compile(chain(k))
    for point in report.points:
        expected = reference_gradient_of_chain(k, point["x"])
        assert f.value_and_grad(**point)[1]["x"] == pytest.approx(expected, rel=1e-9)


def test_check_of_a_shared_graph_still_finds_a_wrong_rule(wrong_rule):
    wrong_rule("sin", "cos(x) + 0.001")
    report = symgrad.check(chain(12), points=2, symbolic=False)
    assert not report.ok
    assert "sympy" in str(report) and "sin" in report.rules


def test_latex_of_a_shared_graph_names_its_intermediate_values():
    latex = symgrad.compile(chain(10))._repr_latex_()
    assert "t_{1} &= " in latex and "\\frac{\\partial a}{\\partial x} &= " in latex
    assert len(latex) < 20_000


def test_cli_simplify_and_check_of_a_shared_graph(capsys):
    status = cli.main([chain(12), "--simplify", "--check"])
    out = capsys.readouterr().out
    assert status == 0
    assert "∂/∂x: not simplified: too large or deep for SymPy" in out
    assert "all gradients agree" in out


# Depth ---------------------------------------------------------------------------------


def test_check_at_150_nested_tanh_has_no_recursion_error():
    report = symgrad.check(nested("tanh", 150), points=1)
    assert report.ok, str(report)


def test_check_at_150_nested_tanh_still_finds_a_wrong_rule(wrong_rule):
    wrong_rule("tanh", "1 - out")
    report = symgrad.check(nested("tanh", 150), points=1, symbolic=False)
    assert not report.ok and "MISMATCH" in str(report)


@pytest.mark.parametrize("options, depth", [(["--check"], 150), (["--simplify"], 200),
                                            (["--json", "--simplify"], 200)])
def test_cli_at_deep_nesting_answers_without_a_traceback(options, depth, capsys):
    status = cli.main([nested("tanh", depth), *options])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "error" not in captured.err.replace("rel. error", "")


def test_latex_at_150_nested_tanh():
    latex = symgrad.compile(nested("tanh", 150))._repr_latex_()
    assert "too long to typeset" in latex


# The time budget of simplify ----------------------------------------------------------


def test_simplify_within_stops_a_slow_simplify_and_its_process():
    x = sympy.Symbol("x", real=True)
    slow = x
    for _ in range(40):
        slow = sympy.tanh(slow)
    quick = x * 2 / x
    # 5 s: room for a spawned child to start (it is, once JAX has threads in this process).
    assert simplify_within([quick, sympy.diff(slow, x)], 5) == [2, None]
    assert multiprocessing.active_children() == []


def test_check_reports_a_simplify_that_ran_out_of_time():
    report = symgrad.check("sigmoid(x)*y", points=2, simplify_seconds=0)
    assert report.ok
    unproven = [row for row in report.rows if row.notes]
    assert unproven and all(row.symbolic is None for row in unproven)
    assert unproven[0].notes == ["simplify gave no answer within 0 s: numbers only"]


def test_cli_simplify_shows_the_unsimplified_result_when_out_of_time(monkeypatch, capsys):
    from symgrad.core import simplify_budget

    monkeypatch.setattr(simplify_budget, "SIMPLIFY_SECONDS", 0)
    assert cli.main(["x*exp(x)", "--simplify"]) == 0
    out = capsys.readouterr().out
    text = out.split("simplified by SymPy:\n  ∂/∂x = ")[1].splitlines()
    x = sympy.Symbol("x", real=True)
    assert sympy.simplify(sympy.parse_expr(text[0], {"x": x}) - (x + 1) * sympy.exp(x)) == 0
    assert text[1] == "    (not simplified within 0 s)"


# Kinks ---------------------------------------------------------------------------------


def test_a_point_on_a_kink_is_reported_with_the_table_convention_not_as_a_mismatch():
    report = symgrad.check("relu(x - 1)*y", points=1, at={"x": 1.0, "y": 2.0})
    assert report.ok, str(report)
    assert "at x=1, y=2, at a kink of relu: symgrad's convention relu'(0) = 0" in str(report)


def test_no_kink_note_off_the_kink():
    report = symgrad.check("relu(x - 1)*y", points=1, at={"x": 1.5, "y": 2.0})
    assert report.ok and "kink" not in str(report)


# Progress ------------------------------------------------------------------------------


class FakeBar:
    made = []

    def __init__(self, total, **options):
        self.total, self.options, self.done = total, options, 0
        FakeBar.made.append(self)

    def update(self, n=1):
        self.done += n

    def close(self):
        self.closed = True


class Terminal:
    def __init__(self, tty):
        self.tty = tty

    def isatty(self):
        return self.tty

    def write(self, text):
        return len(text)

    def flush(self):
        pass


@pytest.mark.parametrize("tty", [True, False])
def test_progress_only_on_a_terminal(monkeypatch, tty):
    FakeBar.made = []
    monkeypatch.setitem(sys.modules, "tqdm", types.SimpleNamespace(tqdm=FakeBar))
    monkeypatch.setattr(sys, "stderr", Terminal(tty))
    assert symgrad.check("x*y", points=2, symbolic=False).ok
    if tty:
        (bar,) = FakeBar.made
        assert bar.total == bar.done == 4 and bar.closed and bar.options["file"] is sys.stderr
    else:
        assert FakeBar.made == []


def test_progress_without_tqdm(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm raises ImportError
    monkeypatch.setattr(sys, "stderr", Terminal(True))
    assert symgrad.check("x*y", points=2, symbolic=False).ok


# Copies of deep graphs -------------------------------------------------------------------


def deep_value(depth=5000):
    x = Value(0.5, label="x")
    v = x
    for _ in range(depth):
        v = v.tanh()
    out = v * x + 2
    out.label = "out"
    out.backward()
    return x, out


@pytest.mark.parametrize("duplicate", [copy.deepcopy, lambda v: pickle.loads(pickle.dumps(v))],
                         ids=["deepcopy", "pickle"])
def test_a_value_5000_deep_copies_with_its_data_grads_labels_and_sharing(duplicate):
    x, out = deep_value()
    twin = duplicate(out)
    original, copied = engine.topological_order(out), engine.topological_order(twin)
    assert len(copied) == len(original)  # x is one Value, used twice, in the copy too
    assert not set(map(id, copied)) & set(map(id, original))
    for a, b in zip(original, copied):
        assert (b.data, b.grad, b.label, b._op, type(b)) == (a.data, a.grad, a.label, a._op, type(a))
    x_copy = copied[0]
    assert x_copy.label == "x" and twin._prev[0]._prev[1] is x_copy
    # The copy still differentiates: d/dx (tanh^5000(x)*x + 2) by finite differences.
    for value in copied:
        value.grad = 0.0
    twin.backward()
    h = 1e-6

    def f(x0):
        v = x0
        for _ in range(5000):
            v = math.tanh(v)
        return v * x0 + 2

    assert x_copy.grad == pytest.approx((f(0.5 + h) - f(0.5 - h)) / (2 * h), rel=1e-6)


def test_deepcopy_of_values_keeps_sharing_between_them():
    a = Value(1.0, label="a")
    b, c = a * 2, a + 1
    b2, c2 = copy.deepcopy([b, c])
    assert b2._prev[0] is c2._prev[0] and b2._prev[0] is not a


@pytest.mark.parametrize("rows", [
    (),
    ((False, 1.0, 0.0, "", "+", (3,), None),),
    ((False, 1.0, 0.0, "", "", (), ("tanh", (0,))),),
    ((False, "1", 0.0, "", "", (), None),),
    [(False, 1.0, 0.0, "", "", (), None)],
])
def test_tampered_value_rows_are_refused(rows):
    with pytest.raises(GraphError):
        engine._from_rows(rows)


@pytest.mark.parametrize("duplicate", [copy.deepcopy, lambda e: pickle.loads(pickle.dumps(e))],
                         ids=["deepcopy", "pickle"])
def test_an_expression_5000_deep_copies(duplicate):
    node = ir.var("x")
    for _ in range(5000):
        node = ir.apply("tanh", node)
    expression = Expression(node)
    assert duplicate(expression) == expression
