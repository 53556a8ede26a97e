"""Run LALR(1) tables that Lark built: a lexer and the shift/reduce loop, nothing else.

Lark turns ``grammar/symgrad.lark`` into tables once (``tables.py``); running them
takes only this module.  Importing Lark costs more than the rest of a command-line
run, and reducing straight into the caller's values, with no parse tree in
between, makes large programs parse several times faster.

The tree shape follows Lark's rules, so a grammar reads the same either way: a
rule named ``_x`` is spliced into its parent, a ``?rule`` with one kept child is
that child, tokens named ``_X`` and anonymous punctuation are dropped, and an
alias (``-> add``) names the node.  ``tests/test_grammar.py`` runs Lark itself
beside this parser on valid and broken programs.
"""

import re
from collections import namedtuple

END = "$END"
_NO_TOKEN = "_no_token_"  # the scanner's group for a character no terminal matches


class Token(namedtuple("Token", "type text pos")):
    """One token: its terminal's name, its text, and its offset in the text."""

    __slots__ = ()

    def __str__(self):
        return self.text


def position(text, pos):
    """(line, column) of offset ``pos`` in ``text``, both counted from 1.

    Tokens keep only their offset: a line and column are worked out for the few
    that an error message names, not for every token of a large program.
    """
    line_start = text.rfind("\n", 0, pos) + 1
    return text.count("\n", 0, pos) + 1, pos - line_start + 1


class Rule(namedtuple("Rule", "origin size name keep form splices")):
    """One production: ``size`` symbols reduce to ``origin``, which ``form`` says how to build.

    ``name`` is the alias or the origin; ``keep`` the positions of the children
    kept (None: all); ``splices`` whether a kept child may be an ``_rule``'s.
    ``form`` is "unit" (a ``?rule`` over one symbol: the child passes through),
    "inline" (an ``_rule``: its children join the parent's), "expand1" (a
    ``?rule``: one kept child passes through, more are built) or "build".
    """

    __slots__ = ()


class UnexpectedCharacter(Exception):
    """No terminal matches the text at ``pos``; ``allowed`` names what the parser could take."""

    def __init__(self, text, pos, allowed):
        self.pos, self.allowed = pos, allowed
        self.line, self.column = position(text, pos)
        super().__init__(f"no token matches at line {self.line}, column {self.column}")


class UnexpectedToken(Exception):
    """``token`` cannot come next; ``expected`` is the set of terminals that could."""

    def __init__(self, text, token, expected):
        self.token, self.expected = token, expected
        self.line, self.column = position(text, token.pos)
        super().__init__(f"unexpected {token.type} at line {self.line}, column {self.column}")


class Spliced(list):
    """The kept children of an ``_rule``, which join its parent's children."""

    __slots__ = ()


class Parser:
    """A lexer and an LALR(1) driver over tables in the form ``tables.generate`` writes."""

    def __init__(self, data):
        self.terminals = [name for name, _ in data["terminals"]]
        self.ignore = frozenset(data["ignore"])
        self.rules = [Rule(*rule) for rule in data["rules"]]
        self.actions = data["actions"]  # per state: symbol -> state to shift to, or ~rule
        self.start, self.end = data["start"], data["end"]
        # One pattern tries the terminals in Lark's order; the last group catches any
        # other character, so scanning never skips text.
        self._scan = re.compile("|".join([f"(?P<{name}>{pattern})"
                                          for name, pattern in data["terminals"]]
                                         + [f"(?P<{_NO_TOKEN}>[\\s\\S])"])).finditer

    def expected(self, state):
        """The terminals the parser accepts in ``state``."""
        return {symbol for symbol in self.actions[state] if symbol.isupper()}

    def lex(self, text, states=None):
        """The tokens of ``text``; ``states`` (the parser's stack) only words errors."""
        ignore = self.ignore
        for match in self._scan(text):
            kind = match.lastgroup
            if kind in ignore:
                continue
            if kind == _NO_TOKEN:
                pos = match.start()
                allowed = self.expected(states[-1]) - {END} if states else set(self.terminals)
                raise UnexpectedCharacter(text, pos, allowed)
            yield Token(kind, match.group(), match.start())

    def parse(self, text, build):
        """Parse ``text``; ``build(rule name, kept children, first token)`` makes each node.

        Returns the value built for the start rule.  Raises ``UnexpectedToken`` or
        ``UnexpectedCharacter`` at the first error.
        """
        actions, rules, end = self.actions, self.rules, self.end
        state = self.start
        states, values, firsts = [state], [], []
        for token in self._tokens_then_end(text, states):
            kind = token.type
            while True:
                action = actions[state].get(kind)
                if action is None:
                    raise UnexpectedToken(text, token, self.expected(state))
                if action >= 0:  # shift
                    state = action
                    states.append(state)
                    values.append(token)
                    firsts.append(token)
                    break
                origin, size, name, keep, form, splices = rules[~action]
                if form == "unit":  # the value and its first token stay as they are
                    del states[-1]
                else:
                    value, first = self._reduce(values, firsts, size, name, keep, form,
                                                splices, token, build)
                    del states[len(states) - size:]
                    values.append(value)
                    firsts.append(first)
                state = actions[states[-1]][origin]
                states.append(state)
                if state == end and kind == END:
                    return values[-1]

    @staticmethod
    def _reduce(values, firsts, size, name, keep, form, splices, token, build):
        """Pop ``size`` values; the value of the rule over them and its first token."""
        if size:
            children, first = values[-size:], firsts[-size]
            del values[-size:], firsts[-size:]
        else:  # an empty production starts where the lookahead does
            children, first = [], token
        kept = children if keep is None else [children[i] for i in keep]
        if splices:
            kept = _join(kept)
        if form == "inline":
            return (kept if type(kept) is Spliced else Spliced(kept)), first
        if form == "expand1" and len(kept) == 1:
            return kept[0], first
        return build(name, kept, first), first

    def _tokens_then_end(self, text, states):
        yield from self.lex(text, states)
        yield Token(END, "", len(text))


def _join(children):
    """``children`` with each ``Spliced`` child's children in its place.

    A left-recursive ``_rule`` (a list of statements) hands its list on at every
    reduction: extending that list in place keeps a long list linear, not quadratic.
    """
    if not children:
        return children
    first, *rest = children
    joined = first if type(first) is Spliced else [first]
    for child in rest:
        if type(child) is Spliced:
            joined.extend(child)
        else:
            joined.append(child)
    return joined
