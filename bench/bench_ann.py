"""Approximate nearest neighbours against exact search: build time, index size, recall@10 and
queries per second, per library (faiss through cw2v's own ``build_index``; hnswlib and usearch
directly, when installed, for the comparison).

    python bench/bench_ann.py --model /tmp/w8.bin             # a word2vec binary model
    python bench/bench_ann.py --random 300000 --dim 300       # synthetic N x d gaussian rows
    python bench/bench_ann.py --random 3000000 --latent 32 --libs faiss --kinds ivf \
        --queries 1000 --single 200                           # the issue's 3M x 300 model

Queries are words drawn at random; recall@10 is |approximate top 10 & exact top 10| / 10, the
query word excluded from both; the exact answers come from ``most_similar_batch`` (a block of
rows at a time: no unit copy of the matrix), whose rate is the exact batch figure. Queries per
second one at a time are on one thread for the index (exact: ``Vectors.most_similar``;
approximate: ``most_similar(..., approximate=True)`` for cw2v, the library's own search for the
others); cw2v's indexes are also timed on batches (``AnnIndex.search`` of ``--batch`` queries,
all threads) against ``most_similar_batch``. Peak RSS is the process's ``VmHWM`` so far.
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


def exact_tops(wv: Vectors, words, k, batch):
    """The exact top k rows of each query word (itself excluded), from ``most_similar_batch``
    (blocks of rows: no unit copy of the matrix), and the batch's rate in queries/s."""
    t = time.perf_counter()
    answers = []
    for s in range(0, len(words), batch):
        answers += wv.most_similar_batch(words[s:s + batch], k)
    qps = len(words) / (time.perf_counter() - t)
    return [{wv.w2i[w] for w, _ in a} for a in answers], qps


def blas_threads(n: int | None) -> bool:
    """Set NumPy's OpenBLAS threads to ``n`` (None: the cores), through its own library;
    False if that library is not found (then the default stays)."""
    import ctypes

    with open("/proc/self/maps") as f:
        paths = sorted({line.split()[-1] for line in f if "openblas" in line.lower()})
    for path in paths:
        lib = ctypes.CDLL(path)
        for name in ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
                     "openblas_set_num_threads64_", "openblas_set_num_threads"):
            if hasattr(lib, name):
                getattr(lib, name)(n or os.cpu_count())
                return True
    return False


