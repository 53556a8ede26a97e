"""The stepping page of an array program: its NumPy code line by line, forward then backward.

Each step highlights its line, found through the artifact's ``lines`` (the code
is never read back), marks the boxes of the graph it reads and writes, and shows
the shape and first numbers of the array it makes, as a heat map.  Every number
comes from ``ArrayFunction.trace``.  The page, its style and its script are the
scalar stepper's (``views.html``); only the graph's boxes and the steps differ.
"""

import html
import json
import re

from ..arrays import printer, shapes
from ..arrays.program import INLINE
from ..core.printer import format_short
from . import array_draw, previews
from .html import HEAD, PAGE, SCRIPT, STYLE, UNKNOWN, _Graph, _Lines, check_page, numbered


class _ArrayGraph(_Graph):
    """The stepper's graph of an array program: name and shape, then data and grad fields."""

    def __init__(self, program, values, grads):
        self.order = array_draw.boxes(program)
        self.drawn = set(self.order)
        self.ids = {node: f"v{index}" for index, node in enumerate(self.order)}
        self.label = {node: _name(node, program.names) for node in self.order}
        self.data = {node: f"data {previews.short(values[node])}" for node in self.order
                     if node in values and node.op not in INLINE}
        self.grad = {node: f"grad {previews.short(grads[node])}" for node in self.order
                     if node in program.grads and node in grads}
        self._layout()

    def key(self, node):
        """The box's ``data-name``: the name alone, without the shape."""
        return self.label[node].split(" ")[0]

    def operands(self, node):
        return array_draw.operands(node, self.drawn)

    def symbol(self, node):
        return array_draw.symbol(node)


def _name(node, names):
    name = array_draw.label(node, names)
    return name if node.op in INLINE else f"{name} {array_draw.shape_text(node)}"


def to_html(f, point):
    """The page for the ``ArrayFunction`` ``f`` at ``point`` ({input: array}), as HTML text."""
    program = f.program
    check_page(len(program.forward), program.inputs, point)
    value, gradients, trace = f.trace(**point)
    graph = _ArrayGraph(program, *array_draw.numbers(f, point, trace))
    steps = _steps(program, f.artifact, graph, point, trace)
    return _page(f, value, gradients, graph, steps)


def _steps(program, artifact, graph, point, trace):
    """One dict per line of code that computes something, after a starting step."""
    ids, names, at = graph.ids, program.names, _Lines(artifact)
    inputs = [program.expression.inputs[name] for name in program.inputs]
    start = {"line": 0, "code": "the inputs",
             "words": "The inputs: " + ", ".join(f"{name} {previews.shape_of(point[name])}"
                                                 for name in program.inputs)
             + ". Step forward to run the code one line at a time.",
             "set": [[f"d{ids[n]}", graph.data[n]] for n in inputs if n in graph.data],
             "hot": [ids[n] for n in inputs], "edges": [], "value": None}
    steps = [start]
    for index, (step, value) in enumerate(zip(program.forward, trace)):
        node, vid = step.node, ids[step.node]
        line = at.find(("forward", index))
        shape = f"{shapes.text(node.shape)} = {previews.shape_of(value)}"
        text = printer.formula(node, printer.without(names, node))
        steps.append({"line": line, "code": at.text(line, f"{step.name} = {text}"),
                      "words": f"Forward: {step.name} = {text} gives {step.name} of shape "
                               f"{shape}.",
                      # a constant or a size as the value has no box of its own
                      "set": [[f"d{vid}", graph.data[node]]] if node in graph.data else [],
                      "hot": [vid, "o" + vid],
                      "from": [ids[a] for a in node.args if a in ids],
                      "edges": [f"e{vid}_{i}" for i in range(len(graph.operands(node)))]
                      + [f"e{vid}_out"], "value": (step.name, value)})
    rows = printer.backward_lines(program)
    backward = trace[len(program.forward):]
    for index, (step, row, value) in enumerate(zip(program.backward, rows, backward)):
        line = at.find(("backward", index))
        steps.append(_backward_step(program, graph, step, row, value, at, line))
    return numbered(steps)


def _backward_step(program, graph, step, row, value, at, line):
    target, text, comment, shape = row
    shape = f"{shape} = {previews.shape_of(value)}"
    code = at.text(line, f"{target} = {text}")
    done = {"line": line, "code": code, "hot": [], "edges": [], "set": [],
            "value": (target, value)}
    c = step.contribution
    if c is None:
        done["words"] = (f"Backward: {target} = {text} ({shape}), a part that several "
                         "gradients share, computed once.")
        return done
    names, ids = program.names, graph.ids
    node, operand = names[c.node], names[c.operand]
    operation = printer.formula(c.node, printer.without(names, c.node))
    words = (f"Backward through {node} = {operation}: "
             f"the rule {comment}. Chain rule: {target} = {text}, of shape {shape}.")
    if not step.first:
        words += f" {operand} is used more than once, so the gradients from its uses add up."
    vid = ids[c.node]
    # A value whose gradient another one holds (a pass-through) has no grad field.
    fields = ([[f"g{ids[c.operand]}", f"grad {previews.short(value)}"]]
              if c.operand in graph.grad else [])
    done.update(words=words, hot=[ids[c.operand], "o" + vid], edges=[f"e{vid}_{c.index}"],
                set=fields, **{"from": [vid]})
    return done


def _page(f, value, grads, graph, steps):
    source = f.artifact.source
    lines = "".join(f'<span class="line" id="L{index}">{html.escape(line) or " "}</span>'
                    for index, line in enumerate(source.splitlines()))
    rows = []
    for step in steps:
        preview = ""
        if step["value"] is not None:
            name, array = step["value"]
            caption = f"{name}: {previews.shape_of(array)}"
            preview = previews.html_table(array, caption)
        rows.append(f'<tr id="S{step["n"]}"><td>{step["n"]}</td><td><code>'
                    f'{html.escape(step["code"])}</code></td><td>{html.escape(step["words"])}'
                    f'</td><td id="P{step["n"]}">{preview}</td></tr>')
        del step["value"]  # the page holds it as the table's cells, not as JSON
    gradient = ", ".join(f"∂/∂{html.escape(name)}: {previews.shape_of(grad)}"
                         for name, grad in grads.items())
    fields = {f"d{graph.ids[n]}": f"data {UNKNOWN}" for n in graph.data}
    fields.update({f"g{graph.ids[n]}": f"grad {UNKNOWN}" for n in graph.grad})
    data = json.dumps({"steps": steps, "fields": fields}, ensure_ascii=False)
    data = re.sub(r"[<>&]", lambda m: f"\\u{ord(m.group()):04x}", data)
    text = "; ".join(line.strip() for line in f.expression.text.splitlines() if line.strip())
    return PAGE.format(title=html.escape(text[:80]), program=html.escape(text), svg=graph.svg(),
                       code=lines, rows="\n".join(rows), value=format_short(value),
                       gradient=gradient, count=len(steps) - 1, data=data, style=STYLE,
                       script=SCRIPT, head=HEAD + "<td>its value</td>")
