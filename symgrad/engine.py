"""micrograd's ``engine`` under its public path: ``from symgrad.engine import Value``."""

from .micrograd.engine import Value

__all__ = ["Value"]
