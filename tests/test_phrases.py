"""cw2v.phrases: word2phrase's rule (Mikolov et al. 2013, section 4) on hand-made corpora, against
a plain-Python reference and gensim's Phrases, chunk borders, pruning, saving, the transforms and
the ``cw2v phrases`` command."""
from __future__ import annotations

import gzip
import lzma
import math
import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from conftest import shared_file
from test_cli import assert_one_line_error, run_cli

import cw2v.io
from cw2v import phrases as ph
from cw2v.phrases import ENGLISH_CONNECTOR_WORDS, FrozenPhrases, Phrases

# -- a plain-Python reference of the rule ----------------------------------------------------------

def reference_phrases(sentences, min_count=5, threshold=100.0, connectors=(), scoring="default"):
    """{(a, c..., b): score} by the issue's rule, counted the obvious way."""
    unigrams, grams, total = Counter(), Counter(), 0
    for sentence in sentences:
        start, between = None, []
        for w in sentence:
            total += 1
            if w in connectors:
                if start is not None:
                    between.append(w)
                continue
            unigrams[w] += 1
            if start is not None:
                grams[(start, *between, w)] += 1
            start, between = w, []
    found = {}
    for gram, count in grams.items():
        ca, cb = unigrams[gram[0]], unigrams[gram[-1]]
        if count < min_count or ca < min_count or cb < min_count:
            continue
        if scoring == "default":
            score = (count - min_count) / ca / cb * total
        else:
            pab, pa, pb = count / total, ca / total, cb / total
            score = math.log(pab / (pa * pb)) / -math.log(pab)
        if score > threshold:
            found[gram] = score
    return found


def reference_apply(sentence, found, connectors=(), delimiter="_"):
    """Greedy left-to-right joining (gensim's analyze_sentence)."""
    out, start, between = [], None, []
    for w in sentence:
        if w in connectors:
            if start is not None:
                between.append(w)
            else:
                out.append(w)
            continue
        if start is not None:
            gram = (start, *between, w)
            if gram in found:
                out.append(delimiter.join(gram))
                start, between = None, []
                continue
            out.append(start)
            out.extend(between)
        start, between = w, []
    if start is not None:
        out.append(start)
        out.extend(between)
    return out


def as_dict(found, delimiter="_"):
    return {delimiter.join(g): s for g, s in found.items()}


def write_lines(path, sentences):
    path.write_text("".join(" ".join(s) + "\n" for s in sentences), encoding="utf-8")
    return path


def random_corpus(seed, n_sentences=300, vocab=12, connectors=("of", "the")):
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(vocab)] + list(connectors)
    weights = [1.0 / (i + 1) for i in range(len(words))]
    sentences = []
    for _ in range(n_sentences):
        n = rng.randint(0, 12)
        s = rng.choices(words, weights, k=n)
        if rng.random() < 0.3:
            s[rng.randint(0, len(s)):rng.randint(0, len(s))] = ["new", "york"]
        sentences.append(s)
    return sentences


# -- the rule on hand-made corpora ----------------------------------------------------------------

NEW_YORK = [["i", "saw", "new", "york"], ["new", "york", "is", "big"], ["the", "new", "york"],
            ["york", "new"]] * 5


def test_counts_and_score_by_the_formula():
    model = Phrases(NEW_YORK, min_count=2, threshold=1)
    assert model.total_words == 13 * 5
    assert model.word_count("new") == 20 and model.word_count("york") == 20
    assert model.bigram_count("new", "york") == 15
    assert model.bigram_count("york", "new") == 5
    found = model.export_phrases()
    assert found["new_york"] == pytest.approx((15 - 2) / 20 / 20 * 65)
    assert found == pytest.approx(as_dict(reference_phrases(NEW_YORK, 2, 1)))


def test_a_bigram_never_spans_a_sentence_break(tmp_path):
    sentences = [["x", "a"], ["b", "y"]] * 10
    for corpus in (sentences, write_lines(tmp_path / "c.txt", sentences)):
        model = Phrases(corpus, min_count=1, threshold=1e-9)
        assert model.bigram_count("a", "b") == 0
        assert model.bigram_count("x", "a") == 10
        assert "a_b" not in model.export_phrases()
    # a file's end ends a sentence too
    (tmp_path / "1.txt").write_text("x a")
    (tmp_path / "2.txt").write_text("b y")
    model = Phrases([tmp_path / "1.txt", tmp_path / "2.txt"], min_count=1, threshold=1e-9)
    assert model.bigram_count("a", "b") == 0


def test_joining_is_greedy_left_to_right():
    sentences = [["a", "b", "c"]] * 10
    frozen = Phrases(sentences, min_count=1, threshold=1).freeze()
    assert set(frozen.export_phrases()) == {"a_b", "b_c"}
    assert frozen[["a", "b", "c"]] == ["a_b", "c"]
    assert frozen[["b", "c", "a", "b"]] == ["b_c", "a_b"]
    assert frozen[["a", "b", "b", "c"]] == ["a_b", "b_c"]


