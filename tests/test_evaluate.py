"""cw2v.evaluate: analogies (hand-made cases, a plain reference loop, gensim's protocol) and
word-pair correlations (scipy, gensim), plus the file parsers and the packaged data."""
from __future__ import annotations

import hashlib
import importlib.resources
import math
from pathlib import Path

import numpy as np
import pytest

from cw2v import Vectors
from cw2v import evaluate as ev
from cw2v.evaluate import AnalogyResult, PairResult, analogies, rank_average, word_pairs

PACKAGED = importlib.resources.files("cw2v.data")


def packaged_path(name: str) -> Path:
    return Path(str(PACKAGED.joinpath(name)))


def question_lines() -> list[str]:
    return packaged_path("questions-words.txt").read_text(encoding="utf-8").splitlines()


# -- hand-made vectors ----------------------------------------------------------------------------


def unit(*xs) -> np.ndarray:
    v = np.array(xs, dtype=np.float64)
    return v / np.linalg.norm(v)


def hand_vectors() -> Vectors:
    """Six dimensions; each analogy below has one obvious answer (worked out in the comments)."""
    e = np.eye(6)
    rows = {
        "man": e[0], "woman": e[1],
        "king": unit(1, 0, 1, 0, 0, 0), "queen": unit(0, 1, 1, 0, 0, 0),
        # better - good + bad ~ bad + 0.2 e4: bad itself would win if not excluded.
        "good": e[2] * 0 + e[3], "better": unit(0, 0, 0, 1, 0.2, 0),
        "bad": e[5], "worse": unit(0, 0, 0, 0, 0.2, 1),
        "apple": unit(0, 0, 0, 0, 1, 0.05),
    }
    return Vectors(list(rows), np.array(list(rows.values()), dtype=np.float32))


HAND_QUESTIONS = """\
: capital-common-countries
man king woman queen
man woman king queen
: capital-world
good better bad worse
: currency
Man King Woman Queen
: city-in-state
man king woman apple
: family
king queen man woman
: gram1-adjective-to-adverb
man king woman queen
good better bad apple
unknown king woman queen
"""


def test_hand_made_answers(tmp_path):
    # man:king :: woman:? -> king - man + woman = (-0.29, 1, 0.71, 0, ...): cos 0.85 with queen,
    # 0.69 with woman (excluded anyway), 0 with apple. good:better :: bad:? -> worse (bad is
    # excluded; without that it would win). king:queen :: man:? -> woman.
    (tmp_path / "q.txt").write_text(HAND_QUESTIONS)
    v = hand_vectors()
    res = analogies(v, tmp_path / "q.txt")
    assert isinstance(res, AnalogyResult)
    assert res.sections == {
        "capital-common-countries": (2, 2, 1.0),
        "capital-world": (1, 1, 1.0),
        "currency": (1, 1, 1.0),
        "city-in-state": (0, 1, 0.0),
        "family": (1, 1, 1.0),
        "gram1-adjective-to-adverb": (1, 2, 0.5),
    }
    assert (res.correct, res.answered, res.skipped_oov, res.total) == (6, 8, 1, 9)
    assert res.accuracy == 6 / 8
    assert res.semantic_accuracy == 5 / 6 and res.syntactic_accuracy == 1 / 2
    assert "total" in res.summary() and "family" in res.summary()
    # The same questions through the single-query API agree.
    assert v.analogy("man", "king", "woman")[0][0] == "queen"
    assert v.analogy("good", "better", "bad")[0][0] == "worse"


def test_case_sensitive_and_restrict_vocab(tmp_path):
    (tmp_path / "q.txt").write_text(HAND_QUESTIONS)
    v = hand_vectors()
    res = analogies(v, tmp_path / "q.txt", case_insensitive=False)
    correct, answered, accuracy = res.sections["currency"]  # "Man King Woman Queen": unknown
    assert (correct, answered) == (0, 0) and math.isnan(accuracy)
    assert (res.skipped_oov, res.answered, res.correct) == (2, 7, 5)
    # apple is the last word: outside restrict_vocab=8, its two questions are skipped.
    res = analogies(v, tmp_path / "q.txt", restrict_vocab=8)
    assert (res.skipped_oov, res.answered, res.correct) == (3, 6, 6)
    correct, answered, accuracy = res.sections["city-in-state"]
    assert (correct, answered) == (0, 0) and math.isnan(accuracy)
    assert res.semantic_accuracy == 1.0 and res.syntactic_accuracy == 1.0


