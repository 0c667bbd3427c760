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

Entries of file corpora are **reused**: the key is a digest of the files' absolute paths, sizes
and modification times and of the vocabulary settings, so a second ``from_corpus`` on the same
files starts training after reading ``vocab.txt`` and mapping ``tokens.i32``, and a changed file
(size or mtime) makes a new entry. An entry whose files do not have the sizes ``meta.json``
records is never used (it is rebuilt). Corpora read from streams or iterables have no key: their
entry is built the same way, opened, and deleted at once (the open files live until the corpus
object is gone).

``clear_cache(DIR)`` removes every entry. The default folder is ``$CW2V_CACHE_DIR``, else
``$XDG_CACHE_HOME/cw2v``, else ``~/.cache/cw2v``.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ._files import _process_alive

log = logging.getLogger(__name__)

FORMAT = 1
SEGMENT = 1 << 22  # ids mapped (and counted) at a time: 16 MB of int32
_WORK_PREFIX = ".work-"


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
        described.append([os.path.abspath(p), st.st_size, st.st_mtime_ns])
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


@contextlib.contextmanager
def work_folder(cache_dir: Path):
    """A fresh work folder in ``cache_dir`` (created if needed), removed on any exception;
    work folders of dead processes are removed first. A full disk becomes an OSError that
    says where and what to do."""
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OSError(exc.errno, f"cannot create the corpus cache folder ({exc.strerror}); "
                      "pass cache_dir= another folder, or cache_dir=False to keep the encoded "
                      "corpus in memory", str(cache_dir)) from None
    _remove_dead_work(cache_dir)
    work = Path(tempfile.mkdtemp(prefix=f"{_WORK_PREFIX}{os.getpid()}-", dir=cache_dir))
    try:
        yield work
    except OSError as exc:
        shutil.rmtree(work, ignore_errors=True)
        if exc.errno == errno.ENOSPC:
            raise OSError(errno.ENOSPC, "no space left on the device for the encoded corpus; "
                          "free space, pass cache_dir= a folder on another disk (or set "
                          "CW2V_CACHE_DIR), or cache_dir=False to keep it in memory",
                          str(cache_dir)) from None
        raise
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _remove_dead_work(cache_dir: Path) -> None:
    for leftover in cache_dir.glob(f"{_WORK_PREFIX}*"):
        try:
            pid = int(leftover.name[len(_WORK_PREFIX):].split("-")[0])
        except ValueError:
            continue
        if not _process_alive(pid):
            shutil.rmtree(leftover, ignore_errors=True)


def write_entry(work: Path, words: list[str], counts: np.ndarray, meta: dict) -> None:
    """Write ``vocab.txt`` and, last, ``meta.json`` into the work folder."""
    with open(work / "vocab.txt", "w", encoding="utf-8", newline="\n") as f:
        for word, count in zip(words, counts.tolist()):
            f.write(f"{word}\t{count}\n")
    with open(work / "meta.json", "w", encoding="utf-8") as f:
        json.dump({"format": FORMAT, **meta}, f)


def publish(work: Path, target: Path) -> Path:
    """Rename the finished work folder to ``target`` (atomic); if another process published
    the same entry first, keep theirs. Returns the entry's folder."""
    try:
        os.rename(work, target)
    except OSError:
        if not target.is_dir():
            raise
        shutil.rmtree(work, ignore_errors=True)
    return target


def read_entry(entry: Path) -> dict | None:
    """The entry's metadata if its files are whole (the sizes ``meta.json`` records), else
    None (a damaged entry, which the caller rebuilds)."""
    try:
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
    except (OSError, ValueError, KeyError, TypeError):
        return None


def read_vocab(entry: Path) -> tuple[list[str], np.ndarray]:
    """(words, counts) of an entry."""
    words, counts = [], []
    with open(entry / "vocab.txt", encoding="utf-8", newline="\n") as f:
        for line in f:
            word, _, count = line.rstrip("\n").rpartition("\t")
            words.append(word)
            counts.append(int(count))
    return words, np.array(counts, dtype=np.int64)


def open_arrays(entry: Path, meta: dict) -> tuple[np.ndarray, np.ndarray]:
    """(tokens, offsets) of an entry, memory-mapped read-only (the trainer reads the tokens a
    span at a time)."""
    tokens = (np.memmap(entry / "tokens.i32", dtype="<i4", mode="r")
              if meta["tokens"] else np.zeros(0, dtype=np.int32))
    offsets = np.memmap(entry / "offsets.i64", dtype="<i8", mode="r")
    return tokens, offsets


def clear_cache(cache_dir: str | os.PathLike | None = None) -> int:
    """Remove every encoded corpus in ``cache_dir`` (default: ``default_cache_dir()``);
    returns how many entries were removed. Work folders of running builds are left alone."""
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    removed = 0
    if not cache_dir.is_dir():
        return 0
    for entry in cache_dir.iterdir():
        if entry.is_dir() and not entry.name.startswith(_WORK_PREFIX) \
                and (entry / "meta.json").exists():
            shutil.rmtree(entry, ignore_errors=True)
            removed += 1
    _remove_dead_work(cache_dir)
    return removed
