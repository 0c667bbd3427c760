"""``cw2v.FastText``: fastText's subword model (Bojanowski et al. 2017, "Enriching Word Vectors
with Subword Information") on cw2v's trainer and kernel.

A word is represented by its own input row and the rows of its character n-grams (``min_n`` to
``max_n`` characters of ``<word>``, hashed into ``bucket`` rows: ``cw2v.subwords``), all in one
input matrix of V + bucket rows, words first -- fastText's layout. Training follows fastText 0.9
(``src/fasttext.cc``, ``src/model.cc``): the input vector is the mean of a word's rows (skip-gram:
the center word's, predicting each context word; CBOW: all the context words' rows together),
and the gradient is added to each of those rows. Everything else is ``cw2v.Word2Vec``'s: the
trainer, the parameter table (with its ``min_n``, ``max_n``, ``bucket`` rows), saving, loading
with ``mmap``, checkpoints, vocabulary growth. Where fastText's defaults differ from word2vec's
(``cw2v.params.FASTTEXT_DEFAULTS``: lr 0.05, sample 1e-4, noise counts**0.5) FastText takes
fastText's; docs/subwords.rst lists where cw2v differs from fastText.
"""
from __future__ import annotations

import numpy as np

from . import _rows, params
from .model import Word2Vec, _check_state
from . import fasttext_io
from .subword_vectors import SubwordVectors
from .subwords import subword_table
from .tables import sigmoid_tables
from .vectors import Vectors

__all__ = ["FastText"]

# fastText's sigmoid range (src/loss.cc: MAX_SIGMOID 8); word2vec.c's is 6.
MAX_SIGMOID = 8.0
# Rows of the input matrix filled (or composed) at a time: no temporary of the whole matrix.
_CHUNK_ROWS = 1 << 16


def _check_subwords(min_n, max_n, bucket, n_words: int, d: int) -> tuple[int, int, int]:
    """min_n, max_n, bucket checked by the table's rules (ValueError naming the parameter),
    and the input matrix's V + bucket rows against int32 ids, before anything is allocated."""
    given = params.resolve({"min_n": min_n, "max_n": max_n, "bucket": bucket, "d": d})
    rows = n_words + given["bucket"]
    if rows > np.iinfo(np.int32).max:
        raise ValueError(f"bucket: {n_words:,} words + {given['bucket']:,} buckets = {rows:,} "
                         "input rows, more than the kernel's int32 row ids hold")
    return given["min_n"], given["max_n"], given["bucket"]


