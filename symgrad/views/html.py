"""One self-contained HTML page that steps through a program's forward and backward pass.

The page holds the graph as inline SVG (micrograd's record boxes: name | data |
grad, an op node before each value), the generated Python, and one step per
line of that code: what the line computes, in numbers and in words.  Every
number comes from ``Program.evaluate`` and is written into the page; the
script only shows, hides and highlights.  Without JavaScript the page reads as
the finished graph and a table of all steps.  Nothing is loaded from anywhere.

The graph is laid out here (layers by depth, ordered by their operands'
heights) rather than by Graphviz: ``dot`` is often not installed, and our own
SVG has the element ids the stepping needs.  That layout is for small graphs,
so larger ones are refused.  ``array_html`` reuses the page, the layout and the
script for array programs, overriding the graph's ``operands``, ``symbol`` and ``key``.
"""

import html
import json
import re

from ..core.errors import SymgradError, TooLargeError
from ..core.ir import var
from ..core.ops import OPS
from ..core.printer import format_number, format_short

MAX_OPERATIONS = 300  # beyond this, a page of boxes is unreadable and the layout too crude
CHAR = 7.3  # width of one character of the SVG's 12px monospace font, in px
PAD, BOX_HEIGHT, ROW_PITCH, GAP, RADIUS = 6, 26, 46, 90, 14
UNKNOWN = "?"


def check_page(operations, inputs, point):
    """``TooLargeError`` for a program too large to draw, ``SymgradError`` for an input
    without a value at ``point``."""
    if operations > MAX_OPERATIONS:
        raise TooLargeError(f"the program has {operations:,} operations; a stepping "
                            f"page draws at most {MAX_OPERATIONS}: use a smaller program")
    missing = [name for name in inputs if name not in point]
    if missing:
        raise SymgradError(f"the page needs a value for every input; missing: "
                           f"{', '.join(missing)}")


def to_html(program, point, artifact):
    """The page for ``program`` at ``point`` ({input: number}) as one string of HTML."""
    check_page(len(program.forward), program.variables, point)
    try:
        point = {name: float(point[name]) for name in program.variables}
    except (TypeError, ValueError) as error:
        raise SymgradError(f"the page needs a number for every input: {error}") from None
    trace = program.evaluate(point)
    graph = _Graph(program, trace)
    steps = _steps(program, trace, graph, artifact)
    return _page(program, trace, graph, artifact.source, steps)


def number(x):
    """A number as the page shows it (micrograd's boxes show four digits too)."""
    return format_short(x)


# The graph ---------------------------------------------------------------------------


