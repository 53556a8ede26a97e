"""What the compiled-loss printers share: the backward walk over a plan's items, the
gradient names and the words of their comments (the plan: ``core/loss_plan.py``)."""

import copy

from ..core.loss_plan import Dense, Map, Stack, Vector
from ..core.printer import contribution, to_text


class PlanPrinter:
    """What every loss printer shares: the plan's tables, gradient names, the backward walk
    over the items and the words of its comments.  A printer defines ``spell``, ``_accumulate``
    and ``_backward_*``; ``_row`` and ``_vname`` where its arrays are not ``name[row]``."""

    def __init__(self, layers):
        self.plan, self.steps, self.needs = layers, layers.steps, layers.needs
        self.row_of, self.param, self.root = layers.row_of, layers.param, layers.root
        self.names, self.grads = dict(layers.names), {}
        self.allocate = copy.deepcopy(layers.allocate)  # the plan's names, and the printer's

    def _grad_name(self, name):
        return self.allocate.fresh("grad_" + name.split("[")[0])

    def _row(self, array, rows, index):
        return f"{array}[{index}]"

    def _backward_items(self, items):
        """The backward pass over the plan's items, from the last back to the first."""
        for item in reversed(items):
            grad = self.grads.get(item.name if isinstance(item, Vector) else item)
            if grad is None:
                continue
            if isinstance(item, Stack):
                for index, node in enumerate(item.rows):
                    self._accumulate(node, self._row(grad, len(item.rows), index))
            elif isinstance(item, Map):
                self._backward_map(item, grad)
            elif isinstance(item, Dense):
                self._backward_dense(item, grad)
            else:
                self._backward_scalar(item)

    def _product(self, grad, local, names):
        """``grad`` times the local derivative ``local`` printed over ``names``."""
        return contribution(grad, local, lambda local: self.spell.factor(local, names))

    def _step_note(self, node, step, names):
        """The comment of one backward step: its operator, and its local derivative over
        the plain names (``t2[3]``, ``W1``)."""
        local = names.get(step.local) or to_text(step.local, names, limit=60)
        return f"{node.op}: d {names[node]}/d {names[step.operand]} = {local}"

    def _vname(self, vector):
        """The name of a vector in the code."""
        return vector.name

    def _describe(self, vector):
        """What each row of ``vector`` holds: the comment of its forward line."""
        rows = len(vector.rows)
        if isinstance(vector, Stack):
            return f"{rows} values stacked as rows"
        source = self._vname(vector.source)
        if isinstance(vector, Map):
            return f"{vector.op}({source}) row by row"
        terms, bias = len(vector.source.rows), "b + " if vector.bias is not None else ""
        return (f"{rows} row{'s' if rows > 1 else ''} of {bias}w·{source}, "
                f"{terms} term{'s' if terms > 1 else ''} each")

    def _dense_rule(self, vector, forward):
        """The comment above a dense item's backward steps."""
        return (f"{vector.name} = {forward}  [each row is b + w0*v0 + w1*v1 + ...: "
                "d/db = 1, d/dw = v, d/dv = w]")
