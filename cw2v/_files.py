"""Paths and compressed files: the one place that decides how a file is opened.

Reading recognises compression by a file's first bytes (gzip, xz, bzip2); those bytes are then
handed on, so a pipe, a FIFO or a file object such as ``sys.stdin.buffer`` is read once and
whole. Writing compresses by the target's suffix (``.gz``, ``.bz2``, ``.xz``), since the writer
chooses the name.
"""
from __future__ import annotations

import bz2
import codecs
import contextlib
import errno
import functools
import gzip
import io
import lzma
import os
import queue
import stat
import threading
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, BinaryIO, Union

#: What every path argument of cw2v accepts.
PathLike = Union[str, "os.PathLike[str]"]
#: What the readers of files accept: a path, or a binary file object read from where it stands.
InputLike = Union[PathLike, BinaryIO]

_GZIP_MAGIC = b"\x1f\x8b"
_XZ_MAGIC = b"\xfd7zXZ\x00"
# bzip2: "BZh", the block size digit, then a block header (pi) or the end-of-stream mark (sqrt pi).
_BZ2_BLOCK = b"1AY&SY"
_BZ2_EOS = b"\x17rE8P\x90"
_HEAD = 10  # bytes that tell the three formats apart

# gzip at level 6 (zlib's default): level 9, gzip.open's, takes 2.5 times as long for a few per
# cent less
_WRITERS = {".gz": functools.partial(gzip.open, compresslevel=6), ".bz2": bz2.open,
            ".xz": lzma.open}


class NotARegularFileError(OSError):
    """A save's target exists and is not a regular file (a device, a FIFO, a directory...)."""


#: Errors a corrupt or truncated compressed stream raises while it is read (bzip2 says
#: ``OSError("Invalid data stream")``; ``corrupt_stream_reason`` tells them from I/O errors).
COMPRESSION_ERRORS = (EOFError, zlib.error, lzma.LZMAError, gzip.BadGzipFile, OSError)


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


def is_stream(source) -> bool:
    """Whether ``source`` is a file object (it has ``read``) rather than a path."""
    return hasattr(source, "read") and not isinstance(source, (str, bytes, os.PathLike))


def input_name(source: InputLike) -> str:
    """How messages name ``source``: its path, or a file object's ``name`` (``sys.stdin.buffer``
    is ``"<stdin>"``), or ``"<stream>"`` for a file object without one."""
    if not is_stream(source):
        return str(as_path(source))
    name = getattr(source, "name", None)
    if isinstance(name, int):
        return f"<file descriptor {name}>"
    return os.fsdecode(name) if isinstance(name, (str, bytes)) else "<stream>"


def check_binary_stream(stream) -> None:
    """TypeError unless ``stream`` reads bytes (a text stream such as ``sys.stdin`` reads str)."""
    if isinstance(stream, io.TextIOBase):
        raise TypeError(f"{input_name(stream)} is a text stream; pass a binary one "
                        "(sys.stdin.buffer, open(path, 'rb'), io.BytesIO(...))")


def is_regular_file(source: InputLike) -> bool:
    """Whether ``source`` is a path to a regular file (not a pipe, a FIFO, a device, a stream),
    which can be opened more than once and memory-mapped."""
    if is_stream(source):
        return False
    try:
        return stat.S_ISREG(os.stat(as_path(source)).st_mode)
    except OSError:
        return False


