"""Subword kernel benchmark: words/s of the FastText kernel (skip-gram, CBOW) against the plain
word2vec kernel (exact and batched), one thread, on the same encoded corpus.

    python bench/bench_subword_kernel.py [--corpus PATH] [--runs 3] [--bucket 2000000]

Encodes the corpus once (default: the 1M-token prefix of wiki8, min_count 5), then times
``KernelState.train_span`` alone over all spans, one pass each, the configurations interleaved
run by run (the machine may be shared: medians and ratios, not single figures; the thread's
CPU seconds are reported beside the wall seconds, since on a loaded machine the wall clock
counts the time the thread waited for a core). Settings of
issue 30: d=100, window 5, 5 noise words, sample 1e-4, min_n 3, max_n 6, bucket 2M.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import DATA, cpu_model, require_data  # noqa: E402

CONFIGS = [  # name, subwords, sg, mode
    ("word2vec sg exact", False, 1, "exact"),
    ("word2vec sg batched", False, 1, "batched"),
    ("fasttext sg exact", True, 1, "exact"),
    ("word2vec cbow", False, 0, "exact"),
    ("fasttext cbow", True, 0, "exact"),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DATA / "corpus" / "wiki8-1m.txt.xz")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--bucket", type=int, default=2_000_000)
    ap.add_argument("--d", type=int, default=100)
    args = ap.parse_args()
    require_data(args.corpus)

    from cw2v import corpus as corpus_io
    from cw2v._simd import kernel
    from cw2v.subwords import subword_table
    from cw2v.tables import alias_table, keep_probabilities, sigmoid_tables
    from cw2v.trainer import make_spans

    vocab, enc = corpus_io.build(args.corpus, min_count=5, cache_dir=None)
    V, d = len(vocab), args.d
    spans = make_spans(enc)
    keep = keep_probabilities(vocab.counts, 1e-4)
    offsets, rows = subword_table(vocab.words, 3, 6, args.bucket)
    print(f"corpus {args.corpus.name}: {enc.tokens.shape[0]:,} tokens, V={V:,}, "
          f"{rows.shape[0] / V:.1f} input rows a word; CPU {cpu_model()}, kernel "
          f"{kernel.compiled_level()}; machine shared with other jobs")
    rng = np.random.default_rng(0)
    W_big = rng.uniform(-1 / d, 1 / d, (V + args.bucket, d)).astype(np.float32)
    start_big = W_big[:V].copy()
    times: dict[str, list[float]] = {name: [] for name, *_ in CONFIGS}
    cpu: dict[str, list[float]] = {name: [] for name, *_ in CONFIGS}
    for run in range(args.runs):
        for name, sub, sg, mode in CONFIGS:
            W_out = np.zeros((V, d), np.float32)
            if sub:
                W_big[:V] = start_big
                W_in, extra = W_big, dict(sub_offsets=offsets, sub_rows=rows)
                noise = alias_table(vocab.noise_weights(0.5))
            else:
                W_in, extra = start_big.copy(), {}
                noise = alias_table(vocab.noise_weights(0.75))
            state = kernel.KernelState(W_in, W_out, sigmoid_tables(), noise, 5, 1 + run,
                                       keep_prob=keep, window=5, objective=mode, sg=sg,
                                       **extra)
            t0, c0 = time.perf_counter(), time.thread_time()
            for tokens, bounds in spans:
                state.train_span(tokens, bounds, 0.05, 0.05)
            times[name].append(time.perf_counter() - t0)
            cpu[name].append(time.thread_time() - c0)
    n = enc.tokens.shape[0]
    base = statistics.median(times["word2vec sg exact"])
    base_cpu = statistics.median(cpu["word2vec sg exact"])
    print(f"{'configuration':<22} {'wall s':>8} {'words/s':>10} {'vs w2v sg':>10} "
          f"{'CPU s':>8} {'words/CPU s':>12} {'vs w2v sg':>10}")
    for name, *_ in CONFIGS:
        t, c = statistics.median(times[name]), statistics.median(cpu[name])
        print(f"{name:<22} {t:8.3f} {n / t:10,.0f} {base / t:9.2f}x {c:8.3f} {n / c:12,.0f} "
              f"{base_cpu / c:9.2f}x")


if __name__ == "__main__":
    main()
