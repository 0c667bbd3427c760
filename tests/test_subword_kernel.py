"""fastText's subword model in the kernel: each compiled copy against the NumPy reference
(cw2v.reference_subwords), step by step with the same draws, for skip-gram and CBOW with negative
sampling and hierarchical softmax; and the kernel's checks of the subword table."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from cw2v import reference_subwords, tables
from cw2v.subwords import subword_rows
from test_objectives import example_steps as shared_example_steps

RTOL, ATOL = 1e-5, 1e-6
MIN_N, MAX_N, BUCKET = 2, 4, 61   # few buckets: n-grams share rows, as hashed ones do

# (sg, hs, n_neg, cbow_mean)
COMBOS = [
    (1, 0, 5, 1),                    # skip-gram, negative sampling (fastText's default)
    (1, 1, 0, 1),                    # skip-gram, hierarchical softmax
    (1, 1, 3, 1),                    # skip-gram, both
    (0, 0, 5, 1),                    # CBOW, negative sampling
    (0, 1, 0, 1),                    # CBOW, hierarchical softmax
    (0, 0, 5, 0),                    # CBOW, sum
]
IDS = [f"{'sg' if sg else 'cbow'}-{'hs' if hs else ''}{'ns' if neg else ''}"
       f"{'' if sg or mean else '-sum'}" for sg, hs, neg, mean in COMBOS]


def words(V: int, seed: int = 0) -> list[str]:
    """V distinct words of 1 to 9 letters (one with a non-ASCII letter, one repeating a
    letter, so that a word lists an n-gram twice)."""
    rng = np.random.default_rng(seed)
    out = {"é", "aaaaaa"}
    while len(out) < V:
        out.add("".join(rng.choice(list("abcdeéz"), rng.integers(1, 10))))
    return sorted(out)[:V]


def make_models(kernel, V, d, sg, hs, n_neg, cbow_mean, seed=0, lr=0.05, window=4,
                keep_prob=None, objective="exact"):
    """A subword reference model and a kernel state over copies of the same random weights
    and counts."""
    rng = np.random.default_rng(seed)
    counts = np.sort(rng.zipf(1.3, V).clip(1, 10_000))[::-1].astype(np.int64)
    ref = reference_subwords.FastText(words(V), d=d, lr=lr, n_neg=n_neg, seed=seed, sg=sg,
                                      hs=0, cbow_mean=cbow_mean, min_n=MIN_N, max_n=MAX_N,
                                      bucket=BUCKET)
    ref.counts = counts
    ref.set_noise_weights(counts ** 0.5)
    ref.hs = hs
    if hs:
        ref.build_tree()
    # (CBOW's sum adds some 50 rows: smaller rows keep its scores off the sigmoid's flat ends,
    # where float32 rounding in the dot products decides more than the rule does)
    ref.input_matrix[...] = rng.standard_normal(ref.input_matrix.shape) * (0.3 if cbow_mean
                                                                           else 0.05)
    ref.W_out[...] = rng.standard_normal((V, d)) * 0.3
    ref.syn1[...] = rng.standard_normal((V, d)) * 0.3
    weights = ref.input_matrix.copy(), ref.W_out.copy(), ref.syn1.copy()
    if kernel is None:
        return ref, None, None
    state = kernel.KernelState(weights[0], weights[1], ref.sigmoid_tables, ref.noise_table,
                               n_neg, int(ref._rng_state[0]), keep_prob=keep_prob,
                               window=window, sg=sg, hs=hs, cbow_mean=cbow_mean,
                               objective=objective,
                               tree=tables.huffman_tree(counts) if hs else None,
                               syn1=weights[2] if hs else None, sub_offsets=ref.offsets,
                               sub_rows=ref.rows)
    return ref, state, weights


def assert_same_weights(ref, weights):
    np.testing.assert_allclose(weights[0], ref.input_matrix, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(weights[1], ref.W_out, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(weights[2], ref.syn1, rtol=RTOL, atol=ATOL)


def example_steps(V, sg, n_neg, window, seed):
    """test_objectives' single-example steps, 150 of them (the reference forms every mean)."""
    return shared_example_steps(V, None, sg, n_neg, window, seed, steps=150)


@lru_cache(maxsize=None)
def reference_examples(V, d, sg, hs, n_neg, cbow_mean, window):
    ref = make_models(None, V, d, sg, hs, n_neg, cbow_mean, seed=d, window=window)[0]
    loss = sum(ref.train_example(*step) for step in example_steps(V, sg, n_neg, window, d))
    return ref, loss


@pytest.mark.parametrize("sg, hs, n_neg, cbow_mean", COMBOS, ids=IDS)
@pytest.mark.parametrize("d", [1, 7, 33])
def test_train_example_matches_reference(kernel, sg, hs, n_neg, cbow_mean, d):
    """Single examples with explicit noise words, some equal to the target."""
    V, window = 120, 4
    _, state, weights = make_models(kernel, V, d, sg, hs, n_neg, cbow_mean, seed=d,
                                    window=window)
    loss = sum(state.train_example(inputs, target, 0.05, negs)
               for inputs, target, negs in example_steps(V, sg, n_neg, window, d))
    ref, loss_ref = reference_examples(V, d, sg, hs, n_neg, cbow_mean, window)
    assert_same_weights(ref, weights)
    assert loss == pytest.approx(loss_ref, rel=1e-4)
    # The bucket rows moved too, not only the words' own rows.
    start = make_models(None, V, d, sg, hs, n_neg, cbow_mean, seed=d)[0]
    assert np.abs(weights[0][V:] - start.input_matrix[V:]).max() > 1e-3


