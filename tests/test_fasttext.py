"""``cw2v.FastText``: fastText's subword model through Word2Vec's trainer, table and files."""
from __future__ import annotations

import os

import numpy as np
import pytest

import cw2v
from cw2v import FastText
from cw2v.subwords import subword_rows

KW = dict(d=16, min_count=1, epochs=3, workers=1, seed=3, window=3, sample=0, bucket=500,
          cache_dir=False, progress=False)


def zipf_corpus(n_sentences=60, length=200, seed=0):
    rng = np.random.default_rng(seed)
    return [[f"w{j % 200}" for j in rng.zipf(1.3, length)] for _ in range(n_sentences)]


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "zipf.txt"
    path.write_text("\n".join(" ".join(s) for s in zipf_corpus()) + "\n")
    return path


def composed(model, word):
    """A word's vector composed from its rows, computed here from cw2v.subwords' row list."""
    w = model.w2i.get(word, -1)
    rows = subword_rows(word, w, len(model.vocab), model.min_n, model.max_n, model.bucket)
    return model.input_matrix[rows].astype(np.float64).mean(axis=0)


@pytest.mark.parametrize("arch", [dict(sg=1), dict(sg=0), dict(sg=1, hs=1, n_neg=0),
                                  dict(sg=0, hs=1, n_neg=0)],
                         ids=["sg-ns", "cbow-ns", "sg-hs", "cbow-hs"])
def test_trains_and_loss_falls(arch):
    model = FastText.from_corpus(topic_corpus(400), **{**KW, "epochs": 4}, **arch)
    V = len(model.vocab)
    assert model.input_matrix.shape == (V + 500, 16)
    assert model.W_in is model.input_matrix
    assert model.output_matrix is (model.syn1 if arch.get("hs") else model.W_out)
    per_pair = [s.loss_per_pair for s in model.epoch_history]
    assert per_pair[-1] < per_pair[0]
    # wv holds each word's composed vector, fastText's getWordVector
    for word in ("walked", "ate", model.vocab[-1]):
        np.testing.assert_allclose(model.wv[word], composed(model, word), rtol=1e-5, atol=1e-6)


def test_starts_as_fasttext_and_takes_its_defaults():
    vocab = [f"word{i}" for i in range(30)]
    model = FastText(vocab, d=10, bucket=1000, seed=1)
    M = model.input_matrix
    assert M.shape == (1030, 10) and M.dtype == np.float32
    assert -0.1 <= M.min() < -0.098 and 0.098 < M.max() <= 0.1   # uniform in [-1/d, 1/d]
    assert not model.W_out.any()
    c = model.config
    assert (c["lr"], c["sample"], c["ns_exponent"]) == (0.05, 1e-4, 0.5)
    assert (c["min_n"], c["max_n"], c["bucket"]) == (3, 6, 1000)
    assert model.sigmoid_tables.max_exp == 8.0


def test_noise_is_counts_to_the_half(corpus_file):
    model = FastText.from_corpus(corpus_file, **{**KW, "epochs": 1})
    expected = model.counts.astype(np.float64) ** 0.5
    np.testing.assert_allclose(model.freq, expected / expected.sum())


@pytest.mark.parametrize("bad, match", [
    (dict(min_n=0), "min_n must be"),
    (dict(max_n=-1), "max_n must be"),
    (dict(min_n=4, max_n=3), r"max_n \(3\) must be 0"),
    (dict(bucket=0), "bucket must be"),
    (dict(bucket=2**31), "bucket must be"),
    (dict(mode="batched"), "exact mode"),
])
def test_bad_subword_parameters_fail_before_the_corpus_is_read(tmp_path, bad, match):
    missing = tmp_path / "no-such-corpus.txt"
    with pytest.raises(ValueError, match=match):
        FastText.from_corpus(missing, **{**KW, **bad})
    if "mode" not in bad:
        with pytest.raises(ValueError, match=match):
            FastText(["a", "b"], **bad)


