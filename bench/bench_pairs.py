"""Pair-update benchmark: the classic NumPy class vs cw2v's train_pair and train_pairs.

    python bench/bench_pairs.py [--vocab 10000] [--d 100] [--n-neg 5] [--runs 5]

A 10,000-word vocabulary with Zipf frequencies, d=100, 5 noise words. Reports pairs per second
(median of --runs) for: the classic NumPy class (bench/article_numpy.py), cw2v.reference (pure
NumPy with cw2v's rule), ``cw2v.Word2Vec.train_pair`` called from a Python loop, and
``train_pairs`` (one nogil call for the whole array), with ratios to the classic class.
Targets: train_pair >= 30x, train_pairs >= 300x.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import article_numpy  # noqa: E402


def pairs_per_second(fn, n: int, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn(n)
        times.append(time.perf_counter() - start)
    return n / statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--vocab", type=int, default=10_000)
    p.add_argument("--d", type=int, default=100)
    p.add_argument("--n-neg", type=int, default=5)
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args(argv)
    import cw2v
    from cw2v import _simd, reference

    rng = np.random.default_rng(0)
    vocab = [f"w{i}" for i in range(args.vocab)]
    counts = {w: int(c) for w, c in zip(vocab, rng.zipf(1.2, args.vocab).clip(1, 10**7))}
    pairs = rng.integers(0, args.vocab, (2_000_000, 2))

    def loop(model):
        def run(n):
            for c, o in pairs[:n].tolist():
                model.train_pair(c, o)
        return run

    models = {}
    for name, cls in [("classic NumPy class", article_numpy.Word2Vec),
                      ("cw2v.reference", reference.Word2Vec), ("cw2v train_pair", cw2v.Word2Vec)]:
        m = cls(vocab, d=args.d, lr=0.025, n_neg=args.n_neg)
        m.set_freq(counts)
        models[name] = m
    fast = models["cw2v train_pair"]
    results = {
        "classic NumPy class": pairs_per_second(loop(models["classic NumPy class"]), 2_000, args.runs),
        "cw2v.reference": pairs_per_second(loop(models["cw2v.reference"]), 2_000, args.runs),
        "cw2v train_pair": pairs_per_second(loop(fast), 100_000, args.runs),
        "cw2v train_pairs": pairs_per_second(
            lambda n: fast.train_pairs(pairs[:n, 0], pairs[:n, 1]), 2_000_000, args.runs),
    }
    base = results["classic NumPy class"]
    print(f"vocabulary {args.vocab} (Zipf), d={args.d}, n_neg={args.n_neg}, kernel "
          f"{_simd.kernel.compiled_level()}, medians of {args.runs} runs\n")
    print("| implementation | pairs/s | vs classic NumPy class |")
    print("|---|---|---|")
    for name, rate in results.items():
        print(f"| {name} | {rate:,.0f} | {rate / base:,.1f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
