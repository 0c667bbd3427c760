"""2-D pictures of word vectors: PCA projections of chosen words and of analogies.

``plot_words`` draws the chosen words' vectors projected on their first two principal components
(``project_2d``: centred, by NumPy's SVD); ``plot_analogies`` does the same for analogy quadruples
(a, b, c, d) and draws the arrows a -> b and c -> d, which a good model makes near-parallel
(Mikolov et al. 2013, fig. 2). ``training_curve`` draws a run's loss and words/s per epoch.

matplotlib is optional (``pip install cw2v[plot]``) and imported only when a figure is drawn. The
figures are drawn on matplotlib's Agg canvas and written to a PNG or SVG file; pyplot and its
global state (the backend, open figures) are never touched, so nothing is ever shown.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._files import PathLike, atomic_writer
from .vectors import Vectors

__all__ = ["image_format", "plot_analogies", "plot_words", "project_2d", "training_curve"]


_FORMATS = {".png": "png", ".svg": "svg"}


def image_format(path: PathLike) -> str:
    """The image format, ``"png"`` or ``"svg"``, that ``path``'s extension asks for.

    Raises
    ------
    ValueError
        Any other extension.
    """
    suffix = Path(os.fsdecode(os.fspath(path))).suffix.lower()
    try:
        return _FORMATS[suffix]
    except KeyError:
        raise ValueError(f"{os.fsdecode(os.fspath(path))}: the image file must end in .png or "
                         f".svg") from None


def _pca_2d(matrix) -> tuple[np.ndarray, np.ndarray]:
    """(coordinates (n, 2), fraction of the variance along each of the two axes)."""
    x = np.asarray(matrix, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"need a non-empty 2-D array of row vectors, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("the vectors hold NaN or infinite values")
    centred = x - x.mean(axis=0)
    # centred = U S Vt; the rows of Vt are the principal axes, S**2 the variance along them.
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    coords = np.zeros((x.shape[0], 2))
    n_axes = min(2, vt.shape[0])
    coords[:, :n_axes] = centred @ vt[:n_axes].T
    # SVD fixes each axis only up to sign: make its largest-magnitude coordinate positive.
    for j in range(2):
        if coords[np.argmax(np.abs(coords[:, j])), j] < 0:
            coords[:, j] = -coords[:, j]
    total = float(np.sum(singular ** 2))
    explained = np.zeros(2)
    if total > 0:
        explained[:n_axes] = singular[:n_axes] ** 2 / total
    return coords, explained


def project_2d(matrix) -> np.ndarray:
    """Rows of ``matrix`` projected on its first two principal components (PCA).

    The rows are centred on their mean and the centred matrix X factored by SVD as
    X = U S V^T; the coordinates are X V[:, :2] (= U[:, :2] S[:2]). Each axis's sign is chosen so
    that its largest-magnitude coordinate is positive (SVD leaves it arbitrary). Components that
    do not exist (a single row, or vectors of dimension 1) are zeros.

    Parameters
    ----------
    matrix : array_like, shape (n, d)
        Row vectors, finite.

    Returns
    -------
    numpy.ndarray of float64, shape (n, 2)

    Raises
    ------
    ValueError
        ``matrix`` is not a non-empty 2-D array of finite values.
    """
    return _pca_2d(matrix)[0]


def _rows(vectors: Vectors, words: Sequence[str]) -> np.ndarray:
    """The vectors of ``words`` as an (n, d) array; KeyError naming every unknown word."""
    if not words:
        raise ValueError("no words to plot")
    missing = [w for w in dict.fromkeys(words) if w not in vectors]
    if missing:
        raise KeyError("not in vocabulary: " + ", ".join(repr(w) for w in missing))
    return np.stack([np.asarray(vectors[w], dtype=np.float64) for w in words])


def _figure(title: str | None, explained: np.ndarray) -> tuple[Any, Any]:
    """A new (figure, axes) on an Agg canvas, with axis labels; ImportError without matplotlib."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError("plotting needs matplotlib, which is not installed: "
                          "pip install cw2v[plot]") from exc
    fig = Figure(figsize=(8, 6), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_xlabel(f"PC 1 ({explained[0]:.0%} of variance)")
    ax.set_ylabel(f"PC 2 ({explained[1]:.0%} of variance)")
    if title:
        ax.set_title(title)
    ax.margins(0.15)  # room for the labels
    return fig, ax


def _label_points(ax: Any, coords: np.ndarray, words: Sequence[str], color: Any = None) -> None:
    ax.scatter(coords[:, 0], coords[:, 1], s=18, color=color, zorder=3)
    for (x, y), word in zip(coords, words):
        ax.annotate(word, (x, y), xytext=(4, 4), textcoords="offset points", fontsize=9)


def _save(fig: Any, path: PathLike, fmt: str) -> None:
    """Write ``fig`` to ``path`` atomically (``cw2v._files.atomic_writer``: never half an image,
    never over a file that is not regular; a write error names ``path``)."""
    with atomic_writer(path) as f:
        fig.savefig(f, format=fmt, bbox_inches="tight")


def plot_words(vectors: Vectors, words: Sequence[str], path: PathLike, *,
               title: str | None = None) -> PathLike:
    """Draw ``words`` as labelled points at the PCA projection of their vectors.

    Parameters
    ----------
    vectors : cw2v.vectors.Vectors
        A model or loaded vectors (anything with ``word in vectors`` and ``vectors[word]``).
    words : sequence of str
        The words to draw; the projection is fitted to their vectors only (``project_2d``).
    path : str or os.PathLike
        Image file; its extension, ``.png`` or ``.svg``, picks the format.
    title : str, optional
        Figure title.

    Returns
    -------
    str or os.PathLike
        ``path``.

    Raises
    ------
    KeyError
        Naming every word not in ``vectors``.
    ValueError
        No words, or ``path`` does not end in .png or .svg.
    ImportError
        matplotlib is not installed (``pip install cw2v[plot]``).
    """
    fmt = image_format(path)
    words = list(words)
    coords, explained = _pca_2d(_rows(vectors, words))
    fig, ax = _figure(title, explained)
    _label_points(ax, coords, words)
    _save(fig, path, fmt)
    return path


def plot_analogies(vectors: Vectors, quadruples: Sequence[Sequence[str]], path: PathLike, *,
                   title: str | None = None) -> PathLike:
    """Draw analogy quadruples (a, b, c, d) -- a is to b as c is to d -- with arrows a -> b and
    c -> d, on the PCA projection of all their words' vectors.

    Parameters
    ----------
    vectors : cw2v.vectors.Vectors
        A model or loaded vectors (anything with ``word in vectors`` and ``vectors[word]``).
    quadruples : sequence of (a, b, c, d)
        E.g. ``[("man", "woman", "king", "queen")]``; each quadruple gets its own colour. A word
        in several quadruples is drawn once.
    path : str or os.PathLike
        Image file; its extension, ``.png`` or ``.svg``, picks the format.
    title : str, optional
        Figure title.

    Returns
    -------
    str or os.PathLike
        ``path``.

    Raises
    ------
    KeyError
        Naming every word not in ``vectors``.
    ValueError
        No quadruples, one that does not hold four words, or ``path`` does not end in .png or
        .svg.
    ImportError
        matplotlib is not installed (``pip install cw2v[plot]``).
    """
    fmt = image_format(path)
    quadruples = [tuple(q) for q in quadruples]
    if not quadruples:
        raise ValueError("no analogies to plot")
    for q in quadruples:
        if len(q) != 4 or not all(isinstance(w, str) for w in q):
            raise ValueError(f"an analogy is four words (a, b, c, d), got {q!r}")
    words = list(dict.fromkeys(w for q in quadruples for w in q))
    coords, explained = _pca_2d(_rows(vectors, words))
    at = dict(zip(words, coords))
    fig, ax = _figure(title, explained)
    _label_points(ax, coords, words, color="0.3")
    for i, (a, b, c, d) in enumerate(quadruples):
        color = f"C{i % 10}"
        for start, end in ((a, b), (c, d)):
            ax.annotate("", xy=at[end], xytext=at[start],
                        arrowprops=dict(arrowstyle="->", color=color, lw=1.5,
                                        shrinkA=4, shrinkB=4))
    _save(fig, path, fmt)
    return path


def _curve_data(history) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, str]:
    """(epochs, loss, words/s or None, loss label) from a model or a list of epoch figures."""
    stats = getattr(history, "epoch_history", None)
    losses = getattr(history, "loss_history", None)
    if stats is None and losses is None:
        items = list(history)
        if items and all(hasattr(x, "loss_per_pair") for x in items):
            stats, losses = items, []
        else:
            stats, losses = [], items
    stats, losses = list(stats or []), list(losses or [])
    if stats:
        loss = np.array([s.loss_per_pair for s in stats], dtype=np.float64)
        speed = np.array([s.words_per_second for s in stats], dtype=np.float64)
        label = "loss per pair"
    elif losses:
        loss = np.asarray(losses, dtype=np.float64)
        speed, label = None, "summed loss"
    else:
        raise ValueError("no training history to plot (train the model first; a loaded model "
                         "keeps loss_history only)")
    if loss.ndim != 1 or not np.isfinite(loss).all():
        raise ValueError("the loss history holds something that is not a finite number")
    return np.arange(1, loss.size + 1), loss, speed, label