def test_mul_differs_from_add_where_it_should(tmp_path):
    # 3CosAdd lets one large similarity dominate; 3CosMul does not (Levy & Goldberg 2014).
    # With a, b, c orthonormal: x has cos 0.9 with b, -0.1 with c; y has 0.35 with both.
    # add: x 0.9 - 0.1 = 0.8 > y 0.7.  mul: x 0.95 * 0.45 / 0.5 = 0.855 < y 0.675**2 / 0.5 = 0.911.
    rows = {"a": unit(1, 0, 0, 0, 0), "b": unit(0, 1, 0, 0, 0), "c": unit(0, 0, 1, 0, 0),
            "x": unit(0, 0.9, -0.1, math.sqrt(0.18), 0),
            "y": unit(0, 0.35, 0.35, 0, math.sqrt(1 - 2 * 0.35**2))}
    v = Vectors(list(rows), np.array(list(rows.values()), dtype=np.float32))
    (tmp_path / "q.txt").write_text(": s\na b c y\n")
    add = analogies(v, tmp_path / "q.txt", method="add")
    mul = analogies(v, tmp_path / "q.txt", method="mul")
    assert v.analogy("a", "b", "c", method="add")[0][0] == "x"
    assert v.analogy("a", "b", "c", method="mul")[0][0] == "y"
    assert (add.correct, mul.correct) == (0, 1)


def test_no_candidate_left(tmp_path):
    v = Vectors(["a", "b", "c"], np.eye(3, dtype=np.float32))
    (tmp_path / "q.txt").write_text(": s\na b c a\n")
    res = analogies(v, tmp_path / "q.txt")
    assert (res.correct, res.answered) == (0, 1)


# -- against an obvious reference loop and gensim -------------------------------------------------


def structured_vectors(seed: int = 3, noise: float = 1.3, d: int = 32, n_noise: int = 1500,
                       variants: int = 0) -> Vectors:
    """Vectors for all (lower-cased) question words, each section's pairs sharing an offset plus
    noise, so that some answers are right and some wrong. With ``variants``, that many
    question words get a title-cased near copy placed up to 50 rows after them."""
    rng = np.random.default_rng(seed)
    words = list(dict.fromkeys(w.lower() for line in question_lines()
                               if not line.startswith(":") for w in line.split()))
    vocab = words + [f"noise{i}" for i in range(n_noise)]
    rng.shuffle(vocab)
    index = {w: i for i, w in enumerate(vocab)}
    x = rng.standard_normal((len(vocab), d))
    offset = None
    for line in question_lines():
        if line.startswith(":"):
            offset = rng.standard_normal(d) * 1.5
            continue
        a, b, c, e = line.lower().split()
        x[index[b]] = x[index[a]] + offset + rng.standard_normal(d) * noise
        x[index[e]] = x[index[c]] + offset + rng.standard_normal(d) * noise
    rows = [(float(i), w, x[i]) for i, w in enumerate(vocab)]
    for k in rng.choice(len(words), size=variants, replace=False):
        w = words[k]
        twin = w.title() if w.title() != w else w.upper()
        rows.append((index[w] + 0.5 + float(rng.integers(0, 50)), twin,
                     x[index[w]] + rng.standard_normal(d) * 0.05))
    rows.sort(key=lambda r: r[0])
    return Vectors([r[1] for r in rows], np.array([r[2] for r in rows], dtype=np.float32))


@pytest.fixture(scope="module")
def question_subset(tmp_path_factory) -> Path:
    """Every third question of every section (gensim's loop over all 19,544 is slow)."""
    out, k = [], 0
    for line in question_lines():
        if line.startswith(":"):
            out.append(line)
        else:
            k += 1
            if k % 3 == 0:
                out.append(line)
    path = tmp_path_factory.mktemp("q") / "questions-subset.txt"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


