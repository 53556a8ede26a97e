"""What a user or contributor checks about the package: install commands, license, metadata."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]


def readme_commands():
    """The two commands of the README's first shell block."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.*?)```", readme, re.S).group(1)
    return block.strip().splitlines()


def test_readme_opens_with_two_commands_and_ci_runs_exactly_them():
    install, test = readme_commands()
    assert "pip install -e '.[dev]'" in install and test == "pytest"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    # CI makes its own venv elsewhere, then runs the rest of the first command as written.
    for command in install.split(" && ")[2:]:
        assert re.search(rf"^{re.escape(command)}$", ci, re.M), command
    assert re.search(r"^pytest( -q)?$", ci, re.M)


def test_tests_run_the_code_in_this_checkout():
    """With ``pip install -e`` an edit to symgrad/ is what pytest and ``symgrad`` run."""
    code = "import symgrad, sys; print(symgrad.__file__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd="/").stdout.strip()
    assert Path(out).resolve() == (ROOT / "symgrad" / "__init__.py").resolve(), (
        f"symgrad is imported from {out}, not from this checkout: pip install -e '.[dev]'")


def test_license_file_and_field_agree():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "WITHOUT WARRANTY OF ANY KIND" in text
    assert PROJECT["license"] == "MIT" and PROJECT["license-files"] == ["LICENSE"]
    requires = PYPROJECT["build-system"]["requires"]
    assert any(re.fullmatch(r"hatchling>=1\.(2[7-9]|[3-9]\d)", r) for r in requires)


def test_metadata_has_classifiers_and_no_placeholder():
    assert "Typing :: Typed" in PROJECT["classifiers"]
    assert not any(c.startswith("License ::") for c in PROJECT["classifiers"])  # PEP 639
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8").lower()
    for placeholder in ("example.com", "todo", "your-", "<user>", "username", "xxx"):
        assert placeholder not in text
    for url in PROJECT.get("urls", {}).values():
        assert url.startswith("https://")


def test_the_wheel_ships_the_data_files_it_needs():
    """py.typed and the parser tables lie inside symgrad/; the grammar is forced in."""
    wheel = PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]
    assert wheel["packages"] == ["symgrad"]
    for inside in ("py.typed", "core/parser_tables.json"):
        assert (ROOT / "symgrad" / inside).is_file()
    assert wheel["force-include"] == {"grammar/symgrad.lark": "symgrad/symgrad.lark"}
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8")  # hatch leaves these out
    assert not re.search(r"^(\*\.json|\*\.typed|\*\.lark)$", ignored, re.M)


def test_ci_requires_the_system_tools_it_installs():
    """Without dot or Chromium their tests skip; CI installs them and makes a skip a failure."""
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^export SYMGRAD_REQUIRE_SYSTEM_TOOLS=1$", ci, re.M)
    for package in ("chromium", "chromium-driver", "graphviz"):
        assert re.search(rf"apt-get install .*\b{package}\b", ci), package
