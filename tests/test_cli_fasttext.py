"""The command line in fastText's words: ``cw2v skipgram`` / ``cw2v cbow`` with fastText's flags and
defaults, and ``cw2v train --subwords``.

The parsing and the flag mapping are tested here without a model; the end-to-end tests at the
bottom train a tiny corpus, the way a user types: relative paths, from another folder.
"""
from __future__ import annotations

import numpy as np
import pytest

from cw2v import cli, params
from test_cli import assert_one_line_error, run_cli

BASIC = ["-input", "data.txt", "-output", "model"]


def main_in(cwd, monkeypatch, capsys, *argv: str):
    """``cli.main(argv)`` run in ``cwd``, in this process (faster than a subprocess); the exit
    status and an object with ``returncode``/``stderr`` for ``assert_one_line_error``."""
    monkeypatch.chdir(cwd)
    capsys.readouterr()
    status = cli.main(list(argv))
    err = capsys.readouterr().err

    class Result:
        returncode, stderr = status, err
    return Result


def parse(*args: str):
    return cli.build_parser().parse_args(list(args))


def settings(*args: str) -> dict:
    return cli.fasttext_settings(parse(*args))


# -- the flag table -------------------------------------------------------------------------------

def test_every_fasttext_flag_names_a_training_parameter():
    for flag, name in cli.FASTTEXT_FLAGS.items():
        assert name in params.BY_NAME or name in cli.SUBWORD_PARAMETERS, (flag, name)
    assert set(cli.FASTTEXT_DEFAULTS) - {"min_lr"} <= set(cli.FASTTEXT_FLAGS.values())
    assert all(n in params.BY_NAME or n in cli.SUBWORD_PARAMETERS for n in cli.FASTTEXT_DEFAULTS)


def test_defaults_are_the_fasttext_packages():
    fasttext = pytest.importorskip("fasttext")
    reference = fasttext.FastText.unsupervised_default  # the package's own table
    got = settings("skipgram", *BASIC)
    for flag, name in cli.FASTTEXT_FLAGS.items():
        if name != "workers":
            assert got[name] == reference[flag[1:]], flag
    assert reference["loss"] == "ns" and got["hs"] == 0 and got["sg"] == 1
    assert reference["model"] == "skipgram"
    # fastText's rate decays to 0; cw2v may default to its own thread count (every core).
    assert got["min_lr"] == 0.0 and got["workers"] is None


def test_each_flag_sets_its_parameter():
    values = {"-dim": "17", "-ws": "3", "-epoch": "2", "-neg": "7", "-thread": "3",
              "-lr": "0.1", "-t": "0.001", "-minCount": "2", "-minn": "2", "-maxn": "4",
              "-bucket": "1000"}
    assert set(values) == set(cli.FASTTEXT_FLAGS)
    got = settings("cbow", *BASIC, *[x for pair in values.items() for x in pair])
    for flag, text in values.items():
        expected = float(text) if "." in text else int(text)
        assert got[cli.FASTTEXT_FLAGS[flag]] == expected, flag
        assert type(got[cli.FASTTEXT_FLAGS[flag]]) is type(expected), flag
    assert got["sg"] == 0


def test_loss_hs_is_hierarchical_softmax_alone():
    got = settings("skipgram", *BASIC, "-loss", "hs", "-neg", "9")
    assert (got["hs"], got["n_neg"]) == (1, 0)  # fastText ignores -neg with -loss hs
    assert (settings("skipgram", *BASIC, "-loss", "ns")["hs"]) == 0


def test_input_and_output_are_kept_as_typed():
    args = parse("skipgram", "-input", "sub/data.txt", "-output", "sub/model", "-verbose", "0")
    assert (args.input, args.output, args.verbose) == ("sub/data.txt", "sub/model", 0)
    assert args.func is cli._cmd_fasttext