def reference_analogies(v: Vectors, path: Path, restrict: int, method: str):
    """A per-question loop written from the protocol, in float64."""
    u = v.vectors[:restrict].astype(np.float64)
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    ok = {}
    for i, w in enumerate(v.vocab[:restrict]):
        ok.setdefault(w.upper(), i)
    per_section, section = {}, None
    for line in path.read_text().splitlines():
        if line.startswith(": "):
            section = line[2:].strip()
            per_section[section] = [0, 0]
            continue
        qs = [w.upper() for w in line.split()]
        if any(w not in ok for w in qs):
            continue
        a, b, c, e = (ok[w] for w in qs)
        cos = u @ u[[a, b, c]].T
        if method == "add":
            score = cos[:, 1] + cos[:, 2] - cos[:, 0]
        else:
            s = (1 + cos) / 2
            score = s[:, 1] * s[:, 2] / (s[:, 0] + 1e-6)
        score[[a, b, c]] = -np.inf
        per_section[section][0] += int(np.argmax(score) == e)
        per_section[section][1] += 1
    return per_section


@pytest.mark.parametrize("method", ["add", "mul"])
def test_matches_reference_loop(question_subset, method):
    v = structured_vectors()
    restrict = int(len(v) * 0.8)
    res = analogies(v, question_subset, restrict_vocab=restrict, method=method)
    ref = reference_analogies(v, question_subset, restrict, method)
    assert {s: (c, n) for s, (c, n, _) in res.sections.items()} == \
        {s: tuple(cn) for s, cn in ref.items()}
    assert 0.2 < res.accuracy < 0.9  # a test that can tell right from wrong answers


def test_blocks_do_not_change_answers(question_subset, monkeypatch):
    v = structured_vectors()
    whole = analogies(v, question_subset, method="mul")
    monkeypatch.setattr(ev, "_BLOCK_ELEMENTS", 7 * len(v) + 3)  # blocks of 7 questions
    assert analogies(v, question_subset, method="mul") == whole


def gensim_keyed_vectors(v: Vectors):
    kv_mod = pytest.importorskip("gensim.models.keyedvectors")
    kv = kv_mod.KeyedVectors(v.vector_size)
    kv.add_vectors(v.vocab, v.vectors)
    return kv


def gensim_sections(kv, path: Path, **kwargs) -> dict:
    score, sections = kv.evaluate_word_analogies(str(path), **kwargs)
    total = sections.pop()
    assert total["section"] == "Total accuracy"
    out = {}
    for s in sections:
        c, n = len(s["correct"]), len(s["correct"]) + len(s["incorrect"])
        out[s["section"]] = (c, n)
    return score, out


@pytest.mark.parametrize("case_insensitive", [True, False])
@pytest.mark.parametrize("variants", [0, 300], ids=["lower-case", "case-variants"])
def test_equals_gensim(question_subset, case_insensitive, variants, monkeypatch):
    v = structured_vectors(seed=5, variants=variants)
    kv = gensim_keyed_vectors(v)
    restrict = int(len(v) * 0.85)
    replays = []
    original = ev._gensim_pick
    monkeypatch.setattr(ev, "_gensim_pick", lambda *a: replays.append(1) or original(*a))
    res = analogies(v, question_subset, restrict_vocab=restrict,
                    case_insensitive=case_insensitive)
    score, sections = gensim_sections(kv, question_subset, restrict_vocab=restrict,
                                      case_insensitive=case_insensitive)
    assert round(res.accuracy, 4) == round(score, 4)
    assert {s: (c, n) for s, (c, n, _) in res.sections.items()} == sections
    assert res.answered == sum(n for _, n in sections.values())
    assert res.answered > 500
    if variants and case_insensitive:
        assert replays  # the case-variant path of gensim's rule was exercised


