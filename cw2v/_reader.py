"""The reader layer: bytes of corpus files into tokens, for ``cw2v.corpus``, ``cw2v._prepare`` and
``cw2v.phrases`` (a leaf: it imports no cw2v module but ``_files`` and the compiled ``_text``).

* errors: ``CorpusError``, ``CorpusDecodeError`` (public as ``cw2v.corpus``'s);
* what a corpus is: ``corpus_paths`` (its files: folders, glob patterns and URLs expanded by
  ``expand_path``; None for an iterable of token lists), ``sentence_tokens``;
* whitespace: ``ASCII_WHITESPACE`` (the bytes a chunk is cut after) and ``holds_whitespace``
  (``str.split()``'s whitespace, which the compiled reader splits UTF-8 bytes on too);
* chunks: files read ``CHUNK_SIZE`` bytes at a time, decoded (``decode``, ``decoded_chunks``) and
  split (``split_chunk``) into (tokens, ends) pieces (``file_pieces``), or split by the compiled
  reader into (ids, ends) (``file_id_pieces``, ``id_pieces``; ``reads_bytes`` says when); byte
  ranges of the parallel pass (``range_pieces``, ``range_id_pieces``);
* the first-seen id table (``FirstSeen``) and ``to_ids``.
"""
from __future__ import annotations

import codecs
import contextlib
import errno
import glob
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import accumulate

import numpy as np

from ._files import (
    COMPRESSION_ERRORS,
    InputLike,
    PathLike,
    ReadAhead,
    check_binary_stream,
    check_text_encoding,
    corrupt_stream_reason,
    expand_url,
    input_name,
    is_stream,
    is_url,
    open_input,
    regular_file_descriptor,
)
from ._text import WordTable

#: Bytes read (and decoded) at a time from a corpus file.
CHUNK_SIZE = 1 << 20


class CorpusError(ValueError):
    """A corpus file that cannot be read as text: a corrupt or truncated compressed stream, or
    (``CorpusDecodeError``) bytes its encoding cannot decode. The message names the file.

    Attributes
    ----------
    path : str
        The file (a file object's ``name``, ``"<stream>"`` if it has none).
    """

    __module__ = "cw2v.corpus"  # (its public home, which re-exports it)

    def __init__(self, path: str, message: str):
        self.path = path
        super().__init__(message)

    def __reduce__(self):  # (raised in a worker process of the parallel pass)
        return type(self), (self.path, str(self))


class CorpusDecodeError(CorpusError):
    """A corpus file holds bytes its encoding cannot decode (with ``errors="strict"``).

    Attributes
    ----------
    path : str
        The file.
    offset : int
        Absolute offset of the first bad byte in the (decompressed) byte stream.
    encoding : str
        The encoding used.
    """

    __module__ = "cw2v.corpus"

    def __init__(self, path: str, offset: int, encoding: str, reason: str):
        self.offset = offset
        self.encoding = encoding
        self.reason = reason
        super().__init__(
            path,
            f"cannot decode corpus file {path!r} as {encoding}: {reason} at byte offset {offset} "
            "(of the decompressed text); pass errors='replace' or errors='ignore' to read it "
            "anyway"
        )

    def __reduce__(self):
        return type(self), (self.path, self.offset, self.encoding, self.reason)


def is_file(item) -> bool:
    """Whether ``item`` is one file of a corpus (a path or a file object)."""
    return isinstance(item, (str, os.PathLike)) or is_stream(item)


