"""Benchmark: word vectors at scale -- memory and time of loading and of the first query,
cw2v against gensim's KeyedVectors on the same synthetic file (issue 31).

Run from anywhere::

    python bench/bench_vectors.py --rows 300000 --dim 300 [--no-text] [--no-gensim]
                                  [--no-float16] [--batch 1000]

Writes random float32 vectors (``--rows`` words ``w0``, ``w1``... of ``--dim`` dimensions, seed 0)
in word2vec binary -- and text unless ``--no-text`` -- to a temporary directory (``--dir``), then
measures each step in a child process of its own, so that each peak is that step's alone:

* load: ``cw2v.load_word2vec_format`` / ``KeyedVectors.load_word2vec_format``, binary and text;
  the native cw2v file read whole and mapped (``Vectors.load(mmap=True)``);
* the first ``most_similar`` after loading (cw2v computes the norms then; gensim ``fill_norms``);
* the median of 5 more single queries, a batch of ``--batch`` words (1,000; cw2v
  ``most_similar_batch``; 0 skips it), and the same with the vectors in float16 (converted after
  loading; ``--no-float16`` skips it).

Peak RSS is the process's ``VmHWM`` (``/proc/self/status``, Linux), reported as the growth over
the process's RSS before loading (the interpreter and NumPy), divided by the matrix's size
(rows x dim x 4 bytes), and also as the whole peak. The issue's target: growth <= 1.15x. Prints
a table and writes ``bench/results/vectors_<rows>x<dim>.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import cpu_model  # noqa: E402

CHILD = r"""
import json, sys, time
import numpy as np

def status(key):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(key))

lib, kind, path, dtype, batch = sys.argv[1:6]
batch = int(batch)
if lib == "gensim":
    from gensim.models import KeyedVectors
else:
    import cw2v
    from cw2v.io import load_word2vec_format
out = {}
base = status("VmRSS")
t = time.perf_counter()
if lib == "gensim":
    v = KeyedVectors.load_word2vec_format(path, binary=kind == "binary")
    query = lambda w: v.most_similar(w, topn=10)
else:
    if kind == "native":
        v = cw2v.Vectors.load(path)
    elif kind == "mmap":
        v = cw2v.Vectors.load(path, mmap=True)
    else:
        v = load_word2vec_format(path, binary=kind == "binary")
    if dtype == "float16":
        v = v.astype("float16")
    query = lambda w: v.most_similar(w, 10)
out["load_s"] = time.perf_counter() - t
out["load_peak"] = status("VmHWM") - base
out["base_rss"] = base
t = time.perf_counter()
query("w1")
out["first_query_s"] = time.perf_counter() - t
out["query_peak"] = status("VmHWM") - base
times = []
for i in range(2, 7):
    t = time.perf_counter()
    query(f"w{i}")
    times.append(time.perf_counter() - t)
out["query_s"] = sorted(times)[2]
if lib == "cw2v" and kind in ("binary", "mmap") and batch:
    words = [f"w{i}" for i in range(0, batch * 7, 7)]
    t = time.perf_counter()
    v.most_similar_batch(words, 10)
    out["batch1000_s"] = time.perf_counter() - t
    out["batch_peak"] = status("VmHWM") - base
