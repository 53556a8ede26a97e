"""Regenerate the pictures in docs/images/ with symgrad's own code.

Run from the repository root: python docs/make_images.py

- neuron.svg: the lecture's neuron after ``value_and_grad``, drawn by ``symgrad.draw``
  (needs Graphviz's ``dot`` program and the ``graphviz`` package: ``symgrad[viz]``).
- stepper.html and stepper.png: the page ``--html`` writes for the lecture's neuron,
  and a screenshot of it halfway through the backward pass, taken in headless
  Chromium (needs Debian's ``chromium`` and ``chromium-driver`` and ``selenium``).
  ``tests/test_docs.py`` fails when the committed page differs from what the code
  writes now: then the screenshot is stale too, and this script renews both.
- moons.png: the decision boundary of the MLP that ``examples/moons.py`` trains,
  plotted by that example's own ``plot`` (needs matplotlib).

``python docs/make_images.py stepper`` (or ``neuron``, ``moons``) makes only those.
"""

import importlib.util
import shutil
import sys
import tempfile
from pathlib import Path

import symgrad
from symgrad.views import draw as viz

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
NEURON = "n = x1*w1 + x2*w2 + b; o = tanh(n); o"
LECTURE_POINT = dict(x1=2.0, x2=0.0, w1=-3.0, w2=1.0, b=6.8813735870195432)
# Headless, nothing fetched from the network, a fixed window for a stable picture.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--window-size=1280,1000")


def neuron_svg():
    """The neuron's graph with every value's data and gradient at the lecture's point."""
    neuron = symgrad.compile(NEURON)
    neuron.value_and_grad(**LECTURE_POINT)
    return viz.render(symgrad.draw(neuron).source, "svg")


def stepper_html():
    """The page ``symgrad NEURON --at ... --html`` writes: what the screenshot shows."""
    return symgrad.compile(NEURON).to_html(LECTURE_POINT)


def chromium(profile):
    """A headless Chromium driven by selenium, its profile in the directory ``profile``."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if binary is None or driver is None:
        raise SystemExit("the stepper's screenshot needs headless Chromium: "
                         "apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    return webdriver.Chrome(service=Service(driver), options=options)


def step_halfway_back(browser):
    """Press keys on the open stepper page until halfway through the backward pass."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    def press(key):
        ActionChains(browser).send_keys(key).perform()

    press(Keys.HOME)
    words = ""
    while not words.startswith("Backward through t2"):  # some grads still '?'
        press(Keys.ARROW_RIGHT)
        words = browser.find_element("id", "step-words").text
    press(Keys.ARROW_RIGHT)


def stepper_png(page):
    """The screenshot of the page file ``page``, halfway through the backward pass."""
    with tempfile.TemporaryDirectory() as profile:
        browser = chromium(profile)
        try:
            browser.get(Path(page).resolve().as_uri())
            step_halfway_back(browser)
            return browser.get_screenshot_as_png()
        finally:
            browser.quit()


def moons_png(path):
    """Train examples/moons.py's model and let it plot its decision boundary into ``path``."""
    moons = load_example("moons")
    _, loss, params, X, y, accuracy = moons.train(100)
    moons.plot(loss, params, X, y, str(path))
    return accuracy


def load_example(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(which=("neuron", "stepper", "moons")):
    IMAGES.mkdir(parents=True, exist_ok=True)
    if "neuron" in which:
        (IMAGES / "neuron.svg").write_bytes(neuron_svg())
        print(f"wrote {IMAGES / 'neuron.svg'}")
    if "stepper" in which:
        page = IMAGES / "stepper.html"
        page.write_text(stepper_html(), encoding="utf-8")
        (IMAGES / "stepper.png").write_bytes(stepper_png(page))
        print(f"wrote {page} and {IMAGES / 'stepper.png'}")
    if "moons" in which:
        accuracy = moons_png(IMAGES / "moons.png")
        print(f"wrote {IMAGES / 'moons.png'} (training accuracy {accuracy:.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ("neuron", "stepper", "moons")))
