"""The Cython kernel against the NumPy reference and against known properties."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest
from scipy import stats

import cw2v
from cw2v import model as model_module
from cw2v import params
from cw2v import reference
from cw2v.tables import alias_probabilities, alias_table, sigmoid_tables, table_sigmoid

RTOL, ATOL = 1e-5, 1e-6


def make_pair(V: int, d: int, seed: int = 0, lr: float = 0.1):
    """A compiled model and a float32 table-sigmoid reference with identical random weights."""
    vocab = [f"w{i}" for i in range(V)]
    fast = cw2v.Word2Vec(vocab, d=d, lr=lr, n_neg=5, seed=seed)
    ref = reference.Word2Vec(vocab, d=d, lr=lr, n_neg=5, seed=seed)
    rng = np.random.default_rng(seed)
    # W_out random too, so every dot product matters from the first step.
    w_in = (rng.standard_normal((V, d)) * 0.3).astype(np.float32)
    w_out = (rng.standard_normal((V, d)) * 0.3).astype(np.float32)
    for m in (fast, ref):
        m.W_in[...] = w_in
        m.W_out[...] = w_out
    return fast, ref


def random_triples(V: int, n: int, n_neg: int, seed: int):
    rng = np.random.default_rng(seed)
    centers = rng.integers(0, V, n)
    contexts = rng.integers(0, V, n)
    negatives = rng.integers(0, V, (n, n_neg))
    # Some noise words equal to the positive context, which the rule skips.
    negatives[::7, 0] = contexts[::7]
    return centers, contexts, negatives


# The reference is slow and never touches the compiled module: each of its runs below is made
# once and shared by the kernel copies' tests.
@lru_cache(maxsize=None)
def reference_train_pair(V, d, n):
    ref = make_pair(V, d)[1]
    centers, contexts, negatives = random_triples(V, n, 5, seed=d)
    loss = sum(ref.train_pair(int(c), int(o), negs)
               for c, o, negs in zip(centers, contexts, negatives))
    return ref, loss


@pytest.mark.parametrize("d", [1, 7, 50, 128])
def test_train_pair_matches_reference(kernel, monkeypatch, d):
    monkeypatch.setattr(model_module, "_kernel", kernel)
    V, n = 512, 2000
    fast = make_pair(V, d)[0]
    ref, loss_ref = reference_train_pair(V, d, n)
    centers, contexts, negatives = random_triples(V, n, 5, seed=d)
    loss_fast = 0.0
    for c, o, negs in zip(centers, contexts, negatives):
        loss_fast += fast.train_pair(int(c), int(o), negs)
    np.testing.assert_allclose(fast.W_in, ref.W_in, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(fast.W_out, ref.W_out, rtol=RTOL, atol=ATOL)
    assert loss_fast == pytest.approx(loss_ref, rel=1e-4)
    # The weights really moved: the comparison is not between two untouched copies.
    assert np.abs(fast.W_out - make_pair(V, d)[0].W_out).max() > 1e-2


@lru_cache(maxsize=None)
def reference_train_pairs(V, d, n):
    ref = make_pair(V, d, seed=1)[1]
    loss = ref.train_pairs(*random_triples(V, n, 5, seed=100 + d))
    return ref, loss


@pytest.mark.parametrize("d", [1, 7, 50, 128])
def test_train_pairs_matches_reference(kernel, monkeypatch, d):
    monkeypatch.setattr(model_module, "_kernel", kernel)
    V, n = 700, 2000
    fast = make_pair(V, d, seed=1)[0]
    ref, loss_ref = reference_train_pairs(V, d, n)
    centers, contexts, negatives = random_triples(V, n, 5, seed=100 + d)
    loss_fast = fast.train_pairs(centers, contexts, negatives)
    np.testing.assert_allclose(fast.W_in, ref.W_in, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(fast.W_out, ref.W_out, rtol=RTOL, atol=ATOL)
    assert loss_fast == pytest.approx(loss_ref, rel=1e-4)


def test_drawn_negatives_match_reference(kernel, monkeypatch):
    """Without explicit negatives both draw the same noise words from the same seed."""
    monkeypatch.setattr(model_module, "_kernel", kernel)
    V = 300
    fast, ref = make_pair(V, 16, seed=5)
    counts = {f"w{i}": int(1000 / (i + 1)) for i in range(V)}
    fast.set_freq(counts)
    ref.set_freq(counts)
    centers, contexts, _ = random_triples(V, 300, 5, seed=9)
    fast.train_pairs(centers, contexts)
    ref.train_pairs(centers, contexts)
    for c, o in zip(centers[:50], contexts[:50]):
        fast.train_pair(int(c), int(o))
        ref.train_pair(int(c), int(o))
    np.testing.assert_allclose(fast.W_in, ref.W_in, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(fast.W_out, ref.W_out, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("d", [1, 7, 50, 128])
def test_batched_window_matches_reference(kernel, d):
    V = 600
    fast, ref = make_pair(V, d, seed=2)
    t = fast.sigmoid_tables
    rng = np.random.default_rng(d)
    loss_fast = loss_ref = 0.0
    for _ in range(300):
        inputs = rng.integers(0, V, rng.integers(1, 11)).astype(np.int32)
        outputs = rng.integers(0, V, 6).astype(np.int32)
        if rng.random() < 0.2:
            outputs[3] = outputs[0]  # a noise word equal to the positive is skipped
        loss_fast += kernel._batched_window(fast.W_in, fast.W_out, inputs, outputs, fast.lr, t)
        loss_ref += ref.train_window_batched(inputs, int(outputs[0]), outputs[1:])
    np.testing.assert_allclose(fast.W_in, ref.W_in, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(fast.W_out, ref.W_out, rtol=RTOL, atol=ATOL)
    assert loss_fast == pytest.approx(loss_ref, rel=1e-4)


def span_inputs(V):
    """(noise counts, keep probabilities, tokens, sentence bounds) of the span test."""
    rng = np.random.default_rng(4)
    counts = rng.zipf(1.3, V).clip(1, 10_000).astype(np.float64)
    counts[::-1].sort()
    keep = np.minimum(1.0, rng.random(V) + 0.3).astype(np.float32)
    tokens = rng.integers(0, V, 3000).astype(np.int32)
    bounds = np.array([0, 5, 6, 900, 1700, 3000], dtype=np.int64)
    return counts, keep, tokens, bounds


@lru_cache(maxsize=None)
def reference_train_span(V, d, window, batched):
    ref = make_pair(V, d, seed=3, lr=0.05)[1]
    counts, keep, tokens, bounds = span_inputs(V)
    ref.set_noise_weights(counts ** 0.75)
    expected = ref.train_span(tokens, bounds, keep, window, 0.05, 0.01, batched=batched)
    return ref, expected


@pytest.mark.parametrize("batched", [False, True], ids=["exact", "batched"])
def test_train_span_matches_reference(kernel, batched):
    """The span trainer (subsampling, dynamic window, noise draws, lr schedule) step for step."""
    V, d, window = 200, 16, 4
    fast = make_pair(V, d, seed=3, lr=0.05)[0]
    counts, keep, tokens, bounds = span_inputs(V)
    fast.set_noise_weights(counts ** 0.75)
    state = kernel.KernelState(fast.W_in, fast.W_out, fast.sigmoid_tables, fast.noise_table, 5,
                               int(fast._rng_state[0]), keep_prob=keep, window=window,
                               objective="batched" if batched else "exact")
    out = state.train_span(tokens, bounds, 0.05, 0.01)
    ref, expected = reference_train_span(V, d, window, batched)
    assert out[:3] == expected[:3]
    assert out[3] == pytest.approx(expected[3], rel=1e-4)
    np.testing.assert_allclose(fast.W_in, ref.W_in, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(fast.W_out, ref.W_out, rtol=RTOL, atol=ATOL)
    assert 0 < out[1] < 3000 and out[2] > 0


def test_kernel_copies_report_their_level(kernel):
    assert kernel.compiled_level() in ("baseline", "avx2", "avx512")
    assert kernel.__name__.endswith({"baseline": "base", "avx2": "avx2",
                                     "avx512": "avx512"}[kernel.compiled_level()])


# -- the sigmoid table ------------------------------------------------------------------------

def test_sigmoid_table_error_within_resolution(kernel):
    t = sigmoid_tables()
    x = np.linspace(-5.999, 5.999, 200_001, dtype=np.float32)
    approx = kernel._sigmoid_lookup(x, t)
    exact = 1.0 / (1.0 + np.exp(-x.astype(np.float64)))
    size = t.sigmoid.shape[0] - 1
    width = 2 * t.max_exp / size
    # Linear interpolation: error <= width**2 / 8 * max|sigmoid''| (= 1/(6 sqrt 3)), plus
    # float32 rounding of the knots and the interpolation (a few ulps of values <= 1).
    bound = width**2 / 8 / (6 * np.sqrt(3)) + 4 * np.finfo(np.float32).eps
    err = np.abs(approx - exact).max()
    assert err <= bound
    # A step table of the same resolution (word2vec.c's) is far off that bound.
    step = t.sigmoid[((x + t.max_exp) / width).astype(int)]
    assert np.abs(step - exact).max() > 100 * bound
    np.testing.assert_allclose(approx, table_sigmoid(x, t), rtol=0, atol=2e-7)


def test_sigmoid_table_saturates(kernel):
    t = sigmoid_tables()
    x = np.array([6.0, 6.5, 50.0, np.inf, -6.0, -6.5, -50.0, -np.inf], dtype=np.float32)
    got = kernel._sigmoid_lookup(x, t)
    np.testing.assert_array_equal(got, [1, 1, 1, 1, 0, 0, 0, 0])


# -- the random generator and the noise sampler -----------------------------------------------

def test_rng_matches_splitmix64(kernel):
    # Published first output of splitmix64 from state 0.
    assert int(kernel._rng_draws(0, 1)[0]) == 0xE220A8397B1DCDAF
    r = reference.SplitMix64(12345)
    expected = [r.next() for _ in range(1000)]
    assert kernel._rng_draws(12345, 1000).tolist() == expected


def chi_square_p(draws: np.ndarray, probs: np.ndarray) -> float:
    observed = np.bincount(draws, minlength=probs.size)
    return float(stats.chisquare(observed, probs * draws.size).pvalue)


def test_noise_sampler_follows_unigram_075(kernel):
    V = 1000
    counts = np.random.default_rng(0).zipf(1.5, V).clip(1, 10**6).astype(np.float64)
    table = alias_table(counts ** 0.75)
    draws = kernel._noise_draws(table, 7, 10**6)
    assert draws.min() >= 0 and draws.max() < V
    target = counts ** 0.75 / (counts ** 0.75).sum()
    assert chi_square_p(draws, target) > 1e-3
    # The same test rejects a sampler of the wrong distribution (raw counts, no 0.75).
    assert chi_square_p(draws, counts / counts.sum()) < 1e-3


def test_alias_table_is_exact():
    w = np.random.default_rng(1).random(5000) ** 4
    np.testing.assert_allclose(alias_probabilities(alias_table(w)), w / w.sum(), rtol=1e-5,
                               atol=1e-12)


def test_noise_sampler_one_word(kernel):
    table = alias_table(np.array([3.0]))
    draws = kernel._noise_draws(table, 1, 1000)
    assert set(draws.tolist()) == {0}


def test_noise_sampler_million_words(kernel):
    V = 10**6
    w = 1.0 / np.arange(1, V + 1) ** 0.75
    table = alias_table(w)
    draws = kernel._noise_draws(table, 3, 10**6)
    assert draws.min() >= 0 and draws.max() < V
    np.testing.assert_allclose(alias_probabilities(table), w / w.sum(), rtol=1e-4, atol=1e-12)
    # Head of the distribution: word 0 has p ~ 0.0021, well measured by 10**6 draws.
    p0 = w[0] / w.sum()
    assert abs((draws == 0).mean() - p0) < 5 * np.sqrt(p0 / 10**6)


# -- entry-point checks -----------------------------------------------------------------------

def test_kernel_rejects_out_of_range_ids(kernel):
    fast, _ = make_pair(10, 4)
    state = kernel.KernelState(fast.W_in, fast.W_out, fast.sigmoid_tables, fast.noise_table, 2,
                               1, window=2)
    with pytest.raises(IndexError, match="tokens"):
        state.train_span(np.array([1, 10], dtype=np.int32), np.array([0, 2], dtype=np.int64),
                         0.1, 0.1)
    with pytest.raises(IndexError, match="center"):
        state.train_pair(-1, 0, 0.1)
    with pytest.raises(IndexError, match="negatives"):
        state.train_pairs(np.array([0], np.int32), np.array([1], np.int32), 0.1,
                          np.array([[0, 10]], np.int32))
    with pytest.raises(IndexError, match="outputs"):
        kernel._batched_window(fast.W_in, fast.W_out, np.array([0], np.int32),
                               np.array([0, 99], np.int32), 0.1, fast.sigmoid_tables)
    with pytest.raises(ValueError, match="bounds"):
        state.train_span(np.array([1, 2], dtype=np.int32), np.array([0, 3], dtype=np.int64),
                         0.1, 0.1)


# -- the kernel state -------------------------------------------------------------------------

def make_state(kernel, V=10, d=4, n_neg=2, rng_state=1, **kwargs):
    fast, _ = make_pair(V, min(d, 8))
    # Weights of any width (the model's own checks stop d > params.MAX_DIM before the kernel).
    W_in = np.zeros((V, d), dtype=np.float32)
    W_out = np.zeros((V, d), dtype=np.float32)
    noise = alias_table(np.ones(V))
    return kernel.KernelState(W_in, W_out, fast.sigmoid_tables, noise, n_neg, rng_state,
                              **kwargs)


@pytest.mark.parametrize("kwargs, name", [
    (dict(n_neg=2**30), "n_neg"), (dict(n_neg=10_001), "n_neg"), (dict(n_neg=-1), "n_neg"),
    (dict(window=0), "window"), (dict(window=10_001), "window"), (dict(window=2**40), "window"),
    (dict(d=100_001, V=1), "vector size d"), (dict(objective="cbow"), "objective"),
    (dict(window=33, objective="batched"), "batched"),
    (dict(n_neg=33, objective="batched"), "batched"),
])
def test_state_bounds_sizes_before_allocating(kernel, kwargs, name):
    """Sizes the kernel allocates from are bounded (once, with a ValueError saying which)."""
    with pytest.raises(ValueError, match=name):
        make_state(kernel, **kwargs)


def test_state_limits_are_exported(kernel):
    assert (kernel.MAX_WINDOW, kernel.MAX_NEG, kernel.MAX_DIM) == (10_000, 10_000, 100_000)
    # Python's parameter table checks the same limits first.
    assert (params.MAX_WINDOW, params.MAX_NEG, params.MAX_DIM) == (
        kernel.MAX_WINDOW, kernel.MAX_NEG, kernel.MAX_DIM)
    assert params.BATCHED_MAX_WINDOW == kernel.MAX_BATCH_INPUTS // 2
    assert params.BATCHED_MAX_NEG == kernel.MAX_BATCH_OUTPUTS - 1
    assert kernel.OBJECTIVES == ("exact", "batched")
    state = make_state(kernel, n_neg=kernel.MAX_NEG, window=1)
    assert state.n_neg == kernel.MAX_NEG and state.window == 1 and state.objective == "exact"


def test_state_checks_its_tables(kernel):
    fast, _ = make_pair(10, 4)
    t, noise = fast.sigmoid_tables, fast.noise_table
    with pytest.raises(ValueError, match="noise table"):
        kernel.KernelState(fast.W_in, fast.W_out, t, alias_table(np.ones(9)), 2, 1)
    bad = noise._replace(alias=np.full(10, 10, dtype=np.int32))
    with pytest.raises(IndexError, match="noise.alias"):
        kernel.KernelState(fast.W_in, fast.W_out, t, bad, 2, 1)
    with pytest.raises(ValueError, match="keep_prob"):
        kernel.KernelState(fast.W_in, fast.W_out, t, noise, 2, 1, keep_prob=np.ones(3, np.float32))
    with pytest.raises(TypeError, match="SigmoidTables"):
        kernel.KernelState(fast.W_in, fast.W_out, noise, noise, 2, 1)
    with pytest.raises(ValueError, match="same shape"):
        kernel.KernelState(fast.W_in, fast.W_out[:5], t, noise, 2, 1)
    state = kernel.KernelState(fast.W_in, fast.W_out, t, noise, 2, 1)
    assert state.sources[0] is fast.W_in and state.sources[3] is noise


def test_state_generator_can_be_saved_and_restored(kernel):
    """rng_state is the whole generator: restoring it replays the same draws."""
    a = make_state(kernel, rng_state=99)
    b = make_state(kernel, rng_state=99)
    tokens = np.random.default_rng(0).integers(0, 10, 500).astype(np.int32)
    bounds = np.array([0, 500], dtype=np.int64)
    a.train_span(tokens, bounds, 0.05, 0.05)
    saved = a.rng_state
    assert saved != 99
    first = a.train_span(tokens, bounds, 0.05, 0.05)
    b.train_span(tokens, bounds, 0.05, 0.05)
    b.rng_state = saved
    second = b.train_span(tokens, bounds, 0.05, 0.05)
    assert first[:3] == second[:3]
    assert a.rng_state == b.rng_state


def test_sgnsbase_is_a_deprecated_alias_of_model_state():
    """The model state's old name (from when it trained skip-gram negative sampling only)
    still works, with a DeprecationWarning."""
    from cw2v import base

    with pytest.warns(DeprecationWarning, match="ModelState"):
        old = base.SGNSBase
    assert old is base.ModelState
    with pytest.raises(AttributeError):
        base.NoSuchName
