"""Checkpoints and resume: a run killed at any moment continues to the same weights (one
worker: bit for bit), a diverging run stops with a clear error, bad checkpoints are refused."""
from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from cw2v import Word2Vec, checkpoint, io, params, trainer
from cw2v.trainer import TrainingDivergedError

# A corpus of 6 spans (300k tokens), small enough to train in about a second per run.
KW = dict(d=16, min_count=1, epochs=3, workers=1, seed=3, window=3, sample=0)


def zipf_corpus(n_sentences: int = 300, length: int = 1000, seed: int = 0) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    return [[f"w{j % 300}" for j in rng.zipf(1.3, length)] for _ in range(n_sentences)]


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "zipf.txt"
    path.write_text("\n".join(" ".join(s) for s in zipf_corpus()) + "\n")
    return path


@pytest.fixture(scope="module")
def uninterrupted(corpus_file) -> Word2Vec:
    return Word2Vec.from_corpus(corpus_file, progress=False, **KW)


def same_weights(a: Word2Vec, b: Word2Vec) -> bool:
    return np.array_equal(a.W_in, b.W_in) and np.array_equal(a.W_out, b.W_out)


# -- resuming exactly --------------------------------------------------------------------------

CHILD = textwrap.dedent("""
    import os, sys
    from cw2v import Word2Vec
    corpus, ckpt, kw = sys.argv[1], sys.argv[2], eval(sys.argv[3])
    if os.path.exists(ckpt):
        m = Word2Vec.resume(ckpt, corpus, progress=False)
    else:
        m = Word2Vec.from_corpus(corpus, checkpoint=ckpt, checkpoint_every=0, progress=False,
                                 **kw)
    m.save(sys.argv[4])
""")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="kills with SIGKILL (POSIX)")
def test_sigkill_at_random_moments_then_resume_is_bit_identical(corpus_file, tmp_path):
    """workers=1: SIGKILL at random moments (checkpoints before every span, so also mid-save),
    resuming each time from what is on disk, ends with the uninterrupted run's weights."""
    kw = {**KW, "epochs": 8}  # about 2 s of training in the child on a 2-core VM
    ckpt, out = tmp_path / "run.ckpt", tmp_path / "final.cw2v"
    args = [sys.executable, "-c", CHILD, str(corpus_file), str(ckpt), repr(kw), str(out)]
    # The kill moments are fractions of an uninterrupted child's wall time on this machine, so
    # the runs are killed on a fast machine as on a slow one: two kills at 25-45% of it leave
    # each resumed child more than half a run to do, so each is killed before it ends.
    timed = [*args[:4], str(tmp_path / "timed.ckpt"), repr(kw), str(tmp_path / "timed.cw2v")]
    start = time.perf_counter()
    subprocess.run(timed, cwd=tmp_path, check=True, capture_output=True, timeout=120)
    whole_run_s = time.perf_counter() - start
    rng = np.random.default_rng(int.from_bytes(os.urandom(4), "little"))
    delays, kills = [], 0
    while not out.exists() and kills < 3:
        child = subprocess.Popen(args, cwd=tmp_path, stderr=subprocess.PIPE)
        delays.append(round(float(rng.uniform(0.25, 0.45)) * whole_run_s, 2))
        try:
            child.wait(timeout=delays[-1])
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGKILL)
            child.wait()
            kills += 1
    if not out.exists():
        done = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    assert kills >= 2, (f"the runs ended before they could be killed (delays {delays}, "
                        f"an uninterrupted run {whole_run_s:.2f} s)")
    whole = Word2Vec.from_corpus(corpus_file, progress=False, **kw)
    resumed = Word2Vec.load(out)
    assert same_weights(Word2Vec.load(tmp_path / "timed.cw2v"), whole)
    assert same_weights(resumed, whole), f"kill delays {delays}"
    assert resumed.loss_history == whole.loss_history, f"kill delays {delays}"


