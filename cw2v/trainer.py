"""Multi-threaded corpus training: a run object feeding spans of the encoded corpus to nogil
kernel calls.

``TrainingRun`` cuts the encoded corpus into spans of about ``SPAN_TOKENS`` tokens, hands them to
``workers`` Python threads through a queue, and keeps the books: global progress (which sets each
span's learning rate), the progress bar, per-epoch figures, and stopping (a callback raising
``StopTraining``, Ctrl-C). Each worker owns a kernel state (``KernelState``: tables, noise sampler,
generator from ``SeedSequence(seed).spawn``, scratch) and calls its ``train_span`` with the GIL
released for the whole span. ``W_in``, ``W_out`` (and hierarchical softmax's ``syn1``) are shared
without locks, as in word2vec.c and gensim (Hogwild; Recht et al. 2011). The run returns a
``RunResult`` that the model applies.
"""
from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from collections.abc import Callable
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
    loss: float           # summed loss of the epoch (float64, all threads): -log sigmoid terms
                          # of every target, negative sampling's and hierarchical softmax's
    pairs: int            # examples trained: skip-gram (center, context) pairs; CBOW centers
    words: int            # in-vocabulary tokens read, before subsampling (the corpus's
                          # raw_words also counts the out-of-vocabulary tokens)
    kept_words: int       # tokens kept by subsampling
    seconds: float
    lr: float             # learning rate at the end of the epoch

    @property
    def loss_per_pair(self) -> float:
        """Mean loss of an example (a pair, or a CBOW center) and all its targets."""
        return self.loss / max(self.pairs, 1)

    @property
    def words_per_second(self) -> float:
        """In-vocabulary tokens read per second of training (the benchmarks' raw words/s count
        every token of the corpus: ``model.raw_words * epochs / seconds``)."""
        return self.words / max(self.seconds, 1e-9)


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
    objective: str = "exact"  # one of the kernel's OBJECTIVES
    sg: int = 1               # 1 skip-gram, 0 CBOW
    hs: int = 0               # 1: hierarchical softmax (the run needs the tree and syn1)
    cbow_mean: int = 1        # CBOW: 1 mean, 0 sum of the context vectors


