"""Shared pytest options: --update-golden rewrites tests/golden/ from current output.

Under CI (the CI environment variable is set) hypothesis runs derandomized, so a
run is reproducible; on a developer's machine it explores new examples each time.
"""

import math
import os

import pytest
from hypothesis import settings

import symgrad.compiled

# The Python backend answers a large program's first call on the tape (bit for bit the
# same numbers).  Tests of generated code run that code from the first call; the tape's
# first calls have tests of their own, which put this threshold back.
FIRST_CALL_ON_TAPE = symgrad.compiled.FIRST_CALL_ON_TAPE

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite the golden files of generated code instead of comparing")


@pytest.fixture(autouse=True)
def code_from_the_first_call(monkeypatch):
    monkeypatch.setattr(symgrad.compiled, "FIRST_CALL_ON_TAPE", math.inf)
