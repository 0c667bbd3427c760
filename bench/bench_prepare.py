"""Preparation throughput: the vocabulary pass (count + encode) of ``cw2v.corpus.build``.

    python bench/bench_prepare.py [--workers 1,2] [--runs 3] [--corpus PATH]

On wiki50m as shipped (one line, xz) and as plain text with a line every 10,000 words
(``bench_memory.py`` makes it): the pass of before (the str reader: text decoded and split by
``str.split()``, words counted in a dict; in memory, one process), the compiled reader in
memory, and the pass to disk with 1 and 2 (or ``--workers``) processes. Each run is a fresh
cache folder, so nothing is reused. Printed: median seconds and tokens/s, and the speed-up over
the pass of before, with the CPU model.
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
from bench_memory import cpu_model, prepare  # noqa: E402
from common import DATA, require_data  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "cw2v-bench")
    args = ap.parse_args()
    xz = DATA / "corpus" / "wiki50m.txt.xz"
    require_data(xz)
    args.workdir.mkdir(parents=True, exist_ok=True)
    plain = prepare(args.workdir, 1)
    from cw2v import corpus

    print(f"# bench_prepare.py on {cpu_model()}; {time.strftime('%Y-%m-%d')}; medians of "
          f"{args.runs}")
    print(f"{'corpus':<22}{'pass':<22}{'seconds':>9}{'Mtok/s':>9}{'speed-up':>10}")
    for label, path in (("wiki50m.txt.xz", xz), ("wiki50m plain lines", plain)):
        baseline = None
        for name, workers, to_disk in [("before: str reader", 1, False),
                                       ("in memory, 1 process", 1, False)] + [
                (f"disk, {w} process{'es' if w > 1 else ''}", w, True)
                for w in map(int, args.workers.split(","))]:
            times, tokens = [], 0
            reads_bytes = corpus.reads_bytes
            if name.startswith("before"):
                corpus.reads_bytes = lambda encoding, errors: False
            for _ in range(args.runs):
                with tempfile.TemporaryDirectory(dir=args.workdir) as cache_dir:
                    start = time.perf_counter()
                    vocab, encoded = corpus.build(path, min_count=5, workers=workers,
                                                  cache_dir=cache_dir if to_disk else None)
                    times.append(time.perf_counter() - start)
                    tokens = encoded.raw_words
                    del vocab, encoded
            corpus.reads_bytes = reads_bytes
            seconds = statistics.median(times)
            baseline = baseline or seconds
            print(f"{label:<22}{name:<22}{seconds:>9.1f}{tokens / seconds / 1e6:>9.2f}"
                  f"{baseline / seconds:>10.2f}", flush=True)


if __name__ == "__main__":
    main()
