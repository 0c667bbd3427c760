"""Approximate nearest neighbours: an HNSW graph over the unit vectors (faiss), saved beside them.

Exact search (``Vectors.most_similar``) reads the whole matrix for every query; over millions of
words that is slow. ``Vectors.build_index()`` builds a hierarchical navigable small-world graph
(faiss's ``IndexHNSWFlat`` with inner product on the L2-normalised rows, so the scores are the
same cosines exact search gives) and ``most_similar(..., approximate=True)`` walks it instead.
The index is an optional extra: ``pip install "cw2v[ann]"`` (faiss-cpu); nothing else in cw2v
imports faiss.

An index belongs to one set of vectors. It records their count, dimension and a digest of the
words and the matrix (BLAKE2b), and a ``Vectors`` refuses (``IndexMismatchError``) an index whose
record differs from its own, or one built before the vectors last changed (training, or
``invalidate_norms()``). ``approximate=True`` with no index attached is a ``ValueError`` asking
for ``build_index()`` or ``load_index()``: building one over millions of rows takes minutes, so
cw2v never does it behind a query.

File layout of ``save``: the 8 bytes ``CW2VANN1``, a little-endian uint32 header length, a UTF-8
JSON header (format, count, dimension, digest, parameters), then faiss's own serialisation.
Saves are atomic (``cw2v._files.atomic_writer``).
"""
from __future__ import annotations

import hashlib
import json
import struct
from typing import TYPE_CHECKING

import numpy as np

from ._files import COMPRESSION_ERRORS, as_path, atomic_writer, open_input

if TYPE_CHECKING:
    from ._files import PathLike
    from .vectors import Vectors

__all__ = ["AnnIndex", "IndexMismatchError", "build_index", "load_index"]

MAGIC = b"CW2VANN1"
_BLOCK = 65536  # rows normalised (and hashed) at a time: bounded extra memory on big models


class IndexMismatchError(ValueError):
    """An approximate-search index that was not built from these vectors (other count,
    dimension, words or values), or that was built before they last changed."""


def _faiss():
    try:
        import faiss
    except ImportError:
        raise ImportError("approximate search needs faiss: pip install \"cw2v[ann]\" "
                          "(or pip install faiss-cpu)") from None
    return faiss


