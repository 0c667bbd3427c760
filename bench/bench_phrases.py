"""Phrases, side by side with gensim's Phrases: learning and applying throughput, peak memory with
and without a low bound, and the end-to-end quality of a two-pass phrase pipeline on wiki8.

    python bench/bench_phrases.py speed   [--tokens N] [--repeats 3]
    python bench/bench_phrases.py memory  [--corpus wiki50m.txt.xz] [--bound 2000000]
    python bench/bench_phrases.py quality [--epochs 5]

Results are appended to bench/results/phrases.txt. Speed: cw2v reads the first N tokens of wiki8
from a plain file (the kernel's input; decompression timed apart), gensim gets the same tokens as
in-memory lists of 10,000 tokens (its Text8Corpus cut): the fair comparison for gensim, whose
reading is not counted. cw2v's time is the median of ``--repeats`` runs, gensim's one run; wall
and CPU seconds are both printed (the CPU figure is steadier on a shared machine). Both use
workers=1 (gensim's Phrases is single-threaded; so is cw2v's counting) and the paper's formula:
gensim is given a scorer computing it from corpus_word_count, and the phrase sets are compared.
"""
from __future__ import annotations

import argparse
import json
import lzma
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DATA, cpu_model, require_data

RESULTS = Path(__file__).resolve().parent / "results" / "phrases.txt"
WIKI8 = DATA / "corpus" / "wiki8.txt.xz"


def report(lines: list[str]) -> None:
    text = "\n".join(lines)
    print(text)
    RESULTS.parent.mkdir(exist_ok=True)
    with open(RESULTS, "a", encoding="utf-8") as f:
        f.write(text + "\n\n")


def timed(fn):
    """(result, wall seconds, cpu seconds) of fn()."""
    c, t = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t, time.process_time() - c


def paper_scorer(worda_count, wordb_count, bigram_count, len_vocab, min_count, corpus_word_count):
    """word2phrase's score for gensim: corpus length where gensim's default has len(vocab)."""
    return (bigram_count - min_count) / worda_count / wordb_count * corpus_word_count


# -- speed -----------------------------------------------------------------------------------------

