"""``Vectors`` as a model holds it: a view of ``W_in`` that follows every weight change."""
from __future__ import annotations

import numpy as np
import pytest

from cw2v import Vectors, Word2Vec


def test_model_holds_a_view_of_W_in():
    m = Word2Vec(["king", "queen", "man", "woman"], d=6, seed=3)
    assert isinstance(m.wv, Vectors) and not isinstance(m, Vectors)
    assert m.wv.vectors is m.W_in and m.wv.vocab is m.vocab and m.wv.w2i is m.w2i
    before = m.wv.get_vector("king")
    m.train_pairs(np.array([0, 1, 2]), np.array([1, 2, 3]))
    assert not np.array_equal(before, m.wv.get_vector("king"))  # a view, not a copy
    assert m.most_similar("king", 2) == m.wv.most_similar("king", 2)
    assert m.similarity("king", "queen") == m.wv.similarity("king", "queen")
    m.W_in = np.ones((4, 6), dtype=np.float32)
    assert m.wv.vectors is m.W_in and m.similarity("king", "queen") == pytest.approx(1.0)


def test_norms_follow_every_weight_change():
    m = Word2Vec(["a", "b", "c"], d=4, seed=1)
    m.W_out[:] = np.random.default_rng(0).normal(size=m.W_out.shape)  # so W_in moves at once
    stale = m.wv.unit_vectors.copy()
    for step in (lambda: m.train_pair(0, 1), lambda: m.train_pairs([0, 1], [1, 2])):
        step()
        fresh = m.W_in / np.linalg.norm(m.W_in, axis=1, keepdims=True)
        np.testing.assert_allclose(m.wv.unit_vectors, fresh, rtol=1e-6)
        assert not np.allclose(m.wv.unit_vectors, stale)
        stale = m.wv.unit_vectors.copy()


def test_queries_during_train_pairs_in_another_thread_see_the_final_weights():
    # Issue 15, bug 4: a most_similar while train_pairs ran in another thread cached norms of
    # half-trained weights, and kept them after the training thread ended.
    import threading

    rng = np.random.default_rng(0)
    m = Word2Vec([f"w{i}" for i in range(200)], d=16, seed=2)
    m.W_out[:] = rng.normal(size=m.W_out.shape).astype(np.float32)
    centers, contexts = rng.integers(0, 200, 400_000), rng.integers(0, 200, 400_000)
    worker = threading.Thread(target=m.train_pairs, args=(centers, contexts))
    worker.start()
    queries = 0
    while worker.is_alive() or queries == 0:
        m.most_similar("w1", 3)
        queries += 1
    worker.join()
    fresh = m.W_in / np.linalg.norm(m.W_in, axis=1, keepdims=True)
    np.testing.assert_allclose(m.wv.unit_vectors, fresh, rtol=1e-5, atol=1e-6)