def _check_int(name: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
            or not low <= value <= high:
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
    return int(value)


def _unit_blocks(vectors: Vectors):
    """The rows of ``vectors.vectors`` as float32 unit vectors, one block of rows at a time
    (zero rows stay zero)."""
    matrix = vectors.vectors
    for start in range(0, matrix.shape[0], _BLOCK):
        block = np.array(matrix[start:start + _BLOCK], dtype=np.float32)
        norms = np.linalg.norm(block, axis=1, keepdims=True)
        with np.errstate(invalid="ignore"):
            block /= np.maximum(norms, np.finfo(np.float32).tiny)
        yield block


def digest(vectors: Vectors) -> str:
    """BLAKE2b digest (hex) of the words and the matrix's values and dtype: what an index
    records to know its vectors. Cached on ``vectors`` until they change."""
    cached = vectors.__dict__.get("_ann_digest")
    if cached is not None and cached[0] == vectors._version:
        return cached[1]
    version = vectors._version
    h = hashlib.blake2b(digest_size=16)
    h.update("\n".join(vectors.vocab).encode("utf-8", "surrogatepass"))
    matrix = vectors.vectors
    h.update(f"\0{matrix.dtype.str}{matrix.shape}".encode())
    for start in range(0, matrix.shape[0], _BLOCK):
        h.update(np.ascontiguousarray(matrix[start:start + _BLOCK]).data)
    value = h.hexdigest()
    vectors.__dict__["_ann_digest"] = (version, value)
    return value


class AnnIndex:
    """An HNSW index over the unit vectors of one ``Vectors`` (see the module's text).

    Made by ``build_index`` or ``load_index`` (or the ``Vectors`` methods of the same names),
    not directly. ``ef_search`` (settable) is the search breadth: higher is slower and closer
    to exact search.
    """

    def __init__(self, index, count: int, dim: int, digest: str, params: dict):
        self._index = index
        self.count, self.dim, self.digest = count, dim, digest
        self.params = dict(params)
        self.ef_search = params["ef_search"]

    @property
    def ef_search(self) -> int:
        """Candidates kept while searching (faiss's ``efSearch``); at least ``k`` is used."""
        return self.params["ef_search"]

    @ef_search.setter
    def ef_search(self, value: int) -> None:
        self.params["ef_search"] = _check_int("ef_search", value, 1, 1 << 20)
        self._index.hnsw.efSearch = self.params["ef_search"]

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"<AnnIndex of {self.count} x {self.dim} vectors, HNSW {params}>"

    def check(self, vectors: Vectors) -> None:
        """``IndexMismatchError`` unless this index was built from ``vectors`` as they are."""
        n, d = vectors.vectors.shape
        if (n, d) != (self.count, self.dim):
            raise IndexMismatchError(
                f"index built for {self.count} vectors of dimension {self.dim}, these are "
                f"{n} x {d}; build one for them with vectors.build_index()")
        if digest(vectors) != self.digest:
            raise IndexMismatchError(
                "index built from other vectors (their words or values differ: digest "
                f"{self.digest}, these {digest(vectors)}); build one with vectors.build_index()")

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows and cosines of the ``k`` approximate nearest rows of each unit query (a
        (q, d) array): two (q, k) arrays, nearest first; missing hits have row -1."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if queries.shape[1] != self.dim:
            raise ValueError(f"queries of dimension {queries.shape[1]}, expected {self.dim}")
        k = _check_int("k", k, 1, self.count)
        faiss = _faiss()
        params = faiss.SearchParametersHNSW()
        params.efSearch = max(self.ef_search, k)
        scores, rows = self._index.search(queries, k, params=params)
        return rows, scores

    def save(self, path: PathLike) -> None:
        """Write the index to ``path`` (atomically; see the module's text for the layout)."""
        faiss = _faiss()
        header = json.dumps({"format": 1, "library": "faiss", "count": self.count,
                             "dim": self.dim, "digest": self.digest,
                             "params": self.params}).encode()
        with atomic_writer(path) as f:
            f.write(MAGIC + struct.pack("<I", len(header)) + header)
            writer = faiss.PyCallbackIOWriter(f.write)
            faiss.write_index(self._index, writer)
            del writer  # flushes


def build_index(vectors: Vectors, *, M: int = 32, ef_construction: int = 200,
                ef_search: int = 128, threads: int | None = None) -> AnnIndex:
    """An HNSW index over the unit rows of ``vectors`` (faiss ``IndexHNSWFlat``, inner product).

    ``M``: links per node (memory grows by about 8 * M bytes a row on top of the 4 * d of the
    unit vectors it stores); ``ef_construction``: search breadth while building (slower build,
    better graph); ``ef_search``: search breadth of queries (``AnnIndex.ef_search``, settable
    later); ``threads``: building threads (default: faiss's, all cores). ValueError for a bad
    parameter, before any work.
    """
    M = _check_int("M", M, 2, 512)
    ef_construction = _check_int("ef_construction", ef_construction, 1, 1 << 20)
    ef_search = _check_int("ef_search", ef_search, 1, 1 << 20)
    if threads is not None:
        threads = _check_int("threads", threads, 1, 4096)
    faiss = _faiss()
    n, d = vectors.vectors.shape
    index = faiss.IndexHNSWFlat(d, M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = ef_construction
    before = faiss.omp_get_max_threads()
    if threads is not None:
        faiss.omp_set_num_threads(threads)
    try:
        for block in _unit_blocks(vectors):
            index.add(block)
    finally:
        faiss.omp_set_num_threads(before)
    params = {"M": M, "ef_construction": ef_construction, "ef_search": ef_search}
    return AnnIndex(index, n, d, digest(vectors), params)


def load_index(path: PathLike, vectors: Vectors | None = None) -> AnnIndex:
    """Read an index that ``AnnIndex.save`` wrote; with ``vectors``, check it was built from
    them (``IndexMismatchError`` otherwise). A file that is not such an index is a ValueError
    naming it. A compressed file (``.gz``, ``.bz2``, ``.xz``, as ``save`` writes for those
    suffixes) is read through its decompressor."""
    faiss = _faiss()
    path = as_path(path)
    with open_input(path) as f:
        head = f.read(len(MAGIC) + 4)
        if len(head) < len(MAGIC) + 4 or head[:len(MAGIC)] != MAGIC:
            raise ValueError(f"{path}: not a cw2v approximate-search index (no {MAGIC!r} mark)")
        (size,) = struct.unpack("<I", head[len(MAGIC):])
        try:
            meta = json.loads(f.read(size))
            if not isinstance(meta, dict):
                raise ValueError("not a JSON object")
            count, dim = int(meta["count"]), int(meta["dim"])
            params = {k: int(meta["params"][k]) for k in ("M", "ef_construction", "ef_search")}
            stored_digest = str(meta["digest"])
            if meta.get("format") != 1 or meta.get("library") != "faiss":
                raise ValueError(f"format {meta.get('format')!r} of {meta.get('library')!r}")
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: corrupt approximate-search index header ({exc})") from None
        try:
            index = faiss.read_index(faiss.PyCallbackIOReader(f.read))
        except (RuntimeError, *COMPRESSION_ERRORS) as exc:
            raise ValueError(f"{path}: corrupt approximate-search index ({exc})") from None
    if (index.ntotal, index.d) != (count, dim):
        raise ValueError(f"{path}: corrupt approximate-search index (header says {count} x "
                         f"{dim}, graph holds {index.ntotal} x {index.d})")
    ann = AnnIndex(index, count, dim, stored_digest, params)
    if vectors is not None:
        ann.check(vectors)
    return ann


def query(vectors: Vectors, index: AnnIndex | None, query: np.ndarray, k: int,
          exclude: list[int], restrict_vocab: int | None) -> list[tuple[str, float]]:
    """``Vectors.most_similar``'s approximate path: the ``k`` nearest words to the unit
    ``query`` by ``index`` (default: the one attached to ``vectors``), ``exclude`` rows left
    out. Answers as exact search does: (word, cosine rounded to 3 places)."""
    if restrict_vocab is not None:
        raise ValueError("restrict_vocab is not supported with approximate search "
                         "(the index covers every word); use exact search")
    if index is None:
        index = vectors.__dict__.get("_ann_index")
        if index is None:
            raise ValueError("approximate=True needs an index: call vectors.build_index() "
                             "or vectors.load_index(path) first")
    if not isinstance(index, AnnIndex):
        raise TypeError(f"index must be a cw2v.ann.AnnIndex, got {type(index).__name__}")
    index.check(vectors)
    exclude = set(exclude)
    want = min(k + len(exclude), index.count)
    rows, scores = index.search(query.reshape(1, -1), want)
    out = [(vectors.vocab[r], round(float(s), 3)) for r, s in zip(rows[0], scores[0])
           if r >= 0 and r not in exclude and np.isfinite(s)]
    return out[:k]