def test_ctrl_c_mid_epoch_writes_a_checkpoint_that_resumes_exactly(corpus_file, uninterrupted,
                                                                  tmp_path, monkeypatch):
    """The first Ctrl-C stops between spans and writes the checkpoint; resuming it (one
    worker) ends where an uninterrupted run ends."""
    ckpt = tmp_path / "run.ckpt"
    positions = []
    record = trainer.TrainingRun._record

    def record_then_interrupt(run, out):  # a real SIGINT once epoch 2's first span is done,
        record(run, out)                   # on a fast machine as on a slow one (a timer set
        if run.epoch == 2 and run.span == 1:  # at epoch 1's end can land after the last span
            os.kill(os.getpid(), signal.SIGINT)  # of epoch 2 was handed out)

    monkeypatch.setattr(trainer.TrainingRun, "_record", record_then_interrupt)
    m = Word2Vec.from_corpus(corpus_file, checkpoint=ckpt, checkpoint_every=math.inf,
                             progress=False, **KW)
    monkeypatch.undo()
    assert m.training_stopped.startswith("interrupted in epoch 2 of 3")
    saved = checkpoint.read(ckpt, Word2Vec)
    positions.append((saved.position.epoch, saved.position.span))
    assert saved.position.epoch == 2 and 0 < saved.position.span < 6, positions
    assert same_weights(saved.model, m)
    resumed = Word2Vec.resume(ckpt, corpus_file, progress=False)
    assert resumed.training_stopped is None
    assert same_weights(resumed, uninterrupted)
    assert [s.epoch for s in resumed.epoch_history] == [1, 2, 3]
    assert resumed.loss_history == uninterrupted.loss_history


def test_resume_with_two_workers_trains_as_well(corpus_file, tmp_path):
    """Hogwild runs are not deterministic; a resumed two-worker run reaches the loss of an
    uninterrupted one."""
    kw = {**KW, "workers": 2}
    whole = Word2Vec.from_corpus(corpus_file, progress=False, **kw)

    def stop_after_first(model, stats):
        raise KeyboardInterrupt

    ckpt = tmp_path / "run.ckpt"
    part = Word2Vec.from_corpus(corpus_file, checkpoint=ckpt, callbacks=[stop_after_first],
                                progress=False, **kw)
    assert part.training_stopped.startswith("interrupted in epoch 1 of 3")
    resumed = Word2Vec.resume(ckpt, corpus_file, progress=False)
    assert len(resumed.epoch_history) == 3
    last_whole = whole.epoch_history[-1].loss_per_pair
    last_resumed = resumed.epoch_history[-1].loss_per_pair
    assert abs(last_resumed - last_whole) < 0.01 * last_whole
    # A different worker count continues too (fresh generators), to the same quality.
    again = Word2Vec.resume(tmp_path / "run.ckpt", corpus_file, progress=False, workers=1)
    assert again.training_stopped is None  # the finished run: nothing left to do
    assert same_weights(again, resumed)


def test_checkpoint_after_each_epoch_and_of_a_finished_run(corpus_file, uninterrupted,
                                                           tmp_path):
    ckpt = tmp_path / "run.ckpt"
    seen = []

    def look(model, stats):
        seen.append(checkpoint.read(ckpt, Word2Vec).position.epoch if ckpt.exists() else None)

    m = Word2Vec.from_corpus(corpus_file, checkpoint=ckpt, checkpoint_every=math.inf,
                             callbacks=[look], progress=False, **KW)
    # The callback runs before the epoch's checkpoint: it sees the previous epoch's.
    assert seen == [None, 1, 2]
    final = checkpoint.read(ckpt, Word2Vec)
    assert (final.position.epoch, final.position.span) == (3, 6)
    assert same_weights(final.model, m) and same_weights(m, uninterrupted)
    # Word2Vec.load reads a checkpoint as the model it holds.
    assert same_weights(Word2Vec.load(ckpt), m)
    done = Word2Vec.resume(ckpt, corpus_file, progress=False)
    assert same_weights(done, m) and len(done.epoch_history) == 3


def test_a_raising_callback_keeps_the_epoch_s_checkpoint(corpus_file, uninterrupted,
                                                       tmp_path):
    """The end-of-epoch checkpoint is written even when a callback raises; the run resumes
    from it to the uninterrupted weights."""
    ckpt = tmp_path / "run.ckpt"

    def fail(model, stats):
        if stats.epoch == 2:
            raise RuntimeError("a broken callback")

    with pytest.raises(RuntimeError, match="a broken callback"):
        Word2Vec.from_corpus(corpus_file, checkpoint=ckpt, checkpoint_every=math.inf,
                             callbacks=[fail], progress=False, **KW)
    saved = checkpoint.read(ckpt, Word2Vec)
    assert (saved.position.epoch, saved.position.span) == (2, 6)
    assert len(saved.model.loss_history) == 2
    assert same_weights(Word2Vec.resume(ckpt, corpus_file, progress=False), uninterrupted)


