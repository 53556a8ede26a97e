"""The array Program: forward and backward steps in order, under their final names.

Names follow the scalar programs: inputs and the program's own names keep
theirs, other values are ``t1, t2, ...``, gradients ``grad_<name>``; the one
allocator of ``core.program`` hands them out.  Each backward step is one
contribution (``grad_x = ...`` first, then ``grad_x = grad_x + ...``), printed
as one line; a piece of backward work that several contributions share gets its
own line first.
"""

from collections import namedtuple

from ..core.errors import GraphError, SymgradError
from ..core.program import Names
from . import graph, shapes
from .autodiff import contributions
from .table import HELPERS

ForwardStep = namedtuple("ForwardStep", "node name")
BackwardStep = namedtuple("BackwardStep", "target value first contribution")
BackwardStep.__doc__ = """``target (+)= value``; ``contribution`` None for a shared temporary."""

INLINE = {"const", "arange", "size", "dim"}  # printed where used, never on a line of their own


class ArrayProgram:
    """The schedule of an array program's value and gradient (a loss: its value is a scalar)."""

    def __init__(self, expression, wrt=None):
        self.expression = root = expression.root
        self.expression = expression
        if root.shape != ():
            raise SymgradError(f"the program's value has shape {shapes.text(root.shape)}; "
                               "value_and_grad needs a scalar (a loss): reduce it with sum() "
                               "or mean()")
        if root.dtype == "int":
            raise SymgradError("the program's value is an integer array, not a loss")
        self.root = root
        self.inputs = tuple(expression.inputs)
        nodes = expression.inputs
        floats = tuple(name for name in self.inputs if nodes[name].dtype == "float")
        unknown = [name for name in (wrt or ()) if name not in floats]
        if unknown:
            raise GraphError(f"cannot differentiate with respect to {', '.join(unknown)}: "
                             f"not a float input (inputs with gradients: "
                             f"{', '.join(floats) or 'none'})")
        self.wrt = floats if wrt is None else tuple(name for name in floats if name in wrt)
        self.names = {}
        allocator = Names(set(self.inputs) | set(expression.labels.values())
                          | set(expression.dims))
        allocator.taken.update(HELPERS)
        for name in self.inputs:
            self.names[nodes[name]] = allocator.user_name(name)
        self.params = tuple(self.names[nodes[name]] for name in self.inputs)
        self.forward = self._forward(allocator)
        self.contributions = _by_statement(
            contributions(root, None if wrt is None else self.wrt), expression.labels)
        self.merged = _pass_through(self.contributions, expression.labels)
        self.stands_for = {}  # node -> the program's name for it in comments
        self.grads = self._gradient_names(allocator)
        self.backward = self._backward(allocator)
        self.trace_list = allocator.fresh("steps")  # the trace function's list of values
        self.dims = self._dims_used()

    def _forward(self, allocator):
        steps = []
        labels = self.expression.labels
        for node in graph.order([self.root]):
            if node in self.names or node.op in INLINE or node.op == "var":
                continue
            if node in labels:
                name = allocator.user_name(labels[node])
            elif node is self.root:
                name = allocator.fresh("out")
            else:
                name = allocator.temporary()
            self.names[node] = name
            steps.append(ForwardStep(node, name))
        if self.root not in self.names:  # the value is an input or a constant
            name = allocator.fresh("out")
            steps.append(ForwardStep(self.root, name))
            self.names[self.root] = name
        return tuple(steps)

    def _gradient_names(self, allocator):
        grads, groups = {}, _groups(self.merged)
        for step in self.contributions:
            if step.operand in grads:
                continue
            group = groups.get(step.operand, [step.operand])
            named = [n for n in group if n in self.expression.labels or n.op == "var"]
            if group[0] in grads:
                name = grads[group[0]]
            else:
                name = allocator.fresh("grad_" + self.names[(named or group)[0]])
            for node in group:
                grads[node] = name
                self.names[graph.grad(node)] = name
                if len(group) > 1:  # comments say d hprebn/d W1 for t1 = embcat @ W1
                    self.stands_for[node] = self.names[(named or group)[0]]
        return grads

    def _backward(self, allocator):
        """One step per contribution; shared backward work hoisted onto its own line."""
        uses = {}
        for step in self.contributions:
            for part in self.inline_parts(step.value):
                for arg in part.args:
                    uses[arg] = uses.get(arg, 0) + 1
        steps, targets = [], set()
        for step in self.contributions:
            if step.operand in self.merged:  # grad_t1 = grad_hprebn: one variable
                continue
            for part in self.inline_parts(step.value):
                if (uses.get(part, 0) > 1 and part not in self.names and part.args
                        and part.op not in INLINE and part.op != "grad"
                        and part is not step.value):
                    name = allocator.temporary()
                    steps.append(BackwardStep(name, part, True, None))
                    targets.add(name)
                    self.names[part] = name
            target = self.grads[step.operand]
            steps.append(BackwardStep(target, step.value, target not in targets, step))
            targets.add(target)
        return tuple(steps)

    def inline_parts(self, value):
        """The nodes of ``value`` printed inside its line, operands first."""
        named = self.names
        return graph.ir.topological_order(
            [value], operands=lambda n: () if (n in named or n.op == "grad") else n.args)

    def _dims_used(self):
        """{dimension: (input name, axis)} for each dimension the code refers to by name."""
        wanted = set()
        for node in graph.order([self.root, *(s.value for s in self.backward)]):
            if node.op in ("arange", "dim") and isinstance(node.attrs[0], str):
                wanted.add(node.attrs[0])
            if node.op == "reshape":
                wanted.update(d for d in node.attrs[0] if isinstance(d, str))
        found = {}
        for name in self.inputs:
            node = self.expression.inputs[name]
            for axis, dim in enumerate(node.shape):
                if dim in wanted and dim not in found:
                    found[dim] = (self.names[node], axis)
        return found

    def gradient_of(self, name):
        """The gradient variable of input ``name`` in the code, or None (no contribution)."""
        return self.grads.get(self.expression.inputs[name])


