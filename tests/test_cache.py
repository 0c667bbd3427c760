"""The encoded corpus on disk (cw2v.cache): equal to the in-memory encoding, reused for unchanged
files and rebuilt for changed ones, never half-written, bounded counting."""
from __future__ import annotations

import errno
import logging
import os
import subprocess
import sys

import numpy as np
import pytest

from cw2v import Word2Vec, _reader, cache, corpus

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


def random_sentences(seed: int, n: int = 3000) -> list[list[str]]:
    """Zipf words, sentences of 0..30 tokens (empty ones too)."""
    rng = np.random.default_rng(seed)
    return [[f"w{j}" for j in rng.zipf(1.4, rng.integers(0, 30))] for _ in range(n)]


def write_corpus(path, sentences) -> None:
    path.write_text("\n".join(" ".join(s) for s in sentences) + "\n")


def assert_same(a, b) -> None:
    (va, ea), (vb, eb) = a, b
    assert va.words == vb.words
    np.testing.assert_array_equal(va.counts, vb.counts)
    np.testing.assert_array_equal(np.asarray(ea.tokens), np.asarray(eb.tokens))
    np.testing.assert_array_equal(np.asarray(ea.offsets), np.asarray(eb.offsets))
    assert ea.raw_words == eb.raw_words


@pytest.mark.parametrize("segment", [7, 1000, cache.SEGMENT])
@pytest.mark.parametrize("seed, min_count", [(0, 1), (1, 3), (2, 50)])
def test_on_disk_equals_in_memory(tmp_path, monkeypatch, segment, seed, min_count):
    """Across segment borders (ids mapped 7 at a time), with empty sentences and sentences
    whose every word is cut by min_count."""
    monkeypatch.setattr(cache, "SEGMENT", segment)
    sentences = random_sentences(seed)
    memory = corpus.build(sentences, min_count=min_count)
    disk = corpus.build(sentences, min_count=min_count, cache_dir=tmp_path)
    assert isinstance(disk[1].tokens, np.memmap)
    assert_same(memory, disk)
    f = tmp_path / "c.txt"
    write_corpus(f, sentences)
    assert_same(corpus.build(f, min_count=min_count),
                corpus.build(f, min_count=min_count, cache_dir=tmp_path / "c"))


def test_the_digest_is_the_checkpoint_fingerprint(tmp_path):
    from cw2v import checkpoint

    sentences = random_sentences(3)
    _, memory = corpus.build(sentences, min_count=2)
    _, disk = corpus.build(sentences, min_count=2, cache_dir=tmp_path)
    assert disk.digest is not None and memory.digest is None
    assert checkpoint.fingerprint(disk) == checkpoint.fingerprint(memory)


def test_files_are_reused_without_reading_the_text(tmp_path, monkeypatch, caplog):
    f = tmp_path / "c.txt"
    write_corpus(f, random_sentences(4))
    first = corpus.build(f, min_count=2, cache_dir=tmp_path / "cache")
    entries = [p for p in (tmp_path / "cache").iterdir()]
    assert len(entries) == 1 and (entries[0] / "meta.json").exists()

    def no_reading(*args, **kwargs):
        raise AssertionError("the text was read again")

    monkeypatch.setattr(_reader, "opened", no_reading)
    with caplog.at_level(logging.INFO, logger="cw2v.corpus"):
        again = corpus.build(f, min_count=2, cache_dir=tmp_path / "cache")
    assert "reusing the encoded corpus" in caplog.text
    assert_same(first, again)
    assert again[1].digest == first[1].digest
    # Other settings are another entry (and so read the text).
    with pytest.raises(AssertionError, match="read again"):
        corpus.build(f, min_count=3, cache_dir=tmp_path / "cache")


def test_a_changed_file_is_encoded_again(tmp_path):
    f = tmp_path / "c.txt"
    write_corpus(f, random_sentences(5))
    vocab, _ = corpus.build(f, min_count=1, cache_dir=tmp_path / "cache")
    with open(f, "a") as out:
        out.write("brandnewword " * 3 + "\n")
    vocab2, encoded2 = corpus.build(f, min_count=1, cache_dir=tmp_path / "cache")
    assert "brandnewword" in vocab2.words and "brandnewword" not in vocab.words
    assert_same((vocab2, encoded2), corpus.build(f, min_count=1))
    assert len(list((tmp_path / "cache").iterdir())) == 2


