"""Word vectors and the queries on them: similarity, nearest neighbours, analogies.

``Vectors`` holds a vocabulary (``vocab``, ``w2i``) and one matrix of row vectors (``vectors``),
as gensim's ``KeyedVectors`` does. A trained model (``cw2v.Word2Vec``, ``cw2v.reference.Word2Vec``)
*holds* one as ``model.wv``, a view of its input weights ``W_in`` (not a copy), and forwards the
classic queries (``similarity``, ``most_similar``, ...) to it. ``cw2v.load_word2vec_format`` and
``Vectors.load_word2vec_format`` return a plain ``Vectors``.

Queries work on L2-normalised rows, computed once and cached. The cache carries a version that
``invalidate_norms()`` bumps: every training entry point calls it when it has changed the weights
(call it yourself after editing the vectors by hand), so a query never sees stale norms, even one
that ran in another thread while training was under way. A query over the whole vocabulary is one
matrix-vector product.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ._rows import rows_contiguous

if TYPE_CHECKING:
    from ._files import PathLike


def _as_list(words) -> list:
    if words is None:
        return []
    if isinstance(words, (str, np.ndarray)):
        return [words]
    return list(words)


def _as_matrix(vectors) -> np.ndarray:
    """``vectors`` as a float matrix with contiguous rows: float32 and float64 arrays whose rows
    are contiguous (C-contiguous, or a model's weights in ``cw2v._rows``'s padded storage) are
    kept as they are (so a model's weights are viewed, not copied); anything else becomes a
    C-contiguous float32 copy."""
    arr = vectors if isinstance(vectors, np.ndarray) else np.asarray(vectors)  # keeps np.memmap
    if arr.dtype in (np.float32, np.float64) and (arr.flags.c_contiguous
                                                  or rows_contiguous(arr)):
        return arr
    return np.ascontiguousarray(arr, dtype=np.float32)


class Vectors:
    """A vocabulary and its vectors, with the queries gensim's ``KeyedVectors`` offers.

    Parameters
    ----------
    vocab : sequence of str
        The words, one per row; no duplicates.
    vectors : array (len(vocab), d)
        The vectors; a float32 (or float64) array with contiguous rows is used as it is, not
        copied; anything else is converted to float32.
    """

    def __init__(self, vocab: Sequence[str], vectors: np.ndarray):
        self.vocab = list(vocab)
        self.w2i = _index_words(self.vocab)
        self._version = 0
        self._unit: tuple[int, np.ndarray] | None = None
        self.vectors = vectors

    @classmethod
    def load_word2vec_format(cls, path: PathLike, binary: bool = False, **kwargs) -> "Vectors":
        """Read vectors from a word2vec.c text or binary file (see
        ``cw2v.io.load_word2vec_format`` for the keyword arguments), as gensim's
        ``KeyedVectors.load_word2vec_format`` does."""
        from . import io

        return io.load_word2vec_format(path, binary=binary, **kwargs)

    def save_word2vec_format(self, path: PathLike, binary: bool = False) -> None:
        """Write the vectors in word2vec.c's text or binary format (readable by gensim)."""
        from . import io

        io.save_word2vec_format(self, path, binary=binary)

    @classmethod
    def from_gensim(cls, kv) -> "Vectors":
        """Vectors from a gensim ``KeyedVectors`` (or a gensim model's ``.wv``): the same words
        in the same order, the vectors as a float32 copy (``cw2v.interop.vectors_from_gensim``;
        gensim itself is not imported)."""
        from .interop import vectors_from_gensim

        return vectors_from_gensim(kv)

    def to_gensim(self):
        """These vectors as a ``gensim.models.KeyedVectors`` (a copy; same words, order and
        float32 values). Needs gensim (``pip install cw2v[gensim]``); see ``cw2v.interop``."""
        from .interop import to_gensim

        return to_gensim(self)

    # -- the vectors ---------------------------------------------------------------------------

    @property
    def vectors(self) -> np.ndarray:
        """The word vectors, one row a word (a trained model's ``W_in``)."""
        return self._vectors

    @vectors.setter
    def vectors(self, value: np.ndarray) -> None:
        matrix = _as_matrix(value)
        if matrix.ndim != 2 or matrix.shape[0] != len(self.vocab):
            raise ValueError(
                f"vectors must have shape ({len(self.vocab)}, d), got {matrix.shape}"
            )
        self._vectors = matrix
        self.invalidate_norms()

    @property
    def vector_size(self) -> int:
        """Dimension d of the vectors."""
        return int(self._vectors.shape[1])

    def __len__(self) -> int:
        return len(self.vocab)

    def __contains__(self, word) -> bool:
        return word in self.w2i

    def __getitem__(self, word: str) -> np.ndarray:
        return self.get_vector(word)

    def index(self, word: str) -> int:
        """Row of ``word``; KeyError naming it if it is not in the vocabulary."""
        try:
            return self.w2i[word]
        except (KeyError, TypeError):
            raise KeyError(f"word {word!r} not in vocabulary") from None

    def get_vector(self, word: str, norm: bool = False) -> np.ndarray:
        """A copy of the vector of ``word``; L2-normalised if ``norm``."""
        i = self.index(word)
        return (self.unit_vectors[i] if norm else self._vectors[i]).copy()

    def invalidate_norms(self) -> None:
        """Forget the cached unit vectors (training calls this; call it after editing the vectors).

        Bumps the cache's version, so unit vectors that a query in another thread is computing
        at this moment are not kept either.
        """
        self._version += 1
        self._unit = None

    @property
    def unit_vectors(self) -> np.ndarray:
        """Rows of the vectors scaled to unit length (zero rows stay zero), float32, cached."""
        version, cached = self._version, self._unit
        if cached is not None and cached[0] == version:
            return cached[1]
        matrix = self._vectors
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        # A row holding inf becomes NaN (inf / inf): its scores come out NaN, as documented,
        # without a warning.
        with np.errstate(invalid="ignore"):
            unit = (matrix / np.maximum(norms, np.finfo(np.float32).tiny)).astype(np.float32)
        if self._version == version:  # no training finished while these were computed
            self._unit = (version, unit)
        return unit

    # -- queries -------------------------------------------------------------------------------

    def similarity(self, w1: str, w2: str) -> float:
        """Cosine similarity of two words."""
        u = self.unit_vectors
        return float(np.dot(u[self.index(w1)], u[self.index(w2)]))

    def _indices(self, words: Iterable[str]) -> list[int]:
        """Rows of all ``words``; one KeyError naming every unknown word."""
        words = list(words)
        missing = [w for w in words if not (isinstance(w, str) and w in self.w2i)]
        if missing:
            names = ", ".join(repr(w) for w in missing)
            raise KeyError(f"not in vocabulary: {names}")
        return [self.w2i[w] for w in words]

    def _query_vector(self, items: list) -> tuple[list, list[int]]:
        """Unit vectors of words (or raw vectors, normalised) and the rows of the words."""
        words = [w for w in items if isinstance(w, str)]
        rows = self._indices(words)
        out, k = [], 0
        for item in items:
            if isinstance(item, str):
                out.append(self.unit_vectors[rows[k]])
                k += 1
            else:
                v = np.asarray(item, dtype=np.float32).reshape(-1)
                if v.shape[0] != self.vector_size:
                    raise ValueError(f"vector of size {v.shape[0]}, expected {self.vector_size}")
                out.append(v / max(float(np.linalg.norm(v)), 1e-30))
        return out, rows

    def _top(self, scores: np.ndarray, k: int, exclude: Iterable[int]) -> list[tuple[str, float]]:
        scores = scores.astype(np.float64, copy=True)
        for i in exclude:
            if i < scores.shape[0]:
                scores[i] = -np.inf
        k = min(k, int(np.isfinite(scores).sum()))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.vocab[i], round(float(scores[i]), 3)) for i in top]

    def _check_k(self, k: int, restrict_vocab: int | None) -> int:
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        if restrict_vocab is None:
            return len(self.vocab)
        if restrict_vocab < 1:
            raise ValueError(f"restrict_vocab must be >= 1, got {restrict_vocab}")
        return min(int(restrict_vocab), len(self.vocab))

    def most_similar(self, positive=None, k: int = 5, negative=None, *,
                     restrict_vocab: int | None = None, topn: int | None = None,
                     approximate: bool = False, index=None):
        """Words closest by cosine to mean(positive) - mean(negative) (3CosAdd).

        ``most_similar("king", 5)`` is the article's single-word form; ``most_similar(
        positive=["king", "woman"], negative=["man"])`` asks king - man + woman. Items may be words
        or vectors. The second positional argument is ``k``, as in the article (gensim users pass
        ``negative=`` by keyword; ``topn`` is accepted as an alias of ``k``). Query words are
        excluded from the answer; only the ``restrict_vocab`` most frequent words are searched
        when it is given.

        ``approximate=True`` (or an ``index=`` from ``cw2v.ann``) searches the index that
        ``build_index``/``load_index`` attached instead of every row (see ``cw2v.ann``).

        Returns a list of (word, cosine rounded to 3 places), most similar first.
        """
        k = topn if topn is not None else k
        limit = self._check_k(k, restrict_vocab)
        pos, neg = _as_list(positive), _as_list(negative)
        if not pos and not neg:
            raise ValueError("most_similar needs at least one positive or negative word")
        pos_vecs, pos_rows = self._query_vector(pos)
        neg_vecs, neg_rows = self._query_vector(neg)
        # Levy & Goldberg 2014, 3CosAdd: the mean of the unit vectors, + positive, - negative.
        query = np.sum(pos_vecs, axis=0) if pos_vecs else 0.0
        if neg_vecs:
            query = query - np.sum(neg_vecs, axis=0)
        query = np.asarray(query, dtype=np.float32)
        query /= max(float(np.linalg.norm(query)), 1e-30)
        if approximate or index is not None:
            from .ann import query as ann_query
            return ann_query(self, index, query, k, pos_rows + neg_rows, restrict_vocab)
        scores = self.unit_vectors[:limit] @ query
        return self._top(scores, k, pos_rows + neg_rows)

    def most_similar_cosmul(self, positive=None, k: int = 5, negative=None, *,
                            restrict_vocab: int | None = None, topn: int | None = None):
        """3CosMul (Levy & Goldberg 2014): argmax prod_p cos'(w, p) / (prod_n cos'(w, n) + eps),
        with cosines shifted to [0, 1] by cos' = (1 + cos) / 2 and eps = 1e-6."""
        k = topn if topn is not None else k
        limit = self._check_k(k, restrict_vocab)
        pos, neg = _as_list(positive), _as_list(negative)
        if not pos:
            raise ValueError("most_similar_cosmul needs at least one positive word")
        pos_vecs, pos_rows = self._query_vector(pos)
        neg_vecs, neg_rows = self._query_vector(neg)
        u = self.unit_vectors[:limit]
        num = np.prod([(1.0 + u @ v) / 2.0 for v in pos_vecs], axis=0)
        den = np.prod([(1.0 + u @ v) / 2.0 for v in neg_vecs], axis=0) if neg_vecs else 1.0
        return self._top(num / (den + 1e-6), k, pos_rows + neg_rows)

    def analogy(self, a: str, b: str, c: str, k: int = 1, *, method: str = "add",
                restrict_vocab: int | None = None):
        """a is to b as c is to ?: the words nearest to b - a + c (``method="add"`` or ``"mul"``)."""
        if method == "add":
            return self.most_similar([b, c], k, [a], restrict_vocab=restrict_vocab)
        if method == "mul":
            return self.most_similar_cosmul([b, c], k, [a], restrict_vocab=restrict_vocab)
        raise ValueError(f"method must be 'add' or 'mul', got {method!r}")

    def similar_by_vector(self, vector, k: int = 5, *, restrict_vocab: int | None = None):
        """Words nearest by cosine to a raw vector (no word is excluded)."""
        limit = self._check_k(k, restrict_vocab)
        (v,), _ = self._query_vector([np.asarray(vector)])
        return self._top(self.unit_vectors[:limit] @ v, k, [])

    def similar_by_word(self, word: str, k: int = 5, *, restrict_vocab: int | None = None):
        """Words nearest to ``word`` (the word itself excluded)."""
        return self.most_similar([word], k, restrict_vocab=restrict_vocab)

    def doesnt_match(self, words: Sequence[str]) -> str:
        """The word furthest from the mean of the others' unit vectors (gensim's rule)."""
        words = list(words)
        if len(words) < 2:
            raise ValueError("doesnt_match needs at least two words")
        u = self.unit_vectors[self._indices(words)]
        mean = u.mean(axis=0)
        mean /= max(float(np.linalg.norm(mean)), 1e-30)
        return words[int(np.argmin(u @ mean))]

    def cosine_similarities(self, vector, words: Sequence[str]) -> np.ndarray:
        """Cosine of ``vector`` with each of ``words``."""
        (v,), _ = self._query_vector([np.asarray(vector)])
        return self.unit_vectors[self._indices(words)] @ v


    def build_index(self, **params):
        """Build, attach and return an approximate-search index (``cw2v.ann.build_index``:
        ``M``, ``ef_construction``, ``ef_search``, ``threads``); needs ``cw2v[ann]``."""
        from .ann import build_index

        self._ann_index = build_index(self, **params)
        return self._ann_index

    def save_index(self, path: PathLike) -> None:
        """Save the attached index (``build_index``) to ``path``, atomically."""
        if self.__dict__.get("_ann_index") is None:
            raise ValueError("no index to save: call build_index() first")
        self._ann_index.save(path)

    def load_index(self, path: PathLike):
        """Read the index saved at ``path``, check it was built from these vectors
        (``cw2v.ann.IndexMismatchError`` otherwise), attach and return it."""
        from .ann import load_index

        self._ann_index = load_index(path, self)
        return self._ann_index


def as_vectors(obj) -> Vectors:
    """``obj`` if it is a ``Vectors``, a model's ``obj.wv`` if it holds one; TypeError otherwise."""
    if isinstance(obj, Vectors):
        return obj
    wv = getattr(obj, "wv", None)
    if isinstance(wv, Vectors):
        return wv
    raise TypeError(f"expected cw2v.Vectors or a model holding them (model.wv), got "
                    f"{type(obj).__name__}")


def _index_words(vocab: list) -> dict:
    """word -> row, after checking the vocabulary is non-empty, all str, and duplicate-free."""
    if len(vocab) == 0:
        raise ValueError("vocabulary is empty")
    bad = [w for w in vocab if not isinstance(w, str)]
    if bad:
        raise TypeError(f"vocabulary words must be str, got {type(bad[0]).__name__} {bad[0]!r}")
    w2i = {w: i for i, w in enumerate(vocab)}
    if len(w2i) != len(vocab):
        seen, dups = set(), []
        for w in vocab:
            if w in seen:
                dups.append(w)
            seen.add(w)
        raise ValueError(f"vocabulary has duplicate words: {dups[:5]!r}")
    return w2i
