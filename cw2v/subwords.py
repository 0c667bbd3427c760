"""fastText's character n-grams and their hash (Bojanowski et al. 2017, section 3.2), byte for
byte as fastText 0.9's ``src/dictionary.cc`` computes them.

A word is wrapped in the boundary markers ``<`` and ``>`` and encoded as UTF-8; its n-grams are
the runs of ``min_n`` to ``max_n`` *characters* (a UTF-8 lead byte and its continuation bytes
count as one character, ``(byte & 0xC0) == 0x80`` marks a continuation), except the lone markers
``<`` and ``>`` (an n-gram of one character at either end). Each n-gram is hashed with 32-bit
FNV-1a over its bytes, each byte sign-extended first as fastText's ``int8_t`` cast does (so bytes
>= 0x80 XOR in ``0xFFFFFF80 | byte``), and lands in bucket ``hash % bucket``; its row in the input
matrix is ``nwords + bucket_index``. A word of the vocabulary is represented by its own row (its
id) followed by its n-grams' rows, in fastText's order; a word outside it by its n-grams only.
The end-of-sentence token ``</s>`` has no n-grams, and ``max_n = 0`` turns n-grams off.
"""
from __future__ import annotations

from typing import Iterable, List, Sequence, Tuple

import numpy as np

from . import params

__all__ = ["EOS", "fasttext_hash", "ngrams", "ngram_buckets", "subword_rows", "subword_table"]

EOS = "</s>"  # fastText's end-of-sentence token: never given n-grams
_BOW, _EOW = b"<", b">"
_FNV_OFFSET, _FNV_PRIME, _MASK32 = 2166136261, 16777619, 0xFFFFFFFF


def fasttext_hash(data: bytes) -> int:
    """fastText's ``Dictionary::hash``: 32-bit FNV-1a over ``data``, each byte sign-extended as
    an ``int8_t`` before the XOR."""
    h = _FNV_OFFSET
    for b in data:
        h = ((h ^ (b | 0xFFFFFF00 if b >= 0x80 else b)) * _FNV_PRIME) & _MASK32
    return h


def _check_range(min_n: int, max_n: int) -> None:
    if min_n < 1 or max_n < 0:
        raise ValueError(f"min_n must be >= 1 and max_n >= 0, got min_n={min_n}, max_n={max_n}")


def ngrams(word: str, min_n: int = params.default("min_n"),
           max_n: int = params.default("max_n")) -> List[bytes]:
    """The character n-grams of ``word`` in fastText's order (by start, then by length), as the
    UTF-8 bytes fastText hashes, boundary markers included. Empty when ``max_n < min_n``."""
    _check_range(min_n, max_n)
    if word == EOS or max_n < min_n:
        return []
    w = _BOW + word.encode("utf-8", "surrogateescape") + _EOW  # (a file's invalid UTF-8 too)
    size = len(w)
    out: List[bytes] = []
    for i in range(size):
        if (w[i] & 0xC0) == 0x80:
            continue
        j, n = i, 1
        while j < size and n <= max_n:
            j += 1
            while j < size and (w[j] & 0xC0) == 0x80:
                j += 1
            if n >= min_n and not (n == 1 and (i == 0 or j == size)):
                out.append(w[i:j])
            n += 1
    return out


def ngram_buckets(word: str, min_n: int, max_n: int, bucket: int) -> List[int]:
    """The bucket index (``hash % bucket``, before adding ``nwords``) of each of ``word``'s
    n-grams, in :func:`ngrams`' order; empty when ``bucket`` is 0."""
    if bucket < 0:
        raise ValueError(f"bucket must be >= 0, got {bucket}")
    if bucket == 0:
        return []
    return [fasttext_hash(g) % bucket for g in ngrams(word, min_n, max_n)]


def subword_rows(word: str, word_id: int, nwords: int, min_n: int, max_n: int,
                 bucket: int) -> List[int]:
    """The input-matrix rows whose mean is ``word``'s vector in fastText: its own row
    ``word_id`` (pass -1 for a word outside the vocabulary: then n-grams only) followed by
    ``nwords + b`` for each n-gram bucket ``b``."""
    rows = [word_id] if word_id >= 0 else []
    rows.extend(nwords + b for b in ngram_buckets(word, min_n, max_n, bucket))
    return rows


