"""symgrad's table runner parses exactly as Lark does, on valid and broken programs.

``symgrad.core.lalr`` runs the LALR tables Lark built from the grammar; Lark
itself (imported only here and by ``grammar/make_tables.py``) is the oracle.
"""

import random

import lark
import pytest

from array_cases import PROGRAMS
from cases import CORPUS
from symgrad.core import lalr, tables

BROKEN = ["a b", "a $ b", "tanh(", "a +", ")", "a = = b", "x = 1", "2x", "a = 3; 4 = a", "f(,)",
          "a+ # c\nb c", "", " ", "\n\n", "# only", "a;;b", "tanh()", "1e", "1.e5", "..5", "a.b",
          "x=\n", "(a", "((a)", "a)", "a,b", "a +\n b", "(\n)", "= a", "a == b", "a ** ** b",
          "a */ b", "+", "a(b)(c)", "3(4)", "x = y = 3", "x\0", "x é", "a\n\n  b c", "f(a,"]


def mutations(texts, count, seed=7):
    """Each text with one to three random edits: mostly broken programs, some still valid."""
    rng = random.Random(seed)
    alphabet = "ab1.e+-*/^(),=;\n #xyz_9tanh"
    for text in texts:
        for _ in range(count):
            chars = list(text)
            for _ in range(rng.randint(1, 3)):
                pos = rng.randint(0, len(chars))
                if not chars or rng.random() < 0.4:
                    chars.insert(pos, rng.choice(alphabet))
                elif pos < len(chars):
                    chars[pos] = rng.choice(alphabet) if rng.random() < 0.5 else ""
            yield "".join(chars)


ARRAY_TEXTS = [text for text, _ in PROGRAMS.values()]  # declarations, indexing, keywords
TEXTS = [text for text, _ in CORPUS] + BROKEN + ARRAY_TEXTS
TEXTS += list(mutations(TEXTS[:300] + BROKEN + ARRAY_TEXTS, 4))


@pytest.fixture(scope="module")
def oracle():
    return lark.Lark(tables.grammar_text(), parser="lalr", maybe_placeholders=False)


def lark_outcome(parser, text):
    """Lark's tree as nested tuples, or where and why it stopped."""
    try:
        tree = parser.parse(text)
    except lark.exceptions.UnexpectedCharacters as error:
        return ("character", error.line, error.column, frozenset(error.allowed))
    except lark.exceptions.UnexpectedToken as error:
        return ("token", error.token.type, error.line, error.column, frozenset(error.expected))

    def plain(node):
        if isinstance(node, lark.Token):
            return (node.type, str(node), node.line, node.column)
        return (node.data, tuple(plain(child) for child in node.children))

    return plain(tree)


def our_outcome(parser, text):
    try:
        return parser.parse(text, lambda rule, children, first: (rule, tuple(children)))
    except lalr.UnexpectedCharacter as error:
        return ("character", error.line, error.column, frozenset(error.allowed))
    except lalr.UnexpectedToken as error:
        return ("token", error.token.type, error.line, error.column, frozenset(error.expected))


def plain_tokens(value, text):
    if isinstance(value, lalr.Token):
        return (value.type, value.text, *lalr.position(text, value.pos))
    return (value[0], tuple(plain_tokens(child, text) for child in value[1]))


def test_trees_and_errors_match_lark(oracle):
    ours = tables.load()
    ignored = set(ours.ignore)
    checked = {"tree": 0, "token": 0, "character": 0}
    for text in TEXTS:
        expected, got = lark_outcome(oracle, text), our_outcome(ours, text)
        if got[0] == "character":
            # Lark's contextual lexer also lists the ignored terminals as allowed.
            assert got[:3] == expected[:3] and got[3] == expected[3] - ignored, text
        elif got[0] == "token":
            # At the end of the input Lark names its line and column differently, and where
            # its contextual lexer fails it leaves out $END (which the parser would accept).
            assert got[1] == expected[1], text
            if got[1] != "$END":
                assert got[2:4] == expected[2:4], text
            assert got[4] - {"$END"} == expected[4] - ignored - {"$END"}, text
        else:
            got = plain_tokens(got, text)
            assert got == expected, text
        checked["tree" if got[0] not in checked else got[0]] += 1
    assert min(checked.values()) > 50, checked  # all three outcomes well represented


def test_lexer_positions_count_lines_and_columns_from_one():
    text = "a = x # note\n  y*2"
    tokens = list(tables.load().lex(text))
    assert [(t.type, t.text, *lalr.position(text, t.pos)) for t in tokens] == [
        ("NAME", "a", 1, 1), ("EQUAL", "=", 1, 3), ("NAME", "x", 1, 5), ("_SEP", "\n", 1, 13),
        ("NAME", "y", 2, 3), ("STAR", "*", 2, 4), ("NUMBER", "2", 2, 5)]


def test_shipped_tables_are_those_lark_builds_from_the_grammar():
    with open(tables.TABLES, encoding="utf-8") as file:
        shipped = file.read()
    # If this fails: python grammar/make_tables.py
    assert shipped == tables.generate(tables.grammar_text())


def test_stale_tables_are_rebuilt_from_the_grammar(monkeypatch):
    edited = tables.grammar_text().replace('"+" product      -> add', '"+" product      -> sub')
    monkeypatch.setattr(tables, "grammar_text", lambda: edited)
    parser = tables.load()
    tree = parser.parse("a + b", lambda rule, children, first: rule)
    assert tree == "start"
    rules = {rule.name for rule in parser.rules}
    assert "add" not in rules and "sub" in rules


def test_a_grammar_with_keywords_is_refused():
    grammar = 'start: NAME | "if" NAME\nNAME: /[a-z]+/\n%ignore " "\n'
    with pytest.raises(ValueError, match="keywords are not supported"):
        tables.tables_of(grammar)


def test_a_grammar_whose_terminal_looks_ahead_is_refused():
    grammar = 'start: NAME+\nNAME: /[a-z]+(?=;)/\n%ignore ";"\n'
    with pytest.raises(ValueError, match="NAME looks around or is anchored"):
        tables.tables_of(grammar)


@pytest.mark.parametrize("pattern, free", [
    (r"[A-Za-z_][A-Za-z0-9_]*", True), (r"(?:\*\*|\^)", True), (r"#[^\n]*", True),
    (r"\$", True), (r"a(?=b)", False), (r"a(?!b)", False), (r"(?<=a)b", False),
    (r"^a", False), (r"a$", False), (r"\bword\b", False)])
def test_only_terminals_that_match_the_same_text_anywhere_are_accepted(pattern, free):
    """The lexer tells a token's terminal from its text alone, which needs this: tables
    are built only for such terminals."""
    assert tables._context_free(pattern) is free