def test_the_threshold_is_strict():
    model = Phrases(NEW_YORK, min_count=2, threshold=1)
    score = model.export_phrases()["new_york"]
    at = Phrases(NEW_YORK, min_count=2, threshold=score)
    assert "new_york" not in at.export_phrases()
    below = Phrases(NEW_YORK, min_count=2, threshold=np.nextafter(score, 0))
    assert "new_york" in below.export_phrases()


def test_min_count_applies_to_a_b_and_ab():
    # ab counted 3 times; a counted 3, b counted 3 (+ extra to vary)
    base = [["a", "b"]] * 3
    assert "a_b" in Phrases(base, min_count=2, threshold=1e-9).export_phrases()
    # the bigram below min_count: (count - min_count) would be <= 0 anyway; use npmi to see it
    npmi = {"scoring": "npmi", "threshold": -1.0}
    assert "a_b" in Phrases(base + [["x"]] * 20, min_count=3, **npmi).export_phrases()
    assert "a_b" not in Phrases(base + [["x"]] * 20, min_count=4, **npmi).export_phrases()
    # a below min_count while ab reaches it is impossible (count(a) >= count(ab)); b and a are
    # each checked: with connector words a candidate's ends are counted alone
    rare_end = [["a", "of", "b"]] * 3 + [["a"]] * 5
    found = Phrases(rare_end, min_count=3, connector_words=["of"], **npmi).export_phrases()
    assert "a_of_b" in found
    found = Phrases(rare_end, min_count=4, connector_words=["of"], **npmi).export_phrases()
    assert "a_of_b" not in found


def test_connector_words_sit_inside_but_never_start_or_end():
    sentences = [["the", "bank", "of", "america", "of", "the", "end"]] * 10
    model = Phrases(sentences, min_count=1, threshold=1e-9, connector_words=["of", "the"])
    found = model.export_phrases()
    assert "bank_of_america" in found
    assert not any(p.startswith(("of_", "the_")) or p.endswith(("_of", "_the")) for p in found)
    assert model.word_count("of") == 0  # a connector word's own count is not kept
    frozen = model.freeze()
    assert frozen[sentences[0]] == ["the", "bank_of_america", "of", "the", "end"]
    assert found == pytest.approx(as_dict(reference_phrases(
        sentences, 1, 1e-9, connectors={"of", "the"})))


def test_a_second_pass_makes_trigrams(tmp_path):
    # N = 160: new_york (20 - 2) / 20 / 20 * 160 = 7.2, york_city (20 - 2) / 20 / 120 * 160 = 1.2;
    # then N = 140 tokens, new_york one of them
    sentences = [["new", "york", "city"]] * 20 + [["city"]] * 100
    corpus = write_lines(tmp_path / "c.txt", sentences)
    bigrams = Phrases(corpus, min_count=2, threshold=3).freeze()
    assert set(bigrams.export_phrases()) == {"new_york"}
    trigrams = Phrases(bigrams.stream(corpus), min_count=2, threshold=1).freeze()
    assert trigrams.export_phrases() == pytest.approx({"new_york_city": 18 / 20 / 120 * 140})
    # the two passes as Word2Vec.from_corpus(phrases=[bigrams, trigrams]) applies them
    text = b"".join(ph.transform_corpus(corpus, [bigrams, trigrams])).decode()
    assert text.splitlines()[0] == "new_york_city"
    out = tmp_path / "out.txt"
    trigrams.apply_file(bigrams.stream(corpus), out)
    assert out.read_text() == text


# -- against the reference: random corpora, chunk borders ------------------------------------------

@pytest.mark.parametrize("seed", range(6))
def test_matches_the_reference_on_random_corpora(seed, tmp_path, monkeypatch):
    sentences = random_corpus(seed)
    connectors = ("of", "the") if seed % 2 else ()
    settings = {"min_count": 2, "threshold": 0.5 + seed, "connector_words": connectors}
    expected = as_dict(reference_phrases(sentences, 2, 0.5 + seed, connectors=connectors))
    assert Phrases(sentences, **settings).export_phrases() == pytest.approx(expected)
    # files read in chunks of a few bytes: candidates and words cut by every chunk border
    corpus = write_lines(tmp_path / "c.txt", sentences)
    monkeypatch.setattr(ph, "CHUNK_SIZE", 3 + seed)
    model = Phrases(corpus, **settings)
    assert model.export_phrases() == pytest.approx(expected)
    frozen = model.freeze()
    found = {tuple(p.split("_")) for p in expected}
    want = [reference_apply(s, found, connectors) for s in sentences]
    assert list(frozen.apply(sentences)) == want
    text = b"".join(frozen.stream(corpus)).decode()
    assert [line.split() for line in text.split("\n")[:-1]] == want


@pytest.mark.parametrize("seed, n_words, connectors",
                         [(0, 2000, ()), (1, 150_000, ()), (2, 2000, ("of",))])
