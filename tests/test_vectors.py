"""``Vectors`` as a model holds it: a view of ``W_in`` that follows every weight change."""
from __future__ import annotations

import os

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


# -- issue 31: queries without a second copy, batches, float16, native files -----------------------

import tracemalloc  # noqa: E402

from cw2v import vectors as vectors_module  # noqa: E402


def random_vectors(n=3000, d=20, seed=0, zero_row=True):
    rng = np.random.default_rng(seed)
    matrix = rng.standard_normal((n, d)).astype(np.float32)
    if zero_row:
        matrix[7] = 0.0
    return Vectors([f"w{i}" for i in range(n)], matrix)


def numpy_nearest(matrix, query, k, exclude=(), limit=None):
    """The plain NumPy answer: unit rows (zero rows stay zero) @ unit query, best k."""
    m = np.asarray(matrix, dtype=np.float32)[:limit]
    unit = m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), np.finfo(np.float32).tiny)
    q = np.asarray(query, dtype=np.float32)
    scores = (unit @ (q / np.linalg.norm(q))).astype(np.float64)
    scores[list(exclude)] = -np.inf
    top = np.argsort(-scores, kind="stable")[:k]
    return [f"w{i}" for i in top], scores[top]


def check_same(answer, words, scores):
    assert [w for w, _ in answer] == words
    np.testing.assert_allclose([s for _, s in answer], np.round(scores, 3), atol=1.5e-3)


@pytest.mark.parametrize("block_bytes", [1 << 22, 4096])  # one block; many (merged) blocks
def test_queries_equal_plain_numpy(monkeypatch, block_bytes):
    monkeypatch.setattr(vectors_module, "_BLOCK_BYTES", block_bytes)
    v = random_vectors()
    m = v.vectors
    check_same(v.most_similar("w3", 10), *numpy_nearest(m, m[3], 10, [3]))
    check_same(v.most_similar(["w3", "w5"], 10, ["w9"], restrict_vocab=500),
               *numpy_nearest(m, m[3] / np.linalg.norm(m[3]) + m[5] / np.linalg.norm(m[5])
                              - m[9] / np.linalg.norm(m[9]), 10, [3, 5, 9], limit=500))
    q = np.arange(20, dtype=np.float32)
    check_same(v.similar_by_vector(q, 7), *numpy_nearest(m, q, 7))
    batch = v.most_similar_batch(["w3", q, "w11"], 6)
    assert batch == [v.most_similar("w3", 6), v.similar_by_vector(q, 6), v.most_similar("w11", 6)]
    assert v.most_similar_batch(np.stack([m[3], q]), 6) == [
        v.similar_by_vector(m[3], 6), v.similar_by_vector(q, 6)]
    assert v.similarity("w3", "w5") == pytest.approx(
        float(m[3] @ m[5] / np.linalg.norm(m[3]) / np.linalg.norm(m[5])), rel=1e-6)
    assert v.similarity("w3", "w7") == 0.0  # the zero row scores zero


def test_cosmul_equals_plain_numpy(monkeypatch):
    monkeypatch.setattr(vectors_module, "_BLOCK_BYTES", 4096)
    v = random_vectors(zero_row=False)
    unit = v.vectors / np.linalg.norm(v.vectors, axis=1, keepdims=True)
    cos = lambda i: (1 + unit @ unit[i].astype(np.float64)) / 2  # noqa: E731
    scores = cos(3) * cos(5) / (cos(9) + 1e-6)
    scores[[3, 5, 9]] = -np.inf
    top = np.argsort(-scores)[:5]
    check_same(v.most_similar_cosmul(["w3", "w5"], 5, ["w9"]), [f"w{i}" for i in top], scores[top])


def test_batch_errors():
    v = random_vectors(50, 4)
    with pytest.raises(KeyError, match="'nope'"):
        v.most_similar_batch(["w1", "nope"])
    with pytest.raises(TypeError):
        v.most_similar_batch("w1")
    with pytest.raises(ValueError, match="k must"):
        v.most_similar_batch(["w1"], 0)
    assert v.most_similar_batch([]) == []


def test_norms_are_one_vector_and_a_query_makes_no_copy():
    v = random_vectors(40_000, 64)
    tracemalloc.start()
    try:
        v.most_similar("w1", 10)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert v.norms.shape == (40_000,) and v.norms.dtype == np.float32
    assert peak < v.vectors.nbytes / 4  # before issue 31: a normalised V x d copy (1x)


