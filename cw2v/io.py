"""Reading and writing word vectors and models.

Two families of formats live here:

* **word2vec C formats** (``save_word2vec_format`` / ``load_word2vec_format``), exactly as
  word2vec.c writes them and as gensim's ``KeyedVectors.load_word2vec_format`` reads them:

  - text: a header line ``"<vocab_size> <vector_size>\\n"``, then one line per word,
    ``"word v1 v2 ... vd\\n"``;
  - binary: the same header line, then per word ``b"word "`` followed by ``vector_size``
    little-endian float32 values and ``b"\\n"``.

  The reader also accepts what other writers produce: no newline after a binary vector
  (gensim), ``"\\r\\n"`` after it, newlines before a word, a trailing space on text lines,
  blank lines in text files. Compressed files (gzip, bzip2, xz) are recognised by their first
  bytes when read; a ``.gz``, ``.bz2`` or ``.xz`` suffix compresses what is written.

* **the native cw2v format** (``save_arrays`` / ``load_arrays``): JSON metadata and named arrays,
  described below. ``cw2v.Word2Vec.save`` / ``load`` store a whole model in it (everything needed
  to continue training), without pickle, so loading a file never runs code from it, and the weight
  arrays can be memory-mapped. This module knows arrays and vectors, not models.

Every writer here writes a temporary file in the target's directory and renames it over the
target with ``os.replace``: an interrupted save leaves the previous file (or no file), never a
half-written one. Every path argument is ``str`` or ``os.PathLike``.

Native format, version 1
------------------------
All integers little-endian::

    offset  size  content
    0       4     magic b"CW2V"
    4       4     format version, uint32 (this module writes and reads 1)
    8       8     header length H in bytes, uint64
    16      H     header: UTF-8 JSON object (see below; non-finite floats in ``meta`` are
                  written ``NaN`` / ``Infinity``, as Python's json module does)
    ...           zero bytes up to the first array
    off_i   n_i   array i: raw C-order bytes, little-endian, each starting at a multiple of 64

The JSON header holds::

    {"format": "cw2v-model", "version": 1, "cw2v_version": "...", "class": "cw2v.model.Word2Vec",
     "meta": {...},                       # the model's JSON-able metadata
     "arrays": {"W_in": {"dtype": "<f4", "shape": [V, d], "offset": 128, "nbytes": 4*V*d,
                         "crc32": 1234567890}, ...}}

``offset`` counts from the start of the file and is a multiple of 64 (so ``np.memmap`` views are
aligned), ``dtype`` is a NumPy dtype string (bool, integer, float or complex only), ``crc32`` the
``zlib.crc32`` of the array's bytes (checked when the file is read without mmap). A reader must
refuse a version it does not know; readers of version 1 ignore header keys they do not know.
"""
from __future__ import annotations

import codecs
import io as _io
import json
import logging
import math
import os
import re
import stat
import struct
import sys
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, BinaryIO

import numpy as np

from ._files import (COMPRESSION_ERRORS, InMemoryInput, InputLike, PathLike, as_path,
                     atomic_writer, check_text_encoding, corrupt_stream_reason, decompresses,
                     input_name, is_regular_file, is_stream, open_input, read_all,
                     regular_file_descriptor)
from ._reader import ASCII_WHITESPACE
from ._rows import rows_contiguous
from ._version import __version__
from .vectors import Vectors, as_vectors

__all__ = [
    "FORMAT_VERSION",
    "MAGIC",
    "Word2VecFormatError",
    "detect_format",
    "load_arrays",
    "load_vectors",
    "load_word2vec_format",
    "read_vectors",
    "save_arrays",
    "save_vectors",
    "save_word2vec_format",
]

logger = logging.getLogger(__name__)

MAGIC = b"CW2V"
"""First four bytes of a native cw2v model file."""

FORMAT_VERSION = 1
"""Version of the native format this module writes (and the only one it reads)."""

_ALIGN = 64
_PREAMBLE = struct.Struct("<4sIQ")  # magic, version, header length
_ARRAY_KINDS = "biufc"  # bool, int, uint, float, complex: plain bytes, nothing to execute
_TEXT_CHUNK_LINES = 8192
_TEXT_CHUNK_FIELDS = 1 << 14  # the text reader parses this many numbers at a time (about 1 MiB)
_ASCII_WHITESPACE = re.compile(f"[{re.escape(ASCII_WHITESPACE.decode())}]")


class Word2VecFormatError(ValueError):
    """A word2vec file that does not follow the format, with where the problem is.

    Attributes
    ----------
    path : str
        The file.
    line : int or None
        1-based line number (text files; the header is line 1).
    record : int or None
        1-based number of the word record (binary files; the header is not a record).
    """

    def __init__(self, path: str, message: str, *, line: int | None = None,
                 record: int | None = None):
        self.path = path
        self.line = line
        self.record = record
        if line is not None:
            where = f", line {line}"
        elif record is not None:
            where = f", record {record}"
        else:
            where = ""
        super().__init__(f"{path!s}{where}: {message}")


# -- files ----------------------------------------------------------------------------------------


# -- word2vec C formats ---------------------------------------------------------------------------


def _check_words(vocab: list[str]) -> None:
    """The format cannot hold empty words or words with ASCII whitespace: ValueError naming one."""
    for word in vocab:
        if not word or _ASCII_WHITESPACE.search(word):
            raise ValueError(
                f"word {word!r} cannot be stored in word2vec format (empty, or contains whitespace)"
            )


