"""The ``symgrad`` command on array programs: gradients as formulas, code, checks, explain.

Called by ``symgrad.cli`` when the program declares arrays.  ``--at random``
(the default for --check) draws inputs with each dimension 3, or as ``--shapes
n=4`` binds them; ``--at X=x.npy`` loads an input from a ``.npy`` file.
"""

import numpy as np

from ..core.errors import SymgradError
from . import shapes
from .build import parse
from .checks import random_inputs
from .compiled import ArrayFunction


class ArrayInputError(SymgradError):
    """Bad command-line input for an array program."""


def run(args, text, parse_names):
    """Print what the options ask for; return the exit status.  ``parse_names`` is the
    scalar command's reading of --wrt (``symgrad.cli.parse_wrt``)."""
    try:
        return _run(args, text, parse_names)
    except TypeError as error:  # arrays that do not fit the declarations
        raise ArrayInputError(str(error)) from None
    except MemoryError:  # --shapes n=99999999999
        raise ArrayInputError("the arrays of these shapes do not fit in memory: give smaller "
                              "sizes with --shapes") from None


UNSUPPORTED = ("json", "graph", "hessian", "forward", "simplify")


def _run(args, text, parse_names):
    for option in UNSUPPORTED:
        if getattr(args, option, None):
            raise ArrayInputError(f"--{option} is not available for array programs yet "
                                  "(they offer the formulas, --code, --check, --explain, "
                                  "--dot, --svg, --png and --html)")
    backend = "numpy" if args.backend in (None, "python") else args.backend
    expression = parse(text)
    f = ArrayFunction(expression, backend, parse_wrt(args.wrt, expression, parse_names))
    dims = parse_shapes(getattr(args, "shapes", None), f)
    if args.svg or args.png or args.html or args.dot:
        at = point(args.at, f, dims) if args.at else None
        write_views(args, f, at)
        if args.dot:
            print(f.to_dot(at), end="")
            return 0
    if args.code:
        print(module_source(f), end="")
        return 0
    if args.check:
        return print_check(f, dims)
    if args.explain:
        print_explain(f, point(args.at, f, dims))
        return 0
    print_gradients(f)
    if args.at:
        value, grads = f.value_and_grad(**point(args.at, f, dims))
        print(f"value: {value!r}")
        for name, grad in grads.items():
            print(f"∂/∂{name} =\n{preview(grad, indent='  ')}")
    return 0


def write_views(args, f, at):
    """--svg, --png (the graph, drawn by Graphviz) and --html (the stepping page)."""
    from ..views.draw import render
    from ..views.files import write

    files = [(fmt, path) for fmt, path in (("svg", args.svg), ("png", args.png)) if path]
    dot_text = f.to_dot(at) if files else None
    for fmt, path in files:
        write(path, render(dot_text, fmt), ArrayInputError)
    if args.html:
        write(args.html, f.to_html(at).encode("utf-8"), ArrayInputError)


def parse_wrt(text, expression, parse_names):
    """The --wrt names (None for all), read by ``parse_names`` as the scalar command reads
    them; an error naming any that is an integer array (which has no gradient)."""
    if text is None:
        return None
    names = parse_names(text, tuple(expression.inputs))
    ints = [name for name in names if expression.inputs[name].dtype == "int"]
    if ints:
        raise ArrayInputError(f"--wrt {text}: {ints[0]} is an integer array: it gets no "
                              "gradient")
    return names


def parse_shapes(words, f):
    """{dimension: size} from ``--shapes n=4 m=2`` (every other dimension 3)."""
    dims = dict.fromkeys(f.expression.dims, 3)
    for word in (words or ()):
        for item in word.split(","):
            name, _, value = item.partition("=")
            if name not in dims or not value.isdigit():
                raise ArrayInputError(f"--shapes {item}: expected DIMENSION=SIZE with a "
                                      f"dimension of the program ({', '.join(dims) or 'none'})")
            dims[name] = int(value)
    return dims


def point(words, f, dims):
    """The inputs of --at: ``random``, or NAME=FILE.npy / NAME=number for each input."""
    if not words or words == ["random"]:
        return random_inputs(f, dims)
    values = {}
    for word in words:
        for item in word.split(","):
            if item == "random":
                continue
            name, _, value = item.partition("=")
            if name not in f.expression.inputs:
                raise ArrayInputError(f"--at {item}: {name} is not an input "
                                      f"(inputs: {', '.join(f.inputs)})")
            if value.endswith(".npy"):
                try:
                    values[name] = np.load(value, allow_pickle=False)
                except (OSError, ValueError) as error:
                    raise ArrayInputError(f"--at {item}: cannot read {value}: {error}") from None
            else:
                try:
                    values[name] = float(value)
                except ValueError:
                    raise ArrayInputError(f"--at {item}: expected a number or a .npy "
                                          "file") from None
    if "random" in words:  # the rest at random, with the dimensions the files give
        for name, value in values.items():
            for dim, size in zip(f.expression.inputs[name].shape, np.shape(value)):
                if isinstance(dim, str):
                    dims[dim] = size
        values = {**random_inputs(f, dims), **values}
    missing = [name for name in f.inputs if name not in values]
    if missing:
        raise ArrayInputError(f"--at is missing {', '.join(missing)} (or say --at random)")
    return values


def print_gradients(f):
    """The program's backward pass in the language, then each input's gradient."""
    print("backward pass, from the loss back (one rule a line):")
    for target, text, comment, shape in f.backward_lines():
        print(f"  {target} = {text}    # {comment}  {shape}")
    print("gradients:")
    for name, text in f.derivatives().items():
        shape = shapes.text(f.expression.inputs[name].shape)
        print(f"  ∂L/∂{name} = {text}    {shape}")


def module_source(f):
    """The generated function as a runnable module."""
    head = ("# Generated by symgrad from an array program; runs with NumPy.\n"
            "import numpy as np\n\n"
            "from symgrad.arrays.runtime import namespace\n\n"
            "# the names generated array code calls (logsumexp, scatter_add, erf...);\n"
            "# a module keeps Python's builtins\n"
            "globals().update(namespace('numpy'), __builtins__=__builtins__)\n\n\n")
    return head + f.source


def preview(value, indent="    "):
    """A few of an array's numbers, NumPy's way."""
    text = np.array2string(np.asarray(value), precision=4, threshold=12, edgeitems=2,
                           suppress_small=True)
    return "\n".join(indent + line for line in text.splitlines())


def print_explain(f, values):
    """Each step of the forward and backward pass with its shape and a preview."""
    value, _, steps = f.trace(**values)
    forward = f.program.forward
    print("forward pass:")
    from .printer import forward_lines

    for (name, text, shape), result in zip(forward_lines(f.program), steps):
        print(f"  {name} = {text}    {shape}\n{preview(result)}")
    print(f"value: {value!r}\nbackward pass, from the loss back:")
    for (target, text, comment, shape), result in zip(f.backward_lines(),
                                                      steps[len(forward):]):
        print(f"  {target} = {text}    # {comment}  {shape}\n{preview(result)}")


def print_check(f, dims):
    """Finite differences, the scalar compiler (small shapes) and JAX, on random inputs."""
    from .checks import check_inputs, checked_shapes, run_checks

    dims = checked_shapes(f, dims, "--shapes")
    ok = True
    for name, passed, detail in run_checks(f, dims, check_inputs(f, dims)):
        ok = ok and passed is not False
        mark = {True: "ok", False: "MISMATCH", None: "skipped"}[passed]
        print(f"  {name:40s} {mark}  {detail}")
    print("all checks agree" if ok else "a check disagrees")
    return 0 if ok else 1