def test_equals_gensim_when_case_variants_crowd_the_top(tmp_path, monkeypatch):
    """Six case variants of the question words rank above the answer: gensim passes over them
    among its five best, and with all five taken gives the fifth, which is right only when the
    expected word is a question word of the same key."""
    rng = np.random.default_rng(0)
    base = {w: rng.standard_normal(8) for w in ["ant", "bee", "cat", "dog", "eel", "fox"]}
    query = base["bee"] / np.linalg.norm(base["bee"]) - base["ant"] / np.linalg.norm(base["ant"]) \
        + base["cat"] / np.linalg.norm(base["cat"])
    base["dog"] = query / np.linalg.norm(query) + rng.standard_normal(8) * 0.6
    vocab, rows = list(base), list(base.values())
    for name in ["Bee", "BEE", "bEE", "Cat", "CAT", "cAT"]:
        vocab.append(name)
        rows.append(base[name.lower()] + rng.standard_normal(8) * 1e-3)
    v = Vectors(vocab, np.array(rows, dtype=np.float32))
    kv = gensim_keyed_vectors(v)
    # For b - a + c = bee - ant + cat the order is BEE bEE Bee cAT Cat CAT dog ...: gensim answers
    # "CAT" (the fifth), right for "ant bee cat cat" only; dog, 7th, is never reached.
    (tmp_path / "q.txt").write_text(": s\nant bee cat bee\nant bee cat cat\nbee ant dog cat\n")
    replays = []
    original = ev._gensim_pick
    monkeypatch.setattr(ev, "_gensim_pick", lambda *a: replays.append(1) or original(*a))
    for ci in (True, False):
        res = analogies(v, tmp_path / "q.txt", restrict_vocab=None, case_insensitive=ci)
        _, sections = gensim_sections(kv, tmp_path / "q.txt", restrict_vocab=len(v),
                                      case_insensitive=ci)
        assert (res.sections["s"][0], res.sections["s"][1]) == sections["s"]
    assert replays
    assert analogies(v, tmp_path / "q.txt", restrict_vocab=None).correct == 1


def test_equals_gensim_protocol_mul(question_subset):
    """gensim's evaluate_word_analogies has no 3CosMul; its loop with most_similar_cosmul over
    the restricted vocabulary is the protocol."""
    v = structured_vectors(seed=9)
    restrict = int(len(v) * 0.85)
    kv = gensim_keyed_vectors(Vectors(v.vocab[:restrict], v.vectors[:restrict]))
    ok = {w.upper(): i for i, w in reversed(list(enumerate(kv.index_to_key)))}
    counts: dict[str, list[int]] = {}
    section = None
    original = kv.key_to_index
    for line in question_subset.read_text().splitlines():
        if line.startswith(": "):
            section = line[2:].strip()
            counts[section] = [0, 0]
            continue
        a, b, c, expected = (w.upper() for w in line.split())
        if not all(w in ok for w in (a, b, c, expected)):
            continue
        kv.key_to_index = ok
        sims = kv.most_similar_cosmul(positive=[b, c], negative=[a], topn=5)
        kv.key_to_index = original
        predicted = None
        for word, _ in sims:
            predicted = word.upper()
            if predicted not in {a, b, c}:
                break
        counts[section][0] += predicted == expected
        counts[section][1] += 1
    res = analogies(v, question_subset, restrict_vocab=restrict, method="mul")
    assert {s: (c, n) for s, (c, n, _) in res.sections.items()} == \
        {s: tuple(cn) for s, cn in counts.items()}


def test_real_model(tmp_path):
    """On vectors gensim trains on a small corpus, both evaluations agree."""
    gensim_w2v = pytest.importorskip("gensim.models.word2vec")
    rng = np.random.default_rng(1)
    pairs = [line.lower().split() for line in question_lines() if not line.startswith(":")]
    sentences = [pairs[i] for i in rng.integers(0, len(pairs), 6000)]
    model = gensim_w2v.Word2Vec(sentences, vector_size=24, window=3, min_count=1, workers=1,
                                seed=1, epochs=3, sg=1)
    v = Vectors(model.wv.index_to_key, model.wv.vectors)
    res = analogies(v, restrict_vocab=300)
    score, sections = gensim_sections(model.wv, packaged_path("questions-words.txt"),
                                      restrict_vocab=300)
    assert round(res.accuracy, 4) == round(score, 4)
    assert {s: (c, n) for s, (c, n, _) in res.sections.items()} == sections


# -- analogy files --------------------------------------------------------------------------------


def test_packaged_questions():
    lines = question_lines()
    words = dict.fromkeys(w.lower() for line in lines if not line.startswith(":")
                          for w in line.split())
    v = Vectors(list(words), np.random.default_rng(0).standard_normal((len(words), 8)))
    res = analogies(v, restrict_vocab=None)  # the packaged copy
    assert (res.total, res.answered, res.skipped_oov) == (19544, 19544, 0)
    assert len(res.sections) == 14
    names = list(res.sections)
    assert sum(res.sections[s][1] for s in names[:5]) == 8869
    assert sum(res.sections[s][1] for s in names[5:]) == 10675