def _by_statement(steps, labels):
    """``steps`` with each unnamed single-use temporary's own steps right after the step
    into it, so ``h @ W2 + b2`` gives grad_h, grad_W2, grad_b2, left to right."""
    into, by_node = {}, {}
    for step in steps:
        into[step.operand] = into.get(step.operand, 0) + 1
        by_node.setdefault(step.node, []).append(step)
    result = []

    def emit(node):
        stack = [iter(by_node.pop(node, ()))]
        while stack:
            step = next(stack[-1], None)
            if step is None:
                stack.pop()
                continue
            result.append(step)
            operand = step.operand
            if operand not in labels and into[operand] == 1 and operand in by_node:
                stack.append(iter(by_node.pop(operand)))

    for step in steps:
        if step.node in by_node:
            emit(step.node)
    return result


def _pass_through(steps, labels):
    """{operand: node} for steps ``grad_operand = grad_node`` that can share one variable:
    the operand's only step, not an input, and at most one name of the program's in each
    variable's group (``grad_logits = grad_norm_logits`` stays a line)."""
    into = {}
    for step in steps:
        into[step.operand] = into.get(step.operand, 0) + 1
    merged, named = {}, {}  # named: group's first node -> whether the program names one
    shortcuts = {}
    for step in steps:
        node, operand = step.node, step.operand
        if step.value is not graph.grad(node) or into[operand] != 1 or operand.op == "var":
            continue
        top = _top(node, merged, shortcuts)
        has_name = named.get(top, top in labels)
        if not (has_name and operand in labels):
            merged[operand] = node
            named[top] = has_name or operand in labels
    return merged


def _top(node, merged, shortcuts):
    """The first node of ``node``'s group: ``merged`` followed to its end.

    ``shortcuts`` {node: a node further along} remembers each walk, so a long chain
    of pass-through steps is walked once, not once a step."""
    walked = []
    while node in merged:
        walked.append(node)
        node = shortcuts.get(node, merged[node])
    for passed in walked:
        shortcuts[passed] = node
    return node


def _groups(merged):
    """{node: the nodes whose gradients are one variable with its, the first step first}
    for every node of a group of more than one."""
    groups, shortcuts = {}, {}
    for operand in merged:
        top = _top(operand, merged, shortcuts)
        group = groups.setdefault(top, [top])
        group.append(operand)
        groups[operand] = group
    return groups