@pytest.mark.parametrize("argv, fragments", [
    (["skipgram", *BASIC, "-foo", "1"], ["unrecognized arguments: -foo"]),
    (["skipgram", *BASIC, "-dim", "x"], ["-dim", "invalid int value: 'x'"]),
    (["cbow", *BASIC, "-t", "often"], ["-t", "invalid float value"]),
    (["skipgram", *BASIC, "-loss", "softmax"], ["-loss", "invalid choice: 'softmax'"]),
    (["skipgram", *BASIC, "-verbose", "3"], ["-verbose", "invalid choice"]),
    (["skipgram", "-input", "data.txt"], ["required", "-output"]),
    (["cbow", *BASIC, "-wordNgrams", "2"], ["-wordNgrams", "not supported by cw2v cbow"]),
    (["skipgram", *BASIC, "-pretrainedVectors", "v.vec"], ["-pretrainedVectors"]),
    (["skipgram", *BASIC, "-dim"], ["-dim", "expected one argument"]),
])
def test_bad_flags_are_one_line_usage_errors(tmp_path, monkeypatch, capsys, argv, fragments):
    result = main_in(tmp_path, monkeypatch, capsys, *argv)
    assert result.returncode == cli.EXIT_USAGE
    assert_one_line_error(result, *fragments)
    assert list(tmp_path.iterdir()) == []


def test_parameter_messages_name_the_fasttext_flag():
    rules = cli._CLI_WORDS["skipgram"]
    assert cli._in_cli_words("workers must be an integer in [1, 1,024], got 0", rules) \
        == "-thread must be an integer in [1, 1,024], got 0"
    assert cli._in_cli_words("min_lr (0.0) must not exceed lr (-1.0)", rules) \
        == "min_lr (0.0) must not exceed -lr (-1.0)"
    assert cli._in_cli_words("d must be an integer in [1, 100,000], got 0", rules) \
        .startswith("-dim must")


def test_help_lists_the_fasttext_flags(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["cbow", "--help"]) == 0
    out = capsys.readouterr().out
    for flag in [*cli.FASTTEXT_FLAGS, "-input", "-output", "-loss", "-verbose"]:
        assert f"  {flag} " in out, flag
    assert "-wordNgrams" not in out
    assert cli.main(["--help"]) == 0
    assert "skipgram" in capsys.readouterr().out


class _StubFastText:
    """Stands in for cw2v.FastText: records how ``from_corpus`` was called."""

    calls: list = []
    training_stopped = None
    vocab = ["a", "b", "c"]
    vector_size = 100

    @classmethod
    def from_corpus(cls, corpus, **kwargs):
        cls.calls.append((corpus, kwargs))
        return cls()


def _stub_write(model, bin_path=None, vec_path=None):
    assert isinstance(model, _StubFastText)
    for path, kind in ((bin_path, "bin"), (vec_path, "vec")):
        if path is not None:
            with open(path, "w") as f:
                f.write(kind)


@pytest.fixture
def stub_model(monkeypatch):
    """cli's FastText and its fastText writer replaced by stubs (the command's own logic)."""
    _StubFastText.calls = []
    monkeypatch.setattr(cli, "FastText", _StubFastText)
    monkeypatch.setattr(cli, "_write_fasttext", _stub_write)
    return _StubFastText


def test_skipgram_trains_with_the_mapped_settings_and_writes_beside(tmp_path, monkeypatch,
                                                                   capsys, stub_model):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "data.txt").write_text("a b c\n")
    result = main_in(tmp_path, monkeypatch, capsys, "cbow", "-input", "sub/data.txt",
                     "-output", "sub/model", "-dim", "12", "-verbose", "0")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == [
        "data.txt", "model.bin", "model.vec"]
    assert (tmp_path / "sub" / "model.bin").read_text() == "bin"
    [(corpus, kwargs)] = stub_model.calls
    assert corpus == "sub/data.txt" and kwargs["progress"] is False
    assert kwargs["d"] == 12 and kwargs["sg"] == 0 and kwargs["lr"] == 0.05


