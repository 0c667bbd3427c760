"""cw2v: fast, tested word2vec (skip-gram with negative sampling) with a Cython kernel.

``from cw2v import Word2Vec`` gives the drop-in replacement for the classic NumPy class;
``cw2v.reference`` holds the pure-NumPy implementation the kernel is tested against.
"""
from ._version import __version__
from .model import Word2Vec
from .trainer import EpochStats, StopTraining
from .vectors import Vectors

__all__ = ["Word2Vec", "Vectors", "EpochStats", "StopTraining", "__version__"]