def speed(args) -> None:
    from gensim.models.phrases import Phrases as GensimPhrases

    from cw2v.phrases import Phrases

    require_data(WIKI8)
    t = time.perf_counter()
    with lzma.open(WIKI8, "rt", encoding="utf-8") as f:
        words = f.read().split()
    if args.tokens:
        words = words[:args.tokens]
    n = len(words)
    print(f"read {n} tokens in {time.perf_counter() - t:.1f} s")
    tmp = Path(tempfile.mkdtemp(prefix="cw2v-phrases-"))
    plain = tmp / "corpus.txt"
    plain.write_text(" ".join(words), encoding="utf-8")  # text8's shape: one line
    sentences = [words[i:i + 10000] for i in range(0, n, 10000)]
    settings = {"min_count": 5, "threshold": 100.0}

    learn, learn_cpu = [], []
    for _ in range(args.repeats):
        model, wall, cpu = timed(lambda: Phrases(plain, **settings))
        learn.append(wall)
        learn_cpu.append(cpu)
    frozen = model.freeze()
    out = tmp / "out.txt"
    apply_file, apply_file_cpu, apply_lists, apply_lists_cpu = [], [], [], []
    for _ in range(args.repeats):
        _, wall, cpu = timed(lambda: frozen.apply_file(plain, out))
        apply_file.append(wall)
        apply_file_cpu.append(cpu)
        _, wall, cpu = timed(lambda: list(frozen.apply(sentences)))
        apply_lists.append(wall)
        apply_lists_cpu.append(cpu)

    g, g_wall, g_cpu = timed(lambda: GensimPhrases(sentences, scoring=paper_scorer,
                                                   max_vocab_size=40_000_000, **settings))
    if args.gensim_file:  # gensim end to end: reading the same plain file (Text8Corpus)
        from gensim.models.word2vec import Text8Corpus
        _, gf_wall, gf_cpu = timed(lambda: GensimPhrases(
            Text8Corpus(str(plain)), scoring=paper_scorer, max_vocab_size=40_000_000,
            **settings))
    gfrozen = g.freeze()
    theirs, ga_wall, ga_cpu = timed(lambda: [gfrozen[s] for s in sentences])
    if args.gensim_file:  # gensim applying end to end, as cw2v's apply_file: file in, file out
        gout = tmp / "gensim-out.txt"

        def gensim_apply_file():
            from gensim.models.word2vec import Text8Corpus
            with open(gout, "w", encoding="utf-8") as f:
                for sentence in gfrozen[Text8Corpus(str(plain))]:
                    f.write(" ".join(sentence))
                    f.write("\n")

        _, gaf_wall, gaf_cpu = timed(gensim_apply_file)
    # equality on the same input: cw2v given gensim's lists (10,000-token sentences; the file is
    # one line, so learning from it also counts the bigrams across those cuts)
    same_input = Phrases(sentences, **settings).freeze()
    ours_phrases, gensim_phrases = same_input.export_phrases(), g.export_phrases()
    same_set = set(ours_phrases) == set(gensim_phrases)
    worst = max((abs(ours_phrases[k] - v) / v for k, v in gensim_phrases.items()
                 if k in ours_phrases), default=0.0)
    same_output = list(same_input.apply(sentences)) == theirs
    file_diff = set(frozen.export_phrases()) ^ set(gensim_phrases)

    def med(xs):
        return statistics.median(xs)

    lines = [(f"== speed: phrases on the first {n} tokens of wiki8 (min_count 5, threshold 100, "
             f"workers=1) -- {cpu_model()}, {os.cpu_count()} cores, shared with other jobs"),
             (f"cw2v learn (plain file)      {med(learn):7.2f} s wall {med(learn_cpu):7.2f} s cpu "
             f"{n / med(learn) / 1e6:6.2f} M tokens/s   runs {[round(x, 2) for x in learn]}"),
             (f"gensim learn (lists)         {g_wall:7.2f} s wall {g_cpu:7.2f} s cpu "
             f"{n / g_wall / 1e6:6.2f} M tokens/s"),
             (f"  -> cw2v {g_wall / med(learn):.1f}x gensim's throughput (wall), "
             f"{g_cpu / med(learn_cpu):.1f}x (cpu)"),
             *([(f"gensim learn (Text8Corpus of the same file) {gf_wall:7.2f} s wall "
                f"{gf_cpu:7.2f} s cpu -> cw2v {gf_wall / med(learn):.1f}x (wall), "
                f"{gf_cpu / med(learn_cpu):.1f}x (cpu)")] if args.gensim_file else []),
             (f"cw2v apply file -> file      {med(apply_file):7.2f} s wall "
             f"{med(apply_file_cpu):7.2f} s cpu {n / med(apply_file) / 1e6:6.2f} M tokens/s"),
             (f"cw2v apply lists -> lists    {med(apply_lists):7.2f} s wall "
             f"{med(apply_lists_cpu):7.2f} s cpu {n / med(apply_lists) / 1e6:6.2f} M tokens/s"),
             (f"gensim apply lists (frozen)  {ga_wall:7.2f} s wall {ga_cpu:7.2f} s cpu "
             f"{n / ga_wall / 1e6:6.2f} M tokens/s"),
             (f"  -> cw2v file {ga_wall / med(apply_file):.1f}x, lists "
             f"{ga_wall / med(apply_lists):.1f}x gensim's throughput (wall); cpu: file "
             f"{ga_cpu / med(apply_file_cpu):.1f}x, lists {ga_cpu / med(apply_lists_cpu):.1f}x"),
             *([(f"gensim apply file -> file (Text8Corpus of the same file, frozen, written) "
                 f"{gaf_wall:7.2f} s wall {gaf_cpu:7.2f} s cpu -> cw2v file -> file "
                 f"{gaf_wall / med(apply_file):.1f}x (wall), "
                 f"{gaf_cpu / med(apply_file_cpu):.1f}x (cpu)")] if args.gensim_file else []),
             (f"same input (gensim's lists): cw2v {len(ours_phrases)} phrases, gensim "
              f"{len(gensim_phrases)}, identical sets: {same_set}, largest relative score "
              f"difference {worst:.1e}; identical phrased sentences: {same_output}"),
             (f"(cw2v from the one-line file: {len(frozen)} phrases; differing from gensim's "
              f"lists: {sorted(file_diff)[:5]}, bigrams across the 10,000-token cuts)")]
    report(lines)
    for p in tmp.iterdir():
        p.unlink()
    tmp.rmdir()


# -- memory ----------------------------------------------------------------------------------------

