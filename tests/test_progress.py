"""Progress bars appear on a terminal for long compilations, and nowhere else."""

import io
import sys

import pytest

import symgrad
from symgrad import progress

NEURON = "tanh(x1*w1 + x2*w2 + b)"


class Terminal(io.StringIO):
    def isatty(self):
        return True


def compiled_stderr(monkeypatch, stream, text):
    monkeypatch.setattr(sys, "stderr", stream)
    f = symgrad.compile(text)
    assert f.derivatives["b"].endswith("1 - tanh(x1*w1 + x2*w2 + b)**2")
    return stream.getvalue()


def test_a_large_compilation_on_a_terminal_shows_a_bar(monkeypatch):
    monkeypatch.setattr(progress, "LARGE", 4)  # the neuron has 5 operators
    shown = compiled_stderr(monkeypatch, Terminal(), NEURON)
    assert "symgrad: compiling (up to 5 operations)" in shown and "2/2" in shown


def test_the_real_threshold_is_ten_thousand_operations(monkeypatch):
    text = " + ".join(f"x{i}*y{i}" for i in range(5001)) + " + " + NEURON
    shown = compiled_stderr(monkeypatch, Terminal(), text)
    assert "symgrad: compiling (up to 10,007 operations)" in shown


@pytest.mark.parametrize("stream", [io.StringIO(), Terminal()], ids=["pipe", "terminal"])
def test_nothing_is_printed_off_a_terminal_or_for_small_work(monkeypatch, stream):
    if isinstance(stream, io.StringIO) and not isinstance(stream, Terminal):
        monkeypatch.setattr(progress, "LARGE", 4)  # large, but nobody watches
    assert compiled_stderr(monkeypatch, stream, NEURON) == ""


def test_without_tqdm_nothing_is_printed_and_nothing_fails(monkeypatch):
    monkeypatch.setattr(progress, "LARGE", 4)
    monkeypatch.setitem(sys.modules, "tqdm", None)
    assert compiled_stderr(monkeypatch, Terminal(), NEURON) == ""
