"""``cw2v.Word2Vec``: the classic from-scratch word2vec class, with a Cython kernel underneath.

A script written for the classic NumPy class (``Word2Vec(vocab, d, lr, n_neg)``, ``set_freq``,
``train_pair``, ``similarity``, ``most_similar``, attributes ``vocab``, ``w2i``, ``W_in``,
``W_out``) runs unchanged after ``from cw2v import Word2Vec``, only faster. Every input is checked
here, before it reaches the kernel's ``nogil`` code.
"""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable

import numpy as np

from . import corpus as corpus_io
from . import trainer
from ._simd import kernel as _kernel
from .base import SGNSBase, check_positive_float, check_positive_int

log = logging.getLogger(__name__)

MODES = ("exact", "batched")
# Training hyper-parameters kept in ``model.config`` (and in saved models).
_TRAINING_DEFAULTS = dict(window=5, sample=1e-3, min_lr=1e-4, epochs=5, ns_exponent=0.75,
                          min_count=5, max_vocab=None, mode="exact")


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

    def __init__(self, vocab, d: int = 50, lr: float = 0.025, n_neg: int = 5, *,
                 seed: int | None = None):
        super().__init__(vocab, d, lr, n_neg, seed=seed)
        self.config: dict = {"d": self.vector_size, "lr": self.lr, "n_neg": self.n_neg,
                             "seed": seed, **_TRAINING_DEFAULTS}
        self.loss_history: list[float] = []
        self.epoch_history: list[trainer.EpochStats] = []
        self.training_stopped: str | None = None
        self.vocab_seconds = 0.0

    # -- corpus training ---------------------------------------------------------------------

    @classmethod
    def from_corpus(cls, corpus, d: int = 100, window: int = 5, min_count: int = 5,
                    n_neg: int = 5, sample: float = 1e-3, lr: float = 0.025,
                    min_lr: float = 1e-4, epochs: int = 5, workers: int | None = None,
                    seed: int = 1, ns_exponent: float = 0.75, max_vocab: int | None = None,
                    mode: str = "exact", progress: bool | None = None,
                    callbacks: Iterable[Callable] = (), encoding: str = "utf-8",
                    errors: str = "strict") -> "Word2Vec":
        """Build the vocabulary of ``corpus`` and train skip-gram vectors on it.

        Parameters
        ----------
        corpus : path, list of paths, or iterable of token lists
            A plain, .gz, .bz2 or .xz text file (text8's single line or one sentence a line),
            several of them, or sentences as lists of str (a one-shot generator works: it is
            read once).
        d : int
            Vector dimension (gensim: ``vector_size``).
        window : int
            Maximum distance between a center and a context word; each center draws its own
            window uniformly from 1..window (word2vec.c).
        min_count : int
            Words rarer than this are dropped from the vocabulary.
        n_neg : int
            Noise words per positive pair (gensim: ``negative``).
        sample : float
            Subsampling threshold: a word of frequency f is kept with probability
            (sqrt(f / sample) + 1) * sample / f (word2vec.c); 0 turns subsampling off.
        lr, min_lr : float
            The learning rate decays linearly from ``lr`` to ``min_lr`` over all epochs
            (gensim: ``alpha``, ``min_alpha``).
        epochs : int
            Passes over the corpus.
        workers : int, optional
            Training threads; default: the number of CPU cores.
        seed : int
            Seeds the initial weights and each worker's generator. With ``workers=1`` training
            is reproducible bit for bit.
        ns_exponent : float
            The noise distribution is count**ns_exponent.
        max_vocab : int, optional
            Keep only the most frequent words.
        mode : "exact" or "batched"
            "exact": word2vec.c's rule, n_neg fresh noise words per pair. "batched": HogBatch
            (Ji et al. 2016), one set of noise words shared by a center's window, updated as
            small matrix products; faster, slightly different statistics.
        progress : bool, optional
            Show a tqdm progress bar (default: when stderr is a terminal).
        callbacks : iterable of callables
            Each is called as ``callback(model, stats)`` after every epoch with that epoch's
            ``EpochStats``; raising ``cw2v.StopTraining`` ends training.
        encoding, errors : str
            How files are decoded; ``errors="strict"`` raises on undecodable bytes naming the
            file and byte offset, "replace" or "ignore" pass them.

        Returns
        -------
        Word2Vec
            The trained model, vectors in ``W_in``, rows sorted by descending word count.
        """
        settings = _check_training(d=d, window=window, min_count=min_count, n_neg=n_neg,
                                   sample=sample, lr=lr, min_lr=min_lr, epochs=epochs,
                                   workers=workers, ns_exponent=ns_exponent,
                                   max_vocab=max_vocab, mode=mode, seed=seed)
        start = time.perf_counter()
        vocab, encoded = corpus_io.build(corpus, min_count=min_count, max_vocab=max_vocab,
                                         encoding=encoding, errors=errors)
        model = cls.from_vocabulary(vocab, d=d, lr=lr, n_neg=n_neg, seed=seed,
                                    ns_exponent=ns_exponent)
        model.vocab_seconds = time.perf_counter() - start
        model.config.update(settings)
        log.info("vocabulary: %d words from %d tokens in %.1f s", len(vocab), encoded.raw_words,
                 model.vocab_seconds)
        model._train_encoded(encoded, progress=progress, callbacks=callbacks)
        return model

    @classmethod
    def from_vocabulary(cls, vocab, d: int = 100, lr: float = 0.025, n_neg: int = 5,
                        seed: int | None = 1, ns_exponent: float = 0.75) -> "Word2Vec":
        """An untrained model over a ``cw2v.vocab.Vocabulary`` (rows in its order, noise
        distribution counts**ns_exponent, W_in uniform in [-1/d, 1/d) as in gensim), ready for
        ``train``. Build the vocabulary once with
        ``cw2v.corpus.build`` and train several models on the same encoded corpus."""
        model = cls(vocab.words, d=d, lr=lr, n_neg=n_neg, seed=seed)
        # gensim's initial range, [-1/d, 1/d): twice word2vec.c's (which the drop-in class keeps).
        # On wiki8 it gave the exact mode +0.5 to +1.9 analogy points over two seeds.
        model.W_in *= 2
        model.counts = np.asarray(vocab.counts, dtype=np.int64)
        model.set_noise_weights(vocab.noise_weights(ns_exponent))
        model.config["ns_exponent"] = float(ns_exponent)
        return model

    def train(self, corpus, *, epochs: int | None = None, lr: float | None = None,
              min_lr: float | None = None, window: int | None = None,
              sample: float | None = None, workers: int | None = None,
              mode: str | None = None, seed: int | None = None, progress: bool | None = None,
              callbacks: Iterable[Callable] = (), encoding: str = "utf-8",
              errors: str = "strict") -> list[trainer.EpochStats]:
        """Continue training on ``corpus`` with the existing vocabulary (unknown words are
        skipped). ``corpus`` is anything ``from_corpus`` takes, or a ``cw2v.corpus.EncodedCorpus``
        already encoded with this model's word ids. Parameters left as None keep the values in
        ``self.config`` (those of ``from_corpus``); see there for their meaning. The learning rate again decays from
        ``lr`` to ``min_lr`` over this call's epochs.

        Returns the list of ``EpochStats`` of this call.
        """
        given = dict(epochs=epochs, lr=lr, min_lr=min_lr, window=window, sample=sample,
                     workers=workers, mode=mode, seed=seed)
        merged = {**self.config, **{k: v for k, v in given.items() if v is not None}}
        merged["n_neg"] = self.n_neg
        merged["d"] = self.vector_size
        settings = _check_training(**{k: merged.get(k) for k in _CHECKED})
        self.config.update(settings)
        if isinstance(corpus, corpus_io.EncodedCorpus):
            encoded = corpus
        else:
            encoded = corpus_io.encode(corpus, self.w2i, encoding=encoding, errors=errors)
        return self._train_encoded(encoded, progress=progress, callbacks=callbacks)

    def _train_encoded(self, encoded, progress=None, callbacks=()) -> list[trainer.EpochStats]:
        self._check_weights()
        if encoded.tokens.shape[0] == 0:
            raise ValueError("the corpus has no word of the model's vocabulary")
        if encoded.tokens.size and (encoded.tokens.min() < 0
                                    or encoded.tokens.max() >= len(self.vocab)):
            raise IndexError("encoded corpus holds ids outside the vocabulary")
        c = self.config
        settings = trainer.TrainingSettings(
            epochs=c["epochs"], window=c["window"], n_neg=self.n_neg, sample=c["sample"],
            lr=c["lr"], min_lr=c["min_lr"], workers=c["workers"], seed=c["seed"],
            objective=c["mode"])
        run = trainer.TrainingRun(_kernel, self.W_in, self.W_out, self.sigmoid_tables,
                                  self.noise_table, self.counts, encoded, settings)
        callbacks = list(callbacks)
        self.training_stopped = None
        self.raw_words = int(encoded.raw_words)

        def apply_epoch(stats: trainer.EpochStats) -> None:
            self.loss_history.append(stats.loss)
            self.epoch_history.append(stats)
            for callback in callbacks:
                callback(self, stats)

        try:
            result = run.run(on_epoch=apply_epoch, progress=progress)
        finally:
            self.invalidate_norms()
        self.training_stopped = result.stopped
        return result.epochs

    # -- saving ------------------------------------------------------------------------------

    def _export_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """(JSON-able metadata, arrays) that ``_import_state`` rebuilds the model from.

        metadata: {"vocab": [...], "config": {...}, "lr": ..., "n_neg": ...,
        "loss_history": [...], "rng_state": int}; arrays: W_in, W_out (float32, (V, d)),
        counts (int64, (V,)), noise_weights (float64, (V,)).
        """
        meta = {"vocab": list(self.vocab), "config": dict(self.config), "lr": self.lr,
                "n_neg": self.n_neg, "loss_history": [float(x) for x in self.loss_history],
                "rng_state": int(self._rng_state[0])}
        arrays = {"W_in": self.W_in, "W_out": self.W_out,
                  "counts": np.asarray(self.counts, dtype=np.int64),
                  "noise_weights": np.asarray(self.freq, dtype=np.float64)}
        return meta, arrays

    @classmethod
    def _import_state(cls, meta: dict, arrays: dict[str, np.ndarray]) -> "Word2Vec":
        """Rebuild a model from ``_export_state``'s output (the arrays may be memory-mapped)."""
        W_in, W_out = arrays["W_in"], arrays["W_out"]
        if W_in.ndim != 2 or W_in.shape != W_out.shape or W_in.shape[0] != len(meta["vocab"]):
            raise ValueError(f"saved weights {W_in.shape}/{W_out.shape} do not match a "
                             f"vocabulary of {len(meta['vocab'])} words")
        model = cls.__new__(cls)
        SGNSBase.__init__(model, meta["vocab"], d=1, lr=meta["lr"], n_neg=meta["n_neg"],
                          seed=0)
        model.W_in, model.W_out = W_in, W_out
        model.counts = np.asarray(arrays["counts"], dtype=np.int64)
        model.set_noise_weights(arrays["noise_weights"])
        model.config = dict(meta["config"])
        model.seed = model.config.get("seed")
        model.loss_history = list(meta.get("loss_history", []))
        model.epoch_history = []
        model.training_stopped = None
        model.vocab_seconds = 0.0
        model._rng_state[0] = np.uint64(meta.get("rng_state", 0))
        return model

    def save(self, path: str | os.PathLike) -> None:
        """Save the whole model (weights, vocabulary, counts, settings) in cw2v's native format
        (see ``cw2v.io.save_model``), written to a temporary file and renamed into place."""
        from . import io

        io.save_model(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike, mmap: bool = False) -> "Word2Vec":
        """Load a model saved by ``save``; ``mmap=True`` maps the weights read-only."""
        from . import io

        return io.load_model(path, mmap=mmap)

    def save_word2vec_format(self, path: str | os.PathLike, binary: bool = False) -> None:
        """Write ``W_in`` in word2vec.c's text or binary format (readable by gensim)."""
        from . import io

        io.save_word2vec_format(self, path, binary=binary)

    # -- checks --------------------------------------------------------------------------------

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
        n = len(self.vocab)
        if (negatives is None and type(center_idx) is int and type(context_idx) is int
                and 0 <= center_idx < n and 0 <= context_idx < n):
            c, o, negs = center_idx, context_idx, None  # the common call, checked in full
        else:
            c = self._check_index("center_idx", center_idx)
            o = self._check_index("context_idx", context_idx)
            negs = None if negatives is None else self._check_negatives(negatives)
        state = self._pair_state()
        self._unit = None
        loss = state.train_pair(c, o, self.lr, negs)
        self._rng_state[0] = state.rng_state
        return loss

    def _pair_state(self):
        """The kernel state that ``train_pair`` and ``train_pairs`` run on, cached while the
        weights, tables, ``n_neg`` and ``_rng_state`` array stay the same objects.

        ``_rng_state`` (saved with the model) mirrors the state's generator: the state starts
        from it, and each call writes the advanced generator back.
        """
        cached = self.__dict__.get("_pairs")
        if cached is not None:
            state, rng = cached
            src = state.sources
            if (src[0] is self.W_in and src[1] is self.W_out and src[2] is self.sigmoid_tables
                    and src[3] is self.noise_table and rng is self._rng_state
                    and state.n_neg == self.n_neg):
                return state
        self._check_weights()
        state = _kernel.KernelState(self.W_in, self.W_out, self.sigmoid_tables,
                                    self.noise_table, self.n_neg, int(self._rng_state[0]))
        self._pairs = (state, self._rng_state)
        return state

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
        negs = None if negatives is None else self._check_negatives(negatives, c.shape[0])
        state = self._pair_state()
        self._unit = None
        loss = state.train_pairs(c, o, self.lr, negs)
        self._rng_state[0] = state.rng_state
        return loss


