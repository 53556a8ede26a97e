"""micrograd's ``nn`` under its public path: ``from symgrad.nn import MLP``."""

from .micrograd.nn import MLP, Layer, Module, Neuron

__all__ = ["MLP", "Layer", "Module", "Neuron"]
