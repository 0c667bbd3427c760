"""Intrinsic evaluation of word vectors: analogies and word-pair similarity.

``analogies`` scores the Google analogy set (Mikolov et al. 2013) or any file in its format with
3CosAdd or 3CosMul (Levy & Goldberg 2014), following gensim's ``evaluate_word_analogies``
protocol, so both report the same accuracy on the same vectors. It answers all questions in
blocks of matrix products instead of one nearest-neighbour search each.

``word_pairs`` correlates cosine similarities with human judgements (WordSim-353, SimLex-999,
MEN, ...): Spearman's rho (average ranks for ties) and Pearson's r, computed in NumPy.

Both default to the copies packaged in ``cw2v.data`` (see ``cw2v/data/SOURCES.md``).
"""
from __future__ import annotations

import importlib.resources
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ._files import PathLike
from .vectors import Vectors, as_vectors

__all__ = ["AnalogyResult", "PairResult", "analogies", "rank_average", "spearman", "pearson",
           "word_pairs"]


N_SEMANTIC_SECTIONS = 5
"""The Google set's first five sections (capitals, currency, city-in-state, family) are semantic."""

_COSMUL_EPS = 1e-6  # gensim's most_similar_cosmul epsilon
_GENSIM_TOPN = 5  # evaluate_word_analogies looks at the 5 best answers
_BLOCK_ELEMENTS = 1 << 23  # scores per block: 8M float32 = 32 MB


@dataclass
class AnalogyResult:
    """Accuracy on an analogy test set.

    Attributes
    ----------
    accuracy : float
        correct / answered (NaN when nothing was answered).
    correct : int
        Questions whose best answer was the expected word.
    answered : int
        Questions with all four words among the ``restrict_vocab`` most frequent words.
    skipped_oov : int
        Questions skipped because a word was outside them.
    total : int
        All questions in the file (answered + skipped_oov).
    sections : dict of str to (int, int, float)
        Per section, in file order: (correct, answered, accuracy).
    semantic_accuracy : float
        Accuracy over the first five sections (NaN if none answered).
    syntactic_accuracy : float
        Accuracy over the other sections (NaN if none answered).
    """

    accuracy: float
    correct: int
    answered: int
    skipped_oov: int
    total: int
    sections: dict[str, tuple[int, int, float]] = field(default_factory=dict)
    semantic_accuracy: float = math.nan
    syntactic_accuracy: float = math.nan

    def summary(self) -> str:
        """A small text table: one line per section, then the totals."""
        width = max([len(s) for s in self.sections] + [len("syntactic")])
        lines = [f"{'section':<{width}}  {'correct':>7}  {'answered':>8}  accuracy"]
        for name, (c, n, acc) in self.sections.items():
            lines.append(f"{name:<{width}}  {c:>7}  {n:>8}  {acc:8.2%}")
        lines.append(f"{'semantic':<{width}}  {'':>7}  {'':>8}  {self.semantic_accuracy:8.2%}")
        lines.append(f"{'syntactic':<{width}}  {'':>7}  {'':>8}  {self.syntactic_accuracy:8.2%}")
        lines.append(f"{'total':<{width}}  {self.correct:>7}  {self.answered:>8}  "
                     f"{self.accuracy:8.2%}  ({self.skipped_oov} of {self.total} skipped as OOV)")
        return "\n".join(lines)


@dataclass
class PairResult:
    """Agreement of cosine similarity with human word-pair judgements.

    Attributes
    ----------
    spearman : float
        Spearman's rank correlation (average ranks for ties).
    pearson : float
        Pearson's correlation.
    oov_ratio : float
        Fraction (0..1, not percent) of the file's pairs skipped because a word is not in the
        vocabulary. (gensim's ``evaluate_word_pairs`` reports the same quantity in percent.)
    pairs_used : int
        Pairs with both words in the vocabulary, used for the correlations.
    pairs_oov : int
        Pairs skipped.
    """

    spearman: float
    pearson: float
    oov_ratio: float
    pairs_used: int
    pairs_oov: int = 0


# -- files ----------------------------------------------------------------------------------------


def _read_text(path: PathLike | None, packaged: str) -> tuple[str, str]:
    """(content, name for messages) of ``path``, or of the packaged ``cw2v/data/<packaged>``."""
    if path is None:
        resource = importlib.resources.files("cw2v.data").joinpath(packaged)
        return resource.read_bytes().decode("utf-8"), f"cw2v/data/{packaged}"
    name = os.fsdecode(os.fspath(path))
    with open(name, "rb") as f:
        data = f.read()
    try:
        return data.decode("utf-8"), name
    except UnicodeDecodeError as exc:
        raise ValueError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _key_function(case_insensitive: bool) -> Callable[[str], str]:
    # gensim compares upper-cased words (str.upper, not lower: "ß".upper() is "SS").
    return str.upper if case_insensitive else (lambda w: w)


