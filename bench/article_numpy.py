"""The classic from-scratch NumPy word2vec class that cw2v is a drop-in for (the baseline).

Written the way that class is usually written: float64 weights, the exact sigmoid, noise
words from ``np.random.choice`` with the unigram**0.75 probabilities, and W_out updated before
its row is read back for the input gradient. Only the benchmarks use it.
"""
import numpy as np


class Word2Vec:
    """Skip-gram with negative sampling in plain NumPy, one pair at a time."""

    def __init__(self, vocab, d=50, lr=0.025, n_neg=5):
        self.vocab = list(vocab)
        self.w2i = {w: i for i, w in enumerate(self.vocab)}
        V = len(self.vocab)
        self.W_in = (np.random.rand(V, d) - 0.5) / d
        self.W_out = np.zeros((V, d))
        self.lr = lr
        self.n_neg = n_neg
        self.freq = np.ones(V) / V

    def set_freq(self, word_counts):
        """Noise distribution proportional to count**0.75 (missing words count 1)."""
        counts = np.array([word_counts.get(w, 1) for w in self.vocab], dtype=float)
        f = counts ** 0.75
        self.freq = f / f.sum()

    @staticmethod
    def sigmoid(x):
        """The logistic function."""
        return 1.0 / (1.0 + np.exp(-x))

    def train_pair(self, center_idx, context_idx):
        """One SGNS update for (center, context) with n_neg sampled noise words."""
        h = self.W_in[center_idx]
        negs = np.random.choice(len(self.vocab), self.n_neg, p=self.freq)
        grad_h = np.zeros_like(h)
        for t, label in [(context_idx, 1)] + [(n, 0) for n in negs]:
            g = self.lr * (label - self.sigmoid(h @ self.W_out[t]))
            self.W_out[t] += g * h
            grad_h += g * self.W_out[t]
        self.W_in[center_idx] += grad_h

    def similarity(self, w1, w2):
        """Cosine similarity of two words."""
        a, b = self.W_in[self.w2i[w1]], self.W_in[self.w2i[w2]]
        return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