def test_train_writes_checkpoints_too(corpus_file, tmp_path):
    m = Word2Vec.from_corpus(corpus_file, progress=False, **{**KW, "epochs": 1})
    ckpt = tmp_path / "more.ckpt"
    m.train(corpus_file, epochs=2, checkpoint=ckpt, progress=False)
    saved = checkpoint.read(ckpt, Word2Vec)
    assert (saved.position.epoch, saved.settings.epochs) == (2, 2)
    assert len(saved.model.loss_history) == 3 and same_weights(saved.model, m)


# -- refusals ------------------------------------------------------------------------------------

def test_resume_refuses_another_corpus(corpus_file, tmp_path):
    ckpt = tmp_path / "run.ckpt"
    Word2Vec.from_corpus(corpus_file, checkpoint=ckpt, progress=False, **{**KW, "epochs": 1})
    other = zipf_corpus(seed=1)
    with pytest.raises(ValueError, match="corpus differs from the one this checkpoint"):
        Word2Vec.resume(ckpt, other)
    with pytest.raises(ValueError, match="corpus differs"):
        Word2Vec.resume(ckpt, zipf_corpus()[:-1])


def test_resume_refuses_a_model_that_is_not_a_checkpoint(corpus_file, tmp_path):
    m = Word2Vec.from_corpus(corpus_file, progress=False, **{**KW, "epochs": 1})
    m.save(tmp_path / "plain.cw2v")
    with pytest.raises(ValueError, match=r"plain\.cw2v: a cw2v model but not a checkpoint"):
        Word2Vec.resume(tmp_path / "plain.cw2v", corpus_file)


@pytest.mark.parametrize("edit, message", [
    (lambda c: c["position"].update(epoch=-1), "integers >= 0"),
    (lambda c: c["position"].update(rng_states=[2**64]), "rng_states"),
    (lambda c: c["position"].update(figures=[1, 2]), "figures"),
    (lambda c: c["position"].update(history=[{"epoch": 1}]), "history"),
    (lambda c: c["position"].pop("span"), "no 'span'"),
    (lambda c: c["settings"].update(window=0), "window"),
    (lambda c: c["settings"].update(mode="magic"), "mode must be one of"),
    (lambda c: c["settings"].update(objective="exact"), "unknown training parameter.*objective"),
    (lambda c: c.update(format=99), "unknown checkpoint format"),
    (lambda c: c.update(span_tokens=0), "span_tokens"),
    (lambda c: c.update(corpus={}), "fingerprint"),
    (lambda c: c.update(every=-5), "checkpoint_every"),
])
def test_damaged_checkpoints_are_refused_naming_the_file(corpus_file, tmp_path, edit, message):
    ckpt = tmp_path / "run.ckpt"
    Word2Vec.from_corpus(corpus_file, checkpoint=ckpt, progress=False, **{**KW, "epochs": 1})
    meta, arrays = io.load_arrays(ckpt)
    edit(meta["checkpoint"])
    io.save_arrays(ckpt, meta, arrays)
    with pytest.raises(ValueError, match=message) as err:
        Word2Vec.resume(ckpt, corpus_file)
    assert str(err.value).startswith(f"{ckpt}: not a valid cw2v checkpoint")


@pytest.fixture(scope="module")
def stopped_checkpoint(corpus_file, tmp_path_factory) -> bytes:
    """The bytes of a checkpoint of a run stopped after epoch 1 of 3."""
    def stop(model, stats):
        raise KeyboardInterrupt

    ckpt = tmp_path_factory.mktemp("stopped") / "run.ckpt"
    Word2Vec.from_corpus(corpus_file, checkpoint=ckpt, callbacks=[stop], progress=False, **KW)
    return ckpt.read_bytes()