def training_curve(history, path: PathLike, *, title: str | None = None) -> PathLike:
    """Draw a training run's loss per epoch and, when known, its words per second.

    Parameters
    ----------
    history : cw2v.Word2Vec, or a list of cw2v.EpochStats, or a list of numbers
        A model (its ``epoch_history``: loss per pair and words/s of every epoch trained, all
        ``train`` calls after one another; a loaded model has only ``loss_history``, the
        summed loss of each epoch, and then only that is drawn), the ``EpochStats`` that
        ``train`` returns, or plain per-epoch losses.
    path : str or os.PathLike
        Image file; its extension, ``.png`` or ``.svg``, picks the format.
    title : str, optional
        Figure title.

    Returns
    -------
    str or os.PathLike
        ``path``.

    Raises
    ------
    ValueError
        No history, a non-finite loss, or ``path`` does not end in .png or .svg.
    ImportError
        matplotlib is not installed (``pip install cw2v[plot]``).
    """
    fmt = image_format(path)
    epochs, loss, speed, label = _curve_data(history)
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError("plotting needs matplotlib, which is not installed: "
                          "pip install cw2v[plot]") from exc
    fig = Figure(figsize=(8, 6 if speed is not None else 3.5), dpi=100)
    FigureCanvasAgg(fig)
    axes = fig.subplots(2 if speed is not None else 1, 1, sharex=True, squeeze=False)[:, 0]
    axes[0].plot(epochs, loss, marker="o", color="C0")
    axes[0].set_ylabel(label)
    if speed is not None:
        axes[1].plot(epochs, speed, marker="o", color="C1")
        axes[1].set_ylabel("words/s")
        axes[1].set_ylim(bottom=0)
    axes[-1].set_xlabel("epoch")
    axes[-1].xaxis.get_major_locator().set_params(integer=True)
    if title:
        axes[0].set_title(title)
    _save(fig, path, fmt)
    return path
