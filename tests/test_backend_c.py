"""The C backend: the same numbers as the Python backend, errors with the same words, a safe cache.

These tests need a C compiler and fail (never skip) without one, unless
SYMGRAD_NO_CC=1 is set explicitly.  The numeric conventions run on every
backend in test_numeric_edges.py.
"""

import os
import random
import shutil
import subprocess
from pathlib import Path
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import symgrad
from symgrad.backends import c as c_backend
from symgrad.backends import cbuild
from symgrad.cli import main
from symgrad.core.program import Program
from cases import CORPUS

pytestmark = pytest.mark.skipif(os.environ.get("SYMGRAD_NO_CC") == "1",
                                reason="SYMGRAD_NO_CC=1: C backend tests turned off explicitly")

BATCH_ROWS = CORPUS[::3]
LECTURE = "tanh(x1*w1 + x2*w2 + b)"
LECTURE_POINT = {"x1": 2.0, "w1": -3.0, "x2": 0.0, "w2": 1.0, "b": 6.8813735870195432}


@pytest.fixture(scope="module", autouse=True)
def warm_cache():
    """Build the corpus's libraries four at a time: concurrent first use, and a faster run."""
    scalars = [c_backend.BACKEND.emit(Program(symgrad.parse(text)), "value_and_grad").source
               for text, _ in CORPUS]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(cbuild.build, scalars))


def points(f, count=4, seed=0):
    """Random points; some outside the domain, where both backends must raise."""
    rng = random.Random(seed)
    return [{name: rng.uniform(-2.0, 2.0) if i % 2 else rng.uniform(0.1, 2.0)
             for name in f.variables} for i in range(count)]


def outcome(f, point):
    try:
        return f.value_and_grad(**point)
    except symgrad.EvaluationError as error:
        return str(error)


def close(a, b, rel=1e-12):
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


@pytest.mark.parametrize("text, note", CORPUS, ids=[note for _, note in CORPUS])
def test_corpus_values_and_gradients_equal_the_python_backend(text, note):
    python, c = symgrad.compile(text), symgrad.compile(text, backend="c")
    for point in points(python):
        expected, got = outcome(python, point), outcome(c, point)
        if isinstance(expected, str):
            assert got == expected  # the same EvaluationError, word for word
            continue
        assert close(got[0], expected[0]), (point, got, expected)
        assert got[1].keys() == expected[1].keys()
        assert all(close(got[1][k], expected[1][k]) for k in expected[1]), (point, got, expected)
        assert type(got[0]) is float and all(type(g) is float for g in got[1].values())


def test_the_lectures_neuron_is_exactly_the_python_backends():
    python, c = symgrad.compile(LECTURE), symgrad.compile(LECTURE, backend="c")
    assert c.value_and_grad(**LECTURE_POINT) == python.value_and_grad(**LECTURE_POINT)
    value, grads = c.value_and_grad(**LECTURE_POINT)
    assert value == pytest.approx(0.7071, abs=1e-4)  # the lecture's numbers
    assert grads == pytest.approx({"x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0, "b": 0.5})
    assert c(**LECTURE_POINT) == python(**LECTURE_POINT)
    assert c.value_and_grad(2.0, -3.0, 0.0, 1.0, 6.8813735870195432) == (value, grads)


def test_domain_errors_name_the_subexpression_like_python():
    f = symgrad.compile("y = log(x); y*2", backend="c")
    with pytest.raises(symgrad.EvaluationError, match=r"log\(x\) is undefined.*\(x = -1.0\)"):
        f.value_and_grad(x=-1.0)
    g = symgrad.compile("1/exp(x)", backend="c")  # overflow in the middle, finite at the end
    with pytest.raises(symgrad.EvaluationError, match=r"exp\(x\) overflows"):
        g(x=1000.0)


def test_generated_c_reads_like_the_python():
    f = symgrad.compile("relu(x)*x + lambda", backend="c")
    assert "const double t1 = relu(x);  // relu(x)" in f.source
    assert "static inline double relu(double x)" in f.source
    assert "double grad_lambda_ = grad_out;  // add: d out/d lambda_ = 1" in f.source
    assert "sigmoid" not in f.source  # only the helpers the program calls
    assert "pow(x, 2.0)" in symgrad.compile("x**2", backend="c").source


def test_hostile_names_compile():
    f = symgrad.compile("__LINE__*linux + unix*symgrad_in + NAN*fpclassify", backend="c")
    python = symgrad.compile("__LINE__*linux + unix*symgrad_in + NAN*fpclassify")
    point = dict(zip(f.variables, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]))
    assert f.value_and_grad(**point) == python.value_and_grad(**point)


@pytest.mark.parametrize("text, note", BATCH_ROWS, ids=[note for _, note in BATCH_ROWS])
def test_batches_equal_the_numpy_backend_and_the_scalar_path(text, note):
    c, numpy_ = symgrad.compile(text, backend="c"), symgrad.compile(text, backend="numpy")
    rng = np.random.default_rng(0)
    arrays = {name: rng.uniform(0.1, 2.0, size=(3, 5)) for name in c.variables}
    with np.errstate(all="ignore"):
        expected = numpy_.batch(**arrays)
    got = c.batch(**arrays)
    # NumPy computes sigmoid through logaddexp, not the scalar formula: a few ulps apart,
    # which 1 - sigmoid(x) in its derivative can magnify to about 1e-12; and 1 - out**2 of
    # a tanh near 1 keeps only the digits above an ulp of out: an absolute floor.
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-10, atol=1e-300)
    for name in expected[1]:
        np.testing.assert_allclose(got[1][name], expected[1][name], rtol=1e-10, atol=1e-14)
    python = symgrad.compile(text)
    for index in np.ndindex(3, 5):
        point = {name: float(a[index]) for name, a in arrays.items()}
        try:
            value, grads = python.value_and_grad(**point)
        except symgrad.EvaluationError:
            continue
        assert close(got[0][index], value) and all(
            close(got[1][name][index], grads[name]) for name in grads)


