"""fastText's files both ways and vectors for any word, checked against the real clients: the
``fasttext`` package (fastText 0.9's C++ code) and gensim's ``load_facebook_model``."""
import io
import os
import random
import struct
import subprocess
import sys
import tempfile
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cw2v
from cw2v.fasttext_io import (FastTextFile, FastTextFormatError, read_fasttext_bin,
                              write_fasttext_bin, write_vec)
from cw2v.subword_vectors import SubwordVectors
from conftest import PACKAGE_PARENT

fasttext = pytest.importorskip("fasttext", reason="the fasttext package is not installed")

UNSEEN = ["unseenword", "ahblvne", "céblvnex", "zzq", "ylnobuah"]  # not in the corpus' vocabulary


def _corpus(path: Path) -> None:
    rng = random.Random(0)
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyzé") for _ in range(rng.randint(2, 9)))
             for _ in range(300)]
    path.write_text("".join(" ".join(rng.choice(words) for _ in range(12)) + "\n"
                            for _ in range(600)), encoding="utf-8")


def _train(corpus: Path, **kwargs):
    # fasttext-numpy2 raises "Encountered NaN" now and then on a tiny corpus, or leaves rows of
    # garbage (1e25...) in its input matrix: try again.
    for _ in range(10):
        try:
            model = fasttext.train_unsupervised(str(corpus), dim=16, epoch=1, minCount=1,
                                                bucket=20000, thread=1, verbose=0, **kwargs)
        except RuntimeError as exc:
            if "NaN" not in str(exc):
                raise
            continue
        if np.abs(model.get_input_matrix()).max() < 10:
            return model
    pytest.skip("the fasttext package kept training NaN or garbage")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """.bin files the fasttext package trained and saved: {(model, loss): path}."""
    folder = tmp_path_factory.mktemp("fasttext")
    corpus = folder / "corpus.txt"
    _corpus(corpus)
    files = {}
    for model in ("skipgram", "cbow"):
        for loss in ("ns", "hs"):
            path = folder / f"{model}-{loss}.bin"
            _train(corpus, model=model, loss=loss).save_model(str(path))
            files[model, loss] = path
    return files


def _check_vectors(wv: SubwordVectors, ref, words) -> None:
    for word in words:
        expected = ref.get_word_vector(word)
        assert np.any(expected != 0), word  # (rows no n-gram of the corpus reached stay zero)
        np.testing.assert_allclose(wv[word], expected, rtol=1e-5, atol=1e-7, err_msg=word)


@pytest.mark.parametrize("model,loss", [("skipgram", "ns"), ("skipgram", "hs"),
                                        ("cbow", "ns"), ("cbow", "hs")])
def test_reads_what_fasttext_trained(trained, model, loss):
    path = trained[model, loss]
    ref = fasttext.load_model(str(path))
    ft = read_fasttext_bin(path)
    args = ref.f.getArgs()
    assert ft.args["model"] == {"skipgram": "sg", "cbow": "cbow"}[model]
    assert ft.args["loss"] == loss == args.loss.name
    for key in ("dim", "ws", "epoch", "minCount", "neg", "bucket", "minn", "maxn", "t"):
        assert ft.args[key] == getattr(args, key), key
    words, counts = ref.get_words(include_freq=True)
    assert ft.words == list(words) and ft.counts.tolist() == counts.tolist()
    assert np.array_equal(ft.input_matrix, ref.get_input_matrix())
    assert np.array_equal(ft.output_matrix, ref.get_output_matrix())
    wv = SubwordVectors.from_fasttext_bin(path)
    expected = np.stack([ref.get_word_vector(w) for w in wv.vocab])
    np.testing.assert_allclose(wv.vectors, expected, rtol=1e-5, atol=1e-8)
    _check_vectors(wv, ref, UNSEEN)


def test_unseen_word_queries_match_fasttext(trained):
    path = trained["skipgram", "ns"]
    ref = fasttext.load_model(str(path))
    wv = SubwordVectors.from_fasttext_bin(path)
    assert "unseenword" in wv and "unseenword" not in wv.w2i
    got = wv.most_similar("unseenword", 5)
    expected = ref.get_nearest_neighbors("unseenword", 5)
    assert [w for w, _ in got] == [w for _, w in expected]
    np.testing.assert_allclose([s for _, s in got], [s for s, _ in expected], atol=1e-3)
    a, b = ref.get_word_vector("unseenword"), ref.get_word_vector(wv.vocab[5])
    cosine = float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))
    assert wv.similarity("unseenword", wv.vocab[5]) == pytest.approx(cosine, abs=1e-5)
    batch = wv.most_similar_batch(["unseenword", wv.vocab[5]], 5)
    assert batch == [got, wv.most_similar(wv.vocab[5], 5)]
    norm = wv.get_vector("zzq", norm=True)
    assert np.linalg.norm(norm) == pytest.approx(1.0, abs=1e-6)


