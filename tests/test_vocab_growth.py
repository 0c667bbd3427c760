"""Growing a trained model's vocabulary: build_vocab(update=True) and train(update_vocab=True)."""
from __future__ import annotations

import lzma

import numpy as np
import pytest
from conftest import shared_file

from cw2v import Vectors, Word2Vec, evaluate
from cw2v._rows import rows_contiguous
from cw2v._simd import row_bytes
from cw2v.corpus import EncodedCorpus

FIRST = [["the", "cat", "sat", "on", "the", "mat"], ["the", "dog", "sat"]] * 10
SECOND = [["the", "cat", "ate", "a", "fish"], ["a", "dog", "ate", "a", "bone"],
          ["rare", "zebra"]] * 10 + [["once"]]


def _model(**kwargs):
    settings = {"d": 8, "min_count": 2, "epochs": 2, "workers": 1, "seed": 7}
    settings.update(kwargs)
    return Word2Vec.from_corpus(FIRST, **settings)


def test_build_vocab_merges_and_appends():
    model = _model()
    old_vocab, old_counts = list(model.vocab), model.counts.copy()
    W_in, W_out, wv = model.W_in.copy(), model.W_out.copy(), model.wv
    encoded = model.build_vocab(SECOND)
    n = len(old_vocab)
    # existing ids stay; new words (count >= min_count in the new text) follow, by count
    assert model.vocab[:n] == old_vocab
    assert model.vocab[n:] == ["a", "ate", "fish", "bone", "rare", "zebra"]  # not "once"
    assert model.wv is wv and model.w2i == {w: i for i, w in enumerate(model.vocab)}
    second_counts = {"the": 10, "cat": 10, "dog": 10}
    for i, w in enumerate(old_vocab):
        assert model.counts[i] == old_counts[i] + second_counts.get(w, 0)
    assert model.counts[n:].tolist() == [30, 20, 10, 10, 10, 10]
    # existing rows keep their values; new rows start as from_vocabulary's
    assert np.array_equal(model.W_in[:n], W_in) and np.array_equal(model.W_out[:n], W_out)
    d = model.vector_size
    # in the kernel's storage: rows on vector boundaries (contiguous as a whole only when d is
    # a multiple of the vector width: d = 8 is for AVX2's 32-byte rows, not AVX-512's 64)
    assert model.W_in.dtype == np.float32 and rows_contiguous(model.W_in)
    assert model.W_in.ctypes.data % row_bytes() == 0 and model.W_in.strides[0] % row_bytes() == 0
    assert np.all(np.abs(model.W_in[n:]) <= 1.0 / d) and np.any(model.W_in[n:] != 0)
    assert not np.any(model.W_out[n:])
    # the noise distribution follows the merged counts
    expected = model.counts.astype(np.float64) ** 0.75
    assert np.allclose(model.freq, expected / expected.sum())
    # the corpus comes back as ids of the grown vocabulary
    words = [model.vocab[i] for i in encoded.tokens]
    flat = [w for s in SECOND for w in s if w in model.w2i]
    assert words == flat and encoded.raw_words == sum(map(len, SECOND))
    # the pair trainer sees the new rows (its cached kernel state is rebuilt)
    model.train_pair(model.w2i["zebra"], model.w2i["rare"])
    assert np.any(model.W_out[model.w2i["rare"]])
    assert model.similarity("zebra", "cat") == pytest.approx(model.similarity("cat", "zebra"))


def test_train_update_vocab_equals_build_vocab_then_train():
    a, b = _model(), _model()
    stats = a.train(SECOND, update_vocab=True, epochs=2, workers=1)
    b.train(b.build_vocab(SECOND), epochs=2, workers=1)
    assert len(stats) == 2 and a.vocab == b.vocab
    assert np.array_equal(a.W_in, b.W_in) and np.array_equal(a.W_out, b.W_out)
    assert a.similarity("zebra", "rare") > a.similarity("zebra", "the") - 1.0  # finite, usable