def test_every_count_survives_the_tables_growth(seed, n_words, connectors):
    """A table grows by doubling in place (past 2 MiB: a mapping grown by mremap), clusters that
    wrap past its end included: after ~240k distinct n-grams (n-gram slots 1024 -> 512k) and
    up to ~130k distinct words (word slots 1024 -> 256k), every word and n-gram holds the count
    a Counter gives, and no other n-gram is there. (Walking the old slots from 0 instead of
    setting the wrapped cluster aside loses 1-3 n-grams a run.)"""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(n_words)] + list(connectors)
    sentences = [[words[j] for j in rng.integers(0, len(words), 100)] for _ in range(2500)]
    found = reference_ngrams(sentences, connectors)
    model = Phrases(sentences, min_count=1, threshold=1e9, connector_words=connectors)
    assert model.n_bigrams == len(found) > 150_000
    assert all(model.bigram_count(*gram) == count for gram, count in found.items())
    unigrams = Counter(w for s in sentences for w in s if w not in connectors)
    assert model.n_words == len(unigrams) + len(connectors)
    assert all(model.word_count(w) == c for w, c in unigrams.items())


def reference_ngrams(sentences, connectors=()):
    """Counter of (a, c..., b): the n-grams the rule counts (see reference_phrases)."""
    grams = Counter()
    for sentence in sentences:
        start, between = None, []
        for w in sentence:
            if w in connectors:
                if start is not None:
                    between.append(w)
                continue
            if start is not None:
                grams[(start, *between, w)] += 1
            start, between = w, []
    return grams


def test_npmi_matches_the_reference():
    sentences = random_corpus(7)
    got = Phrases(sentences, min_count=3, threshold=0.1, scoring="npmi").export_phrases()
    want = as_dict(reference_phrases(sentences, 3, 0.1, scoring="npmi"))
    assert got == pytest.approx(want) and got


# -- against gensim ---------------------------------------------------------------------------------

def paper_scorer(worda_count, wordb_count, bigram_count, len_vocab, min_count, corpus_word_count):
    """The paper's score for gensim: the corpus length where gensim's default has len(vocab)."""
    return (bigram_count - min_count) / worda_count / wordb_count * corpus_word_count


def gensim_phrases(sentences, **kwargs):
    gensim_phrases_mod = pytest.importorskip("gensim.models.phrases")
    return gensim_phrases_mod.Phrases(sentences, **kwargs)


@pytest.mark.parametrize("connectors", [(), ENGLISH_CONNECTOR_WORDS], ids=["plain", "connectors"])
def test_equals_gensim_with_the_same_formula_synthetic(connectors):
    sentences = random_corpus(11, n_sentences=2000, vocab=30, connectors=("of", "the", "and"))
    g = gensim_phrases(sentences, min_count=3, threshold=2.0, scoring=paper_scorer,
                       connector_words=connectors)
    ours = Phrases(sentences, min_count=3, threshold=2.0, connector_words=connectors)
    assert ours.export_phrases() == pytest.approx(g.export_phrases())
    frozen, gfrozen = ours.freeze(), g.freeze()
    assert list(frozen.apply(sentences)) == [gfrozen[s] for s in sentences]


def test_equals_gensim_on_wiki8_1m():
    path = shared_file("corpus/wiki8-1m.txt.xz")
    with lzma.open(path, "rt", encoding="utf-8") as f:
        words = f.read().split()[:300_000]
    sentences = [words[i:i + 1000] for i in range(0, len(words), 1000)]
    g = gensim_phrases(sentences, min_count=5, threshold=100, scoring=paper_scorer)
    ours = Phrases(sentences, min_count=5, threshold=100)
    found = ours.export_phrases()
    assert len(found) > 100
    assert found == pytest.approx(g.export_phrases())
    gfrozen = g.freeze()
    assert list(ours.freeze().apply(sentences[:50])) == [gfrozen[s] for s in sentences[:50]]


# -- bounded memory ----------------------------------------------------------------------------------

def test_pruning_keeps_the_bound_with_word2phrases_rule():
    sentences = random_corpus(3, n_sentences=3000, vocab=400)
    unbounded = Phrases(sentences, min_count=2, threshold=1, max_vocab_size=None)
    entries = unbounded.n_words + unbounded.n_bigrams
    bound = entries // 4
    bounded = Phrases(sentences, min_count=2, threshold=1, max_vocab_size=bound)
    assert bounded.n_words + bounded.n_bigrams <= bound
    assert bounded.prune_floor > 1 and bounded._table.prunes >= 1
    # counts after pruning are lower bounds; what survives is frequent
    assert bounded.word_count("w0") <= unbounded.word_count("w0")
    assert bounded.word_count("w0") > 0
    assert set(bounded.export_phrases()) <= set(unbounded.export_phrases()) | set(
        bounded.export_phrases())


