"""The C backend's batches: vectorised, within 1e-12 of the Python backend, strict as before.

The fast build calls glibc's vector math (libmvec) where the compiler offers it,
whose functions are a few ulp from the scalar ones.  These tests compare it with
the Python backend (1e-12 relative, absolute below 1, as in test_backend_c.py)
and with the exact build (the scalar code's loop, which the strict path and the
flags fall back on) over the corpus and over wide ranges for every operator.
Batches are long enough for the vector loop to run, not only its scalar tail.
"""

import math
import os
import platform
import subprocess
from pathlib import Path

import numpy as np
import pytest

import symgrad
from symgrad.backends import c as c_backend
from symgrad.backends import cbuild
from symgrad.core.ops import OPS, infix_template
from cases import CORPUS

pytestmark = pytest.mark.skipif(os.environ.get("SYMGRAD_NO_CC") == "1",
                                reason="SYMGRAD_NO_CC=1: C backend tests turned off explicitly")

TINY, HUGE = 5e-324, 1.7976931348623157e308
# Where functions change algorithm, overflow, underflow or lose every digit.
SPECIAL = [0.0, TINY, 2.2250738585072014e-308, 1e-300, 1e-20, 1e-8, 1e-3, 0.5, 1.0, 2.0,
           math.pi / 2, 3.0, 10.0, 19.0, 20.0, 22.0, 30.0, 100.0, 354.0, 700.0, 709.78, 710.0,
           745.0, 746.0, 1000.0, 1e10, 1e15, 1e22, 1e100, 1e300, HUGE]
LIBMVEC = (platform.machine() in ("x86_64", "AMD64")
           and platform.libc_ver()[0] == "glibc"
           and tuple(map(int, platform.libc_ver()[1].split(".")[:2])) >= (2, 35))


def close(a, b, rel=1e-12):
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def close_value(a, b, rel=1e-12):
    """``close``, and purely relative where ``b`` is of normal size."""
    return close(a, b) and (abs(b) < 2.2250738585072014e-308 or abs(a - b) <= rel * abs(b))


def wide(count=3_000, seed=0):
    """Every special value with both signs, then log-uniform magnitudes over all doubles
    and uniform ones in [-40, 40]: a batch long enough to vectorise."""
    rng = np.random.default_rng(seed)
    magnitudes = np.exp(rng.uniform(math.log(TINY), math.log(HUGE), count))
    signs = rng.choice([-1.0, 1.0], count)
    return np.concatenate([SPECIAL, [-v for v in SPECIAL], signs * magnitudes,
                           rng.uniform(-40.0, 40.0, count)])


def exact(f):
    """``f``'s batch through the exact build: the scalar code's loop."""
    source = c_backend.emit(f.program, "batch")
    function = c_backend._exact_batch(source)()
    return c_backend._batch_caller(function, None, len(f.wrt))


def fast(f):
    """``f``'s batch through the fast build (the one ``f.batch`` runs)."""
    function = c_backend._fast_batch(c_backend.emit(f.program, "batch"))
    assert function is not None or not LIBMVEC, "this machine has libmvec: expected a fast build"
    return c_backend._batch_caller(function or c_backend._exact_batch(
        c_backend.emit(f.program, "batch"))(), None, len(f.wrt))


def columns(result):
    value, grads = result
    return [np.asarray(value)] + [np.asarray(g) for g in grads]


def assert_agree(got, expected, where):
    """Finite results within 1e-12 (relative, absolute below 1; values of normal size also
    purely relative); others the same: nan where nan, inf of the same sign; zeros of the
    same sign."""
    for column, (a, b) in enumerate(zip(columns(got), columns(expected))):
        a, b = a.ravel(), b.ravel()
        finite = np.isfinite(b)
        assert (np.isfinite(a) == finite).all(), (column, where[~(np.isfinite(a) == finite)][:5])
        assert (np.isnan(a) == np.isnan(b)).all() and (a[np.isinf(b)] == b[np.isinf(b)]).all()
        gap = np.abs(a[finite] - b[finite])
        scale = np.maximum(1.0, np.maximum(np.abs(a[finite]), np.abs(b[finite])))
        if column == 0:  # a gradient may cancel (1 - out**2 near 1); a value has no excuse
            normal = np.abs(b[finite]) >= 2.2250738585072014e-308
            scale[normal] = np.abs(b[finite][normal])
        worst = np.argmax(gap / scale) if gap.size else 0
        assert (gap <= 1e-12 * scale).all(), (column, where[finite][worst], a[finite][worst],
                                             b[finite][worst])
        zeros = finite & (b == 0.0) & (a == 0.0)
        assert (np.signbit(a[zeros]) == np.signbit(b[zeros])).all(), (column, where[zeros])


