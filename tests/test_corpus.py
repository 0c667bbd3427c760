"""Corpus reading, vocabulary building and encoding, against hand-computed expectations."""
from __future__ import annotations

import bz2
import gzip
import lzma
import os
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from cw2v import _reader
from cw2v import corpus as corpus_module
from cw2v.corpus import (CorpusDecodeError, CorpusError, EncodedCorpus, build, encode,
                         iter_sentences)
from cw2v.vocab import Vocabulary

SHARED_DATA = Path(os.environ.get("CW2V_SHARED_DATA",
                                  Path(__file__).resolve().parents[1].parent / "shared" / "data"))

# Word counts: the 4, sat 2, on 2, cat 1, mat 1, dog 1, log 1 (first appearance in that order
# among ties). A blank line in the middle; the last line ends without a newline.
TEXT = "the cat sat on the mat\nthe dog sat\n\non the log"
WORDS_MIN1 = ["the", "sat", "on", "cat", "mat", "dog", "log"]
TOKENS_MIN1 = [0, 3, 1, 2, 0, 4, 0, 5, 1, 2, 0, 6]
OFFSETS_LINES = [0, 6, 9, 12]  # the blank line is an empty sentence, dropped
TOKENS_MIN2 = [0, 1, 2, 0, 0, 1, 2, 0]  # the, sat, on only
OFFSETS_MIN2 = [0, 4, 6, 8]

OPENERS = {"plain": open, "gz": gzip.open, "bz2": bz2.open, "xz": lzma.open}


