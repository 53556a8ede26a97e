"""docs/tutorial.ipynb is the tutorial, and it runs in a real Jupyter kernel.

Running it needs Graphviz's ``dot`` (the notebook draws graphs as SVG): without
it those tests are skipped, naming the package, unless
``SYMGRAD_REQUIRE_SYSTEM_TOOLS=1`` (set by .ci/run, which installs it) makes that
a failure.
"""

import copy
import re

import nbformat
import pytest

import system_tools
from test_docs import ROOT

NOTEBOOK = ROOT / "docs" / "tutorial.ipynb"


@pytest.fixture(scope="module")
def make_notebook():
    import sys

    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import make_notebook
    finally:
        sys.path.remove(str(ROOT / "docs"))
    return make_notebook


@pytest.fixture(scope="module")
def committed():
    return nbformat.read(NOTEBOOK, as_version=4)


@pytest.fixture(scope="module")
def executed(committed, make_notebook, tmp_path_factory):
    system_tools.need_dot("running the notebook (it draws graphs as SVG)")
    notebook = copy.deepcopy(committed)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    # Raises CellExecutionError, with the cell and its traceback, on any error.
    return make_notebook.execute(notebook, tmp_path_factory.mktemp("kernel"))


def test_the_committed_notebook_is_the_tutorial(committed, make_notebook):
    fresh = make_notebook.build()
    shape = [(cell.cell_type, cell.source) for cell in committed.cells]
    # If this fails: python docs/make_notebook.py
    assert shape == [(cell.cell_type, cell.source) for cell in fresh.cells]


def test_the_committed_notebook_holds_its_outputs(committed):
    assert {"image/svg+xml", "text/latex", "text/html"} <= mime_types(committed)


def test_the_notebook_runs_and_shows_svg_graphs_and_latex_derivatives(executed):
    kinds = mime_types(executed)
    assert {"image/svg+xml", "text/latex", "text/html"} <= kinds
    html = [output["data"]["text/html"] for output in outputs(executed)
            if "text/html" in output.get("data", {})]
    assert any("<svg" in part and "\\frac{\\partial" in part for part in html)  # symgrad's view
    assert any("<iframe srcdoc=" in part and "grad_w1" in part for part in html)  # the stepper
    assert not [o for o in outputs(executed) if o["output_type"] == "error"]


def test_the_committed_outputs_are_what_the_notebook_prints_now(committed, executed):
    """Text outputs only: SVG differs between Graphviz versions."""
    assert texts(executed) == texts(committed)


def outputs(notebook):
    return [output for cell in notebook.cells if cell.cell_type == "code"
            for output in cell.outputs]


def mime_types(notebook):
    return {kind for output in outputs(notebook) for kind in output.get("data", {})}


def texts(notebook):
    """Every printed or shown text, memory addresses blanked."""
    found = []
    for output in outputs(notebook):
        text = output.get("text") or output.get("data", {}).get("text/plain", "")
        found.append(re.sub(r"0x[0-9a-f]+", "0x...", text))
    return found
