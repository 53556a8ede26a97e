"""Graph pictures: DOT text (needs nothing installed), the terminal tree, Graphviz rendering."""

import re
import subprocess

import pytest
import sympy

import symgrad
import system_tools
from symgrad.views import draw as viz

LECTURE = "tanh(a*b + c)"
POINT = {"a": 2.0, "b": -3.0, "c": 10.0}


def dot_structure(text):
    """(declared node ids, edges) of DOT text; fails on edges to undeclared nodes."""
    declared = set(re.findall(r"^  (\w+) \[", text, re.M)) - {"node", "edge"}
    edges = re.findall(r"^  (\w+) -> (\w+)", text, re.M)
    assert text.count("{") == text.count("}")
    assert {node for edge in edges for node in edge} <= declared
    return declared, edges


def test_dot_boxes_show_sympys_values_and_gradients():
    f = symgrad.compile(LECTURE)
    values, grads = viz.node_values(f, POINT)
    text = viz.to_dot(f.expression, values, grads)
    declared, edges = dot_structure(text)
    assert len(declared) == 6 + 3 and len(edges) == 3 + 5  # values + ops; op->value, value->op
    a, b, c = sympy.symbols("a b c")
    out = sympy.tanh(a * b + c)
    at = {a: 2, b: -3, c: 10}
    for name, symbol in (("a", a), ("b", b), ("c", c)):
        expected = float(sympy.diff(out, symbol).subs(at))
        data = f"{POINT[name]:.4g}"
        assert f'label="{{ {name} | data {data} | grad {expected:.4g} }}"' in text
    assert f"{{ out | data {float(out.subs(at)):.4g} | grad 1 }}" in text


def test_values_by_name_fill_in_every_operation():
    f = symgrad.compile("n = x*w; o = tanh(n); o")
    text = viz.to_dot(f.expression, {"x": 0.5, "w": 2.0}, grads={"n": 0.25})
    assert "{ n | data 1 | grad 0.25 }" in text
    assert f"{{ o | data {float(sympy.tanh(1)):.4g} }}" in text
    with pytest.raises(symgrad.SymgradError, match="no value in the graph is called 'q'"):
        viz.to_dot(f.expression, {"q": 1.0})


def test_dot_without_values_and_the_backward_edges():
    expression = symgrad.parse("a/b - b")
    text = viz.to_dot(expression, backward=True, rankdir="TB")
    dot_structure(text)
    assert "rankdir=TB;" in text and "data" not in text
    assert 'n0 -> n2_op [label="x"];' in text  # a is the x of a/b
    assert text.count("style=dashed") == 4
    assert 'label="× (1/b)"' in text
    with pytest.raises(symgrad.SymgradError, match="rankdir"):
        viz.to_dot(expression, rankdir="sideways")


def test_text_tree_draws_shared_values_once_and_any_depth():
    tree = viz.to_text(symgrad.parse("t = a*b; t*t + t"))
    assert tree.splitlines() == [
        "out = t1 + t",
        "├─ t1 = t*t",
        "│  ├─ t = a*b",
        "│  │  ├─ a",
        "│  │  └─ b",
        "│  └─ t (above)",
        "└─ t (above)",
    ]
    deep = "".join(f"x = tanh(x + {i})\n" for i in range(1, 401)) + "x"  # 1200 levels
    rows = viz.to_text(symgrad.parse(deep)).splitlines()
    assert len(rows) == 3 * 400 + 1  # per level: x = tanh(t), t = x + i, i


def test_render_without_graphviz_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    with pytest.raises(symgrad.SymgradError, match="apt-get install graphviz"):
        viz.render("digraph {}", "svg")


def test_render_runs_dot_with_the_text_on_stdin(monkeypatch):
    calls = []

    def fake_run(argv, input, capture_output, check, timeout):
        calls.append((argv, input))
        return subprocess.CompletedProcess(argv, 0, stdout=b"<svg/>", stderr=b"")

    monkeypatch.setattr(viz.shutil, "which", lambda name: "/opt/bin/dot")
    monkeypatch.setattr(viz.subprocess, "run", fake_run)
    assert viz.render("digraph {}", "png") == b"<svg/>"
    assert calls == [(["/opt/bin/dot", "-Tpng"], b"digraph {}")]
    with pytest.raises(symgrad.SymgradError, match="not an image format"):
        viz.render("digraph {}", "svg; rm -rf /")


def test_render_reports_graphviz_failures(monkeypatch):
    def failing_run(argv, **options):
        return subprocess.CompletedProcess(argv, 1, stdout=b"", stderr=b"Error: syntax error\n")

    monkeypatch.setattr(viz.shutil, "which", lambda name: "/opt/bin/dot")
    monkeypatch.setattr(viz.subprocess, "run", failing_run)
    with pytest.raises(symgrad.SymgradError, match="Graphviz failed: Error: syntax error"):
        viz.render("digraph {", "svg")


def test_the_text_tree_refuses_a_program_too_large_to_read():
    """A 700-layer tanh chain printed 27 MB, each row padded to 9,000 characters."""
    from symgrad.views import draw

    layers = "\n".join(["h = x"] + ["h = tanh(h*w + b)"] * 700 + ["h"])
    with pytest.raises(symgrad.TooLargeError, match="the tree draws at most 1,000"):
        draw.to_text(symgrad.compile(layers))


def test_graphviz_that_takes_too_long_is_stopped_with_a_plain_error(monkeypatch):
    from symgrad.views import draw

    system_tools.need_dot("stopping Graphviz")
    monkeypatch.setattr(draw, "DOT_SECONDS", 0.001)
    with pytest.raises(symgrad.SymgradError, match="Graphviz did not finish drawing in"):
        draw.render(draw.to_dot(symgrad.compile("tanh(a*b + c)")), "svg")