def _zero_counts(meta, arrays):
    arrays["counts"] = np.zeros_like(arrays["counts"])


@pytest.mark.parametrize("edit, message", [
    (lambda m, a: m["checkpoint"]["position"].update(epoch=0), r"epoch 0 is not in \[1, 3\]"),
    (lambda m, a: m["checkpoint"]["settings"].update(hs=0, n_neg=0), "n_neg=0 with hs=0"),
    (lambda m, a: m["checkpoint"]["settings"].update(min_lr=0.5),
     r"min_lr \(0.5\) must not exceed lr"),
    (lambda m, a: m["checkpoint"]["settings"].update(mode="batched", sg=0), "batched"),
    (lambda m, a: m["checkpoint"]["settings"].update(hs=1), "settings say hs=1 but the model"),
    (_zero_counts, "word counts are all 0"),
    (lambda m, a: m["checkpoint"]["position"].update(figures=[math.nan] * 4), "figures"),
    (lambda m, a: m["checkpoint"]["position"].update(figures=[0, 0, 0, 0]), "words_done"),
    (lambda m, a: m["checkpoint"]["position"].update(words_done=0), "words_done"),
    (lambda m, a: m["checkpoint"]["position"].update(history=[]), "does not fit a run"),
    (lambda m, a: m["checkpoint"]["position"]["history"][0].update(loss=math.inf), "history"),
    (lambda m, a: m["checkpoint"]["position"].update(epoch_seconds=-1.0), "epoch_seconds"),
    (lambda m, a: m["checkpoint"]["position"].update(rng_states=[1, 2]), "2 generators for 1"),
    (lambda m, a: m["checkpoint"]["corpus"].update(tokens=0), "fingerprint's tokens"),
    (lambda m, a: m["checkpoint"]["position"].update(span=3), "does not fit a run"),
])
def test_hand_edited_checkpoints_are_refused(stopped_checkpoint, corpus_file, tmp_path, edit,
                                             message):
    """A checkpoint's settings go through params.resolve as a fresh run's, and its position
    through checks of its own; every error names the file, before any training."""
    ckpt = tmp_path / "run.ckpt"
    ckpt.write_bytes(stopped_checkpoint)
    meta, arrays = io.load_arrays(ckpt)
    arrays = {k: np.array(v) for k, v in arrays.items()}
    edit(meta, arrays)
    io.save_arrays(ckpt, meta, arrays)
    edited = ckpt.read_bytes()
    with pytest.raises(ValueError, match=message) as err:
        Word2Vec.resume(ckpt, corpus_file, progress=False)
    assert str(err.value).startswith(f"{ckpt}: not a valid cw2v checkpoint")
    assert ckpt.read_bytes() == edited  # nothing trained, nothing written


FORMAT_1_SETTINGS = ("epochs", "window", "n_neg", "sample", "lr", "min_lr", "workers", "seed",
                     "objective", "sg", "hs", "cbow_mean")


def test_settings_hold_every_parameter_and_format_1_checkpoints_still_resume(
        stopped_checkpoint, corpus_file, uninterrupted, tmp_path):
    """A checkpoint records every row of the table by name (the mode as ``mode``); one written
    before (format 1: twelve settings, the mode called ``objective``) resumes the same."""
    ckpt = tmp_path / "run.ckpt"
    ckpt.write_bytes(stopped_checkpoint)
    meta, arrays = io.load_arrays(ckpt)
    entry = meta["checkpoint"]
    assert entry["format"] == 2
    assert list(entry["settings"]) == [p.name for p in params.PARAMETERS]
    old = {**entry["settings"], "objective": entry["settings"]["mode"]}
    entry.update(format=1, settings={k: old[k] for k in FORMAT_1_SETTINGS})
    io.save_arrays(ckpt, meta, {k: np.array(v) for k, v in arrays.items()})
    saved = checkpoint.read(ckpt, Word2Vec)
    assert saved.settings == params.settings({**KW, "d": 16}, base=saved.model.config) \
        and saved.settings.mode == "exact"
    assert same_weights(Word2Vec.resume(ckpt, corpus_file, progress=False), uninterrupted)
    assert list(io.load_arrays(ckpt)[0]["checkpoint"]["settings"]) == list(params.BY_NAME)


