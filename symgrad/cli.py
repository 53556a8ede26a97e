"""The ``symgrad`` command: a thin shell over the library."""

import argparse
import sys

from . import __version__, compile
from .errors import SymgradError


def build_parser():
    parser = argparse.ArgumentParser(
        prog="symgrad",
        description="Differentiate a program by the chain rule and show its derivatives.",
        epilog='example: symgrad "tanh(a*b + c)"',
    )
    parser.add_argument("program", help="the program, e.g. 'tanh(a*b + c)'")
    parser.add_argument("--version", action="version", version=f"symgrad {__version__}")
    return parser


def main(argv=None):
    """Run the command; return the exit status (2 for bad input)."""
    args = build_parser().parse_args(argv)
    try:
        f = compile(args.program)
    except SymgradError as error:
        print(f"symgrad: {error}", file=sys.stderr)
        return 2
    print(f.expression)
    for name, text in f.derivatives.items():
        print(f"  ∂/∂{name} = {text}")
    return 0
