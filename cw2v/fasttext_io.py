"""fastText's model files: ``.bin`` both ways (fastText 0.9's format) and ``.vec``.

A ``.bin`` is what fastText's ``FastText::saveModel`` writes (``src/fasttext.cc``,
``src/args.cc``, ``src/dictionary.cc``, ``src/densematrix.cc``), all little-endian::

    int32 magic 793712314, int32 version 12
    args: int32 dim, ws, epoch, minCount, neg, wordNgrams, loss (1 hs, 2 ns, 3 softmax, 4 ova),
          model (1 cbow, 2 sg, 3 sup), bucket, minn, maxn, lrUpdateRate; float64 t
    dictionary: int32 size, nwords, nlabels; int64 ntokens; int64 pruneidx_size (-1: none)
          size entries: the word's bytes, a 0 byte, int64 count, int8 type (0 word, 1 label)
          pruneidx_size pairs of int32 (only in pruned, quantised models)
    bool quant_input (0), then the input matrix: int64 m = nwords + bucket, int64 n = dim,
          m * n float32, row-major
    bool qout (0), then the output matrix: int64 m = nwords, int64 n = dim, m * n float32

``read_fasttext_bin`` reads word-vector models (``cbow``/``sg``, unquantised), the layout of
the published ``cc.*.300.bin`` files too; it checks every size against the file's length before
it allocates anything, and can map the input matrix instead of reading it. ``write_fasttext_bin``
writes what ``fasttext.load_model`` and gensim's ``load_facebook_model`` read. Every error about
a file's content is a ``FastTextFormatError`` (a ``ValueError``) whose message starts with the
file's name.
"""
from __future__ import annotations

import dataclasses
import io as _io
import mmap as _mmap
import os
import stat
import struct
from typing import Any, BinaryIO

import numpy as np

from ._files import InputLike, PathLike, as_path, atomic_writer, input_name, is_stream, read_all
from .io import save_word2vec_format
from .vectors import Vectors

__all__ = ["FastTextFile", "FastTextFormatError", "read_fasttext_bin", "write_fasttext_bin",
           "write_vec", "DEFAULT_ARGS", "FASTTEXT_MAGIC", "FASTTEXT_VERSION"]

FASTTEXT_MAGIC = 793712314  # FASTTEXT_FILEFORMAT_MAGIC_INT32 (src/fasttext.cc)
FASTTEXT_VERSION = 12  # FASTTEXT_VERSION: what fastText 0.9 writes
_READABLE_VERSIONS = (11, 12)  # 11 has the same layout (fastText 0.9 reads it too)

LOSSES = {1: "hs", 2: "ns", 3: "softmax", 4: "ova"}  # enum class loss_name (src/args.h)
MODELS = {1: "cbow", 2: "sg", 3: "sup"}  # enum class model_name
_LOSS_IDS = {v: k for k, v in LOSSES.items()}
_MODEL_IDS = {v: k for k, v in MODELS.items()}

_SIGNATURE = struct.Struct("<ii")
_INT_ARGS = ("dim", "ws", "epoch", "minCount", "neg", "wordNgrams", "loss", "model", "bucket",
             "minn", "maxn", "lrUpdateRate")
_ARGS = struct.Struct("<12id")  # the twelve int32 of Args::save, then the float64 t
_DICT_HEAD = struct.Struct("<iiiqq")  # size, nwords, nlabels, ntokens, pruneidx_size
_ENTRY_TAIL = struct.Struct("<qb")  # count, entry type, after the word's 0 byte
_MATRIX_HEAD = struct.Struct("<qq")  # rows, columns
_FLOAT = 4

#: fastText's defaults for unsupervised training (``fasttext skipgram``); what
#: ``FastTextFile`` fills in for an ``args`` key it is not given.
DEFAULT_ARGS: dict[str, Any] = {
    "dim": 100, "ws": 5, "epoch": 5, "minCount": 5, "neg": 5, "wordNgrams": 1, "loss": "ns",
    "model": "sg", "bucket": 2_000_000, "minn": 3, "maxn": 6, "lrUpdateRate": 100, "t": 1e-4,
    "ntokens": 0,
}


class FastTextFormatError(ValueError):
    """A file that is not a fastText word-vector model cw2v can read: foreign, corrupt,
    truncated, quantised or supervised. The message starts with the file's name (``path``)."""

    def __init__(self, path: str, message: str):
        self.path = path
        super().__init__(f"{path}: {message}")


