"""Multi-threaded corpus training: spans of the encoded corpus fed to nogil kernel calls.

The main thread cuts the encoded corpus into spans of about ``SPAN_TOKENS`` tokens, hands them
to ``workers`` Python threads through a queue, and keeps the books: global progress (which sets
each span's learning rate), the progress bar, per-epoch loss, callbacks, and Ctrl-C. Each worker
owns a random generator (from ``SeedSequence(seed).spawn``) and calls the kernel's
``train_span`` with the GIL released for the whole span. ``W_in`` and ``W_out`` are shared
without locks, as in word2vec.c and gensim (Hogwild; Recht et al. 2011).
"""
from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from .corpus import EncodedCorpus
from .tables import keep_probabilities

log = logging.getLogger(__name__)

# Tokens a span holds. Windows never cross a span's edge (word2vec.c cuts sentences at 1,000
# words, gensim at 10,000); at 50,000 tokens that loses under 0.01% of a long line's pairs. A
# span takes ~30 ms, so Ctrl-C still stops within a second; 10,000-token spans measured 4%
# slower on one thread (hand-over costs per span).
SPAN_TOKENS = 50_000


class StopTraining(Exception):
    """Raise from a callback to end training after the current epoch."""


@dataclass(frozen=True)
class EpochStats:
    """Figures of one epoch, passed to callbacks and kept in ``model.epoch_history``."""

    epoch: int            # 1-based
    loss: float           # summed SGNS loss of the epoch (float64, all threads)
    pairs: int            # positive (center, context) pairs trained
    raw_words: int        # tokens read (after vocabulary filtering, before subsampling)
    kept_words: int       # tokens kept by subsampling
    seconds: float
    lr: float             # learning rate at the end of the epoch

    @property
    def loss_per_pair(self) -> float:
        """Mean loss of a positive pair and its noise words."""
        return self.loss / max(self.pairs, 1)

    @property
    def words_per_second(self) -> float:
        """Tokens read per second of training."""
        return self.raw_words / max(self.seconds, 1e-9)


@dataclass
class TrainingSettings:
    """Hyper-parameters of one call to the trainer (checked by the model)."""

    epochs: int
    window: int
    n_neg: int
    sample: float
    lr: float
    min_lr: float
    workers: int
    seed: int
    batched: bool


def span_edges(offsets: np.ndarray, n_tokens: int, span_tokens: int = SPAN_TOKENS) -> np.ndarray:
    """Cut points 0 = e_0 < e_1 < ... = n_tokens, about ``span_tokens`` apart, at a sentence
    boundary where one lies in the last half of the span, else mid-sentence."""
    if n_tokens == 0:
        return np.zeros(1, dtype=np.int64)
    edges = [0]
    while n_tokens - edges[-1] > span_tokens:
        target = edges[-1] + span_tokens
        k = int(np.searchsorted(offsets, target, side="right")) - 1
        cut = int(offsets[k]) if k >= 0 and offsets[k] > edges[-1] + span_tokens // 2 else target
        edges.append(cut)
    edges.append(n_tokens)
    return np.asarray(edges, dtype=np.int64)


def make_spans(encoded: EncodedCorpus, span_tokens: int = SPAN_TOKENS):
    """(tokens view, sentence bounds relative to the span) for each span of the corpus."""
    offsets = np.asarray(encoded.offsets, dtype=np.int64)
    tokens = encoded.tokens
    edges = span_edges(offsets, tokens.shape[0], span_tokens)
    spans = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        inner = offsets[(offsets > lo) & (offsets < hi)]
        bounds = np.concatenate(([lo], inner, [hi])).astype(np.int64) - lo
        spans.append((tokens[lo:hi], bounds))
    return spans


class _Worker(threading.Thread):
    """Trains the spans it takes from ``jobs`` and reports each span's figures to ``results``."""

    def __init__(self, model, kernel, settings: TrainingSettings, keep_prob, rng_state,
                 jobs: queue.Queue, results: queue.Queue):
        super().__init__(daemon=True, name="cw2v-worker")
        self.model, self.kernel, self.settings = model, kernel, settings
        self.keep_prob, self.rng_state = keep_prob, rng_state
        self.jobs, self.results = jobs, results

    def run(self) -> None:
        m, s = self.model, self.settings
        t, noise = m.sigmoid_tables, m.noise_table
        while True:
            job = self.jobs.get()
            if job is None:
                return
            tokens, bounds, lr_start, lr_end = job
            try:
                out = self.kernel.train_span(
                    m.W_in, m.W_out, tokens, bounds, self.keep_prob, noise.prob, noise.alias,
                    self.rng_state, s.window, s.n_neg, lr_start, lr_end, s.batched,
                    t.sigmoid, t.log_sigmoid, t.max_exp)
            except BaseException as exc:  # reported to the main thread, which re-raises
                self.results.put(exc)
                return
            self.results.put(out)


