"""The encoded corpus on disk: built once in bounded memory, read back span by span, reused.

``cw2v.corpus.build(..., cache_dir=DIR)`` (and ``Word2Vec.from_corpus``, which passes the user's
cache folder by default) writes the corpus's word ids to disk instead of holding them in memory,
so that memory does not grow with the corpus's length:

1. While the text is read, each token's *provisional* id (order of first appearance) is appended
   to ``ids.tmp`` and each sentence end to ``ends.tmp`` in a work folder (``SpillBuffer``);
   memory holds the word table and one piece of text.
2. The counts give the vocabulary; ``ids.tmp`` is then mapped to final ids a segment at a time
   into ``tokens.i32`` (int32, little-endian), the sentence ends into ``offsets.i64`` (int64),
   the words and counts into ``vocab.txt`` (``word<TAB>count`` lines, most frequent first), and
   last ``meta.json`` (sizes, the BLAKE2b digest of the ids and offsets, the settings).
3. The work folder is renamed into place, ``DIR/<key>``, in one step: an entry is there whole or
   not at all. A build that fails (a full disk: ``OSError`` ENOSPC saying where) or is
   interrupted removes its work folder; one whose process was killed leaves a ``.work-*``
   folder that the next build in ``DIR`` removes.

Entries of file corpora are **reused**: the key is a digest of the files' absolute paths,
sizes, modification times (``st_mtime_ns``), inode numbers and status-change times
(``st_ctime_ns``: any write, ``touch -r`` or ``chmod`` changes it) and of the vocabulary settings,
so a second ``from_corpus`` on the same files starts training after reading ``vocab.txt`` and
checking ``tokens.i32``, and a changed file makes a new entry. Corpora read from streams or
iterables have no key: their entry is built the same way, opened, and deleted at once (the open
files live until the corpus object is gone).

**Verification.** An entry is reused only if it is whole and what was written: the sizes
``meta.json`` records, ``vocab.txt`` parsing to the recorded number of words, every id in range,
the offsets increasing from 0 to the token count, and the BLAKE2b digest of the ids and offsets
equal to the recorded one (checked before training: a read of 4 bytes a token, 0.2-0.45 s for
wiki8's 17M tokens against 10-16 s for one epoch; docs/training.rst says why). Anything else is a
damaged entry: it is removed and the corpus encoded again, with a warning naming it.

**Entries are recognised** by their name (the 32-hex-digit key), a marker file ``cw2v.entry``
written when the entry's work folder is created, and their files (only the entry's own).
``clear_cache``, ``cw2v cache clear`` and eviction remove only such folders: pointed at a folder
that is not a cw2v cache they remove nothing. An entry in use (opened by a running process: a
shared ``flock`` on its marker while its corpus is alive) is never removed.

**Size bound.** When an entry is published, the least recently used entries (last use: the
marker's modification time, set when the entry is created or reused) are removed until the
cache holds at most ``$CW2V_CACHE_MAX`` bytes (``500M``, ``10G``, ``1.5T``: K/M/G/T suffixes are
powers of 1024; ``unlimited`` turns the bound off; default ``10G``); the new entry stays even
if it alone is larger.

**A cache folder that cannot be written** (a read-only HOME, a full quota at creation) makes
``build`` warn and encode in a temporary folder (``tempfile.gettempdir()``) instead; the entry
is not kept for the next run.

``clear_cache(DIR)`` removes every entry not in use; ``list_entries(DIR)`` describes them
(``cw2v cache list|clear``). The default folder is ``$CW2V_CACHE_DIR``, else
``$XDG_CACHE_HOME/cw2v``, else ``~/.cache/cw2v``.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

try:
    import fcntl
except ImportError:  # pragma: no cover (Windows: no locks, entries in use may be evicted)
    fcntl = None

import numpy as np

from ._files import _process_alive

log = logging.getLogger(__name__)

FORMAT = 2
SEGMENT = 1 << 22  # ids mapped (and counted) at a time: 16 MB of int32
_WORK_PREFIX = ".work-"
#: The file that marks a folder as a cw2v cache entry (or a build's work folder).
MARKER = "cw2v.entry"
_MARKER_TEXT = "cw2v encoded corpus (cw2v.cache); remove with `cw2v cache clear`\n"
_ENTRY_FILES = {MARKER, "meta.json", "vocab.txt", "tokens.i32", "offsets.i64"}
_KEY = re.compile(r"[0-9a-f]{32}\Z")
_WORK_NAME = re.compile(re.escape(_WORK_PREFIX) + r"(\d+)-[a-z0-9_]+\Z")
# the files of a work folder of cw2v before the marker (format 1), and of _prepare's children
_LEGACY_WORK_FILE = re.compile(r"(ids|ends)\.tmp|part\d+(\.[a-z]+)*|segment\d+\.txt|"
                               r"tokens\.i32|offsets\.i64|vocab\.txt|meta\.json")
#: ``$CW2V_CACHE_MAX`` when it is not set.
DEFAULT_MAX = "10G"


def default_cache_dir() -> Path:
    """``$CW2V_CACHE_DIR``, else ``$XDG_CACHE_HOME/cw2v``, else ``~/.cache/cw2v``."""
    env = os.environ.get("CW2V_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "cw2v"


def source_key(paths, settings: Mapping[str, Any]) -> str | None:
    """The cache key of a corpus read from ``paths`` with ``settings``, or None if an input is
    not a regular file (a stream, a pipe: it cannot be recognised again)."""
    described = []
    for p in paths:
        if not isinstance(p, (str, os.PathLike)):
            return None
        try:
            st = os.stat(p)
        except OSError:
            return None
        if not os.path.isfile(p):
            return None
        described.append([os.path.abspath(p), st.st_size, st.st_mtime_ns, st.st_ino,
                          st.st_ctime_ns])
    blob = json.dumps({"format": FORMAT, "files": described, "settings": dict(settings)},
                      sort_keys=True)
    return hashlib.blake2b(blob.encode(), digest_size=16).hexdigest()


class SpillBuffer:
    """Provisional ids and sentence ends appended to files in a work folder (``build``'s
    stand-in for holding them in memory), or taken over as they are from files that workers of
    the parallel pass wrote (``adopt``); ``finish`` writes the entry's files."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.ids = open(workdir / "ids.tmp", "wb")
        self.ends = open(workdir / "ends.tmp", "wb")
        self.size = 0
        self.n_ends = 0
        # (ids file, ends file, tokens, local -> provisional id map or None), in corpus order
        self.parts: list[tuple[Path, Path, int, np.ndarray | None]] = []

    def append(self, ids: np.ndarray, ends: list[int]) -> None:
        """Add one piece's ids (int32); ``ends`` are sentence ends as positions in ``ids``."""
        self.ids.write(np.ascontiguousarray(ids, dtype="<i4").tobytes())
        if ends:
            self.ends.write((np.asarray(ends, dtype="<i8") + self.size).tobytes())
            self.n_ends += len(ends)
        self.size += ids.size

    def adopt(self, ids_path: Path, ends_path: Path, n_ids: int, id_map: np.ndarray) -> None:
        """Take over a worker's files (moved into the work folder, not copied): ``n_ids`` local
        ids (``<i4``) whose provisional ids are ``id_map[local]``, and sentence ends as
        positions in them (``<i8``). They follow what ``append`` wrote and earlier parts."""
        k = len(self.parts)
        ids_to, ends_to = self.workdir / f"part{k}.ids.tmp", self.workdir / f"part{k}.ends.tmp"
        os.replace(ids_path, ids_to)
        os.replace(ends_path, ends_to)
        self.parts.append((ids_to, ends_to, n_ids, np.asarray(id_map)))

    def _segments(self, name: str | Path, dtype: str, per: int):
        with open(self.workdir / name, "rb") as f:
            while True:
                block = np.fromfile(f, dtype=dtype, count=per)
                if block.size == 0:
                    return
                yield block

    def _all_parts(self, remap: np.ndarray | None):
        """(ids file, ends file, first position, id map): what ``append`` wrote, then the
        adopted parts, each part's map composed with ``remap``."""
        start = 0
        for ids_file, ends_file, n, id_map in [(Path("ids.tmp"), Path("ends.tmp"), self.size,
                                                 None)] + self.parts:
            if id_map is None:
                composed = remap
            else:
                composed = id_map if remap is None else remap[id_map]
            yield ids_file, ends_file, start, composed
            start += n

    def close(self) -> None:
        self.ids.close()
        self.ends.close()

    def bincount(self, n_words: int) -> np.ndarray:
        """int64 (n_words,): how often each provisional id occurs (in what ``append`` wrote)."""
        self.ids.flush()
        counts = np.zeros(n_words, dtype=np.int64)
        for block in self._segments("ids.tmp", "<i4", SEGMENT):
            counts += np.bincount(block, minlength=n_words)
        return counts

    def finish(self, raw_words: int, remap: np.ndarray | None) -> tuple[int, int, str]:
        """Write ``tokens.i32`` (ids mapped through ``remap`` if given, negative ones dropped) and
        ``offsets.i64`` (sentence starts, empty sentences dropped) into the work folder;
        returns (tokens, offsets, digest) as ``cw2v.checkpoint.fingerprint`` computes it."""
        self.close()
        digest = hashlib.blake2b(digest_size=16)
        parts = list(self._all_parts(remap))
        ends = _Stream(block + start for _, ends_file, start, _ in parts
                       for block in self._segments(ends_file, "<i8", SEGMENT // 2))
        kept = last = 0  # ids written; the last offset written (offsets strictly increase)
        n_offsets = 1
        with open(self.workdir / "tokens.i32", "wb") as tok, \
                open(self.workdir / "offsets.i64", "wb") as off:
            off.write(np.zeros(1, dtype="<i8").tobytes())
            a = 0
            for block, mapping in ((block, mapping) for ids_file, _, _, mapping in parts
                                   for block in self._segments(ids_file, "<i4", SEGMENT)):
                b = a + block.size
                mapped = block if mapping is None else mapping[block]
                keep = mapped >= 0
                known = mapped[keep].astype("<i4")
                tok.write(known.tobytes())
                digest.update(known.tobytes())
                # A sentence end e in (a, b] moves to the kept ids before it: kept so far plus
                # the kept ones among block[:e - a]. Ends that land on the last offset close
                # an empty sentence and are dropped.
                here = ends.take_upto(b)
                cum = np.concatenate(([0], np.cumsum(keep, dtype=np.int32)))
                new = kept + cum[np.maximum(here - a, 0)]
                new = np.unique(new[new > last])
                if new.size:
                    off.write(new.astype("<i8").tobytes())
                    n_offsets += new.size
                    last = int(new[-1])
                kept += known.size
                a = b
            if kept > last:  # the corpus's end ends a sentence
                off.write(np.array([kept], dtype="<i8").tobytes())
                n_offsets += 1
        for ids_file, ends_file, _, _ in parts:
            (self.workdir / ids_file).unlink()
            (self.workdir / ends_file).unlink()
        # the digest covers the ids, then the offsets (as checkpoint.fingerprint does)
        with open(self.workdir / "offsets.i64", "rb") as off:
            for chunk in iter(lambda: off.read(1 << 24), b""):
                digest.update(chunk)
        return kept, n_offsets, digest.hexdigest()


class _Stream:
    """Sorted values arriving in blocks; ``take_upto(b)`` returns (and consumes) those <= b."""

    def __init__(self, blocks):
        self.blocks = blocks
        self.pending = np.zeros(0, dtype=np.int64)

    def take_upto(self, b: int) -> np.ndarray:
        taken = []
        while True:
            if self.pending.size == 0:
                self.pending = next(self.blocks, None)
                if self.pending is None:
                    self.pending = np.zeros(0, dtype=np.int64)
                    break
            n = int(np.searchsorted(self.pending, b, side="right"))
            taken.append(self.pending[:n])
            self.pending = self.pending[n:]
            if self.pending.size:
                break
        return np.concatenate(taken) if taken else self.pending[:0]


def _new_work(cache_dir: Path) -> Path:
    """A fresh work folder in ``cache_dir`` (created if needed) holding the entry marker; work
    folders of dead processes there are removed first."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    _remove_dead_work(cache_dir)
    work = Path(tempfile.mkdtemp(prefix=f"{_WORK_PREFIX}{os.getpid()}-", dir=cache_dir))
    try:
        (work / MARKER).write_text(_MARKER_TEXT, encoding="utf-8")
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return work


@contextlib.contextmanager
def work_folder(cache_dir: Path):
    """A fresh work folder in ``cache_dir``, removed on any exception. If ``cache_dir`` cannot
    be written (created, or a folder made in it), a warning, and the work folder is made in the
    system's temporary folder instead (the caller sees it by ``work.parent != cache_dir``: the
    entry cannot be kept). A full disk becomes an OSError that says where and what to do."""
    try:
        work = _new_work(cache_dir)
    except OSError as exc:
        try:
            work = Path(tempfile.mkdtemp(prefix="cw2v-"))
            (work / MARKER).write_text(_MARKER_TEXT, encoding="utf-8")
        except OSError:
            raise OSError(exc.errno, "cannot write the corpus cache folder "
                          f"({exc.strerror}) nor a temporary folder; choose another cache "
                          "folder (cache_dir=), or encode the corpus in memory (cache_dir=False)", str(cache_dir)) from None
        log.warning("cannot write the corpus cache folder %s (%s); encoding the corpus in %s "
                    "instead, not kept for the next run", cache_dir,
                    exc.strerror or exc, work)
    try:
        yield work
    except OSError as exc:
        shutil.rmtree(work, ignore_errors=True)
        if exc.errno == errno.ENOSPC:
            raise OSError(errno.ENOSPC, "no space left on the device for the encoded corpus; "
                          "free space, pass cache_dir= a folder on another disk (or set "
                          "CW2V_CACHE_DIR), or cache_dir=False to keep it in memory",
                          str(work.parent)) from None
        raise
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _is_work(folder: Path) -> int | None:
    """The PID of the process that made ``folder`` if it is a work folder of a build (its name,
    and its marker or, from before markers, only a build's files), else None."""
    match = _WORK_NAME.match(folder.name)
    if match is None or folder.is_symlink() or not folder.is_dir():
        return None
    try:
        if not _has_marker(folder):
            names = [p for p in folder.iterdir()]
            if not all(_LEGACY_WORK_FILE.fullmatch(p.name) and not p.is_symlink()
                       and p.is_file() for p in names):
                return None
    except OSError:
        return None
    return int(match.group(1))


def _remove_dead_work(cache_dir: Path) -> None:
    for leftover in cache_dir.glob(f"{_WORK_PREFIX}*"):
        pid = _is_work(leftover)
        if pid is not None and not _process_alive(pid):
            shutil.rmtree(leftover, ignore_errors=True)


def write_entry(work: Path, words: list[str], counts: np.ndarray, meta: dict) -> None:
    """Write ``vocab.txt`` and, last, ``meta.json`` into the work folder."""
    with open(work / "vocab.txt", "w", encoding="utf-8", newline="\n") as f:
        for word, count in zip(words, counts.tolist()):
            f.write(f"{word}\t{count}\n")
    with open(work / "meta.json", "w", encoding="utf-8") as f:
        json.dump({"format": FORMAT, "words": len(words), **meta}, f)


def publish(work: Path, target: Path) -> Path | None:
    """Rename the finished work folder to ``target`` (atomic); if another process published
    the same entry first, keep theirs. Returns the entry's folder, or None if ``target`` is
    taken by something that is not a whole entry (the work folder then stays)."""
    try:
        os.rename(work, target)
    except OSError:
        if not target.is_dir() or read_entry(target) is None:
            return None
        shutil.rmtree(work, ignore_errors=True)
    touch(target)
    return target


def touch(entry: Path) -> None:
    """Record a use of the entry (its marker's modification time; not if it cannot be
    written: a read-only cache)."""
    with contextlib.suppress(OSError):
        os.utime(entry / MARKER)


def read_entry(entry: Path) -> dict | None:
    """The entry's metadata if its files are whole (the marker, the sizes ``meta.json``
    records), else None (a damaged entry, which the caller rebuilds)."""
    try:
        if not _has_marker(entry):
            return None
        with open(entry / "meta.json", encoding="utf-8") as f:
            meta = json.load(f)
        if meta.get("format") != FORMAT:
            return None
        sizes = {"tokens.i32": 4 * meta["tokens"], "offsets.i64": 8 * meta["offsets"]}
        for name, size in sizes.items():
            if (entry / name).stat().st_size != size:
                return None
        if not (entry / "vocab.txt").is_file():
            return None
        return meta
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def read_vocab(entry: Path) -> tuple[list[str], np.ndarray]:
    """(words, counts) of an entry; ValueError if ``vocab.txt`` is malformed (naming it)."""
    words, counts = [], []
    path = entry / "vocab.txt"
    with open(path, encoding="utf-8", newline="\n") as f:
        for n, line in enumerate(f, 1):
            word, tab, count = line.rstrip("\n").rpartition("\t")
            if not (tab and line.endswith("\n") and count.isdigit()):
                raise ValueError(f"{path}: line {n} is not 'word<TAB>count'")
            words.append(word)
            counts.append(int(count))
    return words, np.array(counts, dtype=np.int64)


def _blocks(path: Path, dtype: str, per: int):
    with open(path, "rb") as f:
        while True:
            block = np.fromfile(f, dtype=dtype, count=per)
            if block.size == 0:
                return
            yield block


def verify(entry: Path, meta: dict, n_words: int) -> str | None:
    """Why the entry's ids and offsets are not what was written (a reason), or None: every id
    in [0, n_words), offsets increasing from 0 to the token count, and their BLAKE2b digest
    (computed as ``SpillBuffer.finish`` did) equal to ``meta["digest"]``. Reads both files."""
    if meta.get("words") != n_words:
        return f"vocab.txt has {n_words} words, meta.json says {meta.get('words')}"
    digest = hashlib.blake2b(digest_size=16)
    for block in _blocks(entry / "tokens.i32", "<i4", SEGMENT):
        if block.min() < 0 or block.max() >= n_words:
            return "tokens.i32 holds ids outside the vocabulary"
        digest.update(block)
    last = -1
    n_tokens = meta["tokens"]
    for block in _blocks(entry / "offsets.i64", "<i8", SEGMENT // 2):
        if (last < 0 and block[0] != 0) or block[0] <= last or np.any(np.diff(block) <= 0):
            return "offsets.i64 is not increasing from 0"
        last = int(block[-1])
        digest.update(block)
    if last != n_tokens:
        return "offsets.i64 does not end at the token count"
    if digest.hexdigest() != meta.get("digest"):
        return "the digest of its ids and offsets differs from the one meta.json records"
    return None


def open_arrays(entry: Path, meta: dict) -> tuple[np.ndarray, np.ndarray]:
    """(tokens, offsets) of an entry, memory-mapped read-only (the trainer reads the tokens a
    span at a time)."""
    tokens = (np.memmap(entry / "tokens.i32", dtype="<i4", mode="r")
              if meta["tokens"] else np.zeros(0, dtype=np.int32))
    offsets = np.memmap(entry / "offsets.i64", dtype="<i8", mode="r")
    return tokens, offsets


def hold(entry: Path) -> int | None:
    """Mark the entry as in use: a shared lock on its marker (released when the returned
    descriptor is closed), so that eviction and ``clear_cache`` leave it alone. None if the
    entry is gone (removed meanwhile) or locks are not available."""
    if fcntl is None:
        return None
    try:
        fd = os.open(entry / MARKER, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        if os.fstat(fd).st_ino != os.stat(entry / MARKER).st_ino:
            raise FileNotFoundError  # removed (and maybe rebuilt) while we waited
    except OSError:
        os.close(fd)
        return None
    return fd


@contextlib.contextmanager
def _exclusive(entry: Path):
    """Yields True with an exclusive lock on the entry's marker if nobody holds it (the entry
    is not in use), else False."""
    if fcntl is None:
        yield True
        return
    try:
        fd = os.open(entry / MARKER, os.O_RDONLY)
    except FileNotFoundError:  # (an entry from before markers, or damaged: nobody holds it)
        yield True
        return
    except OSError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
        else:
            yield True
    finally:
        os.close(fd)


# -- what is in a cache folder --------------------------------------------------------------------

def _has_marker(folder: Path) -> bool:
    marker = folder / MARKER
    if marker.is_symlink() or not marker.is_file() or marker.stat().st_size > 4096:
        return False
    return marker.read_text(encoding="utf-8", errors="replace") == _MARKER_TEXT


def _is_legacy_entry(folder: Path, names: set[str]) -> bool:
    """An entry of cw2v before markers (format 1): its four files and a meta.json that says
    so (never reused: its key is no longer computed; only removed)."""
    if names != _ENTRY_FILES - {MARKER}:
        return False
    try:
        with open(folder / "meta.json", encoding="utf-8") as f:
            meta = json.load(f)
        return meta.get("format") == 1 and {"tokens", "offsets", "digest"} <= meta.keys()
    except (OSError, ValueError, AttributeError):
        return False


def is_entry(folder: Path) -> bool:
    """True if ``folder`` is provably a cw2v cache entry: named by a key, a real folder (not a
    link), holding the marker (or, from before markers, a format-1 meta.json) and no file but
    an entry's own."""
    try:
        if not _KEY.match(folder.name) or folder.is_symlink() or not folder.is_dir():
            return False
        names = {p.name for p in folder.iterdir()}
        if not names <= _ENTRY_FILES or any((folder / n).is_symlink() for n in names):
            return False
        return _has_marker(folder) or _is_legacy_entry(folder, names)
    except OSError:
        return False


def remove_damaged(entry: Path) -> None:
    """Remove a damaged entry found under its key (by ``build``): a real folder holding
    nothing but an entry's files (its marker may be the damage)."""
    with contextlib.suppress(OSError):
        if entry.is_symlink() or not _KEY.match(entry.name):
            return
        names = {p.name for p in entry.iterdir()}
        if names <= _ENTRY_FILES and not any((entry / n).is_symlink() for n in names):
            _remove(entry)


class EntryInfo(NamedTuple):
    """One entry of a cache folder (``list_entries``)."""

    path: Path
    sources: list          # the corpus files it encodes (absolute paths)
    size: int              # bytes
    last_used: float       # seconds since the epoch (created or last reused)
    tokens: int | None     # None if meta.json cannot be read


def _describe(entry: Path) -> EntryInfo:
    size = sum(p.stat().st_size for p in entry.iterdir())
    stamp = entry / MARKER if (entry / MARKER).exists() else entry / "meta.json"
    try:
        last_used = stamp.stat().st_mtime
    except OSError:
        last_used = 0.0
    try:
        with open(entry / "meta.json", encoding="utf-8") as f:
            meta = json.load(f)
        sources, tokens = list(meta.get("sources", [])), int(meta["tokens"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        sources, tokens = [], None
    return EntryInfo(entry, sources, size, last_used, tokens)


def list_entries(cache_dir: str | os.PathLike | None = None) -> list[EntryInfo]:
    """The cw2v entries in ``cache_dir`` (default: ``default_cache_dir()``; none if it is not
    a folder), least recently used first. Other files and folders there are not listed."""
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if not cache_dir.is_dir():
        return []
    found = []
    for folder in cache_dir.iterdir():
        if is_entry(folder):
            with contextlib.suppress(OSError):
                found.append(_describe(folder))
    return sorted(found, key=lambda e: (e.last_used, e.path.name))


def _remove(entry: Path) -> bool:
    """Remove an entry unless it is in use; True if removed."""
    with _exclusive(entry) as free:
        if not free:
            return False
        shutil.rmtree(entry, ignore_errors=True)
    return not entry.exists()


def clear_cache(cache_dir: str | os.PathLike | None = None) -> int:
    """Remove the cw2v entries in ``cache_dir`` (default: ``default_cache_dir()``); returns how
    many were removed. Only folders that ``is_entry`` proves to be entries go (nothing, in a
    folder that is not a cw2v cache); entries in use by a running process and work folders of
    running builds are left alone, work folders of dead builds removed."""
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    removed = sum(_remove(entry.path) for entry in list_entries(cache_dir))
    if cache_dir.is_dir():
        _remove_dead_work(cache_dir)
    return removed


def parse_size(text: str) -> int | None:
    """Bytes in a size such as ``"500M"``, ``"10G"``, ``"1.5T"`` or ``"123456"`` (K/M/G/T are
    powers of 1024; a trailing ``B`` or ``iB`` is allowed), None for ``"unlimited"`` (or
    ``"none"``); ValueError otherwise."""
    value = text.strip().lower()
    if value in ("unlimited", "none"):
        return None
    match = re.fullmatch(r"(\d+(?:\.\d*)?)\s*([kmgt]?)(?:i?b)?", value)
    if match is None:
        raise ValueError(f"{text!r} is not a size (such as 500M, 10G, or unlimited)")
    number, unit = match.groups()
    return int(float(number) * 1024 ** " kmgt".index(unit or " "))


def size_limit() -> int | None:
    """The cache's size bound in bytes: ``$CW2V_CACHE_MAX`` (default ``DEFAULT_MAX``), None if
    ``unlimited``; ValueError naming the variable if it is malformed."""
    text = os.environ.get("CW2V_CACHE_MAX") or DEFAULT_MAX
    try:
        return parse_size(text)
    except ValueError as exc:
        raise ValueError(f"CW2V_CACHE_MAX: {exc}") from None


def evict(cache_dir: Path, limit: int | None, keep: Path | None = None) -> list[Path]:
    """Remove the least recently used entries of ``cache_dir`` until its entries hold at most
    ``limit`` bytes (none if ``limit`` is None); ``keep`` and entries in use stay. Returns
    the removed entries."""
    if limit is None:
        return []
    entries = list_entries(cache_dir)
    total = sum(e.size for e in entries)
    removed = []
    for entry in entries:
        if total <= limit:
            break
        if keep is not None and entry.path == keep:
            continue
        if _remove(entry.path):
            total -= entry.size
            removed.append(entry.path)
            log.info("removed the least recently used encoded corpus %s (%d bytes) to keep the "
                     "cache under CW2V_CACHE_MAX", entry.path, entry.size)
    return removed
