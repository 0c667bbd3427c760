"""Trained weights bit-identical to a reference build, for every objective, mode and kernel copy.

A restructuring of the kernel (names, helpers, types) must not change a single bit of what it
trains. Each case trains a small fixed corpus (made here, from integer arithmetic and a seeded
NumPy generator) through one of the kernel's entry points and hashes the weights, the loss, the
counts and the generator's state; the digests are compared with those recorded from commit
080c35e in ``bit_identical_080c35e.json`` beside this file.

The bits depend on the compiler (its choice of fused multiply-adds, its vectorisation): a copy
built by another compiler than the recorded one skips, saying so. To record a build's digests
(for instance a reference build before a change, then compare after)::

    python tests/test_bit_identical.py --save FILE     # FILE: a JSON of every available copy
    python tests/test_bit_identical.py --check FILE
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from cw2v import _simd
from cw2v.tables import AliasTable, SigmoidTables, alias_table, huffman_tree, keep_probabilities

RECORDED = Path(__file__).with_name("bit_identical_080c35e.json")

V, D, N_TOKENS = 300, 50, 12_000
# name: (entry point, sg, hs, n_neg, cbow_mean, mode, padded rows)
CASES = {
    "sg-ns": ("span", 1, 0, 5, 1, "exact", False),
    "sg-ns-padded": ("span", 1, 0, 5, 1, "exact", True),
    "sg-ns-b": ("span", 1, 0, 5, 1, "batched", False),
    "sg-hs": ("span", 1, 1, 0, 1, "exact", False),
    "sg-hs-ns": ("span", 1, 1, 5, 1, "exact", True),
    "sg-hs-b": ("span", 1, 1, 0, 1, "batched", False),
    "cbow-ns": ("span", 0, 0, 5, 1, "exact", False),
    "cbow-ns-sum": ("span", 0, 0, 5, 0, "exact", False),
    "cbow-hs": ("span", 0, 1, 0, 1, "exact", True),
    "cbow-hs-ns": ("span", 0, 1, 5, 1, "exact", False),
    "pairs": ("pairs", 1, 0, 5, 1, "exact", False),
    "example-sg-hs-ns": ("example", 1, 1, 5, 1, "exact", False),
    "example-cbow-hs-ns": ("example", 0, 1, 5, 0, "exact", False),
}


def sigmoid_tables(size: int = 1000, max_exp: float = 6.0) -> SigmoidTables:
    """cw2v.tables.sigmoid_tables' knots from Python's math (the same on every platform, where
    NumPy's SIMD exp may differ in the last bit from one CPU to another)."""
    x = [-max_exp + 2 * max_exp * k / size for k in range(size + 1)]
    sig = [1.0 / (1.0 + math.exp(-v)) for v in x]
    return SigmoidTables(np.array(sig, np.float32), np.array([math.log(s) for s in sig],
                                                             np.float32), max_exp)


def inputs() -> dict:
    """The corpus, tables and starting weights every case trains from."""
    rng = np.random.default_rng(28)
    # Skewed ids from integers: id = V * r**2 / 2**32 for r uniform in 0..2**16 - 1.
    r = rng.integers(0, 1 << 16, N_TOKENS, dtype=np.int64)
    tokens = (r * r * V >> 32).astype(np.int32)
    cuts = np.cumsum(rng.integers(1, 40, N_TOKENS))
    bounds = np.concatenate([[0], cuts[cuts < N_TOKENS], [N_TOKENS]]).astype(np.int64)
    counts = np.bincount(tokens, minlength=V).astype(np.int64) + 1
    weights = counts.astype(np.float64) ** 0.75
    w = [(rng.integers(-2**20, 2**20, (V, D)) * 2.0**-22).astype(np.float32) for _ in range(3)]
    return dict(tokens=tokens, bounds=bounds, counts=counts, sigmoid=sigmoid_tables(),
                noise=alias_table(weights), keep=keep_probabilities(counts, 1e-2),
                tree=huffman_tree(counts), weights=w)


def fingerprint(data: dict) -> str:
    """SHA-256 of the inputs: the recorded digests hold only for these."""
    h = hashlib.sha256()
    for key in ("tokens", "bounds", "counts", "keep"):
        h.update(np.ascontiguousarray(data[key]).tobytes())
    for table in (data["sigmoid"], data["noise"], data["tree"]):
        for part in table:
            h.update(np.asarray(part).tobytes())
    for w in data["weights"]:
        h.update(w.tobytes())
    return h.hexdigest()


def layout(w: np.ndarray, padded: bool) -> np.ndarray:
    """A copy of w, C-contiguous or as the first D columns of a wider array (ld = D + 14)."""
    if not padded:
        return w.copy()
    wide = np.full((w.shape[0], w.shape[1] + 14), np.nan, np.float32)
    wide[:, :D] = w
    return wide[:, :D]


def run_case(module, data: dict, case: str) -> str:
    """Train one case with kernel copy ``module``; the SHA-256 of everything it produced."""
    entry, sg, hs, n_neg, cbow_mean, mode, padded = CASES[case]
    W_in, W_out, syn1 = (layout(w, padded) for w in data["weights"])
    state = module.KernelState(
        W_in, W_out, data["sigmoid"], data["noise"], n_neg, 0x9E3779B97F4A7C15,
        keep_prob=data["keep"], window=5, objective=mode, sg=sg, hs=hs, cbow_mean=cbow_mean,
        tree=data["tree"] if hs else None, syn1=syn1 if hs else None)
    tokens, bounds = data["tokens"], data["bounds"]
    results = []
    if entry == "span":
        half = len(bounds) // 2
        # Two spans, the learning rate moving over each (its float steps are part of the bits).
        results.append(state.train_span(tokens[:bounds[half]], bounds[:half + 1], 0.05, 0.03))
        second = tokens[bounds[half]:]
        results.append(state.train_span(second, bounds[half:] - bounds[half], 0.03, 0.001))
    elif entry == "pairs":
        centers, contexts = tokens[:-1].copy(), tokens[1:].copy()
        results.append(state.train_pairs(centers, contexts, 0.05))
        negs = np.ascontiguousarray(np.stack([tokens[k::7][:100] for k in range(4)], 1))
        results.append(state.train_pairs(centers[:100], contexts[:100], 0.02, negs))
        results.append(state.train_pair(3, 7, 0.04))
    else:
        width = 1 if sg else 2 * 5
        for k in range(0, 2000, width + 1):
            results.append(state.train_example(tokens[k:k + width], int(tokens[k + width]),
                                               0.05))
        results.append(state.train_example(tokens[:width], 0, 0.05, tokens[5:5 + n_neg]))
    h = hashlib.sha256()
    for w in (W_in, W_out, syn1):
        h.update(np.ascontiguousarray(w).tobytes())
    h.update(repr(results).encode())
    h.update(str(state.rng_state).encode())
    return h.hexdigest()


def compiler_of(module) -> str:
    """The compiler named in the extension's ELF .comment section ("GCC: (...) 12.2.0"), or ""."""
    blob = Path(module.__file__).read_bytes()
    found = re.findall(rb"(?:GCC|clang version)[: ][ -~]{3,80}", blob)
    return found[-1].decode() if found else ""


def digests(kernels: dict) -> dict:
    """Every case's digest for each kernel copy, with the inputs' fingerprint and the compiler."""
    data = inputs()
    return {level: {"compiler": compiler_of(module), "inputs": fingerprint(data),
                    "cases": {case: run_case(module, data, case) for case in CASES}}
            for level, module in kernels.items()}


@pytest.fixture(scope="module")
def data():
    return inputs()


@pytest.mark.parametrize("case", sorted(CASES))
def test_weights_bit_identical_to_080c35e(kernel, data, case):
    recorded = json.loads(RECORDED.read_text())
    level = kernel.compiled_level()
    if level not in recorded:
        pytest.skip(f"no digests recorded for the {level} copy (recorded: {sorted(recorded)})")
    ref = recorded[level]
    if ref["inputs"] != fingerprint(data):
        pytest.skip("the inputs differ from the recorded ones on this platform")
    if ref["compiler"] != compiler_of(kernel):
        pytest.skip(f"built by {compiler_of(kernel)!r}, the digests by {ref['compiler']!r}")
    assert run_case(kernel, data, case) == ref["cases"][case], (
        f"{case} on the {level} copy trained other bits than 080c35e")


def test_cases_differ(data):
    """The digests see the training: every case gives its own, except that the rows' layout
    (padded to a wider array or not) changes no bit."""
    kernel = _simd.kernel
    got = {case: run_case(kernel, data, case) for case in CASES}
    assert got["sg-ns-padded"] == got.pop("sg-ns")
    assert len(set(got.values())) == len(got)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    group = ap.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", type=Path, help="write every available copy's digests here")
    group.add_argument("--check", type=Path, help="compare every available copy with these")
    args = ap.parse_args()
    got = digests(_simd.available_kernels())
    if args.save:
        args.save.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
        print(f"{sum(len(v['cases']) for v in got.values())} digests -> {args.save}")
        sys.exit(0)
    ref = json.loads(args.check.read_text())
    bad = [(lv, c) for lv in got if lv in ref for c in CASES
           if got[lv]["cases"][c] != ref[lv]["cases"].get(c)]
    for lv in got:
        print(f"{lv}: {'compared' if lv in ref else 'not in the reference'}")
    print("DIFFERENT: " + ", ".join(f"{lv}/{c}" for lv, c in bad) if bad else "bit-identical")
    sys.exit(1 if bad else 0)
