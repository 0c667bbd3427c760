"""Distributed training on one machine: the in-process communicator (cw2v.comm.LocalGroup), each
combine rule's arithmetic against a NumPy reference, and train_rank's runs (K=1 is plain
training; K=2 trains finite vectors of about one process's quality)."""
import threading
import time

import numpy as np
import pytest

import cw2v
from cw2v import comm, corpus, distributed


def run_group(size, fn, timeout=20.0):
    """LocalGroup(size).run(fn) in a watchdog thread: a hang fails the test instead."""
    out = {}

    def main():
        try:
            out["result"] = comm.LocalGroup(size).run(fn)
        except BaseException as exc:  # handed to the test
            out["error"] = exc

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"the group did not end within {timeout} s"
    if "error" in out:
        raise out["error"]
    return out["result"]


# -- the communicator ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.uint8])
def test_allreduce_sum_equals_numpy_sum_on_every_rank(dtype):
    rng = np.random.default_rng(0)
    bufs = [(rng.random((7, 5)) * 50).astype(dtype) for _ in range(3)]
    expected = bufs[0].copy()
    for b in bufs[1:]:
        expected += b  # the rank order

    def fn(c):
        buf = bufs[c.rank].copy()
        c.allreduce_sum(buf)
        return buf

    got = run_group(3, fn)
    for buf in got:
        np.testing.assert_array_equal(buf, expected)
    np.testing.assert_allclose(got[0], np.sum(np.stack(bufs), axis=0), rtol=1e-6)


def test_allgather_bcast_barrier():
    def fn(c):
        gathered = c.allgather({"rank": c.rank})
        c.barrier()
        root = c.bcast(f"from {c.rank}", root=1)
        return gathered, root, c.size

    for gathered, root, size in run_group(3, fn):
        assert gathered == [{"rank": 0}, {"rank": 1}, {"rank": 2}]
        assert root == "from 1" and size == 3


def test_allreduce_rejects_mismatched_buffers():
    def fn(c):
        c.allreduce_sum(np.zeros(3 + c.rank, dtype=np.float32))

    with pytest.raises(comm.RankError, match="differ in shape"):
        run_group(2, fn)


def test_an_exception_on_one_rank_ends_the_group_naming_it():
    def fn(c):
        if c.rank == 1:
            time.sleep(0.2)
            raise ValueError("boom on purpose")
        c.barrier()  # ranks 0 and 2 wait for rank 1, which never comes
        c.allreduce_sum(np.zeros(4))
        return "not reached"

    start = time.monotonic()
    with pytest.raises(comm.RankError, match="rank 1 of 3 failed: ValueError: boom on purpose"
                       ) as info:
        run_group(3, fn)
    assert time.monotonic() - start < 10
    assert info.value.rank == 1 and isinstance(info.value.__cause__, ValueError)


def test_local_group_checks_its_size():
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="size"):
            comm.LocalGroup(bad)


# -- the rules' arithmetic ----------------------------------------------------------------------

K, V, D = 3, 6, 4


def rank_deltas(seed=0):
    """Each rank's delta: row 0 touched by every rank, row 1 by rank 1 only, row 2 by ranks 0
    and 2, rows 3-5 by none."""
    rng = np.random.default_rng(seed)
    deltas = np.zeros((K, V, D), dtype=np.float32)
    deltas[:, 0] = rng.normal(size=(K, D))
    deltas[1, 1] = rng.normal(size=D)
    deltas[[0, 2], 2] = rng.normal(size=(2, D))
    return deltas


def combine_once(rule_name, R0, deltas_list, dues, scratch=False):
    """Run combine_matrix once per (deltas, due) on K ranks starting from R0 (with buffers
    kept from combine to combine if ``scratch``); every rank's W and R after each combine,
    and the bytes each sent."""
    def fn(c):
        rule = distributed.RULES[rule_name](c.size, {"W_in": R0.shape})
        R = R0.copy()
        W = R0.copy()
        kept = {} if scratch else None
        seen = []
        for deltas, due in zip(deltas_list, dues):
            W += deltas[c.rank]
            sent = distributed.combine_matrix(c, rule, "W_in", W, R, due, kept)
            seen.append((W.copy(), R.copy(), sent))
        return seen

    return run_group(K, fn)


