"""Corpus readers: stream tokens from files or token lists, build the vocabulary, encode to ids.

A corpus is one of

* a path (``str`` or ``os.PathLike``) to a text file, plain or gzip / bzip2 / xz compressed (the
  compression is recognised from the file's first bytes, not its name). Tokens are separated by
  whitespace (``str.split()``) and every line (``"\\n"``; ``"\\r\\n"`` works too) is a sentence,
  however long: text8's single 100 MB line is one sentence;
* a binary file object (``sys.stdin.buffer``, ``open(path, "rb")``, ``io.BytesIO``), read the
  same way from where it stands, and left open;
* a folder (its files, not hidden, sorted by name; not recursive), or a glob pattern such as
  ``"news/*.txt.gz"`` (its matches, sorted), as gensim's ``PathLineSentences`` reads them;
* a URL (``s3://bucket/corpus/``, ``gs://...``, ``https://...``: a file, a folder or a pattern),
  read as a stream through fsspec (``pip install "cw2v[remote]"`` and the file system's package);
* a list or tuple of such paths (or file objects), read one after another (a file's end also ends
  a sentence);
* any other iterable of sentences, each a list or tuple of str tokens -- a generator that can be
  read only once included.

Files are read in binary chunks of ``CHUNK_SIZE`` bytes, a token cut by a chunk border being
carried over to the next chunk: no file is ever held whole as one string or one list of
strings. UTF-8 and ASCII text (``errors="strict"``) is split by compiled code with the GIL
released (``cw2v._text.WordTable``: words found in the bytes, on the characters ``str.split()``
splits on, and looked up in a hash table), once each chunk is known to decode; other encodings
and error handlers are decoded incrementally and split by ``str.split()`` -- the same tokens. ``build`` makes one pass: every new word gets a
provisional id in order of first appearance, the ids go into one int32 array that grows in place,
are counted with ``np.bincount`` and then remapped in place to final ids (most frequent first) by
a lookup array. The result, ``EncodedCorpus``, is 4 bytes a token (int32 ids) plus int64 sentence
offsets; building it peaks at about that plus the word -> id dict and one chunk's tokens. With
``cache_dir`` the ids go to disk instead (``cw2v.cache``: memory holds the dict and one chunk)
and an unchanged corpus of files is not read again.

A file that cannot be read as text raises ``CorpusError`` (a ``ValueError``) naming it: a corrupt
or truncated compressed stream, or (its subclass ``CorpusDecodeError``) bytes the encoding cannot
decode. A missing or unreadable file raises the ``OSError`` that says so.
"""
from __future__ import annotations

import logging
import os
import shutil
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import accumulate, chain, repeat
from pathlib import Path
from typing import NamedTuple, Union

import numpy as np
from tqdm.auto import tqdm

from . import _prepare, cache, params
from ._files import InputLike
from ._reader import (  # (CHUNK_SIZE and the errors are public here)
    CHUNK_SIZE,
    CorpusDecodeError,
    CorpusError,
    FirstSeen,
    corpus_paths,
    file_id_pieces,
    file_pieces,
    reads_bytes,
    sentence_tokens,
    to_ids,
)
from ._text import WordTable
from .vocab import Vocabulary, select_words

logger = logging.getLogger(__name__)

#: Tokens gathered from an iterable of sentences before they are encoded as one array.
BATCH_TOKENS = 1 << 20

#: What ``build``, ``encode`` and ``iter_sentences`` read: a path or file object, several, or
#: token lists.
CorpusLike = Union[InputLike, Sequence[InputLike], Iterable[Sequence[str]]]


