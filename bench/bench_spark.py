"""Benchmark: Spark MLlib's Word2Vec as the anchor of the multi-node comparison (issue 29).

Run from anywhere::

    python bench/bench_spark.py [--iterations 5] [--partitions 1 2 4] [--runs 1]
                                [--systems spark cw2v cw2v-dist] [--rules bmuf mllib]
                                [--out PATH]

Spark MLlib's Word2Vec (``pyspark.ml.feature.Word2Vec``, no network) trains on wiki8 with vectorSize 100, windowSize 5, minCount 5, ``--iterations`` iterations and
numPartitions K for each K of ``--partitions``. wiki8 is one line of 17M tokens; MLlib cuts
sentences at maxSentenceLength (1000 tokens), so the corpus is written once as lines of 1,000
tokens (bench/results/cache/, a folder that ignores itself in git) and both systems read that
file, with the same sentence boundaries. MLlib's objective is skip-gram with hierarchical
softmax and no subsampling of frequent words; each partition trains from the broadcast model
for a whole iteration, then the rows the partitions changed are averaged (SPARK-24666).

Where it runs matters. ``--spark-master local`` (the default) is ``local[2]``: one JVM, whose
tasks read the broadcast arrays as one shared object and update them in place (MLlib's
``iter.foldLeft((bcSyn0Global.value, bcSyn1Global.value, ...))``), so K partitions there train
one model, two threads at a time, and the average of K identical rows is that row: its rows at
K > 1 are not MLlib's averaging. ``--spark-master local-cluster`` is ``local-cluster[K,1,2048]``:
K executor JVMs of one core each, each partition its own copy of the model, averaged at the
iteration's end, as on K machines (its CPU seconds are the driver's and the executors').

Against it, in the same script:

* ``cw2v``: cw2v's SG-HS at K=1 (``Word2Vec.from_corpus(..., sg=1, hs=1, n_neg=0, d=100,
  window=5, min_count=5, epochs=ITERATIONS)``), ``sample=0`` (MLlib's objective: every token
  trained) with 1 worker (one core, as one MLlib partition) and 2 workers (the machine), and
  cw2v's default ``sample=1e-3`` with 2 workers;
* ``cw2v-dist``: cw2v's SG-HS at K=2, 4 ranks (one worker each, ``sample=0``) through
  ``cw2v.distributed.train_rank`` with the in-process ``cw2v.comm.LocalGroup(K)``, each rank
  training a contiguous K-th of the sentences, combining by ``--rules`` (default: the
  module's ``DEFAULT_RULE``; ``mllib`` is MLlib's averaging, reproduced). Skipped, saying so,
  where those modules are absent.

Each Spark fit runs in a child process of its own (a fresh JVM). Each row reports the wall
time of training only (MLlib's ``fit``, which includes its vocabulary pass, on a DataFrame
already read and cached; cw2v's ``from_corpus``, vocabulary pass included) and with startup
(for Spark: the JVM and session, reading the text, ``fit`` and ``getVectors``), the CPU seconds
of training (the JVM's user + system time during ``fit``, from /proc; cw2v's process time: the
figure to compare on a shared machine), words/s (in-vocabulary tokens x passes / training
time), and quality on the vectors returned (``model.getVectors()`` as a ``cw2v.Vectors``,
rows by descending count): Google analogies (3CosAdd, restrict_vocab=30000) and WordSim-353
Spearman, by ``cw2v.evaluate``. Rows are added to ``--out`` (default
``bench/results/spark-<iterations>it.json``; rows of other configurations already there are
kept, so several runs can share it) as each finishes, with the medians over ``--runs`` (seeds
1, 2, ...). Needs the shared data folder (../shared/data beside the repository, or
$CW2V_SHARED_DATA) and, for the Spark rows, pyspark with a Java runtime (``pip install
"cw2v[bench]"``, and e.g. Debian's ``openjdk-17-jre-headless``).
"""
from __future__ import annotations

import argparse
import json
import lzma
import math
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DATA, cpu_model, require_data  # noqa: E402

CACHE_DIR = REPO / "bench" / "results" / "cache"
SENTENCE = 1000  # tokens a line: MLlib's maxSentenceLength
D, WINDOW, MIN_COUNT = 100, 5, 5


# -- the corpus -----------------------------------------------------------------------------------


