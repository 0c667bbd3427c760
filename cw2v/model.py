"""``cw2v.Word2Vec``: the classic from-scratch word2vec class, with a Cython kernel underneath.

A script written for the classic NumPy class (``Word2Vec(vocab, d, lr, n_neg)``, ``set_freq``,
``train_pair``, ``similarity``, ``most_similar``, attributes ``vocab``, ``w2i``, ``W_in``,
``W_out``) runs unchanged after ``from cw2v import Word2Vec``, only faster. Every input is checked
here, before it reaches the kernel's ``nogil`` code.
"""
from __future__ import annotations

import dataclasses
import functools
import inspect
import logging
import sys
import time
import types
from collections.abc import Callable, Iterable, Mapping
from numbers import Real

import numpy as np

from . import cache as corpus_cache
from . import checkpoint as ckpt
from . import corpus as corpus_io
from . import _cluster, _rows, io, params, trainer
from ._files import InputLike, PathLike, check_save_target, input_name
from ._lock import owns_checkpoint
from ._simd import kernel as _kernel
from ._simd import row_bytes
from .base import ModelState
from .phrases import transform_corpus
from .subword_vectors import SubwordVectors
from .tables import HuffmanTree, huffman_tree
from .vectors import Vectors, as_vectors

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
    run_rng = meta.get("run_rng_states", [])
    if not isinstance(run_rng, list) or any(
            isinstance(x, bool) or not isinstance(x, int) or not 0 <= x < 2**64 for x in run_rng):
        raise ValueError(f"'run_rng_states' must be a list of integers in [0, 2**64), got "
                         f"{str(run_rng)[:80]}")
    n = len(vocab)
    W_in, W_out = arrays["W_in"], arrays["W_out"]
    if W_in.ndim != 2 or W_in.shape != W_out.shape or W_in.shape[0] != n or W_in.shape[1] < 1:
        subwords = (W_in.ndim == 2 and W_in.shape[0] > n and W_out.shape == (n, W_in.shape[1])
                    and "bucket" in meta.get("config", {}))
        raise ValueError(f"saved weights {W_in.shape}/{W_out.shape} do not match a "
                         f"vocabulary of {n} words" + ("; it is a FastText model (words' and "
                                                       "n-gram buckets' rows): load it with "
                                                       "cw2v.FastText.load" if subwords else ""))
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
    hs = {**params.defaults(), **meta.get("config", {})}["hs"]
    if "syn1" in arrays:
        if arrays["syn1"].dtype != np.float32 or arrays["syn1"].shape != W_in.shape:
            raise ValueError(f"array 'syn1' ({arrays['syn1'].dtype}, {arrays['syn1'].shape}) "
                             f"must be float32 of W_in's shape {W_in.shape}")
    elif hs:
        raise ValueError("the model uses hierarchical softmax (hs=1) but has no array 'syn1'")
    if "lockf" in arrays:
        lockf = arrays["lockf"]
        if lockf.dtype != np.float32 or lockf.shape != (n,):
            raise ValueError(f"array 'lockf' ({lockf.dtype}, {lockf.shape}) must be float32 "
                             f"of shape ({n},)")
        if not ((lockf >= 0) & (lockf <= 1)).all():
            raise ValueError("array 'lockf' holds factors outside [0, 1]")


def describe_objective(sg: int, hs: int, n_neg: int,
                       cbow_mean: int = params.default("cbow_mean")) -> str:
    """What a model trains, in words: "CBOW (mean) with negative sampling (5 noise words)"."""
    arch = "skip-gram" if sg else f"CBOW ({'mean' if cbow_mean else 'sum'})"
    parts = []
    if hs:
        parts.append("hierarchical softmax")
    if n_neg:
        parts.append(f"negative sampling ({n_neg} noise word{'s' if n_neg != 1 else ''})")
    return f"{arch} with {' and '.join(parts)}"


def _cache_folder(cache_dir):
    """``cache_dir`` as ``cw2v.corpus`` takes it: None (the default) -> the user's cache
    folder, False -> None (in memory), a path as it is."""
    if cache_dir is None or cache_dir is True:
        return corpus_cache.default_cache_dir()
    return cache_dir or None


def _phrase_passes(phrases) -> int:
    """How many phrase passes ``phrases`` (of ``from_corpus``) makes."""
    return len(phrases) if isinstance(phrases, (list, tuple)) else 1


def load_vectors(path: InputLike, binary: bool | None = None, *,
                 unicode_errors: str = "strict") -> Vectors:
    """Word vectors from any file cw2v reads, the format told by content: a native model
    (``Word2Vec.load``, every check of a model file; its ``wv``), a fastText ``.bin``
    (``SubwordVectors.from_fasttext_bin``: vectors for unseen words too), or what
    ``cw2v.io.read_vectors`` reads (word2vec text or binary, a native vectors file); ``"-"`` is
    standard input. ``binary`` and ``unicode_errors`` are ``cw2v.io.read_vectors``'s."""
    source = io.rereadable(path)
    kind = io.detect_format(source)
    if kind == "cw2v":
        return Word2Vec.load(source).wv
    if kind == "fasttext":
        return SubwordVectors.from_fasttext_bin(source)
    return io.read_vectors(source, binary, unicode_errors=unicode_errors)


def _pretrained(source, d: int):
    """``init_vectors`` of ``from_corpus`` as ``cw2v.Vectors`` (a path read with
    ``load_vectors``, which tells the formats apart), checked to have dimension ``d``
    (ValueError otherwise)."""
    if isinstance(source, (str, bytes)) or hasattr(source, "__fspath__") \
            or hasattr(source, "read"):
        name = input_name(source)
        vectors = load_vectors(source)
    else:
        name, vectors = "init_vectors", as_vectors(source)
    assert isinstance(vectors, Vectors)
    if vectors.vector_size != d:
        k = vectors.vector_size
        raise ValueError(f"{name}: the pretrained vectors have dimension {k} but d={d}; "
                         f"train with d={k} (cw2v train: --d {k})")
    return vectors


