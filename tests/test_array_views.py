"""The views of array programs: the graph with shapes and previews, the page, the command."""

import json
import subprocess
import sys

import numpy as np
import pytest

import symgrad
import system_tools
from symgrad import cli
from symgrad.core.errors import SymgradError
from symgrad.core.printer import format_short
from symgrad.views import previews
from array_cases import SOFTMAX_REGRESSION as PROGRAM, softmax_regression_point
from test_html import Page


def point():
    return softmax_regression_point(1)


@pytest.fixture(scope="module")
def mlp():
    return symgrad.compile(PROGRAM)


def test_the_graph_shows_each_arrays_shape_and_its_first_numbers(mlp):
    at = point()
    _, grads = mlp.value_and_grad(**at)
    dot = mlp.to_dot(at)
    for declared in ("<B>X</B> (n, 3)", "<B>W</B> (3, 4)", "<B>logits</B> (n, 4)",
                     "<B>Y</B> int[n]", "<B>out</B> ()"):
        assert declared in dot
    assert "<I>data 5×3</I>" in dot and "<I>grad 3×4</I>" in dot
    assert f">{format_short(at['X'][0, 0])}</TD>" in dot
    assert f">{format_short(grads['W'][0, 0])}</TD>" in dot
    assert f">{format_short(at['X'][3, 0])}</TD>" not in dot  # only the first three rows
    assert '"@"' in dot and "arange(n)" in dot
    # Without a point: the shapes alone.
    bare = symgrad.compile(PROGRAM).to_dot()
    assert "(n, 4)" in bare and "<I>data" not in bare and "<I>grad" not in bare


def test_the_graph_renders_with_graphviz(mlp):
    system_tools.need_dot("drawing an array program")
    from symgrad.views.draw import render

    svg = render(mlp.to_dot(point()), "svg").decode("utf-8")
    assert "<svg" in svg and "logits" in svg and "5×4" in svg


def test_previews_are_the_first_cells_tinted_by_sign_and_size():
    value = np.array([[2.0, 0.0, -1.0, 1.0, 9.0], [-2.0, 1.0, 0.5, 0.5, 0.5]] * 3)
    grid = previews.grid(value)
    assert len(grid.rows) == 3 and len(grid.rows[0]) == 4
    assert grid.more_rows and grid.more_columns and grid.where == ""
    colours = dict(grid.rows[0][:3])
    assert colours["0"] == "#ffffff"
    assert colours["2"].startswith("#ff") and colours["-1"].endswith("ff")
    # Tinted against the largest in the whole array (9, not shown), not the cells shown.
    assert colours["2"] != "#ff8787"
    deep = previews.grid(np.arange(24.0).reshape(2, 3, 4))
    assert deep.where == "[0, :, :]" and [t for t, _ in deep.rows[1]] == ["4", "5", "6", "7"]
    assert previews.grid(np.array([np.nan, 1.0])).rows[0][0] == ("nan", "#dddddd")
    assert previews.short(np.float64(1.5)) == "1.5" and previews.short(np.zeros((2, 3))) == "2×3"


@pytest.fixture(scope="module")
def page(mlp):
    text = mlp.to_html(point())
    return text, Page(text)


def test_the_page_is_well_formed_and_fills_every_box(mlp, page):
    _, parsed = page
    assert parsed.problems == [] and parsed.stack == []
    assert parsed.fields[("logits", "data")] == "data 5×4"
    assert parsed.fields[("W", "grad")] == "grad 3×4"
    assert parsed.fields[("out", "data")] == f"data {format_short(mlp(**point()))}"
    assert ("Y", "grad") not in parsed.fields  # an index has no gradient


def test_every_step_points_at_its_line_and_shows_its_value(mlp, page):
    text, parsed = page
    steps = json.loads(parsed.scripts[0])["steps"]
    program, lines = mlp.program, mlp.source.splitlines()
    assert len(steps) == 1 + len(program.forward) + len(program.backward)
    for step in steps[1:]:
        assert lines[step["line"]].strip().startswith(step["code"]), step
    assert [s["line"] for s in steps] == sorted(s["line"] for s in steps)
    _, _, trace = mlp.trace(**point())
    for step, value in zip(steps[1:], trace):
        cell = text.split(f'<td id="P{step["n"]}">')[1].split("</table>")[0]
        assert f"{previews.shape_of(value)}</caption>" in cell
        assert f">{format_short(np.ravel(value)[0])}</td>" in cell
    readable = "".join(parsed.text)
    assert readable.count("Forward:") == len(program.forward)
    assert "the rule matmul: d logits/d W = Xᵀ, on the left" in readable


