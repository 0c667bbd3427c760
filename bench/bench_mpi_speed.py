"""Distributed training's speed: ``mpiexec -n 2`` with one worker a rank against one process with
two workers, on wiki8 (skip-gram NS, the benchmark protocol's settings), runs interleaved; the
bytes each rank puts into the exchange per token (MPI at K=2, the in-process group at K=4 and 8 on
a slice, since the rows touched between two combines grow with K); and from them a projection of
the efficiency at 8 and 32 nodes on a 10 Gb/s network.

    python bench/bench_mpi_speed.py [--reps 2] [--epochs 1] [--sync-tokens N]
        [--out bench/results/mpi-speed.json]

Training seconds only (the vocabulary pass is timed apart): one process's epoch seconds; the
distributed run's rank 0 epoch seconds (every rank ends an epoch at the same full combine, so
rank 0's is the job's). Run on a shared machine: read ratios of interleaved runs, not absolutes.
"""
from __future__ import annotations

import argparse
import json
import lzma
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DATA, cpu_model, require_data  # noqa: E402

from cw2v.distributed import default_sync_tokens  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = dict(d=100, window=5, n_neg=5, sample=1e-4, min_count=5, seed=1)

# One run, in a child process: "single" (one process, 2 workers) or "rank" (under mpiexec).
CHILD = r'''
import json, sys, time
from cw2v import Word2Vec, distributed
from cw2v import corpus as corpus_io
kind, path, epochs, settings = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4])
sync = int(sys.argv[5]) if len(sys.argv) > 5 else None
start = time.perf_counter()
if kind == "single":
    vocab, encoded = corpus_io.build(path, min_count=settings["min_count"], cache_dir=None, workers=2)
    prep = time.perf_counter() - start
    model = Word2Vec.from_vocabulary(vocab, workers=2, epochs=epochs, **settings)
    stats = model.train(encoded)
    out = {"kind": kind, "prep": prep, "train": sum(s.seconds for s in stats),
           "tokens": int(encoded.tokens.shape[0]) * epochs, "raw": vocab.total_words * epochs}
else:
    from cw2v import _cluster, _mpi
    comm = _mpi.world()
    s = {**settings, "workers": 1, "max_vocab": None, "max_vocab_size": None}
    vocab, encoded = _cluster._shared_corpus(comm, path, s, "utf-8", "strict", None, False)
    prep = time.perf_counter() - start
    model = Word2Vec.from_vocabulary(vocab, workers=1, epochs=epochs, **settings)
    result = distributed.train_rank(model, encoded, comm, **({} if sync is None else {"sync_tokens": sync}))
    out = {"kind": f"mpi{comm.size}", "rank": comm.rank, "prep": prep,
           "train": sum(e.seconds for e in result.epochs), "bytes_per_token": result.bytes_per_token,
           "syncs": result.syncs, "sync_seconds": result.sync_seconds,
           "tokens": result.tokens, "raw": vocab.total_words * epochs}
    if comm.rank != 0:
        sys.exit(0)
print("RESULT " + json.dumps(out), flush=True)
'''

# Bytes per token at K ranks in one process (LocalGroup), on a slice: the exchange's size
# depends on the rows touched between combines, not on speed.
LOCAL = r'''
import json, sys
from cw2v import Word2Vec, distributed, _cluster
from cw2v.comm import LocalGroup
path, k, settings = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
def rank(comm):
    s = {**settings, "workers": 1, "max_vocab": None, "max_vocab_size": None}
    vocab, encoded = _cluster._shared_corpus(comm, path, s, "utf-8", "strict", None, False)
    model = Word2Vec.from_vocabulary(vocab, workers=1, epochs=1, **settings)
    r = distributed.train_rank(model, encoded, comm)
    return r.bytes_per_token, r.syncs
out = LocalGroup(k).run(rank)
print("RESULT " + json.dumps({"k": k, "bytes_per_token": out[0][0], "syncs": out[0][1]}))
'''


def run(args, env) -> dict:
    proc = subprocess.run(args, env=env, capture_output=True, text=True, cwd=tempfile.gettempdir())
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise SystemExit(f"run failed ({proc.returncode}): {' '.join(args[:6])}...\n{proc.stderr[-3000:]}")


def mpiexec() -> str:
    beside = Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else (shutil.which("mpiexec") or "mpiexec")


