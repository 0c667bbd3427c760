"""Pretrained starts (issue 31): ``from_corpus(..., init_vectors=PATH_or_Vectors)`` copies
the rows of the words both hold (gensim's intersect_word2vec_format) before training."""
from __future__ import annotations

import conftest
import numpy as np
import pytest

import cw2v.model
from cw2v import Vectors, Word2Vec, cli, corpus

KW = dict(d=8, min_count=1, workers=1, seed=5, window=2, n_neg=2, epochs=2, progress=False)


def sentences() -> list[list[str]]:
    rng = np.random.default_rng(1)
    return [[f"w{j % 40}" for j in rng.zipf(1.5, 10)] for _ in range(400)]


@pytest.fixture
def pretrained() -> Vectors:
    """Vectors for w0..w9 (in the corpus) and two words it lacks, far from any random start."""
    rng = np.random.default_rng(7)
    words = [f"w{i}" for i in range(10)] + ["absent", "elsewhere"]
    return Vectors(words, (rng.standard_normal((len(words), 8)) + 3).astype(np.float32))


def start_of(monkeypatch, **kw):
    """W_in as ``from_corpus`` starts training, and the trained model (conftest's)."""
    return conftest.start_and_end(monkeypatch, sentences(), **{**KW, **kw})


def test_shared_words_start_from_the_pretrained_rows_the_others_from_random(monkeypatch,
                                                                           pretrained):
    start, model = start_of(monkeypatch, init_vectors=pretrained)
    plain_start, _ = start_of(monkeypatch)
    shared = [w for w in model.vocab if w in pretrained]
    assert sorted(shared) == sorted(f"w{i}" for i in range(10))
    for word in model.vocab:
        row = start[model.w2i[word]]
        if word in pretrained:
            assert np.array_equal(row, pretrained[word])
        else:  # untouched: the random start a model without init_vectors gets
            assert np.array_equal(row, plain_start[model.w2i[word]])
    # training moves the pretrained rows
    for word in shared:
        assert not np.array_equal(model.wv[word], pretrained[word])
    assert "absent" not in model.w2i


@pytest.mark.parametrize("kind", ["text", "binary", "native"])
def test_a_path_is_read_with_cw2v_s_loader(monkeypatch, pretrained, tmp_path, kind):
    monkeypatch.chdir(tmp_path)  # a relative path, as users type it
    if kind == "native":
        model = Word2Vec(pretrained.vocab, d=8, seed=0)
        model.W_in[:] = pretrained.vectors
        model.save("pre.cw2v")
        path = "pre.cw2v"
    else:
        path = f"pre.{kind}"
        pretrained.save_word2vec_format(path, binary=kind == "binary")
    expected = cli.load_vectors(path)
    start, model = start_of(monkeypatch, init_vectors=path)
    for word in expected.vocab:
        if word in model.w2i:
            assert np.array_equal(start[model.w2i[word]], expected[word])


def test_a_dimension_mismatch_is_a_value_error_before_the_corpus_is_read(pretrained, tmp_path):
    def never_read():
        raise AssertionError("the corpus was read")
        yield

    with pytest.raises(ValueError, match=r"dimension 8 but d=16; train with d=8"):
        Word2Vec.from_corpus(never_read(), **{**KW, "d": 16}, init_vectors=pretrained)
    pretrained.save_word2vec_format(tmp_path / "pre.txt")
    with pytest.raises(ValueError, match=r"pre\.txt.*dimension 8"):
        Word2Vec.from_corpus(never_read(), **{**KW, "d": 16}, init_vectors=tmp_path / "pre.txt")
    with pytest.raises(FileNotFoundError):
        Word2Vec.from_corpus(never_read(), **KW, init_vectors=tmp_path / "missing.txt")
    with pytest.raises(TypeError, match="Vectors"):
        Word2Vec.from_corpus(never_read(), **KW, init_vectors=42)


def test_non_finite_pretrained_rows_are_refused(pretrained):
    pretrained.vectors[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        Word2Vec.from_corpus(sentences(), **KW, init_vectors=pretrained)


def test_the_command_line_takes_init_vectors(pretrained, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.txt").write_text("\n".join(" ".join(s) for s in sentences()) + "\n")
    pretrained.save_word2vec_format("pre.bin", binary=True)
    args = ["train", "c.txt", "-o", "out.txt", "--d", "8", "--min-count", "1", "--epochs", "1",
            "--workers", "1", "--no-cache", "--init-vectors", "pre.bin"]
    assert cli.main(args) == 0
    assert cli.main([*args[:5], "16", *args[6:]]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pre.bin" in err and "--d 8" in err
    assert cli.main(["train", "c.txt", "-o", "out.txt", "--init-vectors", "pre.bin",
                     "--resume", "run.ckpt"]) == 2  # not with --resume
    assert "--init-vectors" in capsys.readouterr().err