def test_skipgram_checks_its_outputs_before_training(tmp_path, monkeypatch, capsys, stub_model):
    (tmp_path / "model.vec").write_text("a b c\n")  # the corpus is named like an output
    result = main_in(tmp_path, monkeypatch, capsys, "skipgram", "-input", "model.vec",
                     "-output", "model", "-verbose", "0")
    assert result.returncode == cli.EXIT_FAILURE
    assert_one_line_error(result, "model.vec")
    assert stub_model.calls == [] and (tmp_path / "model.vec").read_text() == "a b c\n"
    (tmp_path / "out.bin").mkdir()
    result = main_in(tmp_path, monkeypatch, capsys, "skipgram", "-input", "model.vec",
                     "-output", "out", "-verbose", "0")
    assert result.returncode == cli.EXIT_FAILURE
    assert_one_line_error(result, "out.bin", "directory")
    assert stub_model.calls == []


def test_train_subwords_passes_the_subword_options(tmp_path, monkeypatch, capsys, stub_model):
    (tmp_path / "c.txt").write_text("a b c\n")
    result = main_in(tmp_path, monkeypatch, capsys, "train", "c.txt", "-o", "m.bin", "-q",
                     "--subwords", "--format", "fasttext", "--min-n", "2", "--bucket", "100")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "m.bin").read_text() == "bin"
    [(corpus, kwargs)] = stub_model.calls
    assert (kwargs["min_n"], kwargs["max_n"], kwargs["bucket"]) == (2, 6, 100)
    assert kwargs["lr"] == params.default("lr") and "init_vectors" not in kwargs


# -- cw2v train --subwords ------------------------------------------------------------------------

def test_subword_options_parse_in_cw2v_style():
    args = parse("train", "c.txt", "-o", "m.bin", "--subwords", "--min-n", "2", "--max-n", "5",
                 "--bucket", "1000", "--format", "fasttext")
    assert (args.subwords, args.min_n, args.max_n, args.bucket, args.format) == (
        True, 2, 5, 1000, "fasttext")
    args = parse("train", "c.txt", "-o", "v.txt")
    assert not args.subwords and (args.min_n, args.max_n, args.bucket) == (3, 6, 2_000_000)


@pytest.mark.parametrize("extra, fragment", [
    (["--min-n", "2"], "--min-n applies with --subwords only"),
    (["--bucket", "10"], "--bucket applies with --subwords only"),
    (["--format", "fasttext"], "--format fasttext needs --subwords"),
])
def test_subword_options_need_subwords(tmp_path, monkeypatch, capsys, extra, fragment):
    (tmp_path / "c.txt").write_text("a b c\n")
    result = main_in(tmp_path, monkeypatch, capsys, "train", "c.txt", "-o", "out.txt", *extra)
    assert result.returncode == cli.EXIT_USAGE
    assert_one_line_error(result, fragment)
    assert not (tmp_path / "out.txt").exists()


def _corpus(path, lines: int = 300, seed: int = 0):
    rng = np.random.default_rng(seed)
    words = [f"w{i}x" for i in range(60)] + ["running", "runner", "walking", "walker"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(" ".join(rng.choice(words, 12)) for _ in range(lines)) + "\n",
                    encoding="utf-8")
    return path


TINY = ["-dim", "8", "-epoch", "1", "-minCount", "1", "-bucket", "2000", "-thread", "1",
        "-verbose", "0"]


