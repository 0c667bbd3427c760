"""Locked rows (gensim's ``vectors_lockf``): each compiled kernel copy scales every input-row
update by the word's lock factor, as the NumPy reference does, in every objective and mode;
locked rows keep their bits through whole training runs; the model's ``lock=`` API."""
from __future__ import annotations

from functools import lru_cache

import conftest
import numpy as np
import pytest
from test_objectives import (COMBOS, IDS, SPAN_BOUNDS, assert_same_weights, example_steps,
                             make_models)

# Every combination, skip-gram with negative sampling alone included (test_objectives leaves it
# to test_kernel's pair tests).
ALL_COMBOS = COMBOS + [(1, 0, 5, 1)]
ALL_IDS = IDS + ["sg-ns"]
# (sg, hs, n_neg, cbow_mean, batched): every kernel function of train_span.
SPAN_CASES = ([c + (False,) for c in ALL_COMBOS]
              + [(1, 0, 5, 1, True), (1, 1, 0, 1, True)])
SPAN_IDS = ALL_IDS + ["sg-ns-batched", "sg-hs-batched"]


def mixed_lock(V: int) -> np.ndarray:
    """Factors 0, 0.5 and 1 in turn: frequent and rare words get each."""
    return np.array([0.0, 0.5, 1.0], dtype=np.float32)[np.arange(V) % 3]


# -- step by step against the reference --------------------------------------------------------

@lru_cache(maxsize=None)
def reference_examples(V, d, sg, hs, n_neg, cbow_mean, window):
    ref = make_models(None, V, d, sg, hs, n_neg, cbow_mean, seed=d, window=window)[0]
    ref.lockf = mixed_lock(V)
    start = ref.W_in.copy()
    loss = sum(ref.train_example(*step) for step in example_steps(V, d, sg, n_neg, window, d))
    return ref, loss, start


@pytest.mark.parametrize("sg, hs, n_neg, cbow_mean", ALL_COMBOS, ids=ALL_IDS)
@pytest.mark.parametrize("d", [7, 17])
def test_train_example_with_lock_matches_reference(kernel, sg, hs, n_neg, cbow_mean, d):
    """train_example (the exact rule of every architecture and objective) with a lock vector:
    the compiled copy's weights equal the reference's after each of 300 examples' updates."""
    V, window = 90, 4
    ref0, _, weights = make_models(kernel, V, d, sg, hs, n_neg, cbow_mean, seed=d,
                                   window=window)
    lockf = mixed_lock(V)
    state = kernel.KernelState(weights[0], weights[1], ref0.sigmoid_tables, ref0.noise_table,
                               n_neg, 0, window=window, sg=sg, hs=hs, cbow_mean=cbow_mean,
                               tree=ref0.tree if hs else None, syn1=weights[2] if hs else None,
                               lockf=lockf)
    loss = sum(state.train_example(inputs, target, 0.05, negs)
               for inputs, target, negs in example_steps(V, d, sg, n_neg, window, d))
    ref, loss_ref, start = reference_examples(V, d, sg, hs, n_neg, cbow_mean, window)
    assert_same_weights(ref, weights)
    assert loss == pytest.approx(loss_ref, rel=1e-4)
    locked, half, free = (lockf == 0), (lockf == 0.5), (lockf == 1)
    np.testing.assert_array_equal(weights[0][locked], start[locked])
    assert np.abs(weights[0][half] - start[half]).max() > 1e-3
    assert np.abs(weights[0][free] - start[free]).max() > 1e-3


@lru_cache(maxsize=None)
def reference_span(V, d, sg, hs, n_neg, cbow_mean, window, batched):
    rng = np.random.default_rng(4)
    keep = np.minimum(1.0, rng.random(V) + 0.3).astype(np.float32)
    tokens = rng.integers(0, V, 500).astype(np.int32)
    ref = make_models(None, V, d, sg, hs, n_neg, cbow_mean, seed=3, window=window)[0]
    ref.lockf = mixed_lock(V)
    start = ref.W_in.copy()
    bounds = np.array(SPAN_BOUNDS[:-1] + (500,), np.int64)
    out = ref.train_span(tokens, bounds, keep, window, 0.05, 0.01, batched=batched)
    return ref, out, keep, tokens, bounds, start