@dataclasses.dataclass
class FastTextFile:
    """The content of a fastText ``.bin`` word-vector model.

    Attributes
    ----------
    args : dict
        fastText's names: ``dim``, ``ws``, ``epoch``, ``minCount``, ``neg``, ``wordNgrams``,
        ``loss`` (``"ns"``, ``"hs"``, ``"softmax"``, ``"ova"``), ``model`` (``"cbow"``,
        ``"sg"``, ``"sup"``), ``bucket``, ``minn``, ``maxn``, ``lrUpdateRate``, ``t``, and the
        dictionary's ``ntokens``. Keys not given take ``DEFAULT_ARGS``' values, except ``dim``
        and ``bucket``, which default to what the input matrix's shape says.
    words : list of str
        The dictionary, in its order (fastText's: by count, descending); invalid UTF-8 in a
        file's words is kept as surrogate escapes, so it is written back byte for byte.
    counts : int64 array (nwords,)
    input_matrix : float32 array (nwords + bucket, dim)
        The words' rows, then the n-gram buckets' rows (possibly a read-only ``np.memmap``).
    output_matrix : float32 array (nwords, dim)
    """

    args: dict
    words: list
    counts: np.ndarray
    input_matrix: np.ndarray
    output_matrix: np.ndarray

    def __post_init__(self) -> None:
        self.words = list(self.words)
        nwords = len(self.words)
        self.counts = np.asarray(self.counts, dtype=np.int64).reshape(-1)
        if not isinstance(self.input_matrix, np.ndarray):
            self.input_matrix = np.asarray(self.input_matrix, dtype=np.float32)
        if not isinstance(self.output_matrix, np.ndarray):
            self.output_matrix = np.asarray(self.output_matrix, dtype=np.float32)
        if self.input_matrix.ndim != 2 or self.output_matrix.ndim != 2:
            raise ValueError("input_matrix and output_matrix must be 2-D")
        rows, dim = self.input_matrix.shape
        args = dict(DEFAULT_ARGS, dim=dim, bucket=rows - nwords)
        args.update(self.args)
        self.args = args
        if self.counts.shape != (nwords,):
            raise ValueError(f"counts has shape {self.counts.shape} for {nwords} words")
        if args["dim"] != dim or args["bucket"] != rows - nwords:
            raise ValueError(f"input_matrix has shape {self.input_matrix.shape}; dim="
                             f"{args['dim']} and {nwords} words + bucket={args['bucket']} "
                             f"need ({nwords + args['bucket']}, {args['dim']})")
        if self.output_matrix.shape != (nwords, dim):
            raise ValueError(f"output_matrix has shape {self.output_matrix.shape}, expected "
                             f"({nwords}, {dim}) (one row a word)")
        if args["loss"] not in _LOSS_IDS:
            raise ValueError(f"args['loss'] must be one of {sorted(_LOSS_IDS)}, "
                             f"got {args['loss']!r}")
        if args["model"] not in _MODEL_IDS:
            raise ValueError(f"args['model'] must be one of {sorted(_MODEL_IDS)}, "
                             f"got {args['model']!r}")

    @property
    def nwords(self) -> int:
        """The number of words in the dictionary."""
        return len(self.words)

    @property
    def dim(self) -> int:
        """The vectors' dimension."""
        return int(self.input_matrix.shape[1])


# -- reading ----------------------------------------------------------------------------------


class _Buffer:
    """The bytes of a file: a regular file (descriptor ``fd``) mapped, nothing read until looked
    at; else the ``io.BytesIO`` that ``_open_bin`` made, its bytes shared, not copied."""

    def __init__(self, f: BinaryIO, size: int, fd: int | None):
        if fd is not None and size > 0:
            self.data: Any = _mmap.mmap(fd, 0, access=_mmap.ACCESS_READ)
        else:
            self.data = f.getvalue() if fd is None else b""  # type: ignore[attr-defined]

    def close(self) -> None:
        if isinstance(self.data, _mmap.mmap):
            self.data.close()


