"""Compiled losses under their public path: ``from symgrad.losses import compile_loss``."""

from .micrograd.losses import CompiledLoss, compile_loss, cross_entropy

__all__ = ["CompiledLoss", "compile_loss", "cross_entropy"]