def sentences_file(corpus: str = "wiki8") -> Path:
    """The corpus as lines of 1,000 tokens (written once into the benchmark cache)."""
    source = DATA / "corpus" / f"{corpus}.txt.xz"
    require_data(source)
    path = CACHE_DIR / f"{corpus}-{SENTENCE}.txt"
    if path.exists():
        return path
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    ignore = CACHE_DIR / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# benchmark cache, rebuilt by the benchmarks\n*\n")
    with lzma.open(source, "rt", encoding="utf-8") as f:
        tokens = f.read().split()
    tmp = path.with_suffix(".partial")
    with open(tmp, "w", encoding="utf-8") as out:
        for i in range(0, len(tokens), SENTENCE):
            out.write(" ".join(tokens[i:i + SENTENCE]) + "\n")
    os.replace(tmp, path)
    return path


def word_counts(path: Path) -> Counter:
    """Counts of every token of the file (to sort MLlib's vectors by descending count)."""
    counts: Counter = Counter()
    with open(path, encoding="utf-8") as f:
        for line in f:
            counts.update(line.split())
    return counts


# -- quality --------------------------------------------------------------------------------------


def quality(vectors) -> dict:
    """Google analogies (3CosAdd, 30,000 most frequent words) and WordSim-353 Spearman."""
    from cw2v.evaluate import analogies, word_pairs

    return {"analogy": analogies(vectors).accuracy, "wordsim": word_pairs(vectors).spearman}


