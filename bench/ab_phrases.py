"""Learning and applying phrases, two or more builds of cw2v alternating on the same file (cw2v alone).

    python bench/ab_phrases.py BUILD_A BUILD_B [...] [--corpus wiki8.txt] [--rounds 4]

Each BUILD is a folder holding a built ``cw2v/`` package (a copy of the repository's ``cw2v/``
after ``python setup.py build_ext --inplace`` at each commit). Every round runs each build in a
fresh process (the order alternating): it learns the phrases of the plain-text corpus three
times (min_count 5, threshold 100), then times ``FrozenPhrases.apply_file`` five times. Printed
per build, for applying and for learning: the fastest in each round, and the medians over rounds
of the fastest and of the median.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import sys, time
from cw2v.phrases import Phrases
corpus, out = sys.argv[1], sys.argv[2]
learn = []
for _ in range(3):
    t = time.perf_counter()
    model = Phrases(corpus, min_count=5, threshold=100)
    learn.append(time.perf_counter() - t)
frozen = model.freeze()
times = []
for _ in range(5):
    t = time.perf_counter()
    frozen.apply_file(corpus, out)
    times.append(time.perf_counter() - t)
print(min(times), sorted(times)[2], min(learn), sorted(learn)[1])
"""


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("builds", nargs="+", type=Path)
    p.add_argument("--corpus", type=Path, required=True, help="a plain-text corpus (wiki8.txt)")
    p.add_argument("--rounds", type=int, default=4)
    args = p.parse_args(argv)
    for build in args.builds:
        if not (build / "cw2v").is_dir():
            p.error(f"no cw2v package under {build}")
    if not args.corpus.is_file():
        p.error(f"no such corpus file: {args.corpus}")
    results: dict[Path, list[tuple[float, ...]]] = {b: [] for b in args.builds}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for build in args.builds if r % 2 == 0 else args.builds[::-1]:
                env = dict(os.environ, PYTHONPATH=str(build.resolve()))
                # run in tmp: with "-c" the working directory comes first on sys.path, and a
                # repository's own cw2v/ there would shadow the build's
                out = subprocess.run([sys.executable, "-c", CHILD, str(args.corpus.resolve()),
                                      str(Path(tmp) / "out.txt")], env=env, check=True, cwd=tmp,
                                     capture_output=True, text=True).stdout.split()
                results[build].append(tuple(float(x) for x in out))
    for build, runs in results.items():
        for what, i in (("apply", 0), ("learn", 2)):
            print(f"{build} {what}: fastest per round "
                  f"{' '.join(f'{r[i]:.3f}' for r in runs)} s | median of fastest "
                  f"{statistics.median(r[i] for r in runs):.3f} s, of medians "
                  f"{statistics.median(r[i + 1] for r in runs):.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