class EncodedCorpus(NamedTuple):
    """A corpus as word ids: all sentences back to back, and where each one starts.

    Attributes
    ----------
    tokens : numpy.ndarray
        int32 word ids; out-of-vocabulary words are dropped.
    offsets : numpy.ndarray
        int64 (n_sentences + 1,): sentence s is ``tokens[offsets[s]:offsets[s + 1]]``.
        ``offsets[0] == 0``, ``offsets[-1] == len(tokens)``, strictly increasing: sentences left
        empty (blank lines, or every word out of vocabulary) are dropped.
    raw_words : int
        Tokens read, out-of-vocabulary ones included.
    digest : str or None
        For a corpus encoded on disk (``cw2v.cache``): the BLAKE2b digest of its ids and
        offsets, computed as they were written (``cw2v.checkpoint.fingerprint`` uses it rather
        than reading the file again).
    """

    tokens: np.ndarray
    offsets: np.ndarray
    raw_words: int
    digest: str | None = None

    def read(self, lo: int, hi: int) -> np.ndarray:
        """``tokens[lo:hi]`` as an int32 array: a view of an array in memory; of a corpus on
        disk, read from its file (``pread``, no mapping: memory does not grow with what has
        been read)."""
        tokens = self.tokens
        if isinstance(tokens, np.memmap) and tokens.filename:
            return np.fromfile(tokens.filename, dtype=tokens.dtype, count=hi - lo,
                               offset=tokens.offset + lo * tokens.itemsize)
        return tokens[lo:hi]

    def blocks(self, size: int = 1 << 22):
        """The tokens, ``size`` at a time (read as by ``read``)."""
        n = self.tokens.shape[0]
        for lo in range(0, n, size):
            yield self.read(lo, min(lo + size, n))


# -- public API ---------------------------------------------------------------------------------

