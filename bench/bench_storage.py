"""Benchmark: what float16 and int8 storage keep of a model's quality, and the memory they save.

Run from anywhere::

    python bench/bench_storage.py [--model /tmp/cw2v-storage/w8-e5.bin] [--queries 200]

The model is a word2vec binary file; when it does not exist, it is trained first with cw2v on
wiki8 (``python -m cw2v train wiki8.txt.xz -o MODEL --binary --d 100 --epochs 5 --workers 2
--mode batched``: batched skip-gram with negative sampling) and kept for the next run. Then,
for the vectors as float32 (as read), ``astype("float16")`` and ``astype("int8")``:

* memory: the matrix (and int8's scales) in bytes, and the size of the native file (``save``);
* the largest error of a stored value against float32, relative to its row's largest value;
* Google analogies (``cw2v.evaluate.analogies``, questions-words, ``restrict_vocab=30000``,
  3CosAdd) and WordSim-353 (``cw2v.evaluate.word_pairs``, Spearman);
* the share of the exact top 10 neighbours (``most_similar_batch``) of ``--queries`` words
  drawn among the 30,000 most frequent that the float32 vectors also give;
* the median time of one ``most_similar`` (20 words, the three storages taking turns).

Prints a table and writes ``bench/results/storage-<model>.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DATA, cpu_model, require_data  # noqa: E402

from cw2v import evaluate, load_word2vec_format  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def train(model: Path) -> None:
    """Train the wiki8 model with cw2v's CLI (5 epochs, batched skip-gram NS, 2 workers)."""
    corpus = DATA / "corpus" / "wiki8.txt.xz"
    require_data(corpus)
    model.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "cw2v", "train", str(corpus), "-o", str(model), "--binary",
           "--d", "100", "--epochs", "5", "--workers", "2", "--mode", "batched", "--no-progress"]
    print("training:", " ".join(cmd[1:]), flush=True)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    subprocess.run(cmd, check=True, env=env)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", type=Path, default=Path(tempfile.gettempdir()) / "cw2v-storage"
                    / "w8-e5.bin", help="word2vec binary model (trained on wiki8 if missing)")
    ap.add_argument("--queries", type=int, default=200)
    a = ap.parse_args()
    if not a.model.exists():
        train(a.model)
    base = load_word2vec_format(a.model, binary=True)
    n, d = base.vectors.shape
    print(f"# {a.model.name}: {n} x {d}; CPU {cpu_model()}, {os.cpu_count()} cores (shared)",
          flush=True)
    stores = {name: base if name == "float32" else base.astype(name)
              for name in ("float32", "float16", "int8")}
    rng = np.random.default_rng(0)
    words = [base.vocab[i] for i in rng.choice(min(n, 30000), a.queries, replace=False)]
    wordsim = DATA / "eval" / "wordsim353.tsv"
    reference = None
    times = {name: [] for name in stores}
    for word in words[:20]:  # the storages take turns, so the machine's load hits them alike
        for name, v in stores.items():
            t = time.perf_counter()
            v.most_similar(word, 10)
            times[name].append(time.perf_counter() - t)
    rows = {}
    for name, v in stores.items():
        with tempfile.TemporaryDirectory() as tmp:
            v.save(os.path.join(tmp, "v.cw2v"))
            file_bytes = os.path.getsize(os.path.join(tmp, "v.cw2v"))
        matrix_bytes = v.vectors.nbytes + (0 if v.scales is None else v.scales.nbytes)
        values = v.astype("float32").vectors
        peak = np.maximum(np.abs(base.vectors).max(axis=1, keepdims=True), 1e-30)
        rel_err = float((np.abs(values - base.vectors) / peak).max())
        ana = evaluate.analogies(v, DATA / "eval" / "questions-words.txt", restrict_vocab=30000)
        sim = evaluate.word_pairs(v, wordsim if wordsim.exists() else None)
        tops = [[w for w, _ in ans] for ans in v.most_similar_batch(words, 10)]
        if reference is None:
            reference = tops
        overlap = float(np.mean([len(set(t) & set(r)) / 10 for t, r in zip(tops, reference)]))
        rows[name] = {"matrix_bytes": matrix_bytes, "file_bytes": file_bytes,
                      "max_rel_error": rel_err, "analogy": ana.accuracy,
                      "analogy_semantic": ana.semantic_accuracy,
                      "analogy_syntactic": ana.syntactic_accuracy, "answered": ana.answered,
                      "wordsim_spearman": sim.spearman, "wordsim_pairs": sim.pairs_used,
                      "top10_overlap": overlap,
                      "query_s": statistics.median(times[name])}
    print(f"{'storage':8} {'matrix MB':>9} {'file MB':>8} {'max err':>8} {'analogy':>8} "
          f"{'sem':>6} {'syn':>6} {'WS353':>6} {'top10':>6} {'query ms':>8}")
    for name, r in rows.items():
        print(f"{name:8} {r['matrix_bytes'] / 1e6:9.2f} {r['file_bytes'] / 1e6:8.2f} "
              f"{r['max_rel_error']:8.5f} {r['analogy']:8.4f} {r['analogy_semantic']:6.4f} "
              f"{r['analogy_syntactic']:6.4f} {r['wordsim_spearman']:6.4f} "
              f"{r['top10_overlap']:6.3f} {r['query_s'] * 1e3:8.2f}")
    print(f"(analogies answered: {rows['float32']['answered']}; WordSim pairs: "
          f"{rows['float32']['wordsim_pairs']}; max err: largest |stored - float32| over the "
          f"row's largest |value|; top10: share of float32's exact top 10 of {a.queries} words)")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"storage-{a.model.stem}.json"
    out.write_text(json.dumps({"model": str(a.model), "shape": [n, d], "cpu": cpu_model(),
                               "rows": rows}, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
