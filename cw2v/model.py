"""``cw2v.Word2Vec``: the classic from-scratch word2vec class, with a Cython kernel underneath.

A script written for the classic NumPy class (``Word2Vec(vocab, d, lr, n_neg)``, ``set_freq``,
``train_pair``, ``similarity``, ``most_similar``, attributes ``vocab``, ``w2i``, ``W_in``,
``W_out``) runs unchanged after ``from cw2v import Word2Vec``, only faster. Every input is checked
here, before it reaches the kernel's ``nogil`` code.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

import numpy as np

from . import corpus as corpus_io
from . import io, params, trainer
from ._files import InputLike, PathLike, input_name
from ._simd import kernel as _kernel
from .base import SGNSBase
from .tables import HuffmanTree, huffman_tree

log = logging.getLogger(__name__)


_STATE_ARRAYS = ("W_in", "W_out", "counts", "noise_weights")


def _check_state(meta: dict, arrays: dict[str, np.ndarray]) -> None:
    """ValueError saying what in a saved model's metadata or arrays cannot make a model."""
    for key in ("vocab", "lr", "n_neg"):
        if key not in meta:
            raise ValueError(f"the metadata has no {key!r}")
    for key in _STATE_ARRAYS:
        if key not in arrays:
            raise ValueError(f"there is no array {key!r}")
    vocab = meta["vocab"]
    if not isinstance(vocab, list) or not vocab:
        raise ValueError(f"'vocab' is not a non-empty list of words: {str(vocab)[:80]}")
    bad = [w for w in vocab if not isinstance(w, str)]
    if bad:
        raise ValueError(f"'vocab' holds {bad[0]!r} ({type(bad[0]).__name__}), not a word "
                         "(str)")
    for key in ("config", "loss_history"):
        kind = dict if key == "config" else list
        if key in meta and not isinstance(meta[key], kind):
            raise ValueError(f"{key!r} is not a JSON {'object' if kind is dict else 'array'} "
                             f"(got {type(meta[key]).__name__}: {str(meta[key])[:80]})")
    if any(isinstance(x, bool) or not isinstance(x, (int, float))
           for x in meta.get("loss_history", [])):
        raise ValueError("'loss_history' holds something that is not a number")
    rng_state = meta.get("rng_state", 0)
    if isinstance(rng_state, bool) or not isinstance(rng_state, int) \
            or not 0 <= rng_state < 2**64:
        raise ValueError(f"'rng_state' must be an integer in [0, 2**64), got {rng_state!r}")
    n = len(vocab)
    W_in, W_out = arrays["W_in"], arrays["W_out"]
    if W_in.ndim != 2 or W_in.shape != W_out.shape or W_in.shape[0] != n or W_in.shape[1] < 1:
        raise ValueError(f"saved weights {W_in.shape}/{W_out.shape} do not match a "
                         f"vocabulary of {n} words")
    for key in ("W_in", "W_out"):
        if arrays[key].dtype != np.float32:
            raise ValueError(f"array {key!r} has dtype {arrays[key].dtype}; a model's weights "
                             "are float32")
    for key, kinds, what in (("counts", "iu", "integer"), ("noise_weights", "iuf", "number")):
        arr = arrays[key]
        if arr.dtype.kind not in kinds:
            raise ValueError(f"array {key!r} has dtype {arr.dtype}, not a {what} type")
        if key in ("counts", "noise_weights") and arr.shape != (n,):
            raise ValueError(f"array {key!r} has shape {arr.shape}, expected ({n},)")
    if np.any(arrays["counts"] < 0):
        raise ValueError("array 'counts' holds negative counts")
    hs = meta.get("config", {}).get("hs", 0)
    if "syn1" in arrays:
        if arrays["syn1"].dtype != np.float32 or arrays["syn1"].shape != W_in.shape:
            raise ValueError(f"array 'syn1' ({arrays['syn1'].dtype}, {arrays['syn1'].shape}) "
                             f"must be float32 of W_in's shape {W_in.shape}")
    elif hs:
        raise ValueError("the model uses hierarchical softmax (hs=1) but has no array 'syn1'")


def describe_objective(sg: int, hs: int, n_neg: int, cbow_mean: int = 1) -> str:
    """What a model trains, in words: "CBOW (mean) with negative sampling (5 noise words)"."""
    arch = "skip-gram" if sg else f"CBOW ({'mean' if cbow_mean else 'sum'})"
    parts = []
    if hs:
        parts.append("hierarchical softmax")
    if n_neg:
        parts.append(f"negative sampling ({n_neg} noise word{'s' if n_neg != 1 else ''})")
    return f"{arch} with {' and '.join(parts)}"


