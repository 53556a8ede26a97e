"""Programs outside Python that some tests need: Graphviz's ``dot``, Chromium and chromedriver.

Without one of them, the tests that need it are skipped, and the reason names the
package that provides it; the rest of the suite runs.  With
``SYMGRAD_REQUIRE_SYSTEM_TOOLS=1`` (set by ``.ci/run``, which installs them) a
missing tool is a failure instead, so CI cannot pass by skipping.
"""

import os
import shutil

import pytest

REQUIRED = "SYMGRAD_REQUIRE_SYSTEM_TOOLS"
GRAPHVIZ = "Graphviz's dot program: apt-get install graphviz (or brew install graphviz)"
CHROMIUM = ("headless Chromium and its driver: apt-get install chromium chromium-driver, "
            "and pip install selenium (or pip install -e '.[dev]')")


def required():
    """True when a missing tool must fail the test run (CI)."""
    return os.environ.get(REQUIRED) == "1"


def missing(what, needs):
    """Skip the calling test, saying what to install; fail instead when tools are required."""
    message = f"{what} needs {needs}"
    if required():
        pytest.fail(f"{message} ({REQUIRED}=1: a missing tool is a failure)", pytrace=False)
    pytest.skip(f"{message}; skipped (set {REQUIRED}=1 to make this a failure)")


def need_dot(what):
    """The path of Graphviz's ``dot``, or skip (fail under CI) with the package to install."""
    path = shutil.which("dot")
    if path is None:
        missing(what, GRAPHVIZ)
    return path


def need_chromium(what):
    """(chromium, chromedriver) paths with selenium importable, or skip (fail under CI)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    try:
        import selenium  # noqa: F401
    except ImportError:
        selenium = None
    if chromium is None or driver is None or selenium is None:
        missing(what, CHROMIUM)
    return chromium, driver
