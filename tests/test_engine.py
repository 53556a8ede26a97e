"""symgrad's Value: micrograd's behaviour, table-driven partials, no recursion, no cycles."""

import gc
import math
import weakref

import pytest

import symgrad
from symgrad.micrograd.engine import Value, topological_order
from symgrad.core.errors import EvaluationError
from symgrad.core.ops import OPS


def test_value_is_importable_from_the_package():
    assert symgrad.Value is Value


def test_micrograd_sanity_check_matches_torch_numbers():
    # The numbers are PyTorch's, from micrograd's own test suite.
    x = Value(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    assert y.data == pytest.approx(-20.0)
    assert x.grad == pytest.approx(46.0)


def test_micrograd_more_ops_match_torch_numbers():
    a, b = Value(-4.0), Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert g.data == pytest.approx(24.70408163265306, rel=1e-12)
    assert a.grad == pytest.approx(138.83381924198252, rel=1e-12)
    assert b.grad == pytest.approx(645.5772594752186, rel=1e-12)


def _central_difference(function, point, index, h=1e-6):
    up, down = list(point), list(point)
    up[index] += h
    down[index] -= h
    return (function(*up) - function(*down)) / (2 * h)


@pytest.mark.parametrize("op_name", [name for name, op in OPS.items() if not op.internal])
def test_every_operator_gradient_agrees_with_finite_differences(op_name):
    op = OPS[op_name]
    point = [0.3 * low + 0.7 * high for low, high in op.domain]

    def forward(*numbers):
        return _call(op_name, *numbers)

    values = [Value(x) for x in point]
    out = _call(op_name, *values)
    out.backward()
    assert out.data == pytest.approx(forward(*point), rel=1e-12)
    for index, value in enumerate(values):
        expected = _central_difference(lambda *p: forward(*p), point, index)
        assert value.grad == pytest.approx(expected, rel=1e-6, abs=1e-8)


def _call(op_name, *operands):
    op = OPS[op_name]
    if isinstance(operands[0], Value):
        method = f"__{op.dunder}__" if op.dunder else op_name
        return getattr(operands[0], method)(*operands[1:])
    import symgrad.core.runtime as runtime

    return runtime.scalar_function(op_name)(*operands)


def test_numbers_on_either_side_and_value_to_a_value_power():
    x, y = Value(3.0), Value(2.0)
    out = 2 ** x + 1 / y - (5 - x) + x**y
    out.backward()
    assert out.data == pytest.approx(8 + 0.5 - 2 + 9)
    assert x.grad == pytest.approx(8 * math.log(2) + 1 + 2 * 3)
    assert y.grad == pytest.approx(-0.25 + 9 * math.log(3))


def test_fan_out_accumulates_and_gradients_add_up_across_backward_calls():
    a = Value(3.0)
    b = a + a
    b.backward()
    assert a.grad == 2.0
    b.backward()
    assert a.grad == 4.0  # micrograd's semantics: call zero_grad between steps


def test_children_are_ordered_tuples_and_ops_are_named():
    a, b = Value(1.0), Value(2.0)
    c = a - b
    assert c._prev == (a, b) and c._op == "-"
    assert (b - a)._prev == (b, a)
    assert a.tanh()._op == "tanh"
    assert "Value(data=" in repr(c)


def test_a_graph_100000_deep_backpropagates_without_recursion():
    leaf = Value(0.5)
    out = leaf
    for _ in range(100_000):
        out = -out
    out.backward()
    assert leaf.grad == 1.0
    assert len(topological_order(out)) == 100_001


def test_a_graph_is_freed_without_the_cyclic_collector():
    gc.disable()
    try:
        a = Value(2.0)
        out = (a * a + 1).tanh()
        out.backward()
        probe = weakref.ref(out)
        del out
        assert probe() is None  # reference counting alone freed it: no cycles
    finally:
        gc.enable()


def test_undefined_values_and_gradients_raise_clear_errors():
    with pytest.raises(EvaluationError, match="log"):
        Value(-1.0).log()
    with pytest.raises(EvaluationError, match="div"):
        Value(1.0) / 0
    base = Value(-2.0)
    out = base ** Value(2.0)
    assert out.data == 4.0
    with pytest.raises(EvaluationError, match="gradient"):
        out.backward()
    (Value(-2.0) ** 2).backward()  # a constant exponent needs no log(x)


def test_unsupported_operands_are_refused():
    with pytest.raises(TypeError):
        Value(1.0) + "a"


def test_to_expression_names_leaves_by_label_and_compiles():
    a, b, c, f = (Value(v, label=n) for v, n in [(2, "a"), (-3, "b"), (10, "c"), (-2, "f")])
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    L = d * f
    L.backward()
    expression = L.to_expression()
    assert str(expression) == "e = a*b; d = e + c; d*f"
    value, grads = symgrad.compile(expression).value_and_grad(a=2, b=-3, c=10, f=-2)
    assert value == L.data
    assert grads == {"a": a.grad, "b": b.grad, "c": c.grad, "f": f.grad}
    assert symgrad.check(expression).ok


def test_to_expression_invents_names_and_keeps_constants():
    x, y = Value(1.0), Value(2.0, label="1bad")
    expression = (x * 3 + y).to_expression()
    assert str(expression) == "v1*3 + v2"
    assert expression.variables == ("v1", "v2")


# micrograd compatibility where a learner sees it -------------------------------------


def _neuron_derivatives():
    """d tanh(x1*w1 + x2*w2 + b) per input, at the lecture's point, from SymPy."""
    import sympy

    x1, w1, x2, w2, b = sympy.symbols("x1 w1 x2 w2 b")
    o = sympy.tanh(x1 * w1 + x2 * w2 + b)
    point = {x1: 2, w1: -3, x2: 0, w2: 1, b: sympy.Float("6.8813735870195432", 30)}
    return {str(s): float(sympy.diff(o, s).subs(point)) for s in (x1, w1, x2, w2, b)}


def test_backward_by_hand_node_by_node_as_in_the_lecture():
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1, x2w2 = x1 * w1, x2 * w2
    x1w1x2w2 = x1w1 + x2w2
    n = x1w1x2w2 + b
    o = n.tanh()
    o.grad = 1.0
    o._backward()
    assert n.grad == pytest.approx(0.5) and x1.grad == 0  # one node at a time
    n._backward()
    b._backward()  # a leaf: nothing to pass on
    x1w1x2w2._backward()
    x2w2._backward()
    x1w1._backward()
    expected = _neuron_derivatives()
    for value in (x1, w1, x2, w2, b):
        assert value.grad == pytest.approx(expected[value.label], rel=1e-12, abs=1e-15)
    assert (x1.grad, w1.grad, x2.grad, w2.grad) == pytest.approx((-1.5, 1.0, 0.5, 0.0))


def test_backward_assigned_as_a_closure_is_what_the_lecture_writes_for_a_new_op():
    x = Value(0.5)
    out = Value(x.data**3, (x,), "cube")

    def _backward():
        x.grad += 3 * x.data**2 * out.grad
    out._backward = _backward
    (out * 2.0).backward()
    assert x.grad == pytest.approx(2 * 3 * 0.25)


@pytest.mark.parametrize("build, label", [
    (lambda a, b: a + b, "+"), (lambda a, b: a * b, "*"), (lambda a, b: a.relu(), "ReLU"),
    (lambda a, b: a.tanh(), "tanh"), (lambda a, b: a.exp(), "exp"),
    (lambda a, b: a**2, "**2"), (lambda a, b: a**-1, "**-1"), (lambda a, b: a**0.5, "**0.5"),
    (lambda a, b: a**b, "**"), (lambda a, b: a - b, "-"), (lambda a, b: -a, "-"),
    (lambda a, b: a / b, "/"),
])
def test_op_labels_are_micrograds(build, label):
    # micrograd's engine.py writes '+', '*', f'**{other}' and 'ReLU'; the lecture 'tanh', 'exp'.
    assert build(Value(2.0), Value(3.0))._op == label


def test_values_print_as_micrograd_prints_them():
    assert repr(Value(0)) == "Value(data=0, grad=0)"
    assert repr(Value(2.5)) == "Value(data=2.5, grad=0)"
    assert Value(2.0)._backward() is None  # a leaf's _backward, as micrograd's lambda: None
    with pytest.raises(TypeError, match="number"):
        Value("3")


def test_numbers_that_meet_a_value_get_gradients_as_in_micrograd():
    x = Value(1.0)
    y = (x * 2 + 1).relu()  # micrograd's trace_graph notebook
    y.backward()
    product, one = y._prev[0]._prev
    two = product._prev[1]
    assert (x.grad, two.grad, one.grad) == (2.0, 1.0, 1.0)  # d/dx (2x + 1), x*1, 1
    assert two.data == 2 and isinstance(two, Value)


def test_the_exponent_of_a_power_by_a_number_takes_no_gradient():
    x = Value(-2.0)
    y = x**3
    y.backward()  # d/d(exponent) would need log(-2)
    assert x.grad == pytest.approx(12.0) and y._prev[1].grad == 0


def test_a_drawing_gives_numbers_their_gradient_and_compiling_keeps_them_constants():
    from symgrad.views.notebook import graph_dot, subject

    x = Value(1.0, label="x")
    y = (x * 2 + 1).relu()
    dot = graph_dot(subject(y))
    assert "{ v1 | data 2 | grad 1 }" in dot and "{ x | data 1 | grad 2 }" in dot
    assert str(y.to_expression()) == "relu(x*2 + 1)"
    assert symgrad.compile(y.to_expression()).variables == ("x",)
    # An exponent stays a constant in the drawing too: d/d(exponent) needs log(-2).
    square = Value(-2.0, label="x") ** 2
    assert "{ x | data -2 | grad -4 }" in graph_dot(subject(square))
    assert subject(square).program.variables == ("x",)


@pytest.mark.parametrize("build, text", [
    (lambda a, b: (a - b).relu(), "relu(a - b)"), (lambda a, b: -a * b**2, "-a*b**2"),
    (lambda a, b: (a / b).tanh() ** b, "tanh(a/b)**b"), (lambda a, b: a.atan2(b), "atan2(a, b)"),
    (lambda a, b: abs(a).exp() + 2 ** b, "exp(abs(a)) + 2**b"),
])
def test_graphs_still_become_expressions_after_the_label_change(build, text):
    out = build(Value(1.5, label="a"), Value(0.5, label="b"))
    assert str(out.to_expression()) == text


def test_a_hand_made_value_of_an_unknown_op_is_refused_when_compiled():
    from symgrad.core.errors import GraphError

    x = Value(0.5, label="x")
    with pytest.raises(GraphError, match="'cube'"):
        Value(0.125, (x,), "cube").to_expression()
    assert str(Value(0.4621, (x,), "tanh").to_expression()) == "tanh(x)"  # the lecture's own


def test_an_overflow_is_called_one_as_on_the_compiled_path():
    """Value(1000.0).exp() said "is undefined: math range error"."""
    with pytest.raises(symgrad.EvaluationError, match=r"^exp\(1000\.0\) overflows$"):
        Value(1000.0).exp()
    with pytest.raises(symgrad.EvaluationError, match=r"log\(-1\.0\) is undefined: math domain"):
        Value(-1.0).log()


def test_two_values_cannot_share_an_input_name():
    """{x: 'a', y: 'a'} compiled x*y as a*a: 4.0 where the engine says 6.0."""
    from symgrad.tracing import trace

    x, y = Value(2.0), Value(3.0)
    with pytest.raises(symgrad.GraphError, match="two values are named 'a'"):
        (x * y).to_expression({x: "a", y: "a"})
    with pytest.raises(symgrad.GraphError, match="two values are named 'w'"):
        trace(lambda w: w * x, values={x: "w"})  # a parameter's name
    with pytest.raises(symgrad.GraphError, match="numbers must be 'constants' or 'inputs'"):
        (x * y).to_expression(numbers="bogus")
    assert str(trace(lambda w: w * x, values={x: "p"})) == "w*p"


def test_control_flow_on_a_traced_input_is_refused():
    """`a if a else b` traced to a: compiled at a = 0 it gave 0, Python gives b."""
    from symgrad.tracing import trace

    with pytest.raises(TypeError, match="a traced input has no value yet"):
        trace(lambda a, b: a if a else b)


def test_the_submodules_are_attributes_of_the_package():
    """docs/how-to/train.md writes symgrad.tracing.trace after import symgrad."""
    import symgrad as package

    assert package.tracing.trace and package.losses.compile_loss and package.nn.MLP


def test_a_graph_with_a_hand_set_backward_is_not_copied():
    """The copy kept the original's _backward closure: its backward() moved the original's
    gradients, and the copy's x got 0."""
    import copy

    x = Value(0.5)
    out = Value(math.tanh(x.data), (x,), "tanh")

    def backward():
        x.grad += (1 - out.data**2) * out.grad

    out._backward = backward
    with pytest.raises(symgrad.GraphError, match="set by hand cannot be copied"):
        copy.deepcopy(out)


def test_a_pickle_is_refused_when_written_if_it_could_not_be_read(monkeypatch):
    """300,001 additions pickled to 16.7 MB that unpickling then refused."""
    import pickle

    from symgrad.core import ir

    monkeypatch.setattr(ir, "MAX_OPERATIONS", 10)
    y = Value(1.0)
    for _ in range(11):
        y = y + 1.0
    with pytest.raises(symgrad.TooLargeError, match="a pickle holds at most 21"):
        pickle.dumps(y)


def test_trace_says_it_passes_inputs_by_position():
    from symgrad.tracing import trace

    with pytest.raises(TypeError, match="passes its inputs by position"):
        trace(lambda x, *, y=2.0: x * y)
    assert str(trace(lambda x, y=2.0: x * y)) == "x*y"
