"""Memory and preparation time of ``from_corpus`` on corpora of 50M and 200M tokens, beside gensim.

    python bench/bench_memory.py [--copies 1,4] [--epochs 1] [--workers 2] [--skip-gensim]

The corpus is wiki50m (``../shared/data/corpus/wiki50m.txt.xz``), decompressed once to
``--workdir`` with a line break every 10,000 words (the one-line original would make gensim's
``corpus_file`` reader hold a 300 MB line) and repeated ``copies`` times. Each run is a child
process, so its peak resident memory (VmHWM) is its own:

* cw2v, encoded corpus on disk (the default; a fresh cache folder), then a second run on the
  same file (the cached encoding reused: the time to the first training step);
* cw2v with ``cache_dir=False`` (in memory, the previous behaviour);
* gensim 4 ``Word2Vec(corpus_file=...)`` (its file-based mode), same hyper-parameters.

Printed: peak RSS, the model's matrices (2 x V x d x 4 bytes), preparation seconds (vocabulary
and encoding; gensim: ``build_vocab``) and tokens/s, training seconds. Results to
``bench/results/memory.txt`` with ``--save``.
"""
from __future__ import annotations

import argparse
import json
import lzma
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import DATA, cpu_model, require_data  # noqa: E402

CHILD = r"""
import json, sys, time
spec = json.loads(sys.argv[1])
start = time.perf_counter()
if spec["system"] == "gensim":
    from gensim.models import Word2Vec
    model = Word2Vec(vector_size=spec["d"], window=5, min_count=5, sample=1e-4, negative=5,
                     sg=1, workers=spec["workers"], epochs=spec["epochs"], seed=1)
    model.build_vocab(corpus_file=spec["path"])
    prep = time.perf_counter() - start
    model.train(corpus_file=spec["path"], total_words=model.corpus_total_words,
                total_examples=model.corpus_count, epochs=spec["epochs"])
    words, V = model.corpus_total_words, len(model.wv)
else:
    from cw2v import Word2Vec
    cache = spec["cache_dir"] if spec["cache_dir"] is not None else False
    model = Word2Vec.from_corpus(spec["path"], d=spec["d"], window=5, min_count=5,
                                 sample=1e-4, n_neg=5, epochs=spec["epochs"],
                                 workers=spec["workers"], seed=1, cache_dir=cache,
                                 progress=False)
    prep = model.vocab_seconds
    words, V = model.raw_words, len(model.vocab)
total = time.perf_counter() - start
# VmHWM: ru_maxrss would keep the parent's peak across exec
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"rss_mb": hwm / 1024,
                  "prep_s": prep, "train_s": total - prep, "words": words, "V": V}))
"""


def prepare(workdir: Path, copies: int) -> Path:
    """wiki50m as plain text, a line every 10,000 words, ``copies`` times over."""
    one = workdir / "wiki50m-lines.txt"
    if not one.exists():
        tmp = one.with_suffix(".part")
        with lzma.open(DATA / "corpus" / "wiki50m.txt.xz", "rt") as src, open(tmp, "w") as out:
            words: list[str] = []
            carry = ""
            while True:
                chunk = src.read(1 << 24)
                if not chunk:
                    break
                parts = (carry + chunk).split(" ")
                carry = parts.pop()
                words.extend(p for p in parts if p)
                while len(words) >= 10_000:
                    out.write(" ".join(words[:10_000]) + "\n")
                    del words[:10_000]
            words.extend(p for p in carry.split() if p)
            for i in range(0, len(words), 10_000):
                out.write(" ".join(words[i:i + 10_000]) + "\n")
        tmp.rename(one)
    if copies == 1:
        return one
    many = workdir / f"wiki50m-x{copies}.txt"
    if not many.exists():
        tmp = many.with_suffix(".part")
        with open(tmp, "wb") as out:
            for _ in range(copies):
                with open(one, "rb") as src:
                    shutil.copyfileobj(src, out, 1 << 24)
        tmp.rename(many)
    return many


def run(spec: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, json.dumps(spec)], capture_output=True,
                         text=True, cwd=tempfile.gettempdir())
    if out.returncode != 0:
        raise SystemExit(f"{spec['system']} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", default="1,4", help="corpus sizes, in copies of wiki50m")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--d", type=int, default=100)
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "cw2v-bench")
    ap.add_argument("--skip-gensim", action="store_true")
    ap.add_argument("--save", action="store_true", help="append to bench/results/memory.txt")
    args = ap.parse_args()
    require_data(DATA / "corpus" / "wiki50m.txt.xz")
    args.workdir.mkdir(parents=True, exist_ok=True)
    lines = [f"# bench_memory.py on {cpu_model()}, {os.cpu_count()} cores; "
             f"{time.strftime('%Y-%m-%d')}; d={args.d}, epochs={args.epochs}, "
             f"workers={args.workers}",
             f"{'corpus':<14}{'system':<22}{'peak RSS MB':>12}{'matrices MB':>12}"
             f"{'prep s':>8}{'prep Mtok/s':>12}{'train s':>9}"]
    print(lines[0])
    print(lines[1])
    for copies in (int(c) for c in args.copies.split(",")):
        path = prepare(args.workdir, copies)
        cache_dir = Path(tempfile.mkdtemp(prefix="cw2v-bench-cache-", dir=args.workdir))
        base = {"path": str(path), "d": args.d, "epochs": args.epochs, "workers": args.workers}
        systems = [("cw2v disk", {"system": "cw2v", "cache_dir": str(cache_dir)}),
                   ("cw2v disk, reused", {"system": "cw2v", "cache_dir": str(cache_dir)}),
                   ("cw2v in memory", {"system": "cw2v", "cache_dir": None})]
        if not args.skip_gensim:
            systems.append(("gensim corpus_file", {"system": "gensim"}))
        for name, spec in systems:
            r = run({**base, **spec})
            matrices = 2 * r["V"] * args.d * 4 / 2**20
            line = (f"{f'{copies * 50}M tokens':<14}{name:<22}{r['rss_mb']:>12.0f}"
                    f"{matrices:>12.0f}{r['prep_s']:>8.1f}"
                    f"{r['words'] / max(r['prep_s'], 1e-9) / 1e6:>12.1f}{r['train_s']:>9.1f}")
            print(line, flush=True)
            lines.append(line)
        shutil.rmtree(cache_dir, ignore_errors=True)
    if args.save:
        results = HERE / "results" / "memory.txt"
        with open(results, "a") as f:
            f.write("\n".join(lines) + "\n\n")
        print(f"appended to {results}")


if __name__ == "__main__":
    main()