@pytest.mark.parametrize("damage", ["truncate", "meta", "vocab"])
def test_a_damaged_entry_is_never_used(tmp_path, caplog, damage):
    f = tmp_path / "c.txt"
    write_corpus(f, random_sentences(6))
    expected = corpus.build(f, min_count=1)
    corpus.build(f, min_count=1, cache_dir=tmp_path / "cache")
    (entry,) = (tmp_path / "cache").iterdir()
    if damage == "truncate":
        with open(entry / "tokens.i32", "r+b") as t:
            t.truncate(100)
    elif damage == "meta":
        (entry / "meta.json").write_text("{not json")
    else:
        (entry / "vocab.txt").unlink()
    with caplog.at_level(logging.WARNING, logger="cw2v.corpus"):
        again = corpus.build(f, min_count=1, cache_dir=tmp_path / "cache")
    assert "incomplete or damaged; encoding again" in caplog.text
    assert_same(expected, again)


def test_a_full_disk_is_a_clear_error_and_leaves_nothing(tmp_path, monkeypatch):
    def full(self, ids, ends):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cache.SpillBuffer, "append", full)
    with pytest.raises(OSError, match="no space left on the device for the encoded corpus; "
                                      "free space, pass cache_dir=") as err:
        corpus.build(random_sentences(7), cache_dir=tmp_path)
    assert err.value.errno == errno.ENOSPC and err.value.filename == str(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_build_leaves_nothing(tmp_path, monkeypatch):
    def interrupted(self, raw_words, remap):
        raise KeyboardInterrupt

    monkeypatch.setattr(cache.SpillBuffer, "finish", interrupted)
    f = tmp_path / "c.txt"
    write_corpus(f, random_sentences(8))
    with pytest.raises(KeyboardInterrupt):
        corpus.build(f, cache_dir=tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


def test_work_folders_of_dead_processes_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    leftover = tmp_path / f".work-{dead}-abc"
    leftover.mkdir()
    (leftover / "ids.tmp").write_bytes(b"\0" * 64)
    mine = tmp_path / f".work-{os.getpid()}-running"
    mine.mkdir()
    corpus.build(random_sentences(9), cache_dir=tmp_path)
    assert not leftover.exists() and mine.exists()


def test_token_list_corpora_leave_no_entry_behind(tmp_path):
    vocab, encoded = corpus.build(random_sentences(10), cache_dir=tmp_path)
    assert len(list(tmp_path.iterdir())) == 1  # the open corpus's files
    assert np.asarray(encoded.read(0, 5)).shape == (5,)
    del encoded
    import gc

    gc.collect()
    assert list(tmp_path.iterdir()) == []


def test_clear_cache(tmp_path):
    f = tmp_path / "c.txt"
    write_corpus(f, random_sentences(11))
    corpus.build(f, min_count=1, cache_dir=tmp_path / "cache")
    corpus.build(f, min_count=2, cache_dir=tmp_path / "cache")
    assert cache.clear_cache(tmp_path / "cache") == 2
    assert list((tmp_path / "cache").iterdir()) == []
    assert cache.clear_cache(tmp_path / "nowhere") == 0


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("CW2V_CACHE_DIR", str(tmp_path / "a"))
    assert cache.default_cache_dir() == tmp_path / "a"
    monkeypatch.delenv("CW2V_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert cache.default_cache_dir() == tmp_path / "x" / "cw2v"


# -- bounded counting ---------------------------------------------------------------------------

def test_max_vocab_size_bounds_the_table_and_keeps_frequent_counts(monkeypatch):
    """Pieces of 70 tokens: the 10 frequent words 5 times each and 20 new singletons. With the
    table bounded to 30 words, every second piece overflows it and the singletons go (the floor
    rising by one each time); the frequent words, always above the floor, keep exact counts."""
    monkeypatch.setattr(corpus, "BATCH_TOKENS", 70)
    frequent = [f"f{i}" for i in range(10)]
    sentences = [frequent * 5 + [f"r{p}_{i}" for i in range(20)] for p in range(30)]
    sizes = []
    real_prune = corpus._WordTable._prune

    def watch(self):
        real_prune(self)
        sizes.append((len(self.first_seen), self.floor))

    monkeypatch.setattr(corpus._WordTable, "_prune", watch)
    vocab, encoded = corpus.build(sentences, min_count=1, max_vocab_size=30)
    assert len(sizes) == 15 and all(n <= 30 for n, _ in sizes)
    assert [floor for _, floor in sizes] == list(range(1, 16))
    assert set(frequent) <= set(vocab.words)
    assert all(vocab.counts[vocab.words.index(w)] == 150 for w in frequent)
    exact, _ = corpus.build(sentences, min_count=1)
    assert len(exact) == 10 + 30 * 20 and len(vocab) <= 30
    # The encoded corpus holds the frequent words' every occurrence.
    ids = np.asarray(encoded.tokens)
    assert all(np.count_nonzero(ids == vocab.words.index(w)) == 150 for w in frequent)


def test_max_vocab_size_without_pruning_changes_nothing():
    sentences = random_sentences(12)
    assert_same(corpus.build(sentences, min_count=2),
                corpus.build(sentences, min_count=2, max_vocab_size=10**9))


@pytest.mark.parametrize("bad", [0, -5, 2.5, "10"])
def test_bad_max_vocab_size(bad):
    with pytest.raises(ValueError, match="max_vocab_size"):
        corpus.build([["a", "b"]], max_vocab_size=bad)
    with pytest.raises(ValueError, match="max_vocab_size"):
        Word2Vec.from_corpus([["a", "b"]], max_vocab_size=bad)


# -- training from disk ---------------------------------------------------------------------------

def test_training_from_disk_equals_training_in_memory(tmp_path):
    f = tmp_path / "c.txt"
    write_corpus(f, random_sentences(13, n=6000))
    kw = dict(d=16, min_count=2, epochs=2, workers=1, window=3, progress=False)
    on_disk = Word2Vec.from_corpus(f, cache_dir=tmp_path / "cache", **kw)
    in_memory = Word2Vec.from_corpus(f, cache_dir=False, **kw)
    assert np.array_equal(on_disk.W_in, in_memory.W_in)
    assert np.array_equal(on_disk.W_out, in_memory.W_out)
    again = Word2Vec.from_corpus(f, cache_dir=tmp_path / "cache", **kw)  # the reused entry
    assert np.array_equal(again.W_in, in_memory.W_in)


# -- the parallel pass ----------------------------------------------------------------------------

@pytest.fixture
def small_parallel(monkeypatch):
    """Any corpus of files is read in parallel (not only those of 32 MB and more)."""
    from cw2v import _prepare

    monkeypatch.setattr(_prepare, "MIN_BYTES", 1)
    return _prepare


def test_parallel_pass_equals_the_sequential_one(tmp_path, small_parallel):
    """Byte ranges of a plain file (cuts after spaces and after newlines, multi-byte UTF-8,
    CRLF lines, no final newline), a gzip file, the same file twice."""
    import gzip

    rng = np.random.default_rng(14)
    words = ["été", "naïve", "x", "word", "über", "a", "b"] + [f"w{i}" for i in range(300)]
    lines = []
    for _ in range(4000):
        line = " ".join(words[j % len(words)] for j in rng.zipf(1.3, rng.integers(0, 25)))
        lines.append(line + ("\r" if rng.random() < 0.1 else ""))
    plain = tmp_path / "plain.txt"
    plain.write_text("\n".join(lines), encoding="utf-8")  # no final newline
    packed = tmp_path / "packed.txt.gz"
    with gzip.open(packed, "wt", encoding="utf-8") as f:
        f.write("\n".join(lines[:500]) + "\n")
    for source in (plain, [plain, packed, plain], [packed]):
        tasks = small_parallel.plan(source if isinstance(source, list) else [source], 3,
                                    "utf-8")
        assert tasks and len(tasks) >= (3 if source == plain else 1)
        seq = corpus.build(source, min_count=2, cache_dir=tmp_path / "seq")
        par = corpus.build(source, min_count=2, cache_dir=tmp_path / "par", workers=3)
        assert_same(seq, par)
        assert seq[1].digest == par[1].digest
        assert not [p for p in (tmp_path / "par").rglob("part*")]


def test_compressed_files_are_cut_into_segments_as_they_are_decompressed(tmp_path,
                                                                        small_parallel,
                                                                        monkeypatch):
    import lzma

    monkeypatch.setattr(small_parallel, "SEGMENT_BYTES", 40000)
    sentences = random_sentences(16, n=4000)
    packed = tmp_path / "c.txt.xz"
    with lzma.open(packed, "wt") as f:
        f.write("\n".join(" ".join(s) for s in sentences))
    seq = corpus.build(packed, min_count=2, cache_dir=tmp_path / "seq")
    assert small_parallel.plan([packed], 2, "utf-8") is None  # (read beside decompression)
    assert small_parallel.plan([packed], 3, "utf-8") is not None
    par = corpus.build(packed, min_count=2, cache_dir=tmp_path / "par", workers=3)
    assert_same(seq, par)
    assert not [p for p in (tmp_path / "par").rglob("segment*")]
    # A decode error in a segment names the file and the offset in its text.
    bad = tmp_path / "bad.txt.xz"
    with lzma.open(bad, "wb") as f:
        f.write(b"good words here\n" * 2000 + b"bad \xff byte\n" + b"more words\n" * 100)
    with pytest.raises(corpus.CorpusDecodeError) as seq_err:
        corpus.build(bad, cache_dir=tmp_path / "a")
    with pytest.raises(corpus.CorpusDecodeError) as par_err:
        corpus.build(bad, cache_dir=tmp_path / "b", workers=3)
    assert str(par_err.value) == str(seq_err.value)
    # A truncated stream is the sequential pass's CorpusError.
    cut = tmp_path / "cut.txt.xz"
    cut.write_bytes(packed.read_bytes()[:-200])
    with pytest.raises(corpus.CorpusError, match="cut.txt.xz"):
        corpus.build(cut, cache_dir=tmp_path / "c", workers=3)
    assert [p.name for p in (tmp_path / "c").iterdir()] == []


def test_cuts_fall_after_whitespace(tmp_path, small_parallel):
    f = tmp_path / "c.txt"
    f.write_bytes(b"aaaa bbbb\ncccc\tdddd " * 1000)
    tasks = small_parallel.plan([f], 4, "utf-8")
    data = f.read_bytes()
    assert [t.start for t in tasks][0] == 0 and tasks[-1].end == len(data)
    for t in tasks[1:]:
        assert data[t.start - 1:t.start] in (b" ", b"\n", b"\t")
    assert [t.last for t in tasks] == [False] * (len(tasks) - 1) + [True]


def test_the_parallel_pass_reports_decode_errors_as_the_sequential_one(tmp_path,
                                                                     small_parallel):
    f = tmp_path / "bad.txt"
    f.write_bytes(b"good words here\n" * 5000 + b"bad \xff byte\n" + b"more words\n" * 100)
    with pytest.raises(corpus.CorpusDecodeError) as seq:
        corpus.build(f, cache_dir=tmp_path / "a")
    with pytest.raises(corpus.CorpusDecodeError) as par:
        corpus.build(f, cache_dir=tmp_path / "b", workers=2)
    assert str(par.value) == str(seq.value) and par.value.offset == seq.value.offset
    assert [p.name for p in (tmp_path / "b").iterdir()] == []


def test_what_the_parallel_pass_leaves_to_the_sequential_one(tmp_path, small_parallel):
    f = tmp_path / "c.txt"
    write_corpus(f, random_sentences(15))
    assert small_parallel.plan([f], 1, "utf-8") is None           # one worker
    assert small_parallel.plan([f], 2, "latin-1") is None         # another encoding
    assert small_parallel.plan(None, 2, "utf-8") is None          # token lists
    with open(f, "rb") as stream:
        assert small_parallel.plan([stream], 2, "utf-8") is None  # a stream
    assert small_parallel.plan([f], 2, "UTF8") is not None
