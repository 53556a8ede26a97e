"""Coverage-guided fuzzing of symgrad's parser and compiler with atheris.

Any bytes are decoded as text; ``symgrad.compile`` must either succeed (then the
compiled function is called once) or raise ``ParseError`` located inside the
text, ``TooLargeError``, or ``EvaluationError`` from the call.  Anything else is
a crash that atheris reports with the input that caused it.

With SYMGRAD_FUZZ=rows the target is unpickling instead: the plain rows of a real
program, tampered with by the fuzzer (operators, operand numbers, values, root,
names, labels), go through ``symgrad.core.gate.from_plain``, which must rebuild a
graph or raise ``SymgradError``, nothing else.

    pip install '.[fuzz]' && python fuzz/fuzz_parse.py -max_total_time=600
    SYMGRAD_FUZZ=rows python fuzz/fuzz_parse.py -max_total_time=600
"""

import os
import sys

import atheris

with atheris.instrument_imports():
    import symgrad
    from symgrad.core.gate import from_plain, to_rows

SEED = symgrad.parse("h = tanh(a*b + c)\nr = relu(h) - log(x) / sqrt(y**2)\nr*h")
ROWS = to_rows([SEED.root])
OPS = ["var", "const", "add", "mul", "tanh", "relu", "log", "pow", "__class__", ""]


def check_one(data):
    text = atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(4096)
    try:
        f = symgrad.compile(text)
    except symgrad.ParseError as error:
        lines = text.split("\n")
        assert 1 <= error.line <= len(lines), (error.line, text)
        assert 1 <= error.column <= len(lines[error.line - 1]) + 1, (error.column, text)
        return
    except symgrad.TooLargeError:
        return
    try:
        f.value_and_grad(*[0.5] * len(f.variables))
    except symgrad.EvaluationError:
        pass


def tampered_value(fuzz):
    """Any kind of value a crafted pickle could hold where a row expects one."""
    kind = fuzz.ConsumeIntInRange(0, 6)
    if kind == 0:
        return fuzz.ConsumeFloat()
    if kind == 1:
        return fuzz.ConsumeUnicodeNoSurrogates(12)
    if kind == 2:
        return fuzz.ConsumeInt(4)
    if kind == 3:
        return [fuzz.ConsumeInt(2) for _ in range(fuzz.ConsumeIntInRange(0, 3))]
    if kind == 4:
        return None
    if kind == 5:
        return fuzz.PickValueInList(OPS)
    return (fuzz.ConsumeInt(1), fuzz.ConsumeUnicodeNoSurrogates(4))


def check_rows(data):
    fuzz = atheris.FuzzedDataProvider(data)
    rows = [list(row) for row in ROWS]
    for _ in range(fuzz.ConsumeIntInRange(1, 8)):
        if not rows:
            break
        row = rows[fuzz.ConsumeIntInRange(0, len(rows) - 1)]
        row[fuzz.ConsumeIntInRange(0, 2)] = tampered_value(fuzz)
    if fuzz.ConsumeBool():
        del rows[fuzz.ConsumeIntInRange(0, len(rows) - 1):]
    root = fuzz.ConsumeIntInRange(-2, len(ROWS) + 2) if fuzz.ConsumeBool() else len(rows) - 1
    variables = list(SEED.variables)
    if fuzz.ConsumeBool():
        variables = [tampered_value(fuzz) for _ in range(fuzz.ConsumeIntInRange(0, 6))]
    labels = [(tampered_value(fuzz), tampered_value(fuzz))
              for _ in range(fuzz.ConsumeIntInRange(0, 3))]
    try:
        from_plain(rows, root, variables, labels)
    except symgrad.SymgradError:
        pass


def main(argv):
    target = check_rows if os.environ.get("SYMGRAD_FUZZ") == "rows" else check_one
    atheris.Setup(argv, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
