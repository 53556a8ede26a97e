"""Write docs/functions.md, the list of the language's functions, from the operator table.

Every row of ``symgrad/core/ops.py`` that the language calls by name gives one
line: how to call it, its local derivatives (the rule generated code quotes),
where it is defined and its conventions; other spellings symgrad accepts follow.
``tests/test_language.py`` checks the committed page is what this prints.  Run:

    python docs/make_functions.py
"""

from pathlib import Path

from symgrad.core.ops import ALIASES, CONSTANTS, FUNCTIONS, OPS

PAGE = Path(__file__).parent / "functions.md"


def functions_markdown():
    """The page's Markdown text."""
    lines = ["# Functions", "",
             "Generated from the operator table (`symgrad/core/ops.py`) by "
             "`python docs/make_functions.py`; do not edit by hand.", "",
             "| call | derivative | defined, conventions |", "| --- | --- | --- |"]
    for name, op in FUNCTIONS.items():
        call = f"`{name}({', '.join('xy'[:op.arity])})`"
        for arity, text in op.variants:
            call += f", `{name}({', '.join('xy'[:arity])})` = `{text}`"
        lines.append(f"| {call} | {op.rule} | {_conventions(op)} |")
    lines += ["", "Other spellings, as other tools write them:", ""]
    lines += [f"- `{alias}` is `{op.name}`" if op.symbol is None
              else f"- `{alias}(x, y)` is `x{op.symbol}y`" for alias, op in ALIASES.items()]
    lines += ["", "Constants, unless the program assigns the name: "
              + ", ".join(f"`{name}` = {value!r}" for name, value in CONSTANTS.items()) + ".",
              "", "Infix operators: " + ", ".join(
                  f"`{op.symbol}` ({name})" for name, op in OPS.items() if op.symbol) + "."]
    return "\n".join(lines) + "\n"


def _conventions(op):
    """What a learner should know where ``op`` is defined and at its kinks."""
    parts = [op.note] if op.note else []
    for kink in (k for k in op.kinks if k.derivative is not None):  # else in the note
        operand = "xy"[kink.operand]
        at = "a tie x = y" if kink.at == "tie" else f"{operand} = {kink.at:g}"
        parts.append(f"d/d{operand} at {at}: {kink.derivative:g}")
    if op.internal:
        parts.append("used by other derivatives")
    return "; ".join(parts) or "every real x"


if __name__ == "__main__":
    PAGE.write_text(functions_markdown(), encoding="utf-8")
    print(f"wrote {PAGE}")
