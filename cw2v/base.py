"""What the compiled model and the NumPy reference share: construction, validation, noise tables.

``ModelState`` is the classic from-scratch class's state -- ``vocab``, ``w2i``, ``W_in``,
``W_out``, ``lr``, ``n_neg``, ``freq`` -- plus the tables the update rule reads; the word vectors
live in its ``wv`` (a ``cw2v.Vectors``). Subclasses supply ``train_pair`` / ``train_pairs``.
"""
from __future__ import annotations

import numbers
import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from . import _rows, params
from .params import check_positive_int  # noqa: F401  (defined here before; import it from params)
from .tables import AliasTable, SigmoidTables, alias_table, sigmoid_tables
from .vectors import Vectors

NS_EXPONENT = params.default("ns_exponent")  # the noise distribution's exponent, by default
# W_in's initial draws are made this many float64 values at a time (8 MB): the same numbers as
# one draw of the whole matrix, without its float64 copy (2.4 GB for 1M words x 300).
_INIT_VALUES = 1 << 20


def seed_state(seed: int | None) -> int:
    """A 64-bit generator state from ``seed`` through NumPy's SeedSequence.

    With ``seed=None`` the seed is drawn from NumPy's global generator, so a script that calls
    ``np.random.seed(...)`` first (as the classic NumPy class relied on) stays reproducible.
    """
    if seed is None:
        seed = int(np.random.randint(0, 2**31 - 1))
    return int(np.random.SeedSequence(seed).generate_state(1, np.uint64)[0])