def test_written_bin_is_fasttexts_own_bytes_and_loads_back(trained, tmp_path):
    path = trained["cbow", "hs"]
    out = tmp_path / "copy.bin"
    write_fasttext_bin(out, read_fasttext_bin(path))
    assert out.read_bytes() == path.read_bytes()
    ref = fasttext.load_model(str(out))
    wv = SubwordVectors.from_fasttext_bin(out)
    _check_vectors(wv, ref, ["ah", "ylnobu", *UNSEEN])
    gensim_fasttext = pytest.importorskip("gensim.models.fasttext")
    model = gensim_fasttext.load_facebook_model(str(out))
    for word in ["ah", "ylnobu", *UNSEEN]:
        np.testing.assert_allclose(model.wv[word], wv[word], rtol=1e-5, atol=1e-7, err_msg=word)


def _synthetic(words, bucket=500, dim=7, seed=1, **args) -> FastTextFile:
    rng = np.random.default_rng(seed)
    nwords = len(words)
    return FastTextFile(
        {"loss": "hs", "model": "cbow", "minn": 2, "maxn": 5, "ws": 3, "epoch": 2, "neg": 4,
         "minCount": 2, "t": 1e-3, "ntokens": 12345, **args},
        words, np.arange(nwords, 0, -1) * 10,
        rng.standard_normal((nwords + bucket, dim)).astype(np.float32),
        rng.standard_normal((nwords, dim)).astype(np.float32))


WORDS = ["</s>", "the", "naïve", "café", "日本語", "x", "ab", "rats"]


