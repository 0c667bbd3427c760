"""Paths and compressed files: the one place that decides how a file is opened.

Reading recognises compression by a file's first bytes (gzip, xz, bzip2), peeked through a buffer,
so nothing is consumed and a pipe or a FIFO reads whole. Writing compresses by the target's suffix
(``.gz``, ``.bz2``, ``.xz``), since the writer chooses the name.
"""
from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import lzma
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, BinaryIO, Union

#: What every path argument of cw2v accepts.
PathLike = Union[str, "os.PathLike[str]"]

_GZIP_MAGIC = b"\x1f\x8b"
_XZ_MAGIC = b"\xfd7zXZ\x00"
# bzip2: "BZh", the block size digit, then a block header (pi) or the end-of-stream mark (sqrt pi).
_BZ2_BLOCK = b"1AY&SY"
_BZ2_EOS = b"\x17rE8P\x90"
_HEAD = 10  # bytes that tell the three formats apart

_WRITERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}

class NotARegularFileError(OSError):
    """A save's target exists and is not a regular file (a device, a FIFO, a directory...)."""


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


def _new_file_mode(path: Path) -> int:
    """Permission bits for a file written at ``path``: the old file's, else 0o666 less umask."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        pass
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def check_save_target(path: PathLike) -> Path:
    """Where a save to ``path`` writes: ``path`` itself, or the file a symbolic link points to.

    Refuses (``NotARegularFileError``) a target that exists and is not a regular file -- a
    directory, a device such as /dev/null, a FIFO, a socket -- so a save never replaces one.
    """
    target = as_path(path)
    if target.is_symlink():
        target = Path(os.path.realpath(target))  # write through the link, keep the link
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return target
    if not stat.S_ISREG(st.st_mode):
        raise NotARegularFileError(f"{target}: not a regular file ({_file_kind(st.st_mode)}); "
                                   "cw2v saves only to regular files or new paths")
    return target


def _file_kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "a special file"


_TMP_SUFFIX = ".tmp"


def _temp_prefix(target: Path) -> str:
    """Temporary files of a save to ``target`` are ``.NAME.PID.RANDOM.tmp`` beside it."""
    return f".{target.name}.{os.getpid()}."


def _remove_leftovers(target: Path) -> None:
    """Remove temporary files that earlier saves to ``target`` left when their process died
    (killed mid-save): ``.NAME.PID.*.tmp`` whose PID is no running process. Files of a save
    still under way (its process alive) are left alone."""
    head = f".{target.name}."
    try:
        names = os.listdir(target.parent)
    except OSError:
        return
    for name in names:
        if not (name.startswith(head) and name.endswith(_TMP_SUFFIX)):
            continue
        pid = name[len(head):].split(".", 1)[0]
        if pid.isdigit() and not _process_alive(int(pid)):
            with contextlib.suppress(OSError):
                os.unlink(target.parent / name)


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists (another user's), or cannot tell: keep its file
    return True


@contextlib.contextmanager
def atomic_writer(path: PathLike) -> Iterator[BinaryIO]:
    """A binary file object whose content replaces ``path`` only once it is fully written.

    The data goes to a temporary file ``.NAME.PID.RANDOM.tmp`` in the same directory, which is
    flushed, fsynced and then renamed over ``path`` with ``os.replace`` (atomic on POSIX and
    Windows). On any exception the temporary file is removed and ``path`` is left as it was; a
    process killed mid-save leaves its temporary file, which the next save to the same target
    removes. A ``.gz``/``.bz2``/``.xz`` suffix compresses the stream. ``path`` must be absent
    or a regular file (a symbolic link is followed: its target is replaced, the link stays);
    anything else raises ``NotARegularFileError`` before anything is written.
    """
    target = check_save_target(path)
    _remove_leftovers(target)
    mode = _new_file_mode(target)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=_temp_prefix(target),
                                    suffix=_TMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as raw:
            opener = writer_for(target)
            if opener is None:
                yield raw
            else:
                with opener(raw, "wb") as packed:
                    yield packed
            raw.flush()
            os.fsync(raw.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_directory(target.parent)


def _fsync_directory(directory: Path) -> None:
    """Make a rename durable (POSIX); a no-op where directories cannot be opened."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def writer_for(path: Path):
    """The opener that compresses for ``path``'s suffix (``gzip.open`` ...), or None for plain.

    Each takes a binary file object and a mode: ``writer_for(path)(raw, "wb")``.
    """
    return _WRITERS.get(path.suffix.lower())
