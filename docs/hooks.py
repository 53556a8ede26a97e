"""MkDocs hook: the reference pages' tables are generated from the code at build time.

A page holds a marker where a table belongs; ``on_page_markdown`` replaces it:

- ``<!-- symgrad:operators -->`` and ``<!-- symgrad:functions -->``: every row of the
  operator table, ``symgrad/core/ops.py`` (a new row appears here by itself);
- ``<!-- symgrad:cli -->``: every option of ``symgrad.cli.build_parser()``, the parser
  behind ``symgrad --help`` and the man page.

``tests/test_docs.py`` calls these functions too, so a broken generator fails the
tests as well as ``mkdocs build --strict``.
"""

import argparse

from symgrad.core import ops

PRECEDENCE_WORDS = {ops.SUM: "sum (loosest)", ops.PRODUCT: "product", ops.UNARY: "sign",
                    ops.POWER: "power (right-associative, binds tighter than a sign on its left)",
                    ops.CALL: "call"}


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def _code(text):
    return f"`{_cell(text)}`" if text else ""


def _operands(op):
    return ("x", "y")[:op.arity]


def _kinks(op):
    """The conventions at points where the derivative does not exist, in words."""
    words = []
    for kink in op.kinks:
        if kink.derivative is None and "derivative" in op.note:
            continue  # the note says it already
        operand = _operands(op)[kink.operand]
        at = "a tie x = y" if kink.at == "tie" else f"{operand} = {kink.at:g}"
        if kink.derivative is None:
            words.append(f"no derivative at {at}: `EvaluationError`")
        else:
            words.append(f"d/d{operand} at {at} is {kink.derivative:g}")
    return "; ".join(words)


def _partials(op):
    return "<br>".join(f"d/d{operand}: `{_cell(partial)}`"
                       for operand, partial in zip(_operands(op), op.partials))


def _where(op):
    parts = [op.note] if op.note else []
    if op.total:
        parts.append("every real input")
    kinks = _kinks(op)
    if kinks:
        parts.append(kinks)
    return _cell("; ".join(parts))


def operators_markdown():
    """The infix operators: spelling, name, printing precedence, derivatives."""
    rows = ["| written | operator | binds as | local derivatives (`out` is the result) | defined |",
            "| --- | --- | --- | --- | --- |"]
    for op in ops.OPS.values():
        if op.symbol is None:
            continue
        written = f"{op.symbol}x" if op.arity == 1 else f"x {op.symbol} y"
        rows.append(f"| `{written}` | {op.name} | {PRECEDENCE_WORDS.get(op.precedence, '')} "
                    f"| {_partials(op)} | {_where(op)} |")
    return "\n".join(rows) + "\n"


def functions_markdown():
    """Every function of the language, with its rule, derivatives, domain and conventions."""
    rows = ["| function | rule | local derivatives (`out` is the result) | defined, conventions |",
            "| --- | --- | --- | --- |"]
    for name, op in ops.FUNCTIONS.items():
        call = f"`{name}({', '.join(_operands(op))})`"
        for arity, text in op.variants:
            call += f", `{name}({', '.join('xy'[:arity])})` = `{text}`"
        note = " (helper: the derivative of another function)" if op.internal else ""
        rows.append(f"| {call}{note} | {_code(op.rule)} | {_partials(op)} | {_where(op)} |")
    rows += ["", "Other spellings, as other tools write them: " + ", ".join(
        f"`{alias}` is `{op.name}`" if op.symbol is None else f"`{alias}(x, y)` is `x{op.symbol}y`"
        for alias, op in ops.ALIASES.items()) + ".",
             "", "Constants, unless the program assigns the name: " + ", ".join(
                 f"`{name}` = {value!r}" for name, value in ops.CONSTANTS.items()) + "."]
    return "\n".join(rows) + "\n"


def _flags(action):
    if not action.option_strings:
        return f"`{action.metavar or action.dest.upper()}`"
    metavar = ""
    if action.nargs != 0:
        metavar = " " + (action.metavar or action.dest.upper())
        if action.nargs == "+":
            metavar += " ..."
    return ", ".join(f"`{flag}{metavar}`" for flag in action.option_strings)


def cli_markdown():
    """``symgrad --help`` as Markdown: usage, one table row per option, the examples."""
    from symgrad import cli

    parser = cli.build_parser()
    exclusive = {id(action) for group in parser._mutually_exclusive_groups
                 for action in group._group_actions}
    rows = ["```text", parser.format_usage().strip(), "```", "",
            "| option | does |", "| --- | --- |"]
    for action in parser._actions:
        if action.help == argparse.SUPPRESS:
            continue
        help_text = action.help or ""
        if action.choices and action.option_strings:
            help_text += f" (one of: {', '.join(map(str, action.choices))})"
        if id(action) in exclusive:
            help_text += " *(one output option at a time)*"
        rows.append(f"| {_flags(action)} | {_cell(help_text)} |")
    rows += ["", "The examples that `symgrad --help` ends with:", "", "```text",
             parser.epilog.strip("\n"), "```"]
    return "\n".join(rows) + "\n"


MARKERS = {"<!-- symgrad:operators -->": operators_markdown,
           "<!-- symgrad:functions -->": functions_markdown,
           "<!-- symgrad:cli -->": cli_markdown}


def on_page_markdown(markdown, **_):
    for marker, make in MARKERS.items():
        if marker in markdown:
            markdown = markdown.replace(marker, make())
    return markdown