def build(corpus: CorpusLike, min_count: int = params.default("min_count"), max_vocab: int | None = None, *,
          encoding: str = "utf-8", errors: str = "strict",
          cache_dir: str | os.PathLike | None = None, max_vocab_size: int | None = None,
          progress: bool = False, workers: int = 1) -> tuple[Vocabulary, EncodedCorpus]:
    """Count the words of ``corpus``, build its vocabulary and encode it, in one pass.

    Parameters
    ----------
    corpus : path or binary file object, a list of them, or an iterable of token lists
        See the module docstring; a one-shot generator is read once.
    min_count : int
        Words occurring fewer times are dropped (>= 1).
    max_vocab : int, optional
        Keep at most this many of the most frequent words (>= 1); ``None`` keeps all that reach
        ``min_count``. Equal counts are cut in order of first appearance.
    encoding, errors : str
        Decoding of files, as for ``bytes.decode``; ignored for token lists.
    cache_dir : path, optional
        Encode to disk in this folder (``cw2v.cache``): memory then holds the word table and
        one piece of text, not the corpus, and the encoded corpus's tokens are memory-mapped.
        A corpus of files already encoded there with the same settings (and files unchanged:
        paths, sizes, modification and status-change times, inodes) is reused without reading
        the text, once its digest is checked; a damaged entry is encoded again with a warning,
        and a folder that cannot be written gives a warning and a temporary folder. Publishing
        an entry evicts the least recently used ones beyond ``$CW2V_CACHE_MAX`` (default
        10G). ``None`` (default) encodes in memory.
    max_vocab_size : int, optional
        Bound the counting table (gensim's name): whenever it holds more distinct words than
        this, the rarest are dropped, word2vec.c's ``ReduceVocab`` rule -- words counted at
        most ``floor`` times go and ``floor`` rises by one (from 1). A dropped word that comes
        back is counted again from zero, and its occurrences before the drop are not in the
        encoded corpus: the counts of words near the floor may come out lower (or the words
        may miss ``min_count``). ``None`` (default): exact counts. The table is checked after
        each piece of text (1 MB of a file, or about a million tokens of token lists).
    progress : bool
        Show a tqdm bar of the tokens read.
    workers : int
        Processes for the pass (``cw2v._prepare``; with ``cache_dir``, no ``max_vocab_size``,
        and a corpus of at least 32 MB of files read as UTF-8 or ASCII): a plain file is cut
        into ``workers`` byte ranges, a compressed file's text into segments as it is
        decompressed (compressed files alone, at ``workers <= 2``: one process, decompressing
        on a thread beside the tokenizer). The result is the sequential pass's, identical.

    Returns
    -------
    vocab : Vocabulary
        Words by descending count, ties by first appearance; ``total_words`` = tokens read.
    encoded : EncodedCorpus
        The corpus as ids of ``vocab``, dropped words removed.

    Raises
    ------
    ValueError
        If the corpus is empty, no word reaches ``min_count`` or a parameter is out of range.
    FileNotFoundError
        If a corpus file does not exist (other ``OSError`` if it cannot be read; ENOSPC if
        the cache's disk is full, saying where).
    CorpusError
        If a compressed file is corrupt or truncated; ``CorpusDecodeError`` (a subclass) if a
        file cannot be decoded and ``errors="strict"``.
    LookupError
        If ``encoding`` or ``errors`` names no codec or error handler.
    TypeError
        If ``corpus`` is not one of the accepted kinds, or a sentence is a bare str.
    """
    min_count = params.check("min_count", min_count)
    if max_vocab is not None:
        max_vocab = params.check("max_vocab", max_vocab)
    if max_vocab_size is not None:
        max_vocab_size = params.check("max_vocab_size", max_vocab_size)
    workers = params.check_positive_int("workers", workers)
    paths = corpus_paths(corpus, encoding, errors)
    if cache_dir is None:
        return _count_and_encode(corpus, paths, _IdBuffer(), min_count, max_vocab,
                                 max_vocab_size, encoding, errors, progress)
    cache_dir = Path(cache_dir)
    limit = cache.size_limit()  # (a malformed CW2V_CACHE_MAX: ValueError before the pass)
    settings = {"min_count": min_count, "max_vocab": max_vocab, "encoding": encoding,
                "errors": errors, "max_vocab_size": max_vocab_size}
    key = cache.source_key(paths, settings) if paths is not None else None
    if key is not None:
        found = _open_cached(cache_dir / key)
        if found is not None:
            return found
    tasks = None if max_vocab_size is not None else _prepare.plan(paths, workers, encoding)
    with cache.work_folder(cache_dir) as work:
        # (absolute: the parallel pass's children run in another folder)
        buffer = cache.SpillBuffer(work.absolute())
        vocab, n_tokens, n_offsets, digest, raw_words = _count_and_encode(
            corpus, paths, buffer, min_count, max_vocab, max_vocab_size,
            encoding, errors, progress, tasks, workers)
        cache.write_entry(work, vocab.words, vocab.counts,
                          {"tokens": n_tokens, "offsets": n_offsets, "digest": digest,
                           "raw_words": raw_words, "settings": settings,
                           "sources": [os.path.abspath(p) for p in paths or []
                                       if isinstance(p, (str, os.PathLike))]})
        entry = (cache.publish(work, cache_dir / key)
                 if key is not None and work.parent == cache_dir else None)
        if entry is not None:
            meta = cache.read_entry(entry)
            encoded = _open_entry(entry, meta, raw_words, digest)
            cache.evict(cache_dir, limit, keep=entry)
            return vocab, encoded
        # a stream or token lists (or a cache folder that cannot be written, or the entry's
        # place taken): nothing to reuse; the files go with the corpus
        return vocab, _open_private(work, raw_words, digest)


def _open_private(work: Path, raw_words: int, digest: str) -> EncodedCorpus:
    """The encoded corpus in a work folder that nobody will reuse: opened, and the folder
    removed when the corpus's tokens are garbage (``read`` opens their file by name)."""
    meta = cache.read_entry(work)
    tokens, offsets = cache.open_arrays(work, meta)
    weakref.finalize(tokens if isinstance(tokens, np.memmap) else offsets,
                     shutil.rmtree, work, True)
    return EncodedCorpus(tokens, offsets, raw_words, digest)


def _open_entry(entry: Path, meta: dict, raw_words: int, digest: str,
                fd: int | None = None) -> EncodedCorpus:
    """The encoded corpus of a cache entry, held in use (``cache.hold``, or ``fd`` if it is
    held already: not evicted) until its tokens are garbage."""
    if fd is None:
        fd = cache.hold(entry)
    try:
        tokens, offsets = cache.open_arrays(entry, meta)
    except BaseException:
        if fd is not None:
            os.close(fd)
        raise
    if fd is not None:
        weakref.finalize(tokens if isinstance(tokens, np.memmap) else offsets, os.close, fd)
    return EncodedCorpus(tokens, offsets, raw_words, digest)


