"""Compiled functions survive pickling, threads, long use and oversized programs.

``SYMGRAD_SOAK_CALLS=1000000 pytest tests/test_robustness.py`` runs the long soak.
"""

import gc
import linecache
import math
import os
import pickle
import sys
import threading

import pytest

import symgrad
from symgrad.core import ir

SOAK_CALLS = int(os.environ.get("SYMGRAD_SOAK_CALLS", "100000"))
PROGRAM = "n = x*w + b\no = tanh(n)\no*lambda"


def test_pickled_function_regenerates_the_same_code_and_numbers():
    f = symgrad.compile(PROGRAM, wrt=["w", "lambda"])
    g = pickle.loads(pickle.dumps(f))
    assert g.source == f.source and g.wrt == f.wrt and g.variables == f.variables
    point = dict(x=0.5, w=-1.5, b=0.25)
    point["lambda"] = 2.0
    assert g.value_and_grad(**point) == f.value_and_grad(**point)
    assert str(g.expression) == str(f.expression)


def test_function_built_from_ir_pickles():
    x, y = ir.var("x"), ir.var("y")
    f = symgrad.compile(symgrad.Expression(ir.apply("mul", ir.apply("sin", x), y)))
    g = pickle.loads(pickle.dumps(f, protocol=pickle.HIGHEST_PROTOCOL))
    assert g.source == f.source
    assert g(x=1.0, y=2.0) == pytest.approx(2 * math.sin(1.0), rel=1e-15)


def test_tampered_pickle_rows_are_refused():
    from symgrad.core.gate import from_rows

    with pytest.raises(symgrad.GraphError, match="not a symgrad graph row"):
        from_rows([("var", (), "x"), ("__import__", (0,), None)])


def test_deep_graph_pickles_without_recursion():
    f = symgrad.compile("sin(" * 5_000 + "x" + ")" * 5_000)
    g = pickle.loads(pickle.dumps(f))
    assert g.value_and_grad(x=0.5) == f.value_and_grad(x=0.5)


def test_one_function_used_from_several_threads_at_once():
    f = symgrad.compile(PROGRAM)
    expected = {i: f.value_and_grad(i / 10, 0.3, -0.2, 1.5) for i in range(8)}
    failures = []

    def work(i):
        for _ in range(2_000):
            if f.value_and_grad(i / 10, 0.3, -0.2, 1.5) != expected[i]:
                failures.append(i)
        f.batch(x=[i / 10], w=0.3, b=-0.2, **{"lambda": 1.5})  # lazily compiled, racing

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_many_calls_do_not_grow_memory():
    f = symgrad.compile(PROGRAM)
    for _ in range(1_000):  # warm up caches and free lists
        f(0.1, 0.2, 0.3, 0.4), f.value_and_grad(0.1, 0.2, 0.3, 0.4)
    gc.collect()
    before = sys.getallocatedblocks()
    for i in range(SOAK_CALLS // 2):
        f(0.1, 0.2, i * 1e-6, 0.4)
        f.value_and_grad(0.1, 0.2, i * 1e-6, 0.4)
    gc.collect()
    assert sys.getallocatedblocks() - before < 200


def test_compiling_and_dropping_functions_leaves_no_linecache_entries():
    before = {k for k in linecache.cache if k.startswith("<symgrad")}
    for i in range(300):
        f = symgrad.compile(f"tanh(x*{i} + y)")
        f(1.0, 2.0), f.batch(x=[1.0], y=2.0)
        del f
    gc.collect()
    assert {k for k in linecache.cache if k.startswith("<symgrad")} <= before


def test_errors_at_many_points_do_not_grow_memory():
    f = symgrad.compile("log(x - y)")
    for _ in range(100):
        with pytest.raises(symgrad.EvaluationError):
            f(1.0, 2.0)
    gc.collect()
    before = sys.getallocatedblocks()
    for _ in range(2_000):
        with pytest.raises(symgrad.EvaluationError):
            f(1.0, 2.0)
    gc.collect()
    assert sys.getallocatedblocks() - before < 200


def test_a_million_node_program_is_refused_quickly_and_clearly():
    text = " + ".join(f"x{i % 100}" for i in range(1_000_000))
    with pytest.raises(symgrad.TooLargeError, match="split it into smaller programs"):
        symgrad.compile(text)


def test_a_graph_beyond_the_operation_limit_is_refused_before_code_is_built(monkeypatch):
    from symgrad.core import program

    monkeypatch.setattr(program, "MAX_OPERATIONS", 1_000)
    with pytest.raises(symgrad.TooLargeError, match="1,001 operations"):
        symgrad.compile(" + ".join(["x"] * 1_002))
