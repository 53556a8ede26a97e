"""The stepping page in a real browser: headless Chromium clicks through the lecture's neuron
and an array program.

Needs Debian's ``chromium`` and ``chromium-driver`` packages and the ``selenium``
package (in the ``dev`` extra).  Without them these tests are skipped, saying how
to install them, unless ``SYMGRAD_REQUIRE_SYSTEM_TOOLS=1`` (CI) makes that a
failure; ``SYMGRAD_NO_BROWSER=1`` skips them on purpose.  The browser never
touches the network: the page is opened from a file.
"""

import os
import sys
from pathlib import Path

import pytest
import sympy

import symgrad
import system_tools
from array_cases import SOFTMAX_REGRESSION, softmax_regression_point

ROOT = Path(__file__).parent.parent
NEURON = "n = x1*w1 + x2*w2 + b; o = tanh(n); o"
POINT = {"x1": 2.0, "w1": -3.0, "x2": 0.0, "w2": 1.0, "b": 6.8813735870195432}
sys.path.insert(0, str(ROOT / "docs"))
import make_images  # noqa: E402  (docs/ holds the picture generator, not a package)

sys.path.remove(str(ROOT / "docs"))


def expected_gradients():
    """d o / d node for every box of the neuron, and o, by SymPy from the lecture's formulas.

    Each intermediate gets a symbol of its own, so SymPy differentiates o with
    respect to it; values are substituted at 30 digits.
    """
    x1, w1, x2, w2, b, t1, t2, t3, n, o = sympy.symbols("x1 w1 x2 w2 b t1 t2 t3 n o")
    inputs = {x1: POINT["x1"], w1: POINT["w1"], x2: POINT["x2"], w2: POINT["w2"], b: POINT["b"]}
    at = {s: sympy.Float(v, 30) for s, v in inputs.items()}
    at[t1], at[t2] = (x1 * w1).subs(at), (x2 * w2).subs(at)
    at[t3] = at[t1] + at[t2]
    at[n] = at[t3] + at[b]
    at[o] = sympy.tanh(at[n])
    o_over = {  # o written over each node, with everything else as the lecture computes it
        "o": o, "n": sympy.tanh(n), "t3": sympy.tanh(t3 + b),
        "t1": sympy.tanh(t1 + x2 * w2 + b), "t2": sympy.tanh(x1 * w1 + t2 + b),
        **{str(s): sympy.tanh(x1 * w1 + x2 * w2 + b) for s in inputs},
    }
    symbols = {str(s): s for s in (x1, w1, x2, w2, b, t1, t2, t3, n, o)}
    grads = {name: float(sympy.diff(e, symbols[name]).subs(at)) for name, e in o_over.items()}
    return float(at[o]), grads


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if os.environ.get("SYMGRAD_NO_BROWSER") == "1":
        pytest.skip("SYMGRAD_NO_BROWSER=1: the browser test was turned off on purpose")
    system_tools.need_chromium("the browser test")
    driver = make_images.chromium(tmp_path_factory.mktemp("chromium"))
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def page(browser, tmp_path_factory):
    path = tmp_path_factory.mktemp("page") / "neuron.html"
    symgrad.compile(NEURON).to_html(POINT, path)
    browser.get(path.as_uri())
    return browser


def shown(driver, kind):
    """{box name: the number its data or grad field shows, or None for '?'}."""
    fields = driver.find_elements("css selector", f"text.{kind}")
    result = {}
    for field in fields:
        number = field.text.split()[1]
        result[field.get_attribute("data-name")] = None if number == "?" else float(number)
    return result


def press(driver, key):
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys(key).perform()


