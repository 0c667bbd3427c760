"""Pure-NumPy reference implementation of cw2v's word2vec: skip-gram and CBOW, negative
sampling and hierarchical softmax.

Slow and obvious, on purpose: the tests check the Cython kernel against it. It has the same API
as ``cw2v.Word2Vec`` for pairs and the same update rule (Mikolov et al. 2013b, eq. 4, in
word2vec.c's order)::

    for (t, label) in [(positive, 1)] + [(n, 0) for n in negatives if n != positive]:
        f = h . W_out[t]
        g = lr * (label - sigmoid(f))
        neu1e += g * W_out[t]        # W_out[t] before its update
        W_out[t] += g * h
    W_in[center] += neu1e

Hierarchical softmax (2013b, eq. 3) trains the nodes of the target's Huffman path (``syn1``
rows, label 1 - code bit) by the same rule, skipping a node whose ``|f| >= MAX_EXP`` as word2vec.c
does; CBOW (Mikolov et al. 2013a) predicts the target from the mean (or sum) of the window's
input rows and adds neu1e to each of them (divided by the window's size for the sum, as gensim).
With ``lockf`` set (gensim's ``vectors_lockf``, one factor per word), every update of an input
row ``W_in[w]`` is scaled by ``lockf[w]``: 0 leaves the row as it is, 1 trains it as usual;
output rows train as usual.
The span trainer draws its random numbers in the kernel's order (see ``train_span``).

``sigmoid="table"`` uses the kernel's interpolated lookup table with its float32 arithmetic;
``sigmoid="exact"`` the true sigmoid. Noise words come from the same splitmix64 generator and
alias table as the kernel's, so a reference and a compiled model with the same seed draw the
same noise words. It never imports the compiled module.
"""
from __future__ import annotations

import heapq

import numpy as np

from . import params
from .base import ModelState
from .tables import HuffmanTree, table_sigmoid

_MASK64 = (1 << 64) - 1


def _table_lookup_one(f: np.float32, table: np.ndarray, max_exp: float) -> np.float32:
    """``tables.table_lookup`` of one float32 ``f`` inside (-max_exp, max_exp): the same float32
    steps on NumPy scalars, without the array function's NaN and clipping machinery, which made
    the reference's per-node loop ten times slower. Tests check the two agree bit for bit."""
    size = table.shape[0] - 1
    m = np.float32(max_exp)
    scale = np.float32(np.float32(size) / (np.float32(2.0) * m))
    pos = np.float32((f + m) * scale)
    i = min(max(int(pos), 0), size - 1)
    frac = np.float32(pos - np.float32(i))
    return np.float32(table[i] + frac * (table[i + 1] - table[i]))


class SplitMix64:
    """The kernel's generator (splitmix64) in Python integers."""

    def __init__(self, state: int):
        self.state = int(state) & _MASK64

    def next(self) -> int:
        """The next 64-bit output."""
        self.state = (self.state + 0x9E3779B97F4A7C15) & _MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
        return z ^ (z >> 31)

    def uniform(self) -> float:
        """Uniform in [0, 1) from the top 24 bits."""
        return (self.next() >> 40) / 16777216.0

    def below(self, n: int) -> int:
        """Uniform integer in [0, n) (multiply-shift on the high 32 bits)."""
        return ((self.next() >> 32) * n) >> 32

    def alias_draw(self, prob: np.ndarray, alias: np.ndarray) -> int:
        """One draw from an alias table, as the kernel draws it."""
        r = self.next()
        i = ((r >> 32) * prob.shape[0]) >> 32
        u = (r & 0xFFFFFF) / 16777216.0
        return i if u < prob[i] else int(alias[i])