def _open_cached(entry: Path) -> tuple[Vocabulary, EncodedCorpus] | None:
    """A reusable cache entry as (vocab, encoded), or None (absent, or damaged: removed with a
    warning, and rebuilt). Its ids and offsets are checked against their digest
    (``cache.verify``) before they are used."""
    if not entry.is_dir():
        return None
    fd = cache.hold(entry)  # (in use from here: not evicted while it is checked)
    meta = cache.read_entry(entry)
    problem = None if meta is not None else "a file is missing or not of its recorded size"
    if meta is not None:
        try:
            words, counts = cache.read_vocab(entry)
            problem = cache.verify(entry, meta, len(words))
        except (OSError, ValueError) as exc:
            problem = str(exc)
    if problem is not None:
        if fd is not None:
            os.close(fd)
        logger.warning("the encoded corpus %s is incomplete or damaged; encoding again (%s)",
                       entry, problem)
        cache.remove_damaged(entry)
        return None
    encoded = _open_entry(entry, meta, meta["raw_words"], meta["digest"], fd)
    cache.touch(entry)
    logger.info("reusing the encoded corpus %s: %d words, %d tokens", entry, len(words),
                encoded.tokens.size)
    vocab = Vocabulary(words, counts, total_words=meta["raw_words"])
    return vocab, encoded


def _count_and_encode(corpus, paths, buffer, min_count, max_vocab, max_vocab_size, encoding,
                      errors, progress, tasks=None, workers=1):
    """The one pass: provisional ids into ``buffer``, counts, vocabulary, final ids; with
    ``tasks`` (``cw2v._prepare.plan``), on ``workers`` processes. ``paths``: the corpus's
    files (``corpus_paths``), None for token lists.

    Returns (vocab, encoded) for an ``_IdBuffer``; (vocab, tokens, offsets, digest,
    raw_words) for a ``cache.SpillBuffer`` (its files are the encoded corpus).
    """
    table = _WordTable(None)  # (the parallel pass's books: it never prunes)
    raw_words = 0
    with tqdm(unit="word", unit_scale=True, disable=not progress, desc="cw2v vocabulary",
              dynamic_ncols=True) as bar:
        if tasks:
            words, counts, raw_words = _prepare.run(tasks, workers, buffer, encoding, errors,
                                                    on_task=bar.update)
            ids, next_id = np.arange(len(words)), len(words)
        else:
            table, raw_words = _count_pass(corpus, paths, buffer, max_vocab_size, encoding,
                                           errors, bar)
            words, ids = table.words()
            next_id = table.next_id
            counts = table.counts_of(ids, buffer)
    if raw_words == 0:
        raise ValueError("cannot build a vocabulary: the corpus is empty (no tokens)")
    _check_words(words)
    kept = select_words(counts, min_count, max_vocab)
    vocab = Vocabulary([words[i] for i in kept], counts[kept], total_words=raw_words)
    remap = np.full(next_id, -1, dtype=np.int32)
    remap[ids[kept]] = np.arange(kept.size, dtype=np.int32)
    logger.info(
        "vocabulary: %d words (min_count=%d, max_vocab=%s) of %d distinct in %d raw words%s",
        len(vocab), min_count, max_vocab, len(words), raw_words,
        f" (counting table pruned {table.prunes} times, floor {table.floor})"
        if table.prunes else "")
    if isinstance(buffer, _IdBuffer):
        encoded = buffer.finish(raw_words, remap)
        n_tokens, n_offsets, digest = encoded.tokens.size, encoded.offsets.size, None
    else:
        n_tokens, n_offsets, digest = buffer.finish(raw_words, remap)
    logger.info("%d tokens (%.1f%%) in %d sentences kept", n_tokens,
                100.0 * n_tokens / raw_words, n_offsets - 1)
    if isinstance(buffer, _IdBuffer):
        return vocab, encoded
    return vocab, n_tokens, n_offsets, digest, raw_words