def test_normalize_in_place_and_as_a_copy():
    v = random_vectors()
    before = v.most_similar("w3", 10)
    raw = v.vectors.copy()
    copy = v.normalize()
    assert copy is not v and np.array_equal(v.vectors, raw)  # replace=False leaves v alone
    same = v.vectors
    assert v.normalize(replace=True) is v and v.vectors is same  # scaled in place, no new array
    lengths = np.linalg.norm(v.vectors, axis=1)
    np.testing.assert_allclose(np.delete(lengths, 7), 1.0, rtol=1e-6)
    assert lengths[7] == 0.0  # the zero row stays zero
    np.testing.assert_allclose(v.vectors, copy.vectors)
    assert v.most_similar("w3", 10) == before == copy.most_similar("w3", 10)


def test_float16_queries_and_round_trip(tmp_path):
    v = random_vectors()
    h = v.astype("float16")
    assert h.vectors.dtype == np.float16 and h.vectors.nbytes * 2 == v.vectors.nbytes
    m16 = h.vectors.astype(np.float32)
    check_same(h.most_similar("w3", 10), *numpy_nearest(m16, m16[3], 10, [3]))
    assert [w for w, _ in h.most_similar("w3", 5)] == [w for w, _ in v.most_similar("w3", 5)]
    with pytest.raises(ValueError, match="float16, float32, float64 or int8"):
        v.astype("int16")
    h.save(tmp_path / "h.cw2v")
    for mmap in (False, True):
        back = Vectors.load(tmp_path / "h.cw2v", mmap=mmap)
        assert back.vectors.dtype == np.float16 and back.vocab == h.vocab
        assert np.array_equal(back.vectors, h.vectors)
        assert back.most_similar("w3", 5) == h.most_similar("w3", 5)
    assert isinstance(Vectors.load(tmp_path / "h.cw2v", mmap=True).vectors, np.memmap)


def test_native_vectors_round_trip_odd_words_and_model_files(tmp_path, monkeypatch):
    v = Vectors(["a b", "é", "line\nbreak", "x"], np.arange(8, dtype=np.float32).reshape(4, 2))
    monkeypatch.chdir(tmp_path)
    v.save("v.cw2v")  # a relative path
    back = Vectors.load("v.cw2v")
    assert back.vocab == v.vocab and np.array_equal(back.vectors, v.vectors)
    m = Word2Vec(["king", "queen", "man"], d=4, seed=1)
    m.save("m.cw2v")
    wv = Vectors.load("m.cw2v", mmap=True)  # a model file gives its W_in
    assert wv.vocab == m.vocab and np.array_equal(wv.vectors, m.W_in)
    (tmp_path / "junk").write_bytes(b"not a model")
    with pytest.raises(ValueError, match="junk"):
        Vectors.load("junk")


def query_peak(v) -> int:
    """Peak bytes Python allocates for a first most_similar and most_similar_batch on ``v``."""
    tracemalloc.start()
    try:
        v.most_similar("w1", 10)
        v.most_similar_batch(["w1", "w2"], 10)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_first_query_on_a_mapped_file_does_not_copy_the_matrix(tmp_path):
    random_vectors(40_000, 64).save(tmp_path / "v.cw2v")
    v = Vectors.load(tmp_path / "v.cw2v", mmap=True)
    peak = query_peak(v)
    assert isinstance(v.vectors, np.memmap) and peak < v.vectors.nbytes / 4
    with pytest.raises(ValueError, match="read-only"):
        v.normalize(replace=True)


def test_native_vectors_file_with_broken_word_offsets_names_the_file(tmp_path):
    from cw2v.io import load_arrays, save_arrays

    random_vectors(20, 3).save(tmp_path / "v.cw2v")
    meta, arrays = load_arrays(tmp_path / "v.cw2v")
    arrays["word_ends"] = arrays["word_ends"][::-1].copy()  # offsets that go backwards
    save_arrays(tmp_path / "bad.cw2v", meta, arrays)
    with pytest.raises(ValueError, match="bad.cw2v"):
        Vectors.load(tmp_path / "bad.cw2v")
    arrays["word_ends"] = arrays["word_ends"][:-1][::-1].copy()  # one word short
    save_arrays(tmp_path / "short.cw2v", meta, arrays)
    with pytest.raises(ValueError, match="short.cw2v"):
        Vectors.load(tmp_path / "short.cw2v")


