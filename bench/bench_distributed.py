"""Quality of distributed training per combine rule: K ranks in one process (cw2v.comm.LocalGroup).

python bench/bench_distributed.py --mode batched --ranks 1,2,4,8 --rules bmuf --seeds 1,2,3 \
    --out bench/results/distributed-wiki8.json

Builds wiki8's vocabulary once (min_count 5), cuts the encoded corpus into K contiguous shards of
about equal size, trains K replicas (skip-gram NS, d=100, window 5, 5 noise words, sample 1e-4,
5 epochs; --hs: hierarchical softmax instead of the noise words) with
cw2v.distributed.train_rank, and scores rank 0's vectors: analogy accuracy
(30,000 words, 3CosAdd) and WordSim-353 Spearman. Each configuration runs with 2 threads in all
(K=1: 2 workers; K>=2: 1 worker a rank, the ranks' threads sharing the 2 cores), so the rows
differ by the rule and K only. Appends one JSON line per run to --out as it goes.

python bench/bench_distributed.py --table bench/results/distributed-*.json prints the medians as
the rst table of docs/performance.rst.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DATA, cpu_model, require_data  # noqa: E402

import cw2v  # noqa: E402
from cw2v import comm, corpus, distributed, evaluate  # noqa: E402


def shards(encoded: corpus.EncodedCorpus, k: int) -> list[corpus.EncodedCorpus]:
    """K contiguous pieces of about equal tokens, cut at the sentence boundary nearest each
    K-th (or mid-sentence for a corpus of one long line)."""
    n = int(encoded.tokens.shape[0])
    offsets = np.asarray(encoded.offsets, dtype=np.int64)
    cuts = [0]
    for j in range(1, k):
        target = j * n // k
        i = int(np.searchsorted(offsets, target))
        near = [int(offsets[x]) for x in (i - 1, i) if 0 <= x < len(offsets)]
        cut = min(near, key=lambda o: abs(o - target))
        cuts.append(cut if abs(cut - target) < n // (4 * k) else target)
    cuts.append(n)
    out = []
    for lo, hi in zip(cuts, cuts[1:]):
        inner = offsets[(offsets > lo) & (offsets < hi)] - lo
        offs = np.concatenate(([0], inner, [hi - lo])).astype(np.int64)
        out.append(corpus.EncodedCorpus(np.asarray(encoded.tokens[lo:hi]), offs,
                                        int(encoded.raw_words) * (hi - lo) // max(n, 1)))
    return out


def run(vocab, encoded, k: int, rule: str, seed: int, args) -> dict:
    pieces = shards(encoded, k)
    every = args.sync_tokens or distributed.default_sync_tokens(k, hs=args.hs)
    workers = max(1, args.threads // k)
    objective = dict(n_neg=0, hs=1) if args.hs else dict(n_neg=5)
    models = [cw2v.Word2Vec.from_vocabulary(vocab, d=args.d, seed=seed, epochs=args.epochs,
                                            workers=workers, mode=args.mode, sample=1e-4,
                                            window=5, lr=args.lr, **objective)
              for _ in range(k)]
    start = time.perf_counter()
    try:
        results = comm.LocalGroup(k).run(lambda c: distributed.train_rank(
            models[c.rank], pieces[c.rank], c, rule=rule, sync_tokens=every))
        diverged = None
    except comm.RankError as exc:
        if not isinstance(exc.__cause__, cw2v.TrainingDivergedError):
            raise
        results, diverged = [], str(exc)
    seconds = time.perf_counter() - start
    m = models[0]
    finite = diverged is None and bool(np.isfinite(m.W_in).all())
    a = evaluate.analogies(m, DATA / "eval" / "questions-words.txt", restrict_vocab=30000) \
        if finite else None
    w = evaluate.word_pairs(m, DATA / "eval" / "wordsim353.tsv") if finite else None
    return {"mode": args.mode + ("-hs" if args.hs else ""), "K": k, "rule": rule, "seed": seed,
            "epochs": args.epochs,
            "sync_tokens": every, "lr": args.lr,
            "analogy": round(a.accuracy, 4) if a else None,
            "wordsim": round(w.spearman, 4) if w else None, "finite": finite,
            "seconds": round(seconds, 1),
            "diverged": diverged, "syncs": results[0].syncs if results else None,
            "bytes_per_token": round(float(np.mean([r.bytes_per_token for r in results])), 2)
            if results else None,
            "sync_seconds": round(float(np.mean([r.sync_seconds for r in results])), 1)
            if results else None,
            "tokens": int(encoded.tokens.shape[0]), "cpu": cpu_model(),
            "note": "shared 2-core machine"}


def table(paths: list[str]) -> str:
    """An rst table of the runs in JSON-lines files: medians over seeds per (mode, rule, K),
    and the difference from K=1 (the same mode) in analogy points and WordSim."""
    rows = [json.loads(line) for path in paths for line in open(path) if line.strip()]
    groups: dict = {}
    for r in rows:
        groups.setdefault((r["mode"], r["rule"] if r["K"] > 1 else "(one process)", r["K"],
                           r["sync_tokens"] if r["K"] > 1 else 0), []).append(r)
    base = {}
    for (mode, rule, k, _), runs in groups.items():
        if k == 1:
            base[mode] = (np.median([r["analogy"] for r in runs]),
                          np.median([r["wordsim"] for r in runs]))
    head = ["mode", "rule", "K", "sync every", "seeds", "analogy", "vs K=1", "WordSim", "vs K=1",
            "bytes/token"]
    lines = []
    for (mode, rule, k, every), runs in sorted(groups.items(), key=lambda g: (
            g[0][0], g[0][2] > 1, g[0][1], g[0][3], g[0][2])):
        every = f"{every:,}" if every else ""
        ok = [r for r in runs if r["finite"]]
        if not ok:
            lines.append([mode, rule, str(k), every, str(len(runs)), "diverged", "", "diverged",
                          "", ""])
            continue
        a = float(np.median([r["analogy"] for r in ok]))
        w = float(np.median([r["wordsim"] for r in ok]))
        ba, bw = base.get(mode, (math.nan, math.nan))
        lines.append([mode, rule, str(k), every, str(len(runs)), f"{100 * a:.1f}",
                      f"{100 * (a - ba):+.1f}" if k > 1 else "", f"{w:.3f}",
                      f"{w - bw:+.3f}" if k > 1 else "",
                      f"{np.median([r['bytes_per_token'] for r in ok]):.1f}"])
    widths = [max(len(x) for x in col) for col in zip(head, *lines)]
    rule_line = "  ".join("=" * n for n in widths)
    fmt = lambda cells: "  ".join(c.ljust(n) for c, n in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([rule_line, fmt(head), rule_line, *map(fmt, lines), rule_line])


def main() -> None:
    if sys.argv[1:2] == ["--table"]:
        print(table(sys.argv[2:]))
        return
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", default=str(DATA / "corpus" / "wiki8.txt.xz"))
    p.add_argument("--max-tokens", type=int, default=0, help="train on the first N tokens only")
    p.add_argument("--mode", default="batched")
    p.add_argument("--ranks", default="1,2,4,8")
    p.add_argument("--rules", default=",".join(distributed.RULES))
    p.add_argument("--seeds", default="1")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--d", type=int, default=100)
    p.add_argument("--lr", type=float, default=0.025)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--sync-tokens", type=int, default=0,
                   help="tokens a rank trains between syncs (0: default_sync_tokens(K, hs))")
    p.add_argument("--hs", action="store_true",
                   help="hierarchical softmax instead of 5 noise words (rows: mode '...-hs')")
    p.add_argument("--out", required=True)
    args = p.parse_args()
    require_data(Path(args.corpus))
    vocab, encoded = corpus.build(args.corpus, min_count=5, progress=False)
    if args.max_tokens:
        n = min(args.max_tokens, int(encoded.tokens.shape[0]))
        encoded = corpus.EncodedCorpus(np.asarray(encoded.tokens[:n]),
                                       np.array([0, n], dtype=np.int64), n)
    print(f"# {cpu_model()}, shared machine; {len(vocab)} words, "
          f"{encoded.tokens.shape[0]} tokens", flush=True)
    for seed in map(int, args.seeds.split(",")):
        for k in map(int, args.ranks.split(",")):
            for rule in args.rules.split(","):
                if k == 1 and rule != args.rules.split(",")[0]:
                    continue  # one rank: every rule is plain training
                row = run(vocab, encoded, k, rule, seed, args)
                print(json.dumps(row), flush=True)
                with open(args.out, "a") as f:
                    f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
