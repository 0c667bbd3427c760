"""Pure-NumPy reference of fastText's subword model (Bojanowski et al. 2017), the rules of
fastText 0.9's ``src/fasttext.cc`` (``skipgram``, ``cbow``) and ``src/model.cc``
(``computeHidden``, ``update``), in the compiled kernel's order of random draws.

A word's input vector is the mean of its input rows: its own row, then the rows of its
character n-grams' buckets (``cw2v.subwords.subword_table``; one input matrix of V + bucket
rows, words first). The input gradient ``neu1e`` is added to every one of those rows,
unscaled. Skip-gram: for each center and each context word of its window, in order, the mean
of the *center's* rows (recomputed for each pair) predicts the context word. CBOW: the mean of
all the rows of all the window's context words predicts the center. The targets (hierarchical
softmax's path, then negative sampling's positive and noise words) and the draws (window size,
then the noise words: n_neg per pair for skip-gram, n_neg per center for CBOW) are those of
``cw2v.reference.Word2Vec``. Slow and obvious, on purpose: the tests check each compiled kernel
copy against it. It never imports the compiled module.
"""
from __future__ import annotations

import numpy as np

from . import params
from .reference import Word2Vec as _Reference
from .subwords import subword_rows

__all__ = ["FastText"]


class FastText(_Reference):
    """The reference word2vec (``cw2v.reference.Word2Vec``) with fastText's subword input.

    Extra parameters: ``min_n``, ``max_n``, ``bucket`` (``cw2v.subwords``). ``input_matrix``
    is the (V + bucket, d) input matrix (uniform in [-1/d, 1/d], as fastText starts it),
    ``offsets``/``rows`` the words' input rows in CSR form; ``W_out`` (and ``syn1``) are the
    output weights, as in the plain reference.
    """

    def __init__(self, vocab, d: int = 50, lr: float = params.default("lr"),
                 n_neg: int = params.default("n_neg"), *, min_n: int = params.default("min_n"),
                 max_n: int = params.default("max_n"), bucket: int = params.default("bucket"),
                 seed=None, sigmoid: str = "table", dtype=np.float32,
                 sg: int = params.default("sg"), hs: int = params.default("hs"),
                 cbow_mean: int = params.default("cbow_mean")):
        super().__init__(vocab, d, lr, n_neg, seed=seed, sigmoid=sigmoid, dtype=dtype, sg=sg,
                         hs=hs, cbow_mean=cbow_mean)
        # word by word (cw2v.subwords.subword_rows), apart from subword_table's NumPy form
        per_word = [subword_rows(w, i, len(self.vocab), min_n, max_n, bucket)
                    for i, w in enumerate(self.vocab)]
        self.offsets = np.cumsum([0] + [len(r) for r in per_word], dtype=np.int64)
        self.rows = np.array([r for rows in per_word for r in rows], dtype=np.int32)
        rng = np.random.default_rng(0 if seed is None else seed)
        n_in, d = len(self.vocab) + bucket, self.vector_size
        self.input_matrix = rng.uniform(-1.0 / d, 1.0 / d, (n_in, d)).astype(self.W_in.dtype)

    def word_rows(self, w: int) -> np.ndarray:
        """Word ``w``'s input rows: its own, then its n-grams' (``V + bucket index``)."""
        return self.rows[self.offsets[w]:self.offsets[w + 1]]

    def word_vector(self, w: int) -> np.ndarray:
        """fastText's ``getWordVector`` of word ``w``: the mean of its input rows."""
        return self.input_matrix[self.word_rows(w)].mean(axis=0)

    def _row_sum(self, rows: np.ndarray) -> np.ndarray:
        """The sum of input rows ``rows`` in the kernel's order (``cw2v_sum_rows``: the even
        and the odd rows in two running sums, then added), so float32 rounding agrees."""
        dt = self.input_matrix.dtype.type
        M = self.input_matrix
        return M[rows[0::2]].sum(axis=0, dtype=dt) + M[rows[1::2]].sum(axis=0, dtype=dt)

    def _add(self, rows: np.ndarray, neu1e: np.ndarray) -> None:
        for r in rows:  # a row listed twice gets neu1e twice, as fastText's loop
            self.input_matrix[r] += neu1e

    def _sg_pair(self, center: int, target: int, negatives) -> float:
        """One skip-gram pair: the mean of ``center``'s rows predicts ``target``."""
        dt = self.input_matrix.dtype.type
        rows = self.word_rows(center)
        h = self._row_sum(rows) * dt(dt(1.0) / dt(len(rows)))
        neu1e = np.zeros_like(h)
        loss = self._targets(h, target, negatives, neu1e)
        self._add(rows, neu1e)
        return loss

    def _cbow_pair(self, ctx: list[int], target: int, negatives) -> float:
        """One CBOW example: the mean (cbow_mean; else the sum) of all the context words' rows
        predicts ``target``; neu1e goes to each row (divided by their number for the sum)."""
        dt = self.input_matrix.dtype.type
        h = np.zeros(self.vector_size, dtype=dt)
        n_rows = 0
        for w in ctx:
            rows = self.word_rows(w)
            h += self._row_sum(rows)
            n_rows += len(rows)
        inv = dt(dt(1.0) / dt(n_rows))
        if self.cbow_mean:
            h *= inv
        neu1e = np.zeros_like(h)
        loss = self._targets(h, target, negatives, neu1e)
        if not self.cbow_mean:
            neu1e *= inv
        for w in ctx:
            self._add(self.word_rows(w), neu1e)
        return loss

    def train_example(self, inputs, target: int, negatives=None) -> float:
        """One example, as the kernel's ``KernelState.train_example`` with subwords:
        skip-gram, ``inputs[0]`` is the center whose rows' mean predicts ``target``; CBOW, the
        mean of all the rows of the words ``inputs`` does. Returns the loss."""
        ins = self._check_ids("inputs", inputs)
        t = self._check_index("target", target)
        negs = (self._draw_negatives(self.n_neg) if negatives is None
                else self._check_negatives(negatives).tolist())
        if self.sg:
            return self._sg_pair(int(ins[0]), t, negs)
        return self._cbow_pair(ins.tolist(), t, negs)

    def _train_piece(self, words: list[int], window: int, batched: bool) -> tuple[int, float]:
        """One subsampled piece, in the kernel's order: each center's plan (window size, then
        its noise words) drawn one center ahead."""
        if batched:
            raise ValueError("the subword model trains in the exact mode only")
        m, pairs, loss, k = len(words), 0, 0.0, self.n_neg
        if m < 2:
            return 0, 0.0
        plan = self._plan(window, False)
        for i in range(m):
            nxt = self._plan(window, False) if i + 1 < m else None
            assert plan is not None
            b, negs = plan
            ctx = [words[j] for j in range(max(i - b, 0), min(i + b + 1, m)) if j != i]
            if self.sg:
                for c, w in enumerate(ctx):
                    loss += self._sg_pair(words[i], w, negs[c * k:(c + 1) * k])
                pairs += len(ctx)
            else:
                loss += self._cbow_pair(ctx, words[i], negs)
                pairs += 1
            plan = nxt
        return pairs, loss
