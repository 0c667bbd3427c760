"""CBOW and hierarchical softmax: each compiled kernel copy against the NumPy reference, step by
step with the same draws (float32 tolerance), for every architecture/objective combination."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from cw2v import reference, tables
from cw2v.tables import alias_table

RTOL, ATOL = 1e-5, 1e-6

# (sg, hs, n_neg, cbow_mean): every combination word2vec.c and gensim train.
COMBOS = [
    (0, 0, 5, 1), (0, 0, 5, 0),      # CBOW, negative sampling, mean / sum
    (0, 1, 0, 1), (0, 1, 0, 0),      # CBOW, hierarchical softmax
    (0, 1, 3, 1),                    # CBOW, both
    (1, 1, 0, 1),                    # skip-gram, hierarchical softmax
    (1, 1, 3, 1),                    # skip-gram, both
]
IDS = [f"{'sg' if sg else 'cbow'}-{'hs' if hs else ''}{'ns' if neg else ''}"
       f"{'' if sg else ('-mean' if mean else '-sum')}" for sg, hs, neg, mean in COMBOS]


def make_models(kernel, V, d, sg, hs, n_neg, cbow_mean, seed=0, lr=0.05, window=4,
                keep_prob=None, objective="exact"):
    """A reference model and a kernel state over copies of the same random weights and the
    same counts (each side builds its own Huffman tree from them)."""
    rng = np.random.default_rng(seed)
    counts = np.sort(rng.zipf(1.3, V).clip(1, 10_000))[::-1].astype(np.int64)
    ref = reference.Word2Vec([f"w{i}" for i in range(V)], d=d, lr=lr, n_neg=n_neg, seed=seed,
                             sg=sg, hs=0, cbow_mean=cbow_mean)
    ref.counts = counts
    ref.set_noise_weights(counts ** 0.75)
    ref.hs = hs
    if hs:
        ref.build_tree()
    # Random weights everywhere, so every dot product matters from the first step; small
    # enough that few hierarchical-softmax nodes saturate.
    ref.W_in[...] = rng.standard_normal((V, d)) * 0.3
    ref.W_out[...] = rng.standard_normal((V, d)) * 0.3
    ref.syn1[...] = rng.standard_normal((V, d)) * 0.3
    W_in, W_out, syn1 = ref.W_in.copy(), ref.W_out.copy(), ref.syn1.copy()
    if kernel is None:
        return ref, None, None
    state = kernel.KernelState(W_in, W_out, ref.sigmoid_tables, ref.noise_table, n_neg,
                               int(ref._rng_state[0]), keep_prob=keep_prob, window=window,
                               objective=objective, sg=sg, hs=hs, cbow_mean=cbow_mean,
                               tree=tables.huffman_tree(counts) if hs else None,
                               syn1=syn1 if hs else None)
    return ref, state, (W_in, W_out, syn1)


def assert_same_weights(ref, weights):
    W_in, W_out, syn1 = weights
    np.testing.assert_allclose(W_in, ref.W_in, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(W_out, ref.W_out, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(syn1, ref.syn1, rtol=RTOL, atol=ATOL)


def example_steps(V, d, sg, n_neg, window, seed, steps=300):
    """(inputs, target, noise words) of the single-example test, some noise words equal to the
    target."""
    rng = np.random.default_rng(seed)
    for step in range(steps):
        inputs = rng.integers(0, V, 1 if sg else rng.integers(1, 2 * window + 1)).astype(np.int32)
        target = int(rng.integers(0, V))
        negs = rng.integers(0, V, n_neg).astype(np.int32)
        if n_neg and step % 7 == 0:
            negs[0] = target
        yield inputs, target, negs


# The reference is slow: each of its runs is shared by the kernel copies' tests (it never
# touches the compiled module, so its result is the same for all of them).
@lru_cache(maxsize=None)
def reference_examples(V, d, sg, hs, n_neg, cbow_mean, window):
    ref = make_models(None, V, d, sg, hs, n_neg, cbow_mean, seed=d, window=window)[0]
    loss = sum(ref.train_example(*step) for step in example_steps(V, d, sg, n_neg, window, d))
    return ref, loss


SPAN_TOKENS = 700
SPAN_BOUNDS = (0, 5, 6, 250, 420, SPAN_TOKENS)


@lru_cache(maxsize=None)
def reference_span(V, d, sg, hs, n_neg, cbow_mean, window, batched=False):
    rng = np.random.default_rng(4)
    keep = np.minimum(1.0, rng.random(V) + 0.3).astype(np.float32)
    tokens = rng.integers(0, V, SPAN_TOKENS).astype(np.int32)
    ref = make_models(None, V, d, sg, hs, n_neg, cbow_mean, seed=3, window=window)[0]
    out = ref.train_span(tokens, np.array(SPAN_BOUNDS, np.int64), keep, window, 0.05, 0.01,
                         batched=batched)
    return ref, out, keep, tokens


@pytest.mark.parametrize("sg, hs, n_neg, cbow_mean", COMBOS, ids=IDS)
@pytest.mark.parametrize("d", [1, 7, 17, 50])
def test_train_example_matches_reference(kernel, sg, hs, n_neg, cbow_mean, d):
    """Single examples with explicit noise words (and some noise words equal to the target)."""
    V, window = 300, 4
    _, state, weights = make_models(kernel, V, d, sg, hs, n_neg, cbow_mean, seed=d,
                                    window=window)
    loss_fast = sum(state.train_example(inputs, target, 0.05, negs)
                    for inputs, target, negs in example_steps(V, d, sg, n_neg, window, d))
    ref, loss_ref = reference_examples(V, d, sg, hs, n_neg, cbow_mean, window)
    assert_same_weights(ref, weights)
    assert loss_fast == pytest.approx(loss_ref, rel=1e-4)
    # The weights really moved where the objective says they should.
    start = make_models(None, V, d, sg, hs, n_neg, cbow_mean, seed=d)[0]
    assert np.abs(weights[2 if hs else 1] - (start.syn1 if hs else start.W_out)).max() > 1e-2
    if not hs:
        np.testing.assert_array_equal(weights[2], start.syn1)  # syn1 untouched without hs


@pytest.mark.parametrize("sg, hs, n_neg, cbow_mean, batched",
                         [c + (False,) for c in COMBOS] + [(1, 1, 0, 1, True)],
                         ids=IDS + ["sg-hs-batched"])
def test_train_span_matches_reference(kernel, sg, hs, n_neg, cbow_mean, batched):
    """The span trainer (subsampling, dynamic window, noise draws, lr schedule) step for step."""
    V, d, window = 200, 16, 4
    ref, expected, keep, tokens = reference_span(V, d, sg, hs, n_neg, cbow_mean, window,
                                                 batched)
    _, state, weights = make_models(kernel, V, d, sg, hs, n_neg, cbow_mean, seed=3,
                                    window=window, keep_prob=keep,
                                    objective="batched" if batched else "exact")
    out = state.train_span(tokens, np.array(SPAN_BOUNDS, np.int64), 0.05, 0.01)
    assert out[:3] == expected[:3]
    assert out[3] == pytest.approx(expected[3], rel=1e-4)
    assert_same_weights(ref, weights)
    assert 0 < out[1] < SPAN_TOKENS and out[2] > 0
    # The generators advanced alike: the next span starts from the same state.
    assert state.rng_state == ref.rng.state
    assert state.kernel_function == ("cbow" if not sg else "sg_hs_batched" if batched
                                     else "sg_hs")


@lru_cache(maxsize=None)
def reference_repeated_span(V, d, n_neg, window):
    """Skip-gram HS over a span with runs of one word, by the reference (shared by the kernel
    copies' tests, as above)."""
    rng = np.random.default_rng(d)
    tokens = np.repeat(rng.integers(0, V, 200), rng.integers(1, 4, 200)).astype(np.int32)
    bounds = np.array([0, 150, len(tokens)], np.int64)
    keep = np.ones(V, np.float32)
    ref = make_models(None, V, d, 1, 1, n_neg, 1, seed=5, window=window)[0]
    expected = ref.train_span(tokens, bounds, keep, window, 0.05, 0.01)
    return ref, expected, tokens, bounds, keep


@pytest.mark.parametrize("n_neg", [0, 3])
@pytest.mark.parametrize("d", [1, 7, 16, 17, 50])
def test_sg_hs_span_with_repeated_words_matches_reference(kernel, d, n_neg):
    """Skip-gram HS computes the next context's dot products in the pass that updates the
    path, reading its input row before this context's gradient lands: wrong when the two
    contexts are the same word, which runs of one word ("a a a") make common here."""
    V, window = 50, 4
    ref, expected, tokens, bounds, keep = reference_repeated_span(V, d, n_neg, window)
    _, state, weights = make_models(kernel, V, d, 1, 1, n_neg, 1, seed=5, window=window,
                                    keep_prob=keep)
    out = state.train_span(tokens, bounds, 0.05, 0.01)
    assert out[:3] == expected[:3]
    assert out[3] == pytest.approx(expected[3], rel=1e-4)
    assert_same_weights(ref, weights)


@pytest.mark.parametrize("d", [1, 7, 50])
def test_batched_hs_window_matches_reference(kernel, d):
    """One HogBatch hierarchical-softmax step at a time, repeated inputs included."""
    V = 300
    ref, _, (W_in, _, syn1) = make_models(kernel, V, d, 1, 1, 0, 1, seed=d)
    rng = np.random.default_rng(d)
    loss_fast = loss_ref = 0.0
    for _ in range(150):
        inputs = rng.integers(0, V, rng.integers(1, 11)).astype(np.int32)
        target = int(rng.integers(0, V))
        loss_fast += kernel._batched_hs_window(W_in, syn1, ref.tree, inputs, target, 0.05,
                                               ref.sigmoid_tables)
        loss_ref += ref.train_window_batched_hs(inputs, target)
    np.testing.assert_allclose(W_in, ref.W_in, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(syn1, ref.syn1, rtol=RTOL, atol=ATOL)
    assert loss_fast == pytest.approx(loss_ref, rel=1e-4)


def test_cbow_mean_changes_the_update(kernel):
    """The comparison can fail: the mean and the sum train different weights."""
    V, d = 100, 8
    tokens = np.random.default_rng(0).integers(0, V, 500).astype(np.int32)
    bounds = np.array([0, 500], dtype=np.int64)
    results = []
    for cbow_mean in (1, 0):
        _, state, weights = make_models(kernel, V, d, 0, 0, 5, cbow_mean, seed=1)
        state.train_span(tokens, bounds, 0.05, 0.05)
        results.append(weights[0])
    assert np.abs(results[0] - results[1]).max() > 1e-3
    # And the reference with the other cbow_mean does not match the kernel.
    ref, state, weights = make_models(kernel, V, d, 0, 0, 5, 1, seed=1)
    ref.cbow_mean = 0
    state.train_span(tokens, bounds, 0.05, 0.05)
    ref.train_span(tokens, bounds, np.ones(V, np.float32), 4, 0.05, 0.05)
    assert not np.allclose(weights[0], ref.W_in, rtol=RTOL, atol=ATOL)


def test_hs_skips_saturated_nodes(kernel):
    """A node with |f| >= MAX_EXP gets no update (word2vec.c), but its loss counts."""
    V, d = 4, 4
    ref, state, (W_in, W_out, syn1) = make_models(kernel, V, d, 1, 1, 0, 1, seed=2)
    W_in[...] = 1.0
    syn1[...] = 2.0  # f = 8 at every node
    before = syn1.copy()
    loss = state.train_example(np.array([0], np.int32), 3, 0.1)
    np.testing.assert_array_equal(syn1, before)
    np.testing.assert_array_equal(W_in, 1.0)
    assert loss > 0  # the nodes whose code bit is 1 (label 0) cost f = 8 each


@pytest.mark.parametrize("sg", [1, 0])
def test_hs_paths_with_saturated_and_live_nodes_match_reference(kernel, sg):
    """Paths (up to 19 nodes, so past one sixteen-node step of the AVX-512 copy's gradients)
    where every third inner node saturates, at either sign, between live ones: the kernel skips
    the same nodes as the reference, and counts their loss as it does."""
    V, d, window = 300, 17, 3
    ref, state, weights = make_models(kernel, V, d, sg, 1, 0, 1, seed=5, window=window)
    rng = np.random.default_rng(11)
    big = np.zeros(V, bool)
    big[::3] = True
    # Inputs in [0.5, 1] and saturated rows of +-2: their f is +-(17 to 34) throughout.
    ref.W_in[...] = rng.uniform(0.5, 1.0, (V, d))
    ref.syn1[big] = rng.choice([-2.0, 2.0], (big.sum(), 1))
    start = ref.syn1.copy()
    weights[0][...] = ref.W_in
    weights[2][...] = ref.syn1
    loss_fast = loss_ref = 0.0
    for inputs, target, _ in example_steps(V, d, sg, 0, window, 5):
        loss_fast += state.train_example(inputs, target, 0.05, np.zeros(0, np.int32))
        loss_ref += ref.train_example(inputs, target, [])
    assert_same_weights(ref, weights)
    assert loss_fast == pytest.approx(loss_ref, rel=1e-4)
    # saturated rows kept their values; live ones moved
    moved = np.abs(weights[2] - start).max(axis=1) > 0
    assert not moved[big].any() and moved[~big].sum() > 50


def test_state_checks_architecture_arguments(kernel):
    V, d = 10, 4
    ref = reference.Word2Vec([f"w{i}" for i in range(V)], d=d, n_neg=2, seed=0)
    W_in, W_out, syn1 = (np.zeros((V, d), np.float32) for _ in range(3))
    t, noise = ref.sigmoid_tables, alias_table(np.ones(V))
    tree = tables.huffman_tree(np.arange(V, 0, -1))

    def make(**kwargs):
        return kernel.KernelState(W_in, W_out, t, noise, 2, 1, window=2, **kwargs)

    with pytest.raises(ValueError, match="sg must be 0 or 1"):
        make(sg=2)
    with pytest.raises(ValueError, match="batched objective covers skip-gram"):
        make(sg=0, objective="batched")
    with pytest.raises(ValueError, match="batched objective covers skip-gram"):
        make(hs=1, tree=tree, syn1=syn1, objective="batched")  # with n_neg = 2
    assert kernel.KernelState(W_in, W_out, t, noise, 0, 1, window=2, hs=1, tree=tree, syn1=syn1,
                              objective="batched").kernel_function == "sg_hs_batched"
    with pytest.raises(ValueError, match="tree"):
        make(hs=1)
    with pytest.raises(ValueError, match="syn1"):
        make(hs=1, tree=tree, syn1=np.zeros((V - 1, d), np.float32))
    with pytest.raises(ValueError, match="tree.offsets"):
        make(hs=1, tree=tables.huffman_tree(np.ones(V - 1)), syn1=syn1)
    bad = tree._replace(points=np.full_like(tree.points, V - 1))
    with pytest.raises(IndexError, match="tree.points"):
        make(hs=1, tree=bad, syn1=syn1)
    bad = tree._replace(codes=np.full_like(tree.codes, 2))
    with pytest.raises(ValueError, match="tree.codes"):
        make(hs=1, tree=bad, syn1=syn1)
    with pytest.raises(TypeError, match="HuffmanTree"):
        make(hs=1, tree=object(), syn1=syn1)
    state = make(sg=0, hs=1, tree=tree, syn1=syn1)
    assert (state.sg, state.hs, state.cbow_mean, state.kernel_function) == (0, 1, 1, "cbow")
    with pytest.raises(ValueError, match="inputs"):
        state.train_example(np.zeros(5, np.int32), 0, 0.1)  # more than 2 * window
    with pytest.raises(IndexError, match="inputs"):
        state.train_example(np.array([V], np.int32), 0, 0.1)
    with pytest.raises(IndexError, match="target"):
        state.train_example(np.array([0], np.int32), V, 0.1)
    # One word: an empty tree, nothing to train but nothing to break.
    one = tables.huffman_tree([3])
    z = np.zeros((1, d), np.float32)
    single = kernel.KernelState(z, z.copy(), t, alias_table(np.ones(1)), 0, 1, sg=0, hs=1,
                                tree=one, syn1=z.copy())
    assert single.train_span(np.zeros(5, np.int32), np.array([0, 5], np.int64), 0.1, 0.1)[2] == 5


def wider_rows(a, extra, fill=np.nan):
    """a's values as the first d columns of a (V, d + extra) array whose other columns hold
    ``fill``: the layout of cw2v._rows's padded storage, with a pad a kernel must never read
    (NaN would spread into every result) nor write."""
    wide = np.full((a.shape[0], a.shape[1] + extra), fill, dtype=np.float32)
    wide[:, :a.shape[1]] = a
    return wide[:, :a.shape[1]]


WIDE_CASES = [c + (False,) for c in COMBOS] + [(1, 1, 0, 1, True), (1, 0, 5, 1, False),
                                               (1, 0, 5, 1, True)]
WIDE_IDS = IDS + ["sg-hs-batched", "sg-ns", "sg-ns-batched"]


@pytest.mark.parametrize("sg, hs, n_neg, cbow_mean, batched", WIDE_CASES, ids=WIDE_IDS)
@pytest.mark.parametrize("d", [3, 17])
def test_wider_rows_train_as_contiguous_ones(kernel, sg, hs, n_neg, cbow_mean, batched, d):
    """Weights whose rows lie further apart than d floats (each matrix its own stride) train to
    the same bits as C-contiguous ones, and the floats between rows are neither read nor
    written."""
    V, window = 120, 4
    rng = np.random.default_rng(d)
    tokens = rng.integers(0, V, 600).astype(np.int32)
    bounds = np.array([0, 250, 600], np.int64)
    keep = np.minimum(1.0, rng.random(V) + 0.4).astype(np.float32)
    objective = "batched" if batched else "exact"
    ref, state, weights = make_models(kernel, V, d, sg, hs, n_neg, cbow_mean, seed=7,
                                      window=window, keep_prob=keep, objective=objective)
    wide = [wider_rows(w, extra) for w, extra in zip(weights, (1, 8, 5))]
    wide_state = kernel.KernelState(
        wide[0], wide[1], ref.sigmoid_tables, ref.noise_table, n_neg, int(ref._rng_state[0]),
        keep_prob=keep, window=window, objective=objective, sg=sg, hs=hs, cbow_mean=cbow_mean,
        tree=tables.huffman_tree(ref.counts) if hs else None, syn1=wide[2] if hs else None)
    out = state.train_span(tokens, bounds, 0.05, 0.01)
    assert wide_state.train_span(tokens, bounds, 0.05, 0.01) == out
    if not batched:
        steps = list(example_steps(V, d, sg, n_neg, window, d))[:40]
        losses = [s.train_example(*step[:2], 0.05, step[2]) for s in (state, wide_state)
                  for step in steps]
        assert losses[:40] == losses[40:]
    for w, v in zip(weights, wide):
        np.testing.assert_array_equal(v, w)
        assert np.isnan(v.base[:, d:]).all()
    assert np.abs(weights[0] - ref.W_in).max() > 1e-3  # they trained


def test_weights_with_overlapping_or_strided_rows_are_refused(kernel):
    V, d = 10, 4
    t, noise = reference.Word2Vec(["a"], d=1).sigmoid_tables, alias_table(np.ones(V))
    ok = np.zeros((V, d), np.float32)
    columns = np.zeros((V, 2 * d), np.float32)[:, ::2]
    with pytest.raises(ValueError, match="W_in's rows must be contiguous"):
        kernel.KernelState(columns, ok, t, noise, 2, 1)
    overlapping = np.lib.stride_tricks.as_strided(np.zeros(V + d, np.float32), (V, d), (4, 4))
    with pytest.raises(ValueError, match="W_out's rows must not overlap"):
        kernel.KernelState(ok, overlapping, t, noise, 2, 1)
    with pytest.raises(ValueError, match="W_in's rows must not overlap"):
        kernel.KernelState(ok[::-1], ok, t, noise, 2, 1)
    tree = tables.huffman_tree(np.arange(V, 0, -1))
    with pytest.raises(ValueError, match="syn1's rows must be contiguous"):
        kernel.KernelState(ok, ok.copy(), t, noise, 0, 1, hs=1, tree=tree, syn1=columns)


def test_reference_one_value_lookup_matches_the_array_lookup():
    """The reference's scalar table read (its hot path) gives the same bits as
    ``tables.table_lookup`` everywhere inside the range, the knots and both ends included."""
    t = tables.sigmoid_tables()
    m = np.float32(t.max_exp)
    f = np.concatenate([np.linspace(-m, m, 10_001, dtype=np.float32)[1:-1],  # 10 a bucket
                        np.nextafter([-m, m], np.float32(0)),
                        np.float32([0.0, -0.0, 1e-30, -1e-30])]).astype(np.float32)
    for table in (t.sigmoid, t.log_sigmoid):
        expected = tables.table_lookup(f, table, t.max_exp)
        got = np.array([reference._table_lookup_one(x, table, t.max_exp) for x in f])
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got.view(np.int32), expected.view(np.int32))