def test_batch_broadcasts_and_strict_names_the_index():
    f = symgrad.compile("log(x)*y", backend="c")
    value, grads = f.batch(x=np.array([1.0, np.e]), y=2.0)
    assert value.tolist() == [0.0, 2.0] and grads["y"].tolist() == [0.0, 1.0]
    with pytest.raises(symgrad.EvaluationError, match=r"log\(x\) is undefined.*batch index \(1,\)"):
        f.batch(strict=True, x=[1.0, -1.0], y=2.0)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path / "symgrad" / "c"


def test_the_cache_is_private_and_a_second_compile_reuses_the_library(cache, monkeypatch):
    symgrad.compile("sin(x)*y", backend="c").value_and_grad(x=0.0, y=1.0)  # builds it
    libraries = list(cache.glob("*.so"))
    assert len(libraries) == 1 and oct(cache.stat().st_mode & 0o777) == "0o700"
    assert not [p for p in cache.iterdir() if p.suffix != ".so"]  # no leftovers

    def no_compiler(*args, **kwargs):
        raise AssertionError("the compiler ran again")

    monkeypatch.setattr(cbuild.subprocess, "run", no_compiler)
    f = symgrad.compile("sin(x)*y", backend="c")
    assert f.value_and_grad(x=0.0, y=2.0) == (0.0, {"x": 2.0, "y": 0.0})
    assert list(cache.glob("*.so")) == libraries


def test_a_planted_symlink_is_refused(cache, tmp_path):
    symgrad.compile("cos(x)", backend="c").value_and_grad(x=0.5)
    (library,) = cache.glob("*.so")
    elsewhere = tmp_path / "elsewhere.so"
    library.rename(elsewhere)
    library.symlink_to(elsewhere)
    with pytest.raises(symgrad.SymgradError, match="refusing the cached library"):
        symgrad.compile("cos(x)", backend="c").value_and_grad(x=0.5)


def test_a_directory_others_can_write_is_refused(cache):
    cache.mkdir(parents=True)
    cache.chmod(0o777)
    with pytest.raises(symgrad.SymgradError, match="other users can write to it"):
        symgrad.compile("cos(x)", backend="c").value_and_grad(x=0.5)


def test_a_symlinked_cache_directory_is_refused(cache, tmp_path):
    (tmp_path / "real").mkdir(mode=0o700)
    cache.parent.mkdir()
    cache.symlink_to(tmp_path / "real")
    with pytest.raises(symgrad.SymgradError, match="it is a symbolic link"):
        symgrad.compile("cos(x)", backend="c").value_and_grad(x=0.5)


def test_a_missing_compiler_says_how_to_install_one(monkeypatch):
    monkeypatch.setenv("CC", "/nonexistent")
    with pytest.raises(symgrad.SymgradError, match="apt-get install gcc"):
        symgrad.compile("x*x", backend="c").value_and_grad(x=0.5)
    assert symgrad.compile("x*x")(x=3.0) == 9.0  # the default backend needs no compiler


