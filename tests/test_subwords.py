"""fastText's n-grams and hash (cw2v.subwords) against known values and the real fastText."""
import numpy as np
import pytest

from cw2v import subwords


def test_fnv1a_known_values_and_sign_extension():
    # 32-bit FNV-1a of the empty string and of "a" (published test vectors).
    assert subwords.fasttext_hash(b"") == 2166136261
    assert subwords.fasttext_hash(b"a") == 0xE40C292C
    # A byte >= 0x80 is XORed in sign-extended (fastText's int8_t cast), not as itself.
    plain = ((2166136261 ^ 0xE9) * 16777619) & 0xFFFFFFFF
    signed = ((2166136261 ^ 0xFFFFFFE9) * 16777619) & 0xFFFFFFFF
    assert subwords.fasttext_hash(b"\xe9") == signed != plain


def test_ngrams_follow_fasttext_order_and_skip_lone_markers():
    assert subwords.ngrams("ab", 1, 2) == [b"<a", b"a", b"ab", b"b", b"b>"]
    assert subwords.ngrams("where", 3, 3) == [b"<wh", b"whe", b"her", b"ere", b"re>"]
    assert subwords.ngrams(subwords.EOS, 3, 6) == []
    assert subwords.ngrams("word", 3, 0) == []


def test_a_multibyte_character_is_one_character():
    grams = subwords.ngrams("é", 1, 3)
    assert grams == [b"<\xc3\xa9", "<é>".encode(), "é".encode(), "é>".encode()]


def test_table_is_each_words_rows_in_csr_form():
    words = ["the", "cat", subwords.EOS]
    offsets, rows = subwords.subword_table(words, 3, 4, 100)
    assert offsets.dtype == np.int64 and rows.dtype == np.int32
    for w, word in enumerate(words):
        got = rows[offsets[w]:offsets[w + 1]].tolist()
        assert got == subwords.subword_rows(word, w, 3, 3, 4, 100)
        assert got[0] == w and all(3 <= r < 103 for r in got[1:])
    assert offsets[3] - offsets[2] == 1  # </s>: its own row only


@pytest.mark.parametrize("bad", [dict(min_n=0, max_n=3), dict(min_n=3, max_n=-1)])
def test_bad_ranges_are_value_errors(bad):
    with pytest.raises(ValueError, match="min_n"):
        subwords.ngrams("word", **bad)


def test_rows_equal_the_fasttext_package(tmp_path):
    fasttext = pytest.importorskip("fasttext", reason="the fasttext package is a test extra")
    text = "the quick brown fox jumps over the lazy dog café naïve 日本語 the dog the fox\n"
    path = tmp_path / "c.txt"
    path.write_text(text * 400, encoding="utf-8")
    # epoch=0: only the dictionary is wanted (a tiny corpus makes fastText raise "Encountered
    # NaN" now and then once it trains).
    model = fasttext.train_unsupervised(str(path), model="skipgram", minCount=1, dim=10, epoch=0,
                                        minn=2, maxn=5, bucket=1000, thread=1, verbose=0)
    words = model.get_words()
    for word in words + ["unseenword", "日本", "x", "naïveté"]:
        _, ids = model.get_subwords(word)
        mine = subwords.subword_rows(word, model.get_word_id(word), len(words), 2, 5, 1000)
        assert mine == list(ids), word