def test_save_load_round_trip(corpus_file, tmp_path):
    model = FastText.from_corpus(corpus_file, **KW)
    os.chdir(tmp_path)
    model.save("model.cw2v")
    for mmap in (False, True):
        loaded = FastText.load("model.cw2v", mmap=mmap)
        assert type(loaded) is FastText and loaded.vocab == model.vocab
        np.testing.assert_array_equal(loaded.input_matrix, model.input_matrix)
        np.testing.assert_array_equal(loaded.W_out, model.W_out)
        np.testing.assert_array_equal(loaded.wv.vectors, model.wv.vectors)
        assert loaded.config == model.config
        assert isinstance(loaded.input_matrix, np.memmap) == mmap
    # a loaded model trains on (copy-on-write map too) exactly as the original does
    again = FastText.load("model.cw2v", mmap="c")
    model.train(corpus_file, epochs=1, workers=1, progress=False, cache_dir=False)
    again.train(corpus_file, epochs=1, workers=1, progress=False, cache_dir=False)
    np.testing.assert_array_equal(again.input_matrix, model.input_matrix)


def test_word2vec_load_of_a_fasttext_file_says_what_it_is(tmp_path):
    FastText(["a", "b"], d=4, bucket=10).save(tmp_path / "ft.cw2v")
    with pytest.raises(ValueError, match="ft.cw2v: .* load it with cw2v.FastText.load"):
        cw2v.Word2Vec.load(tmp_path / "ft.cw2v")


def test_a_file_whose_matrix_does_not_fit_its_config_is_refused(corpus_file, tmp_path):
    model = FastText.from_corpus(corpus_file, **{**KW, "epochs": 1})
    model.config["bucket"] = 499
    model.save(tmp_path / "bad.cw2v")
    with pytest.raises(ValueError, match="bad.cw2v: not a valid cw2v model: the input matrix "
                                         "has .* rows"):
        FastText.load(tmp_path / "bad.cw2v")


def test_checkpoint_resume_is_bit_identical(corpus_file, tmp_path):
    kw = {**KW, "epochs": 2}
    whole = FastText.from_corpus(corpus_file, **kw)

    def stop(model, stats):
        raise KeyboardInterrupt

    ckpt = tmp_path / "run.ckpt"
    FastText.from_corpus(corpus_file, checkpoint=ckpt, callbacks=[stop], **kw)
    resumed = FastText.resume(ckpt, corpus_file, progress=False, cache_dir=False)
    assert type(resumed) is FastText
    np.testing.assert_array_equal(resumed.input_matrix, whole.input_matrix)
    np.testing.assert_array_equal(resumed.W_out, whole.W_out)
    np.testing.assert_array_equal(resumed.wv.vectors, whole.wv.vectors)


def test_build_vocab_update_keeps_the_bucket_rows(corpus_file):
    model = FastText.from_corpus(corpus_file, **{**KW, "epochs": 1})
    V, before = len(model.vocab), model.input_matrix.copy()
    encoded = model.build_vocab([["newword", "w1", "another"]] * 5)
    assert model.vocab[V:] == ["newword", "another"]
    M = model.input_matrix
    assert M.shape == (V + 2 + 500, 16)
    np.testing.assert_array_equal(M[:V], before[:V])
    np.testing.assert_array_equal(M[V + 2:], before[V:])     # buckets: same rows, moved down
    assert np.abs(M[V:V + 2]).max() <= 1 / 16
    np.testing.assert_allclose(model.wv["newword"], composed(model, "newword"), rtol=1e-5,
                               atol=1e-6)
    model.train(encoded, epochs=1, workers=1, progress=False)
    assert model.W_out[V:].any()


def test_init_vectors_set_the_words_own_rows(corpus_file):
    pretrained = cw2v.Vectors(["w1", "zzz"], np.full((2, 16), 0.5, np.float32))
    model = FastText(["w1", "w2"], d=16, bucket=50)
    assert model._intersect_vectors(pretrained) == 1
    np.testing.assert_array_equal(model.input_matrix[0], 0.5)
    np.testing.assert_allclose(model.wv["w1"], composed(model, "w1"), rtol=1e-6)


def test_train_refuses_the_batched_mode_before_reading(tmp_path):
    model = FastText(["a", "b"], d=4, bucket=10)
    with pytest.raises(ValueError, match="exact mode"):
        model.train(tmp_path / "missing.txt", mode="batched")