class _Chained(io.RawIOBase):
    """A raw reader that serves ``head`` (bytes already read from ``stream``) and then the rest
    of ``stream``; it closes ``stream`` only when it owns it (a file object it was given stays
    open)."""

    def __init__(self, head: bytes, stream: IO[bytes], owned: bool):
        super().__init__()
        self._head = memoryview(head)
        self._stream = stream
        self._owned = owned
        self.name = input_name(stream)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        out = memoryview(buffer).cast("B")
        if self._head:
            n = min(len(out), len(self._head))
            out[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        readinto = getattr(self._stream, "readinto", None)
        if readinto is not None:
            return readinto(out) or 0
        data = self._stream.read(len(out)) or b""
        out[:len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed and self._owned:
            self._stream.close()
        super().close()


def _read_head(stream: IO[bytes], n: int) -> bytes:
    """The first ``n`` bytes of ``stream`` (fewer only at its end), read whole: a pipe may hand
    them over a few at a time."""
    head = b""
    while len(head) < n:
        chunk = stream.read(n - len(head))
        if not chunk:
            break
        head += chunk
    return head


def is_url(source) -> bool:
    """Whether ``source`` is a URL (``s3://``, ``gs://``, ``https://``, ``memory://``...) that
    fsspec reads, rather than a local path (``file://`` URLs are URLs too)."""
    return isinstance(source, str) and "://" in source and source.split("://")[0].isidentifier()


def fsspec_module():
    """The fsspec module, or ImportError saying how to install it."""
    try:
        import fsspec
    except ImportError:
        raise ImportError("reading URLs needs fsspec: pip install 'cw2v[remote]' (or fsspec "
                          "and the file system's package, e.g. s3fs)") from None
    return fsspec


def expand_url(url: str) -> list[str]:
    """The files a URL names: itself, the files of a folder (sorted), or a glob's matches
    (sorted); FileNotFoundError if none."""
    fs, _, paths = fsspec_module().core.get_fs_token_paths(url)
    files: list[str] = []
    for path in paths:
        if fs.isdir(path):
            files += sorted(p for p in fs.ls(path, detail=False) if fs.isfile(p))
        elif fs.exists(path):
            files.append(path)
    if not files:
        raise FileNotFoundError(errno.ENOENT, "no corpus file at this URL", url)
    return [fs.unstrip_protocol(p) for p in files]


def _open_raw(source: InputLike) -> IO[bytes]:
    """``source`` as a buffered binary reader whose first ``_HEAD`` bytes ``peek`` shows: a
    regular file as it is; a pipe, a FIFO, a URL (fsspec) or a file object (from where it
    stands) behind a reader that replays the bytes already taken from it (a file object is
    never closed)."""
    local = True
    if is_stream(source):
        check_binary_stream(source)
        stream, owned = source, False
    elif is_url(source):
        stream, owned, local = fsspec_module().open(source, "rb").open(), True, False
    else:
        stream, owned = open(as_path(source), "rb"), True  # noqa: SIM115 -- returned
    try:
        if owned and local and stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
            return stream  # a regular file's read gives every byte asked for: peek suffices
        head = _read_head(stream, _HEAD)
        return io.BufferedReader(_Chained(head, stream, owned))
    except BaseException:
        if owned:
            stream.close()
        raise


def open_input(source: InputLike) -> IO[bytes]:
    """``source`` opened for binary reading, decompressed when its first bytes say it is
    compressed.

    ``source`` is a path -- a regular file, a pipe, a FIFO, a device such as /dev/stdin -- or a
    binary file object (``sys.stdin.buffer``, ``io.BytesIO``...), read from where it stands and
    left open when the reader is closed. Every byte is read once: the first ones are looked at,
    then handed on.
    """
    raw = _open_raw(source)
    try:
        kind = compression(raw.peek(_HEAD)[:_HEAD])  # type: ignore[attr-defined]
    except BaseException:
        raw.close()
        raise
    if kind is None:
        return raw
    reader = _READERS[kind](raw)
    reader._source = raw  # type: ignore[attr-defined,union-attr]
    return reader  # type: ignore[return-value]


def regular_file_descriptor(f: IO[bytes]) -> int | None:
    """The descriptor of the regular file that ``f`` (from ``open_input``) reads uncompressed,
    or None (compressed, a pipe, a file object): whether ``f``'s file can be memory-mapped."""
    if not isinstance(f, io.BufferedReader) or not isinstance(f.raw, io.FileIO):
        return None
    fd = f.fileno()
    return fd if stat.S_ISREG(os.fstat(fd).st_mode) else None


def read_all(source: InputLike) -> bytes:
    """All the bytes of ``source`` (a path or a binary file object, read from where it stands
    and left open), as stored: nothing is decompressed."""
    if is_stream(source):
        check_binary_stream(source)
        return source.read()  # type: ignore[union-attr]
    with open(as_path(source), "rb") as f:
        return f.read()


def decompresses(f: IO[bytes]) -> bool:
    """Whether ``f`` (from ``open_input``) decompresses what it reads."""
    return isinstance(f, _ClosesSource)


def is_compressed(path: InputLike) -> bool:
    """Whether ``path`` starts like a gzip, xz or bzip2 stream."""
    with open_input(path) as f:
        return decompresses(f)


def corrupt_stream_reason(exc: BaseException) -> str | None:
    """What a decompressor's exception says about its data (``"truncated compressed data
    (...)"`` or ``"corrupt compressed data (...)"``), or None when ``exc`` is an error of the file
    itself (a missing file, a permission, a disk error: an ``OSError`` with an errno), to be
    raised as it is."""
    if isinstance(exc, OSError) and exc.errno is not None:
        return None
    if isinstance(exc, EOFError):
        return f"truncated compressed data ({exc})"
    if isinstance(exc, COMPRESSION_ERRORS):
        return f"corrupt compressed data ({exc})"
    return None


def check_text_encoding(encoding: str, errors: str = "strict") -> None:
    """LookupError unless ``encoding`` names a codec that decodes bytes to text (``"rot13"`` and
    ``"hex"`` do not) and ``errors`` an error handler."""
    info = codecs.lookup(encoding)
    if not getattr(info, "_is_text_encoding", True):
        raise LookupError(f"{encoding!r} is not a text encoding")
    codecs.lookup_error(errors)


class InMemoryInput(io.BytesIO):
    """Bytes read once from a pipe, a FIFO or standard input, as a seekable binary file object
    named for messages (``name``)."""

    def __init__(self, data: bytes, name: str):
        super().__init__(data)
        self.name = name


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


def check_output(path: PathLike, what: str = "output") -> Path:
    """Check, before any work, that a command can write ``path``: not a directory nor another
    file that is not regular (``check_save_target``), in a folder that exists and is writable.
    ``what`` names the output in the messages (``"output"``, ``"checkpoint"``...). Returns where
    the save will write (a symbolic link's target)."""
    target = as_path(path)
    if target.is_dir():
        raise IsADirectoryError(f"{target}: {what} is a directory, not a regular file")
    real = check_save_target(target)
    parent = real.parent
    if not parent.is_dir():
        raise FileNotFoundError(f"{target}: {what} directory {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise PermissionError(f"{target}: {what} directory {parent} is not writable")
    return real


def _same_file(a: str, b: str) -> bool:
    """Whether paths ``a`` and ``b`` name one file: ``os.path.samefile`` when both exist (hard
    and symbolic links included), else the same resolved path."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def check_distinct(outputs, inputs=()) -> None:
    """ValueError, before any work, if a file a command writes is one it reads, or two of its
    outputs are the same file.

    ``outputs`` and ``inputs`` are ``(label, path)`` pairs (the label names the option or the
    role in the message: ``"-o"``, ``"corpus file"``); a pair whose path is None, a file object,
    ``"-"`` or a URL is skipped.
    """
    def local(pairs):
        return [(label, os.fspath(p)) for label, p in pairs
                if p is not None and not is_stream(p) and not is_url(p)
                and os.fspath(p) not in ("-", b"-")]

    outs, ins = local(outputs), local(inputs)
    for i, (label, path) in enumerate(outs):
        for in_label, in_path in ins:
            if _same_file(path, in_path):
                raise ValueError(f"{path}: {label} would overwrite the {in_label} {in_path}; "
                                 "write it to another file")
        for other_label, other in outs[:i]:
            if _same_file(path, other):
                raise ValueError(f"{path}: {label} and {other_label} name the same file "
                                 f"({other}); give each its own")


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
    try:
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=_temp_prefix(target),
                                        suffix=_TMP_SUFFIX)
    except OSError as exc:  # (names the temporary file, which the user never asked for)
        raise OSError(exc.errno, exc.strerror, str(target)) from exc
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
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        if isinstance(exc, OSError) and exc.errno is not None \
                and exc.filename in (None, tmp_name):
            # A write error (ENOSPC, EIO...) names no file, or the temporary one: name the target.
            raise OSError(exc.errno, exc.strerror or os.strerror(exc.errno),
                          str(target)) from exc
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


class ReadAhead:
    """Blocks of ``f`` read on a thread, up to ``depth`` blocks ahead of the reader.

    The decompressors (zlib, lzma, bz2) and pipe reads release the GIL, so a reader that itself
    releases it (the compiled tokenizer) runs beside the decompression: the text of an .xz file
    costs the slower of the two, not their sum. ``read(n)`` returns up to ``n`` bytes (``b""`` at
    the end) and raises, at the same point of the stream, what reading ``f`` raised. Use it as a
    context manager: leaving stops the thread (``f`` stays open: its owner closes it).
    """

    def __init__(self, f: IO[bytes], block: int, depth: int = 4):
        self._queue: queue.Queue = queue.Queue(depth)
        self._stop = threading.Event()
        self._pending = b""
        self._done = False
        self._thread = threading.Thread(target=self._fill, args=(f, block), daemon=True,
                                        name="cw2v-read-ahead")
        self._thread.start()

    def _fill(self, f: IO[bytes], block: int) -> None:
        try:
            while not self._stop.is_set():
                data = f.read(block)
                self._put(data)
                if not data:
                    return
        except BaseException as exc:  # handed to the reader, raised there
            self._put(exc)

    def _put(self, item) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes (``n`` > 0); ``b""`` at the end of the stream."""
        if not self._pending and not self._done:
            item = self._queue.get()
            if isinstance(item, BaseException):
                self._done = True
                raise item
            self._pending = item
            self._done = not item
        out, self._pending = self._pending[:n], self._pending[n:]
        return out

    def close(self) -> None:
        """Stop the thread (it finishes the block it is reading)."""
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