def save_word2vec_format(vectors: Vectors, path: PathLike, binary: bool = False) -> None:
    """Write word vectors in word2vec.c's text or binary format.

    Parameters
    ----------
    vectors : cw2v.Vectors, or a model holding them (``model.wv``)
        The words (``vocab``) and their vectors (``vectors``), written in row order; a trained
        ``cw2v.Word2Vec`` writes its ``W_in``.
    path : str or os.PathLike
        The file to write (replaced atomically). A ``.gz``, ``.bz2`` or ``.xz`` suffix compresses.
    binary : bool, default False
        False: text, ``"word v1 ... vd\\n"`` per word, values with 9 significant digits so that
        float32 vectors read back exactly. True: ``b"word "``, d little-endian float32, ``b"\\n"``.

    Raises
    ------
    ValueError
        A word is empty or contains whitespace (the format separates fields with it).

    Notes
    -----
    Both variants start with the header line ``"<vocab_size> <vector_size>\\n"``, are UTF-8, and
    load in gensim's ``KeyedVectors.load_word2vec_format`` and word2vec.c's tools.
    """
    vectors = as_vectors(vectors)
    vocab = list(vectors.vocab)
    matrix = np.asarray(vectors.vectors)
    rows_of = vectors._float_rows  # (int8 vectors: their codes times their scales)
    if matrix.ndim != 2 or matrix.shape[0] != len(vocab):
        raise ValueError(f"vectors has shape {matrix.shape} for {len(vocab)} words")
    _check_words(vocab)
    n_words, dim = matrix.shape
    header = f"{n_words} {dim}\n".encode("ascii")
    with atomic_writer(path) as out:
        out.write(header)
        if binary:
            for start in range(0, n_words, _TEXT_CHUNK_LINES):
                stop = min(start + _TEXT_CHUNK_LINES, n_words)
                rows = np.ascontiguousarray(rows_of(slice(start, stop)), dtype="<f4")
                parts = []
                for word, row in zip(vocab[start:stop], rows.view(np.uint8).reshape(-1, 4 * dim)):
                    parts.append(word.encode("utf-8") + b" ")
                    parts.append(row.tobytes())
                    parts.append(b"\n")
                out.write(b"".join(parts))
        else:
            fmt = " ".join(["%.9g"] * dim) + "\n"
            for start in range(0, n_words, _TEXT_CHUNK_LINES):
                stop = min(start + _TEXT_CHUNK_LINES, n_words)
                values = np.asarray(rows_of(slice(start, stop)), dtype=np.float32)
                lines = [word + " " + fmt % tuple(row)
                         for word, row in zip(vocab[start:stop], values.tolist())]
                out.write("".join(lines).encode("utf-8"))


def load_word2vec_format(path: InputLike, binary: bool = False, *, encoding: str = "utf-8",
                         unicode_errors: str = "strict", limit: int | None = None) -> Vectors:
    """Read word vectors in word2vec.c's text or binary format.

    Parameters
    ----------
    path : str, os.PathLike or binary file object
        The file -- a pipe or FIFO too -- or a file object such as ``sys.stdin.buffer`` (read
        from where it stands, and left open); gzip, bzip2 and xz data are decompressed on the fly
        (told by their first bytes).
    binary : bool, default False
        Whether the file is in the binary variant.
    encoding : str, default "utf-8"
        Encoding of the words.
    unicode_errors : str, default "strict"
        What to do with words that are not valid in ``encoding`` (``"strict"``: raise
        ``Word2VecFormatError``; ``"ignore"``, ``"replace"``, ...: as ``bytes.decode``).
        word2vec.c can cut a multi-byte character at its word-length limit; ``"ignore"`` reads such
        files.
    limit : int, optional
        Read only the first ``limit`` vectors (the rest of the file is not checked).

    Returns
    -------
    cw2v.vectors.Vectors
        The words in file order and their float32 vectors. When a word occurs twice (possible after
        ``unicode_errors="ignore"``), the first is kept, as gensim does.

    Raises
    ------
    FileNotFoundError
        No such file.
    Word2VecFormatError
        (a ``ValueError``) The file is truncated or corrupt (a compressed stream included), or
        the header disagrees with the content (fewer or more vectors, another dimension); the
        message names the file and the line (text) or the record (binary, 1-based word number).

    Notes
    -----
    The file is read once, in chunks of a few hundred KiB, into one float32 matrix allocated at
    the start: the peak memory is the matrix, the words and their index (about 130 bytes a word)
    and a chunk. A plain file's matrix is never larger than the file can hold, whatever its
    header claims; a pipe's or a compressed file's grows as rows arrive.
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a positive integer or None, got {limit!r}")
    name = input_name(path)
    check_text_encoding(encoding, unicode_errors)  # LookupError before anything is read
    reader = _read_binary if binary else _read_text
    try:
        words, matrix = reader(path, name, encoding, unicode_errors, limit)
    except COMPRESSION_ERRORS as exc:
        reason = corrupt_stream_reason(exc)
        if reason is None:
            raise  # the file itself cannot be read: its OSError says why
        raise Word2VecFormatError(name, reason) from exc
    w2i = {w: i for i, w in enumerate(words)}  # (the index the Vectors keeps: built once)
    if len(w2i) == len(words):
        return Vectors._indexed(words, w2i, matrix)
    del w2i
    keep: dict[str, int] = {}
    for i, w in enumerate(words):
        keep.setdefault(w, i)
    logger.warning("%s: %d duplicate words, keeping the first of each",
                   name, len(words) - len(keep))
    rows = np.fromiter(keep.values(), dtype=np.intp, count=len(keep))
    return Vectors(list(keep), matrix[rows])


def _parse_header(line: bytes, path: str) -> tuple[int, int]:
    """``(vocab_size, vector_size)`` from the header line, or Word2VecFormatError on line 1."""
    fields = line.split()
    try:
        if len(fields) != 2:
            raise ValueError
        n_words, dim = int(fields[0]), int(fields[1])
    except ValueError:
        shown = line[:80].decode("utf-8", "replace")
        raise Word2VecFormatError(
            path, f"expected a header 'vocab_size vector_size', got {shown!r}", line=1
        ) from None
    if n_words < 1 or dim < 1:
        raise Word2VecFormatError(
            path, f"header gives {n_words} words of dimension {dim}; both must be >= 1", line=1
        )
    return n_words, dim


def _decode_words(raw: list[bytes], encoding: str, errors: str, path: str,
                  where: Sequence[int] | None, what: str) -> list[str]:
    """Decode all words; on failure name the first bad one's line/record."""
    try:
        if codecs.lookup(encoding).name == "utf-8" and errors in ("strict", "ignore", "replace"):
            # One decode for all: no word holds b"\n", and in UTF-8 b"\n" is never part of a
            # multi-byte sequence, so the words split back exactly.
            words = b"\n".join(raw).decode(encoding, errors).split("\n")
            if len(words) == len(raw):
                return words
        return [w.decode(encoding, errors) for w in raw]
    except UnicodeDecodeError:
        for i, w in enumerate(raw):
            try:
                w.decode(encoding, errors)
            except UnicodeDecodeError as exc:
                number = where[i] if where is not None else i + 1
                kwargs = {what: number}
                raise Word2VecFormatError(
                    path, f"word {w!r} is not valid {encoding} ({exc.reason}); "
                          f"pass unicode_errors='ignore' or 'replace' to read it anyway",
                    **kwargs,
                ) from exc
        raise  # pragma: no cover - the loop always finds the culprit


