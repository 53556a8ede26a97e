"""Notebook display and symgrad.draw: called directly, their content checked.

Graphviz's ``dot`` is replaced by a fake program on PATH (or removed from PATH),
so both branches run on every machine, whether Graphviz is installed or not.
"""

import subprocess
import sys

import pytest

import symgrad
import system_tools
from symgrad.views import notebook as display

LECTURE = "e = a*b; d = e + c; L = d*f; L"
POINT = dict(a=2.0, b=-3.0, c=10.0, f=-2.0)


@pytest.fixture
def fake_dot(tmp_path, monkeypatch):
    """A ``dot`` that wraps the DOT text it reads in an SVG document."""
    program = tmp_path / "dot"
    program.write_text('#!/bin/sh\nprintf \'<?xml version="1.0"?>\\n<svg>\'\n/bin/cat\n'
                       "printf '</svg>'\n")
    program.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))


@pytest.fixture
def no_dot(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))


def test_latex_shows_the_value_and_each_derivative():
    text = symgrad.compile("tanh(a*b + c)")._repr_latex_()
    assert text.startswith("$$\\begin{aligned}") and text.endswith("\\end{aligned}$$")
    assert "f &= \\tanh{\\left(a b + c \\right)}" in text
    assert "\\frac{\\partial f}{\\partial c} &= 1 - \\tanh^{2}{\\left(a b + c \\right)}" in text
    assert text.count("\\partial f}") == 3


def test_latex_uses_the_programs_names_and_never_reads_text_as_sympy():
    text = symgrad.parse("E = I*beta + S; E")._repr_latex_()
    assert "E &= I \\beta + S" in text  # E, I, S stay symbols, not e, i, a set
    assert "\\frac{\\partial E}{\\partial I} &= \\beta" in text
    assert "\\frac{\\partial E}{\\partial S} &= 1" in text


def test_html_holds_graph_formulas_and_highlighted_code(no_dot):
    html = symgrad.compile(LECTURE)._repr_html_()
    assert '<pre class="symgrad-graph">' in html and "L = d*f" in html
    assert "\\frac{\\partial L}{\\partial a}" in html
    assert "<span" in html and "value_and_grad" in html  # Pygments' inline styles
    assert "grad_a" in html


def test_code_without_pygments_is_escaped_plain_text(monkeypatch):
    monkeypatch.setitem(sys.modules, "pygments", None)
    html = display.code_html("x = a < b\n")
    assert html == '<pre class="symgrad-code">x = a &lt; b\n</pre>'


def test_svg_comes_from_dot_with_values_and_gradients_after_evaluation(fake_dot):
    f = symgrad.compile(LECTURE)
    assert "data" not in f._repr_svg_()
    f.value_and_grad(**POINT)
    svg = f._repr_svg_()
    assert svg.startswith('<?xml version="1.0"?>\n<svg>digraph')
    for box in ["{ a | data 2 | grad 6 }", "{ b | data -3 | grad -4 }", "{ c | data 10 | grad -2 }",
                "{ f | data -2 | grad 4 }", "{ L | data -8 | grad 1 }"]:
        assert box in svg
    html = f._repr_html_()
    assert "<div><svg>digraph" in html and "<?xml" not in html


def test_without_dot_there_is_no_svg_and_html_draws_text(no_dot):
    f = symgrad.compile(LECTURE)
    f.value_and_grad(**POINT)
    assert f._repr_svg_() is None
    assert symgrad.parse(LECTURE)._repr_svg_() is None
    html = f._repr_html_()
    assert "L = d*f" in html and "data -8" in html and "grad 6" in html


def test_a_huge_graph_is_not_drawn(fake_dot):
    f = symgrad.compile(" + ".join(f"x{i}*y{i}" for i in range(200)))
    assert f._repr_svg_() is None
    assert "too large to draw" in display.graph_text(display.subject(f))


def test_draw_returns_a_left_to_right_graphviz_source_with_the_users_names():
    graph = symgrad.draw("n = x1*w1 + b; o = tanh(n); o", values=dict(x1=2, w1=-3, b=6.5))
    assert type(graph).__module__.startswith("graphviz")
    assert "rankdir=LR;" in graph.source
    assert "{ o | data 0.4621 | grad 1 }" in graph.source
    assert '[shape=ellipse, label="tanh"]' in graph.source


def test_draw_shows_each_use_and_the_backward_edges():
    graph = symgrad.draw("b = a + a; b", values={"a": 3.0}, backward=True, rankdir="TB")
    assert "rankdir=TB;" in graph.source
    assert graph.source.count("n0 -> n1_op;") == 2  # a is used twice
    assert "{ a | data 3 | grad 2 }" in graph.source
    assert graph.source.count('style=dashed') == 2


def test_draw_uses_the_last_evaluated_point():
    f = symgrad.compile("x*y")
    f.value_and_grad(x=3.0, y=4.0)
    assert "{ x | data 3 | grad 4 }" in symgrad.draw(f).source


def test_draw_without_graphviz_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)
    with pytest.raises(symgrad.SymgradError, match=r"pip install 'symgrad\[viz\]'"):
        symgrad.draw("x*y")


def test_display_rejects_what_it_cannot_show():
    with pytest.raises(TypeError, match="cannot display a list"):
        display.latex([1, 2])


def test_import_symgrad_loads_no_display_dependencies():
    code = ("import sys, symgrad; symgrad.draw; "
            "print(sorted(m for m in ('sympy', 'numpy', 'graphviz', 'pygments', "
            "'symgrad.display') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"


def test_a_value_displays_its_graph_at_its_own_data(fake_dot):
    x1, w1 = symgrad.Value(2.0, label="x1"), symgrad.Value(-3.0, label="w1")
    x2, w2 = symgrad.Value(0.0, label="x2"), symgrad.Value(1.0, label="w2")
    o = (x1*w1 + x2*w2 + symgrad.Value(6.8813735870195432, label="b")).tanh()
    svg = o._repr_svg_()
    for box in ["{ x1 | data 2 | grad -1.5 }", "{ w1 | data -3 | grad 1 }",  # the lecture's
                "{ x2 | data 0 | grad 0.5 }", "{ w2 | data 1 | grad 0 }", "{ b | data 6.881"]:
        assert box in svg
    assert "\\frac{\\partial f}{\\partial x_{1}}" in o._repr_latex_()
    assert "<svg>digraph" in o._repr_html_()
    assert "{ x1 | data 2 | grad -1.5 }" in symgrad.draw(o).source


def test_a_notebook_picture_graphviz_draws_slowly_falls_back_to_the_text_tree(monkeypatch):
    """A Value chain of 150 operations made _repr_html_ wait 60 s, then raise."""
    from symgrad.views import draw, notebook

    system_tools.need_dot("drawing in a notebook")

    def slow(*args, **kwargs):
        raise symgrad.SymgradError("Graphviz did not finish drawing in 10 s")

    monkeypatch.setattr(draw, "render", slow)
    page = symgrad.compile("tanh(a*b + c)")._repr_html_()
    assert 'class="symgrad-graph"' in page and "tanh" in page
