"""Subword models side by side: cw2v.FastText, the fasttext package and gensim's FastText.

    python bench/bench_subwords.py [--systems cw2v,fasttext,gensim] [--steps STEPS]
                                   [--seeds 2,3] [--force] [--workdir DIR]
    python bench/bench_subwords.py --report [--rst]

Corpus: wiki8 (``../shared/data/corpus/wiki8.txt.xz`` or ``$CW2V_SHARED_DATA``), cut into lines of
1,000 tokens (the same file for every system). Hyper-parameters: d=100, window 5, 5 noise words,
sample 1e-4, min_count 5, minn 3, maxn 6, bucket 2,000,000, lr 0.05 (fastText's default),
skip-gram. Steps, each run in a child process of its own (its peak RSS is its VmHWM), the
systems interleaved within a step:

* ``speed-1w-1e``, ``speed-1w-5e`` (seed 1; also scored for quality), ``speed-2w-1e``: wall time,
  vocabulary time, training time, raw words/s and words/s per thread, peak RSS; and the CPU
  seconds of the whole run (all threads, vocabulary pass included: cw2v's is one call), whose
  raw words x epochs per CPU second is the speed that a machine shared with other jobs does
  not distort (wall time there measures the other jobs too) and that the ratios use;
* ``quality`` (5 epochs, 2 workers, the ``--seeds``): analogy (30,000 words, 3CosAdd; semantic
  and syntactic sections apart) and WordSim-353 Spearman, on each system's in-vocabulary vectors;
* ``heldout``: 200 words of middle frequency (deterministic), every line holding any of them
  dropped, 5 epochs at 2 workers (seed 1); per held-out word, the Spearman correlation between
  its cosines to 1,000 anchor words in that model (composed vector) and in the model trained on
  everything (``speed-1w-5e``, same system, same seed); the median over the words;
* ``load``: peak RSS of loading the fasttext package's ``.bin`` from ``speed-1w-5e`` (until that
  run exists, fastText's epoch=0 model of wiki8: the same matrices, so the same size) with
  ``fasttext.load_model``, gensim's ``load_facebook_model``, and cw2v (mapped and not), and of
  loading cw2v's own ``.bin`` from its ``speed-1w-5e`` run.

Each run is one record, ``bench/results/subwords-<system>-<step>[-s<seed>].json``, written as it
finishes; a record already there is skipped (``--force`` reruns it), so systems can be run at
different times. ``--report`` merges every record into one table with medians and the ratios
cw2v/fasttext and cw2v/gensim.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import lzma
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import DATA, cpu_model, require_data  # noqa: E402

RESULTS = HERE / "results"
CORPUS = DATA / "corpus" / "wiki8.txt.xz"
EVAL = DATA / "eval"
SYSTEMS = ("cw2v", "fasttext", "gensim")
STEPS = ("speed-1w-1e", "speed-1w-5e", "speed-2w-1e", "quality", "heldout", "load")
HYPER = dict(d=100, window=5, neg=5, sample=1e-4, min_count=5, min_n=3, max_n=6,
             bucket=2_000_000, lr=0.05)
LINE_TOKENS = 1000
N_HELDOUT, N_ANCHORS = 200, 1000
HELDOUT_BAND = (20, 40)  # corpus counts of the held-out words: "middle frequency"
ANCHOR_RANKS = (100, 1100)  # anchors: frequent words, ranks 100..1099 of the full corpus


# -- the corpus and the held-out words -----------------------------------------------------------

def prepare(workdir: Path) -> dict:
    """wiki8 in 1,000-token lines, the held-out word and anchor lists, and the corpus without
    the lines holding a held-out word; paths and counts in ``workdir/meta.json``."""
    meta_path = workdir / "meta.json"
    if meta_path.exists():
        return json.loads(meta_path.read_text())
    workdir.mkdir(parents=True, exist_ok=True)
    with lzma.open(CORPUS, "rt", encoding="utf-8") as f:
        tokens = f.read().split()
    lines = [" ".join(tokens[i:i + LINE_TOKENS]) for i in range(0, len(tokens), LINE_TOKENS)]
    full = workdir / "wiki8-lines.txt"
    full.write_text("\n".join(lines) + "\n", encoding="utf-8")
    counts = Counter(tokens)
    ranked = sorted(counts, key=lambda w: (-counts[w], w))
    lo, hi = HELDOUT_BAND
    band = [w for w in ranked if lo <= counts[w] <= hi and w.isalpha() and len(w) >= 5]
    # Deterministic and spread over the band: ordered by a hash of the word.
    heldout = sorted(band, key=lambda w: hashlib.sha1(w.encode()).hexdigest())[:N_HELDOUT]
    held = set(heldout)
    anchors = [w for w in ranked[ANCHOR_RANKS[0]:] if w not in held][:N_ANCHORS]
    kept = [line for line in lines if held.isdisjoint(line.split())]
    rest = workdir / "wiki8-heldout-lines.txt"
    rest.write_text("\n".join(kept) + "\n", encoding="utf-8")
    meta = dict(full=str(full), heldout_corpus=str(rest), raw_words=len(tokens),
                lines=len(lines), heldout_lines_kept=len(kept),
                heldout_raw_words=sum(len(line.split()) for line in kept),
                heldout=heldout, anchors=anchors, heldout_band=list(HELDOUT_BAND),
                anchor_ranks=list(ANCHOR_RANKS))
    meta_path.write_text(json.dumps(meta))
    return meta


# -- one run, in a child process ----------------------------------------------------------------

def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM) in MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def rss_mb() -> float:
    """This process's resident memory now (VmRSS) in MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cpu_s() -> float:
    """CPU seconds this process has used so far, all its threads, user and system."""
    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


