"""Word vectors with subwords (fastText's model): a vector for any word, seen or not.

A ``SubwordVectors`` is a ``cw2v.Vectors`` whose rows are the vocabulary's *composed* vectors --
fastText's ``getWordVector``: the mean of the word's own row and its character n-grams' rows in
the input matrix (``cw2v.subwords.subword_rows``) -- and which composes, on demand, the vector
of a word it never saw from its n-grams alone (gensim's ``FastTextKeyedVectors`` semantics):
``wv["unseen"]``, ``get_vector``, ``similarity``, ``most_similar("unseen")``, analogies and
``word in wv`` all work for it. A word with no n-gram row (``bucket=0``, ``max_n=0``, or a word
too short for ``min_n``) and outside the vocabulary is a ``KeyError`` naming it.

The input matrix (``nwords + bucket`` rows) is kept as it is given, never copied (a
``np.memmap`` stays mapped); the composed ``(V, d)`` matrix is computed a block of words at a
time, so the extra memory is that matrix and one block.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ._files import input_name
from .fasttext_io import read_fasttext_bin
from .io import load_arrays, save_arrays
from .subwords import _ngram_table, subword_rows
from .vectors import Vectors, _as_list

if TYPE_CHECKING:
    from ._files import InputLike, PathLike

__all__ = ["SubwordVectors"]

_CONTENT = "cw2v-subword-vectors"  # meta["content"] of a native file written by save
_BLOCK_BYTES = 1 << 25  # input rows gathered at a time while composing the vocabulary


def mean_of_rows(matrix: np.ndarray, rows: Sequence[int]) -> np.ndarray:
    """The mean of ``matrix[rows]`` as fastText's ``getWordVector`` computes it: a float32 sum
    times ``1 / len(rows)``; a zero vector when ``rows`` is empty (what fastText prints)."""
    if not len(rows):
        return np.zeros(matrix.shape[1], dtype=np.float32)
    total = matrix[np.asarray(rows, dtype=np.intp)].sum(axis=0, dtype=np.float32)
    return total * np.float32(1.0 / len(rows))


class SubwordVectors(Vectors):
    """Vectors of a subword model, with a vector for any word.

    Parameters
    ----------
    words : sequence of str
        The vocabulary, in the input matrix's row order; no duplicates.
    input_matrix : array (len(words) + bucket, d)
        The words' own rows, then the n-gram buckets' rows (fastText's input matrix); float32
        arrays (a ``np.memmap`` included) are kept, not copied.
    min_n, max_n : int
        The n-grams' lengths in characters (fastText's ``-minn``/``-maxn``; ``max_n=0``: none;
        ``min_n=0`` counts as 1, as in fastText).
    bucket : int
        The number of n-gram buckets (fastText's ``-bucket``).
    counts : int64 array (len(words),), optional
        The words' counts in the training corpus.

    ``vectors`` holds the vocabulary's composed vectors (what fastText's ``get_word_vector``
    and gensim's ``wv[word]`` give), so every ``Vectors`` query, ``save_word2vec_format`` and
    ``cw2v.evaluate`` work on them. ``w2i`` (``word in wv.w2i``) tells the vocabulary's words.
    """

    def __init__(self, words: Sequence[str], input_matrix: np.ndarray, min_n: int, max_n: int,
                 bucket: int, counts=None):
        words = list(words)
        matrix = input_matrix if isinstance(input_matrix, np.ndarray) \
            else np.asarray(input_matrix)
        if matrix.dtype != np.float32:
            matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        for name, value in (("min_n", min_n), ("max_n", max_n), ("bucket", bucket)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
        if matrix.ndim != 2 or matrix.shape[0] != len(words) + bucket:
            raise ValueError(f"input_matrix must have shape ({len(words)} words + {bucket} "
                             f"buckets, d) = ({len(words) + bucket}, d), got {matrix.shape}")
        # (fastText's n-grams have n >= 1 characters: its -minn 0, with -maxn 0, means 1)
        self.min_n, self.max_n, self.bucket = max(int(min_n), 1), int(max_n), int(bucket)
        self.input_matrix = matrix
        self.counts = None if counts is None else np.asarray(counts, dtype=np.int64)
        if self.counts is not None and self.counts.shape != (len(words),):
            raise ValueError(f"counts has shape {self.counts.shape} for {len(words)} words")
        vocab_only = Vectors(words, matrix[:len(words)])  # checks the words; no copy
        super().__init__(vocab_only.vocab, self._compose_vocabulary(vocab_only.vocab))

    # -- composing ------------------------------------------------------------------------------

    def _compose_vocabulary(self, words: list[str]) -> np.ndarray:
        """The mean of each word's rows, a block of words at a time (float32 sums, then times
        ``1 / count`` as fastText's ``Vector::mul``)."""
        nwords, matrix = len(words), self.input_matrix
        out = np.empty((nwords, matrix.shape[1]), dtype=np.float32)
        # ~32 MiB of gathered rows a block (a word has its row and about 8 n-grams per length)
        rows_per_word = 1 + 8 * max(0, self.max_n - self.min_n + 1)
        step = max(16, _BLOCK_BYTES // (4 * matrix.shape[1] * rows_per_word))
        for start in range(0, nwords, step):
            stop = min(start + step, nwords)
            offsets, rows = _ngram_table(words[start:stop], nwords, self.min_n, self.max_n,
                                         self.bucket)
            rows[offsets[:-1]] += start  # the words' own rows
            sums = np.add.reduceat(matrix[rows], offsets[:-1], axis=0)
            counts = np.diff(offsets).astype(np.float64)
            out[start:stop] = sums * (1.0 / counts).astype(np.float32)[:, None]
        return out

    def word_rows(self, word: str) -> list[int]:
        """The input-matrix rows whose mean is ``word``'s vector: its own row if it is in the
        vocabulary, then its n-grams' (``cw2v.subwords.subword_rows``); empty if none."""
        return subword_rows(word, self.w2i.get(word, -1), len(self.vocab), self.min_n,
                            self.max_n, self.bucket)

    def _compose(self, word: str) -> np.ndarray:
        """A new float32 vector of an out-of-vocabulary ``word``, from its n-grams; KeyError
        naming it when it has none."""
        if not isinstance(word, str):
            raise KeyError(f"word {word!r} not in vocabulary")
        rows = self.word_rows(word)
        if not rows:
            raise KeyError(f"word {word!r} not in vocabulary and has no character n-gram in "
                           f"the buckets (min_n={self.min_n}, max_n={self.max_n}, "
                           f"bucket={self.bucket})")
        return mean_of_rows(self.input_matrix, rows)

    def __contains__(self, word) -> bool:
        """Whether ``word`` has a vector: in the vocabulary, or with an n-gram in the buckets
        (gensim's ``FastTextKeyedVectors``); ``word in wv.w2i`` tells vocabulary words."""
        if word in self.w2i:
            return True
        return isinstance(word, str) and bool(self.word_rows(word))

    def get_vector(self, word: str, norm: bool = False) -> np.ndarray:
        """A copy of ``word``'s vector, composed from its n-grams if it is not in the
        vocabulary; L2-normalised if ``norm``. KeyError naming a word with no vector."""
        if word in self.w2i:
            return super().get_vector(word, norm)
        vector = self._compose(word)
        if norm:
            vector /= max(float(np.linalg.norm(vector)), float(np.finfo(np.float32).tiny))
        return vector

    # -- queries: unseen words become their composed vectors ------------------------------------

    def _resolved(self, items) -> list:
        """``items`` with each word outside the vocabulary replaced by its composed vector (a
        vector query: nothing to exclude from the answer)."""
        return [self._compose(item) if isinstance(item, str) and item not in self.w2i
                else item for item in items]

    def similarity(self, w1: str, w2: str) -> float:
        """Cosine similarity of two words, seen or not."""
        return float(np.dot(self.get_vector(w1, norm=True), self.get_vector(w2, norm=True)))

    def most_similar(self, positive=None, k: int = 5, negative=None, **kwargs):
        """``Vectors.most_similar``, where a word outside the vocabulary stands for its composed
        vector (and so is not excluded from the answer, having no row)."""
        return super().most_similar(self._resolved(_as_list(positive)), k,
                                    self._resolved(_as_list(negative)), **kwargs)

    def most_similar_cosmul(self, positive=None, k: int = 5, negative=None, **kwargs):
        """``Vectors.most_similar_cosmul``, with unseen words' composed vectors."""
        return super().most_similar_cosmul(self._resolved(_as_list(positive)), k,
                                           self._resolved(_as_list(negative)), **kwargs)

    def most_similar_batch(self, queries, k: int = 5, **kwargs):
        """``Vectors.most_similar_batch``, with unseen words' composed vectors."""
        if isinstance(queries, (list, tuple)):
            queries = self._resolved(queries)
        return super().most_similar_batch(queries, k, **kwargs)

    def doesnt_match(self, words: Sequence[str]) -> str:
        """The word furthest from the mean of the others' unit vectors, seen words or not."""
        words = list(words)
        if len(words) < 2:
            raise ValueError("doesnt_match needs at least two words")
        u = np.stack([self.get_vector(w, norm=True) for w in words])
        mean = u.mean(axis=0)
        mean /= max(float(np.linalg.norm(mean)), 1e-30)
        return words[int(np.argmin(u @ mean))]

    def cosine_similarities(self, vector, words: Sequence[str]) -> np.ndarray:
        """Cosine of ``vector`` with each of ``words``, seen or not."""
        v = np.asarray(vector, dtype=np.float32).reshape(-1)
        v = v / max(float(np.linalg.norm(v)), 1e-30)
        return np.stack([self.get_vector(w, norm=True) for w in words]) @ v

    # -- files ------------------------------------------------------------------------------------

    @classmethod
    def from_fasttext_bin(cls, path: InputLike, mmap: bool = False) -> "SubwordVectors":
        """The vectors of a fastText ``.bin`` (``cw2v.fasttext_io.read_fasttext_bin``; its
        errors). ``mmap=True`` maps the input matrix instead of reading it."""

        ft = read_fasttext_bin(path, mmap=mmap)
        return cls(ft.words, ft.input_matrix, ft.args["minn"], ft.args["maxn"],
                   ft.args["bucket"], ft.counts)

    def save(self, path: PathLike) -> None:
        """Write the words, the input matrix, the composed vectors and the n-gram settings in
        cw2v's native format (``cw2v.io.save_arrays``), replaced atomically;
        ``SubwordVectors.load`` reads it back."""

        encoded = [w.encode("utf-8", "surrogateescape") for w in self.vocab]
        arrays = {"words": np.frombuffer(b"".join(encoded), dtype=np.uint8),
                  "word_ends": np.cumsum([len(w) for w in encoded], dtype=np.int64),
                  "vectors": self.vectors, "input_matrix": self.input_matrix}
        if self.counts is not None:
            arrays["counts"] = self.counts
        save_arrays(path, {"content": _CONTENT, "min_n": self.min_n, "max_n": self.max_n,
                           "bucket": self.bucket}, arrays,
                    extra={"class": "cw2v.subword_vectors.SubwordVectors"})

    @classmethod
    def load(cls, path: InputLike, mmap: bool | str = False) -> "SubwordVectors":
        """Read what ``save`` wrote. ``mmap=True`` maps the input matrix and the composed
        vectors read-only (nothing is composed again); ``mmap="c"`` copy-on-write. ValueError
        naming the file if it is not a subword vectors file, or is corrupt."""

        name = input_name(path)
        meta, arrays = load_arrays(path, mmap=mmap)
        if meta.get("content") != _CONTENT:
            raise ValueError(f"{name}: not a cw2v subword vectors file (SubwordVectors.save); "
                             "for word vectors use cw2v.Vectors.load")
        try:
            blob = np.asarray(arrays["words"]).tobytes()
            ends = np.asarray(arrays["word_ends"], dtype=np.int64)
            if ends.size == 0 or ends[-1] != len(blob) or np.any(np.diff(ends, prepend=0) < 0):
                raise ValueError("the word offsets do not match the words")
            words = [blob[a:b].decode("utf-8", "surrogateescape")
                     for a, b in zip([0, *ends[:-1].tolist()], ends.tolist())]
            self = cls.__new__(cls)
            self.min_n, self.max_n, self.bucket = (int(meta["min_n"]), int(meta["max_n"]),
                                                   int(meta["bucket"]))
            self.input_matrix = arrays["input_matrix"]
            self.counts = arrays.get("counts")
            if self.input_matrix.shape[0] != len(words) + self.bucket:
                raise ValueError("the input matrix does not match the words and buckets")
            Vectors.__init__(self, words, arrays["vectors"])
        except (KeyError, TypeError, ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"{name}: not a valid cw2v subword vectors file: {exc}") from None
        return self
