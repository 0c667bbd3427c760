"""Phrases: frequent collocations joined into single tokens (``new york`` -> ``new_york``).

The rule is word2phrase's (Mikolov et al. 2013, "Distributed Representations of Words and Phrases
and their Compositionality", section 4):

* one pass counts words and adjacent bigrams within sentences (a bigram never spans a line
  break, nor the end of a file);
* ``score(a, b) = (count(a b) - min_count) / count(a) / count(b) * total_words``, where
  ``total_words`` is the number of tokens read; a, b and the bigram must each be counted at
  least ``min_count`` times; ``a b`` is a phrase when its score is > ``threshold`` (strictly);
* applying joins greedily left to right: once ``a b`` is joined, ``b`` cannot also join the next
  word. Trigrams come from a second pass over the joined text (word2vec.c's demo: threshold 200,
  then 100)::

      from cw2v.phrases import Phrases
      bigrams = Phrases("wiki8.txt.xz", threshold=200).freeze()
      trigrams = Phrases(bigrams.stream("wiki8.txt.xz"), threshold=100).freeze()
      model = Word2Vec.from_corpus("wiki8.txt.xz", phrases=[bigrams, trigrams])

``scoring="npmi"`` scores by normalised pointwise mutual information instead (gensim's
``npmi_scorer``, bounded in [-1, 1]): ``ln(p(ab) / (p(a) p(b))) / -ln(p(ab))`` with
``p(x) = count(x) / total_words``. ``connector_words`` (gensim 4's name) are words such as
"of", "the" that may sit inside a phrase (``bank_of_america``) without starting or ending one:
``a c1 ... ck b`` is counted and scored as one candidate of a and b, and a connector word's own
count is not kept (as gensim does). ``ENGLISH_CONNECTOR_WORDS`` is gensim's list.

Input and speed
---------------
A corpus is what ``Word2Vec.from_corpus`` takes: a path (plain, .gz, .bz2 or .xz, one sentence a
line or text8's single line), a binary file object, a folder (its files in name order), a list of
these, or an iterable of token lists. Files are read in 1 MiB chunks; the compiled kernel
(``cw2v._text``, GIL released) splits the raw bytes on ASCII whitespace (``b" \\t\\n\\r\\v\\f"``,
as ``bytes.split()``; UTF-8 never uses these bytes inside a character), counts in its own
open-addressing tables and joins phrases, so no Python string is made per token. Token lists are
joined into text, a batch at a time, and go the same way: their tokens must hold no whitespace.

Counts are exact: a word's entry is found by a 64-bit hash of its bytes *and* a comparison of the
bytes; a bigram's key is the pair of word ids itself (longer candidates through connector words:
their ids, compared). Unlike gensim and word2phrase, a token ``a_b`` and the bigram ``a b`` are
different entries.

Applying only reads the table, so several threads may apply one ``FrozenPhrases`` at once (the
GIL is released while they do). Without connector words, applying checks each pair of adjacent
words in a bit filter of the phrases' word hashes first, and looks words up only for the pairs it
lets through (the phrases and a few per cent of the others).

Bounded memory
--------------
``max_vocab_size`` bounds the entries counted (words and bigrams, as word2phrase's vocabulary
does). When it is exceeded, word2phrase's ReduceVocab runs: every entry counted ``<= floor``
times is dropped (a bigram holding a dropped word too) and ``floor``, which starts at 1, rises by
one -- repeated until the bound holds; it is checked at every word. Counts of what survives
are then lower bounds, as in word2phrase and gensim. An entry takes 16-byte hash slots at a load
of 0.35-0.7 (about 25-50 bytes; a word also 29 bytes and its text): the default 40 million
entries (gensim's default) is up to ~2 GB; pass less to bound it lower.
(gensim prunes entries counted ``< floor`` with a floor starting at 1, so its first pruning
drops nothing.)

Differences from gensim's ``Phrases`` (4.x)
-------------------------------------------
gensim's default scorer multiplies by the number of vocabulary entries where the paper (and
word2phrase) multiplies by the corpus length; cw2v follows the paper. With
``scoring=`` a function computing the paper's formula from gensim's ``corpus_word_count``, gensim
finds the same phrases with the same scores (tested). gensim requires no count of a or b to reach
``min_count`` (its score needs ``count(a b) > min_count``, which implies it unless pruning
intervened). Custom scoring functions are not supported here.

Saved forms
-----------
``Phrases.save`` / ``FrozenPhrases.save`` write cw2v's native container (``cw2v.io.save_arrays``:
a JSON header and named little-endian arrays, never pickle). ``Phrases``: metadata
``{"kind": "cw2v-phrases", min_count, threshold, scoring, delimiter, total_words, prune_floor,
prunes, n_connectors}`` and arrays ``word_bytes`` (uint8: the words back to back, UTF-8),
``word_offsets`` (int64, n + 1), ``word_counts`` (int64; the first ``n_connectors`` words are the
connector words), ``ngram_ids`` (int32 word ids back to back), ``ngram_offsets`` (int64),
``ngram_counts`` (int64). ``FrozenPhrases`` (kind ``"cw2v-frozen-phrases"``) holds only the
phrases: the same word arrays for the words they use, ``ngram_ids``/``ngram_offsets`` of each
phrase and ``scores`` (float64). ``FrozenPhrases.write_phrases`` writes ``phrase score`` lines.
"""
from __future__ import annotations