def train_fasttext(spec: dict):
    """The fasttext package's C++ trainer; (vocab s, train s, lookup, words in frequency order)."""
    import fasttext

    kw = dict(model="skipgram", dim=HYPER["d"], ws=HYPER["window"], neg=HYPER["neg"],
              loss="ns", t=HYPER["sample"], minCount=HYPER["min_count"], minn=HYPER["min_n"],
              maxn=HYPER["max_n"], bucket=HYPER["bucket"], lr=HYPER["lr"],
              thread=spec["workers"], verbose=0)
    # This fasttext package takes no seed (it lists one in its defaults and then refuses it):
    # its threads seed their generators with their thread number, so a run at 1 thread is the
    # same every time and runs at 2 threads differ only by the threads' timing. "seed" is then
    # the run's number.
    # fastText reads the corpus for its dictionary inside train_unsupervised: an epoch=0 run
    # times that pass alone, and is subtracted from the whole run's wall time.
    t0, c0 = time.perf_counter(), cpu_s()
    fasttext.train_unsupervised(spec["corpus"], epoch=0, **kw)
    vocab_s, vocab_cpu = time.perf_counter() - t0, cpu_s() - c0
    t0, c0 = time.perf_counter(), cpu_s()
    m = fasttext.train_unsupervised(spec["corpus"], epoch=spec["epochs"], **kw)
    wall, whole_cpu = time.perf_counter() - t0, cpu_s() - c0
    spec["cpu"] = dict(cpu_s=whole_cpu, vocab_cpu_s=vocab_cpu, train_cpu_s=whole_cpu - vocab_cpu)
    if spec.get("save"):
        m.save_model(spec["save"])
    return vocab_s, wall - vocab_s, m.get_word_vector, list(m.get_words())


def train_gensim(spec: dict):
    """gensim's FastText in its corpus_file mode (its fastest)."""
    from gensim.models import FastText

    g = FastText(vector_size=HYPER["d"], window=HYPER["window"], negative=HYPER["neg"], hs=0,
                 sg=1, sample=HYPER["sample"], min_count=HYPER["min_count"],
                 min_n=HYPER["min_n"], max_n=HYPER["max_n"], bucket=HYPER["bucket"],
                 alpha=HYPER["lr"], workers=spec["workers"], seed=spec["seed"])
    t0, c0 = time.perf_counter(), cpu_s()
    g.build_vocab(corpus_file=spec["corpus"])
    vocab_s, vocab_cpu = time.perf_counter() - t0, cpu_s() - c0
    t0, c1 = time.perf_counter(), cpu_s()
    g.train(corpus_file=spec["corpus"], total_words=g.corpus_total_words,
            total_examples=g.corpus_count, epochs=spec["epochs"])
    train_s = time.perf_counter() - t0
    spec["cpu"] = dict(cpu_s=cpu_s() - c0, vocab_cpu_s=vocab_cpu, train_cpu_s=cpu_s() - c1)
    if spec.get("save"):
        from gensim.models.fasttext import save_facebook_model
        save_facebook_model(g, spec["save"])
    return vocab_s, train_s, g.wv.__getitem__, list(g.wv.index_to_key)


