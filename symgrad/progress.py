"""A progress bar for work users wait for, shown only where someone watches.

tqdm draws it on stderr when tqdm is installed (``pip install 'symgrad[progress]'``),
stderr is a terminal and the work is large; otherwise nothing is printed at all.
"""

import sys

LARGE = 10_000  # operations above which compiling takes seconds


class _Silent:
    def update(self, n=1):
        pass

    def set_postfix_str(self, text):
        pass

    def close(self):
        pass


def stages(description, total, size):
    """A bar of ``total`` stages for work of ``size()`` operations, or a silent stand-in.

    ``size`` is a function, called only when stderr is a terminal.
    """
    if not _watched():
        return _Silent()
    operations = size()
    if operations <= LARGE:
        return _Silent()
    try:
        from tqdm import tqdm
    except ImportError:
        return _Silent()
    return tqdm(total=total, desc=f"{description} (up to {operations:,} operations)", unit="stage",
                leave=False, file=sys.stderr, mininterval=0)


def _watched():
    stream = sys.stderr
    return stream is not None and hasattr(stream, "isatty") and stream.isatty()