import contextlib
import io
import logging
import math
import numbers
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import BinaryIO

import numpy as np

from ._files import (
    PathLike,
    atomic_writer,
    decompresses,
    input_name,
    is_regular_file,
    is_stream,
    open_input,
)
from ._reader import corpus_paths, holds_whitespace, opened, sentence_tokens
from ._text import PhraseTable
from .io import load_arrays, save_arrays

logger = logging.getLogger(__name__)

#: gensim's ``ENGLISH_CONNECTOR_WORDS``: articles, some prepositions and conjunctions.
ENGLISH_CONNECTOR_WORDS = frozenset(
    ["a", "an", "the", "for", "of", "with", "without", "at", "from", "to", "in", "on", "by",
     "and", "or"])

#: word2phrase's defaults.
DEFAULT_MIN_COUNT = 5
DEFAULT_THRESHOLD = 100.0
#: Entries (words + bigrams) counted before pruning; gensim's default.
DEFAULT_MAX_VOCAB_SIZE = 40_000_000

CHUNK_SIZE = 1 << 20
_BATCH_TOKENS = 1 << 16
_SCORINGS = {"default": 0, "npmi": 1}
_UNBOUNDED = 1 << 62

_KIND = "cw2v-phrases"
_FROZEN_KIND = "cw2v-frozen-phrases"


# -- validation ---------------------------------------------------------------------------------

def _check_settings(min_count, threshold, scoring, delimiter, max_vocab_size,
                    connector_words) -> tuple[int, float, str, str, int | None, tuple[str, ...]]:
    """Every parameter checked, before any corpus is read (ValueError / TypeError naming it)."""
    if isinstance(min_count, bool) or not isinstance(min_count, numbers.Integral) \
            or not 1 <= min_count <= _UNBOUNDED:
        raise ValueError(f"min_count must be an integer in [1, 2**62], got {min_count!r}")
    if scoring not in _SCORINGS:
        raise ValueError(f"scoring must be 'default' or 'npmi', got {scoring!r}")
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) \
            or not math.isfinite(threshold):
        raise ValueError(f"threshold must be a finite number, got {threshold!r}")
    if scoring == "default" and threshold <= 0:
        raise ValueError(f"threshold must be > 0 with scoring='default', got {threshold!r}")
    if scoring == "npmi" and not -1 <= threshold <= 1:
        raise ValueError(f"threshold must be in [-1, 1] with scoring='npmi', got {threshold!r}")
    # (whitespace as the corpus reader splits on it: a phrase joined by it would be split
    # again when the phrased text is read)
    if not isinstance(delimiter, str) or not delimiter or holds_whitespace(delimiter):
        raise ValueError(f"delimiter must be a non-empty str without whitespace (the characters "
                         f"str.split() splits on, which the corpus reader splits on), got "
                         f"{delimiter!r}")
    if max_vocab_size is not None and (isinstance(max_vocab_size, bool) or not isinstance(
            max_vocab_size, numbers.Integral) or not 1 <= max_vocab_size <= _UNBOUNDED):
        raise ValueError(f"max_vocab_size must be an integer in [1, 2**62] or None (no bound), "
                         f"got {max_vocab_size!r}")
    if isinstance(connector_words, (str, bytes)):
        raise TypeError("connector_words must be an iterable of str, not a single str")
    words = tuple(dict.fromkeys(connector_words))
    for w in words:
        if not isinstance(w, str) or not w or holds_whitespace(w):
            raise ValueError(f"connector_words must be non-empty str without whitespace, got "
                             f"{w!r}")
    return (int(min_count), float(threshold), scoring, delimiter,
            None if max_vocab_size is None else int(max_vocab_size), words)


