"""Approximate nearest neighbours against exact search: build time, index size, recall@10 and
queries per second, per library (faiss through cw2v's own ``build_index``; hnswlib and usearch
directly, when installed, for the comparison).

    python bench/bench_ann.py --model /tmp/w8.bin             # a word2vec binary model
    python bench/bench_ann.py --random 300000 --dim 300       # synthetic N x d gaussian rows

Queries are words drawn at random; recall@10 is |approximate top 10 & exact top 10| / 10, the
query word excluded from both. Queries per second are one query at a time on one thread (exact:
``Vectors.most_similar``; approximate: ``most_similar(..., approximate=True)`` for cw2v, the
library's own search for the others), so the speed-up is per query, not per batch.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import cpu_model  # noqa: E402

from cw2v import Vectors, load_word2vec_format  # noqa: E402


def exact_tops(wv: Vectors, rows, k):
    unit = wv.vectors / np.maximum(np.linalg.norm(wv.vectors, axis=1, keepdims=True), 1e-30)
    out = []
    for r in rows:
        s = unit @ unit[r]
        s[r] = -np.inf
        out.append(set(np.argpartition(-s, k)[:k].tolist()))
    return out, unit


def recall(found, exact, rows, k):
    return float(np.mean([len(set([x for x in f if x != r][:k]) & e) / k
                          for f, e, r in zip(found, exact, rows)]))


def timed(fn, items):
    t = time.perf_counter()
    res = [fn(x) for x in items]
    return res, len(items) / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--model", help="word2vec binary model")
    src.add_argument("--random", type=int, metavar="N", help="N random gaussian rows")
    ap.add_argument("--dim", type=int, default=300)
    ap.add_argument("--latent", type=int, default=0, metavar="R",
                    help="random rows of intrinsic dimension R (R gaussian factors mixed into "
                         "--dim, plus 10%% noise), as word vectors have; 0: iid gaussian rows, "
                         "whose neighbours no index finds (the worst case)")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--libs", default="faiss,hnswlib,usearch")
    ap.add_argument("--M", type=int, default=32)
    ap.add_argument("--ef-construction", type=int, default=200)
    ap.add_argument("--ef", default="64,128,256,512", help="search breadths tried")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="building threads")
    a = ap.parse_args()
    k = 10
    t = time.perf_counter()
    if a.model:
        wv = load_word2vec_format(a.model, binary=True)
        name = os.path.basename(a.model)
    else:
        rng = np.random.default_rng(0)
        x = rng.standard_normal((a.random, a.dim), dtype=np.float32)
        if a.latent:
            mix = rng.standard_normal((a.latent, a.dim), dtype=np.float32) / np.sqrt(a.latent)
            x *= 0.1
            for s in range(0, a.random, 65536):
                z = rng.standard_normal((min(65536, a.random - s), a.latent), dtype=np.float32)
                x[s:s + len(z)] += z @ mix
        wv = Vectors([f"w{i}" for i in range(a.random)], x)
        name = f"random {a.random} x {a.dim}" + (f", intrinsic dimension {a.latent}"
                                                  if a.latent else ", iid")
    n, d = wv.vectors.shape
    print(f"# {name}: {n} x {d}, loaded in {time.perf_counter() - t:.1f}s; CPU {cpu_model()}, "
          f"{os.cpu_count()} cores; M={a.M} ef_construction={a.ef_construction}; "
          f"{a.queries} queries, k={k}", flush=True)
    rng = np.random.default_rng(1)
    rows = rng.choice(n, min(a.queries, n), replace=False)
    words = [wv.vocab[r] for r in rows]
    exact, unit = exact_tops(wv, rows, k)
    wv.most_similar(words[0], k)  # the unit vectors are computed once, not timed
    _, qps_exact = timed(lambda w: wv.most_similar(w, k), words[:max(20, len(words) // 10)])
    print(f"exact most_similar: {qps_exact:.1f} queries/s", flush=True)
    efs = [int(e) for e in a.ef.split(",")]
    q = unit[rows].astype(np.float32)

    def report(lib, build_s, size, search):
        print(f"{lib}: build {build_s:.1f}s, size {size / 1e6:.1f} MB "
              f"({size / (n * d * 4):.2f}x the float32 matrix)", flush=True)
        for ef in efs:
            found, qps = search(ef)
            print(f"  ef={ef:4d}  recall@10 {recall(found, exact, rows, k):.3f}  "
                  f"{qps:8.0f} queries/s  ({qps / qps_exact:6.1f}x exact)", flush=True)

    for lib in filter(None, a.libs.split(",")):
        try:
            if lib == "faiss":
                import faiss  # noqa: F401
                t = time.perf_counter()
                index = wv.build_index(M=a.M, ef_construction=a.ef_construction,
                                       threads=a.threads)
                build_s = time.perf_counter() - t
                with tempfile.TemporaryDirectory() as tmp:
                    wv.save_index(os.path.join(tmp, "i.ann"))
                    size = os.path.getsize(os.path.join(tmp, "i.ann"))
                faiss.omp_set_num_threads(1)

                def search(ef, index=index):
                    index.ef_search = ef
                    res, qps = timed(lambda w: wv.most_similar(w, k, approximate=True),
                                     words)
                    return [[wv.w2i[w] for w, _ in r] for r in res], qps
                report("cw2v (faiss HNSWFlat)", build_s, size, search)
            elif lib == "hnswlib":
                import hnswlib
                p = hnswlib.Index("ip", d)
                t = time.perf_counter()
                p.init_index(n, M=a.M, ef_construction=a.ef_construction)
                p.add_items(unit, num_threads=a.threads)
                build_s = time.perf_counter() - t
                with tempfile.TemporaryDirectory() as tmp:
                    p.save_index(os.path.join(tmp, "h"))
                    size = os.path.getsize(os.path.join(tmp, "h"))
                p.set_num_threads(1)

                def search(ef):
                    p.set_ef(max(ef, k + 1))
                    return timed(lambda v: p.knn_query(v, k + 1)[0][0].tolist(), q)
                report("hnswlib", build_s, size, search)
            elif lib == "usearch":
                from usearch.index import Index
                u = Index(ndim=d, metric="ip", dtype="f32", connectivity=a.M,
                          expansion_add=a.ef_construction)
                t = time.perf_counter()
                u.add(np.arange(n), unit, threads=a.threads)
                build_s = time.perf_counter() - t
                size = len(u.save())

                def search(ef):
                    u.expansion_search = ef
                    return timed(lambda v: u.search(v, k + 1, threads=1).keys.tolist(), q)
                report("usearch", build_s, size, search)
            else:
                sys.exit(f"unknown library {lib!r}")
        except ImportError as exc:
            print(f"{lib}: not installed ({exc})", flush=True)


if __name__ == "__main__":
    main()