def _count_pass(corpus, paths, buffer, max_vocab_size, encoding, errors, bar):
    """Provisional ids of the whole corpus into ``buffer``, in one process: files (``paths``)
    by the compiled reader when it applies (``reads_bytes``), otherwise as str tokens. Returns
    (table, raw_words); the table is pruned to ``max_vocab_size`` after each piece."""
    if paths is not None and reads_bytes(encoding, errors):
        table = _CompiledWordTable(max_vocab_size)
        pieces = chain.from_iterable(file_id_pieces(p, table.table, True, encoding)
                                     for p in paths)
    else:
        table = _WordTable(max_vocab_size)
        pieces = ((table.ids(tokens), ends)
                  for tokens, ends in _paths_pieces(corpus, paths, encoding, errors))
    raw_words = 0
    for ids, ends in pieces:
        buffer.append(ids, ends)
        raw_words += ids.size
        bar.update(ids.size)
        table.check_bound()
    return table, raw_words


class _WordTable:
    """word -> provisional id (order of first appearance), with word2vec.c's pruning when
    ``max_size`` is given (then the counts are kept as the text is read)."""

    def __init__(self, max_size: int | None):
        self.first_seen = FirstSeen()
        self.max_size = max_size
        self.counts = None if max_size is None else np.zeros(1 << 16, dtype=np.int64)
        self.floor = 0
        self.prunes = 0

    @property
    def next_id(self) -> int:
        return self.first_seen.next_id

    def ids(self, tokens: list) -> np.ndarray:
        """The provisional ids of one piece's tokens (new words get new ids)."""
        ids = to_ids(map(self.first_seen.__getitem__, tokens), len(tokens))
        if self.counts is not None:
            if self.next_id > self.counts.size:
                self.counts.resize(max(self.next_id, 2 * self.counts.size), refcheck=False)
            np.add.at(self.counts, ids, 1)
        return ids

    def check_bound(self) -> None:
        """Prune while the table holds more than ``max_size`` words."""
        while self.max_size is not None and len(self.first_seen) > self.max_size:
            self._prune()

    def _prune(self) -> None:
        # word2vec.c's ReduceVocab: drop the words counted at most `floor` times, raise it.
        self.floor += 1
        self.prunes += 1
        counts = self.counts
        for word in [w for w, i in self.first_seen.items() if counts[i] <= self.floor]:
            del self.first_seen[word]

    def counts_of(self, ids: np.ndarray, buffer) -> np.ndarray:
        """The counts of the words of provisional ids ``ids`` (``words()``'s): kept as the text
        was read when the table is bounded, else counted in ``buffer``'s ids."""
        return self.counts[ids] if self.counts is not None else buffer.bincount(len(ids))

    def words(self) -> tuple[list, np.ndarray]:
        """The words still in the table, in order of first appearance, and their ids."""
        words = list(self.first_seen)
        ids = np.fromiter(self.first_seen.values(), dtype=np.int64, count=len(words))
        return words, ids


class _CompiledWordTable:
    """``_WordTable``'s books kept by the compiled reader's table (``cw2v._text.WordTable``,
    which prunes by the same rule and never reuses a provisional id)."""

    def __init__(self, max_size: int | None):
        self.table = WordTable()
        self.max_size = max_size
        self._counts = np.zeros(0, dtype=np.int64)  # words()'s, in its order

    @property
    def next_id(self) -> int:
        return self.table.next_pid

    @property
    def prunes(self) -> int:
        return self.table.prunes

    @property
    def floor(self) -> int:
        return self.table.prune_floor - 1

    def check_bound(self) -> None:
        """Prune while the table holds more than ``max_size`` words."""
        if self.max_size is not None and self.table.n_words > self.max_size:
            self.table.prune_rarest(self.max_size)

    def counts_of(self, ids: np.ndarray, buffer) -> np.ndarray:
        """The counts of ``words()``'s words (``ids`` are theirs): kept by the table."""
        return self._counts

    def words(self) -> tuple[list, np.ndarray]:
        """The words still in the table, in order of first appearance, and their ids."""
        text, self._counts, pids = self.table.export_vocab()
        return text.decode("utf-8").split("\n")[:-1], pids.astype(np.int64)