def test_cli_prints_c_that_gcc_accepts(capsys, tmp_path):
    assert main(["tanh(a*b + c)", "--code", "--backend", "c"]) == 0
    source = capsys.readouterr().out
    assert "int value_and_grad(const double *symgrad_in, double *symgrad_out)" in source
    path = tmp_path / "f.c"
    path.write_text(source)
    gcc = shutil.which("gcc") or "cc"
    done = subprocess.run([gcc, "-fsyntax-only", "-std=c99", "-Wall", str(path)],
                          capture_output=True, text=True)
    assert done.returncode == 0 and not done.stderr, done.stderr


def test_a_relative_xdg_cache_home_is_ignored(tmp_path, monkeypatch):
    # The XDG spec: a relative path in $XDG_CACHE_HOME is invalid and should be ignored.
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    assert cbuild.cache_dir() == tmp_path / "home" / ".cache" / "symgrad" / "c"
    assert not (tmp_path / "relative").exists()


def test_keywords_are_the_users_names_even_where_c_renames_them():
    f = symgrad.compile("lambda*x + symgrad_in", backend="c")
    assert "const double lambda_ = symgrad_in[0];" in f.source
    assert f.value_and_grad(**{"lambda": 2.0, "x": 3.0, "symgrad_in": 1.0}) == (
        7.0, {"lambda": 3.0, "x": 2.0, "symgrad_in": 1.0})
    assert f.value_and_grad(2.0, 3.0, 1.0) == symgrad.compile("lambda*x + symgrad_in") \
        .value_and_grad(2.0, 3.0, 1.0)


def test_the_c_function_raises_on_a_floating_point_exception():
    log = symgrad.compile("log(x)", backend="c")
    assert log(x=1.0) == 0.0
    for function in (log._load("value"), log._load("value_and_grad")):
        with pytest.raises(FloatingPointError, match="floating-point exception in the C code"):
            function(-1.0)


def test_floating_point_flags_left_set_before_a_call_are_not_blamed_on_it():
    # The C clears the flags only when they are set: after a failed call, and after
    # Python's own float arithmetic overflowed (which sets them and raises nothing).
    f = symgrad.compile("x*2", backend="c")
    with pytest.raises(symgrad.EvaluationError, match=r"log\(x\) is undefined"):
        symgrad.compile("log(x)", backend="c").value_and_grad(x=-1.0)
    assert f.value_and_grad(x=1.5) == (3.0, {"x": 2.0})
    huge = [1e308]
    assert huge[0] * 10.0 == float("inf")  # sets the overflow flag
    assert f.value_and_grad(x=1.5) == (3.0, {"x": 2.0}) and f(x=2.0) == 4.0
    huge[0] * 10.0
    assert f.batch(x=np.array([1.0, 2.0]))[0].tolist() == [2.0, 4.0]
    with pytest.raises(symgrad.EvaluationError, match=r"exp\(x\) overflows"):
        symgrad.compile("exp(x)", backend="c").value_and_grad(x=1000.0)


def test_a_cached_library_cut_short_is_built_again(cache):
    """A library truncated on disk stayed in the cache, and every later compile of the
    program raised ctypes' OSError (file too short) until the cache was cleared.  (Built,
    not loaded, first: a library this process has mapped must not be cut under it.)"""
    import ctypes

    source = "double twice(double x) { return 2.0 * x; }\n"
    library = Path(os.path.realpath(cbuild.build(source)))
    library.write_bytes(library.read_bytes()[:100])
    twice = cbuild.load(source, ctypes.CDLL).twice
    twice.restype, twice.argtypes = ctypes.c_double, (ctypes.c_double,)
    assert twice(21.0) == 42.0
    assert library.stat().st_size > 100


def test_words_of_cc_beyond_the_compiler_are_part_of_the_cache_key(cache, monkeypatch):
    """CC="cc -fsingle-precision-constant" got the library built for plain cc (and the
    other way round): --version, the key's word for the compiler, is the same."""
    monkeypatch.setenv("CC", "cc")
    first = cbuild.build("double f(double x) { return x * 0.1; }\n")
    monkeypatch.setenv("CC", "cc -fsingle-precision-constant")
    second = cbuild.build("double f(double x) { return x * 0.1; }\n")
    assert os.path.basename(first) != os.path.basename(second)
    assert len(list(cache.glob("*.so"))) == 2