def test_bad_analogy_files(tmp_path):
    v = hand_vectors()
    cases = {"orphan.txt": ("man king woman queen\n", "line 1.*before the first"),
             "short.txt": (": s\nman king woman queen\nman king woman\n", "line 3.*4 words")}
    for name, (text, message) in cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(ValueError, match=message) as info:
            analogies(v, tmp_path / name)
        assert name in str(info.value)
    with pytest.raises(FileNotFoundError):
        analogies(v, tmp_path / "missing.txt")
    with pytest.raises(ValueError, match="method"):
        analogies(v, method="cos")
    with pytest.raises(ValueError, match="restrict_vocab"):
        analogies(v, restrict_vocab=0)
    with pytest.raises(TypeError, match="Vectors"):
        analogies({"a": 1})


def test_blank_lines_and_empty_file(tmp_path):
    (tmp_path / "q.txt").write_text("\n: s\n\nman king woman queen\n\n")
    assert analogies(hand_vectors(), tmp_path / "q.txt").correct == 1
    (tmp_path / "e.txt").write_text("")
    res = analogies(hand_vectors(), tmp_path / "e.txt")
    assert res.total == 0 and math.isnan(res.accuracy)


# -- word pairs -----------------------------------------------------------------------------------


def pair_vectors(seed=0, d=10):
    rng = np.random.default_rng(seed)
    words = ["cat", "dog", "car", "bus", "tree", "leaf", "sun", "moon", "Tiger", "tiger"]
    return Vectors(words, rng.standard_normal((len(words), d)).astype(np.float32))


def cosine(v: Vectors, a: str, b: str) -> float:
    x, y = v[a].astype(np.float64), v[b].astype(np.float64)
    return float(x @ y / np.linalg.norm(x) / np.linalg.norm(y))


def test_word_pairs_against_scipy(tmp_path):
    stats = pytest.importorskip("scipy.stats")
    v = pair_vectors()
    pairs = [("cat", "dog", 8.0), ("car", "bus", 7.5), ("tree", "leaf", 7.5), ("sun", "moon", 6),
             ("cat", "car", 1.0), ("dog", "leaf", 1.0), ("bus", "moon", 0.5), ("tree", "sun", 2),
             ("cat", "unicorn", 5.0), ("zebra", "dog", 3.0)]
    text = "# comment\n\n" + "".join(f"{a}\t{b}\t{s}\n" for a, b, s in pairs)
    (tmp_path / "p.tsv").write_text(text)
    res = word_pairs(v, tmp_path / "p.tsv")
    assert isinstance(res, PairResult)
    gold = [s for a, b, s in pairs[:8]]
    model = [cosine(v, a, b) for a, b, _ in pairs[:8]]
    assert res.spearman == pytest.approx(stats.spearmanr(gold, model)[0], abs=1e-12)
    assert res.pearson == pytest.approx(stats.pearsonr(gold, model)[0], abs=1e-6)
    assert (res.pairs_used, res.pairs_oov, res.oov_ratio) == (8, 2, 0.2)


def test_rank_and_correlations_against_scipy():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(3)
    for n in (2, 5, 50, 1000):
        x = rng.integers(0, 7, n).astype(float)  # many ties
        y = x + rng.integers(0, 4, n)
        assert np.array_equal(rank_average(x), stats.rankdata(x))
        assert ev.spearman(x, y) == pytest.approx(stats.spearmanr(x, y)[0], abs=1e-12)
        assert ev.pearson(x, y) == pytest.approx(stats.pearsonr(x, y)[0], abs=1e-12)
    assert rank_average([3.0, 1.0, 3.0, 2.0]).tolist() == [3.5, 1.0, 3.5, 2.0]
    assert math.isnan(ev.pearson([1, 1, 1], [1, 2, 3]))
    assert math.isnan(ev.spearman([1], [2]))
    assert ev.spearman([1, 2, 3], [30, 20, 10]) == -1.0


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_values_give_nan_not_a_perfect_correlation(bad, tmp_path):
    # Before: pearson([1, 2, 3], [nan] * 3) was 1.0 (NaN slipped through the clamp to [-1, 1])
    # and spearman -1.0 (NaN ranked as a value).
    assert math.isnan(ev.pearson([1, 2, 3], [bad] * 3))
    assert math.isnan(ev.spearman([1, 2, 3], [bad] * 3))
    assert math.isnan(ev.pearson([1, bad, 3], [1, 2, 3]))
    assert math.isnan(ev.spearman([1, 2, 3], [1, bad, 3]))
    vectors = Vectors(["a", "b", "c", "d"], np.full((4, 3), bad, dtype=np.float32))
    (tmp_path / "pairs.tsv").write_text("a\tb\t1\nc\td\t2\na\tc\t3\n")
    res = word_pairs(vectors, tmp_path / "pairs.tsv")
    assert math.isnan(res.spearman) and math.isnan(res.pearson)