class Word2Vec(SGNSBase):
    """word2vec trained by a Cython kernel with the GIL released: skip-gram with negative sampling
    (SGNS) by default, and CBOW and hierarchical softmax for corpus training (``sg``, ``hs``,
    ``cbow_mean`` of ``from_corpus``).

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

    The word vectors are ``model.wv`` (a ``cw2v.Vectors`` over ``W_in``, not a copy); the
    classic queries (``similarity``, ``most_similar``, ...) forward to it. ``model.config``
    holds every training parameter (``cw2v.params``), and is saved with the model.

    With hierarchical softmax (``hs=1``), ``syn1`` holds the inner-node weights (V, d) (zeros at
    first, as in word2vec.c; row V - 1 unused) and ``tree`` the Huffman tree, rebuilt from
    ``counts`` when needed (deterministic, so a loaded model continues training). ``W_out`` is
    negative sampling's output weights (word2vec.c's syn1neg), unused when ``n_neg=0``.
    ``train_pair`` and ``train_pairs`` train skip-gram with negative sampling.
    """

    def __init__(self, vocab, d: int = 50, lr: float = 0.025, n_neg: int = 5, *,
                 seed: int | None = None):
        super().__init__(vocab, d, lr, n_neg, seed=seed)
        self.config: dict = {**params.defaults(), "d": self.vector_size, "lr": self.lr,
                             "n_neg": self.n_neg, "seed": seed}
        self.loss_history: list[float] = []
        self.epoch_history: list[trainer.EpochStats] = []
        self.training_stopped: str | None = None
        self.vocab_seconds = 0.0
        self.syn1: np.ndarray | None = None

    @property
    def tree(self) -> HuffmanTree:
        """Hierarchical softmax's Huffman tree over ``counts`` (word2vec.c's construction),
        built on first use and again whenever ``counts`` is replaced."""
        cached = self.__dict__.get("_tree")
        if cached is None or cached[0] is not self.counts:
            cached = (self.counts, huffman_tree(self.counts))
            self._tree = cached
        return cached[1]

    @property
    def objective(self) -> str:
        """What corpus training trains, in words (architecture and objective)."""
        c = self.config
        return describe_objective(c["sg"], c["hs"], self.n_neg, c["cbow_mean"])

    # -- corpus training ---------------------------------------------------------------------

    @classmethod
    @params.with_parameters(params.names("model", "vocab", "train"))
    def from_corpus(cls, corpus, *, progress: bool | None = None,
                    callbacks: Iterable[Callable] = (), encoding: str = "utf-8",
                    errors: str = "strict", **parameters) -> "Word2Vec":
        """Build the vocabulary of ``corpus`` and train word vectors on it (skip-gram with
        negative sampling unless ``sg``, ``hs``, ``n_neg`` say otherwise).

        Parameters
        ----------
        corpus : path or binary file object, a list of them, or an iterable of token lists
            A plain, .gz, .bz2 or .xz text file (text8's single line or one sentence a line) or
            a binary file object reading one (``sys.stdin.buffer``), several of them, or
            sentences as lists of str (a one-shot generator works: it is read once).
{parameters}
        progress : bool, optional
            Show a tqdm progress bar (default: when stderr is a terminal).
        callbacks : iterable of callables
            Each is called as ``callback(model, stats)`` after every epoch with that epoch's
            ``EpochStats``; raising ``cw2v.StopTraining`` ends training.
        encoding, errors : str
            How files are decoded; ``errors="strict"`` raises on undecodable bytes naming the
            file and byte offset, "replace" or "ignore" pass them.

        The training parameters are the rows of ``cw2v.params.PARAMETERS``; each is checked
        (ValueError naming it) before the corpus is read.

        Returns
        -------
        Word2Vec
            The trained model, vectors in ``W_in`` (and ``wv``), rows sorted by descending
            word count.
        """
        settings = params.resolve(parameters)
        start = time.perf_counter()
        vocab, encoded = corpus_io.build(corpus, min_count=settings["min_count"],
                                         max_vocab=settings["max_vocab"], encoding=encoding,
                                         errors=errors)
        model = cls.from_vocabulary(vocab, d=settings["d"], lr=settings["lr"],
                                    n_neg=settings["n_neg"], seed=settings["seed"],
                                    ns_exponent=settings["ns_exponent"], sg=settings["sg"],
                                    hs=settings["hs"], cbow_mean=settings["cbow_mean"])
        model.vocab_seconds = time.perf_counter() - start
        model.config.update(settings)
        log.info("vocabulary: %d words from %d tokens in %.1f s", len(vocab), encoded.raw_words,
                 model.vocab_seconds)
        model._train_encoded(encoded, progress=progress, callbacks=callbacks)
        return model

    @classmethod
    def from_vocabulary(cls, vocab, d: int = 100, lr: float = 0.025, n_neg: int = 5,
                        seed: int | None = 1, ns_exponent: float = 0.75, *, sg: int = 1,
                        hs: int = 0, cbow_mean: int = 1) -> "Word2Vec":
        """An untrained model over a ``cw2v.vocab.Vocabulary`` (rows in its order, noise
        distribution counts**ns_exponent, W_in uniform in [-1/d, 1/d) as in gensim), ready for
        ``train``. Build the vocabulary once with
        ``cw2v.corpus.build`` and train several models on the same encoded corpus.
        ``sg``, ``hs`` and ``cbow_mean`` choose the architecture and objective (see
        ``cw2v.params``); with ``hs=1`` the model gets ``syn1`` (zeros)."""
        arch = {"sg": sg, "hs": hs, "cbow_mean": cbow_mean}
        params.resolve({**arch, "n_neg": n_neg})  # the rules tying them together, first
        model = cls(vocab.words, d=d, lr=lr, n_neg=n_neg, seed=seed)
        model.config.update(arch)
        if hs:
            model.syn1 = np.zeros_like(model.W_out)
        # gensim's initial range, [-1/d, 1/d): twice word2vec.c's (which the drop-in class keeps).
        # On wiki8 it gave the exact mode +0.5 to +1.9 analogy points over two seeds.
        model.W_in *= 2
        model.counts = np.asarray(vocab.counts, dtype=np.int64)
        model.set_noise_weights(vocab.noise_weights(ns_exponent))
        model.config["ns_exponent"] = float(ns_exponent)
        return model

    @params.with_parameters(params.names("train"), default_none=True)
    def train(self, corpus, *, progress: bool | None = None, callbacks: Iterable[Callable] = (),
              encoding: str = "utf-8", errors: str = "strict",
              **parameters) -> list[trainer.EpochStats]:
        """Continue training on ``corpus`` with the existing vocabulary (unknown words are
        skipped).

        ``corpus`` is anything ``from_corpus`` takes, or a ``cw2v.corpus.EncodedCorpus`` already
        encoded with this model's word ids. The parameters below, left as None, keep their
        values in ``self.config`` (those of ``from_corpus``); the model's own (``d``, ``n_neg``,
        ``ns_exponent``, ``sg``, ``hs``, ``cbow_mean``) and its vocabulary's (``min_count``,
        ``max_vocab``) stay as they are.
        The learning rate again decays from ``lr`` to ``min_lr`` over this call's epochs.

        Parameters
        ----------
{parameters}

        Returns the list of ``EpochStats`` of this call.
        """
        unknown = sorted(set(parameters) - set(params.names("train")))
        if unknown:
            raise TypeError(f"train() cannot change {', '.join(unknown)} (only "
                            f"{', '.join(params.names('train'))})")
        given = {k: v for k, v in parameters.items() if v is not None}
        base = {**self.config, "d": self.vector_size, "n_neg": self.n_neg}
        settings = params.resolve(given, base={k: v for k, v in base.items()
                                               if k in params.BY_NAME})
        self._check_weights()  # before the corpus is read, not after
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
        if c["hs"] and self.syn1 is None:
            self.syn1 = np.zeros_like(self.W_out)
        settings = trainer.TrainingSettings(
            epochs=c["epochs"], window=c["window"], n_neg=self.n_neg, sample=c["sample"],
            lr=c["lr"], min_lr=c["min_lr"], workers=c["workers"], seed=c["seed"],
            objective=c["mode"], sg=c["sg"], hs=c["hs"], cbow_mean=c["cbow_mean"])
        log.info("training %s, %s mode", self.objective, c["mode"])
        run = trainer.TrainingRun(_kernel, self.W_in, self.W_out, self.sigmoid_tables,
                                  self.noise_table, self.counts, encoded, settings,
                                  tree=self.tree if c["hs"] else None,
                                  syn1=self.syn1 if c["hs"] else None)
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
        counts (int64, (V,)), noise_weights (float64, (V,)), and syn1 (float32, (V, d)) for
        hierarchical softmax. ``config`` records the architecture and objective (sg, hs,
        cbow_mean, n_neg); the Huffman tree is rebuilt from counts on load.
        """
        meta = {"vocab": list(self.vocab), "config": dict(self.config), "lr": self.lr,
                "n_neg": self.n_neg, "loss_history": [float(x) for x in self.loss_history],
                "rng_state": int(self._rng_state[0])}
        arrays = {"W_in": self.W_in, "W_out": self.W_out,
                  "counts": np.asarray(self.counts, dtype=np.int64),
                  "noise_weights": np.asarray(self.freq, dtype=np.float64)}
        if self.syn1 is not None:
            arrays["syn1"] = self.syn1
        return meta, arrays

    @classmethod
    def _import_state(cls, meta: dict, arrays: dict[str, np.ndarray]) -> "Word2Vec":
        """Rebuild a model from ``_export_state``'s output (the arrays may be memory-mapped).

        Raises ValueError saying what is missing or malformed (``load`` adds the file's name).
        """
        _check_state(meta, arrays)
        W_in, W_out = arrays["W_in"], arrays["W_out"]
        model = cls.__new__(cls)
        SGNSBase.__init__(model, meta["vocab"], d=1, lr=meta["lr"], n_neg=meta["n_neg"],
                          seed=0)
        model.W_in, model.W_out = W_in, W_out
        model.counts = np.asarray(arrays["counts"], dtype=np.int64)
        model.set_noise_weights(arrays["noise_weights"])
        model.config = {**params.defaults(), **meta.get("config", {})}
        model.seed = model.config.get("seed")
        model.loss_history = list(meta.get("loss_history", []))
        model.epoch_history = []
        model.training_stopped = None
        model.vocab_seconds = 0.0
        model._rng_state[0] = np.uint64(meta.get("rng_state", 0))
        model.syn1 = arrays.get("syn1")
        return model

    def save(self, path: PathLike) -> None:
        """Save the whole model (weights, vocabulary, counts, settings, generator state) in
        cw2v's native format (``cw2v.io.save_arrays``; layout in ``cw2v.io``), written to a
        temporary file and renamed into place."""
        meta, arrays = self._export_state()
        cls = type(self)
        io.save_arrays(path, meta, arrays, extra={"class": f"{cls.__module__}.{cls.__qualname__}"})

    @classmethod
    def load(cls, path: InputLike, mmap: bool | str = False) -> "Word2Vec":
        """Load a model saved by ``save``.

        ``path`` is a file (a pipe or FIFO too) or a binary file object. ``mmap=True`` maps the
        weights of a regular file read-only (the model answers queries but cannot be trained
        further); ``mmap="c"`` maps them copy-on-write (see ``cw2v.io.load_arrays``).

        Raises FileNotFoundError (no such file) or ValueError naming the file: not a cw2v
        model, an unknown format version, a truncated or corrupt file, or metadata that does not
        make a model (a missing key, a vocabulary that is not a list of distinct str...).
        """
        meta, arrays = io.load_arrays(path, mmap=mmap)
        try:
            return cls._import_state(meta, arrays)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{input_name(path)}: not a valid cw2v model: {exc}") from None

    def save_word2vec_format(self, path: PathLike, binary: bool = False) -> None:
        """Write ``W_in`` in word2vec.c's text or binary format (readable by gensim)."""
        self.wv.save_word2vec_format(path, binary=binary)

    # -- checks --------------------------------------------------------------------------------

    def _check_weights(self) -> None:
        for name in ("W_in", "W_out", "syn1"):
            w = getattr(self, name, None)
            if name == "syn1" and w is None:
                continue
            if isinstance(w, np.ndarray) and not w.flags.writeable:
                raise TypeError(f"{name} is not writeable: a model loaded with mmap=True answers "
                                "queries but cannot be trained; load it with mmap='c' "
                                "(copy-on-write) or without mmap to train it")
            if not isinstance(w, np.ndarray) or w.dtype != np.float32 or not w.flags.c_contiguous:
                raise TypeError(f"{name} must be a writeable C-contiguous float32 array")
            if w.shape != (len(self.vocab), self.vector_size):
                raise ValueError(f"{name} has shape {w.shape}, expected "
                                 f"({len(self.vocab)}, {self.vector_size})")


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
        self._check_sgns()
        n = len(self.vocab)
        if (negatives is None and type(center_idx) is int and type(context_idx) is int
                and 0 <= center_idx < n and 0 <= context_idx < n):
            c, o, negs = center_idx, context_idx, None  # the common call, checked in full
        else:
            c = self._check_index("center_idx", center_idx)
            o = self._check_index("context_idx", context_idx)
            negs = None if negatives is None else self._check_negatives(negatives)
        state = self._pair_state()
        loss = state.train_pair(c, o, self.lr, negs)
        self._rng_state[0] = state.rng_state
        self.wv.invalidate_norms()  # after the change: a query meanwhile keeps no stale norms
        return loss

    def _check_sgns(self) -> None:
        """train_pair / train_pairs train skip-gram with negative sampling: refuse a model of
        hierarchical softmax only, whose W_out is not trained."""
        if self.n_neg == 0 and self.config.get("hs"):
            raise ValueError("train_pair and train_pairs train skip-gram with negative "
                             "sampling; this model uses hierarchical softmax only (hs=1, "
                             "n_neg=0): train it on a corpus with train()")

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
        self._check_sgns()
        c, o = self._check_pairs(centers, contexts)
        negs = None if negatives is None else self._check_negatives(negatives, c.shape[0])
        state = self._pair_state()
        try:
            loss = state.train_pairs(c, o, self.lr, negs)
        finally:
            self._rng_state[0] = state.rng_state
            self.wv.invalidate_norms()  # after the change: a query meanwhile keeps no stale norms
        return loss