def _open_bin(source: InputLike, name: str, mmap: bool) -> tuple[BinaryIO, int | None]:
    """``source`` opened: a regular file (with its descriptor), or anything else (a pipe, a
    file object) as its bytes in memory (descriptor None; refused when ``mmap`` asks to map)."""
    if is_stream(source):
        data = read_all(source)
    else:
        f = open(as_path(source), "rb")  # noqa: SIM115 -- returned
        if stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            return f, f.fileno()
        with f:
            data = f.read()
    if mmap:
        raise ValueError(f"{name}: only a regular file can be memory-mapped; load it with "
                         "mmap=False")
    return _io.BytesIO(data), None


def read_fasttext_bin(path: InputLike, mmap: bool = False) -> FastTextFile:
    """Read a fastText ``.bin`` word-vector model (fastText 0.9's format, version 11 or 12).

    Parameters
    ----------
    path : str, os.PathLike or binary file object
        The file (a file object is read from where it stands, whole, and left open).
    mmap : bool, default False
        True maps the input matrix (``nwords + bucket`` rows, most of the file) read-only with
        ``np.memmap`` instead of reading it: loading costs the dictionary, and pages are read
        when rows are used. Only a regular file can be mapped.

    Returns
    -------
    FastTextFile

    Raises
    ------
    FileNotFoundError
        No such file.
    FastTextFormatError (a ValueError)
        Naming the file: bad magic (not a fastText 0.9 model), an unknown version, a
        quantised model (``.ftz``), a supervised model (labels), a pruned dictionary,
        a truncated file, sizes that do not match the file's length (checked before any
        allocation), trailing bytes, or a corrupt dictionary.
    """
    name = input_name(path)
    f, fd = _open_bin(path, name, mmap)
    with f:
        size = f.seek(0, os.SEEK_END)
        f.seek(0)
        buf = _Buffer(f, size, fd)
        try:
            ft, input_at, output_at = _parse(buf.data, size, name)
            input_shape = (ft["nwords"] + ft["args"]["bucket"], ft["args"]["dim"])
            if mmap:
                input_matrix = np.memmap(f, dtype="<f4", mode="r", offset=input_at,
                                         shape=input_shape)
            else:
                input_matrix = _read_matrix(f, input_at, input_shape, name)
            output_matrix = _read_matrix(f, output_at, (ft["nwords"], ft["args"]["dim"]), name)
        finally:
            buf.close()
    return FastTextFile(ft["args"], ft["words"], ft["counts"], input_matrix, output_matrix)


def _read_matrix(f: BinaryIO, offset: int, shape: tuple[int, int], name: str) -> np.ndarray:
    """The float32 matrix of ``shape`` at ``offset`` (the caller checked that it fits)."""
    out = np.empty(shape, dtype="<f4")
    f.seek(offset)
    view = memoryview(out.reshape(-1).view(np.uint8))
    got = 0
    while got < len(view):
        n = f.readinto(view[got:got + (1 << 26)])  # type: ignore[attr-defined]
        if not n:
            raise FastTextFormatError(name, "truncated (the file shrank while it was read)")
        got += n
    return out.astype(np.float32, copy=False)