class _Graph:
    """Every node's box: id, texts and position, laid out in layers by depth."""

    def __init__(self, program, trace):
        # Inputs the value does not depend on get a box too: their gradient is 0.
        present = set(program.nodes)
        self.order = [*program.nodes, *(node for node in map(var, program.variables)
                                        if node not in present)]
        self.ids = {node: f"v{index}" for index, node in enumerate(self.order)}
        self.label = {node: program.names[node] if node.op != "const" else format_number(node.value)
                      for node in self.order}
        self.data = {node: f"data {number(trace.value_of(node))}" for node in self.order}
        self.grad = {node: f"grad {number(trace.grads.get(node, 0.0))}"
                     for node in self.order if node in program.grads}
        self._layout()

    def key(self, node):
        """The box's ``data-name``: its label."""
        return self.label[node]

    def operands(self, node):
        """The boxes an arrow runs from into ``node``'s operation."""
        return node.args

    def symbol(self, node):
        """What the operation's circle says, and the roles its edges are labelled with."""
        op = OPS[node.op]
        return op.symbol or op.name, ("x", "y") if not op.commutative and op.arity == 2 else ()

    def cells(self, node):
        """The widths of the box's cells: name, data and (except constants) grad."""
        texts = [text for text in (self.label[node], self.data.get(node)) if text is not None]
        if node in self.grad:
            texts.append(self.grad[node])
        return [len(text) * CHAR + 2 * PAD for text in texts]

    def _layout(self):
        depth = {}
        for node in self.order:
            operands = self.operands(node)
            depth[node] = 1 + max(depth[a] for a in operands) if operands else 0
        layers = [[] for _ in range(max(depth.values()) + 1)]
        for node in self.order:
            layers[depth[node]].append(node)
        self.y, self.x, left = {}, {}, 10.0
        for index, layer in enumerate(layers):
            if index == 0:
                wanted = {node: row * ROW_PITCH for row, node in enumerate(layer)}
            else:  # each value level with its operands, as far as room allows
                wanted = {node: sum(self.y[a] for a in self.operands(node))
                          / len(self.operands(node)) for node in layer}
            below = None
            for node in sorted(layer, key=lambda n: wanted[n]):
                y = wanted[node] if below is None else max(wanted[node], below + ROW_PITCH)
                self.y[node] = below = y
            if index:
                left += GAP
            for node in layer:
                self.x[node] = left
            left += max(sum(self.cells(node)) for node in layer)
        self.width = left + 10
        self.height = max(self.y.values()) + BOX_HEIGHT + 20

    def svg(self):
        """The graph as SVG, every value and gradient filled in."""
        parts = [f'<svg id="graph" role="img" '
                 f'width="{self.width:.0f}" height="{self.height:.0f}" '
                 # Shrunk to fit the window, but never below readable: then it scrolls.
                 f'style="min-width: {0.75 * self.width:.0f}px" '
                 f'viewBox="0 0 {self.width:.0f} {self.height:.0f}">',
                 "<title>The graph: each value's data and gradient</title>",
                 '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" '
                 'markerWidth="8" markerHeight="8" markerUnits="userSpaceOnUse" orient="auto">'
                 '<path d="M0,0 L10,5 L0,10 z"/></marker></defs>']
        for node in self.order:
            if self.operands(node):
                parts += self._op(node)
        for node in self.order:
            parts += self._box(node)
        parts.append("</svg>")
        return "\n".join(parts)

    def _top(self, node):
        return self.y[node] + 10

    def _op(self, node):
        vid = self.ids[node]
        symbol, roles = self.symbol(node)
        radius = max(RADIUS, 3.4 * len(symbol) + 5)  # room for a name such as tanh
        cx, cy = self.x[node] - 12 - radius, self._top(node) + BOX_HEIGHT / 2
        parts = []
        for position, operand in enumerate(self.operands(node)):
            x1 = self.x[operand] + sum(self.cells(operand))
            y1 = self._top(operand) + BOX_HEIGHT / 2
            x2, middle = cx - radius, (x1 + cx - radius) / 2
            parts.append(f'<path id="e{vid}_{position}" class="edge" marker-end="url(#arrow)" '
                         f'd="M{x1:.1f},{y1:.1f} C{middle:.1f},{y1:.1f} {middle:.1f},{cy:.1f} '
                         f'{x2:.1f},{cy:.1f}"/>')
            if position < len(roles):
                # Which operand is x and which y, as the rule names them.
                parts.append(f'<text class="role" x="{x2 - 10:.1f}" y="{cy - 4 + 10 * position:.1f}">'
                             f'{roles[position]}</text>')
        parts.append(f'<path id="e{vid}_out" class="edge" marker-end="url(#arrow)" '
                     f'd="M{cx + radius:.1f},{cy:.1f} L{self.x[node]:.1f},{cy:.1f}"/>')
        parts.append(f'<g id="o{vid}" class="op"><circle cx="{cx:.1f}" cy="{cy:.1f}" '
                     f'r="{radius:.1f}"/><text x="{cx:.1f}" y="{cy + 4:.1f}">{html.escape(symbol)}</text></g>')
        return parts

    def _box(self, node):
        vid, x, top = self.ids[node], self.x[node], self._top(node)
        widths = self.cells(node)
        kind = "const" if node.op == "const" else "value"
        name = html.escape(self.key(node), quote=True)
        parts = [f'<g id="{vid}" class="box {kind}" data-name="{name}">',
                 f'<rect x="{x:.1f}" y="{top:.1f}" width="{sum(widths):.1f}" '
                 f'height="{BOX_HEIGHT}" rx="3"/>']
        fields = [("name", None, self.label[node]), ("data", f"d{vid}", self.data.get(node)),
                  ("grad", f"g{vid}", self.grad.get(node))]
        fields = [field for field in fields if field[2] is not None]
        for (kind, fid, text), width in zip(fields, widths):
            ident = f' id="{fid}"' if fid else ""
            parts.append(f'<text{ident} class="{kind}" data-name="{name}" x="{x + PAD:.1f}" '
                         f'y="{top + 17:.1f}">{html.escape(text)}</text>')
            if kind != "grad" and len(widths) > 1 + (kind == "data"):
                parts.append(f'<line x1="{x + width:.1f}" y1="{top:.1f}" x2="{x + width:.1f}" '
                             f'y2="{top + BOX_HEIGHT:.1f}"/>')
            x += width
        parts.append("</g>")
        return parts


