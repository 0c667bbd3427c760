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
    ``rows[offsets[w]:offsets[w + 1]]``. The input matrix these index has ``V + bucket`` rows."""
    words = list(words)
    nwords = len(words)
    if nwords + bucket > np.iinfo(np.int32).max:
        raise ValueError(f"{nwords} words + {bucket} buckets do not fit int32 row ids")
    offsets = np.zeros(nwords + 1, dtype=np.int64)
    chunks: List[List[int]] = []
    for w, word in enumerate(words):
        rows = subword_rows(word, w, nwords, min_n, max_n, bucket)
        chunks.append(rows)
        offsets[w + 1] = offsets[w] + len(rows)
    flat = np.fromiter((r for rows in chunks for r in rows), dtype=np.int32, count=int(offsets[-1]))
    return offsets, flat
