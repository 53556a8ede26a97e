"""The grammar and Lark's LALR tables for it, shipped inside the package as JSON.

Building the tables costs more than the rest of a small command-line run, so they
are generated once from the grammar (``python grammar/make_tables.py``) into
``parser_tables.json`` beside this module.  Nothing is ever loaded from a
user-writable place, and JSON is data: reading it runs no code (Lark's own cache
is a pickle).  Lark's table format belongs to the Lark version that wrote it, and
the grammar may have changed in a checkout, so stale tables are not used: the
parser is then built from the grammar in memory.
"""

import hashlib
import json
from pathlib import Path

import lark
from lark import Lark
from lark.grammar import Rule
from lark.lexer import TerminalDef

OPTIONS = {"parser": "lalr", "maybe_placeholders": False}
TABLES = Path(__file__).with_name("parser_tables.json")


def grammar_text():
    """The grammar, from the installed package or, in a checkout, from grammar/."""
    shipped = Path(__file__).parents[1] / "symgrad.lark"
    if not shipped.is_file():
        shipped = Path(__file__).parents[2] / "grammar" / "symgrad.lark"
    return shipped.read_text(encoding="utf-8")


def digest(grammar):
    return hashlib.sha256(grammar.encode("utf-8")).hexdigest()


def build(grammar):
    """Lark's parser for ``grammar``, tables built afresh."""
    return Lark(grammar, **OPTIONS)


def load():
    """The parser from the shipped tables; None if they are missing or stale."""
    try:
        stored = json.loads(TABLES.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if stored.get("lark") != lark.__version__ or stored.get("grammar_sha256") != digest(
            grammar_text()):
        return None
    tables = _decode(stored["tables"])
    return Lark._load_from_dict(tables["data"], tables["memo"])  # as Lark's standalone tool does


def generate(grammar):
    """The text of ``parser_tables.json`` for ``grammar`` and the installed Lark."""
    data, memo = build(grammar).memo_serialize([TerminalDef, Rule])
    stored = {"grammar_sha256": digest(grammar), "lark": lark.__version__,
              "tables": _encode({"data": data, "memo": memo})}
    return json.dumps(stored, separators=(",", ":")) + "\n"


def _encode(value):
    """JSON for Lark's tables, which hold tuples and integer keys: {"t": [...]}, {"d": pairs}."""
    if isinstance(value, dict):
        return {"d": [[_encode(key), _encode(item)] for key, item in value.items()]}
    if isinstance(value, tuple):
        return {"t": [_encode(item) for item in value]}
    if isinstance(value, list):
        return [_encode(item) for item in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"cannot store {type(value).__name__} in the parser tables")


def _decode(value):
    if isinstance(value, dict):
        if "t" in value:
            return tuple(_decode(item) for item in value["t"])
        return {_decode(key): _decode(item) for key, item in value["d"]}
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value
