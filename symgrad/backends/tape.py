"""The tape backend: a program run as a list of instructions, with nothing to compile.

For programs too large to print as source, and for a large program's first call on the
Python backend (printing and compiling cost 3 to 20 times building the tape).  The same
Program becomes slot-numbered instructions (forward: one operator call per step; backward:
each step's local derivative, then ``grad[target] (+)= grad[upstream] * local``), run by
the table's scalar functions.  A step that fails raises, and ``CompiledFunction`` asks
``Program.evaluate`` where and why, as for every backend.
"""

from ..core.ir import var
from ..core.guard import guarded_locals, guarded_steps
from ..core.runtime import scalar_function
from . import Artifact, Backend, python

LISTED = 2_000  # operations up to which the source shows the program as Python


class TapeBackend(Backend):
    """Instructions run in one loop: programs too large to compile."""

    name = "tape"
    kinds = ("value_and_grad", "value")
    checks_overflow = True  # Tape._run_forward
    max_operations = 3_000_000  # about 2.5 KiB per operation: 10^6 operations in 3 GiB

    def emit(self, program, kind="value_and_grad"):
        """What ``f.source`` shows: the tape's size, and the program as Python when small."""
        header = (f"# symgrad tape: {len(program.forward):,} forward and "
                  f"{len(program.backward):,} backward steps, run as instructions (nothing "
                  "is compiled)\n")
        if len(program.forward) > LISTED:
            return Artifact(header, "", tuple(program.params), (), {}, kind)
        listing = python.BACKEND.emit(program, kind)
        return listing._replace(source=header + listing.source,
                                lines={key: line + 1 for key, line in listing.lines.items()})

    def load(self, artifact, program, label, owner):
        """The tape's callable for the program the artifact lists."""
        return getattr(Tape(program), artifact.kind)  # its value or value_and_grad


class Tape:
    """Slots for every value and gradient, and the instructions that fill them."""

    def __init__(self, program):
        # A slot per node, the inputs first; parts of local derivatives get theirs as met.
        inputs = [var(name) for name in program.variables]
        nodes = inputs + [node for node in program.nodes if node.op != "var"]
        self.slot = slot = {node: number for number, node in enumerate(nodes)}
        self.initial = [node.value if node.op == "const" else 0.0 for node in nodes]
        self.inputs, self.result = len(inputs), slot[program.root]
        self.forward = [self._instruction(node, slot.__getitem__) for node, _, _ in program.forward]
        # The values whose overflow Python does not raise, as the Python code checks them.
        self.guarded = [slot[step.node] for step in guarded_steps(program)]
        self.backward = backward = []
        grad_slot = {program.root: 0}  # the seed, even when the result is an input itself
        for node, _, operand, local, _, _, first in program.backward:
            if local not in slot:  # most locals are a constant or a named value, slotted
                for part in program.local_operations(local, slot):
                    backward.append((True, *self._instruction(part, self._slot_of)))
                self._slot_of(local)  # a constant the graph lacks (parts have theirs)
            upstream = grad_slot.setdefault(node, len(grad_slot))
            target = grad_slot.setdefault(operand, len(grad_slot))
            backward.append((False, target, upstream, slot[local], first))
        self.guarded_locals = [slot[node] for node in guarded_locals(program)]
        self.grad_count = len(grad_slot)
        self.outputs = [grad_slot.get(var(name)) for name in program.wrt]

    def _slot_of(self, node):
        slot = self.slot.get(node)
        if slot is None:
            slot = self.slot[node] = len(self.initial)
            self.initial.append(node.value if node.op == "const" else 0.0)
        return slot

    def _instruction(self, node, slot_of):
        """(operator, its slot, its operands' slots, None for no second), by ``slot_of``."""
        first, *second = map(slot_of, node.args)
        return scalar_function(node.op), slot_of(node), first, second[0] if second else None

    def _run_forward(self, inputs):
        values = list(self.initial)
        values[:self.inputs] = inputs
        for function, out, a, b in self.forward:
            values[out] = function(values[a]) if b is None else function(values[a], values[b])
        if any(values[slot] - values[slot] != 0.0 for slot in self.guarded):  # inf or nan
            raise OverflowError("a value overflowed")
        return values

    def value(self, *inputs):
        return self._run_forward(inputs)[self.result]

    def value_and_grad(self, *inputs):
        values = self._run_forward(inputs)
        grads = [1.0] + [0.0] * (self.grad_count - 1)  # the seed in slot 0
        for is_value, *fields in self.backward:
            if is_value:
                function, out, a, b = fields
                values[out] = function(values[a]) if b is None else function(values[a], values[b])
            else:
                target, upstream, local, first = fields
                amount = grads[upstream] * values[local]
                grads[target] = amount if first else grads[target] + amount
        if any(values[slot] - values[slot] != 0.0 for slot in self.guarded_locals):
            raise OverflowError("a value overflowed")
        return values[self.result], tuple(0.0 if g is None else grads[g] for g in self.outputs)


BACKEND = TapeBackend()
