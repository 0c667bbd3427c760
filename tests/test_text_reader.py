"""The compiled corpus reader (``cw2v._text.WordTable`` behind ``cw2v.corpus``) against the str
reader it replaces for UTF-8 and ASCII files: same tokens (``str.split()``), sentences, ids,
counts, pruning and errors, whatever the text and wherever the chunks are cut."""
from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cw2v import _reader, corpus
from cw2v._text import WordTable
from cw2v.corpus import CorpusDecodeError, build, encode

#: Every character ``str.split()`` splits on (``str.isspace()``), ASCII and Unicode.
SPACES = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
#: Token characters, among them look-alikes of the spaces' UTF-8 bytes and control bytes.
LETTERS = ["a", "b", "é", "日", "\x00", "\x1b", "\u00ad", "\u200b", "\u2060", "\u205e", "\u3001",
           "\u1681", "\u2010", "\U0001f600", "\x7f", "\xc2"]
FUZZ = settings(max_examples=60, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def str_reader(monkeypatch):
    """Route ``cw2v.corpus`` to the str reader (as for any other encoding)."""
    monkeypatch.setattr(corpus, "reads_bytes", lambda encoding, errors: False)


def assert_same_build(a, b):
    (va, ea), (vb, eb) = a, b
    assert va.words == vb.words
    assert np.array_equal(va.counts, vb.counts)
    assert va.total_words == vb.total_words
    assert np.array_equal(np.asarray(ea.tokens), np.asarray(eb.tokens))
    assert np.array_equal(np.asarray(ea.offsets), np.asarray(eb.offsets))


def test_the_spaces_are_python_s():
    # the table the reader is built on: str.split() splits on exactly these 29 characters
    assert len(SPACES) == 29
    t = WordTable()
    text = ("x".join(SPACES) + "x").encode("utf-8")
    ids = np.empty(len(text), dtype=np.int32)
    ends = np.empty(len(text), dtype=np.int64)
    n, _ = t.encode_chunk(text, True, ids, ends)
    assert n == len(SPACES) and set(ids[:n].tolist()) == {0}


@FUZZ
@given(pieces=st.lists(st.one_of(st.sampled_from(SPACES), st.sampled_from(LETTERS),
                                 st.just("\n"), st.just("\r\n")), max_size=400),
       chunk=st.integers(1, 64), min_count=st.integers(1, 3))
def test_files_read_as_by_str_split(tmp_path, monkeypatch, pieces, chunk, min_count):
    path = tmp_path / "c.txt"
    path.write_bytes("".join(pieces).encode("utf-8"))
    monkeypatch.setattr(_reader, "CHUNK_SIZE", chunk)
    try:
        compiled = build(path, min_count=min_count)
    except ValueError as e:
        with monkeypatch.context() as m:
            str_reader(m)
            with pytest.raises(ValueError, match=str(e)[:30]):
                build(path, min_count=min_count)
        return
    with monkeypatch.context() as m:
        str_reader(m)
        assert_same_build(compiled, build(path, min_count=min_count))
        vocab = compiled[0]
        by_str = encode(path, vocab)
    by_bytes = encode(path, vocab)
    assert np.array_equal(by_bytes.tokens, by_str.tokens)
    assert np.array_equal(by_bytes.offsets, by_str.offsets)


@pytest.mark.parametrize("chunk", [3, 7, 1 << 20])
def test_sentences_and_files_end_where_they_do(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(_reader, "CHUNK_SIZE", chunk)
    a = tmp_path / "a.txt"
    b = tmp_path / "b.txt"
    a.write_text("one two\n\n\nthree\u2028four\u0085five\r\nsix  ")
    b.write_text("\nseven eight\nnine")
    vocab, enc = build([a, b], min_count=1)
    sentences = [[vocab.words[i] for i in enc.tokens[s:e]]
                 for s, e in zip(enc.offsets[:-1], enc.offsets[1:])]
    assert sentences == [["one", "two"], ["three", "four", "five"], ["six"], ["seven", "eight"],
                         ["nine"]]


def test_pruning_matches_the_str_reader_s_table():
    # the same pieces through both tables, the bound checked after each: same words, ids, counts
    rng = np.random.default_rng(0)
    pieces = [[f"w{int(x)}" for x in rng.zipf(1.3, size=int(rng.integers(1, 200))) % 500]
              for _ in range(60)]
    for bound in (1, 5, 40, 10**6):
        ours, theirs = corpus._CompiledWordTable(bound), corpus._WordTable(bound)
        for tokens in pieces:
            text = " ".join(tokens).encode()
            out = np.empty(len(text), dtype=np.int32)
            n, _ = ours.table.encode_chunk(text, True, out, np.empty(1, dtype=np.int64))
            assert np.array_equal(out[:n], theirs.ids(tokens))
            ours.check_bound()
            theirs.check_bound()
        words, ids = ours.words()
        words_py, ids_py = theirs.words()
        assert words == words_py and np.array_equal(ids, ids_py)
        assert np.array_equal(ours.counts_of(ids, None), theirs.counts_of(ids_py, None))
        assert (ours.prunes, ours.floor) == (theirs.prunes, theirs.floor)
        assert (ours.prunes > 0) == (bound < 500)


@pytest.mark.parametrize("data, encoding, offset", [
    (b"good words \xff bad", "utf-8", 11),
    (b"ok\n\xe2\x80 cut", "utf-8", 3),
    (b"fine text \xe2\x82", "utf-8", 10),        # truncated at the end of the file
    (b"plain caf\xc3\xa9", "ascii", 9),
])
@pytest.mark.parametrize("chunk", [4, 1 << 20])
def test_decode_errors_name_the_byte(tmp_path, monkeypatch, data, encoding, offset, chunk):
    monkeypatch.setattr(_reader, "CHUNK_SIZE", chunk)
    path = tmp_path / "bad.txt"
    path.write_bytes(data)
    with pytest.raises(CorpusDecodeError) as ours:
        build(path, min_count=1, encoding=encoding)
    str_reader(monkeypatch)
    with pytest.raises(CorpusDecodeError) as theirs:
        build(path, min_count=1, encoding=encoding)
    assert ours.value.offset == theirs.value.offset == offset
    assert str(ours.value) == str(theirs.value)


def test_encode_with_a_mapping_skips_words_no_token_can_be(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("a b\nc a")
    enc = encode(path, {"a": 7, "two words": 1, "": 2, "c": 0})
    assert enc.tokens.tolist() == [7, 0, 7]
    with pytest.raises(ValueError, match="ids"):
        encode(path, {"a": 2**31})


def test_word_table_checks_its_buffers():
    t = WordTable()
    with pytest.raises(ValueError, match="ids_out"):
        t.encode_chunk(b"a b c d", True, np.empty(2, dtype=np.int32), np.empty(0, np.int64))
    with pytest.raises(ValueError, match="ends_out"):
        t.encode_chunk(b"a\nb\nc", True, np.empty(3, dtype=np.int32), np.empty(1, np.int64))
    with pytest.raises(ValueError, match="add_vocab"):
        t.add_vocab(b"a\nb", np.zeros(2, dtype=np.int32))


def test_read_ahead_hands_over_the_bytes_and_the_error_in_order():
    import io

    from cw2v._files import ReadAhead

    data = bytes(range(256)) * 50

    class Failing(io.BytesIO):
        def read(self, n=-1):
            out = super().read(n)
            if not out:
                raise EOFError("truncated")
            return out

    with ReadAhead(io.BytesIO(data), block=1000, depth=2) as ahead:
        got = b"".join(iter(lambda: ahead.read(333), b""))
    assert got == data
    with ReadAhead(Failing(data), block=4096) as ahead:
        got = b""
        with pytest.raises(EOFError, match="truncated"):
            while True:
                got += ahead.read(5000)
    assert got == data  # every byte before the error, then the error
    ahead = ReadAhead(io.BytesIO(data), block=10, depth=1)
    ahead.read(10)
    ahead.close()  # stops the thread although nobody reads on
    assert not ahead._thread.is_alive()


def test_compressed_files_read_ahead_equal_plain(tmp_path, monkeypatch):
    import lzma

    monkeypatch.setattr(_reader, "CHUNK_SIZE", 7)
    text = "the cat sat\non the mat\u3000x\n" * 50
    plain = tmp_path / "c.txt"
    plain.write_text(text)
    packed = tmp_path / "c.txt.xz"
    with lzma.open(packed, "wt") as f:
        f.write(text)
    assert_same_build(build(plain, min_count=1), build(packed, min_count=1))


def test_one_whitespace_definition_for_every_reader():
    """``_reader.ASCII_WHITESPACE`` is what bytes.split() and the phrase table (``cw2v_space``)
    split on; ``_reader.holds_whitespace`` (str.isspace) is what the corpus readers, compiled
    and str, split on -- checked against the compiled code, byte by byte."""
    import io

    from cw2v.phrases import Phrases

    assert set(_reader.ASCII_WHITESPACE) == {b for b in range(256) if not bytes([b]).split()}
    for b in range(128):
        text = bytes([0x61, b, 0x62, 0x0A])
        tokens = 2 if b in _reader.ASCII_WHITESPACE else 1
        assert Phrases(io.BytesIO(text), min_count=1).total_words == tokens, b
        for errors in ("strict", "replace"):  # the compiled reader, then the str one
            got = corpus.iter_sentences(io.BytesIO(text), errors=errors)
            words = [w for sentence in got for w in sentence]
            assert len(words) == (2 if _reader.holds_whitespace(chr(b)) else 1), (b, errors)
    for c in ("\x85", "\xa0", "\u2028", "\u3000", "\u200b", "\xad", "\u2060", "é"):
        text = ("a" + c + "b\n").encode("utf-8")
        words = [w for s in corpus.iter_sentences(io.BytesIO(text)) for w in s]
        assert len(words) == (2 if _reader.holds_whitespace(c) else 1), c
