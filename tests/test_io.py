"""cw2v.io: word2vec text/binary formats (round trips, gensim both ways, damaged files) and the
native model format (layout, versioning, mmap, atomic saves)."""
from __future__ import annotations

import gzip
import json
import os
import struct
import subprocess
import sys
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest

from cw2v import Vectors, Word2Vec
from cw2v import io as cio
from cw2v.io import (FORMAT_VERSION, MAGIC, Word2VecFormatError, load_arrays,
                     load_word2vec_format, save_arrays, save_word2vec_format)

WORDS = ["the", "of", "königsberg", "naïve", "日本", "a.b", "x"]


class CustomPath:
    """An os.PathLike that is neither str nor pathlib.Path."""

    def __init__(self, path):
        self._path = str(path)

    def __fspath__(self):
        return self._path


@pytest.fixture
def vecs() -> Vectors:
    rng = np.random.default_rng(7)
    m = rng.standard_normal((len(WORDS), 6)).astype(np.float32)
    # Awkward values: extremes, subnormal, signed zero, exact powers of two.
    m[0, :4] = [np.finfo(np.float32).max, np.finfo(np.float32).tiny, 1e-45, -0.0]
    m[1, :3] = [0.5, -1024.0, 3.4028e-38]
    return Vectors(WORDS, m)


def binary_file(words, matrix, sep: bytes = b"\n", lead: bytes = b"", header: bytes | None = None):
    """A binary word2vec file built by hand: ``lead`` before each word, ``sep`` after each vector."""
    n, d = matrix.shape
    out = [header if header is not None else f"{n} {d}\n".encode()]
    for w, row in zip(words, np.asarray(matrix, dtype="<f4")):
        out.append(lead + (w.encode() if isinstance(w, str) else w) + b" " + row.tobytes() + sep)
    return b"".join(out)


def assert_same(a: Vectors, b: Vectors):
    assert a.vocab == b.vocab
    assert a.vectors.dtype == np.float32 and b.vectors.dtype == np.float32
    # Bit-for-bit, including -0.0 and subnormals.
    assert np.array_equal(a.vectors.view(np.uint32), b.vectors.view(np.uint32))


# -- round trips ----------------------------------------------------------------------------------


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_round_trip_exact(tmp_path, vecs, binary):
    path = tmp_path / "v.w2v"
    save_word2vec_format(vecs, path, binary=binary)
    back = load_word2vec_format(path, binary=binary)
    assert isinstance(back, Vectors)
    assert_same(vecs, back)


def test_text_layout(tmp_path):
    v = Vectors(["a", "bb"], np.array([[1.0, -0.5], [0.1, 2.0]], dtype=np.float32))
    save_word2vec_format(v, tmp_path / "t.txt")
    lines = (tmp_path / "t.txt").read_bytes().split(b"\n")
    assert lines[0] == b"2 2"
    assert lines[1] == b"a 1 -0.5"
    assert lines[2].split()[0] == b"bb" and float(lines[2].split()[1]) == np.float32(0.1)
    assert lines[3] == b""  # ends with a newline


def test_binary_layout(tmp_path):
    m = np.array([[1.0, -2.0], [0.25, 8.0]], dtype=np.float32)
    save_word2vec_format(Vectors(["a", "é"], m), tmp_path / "b.bin", binary=True)
    assert (tmp_path / "b.bin").read_bytes() == (
        b"2 2\n" + b"a " + struct.pack("<2f", 1.0, -2.0) + b"\n"
        + "é ".encode() + struct.pack("<2f", 0.25, 8.0) + b"\n")


def test_saves_a_model(tmp_path):
    model = Word2Vec(["x", "y", "z"], d=4, seed=3)
    save_word2vec_format(model, tmp_path / "m.bin", binary=True)
    back = load_word2vec_format(tmp_path / "m.bin", binary=True)
    assert back.vocab == model.vocab and np.array_equal(back.vectors, model.W_in)


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz"])
def test_compressed(tmp_path, vecs, binary, suffix):
    path = tmp_path / f"v{suffix}"
    save_word2vec_format(vecs, path, binary=binary)
    assert path.read_bytes()[:2] != b"7 "  # really compressed
    assert_same(vecs, load_word2vec_format(path, binary=binary))


def test_limit(tmp_path, vecs):
    for binary in (False, True):
        save_word2vec_format(vecs, tmp_path / "v", binary=binary)
        back = load_word2vec_format(tmp_path / "v", binary=binary, limit=3)
        assert back.vocab == WORDS[:3]
        assert np.array_equal(back.vectors, vecs.vectors[:3])
    with pytest.raises(ValueError, match="limit"):
        load_word2vec_format(tmp_path / "v", limit=0)


def test_limit_ignores_damage_after_it(tmp_path, vecs):
    data = binary_file(WORDS, vecs.vectors)
    (tmp_path / "v.bin").write_bytes(data[:-10])  # last record truncated
    assert len(load_word2vec_format(tmp_path / "v.bin", binary=True, limit=5)) == 5
    with pytest.raises(Word2VecFormatError):
        load_word2vec_format(tmp_path / "v.bin", binary=True)


def test_words_that_cannot_be_stored(tmp_path):
    for bad in ["two words", "tab\there", "new\nline", ""]:
        v = Vectors(["ok", bad], np.zeros((2, 2), dtype=np.float32))
        for binary in (False, True):
            with pytest.raises(ValueError, match="whitespace"):
                save_word2vec_format(v, tmp_path / "v", binary=binary)
    assert not (tmp_path / "v").exists()