# -- Spark ----------------------------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (Linux /proc), NaN elsewhere."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def _tree_cpu_seconds(pid: int) -> float:
    """``_cpu_seconds`` of process ``pid`` and of its descendants now running (the executor
    JVMs that a local-cluster driver starts)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parent = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry))
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        total += _cpu_seconds(p)
        todo += children.get(p, [])
    return total


def spark_child(path: Path, partitions: int, iterations: int, seed: int,
                master: str = "local") -> dict:
    """``spark_run`` in a child process of its own: a fresh JVM each time, started in the
    timing "with startup"."""
    command = [sys.executable, __file__, "--child", str(path), str(partitions),
               str(iterations), str(seed), master]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"the Spark child failed ({done.returncode}): {done.stderr[-800:]}")
    return json.loads(done.stdout.splitlines()[-1])


def spark_run(path: Path, counts: Counter, partitions: int, iterations: int, seed: int,
              master: str = "local") -> dict:
    """One MLlib Word2Vec training in a fresh session: times, the JVMs' CPU seconds during
    ``fit``, words/s, quality. ``master``: ``local`` is ``local[2]``, one JVM whose tasks share
    the broadcast model arrays (MLlib's partitions then train one copy, not K: see the module's
    docstring); ``local-cluster`` is ``local-cluster[K,1,2048]``, K executor JVMs of one core,
    each partition its own copy of the model, as on K machines."""
    from cw2v import Vectors

    t_start = time.perf_counter()
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F
    from pyspark.ml.feature import Word2Vec as SparkWord2Vec

    url = "local[2]" if master == "local" else f"local-cluster[{partitions},1,2048]"
    spark = (SparkSession.builder.master(url).appName("cw2v-bench-spark")
             .config("spark.driver.memory", "4g").config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.driver.host", "127.0.0.1")
             .config("spark.driver.bindAddress", "127.0.0.1").getOrCreate())
    try:
        spark.sparkContext.setLogLevel("ERROR")
        frame = (spark.read.text(str(path))
                 .select(F.split(F.col("value"), " ").alias("text")).cache())
        frame.count()
        gateway = getattr(spark.sparkContext, "_gateway", None)
        jvm = getattr(getattr(gateway, "proc", None), "pid", None)
        cpu0 = _tree_cpu_seconds(jvm) if jvm else float("nan")
        t_fit = time.perf_counter()
        model = SparkWord2Vec(vectorSize=D, windowSize=WINDOW, minCount=MIN_COUNT,
                              maxIter=iterations, numPartitions=partitions, seed=seed,
                              maxSentenceLength=SENTENCE, inputCol="text",
                              outputCol="vector").fit(frame)
        fit_s = time.perf_counter() - t_fit
        fit_cpu_s = (_tree_cpu_seconds(jvm) if jvm else float("nan")) - cpu0
        rows = model.getVectors().collect()
    finally:
        spark.stop()
    total_s = time.perf_counter() - t_start
    rows.sort(key=lambda r: -counts[r["word"]])  # stable: ties keep MLlib's order
    vectors = Vectors([r["word"] for r in rows],
                      np.array([r["vector"].toArray() for r in rows], dtype=np.float32))
    words = sum(c for c in counts.values() if c >= MIN_COUNT)
    return {"fit_s": fit_s, "total_s": total_s, "fit_cpu_s": fit_cpu_s,
            "words_per_s": words * iterations / fit_s, "vocab": len(vectors),
            "finite": bool(np.isfinite(vectors.vectors).all()), **quality(vectors)}


# -- cw2v -----------------------------------------------------------------------------------------


def cw2v_settings(iterations: int, seed: int, **extra) -> dict:
    """cw2v's SG-HS with MLlib's settings."""
    return dict(sg=1, hs=1, n_neg=0, d=D, window=WINDOW, min_count=MIN_COUNT, epochs=iterations,
                seed=seed, **extra)


def cw2v_run(path: Path, iterations: int, seed: int, workers: int, sample: float) -> dict:
    """One cw2v SG-HS training in this process (K=1)."""
    from cw2v import Word2Vec

    t0, cpu0 = time.perf_counter(), time.process_time()
    model = Word2Vec.from_corpus(str(path), progress=False, cache_dir=False,
                                 **cw2v_settings(iterations, seed, workers=workers,
                                                 sample=sample))
    fit_s, fit_cpu_s = time.perf_counter() - t0, time.process_time() - cpu0
    words = sum(e.words for e in model.epoch_history)
    return {"fit_s": fit_s, "total_s": fit_s, "fit_cpu_s": fit_cpu_s, "words_per_s": words / fit_s,
            "vocab": len(model.wv), "finite": bool(np.isfinite(model.wv.vectors).all()),
            **quality(model.wv)}


def distributed_modules():
    """(cw2v.comm, cw2v.distributed), or None with the reason they cannot be used."""
    try:
        from cw2v import comm, distributed
    except ImportError as exc:
        return None, (f"cw2v.comm / cw2v.distributed not importable ({exc}); they arrive with "
                      f"issue 29's branches: rerun `python bench/bench_spark.py --systems "
                      f"cw2v-dist` after the merge")
    return (comm, distributed), ""


def shard(encoded, rank: int, size: int, strided: bool = False):
    """Rank ``rank``'s share of the sentences of an EncodedCorpus: contiguous (a rank's byte
    range, what ``cw2v train --distributed`` reads), or ``strided``: sentences rank, rank + K,
    ... (MLlib's ``repartition`` deals the sentences out alike, so its partitions are samples of
    the whole corpus)."""
    from cw2v.corpus import EncodedCorpus

    n = len(encoded.offsets) - 1
    offsets = np.asarray(encoded.offsets, dtype=np.int64)
    if strided:
        picked = np.arange(rank, n, size)
        pieces = [np.asarray(encoded.read(int(offsets[i]), int(offsets[i + 1]))) for i in picked]
        lengths = offsets[picked + 1] - offsets[picked]
        tokens = np.ascontiguousarray(np.concatenate(pieces))
        return EncodedCorpus(tokens, np.concatenate([[0], np.cumsum(lengths)]), tokens.size)
    a, b = n * rank // size, n * (rank + 1) // size
    lo, hi = int(offsets[a]), int(offsets[b])
    tokens = np.ascontiguousarray(encoded.read(lo, hi))
    return EncodedCorpus(tokens, offsets[a:b + 1] - lo, hi - lo)


def cw2v_dist_run(path: Path, iterations: int, seed: int, size: int, modules,
                  rule: str, sample: float = 0.0, sync_tokens: int | None = None,
                  strided: bool = False) -> dict:
    """One cw2v SG-HS training with ``size`` ranks of LocalGroup, one worker each."""
    from cw2v import Word2Vec
    from cw2v.corpus import build

    comm, distributed = modules
    t0, cpu0 = time.perf_counter(), time.process_time()
    vocab, encoded = build(str(path), min_count=MIN_COUNT)
    settings = cw2v_settings(iterations, seed, workers=1, sample=sample)

    def rank_main(communicator):
        model = Word2Vec.from_vocabulary(vocab, **settings)  # same seed: same start everywhere
        distributed.train_rank(model, shard(encoded, communicator.rank, size, strided),
                               communicator, rule=rule, sync_tokens=sync_tokens)
        return model if communicator.rank == 0 else None

    model = comm.LocalGroup(size).run(rank_main)[0]
    fit_s, fit_cpu_s = time.perf_counter() - t0, time.process_time() - cpu0
    words = len(encoded.tokens) * iterations
    return {"fit_s": fit_s, "total_s": fit_s, "fit_cpu_s": fit_cpu_s, "words_per_s": words / fit_s,
            "vocab": len(model.wv), "finite": bool(np.isfinite(model.wv.vectors).all()),
            **quality(model.wv)}


# -- driver ---------------------------------------------------------------------------------------

FIGURES = ("fit_s", "total_s", "fit_cpu_s", "words_per_s", "analogy", "wordsim")


def medians(rows: list[dict]) -> list[dict]:
    """One row per configuration, the median of each figure over its runs."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        if "error" not in row:
            groups.setdefault(_key(row)[:-1], []).append(row)
    return [{"system": s, "K": k, "workers": w, "sample": smp, "rule": rule, "runs": len(g),
             **{f: _median(r.get(f) for r in g) for f in FIGURES}}
            for (s, k, w, smp, rule), g in groups.items()]