def _lookup_table(mapping: Mapping[str, int]) -> WordTable:
    """A compiled table of ``mapping``'s words with their ids as provisional ids (for
    ``encode_chunk(..., add=False)``); words that no token can equal (empty, or holding
    whitespace) are left out."""
    words = [w for w in mapping if isinstance(w, str) and w.split() == [w]]
    ids = np.fromiter((mapping[w] for w in words), dtype=np.int64, count=len(words))
    if ids.size and (ids.min() < 0 or ids.max() > np.iinfo(np.int32).max):
        raise ValueError("vocabulary ids must be in [0, 2**31 - 1]")
    table = WordTable()
    if words:
        table.add_vocab(("\n".join(words) + "\n").encode("utf-8", "surrogatepass"),
                        ids.astype(np.int32))
    return table


def encode(corpus: CorpusLike, vocab: Vocabulary | Mapping[str, int], *, encoding: str = "utf-8",
           errors: str = "strict", cache_dir: str | os.PathLike | None = None) -> EncodedCorpus:
    """Encode ``corpus`` as ids of an existing vocabulary, dropping words not in it.

    Parameters
    ----------
    corpus : path or binary file object, a list of them, or an iterable of token lists
        See the module docstring.
    vocab : Vocabulary or mapping of str to int
        The vocabulary giving the ids, or a word -> id mapping such as ``Vocabulary.w2i``
        (ids must be >= 0).
    encoding, errors : str
        Decoding of files, as for ``bytes.decode``; ignored for token lists.
    cache_dir : path, optional
        Encode to disk in a work folder there (as ``build`` does; removed when the corpus is
        garbage, never reused); ``None`` encodes in memory.

    Returns
    -------
    EncodedCorpus
        Empty (no tokens, ``offsets == [0]``) if no word is in the vocabulary.

    Raises
    ------
    ValueError
        If the corpus is empty.
    FileNotFoundError, CorpusError, LookupError, TypeError
        As for ``build``.
    """
    mapping: Mapping[str, int]
    if isinstance(vocab, Vocabulary):
        mapping = vocab.w2i
    elif isinstance(vocab, Mapping):
        mapping = vocab
    else:
        raise TypeError("vocab must be a cw2v.vocab.Vocabulary or a word -> id mapping, got "
                        f"{type(vocab).__name__}")
    word_id = mapping.get

    def fill(buffer) -> int:
        raw_words = 0
        paths = corpus_paths(corpus, encoding, errors)
        if paths is not None and reads_bytes(encoding, errors):
            table = _lookup_table(mapping)
            pieces = chain.from_iterable(file_id_pieces(p, table, False, encoding)
                                         for p in paths)
        else:
            pieces = ((to_ids(map(word_id, tokens, repeat(-1)), len(tokens)), ends)
                      for tokens, ends in _paths_pieces(corpus, paths, encoding, errors))
        for ids, ends in pieces:
            buffer.append(ids, ends)
            raw_words += ids.size
        if raw_words == 0:
            raise ValueError("cannot encode: the corpus is empty (no tokens)")
        return raw_words

    if cache_dir is None:
        buffer = _IdBuffer()
        raw_words = fill(buffer)
        encoded = buffer.finish(raw_words)
    else:
        with cache.work_folder(Path(cache_dir)) as work:
            spill = cache.SpillBuffer(work)
            raw_words = fill(spill)
            n_tokens, n_offsets, digest = spill.finish(raw_words, None)
            cache.write_entry(work, [], np.zeros(0, dtype=np.int64),
                              {"tokens": n_tokens, "offsets": n_offsets, "digest": digest,
                               "raw_words": raw_words})
            encoded = _open_private(work, raw_words, digest)
    n_known = encoded.tokens.size
    if n_known == 0:
        logger.warning("none of the %d tokens of the corpus is in the vocabulary", raw_words)
    else:
        logger.info("encoded %d of %d tokens (%.1f%%) in %d sentences", n_known, raw_words,
                    100.0 * n_known / raw_words, encoded.offsets.size - 1)
    return encoded