def projection(bpt: dict, words_per_s: float, sync_tokens: int, nodes: int,
               gbit: float = 10.0, latency: float = 20e-6, collectives: int = 5) -> float:
    """Efficiency (training time / (training + exchange)) at ``nodes`` nodes: each node trains
    ``sync_tokens`` tokens at ``words_per_s``, then a ring all-reduce moves 2 (K-1)/K of its
    buffer (``bpt`` bytes a token, the largest K measured for K beyond it) over ``gbit`` Gb/s,
    with ``collectives`` all-reduces of 2 (K-1) steps of ``latency`` each. No overlap (the
    combine blocks), as the driver does."""
    k_known = max(k for k in bpt if k <= nodes)
    buffer = bpt[k_known] * sync_tokens
    train = sync_tokens / words_per_s
    comm = 2 * (nodes - 1) / nodes * buffer / (gbit * 1e9 / 8) \
        + collectives * 2 * (nodes - 1) * latency
    return train / (train + comm)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--slice-mb", type=int, default=12, help="slice for K=4, 8 bytes/token")
    parser.add_argument("--sync-tokens", type=int, default=None,
                        help="the MPI runs' period (default: the library's at K=2)")
    parser.add_argument("--corpus", default=str(DATA / "corpus" / "wiki8.txt.xz"),
                        help="the corpus (default: wiki8)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "mpi-speed.json"))
    args = parser.parse_args()
    load_before = os.getloadavg()
    source = Path(args.corpus)
    require_data(source)
    work = Path(tempfile.mkdtemp(prefix="cw2v-mpi-bench-"))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for name in ("PMI_RANK", "PMI_SIZE", "PMIX_RANK", "OMPI_COMM_WORLD_SIZE", "SLURM_PROCID"):
        env.pop(name, None)
    try:
        corpus = work / "wiki8.txt"
        with lzma.open(source) as f, open(corpus, "wb") as g:
            shutil.copyfileobj(f, g, 1 << 24)
        settings = json.dumps(SETTINGS)
        runs = []
        for rep in range(args.reps):  # interleaved: single, mpi, single, mpi...
            for kind in ("single", "mpi"):
                if kind == "single":
                    cmd = [sys.executable, "-c", CHILD, "single", str(corpus), str(args.epochs),
                           settings]
                else:
                    cmd = [mpiexec(), "-n", "2", sys.executable, "-c", CHILD, "rank",
                           str(corpus), str(args.epochs), settings,
                           str(args.sync_tokens or default_sync_tokens(2))]
                r = run(cmd, env)
                r["rep"] = rep
                runs.append(r)
                print(f"rep {rep} {r['kind']:>6}: train {r['train']:.1f} s, "
                      f"{r['raw'] / r['train'] / 1e3:.0f}k raw words/s"
                      + (f", {r['bytes_per_token']:.1f} B/token, {r['syncs']} combines, "
                         f"{r['sync_seconds']:.1f} s combining" if "syncs" in r else ""),
                      flush=True)
        single = [r["train"] for r in runs if r["kind"] == "single"]
        mpi = [r["train"] for r in runs if r["kind"] == "mpi2"]
        ratios = [s / m for s, m in zip(single, mpi)]
        bpt = {2: statistics.median(r["bytes_per_token"] for r in runs if r["kind"] == "mpi2")}
        cut = work / "slice.txt"
        with open(corpus, "rb") as f:
            data = f.read(args.slice_mb << 20)
        cut.write_bytes(data[:data.rfind(b" ") + 1])
        local = {}
        for k in (2, 4, 8):
            r = run([sys.executable, "-c", LOCAL, str(cut), str(k), settings], env)
            local[k] = r["bytes_per_token"]
            print(f"in-process K={k} on a {args.slice_mb} MB slice: {r['bytes_per_token']:.1f} "
                  f"B/token a rank, {r['syncs']} combines", flush=True)
        # bytes a token at K: MPI's at 2, scaled by the slice's growth from 2 to 4 and 8
        for k in (4, 8):
            bpt[k] = bpt[2] * local[k] / local[2]
        raw = runs[0]["raw"]
        node_speed = raw / statistics.median(single)  # one 2-core node, 2 workers
        table = []
        for speed, label in ((node_speed, "this 2-core node"), (8e6, "a 16-core node (8M words/s)")):
            for nodes in (8, 32):
                # the period the bytes a token were measured at (the default at that K)
                sync = default_sync_tokens(max(k for k in bpt if k <= nodes))
                table.append({"node": label, "words_per_s": speed, "nodes": nodes,
                              "sync_tokens": sync,
                              "efficiency": projection(bpt, speed, sync, nodes)})
        summary = {"cpu": cpu_model(), "shared_machine": True, "epochs": args.epochs,
                   "sync_tokens": args.sync_tokens or default_sync_tokens(2),
                   "loadavg_before": load_before,
                   "settings": SETTINGS, "runs": runs,
                   "median_single_s": statistics.median(single),
                   "median_mpi2_s": statistics.median(mpi),
                   "speed_ratios_mpi2_over_single": ratios,
                   "median_ratio": statistics.median(ratios),
                   "bytes_per_token": bpt, "bytes_per_token_in_process_slice": local,
                   "projection": table,
                   "command": "python bench/bench_mpi_speed.py " + " ".join(sys.argv[1:])}
        print(json.dumps({k: v for k, v in summary.items() if k != "runs"}, indent=1))
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(summary, indent=1) + "\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