def _parse(data, size: int, name: str) -> tuple[dict, int, int]:
    """Everything of a ``.bin`` but the matrices' values: the args, the dictionary, and where
    the input and output matrices' values start. Checks each size against ``size`` first."""
    def need(pos: int, n: int, what: str) -> None:
        if pos + n > size:
            raise FastTextFormatError(name, f"truncated in {what} (needs bytes {pos}..{pos + n}"
                                            f", the file has {size})")

    if size < _SIGNATURE.size:
        raise FastTextFormatError(name, f"not a fastText model (only {size} bytes)")
    magic, version = _SIGNATURE.unpack_from(data, 0)
    if magic != FASTTEXT_MAGIC:
        raise FastTextFormatError(name, f"not a fastText model (bad magic {magic}, expected "
                                        f"{FASTTEXT_MAGIC}; fastText before 0.2 wrote none)")
    if version not in _READABLE_VERSIONS:
        raise FastTextFormatError(name, f"fastText file format version {version} is not "
                                        f"supported (cw2v reads 11 and 12)")
    pos = _SIGNATURE.size
    need(pos, _ARGS.size, "the args")
    values = _ARGS.unpack_from(data, pos)
    pos += _ARGS.size
    args: dict[str, Any] = dict(zip(_INT_ARGS, values[:12]))
    args["t"] = values[12]
    if args["loss"] not in LOSSES or args["model"] not in MODELS:
        raise FastTextFormatError(name, f"corrupt args (loss {args['loss']}, model "
                                        f"{args['model']}: unknown)")
    args["loss"], args["model"] = LOSSES[args["loss"]], MODELS[args["model"]]
    if args["model"] == "sup":
        raise FastTextFormatError(name, "a supervised (classification) model; cw2v reads "
                                        "word-vector models (skipgram, cbow)")
    if args["dim"] <= 0 or args["bucket"] < 0 or args["minn"] < 0 or args["maxn"] < 0:
        raise FastTextFormatError(name, f"corrupt args (dim {args['dim']}, bucket "
                                        f"{args['bucket']}, minn {args['minn']}, maxn "
                                        f"{args['maxn']})")
    need(pos, _DICT_HEAD.size, "the dictionary's header")
    nentries, nwords, nlabels, ntokens, prune_size = _DICT_HEAD.unpack_from(data, pos)
    pos += _DICT_HEAD.size
    args["ntokens"] = ntokens
    if nlabels > 0:
        raise FastTextFormatError(name, f"a supervised model ({nlabels} labels); cw2v reads "
                                        "word-vector models (skipgram, cbow)")
    if nentries < 0 or nwords != nentries or nlabels < 0:
        raise FastTextFormatError(name, f"corrupt dictionary header ({nentries} entries, "
                                        f"{nwords} words, {nlabels} labels)")
    # Each entry takes at least 10 bytes (an empty word's 0 byte, the count, the type).
    need(pos, nentries * (1 + _ENTRY_TAIL.size), f"the dictionary of {nentries} words")
    words, counts, pos = _parse_words(data, pos, nentries, size, name)
    if prune_size > 0:
        need(pos, 8 * prune_size, "the pruned dictionary's index")
        pos += 8 * prune_size
    need(pos, 1, "the quantisation flag")
    if data[pos] != 0:
        raise FastTextFormatError(name, "a quantised model (.ftz, from fasttext quantize); "
                                        "cw2v reads unquantised .bin models only")
    if prune_size > 0:
        raise FastTextFormatError(name, "a pruned dictionary in an unquantised model "
                                        "(fastText refuses it too)")
    pos += 1
    input_at = _check_matrix(data, pos, (nwords + args["bucket"], args["dim"]), size, name,
                             "input matrix")
    pos = input_at + _FLOAT * (nwords + args["bucket"]) * args["dim"]
    need(pos, 1, "the output quantisation flag")
    if data[pos] != 0:
        raise FastTextFormatError(name, "a quantised output matrix; cw2v reads unquantised "
                                        ".bin models only")
    output_at = _check_matrix(data, pos + 1, (nwords, args["dim"]), size, name, "output matrix")
    end = output_at + _FLOAT * nwords * args["dim"]
    if end != size:
        raise FastTextFormatError(name, f"{size - end} bytes after the output matrix (the "
                                        f"model ends at byte {end}); not a fastText model, or "
                                        "corrupt")
    return {"args": args, "words": words, "counts": counts, "nwords": nwords}, input_at, output_at


def _parse_words(data, pos: int, n: int, size: int, name: str) -> tuple[list, np.ndarray, int]:
    """``n`` dictionary entries from ``pos``: the words (UTF-8, invalid bytes as surrogate
    escapes), their counts, and where the entries end."""
    words: list[str] = []
    counts = np.empty(n, dtype=np.int64)
    find, unpack = data.find, _ENTRY_TAIL.unpack_from
    for i in range(n):
        end = find(b"\0", pos)
        if end < 0 or end + 1 + _ENTRY_TAIL.size > size:
            raise FastTextFormatError(name, f"truncated in the dictionary (entry {i + 1} of {n})")
        count, kind = unpack(data, end + 1)
        if kind != 0:
            raise FastTextFormatError(name, f"corrupt dictionary: entry {i + 1} has type {kind} "
                                            "(0 is a word, 1 a label)")
        words.append(bytes(data[pos:end]).decode("utf-8", "surrogateescape"))
        counts[i] = count
        pos = end + 1 + _ENTRY_TAIL.size
    if len(set(words)) != n:
        raise FastTextFormatError(name, "corrupt dictionary: a word appears twice")
    return words, counts, pos


