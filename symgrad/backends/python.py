"""The Python backend: a program printed as one straight-line function over ``math``.

Forward lines are one operation each, commented with the subexpression in the
user's terms; backward lines are one chain-rule step each, ``=`` for the first
contribution and ``+=`` after, commented with the operator and the local
derivative.  Beyond ``COMMENTED_SIZE`` operations, where nobody reads it line
by line, the code is compact instead (``core/compact.py``): no comments, fewer
lines, the same operations.  ``PythonPrinter`` is shared with the NumPy
backend, which only changes the template column and the module name.
"""

import inspect

from ..core.compact import LINE_OPERATIONS, compact_plan
from ..core.ir import var
from ..core.ops import OPS
from ..core.printer import (ATOM, as_factor, backward_lines, compose, forward_comments,
                             forward_lines, unreached_line)
from ..core.pyspell import PythonSpelling
from ..core.guard import guarded_locals, guarded_steps
from ..core.runtime import PYTHON_GLOBALS
from . import SIGNATURES, Artifact, Backend, compile_source

FUNCTION_NAMES = {"value_and_grad": "value_and_grad", "value": "value",
                  "batch": "value_and_grad_batch", "hvp": "hvp", "jvp": "jvp"}
# Beyond this many operations nobody reads the code line by line: it is compact
# (no comments, a fraction of the lines), which more than halves compiling it.
COMMENTED_SIZE = 20_000

GUARD_TERMS = 16  # the overflow guard's longest plain sum


