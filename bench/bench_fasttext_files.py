"""Load time and peak RSS of a fastText .bin: cw2v (read and mapped) against the fasttext
package's ``load_model`` and gensim's ``load_facebook_model`` / ``load_facebook_vectors``.

The file is synthetic but shaped like a real one: the dictionary of wiki8-1m (words counted
at least ``--min-count`` times, ``</s>`` first, by count), random float32 matrices, fastText's
defaults (``--bucket`` 2,000,000 rows of n-grams, ``--dim`` 100). Each load runs in a fresh
process (its peak RSS is its own), the systems interleaved, ``--rounds`` times; the figures are
medians. The page cache holds the file after the first load, so these are warm-cache loads.
"anon after" and "file after" split the resident memory once loaded: pages of a mapped file
are file-backed (shared with the page cache, dropped under memory pressure, re-read on use).

    python bench/bench_fasttext_files.py [--bucket 2000000] [--dim 100] [--rounds 3]
"""
from __future__ import annotations

import argparse
import collections
import json
import lzma
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DATA, cpu_model, require_data  # noqa: E402

CORPUS = DATA / "corpus" / "wiki8-1m.txt.xz"


def _load(system: str, path: str):
    """Load ``path`` the way ``system`` does; returns the loaded object."""
    if system.startswith("cw2v-read"):
        from cw2v.fasttext_io import read_fasttext_bin
        return read_fasttext_bin(path, mmap=system.endswith("mmap"))
    if system.startswith("cw2v-vectors"):
        from cw2v.subword_vectors import SubwordVectors
        return SubwordVectors.from_fasttext_bin(path, mmap=system.endswith("mmap"))
    if system == "fasttext":
        import fasttext
        return fasttext.load_model(path)
    if system == "gensim-model":
        from gensim.models.fasttext import load_facebook_model
        return load_facebook_model(path)
    if system == "gensim-vectors":
        from gensim.models.fasttext import load_facebook_vectors
        return load_facebook_vectors(path)
    raise ValueError(system)


SYSTEMS = ["cw2v-read", "cw2v-read-mmap", "cw2v-vectors", "cw2v-vectors-mmap", "fasttext",
           "gensim-model", "gensim-vectors"]
_IMPORTS = {"cw2v": "import cw2v.fasttext_io, cw2v.subword_vectors", "fasttext": "import fasttext",
            "gensim": "import gensim.models.fasttext"}


def _peak_rss_mib() -> float:
    """This process's peak RSS (VmHWM: per process image, unlike ru_maxrss, which a child
    inherits from the parent that started it)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_now_mib() -> tuple[float, float]:
    """This process's resident memory now: (anonymous, file-backed) in MiB. Mapped pages of
    the model file are file-backed: counted in RSS, but the kernel drops them under pressure."""
    found = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("RssAnon:", "RssFile:")):
                found[line.split(":")[0]] = int(line.split()[1]) / 1024
    return found.get("RssAnon", float("nan")), found.get("RssFile", float("nan"))


def measure(system: str, path: str) -> None:
    """(In a fresh process.) Print JSON: seconds to load, peak RSS before and after, in MiB."""
    exec(_IMPORTS[system.split("-")[0]])  # the library's import is not part of the load
    before = _peak_rss_mib()
    start = time.perf_counter()
    obj = _load(system, path)
    seconds = time.perf_counter() - start
    peak = _peak_rss_mib()
    anon, mapped = _rss_now_mib()
    print(json.dumps({"seconds": seconds, "rss_before_mib": before, "peak_rss_mib": peak,
                      "anon_mib": anon, "file_mib": mapped}))
    del obj


def build(path: Path, bucket: int, dim: int, min_count: int) -> int:
    """Write the synthetic .bin; returns its number of words."""
    import numpy as np

    from cw2v.fasttext_io import FastTextFile, write_fasttext_bin

    counts: collections.Counter = collections.Counter()
    lines = 0
    with lzma.open(CORPUS, "rt", encoding="utf-8") as f:
        for line in f:
            counts.update(line.split())
            lines += 1
    kept = sorted(((c, w) for w, c in counts.items() if c >= min_count), key=lambda x: -x[0])
    words = ["</s>"] + [w for _, w in kept]
    freq = [lines] + [c for c, _ in kept]
    rng = np.random.default_rng(0)
    input_matrix = rng.random((len(words) + bucket, dim), dtype=np.float32)
    input_matrix -= 0.5  # (in place: no second copy of 800 MB)
    input_matrix /= dim
    output_matrix = np.zeros((len(words), dim), dtype=np.float32)
    write_fasttext_bin(path, FastTextFile(
        {"dim": dim, "bucket": bucket, "minCount": min_count, "ntokens": sum(counts.values())},
        words, freq, input_matrix, output_matrix))
    return len(words)


def main() -> None:
    """Build the file, then load it with each system in fresh processes, interleaved."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bucket", type=int, default=2_000_000)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--measure", nargs=2, metavar=("SYSTEM", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(*args.measure)
        return
    require_data(CORPUS)
    systems = args.systems.split(",")
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as folder:
        path = Path(folder) / "synthetic.bin"
        start = time.perf_counter()
        nwords = build(path, args.bucket, args.dim, args.min_count)
        size = path.stat().st_size
        print(f"# {path.name}: {nwords} words, bucket {args.bucket}, dim {args.dim}, "
              f"{size / 2**20:.0f} MiB, written in {time.perf_counter() - start:.1f} s")
        print(f"# CPU: {cpu_model()} (a machine shared with other jobs)")
        results: dict[str, list[dict]] = {s: [] for s in systems}
        for r in range(args.rounds):
            order = systems[r % len(systems):] + systems[:r % len(systems)]  # rotate
            for system in order:
                run = subprocess.run([sys.executable, __file__, "--measure", system, str(path)],
                                     capture_output=True, text=True)
                if run.returncode:
                    print(f"# {system} failed: {run.stderr.strip().splitlines()[-1:]}")
                    continue
                results[system].append(json.loads(run.stdout.strip().splitlines()[-1]))
    print(f"{'system':<20}{'load s':>10}{'peak RSS MiB':>14}{'RSS before':>12}"
          f"{'anon after':>12}{'file after':>12}   runs")
    for system in systems:
        runs = results[system]
        if not runs:
            continue
        print(f"{system:<20}{statistics.median(r['seconds'] for r in runs):>10.2f}"
              f"{statistics.median(r['peak_rss_mib'] for r in runs):>14.0f}"
              f"{statistics.median(r['rss_before_mib'] for r in runs):>12.0f}"
              f"{statistics.median(r['anon_mib'] for r in runs):>12.0f}"
              f"{statistics.median(r['file_mib'] for r in runs):>12.0f}   {len(runs)}")


if __name__ == "__main__":
    main()