class _Rows:
    """The float32 matrix a reader fills, a block of rows at a time.

    Reading a plain file, ``known_fit`` is how many rows the rest of the file can hold at most:
    the matrix is allocated once, whole, with the header's row count or that many rows if fewer
    (a header that claims more rows than the file can hold allocates no more than the file's
    size; the reader then reports where the file ends). Reading a pipe or a compressed file the
    matrix grows as rows arrive (``ndarray.resize``: realloc, which extends large blocks in
    place), so a lying header never allocates more than the content.
    """

    _FIRST_BYTES = 1 << 20

    def __init__(self, n_rows: int, dim: int, known_fit: int | None):
        self.n_rows, self.dim, self.filled = n_rows, dim, 0
        if known_fit is None:
            known_fit = max(1, self._FIRST_BYTES // (4 * dim))
        first = min(n_rows, known_fit)
        self.matrix = np.empty((first, dim), dtype=np.float32)

    def add(self, rows: np.ndarray) -> None:
        """Append ``rows`` (n, dim)."""
        stop = self.filled + rows.shape[0]
        if stop > self.matrix.shape[0]:
            capacity = min(self.n_rows, max(stop, 2 * self.matrix.shape[0]))
            self.matrix.resize((capacity, self.dim), refcheck=False)
        self.matrix[self.filled:stop] = rows
        self.filled = stop

    def result(self) -> np.ndarray:
        """The filled rows (the matrix itself, shrunk in place if it was grown too far)."""
        if self.filled != self.matrix.shape[0]:
            self.matrix.resize((self.filled, self.dim), refcheck=False)
        return self.matrix


def _remaining_bytes(f) -> int | None:
    """Bytes left in ``f`` (from ``open_input``) when it reads a plain regular file, else None."""
    fd = regular_file_descriptor(f)
    return None if fd is None else max(os.fstat(fd).st_size - f.tell(), 0)


def _read_text(source: InputLike, name: str, encoding: str, errors: str,
               limit: int | None) -> tuple[list[str], np.ndarray]:
    with open_input(source) as f:
        n_words, dim = _parse_header(f.readline(), name)
        n_read = n_words if limit is None else min(n_words, limit)
        remaining = _remaining_bytes(f)
        # A line holds at least "w" and dim times " 1": 2 * dim + 1 bytes and its newline.
        fit = None if remaining is None else (remaining + 1) // (2 * dim + 2)
        rows = _Rows(n_read, dim, fit)
        words: list[str] = []
        raw_words: list[bytes] = []
        line_of: list[int] = []
        fields: list[bytes] = []
        line_no = 1

        def flush() -> None:
            rows.add(_parse_rows(fields, dim, line_of, name))
            words.extend(_decode_words(raw_words, encoding, errors, name, line_of, "line"))
            raw_words.clear(), line_of.clear(), fields.clear()

        for line in f:
            line_no += 1
            parts = line.split()
            if not parts:
                continue
            if len(words) + len(raw_words) == n_read:
                if n_read < n_words:
                    break  # limit reached
                raise Word2VecFormatError(
                    name, f"more vectors than the header's {n_words}", line=line_no)
            if len(parts) != dim + 1:
                raise Word2VecFormatError(
                    name, f"expected a word and {dim} values (the header's vector size), {dim + 1} "
                          f"fields in all; this line has {len(parts)} fields",
                    line=line_no)
            raw_words.append(parts[0])
            line_of.append(line_no)
            fields.extend(parts[1:])
            if len(fields) >= _TEXT_CHUNK_FIELDS:
                flush()
        if len(words) + len(raw_words) < n_read:
            raise Word2VecFormatError(
                name, f"file ends after {len(words) + len(raw_words)} vectors; the header says "
                      f"{n_words}", line=line_no + 1)
        flush()
    return words, rows.result()


def _parse_rows(fields: list[bytes], dim: int, line_of: list[int], path: str) -> np.ndarray:
    """The numbers of consecutive rows as a (rows, dim) float32 array; a bad number is reported
    with its line (``line_of[i]`` is the line of row i)."""
    try:
        return np.array(fields, dtype=np.float32).reshape(len(fields) // dim, dim)
    except ValueError:
        for k, token in enumerate(fields):
            try:
                float(token)
            except ValueError:
                raise Word2VecFormatError(
                    path, f"{token[:40]!r} is not a number", line=line_of[k // dim]
                ) from None
        raise  # pragma: no cover - float() rejects what NumPy rejects


_READ_BYTES = 1 << 18  # the binary reader's chunk (bytes)
_MAX_WORD_BYTES = 1 << 20  # a longer "word" means a wrong header or a corrupt file


def _read_binary(source: InputLike, name: str, encoding: str, errors: str,
                 limit: int | None) -> tuple[list[str], np.ndarray]:
    with open_input(source) as f:
        header = f.readline(4096)
        if not header.strip(b"\n"):
            raise Word2VecFormatError(name, "no header line (file empty or not word2vec)", line=1)
        n_words, dim = _parse_header(header, name)
        n_read = n_words if limit is None else min(n_words, limit)
        vec_bytes = 4 * dim
        remaining = _remaining_bytes(f)
        # A record holds at least a one-byte word, a space and the vector.
        fit = None if remaining is None else remaining // (vec_bytes + 2)
        rows = _Rows(n_read, dim, fit)
        words: list[str] = []
        data, pos, base, record, eof = b"", 0, len(header), 0, False
        # Each record: optional "\n" / "\r\n" (left by the previous record), word, b" ", vector.
        while record < n_read:
            chunk = f.read(max(_READ_BYTES, 4 * vec_bytes))
            eof = not chunk
            base += pos
            data, pos = data[pos:] + chunk, 0
            size, find = len(data), data.find
            raw_words: list[bytes] = []
            offsets: list[int] = []
            while record < n_read:
                space = find(b" ", pos)
                if space < 0 or space + 1 + vec_bytes > size:
                    if eof:
                        raise Word2VecFormatError(
                            name, f"file ends inside this record ({record} complete records, the "
                                  f"header says {n_words} of dimension {dim})", record=record + 1)
                    if space < 0 and size - pos > _MAX_WORD_BYTES:
                        space = size  # reported as malformed below
                    else:
                        break  # read on
                word = data[pos:space].lstrip(b"\r\n")
                if not word or b"\n" in word or space == size:
                    raise Word2VecFormatError(
                        name, f"malformed word {word[:40]!r} at byte {base + pos}; the header's "
                              f"vector size ({dim}) may be wrong or the file corrupt",
                        record=record + 1)
                raw_words.append(word)
                offsets.append(space + 1)
                pos = space + 1 + vec_bytes
                record += 1
            if offsets:
                # The chunk's vectors in one fancy-indexing copy over a strided byte view.
                buf = np.frombuffer(data, dtype=np.uint8)
                windows = np.lib.stride_tricks.as_strided(
                    buf, shape=(size - vec_bytes + 1, vec_bytes), strides=(1, 1), writeable=False)
                rows.add(windows[np.asarray(offsets, dtype=np.intp)].view("<f4"))
                del windows, buf
                first = record - len(raw_words) + 1
                words.extend(_decode_words(raw_words, encoding, errors, name,
                                           range(first, record + 1), "record"))
        if n_read == n_words:
            rest = data[pos:]
            if len(rest) <= 4096:
                rest += f.read(4097 - len(rest))
            if rest.strip() or len(rest) > 4096:
                raise Word2VecFormatError(
                    name, f"unexpected data after the last vector at byte {base + pos}; the "
                          f"header ({n_words} words, dimension {dim}) disagrees with the content",
                    record=n_words + 1)
    return words, rows.result()


# -- native model format --------------------------------------------------------------------------


def _byte_view(arr: np.ndarray) -> memoryview:
    """The bytes of a C-contiguous array, as a flat memoryview (works for every dtype kind)."""
    return memoryview(arr.reshape(-1).view(np.uint8))  # type: ignore[arg-type]


_CHUNK_BYTES = 1 << 24


def _row_blocks(arr: np.ndarray) -> Iterator[slice]:
    """Blocks of about _CHUNK_BYTES of a 2-D array's rows, in order."""
    rows = max(1, _CHUNK_BYTES // max(arr[0].nbytes, 1))
    for start in range(0, arr.shape[0], rows):
        yield slice(start, start + rows)


def _byte_chunks(arr: np.ndarray):
    """The bytes of an array in C order: one view of a C-contiguous array, or blocks of rows
    (about 16 MiB each) of one whose rows lie further apart (a model's padded weights), so that
    writing it never copies it whole."""
    if arr.flags.c_contiguous:
        yield _byte_view(arr)
        return
    for block in _row_blocks(arr):
        yield _byte_view(np.ascontiguousarray(arr[block]))


def _aligned(n: int) -> int:
    return -(-n // _ALIGN) * _ALIGN


def _empty(empty, key: str, shape: tuple, dtype: np.dtype) -> np.ndarray:
    """The array ``load_arrays`` reads array ``key`` into: ``empty``'s, checked, or np.empty."""
    arr = None if empty is None else empty(key, shape, dtype)
    if arr is None:
        return np.empty(shape, dtype=dtype)
    if arr.shape != shape or arr.dtype != dtype or not (arr.flags.c_contiguous
                                                        or rows_contiguous(arr)):
        raise ValueError(f"empty() gave array {key!r} a {arr.dtype} {arr.shape} array, not "
                         f"{dtype} {shape} with contiguous rows")
    return arr


def _read_into(f: BinaryIO, arr: np.ndarray) -> int:
    """Fill ``arr`` (C-contiguous, or with contiguous rows) from ``f``'s next bytes, in C order;
    the number of bytes read."""
    if arr.flags.c_contiguous:
        return f.readinto(_byte_view(arr))
    done = 0
    for block in _row_blocks(arr):
        buf = np.empty_like(arr[block], order="C")
        got = f.readinto(_byte_view(buf))
        done += got
        if got != buf.nbytes:
            break
        arr[block] = buf
    return done


def _crc32(arr: np.ndarray) -> int:
    crc = 0
    for chunk in _byte_chunks(arr):
        crc = zlib.crc32(chunk, crc)
    return crc


def _check_array(name: Any, arr: Any) -> np.ndarray:
    if not isinstance(name, str) or not name:
        raise TypeError(f"array names must be non-empty str, got {name!r}")
    arr = np.asarray(arr)
    if arr.dtype.kind not in _ARRAY_KINDS:
        raise TypeError(f"array {name!r} has dtype {arr.dtype}; only bool, integer, float and "
                        f"complex arrays can be stored")
    if arr.dtype == arr.dtype.newbyteorder("<") and rows_contiguous(arr):
        return arr  # a model's padded weights: written a block of rows at a time (_byte_chunks)
    # (not np.ascontiguousarray, which turns 0-d arrays into 1-d ones)
    return arr.astype(arr.dtype.newbyteorder("<"), order="C", copy=False)


def save_arrays(path: PathLike, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray], *,
                extra: Mapping[str, Any] | None = None) -> None:
    """Write metadata and named arrays in the native cw2v format (see the module docstring).

    Parameters
    ----------
    path : str or os.PathLike
        The file to write (replaced atomically).
    meta : mapping
        JSON-serialisable metadata (float NaN and infinities are written as Python's ``json``
        writes them, ``NaN`` / ``Infinity``, so that a diverged loss history still saves).
    arrays : mapping of str to numpy.ndarray
        Bool, integer, float or complex arrays; written little-endian in C order, each at a
        64-byte aligned offset.
    extra : mapping, optional
        More top-level header keys (``cw2v.Word2Vec.save`` records the model class here).

    Raises
    ------
    TypeError
        An array of another dtype (object, str, structured), or a name that is not a str.
    ValueError
        ``meta`` is not JSON-serialisable.
    """
    prepared = {name: _check_array(name, arr) for name, arr in arrays.items()}
    try:
        meta_json = json.loads(json.dumps(dict(meta)))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"model metadata is not JSON-serialisable: {exc}") from None
    directory: dict[str, dict[str, Any]] = {
        name: {"dtype": arr.dtype.str, "shape": list(arr.shape), "offset": 0,
               "nbytes": int(arr.nbytes), "crc32": _crc32(arr)}
        for name, arr in prepared.items()
    }
    header: dict[str, Any] = {"format": "cw2v-model", "version": FORMAT_VERSION,
                              "cw2v_version": __version__}
    header.update(extra or {})
    header["meta"] = meta_json
    header["arrays"] = directory
    # Offsets are absolute, so the header's length depends on them: iterate to a fixed point.
    data_start = 0
    while True:
        offset = data_start
        for entry in directory.values():
            entry["offset"] = offset
            offset = _aligned(offset + entry["nbytes"])
        blob = json.dumps(header, separators=(",", ":")).encode("utf-8")
        needed = _aligned(_PREAMBLE.size + len(blob))
        if needed <= data_start:
            break
        data_start = needed
    with atomic_writer(path) as out:
        out.write(_PREAMBLE.pack(MAGIC, FORMAT_VERSION, len(blob)))
        out.write(blob)
        written = _PREAMBLE.size + len(blob)
        for name, arr in prepared.items():
            start = directory[name]["offset"]
            out.write(b"\0" * (start - written))
            for chunk in _byte_chunks(arr):
                out.write(chunk)
            written = start + arr.nbytes


def _read_header(f: BinaryIO, name: str, file_size: int) -> dict[str, Any]:
    preamble = f.read(_PREAMBLE.size)
    if 0 < len(preamble) < _PREAMBLE.size and preamble[:4] == MAGIC[:len(preamble[:4])]:
        raise ValueError(f"{name}: truncated cw2v model file ({len(preamble)} bytes, shorter "
                         f"than the {_PREAMBLE.size}-byte preamble)")
    if len(preamble) < _PREAMBLE.size or preamble[:4] != MAGIC:
        raise ValueError(f"{name}: not a cw2v model file (bad magic {preamble[:4]!r}, "
                         f"expected {MAGIC!r})")
    _, version, header_len = _PREAMBLE.unpack(preamble)
    if version != FORMAT_VERSION:
        raise ValueError(f"{name}: cw2v model format version {version} is not supported (this "
                         f"cw2v {__version__} reads version {FORMAT_VERSION})")
    if header_len > file_size - _PREAMBLE.size:
        raise ValueError(f"{name}: truncated cw2v model file (header of {header_len} bytes, "
                         f"file of {file_size})")
    try:
        header = json.loads(f.read(header_len).decode("utf-8"))
        if not isinstance(header, dict) or not isinstance(header.get("arrays"), dict):
            raise ValueError("no array directory")
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # (JSON nested too deep)
        raise ValueError(f"{name}: corrupt cw2v model header ({exc})") from None
    return header


def _is_count(value: Any) -> bool:
    """Whether a JSON value is an integer >= 0 (not a bool, a float or a string of digits)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _array_entry(name: str, key: str, entry: Any, file_size: int) -> tuple[np.dtype, tuple, int, int]:
    try:
        if not isinstance(entry["dtype"], str) or not isinstance(entry["shape"], list):
            raise ValueError
        dtype = np.dtype(entry["dtype"])
        shape = tuple(entry["shape"])
        offset, nbytes = entry["offset"], entry["nbytes"]
        if not all(map(_is_count, (*shape, offset, nbytes))):
            raise ValueError
        if dtype.kind not in _ARRAY_KINDS or dtype.subdtype is not None or offset % _ALIGN:
            raise ValueError
        if nbytes != math.prod(shape) * dtype.itemsize:  # (Python ints: no overflow)
            raise ValueError
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"{name}: corrupt directory entry for array {key!r}: {entry!r}") from None
    if offset + nbytes > file_size:
        raise ValueError(f"{name}: truncated cw2v model file: array {key!r} needs bytes "
                         f"{offset}..{offset + nbytes}, the file has {file_size}")
    return dtype, shape, offset, nbytes


def _open_native(source: InputLike, name: str, mmap: str | bool) -> BinaryIO:
    """``source`` as a seekable binary file: a regular file opened, anything else (a pipe, a
    FIFO, a file object) read whole into memory -- unless ``mmap`` asks to map it."""
    if is_stream(source):
        f, owned = source, False
    else:
        # Opened once: a FIFO opened, closed and opened again may lose its writer in between.
        f, owned = open(as_path(source), "rb"), True  # noqa: SIM115 -- returned
        if stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            return f
    try:
        if mmap:
            raise ValueError(f"{name}: only a regular file can be memory-mapped (this is a pipe, "
                             "a FIFO, a device or a file object); load it with mmap=False")
        return _io.BytesIO(read_all(f))
    finally:
        if owned:
            f.close()


def load_arrays(path: InputLike, mmap: bool | str = False,
                empty: Callable[[str, tuple, np.dtype], np.ndarray] | None = None,
                ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read a native cw2v file written by ``save_arrays`` (or ``cw2v.Word2Vec.save``).

    Parameters
    ----------
    path : str, os.PathLike or binary file object
        The file. A pipe, a FIFO or a file object (``sys.stdin.buffer``, read from where it
        stands and left open) is read once, whole, into memory.
    mmap : bool or {"r", "c"}, default False
        False: read the arrays into memory (and check their CRC-32). True or ``"r"``: map them
        read-only with ``np.memmap`` (pages are read on demand; no checksum, which would read them
        all). ``"c"``: map copy-on-write (writeable, changes never reach the file). Only a
        regular file can be mapped.
    empty : callable, optional
        ``empty(name, shape, dtype)`` gives the array that array ``name`` is read into (when it
        is read, not mapped): a C-contiguous one, or one whose rows are contiguous (a model's
        padded weights, read a block of rows at a time). By default ``np.empty``.

    Returns
    -------
    meta : dict
        The metadata given to ``save_arrays``.
    arrays : dict of str to numpy.ndarray
        The arrays, in native byte order.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        Bad magic, unknown format version, corrupt header, truncated file or checksum mismatch;
        mmap asked of something that is not a regular file; the message names the file.
    """
    if mmap is True:
        mmap = "r"
    if mmap not in (False, "r", "c"):
        raise ValueError(f"mmap must be False, True, 'r' or 'c', got {mmap!r}")
    name = input_name(path)
    arrays: dict[str, np.ndarray] = {}
    with _open_native(path, name, mmap) as f:
        file_size = f.seek(0, os.SEEK_END)
        f.seek(0)
        header = _read_header(f, name, file_size)
        for key, entry in header["arrays"].items():
            dtype, shape, offset, nbytes = _array_entry(name, key, entry, file_size)
            arr: np.ndarray
            if mmap and nbytes > 0 and shape != ():
                arr = np.memmap(f, dtype=dtype, mode=mmap, offset=offset, shape=shape)
            else:
                arr = _empty(empty, key, shape, dtype)
                f.seek(offset)
                if _read_into(f, arr) != nbytes:  # pragma: no cover
                    raise ValueError(f"{name}: truncated cw2v model file in array {key!r}")
                crc = entry.get("crc32")
                if crc is not None and _crc32(arr) != crc:
                    raise ValueError(f"{name}: array {key!r} is corrupt (CRC-32 mismatch)")
            if not dtype.isnative:
                arr = arr.astype(dtype.newbyteorder("="))
            arrays[key] = arr
    meta = header.get("meta", {})
    if not isinstance(meta, dict):
        raise ValueError(f"{name}: corrupt cw2v model header (meta is not an object)")
    return meta, arrays


# -- vectors in the native format -----------------------------------------------------------------

_VECTORS_CONTENT = "cw2v-vectors"
"""``meta["content"]`` of a native file written by ``save_vectors``."""
_INT8_CONTENT = "cw2v-vectors-int8"
"""``meta["content"]`` of one holding int8 vectors and their scales: cw2v versions that predate
int8 refuse it (no word vectors) instead of reading the bare codes as values."""


def save_vectors(vectors: Vectors, path: PathLike) -> None:
    """Write words and vectors in the native cw2v format (``cw2v.Vectors.save``).

    The file holds three arrays: ``vectors`` (V x d, in the vectors' own dtype: float16 stays
    float16, half the size; int8 stays int8), ``words`` (the words' UTF-8 bytes, one after
    another, uint8) and ``word_ends`` (where each word's bytes end, int64), and ``meta =
    {"content": "cw2v-vectors"}``; int8 vectors add a fourth, ``scales`` (V float32), under
    ``{"content": "cw2v-vectors-int8"}``. The file is replaced atomically. ``load_vectors``
    reads it back, and can map the matrix with ``mmap=True``.
    """
    vectors = as_vectors(vectors)
    encoded = [w.encode("utf-8") for w in vectors.vocab]
    ends = np.cumsum([len(w) for w in encoded], dtype=np.int64)
    words = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    arrays = {"vectors": vectors.vectors, "words": words, "word_ends": ends}
    content = _VECTORS_CONTENT
    if vectors.scales is not None:
        arrays["scales"], content = vectors.scales, _INT8_CONTENT
    save_arrays(path, {"content": content}, arrays,
                extra={"class": "cw2v.vectors.Vectors"})


def load_vectors(path: InputLike, mmap: bool | str = False) -> Vectors:
    """Read a ``Vectors`` from a native cw2v file: one written by ``save_vectors``
    (``cw2v.Vectors.save``), or a model saved by ``cw2v.Word2Vec.save`` (its ``W_in``).

    ``mmap=True`` maps the matrix read-only (``np.memmap``; nothing is read until a query needs
    it, and queries never copy it); ``mmap="c"`` maps it copy-on-write; see ``load_arrays``.
    The matrix keeps the dtype it was saved in (float16 and int8 included; int8 with its
    scales, mapped too).

    Raises FileNotFoundError (no such file) or ValueError naming the file: not a cw2v file, a
    corrupt or truncated one (see ``load_arrays``), or one that holds no word vectors.
    """
    name = input_name(path)
    meta, arrays = load_arrays(path, mmap=mmap)
    try:
        if meta.get("content") in (_VECTORS_CONTENT, _INT8_CONTENT):
            words = _stored_words(arrays["words"], arrays["word_ends"])
            if len(words) != arrays["vectors"].shape[0]:
                raise ValueError("the words do not match the vectors")
            w2i = {w: i for i, w in enumerate(words)}
            if len(w2i) != len(words):
                raise ValueError("duplicate words")
            int8 = meta["content"] == _INT8_CONTENT
            if int8 != (arrays["vectors"].dtype == np.int8) or int8 != ("scales" in arrays):
                raise ValueError("int8 vectors need their scales, and only they have scales")
            return Vectors._indexed(words, w2i, arrays["vectors"], arrays.get("scales"))
        if isinstance(meta.get("vocab"), list) and "W_in" in arrays:
            return Vectors(meta["vocab"], arrays["W_in"])
        raise ValueError("the file holds no word vectors")
    except (KeyError, IndexError, TypeError, ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{name}: not a valid cw2v vectors file: {exc}") from None


def _stored_words(blob: np.ndarray, ends: np.ndarray) -> list[str]:
    """The words of a vectors file: UTF-8 bytes one after another, ``ends`` where each ends."""
    blob = np.asarray(blob, dtype=np.uint8).reshape(-1)
    ends = np.asarray(ends, dtype=np.int64).reshape(-1)
    if ends.size == 0 or ends[-1] != blob.size or np.any(np.diff(ends, prepend=0) < 0):
        raise ValueError("the word offsets do not match the words")
    if not np.any(blob == ord("\n")):
        # One decode and one split, with no Python int per word: put a b"\n" after each word.
        joined = np.insert(blob, ends[:-1], ord("\n")).tobytes()
        words = joined.decode("utf-8").split("\n")
        if len(words) == ends.size:
            return words
    data = blob.tobytes()
    starts = [0, *ends[:-1].tolist()]
    return [data[a:b].decode("utf-8") for a, b in zip(starts, ends.tolist())]


# -- any vectors file, its format told by content -----------------------------------------------------------------------------

_SNIFF_LIMIT = 1 << 24  # never read more than 16 MiB to recognise a file
_TEXT_BYTES = ASCII_WHITESPACE + bytes(range(0x20, 0x7F))


def _looks_like_text_record(body: bytes, dim: int) -> bool:
    """Whether the first line of ``body`` is a text record: a word and ``dim`` numbers."""
    fields = body.lstrip(b"\r\n").split(b"\n", 1)[0].split()
    if len(fields) != dim + 1:
        return False
    try:
        for field in fields[1:]:
            float(field)
    except ValueError:
        return False
    return True


def _is_text(data: bytes) -> bool:
    """Whether ``data`` could be part of a text file: UTF-8 (a character cut at the end allowed)
    whose ASCII characters are printable or whitespace."""
    if data.translate(None, _TEXT_BYTES + bytes(range(0x80, 0x100))):
        return False  # an ASCII control character
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(data) - 3 and exc.reason == "unexpected end of data"
    return True


def _looks_like_binary_records(body: bytes, dim: int, records: int) -> bool:
    """Whether ``body`` starts with up to ``records`` binary records -- a word without
    whitespace, a space, ``4 dim`` bytes -- whose vector bytes are not text. A record cut short
    by the end of ``body`` counts (a truncated file is still binary; its reader says so)."""
    pos = 0
    for _ in range(records):
        while pos < len(body) and body[pos] in b"\r\n":
            pos += 1
        space = body.find(b" ", pos)
        if space <= pos or any(c in ASCII_WHITESPACE for c in body[pos:space]):
            return False
        end = space + 1 + 4 * dim
        if not _is_text(body[space + 1:end]):
            return True
        if end >= len(body):
            return False
        pos = end
    return False


def detect_format(path: InputLike) -> str:
    """Which kind of vectors file ``path`` is: ``"cw2v"``, ``"fasttext"``, ``"text"`` or
    ``"binary"``.

    A native cw2v model starts with ``cw2v.io.MAGIC``, a fastText model (``.bin``) with
    fastText's magic number (``cw2v.fasttext_io.FASTTEXT_MAGIC``). Otherwise the word2vec header ``V d`` is
    read (from the decompressed stream for ``.gz``/``.bz2``/``.xz``) and the first record looked
    at: a line holding a word and ``d`` numbers is text; records of a word, a space and ``4 d``
    bytes that are not all printable are binary. A file that is neither (a bad header, a corrupt
    first record) is called ``"text"``, so that the text reader's error names the problem.

    Parameters
    ----------
    path : str, os.PathLike or seekable binary file object
        A regular file (a pipe would lose what is read here: ``read_vectors`` reads one into
        memory first), or a file object, which is left where it stood.

    Returns
    -------
    str

    Raises
    ------
    OSError
        The file cannot be read (FileNotFoundError when it does not exist).
    """
    if is_stream(path):
        start = path.tell()  # type: ignore[union-attr]
        try:
            return _detect_format(path)
        finally:
            path.seek(start)  # type: ignore[union-attr]
    return _detect_format(path)


# fastText's magic number as its .bin starts (cw2v.fasttext_io.FASTTEXT_MAGIC, little-endian
# int32; tests/test_fasttext_io.py checks they agree).
_FASTTEXT_SIGNATURE = (793712314).to_bytes(4, "little")


def _detect_format(path: InputLike) -> str:
    try:
        with open_input(path) as f:
            first = f.readline(256)
            if first.startswith(MAGIC) and not decompresses(f):
                return "cw2v"
            if first.startswith(_FASTTEXT_SIGNATURE) and not decompresses(f):
                return "fasttext"
            fields = first.split()
            if len(fields) != 2 or not all(x.isdigit() for x in fields):
                return "text"
            n_words, dim = int(fields[0]), int(fields[1])
            records = min(n_words, 3)
            if records == 0 or dim == 0:
                return "text"
            # Enough for three binary records, or one text line of up to 20 bytes a number.
            body = f.read(min(_SNIFF_LIMIT, records * (20 * dim + 1024)))
    except COMPRESSION_ERRORS as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        return "text"  # corrupt compressed stream: let the reader report it
    if _looks_like_text_record(body, dim):
        return "text"
    if _looks_like_binary_records(body, dim, records):
        return "binary"
    return "text"


def read_vectors(path: InputLike, binary: bool | None = None, *,
                 unicode_errors: str = "strict") -> Vectors:
    """Load word vectors from a word2vec text or binary file, a native vectors file or a model
    (``cw2v.Word2Vec.save``: its ``W_in``), the format told by content (``detect_format``); a
    fastText ``.bin`` is refused, naming ``cw2v.model.load_vectors``, which reads it.

    Parameters
    ----------
    path : str, os.PathLike or binary file object
        The file (word2vec files may be ``.gz``, ``.bz2`` or ``.xz`` compressed); ``"-"`` is
        standard input. What is not a regular file (standard input, a pipe, a FIFO, a file
        object that cannot seek) is read into memory once, then recognised and parsed.
    binary : bool, optional
        True: read a word2vec file as binary, False: as text; None (default): tell by content
        (``detect_format``). A native cw2v model is recognised by its magic bytes regardless.
    unicode_errors : str, default "strict"
        How a word2vec file's undecodable words are handled ("strict" raises; "replace",
        "ignore"), as in ``cw2v.io.load_word2vec_format``.

    Returns
    -------
    cw2v.Vectors
        The vectors (a native model's input vectors).

    Raises
    ------
    OSError, ValueError
        The file is missing, unreadable, or not a valid vectors file (the message names it).
    """
    source = rereadable(path)
    kind = detect_format(source)
    if kind == "cw2v":
        return load_vectors(source)
    if kind == "fasttext":
        raise ValueError(f"{input_name(source)}: a fastText model (.bin), not word2vec vectors: "
                         "read it with cw2v.model.load_vectors or "
                         "cw2v.subword_vectors.SubwordVectors.from_fasttext_bin")
    if binary is None:
        binary = kind == "binary"
    return load_word2vec_format(source, binary=binary, unicode_errors=unicode_errors)


def rereadable(path: InputLike) -> InputLike:
    """``path`` if it can be read twice (a regular file, a seekable file object); else all of it,
    read once into memory (``"-"``: standard input)."""
    if isinstance(path, str) and path == "-":
        return InMemoryInput(read_all(sys.stdin.buffer), "<stdin>")
    if is_stream(path):
        if path.seekable():  # type: ignore[union-attr]
            return path
    elif is_regular_file(path) or not os.path.exists(path):  # type: ignore[arg-type]
        return path  # (a missing file: the reader says so)
    return InMemoryInput(read_all(path), input_name(path))