# -- reading a corpus as byte chunks -------------------------------------------------------------

def _sources(corpus):
    """The files of ``corpus`` (checked now), or None for an iterable of token lists."""
    return corpus_paths(corpus, "utf-8", "strict")  # (folders, patterns expanded)


def _file_chunks(path) -> Iterator[tuple[bytes, bool]]:
    """(data, final) for each chunk of a file, decompressed; ``final`` (empty data) at its end.
    A corrupt or truncated compressed stream raises ``CorpusError`` naming it."""
    with opened(path) as (f, _):
        while True:
            data = f.read(CHUNK_SIZE)
            yield data, not data
            if not data:
                return


def _sentence_batches(sentences) -> Iterator[tuple[bytes, int]]:
    """Token lists as text (one line each, every line ended), ``_BATCH_TOKENS`` tokens or so a
    batch, with the number of sentences in it."""
    lines: list[str] = []
    n = 0
    for sentence in sentences:
        tokens = sentence_tokens(sentence)
        try:
            lines.append(" ".join(tokens))
        except TypeError:
            bad = next(t for t in tokens if not isinstance(t, str))
            raise TypeError(f"tokens must be str, got {type(bad).__name__} {bad!r}") from None
        n += len(tokens) + 1
        if n >= _BATCH_TOKENS:
            yield _encode_lines(lines), len(lines)
            lines, n = [], 0
    if lines:
        yield _encode_lines(lines), len(lines)


def _encode_lines(lines: list[str]) -> bytes:
    try:
        return ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape")
    except TypeError as e:
        raise TypeError(f"tokens must be str: {e}") from None


def _progress_bar(progress: bool | None, total: int | None, desc: str):
    from tqdm.auto import tqdm

    if progress is None:
        progress = sys.stderr.isatty()
    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=desc,
                disable=not progress, mininterval=0.5)


def _file_size(path) -> int | None:
    """Bytes a plain regular file holds, or None (compressed, a stream, a pipe: never opened,
    since that would take bytes from it)."""
    if is_stream(path) or not is_regular_file(path):
        return None
    try:
        with open_input(path) as f:
            if decompresses(f):
                return None
        return os.path.getsize(path)
    except OSError:
        return None


# -- learning -----------------------------------------------------------------------------------