_LOCK_FORMS = ("a float array of factors in [0, 1] (one per word), a boolean mask (True: "
               "locked), a collection of words to lock, a mapping {word: factor}, or 'init'")


def _lock_form(lock, lock_init: bool = False):
    """What ``lock=`` (and ``lock_init=``) of ``from_corpus`` and ``train`` can be told without
    the vocabulary, checked: None (no lock given), "init", a dict {word: factor} (a collection
    of words: factor 0), or float32 factors (their length is checked against the vocabulary by
    ``_lock_factors``). ValueError naming ``lock`` for a malformed one."""
    if lock_init not in (False, True):
        raise ValueError(f"lock_init must be True or False, got {lock_init!r}")
    if lock_init:
        if lock is not None and not (isinstance(lock, str) and lock == "init"):
            raise ValueError("lock_init=True locks the rows taken from init_vectors; it "
                             "cannot be combined with another lock=")
        return "init"
    if lock is None:
        return None
    if isinstance(lock, str):
        if lock == "init":
            return "init"
        raise ValueError(f"lock must be {_LOCK_FORMS}; got the string {lock!r} (to lock one "
                         f"word, pass [{lock!r}])")
    if isinstance(lock, Mapping):
        words = {}
        for word, factor in lock.items():
            if not isinstance(word, str):
                raise ValueError(f"lock's keys must be words (str), got {word!r}")
            if isinstance(factor, (bool, np.bool_)) or not isinstance(factor, Real) \
                    or not 0 <= factor <= 1:
                raise ValueError(f"lock's factors must be numbers in [0, 1] (0 freezes a row, "
                                 f"1 trains it); lock[{word!r}] = {factor!r}")
            words[word] = float(factor)
        return words
    if isinstance(lock, np.ndarray) and lock.dtype.kind not in "OUS":
        array = lock
    else:
        try:
            items = list(lock)
        except TypeError:
            raise ValueError(f"lock must be {_LOCK_FORMS}; got {type(lock).__name__}") from None
        if all(isinstance(x, str) for x in items):
            return dict.fromkeys(items, 0.0)
        if any(isinstance(x, str) for x in items):
            raise ValueError("lock mixes words and numbers: give words, a mask or factors")
        array = np.asarray(items)
    if array.ndim != 1:
        raise ValueError(f"lock must be one-dimensional (one entry per word), got shape "
                         f"{array.shape}")
    if array.dtype == np.bool_:
        return np.where(array, np.float32(0), np.float32(1))
    if array.dtype.kind not in "iuf":
        raise ValueError(f"lock must hold factors (float) or a mask (bool), got dtype "
                         f"{array.dtype}")
    factors = array.astype(np.float32)
    bad = np.flatnonzero(~((factors >= 0) & (factors <= 1)))  # NaN fails both
    if bad.size:
        raise ValueError(f"lock's factors must be in [0, 1] (0 freezes a row, 1 trains it); "
                         f"lock[{bad[0]}] = {array[bad[0]]}")
    return factors


def _lock_factors(form, vocab: list, w2i: dict, init_rows=None) -> np.ndarray | None:
    """The lock factors (float32, one per word of ``vocab``) of a ``_lock_form``; None for
    None. ValueError naming ``lock`` for factors of another length or "init" without the rows
    of init_vectors; KeyError naming a word to lock that is not in the vocabulary."""
    if form is None:
        return None
    V = len(vocab)
    if isinstance(form, str):  # "init"
        if init_rows is None:
            raise ValueError("lock='init' (lock_init=True) locks the rows taken from "
                             "init_vectors: pass init_vectors= to from_corpus")
        factors = np.ones(V, dtype=np.float32)
        factors[np.asarray(init_rows, dtype=np.int64)] = 0
        return factors
    if isinstance(form, dict):
        factors = np.ones(V, dtype=np.float32)
        for word, factor in form.items():
            if word not in w2i:
                raise KeyError(f"lock: word {word!r} not in vocabulary")
            factors[w2i[word]] = factor
        return factors
    if form.shape[0] != V:
        raise ValueError(f"lock has {form.shape[0]} entries, the vocabulary {V} words")
    return form.copy()


def _check_lockf(lockf, V: int) -> None:
    """ValueError unless ``lockf`` (a model's lock factors) is None or V float32 factors in
    [0, 1]."""
    if lockf is None:
        return
    if not isinstance(lockf, np.ndarray) or lockf.dtype != np.float32 or lockf.shape != (V,):
        raise ValueError(f"lockf must be None or a float32 array of {V} factors (one per "
                         f"word), got {type(lockf).__name__} "
                         f"{getattr(lockf, 'dtype', '')}{getattr(lockf, 'shape', '')}")
    if not ((lockf >= 0) & (lockf <= 1)).all():
        raise ValueError("lockf's factors must be in [0, 1]")


def _kernel_lockf(lockf):
    """What the kernel gets: None (no locking, no extra work) when no factor is below 1."""
    return None if lockf is None or (lockf == 1).all() else lockf


def _check_checkpoint(path, every) -> float:
    """Check a checkpoint target and interval before any corpus is read (ValueError /
    OSError naming them); returns the interval as a float."""
    every = ckpt.check_every(every)
    if path is not None:
        target = check_save_target(path)
        if not target.parent.is_dir():
            raise FileNotFoundError(f"{path}: checkpoint directory {target.parent} does not "
                                    "exist")
    return every