def test_a_position_that_does_not_fit_the_run_is_refused(corpus_file, tmp_path):
    ckpt = tmp_path / "run.ckpt"
    Word2Vec.from_corpus(corpus_file, checkpoint=ckpt, progress=False, **{**KW, "epochs": 1})
    meta, arrays = io.load_arrays(ckpt)
    meta["checkpoint"]["position"]["span"] = 99
    io.save_arrays(ckpt, meta, arrays)
    with pytest.raises(ValueError, match="does not fit a run of 1 epochs of 6 spans"):
        Word2Vec.resume(ckpt, corpus_file)


@pytest.mark.parametrize("every", [-1, float("nan"), "10", True])
def test_bad_checkpoint_interval_is_refused_before_reading(every, tmp_path):
    def corpus():
        raise AssertionError("the corpus was read")
        yield

    with pytest.raises(ValueError, match="checkpoint_every must be a number of seconds >= 0"):
        Word2Vec.from_corpus(corpus(), checkpoint=tmp_path / "c", checkpoint_every=every)


def test_bad_checkpoint_target_is_refused_before_reading(tmp_path):
    def corpus():
        raise AssertionError("the corpus was read")
        yield

    with pytest.raises(OSError, match="not a regular file"):
        Word2Vec.from_corpus(corpus(), checkpoint=tmp_path)
    with pytest.raises(FileNotFoundError, match="checkpoint directory"):
        Word2Vec.from_corpus(corpus(), checkpoint=tmp_path / "no" / "such.ckpt")


# -- divergence ----------------------------------------------------------------------------------

def test_a_diverging_run_stops_with_a_clear_error(corpus_file):
    with pytest.raises(TrainingDivergedError, match=r"diverged in epoch 1 of 3: .* NaN or "
                                                    r"infinite; .* lr=1e\+06 is too large: train "
                                                    r"again with a smaller lr"):
        Word2Vec.from_corpus(corpus_file, lr=1e6, min_lr=0, progress=False, **KW)


@pytest.mark.parametrize("objective", [dict(hs=1, n_neg=0), dict(sg=0, hs=1, n_neg=0),
                                       dict(hs=1, n_neg=0, mode="batched")])
def test_hierarchical_softmax_divergence_is_caught_though_finite(corpus_file, objective):
    """Nodes beyond the sigmoid table are skipped, so hierarchical softmax alone diverges to
    huge finite weights: the loss per example, far above an untrained model's, gives it away."""
    with pytest.raises(TrainingDivergedError, match=r"diverged in epoch 1 of 3: the loss of a "
                                                    r"span reached .* an example, over 100 times "
                                                    r"an untrained model's .*smaller lr"):
        Word2Vec.from_corpus(corpus_file, lr=1e6, min_lr=0, progress=False,
                             **{**KW, **objective})


def test_weights_beyond_any_trained_model_s_are_divergence(corpus_file, tmp_path):
    """A finite weight of 1e6 (what a diverging run makes) stops training at the epoch's end,
    and the checkpoint keeps the last good weights."""
    ckpt = tmp_path / "run.ckpt"

    def grow(model, stats):
        if stats.epoch == 2:
            model.syn1[3, 1] = -1e6

    with pytest.raises(TrainingDivergedError, match=r"syn1 holds a weight of -1e\+06, beyond "
                                                    r"any trained model's"):
        Word2Vec.from_corpus(corpus_file, checkpoint=ckpt, callbacks=[grow], progress=False,
                             **{**KW, "hs": 1})
    assert checkpoint.read(ckpt, Word2Vec).position.epoch == 1


@pytest.mark.parametrize("objective", [
    dict(), dict(sg=0, lr=0.05), dict(sg=0, cbow_mean=0, lr=0.05), dict(hs=1, n_neg=0),
    dict(sg=0, hs=1, n_neg=0, lr=0.05), dict(hs=1, n_neg=3), dict(mode="batched"),
    dict(mode="batched", hs=1, n_neg=0)])
