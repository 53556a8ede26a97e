"""Print an ArrayProgram as NumPy source (run on jax.numpy too): one operation a line.

Each forward line ends with the shape it makes; each backward line with the
rule it applies, the local derivative and the shape, e.g.
``grad_W = X.T @ grad_t1  # matmul: d t1/d W = Xᵀ, on the left  (3, 4)``.
"""

from ..backends.artifact import Artifact
from ..core.ops import OPS, POWER, PRODUCT, UNARY
from . import shapes
from .table import ARRAY_OPS

ATOM = 9
_INFIX = {"matmul": PRODUCT}
# Spellings that differ from the table's NumPy column on arrays: np.heaviside is
# some 50 times slower than a comparison on a (256, 128) array (same values).
_ARRAY_SPELLING = {"step": "np.greater({x}, 0.0)"}
# Python's / and ** on its own numbers do not follow IEEE (1.0/0.0 raises, (-4.0)**0.5 is
# complex, 1e200**2.0 raises): where both operands are, NumPy's do instead.
_PYTHON_NUMBER_SPELLING = {"div": "np.divide({x}, {y})", "pow": "np.float_power({x}, {y})"}


def render(node, names, spell="code"):
    """(text, precedence) of ``node``; named nodes print as their name.

    ``spell`` "code" gives NumPy; "text" the language, for comments and formulas.
    """
    done = {}
    for part in _parts(node, names):
        done[part] = _one(part, names, done, spell)
    return done[node]


def _parts(node, names):
    from ..core.ir import topological_order

    return topological_order([node], operands=lambda n: () if n in names else n.args)


def _atom(item, level=ATOM):
    text, precedence = item
    return text if precedence >= level else f"({text})"


def _one(node, names, done, spell):
    if node in names:
        return names[node], ATOM
    if node.op == "const":
        text = repr(node.value)
        if text in ("inf", "-inf", "nan"):  # names no Python literal spells
            text = text.replace("inf", "np.inf").replace("nan", "np.nan")
        return text, (UNARY if node.value < 0 or text.startswith("-") else ATOM)
    if node.op == "grad":
        return "grad(" + names.get(node.args[0], "?") + ")", ATOM
    args = [done[a] for a in node.args]
    if node.op in OPS:
        return _elementwise(OPS[node.op], node, args, spell)
    row = ARRAY_OPS[node.op]
    if spell == "text":
        return _language(node, args)
    if node.op in _INFIX:
        left, right = _atom(args[0], PRODUCT), _atom(args[1], PRODUCT + 1)
        return row.code([left, right], node.attrs), PRODUCT
    if node.op in ("transpose", "take"):
        return row.code([_atom(args[0])] + [a[0] for a in args[1:]], node.attrs), ATOM
    return row.code([a[0] for a in args], node.attrs), ATOM


def _elementwise(op, node, args, spell):
    if spell == "code" and op.name in _PYTHON_NUMBER_SPELLING and _python_number(node):
        return _PYTHON_NUMBER_SPELLING[op.name].format(x=args[0][0], y=args[1][0]), ATOM
    if op.symbol is None or (op.name == "pow" and spell == "code" and not (
            node.args[0].shape or node.args[1].op == "const")):
        template = _ARRAY_SPELLING.get(op.name, op.numpy) if spell == "code" else (
            op.name + "({x}" + ", {y}" * (op.arity == 2) + ")")
        operands = dict(zip("xy", (_atom(a) if spell == "code" else a[0] for a in args)))
        return template.format(**operands), ATOM
    if op.arity == 1:
        return op.symbol + _atom(args[0], UNARY), UNARY
    level = op.precedence
    if op.name == "pow":
        return f"{_atom(args[0], POWER + 1)}**{_atom(args[1], UNARY)}", POWER
    right = level + 1 if op.name in ("sub", "div") or level == PRODUCT else level
    return f"{_atom(args[0], level)} {op.symbol} {_atom(args[1], right)}", level


def _python_number(node):
    """Whether generated code computes ``node`` from Python numbers only: constants, the
    sizes of dimensions (``n = X.shape[0]``) and arithmetic on them."""
    stack, seen = [node], {node}
    while stack:
        part = stack.pop()
        if part.op in ("const", "dim"):
            continue
        if part.shape != () or part.op not in OPS or not part.args:
            return False  # an array, a reduction or a scalar input: NumPy's numbers
        stack += [arg for arg in part.args if arg not in seen]
        seen.update(part.args)
    return True


def _language(node, args):
    """A structural node in the language (for formulas and comments)."""
    a = [text for text, _ in args]
    axis = node.attrs[0] if node.attrs else None
    if isinstance(axis, tuple):
        axis = axis[0] if len(axis) == 1 else axis
    keyword = "" if axis is None or node.op in ("reshape", "arange") else f", axis={axis}"
    if len(node.attrs) == 2 and node.attrs[1]:
        keyword += ", keepdims=True"
    if node.op == "matmul":
        return f"{_atom(args[0], PRODUCT)} @ {_atom(args[1], PRODUCT + 1)}", PRODUCT
    if node.op == "take":
        return f"{_atom(args[0])}[{', '.join(a[1:])}]", ATOM
    if node.op == "reshape":
        return f"reshape({a[0]}, [{', '.join(map(str, node.attrs[0]))}])", ATOM
    if node.op == "arange":
        return f"arange({node.attrs[0]})", ATOM
    if node.op == "dim":
        return node.attrs[0], ATOM
    name = {"amax": "max"}.get(node.op, node.op)
    return f"{name}({', '.join(a)}{keyword})", ATOM


