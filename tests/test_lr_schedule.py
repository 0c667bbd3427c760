"""One learning-rate schedule across several train() calls (issue 31): start_lr / end_lr
(gensim's start_alpha / end_alpha), and total_epochs / start_epoch, so that a loop of calls
decays once, span for span and (one worker) weight for weight as one call does."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import RecordingKernel as Recording

import cw2v.model
from cw2v import Word2Vec, corpus, io, params

KW = dict(d=8, workers=1, seed=3, window=2, n_neg=2, sample=0)


def sentences(n: int = 6000) -> list[list[str]]:
    rng = np.random.default_rng(0)
    return [[f"w{j % 50}" for j in rng.zipf(1.5, 12)] for _ in range(n)]


@pytest.fixture(scope="module")
def encoded():
    # 72,000 tokens: two spans an epoch
    return corpus.build(sentences(), min_count=1, cache_dir=None)


def same_weights(a, b) -> bool:
    return np.array_equal(a.W_in, b.W_in) and np.array_equal(a.W_out, b.W_out)


@pytest.mark.parametrize("bounds", [{}, dict(start_lr=0.05, end_lr=0.002)])
def test_a_loop_of_calls_is_one_call_span_for_span_and_bit_for_bit(encoded, monkeypatch,
                                                                   bounds):
    vocab, enc = encoded
    one_rec, loop_rec = Recording(), Recording()
    monkeypatch.setattr(cw2v.model, "_kernel", one_rec)
    one = Word2Vec.from_vocabulary(vocab, **KW)
    one.train(enc, epochs=4, **bounds)
    monkeypatch.setattr(cw2v.model, "_kernel", loop_rec)
    loop = Word2Vec.from_vocabulary(vocab, **KW)
    for e in range(4):
        loop.train(enc, epochs=1, start_epoch=e, total_epochs=4, **bounds)
    assert len(one_rec.spans) == 8
    assert loop_rec.spans == one_rec.spans  # every span's learning rates, exactly
    lrs = [s[1] for s in one_rec.spans]
    assert lrs == sorted(lrs, reverse=True) and lrs[0] == bounds.get("start_lr", 0.025)
    assert one_rec.spans[-1][2] == pytest.approx(bounds.get("end_lr", 1e-4), rel=1e-12)
    assert [s.lr for s in loop.epoch_history] == [s.lr for s in one.epoch_history]
    assert same_weights(loop, one)


def test_the_loop_survives_a_save_and_load_between_calls(encoded, tmp_path):
    vocab, enc = encoded
    one = Word2Vec.from_vocabulary(vocab, **KW)
    one.train(enc, epochs=2)
    first = Word2Vec.from_vocabulary(vocab, **KW)
    first.train(enc, epochs=1, total_epochs=2)
    first.save(tmp_path / "half.cw2v")  # the generators' states are saved with the model
    second = Word2Vec.load(tmp_path / "half.cw2v")
    second.train(enc, epochs=1, start_epoch=1, total_epochs=2)
    assert same_weights(second, one)


def test_start_and_end_lr_bound_one_call_gensim_style(encoded, monkeypatch):
    vocab, enc = encoded
    rec = Recording()
    monkeypatch.setattr(cw2v.model, "_kernel", rec)
    m = Word2Vec.from_vocabulary(vocab, **KW)
    stats = m.train(enc, epochs=2, start_lr=0.01, end_lr=0.004)
    assert rec.spans[0][1] == 0.01 and rec.spans[-1][2] == pytest.approx(0.004, rel=1e-12)
    assert stats[-1].lr == pytest.approx(0.004, rel=1e-12)
    # they apply to that call only: the next one decays from lr to min_lr again
    assert all(m.config[name] == params.default(name) for name in params.per_call())
    rec.spans.clear()
    m.train(enc, epochs=1)
    assert rec.spans[0][1] == 0.025 and rec.spans[-1][2] == pytest.approx(1e-4, rel=1e-12)


def test_without_a_schedule_each_call_starts_again_at_lr(encoded, monkeypatch):
    """The default keeps what a call did before: its own decay from lr to min_lr."""
    vocab, enc = encoded
    rec = Recording()
    monkeypatch.setattr(cw2v.model, "_kernel", rec)
    m = Word2Vec.from_vocabulary(vocab, **KW)
    m.train(enc, epochs=1)
    m.train(enc, epochs=1)
    assert rec.spans[0][1] == rec.spans[2][1] == 0.025


@pytest.mark.parametrize("bad,match", [
    (dict(start_lr=0.01, end_lr=0.02), "end_lr"),
    (dict(start_lr=0.00005), "end_lr"),  # below min_lr, the default end
    (dict(start_lr=0), "start_lr"), (dict(end_lr=-1), "end_lr"),
    (dict(epochs=2, start_epoch=3, total_epochs=4), "total_epochs"),
    (dict(epochs=5, total_epochs=4), "total_epochs"), (dict(total_epochs=0), "total_epochs"),
    (dict(start_epoch=-1), "start_epoch")])
def test_a_bad_schedule_is_refused_before_the_corpus_is_read(tmp_path, bad, match):
    missing = tmp_path / "no-such-corpus.txt"
    with pytest.raises(ValueError, match=match):
        Word2Vec.from_corpus(missing, **bad)
    model = Word2Vec.from_corpus(sentences(50), min_count=1, d=4, epochs=1, workers=1)
    with pytest.raises(ValueError, match=match):
        model.train(missing, **bad)


def test_a_checkpointed_call_of_a_schedule_resumes_on_it(tmp_path):
    """The schedule's bounds are in the checkpoint's settings; the resumed run goes on along
    them to the uninterrupted call's weights (one worker: bit for bit)."""
    path = tmp_path / "c.txt"
    path.write_text("\n".join(" ".join(s) for s in sentences()) + "\n")
    kw = dict(KW, min_count=1, epochs=2, start_epoch=1, total_epochs=5, start_lr=0.03,
              end_lr=0.001, progress=False)
    whole = Word2Vec.from_corpus(path, **kw)

    def stop(model, stats):
        raise KeyboardInterrupt

    ckpt = tmp_path / "run.ckpt"
    Word2Vec.from_corpus(path, checkpoint=ckpt, callbacks=[stop], **kw)
    saved = io.load_arrays(ckpt)[0]["checkpoint"]["settings"]
    assert (saved["start_lr"], saved["end_lr"], saved["start_epoch"], saved["total_epochs"]) \
        == (0.03, 0.001, 1, 5)
    resumed = Word2Vec.resume(ckpt, path, progress=False)
    assert same_weights(resumed, whole)
    assert [s.lr for s in resumed.epoch_history] == [s.lr for s in whole.epoch_history]


def test_a_model_file_with_bad_generator_states_is_refused_naming_it(encoded, tmp_path):
    vocab, enc = encoded
    m = Word2Vec.from_vocabulary(vocab, **KW)
    m.train(enc, epochs=1)
    m.save(tmp_path / "m.cw2v")
    meta, arrays = io.load_arrays(tmp_path / "m.cw2v")
    assert len(meta["run_rng_states"]) == 1
    meta["run_rng_states"] = [-1]
    io.save_arrays(tmp_path / "m.cw2v", meta, {k: np.array(v) for k, v in arrays.items()})
    with pytest.raises(ValueError, match=r"m\.cw2v.*run_rng_states"):
        Word2Vec.load(tmp_path / "m.cw2v")