# -- int8 storage with a per-row scale -------------------------------------------------------------

def dequantised(q: Vectors) -> np.ndarray:
    """The float32 matrix int8 vectors stand for, computed here: codes times scales."""
    return q.vectors.astype(np.float32) * q.scales[:, None]


def test_int8_scales_codes_and_error_bound():
    v = random_vectors()
    x = v.vectors.astype(np.float64)
    q = v.astype("int8")
    assert q.vectors.dtype == np.int8 and q.vectors.shape == v.vectors.shape
    assert q.scales.dtype == np.float32 and q.scales.shape == (len(v),)
    assert q.vectors.nbytes * 4 == v.vectors.nbytes
    np.testing.assert_array_equal(q.scales, (np.abs(x).max(axis=1) / 127).astype(np.float32))
    assert np.abs(q.vectors).max() == 127 and q.vectors.min() >= -127
    err = np.abs(q.vectors * q.scales[:, None].astype(np.float64) - x)
    assert np.all(err <= q.scales[:, None] / 2 * (1 + 1e-6))  # each value within scale / 2
    assert err.max() > 0.45 * q.scales.max()  # (the bound is tight, not vacuous)
    assert q.scales[7] == 0 and not q.vectors[7].any()  # the zero row stays zero
    back = q.astype("float32")
    assert back.vectors.dtype == np.float32 and back.scales is None
    np.testing.assert_array_equal(back.vectors, dequantised(q))
    np.testing.assert_array_equal(q.astype("float16").vectors, dequantised(q).astype(np.float16))
    again = q.astype("int8")
    assert again.vectors is not q.vectors and np.array_equal(again.vectors, q.vectors)
    np.testing.assert_array_equal(q.get_vector("w3"), dequantised(q)[3])


@pytest.mark.parametrize("block_bytes", [1 << 22, 4096])
def test_int8_queries_equal_float32_queries_of_the_dequantised_matrix(monkeypatch, block_bytes):
    monkeypatch.setattr(vectors_module, "_BLOCK_BYTES", block_bytes)
    q = random_vectors().astype("int8")
    m = dequantised(q)
    f = Vectors(q.vocab, m)
    check_same(q.most_similar("w3", 10), *numpy_nearest(m, m[3], 10, [3]))
    assert q.most_similar("w3", 10) == f.most_similar("w3", 10)
    assert q.most_similar(["w3", "w5"], 8, ["w9"], restrict_vocab=900) == \
        f.most_similar(["w3", "w5"], 8, ["w9"], restrict_vocab=900)
    batch = ["w1", "w2", "w7"]
    assert q.most_similar_batch(batch, 6) == f.most_similar_batch(batch, 6)
    assert q.most_similar_cosmul(["w3", "w5"], 5, ["w9"]) == \
        f.most_similar_cosmul(["w3", "w5"], 5, ["w9"])
    assert q.similarity("w3", "w5") == f.similarity("w3", "w5")
    assert q.doesnt_match(["w1", "w2", "w3", "w4"]) == f.doesnt_match(["w1", "w2", "w3", "w4"])
    np.testing.assert_array_equal(q.norms, f.norms)
    np.testing.assert_array_equal(q.unit_vectors, f.unit_vectors)


def test_int8_normalize_scales_only():
    q = random_vectors().astype("int8")
    before, codes = q.most_similar("w3", 10), q.vectors.copy()
    copy = q.normalize()
    assert np.array_equal(copy.vectors, codes) and copy.vectors is not q.vectors
    lengths = np.linalg.norm(dequantised(copy), axis=1)
    np.testing.assert_allclose(np.delete(lengths, 7), 1.0, rtol=1e-6)
    assert q.normalize(replace=True) is q and np.array_equal(q.vectors, codes)
    np.testing.assert_array_equal(q.scales, copy.scales)
    assert q.most_similar("w3", 10) == before