def _distributable(entry: str):
    """Route a call with ``distributed=`` (True, or a ``cw2v.comm.Communicator``) to
    ``cw2v._cluster``'s ``entry``, past the checkpoint lock (rank 0 alone writes and holds it
    there); other calls run the decorated method, which checks that no distributed-only
    option (``rule``, ``sync_tokens``) was given."""
    def decorate(func):
        @functools.wraps(func)
        def wrapper(cls, *args, distributed=False, rule=None, sync_tokens=None, **kwargs):
            if distributed is not False and distributed is not None:
                extra = {} if entry == "resume" else {"rule": rule, "sync_tokens": sync_tokens}
                if entry == "resume" and (rule is not None or sync_tokens is not None):
                    raise TypeError("resume continues with the checkpoint's rule and "
                                    "sync_tokens: drop rule= and sync_tokens=")
                helpers = types.SimpleNamespace(cache_folder=_cache_folder,
                                                check_checkpoint=_check_checkpoint,
                                                pretrained=_pretrained, lock_form=_lock_form,
                                                lock_factors=_lock_factors)
                return getattr(_cluster, entry)(cls, *args, distributed, **extra, **kwargs,
                                                helpers=helpers)
            if rule is not None or sync_tokens is not None:
                raise ValueError("rule= and sync_tokens= apply to distributed training only "
                                 "(distributed=True, under mpiexec)")
            return func(cls, *args, **kwargs)

        sig = inspect.signature(func)
        extra = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)
                 for name, default in (("distributed", False), ("rule", None),
                                       ("sync_tokens", None))
                 if entry != "resume" or name == "distributed"]
        own = list(sig.parameters.values())
        n = len(own) - (own[-1].kind is inspect.Parameter.VAR_KEYWORD)  # (**parameters last)
        wrapper.__signature__ = sig.replace(parameters=own[:n] + extra + own[n:])
        return wrapper
    return decorate


