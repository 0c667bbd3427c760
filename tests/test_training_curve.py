"""cw2v.plot.training_curve and ``cw2v train --plot-curve``."""
from __future__ import annotations

import sys

import pytest

from cw2v import Word2Vec, cli
from cw2v.demo import tiny_corpus
from cw2v.plot import _curve_data, training_curve

pytest.importorskip("matplotlib")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def model():
    return Word2Vec.from_corpus(tiny_corpus() * 5, d=8, min_count=1, epochs=3, workers=1)


def test_curve_data_from_model_stats_and_numbers(model, tmp_path):
    epochs, loss, speed, label = _curve_data(model)
    assert epochs.tolist() == [1, 2, 3] and label == "loss per pair"
    assert loss.tolist() == [s.loss_per_pair for s in model.epoch_history]
    assert speed.tolist() == [s.words_per_second for s in model.epoch_history]
    assert _curve_data(model.epoch_history)[1].tolist() == loss.tolist()
    epochs, loss, speed, label = _curve_data([3.0, 2.0])
    assert speed is None and label == "summed loss" and loss.tolist() == [3.0, 2.0]
    model.save(tmp_path / "m.cw2v")
    loaded = Word2Vec.load(tmp_path / "m.cw2v")  # keeps loss_history only
    assert _curve_data(loaded)[1].tolist() == model.loss_history


def test_training_curve_files(model, tmp_path):
    assert training_curve(model, tmp_path / "c.png") == tmp_path / "c.png"
    assert (tmp_path / "c.png").read_bytes().startswith(PNG_MAGIC)
    training_curve([5.0, 4.0, 3.5], tmp_path / "c.svg", title="t")
    assert b"<svg" in (tmp_path / "c.svg").read_bytes()[:400]
    with pytest.raises(ValueError, match="no training history"):
        training_curve(Word2Vec(["a", "b"], d=2), tmp_path / "e.png")
    with pytest.raises(ValueError, match=".png or .svg"):
        training_curve(model, tmp_path / "c.jpg")
    with pytest.raises(ValueError, match="finite"):
        training_curve([1.0, float("nan")], tmp_path / "n.png")


def test_missing_matplotlib(model, tmp_path, monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install cw2v\[plot\]"):
        training_curve(model, tmp_path / "c.png")


def test_cli_train_plot_curve(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(" ".join(s) for s in tiny_corpus() * 5))
    out, png = tmp_path / "v.txt", tmp_path / "curve.png"
    args = ["train", str(corpus), "-o", str(out), "--d", "8", "--min-count", "1", "--epochs",
            "2", "--workers", "1", "-q"]
    assert cli.main(args + ["--plot-curve", str(png)]) == 0
    assert out.exists() and png.read_bytes().startswith(PNG_MAGIC)
    bad = tmp_path / "curve.jpg"
    assert cli.main(args + ["-o", str(tmp_path / "w.txt"), "--plot-curve", str(bad)]) == 1
    assert not (tmp_path / "w.txt").exists()  # refused before training
