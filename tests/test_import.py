"""``import symgrad`` stays light, and the installed package carries its grammar."""

import subprocess
import sys
from pathlib import Path

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