def train_cw2v(spec: dict):
    """cw2v.FastText.from_corpus (vocabulary and training times from the model's own record);
    the corpus encoded afresh each run (``cache_dir=False``), as the others read theirs."""
    from cw2v.fasttext import FastText
    from cw2v.subword_vectors import SubwordVectors

    t0, c0 = time.perf_counter(), cpu_s()
    m = FastText.from_corpus(spec["corpus"], sg=1, hs=0, n_neg=HYPER["neg"], d=HYPER["d"],
                             window=HYPER["window"], epochs=spec["epochs"], lr=HYPER["lr"],
                             sample=HYPER["sample"], min_count=HYPER["min_count"],
                             min_n=HYPER["min_n"], max_n=HYPER["max_n"], bucket=HYPER["bucket"],
                             workers=spec["workers"], seed=spec["seed"], progress=False,
                             cache_dir=False)
    wall = time.perf_counter() - t0
    # The vocabulary pass and training are one call: their CPU seconds together only.
    spec["cpu"] = dict(cpu_s=cpu_s() - c0, vocab_cpu_s=None, train_cpu_s=None)
    vocab_s = getattr(m, "vocab_seconds", None)
    history = getattr(m, "epoch_history", None)
    train_s = sum(e.seconds for e in history) if history else wall - (vocab_s or 0.0)
    if vocab_s is None:
        vocab_s = wall - train_s
    if spec.get("save"):
        from cw2v.cli import _write_fasttext  # the glue cw2v skipgram writes its .bin with
        _write_fasttext(m, bin_path=spec["save"])
    # Any word's vector, composed from its n-grams (the vocabulary's: the same as m.wv's).
    wv = SubwordVectors(m.vocab, m.input_matrix, m.min_n, m.max_n, m.bucket)
    return vocab_s, train_s, wv.__getitem__, list(m.vocab)


def vectors_of(lookup, words):
    import numpy as np

    return np.stack([np.asarray(lookup(w), dtype=np.float32) for w in words])


def child_train(spec: dict) -> dict:
    """Train one model; time it; with spec["quality"], score it; save the held-out/anchor rows."""
    import numpy as np

    trainer = {"cw2v": train_cw2v, "fasttext": train_fasttext, "gensim": train_gensim}
    vocab_s, train_s, lookup, words = trainer[spec["system"]](spec)
    res = dict(vocab_s=vocab_s, train_s=train_s, vocab_size=len(words),
               peak_rss_mb=peak_rss_mb(), **spec["cpu"])
    if spec.get("quality"):
        import cw2v
        from cw2v import evaluate

        # Every system's in-vocabulary vectors in its frequency order (fastText's "</s>" out).
        known = [w for w in words if w != "</s>"]
        vecs = cw2v.Vectors(known, vectors_of(lookup, known))
        ana = evaluate.analogies(vecs, EVAL / "questions-words.txt", restrict_vocab=30000)
        ws = evaluate.word_pairs(vecs, EVAL / "wordsim353.tsv")
        res.update(analogy=ana.accuracy, analogy_semantic=ana.semantic_accuracy,
                   analogy_syntactic=ana.syntactic_accuracy, analogy_answered=ana.answered,
                   analogy_sections={k: v[2] for k, v in ana.sections.items()},
                   wordsim=ws.spearman, wordsim_pairs=ws.pairs_used)
    if spec.get("rows"):
        # Held-out words (composed when unseen) and anchors, for the held-out protocol.
        names = spec["heldout"] + spec["anchors"]
        np.save(spec["rows"], vectors_of(lookup, names))
        known = set(words)
        res["heldout_in_vocab"] = sum(w in known for w in spec["heldout"])
        res["anchors_in_vocab"] = sum(w in known for w in spec["anchors"])
    return res


