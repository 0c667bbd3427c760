"""Kernel benchmark: where the time goes inside ``KernelState.train_span``, per instruction set and mode.

    python bench/bench_kernel.py [--corpus PATH] [--runs 3]

Encodes the corpus once (default: the 1M-token prefix of wiki8), then times the kernel alone,
single-threaded, over all spans for each compiled copy (baseline, AVX2, AVX-512) and each mode
(exact, batched). The share of time in the kernel's parts is measured by ablation:
``n_neg=0`` (positives only) and ``window=1, n_neg=0`` (little more than subsampling, window
draws and the loop), so negatives = full - positives-only, and so on. Where ``perf stat`` can
read hardware counters, cycles and instructions per raw word are added.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import DATA, require_data  # noqa: E402


def prepare(corpus: Path, sample: float):
    from cw2v import corpus as corpus_io
    from cw2v.tables import alias_table, keep_probabilities, sigmoid_tables
    from cw2v.trainer import make_spans

    vocab, enc = corpus_io.build(corpus, min_count=5)
    tables = dict(keep=keep_probabilities(vocab.counts, sample), sig=sigmoid_tables(),
                  noise=alias_table(vocab.noise_weights(0.75)))
    return len(vocab), enc, make_spans(enc), tables


def time_kernel(kernel, V, spans, tables, *, batched, window=5, n_neg=5, d=100, runs=3):
    """Median seconds of one pass of ``KernelState.train_span`` over all spans."""
    times = []
    for _ in range(runs):
        rng = np.random.default_rng(0)
        W_in = ((rng.random((V, d)) - 0.5) / d).astype(np.float32)
        W_out = np.zeros((V, d), np.float32)
        state = kernel.KernelState(W_in, W_out, tables["sig"], tables["noise"], n_neg, 1,
                                   keep_prob=tables["keep"], window=window,
                                   objective="batched" if batched else "exact")
        start = time.perf_counter()
        for tokens, bounds in spans:
            state.train_span(tokens, bounds, 0.025, 0.025)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def perf_counters(level: str, mode: str, corpus: Path) -> str:
    """cycles and instructions per raw word from `perf stat`, or why there are none."""
    if shutil.which("perf") is None:
        return "perf not installed"
    cmd = ["perf", "stat", "-x,", "-e", "cycles,instructions", sys.executable, __file__,
           "--one", level, mode, "--corpus", str(corpus)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    counts = {}
    for line in out.stderr.splitlines():
        parts = line.split(",")
        if len(parts) > 2 and parts[2] in ("cycles", "instructions"):
            counts[parts[2]] = parts[0]
    if not counts or any(not v.isdigit() for v in counts.values()):
        return "perf: hardware counters not supported here"
    words = int(out.stdout.strip().split()[-1])
    return (f"{int(counts['cycles']) / words:.0f} cycles, "
            f"{int(counts['instructions']) / words:.0f} instructions per raw word "
            "(whole process, including encoding)")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--corpus", type=Path, default=DATA / "corpus" / "wiki8-1m.txt.xz")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--sample", type=float, default=1e-4)
    p.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    require_data(args.corpus)
    from cw2v import _simd

    kernels = _simd.available_kernels()
    V, enc, spans, tables = prepare(args.corpus, args.sample)
    raw = enc.raw_words
    if args.one:  # a single pass, for perf stat
        level, mode = args.one
        time_kernel(kernels[level], V, spans, tables, batched=mode == "batched", runs=1)
        print(raw)
        return 0
    print(f"corpus {args.corpus.name}: {raw} raw words, {len(enc.tokens)} in vocabulary "
          f"({V} words), sample {args.sample}; medians of {args.runs} runs, one thread\n")
    print("| kernel | mode | raw words/s | negatives | positives | subsample+loop | counters |")
    print("|---|---|---|---|---|---|---|")
    for level, kernel in kernels.items():
        for mode in ("exact", "batched"):
            batched = mode == "batched"
            full = time_kernel(kernel, V, spans, tables, batched=batched, runs=args.runs)
            pos = time_kernel(kernel, V, spans, tables, batched=batched, n_neg=0, runs=args.runs)
            base = time_kernel(kernel, V, spans, tables, batched=batched, n_neg=0, window=1,
                               runs=args.runs)
            print(f"| {level} | {mode} | {raw / full / 1e3:.0f}k | "
                  f"{100 * (full - pos) / full:.0f}% | {100 * (pos - base) / full:.0f}% | "
                  f"{100 * base / full:.0f}% | {perf_counters(level, mode, args.corpus)} |",
                  flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