@pytest.mark.parametrize("rule_name", ["average", "mllib", "tiered_average", "tiered_sum", "bmuf"])
def test_each_rule_against_numpy(rule_name):
    rng = np.random.default_rng(1)
    R0 = rng.normal(size=(V, D)).astype(np.float32)
    d1, d2 = rank_deltas(2), rank_deltas(3)
    everyone = np.arange(V)
    out = combine_once(rule_name, R0, [d1, d2], [everyone, everyone])
    touched = (d1 != 0).any(axis=2).sum(axis=0)  # [3, 1, 2, 0, 0, 0]
    assert list(touched) == [3, 1, 2, 0, 0, 0]

    def step(deltas, G=None):
        total = deltas.sum(axis=0, dtype=np.float64)
        if rule_name in ("average", "tiered_average"):
            return total / K, None
        if rule_name == "mllib":
            n = (deltas != 0).any(axis=2).sum(axis=0)
            return total / np.maximum(n, 1)[:, None], None
        if rule_name == "tiered_sum":
            return total, None
        G = (1 - 1 / K) * (0 if G is None else G) + total / K  # BMUF
        return G, G

    s1, G = step(d1)
    s2, _ = step(d2, G)
    expected = [R0 + s1, R0 + s1 + s2]
    for rank_seen in out:
        for (W, R, sent), want in zip(rank_seen, expected):
            np.testing.assert_allclose(R, want, rtol=1e-5, atol=1e-6)
            np.testing.assert_array_equal(W, R)
    for j in range(2):  # every rank holds the very same floats
        assert all(np.array_equal(out[0][j][0], r[j][0]) for r in out)
    # a row touched by one rank: the mean gives it 1/K of that rank's delta, the sum all of it
    row1 = out[0][0][0][1] - R0[1]
    np.testing.assert_allclose(row1, {"average": d1[1, 1] / K, "tiered_average": d1[1, 1] / K,
                                      "mllib": d1[1, 1], "tiered_sum": d1[1, 1],
                                      "bmuf": d1[1, 1] / K}[rule_name], rtol=1e-5)
    # rows nobody touched do not travel: a touched count per row, then 3 rows of D floats
    assert out[0][0][2] == V * 1 + 3 * D * 4


def assert_same_weights(run, other):
    """Every rank's W and R after every combine, bit for bit the same in two combine_once runs."""
    for a, b in zip(run, other, strict=True):
        for (W, R, _), (W2, R2, _) in zip(a, b, strict=True):
            np.testing.assert_array_equal(W, W2)
            np.testing.assert_array_equal(R, R2)


@pytest.mark.parametrize("rule_name", ["mllib", "tiered_sum", "bmuf"])
def test_kept_buffers_give_the_same_floats(rule_name):
    """Buffers kept from combine to combine (a smaller due set after a larger, then a larger
    again: stale deltas left in the buffer's tail) change nothing, bit for bit."""
    rng = np.random.default_rng(4)
    R0 = rng.normal(size=(V, D)).astype(np.float32)
    deltas = [rank_deltas(s) for s in (5, 6, 7, 8)]
    dues = [np.arange(V), np.array([0, 1, 3]), np.array([1, 4]), np.arange(V)]  # (never all
    # touched: the exchange keeps its flags, so the bytes are comparable too)
    fresh = combine_once(rule_name, R0, deltas, dues)
    kept = combine_once(rule_name, R0, deltas, dues, scratch=True)
    assert_same_weights(fresh, kept)
    assert [[seen[2] for seen in rank] for rank in fresh] == \
        [[seen[2] for seen in rank] for rank in kept]