def child_makebin(spec: dict) -> dict:
    """fastText's model of wiki8 at epoch=0 (vocabulary and initial matrices), saved."""
    import fasttext

    m = fasttext.train_unsupervised(spec["corpus"], epoch=0, dim=HYPER["d"],
                                    minCount=HYPER["min_count"], minn=HYPER["min_n"],
                                    maxn=HYPER["max_n"], bucket=HYPER["bucket"], verbose=0)
    m.save_model(spec["bin"])
    return dict(saved=spec["bin"])


def child_load(spec: dict) -> dict:
    """Load a .bin with one client and compose one unseen word's vector: peak RSS, seconds."""
    base = rss_mb()
    t0 = time.perf_counter()
    if spec["loader"] == "fasttext":
        import fasttext
        m = fasttext.load_model(spec["bin"])
        v = m.get_word_vector("unseenwordish")
    elif spec["loader"] == "gensim":
        from gensim.models.fasttext import load_facebook_model
        m = load_facebook_model(spec["bin"])
        v = m.wv["unseenwordish"]
    else:
        from cw2v.subword_vectors import SubwordVectors
        kw = {"mmap": True} if spec["loader"] == "cw2v-mmap" else {}
        m = SubwordVectors.from_fasttext_bin(spec["bin"], **kw)
        v = m["unseenwordish"]
    seconds = time.perf_counter() - t0
    assert len(v) == HYPER["d"]
    return dict(load_s=seconds, peak_rss_mb=peak_rss_mb(), base_rss_mb=base)


def run_child(spec: dict) -> dict:
    """Run one spec in a fresh interpreter (its own peak RSS); its result, or its error."""
    env = dict(os.environ, PYTHONPATH=str(HERE.parent) + os.pathsep
               + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)],
                         capture_output=True, text=True, env=env, cwd=tempfile.gettempdir())
    if out.returncode != 0:
        tail = out.stderr.strip().splitlines()[-1:] or ["no output"]
        return dict(error=f"exit {out.returncode}: {tail[0]}"[:500])
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- the parent: the steps, one record per run ---------------------------------------------------

def record_path(system: str, step: str, seed: int | None = None) -> Path:
    return RESULTS / (f"subwords-{system}-{step}" + (f"-s{seed}" if seed else "") + ".json")


def env_info() -> dict:
    import importlib.metadata as md

    versions = {}
    for pkg in ("cw2v", "fasttext-numpy2", "fasttext", "gensim", "numpy"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return dict(cpu=cpu_model(), cores=os.cpu_count(), host=platform.node(),
                date=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
                loadavg_before=os.getloadavg()[0], versions=versions,
                note="machine shared with other jobs: timings are noisy")


def save_record(path: Path, rec: dict) -> None:
    rec["loadavg_after"] = os.getloadavg()[0]
    tmp = path.with_suffix(".part")
    tmp.write_text(json.dumps(rec, indent=1) + "\n")
    os.replace(tmp, path)
    summary = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in rec.items()
               if k in ("system", "step", "seed", "error", "train_s", "words_per_s_per_thread",
                        "analogy", "analogy_syntactic", "wordsim", "heldout_median_spearman",
                        "peak_rss_mb")}
    print(json.dumps(summary), flush=True)


