"""Each rank's shard of the corpus, and the vocabulary every rank shares.

``shard`` says what rank r of K reads: with at least K files (a folder, a glob, a list), whole
files, split among the ranks by size (largest first to the rank with least, each rank's files
then read in corpus order); with fewer files, every file is cut in K pieces and rank r reads the
r-th piece of each -- of a plain file the byte range [r*n/K, (r+1)*n/K) with both ends moved to
just after a whitespace byte (``cw2v._prepare``'s cut, never inside a token nor a UTF-8
character), of a compressed one every K-th block of about ``BLOCK_BYTES`` of its text (every rank
decompresses the file; split it beforehand to spare that).

``build_shared`` counts the rank's shard (``cw2v.corpus.build`` with every word kept, into its
own cache entry), all-gathers the counts and merges them in rank order (equal counts: the word
seen first in rank order, then in the rank's own order, comes first), keeps the words that
reach ``min_count`` (and ``max_vocab``) over the whole corpus, and maps the rank's ids to the
shared ones -- the same words, ids and counts on every rank.
"""
from __future__ import annotations

import io
import os
import re
from pathlib import Path

import numpy as np

from . import cache
from . import corpus as corpus_io
from ._files import is_compressed, is_stream, is_url, open_input
from ._prepare import _align
from ._reader import ASCII_WHITESPACE, corpus_paths
from .vocab import Vocabulary, select_words

#: A compressed file shared by several ranks is dealt out in blocks of about this many bytes
#: of its text (then to the next whitespace).
BLOCK_BYTES = 1 << 20

_WHITESPACE = re.compile(b"[" + re.escape(ASCII_WHITESPACE) + b"]")


class _Generated(io.RawIOBase):
    """A binary file object reading the bytes a generator yields (named for messages)."""

    def __init__(self, chunks, name: str):
        super().__init__()
        self._chunks, self._left, self.name = chunks, b"", name

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._left:
            self._left = next(self._chunks, b"")
            if not self._left:
                return 0
        n = min(len(buffer), len(self._left))
        buffer[:n] = self._left[:n]
        self._left = self._left[n:]
        return n


def _byte_range(path: str, start: int, end: int):
    """The bytes [start, end) of a plain file."""
    with open(path, "rb") as f:
        f.seek(start)
        left = end - start
        while left > 0:
            block = f.read(min(left, 1 << 20))
            if not block:
                return
            left -= len(block)
            yield block


def _dealt_blocks(path, rank: int, size: int, block: int = BLOCK_BYTES):
    """Every ``size``-th block of ``path``'s (decompressed) text from the ``rank``-th: blocks of
    ``block`` bytes extended to just after the next whitespace byte. Blocks that were not
    adjacent in the file are joined by a newline (a sentence's end)."""
    with open_input(path) as f:
        buf, eof, j = b"", False, 0
        while True:
            while len(buf) < block and not eof:
                more = f.read(block - len(buf))
                eof, buf = not more, buf + more
            found = _WHITESPACE.search(buf, max(min(block, len(buf)) - 1, 0))
            while found is None and not eof:
                more = f.read(1 << 16)
                eof, buf = not more, buf + more
                found = _WHITESPACE.search(buf, max(block - 1, 0))
            cut = found.end() if found else len(buf)
            piece, buf = buf[:cut], buf[cut:]
            if not piece:
                return
            if j % size == rank:
                yield piece if piece.endswith(b"\n") else piece + b"\n"
            j += 1


