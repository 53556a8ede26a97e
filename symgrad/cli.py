"""The ``symgrad`` command: a thin shell over the library.

Bad input exits with status 2 and a message (with line, column and a caret
where there is a position), an internal error with status 1 and one line;
``--traceback`` shows Python's traceback instead.  SymPy and NumPy are imported
only by the options that need them.
"""

import argparse
import errno
import io
import math
import sys

from . import __version__, compile, completion, parse
from .core import syntax
from .core.errors import (
    EvaluationError,
    SymgradError,
    TooLargeError,
    caret_lines,
    located,
)
from .core.lalr import position
from .core.ops import CONSTANTS
from .core.printer import format_number
from .core.program import Program
from .core.syntax import MAX_TEXT

EXAMPLES = """\
examples:
  symgrad "tanh(a*b + c)"                       derivatives, by symgrad's backward pass
  symgrad "tanh(a*b + c)" --at a=2 b=-3 c=10    value and gradient at a point
  symgrad "tanh(a*b + c)" --at a=2,b=-3,c=10 --explain
  symgrad "tanh(a*b + c)" --code                the generated Python (a runnable module)
  symgrad "x**3*y" --hessian --at x=2 y=3       second derivatives, formulas and numbers
  symgrad "x**3*y" --hessian --code             the generated hvp and hessian
  symgrad "tanh(a*b + c)" --forward --code      forward mode: a tangent after each value
  symgrad "x**3*y" --forward --explain --at x=2 y=3 --tangent x=1 y=1
  symgrad "tanh(a*b + c)" --code --backend c    the generated C
  symgrad "tanh(a*b + c)" --json --at a=2 b=-3 c=10
  symgrad "tanh(a*b + c)" --check               compare with SymPy and finite differences
  symgrad "x**2*y" --wrt x --simplify
  symgrad "tanh(a*b + c)" --at a=2 b=-3 c=10 --svg graph.svg
  symgrad "tanh(a*b + c)" --at a=2 b=-3 c=10 --html page.html   step through backprop
  symgrad -f model.sg --graph                   a program from a file ('-' reads stdin)

The program may stand before or after the options; one starting with '-'
is taken as the program when it is no option ('symgrad -- -x' always is).
--at values are numbers or constant expressions such as pi/2 or -1/3.
--json prints {"expression", "variables", "derivatives"} and, with --at,
{"value", "gradient"}; with --simplify also "simplified".
"""


class InputError(SymgradError):
    """Bad command-line input, such as an --at value that is not a number."""


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line: the usage block is what --help is for."""

    def error(self, message):
        self.exit(2, f"symgrad: error: {message} (symgrad --help lists the options)\n")

    def refuse(self, message):
        """Options that do not go together: one line, status 2."""
        self.exit(2, f"symgrad: error: {message}\n")


def build_parser():
    parser = _Parser(
        prog="symgrad",
        description="Differentiate a program by the chain rule and show its derivatives,\n"
                    "values, generated code, graph, or a step-by-step explanation.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("program", nargs="?",
                        help="the program, e.g. 'tanh(a*b + c)'; '-' reads it from stdin")
    parser.add_argument("-f", "--file", metavar="FILE", help="read the program from FILE")
    parser.add_argument("--at", nargs="+", action="append", metavar="NAME=VALUE",
                        help="the point: a=2 b=-3 c=10 or a=2,b=-3,c=10")
    parser.add_argument("--wrt", metavar="NAMES",
                        help="differentiate only with respect to these inputs, e.g. a,c")
    parser.add_argument("--simplify", action="store_true",
                        help="also print the derivatives simplified by SymPy (with the "
                             "default output or --json; with --hessian, the second "
                             "derivatives)")
    parser.add_argument("--check", action="store_true",
                        help="cross-check with SymPy and finite differences at random points "
                             "(and at --at); exit status 1 on a mismatch")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true",
                        help="print one JSON object (a stable format, see below)")
    output.add_argument("--code", action="store_true",
                        help="print the generated code (Python unless --backend), exactly "
                             "what runs")
    output.add_argument("--explain", action="store_true",
                        help="walk the backward pass step by step at --at")
    output.add_argument("--dot", action="store_true",
                        help="print the graph as Graphviz DOT text")
    output.add_argument("--graph", action="store_true",
                        help="print the graph as a tree in the terminal")
    parser.add_argument("--hessian", action="store_true",
                        help="second derivatives: the formulas, the numbers with --at, the "
                             "generated hvp and hessian with --code")
    parser.add_argument("--forward", action="store_true",
                        help="forward mode: the generated jvp with --code, the tangents step by "
                             "step with --explain, the directional derivative with --at")
    parser.add_argument("--tangent", nargs="+", action="append", metavar="NAME=VALUE",
                        help="the direction for --forward (default: 1 for the first input, "
                             "0 for the others)")
    parser.add_argument("--shapes", nargs="+", metavar="DIM=SIZE",
                        help="array programs: the sizes of dimensions for --at random and "
                             "--check, e.g. n=4 (others are 3)")
    parser.add_argument("--backend", choices=("python", "numpy", "c", "jax"), default="python",
                        help="the backend that compiles the program (default: python)")
    parser.add_argument("--svg", metavar="FILE.svg",
                        help="draw the graph into FILE.svg (needs Graphviz)")
    parser.add_argument("--png", metavar="FILE.png",
                        help="draw the graph into FILE.png (needs Graphviz)")
    parser.add_argument("--html", metavar="FILE",
                        help="write a page stepping through the code at --at into FILE")
    parser.add_argument("--traceback", action="store_true",
                        help="show Python's traceback on errors (for debugging symgrad)")
    parser.add_argument("--version", action="version", version=f"symgrad {__version__}")
    parser.add_argument("--clear-cache", action=ClearCache,
                        help="remove the C backend's compiled libraries from the cache and exit")
    completion.add_to(parser)
    return parser


class ClearCache(argparse.Action):
    """--clear-cache: empty the C backend's cache, say how much went, and exit."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        from .backends.cbuild import cache_dir, clear_cache

        try:
            removed = clear_cache()
        except SymgradError as error:
            parser.exit(2, f"symgrad: error: {error}\n")
        print(f"removed {removed:,} file{'s' * (removed != 1)} from {cache_dir()}")
        parser.exit(0)