@pytest.mark.parametrize("rule_name", ["average", "mllib", "tiered_sum", "bmuf"])
def test_a_matrix_sent_whole_gives_the_same_floats(rule_name):
    """After a combine where every due row was touched, the rules that do not weigh by the
    touched counts send the matrix whole (no flags) for a while: rows nobody changed then add
    zero deltas, which must change nothing, bit for bit, against the flagged exchange; mllib,
    which weighs by the counts, keeps the flags."""
    rng = np.random.default_rng(9)
    R0 = rng.normal(size=(V, D)).astype(np.float32)
    everything = rng.normal(size=(K, V, D)).astype(np.float32)
    deltas = [everything] + [rank_deltas(s) for s in (10, 11, 12)]
    dues = [np.arange(V)] * 4
    flagged = combine_once(rule_name, R0, deltas, dues)
    kept = combine_once(rule_name, R0, deltas, dues, scratch=True)
    assert_same_weights(flagged, kept)
    sent = [seen[2] for seen in kept[0]]
    whole = V * D * 4
    assert sent[0] == V + whole  # flags, then every row
    if rule_name == "mllib":
        assert sent[1:] == [seen[2] for seen in flagged[0]][1:]
    else:
        assert sent[1:] == [whole] * 3  # whole: no flags, zero deltas included


def test_kept_buffers_are_reused_and_grown():
    scratch = {}
    flags, total = distributed._exchange_buffers(scratch, "W_in", 10, 4)
    assert flags.shape == (10,) and total.shape == (10, 4)
    flags2, total2 = distributed._exchange_buffers(scratch, "W_in", 6, 4)
    assert flags2.shape == (6,) and np.shares_memory(total, total2)
    flags3, total3 = distributed._exchange_buffers(scratch, "W_in", 12, 4)
    assert total3.shape[0] >= 12 and not np.shares_memory(total, total3)
    assert scratch["W_in"][1] is total3


@pytest.mark.parametrize("rule_name", ["average", "mllib", "tiered_sum", "bmuf"])
def test_fused_combine_equals_the_rules_numpy_form_bit_for_bit(rule_name):
    """combine_matrix's fused loops (cw2v._combine) against the rule's NumPy ``combine`` applied
    to the whole matrix: the same floats, with rows every rank left alone (some with momentum
    left from earlier combines, for bmuf), rows one rank changed and rows all changed."""
    Vb, Db = 300, 24
    rng = np.random.default_rng(7)
    R0 = rng.normal(size=(Vb, Db)).astype(np.float32)
    deltas = np.zeros((K, Vb, Db), dtype=np.float32)
    for r in range(K):
        rows = rng.choice(Vb, size=60, replace=False)
        deltas[r, rows] = rng.normal(scale=0.01, size=(60, Db))
    G0 = np.zeros((Vb, Db), dtype=np.float32)
    G0[rng.choice(Vb, size=100, replace=False)] = rng.normal(scale=0.01, size=(100, Db))
    due = np.sort(rng.choice(Vb, size=250, replace=False))

    def fn(c):
        rule = distributed.RULES[rule_name](c.size, {"W_in": R0.shape})
        if rule_name == "bmuf":
            rule.state["G_W_in"][...] = G0
        W = np.zeros((Vb, Db + 8), dtype=np.float32)[:, :Db]  # padded rows, as the model's
        W[...] = R0 + deltas[c.rank]
        R = R0.copy()
        distributed.combine_matrix(c, rule, "W_in", W, R, due)
        return W, R, (R0 + deltas[c.rank])

    out = run_group(K, fn)
    reference = distributed.RULES[rule_name](K, {"W_in": R0.shape})
    if rule_name == "bmuf":
        reference.state["G_W_in"][...] = G0
    deltas = (R0 + deltas) - R0  # what each rank's W - R holds, float32's rounding included
    total = deltas.sum(axis=0)[due]  # summed in rank order, as the group sums
    touched = (deltas[:, due] != 0).any(axis=2).sum(axis=0).astype(np.uint8)
    want = R0.copy()
    want[due] += reference.combine("W_in", due, total, touched)
    rest = np.setdiff1d(np.arange(Vb), due)
    for W, R, own in out:
        np.testing.assert_array_equal(R, want)
        np.testing.assert_array_equal(W[due], want[due])
        np.testing.assert_array_equal(W[rest], own[rest])  # rows not due keep the rank's own
    if rule_name == "bmuf":
        np.testing.assert_array_equal(out[0][1][due] - R0[due] == 0,
                                      reference.state["G_W_in"][due] == 0)


