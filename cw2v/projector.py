"""Export word vectors for TensorBoard's embedding projector, and read such an export back.

``export_projector(vectors, directory)`` writes, in ``directory``:

``vectors.tsv``
    one row a word, its ``d`` values separated by tabs, no header; each value written with
    9 significant digits, so a float32 reads back exactly;
``metadata.tsv``
    one word a line, in the same order, no header (TensorBoard's rule for a single-column
    metadata file);
``projector_config.pbtxt`` (unless ``config=False``)
    the projector's configuration naming the two files, so that ``tensorboard --logdir
    DIRECTORY`` shows them under the projector tab. For https://projector.tensorflow.org, load
    the two ``.tsv`` files by hand.

Every file is written to a temporary file first, and they are renamed into place together once
all are written (``cw2v._files.atomic_writer``), so a failed export leaves the folder's earlier
files as they were. A TSV cell cannot hold a tab or a line break, so a word containing one
(``\\t``, ``\\n``, ``\\r``) is refused with ValueError before anything is written (words from a
corpus never hold one, since cw2v splits corpora on whitespace), as is a word UTF-8 cannot hold
(a lone surrogate, from ``unicode_errors='surrogateescape'``).
"""
from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import numpy as np

from ._files import PathLike, as_path, atomic_writer
from .vectors import Vectors, as_vectors

__all__ = ["CONFIG_FILE", "METADATA_FILE", "VECTORS_FILE", "export_projector", "load_projector"]

VECTORS_FILE = "vectors.tsv"
METADATA_FILE = "metadata.tsv"
CONFIG_FILE = "projector_config.pbtxt"

_BAD_CHARACTERS = ("\t", "\n", "\r")
_ROWS_PER_WRITE = 4096


def _rows_to_export(obj, vectors: Vectors, limit: int | None) -> np.ndarray:
    """Row indices to write, in file order: all, or the ``limit`` most frequent."""
    n = len(vectors)
    if limit is None or limit >= n:
        return np.arange(n)
    if isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1:
        raise ValueError(f"limit must be a positive integer or None, got {limit!r}")
    counts = getattr(obj, "counts", None)
    if counts is not None and np.shape(counts) == (n,):
        top = np.argsort(-np.asarray(counts), kind="stable")[:limit]
        return np.sort(top)
    return np.arange(int(limit))  # word2vec files list the most frequent words first


