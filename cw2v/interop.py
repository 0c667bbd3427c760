"""Moving vectors and models between cw2v and gensim, in memory.

* ``to_gensim(vectors_or_model)`` (also ``Vectors.to_gensim`` and ``Word2Vec.to_gensim``): a
  ``gensim.models.KeyedVectors`` with the same words in the same order and the same float32
  vectors (a copy), with each word's ``"count"`` attribute when a model is given.
* ``vectors_from_gensim(kv)`` (``cw2v.Vectors.from_gensim``): the other way.
* ``model_from_gensim(model)`` (``cw2v.Word2Vec.from_gensim``): a trained gensim ``Word2Vec``
  -- its input vectors, output weights (``syn1neg``) and counts, and its settings -- as a cw2v
  model that ``train`` continues.

gensim is optional (``pip install cw2v[gensim]``) and imported only inside these functions;
without it they raise ImportError saying how to install it. ``model_from_gensim`` refuses (with
ValueError) a gensim model whose objective cw2v cannot continue; ``GENSIM_OBJECTIVES`` is the one
place that says which ones it can.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import params
from .model import Word2Vec
from .vectors import Vectors, as_vectors

__all__ = ["GENSIM_OBJECTIVES", "gensim_settings", "model_from_gensim", "to_gensim",
           "vectors_from_gensim"]

#: (sg, hs) of a gensim model -> None if cw2v continues it, else why not. Hierarchical softmax
#: models are refused: gensim builds its Huffman tree with a heap, cw2v with word2vec.c's
#: two-pointer rule, and the trees (so the meaning of each syn1 row) can differ.
GENSIM_OBJECTIVES: dict[tuple[int, int], str | None] = {
    (1, 0): None,
    (0, 0): None,
    (1, 1): "hierarchical softmax (hs=1): gensim's Huffman tree is not word2vec.c's, so its "
            "syn1 rows would not fit cw2v's tree",
    (0, 1): "hierarchical softmax (hs=1): gensim's Huffman tree is not word2vec.c's, so its "
            "syn1 rows would not fit cw2v's tree",
}


def _import_gensim() -> Any:
    """``gensim.models``, or ImportError saying how to install gensim."""
    try:
        import gensim.models
    except ImportError as exc:
        raise ImportError("gensim interop needs gensim, which is not installed: "
                          "pip install cw2v[gensim]") from exc
    return gensim.models


def to_gensim(obj) -> Any:
    """The vectors of ``obj`` as a ``gensim.models.KeyedVectors``.

    Parameters
    ----------
    obj : cw2v.Vectors or a model holding them (``model.wv``)
        The vectors; a model's word counts (``model.counts``) become each key's ``"count"``
        attribute, as gensim's own ``Word2Vec`` sets them.

    Returns
    -------
    gensim.models.KeyedVectors
        Same words in the same order (``index_to_key``), the same vectors as a float32 copy.

    Raises
    ------
    ImportError
        gensim is not installed.
    TypeError
        ``obj`` is neither ``Vectors`` nor a model holding them.
    """
    vectors = as_vectors(obj)
    models = _import_gensim()
    kv = models.KeyedVectors(vectors.vector_size, count=0, dtype=np.float32)
    kv.index_to_key = list(vectors.vocab)
    kv.key_to_index = dict(vectors.w2i)
    kv.vectors = np.array(vectors._float_rows(slice(None)), dtype=np.float32, order="C",
                          copy=True)
    kv.next_index = len(vectors)  # where gensim's add_vector puts the next word
    kv.norms = None
    counts = getattr(obj, "counts", None)
    if counts is not None and np.shape(counts) == (len(vectors),):
        kv.allocate_vecattrs(["count"], [np.int64])
        kv.expandos["count"][:] = np.asarray(counts, dtype=np.int64)
    return kv


def vectors_from_gensim(kv) -> Vectors:
    """A ``cw2v.Vectors`` from a gensim ``KeyedVectors`` (or a gensim model holding one as
    ``.wv``): the same words in the same order, the vectors as a float32 copy.

    Raises
    ------
    TypeError
        ``kv`` has no ``index_to_key`` and ``vectors`` (not gensim 4 ``KeyedVectors``).
    ValueError
        ``kv`` is empty or its vectors do not match its keys.
    """
    kv = getattr(kv, "wv", kv)
    keys = getattr(kv, "index_to_key", None)
    matrix = getattr(kv, "vectors", None)
    if keys is None or matrix is None:
        raise TypeError(f"expected gensim.models.KeyedVectors (gensim 4), got "
                        f"{type(kv).__name__}")
    keys = list(keys)
    if not keys:
        raise ValueError("the KeyedVectors hold no words")
    bad = next((k for k in keys if not isinstance(k, str)), None)
    if bad is not None:
        raise TypeError(f"cw2v's words are str; the KeyedVectors hold key {bad!r} "
                        f"({type(bad).__name__})")
    matrix = np.asarray(matrix)
    if matrix.ndim != 2 or matrix.shape[0] != len(keys):
        raise ValueError(f"the KeyedVectors hold {len(keys)} keys but vectors of shape "
                         f"{matrix.shape}")
    return Vectors(keys, np.array(matrix, dtype=np.float32, order="C", copy=True))


def gensim_settings(gensim_model) -> dict[str, Any]:
    """cw2v's training parameters (``cw2v.params``) read from a gensim ``Word2Vec``.

    Each parameter is read from the gensim attribute of the same name, or of the name its
    ``cw2v.params`` row gives (``vector_size`` -> ``d``, ``negative`` -> ``n_neg``, ``alpha``
    -> ``lr``, ``min_alpha`` -> ``min_lr``, ``max_final_vocab`` -> ``max_vocab``); those gensim
    lacks, or holds as None where cw2v needs a value, keep cw2v's defaults.
    """
    settings = {}
    for p in params.PARAMETERS:
        value = getattr(gensim_model, p.gensim or p.name, None)
        if value is None:
            continue
        if isinstance(value, (np.integer, np.floating)):
            value = value.item()
        settings[p.name] = value
    return params.resolve(settings)


def _check_objective(gensim_model) -> None:
    """ValueError if cw2v cannot continue training ``gensim_model``'s objective."""
    sg, hs = int(getattr(gensim_model, "sg", 1)), int(getattr(gensim_model, "hs", 0))
    reason = GENSIM_OBJECTIVES.get((sg, hs), f"sg={sg}, hs={hs} is not a known objective")
    if reason is None and int(getattr(gensim_model, "negative", 0)) <= 0:
        reason = "negative=0 (no negative sampling) leaves nothing for cw2v's objective"
    if reason is not None:
        raise ValueError(f"cannot convert this gensim Word2Vec: {reason}; cw2v continues "
                         "skip-gram or CBOW with negative sampling (hs=0, negative > 0). Its "
                         "vectors convert with cw2v.Vectors.from_gensim(model.wv)")