_CHILD = """
import json, resource, sys, time
from cw2v.phrases import Phrases
bound = None if sys.argv[2] == "none" else int(sys.argv[2])
t = time.perf_counter()
model = Phrases(sys.argv[1], max_vocab_size=bound)
wall = time.perf_counter() - t
print(json.dumps({"seconds": wall, "tokens": model.total_words, "words": model.n_words,
                  "bigrams": model.n_bigrams, "prunes": model._table.prunes,
                  "floor": model.prune_floor, "table_mb": model._table.nbytes / 2**20,
                  "phrases": len(model.freeze()),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def memory(args) -> None:
    corpus = DATA / "corpus" / args.corpus
    require_data(corpus)
    lines = [(f"== memory: learning on {args.corpus} (peak RSS of a child process) -- "
             f"{cpu_model()}, shared machine")]
    for bound in ("none", str(args.bound)):
        out = subprocess.run([sys.executable, "-c", _CHILD, str(corpus), bound],
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        entries = r["words"] + r["bigrams"]
        lines.append(
            f"max_vocab_size={bound:>9}: {r['tokens']} tokens in {r['seconds']:.1f} s, "
            f"{r['words']} words + {r['bigrams']} bigrams = {entries} entries "
            f"(bound holds: {bound == 'none' or entries <= int(bound)}), {r['prunes']} "
            f"prunings (floor {r['floor']}), table {r['table_mb']:.0f} MB, peak RSS "
            f"{r['peak_rss_mb']:.0f} MB, {r['phrases']} phrases")
    report(lines)


# -- quality ---------------------------------------------------------------------------------------

def quality(args) -> None:
    from cw2v import Word2Vec, evaluate
    from cw2v.phrases import Phrases

    questions = DATA / "eval" / "questions-phrases.txt"
    corpus = DATA / "corpus" / args.corpus
    require_data(corpus, questions)
    t = time.perf_counter()
    bigrams = Phrases(corpus, threshold=200).freeze()
    t1 = time.perf_counter() - t
    t = time.perf_counter()
    trigrams = Phrases(bigrams.stream(corpus), threshold=100).freeze()
    t2 = time.perf_counter() - t
    print(f"pass 1: {len(bigrams)} phrases in {t1:.1f} s; pass 2: {len(trigrams)} in {t2:.1f} s")
    t = time.perf_counter()
    model = Word2Vec.from_corpus(corpus, phrases=[bigrams, trigrams], d=100, window=5,
                                 sample=1e-4, min_count=5, epochs=args.epochs, workers=2,
                                 seed=1, progress=False)
    t3 = time.perf_counter() - t
    if args.save:
        model.save(args.save)
    words = model.wv.vocab
    joined = [w for w in words if "_" in w]
    top = [w for w in words if "_" in w][:10]
    lines = [(f"== quality: {args.corpus}, two phrase passes (threshold 200, then 100), then skip-gram "
             f"d=100 window 5 sample 1e-4 min_count 5, {args.epochs} epochs, workers=2 -- "
             f"{cpu_model()}, shared machine"),
             (f"pass 1: {len(bigrams)} phrases in {t1:.1f} s; pass 2: {len(trigrams)} phrases "
             f"in {t2:.1f} s; training (phrases applied on the fly) {t3:.1f} s"),
             f"vocabulary {len(words)} words, {len(joined)} of them phrases",
             f"ten most frequent phrases: {', '.join(top)}"]
    for query in ("new_york", "united_states", "los_angeles", "world_war_ii", "prime_minister"):
        if query in model.w2i:
            near = model.wv.most_similar(query, k=5)
            lines.append(f"most_similar({query}): "
                         + ", ".join(f"{w} {s:.2f}" for w, s in near))
    lowered = Path(tempfile.mkdtemp(prefix="cw2v-phrases-")) / "questions-phrases.txt"
    lowered.write_text(questions.read_text(encoding="utf-8").lower(), encoding="utf-8")
    result = evaluate.analogies(model.wv, lowered, restrict_vocab=None)
    lines.append(f"phrase analogies (questions-phrases.txt lower-cased, 3CosAdd, whole "
                 f"vocabulary searched): {result.summary()}")
    result30k = evaluate.analogies(model.wv, lowered, restrict_vocab=30000)
    lines.append(f"  same, 30,000 most frequent words: {result30k.summary()}")
    lowered.unlink()
    lowered.parent.rmdir()
    report(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("speed")
    p.add_argument("--tokens", type=int, default=0, help="first N tokens (0: all of wiki8)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--gensim-file", action="store_true",
                   help="also time gensim learning from and applying to the plain file "
                        "(Text8Corpus)")
    p = sub.add_parser("memory")
    p.add_argument("--corpus", default="wiki50m.txt.xz")
    p.add_argument("--bound", type=int, default=2_000_000)
    p = sub.add_parser("quality")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--save", help="also save the trained model here")
    p.add_argument("--corpus", default="wiki8.txt.xz")
    args = parser.parse_args()
    {"speed": speed, "memory": memory, "quality": quality}[args.what](args)


if __name__ == "__main__":
    main()