def train(model, kernel, encoded: EncodedCorpus, settings: TrainingSettings,
          progress: bool | None = None,
          callbacks: Iterable[Callable] = ()) -> list[EpochStats]:
    """Train ``model`` on ``encoded`` for ``settings.epochs`` epochs; returns the epochs' stats.

    Ctrl-C (KeyboardInterrupt) or a callback raising ``StopTraining`` or KeyboardInterrupt
    stops the workers after their current span (well under a second); the model keeps the
    weights trained so far and the return value says how far it got.
    """
    s = settings
    spans = make_spans(encoded)
    n_tokens = int(encoded.tokens.shape[0])
    total = n_tokens * s.epochs
    keep_prob = keep_probabilities(model.counts, s.sample)
    states = np.random.SeedSequence(s.seed).spawn(s.workers)
    jobs: queue.Queue = queue.Queue(maxsize=2 * s.workers)
    results: queue.Queue = queue.Queue()
    workers = [_Worker(model, kernel, s, keep_prob,
                       np.array(st.generate_state(1, np.uint64), dtype=np.uint64), jobs, results)
               for st in states]
    if progress is None:
        progress = sys.stderr.isatty()
    bar = tqdm(total=total, unit="word", unit_scale=True, disable=not progress,
               desc="cw2v", dynamic_ncols=True)
    history: list[EpochStats] = []
    dispatched = 0

    def lr_at(words: int) -> float:
        # Linear decay from lr to min_lr by global progress (word2vec.c, gensim).
        return s.lr - (s.lr - s.min_lr) * min(words / max(total, 1), 1.0)

    epoch_figures = np.zeros(4)  # raw, kept, pairs, loss of the epoch so far
    pending = 0
    words_done = 0

    def record(out) -> None:
        nonlocal pending, words_done
        pending -= 1
        words_done += out[0]
        epoch_figures[:] += out
        bar.update(out[0])

    def collect(block: bool) -> None:
        while pending:
            try:
                out = results.get(timeout=0.1) if block else results.get_nowait()
            except queue.Empty:
                if block:
                    continue
                return
            if isinstance(out, BaseException):
                raise out
            record(out)
            if out[2]:
                bar.set_postfix(lr=f"{lr_at(dispatched):.5f}",
                                loss=f"{out[3] / out[2]:.3f}", refresh=False)

    for w in workers:
        w.start()
    epoch = 0
    stop_reason = None
    try:
        for epoch in range(1, s.epochs + 1):
            start = time.perf_counter()
            epoch_figures[:] = 0
            for tokens, bounds in spans:
                n = tokens.shape[0]
                job = (tokens, bounds, lr_at(dispatched), lr_at(dispatched + n))
                while True:
                    try:
                        jobs.put(job, timeout=0.1)
                        break
                    except queue.Full:
                        collect(block=False)
                dispatched += n
                pending += 1
                collect(block=False)
            collect(block=True)
            raw, kept, pairs, loss = epoch_figures
            stats = EpochStats(epoch, float(loss), int(pairs), int(raw), int(kept),
                               time.perf_counter() - start, lr_at(dispatched))
            history.append(stats)
            model.loss_history.append(stats.loss)
            model.epoch_history.append(stats)
            log.info("epoch %d/%d: loss %.4f a pair, %.0f words/s, lr %.5f", epoch, s.epochs,
                     stats.loss_per_pair, stats.words_per_second, stats.lr)
            for callback in callbacks:
                callback(model, stats)
    except StopTraining:
        stop_reason = "a callback stopped training"
    except KeyboardInterrupt:
        stop_reason = "interrupted"
    finally:
        # Stop the workers: drop queued spans, then one sentinel each.
        while True:
            try:
                if jobs.get_nowait() is not None:
                    pending -= 1
            except queue.Empty:
                break
        for _ in workers:
            jobs.put(None)
        for w in workers:
            w.join()
        while not results.empty():  # spans that finished while stopping
            out = results.get_nowait()
            if not isinstance(out, BaseException):
                record(out)
        bar.close()
        model.invalidate_norms()
    if stop_reason is not None:
        done = words_done / max(total, 1)
        log.warning("training %s during epoch %d of %d, after %.1f%% of all words; the model "
                    "keeps the weights trained so far", stop_reason, epoch, s.epochs, 100 * done)
        model.training_stopped = f"{stop_reason} in epoch {epoch} of {s.epochs} ({100 * done:.1f}% of words)"
    return history