# -- gensim interoperability ----------------------------------------------------------------------


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_gensim_reads_ours(tmp_path, vecs, binary):
    gensim_kv = pytest.importorskip("gensim.models.keyedvectors")
    path = tmp_path / "ours.w2v"
    save_word2vec_format(vecs, path, binary=binary)
    kv = gensim_kv.KeyedVectors.load_word2vec_format(str(path), binary=binary)
    assert kv.index_to_key == vecs.vocab
    assert np.array_equal(kv.vectors.view(np.uint32), vecs.vectors.view(np.uint32))


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_we_read_gensims(tmp_path, vecs, binary):
    gensim_kv = pytest.importorskip("gensim.models.keyedvectors")
    kv = gensim_kv.KeyedVectors(vecs.vector_size)
    kv.add_vectors(vecs.vocab, vecs.vectors)
    path = tmp_path / "theirs.w2v"
    kv.save_word2vec_format(str(path), binary=binary)
    assert_same(vecs, load_word2vec_format(path, binary=binary))


def test_gensim_reads_our_gzip(tmp_path, vecs):
    gensim_kv = pytest.importorskip("gensim.models.keyedvectors")
    save_word2vec_format(vecs, tmp_path / "v.bin.gz", binary=True)
    kv = gensim_kv.KeyedVectors.load_word2vec_format(str(tmp_path / "v.bin.gz"), binary=True)
    assert np.array_equal(kv.vectors, vecs.vectors)


def test_gensim_trained_vectors_both_ways(tmp_path):
    gensim_w2v = pytest.importorskip("gensim.models.word2vec")
    sentences = [["alpha", "beta", "gamma", "delta"] * 5, ["beta", "delta", "epsilon"] * 4] * 10
    model = gensim_w2v.Word2Vec(sentences, vector_size=12, min_count=1, workers=1, seed=1,
                                epochs=2)
    for binary in (False, True):
        model.wv.save_word2vec_format(str(tmp_path / "g"), binary=binary)
        ours = load_word2vec_format(tmp_path / "g", binary=binary)
        assert ours.vocab == model.wv.index_to_key
        assert np.array_equal(ours.vectors, model.wv.vectors)
        assert ours.most_similar("beta", 2) == [
            (w, round(s, 3)) for w, s in model.wv.most_similar("beta", topn=2)]


# -- variants other writers produce ---------------------------------------------------------------


@pytest.mark.parametrize("sep", [b"", b"\n", b"\r\n"], ids=["none", "lf", "crlf"])
@pytest.mark.parametrize("lead", [b"", b"\n", b"\r\n\n"], ids=["no-lead", "lead-lf", "lead-mixed"])
def test_binary_newline_variants(tmp_path, vecs, sep, lead):
    (tmp_path / "v.bin").write_bytes(binary_file(WORDS, vecs.vectors, sep=sep, lead=lead))
    assert_same(vecs, load_word2vec_format(tmp_path / "v.bin", binary=True))


def test_binary_vectors_holding_space_and_newline_bytes(tmp_path):
    # 0x20 (space) and 0x0a (newline) bytes inside the floats must not confuse the reader.
    tricky = np.frombuffer(bytes([0x20, 0x0A, 0x20, 0x0A] * 2 + [0x0A, 0x20, 0x0A, 0x20] * 2),
                           dtype="<f4").reshape(2, 2)
    (tmp_path / "v.bin").write_bytes(binary_file(["a", "b"], tricky, sep=b""))
    back = load_word2vec_format(tmp_path / "v.bin", binary=True)
    assert back.vocab == ["a", "b"]
    assert np.array_equal(back.vectors.view(np.uint32), tricky.view(np.uint32))


def test_text_variants(tmp_path):
    # CRLF, the trailing space word2vec.c writes, tabs, blank lines, other float spellings.
    content = b"3 2\r\nx 1.0 2 \r\n\r\ny\t-1e-3  .5\r\nz +3 -0\n\n"
    (tmp_path / "t.txt").write_bytes(content)
    back = load_word2vec_format(tmp_path / "t.txt")
    assert back.vocab == ["x", "y", "z"]
    assert back.vectors.tolist() == [[1.0, 2.0], [np.float32(-1e-3), 0.5], [3.0, 0.0]]


def test_duplicate_words_keep_first(tmp_path):
    m = np.arange(6, dtype=np.float32).reshape(3, 2)
    (tmp_path / "d.bin").write_bytes(binary_file(["a", "b", "a"], m))
    back = load_word2vec_format(tmp_path / "d.bin", binary=True)
    assert back.vocab == ["a", "b"] and back.vectors.tolist() == [[0, 1], [2, 3]]


# -- damaged files --------------------------------------------------------------------------------


def error_of(path, **kwargs) -> Word2VecFormatError:
    with pytest.raises(Word2VecFormatError) as info:
        load_word2vec_format(path, **kwargs)
    err = info.value
    assert isinstance(err, ValueError)
    assert str(path) in str(err)
    return err


def test_missing_file(tmp_path):
    for binary in (False, True):
        with pytest.raises(FileNotFoundError):
            load_word2vec_format(tmp_path / "nope.bin", binary=binary)