def _ok_vocab(model: Vectors, limit: int, key: Callable[[str], str]) -> tuple[dict, np.ndarray]:
    """gensim's ``ok_vocab``: key -> first row among the first ``limit`` rows having that key,
    and for each of those rows the row its key maps to."""
    ok: dict[str, int] = {}
    key_row = np.empty(limit, dtype=np.intp)
    for i, word in enumerate(model.vocab[:limit]):
        key_row[i] = ok.setdefault(key(word), i)
    return ok, key_row


def _restrict(model: Vectors, restrict_vocab: int | None) -> int:
    if restrict_vocab is None:
        return len(model.vocab)
    if isinstance(restrict_vocab, bool) or not isinstance(restrict_vocab, (int, np.integer)) \
            or restrict_vocab < 1:
        raise ValueError(f"restrict_vocab must be a positive integer or None, got {restrict_vocab!r}")
    return min(int(restrict_vocab), len(model.vocab))


# -- analogies ------------------------------------------------------------------------------------


def _parse_analogies(text: str, name: str, key: Callable[[str], str]):
    """Sections (in order) and questions [(section index, a, b, c, expected)] of a questions file."""
    sections: list[str] = []
    questions: list[tuple[int, str, str, str, str]] = []
    for line_no, line in enumerate(text.split("\n"), start=1):
        if line.startswith(": "):
            sections.append(line.lstrip(": ").strip())
            continue
        words = line.split()
        if not words:
            continue
        if len(words) != 4:
            raise ValueError(f"{name}, line {line_no}: expected 4 words or ': section', "
                             f"got {line.strip()[:80]!r}")
        if not sections:
            raise ValueError(f"{name}, line {line_no}: question before the first ': section' line")
        a, b, c, expected = (key(w) for w in words)
        questions.append((len(sections) - 1, a, b, c, expected))
    return sections, questions


def analogies(model: Vectors, path: PathLike | None = None, *, restrict_vocab: int | None = 30000,
              method: str = "add", case_insensitive: bool = True) -> AnalogyResult:
    """Accuracy on an analogy test set: a is to b as c is to ?, answered by nearest neighbour.

    Parameters
    ----------
    model : cw2v.Vectors, or a model holding them (``model.wv``)
        A model or loaded vectors; rows are assumed sorted by descending word frequency.
    path : str or os.PathLike, optional
        A file in the format of word2vec's ``questions-words.txt`` (``": section"`` lines, then
        ``"a b c d"`` lines). Default: the packaged copy of the Google analogy set.
    restrict_vocab : int or None, default 30000
        Only the first (most frequent) ``restrict_vocab`` words are used: a question with any
        word outside them is skipped as OOV, and answers are searched among them. None: all.
    method : {"add", "mul"}
        ``"add"``: 3CosAdd, argmax cos(x, b - a + c) over unit vectors (word2vec's
        compute-accuracy, gensim's ``most_similar``). ``"mul"``: 3CosMul (Levy & Goldberg
        2014, eq. 4) with gensim's ``most_similar_cosmul`` formula, argmax
        cos'(x, b) cos'(x, c) / (cos'(x, a) + 1e-6) with cos' = (1 + cos) / 2.
    case_insensitive : bool, default True
        Compare words upper-cased, as gensim does; a key present in several case variants stands
        for its first (most frequent) row.

    Returns
    -------
    AnalogyResult

    Raises
    ------
    ValueError
        A malformed line (named with its line number), a file that is not UTF-8 text, or a bad
        ``method`` or ``restrict_vocab``.

    Notes
    -----
    The protocol is gensim's ``KeyedVectors.evaluate_word_analogies`` (which is word2vec.c's
    compute-accuracy), so accuracies agree with it on the same vectors up to floating-point
    near-ties: the rows of a, b and c are excluded from the answers, and an answer whose key
    equals a question word's (another case variant) is passed over, considering at most the
    5 best answers as gensim does. Scores are computed for blocks of questions as matrix
    products against the restricted vocabulary's rows, each block of rows normalised by its
    cached norms as it is used: no normalised V x d copy is made.
    """
    if method not in ("add", "mul"):
        raise ValueError(f"method must be 'add' or 'mul', got {method!r}")
    model = as_vectors(model)
    limit = _restrict(model, restrict_vocab)
    key = _key_function(case_insensitive)
    text, name = _read_text(path, "questions-words.txt")
    section_names, questions = _parse_analogies(text, name, key)
    ok, key_row = _ok_vocab(model, limit, key)

    total = len(questions)
    rows = [(s, ok[a], ok[b], ok[c], ok[e]) for s, a, b, c, e in questions
            if a in ok and b in ok and c in ok and e in ok]
    q = np.array(rows, dtype=np.intp).reshape(-1, 5)
    sec, ia, ib, ic, ie = q.T
    predicted = _predict(model, limit, ia, ib, ic, key_row, method)
    hits = key_row[predicted] == ie if len(q) else np.zeros(0, dtype=bool)
    # A prediction of -1 (no candidate at all) is never right.
    hits &= predicted >= 0

    n_sec = len(section_names)
    correct_by = np.bincount(sec, weights=hits, minlength=n_sec).astype(np.int64)
    answered_by = np.bincount(sec, minlength=n_sec).astype(np.int64)
    sections: dict[str, tuple[int, int, float]] = {}
    for s, sname in enumerate(section_names):
        c0, n0, _ = sections.get(sname, (0, 0, 0.0))
        c1, n1 = c0 + int(correct_by[s]), n0 + int(answered_by[s])
        sections[sname] = (c1, n1, _ratio(c1, n1))
    semantic = slice(0, N_SEMANTIC_SECTIONS)
    syntactic = slice(N_SEMANTIC_SECTIONS, None)
    correct, answered = int(hits.sum()), len(q)
    return AnalogyResult(
        accuracy=_ratio(correct, answered),
        correct=correct,
        answered=answered,
        skipped_oov=total - answered,
        total=total,
        sections=sections,
        semantic_accuracy=_ratio(correct_by[semantic].sum(), answered_by[semantic].sum()),
        syntactic_accuracy=_ratio(correct_by[syntactic].sum(), answered_by[syntactic].sum()),
    )