def main(argv=None):
    """Run the command and return its exit status (1: mismatch or internal error, 2: bad input)."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    dashed, argv = take_dashed_program(argv, parser)
    args = parser.parse_args(argv)
    args.at = [word for words in args.at or () for word in words] or None
    args.tangent = [word for words in args.tangent or () for word in words] or None
    take_program(parser, args, dashed)
    if args.explain and not args.at:
        parser.refuse("--explain needs --at, the point to explain")
    if args.html and not args.at:
        parser.refuse("--html needs --at, the point whose numbers the page shows")
    check_modes(parser, args)
    if args.check and args.json:
        parser.refuse("--check prints a report, which would not be JSON; run it separately")
    shown = next((option for option in ("code", "explain", "dot", "graph")
                  if getattr(args, option)), None)
    if args.simplify and shown:
        parser.refuse(f"--simplify adds SymPy's form to the derivatives or --json, which "
                      f"--{shown} does not print; run it separately")
    for fmt in ("svg", "png"):
        path = getattr(args, fmt)
        if path is not None and not path.lower().endswith("." + fmt):
            parser.refuse(f"--{fmt} {path}: the file name must end in .{fmt} (--svg draws SVG, "
                          "--png draws PNG)")
    try:
        if sys.stdout is None:
            raise OSError(errno.EBADF, "standard output is closed")
        status = run(args)
        sys.stdout.flush()
        return status
    except SymgradError as error:
        if args.traceback:
            raise
        print(f"symgrad: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        sys.stderr.close()  # the reader left (symgrad ... | head); nothing more to say
        return 0
    except KeyboardInterrupt:
        return 130
    except OSError as error:  # stdin or stdout closed, a full disk: not symgrad's fault
        if args.traceback:
            raise
        print(f"symgrad: error: {error.strerror or error}", file=sys.stderr)
        discard_stdout()
        return 1
    except Exception as error:  # an internal error: say so in one line
        if args.traceback:
            raise
        print(f"symgrad: internal error: {type(error).__name__}: {error} "
              "(run again with --traceback for details)", file=sys.stderr)
        return 1


def take_program(parser, args, dashed):
    """The program among the words: a word --at or --tangent took that is no NAME=VALUE
    item is the program when none was given; any other such word is refused."""
    strays = [(option, word) for option in ("at", "tangent")
              for word in getattr(args, option) or () if not is_point_word(word)]
    strays += [("", dashed)] if dashed is not None else []
    for option in ("at", "tangent"):
        words = [word for word in getattr(args, option) or () if is_point_word(word)]
        setattr(args, option, words or None)
    if strays and args.program is None and args.file is None and len(strays) == 1:
        args.program = strays.pop()[1]
    if args.program is not None and args.file is not None:
        parser.refuse("give a program or -f FILE, not both")
    for option, word in strays:
        if option:
            parser.refuse(f"--{option} {word}: expected NAME=VALUE, such as x=3")
        parser.refuse(f"give one program, not two: {args.program!r} and {word!r}")
    if args.program is None and args.file is None:
        parser.refuse('no program: give one, as in symgrad "tanh(a*b + c)", or read it from '
                      "a file with -f FILE")


def check_modes(parser, args):
    """--hessian and --forward change what --code, --explain and --at show; the rest is refused."""
    others = [option for option in ("json", "dot", "graph", "svg", "png", "html")
              if getattr(args, option)]
    if args.hessian and args.forward:
        parser.refuse("--hessian and --forward are separate views: give one")
    for mode in ("hessian", "forward"):
        refused = [option for option in others if not (mode == "hessian" and option == "json")]
        if getattr(args, mode) and refused:
            parser.refuse(f"--{mode} does not go with --{refused[0]}")
    if args.hessian and args.explain:
        parser.refuse("--hessian does not go with --explain (try --forward --explain)")
    if args.forward and not (args.code or args.explain or args.at):
        parser.refuse("--forward needs --code, --explain or --at")
    if args.tangent and not args.forward:
        parser.refuse("--tangent is the direction of --forward")


def take_dashed_program(argv, parser):
    """(the program if it starts with '-' or follows '--', the other arguments).

    argparse would take ``-log(p)`` for an option; a word that starts with '-' and
    names no option is the program, and so is the word after a bare '--'.
    """
    known = {option for action in parser._actions for option in action.option_strings}
    takes_value = {option for action in parser._actions if action.nargs is None
                   for option in action.option_strings}
    rest = []
    words = iter(argv)
    for word in words:
        if word == "--":
            return next(words, None), rest + list(words)
        dashed = word.startswith("-") and word != "-" and not word.startswith("--")
        if dashed and word[:2] not in known and not (rest and rest[-1] in takes_value):
            return word, rest + list(words)
        rest.append(word)
    return None, rest


def is_point_word(word):
    """Whether an --at word holds NAME=VALUE items (a program with '=' also has ';'), or is
    ``random`` (array programs)."""
    return word == "random" or (all("=" in item for item in word.split(","))
                                and not set(word) & set(";\n"))


def discard_stdout():
    """Point stdout at /dev/null, so Python's final flush cannot fail a second time."""
    try:
        sys.stdout = open("/dev/null", "w")
    except OSError:  # pragma: no cover - no /dev/null
        pass