def train_step(system: str, step: str, seed: int, meta: dict, workdir: Path) -> dict:
    """One training run of ``step`` for ``system``; the record."""
    if step.startswith("speed"):
        workers, epochs = int(step.split("-")[1][:-1]), int(step.split("-")[2][:-1])
    else:
        workers, epochs = 2, 5
    corpus = meta["heldout_corpus"] if step == "heldout" else meta["full"]
    raw = meta["heldout_raw_words"] if step == "heldout" else meta["raw_words"]
    spec = dict(kind="train", system=system, corpus=corpus, workers=workers, epochs=epochs,
                seed=seed, quality=step in ("speed-1w-5e", "quality"))
    if step in ("speed-1w-5e", "heldout"):
        spec.update(rows=str(workdir / f"rows-{system}-{step}.npy"),
                    heldout=meta["heldout"], anchors=meta["anchors"])
    if step == "speed-1w-5e" and system != "gensim":
        spec["save"] = str(workdir / f"{system}-full.bin")
    rec = dict(system=system, step=step, seed=seed, workers=workers, epochs=epochs,
               raw_words=raw, hyper=HYPER, **env_info())
    t0 = time.perf_counter()
    rec.update(run_child(spec))
    rec["wall_s"] = time.perf_counter() - t0
    if "train_s" in rec:
        rec["words_per_s"] = raw * epochs / rec["train_s"]
        rec["words_per_s_per_thread"] = rec["words_per_s"] / workers
    if rec.get("cpu_s"):
        rec["words_per_cpu_s"] = raw * epochs / rec["cpu_s"]
    if step == "heldout" and "error" not in rec:
        rec.update(heldout_score(system, meta, workdir))
    return rec


def heldout_score(system: str, meta: dict, workdir: Path) -> dict:
    """Median over held-out words of Spearman(cosines to the anchors: held-out model, full)."""
    import numpy as np
    from cw2v.evaluate import spearman

    full_rows = workdir / f"rows-{system}-speed-1w-5e.npy"
    if not full_rows.exists():
        return dict(heldout_error=f"{full_rows} missing: run speed-1w-5e first")
    n = len(meta["heldout"])

    def cosines(rows):
        rows = rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
        return rows[:n] @ rows[n:].T  # held-out words x anchors

    held = cosines(np.load(workdir / f"rows-{system}-heldout.npy"))
    full = cosines(np.load(full_rows))
    rho = [spearman(full[i], held[i]) for i in range(n)]
    rho = [r for r in rho if np.isfinite(r)]
    return dict(heldout_median_spearman=float(np.median(rho)), heldout_words_scored=len(rho),
                heldout_mean_spearman=float(np.mean(rho)))


def load_step(system: str, workdir: Path, force: bool) -> None:
    """Peak RSS of loading .bin files with ``system``'s client(s); one record per case."""
    ft_bin = workdir / "fasttext-full.bin"
    if not ft_bin.exists():
        # No 5-epoch fastText model yet: its epoch=0 model has the same matrices (the 2M-row
        # bucket matrix at its random start, the output matrix at zero), so the same file size
        # and load cost; the record says which was loaded.
        ft_bin = workdir / "fasttext-epoch0.bin"
        if not ft_bin.exists():
            made = run_child(dict(kind="makebin", corpus=str(workdir / "wiki8-lines.txt"),
                                  bin=str(ft_bin)))
            if "error" in made:
                print(f"fastText epoch-0 model: {made['error']}", flush=True)
    cases = []
    loaders = ["cw2v", "cw2v-mmap"] if system == "cw2v" else [system]
    for loader in loaders:
        cases.append((loader, "fasttext", ft_bin))
        if system == "cw2v":
            cases.append((loader, "cw2v", workdir / "cw2v-full.bin"))
    for loader, maker, path in cases:
        out = RESULTS / f"subwords-{loader}-load-{maker}bin.json"
        if out.exists() and not force:
            continue
        rec = dict(system=system, step="load", loader=loader, bin_from=maker,
                   bin_trained=path.name.endswith("-full.bin"), bin_path=path.name,
                   bin_mb=path.stat().st_size / 2**20 if path.exists() else None, **env_info())
        if path.exists():
            rec.update(run_child(dict(kind="load", loader=loader, bin=str(path))))
        else:
            rec["error"] = f"{path} missing: run speed-1w-5e for {maker} first"
        save_record(out, rec)


# -- the report ---------------------------------------------------------------------------------

def load_records() -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(RESULTS.glob("subwords-*.json"))]