@pytest.mark.parametrize("header", [b"", b"\n", b"hello world\n", b"3\n", b"3 2 1\n", b"0 5\n",
                                    b"4 -1\n", b"the 0.1 0.2\n"])
@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_bad_header(tmp_path, header, binary):
    (tmp_path / "h").write_bytes(header + b"a 1 2\n")
    err = error_of(tmp_path / "h", binary=binary)
    assert err.line == 1 and "line 1" in str(err)


def test_binary_truncated_names_record(tmp_path, vecs):
    data = binary_file(WORDS, vecs.vectors)
    for cut, record in [(len(data) - 3, 7), (len(data) - 26, 7), (len(data) - 30, 6), (40, 2)]:
        (tmp_path / "t.bin").write_bytes(data[:cut])
        err = error_of(tmp_path / "t.bin", binary=True)
        assert err.record == record and f"record {record}" in str(err)


@pytest.mark.parametrize("sep", [b"", b"\n"])
def test_binary_header_says_fewer_or_more(tmp_path, vecs, sep):
    m = vecs.vectors
    (tmp_path / "more.bin").write_bytes(binary_file(WORDS, m, sep=sep, header=b"9 6\n"))
    err = error_of(tmp_path / "more.bin", binary=True)
    assert err.record == 8 and "header says 9" in str(err)
    (tmp_path / "fewer.bin").write_bytes(binary_file(WORDS, m, sep=sep, header=b"5 6\n"))
    err = error_of(tmp_path / "fewer.bin", binary=True)
    assert err.record == 6 and "disagrees" in str(err)


@pytest.mark.parametrize("dim", [3, 5, 7, 12])
def test_binary_wrong_dimension(tmp_path, vecs, dim):
    (tmp_path / "d.bin").write_bytes(
        binary_file(WORDS, vecs.vectors, header=f"{len(WORDS)} {dim}\n".encode()))
    err = error_of(tmp_path / "d.bin", binary=True, unicode_errors="replace")
    assert err.record is not None


def test_text_fewer_more_and_wrong_dimension(tmp_path):
    (tmp_path / "f.txt").write_bytes(b"3 2\na 1 2\nb 3 4\n")
    err = error_of(tmp_path / "f.txt")
    assert err.line == 4 and "header says 3" in str(err)
    (tmp_path / "m.txt").write_bytes(b"1 2\na 1 2\nb 3 4\n")
    err = error_of(tmp_path / "m.txt")
    assert err.line == 3 and "more vectors" in str(err)
    (tmp_path / "d.txt").write_bytes(b"2 2\na 1 2\nb 3 4 5\n")
    err = error_of(tmp_path / "d.txt")
    assert err.line == 3 and "2 values" in str(err)
    (tmp_path / "s.txt").write_bytes(b"2 3\na 1 2 3\nb 3 4\n")
    assert error_of(tmp_path / "s.txt").line == 3


def test_text_line_of_the_wrong_length_says_what_it_counted(tmp_path):
    # Before: "expected a word and 17 values (header), got 17 fields" -- the same number twice.
    (tmp_path / "v.txt").write_bytes(b"1 17\nw " + b"0.5 " * 16 + b"\n")
    err = error_of(tmp_path / "v.txt")
    assert err.line == 2
    assert "expected a word and 17 values (the header's vector size), 18 fields in all; " \
           "this line has 17 fields" in str(err)


def test_absurd_header_is_an_error_not_an_allocation(tmp_path):
    (tmp_path / "h.txt").write_bytes(b"999999999999 300\na " + b"1 " * 300 + b"\n")
    assert "header says 999999999999" in str(error_of(tmp_path / "h.txt"))
    (tmp_path / "h.bin").write_bytes(binary_file(["a"], np.ones((1, 300)),
                                                 header=b"999999999999 300\n"))
    assert error_of(tmp_path / "h.bin", binary=True).record == 2


def test_text_corrupt_number_names_line(tmp_path):
    lines = [b"20000 2"] + [b"w%d 1 2" % i for i in range(20000)]
    lines[15001] = b"w15000 1 2.0.3"
    (tmp_path / "c.txt").write_bytes(b"\n".join(lines) + b"\n")
    err = error_of(tmp_path / "c.txt")
    assert err.line == 15002 and "2.0.3" in str(err)


def test_text_truncated_mid_line(tmp_path, vecs):
    save_word2vec_format(vecs, tmp_path / "v.txt")
    data = (tmp_path / "v.txt").read_bytes()
    (tmp_path / "v.txt").write_bytes(data[:-20])
    err = error_of(tmp_path / "v.txt")
    assert err.line == len(WORDS) + 1


# -- encodings ------------------------------------------------------------------------------------


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_unicode_errors(tmp_path, binary):
    # word2vec.c cuts words at a byte limit, which can split a UTF-8 character.
    words = [b"ok", "na\u00efve".encode()[:3], b"\xffbad"]
    m = np.arange(6, dtype=np.float32).reshape(3, 2)
    if binary:
        (tmp_path / "u").write_bytes(binary_file(words, m))
    else:
        (tmp_path / "u").write_bytes(b"3 2\n" + b"".join(
            w + b" %d %d\n" % tuple(r) for w, r in zip(words, m.astype(int))))
    err = error_of(tmp_path / "u", binary=binary)
    assert (err.record if binary else err.line) == (2 if binary else 3)
    assert "unicode_errors" in str(err)
    assert load_word2vec_format(tmp_path / "u", binary=binary,
                                unicode_errors="ignore").vocab == ["ok", "na", "bad"]
    replaced = load_word2vec_format(tmp_path / "u", binary=binary, unicode_errors="replace")
    assert replaced.vocab == [w.decode("utf-8", "replace") for w in words]
    assert replaced.vocab == ["ok", "na\ufffd", "\ufffdbad"]
    assert load_word2vec_format(tmp_path / "u", binary=binary,
                                encoding="latin-1").vocab == [w.decode("latin-1") for w in words]


