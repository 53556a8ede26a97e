"""The tape backend runs the program's steps as instructions: same numbers, same errors."""

import pytest

import symgrad
import symgrad.compiled
from cases import CORPUS
from conftest import FIRST_CALL_ON_TAPE
from symgrad.backends import python
from symgrad.core import ir, program

POINT = {"x": 0.7, "y": 1.3, "z": -0.4}


@pytest.mark.parametrize("text, note", CORPUS, ids=[note for _, note in CORPUS])
def test_the_tape_gives_the_python_backends_numbers(text, note):
    f, g = symgrad.compile(text), symgrad.compile(text, backend="tape")
    point = {name: POINT.get(name, 0.9) for name in f.variables}
    try:
        expected = f.value_and_grad(**point)
    except symgrad.EvaluationError as error:
        with pytest.raises(symgrad.EvaluationError) as caught:
            g.value_and_grad(**point)
        assert str(caught.value) == str(error)
        return
    # Bit for bit: the Python backend answers a large program's first call on the tape.
    assert g.value_and_grad(**point) == expected
    assert g(**point) == expected[0]


def _layers(count):
    h = ir.var("x")
    for i in range(count):
        h = ir.apply("tanh", ir.apply("add", ir.apply("mul", h, ir.var(f"w{i % 3}")),
                                      ir.var(f"b{i % 3}")))
    return symgrad.Expression(h)


def test_beyond_the_code_cap_the_error_names_the_tape_and_the_tape_runs(monkeypatch):
    monkeypatch.setattr(program, "MAX_OPERATIONS", 300)
    expression = _layers(200)  # 600 operations
    with pytest.raises(symgrad.TooLargeError, match="backend='tape'"):
        symgrad.compile(expression)
    small = symgrad.compile(_layers(90))  # under the cap: the reference
    tape = symgrad.compile(expression, backend="tape")
    point = {name: 0.3 for name in tape.variables}
    value, grads = tape.value_and_grad(**point)
    assert "600 forward" in tape.source and "nothing is compiled" in tape.source
    # 200 layers of tanh(h*w + b) settle on the same fixed point as 90 layers do.
    assert value == pytest.approx(small.value_and_grad(**point)[0], rel=1e-9)
    assert set(grads) == set(tape.variables)


def _mixed_layers(count):
    """``count`` layers cycling through tanh, sin, exp and a quotient: a compact program."""
    x, h = ir.var("x"), ir.var("x")
    for i in range(count):
        w, b = ir.var(f"w{i % 3}"), ir.var(f"b{i % 3}")
        pre = ir.apply("add", ir.apply("mul", h, w), b)
        h = [ir.apply("tanh", pre), ir.apply("sin", pre),
             ir.apply("exp", ir.apply("neg", ir.apply("mul", pre, pre))),
             ir.apply("div", pre, ir.apply("add", ir.const(1.0), ir.apply("mul", x, x)))][i % 4]
    return symgrad.Expression(h)


@pytest.fixture
def emits(monkeypatch):
    """The kinds the Python backend printed, in order; first calls as users get them."""
    monkeypatch.setattr(symgrad.compiled, "FIRST_CALL_ON_TAPE", FIRST_CALL_ON_TAPE)
    printed, emit = [], python.BACKEND.emit
    monkeypatch.setattr(python.BACKEND, "emit",
                        lambda program, kind="value_and_grad": printed.append(kind)
                        or emit(program, kind))
    return printed


def test_a_large_programs_first_call_runs_on_the_tape_then_on_its_compact_code(emits):
    expression = _mixed_layers(5_800)  # 20,302 operations: compact code
    f = symgrad.compile(expression)
    assert len(f.program.forward) >= symgrad.compiled.FIRST_CALL_ON_TAPE
    point = {name: 0.3 + 0.1 * number for number, name in enumerate(f.variables)}
    first = f.value_and_grad(**point)
    assert emits == []  # answered without printing or compiling anything
    second = f.value_and_grad(**point)
    assert emits == ["value_and_grad"] and "compact" in f.source
    assert second == first  # the compact code and the tape agree to the last bit
    assert f.value_and_grad(**point) == first and emits == ["value_and_grad"]
    assert f(**point) == first[0] and emits == ["value_and_grad"]
    assert f(**point) == first[0] and emits == ["value_and_grad", "value"]


def test_a_small_programs_first_call_runs_its_code(emits):
    f = symgrad.compile("tanh(x*w + b)")
    f.value_and_grad(x=0.5, w=-1.0, b=0.25)
    assert emits == ["value_and_grad"]


def test_a_first_call_on_the_tape_fails_as_the_code_does(emits):
    terms = " + ".join(f"x*{k}" for k in range(1, 601))  # 1,200 operations
    f = symgrad.compile(f"{terms} + log(y)")
    with pytest.raises(symgrad.EvaluationError) as on_tape:
        f.value_and_grad(x=1.0, y=-2.0)
    assert emits == []
    with pytest.raises(symgrad.EvaluationError) as in_code:
        f.value_and_grad(x=1.0, y=-2.0)
    assert emits == ["value_and_grad"]
    assert "log(y)" in str(on_tape.value) and str(on_tape.value) == str(in_code.value)
    assert f.value_and_grad(x=1.0, y=2.0)[1]["x"] == 180_300.0
