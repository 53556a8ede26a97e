"""Tracing Python functions into graphs, under its public path: ``symgrad.tracing.trace``."""

from .micrograd.tracing import Symbol, symbols, trace

__all__ = ["Symbol", "symbols", "trace"]