def run(args):
    """Everything after parsing the options; errors propagate to ``main``."""
    text = read_program(args)
    from .arrays import is_array_program

    if is_array_program(text):
        from .arrays.cli import run as run_arrays

        return run_arrays(args, text, parse_wrt)
    expression = parse(text)
    f = compile(expression, wrt=parse_wrt(args.wrt, expression.variables), backend=args.backend)
    point = parse_point(args.at, f.variables) if args.at else None
    numbers = None  # (value, gradient) at the point: computed once, printed below
    if point is not None:
        try:
            numbers = f.value_and_grad(**point)  # fails here, located, if outside the domain
        except EvaluationError as error:
            raise EvaluationError(locate(error, text)) from None
    if args.svg or args.png:
        write_images(args, f, point)
    if args.html:
        write_html(args.html, f, point)
    print_output(args, f, point, numbers)
    return print_check(f, point) if args.check else 0


def print_output(args, f, point, numbers):
    """What the options ask to see on stdout (the derivatives, by default); ``numbers``
    is ``f.value_and_grad`` at ``point``."""
    if args.hessian or args.forward:
        (print_hessian if args.hessian else print_forward)(args, f, point)
    elif args.json:
        print_json(f, point, numbers, args.simplify)
    elif args.code:
        sys.stdout.write(f.module_source)
    elif args.explain:
        from .views.explain import explain

        print_program(f)
        print(f"backward pass at {format_point(point)}, from the output back:")
        print("\n".join(explain(f.program, point)))
    elif args.dot or args.graph:
        from .views import draw

        values, grads = draw.node_values(f.program, point) if point else (None, None)
        to_picture = draw.to_dot if args.dot else draw.to_text
        sys.stdout.write(to_picture(f.program, values, grads))
    else:
        print_derivatives(f, args.simplify)
        if point is not None:
            print_table(point, *numbers)
        elif not f.variables:
            value = f.value_and_grad()[0]
            shown = str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
            print(f"  no inputs: the value is {shown}")