def remap(encoded: EncodedCorpus, mapping: np.ndarray) -> EncodedCorpus:
    """``encoded`` with every id i replaced by ``mapping[i]``; ids mapped to a negative value are
    dropped, and sentences left empty with them. ``encoded`` is not changed.

    Parameters
    ----------
    encoded : EncodedCorpus
    mapping : integer array
        One new id (or -1) for each id of ``encoded``'s vocabulary.

    Returns
    -------
    EncodedCorpus
        Same ``raw_words``.
    """
    mapping = np.asarray(mapping, dtype=np.int32)
    tokens = encoded.tokens
    if tokens.size and (tokens.min() < 0 or tokens.max() >= mapping.size):
        raise IndexError(f"the corpus holds ids outside the mapping's {mapping.size}")
    buffer = _IdBuffer()
    buffer.ids = np.array(tokens, dtype=np.int32)  # a copy: finish compacts it in place
    buffer.size = int(tokens.size)
    buffer.ends = [np.asarray(encoded.offsets[1:], dtype=np.int64)]
    return buffer.finish(int(encoded.raw_words), mapping)


def iter_sentences(corpus: CorpusLike, *, encoding: str = "utf-8", errors: str = "strict",
                   max_sentence_length: int | None = None) -> Iterator[list[str]]:
    """Stream the sentences of ``corpus`` as lists of tokens.

    Arguments are checked (and files looked for) when this is called, not on first iteration.

    Parameters
    ----------
    corpus : path or binary file object, a list of them, or an iterable of token lists
        See the module docstring.
    encoding, errors : str
        Decoding of files, as for ``bytes.decode``; ignored for token lists.
    max_sentence_length : int, optional
        Cut longer sentences into pieces of this many tokens (the last piece shorter). ``None``
        (the default) yields every line whole, however long: text8's single line would be one
        list of 17 million strings (about 1 GB), so pass e.g. 10000 for such files.

    Yields
    ------
    list of str
        The tokens of one sentence; empty sentences (blank lines) are skipped.
    """
    if max_sentence_length is not None:
        max_sentence_length = params.check_positive_int("max_sentence_length", max_sentence_length)
    paths = corpus_paths(corpus, encoding, errors)
    if paths is None:
        return _iter_token_lists(corpus, max_sentence_length)
    return _iter_file_sentences(paths, encoding, errors, max_sentence_length)


# -- corpus kinds -------------------------------------------------------------------------------


def _paths_pieces(corpus, paths, encoding: str,
                  errors: str) -> Iterator[tuple[list[str], list[int]]]:
    """Stream ``corpus`` (its files as ``corpus_paths`` found them; None: token lists) as
    (tokens, ends): ``ends`` are the positions in ``tokens`` after which a sentence ends
    (sentences may be empty here; a sentence may span several pieces)."""
    if paths is None:
        return _token_list_pieces(corpus)
    return chain.from_iterable(file_pieces(p, encoding, errors) for p in paths)


def _token_list_pieces(sentences) -> Iterator[tuple[list[str], list[int]]]:
    """(tokens, ends) of an iterable of token lists, ``BATCH_TOKENS`` tokens or so at a time."""
    batch: list = []
    n = 0
    for sentence in sentences:
        sentence = sentence_tokens(sentence)
        batch.append(sentence)
        n += len(sentence)
        if n >= BATCH_TOKENS:
            yield list(chain.from_iterable(batch)), list(accumulate(map(len, batch)))
            batch = []
            n = 0
    if batch:
        yield list(chain.from_iterable(batch)), list(accumulate(map(len, batch)))


def _iter_token_lists(sentences, max_len: int | None) -> Iterator[list[str]]:
    for sentence in sentences:
        sentence = list(sentence_tokens(sentence))
        if not sentence:
            continue
        if max_len is None or len(sentence) <= max_len:
            yield sentence
        else:
            for i in range(0, len(sentence), max_len):
                yield sentence[i:i + max_len]