def subword_table(words: Sequence[str] | Iterable[str], min_n: int = params.default("min_n"),
                  max_n: int = params.default("max_n"),
                  bucket: int = params.default("bucket")) -> Tuple[np.ndarray, np.ndarray]:
    """Every vocabulary word's rows (:func:`subword_rows` with its index as id) in CSR form:
    ``offsets`` (int64, V + 1) and ``rows`` (int32), word ``w``'s rows being
    ``rows[offsets[w]:offsets[w + 1]]``. The input matrix these index has ``V + bucket`` rows.
    Computed with NumPy, a block of words at a time."""
    words = list(words)
    nwords = len(words)
    if nwords + bucket > np.iinfo(np.int32).max:
        raise ValueError(f"{nwords} words + {bucket} buckets do not fit int32 row ids")
    offsets, pieces = [np.zeros(1, dtype=np.int64)], []
    for start in range(0, nwords, _TABLE_BLOCK):
        block_offsets, block_rows = _ngram_table(words[start:start + _TABLE_BLOCK], nwords,
                                                 min_n, max_n, bucket)
        block_rows[block_offsets[:-1]] += start  # the words' own rows
        offsets.append(block_offsets[1:] + offsets[-1][-1])
        pieces.append(block_rows.astype(np.int32))
    rows = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int32)
    return np.concatenate(offsets), rows


_TABLE_BLOCK = 1 << 13  # words a block of subword_table: bounds _ngram_table's temporaries (~32 MB)


def _ngram_table(words: Sequence[str], nwords: int, min_n: int, max_n: int,
                 bucket: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows of ``subword_rows`` for a block of a vocabulary of ``nwords`` words, computed
    with NumPy over all the block's bytes at once (the same rows in the same order, as the
    tests check against ``subword_rows``; about 4x faster than word by word).

    Returns ``offsets`` (int64, len(words) + 1) and ``rows`` (int64): word ``i``'s rows are
    ``rows[offsets[i]:offsets[i + 1]]``, its own row ``i`` (relative to the block: the caller
    adds the block's first id) then ``nwords + bucket index`` per n-gram."""
    n_block = len(words)
    own = np.arange(n_block, dtype=np.int64)
    if bucket == 0 or max_n < min_n:
        return np.arange(n_block + 1, dtype=np.int64), own
    encoded = [b"" if w == EOS else b"<" + w.encode("utf-8", "surrogateescape") + b">"
               for w in words]
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=n_block)
    data = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    # Each word's character starts (a byte that is not 10xxxxxx), then its end: "boundaries".
    char_start = (data & 0xC0) != 0x80
    word_of_byte = np.repeat(own, lengths)
    starts = np.flatnonzero(char_start)
    nchars = np.bincount(word_of_byte[starts], minlength=n_block)
    bounds_word = np.concatenate([word_of_byte[starts], own[lengths > 0]])
    bounds_pos = np.concatenate([starts, np.cumsum(lengths)[lengths > 0]])
    order = np.lexsort((bounds_pos, bounds_word))
    bounds = bounds_pos[order]  # per word: its character starts, then its end
    first = np.concatenate([[0], np.cumsum(nchars + (lengths > 0))[:-1]])
    # Every character start c (k-th of its word) begins n-grams of n = 1..max_n characters.
    is_start = np.ones(bounds.size, dtype=bool)
    is_start[(first + nchars)[lengths > 0]] = False
    c = np.flatnonzero(is_start)
    word = bounds_word[order][c]
    k = c - first[word]
    signed = data.astype(np.uint32)
    signed[data >= 0x80] |= np.uint32(0xFFFFFF00)  # fastText's int8_t cast
    h = np.full(c.size, 2166136261, dtype=np.uint32)
    pieces_word, pieces_k, pieces_n, pieces_row = [own], [np.full(n_block, -1)], \
        [np.zeros(n_block, dtype=np.int64)], [own]
    alive = np.ones(c.size, dtype=bool)
    for n in range(1, max_n + 1):
        alive &= k + n <= nchars[word]
        if not alive.any():
            break
        lo, hi = bounds[c[alive] - 0 + n - 1], bounds[c[alive] + n]
        hv = h[alive]
        for j in range(4):  # a UTF-8 character has 1 to 4 bytes
            more = lo + j < hi
            if not more.any():
                break
            hv[more] = (hv[more] ^ signed[lo[more] + j]) * np.uint32(16777619)
        h[alive] = hv
        if n >= min_n:
            keep = alive.copy()
            if n == 1:
                keep &= (k != 0) & (k + 1 != nchars[word])
            pieces_word.append(word[keep])
            pieces_k.append(k[keep])
            pieces_n.append(np.full(int(keep.sum()), n))
            pieces_row.append(nwords + (h[keep] % np.uint32(bucket)).astype(np.int64))
    all_word, all_k, all_n = (np.concatenate(x) for x in (pieces_word, pieces_k, pieces_n))
    rows = np.concatenate(pieces_row)[np.lexsort((all_n, all_k, all_word))]
    offsets = np.concatenate([[0], np.cumsum(np.bincount(all_word, minlength=n_block))])
    return offsets.astype(np.int64), rows
