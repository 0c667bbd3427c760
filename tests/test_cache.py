"""The encoded corpus on disk (cw2v.cache): equal to the in-memory encoding, reused for unchanged
files and rebuilt for changed ones, never half-written, bounded counting."""
from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import subprocess
import sys
import time
import types

import numpy as np
import pytest

from conftest import assert_same_encoding

from cw2v import Word2Vec, _reader, cache, corpus

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


def random_sentences(seed: int, n: int = 3000) -> list[list[str]]:
    """Zipf words, sentences of 0..30 tokens (empty ones too)."""
    rng = np.random.default_rng(seed)
    return [[f"w{j}" for j in rng.zipf(1.4, rng.integers(0, 30))] for _ in range(n)]


def write_corpus(path, sentences) -> None:
    path.write_text("\n".join(" ".join(s) for s in sentences) + "\n")


def assert_same(a, b) -> None:
    assert_same_encoding(a, b)
    assert a[1].raw_words == b[1].raw_words


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


# -- issue 32: what clear_cache removes, the key, verification, damage, fallback, the bound ------

def one_entry(cache_dir):
    (entry,) = [p for p in cache_dir.iterdir() if cache.is_entry(p)]
    return entry


def test_clear_cache_removes_only_what_it_can_prove_is_cw2v(tmp_path):
    """Folders holding a meta.json, a key-named folder without the marker or with a file of its
    own, a link to an entry, a .work- folder with user files: none goes; the entry does."""
    f = tmp_path / "c.txt"
    write_corpus(f, random_sentences(20))
    cache_dir = tmp_path / "cache"
    corpus.build(f, min_count=1, cache_dir=cache_dir)
    entry = one_entry(cache_dir)
    project = cache_dir / "project"
    project.mkdir()
    (project / "meta.json").write_text('{"format": 2, "tokens": 0}')
    (project / "tokens.i32").write_bytes(b"")
    lookalike = cache_dir / ("ab" * 16)
    lookalike.mkdir()
    for name in ("meta.json", "vocab.txt", "tokens.i32", "offsets.i64"):
        (lookalike / name).write_text("{}")
    mine = cache_dir / ("cd" * 16)
    shutil.copytree(entry, mine)
    (mine / "notes.txt").write_text("my notes")
    (cache_dir / ("ef" * 16)).symlink_to(entry, target_is_directory=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    work_like = cache_dir / f".work-{dead}-thesis"
    work_like.mkdir()
    (work_like / "chapter1.tex").write_text("important")
    assert cache.clear_cache(cache_dir) == 1
    assert not entry.exists()
    for kept in (project / "meta.json", lookalike / "meta.json", mine / "notes.txt",
                 work_like / "chapter1.tex"):
        assert kept.exists(), kept
    # A folder that is not a cw2v cache (its subfolders hold meta.json files): nothing goes.
    home = tmp_path / "home"
    for sub in ("docs", "photos", "0123456789abcdef0123456789abcdef"):
        (home / sub).mkdir(parents=True)
        (home / sub / "meta.json").write_text("{}")
    assert cache.clear_cache(home) == 0
    assert sorted(p.name for p in home.iterdir()) == sorted(
        ["docs", "photos", "0123456789abcdef0123456789abcdef"])


def test_entries_of_the_format_before_markers_are_recognised(tmp_path):
    f = tmp_path / "c.txt"
    write_corpus(f, random_sentences(21))
    corpus.build(f, min_count=1, cache_dir=tmp_path / "cache")
    entry = one_entry(tmp_path / "cache")
    (entry / cache.MARKER).unlink()
    meta = json.loads((entry / "meta.json").read_text())
    (entry / "meta.json").write_text(json.dumps({**meta, "format": 1}))
    assert cache.is_entry(entry)
    assert cache.clear_cache(tmp_path / "cache") == 1 and not entry.exists()


def entries_of_three_files(tmp_path, cache_dir):
    files = []
    for i in range(3):
        f = tmp_path / f"c{i}.txt"
        write_corpus(f, random_sentences(30 + i, n=600))
        corpus.build(f, min_count=1, cache_dir=cache_dir)
        files.append(f)
    return files


def test_least_recently_used_entries_go_beyond_cw2v_cache_max(tmp_path, monkeypatch):
    cache_dir = tmp_path / "cache"
    files = entries_of_three_files(tmp_path, cache_dir)
    entries = {e.sources[0]: e for e in cache.list_entries(cache_dir)}
    assert len(entries) == 3
    # Created in order c0, c1, c2; then c0 reused: c1 is the least recently used.
    for age, f in zip((300, 200, 100), files):
        t = entries[str(f)].last_used - age
        os.utime(entries[str(f)].path / cache.MARKER, (t, t))
    corpus.build(files[0], min_count=1, cache_dir=cache_dir)
    assert [e.sources[0] for e in cache.list_entries(cache_dir)] == [
        str(files[1]), str(files[2]), str(files[0])]
    # A fourth entry with room for three: c1 goes.
    sizes = [e.size for e in cache.list_entries(cache_dir)]
    monkeypatch.setenv("CW2V_CACHE_MAX", str(sum(sizes) + max(sizes) // 2))
    f3 = tmp_path / "c3.txt"
    write_corpus(f3, random_sentences(33, n=600))
    corpus.build(f3, min_count=1, cache_dir=cache_dir)
    assert sorted(e.sources[0] for e in cache.list_entries(cache_dir)) == sorted(
        [str(files[0]), str(files[2]), str(f3)])
    # A bound smaller than one entry keeps the new one alone.
    monkeypatch.setenv("CW2V_CACHE_MAX", "1K")
    vocab, encoded = corpus.build(files[1], min_count=1, cache_dir=cache_dir)
    assert [e.sources[0] for e in cache.list_entries(cache_dir)] == [str(files[1])]
    assert_same((vocab, encoded), corpus.build(files[1], min_count=1))


def test_an_entry_in_use_is_not_evicted_nor_cleared(tmp_path, monkeypatch):
    import gc

    cache_dir = tmp_path / "cache"
    f = tmp_path / "c.txt"
    write_corpus(f, random_sentences(34, n=600))
    _, held = corpus.build(f, min_count=1, cache_dir=cache_dir)
    entry = one_entry(cache_dir)
    monkeypatch.setenv("CW2V_CACHE_MAX", "1")
    g = tmp_path / "d.txt"
    write_corpus(g, random_sentences(35, n=600))
    corpus.build(g, min_count=1, cache_dir=cache_dir)
    assert entry.exists()
    assert cache.clear_cache(cache_dir) == 1 and entry.exists()  # d.txt's went
    assert np.asarray(held.read(0, 10)).shape == (10,)
    del held
    gc.collect()
    assert cache.clear_cache(cache_dir) == 1 and not entry.exists()


@pytest.mark.parametrize("text, size", [("500", 500), ("2K", 2048), ("10G", 10 << 30),
                                        ("1.5M", 3 << 19), ("3mib", 3 << 20),
                                        ("unlimited", None), (" 7 KB ", 7 << 10)])
def test_parse_size(text, size):
    assert cache.parse_size(text) == size


def test_a_malformed_cw2v_cache_max_is_an_error_before_the_pass(tmp_path, monkeypatch):
    monkeypatch.setenv("CW2V_CACHE_MAX", "lots")
    monkeypatch.setattr(corpus, "_count_and_encode", None)  # (never reached)
    with pytest.raises(ValueError, match="CW2V_CACHE_MAX: 'lots' is not a size"):
        corpus.build(random_sentences(36), cache_dir=tmp_path)


def test_the_cache_command(tmp_path, monkeypatch, capsys):
    """Relative --dir, from the folder above the corpus, as a user types it."""
    from cw2v import cli

    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    write_corpus(tmp_path / "data" / "c.txt", random_sentences(37, n=600))
    assert cli.main(["train", "data/c.txt", "-o", "data/v.txt", "--d", "8", "--epochs", "1",
                     "--min-count", "1", "--cache-dir", "data/cache", "-q"]) == 0
    (tmp_path / "data" / "cache" / "unrelated").mkdir()
    capsys.readouterr()
    assert cli.main(["cache", "list", "--dir", "data/cache"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and out[0].endswith(str(tmp_path / "data" / "c.txt"))
    assert out[1].startswith("1 entry, ") and "limit 10.0G" in out[1]
    assert cli.main(["cache", "clear", "--dir", "data/cache"]) == 0
    assert capsys.readouterr().out.startswith("removed 1 encoded corpus entry from data/cache")
    assert [p.name for p in (tmp_path / "data" / "cache").iterdir()] == ["unrelated"]
    monkeypatch.setenv("CW2V_CACHE_DIR", "data/cache")  # the default folder
    assert cli.main(["cache", "list"]) == 0
    assert capsys.readouterr().out.startswith("0 entries, 0B in data/cache")
    monkeypatch.setenv("CW2V_CACHE_MAX", "-3G")
    assert cli.main(["cache", "list"]) == 1
    assert capsys.readouterr().err == ("cw2v: error: CW2V_CACHE_MAX: '-3G' is not a size (such "
                                       "as 500M, 10G, or unlimited)\n")


def test_the_key_holds_size_mtime_inode_and_ctime(tmp_path, monkeypatch):
    """Each of the four figures alone changes the key (no edit changes only one of them: a
    changed mtime changes the ctime as well)."""
    f = tmp_path / "c.txt"
    f.write_text("a b c\n")
    key = cache.source_key([f], {})
    real_stat = os.stat
    real = real_stat(f)
    for field in ("st_size", "st_mtime_ns", "st_ino", "st_ctime_ns"):
        fake = types.SimpleNamespace(st_mode=real.st_mode, st_size=real.st_size,
                                     st_mtime_ns=real.st_mtime_ns,
                                     st_ino=real.st_ino, st_ctime_ns=real.st_ctime_ns)
        setattr(fake, field, getattr(real, field) + 1)
        with monkeypatch.context() as m:
            m.setattr(os, "stat", lambda p, *a, fake=fake, **k:
                      fake if os.fspath(p) == str(f) else real_stat(p, *a, **k))
            assert cache.source_key([f], {}) != key, field
    assert cache.source_key([f], {}) == key


def test_a_same_size_rewrite_gives_the_new_words_and_a_second_entry(tmp_path):
    f = tmp_path / "c.txt"
    f.write_text("alpha beta gamma\n" * 50)
    vocab, _ = corpus.build(f, min_count=1, cache_dir=tmp_path / "cache")
    time.sleep(0.01)
    f.write_text("delta kapp omega\n" * 50)  # the same size, another mtime
    vocab2, encoded2 = corpus.build(f, min_count=1, cache_dir=tmp_path / "cache")
    assert sorted(vocab2.words) == ["delta", "kapp", "omega"]
    assert_same((vocab2, encoded2), corpus.build(f, min_count=1))
    assert len(cache.list_entries(tmp_path / "cache")) == 2


@pytest.mark.parametrize("how", ["in place", "replaced"])
def test_an_edit_with_the_mtime_restored_gives_the_new_words(tmp_path, how):
    """``touch -r``: the same size and mtime; an edit in place changes the ctime, a file moved
    over it (an editor's save) the inode too."""
    f = tmp_path / "c.txt"
    f.write_text("alpha beta gamma\n" * 50)
    corpus.build(f, min_count=1, cache_dir=tmp_path / "cache")
    st = os.stat(f)
    time.sleep(0.01)
    if how == "in place":
        with open(f, "r+") as out:
            out.write("delta kapp omega\n" * 50)
    else:
        (tmp_path / "new.txt").write_text("delta kapp omega\n" * 50)
        os.replace(tmp_path / "new.txt", f)
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.stat(f).st_mtime_ns == st.st_mtime_ns and os.stat(f).st_size == st.st_size
    vocab, _ = corpus.build(f, min_count=1, cache_dir=tmp_path / "cache")
    assert sorted(vocab.words) == ["delta", "kapp", "omega"]


def damage_entry(entry, damage):
    if damage == "ids in range":  # another corpus's ids, all in the vocabulary
        ids = np.fromfile(entry / "tokens.i32", dtype="<i4")
        ids[::-1].tofile(entry / "tokens.i32")
    elif damage == "ids out of range":
        ids = np.fromfile(entry / "tokens.i32", dtype="<i4")
        ids[5] = 10**6
        ids.tofile(entry / "tokens.i32")
    elif damage == "vocab cut in a line":
        text = (entry / "vocab.txt").read_bytes()
        (entry / "vocab.txt").write_bytes(text[:len(text) // 2 - 1 - text[len(text) // 2 - 1:]
                                                .index(b"\t") - 2] + b"\tx")
    elif damage == "vocab cut after a tab":
        text = (entry / "vocab.txt").read_bytes()
        (entry / "vocab.txt").write_bytes(text[:text.index(b"\t", len(text) // 2) + 1])
    elif damage == "vocab's last count cut":  # "word\t12\n" -> "word\t1"
        text = (entry / "vocab.txt").read_bytes()
        assert text[-3:-1].isdigit()
        (entry / "vocab.txt").write_bytes(text[:-2])
    elif damage == "vocab lines dropped":
        lines = (entry / "vocab.txt").read_text().splitlines(keepends=True)
        (entry / "vocab.txt").write_text("".join(lines[:len(lines) // 2]))
    elif damage == "offsets":
        offsets = np.fromfile(entry / "offsets.i64", dtype="<i8")
        offsets[[3, 4]] = offsets[[4, 3]]
        offsets.tofile(entry / "offsets.i64")
    elif damage == "marker":
        (entry / cache.MARKER).unlink()


@pytest.mark.parametrize("damage", ["ids in range", "ids out of range", "vocab cut in a line",
                                    "vocab cut after a tab", "vocab's last count cut",
                                    "vocab lines dropped", "offsets", "marker"])
def test_a_damaged_entry_is_rebuilt_with_a_warning_naming_it(tmp_path, caplog, damage):
    f = tmp_path / "c.txt"
    write_corpus(f, random_sentences(40, n=500))
    min_count = 10 if damage == "vocab's last count cut" else 1  # (every count of 2 digits)
    expected = corpus.build(f, min_count=min_count)
    corpus.build(f, min_count=min_count, cache_dir=tmp_path / "cache")
    entry = one_entry(tmp_path / "cache")
    damage_entry(entry, damage)
    with caplog.at_level(logging.WARNING, logger="cw2v.corpus"):
        again = corpus.build(f, min_count=min_count, cache_dir=tmp_path / "cache")
    assert f"the encoded corpus {entry} is incomplete or damaged; encoding again" in caplog.text
    assert_same(expected, again)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="cw2v.corpus"):  # the rebuilt entry is reused
        assert_same(expected, corpus.build(f, min_count=min_count,
                                           cache_dir=tmp_path / "cache"))
    assert "reusing the encoded corpus" in caplog.text and "encoding again" not in caplog.text


def test_training_on_a_damaged_entry_rebuilds_it(tmp_path, caplog):
    f = tmp_path / "c.txt"
    write_corpus(f, random_sentences(41, n=2000))
    kw = dict(d=8, min_count=2, epochs=1, workers=1, progress=False)
    in_memory = Word2Vec.from_corpus(f, cache_dir=False, **kw)
    Word2Vec.from_corpus(f, cache_dir=tmp_path / "cache", **kw)
    damage_entry(one_entry(tmp_path / "cache"), "ids out of range")
    with caplog.at_level(logging.WARNING, logger="cw2v.corpus"):
        again = Word2Vec.from_corpus(f, cache_dir=tmp_path / "cache", **kw)
    assert "damaged; encoding again" in caplog.text
    assert np.array_equal(again.W_in, in_memory.W_in)


@pytest.mark.parametrize("unwritable", ["home", "cache folder"])
def test_an_unwritable_cache_falls_back_to_a_temporary_folder(tmp_path, monkeypatch, caplog,
                                                              unwritable):
    """(As root no folder is read-only: a path through a regular file cannot be created.)"""
    import gc

    monkeypatch.delenv("CW2V_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    (tmp_path / "file").write_text("not a folder")
    if unwritable == "home":
        monkeypatch.setenv("HOME", str(tmp_path / "file" / "home"))
        cache_dir = None  # the default folder
    else:
        cache_dir = tmp_path / "file"
    monkeypatch.setattr(cache.tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    f = tmp_path / "c.txt"
    write_corpus(f, random_sentences(42, n=2000))
    kw = dict(d=8, min_count=2, epochs=1, workers=1, progress=False)
    with caplog.at_level(logging.WARNING, logger="cw2v.cache"):
        model = Word2Vec.from_corpus(f, cache_dir=cache_dir, **kw)
    assert "cannot write the corpus cache folder" in caplog.text
    assert "not kept for the next run" in caplog.text
    assert np.array_equal(model.W_in, Word2Vec.from_corpus(f, cache_dir=False, **kw).W_in)
    gc.collect()
    assert list((tmp_path / "tmp").iterdir()) == []