def operator_programs():
    """One program per operator, over x (and y), in the language."""
    programs = []
    for name, op in OPS.items():
        if op.internal:
            continue
        if op.symbol is not None:
            text = infix_template(op).format(x="x", y="y")
        else:
            text = f"{name}({', '.join('xy'[:op.arity])})"
        programs.append(pytest.param(text, id=name))
    return programs + [pytest.param("step(x) + sign(x)", id="step-sign")]


def operands(f, text, seed=0):
    """Wide inputs for each of f's variables; exponents also small whole numbers and halves."""
    x = wide(seed=seed)
    rng = np.random.default_rng(seed + 1)
    inputs = {"x": x}
    if "y" in f.variables:
        y = rng.permutation(wide(seed=seed + 2))
        if "**" in text:
            y[::3] = rng.integers(-4, 5, y[::3].size)
            y[1::3] = rng.integers(-8, 9, y[1::3].size) / 2
        inputs["y"] = y
    return inputs


@pytest.mark.parametrize("text", operator_programs())
def test_every_operator_agrees_with_the_exact_build_over_wide_ranges(text):
    f = symgrad.compile(text, backend="c")
    inputs = operands(f, text)
    where = np.column_stack([inputs[name] for name in f.variables])
    with np.errstate(all="ignore"):
        assert_agree(fast(f)(*inputs.values()), exact(f)(*inputs.values()), where)


@pytest.mark.parametrize("text", operator_programs())
def test_every_operator_agrees_with_the_python_backend_where_it_is_defined(text):
    f, python = symgrad.compile(text, backend="c"), symgrad.compile(text)
    inputs = operands(f, text, seed=5)
    value, grads = f.batch(**inputs)
    checked = 0
    for i in range(value.size):
        point = {name: float(a[i]) for name, a in inputs.items()}
        try:
            expected, expected_grads = python.value_and_grad(**point)
        except symgrad.EvaluationError:
            continue
        checked += 1
        assert close_value(value[i], expected), (point, value[i], expected)
        for name, g in expected_grads.items():
            assert close(grads[name][i], g), (point, name, grads[name][i], g)
    assert checked > value.size // 3  # most points are in the domain


@pytest.fixture(scope="module")
def corpus_built():
    """Build what the corpus tests load, four at a time (a faster first run): both
    builds of each batch, and the scalar extension."""
    from concurrent.futures import ThreadPoolExecutor

    from symgrad.core.program import Program

    programs = [Program(symgrad.parse(text)) for text, _ in CORPUS]
    batches = [c_backend.emit(program, "batch") for program in programs]
    scalars = [c_backend.emit(program, "value_and_grad") for program in programs]
    headers = cbuild.python_headers()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(c_backend._fast_batch, batches))  # None where there is no fast build
        list(pool.map(cbuild.build, batches))
        if headers is not None:
            list(pool.map(lambda source: cbuild.build_extension(source, headers), scalars))


@pytest.mark.parametrize("text, note", CORPUS, ids=[note for _, note in CORPUS])
def test_corpus_batches_equal_the_python_backend(text, note, corpus_built):
    c, python = symgrad.compile(text, backend="c"), symgrad.compile(text)
    rng = np.random.default_rng(1)
    count = 67  # 8 vector iterations of 8 and a tail
    arrays = {name: np.where(np.arange(count) % 2, rng.uniform(-2.0, 2.0, count),
                             rng.uniform(0.1, 2.0, count)) for name in c.variables}
    value, grads = c.batch(**arrays)
    for i in range(count):
        point = {name: float(a[i]) for name, a in arrays.items()}
        try:
            expected, expected_grads = python.value_and_grad(**point)
        except symgrad.EvaluationError:
            continue
        assert close_value(value.flat[i], expected), (point, value.flat[i], expected)
        assert all(close(grads[name].flat[i], g) for name, g in expected_grads.items()), point
    with np.errstate(all="ignore"):
        where = np.column_stack(list(arrays.values()) or [np.zeros(count)])
        assert_agree((value, tuple(grads.values())), exact(c)(*arrays.values()), where)


