"""The stepping page without a browser: self-contained, well formed, every number readable."""

import json
import re
from html.parser import HTMLParser

import pytest
import sympy

import symgrad
from symgrad import cli
from symgrad.core.errors import SymgradError, TooLargeError
from symgrad.views.html import to_html

NEURON = "n = x1*w1 + x2*w2 + b; o = tanh(n); o"
POINT = {"x1": 2.0, "w1": -3.0, "x2": 0.0, "w2": 1.0, "b": 6.8813735870195432}
VOID = {"meta", "br", "hr", "img", "input", "link", "circle", "line", "path", "rect"}


class Page(HTMLParser):
    """The page's tags checked for balance, its readable text, the boxes' fields and its data."""

    def __init__(self, text):
        super().__init__()
        self.stack, self.problems, self.text, self.fields = [], [], [], {}
        self.attributes, self.scripts, self._field = [], [], None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.attributes.append((tag, attrs))
        if tag not in VOID:
            self.stack.append(tag)
        if tag == "text" and attrs.get("class") in ("data", "grad"):
            self._field = (attrs["data-name"], attrs["class"])

    def handle_startendtag(self, tag, attrs):
        self.attributes.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
        else:
            self.stack.pop()

    def handle_data(self, data):
        inside = self.stack[-1] if self.stack else None
        if inside == "script":
            self.scripts.append(data)
        elif inside != "style":
            self.text.append(data)
        if self._field is not None:
            self.fields[self._field] = data
            self._field = None


@pytest.fixture(scope="module")
def neuron():
    f = symgrad.compile(NEURON)
    return f, Page(f.to_html(POINT))


def sympy_gradient():
    """d o / d input for each input, and o, at POINT: by SymPy alone."""
    symbols = sympy.symbols("x1 w1 x2 w2 b")
    x1, w1, x2, w2, b = symbols
    o = sympy.tanh(x1 * w1 + x2 * w2 + b)
    at = dict(zip(symbols, [sympy.Float(POINT[str(s)], 30) for s in symbols]))
    return float(o.subs(at)), {str(s): float(sympy.diff(o, s).subs(at)) for s in symbols}


def test_the_page_is_well_formed_html(neuron):
    _, page = neuron
    assert page.problems == [] and page.stack == []


def test_the_page_loads_nothing_from_anywhere(neuron):
    f, page = neuron
    text = f.to_html(POINT)
    assert not re.search(r"https?:|//[a-z]", text, re.I)
    assert not re.search(r"@import|url\((?!#)", text)  # CSS may only point inside the page
    for tag, attrs in page.attributes:
        assert tag not in ("link", "img", "iframe", "object", "embed")
        assert "src" not in attrs and "href" not in attrs, (tag, attrs)


def test_without_javascript_every_value_and_gradient_is_shown(neuron):
    f, page = neuron
    trace = f.program.evaluate(POINT)
    readable = "".join(page.text)
    for node, name in f.program.names.items():
        assert page.fields[(name, "data")] == f"data {trace.values[node]:.4g}"
        assert page.fields[(name, "grad")] == f"grad {trace.grads[node]:.4g}"
        assert f"{name} = " in readable or node.op == "var"
    # The table lists every line that computes something, with its numbers.
    assert readable.count("Backward through") == len(f.program.backward)
    assert readable.count("Forward:") == len(f.program.forward)


def test_the_gradients_shown_agree_with_sympy(neuron):
    _, page = neuron
    value, gradient = sympy_gradient()
    assert float(page.fields[("o", "data")].split()[1]) == pytest.approx(value, rel=1e-3)
    for name, expected in gradient.items():
        shown = float(page.fields[(name, "grad")].split()[1])
        assert shown == pytest.approx(expected, rel=1e-3, abs=1e-9), name
    assert gradient["x1"] == pytest.approx(-1.5) and gradient["w2"] == 0.0


def test_every_step_points_at_its_line_of_code(neuron):
    f, page = neuron
    data = json.loads(page.scripts[0])
    lines = f.source.splitlines()
    steps = data["steps"]
    assert len(steps) == 1 + len(f.program.forward) + 1 + len(f.program.backward)
    for step in steps[1:]:
        assert lines[step["line"]].strip().startswith(step["code"]), step
    assert [step["line"] for step in steps] == sorted(step["line"] for step in steps)
    # Every field the script fills in is a box's field, so nothing is computed there.
    assert set(data["fields"]) >= {field for step in steps for field, _ in step["set"]}


def test_the_embedded_data_cannot_end_its_script_element():
    f = symgrad.compile("x/y + x**2")
    page = f.to_html({"x": 1, "y": 2})
    data = page.split('id="symgrad-steps">')[1].split("</script>")[0]
    assert "<" not in data and "&" not in data
    json.loads(data)


def test_an_input_that_does_not_affect_the_value_gets_its_zero_line():
    f = symgrad.compile("x + 0*y")
    page = Page(f.to_html({"x": 1, "y": 2}))
    assert page.fields[("y", "grad")] == "grad 0"
    steps = json.loads(page.scripts[0])["steps"]
    assert steps[-1]["code"] == "grad_y = 0.0"


def test_large_graphs_and_bad_points_are_refused_in_words():
    big = symgrad.compile(" + ".join(f"x{i}" for i in range(302)))
    with pytest.raises(TooLargeError, match="at most 300"):
        to_html(big.program, {f"x{i}": 1.0 for i in range(302)}, big.artifact())
    f = symgrad.compile("log(x) * y")
    with pytest.raises(SymgradError, match="missing: y"):
        f.to_html({"x": 1})
    with pytest.raises(SymgradError, match="number"):
        f.to_html({"x": "one", "y": 1})
    with pytest.raises(SymgradError, match="log"):
        f.to_html({"x": -1, "y": 1})


def test_to_html_defaults_to_the_last_point_and_writes_the_file(tmp_path):
    f = symgrad.compile("x*y")
    with pytest.raises(SymgradError, match="value_and_grad"):
        f.to_html()
    f.value_and_grad(x=3.0, y=-4.0)
    path = tmp_path / "page.html"
    text = f.to_html(path=path)
    assert path.read_text(encoding="utf-8") == text
    page = Page(text)
    assert page.fields[("x", "grad")] == "grad -4" and page.fields[("y", "grad")] == "grad 3"


def test_the_command_writes_the_page(tmp_path, capsys):
    path = tmp_path / "page.html"
    status = cli.main([NEURON, "--at", *(f"{k}={v!r}" for k, v in POINT.items()),
                       "--html", str(path)])
    assert status == 0 and f"wrote {path}" in capsys.readouterr().err
    assert Page(path.read_text(encoding="utf-8")).fields[("w1", "grad")] == "grad 1"
    with pytest.raises(SystemExit):
        cli.main(["x*y", "--html", str(path)])
    assert "--html needs --at" in capsys.readouterr().err
