"""Shared pytest options: --update-golden rewrites tests/golden/ from current output."""


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite the golden files of generated code instead of comparing")