def test_ignore_can_make_duplicates(tmp_path):
    m = np.arange(4, dtype=np.float32).reshape(2, 2)
    (tmp_path / "u.bin").write_bytes(binary_file([b"ab", b"ab\xe2\x82"], m))
    back = load_word2vec_format(tmp_path / "u.bin", binary=True, unicode_errors="ignore")
    assert back.vocab == ["ab"] and back.vectors.tolist() == [[0.0, 1.0]]


# -- atomic saves and paths -----------------------------------------------------------------------


def test_failed_save_leaves_old_file(tmp_path, monkeypatch, vecs):
    target = tmp_path / "v.txt"
    save_word2vec_format(vecs, target)
    before = target.read_bytes()
    # A word that fails to encode half-way through the write (after earlier chunks are written).
    monkeypatch.setattr(cio, "_TEXT_CHUNK_LINES", 2)
    bad = Vectors(["a", "b", "c", "d", "e\ud800", "f"], np.ones((6, 3), dtype=np.float32))
    for binary in (False, True):
        with pytest.raises(UnicodeEncodeError):
            save_word2vec_format(bad, target, binary=binary)
        assert target.read_bytes() == before
        assert os.listdir(tmp_path) == ["v.txt"]  # no temporary file left behind


@pytest.mark.parametrize("fails", ["fsync", "replace"])
def test_crash_before_rename_leaves_old_file(tmp_path, monkeypatch, vecs, fails):
    target = tmp_path / "v.bin"
    save_word2vec_format(vecs, target, binary=True)
    save_arrays(tmp_path / "m.cw2v", {"a": 1}, {"x": np.arange(3)})
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def crash(*args, **kwargs):
        raise OSError("disk on fire")

    monkeypatch.setattr(cio.os, fails, crash)
    with pytest.raises(OSError, match="disk on fire"):
        save_word2vec_format(Vectors(["z"], np.zeros((1, 6))), target, binary=True)
    with pytest.raises(OSError, match="disk on fire"):
        save_arrays(tmp_path / "m.cw2v", {"a": 2}, {"x": np.arange(5)})
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    assert_same(vecs, load_word2vec_format(target, binary=True))


def test_save_keeps_permissions(tmp_path, vecs):
    target = tmp_path / "v.txt"
    save_word2vec_format(vecs, target)
    os.chmod(target, 0o640)
    save_word2vec_format(vecs, target)
    assert target.stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize("kind", [str, Path, CustomPath], ids=["str", "Path", "PathLike"])
def test_path_types(tmp_path, vecs, kind):
    for binary in (False, True):
        p = kind(tmp_path / f"v{binary}")
        save_word2vec_format(vecs, p, binary=binary)
        assert_same(vecs, load_word2vec_format(p, binary=binary))
    p = kind(tmp_path / "m.cw2v")
    save_arrays(p, {"k": "v"}, {"a": np.arange(4)})
    assert load_arrays(p)[0] == {"k": "v"}
    model = Word2Vec(["a", "b"], d=3, seed=1)
    model.save(p)
    assert Word2Vec.load(p, mmap=True).vocab == ["a", "b"]


def test_path_type_error(vecs):
    with pytest.raises(TypeError, match="PathLike"):
        save_word2vec_format(vecs, 42)


# -- native format --------------------------------------------------------------------------------


ARRAYS = {
    "W": np.arange(12, dtype=np.float32).reshape(3, 4) / 7,
    "ids": np.array([5, -1, 2**40], dtype=np.int64),
    "mask": np.array([True, False, True]),
    "u8": np.arange(5, dtype=np.uint8),
    "big_endian": np.arange(4, dtype=">f8"),
    "empty": np.zeros((0, 3), dtype=np.float32),
    "scalar": np.array(2.5),
    "z": np.array([1 + 2j], dtype=np.complex64),
}
META = {"vocab": ["a", "b", "c"], "lr": 0.025, "nested": {"x": [1, None, True]},
        "loss": [1.0, float("nan")], "seed": 2**64 - 1}


def test_arrays_round_trip(tmp_path):
    save_arrays(tmp_path / "m", META, ARRAYS)
    meta, arrays = load_arrays(tmp_path / "m")
    assert meta["vocab"] == META["vocab"] and meta["nested"] == META["nested"]
    assert np.isnan(meta["loss"][1]) and meta["seed"] == 2**64 - 1
    assert list(arrays) == list(ARRAYS)
    for name, arr in ARRAYS.items():
        assert arrays[name].shape == arr.shape and arrays[name].dtype == arr.dtype.newbyteorder("=")
        assert np.array_equal(arrays[name], arr)
        assert arrays[name].flags.writeable


