"""C spelling shared by the C backend's printers: literals and safe comments."""

from ..core.printer import ATOM, UNARY


def literal(value):
    """(text, precedence) of a constant as a C double."""
    if value != value:
        return "NAN", ATOM
    if value in (float("inf"), float("-inf")):
        return ("INFINITY", ATOM) if value > 0 else ("-INFINITY", UNARY)
    text = repr(float(value))  # shortest round trip; always has '.' or 'e', so a double
    return text, UNARY if text.startswith("-") else ATOM


def comment(text):
    """``text`` safe inside a // comment (no line splice, no newline)."""
    return text.replace("\\", "/").replace("\n", " ").replace("??", "? ?")
