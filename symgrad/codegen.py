"""Schedule the forward and backward IR into one straight-line function and print it.

Names follow the lecture: inputs and the program's own names keep their names,
other values are ``t1, t2, ...`` in evaluation order, the result is ``out``,
gradients are ``grad_<name>``.  One allocator hands out every identifier, so a
user's variable called ``lambda``, ``math``, ``out`` or ``grad_x`` cannot collide
with anything.  The same schedule prints for several backends (plain Python with
``math``, NumPy over batches).
"""

import keyword
import re
from dataclasses import dataclass

from .autodiff import backward_steps
from .errors import TooLargeError
from .ir import topological_order, var
from .ops import OPS
from .printer import ATOM, UNARY, render, to_text

# Names generated code needs for itself (module names, Python's own words).
RESERVED = frozenset(keyword.kwlist) | {"math", "np", "__debug__", "__builtins__"}
COMMENT_LIMIT = 60  # longest subexpression quoted in a forward comment
# Beyond this many operations nobody reads the code line by line: comments are left
# out, which halves the cost of emitting and compiling it.
COMMENTED_SIZE = 20_000
MAX_OPERATIONS = 300_000  # memory grows by about 7 KiB per operation


class Names:
    """The one allocator of identifiers in generated code."""

    def __init__(self, user_names):
        self.user = set(user_names)
        self.taken = set()
        self.counter = 0
        self.suffix = {}  # base -> last number tried, so renaming stays linear

    def user_name(self, wanted):
        """The user's own name where Python allows it, else a close renaming."""
        if wanted in RESERVED or wanted in self.taken:
            return self.fresh(wanted + "_" if wanted in RESERVED else wanted)
        self.taken.add(wanted)
        return wanted

    def fresh(self, base):
        """``base``, or ``base_2``, ``base_3``...: the first that nobody uses."""
        # Names are never given back, so candidates tried before for ``base`` stay taken.
        number = self.suffix.get(base, 1)
        candidate = base if number == 1 else f"{base}_{number}"
        while candidate in self.taken or candidate in self.user or candidate in RESERVED:
            number += 1
            candidate = f"{base}_{number}"
        self.suffix[base] = number
        self.taken.add(candidate)
        return candidate

    def temporary(self):
        """The next of t1, t2, ... that nobody uses."""
        while True:
            self.counter += 1
            name = f"t{self.counter}"
            if name not in self.taken and name not in self.user:
                self.taken.add(name)
                return name


@dataclass
class Schedule:
    """Everything the emitters need: what to compute, in which order, under which names."""

    variables: tuple  # the user's input names, in order
    wrt: tuple  # the inputs whose gradients are returned
    root: object
    forward: list  # operation nodes in evaluation order
    steps: list  # backward steps in the order they run
    names: dict  # node -> identifier of its value
    grads: dict  # node -> identifier of its gradient
    labels: dict  # node -> the program's own name (for comments)

    @property
    def params(self):
        """The identifiers of the inputs in the generated function's signature."""
        return tuple(self.names[var(name)] for name in self.variables)


def schedule(expression, wrt=None):
    """Order and name every value and gradient of ``expression``."""
    wrt = tuple(expression.variables if wrt is None else wrt)
    labels = expression.labels
    names = Names(set(expression.variables) | set(labels.values()))
    node_names = {var(name): names.user_name(name) for name in expression.variables}
    order = topological_order([expression.root])
    forward = [node for node in order if node.args]
    if len(forward) > MAX_OPERATIONS:
        raise TooLargeError(f"the program has {len(forward):,} operations; symgrad compiles at "
                            f"most {MAX_OPERATIONS:,} (about 2 GiB of memory): split it into "
                            "smaller programs")
    root = expression.root
    for node in forward:
        if node in labels:
            node_names[node] = names.user_name(labels[node])
        elif node is root:
            node_names[node] = names.fresh("out")
        else:
            node_names[node] = names.temporary()
    steps = backward_steps(root, wrt)
    grads = {}
    for node in [root] + [step.operand for step in steps] + [var(name) for name in wrt]:
        if node not in grads and node.op != "const":
            grads[node] = names.fresh("grad_" + node_names[node])
    return Schedule(tuple(expression.variables), wrt, root, forward, steps,
                    node_names, grads, labels)


@dataclass(frozen=True)
class Backend:
    """How one target writes operators and literals."""

    name: str
    template: str  # which Op field holds this backend's forward template
    module: str  # the module literals such as inf refer to

    def literal(self, value, exact_int=True):
        if value != value:
            return f"{self.module}.nan", ATOM
        if value in (float("inf"), float("-inf")):
            return ("" if value > 0 else "-") + f"{self.module}.inf", ATOM if value > 0 else UNARY
        text = str(int(value)) if exact_int and value.is_integer() and abs(value) < 1e15 \
            else repr(value)
        return text, UNARY if text.startswith("-") else ATOM

    def atom(self, node, names, exact_int=True):
        """An operand as it appears inside a forward line: a name or a literal."""
        if node in names:
            return names[node]
        text, precedence = self.literal(node.value, exact_int)
        return text if precedence == ATOM else f"({text})"

    def apply(self, node, operands):
        """The right-hand side computing ``node`` from its operands' texts."""
        exponent = _small_int_exponent(node)
        if exponent is not None:
            return f"{operands[0]}**{exponent}"
        return getattr(OPS[node.op], self.template).format(**dict(zip("xy", operands)))