def test_saved_and_loaded_models_grow_the_same(tmp_path):
    model = _model()
    model.save(tmp_path / "a.cw2v")
    loaded = Word2Vec.load(tmp_path / "a.cw2v")
    model.train(SECOND, update_vocab=True, workers=1)
    loaded.train(SECOND, update_vocab=True, workers=1)
    assert loaded.vocab == model.vocab
    assert np.array_equal(loaded.W_in, model.W_in) and np.array_equal(loaded.W_out, model.W_out)
    model.save(tmp_path / "b.cw2v")  # a grown model saves and loads whole
    again = Word2Vec.load(tmp_path / "b.cw2v")
    assert again.vocab == model.vocab and np.array_equal(again.counts, model.counts)
    assert np.allclose(again.freq, model.freq, rtol=1e-12)
    again.train(FIRST, update_vocab=True, workers=1)  # nothing new: same words
    assert again.vocab == model.vocab


def test_classic_model_grows():
    model = Word2Vec(["a", "b"], d=4, seed=1)
    model.set_freq({"a": 2.5, "b": 1.5})  # the classic class takes any non-negative counts
    model.config["min_count"] = 1
    model.build_vocab([["a", "c", "c"]])
    assert model.vocab == ["a", "b", "c"] and model.counts.tolist() == [3.5, 1.5, 2.0]
    assert model.W_in.shape == model.W_out.shape == (3, 4)


def test_limits_and_refusals(tmp_path):
    model = _model(max_vocab=7)
    n = len(model.vocab)
    model.build_vocab(SECOND)
    assert len(model.vocab) == 7 and model.vocab[n:] == ["a", "ate", "fish"][:7 - n]
    with pytest.raises(ValueError, match="update=True"):
        model.build_vocab(SECOND, update=False)
    encoded = EncodedCorpus(np.zeros(3, np.int32), np.array([0, 3]), 3)
    with pytest.raises(TypeError, match="EncodedCorpus"):
        model.train(encoded, update_vocab=True)
    with pytest.raises(ValueError, match="empty"):
        model.build_vocab([[]])
    model.save(tmp_path / "m.cw2v")
    mapped = Word2Vec.load(tmp_path / "m.cw2v", mmap=True)
    with pytest.raises(TypeError, match="mmap"):
        mapped.build_vocab(SECOND)


# -- two halves of wiki8-1m ------------------------------------------------------------------------

SETTINGS = {"d": 50, "min_count": 5, "epochs": 5, "workers": 2, "seed": 1, "sample": 1e-3}
WORDSIM_TOLERANCE = 0.05   # first-half words: WordSim-353 Spearman may drop at most this much
ANALOGY_TOLERANCE = 0.02   # and analogy accuracy (3CosAdd) at most this much


def _halves():
    with lzma.open(shared_file("corpus/wiki8-1m.txt.xz"), "rt", encoding="utf-8") as f:
        tokens = f.read().split()
    half = len(tokens) // 2
    return _sentences(tokens[:half]), _sentences(tokens[half:])


def _sentences(tokens: list[str]) -> list[list[str]]:
    return [tokens[i:i + 1000] for i in range(0, len(tokens), 1000)]


def _scores(vectors: Vectors) -> tuple[float, float]:
    pairs = evaluate.word_pairs(vectors, shared_file("eval/wordsim353.tsv"))
    questions = evaluate.analogies(vectors, shared_file("eval/questions-words.txt"))
    return pairs.spearman, questions.accuracy