# -- bad input -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, fragment", [
    ({"threshold": 0}, "threshold"),
    ({"threshold": -5}, "threshold"),
    ({"threshold": float("nan")}, "threshold"),
    ({"scoring": "npmi", "threshold": 1.5}, "threshold"),
    ({"scoring": "npmi", "threshold": -1.01}, "threshold"),
    ({"min_count": 0}, "min_count"),
    ({"min_count": 2.5}, "min_count"),
    ({"scoring": "pmi"}, "scoring"),
    ({"delimiter": ""}, "delimiter"),
    ({"delimiter": "a b"}, "delimiter"),
    ({"max_vocab_size": 0}, "max_vocab_size"),
    ({"max_vocab_size": 2**70}, "max_vocab_size"),
    ({"connector_words": ["of the"]}, "connector_words"),
])
def test_bad_parameters_fail_before_reading(kwargs, fragment):
    def never():
        raise AssertionError("the corpus was read")
        yield

    with pytest.raises(ValueError, match=fragment):
        Phrases(never(), **kwargs)


def test_npmi_accepts_its_bounds():
    Phrases(None, scoring="npmi", threshold=-1)
    Phrases(None, scoring="npmi", threshold=1)


def test_empty_corpus(tmp_path):
    (tmp_path / "empty.txt").write_text(" \n\n ")
    for corpus in ([], [[], []], tmp_path / "empty.txt"):
        with pytest.raises(ValueError, match="empty"):
            Phrases(corpus)


def test_missing_file_and_bare_strings(tmp_path):
    with pytest.raises(FileNotFoundError):
        Phrases(tmp_path / "nope.txt")
    with pytest.raises(TypeError, match="bare str"):
        Phrases(["new york", "is big"] * 3 + [["x"]])


# -- saving, applying to files, training -----------------------------------------------------------

def test_save_load_round_trip(tmp_path):
    sentences = random_corpus(5, n_sentences=500)
    model = Phrases(sentences, min_count=2, threshold=1, connector_words=["of", "the"])
    model.save(tmp_path / "m.cw2v")
    again = Phrases.load(tmp_path / "m.cw2v")
    assert again.export_phrases() == model.export_phrases()
    assert (again.total_words, again.n_words, again.n_bigrams) == (
        model.total_words, model.n_words, model.n_bigrams)
    assert again.connector_words == model.connector_words
    frozen = model.freeze()
    frozen.save(tmp_path / "f.cw2v")
    thawed = FrozenPhrases.load(tmp_path / "f.cw2v")
    assert thawed.export_phrases() == frozen.export_phrases()
    assert list(thawed.apply(sentences)) == list(frozen.apply(sentences))
    assert FrozenPhrases.load(tmp_path / "m.cw2v").export_phrases() == frozen.export_phrases()
    with pytest.raises(ValueError, match="cw2v-phrases"):
        Phrases.load(tmp_path / "f.cw2v")
    # learning goes on after loading
    again.learn(sentences)
    assert again.total_words == 2 * model.total_words


def test_write_phrases_lines(tmp_path):
    frozen = Phrases(NEW_YORK, min_count=2, threshold=1).freeze()
    frozen.write_phrases(tmp_path / "p.txt")
    lines = (tmp_path / "p.txt").read_text().splitlines()
    parsed = {line.split()[0]: float(line.split()[1]) for line in lines}
    assert parsed == frozen.export_phrases()
    assert [float(x.split()[1]) for x in lines] == sorted(parsed.values(), reverse=True)


def test_apply_file_is_atomic_and_compresses(tmp_path):
    sentences = random_corpus(2)
    corpus = write_lines(tmp_path / "c.txt", sentences)
    frozen = Phrases(corpus, min_count=2, threshold=1).freeze()
    out = tmp_path / "out.txt.gz"
    frozen.apply_file(corpus, out)
    with gzip.open(out, "rt") as f:
        lines = f.read().split("\n")[:-1]
    assert [line.split() for line in lines] == list(frozen.apply(sentences))
    # a failure midway leaves the old file as it was, and no temporary file
    target = tmp_path / "keep.txt"
    target.write_text("old")

    def broken():
        yield ["a", "b"]
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        frozen.apply_file(broken(), target)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.txt", "keep.txt", "out.txt.gz"]


def test_folder_corpus(tmp_path):
    (tmp_path / "d").mkdir()
    write_lines(tmp_path / "d" / "1.txt", NEW_YORK[:10])
    write_lines(tmp_path / "d" / "2.txt", NEW_YORK[10:])
    assert Phrases(tmp_path / "d", min_count=2, threshold=1).export_phrases() == \
        Phrases(NEW_YORK, min_count=2, threshold=1).export_phrases()


def test_from_corpus_trains_on_phrases(tmp_path):
    from cw2v import Word2Vec

    sentences = NEW_YORK * 4
    corpus = write_lines(tmp_path / "c.txt", sentences)
    bigrams = Phrases(corpus, min_count=2, threshold=1)
    for source in (corpus, sentences):
        model = Word2Vec.from_corpus(source, phrases=bigrams.freeze(), d=8, epochs=1,
                                     min_count=1, workers=1)
        assert "new_york" in model.w2i and "new" in model.w2i
    with pytest.raises(TypeError, match="phrases"):
        Word2Vec.from_corpus(corpus, phrases="new_york", d=8, epochs=1, min_count=1)