def test_documented_layout(tmp_path):
    """Read the file with nothing but the module docstring's description."""
    save_arrays(tmp_path / "m", META, ARRAYS)
    data = (tmp_path / "m").read_bytes()
    magic, version, header_len = struct.unpack_from("<4sIQ", data)
    assert magic == b"CW2V" == MAGIC and version == 1 == FORMAT_VERSION
    header = json.loads(data[16:16 + header_len])
    assert header["format"] == "cw2v-model" and header["version"] == 1
    assert header["meta"]["vocab"] == META["vocab"]
    for name, entry in header["arrays"].items():
        assert entry["offset"] % 64 == 0 and entry["offset"] >= 16 + header_len
        raw = data[entry["offset"]:entry["offset"] + entry["nbytes"]]
        assert entry["dtype"][0] in "<|"  # little-endian (or single byte)
        assert zlib.crc32(raw) == entry["crc32"]
        arr = np.frombuffer(raw, dtype=entry["dtype"]).reshape(entry["shape"])
        assert np.array_equal(arr, ARRAYS[name])


@pytest.mark.parametrize("mode", [True, "r", "c"])
def test_mmap(tmp_path, mode):
    save_arrays(tmp_path / "m", META, ARRAYS)
    _, arrays = load_arrays(tmp_path / "m", mmap=mode)
    assert isinstance(arrays["W"], np.memmap)
    assert np.array_equal(arrays["W"], ARRAYS["W"])
    assert np.array_equal(arrays["big_endian"], ARRAYS["big_endian"])
    assert arrays["W"].flags.writeable == (mode == "c")
    if mode == "c":
        arrays["W"][0, 0] = 99.0
        del arrays
        assert load_arrays(tmp_path / "m")[1]["W"][0, 0] == 0.0  # the file is untouched


def test_bad_magic_and_version(tmp_path):
    save_arrays(tmp_path / "m", META, ARRAYS)
    data = bytearray((tmp_path / "m").read_bytes())
    (tmp_path / "magic").write_bytes(b"PK\x03\x04" + data[4:])
    with pytest.raises(ValueError, match="not a cw2v model file") as info:
        load_arrays(tmp_path / "magic")
    assert str(tmp_path / "magic") in str(info.value)
    struct.pack_into("<I", data, 4, 2)
    (tmp_path / "v2").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="version 2 is not supported") as info:
        load_arrays(tmp_path / "v2")
    assert str(tmp_path / "v2") in str(info.value)
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(ValueError, match="not a cw2v model file"):
        Word2Vec.load(tmp_path / "empty")


def test_truncated_and_corrupt(tmp_path):
    save_arrays(tmp_path / "m", META, ARRAYS)
    data = (tmp_path / "m").read_bytes()
    for cut in (10, 40, len(data) - 1):
        (tmp_path / "t").write_bytes(data[:cut])
        for mode in (False, True):
            with pytest.raises(ValueError, match="truncated|corrupt") as info:
                load_arrays(tmp_path / "t", mmap=mode)
            assert str(tmp_path / "t") in str(info.value)
    flipped = bytearray(data)
    flipped[-1] ^= 0xFF  # last byte of the last array
    (tmp_path / "c").write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match="CRC") as info:
        load_arrays(tmp_path / "c")
    assert str(tmp_path / "c") in str(info.value)
    header_flip = bytearray(data)
    header_flip[20] = 0xFF
    (tmp_path / "h").write_bytes(bytes(header_flip))
    with pytest.raises(ValueError, match="corrupt cw2v model header"):
        load_arrays(tmp_path / "h")


def with_header(data: bytes, edit) -> bytes:
    """A native file whose JSON header went through ``edit`` (arrays left where they were)."""
    (length,) = struct.unpack_from("<Q", data, 8)
    header = json.loads(data[16:16 + length])
    edit(header)
    blob = json.dumps(header).encode()
    out = data[:8] + struct.pack("<Q", len(blob)) + blob
    return out + data[len(out):]


@pytest.mark.parametrize("edit", [
    lambda h: h["arrays"]["W"].update(offset=-64),  # before: OSError from seek (EINVAL)
    lambda h: h["arrays"]["W"].update(shape=[2**32, 2**32], dtype="|u1", nbytes=0),  # overflow
    lambda h: h["arrays"]["W"].update(shape=["3", 4]),  # before: accepted as 3
    lambda h: h["arrays"]["W"].update(shape=[3.7, 4]),  # before: accepted as 3
    lambda h: h["arrays"]["W"].update(dtype="(2,)<f4", shape=[3, 2], nbytes=48),
    lambda h: h["arrays"]["W"].update(dtype=None),  # before: float64
])
@pytest.mark.parametrize("mode", [False, True])
def test_corrupt_directory_entries(tmp_path, edit, mode):
    save_arrays(tmp_path / "m", META, {"W": ARRAYS["W"]})
    (tmp_path / "bad").write_bytes(with_header((tmp_path / "m").read_bytes(), edit))
    with pytest.raises(ValueError, match="corrupt directory entry for array 'W'") as info:
        load_arrays(tmp_path / "bad", mmap=mode)
    assert str(tmp_path / "bad") in str(info.value)


def test_header_nested_too_deep_is_corrupt_not_a_recursion_error(tmp_path):
    blob = b"[" * 100_000 + b"]" * 100_000
    (tmp_path / "deep").write_bytes(struct.pack("<4sIQ", MAGIC, 1, len(blob)) + blob)
    with pytest.raises(ValueError, match="corrupt cw2v model header"):
        load_arrays(tmp_path / "deep")