def huffman_tree(counts) -> HuffmanTree:
    """word2vec.c's Huffman tree, built independently of ``cw2v.tables.huffman_tree``: the
    textbook heap, with word2vec.c's tie rule written as the heap key, and each path read by
    walking the parent links up from the leaf (word2vec.c's own way).

    word2vec.c takes the lighter of the rarest remaining leaf and the oldest remaining inner
    node, the inner node on a tie; among leaves of equal count the one later in the descending
    (stable) order goes first. As a heap key: (count, 0 for an inner node / 1 for a leaf,
    merge number for an inner node / minus the sorted position for a leaf).
    """
    counts = np.asarray(counts)
    V = counts.size
    order = sorted(range(V), key=lambda w: -float(counts[w]))  # stable, descending
    heap = [(float(counts[w]), 1, -r, r) for r, w in enumerate(order)]
    heapq.heapify(heap)
    parent: dict[int, int] = {}
    bit: dict[int, int] = {}
    for a in range(V - 1):
        c1, _, _, n1 = heapq.heappop(heap)
        c2, _, _, n2 = heapq.heappop(heap)
        parent[n1] = parent[n2] = V + a
        bit[n1], bit[n2] = 0, 1
        heapq.heappush(heap, (c1 + c2, 0, a, V + a))
    codes, points, offsets = [], [], [0]
    position = {w: r for r, w in enumerate(order)}
    for w in range(V):
        node, code, point = position[w], [], []
        while node in parent:
            code.append(bit[node])
            point.append(parent[node] - V)
            node = parent[node]
        codes += code[::-1]
        points += point[::-1]
        offsets.append(len(codes))
    return HuffmanTree(np.array(codes, dtype=np.uint8), np.array(points, dtype=np.int32),
                       np.array(offsets, dtype=np.int64))