class FastText(Word2Vec):
    """fastText's subword model (skip-gram or CBOW, negative sampling or hierarchical softmax)
    trained by cw2v's kernel; gensim's class name.

    Make one with ``FastText.from_corpus(corpus, ...)`` (every parameter of
    ``cw2v.params.PARAMETERS``, fastText's defaults where they differ from word2vec's:
    ``cw2v.params.FASTTEXT_DEFAULTS``); ``train``, ``save``/``load`` (``mmap``),
    ``checkpoint=``/``resume``, ``build_vocab(update=True)`` and ``init_vectors`` are
    ``Word2Vec``'s.

    Parameters
    ----------
    vocab : sequence of str
        The words; row i of the input matrix belongs to ``vocab[i]``.
    d : int
        Vector dimension.
    lr : float
        Learning rate (fastText's 0.05).
    n_neg : int
        Noise words per pair.
    seed : int, optional
        Seeds the initial weights and the generators.
    min_n, max_n, bucket : int
        The n-grams (fastText's ``-minn``, ``-maxn``, ``-bucket``).

    Attributes
    ----------
    input_matrix : float32 (V + bucket, d)
        fastText's input matrix: the words' rows, then the n-gram buckets' (also ``W_in``).
        Starts uniform in [-1/d, 1/d], as fastText's.
    output_matrix : float32 (V, d)
        ``W_out`` (negative sampling), or ``syn1`` with hierarchical softmax; zeros at first.
    wv : cw2v.subword_vectors.SubwordVectors
        The vocabulary's word vectors, each the mean of its rows (fastText's
        ``getWordVector``), recomposed after each training call, and a vector for any other
        word from its n-grams (``model.wv["unseen"]``).

    fastText's files: ``save_fasttext_bin`` / ``load_fasttext_bin`` (fastText 0.9's ``.bin``,
    read by the ``fasttext`` package and gensim's ``load_facebook_model``) and
    ``save_fasttext_vec``.
    """

    def __init__(self, vocab, d: int = params.default("d"),
                 lr: float = params.FASTTEXT_DEFAULTS["lr"],
                 n_neg: int = params.default("n_neg"), *, seed: int | None = None,
                 min_n: int = params.default("min_n"), max_n: int = params.default("max_n"),
                 bucket: int = params.default("bucket")):
        vocab = list(vocab)
        min_n, max_n, bucket = _check_subwords(min_n, max_n, bucket, len(vocab), d)
        _rows.check_fits(f"the input matrix of {len(vocab):,} words + {bucket:,} buckets and "
                         "the output matrix", 2 * len(vocab) + bucket, d,
                         "use a smaller bucket or d")
        super().__init__(vocab, d, lr, n_neg, seed=seed)
        self.config.update({k: v for k, v in params.FASTTEXT_DEFAULTS.items() if k != "lr"})
        self.config.update(min_n=min_n, max_n=max_n, bucket=bucket)
        self.sigmoid_tables = sigmoid_tables(max_exp=MAX_SIGMOID)
        n_rows, d = len(vocab) + bucket, self.vector_size
        try:
            matrix = self._zeros(n_rows, d)
        except MemoryError:
            raise MemoryError(f"the input matrix of {len(vocab):,} words + {bucket:,} buckets "
                              f"x {d} floats ({n_rows * d * 4 / 2**30:.1f} GiB) does not fit in "
                              "memory: use a smaller bucket or d") from None
        rng = np.random.default_rng(np.random.SeedSequence([0 if seed is None else seed, 30]))
        for lo in range(0, n_rows, _CHUNK_ROWS):  # float32 draws, scaled in place: fast
            hi = min(lo + _CHUNK_ROWS, n_rows)
            block = matrix[lo:hi]
            block[...] = rng.random((hi - lo, d), dtype=np.float32)
            block *= np.float32(2.0 / d)
            block -= np.float32(1.0 / d)
        self.input_matrix = matrix
        self._set_subwords()
        self._make_wv()

    def _initial_input(self, n_words, d, dtype, rng):
        """Nothing drawn: the input matrix of words and buckets, drawn in ``__init__``, takes
        the place of ``Word2Vec``'s ``W_in`` (an untouched zero matrix meanwhile)."""
        return self._zeros(n_words, d, dtype)

    # -- the subword model ----------------------------------------------------------------------

    @property
    def min_n(self) -> int:
        """Shortest n-gram (fastText's ``-minn``)."""
        return int(self.config["min_n"])

    @property
    def max_n(self) -> int:
        """Longest n-gram (fastText's ``-maxn``; 0: none)."""
        return int(self.config["max_n"])

    @property
    def bucket(self) -> int:
        """Hash buckets of the n-grams (fastText's ``-bucket``)."""
        return int(self.config["bucket"])

    @property
    def W_in(self) -> np.ndarray:
        """The input matrix (``input_matrix``): V word rows, then the bucket rows."""
        return self.input_matrix

    @W_in.setter
    def W_in(self, value: np.ndarray) -> None:
        self.input_matrix = value

    @property
    def output_matrix(self) -> np.ndarray:
        """fastText's output matrix: ``syn1`` with hierarchical softmax, else ``W_out``."""
        return self.syn1 if self.config["hs"] and self.syn1 is not None else self.W_out

    def _set_subwords(self) -> None:
        """The words' input rows in CSR form, from the vocabulary and the n-gram settings."""
        offsets, rows = subword_table(self.vocab, self.min_n, self.max_n, self.bucket)
        self.subword_offsets, self.subword_rows = offsets, rows

    def word_vectors(self) -> np.ndarray:
        """Each vocabulary word's vector, the mean of its input rows (fastText's
        ``getWordVector``): float32 (V, d), a new array."""
        offsets, rows, M = self.subword_offsets, self.subword_rows, self.input_matrix
        V = len(self.vocab)
        out = np.empty((V, M.shape[1]), dtype=np.float32)
        lengths = np.diff(offsets)
        for lo in range(0, V, _CHUNK_ROWS // 32):
            hi = min(lo + _CHUNK_ROWS // 32, V)
            block = M[rows[offsets[lo]:offsets[hi]]]
            sums = np.add.reduceat(block, offsets[lo:hi] - offsets[lo], axis=0)
            out[lo:hi] = sums / lengths[lo:hi, None]
        return out

    def _make_wv(self) -> None:
        """``wv``: a ``cw2v.subword_vectors.SubwordVectors`` over the input matrix (not a
        copy): the vocabulary's composed vectors, and a vector for any other word from its
        n-grams."""
        self.wv = SubwordVectors(self.vocab, self.input_matrix, self.min_n, self.max_n,
                                 self.bucket, counts=self.counts)

    def invalidate_norms(self) -> None:
        """Recompose ``wv`` from the input matrix (training calls this; so may a user after
        editing ``input_matrix`` by hand)."""
        self._make_wv()

    def _weight_rows(self, name: str) -> int:
        return len(self.vocab) + (self.bucket if name == "W_in" else 0)

    def _run_options(self) -> dict:
        return {"subwords": (self.subword_offsets, self.subword_rows)}

    def _refuse_pairs(self, *args, **kwargs):
        """FastText has no pair door (``train_pair``, ``train_pairs``): NotImplementedError."""
        raise NotImplementedError("FastText trains on a corpus (from_corpus, train); "
                                  "train_pair and train_pairs train plain word2vec rows")

    train_pair = train_pairs = _refuse_pairs

    # -- making and training ---------------------------------------------------------------------

    @staticmethod
    def _check_mode(parameters: dict) -> None:
        """ValueError for ``mode="batched"``: the subword model trains in the exact mode (a
        batched input rule measured only 1.07x faster, docs/performance.rst); and for
        ``lock=``/``lock_init=``."""
        if parameters.get("mode") == "batched":
            raise ValueError("mode='batched' is not available with subwords: FastText trains "
                             "in the exact mode (mode='exact')")
        if parameters.get("lock") is not None or parameters.get("lock_init"):
            raise ValueError("lock= is not available with subwords: a word's n-gram rows are "
                             "shared with other words, so FastText cannot freeze one word")

    @classmethod
    def from_corpus(cls, corpus, **parameters) -> "FastText":
        """Build the vocabulary of ``corpus`` and train a subword model on it: as
        ``Word2Vec.from_corpus`` (every keyword of it), with fastText's defaults where they
        differ from word2vec's (``cw2v.params.FASTTEXT_DEFAULTS``: lr 0.05, sample 1e-4,
        ns_exponent 0.5) and the n-grams' ``min_n`` (3), ``max_n`` (6), ``bucket``
        (2,000,000); ``mode`` must be "exact". Each parameter is checked (ValueError naming
        it) before the corpus is read or the input matrix allocated."""
        cls._check_mode(parameters)
        given = {k: v for k, v in parameters.items() if k in params.BY_NAME}
        settings = params.resolve({**params.FASTTEXT_DEFAULTS, **given})
        _rows.check_fits(f"the input matrix's {settings['bucket']:,} buckets", settings["bucket"],
                         settings["d"], "use a smaller bucket or d")  # (before the corpus pass)
        return super().from_corpus(corpus, **{**parameters, **settings})

    @classmethod
    def from_vocabulary(cls, vocab, **parameters) -> "FastText":
        """An untrained subword model over a ``cw2v.vocab.Vocabulary`` (fastText's start:
        input rows uniform in [-1/d, 1/d], output rows zero; noise counts**ns_exponent),
        ready for ``train``; parameters as in ``from_corpus``."""
        cls._check_mode(parameters)
        settings = params.resolve({**params.FASTTEXT_DEFAULTS, **parameters})
        _check_subwords(settings["min_n"], settings["max_n"], settings["bucket"],
                        len(vocab.words), settings["d"])
        model = cls(vocab.words, d=settings["d"], lr=settings["lr"], n_neg=settings["n_neg"],
                    seed=settings["seed"], min_n=settings["min_n"], max_n=settings["max_n"],
                    bucket=settings["bucket"])
        model.config.update(settings)
        if settings["hs"]:
            model.syn1 = model._zeros(*model.W_out.shape)
        model.counts = np.asarray(vocab.counts, dtype=np.int64)
        model.set_noise_weights(vocab.noise_weights(settings["ns_exponent"]))
        return model

    def train(self, corpus, **kwargs):
        """``Word2Vec.train`` (every keyword of it); ``mode`` must be "exact"."""
        self._check_mode(kwargs)
        return super().train(corpus, **kwargs)

    def _add_words(self, words: list[str], counts: np.ndarray) -> None:
        """Append ``words`` (input rows uniform in [-1/d, 1/d], output rows zero, the bucket
        rows kept) and set the counts, the noise table and the subword table."""
        n_old, d, bucket = len(self.vocab), self.vector_size, self.bucket
        n_new = n_old + len(words)
        _check_subwords(self.min_n, self.max_n, bucket, n_new, d)
        seed = self.config.get("seed")
        rng = np.random.default_rng(np.random.SeedSequence(
            [0 if seed is None else int(seed), n_old, len(words)]))
        old = self.input_matrix
        matrix = self._zeros(n_new + bucket, d)
        matrix[:n_old] = old[:n_old]
        matrix[n_new:] = old[n_old:]
        matrix[n_old:n_new] = rng.uniform(-1.0 / d, 1.0 / d, (len(words), d))
        W_out = self._zeros(n_new, d)
        W_out[:n_old] = self.W_out
        self.W_out = W_out
        if self.syn1 is not None:
            syn1 = self._zeros(n_new, d)
            syn1[:n_old] = self.syn1
            self.syn1 = syn1
        self.wv = Vectors(self.vocab + list(words), np.zeros((n_new, 1), np.float32))  # vocab
        self.input_matrix = matrix
        self.counts = counts
        self.set_noise_weights(self.counts.astype(np.float64) ** float(self.config["ns_exponent"]))
        self._set_subwords()
        self._make_wv()

    # -- fastText's files ------------------------------------------------------------------------

    def to_fasttext_file(self) -> "fasttext_io.FastTextFile":
        """The model as a ``cw2v.fasttext_io.FastTextFile`` (fastText's names for the settings;
        the matrices are this model's, not copies)."""
        c = self.config
        args = {"dim": self.vector_size, "ws": int(c["window"]), "epoch": int(c["epochs"]),
                "minCount": int(c["min_count"]), "neg": int(self.n_neg), "wordNgrams": 1,
                "loss": "hs" if c["hs"] else "ns", "model": "sg" if c["sg"] else "cbow",
                "bucket": self.bucket, "minn": self.min_n, "maxn": self.max_n,
                "lrUpdateRate": 100, "t": float(c["sample"]),
                "ntokens": int(getattr(self, "raw_words", 0) or int(self.counts.sum()))}
        return fasttext_io.FastTextFile(args, list(self.vocab), self.counts, self.input_matrix,
                                        self.output_matrix)

    def save_fasttext_bin(self, path) -> None:
        """Write fastText 0.9's ``.bin`` (magic, version 12, args, dictionary, input and output
        matrices): ``fasttext.load_model`` and gensim's ``load_facebook_model`` read it and give
        the same vectors for known and unseen words. Atomic (``cw2v.fasttext_io``)."""
        fasttext_io.write_fasttext_bin(path, self.to_fasttext_file())

    def save_fasttext_vec(self, path) -> None:
        """Write fastText's ``.vec`` (word2vec text) of the vocabulary's composed vectors."""
        fasttext_io.write_vec(path, self.vocab, self.wv.vectors)

    @classmethod
    def load_fasttext_bin(cls, path) -> "FastText":
        """Read a fastText ``.bin`` (written by fastText 0.9, gensim or cw2v) as a model that
        ``train`` continues (gensim's ``load_facebook_model``). fastText does not save its
        learning rate: the model takes fastText's 0.05. A quantised, supervised or otherwise
        foreign file raises ``cw2v.fasttext_io.FastTextFormatError`` (a ValueError) naming
        it."""
        ft = fasttext_io.read_fasttext_bin(path)
        a = ft.args
        if a["loss"] not in ("ns", "hs") or a["model"] not in ("sg", "cbow"):
            raise fasttext_io.FastTextFormatError(
                str(path), f"a {a['model']}/{a['loss']} model is not a word-vector model "
                           "cw2v can train (skip-gram or CBOW, ns or hs)")
        hs = a["loss"] == "hs"
        config = {**params.defaults(), **params.FASTTEXT_DEFAULTS,
                  "d": ft.dim, "window": a["ws"], "epochs": a["epoch"], "min_count": a["minCount"],
                  "n_neg": 0 if hs else a["neg"], "hs": int(hs), "sg": int(a["model"] == "sg"),
                  "sample": a["t"], "min_n": max(a["minn"], 1), "max_n": a["maxn"],
                  "bucket": a["bucket"]}
        n, d = ft.nwords, ft.dim
        output = np.array(ft.output_matrix, dtype=np.float32)
        arrays = {"W_in": np.array(ft.input_matrix, dtype=np.float32),
                  "W_out": np.zeros((n, d), np.float32) if hs else output,
                  "counts": ft.counts,
                  "noise_weights": ft.counts.astype(np.float64) ** config["ns_exponent"]}
        if hs:
            arrays["syn1"] = output
        meta = {"vocab": list(ft.words), "lr": config["lr"], "n_neg": config["n_neg"],
                "config": config}
        return cls._import_state(meta, arrays)

    # -- saving ----------------------------------------------------------------------------------

    @classmethod
    def _import_state(cls, meta: dict, arrays: dict[str, np.ndarray]) -> "FastText":
        """Rebuild a model from ``_export_state``'s output (``W_in``: the V + bucket rows of
        the input matrix); ValueError saying what does not fit."""
        config = {**params.defaults(), **meta.get("config", {})}
        vocab = meta.get("vocab")
        W_in = arrays.get("W_in")
        n = len(vocab) if isinstance(vocab, list) else 0
        if W_in is None or W_in.ndim != 2 or n == 0:
            _check_state(meta, arrays)  # says what is missing
        try:
            min_n, max_n, bucket = _check_subwords(config["min_n"], config["max_n"],
                                                   config["bucket"], n, W_in.shape[1])
        except ValueError as exc:
            raise ValueError(f"the config's n-gram settings: {exc}") from None
        if W_in.shape[0] != n + bucket:
            raise ValueError(f"the input matrix has {W_in.shape[0]} rows, not the {n} words + "
                             f"{bucket} buckets of the config")
        model = super()._import_state(meta, {**arrays, "W_in": W_in[:n]})
        model.input_matrix = W_in
        model.sigmoid_tables = sigmoid_tables(max_exp=MAX_SIGMOID)
        model._set_subwords()
        model._make_wv()
        return model