def test_train_pair_is_refused():
    model = FastText(["a", "b"], d=4, bucket=10)
    with pytest.raises(NotImplementedError, match="trains on a corpus"):
        model.train_pair(0, 1)


MOTION = ["walked", "walks", "walker", "ran", "runs", "jogged"]
FOOD = ["cooked", "cooks", "cooker", "ate", "eats", "baked"]
PLACES = {"motion": ["road", "park", "shoes", "legs", "street"],
          "food": ["kitchen", "oven", "pan", "plate", "dinner"]}


def topic_corpus(n=1500, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        topic, words = ("motion", MOTION) if i % 2 else ("food", FOOD)
        s = list(rng.choice(words, 2)) + list(rng.choice(PLACES[topic], 4))
        rng.shuffle(s)
        out.append(s)
    return out


def test_an_unseen_inflection_lands_among_its_stem_s_topic():
    """Learned, not built in: 'walking' never occurs, and shares no n-gram with 'ran', 'runs',
    'jogged' (its topic) nor with 'ate', 'eats', 'baked' (the other); only training through
    'walked', 'walks', 'walker' (shared n-grams '<wa', 'walk', ...) can put its composed vector
    nearer the first three. Untrained, the two sides score alike."""
    def gap(model):
        v = composed(model, "walking")

        def cos(w):
            u = model.wv[w].astype(np.float64)
            return float(v @ u / np.linalg.norm(v) / np.linalg.norm(u))

        return (np.mean([cos(w) for w in ("ran", "runs", "jogged")])
                - np.mean([cos(w) for w in ("ate", "eats", "baked")]))

    assert "walking" not in topic_corpus()
    kw = dict(d=24, min_count=1, workers=1, seed=1, window=5, sample=0, bucket=2000,
              cache_dir=False, progress=False)
    trained = FastText.from_corpus(topic_corpus(), epochs=5, **kw)
    untrained = FastText(trained.vocab, d=24, bucket=2000, seed=1)
    assert "walking" not in trained.w2i
    assert gap(trained) > 0.3
    assert abs(gap(untrained)) < 0.2


def test_two_workers_and_no_ngrams(corpus_file):
    """Two workers share the input matrix and the subword table (Hogwild); with max_n=0 each
    word is its own row only, so wv is the words' rows of the input matrix."""
    model = FastText.from_corpus(corpus_file, **{**KW, "workers": 2, "max_n": 0, "epochs": 1})
    V = len(model.vocab)
    assert np.array_equal(np.diff(model.subword_offsets), np.ones(V))
    np.testing.assert_array_equal(model.wv.vectors, model.input_matrix[:V])
    assert model.epoch_history[0].pairs > 0 and np.isfinite(model.input_matrix).all()
    fresh = FastText(model.vocab, d=16, seed=3, max_n=0, bucket=500)
    np.testing.assert_array_equal(model.input_matrix[V:], fresh.input_matrix[V:])  # untouched
    assert not np.array_equal(model.input_matrix[:V], fresh.input_matrix[:V])


def test_a_bucket_matrix_too_big_for_memory_is_refused_before_the_corpus_is_read(monkeypatch,
                                                                                  tmp_path):
    """from_corpus checks the bucket matrix against the machine's memory before reading the
    corpus (a missing file: the MemoryError comes first), and the constructor checks the whole
    input and output matrices: MemoryError naming them, their size and what to lower."""
    from cw2v import _rows
    monkeypatch.setattr(_rows, "available_memory", lambda: 100 * 2**20)  # 100 MiB
    with pytest.raises(MemoryError, match=r"2,000,000 buckets \(2,000,000 rows x 100 floats\) "
                                          r"need 0.7 GiB.*use a smaller bucket or d"):
        FastText.from_corpus(str(tmp_path / "missing.txt"), epochs=1)
    with pytest.raises(MemoryError, match=r"3 words \+ 2,000,000 buckets and the output matrix "
                                          r"\(2,000,006 rows"):
        FastText(["a", "b", "c"], d=100)
    assert FastText(["a", "b", "c"], d=8, bucket=1000).input_matrix.shape == (1003, 8)