def read_program(args):
    """The program's text; at most MAX_TEXT + 1 characters are read from a file or stdin."""
    if args.file not in (None, "-"):
        try:
            with open(args.file, encoding="utf-8-sig") as stream:
                text = stream.read(MAX_TEXT + 1)
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or error
            raise InputError(f"cannot read {args.file}: {reason}") from None
    elif args.file == "-" or args.program == "-":
        text = read_stdin()
    else:
        return args.program
    if len(text) > MAX_TEXT:
        where = "standard input" if args.file in (None, "-") else args.file
        raise TooLargeError(f"{where} holds more than {MAX_TEXT:,} characters; symgrad reads "
                            "at most that many: split the program")
    return text


def read_stdin():
    if sys.stdin is None:
        raise OSError(errno.EBADF, "standard input is closed")
    stream = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig") if hasattr(
        sys.stdin, "buffer") else sys.stdin
    try:
        return stream.read(MAX_TEXT + 1)
    except UnicodeDecodeError as error:
        raise InputError(f"cannot read standard input: {error}") from None


def parse_wrt(text, variables):
    """The --wrt names as a list (None for all); an error naming any that is not an input."""
    if text is None:
        return None
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        example = ",".join(variables[:2]) or "x"
        raise InputError(f"--wrt needs the inputs to differentiate by, such as --wrt {example}"
                         f" (inputs: {', '.join(variables) or 'none'})")
    unknown = [name for name in names if name not in variables]
    if unknown:
        raise InputError(f"--wrt {text}: {', '.join(unknown)} is not an input "
                         f"(inputs: {', '.join(variables) or 'none'})")
    return list(dict.fromkeys(names))


def parse_point(words, variables, complete=True):
    """{input: float} from --at's words (``a=2 b=-3`` or ``a=2,b=-3``); every input, once.

    With ``complete`` False (--tangent), inputs left out are simply absent.
    """
    point = {}
    option = "--at" if complete else "--tangent"
    line = f"{option} " + " ".join(words)
    start = len(option) + 1  # where the current item begins in ``line``
    for word in words:
        for item in word.split(","):
            name, equals, value = item.partition("=")
            name = name.strip()
            if not equals or not name:
                raise point_error(f"expected NAME=VALUE, got {item!r}", line, start)
            if name in CONSTANTS and name not in variables:
                raise point_error(f"{name} is the number {CONSTANTS[name]!r}, not an input; to "
                                  f"use another value, assign it in the program ({name} = "
                                  "...)", line, start)
            if name not in variables:
                raise point_error(f"{name} is not an input (inputs: "
                                  f"{', '.join(variables) or 'none'})", line, start)
            if name in point:
                raise point_error(f"{name} is given twice", line, start)
            point[name] = parse_number(value, line, start + item.index("=") + 1)
            start += len(item) + 1  # the comma or the blank after it
    missing = [name for name in variables if name not in point]
    if missing and complete:
        raise InputError(f"--at is missing {', '.join(missing)} "
                         f"(inputs: {', '.join(variables)})\n{caret_lines(line, len(line) + 1)}")
    return point


def parse_number(text, line, column):
    """A number or constant expression in symgrad's language (pi and e are numbers there),
    evaluated on its graph; never by Python's float() or eval()."""
    try:
        expression = parse(text)
        if expression.variables:
            raise InputError("not constant")
        program = Program(expression)
        value = program.evaluate({}, gradients=False).value_of(program.root)
    except SymgradError:
        value = math.nan
    if not math.isfinite(value):
        raise point_error(f"{text.strip()!r} is not a finite number", line, column)
    return value


def point_error(message, line, column):
    """An ``InputError`` showing the --at (or --tangent) words with a caret at ``column``."""
    return InputError(f"{line.split(' ', 1)[0]}: {message}\n{caret_lines(line, column + 1)}")


def locate(error, text):
    """The message of an ``EvaluationError`` with the line, column and a caret of the
    operation that failed, where the program's text has it."""
    offset = syntax.positions(text).get(error.node) if error.node is not None else None
    if offset is None:
        return str(error)
    return located(str(error), text, *position(text, offset))


def print_derivatives(f, simplify):
    """The program, then d/d(each input): one line, or its shared parts as named lines."""
    print_program(f)
    for name, text in f.derivatives.items():
        print_formula(f"∂/∂{name}", text)
    if simplify:
        print_simplified({f"∂/∂{name}": text for name, text in f.derivatives.items()},
                         simplified(first_derivatives(f), f.variables))