@pytest.mark.parametrize("sg, hs, n_neg, cbow_mean, batched", SPAN_CASES, ids=SPAN_IDS)
def test_train_span_with_lock_matches_reference(kernel, sg, hs, n_neg, cbow_mean, batched):
    """Each kernel function (the training paths: skip-gram NS exact and batched, HS exact and
    batched, CBOW NS and HS) with a lock vector, step for step with the reference."""
    V, d, window = 60, 16, 4
    ref, expected, keep, tokens, bounds, start = reference_span(V, d, sg, hs, n_neg,
                                                                cbow_mean, window, batched)
    lockf = mixed_lock(V)
    ref0, state, weights = make_models(kernel, V, d, sg, hs, n_neg, cbow_mean, seed=3,
                                       window=window)
    state = kernel.KernelState(weights[0], weights[1], ref0.sigmoid_tables, ref0.noise_table,
                               n_neg, state.rng_state, keep_prob=keep, window=window,
                               objective="batched" if batched else "exact", sg=sg, hs=hs,
                               cbow_mean=cbow_mean, tree=ref.tree if hs else None,
                               syn1=weights[2] if hs else None, lockf=lockf)
    out = state.train_span(tokens, bounds, 0.05, 0.01)
    assert out[:3] == expected[:3]
    assert out[3] == pytest.approx(expected[3], rel=1e-4)
    assert_same_weights(ref, weights)
    seen = np.zeros(V, bool)
    seen[tokens] = True
    for factor in (0.0, 0.5, 1.0):
        rows = seen & (lockf == factor)
        moved = np.abs(weights[0][rows] - start[rows]).max()
        assert moved == 0 if factor == 0 else moved > 1e-4, factor


@pytest.mark.parametrize("d", [7, 50])
def test_batched_windows_with_lock_match_reference(kernel, d):
    """The HogBatch steps (negative sampling and hierarchical softmax) with a lock vector;
    windows with repeated words (one row's updates summed)."""
    V = 90
    ref, state, weights = make_models(kernel, V, d, 1, 1, 5, 1, seed=d)
    ref.lockf = lockf = mixed_lock(V)
    start = ref.W_in.copy()
    rng = np.random.default_rng(d)
    t = ref.sigmoid_tables
    loss = loss_ref = 0.0
    for step in range(150):
        inputs = rng.integers(0, V, rng.integers(1, 9)).astype(np.int32)
        inputs[-1] = inputs[0]
        outputs = rng.integers(0, V, 6).astype(np.int32)
        if step % 2:
            loss += kernel._batched_window(weights[0], weights[1], inputs, outputs, 0.05, t,
                                           lockf)
            loss_ref += ref.train_window_batched(inputs, int(outputs[0]), outputs[1:])
        else:
            loss += kernel._batched_hs_window(weights[0], weights[2], ref.tree, inputs,
                                              int(outputs[0]), 0.05, t, lockf)
            loss_ref += ref.train_window_batched_hs(inputs, int(outputs[0]))
    assert_same_weights(ref, weights)
    assert loss == pytest.approx(loss_ref, rel=1e-4)
    np.testing.assert_array_equal(weights[0][lockf == 0], start[lockf == 0])
    with pytest.raises(ValueError, match="lockf has 3 entries"):
        kernel._batched_window(weights[0], weights[1], inputs, outputs, 0.05, t, lockf[:3])


def test_train_pairs_with_lock_match_reference(kernel):
    """train_pair and train_pairs scale the center's (input row's) update."""
    V, d = 90, 16
    ref, state, weights = make_models(kernel, V, d, 1, 0, 5, 1, seed=2)
    ref.lockf = lockf = mixed_lock(V)
    start = ref.W_in.copy()
    state = kernel.KernelState(weights[0], weights[1], ref.sigmoid_tables, ref.noise_table, 5,
                               0, lockf=lockf)
    rng = np.random.default_rng(0)
    centers, contexts = (rng.integers(0, V, 400).astype(np.int32) for _ in range(2))
    negatives = rng.integers(0, V, (400, 5)).astype(np.int32)
    loss = state.train_pairs(centers, contexts, 0.05, negatives)
    loss += sum(state.train_pair(int(c), int(o), 0.05, n)
                for c, o, n in zip(centers[:50], contexts[:50], negatives[:50]))
    ref.lr = 0.05
    loss_ref = ref.train_pairs(centers, contexts, negatives)
    loss_ref += sum(ref.train_pair(int(c), int(o), n)
                    for c, o, n in zip(centers[:50], contexts[:50], negatives[:50]))
    assert_same_weights(ref, weights)
    assert loss == pytest.approx(loss_ref, rel=1e-4)
    np.testing.assert_array_equal(weights[0][lockf == 0], start[lockf == 0])