def _ratio(num, den) -> float:
    return float(num) / float(den) if den else math.nan


def _unit(rows: np.ndarray, divisors: np.ndarray) -> np.ndarray:
    """``rows`` scaled to unit length as float32 (``divisors``: their norms, zeros made tiny),
    the arithmetic of ``Vectors.unit_vectors``, so the same bits."""
    if rows.dtype == np.float16:
        rows = rows.astype(np.float32)
    out = np.empty(rows.shape, dtype=np.float32)
    # A row holding inf becomes NaN (inf / inf), as in Vectors.unit_vectors.
    with np.errstate(invalid="ignore"):
        np.divide(rows, divisors[:, None], out=out)
    return out


def _unit_blocks(model: Vectors, limit: int, divisors: np.ndarray) -> Callable:
    """A function giving ``(start, unit rows)`` over the first ``limit`` rows: the rows
    normalised once, as one block, when they take no more memory than a block of scores;
    otherwise a block of rows (about 4 MiB) at a time, normalised anew at each use."""
    if limit * model.vector_size <= _BLOCK_ELEMENTS:
        whole = [(0, _unit(model.vectors[:limit], divisors))]
        return lambda: whole
    return lambda: ((start, _unit(rows, divisors[start:start + rows.shape[0]]))
                    for start, rows in model._blocks(limit))


def _cosines(unit_blocks: Callable, limit: int, queries: np.ndarray) -> np.ndarray:
    """Cosines of the unit ``queries`` (rows) with the ``limit`` candidate rows (columns)."""
    blocks = unit_blocks()
    if isinstance(blocks, list):  # one block, normalised once: one product
        return queries @ blocks[0][1].T
    out = np.empty((queries.shape[0], limit), dtype=np.float32)
    for start, unit in blocks:
        out[:, start:start + unit.shape[0]] = queries @ unit.T
    return out


def _scores(model: Vectors, limit: int, divisors: np.ndarray, unit_blocks: Callable, ia, ib, ic,
            method: str) -> np.ndarray:
    """Scores of every candidate row (columns) for each question of a block (rows)."""
    matrix = model.vectors

    def unit_rows(rows):
        return _unit(matrix[rows], divisors[rows])

    if method == "add":
        # 3CosAdd: cos(x, b - a + c); scaling the query does not change the argmax.
        query = unit_rows(ib) + unit_rows(ic) - unit_rows(ia)
        return _cosines(unit_blocks, limit, query)
    # 3CosMul, gensim's most_similar_cosmul: (1 + cos) / 2 shifts cosines to [0, 1].
    cos_b = _cosines(unit_blocks, limit, unit_rows(ib))
    cos_b += 1.0
    cos_b *= 0.5
    cos_c = _cosines(unit_blocks, limit, unit_rows(ic))
    cos_c += 1.0
    cos_c *= 0.5
    cos_a = _cosines(unit_blocks, limit, unit_rows(ia))
    cos_a += 1.0
    cos_a *= 0.5
    cos_a += _COSMUL_EPS
    cos_b *= cos_c
    cos_b /= cos_a
    return cos_b