def corpus_paths(corpus, encoding: str, errors: str) -> list[InputLike] | None:
    """The files of ``corpus`` (paths checked to exist, file objects checked to read bytes);
    None if it is an iterable of sentences."""
    if is_file(corpus):
        paths = [corpus]
    elif isinstance(corpus, (list, tuple)) and corpus and all(map(is_file, corpus)):
        paths = list(corpus)
    elif isinstance(corpus, (bytes, bytearray, memoryview)):
        raise TypeError("corpus must be a path (str or os.PathLike), a list of paths or an "
                        "iterable of token lists, not bytes")
    elif not isinstance(corpus, Iterable):
        raise TypeError("corpus must be a path (str or os.PathLike), a list of paths or an "
                        f"iterable of token lists, got {type(corpus).__name__}")
    else:
        return None
    check_text_encoding(encoding, errors)  # LookupError now, not after a long read
    resolved = [f for p in paths for f in expand_path(p)]
    for p in resolved:
        if is_stream(p):
            check_binary_stream(p)
        elif not is_url(p) and not os.path.exists(p):
            hint = (" (a list of str is read as a list of file paths; pass sentences as lists "
                    "of tokens, e.g. [['the', 'cat'], ['a', 'dog']])"
                    if isinstance(corpus, (list, tuple)) else "")
            raise FileNotFoundError(errno.ENOENT, f"corpus file not found{hint}", p)
    return resolved


def expand_path(path) -> list:
    """The files of one corpus entry: a folder's files (not hidden, sorted by name, not
    recursive, as gensim's ``PathLineSentences``), a glob pattern's matches (sorted; a path
    that exists is never taken as a pattern), a URL's files (fsspec), or the entry itself."""
    if is_stream(path):
        return [path]
    if is_url(path):
        return expand_url(path)
    path = os.fspath(path)
    if os.path.isdir(path):
        files = sorted(os.path.join(path, name) for name in os.listdir(path)
                       if not name.startswith(".") and os.path.isfile(os.path.join(path, name)))
        if not files:
            raise FileNotFoundError(errno.ENOENT, "corpus folder holds no file", path)
        return files
    if not os.path.exists(path) and any(c in path for c in "*?["):
        files = sorted(f for f in glob.glob(path) if os.path.isfile(f))
        if not files:
            raise FileNotFoundError(errno.ENOENT, "no corpus file matches this pattern", path)
        return files
    return [path]


def corpus_inputs(corpus, label: str = "corpus file") -> list[tuple[str, PathLike]]:
    """``(label, path)`` for each local file a corpus given by path(s) reads -- a folder's
    files and a glob's matches included -- for ``check_distinct``; nothing for file objects,
    URLs and sentences in memory (an entry that cannot be listed is left to the reader)."""
    entries = corpus if isinstance(corpus, (list, tuple)) else [corpus]
    files: list[tuple[str, PathLike]] = []
    for entry in entries:
        if isinstance(entry, (str, os.PathLike)) and not is_url(entry):
            with contextlib.suppress(OSError):
                files += [(label, f) for f in expand_path(entry)]
    return files


def sentence_tokens(sentence) -> list | tuple:
    """A sentence of an iterable corpus as a list/tuple, or TypeError explaining what to pass."""
    if isinstance(sentence, (list, tuple)):
        return sentence
    if isinstance(sentence, (str, bytes)):
        raise TypeError(
            f"the corpus yielded a bare {type(sentence).__name__} ({sentence[:40]!r}) where a "
            "sentence (a list of str tokens) was expected: wrap each sentence as a list of tokens, "
            "e.g. line.split(), or pass file paths (a path or a list of paths) instead"
        )
    try:
        return list(sentence)
    except TypeError:
        raise TypeError(
            f"each sentence must be a list of str tokens, got {type(sentence).__name__}"
        ) from None


# -- files --------------------------------------------------------------------------------------

@contextmanager
def opened(path: InputLike):
    """(f, name): ``path`` opened by ``open_input``; a corrupt or truncated compressed stream
    met while reading raises ``CorpusError`` naming it."""
    name = input_name(path)
    try:
        with open_input(path) as f:
            yield f, name
    except COMPRESSION_ERRORS as e:
        reason = corrupt_stream_reason(e)
        if reason is None:
            raise  # the file itself cannot be read: its OSError says why
        raise CorpusError(name, f"cannot read corpus file {name!r}: {reason}") from e


def decoded_chunks(path: InputLike, encoding: str,
                    errors: str) -> Iterator[tuple[str, bool]]:
    """(text, final) for each chunk of ``path``, decoded incrementally; ``final`` on the last."""
    with opened(path) as (f, name):
        yield from decode(f, name, encoding, errors)


