"""Word vectors and the queries on them: similarity, nearest neighbours, analogies.

``Vectors`` holds a vocabulary (``vocab``, ``w2i``) and one matrix of row vectors (``vectors``),
as gensim's ``KeyedVectors`` does. A trained model (``cw2v.Word2Vec``, ``cw2v.reference.Word2Vec``)
*holds* one as ``model.wv``, a view of its input weights ``W_in`` (not a copy), and forwards the
classic queries (``similarity``, ``most_similar``, ...) to it. ``cw2v.load_word2vec_format`` and
``Vectors.load_word2vec_format`` return a plain ``Vectors``.

Queries are cosines. The vectors are never copied for them: the rows' L2 norms are computed
once and cached as one vector of V floats (``norms``), and a query scores the rows a block at a
time (``(block @ query) / norms[block]``), so the extra memory of a query is a block, not a
normalised V x d copy (gensim's ``fill_norms`` / old ``init_sims``). ``normalize(replace=True)``
scales the rows to unit length in place when the raw vectors are no longer needed. The cache
carries a version that ``invalidate_norms()`` bumps: every training entry point calls it when it
has changed the weights (call it yourself after editing the vectors by hand), so a query never sees
stale norms, even one that ran in another thread while training was under way.

Vectors may be stored as float16 (``astype("float16")``, half the memory) or as int8 with one
float32 scale a row (``astype("int8")``, a quarter: row i is ``vectors[i] * scales[i]``); queries
convert each block to float32 (int8 blocks times their scales) before the product, so they are
exact over the stored values and never build a V x d float32 copy. ``save`` / ``load`` keep
vectors in cw2v's native format, in their dtype, which ``load(path, mmap=True)`` maps without
reading it (the first query reads the pages, it does not copy the matrix).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from . import ann
from ._rows import rows_contiguous

if TYPE_CHECKING:
    from ._files import InputLike, PathLike


def _as_list(words) -> list:
    if words is None:
        return []
    if isinstance(words, (str, np.ndarray)):
        return [words]
    return list(words)


_FLOATS = (np.float16, np.float32, np.float64)
_DTYPES = "float16, float32, float64 or int8"
_BLOCK_BYTES = 1 << 22  # a query's working set: about 4 MiB of float32 rows at a time


def _as_matrix(vectors) -> np.ndarray:
    """``vectors`` as a float matrix with contiguous rows: float16, float32 and float64 arrays
    whose rows are contiguous (C-contiguous, or a model's weights in ``cw2v._rows``'s padded
    storage) are kept as they are (so a model's weights are viewed, not copied); anything else
    becomes a C-contiguous float32 copy."""
    arr = vectors if isinstance(vectors, np.ndarray) else np.asarray(vectors)  # keeps np.memmap
    if arr.dtype in _FLOATS and (arr.flags.c_contiguous
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
        The vectors; a float32 (or float16, float64) array with contiguous rows is used as it is,
        not copied (a ``np.memmap`` stays mapped); anything else is converted to float32.
    scales : array (len(vocab),), optional
        With an int8 ``vectors`` (C-contiguous, used as it is): one float32 scale a row, finite
        and >= 0; row i stands for ``vectors[i] * scales[i]`` (``astype("int8")`` makes both).
    """

    def __init__(self, vocab: Sequence[str], vectors: np.ndarray, *, scales=None):
        self.vocab = list(vocab)
        self.w2i = _index_words(self.vocab)
        self._version = 0
        self._norms: tuple[int, np.ndarray] | None = None
        self._set_matrix(vectors, scales)

    @classmethod
    def _indexed(cls, vocab: list, w2i: dict, vectors: np.ndarray,
                 scales: np.ndarray | None = None) -> "Vectors":
        """A ``Vectors`` over a list of distinct str and its index ``{word: row}``, both kept as
        they are (a reader's, built once: no second list or dict of millions of words)."""
        self = cls.__new__(cls)
        self.vocab, self.w2i = vocab, w2i
        self._version, self._norms = 0, None
        self._set_matrix(vectors, scales)
        return self

    def _set_matrix(self, vectors, scales) -> None:
        """Set float vectors (``scales`` None) or int8 codes and their per-row scales, checked."""
        if scales is None:
            self.vectors = vectors
            return
        codes = vectors if isinstance(vectors, np.ndarray) else np.asarray(vectors)
        scales = scales if isinstance(scales, np.ndarray) else np.asarray(scales)
        n = len(self.vocab)
        if codes.dtype != np.int8 or codes.ndim != 2 or codes.shape[0] != n \
                or not codes.flags.c_contiguous:
            raise ValueError(f"with scales, vectors must be a C-contiguous int8 array of shape "
                             f"({n}, d), got {codes.dtype} {codes.shape}")
        if scales.dtype != np.float32 or scales.shape != (n,):
            raise ValueError(f"scales must be a float32 array of shape ({n},), got "
                             f"{scales.dtype} {scales.shape}")
        if not np.all(np.isfinite(scales) & (scales >= 0)):
            raise ValueError("scales must be finite and >= 0")
        self._vectors, self._scales = codes, scales
        self.invalidate_norms()

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

    def save(self, path: PathLike) -> None:
        """Write the words and vectors in cw2v's native format (``cw2v.io.save_vectors``), in
        their dtype (float16 stays float16); replaced atomically. ``Vectors.load`` reads it."""
        from . import io

        io.save_vectors(self, path)

    @classmethod
    def load(cls, path: InputLike, mmap: bool | str = False) -> "Vectors":
        """Read vectors written by ``save`` (``cw2v.io.load_vectors``). ``mmap=True`` maps the
        matrix read-only instead of reading it: loading is immediate, pages are read when a query
        needs them, and queries never copy the matrix; ``mmap="c"`` maps it copy-on-write."""
        from . import io

        return io.load_vectors(path, mmap=mmap)

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
        """The word vectors, one row a word (a trained model's ``W_in``); stored as int8
        (``astype("int8")``), the int8 codes, row i standing for ``vectors[i] * scales[i]``.
        Setting it sets float vectors (any scales are dropped)."""
        return self._vectors

    @vectors.setter
    def vectors(self, value: np.ndarray) -> None:
        matrix = _as_matrix(value)
        if matrix.ndim != 2 or matrix.shape[0] != len(self.vocab):
            raise ValueError(
                f"vectors must have shape ({len(self.vocab)}, d), got {matrix.shape}"
            )
        self._vectors, self._scales = matrix, None
        self.invalidate_norms()

    @property
    def scales(self) -> np.ndarray | None:
        """int8 storage: the float32 scale of each row (V floats); None for float vectors."""
        return self._scales

    def _float_rows(self, rows) -> np.ndarray:
        """Rows ``rows`` (a slice or indices) as floats: int8 rows as a new float32 array
        (codes times scales); float rows as stored (a slice gives a view)."""
        block = self._vectors[rows]
        if self._scales is None:
            return block
        block = block.astype(np.float32)
        block *= self._scales[rows][:, None]
        return block

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
        return self._unit_rows([i])[0] if norm else np.array(self._float_rows([i])[0])

    def invalidate_norms(self) -> None:
        """Forget the cached norms (training calls this; call it after editing the vectors).

        Bumps the cache's version, so norms that a query in another thread is computing at this
        moment are not kept either.
        """
        self._version += 1
        self._norms = None

    def _blocks(self, limit: int | None = None,
                step: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """``(start, rows)`` over the first ``limit`` rows, ``step`` rows (by default about
        4 MiB) at a time; float16 and int8 rows come as a float32 copy of the block (int8 times
        the rows' scales), others as a view."""
        matrix = self._vectors
        stop = matrix.shape[0] if limit is None else limit
        step = step or max(1, _BLOCK_BYTES // (4 * max(matrix.shape[1], 1)))
        for start in range(0, stop, step):
            block = self._float_rows(slice(start, min(start + step, stop)))
            if block.dtype == np.float16:
                block = block.astype(np.float32)
            yield start, block

    @property
    def norms(self) -> np.ndarray:
        """The rows' L2 norms, one float32 per word (V floats, not a V x d copy), cached."""
        version, cached = self._version, self._norms
        if cached is not None and cached[0] == version:
            return cached[1]
        norms = np.empty(len(self.vocab), dtype=np.float32)
        for start, block in self._blocks():
            # (einsum: no squared copy of the block)
            norms[start:start + block.shape[0]] = np.sqrt(np.einsum("ij,ij->i", block, block))
        if self._version == version:  # no training finished while these were computed
            self._norms = (version, norms)
        return norms

    def _divisors(self, rows) -> np.ndarray:
        """The norms of ``rows`` (a slice or indices), zero ones replaced by the smallest normal
        float32, so that zero rows score zero."""
        return np.maximum(self.norms[rows], np.finfo(np.float32).tiny)

    @property
    def unit_vectors(self) -> np.ndarray:
        """A new float32 array of the rows scaled to unit length (zero rows stay zero).

        Not cached and not used by the queries (they divide by ``norms`` a block at a time):
        this builds a V x d copy each time it is read.
        """
        out = np.empty(self._vectors.shape, dtype=np.float32)
        divisors = self._divisors(slice(None))
        # A row holding inf becomes NaN (inf / inf): its scores come out NaN, as documented,
        # without a warning.
        with np.errstate(invalid="ignore"):
            for start, block in self._blocks():
                stop = start + block.shape[0]
                out[start:stop] = block / divisors[start:stop, None]
        return out

    def normalize(self, replace: bool = False) -> "Vectors":
        """Vectors with every row scaled to unit length (zero rows stay zero).

        ``replace=True`` scales this object's own matrix in place, a block at a time, and
        returns ``self``: no second copy is ever made (gensim's old ``init_sims(replace=True)``),
        but the raw vectors (their lengths) are lost -- on a model's ``wv`` this changes the
        model's ``W_in``. ``replace=False`` returns a new ``Vectors`` holding a normalised copy
        in the same dtype. Queries give the same answers before and after. int8 vectors keep
        their codes: only their scales are divided by the norms.

        Raises ValueError if ``replace=True`` and the matrix is read-only (mapped with
        ``mmap=True``; load with ``mmap="c"`` or without mmap to normalise in place).
        """
        if self._scales is not None:
            scales = (self._scales / self._divisors(slice(None))).astype(np.float32)
            if not replace:
                return Vectors(self.vocab, self._vectors.copy(), scales=scales)
            if not self._scales.flags.writeable:
                raise ValueError("normalize(replace=True) needs writeable vectors; these are "
                                 "read-only (mapped with mmap=True)")
            self._scales[...] = scales
            self.invalidate_norms()
            return self
        if not replace:
            return Vectors(self.vocab, self.unit_vectors.astype(self._vectors.dtype, copy=False))
        if not self._vectors.flags.writeable:
            raise ValueError("normalize(replace=True) needs writeable vectors; these are "
                             "read-only (mapped with mmap=True)")
        divisors = self._divisors(slice(None))
        matrix = self._vectors
        with np.errstate(invalid="ignore"):
            for start, block in self._blocks():
                stop = start + block.shape[0]
                matrix[start:stop] = block / divisors[start:stop, None]
        self.invalidate_norms()
        return self

    def astype(self, dtype) -> "Vectors":
        """A new ``Vectors`` with the same words and the matrix converted to ``dtype``:
        ``"float16"`` (half the memory of float32), ``"int8"`` (a quarter, plus one float32
        scale a row), ``"float32"`` or ``"float64"``; queries compute in float32 whatever the
        storage, a block of rows at a time. ValueError for any other dtype.

        int8 is symmetric per row: ``scales[i] = max(abs(row i)) / 127`` and ``vectors[i] =
        rint(row i / scales[i])`` in [-127, 127], so each value is kept within ``scales[i] / 2``
        (zero rows stay zero); ValueError if a row holds NaN or an infinity. Converting back
        (``astype("float32")``) gives ``vectors[i] * scales[i]``.
        """
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise ValueError(f"dtype must be {_DTYPES}, got {dtype!r}") from None
        if dtype not in _FLOATS and dtype != np.int8:
            raise ValueError(f"dtype must be {_DTYPES}, got {dtype}")
        if dtype != np.int8:
            if self._scales is None:
                return Vectors(self.vocab, np.ascontiguousarray(self._vectors, dtype=dtype))
            out = np.empty(self._vectors.shape, dtype=dtype)
            for start, block in self._blocks():
                out[start:start + block.shape[0]] = block
            return Vectors(self.vocab, out)
        if self._scales is not None:
            return Vectors(self.vocab, self._vectors.copy(), scales=self._scales.copy())
        codes = np.empty(self._vectors.shape, dtype=np.int8)
        scales = np.empty(len(self.vocab), dtype=np.float32)
        for start, block in self._blocks():
            stop = start + block.shape[0]
            block = block.astype(np.float64)  # the codes rounded from exact quotients
            peak = np.abs(block).max(axis=1) if block.shape[1] else np.zeros(len(block))
            if not np.all(np.isfinite(peak)):
                bad = start + int(np.flatnonzero(~np.isfinite(peak))[0])
                raise ValueError(f"cannot store word {self.vocab[bad]!r} as int8: its vector "
                                 "holds NaN or an infinity")
            scale = (peak / 127).astype(np.float32)
            divisor = np.where(scale > 0, scale, 1.0)[:, None]
            codes[start:stop] = np.clip(np.rint(block / divisor), -127, 127)
            scales[start:stop] = scale
        return Vectors(self.vocab, codes, scales=scales)

    # -- queries -------------------------------------------------------------------------------

    def _unit_rows(self, rows) -> np.ndarray:
        """Rows ``rows`` (a list of indices) at unit length, as a float32 array."""
        rows = np.asarray(rows, dtype=np.intp)
        with np.errstate(invalid="ignore"):
            return (self._float_rows(rows).astype(np.float32)
                    / self._divisors(rows)[:, None]).astype(np.float32, copy=False)

    def similarity(self, w1: str, w2: str) -> float:
        """Cosine similarity of two words."""
        u = self._unit_rows([self.index(w1), self.index(w2)])
        return float(np.dot(u[0], u[1]))

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
        units = self._unit_rows(rows) if rows else None
        out, k = [], 0
        for item in items:
            if isinstance(item, str):
                out.append(units[k])
                k += 1
            else:
                v = np.asarray(item, dtype=np.float32).reshape(-1)
                if v.shape[0] != self.vector_size:
                    raise ValueError(f"vector of size {v.shape[0]}, expected {self.vector_size}")
                out.append(v / max(float(np.linalg.norm(v)), 1e-30))
        return out, rows

    def _search(self, queries: np.ndarray, k: int, limit: int, exclude: list[list[int]],
                combine=None) -> list[list[tuple[str, float]]]:
        """The ``k`` best rows among the first ``limit`` for each query, exactly.

        ``queries`` is an (m, d) float32 matrix of unit vectors. Each block of rows takes one
        matrix product with all of them (their cosines, m x rows); ``combine`` turns that into
        scores, n x rows (by default the cosines themselves, n = m). Query j never gets the rows
        in ``exclude[j]``; rows scoring NaN are left out. Only the best k of each block are kept,
        so the memory is a block and k x n candidates, whatever the vocabulary's size.
        """
        n = len(exclude)
        best_idx = np.zeros((n, 0), dtype=np.intp)
        best_val = np.zeros((n, 0), dtype=np.float64)
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        divisors = self._divisors(slice(0, limit))
        rows_per_block = max(1, _BLOCK_BYTES // (4 * max(self.vector_size, queries.shape[0], n)))
        excluded = [(j, i) for j, rows in enumerate(exclude) for i in rows if i < limit]
        with np.errstate(invalid="ignore", divide="ignore"):
            for start, block in self._blocks(limit, rows_per_block):
                stop = start + block.shape[0]
                cos = (queries @ block.T) / divisors[start:stop]
                scores = cos if combine is None else combine(cos)
                scores[~np.isfinite(scores)] = -np.inf
                for j, i in excluded:
                    if start <= i < stop:
                        scores[j, i - start] = -np.inf
                kk = min(k, scores.shape[1])
                top = np.argpartition(-scores, kk - 1, axis=1)[:, :kk]
                best_idx = np.concatenate([best_idx, top + start], axis=1)
                best_val = np.concatenate(
                    [best_val, np.take_along_axis(scores, top, axis=1).astype(np.float64)], axis=1)
                if best_idx.shape[1] > k:
                    keep = np.argpartition(-best_val, k - 1, axis=1)[:, :k]
                    best_idx = np.take_along_axis(best_idx, keep, axis=1)
                    best_val = np.take_along_axis(best_val, keep, axis=1)
        answers = []
        for idx, val in zip(best_idx, best_val):
            order = np.lexsort((idx, -val))  # best first; ties by row
            answers.append([(self.vocab[i], round(float(v), 3))
                            for i, v in zip(idx[order].tolist(), val[order].tolist())
                            if v != -np.inf])
        return answers

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
        when it is given. The search is exact, a block of rows at a time (no normalised copy of
        the vectors); ``most_similar_batch`` answers many queries with one product per block.

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
            return ann.query(self, index, query, k, pos_rows + neg_rows, restrict_vocab)
        return self._search(query[None, :], k, limit, [pos_rows + neg_rows])[0]

    def most_similar_batch(self, queries, k: int = 5, *, restrict_vocab: int | None = None):
        """The ``k`` nearest words of each of many queries, exactly, in one pass over the vectors.

        ``queries`` is a sequence of words and/or vectors, or a 2-D array with one query vector
        a row. Each block of rows takes one matrix product with all the queries, so a batch of
        1,000 reads the matrix once, not 1,000 times. A query word is excluded from its own
        answer (as ``most_similar(word)`` does); a vector query excludes nothing. KeyError names
        every unknown word. (gensim has no batch form: its ``most_similar([a, b])`` adds a and b,
        as cw2v's ``most_similar`` does.)

        Returns one list of (word, cosine rounded to 3 places) per query, in order:
        ``most_similar_batch(["king", "paris"])[0] == most_similar("king")``.
        """
        limit = self._check_k(k, restrict_vocab)
        if isinstance(queries, np.ndarray) and queries.ndim == 2:
            items: list = list(queries)
        elif isinstance(queries, (str, np.ndarray)):
            raise TypeError("queries must be a sequence of words or vectors, or a 2-D array; "
                            "use most_similar for one query")
        else:
            items = list(queries)
        if not items:
            return []
        vecs, rows = self._query_vector(items)
        exclude, r = [], iter(rows)
        for item in items:
            exclude.append([next(r)] if isinstance(item, str) else [])
        return self._search(np.stack(vecs), k, limit, exclude)

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
        n_pos = len(pos_vecs)

        def combine(cos: np.ndarray) -> np.ndarray:
            shifted = (1.0 + cos.astype(np.float64)) / 2.0
            num = np.prod(shifted[:n_pos], axis=0, keepdims=True)
            den = np.prod(shifted[n_pos:], axis=0, keepdims=True)  # 1 with no negatives
            return num / (den + 1e-6)

        return self._search(np.stack(pos_vecs + neg_vecs), k, limit, [pos_rows + neg_rows],
                            combine)[0]

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
        return self._search(v[None, :], k, limit, [[]])[0]

    def similar_by_word(self, word: str, k: int = 5, *, restrict_vocab: int | None = None):
        """Words nearest to ``word`` (the word itself excluded)."""
        return self.most_similar([word], k, restrict_vocab=restrict_vocab)

    def doesnt_match(self, words: Sequence[str]) -> str:
        """The word furthest from the mean of the others' unit vectors (gensim's rule)."""
        words = list(words)
        if len(words) < 2:
            raise ValueError("doesnt_match needs at least two words")
        u = self._unit_rows(self._indices(words))
        mean = u.mean(axis=0)
        mean /= max(float(np.linalg.norm(mean)), 1e-30)
        return words[int(np.argmin(u @ mean))]

    def cosine_similarities(self, vector, words: Sequence[str]) -> np.ndarray:
        """Cosine of ``vector`` with each of ``words``."""
        (v,), _ = self._query_vector([np.asarray(vector)])
        return self._unit_rows(self._indices(words)) @ v

    def build_index(self, **params):
        """Build, attach and return an approximate-search index (``cw2v.ann.build_index``:
        ``M``, ``ef_construction``, ``ef_search``, ``threads``); needs ``cw2v[ann]``."""
        self._ann_index = ann.build_index(self, **params)
        return self._ann_index

    def save_index(self, path: PathLike) -> None:
        """Save the attached index (``build_index``) to ``path``, atomically."""
        if self.__dict__.get("_ann_index") is None:
            raise ValueError("no index to save: call build_index() first")
        self._ann_index.save(path)

    def load_index(self, path: PathLike):
        """Read the index saved at ``path``, check it was built from these vectors
        (``cw2v.ann.IndexMismatchError`` otherwise), attach and return it."""
        self._ann_index = ann.load_index(path, self)
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
