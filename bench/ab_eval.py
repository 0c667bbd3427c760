"""cw2v.evaluate at two commits, alternating on the same vectors: time, peak memory, answers.

    python bench/ab_eval.py --old REV [--rounds 5] [--restrict-vocab 30000]

REV is a git commit of this repository whose ``cw2v/evaluate.py`` is compared with the working
tree's (issue 31's change: the one before it normalised a V x d copy of the matrix for every
call). Both run in this process on bench_eval.py's vectors (gensim's wiki8, one epoch, 68,038
x 100, trained on the first run of either script and cached): ``analogies`` (3CosAdd and
3CosMul over the packaged Google set) and ``word_pairs`` (WordSim-353), old and new
alternating each round (the order swapped every round); ``--tasks`` picks among them.
Printed: the median wall and CPU (process) time of each, their ratios, the peak of
Python-tracked memory of one call (tracemalloc, which sees NumPy's arrays) and whether the
results are equal.
"""
from __future__ import annotations

import argparse
import dataclasses
import statistics
import subprocess
import sys
import time
import tracemalloc
import types
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def old_module(rev: str) -> types.ModuleType:
    """``cw2v/evaluate.py`` as it was at ``rev``, loaded as a module beside today's package."""
    source = subprocess.run(["git", "show", f"{rev}:cw2v/evaluate.py"], cwd=REPO, check=True,
                            capture_output=True, text=True).stdout
    source = source.replace("from ._files import", "from cw2v._files import")
    source = source.replace("from .vectors import", "from cw2v.vectors import")
    module = types.ModuleType(f"evaluate_at_{rev}")
    sys.modules[module.__name__] = module  # (dataclasses look their module up)
    exec(compile(source, f"{rev}:cw2v/evaluate.py", "exec"), module.__dict__)
    return module


def peak_bytes(fn) -> int:
    """The peak of traced allocations during one call of ``fn``."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", required=True, help="the git commit to compare with")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--restrict-vocab", type=int, default=30000)
    parser.add_argument("--tasks", nargs="+", default=["add", "mul", "pairs"],
                        choices=["add", "mul", "pairs"])
    args = parser.parse_args(argv)
    from bench_eval import cached_vectors
    from common import cpu_model

    from cw2v import evaluate as new
    from cw2v.io import load_word2vec_format

    old = old_module(args.old)
    vecs = load_word2vec_format(cached_vectors(), binary=True)
    r = args.restrict_vocab
    tasks = {
        "analogies add": lambda m: m.analogies(vecs, restrict_vocab=r),
        "analogies mul": lambda m: m.analogies(vecs, restrict_vocab=r, method="mul"),
        "word_pairs": lambda m: m.word_pairs(vecs),
    }
    tasks = {name: task for name, task in tasks.items() if name.split()[-1] in args.tasks
             or (name == "word_pairs" and "pairs" in args.tasks)}
    print(f"{len(vecs)} x {vecs.vector_size} vectors; restrict_vocab={r}; old = {args.old}, "
          f"new = working tree; {args.rounds} rounds alternating; {cpu_model()}, machine "
          f"shared with other jobs")
    print(f"{'':14} {'old s':>7} {'new s':>7} {'new/old':>7} {'old CPU':>7} {'new CPU':>7} "
          f"{'new/old':>7} {'old MB':>7} {'new MB':>7} same")
    worst = 0
    for name, task in tasks.items():
        times = {"old": [], "new": []}
        cpu = {"old": [], "new": []}
        results = {}
        for k in range(args.rounds):
            for label, module in (("old", old), ("new", new))[::1 if k % 2 == 0 else -1]:
                vecs.invalidate_norms()
                t0, c0 = time.perf_counter(), time.process_time()
                results[label] = task(module)
                times[label].append(time.perf_counter() - t0)
                cpu[label].append(time.process_time() - c0)
        peaks = {}
        for label, module in (("old", old), ("new", new)):
            vecs.invalidate_norms()
            peaks[label] = peak_bytes(lambda: task(module)) / 1e6
        # (each module has its own result class: compare their fields; repr sees NaN as NaN)
        same = repr(dataclasses.asdict(results["old"])) == repr(dataclasses.asdict(results["new"]))
        worst |= not same
        t_old, t_new = statistics.median(times["old"]), statistics.median(times["new"])
        c_old, c_new = statistics.median(cpu["old"]), statistics.median(cpu["new"])
        print(f"{name:14} {t_old:7.3f} {t_new:7.3f} {t_new / t_old:7.2f} {c_old:7.3f} "
              f"{c_new:7.3f} {c_new / c_old:7.2f} {peaks['old']:7.1f} {peaks['new']:7.1f} "
              f"{same}")
    return int(worst)


if __name__ == "__main__":
    sys.exit(main())
