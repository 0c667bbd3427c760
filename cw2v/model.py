"""``cw2v.Word2Vec``: the classic from-scratch word2vec class, with a Cython kernel underneath.

A script written for the classic NumPy class (``Word2Vec(vocab, d, lr, n_neg)``, ``set_freq``,
``train_pair``, ``similarity``, ``most_similar``, attributes ``vocab``, ``w2i``, ``W_in``,
``W_out``) runs unchanged after ``from cw2v import Word2Vec``, only faster. Every input is checked
here, before it reaches the kernel's ``nogil`` code.
"""
from __future__ import annotations

import numpy as np

from ._simd import kernel as _kernel
from .base import SGNSBase


class Word2Vec(SGNSBase):
    """Skip-gram with negative sampling (SGNS), trained by a Cython kernel with the GIL released.

    Parameters
    ----------
    vocab : sequence of str
        The words; row i of ``W_in`` and ``W_out`` belongs to ``vocab[i]``.
    d : int, default 50
        Vector dimension.
    lr : float, default 0.025
        Learning rate of ``train_pair`` and ``train_pairs``.
    n_neg : int, default 5
        Noise words drawn per positive pair from the noise distribution (``set_freq``).
    seed : int, optional
        Seeds the initial weights and the noise-word generator (with ``None``, NumPy's global
        generator supplies the seed, so ``np.random.seed`` keeps old scripts reproducible).

    Notes
    -----
    The update follows the paper (Mikolov et al. 2013, eq. 4) and word2vec.c: for each target
    the gradient for ``W_in`` uses ``W_out[t]`` *before* ``W_out[t]`` is updated, and ``W_in``
    is updated once after all ``n_neg + 1`` targets. The classic NumPy class updated ``W_out[t]``
    first and then read it; the difference is of order lr**2. A noise word equal to the positive
    context is skipped. ``W_in`` starts uniform in [-0.5/d, 0.5/d), ``W_out`` at zero.
    """

    def _check_weights(self) -> None:
        for name in ("W_in", "W_out"):
            w = getattr(self, name)
            if not isinstance(w, np.ndarray) or w.dtype != np.float32 or not w.flags.c_contiguous \
                    or not w.flags.writeable:
                raise TypeError(f"{name} must be a writeable C-contiguous float32 array")
            if w.shape != (len(self.vocab), self.vector_size):
                raise ValueError(f"{name} has shape {w.shape}, expected "
                                 f"({len(self.vocab)}, {self.vector_size})")

    @property
    def vector_size(self) -> int:
        """Dimension d of the vectors."""
        return int(self.W_out.shape[1])

    def _tables(self):
        t = self.sigmoid_tables
        return t.sigmoid, t.log_sigmoid, t.max_exp

    def train_pair(self, center_idx: int, context_idx: int, negatives=None) -> float:
        """One SGNS update: push sigmoid(W_in[center] . W_out[context]) towards 1 and, for each
        noise word n, sigmoid(W_in[center] . W_out[n]) towards 0.

        Parameters
        ----------
        center_idx, context_idx : int
            Word indices in [0, len(vocab)); IndexError otherwise.
        negatives : sequence of int, optional
            The noise words to use; by default ``n_neg`` are drawn from the noise distribution.

        Returns
        -------
        float
            The pair's loss, -log sigmoid(f+) - sum log sigmoid(-f-), before the update.
        """
        c = self._check_index("center_idx", center_idx)
        o = self._check_index("context_idx", context_idx)
        self._check_weights()
        negs = None if negatives is None else self._check_negatives(negatives)
        t = self.noise_table
        self._unit = None
        return _kernel.sgns_pair(self.W_in, self.W_out, c, o, negs, self.n_neg, t.prob, t.alias,
                                 self._rng_state, self.lr, *self._tables())

    def train_pairs(self, centers, contexts, negatives=None) -> float:
        """``train_pair`` for every (centers[p], contexts[p]) in order, in one call with the GIL
        released: the fast path for users who make their own pairs.

        Parameters
        ----------
        centers, contexts : 1-D integer arrays of equal length
            Word indices; IndexError if any is out of range.
        negatives : 2-D integer array (len(centers), n_neg), optional
            The noise words of each pair; by default drawn from the noise distribution.

        Returns
        -------
        float
            The summed loss of all pairs.
        """
        c, o = self._check_pairs(centers, contexts)
        self._check_weights()
        negs = None if negatives is None else self._check_negatives(negatives, c.shape[0])
        n_neg = self.n_neg if negs is None else negs.shape[1]
        t = self.noise_table
        self._unit = None
        return _kernel.sgns_pairs(self.W_in, self.W_out, c, o, negs, n_neg, t.prob, t.alias,
                                  self._rng_state, self.lr, *self._tables())
