"""Big programs print compact code (core/compact.py): the readable code's numbers, fewer lines.

Beyond ``COMMENTED_SIZE`` operations the printers leave comments out, write values
used once inside the line that uses them, give no line to a gradient passed through
unchanged, and add a gradient's contributions a few a line.  Here a tiny
``COMMENTED_SIZE`` makes every program compact, and the readable code of the same
program is the reference: each value is computed by the same operations on the
same operands, so the numbers must agree to the last bit.
"""

import ast

import numpy as np
import pytest

import symgrad
from cases import CORPUS, NEEDS_JAX, use_jax
from symgrad.backends import python as python_backend
from symgrad.core import compact, ir
from symgrad.core.program import Program

POINT = {"x": 0.7, "y": 1.3, "z": -0.4}
IDS = [note for _, note in CORPUS]


def point_for(f):
    return {name: POINT.get(name, 0.9) for name in f.variables}


def bits(value):
    """A float's exact bits as text: -0.0 and 0.0 differ, every nan is alike."""
    return float(value).hex()


def compiled_both_ways(monkeypatch, expression, **options):
    """(readable, compact) compiled functions of one program."""
    readable = symgrad.compile(expression, **options)
    with monkeypatch.context() as patch:
        patch.setattr(python_backend, "COMMENTED_SIZE", 0)
        compact_ = symgrad.compile(expression, **options)
        for kind in ("value_and_grad", "value"):  # printed now, while the patch holds
            compact_.artifact(kind)
    return readable, compact_


def compact_source(monkeypatch, text, kind="value_and_grad"):
    monkeypatch.setattr(python_backend, "COMMENTED_SIZE", 0)
    return python_backend.BACKEND.emit(Program(symgrad.parse(text)), kind)


@pytest.mark.parametrize("text, note", CORPUS, ids=IDS)
def test_compact_code_gives_the_readable_codes_numbers_to_the_bit(text, note, monkeypatch):
    readable, compact_ = compiled_both_ways(monkeypatch, text)
    assert "compact" in compact_.source or not compact_.program.forward
    point = point_for(readable)
    try:
        value, grads = readable.value_and_grad(**point)
    except symgrad.EvaluationError as error:
        with pytest.raises(symgrad.EvaluationError) as caught:
            compact_.value_and_grad(**point)
        assert str(caught.value) == str(error)
        return
    compact_value, compact_grads = compact_.value_and_grad(**point)
    assert bits(compact_value) == bits(value)
    assert {name: bits(g) for name, g in compact_grads.items()} == {
        name: bits(g) for name, g in grads.items()}
    assert bits(compact_(**point)) == bits(readable(**point))  # the value-only function


@pytest.mark.parametrize("text, note", CORPUS[::4], ids=IDS[::4])
def test_compact_numpy_batches_give_the_readable_batches_arrays(text, note, monkeypatch):
    readable, compact_ = compiled_both_ways(monkeypatch, text)
    inputs = {name: np.linspace(0.3, 1.7, 5) + i / 7 for i, name in enumerate(readable.variables)}
    with np.errstate(all="ignore"):
        values, grads = readable.batch(**inputs)
        with monkeypatch.context() as patch:
            patch.setattr(python_backend, "COMMENTED_SIZE", 0)
            compact_values, compact_grads = compact_.batch(**inputs)
    np.testing.assert_array_equal(compact_values, values)
    for name in grads:
        np.testing.assert_array_equal(compact_grads[name], grads[name])


@NEEDS_JAX
@pytest.mark.parametrize("text", ["tanh(a*b + c)*(a - c)", "h = x*w + b; relu(h)**2 + h",
                                  "x*y + (x + y)*z"])
def test_compact_jax_code_gives_the_readable_jax_numbers(text, monkeypatch):
    use_jax()
    readable, compact_ = compiled_both_ways(monkeypatch, text, backend="jax")
    assert "compact" in compact_.source
    point = point_for(readable)
    value, grads = readable.value_and_grad(**point)
    compact_value, compact_grads = compact_.value_and_grad(**point)
    assert compact_value == pytest.approx(value, rel=1e-12)
    assert compact_grads == pytest.approx(grads, rel=1e-12)


@pytest.mark.parametrize("text", ["tanh(x*y) + x*sin(y)", "x**3 - 2*x*y + y**2",
                                  "p = sigmoid(z); -(y*log(p) + (1 - y)*log(1 - p))"])
def test_compact_second_order_gives_the_readable_numbers(text, monkeypatch):
    readable, compact_ = compiled_both_ways(monkeypatch, text)
    point = point_for(readable)
    vector = {name: 0.3 + i / 5 for i, name in enumerate(readable.variables)}
    expected = readable.hvp(point, vector)
    with monkeypatch.context() as patch:
        patch.setattr(python_backend, "COMMENTED_SIZE", 0)
        got = compact_.hvp(point, vector)
    assert {name: bits(v) for name, v in got.items()} == {
        name: bits(v) for name, v in expected.items()}