def test_synthetic_bin_loads_in_fasttext_and_gensim(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ft = _synthetic(WORDS)
    write_fasttext_bin("synthetic.bin", ft)  # relative, as users type it
    ref = fasttext.load_model("synthetic.bin")
    args = ref.f.getArgs()
    assert (args.dim, args.minn, args.maxn, args.bucket, args.loss.name, args.model.name,
            args.ws, args.t) == (7, 2, 5, 500, "hs", "cbow", 3, 1e-3)
    assert np.array_equal(ref.get_input_matrix(), ft.input_matrix)
    assert np.array_equal(ref.get_output_matrix(), ft.output_matrix)
    assert ref.get_words(include_freq=True)[0] == WORDS
    wv = SubwordVectors(ft.words, ft.input_matrix, 2, 5, 500)
    probes = WORDS + ["unseen", "naïveté", "日本", "q"]
    _check_vectors(wv, ref, probes)
    gensim_fasttext = pytest.importorskip("gensim.models.fasttext")
    model = gensim_fasttext.load_facebook_model("synthetic.bin")
    for word in probes[1:]:  # (gensim gives "</s>" n-grams too; fastText and cw2v do not)
        np.testing.assert_allclose(model.wv[word], wv[word], rtol=1e-5, atol=1e-6,
                                   err_msg=word)
    back = read_fasttext_bin("synthetic.bin")
    assert back.args == ft.args and back.words == WORDS
    assert np.array_equal(back.counts, ft.counts)


def test_invalid_utf8_words_round_trip(tmp_path):
    ft = _synthetic(["ok", b"caf\xe9".decode("utf-8", "surrogateescape")], bucket=50)
    write_fasttext_bin(tmp_path / "m.bin", ft)
    assert read_fasttext_bin(tmp_path / "m.bin").words == ft.words
    assert b"caf\xe9\0" in (tmp_path / "m.bin").read_bytes()  # the bytes as they were
    ref = fasttext.load_model(str(tmp_path / "m.bin"))
    assert len(ref.get_words(on_unicode_error="replace")) == 2
    assert np.array_equal(ref.get_input_matrix(), ft.input_matrix)
    wv = SubwordVectors.from_fasttext_bin(tmp_path / "m.bin")
    assert ft.words[1] in wv.w2i
    for raw in (b"caf\xe9", b"caf\xe9s", b"\xff\xfeok"):  # fastText takes the bytes as they are
        word = raw.decode("utf-8", "surrogateescape")
        np.testing.assert_allclose(wv[word], ref.get_word_vector(raw), rtol=1e-5, atol=1e-7)


def test_vec_reads_back(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ft = _synthetic(WORDS)
    wv = SubwordVectors(ft.words, ft.input_matrix, 2, 5, 500)
    write_vec("m.vec", wv.vocab, wv.vectors)
    back = cw2v.load_word2vec_format("m.vec")
    assert back.vocab == WORDS and np.array_equal(back.vectors, wv.vectors)


def test_mmap_round_trip(tmp_path):
    ft = _synthetic(WORDS)
    write_fasttext_bin(tmp_path / "m.bin", ft)
    mapped = read_fasttext_bin(tmp_path / "m.bin", mmap=True)
    assert isinstance(mapped.input_matrix, np.memmap) and not mapped.input_matrix.flags.writeable
    assert np.array_equal(mapped.input_matrix, ft.input_matrix)
    wv = SubwordVectors.from_fasttext_bin(tmp_path / "m.bin", mmap=True)
    assert isinstance(wv.input_matrix, np.memmap)
    plain = SubwordVectors.from_fasttext_bin(tmp_path / "m.bin")
    assert np.array_equal(wv.vectors, plain.vectors) and np.array_equal(wv["zork"], plain["zork"])
    wv.save(tmp_path / "m.cw2v")
    back = SubwordVectors.load(tmp_path / "m.cw2v", mmap=True)
    assert isinstance(back.input_matrix, np.memmap) and isinstance(back.vectors, np.memmap)
    assert back.vocab == WORDS and (back.min_n, back.max_n, back.bucket) == (2, 5, 500)
    assert np.array_equal(back.vectors, plain.vectors)
    assert np.array_equal(back["zork"], plain["zork"])
    cw2v.Vectors(["a"], np.ones((1, 2), np.float32)).save(tmp_path / "v.cw2v")
    with pytest.raises(ValueError, match="v.cw2v: not a cw2v subword vectors file"):
        SubwordVectors.load(tmp_path / "v.cw2v")
    with pytest.raises(ValueError, match="memory-mapped"):
        read_fasttext_bin(io.BytesIO((tmp_path / "m.bin").read_bytes()), mmap=True)
    stream = read_fasttext_bin(io.BytesIO((tmp_path / "m.bin").read_bytes()))
    assert np.array_equal(stream.input_matrix, ft.input_matrix)


def test_a_bin_is_told_by_its_magic_number_and_read_as_subword_vectors(tmp_path, monkeypatch):
    """cw2v.io.detect_format names a fastText .bin (its magic: FASTTEXT_MAGIC, little-endian);
    load_vectors (what the CLI's similar, analogy, evaluate read) gives its SubwordVectors,
    relative path and file object alike; the word2vec reader refuses it, naming the file."""
    from cw2v import io as cio
    from cw2v.fasttext_io import FASTTEXT_MAGIC
    from cw2v.model import load_vectors
    assert cio._FASTTEXT_SIGNATURE == struct.pack("<i", FASTTEXT_MAGIC)
    write_fasttext_bin(tmp_path / "m.bin", _synthetic(WORDS))
    monkeypatch.chdir(tmp_path)
    assert cio.detect_format("m.bin") == "fasttext"
    want = SubwordVectors.from_fasttext_bin("m.bin")
    with pytest.raises(ValueError, match="m.bin: a fastText model .* cw2v.model.load_vectors"):
        cio.read_vectors("m.bin")
    for got in (load_vectors("m.bin"), load_vectors(io.BytesIO(Path("m.bin").read_bytes()))):
        assert isinstance(got, SubwordVectors) and got.vocab == WORDS
        assert np.array_equal(got["zork"], want["zork"])
    (tmp_path / "short.bin").write_bytes(struct.pack("<i", FASTTEXT_MAGIC) + b"\x0c\0")
    with pytest.raises(FastTextFormatError, match="short.bin"):
        load_vectors("short.bin")


def test_word_without_ngrams_is_a_key_error(tmp_path):
    ft = _synthetic(WORDS, bucket=0, minn=0, maxn=0)  # fastText's "-minn 0 -maxn 0"
    write_fasttext_bin(tmp_path / "m.bin", ft)
    wv = SubwordVectors.from_fasttext_bin(tmp_path / "m.bin")
    _check_vectors(wv, fasttext.load_model(str(tmp_path / "m.bin")), WORDS)
    np.testing.assert_array_equal(wv["the"], ft.input_matrix[1])  # its own row alone
    assert "unseen" not in wv
    with pytest.raises(KeyError, match="'unseen'"):
        wv["unseen"]
    with pytest.raises(KeyError, match="'unseen'"):
        wv.most_similar("unseen")
    with pytest.raises(KeyError, match="'unseen'"):
        wv.similarity("the", "unseen")
    short = SubwordVectors(WORDS, _synthetic(WORDS).input_matrix, 6, 6, 500)
    with pytest.raises(KeyError, match="'zq'"):  # "<zq>" has no 6-character n-gram
        short["zq"]
    assert short["ab"].shape == (7,)  # a vocabulary word still has its own row


def _bytes_of() -> bytearray:
    """A small valid .bin's bytes (8 words, 20 buckets, dim 3)."""
    with tempfile.TemporaryDirectory() as folder:
        write_fasttext_bin(Path(folder) / "m.bin", _synthetic(WORDS, bucket=20, dim=3))
        return bytearray((Path(folder) / "m.bin").read_bytes())


_ARGS_AT = 8  # the args block follows the magic and the version
_DICT_AT = 8 + 56  # the dictionary's header follows the args


def _matrix_header_at(data: bytes) -> int:
    """Where the input matrix's (rows, cols) header is in a file of ``_bytes_of()``."""
    pos = _DICT_AT + 28
    for _ in WORDS:
        pos = data.index(b"\0", pos) + 10
    return pos + 1  # after the quantisation flag


def _corrupt():
    good = _bytes_of()
    m = _matrix_header_at(good)
    cases = {}
    for cut in (0, 3, 8, 40, _DICT_AT + 10, _DICT_AT + 40, m + 4, m + 40, len(good) - 1):
        cases[f"truncated at {cut}"] = (bytes(good[:cut]), "truncated|only")
    cases["bad magic"] = (b"\x01\x02\x03\x04" + bytes(good[4:]), "bad magic")
    cases["word2vec text"] = (b"3 2\na 1 2\nb 3 4\nc 5 6\n", "bad magic")
    cases["version 13"] = (bytes(good[:4]) + struct.pack("<i", 13) + bytes(good[8:]),
                           "version 13")
    lying = bytearray(good)
    struct.pack_into("<q", lying, m, 21)  # the input matrix says 21 rows, not 28
    cases["matrix rows lie"] = (bytes(lying), "28 x 3")
    lying = bytearray(good)
    struct.pack_into("<i", lying, _ARGS_AT, 4)  # dim 4: the matrices say 3
    cases["dim lies"] = (bytes(lying), "28 x 4")
    cases["trailing bytes"] = (bytes(good) + b"\0\0", "2 bytes after the output matrix")
    quant = bytearray(good)
    quant[m - 1] = 1
    cases["quantised"] = (bytes(quant), "quantised")
    sup = bytearray(good)
    struct.pack_into("<i", sup, _ARGS_AT + 7 * 4, 3)
    cases["supervised"] = (bytes(sup), "supervised")
    labels = bytearray(good)
    struct.pack_into("<iii", labels, _DICT_AT, len(WORDS), len(WORDS) - 1, 1)
    cases["labels"] = (bytes(labels), "supervised model \\(1 labels\\)")
    loss = bytearray(good)
    struct.pack_into("<i", loss, _ARGS_AT + 6 * 4, 9)
    cases["unknown loss"] = (bytes(loss), "corrupt args")
    return cases


CORRUPT = _corrupt()


@pytest.mark.parametrize("case", sorted(CORRUPT))
def test_corrupt_or_foreign_file_names_itself(tmp_path, monkeypatch, case):
    data, message = CORRUPT[case]
    monkeypatch.chdir(tmp_path)
    Path("bad.bin").write_bytes(data)
    with pytest.raises(FastTextFormatError, match=rf"^bad\.bin: .*({message})") as info:
        read_fasttext_bin("bad.bin")
    assert isinstance(info.value, ValueError) and info.value.path == "bad.bin"
    with pytest.raises(FastTextFormatError, match=rf"^bad\.bin: .*({message})"):
        read_fasttext_bin("bad.bin", mmap=True)


@pytest.mark.parametrize("where", ["dictionary", "matrix"])
def test_huge_header_refused_before_allocation(tmp_path, where):
    data = _bytes_of()
    if where == "dictionary":
        struct.pack_into("<ii", data, _DICT_AT, 2**31 - 1, 2**31 - 1)  # 2 billion words
    else:  # a bucket of 2 billion rows, and a matrix header that agrees with it
        m = _matrix_header_at(data)
        struct.pack_into("<i", data, _ARGS_AT + 8 * 4, 2**31 - 1 - len(WORDS))
        struct.pack_into("<q", data, m, 2**31 - 1)
    (tmp_path / "huge.bin").write_bytes(data)
    tracemalloc.start()
    try:
        with pytest.raises(FastTextFormatError, match="huge.bin: truncated"):
            read_fasttext_bin(tmp_path / "huge.bin")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


def test_write_refuses_what_fasttext_cannot_read(tmp_path):
    target = tmp_path / "m.bin"
    target.write_bytes(b"old")
    bad = [_synthetic(["a", "b\0c"]), _synthetic(WORDS, bucket=0, maxn=6)]
    for ft, message in zip(bad, ["0 byte", "bucket=0"]):
        with pytest.raises(ValueError, match=message):
            write_fasttext_bin(target, ft)
    with pytest.raises(ValueError, match="output_matrix"):
        FastTextFile({}, ["a"], [1], np.zeros((3, 2), np.float32), np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match="bucket"):
        FastTextFile({"bucket": 5}, ["a"], [1], np.zeros((3, 2), np.float32),
                     np.zeros((1, 2), np.float32))
    assert target.read_bytes() == b"old"  # refused before anything was written
    with pytest.raises(OSError):
        write_fasttext_bin(tmp_path, _synthetic(WORDS))  # a directory is never replaced


def _cli(*args, stdin=b"", cwd=None):
    env = dict(os.environ, PYTHONPATH=PACKAGE_PARENT)  # (the cw2v under test)
    return subprocess.run([sys.executable, "-m", "cw2v", *args], input=stdin, cwd=cwd,
                          capture_output=True, env=env)


def test_print_word_vectors_as_fasttext(trained, tmp_path):
    path = trained["skipgram", "ns"]
    (tmp_path / "model.bin").write_bytes(path.read_bytes())
    ref = fasttext.load_model(str(path))
    words = ["ah", "ylnobu", "unseenword", "é", "zzq"]
    run = _cli("print-word-vectors", "model.bin", stdin=" ".join(words[:2]).encode()
               + b"\n  " + "\t".join(words[2:]).encode() + b"\n", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.decode().splitlines()
    assert len(lines) == len(words)
    for word, line in zip(words, lines):
        assert line == word + " " + "".join("%.5g " % v for v in ref.get_word_vector(word))
    for args, message in [(("nope.bin",), "nope.bin: No such file"),
                          (("model.bin.txt",), "model.bin.txt: not a fastText model")]:
        (tmp_path / "model.bin.txt").write_text("3 2\n")
        run = _cli("print-word-vectors", *args, cwd=tmp_path)
        err = run.stderr.decode()
        assert run.returncode == 1 and err.count("\n") == 1 and message in err, err


@pytest.mark.parametrize("min_n,max_n,bucket", [(3, 6, 2_000_000), (1, 3, 1000), (2, 5, 7),
                                                (5, 5, 100), (3, 0, 100), (3, 6, 0)])
def test_vocabulary_rows_equal_subword_table(min_n, max_n, bucket):

    rng = random.Random(min_n * 31 + max_n)
    words = ["</s>", "", "a", "ab", "é", "日本語x", b"caf\xe9".decode("utf-8", "surrogateescape")]
    words += ["".join(rng.choice("abcdé日\u0080😀") for _ in range(rng.randint(1, 12)))
              for _ in range(400)]
    words = list(dict.fromkeys(words))
    _check_table_word_by_word(words, min_n, max_n, bucket)


def _check_table_word_by_word(words, min_n, max_n, bucket, block=None):
    """subword_table (NumPy, blocks of words) equals subword_rows word by word; with ``block``,
    blocks of that many words (the block edges' offsets and own rows)."""
    from cw2v import subwords
    if block is not None:
        import unittest.mock
        with unittest.mock.patch.object(subwords, "_TABLE_BLOCK", block):
            offsets, rows = subwords.subword_table(words, min_n, max_n, bucket)
    else:
        offsets, rows = subwords.subword_table(words, min_n, max_n, bucket)
    assert offsets.dtype == np.int64 and rows.dtype == np.int32
    assert offsets.shape == (len(words) + 1,) and offsets[0] == 0
    for i, word in enumerate(words):
        want = subwords.subword_rows(word, i, len(words), min_n, max_n, bucket)
        assert rows[offsets[i]:offsets[i + 1]].tolist() == want, word
    assert offsets[-1] == rows.size


def test_subword_table_in_blocks_equals_one_block():
    words = [f"w{i}é" for i in range(50)] + ["</s>", "x"]
    _check_table_word_by_word(words, 2, 4, 97, block=7)


def test_bucket_matrix_is_not_copied():
    ft = _synthetic(WORDS, bucket=50_000, dim=50)  # a 10 MB bucket matrix
    tracemalloc.start()
    try:
        wv = SubwordVectors(ft.words, ft.input_matrix, 2, 5, 50_000)
        wv["unseen"], wv.most_similar("unseen")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert wv.input_matrix is ft.input_matrix
    assert peak < ft.input_matrix.nbytes // 10


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=10), min_size=1, max_size=20, unique=True),
       st.integers(1, 4), st.integers(0, 7), st.integers(1, 60))