def test_int8_native_file_round_trip_and_mapped_query_copies_nothing(tmp_path, monkeypatch):
    q = random_vectors(100_000, 64).astype("int8")
    monkeypatch.chdir(tmp_path)
    q.save("q.cw2v")  # a relative path
    assert os.path.getsize("q.cw2v") < q.vectors.nbytes + q.scales.nbytes + 2_000_000
    for mmap in (False, True):
        back = Vectors.load("q.cw2v", mmap=mmap)
        assert back.vectors.dtype == np.int8 and back.vocab == q.vocab
        assert np.array_equal(back.vectors, q.vectors) and np.array_equal(back.scales, q.scales)
        assert back.most_similar("w3", 5) == q.most_similar("w3", 5)
    v = Vectors.load("q.cw2v", mmap=True)
    assert isinstance(v.vectors, np.memmap)
    peak = query_peak(v)
    # a float32 copy would be 4x the int8 matrix (25.6 MB); the queries hold a block or two
    assert isinstance(v.vectors, np.memmap) and peak < v.vectors.nbytes * 4 / 2
    with pytest.raises(ValueError, match="read-only"):
        v.normalize(replace=True)


def test_int8_file_without_scales_names_the_file(tmp_path):
    from cw2v.io import load_arrays, save_arrays

    random_vectors(20, 3).astype("int8").save(tmp_path / "q.cw2v")
    meta, arrays = load_arrays(tmp_path / "q.cw2v")
    del arrays["scales"]
    save_arrays(tmp_path / "noscale.cw2v", meta, arrays)
    with pytest.raises(ValueError, match="noscale.cw2v"):
        Vectors.load(tmp_path / "noscale.cw2v")


def test_int8_word2vec_files_hold_the_dequantised_values(tmp_path):
    q = random_vectors(30, 5).astype("int8")
    q.save_word2vec_format(tmp_path / "q.bin", binary=True)
    q.save_word2vec_format(tmp_path / "q.txt")
    np.testing.assert_array_equal(Vectors.load_word2vec_format(tmp_path / "q.bin",
                                                               binary=True).vectors, dequantised(q))
    np.testing.assert_array_equal(Vectors.load_word2vec_format(tmp_path / "q.txt").vectors,
                                  dequantised(q))


@pytest.mark.parametrize("dtype", ["int16", "complex64", "nonsense", "uint8"])
def test_bad_storage_dtype_is_a_value_error(dtype):
    with pytest.raises(ValueError, match="int8"):
        random_vectors(10, 3).astype(dtype)


def test_int8_refuses_non_finite_rows_and_bad_scales():
    v = random_vectors(10, 3)
    v.vectors[4, 1] = np.nan
    with pytest.raises(ValueError, match="'w4'"):
        v.astype("int8")
    codes = np.zeros((3, 2), dtype=np.int8)
    with pytest.raises(ValueError, match="scales"):
        Vectors(["a", "b", "c"], codes, scales=np.ones(2, dtype=np.float32))
    with pytest.raises(ValueError, match="scales"):
        Vectors(["a", "b", "c"], codes, scales=np.array([1, -1, 1], dtype=np.float32))
    with pytest.raises(ValueError, match="int8"):
        Vectors(["a", "b", "c"], codes.astype(np.float32), scales=np.ones(3, dtype=np.float32))


def test_int8_through_gensim_projector_and_an_index(tmp_path):
    """Everything that reads the rows gets codes times scales, not the bare codes."""
    q = random_vectors(300, 6).astype("int8")
    pytest.importorskip("gensim")
    np.testing.assert_array_equal(q.to_gensim().vectors, dequantised(q))
    from cw2v.projector import export_projector

    export_projector(q, tmp_path / "proj")
    np.testing.assert_allclose(np.loadtxt(tmp_path / "proj" / "vectors.tsv", delimiter="\t"),
                               dequantised(q), rtol=1e-6)
    pytest.importorskip("faiss")
    from cw2v.ann import IndexMismatchError

    index = q.build_index(kind="ivf", nlist=4, nprobe=4, threads=1)
    assert [w for w, _ in q.most_similar("w3", 5, index=index)] == \
        [w for w, _ in q.most_similar("w3", 5)]
    other = Vectors(q.vocab, q.vectors.copy(), scales=q.scales * 2)  # same codes, other scales
    with pytest.raises(IndexMismatchError):
        other.most_similar("w3", 5, index=index)
