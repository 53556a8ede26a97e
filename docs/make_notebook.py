"""Write docs/tutorial.ipynb from docs/tutorial.md, executed, outputs included.

The Markdown page stays the one source (``tests/test_docs.py`` doctests it); this
script turns its prose into Markdown cells and its ``>>>`` examples into code
cells (an example that prints or shows a value ends a cell, so each value is
displayed), keeps other blocks as Markdown, and adds the cells written in
``<!-- notebook ... -->`` comments, which only the notebook shows (the rich
displays a page cannot).  Then it runs the notebook in a Jupyter kernel
(nbclient, ipykernel) and saves it.  Run from anywhere:

    python docs/make_notebook.py
"""

import doctest
import re
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

DOCS = Path(__file__).parent
FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```[ \t]*\n?", re.S | re.M)
NOTEBOOK_ONLY = re.compile(r"^<!-- notebook\n(.*?)^-->\n?", re.S | re.M)
TIMEOUT = 120  # seconds a cell may take


def cells(markdown):
    """The notebook's cells (unexecuted) for the tutorial's Markdown text."""
    result, prose = [], []

    def flush():
        text = "".join(prose).strip()
        if text:
            result.append(nbformat.v4.new_markdown_cell(text))
        prose.clear()

    for kind, text in _pieces(markdown):
        if kind == "prose":
            prose.append(text)
        else:
            flush()
            result += [nbformat.v4.new_code_cell(source) for source in text]
    flush()
    return result


def _pieces(markdown):
    """("prose", text) and ("code", [cell sources]) in page order."""
    position = 0
    for match in FENCE.finditer(markdown):
        yield from _prose(markdown[position:match.start()])
        language, body = match.group(1), match.group(2)
        if language in ("python", "pycon") and ">>>" in body:
            yield "code", _doctest_cells(body)
        else:
            yield "prose", match.group(0)
        position = match.end()
    yield from _prose(markdown[position:])


def _prose(text):
    position = 0
    for match in NOTEBOOK_ONLY.finditer(text):
        yield "prose", text[position:match.start()]
        yield "code", [match.group(1).strip()]
        position = match.end()
    yield "prose", text[position:]


def _doctest_cells(text):
    """One cell per run of examples, ended by each example that prints or shows something."""
    sources, current = [], []
    for example in doctest.DocTestParser().get_examples(text):
        current.append(example.source.rstrip("\n"))
        if example.want:
            sources.append("\n".join(current))
            current = []
    if current:
        sources.append("\n".join(current))
    return sources


def build():
    """The tutorial as an unexecuted notebook."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = cells((DOCS / "tutorial.md").read_text(encoding="utf-8"))
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    notebook.metadata["language_info"] = {"name": "python"}
    for index, cell in enumerate(notebook.cells):  # ids that do not change with every run
        cell.id = f"cell-{index}"
    return notebook


def execute(notebook, workdir):
    """Run every cell in a fresh kernel started in ``workdir``; raises on any error."""
    client = NotebookClient(notebook, timeout=TIMEOUT, kernel_name="python3",
                            record_timing=False, resources={"metadata": {"path": str(workdir)}})
    client.execute()
    return notebook


def main():
    notebook = build()
    with tempfile.TemporaryDirectory() as workdir:  # files the tutorial writes go here
        execute(notebook, workdir)
    nbformat.write(notebook, DOCS / "tutorial.ipynb")
    print(f"wrote {DOCS / 'tutorial.ipynb'}: {len(notebook.cells)} cells", file=sys.stderr)


if __name__ == "__main__":
    main()