def test_fused_combine_checks_its_arguments():
    from cw2v import _combine
    W = np.zeros((4, 3), dtype=np.float32)
    R, out = W.copy(), np.zeros((2, 3), dtype=np.float32)
    with pytest.raises(IndexError, match="row 4 outside a matrix of 4 rows"):
        _combine.gather_deltas(W, R, np.array([0, 4]), out)
    with pytest.raises(IndexError, match="row -1"):
        _combine.add_rows(W, R, np.array([-1, 0]), out)
    with pytest.raises(ValueError, match="differ in shape"):
        _combine.changed_rows(W, R[:3], np.array([0]), np.zeros(1, dtype=np.uint8))
    with pytest.raises(ValueError, match="one flag a due row"):
        _combine.changed_rows(W, R, np.array([0, 1]), np.zeros(1, dtype=np.uint8))
    with pytest.raises(ValueError, match="rows must be contiguous"):
        _combine.changed_rows(np.zeros((4, 6), dtype=np.float32)[:, ::2], R, np.array([0]),
                              np.zeros(1, dtype=np.uint8))
    with pytest.raises(ValueError, match="ascending"):
        _combine.block_momentum(W, R, W.copy(), np.arange(4), np.array([1, 0]), out, 0.5, 2.0)


def test_rows_not_due_keep_their_local_delta():
    R0 = np.zeros((V, D), dtype=np.float32)
    d1 = rank_deltas(4)
    out = combine_once("tiered_sum", R0, [d1], [np.array([0, 1])])
    for rank, seen in enumerate(out):
        W, R, _ = seen[0]
        np.testing.assert_allclose(R[:2], d1[:, :2].sum(axis=0), rtol=1e-6)
        np.testing.assert_array_equal(R[2:], 0)             # not combined yet
        np.testing.assert_array_equal(W[2:], d1[rank, 2:])  # the rank keeps its own learning


def test_tier_periods():
    tiers = np.array([0, 1, 2, 3], dtype=np.uint8)
    due = {i: list(distributed.due_rows(tiers, i, full=False)) for i in range(8)}
    assert due == {0: [0], 1: [0, 1], 2: [0], 3: [0, 1, 2], 4: [0], 5: [0, 1], 6: [0],
                   7: [0, 1, 2, 3]}
    assert list(distributed.due_rows(tiers, 0, full=True)) == [0, 1, 2, 3]
    # expected occurrences per sync period of 1,000 tokens: 100, 1, 0.6, 0.3, 0.1, 0
    counts = np.array([100_000, 1_000, 600, 300, 100, 0])
    counts = np.append(counts, 1_000_000 - counts.sum())
    tiers = distributed.frequency_tiers(counts, 1_000, n_tiers=4)
    assert list(tiers[:6]) == [0, 0, 1, 2, 3, 3]


def test_default_sync_period_shrinks_with_more_ranks():
    assert [distributed.default_sync_tokens(k) for k in (1, 2, 4, 8, 16)] == \
        [200_000, 200_000, 100_000, 50_000, 25_000]
    # hierarchical softmax: a quarter of negative sampling's period (its tree's top rows move
    # with every token)
    assert [distributed.default_sync_tokens(k, hs=True) for k in (1, 2, 4, 8, 16)] == \
        [100_000, 50_000, 25_000, 12_500, 6_250]


@pytest.mark.parametrize("objective, per_epoch", [(dict(n_neg=5), 5), (dict(hs=1, n_neg=0), 20)])
def test_train_rank_s_default_period_follows_the_objective(topic_corpus, monkeypatch,
                                                           objective, per_epoch):
    """Without sync_tokens, train_rank combines every default_sync_tokens(K, hs) tokens: here
    the group's 8,000 under negative sampling (5 combines an epoch of a 20,000-token shard),
    its 2,000 under hierarchical softmax (20)."""
    vocab, _, shards = topic_corpus
    monkeypatch.setattr(distributed, "GROUP_SYNC_TOKENS", 8_000)
    monkeypatch.setattr(distributed, "GROUP_SYNC_TOKENS_HS", 2_000)
    models = [make_model(vocab, **objective) for _ in range(2)]
    results = run_group(2, lambda c: distributed.train_rank(models[c.rank], shards[c.rank], c))
    assert results[0].syncs == 3 * per_epoch