class Word2Vec(ModelState):
    """Pure-NumPy SGNS with the API of ``cw2v.Word2Vec`` (see ``cw2v.base.ModelState``).

    Extra parameters: ``sigmoid`` ("table" or "exact"), ``dtype`` (float32 or float64), and the
    architecture and objective: ``sg`` (1 skip-gram, 0 CBOW), ``hs`` (1: hierarchical softmax
    over ``tree``, a Huffman tree of ``counts`` built by ``build_tree``, with inner-node weights
    ``syn1``, zeros as in word2vec.c) and ``cbow_mean`` (CBOW: 1 mean, 0 sum). The attribute
    ``lockf`` (None, or a factor in [0, 1] per word) scales each input row's updates.
    """

    def __init__(self, vocab, d: int = 50, lr: float = params.default("lr"),
                 n_neg: int = params.default("n_neg"), *, seed=None, sigmoid: str = "table",
                 dtype=np.float32, sg: int = params.default("sg"), hs: int = params.default("hs"),
                 cbow_mean: int = params.default("cbow_mean")):
        if sigmoid not in ("table", "exact"):
            raise ValueError(f"sigmoid must be 'table' or 'exact', got {sigmoid!r}")
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {dtype}")
        super().__init__(vocab, d, lr, n_neg, seed=seed, dtype=dtype)
        self.sigmoid = sigmoid
        self.rng = SplitMix64(int(self._rng_state[0]))
        for name, value in (("sg", sg), ("hs", hs), ("cbow_mean", cbow_mean)):
            if value not in (0, 1):
                raise ValueError(f"{name} must be 0 or 1, got {value!r}")
        self.sg, self.hs, self.cbow_mean = int(sg), int(hs), int(cbow_mean)
        self.syn1 = np.zeros_like(self.W_out)
        self.lockf: np.ndarray | None = None
        self.tree: HuffmanTree | None = None
        if self.hs:
            self.build_tree()

    def build_tree(self) -> HuffmanTree:
        """(Re)build ``tree`` from ``counts`` with the reference's own Huffman construction."""
        self.tree = huffman_tree(self.counts)
        return self.tree

    # -- the sigmoid and the loss ----------------------------------------------------------

    def _sigmoid(self, f):
        if self.sigmoid == "exact":
            return 1.0 / (1.0 + np.exp(-np.asarray(f, dtype=np.float64)))
        t = self.sigmoid_tables
        if np.ndim(f) == 0 and abs(np.float32(f)) < t.max_exp:  # one dot product, in range
            return _table_lookup_one(np.float32(f), t.sigmoid, t.max_exp)
        return table_sigmoid(f, t)

    def _loss(self, f, label: int) -> float:
        """-log p(label | f): exact, or from the log table as the kernel computes it."""
        f = float(f)
        if self.sigmoid == "exact":
            return float(np.logaddexp(0.0, -f if label else f))
        t = self.sigmoid_tables
        if f >= t.max_exp:
            return 0.0 if label else f
        if f <= -t.max_exp:
            return -f if label else 0.0
        log_s = float(_table_lookup_one(np.float32(f), t.log_sigmoid, t.max_exp))
        # -log sigmoid(-f) = f - log sigmoid(f): one table bucket for both labels.
        return -log_s if label else f - log_s

    def _draw_negatives(self, n: int) -> list[int]:
        return [self.rng.alias_draw(self.noise_table.prob, self.noise_table.alias)
                for _ in range(n)]

    # -- the update rule ----------------------------------------------------------------------

    def _add_input(self, w: int, neu1e: np.ndarray) -> None:
        """Input row ``w``'s update: ``W_in[w] += lockf[w] * neu1e`` (gensim's vectors_lockf;
        no lock: the plain sum), the row not touched at all for a factor of 0."""
        lock = 1.0 if self.lockf is None else float(self.lockf[w])
        if lock == 1.0:
            self.W_in[w] += neu1e
        elif lock != 0.0:
            self.W_in[w] += self.W_in.dtype.type(lock) * neu1e

    def _add_inputs(self, ins: np.ndarray, dI: np.ndarray) -> None:
        """A HogBatch step's input updates ``dI`` (one row per id of ``ins``, repeats summed),
        each scaled by its word's lock factor."""
        if self.lockf is not None:
            lock = np.asarray(self.lockf, dtype=np.float64)[ins]
            dI = (dI * lock[:, None].astype(dI.dtype)).astype(dI.dtype)
            ins, dI = ins[lock != 0], dI[lock != 0]
        np.add.at(self.W_in, ins, dI)

    def _update(self, w: int, positive: int, negatives) -> float:
        """One SGNS step for input row ``w`` (updated in place); returns the loss."""
        h = self.W_in[w]
        neu1e = np.zeros_like(h)
        loss = self._ns_targets(h, positive, negatives, neu1e)
        self._add_input(w, neu1e)
        return loss

    def _ns_targets(self, h: np.ndarray, positive: int, negatives,
                    neu1e: np.ndarray) -> float:
        """Negative sampling's targets for input vector ``h`` (not changed): ``positive``
        (label 1) and each noise word but the positive (label 0), eq. 4; each ``W_out`` row
        is read before its update; the input gradient goes to ``neu1e``. Returns the loss."""
        dt = self.W_in.dtype.type
        lr = dt(self.lr)
        loss = 0.0
        for t, label in [(positive, 1)] + [(int(n), 0) for n in negatives if n != positive]:
            o = self.W_out[t]
            f = dt(np.dot(h, o))
            g = dt((dt(label) - dt(self._sigmoid(f))) * lr)
            loss += self._loss(f, label)
            neu1e += g * o
            o += g * h
        return loss

    def _targets(self, h: np.ndarray, target: int, negatives, neu1e: np.ndarray) -> float:
        """One example's targets for input vector ``h`` (not changed): hierarchical softmax's
        path of ``target`` (if hs), then negative sampling's ``target`` and ``negatives`` (if
        any); their input gradient is added to ``neu1e``. Returns the loss."""
        dt = self.W_in.dtype.type
        lr = dt(self.lr)
        loss = 0.0
        if self.hs:
            assert self.tree is not None, "hs=1 needs a tree (build_tree)"
            max_exp = self.sigmoid_tables.max_exp
            for code, point in zip(self.tree.code(target), self.tree.point(target)):
                o = self.syn1[point]
                f = dt(np.dot(h, o))
                label = 1 - int(code)
                g = dt((dt(label) - dt(self._sigmoid(f))) * lr)
                loss += self._loss(f, label)
                if abs(float(f)) >= max_exp:
                    continue  # word2vec.c and gensim skip a saturated node
                neu1e += g * o
                o += g * h
        if len(negatives):
            loss += self._ns_targets(h, target, negatives, neu1e)
        return loss

    def train_example(self, inputs, target: int, negatives=None) -> float:
        """One example of the model's architecture and objective, as the kernel's
        ``KernelState.train_example``: skip-gram, the row of ``inputs[0]`` predicts ``target``;
        CBOW, the mean (or sum) of the rows of ``inputs`` does. Returns the loss."""
        ins = self._check_ids("inputs", inputs)
        t = self._check_index("target", target)
        negs = (self._draw_negatives(self.n_neg) if negatives is None
                else self._check_negatives(negatives).tolist())
        self.invalidate_norms()
        if self.sg:
            h = self.W_in[int(ins[0])]
            neu1e = np.zeros_like(h)
            loss = self._targets(h, t, negs, neu1e)
            self._add_input(int(ins[0]), neu1e)
            return loss
        return self._cbow(ins.tolist(), t, negs)

    def _cbow(self, ctx: list[int], target: int, negatives) -> float:
        """One CBOW example (Mikolov et al. 2013a): h is the mean (cbow_mean) or the sum of the
        context rows; neu1e goes to each context row (divided by their number for the sum)."""
        dt = self.W_in.dtype.type
        inv = dt(dt(1.0) / dt(len(ctx)))
        h = np.zeros(self.W_in.shape[1], dtype=self.W_in.dtype)
        for w in ctx:
            h += self.W_in[w]
        if self.cbow_mean:
            h *= inv
        neu1e = np.zeros_like(h)
        loss = self._targets(h, target, negatives, neu1e)
        if not self.cbow_mean:
            neu1e *= inv
        for w in ctx:
            self._add_input(w, neu1e)
        return loss

    def train_pair(self, center_idx: int, context_idx: int, negatives=None) -> float:
        """One SGNS update of W_in[center_idx] towards W_out[context_idx]; returns its loss."""
        c = self._check_index("center_idx", center_idx)
        o = self._check_index("context_idx", context_idx)
        negs = (self._draw_negatives(self.n_neg) if negatives is None
                else self._check_negatives(negatives).tolist())
        self.invalidate_norms()
        return self._update(c, o, negs)

    def train_pairs(self, centers, contexts, negatives=None) -> float:
        """``train_pair`` for each (center, context) in order; returns the summed loss."""
        c, o = self._check_pairs(centers, contexts)
        negs = None if negatives is None else self._check_negatives(negatives, c.shape[0])
        self.invalidate_norms()
        loss = 0.0
        for p in range(c.shape[0]):
            row = self._draw_negatives(self.n_neg) if negs is None else negs[p].tolist()
            loss += self._update(int(c[p]), int(o[p]), row)
        return loss

    def train_window_batched(self, inputs, positive: int, negatives) -> float:
        """One HogBatch step (Ji et al. 2016): W_in rows ``inputs`` share the targets
        [positive] + negatives. With I the input rows and O the output rows::

            S = I O^T,  G = lr (label - sigmoid(S)),  dI = G O,  dO = G^T I

        both from the weights before the step; noise words equal to ``positive`` get G = 0.
        """
        ins = self._check_ids("inputs", inputs)
        outs = self._check_ids("outputs", [positive] + list(negatives))
        dt = self.W_in.dtype.type
        I, O = self.W_in[ins], self.W_out[outs]
        S = (I @ O.T).astype(dt)
        labels = np.zeros(len(outs), dtype=dt)
        labels[0] = 1
        G = ((labels[None, :] - self._sigmoid(S).astype(dt)) * dt(self.lr)).astype(dt)
        G[:, 1:][:, outs[1:] == outs[0]] = 0
        loss = sum(self._loss(S[a, b], int(b == 0)) for a in range(len(ins))
                   for b in range(len(outs)) if b == 0 or outs[b] != outs[0])
        self._add_inputs(ins, (G @ O).astype(dt))
        np.add.at(self.W_out, outs, (G.T @ I).astype(dt))
        self.invalidate_norms()
        return loss

    def train_window_batched_hs(self, inputs, target: int) -> float:
        """One HogBatch step for hierarchical softmax: W_in rows ``inputs`` share the inner
        nodes of ``target``'s Huffman path (labels 1 - code). With I the input rows and O the
        node rows::

            S = I O^T,  G = lr (label - sigmoid(S)),  dI = G O,  dO = G^T I

        both from the weights before the step; entries with ``|S| >= MAX_EXP`` get G = 0.
        """
        assert self.tree is not None, "hs=1 needs a tree (build_tree)"
        ins = self._check_ids("inputs", inputs)
        t = self._check_index("target", target)
        points = self.tree.point(t).astype(np.int64)
        labels = 1 - self.tree.code(t).astype(np.int64)
        dt = self.W_in.dtype.type
        I, O = self.W_in[ins], self.syn1[points]
        S = (I @ O.T).astype(dt)
        G = ((labels[None, :].astype(dt) - self._sigmoid(S).astype(dt)) * dt(self.lr)).astype(dt)
        G[np.abs(S) >= self.sigmoid_tables.max_exp] = 0
        loss = sum(self._loss(S[a, b], int(labels[b])) for a in range(len(ins))
                   for b in range(len(points)))
        self._add_inputs(ins, (G @ O).astype(dt))
        np.add.at(self.syn1, points, (G.T @ I).astype(dt))
        self.invalidate_norms()
        return loss

    # -- corpus spans, in the kernel's exact order of random draws ----------------------------

    def train_span(self, tokens, bounds, keep_prob, window: int, lr_start: float,
                   lr_end: float, batched: bool = False) -> tuple[int, int, int, float]:
        """The model's architecture over a span of word ids, drawing random numbers in the
        kernel's order.

        Mirrors the kernel's ``KernelState.train_span``: per sentence piece, subsample (keep word
        w with probability keep_prob[w]); then per kept center, draw its plan one center ahead:
        its window size b from 1..window, then its noise words -- skip-gram's exact rule
        (with or without hierarchical softmax): 2 * b * n_neg, n_neg per context word; batched
        skip-gram and CBOW: n_neg shared by the window. Skip-gram: each context word's input
        vector predicts the center word (word2vec.c); CBOW: the window's mean or sum does.
        Returns (words, kept_words, examples, loss): tokens read, tokens kept by subsampling,
        examples trained (skip-gram: pairs; CBOW: centers), summed loss.
        """
        tokens = np.asarray(tokens, dtype=np.int32)
        bounds = np.asarray(bounds, dtype=np.int64)
        f32 = np.float32
        n, kept_total, pairs, loss = len(tokens), 0, 0, 0.0
        saved_lr = self.lr
        try:
            for s in range(len(bounds) - 1):
                kept = [int(w) for w in tokens[bounds[s]:bounds[s + 1]]
                        if keep_prob[w] >= 1.0 or self.rng.uniform() < keep_prob[w]]
                kept_total += len(kept)
                self.lr = float(f32(lr_start) + (f32(lr_end) - f32(lr_start))
                                * (f32(bounds[s]) / f32(n)))
                p, l_ = self._train_piece(kept, window, batched)
                pairs += p
                loss += l_
        finally:
            self.lr = saved_lr
        return n, kept_total, pairs, loss

    def _plan(self, window: int, batched: bool) -> tuple[int, list[int]]:
        b = 1 + self.rng.below(window)
        shared = batched or not self.sg  # one set of noise words for the window
        return b, self._draw_negatives(self.n_neg if shared else 2 * b * self.n_neg)

    def _train_piece(self, words: list[int], window: int, batched: bool) -> tuple[int, float]:
        m, pairs, loss = len(words), 0, 0.0
        if m < 2:
            return 0, 0.0
        plan: tuple[int, list[int]] | None = self._plan(window, batched)
        for i in range(m):
            nxt = self._plan(window, batched) if i + 1 < m else None
            assert plan is not None  # drawn one center ahead, for every center
            b, negs = plan
            ctx = [words[j] for j in range(max(i - b, 0), min(i + b + 1, m)) if j != i]
            if not self.sg:
                loss += self._cbow(ctx, words[i], negs)
                pairs += 1
                plan = nxt
                continue
            if self.hs and batched:
                loss += self.train_window_batched_hs(ctx, words[i])
            elif self.hs:
                for c, w in enumerate(ctx):
                    h = self.W_in[w]
                    neu1e = np.zeros_like(h)
                    loss += self._targets(h, words[i], negs[c * self.n_neg:(c + 1) * self.n_neg],
                                          neu1e)
                    self._add_input(w, neu1e)
            elif batched:
                loss += self.train_window_batched(ctx, words[i], negs)
            else:
                for c, w in enumerate(ctx):
                    loss += self._update(w, words[i],
                                         negs[c * self.n_neg:(c + 1) * self.n_neg])
            pairs += len(ctx)
            plan = nxt
        self.invalidate_norms()
        return pairs, loss
