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

import copy
from collections import namedtuple
from dataclasses import dataclass

import numpy as np

from ..core import ir
from ..core.program import Names


class LossSignature(namedtuple("LossSignature", "params inputs targets")):
    """The names of a loss program's inputs by role: parameters (its wrt), one sample's
    inputs, and its targets."""

    __slots__ = ()


class LossProgram(namedtuple("LossProgram", "program signature")):
    """What a backend prints a compiled loss from: the per-sample program and its signature."""

    __slots__ = ()


# The plan's items.  Frozen: printers keep their own tables (names, text) keyed by item.

@dataclass(frozen=True, eq=False)
class Vector:
    """Rows of scalar nodes held as one (rows, batch) array called ``name``."""

    name: str
    rows: tuple


class Input(Vector):
    """The samples' inputs: ``X``."""


class Stack(Vector):
    """Scalar values stacked as rows; each row keeps its own name."""


@dataclass(frozen=True, eq=False)
class Dense(Vector):
    """``W @ source + b``: one row per neuron ``b + w0*v0 + w1*v1 + ...``."""

    source: Vector
    weights: object  # index array of P, shape (rows, len(source.rows))
    bias: object  # index array of P, shape (rows, 1), or None
    weights_name: str  # W1, W2, ...
    bias_name: str


@dataclass(frozen=True, eq=False)
class Map(Vector):
    """One unary operator applied to every row of ``source``."""

    source: Vector
    op: str


class _Draft:
    """A vector while the plan is being found: its kind, fields and place in the order."""

    def __init__(self, rows, kind, source=None, op="", weights=None, bias=None, position=0,
                 inputs=None):
        self.rows, self.kind, self.source, self.op = rows, kind, source, op
        self.weights, self.bias, self.position, self.inputs = weights, bias, position, inputs


def plan(loss):
    """The ``LayerPlan`` of a ``LossProgram``."""
    return LayerPlan(loss.program, loss.signature)


class LayerPlan:
    """Items of a loss program in evaluation order; see the module docstring."""

    def __init__(self, program, signature):
        self.program, self.signature = program, signature
        self.root = program.root
        self.order = program.nodes
        self.position = {node: i for i, node in enumerate(self.order)}
        self.param = {ir.var(name): i for i, name in enumerate(signature.params)}
        targets = signature.targets
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
        inputs = tuple(ir.var(name) for name in signature.inputs)
        self._add_vector(_Draft(inputs, "input", position=-1))
        self.absorbed = set()
        self._find_dense()
        self._lift_maps()
        for vector in [v for v in self.vectors if v.kind == "dense"]:
            vector.source = self._vector_of(vector.inputs, vector.position)
        drafts = self._items()
        self.items = self._freeze(drafts)

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
            self._add_vector(_Draft(rows, "dense", weights=weights, bias=bias, inputs=inputs,
                                    position=self.position[rows[0]]))

    def _vector_of(self, nodes, position):
        for vector in self.vectors:
            if vector.rows == nodes:
                return vector
        stack = _Draft(nodes, "stack", position=position - 0.5)
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
                    work.append(self._add_vector(_Draft(
                        rows, "map", vector, op=op,
                        position=min(self.position[r] for r in rows))))

    # ---- order and names -----------------------------------------------------------
    def _items(self):
        covered = set(self.row_of) | self.absorbed
        items = [(v.position, 0, v) for v in self.vectors if v.kind != "input"]
        items += [(self.position[n], 1, n) for n in self.order
                  if n.args and n not in covered]
        items.sort(key=lambda item: (item[0], item[1]))
        return [item[2] for item in items]

    def _freeze(self, drafts):
        """The items, frozen and named in evaluation order from the program's allocator:
        t1, t2, ..., out, W1, b1, ...; ``names`` and ``row_of`` say where each value is."""
        allocate = Names({"P", "X", "Y", "K", "G", "n", "value"})
        for node in self.param:
            self.names[node] = f"P[{self.param[node]}]"
        frozen, items, layers = {}, [], 0
        for draft in [v for v in self.vectors if v.kind == "input"] + drafts:
            if not isinstance(draft, _Draft):
                self.names[draft] = allocate.fresh("out") if draft is self.root \
                    else allocate.temporary()
                items.append(draft)
                continue
            if draft.kind == "input":
                item = Input("X", draft.rows)
            else:
                name = allocate.temporary()
                if draft.kind == "stack":
                    item = Stack(name, draft.rows)
                elif draft.kind == "map":
                    item = Map(name, draft.rows, frozen[draft.source], draft.op)
                else:
                    layers += 1
                    item = Dense(name, draft.rows, frozen[draft.source], draft.weights,
                                 draft.bias, allocate.fresh(f"W{layers}"),
                                 allocate.fresh(f"b{layers}"))
                items.append(item)
            for index, node in enumerate(item.rows):
                self.names.setdefault(node, f"{item.name}[{index}]")
            frozen[draft] = item
        self.row_of = {node: (frozen[vector], index)
                       for node, (vector, index) in self.row_of.items()}
        self._allocate = allocate
        return items

    def names_in_use(self):
        """A copy of the plan's allocator, for a printer to take more names from."""
        return copy.deepcopy(self._allocate)


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
        if grad is None or isinstance(vector, Input):
            return
        if isinstance(vector, Stack):
            for index, node in enumerate(vector.rows):
                self._accumulate(node, f"{grad}[{index}]")
        elif isinstance(vector, Map):
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
