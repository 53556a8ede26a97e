"""Vectorize a per-sample loss graph into straight-line NumPy over a batch.

A neural network's scalar graph is full of isomorphic nodes: every neuron of a
layer computes ``b + w0*v0 + w1*v1 + ...`` over the same inputs ``v``.  This
module finds such affine chains, stacks the ones that share inputs into one
matrix product (a *dense* item, one row per neuron), lifts unary operators
applied to every row of a stack (``relu`` of a layer) into one call, and leaves
everything else as scalar nodes over 1-D batch arrays.  Arrays are laid out as
(rows, batch).  The backward pass uses the operator table's partials for scalar
and lifted nodes; a dense item's backward is the table's ``add`` and ``mul``
partials (1; ``y`` and ``x``) summed over its terms, i.e. two matrix products.

Generated code: ``loss_and_grad(P, X, Y, K) -> (mean loss, mean gradient)``
with ``P`` the flat parameters, ``X`` (inputs, batch), ``Y`` (batch,) and ``K``
the index arrays that pick each dense item's weights out of ``P``.
"""

from dataclasses import dataclass, field

import numpy as np

from ..core import ir
from ..core.autodiff import local_derivative, partial_pattern
from .numpy import PRINTER as NUMPY


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
    position: int = 0
    extra: dict = field(default_factory=dict)


def plan_loss(root, n_params, n_inputs, target, gradients=True):
    """(source, {"forward": n, "backward": m}, constants) for the batch loss of ``root``.

    Without ``gradients`` the function returns ``root`` per sample instead.
    """
    return _Planner(root, n_params, n_inputs, target).emit(gradients)