def _predict(model: Vectors, limit: int, ia: np.ndarray, ib: np.ndarray, ic: np.ndarray,
             key_row: np.ndarray, method: str) -> np.ndarray:
    """The predicted row (among the first ``limit``) of each question (gensim's rule), -1 where
    there is no candidate. Memory: a block of scores and at most as much of unit rows,
    whatever V."""
    out = np.full(len(ia), -1, dtype=np.intp)
    divisors = model._divisors(slice(0, limit))
    unit_blocks = _unit_blocks(model, limit, divisors)
    block = max(1, _BLOCK_ELEMENTS // max(limit, 1))
    for start in range(0, len(ia), block):
        stop = min(start + block, len(ia))
        a, b, c = ia[start:stop], ib[start:stop], ic[start:stop]
        scores = row = None  # (the last block's scores go before the next are made)
        scores = _scores(model, limit, divisors, unit_blocks, a, b, c, method)
        local = np.arange(stop - start)
        saved = np.stack([scores[local, a], scores[local, b], scores[local, c]])
        scores[local, a] = -np.inf
        scores[local, b] = -np.inf
        scores[local, c] = -np.inf
        best = np.argmax(scores, axis=1)
        best_key = key_row[best]
        # The argmax is gensim's answer unless it is a case variant of a question word (or no
        # candidate is left): then replay gensim's loop over its 5 best for that question.
        odd = (best_key == a) | (best_key == b) | (best_key == c) \
            | ~np.isfinite(scores[local, best])
        out[start:stop] = best
        for i in np.flatnonzero(odd):
            row = scores[i]
            row[[a[i], b[i], c[i]]] = saved[:, i]
            out[start + i] = _gensim_pick(row, (a[i], b[i], c[i]), key_row)
    return out


def _gensim_pick(scores: np.ndarray, question: tuple[int, int, int], key_row: np.ndarray) -> int:
    """gensim's choice for one question from the unmasked scores: among the 5 best rows other
    than a, b, c, the first whose key is not a question word's; else the 5th (or -1 if none)."""
    order = np.argsort(-scores, kind="stable")
    candidates = [int(r) for r in order[:_GENSIM_TOPN + 3] if r not in question][:_GENSIM_TOPN]
    if not candidates:
        return -1
    for r in candidates:
        if key_row[r] not in question:
            return r
    return candidates[-1]


# -- word pairs -----------------------------------------------------------------------------------


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _parse_pairs(text: str, name: str, score_column: int | None):
    """[(line, w1, w2, score)] from a word-pair file; skips '#' comments, blanks and a header."""
    pairs: list[tuple[int, str, str, float]] = []
    seen_data = False
    for line_no, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        fields = [f.strip() for f in line.split("\t")]
        if len(fields) < 3:  # not tab-separated: any run of whitespace separates
            fields = line.split()
        if len(fields) < 3:
            raise ValueError(f"{name}, line {line_no}: expected 'word1 word2 score', got "
                             f"{stripped[:80]!r}")
        if score_column is not None:
            if score_column >= len(fields):
                raise ValueError(f"{name}, line {line_no}: no column {score_column}")
            column = score_column if _is_number(fields[score_column]) else None
        else:
            column = next((j for j in range(2, len(fields)) if _is_number(fields[j])), None)
        if column is None:
            if not seen_data and not pairs:
                seen_data = True  # the header line
                continue
            raise ValueError(f"{name}, line {line_no}: no numeric score in {stripped[:80]!r}")
        seen_data = True
        pairs.append((line_no, fields[0], fields[1], float(fields[column])))
    return pairs


def word_pairs(model: Vectors, path: PathLike | None = None, *, case_insensitive: bool = True,
               restrict_vocab: int | None = None, score_column: int | None = None) -> PairResult:
    """Correlation between cosine similarity and human similarity scores of word pairs.

    Parameters
    ----------
    model : cw2v.Vectors, or a model holding them (``model.wv``)
        A model or loaded vectors.
    path : str or os.PathLike, optional
        Pairs file: ``word1 word2 score`` per line, split at tabs when that gives three or more
        fields (so tab-separated entries may hold spaces), else at any whitespace; ``#``
        comment lines, blank lines and one header line (a first line without a numeric score)
        are skipped. Default: the packaged WordSim-353.
    case_insensitive : bool, default True
        Compare words upper-cased (as gensim); a key present in several case variants stands for
        its first row.
    restrict_vocab : int, optional
        Only the first ``restrict_vocab`` words count as in the vocabulary (default: all).
    score_column : int, optional
        0-based column of the score. Default: the first numeric column after the two words
        (the score of WordSim-353 and MEN, the SimLex999 column of SimLex-999).

    Returns
    -------
    PairResult

    Raises
    ------
    ValueError
        A malformed line (named with its line number), a file that is not UTF-8 text, or no pair
        with both words known.
    """
    model = as_vectors(model)
    limit = _restrict(model, restrict_vocab)
    if score_column is not None and (isinstance(score_column, bool) or score_column < 2):
        raise ValueError(f"score_column must be an integer >= 2, got {score_column!r}")
    key = _key_function(case_insensitive)
    text, name = _read_text(path, "wordsim353.tsv")
    pairs = _parse_pairs(text, name, score_column)
    ok, _ = _ok_vocab(model, limit, key)
    used = [(ok[key(w1)], ok[key(w2)], score) for _, w1, w2, score in pairs
            if key(w1) in ok and key(w2) in ok]
    n_oov = len(pairs) - len(used)
    if not used:
        raise ValueError(f"{name}: none of its {len(pairs)} pairs has both words in the vocabulary")
    i1, i2, gold = (np.array(col) for col in zip(*used))
    i1, i2 = i1.astype(np.intp), i2.astype(np.intp)
    divisors = model._divisors(slice(None))  # the cached norms: V floats, no V x d copy
    # Cosines in float32, as gensim's similarity(), then the statistics in float64.
    cosines = np.einsum("ij,ij->i", _unit(model.vectors[i1], divisors[i1]),
                        _unit(model.vectors[i2], divisors[i2]))
    gold = gold.astype(np.float64)
    return PairResult(
        spearman=spearman(gold, cosines),
        pearson=pearson(gold, cosines),
        oov_ratio=n_oov / len(pairs),
        pairs_used=len(used),
        pairs_oov=n_oov,
    )


# -- statistics -----------------------------------------------------------------------------------


def rank_average(x) -> np.ndarray:
    """Ranks 1..n of ``x``, tied values sharing the average of their ranks (scipy's 'average').

    Parameters
    ----------
    x : array_like, 1-D

    Returns
    -------
    numpy.ndarray of float64
    """
    x = np.asarray(x)
    if x.ndim != 1:
        raise ValueError(f"rank_average needs a 1-D array, got shape {x.shape}")
    order = np.argsort(x, kind="mergesort")
    inverse = np.empty(x.size, dtype=np.intp)
    inverse[order] = np.arange(x.size)
    sorted_x = x[order]
    starts = np.r_[True, sorted_x[1:] != sorted_x[:-1]]
    group = np.cumsum(starts)[inverse]  # 1-based group of each element
    bounds = np.r_[np.flatnonzero(starts), x.size]  # group g spans sorted ranks bounds[g-1]+1..bounds[g]
    return 0.5 * (bounds[group] + bounds[group - 1] + 1)


def pearson(x, y) -> float:
    """Pearson's correlation coefficient of two equal-length 1-D arrays (NaN if either is constant,
    holds a NaN or an infinity, or there are fewer than two values).

    Parameters
    ----------
    x, y : array_like, 1-D

    Returns
    -------
    float
    """
    x, y = _finite_pair(x, y)
    if x.size < 2:
        return math.nan
    dx, dy = x - x.mean(), y - y.mean()
    den = math.sqrt(float(dx @ dx) * float(dy @ dy))
    if den == 0.0:
        return math.nan
    return max(-1.0, min(1.0, float(dx @ dy) / den))


def spearman(x, y) -> float:
    """Spearman's rank correlation: Pearson's correlation of the average ranks (NaN where
    ``pearson`` gives NaN, and when either array holds a NaN or an infinity).

    Parameters
    ----------
    x, y : array_like, 1-D

    Returns
    -------
    float
    """
    x, y = _finite_pair(x, y)
    if x.size == 0:
        return math.nan  # a NaN has no rank: ranking it would report a made-up correlation
    return pearson(rank_average(x), rank_average(y))


def _finite_pair(x, y) -> tuple[np.ndarray, np.ndarray]:
    """x and y as equal-length float64 1-D arrays; both empty if either holds a NaN or an inf."""
    x, y = _same_length_1d(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        return x[:0], y[:0]
    return x, y


def _same_length_1d(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"need two 1-D arrays of equal length, got {x.shape} and {y.shape}")
    return x, y
