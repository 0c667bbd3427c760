"""What the commands write: no output over an input or over another output, every output's
folder checked before training, the checkpoint's lock (two real processes), the projector's
all-or-nothing export, and the command line's messages in its own words. CLI runs are
``python -m cw2v`` in another working directory with relative paths, as a user types them."""
from __future__ import annotations

import errno
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import cw2v
from cw2v import cli
from cw2v.model import Word2Vec
from cw2v.projector import export_projector

PACKAGE_PARENT = str(Path(cw2v.__file__).resolve().parent.parent)
WORDS = "the king queen man woman dog cat apple orange prince".split()


def run_cli(*args, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m cw2v ARGS`` in ``cwd``, importing the cw2v under test."""
    env = dict(os.environ, PYTHONPATH=PACKAGE_PARENT)
    return subprocess.run([sys.executable, "-m", "cw2v", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> str:
    assert result.returncode == 1, (result.returncode, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("cw2v: error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


@pytest.fixture
def work(tmp_path) -> Path:
    """A folder with corpus c.txt, its copy c2.txt, folder corpus/ with a.txt, and vectors
    v.txt; the runs happen in its subfolder run/ with paths like ../c.txt."""
    rng = np.random.default_rng(0)
    text = "\n".join(" ".join(rng.choice(WORDS, 10)) for _ in range(200)) + "\n"
    for name in ("c.txt", "c2.txt", "corpus/a.txt"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    (tmp_path / "v.txt").write_text("2 2\nking 1 0\nqueen 0 1\n")
    (tmp_path / "run").mkdir()
    return tmp_path


TRAIN = ("--min-count", "1", "--d", "8", "--epochs", "1", "--workers", "1", "--no-progress",
         "--no-cache")


# -- item 2: an output never overwrites an input ------------------------------------------------

@pytest.mark.parametrize("args, fragment", [
    (["train", "../c.txt", "-o", "../c.txt", *TRAIN], "-o would overwrite the corpus file"),
    (["train", "../c.txt", "-o", "v.txt", "--checkpoint", "../c.txt", *TRAIN],
     "--checkpoint would overwrite the corpus file"),
    (["train", "../corpus", "-o", "../corpus/a.txt", *TRAIN], "-o would overwrite the corpus"),
    (["train", "../c*.txt", "-o", "../c2.txt", *TRAIN], "-o would overwrite the corpus file"),
    (["train", "../c.txt", "-o", "../link.txt", *TRAIN], "-o would overwrite the corpus file"),
    (["train", "../c.txt", "-o", "x.txt", "--checkpoint", "./x.txt", *TRAIN],
     "--checkpoint and -o name the same file"),
    (["train", "../c.txt", "-o", "x.png", "--plot-curve", "x.png", *TRAIN],
     "--plot-curve and -o name the same file"),
    (["phrases", "../c.txt", "-o", "y.txt", "--export", "../c.txt"],
     "--export would overwrite the corpus file"),
    (["phrases", "../c.txt", "-o", "y.txt", "--save-model", "../c.txt"],
     "--save-model would overwrite the corpus file"),
    (["phrases", "../c.txt", "-o", "../c.txt"], "-o would overwrite the corpus file"),
    (["phrases", "../c.txt", "-o", "y.txt", "--save-model", "y.txt"],
     "--save-model and -o name the same file"),
    (["plot", "../v.svg", "king", "queen", "-o", "../v.svg"], "would overwrite the vectors"),
    (["export", "../v.txt", "-o", ".."], None),  # (v.txt is not a projector file: works)
])
def test_an_output_never_overwrites_an_input(work, args, fragment):
    (work / "link.txt").symlink_to("c.txt")
    (work / "v.svg").write_text((work / "v.txt").read_text())
    before = {p: p.read_bytes() for p in work.rglob("*") if p.is_file()}
    result = run_cli(*args, cwd=work / "run")
    if fragment is None:
        assert result.returncode == 0, result.stderr
        return
    one_line_error(result, fragment)
    assert {p: p.read_bytes() for p in work.rglob("*") if p.is_file()} == before
    assert list((work / "run").iterdir()) == []  # refused before any work


def test_export_refuses_to_overwrite_its_vectors(work):
    (work / "out").mkdir()
    (work / "out" / "vectors.tsv").write_text("2 2\nking 1 0\nqueen 0 1\n")
    one_line_error(run_cli("export", "../out/vectors.tsv", "-o", "../out", cwd=work / "run"),
                   "would overwrite the vectors file")


def test_resume_refuses_to_write_the_vectors_over_the_checkpoint(work):
    ck = work / "run" / "ck"
    assert run_cli("train", "../c.txt", "-o", "v.txt", "--checkpoint", "ck", *TRAIN,
                   cwd=work / "run").returncode == 0
    before = ck.read_bytes()
    one_line_error(run_cli("train", "--resume", "ck", "../c.txt", "-o", "ck", "--no-progress",
                           cwd=work / "run"), "--resume and -o name the same file")
    assert ck.read_bytes() == before


def test_api_checkpoint_never_overwrites_the_corpus(work):
    before = (work / "corpus" / "a.txt").read_bytes()
    with pytest.raises(ValueError, match="checkpoint would overwrite the corpus file"):
        Word2Vec.from_corpus(str(work / "corpus"), checkpoint=work / "corpus" / "a.txt",
                             min_count=1, workers=1)
    assert (work / "corpus" / "a.txt").read_bytes() == before


def test_check_distinct():
    from cw2v._files import check_distinct

    check_distinct([("-o", "a"), ("--x", None), ("--y", "-")], [("corpus file", "-")])
    with pytest.raises(ValueError, match="-o and --x name the same file"):
        check_distinct([("--x", "d/../a"), ("-o", "a")], [])


# -- item 5: every output's folder checked before training; write errors name the path --------

def _refuse_writes_in(monkeypatch, folder: Path):
    """os.access says ``folder`` is not writable (as a read-only folder is to a non-root
    user: root may write anywhere, so a chmod cannot make the case when tests run as root)."""
    real = os.access

    def access(path, mode, *args, **kwargs):
        if mode & os.W_OK and os.path.realpath(path) == os.path.realpath(folder):
            return False
        return real(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)


@pytest.mark.parametrize("option", ["--checkpoint", "--plot-curve"])
def test_unwritable_output_folder_is_refused_before_training(work, monkeypatch, capsys,
                                                             option):
    (work / "ro").mkdir()
    _refuse_writes_in(monkeypatch, work / "ro")
    monkeypatch.chdir(work / "run")
    target = "../ro/ck" if option == "--checkpoint" else "../ro/curve.png"
    status = cli.main(["train", "../c.txt", "-o", "v.txt", option, target, *TRAIN])
    err = capsys.readouterr().err
    assert status == 1, err
    assert f"{target}: " in err and "directory ../ro is not writable" in err
    assert "epoch" not in err and not (work / "run" / "v.txt").exists()


def test_unwritable_phrases_export_folder_is_refused_before_reading(work, monkeypatch, capsys):
    (work / "ro").mkdir()
    _refuse_writes_in(monkeypatch, work / "ro")
    monkeypatch.chdir(work / "run")
    status = cli.main(["phrases", "../c.txt", "-o", "y.txt", "--export", "../ro/p.txt"])
    assert status == 1
    assert "../ro/p.txt: --export output directory ../ro is not writable" in capsys.readouterr().err
    assert not (work / "run" / "y.txt").exists()


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_read_only_checkpoint_folder_is_refused_before_training(work):
    (work / "ro").mkdir()
    os.chmod(work / "ro", 0o555)
    try:
        result = run_cli("train", "../c.txt", "-o", "v.txt", "--checkpoint", "../ro/ck", *TRAIN,
                         cwd=work / "run")
    finally:
        os.chmod(work / "ro", 0o755)
    one_line_error(result, "checkpoint directory ../ro is not writable")


def test_api_checkpoint_folder_is_checked_before_the_corpus_is_read(work, monkeypatch):
    (work / "ro").mkdir()
    _refuse_writes_in(monkeypatch, work / "ro")

    def corpus():
        raise AssertionError("the corpus was read")
        yield

    with pytest.raises(PermissionError, match="not writable"):
        Word2Vec.from_corpus(corpus(), checkpoint=work / "ro" / "ck")


def test_a_full_disk_names_the_file(work, monkeypatch, capsys):
    import cw2v._files

    def fsync(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(cw2v._files.os, "fsync", fsync)
    monkeypatch.chdir(work / "run")
    status = cli.main(["train", "../c.txt", "-o", "v.txt", *TRAIN, "-q"])
    err = capsys.readouterr().err
    assert status == 1
    assert err.strip() == f"cw2v: error: v.txt: {os.strerror(errno.ENOSPC)}"
    assert os.listdir(work / "run") == []  # the temporary file is gone too


# -- item 8: one run writes a checkpoint --------------------------------------------------------

@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a FIFO")
def test_two_runs_cannot_share_a_checkpoint(work):
    """Run A holds shared.ck (it waits on a FIFO for its corpus); run B, another process, is
    refused naming A's PID, also with --resume; once A is killed, B takes the stale lock over
    with a warning and trains; the lock is gone when B ends."""
    run = work / "run"
    os.mkfifo(run / "fifo")
    env = dict(os.environ, PYTHONPATH=PACKAGE_PARENT)
    a = subprocess.Popen([sys.executable, "-m", "cw2v", "train", "fifo", "-o", "a.txt",
                          "--checkpoint", "shared.ck", *TRAIN], cwd=run, env=env,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        lock = run / ".shared.ck.lock"
        deadline = time.monotonic() + 60
        while not lock.exists():
            assert a.poll() is None and time.monotonic() < deadline, "run A never took the lock"
            time.sleep(0.05)
        b = run_cli("train", "../c.txt", "-o", "b.txt", "--checkpoint", "shared.ck", *TRAIN,
                    cwd=run)
        one_line_error(b, "shared.ck: checkpoint in use by process", str(a.pid))
        b = run_cli("train", "--resume", "shared.ck", "../c.txt", "-o", "b.txt", cwd=run)
        one_line_error(b, f"process {a.pid}")
        assert not (run / "b.txt").exists()
    finally:
        a.send_signal(signal.SIGKILL)
        a.wait()
    b = run_cli("train", "../c.txt", "-o", "b.txt", "--checkpoint", "shared.ck", *TRAIN,
                cwd=run)
    assert b.returncode == 0, b.stderr
    assert f"taking over the lock of process {a.pid}" in b.stderr
    assert (run / "b.txt").exists() and (run / "shared.ck").exists() and not lock.exists()


def test_lock_is_released_on_error_and_on_ctrl_c(tmp_path):
    ck = tmp_path / "ck"
    for error in (ValueError("bad corpus"), KeyboardInterrupt()):
        def corpus():
            raise error
            yield

        with pytest.raises(type(error)):
            Word2Vec.from_corpus(corpus(), checkpoint=ck)
        assert os.listdir(tmp_path) == []


def test_a_live_lock_in_this_process_refuses(tmp_path):
    from cw2v._lock import CheckpointLockedError, checkpoint_lock

    with checkpoint_lock(tmp_path / "ck") as lock:
        assert lock.read_text().split()[0] == str(os.getpid())
        with pytest.raises(CheckpointLockedError, match=f"process {os.getpid()}"):
            Word2Vec.from_corpus([WORDS] * 5, checkpoint=tmp_path / "ck", min_count=1)
    assert not lock.exists()


# -- item 11: the projector's files are published together -------------------------------------

def test_failed_projector_export_leaves_the_old_files(tmp_path):
    out = tmp_path / "proj"
    export_projector(cw2v.Vectors(["king", "queen"], [[1, 0], [0, 1]]), out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    bad = cw2v.Vectors(["caf\udce9", "tea"], [[2, 2], [3, 3]])  # from 'surrogateescape'
    with pytest.raises(ValueError, match="cannot be written as UTF-8"):
        export_projector(bad, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_projector_failure_while_writing_leaves_the_old_files(tmp_path, monkeypatch):
    import cw2v.projector as projector

    out = tmp_path / "proj"
    export_projector(cw2v.Vectors(["king", "queen"], [[1, 0], [0, 1]]), out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real = projector.atomic_writer

    def writer(path):
        if path.name == projector.CONFIG_FILE:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path)

    monkeypatch.setattr(projector, "atomic_writer", writer)
    with pytest.raises(OSError):
        export_projector(cw2v.Vectors(["a", "b"], [[2, 2], [3, 3]]), out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


# -- item 16: messages in the command line's words ----------------------------------------------

def test_undecodable_corpus_names_the_errors_option(work):
    (work / "bad.txt").write_bytes(b"caf\xe9 king queen\n")
    line = one_line_error(run_cli("train", "../bad.txt", "-o", "v.txt", *TRAIN,
                                  cwd=work / "run"), "--errors replace")
    assert "errors=" not in line


def test_undecodable_vectors_name_the_unicode_errors_option(work):
    (work / "bad.txt").write_bytes(b"2 2\ncaf\xe9 1 0\nking 0 1\n")
    line = one_line_error(run_cli("similar", "../bad.txt", "king", cwd=work / "run"),
                          "--unicode-errors ignore")
    assert "unicode_errors=" not in line
    ok = run_cli("similar", "../bad.txt", "king", "--unicode-errors", "replace",
                 cwd=work / "run")
    assert ok.returncode == 0 and "caf\ufffd" in ok.stdout


def test_cache_errors_name_the_cache_options(work):
    # An unwritable cache folder falls back to a temporary one, saying so in the CLI's words.
    fallback = run_cli("train", "../c.txt", "-o", "v.txt", "--cache-dir", "../c.txt/cache",
                       *TRAIN[:-1], cwd=work / "run")
    assert fallback.returncode == 0, fallback.stderr
    assert "cannot write the corpus cache folder ../c.txt/cache" in fallback.stderr
    assert "cache_dir=" not in fallback.stderr


def test_truncated_model_says_truncated(work):
    for size in (4, 9, 15):
        (work / "m.cw2v").write_bytes((b"CW2V" + bytes(12))[:size])
        line = one_line_error(run_cli("similar", "../m.cw2v", "king", cwd=work / "run"),
                              "../m.cw2v: truncated cw2v model file")
        assert "bad magic" not in line


def test_resume_hint_repeats_the_outputs_and_reading_options():
    args = cli.build_parser().parse_args(
        ["train", "my corpus.txt", "-o", "v.bin", "--format", "cw2v", "--checkpoint", "ck",
         "--encoding", "latin-1", "--errors", "replace", "--cache-dir", "cache",
         "--plot-curve", "c.png", "--workers", "3", "--epochs", "9"])
    hint = cli._resume_command(args, "ck")
    words = shlex.split(hint)
    assert words[:2] == ["cw2v", "train"]
    again = cli.build_parser().parse_args(words[1:])
    assert again.resume == "ck" and again.checkpoint is None
    for name in ("corpus", "output", "format", "binary", "encoding", "errors", "cache_dir",
                 "plot_curve", "workers", "no_cache"):
        assert getattr(again, name) == getattr(args, name), name
    assert "--epochs" not in words  # the checkpoint has the settings


def test_resume_with_word2vec_flags(work):
    run = work / "run"
    assert run_cli("-train", "../c.txt", "-output", "v.txt", "-min-count", "1", "-size", "8",
                   "-iter", "1", "-threads", "1", "--checkpoint", "ck", "--no-progress",
                   cwd=run).returncode == 0
    resumed = run_cli("-train", "../c.txt", "-output", "v2.txt", "--resume", "ck",
                      "--no-progress", cwd=run)
    assert resumed.returncode == 0, resumed.stderr
    refused = run_cli("-train", "../c.txt", "-output", "v2.txt", "-size", "9", "--resume", "ck",
                      cwd=run)
    assert refused.returncode == 2
    assert refused.stderr.strip().endswith("drop -size")


def test_plot_writes_atomically_and_names_the_file_on_a_write_error(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    import cw2v._files
    from cw2v.plot import plot_words

    vectors = cw2v.Vectors(["king", "queen", "man"], [[1, 0], [0, 1], [1, 1]])
    image = tmp_path / "words.svg"
    image.write_bytes(b"old image")

    def fsync(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(cw2v._files.os, "fsync", fsync)
    with pytest.raises(OSError) as info:
        plot_words(vectors, ["king", "queen", "man"], image)
    assert info.value.filename == str(image) and info.value.errno == errno.ENOSPC
    assert image.read_bytes() == b"old image" and os.listdir(tmp_path) == ["words.svg"]


def test_a_save_that_cannot_create_its_temporary_file_names_the_target(tmp_path, monkeypatch):
    import cw2v._files

    def mkstemp(dir, prefix, suffix):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), f"{dir}/{prefix}x{suffix}")

    monkeypatch.setattr(cw2v._files.tempfile, "mkstemp", mkstemp)
    with pytest.raises(OSError) as info:
        cw2v.Vectors(["a"], [[1.0]]).save_word2vec_format(tmp_path / "v.txt")
    assert info.value.filename == str(tmp_path / "v.txt")


def test_warnings_name_the_command_line_options(monkeypatch, capsys, tmp_path):
    import logging

    monkeypatch.chdir(tmp_path)
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])  # as in a fresh process: basicConfig installs one
    monkeypatch.setattr(cli, "_cmd_train", lambda args: logging.getLogger("cw2v.cache").warning(
        "cannot write the cache; pass cache_dir= a writable folder or cache_dir=False") or 0)
    try:
        assert cli.main(["train", "c.txt", "-o", "v.txt"]) == 0
    finally:
        for handler in root.handlers:
            root.removeHandler(handler)
    err = capsys.readouterr().err
    assert "pass --cache-dir a writable folder or --no-cache" in err and "cache_dir" not in err