def test_hierarchical_softmax_tree_top_is_frequent():
    from cw2v.tables import huffman_tree
    counts = np.array([50, 20, 10, 5, 3, 1])
    tree = huffman_tree(counts)
    nodes = distributed.node_counts(tree, counts)
    assert nodes[len(counts) - 2] == counts.sum()  # the root: every word passes through it
    tiers = distributed.frequency_tiers(nodes, 20, n_tiers=4)
    assert tiers[len(counts) - 2] == 0 and tiers[len(counts) - 1] == 3  # row V - 1 unused


# -- train_rank -------------------------------------------------------------------------------

GROUPS, PER_GROUP = 8, 15


@pytest.fixture(scope="module")
def topic_corpus():
    """Sentences of 10 words, each drawn from one of 8 groups of 15 words: a word's nearest
    neighbours should be its group's."""
    rng = np.random.default_rng(0)
    words = [f"g{g}w{i}" for g in range(GROUPS) for i in range(PER_GROUP)]
    sentences = []
    for _ in range(4000):
        g = rng.integers(GROUPS)
        sentences.append([words[g * PER_GROUP + i] for i in rng.integers(PER_GROUP, size=10)])
    vocab, encoded = corpus.build(sentences, min_count=1)
    half = len(sentences) // 2
    shards = [corpus.encode(sentences[:half], vocab), corpus.encode(sentences[half:], vocab)]
    return vocab, encoded, shards


def make_model(vocab, **kw):
    return cw2v.Word2Vec.from_vocabulary(vocab, d=16, seed=3, workers=1, epochs=3,
                                         **{"sample": 0, **kw})


def group_accuracy(model) -> float:
    """Share of words whose nearest neighbour is of their own group."""
    unit = model.W_in / np.linalg.norm(model.W_in, axis=1, keepdims=True)
    sims = unit @ unit.T
    np.fill_diagonal(sims, -2)
    group = np.array([w.split("w")[0] for w in model.vocab])
    return float(np.mean(group[sims.argmax(axis=1)] == group))


def test_one_rank_is_plain_training(topic_corpus):
    vocab, encoded, _ = topic_corpus
    plain = make_model(vocab)
    plain.train(encoded, progress=False)
    ranked = make_model(vocab)
    [result] = run_group(1, lambda c: distributed.train_rank(ranked, encoded, c,
                                                             sync_tokens=50_000))
    assert result.syncs == 3 and result.bytes_sent == 3 * 24  # the headers only
    np.testing.assert_array_equal(ranked.W_in, plain.W_in)
    np.testing.assert_array_equal(ranked.W_out, plain.W_out)
    assert len(ranked.epoch_history) == 3


@pytest.mark.parametrize("rule", ["bmuf", "tiered_sum", "average"])
def test_two_ranks_train_finite_vectors_of_one_process_quality(topic_corpus, rule):
    vocab, encoded, shards = topic_corpus
    plain = make_model(vocab)
    plain.train(encoded, progress=False)
    models = [make_model(vocab) for _ in range(2)]
    results = run_group(2, lambda c: distributed.train_rank(
        models[c.rank], shards[c.rank], c, rule=rule, sync_tokens=2_000))
    assert results[0].syncs == results[1].syncs == 3 * 10
    assert results[0].bytes_per_token > 0
    np.testing.assert_array_equal(models[0].W_in, models[1].W_in)  # combined at epoch ends
    assert np.isfinite(models[0].W_in).all() and np.isfinite(models[0].W_out).all()
    assert group_accuracy(plain) > 0.9
    assert group_accuracy(models[0]) >= group_accuracy(plain) - 0.1


def test_rank_zero_s_bar_counts_the_group_s_words(topic_corpus, monkeypatch):
    """One bar, on rank 0, whose total and count are the group's words (so its rate is the
    cluster's words/s), set to the all-reduced count at every combine."""
    from cw2v import trainer
    bars = []

    class Bar:
        def __init__(self, total, initial, disable, **kw):
            self.total, self.n, self.disable, self.at_combines = total, initial, disable, []
            bars.append(self)

        def update(self, k):
            self.n += k

        def refresh(self):
            self.at_combines.append(self.n)

        def set_postfix(self, **kw):
            pass

        def close(self):
            pass

    monkeypatch.setattr(trainer, "tqdm", Bar)
    vocab, _, shards = topic_corpus
    models = [make_model(vocab) for _ in range(2)]
    results = run_group(2, lambda c: distributed.train_rank(
        models[c.rank], shards[c.rank], c, sync_tokens=2_000, progress=True))
    group = sum(int(s.tokens.shape[0]) for s in shards) * 3
    [bar] = [b for b in bars if not b.disable]
    assert bar.total == group and bar.n == group
    assert len(bar.at_combines) == results[0].syncs
    assert bar.at_combines == sorted(bar.at_combines) and bar.at_combines[-1] == group


