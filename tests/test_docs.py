"""Every code block in README.md and docs/**/*.md runs and prints what the page shows.

Python blocks with ``>>>`` run as doctests, one namespace per page; other Python
blocks must run without error; ``$ symgrad ...`` lines run the command in-process
and compare its output.  Shell lines that install or run other tools are listed
in ``NOT_RUN_HERE``; any other block must be a plain-text illustration.  Python
blocks that import JAX run in a fresh interpreter, since JAX reads ``XLA_FLAGS``
(the device count) once, when it starts.
"""

import contextlib
import doctest
import io
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from symgrad import cli
from cases import NEEDS_JAX

ROOT = Path(__file__).parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
PAGE_IDS = [str(p.relative_to(ROOT)) for p in PAGES]
FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
PYTHON = {"python", "py", "pycon"}
SHELL = {"bash", "sh", "shell", "console"}
# Commands shown for people to type that a unit test cannot run (installs, the test
# suite itself, the generators of pictures, notebook and man page, the site's build,
# which test_the_site_builds_in_strict_mode runs).
NOT_RUN_HERE = ("python3 -m venv", ". .venv/bin/activate", "pip install", "pytest",
                "python docs/make_", "python examples/", "mkdocs ")
OPTIONS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


def blocks(path):
    """(language, text, line number) of each fenced block of a Markdown page."""
    text = path.read_text(encoding="utf-8")
    return [(m.group(1), m.group(2), text.count("\n", 0, m.start()) + 1)
            for m in FENCE.finditer(text)]


def run_doctest(text, name, line, namespace):
    """Failures of the ``>>>`` examples in ``text``, as the report doctest prints."""
    test = doctest.DocTestParser().get_doctest(text, {}, name, name, line)
    test.globs = namespace  # DocTest copies its globals; the page's blocks share one namespace
    runner = doctest.DocTestRunner(verbose=False, optionflags=OPTIONS)  # not -v from argv
    report = io.StringIO()
    runner.run(test, out=report.write, clear_globs=False)
    return report.getvalue()


def run_symgrad(command):
    """What ``symgrad ...`` prints (stdout and stderr), and its exit status."""
    output = io.StringIO()
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        try:
            status = cli.main(shlex.split(command)[1:])
        except SystemExit as exit_:  # argparse's --help and usage errors
            status = exit_.code
    return output.getvalue(), status


def shell_failures(text, where):
    """Problems with a block of ``$ command`` lines and their shown output."""
    failures, sessions = [], re.split(r"^\$ ", text, flags=re.M)[1:]
    for session in sessions:
        command, _, shown = session.partition("\n")
        if command.startswith("symgrad"):
            printed, _ = run_symgrad(command)
            if _lines(printed) != _lines(shown):
                failures.append(f"{where}: `{command}` printed\n{printed}\ninstead of\n{shown}")
        elif not command.startswith(NOT_RUN_HERE):
            failures.append(f"{where}: no rule to run `{command}`")
    return failures


def script_failures(text, where):
    """Problems with a shell block without prompts: every command must be known."""
    failures = []
    for line in filter(None, (ln.strip() for ln in text.splitlines())):
        for command in (part.strip() for part in line.split("&&")):
            if command.startswith("symgrad"):
                printed, status = run_symgrad(command)
                if status != 0:
                    failures.append(f"{where}: `{command}` failed:\n{printed}")
            elif not command.startswith(NOT_RUN_HERE):
                failures.append(f"{where}: no rule to run `{command}`")
    return failures


def _lines(text):
    return [line.rstrip() for line in text.strip("\n").splitlines()]