def test_normal_runs_of_every_objective_are_not_divergence(objective):
    """Many epochs on a small corpus (the weights grow the most): each objective's loss stays
    below an untrained model's and its weights far inside the bound."""
    rng = np.random.default_rng(0)
    topics = [[f"t{t}w{i}" for i in range(10)] for t in range(3)]
    corpus = [[topics[t][i] for i in rng.integers(0, 10, 12)]
              for t in rng.integers(0, 3, 600)]
    m = Word2Vec.from_corpus(corpus, d=20, window=3, min_count=1, sample=0, epochs=20, seed=7,
                             workers=1, progress=False, cache_dir=False, **objective)
    chance = trainer.chance_loss(m.n_neg, m.config["hs"], m.tree, m.counts)
    assert all(s.loss_per_pair < chance for s in m.epoch_history)
    weights = [w for w in (m.W_in, m.W_out, m.syn1) if w is not None]
    assert max(float(np.abs(w).max()) for w in weights) < trainer.DIVERGED_WEIGHT / 100


def test_a_diverging_run_keeps_the_last_finite_checkpoint(corpus_file, tmp_path):
    """The weights become NaN in the second epoch: the checkpoint of the first is kept."""
    ckpt = tmp_path / "run.ckpt"

    def blow_up(model, stats):  # what a far too large rate does, made certain
        if stats.epoch == 2:
            model.W_out[5, 0] = np.inf

    with pytest.raises(TrainingDivergedError, match="keeps the last finite weights"):
        Word2Vec.from_corpus(corpus_file, checkpoint=ckpt, callbacks=[blow_up], progress=False,
                             **KW)
    saved = checkpoint.read(ckpt, Word2Vec)
    assert (saved.position.epoch, saved.position.span) == (1, 6)
    assert np.isfinite(saved.model.W_in).all() and np.isfinite(saved.model.W_out).all()


def test_non_finite_weights_are_not_trained_on(corpus_file):
    m = Word2Vec.from_corpus(corpus_file, progress=False, **{**KW, "epochs": 1})
    m.W_in[3, 2] = np.nan
    with pytest.raises(ValueError, match="W_in holds NaN or infinite values"):
        m.train(corpus_file, progress=False)


@pytest.mark.parametrize("where", ["none", "first", "last"])
def test_the_finiteness_check_finds_any_row_without_a_matrix_sized_temporary(where):
    """The check before training reads the matrix a block at a time: a NaN in its first or last
    row is found, and the peak allocation stays far below the boolean matrix of
    ``np.isfinite(W).all()`` (200 MB for fastText's 2M x 100 bucket matrix)."""
    import tracemalloc

    from cw2v import _rows

    W = np.zeros((100_000, 50), dtype=np.float32)  # 20 MB; a boolean copy is 5 MB
    if where != "none":
        W[0 if where == "first" else -1, -1] = np.nan
    tracemalloc.start()
    try:
        finite = _rows.all_finite(W)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert finite == (where == "none")
    assert peak < W.nbytes / 20


# -- the trainer's position ----------------------------------------------------------------------

def test_run_position_round_trips_through_json():
    stats = trainer.EpochStats(1, 2.5, 3, 4, 5, 0.5, 0.01)
    pos = trainer.RunPosition(2, 1, 123, [2**64 - 1, 0], [1.0, 2.0, 3.0, 0.1], 1.5, [stats])
    back = trainer.RunPosition.from_json(json.loads(json.dumps(pos.to_json())))
    assert back == pos


@pytest.mark.parametrize("objective", [dict(sg=0, n_neg=5), dict(sg=0, hs=1, n_neg=0),
                                       dict(sg=1, hs=1, n_neg=3)])
def test_cbow_and_hierarchical_softmax_runs_resume_exactly(corpus_file, tmp_path, objective):
    """The checkpoint holds syn1 and the architecture; the tree is rebuilt from the counts."""
    kw = {**KW, "epochs": 2, **objective}
    whole = Word2Vec.from_corpus(corpus_file, progress=False, **kw)

    def stop(model, stats):
        raise KeyboardInterrupt

    ckpt = tmp_path / "run.ckpt"
    Word2Vec.from_corpus(corpus_file, checkpoint=ckpt, callbacks=[stop], progress=False, **kw)
    resumed = Word2Vec.resume(ckpt, corpus_file, progress=False)
    assert same_weights(resumed, whole)
    if objective.get("hs"):
        assert np.array_equal(resumed.syn1, whole.syn1)