# -- the command line --------------------------------------------------------------------------------

def test_cli_word2phrase_flags_and_two_passes(tmp_path):
    corpus = write_lines(tmp_path / "c.txt", [["in", "new", "york", "city", "now"]] * 30
                         + [["new", "x"], ["y", "york"], ["city", "z"]] * 3)
    result = run_cli("phrases", "-train", "c.txt", "-output", "p0.txt", "-threshold", 2,
                     "-min-count", 2, "-debug", 2, "--export", "e.txt", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "p0.txt").read_text().splitlines()[0] == "in_new york_city now"
    assert "in_new" in (tmp_path / "e.txt").read_text()
    result = run_cli("phrases", "p0.txt", "-o", "p1.txt", "--threshold", 2, "--min-count", 2,
                     "-q", cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == ""
    assert (tmp_path / "p1.txt").read_text().splitlines()[0] == "in_new_york_city now"
    # `cw2v -train` stays word2vec.c's training, not phrases
    assert corpus.exists()


@pytest.mark.parametrize("args, fragment", [
    (("phrases", "c.txt", "-o", "o.txt", "-threshold", "0"), "threshold"),
    (("phrases", "c.txt", "-o", "o.txt", "--scoring", "npmi", "--threshold", "2"), "[-1, 1]"),
    (("phrases", "missing.txt", "-o", "o.txt"), "missing.txt"),
    (("phrases", "c.txt"), "no output"),
    (("phrases", "-train"), "-train needs a value"),
    (("phrases", "empty.txt", "-o", "o.txt"), "empty"),
    (("phrases", "c.txt", "-o", "nodir/o.txt"), "does not exist"),
])
def test_cli_one_line_errors(tmp_path, args, fragment):
    write_lines(tmp_path / "c.txt", NEW_YORK)
    (tmp_path / "empty.txt").write_text("")
    assert_one_line_error(run_cli(*args, cwd=tmp_path), fragment)
    assert not (tmp_path / "o.txt").exists()


def test_tokens_must_be_str():
    with pytest.raises(TypeError, match="tokens must be str, got bytes"):
        Phrases([[b"new", b"york"]])


def test_a_fifo_corpus_is_read_whole(fifo):
    text = "".join(" ".join(s) + "\n" for s in NEW_YORK).encode()
    model = Phrases(fifo(text, first=7), min_count=2, threshold=1)
    assert model.export_phrases() == Phrases(NEW_YORK, min_count=2, threshold=1).export_phrases()


# -- the clean-text path of applying ----------------------------------------------------------------

@pytest.mark.parametrize("seed", range(8))
def test_clean_and_general_apply_write_the_same_bytes(seed, tmp_path, monkeypatch):
    # Text whose words are separated by one space and lines by "\n" only is joined by copying
    # it and patching the phrases' spaces (one-byte delimiters); anything else, and longer
    # delimiters, by the general loop. A two-byte delimiter written back as "_" must give the
    # same bytes, on clean text and on text with irregular whitespace, at every chunk size.
    rng = random.Random(seed)
    sentences = random_corpus(seed)
    connectors = ("of", "the") if seed % 2 else ()
    settings = {"min_count": 2, "threshold": 0.5, "connector_words": connectors}
    one = Phrases(sentences, **settings).freeze()
    two = Phrases(sentences, delimiter="#$", **settings).freeze()
    clean = "\n".join(" ".join(s) for s in sentences)
    messy = "".join(c if c != " " or rng.random() < 0.8 else rng.choice(["  ", "\t", " \r", "\n "])
                    for c in clean)
    for text in (clean, clean + "\n", "\n\n" + clean, messy, " " + messy + " "):
        path = tmp_path / "c.txt"
        path.write_text(text)
        monkeypatch.setattr(ph, "CHUNK_SIZE", rng.choice([1, 2, 5, 17, 1 << 20]))
        fast = b"".join(one.stream(path))
        general = b"".join(two.stream(path)).replace(b"#$", b"_")
        assert fast == general
        lines = [line.split() for line in text.split("\n")]
        if not lines[-1]:
            lines.pop()  # a last line with no words is not written
        found = {tuple(p.split("_")) for p in one.export_phrases()}
        assert fast.decode().split("\n")[:-1] == [
            " ".join(reference_apply(s, found, connectors)) for s in lines]


def test_membership_filters_never_hide_an_entry():
    # A frozen table answers most lookups of absent words and n-grams from a bit per hash
    # (build_filters). Entries added after the filters were built set their bits: every entry
    # is still found with its value (and every bigram joined), and absent ones are not.
    from cw2v._text import PhraseTable

    rng = np.random.default_rng(0)
    words = [f"w{i}".encode() * (1 + i % 6) for i in range(6000)]  # 2 to 36 bytes
    grams = {tuple(int(x) for x in rng.integers(0, len(words), n)): k + 1
             for k, n in enumerate(rng.integers(2, 5, 20_000))}
    table = PhraseTable()

    def add(ws, gs):
        blob = b"".join(ws)
        offsets = np.cumsum([0] + [len(w) for w in ws]).astype(np.int64)
        table.add_words(np.frombuffer(blob, np.uint8), offsets, np.arange(1, len(ws) + 1))
        ids = np.array([i for g in gs for i in g], dtype=np.int32)
        goff = np.cumsum([0] + [len(g) for g in gs]).astype(np.int64)
        table.add_ngrams(ids, goff, np.array([grams[g] for g in gs], dtype=np.int64))

    first = [g for g in list(grams)[:10_000] if max(g) < 3000]
    add(words[:3000], first)
    table.build_filters()
    first = set(first)
    add(words[3000:], [g for g in grams if g not in first])
    assert table.n_words == len(words) and table.n_ngrams == len(grams)
    assert all(table.word_id(w) == i for i, w in enumerate(words))
    assert all(table.word_id(b"x" + w) == -1 for w in words)
    assert all(table.ngram_value(np.array(g, dtype=np.int32)) == v for g, v in grams.items())
    absent = [tuple(int(x) for x in rng.integers(0, len(words), 2)) for _ in range(20_000)]
    assert all(table.ngram_value(np.array(g, dtype=np.int32)) == 0
               for g in absent if g not in grams)
    # applying checks a pair of adjacent words in a filter of the bigrams' word hashes before
    # looking either word up: a line per bigram is joined exactly when it is in the table
    pairs = [g for g in grams if len(g) == 2] + absent
    text = b"".join(words[a] + b" " + words[b] + b"\n" for a, b in pairs)
    out = np.empty(2 * len(text) + 2, dtype=np.uint8)
    _, written, _ = table.apply_chunk(text, True, b"_", out, True)
    expected = b"".join(words[a] + (b"_" if (a, b) in grams else b" ") + words[b] + b"\n"
                        for a, b in pairs)
    assert out[:written].tobytes() == expected


@pytest.mark.parametrize("connectors", [(), ("of", "the")])
def test_threads_may_apply_one_table_at_once(connectors):
    # Applying releases the GIL and only reads the table: each call keeps its candidate in
    # its own buffer. (With the candidate in the table, four threads applying one table with
    # connector words wrote wrong joins in 33 of 36 texts.)
    sentences = random_corpus(0, n_sentences=3000)
    frozen = Phrases(sentences, min_count=2, threshold=0.5, connector_words=connectors).freeze()
    texts = []
    for k in range(4):
        rng = random.Random(k)
        texts.append(("\n".join(" ".join(rng.choice(sentences)) for _ in range(20_000))
                      + "\n").encode())
    expected = [frozen._apply_bytes(t) for t in texts]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(3):
            assert list(pool.map(frozen._apply_bytes, texts)) == expected


@pytest.mark.parametrize("chunk", [3, 1 << 20])
def test_words_of_every_length_are_found(tmp_path, monkeypatch, chunk):
    # The scanners hash a word's eight-byte blocks as they find its end (a control character
    # inside a word sends it the slow way); a table's own words are hashed apart (add_words,
    # word_count): both must agree at every length, and across chunk borders.
    words = (["x" * n for n in range(1, 26)] + ["y" * n + "z" for n in range(1, 26)]
             + ["c\x01" + "q" * n for n in range(0, 12)])
    sentences = [[words[i], words[(i + 1) % len(words)]] for i in range(len(words))] * 6
    corpus = write_lines(tmp_path / "c.txt", sentences)
    monkeypatch.setattr(ph, "CHUNK_SIZE", chunk)
    model = Phrases(corpus, min_count=2, threshold=0.1)
    expected = as_dict(reference_phrases(sentences, 2, 0.1))
    assert len(expected) == len(words) and model.export_phrases() == pytest.approx(expected)
    assert all(model.word_count(w) == 12 for w in words)
    found = {tuple(p.split("_")) for p in expected}
    text = b"".join(model.freeze().stream(corpus)).decode()
    assert text.split("\n")[:-1] == [" ".join(reference_apply(s, found)) for s in sentences]


# -- issue 32: folders on the command line, loaded settings, delimiters, stdin, gzip level ---------

def test_cli_phrases_reads_a_folder(tmp_path):
    """`cw2v phrases FOLDER` reads its files in name order, as Phrases(FOLDER) does."""
    (tmp_path / "dir").mkdir()
    write_lines(tmp_path / "dir" / "1.txt", NEW_YORK[:10])
    write_lines(tmp_path / "dir" / "2.txt", NEW_YORK[10:])
    result = run_cli("phrases", "dir", "-o", "out.txt", "--min-count", 2, "--threshold", 1,
                     "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    expected = Phrases(NEW_YORK, min_count=2, threshold=1).apply(NEW_YORK)
    assert [line.split() for line in (tmp_path / "out.txt").read_text().splitlines()] == \
        list(expected)


def _resave(source, target, **changes):
    """``source`` saved again with its metadata changed (None: the key removed)."""
    from cw2v import io as cw2v_io

    meta, arrays = cw2v_io.load_arrays(source)
    meta.update(changes)
    meta = {k: v for k, v in meta.items() if v is not None}
    cw2v_io.save_arrays(target, meta, arrays)
    return target


@pytest.mark.parametrize("changes, fragment", [
    ({"delimiter": ""}, "delimiter"),
    ({"delimiter": "\xa0"}, "delimiter"),
    ({"delimiter": 5}, "delimiter"),
    ({"threshold": float("nan")}, "threshold"),
    ({"threshold": "100"}, "threshold"),
    ({"min_count": 0}, "min_count"),
    ({"min_count": 2**70}, "min_count"),
    ({"scoring": "pmi"}, "scoring"),
    ({"connector_words": "of"}, "connector_words"),
    ({"connector_words": ["of the"]}, "connector_words"),
    ({"delimiter": None}, "delimiter"),
    ({"min_count": None}, "min_count"),
])
@pytest.mark.parametrize("frozen", [True, False])
def test_loaded_settings_get_the_constructors_checks(tmp_path, changes, fragment, frozen):
    model = Phrases(NEW_YORK, min_count=2, threshold=1, connector_words=["the"])
    (model.freeze() if frozen else model).save(tmp_path / "good.cw2v")
    bad = _resave(tmp_path / "good.cw2v", tmp_path / "bad.cw2v", **changes)
    loaders = [FrozenPhrases.load] + ([] if frozen else [Phrases.load])
    for load in loaders:
        with pytest.raises(ValueError, match=fragment) as error:
            load(bad)
        assert "bad.cw2v" in str(error.value)


def test_a_kind_swap_is_a_value_error_naming_the_file(tmp_path):
    model = Phrases(NEW_YORK, min_count=2, threshold=1)
    model.save(tmp_path / "full.cw2v")
    model.freeze().save(tmp_path / "frozen.cw2v")
    as_full = _resave(tmp_path / "frozen.cw2v", tmp_path / "as_full.cw2v", kind="cw2v-phrases")
    as_frozen = _resave(tmp_path / "full.cw2v", tmp_path / "as_frozen.cw2v",
                        kind="cw2v-frozen-phrases")
    for load, path in [(Phrases.load, as_full), (FrozenPhrases.load, as_full),
                       (FrozenPhrases.load, as_frozen)]:
        with pytest.raises(ValueError, match=path.name):
            load(path)
    with pytest.raises(ValueError, match="n_connectors"):
        Phrases.load(_resave(tmp_path / "full.cw2v", tmp_path / "n.cw2v", n_connectors=3))


def test_every_delimiter_the_reader_splits_on_is_refused():
    """The corpus reader splits on str.split()'s whitespace (compiled or not): a delimiter
    holding one of those characters would be split again, so it is refused; any other is
    kept whole by the reader."""
    from cw2v import corpus

    splitting = [chr(c) for c in range(0x110000) if chr(c).isspace()]
    assert {"\xa0", "\u3000", "\x1c", "\x1d", "\x1e", "\x1f", "\x85"} <= set(splitting)
    for c in splitting:
        with pytest.raises(ValueError, match="delimiter"):
            Phrases(None, delimiter=c)
        with pytest.raises(ValueError, match="delimiter"):
            Phrases(None, delimiter="_" + c + "_")
        with pytest.raises(ValueError, match="connector_words"):
            Phrases(None, connector_words=["of" + c])
    # the compiled reader and the str reader agree with that definition
    import io as std_io

    text = ("a" + "a".join(splitting) + "a\n").encode("utf-8")
    for errors in ("strict", "replace"):  # the compiled reader, then the str one
        got = corpus.iter_sentences(std_io.BytesIO(text), errors=errors)
        assert [w for sentence in got for w in sentence] == ["a"] * (len(splitting) + 1)


@pytest.mark.parametrize("delimiter", ["\u200b", "·", "__", "\x00"])
def test_an_accepted_delimiter_joins_phrases_that_training_keeps(tmp_path, delimiter):
    from cw2v import Word2Vec

    corpus = write_lines(tmp_path / "c.txt", NEW_YORK * 4)
    bigrams = Phrases(corpus, min_count=2, threshold=1, delimiter=delimiter).freeze()
    model = Word2Vec.from_corpus(corpus, phrases=bigrams, d=8, epochs=1, min_count=1,
                                 workers=1, cache_dir=False)
    assert f"new{delimiter}york" in model.w2i


def test_cli_whitespace_delimiter_is_a_one_line_error(tmp_path):
    write_lines(tmp_path / "c.txt", NEW_YORK)
    assert_one_line_error(run_cli("phrases", "c.txt", "-o", "o.txt", "--delimiter", "\u3000",
                                  cwd=tmp_path), "delimiter")


def test_cli_min_count_out_of_range_names_its_limit(tmp_path):
    write_lines(tmp_path / "c.txt", NEW_YORK)
    message = assert_one_line_error(
        run_cli("phrases", "c.txt", "-o", "o.txt", "--min-count", "99999999999999999999",
                cwd=tmp_path), "min_count", "2**62")
    assert "C long" not in message
    assert not (tmp_path / "o.txt").exists()


def test_cli_stdin_is_copied_to_a_temporary_file_not_held_in_memory(tmp_path, monkeypatch,
                                                                   capsys):
    import io as std_io
    import sys
    import tempfile

    from cw2v import cli

    text = "".join(" ".join(s) + "\n" for s in NEW_YORK).encode()
    write_lines(tmp_path / "c.txt", NEW_YORK)
    monkeypatch.chdir(tmp_path)

    def never(*args):
        raise MemoryError("the input was read into memory")

    monkeypatch.setattr(cw2v.io, "read_all", never)  # (where a rereadable copy is read)
    monkeypatch.setattr(sys, "stdin", type("Stdin", (), {"buffer": std_io.BytesIO(text)})())
    args = ["phrases", "-", "-o", "out.txt", "--min-count", "2", "--threshold", "1", "-q"]
    assert cli.main(args) == 0, capsys.readouterr().err
    assert cli.main(["phrases", "c.txt", "-o", "ref.txt", "--min-count", "2",
                     "--threshold", "1", "-q"]) == 0
    assert (tmp_path / "out.txt").read_bytes() == (tmp_path / "ref.txt").read_bytes()
    # a full temporary folder: one line naming it, and what to do
    real = tempfile.TemporaryFile

    def full(**kwargs):
        f = real(**kwargs)

        def write(data):
            raise OSError(28, "No space left on device")

        f.write = write
        return f

    monkeypatch.setattr(tempfile, "TemporaryFile", full)
    monkeypatch.setattr(sys, "stdin", type("Stdin", (), {"buffer": std_io.BytesIO(text)})())
    capsys.readouterr()
    assert cli.main(args[:-1]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "<stdin>" in err and "TMPDIR" in err, err


def test_cli_stdin_through_a_pipe(tmp_path):
    text = "".join(" ".join(s) + "\n" for s in NEW_YORK).encode()
    write_lines(tmp_path / "c.txt", NEW_YORK)
    result = run_cli("phrases", "-", "-o", "out.txt", "--min-count", 2, "--threshold", 1, "-q",
                     cwd=tmp_path, stdin=gzip.compress(text))
    assert result.returncode == 0, result.stderr
    expected = Phrases(NEW_YORK, min_count=2, threshold=1).apply(NEW_YORK)
    assert [line.split() for line in (tmp_path / "out.txt").read_text().splitlines()] == \
        list(expected)


def test_gzip_output_uses_level_6(tmp_path):
    """gzip's header says the level: XFL 2 is level 9 (slowest), 0 the levels between."""
    frozen = Phrases(NEW_YORK, min_count=2, threshold=1).freeze()
    frozen.apply_file(NEW_YORK, tmp_path / "o.txt.gz")
    header = (tmp_path / "o.txt.gz").read_bytes()[:10]
    assert header[8] == 0


def test_a_phrased_run_resumes_with_the_same_phrases(tmp_path):
    """from_corpus(c, phrases=[p], checkpoint=ck) stopped after an epoch; resume(ck, c,
    phrases=[p]) continues it to the weights of the run left alone; without phrases=, the
    mismatch says the run used them."""
    from cw2v import StopTraining, Word2Vec

    corpus = write_lines(tmp_path / "c.txt", NEW_YORK * 20)
    bigrams = Phrases(corpus, min_count=2, threshold=1).freeze()
    kw = dict(d=8, epochs=2, min_count=1, workers=1, cache_dir=False)
    whole = Word2Vec.from_corpus(corpus, phrases=[bigrams], **kw)

    def stop(model, stats):
        raise StopTraining

    ck = tmp_path / "run.ck"
    Word2Vec.from_corpus(corpus, phrases=[bigrams], checkpoint=ck, callbacks=[stop], **kw)
    with pytest.raises(ValueError, match=r"phrases=.*1 pass"):
        Word2Vec.resume(ck, corpus, cache_dir=False)
    with pytest.raises(ValueError, match="without phrases"):
        plain = tmp_path / "plain.ck"
        Word2Vec.from_corpus(corpus, checkpoint=plain, callbacks=[stop], **kw)
        Word2Vec.resume(plain, corpus, phrases=[bigrams], cache_dir=False)
    resumed = Word2Vec.resume(ck, corpus, phrases=[bigrams], cache_dir=False)
    assert "new_york" in resumed.w2i
    np.testing.assert_array_equal(resumed.W_in, whole.W_in)


def test_a_truncated_compressed_corpus_is_a_corpus_error_naming_it(tmp_path):
    """(phrases read files through the reader layer: its errors, its folder expansion)"""
    from cw2v.corpus import CorpusError

    packed = tmp_path / "c.txt.gz"
    packed.write_bytes(gzip.compress(("new york " * 5000 + "\n").encode())[:-30])
    with pytest.raises(CorpusError, match="c.txt.gz"):
        Phrases(packed)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="holds no file"):
        Phrases(tmp_path / "empty")