print(json.dumps(out))
"""


def write_synthetic(directory: Path, rows: int, dim: int, text: bool) -> dict[str, Path]:
    """The synthetic files (binary, text, native), written a block of rows at a time."""
    from cw2v import Vectors

    rng = np.random.default_rng(0)
    paths = {"binary": directory / "vectors.bin"}
    if text:
        paths["text"] = directory / "vectors.txt"
    block = 50_000
    with open(paths["binary"], "wb") as b:
        t = open(paths["text"], "w", encoding="ascii") if text else None
        b.write(f"{rows} {dim}\n".encode())
        if t:
            t.write(f"{rows} {dim}\n")
        for start in range(0, rows, block):
            stop = min(start + block, rows)
            m = rng.standard_normal((stop - start, dim), dtype=np.float32)
            b.write(b"".join(f"w{i} ".encode() + row.tobytes() + b"\n"
                             for i, row in zip(range(start, stop), m.astype("<f4"))))
            if t:
                fmt = " ".join(["%.6g"] * dim)
                t.write("".join(f"w{i} " + fmt % tuple(row) + "\n"
                                for i, row in zip(range(start, stop), m.tolist())))
        if t:
            t.close()
    # The native file, from the binary one (the loader's memory is bounded).
    native = directory / "vectors.cw2v"
    Vectors.load_word2vec_format(paths["binary"], binary=True).save(native)
    paths["native"] = native
    return paths


def measure(lib: str, kind: str, path: Path, dtype: str = "float32", batch: int = 1000) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
               OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"),
               OPENBLAS_NUM_THREADS=os.environ.get("OPENBLAS_NUM_THREADS", "1"))
    run = subprocess.run([sys.executable, "-c", CHILD, lib, kind, str(path), dtype, str(batch)],
                         env=env, capture_output=True, text=True)
    if run.returncode:
        return {"error": run.stderr.strip().splitlines()[-1] if run.stderr else "failed"}
    return json.loads(run.stdout)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--dim", type=int, default=300)
    parser.add_argument("--no-text", action="store_true", help="skip the text format")
    parser.add_argument("--no-gensim", action="store_true", help="skip gensim")
    parser.add_argument("--no-float16", action="store_true", help="skip the float16 case")
    parser.add_argument("--batch", type=int, default=1000, help="batch size (0: no batch)")
    parser.add_argument("--dir", type=Path, default=None,
                        help="where to write the synthetic files (default: a temporary dir)")
    args = parser.parse_args(argv)
    if args.dim < 1 or args.batch < 0 or args.rows < max(7, 7 * args.batch):
        parser.error("--dim must be >= 1, --batch >= 0 and --rows >= 7 x --batch (the batch "
                     "asks the words w0, w7, w14, ...)")
    matrix_bytes = args.rows * args.dim * 4
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        t = time.perf_counter()
        paths = write_synthetic(Path(tmp), args.rows, args.dim, not args.no_text)
        print(f"wrote the synthetic files in {time.perf_counter() - t:.1f} s", flush=True)
        cases = [("cw2v", "binary", "float32")]
        cases += [] if args.no_float16 else [("cw2v", "binary", "float16")]
        cases += [] if args.no_gensim else [("gensim", "binary", "float32")]
        if not args.no_text:
            cases += [("cw2v", "text", "float32")]
            cases += [] if args.no_gensim else [("gensim", "text", "float32")]
        cases += [("cw2v", "native", "float32"), ("cw2v", "mmap", "float32")]
        results = []
        for lib, kind, dtype in cases:
            r = measure(lib, kind, paths["text" if kind == "text" else
                                         "binary" if kind == "binary" else "native"], dtype,
                        args.batch)
            r.update(lib=lib, kind=kind, dtype=dtype)
            results.append(r)
            print(json.dumps(r), flush=True)
    print(f"\n{args.rows:,} x {args.dim} float32 = {matrix_bytes / 2**20:,.0f} MiB; "
          f"CPU: {cpu_model()}; python bench/bench_vectors.py "
          + " ".join(sys.argv[1:] if argv is None else argv))
    header = ("library", "file", "load s", "load peak / matrix", "1st query s",
              "peak after 1st query / matrix", "query s", f"batch {args.batch} s")
    print(" | ".join(header))
    for r in results:
        if "error" in r:
            print(f"{r['lib']} | {r['kind']} | error: {r['error']}")
            continue
        name = r["lib"] + (" (float16)" if r["dtype"] == "float16" else "")
        batch = f"{r['batch1000_s']:.2f}" if "batch1000_s" in r else "-"
        print(f"{name} | {r['kind']} | {r['load_s']:.2f} | {r['load_peak'] / matrix_bytes:.3f} | "
              f"{r['first_query_s']:.3f} | {r['query_peak'] / matrix_bytes:.3f} | "
              f"{r['query_s']:.3f} | {batch}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"vectors_{args.rows}x{args.dim}.json"
    out.write_text(json.dumps({"rows": args.rows, "dim": args.dim, "matrix_bytes": matrix_bytes,
                               "cpu": cpu_model(), "results": results}, indent=1) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
