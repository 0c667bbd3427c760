"""Approximate nearest neighbours (cw2v.ann): recall against exact search, the saved index, and
the index refused when it does not belong to the vectors. Needs the ``ann`` extra (faiss)."""
from __future__ import annotations

import os

import numpy as np
import pytest

pytest.importorskip("faiss")

from cw2v import Vectors  # noqa: E402
from cw2v.ann import IndexMismatchError, build_index, load_index  # noqa: E402

N, D, K = 3000, 32, 10


def clustered(n=N, d=D, seed=0) -> Vectors:
    """n vectors in 60 gaussian clusters, words w0..w{n-1}."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((60, d)).astype(np.float32)
    x = centres[rng.integers(0, 60, n)] + 0.5 * rng.standard_normal((n, d)).astype(np.float32)
    return Vectors([f"w{i}" for i in range(n)], x)


@pytest.fixture(scope="module")
def wv():
    v = clustered()
    v.build_index(M=16, ef_construction=100, ef_search=64, threads=1)
    return v


def exact_unit_top(wv: Vectors, word: str, k: int) -> set:
    """The k nearest words by cosine, computed here from the raw matrix (not by cw2v)."""
    x = wv.vectors / np.linalg.norm(wv.vectors, axis=1, keepdims=True)
    scores = x @ x[wv.index(word)]
    scores[wv.index(word)] = -np.inf
    return {wv.vocab[i] for i in np.argsort(-scores)[:k]}


def test_recall_at_10_against_exact(wv):
    words = [f"w{i}" for i in range(0, N, 15)]
    recall = np.mean([len({w for w, _ in wv.most_similar(q, K, approximate=True)}
                          & exact_unit_top(wv, q, K)) / K for q in words])
    assert recall >= 0.95


def test_answers_like_exact_search(wv):
    """Same form as exact search: k pairs, query word excluded, the exact cosines."""
    approx = wv.most_similar("w7", K, approximate=True)
    exact = dict(wv.most_similar("w7", N))
    assert len(approx) == K and "w7" not in dict(approx)
    for word, score in approx:
        assert score == pytest.approx(exact[word], abs=1.5e-3)
    assert [s for _, s in approx] == sorted((s for _, s in approx), reverse=True)
    # analogies and raw vectors go through the same path
    assert len(wv.most_similar(["w1", "w2"], 5, ["w3"], approximate=True)) == 5
    assert not {"w1", "w2", "w3"} & {w for w, _ in
                                     wv.most_similar(["w1", "w2"], 5, ["w3"], approximate=True)}


def test_exact_stays_default(wv, monkeypatch):
    import cw2v.ann

    def boom(*a, **k):
        raise AssertionError("approximate path used")

    monkeypatch.setattr(cw2v.ann, "query", boom)
    assert len(wv.most_similar("w1", 3)) == 3


def test_save_load_round_trip(wv, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    wv.save_index("model.ann")  # a relative path, beside the vectors
    assert not [p for p in os.listdir(".") if p.endswith(".tmp")]
    other = Vectors(list(wv.vocab), wv.vectors.copy())
    index = other.load_index("model.ann")
    assert (index.count, index.dim, index.params) == (N, D, wv._ann_index.params)
    assert other.most_similar("w5", K, approximate=True) == \
        wv.most_similar("w5", K, approximate=True)


def test_compressed_round_trip(wv, tmp_path):
    """A .gz suffix compresses the save (as every cw2v save does) and loading reads it back."""
    wv.save_index(tmp_path / "m.ann.gz")
    assert (tmp_path / "m.ann.gz").read_bytes()[:2] == b"\x1f\x8b"
    index = load_index(tmp_path / "m.ann.gz", wv)
    assert fresh_answer(wv, index) == wv.most_similar("w3", 5, approximate=True)


def fresh_answer(wv, index):
    return Vectors(list(wv.vocab), wv.vectors.copy()).most_similar("w3", 5, index=index)


def test_index_passed_in(wv):
    index = wv._ann_index
    fresh = Vectors(list(wv.vocab), wv.vectors.copy())
    assert fresh.most_similar("w9", 4, index=index) == wv.most_similar("w9", 4,
                                                                        approximate=True)


@pytest.mark.parametrize("change", ["count", "dimension", "values", "words"])
def test_mismatched_index_refused(wv, tmp_path, change):
    path = tmp_path / "m.ann"
    wv.save_index(path)
    vocab, x = list(wv.vocab), wv.vectors.copy()
    if change == "count":
        vocab, x = vocab[:-1], x[:-1]
    elif change == "dimension":
        x = np.hstack([x, x[:, :1]])
    elif change == "values":
        x[17, 3] += 1e-3
    else:
        vocab[0], vocab[1] = vocab[1], vocab[0]
    other = Vectors(vocab, x)
    with pytest.raises(IndexMismatchError, match="build_index"):
        other.load_index(path)
    with pytest.raises(IndexMismatchError):
        other.most_similar("w2", 3, index=wv._ann_index)


def test_index_refused_after_vectors_change():
    v = clustered(400, 8, seed=3)
    v.build_index(M=8, threads=1)
    v.vectors[0] += 1.0
    v.invalidate_norms()  # what training does
    with pytest.raises(IndexMismatchError):
        v.most_similar("w1", 3, approximate=True)


def test_approximate_without_index_is_clear():
    v = clustered(100, 8)
    with pytest.raises(ValueError, match="build_index"):
        v.most_similar("w1", 3, approximate=True)
    with pytest.raises(ValueError, match="build_index"):
        v.save_index("never.ann")


@pytest.mark.parametrize("kwargs, name", [
    ({"M": 1}, "M"), ({"M": 2.5}, "M"), ({"ef_construction": 0}, "ef_construction"),
    ({"ef_search": -3}, "ef_search"), ({"threads": 0}, "threads"), ({"M": True}, "M"),
])
def test_bad_parameters(kwargs, name):
    with pytest.raises(ValueError, match=name):
        build_index(clustered(50, 4), **kwargs)


def test_bad_query_parameters(wv):
    with pytest.raises(ValueError, match="restrict_vocab"):
        wv.most_similar("w1", 3, approximate=True, restrict_vocab=100)
    with pytest.raises(ValueError, match="ef_search"):
        wv._ann_index.ef_search = 0
    with pytest.raises(TypeError, match="AnnIndex"):
        wv.most_similar("w1", 3, index="not an index")


def test_missing_faiss_says_what_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "faiss", None)  # import faiss raises ImportError
    with pytest.raises(ImportError, match=r"cw2v\[ann\]"):
        build_index(clustered(50, 4))


def test_corrupt_file_named(tmp_path, wv):
    bad = tmp_path / "bad.ann"
    bad.write_bytes(b"not an index at all")
    with pytest.raises(ValueError, match="bad.ann"):
        load_index(bad)
    good = tmp_path / "good.ann"
    wv.save_index(good)
    data = good.read_bytes()
    (tmp_path / "cut.ann").write_bytes(data[:len(data) // 2])
    with pytest.raises(ValueError, match="cut.ann"):
        load_index(tmp_path / "cut.ann")
    wv.save_index(tmp_path / "good.ann.gz")
    data = (tmp_path / "good.ann.gz").read_bytes()
    (tmp_path / "cut.ann.gz").write_bytes(data[:len(data) // 2])
    with pytest.raises(ValueError, match="cut.ann.gz"):
        load_index(tmp_path / "cut.ann.gz")


def test_save_never_replaces_a_directory(wv, tmp_path):
    (tmp_path / "d.ann").mkdir()
    with pytest.raises(OSError):
        wv.save_index(tmp_path / "d.ann")
    assert (tmp_path / "d.ann").is_dir()


def test_through_a_model():
    """A model forwards approximate=True to its vectors; training invalidates the index."""
    from collections import Counter

    from cw2v import Word2Vec
    from cw2v.demo import tiny_corpus

    sentences = tiny_corpus()
    counts = Counter(w for s in sentences for w in s)
    model = Word2Vec(sorted(counts), d=16, lr=0.025, n_neg=2, seed=1)
    model.set_freq(counts)
    model.wv.build_index(M=4, threads=1)
    assert [w for w, _ in model.most_similar("king", 3, approximate=True)] == \
        [w for w, _ in model.most_similar("king", 3)]
    for _ in range(3):  # (W_out starts at zero: the first pair leaves W_in as it was)
        model.train_pair(model.w2i["king"], model.w2i["queen"])
    with pytest.raises(IndexMismatchError):
        model.most_similar("king", 3, approximate=True)


# -- kind="ivf": faiss's inverted file -----------------------------------------------------------

@pytest.fixture(scope="module")
def wv_ivf():
    v = clustered()
    v.build_index(kind="ivf", nlist=40, nprobe=8, threads=1)
    return v


def test_ivf_recall_at_10_against_exact(wv_ivf):
    words = [f"w{i}" for i in range(0, N, 15)]
    recall = np.mean([len({w for w, _ in wv_ivf.most_similar(q, K, approximate=True)}
                          & exact_unit_top(wv_ivf, q, K)) / K for q in words])
    assert recall >= 0.95
    index = wv_ivf._ann_index
    assert (index.kind, index.nprobe, index.params["nlist"]) == ("ivf", 8, 40)
    exact = dict(wv_ivf.most_similar("w7", N))
    for word, score in wv_ivf.most_similar("w7", K, approximate=True):
        assert score == pytest.approx(exact[word], abs=1.5e-3)


def test_ivf_nprobe_all_cells_is_exact(wv_ivf):
    """Scanning every cell is exact search: the same words as most_similar."""
    index = wv_ivf._ann_index
    index.nprobe = 40
    try:
        for q in ("w3", "w100", "w2999"):
            assert [w for w, _ in wv_ivf.most_similar(q, K, approximate=True)] == \
                [w for w, _ in wv_ivf.most_similar(q, K)]
    finally:
        index.nprobe = 8


def test_ivf_defaults():
    """nlist 4 sqrt(rows), trained on 40 nlist rows at most, nprobe 64 at most nlist."""
    index = build_index(clustered(400, 8), kind="ivf", threads=1)
    assert index.params == {"kind": "ivf", "nlist": 80, "nprobe": 64, "train_size": 400}


def test_ivf_save_load_and_mismatch(wv_ivf, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    wv_ivf.save_index("m.ann")
    other = Vectors(list(wv_ivf.vocab), wv_ivf.vectors.copy())
    index = other.load_index("m.ann")
    assert index.kind == "ivf" and index.params == wv_ivf._ann_index.params
    assert other.most_similar("w5", K, approximate=True) == \
        wv_ivf.most_similar("w5", K, approximate=True)
    x = wv_ivf.vectors.copy()
    x[5, 0] += 1e-3
    with pytest.raises(IndexMismatchError, match="build_index"):
        Vectors(list(wv_ivf.vocab), x).load_index("m.ann")


def _rewrite_header(path, change):
    import json
    import struct

    data = path.read_bytes()
    (size,) = struct.unpack("<I", data[8:12])
    meta = json.loads(data[12:12 + size])
    change(meta)
    head = json.dumps(meta).encode()
    path.write_bytes(data[:8] + struct.pack("<I", len(head)) + head + data[12 + size:])


def test_header_kind_checked_and_old_files_read(wv, wv_ivf, tmp_path):
    """A header whose kind is not the index it holds is refused, naming the file; a header
    written before kinds existed (no "kind") is an HNSW index."""
    wv_ivf.save_index(tmp_path / "ivf.ann")
    _rewrite_header(tmp_path / "ivf.ann", lambda m: m["params"].update(
        {"kind": "hnsw", "M": 8, "ef_construction": 8, "ef_search": 8}))
    with pytest.raises(ValueError, match="ivf.ann"):
        load_index(tmp_path / "ivf.ann")
    wv_ivf.save_index(tmp_path / "probe.ann")
    _rewrite_header(tmp_path / "probe.ann", lambda m: m["params"].update({"nprobe": 0}))
    with pytest.raises(ValueError, match="probe.ann"):
        load_index(tmp_path / "probe.ann")
    wv.save_index(tmp_path / "old.ann")
    _rewrite_header(tmp_path / "old.ann", lambda m: m["params"].pop("kind"))
    assert load_index(tmp_path / "old.ann", wv).kind == "hnsw"


@pytest.mark.parametrize("kwargs, name", [
    ({"kind": "flat"}, "kind"), ({"kind": "ivf", "nlist": 0}, "nlist"),
    ({"kind": "ivf", "nlist": 51}, "nlist"), ({"kind": "ivf", "nlist": 4, "nprobe": 5}, "nprobe"),
    ({"kind": "ivf", "nlist": 8, "train_size": 4}, "train_size"),
    ({"kind": "ivf", "M": 8}, "M"), ({"nprobe": 4}, "nprobe"),
])
def test_ivf_bad_parameters(kwargs, name):
    with pytest.raises(ValueError, match=name):
        build_index(clustered(50, 4), **kwargs)


def test_breadth_of_the_other_kind(wv, wv_ivf):
    with pytest.raises(AttributeError, match="ivf"):
        wv._ann_index.nprobe = 3
    with pytest.raises(AttributeError, match="hnsw"):
        wv_ivf._ann_index.ef_search
    with pytest.raises(ValueError, match="nprobe"):
        wv_ivf._ann_index.nprobe = 41


_IVF_MEMORY = r"""
import sys
import numpy as np
from cw2v import Vectors
from cw2v.ann import build_index
def rss():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmRSS"))
rng = np.random.default_rng(0)
v = Vectors([f"w{i}" for i in range(400_000)], rng.standard_normal((400_000, 32), dtype=np.float32))
build_index(Vectors(["a", "b"], np.eye(2, dtype=np.float32)), kind="ivf", nlist=1, threads=1)
before = rss()
index = build_index(v, kind="ivf", nlist=40, threads=1)
print((rss() - before) / (400_000 * (32 * 4 + 8)))
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads VmRSS (Linux)")
def test_ivf_build_sizes_each_cell_once(tmp_path):
    """The index grows the process by its rows (4 d bytes + an 8-byte id each) and a few
    blocks, not the up to 2x of faiss's doubling lists (1.93x here before; 1.57x after, the
    rest being two 8 MB blocks and the rows' cells)."""
    import subprocess
    import sys

    from conftest import PACKAGE_PARENT
    env = dict(os.environ, PYTHONPATH=PACKAGE_PARENT)  # (the cw2v under test)
    # (cwd outside the checkout: "python -c" puts its working folder first on sys.path)
    out = subprocess.run([sys.executable, "-c", _IVF_MEMORY], capture_output=True, text=True,
                         env=env, check=True, cwd=tmp_path).stdout
    assert float(out.split()[-1]) < 1.75
