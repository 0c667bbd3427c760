"""Every architecture and objective, cw2v side by side with gensim, in one script.

    python bench/bench_objectives.py                       # speed (1 epoch, 1 worker) + quality
    python bench/bench_objectives.py --no-quality --runs 3
    python bench/bench_objectives.py --no-speed --seeds 1,2,3 --combos cbow-ns,sg-hs,cbow-hs

Protocol (the issue's, ../shared/DESIGN.md): wiki8, d=100, window 5, sample 1e-4, min_count 5,
learning rate 0.025 decaying to 1e-4 (gensim's defaults, for both systems); CBOW-NS with 5 noise
words, SG-HS and CBOW-HS with none (n_neg=0 / negative=0), CBOW averaging (cbow_mean=1).
Speed: 1 epoch at workers=1, raw words/s (tokens read x epochs / training seconds, vocabulary
timed apart), median of --runs runs, each a fresh subprocess; gensim in the modes given
(iterable: Text8Corpus read into a list; corpus_file: a copy cut into 1,000-word lines), the
faster counts. Quality: 5 epochs, 2 workers, analogies (30,000 words, 3CosAdd) and WordSim-353
Spearman by cw2v.evaluate for both systems (gensim in each of the modes given), per seed and the
median over --seeds.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_train import (  # noqa: E402
    _EpochTimer,
    gensim_build_and_train,
    prepare_corpus_copies,
)
from common import DATA, cpu_model, require_data  # noqa: E402

HYPER = dict(d=100, window=5, sample=1e-4, min_count=5, lr=0.025, min_lr=1e-4)
# name -> (sg, hs, n_neg, cbow_mean)
COMBOS = {"sg-ns": (1, 0, 5, 1), "cbow-ns": (0, 0, 5, 1), "sg-hs": (1, 1, 0, 1),
          "cbow-hs": (0, 1, 0, 1)}


def gensim_corpus_file_schedule(epochs: int, workers: int) -> list[tuple[float, float]]:
    """(start, end) learning rate of each epoch as gensim 4.4's corpus_file mode runs them at
    ``workers`` threads: each thread trains 1/workers of the corpus but measures its progress
    against the whole epoch (word2vec_corpusfile.pyx: ``total_words > expected_words /
    c.workers`` ends its epoch, ``get_next_alpha`` divides by ``expected_words``), so epoch e
    decays from alpha(e / epochs) to alpha((e + 1 / workers) / epochs) only."""
    lr, min_lr = HYPER["lr"], HYPER["min_lr"]

    def alpha(progress: float) -> float:
        return lr - (lr - min_lr) * progress

    return [(alpha(e / epochs), alpha((e + 1 / workers) / epochs)) for e in range(epochs)]


def run_cw2v(spec: dict) -> dict:
    import cw2v

    sg, hs, n_neg, cbow_mean = COMBOS[spec["combo"]]
    settings = dict(workers=spec["workers"], mode=spec["mode"], progress=False)
    if spec.get("schedule") == "gensim-corpus-file":
        # the same training, one epoch per call, each with gensim corpus_file's rates
        (lr, min_lr), *rest = gensim_corpus_file_schedule(spec["epochs"], spec["workers"])
        hyper = dict(HYPER, lr=lr, min_lr=min_lr)
        m = cw2v.Word2Vec.from_corpus(spec["corpus"], epochs=1, seed=spec["seed"], sg=sg, hs=hs,
                                      n_neg=n_neg, cbow_mean=cbow_mean, **settings, **hyper)
        for lr, min_lr in rest:
            m.train(spec["corpus"], epochs=1, lr=lr, min_lr=min_lr, **settings)
    else:
        m = cw2v.Word2Vec.from_corpus(spec["corpus"], epochs=spec["epochs"], seed=spec["seed"],
                                      sg=sg, hs=hs, n_neg=n_neg, cbow_mean=cbow_mean, **settings,
                                      **HYPER)
    return dict(vocab_s=m.vocab_seconds, train_s=sum(e.seconds for e in m.epoch_history),
                raw_words=m.raw_words, model=m)


def run_gensim(spec: dict) -> dict:
    from gensim.models import Word2Vec
    from gensim.models.callbacks import CallbackAny2Vec

    sg, hs, n_neg, cbow_mean = COMBOS[spec["combo"]]
    timer = type("EpochTimer", (_EpochTimer, CallbackAny2Vec), {})()
    g = Word2Vec(sg=sg, hs=hs, negative=n_neg, cbow_mean=cbow_mean, vector_size=HYPER["d"],
                 window=HYPER["window"], sample=HYPER["sample"], min_count=HYPER["min_count"],
                 alpha=HYPER["lr"], min_alpha=HYPER["min_lr"], seed=spec["seed"],
                 workers=spec["workers"])
    vocab_s, train_s = gensim_build_and_train(g, spec, timer)
    import cw2v

    return dict(vocab_s=vocab_s, train_s=train_s, raw_words=g.corpus_total_words,
                model=cw2v.Vectors(list(g.wv.index_to_key), g.wv.vectors))


def child(spec: dict) -> dict:
    res = (run_cw2v if spec["system"] == "cw2v" else run_gensim)(spec)
    model = res.pop("model")
    if spec.get("quality"):
        from cw2v import evaluate

        res["analogy"] = evaluate.analogies(model, DATA / "eval" / "questions-words.txt",
                                            restrict_vocab=30000).accuracy
        res["wordsim"] = evaluate.word_pairs(model, DATA / "eval" / "wordsim353.tsv").spearman
    return res


def run_child(spec: dict) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"run {spec} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--corpus", type=Path, default=DATA / "corpus" / "wiki8.txt.xz")
    p.add_argument("--combos", default="cbow-ns,sg-hs,cbow-hs,sg-ns")
    p.add_argument("--runs", type=int, default=3, help="runs per speed figure (median)")
    p.add_argument("--gensim-modes", default="iterable,corpus_file")
    p.add_argument("--seeds", default="1,2,3", help="quality seeds (median reported)")
    p.add_argument("--no-speed", action="store_true")
    p.add_argument("--no-quality", action="store_true")
    p.add_argument("--no-gensim-quality", action="store_true",
                   help="quality of cw2v alone (to compare with gensim's earlier medians)")
    p.add_argument("--cw2v-schedule", choices=["word2vec", "gensim-corpus-file"],
                   default="word2vec",
                   help="quality: cw2v's learning rate decays linearly over the whole run "
                        "(word2vec.c's and gensim iterable's schedule), or as gensim's "
                        "corpus_file mode runs it at 2 workers (see "
                        "gensim_corpus_file_schedule), to compare the models at equal rates")
    p.add_argument("--json", type=Path, help="also write all figures here")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return 0
    unknown = set(args.gensim_modes.split(",")) - {"iterable", "corpus_file", ""}
    if unknown:
        p.error(f"--gensim-modes: unknown mode(s) {', '.join(sorted(unknown))} "
                "(iterable, corpus_file)")
    require_data(args.corpus)
    combos = args.combos.split(",")
    print(f"CPU: {cpu_model()}; corpus {args.corpus.name}; {HYPER}", flush=True)
    report: dict = {"cpu": cpu_model(), "hyper": HYPER, "speed": {}, "quality": {}}
    with tempfile.TemporaryDirectory() as tmp:
        plain, lines = prepare_corpus_copies(args.corpus, Path(tmp))
        base = dict(corpus=str(args.corpus), plain=str(plain), lines=str(lines), seed=1)
        gensim_modes = [m for m in args.gensim_modes.split(",") if m]
        if not args.no_speed:
            print("\n| combination | cw2v raw words/s | gensim raw words/s (mode) | cw2v / gensim |"
                  "\n|---|---|---|---|", flush=True)
            for combo in combos:
                figures = {}
                systems = [("cw2v", "exact")] + [("gensim", m) for m in gensim_modes]
                if combo in ("sg-ns", "sg-hs"):  # the combinations the batched mode covers
                    systems.insert(1, ("cw2v", "batched"))
                for system, mode in systems:
                    spec = dict(base, system=system, mode=mode, combo=combo, workers=1, epochs=1)
                    runs = [run_child(spec) for _ in range(args.runs)]
                    train_s = statistics.median(r["train_s"] for r in runs)
                    figures[(system, mode)] = dict(
                        train_s=train_s, runs=[round(r["train_s"], 2) for r in runs],
                        raw_wps=runs[0]["raw_words"] / train_s)
                report["speed"][combo] = {f"{s}/{m}": v for (s, m), v in figures.items()}
                g_mode, g = max(((m, v) for (s, m), v in figures.items() if s == "gensim"),
                                key=lambda mv: mv[1]["raw_wps"], default=(None, None))
                for (system, mode), v in figures.items():
                    if system != "cw2v":
                        continue
                    ratio = f"**{v['raw_wps'] / g['raw_wps']:.2f}x**" if g else ""
                    gtext = f"{g['raw_wps'] / 1e3:,.0f}k ({g_mode})" if g else ""
                    print(f"| {combo} {mode} | {v['raw_wps'] / 1e3:,.0f}k | {gtext} | {ratio} |",
                          flush=True)
                print("    runs (s): " + "; ".join(f"{s} {m} {v['runs']}"
                                                     for (s, m), v in figures.items()),
                      flush=True)
        if not args.no_quality:
            seeds = [int(s) for s in args.seeds.split(",")]
            print("\n| combination | system | analogy (median; seeds) | WordSim-353 (median; seeds)"
                  " | train s |\n|---|---|---|---|---|", flush=True)
            for combo in combos:
                systems = [("cw2v", "exact")] + [("gensim", m) for m in gensim_modes]
                if combo in ("sg-ns", "sg-hs"):
                    systems.insert(1, ("cw2v", "batched"))
                if args.no_gensim_quality:
                    systems = [sm for sm in systems if sm[0] != "gensim"]
                for system, mode in systems:
                    runs = [run_child(dict(base, system=system, mode=mode, combo=combo,
                                           workers=2, epochs=5, seed=seed, quality=True,
                                           schedule=args.cw2v_schedule))
                            for seed in seeds]
                    a = [r["analogy"] for r in runs]
                    w = [r["wordsim"] for r in runs]
                    if system == "cw2v" and args.cw2v_schedule != "word2vec":
                        mode += f", {args.cw2v_schedule} rates"
                    report["quality"][f"{combo}/{system}/{mode}"] = runs
                    print(f"| {combo} | {system} {mode} | {statistics.median(a):.4f} "
                          f"({', '.join(f'{x:.4f}' for x in a)}) | {statistics.median(w):.3f} "
                          f"({', '.join(f'{x:.3f}' for x in w)}) | "
                          f"{statistics.median(r['train_s'] for r in runs):.1f} |", flush=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