def _read_vec(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    n, d = map(int, lines[0].split())
    rows = {p[0]: np.array(p[1:], dtype=np.float32) for p in (ln.split(" ") for ln in lines[1:])}
    assert len(rows) == n and all(len(v) == d for v in rows.values())
    return rows, d


@pytest.mark.parametrize("command", ["skipgram", "cbow"])
def test_writes_bin_and_vec_beside_from_another_cwd(tmp_path, command):
    _corpus(tmp_path / "sub" / "data.txt")
    result = run_cli(command, "-input", "sub/data.txt", "-output", "sub/model", *TINY,
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == [
        "data.txt", "model.bin", "model.vec"]
    rows, d = _read_vec(tmp_path / "sub" / "model.vec")
    assert d == 8 and "running" in rows
    fasttext = pytest.importorskip("fasttext")
    ft = fasttext.load_model(str(tmp_path / "sub" / "model.bin"))  # the real client reads it
    assert ft.get_dimension() == 8
    np.testing.assert_allclose(ft.get_word_vector("running"), rows["running"], atol=1e-4)


def test_loss_hs_and_a_bad_value_names_the_flag(tmp_path):
    _corpus(tmp_path / "data.txt")
    ok = run_cli("skipgram", "-input", "data.txt", "-output", "hs", "-loss", "hs", *TINY,
                 cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "hs.bin").exists() and (tmp_path / "hs.vec").exists()
    bad = run_cli("skipgram", "-input", "data.txt", "-output", "bad", *TINY, "-dim", "0",
                  cwd=tmp_path)
    assert bad.returncode == cli.EXIT_FAILURE
    assert_one_line_error(bad, "-dim")
    assert not (tmp_path / "bad.bin").exists()


def test_refuses_to_overwrite_the_corpus(tmp_path):
    _corpus(tmp_path / "model.vec")
    before = (tmp_path / "model.vec").read_bytes()
    result = run_cli("skipgram", "-input", "model.vec", "-output", "model", *TINY, cwd=tmp_path)
    assert result.returncode == cli.EXIT_FAILURE
    assert_one_line_error(result, "model.vec")
    assert (tmp_path / "model.vec").read_bytes() == before


def test_train_subwords_fasttext_format(tmp_path):
    _corpus(tmp_path / "sub" / "c.txt")
    result = run_cli("train", "sub/c.txt", "-o", "sub/m.bin", "--subwords", "--format",
                     "fasttext", "--min-n", "2", "--max-n", "4", "--bucket", "2000", "--d", "8",
                     "--epochs", "1", "--min-count", "1", "--workers", "1", "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "sub" / "m.bin").stat().st_size > 2000 * 8 * 4
    fasttext = pytest.importorskip("fasttext")
    ft = fasttext.load_model(str(tmp_path / "sub" / "m.bin"))
    assert (ft.f.getArgs().minn, ft.f.getArgs().maxn, ft.f.getArgs().bucket) == (2, 4, 2000)


def test_similar_and_analogy_read_a_fasttext_bin(tmp_path):
    """``cw2v similar`` and ``analogy`` (every command that reads vectors) take a fastText .bin,
    told by its magic number, as subword vectors: an unseen word gets neighbours, as in
    fastText's ``nn``."""
    from cw2v.subword_vectors import SubwordVectors
    _corpus(tmp_path / "sub" / "data.txt")
    trained = run_cli("skipgram", "-input", "sub/data.txt", "-output", "sub/model", *TINY,
                      cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    nn = run_cli("similar", "sub/model.bin", "runners", "-k", "3", cwd=tmp_path)
    assert nn.returncode == 0, nn.stderr
    lines = nn.stdout.splitlines()
    want = SubwordVectors.from_fasttext_bin(tmp_path / "sub" / "model.bin").most_similar(
        "runners", 3)
    assert lines[0] == "runners" and [ln.split()[0] for ln in lines[1:]] == [w for w, _ in want]
    analogy = run_cli("analogy", "sub/model.bin", "runner", "running", "walker", cwd=tmp_path)
    assert analogy.returncode == 0, analogy.stderr
    assert "runner : running :: walker : ?" in analogy.stdout


def test_a_matrix_that_does_not_fit_keeps_its_message():
    """A MemoryError that says which matrix and what to lower (``FastText``'s bucket matrix)
    reaches the one-line error whole; a bare one says "out of memory"."""
    told = MemoryError("the input matrix of 942 words + 1,000,000,000 buckets x 1000 floats "
                       "(3725.3 GiB) does not fit in memory: use a smaller bucket or d")
    assert cli._describe(told) == str(told)
    assert cli._describe(MemoryError()) == "out of memory"