def test_names_and_comments_cannot_inject_html():
    f = symgrad.compile("X: [n, 2]  # </script><script>alert(1)</script><img src=x>\n"
                        "sum(X * X)")
    text = f.to_html({"X": np.ones((2, 2))})
    assert "<script>alert" not in text and "<img" not in text
    assert "&lt;/script&gt;&lt;script&gt;alert(1)" in text
    data = text.split('id="symgrad-steps">')[1].split("</script>")[0]
    assert "<" not in data and "&" not in data


def test_to_html_defaults_to_the_last_inputs_and_writes_the_file(tmp_path):
    f = symgrad.compile(PROGRAM)
    with pytest.raises(SymgradError, match="value_and_grad"):
        f.to_html()
    f.value_and_grad(**point())
    path = tmp_path / "page.html"
    assert f.to_html(path=path) == path.read_text(encoding="utf-8")
    with pytest.raises(SymgradError, match="missing: Y"):
        f.to_html({k: v for k, v in point().items() if k != "Y"})


def test_the_command_draws_and_writes_pages_for_array_programs(tmp_path, capsys):
    source = tmp_path / "mlp.sg"
    source.write_text(PROGRAM, encoding="utf-8")
    html = tmp_path / "mlp.html"
    assert cli.main(["-f", str(source), "--at", "random", "--html", str(html)]) == 0
    assert f"wrote {html}" in capsys.readouterr().err
    assert Page(html.read_text(encoding="utf-8")).fields[("t1", "data")] == "data 3×4"
    assert cli.main(["-f", str(source), "--dot", "--shapes", "n=2", "--at", "random"]) == 0
    assert "<I>data 2×4</I>" in capsys.readouterr().out
    assert cli.main(["-f", str(source), "--graph"]) != 0
    assert "--graph is not available for array programs" in capsys.readouterr().err


@pytest.mark.parametrize("program", [PROGRAM, "tanh(a*b + c)"], ids=["arrays", "scalars"])
def test_a_page_that_cannot_be_written_is_one_line_naming_the_file(tmp_path, capsys, program):
    source = tmp_path / "program.sg"
    source.write_text(program, encoding="utf-8")
    page = tmp_path / "no such directory" / "page.html"
    at = ["random"] if program is PROGRAM else ["a=1", "b=2", "c=3"]
    assert cli.main(["-f", str(source), "--at", *at, "--html", str(page)]) == 2
    assert f"cannot write {page}: No such file or directory" in capsys.readouterr().err


def test_the_command_draws_svg(tmp_path, capsys):
    system_tools.need_dot("drawing an array program")
    source = tmp_path / "mlp.sg"
    source.write_text(PROGRAM, encoding="utf-8")
    image = tmp_path / "mlp.svg"
    assert cli.main(["-f", str(source), "--svg", str(image), "--at", "random"]) == 0
    assert "<svg" in image.read_text(encoding="utf-8")


def test_notebook_display_and_draw(mlp):
    mlp.value_and_grad(**point())
    assert mlp._repr_latex_() is None
    view = mlp._repr_html_()
    assert "generated code" in view and ("<svg" in view or "Graphviz" in view)
    graphviz = pytest.importorskip("graphviz")
    drawn = symgrad.draw(mlp)
    assert isinstance(drawn, graphviz.Source) and "<I>data 5×4</I>" in drawn.source
    with pytest.raises(SymgradError, match="scalar programs only"):
        symgrad.draw(mlp, backward=True)


def test_the_array_graph_loads_no_numpy_until_it_draws():
    code = ("import sys, symgrad.views.array_draw, symgrad.views.notebook; "
            "print('numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("text, X", [
    ("X: [n, 3, 2]\nsum(X**2)", np.zeros((0, 3, 2))),  # previews took row 0 of no rows
    ("X: [n]\n3", np.ones(3)),  # the value, a constant, has no box: KeyError
    ("X: [n]\nn", np.ones(3)),  # nor a dimension's size
])
def test_the_views_draw_empty_arrays_and_values_without_a_box(text, X):
    f = symgrad.compile(text)
    point = {"X": X}
    assert "digraph" in f.to_dot(point)
    assert "<html" in f.to_html(point).lower()
