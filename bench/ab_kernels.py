"""Paired A/B of two or more builds of the kernel, in one process, on the same work.

    python bench/ab_kernels.py cbow-hs BUILD_A BUILD_B [BUILD_C ...] [--tokens 4e6] [--rounds 20]

Each BUILD is a folder holding a built ``cw2v/`` package (for instance a copy of the repository's
``cw2v/`` after ``python setup.py build_ext --inplace`` at each commit). The corpus (default:
wiki8) is encoded once by the cw2v on the path, with the protocol of ``bench_objectives.py``
(its HYPER: d=100, window 5, sample 1e-4, min_count 5); then each round resets the weights
and trains the first spans (at least ``--tokens`` tokens) with every build's kernel copy (AVX2,
or the one named as ``BUILD:avx512``) in turn (the order rotates), the same seed, the same
spans. The builds see the same machine state within seconds of each other, which on a shared VM
whose speed drifts by 10-20% is what makes a few per cent measurable: the figure is the median
over rounds of each build's time divided by the first build's. On a machine shared with other
work, ``--clock cpu`` times the thread's CPU time instead of the wall clock: the time the
thread waited for a core is left out (cache and memory contention still count).

A BUILD ending in ``@lock`` trains with lock factors (``KernelState(lockf=...)``, gensim's
``vectors_lockf``): 1 for most words and 0.5 for every tenth, so every input row is still
updated and the figure is the cost of reading and applying the factors (a build before the
factor existed cannot take it).
"""
from __future__ import annotations

import argparse
import glob
import importlib.machinery
import importlib.util
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_objectives import COMBOS as OBJECTIVES, HYPER  # noqa: E402
from common import DATA, require_data  # noqa: E402

# bench_objectives' combinations (sg, hs, n_neg, cbow_mean) in the exact mode, and the
# skip-gram ones in the batched mode too ("-b").
COMBOS = {name: (*spec, "exact") for name, spec in OBJECTIVES.items()}
COMBOS.update({f"{name}-b": (*OBJECTIVES[name], "batched") for name in ("sg-ns", "sg-hs")})

def load_kernel(build: str):
    """The kernel module of the cw2v package under ``build``, loaded under its own name:
    ``PATH`` (the AVX2 copy) or ``PATH:ISA`` (``baseline``, ``avx2`` or ``avx512``), either
    one followed by ``@lock`` or not."""
    path, _, isa = build.removesuffix("@lock").partition(":")
    isa = isa or "avx2"
    if isa not in ("baseline", "avx2", "avx512"):
        sys.exit(f"unknown kernel copy {isa!r} in {build!r} (baseline, avx2 or avx512)")
    suffix = "base" if isa == "baseline" else isa    # the baseline copy is _kernel_base
    found = glob.glob(str(Path(path) / "cw2v" / f"_kernel_{suffix}*.so"))
    if not found:
        sys.exit(f"no built {isa} kernel under {path}/cw2v")
    name = f"cw2v._kernel_{suffix}"
    loader = importlib.machinery.ExtensionFileLoader(name, found[0])
    spec = importlib.util.spec_from_file_location(name, found[0], loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def training_setup(corpus: str, combo: str) -> dict:
    """The arguments ``from_corpus`` hands to ``TrainingRun`` (encoded corpus, tables,
    weights, settings), caught before any training."""
    import cw2v
    import cw2v.trainer as trainer

    class Caught(Exception):
        pass

    caught = {}

    def catch(self, kernel, W_in, W_out, sigmoid, noise, counts, encoded, settings,
              span_tokens=trainer.SPAN_TOKENS, *, tree=None, syn1=None, **unused):
        caught.update(W_in=W_in, W_out=W_out, sigmoid=sigmoid, noise=noise, counts=counts,
                      encoded=encoded, settings=settings, tree=tree, syn1=syn1)
        raise Caught

    sg, hs, n_neg, cbow_mean, mode = COMBOS[combo]
    protocol = {k: HYPER[k] for k in ("d", "window", "sample", "min_count")}
    original = trainer.TrainingRun.__init__
    trainer.TrainingRun.__init__ = catch
    try:
        cw2v.Word2Vec.from_corpus(corpus, epochs=1, workers=1, seed=1, progress=False, mode=mode,
                                  sg=sg, hs=hs, n_neg=n_neg, cbow_mean=cbow_mean, **protocol)
    except Caught:
        pass
    finally:
        trainer.TrainingRun.__init__ = original
    return caught


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("combo", choices=sorted(COMBOS))
    ap.add_argument("builds", nargs="+",
                    help="folders holding a built cw2v/ package, each PATH (its AVX2 kernel "
                         "copy) or PATH:ISA (baseline, avx2, avx512)")
    ap.add_argument("--corpus", default=str(DATA / "corpus" / "wiki8.txt.xz"))
    ap.add_argument("--tokens", type=float, default=4e6,
                    help="tokens trained per round (whole spans of 2**20 tokens, at least this many)")
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="wall: time.perf_counter; cpu: the thread's CPU time (time.thread_time)")
    args = ap.parse_args()
    require_data(Path(args.corpus))
    from cw2v.tables import keep_probabilities
    from cw2v.trainer import make_spans

    kernels = [load_kernel(b) for b in args.builds]
    c = training_setup(args.corpus, args.combo)
    s = c["settings"]
    keep = keep_probabilities(c["counts"], s.sample)
    spans, n = [], 0
    for tokens, bounds in make_spans(c["encoded"], 1 << 20):
        spans.append((np.ascontiguousarray(tokens), bounds))
        n += len(tokens)
        if n >= args.tokens:
            break
    lockf = np.where(np.arange(c["W_in"].shape[0]) % 10 == 9, 0.5, 1.0).astype(np.float32)
    locks = [{"lockf": lockf} if b.endswith("@lock") else {} for b in args.builds]
    weights = [w for w in (c["W_in"], c["W_out"], c["syn1"]) if w is not None]
    start = [w.copy() for w in weights]
    times = [[] for _ in kernels]
    clock = time.perf_counter if args.clock == "wall" else time.thread_time
    for r in range(args.rounds):
        order = list(range(len(kernels)))
        order = order[r % len(order):] + order[:r % len(order)]
        for k in order:
            for w, w0 in zip(weights, start):
                w[...] = w0
            state = kernels[k].KernelState(
                c["W_in"], c["W_out"], c["sigmoid"], c["noise"], s.n_neg, 12345,
                keep_prob=keep, window=s.window, objective=s.mode, sg=s.sg, hs=s.hs,
                cbow_mean=s.cbow_mean, tree=c["tree"], syn1=c["syn1"], **locks[k])
            t0 = clock()
            for tokens, bounds in spans:
                state.train_span(tokens, bounds, 0.025, 0.02)
            times[k].append(clock() - t0)
    print(f"{args.combo}, {n:,} tokens, {args.rounds} rounds, {args.clock} clock")
    for build, t in zip(args.builds, times):
        ratio = [x / y for x, y in zip(t, times[0])]
        print(f"{build:30s} median {statistics.median(t):.3f} s  min {min(t):.3f} s  "
              f"time / first build: median {statistics.median(ratio):.3f} "
              f"[{min(ratio):.3f}, {max(ratio):.3f}]")


if __name__ == "__main__":
    main()
