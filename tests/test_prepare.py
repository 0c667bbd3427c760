"""The parallel preparation pass (cw2v._prepare) as users reach it: relative paths of every kind
from another working directory, through the API and the command line; children that never
outlive their parent."""
from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import PACKAGE_PARENT, assert_same_encoding

from cw2v import _prepare, _reader, corpus

# The cw2v under test (the checkout, or the installed package when CI tests a wheel).


@pytest.fixture
def small_parallel(monkeypatch):
    """Any corpus of files is read in parallel (not only those of 32 MB and more)."""
    monkeypatch.setattr(_prepare, "MIN_BYTES", 1)
    return _prepare


def _lines(seed: int, n: int) -> str:
    rng = np.random.default_rng(seed)
    return "".join(" ".join(f"w{j}" for j in rng.zipf(1.4, rng.integers(1, 20))) + "\n"
                   for _ in range(n))


@pytest.fixture
def layout(tmp_path):
    """tmp/data/c.txt, tmp/data/sub/{a,b}.txt, tmp/data/sub/p.txt.gz; tmp/elsewhere/."""
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "c.txt").write_text(_lines(0, 3000))
    (data / "sub" / "a.txt").write_text(_lines(1, 2000))
    (data / "sub" / "b.txt").write_text(_lines(2, 2000))
    with gzip.open(data / "sub" / "p.txt.gz", "wt") as f:
        f.write(_lines(3, 1500))
    (tmp_path / "elsewhere").mkdir()
    return tmp_path


@pytest.mark.parametrize("source", ["c.txt", "sub", "sub/*.txt", ["c.txt", "sub/p.txt.gz"],
                                    "./sub/../c.txt"])
def test_relative_corpus_paths_from_another_folder(layout, small_parallel, monkeypatch,
                                                   source):
    """A corpus file, a folder, a glob, a list with a compressed file: relative to the working
    directory, with a relative cache folder; the children run elsewhere (the work folder)."""
    monkeypatch.chdir(layout / "data")
    absolute = ([str(layout / "data" / s) for s in source] if isinstance(source, list)
                else str(layout / "data" / source))
    expected = corpus.build(absolute, min_count=1, cache_dir=None)
    assert small_parallel.plan(_reader.corpus_paths(source, "utf-8", "strict"), 3, "utf-8")
    got = corpus.build(source, min_count=1, cache_dir="cache", workers=3)
    assert_same_encoding(got, expected)
    assert Path("cache").is_dir()


def test_absolute_corpus_and_relative_cache_folder(layout, small_parallel, monkeypatch):
    monkeypatch.chdir(layout / "elsewhere")
    c = str(layout / "data" / "c.txt")
    expected = corpus.build(c, min_count=1, cache_dir=None)
    assert_same_encoding(corpus.build(c, min_count=1, cache_dir="cache", workers=2), expected)
    assert_same_encoding(corpus.build(c, min_count=1, cache_dir="../data/cache2", workers=2), expected)
    assert (layout / "data" / "cache2").is_dir()


def test_errors_name_the_path_as_given(layout, small_parallel, monkeypatch):
    """A decode error found by a child names the relative path the caller gave."""
    monkeypatch.chdir(layout / "data")
    Path("bad.txt").write_bytes(b"good words\n" * 3000 + b"bad \xff\n")
    with pytest.raises(corpus.CorpusDecodeError, match=r"'bad\.txt'") as par:
        corpus.build("bad.txt", cache_dir="cache", workers=2)
    with pytest.raises(corpus.CorpusDecodeError) as seq:
        corpus.build("bad.txt", cache_dir=None)
    assert str(par.value) == str(seq.value)


def _cli(args, cwd, **env):
    environment = dict(os.environ, PYTHONPATH=PACKAGE_PARENT, CW2V_PREPARE_MIN_BYTES="1", **env)
    return subprocess.run([sys.executable, "-m", "cw2v", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("corpus_arg, cwd", [("c.txt", "data"), ("sub", "data"),
                                             ("data/sub/*.txt", "."),
                                             ("../data/c.txt", "elsewhere")])
def test_cli_train_with_relative_paths(layout, corpus_arg, cwd):
    """`cd data && cw2v train c.txt -o v.txt --cache-dir cache` at 2 workers: the parallel
    pass (forced on small files by $CW2V_PREPARE_MIN_BYTES) reads the relative paths."""
    result = _cli(["train", corpus_arg, "-o", "v.txt", "--cache-dir", "cache", "--workers", "2",
                   "--d", "8", "--epochs", "1", "--min-count", "1", "-q"], layout / cwd)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert (layout / cwd / "v.txt").stat().st_size > 0
    assert (layout / cwd / "cache").is_dir()


# -- children die with their parent -------------------------------------------------------------

_PARENT = """
import sys, time
from cw2v import _prepare, corpus
_prepare.MIN_BYTES = 1
# children that would work for a minute: the real entry point, a slow task
_prepare._CHILD = ("import json, sys, time; import cw2v._prepare as p; "
                   "p._run_task = lambda *a: time.sleep(60); "
                   + ("sys.platform = 'other'; " if sys.argv[3] == "pipe" else "")
                   + "sys.exit(p._main(json.loads(sys.argv[1])))")
corpus.build(sys.argv[1], cache_dir=sys.argv[2], workers=3)
"""


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("sig, how", [(signal.SIGKILL, "linux"), (signal.SIGTERM, "linux"),
                                      (signal.SIGKILL, "pipe")])
def test_children_exit_when_the_parent_dies(layout, sig, how):
    """kill -9 (or -15) of the parent: its children go within seconds, by the Linux parent
    death signal or (elsewhere: ``how="pipe"``) the end of the pipe they watch."""
    parent = subprocess.Popen([sys.executable, "-c", _PARENT, str(layout / "data" / "c.txt"),
                               str(layout / "cache"), how],
                              env=dict(os.environ, PYTHONPATH=PACKAGE_PARENT), cwd=layout)
    # (cwd: ``python -c`` puts the working directory first on sys.path; from a checkout's root
    # that would be the uncompiled source tree instead of the cw2v under test.)
    children: list[int] = []
    try:
        deadline = time.monotonic() + 30
        while len(children) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
            children = _children(parent.pid)
        assert len(children) >= 3
        time.sleep(0.5)  # (the children are past their start)
        parent.send_signal(sig)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 5
        while any(map(_alive, children)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(map(_alive, children))
    finally:
        parent.kill()
        parent.wait()
        for child in filter(_alive, children):  # (none, unless the test failed)
            os.kill(child, signal.SIGKILL)