def _median(values) -> float | None:
    """The median of the values given (None: not measured), or None if none was."""
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def _key(row: dict) -> tuple:
    """What identifies a row: its configuration, then its seed."""
    rule = row.get("rule")
    if row.get("sync_tokens"):
        rule = f"{rule}/{row['sync_tokens']}"
    if row.get("shards"):
        rule = f"{rule}/{row['shards']}"
    if row.get("master"):
        rule = row["master"]
    return row["system"], row["K"], row["workers"], row["sample"], rule, row["seed"]


def write(out: Path, report: dict, row: dict) -> None:
    """Add ``row`` to the report (replacing a row of the same configuration and seed) and write
    it as JSON, atomically; rows another run wrote to the file meanwhile are kept."""
    rows = json.loads(out.read_text())["rows"] if out.exists() else report["rows"]
    report["rows"] = [r for r in rows if _key(r) != _key(row)] + [row]
    report["medians"] = medians(report["rows"])
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report, indent=1) + "\n")
    os.replace(tmp, out)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:  # spark_child's process: one row as JSON on stdout
        path = Path(argv[1])
        row = spark_run(path, word_counts(path), *map(int, argv[2:5]), *argv[5:6])
        print(json.dumps(row))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=5,
                        help="MLlib's numIterations and cw2v's epochs (default 5)")
    parser.add_argument("--partitions", type=int, nargs="+", default=[1, 2, 4],
                        help="MLlib's numPartitions, cw2v's ranks K (default 1 2 4)")
    parser.add_argument("--runs", type=int, default=1, help="runs of each configuration "
                        "(seeds 1, 2, ...; medians reported)")
    parser.add_argument("--systems", nargs="+", default=["spark", "cw2v", "cw2v-dist"],
                        choices=["spark", "cw2v", "cw2v-dist"])
    parser.add_argument("--rules", nargs="+", help="cw2v-dist: cw2v.distributed's combine "
                        "rules (default: its DEFAULT_RULE; 'mllib' is MLlib's averaging)")
    parser.add_argument("--dist-samples", type=float, nargs="+", default=[0.0],
                        help="cw2v-dist: its sample values (default 0, MLlib's: it does not "
                        "subsample; cw2v's K=1 rows also run at 1e-3)")
    parser.add_argument("--sync-tokens", type=int, help="cw2v-dist: tokens a rank between two "
                        "combines (default: cw2v's default_sync_tokens(K); more than a shard "
                        "holds: one combine an epoch, MLlib's schedule)")
    parser.add_argument("--spark-master", choices=["local", "local-cluster"], default="local",
                        help="spark: local[2] (one JVM: its tasks share the model arrays) or "
                        "local-cluster[K,1,2048] (K executor JVMs: K copies averaged, as on K "
                        "machines)")
    parser.add_argument("--shards", choices=["contiguous", "strided"], default="contiguous",
                        help="cw2v-dist: each rank's sentences, a contiguous range (default, "
                        "as cw2v train --distributed reads) or every K-th (as MLlib deals them)")
    parser.add_argument("--corpus", default="wiki8", choices=["wiki8", "wiki8-1m"],
                        help="wiki8-1m: a quick check of the script, not a figure")
    parser.add_argument("--out", type=Path, help="JSON results (default "
                        "bench/results/spark-<iterations>it.json; rows already there are kept)")
    args = parser.parse_args(argv)
    out = args.out or REPO / "bench" / "results" / f"spark-{args.iterations}it.json"
    path = sentences_file(args.corpus)
    counts = word_counts(path)
    report = json.loads(out.read_text()) if out.exists() else {}
    report.update({
        "command": "python bench/bench_spark.py " + " ".join(argv),
        "cpu": cpu_model(), "cores": os.cpu_count(),
        "machine": "shared with other jobs: times are noisy",
        "corpus": f"{args.corpus}, {sum(counts.values())} tokens in lines of {SENTENCE}",
        "in_vocab_tokens": sum(c for c in counts.values() if c >= MIN_COUNT),
        "iterations": args.iterations, "d": D, "window": WINDOW, "min_count": MIN_COUNT})
    report.setdefault("rows", [])
    print(f"{report['corpus']}; {report['cpu']} ({report['cores']} cores, shared); "
          f"{args.iterations} iterations; results to {out}", flush=True)

    jobs = []
    for run in range(args.runs):
        seed = run + 1
        if "spark" in args.systems:
            try:
                import pyspark  # noqa: F401
            except ImportError:
                sys.exit('bench: the Spark rows need pyspark (pip install "cw2v[bench]") and a '
                         'Java runtime')
            jobs += [("spark", k, 1, 0.0, None, seed,
                      lambda k=k, s=seed: spark_child(path, k, args.iterations, s,
                                                      args.spark_master))
                     for k in args.partitions]
        if "cw2v" in args.systems:
            jobs += [("cw2v", 1, w, smp, None, seed,
                      lambda w=w, smp=smp, s=seed: cw2v_run(path, args.iterations, s, w, smp))
                     for w, smp in ((1, 0.0), (2, 0.0), (2, 1e-3))]
        if "cw2v-dist" in args.systems:
            modules, reason = distributed_modules()
            if modules is None:
                print(f"skipped cw2v-dist: {reason}", flush=True)
                report["cw2v_dist_skipped"] = reason
            else:
                report.pop("cw2v_dist_skipped", None)
                rules = args.rules or [modules[1].DEFAULT_RULE]
                jobs += [("cw2v-dist", k, 1, smp, rule, seed,
                          lambda k=k, s=seed, r=rule, smp=smp: cw2v_dist_run(
                              path, args.iterations, s, k, modules, r, smp, args.sync_tokens,
                              args.shards == "strided"))
                         for smp in args.dist_samples for rule in rules
                         for k in args.partitions if k > 1]

    for system, k, workers, sample, rule, seed, job in jobs:
        label = f"{system} K={k} workers={workers} sample={sample:g} rule={rule} seed={seed}"
        print(f"{label} ...", flush=True)
        row = {"system": system, "K": k, "workers": workers, "sample": sample, "rule": rule,
               "seed": seed}
        if system == "cw2v-dist" and args.sync_tokens:
            row["sync_tokens"] = args.sync_tokens
        if system == "cw2v-dist" and args.shards != "contiguous":
            row["shards"] = args.shards
        if system == "spark" and args.spark_master != "local":
            row["master"] = args.spark_master
        try:
            row.update(job())
        except Exception as exc:  # one failed configuration does not lose the others
            row["error"] = f"{type(exc).__name__}: {exc}"[:500]
        print(f"  {row}", flush=True)
        write(out, report, row)

    print(f"\n{'system':10} {'K':>2} {'workers':>7} {'sample':>6} {'rule':>6} {'train s':>8} "
          f"{'total s':>8} {'CPU s':>7} {'words/s':>10} {'analogy':>8} {'WS353':>6}")
    for m in medians(report["rows"]):
        print(f"{m['system']:10} {m['K']:2d} {m['workers']:7d} {m['sample']:6g} "
              f"{m['rule'] or '':>6} "
              f"{m['fit_s']:8.1f} {m['total_s']:8.1f} "
              f"{'-' if m['fit_cpu_s'] is None else format(m['fit_cpu_s'], '7.1f'):>7} "
              f"{m['words_per_s']:10.0f} "
              f"{m['analogy']:8.4f} {m['wordsim']:6.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
