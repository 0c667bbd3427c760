"""Shared fixtures: the kernel copies this CPU can run, the data in ../shared, FIFOs."""
from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path

# One BLAS thread, set before NumPy is first imported (below, through cw2v): the suite's matrix
# products are small (a vocabulary of thousands of rows times d), where OpenBLAS's helper threads
# spin while they wait and cost about 20 times the CPU of one thread, and far more wall time on a
# busy machine or beside pytest-xdist's other worker. CLI processes the tests start inherit it.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import pytest  # noqa: E402

from cw2v import _simd  # noqa: E402

# Encoded corpora go to a cache folder of the test session, not the user's ~/.cache
# (child processes inherit it), removed at the end.
_CACHE = tempfile.mkdtemp(prefix="cw2v-test-cache-")
os.environ["CW2V_CACHE_DIR"] = _CACHE


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_CACHE, ignore_errors=True)


# The repo's sibling folder shared/data holds the corpora and evaluation sets; a checkout
# outside this workplace has none, and the tests that need it skip saying so.
SHARED_DATA = Path(os.environ.get("CW2V_SHARED_DATA",
                                  Path(__file__).resolve().parents[1].parent / "shared" / "data"))

KERNELS = _simd.available_kernels()


@pytest.fixture(autouse=True)
def python_sigint_handler():
    """Python's own SIGINT handler in the test process (and so the default one in the CLI
    processes it starts) while each test runs. A suite run as a background job of a
    non-interactive shell inherits SIGINT ignored, and cw2v rightly leaves an ignored SIGINT
    ignored: the Ctrl-C tests then saw their runs finish instead of stopping."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.fixture(params=sorted(KERNELS), ids=lambda level: f"kernel-{level}")
def kernel(request):
    """Each copy of the compiled kernel (baseline, avx2, avx512) that this CPU runs."""
    return KERNELS[request.param]


def shared_file(relative: str) -> Path:
    """A file under ../shared/data, or skip the test with the reason."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"needs {relative} from the shared data folder, not found at {path} "
                    "(set CW2V_SHARED_DATA to its location)")
    return path


@pytest.fixture
def fifo(tmp_path):
    """``fifo(data, first=None)``: the path of a new FIFO that a thread writes ``data`` into once
    a reader opens it -- all at once, or ``first`` bytes, a pause, then the rest (a pipe hands a
    reader what is there, not what it asked for). Writers nobody read from are released at the
    end of the test."""
    if not hasattr(os, "mkfifo"):
        pytest.skip("needs os.mkfifo (POSIX)")
    made = []

    def write(path: Path, data: bytes, first: int | None) -> None:
        try:
            with open(path, "wb") as f:
                if first is not None:
                    f.write(data[:first])
                    f.flush()
                    time.sleep(0.3)
                    data = data[first:]
                f.write(data)
        except BrokenPipeError:
            pass  # the reader stopped early (a failing test)

    def make(data: bytes, first: int | None = None) -> Path:
        path = tmp_path / f"fifo{len(made)}"
        os.mkfifo(path)
        thread = threading.Thread(target=write, args=(path, data, first), daemon=True)
        thread.start()
        made.append((thread, path))
        return path

    yield make
    for thread, path in made:
        if thread.is_alive():  # never opened, or not read to the end: let the writer finish
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
            thread.join(1)
            os.close(fd)
        thread.join(10)


def assert_same_encoding(a, b) -> None:
    """Two ``corpus.build`` results hold the same vocabulary, counts, ids and offsets."""
    import numpy as np

    (va, ea), (vb, eb) = a, b
    assert va.words == vb.words
    np.testing.assert_array_equal(va.counts, vb.counts)
    np.testing.assert_array_equal(np.asarray(ea.tokens), np.asarray(eb.tokens))
    np.testing.assert_array_equal(np.asarray(ea.offsets), np.asarray(eb.offsets))


class RecordingKernel:
    """The compiled kernel module, its states recording (tokens, lr_start, lr_end) of each span
    they train in ``spans`` (monkeypatch it over ``cw2v.model._kernel``)."""

    def __init__(self):
        from cw2v._simd import kernel

        self.spans = []
        spans = self.spans

        class KernelState:
            def __init__(self, *args, **kwargs):
                self.__dict__["state"] = kernel.KernelState(*args, **kwargs)

            def __getattr__(self, name):
                return getattr(self.state, name)

            def __setattr__(self, name, value):
                setattr(self.state, name, value)

            def train_span(self, tokens, bounds, lr_start, lr_end):
                spans.append((tokens.shape[0], lr_start, lr_end))
                return self.state.train_span(tokens, bounds, lr_start, lr_end)

        self.KernelState = KernelState

    def __getattr__(self, name):
        from cw2v._simd import kernel

        return getattr(kernel, name)


def start_and_end(monkeypatch, corpus, **kw):
    """``Word2Vec.from_corpus(corpus, **kw)``: its W_in as training starts (after the vocabulary,
    any init_vectors and lock), and the trained model."""
    from cw2v import Word2Vec
    seen = {}
    original = Word2Vec._train_encoded

    def record(self, *args, **kwargs):
        seen["W_in"] = self.W_in.copy()
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Word2Vec, "_train_encoded", record)
    model = Word2Vec.from_corpus(corpus, **kw)
    return seen["W_in"], model


# The folder holding the cw2v under test (the checkout, or site-packages in CI's installed-wheel
# run): a child process given PYTHONPATH=PACKAGE_PARENT imports the same cw2v.
PACKAGE_PARENT = str(Path(__import__("cw2v").__file__).resolve().parent.parent)