def _piece(path, rank: int, size: int):
    """This rank's piece of one file shared by all ranks (a file object), or None if empty."""
    name = f"{path} (part {rank + 1} of {size})"
    if is_url(path) or is_compressed(path):
        return _Generated(_dealt_blocks(path, rank, size), name)
    path = os.fspath(path)
    n = os.path.getsize(path)
    start = 0 if rank == 0 else _align(path, n * rank // size)
    end = n if rank == size - 1 else _align(path, n * (rank + 1) // size)
    if start >= end:
        return None
    return _Generated(_byte_range(path, start, end), name)


def _size(path) -> int:
    try:
        return os.path.getsize(path)
    except (OSError, TypeError):
        return 1  # (a URL: sizes unknown, split by count)


def files_of(corpus, encoding: str, errors: str) -> list:
    """The corpus's files (a folder's and a glob's expanded), ValueError for what ranks cannot
    share: sentences in memory, standard input or another stream."""
    paths = corpus_paths(corpus, encoding, errors)
    if paths is None:
        raise ValueError("distributed training reads files (each rank its shard of them); "
                         "sentences in memory cannot be split among ranks: write them to a "
                         "file")
    streams = [p for p in paths if is_stream(p)]
    if streams:
        raise ValueError("distributed training reads files (each rank its shard of them), "
                         "not standard input or another stream: write it to a file")
    return paths


def describe(paths) -> list:
    """What every rank must see alike: each file's path and size (``check_agreement``)."""
    return [[os.fspath(p), _size(p) if not is_url(p) else None] for p in paths]


def shard(paths: list, rank: int, size: int) -> list:
    """What rank ``rank`` of ``size`` reads of ``paths`` (see the module's docstring): a list of
    paths and file objects, possibly empty."""
    if size == 1:
        return list(paths)
    if len(paths) >= size:
        sizes = [_size(p) for p in paths]
        load = [0] * size
        owner = [0] * len(paths)
        for i in sorted(range(len(paths)), key=lambda i: (-sizes[i], i)):
            r = min(range(size), key=lambda r: (load[r], r))
            owner[i] = r
            load[r] += sizes[i]
        return [p for p, r in zip(paths, owner) if r == rank]
    pieces = [_piece(p, rank, size) for p in paths]
    return [p for p in pieces if p is not None]


def _rank_cache(cache_dir):
    """This machine's folder in the cache (process ids in work-folder names then mean
    something: a shared cache folder is not cleaned of other machines' work)."""
    if cache_dir is None or cache_dir is False:
        return None
    import socket

    return Path(cache_dir) / "hosts" / socket.gethostname()


def build_shared(comm, inputs: list, *, min_count: int, max_vocab: int | None,
                 max_vocab_size: int | None, encoding: str, errors: str, cache_dir,
                 workers: int, progress: bool):
    """The shared vocabulary and this rank's shard encoded with its ids, on every rank.

    ``inputs`` is this rank's shard (``shard``); ``cache_dir`` as ``cw2v.corpus.build`` takes
    it (None: in memory), each machine in its own sub-folder. ``max_vocab_size`` bounds each
    rank's counting table. Returns (vocab, encoded); a rank whose shard is empty gets an empty
    encoded corpus.
    """
    folder = _rank_cache(cache_dir)
    local_words: list[str] = []
    local_counts = np.zeros(0, dtype=np.int64)
    encoded = None
    raw_words = 0
    if inputs:
        try:
            local, encoded = corpus_io.build(inputs, min_count=1, encoding=encoding,
                                             errors=errors, cache_dir=folder,
                                             max_vocab_size=max_vocab_size, workers=workers,
                                             progress=progress)
        except ValueError as exc:
            if "the corpus is empty" not in str(exc):
                raise
        else:
            local_words, local_counts = local.words, local.counts
            raw_words = local.total_words
    gathered = comm.allgather((local_words, local_counts, raw_words))
    ids: dict[str, int] = {}
    for words, _, _ in gathered:
        for w in words:
            ids.setdefault(w, len(ids))
    counts = np.zeros(len(ids), dtype=np.int64)
    for words, c, _ in gathered:
        np.add.at(counts, np.fromiter((ids[w] for w in words), dtype=np.int64,
                                      count=len(words)), c)
    total = sum(n for _, _, n in gathered)
    if total == 0:
        raise ValueError("cannot build a vocabulary: the corpus is empty (no tokens)")
    merged = list(ids)
    kept = select_words(counts, min_count, max_vocab)
    vocab = Vocabulary([merged[i] for i in kept], counts[kept], total_words=total)
    if encoded is None:
        return vocab, corpus_io.EncodedCorpus(np.zeros(0, dtype=np.int32),
                                              np.zeros(1, dtype=np.int64), 0)
    final = np.full(len(ids), -1, dtype=np.int32)
    final[kept] = np.arange(kept.size, dtype=np.int32)
    mapping = final[np.fromiter((ids[w] for w in local_words), dtype=np.int64,
                                count=len(local_words))]
    return vocab, remap(encoded, mapping, folder)


def remap(encoded, mapping: np.ndarray, cache_dir) -> corpus_io.EncodedCorpus:
    """``cw2v.corpus.remap`` of ``encoded`` (ids mapped, negative ones dropped), written a
    block at a time to a work folder in ``cache_dir`` (removed with the corpus), or in memory
    when ``cache_dir`` is None."""
    if cache_dir is None:
        return corpus_io.remap(encoded, mapping)
    n = int(encoded.tokens.shape[0])
    offsets = np.asarray(encoded.offsets)
    with cache.work_folder(Path(cache_dir)) as work:
        spill = cache.SpillBuffer(work)
        for lo in range(0, n, 1 << 22):
            hi = min(lo + (1 << 22), n)
            k0, k1 = np.searchsorted(offsets, [lo, hi], side="right")
            spill.append(mapping[encoded.read(lo, hi)], (offsets[k0:k1] - lo).tolist())
        raw = int(encoded.raw_words)
        n_tokens, n_offsets, digest = spill.finish(raw, None)
        cache.write_entry(work, [], np.zeros(0, dtype=np.int64),
                          {"tokens": n_tokens, "offsets": n_offsets, "digest": digest,
                           "raw_words": raw})
        return corpus_io._open_private(work, raw, digest)
