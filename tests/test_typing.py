"""The public API is typed: ``py.typed`` ships, and ``mypy --strict`` accepts typed usage."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import symgrad
from symgrad.core.ops import OPS

ROOT = Path(__file__).parent.parent


def test_mypy_strict_accepts_typed_code_using_the_public_api(tmp_path):
    # --strict makes every call of an unannotated function an error; imported
    # modules are followed for their types, their own bodies are not reported.
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
         "--cache-dir", str(tmp_path / "cache"), str(ROOT / "tests" / "typed_usage.py")],
        capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_would_catch_an_untyped_public_function(tmp_path):
    usage = tmp_path / "untyped.py"
    usage.write_text("import symgrad.core.gate\n\n"
                     "def rows() -> object:\n    return symgrad.core.gate.from_plain([], 0, (), {})\n")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
         "--cache-dir", str(tmp_path / "cache"), str(usage)],
        capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 1 and "untyped function" in result.stdout


def test_the_package_is_marked_typed():
    assert (ROOT / "symgrad" / "py.typed").is_file()


def test_value_declares_every_operator_the_ops_table_adds():
    """``Value``'s operators are attached by a loop; its TYPE_CHECKING block must list them."""
    tree = ast.parse((ROOT / "symgrad" / "micrograd" / "engine.py").read_text(encoding="utf-8"))
    value = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Value")
    block = next(n for n in value.body if isinstance(n, ast.If)
                 and ast.unparse(n.test) == "TYPE_CHECKING")
    declared = {n.name for n in block.body if isinstance(n, ast.FunctionDef)}
    added = set()
    for name, op in OPS.items():
        if op.dunder:
            added |= {f"__{op.dunder}__", f"__r{op.dunder}__"} if op.arity == 2 else {
                f"__{op.dunder}__"}
        if op.symbol is None:
            added.add(name)
    assert declared == added
    assert all(hasattr(symgrad.Value, name) for name in declared)


def test_all_lists_every_public_name_and_only_those():
    # A fresh interpreter: other tests import submodules, which become attributes.
    code = ("import __future__, json, types, typing, symgrad\n"
            "print(json.dumps([n for n, x in vars(symgrad).items() if not n.startswith('_')\n"
            "    and not isinstance(x, (types.ModuleType, __future__._Feature))\n"
            "    and getattr(x, '__module__', None) != 'typing' and n != 'TYPE_CHECKING']))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    lazy = {"CompiledFunction", "Value", "compile_loss", "nn"}  # served by __getattr__
    assert sorted(symgrad.__all__) == sorted(set(json.loads(out.stdout)) | lazy)