class PythonPrinter(PythonSpelling):
    """Whole functions in Python syntax: the forward pass, then the backward pass."""

    def __init__(self, column, module, guards_overflow=False):
        super().__init__(column, module)
        self.guards_overflow = guards_overflow  # scalar functions check guarded_steps

    def function(self, program, function_name, gradients=True, kind=""):
        """The artifact of one function: the forward pass and, if asked, the backward pass.
        Past COMMENTED_SIZE operations, nobody reads it line by line: the compact form
        (``core/compact.py``), without comments, no step on a line of its own."""
        guarded, at = self._guarded(program, kind, gradients), {}
        compact = len(program.forward) > COMMENTED_SIZE
        lines = [f"def {function_name}({', '.join(program.params)}):"]
        if compact:
            plan = compact_plan(program, [node for node, _ in guarded])
            lines.append("    # forward pass (compact: a value used once is written where it "
                         "is used)")
            lines += self.compact_forward_lines(program, plan.inlinable)
            grads = [program.grads[plan.gradient_holder(var(name))] for name in program.wrt]
        else:
            lines.append("    # forward pass")
            lines += forward_lines(program, self, forward_comments(program), at, len(lines))
            grads = program.grad_names()
        lines += self.overflow_guard([text for _, text in guarded])
        value = self.atom(program.root, program.names, exact_int=False)
        if gradients:
            lines += (self.compact_backward_lines(program, plan) if compact
                      else backward_lines(program, self, at, len(lines)))
            lines.append(f"    return {value}, {_tuple(grads)}")
        else:
            lines.append(f"    return {value}")
        return Artifact("\n".join(lines) + "\n", function_name, tuple(program.params),
                        (value, *grads) if gradients else (value,), at, kind)

    # How Python writes statements, for the printer core's listings -------------------

    def define(self, name, node, names):
        """``name = `` the operation of ``node`` over the named values."""
        # Whole numbers print as 2, not 2.0, unless no input makes the result a float.
        operands = [self.atom(a, names, node.depends) for a in node.args]
        return f"{name} = {self.apply(node, operands)}"

    def assign(self, target, rhs):
        return f"{target} = {rhs}"

    def accumulate(self, target, rhs):
        """The statement adding ``rhs`` to the gradient ``target``."""
        return f"{target} += {rhs}"

    def line(self, statement, note=None):
        return f"    {statement}" + (f"  # {note}" if note else "")

    def comment_line(self, text):
        return f"    # {text}"

    def _guarded(self, program, kind, gradients):
        """(node, text) of the values a ``kind`` function's overflow guard checks (scalar
        functions only): guarded steps, and with ``gradients`` parts of local derivatives."""
        if not (self.guards_overflow and kind in ("value_and_grad", "value")):
            return []
        parts = guarded_locals(program) if gradients else []
        return [(step.node, step.name) for step in guarded_steps(program)] + [
            (node, f"({self.local_expression(node, program.names, {})[0]})") for node in parts]

    def overflow_guard(self, values):
        """Lines raising ``OverflowError`` when one of ``values`` (texts) overflowed where a
        later step could hide it (1/inf is 0); ``CompiledFunction`` then names the step."""
        if not values:
            return []
        terms = [f"{name}*0.0" for name in values]
        # A long sum nests as deep as it has terms, past what CPython's compiler takes:
        # beyond a few terms, a flat tuple summed by math.fsum.
        test = (" + ".join(terms) if len(terms) <= GUARD_TERMS
                else f"math.fsum(({', '.join(terms)}))")
        return ["    # an overflow that a later step hides is still an error: inf*0.0 is nan",
                f"    if {test} != 0.0:",
                "        raise OverflowError('a value overflowed')"]

    def compact_forward_lines(self, program, inlinable):
        names, lines = program.names, []
        pending = {}  # inlinable node -> (text, precedence, operations), until its user's line
        for node, name, op in program.forward:
            texts, levels, size = [], [], 1
            for operand in node.args:
                if operand in pending:
                    text, level, operations = pending.pop(operand)
                    if size + operations <= LINE_OPERATIONS:
                        texts.append(text)
                        levels.append(level)
                        size += operations
                        continue
                    lines.append(f"    {names[operand]} = {text}")  # the line would be too long
                if operand in names:
                    text, level = names[operand], ATOM
                else:
                    text, level = self.literal(operand.value, node.depends)
                texts.append(text)
                levels.append(level)
            text, level = compose(op, self.template(op, node), texts, levels)
            if node in inlinable:
                pending[node] = text, level, size
            else:
                lines.append(f"    {name} = {text}")
        return lines

    def compact_backward_lines(self, program, plan):
        names, grads = program.names, program.grads
        same_gradient, foldable, contributions = plan.same_gradient, plan.foldable, plan.sums
        lines = ["    # backward pass (compact: gradients passed through or used once get no line)"]
        if program.seed is not None:
            lines.append(f"    {program.seed} = 1.0")
        factors = _Factors(self, program.names)
        pending = {}  # foldable node -> (its gradient's expression, operations)
        sums = {}  # node -> (terms of its gradient not yet written, operations, terms to come)
        for node, _, operand, local, target, _, _ in program.backward:
            if operand in same_gradient:
                continue
            # The upstream gradient: its variable, or its expression written here.
            holder = same_gradient.get(node, node)
            upstream, size = grads[holder], 1
            if holder in pending:
                expression, operations = pending.pop(holder)
                if operations < LINE_OPERATIONS:
                    upstream, size = expression, operations + 1
                else:  # the line would be too long
                    lines.append(f"    {upstream} = {expression}")
            # The contribution, upstream * local.
            if local in names:
                rhs = f"{upstream} * {names[local]}"
            elif local.op == "const" and local.value == -1.0:
                rhs = f"-({upstream})" if size > 1 else f"-{upstream}"  # -(a * b), not (-a) * b
            else:
                rhs = upstream + factors[local]
            # Written where it is read, or added to the operand's sum.
            if operand in foldable:
                pending[operand] = rhs, size
                continue
            terms, operations, left = sums.pop(operand, None) or ([], 0, contributions[operand])
            terms.append(rhs)
            operations, left = operations + size, left - 1
            if left and operations < LINE_OPERATIONS:
                sums[operand] = terms, operations, left
            else:  # ((total + a) + b) + c: added in the order that += adds them
                lines.append(f"    {target} = {' + '.join(terms)}")
                if left:
                    sums[operand] = [target], 0, left
        lines += [unreached_line(program, self, name) for name in program.unreached]
        return lines

    def local_expression(self, node, names, texts):
        """(text, precedence) of a local derivative over named values, built bottom-up.

        ``texts`` keeps the texts of unnamed nodes already printed.  A local
        derivative is its operator's partial on named operands, so this recursion
        is as deep as the partial, a few levels.
        """
        if node in names:
            return names[node], ATOM
        text = texts.get(node)
        if text is None:
            if node.args:
                operands = [(names[a], ATOM) if a in names
                            else texts.get(a) or self.local_expression(a, names, texts)
                            for a in node.args]
                op = OPS[node.op]
                text = compose(op, self.template(op, node), *zip(*operands))
            else:
                text = self.literal(node.value)
            texts[node] = text
        return text

    def tangent_function(self, tangents, function_name):
        """Source of forward mode: each forward line followed by its tangent line."""
        program = tangents.program
        names = program.names
        lines = [f"def {function_name}({', '.join(tangents.params)}):",
                 "    # forward pass; after each value v its tangent "
                 "dot_v = sum of (d v/d operand) * dot_operand"]
        commented = len(program.forward) <= COMMENTED_SIZE
        comments = forward_comments(program) if commented else {}
        for step, tangent in tangents.steps:
            lines.append(self.line(self.define(step.name, step.node, names),
                                   comments.get(step.node)))
            if tangent.terms:
                rule = f"  # {tangents.rule(tangent)}" if commented else ""
                known = tangents.known(step.node)
                lines.append(f"    {tangent.name} = {self.tangent_sum(tangent, known)}{rule}")
        value = self.atom(program.root, names, exact_int=False)
        result = tangents.result or "0.0"
        lines.append(f"    return {value}, {result}")
        return Artifact("\n".join(lines) + "\n", function_name, tuple(tangents.params),
                        (value, result), {}, "jvp")

    def tangent_sum(self, tangent, names):
        """``y * dot_t1 + t1 * dot_y``: the local derivatives times the operands' tangents."""
        text = ""
        for term in tangent.terms:
            local = term.local
            if local.op == "const" and local.value in (1.0, -1.0):
                piece, negative = term.tangent, local.value < 0
            else:
                piece, negative = f"{self.factor(local, names)} * {term.tangent}", False
            if not text:
                text = f"-{piece}" if negative else piece
            else:
                text += f" - {piece}" if negative else f" + {piece}"
        return text


