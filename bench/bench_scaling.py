"""Thread scaling: cw2v (both modes) and gensim, workers 1..N, in one process per system.

    python bench/bench_scaling.py --workers 1,2,4,8,16 [--corpus PATH] [--epochs 1]

Builds each system's vocabulary once, then trains a fresh model for each worker count, so
the many-core machine's time goes to training. Same protocol as bench_train.py (skip-gram,
d=100, window 5, negative 5, sample 1e-4, min_count 5; gensim in corpus_file mode on a copy cut
into 1,000-word lines). Prints raw words/s, words/s per thread and parallel efficiency
(speed / (workers x speed at 1 worker)).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_train import HYPER, prepare_corpus_copies  # noqa: E402
from common import DATA, require_data  # noqa: E402


def cw2v_rates(corpus: Path, workers: list[int], epochs: int, mode: str) -> dict[int, float]:
    import cw2v
    from cw2v import corpus as corpus_io

    vocab, enc = corpus_io.build(corpus, min_count=HYPER["min_count"])
    rates = {}
    for w in workers:
        m = cw2v.Word2Vec.from_vocabulary(vocab, d=HYPER["d"], n_neg=HYPER["n_neg"],
                                          seed=HYPER["seed"])
        stats = m.train(enc, epochs=epochs, workers=w, mode=mode, sample=HYPER["sample"],
                        window=HYPER["window"], progress=False)
        rates[w] = enc.raw_words * epochs / sum(s.seconds for s in stats)
        per_epoch = ", ".join(f"{enc.raw_words / s.seconds / 1e3:.0f}k" for s in stats)
        print(f"cw2v {mode} workers={w}: {rates[w] / 1e3:.0f}k raw words/s (per epoch: "
              f"{per_epoch})", flush=True)
    return rates


def gensim_rates(lines: Path, workers: list[int], epochs: int) -> dict[int, float]:
    from gensim.models import Word2Vec
    from gensim.models.callbacks import CallbackAny2Vec

    from bench_train import _EpochTimer

    rates = {}
    g = Word2Vec(sg=1, vector_size=HYPER["d"], window=HYPER["window"], negative=HYPER["n_neg"],
                 sample=HYPER["sample"], min_count=HYPER["min_count"], seed=HYPER["seed"], hs=0)
    g.build_vocab(corpus_file=str(lines))
    for w in workers:
        g.workers = w
        g.init_weights()
        timer = type("EpochTimer", (_EpochTimer, CallbackAny2Vec), {})()
        start = time.perf_counter()
        g.train(corpus_file=str(lines), total_words=g.corpus_total_words,
                total_examples=g.corpus_count, epochs=epochs, callbacks=[timer])
        rates[w] = g.corpus_total_words * epochs / (time.perf_counter() - start)
        per_epoch = ", ".join(f"{g.corpus_total_words / s / 1e3:.0f}k" for s in timer.seconds)
        print(f"gensim corpus_file workers={w}: {rates[w] / 1e3:.0f}k raw words/s (per epoch: "
              f"{per_epoch})", flush=True)
    return rates


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--corpus", type=Path, default=DATA / "corpus" / "wiki8.txt.xz")
    p.add_argument("--workers", default="1,2,4,8,16")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--no-gensim", action="store_true")
    p.add_argument("--modes", default="exact,batched", help="cw2v modes to run")
    args = p.parse_args(argv)
    require_data(args.corpus)
    from diagnose_epochs import cpu_model

    print(f"# {cpu_model()}, {os.cpu_count()} CPUs; {args.epochs} epoch(s) per run", flush=True)
    workers = [int(w) for w in args.workers.split(",")]
    table = {f"cw2v {m}": cw2v_rates(args.corpus, workers, args.epochs, m)
             for m in args.modes.split(",")}
    if not args.no_gensim:
        with tempfile.TemporaryDirectory() as tmp:
            _, lines = prepare_corpus_copies(args.corpus, Path(tmp))
            table["gensim corpus_file"] = gensim_rates(lines, workers, args.epochs)
    print("\n| system | workers | raw words/s | per thread | parallel efficiency | vs gensim |")
    print("|---|---|---|---|---|---|")
    g = table.get("gensim corpus_file", {})
    for name, rates in table.items():
        for w, r in rates.items():
            ratio = f"{r / g[w]:.2f}x" if g and name != "gensim corpus_file" else ""
            print(f"| {name} | {w} | {r / 1e3:.0f}k | {r / w / 1e3:.0f}k | "
                  f"{r / (w * rates[workers[0]] / workers[0]):.2f} | {ratio} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