_CHECKED = ("d", "window", "min_count", "n_neg", "sample", "lr", "min_lr", "epochs", "workers",
            "ns_exponent", "max_vocab", "mode", "seed")


def _check_training(*, d, window, min_count, n_neg, sample, lr, min_lr, epochs, workers,
                    ns_exponent, max_vocab, mode, seed) -> dict:
    """Validate corpus-training hyper-parameters; ValueError naming the first bad one."""
    check_positive_int("d", d)
    check_positive_int("window", window)
    check_positive_int("min_count", min_count)
    check_positive_int("n_neg", n_neg, minimum=0)
    check_positive_float("sample", sample, allow_zero=True)
    lr = check_positive_float("lr", lr)
    min_lr = check_positive_float("min_lr", min_lr, allow_zero=True)
    if min_lr > lr:
        raise ValueError(f"min_lr ({min_lr}) must not exceed lr ({lr})")
    check_positive_int("epochs", epochs)
    if workers is None:
        workers = os.cpu_count() or 1
    check_positive_int("workers", workers)
    if not np.isfinite(float(ns_exponent)):
        raise ValueError(f"ns_exponent must be finite, got {ns_exponent}")
    if max_vocab is not None:
        check_positive_int("max_vocab", max_vocab)
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if mode == "batched" and (window > _kernel.MAX_BATCH_INPUTS // 2
                              or n_neg + 1 > _kernel.MAX_BATCH_OUTPUTS):
        raise ValueError(f"mode='batched' takes window <= {_kernel.MAX_BATCH_INPUTS // 2} and "
                         f"n_neg <= {_kernel.MAX_BATCH_OUTPUTS - 1}")
    if seed is not None:
        seed = check_positive_int("seed", seed, minimum=0)
    return dict(window=window, sample=float(sample), lr=lr, min_lr=min_lr, epochs=epochs,
                workers=workers, ns_exponent=float(ns_exponent), min_count=min_count,
                max_vocab=max_vocab, mode=mode, seed=seed)
