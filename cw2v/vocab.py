"""The vocabulary: words sorted by frequency, their counts, and the tables derived from counts.

Index 0 is the most frequent word. Ties are broken by first appearance (in the corpus for
``cw2v.corpus.build``, in the mapping's order for ``Vocabulary.from_counts``), so the same corpus
always gives the same ids. ``noise_weights`` (the negative-sampling distribution, counts**0.75) is
computed from ``counts`` on demand (the subsampling keep-probabilities come from
``cw2v.tables.keep_probabilities``); the model owns the tables.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

import numpy as np

from . import params

logger = logging.getLogger(__name__)


class Vocabulary:
    """Words sorted by descending count, with their counts and a word -> id index.

    Build one with ``cw2v.corpus.build`` (from a corpus) or ``Vocabulary.from_counts`` (from a
    word -> count mapping); the constructor takes words already in their final order.

    Parameters
    ----------
    words : iterable of str
        The words, most frequent first; no duplicates, at least one.
    counts : array_like of int
        ``counts[i]`` is the count of ``words[i]``; >= 0 and non-increasing.
    total_words : int, optional
        Tokens the counts were taken from, including words later dropped by ``min_count`` /
        ``max_vocab``. Defaults to ``counts.sum()``.

    Attributes
    ----------
    words : list of str
        The words; ``words[i]`` has id i.
    counts : numpy.ndarray
        int64 (V,), the count of each word.
    w2i : dict of str to int
        Word -> id.
    total_words : int
        Raw tokens counted, before ``min_count`` / ``max_vocab`` filtering: the tokens read for
        ``cw2v.corpus.build``, the sum of all the mapping's counts for ``from_counts``.
    """

    def __init__(self, words: Iterable[str], counts, total_words: int | None = None):
        words = list(words)
        counts = np.asarray(counts)
        if counts.ndim != 1 or counts.shape[0] != len(words):
            raise ValueError(
                f"need one count per word ({len(words)} words), got counts of shape {counts.shape}"
            )
        if not words:
            raise ValueError("a vocabulary needs at least one word")
        counts = _integer_counts(counts)
        if counts[-1] < 0:
            raise ValueError("counts must be >= 0")
        if np.any(counts[1:] > counts[:-1]):
            raise ValueError("words must be sorted by descending count "
                             "(Vocabulary.from_counts sorts them)")
        bad = next((w for w in words if not isinstance(w, str)), None)
        if bad is not None:
            raise TypeError(f"words must be str, got {type(bad).__name__} {bad!r}")
        w2i = {w: i for i, w in enumerate(words)}
        if len(w2i) != len(words):
            dup = next(w for i, w in enumerate(words) if w2i[w] != i)
            raise ValueError(f"duplicate word {dup!r} in vocabulary")
        if total_words is None:
            total_words = int(counts.sum())
        total_words = params.check_positive_int("total_words", total_words, minimum=0)
        self.words: list[str] = words
        self.counts: np.ndarray = counts
        self.w2i: dict[str, int] = w2i
        self.total_words: int = total_words

    @classmethod
    def from_counts(cls, counts: Mapping[str, int], min_count: int = 1,
                    max_vocab: int | None = None) -> Vocabulary:
        """The vocabulary of the words counted at least ``min_count`` times, at most ``max_vocab``.

        Parameters
        ----------
        counts : mapping of str to int
            Word -> count, e.g. a ``collections.Counter``. Equal counts keep the mapping's order
            (a Counter filled from a corpus keeps first appearance).
        min_count : int
            Words counted fewer times are dropped (>= 1).
        max_vocab : int, optional
            Keep at most this many of the most frequent words (>= 1); ``None`` keeps all.

        Returns
        -------
        Vocabulary
            ``total_words`` is the sum of all the mapping's counts, dropped words included.

        Raises
        ------
        ValueError
            If ``counts`` is empty, a count is negative, a parameter is out of range, or no word
            reaches ``min_count``.
        """
        if not isinstance(counts, Mapping):
            raise TypeError("counts must be a mapping of word -> count, got "
                            f"{type(counts).__name__}")
        if not counts:
            raise ValueError("counts is empty: no words to build a vocabulary from")
        values = _integer_counts(np.asarray(list(counts.values())))
        if values.min() < 0:
            raise ValueError("counts must be >= 0")
        words = list(counts)
        kept = select_words(values, min_count, max_vocab)
        vocab = cls([words[i] for i in kept], values[kept], total_words=int(values.sum()))
        logger.info("vocabulary: %d words of %d (min_count=%d, max_vocab=%s)",
                    len(vocab), len(words), min_count, max_vocab)
        return vocab

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word) -> bool:
        return word in self.w2i

    def __repr__(self) -> str:
        head = ", ".join(self.words[:5]) + (", ..." if len(self.words) > 5 else "")
        return f"Vocabulary({len(self)} words: {head}; total_words={self.total_words})"

    def noise_weights(self, ns_exponent: float = params.default("ns_exponent")) -> np.ndarray:
        """Unnormalised negative-sampling weights ``counts ** ns_exponent``.

        Parameters
        ----------
        ns_exponent : float
            The exponent; 0.75 as in word2vec, 0 gives the uniform distribution.

        Returns
        -------
        numpy.ndarray
            float64 (V,).
        """
        ns_exponent = float(ns_exponent)
        if not np.isfinite(ns_exponent):
            raise ValueError(f"ns_exponent must be finite, got {ns_exponent!r}")
        return self.counts.astype(np.float64) ** ns_exponent


def select_words(counts: np.ndarray, min_count: int = 1,
                 max_vocab: int | None = None) -> np.ndarray:
    """Indices of the words to keep, most frequent first; equal counts keep index order.

    Parameters
    ----------
    counts : numpy.ndarray
        Integer counts, one per word, in first-appearance order.
    min_count : int
        Minimum count (>= 1).
    max_vocab : int, optional
        Maximum number of words kept (>= 1); ``None`` for no limit.

    Returns
    -------
    numpy.ndarray
        int64 indices into ``counts``: the vocabulary in its final order.

    Raises
    ------
    ValueError
        If a parameter is out of range or no word reaches ``min_count``.
    """
    min_count = params.check("min_count", min_count)
    if max_vocab is not None:
        max_vocab = params.check("max_vocab", max_vocab)
    counts = np.asarray(counts)
    candidates = np.flatnonzero(counts >= min_count)
    if candidates.size == 0:
        largest = int(counts.max()) if counts.size else 0
        raise ValueError(
            f"no word occurs at least min_count={min_count} times (the most frequent word "
            f"occurs {largest} times); lower min_count"
        )
    # A stable sort on -count keeps first appearance among equal counts.
    order = candidates[np.argsort(-counts[candidates], kind="stable")]
    return order[:max_vocab] if max_vocab is not None else order


def _integer_counts(values: np.ndarray) -> np.ndarray:
    """``values`` as int64; whole-number floats (1.0) pass, anything else is a TypeError."""
    if values.dtype.kind in "iu":
        return values.astype(np.int64)
    if values.dtype.kind == "f" and np.all(np.isfinite(values) & (values == np.round(values))):
        return values.astype(np.int64)
    raise TypeError(f"counts must be whole numbers, got dtype {values.dtype}")
