"""cw2v.plot: the PCA projection against NumPy, PNG and SVG files, unknown words, and the message
when matplotlib is missing."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from cw2v import Vectors
from cw2v.plot import image_format, plot_analogies, plot_words, project_2d

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def vectors() -> Vectors:
    words = ["man", "woman", "king", "queen", "boy", "girl", "apple", "orange"]
    rng = np.random.default_rng(3)
    return Vectors(words, rng.standard_normal((len(words), 10)).astype(np.float32))


# -- the projection -------------------------------------------------------------------------------


def test_project_2d_hand_made():
    # Centred (mean (1, 0, 0) + offset), the points are (-1,0,0), (3,0,0), (-1,1,0), (-1,-1,0):
    # variance 12 along x, 2 along y, none along z, no covariance, so the principal axes are x
    # and y and the coordinates are the centred x and y themselves.
    offset = np.array([5.0, -2.0, 7.0])
    x = np.array([[0, 0, 0], [4, 0, 0], [0, 1, 0], [0, -1, 0]], dtype=float) + offset
    expected = np.array([[-1, 0], [3, 0], [-1, 1], [-1, -1]], dtype=float)
    np.testing.assert_allclose(project_2d(x), expected, atol=1e-12)


def test_project_2d_matches_numpy_eigen_decomposition():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((30, 6)) @ np.diag([5, 3, 1, 0.5, 0.2, 0.1]) + 4.0
    coords = project_2d(x)
    centred = x - x.mean(axis=0)
    values, axes = np.linalg.eigh(np.cov(centred, rowvar=False))
    top = axes[:, np.argsort(values)[::-1][:2]]
    reference = centred @ top
    # Same up to the sign of each axis, and the sign rule: the largest coordinate is positive.
    signs = np.sign(np.sum(coords * reference, axis=0))
    np.testing.assert_allclose(coords, reference * signs, rtol=1e-9, atol=1e-9)
    for j in range(2):
        assert coords[np.argmax(np.abs(coords[:, j])), j] > 0
    # Uncorrelated axes, variance in decreasing order.
    assert abs(coords[:, 0] @ coords[:, 1]) < 1e-8
    assert coords[:, 0].var() >= coords[:, 1].var()


def test_project_2d_degenerate_shapes():
    np.testing.assert_array_equal(project_2d([[1.0, 2.0, 3.0]]), [[0.0, 0.0]])
    one_dim = project_2d([[0.0], [2.0], [7.0]])
    np.testing.assert_allclose(one_dim, [[-3, 0], [-1, 0], [4, 0]], atol=1e-12)
    with pytest.raises(ValueError, match="NaN"):
        project_2d([[1.0, np.nan], [0.0, 1.0]])
    with pytest.raises(ValueError):
        project_2d(np.zeros((0, 3)))


# -- files ----------------------------------------------------------------------------------------


def test_plot_words_png_and_svg(vectors, tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "words.png"
    assert plot_words(vectors, ["king", "queen", "man", "woman"], png, title="t") == png
    assert png.read_bytes()[:8] == PNG_MAGIC
    svg = str(tmp_path / "words.SVG")  # str path, upper-case extension
    assert plot_words(vectors, vectors.vocab, svg) == svg
    text = (tmp_path / "words.SVG").read_text(encoding="utf-8")
    assert "<svg" in text and "</svg>" in text


def test_plot_analogies_png_and_svg(vectors, tmp_path):
    pytest.importorskip("matplotlib")
    quads = [("man", "woman", "king", "queen"), ("man", "woman", "boy", "girl")]
    png = tmp_path / "a.png"
    assert plot_analogies(vectors, quads, png) == png
    assert png.read_bytes()[:8] == PNG_MAGIC
    svg = tmp_path / "a.svg"
    plot_analogies(vectors, quads, svg, title="gender")
    assert "<svg" in svg.read_text(encoding="utf-8")


def test_plot_leaves_pyplot_alone(vectors, tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib

    backend = matplotlib.get_backend()
    plot_words(vectors, ["king", "queen"], tmp_path / "w.png")
    assert matplotlib.get_backend() == backend
    if "matplotlib.pyplot" in sys.modules:
        assert sys.modules["matplotlib.pyplot"].get_fignums() == []


def test_unknown_words_named(vectors, tmp_path):
    with pytest.raises(KeyError, match="'zebra', 'yak'") as info:
        plot_words(vectors, ["king", "zebra", "yak", "zebra"], tmp_path / "w.png")
    assert "king" not in str(info.value)
    with pytest.raises(KeyError, match="'unicorn'"):
        plot_analogies(vectors, [("man", "woman", "king", "unicorn")], tmp_path / "a.png")
    assert not (tmp_path / "w.png").exists()


def test_bad_arguments(vectors, tmp_path):
    with pytest.raises(ValueError, match=".png or .svg"):
        plot_words(vectors, ["king"], tmp_path / "w.jpg")
    with pytest.raises(ValueError, match="no words"):
        plot_words(vectors, [], tmp_path / "w.png")
    with pytest.raises(ValueError, match="four words"):
        plot_analogies(vectors, [("man", "woman", "king")], tmp_path / "a.png")
    with pytest.raises(ValueError, match="no analogies"):
        plot_analogies(vectors, [], tmp_path / "a.png")
    assert image_format("x.Png") == "png" and image_format(tmp_path / "x.svg") == "svg"


def test_missing_matplotlib_message(vectors, tmp_path, monkeypatch):
    # None in sys.modules makes `import matplotlib...` fail, installed or not.
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install cw2v\[plot\]"):
        plot_words(vectors, ["king", "queen"], tmp_path / "w.png")
    with pytest.raises(ImportError, match=r"pip install cw2v\[plot\]"):
        plot_analogies(vectors, [("man", "woman", "king", "queen")], tmp_path / "a.svg")
    assert not (tmp_path / "w.png").exists()