def test_rejects_what_it_cannot_store(tmp_path):
    with pytest.raises(TypeError, match="dtype"):
        save_arrays(tmp_path / "m", {}, {"o": np.array([object()])})
    with pytest.raises(TypeError, match="dtype"):
        save_arrays(tmp_path / "m", {}, {"s": np.array(["text"])})
    with pytest.raises(ValueError, match="JSON"):
        save_arrays(tmp_path / "m", {"f": {1, 2}}, {})
    with pytest.raises(TypeError):
        save_arrays(tmp_path / "m", {}, {"v": Vectors(["a"], np.zeros((1, 2)))})
    assert not (tmp_path / "m").exists()


# -- models (Word2Vec._export_state / _import_state) ----------------------------------------------


def trained_model() -> Word2Vec:
    model = Word2Vec(["the", "cat", "sat", "on", "mat"], d=8, n_neg=2, seed=11)
    model.set_freq({"the": 50, "cat": 5, "sat": 4, "on": 20, "mat": 3})
    rng = np.random.default_rng(0)
    model.train_pairs(rng.integers(0, 5, 200), rng.integers(0, 5, 200))
    return model


def test_model_round_trip_resumes_identically(tmp_path):
    model = trained_model()
    model.save(tmp_path / "m.cw2v")
    back = Word2Vec.load(tmp_path / "m.cw2v")
    assert isinstance(back, Word2Vec)
    assert back.vocab == model.vocab and back.lr == model.lr and back.n_neg == model.n_neg
    for name in ("W_in", "W_out"):
        assert np.array_equal(getattr(back, name), getattr(model, name))
    assert np.allclose(back.freq, model.freq)
    assert back.most_similar("cat", 2) == model.most_similar("cat", 2)
    # Same state, same generator: further training (with drawn negatives) stays identical.
    centers, contexts = np.array([0, 1, 2, 3]), np.array([1, 2, 3, 4])
    assert back.train_pairs(centers, contexts) == model.train_pairs(centers, contexts)
    assert np.array_equal(back.W_in, model.W_in) and np.array_equal(back.W_out, model.W_out)
    header = json.loads((tmp_path / "m.cw2v").read_bytes()[16:16 + struct.unpack_from(
        "<Q", (tmp_path / "m.cw2v").read_bytes(), 8)[0]])
    assert header["class"] == "cw2v.model.Word2Vec"


def test_model_mmap(tmp_path):
    model = trained_model()
    model.save(tmp_path / "m.cw2v")
    back = Word2Vec.load(tmp_path / "m.cw2v", mmap=True)
    assert isinstance(back.W_in, np.memmap) and not back.W_in.flags.writeable
    assert np.array_equal(back.W_in, model.W_in)
    assert back.similarity("cat", "mat") == pytest.approx(model.similarity("cat", "mat"))
    with pytest.raises(TypeError, match="writeable"):
        back.train_pair(0, 1)
    cow = Word2Vec.load(tmp_path / "m.cw2v", mmap="c")
    cow.train_pair(0, 1)
    assert np.array_equal(Word2Vec.load(tmp_path / "m.cw2v").W_in, model.W_in)


def test_load_model_names_file_on_bad_version(tmp_path):
    trained_model().save(tmp_path / "m.cw2v")
    data = bytearray((tmp_path / "m.cw2v").read_bytes())
    struct.pack_into("<I", data, 4, 99)
    (tmp_path / "m.cw2v").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="version 99") as info:
        Word2Vec.load(tmp_path / "m.cw2v")
    assert "m.cw2v" in str(info.value)


def edited_model(tmp_path, edit) -> Path:
    """A saved model whose (metadata, arrays) went through ``edit`` and were saved again."""
    trained_model().save(tmp_path / "good.cw2v")
    meta, arrays = load_arrays(tmp_path / "good.cw2v")
    edit(meta, arrays)
    path = tmp_path / "edited.cw2v"
    save_arrays(path, meta, arrays)
    return path


@pytest.mark.parametrize("edit, fragment", [
    (lambda m, a: m.pop("vocab"), "the metadata has no 'vocab'"),
    (lambda m, a: m.pop("n_neg"), "the metadata has no 'n_neg'"),
    (lambda m, a: a.pop("counts"), "there is no array 'counts'"),
    (lambda m, a: a.pop("W_out"), "there is no array 'W_out'"),
    (lambda m, a: m.update(config=[["epochs", 5]]), "'config' is not a JSON object"),
    (lambda m, a: m.update(config="epochs=5"), "'config' is not a JSON object"),
    (lambda m, a: m.update(loss_history={"a": 1}), "'loss_history' is not a JSON array"),
    (lambda m, a: m.update(loss_history=["x"]), "'loss_history' holds"),
    (lambda m, a: m.update(rng_state="12"), "'rng_state' must be an integer"),
    (lambda m, a: m.update(rng_state=-1), "'rng_state' must be an integer"),
    (lambda m, a: m.update(rng_state=2**64), "'rng_state' must be an integer"),
    (lambda m, a: m.update(rng_state=1.5), "'rng_state' must be an integer"),
    (lambda m, a: m["vocab"].__setitem__(2, 7), "'vocab' holds 7 (int)"),
    (lambda m, a: m["vocab"].__setitem__(2, None), "'vocab' holds None"),
    (lambda m, a: m["vocab"].__setitem__(2, "the"), "duplicate"),
    (lambda m, a: m.update(vocab="the cat"), "'vocab' is not a non-empty list"),
    (lambda m, a: m.update(vocab=[]), "'vocab' is not a non-empty list"),
    (lambda m, a: m.update(lr="fast"), "lr must be"),
    (lambda m, a: a.update(counts=a["counts"][:3]), "'counts' has shape (3,)"),
    (lambda m, a: a.update(counts=-a["counts"]), "negative counts"),
    (lambda m, a: a.update(counts=a["counts"].astype(np.complex64)), "not a integer type"),
    (lambda m, a: a.update(noise_weights=a["noise_weights"] * np.nan), "noise weights"),
    (lambda m, a: a.update(W_in=a["W_in"].astype(np.int32)), "weights are float32"),
    (lambda m, a: a.update(W_out=a["W_out"].astype(np.float64)), "weights are float32"),
])
def test_load_model_with_bad_metadata_says_what_and_where(tmp_path, edit, fragment):
    # Before: KeyError('vocab'), "dictionary update sequence element #0", TypeError or
    # OverflowError from deep inside, without the file's name.
    path = edited_model(tmp_path, edit)
    with pytest.raises(ValueError) as info:
        Word2Vec.load(path)
    message = str(info.value)
    assert fragment in message and str(path) in message and "not a valid cw2v model" in message


