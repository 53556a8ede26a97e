"""The Program at the centre: its steps, its one evaluator, the gate in front of it.

Each test here failed before the Program existed: views rebuilt their own
schedule (wrong edges under ``wrt``), names reached generated code unchecked
(pickles, traces, ``Expression(...)``), and interning raced across threads.
"""

import math
import pickle
import re
import sys
import threading

import pytest
import sympy

import symgrad
from symgrad.compiled import _rebuild
from symgrad.core import ir
from symgrad.core.expression import to_plain
from symgrad.core.ops import OPS
from symgrad.core.runtime import PYTHON_GLOBALS
from symgrad.micrograd.engine import Value
from symgrad.tracing import trace
from symgrad.views import draw

NEURON = "n = x1*w1 + x2*w2 + b; o = tanh(n); o"


def test_steps_carry_operator_names_rule_and_local_derivative():
    program = symgrad.compile("tanh(a*b + c)").program
    assert [(s.name, s.op.name) for s in program.forward] == [
        ("t1", "mul"), ("t2", "add"), ("out", "tanh")]
    first = program.backward[0]
    assert (first.target, first.upstream, first.first) == ("grad_t2", "grad_out", True)
    assert program.local_text(first) == "1 - out**2"
    assert first.op.rule == "d/dx tanh(x) = 1 - tanh(x)**2"
    assert program.statement(first.node) == "out = tanh(t2)"
    assert [s.target for s in program.backward] == [
        "grad_t2", "grad_t1", "grad_c", "grad_a", "grad_b"]


def test_the_one_evaluator_agrees_with_sympy_at_every_node():
    program = symgrad.compile(NEURON).program
    point = dict(x1=2.0, w1=-3.0, x2=0.0, w2=1.0, b=6.8813735870195432)
    numbers = program.evaluate(point)
    symbols = {name: sympy.Symbol(name) for name in point}
    o = sympy.tanh(symbols["x1"] * symbols["w1"] + symbols["x2"] * symbols["w2"] + symbols["b"])
    at = {symbols[name]: x for name, x in point.items()}
    for name, symbol in symbols.items():
        expected = float(sympy.diff(o, symbol).subs(at))
        assert numbers.grads.get(ir.var(name), 0.0) == pytest.approx(expected, abs=1e-12)
    assert numbers.values[program.root] == pytest.approx(math.sqrt(0.5), rel=1e-12)


def test_evaluate_names_the_failing_step_and_keeps_what_it_computed():
    program = symgrad.compile("n = a - b; log(n)").program
    with pytest.raises(symgrad.EvaluationError, match=r"log\(n\) is undefined") as caught:
        program.evaluate({"a": 1.0, "b": 2.0})
    assert caught.value.trace.values[ir.var("a")] == 1.0  # the numbers before the failure


def test_a_program_is_immutable():
    program = symgrad.compile("a*b").program
    with pytest.raises(AttributeError):
        program.wrt = ("a",)
    with pytest.raises(TypeError):
        program.names[ir.var("a")] = "evil"


def test_drawing_a_function_of_one_wrt_input_draws_its_one_backward_step():
    f = symgrad.compile("a*b + c", wrt=["c"])
    dot = draw.to_dot(f, backward=True)
    assert dot.count("style=dashed") == len(f.program.backward) == 1


def test_every_view_uses_the_compiled_functions_program():
    f = symgrad.compile("x*y", wrt=["y"])
    f.value_and_grad(x=3.0, y=4.0)
    from symgrad.views import notebook

    shown = notebook.subject(f)
    assert shown.program is f.program


# The gate -----------------------------------------------------------------------------

PLANTED = "__import__('os').system('echo pwned')"


def _tampered(text, edit):
    plain = list(to_plain(symgrad.parse(text)))
    edit(plain)
    return tuple(plain)


def _rename(plain, old, new):
    plain[0] = [(op, args, new if value == old else value) for op, args, value in plain[0]]
    plain[2] = tuple(new if name == old else name for name in plain[2])


TAMPERINGS = {
    "a variable named with Python code": lambda p: _rename(p, "x", "z=" + PLANTED),
    "an extra variable holding Python code": lambda p: p.__setitem__(2, (*p[2], PLANTED)),
    "an operand index out of range": lambda p: p[0].__setitem__(2, ("mul", (0, 9), None)),
    "a negative operand index": lambda p: p[0].__setitem__(2, ("mul", (0, -1), None)),
    "empty rows": lambda p: p.__setitem__(0, []),
    "a duplicated variable": lambda p: p.__setitem__(2, (*p[2], p[2][0])),
    "a nan constant": lambda p: p[0].__setitem__(1, ("const", (), float("nan"))),
    "an integer beyond the floats": lambda p: p[0].__setitem__(1, ("const", (), 10**400)),
    "an unknown operator": lambda p: p[0].__setitem__(2, ("__import__", (0,), None)),
    "a wrong arity": lambda p: p[0].__setitem__(2, ("mul", (0,), None)),
    "a root out of range": lambda p: p.__setitem__(1, 99),
    "a label with Python code": lambda p: p.__setitem__(3, [(2, PLANTED)]),
    "rows that are not rows": lambda p: p.__setitem__(0, "print(1)"),
    "a variable list that is a string": lambda p: p.__setitem__(2, "x"),
}


