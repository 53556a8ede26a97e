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
from functools import partial
from itertools import chain

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
    kept, counted from the end (-3 is the first of three; None: all); ``splices``
    whether a kept child may be an ``_rule``'s.
    ``form`` is "unit" (a ``?rule`` over one symbol: the child passes through),
    "inline" (an ``_rule``: its children join the parent's), "expand1" (a
    ``?rule``: one kept child passes through, more are built) or "build".
    """

    __slots__ = ()


_token = partial(tuple.__new__, Token)  # without the namedtuple's Python-level __new__


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
        self.rules = [Rule(origin, size, name, keep if keep is None
                           else tuple(index - size for index in keep), form, splices)
                      for origin, size, name, keep, form, splices in data["rules"]]
        self.actions = data["actions"]  # per state: symbol -> state to shift to, or ~rule
        self.start, self.end = data["start"], data["end"]
        terminals = [(name, pattern) for name, pattern in data["terminals"]
                     if name not in self.ignore]
        skipped = "|".join(pattern for name, pattern in data["terminals"] if name in self.ignore)
        # One pattern skips ignored text (spaces, comments), then takes one token: the
        # other terminals in Lark's order, or any other character (so scanning never
        # skips text).  Only ignored text left: a match with no token.  Its alternatives
        # hold no named groups, so the regex engine skips those that cannot start with
        # the next character at once; a token's terminal is found from its text
        # (``_kind``), once per distinct text (sound for the terminals ``tables`` admits).
        # The skip is possessive (``*+``): ignored text is never given back to a token,
        # so the regex engine keeps no backtracking state for it (5% of the scan).
        token = "|".join([pattern for _, pattern in terminals] + ["[\\s\\S]"])
        self._scan = re.compile(f"(?:{skipped})*+({token})?" if skipped
                                else f"({token})?").finditer
        self._kind = re.compile("|".join([f"(?P<{name}>{pattern})" for name, pattern
                                          in terminals] + [f"(?P<{_NO_TOKEN}>[\\s\\S])"])).match
        # (state below, state, lookahead) -> the state after the unit reductions there, and
        # (state below, rule's origin, lookahead) -> the state after the goto and those
        self._after_units, self._after_goto = {}, {}

    def expected(self, state):
        """The terminals the parser accepts in ``state``."""
        return {symbol for symbol in self.actions[state] if symbol.isupper()}

    def lex(self, text, states=None):
        """The tokens of ``text``; ``states`` (the parser's stack) only words errors.

        The terminal of a token's text is the first, in Lark's order, that matches
        it alone: one that failed where the token was found cannot match a prefix of
        it either, for terminals that neither look around nor are anchored.
        """
        kinds = {}  # token text -> its terminal
        for match in self._scan(text):
            word = match.group(1)
            if word is None:  # ignored text at the end
                continue
            kind = kinds.get(word)
            if kind is None:  # a text not seen before (a character no terminal takes raises)
                kind = kinds[word] = self._kind(word).lastgroup
                if kind == _NO_TOKEN:
                    pos = match.start(1)
                    allowed = (self.expected(states[-1]) - {END} if states
                               else set(self.terminals))
                    raise UnexpectedCharacter(text, pos, allowed)
            yield _token((kind, word, match.start(1)))

    def parse(self, text, build):
        """Parse ``text``; ``build(rule name, kept children, first token)`` makes each node.

        Returns the value built for the start rule.  Raises ``UnexpectedToken`` or
        ``UnexpectedCharacter`` at the first error.
        """
        actions, rules, end = self.actions, self.rules, self.end
        after_units, after_goto = self._after_units, self._after_goto
        state = self.start
        states, values, firsts = [state], [], []
        for token in chain(self.lex(text, states), [Token(END, "", len(text))]):
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
                    key = (states[-2], state, kind)
                    state = after_units.get(key)
                    if state is None:
                        state = after_units[key] = self._units(*key)
                    states[-1] = state
                    continue
                if size:
                    first = firsts[-size]
                    # Two kept of three (``a + b``) is most reductions: no comprehension's frame.
                    children = (values[-size:] if keep is None
                                else [values[keep[0]], values[keep[1]]] if len(keep) == 2
                                else [values[i] for i in keep])
                    del values[-size:], firsts[-size:], states[-size:]
                else:  # an empty production starts where the lookahead does
                    children, first = [], token
                if splices:
                    children = _join(children)
                if form == "build":
                    values.append(build(name, children, first))
                elif form == "inline":
                    values.append(children if type(children) is Spliced else Spliced(children))
                else:  # "expand1": one kept child passes through, more are built
                    values.append(children[0] if len(children) == 1
                                  else build(name, children, first))
                firsts.append(first)
                # The goto, then any unit reductions it leads to: one memoised step.
                key = (states[-1], origin, kind)
                state = after_goto.get(key)
                if state is None:
                    state = after_goto[key] = self._units(key[0], actions[key[0]][origin], kind)
                states.append(state)
                if state == end and kind == END:
                    return values[-1]

    def _units(self, below, state, kind):
        """The state that a run of unit reductions (``?rule``s over one symbol) at
        ``state`` with lookahead ``kind`` leads to: each takes the goto of ``below``."""
        while True:
            action = self.actions[state].get(kind)
            if action is None or action >= 0 or self.rules[~action].form != "unit":
                return state
            state = self.actions[below][self.rules[~action].origin]


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
