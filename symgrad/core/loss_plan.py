"""A loss program grouped into layers: the target-neutral half of compiled losses.

A neural network's scalar graph is full of isomorphic nodes: every neuron of a
layer computes ``b + w0*v0 + w1*v1 + ...`` over the same inputs ``v``.
``LayerPlan`` finds such affine chains, stacks the ones that share inputs into
one *dense* item (one row per neuron: a matrix product), lifts unary operators
applied to every row of a stack (``relu`` of a layer) into one *map* item, and
leaves every other step a scalar item over one value per sample.  Items come in
evaluation order, named by the program's allocator (``t1, t2, ...``, the result
``out``, layer weights ``W1``, biases ``b1``).  Like ``compact.py``'s plan it is
target-neutral: ``backends/numpy_loss.py`` and ``backends/c_loss.py`` print it,
dense items as matrix products, the rest from the program's steps.

A loss program's inputs are the parameters ``p0, p1, ...`` (its wrt), one
sample's inputs ``x0, x1, ...`` (rows of ``X``) and its target ``y`` (``Y``) or
targets ``y0, y1, ...`` (``Y[j]``: a one-hot class, a vector).
"""

from collections import Counter, namedtuple
from dataclasses import dataclass

import numpy as np

from . import ir
from .program import Names

# The names of a loss program's inputs by role: parameters, one sample's inputs, targets.
LossSignature = namedtuple("LossSignature", "params inputs targets")
# What a backend prints a compiled loss from: the per-sample program and its signature.
LossProgram = namedtuple("LossProgram", "program signature")


@dataclass(frozen=True, eq=False)
class Vector:
    """Rows of scalar nodes held as one (rows, batch) array; named once the plan is ordered.

    Items are frozen: the plan completes them while it is built (``_settle``), and
    printers keep their own tables.
    """

    rows: tuple
    position: float  # where it comes in the program's order
    name: str = ""


class Input(Vector):
    """The samples' inputs: ``X``."""


class Stack(Vector):
    """Scalar values stacked as rows; each row keeps its own name."""


@dataclass(frozen=True, eq=False)
class Dense(Vector):
    """``W @ source + b``: one row per neuron ``b + w0*v0 + w1*v1 + ...``."""

    inputs: tuple = ()  # the rows of the source, a vector found once maps are lifted
    weights: object = None  # index array of P, shape (rows, len(inputs))
    bias: object = None  # index array of P, shape (rows, 1), or None
    source: Vector = None
    weights_name: str = ""  # W1, W2, ...
    bias_name: str = ""


@dataclass(frozen=True, eq=False)
class Map(Vector):
    """One unary operator applied to every row of ``source``."""

    source: Vector = None
    op: str = ""


class LayerPlan:
    """The items of a ``LossProgram`` in evaluation order; see the module docstring."""

    def __init__(self, loss):
        self.program, self.signature = program, signature = loss
        self.root, self.order = program.root, program.nodes
        self.position = {node: i for i, node in enumerate(self.order)}
        self.param = {ir.var(name): i for i, name in enumerate(signature.params)}
        self.uses = Counter(arg for node in self.order for arg in node.args)
        self.steps = {}  # node -> its backward steps, in the program's order
        for step in program.backward:
            self.steps.setdefault(step.node, []).append(step)
        # Nodes with a parameter below: the program passes them a gradient.
        self.needs = {step.operand for step in program.backward} | {self.root}
        self.targets = tuple(ir.var(name) for name in signature.targets)
        self.reads_targets = any(node in self.position for node in self.targets)
        self.names = ({self.targets[0]: "Y"} if list(signature.targets) == ["y"]
                      else {node: f"Y[{j}]" for j, node in enumerate(self.targets)})
        self.vectors, self.row_of, self.absorbed = [], {}, set()
        self._add(Input(tuple(ir.var(name) for name in signature.inputs), -1, "X"))
        self._find_dense()
        self._lift_maps()
        for dense in [v for v in self.vectors if isinstance(v, Dense)]:
            _settle(dense, source=self._vector_of(dense.inputs, dense.position))
        covered = set(self.row_of) | self.absorbed
        order = [(v.position, 0, v) for v in self.vectors if not isinstance(v, Input)]
        order += [(self.position[n], 1, n) for n in self.order if n.args and n not in covered]
        self.items = [item for *_, item in sorted(order, key=lambda entry: entry[:2])]
        self._name()

    def map_step(self, vector):
        """(row, its backward step) standing for every row of a lifted map (they apply one
        operator: one row's local derivative over whole arrays is every row's), or None."""
        rows = [r for r in vector.rows if r in self.steps]
        return (rows[0], self.steps[rows[0]][0]) if rows else None

    def _add(self, vector):
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
        chain, operands = [], []
        while node.op == "add" and (not chain or self.uses[node] == 1):
            chain.append(node)
            operands.append(node.args[1])
            node = node.args[0]
        if not chain:
            return None
        operands = [node, *reversed(operands)]
        terms = [self._term(operand) for operand in operands]
        if None in terms:
            return None
        bias = [index for index, v in terms if v is None]
        weights = [(index, v) for index, v in terms if v is not None]
        if len(bias) > 1 or not weights:
            return None
        products = [n for n, (_, v) in zip(operands, terms) if v is not None and self.uses[n] == 1]
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
            self._add(Dense(rows, self.position[rows[0]], inputs=inputs, weights=weights,
                            bias=bias))

    def _vector_of(self, nodes, position):
        for vector in self.vectors:
            if vector.rows == nodes:
                return vector
        stack = Stack(nodes, position - 0.5)
        self.vectors.append(stack)  # not in row_of: its rows keep their own names
        return stack

    def _lift_maps(self):
        users = {}
        for node in self.order:
            if len(node.args) == 1:
                users.setdefault(node.args[0], []).append(node)
        work = [v for v in self.vectors if isinstance(v, Dense)]
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
                    work.append(self._add(Map(rows, min(self.position[r] for r in rows),
                                              source=vector, op=op)))

    def _name(self):
        """Names in evaluation order from the program's allocator: t1, t2, ..., out, W1,
        b1, ...; ``names`` says where each value is (a row of a vector: ``t2[3]``)."""
        self.allocate = allocate = Names({"P", "X", "Y", "K", "G", "n", "value"})
        self.names.update((node, f"P[{index}]") for node, index in self.param.items())
        layers = 0
        for item in [self.vectors[0], *self.items]:
            if not isinstance(item, Vector):
                self.names[item] = (allocate.fresh("out") if item is self.root
                                    else allocate.temporary())
                continue
            if not isinstance(item, Input):
                _settle(item, name=allocate.temporary())
            if isinstance(item, Dense):
                layers += 1
                _settle(item, weights_name=allocate.fresh(f"W{layers}"),
                        bias_name=allocate.fresh(f"b{layers}"))
            for index, node in enumerate(item.rows):
                self.names.setdefault(node, f"{item.name}[{index}]")


def _settle(item, **fields):
    """Complete a frozen item while its plan is being built."""
    for name, value in fields.items():
        object.__setattr__(item, name, value)


def regular(indices):
    """(start, row stride) when the index matrix is ``start + stride*row + column``, else None."""
    rows, columns = indices.shape
    start = int(indices[0, 0])
    stride = int(indices[1, 0] - start) if rows > 1 else columns
    expected = start + stride * np.arange(rows)[:, None] + np.arange(columns)[None, :]
    return (start, stride) if stride >= 1 and np.array_equal(indices, expected) else None