def print_simplified(texts, results):
    """SymPy's forms under the derivatives ``texts`` ({label: text}), or why not."""
    print("simplified by SymPy:")
    for label, (text, note) in results.items():
        if note and text == texts[label]:
            print(f"  {label}: {note}")
        else:
            print(f"  {label} = {text}" + (f"\n    ({note})" if note else ""))


def print_formula(label, text):
    """``label = text`` on one line, or the shared parts of ``text`` as named lines first."""
    parts = text.split("; ")  # the language has no strings, so '; ' only separates lines
    if len(parts) == 1:
        print(f"  {label} = {text}")
        return
    print(f"  {label}:")
    for part in parts[:-1]:
        print(f"    {part}")
    print(f"    {label} = {parts[-1]}")


def print_program(f):
    """The program as symgrad prints it, one statement a line."""
    print("\n".join(f.program.echo()))


def first_derivatives(f):
    """{label: (the derivative's IR, its text)} of d/d(each input)."""
    return {f"∂/∂{name}": (f.gradients[name].root, text) for name, text in f.derivatives.items()}


def second_derivatives(f, pairs, texts):
    """{label: (the second derivative's IR, its text)} of each (a, b) in ``pairs``;
    ``texts`` is ``f.second_derivatives``, which builds every text each time it is read."""
    from .core.higher import second_derivative_nodes

    nodes = second_derivative_nodes(f.expression, f.wrt)
    return {hessian_label(a, b): (nodes[a][b], texts[a][b]) for a, b in pairs}


def simplified(derivatives, variables):
    """{label: (text, note)}: SymPy's simplified form of each of ``derivatives`` ({label:
    (IR, text)}), or its text as built and a note why not.

    Built from the IR (never from text).  ``simplify`` gets SIMPLIFY_SECONDS in
    all; a graph too large or deep for SymPy keeps symgrad's own text.
    """
    import sympy

    from .core.simplify_budget import SIMPLIFY_SECONDS, simplify_within
    from .core.sympy_bridge import build, symbols_for
    from .crosscheck import SIMPLIFY_LIMIT

    labels = list(derivatives)
    built = build([derivatives[label][0] for label in labels], symbols_for(variables))
    if built.shared:
        return {label: (derivatives[label][1], "not simplified: too large or deep for SymPy; "
                        "symgrad's derivative as above") for label in labels}
    result = {label: (str(e), "not simplified: too large for SymPy's simplify")
              for label, e in zip(labels, built.expressions)}
    small = [(label, e) for label, e in zip(labels, built.expressions)
             if sympy.count_ops(e) <= SIMPLIFY_LIMIT]
    done = simplify_within([e for _, e in small], SIMPLIFY_SECONDS)
    for (label, expression), simpler in zip(small, done):
        result[label] = ((str(expression), f"not simplified within {SIMPLIFY_SECONDS:g} s")
                         if simpler is None else (str(simpler), None))
    return result


def print_table(point, value, gradient):
    """The value and gradient at the point, aligned in two columns."""
    print_numbers(point, [("value", value)]
                  + [(f"∂/∂{name}", x) for name, x in gradient.items()])


def print_numbers(point, rows):
    """``at <point>:``, then (label, number) rows aligned in two columns."""
    print(f"at {format_point(point)}:")
    width = max((len(label) for label, _ in rows), default=0)
    for label, x in rows:
        x = float(x)  # the numpy backend's numbers would print as np.float64(...)
        sign_column = "" if x < 0 else " "  # so the digits line up
        print(f"  {label:<{width}}  {sign_column}{x!r}")


def format_point(point):
    return ", ".join(f"{name} = {format_number(x)}" for name, x in point.items())


def print_json(f, point, numbers, simplify):
    result = {"expression": str(f.expression), "variables": list(f.variables),
              "derivatives": f.derivatives}
    if point is not None:
        result["value"], result["gradient"] = numbers
    if simplify:
        forms = simplified(first_derivatives(f), f.variables)
        result["simplified"] = {name: forms[f"∂/∂{name}"][0] for name in f.derivatives}
        warn_unsimplified(forms)
    print(to_json(result, point))


def warn_unsimplified(forms):
    """On stderr, why a derivative in --json's "simplified" is symgrad's own."""
    for label, (_, note) in forms.items():
        if note:
            print(f"symgrad: {label} {note}", file=sys.stderr)


