"""``symgrad --print-completion bash|zsh|tcsh``: tab completion from the one parser.

The option is part of the parser whether or not shtab is installed (so the man
page and ``--help`` never change with it); shtab is imported only when it runs.
"""

import argparse
import sys

SHELLS = ("bash", "zsh", "tcsh")


class PrintCompletion(argparse.Action):
    """Print the completion script for a shell, made by shtab from the parser, and exit."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, choices=SHELLS, metavar="SHELL", **kwargs)

    def __call__(self, parser, namespace, shell, option_string=None):
        try:
            import shtab
        except ImportError:
            parser.exit(2, f"{parser.prog}: error: {option_string} needs the shtab package: "
                           "pip install 'symgrad[completion]'\n")
        for action in parser._actions:  # options naming a file complete file names
            if action.metavar == "FILE":
                action.complete = shtab.FILE
        sys.stdout.write(shtab.complete(parser, shell))
        parser.exit(0)


def add_to(parser):
    """Add ``--print-completion SHELL`` to ``parser``."""
    parser.add_argument("--print-completion", action=PrintCompletion, default=argparse.SUPPRESS,
                        help="print the tab-completion script for SHELL: bash, zsh or tcsh "
                             "(needs shtab)")