def _check_not_fasttext(gensim_model) -> None:
    """TypeError for a gensim ``FastText`` (a ``Word2Vec`` subclass whose subword vectors a
    cw2v model has no place for)."""
    fasttext = getattr(_import_gensim(), "FastText", None)
    if (fasttext is not None and isinstance(gensim_model, fasttext)) \
            or hasattr(getattr(gensim_model, "wv", None), "vectors_ngrams"):
        raise TypeError("cannot convert a gensim FastText model to a cw2v Word2Vec: cw2v has no "
                        "subword (character n-gram) vectors, so they would be dropped and words "
                        "outside the vocabulary would get no vector. Take its whole-word vectors "
                        "alone with cw2v.Vectors.from_gensim(model.wv), or train a "
                        "gensim.models.Word2Vec to continue in cw2v")


def model_from_gensim(gensim_model, cls: type | None = None) -> Word2Vec:
    """A cw2v ``Word2Vec`` from a trained gensim ``Word2Vec``, ready to train further.

    ``W_in`` is a float32 copy of ``wv.vectors``, ``W_out`` of ``syn1neg``; the counts are each
    word's ``"count"`` attribute; the noise distribution is rebuilt as counts**ns_exponent;
    ``config`` holds gensim's settings mapped to cw2v's names (``gensim_settings``).

    Parameters
    ----------
    gensim_model : gensim.models.Word2Vec
        Trained (or at least with its vocabulary built) skip-gram or CBOW (``sg``,
        ``cbow_mean`` carried over) with negative sampling.
    cls : type, optional
        The class to make (default ``cw2v.Word2Vec``).

    Raises
    ------
    ImportError
        gensim is not installed.
    TypeError
        ``gensim_model`` is not a gensim ``Word2Vec``, or is a ``FastText`` (its subword
        vectors would be lost).
    ValueError
        The model's objective is one cw2v cannot continue (hierarchical softmax, no negative
        sampling), it has no vocabulary, or its arrays do not match it.
    """
    _import_gensim()
    cls = Word2Vec if cls is None else cls
    wv = getattr(gensim_model, "wv", None)
    if wv is None or not hasattr(gensim_model, "sg"):
        raise TypeError(f"expected a gensim.models.Word2Vec, got {type(gensim_model).__name__}")
    _check_not_fasttext(gensim_model)
    _check_objective(gensim_model)
    vectors = vectors_from_gensim(wv)
    syn1neg = getattr(gensim_model, "syn1neg", None)
    if syn1neg is None or np.shape(syn1neg) != vectors.vectors.shape:
        raise ValueError(f"the gensim model's syn1neg {np.shape(syn1neg)} does not match its "
                         f"vectors {vectors.vectors.shape}")
    try:
        counts = np.array([wv.get_vecattr(w, "count") for w in vectors.vocab], dtype=np.int64)
    except KeyError:
        raise ValueError("the gensim model's words have no 'count' attribute (build its "
                         "vocabulary first)") from None
    settings = gensim_settings(gensim_model)
    model = cls(vectors.vocab, d=vectors.vector_size, lr=settings["lr"],
                n_neg=settings["n_neg"], seed=settings["seed"])
    model.W_in[...] = vectors.vectors  # into the model's own (aligned) storage: copies
    model.W_out[...] = syn1neg
    model.invalidate_norms()
    model.counts = counts
    model.set_noise_weights(counts.astype(np.float64) ** settings["ns_exponent"])
    model.config.update(settings)
    return model
