"""The tape backend runs the program's steps as instructions: same numbers, same errors."""

import pytest

import symgrad
from cases import CORPUS
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
    value, grads = g.value_and_grad(**point)
    assert value == pytest.approx(expected[0], rel=1e-15, abs=1e-300)
    assert grads == pytest.approx(expected[1], rel=1e-15, abs=1e-300)
    assert g(**point) == pytest.approx(expected[0], rel=1e-15, abs=1e-300)


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
