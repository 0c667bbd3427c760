"""Training benchmark: cw2v (exact and batched modes) side by side with gensim, one script.

    python bench/bench_train.py                      # speed (1 epoch, workers 1 and 2) + quality
    python bench/bench_train.py --runs 3 --workers 1,2,4,8,16 --no-quality
    python bench/bench_train.py --w2v-c ./word2vec   # adds word2vec.c
    python bench/bench_train.py --speed-epochs 5 --no-quality   # whole 5-epoch runs, per epoch

Protocol (../shared/DESIGN.md): skip-gram, d=100, window 5, negative 5, sample 1e-4,
min_count 5, seed 1, on ../shared/data/corpus/wiki8.txt.xz. Every run is a fresh subprocess
(so peak RSS is its own). The vocabulary build is timed apart from training. raw words/s =
tokens read (before vocabulary filtering and subsampling) x epochs / training seconds. gensim
runs in both its modes, iterable (Text8Corpus read into a list) and corpus_file (a copy cut into
1,000-word lines, since corpus_file silently cuts lines at 10,000 words); the faster counts.
Quality: analogies (30,000 most frequent words, 3CosAdd) and WordSim-353 Spearman, computed by
cw2v.evaluate for every system alike. Timings are medians over --runs runs.
"""
from __future__ import annotations

import argparse
import json
import lzma
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import DATA, require_data  # noqa: E402

