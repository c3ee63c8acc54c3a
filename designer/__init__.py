"""Netcanvas: design neural networks on a canvas, train them in PyTorch, export clean code."""

__version__ = "0.1.0"