def test_vocabulary_rows_equal_subword_table_any_text(words, min_n, max_n, bucket):
    _check_table_word_by_word(words, min_n, max_n, bucket)


# -- cw2v.FastText and fastText's files ------------------------------------------------------------

@pytest.mark.parametrize("sg,hs", [(1, 0), (0, 1)])
def test_fasttext_and_gensim_read_what_cw2v_trained(tmp_path, monkeypatch, sg, hs):
    gensim_fasttext = pytest.importorskip("gensim.models.fasttext")
    _corpus(tmp_path / "corpus.txt")
    monkeypatch.chdir(tmp_path)
    model = cw2v.FastText.from_corpus("corpus.txt", min_count=1, d=12, epochs=1, bucket=3000,
                                      sg=sg, hs=hs, n_neg=0 if hs else 5, workers=1, seed=3)
    model.save_fasttext_bin("model.bin")
    model.save_fasttext_vec("model.vec")
    ref = fasttext.load_model("model.bin")
    assert ref.get_words() == model.vocab
    theirs = gensim_fasttext.load_facebook_model("model.bin").wv
    for word in model.vocab[:20] + UNSEEN:
        np.testing.assert_allclose(ref.get_word_vector(word), model.wv[word], rtol=1e-5,
                                   atol=1e-7, err_msg=word)
        np.testing.assert_allclose(theirs[word], model.wv[word], rtol=1e-5, atol=1e-6,
                                   err_msg=word)
    assert cw2v.load_word2vec_format("model.vec").vocab == model.vocab