def to_json(result, point):
    """``result`` as strict JSON text (RFC 8259): a number that is not finite is an error."""
    import json

    try:
        return json.dumps(result, indent=2, ensure_ascii=False, allow_nan=False)
    except ValueError:
        raise EvaluationError(f"the value or a derivative at {format_point(point)} is not "
                              "finite, and JSON has no number for it") from None


def print_check(f, point):
    """The SymPy and finite-difference report; status 1 if anything disagrees."""
    from . import check

    report = check(f, at=point)
    if not report.points:  # nothing was compared: a question of input, not a mismatch
        raise InputError(f"{report}")
    print(report)
    return 0 if report.ok else 1


def write_images(args, f, point):
    from .views import draw
    from .views.files import write

    values, grads = draw.node_values(f.program, point) if point else (None, None)
    dot_text = draw.to_dot(f.program, values, grads)
    for fmt, path in (("svg", args.svg), ("png", args.png)):
        if path:
            write(path, draw.render(dot_text, fmt), InputError)


def write_html(path, f, point):
    from .views.files import write

    write(path, f.to_html(point).encode("utf-8"), InputError)


def print_hessian(args, f, point):
    """--hessian: the generated code, or the second derivatives (and their numbers at --at)."""
    if args.code:
        note_fallback(f, "hvp")
        sys.stdout.write(f.hessian_source)
        return
    formulas = f.second_derivatives
    wrt = list(f.wrt)
    pairs = [(a, b) for i, a in enumerate(wrt) for b in wrt[i:]]  # the Hessian is symmetric
    forms = (simplified(second_derivatives(f, pairs, formulas), f.variables) if args.simplify
             else None)
    if args.json:
        print_hessian_json(f, formulas, point, forms)
        return
    print_program(f)
    for a, b in pairs:
        print_formula(hessian_label(a, b), formulas[a][b])
    if forms is not None:
        print_simplified({hessian_label(a, b): formulas[a][b] for a, b in pairs}, forms)
    if point is not None:
        hessian = f.hessian(**point)
        print_numbers(point, [(hessian_label(a, b), hessian[a][b]) for a, b in pairs])


def hessian_label(a, b):
    return f"∂²/∂{a}²" if a == b else f"∂²/∂{a}∂{b}"


def note_fallback(f, kind):
    """A note on stderr where ``f``'s backend prints no ``kind`` code and another's is shown."""
    from . import backends

    printer = backends.for_kind(f.backend, kind).name
    if printer != f.backend:
        print(f"symgrad: the {f.backend} backend prints no {kind} code; this is the "
              f"{printer} backend's", file=sys.stderr)


def print_hessian_json(f, formulas, point, forms=None):
    """--hessian --json: {"expression", "variables", "second_derivatives"} and, with --at,
    "hessian", each as {a: {b: ...}} over the wrt inputs; with --simplify "simplified",
    SymPy's forms of the same (``forms`` holds each pair once: the Hessian is symmetric)."""
    result = {"expression": str(f.expression), "variables": list(f.variables),
              "second_derivatives": formulas}
    if forms is not None:
        result["simplified"] = {
            a: {b: forms.get(hessian_label(a, b), forms.get(hessian_label(b, a)))[0]
                for b in row} for a, row in formulas.items()}
        warn_unsimplified(forms)
    if point is not None:
        result["hessian"] = f.hessian(**point)
    print(to_json(result, point))


def print_forward(args, f, point):
    """--forward: the jvp code, the tangents step by step, or the directional derivative."""
    if args.code:
        note_fallback(f, "jvp")
        sys.stdout.write(f.forward_source)
        return
    tangents = (parse_point(args.tangent, f.wrt, complete=False) if args.tangent
                else {name: float(i == 0) for i, name in enumerate(f.wrt)})
    schedule = f.tangent_program
    along = ", ".join(f"{schedule.tangents[name]} = {format_number(tangents.get(name, 0.0))}"
                      for name in f.wrt) or "no input"
    print_program(f)
    if args.explain:
        from .views.explain import explain_forward

        print(f"forward pass at {format_point(point)}, each value with its tangent:")
        print("\n".join(explain_forward(schedule, point, tangents)))
        return
    value, derivative = f.jvp(point, tangents)
    print(f"at {format_point(point)}, along {along}:")
    print(f"  value                    {'' if value < 0 else ' '}{value!r}")
    print(f"  directional derivative   {'' if derivative < 0 else ' '}{derivative!r}")
