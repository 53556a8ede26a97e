"""The package's layout is its architecture: imports flow one way, with no cycle anywhere.

Every import counts, function-level ones included (they must not dodge a cycle);
only modules outside symgrad may load lazily.
"""

import ast
from pathlib import Path

import symgrad

PACKAGE = Path(symgrad.__file__).parent


def module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path):
    """The symgrad modules ``path`` imports anywhere in its body."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = ".".join(base[: len(base) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                found.add(candidate if _is_module(candidate) else target)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m.split(".")[0] == "symgrad" and m != name and _is_module(m)}


def _is_module(name):
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def graph():
    return {module_name(p): imports_of(p) for p in PACKAGE.rglob("*.py")}


def test_no_module_imports_form_a_cycle():
    edges = graph()
    # A package's __init__ importing its own submodules is how packages work, not a cycle.
    for name, targets in edges.items():
        edges[name] = {t for t in targets if not name.startswith(t + ".")}
    state, cycle = {}, []

    def visit(start):
        stack = [(start, iter(sorted(edges.get(start, ()))))]
        state[start] = "open"
        path = [start]
        while stack:
            node, pending = stack[-1]
            for target in pending:
                if state.get(target) == "open":
                    cycle.extend(path[path.index(target):] + [target])
                    return
                if target not in state:
                    state[target] = "open"
                    path.append(target)
                    stack.append((target, iter(sorted(edges.get(target, ())))))
                    break
            else:
                state[node] = "done"
                path.pop()
                stack.pop()

    for name in sorted(edges):
        if name not in state and not cycle:
            visit(name)
    assert not cycle, " -> ".join(cycle)


def test_the_core_imports_nothing_above_it_and_the_table_nothing_at_all():
    edges = graph()
    assert edges["symgrad.core.ops"] == set()
    for name, targets in edges.items():
        if name.startswith("symgrad.core"):
            assert all(t.startswith("symgrad.core") for t in targets), (name, targets)
        if name.startswith("symgrad.views") or name.startswith("symgrad.backends"):
            above = {t for t in targets if not t.startswith(
                ("symgrad.core", "symgrad.backends", "symgrad.views"))}
            if name.startswith("symgrad.views"):  # array programs' pieces, not their function
                above = {t for t in above if not t.startswith("symgrad.arrays")
                         or t in ARRAY_FUNCTION}
            assert not above, (name, above)


ARRAY_FUNCTION = {"symgrad.arrays.compiled", "symgrad.arrays.cli", "symgrad.arrays.checks"}
