"""Approximate nearest neighbours: a faiss index over the unit vectors, saved beside them.

Exact search (``Vectors.most_similar``) reads the whole matrix for every query; over millions of
words that is slow. ``Vectors.build_index()`` builds one of two faiss indexes over the
L2-normalised rows, both with inner product, so the scores are the same cosines exact search
gives, and ``most_similar(..., approximate=True)`` searches it instead:

* ``kind="hnsw"`` (the default): a hierarchical navigable small-world graph
  (``IndexHNSWFlat``): the fastest queries, but slow to build over millions of rows;
* ``kind="ivf"``: an inverted file (``IndexIVFFlat``): the rows are split into ``nlist``
  cells by k-means (trained on a sample), and a query scans the ``nprobe`` nearest cells;
  cheaper to build and smaller than the graph, but a query scans a fixed share of the rows,
  so its speed-up over exact search is about ``nlist / nprobe`` at best.

The index is an optional extra: ``pip install "cw2v[ann]"`` (faiss-cpu); nothing else in cw2v
imports faiss.

An index belongs to one set of vectors. It records their count, dimension and a digest of the
words and the matrix (BLAKE2b), and a ``Vectors`` refuses (``IndexMismatchError``) an index whose
record differs from its own, or one built before the vectors last changed (training, or
``invalidate_norms()``). ``approximate=True`` with no index attached is a ``ValueError`` asking
for ``build_index()`` or ``load_index()``: building one over millions of rows takes minutes, so
cw2v never does it behind a query.

File layout of ``save``: the 8 bytes ``CW2VANN1``, a little-endian uint32 header length, a UTF-8
JSON header (format, count, dimension, digest, parameters, ``kind`` among them; a header
without ``kind`` is an HNSW index), then faiss's own serialisation. Saves are atomic
(``cw2v._files.atomic_writer``).
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


def _unit_blocks(vectors: Vectors, rows: np.ndarray | None = None):
    """The rows of ``vectors`` (all, or ``rows``) as float32 unit vectors, one block of rows at
    a time (zero rows stay zero; int8 rows times their scales)."""
    for start in range(0, len(vectors) if rows is None else len(rows), _BLOCK):
        picked = slice(start, start + _BLOCK) if rows is None else rows[start:start + _BLOCK]
        block = np.array(vectors._float_rows(picked), dtype=np.float32)
        norms = np.linalg.norm(block, axis=1, keepdims=True)
        with np.errstate(invalid="ignore"):
            block /= np.maximum(norms, np.finfo(np.float32).tiny)
        yield block


def digest(vectors: Vectors) -> str:
    """BLAKE2b digest (hex) of the words and the matrix's values and dtype (and int8 vectors'
    scales): what an index records to know its vectors. Cached on ``vectors`` until they
    change."""
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
    if vectors.scales is not None:
        h.update(b"\0scales")
        h.update(np.ascontiguousarray(vectors.scales).data)
    value = h.hexdigest()
    vectors.__dict__["_ann_digest"] = (version, value)
    return value


_KINDS = {"hnsw": ("M", "ef_construction", "ef_search"),
          "ivf": ("nlist", "nprobe", "train_size")}
"""The index kinds and the parameters each records."""


class AnnIndex:
    """A faiss index over the unit vectors of one ``Vectors`` (see the module's text).

    Made by ``build_index`` or ``load_index`` (or the ``Vectors`` methods of the same names),
    not directly. ``kind`` is ``"hnsw"`` or ``"ivf"``; the search breadth is settable:
    ``ef_search`` for HNSW, ``nprobe`` for IVF (higher is slower and closer to exact search).
    """

    def __init__(self, index, count: int, dim: int, digest: str, params: dict):
        self._index = index
        self.count, self.dim, self.digest = count, dim, digest
        self.kind = params.get("kind", "hnsw")
        self.params = {"kind": self.kind, **{k: params[k] for k in _KINDS[self.kind]}}

    @property
    def ef_search(self) -> int:
        """HNSW: candidates kept while searching (faiss's ``efSearch``); at least ``k`` is
        used. AttributeError on an IVF index."""
        self._want("hnsw", "ef_search")
        return self.params["ef_search"]

    @ef_search.setter
    def ef_search(self, value: int) -> None:
        self._want("hnsw", "ef_search")
        self.params["ef_search"] = _check_int("ef_search", value, 1, 1 << 20)

    @property
    def nprobe(self) -> int:
        """IVF: cells scanned by a query (of ``nlist``). AttributeError on an HNSW index."""
        self._want("ivf", "nprobe")
        return self.params["nprobe"]

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        self._want("ivf", "nprobe")
        self.params["nprobe"] = _check_int("nprobe", value, 1, self.params["nlist"])

    def _want(self, kind: str, name: str) -> None:
        if self.kind != kind:
            raise AttributeError(f"{name} belongs to kind={kind!r} indexes; this one is "
                                 f"kind={self.kind!r}")

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v}" for k, v in self.params.items() if k != "kind")
        return f"<AnnIndex of {self.count} x {self.dim} vectors, {self.kind.upper()} {params}>"

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
        if self.kind == "hnsw":
            params = faiss.SearchParametersHNSW()
            params.efSearch = max(self.ef_search, k)
        else:
            params = faiss.SearchParametersIVF()
            params.nprobe = self.nprobe
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


def build_index(vectors: Vectors, *, kind: str = "hnsw", M: int | None = None,
                ef_construction: int | None = None, ef_search: int | None = None,
                nlist: int | None = None, nprobe: int | None = None,
                train_size: int | None = None, threads: int | None = None) -> AnnIndex:
    """An approximate-search index over the unit rows of ``vectors`` (faiss, inner product).

    ``kind="hnsw"`` (``IndexHNSWFlat``): ``M`` links per node (default 32; memory grows by
    about 8 * M bytes a row on top of the 4 * d of the unit vectors it stores);
    ``ef_construction``: search breadth while building (default 200; slower build, better
    graph); ``ef_search``: search breadth of queries (default 128; ``AnnIndex.ef_search``,
    settable later).

    ``kind="ivf"`` (``IndexIVFFlat``, cheaper to build): ``nlist`` cells (default
    4 * sqrt(rows)), found by spherical k-means on ``train_size`` rows drawn at random (default
    40 * nlist, at most all of them); ``nprobe``: cells a query scans (default 64, at most
    nlist; ``AnnIndex.nprobe``, settable later). It stores the unit vectors, 4 * d bytes a row,
    and 8 bytes of row id.

    ``threads``: building threads (default: faiss's, all cores). ValueError for a bad
    parameter, or one of the other kind's, before any work.
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be 'hnsw' or 'ivf', got {kind!r}")
    given = {"M": M, "ef_construction": ef_construction, "ef_search": ef_search,
             "nlist": nlist, "nprobe": nprobe, "train_size": train_size}
    for name, value in given.items():
        if value is not None and name not in _KINDS[kind]:
            raise ValueError(f"{name} applies to kind={'hnsw' if kind == 'ivf' else 'ivf'!r} "
                             f"indexes, not kind={kind!r}")
    if threads is not None:
        threads = _check_int("threads", threads, 1, 4096)
    n, d = vectors.vectors.shape
    if kind == "hnsw":
        params = {"kind": kind,
                  "M": _check_int("M", 32 if M is None else M, 2, 512),
                  "ef_construction": _check_int("ef_construction", 200 if ef_construction
                                                is None else ef_construction, 1, 1 << 20),
                  "ef_search": _check_int("ef_search", 128 if ef_search is None else ef_search,
                                          1, 1 << 20)}
    else:
        nlist = _check_int("nlist", max(1, min(n, round(4 * n ** 0.5))) if nlist is None
                           else nlist, 1, n)
        params = {"kind": kind, "nlist": nlist,
                  "nprobe": _check_int("nprobe", min(64, nlist) if nprobe is None else nprobe,
                                       1, nlist),
                  "train_size": _check_int("train_size", min(n, 40 * nlist) if train_size
                                           is None else train_size, nlist, n)}
    faiss = _faiss()
    before = faiss.omp_get_max_threads()
    if threads is not None:
        faiss.omp_set_num_threads(threads)
    try:
        if kind == "hnsw":
            index = faiss.IndexHNSWFlat(d, params["M"], faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = params["ef_construction"]
            for block in _unit_blocks(vectors):
                index.add(block)
        else:
            quantizer = faiss.IndexFlatIP(d)
            index = faiss.IndexIVFFlat(quantizer, d, params["nlist"], faiss.METRIC_INNER_PRODUCT)
            index.own_fields = True  # the index keeps its quantizer alive
            quantizer.this.disown()
            index.cp.spherical = True  # centroids on the unit sphere: cells by cosine
            sample = np.sort(np.random.default_rng(0).choice(n, params["train_size"],
                                                             replace=False))
            index.train(np.concatenate(list(_unit_blocks(vectors, sample))))
            _add_reserved(faiss, index, vectors)
    finally:
        faiss.omp_set_num_threads(before)
    return AnnIndex(index, n, d, digest(vectors), params)


def _add_reserved(faiss, index, vectors: Vectors) -> None:
    """Add the unit rows to a trained IVF index, each cell's storage sized once: the rows'
    cells first, then each list reserved at its final size, then the rows (faiss's own
    ``add`` grows the lists by doubling, which holds up to 2x the index at the end)."""
    cells = np.empty(len(vectors), dtype=np.int64)
    for start, block in zip(range(0, len(vectors), _BLOCK), _unit_blocks(vectors)):
        cells[start:start + len(block)] = index.quantizer.assign(block, 1).ravel()
    lists = index.invlists
    for cell, size in enumerate(np.bincount(cells, minlength=index.nlist).tolist()):
        lists.resize(cell, size)  # (std::vector: shrinking back to 0 keeps the capacity)
        lists.resize(cell, 0)
    for start, block in zip(range(0, len(vectors), _BLOCK), _unit_blocks(vectors)):
        index.add_core(len(block), faiss.swig_ptr(block), None,
                       faiss.swig_ptr(cells[start:start + len(block)]))


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
            kind = meta["params"].get("kind", "hnsw")
            if kind not in _KINDS:
                raise ValueError(f"unknown kind {kind!r}")
            params = {"kind": kind, **{k: int(meta["params"][k]) for k in _KINDS[kind]}}
            for name in _KINDS[kind]:
                _check_int(name, params[name], 1, params.get("nlist", 1 << 20)
                           if name == "nprobe" else 1 << 30)
            stored_digest = str(meta["digest"])
            if meta.get("format") != 1 or meta.get("library") != "faiss":
                raise ValueError(f"format {meta.get('format')!r} of {meta.get('library')!r}")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{path}: corrupt approximate-search index header ({exc})") from None
        try:
            index = faiss.read_index(faiss.PyCallbackIOReader(f.read))
        except (RuntimeError, *COMPRESSION_ERRORS) as exc:
            raise ValueError(f"{path}: corrupt approximate-search index ({exc})") from None
    if (index.ntotal, index.d) != (count, dim):
        raise ValueError(f"{path}: corrupt approximate-search index (header says {count} x "
                         f"{dim}, graph holds {index.ntotal} x {index.d})")
    if not isinstance(index, faiss.IndexHNSW if kind == "hnsw" else faiss.IndexIVF):
        raise ValueError(f"{path}: corrupt approximate-search index (header says {kind}, "
                         f"the file holds a {type(index).__name__})")
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

