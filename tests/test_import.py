"""``import symgrad`` stays light, and the installed package carries its grammar."""

import os
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


def test_a_command_line_run_does_not_import_lark():
    code = "import sys; from symgrad.cli import main; main(['tanh(a*b+c)']); print('lark' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("False")


def test_no_parser_cache_is_read_or_written(tmp_path):
    code = "import symgrad; symgrad.parse('tanh(a*b)')"
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path), HOME=str(tmp_path))
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    assert list(tmp_path.iterdir()) == []
