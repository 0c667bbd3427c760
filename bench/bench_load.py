"""Benchmark: loading a binary word2vec file with cw2v.io vs gensim's KeyedVectors.

Run from anywhere::

    python bench/bench_load.py [--runs 3]

Loads the same ~68k x 100 vectors as bench/bench_eval.py (trained and cached there on first use)
with ``cw2v.io.load_word2vec_format(binary=True)`` and gensim's
``KeyedVectors.load_word2vec_format(binary=True)``, checks they agree exactly, and prints the
median time of each over ``--runs`` runs and the speed-up (target: >= 2x). Both variants of the
format are timed: the file gensim writes (no newline after a vector) and the one cw2v and
word2vec.c write (a newline after each vector).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_eval import CACHE_DIR, _gensim, cached_vectors, timed  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    _gensim()
    import numpy as np
    from gensim.models import KeyedVectors

    from cw2v.io import load_word2vec_format, save_word2vec_format

    gensim_file = cached_vectors()
    ok = True
    with tempfile.TemporaryDirectory(dir=CACHE_DIR) as tmp:
        cw2v_file = Path(tmp) / "vectors.bin"
        save_word2vec_format(load_word2vec_format(gensim_file, binary=True), cw2v_file,
                             binary=True)
        print(f"median of {args.runs} runs, binary word2vec files")
        print(f"{'file':34} {'size MB':>8} {'gensim s':>9} {'cw2v s':>9} {'speed-up':>9}")
        for label, path in (("written by gensim (no newline)", gensim_file),
                            ("written by cw2v (newline)", cw2v_file)):
            # One untimed load each, so both start with the file in the page cache.
            load_word2vec_format(path, binary=True)
            t_g, kv = timed(lambda: KeyedVectors.load_word2vec_format(str(path), binary=True),
                            args.runs)
            t_c, vecs = timed(lambda: load_word2vec_format(path, binary=True), args.runs)
            same = kv.index_to_key == vecs.vocab and np.array_equal(kv.vectors, vecs.vectors)
            ok &= same
            size = path.stat().st_size / 1e6
            print(f"{label:34} {size:8.1f} {t_g:9.3f} {t_c:9.3f} {t_g / t_c:8.1f}x"
                  f"{'' if same else '  MISMATCH'}")
        print(f"vectors: {len(vecs)} x {vecs.vector_size}; identical words and vectors: {ok}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