class ModelState:
    """The word2vec model state shared by ``cw2v.Word2Vec`` and the reference.

    The model *holds* its word vectors: ``wv`` is a ``cw2v.Vectors`` over ``W_in`` (a view, not
    a copy; gensim users know it as ``model.wv``). The classic class's attributes ``vocab``,
    ``w2i`` and ``W_in`` and its queries (``similarity``, ``most_similar``, ...) forward to it.

    Parameters
    ----------
    vocab : sequence of str
        The words; row i of the weights belongs to vocab[i]. Non-empty, no duplicates.
    d : int, default 50
        Vector dimension (> 0). 50 is the classic NumPy class's default, kept so that its
        scripts run unchanged (corpus training's default, ``cw2v.params``, is 100).
    lr : float, default 0.025
        Learning rate of ``train_pair`` / ``train_pairs`` (> 0; ``cw2v.params``' default).
    n_neg : int, default 5
        Noise words per positive pair (>= 0; ``cw2v.params``' default).
    seed : int, optional
        Seeds the initial weights and the noise-word generator.
    dtype : numpy dtype
        float32 (the compiled model's only type) or float64 (reference only).
    """

    def __init__(self, vocab: Sequence[str], d: int = 50, lr: float = params.default("lr"),
                 n_neg: int = params.default("n_neg"), *, seed: int | None = None,
                 dtype=np.float32):
        vocab = list(vocab)
        d = params.check("d", d)
        self.lr = params.check("lr", lr)
        self.n_neg = params.check("n_neg", n_neg)
        self.seed = params.check("seed", seed)
        self._check_memory(len(vocab), d)
        state = seed_state(seed)
        init_rng = np.random.default_rng(state)
        W_in = self._initial_input(len(vocab), d, dtype, init_rng)
        self.wv = Vectors(vocab, W_in)
        self.W_out = self._zeros(len(vocab), d, dtype)
        self.sigmoid_tables: SigmoidTables = sigmoid_tables()
        self._rng_state = np.array([state ^ 0x5DEECE66D], dtype=np.uint64)
        self.counts: np.ndarray = np.ones(len(vocab), dtype=np.int64)
        self.set_freq({})

    def _initial_input(self, n_words: int, d: int, dtype,
                       rng: np.random.Generator) -> np.ndarray:
        """``W_in`` at the start, word2vec.c's: uniform in [-0.5/d, 0.5/d) (``W_out`` starts at
        zero), drawn a block of rows at a time."""
        W_in = self._zeros(n_words, d, dtype)
        block = max(1, _INIT_VALUES // d)
        for lo in range(0, n_words, block):
            hi = min(lo + block, n_words)
            W_in[lo:hi] = (rng.random((hi - lo, d)) - 0.5) / d
        return W_in

    def _check_memory(self, n_words: int, d: int) -> None:
        """MemoryError before allocating, when the weights cannot fit in this machine's memory
        (``W_in`` and ``W_out``)."""
        _rows.check_fits("the input and output matrices", 2 * n_words, d,
                         "use a smaller d or vocabulary (min_count, max_vocab)")

    @staticmethod
    def _zeros(n_rows: int, d: int, dtype=np.float32) -> np.ndarray:
        """A zeroed weight matrix (the compiled model puts its rows on vector boundaries)."""
        return np.zeros((n_rows, d), dtype=dtype)

    # -- the vectors, held in ``wv`` -----------------------------------------------------------

    @property
    def vocab(self) -> list[str]:
        """The words; row i of ``W_in`` and ``W_out`` belongs to ``vocab[i]``."""
        return self.wv.vocab

    @property
    def w2i(self) -> dict[str, int]:
        """word -> row."""
        return self.wv.w2i

    @property
    def W_in(self) -> np.ndarray:
        """The input weights, which are the word vectors (``wv.vectors`` is the same array)."""
        return self.wv.vectors

    @W_in.setter
    def W_in(self, value: np.ndarray) -> None:
        self.wv.vectors = value

    @property
    def vector_size(self) -> int:
        """Dimension d of the vectors."""
        return self.wv.vector_size

    def invalidate_norms(self) -> None:
        """Forget ``wv``'s cached unit vectors (training does this; call it after editing
        ``W_in`` by hand)."""
        self.wv.invalidate_norms()

    def __len__(self) -> int:
        return len(self.wv)

    def __contains__(self, word) -> bool:
        return word in self.wv

    def __getitem__(self, word: str) -> np.ndarray:
        return self.wv.get_vector(word)

    def similarity(self, w1: str, w2: str) -> float:
        """Cosine similarity of two words (``wv.similarity``)."""
        return self.wv.similarity(w1, w2)

    def most_similar(self, positive=None, k: int = 5, negative=None, **kwargs):
        """The ``k`` words nearest to the query (``wv.most_similar``; the classic class's
        ``most_similar(word, k)`` form included)."""
        return self.wv.most_similar(positive, k, negative, **kwargs)

    def most_similar_cosmul(self, positive=None, k: int = 5, negative=None, **kwargs):
        """3CosMul neighbours (``wv.most_similar_cosmul``)."""
        return self.wv.most_similar_cosmul(positive, k, negative, **kwargs)

    def analogy(self, a: str, b: str, c: str, k: int = 1, **kwargs):
        """a is to b as c is to ? (``wv.analogy``)."""
        return self.wv.analogy(a, b, c, k, **kwargs)

    def get_vector(self, word: str, norm: bool = False) -> np.ndarray:
        """A copy of the vector of ``word`` (``wv.get_vector``)."""
        return self.wv.get_vector(word, norm)

    def similar_by_word(self, word: str, k: int = 5, **kwargs):
        """Words nearest to ``word`` (``wv.similar_by_word``)."""
        return self.wv.similar_by_word(word, k, **kwargs)

    def similar_by_vector(self, vector, k: int = 5, **kwargs):
        """Words nearest to a raw vector (``wv.similar_by_vector``)."""
        return self.wv.similar_by_vector(vector, k, **kwargs)

    def doesnt_match(self, words: Sequence[str]) -> str:
        """The odd one out (``wv.doesnt_match``)."""
        return self.wv.doesnt_match(words)

    @property
    def unit_vectors(self) -> np.ndarray:
        """``W_in``'s rows at unit length, a new array each time (``wv.unit_vectors``)."""
        return self.wv.unit_vectors

    # -- noise distribution ------------------------------------------------------------------

    def set_freq(self, word_counts: Mapping[str, float], ns_exponent: float = NS_EXPONENT) -> None:
        """Set the noise distribution to count**0.75 (normalised) from a word -> count mapping.

        Words missing from ``word_counts`` count 1, as in the classic class. ``freq`` holds the
        resulting probabilities (float64, sums to 1).
        """
        if not isinstance(word_counts, Mapping):
            raise TypeError("word_counts must be a mapping of word -> count")
        counts = np.array([word_counts.get(w, 1) for w in self.vocab], dtype=np.float64)
        if np.any(~np.isfinite(counts)) or np.any(counts < 0):
            raise ValueError("word counts must be finite and >= 0")
        self.set_noise_weights(counts ** ns_exponent)
        self.counts = counts

    def set_noise_weights(self, weights: np.ndarray) -> None:
        """Set the noise distribution proportional to ``weights`` (one per word)."""
        weights = np.asarray(weights, dtype=np.float64)
        if weights.shape != (len(self.vocab),):
            raise ValueError(f"need {len(self.vocab)} noise weights, got shape {weights.shape}")
        self.noise_table: AliasTable = alias_table(weights)
        self.freq = weights / weights.sum()

    # -- validation shared by train_pair / train_pairs ---------------------------------------

    def _check_index(self, name: str, value) -> int:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{name} must be an integer index, got {value!r}")
        index = int(value)
        if not 0 <= index < len(self.vocab):
            raise IndexError(f"{name} {index} is out of range for a vocabulary of {len(self.vocab)}")
        return index

    def _check_ids(self, name: str, ids, ndim: int = 1) -> np.ndarray:
        """An integer array of word ids in range, as contiguous int32."""
        arr = np.asarray(ids)
        if arr.size == 0:
            arr = arr.astype(np.int32)
        if not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"{name} must be an array of integer word ids, got dtype {arr.dtype}")
        if arr.ndim != ndim:
            raise ValueError(f"{name} must be {ndim}-D, got shape {arr.shape}")
        if arr.size and (arr.min() < 0 or arr.max() >= len(self.vocab)):
            bad = arr.min() if arr.min() < 0 else arr.max()
            raise IndexError(f"{name} holds id {bad}, out of range for a vocabulary of "
                             f"{len(self.vocab)}")
        return np.ascontiguousarray(arr, dtype=np.int32)

    def _check_negatives(self, negatives, n_pairs: int | None = None) -> np.ndarray:
        if n_pairs is None:
            return self._check_ids("negatives", negatives, ndim=1)
        negs = self._check_ids("negatives", negatives, ndim=2)
        if negs.shape[0] != n_pairs:
            raise ValueError(f"negatives must have one row per pair ({n_pairs}), got {negs.shape[0]}")
        return negs

    def _check_pairs(self, centers, contexts) -> tuple[np.ndarray, np.ndarray]:
        c = self._check_ids("centers", centers)
        o = self._check_ids("contexts", contexts)
        if c.shape != o.shape:
            raise ValueError(f"centers ({c.shape[0]}) and contexts ({o.shape[0]}) differ in length")
        return c, o


def __getattr__(name: str):
    """``SGNSBase``: the old name of ``ModelState`` (it holds CBOW and hierarchical softmax's
    state too), kept for one release with a DeprecationWarning."""
    if name == "SGNSBase":
        warnings.warn("cw2v.base.SGNSBase is deprecated: use cw2v.base.ModelState",
                      DeprecationWarning, stacklevel=2)
        return ModelState
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
