"""cw2v: fast, tested word2vec (skip-gram and CBOW, negative sampling and hierarchical softmax)
with a Cython kernel.

``from cw2v import Word2Vec`` gives the drop-in replacement for the classic NumPy class; a
trained model holds its word vectors as ``model.wv`` (a ``cw2v.Vectors``).
``cw2v.load_word2vec_format`` reads word2vec.c's files. The submodules (``cw2v.evaluate``,
``cw2v.corpus``, ``cw2v.phrases``, ``cw2v.io``, ``cw2v.params``, ``cw2v.reference``, ...) load on
first use, so ``import cw2v`` then ``cw2v.evaluate.analogies(...)`` works.
"""
import importlib

from ._version import __version__
from .fasttext import FastText
from .model import Word2Vec
from .trainer import EpochStats, StopTraining, TrainingDivergedError
from .vectors import Vectors

__all__ = ["Word2Vec", "FastText", "Vectors", "EpochStats", "StopTraining", "TrainingDivergedError",
           "load_word2vec_format", "__version__"]

_SUBMODULES = frozenset({"ann", "cache", "checkpoint", "cli", "comm", "corpus", "demo", "distributed",
                         "evaluate", "fasttext_io", "interop", "io", "params", "phrases", "plot",
                         "projector", "reference", "reference_subwords", "subword_vectors",
                         "subwords", "tables", "trainer", "vectors", "vocab"})


def load_word2vec_format(path, binary: bool = False, **kwargs) -> Vectors:
    """Read vectors from a word2vec.c text or binary file (``cw2v.io.load_word2vec_format``)."""
    return Vectors.load_word2vec_format(path, binary=binary, **kwargs)


def __getattr__(name: str):
    # PEP 562: submodules load on first attribute access.
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _SUBMODULES)
