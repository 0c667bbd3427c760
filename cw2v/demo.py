"""The classic tiny-corpus demo: train word vectors pair by pair, then ask for neighbours.

Run it as ``cw2v demo`` or ``python -m cw2v.demo``. It is written exactly as a script for the
classic NumPy class would be -- only the import says cw2v -- to show the drop-in API.
"""
from __future__ import annotations

from collections import Counter
from importlib import resources

from cw2v import Word2Vec

TINY_CORPUS = "tiny_corpus.txt"


def tiny_corpus() -> list[list[str]]:
    """The demo's sixteen sentences (cw2v/data/tiny_corpus.txt), tokenised."""
    text = resources.files("cw2v.data").joinpath(TINY_CORPUS).read_text(encoding="utf-8")
    return [line.split() for line in text.splitlines() if line.strip()]


def train_tiny(epochs: int = 100, window: int = 2, seed: int | None = 1):
    """Train the drop-in ``Word2Vec`` on the tiny corpus with ``train_pair``, the classic way."""
    sentences = tiny_corpus()
    counts = Counter(w for s in sentences for w in s)
    vocab = sorted(counts)
    model = Word2Vec(vocab, d=50, lr=0.025, n_neg=5, seed=seed)
    model.set_freq(counts)
    for _ in range(epochs):
        for sent in sentences:
            for i, word in enumerate(sent):
                for j in range(max(0, i - window), min(len(sent), i + window + 1)):
                    if j != i:
                        model.train_pair(model.w2i[word], model.w2i[sent[j]])
    return model


def main(argv: list[str] | None = None) -> int:
    """Train on the tiny corpus and print the neighbours of king and dog and two similarities."""
    model = train_tiny()
    for word in ("king", "dog"):
        neighbours = ", ".join(f"{w} {s:.3f}" for w, s in model.most_similar(word, k=5))
        print(f"most similar to {word}: {neighbours}")
    print(f"similarity(king, queen) = {model.similarity('king', 'queen'):.3f}")
    print(f"similarity(king, dog)   = {model.similarity('king', 'dog'):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