class _Planner:
    def __init__(self, root, n_params, n_inputs, target):
        self.root = root
        self.order = ir.topological_order([root])
        self.position = {node: i for i, node in enumerate(self.order)}
        self.param = {ir.var(f"p{i}"): i for i in range(n_params)}
        self.uses = {}
        for node in self.order:
            for arg in node.args:
                self.uses[arg] = self.uses.get(arg, 0) + 1
        self.needs = set()  # nodes with a parameter below: they take gradients
        for node in self.order:
            if node in self.param or any(a in self.needs for a in node.args):
                self.needs.add(node)
        self.names = {ir.var(target): "Y"}
        self.vectors, self.row_of, self.constants = [], {}, []
        inputs = tuple(ir.var(f"x{i}") for i in range(n_inputs))
        self._add_vector(Vector("X", inputs, "input", position=-1))
        self.absorbed = set()
        self._find_dense()
        self._lift_maps()
        for vector in [v for v in self.vectors if v.kind == "dense"]:
            inputs = vector.extra.pop("inputs")
            vector.source = self._vector_of(inputs, vector.position)

    # ---- analysis -------------------------------------------------------------
    def _add_vector(self, vector):
        self.vectors.append(vector)
        for index, node in enumerate(vector.rows):
            self.row_of.setdefault(node, (vector, index))
            self.names.setdefault(node, f"{vector.name}[{index}]")
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
            self._add_vector(Vector(f"A{len(self.vectors)}", rows, "dense", None,
                                    weights=weights, bias=bias, extra={"inputs": inputs},
                                    position=self.position[rows[0]]))

    def _vector_of(self, nodes, position):
        for vector in self.vectors:
            if vector.rows == nodes:
                return vector
        stack = Vector(f"S{len(self.vectors)}", nodes, "stack", position=position - 0.5)
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
                        f"A{len(self.vectors)}", rows, "map", vector, op=op,
                        position=min(self.position[r] for r in rows))))

    # ---- emission -------------------------------------------------------------
    def _items(self):
        covered = set(self.row_of) | self.absorbed
        items = [(v.position, 0, v) for v in self.vectors if v.kind != "input"]
        items += [(self.position[n], 1, n) for n in self.order
                  if n.args and n not in covered]
        items.sort(key=lambda item: (item[0], item[1]))
        return [item[2] for item in items]

    def emit(self, gradients=True):
        items = self._items()
        lines = ["def loss_and_grad(P, X, Y, K):", "    n = X.shape[1]"]
        for node, index in self.param.items():
            self.names.setdefault(node, f"P[{index}]")
        counter = 0
        for item in items:
            if isinstance(item, Vector):
                if item.kind == "dense":
                    item.extra["W"] = "W" + item.name
                    lines.append(f"    W{item.name} = P[{self._constant(item.weights)}]")
                lines.append(f"    {item.name} = {self._forward_vector(item)}")
            else:
                counter += 1
                self.names[item] = f"s{counter}"
                operands = [NUMPY.atom(a, self.names, item.depends) for a in item.args]
                lines.append(f"    s{counter} = {NUMPY.apply(item, operands)}")
        forward = len(lines) - 1
        if not gradients:
            lines.append(f"    return np.broadcast_to({self.names[self.root]}, (n,))")
            return "\n".join(lines) + "\n", {"forward": forward}, tuple(self.constants)
        lines.append(f"    value = np.sum({self.names[self.root]}) / n")
        self.grad_lines, self.grads = [], {}
        self.grad_lines.append("    G = np.zeros(P.shape[0])")
        self._accumulate(self.root, "np.full(n, 1.0 / n)")
        for item in reversed(items):
            if isinstance(item, Vector):
                self._backward_vector(item)
            elif item in self.grads:
                self._backward_scalar(item)
        lines += self.grad_lines + ["    return value, G"]
        sizes = {"forward": forward, "backward": len(self.grad_lines)}
        return "\n".join(lines) + "\n", sizes, tuple(self.constants)

    def _constant(self, array):
        self.constants.append(array)
        return f"K[{len(self.constants) - 1}]"

    def _forward_vector(self, vector):
        if vector.kind == "stack":
            return f"np.stack([{', '.join(self.names[n] for n in vector.rows)}])"
        source = vector.source.name
        if vector.kind == "map":
            x = ir.var(source)
            return NUMPY.apply(ir.apply(vector.op, x), [source])
        line = f"{vector.extra['W']} @ {source}"
        if vector.bias is not None:
            line += f" + P[{self._constant(vector.bias)}]"
        return line

    def _accumulate(self, node, contribution):
        """Add ``contribution`` to the gradient of ``node``."""
        if node not in self.needs:
            return
        out = self.grad_lines
        if node in self.param:
            out.append(f"    G[{self.param[node]}] += np.sum({contribution})")
        elif node in self.row_of:
            vector, index = self.row_of[node]
            name = "g" + vector.name
            if vector.name not in self.grads:
                out.append(f"    {name} = np.zeros(({len(vector.rows)}, n))")
                self.grads[vector.name] = name
            out.append(f"    {name}[{index}] += {contribution}")
        elif node in self.grads:
            out.append(f"    {self.grads[node]} = {self.grads[node]} + {contribution}")
        else:
            self.grads[node] = "g" + self.names[node]
            out.append(f"    {self.grads[node]} = {contribution}")

    def _accumulate_vector(self, vector, contribution):
        name = "g" + vector.name
        if vector.name in self.grads:
            self.grad_lines.append(f"    {name} = {name} + {contribution}")
        else:
            self.grads[vector.name] = name
            self.grad_lines.append(f"    {name} = {contribution}")

    def _backward_scalar(self, node):
        grad = self.grads[node]
        for index, operand in enumerate(node.args):
            if operand not in self.needs:
                continue
            local = local_derivative(node, index)
            if ir.is_const(local, 0):
                continue
            if ir.is_const(local, 1.0):
                self._accumulate(operand, grad)
            elif ir.is_const(local, -1.0):
                self._accumulate(operand, f"-{grad}")
            else:
                text = NUMPY.inline(local, self.names)
                self._accumulate(operand, f"{grad} * ({text})")

    def _backward_vector(self, vector):
        grad = self.grads.get(vector.name)
        if grad is None or vector.kind == "input":
            return
        source = vector.source
        if vector.kind == "stack":
            for index, node in enumerate(vector.rows):
                self._accumulate(node, f"{grad}[{index}]")
        elif vector.kind == "map":
            if any(r in self.needs for r in source.rows):
                names = {ir.var("x"): source.name, ir.var("out"): vector.name}
                partial = NUMPY.inline(partial_pattern(vector.op, 0)[-1], names)
                self._accumulate_vector(source, f"{grad} * ({partial})")
        else:
            self.grad_lines.append(
                f"    G[{self._constant(vector.weights)}] += {grad} @ {source.name}.T")
            if vector.bias is not None:
                self.grad_lines.append(
                    f"    G[{self._constant(vector.bias[:, 0])}] += np.add.reduce({grad}, 1)")
            if any(r in self.needs for r in source.rows):
                self._accumulate_vector(source, f"{vector.extra['W']}.T @ {grad}")
