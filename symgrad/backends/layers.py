"""A loss program grouped into layers: the target-neutral half of compiled losses.

A neural network's scalar graph is full of isomorphic nodes: every neuron of a
layer computes ``b + w0*v0 + w1*v1 + ...`` over the same inputs ``v``.
``LayerPlan`` reads a loss ``Program``, finds such affine chains, stacks the ones
that share inputs into one *dense* item (one row per neuron: a matrix product),
lifts unary operators applied to every row of a stack (``relu`` of a layer) into
one *map* item, and leaves every other step as a scalar item over one value per
sample.  Items come in evaluation order, named by the program's allocator
(``t1, t2, ...``, the result ``out``, layer weights ``W1``, biases ``b1``).  A
backend's loss printer (NumPy, JAX, C) prints the plan: dense items as matrix
products, everything else from the program's own steps.

The loss program's inputs follow one convention: parameters ``p0, p1, ...``,
one sample's inputs ``x0, x1, ...`` and the target ``y`` (or several targets
``y0, y1, ...``: a one-hot class, a vector); it is differentiated with respect
to the parameters.  A batch's targets are named ``Y`` (one per sample) or
``Y[j]`` (target ``j`` of every sample).
"""

from dataclasses import dataclass, field

import numpy as np

from ..core import ir
from ..core.program import Names


@dataclass
class Vector:
    """Rows of scalar nodes held as one (rows, batch) array called ``name``."""

    name: str
    rows: tuple
    kind: str  # "input", "dense", "map" or "stack"
    source: object = None  # the operand Vector (dense, map)
    op: str = ""  # map: the operator
    weights: object = None  # dense: index array of P, shape (rows, len(source.rows))
    bias: object = None  # dense: index array of P, shape (rows, 1), or None
    position: float = 0
    extra: dict = field(default_factory=dict)


def plan(program):
    """The ``LayerPlan`` of a loss program (see the module's convention)."""
    n_params = sum(1 for name in program.variables if name[0] == "p")
    n_inputs = sum(1 for name in program.variables if name[0] == "x")
    targets = [name for name in program.variables if name[0] == "y"]
    return LayerPlan(program, n_params, n_inputs, targets)