SPAN_TOKENS = 500
SPAN_BOUNDS = (0, 5, 6, 200, 330, SPAN_TOKENS)


@lru_cache(maxsize=None)
def reference_span(V, d, sg, hs, n_neg, cbow_mean, window):
    rng = np.random.default_rng(4)
    keep = np.minimum(1.0, rng.random(V) + 0.3).astype(np.float32)
    tokens = rng.integers(0, V, SPAN_TOKENS).astype(np.int32)
    ref = make_models(None, V, d, sg, hs, n_neg, cbow_mean, seed=3, window=window)[0]
    out = ref.train_span(tokens, np.array(SPAN_BOUNDS, np.int64), keep, window, 0.05, 0.01)
    return ref, out, keep, tokens


@pytest.mark.parametrize("sg, hs, n_neg, cbow_mean", COMBOS, ids=IDS)
def test_train_span_matches_reference(kernel, sg, hs, n_neg, cbow_mean):
    """The span trainer (subsampling, dynamic window, noise draws, lr schedule) step for step.
    The kernel's skip-gram sums a center's rows once per window (the next pair's mean follows
    from this one's gradient); the reference forms the mean again for each pair, as fastText:
    rows listed twice (the word 'aaaaaa', hash collisions in 61 buckets) are in the span."""
    V, d, window = 100, 16, 3
    ref, expected, keep, tokens = reference_span(V, d, sg, hs, n_neg, cbow_mean, window)
    _, state, weights = make_models(kernel, V, d, sg, hs, n_neg, cbow_mean, seed=3,
                                    window=window, keep_prob=keep)
    out = state.train_span(tokens, np.array(SPAN_BOUNDS, np.int64), 0.05, 0.01)
    assert out[:3] == expected[:3]
    assert out[3] == pytest.approx(expected[3], rel=1e-4)
    assert_same_weights(ref, weights)
    assert 0 < out[1] < SPAN_TOKENS and out[2] > 0
    assert state.rng_state == ref.rng.state
    assert state.kernel_function == ("sg_subword" if sg else "cbow_subword")
    assert state.subwords


def test_first_step_follows_fasttext_rule(kernel):
    """A known property of fastText's update, independent of the reference: with the output
    weights at zero (fastText's start), a skip-gram step scores f = 0 for every target, so
    W_out[target] += lr * (1 - 1/2) * h and W_out[noise] += lr * (0 - 1/2) * h, h the MEAN of
    the center's rows, and the input rows do not move (neu1e = g * W_out = 0)."""
    vocab = ["walking", "walked", "walks", "talk"]
    V, d, bucket, lr = len(vocab), 8, 97, 0.1
    from cw2v.subwords import subword_table
    offsets, rows = subword_table(vocab, 3, 6, bucket)
    rng = np.random.default_rng(0)
    W_in = rng.uniform(-1, 1, (V + bucket, d)).astype(np.float32)
    W_out = np.zeros((V, d), np.float32)
    start = W_in.copy()
    state = kernel.KernelState(W_in, W_out, tables.sigmoid_tables(),
                               tables.alias_table(np.ones(V)), 1, 1, sub_offsets=offsets,
                               sub_rows=rows)
    state.train_example(np.array([0], np.int32), 1, lr, np.array([3], np.int32))
    h = start[subword_rows("walking", 0, V, 3, 6, bucket)].mean(axis=0)
    assert len(rows[offsets[0]:offsets[1]]) == 1 + 4 + 5 + 6 + 7   # '<walking>': 9 characters
    np.testing.assert_allclose(W_out[1], 0.5 * lr * h, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(W_out[3], -0.5 * lr * h, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(W_out[[0, 2]], 0)
    np.testing.assert_array_equal(W_in, start)


def test_subword_table_is_checked_before_training(kernel):
    V, d, bucket = 5, 4, 10
    from cw2v.subwords import subword_table
    offsets, rows = subword_table([f"w{i}" for i in range(V)], 2, 3, bucket)
    sig, noise = tables.sigmoid_tables(), tables.alias_table(np.ones(V))

    def make(W_in=None, offsets=offsets, rows=rows, **kwargs):
        W_in = np.zeros((V + bucket, d), np.float32) if W_in is None else W_in
        return kernel.KernelState(W_in, np.zeros((V, d), np.float32), sig, noise, 2, 1,
                                  sub_offsets=offsets, sub_rows=rows, **kwargs)

    assert make().subwords
    with pytest.raises(IndexError, match=r"sub_rows\[\d+\] = \d+ is out of range"):
        make(W_in=np.zeros((V + bucket - 5, d), np.float32))
    with pytest.raises(ValueError, match="at least its rows"):
        make(W_in=np.zeros((V - 1, d), np.float32))
    with pytest.raises(ValueError, match="sub_offsets has 5 entries"):
        make(offsets=offsets[:-1])
    bad = offsets.copy()
    bad[2] = bad[1]
    with pytest.raises(ValueError, match="word 1 has 0 input rows"):
        make(offsets=bad)
    with pytest.raises(ValueError, match="run from 0 to len"):
        make(rows=rows[:-1])
    with pytest.raises(ValueError, match="both sub_offsets and sub_rows"):
        kernel.KernelState(np.zeros((V, d), np.float32), np.zeros((V, d), np.float32), sig,
                           noise, 2, 1, sub_offsets=offsets)
    with pytest.raises(ValueError, match="exact mode only"):
        make(objective="batched")
    state = make()
    with pytest.raises(IndexError):
        state.train_example(np.array([V], np.int32), 0, 0.1)
    with pytest.raises(IndexError):
        state.train_span(np.array([0, V], np.int32), np.array([0, 2], np.int64), 0.1, 0.1)
