"""TensorBoard projector export: files read back exactly, limits, refusals, the CLI."""
from __future__ import annotations

import numpy as np
import pytest

from cw2v import Vectors, Word2Vec, cli
from cw2v.demo import tiny_corpus
from cw2v.projector import export_projector, load_projector


@pytest.fixture(scope="module")
def model():
    return Word2Vec.from_corpus(tiny_corpus() * 5, d=12, min_count=1, epochs=1, workers=1)


def _read(directory):
    vectors = [line.split("\t") for line in (directory / "vectors.tsv").read_text().splitlines()]
    words = (directory / "metadata.tsv").read_text(encoding="utf-8").splitlines()
    return words, np.array(vectors, dtype=np.float32)


def test_export_reads_back_exactly(model, tmp_path):
    out = export_projector(model, tmp_path / "proj")
    words, matrix = _read(out)
    assert words == model.vocab  # no header: one word a line, file order
    assert matrix.shape == model.W_in.shape
    assert np.array_equal(matrix.view(np.uint32), model.W_in.view(np.uint32))
    config = (out / "projector_config.pbtxt").read_text()
    assert 'tensor_path: "vectors.tsv"' in config and 'metadata_path: "metadata.tsv"' in config
    back = load_projector(out)
    assert back.vocab == model.vocab and np.array_equal(back.vectors, model.W_in)


def test_limit_keeps_most_frequent_in_row_order(model, tmp_path):
    # rows of a grown vocabulary are not sorted by count: the limit follows the counts
    counts = model.counts.copy()
    model_like = type("M", (), {"wv": model.wv, "counts": counts[::-1].copy()})()
    export_projector(model_like, tmp_path / "a", limit=5, config=False)
    words, _ = _read(tmp_path / "a")
    assert words == model.vocab[-5:]
    assert not (tmp_path / "a" / "projector_config.pbtxt").exists()
    export_projector(model.wv, tmp_path / "b", limit=3)  # no counts: the first rows
    assert _read(tmp_path / "b")[0] == model.vocab[:3]
    with pytest.raises(ValueError, match="limit"):
        export_projector(model.wv, tmp_path / "c", limit=0)


def test_refuses_tabs_and_newlines(tmp_path):
    for word in ("a\tb", "a\nb", "a\rb"):
        with pytest.raises(ValueError, match="tab or a line break"):
            export_projector(Vectors(["ok", word], np.ones((2, 3))), tmp_path / "x")
    assert not (tmp_path / "x" / "vectors.tsv").exists()


def test_unicode_words_and_missing_parent(tmp_path):
    v = Vectors(["café", "naïve"], np.arange(4, dtype=np.float32).reshape(2, 2))
    assert load_projector(export_projector(v, tmp_path / "u")).vocab == ["café", "naïve"]
    with pytest.raises(FileNotFoundError, match="parent"):
        export_projector(v, tmp_path / "no" / "such")


def test_cli_export(model, tmp_path, capsys):
    vec = tmp_path / "v.txt"
    model.save_word2vec_format(vec)
    assert cli.main(["export", str(vec), "-o", str(tmp_path / "p")]) == 0
    words, matrix = _read(tmp_path / "p")
    assert words == model.vocab
    assert np.allclose(matrix, model.W_in, atol=1e-6)  # via the text format's 6 decimals
    assert "vectors.tsv" in capsys.readouterr().out
    native = tmp_path / "m.cw2v"
    model.save(native)
    assert cli.main(["export", str(native), "-o", str(tmp_path / "q"), "--limit", "4",
                     "--no-config"]) == 0
    words, matrix = _read(tmp_path / "q")
    assert words == model.vocab[:4]
    assert np.array_equal(matrix, model.W_in[:4])
    assert not (tmp_path / "q" / "projector_config.pbtxt").exists()
    assert cli.main(["export", str(native), "-o", str(tmp_path / "r"), "--limit", "0"]) == 2
    assert cli.main(["export", str(tmp_path / "missing.txt"), "-o", str(tmp_path / "s")]) == 1
    assert "cw2v: error:" in capsys.readouterr().err
