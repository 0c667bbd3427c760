"""Corpus training: the threaded trainer, its schedule, callbacks, interruption and bad input."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest
from conftest import RecordingKernel

import cw2v
from cw2v import StopTraining, Word2Vec, corpus, params, trainer
from cw2v._simd import kernel as _kernel
from cw2v.corpus import EncodedCorpus
from cw2v.trainer import make_spans, span_edges

TOPICS = [
    "king queen prince princess crown throne palace royal castle knight".split(),
    "dog cat mouse horse cow sheep pig goat rabbit bird".split(),
    "red green blue yellow purple orange black white pink brown".split(),
]


def topic_corpus(n_sentences: int = 3000, seed: int = 0):
    """Sentences of 12 words, each drawn from one topic: words of a topic share contexts."""
    rng = np.random.default_rng(seed)
    for _ in range(n_sentences):
        topic = TOPICS[rng.integers(len(TOPICS))]
        yield [topic[i] for i in rng.integers(0, len(topic), 12)]


def topic_separation(model) -> float:
    """Mean cosine within topics minus mean cosine across topics."""
    u = model.unit_vectors
    groups = [[model.w2i[w] for w in t] for t in TOPICS]
    within = np.mean([(u[g] @ u[g].T)[np.triu_indices(len(g), 1)].mean() for g in groups])
    across = np.mean([(u[a] @ u[b].T).mean() for i, a in enumerate(groups)
                      for b in groups[i + 1:]])
    return float(within - across)


FAST = dict(d=20, window=3, min_count=1, n_neg=5, sample=0, epochs=3, seed=7, progress=False)


@pytest.mark.parametrize("mode", ["exact", "batched"])
@pytest.mark.parametrize("workers", [1, 2])
def test_training_learns_topics(mode, workers):
    m = Word2Vec.from_corpus(topic_corpus(), mode=mode, workers=workers, **FAST)
    assert len(m.vocab) == 30
    assert topic_separation(m) > 0.3
    # Before training the same measure is about zero.
    assert abs(topic_separation(Word2Vec(m.vocab, d=20, seed=1))) < 0.1


def test_epoch_figures_and_loss_history():
    seen = []
    m = Word2Vec.from_corpus(topic_corpus(), callbacks=[lambda model, s: seen.append(s)], **FAST)
    assert [s.epoch for s in seen] == [1, 2, 3]
    assert m.loss_history == [s.loss for s in seen]
    assert all(np.isfinite(s.loss) and s.loss > 0 for s in seen)
    assert seen[-1].loss < seen[0].loss  # it learns
    assert all(s.words == 3000 * 12 and s.kept_words == s.words for s in seen)
    # Windows of 1..3 in sentences of 12: between 22 and 66 pairs a sentence.
    assert all(3000 * 22 <= s.pairs <= 3000 * 66 for s in seen)
    assert seen[-1].lr == pytest.approx(1e-4)
    assert seen[0].lr == pytest.approx(0.025 - (0.025 - 1e-4) / 3)


def test_subsampling_keeps_fewer_words():
    stats = []
    Word2Vec.from_corpus(topic_corpus(), **{**FAST, "sample": 1e-3, "epochs": 1},
                         callbacks=[lambda m, s: stats.append(s)])
    assert 0 < stats[0].kept_words < 0.8 * stats[0].words


def test_single_worker_is_bit_reproducible():
    a = Word2Vec.from_corpus(topic_corpus(), workers=1, **FAST)
    b = Word2Vec.from_corpus(topic_corpus(), workers=1, **FAST)
    c = Word2Vec.from_corpus(topic_corpus(), workers=1, **{**FAST, "seed": 8})
    np.testing.assert_array_equal(a.W_in, b.W_in)
    np.testing.assert_array_equal(a.W_out, b.W_out)
    assert a.loss_history == b.loss_history
    assert not np.array_equal(a.W_in, c.W_in)


def test_callback_can_stop_training(caplog):
    def stop_after_first(model, stats):
        if stats.epoch == 1:
            raise StopTraining

    m = Word2Vec.from_corpus(topic_corpus(), callbacks=[stop_after_first], **FAST)
    assert len(m.loss_history) == 1
    assert "callback" in m.training_stopped


def test_keyboard_interrupt_keeps_a_usable_model(caplog):
    def interrupt(model, stats):
        raise KeyboardInterrupt

    with caplog.at_level(logging.WARNING, logger="cw2v.trainer"):
        m = Word2Vec.from_corpus(topic_corpus(), callbacks=[interrupt], **FAST)
    assert "interrupted" in m.training_stopped and "epoch 1 of 3" in m.training_stopped
    assert any("interrupted" in r.message for r in caplog.records)
    assert len(m.most_similar("king", k=3)) == 3
    assert np.all(np.isfinite(m.W_in))


def test_continue_training_skips_unknown_words():
    m = Word2Vec.from_corpus(topic_corpus(500), **FAST)
    before = m.W_in.copy()
    stats = m.train([["king", "queen", "unicorn", "castle"]] * 200, epochs=2)
    assert len(stats) == 2 and stats[0].words == 600
    assert not np.array_equal(before, m.W_in)
    assert len(m.loss_history) == 5


def test_most_similar_with_positive_and_negative():
    m = Word2Vec.from_corpus(topic_corpus(), **FAST)
    top = m.most_similar(positive=["king", "dog"], negative=["queen"], k=5)
    assert len(top) == 5 and not {"king", "dog", "queen"} & {w for w, _ in top}


@pytest.mark.parametrize("kwargs, name", [
    (dict(window=0), "window"), (dict(sample=-1e-3), "sample"), (dict(epochs=0), "epochs"),
    (dict(workers=0), "workers"), (dict(min_lr=0.1, lr=0.01), "min_lr"), (dict(d=0), "d"),
    (dict(mode="fast"), "mode"), (dict(min_count=0), "min_count"), (dict(n_neg=-1), "n_neg"),
    (dict(mode="batched", window=40), "batched"),
])
def test_bad_training_parameters(kwargs, name):
    with pytest.raises(ValueError, match=name):
        Word2Vec.from_corpus(topic_corpus(10), **{**FAST, **kwargs})


def test_empty_and_too_rare_corpora():
    with pytest.raises(ValueError, match="empty"):
        Word2Vec.from_corpus([], **FAST)
    with pytest.raises(ValueError, match="min_count"):
        Word2Vec.from_corpus([["a", "b"], ["c"]], **{**FAST, "min_count": 5})


def test_missing_file():
    with pytest.raises(FileNotFoundError, match="no-such-corpus.txt"):
        Word2Vec.from_corpus("no-such-corpus.txt", **FAST)


def test_huge_n_neg_times_window_is_refused_not_a_crash(tmp_path):
    """Issue 15, bug 1: n_neg * window overflowed the kernel's C int sizes and crashed the
    process; now the kernel state refuses n_neg above MAX_NEG before allocating. Run in a
    subprocess, since the failure was a segfault."""
    script = textwrap.dedent("""
        from cw2v import Word2Vec
        try:
            Word2Vec.from_corpus([["a", "b", "c"]] * 50, n_neg=2**30, window=2, min_count=1,
                                 workers=1, epochs=1, progress=False)
        except ValueError as exc:
            print("ValueError:", exc)
    """)
    env = dict(os.environ)
    root = str(Path(cw2v.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    # cwd outside the checkout: ``python -c`` puts it first on sys.path (the source tree would
    # shadow the cw2v under test).
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ValueError: n_neg must be in"), out.stdout


def test_failed_thread_start_stops_the_started_workers(monkeypatch):
    """Issue 15, bug 6: when a worker thread fails to start, the ones already started are
    stopped and joined before the error is raised (they used to stay blocked forever)."""
    started = []
    real_start = threading.Thread.start

    def start(self):
        started.append(self)
        if len(started) == 3:
            raise RuntimeError("can't start new thread")
        real_start(self)

    monkeypatch.setattr(threading.Thread, "start", start)
    with pytest.raises(RuntimeError, match="can't start new thread"):
        Word2Vec.from_corpus(topic_corpus(100), **{**FAST, "workers": 4})
    monkeypatch.undo()
    assert len(started) == 3
    assert not [t for t in started if t.is_alive()]


def test_training_run_keeps_its_position_and_generators():
    """The run's state (epoch, words done, each worker's generator) for a future checkpoint;
    its result is applied by the model, not written by the run."""
    m = Word2Vec(TOPICS[0], d=8, seed=0)
    encoded = corpus.encode(topic_corpus(200), m.w2i)
    settings = params.settings(dict(epochs=2, window=3, sample=0, workers=2, mode="batched"))
    run = trainer.TrainingRun(_kernel, m.W_in, m.W_out, m.sigmoid_tables, m.noise_table,
                              m.counts, encoded, settings)
    before = run.rng_states
    assert len(before) == 2 and before[0] != before[1]
    seen = []
    result = run.run(on_epoch=seen.append)
    assert result.stopped is None and result.epochs == seen == run.history
    assert [s.epoch for s in seen] == [1, 2] and run.epoch == 2
    assert run.words_done == run.total_words == 2 * encoded.tokens.shape[0]
    assert all(a != b for a, b in zip(run.rng_states, before))
    assert m.loss_history == [] and m.epoch_history == []  # the model applies the result


def test_training_run_reports_a_stop():
    m = Word2Vec(TOPICS[0], d=8, seed=0)
    encoded = corpus.encode(topic_corpus(200), m.w2i)
    settings = params.settings(dict(epochs=3, window=3, sample=0, workers=1))

    def stop(stats):
        raise StopTraining

    run = trainer.TrainingRun(_kernel, m.W_in, m.W_out, m.sigmoid_tables, m.noise_table,
                              m.counts, encoded, settings)
    result = run.run(on_epoch=stop)
    assert len(result.epochs) == 1
    assert result.stopped == "a callback stopped training in epoch 1 of 3 (33.3% of words)"


def test_every_span_s_learning_rate_is_the_schedule_s_and_never_rises(monkeypatch):
    """lr_start of each span handed to a worker is lr - (lr - min_lr) * (tokens before it) /
    (all tokens of the run), across epochs: it never starts again at lr."""
    import cw2v.model

    recording = RecordingKernel()
    spans = recording.spans
    monkeypatch.setattr(cw2v.model, "_kernel", recording)
    lr, min_lr, epochs = 0.04, 0.001, 3
    m = Word2Vec.from_corpus(topic_corpus(9000), **{**FAST, "epochs": epochs, "lr": lr,
                                                     "min_lr": min_lr, "workers": 1})
    n_tokens = 9000 * 12
    assert sum(n for n, _, _ in spans) == epochs * n_tokens and len(spans) >= 3 * epochs
    before = 0
    for n, lr_start, lr_end in spans:
        assert lr_start == pytest.approx(lr - (lr - min_lr) * before / (epochs * n_tokens),
                                         rel=1e-12)
        before += n
        assert lr_end == pytest.approx(lr - (lr - min_lr) * before / (epochs * n_tokens),
                                       rel=1e-12)
    starts = [lr_start for _, lr_start, _ in spans]
    assert all(b <= a for a, b in zip(starts, starts[1:])) and starts[-1] < lr / 2
    assert m.epoch_history[-1].lr == pytest.approx(min_lr)


def test_a_run_restored_at_three_workers_has_every_generator_of_the_position(tmp_path,
                                                                            monkeypatch):
    """Each of the three workers' generators is put back from the checkpoint: the states
    themselves, not a loss within a tolerance."""
    import cw2v.model

    def stop(model, stats):
        raise KeyboardInterrupt

    kw = {**FAST, "workers": 3, "epochs": 2}
    ckpt = tmp_path / "run.ckpt"
    Word2Vec.from_corpus(topic_corpus(3000), checkpoint=ckpt, callbacks=[stop], **kw)
    meta, arrays = cw2v.io.load_arrays(ckpt)
    assert len(meta["checkpoint"]["position"]["rng_states"]) == 3
    saved = [11, 2**64 - 1, 33]  # none a fresh generator's
    meta["checkpoint"]["position"]["rng_states"] = saved
    cw2v.io.save_arrays(ckpt, meta, {k: np.array(v) for k, v in arrays.items()})

    restored = []
    original = trainer.TrainingRun.restore

    def restore(self, position):
        original(self, position)
        restored.append(self.rng_states)

    monkeypatch.setattr(trainer.TrainingRun, "restore", restore)
    Word2Vec.resume(ckpt, topic_corpus(3000), progress=False)
    assert restored == [saved]
    # and at the trainer itself: three given states, three states restored
    m = Word2Vec(TOPICS[0], d=8, seed=0)
    settings = params.settings(dict(epochs=2, window=3, sample=0, workers=3))
    run = trainer.TrainingRun(_kernel, m.W_in, m.W_out, m.sigmoid_tables, m.noise_table,
                              m.counts, corpus.encode(topic_corpus(200), m.w2i), settings)
    position = run.position()
    position.epoch, position.span, position.rng_states = 1, 0, [11, 2**64 - 1, 33]
    run.restore(position)
    assert run.rng_states == [11, 2**64 - 1, 33]


def test_callbacks_see_the_epoch_already_applied():
    lengths = []
    m = Word2Vec.from_corpus(topic_corpus(300), **FAST,
                             callbacks=[lambda model, s: lengths.append(
                                 (len(model.epoch_history), len(model.loss_history)))])
    assert lengths == [(1, 1), (2, 2), (3, 3)] and len(m.epoch_history) == 3


# -- spans --------------------------------------------------------------------------------------

def test_span_edges_cut_at_sentences_when_possible():
    offsets = np.array([0, 4000, 9000, 12000, 40000], dtype=np.int64)
    edges = span_edges(offsets, 40000, span_tokens=10000)
    assert edges[0] == 0 and edges[-1] == 40000
    assert np.all(np.diff(edges) > 0) and np.all(np.diff(edges) <= 10000)
    assert 9000 in edges  # a sentence end in the last half of the span is used


def test_spans_cover_the_corpus_once():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 30000, 50)
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    tokens = rng.integers(0, 100, offsets[-1]).astype(np.int32)
    spans = make_spans(EncodedCorpus(tokens, offsets, int(offsets[-1])))
    np.testing.assert_array_equal(np.concatenate([t for t, _ in spans]), tokens)
    for t, bounds in spans:
        assert bounds[0] == 0 and bounds[-1] == len(t) and np.all(np.diff(bounds) > 0)
    # Every sentence start is a boundary of the span holding it.
    starts = set()
    pos = 0
    for t, bounds in spans:
        starts.update((pos + bounds[:-1]).tolist())
        pos += len(t)
    assert set(offsets[:-1].tolist()) <= starts


# -- the real corpus ----------------------------------------------------------------------------

@pytest.mark.corpus
@pytest.mark.parametrize("mode", ["exact", "batched"])
def test_real_corpus_quality(mode):
    """Train on the first 1M tokens of wiki8 as gensim would (d=100, window 5, 5 noise words,
    sample 1e-3, 5 epochs). Calibration, gensim 4.4 with the same settings: WordSim-353
    Spearman 0.296; cw2v measured 0.303 (exact) and 0.334 (batched). The thresholds leave room
    for thread timing and seeds, but an untrained or broken model (Spearman ~0.0-0.1, random
    neighbours) fails them."""
    from conftest import shared_file

    from cw2v import evaluate

    corpus = shared_file("corpus/wiki8-1m.txt.xz")
    pairs = shared_file("eval/wordsim353.tsv")
    m = Word2Vec.from_corpus(corpus, d=100, window=5, n_neg=5, sample=1e-3, min_count=5,
                             epochs=5, workers=2, mode=mode, seed=1, progress=False)
    assert len(m.vocab) == 13679
    assert m.raw_words == 1_000_000
    assert all(np.isfinite(m.loss_history)) and m.loss_history[-1] < m.loss_history[0]
    assert evaluate.word_pairs(m, pairs).spearman > 0.22
    countries = {"italy", "germany", "spain", "russia", "poland", "belgium", "england"}
    assert len(countries & {w for w, _ in m.most_similar("france", k=5)}) >= 2
    assert {"emperor", "son", "ruler", "darius", "queen"} & {w for w, _ in m.most_similar("king", k=10)}


def test_continue_training_a_drop_in_model_keeps_row_order():
    """A model whose vocabulary is not in frequency order (the classic class's sorted list)
    trains on a corpus with rows still belonging to their words."""
    m = Word2Vec(["zebra", "apple", "mango"], d=8, seed=0)
    m.config["min_count"] = 1
    before = m.W_in.copy()
    m.train([["zebra", "zebra", "unknown"]] * 50, epochs=1, workers=1, sample=0)
    changed = np.flatnonzero(np.any(m.W_in != before, axis=1))
    assert changed.tolist() == [0]


# -- stress: threads ------------------------------------------------------------------------------

def test_queries_from_several_threads_while_training_runs():
    """Three threads query while two workers train: no error, and the queries after training
    see the final weights (the norm cache is never left stale)."""
    from cw2v import Vectors

    m = Word2Vec.from_corpus(topic_corpus(300), **{**FAST, "epochs": 1})
    sentences = list(topic_corpus(6000, seed=1))
    done = threading.Event()
    errors: list[BaseException] = []
    queries = [0]

    def query(word: str) -> None:
        try:
            while not done.is_set():
                m.most_similar(word, k=3)
                m.similarity(word, "queen")
                m.wv.most_similar(positive=[word, "cat"], negative=["red"], topn=2)
                queries[0] += 1
        except BaseException as exc:  # reported below
            errors.append(exc)

    def train() -> None:
        try:
            m.train(sentences, epochs=3, workers=2, progress=False)
        except BaseException as exc:
            errors.append(exc)
        finally:
            done.set()

    threads = [threading.Thread(target=query, args=(w,)) for w in ("king", "dog", "blue")]
    threads.append(threading.Thread(target=train))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert queries[0] > 10
    fresh = Vectors(m.vocab, m.W_in.copy())
    for word in ("king", "dog", "blue"):
        assert m.most_similar(word, k=5) == fresh.most_similar(word, k=5)
        assert m.similarity(word, "cat") == pytest.approx(fresh.similarity(word, "cat"),
                                                          abs=1e-6)


def test_separate_models_train_in_parallel_threads_as_alone():
    """Three models trained at once from three threads (one worker each) end exactly as each
    does alone: their kernel states, generators and weights share nothing."""
    sentences = list(topic_corpus(2000))
    alone = [Word2Vec.from_corpus(sentences, **{**FAST, "seed": s, "workers": 1})
             for s in (1, 2, 3)]
    together: dict[int, Word2Vec] = {}
    errors: list[BaseException] = []

    def train(seed: int) -> None:
        try:
            together[seed] = Word2Vec.from_corpus(sentences, **{**FAST, "seed": seed,
                                                                "workers": 1})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=train, args=(s,)) for s in (1, 2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    for seed, model in zip((1, 2, 3), alone):
        assert np.array_equal(together[seed].W_in, model.W_in)
        assert np.array_equal(together[seed].W_out, model.W_out)
