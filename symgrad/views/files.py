"""Views written to files by the command line, scalar or array: one way to say it failed."""

import sys


def write(path, data, error):
    """Write ``data`` (bytes) to ``path`` and say so on stderr; raise ``error`` (an exception
    class) naming the file and the system's reason where it cannot be written."""
    try:
        with open(path, "wb") as stream:
            stream.write(data)
    except OSError as problem:
        raise error(f"cannot write {path}: {problem.strerror}") from None
    print(f"symgrad: wrote {path}", file=sys.stderr)