@dataclass
class RunResult:
    """What a ``TrainingRun`` hands back for the model to apply."""

    epochs: list[EpochStats]  # the figures of each epoch completed
    stopped: str | None       # why training ended early, or None if it ran all epochs


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
    """Trains the spans it takes from ``jobs`` on its kernel state and reports each span's
    figures (or the exception it raised) to ``results``; ``None`` ends it."""

    def __init__(self, state, jobs: queue.Queue, results: queue.Queue):
        super().__init__(daemon=True, name="cw2v-worker")
        self.state, self.jobs, self.results = state, jobs, results

    def run(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            try:
                out = self.state.train_span(*job)
            except BaseException as exc:  # reported to the main thread, which re-raises
                self.results.put(exc)
                return
            self.results.put(out)


class TrainingRun:
    """One training call: ``settings.epochs`` passes over ``encoded`` by ``settings.workers``
    threads, the learning rate decaying linearly from ``lr`` to ``min_lr`` by global progress.

    Every worker's kernel state is made (and so every size checked) here, in the caller's
    thread, before any thread starts. ``run`` trains; between epochs the run's position
    (``epoch``, ``words_done``) and each worker's generator (``rng_states``) say where it is.

    Parameters
    ----------
    kernel : module
        The kernel copy (``cw2v._simd.kernel``) whose ``KernelState`` the workers use.
    W_in, W_out : float32 (V, d)
        The weights, trained in place by all workers.
    sigmoid, noise : cw2v.tables.SigmoidTables, cw2v.tables.AliasTable
        The sigmoid tables and the noise distribution's alias table.
    counts : int64 (V,)
        Word counts, for the subsampling keep-probabilities.
    encoded : EncodedCorpus
        The corpus as word ids.
    settings : TrainingSettings
    tree : cw2v.tables.HuffmanTree, optional
        Hierarchical softmax's tree (``settings.hs``).
    syn1 : float32 (V, d), optional
        Hierarchical softmax's inner-node weights (``settings.hs``), trained in place.
    """

    def __init__(self, kernel, W_in, W_out, sigmoid, noise, counts, encoded: EncodedCorpus,
                 settings: TrainingSettings, *, tree=None, syn1=None):
        s = self.settings = settings
        self.spans = make_spans(encoded)
        self.total_words = int(encoded.tokens.shape[0]) * s.epochs
        keep_prob = keep_probabilities(counts, s.sample)
        seeds = np.random.SeedSequence(s.seed).spawn(s.workers)
        self.states = [kernel.KernelState(W_in, W_out, sigmoid, noise, s.n_neg,
                                          int(seq.generate_state(1, np.uint64)[0]),
                                          keep_prob=keep_prob, window=s.window,
                                          objective=s.objective, sg=s.sg, hs=s.hs,
                                          cbow_mean=s.cbow_mean, tree=tree, syn1=syn1)
                       for seq in seeds]
        self.epoch = 0         # the epoch in progress, or the last one run (1-based)
        self.words_done = 0    # tokens of spans trained, all epochs together
        self.dispatched = 0    # tokens of spans handed to the workers
        self.history: list[EpochStats] = []
        self._jobs: queue.Queue = queue.Queue(maxsize=2 * s.workers)
        self._results: queue.Queue = queue.Queue()
        self._workers: list[_Worker] = []
        self._pending = 0
        self._figures = np.zeros(4)  # raw, kept, pairs, loss of the epoch so far
        self._bar = None

    @property
    def rng_states(self) -> list[int]:
        """Each worker's generator state (read between epochs, when no span is running)."""
        return [state.rng_state for state in self.states]

    def lr_at(self, words: int) -> float:
        """The learning rate after ``words`` tokens: linear from lr to min_lr over the run
        (word2vec.c, gensim)."""
        s = self.settings
        return s.lr - (s.lr - s.min_lr) * min(words / max(self.total_words, 1), 1.0)

    def run(self, on_epoch: Callable[[EpochStats], None] | None = None,
            progress: bool | None = None) -> RunResult:
        """Train every epoch; ``on_epoch(stats)`` is called after each one.

        Ctrl-C (KeyboardInterrupt), or ``on_epoch`` raising ``StopTraining`` or
        KeyboardInterrupt, stops the workers after their current span (well under a second);
        the weights keep what was trained so far and the result says how far it got. Any other
        exception (a worker's included) stops the workers and is re-raised.
        """
        s = self.settings
        if progress is None:
            progress = sys.stderr.isatty()
        stopped = None
        try:
            self._start()
            self._bar = tqdm(total=self.total_words, unit="word", unit_scale=True,
                             disable=not progress, desc="cw2v", dynamic_ncols=True)
            for epoch in range(self.epoch + 1, s.epochs + 1):
                self.epoch = epoch
                stats = self._run_epoch()
                self.history.append(stats)
                log.info("epoch %d/%d: loss %.4f a pair, %.0f words/s, lr %.5f", self.epoch,
                         s.epochs, stats.loss_per_pair, stats.words_per_second, stats.lr)
                if on_epoch is not None:
                    on_epoch(stats)
        except StopTraining:
            stopped = "a callback stopped training"
        except KeyboardInterrupt:
            stopped = "interrupted"
        finally:
            self._stop()
        if stopped is not None:
            done = self.words_done / max(self.total_words, 1)
            log.warning("training %s during epoch %d of %d, after %.1f%% of all words; the "
                        "weights keep what was trained so far", stopped, self.epoch, s.epochs,
                        100 * done)
            stopped = f"{stopped} in epoch {self.epoch} of {s.epochs} ({100 * done:.1f}% of words)"
        return RunResult(list(self.history), stopped)

    # -- dispatch, collect, stop -------------------------------------------------------------

    def _start(self) -> None:
        """Start one thread per kernel state; each joins ``_workers`` once started, so a
        failed start leaves only running threads for ``_stop`` to end."""
        for state in self.states:
            worker = _Worker(state, self._jobs, self._results)
            worker.start()
            self._workers.append(worker)

    def _run_epoch(self) -> EpochStats:
        """Hand every span of the corpus to the workers, collect their figures as they come."""
        start = time.perf_counter()
        self._figures[:] = 0
        for tokens, bounds in self.spans:
            n = tokens.shape[0]
            job = (tokens, bounds, self.lr_at(self.dispatched), self.lr_at(self.dispatched + n))
            while True:
                try:
                    self._jobs.put(job, timeout=0.1)
                    break
                except queue.Full:
                    self._collect(block=False)
            self.dispatched += n
            self._pending += 1
            self._collect(block=False)
        self._collect(block=True)
        raw, kept, pairs, loss = self._figures
        return EpochStats(self.epoch, float(loss), int(pairs), int(raw), int(kept),
                          time.perf_counter() - start, self.lr_at(self.dispatched))

    def _record(self, out) -> None:
        self._pending -= 1
        self.words_done += out[0]
        self._figures[:] += out
        if self._bar is not None:
            self._bar.update(out[0])

    def _collect(self, block: bool) -> None:
        """Take finished spans' figures: those there now, or (block) all pending ones."""
        while self._pending:
            try:
                out = self._results.get(timeout=0.1) if block else self._results.get_nowait()
            except queue.Empty:
                if block:
                    continue
                return
            if isinstance(out, BaseException):
                raise out
            self._record(out)
            if out[2] and self._bar is not None:
                self._bar.set_postfix(lr=f"{self.lr_at(self.dispatched):.5f}",
                                      loss=f"{out[3] / out[2]:.3f}", refresh=False)

    def _stop(self) -> None:
        """Drop the queued spans, end and join the started workers, record what finished."""
        while True:
            try:
                if self._jobs.get_nowait() is not None:
                    self._pending -= 1
            except queue.Empty:
                break
        for _ in self._workers:
            self._jobs.put(None)
        for worker in self._workers:
            worker.join()
        self._workers = []
        while not self._results.empty():  # spans that finished while stopping
            out = self._results.get_nowait()
            if not isinstance(out, BaseException):
                self._record(out)
        if self._bar is not None:
            self._bar.close()
            self._bar = None