def test_ranks_that_disagree_refuse_to_start(topic_corpus):
    vocab, _, shards = topic_corpus
    models = [make_model(vocab), make_model(vocab, window=3)]
    with pytest.raises(comm.RankError, match="disagree on settings"):
        run_group(2, lambda c: distributed.train_rank(models[c.rank], shards[c.rank], c))
    models = [make_model(vocab), make_model(vocab)]
    models[1].W_in[0, 0] += 1
    with pytest.raises(comm.RankError, match="disagree on initial weights"):
        run_group(2, lambda c: distributed.train_rank(models[c.rank], shards[c.rank], c))


@pytest.mark.parametrize("kw, match", [({"rule": "sum"}, "rule must be one of"),
                                       ({"sync_tokens": 0}, "sync_tokens must be"),
                                       ({"sync_tokens": 1.5}, "sync_tokens must be")])
def test_bad_arguments(topic_corpus, kw, match):
    vocab, encoded, _ = topic_corpus
    with pytest.raises(comm.RankError, match=match):
        run_group(1, lambda c: distributed.train_rank(make_model(vocab), encoded, c, **kw))


def test_stop_on_one_rank_stops_every_rank(topic_corpus):
    vocab, _, shards = topic_corpus
    models = [make_model(vocab) for _ in range(2)]

    def stop_on_rank_1(model, stats):
        if model is models[1]:
            raise cw2v.StopTraining

    results = run_group(2, lambda c: distributed.train_rank(
        models[c.rank], shards[c.rank], c, callbacks=[stop_on_rank_1], sync_tokens=5_000))
    assert all(len(r.epochs) == 1 and r.stopped for r in results)


def test_ctrl_c_on_one_rank_stops_every_rank_at_the_same_combine(topic_corpus, monkeypatch):
    vocab, _, shards = topic_corpus
    models = [make_model(vocab) for _ in range(2)]
    sync = distributed._RankRun.sync

    def ctrl_c_on_rank_1(self, end_of_epoch):
        if self.comm.rank == 1 and self.syncs == 4:
            self._interrupted = True  # what the SIGINT handler sets
        sync(self, end_of_epoch)

    monkeypatch.setattr(distributed._RankRun, "sync", ctrl_c_on_rank_1)
    results = run_group(2, lambda c: distributed.train_rank(
        models[c.rank], shards[c.rank], c, sync_tokens=2_000))
    assert [r.syncs for r in results] == [4, 4]
    assert all(r.stopped.startswith("interrupted in epoch 1") for r in results)


def test_checkpoint_and_resume_continue_exactly(topic_corpus):
    vocab, _, shards = topic_corpus
    whole = [make_model(vocab) for _ in range(2)]
    saved = {}

    def keep(rank):
        def checkpoint(position, state):
            if position.epoch == 1:  # the last one of epoch 1 (no span of epoch 2 run yet)
                saved[rank] = (position, {**state, "arrays": {k: v.copy() for k, v in
                                                             state["arrays"].items()}},
                               whole[rank].W_in.copy(), whole[rank].W_out.copy())
        return checkpoint

    run_group(2, lambda c: distributed.train_rank(
        whole[c.rank], shards[c.rank], c, sync_tokens=2_000,
        checkpoint=keep(c.rank), checkpoint_every=0))
    assert sorted(saved) == [0, 1]
    resumed = [make_model(vocab) for _ in range(2)]
    for rank, model in enumerate(resumed):
        model.W_in[...] = saved[rank][2]
        model.W_out[...] = saved[rank][3]
    run_group(2, lambda c: distributed.train_rank(
        resumed[c.rank], shards[c.rank], c, sync_tokens=2_000,
        resume=saved[c.rank][:2]))
    np.testing.assert_array_equal(resumed[0].W_in, whole[0].W_in)
    np.testing.assert_array_equal(resumed[1].W_out, whole[1].W_out)
