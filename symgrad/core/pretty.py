"""A derivative's IR tidied for people to read; display only, never code generation.

The chain rule builds ``sin(x)*-sin(y)``, ``-(2*-x)`` and ``c*b``; a person writes
``-sin(x)*sin(y)``, ``2*x`` and ``b*c``.  ``tidy`` rewrites a graph into that form
with cheap, local algebra: signs and numbers move to the front of a term, equal
factors become powers (``x*x`` is ``x**2``, ``x/x`` goes), like terms add up
(``x + x`` is ``2*x``, and a repeated sum stays whole: ``2*(1 + x)``), factors
follow the order of the inputs they use.  Products of sums are never expanded;
SymPy remains the tool for real simplification.  Every rewrite is an identity
of real numbers (only ``x/x`` is lost where ``x`` is 0), so the text evaluates
to the same numbers up to rounding.  Walks are iterative: deep graphs are fine.
"""

from collections import Counter, namedtuple

from . import ir
from .ops import CONSTANTS
from .printer import to_program

_NAMED = frozenset(CONSTANTS.values())  # pi and e: factors by name, not numbers to multiply

_SUMS = frozenset(("add", "sub", "neg"))
_PRODUCTS = frozenset(("mul", "div", "neg", "pow"))

# Tidying walks each product and sum it takes apart.  Where products chain through
# products (layers of shared weights, a deep program's second derivative) those walks
# overlap and the tidy text grows as the square of the graph: 8 s and 300 KB for the
# derivatives of 1,000 tanh layers, 87 s for the second derivative of a 3,000-deep
# chain.  Graphs of more than MAX_NODES nodes, and those whose walks pass the budget,
# are printed as built, their shared parts named: time and text linear in their size.
# (The corpus takes at most 7 steps a node.)
MAX_NODES, WORK_BASE, WORK_PER_NODE = 2_000, 20_000, 5

Term = namedtuple("Term", "num den factors")
Term.__doc__ = "num/den * product of base**exponent over ``factors`` (base node -> exponent)."


def derivative_lines(gradient, inputs, names=None, named=None):
    """The text of a gradient node as a person writes it: ``to_program`` lines.

    With ``names`` ({node: name}, see ``usable_names``) those values appear by
    name, as the lecture writes ``(1 - o**2)*x1``; the text then reads only after
    the program that defines them.  Without, it stands alone.  ``named``: the
    constants printed by name, when the caller works them out once for many
    gradients of one program (``printed_constants``).
    """
    names = names or {}
    return to_program(tidy(gradient, names, inputs), reserved=inputs, known=names,
                      named=named)


def usable_names(labels, inputs):
    """The program's names ({node: name}) a derivative may use: those naming one value.

    None when the program reassigns an input (``x = x*2``): read after it, ``x``
    would mean the new value.  A name given twice (``h = ...; h = ...``) is skipped.
    """
    count = Counter(labels.values())
    if set(count) & set(inputs):
        return {}
    return {node: name for node, name in labels.items() if count[name] == 1}


def tidy(root, keep=(), inputs=()):
    """``root`` rewritten as a person writes it (see the module docstring), or ``root``
    itself where the graph is too large for that (``MAX_NODES``, ``WORK_PER_NODE``).

    Nodes in ``keep`` (the program's named values) are left whole; ``inputs``,
    the input names in order, decide the order of factors.
    """
    try:
        return _Tidy(root, keep, inputs).run()
    except _AsBuilt:
        return root


class _AsBuilt(Exception):
    """Tidying would take more work than its budget, or fold numbers into one that has no
    value (``0**-1``, ``(-2)**0.5``): the graph is printed as built."""


_POSITIONS = {}  # id of an input tuple -> (the tuple, {name: index}): the last few


def _positions(inputs):
    """{name: index} of ``inputs``, computed once for the derivatives of one program."""
    known = _POSITIONS.get(id(inputs))
    if known is not None and known[0] is inputs:
        return known[1]
    position = {name: index for index, name in enumerate(inputs)}
    if len(_POSITIONS) >= 8:
        _POSITIONS.pop(next(iter(_POSITIONS), None), None)
    _POSITIONS[id(inputs)] = (inputs, position)
    return position