def _check_matrix(data, pos: int, shape: tuple[int, int], size: int, name: str,
                  what: str) -> int:
    """Check the matrix header at ``pos`` says ``shape`` and that its values fit the file;
    returns where they start."""
    if pos + _MATRIX_HEAD.size > size:
        raise FastTextFormatError(name, f"truncated before the {what}")
    rows, cols = _MATRIX_HEAD.unpack_from(data, pos)
    if (rows, cols) != shape:
        raise FastTextFormatError(name, f"the {what} is {rows} x {cols}; the args and the "
                                        f"dictionary say {shape[0]} x {shape[1]}")
    start = pos + _MATRIX_HEAD.size
    if start + _FLOAT * rows * cols > size:
        raise FastTextFormatError(name, f"truncated in the {what} ({rows} x {cols} float32 "
                                        f"need bytes {start}..{start + _FLOAT * rows * cols}, "
                                        f"the file has {size})")
    return start


# -- writing ----------------------------------------------------------------------------------


def _check_for_writing(ft: FastTextFile) -> None:
    """ValueError for what fastText could not read back (checked before anything is written)."""
    a = ft.args
    for key in _INT_ARGS:
        if key not in ("loss", "model") and not -2**31 <= int(a[key]) < 2**31:
            raise ValueError(f"args[{key!r}] = {a[key]} does not fit fastText's int32")
    if a["minn"] < 0 or a["maxn"] < 0:
        raise ValueError(f"minn and maxn must be >= 0, got {a['minn']} and {a['maxn']}")
    if a["bucket"] == 0 and a["maxn"] >= max(a["minn"], 1):
        raise ValueError("bucket=0 with n-grams on (maxn >= minn): fastText would divide by "
                         "zero; set maxn=0 to turn n-grams off")
    if a["model"] == "sup":
        raise ValueError("cw2v writes word-vector models (model 'sg' or 'cbow'), not 'sup'")
    if len(set(ft.words)) != ft.nwords:
        raise ValueError("words has duplicates")
    for word in ft.words:
        if not isinstance(word, str) or "\0" in word:
            raise ValueError(f"word {word!r} cannot be stored (fastText's words are strings "
                             "ended by a 0 byte)")


def write_fasttext_bin(path: PathLike, ft: FastTextFile) -> None:
    """Write ``ft`` as a fastText 0.9 ``.bin`` (version 12) that ``fasttext.load_model`` and
    gensim's ``load_facebook_model`` read; the file is replaced atomically.

    Raises ValueError, before anything is written, for what fastText could not read back: a
    supervised model, duplicate words, a word holding a 0 byte, ``bucket=0`` with n-grams on,
    a value beyond int32.
    """
    _check_for_writing(ft)
    a = ft.args
    ints = [int(a[k]) for k in _INT_ARGS if k not in ("loss", "model")]
    ints[6:6] = [_LOSS_IDS[a["loss"]], _MODEL_IDS[a["model"]]]
    with atomic_writer(path) as out:
        out.write(_SIGNATURE.pack(FASTTEXT_MAGIC, FASTTEXT_VERSION))
        out.write(_ARGS.pack(*ints, float(a["t"])))
        out.write(_DICT_HEAD.pack(ft.nwords, ft.nwords, 0, int(a["ntokens"]), -1))
        tail = _ENTRY_TAIL.pack
        for start in range(0, ft.nwords, 8192):
            out.write(b"".join(w.encode("utf-8", "surrogateescape") + b"\0" + tail(int(c), 0)
                               for w, c in zip(ft.words[start:start + 8192],
                                               ft.counts[start:start + 8192].tolist())))
        for matrix in (ft.input_matrix, ft.output_matrix):
            out.write(b"\0")  # quant_input, then qout: false
            out.write(_MATRIX_HEAD.pack(*matrix.shape))
            step = max(1, (1 << 24) // (4 * max(matrix.shape[1], 1)))
            for start in range(0, matrix.shape[0], step):
                out.write(np.ascontiguousarray(matrix[start:start + step], dtype="<f4").data)


def write_vec(path: PathLike, words, vectors) -> None:
    """Write fastText's ``.vec``: word2vec's text format (a ``"<count> <dim>"`` line, then
    ``word v1 ... vd`` per word), values with 9 significant digits so float32 reads back exactly;
    replaced atomically. ``cw2v.load_word2vec_format`` and gensim read it."""

    save_word2vec_format(Vectors(list(words), vectors), path)