# The steps ---------------------------------------------------------------------------


def _steps(program, trace, graph, artifact):
    """One dict per line of the code that computes something, after a starting step."""
    ids, names, at = graph.ids, program.names, _Lines(artifact)
    inputs = [var(name) for name in program.variables]
    start = {"line": 0,
             "code": "the inputs",
             "words": "The inputs: " + ", ".join(f"{names[n]} = {number(trace.values[n])}"
                                                 for n in inputs)
             + ". Step forward to run the code one line at a time.",
             "set": [[f"d{ids[n]}", graph.data[n]] for n in graph.order if not n.args],
             "hot": [ids[n] for n in inputs], "edges": []}
    steps = [start]
    for index, step in enumerate(program.forward):
        node, vid = step.node, ids[step.node]
        given = [f"{names[a]} = {number(trace.values[a])}" for a in dict.fromkeys(node.args)
                 if a.op != "const"]
        words = (f"Forward: {program.statement(node)}"
                 + (f" with {', '.join(given)}" if given else "")
                 + f" gives {step.name} = {number(trace.values[node])}.")
        line = at.find(("forward", index))
        steps.append({"line": line, "code": at.text(line, program.statement(node)),
                      "words": words, "set": [[f"d{vid}", graph.data[node]]],
                      "hot": [vid, "o" + vid], "from": [ids[a] for a in node.args],
                      "edges": [f"e{vid}_{i}" for i in range(len(node.args))] + [f"e{vid}_out"]})
    root_name = names.get(program.root)
    if program.seed is not None:
        vid = ids[program.root]
        line = at.find("seed")
        steps.append({"line": line, "code": at.text(line, f"{program.seed} = 1.0"),
                      "words": f"Backward: the seed {program.seed} = 1, since d {root_name}/d "
                               f"{root_name} = 1. The chain rule now runs from the output back "
                               "to the inputs.",
                      "set": [[f"g{vid}", graph.grad[program.root]]], "hot": [vid], "edges": []})
    position = {id(step): index for index, step in enumerate(program.backward)}
    for item in trace.contributions:
        line = at.find(("backward", position[id(item.step)]))
        steps.append(_backward_step(program, item, graph, at, line))
    for name in program.unreached:
        node = var(name)
        grad = program.grads[node]
        line = at.find(("unreached", name))
        steps.append({"line": line, "code": at.text(line, f"{grad} = 0.0"),
                      "words": f"{grad} = 0: {names[node]} does not affect the value.",
                      "set": [[f"g{ids[node]}", graph.grad[node]]], "hot": [ids[node]],
                      "edges": []})
    return numbered(steps)


def numbered(steps):
    """``steps`` (the page's dicts) with each one's number and, where it has none, no
    arrows coming in: what the page's script reads of every step."""
    for index, step in enumerate(steps):
        step.setdefault("from", [])
        step["n"] = index
    return steps


def _backward_step(program, item, graph, at, line):
    step, names, ids = item.step, program.names, graph.ids
    node, operand = names[step.node], names[step.operand]
    sign = "=" if step.first else "+="
    local = program.local_text(step)
    if step.local.args or step.local.op == "var":  # a formula: show its value too
        local += f" = {number(item.local)}"
    words = (f"Backward through {program.statement(step.node)}: the rule for {step.op.name} "
             f"is {step.op.rule}, so d {node}/d {operand} = {local}. Chain rule: {step.target} {sign} {step.upstream} × "
             f"d {node}/d {operand} = {number(item.upstream)} × {number(item.local)} = "
             f"{number(item.amount)}.")
    if not step.first:
        words += (f" {operand} is used more than once, so the gradients from its uses add up: "
                  f"{step.target} = {number(item.total)}.")
    vid = ids[step.node]
    code = at.text(line, f"{step.target} {sign} {step.upstream} * "
                         f"{program.local_text(step, parenthesize=True)}")
    return {"line": line, "code": code, "words": words,
            "set": [[f"g{ids[step.operand]}", f"grad {number(item.total)}"]],
            "hot": [ids[step.operand], "o" + vid], "from": [vid],
            "edges": [f"e{vid}_{step.index}"]}


class _Lines:
    """The code's lines, and where the artifact says each step's line is."""

    def __init__(self, artifact):
        self.lines, self.at = artifact.source.splitlines(), artifact.lines

    def find(self, key):
        """The 0-based line of a step, or None where the code has none (compact code)."""
        line = self.at.get(key)
        return None if line is None else line - 1

    def text(self, index, otherwise):
        """Line ``index`` without its comment, or ``otherwise`` if there is no such line."""
        return otherwise if index is None else self.lines[index].split("  # ")[0].strip()