def test_training_a_read_only_mapped_model_fails_before_reading_the_corpus(tmp_path):
    trained_model().save(tmp_path / "m.cw2v")
    model = Word2Vec.load(tmp_path / "m.cw2v", mmap=True)
    read = []

    def corpus():
        read.append(True)
        yield ["the", "cat", "sat"]

    with pytest.raises(TypeError, match="mmap='c'") as info:
        model.train(corpus(), epochs=1)
    assert "without mmap" in str(info.value)
    assert not read  # before: the corpus was read and encoded first
    Word2Vec.load(tmp_path / "m.cw2v", mmap="c").train([["the", "cat", "sat"]] * 20, epochs=1,
                                                       workers=1)


def test_gzip_file_is_not_a_model(tmp_path):
    with gzip.open(tmp_path / "m.gz", "wb") as f:
        f.write(b"CW2V")
    with pytest.raises(ValueError, match="bad magic"):
        Word2Vec.load(tmp_path / "m.gz")


# -- pipes, FIFOs, file objects and damaged compressed files -------------------------------------


def many_vectors(n: int = 3000, d: int = 8) -> Vectors:
    """More bytes than a pipe's buffer (and than a first read) in either format."""
    rng = np.random.default_rng(3)
    return Vectors([f"w{i}" for i in range(n)], rng.standard_normal((n, d)).astype(np.float32))


@pytest.mark.parametrize("suffix", ["", ".gz", ".xz"])
@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_word2vec_formats_from_a_fifo_and_a_file_object(tmp_path, fifo, binary, suffix):
    import io

    vecs = many_vectors()
    path = tmp_path / f"v{suffix}"
    save_word2vec_format(vecs, path, binary=binary)
    data = path.read_bytes()
    assert_same(vecs, load_word2vec_format(fifo(data), binary=binary))
    assert_same(vecs, load_word2vec_format(fifo(data, first=1), binary=binary))
    stream = io.BytesIO(data)
    assert_same(vecs, load_word2vec_format(stream, binary=binary))
    assert not stream.closed
    bad = io.BytesIO(b"2 3\na 1 2 3\n")
    bad.name = "pasted.txt"
    with pytest.raises(Word2VecFormatError, match="pasted.txt, line 3"):
        load_word2vec_format(bad)


def test_native_format_from_a_fifo_and_a_file_object(tmp_path, fifo):
    import io

    model = trained_model()
    model.save(tmp_path / "m.cw2v")
    data = (tmp_path / "m.cw2v").read_bytes()
    for source in (fifo(data), fifo(data, first=1), io.BytesIO(data)):
        back = Word2Vec.load(source)
        assert back.vocab == model.vocab and np.array_equal(back.W_in, model.W_in)
    meta, arrays = load_arrays(io.BytesIO(data))
    assert meta["vocab"] == model.vocab and np.array_equal(arrays["W_out"], model.W_out)
    with pytest.raises(ValueError, match="only a regular file can be memory-mapped"):
        load_arrays(fifo(data), mmap=True)
    with pytest.raises(FileNotFoundError):
        load_arrays(tmp_path / "missing.cw2v", mmap=True)


COMPRESSORS = {".gz": gzip.compress, ".bz2": __import__("bz2").compress,
               ".xz": __import__("lzma").compress}