class Phrases:
    """Counts of words and bigrams of a corpus, and the phrases they make (word2phrase's rule).

    Parameters
    ----------
    corpus : corpus, optional
        Anything ``Word2Vec.from_corpus`` takes, or a folder of files; read once, streamed.
        ``None``: an empty model, to ``learn`` from later.
    min_count : int, default 5
        Words and bigrams counted fewer times never make a phrase; also subtracted from the
        bigram's count in the default score (word2phrase's ``-min-count``).
    threshold : float, default 100
        A bigram is a phrase when its score is > threshold (word2phrase's ``-threshold``); > 0
        for the default scorer, in [-1, 1] for npmi.
    scoring : {"default", "npmi"}
        The paper's score, or gensim's normalised PMI (see the module docstring).
    connector_words : iterable of str
        Words that may sit inside a phrase but never start or end one
        (``ENGLISH_CONNECTOR_WORDS``: gensim's list).
    delimiter : str, default "_"
        What joins a phrase's words.
    max_vocab_size : int or None, default 40,000,000
        Entries (words and bigrams) counted before word2phrase's pruning runs (module
        docstring); None: never prune.
    progress : bool, optional
        A tqdm bar over the bytes read (default: when stderr is a terminal).

    Raises
    ------
    ValueError
        A parameter out of range (before the corpus is read), or an empty corpus.
    """

    def __init__(self, corpus=None, min_count: int = DEFAULT_MIN_COUNT,
                 threshold: float = DEFAULT_THRESHOLD, *, scoring: str = "default",
                 connector_words: Iterable[str] = (), delimiter: str = "_",
                 max_vocab_size: int | None = DEFAULT_MAX_VOCAB_SIZE,
                 progress: bool | None = None):
        (self.min_count, self.threshold, self.scoring, self.delimiter, self.max_vocab_size,
         self.connector_words) = _check_settings(min_count, threshold, scoring, delimiter,
                                                 max_vocab_size, connector_words)
        self._table = PhraseTable()
        self._table.max_entries = _UNBOUNDED if max_vocab_size is None else max_vocab_size
        for w in self.connector_words:
            self._table.add_connector(w.encode("utf-8"))
        self._frozen: FrozenPhrases | None = None
        if corpus is not None:
            self.learn(corpus, progress=progress)

    # -- counting ---------------------------------------------------------------------------

    def learn(self, corpus, progress: bool | None = None) -> Phrases:
        """Count the words and bigrams of ``corpus`` (added to the counts so far); returns self.

        Raises ValueError if the corpus holds no token (and nothing was counted before).
        """
        sources = _sources(corpus)
        table = self._table
        before = table.total_words
        if sources is None:
            for text, _ in _sentence_batches(corpus):
                table.count_chunk(text, True, 0)
        else:
            for path in sources:
                with _progress_bar(progress, _file_size(path),
                                   f"phrases: counting {input_name(path)}") as bar:
                    carry, skip = b"", 0
                    for data, final in _file_chunks(path):
                        buf = carry + data if carry else data
                        consumed, skip = table.count_chunk(buf, final, skip)
                        carry = buf[consumed:]
                        bar.update(len(data))
        self._frozen = None
        if table.total_words == 0:
            raise ValueError("cannot learn phrases: the corpus is empty (no tokens)")
        logger.info("phrases: counted %d words (%d distinct) and %d bigrams in %d tokens; "
                    "%d prunings (floor now %d)", table.total_words - before, table.n_words,
                    table.n_ngrams, table.total_words, table.prunes, table.prune_floor)
        return self

    @property
    def total_words(self) -> int:
        """Tokens read (connector words included): the ``total_words`` of the score."""
        return self._table.total_words

    @property
    def n_words(self) -> int:
        """Distinct words counted (connector words included)."""
        return self._table.n_words

    @property
    def n_bigrams(self) -> int:
        """Distinct bigrams counted (and longer candidates through connector words)."""
        return self._table.n_ngrams

    @property
    def prune_floor(self) -> int:
        """word2phrase's ``min_reduce``: the next pruning drops entries counted <= this."""
        return self._table.prune_floor

    def word_count(self, word: str) -> int:
        """How often ``word`` was counted (0 if never, or pruned)."""
        return int(self._table.word_value(word.encode("utf-8", "surrogateescape")))

    def bigram_count(self, *words: str) -> int:
        """How often the bigram ``a b`` (or ``a c1 ... b`` through connector words) was
        counted."""
        ids = [self._table.word_id(w.encode("utf-8", "surrogateescape")) for w in words]
        if len(ids) < 2 or min(ids) < 0:
            return 0
        return int(self._table.ngram_value(np.array(ids, dtype=np.int32)))

    def _words(self):
        return self._table.export_words()

    # -- phrases ----------------------------------------------------------------------------

    def freeze(self) -> FrozenPhrases:
        """The phrases (score > threshold) alone, in a table for fast application."""
        if self._frozen is None:
            self._frozen = FrozenPhrases._from_table(self)
        return self._frozen

    def export_phrases(self) -> dict[str, float]:
        """``{phrase: score}`` for every phrase (``"new_york": 512.3``)."""
        return self.freeze().export_phrases()

    def __getitem__(self, sentence):
        """``sentence`` (a list of str) with its phrases joined, or, for an iterable of
        sentences, a lazy iterator over them (as gensim's ``phrases[corpus]``)."""
        return self.freeze()[sentence]

    def apply(self, sentences: Iterable[Sequence[str]]) -> Iterator[list[str]]:
        """See ``FrozenPhrases.apply``."""
        return self.freeze().apply(sentences)

    def stream(self, corpus, progress: bool | None = None) -> BinaryIO:
        """See ``FrozenPhrases.stream``."""
        return self.freeze().stream(corpus, progress=progress)

    def transform(self, corpus):
        """See ``FrozenPhrases.transform``."""
        return self.freeze().transform(corpus)

    def apply_file(self, corpus, output: PathLike, progress: bool | None = None) -> int:
        """See ``FrozenPhrases.apply_file``."""
        return self.freeze().apply_file(corpus, output, progress=progress)

    def __repr__(self) -> str:
        return (f"Phrases<{self.n_words} words, {self.n_bigrams} bigrams, {self.total_words} "
                f"tokens, min_count={self.min_count}, threshold={self.threshold:g}, "
                f"scoring={self.scoring!r}>")

    # -- saving -----------------------------------------------------------------------------

    def _meta(self) -> dict:
        return {"min_count": self.min_count, "threshold": self.threshold,
                "scoring": self.scoring, "delimiter": self.delimiter,
                "connector_words": list(self.connector_words)}

    def save(self, path: PathLike) -> None:
        """Write all counts in cw2v's native format (module docstring), atomically."""
        blob, woff, wcounts, _ = self._words()
        ids, goff, gcounts = self._table.export_ngrams(self._table.all_slots())
        meta = {"kind": _KIND, **self._meta(), "max_vocab_size": self.max_vocab_size,
                "total_words": self.total_words, "prune_floor": self.prune_floor,
                "prunes": self._table.prunes, "n_connectors": len(self.connector_words)}
        save_arrays(path, meta, {"word_bytes": blob, "word_offsets": woff,
                                 "word_counts": wcounts, "ngram_ids": ids,
                                 "ngram_offsets": goff, "ngram_counts": gcounts})

    @classmethod
    def load(cls, path) -> Phrases:
        """Read a model written by ``save``."""
        meta, arrays = load_arrays(path)
        _check_kind(meta, _KIND, path)
        with _naming(path, _KIND):
            settings = _loaded_settings(meta, with_bound=True)
            model = cls(None, settings.pop("min_count"), settings.pop("threshold"), **settings)
            k = meta["n_connectors"]
            if k != len(model.connector_words):
                raise ValueError(f"n_connectors is {k!r}, but {len(model.connector_words)} "
                                 "connector words are listed")
            woff = arrays["word_offsets"]
            model._table.add_words(arrays["word_bytes"], np.ascontiguousarray(woff[k:]),
                                   np.ascontiguousarray(arrays["word_counts"][k:]))
            model._table.add_ngrams(arrays["ngram_ids"], arrays["ngram_offsets"],
                                    arrays["ngram_counts"])
            model._table.set_state(meta["total_words"], meta["prune_floor"], meta["prunes"])
        return model


