"""Per-epoch speed of one training run, with what changes in the weights as training goes on.

    python bench/diagnose_epochs.py --workers 2 --mode exact --epochs 4
    python bench/diagnose_epochs.py --workers 2 --lr 0.025 --min-lr 0.025     # constant lr

Prints, after every epoch: raw words/s, and of W_in and W_out the share of subnormal values
(|x| < 2**-126, not zero), the largest |x|, and the share of sampled (context, center) dot
products beyond the sigmoid table's range (|f| > 6, where the gradient is exactly zero). Issue
11 (multi-epoch slowdown with two workers) was diagnosed with it; see docs/performance.rst.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import DATA, cpu_model, require_data  # noqa: E402

TINY = np.finfo(np.float32).tiny


def weight_stats(model, encoded, rng) -> dict:
    """Subnormal shares, largest magnitudes, saturated share of sampled pair dot products."""
    out = {}
    for name in ("W_in", "W_out"):
        w = getattr(model, name)
        a = np.abs(w)
        out[name + "_subnormal"] = float(np.count_nonzero((a < TINY) & (a > 0)) / a.size)
        out[name + "_max"] = float(a.max())
    pos = rng.integers(0, encoded.tokens.shape[0] - 1, 20000)
    ctx, center = encoded.tokens[pos], encoded.tokens[pos + 1]
    f = np.einsum("ij,ij->i", model.W_in[ctx], model.W_out[center])
    noise = rng.integers(0, len(model.vocab), 20000)
    fn = np.einsum("ij,ij->i", model.W_in[ctx], model.W_out[noise])
    out["pos_saturated"] = float(np.mean(f > 6))
    out["neg_saturated"] = float(np.mean(fn < -6))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--corpus", type=Path, default=DATA / "corpus" / "wiki8.txt.xz")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--mode", default="exact")
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--lr", type=float, default=0.025)
    p.add_argument("--min-lr", type=float, default=1e-4)
    p.add_argument("--no-stats", action="store_true", help="skip the weight statistics")
    args = p.parse_args()
    require_data(args.corpus)
    from cw2v import Word2Vec, corpus
    from cw2v._simd import kernel

    print(f"# {cpu_model()}, {os.cpu_count()} CPUs; workers={args.workers} mode={args.mode} "
          f"lr {args.lr} -> {args.min_lr}, {args.epochs} epochs, "
          f"kernel {kernel.compiled_level()}", flush=True)
    vocab, encoded = corpus.build(args.corpus, min_count=5)
    model = Word2Vec.from_vocabulary(vocab, d=100, n_neg=5, seed=1, lr=args.lr)
    rng = np.random.default_rng(0)

    def report(m, stats) -> None:
        line = f"epoch {stats.epoch}: {encoded.raw_words / stats.seconds / 1e3:8.0f}k raw words/s"
        if not args.no_stats:
            s = weight_stats(m, encoded, rng)
            line += ("  subnormal W_in {W_in_subnormal:.2e} W_out {W_out_subnormal:.2e}  "
                     "max {W_in_max:.2f}/{W_out_max:.2f}  saturated +{pos_saturated:.3f} "
                     "-{neg_saturated:.3f}").format(**s)
        print(line, flush=True)

    model.train(encoded, epochs=args.epochs, workers=args.workers, mode=args.mode, lr=args.lr,
                min_lr=args.min_lr, window=5, sample=1e-4, progress=False, callbacks=[report])


if __name__ == "__main__":
    main()