#: The bytes ``bytes.split()`` splits on (`` \t\n\r\v\f``): whitespace to every reader --
#: ``str.split()``, the compiled corpus reader, the phrase table (``cw2v_space`` in
#: ``_text.pyx``). Text is cut into pieces just after one of them: never inside a token, nor
#: inside a UTF-8 character (whose bytes are all >= 0x80).
ASCII_WHITESPACE = b" \t\n\r\x0b\x0c"


def holds_whitespace(text: str) -> bool:
    """Whether ``text`` holds a character the reader splits tokens on: ``str.split()``'s
    whitespace (``str.isspace()``: the ASCII ones, ``\\x1c``-``\\x1f``, ``\\x85``, ``\\xa0``,
    the Unicode spaces and separators), which the compiled reader splits UTF-8 bytes on too."""
    return any(c.isspace() for c in text)


def reads_bytes(encoding: str, errors: str) -> bool:
    """Whether files in ``encoding`` read with ``errors`` go through the compiled reader
    (``cw2v._text.WordTable``), which splits UTF-8 bytes as ``str.split()`` splits the decoded
    text; the text is checked to decode first (ASCII text, most corpora, at memory speed), so
    the tokens, ids and errors are the str reader's."""
    return errors == "strict" and codecs.lookup(encoding).name in ("utf-8", "ascii")


def file_id_pieces(path: InputLike, table: WordTable, add: bool,
                    encoding: str) -> Iterator[tuple[np.ndarray, list[int]]]:
    """(ids, ends) for each chunk of a file by the compiled reader; its last piece ends a
    sentence. ``add``: new words get ids (counting), or -1 (encoding with a vocabulary)."""
    with opened(path) as (f, name):
        if regular_file_descriptor(f) is not None:  # a plain file: the page cache is fast
            yield from id_pieces(f, name, table, add, encoding)
            return
        with ReadAhead(f, CHUNK_SIZE) as ahead:  # decompression (or a pipe) beside tokenizing
            yield from id_pieces(ahead, name, table, add, encoding)