def test_the_numeric_conventions_hold_in_the_vector_loop():
    # The numeric conventions table (docs/reference/numerics.md), each input repeated so that the vector loop computes it.
    rows = [("exp(x)", [1000.0, -1000.0], [math.inf, 0.0]),
            ("sigmoid(x)", [1000.0, -1000.0], [1.0, 0.0]),
            ("tanh(x)", [1000.0, -1000.0, -0.0], [1.0, -1.0, -0.0]),
            ("log(x)", [0.0, -1.0], [-math.inf, math.nan]),
            ("x**(1/3)", [-8.0], [math.nan]),
            ("sqrt(x)", [0.0], [0.0]),
            ("relu(x) + abs(x)", [0.0], [0.0]),
            ("x/0", [1.0, -1.0, 0.0], [math.inf, -math.inf, math.nan]),
            ("sin(x)", [math.inf, math.nan], [math.nan, math.nan])]
    for text, xs, values in rows:
        f = symgrad.compile(text, backend="c")
        got, grads = f.batch(x=np.repeat(xs, 16))
        for k, expected in enumerate(values):
            block = got[16 * k:16 * (k + 1)]
            if math.isnan(expected):
                assert np.isnan(block).all(), (text, xs[k], block)
            else:
                negative = math.copysign(1.0, expected) < 0
                assert (block == expected).all() and (np.signbit(block) == negative).all(), (
                    text, xs[k], block)
    _, grads = symgrad.compile("tanh(x) + sigmoid(x)", backend="c").batch(
        x=np.repeat([1000.0, -1000.0], 16))
    assert (grads["x"] == 0.0).all()
    _, grads = symgrad.compile("log(x) + sqrt(x)", backend="c").batch(x=np.zeros(16))
    assert (grads["x"] == math.inf).all()
    value, grads = symgrad.compile("x**y", backend="c").batch(x=np.zeros(16), y=0.0)
    assert (value == 1.0).all() and np.isnan(grads["x"]).all() and (grads["y"] == -math.inf).all()


@pytest.mark.parametrize("text, x", [("sin(x)", 1e300), ("cos(x)", -1e300), ("exp(x)", -1e300),
                                     ("tan(x)", 1e100),
                                     ("x**y", 0.001)])
def test_strict_batches_ignore_the_vector_functions_spurious_flags(text, x):
    # libmvec raises overflow or invalid at these inputs, where the scalar functions
    # raise nothing: the exact build runs again, and the batch is the scalar path's.
    f, python = symgrad.compile(text, backend="c"), symgrad.compile(text)
    inputs = {"x": np.full(64, x)}
    if "y" in f.variables:
        inputs["y"] = np.full(64, 6.8e236)
    value, grads = f.batch(strict=True, **inputs)
    expected, expected_grads = python.value_and_grad(**{k: float(v[0]) for k, v in inputs.items()})
    assert (value == expected).all()
    assert all((grads[name] == g).all() for name, g in expected_grads.items())
    with np.errstate(all="raise"):  # NumPy's errstate, on the batch function itself
        f._batch_function(False)(*inputs.values())