def peak_gb() -> float:
    """The process's peak resident memory so far (VmHWM), in GB."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM")) / 1e9


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
    ap.add_argument("--queries", type=int, default=300,
                    help="query words: recall and the batch rates are over all of them")
    ap.add_argument("--single", type=int, default=300,
                    help="of which timed one at a time (exact search: a tenth, at least 5)")
    ap.add_argument("--batch", type=int, default=1000, help="queries per batch search")
    ap.add_argument("--libs", default="faiss,hnswlib,usearch")
    ap.add_argument("--kinds", default="hnsw", help="cw2v (faiss) index kinds: hnsw,ivf")
    ap.add_argument("--M", type=int, default=32)
    ap.add_argument("--ef-construction", type=int, default=200)
    ap.add_argument("--ef", default="64,128,256,512", help="search breadths tried (HNSW)")
    ap.add_argument("--nlist", type=int, default=None, help="IVF cells (default 4 sqrt(N))")
    ap.add_argument("--nprobe", default="16,32,64,128", help="cells scanned, tried (IVF)")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="building threads")
    ap.add_argument("--exact-blas", choices=("both", "one", "all"), default="both",
                    help="time exact single queries with NumPy's BLAS on one thread, on all "
                         "cores, or both (the faster is the baseline); on a loaded machine "
                         "all cores can be 10x slower")
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
        del x
        name = f"random {a.random} x {a.dim}" + (f", intrinsic dimension {a.latent}"
                                                  if a.latent else ", iid")
    n, d = wv.vectors.shape
    print(f"# {name}: {n} x {d}, loaded in {time.perf_counter() - t:.1f}s; CPU {cpu_model()}, "
          f"{os.cpu_count()} cores (shared); M={a.M} ef_construction={a.ef_construction}; "
          f"{a.queries} queries ({a.single} one at a time), k={k}", flush=True)
    rng = np.random.default_rng(1)
    rows = rng.choice(n, min(a.queries, n), replace=False)
    words = [wv.vocab[r] for r in rows]
    wv.most_similar(words[0], k)  # the norms are computed once, not timed
    exact, qps_batch = exact_tops(wv, words, k, a.batch)
    few = words[:max(5, a.single // 10)]
    qps_all = qps_one = 0.0
    if a.exact_blas != "one":
        _, qps_all = timed(lambda w: wv.most_similar(w, k), few)
    one = blas_threads(1)
    if a.exact_blas != "all":
        _, qps_one = timed(lambda w: wv.most_similar(w, k), few)
    blas_threads(None)
    qps_exact = max(qps_all, qps_one)  # the faster is the baseline
    print(f"exact most_similar one at a time: {qps_all:.2f} queries/s (BLAS on all cores), "
          f"{qps_one:.2f} queries/s ({'BLAS on one thread' if one else 'again'}); "
          f"0: not timed")
    print(f"exact most_similar: {qps_exact:.2f} queries/s one at a time, {qps_batch:.1f} "
          f"queries/s in batches of {a.batch} (most_similar_batch); peak RSS "
          f"{peak_gb():.2f} GB (matrix {n * d * 4 / 1e9:.2f} GB)", flush=True)
    efs = [int(e) for e in a.ef.split(",")]
    probes = [int(e) for e in a.nprobe.split(",")]
    singles = words[:a.single]

    build_cpu = 0.0

    def report(lib, build_s, size, search, breadths, label="ef"):
        print(f"{lib}: build {build_s:.1f}s ({build_cpu:.0f} CPU s), size {size / 1e6:.1f} MB "
              f"({size / (n * d * 4):.2f}x the float32 matrix), peak RSS so far "
              f"{peak_gb():.2f} GB", flush=True)
        for breadth in breadths:
            found, qps, found_b, qps_b = search(breadth)
            line = (f"  {label}={breadth:4d}  recall@10 {recall(found, exact, rows, k):.3f}  "
                    f"{qps:8.0f} queries/s one at a time ({qps / qps_exact:6.1f}x exact)")
            if found_b is not None:
                line += (f"; batch recall@10 {recall(found_b, exact, rows, k):.3f}, "
                         f"{qps_b:8.0f} queries/s ({qps_b / qps_batch:6.1f}x exact batch)")
            print(line, flush=True)

    def unit_blocks():
        from cw2v.ann import _unit_blocks
        return _unit_blocks(wv)

    for lib in filter(None, a.libs.split(",")):
        try:
            if lib == "faiss":
                import faiss
                for kind in filter(None, a.kinds.split(",")):
                    params = ({"M": a.M, "ef_construction": a.ef_construction}
                              if kind == "hnsw" else {"nlist": a.nlist})
                    t, cpu0 = time.perf_counter(), time.process_time()
                    index = wv.build_index(kind=kind, threads=a.threads, **params)
                    build_s = time.perf_counter() - t
                    build_cpu = time.process_time() - cpu0
                    with tempfile.TemporaryDirectory() as tmp:
                        wv.save_index(os.path.join(tmp, "i.ann"))
                        size = os.path.getsize(os.path.join(tmp, "i.ann"))

                    def search(breadth, index=index, kind=kind):
                        if kind == "hnsw":
                            index.ef_search = breadth
                        else:
                            index.nprobe = breadth
                        faiss.omp_set_num_threads(1)
                        res, qps = timed(lambda w: wv.most_similar(w, k, approximate=True),
                                         singles)
                        faiss.omp_set_num_threads(a.threads)
                        t = time.perf_counter()
                        q = np.stack(wv._query_vector(words)[0])
                        found_b = []
                        for s in range(0, len(words), a.batch):
                            found_b += index.search(q[s:s + a.batch], k + 1)[0].tolist()
                        qps_b = len(words) / (time.perf_counter() - t)
                        return [[wv.w2i[w] for w, _ in r] for r in res], qps, found_b, qps_b
                    report(f"cw2v (faiss {type(index._index).__name__}, {index!r})", build_s,
                           size, search, efs if kind == "hnsw" else probes,
                           "ef" if kind == "hnsw" else "nprobe")
                    wv._ann_index = None
                    del index
            elif lib == "hnswlib":
                import hnswlib
                p = hnswlib.Index("ip", d)
                t, cpu0 = time.perf_counter(), time.process_time()
                p.init_index(n, M=a.M, ef_construction=a.ef_construction)
                start = 0
                for block in unit_blocks():
                    p.add_items(block, np.arange(start, start + len(block)),
                                num_threads=a.threads)
                    start += len(block)
                build_s = time.perf_counter() - t
                build_cpu = time.process_time() - cpu0
                with tempfile.TemporaryDirectory() as tmp:
                    p.save_index(os.path.join(tmp, "h"))
                    size = os.path.getsize(os.path.join(tmp, "h"))
                p.set_num_threads(1)
                q = np.stack(wv._query_vector(singles)[0])

                def search(ef):
                    p.set_ef(max(ef, k + 1))
                    found, qps = timed(lambda v: p.knn_query(v, k + 1)[0][0].tolist(), q)
                    return found, qps, None, None
                report("hnswlib", build_s, size, search, efs)
                del p
            elif lib == "usearch":
                from usearch.index import Index
                u = Index(ndim=d, metric="ip", dtype="f32", connectivity=a.M,
                          expansion_add=a.ef_construction)
                t, cpu0 = time.perf_counter(), time.process_time()
                start = 0
                for block in unit_blocks():
                    u.add(np.arange(start, start + len(block)), block, threads=a.threads)
                    start += len(block)
                build_s = time.perf_counter() - t
                build_cpu = time.process_time() - cpu0
                size = len(u.save())
                q = np.stack(wv._query_vector(singles)[0])

                def search(ef):
                    u.expansion_search = ef
                    found, qps = timed(lambda v: u.search(v, k + 1, threads=1).keys.tolist(), q)
                    return found, qps, None, None
                report("usearch", build_s, size, search, efs)
                del u
            else:
                sys.exit(f"unknown library {lib!r}")
        except ImportError as exc:
            print(f"{lib}: not installed ({exc})", flush=True)


if __name__ == "__main__":
    main()
