"""The drop-in class: API, the classic demo, determinism and bad input."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import os

import numpy as np
import pytest

import cw2v
from cw2v import Word2Vec, reference
from cw2v.demo import train_tiny

VOCAB = ["king", "queen", "man", "woman", "dog", "cat"]


@pytest.fixture(params=[Word2Vec, reference.Word2Vec], ids=["cython", "reference"])
def cls(request):
    """Every test here runs against the compiled class and the NumPy reference."""
    return request.param


def test_attributes_and_initialisation(cls):
    m = cls(VOCAB, d=8, lr=0.05, n_neg=3, seed=0)
    assert m.vocab == VOCAB and m.w2i["dog"] == 4
    assert m.W_in.shape == m.W_out.shape == (6, 8)
    assert m.W_in.dtype == np.float32 and m.W_in.strides[1] == 4  # rows contiguous
    assert np.all(np.abs(m.W_in) <= 0.5 / 8) and np.abs(m.W_in).max() > 0.25 / 8
    assert not m.W_out.any()
    assert m.lr == 0.05 and m.n_neg == 3
    np.testing.assert_allclose(m.freq, np.full(6, 1 / 6))


def test_initial_weights_drawn_in_blocks_equal_one_draw(cls, monkeypatch):
    """W_in is drawn a block of rows at a time (no float64 copy of the whole matrix): the very
    floats of word2vec.c's rule drawn at once, (U[0, 1) - 0.5) / d from the seed's generator,
    with blocks that do not divide the vocabulary."""
    from cw2v import base
    monkeypatch.setattr(base, "_INIT_VALUES", 7 * 8 + 3)  # 7 rows of d=8 a block
    words = [f"w{i}" for i in range(50)]
    m = cls(words, d=8, seed=11)
    want = ((np.random.default_rng(base.seed_state(11)).random((50, 8)) - 0.5) / 8).astype(np.float32)
    np.testing.assert_array_equal(m.W_in, want)


def test_weights_too_big_for_memory_are_refused_before_allocation(cls, monkeypatch):
    """A model whose matrices need more than the machine has gets a MemoryError naming them,
    their size and what to lower, before any allocation (a lazily allocated matrix would be
    killed by the system when training touches it)."""
    from cw2v import _rows
    monkeypatch.setattr(_rows, "available_memory", lambda: 10 * 2**20)  # 10 MiB
    monkeypatch.setattr(cls, "_zeros", staticmethod(lambda *a, **k: pytest.fail("allocated")))
    words = [f"w{i}" for i in range(20_000)]
    with pytest.raises(MemoryError, match=r"input and output matrices \(40,000 rows x 100 "
                                          r"floats\) need 0.0 GiB.*available: use a smaller d"):
        cls(words, d=100)
    monkeypatch.undo()
    assert cls(words[:10], d=100).W_in.shape == (10, 100)  # what fits is made as before


def test_available_memory_is_read_on_linux():
    from cw2v import _rows
    have = _rows.available_memory()
    if not os.path.exists("/proc/meminfo"):
        assert have is None
    else:
        assert isinstance(have, int) and have > 2**20


def test_set_freq_is_unigram_075_with_missing_words_one(cls):
    m = cls(VOCAB, d=4, seed=0)
    m.set_freq({"king": 16, "queen": 81})
    w = np.array([16, 81, 1, 1, 1, 1], dtype=float) ** 0.75
    np.testing.assert_allclose(m.freq, w / w.sum())


def test_train_pair_moves_towards_the_pair(cls):
    m = cls(VOCAB, d=16, lr=0.1, n_neg=2, seed=3)
    c, o = m.w2i["king"], m.w2i["queen"]
    before = float(m.W_in[c] @ m.W_out[o])
    for _ in range(50):
        m.train_pair(c, o, negatives=[m.w2i["dog"], m.w2i["cat"]])
    assert float(m.W_in[c] @ m.W_out[o]) > before + 1.0
    assert float(m.W_in[c] @ m.W_out[m.w2i["dog"]]) < 0


def test_similarity_and_most_similar(cls):
    m = cls(VOCAB, d=3, seed=0)
    m.W_in[:] = [[1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0, 0.8, 0.2], [0, 0, 1], [0.1, 0, 1]]
    m.invalidate_norms()
    assert m.similarity("king", "king") == pytest.approx(1.0)
    assert m.similarity("king", "dog") == pytest.approx(0.0)
    top = m.most_similar("king", k=2)
    assert [w for w, _ in top] == ["queen", "cat"]
    assert top[0][1] == round(0.9 / np.hypot(0.9, 0.1), 3)
    assert all(w != "king" for w, _ in m.most_similar("king", k=10))
    # The second positional argument is k, as in the classic class.
    assert len(m.most_similar("king", 3)) == 3


def test_norm_cache_follows_training(cls):
    m = cls(VOCAB, d=8, lr=0.5, seed=0)
    before = m.similarity("king", "queen")
    for _ in range(20):
        m.train_pair(0, 1)
    assert m.similarity("king", "queen") != before


def test_same_seed_same_weights_different_seed_different(cls):
    def run(seed):
        m = cls(VOCAB, d=8, seed=seed)
        m.set_freq({w: i + 1 for i, w in enumerate(VOCAB)})
        rng = np.random.default_rng(0)
        for c, o in rng.integers(0, 6, (200, 2)):
            m.train_pair(int(c), int(o))
        m.train_pairs(rng.integers(0, 6, 100), rng.integers(0, 6, 100))
        return m.W_in.copy(), m.W_out.copy()

    a, b, c = run(1), run(1), run(2)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0]) and not np.array_equal(a[1], c[1])


def test_global_numpy_seed_makes_seedless_models_reproducible():
    np.random.seed(42)
    a = Word2Vec(VOCAB, d=4)
    np.random.seed(42)
    b = Word2Vec(VOCAB, d=4)
    np.testing.assert_array_equal(a.W_in, b.W_in)


# -- the classic demo --------------------------------------------------------------------------

ARTICLE_SCRIPT = textwrap.dedent('''
    import numpy as np
    from collections import Counter
    from cw2v import Word2Vec

    corpus = [line.split() for line in open(CORPUS)]
    counts = Counter(w for s in corpus for w in s)
    vocab = sorted(counts)
    model = Word2Vec(vocab, d=50, lr=0.025, n_neg=5)
    model.set_freq(counts)
    for epoch in range(100):
        for sent in corpus:
            for i, w in enumerate(sent):
                for j in range(max(0, i - 2), min(len(sent), i + 3)):
                    if i != j:
                        model.train_pair(model.w2i[w], model.w2i[sent[j]])
    print(model.similarity("king", "queen") > model.similarity("king", "dog"))
    print("cat" in [w for w, _ in model.most_similar("dog", k=5)])
''')


def test_article_script_runs_unchanged(tmp_path):
    """The classic script, only the import changed, runs as a user would run it."""
    from importlib import resources

    corpus = resources.files("cw2v.data").joinpath("tiny_corpus.txt")
    script = tmp_path / "article.py"
    script.write_text(ARTICLE_SCRIPT.replace("CORPUS", repr(str(corpus))))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=300, cwd=tmp_path, env=_env_importing_cw2v())
    assert out.returncode == 0, out.stderr
    # Whether the claims hold for this unseeded run is test_demo_...'s business (over seeds).
    assert len(out.stdout.split()) == 2
    assert set(out.stdout.split()) <= {"True", "False"}


def _env_importing_cw2v() -> dict:
    """The environment with the cw2v under test importable (installed or in the source tree)."""
    import os
    from pathlib import Path

    env = dict(os.environ)
    root = str(Path(cw2v.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    return env


def test_demo_finds_royal_and_pet_neighbours():
    """On sixteen sentences training is noisy, so the claims must hold for most seeds: at least
    4 of 5 (one unlucky seed is tolerated, two would mean the model learns nothing reliable)."""
    good = 0
    for seed in range(5):
        m = train_tiny(seed=seed)
        royal = m.similarity("king", "queen") > m.similarity("king", "dog")
        pets = "cat" in [w for w, _ in m.most_similar("dog", k=5)]
        good += royal and pets
    assert good >= 4


def test_demo_command_prints_neighbours(tmp_path):
    # cwd outside the checkout: `python -m` puts the working directory first on sys.path.
    out = subprocess.run([sys.executable, "-m", "cw2v.demo"], capture_output=True, text=True,
                         timeout=300, cwd=tmp_path, env=_env_importing_cw2v())
    assert out.returncode == 0, out.stderr
    assert "most similar to king" in out.stdout and "similarity(king, queen)" in out.stdout


# -- bad input ---------------------------------------------------------------------------------

def test_unknown_word_raises_keyerror_naming_it(cls):
    m = cls(VOCAB, d=4, seed=0)
    with pytest.raises(KeyError, match="unicorn"):
        m.similarity("king", "unicorn")
    with pytest.raises(KeyError, match="unicorn"):
        m.most_similar("unicorn")


@pytest.mark.parametrize("bad", [-1, 6, 10**12])
def test_index_out_of_range_raises_indexerror(cls, bad):
    m = cls(VOCAB, d=4, seed=0)
    with pytest.raises(IndexError, match=str(bad)):
        m.train_pair(bad, 0)
    with pytest.raises(IndexError):
        m.train_pair(0, bad)
    with pytest.raises(IndexError):
        m.train_pair(0, 1, negatives=[0, bad])
    with pytest.raises(IndexError):
        m.train_pairs(np.array([0, bad]), np.array([1, 2]))
    with pytest.raises(IndexError):
        m.train_pairs(np.array([0, 1]), np.array([1, bad]))


def test_train_pair_takes_any_integer_index(cls):
    """Plain ints take the fast path; NumPy integers and huge ints are checked, not caught."""
    m = cls(VOCAB, d=4, seed=0)
    m.train_pair(np.int64(0), np.int32(1))
    m.train_pair(0, 1)
    with pytest.raises(IndexError, match=str(2**70)):
        m.train_pair(2**70, 0)
    with pytest.raises(IndexError, match=str(-2**70)):
        m.train_pair(0, -2**70)
    with pytest.raises(TypeError):
        m.train_pair(True, 1)


def test_pair_generator_is_mirrored_in_rng_state():
    """The model's saved generator state follows train_pair / train_pairs, and a replaced
    weight array or noise table keeps the generator where it was."""
    m = Word2Vec(VOCAB, d=4, seed=0)
    start = int(m._rng_state[0])
    m.train_pair(0, 1)
    after_one = int(m._rng_state[0])
    assert after_one != start
    m.train_pairs([0, 1], [1, 2])
    after_pairs = int(m._rng_state[0])
    assert after_pairs != after_one
    m.set_freq({"king": 3})  # a new noise table: a new kernel state from the saved generator
    m.train_pair(0, 1)
    twin = Word2Vec(VOCAB, d=4, seed=0)
    twin.set_freq({"king": 3})
    twin._rng_state[0] = after_pairs
    twin.train_pair(0, 1)
    assert int(twin._rng_state[0]) == int(m._rng_state[0])


@pytest.mark.parametrize("kwargs, name", [
    (dict(d=0), "d"), (dict(d=-3), "d"), (dict(n_neg=-1), "n_neg"), (dict(lr=0), "lr"),
    (dict(lr=-0.1), "lr"), (dict(lr=float("nan")), "lr"), (dict(d=2.5), "d"),
])
def test_bad_hyper_parameters_raise_valueerror_naming_them(cls, kwargs, name):
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        cls(VOCAB, **kwargs)


def test_bad_vocabularies(cls):
    with pytest.raises(ValueError, match="empty"):
        cls([])
    with pytest.raises(ValueError, match="duplicate.*king"):
        cls(["king", "queen", "king"])
    with pytest.raises(TypeError, match="str"):
        cls(["king", 3])


def test_wrong_dtypes_and_shapes(cls):
    m = cls(VOCAB, d=4, seed=0)
    with pytest.raises(TypeError, match="integer"):
        m.train_pairs(np.array([0.0, 1.0]), np.array([1, 2]))
    with pytest.raises(ValueError, match="differ in length"):
        m.train_pairs(np.array([0, 1]), np.array([1, 2, 3]))
    with pytest.raises(ValueError, match="1-D"):
        m.train_pairs(np.zeros((2, 2), dtype=int), np.zeros((2, 2), dtype=int))
    with pytest.raises(ValueError, match="one row per pair"):
        m.train_pairs(np.array([0, 1]), np.array([1, 2]), negatives=np.zeros((3, 5), int))
    with pytest.raises(TypeError):
        m.train_pair(0.5, 1)


def test_replaced_weights_of_wrong_type_are_refused():
    m = Word2Vec(VOCAB, d=4, seed=0)
    m.W_in = m.W_in.astype(np.float64)
    with pytest.raises(TypeError, match="W_in"):
        m.train_pair(0, 1)
    m = Word2Vec(VOCAB, d=4, seed=0)
    m.W_out = np.zeros((5, 4), dtype=np.float32)
    with pytest.raises(ValueError, match="W_out"):
        m.train_pairs([0], [1])


def test_reference_options():
    with pytest.raises(ValueError, match="sigmoid"):
        reference.Word2Vec(VOCAB, sigmoid="fast")
    m = reference.Word2Vec(VOCAB, d=4, seed=0, sigmoid="exact", dtype=np.float64)
    assert m.W_in.dtype == np.float64
    m.train_pair(0, 1)


def test_public_functions_have_docstrings():
    import inspect

    for obj in (cw2v.Word2Vec, reference.Word2Vec, cw2v.Vectors):
        for name, member in inspect.getmembers(obj, inspect.isfunction):
            if not name.startswith("_"):
                assert member.__doc__, f"{obj.__name__}.{name} has no docstring"


def _sentences(n=300, seed=0):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(40)]
    return [[words[k] for k in rng.zipf(1.5, 12) % 40] for _ in range(n)]


@pytest.mark.parametrize("d", [5, 8, 100])
def test_weights_rows_start_on_vector_boundaries(tmp_path, d):
    """The compiled model's weights are the first d columns of an aligned, padded array (see
    cw2v/_rows.py), after construction, vocabulary growth and loading alike."""
    from cw2v._simd import row_bytes

    def check(m):
        for w in (m.W_in, m.W_out, m.syn1):
            assert w.dtype == np.float32 and w.shape == (len(m.vocab), d)
            assert w.ctypes.data % 64 == 0 and w.strides == (w.strides[0], 4)
            assert w.strides[0] % row_bytes() == 0 and 0 <= w.strides[0] - 4 * d < row_bytes()

    m = Word2Vec.from_corpus(_sentences(), d=d, min_count=1, epochs=1, hs=1, n_neg=2,
                             progress=False)
    check(m)
    n = len(m.vocab)
    m.build_vocab([["brand", "new", "words"]])  # min_count 1, as the model was built
    assert len(m.vocab) == n + 3
    check(m)
    m.save(tmp_path / "m.cw2v")
    loaded = Word2Vec.load(tmp_path / "m.cw2v")
    check(loaded)
    for name in ("W_in", "W_out", "syn1"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(m, name))


def test_padded_and_contiguous_weights_train_and_save_alike(tmp_path, monkeypatch):
    """The same model with its weights in C-contiguous copies trains to the same bits, corpus
    and pairs alike, and saves to the same bytes (also when the rows are written a few at a
    time)."""
    sentences = _sentences()
    models = []
    for contiguous in (False, True):
        m = Word2Vec.from_corpus(sentences, d=13, min_count=1, epochs=1, hs=1, n_neg=3,
                                 seed=4, progress=False)
        if contiguous:
            m.W_in, m.W_out = np.ascontiguousarray(m.W_in), np.ascontiguousarray(m.W_out)
            m.syn1 = np.ascontiguousarray(m.syn1)
            assert m.W_in.flags.c_contiguous and m.W_in.base is None
        else:
            assert not m.W_in.flags.c_contiguous
        m.train(sentences, epochs=2, progress=False)
        m.train_pairs(np.arange(10), np.arange(10)[::-1].copy())
        models.append(m)
    for name in ("W_in", "W_out", "syn1"):
        np.testing.assert_array_equal(getattr(models[0], name), getattr(models[1], name))
    assert models[0].loss_history == models[1].loss_history
    monkeypatch.setattr(cw2v.io, "_CHUNK_BYTES", 100)  # a few rows per write
    for k, m in enumerate(models):
        m.save(tmp_path / f"{k}.cw2v")
    assert (tmp_path / "0.cw2v").read_bytes() == (tmp_path / "1.cw2v").read_bytes()
    # A flipped byte inside the weights is still caught, read a few rows at a time.
    data = bytearray((tmp_path / "0.cw2v").read_bytes())
    data[-10] ^= 0xFF
    (tmp_path / "bad.cw2v").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="CRC-32"):
        Word2Vec.load(tmp_path / "bad.cw2v")