def _check_kind(meta: dict, kind: str, path) -> None:
    if meta.get("kind") != kind:
        raise ValueError(f"{input_name(path)}: not a {kind} file (kind {meta.get('kind')!r})")


def _loaded_settings(meta: dict, with_bound: bool) -> dict:
    """The settings of a saved model, through the constructor's checks (``_check_settings``):
    a file is trusted no more than a caller."""
    keys = ("min_count", "threshold", "scoring", "delimiter", "connector_words")
    missing = [k for k in keys + (("max_vocab_size",) if with_bound else ()) if k not in meta]
    if missing:
        raise ValueError(f"the metadata has no {missing[0]!r}")
    connectors = meta["connector_words"]
    if not isinstance(connectors, list):
        raise ValueError(f"connector_words must be a list, got {connectors!r}")
    min_count, threshold, scoring, delimiter, bound, words = _check_settings(
        meta["min_count"], meta["threshold"], meta["scoring"], meta["delimiter"],
        meta.get("max_vocab_size"), connectors)
    settings = {"min_count": min_count, "threshold": threshold, "scoring": scoring,
                "delimiter": delimiter, "connector_words": list(words)}
    if with_bound:
        settings["max_vocab_size"] = bound
    return settings


@contextlib.contextmanager
def _naming(path, kind: str):
    """A loader's errors (a missing key or array, a bad setting or value) as one ValueError
    naming the file."""
    try:
        yield
    except KeyError as e:
        raise ValueError(f"{input_name(path)}: not a valid {kind} file: no {e.args[0]!r} "
                         "in it") from None
    except (ValueError, TypeError, IndexError, OverflowError) as e:
        raise ValueError(f"{input_name(path)}: not a valid {kind} file: {e}") from None