def test_pair_file_formats(tmp_path):
    v = pair_vectors()
    expected = word_pairs(v, _write(tmp_path / "plain.txt",
                                    "cat dog 8\ncar bus 7.5\ntree sun 2\nsun moon 6\n"))
    variants = {
        # header line, tabs, CRLF, comments and blank lines anywhere
        "header.tsv": "Word 1\tWord 2\tHuman (mean)\r\ncat\tdog\t8\r\n# note\r\ncar\tbus\t7.5\r\n"
                      "\r\ntree\tsun\t2\r\nsun\tmoon\t6\r\n",
        # runs of spaces and tabs mixed
        "spaces.txt": "w1 w2 score\n  cat   dog 8.0 \ncar  bus\t7.5\ntree sun 2\nsun moon 6e0\n",
        # SimLex-999 layout: the score is the first numeric column after the words
        "simlex.txt": "word1\tword2\tPOS\tSimLex999\tconc(w1)\ncat\tdog\tN\t8\t4.9\n"
                      "car\tbus\tN\t7.5\t4.8\ntree\tsun\tN\t2\t5\nsun\tmoon\tN\t6\t4.9\n",
    }
    for name, text in variants.items():
        res = word_pairs(v, _write(tmp_path / name, text))
        assert (res.spearman, res.pearson, res.pairs_used) == \
            (expected.spearman, expected.pearson, 4), name
    res = word_pairs(v, _write(tmp_path / "col.txt", "cat dog 1 8\ncar bus 1 7.5\n"
                                                     "tree sun 1 2\nsun moon 1 6\n"),
                     score_column=3)
    assert res.spearman == expected.spearman


def _write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def test_bad_pair_files(tmp_path):
    v = pair_vectors()
    with pytest.raises(ValueError, match=r"line 3.*no numeric score") as info:
        word_pairs(v, _write(tmp_path / "a.txt", "a b score\ncat dog 3\ncar bus high\n"))
    assert "a.txt" in str(info.value)
    with pytest.raises(ValueError, match=r"line 2.*word1 word2 score"):
        word_pairs(v, _write(tmp_path / "b.txt", "cat dog 3\ncar bus\n"))
    with pytest.raises(ValueError, match="none of its 1 pairs"):
        word_pairs(v, _write(tmp_path / "c.txt", "unicorn dragon 3\n"))
    with pytest.raises(ValueError, match="score_column"):
        word_pairs(v, score_column=1)


def test_files_that_are_not_utf8_are_named(tmp_path):
    # Before: a bare UnicodeDecodeError, which named neither the file nor where.
    path = tmp_path / "latin1.txt"
    path.write_bytes(b": s\nman king woman reine\ncaf\xe9 the a b\n")
    for read, vectors in ((analogies, hand_vectors()), (word_pairs, pair_vectors())):
        with pytest.raises(ValueError, match=r"latin1.txt: not UTF-8 text .* at byte 28"):
            read(vectors, path)


def test_pairs_case_and_restrict(tmp_path):
    v = pair_vectors()
    path = _write(tmp_path / "p.txt", "TIGER cat 9\ntiger dog 7\ntree Tiger 1\nsun moon 3\n")
    sensitive = word_pairs(v, path, case_insensitive=False)
    assert (sensitive.pairs_used, sensitive.pairs_oov) == (3, 1)  # only "TIGER" is unknown
    insensitive = word_pairs(v, path)
    assert insensitive.pairs_used == 4
    # "TIGER", "tiger" and "Tiger" all stand for the first variant, "Tiger" (row 8).
    stats = pytest.importorskip("scipy.stats")
    model = [cosine(v, "Tiger", "cat"), cosine(v, "Tiger", "dog"), cosine(v, "tree", "Tiger"),
             cosine(v, "sun", "moon")]
    assert insensitive.spearman == pytest.approx(stats.spearmanr([9, 7, 1, 3], model)[0])
    assert word_pairs(v, path, restrict_vocab=8).pairs_used == 1


