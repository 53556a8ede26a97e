"""Shared pytest options: --update-golden rewrites tests/golden/ from current output.

Under CI (the CI environment variable is set) hypothesis runs derandomized, so a
run is reproducible; on a developer's machine it explores new examples each time.
"""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite the golden files of generated code instead of comparing")
