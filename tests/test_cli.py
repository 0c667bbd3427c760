"""The ``cw2v`` command line, run as ``python -m cw2v`` in a subprocess (PYTHONPATH pointing at the
cw2v package under test, in the tree or installed): training with cw2v's and word2vec.c's flags,
the query commands, one-line errors, --help; and the pieces of cw2v.cli in-process."""
from __future__ import annotations

import gzip
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import cw2v
from cw2v import cli

PACKAGE_PARENT = str(Path(cw2v.__file__).resolve().parent.parent)
COMMANDS = ("train", "similar", "analogy", "evaluate", "plot", "demo")

# Hand-made vectors with known geometry: king - man + woman == queen exactly.
TOY = {
    "man": [1, 0, 0, 0],
    "woman": [1, 1, 0, 0],
    "king": [1, 0, 1, 0],
    "queen": [1, 1, 1, 0],
    "boy": [0.9, 0, 0.1, 0.1],
    "girl": [0.9, 1, 0.1, 0.1],
    "apple": [0, 0, 0, 1],
    "orange": [0, 0.1, 0, 1],
    "tiger": [0, 0, 0.2, 1],
}


def run_cli(*args, cwd: Path, timeout: float = 120,
            stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """``python -m cw2v ARGS`` in ``cwd`` (not the repo root, which would shadow an installed
    cw2v), importing the cw2v these tests imported; ``stdin`` goes down a pipe to its standard
    input (else it has none)."""
    env = dict(os.environ, PYTHONPATH=PACKAGE_PARENT)
    result = subprocess.run([sys.executable, "-m", "cw2v", *map(str, args)], cwd=cwd, env=env,
                            capture_output=True, timeout=timeout, input=stdin,
                            stdin=subprocess.DEVNULL if stdin is None else None)
    result.stdout = result.stdout.decode("utf-8")
    result.stderr = result.stderr.decode("utf-8")
    return result


def train_then_ctrl_c(cwd: Path, *args) -> tuple[int, str]:
    """``cw2v train ARGS`` sent SIGINT once its first epoch has ended (training under way);
    returns its exit status and stderr."""
    import signal

    env = dict(os.environ, PYTHONPATH=PACKAGE_PARENT)
    proc = subprocess.Popen([sys.executable, "-m", "cw2v", "train", *map(str, args)], cwd=cwd,
                            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        for line in proc.stderr:
            lines.append(line)
            if " epoch 1/" in line:
                break
        proc.send_signal(signal.SIGINT)
        _, rest = proc.communicate(timeout=60)
    finally:
        proc.kill()
    return proc.returncode, "".join(lines) + rest


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> str:
    """The run failed with exactly one stderr line 'cw2v: error: ...' holding ``fragments``."""
    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("cw2v: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def write_text_vectors(path: Path, vectors: dict) -> Path:
    dim = len(next(iter(vectors.values())))
    lines = [f"{len(vectors)} {dim}"]
    lines += [w + " " + " ".join(repr(float(x)) for x in v) for w, v in vectors.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def binary_bytes(vectors: dict) -> bytes:
    dim = len(next(iter(vectors.values())))
    out = [f"{len(vectors)} {dim}\n".encode()]
    for w, v in vectors.items():
        out.append(w.encode() + b" " + np.asarray(v, dtype="<f4").tobytes() + b"\n")
    return b"".join(out)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def corpus(workdir) -> Path:
    """A tiny corpus: 300 sentences over 15 words (every word far above min_count 1)."""
    rng = random.Random(0)
    words = "the king queen man woman dog cat apple orange prince princess royal fruit a of".split()
    path = workdir / "corpus.txt"
    path.write_text("\n".join(" ".join(rng.choice(words) for _ in range(10))
                              for _ in range(300)) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def corpus_vocab_size(corpus) -> int:
    return len(set(corpus.read_text(encoding="utf-8").split()))


@pytest.fixture(scope="module")
def toy_text(workdir) -> Path:
    return write_text_vectors(workdir / "toy.txt", TOY)


@pytest.fixture(scope="module")
def toy_binary(workdir) -> Path:
    path = workdir / "toy.bin"
    path.write_bytes(binary_bytes(TOY))
    return path


SMALL = ["--window", "2", "--min-count", "1", "--epochs", "1", "--workers", "1",
         "--no-progress"]


# -- train ----------------------------------------------------------------------------------------


def header(path: Path) -> tuple[int, int]:
    with open(path, "rb") as f:
        n, d = f.readline().split()
    return int(n), int(d)


def test_train_text_default_format(corpus, corpus_vocab_size, tmp_path):
    gensim = pytest.importorskip("gensim")
    out = tmp_path / "vec.txt"
    result = run_cli("train", corpus, "-o", out, "--d", 7, *SMALL, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert header(out) == (corpus_vocab_size, 7)
    kv = gensim.models.KeyedVectors.load_word2vec_format(str(out), binary=False)
    assert kv.vectors.shape == (corpus_vocab_size, 7)
    assert "INFO" in result.stderr and "wrote" in result.stderr  # train logs at INFO


def test_train_binary_with_size_alias(corpus, corpus_vocab_size, tmp_path):
    gensim = pytest.importorskip("gensim")
    out = tmp_path / "vec.bin"
    result = run_cli("train", corpus, "-o", out, "--size", 6, "--binary", "-q", *SMALL,
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # --quiet
    assert header(out) == (corpus_vocab_size, 6)
    kv = gensim.models.KeyedVectors.load_word2vec_format(str(out), binary=True)
    assert kv.vectors.shape == (corpus_vocab_size, 6)
    with pytest.raises(Exception):  # really binary, not text
        gensim.models.KeyedVectors.load_word2vec_format(str(out), binary=False)


def test_train_native_format(corpus, corpus_vocab_size, tmp_path):
    from cw2v import io

    out = tmp_path / "model.cw2v"
    result = run_cli("train", corpus, "-o", out, "--format", "cw2v", "--d", 5, "--seed", 4,
                     "--mode", "batched", *SMALL, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes()[:4] == io.MAGIC
    model = cw2v.Word2Vec.load(out)
    assert model.vector_size == 5 and len(model.vocab) == corpus_vocab_size
    assert model.config["seed"] == 4 and model.config["mode"] == "batched"


def test_word2vec_c_flags(corpus, corpus_vocab_size, tmp_path):
    gensim = pytest.importorskip("gensim")
    out = tmp_path / "vec.bin"
    result = run_cli("train", "-train", corpus, "-output", out, "-size", 9, "-window", 2,
                     "-negative", 3, "-sample", 0, "-threads", 1, "-iter", 1, "-min-count", 1,
                     "-alpha", 0.05, "-binary", 1, "-cbow", 0, "-hs", 0, "-debug", 2,
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert header(out) == (corpus_vocab_size, 9)
    kv = gensim.models.KeyedVectors.load_word2vec_format(str(out), binary=True)
    assert kv.vectors.shape == (corpus_vocab_size, 9)


def test_word2vec_c_flags_match_new_style(corpus, tmp_path):
    """Both spellings of the same settings, without the `train` word in the old style, give
    byte-identical vectors (one worker: training is deterministic)."""
    old, new = tmp_path / "old.txt", tmp_path / "new.txt"
    r_old = run_cli("-train", corpus, "-output", old, "-size", 8, "-window", 3, "-negative", 2,
                    "-sample", "1e-2", "-threads", 1, "-iter", 2, "-min-count", 2,
                    "-alpha", 0.04, "-binary", 0, cwd=tmp_path)
    # word2vec.c's defaults: CBOW, the rate decaying to alpha x 1e-4.
    r_new = run_cli("train", corpus, "-o", new, "--d", 8, "--window", 3, "--n-neg", 2,
                    "--sample", "1e-2", "--workers", 1, "--epochs", 2, "--min-count", 2,
                    "--lr", 0.04, "--sg", 0, "--min-lr", repr(0.04 * 1e-4), cwd=tmp_path)
    assert r_old.returncode == 0 and r_new.returncode == 0, (r_old.stderr, r_new.stderr)
    assert header(old) == header(new)
    assert old.read_bytes() == new.read_bytes()
    r_other = run_cli("train", corpus, "-o", tmp_path / "other.txt", "--d", 8, "--window", 3,
                      "--n-neg", 2, "--sample", "1e-2", "--workers", 1, "--epochs", 2,
                      "--min-count", 2, "--lr", 0.02, "--sg", 0, "--min-lr", repr(0.04 * 1e-4),
                      cwd=tmp_path)
    assert r_other.returncode == 0
    assert (tmp_path / "other.txt").read_bytes() != new.read_bytes()  # lr did reach training


@pytest.mark.parametrize("flags, fragment", [
    (["-cbow", "2"], "-cbow takes 0"),
    (["-hs", "2"], "hs must be"),
    (["-hs", "0", "-negative", "0"], "n_neg=0 with hs=0"),
    (["-binary", "2"], "-binary takes 0 or 1"),
    (["-classes", "100"], "-classes"),
    (["-save-vocab", "v.txt"], "-save-vocab"),
    (["-size"], "-size needs a value"),
])
def test_word2vec_c_flags_refused(corpus, tmp_path, flags, fragment):
    result = run_cli("train", "-train", corpus, "-output", tmp_path / "v.txt", *flags,
                     cwd=tmp_path)
    assert_one_line_error(result, fragment)
    assert not (tmp_path / "v.txt").exists()


def test_translate_word2vec_flags():
    assert cli.translate_word2vec_flags(
        ["-train", "c.txt", "-output", "v.bin", "-size", "50", "-alpha", "-0.5", "-binary", "1",
         "-cbow", "0", "-hs", "0", "-debug", "2", "--epochs", "3", "-o", "x"]) == [
        "--train=c.txt", "--output=v.bin", "--d=50", "--lr=-0.5", "--binary", "--sg=1", "--hs=0",
        "--epochs", "3", "-o", "x"]
    # Values are consumed with their flag; after "--" nothing is translated.
    assert cli.translate_word2vec_flags(["-binary", "0", "--", "-size", "5"]) == [
        "--", "-size", "5"]
    with pytest.raises(cli.UsageError, match="-cbow takes 0"):
        cli.translate_word2vec_flags(["-cbow", "yes"])
    assert cli.translate_word2vec_flags(["-cbow", "1", "-hs", "1"]) == ["--sg=0", "--hs=1"]


def test_word2vec_c_defaults():
    """word2vec.c's own defaults where they differ from cw2v train's, only with its flags."""
    assert cli.word2vec_c_defaults(["c.txt", "-o", "v.txt", "--lr", "0.1"]) == []
    assert cli.word2vec_c_defaults(["-train", "c.txt"]) == ["--sg=0", "--lr=0.05",
                                                            "--min-lr=5e-06"]
    assert cli.word2vec_c_defaults(["-train", "c", "-cbow", "0"]) == ["--lr=0.025",
                                                                      "--min-lr=2.5e-06"]
    assert cli.word2vec_c_defaults(["-train", "c", "-alpha", "0.1"]) == ["--sg=0",
                                                                        "--min-lr=1e-05"]
    assert cli.word2vec_c_defaults(["c", "--", "-train", "x"]) == []


@pytest.mark.parametrize("spelling, expected", [
    # word2vec.c's spelling, no -cbow: CBOW at alpha 0.05, as word2vec.c's demo-word.sh trains.
    (["-train", "{corpus}", "-output", "{out}", "-min-count", "1", "-iter", "1"],
     dict(sg=0, hs=0, n_neg=5, lr=0.05, log="CBOW (mean) with negative sampling (5 noise words)")),
    (["-train", "{corpus}", "-output", "{out}", "-min-count", "1", "-iter", "1", "-cbow", "0",
      "-hs", "1", "-negative", "0"],
     dict(sg=1, hs=1, n_neg=0, lr=0.025, log="skip-gram with hierarchical softmax")),
    # cw2v's own spelling keeps cw2v's defaults: skip-gram, negative sampling.
    (["train", "{corpus}", "-o", "{out}", "--min-count", "1", "--epochs", "1"],
     dict(sg=1, hs=0, n_neg=5, lr=0.025, log="skip-gram with negative sampling (5 noise words)")),
    (["train", "{corpus}", "-o", "{out}", "--min-count", "1", "--epochs", "1", "--sg", "0",
      "--hs", "1", "--n-neg", "0", "--cbow-mean", "0"],
     dict(sg=0, hs=1, n_neg=0, lr=0.025, log="CBOW (sum) with hierarchical softmax")),
])
def test_architecture_from_both_spellings(corpus, tmp_path, spelling, expected):
    out = tmp_path / "m.cw2v"
    args = [a.format(corpus=corpus, out=out) for a in spelling] + ["--format", "cw2v"]
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"training {expected.pop('log')}" in result.stderr
    config = cw2v.Word2Vec.load(out).config
    assert {k: config[k] for k in expected} == expected


# -- queries --------------------------------------------------------------------------------------


def neighbours(stdout: str) -> list[str]:
    return [line.split()[0] for line in stdout.splitlines() if line.startswith("  ")]


@pytest.mark.parametrize("kind", ["text", "binary", "gz"])
def test_similar(kind, toy_text, toy_binary, tmp_path):
    path = {"text": toy_text, "binary": toy_binary}.get(kind)
    if kind == "gz":
        path = tmp_path / "toy.txt.gz"
        path.write_bytes(gzip.compress(toy_text.read_bytes()))
    result = run_cli("similar", path, "apple", "king", "-k", 2, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "apple" and lines[3] == "king"
    # cos(apple, orange) = 1/sqrt(1.01) = 0.995, cos(apple, tiger) = 1/sqrt(1.04) = 0.981
    assert lines[1].split() == ["orange", "0.995"]
    assert lines[2].split() == ["tiger", "0.981"]
    assert neighbours("\n".join(lines[4:])) == ["queen", "boy"]


def test_similar_native_model(corpus, tmp_path):
    from cw2v import Word2Vec

    model = Word2Vec.from_corpus(str(corpus), d=6, min_count=1, epochs=1, workers=1)
    model.save(tmp_path / "m.cw2v")
    result = run_cli("similar", tmp_path / "m.cw2v", "king", "-k", 3, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    expected = [w for w, _ in model.most_similar("king", 3)]
    assert neighbours(result.stdout) == expected


def test_binary_flag_forces_binary(tmp_path):
    # Both a text file and a binary one: four ASCII digits are also a float32.
    path = tmp_path / "both.vec"
    path.write_bytes(b"2 1\na 1234\nb 5678\n")
    assert cli.load_vectors(path).vectors.ravel().tolist() == [1234.0, 5678.0]
    as_binary = np.frombuffer(b"12345678", dtype="<f4")
    np.testing.assert_array_equal(cli.load_vectors(path, binary=True).vectors.ravel(), as_binary)
    result = run_cli("similar", path, "a", "-k", 1, "--binary", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert neighbours(result.stdout) == ["b"]


def test_analogy(toy_binary, tmp_path):
    result = run_cli("analogy", toy_binary, "man", "king", "woman", "-k", 2, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "man : king :: woman : ?"
    unit = {w: np.array(v) / np.linalg.norm(v) for w, v in TOY.items()}
    query = unit["king"] - unit["man"] + unit["woman"]  # 3CosAdd on unit vectors
    cosine = query @ unit["queen"] / np.linalg.norm(query)
    assert lines[1].split() == ["queen", f"{cosine:.3f}"]
    assert len(lines) == 3


def test_evaluate_files(toy_text, tmp_path):
    questions = tmp_path / "q.txt"
    # Two questions are right (the answer is queen); the third expects man but gets queen.
    questions.write_text(": family\nman woman king queen\nman king woman queen\n"
                         ": other\napple orange king man\n", encoding="utf-8")
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("king\tqueen\t8\nman\twoman\t7\napple\ttiger\t1\nking\tapple\t0.5\n"
                     "king\tunicorn\t3\n", encoding="utf-8")
    result = run_cli("evaluate", toy_text, "--analogies", questions, "--pairs", pairs,
                     "--restrict-vocab", 100, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "66.67%" in out  # 2 of 3
    assert "family" in out and "100.00%" in out
    # Ranks of the gold scores (4, 3, 2, 1) against the cosines' (3, 2, 4, 1): rho = 0.4.
    assert "Spearman 0.4000" in out
    assert "4 pairs used, 1 skipped as OOV" in out


def test_evaluate_packaged_sets(toy_text, tmp_path):
    result = run_cli("evaluate", toy_text, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "questions-words.txt" in result.stdout and "wordsim353" in result.stdout
    family = next(line for line in result.stdout.splitlines() if line.startswith("family"))
    assert int(family.split()[2]) > 0  # boy girl king queen, ... were answered
    assert "Spearman" in result.stdout


def test_demo(tmp_path):
    result = run_cli("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "most similar to king:" in result.stdout
    assert "similarity(king, queen)" in result.stdout


def test_plot_command(toy_text, tmp_path):
    pytest.importorskip("matplotlib")
    result = run_cli("plot", toy_text, "king", "queen", "man", "woman", "-o",
                     tmp_path / "w.png", "--title", "royals", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "w.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    result = run_cli("plot", toy_text, "man", "woman", "king", "queen", "-o",
                     tmp_path / "a.svg", "--analogy", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "<svg" in (tmp_path / "a.svg").read_text(encoding="utf-8")


# -- standard input, pipes and FIFOs --------------------------------------------------------------


@pytest.fixture(scope="module")
def many_vectors_files(workdir) -> dict[str, Path]:
    """One set of 3000 vectors (more than a pipe's buffer) in each format cw2v reads."""
    from cw2v import Vectors, Word2Vec

    rng = np.random.default_rng(5)
    words = [f"w{i}" for i in range(3000)]
    vectors = Vectors(words, rng.standard_normal((3000, 10)).astype(np.float32))
    files = {"text": workdir / "many.txt", "binary": workdir / "many.bin",
             "gz": workdir / "many.bin.gz", "cw2v": workdir / "many.cw2v"}
    vectors.save_word2vec_format(files["text"])
    vectors.save_word2vec_format(files["binary"], binary=True)
    vectors.save_word2vec_format(files["gz"], binary=True)
    model = Word2Vec(words, d=10, seed=1)
    model.W_in[:] = vectors.vectors
    model.save(files["cw2v"])
    return files


@pytest.mark.parametrize("kind", ["text", "binary", "gz", "cw2v"])
@pytest.mark.parametrize("source", ["-", "/dev/stdin"])
def test_vectors_from_standard_input(many_vectors_files, tmp_path, kind, source):
    # Before: the format was told by reading the pipe, and the reader then started mid-file.
    if source == "/dev/stdin" and not os.path.exists("/dev/stdin"):
        pytest.skip("no /dev/stdin")
    path = many_vectors_files[kind]
    expected = run_cli("similar", path, "w7", "w2999", "-k", 3, cwd=tmp_path)
    assert expected.returncode == 0, expected.stderr
    piped = run_cli("similar", source, "w7", "w2999", "-k", 3, cwd=tmp_path,
                    stdin=path.read_bytes())
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == expected.stdout


@pytest.mark.parametrize("kind", ["text", "binary", "gz", "cw2v"])
def test_vectors_from_a_fifo(many_vectors_files, tmp_path, fifo, kind):
    path = many_vectors_files[kind]
    expected = run_cli("similar", path, "w7", "-k", 3, cwd=tmp_path)
    piped = run_cli("similar", fifo(path.read_bytes(), first=1), "w7", "-k", 3, cwd=tmp_path)
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == expected.stdout


def test_error_in_vectors_from_standard_input_names_it(tmp_path):
    result = run_cli("similar", "-", "king", cwd=tmp_path, stdin=b"2 2\nking 1 2\n")
    assert_one_line_error(result, "<stdin>, line 3", "header says 2")


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gz"])
def test_train_from_standard_input_and_a_fifo_equals_the_file(corpus, tmp_path, fifo, compress):
    data = corpus.read_bytes()
    source = corpus
    if compress:
        data = gzip.compress(data)
        source = tmp_path / "corpus.txt.gz"
        source.write_bytes(data)
    options = ["--d", 5, "--seed", 3, *SMALL]
    expected = run_cli("train", source, "-o", tmp_path / "file.txt", *options, cwd=tmp_path)
    assert expected.returncode == 0, expected.stderr
    runs = {"stdin.txt": run_cli("train", "-", "-o", tmp_path / "stdin.txt", *options,
                                 cwd=tmp_path, stdin=data),
            # word2vec.c's spelling, set to cw2v's defaults (skip-gram, the rate's floor).
            "w2v.txt": run_cli("-train", "-", "-output", tmp_path / "w2v.txt", "-size", 5,
                               "-cbow", 0, *options, "--min-lr", "1e-4", cwd=tmp_path,
                               stdin=data),
            "fifo.txt": run_cli("train", fifo(data, first=1), "-o", tmp_path / "fifo.txt",
                                *options, cwd=tmp_path)}
    for name, result in runs.items():
        assert result.returncode == 0, result.stderr
        assert (tmp_path / name).read_bytes() == (tmp_path / "file.txt").read_bytes(), name


def test_standard_input_is_read_once(corpus, tmp_path):
    result = run_cli("train", "-", corpus, "-", "-o", tmp_path / "v.txt", cwd=tmp_path,
                     stdin=b"a b c\n")
    assert_one_line_error(result, "standard input (-) can be read only once")
    assert result.returncode == 2


@pytest.mark.parametrize("command", ["train", "similar", "analogy", "evaluate", "plot"])
def test_help_says_dash_is_standard_input(command, tmp_path):
    result = run_cli(command, "--help", cwd=tmp_path)
    assert "'-' reads standard input" in " ".join(result.stdout.split())


# -- errors and help ------------------------------------------------------------------------------


def test_error_missing_vectors_file(tmp_path):
    assert_one_line_error(run_cli("similar", tmp_path / "nope.txt", "king", cwd=tmp_path),
                          "nope.txt", "No such file")


def test_error_unknown_words(toy_text, tmp_path):
    line = assert_one_line_error(
        run_cli("similar", toy_text, "king", "zebra", "yak", cwd=tmp_path), "not in vocabulary")
    assert "'zebra'" in line and "'yak'" in line and "'king'" not in line
    assert_one_line_error(run_cli("analogy", toy_text, "man", "king", "zebra", cwd=tmp_path),
                          "'zebra'")
    assert_one_line_error(run_cli("plot", toy_text, "king", "zebra", "-o", tmp_path / "p.png",
                                  cwd=tmp_path), "'zebra'")


def test_error_missing_corpus(tmp_path):
    result = run_cli("train", tmp_path / "missing.txt", "-o", tmp_path / "v.txt", cwd=tmp_path)
    assert_one_line_error(result, "missing.txt")


@pytest.mark.parametrize("options, fragment, status", [
    (["--d", "0"], "d must be", 1),
    (["--d", "abc"], "invalid int value", 2),
    (["--lr", "-1"], "lr", 1),
    (["--mode", "fast"], "invalid choice", 2),
    (["--format", "cw2v", "--binary"], "--binary", 2),
])
def test_error_bad_train_options(corpus, tmp_path, options, fragment, status):
    result = run_cli("train", corpus, "-o", tmp_path / "v.txt", *options, cwd=tmp_path)
    assert_one_line_error(result, fragment)
    assert result.returncode == status
    assert not (tmp_path / "v.txt").exists()


def test_error_output_is_a_fifo(corpus, tmp_path):
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    assert_one_line_error(run_cli("train", corpus, "-o", fifo, *SMALL, cwd=tmp_path),
                          "not a regular file")
    assert fifo.is_fifo()


@pytest.mark.parametrize("options, fragment", [
    (["--n-neg", "2147483648"], "n_neg"), (["--n-neg", "1073741824", "--window", "2"], "n_neg"),
    (["--window", "1000000000"], "window"), (["--d", "1000000000"], "d must"),
    (["--workers", "100000"], "workers"), (["--ns-exponent", "1000"], "ns_exponent"),
    (["--seed", "-1"], "seed"),
])
def test_error_out_of_range_values_are_one_line(corpus, tmp_path, options, fragment):
    # Before: a traceback (n_neg 2**31), a segfault (n_neg 2**30), or an allocation failure after
    # the whole corpus was read (d, window 10**9).
    result = run_cli("train", corpus, "-o", tmp_path / "v.txt", *options, cwd=tmp_path)
    assert_one_line_error(result, fragment)
    assert result.returncode == 1 and not (tmp_path / "v.txt").exists()


def test_error_output_directory_missing(corpus, tmp_path):
    result = run_cli("train", corpus, "-o", tmp_path / "no" / "v.txt", *SMALL, cwd=tmp_path)
    assert_one_line_error(result, "does not exist")


@pytest.mark.parametrize("content", [
    b"garbage\x00\xff\n",                                  # no header
    b"3 4\nking 1 2 3 4\nqueen 1 2\n",                     # short line
    b"2 4\nking " + np.ones(4, "<f4").tobytes() + b"\n",  # binary, cut short
    b"CW2V" + b"\x01" * 30,                                # native magic, corrupt header
])
def test_error_corrupt_vectors(tmp_path, content):
    path = tmp_path / "bad.vec"
    path.write_bytes(content)
    assert_one_line_error(run_cli("similar", path, "king", cwd=tmp_path), "bad.vec")


def test_error_corrupt_native_model(corpus, tmp_path):
    from cw2v import Word2Vec

    model = Word2Vec.from_corpus(str(corpus), d=4, min_count=1, epochs=1, workers=1)
    path = tmp_path / "m.cw2v"
    model.save(path)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF  # inside the last array
    path.write_bytes(bytes(data))
    assert_one_line_error(run_cli("similar", path, "king", cwd=tmp_path), "m.cw2v")


@pytest.mark.parametrize("damage", ["truncated", "flipped"])
def test_error_damaged_compressed_corpus_and_vectors(corpus, toy_binary, tmp_path, damage):
    # Before: a traceback ending in EOFError or zlib.error.
    for name, data in (("corpus.txt.gz", corpus.read_bytes()),
                       ("vectors.bin.gz", toy_binary.read_bytes())):
        packed = bytearray(gzip.compress(data))
        if damage == "truncated":
            packed = packed[:len(packed) - 12]
        else:
            packed[len(packed) // 2] ^= 0x55
        (tmp_path / name).write_bytes(bytes(packed))
    result = run_cli("train", tmp_path / "corpus.txt.gz", "-o", tmp_path / "v.txt", *SMALL,
                     cwd=tmp_path)
    assert_one_line_error(result, "corpus.txt.gz")
    assert result.returncode == 1 and not (tmp_path / "v.txt").exists()
    assert_one_line_error(run_cli("similar", tmp_path / "vectors.bin.gz", "king", cwd=tmp_path),
                          "vectors.bin.gz")


@pytest.mark.parametrize("encoding, fragment", [("nope", "unknown encoding: nope"),
                                                ("rot13", "'rot13' is not a text encoding")])
def test_error_bad_encoding(corpus, tmp_path, encoding, fragment):
    result = run_cli("train", corpus, "-o", tmp_path / "v.txt", "--encoding", encoding,
                     cwd=tmp_path)
    assert_one_line_error(result, "--encoding", fragment)
    assert result.returncode == 2


@pytest.mark.parametrize("key, value, fragment", [
    ("rng_state", "not a number", "'rng_state'"),
    ("rng_state", -5, "'rng_state'"),
    ("vocab", ["king", 3, "queen"], "'vocab' holds 3"),
    ("config", [1, 2], "'config' is not a JSON object"),
])
def test_error_native_model_with_bad_metadata(tmp_path, key, value, fragment):
    from cw2v import Word2Vec, io

    model = Word2Vec(["king", "queen", "man"], d=4, seed=1)
    model.save(tmp_path / "good.cw2v")
    meta, arrays = io.load_arrays(tmp_path / "good.cw2v")
    meta[key] = value
    io.save_arrays(tmp_path / "bad.cw2v", meta, arrays)
    assert_one_line_error(run_cli("similar", tmp_path / "bad.cw2v", "king", cwd=tmp_path),
                          "bad.cw2v", fragment)


def test_error_plot_arguments(toy_text, tmp_path):
    assert_one_line_error(run_cli("plot", toy_text, "king", "-o", tmp_path / "x.pdf",
                                  cwd=tmp_path), ".png or .svg")
    assert_one_line_error(run_cli("plot", toy_text, "man", "woman", "king", "-o",
                                  tmp_path / "x.png", "--analogy", cwd=tmp_path), "fours")


@pytest.mark.parametrize("args, fragment", [
    ([], "COMMAND"),
    (["fly"], "invalid choice"),
    (["similar", "v.txt", "king", "-k", "x"], "invalid int value"),
])
def test_error_usage(tmp_path, args, fragment):
    result = run_cli(*args, cwd=tmp_path)
    assert_one_line_error(result, fragment)
    assert result.returncode == 2


@pytest.mark.parametrize("command", ("",) + COMMANDS)
def test_help(command, tmp_path):
    result = run_cli(*([command] if command else []), "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: cw2v {command}".rstrip())
    if command == "train":
        assert "-train FILE" in result.stdout and "--min-count" in result.stdout
    if not command:
        assert all(c in result.stdout for c in COMMANDS)


def test_version(tmp_path):
    result = run_cli("--version", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == f"cw2v {cw2v.__version__}"


# -- in-process -----------------------------------------------------------------------------------


def test_ctrl_c_exits_130_quietly(monkeypatch, capsys):
    from cw2v import demo

    def interrupted(argv=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(demo, "main", interrupted)
    assert cli.main(["demo"]) == 130
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_interrupted_training_writes_nothing(monkeypatch, capsys, corpus, tmp_path):
    from cw2v import Word2Vec

    class Stopped:
        training_stopped = "interrupted in epoch 1 of 5 (3.0% of words)"

    monkeypatch.setattr(Word2Vec, "from_corpus", classmethod(lambda cls, *a, **k: Stopped()))
    out = tmp_path / "v.txt"
    assert cli.main(["train", str(corpus), "-o", str(out), "-q"]) == 130
    assert not out.exists()
    assert capsys.readouterr().err == (f"cw2v: training interrupted in epoch 1 of 5 (3.0% of "
                                       f"words); nothing was written to {out}\n")


def test_interrupted_corpus_reading_writes_nothing(monkeypatch, capsys, corpus, tmp_path):
    from cw2v import Word2Vec

    def interrupted(cls, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Word2Vec, "from_corpus", classmethod(interrupted))
    out = tmp_path / "v.txt"
    assert cli.main(["train", str(corpus), "-o", str(out), "-q"]) == 130
    assert capsys.readouterr().err == f"cw2v: interrupted; nothing was written to {out}\n"


@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT")
def test_ctrl_c_while_training_says_nothing_was_written(corpus, tmp_path):
    # Before: the trainer's warning that "the weights keep what was trained so far", and
    # nothing from the command line, which then wrote nothing.
    out = tmp_path / "v.txt"
    returncode, stderr = train_then_ctrl_c(
        tmp_path, corpus, "-o", out, "--epochs", "1000000", "--workers", "1", "--min-count",
        "1", "--no-progress")
    assert returncode == 130, stderr
    assert "Traceback" not in stderr and "weights keep" not in stderr
    last = stderr.splitlines()[-1]
    assert last.startswith("cw2v: training interrupted in epoch ")
    assert last.endswith(f"; nothing was written to {out}")
    assert not out.exists()


def test_main_returns_status(capsys, toy_text):
    assert cli.main(["similar", str(toy_text), "apple", "-k", "1"]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[0] == "orange"
    assert cli.main(["similar", str(toy_text), "zebra"]) == 1
    assert capsys.readouterr().err.startswith("cw2v: error: not in vocabulary: 'zebra'")


def test_detect_format(tmp_path, toy_text, toy_binary):
    from cw2v import io

    assert cli.detect_format(toy_text) == "text"
    assert cli.detect_format(toy_binary) == "binary"
    gz = tmp_path / "t.bin.gz"
    gz.write_bytes(gzip.compress(toy_binary.read_bytes()))
    assert cli.detect_format(gz) == "binary"
    # A binary file whose first vector starts with the byte of "\n": its first "line" is just
    # the word, which must not make it look like a (malformed) text file.
    first = np.frombuffer(b"\x0a\x00\x80\x3f", dtype="<f4")[0]
    tricky = tmp_path / "tricky.bin"
    tricky.write_bytes(binary_bytes({"king": [first, 0.5, -2.0], "queen": [1.0, 2.0, 3.0]}))
    assert cli.detect_format(tricky) == "binary"
    assert cli.load_vectors(tricky).vectors[0, 0] == first
    native = tmp_path / "m.cw2v"
    native.write_bytes(io.MAGIC + b"\x00" * 12)
    assert cli.detect_format(native) == "cw2v"
    # Latin-1 text: the bytes after the first word are not UTF-8, but its first line is a
    # word and 2 numbers.
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("2 2\nab 1 2\néa 3 4\n".encode("latin-1"))
    assert cli.detect_format(latin) == "text"
    # A malformed text file is still text, so the text reader reports it.
    bad = tmp_path / "bad.txt"
    bad.write_text("2 3\nkönig 1 2\nqueen 1 2 3\n", encoding="utf-8")
    assert cli.detect_format(bad) == "text"
    with pytest.raises(FileNotFoundError):
        cli.detect_format(tmp_path / "missing.txt")


# -- checkpoints ----------------------------------------------------------------------------------

@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT")
def test_ctrl_c_writes_the_checkpoint_and_resume_finishes_the_same_run(tmp_path):
    """Ctrl-C with --checkpoint says where the checkpoint is; --resume (one worker) then
    writes the vectors an uninterrupted run writes, byte for byte."""
    rng = np.random.default_rng(0)
    corpus = tmp_path / "zipf.txt"
    corpus.write_text("\n".join(" ".join(f"w{j % 300}" for j in rng.zipf(1.3, 1000))
                                for _ in range(300)) + "\n")
    opts = ["--epochs", "6", "--workers", "1", "--min-count", "1", "--d", "16", "--sample",
            "0", "--no-progress"]
    whole = run_cli("train", corpus, "-o", tmp_path / "whole.txt", *opts, cwd=tmp_path)
    assert whole.returncode == 0, whole.stderr
    out, ckpt = tmp_path / "v.txt", tmp_path / "run.ckpt"
    returncode, stderr = train_then_ctrl_c(tmp_path, corpus, "-o", out, *opts,
                                           "--checkpoint", ckpt)
    assert returncode == 130, stderr
    last = stderr.splitlines()[-1]
    assert last.startswith("cw2v: training interrupted in epoch ")
    assert last.endswith(f"; nothing was written to {out}; checkpoint written to {ckpt} "
                         f"(continue with: cw2v train --resume {ckpt} {corpus} -o {out} "
                         "--workers 1)")
    assert ckpt.exists() and not out.exists()
    assert not (tmp_path / ".run.ckpt.lock").exists()  # the run's lock went with it
    resumed = run_cli("train", "--resume", ckpt, corpus, "-o", out, "--no-progress",
                      cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert not (tmp_path / ".run.ckpt.lock").exists()
    assert "resuming" in resumed.stderr
    assert out.read_bytes() == (tmp_path / "whole.txt").read_bytes()


def test_resume_refuses_new_settings(tmp_path, corpus):
    result = run_cli("train", "--resume", tmp_path / "c.ckpt", corpus, "-o", tmp_path / "v.txt",
                     "--window", "9", cwd=tmp_path)
    assert_one_line_error(result, "--resume continues with the checkpoint's settings; drop "
                                  "--window")
    assert result.returncode == 2


def test_resume_of_a_missing_checkpoint_is_one_line(tmp_path, corpus):
    result = run_cli("train", "--resume", tmp_path / "c.ckpt", corpus, "-o", tmp_path / "v.txt",
                     cwd=tmp_path)
    assert_one_line_error(result, "c.ckpt")


def test_a_diverging_run_is_one_line(tmp_path, corpus):
    result = run_cli("train", corpus, "-o", tmp_path / "v.txt", "--min-count", "1", "--lr",
                     "1e6", "--min-lr", "0", "--workers", "1", "-q", cwd=tmp_path)
    assert_one_line_error(result, "training diverged in epoch 1", "smaller lr")
    assert not (tmp_path / "v.txt").exists()
    # hierarchical softmax alone diverges to huge finite weights: seen by its loss
    result = run_cli("train", corpus, "-o", tmp_path / "v.txt", "--min-count", "1", "--lr",
                     "1e6", "--hs", "1", "--n-neg", "0", "--workers", "1", "-q", cwd=tmp_path)
    assert_one_line_error(result, "training diverged in epoch 1", "smaller lr")
    assert not (tmp_path / "v.txt").exists()


def test_train_reuses_the_encoded_corpus_in_the_cache_dir(tmp_path, corpus):
    cache_dir = tmp_path / "cache"
    opts = ["--min-count", "1", "--epochs", "1", "--workers", "1", "--cache-dir", cache_dir]
    first = run_cli("train", corpus, "-o", tmp_path / "a.txt", *opts, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert [p.name for p in cache_dir.iterdir() if not p.name.startswith(".")]
    second = run_cli("train", corpus, "-o", tmp_path / "b.txt", *opts, cwd=tmp_path)
    assert "reusing the encoded corpus" in second.stderr
    assert (tmp_path / "a.txt").read_bytes() == (tmp_path / "b.txt").read_bytes()
    memory = run_cli("train", corpus, "-o", tmp_path / "c.txt", *opts[:-2], "--no-cache",
                     cwd=tmp_path)
    assert memory.returncode == 0 and "reusing" not in memory.stderr
    assert (tmp_path / "c.txt").read_bytes() == (tmp_path / "a.txt").read_bytes()
    both = run_cli("train", corpus, "-o", tmp_path / "d.txt", "--no-cache", "--cache-dir",
                   cache_dir, cwd=tmp_path)
    assert_one_line_error(both, "--no-cache and --cache-dir exclude each other")