def test_wordsim_equals_gensim():
    """On the packaged WordSim-353, against gensim's evaluate_word_pairs."""
    rng = np.random.default_rng(4)
    lines = [line.split("\t") for line in
             packaged_path("wordsim353.tsv").read_text().splitlines() if not line.startswith("#")]
    words = list(dict.fromkeys(w for a, b, _ in lines for w in (a, b)))
    words = [w for k, w in enumerate(words) if k % 9]  # leave some out-of-vocabulary
    x = rng.standard_normal((len(words), 16))
    index = {w: i for i, w in enumerate(words)}
    for a, b, s in lines:  # related pairs get closer vectors
        if a in index and b in index and a != b:
            x[index[b]] += float(s) / 10 * x[index[a]]
    v = Vectors(words, x.astype(np.float32))
    kv = gensim_keyed_vectors(v)
    pearson, spearman, oov = kv.evaluate_word_pairs(str(packaged_path("wordsim353.tsv")))
    res = word_pairs(v)
    assert res.spearman == pytest.approx(spearman[0], abs=1e-6)
    assert res.pearson == pytest.approx(pearson[0], abs=1e-6)
    assert res.oov_ratio * 100 == pytest.approx(oov)
    assert res.pairs_used + res.pairs_oov == 353 and res.pairs_oov > 0


# -- packaged data --------------------------------------------------------------------------------


@pytest.mark.parametrize("name, sha256", [
    ("questions-words.txt", "8c29b3332afc46f3fb8be04cb5297bf96f39aa7131272dff57869b4485b22a36"),
    ("wordsim353.tsv", "f92a022fc2537793a15bc3a8c162ebcd74990e033a228bb6388cb71e4c0b1e1d"),
])
def test_packaged_files_are_the_documented_copies(name, sha256):
    data = PACKAGED.joinpath(name).read_bytes()
    assert hashlib.sha256(data).hexdigest() == sha256
    sources = PACKAGED.joinpath("SOURCES.md").read_text(encoding="utf-8")
    assert name in sources and sha256 in sources


def test_packaged_wordsim():
    words = [w for line in packaged_path("wordsim353.tsv").read_text().splitlines()
             if not line.startswith("#") for w in line.split("\t")[:2]]
    words = list(dict.fromkeys(words))
    v = Vectors(words, np.random.default_rng(0).standard_normal((len(words), 4)))
    res = word_pairs(v)
    assert (res.pairs_used, res.pairs_oov, res.oov_ratio) == (353, 0, 0.0)
    assert -0.3 < res.spearman < 0.3


# -- no V x d copy (issue 31) ---------------------------------------------------------------------


def old_predictions(v: Vectors, q: np.ndarray, limit: int, method: str) -> np.ndarray:
    """The answers of the code before issue 31's change: one unit copy of the whole matrix,
    sliced, then the masked argmax (enough where no word has a case variant)."""
    unit = np.ascontiguousarray(v.unit_vectors[:limit], dtype=np.float32)
    a, b, c = q.T
    if method == "add":
        scores = (unit[b] + unit[c] - unit[a]) @ unit.T
    else:
        cos_b, cos_c, cos_a = ((unit[r] @ unit.T + 1.0) * 0.5 for r in (b, c, a))
        scores = cos_b * cos_c / (cos_a + 1e-6)
    local = np.arange(len(q))
    for r in (a, b, c):
        scores[local, r] = -np.inf
    return np.argmax(scores, axis=1)


@pytest.fixture(scope="module")
def small_trained() -> Vectors:
    """cw2v's vectors trained on sentences made of analogy questions (lower-case words only)."""
    from cw2v import Word2Vec

    rng = np.random.default_rng(3)
    lines = [line.lower().split() for line in question_lines() if not line.startswith(":")]
    sentences = [lines[i] + lines[j] for i, j in rng.integers(0, len(lines), (3000, 2))]
    model = Word2Vec.from_corpus(sentences, d=24, window=3, min_count=1, workers=1, epochs=3,
                                 seed=1, progress=False, cache_dir=False)
    return model.wv


