"""``import symgrad`` stays light, and the installed package carries its grammar."""

import json
import os
import subprocess
import sys
from pathlib import Path

import lark
import pytest

import symgrad
from symgrad.core.syntax import grammar_text

HEAVY = ["sympy", "numpy", "graphviz", "matplotlib"]


def test_import_symgrad_loads_neither_sympy_nor_numpy():
    code = ("import sys, symgrad; f = symgrad.compile('tanh(a*b + c)'); f.value_and_grad(a=1, b=2, c=3); "
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_grammar_in_use_is_the_repository_grammar():
    source = Path(__file__).parent.parent / "grammar" / "symgrad.lark"
    assert grammar_text() == source.read_text(encoding="utf-8")


def test_public_api_is_exported():
    for name in symgrad.__all__:
        assert getattr(symgrad, name) is not None


def test_shipped_parser_tables_match_the_grammar_and_lark():
    from symgrad.core import tables

    stored = json.loads(tables.TABLES.read_text(encoding="utf-8"))
    source = Path(__file__).parent.parent / "grammar" / "symgrad.lark"
    # If this fails: python grammar/make_tables.py
    assert stored["grammar_sha256"] == tables.digest(source.read_text(encoding="utf-8"))
    assert stored["lark"] == lark.__version__
    assert tables.load() is not None


def test_shipped_tables_parse_like_freshly_built_ones():
    from symgrad.core import tables

    shipped, fresh = tables.load(), tables.build(grammar_text())
    for text in ["tanh(a*b + c)", "a = x # c\ny = -a**2^b; f(a, b) / (.5e-3 - +y)"]:
        assert shipped.parse(text) == fresh.parse(text)
    for text in ["a +", "f(a,", "a = = b", "x $ y", "(a b"]:
        errors = []
        for parser in (shipped, fresh):
            with pytest.raises(lark.exceptions.UnexpectedInput) as caught:
                parser.parse(text)
            errors.append((type(caught.value), caught.value.line, caught.value.column,
                           getattr(caught.value, "expected", None) or caught.value.allowed))
        assert errors[0] == errors[1]


def test_no_parser_cache_is_read_or_written(tmp_path):
    code = "import symgrad; symgrad.parse('tanh(a*b)')"
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path), HOME=str(tmp_path))
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    assert list(tmp_path.iterdir()) == []