class _Tidy:
    def __init__(self, root, keep, inputs):
        self.root, self.keep = root, keep
        position = _positions(tuple(inputs))
        self.first_input = {}  # node -> index of the first input below it (None: constant)
        for node in ir.topological_order([root]):
            if node.op == "var":
                self.first_input[node] = position.get(node.value, len(position))
            else:
                found = [self.first_input[a] for a in node.args if self.first_input[a] is not None]
                self.first_input[node] = min(found) if found else None
        if len(self.first_input) > MAX_NODES:
            raise _AsBuilt
        self.work_left = WORK_BASE + WORK_PER_NODE * len(self.first_input)
        self.done = {}  # node -> its tidy form
        self.terms = {}  # node -> its terms, while its factors are being tidied
        self.singles = {}  # sum node -> (coefficient, node) if it has one term, else None

    def run(self):
        stack = [self.root]
        while stack:
            node = stack[-1]
            if node in self.done:
                stack.pop()
                continue
            if self._is_leaf(node):
                self.done[node] = node
                stack.pop()
                continue
            if _is_algebra(node):
                terms = self.terms.get(node)
                if terms is None:
                    terms = self.terms[node] = self._terms(node)
                needed = [base for term in terms for base in term.factors]
            else:
                terms, needed = None, list(node.args)
            missing = [n for n in needed if n not in self.done]
            if missing:
                stack.extend(missing)
                continue
            stack.pop()
            if terms is None:
                result = _display(node.op, [self.done[a] for a in node.args])
            else:
                result = self._build_sum(terms)
            self.done[node] = result
            self.first_input.setdefault(result, self.first_input[node])
        return self.done[self.root]

    def _is_leaf(self, node):
        return not node.args or node in self.keep

    # Taking apart --------------------------------------------------------------------

    def _terms(self, node):
        """The terms of ``node`` as a sum, in reading order (merged once factors are tidy)."""
        terms = []
        for coefficient, summand in self._summands(node):
            term = self._product(summand)
            terms.append(term._replace(num=term.num * coefficient))
        return terms

    def _merged(self, terms):
        """``terms`` over tidy factors, equal factors and like terms added up."""
        merged = {}
        for term in terms:
            factors, num, den = {}, term.num, term.den
            for base, e in term.factors.items():
                base = self.done[base]  # two graphs may tidy to one
                if e.is_integer() and _is_algebra(base) and base.op not in ("add", "sub"):
                    inner = self._product(base)  # a sum that tidied to one term: 2*(x*y)
                    up, down = (inner.num, inner.den) if e > 0 else (inner.den, inner.num)
                    num, den = num * up ** abs(e), den * down ** abs(e)
                    for part, f in inner.factors.items():
                        factors[part] = factors.get(part, 0.0) + e * f
                else:
                    factors[base] = factors.get(base, 0.0) + e
            factors = {base: e for base, e in factors.items() if e != 0}
            if den < 0:
                num, den = -num, -den
            key = frozenset(factors.items())
            if key in merged:
                other = merged[key]
                num, den = ((other.num + num, den) if other.den == den
                            else (other.num / other.den + num / den, 1.0))
            merged[key] = Term(num, den, factors)
        return [term for term in merged.values() if term.num != 0]

    def _summands(self, node):
        """(coefficient, node) pairs whose sum is ``node``.

        Parents are opened before their operands, so a sum reached twice is seen
        with its total coefficient first: with 2 it stays whole, ``2*(1 + x)``.
        """
        order = self._walk(node, self._sum_operands)
        coefficient, kept = {node: 1.0}, []
        for item in reversed(order):
            c = coefficient.pop(item, None)
            if c is None:
                continue
            opens = item.op in _SUMS and item not in self.keep and (
                item is node or item.op == "neg" or abs(c) == 1)
            if not opens:
                kept.append(item)
                coefficient[item] = c
                continue
            signs = (-1.0,) if item.op == "neg" else (1.0, -1.0 if item.op == "sub" else 1.0)
            for operand, sign in zip(item.args, signs):
                coefficient[operand] = coefficient.get(operand, 0.0) + sign * c
        # Post-order lists each summand after its left neighbours: reading order.
        return [(coefficient[item], item) for item in order if item in coefficient]

    def _walk(self, node, operands):
        """The nodes below ``node`` through ``operands``, paid for from the budget."""
        order = ir.topological_order([node], operands=operands)
        self.work_left -= len(order)
        if self.work_left < 0:
            raise _AsBuilt
        return order

    def _sum_operands(self, node):
        return node.args if node.op in _SUMS and node not in self.keep else ()

    def _product(self, node):
        """``node`` as one ``Term``: its numbers, and its other factors with exponents."""
        order = self._walk(node, self._product_operands)
        exponent = {node: 1.0}
        num = den = 1.0
        factors = {}
        for item in reversed(order):
            e = exponent.pop(item, None)
            if e is None or e == 0:
                continue
            op, args = item.origin or (item.op, item.args)
            plain_number = item.op == "const" and not item.origin and item.value not in _NAMED
            single = self._single(item) if e.is_integer() else None
            if single is not None:  # a sum of one term: -(2*x) or t + t
                num *= _real_power(single[0], e)
                exponent[single[1]] = exponent.get(single[1], 0.0) + e
            elif plain_number:
                if e > 0:
                    num *= _real_power(item.value, e)
                else:
                    den *= _real_power(item.value, -e)
            elif not e.is_integer() or op not in _PRODUCTS or item in self.keep or (
                    op == "pow" and not _plain_exponent(args[1])):
                factors[item] = factors.get(item, 0.0) + e
            elif op == "neg":
                num *= (-1.0) ** e
                exponent[args[0]] = exponent.get(args[0], 0.0) + e
            elif op == "pow":
                exponent[args[0]] = exponent.get(args[0], 0.0) + e * args[1].value
            else:
                for operand, sign in zip(args, (1.0, -1.0 if op == "div" else 1.0)):
                    exponent[operand] = exponent.get(operand, 0.0) + sign * e
        if den < 0:
            num, den = -num, -den
        position = {item: index for index, item in enumerate(order)}  # reading order
        return Term(num, den, {base: factors[base] for base in sorted(factors, key=position.get)
                               if factors[base] != 0})

    def _single(self, node):
        """(coefficient, node) when ``node`` is a sum of a single term, else None."""
        if node.op not in ("add", "sub") or node in self.keep:
            return None
        if node not in self.singles:
            summands = self._summands(node)
            self.singles[node] = summands[0] if len(summands) == 1 else None
        return self.singles[node]

    def _product_operands(self, node):
        if node in self.keep:
            return ()
        single = self._single(node)
        if single is not None:
            return (single[1],)
        op, args = node.origin or (node.op, node.args)
        if op not in _PRODUCTS:
            return ()
        return args[:1] if op == "pow" else args

    # Putting together ------------------------------------------------------------------

    def _build_sum(self, terms):
        terms = self._merged(terms)
        if not terms:
            return ir.const(0.0)
        first = next((i for i, term in enumerate(terms) if _sign(term) > 0), 0)
        terms = [terms[first]] + terms[:first] + terms[first + 1:]  # lead with a plus
        result = self._build_term(terms[0])
        for term in terms[1:]:
            if _sign(term) < 0:
                result = ir.apply("sub", result, self._build_term(term._replace(num=-term.num)))
            else:
                result = ir.apply("add", result, self._build_term(term))
        return result

    def _build_term(self, term):
        """num*factors/(den*factors) with constants first, then by the inputs they use."""
        ranked = sorted(term.factors.items(), key=lambda item: self._rank(item[0]))
        upper = [self._power(base, e) for base, e in ranked if e > 0]
        lower = [self._power(base, -e) for base, e in ranked if e < 0]
        num, den = term.num, term.den  # x/2 stays x/2, never 0.5*x
        if num == -1 and upper:
            upper[0] = ir.apply("neg", upper[0])
        elif num != 1 or not upper:
            upper.insert(0, ir.const(num))
        if den != 1:
            lower.insert(0, ir.const(den))
        result = _chain(upper)
        return ir.apply("div", result, _chain(lower)) if lower else result

    def _rank(self, base):
        first = self.first_input.get(base)
        return (first is not None, first or 0)

    def _power(self, base, e):
        return base if e == 1 else ir.apply("pow", base, ir.const(e))


def _real_power(base, e):
    """``base**e`` where it is a real number; else the text is left as built."""
    if (base == 0 and e < 0) or (base < 0 and not float(e).is_integer()):
        raise _AsBuilt
    return base ** e


def _display(op_name, args):
    """The node of ``op_name`` on ``args``, helpers written as people write them:
    xlogy(out, x), pow's derivative in y, reads out*log(x), unless x is a constant with
    no log (``0**y``: xlogy is 0 where out is, and log(0) would be wrong everywhere)."""
    if op_name == "xlogy" and not (args[1].op == "const" and args[1].value <= 0):
        return ir.apply("mul", args[0], ir.apply("log", args[1]))
    return ir.apply(op_name, *args)


def _is_algebra(node):
    if node.op in _SUMS or node.op in ("mul", "div"):
        return True
    return node.op == "pow" and _plain_exponent(node.args[1])


def _plain_exponent(node):
    return node.op == "const" and not node.origin


def _sign(term):
    return -1 if term.num < 0 else 1


def _chain(nodes):
    result = nodes[0]
    for node in nodes[1:]:
        result = ir.apply("mul", result, node)
    return result