class Word2Vec(ModelState):
    """word2vec trained by a Cython kernel with the GIL released: skip-gram with negative sampling
    (SGNS) by default, and CBOW and hierarchical softmax for corpus training (``sg``, ``hs``,
    ``cbow_mean`` of ``from_corpus``).

    Parameters
    ----------
    vocab : sequence of str
        The words; row i of ``W_in`` and ``W_out`` belongs to ``vocab[i]``.
    d : int, default 50
        Vector dimension (the classic NumPy class's default, kept so that its scripts run
        unchanged; corpus training's default, ``cw2v.params``, is 100).
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

    ``lockf`` holds each word's lock factor (gensim's ``vectors_lockf``; float32 (V,) in
    [0, 1], or None: no lock), set by ``lock=`` of ``from_corpus`` and ``train``: every update
    of ``W_in[w]``, by any method, is scaled by ``lockf[w]`` (0 keeps the row as it is).
    """

    @staticmethod
    def _zeros(n_rows: int, d: int, dtype=np.float32) -> np.ndarray:
        """A zeroed weight matrix whose rows start on the kernel copy's vector boundaries
        (``cw2v._rows``: the first d columns of a wider, aligned array)."""
        return _rows.zeros(n_rows, d, row_bytes(), dtype)

    @classmethod
    def _read_buffer(cls, name: str, shape: tuple, dtype: np.dtype) -> np.ndarray | None:
        """Where ``load`` reads array ``name`` of a model file: the weights into storage as
        ``_zeros`` makes it (so a loaded model trains as fast as a new one), anything else
        into a plain array (None)."""
        if name in ("W_in", "W_out", "syn1") and len(shape) == 2 and dtype == np.float32:
            return cls._zeros(*shape)
        return None

    def __init__(self, vocab, d: int = 50, lr: float = params.default("lr"),
                 n_neg: int = params.default("n_neg"), *, seed: int | None = None):
        super().__init__(vocab, d, lr, n_neg, seed=seed)
        self.config: dict = {**params.defaults(), "d": self.vector_size, "lr": self.lr,
                             "n_neg": self.n_neg, "seed": seed}
        self.loss_history: list[float] = []
        self.epoch_history: list[trainer.EpochStats] = []
        self.training_stopped: str | None = None
        self.vocab_seconds = 0.0
        self.syn1: np.ndarray | None = None
        # each word's lock factor (gensim's vectors_lockf): None, or float32 (V,) in [0, 1]
        self.lockf: np.ndarray | None = None
        # each worker's generator where the last training call left it (saved with the model):
        # the next call continuing its schedule (start_epoch > 0) goes on from them
        self._run_rng_states: list[int] = []

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
    @_distributable("from_corpus")
    @owns_checkpoint
    def from_corpus(cls, corpus, *, progress: bool | None = None,
                    callbacks: Iterable[Callable] = (), encoding: str = "utf-8",
                    errors: str = "strict", checkpoint: PathLike | None = None,
                    checkpoint_every: float = ckpt.DEFAULT_EVERY,
                    cache_dir: PathLike | bool | None = None, phrases=None,
                    init_vectors=None, lock=None, lock_init: bool = False,
                    **parameters) -> "Word2Vec":
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
        checkpoint : path, optional
            Write the model and the run's position here (atomically) every
            ``checkpoint_every`` seconds, after each epoch and on Ctrl-C;
            ``Word2Vec.resume(checkpoint, corpus)`` continues the run after a crash (with
            ``workers=1``, to the same weights bit for bit). See ``cw2v.checkpoint``.
        checkpoint_every : float, default 600
            Seconds between checkpoints (0: before every span of 50,000 tokens).
        cache_dir : path or False, optional
            Where the encoded corpus is written (``cw2v.cache``): memory then does not grow with
            the corpus, and a second run on the same unchanged files with the same vocabulary
            settings reuses it instead of reading the text again. Default: the user's cache
            folder (``cw2v.cache.default_cache_dir()``: ``$CW2V_CACHE_DIR``, else
            ``~/.cache/cw2v``); ``False`` encodes in memory.
        phrases : cw2v.phrases.Phrases or FrozenPhrases, or a list of them, optional
            Join the phrases in ``corpus`` as it is read (a list: one pass after another,
            bigrams then trigrams), with no intermediate file; see ``cw2v.phrases``.
        init_vectors : path or cw2v.Vectors (or a model holding them), optional
            Pretrained vectors to start from (gensim's ``intersect_word2vec_format``): each
            word of the vocabulary that they hold starts training from its pretrained vector
            in ``W_in``; the other words keep their random start. A path is read as
            ``cw2v.cli.load_vectors`` reads it (word2vec text or binary, or a native model,
            told by content) before the corpus is; their dimension must be ``d`` (ValueError
            otherwise, before the corpus is read).
        lock : array, collection of words, mapping or "init", optional
            Rows that training leaves unchanged (gensim's ``vectors_lockf``): a float array of
            one factor per word in [0, 1] (each update of the word's input vector is scaled by
            it: 0 freezes the row, 1 trains it as usual), a boolean mask (True: locked), a
            collection of words to lock, a mapping {word: factor} (the other words: 1), or
            "init": the rows taken from ``init_vectors``
            (gensim's ``intersect_word2vec_format(lockf=0.0)``). The factors are kept as
            ``model.lockf`` (saved with the model) and apply to later ``train`` calls too.
            Output weights (``W_out``, ``syn1``) train as usual, as in gensim. An array's
            length and the words are checked against the vocabulary (ValueError naming
            ``lock``, KeyError naming an unknown word) once it is built, before training; the
            rest before the corpus is read.
        lock_init : bool, default False
            ``lock="init"``.
        distributed : bool or cw2v.comm.Communicator, default False
            Train across the processes of an MPI job, one per node (``mpiexec -n 4 python
            script.py``; needs ``pip install "cw2v[mpi]"``): each rank reads its shard of the
            corpus files, the ranks share one vocabulary and combine what they learn every
            ``sync_tokens`` tokens by ``rule`` (``cw2v.distributed``). Every rank returns the
            trained model (the same weights); write outputs from rank 0. ``workers`` is per
            rank (default: the machine's cores shared among its ranks); ``checkpoint`` is
            written by rank 0 and resumed at the same number of ranks. An error on any rank
            ends the whole job with one line naming the rank. A ``Communicator``
            (``cw2v.comm.LocalGroup``) runs the ranks in one process. See "Beyond one machine"
            in the documentation.
        rule, sync_tokens : optional
            Distributed training's combine rule (``cw2v.distributed.RULES``) and the tokens
            each rank trains between two combines (default: ``cw2v.distributed``'s).

        The training parameters are the rows of ``cw2v.params.PARAMETERS``; each is checked
        (ValueError naming it) before the corpus is read.

        Returns
        -------
        Word2Vec
            The trained model, vectors in ``W_in`` (and ``wv``), rows sorted by descending
            word count.
        """
        settings = params.resolve(parameters)
        every = _check_checkpoint(checkpoint, checkpoint_every)
        lock_form = _lock_form(lock, lock_init)
        if isinstance(lock_form, str) and init_vectors is None:
            raise ValueError("lock='init' (lock_init=True) locks the rows taken from "
                             "init_vectors: pass init_vectors= too")
        if init_vectors is not None:
            init_vectors = _pretrained(init_vectors, settings["d"])
        if phrases is not None:
            corpus = transform_corpus(corpus, phrases)
        start = time.perf_counter()
        vocab, encoded = corpus_io.build(corpus, min_count=settings["min_count"],
                                         max_vocab=settings["max_vocab"], encoding=encoding,
                                         errors=errors, cache_dir=_cache_folder(cache_dir),
                                         max_vocab_size=settings["max_vocab_size"],
                                         workers=settings["workers"],
                                         progress=sys.stderr.isatty() if progress is None
                                         else progress)
        model = cls.from_vocabulary(vocab, **settings)
        model.vocab_seconds = time.perf_counter() - start
        model.config.update(settings)
        init_rows = None
        if init_vectors is not None:
            init_rows = model._intersect_vectors(init_vectors, return_rows=True)
        model.lockf = _lock_factors(lock_form, model.vocab, model.w2i, init_rows)
        if phrases is not None:  # (for resume's message)
            model.config["phrases"] = _phrase_passes(phrases)
        log.info("vocabulary: %d words from %d tokens in %.1f s", len(vocab), encoded.raw_words,
                 model.vocab_seconds)
        model._train_encoded(encoded, progress=progress, callbacks=callbacks,
                             checkpoint=checkpoint, checkpoint_every=every)
        return model

    @classmethod
    @params.with_parameters([n for n in params.names("model", "vocab", "train")
                             if n not in ("d", "lr", "n_neg", "seed", "ns_exponent")])
    def from_vocabulary(cls, vocab, d: int = params.default("d"),
                        lr: float = params.default("lr"), n_neg: int = params.default("n_neg"),
                        seed: int | None = params.default("seed"),
                        ns_exponent: float = params.default("ns_exponent"),
                        **parameters) -> "Word2Vec":
        """An untrained model over a ``cw2v.vocab.Vocabulary`` (rows in its order, noise
        distribution counts**ns_exponent, W_in uniform in [-1/d, 1/d) as in gensim), ready for
        ``train``. Build the vocabulary once with
        ``cw2v.corpus.build`` and train several models on the same encoded corpus.
        ``sg``, ``hs`` and ``cbow_mean`` choose the architecture and objective; with ``hs=1``
        the model gets ``syn1`` (zeros). Every parameter of ``cw2v.params`` is taken (the
        training ones become ``config``, what ``train`` uses unless given again), with the
        table's defaults, checked (ValueError naming it) and tied by its rules.

        Parameters
        ----------
        vocab : cw2v.vocab.Vocabulary
            The words and their counts.
        d, lr, n_neg, seed, ns_exponent
            As in ``from_corpus`` (the table's defaults); they may be given by position, in
            this order.
{parameters}
        """
        settings = params.resolve({"d": d, "lr": lr, "n_neg": n_neg, "seed": seed,
                                   "ns_exponent": ns_exponent, **parameters})
        model = cls(vocab.words, d=settings["d"], lr=settings["lr"], n_neg=settings["n_neg"],
                    seed=settings["seed"])
        model.config.update(settings)
        if settings["hs"]:
            model.syn1 = model._zeros(*model.W_out.shape)
        # gensim's initial range, [-1/d, 1/d): twice word2vec.c's (which the drop-in class keeps).
        # On wiki8 it gave the exact mode +0.5 to +1.9 analogy points over two seeds.
        model.W_in *= 2
        model.counts = np.asarray(vocab.counts, dtype=np.int64)
        model.set_noise_weights(vocab.noise_weights(settings["ns_exponent"]))
        return model

    @params.with_parameters(params.names("train"), default_none=True)
    @owns_checkpoint
    def train(self, corpus, *, progress: bool | None = None, callbacks: Iterable[Callable] = (),
              encoding: str = "utf-8", errors: str = "strict",
              checkpoint: PathLike | None = None, checkpoint_every: float = ckpt.DEFAULT_EVERY,
              cache_dir: PathLike | bool | None = None, update_vocab: bool = False,
              lock=None, **parameters) -> list[trainer.EpochStats]:
        """Continue training on ``corpus`` with the existing vocabulary (unknown words are
        skipped), or, with ``update_vocab=True``, after adding its new words to the vocabulary
        (``build_vocab(corpus, update=True)``, the corpus read once for both).

        ``corpus`` is anything ``from_corpus`` takes, or a ``cw2v.corpus.EncodedCorpus`` already
        encoded with this model's word ids. The parameters below, left as None, keep their
        values in ``self.config`` (those of ``from_corpus``); the model's own (``d``, ``n_neg``,
        ``ns_exponent``, ``sg``, ``hs``, ``cbow_mean``) and its vocabulary's (``min_count``,
        ``max_vocab``) stay as they are.
        ``progress``, ``callbacks``, ``encoding``, ``errors``, ``checkpoint``,
        ``checkpoint_every`` and ``cache_dir`` are as in ``from_corpus`` (the encoded corpus is
        not reused: another vocabulary may be asked for next time).

        The learning rate of each call starts again at ``lr`` and decays to ``min_lr`` over
        this call's epochs (as gensim's ``train`` starts again at ``alpha``): to move the
        vectors already trained less while new words are learnt, pass a smaller ``lr``. A
        call's schedule can be set instead (``start_lr``, ``end_lr``: gensim's
        ``start_alpha``, ``end_alpha``), and several calls can share one (``total_epochs``,
        ``start_epoch``): ``for e in range(5): model.train(corpus, epochs=1, start_epoch=e,
        total_epochs=5)`` decays once, from ``lr`` to ``min_lr``, every span at the learning
        rate of one ``train(corpus, epochs=5)`` call; a call with ``start_epoch > 0`` also
        continues the generators where the model's last call left them, so with
        ``workers=1`` the loop ends with one call's weights, bit for bit. These four apply to
        one call only (``config`` keeps their defaults). See :doc:`training`.

        ``lock`` (as in ``from_corpus``, but for "init") replaces the model's lock factors
        (``model.lockf``, kept for later calls); left as None, the model's own apply. It is
        checked against the vocabulary before the corpus is read (with ``update_vocab``, the
        vocabulary before it grows: new words get the factor 1).

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
        every = _check_checkpoint(checkpoint, checkpoint_every)
        self._check_weights()  # before the corpus is read, not after
        lock_form = _lock_form(lock)
        if isinstance(lock_form, str):
            raise ValueError("lock='init' applies to from_corpus(init_vectors=...); train() "
                             "takes factors, a mask or words to lock (the model keeps its "
                             "lockf from from_corpus)")
        lockf = _lock_factors(lock_form, self.vocab, self.w2i)
        if update_vocab and isinstance(corpus, corpus_io.EncodedCorpus):
            raise TypeError("update_vocab=True needs the corpus's words, not an EncodedCorpus "
                            "(its ids belong to a vocabulary already)")
        self.config.update(settings)
        if lockf is not None:
            self.lockf = lockf
        if update_vocab:
            encoded = self.build_vocab(corpus, update=True, encoding=encoding, errors=errors)
        elif isinstance(corpus, corpus_io.EncodedCorpus):
            encoded = corpus
        else:
            encoded = corpus_io.encode(corpus, self.w2i, encoding=encoding, errors=errors,
                                       cache_dir=_cache_folder(cache_dir))
        return self._train_encoded(encoded, progress=progress, callbacks=callbacks,
                                   checkpoint=checkpoint, checkpoint_every=every)

    def _intersect_vectors(self, vectors, return_rows: bool = False):
        """Copy the pretrained vectors of the words this model and ``vectors`` share into
        ``W_in`` (gensim's ``intersect_word2vec_format``); the other rows stay as they are.
        ``from_corpus(..., init_vectors=...)`` calls it before training.

        Parameters
        ----------
        vectors : cw2v.Vectors, or a model holding them (``model.wv``)
            Of the model's dimension (ValueError otherwise); their rows must be finite.

        Returns
        -------
        int, or (``return_rows=True``) the int64 array of the rows copied
            How many rows were copied.
        """
        vectors = as_vectors(vectors)
        if vectors.vector_size != self.vector_size:
            raise ValueError(f"the pretrained vectors have dimension {vectors.vector_size}, "
                             f"the model's is {self.vector_size}")
        self._check_weights()
        rows, found = [], []
        for i, word in enumerate(self.vocab):
            if word in vectors:
                rows.append(i)
                found.append(vectors.index(word))
        if found:
            pretrained = np.asarray(vectors._float_rows(np.asarray(found)), dtype=np.float32)
            if not np.isfinite(pretrained).all():
                raise ValueError("the pretrained vectors hold NaN or infinite values")
            self.W_in[np.asarray(rows)] = pretrained
            self.invalidate_norms()
        log.info("init_vectors: %d of %d words start from their pretrained vectors", len(rows),
                 len(self.vocab))
        return np.asarray(rows, dtype=np.int64) if return_rows else len(rows)

    def build_vocab(self, corpus, *, update: bool = True, encoding: str = "utf-8",
                    errors: str = "strict") -> corpus_io.EncodedCorpus:
        """Grow the vocabulary with the new words of ``corpus`` (gensim's
        ``build_vocab(corpus, update=True)``); returns ``corpus`` encoded with the grown
        vocabulary, ready for ``train``.

        What changes:

        * the counts merge: a known word's count grows by its count in ``corpus``;
        * a new word joins if it occurs at least ``config["min_count"]`` times in ``corpus``,
          most frequent first, after all existing words (existing ids stay as they are, so the
          rows are no longer sorted by count as a whole; ``restrict_vocab`` in queries and
          evaluations, which takes the first rows, then sees the original words first). With
          ``config["max_vocab"]`` set, new words join only up to that many words in all;
        * a new word's rows start as ``from_vocabulary`` starts them: ``W_in`` uniform in
          [-1/d, 1/d) (from the model's seed and the vocabulary's size, so repeatable), and
          ``W_out`` zero; existing rows keep their values;
        * the noise distribution (counts**ns_exponent) is rebuilt from the merged counts, and so
          are the subsampling probabilities of the next ``train`` (they are always computed from
          ``counts``).

        ``model.wv`` stays the same object (its ``vocab``, ``w2i`` and ``vectors`` grow). A model
        saved after growing loads with its grown vocabulary; a loaded model grows the same way.

        Parameters
        ----------
        corpus : as in ``from_corpus``
            Read once.
        update : bool, default True
            Must be True: a model's vocabulary is made with the model (``from_corpus``,
            ``from_vocabulary``); this only grows it. The keyword is gensim's.
        encoding, errors : str
            As in ``from_corpus``.

        Returns
        -------
        cw2v.corpus.EncodedCorpus
            ``corpus`` as ids of the grown vocabulary (words still unknown dropped); pass it to
            ``train`` to train on it without reading it again.

        Raises
        ------
        ValueError
            ``update`` is not True, or the corpus is empty.
        TypeError
            The weights cannot be trained (a model loaded with ``mmap=True``).

        Examples
        --------
        >>> from cw2v import Word2Vec
        >>> model = Word2Vec.from_corpus([["a", "b", "a", "c"]] * 20, d=8, min_count=1,
        ...                              epochs=1, workers=1)
        >>> model.vocab
        ['a', 'b', 'c']
        >>> encoded = model.build_vocab([["a", "d", "e", "d"]] * 20)
        >>> model.vocab, model.counts.tolist()
        (['a', 'b', 'c', 'd', 'e'], [60, 20, 20, 40, 20])
        >>> stats = model.train(encoded, epochs=1, workers=1)
        """
        if update is not True:
            raise ValueError("build_vocab only grows a model's vocabulary (update=True); make a "
                             "model with a new vocabulary with Word2Vec.from_corpus")
        self._check_weights()
        found, encoded = corpus_io.build(corpus, min_count=1, encoding=encoding, errors=errors)
        mapping = np.full(len(found), -1, dtype=np.int32)
        w2i = self.w2i
        known = np.array([w2i.get(w, -1) for w in found.words], dtype=np.int64)
        is_known = known >= 0
        mapping[is_known] = known[is_known]
        min_count = int(self.config["min_count"])
        new = np.flatnonzero(~is_known & (found.counts >= min_count))  # by descending count
        max_vocab = self.config.get("max_vocab")
        if max_vocab is not None:
            new = new[:max(0, int(max_vocab) - len(self.vocab))]
        mapping[new] = len(self.vocab) + np.arange(new.size, dtype=np.int32)
        # int64 counts stay int64; a classic model's set_freq counts (float64) stay float64
        old = np.asarray(self.counts)
        counts = old.astype(np.result_type(old.dtype, np.int64), copy=True)
        np.add.at(counts, known[is_known], found.counts[is_known])
        self._add_words([found.words[i] for i in new],
                        np.concatenate([counts, found.counts[new]]))
        log.info("vocabulary: %d new words (of %d unknown; min_count=%d), %d in all",
                 new.size, int((~is_known).sum()), min_count, len(self.vocab))
        return corpus_io.remap(encoded, mapping)

    def _add_words(self, words: list[str], counts: np.ndarray) -> None:
        """Append ``words`` (rows initialised as ``from_vocabulary`` does) and set the counts
        of all words (``counts``, one per word after the addition) and the noise table."""
        n_old, d = len(self.vocab), self.vector_size
        seed = self.config.get("seed")
        rng = np.random.default_rng(np.random.SeedSequence(
            [0 if seed is None else int(seed), n_old, len(words)]))
        n_new = n_old + len(words)
        W_in, W_out = self._zeros(n_new, d), self._zeros(n_new, d)
        W_in[:n_old], W_out[:n_old] = self.W_in, self.W_out
        W_in[n_old:] = (rng.random((len(words), d)) - 0.5) * 2 / d
        wv = self.wv
        wv.vocab = wv.vocab + list(words)
        wv.w2i = {**wv.w2i, **{w: n_old + i for i, w in enumerate(words)}}
        wv.vectors = W_in
        self.W_out = W_out
        if self.syn1 is not None:  # hierarchical softmax: the tree is rebuilt from the new
            # counts (``tree``); new inner nodes start at zero, as gensim's update does
            syn1 = self._zeros(n_new, d)
            syn1[:n_old] = self.syn1
            self.syn1 = syn1
        if self.lockf is not None:  # new words train as usual
            self.lockf = np.concatenate([self.lockf, np.ones(len(words), dtype=np.float32)])
        self.counts = counts
        exponent = float(self.config["ns_exponent"])
        self.set_noise_weights(self.counts.astype(np.float64) ** exponent)

    @classmethod
    @_distributable("resume")
    @owns_checkpoint
    def resume(cls, checkpoint: PathLike, corpus, *, progress: bool | None = None,
               callbacks: Iterable[Callable] = (), encoding: str = "utf-8",
               errors: str = "strict", checkpoint_every: float | None = None,
               workers: int | None = None,
               cache_dir: PathLike | bool | None = None, phrases=None) -> "Word2Vec":
        """Continue the training run that wrote ``checkpoint`` (see ``from_corpus``).

        Parameters
        ----------
        checkpoint : path
            The checkpoint file; it goes on being updated as before.
        corpus : as in ``from_corpus``
            The corpus the run was started on: its word ids are checked against the
            checkpoint's fingerprint (ValueError if they differ).
        progress, callbacks, encoding, errors, cache_dir : as in ``from_corpus``
        phrases : as in ``from_corpus``
            The phrases the run was started with (its corpus is the phrased text).
        distributed : bool or cw2v.comm.Communicator, default False
            Continue a distributed run's checkpoint, at the same number of ranks (each rank
            reads the checkpoint file: on a shared file system, or copied to every node).
        checkpoint_every : float, optional
            Seconds between checkpoints (default: as the run was started).
        workers : int, optional
            Threads (default: as the run was started, which a bit-for-bit continuation needs;
            other counts start fresh generators from the seed and the position).

        Returns
        -------
        Word2Vec
            The model after the run's last epoch (or after a new interruption:
            ``training_stopped`` then says where).
        """
        name = input_name(checkpoint)
        saved = ckpt.read(checkpoint, cls)
        model, position, settings = saved.model, saved.position, saved.settings
        every = _check_checkpoint(checkpoint, saved.every if checkpoint_every is None
                                  else checkpoint_every)
        if workers is not None and workers != settings.workers:
            workers = params.check("workers", workers)
            seeds = np.random.SeedSequence([settings.seed or 0, position.words_done]).spawn(workers)
            position.rng_states = [int(seq.generate_state(1, np.uint64)[0]) for seq in seeds]
            settings = dataclasses.replace(settings, workers=workers)
        model.config["workers"] = settings.workers
        if isinstance(corpus, corpus_io.EncodedCorpus):
            encoded = corpus
        else:
            if phrases is not None:
                corpus = transform_corpus(corpus, phrases)
            encoded = corpus_io.encode(corpus, model.w2i, encoding=encoding, errors=errors,
                                       cache_dir=_cache_folder(cache_dir))
        try:
            ckpt.check_corpus(name, saved.corpus, encoded)
        except ValueError as e:
            passes = model.config.get("phrases", 0)  # (recorded by from_corpus)
            given = 0 if phrases is None else _phrase_passes(phrases)
            if passes == given:
                raise
            said = (f"the run was started with phrases= ({passes} pass(es)): pass the same "
                    "phrases= to resume" if passes else
                    "the run was started without phrases=: resume without them")
            raise ValueError(f"{e}; {said}") from None

        model.epoch_history = list(position.history)
        log.info("resuming %s at epoch %d of %d (%.1f%% of words done)", name, position.epoch,
                 settings.epochs, 100 * position.words_done
                 / max(encoded.tokens.shape[0] * settings.epochs, 1))
        model._train_encoded(encoded, progress=progress, callbacks=callbacks,
                             checkpoint=checkpoint, checkpoint_every=every,
                             resume=(settings, saved.span_tokens, position))
        return model

    def _train_encoded(self, encoded, progress=None, callbacks=(), checkpoint=None,
                       checkpoint_every=ckpt.DEFAULT_EVERY,
                       resume=None) -> list[trainer.EpochStats]:
        """Train on an encoded corpus with ``self.config``'s settings, or continue a run
        (``resume``: the checkpoint's settings, span size and position)."""
        self._check_weights()
        if encoded.tokens.shape[0] == 0:
            raise ValueError("the corpus has no word of the model's vocabulary")
        if any(block.min() < 0 or block.max() >= len(self.vocab)
               for block in encoded.blocks()):
            raise IndexError("encoded corpus holds ids outside the vocabulary")
        for name in ("W_in", "W_out", "syn1"):
            weights = getattr(self, name, None)
            if weights is not None and not _rows.all_finite(weights):
                raise ValueError(f"{name} holds NaN or infinite values (a diverged run?); "
                                 "training cannot repair them")
        _check_lockf(self.lockf, len(self.vocab))
        c = self.config
        if c["hs"] and self.syn1 is None:
            self.syn1 = self._zeros(*self.W_out.shape)
        if resume is None:
            own = {k: v for k, v in c.items() if k in params.BY_NAME}
            settings = params.settings({"d": self.vector_size, "n_neg": self.n_neg}, base=own)
            span_tokens = trainer.SPAN_TOKENS
        else:
            settings, span_tokens, position = resume
        for name in params.per_call():  # the schedule's bounds are this call's only
            c[name] = params.default(name)
        log.info("training %s, %s mode", self.objective, settings.mode)
        run = trainer.TrainingRun(_kernel, self.W_in, self.W_out, self.sigmoid_tables,
                                  self.noise_table, self.counts, encoded, settings,
                                  span_tokens=span_tokens,
                                  tree=self.tree if settings.hs else None,
                                  syn1=self.syn1 if settings.hs else None,
                                  **self._run_options())
        if resume is not None:
            try:
                run.restore(position)
            except ValueError as exc:
                raise ValueError(f"{input_name(checkpoint)}: not a valid cw2v checkpoint: "
                                 f"{exc}") from None
        elif settings.start_epoch > 0 and len(self._run_rng_states) == settings.workers:
            # a call that continues a schedule continues the generators where the last call
            # left them, as one call would (bit for bit with one worker)
            for state, rng in zip(run.states, self._run_rng_states):
                state.rng_state = rng
        callbacks = list(callbacks)
        self.training_stopped = None
        self.raw_words = int(encoded.raw_words)

        def apply_epoch(stats: trainer.EpochStats) -> None:
            self.loss_history.append(stats.loss)
            self.epoch_history.append(stats)
            for callback in callbacks:
                callback(self, stats)

        write = None
        good_checkpoint = resume is not None  # the checkpoint on disk holds finite weights
        if checkpoint is not None:
            corpus_id = ckpt.fingerprint(encoded)

            def write(position: trainer.RunPosition) -> None:
                nonlocal good_checkpoint
                ckpt.write(checkpoint, self, position, settings, span_tokens, corpus_id,
                           checkpoint_every)
                good_checkpoint = True
                log.debug("checkpoint written to %s (epoch %d, span %d)", checkpoint,
                          position.epoch, position.span)

        try:
            result = run.run(on_epoch=apply_epoch, progress=progress, checkpoint=write,
                             checkpoint_every=checkpoint_every)
        except trainer.TrainingDivergedError as exc:
            if checkpoint is not None:
                raise trainer.TrainingDivergedError(
                    f"{exc}; the checkpoint {checkpoint} keeps the last finite weights"
                    if good_checkpoint else f"{exc}; no checkpoint was written") from None
            raise
        finally:
            self.invalidate_norms()
            self._run_rng_states = run.rng_states
        self.training_stopped = result.stopped
        return result.epochs

    # -- saving ------------------------------------------------------------------------------

    def _export_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """(JSON-able metadata, arrays) that ``_import_state`` rebuilds the model from.

        metadata: {"vocab": [...], "config": {...}, "lr": ..., "n_neg": ...,
        "loss_history": [...], "rng_state": int, "run_rng_states": [int, ...]}; arrays: W_in, W_out (float32, (V, d)),
        counts (int64, (V,)), noise_weights (float64, (V,)), and syn1 (float32, (V, d)) for
        hierarchical softmax, and lockf (float32, (V,)) when the model has lock factors.
        ``config`` records the architecture and objective (sg, hs,
        cbow_mean, n_neg); the Huffman tree is rebuilt from counts on load.
        """
        meta = {"vocab": list(self.vocab), "config": dict(self.config), "lr": self.lr,
                "n_neg": self.n_neg, "loss_history": [float(x) for x in self.loss_history],
                "rng_state": int(self._rng_state[0]),
                "run_rng_states": [int(x) for x in self._run_rng_states]}
        arrays = {"W_in": self.W_in, "W_out": self.W_out,
                  "counts": np.asarray(self.counts, dtype=np.int64),
                  "noise_weights": np.asarray(self.freq, dtype=np.float64)}
        if self.syn1 is not None:
            arrays["syn1"] = self.syn1
        if self.lockf is not None:
            arrays["lockf"] = self.lockf
        return meta, arrays

    @classmethod
    def _import_state(cls, meta: dict, arrays: dict[str, np.ndarray]) -> "Word2Vec":
        """Rebuild a model from ``_export_state``'s output (the arrays may be memory-mapped).

        Raises ValueError saying what is missing or malformed (``load`` adds the file's name).
        """
        _check_state(meta, arrays)
        W_in, W_out = arrays["W_in"], arrays["W_out"]
        model = cls.__new__(cls)
        ModelState.__init__(model, meta["vocab"], d=1, lr=meta["lr"], n_neg=meta["n_neg"],
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
        model._run_rng_states = list(meta.get("run_rng_states", []))
        model.syn1 = arrays.get("syn1")
        model.lockf = arrays.get("lockf")
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
        meta, arrays = io.load_arrays(path, mmap=mmap, empty=cls._read_buffer)
        try:
            return cls._import_state(meta, arrays)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{input_name(path)}: not a valid cw2v model: {exc}") from None

    def save_word2vec_format(self, path: PathLike, binary: bool = False) -> None:
        """Write ``W_in`` in word2vec.c's text or binary format (readable by gensim)."""
        self.wv.save_word2vec_format(path, binary=binary)

    # -- gensim --------------------------------------------------------------------------------

    def to_gensim(self):
        """The word vectors as a ``gensim.models.KeyedVectors`` (a copy: same words, order and
        float32 values, each word's ``"count"`` attribute set). Needs gensim
        (``pip install cw2v[gensim]``); see ``cw2v.interop``."""
        from .interop import to_gensim

        return to_gensim(self)

    @classmethod
    def from_gensim(cls, gensim_model) -> "Word2Vec":
        """A model from a trained gensim ``Word2Vec`` (skip-gram, negative sampling): its
        vectors, output weights (``syn1neg``), counts and settings, ready for ``train``. See
        ``cw2v.interop.model_from_gensim``."""
        from .interop import model_from_gensim

        return model_from_gensim(gensim_model, cls)

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
            if (not isinstance(w, np.ndarray) or w.dtype != np.float32
                    or not _rows.rows_contiguous(w)):
                raise TypeError(f"{name} must be a writeable float32 array whose rows are "
                                "contiguous (C-contiguous, or the first columns of a wider one)")
            if w.shape != (self._weight_rows(name), self.vector_size):
                raise ValueError(f"{name} has shape {w.shape}, expected "
                                 f"({self._weight_rows(name)}, {self.vector_size})")

    def _weight_rows(self, name: str) -> int:
        """Rows weight matrix ``name`` must have: one a word (``cw2v.FastText``'s input
        matrix adds its n-gram buckets')."""
        return len(self.vocab)

    def _run_options(self) -> dict:
        """More keywords of the model's ``trainer.TrainingRun``: its lock factors
        (``cw2v.FastText``: its subword table instead)."""
        return {"lockf": _kernel_lockf(self.lockf)}


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
        weights, tables, ``n_neg``, ``lockf`` and ``_rng_state`` array stay the same objects.

        ``_rng_state`` (saved with the model) mirrors the state's generator: the state starts
        from it, and each call writes the advanced generator back.
        """
        cached = self.__dict__.get("_pairs")
        if cached is not None:
            state, rng = cached
            src = state.sources
            if (src[0] is self.W_in and src[1] is self.W_out and src[2] is self.sigmoid_tables
                    and src[3] is self.noise_table and rng is self._rng_state
                    and state.n_neg == self.n_neg and src[4] is self.lockf):
                return state
        self._check_weights()
        _check_lockf(self.lockf, len(self.vocab))
        state = _kernel.KernelState(self.W_in, self.W_out, self.sigmoid_tables,
                                    self.noise_table, self.n_neg, int(self._rng_state[0]),
                                    lockf=self.lockf)
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