@pytest.mark.parametrize("model_kind,loss", [("skipgram", "ns"), ("cbow", "hs")])
def test_a_bin_fasttext_trained_loads_as_a_model_and_trains_on(trained, tmp_path, model_kind,
                                                              loss):
    path = trained[model_kind, loss]
    ref = fasttext.load_model(str(path))
    model = cw2v.FastText.load_fasttext_bin(path)
    assert model.config["sg"] == (model_kind == "skipgram") and model.config["hs"] == (loss == "hs")
    _check_vectors(model.wv, ref, model.vocab[:10] + UNSEEN)
    before = model.input_matrix.copy()
    _corpus(tmp_path / "more.txt")
    model.train(str(tmp_path / "more.txt"), epochs=1)
    assert np.isfinite(model.input_matrix).all()
    assert not np.array_equal(before, model.input_matrix)
    model.save_fasttext_bin(tmp_path / "again.bin")
    again = fasttext.load_model(str(tmp_path / "again.bin"))
    np.testing.assert_allclose(again.get_word_vector(UNSEEN[0]), model.wv[UNSEEN[0]],
                               rtol=1e-5, atol=1e-7)


def test_a_foreign_file_is_not_a_model(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(b"not a fasttext file at all" * 4)
    with pytest.raises(FastTextFormatError, match="x.bin"):
        cw2v.FastText.load_fasttext_bin(path)