PYTHON = Backend("python", "python", "math")
NUMPY = Backend("numpy", "numpy", "np")


def _small_int_exponent(node):
    """The exponent of ``x**n`` for a small whole constant n: printed as ``**``, not a call."""
    if node.op == "pow" and node.args[1].op == "const":
        value = node.args[1].value
        if value.is_integer() and abs(value) <= 64 and node.args[0].depends:
            return int(value)
    return None


def inline_code(backend, root, names):
    """An expression over already named values, in the backend's syntax."""
    if root in names:
        return names[root]

    def leaf(node):
        return backend.literal(node.value)

    def template(op, node):
        if op.symbol is None or (op.name == "pow" and _small_int_exponent(node) is None):
            return getattr(op, backend.template)
        return None  # infix, including x**n for a small whole n

    return render(root, names, leaf, template)


def _comments(forward, labels):
    """Each value's subexpression in the user's terms, where it is short enough to quote.

    A capped size estimate, computed bottom-up, keeps this linear: only values
    that will fit are printed.
    """
    size, comments = {}, {}
    for node in forward:
        estimate = sum(len(labels[a]) if a in labels else size[a] if a in size
                       else len(str(a.value)) for a in node.args)
        size[node] = min(estimate + 1, COMMENT_LIMIT + 1)  # a lower bound: to_text decides
        if size[node] <= COMMENT_LIMIT:
            text = to_text(node, labels, limit=COMMENT_LIMIT)
            if not text.endswith("..."):
                comments[node] = text
    return comments


def emit(plan, backend=PYTHON, function_name="value_and_grad", gradients=True):
    """Python source of one function: the forward pass and, if asked, the backward pass."""
    names = plan.names
    lines = [f"def {function_name}({', '.join(plan.params)}):", "    # forward pass"]
    commented = len(plan.forward) <= COMMENTED_SIZE
    comments = _comments(plan.forward, plan.labels) if commented else {}
    for node in plan.forward:
        # Whole numbers print as 2, not 2.0, unless no input makes the result a float.
        rhs = backend.apply(node, [backend.atom(a, names, node.depends) for a in node.args])
        note = comments.get(node)
        lines.append(f"    {names[node]} = {rhs}" + (f"  # {note}" if note else ""))
    value = backend.atom(plan.root, names, exact_int=False)
    if not gradients:
        lines.append(f"    return {value}")
        return "\n".join(lines) + "\n"
    lines += _backward_lines(plan, backend, commented)
    grads = [plan.grads[var(name)] for name in plan.wrt]
    tuple_text = ", ".join(grads) + ("," if len(grads) == 1 else "")
    lines.append(f"    return {value}, ({tuple_text})")
    return "\n".join(lines) + "\n"


def _backward_lines(plan, backend, commented=True):
    names, grads = plan.names, plan.grads
    lines = ["    # backward pass: the chain rule, from the output back to the inputs"]
    if plan.root in grads:
        lines.append(f"    {grads[plan.root]} = 1.0")
    assigned = {plan.root}
    current = None
    for step in plan.steps:
        node, operand = step.node, step.operand
        if node is not current and commented:
            current = node
            op = OPS[node.op]
            quoted = to_text(node, names)
            lines.append(f"    # {names[node]} = {quoted}  [{op.rule}]")
        target = grads[operand]
        sign = "+=" if operand in assigned else "="
        assigned.add(operand)
        rhs = _contribution(grads[node], step.local, names, backend)
        if not commented:
            lines.append(f"    {target} {sign} {rhs}")
            continue
        local_text = names.get(step.local) or to_text(step.local, names)
        lines.append(f"    {target} {sign} {rhs}  "
                     f"# {node.op}: d {names[node]}/d {names[operand]} = {local_text}")
    for name in plan.wrt:
        node = var(name)
        if node not in assigned:
            lines.append(f"    {grads[node]} = 0.0  # {name} does not affect the value")
    return lines


def _contribution(grad_name, local, names, backend):
    """``grad * local``, written without multiplying by one."""
    if local.op == "const" and local.value in (1.0, -1.0):
        return grad_name if local.value == 1.0 else f"-{grad_name}"
    text = inline_code(backend, local, names)
    simple = local in names or (not local.args and not text.startswith("-"))
    return f"{grad_name} * {text}" if simple else f"{grad_name} * ({text})"
