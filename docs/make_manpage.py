"""Write docs/symgrad.1, the man page, from the command's one argparse parser.

argparse-manpage (in the dev extra) formats ``symgrad.cli.build_parser()``; the
options, their help and the examples are the ones ``symgrad --help`` prints, so
the page cannot say something else.  ``tests/test_manpage.py`` checks it is up to
date.  Run from anywhere:

    python docs/make_manpage.py
"""

import subprocess
import sys
from pathlib import Path

import symgrad

PAGE = Path(__file__).parent / "symgrad.1"


def manpage():
    """The man page's troff text, as argparse-manpage writes it."""
    command = ["--module", "symgrad.cli", "--function", "build_parser",
               "--project-name", "symgrad", "--version", symgrad.__version__,
               "--manual-title", "symgrad manual", "--description",
               "a symbolic expression compiler for gradients"]
    return subprocess.run(
        [sys.executable, "-c", "import sys; from argparse_manpage.cli import main; "
         "sys.argv[0] = 'argparse-manpage'; main()", *command],
        capture_output=True, text=True, check=True).stdout


if __name__ == "__main__":
    PAGE.write_text(manpage(), encoding="utf-8")
    print(f"wrote {PAGE}", file=sys.stderr)