EXAMPLES = [text for text, _ in CORPUS] + [
    "x*y + (x + y)*z", "(a + b)*c + a", "u = a + b; u*u + u", "x + sin(y)",
    "s = a + b; t = s + c; t*t + s*c + a", "sin(-tanh(x))", "-(x*y) - (y - x*z)"]


@pytest.mark.parametrize("text", EXAMPLES)
def test_a_gradient_shares_a_variable_only_when_it_gets_one_contribution_of_one(text):
    program = Program(symgrad.parse(text))
    plan = compact.compact_plan(program)
    for node, holder in plan.same_gradient.items():
        contributions = [step for step in program.backward if step.operand is node]
        assert len(contributions) == 1, program.describe(node)
        assert ir.is_const(contributions[0].local, 1)
        assert plan.gradient_holder(contributions[0].node) is holder
    for node in plan.foldable:  # written inside its one reader
        assert sum(step.operand is node for step in program.backward) == 1
        readers = [step for step in program.backward
                   if plan.gradient_holder(step.node) is node
                   and step.operand not in plan.same_gradient]
        assert len(readers) == 1, program.describe(node)
        assert node.op != "var" and node not in plan.same_gradient


@pytest.mark.parametrize("text", EXAMPLES)
def test_values_written_inside_another_line_are_used_once_and_read_by_no_gradient(text):
    program = Program(symgrad.parse(text))
    plan = compact.compact_plan(program)
    users = [arg for step in program.forward for arg in step.node.args]
    read = set()  # the named values that the local derivatives' text names
    for step in program.backward:
        parts = [step.local] if step.local in program.names else ir.topological_order(
            [step.local], program.names)
        read.update(part for part in parts if part in program.names)
    for node in plan.inlinable:
        assert users.count(node) == 1
        assert node not in read and node is not program.root and node not in program.labels


def test_an_input_with_two_contributions_keeps_its_own_sum(monkeypatch):
    # a's gradient is grad_t passed through and the outer + passed through: two
    # contributions, so neither may stand for the other.
    artifact = compact_source(monkeypatch, "(a + b)*c + a")
    f = symgrad.compile("(a + b)*c + a")
    assert python_backend.BACKEND.load(artifact, f.program, "test", f)(2.0, 3.0, 5.0) == (
        27.0, (6.0, 5.0, 5.0))
    assert "grad_a = " in artifact.source


def test_a_negated_folded_gradient_keeps_its_parentheses(monkeypatch):
    source = compact_source(monkeypatch, "sin(-tanh(x))").source
    assert "-(grad_out * math.cos(" in source


def test_lines_stay_short_on_long_chains_and_sums(monkeypatch):
    chain = "".join(f"{('sin', 'tanh', 'cos', 'exp')[i % 4]}(" for i in range(600)) + "x" + ")" * 600
    total = " + ".join(f"x{i % 7}*y" for i in range(600))
    for text in (chain, total):
        readable, compact_ = compiled_both_ways(monkeypatch, text)
        source = compact_.source
        assert source.count("\n") < readable.source.count("\n") / 2
        for statement in ast.parse(source).body[0].body:
            operations = sum(isinstance(n, (ast.BinOp, ast.UnaryOp, ast.Call))
                             for n in ast.walk(statement))
            assert operations <= 8 * compact.LINE_OPERATIONS, ast.unparse(statement)
        point = {name: 0.1 for name in readable.variables}
        value, grads = readable.value_and_grad(**point)
        assert compact_.value_and_grad(**point) == (value, grads)


def test_the_readable_form_stays_up_to_commented_size(monkeypatch):
    monkeypatch.setattr(python_backend, "COMMENTED_SIZE", 3)
    assert "compact" not in symgrad.compile("tanh(a*b + c)").source  # 3 operations
    assert symgrad.compile("exp(a)*b + c*d").source == """\
def value_and_grad(a, b, c, d):
    # forward pass (compact: a value used once is written where it is used)
    t1 = math.exp(a)
    out = t1*b + c*d
    # backward pass (compact: gradients passed through or used once get no line)
    grad_out = 1.0
    grad_c = grad_out * d
    grad_d = grad_out * c
    grad_b = grad_out * t1
    grad_a = grad_out * b * t1
    return out, (grad_a, grad_b, grad_c, grad_d)
"""
    # Values tanh could hide an overflow of keep their lines, for the guard to read.
    assert symgrad.compile("tanh(a*b + c) + d").source == """\
def value_and_grad(a, b, c, d):
    # forward pass (compact: a value used once is written where it is used)
    t1 = a*b
    t2 = t1 + c
    t3 = math.tanh(t2)
    out = t3 + d
    # an overflow that a later step hides is still an error: inf*0.0 is nan
    if t1*0.0 + t2*0.0 != 0.0:
        raise OverflowError('a value overflowed')
    # backward pass (compact: gradients passed through or used once get no line)
    grad_out = 1.0
    grad_t2 = grad_out * (1 - t3**2)
    grad_a = grad_t2 * b
    grad_b = grad_t2 * a
    return out, (grad_a, grad_b, grad_t2, grad_out)
"""
