"""Training speed from the encoded corpus on disk against the same corpus in memory.

    python bench/bench_disk_training.py [--runs 3] [--workers 1,2] [--modes exact,batched]

wiki8 is encoded twice, once in memory (``cache_dir=False``) and once to disk (the tokens
memory-mapped, read a span at a time); the same model is then trained for one epoch from each,
the two interleaved run by run so that drift of a shared machine hits both alike. Printed:
median raw words/s of each and their ratio, per mode and worker count, with the CPU model.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import DATA, cpu_model, require_data  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--modes", default="exact,batched")
    ap.add_argument("--corpus", type=Path, default=DATA / "corpus" / "wiki8.txt.xz")
    args = ap.parse_args()
    require_data(args.corpus)
    from cw2v import Word2Vec, corpus

    vocab, in_memory = corpus.build(args.corpus, min_count=5)
    with tempfile.TemporaryDirectory() as cache_dir:
        _, on_disk = corpus.build(args.corpus, min_count=5, cache_dir=cache_dir)
        print(f"# bench_disk_training.py on {cpu_model()}; {time.strftime('%Y-%m-%d')}; "
              f"{args.corpus.name}, {in_memory.raw_words} tokens, 1 epoch, medians of "
              f"{args.runs}")
        print(f"{'mode':<9}{'workers':>8}{'memory w/s':>13}{'disk w/s':>13}{'disk/memory':>13}")
        for mode in args.modes.split(","):
            for workers in map(int, args.workers.split(",")):
                speeds: dict[str, list[float]] = {"memory": [], "disk": []}
                for _ in range(args.runs):
                    for name, encoded in (("memory", in_memory), ("disk", on_disk)):
                        model = Word2Vec.from_vocabulary(vocab, d=100, seed=1)
                        model.train(encoded, epochs=1, workers=workers, mode=mode,
                                    sample=1e-4, window=5, progress=False)
                        seconds = model.epoch_history[-1].seconds
                        speeds[name].append(encoded.raw_words / seconds)
                memory = statistics.median(speeds["memory"])
                disk = statistics.median(speeds["disk"])
                print(f"{mode:<9}{workers:>8}{memory:>13,.0f}{disk:>13,.0f}"
                      f"{disk / memory:>13.3f}", flush=True)


if __name__ == "__main__":
    main()