def page_failures(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    namespace, failures = {"__name__": "__docs__"}, []
    for language, text, line in blocks(path):
        where = f"{path.name}:{line}"
        if language in PYTHON and uses_jax(text):
            continue  # test_jax_blocks_run_in_a_fresh_interpreter
        if language in PYTHON and ">>>" in text:
            report = run_doctest(text, where, line, namespace)
            failures += [report] if report else []
        elif language in PYTHON:
            exec(compile(text, where, "exec"), namespace)  # the page's own code
        elif text.startswith("$ "):
            failures += shell_failures(text, where)
        elif language in SHELL:
            failures += script_failures(text, where)
        elif language not in ("", "text"):
            failures.append(f"{where}: no rule to run a {language!r} block")
    return failures


def uses_jax(text):
    return "import jax" in text


JAX_BLOCKS = [(path, text, line) for path in PAGES for language, text, line in blocks(path)
              if language in PYTHON and uses_jax(text)]


@NEEDS_JAX
@pytest.mark.parametrize("path, text, line", JAX_BLOCKS,
                         ids=[f"{p.name}:{line}" for p, _, line in JAX_BLOCKS])
def test_jax_blocks_run_in_a_fresh_interpreter(path, text, line, tmp_path):
    block = tmp_path / f"{path.stem}_{line}.txt"
    block.write_text(text, encoding="utf-8")
    command = ([sys.executable, "-m", "doctest", "-o", "NORMALIZE_WHITESPACE", "-o", "ELLIPSIS"]
               if ">>>" in text else [sys.executable])
    out = subprocess.run(command + [str(block)], capture_output=True, text=True, cwd=tmp_path,
                         timeout=600)
    assert out.returncode == 0, f"{path.name}:{line}\n{out.stdout}{out.stderr}"


@pytest.mark.parametrize("path", PAGES, ids=PAGE_IDS)
def test_every_block_runs_and_prints_what_the_page_shows(path, tmp_path, monkeypatch):
    failures = page_failures(path, tmp_path, monkeypatch)
    assert not failures, "\n\n".join(failures)


def test_the_tutorial_exists_and_is_mostly_examples():
    tutorial = ROOT / "docs" / "tutorial.md"
    examples = sum(text.count(">>> ") for language, text, _ in blocks(tutorial))
    assert examples >= 40


def test_a_wrong_shown_output_is_caught(tmp_path, monkeypatch):
    page = tmp_path / "page.md"
    page.write_text("```python\n>>> 1 + 1\n3\n```\n\n```\n$ symgrad x*y\nwrong\n```\n"
                    "```bash\nrm -rf /\n```\n")
    failures = page_failures(page, tmp_path, monkeypatch)
    assert len(failures) == 3
    assert "Expected:\n    3" in failures[0]
    assert "∂/∂x = y" in failures[1]
    assert "no rule to run `rm -rf /`" in failures[2]


@pytest.mark.parametrize("path", PAGES, ids=PAGE_IDS)
def test_every_picture_a_page_shows_is_committed(path):
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", path.read_text(encoding="utf-8"))
    missing = [p for p in pictures if not (path.parent / p).is_file()]
    assert not missing


def test_make_images_draws_the_neuron_with_symgrads_own_code(tmp_path, monkeypatch):
    program = tmp_path / "dot"  # a stand-in for Graphviz: echoes the DOT text it is given
    program.write_text("#!/bin/sh\n/bin/cat\n")
    program.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.syspath_prepend(str(ROOT / "docs"))
    import make_images

    dot = make_images.neuron_svg().decode()
    assert "{ x1 | data 2 | grad -1.5 }" in dot and "{ o | data 0.7071 | grad 1 }" in dot


def test_the_stepper_screenshot_shows_the_page_the_code_writes_now(monkeypatch):
    """docs/images/stepper.png is a picture of docs/images/stepper.html; the page must be current.

    Pixels differ between Chromium versions and fonts; the page's HTML does not.
    If this fails: python docs/make_images.py stepper (renews the page and the screenshot).
    """
    monkeypatch.syspath_prepend(str(ROOT / "docs"))
    import make_images

    committed = (ROOT / "docs" / "images" / "stepper.html").read_text(encoding="utf-8")
    assert committed == make_images.stepper_html(), (
        "docs/images/stepper.html (and so stepper.png) is stale: python docs/make_images.py stepper")


def site_hooks(monkeypatch):
    """docs/hooks.py, which generates the reference tables while the site builds."""
    monkeypatch.syspath_prepend(str(ROOT / "docs"))
    import hooks

    return hooks


def test_the_function_table_has_a_row_for_every_operator(monkeypatch):
    from symgrad.core.ops import OPS

    hooks = site_hooks(monkeypatch)
    tables = hooks.functions_markdown() + hooks.operators_markdown()
    for name, op in OPS.items():
        written = f"`{name}(" if op.symbol is None else f" {op.name} |"
        assert written in tables, name
        for partial in op.partials:
            assert f"`{partial}`" in tables.replace("\\|", "|"), (name, partial)
    page = (ROOT / "docs" / "reference" / "functions.md").read_text(encoding="utf-8")
    assert "<!-- symgrad:functions -->" in page
    assert "<!-- symgrad:" not in hooks.on_page_markdown(page)


def test_the_command_line_reference_lists_every_option(monkeypatch):
    hooks = site_hooks(monkeypatch)
    text = hooks.cli_markdown()
    for action in cli.build_parser()._actions:
        for flag in action.option_strings:
            assert f"`{flag}" in text, flag
    page = (ROOT / "docs" / "reference" / "cli.md").read_text(encoding="utf-8")
    assert "<!-- symgrad:cli -->" in page and "<!-- symgrad:" not in hooks.on_page_markdown(page)


def test_the_readme_is_a_front_door_that_links_into_the_site():
    """At most 250 lines; from it, one click to what a newcomer looks for first."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250
    links = set(re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme))
    for page in ("docs/reference/functions.md", "docs/reference/cli.md",
                 "docs/reference/numerics.md", "docs/contributing.md",
                 "docs/explanation/performance.md", "docs/tutorial.md"):
        assert page in links, page
    assert "docs/contributing.md#adding-an-operator" in readme
    for link in links:
        if not link.startswith(("http://", "https://")):
            assert (ROOT / link).exists(), link


def test_the_site_builds_in_strict_mode(tmp_path):
    """mkdocs build --strict: a broken link or anchor, a page missing from nav, a docstring
    mkdocstrings cannot read, any warning fails.  Needs the docs extra."""
    import importlib.util
    import os

    needed = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers")
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if missing:
        message = f"building the site needs {', '.join(missing)}: pip install -e '.[docs]'"
        if os.environ.get("SYMGRAD_REQUIRE_SYSTEM_TOOLS") == "1":
            pytest.fail(message + " (SYMGRAD_REQUIRE_SYSTEM_TOOLS=1)", pytrace=False)
        pytest.skip(message)
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    out = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                          str(tmp_path / "site")], cwd=ROOT, capture_output=True, text=True,
                         env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-5000:]
    functions = (tmp_path / "site" / "reference" / "functions" / "index.html").read_text()
    assert "sigmoid(x)" in functions and "symgrad:functions" not in functions
    api = (tmp_path / "site" / "reference" / "api" / "index.html").read_text()
    assert "value_and_grad" in api
    assert (tmp_path / "site" / "images" / "stepper.html").is_file()