def report(rst: bool) -> None:
    """All records as tables: speed, quality (medians of seeds), held-out, memory."""
    recs = [r for r in load_records() if "error" not in r]
    by = {(r["system"], r["step"], r.get("seed")): r for r in recs if r["step"] != "load"}
    systems = [s for s in SYSTEMS if any(r["system"] == s for r in recs)]
    cpus = sorted({r["cpu"] for r in recs})
    rows: list[list[str]] = []

    def fmt(x, spec):
        return "" if x is None else format(x, spec)

    for r in recs:  # words per CPU second (records written before it was computed)
        if r.get("cpu_s") and "words_per_cpu_s" not in r:
            r["words_per_cpu_s"] = r["raw_words"] * r["epochs"] / r["cpu_s"]

    def ratio(step, system, key="words_per_cpu_s"):
        a, b = by.get(("cw2v", step, 1)), by.get((system, step, 1))
        if not a or not b or not a.get(key) or not b.get(key):
            return None
        return a[key] / b[key]

    head = ["run", "system", "wall s", "vocab s", "words/s/thread", "CPU s", "train CPU s",
            "words/CPU s", "cw2v/this", "peak RSS MB", "load avg"]
    for step in ("speed-1w-1e", "speed-1w-5e", "speed-2w-1e"):
        for s in systems:
            r = by.get((s, step, 1))
            if r:
                rows.append([step, s, fmt(r["train_s"], ".1f"), fmt(r["vocab_s"], ".1f"),
                             fmt(r["words_per_s_per_thread"], ",.0f"),
                             fmt(r.get("cpu_s"), ".1f"), fmt(r.get("train_cpu_s"), ".1f"),
                             fmt(r.get("words_per_cpu_s"), ",.0f"),
                             fmt(ratio(step, s), ".2f") if s != "cw2v" else "",
                             fmt(r["peak_rss_mb"], ",.0f"), fmt(r.get("loadavg_before"), ".1f")])
    tables = [("Speed, seed 1: wall s and words/s/thread of training alone (vocabulary pass "
               "apart); CPU s of the whole run (vocabulary pass included, all threads), of "
               "training alone where it can be split, and raw words x epochs per CPU second of "
               "the whole run; cw2v/this on words per CPU second", head, rows)]

    rows = []
    medians: dict[str, dict] = {}
    for s in systems:
        runs = sorted((r for r in recs if r["system"] == s and "analogy" in r
                       and r["step"] in ("speed-1w-5e", "quality")), key=lambda r: r["seed"])
        if not runs:
            continue
        med = {k: statistics.median(r[k] for r in runs)
               for k in ("analogy", "analogy_semantic", "analogy_syntactic", "wordsim")}
        medians[s] = med
        rows.append([s, str(len(runs)), ",".join(str(r["seed"]) for r in runs),
                     fmt(med["analogy"], ".4f"), fmt(med["analogy_semantic"], ".4f"),
                     fmt(med["analogy_syntactic"], ".4f"), fmt(med["wordsim"], ".3f")])
    tables.append(("Quality, 5 epochs (medians of seeds)",
                   ["system", "seeds", "which", "analogy", "semantic", "syntactic",
                    "WordSim-353"], rows))

    rows = []
    for s in systems:
        r = by.get((s, "heldout", 1))
        if r and "heldout_median_spearman" in r:
            rows.append([s, fmt(r["heldout_median_spearman"], ".3f"),
                         fmt(r["heldout_mean_spearman"], ".3f"),
                         str(r["heldout_words_scored"]), fmt(r["train_s"], ".0f")])
    tables.append(("Held-out words (median Spearman over words, composed vs full model)",
                   ["system", "median rho", "mean rho", "words", "train s"], rows))

    rows = []
    for r in sorted((r for r in recs if r["step"] == "load"),
                    key=lambda r: (r["bin_from"], r["loader"])):
        trained = "" if r.get("bin_trained", True) else " (epoch 0)"
        rows.append([r["loader"], r["bin_from"] + " .bin" + trained, fmt(r["bin_mb"], ",.0f"),
                     fmt(r["peak_rss_mb"], ",.0f"), fmt(r["base_rss_mb"], ",.0f"),
                     fmt(r["load_s"], ".1f")])
    tables.append(("Loading a .bin (peak RSS of a fresh process)",
                   ["loader", "file", "file MB", "peak RSS MB", "before MB", "seconds"], rows))

    rows = []  # the targets, where cw2v and the other system have both run
    for other, speed_x in (("fasttext", 3.0), ("gensim", 5.0)):
        for step in ("speed-1w-1e", "speed-1w-5e", "speed-2w-1e"):
            x = ratio(step, other)
            if x is not None:
                rows.append([f"speed {step} vs {other}", f">= {speed_x:g}x", f"{x:.2f}x",
                             "met" if x >= speed_x else "not met"])
    if "cw2v" in medians and "fasttext" in medians:
        for key, slack in (("analogy", 0.005), ("analogy_syntactic", 0.005), ("wordsim", 0.01)):
            a, b = medians["cw2v"][key], medians["fasttext"][key]
            rows.append([f"{key} vs fasttext", f">= {b - slack:.4f}", f"{a:.4f}",
                         "met" if a >= b - slack else "not met"])
    held = {s: by.get((s, "heldout", 1), {}).get("heldout_median_spearman") for s in systems}
    if held.get("cw2v") is not None and held.get("fasttext") is not None:
        rows.append(["held-out median rho vs fasttext", f">= {held['fasttext']:.3f}",
                     f"{held['cw2v']:.3f}", "met" if held["cw2v"] >= held["fasttext"] else
                     "not met"])
    tables.append(("Issue 30's targets", ["target", "needs", "cw2v", "verdict"], rows))

    print(f"CPU: {', '.join(cpus)}; machine shared with other jobs")
    for title, head, rows in tables:
        if not rows:
            continue
        print(f"\n{title}\n")
        widths = [max(len(x) for x in col) for col in zip(head, *rows)]
        if rst:
            rule = "  ".join("=" * w for w in widths)
            print(rule)
            print("  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip())
            print(rule)
            for row in rows:
                print("  ".join(x.ljust(w) for x, w in zip(row, widths)).rstrip())
            print(rule)
        else:
            for row in [head, *rows]:
                print("  ".join(x.rjust(w) for x, w in zip(row, widths)))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--systems", default=",".join(SYSTEMS))
    p.add_argument("--steps", default=",".join(STEPS))
    p.add_argument("--seeds", default="2,3", help="the quality step's seeds (seed 1 is speed-1w-5e)")
    p.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "cw2v-subwords")
    p.add_argument("--force", action="store_true", help="rerun runs that have a record")
    p.add_argument("--report", action="store_true", help="print the merged records and exit")
    p.add_argument("--rst", action="store_true", help="--report as reStructuredText tables")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        spec = json.loads(args.child)
        res = {"train": child_train, "load": child_load, "makebin": child_makebin}[
            spec["kind"]](spec)
        print(json.dumps(res))
        return 0
    if args.report:
        report(args.rst)
        return 0
    systems = [s for s in args.systems.split(",") if s]
    steps = [s for s in args.steps.split(",") if s]
    for name, known, given in (("system", SYSTEMS, systems), ("step", STEPS, steps)):
        bad = [x for x in given if x not in known]
        if bad:
            p.error(f"unknown {name} {bad[0]!r}: choose from {', '.join(known)}")
    if not CORPUS.exists():
        print(f"skipped: {CORPUS} not found (set CW2V_SHARED_DATA to the shared data folder)")
        return 0
    require_data(CORPUS, EVAL / "questions-words.txt", EVAL / "wordsim353.tsv")
    RESULTS.mkdir(exist_ok=True)
    meta = prepare(args.workdir)
    print(f"# bench_subwords.py on {cpu_model()}; {meta['raw_words']:,} tokens in "
          f"{meta['lines']:,} lines; held-out corpus keeps {meta['heldout_lines_kept']:,} lines",
          flush=True)
    for step in steps:
        seeds = [int(s) for s in args.seeds.split(",")] if step == "quality" else [1]
        for seed in seeds:
            for system in systems:  # interleaved: the systems alternate within a step
                if step == "load":
                    load_step(system, args.workdir, args.force)
                    continue
                path = record_path(system, step, seed if step == "quality" else None)
                if path.exists() and not args.force:
                    continue
                save_record(path, train_step(system, step, seed, meta, args.workdir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