# The page ----------------------------------------------------------------------------


def _page(program, trace, graph, source, steps):
    title = html.escape(program.describe(program.root, 80))
    # Block spans, no newline between them: a highlighted line fills its row.
    lines = "".join(f'<span class="line" id="L{index}">{html.escape(line) or " "}</span>'
                    for index, line in enumerate(source.splitlines()))
    rows = "\n".join(
        f'<tr id="S{step["n"]}"><td>{step["n"]}</td><td><code>{html.escape(step["code"])}</code>'
        f'</td><td>{html.escape(step["words"])}</td></tr>' for step in steps)
    value = number(trace.values.get(program.root, program.root.value))
    gradient = ", ".join(f"∂/∂{html.escape(name)} = {number(trace.grads.get(var(name), 0.0))}"
                         for name in program.wrt)
    fields = {f"d{graph.ids[n]}": f"data {UNKNOWN}" for n in graph.order}
    fields.update({f"g{graph.ids[n]}": f"grad {UNKNOWN}" for n in graph.grad})
    data = json.dumps({"steps": steps, "fields": fields}, ensure_ascii=False)
    # Inside <script>, "</" could end the element: JSON's \u escapes keep it text.
    data = re.sub(r"[<>&]", lambda m: f"\\u{ord(m.group()):04x}", data)
    program_text = html.escape("; ".join(program.echo()))
    return PAGE.format(title=title, program=program_text, svg=graph.svg(), code=lines,
                       rows=rows, value=value, gradient=gradient, count=len(steps) - 1,
                       data=data, style=STYLE, script=SCRIPT, head=HEAD)


HEAD = "<td>step</td><td>line</td><td>what it computes</td>"


STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; margin: 0 0 .3em; }
h1 code, .program { font-family: ui-monospace, monospace; }
.graph { border: 1px solid #ddd; padding: 4px; overflow-x: auto; }
#graph { max-width: 100%; height: auto; }
svg text { font: 12px ui-monospace, "DejaVu Sans Mono", monospace; fill: #222; }
.box rect { fill: #fff; stroke: #444; }
.box.const rect { fill: #f4f4f4; }
.box line { stroke: #444; }
.box .name { font-weight: bold; }
.op circle { fill: #eef; stroke: #446; }
.op text { text-anchor: middle; }
.edge { fill: none; stroke: #888; stroke-width: 1.2; }
marker path { fill: #888; }
.role { font-size: 9px; fill: #666; }
.js .box.to rect { fill: #fff3b0; stroke: #c80; stroke-width: 2.5; }
.js .box.from rect { fill: #e3f0ff; stroke: #36c; stroke-width: 2; }
.js .op.hot circle { fill: #fff3b0; stroke: #c80; stroke-width: 2; }
.js .edge.hot { stroke: #c80; stroke-width: 2.5; }
.panes { display: flex; gap: 1em; margin-top: 1em; align-items: flex-start; flex-wrap: wrap; }
pre.code { position: relative; flex: 1 1 34em; margin: 0; max-height: 28em; padding: .5em; background: #f7f7f7; overflow: auto;
           font-size: 13px; border: 1px solid #ddd; }
.line { display: block; }
.js .line.current { background: #fff3b0; outline: 1px solid #c80; }
.side { flex: 1 1 24em; }
#controls button { font-size: 1em; padding: .3em .8em; margin-right: .3em; }
#status { margin-top: .6em; padding: .6em; border: 1px solid #ddd; background: #fcfcf4; }
#step-code { font-family: ui-monospace, monospace; font-weight: bold; }
table.steps { border-collapse: collapse; margin-top: 1.2em; font-size: 14px; }
table.steps td { border-top: 1px solid #ddd; padding: .25em .5em; vertical-align: top; }
.js table.steps tr.current { background: #fff3b0; }
.legend { display: none; color: #555; font-size: .9em; }
.js .legend { display: block; }
kbd { border: 1px solid #aaa; border-radius: 3px; padding: 0 .3em; }
table.heat { border-collapse: collapse; font: 12px ui-monospace, monospace; margin: .3em 0; }
table.heat caption { text-align: left; color: #555; white-space: nowrap; }
table.heat td { border: 1px solid #ccc; padding: 1px 4px; text-align: right; }
table.heat td[colspan] { text-align: center; }
"""

# Shows, hides and highlights what the page already holds; it computes nothing.
SCRIPT = """
(function () {
  var data = JSON.parse(document.getElementById("symgrad-steps").textContent);
  var steps = data.steps, current = 0, marked = [];
  document.body.classList.add("js");
  document.getElementById("controls").hidden = false;
  document.getElementById("nojs").hidden = true;
  function mark(id, cls) {
    var el = document.getElementById(id);
    if (el) { el.classList.add(cls); marked.push([el, cls]); }
  }
  function show(n) {
    current = Math.max(0, Math.min(steps.length - 1, n));
    var text = Object.assign({}, data.fields);
    for (var i = 0; i <= current; i++) {
      steps[i].set.forEach(function (pair) { text[pair[0]] = pair[1]; });
    }
    Object.keys(text).forEach(function (id) {
      document.getElementById(id).textContent = text[id];
    });
    marked.forEach(function (m) { m[0].classList.remove(m[1]); });
    marked = [];
    var step = steps[current];
    step.hot.forEach(function (id) { mark(id, id.charAt(0) === "o" ? "hot" : "to"); });
    step.from.forEach(function (id) { mark(id, "from"); });
    step.edges.forEach(function (id) { mark(id, "hot"); });
    if (step.line !== null) { mark("L" + step.line, "current"); }
    var preview = document.getElementById("P" + current);  // an array's cells, in the table
    document.getElementById("step-preview").innerHTML = preview ? preview.innerHTML : "";
    mark("S" + current, "current");
    document.getElementById("step-count").textContent =
      "Step " + current + " of " + (steps.length - 1);
    document.getElementById("step-code").textContent = step.code;
    document.getElementById("step-words").textContent = step.words;
    document.getElementById("prev").disabled = current === 0;
    document.getElementById("next").disabled = current === steps.length - 1;
    var box = document.getElementById(step.hot[0]), graph = box && box.closest(".graph");
    if (graph) {
      var b = box.getBoundingClientRect(), g = graph.getBoundingClientRect();
      if (b.left < g.left || b.right > g.right) {
        graph.scrollLeft += b.left - g.left - g.width / 2;
      }
    }
    var line = document.getElementById("L" + step.line), pane = line && line.parentNode.parentNode;
    if (line && (line.offsetTop < pane.scrollTop ||
                 line.offsetTop + line.offsetHeight > pane.scrollTop + pane.clientHeight)) {
      pane.scrollTop = line.offsetTop - pane.clientHeight / 2;  // the page itself stays put
    }
  }
  document.getElementById("first").onclick = function () { show(0); };
  document.getElementById("prev").onclick = function () { show(current - 1); };
  document.getElementById("next").onclick = function () { show(current + 1); };
  document.getElementById("last").onclick = function () { show(steps.length - 1); };
  document.addEventListener("keydown", function (event) {
    var moves = {ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1};
    if (event.key in moves) { show(current + moves[event.key]); }
    else if (event.key === "Home") { show(0); }
    else if (event.key === "End") { show(steps.length - 1); }
    else { return; }
    event.preventDefault();
  });
  show(0);
})();
"""

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>symgrad: backprop through {title}</title>
<style>{style}</style>
</head>
<body>
<h1>Backpropagation, one line at a time</h1>
<p class="program">{program}</p>
<p>Value {value}; gradient {gradient}.</p>
<div id="controls" hidden>
<button id="first" type="button" title="Home">« start</button>
<button id="prev" type="button" title="←">◀ back</button>
<button id="next" type="button" title="→">next ▶</button>
<button id="last" type="button" title="End">end »</button>
<span>or <kbd>←</kbd> <kbd>→</kbd> (<kbd>Home</kbd>, <kbd>End</kbd>)</span>
</div>
<div class="graph">
{svg}
</div>
<div class="panes">
<pre class="code"><code>{code}</code></pre>
<div class="side">
<div id="status" aria-live="polite">
<p id="step-count">{count} steps</p>
<p id="step-code"></p>
<div id="step-preview"></div>
<p id="step-words">All {count} steps have run: the graph shows every value and gradient,
and the table below lists each line with its numbers.</p>
<p class="legend">Yellow: what this line computes; blue: what it uses.</p>
<p id="nojs">With JavaScript, the buttons and the arrow keys step through the code
one line at a time.</p>
</div>
</div>
</div>
<table class="steps">
<thead><tr>{head}</tr></thead>
<tbody>
{rows}
</tbody>
</table>
<script type="application/json" id="symgrad-steps">{data}</script>
<script>{script}</script>
</body>
</html>
"""