class LayerPlan:
    """Items of a loss program in evaluation order; see the module docstring."""

    def __init__(self, program, n_params, n_inputs, targets):
        self.program = program
        self.root = program.root
        self.order = program.nodes
        self.position = {node: i for i, node in enumerate(self.order)}
        self.param = {ir.var(f"p{i}"): i for i in range(n_params)}
        self.uses = {}
        for node in self.order:
            for arg in node.args:
                self.uses[arg] = self.uses.get(arg, 0) + 1
        self.steps = {}  # node -> its backward steps, in the program's order
        for step in program.backward:
            self.steps.setdefault(step.node, []).append(step)
        # Nodes with a parameter below: the program passes them a gradient.
        self.needs = {step.operand for step in program.backward} | {self.root}
        self.targets = tuple(ir.var(name) for name in targets)
        if list(targets) == ["y"]:
            self.names = {ir.var("y"): "Y"}
        else:
            self.names = {ir.var(name): f"Y[{j}]" for j, name in enumerate(targets)}
        self.vectors, self.row_of = [], {}
        inputs = tuple(ir.var(f"x{i}") for i in range(n_inputs))
        self._add_vector(Vector("X", inputs, "input", position=-1))
        self.absorbed = set()
        self._find_dense()
        self._lift_maps()
        for vector in [v for v in self.vectors if v.kind == "dense"]:
            inputs = vector.extra.pop("inputs")
            vector.source = self._vector_of(inputs, vector.position)
        self.items = self._items()
        self._name_items(self.items)

    # ---- analysis -------------------------------------------------------------
    def _add_vector(self, vector):
        self.vectors.append(vector)
        for index, node in enumerate(vector.rows):
            self.row_of.setdefault(node, (vector, index))
        return vector

    def _term(self, node):
        """(parameter index, input node) of ``w*v``; (index, None) of a bias; else None."""
        if node in self.param:
            return self.param[node], None
        if node.op == "mul":
            for w, v in (node.args, node.args[::-1]):
                if w in self.param and v not in self.param and v.op != "const":
                    return self.param[w], v
        return None

    def _affine(self, node):
        """(weights, inputs, bias, chain nodes) of ``b + w0*v0 + ...``, or None."""
        terms, chain = [], []
        while node.op == "add":
            term = self._term(node.args[1])
            if term is None:
                return None
            terms.append((term, node.args[1]))
            chain.append(node)
            left = node.args[0]
            if left.op == "add" and self.uses[left] == 1:
                node = left
                continue
            term = self._term(left)
            if term is None:
                return None
            terms.append((term, left))
            break
        else:
            return None
        terms.reverse()
        bias = [t[0] for t, _ in terms if t[1] is None]
        weights = [t for t, _ in terms if t[1] is not None]
        if len(bias) > 1 or not weights:
            return None
        products = [n for (_, v), n in terms if v is not None and self.uses[n] == 1]
        return ([w for w, _ in weights], tuple(v for _, v in weights),
                bias[0] if bias else None, chain + products)

    def _find_dense(self):
        groups, internal = {}, set()
        for node in reversed(self.order):
            if node.op != "add" or node in internal:
                continue
            found = self._affine(node)
            if found is None:
                continue
            weights, inputs, bias, absorbed = found
            internal.update(absorbed)
            groups.setdefault((inputs, bias is None), []).append((node, weights, bias))
        for (inputs, no_bias), members in groups.items():
            members.sort(key=lambda m: self.position[m[0]])
            rows = tuple(m[0] for m in members)
            self.absorbed.update(n for n in internal if n not in rows)
            weights = np.array([m[1] for m in members], dtype=np.intp)
            bias = None if no_bias else np.array([[m[2]] for m in members], dtype=np.intp)
            self._add_vector(Vector("", rows, "dense", None,
                                    weights=weights, bias=bias, extra={"inputs": inputs},
                                    position=self.position[rows[0]]))

    def _vector_of(self, nodes, position):
        for vector in self.vectors:
            if vector.rows == nodes:
                return vector
        stack = Vector("", nodes, "stack", position=position - 0.5)
        self.vectors.append(stack)  # its rows keep their own names
        return stack

    def _lift_maps(self):
        users = {}
        for node in self.order:
            if len(node.args) == 1:
                users.setdefault(node.args[0], []).append(node)
        work = [v for v in self.vectors if v.kind == "dense"]
        while work:
            vector = work.pop()
            by_op = {}
            for row in vector.rows:
                for user in users.get(row, ()):
                    by_op.setdefault(user.op, {}).setdefault(row, user)
            for op, mapped in by_op.items():
                if len(mapped) == len(vector.rows):
                    rows = tuple(mapped[r] for r in vector.rows)
                    if any(r in self.row_of for r in rows):
                        continue
                    work.append(self._add_vector(Vector(
                        "", rows, "map", vector, op=op,
                        position=min(self.position[r] for r in rows))))

    # ---- order and names -----------------------------------------------------------
    def _items(self):
        covered = set(self.row_of) | self.absorbed
        items = [(v.position, 0, v) for v in self.vectors if v.kind != "input"]
        items += [(self.position[n], 1, n) for n in self.order
                  if n.args and n not in covered]
        items.sort(key=lambda item: (item[0], item[1]))
        return [item[2] for item in items]

    def _name_items(self, items):
        """Names in evaluation order from the program's allocator: t1, t2, ..., out, W1..."""
        allocate = Names({"P", "X", "Y", "K", "G", "n", "value"})
        for node in self.param:
            self.names[node] = f"P[{self.param[node]}]"
        layers = 0
        for item in items:
            if isinstance(item, Vector):
                item.name = allocate.temporary()
                if item.kind == "dense":
                    layers += 1
                    item.extra["W"] = allocate.fresh(f"W{layers}")
                    item.extra["b"] = allocate.fresh(f"b{layers}")
                for index, node in enumerate(item.rows):
                    self.names.setdefault(node, f"{item.name}[{index}]")
            else:
                self.names[item] = allocate.fresh("out") if item is self.root \
                    else allocate.temporary()
        self.allocate = allocate



class PlanPrinter:
    """What every loss printer shares: the walk of a plan's items in the backward pass.

    A printer over a ``LayerPlan`` (``self.plan``, ``self.steps``, ``self.grads``)
    defines ``_accumulate``, ``_backward_scalar``, ``_backward_map`` and
    ``_backward_dense``; this dispatch and the choice of a map's step are written once.
    """

    def _backward_items(self, items):
        """The backward pass over the plan's items, from the last back to the first."""
        for item in reversed(items):
            if isinstance(item, Vector):
                self._backward_vector(item)
            elif item in self.grads:
                self._backward_scalar(item)

    def _backward_vector(self, vector):
        grad = self.grads.get(vector.name)
        if grad is None or vector.kind == "input":
            return
        if vector.kind == "stack":
            for index, node in enumerate(vector.rows):
                self._accumulate(node, f"{grad}[{index}]")
        elif vector.kind == "map":
            self._backward_map(vector, grad)
        else:
            self._backward_dense(vector, grad)

    def _map_step(self, vector):
        """(row, its backward step) standing for every row of a lifted map; None if none has one.

        Every row applies the same operator, so one row's local derivative, printed
        over the whole arrays, is every row's.
        """
        rows = [r for r in vector.rows if r in self.steps]
        return (rows[0], self.steps[rows[0]][0]) if rows else None
