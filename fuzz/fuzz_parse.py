"""Coverage-guided fuzzing of symgrad's parser and compiler with atheris.

Any bytes are decoded as text; ``symgrad.compile`` must either succeed (then the
compiled function is called once) or raise ``ParseError`` located inside the
text, ``TooLargeError``, or ``EvaluationError`` from the call.  Anything else is
a crash that atheris reports with the input that caused it.

    pip install '.[fuzz]' && python fuzz/fuzz_parse.py -max_total_time=600
"""

import sys

import atheris

with atheris.instrument_imports():
    import symgrad


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


def main(argv):
    atheris.Setup(argv, check_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
