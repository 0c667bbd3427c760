"""Benchmark: the Google analogy set with cw2v.evaluate.analogies vs gensim's evaluate_word_analogies.

Run from anywhere::

    python bench/bench_eval.py [--runs 3] [--restrict-vocab 30000]

Both evaluate the same real vectors (~68k words x 100): gensim's Word2Vec trained for one epoch on
wiki8 (sg=1, vector_size=100, min_count=5, workers=2, seed=1), trained on the first run and cached
in bench/results/cache/ (a folder that ignores itself in git). The script checks that both report
the same accuracy to 4 decimal places and prints the median time of each over ``--runs`` runs and
their ratio (target: cw2v at most 1/5 of gensim's time). Needs gensim and the shared data folder
(../shared/data next to the repository, or $CW2V_SHARED_DATA).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CACHE_DIR = REPO / "bench" / "results" / "cache"
VECTORS_FILE = CACHE_DIR / "wiki8-sg-d100-1epoch.bin"


def shared_data() -> Path:
    """The shared data folder, or exit with a message saying where it was looked for."""
    path = Path(os.environ.get("CW2V_SHARED_DATA", REPO.parent / "shared" / "data"))
    if not (path / "corpus" / "wiki8.txt.xz").exists():
        sys.exit(f"bench: needs the shared data folder with corpus/wiki8.txt.xz; not found at "
                 f"{path} (set CW2V_SHARED_DATA to its location)")
    return path


def _gensim():
    try:
        import gensim  # noqa: F401
    except ImportError:
        sys.exit("bench: needs gensim (pip install gensim) to compare against")
    return gensim


def cached_vectors() -> Path:
    """The benchmark vectors in word2vec binary format (written by gensim), training them once."""
    if VECTORS_FILE.exists():
        return VECTORS_FILE
    data = shared_data()
    _gensim()
    import lzma

    from gensim.models import Word2Vec
    from gensim.models.word2vec import Text8Corpus

    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    ignore = CACHE_DIR / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# benchmark cache, rebuilt by bench/bench_eval.py\n*\n")
    text = CACHE_DIR / "wiki8.txt"
    print(f"bench: first run, training gensim for one epoch on {data / 'corpus' / 'wiki8.txt.xz'}"
          f" (about a minute) ...", flush=True)
    with lzma.open(data / "corpus" / "wiki8.txt.xz", "rb") as src, open(text, "wb") as dst:
        while chunk := src.read(1 << 24):
            dst.write(chunk)
    try:
        t0 = time.perf_counter()
        model = Word2Vec(Text8Corpus(str(text)), sg=1, vector_size=100, min_count=5, workers=2,
                         epochs=1, seed=1)
        print(f"bench: trained {len(model.wv)} x {model.wv.vector_size} vectors in "
              f"{time.perf_counter() - t0:.0f} s", flush=True)
    finally:
        text.unlink()
    tmp = VECTORS_FILE.with_suffix(".partial")
    model.wv.save_word2vec_format(str(tmp), binary=True)
    os.replace(tmp, VECTORS_FILE)
    return VECTORS_FILE


def timed(fn, runs: int):
    """(median seconds, last result) of ``runs`` calls of ``fn``."""
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--restrict-vocab", type=int, default=30000)
    args = parser.parse_args(argv)
    _gensim()
    from gensim.models import KeyedVectors

    from cw2v.evaluate import analogies
    from cw2v.io import load_word2vec_format

    path = cached_vectors()
    questions = REPO / "cw2v" / "data" / "questions-words.txt"
    kv = KeyedVectors.load_word2vec_format(str(path), binary=True)
    vecs = load_word2vec_format(path, binary=True)
    print(f"vectors: {path.name}, {len(vecs)} x {vecs.vector_size}; questions: {questions.name}; "
          f"restrict_vocab={args.restrict_vocab}; median of {args.runs} runs")

    t_cw2v, res = timed(lambda: analogies(vecs, restrict_vocab=args.restrict_vocab), args.runs)
    t_mul, res_mul = timed(lambda: analogies(vecs, restrict_vocab=args.restrict_vocab,
                                             method="mul"), args.runs)
    t_gensim, (score, sections) = timed(
        lambda: kv.evaluate_word_analogies(str(questions), restrict_vocab=args.restrict_vocab),
        args.runs)
    g_total = sections[-1]
    g_answered = len(g_total["correct"]) + len(g_total["incorrect"])

    rows = [
        ("gensim evaluate_word_analogies (3CosAdd)", t_gensim, score, g_answered),
        ("cw2v analogies method='add'", t_cw2v, res.accuracy, res.answered),
        ("cw2v analogies method='mul'", t_mul, res_mul.accuracy, res_mul.answered),
    ]
    print(f"{'':42} {'median s':>9} {'accuracy':>9} {'answered':>9}")
    for label, t, acc, n in rows:
        print(f"{label:42} {t:9.3f} {acc:9.4f} {n:9d}")
    same = round(score, 4) == round(res.accuracy, 4) and g_answered == res.answered
    print(f"time ratio cw2v/gensim (add): {t_cw2v / t_gensim:.4f} "
          f"(gensim {t_gensim / t_cw2v:.1f}x slower; target <= 0.2)")
    print(f"same accuracy to 4 places: {same} (gensim {score:.6f}, cw2v {res.accuracy:.6f})")
    print(f"semantic {res.semantic_accuracy:.4f}, syntactic {res.syntactic_accuracy:.4f}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