# -- applying -----------------------------------------------------------------------------------

class FrozenPhrases:
    """The phrases alone (from ``Phrases.freeze`` or ``FrozenPhrases.load``), for applying.

    Attributes
    ----------
    phrases : list of str
        Each phrase, its words joined by ``delimiter``.
    scores : numpy.ndarray
        float64, each phrase's score.
    """

    def __init__(self, table: PhraseTable, phrases: list[str], scores: np.ndarray,
                 settings: dict, arrays: dict[str, np.ndarray]):
        self._table = table
        self.phrases = phrases
        self.scores = scores
        self.settings = settings
        self.delimiter: str = settings["delimiter"]
        self._delim = self.delimiter.encode("utf-8")
        self._arrays = arrays

    @classmethod
    def _from_table(cls, model: Phrases) -> FrozenPhrases:
        table = model._table
        slots = np.empty(table.n_ngrams, dtype=np.int64)
        scores = np.empty(table.n_ngrams, dtype=np.float64)
        kept = table.score(_SCORINGS[model.scoring], model.min_count, model.threshold,
                           table.total_words, slots, scores)
        slots, scores = slots[:kept], scores[:kept]
        ids, goff, _ = table.export_ngrams(slots)
        blob, woff, _, _ = table.export_words()
        # the words the phrases use, renumbered after the connector words (which keep 0..k-1)
        k = len(model.connector_words)
        used = np.unique(ids)
        used = used[used >= k]
        new_id = np.arange(table.n_words, dtype=np.int32)
        new_id[used] = k + np.arange(used.size, dtype=np.int32)
        lengths = woff[used + 1] - woff[used]
        word_offsets = np.zeros(used.size + 1, dtype=np.int64)
        np.cumsum(lengths, out=word_offsets[1:])
        word_bytes = (np.concatenate([blob[woff[i]:woff[i + 1]] for i in used])
                      if used.size else np.zeros(0, dtype=np.uint8))
        arrays = {"word_bytes": word_bytes, "word_offsets": word_offsets,
                  "ngram_ids": new_id[ids].astype(np.int32), "ngram_offsets": goff,
                  "scores": scores}
        return cls._build(model._meta(), arrays)

    @classmethod
    def _build(cls, settings: dict, arrays: dict[str, np.ndarray]) -> FrozenPhrases:
        table = PhraseTable()
        for w in settings["connector_words"]:
            table.add_connector(w.encode("utf-8"))
        woff = np.ascontiguousarray(arrays["word_offsets"], dtype=np.int64)
        table.add_words(np.ascontiguousarray(arrays["word_bytes"], dtype=np.uint8), woff,
                        np.zeros(woff.size - 1, dtype=np.int64))
        ids = np.ascontiguousarray(arrays["ngram_ids"], dtype=np.int32)
        goff = np.ascontiguousarray(arrays["ngram_offsets"], dtype=np.int64)
        n = goff.size - 1
        table.add_ngrams(ids, goff, np.arange(1, n + 1, dtype=np.int64))
        if table.n_ngrams != n:
            raise ValueError("a phrase is listed twice")
        table.build_filters()
        # phrase strings, for export
        words = [w.encode("utf-8") for w in settings["connector_words"]]
        blob = arrays["word_bytes"].tobytes()
        words += [blob[woff[i]:woff[i + 1]] for i in range(woff.size - 1)]
        delim = settings["delimiter"].encode("utf-8")
        phrases = [delim.join([words[j] for j in ids[goff[i]:goff[i + 1]]]).decode(
            "utf-8", "surrogateescape") for i in range(n)]
        return cls(table, phrases, np.asarray(arrays["scores"], dtype=np.float64), settings,
                   arrays)

    def __len__(self) -> int:
        return len(self.phrases)

    def __repr__(self) -> str:
        return (f"FrozenPhrases<{len(self)} phrases, min_count={self.settings['min_count']}, "
                f"threshold={self.settings['threshold']:g}, scoring={self.settings['scoring']!r}>")

    def export_phrases(self) -> dict[str, float]:
        """``{phrase: score}`` for every phrase."""
        return dict(zip(self.phrases, self.scores.tolist()))

    def write_phrases(self, path: PathLike) -> None:
        """Write ``phrase score`` lines (highest score first), atomically."""
        order = np.argsort(-self.scores, kind="stable")
        with atomic_writer(path) as f:
            f.write("".join(f"{self.phrases[i]} {float(self.scores[i])!r}\n" for i in order)
                    .encode("utf-8", "surrogateescape"))

    # -- the compiled transform ------------------------------------------------------------

    def _apply_bytes(self, text: bytes, out: np.ndarray | None = None) -> bytes:
        """Whole lines of text (ending in a newline) with their phrases joined."""
        need = len(text) * (1 + len(self._delim)) + 2
        if out is None or out.size < need:
            out = np.empty(need, dtype=np.uint8)
        _, written, _ = self._table.apply_chunk(text, True, self._delim, out, True)
        return out[:written].tobytes()

    def _chunks(self, sources, progress: bool | None) -> Iterator[bytes | memoryview]:
        """The phrased text of files, a chunk at a time; each file's end ends a line. A chunk
        is a view of a buffer that the next chunk overwrites: use it before asking for more."""
        table, delim = self._table, self._delim
        out = np.empty(0, dtype=np.uint8)
        for path in sources:
            with _progress_bar(progress, _file_size(path),
                               f"phrases: applying to {input_name(path)}") as bar:
                carry, line_start = b"", True
                for data, final in _file_chunks(path):
                    buf = carry + data if carry else data
                    need = len(buf) * (1 + len(delim)) + 2
                    if out.size < need:
                        out = np.empty(max(need, 2 * out.size), dtype=np.uint8)
                    consumed, written, line_start = table.apply_chunk(buf, final, delim, out,
                                                                      line_start)
                    carry = buf[consumed:]
                    if written:
                        yield out[:written].data
                    bar.update(len(data))
                if not line_start:
                    yield b"\n"

    def __getitem__(self, sentence):
        """``sentence`` (a list of str) with its phrases joined, or, for an iterable of
        sentences, a lazy iterator over them (as gensim's ``phrases[corpus]``)."""
        if isinstance(sentence, (list, tuple)) and all(isinstance(t, str) for t in sentence):
            text = self._apply_bytes(_encode_lines([" ".join(sentence)]))
            return text.decode("utf-8", "surrogateescape").split()
        return self.apply(sentence)

    def apply(self, sentences: Iterable[Sequence[str]]) -> Iterator[list[str]]:
        """Each sentence (a list of str tokens, holding no whitespace) with its phrases joined,
        lazily: sentences are read and joined a batch (~65,000 tokens) at a time. One list
        comes out for each list that goes in (an empty one for an empty one)."""
        if isinstance(sentences, (str, bytes)):
            raise TypeError("apply takes an iterable of sentences (lists of str)")
        for text, n in _sentence_batches(sentences):
            lines = self._apply_bytes(text).decode("utf-8", "surrogateescape").split("\n")
            for line in islice(lines, n):
                yield line.split()

    def stream(self, corpus, progress: bool | None = None) -> BinaryIO:
        """The phrased text of ``corpus`` (files, a folder, or file objects) as a binary file
        object, produced as it is read: pass it as the corpus of ``Word2Vec.from_corpus``, of
        a second ``Phrases`` pass, or anything else that reads files. Words are separated by
        one space and lines kept; each file's end ends a line. An iterable of token lists is
        written one sentence a line.
        """
        sources = _sources(corpus)
        if sources is None:
            chunks: Iterator[bytes] = (self._apply_bytes(text)
                                       for text, _ in _sentence_batches(corpus))
        else:
            chunks = self._chunks(sources, progress)
        return io.BufferedReader(_ChunkReader(chunks), buffer_size=CHUNK_SIZE)

    def transform(self, corpus):
        """``corpus`` with its phrases joined, as a corpus ``Word2Vec.from_corpus`` reads:
        files (and folders, file objects) become one ``stream``; an iterable of token lists,
        a lazy iterable (``apply``)."""
        if _sources(corpus) is None:
            return self.apply(corpus)
        return self.stream(corpus)

    def apply_file(self, corpus, output: PathLike, progress: bool | None = None) -> int:
        """Write the phrased text of ``corpus`` to ``output`` (atomically: a temporary file
        renamed over it once complete; ``.gz``/``.bz2``/``.xz`` compress). Returns the bytes
        written (before compression)."""
        sources = _sources(corpus)
        written = 0
        with atomic_writer(output) as f:
            if sources is None:
                for text, _ in _sentence_batches(corpus):
                    chunk = self._apply_bytes(text)
                    f.write(chunk)
                    written += len(chunk)
            else:
                for chunk in self._chunks(sources, progress):
                    f.write(chunk)
                    written += len(chunk)
        return written

    # -- saving -----------------------------------------------------------------------------

    def save(self, path: PathLike) -> None:
        """Write the phrases in cw2v's native format (module docstring), atomically."""
        save_arrays(path, {"kind": _FROZEN_KIND, **self.settings}, self._arrays)

    @classmethod
    def load(cls, path) -> FrozenPhrases:
        """Read phrases written by ``FrozenPhrases.save`` (or a whole ``Phrases.save`` model,
        frozen)."""
        meta, arrays = load_arrays(path)
        if meta.get("kind") == _KIND:
            return Phrases.load(path).freeze()
        _check_kind(meta, _FROZEN_KIND, path)
        with _naming(path, _FROZEN_KIND):
            return cls._build(_loaded_settings(meta, with_bound=False), arrays)


class _ChunkReader(io.RawIOBase):
    """A raw binary reader over an iterator of byte chunks."""

    def __init__(self, chunks: Iterator[bytes | memoryview]):
        super().__init__()
        self._chunks = chunks
        self._pending = memoryview(b"")
        self.name = "<phrased corpus>"

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        out = memoryview(buffer).cast("B")
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = memoryview(chunk)
        n = min(len(out), len(self._pending))
        out[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def transform_corpus(corpus, phrases):
    """``corpus`` with ``phrases`` applied (one ``Phrases``/``FrozenPhrases``, or several in
    order: bigrams, then trigrams), as ``Word2Vec.from_corpus(corpus, phrases=...)`` does."""
    steps = phrases if isinstance(phrases, (list, tuple)) else [phrases]
    for step in steps:
        if not isinstance(step, (Phrases, FrozenPhrases)):
            raise TypeError(f"phrases must be cw2v.phrases.Phrases or FrozenPhrases (or a list "
                            f"of them), got {type(step).__name__}")
    for step in steps:
        corpus = step.transform(corpus)
    return corpus
