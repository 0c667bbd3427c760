"""gensim interop: exact round trips, a converted gensim model that trains on, a clear error
without gensim."""
from __future__ import annotations

import builtins
import sys

import numpy as np
import pytest

import cw2v
from cw2v import Vectors, Word2Vec
from cw2v.demo import tiny_corpus

gensim_models = pytest.importorskip("gensim.models")


def _sentences():
    return tiny_corpus()


@pytest.fixture(scope="module")
def trained():
    return Word2Vec.from_corpus(_sentences() * 20, d=16, min_count=1, epochs=2, workers=1,
                                seed=3)


@pytest.fixture(scope="module")
def gensim_model():
    return gensim_models.Word2Vec(_sentences() * 20, vector_size=16, window=3, min_count=1,
                                  sg=1, hs=0, negative=4, sample=1e-3, alpha=0.03,
                                  min_alpha=0.0002, epochs=3, seed=5, workers=1)


def test_to_gensim_exact(trained):
    kv = trained.to_gensim()
    assert isinstance(kv, gensim_models.KeyedVectors)
    assert kv.index_to_key == trained.vocab
    assert kv.key_to_index == trained.w2i
    assert kv.vectors.dtype == np.float32
    assert np.array_equal(kv.vectors.view(np.uint32), trained.W_in.view(np.uint32))
    assert kv.vectors is not trained.W_in and not np.shares_memory(kv.vectors, trained.W_in)
    assert [kv.get_vecattr(w, "count") for w in trained.vocab] == trained.counts.tolist()
    # gensim's queries work on it and agree with cw2v's
    word = trained.vocab[3]
    ours = [w for w, _ in trained.wv.most_similar(word, 5)]
    theirs = [w for w, _ in kv.most_similar(word, topn=5)]
    assert ours == theirs
    with pytest.warns(UserWarning):  # gensim warns that growing one at a time is slow
        assert kv.add_vector("new-word", np.ones(16, np.float32)) == len(trained.vocab)
    assert kv.index_to_key[-1] == "new-word" and trained.vocab[-1] != "new-word"


def test_round_trip_vectors_bitwise(trained):
    back = Vectors.from_gensim(cw2v.interop.to_gensim(trained.wv))
    assert back.vocab == trained.vocab
    assert back.vectors.dtype == np.float32
    assert np.array_equal(back.vectors.view(np.uint32), trained.W_in.view(np.uint32))
    # and starting from gensim
    kv = gensim_models.KeyedVectors(4)
    rng = np.random.default_rng(0)
    kv.add_vectors(["b", "a", "c"], rng.standard_normal((3, 4)).astype(np.float32))
    again = Vectors.from_gensim(kv).to_gensim()
    assert again.index_to_key == ["b", "a", "c"]
    assert np.array_equal(again.vectors.view(np.uint32), kv.vectors.view(np.uint32))


def test_from_gensim_accepts_model_and_rejects_junk(gensim_model):
    v = Vectors.from_gensim(gensim_model)  # a model: its .wv
    assert v.vocab == gensim_model.wv.index_to_key
    with pytest.raises(TypeError, match="KeyedVectors"):
        Vectors.from_gensim(object())
    with pytest.raises(ValueError, match="no words"):
        Vectors.from_gensim(gensim_models.KeyedVectors(3))


def test_from_gensim_refuses_fasttext_saying_the_subwords_would_be_lost():
    ft = gensim_models.FastText(_sentences() * 5, vector_size=8, window=3, min_count=1,
                                epochs=1, seed=5, workers=1, bucket=1000)
    with pytest.raises(TypeError, match=r"gensim FastText .* subword .* dropped .*"
                                        r"Vectors\.from_gensim\(model\.wv\)"):
        Word2Vec.from_gensim(ft)
    assert Vectors.from_gensim(ft.wv).vocab == ft.wv.index_to_key  # the whole-word vectors


def test_gensim_model_continues_training(gensim_model):
    model = Word2Vec.from_gensim(gensim_model)
    g = gensim_model
    assert model.vocab == g.wv.index_to_key
    assert np.array_equal(model.W_in, g.wv.vectors) and np.array_equal(model.W_out, g.syn1neg)
    assert model.counts.tolist() == [g.wv.get_vecattr(w, "count") for w in model.vocab]
    c = model.config
    assert (model.vector_size, c["window"], model.n_neg, c["sample"], c["lr"], c["min_lr"],
            c["epochs"], c["seed"], c["min_count"]) == (16, 3, 4, 1e-3, 0.03, 0.0002, 3, 5, 1)
    expected = model.counts.astype(np.float64) ** 0.75
    assert np.allclose(model.freq, expected / expected.sum())
    before = model.W_in.copy()
    stats = model.train(_sentences() * 20, epochs=3, workers=1)
    assert len(stats) == 3 and not np.array_equal(before, model.W_in)
    assert stats[-1].loss_per_pair < stats[0].loss_per_pair * 1.05
    assert np.isfinite(model.W_in).all()
    # its loss on the corpus starts where gensim left it, not from scratch
    fresh = Word2Vec.from_corpus(_sentences() * 20, d=16, min_count=1, window=3, n_neg=4,
                                 epochs=1, workers=1, seed=5)
    assert model.epoch_history[0].loss_per_pair < fresh.epoch_history[0].loss_per_pair


def test_gensim_cbow_model_continues_as_cbow():
    g = gensim_models.Word2Vec(_sentences() * 20, vector_size=16, min_count=1, window=3,
                               negative=4, sg=0, cbow_mean=0, workers=1, epochs=2, seed=5)
    model = Word2Vec.from_gensim(g)
    assert (model.config["sg"], model.config["cbow_mean"], model.config["hs"]) == (0, 0, 0)
    stats = model.train(_sentences() * 20, epochs=2, workers=1)
    assert len(stats) == 2 and np.isfinite(model.W_in).all()


@pytest.mark.parametrize("kwargs, message", [
    ({"sg": 1, "hs": 1, "negative": 0}, "hierarchical softmax"),
    ({"sg": 0, "hs": 1, "negative": 5}, "Huffman tree is not word2vec.c's"),
    ({"sg": 1, "hs": 0, "negative": 0}, "negative=0"),
])
def test_refuses_objectives_cw2v_cannot_continue(kwargs, message):
    g = gensim_models.Word2Vec(vector_size=8, min_count=1, workers=1, **kwargs)
    g.build_vocab(_sentences())  # (gensim will not train with hs=0 and negative=0)
    with pytest.raises(ValueError, match=message):
        Word2Vec.from_gensim(g)


def test_clear_error_without_gensim(monkeypatch, trained):
    real_import = builtins.__import__

    def no_gensim(name, *args, **kwargs):
        if name == "gensim" or name.startswith("gensim."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    for name in [m for m in sys.modules if m == "gensim" or m.startswith("gensim.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(builtins, "__import__", no_gensim)
    with pytest.raises(ImportError, match=r"pip install cw2v\[gensim\]"):
        trained.to_gensim()
    with pytest.raises(ImportError, match=r"pip install cw2v\[gensim\]"):
        trained.wv.to_gensim()
    with pytest.raises(ImportError, match=r"pip install cw2v\[gensim\]"):
        Word2Vec.from_gensim(object())
