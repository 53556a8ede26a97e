"""The compact form of a big program: fewer lines, each value computed as before.

Beyond the size where nobody reads generated code line by line (the backends'
``COMMENTED_SIZE``), most of its cost is the compiler reading it, line by line.
This plan lets a printer write fewer lines without changing how any value is
computed:

- a forward value that one later step uses once, and that the backward pass
  never reads, may be written inside that step's line (``h_2 = tanh(h*w1 + b1)``);
- a gradient whose one contribution is its upstream gradient times 1 (an add
  passing its gradient through) is no line: it is that gradient under another
  name.  Only with exactly one contribution: a gradient that sums several
  contributions is a variable of its own;
- a gradient with one contribution that one step reads once may be written
  inside that step's line (``grad_t4 = grad_t8 * w3 * (1 - h_2**2)``);
- a gradient of several contributions adds a few of them a line, left to right
  as ``+=`` adds them: ``grad_w3 = grad_w3 + grad_t8 * h_2 + grad_t28 * h_12``.

A printer writes at most ``LINE_OPERATIONS`` operations into one line (a value
that would make it longer gets its own line, just before), so lines stay short
and nest no deeper than that.  Every value is computed by the same operations
on the same operands as in the readable form, so results agree to the last bit.
"""

from collections import Counter, namedtuple
from itertools import chain
from operator import attrgetter

from .ir import const, var

# CPython compiles fewer, longer lines faster (fewer statements and names): on a
# 200,000-term sum, 0.66 s at 12 operations a line, 0.45 s at 32, 0.44 s at 64.
LINE_OPERATIONS = 32


class CompactPlan(namedtuple("CompactPlan", "inlinable same_gradient foldable sums")):
    """What a printer may leave out of a program's lines.

    ``inlinable``: forward nodes that may be written inside the one line using them;
    ``same_gradient``: {node: the node whose gradient variable also holds node's
    gradient}, for gradients passed through unchanged; ``foldable``: nodes whose
    gradient (one contribution) may be written inside the one line reading it;
    ``sums``: {node: how many contributions its gradient adds up}.
    """

    __slots__ = ()

    def gradient_holder(self, node):
        """The node whose gradient variable holds ``node``'s gradient."""
        return self.same_gradient.get(node, node)


def compact_plan(program, named=()):
    """The ``CompactPlan`` of ``program``; the nodes ``named`` keep lines of their own
    (the values a printer's overflow guard reads)."""
    sums = Counter(map(attrgetter("operand"), program.backward))
    same_gradient, foldable = _gradients(program, sums)
    return CompactPlan(_inlinable_values(program, named), same_gradient, foldable, sums)


def _inlinable_values(program, named):
    """Forward values used once, by another forward step, read by no local derivative
    and not ``named``.

    Only values that depend on an input: their whole numbers print as ``2`` inside
    any line (a line of constants alone prints ``2.0``, so Python computes in floats).
    """
    uses = Counter(chain.from_iterable(map(attrgetter("args"), program.nodes)))
    kept = _read_by_backward(program)
    kept.update(program.labels)  # the user's own names keep their lines
    kept.update(named)
    kept.add(program.root)
    return {node for node, _, _ in program.forward
            if uses.get(node) == 1 and node.depends and node not in kept}


def _read_by_backward(program):
    """Named nodes whose value some local derivative reads."""
    names = program.names
    locals_ = set(map(attrgetter("local"), program.backward))
    read = locals_ & names.keys()
    pending = [local for local in locals_ - read if local.args]
    seen = set(pending)
    while pending:  # the parts of local derivatives that have no name of their own
        for operand in pending.pop().args:
            if operand in names:
                read.add(operand)
            elif operand.args and operand not in seen:
                seen.add(operand)
                pending.append(operand)
    return read


def _gradients(program, contributions):
    """(same_gradient, foldable) of ``CompactPlan``."""
    same, reads, one = {}, {}, const(1.0)  # constants are interned: 1 is one node
    for node, _, operand, local, _, _, _ in program.backward:
        if local is one and contributions[operand] == 1:
            same[operand] = same.get(node, node)
        else:
            holder = same.get(node, node)
            reads[holder] = reads.get(holder, 0) + 1
    returned = {same.get(node, node) for node in map(var, program.wrt)}
    foldable = {operand for operand, count in contributions.items()
                if count == 1 and reads.get(operand) == 1 and operand not in same
                and operand not in returned}
    return same, foldable