def write(path: Path, data: str | bytes, kind: str = "plain") -> Path:
    """Write ``data`` (str as UTF-8) to ``path``, compressed as ``kind``."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    with OPENERS[kind](path, "wb") as f:
        f.write(data)
    return path


def check_invariants(enc: EncodedCorpus, vocab_size: int) -> None:
    assert enc.tokens.dtype == np.int32 and enc.offsets.dtype == np.int64
    assert enc.offsets[0] == 0 and enc.offsets[-1] == enc.tokens.size
    assert np.all(np.diff(enc.offsets) > 0)  # no empty sentences
    if enc.tokens.size:
        assert enc.tokens.min() >= 0 and enc.tokens.max() < vocab_size


def sentences_of(enc: EncodedCorpus, vocab: Vocabulary) -> list[list[str]]:
    return [[vocab.words[i] for i in enc.tokens[a:b]]
            for a, b in zip(enc.offsets[:-1], enc.offsets[1:])]


# -- files ----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(OPENERS))
def test_build_reads_plain_and_compressed_files(tmp_path, kind):
    path = write(tmp_path / f"corpus.{kind}", TEXT, kind)
    vocab, enc = build(path, min_count=1)
    assert vocab.words == WORDS_MIN1
    assert vocab.counts.tolist() == [4, 2, 2, 1, 1, 1, 1]
    assert vocab.total_words == 12
    assert enc.tokens.tolist() == TOKENS_MIN1
    assert enc.offsets.tolist() == OFFSETS_LINES
    assert enc.raw_words == 12
    check_invariants(enc, len(vocab))


@pytest.mark.parametrize("kind", sorted(OPENERS))
def test_min_count_drops_words_and_moves_offsets(tmp_path, kind):
    path = write(tmp_path / "corpus", TEXT, kind)
    vocab, enc = build(str(path), min_count=2)
    assert vocab.words == ["the", "sat", "on"]
    assert vocab.total_words == 12
    assert enc.tokens.tolist() == TOKENS_MIN2
    assert enc.offsets.tolist() == OFFSETS_MIN2
    assert enc.raw_words == 12


def test_compression_is_recognised_by_content_not_name(tmp_path):
    path = write(tmp_path / "corpus.txt", TEXT, "gz")
    assert build(path, min_count=1)[1].tokens.tolist() == TOKENS_MIN1


def test_one_long_line_and_many_lines_give_the_same_tokens(tmp_path):
    one_line = write(tmp_path / "one.txt", " " + " ".join(TEXT.split()))  # text8 layout
    _, enc_lines = build(write(tmp_path / "lines.txt", TEXT), min_count=1)
    vocab, enc_one = build(one_line, min_count=1)
    assert vocab.words == WORDS_MIN1
    assert enc_one.tokens.tolist() == enc_lines.tokens.tolist() == TOKENS_MIN1
    assert enc_one.offsets.tolist() == [0, 12]
    assert enc_lines.offsets.tolist() == OFFSETS_LINES


def test_crlf_line_ends(tmp_path):
    path = write(tmp_path / "crlf.txt", "\r\n\na b\r\nc\r\n\r\nd e f\r\n")
    _, enc = build(path, min_count=1)
    assert enc.offsets.tolist() == [0, 2, 3, 6]
    assert list(iter_sentences(path)) == [["a", "b"], ["c"], ["d", "e", "f"]]


# Words longer than the chunk, multi-byte UTF-8 characters (cut between their bytes by small
# chunks), runs of spaces and tabs, blank lines.
LONG_WORDS = ["café", "naïve", "日本語", "x" * 50, "a", "bb", "ccc", "été", "z" * 17]


def long_text(lines: bool) -> str:
    rng = np.random.default_rng(7)
    out = []
    for i in range(300):
        out.append(LONG_WORDS[rng.integers(len(LONG_WORDS))])
        out.append(("\n" if lines and i % 23 == 22 else " ") + ("\t " if i % 11 == 0 else ""))
    return "".join(out)


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 5, 7, 64, 1 << 20])
@pytest.mark.parametrize("kind", ["plain", "xz"])
def test_tokens_cut_by_chunk_borders_are_rejoined(tmp_path, monkeypatch, chunk_size, kind):
    text = long_text(lines=False)
    assert len(text.encode()) > 1500  # one line of many chunks (but the last size)
    path = write(tmp_path / "long", text, kind)
    monkeypatch.setattr(_reader, "CHUNK_SIZE", chunk_size)
    vocab, enc = build(path, min_count=1)
    expected = text.split()
    assert enc.raw_words == len(expected) == 300
    assert [vocab.words[i] for i in enc.tokens] == expected
    assert enc.offsets.tolist() == [0, 300]  # one line, one sentence, however long
    assert vocab.counts.tolist() == sorted(Counter(expected).values(), reverse=True)
    assert list(iter_sentences(path)) == [expected]


@pytest.mark.parametrize("chunk_size", [1, 4, 9, 1 << 20])
def test_line_ends_across_chunk_borders(tmp_path, monkeypatch, chunk_size):
    text = long_text(lines=True)
    path = write(tmp_path / "lines.txt", text)
    monkeypatch.setattr(_reader, "CHUNK_SIZE", chunk_size)
    expected = [line.split() for line in text.split("\n") if line.split()]
    assert len(expected) == 14
    vocab, enc = build(path, min_count=1)
    assert sentences_of(enc, vocab) == expected
    assert list(iter_sentences(path)) == expected


def test_iter_sentences_cuts_long_sentences_on_request(tmp_path, monkeypatch):
    monkeypatch.setattr(_reader, "CHUNK_SIZE", 16)
    words = [f"w{i}" for i in range(25)]
    path = write(tmp_path / "c.txt", " ".join(words) + "\nx y\n")
    got = list(iter_sentences(path, max_sentence_length=10))
    assert got == [words[:10], words[10:20], words[20:], ["x", "y"]]
    assert list(iter_sentences([["a", "b", "c"], ("d",)], max_sentence_length=2)) == [
        ["a", "b"], ["c"], ["d"]]
    with pytest.raises(ValueError, match="max_sentence_length"):
        iter_sentences(path, max_sentence_length=0)


def test_list_of_paths_reads_each_file_and_a_file_end_ends_a_sentence(tmp_path):
    # Neither file ends with a newline: "b" and "c" must not become one sentence (or one word).
    a = write(tmp_path / "a.txt", "a b")
    c = write(tmp_path / "c.gz", "c a\nb", "gz")
    vocab, enc = build([a, str(c)], min_count=1)
    assert vocab.words == ["a", "b", "c"]
    assert enc.tokens.tolist() == [0, 1, 2, 0, 1]
    assert enc.offsets.tolist() == [0, 2, 4, 5]
    assert enc.raw_words == 5
    assert build((a, c), min_count=1)[1].tokens.tolist() == enc.tokens.tolist()
    assert list(iter_sentences([a, c])) == [["a", "b"], ["c", "a"], ["b"]]


# -- iterables of token lists ----------------------------------------------------------------

SENTENCES = [line.split() for line in TEXT.split("\n")]


def test_token_lists_give_the_same_result_as_the_file(tmp_path):
    vocab, enc = build(SENTENCES, min_count=1)
    assert vocab.words == WORDS_MIN1
    assert enc.tokens.tolist() == TOKENS_MIN1
    assert enc.offsets.tolist() == OFFSETS_LINES
    assert build(tuple(tuple(s) for s in SENTENCES), min_count=1)[1].tokens.tolist() == TOKENS_MIN1


def test_generator_is_read_once(monkeypatch):
    monkeypatch.setattr(corpus_module, "BATCH_TOKENS", 4)  # several batches
    reads = []

    def sentences():
        for s in SENTENCES:
            reads.append(len(s))
            yield s

    gen = sentences()
    vocab, enc = build(gen, min_count=2)
    assert reads == [len(s) for s in SENTENCES]
    assert next(gen, None) is None
    assert vocab.words == ["the", "sat", "on"]
    assert enc.tokens.tolist() == TOKENS_MIN2
    assert enc.offsets.tolist() == OFFSETS_MIN2


def test_a_bare_str_sentence_is_a_type_error_that_explains():
    with pytest.raises(TypeError, match="list of str tokens.*line.split"):
        build(iter(["the cat sat", "on the mat"]))
    with pytest.raises(TypeError, match="bare str"):
        build([["the", "cat"], "on the mat"], min_count=1)
    with pytest.raises(TypeError, match="bare str"):
        list(iter_sentences(s for s in ["a b"]))


def test_a_list_of_str_means_paths():
    with pytest.raises(FileNotFoundError, match="the cat") as info:
        build(["the cat", "sat"])
    assert "list of str is read as a list of file paths" in str(info.value)


def test_tokens_must_be_str():
    with pytest.raises(TypeError, match="str"):
        build([["a", 1]], min_count=1)
    with pytest.raises(TypeError, match="str"):
        build([["a", ["b"]]], min_count=1)
    with pytest.raises(TypeError, match="path"):
        build(42)
    with pytest.raises(TypeError, match="bytes"):
        build(b"a b c")


# -- vocabulary: min_count, max_vocab, ties, determinism --------------------------------------

def test_ties_broken_by_first_appearance_and_max_vocab_cuts_them():
    sentences = [["b", "a"], ["c", "a", "b"], ["c", "d", "e", "e"]]
    vocab, enc = build(sentences, min_count=1)
    assert vocab.words == ["b", "a", "c", "e", "d"]  # b, a, c, e: 2 each; d: 1
    vocab, enc = build(sentences, min_count=1, max_vocab=2)
    assert vocab.words == ["b", "a"]
    assert enc.tokens.tolist() == [0, 1, 1, 0]
    assert enc.offsets.tolist() == [0, 2, 4]  # the third sentence has no word left
    assert vocab.total_words == enc.raw_words == 9
    vocab, _ = build(sentences, min_count=2, max_vocab=3)
    assert vocab.words == ["b", "a", "c"]


def test_build_is_deterministic_and_matches_a_direct_count(tmp_path, monkeypatch):
    monkeypatch.setattr(_reader, "CHUNK_SIZE", 37)
    rng = np.random.default_rng(3)
    words = [f"w{i}" for i in range(40)]
    p = 1.0 / np.arange(1, 41)
    lines = [" ".join(rng.choice(words, size=rng.integers(0, 12), p=p / p.sum()))
             for _ in range(200)]
    path = write(tmp_path / "zipf.txt.bz2", "\n".join(lines), "bz2")
    v1, e1 = build(path, min_count=3)
    v2, e2 = build(path, min_count=3)
    assert v1.words == v2.words
    np.testing.assert_array_equal(e1.tokens, e2.tokens)
    np.testing.assert_array_equal(e1.offsets, e2.offsets)
    # Against the properties: counts are the true counts, sorted, min_count applied, and the
    # sentences are the lines with rare words removed.
    tokens = [t for line in lines for t in line.split()]
    counter = Counter(tokens)
    assert dict(zip(v1.words, v1.counts.tolist())) == {w: c for w, c in counter.items() if c >= 3}
    assert np.all(np.diff(v1.counts) <= 0)
    first_seen = {t: i for i, t in reversed(list(enumerate(tokens)))}
    for (w1, c1), (w2, c2) in zip(zip(v1.words, v1.counts), zip(v1.words[1:], v1.counts[1:])):
        assert c1 > c2 or first_seen[w1] < first_seen[w2]
    assert e1.raw_words == len(tokens)
    expected = [[t for t in line.split() if counter[t] >= 3] for line in lines]
    assert sentences_of(e1, v1) == [s for s in expected if s]
    check_invariants(e1, len(v1))


# -- encode ----------------------------------------------------------------------------------

def test_encode_with_an_existing_vocabulary_drops_oov_words(tmp_path):
    vocab = Vocabulary.from_counts({"the": 5, "cat": 3, "sat": 2})
    path = write(tmp_path / "new.txt", "the dog sat\nbig red dog\n\ncat the cat")
    enc = encode(path, vocab)
    assert enc.tokens.tolist() == [0, 2, 1, 0, 1]
    assert enc.offsets.tolist() == [0, 2, 5]  # "big red dog" is all out of vocabulary
    assert enc.raw_words == 9
    enc2 = encode([["the", "dog", "sat"], ["big", "red", "dog"], ["cat", "the", "cat"]], vocab)
    assert enc2.tokens.tolist() == enc.tokens.tolist()
    assert enc2.offsets.tolist() == enc.offsets.tolist()
    assert enc2.raw_words == 9
    # A plain word -> id mapping works as well.
    enc3 = encode(path, {"the": 0, "cat": 1, "sat": 2})
    assert enc3.tokens.tolist() == [0, 2, 1, 0, 1]


def test_encode_of_the_build_corpus_is_the_build_encoding(tmp_path):
    path = write(tmp_path / "c.txt", TEXT)
    vocab, enc = build(path, min_count=2)
    again = encode(path, vocab)
    assert again.tokens.tolist() == enc.tokens.tolist()
    assert again.offsets.tolist() == enc.offsets.tolist()
    assert again.raw_words == enc.raw_words


def test_encode_with_no_known_word_is_empty():
    vocab = Vocabulary.from_counts({"a": 1})
    enc = encode([["x", "y"], ["z"]], vocab)
    assert enc.tokens.size == 0 and enc.offsets.tolist() == [0] and enc.raw_words == 3
    with pytest.raises(TypeError, match="Vocabulary"):
        encode([["a"]], ["a"])


# -- pipes, FIFOs and file objects ----------------------------------------------------------

def many_lines(n: int = 3000) -> bytes:
    """About 100 kB of text (more than a pipe's buffer and a read's first chunk)."""
    return "".join(f"w{i % 97} w{i % 13} the w{i % 7} end\n" for i in range(n)).encode()


def same_corpus(a, b) -> None:
    (va, ea), (vb, eb) = a, b
    assert va.words == vb.words and va.counts.tolist() == vb.counts.tolist()
    assert ea.tokens.tolist() == eb.tokens.tolist() and ea.offsets.tolist() == eb.offsets.tolist()
    assert ea.raw_words == eb.raw_words


@pytest.mark.parametrize("kind", ["plain", "gz", "bz2", "xz"])
@pytest.mark.parametrize("first", [None, 1], ids=["at-once", "first-byte-alone"])
def test_a_fifo_reads_like_the_file(tmp_path, fifo, kind, first):
    # Nothing of a pipe may be lost: not its first bytes (compression is told from them), not
    # its first read's worth. A pipe hands over what is there: here the first byte may come
    # alone, and a compressed stream must still be recognised.
    path = write(tmp_path / f"c.{kind}", many_lines(), kind)
    expected = build(path, min_count=1)
    same_corpus(build(fifo(path.read_bytes(), first), min_count=1), expected)
    sentences = list(iter_sentences(fifo(path.read_bytes(), first)))
    assert sum(map(len, sentences)) == expected[1].raw_words


@pytest.mark.parametrize("kind", ["plain", "gz"])
def test_a_binary_file_object_reads_like_the_file(tmp_path, kind):
    import io

    path = write(tmp_path / f"c.{kind}", many_lines(), kind)
    expected = build(path, min_count=1)
    stream = io.BytesIO(path.read_bytes())
    same_corpus(build(stream, min_count=1), expected)
    assert not stream.closed  # the caller's to close
    with open(path, "rb") as f:
        assert list(iter_sentences(f)) == list(iter_sentences(path))
    with open(path, "rb") as f:  # a list mixing paths and file objects
        vocab, enc = build([path, f], min_count=1)
    assert enc.raw_words == 2 * expected[1].raw_words


def test_a_text_stream_is_refused_with_advice(tmp_path):
    path = write(tmp_path / "c.txt", TEXT)
    with open(path, encoding="utf-8") as f, pytest.raises(TypeError, match="binary"):
        build(f)


# -- bad input -------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["plain", "gz", "xz"])
@pytest.mark.parametrize("chunk_size", [4, 5, 1 << 20])
def test_decode_error_names_file_and_byte_offset(tmp_path, monkeypatch, kind, chunk_size):
    # "\xc3" opens a two-byte character that "(" does not continue. With 4-byte chunks the
    # "\xc3" ends a chunk and the decoder holds it back, so the offset must count it.
    data = b"good words here ab \xc3( more"
    bad = data.index(b"\xc3")
    assert bad == 19
    path = write(tmp_path / f"bad.{kind}", data, kind)
    monkeypatch.setattr(_reader, "CHUNK_SIZE", chunk_size)
    with pytest.raises(CorpusDecodeError) as info:
        build(path)
    err = info.value
    assert isinstance(err, ValueError)
    assert err.offset == bad
    message = str(err)
    assert str(path) in message and "offset 19" in message
    assert "errors='replace'" in message and "errors='ignore'" in message


@pytest.mark.parametrize("kind", ["gz", "bz2", "xz"])
@pytest.mark.parametrize("damage", ["truncated", "flipped"])
def test_damaged_compressed_file_is_a_corpus_error(tmp_path, kind, damage):
    # Before: a bare EOFError, zlib.error, lzma.LZMAError or OSError.
    packed = bytearray(write(tmp_path / "good", many_lines(), kind).read_bytes())
    if damage == "truncated":
        packed = packed[:len(packed) // 2]
    else:
        packed[len(packed) // 2] ^= 0x55
    path = tmp_path / f"bad.{kind}"
    path.write_bytes(bytes(packed))
    for read in (lambda: build(path, min_count=1),
                 lambda: encode(path, {"the": 0}),
                 lambda: list(iter_sentences(path))):
        with pytest.raises(CorpusError) as info:
            read()
        assert isinstance(info.value, ValueError)
        assert info.value.path == str(path) and str(path) in str(info.value)
        assert ("truncated" if damage == "truncated" else "corrupt") in str(info.value)


def test_decode_error_is_a_corpus_error(tmp_path):
    path = write(tmp_path / "bad.txt", b"ok \xff")
    with pytest.raises(CorpusError) as info:
        build(path)
    assert isinstance(info.value, CorpusDecodeError) and info.value.path == str(path)


@pytest.mark.skipif(not os.path.exists("/proc/self/mem"), reason="reads /proc/self/mem (Linux)")
def test_unreadable_files_keep_their_os_error():
    # (A folder is a corpus of its files now; /proc/self/mem opens, and its first read fails
    # with EIO.)
    with pytest.raises(OSError) as err:
        build("/proc/self/mem")
    assert not isinstance(err.value, FileNotFoundError)


def test_decode_error_at_end_of_file(tmp_path):
    path = write(tmp_path / "cut.txt", b"ok \xe6\x97")  # a three-byte character cut short
    with pytest.raises(CorpusDecodeError) as info:
        build(path, min_count=1)
    assert info.value.offset == 3


def test_errors_replace_and_ignore_are_passed_to_the_decoder(tmp_path):
    path = write(tmp_path / "bad.txt", b"ab\xffcd ab \xff")
    vocab, enc = build(path, min_count=1, errors="replace")
    assert vocab.words == ["ab\ufffdcd", "ab", "\ufffd"]
    vocab, enc = build(path, min_count=1, errors="ignore")
    assert vocab.words == ["abcd", "ab"]
    assert enc.raw_words == 2
    latin = write(tmp_path / "latin1.txt", "café café thé".encode("latin-1"))
    assert build(latin, min_count=1, encoding="latin-1")[0].words == ["café", "thé"]
    with pytest.raises(LookupError):
        build(path, errors="no-such-handler")
    with pytest.raises(LookupError):
        build(path, encoding="no-such-codec")
    with pytest.raises(LookupError, match="not a text encoding"):
        build(path, encoding="rot13")  # (before: a TypeError from deep inside the decoder)


@pytest.mark.parametrize("make", [
    lambda tmp: write(tmp / "empty.txt", ""),
    lambda tmp: write(tmp / "blank.txt.gz", " \n\n \t\n", "gz"),
    lambda tmp: [],
    lambda tmp: [[], []],
    lambda tmp: (s for s in []),
])
def test_empty_corpus(tmp_path, make):
    corpus = make(tmp_path)
    with pytest.raises(ValueError, match="corpus is empty"):
        build(corpus)
    if not hasattr(corpus, "__next__"):
        with pytest.raises(ValueError, match="corpus is empty"):
            encode(corpus, Vocabulary.from_counts({"a": 1}))


def test_missing_file_is_named_before_anything_is_read(tmp_path):
    present = write(tmp_path / "a.txt", "a b")
    missing = tmp_path / "missing.txt.xz"
    with pytest.raises(FileNotFoundError, match="missing.txt.xz"):
        build(missing)
    with pytest.raises(FileNotFoundError, match="missing.txt.xz"):
        build([present, missing])
    with pytest.raises(FileNotFoundError, match="missing.txt.xz"):
        iter_sentences(missing)  # at the call, not on first iteration


@pytest.mark.parametrize("kwargs, name", [
    ({"min_count": 0}, "min_count"),
    ({"min_count": -1}, "min_count"),
    ({"max_vocab": 0}, "max_vocab"),
])
def test_bad_parameters_are_named(kwargs, name):
    with pytest.raises(ValueError, match=name):
        build([["a", "b"]], **kwargs)


def test_no_word_reaching_min_count():
    with pytest.raises(ValueError, match=r"min_count=5.*occurs 4 times"):
        build(SENTENCES, min_count=5)


# -- the real corpus -------------------------------------------------------------------------

@pytest.mark.corpus
def test_wiki8_1m_matches_its_published_figures():
    path = SHARED_DATA / "corpus" / "wiki8-1m.txt.xz"
    if not path.exists():
        pytest.skip(f"needs corpus/wiki8-1m.txt.xz from the shared data folder, not found at "
                    f"{path} (set CW2V_SHARED_DATA to its location)")
    vocab, enc = build(path, min_count=5)
    # shared/data/SOURCES.md: 1,000,000 tokens, 13,679 words at min_count=5, one line.
    assert enc.raw_words == vocab.total_words == 1_000_000
    assert len(vocab) == 13_679
    assert vocab.words[0] == "the"
    assert enc.offsets.tolist() == [0, enc.tokens.size]
    assert enc.tokens.size == int(vocab.counts.sum())
    assert np.array_equal(np.bincount(enc.tokens, minlength=len(vocab)), vocab.counts)
    check_invariants(enc, len(vocab))


# -- folders, patterns, URLs ----------------------------------------------------------------------

def test_folders_and_patterns_are_read_in_name_order(tmp_path):
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "b.txt").write_text("two three\n")
    with gzip.open(folder / "a.txt.gz", "wt") as f:
        f.write("one two\n")
    (folder / "c.txt").write_text("three four\n")
    (folder / ".hidden").write_text("never read\n")
    (folder / "sub").mkdir()
    (folder / "sub" / "d.txt").write_text("never read\n")
    expected = [["one", "two"], ["two", "three"], ["three", "four"]]
    assert list(corpus_module.iter_sentences(folder)) == expected
    assert list(corpus_module.iter_sentences(str(folder / "*.txt*"))) == expected
    assert list(corpus_module.iter_sentences([str(folder / "c.*"), folder / "b.txt"])) == \
        [expected[2], expected[1]]
    vocab, encoded = corpus_module.build(folder, min_count=1)
    assert vocab.total_words == 6 and encoded.offsets.size == 4


def test_empty_folders_and_patterns_matching_nothing_say_so(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="corpus folder holds no file"):
        corpus_module.build(tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="no corpus file matches this pattern"):
        corpus_module.build(str(tmp_path / "*.nothing"))


def test_a_file_named_like_a_pattern_is_a_file(tmp_path):
    odd = tmp_path / "a[1].txt"
    odd.write_text("x y\n")
    assert list(corpus_module.iter_sentences(str(odd))) == [["x", "y"]]


def test_urls_are_read_through_fsspec():
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    fs.pipe("/cw2v-test/corpus/a.txt", b"one two\nthree\n")
    fs.pipe("/cw2v-test/corpus/b.txt.gz", gzip.compress(b"four five\n"))
    try:
        assert list(corpus_module.iter_sentences("memory://cw2v-test/corpus/a.txt")) == \
            [["one", "two"], ["three"]]
        expected = [["one", "two"], ["three"], ["four", "five"]]
        assert list(corpus_module.iter_sentences("memory://cw2v-test/corpus")) == expected
        assert list(corpus_module.iter_sentences("memory://cw2v-test/corpus/*.txt*")) == expected
        with pytest.raises(FileNotFoundError, match="no corpus file at this URL"):
            corpus_module.build("memory://cw2v-test/nothing/here.txt")
    finally:
        fs.rm("/cw2v-test", recursive=True)


def test_a_url_without_fsspec_says_how_to_install_it(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_fsspec(name, *args, **kwargs):
        if name == "fsspec":
            raise ImportError("No module named 'fsspec'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_fsspec)
    with pytest.raises(ImportError, match=r"pip install 'cw2v\[remote\]'"):
        corpus_module.build("s3://bucket/corpus.txt")