def test_stepping_through_the_neuron_shows_each_gradient_sympy_finds(page):
    from selenium.webdriver.common.keys import Keys

    value, expected = expected_gradients()
    count = int(page.find_element("id", "step-count").text.split()[-1])
    assert page.find_element("id", "step-count").text == f"Step 0 of {count}"
    # At the start only the inputs are known.
    assert shown(page, "grad") == dict.fromkeys(expected)
    assert shown(page, "data")["x1"] == 2.0 and shown(page, "data")["o"] is None
    seen = {}
    for step in range(1, count + 1):
        if step % 3 == 0:  # every third step by the keyboard, the others by the button
            press(page, Keys.ARROW_RIGHT)
        else:
            page.find_element("id", "next").click()
        assert page.find_element("id", "step-count").text == f"Step {step} of {count}"
        lines = page.find_elements("css selector", ".line.current")
        assert len(lines) == 1
        code = page.find_element("id", "step-code").text
        assert lines[0].text.strip().startswith(code)
        for name, number in shown(page, "grad").items():
            if number is not None and name not in seen:
                seen[name] = number
                # The line that filled in this gradient is the one highlighted.
                assert code.startswith(f"grad_{name} ")
                assert number == pytest.approx(expected[name], rel=1e-3, abs=1e-9), name
    assert set(seen) == set(expected)
    assert [seen[name] for name in ("x1", "w1", "x2", "w2")] == [-1.5, 1.0, 0.5, 0.0]
    assert shown(page, "data")["o"] == pytest.approx(value, rel=1e-3)
    assert page.find_element("id", "next").get_property("disabled")


def test_stepping_back_hides_what_the_line_computed(page):
    from selenium.webdriver.common.keys import Keys

    press(page, Keys.END)
    last = shown(page, "grad")
    assert None not in last.values()
    press(page, Keys.ARROW_LEFT)  # undoes grad_w1 = grad_t1 * x1, the last line
    assert shown(page, "grad")["w1"] is None and shown(page, "grad")["x1"] == last["x1"]
    page.find_element("id", "prev").click()
    assert shown(page, "grad")["x1"] is None
    press(page, Keys.HOME)
    assert set(shown(page, "grad").values()) == {None}


def test_the_screenshot_routine_of_make_images_works(page):
    """docs/make_images.py takes the stepper's screenshot this way; here into memory only."""
    make_images.step_halfway_back(page)
    assert page.find_element("id", "step-words").text  # still on a step, not at the end
    assert shown(page, "grad")["o"] == 1.0 and shown(page, "grad")["x1"] is None
    image = page.get_screenshot_as_png()
    assert image.startswith(b"\x89PNG") and len(image) > 10_000  # a page, not a blank


@pytest.fixture(scope="module")
def array_page(browser, tmp_path_factory):
    point = softmax_regression_point(2)
    f = symgrad.compile(SOFTMAX_REGRESSION)
    path = tmp_path_factory.mktemp("page") / "arrays.html"
    f.to_html(point, path)
    browser.get(path.as_uri())
    return browser, f, point


def test_stepping_through_an_array_program_shows_each_lines_shape_and_values(array_page):
    import numpy as np

    from symgrad.core.printer import format_short

    page, f, point = array_page
    _, _, trace = f.trace(**point)
    count = int(page.find_element("id", "step-count").text.split()[-1])
    assert count == len(trace) == len(f.program.forward) + len(f.program.backward)
    assert shown_text(page, "data")["logits"] == "?" and shown_text(page, "data")["X"] == "5×3"
    targets = [s.name for s in f.program.forward] + [s.target for s in f.program.backward]
    for step, (target, value) in enumerate(zip(targets, trace), start=1):
        page.find_element("id", "next").click()
        assert page.find_element("id", "step-count").text == f"Step {step} of {count}"
        lines = page.find_elements("css selector", ".line.current")
        assert len(lines) == 1
        code = page.find_element("id", "step-code").text
        assert code.startswith(f"{target} = ") and lines[0].text.strip().startswith(code)
        preview = page.find_element("css selector", "#step-preview table.heat")
        shape = "×".join(map(str, np.shape(value))) or "scalar"
        assert preview.find_element("tag name", "caption").text == f"{target}: {shape}"
        first = preview.find_element("tag name", "td").text
        assert first == format_short(np.ravel(value)[0])
        if step == 2:  # logits = t1 + b has run: its box holds its shape
            assert shown_text(page, "data")["logits"] == "5×4"
    assert shown_text(page, "grad")["W"] == "3×4" and shown_text(page, "grad")["X"] == "5×3"
    page.find_element("id", "first").click()
    assert shown_text(page, "grad")["W"] == "?" and shown_text(page, "data")["logits"] == "?"
    assert page.find_element("id", "step-preview").text == ""


def shown_text(driver, kind):
    """{box name: the text after "data" or "grad" in its field}."""
    return {field.get_attribute("data-name"): field.text.split(" ", 1)[1]
            for field in driver.find_elements("css selector", f"text.{kind}")}