def _iter_file_sentences(paths: list[InputLike], encoding: str, errors: str,
                         max_len: int | None) -> Iterator[list[str]]:
    for path in paths:
        current: list[str] = []
        for tokens, ends in file_pieces(path, encoding, errors):
            start = 0
            for end in ends:
                current.extend(tokens[start:end])
                start = end
                if current:
                    yield from _cut(current, max_len)
                    current = []
            current.extend(tokens[start:])
            if max_len is not None and len(current) >= max_len:
                full = len(current) // max_len * max_len
                yield from _cut(current[:full], max_len)
                current = current[full:]


def _cut(tokens: list[str], max_len: int | None) -> Iterator[list[str]]:
    if max_len is None or len(tokens) <= max_len:
        yield tokens
    else:
        for i in range(0, len(tokens), max_len):
            yield tokens[i:i + max_len]


# -- encoding -----------------------------------------------------------------------------------


def _check_words(words: list) -> None:
    bad = next((w for w in words if not isinstance(w, str)), None)
    if bad is not None:
        raise TypeError(f"tokens must be str, got {type(bad).__name__} {bad!r}")


class _IdBuffer:
    """All the corpus's ids in one int32 array that grows in place, and the sentence ends.

    The array grows by ``ndarray.resize`` (realloc: large blocks are remapped, not copied), so
    the ids take 4 bytes a token plus at most a quarter of slack; ``finish`` maps and compacts
    them in place, a segment at a time.
    """

    SEGMENT = 1 << 18

    def __init__(self):
        self.ids = np.empty(self.SEGMENT, dtype=np.int32)
        self.size = 0
        self.ends: list[np.ndarray] = []

    def append(self, ids: np.ndarray, ends: list[int]) -> None:
        """Add one piece's ids; ``ends`` are sentence ends as positions in ``ids``."""
        n = ids.size
        if self.size + n > self.ids.size:
            self.ids.resize(max(self.size + n, self.ids.size + self.ids.size // 4), refcheck=False)
        self.ids[self.size:self.size + n] = ids
        if ends:
            self.ends.append(np.array(ends, dtype=np.int64) + self.size)
        self.size += n

    def bincount(self, n_words: int) -> np.ndarray:
        """int64 (n_words,): how often each id occurs (a segment at a time: np.bincount
        converts its input to intp, 8 bytes a token)."""
        counts = np.zeros(n_words, dtype=np.int64)
        for a in range(0, self.size, self.SEGMENT):
            counts += np.bincount(self.ids[a:min(a + self.SEGMENT, self.size)], minlength=n_words)
        return counts

    def finish(self, raw_words: int, remap: np.ndarray | None = None) -> EncodedCorpus:
        """The encoded corpus: ids mapped through ``remap`` (if given), negative ids dropped,
        each sentence end moved back by the ids dropped before it (a cumulative sum of the keep
        mask), empty sentences removed. The buffer is consumed."""
        ids, size = self.ids, self.size
        old_ends = np.concatenate(self.ends) if self.ends else np.zeros(0, dtype=np.int64)
        self.ids, self.size, self.ends = np.empty(0, dtype=np.int32), 0, []
        offsets = np.empty(old_ends.size + 2, dtype=np.int64)
        new_ends = offsets[1:-1]
        kept = 0
        for a in range(0, size, self.SEGMENT):
            b = min(a + self.SEGMENT, size)
            segment = ids[a:b] if remap is None else remap[ids[a:b]]
            keep = segment >= 0
            known = segment[keep]
            # ends e in (a, b] follow the kept ids among ids[a:e]; ends at 0 stay 0
            lo, hi = np.searchsorted(old_ends, [a, b], side="right")
            new_ends[lo:hi] = kept + np.cumsum(keep, dtype=np.int32)[old_ends[lo:hi] - a - 1]
            ids[kept:kept + known.size] = known  # kept <= a: never overwrites unread ids
            kept += known.size
        if size:
            del segment, keep, known  # no view of ``ids`` may outlive its resize
        new_ends[old_ends == 0] = 0
        del old_ends
        ids.resize(kept, refcheck=False)
        offsets[0], offsets[-1] = 0, kept
        nonempty = np.empty(offsets.size, dtype=bool)
        nonempty[0] = True
        nonempty[1:] = offsets[1:] != offsets[:-1]
        return EncodedCorpus(ids, offsets[nonempty], raw_words)
