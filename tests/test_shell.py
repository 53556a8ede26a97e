"""Shell completion and the man page, both made from the one parser in symgrad/cli.py."""

import contextlib
import io
import re
import subprocess
import sys

import pytest

from symgrad import cli
from test_docs import ROOT


def run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        with pytest.raises(SystemExit) as exit_:
            cli.main(argv)
    return exit_.value.code, out.getvalue(), err.getvalue()


def option_strings():
    return {s for action in cli.build_parser()._actions for s in action.option_strings}


@pytest.mark.parametrize("shell", ["bash", "zsh", "tcsh"])
def test_completion_scripts_offer_every_option(shell):
    status, script, _ = run(["--print-completion", shell])
    assert status == 0
    long_options = {s for s in option_strings() if s.startswith("--")}
    assert all(option.lstrip("-") in script for option in long_options)  # tcsh drops the --
    assert "python" in script and "numpy" in script  # --backend's choices


def test_the_bash_script_is_valid_bash_and_completes_options(tmp_path):
    _, script, _ = run(["--print-completion", "bash"])
    (tmp_path / "symgrad.bash").write_text(script)
    # Complete 'symgrad --bac' the way bash would, through the script's function.
    probe = ('source symgrad.bash; COMP_WORDS=(symgrad --bac); COMP_CWORD=1; '
             'COMP_LINE="symgrad --bac"; COMP_POINT=${#COMP_LINE}; '
             '_shtab_symgrad symgrad --bac symgrad; printf "%s\\n" "${COMPREPLY[@]}"')
    result = subprocess.run(["bash", "-c", probe], cwd=tmp_path, capture_output=True, text=True)
    assert result.stdout.split() == ["--backend"], result.stderr


def test_completion_without_shtab_says_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "shtab", None)  # import shtab now raises ImportError
    status, out, err = run(["--print-completion", "bash"])
    assert status == 2 and out == ""
    assert "needs the shtab package: pip install 'symgrad[completion]'" in err


def test_an_unknown_shell_is_a_usage_error():
    status, _, err = run(["--print-completion", "fish"])
    assert status == 2 and "invalid choice: 'fish'" in err


def test_the_man_page_is_up_to_date_with_the_parser():
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import make_manpage
    finally:
        sys.path.remove(str(ROOT / "docs"))
    committed = (ROOT / "docs" / "symgrad.1").read_text(encoding="utf-8")

    def undated(page):  # .TH carries the date the page was made
        return re.sub(r'^(\.TH \S+ "1" )"[^"]*"', r"\1", page, flags=re.M)

    # If this fails: python docs/make_manpage.py
    assert undated(make_manpage.manpage()) == undated(committed)
    for option in option_strings() - {"-h", "--help"}:  # the page needs no --help
        assert option.replace("-", "\\-") in committed