@pytest.mark.parametrize("suffix", sorted(COMPRESSORS))
@pytest.mark.parametrize("damage", ["truncated", "flipped"])
@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_damaged_compressed_vectors_are_a_format_error(tmp_path, vecs, suffix, damage, binary):
    save_word2vec_format(vecs, tmp_path / "v", binary=binary)
    packed = bytearray(COMPRESSORS[suffix]((tmp_path / "v").read_bytes()))
    if damage == "truncated":
        packed = packed[:len(packed) * 2 // 3]
    else:
        packed[len(packed) // 2] ^= 0x55
    path = tmp_path / f"bad{suffix}"
    path.write_bytes(bytes(packed))
    # (every one of the three formats checksums its data: a flipped bit cannot pass unseen)
    error_of(path, binary=binary)


# -- what a save may replace ----------------------------------------------------------------------


def _small_vectors() -> Vectors:
    return Vectors(["a", "b"], np.arange(4, dtype=np.float32).reshape(2, 2))


def test_save_refuses_a_fifo_and_a_device(tmp_path):
    import stat

    from cw2v._files import NotARegularFileError

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(NotARegularFileError, match="FIFO"):
        save_word2vec_format(_small_vectors(), fifo)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    device = tmp_path / "null"
    try:  # a copy of /dev/null (needs root, as in the bug report)
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except (PermissionError, OSError):
        pytest.skip("cannot make a device node here (not root)")
    with pytest.raises(NotARegularFileError, match="character device"):
        _small_vectors().save_word2vec_format(device)
    with pytest.raises(NotARegularFileError):
        save_arrays(device, {}, {"x": np.zeros(3)})
    assert stat.S_ISCHR(os.stat(device).st_mode)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_save_writes_through_a_symlink(tmp_path):
    real = tmp_path / "real.txt"
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    save_word2vec_format(_small_vectors(), link)
    assert link.is_symlink() and real.read_text().startswith("2 2\n")


def _dead_pid() -> int:
    pid = 4_000_000
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid += 1


def test_save_removes_leftovers_of_killed_saves(tmp_path):
    target = tmp_path / "v.txt"
    dead = tmp_path / f".v.txt.{_dead_pid()}.abc123.tmp"
    alive = tmp_path / f".v.txt.{os.getppid()}.def456.tmp"  # a live process: maybe still saving
    other = tmp_path / f".w.txt.{_dead_pid()}.abc123.tmp"   # another target's
    for p in (dead, alive, other):
        p.write_bytes(b"x" * 100)
    save_word2vec_format(_small_vectors(), target)
    assert not dead.exists() and alive.exists() and other.exists()
    assert target.read_text().startswith("2 2\n")


# -- issue 31: loading in bounded memory -----------------------------------------------------------

_PEAK_CHILD = r"""
import sys
import numpy as np
from cw2v.io import load_word2vec_format

def status(key):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(key))

before = status("VmRSS")
v = load_word2vec_format(sys.argv[1], binary=sys.argv[2] == "1")
v.most_similar(v.vocab[0], 10)
print((status("VmHWM") - before) / v.vectors.nbytes)
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
@pytest.mark.parametrize("binary", [True, False], ids=["binary", "text"])
def test_loading_and_the_first_query_peak_near_the_matrix_size(tmp_path, binary):
    # Before issue 31: binary mapped the whole file and copied out of it (2x the matrix), text
    # kept every chunk and concatenated them (4.5x), and the first query built a unit copy.
    rng = np.random.default_rng(0)
    n, d = (30_000, 600) if binary else (4_000, 600)
    words = [f"word{i}" for i in range(n)]
    matrix = rng.standard_normal((n, d)).astype(np.float32)
    if not binary:
        matrix = matrix.round(2)  # a smaller text file to write and parse
    save_word2vec_format(Vectors(words, matrix), tmp_path / "v", binary=binary)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(Path(cio.__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", _PEAK_CHILD, "v", str(int(binary))], cwd=tmp_path,
                         env=env, capture_output=True, text=True, check=True).stdout
    # The words and their index (about 130 bytes a word: 5% of a 600-d float32 row) included;
    # the text file is small, so its fixed costs (chunks of about 1 MiB) weigh more.
    assert float(out) <= (1.15 if binary else 1.4)


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "text"])
@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_huge_header_is_refused_before_allocating(tmp_path, binary, compress):
    data = Vectors(["a", "b"], np.ones((2, 300), np.float32))
    save_word2vec_format(data, tmp_path / "v", binary=binary)
    body = (tmp_path / "v").read_bytes().split(b"\n", 1)[1]
    raw = b"1000000000 300\n" + body  # 1.2 TB of float32 claimed
    (tmp_path / "h").write_bytes(gzip.compress(raw) if compress else raw)
    tracemalloc.start()
    try:
        err = error_of(tmp_path / "h", binary=binary)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "header says 1000000000" in str(err) and peak < 1 << 24
    assert (err.record == 3) if binary else (err.line == 4)


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "text"])
def test_limit_reads_only_the_first_rows(tmp_path, vecs, binary):
    save_word2vec_format(vecs, tmp_path / "v", binary=binary)
    body = (tmp_path / "v").read_bytes().split(b"\n", 1)[1]
    # A header that claims far more rows than there are, and garbage after the third row.
    if binary:
        cut = b"".join(w.encode() + b" " + row.astype("<f4").tobytes() + b"\n"
                       for w, row in zip(WORDS[:3], vecs.vectors[:3]))
        assert body.startswith(cut)
    else:
        cut = b"".join(body.splitlines(True)[:3])
    (tmp_path / "l").write_bytes(b"1000000000 6\n" + cut + b"\x00garbage" * 10)
    back = load_word2vec_format(tmp_path / "l", binary=binary, limit=3)
    assert back.vocab == vecs.vocab[:3] and np.array_equal(back.vectors, vecs.vectors[:3])
    assert back.vectors.shape == (3, 6) and back.vectors.flags.owndata


def test_binary_header_with_a_longer_dimension_names_the_file(tmp_path, vecs):
    (tmp_path / "d.bin").write_bytes(
        binary_file(WORDS, vecs.vectors, header=f"{len(WORDS)} 600\n".encode()))
    err = error_of(tmp_path / "d.bin", binary=True)
    assert err.record == 1 and "d.bin" in str(err)