def id_pieces(f, name: str, table: WordTable, add: bool, encoding: str, consumed: int = 0,
               limit: int | None = None, last: bool = True):
    """(ids, ends) of the text read from ``f`` (at most ``limit`` bytes; ``consumed``: the
    offset of its first byte, for errors), a ``CHUNK_SIZE`` at a time, a token cut by a chunk
    border carried over; ``last``: the text's end ends a sentence."""
    rest = b""
    while True:
        data = f.read(CHUNK_SIZE if limit is None else min(CHUNK_SIZE, limit))
        if limit is not None:
            limit -= len(data)
        final = not data
        buf = rest + data if rest else data
        cut = len(buf) if final else max(buf.rfind(c) for c in ASCII_WHITESPACE) + 1
        piece = memoryview(buf)[:cut]
        if not buf.isascii():
            try:
                codecs.decode(piece, encoding)
            except UnicodeDecodeError as e:
                raise CorpusDecodeError(name, consumed + e.start, encoding, e.reason) from e
        ids = np.empty((cut + 1) // 2, dtype=np.int32)
        ends = np.empty(buf.count(b"\n", 0, cut), dtype=np.int64)
        n, n_ends = table.encode_chunk(piece, add, ids, ends)
        piece.release()
        ends_list = ends[:n_ends].tolist()
        if final and last:
            ends_list.append(n)
        yield ids[:n], ends_list
        if final:
            return
        consumed += cut
        rest = buf[cut:]


def decode(f, name: str, encoding: str, errors: str, consumed: int = 0,
            limit: int | None = None) -> Iterator[tuple[str, bool]]:
    """(text, final) for each ``CHUNK_SIZE`` read from ``f`` (at most ``limit`` bytes), decoded
    incrementally; a decode error names ``name`` and the byte offset (``consumed`` is the
    offset of ``f``'s first byte in the text)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors)
    while True:
        data = f.read(CHUNK_SIZE if limit is None else min(CHUNK_SIZE, limit))
        if limit is not None:
            limit -= len(data)
        final = not data
        pending = len(decoder.getstate()[0])  # bytes the decoder holds from earlier reads
        try:
            text = decoder.decode(data, final)
        except UnicodeDecodeError as e:
            raise CorpusDecodeError(name, consumed - pending + e.start, encoding,
                                    e.reason) from e
        consumed += len(data)
        yield text, final
        if final:
            return


def file_pieces(path: InputLike, encoding: str,
                 errors: str) -> Iterator[tuple[list[str], list[int]]]:
    """(tokens, ends) for each chunk of a file; its last piece ends a sentence."""
    carry = ""
    for text, final in decoded_chunks(path, encoding, errors):
        tokens, ends, carry = split_chunk(text, carry, final)
        if final:
            ends.append(len(tokens))
        yield tokens, ends


def range_pieces(task, encoding: str,
                  errors: str) -> Iterator[tuple[list[str], list[int]]]:
    """(tokens, ends) of a task of the parallel pass (``cw2v._prepare.Task``): a whole file as
    ``file_pieces`` reads it, or the byte range [start, end) of a plain file (or of a segment
    of a decompressed one), whose end ends a sentence only if it is the file's end."""
    if task.end is None:
        yield from file_pieces(task.path, encoding, errors)
        return
    carry = ""
    with open(task.path, "rb") as f:
        f.seek(task.start)
        # a segment of a decompressed file names that file, at offsets in its text
        for text, final in decode(f, task.origin or task.path, encoding, errors,
                                   consumed=task.start + task.base,
                                   limit=task.end - task.start):
            tokens, ends, carry = split_chunk(text, carry, final)
            if final and task.last:
                ends.append(len(tokens))
            yield tokens, ends


def range_id_pieces(task, table: WordTable,
                     encoding: str) -> Iterator[tuple[np.ndarray, list[int]]]:
    """``range_pieces`` by the compiled reader: (ids, ends), new words added to ``table``."""
    if task.end is None:
        yield from file_id_pieces(task.path, table, True, encoding)
        return
    with open(task.path, "rb") as f:
        f.seek(task.start)
        yield from id_pieces(f, task.origin or task.path, table, True, encoding,
                              consumed=task.start + task.base, limit=task.end - task.start,
                              last=task.last)


def split_chunk(text: str, carry: str, final: bool) -> tuple[list[str], list[int], str]:
    """Split ``carry + text`` into tokens and line ends, keeping back a token the chunk cuts.

    Returns (tokens, ends, carry): ``ends`` are the positions in ``tokens`` of each newline,
    and the new ``carry`` is the last token if ``text`` does not end in whitespace (it may go on
    in the next chunk), unless ``final``.
    """
    if not text and not final:
        return [], [], carry
    # Tokens per line are counted with throw-away lists: keeping one list per line alive would
    # wake the garbage collector over and over (twice the time on short-line corpora).
    lens = [len(line.split()) for line in text.split("\n")] if "\n" in text else None
    tokens = text.split()
    if carry:
        if text and not text[0].isspace():
            tokens[0] = carry + tokens[0]
        else:
            tokens.insert(0, carry)  # the carried token was whole
            if lens:
                lens[0] += 1
    if not final and text and not text[-1].isspace():
        carry = tokens.pop()  # (the last line's length is never used: it has no end yet)
    else:
        carry = ""
    return tokens, list(accumulate(lens[:-1])) if lens else [], carry


class FirstSeen(dict):
    """word -> provisional id; a word not seen before gets the next id (ids are never reused,
    even after words are deleted)."""

    __slots__ = ("next_id",)

    def __init__(self):
        super().__init__()
        self.next_id = 0

    def __missing__(self, word):
        i = self[word] = self.next_id
        self.next_id += 1
        return i


def to_ids(ids: Iterator[int], n: int) -> np.ndarray:
    """An int32 array from an iterator of ``n`` ids (TypeError on an unhashable token)."""
    try:
        return np.fromiter(ids, dtype=np.int32, count=n)
    except TypeError as e:
        raise TypeError(f"tokens must be str: {e}") from None