HYPER = dict(d=100, window=5, n_neg=5, sample=1e-4, min_count=5, seed=1)


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MB: VmHWM on Linux (ru_maxrss there keeps the
    parent's peak across exec), else ru_maxrss."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB elsewhere
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


# -- one run, in a child process ---------------------------------------------------------------

def run_cw2v(spec: dict) -> dict:
    import cw2v

    m = cw2v.Word2Vec.from_corpus(spec["corpus"], epochs=spec["epochs"],
                                  workers=spec["workers"], mode=spec["mode"], progress=False,
                                  **HYPER)
    train_s = sum(e.seconds for e in m.epoch_history)
    return dict(vocab_s=m.vocab_seconds, train_s=train_s, raw_words=m.raw_words,
                vocab_size=len(m.vocab), model=m,
                epoch_s=[e.seconds for e in m.epoch_history])


class _EpochTimer:
    """gensim callback: the seconds of each epoch (made into a CallbackAny2Vec in run_gensim)."""

    def __init__(self):
        self.seconds: list[float] = []
        self._start = 0.0

    def on_epoch_begin(self, model):
        self._start = time.perf_counter()

    def on_epoch_end(self, model):
        self.seconds.append(time.perf_counter() - self._start)


def gensim_build_and_train(g, spec: dict, timer) -> tuple[float, float]:
    """Build ``g``'s vocabulary and train it in gensim's mode ``spec["mode"]`` (corpus_file:
    ``spec["lines"]``; iterable: ``spec["plain"]`` read into a list); (vocab s, train s)."""
    from gensim.models.word2vec import Text8Corpus

    t0 = time.perf_counter()
    if spec["mode"] == "corpus_file":
        g.build_vocab(corpus_file=spec["lines"])
        vocab_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        g.train(corpus_file=spec["lines"], total_words=g.corpus_total_words,
                total_examples=g.corpus_count, epochs=spec["epochs"], callbacks=[timer])
    else:
        sentences = list(Text8Corpus(spec["plain"]))
        g.build_vocab(sentences)
        vocab_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        g.train(sentences, total_examples=g.corpus_count, epochs=spec["epochs"],
                callbacks=[timer])
    train_s = time.perf_counter() - t0
    return vocab_s, train_s


def run_gensim(spec: dict) -> dict:
    from gensim.models import Word2Vec
    from gensim.models.callbacks import CallbackAny2Vec

    timer = type("EpochTimer", (_EpochTimer, CallbackAny2Vec), {})()
    g = Word2Vec(sg=1, vector_size=HYPER["d"], window=HYPER["window"], negative=HYPER["n_neg"],
                 sample=HYPER["sample"], min_count=HYPER["min_count"], seed=HYPER["seed"],
                 workers=spec["workers"], hs=0)
    vocab_s, train_s = gensim_build_and_train(g, spec, timer)
    import cw2v

    vectors = cw2v.Vectors(list(g.wv.index_to_key), g.wv.vectors)
    return dict(vocab_s=vocab_s, train_s=train_s, raw_words=g.corpus_total_words,
                vocab_size=len(vectors), model=vectors, epoch_s=timer.seconds)


def run_w2v_c(spec: dict) -> dict:
    from cw2v import io

    out = Path(spec["tmp"]) / "w2v-c.bin"
    cmd = [spec["binary"], "-train", spec["plain"], "-output", str(out), "-cbow", "0",
           "-size", str(HYPER["d"]), "-window", str(HYPER["window"]), "-negative",
           str(HYPER["n_neg"]), "-hs", "0", "-sample", str(HYPER["sample"]), "-threads",
           str(spec["workers"]), "-iter", str(spec["epochs"]), "-min-count",
           str(HYPER["min_count"]), "-binary", "1"]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    train_s = time.perf_counter() - t0  # includes its vocabulary pass: it cannot be split off
    vectors = io.load_word2vec_format(out, binary=True)
    raw = sum(len(line.split()) for line in open(spec["plain"], encoding="utf-8"))
    return dict(vocab_s=float("nan"), train_s=train_s, raw_words=raw, vocab_size=len(vectors),
                model=vectors)


def child(spec: dict) -> dict:
    """One training run; with spec["quality"], also the evaluation figures."""
    runner = {"cw2v": run_cw2v, "gensim": run_gensim, "word2vec.c": run_w2v_c}[spec["system"]]
    res = runner(spec)
    model = res.pop("model")
    if spec.get("quality"):
        from cw2v import evaluate

        ana = evaluate.analogies(model, DATA / "eval" / "questions-words.txt",
                                 restrict_vocab=30000)
        pairs = evaluate.word_pairs(model, DATA / "eval" / "wordsim353.tsv")
        res.update(analogy=ana.accuracy, analogy_answered=ana.answered,
                   wordsim=pairs.spearman,
                   paris=model.most_similar("paris", k=5),
                   king_man_woman=model.most_similar(positive=["king", "woman"],
                                                     negative=["man"], k=5))
    res["peak_rss_mb"] = peak_rss_mb()
    return res


# -- the parent: schedule runs, take medians, print the table ----------------------------------

def prepare_corpus_copies(corpus: Path, tmp: Path) -> tuple[Path, Path]:
    """A plain copy (for Text8Corpus / word2vec.c) and a copy cut into 1,000-word lines."""
    plain, lines = tmp / "corpus.txt", tmp / "corpus-lines.txt"
    opener = lzma.open if corpus.suffix == ".xz" else open
    with opener(corpus, "rt", encoding="utf-8") as f:
        words = f.read().split()
    plain.write_text(" ".join(words), encoding="utf-8")
    with open(lines, "w", encoding="utf-8") as f:
        for i in range(0, len(words), 1000):
            f.write(" ".join(words[i:i + 1000]) + "\n")
    return plain, lines


def run_child(spec: dict) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"run {spec} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def median_runs(spec: dict, runs: int) -> dict:
    results = [run_child(spec) for _ in range(runs)]
    med = {k: statistics.median(r[k] for r in results)
           for k in ("vocab_s", "train_s", "peak_rss_mb")}
    med.update(raw_words=results[0]["raw_words"], vocab_size=results[0]["vocab_size"],
               runs=[round(r["train_s"], 2) for r in results])
    med["raw_wps"] = med["raw_words"] * spec["epochs"] / med["train_s"]
    med["wps_per_thread"] = med["raw_wps"] / spec["workers"]
    if all(r.get("epoch_s") for r in results):
        # Raw words/s of each epoch, the median over the runs: slow-downs that build up over
        # a run show here, and in a 1-epoch benchmark not at all.
        med["epoch_wps"] = [med["raw_words"] / statistics.median(r["epoch_s"][e] for r in results)
                            for e in range(spec["epochs"])]
    for k in ("analogy", "analogy_answered", "wordsim", "paris", "king_man_woman"):
        if k in results[0]:
            med[k] = results[0][k]
    return med


def memory_budget_mb(raw_words: int, vocab_size: int, d: int) -> float:
    """The issue's RSS bound: 1.5 x (4 B a token + 2 V d 4 B) + 200 MB."""
    return (1.5 * (4 * raw_words + 2 * vocab_size * d * 4)) / 2**20 + 200


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--corpus", type=Path, default=DATA / "corpus" / "wiki8.txt.xz")
    p.add_argument("--runs", type=int, default=3, help="runs per speed figure (median)")
    p.add_argument("--speed-epochs", type=int, default=1)
    p.add_argument("--quality-epochs", type=int, default=5)
    p.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    p.add_argument("--quality-workers", type=int, default=2)
    p.add_argument("--modes", default="exact,batched")
    p.add_argument("--gensim-modes", default="iterable,corpus_file")
    p.add_argument("--no-gensim", action="store_true")
    p.add_argument("--w2v-c", help="path to a word2vec.c binary to include")
    p.add_argument("--no-speed", action="store_true")
    p.add_argument("--no-quality", action="store_true")
    p.add_argument("--json", type=Path, help="also write all figures here")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return 0
    require_data(args.corpus)
    workers = [int(w) for w in args.workers.split(",")]
    systems = [("cw2v", m) for m in args.modes.split(",")]
    if not args.no_gensim:
        systems += [("gensim", m) for m in args.gensim_modes.split(",")]
    if args.w2v_c:
        systems.append(("word2vec.c", "-"))
    report: dict = {"hyper": HYPER, "corpus": str(args.corpus), "speed": {}, "quality": {}}
    with tempfile.TemporaryDirectory() as tmp:
        plain, lines = prepare_corpus_copies(args.corpus, Path(tmp))
        base = dict(corpus=str(args.corpus), plain=str(plain), lines=str(lines), tmp=tmp,
                    binary=args.w2v_c)
        if not args.no_speed:
            for system, mode in systems:
                for w in workers:
                    spec = dict(base, system=system, mode=mode, workers=w,
                                epochs=args.speed_epochs)
                    r = median_runs(spec, args.runs)
                    report["speed"][f"{system}/{mode}/w{w}"] = r
                    print(f"{system:10s} {mode:11s} workers={w:<2d} train {r['train_s']:7.1f} s "
                          f"vocab {r['vocab_s']:5.1f} s  {r['raw_wps'] / 1e3:7.0f}k raw words/s "
                          f"({r['wps_per_thread'] / 1e3:5.0f}k/thread)  RSS "
                          f"{r['peak_rss_mb']:5.0f} MB  runs {r['runs']}", flush=True)
                    if len(r.get("epoch_wps", [])) > 1:
                        print("    words/s per epoch: " + ", ".join(
                            f"{x / 1e3:.0f}k" for x in r["epoch_wps"]), flush=True)
        if not args.no_quality:
            qsystems = [(s, m) for s, m in systems if s != "gensim" or m == "corpus_file"]
            for system, mode in qsystems:
                spec = dict(base, system=system, mode=mode, workers=args.quality_workers,
                            epochs=args.quality_epochs, quality=True)
                r = median_runs(spec, 1)
                report["quality"][f"{system}/{mode}"] = r
                print(f"{system:10s} {mode:11s} {args.quality_epochs} epochs: analogy "
                      f"{r['analogy']:.4f} ({r['analogy_answered']} answered), WordSim-353 "
                      f"{r['wordsim']:.3f}, train {r['train_s']:.1f} s", flush=True)
                print(f"    paris: {r['paris']}\n    king - man + woman: {r['king_man_woman']}")
    print_table(report, workers)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


def print_table(report: dict, workers: list[int]) -> None:
    """The summary: each cw2v mode against the faster gensim mode, as ratios."""
    speed, quality = report["speed"], report["quality"]

    def best_gensim(w):
        runs = [v for k, v in speed.items() if k.startswith("gensim/") and k.endswith(f"/w{w}")]
        return max(runs, key=lambda r: r["raw_wps"]) if runs else None

    print("\n| system | workers | train s | vocab s | raw words/s | per thread | vs gensim | "
          "peak RSS MB (budget) |")
    print("|---|---|---|---|---|---|---|---|")
    for key, r in speed.items():
        system, mode, w = key.split("/")
        w = int(w[1:])
        g = best_gensim(w)
        ratio = f"{r['raw_wps'] / g['raw_wps']:.2f}x" if g and system != "gensim" else ""
        budget = memory_budget_mb(r["raw_words"], r["vocab_size"], HYPER["d"])
        print(f"| {system} {mode} | {w} | {r['train_s']:.1f} | {r['vocab_s']:.1f} | "
              f"{r['raw_wps'] / 1e3:.0f}k | {r['wps_per_thread'] / 1e3:.0f}k | {ratio} | "
              f"{r['peak_rss_mb']:.0f} ({budget:.0f}) |")
    for system_mode in {k.rsplit("/", 1)[0] for k in speed}:
        one, two = speed.get(f"{system_mode}/w1"), speed.get(f"{system_mode}/w2")
        if one and two:
            print(f"scaling {system_mode}: workers=2 is {two['raw_wps'] / one['raw_wps']:.2f}x "
                  "workers=1")
        runs = sorted((int(k.rsplit("/w", 1)[1]), v) for k, v in speed.items()
                      if k.rsplit("/", 1)[0] == system_mode)
        if len(runs) > 2:
            base = runs[0][1]["raw_wps"] / runs[0][0]
            eff = ", ".join(f"{w}: {v['raw_wps'] / (w * base):.2f}" for w, v in runs)
            print(f"parallel efficiency {system_mode} (per-thread speed vs 1 worker): {eff}")
    if quality:
        g = quality.get("gensim/corpus_file")
        print("\n| system | analogy | WordSim-353 | vs gensim |")
        print("|---|---|---|---|")
        for key, r in quality.items():
            delta = (f"{100 * (r['analogy'] - g['analogy']):+.1f} pt, "
                     f"{r['wordsim'] - g['wordsim']:+.3f}") if g and r is not g else ""
            print(f"| {key} | {r['analogy']:.4f} | {r['wordsim']:.3f} | {delta} |")


if __name__ == "__main__":
    raise SystemExit(main())