@pytest.mark.parametrize("blockwise", [False, True], ids=["rows-once", "rows-by-block"])
@pytest.mark.parametrize("method", ["add", "mul"])
def test_same_answers_as_the_old_unit_copy(small_trained, method, blockwise, tmp_path,
                                           monkeypatch):
    """Issue 31: analogies no longer normalise a V x d copy, and answer exactly as before.
    Every other question's expected word is the old code's answer, so the accuracy pins each
    answer, not just a count. ``rows-by-block``: the searched rows outgrow a block of scores,
    so they are normalised 100 rows at a time, for blocks of 20 questions."""
    v, limit = small_trained, 600
    if blockwise:
        import cw2v.vectors

        monkeypatch.setattr(ev, "_BLOCK_ELEMENTS", 20 * limit)
        monkeypatch.setattr(cw2v.vectors, "_BLOCK_BYTES", 100 * 4 * v.vector_size)
        assert limit * v.vector_size > ev._BLOCK_ELEMENTS
    rows = {w.upper(): i for i, w in enumerate(v.vocab[:limit])}
    questions, sections = [], []
    for line in question_lines():
        if line.startswith(":"):
            sections.append(line)
            continue
        ids = [rows.get(w.upper()) for w in line.split()]
        if None not in ids:
            questions.append((len(sections) - 1, ids))
    q = np.array([ids[:3] for _, ids in questions])
    old = old_predictions(v, q, limit, method)
    path = tmp_path / "questions.txt"
    text, last = [], None
    for n, ((s, ids), answer) in enumerate(zip(questions, old)):
        if s != last:
            text.append(sections[s])
            last = s
        expected = answer if n % 2 == 0 else ids[3]
        text.append(" ".join(v.vocab[i] for i in ids[:3] + [expected]))
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    correct = sum(1 for n, ((_, ids), answer) in enumerate(zip(questions, old))
                  if n % 2 == 0 or answer == ids[3])
    assert len(questions) > 200 and correct > len(questions) // 2  # (odd ones are sometimes right)
    res = analogies(v, path, restrict_vocab=limit, method=method)
    assert (res.correct, res.answered) == (correct, len(questions))


def test_word_pairs_as_the_old_unit_copy(small_trained, tmp_path):
    v = small_trained
    rng = np.random.default_rng(4)
    pairs = rng.integers(0, len(v), (300, 2))
    gold = rng.uniform(0, 10, 300).round(2)
    path = tmp_path / "pairs.txt"
    path.write_text("".join(f"{v.vocab[i]}\t{v.vocab[j]}\t{g}\n" for (i, j), g in zip(pairs, gold)),
                    encoding="utf-8")
    unit = v.unit_vectors  # the old formula
    cosines = np.einsum("ij,ij->i", unit[pairs[:, 0]], unit[pairs[:, 1]])
    res = word_pairs(v, path)
    assert res.pairs_used == 300
    assert res.spearman == ev.spearman(gold, cosines)
    assert res.pearson == ev.pearson(gold, cosines)


def test_evaluation_makes_no_copy_of_the_matrix(tmp_path):
    """Issue 31: on a 200k x 64 model, evaluating allocates far less than the V x d matrix."""
    import tracemalloc

    rng = np.random.default_rng(0)
    words = list(dict.fromkeys(w.lower() for line in question_lines()[:60]
                               if not line.startswith(":") for w in line.split()))
    n, d = 200_000, 64
    v = Vectors(words + [f"w{i}" for i in range(n - len(words))],
                rng.standard_normal((n, d), dtype=np.float32))
    path = tmp_path / "questions.txt"
    path.write_text("\n".join(question_lines()[:12]) + "\n", encoding="utf-8")
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("".join(f"{words[i]}\t{words[i + 1]}\t{i}\n" for i in range(20)))
    matrix_bytes = n * d * 4
    # With every row a candidate (restrict_vocab=None), gensim's protocol's table of the words
    # (a dict of 200k upper-cased str, ~29 MB here) is most of the rest.
    for evaluate, bound in ((lambda: analogies(v, path), matrix_bytes / 3),
                            (lambda: analogies(v, path, method="mul"), matrix_bytes / 3),
                            (lambda: analogies(v, path, restrict_vocab=None), matrix_bytes),
                            (lambda: word_pairs(v, pairs, restrict_vocab=30000), matrix_bytes / 4),
                            (lambda: word_pairs(v, pairs), matrix_bytes)):
        v.invalidate_norms()
        tracemalloc.start()
        try:
            evaluate()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < bound, (peak, matrix_bytes)