class _Factors(dict):
    """``" * local"`` for each local derivative, printed once: ``" * w3"``, ``" * (1 - h**2)"``;
    empty for 1."""

    def __init__(self, printer, names):
        super().__init__()
        self.printer, self.names, self.parts = printer, names, {}

    def __missing__(self, local):
        if local.op == "const" and local.value == 1.0:
            factor = ""
        else:
            factor = " * " + as_factor(*self.printer.local_expression(local, self.names,
                                                                       self.parts))
        self[local] = factor
        return factor


def _tuple(names):
    """``(a, b)``, or ``(a,)`` for one."""
    return f"({', '.join(names)}{',' if len(names) == 1 else ''})"


PRINTER = PythonPrinter("python", "math", guards_overflow=True)


class PythonBackend(Backend):
    """Plain Python over ``math``: clear domain errors, every function kind but batches."""

    name = "python"
    kinds = ("value_and_grad", "value", "hvp", "jvp")
    checks_overflow = True  # overflow_guard
    first_call_on_tape = True  # same operations in the same order (tests/test_backend_tape.py)

    def emit(self, program, kind="value_and_grad"):
        """For ``jvp`` the program is a ``TangentProgram``; for ``hvp``, the Program of
        ``symgrad.core.higher.hvp_expression``."""
        if kind == "jvp":
            return PRINTER.tangent_function(program, FUNCTION_NAMES[kind])
        return PRINTER.function(program, FUNCTION_NAMES[kind], kind != "value", kind)

    def module(self, program, kind="value_and_grad", extra=""):
        """``emit``'s function as a module that runs on its own: imports, helpers, the
        function; ``extra`` is appended (more functions over the same helpers)."""
        source = self.emit(program, kind).source + extra
        helpers = [(name, OPS[name].helper) for name in sorted(program.operators())
                   if OPS[name].helper is not None]
        signature = SIGNATURES[kind].removeprefix("f")
        text = f'"""Generated by symgrad: {FUNCTION_NAMES[kind]}{signature}."""\n'
        if "math." in source or helpers:
            text += "\nimport math\n"  # the helpers call it too
        for name, helper in helpers:  # the row's own helper, under the name the code calls
            text += "\n\n" + inspect.getsource(helper).replace(f"def {helper.__name__}(",
                                                                f"def {name}(", 1)
        return text + "\n\n" + source

    def load(self, artifact, program, label, owner):
        return compile_source(artifact, label, owner, PYTHON_GLOBALS)


BACKEND = PythonBackend()