@pytest.mark.parametrize("threads", [1, 2])
def test_strict_long_batches_name_the_first_failing_index(threads, monkeypatch):
    monkeypatch.setattr(c_backend, "THREADS", threads)
    count = 2 * c_backend.SPLIT_AT + 5  # two parts when split
    f = symgrad.compile("tanh(1/x) + y", wrt=["y"], backend="c")
    for index in (3, count // 2 + 7, count - 1):  # first part, second part, the last
        x = np.linspace(0.5, 2.0, count)
        x[index] = 0.0  # 1/x is inf there, and tanh(inf) = 1 hides it: only the flag tells
        value, grads = f.batch(x=x, y=1.0)
        assert np.isfinite(value).all() and np.isfinite(grads["y"]).all()
        with pytest.raises(symgrad.EvaluationError, match=rf"1/x is undefined.*\({index},\)"):
            f.batch(strict=True, x=x, y=1.0)
        y = np.linspace(1.0, 2.0, count)
        y[index] = -1.0
        with pytest.raises(symgrad.EvaluationError, match=rf"log\(y\) is undefined.*\({index},\)"):
            symgrad.compile("log(y)*2", backend="c").batch(strict=True, y=y)


def test_split_batches_equal_one_thread(monkeypatch):
    f = symgrad.compile("tanh(a*b + c)*exp(-a) + atan2(b, c)", backend="c")
    rng = np.random.default_rng(3)
    inputs = {name: rng.uniform(-3.0, 3.0, 3 * c_backend.SPLIT_AT + 11) for name in "abc"}
    monkeypatch.setattr(c_backend, "THREADS", 1)
    one = f.batch(**inputs)
    monkeypatch.setattr(c_backend, "THREADS", 3)
    split = f.batch(**inputs)
    where = np.column_stack(list(inputs.values()))
    assert_agree((split[0], tuple(split[1].values())), (one[0], tuple(one[1].values())), where)


@pytest.mark.parametrize("shape", [(7,), (3, 5), (1024, 600)])  # the last: 2 MiB aligned
def test_batch_results_are_new_independent_arrays(shape):
    f = symgrad.compile("a*b + c", backend="c")
    a, b = np.ones(shape), np.full(shape, 2.0)
    value, grads = f.batch(a=a, b=b, c=0.5)
    results = [value, *grads.values()]
    for i, r in enumerate(results):
        assert r.shape == shape and r.dtype == np.float64 and r.flags.c_contiguous
        assert r.flags.writeable
        assert not any(np.shares_memory(r, other) for other in [a, b, *results[i + 1:]])
    assert (value == 2.5).all() and (grads["a"] == 2.0).all() and (grads["c"] == 1.0).all()
    value[...] = 0.0  # writing one result changes no other
    assert (grads["a"] == 2.0).all() and (grads["b"] == 1.0).all()


def test_batch_source_declares_the_vector_functions_it_calls():
    source = symgrad.compile("tanh(a*b + c)", backend="c")
    batch = c_backend.emit(source.program, "batch")
    assert ("#pragma omp declare simd notinbranch\n"
            "double tanh(double) __attribute__((const));") in batch
    assert "double pow(double, double)" in batch  # 1 - out**2
    assert "double exp(double)" not in batch and "#pragma omp simd" in batch
    assert "#pragma omp" not in source.source  # scalar code: exactly the Python backend's
    sigmoid = c_backend.emit(symgrad.compile("sigmoid(x)", backend="c").program, "batch")
    assert "double exp(double)" in sigmoid  # called by the helper


def gcc_on_x86_64():
    version = cbuild.version(tuple(cbuild.compiler()))
    return platform.machine() == "x86_64" and "Free Software Foundation" in version


@pytest.mark.skipif(not (LIBMVEC and gcc_on_x86_64()), reason="reads GCC's -fopt-info-vec")
@pytest.mark.parametrize("text", ["tanh(a*b + c)", "sigmoid(x)*(1 - sigmoid(x))", "sin(x)*cos(y)",
                                  "relu(x) - relu(-x)", "h = x*w + b; relu(h)**2",
                                  "abs(x) + sqrt(x) + log(x) + exp(-x)", "x**y + atan2(x, y)",
                                  "tan(x)/atan(y)", "-x*0.5 + sign(x)"])
def test_the_fast_build_vectorises_the_loop_for_every_instruction_set(text, tmp_path):
    # Vectorising is the point of the fast build: a change to a helper or to the
    # flags that brought branches or sincos back would silently cost the speed.
    path = tmp_path / "batch.c"
    path.write_text(c_backend.emit(symgrad.compile(text, backend="c").program, "batch"))
    done = subprocess.run(
        [*cbuild.compiler(), *cbuild.VECTOR_FLAGS, "-fopt-info-vec", "-o",
         str(tmp_path / "batch.so"), str(path), "-lm"], capture_output=True, text=True,
        check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("loop vectorized") >= 3, done.stderr  # AVX-512, AVX2 and SSE2


@pytest.mark.skipif(not LIBMVEC, reason="needs x86-64 with glibc 2.35 or later (libmvec)")
def test_the_fast_build_calls_libmvec_for_each_instruction_set():
    source = c_backend.emit(symgrad.compile("tanh(x)", backend="c").program, "batch")
    library = Path(cbuild.build(source, cbuild.VECTOR_FLAGS)).read_bytes()
    for name in (b"_ZGVbN2v_tanh", b"_ZGVdN4v_tanh", b"_ZGVeN8v_tanh"):  # SSE2, AVX2, AVX-512
        assert name in library


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path / "symgrad" / "c"


def test_without_a_fast_build_batches_run_the_exact_one(cache, monkeypatch):
    monkeypatch.setattr(c_backend, "VECTOR_FLAGS",
                        cbuild.FLAGS + ("-Wl,--symgrad-no-such-option",))
    monkeypatch.setattr(c_backend, "_NO_VECTOR_MATH", set())
    f = symgrad.compile("tanh(x)*y", backend="c")
    x = np.linspace(-3.0, 3.0, 100)
    value, _ = f.batch(x=x, y=2.0)
    assert c_backend._NO_VECTOR_MATH == {frozenset({"tanh", "pow"})}
    python = symgrad.compile("tanh(x)*y")
    assert all(value[i] == python(x=float(x[i]), y=2.0) for i in range(100))
    with pytest.raises(symgrad.EvaluationError, match=r"1/x is undefined.*\(1,\)"):
        symgrad.compile("tanh(1/x)", backend="c").batch(strict=True, x=[1.0, 0.0])


def test_a_vector_function_the_library_lacks_fails_the_fast_link(cache):
    # fmod has no vector form in libmvec: -z defs makes that a build error (then the
    # batch falls back to the exact build), not a library that fails to load.
    source = ("#include <math.h>\n#pragma omp declare simd notinbranch\n"
              "double fmod(double, double);\n"
              "void f(long n, const double *restrict x, double *restrict y)\n{\n"
              "    #pragma omp simd\n    for (long i = 0; i < n; i++)\n"
              "        y[i] = fmod(x[i], 2.0);\n}\n")
    with pytest.raises(cbuild.CompilerError):
        cbuild.build(source, cbuild.VECTOR_FLAGS)
    assert Path(cbuild.build(source)).is_file()  # the same text builds exactly


def test_large_results_reuse_memory_only_when_no_array_holds_it(monkeypatch):
    pool = c_backend.ResultPool(limit=1 << 30)
    monkeypatch.setattr(c_backend, "RESULTS", pool)
    f = symgrad.compile("a*b + c", backend="c")
    n = 2 * c_backend.HUGE_PAGE // 8  # the smallest batch whose results are pooled
    a, b = np.full(n, 2.0), np.full(n, 3.0)
    value, grads = f.batch(a=a, b=b, c=1.0)
    addresses = {r.ctypes.data for r in [value, *grads.values()]}
    view = grads["b"][::2]  # a view keeps its array's memory in use
    held = grads["b"].ctypes.data
    del value, grads
    assert pool.bytes == 3 * 8 * n
    again, grads = f.batch(a=b, b=a, c=-1.0)
    results = [again, *grads.values()]
    assert held not in {r.ctypes.data for r in results}  # the view's memory was not lent
    assert len({r.ctypes.data for r in results} & addresses) == 3
    assert (view == 2.0).all() and (again == 5.0).all() and (grads["a"] == 2.0).all()
    assert not any(np.shares_memory(r, other) for r in results for other in [view, a, b])
    del view
    assert pool.bytes == 8 * n


def test_the_result_pool_keeps_no_more_than_its_limit(monkeypatch):
    n = 2 * c_backend.HUGE_PAGE // 8
    pool = c_backend.ResultPool(limit=2 * 8 * n)
    monkeypatch.setattr(c_backend, "RESULTS", pool)
    f = symgrad.compile("a*b + c", backend="c")
    results = f.batch(a=np.ones(n), b=np.ones(n), c=np.ones(n))
    del results
    assert pool.bytes == 2 * 8 * n  # four results came back; two were kept
    pool.clear()
    assert pool.bytes == 0 and not pool.kept
