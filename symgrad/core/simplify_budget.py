"""``sympy.simplify`` under a time budget, in a child process that can be stopped.

SymPy cannot be interrupted inside a thread: a thread abandoned on timeout
would keep a core busy (and contend for the GIL) until ``simplify`` returns,
which may be never, in a notebook kernel that lives for hours.  A child process
is killed at the deadline instead.  It is forked where the platform can fork
and this process runs one thread (SymPy is then already loaded and the start
costs milliseconds); with other threads alive (JAX, a notebook kernel's) a fork
may deadlock, so the child is spawned afresh.  Expressions and results travel
by pickle between our own two processes, never as text.
"""

import multiprocessing
import os
import signal
import sys
import threading
import time

import sympy

SIMPLIFY_SECONDS = 10.0  # the default budget of one call, for all its expressions


def simplify_within(expressions, seconds=SIMPLIFY_SECONDS, progress=None):
    """``[sympy.simplify(e) or None]``: None for each expression not done within ``seconds``.

    One child simplifies the expressions in order; results arrive one by one,
    and ``progress()`` (if given) is called after each.
    """
    results = [None] * len(expressions)
    if not expressions or seconds <= 0:
        return results
    forkable = "fork" in multiprocessing.get_all_start_methods()
    alone = threading.active_count() == 1 and "jax" not in sys.modules  # XLA runs threads
    context = multiprocessing.get_context("fork" if forkable and alone else "spawn")
    receiver, sender = context.Pipe(duplex=False)
    worker = context.Process(target=_simplify_all, args=(list(expressions), sender, os.getpid()),
                             daemon=True)
    worker.start()
    sender.close()
    deadline = time.monotonic() + seconds
    try:
        for _ in expressions:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not receiver.poll(remaining):
                break
            try:
                index, result = receiver.recv()
            except EOFError:  # the child died (out of memory, killed): nothing more comes
                break
            results[index] = result
            if progress is not None:
                progress()
    finally:
        worker.kill()
        worker.join()
        receiver.close()
    return results


def _simplify_all(expressions, sender, parent):
    _die_with(parent)
    for index, expression in enumerate(expressions):
        try:
            result = sympy.simplify(expression)
        except (RecursionError, ValueError, TypeError, ArithmeticError):
            result = None  # SymPy gave up: the caller shows the expression as built
        sender.send((index, result))
    sender.close()


def _die_with(parent):
    """End this child when ``parent`` ends, and hold none of its output streams.

    A parent stopped by a signal runs no ``finally``: without this the child would
    simplify on for minutes, keeping the caller's pipes open (``symgrad ... | cat``
    would wait for it).
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (1, 2):
        os.dup2(devnull, stream)
    os.close(devnull)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent ended before the line above
        os._exit(0)
    threading.Thread(target=_watch, args=(parent,), daemon=True).start()  # elsewhere


def _watch(parent):
    while os.getppid() == parent:
        time.sleep(0.25)
    os._exit(0)
