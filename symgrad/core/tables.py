"""The grammar's LALR tables, built by Lark and shipped inside the package as JSON.

Lark builds the tables from ``grammar/symgrad.lark`` once (``python
grammar/make_tables.py``) into ``parser_tables.json`` beside this module; ``lalr``
runs them.  So a run imports neither Lark nor anything from a user-writable
place, and JSON is data: reading it runs no code.  The file stores the grammar it
came from; in a checkout whose grammar was edited since, the tables are built
again in memory, with Lark.
"""

import json
import os
import re

from .lalr import Parser

# os.path, not pathlib: pathlib is slow to import, and this runs at every start.
HERE = os.path.dirname(os.path.abspath(__file__))
TABLES = os.path.join(HERE, "parser_tables.json")


def grammar_text():
    """The grammar, from the installed package or, in a checkout, from grammar/."""
    package = os.path.dirname(HERE)
    shipped = os.path.join(package, "symgrad.lark")
    if not os.path.isfile(shipped):
        shipped = os.path.join(os.path.dirname(package), "grammar", "symgrad.lark")
    return _read(shipped)


def load():
    """The parser for the grammar: from the shipped tables unless they are stale."""
    grammar = grammar_text()
    try:
        stored = json.loads(_read(TABLES))
    except (OSError, ValueError):
        stored = {}
    if stored.get("grammar") != grammar:
        stored = tables_of(grammar)
    return Parser(stored)


def _read(path):
    with open(path, encoding="utf-8") as file:
        return file.read()


def generate(grammar):
    """The text of ``parser_tables.json`` for ``grammar``."""
    return json.dumps(tables_of(grammar), indent=None, separators=(",", ":")) + "\n"


def tables_of(grammar):
    """Lark's LALR(1) tables for ``grammar``, as the plain data ``lalr.Parser`` runs."""
    from lark import Lark  # only when the grammar changed: Lark is slow to import

    lark = Lark(grammar, parser="lalr", lexer="basic", maybe_placeholders=False)
    terminals = lark.parser.lexer.terminals  # in the order the lexer tries them
    _refuse_keywords(terminals)
    _refuse_context([t for t in terminals if t.name not in lark.ignore_tokens])
    table = lark.parser.parser.parser.parse_table
    index = {rule: number for number, rule in enumerate(lark.rules)}
    # Lark numbers states in an order that varies from run to run (string hashing);
    # number them breadth-first from the start, symbols in sorted order, instead.
    start = table.start_states["start"]
    order, number = [start], {start: 0}
    for state in order:
        for symbol, (action, target) in sorted(table.states[state].items()):
            if action.name == "Shift" and target not in number:
                number[target] = len(order)
                order.append(target)
    assert len(order) == len(table.states), "every state is reachable from the start"
    actions = [{symbol: (number[target] if action.name == "Shift" else ~index[target])
                for symbol, (action, target) in sorted(table.states[state].items())}
               for state in order]
    rules = [_rule(rule) for rule in lark.rules]
    return {"grammar": grammar,
            "terminals": [[t.name, t.pattern.to_regexp()] for t in terminals],
            "ignore": sorted(lark.ignore_tokens), "rules": rules, "actions": actions,
            "start": 0, "end": number[table.end_states["start"]]}


def _rule(rule):
    """One production as ``lalr.Rule`` data, read with Lark's rules for its tree."""
    kept = [i for i, symbol in enumerate(rule.expansion)
            if not (symbol.is_term and symbol.filter_out)]
    spliced = [not rule.expansion[i].is_term and rule.expansion[i].name.startswith("_")
               for i in kept]
    expand1 = bool(rule.options.expand1 and not rule.alias)
    if rule.origin.name.startswith("_"):
        form = "inline"
    elif expand1 and len(rule.expansion) == 1 and kept == [0] and not any(spliced):
        form = "unit"
    else:
        form = "expand1" if expand1 else "build"
    keep = None if len(kept) == len(rule.expansion) else kept
    return [rule.origin.name, len(rule.expansion), rule.alias or rule.origin.name, keep, form,
            any(spliced)]


def _refuse_keywords(terminals):
    """Lark lexes a string that a pattern also matches (a keyword) by a special rule; we don't."""
    patterns = [t for t in terminals if t.pattern.type == "re"]
    for literal in (t for t in terminals if t.pattern.type == "str"):
        for pattern in patterns:
            if re.fullmatch(pattern.pattern.to_regexp(), literal.pattern.value):
                raise ValueError(f"{literal.name} is also matched by {pattern.name}: "
                                 "keywords are not supported")


def _refuse_context(terminals):
    """``lalr`` tells a token's terminal from its text alone: no terminal may look around."""
    for terminal in terminals:
        pattern = terminal.pattern.to_regexp()
        if not _context_free(pattern):
            raise ValueError(f"terminal {terminal.name} looks around or is anchored ({pattern}):"
                             " its text alone could not tell which terminal it is")


def _context_free(pattern):
    """Whether a terminal's regex matches the same text wherever it is: no lookaround,
    anchor or word boundary (escapes and character-class negations aside)."""
    plain = re.sub(r"\\.|\[\^", "", pattern)
    return not (re.search(r"\(\?(?:=|!|<[=!])|[$^]", plain)
                or re.search(r"\\[bBAZz]", pattern))