@pytest.mark.parametrize("sg, hs, n_neg, cbow_mean, batched", SPAN_CASES, ids=SPAN_IDS)
def test_lock_of_ones_is_no_lock_and_zeros_freeze_w_in(kernel, sg, hs, n_neg, cbow_mean,
                                                       batched):
    """A lock of all ones trains bit for bit as no lock (the factor's path for 1 is the plain
    sum); all zeros leave every input row as it was while the output rows train."""
    V, d, window = 60, 16, 4
    rng = np.random.default_rng(1)
    tokens = rng.integers(0, V, 400).astype(np.int32)
    bounds = np.array([0, 200, 400], np.int64)
    results = []
    for lockf in (None, np.ones(V, np.float32), np.zeros(V, np.float32)):
        ref, state, weights = make_models(kernel, V, d, sg, hs, n_neg, cbow_mean, seed=3,
                                          window=window)
        start = [w.copy() for w in weights]
        state = kernel.KernelState(weights[0], weights[1], ref.sigmoid_tables,
                                   ref.noise_table, n_neg, 7, window=window,
                                   objective="batched" if batched else "exact", sg=sg, hs=hs,
                                   cbow_mean=cbow_mean, tree=ref.tree if hs else None,
                                   syn1=weights[2] if hs else None, lockf=lockf)
        state.train_span(tokens, bounds, 0.05, 0.01)
        results.append(weights)
    for a, b in zip(results[0], results[1]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(results[2][0], start[0])
    out = 2 if hs else 1
    assert np.abs(results[2][out] - start[out]).max() > 1e-3


def test_state_checks_lockf(kernel):
    ref, state, weights = make_models(kernel, 20, 4, 1, 0, 5, 1)
    args = (weights[0], weights[1], ref.sigmoid_tables, ref.noise_table, 5, 0)
    for bad, match in ((np.ones(19, np.float32), "lockf has 19 entries"),
                       (np.full(20, 1.5, np.float32), r"lockf\[0\] = 1.5"),
                       (np.full(20, np.nan, np.float32), r"lockf\[0\] = nan"),
                       (np.full(20, -0.1, np.float32), r"not in \[0, 1\]")):
        with pytest.raises(ValueError, match=match):
            kernel.KernelState(*args, lockf=bad)


# -- whole training runs and the model's lock= ---------------------------------------------------

from cw2v import Vectors, Word2Vec, checkpoint, cli  # noqa: E402

KW = dict(d=8, min_count=1, seed=5, window=3, epochs=3, progress=False, cache_dir=False)
# (sg, hs, n_neg, cbow_mean, mode): every objective and mode corpus training has.
RUNS = [(1, 0, 3, 1, "exact"), (1, 0, 3, 1, "batched"), (1, 1, 0, 1, "exact"),
        (1, 1, 0, 1, "batched"), (1, 1, 3, 1, "exact"), (0, 0, 3, 1, "exact"),
        (0, 0, 3, 0, "exact"), (0, 1, 0, 1, "exact"), (0, 1, 3, 1, "exact")]
RUN_IDS = [f"{'sg' if sg else 'cbow'}-{'hs' if hs else ''}{'ns' if neg else ''}"
           f"{'' if sg else ('-mean' if mean else '-sum')}-{mode}"
           for sg, hs, neg, mean, mode in RUNS]


def sentences() -> list[list[str]]:
    rng = np.random.default_rng(1)
    return [[f"w{j % 40}" for j in rng.zipf(1.3, 12)] for _ in range(300)]


def start_and_end(monkeypatch, **kw):
    """W_in as ``from_corpus`` starts training, and the trained model (conftest's)."""
    return conftest.start_and_end(monkeypatch, sentences(), **{**KW, **kw})


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("sg, hs, n_neg, cbow_mean, mode", RUNS, ids=RUN_IDS)
def test_locked_rows_keep_their_bits_through_training(monkeypatch, sg, hs, n_neg, cbow_mean,
                                                      mode, workers):
    """A whole multi-epoch run, one or two workers, every objective and mode: the locked
    words' rows are bit for bit their start, every other word's row has moved."""
    locked = ["w0", "w1", "w5", "w17", "w33"]  # frequent and rare words
    start, model = start_and_end(monkeypatch, lock=locked, sg=sg, hs=hs, n_neg=n_neg,
                                 cbow_mean=cbow_mean, mode=mode, workers=workers)
    rows = np.array([model.w2i[w] for w in locked])
    np.testing.assert_array_equal(model.W_in[rows], start[rows])
    others = np.setdiff1d(np.arange(len(model.vocab)), rows)
    assert (np.abs(model.W_in[others] - start[others]).max(axis=1) > 0).all()
    assert model.lockf.dtype == np.float32 and model.lockf[rows].max() == 0
    assert model.lockf[others].min() == 1


def test_the_forms_of_lock_agree(monkeypatch):
    """Words, a boolean mask and float factors of 0 lock the same rows the same way."""
    _, by_words = start_and_end(monkeypatch, lock=("w3", "w4"), workers=1)
    V = len(by_words.vocab)
    mask = np.zeros(V, bool)
    mask[[by_words.w2i["w3"], by_words.w2i["w4"]]] = True
    _, by_mask = start_and_end(monkeypatch, lock=mask, workers=1)
    _, by_factors = start_and_end(monkeypatch, lock=list(np.where(mask, 0.0, 1.0)), workers=1)
    _, by_map = start_and_end(monkeypatch, lock={"w3": 0, "w4": 0.0}, workers=1)
    for other in (by_mask, by_factors, by_map):
        np.testing.assert_array_equal(by_words.W_in, other.W_in)
        np.testing.assert_array_equal(by_words.lockf, other.lockf)
    _, half = start_and_end(monkeypatch, lock={"w3": 0.5}, workers=1)
    assert half.lockf[half.w2i["w3"]] == 0.5 and half.lockf.sum() == V - 0.5
    # all ones: the same weights as no lock at all
    _, ones = start_and_end(monkeypatch, lock=np.ones(V), workers=1)
    _, plain = start_and_end(monkeypatch, workers=1)
    np.testing.assert_array_equal(ones.W_in, plain.W_in)
    assert plain.lockf is None


def test_lock_init_keeps_the_pretrained_rows(monkeypatch):
    rng = np.random.default_rng(7)
    words = [f"w{i}" for i in range(10)] + ["absent"]
    pre = Vectors(words, (rng.standard_normal((11, 8)) + 3).astype(np.float32))
    for kw in ({"lock_init": True}, {"lock": "init"}):
        start, model = start_and_end(monkeypatch, init_vectors=pre, workers=2, **kw)
        for i, word in enumerate(model.vocab):
            if word in pre:
                np.testing.assert_array_equal(model.wv[word], pre[word])
                assert model.lockf[i] == 0
            else:
                assert model.lockf[i] == 1 and not np.array_equal(model.W_in[i], start[i])


def never_read():
    raise AssertionError("the corpus was read")
    yield


def test_bad_locks_are_refused_before_the_corpus_is_read():
    model = Word2Vec.from_corpus(sentences(), **KW, workers=1)
    V = len(model.vocab)
    cases = [
        (np.ones(V - 1), ValueError, f"lock has {V - 1} entries, the vocabulary {V}"),
        (np.full(V, np.nan), ValueError, r"lock's factors must be in \[0, 1\].*nan"),
        (np.full(V, 2.0), ValueError, r"lock\[0\] = 2.0"),
        (np.full(V, -1), ValueError, r"lock\[0\] = -1"),
        (np.ones((V, 1)), ValueError, "lock must be one-dimensional"),
        (np.ones(V, complex), ValueError, "lock must hold factors.*complex"),
        ("w3", ValueError, r"lock must be .*to lock one word, pass \['w3'\]"),
        (["w3", 1.0], ValueError, "lock mixes words and numbers"),
        (3.0, ValueError, "lock must be"),
        (["w3", "nosuchword"], KeyError, "nosuchword"),
        ({"nosuchword": 0.5}, KeyError, "nosuchword"),
        ({"w3": 1.5}, ValueError, r"lock\['w3'\] = 1.5"),
        ({"w3": float("nan")}, ValueError, r"lock\['w3'\] = nan"),
        ({"w3": "0"}, ValueError, r"lock's factors must be numbers"),
        ({3: 0.0}, ValueError, "lock's keys must be words"),
        ("init", ValueError, "lock='init' applies to from_corpus"),
    ]
    for lock, error, match in cases:
        with pytest.raises(error, match=match):
            model.train(never_read(), lock=lock, workers=1)
        assert model.lockf is None
    # from_corpus: what needs no vocabulary, before the corpus is read
    for kw, match in (({"lock": np.full(3, np.nan)}, "lock's factors"),
                      ({"lock_init": True}, "pass init_vectors= too"),
                      ({"lock": ["w1"], "lock_init": True}, "cannot be combined"),
                      ({"lock_init": "yes"}, "lock_init must be True or False")):
        with pytest.raises(ValueError, match=match):
            Word2Vec.from_corpus(never_read(), **KW, **kw)
    # ... the length and the words once the vocabulary is built, before training
    with pytest.raises(KeyError, match="nosuchword"):
        Word2Vec.from_corpus(sentences(), **KW, lock=["nosuchword"])
    with pytest.raises(ValueError, match="lock has 3 entries"):
        Word2Vec.from_corpus(sentences(), **KW, lock=np.zeros(3))


def test_lockf_is_kept_saved_grown_and_used_by_train_calls(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _, model = start_and_end(monkeypatch, lock=["w0", "w2"], workers=1)
    model.save("m.cw2v")
    loaded = Word2Vec.load("m.cw2v")
    np.testing.assert_array_equal(loaded.lockf, model.lockf)
    # a later train() call keeps the model's factors...
    before = loaded.W_in.copy()
    loaded.train(sentences(), epochs=1, workers=2)
    rows = [loaded.w2i["w0"], loaded.w2i["w2"]]
    np.testing.assert_array_equal(loaded.W_in[rows], before[rows])
    # ... and train_pair honours them
    loaded.train_pair(rows[0], 5)
    np.testing.assert_array_equal(loaded.W_in[rows], before[rows])
    # train(lock=...) replaces them (checked against the vocabulary before it grows); new words
    # get the factor 1
    V = len(loaded.vocab)
    loaded.train([["w1", "new", "new", "w3"]] * 20, epochs=1, workers=1, lock=["w1"],
                 update_vocab=True)
    assert loaded.lockf.shape == (V + 1,) and loaded.lockf[loaded.w2i["new"]] == 1
    assert loaded.lockf[loaded.w2i["w1"]] == 0 and loaded.lockf[rows].min() == 1
    # a corrupt saved lockf is refused naming the file
    meta, arrays = model._export_state()
    arrays["lockf"] = np.full(len(model.vocab), 3.0, np.float32)
    from cw2v import io
    io.save_arrays("bad.cw2v", meta, arrays)
    with pytest.raises(ValueError, match=r"bad\.cw2v.*lockf"):
        Word2Vec.load("bad.cw2v")


def test_a_checkpoint_keeps_the_lock(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _, model = start_and_end(monkeypatch, lock=["w0"], workers=1, checkpoint="run.ckpt")
    saved = checkpoint.read("run.ckpt", Word2Vec)
    np.testing.assert_array_equal(saved.model.lockf, model.lockf)


def test_the_command_line_takes_lock_init(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # relative paths, outputs beside inputs
    (tmp_path / "c.txt").write_text("\n".join(" ".join(s) for s in sentences()) + "\n")
    rng = np.random.default_rng(7)
    pre = Vectors([f"w{i}" for i in range(10)],
                  (rng.standard_normal((10, 8)) + 3).astype(np.float32))
    pre.save_word2vec_format("pre.bin", binary=True)
    args = ["train", "c.txt", "-o", "out.bin", "--binary", "--d", "8", "--min-count", "1",
            "--epochs", "2", "--workers", "2", "--no-cache", "--init-vectors", "pre.bin",
            "--lock-init"]
    assert cli.main(args) == 0
    out = cli.load_vectors("out.bin")
    for word in pre.vocab:
        np.testing.assert_array_equal(out[word], pre[word])
    capsys.readouterr()
    assert cli.main(args[:-3] + ["--lock-init"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--lock-init" in err and "--init-vectors" in err


@pytest.mark.parametrize("rule", ["bmuf", "average"])
def test_locked_rows_stay_in_distributed_training(rule):
    """train_rank (two ranks in one process) passes the lock factors to the kernel: the locked
    rows come out bit-identical on every rank, the others move."""
    from cw2v import comm, corpus, distributed
    rng = np.random.default_rng(1)
    words = [f"w{i}" for i in range(40)]
    sentences = [[words[i] for i in rng.integers(40, size=10)] for _ in range(1200)]
    vocab, _ = corpus.build(sentences, min_count=1)
    shards = [corpus.encode(sentences[:600], vocab), corpus.encode(sentences[600:], vocab)]
    mask = np.zeros(len(vocab.words), dtype=bool)
    mask[::3] = True
    models = []
    for _ in range(2):
        m = Word2Vec.from_vocabulary(vocab, d=8, seed=2, workers=1, epochs=2)
        m.lockf = np.where(mask, 0.0, 1.0).astype(np.float32)
        models.append(m)
    before = models[0].W_in.copy()
    comm.LocalGroup(2).run(lambda c: distributed.train_rank(models[c.rank], shards[c.rank], c,
                                                            rule=rule, sync_tokens=1_000))
    for m in models:
        np.testing.assert_array_equal(m.W_in[mask], before[mask])
        assert (m.W_in[~mask] != before[~mask]).any(axis=1).all()