def export_projector(vectors, directory: PathLike, *, limit: int | None = None,
                     config: bool = True, tensor_name: str = "cw2v") -> Path:
    """Write ``vectors.tsv``, ``metadata.tsv`` and ``projector_config.pbtxt`` in ``directory``.

    Parameters
    ----------
    vectors : cw2v.Vectors or a model holding them (``model.wv``)
        The vectors to export.
    directory : str or os.PathLike
        Created if missing (its parent must exist); files of the same names are replaced.
    limit : int, optional
        Export only the ``limit`` most frequent words: by the model's ``counts`` when a model
        is given, else the first ``limit`` rows (word2vec files list the most frequent first).
        The rows keep their order.
    config : bool, default True
        Also write ``projector_config.pbtxt`` for TensorBoard.
    tensor_name : str, default "cw2v"
        The tensor's name in the configuration.

    Returns
    -------
    pathlib.Path
        The directory.

    Raises
    ------
    ValueError
        A word holds a tab or a line break, or ``limit`` is not a positive integer.
    FileNotFoundError
        ``directory``'s parent does not exist.

    Examples
    --------
    >>> import tempfile, cw2v
    >>> from cw2v.projector import export_projector, load_projector
    >>> v = cw2v.Vectors(["king", "queen"], [[0.5, -1.0], [0.25, 2.0]])
    >>> out = export_projector(v, tempfile.mkdtemp())
    >>> (out / "vectors.tsv").read_text().splitlines()
    ['0.5\\t-1', '0.25\\t2']
    >>> load_projector(out).vocab
    ['king', 'queen']
    """
    wv = as_vectors(vectors)
    rows = _rows_to_export(vectors, wv, limit)
    words = [wv.vocab[i] for i in rows]
    bad = next((w for w in words if any(c in w for c in _BAD_CHARACTERS)), None)
    if bad is not None:
        raise ValueError(f"word {bad!r} holds a tab or a line break, which a TSV file cannot "
                         "hold; rename it before exporting")
    if not isinstance(tensor_name, str) or '"' in tensor_name or "\\" in tensor_name:
        raise ValueError(f"tensor_name must be a str without quotes or backslashes, got "
                         f"{tensor_name!r}")
    metadata = _metadata(words)  # every word checked before any file is written
    out = as_path(directory)
    if not out.parent.is_dir():
        raise FileNotFoundError(f"{out}: its parent directory {out.parent} does not exist")
    out.mkdir(exist_ok=True)
    # Every file goes to its temporary file first; they replace the old ones together at the
    # end, so a failure (a full disk...) leaves the folder's earlier export whole.
    with contextlib.ExitStack() as files:
        f = files.enter_context(atomic_writer(out / VECTORS_FILE))
        for start in range(0, rows.size, _ROWS_PER_WRITE):
            block = np.asarray(wv._float_rows(rows[start:start + _ROWS_PER_WRITE]))
            text = io.StringIO()
            np.savetxt(text, block, fmt="%.9g", delimiter="\t")
            f.write(text.getvalue().encode("ascii"))
        files.enter_context(atomic_writer(out / METADATA_FILE)).write(metadata)
        if config:
            text = (f'embeddings {{\n  tensor_name: "{tensor_name}"\n'
                    f'  tensor_path: "{VECTORS_FILE}"\n  metadata_path: "{METADATA_FILE}"\n'
                    f'  tensor_shape: {len(words)}\n  tensor_shape: {wv.vector_size}\n}}\n')
            files.enter_context(atomic_writer(out / CONFIG_FILE)).write(text.encode("utf-8"))
    return out


def _metadata(words: list[str]) -> bytes:
    """metadata.tsv's bytes; ValueError naming the first word UTF-8 cannot hold (a lone
    surrogate, as ``unicode_errors='surrogateescape'`` makes of undecodable bytes)."""
    try:
        return "".join(w + "\n" for w in words).encode("utf-8")
    except UnicodeEncodeError:
        bad = next(w for w in words if not _encodes(w))
        raise ValueError(f"word {bad!r} cannot be written as UTF-8 (it holds a lone surrogate, "
                         "as unicode_errors='surrogateescape' leaves for undecodable bytes); "
                         "rename it before exporting") from None


def _encodes(word: str) -> bool:
    try:
        word.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def load_projector(directory: PathLike) -> Vectors:
    """Read back ``vectors.tsv`` and ``metadata.tsv`` from ``directory`` as ``Vectors``
    (float32; the words from the metadata's single column, or its first column under a
    header line when it has several).

    Raises
    ------
    FileNotFoundError
        A file is missing.
    ValueError
        The two files disagree on the number of rows, or a row is not numbers.
    """
    base = as_path(directory)
    lines = (base / METADATA_FILE).read_text(encoding="utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if lines and "\t" in lines[0]:
        lines = lines[1:]  # several columns: a header line, then the word in the first
    words = [line.split("\t", 1)[0] for line in lines]
    path = base / VECTORS_FILE
    if os.path.getsize(path) == 0:
        raise ValueError(f"{path}: no vectors")
    matrix = np.loadtxt(path, dtype=np.float32, delimiter="\t", ndmin=2)
    if matrix.shape[0] != len(words):
        raise ValueError(f"{path} has {matrix.shape[0]} rows but {base / METADATA_FILE} "
                         f"{len(words)} words")
    return Vectors(words, matrix)
