"""Paths and compressed files: the one place that decides how a file is opened.

Reading recognises compression by a file's first bytes (gzip, xz, bzip2), peeked through a buffer,
so nothing is consumed and a pipe or a FIFO reads whole. Writing compresses by the target's suffix
(``.gz``, ``.bz2``, ``.xz``), since the writer chooses the name.
"""
from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
from pathlib import Path
from typing import IO, Union

#: What every path argument of cw2v accepts.
PathLike = Union[str, "os.PathLike[str]"]

_GZIP_MAGIC = b"\x1f\x8b"
_XZ_MAGIC = b"\xfd7zXZ\x00"
# bzip2: "BZh", the block size digit, then a block header (pi) or the end-of-stream mark (sqrt pi).
_BZ2_BLOCK = b"1AY&SY"
_BZ2_EOS = b"\x17rE8P\x90"
_HEAD = 10  # bytes that tell the three formats apart

_WRITERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}

#: Errors a corrupt or truncated compressed stream raises while it is read.
COMPRESSION_ERRORS = (EOFError, lzma.LZMAError, gzip.BadGzipFile, OSError)


def as_path(path: PathLike) -> Path:
    """``path`` (str, bytes or os.PathLike) as a ``Path``; TypeError for anything else."""
    try:
        return Path(os.fsdecode(os.fspath(path)))
    except TypeError:
        raise TypeError(f"path must be str or os.PathLike, got {type(path).__name__}") from None


def compression(head: bytes) -> str | None:
    """``"gzip"``, ``"xz"``, ``"bzip2"`` or None (plain), from a stream's first bytes."""
    if head.startswith(_GZIP_MAGIC):
        return "gzip"
    if head.startswith(_XZ_MAGIC):
        return "xz"
    if head[:3] == b"BZh" and head[3:4].isdigit() and head[4:10] in (_BZ2_BLOCK, _BZ2_EOS):
        return "bzip2"
    return None


class _ClosesSource:
    """Mixin: closing the decompressing reader also closes the file it reads from."""

    _source: IO[bytes] | None = None

    def close(self) -> None:
        try:
            super().close()  # type: ignore[misc]
        finally:
            if self._source is not None:
                self._source.close()


class _GzipReader(_ClosesSource, gzip.GzipFile):
    pass


class _XzReader(_ClosesSource, lzma.LZMAFile):
    pass


class _Bz2Reader(_ClosesSource, bz2.BZ2File):
    pass


_READERS = {
    "gzip": lambda raw: _GzipReader(fileobj=raw, mode="rb"),
    "xz": lambda raw: _XzReader(raw, "rb"),
    "bzip2": lambda raw: _Bz2Reader(raw, "rb"),
}


def _peek(stream: io.BufferedReader, n: int) -> bytes:
    """Up to ``n`` first bytes of ``stream`` without consuming them (a pipe may give fewer)."""
    return stream.peek(n)[:n]


def open_input(path: PathLike) -> IO[bytes]:
    """``path`` opened for binary reading, decompressed when its first bytes say it is compressed.

    Works on regular files, pipes and FIFOs alike: the first bytes are peeked, not read.
    """
    raw = open(as_path(path), "rb")  # noqa: SIM115 -- handed to the caller or the decompressor
    try:
        kind = compression(_peek(raw, _HEAD))
    except BaseException:
        raw.close()
        raise
    if kind is None:
        return raw
    reader = _READERS[kind](raw)
    reader._source = raw  # type: ignore[attr-defined,union-attr]
    return reader  # type: ignore[return-value]


def is_compressed(path: PathLike) -> bool:
    """Whether the file at ``path`` starts like a gzip, xz or bzip2 stream."""
    with open(as_path(path), "rb") as f:
        return compression(_peek(f, _HEAD)) is not None


def writer_for(path: Path):
    """The opener that compresses for ``path``'s suffix (``gzip.open`` ...), or None for plain.

    Each takes a binary file object and a mode: ``writer_for(path)(raw, "wb")``.
    """
    return _WRITERS.get(path.suffix.lower())