@pytest.mark.parametrize("what", sorted(TAMPERINGS))
def test_tampered_pickles_are_refused_by_the_gate(what, capfd):
    plain = _tampered("k = x*2 + y; k", TAMPERINGS[what])
    with pytest.raises(symgrad.SymgradError):
        _rebuild(plain, None)
    assert "pwned" not in capfd.readouterr().out


def test_a_pickle_round_trip_goes_through_the_gate():
    f = symgrad.compile("k = x*2 + y; sin(k)", wrt=["x"])
    g = pickle.loads(pickle.dumps(f))
    assert g.source == f.source and g.wrt == ("x",)
    assert pickle.loads(pickle.dumps(f.expression)) == f.expression


@pytest.mark.parametrize("name", [PLANTED, "b=1", "", "1x", "é", "a b", None, 3])
def test_hostile_names_are_refused_everywhere_they_can_enter(name):
    with pytest.raises(symgrad.SymgradError):
        trace(lambda a, b: a * b, "a", name)
    with pytest.raises(symgrad.SymgradError):
        symgrad.Expression(ir.apply("mul", ir.var("a"), ir.var("b")), ["a", "b", name])
    with pytest.raises(symgrad.SymgradError):
        ir.var(name)
    with pytest.raises(symgrad.SymgradError):
        symgrad.Expression(ir.var("a"), ["a"], {ir.apply("sin", ir.var("a")): name})


def test_an_expression_must_list_every_input_of_its_graph():
    with pytest.raises(symgrad.GraphError, match="lacks"):
        symgrad.Expression(ir.apply("mul", ir.var("a"), ir.var("b")), ["a"])


def test_value_graphs_enter_through_the_gate_too():
    x = Value(2.0, label="x")
    y = (x * x).tanh()
    y.label = "not a name"  # ignored, as micrograd labels are free text
    assert symgrad.compile(y.to_expression()).variables == ("x",)


# Threads ------------------------------------------------------------------------------


def test_compiling_from_eight_threads_builds_one_node_per_name():
    rounds, errors, results = 150, [], []
    start = threading.Barrier(8)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)

    def work():
        for r in range(rounds):  # fresh names each round, all threads at once
            start.wait()
            try:
                results.append(symgrad.compile(f"a{r}*b{r} + sin(a{r}) - b{r}/c{r}"))
            except Exception as error:  # noqa: BLE001 - any error is the failure
                errors.append(error)

    try:
        threads = [threading.Thread(target=work) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert not errors, errors[:3]
    for f in results:  # every graph's variables are the one interned node per name
        for node in ir.topological_order([f.program.root]):
            if node.op == "var":
                assert node is ir.var(node.value)


def test_a_dead_entry_whose_node_was_freed_gives_way_to_a_new_node():
    # A freed node's entry lingers while its _forget waits for the lock another thread
    # holds: interning the same key then must replace it, not hand back nothing.
    key = ("var", "lingering")
    placeholder = ir.Node()
    dead = ir._Ref(placeholder, None)
    dead.key = key
    ir._NODES[key] = dead
    del placeholder
    assert dead() is None
    node = ir.var("lingering")
    assert (node.op, node.value) == ("var", "lingering")
    assert ir._NODES[key]() is node and ir.var("lingering") is node

# The table ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_name_a_python_template_calls_is_a_global_of_generated_code(name):
    template = OPS[name].python or ""
    called = set(re.findall(r"(?<![\w.])([A-Za-z_]\w*)\(", template))
    assert called <= set(PYTHON_GLOBALS), f"{name}: {called - set(PYTHON_GLOBALS)}"


def test_helper_names_used_as_variables_are_renamed():
    f = symgrad.compile("relu = x*2; sigmoid = relu + 1; relu*sigmoid")
    assert f.value_and_grad(x=1.0) == (6.0, {"x": 2 * 3 + 2 * 2})


@pytest.mark.parametrize("name", sorted(n for n, op in OPS.items()
                                        if op.arity == 2 and op.symbol is None))
def test_binary_functions_are_value_methods_with_sympys_gradients(name):
    op = OPS[name]
    a, b = [0.3 * low + 0.7 * high for low, high in op.domain]
    x, y = Value(a), Value(b)
    out = getattr(x, name)(y)
    out.backward()
    X, Y = sympy.symbols("X Y", real=True)
    formula = op.sympy(sympy, X, Y)
    at = {X: a, Y: b}
    assert out.data == pytest.approx(float(formula.subs(at)), rel=1e-12)
    assert x.grad == pytest.approx(float(sympy.diff(formula, X).subs(at)), rel=1e-12)
    assert y.grad == pytest.approx(float(sympy.diff(formula, Y).subs(at)), rel=1e-12)
    assert getattr(Value(a), name)(b).data == out.data  # a number as the other operand


def test_depth_is_the_longest_chain_of_steps_not_their_count():
    assert symgrad.compile(" + ".join(["x"] * 1000)).program.depth() == 999
    terms = [f"(x + {i})" for i in range(1, 1025)]
    while len(terms) > 1:  # a balanced tree of the same sum: 10 levels of + over x + i
        terms = [f"({a} + {b})" for a, b in zip(terms[::2], terms[1::2])]
    tree = symgrad.compile(terms[0]).program
    assert len(tree.forward) == 2047 and tree.depth() == 11
    assert symgrad.compile("tanh(a*b + c)").program.depth() == 3
    assert symgrad.compile("2*pi").program.depth() == 0  # a constant: no step at all