@pytest.mark.corpus
def test_growth_on_two_halves_of_wiki8_1m(tmp_path):
    """Train on the first half, save, load, grow on the second half; a model trained on both
    halves from scratch is the judge of the new words' neighbours."""
    first, second = _halves()
    model = Word2Vec.from_corpus(first, **SETTINGS)
    before = _scores(model.wv)
    model.save(tmp_path / "first.cw2v")
    grown = Word2Vec.load(tmp_path / "first.cw2v")
    n_old = len(grown.vocab)
    old_in = grown.W_in.copy()
    grown.train(second, update_vocab=True)
    new_words = grown.vocab[n_old:]
    assert len(new_words) > 1000

    # first-half words keep their scores (evaluated on the first-half words only)
    after = _scores(Vectors(grown.vocab[:n_old], grown.W_in[:n_old]))
    moved = float(np.mean(np.sum(_unit(old_in) * _unit(grown.W_in[:n_old]), axis=1)))

    # new words: their 10 nearest neighbours in the grown model, judged by the reference model
    reference = Word2Vec.from_corpus(first + second, **SETTINGS)
    unit = reference.wv.unit_vectors
    rng = np.random.default_rng(0)
    vocab = np.array(grown.vocab)  # once: rng.choice makes this array of a list on every call
    neighbour_sim, random_sim, neighbour_pct, random_pct = [], [], [], []
    for word in new_words:
        if word not in reference.w2i:
            continue
        sims = unit @ unit[reference.w2i[word]]
        ranks = np.argsort(np.argsort(sims)) / (sims.size - 1)  # percentile of each word
        nearest = [reference.w2i[w] for w, _ in grown.wv.most_similar(word, 10)
                   if w in reference.w2i]
        others = [reference.w2i[w] for w in rng.choice(vocab, 10, replace=False)
                  if w in reference.w2i and w != word]
        neighbour_sim.append(sims[nearest].mean())
        random_sim.append(sims[others].mean())
        neighbour_pct.append(ranks[nearest].mean())
        random_pct.append(ranks[others].mean())
    figures = {
        "new words": len(new_words), "judged": len(neighbour_sim),
        "neighbour cos (reference)": float(np.mean(neighbour_sim)),
        "random cos (reference)": float(np.mean(random_sim)),
        "neighbour percentile": float(np.mean(neighbour_pct)),
        "random percentile": float(np.mean(random_pct)),
        "share beating random": float(np.mean(np.array(neighbour_sim) > random_sim)),
        "wordsim before/after": (round(before[0], 4), round(after[0], 4)),
        "analogy before/after": (round(before[1], 4), round(after[1], 4)),
        "old rows: mean cos(before, after)": moved,
    }
    print("\nvocabulary growth on wiki8-1m halves:", figures)
    assert figures["neighbour percentile"] > 0.9 and figures["random percentile"] < 0.6
    assert figures["neighbour cos (reference)"] > figures["random cos (reference)"] + 0.1
    assert figures["share beating random"] > 0.9
    assert after[0] >= before[0] - WORDSIM_TOLERANCE
    assert after[1] >= before[1] - ANALOGY_TOLERANCE


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-30)


@pytest.mark.parametrize("objective", [dict(sg=0, hs=1, n_neg=0), dict(sg=1, hs=1, n_neg=5)])
def test_hierarchical_softmax_models_grow_too(objective):
    """syn1 gains a zero row per new word and the tree is rebuilt from the merged counts (as
    gensim's update does); training goes on."""
    rng = np.random.default_rng(0)
    first = [[f"w{j}" for j in rng.zipf(1.5, 20)] for _ in range(400)]
    second = [[f"v{j}" for j in rng.zipf(1.5, 20)] for _ in range(400)]
    m = Word2Vec.from_corpus(first, d=8, min_count=1, epochs=1, workers=1, cache_dir=False,
                             progress=False, **objective)
    n_old = len(m.vocab)
    m.train(second, update_vocab=True, epochs=1, workers=1, progress=False)
    assert len(m.vocab) > n_old
    assert m.syn1.shape == m.W_in.shape and len(m.tree.offsets) == len(m.vocab) + 1
    assert np.isfinite(m.syn1).all() and np.isfinite(m.W_in).all()