def _comment(program, step):
    """``rule: d out/d operand = local; summed over axes (broadcast)``."""
    names = program.names
    c = step.contribution
    out = program.stands_for.get(c.node) or names.get(c.node, "out")
    operand = program.stands_for.get(c.operand) or names.get(c.operand, "?")
    if c.local is not None:
        op = OPS[c.node.op]
        local = render(c.local, names, "text")[0]
        text = f"{op.name}: d {out}/d {operand} = {local}"
        if c.broadcast:
            axes = c.broadcast[0] if len(c.broadcast) == 1 else c.broadcast
            text += f", summed over axis {axes} (broadcast)"
    else:
        row = ARRAY_OPS[c.node.op]
        local = row.local[c.index if c.index < len(row.local) else 0]
        x, y = names.get(c.node.args[0], "x"), names.get(c.node.args[-1], "y")
        text = f"{row.rule}: d {out}/d {operand} = " + local.format(x=x, y=y, out=out)
    return text


def function(program, kind="value_and_grad", entry=None):
    """The Artifact of ``kind`` ("value_and_grad" or "value") for ``program``."""
    entry = entry or kind
    names = program.names
    lines = [f"def {entry}({', '.join(program.params)}):"]
    trace = kind == "trace"  # value_and_grad that also returns every step's value, in order
    if trace:
        lines.append(f"    {program.trace_list} = []")
    keys = {}
    for dim, (source, axis) in sorted(program.dims.items()):
        lines.append(f"    {dim} = {source}.shape[{axis}]")
    for i, step in enumerate(program.forward):
        expression = _expression(step.node, names, exclude=step.name)
        keys[("forward", i)] = len(lines) + 1
        lines.append(f"    {step.name} = {expression}  # {shapes.text(step.node.shape)}")
        if trace:
            lines.append(f"    {program.trace_list}.append({step.name})")
    outputs = [names[program.root]]
    if kind in ("value_and_grad", "trace"):
        for i, step in enumerate(program.backward):
            own = names if step.contribution is not None else without(names, step.value)
            text = render(step.value, own)[0]
            if not step.first:
                text = f"{step.target} + {text}"
            keys[("backward", i)] = len(lines) + 1
            shape = shapes.text(step.value.shape)
            comment = "shared" if step.contribution is None else _comment(program, step)
            lines.append(f"    {step.target} = {text}  # {comment}  {shape}")
            if trace:
                lines.append(f"    {program.trace_list}.append({step.target})")
        grads = []
        for name in program.wrt:
            node = program.expression.inputs[name]
            if node in program.grads:
                grads.append(program.grads[node])
            elif node is program.root:  # the value is this input itself
                grads.append("1.0")
            else:
                grads.append(f"np.zeros({names[node]}.shape)" if node.shape else "0.0")
        lines.append(f"    return {outputs[0]}, ({', '.join(grads)}{',' * (len(grads) == 1)})"
                     + (f", {program.trace_list}" if trace else ""))
        outputs.append(tuple(grads))
    else:
        lines.append(f"    return {outputs[0]}")
    source = "\n".join(lines) + "\n"
    return Artifact(source, entry, program.params, tuple(outputs), keys, kind, "python")


def without(names, node):
    """``names`` except ``node`` itself, so a step prints its own operation."""
    if node in names and node.op != "grad":
        return _Unnamed(names, node)
    return names


class _Unnamed:
    """``names`` as if ``node`` had none, without copying them: a copy a step made
    printing grow as the square of the program's length."""

    __slots__ = ("names", "node")

    def __init__(self, names, node):
        self.names, self.node = names, node

    def __contains__(self, other):
        return other is not self.node and other in self.names

    def __getitem__(self, other):
        if other is self.node:
            raise KeyError(other)
        return self.names[other]

    def get(self, other, default=None):
        return default if other is self.node else self.names.get(other, default)


def _expression(node, names, exclude):
    return render(node, without(names, node))[0]


def formula(node, names):
    """``node`` as one formula in the language (for ``symgrad -f``)."""
    return render(node, names, "text")[0]


def backward_lines(program):
    """The backward pass in the language: (target, text, comment, shape) per step."""
    rows = []
    for step in program.backward:
        own = program.names if step.contribution is not None else without(
            program.names, step.value)
        text = formula(step.value, own)
        if not step.first:
            text = f"{step.target} + {text}"
        comment = "shared" if step.contribution is None else _comment(program, step)
        rows.append((step.target, text, comment, shapes.text(step.value.shape)))
    return rows


def forward_lines(program):
    """The forward pass in the language: (name, text, shape) per step."""
    return [(step.name, formula(step.node, without(program.names, step.node)),
             shapes.text(step.node.shape)) for step in program.forward]
