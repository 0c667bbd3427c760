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
import math
import queue
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields

import numpy as np
from tqdm.auto import tqdm

from .corpus import EncodedCorpus
from .params import Settings, default, settings
from .tables import keep_probabilities

log = logging.getLogger(__name__)

_DEFAULT_LR = default("lr")

# Tokens a span holds. Windows never cross a span's edge (word2vec.c cuts sentences at 1,000
# words, gensim at 10,000); at 50,000 tokens that loses under 0.01% of a long line's pairs. A
# span takes ~30 ms, so Ctrl-C still stops within a second; 10,000-token spans measured 4%
# slower on one thread (hand-over costs per span).
SPAN_TOKENS = 50_000

# Divergence is seen by what it does, not only by NaN or infinite values (hierarchical softmax
# skips the nodes beyond the sigmoid table, so its weights can grow huge and stay finite): a
# span's loss per example above DIVERGED_LOSS_FACTOR times what an untrained model scores (every
# score 0: log 2 a target, so about what a fresh run's first span scores; training only lowers
# it), or a weight beyond DIVERGED_WEIGHT in magnitude (word2vec's trained weights stay within a
# few units: the sigmoid table stops their growth at scores of +-6).
DIVERGED_LOSS_FACTOR = 100.0
DIVERGED_WEIGHT = 1e4


class StopTraining(Exception):
    """Raise from a callback to end training after the current epoch."""


class TrainingDivergedError(FloatingPointError):
    """Training diverged (a learning rate far too large): the loss or the weights became NaN or
    infinite, a span's loss per example rose far above an untrained model's, or a weight grew
    far beyond any trained model's. The weights are unusable, and no checkpoint is written from
    them."""


class _Stop(Exception):
    """Internal: stop cleanly (between spans, every started span recorded), for ``reason``."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


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

    @property
    def raw_words(self) -> int:
        """Deprecated: the old name of ``words`` (in-vocabulary tokens read); warns."""
        warnings.warn("EpochStats.raw_words is deprecated; use EpochStats.words (in-vocabulary "
                      "tokens read)", DeprecationWarning, stacklevel=2)
        return self.words


_TRAINING_SETTINGS_ORDER = ("epochs", "window", "n_neg", "sample", "lr", "min_lr", "workers",
                            "seed", "objective", "sg", "hs", "cbow_mean")


class _TrainingSettings(Settings):
    """What ``cw2v.trainer.TrainingSettings`` was (deprecated): ``TrainingSettings(...)``, its
    fields by position or name (``objective``, the old name of ``mode``, included), makes a
    ``cw2v.params.Settings``: the fields given over the table's defaults, resolved."""

    def __new__(cls, *args, **given):
        if len(args) > len(_TRAINING_SETTINGS_ORDER):
            raise TypeError(f"TrainingSettings takes at most {len(_TRAINING_SETTINGS_ORDER)} "
                            f"positional arguments, got {len(args)}")
        given.update(zip(_TRAINING_SETTINGS_ORDER, args))
        if "objective" in given:
            given["mode"] = given.pop("objective")
        return settings(given)


def __getattr__(name: str):
    if name == "TrainingSettings":
        warnings.warn("cw2v.trainer.TrainingSettings is deprecated: a run takes "
                      "cw2v.params.Settings (cw2v.params.settings(...)), made from the "
                      "parameter table", DeprecationWarning, stacklevel=2)
        return _TrainingSettings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass
class RunPosition:
    """Where a run stands when no span is running: enough to continue it exactly.

    ``epoch`` is the epoch in progress (or the last one finished, when ``span`` equals the
    number of spans), ``span`` how many of its spans are trained, in order. Spans are handed
    out in order and a started span always finishes, so the trained spans are the first
    ``span`` ones, whatever the number of workers.
    """

    epoch: int
    span: int
    words_done: int          # tokens of trained spans, all epochs together (sets the lr)
    rng_states: list[int]    # each worker's generator
    figures: list[float]     # words, kept words, pairs and loss of the epoch so far
    epoch_seconds: float     # time spent in the epoch so far
    history: list[EpochStats]

    def to_json(self) -> dict:
        """A JSON-able dict (``from_json`` reads it back)."""
        data = asdict(self)
        data["history"] = [asdict(stats) for stats in self.history]
        return data

    @classmethod
    def from_json(cls, data) -> "RunPosition":
        """The position ``to_json`` wrote; ValueError saying what is missing or malformed."""
        if not isinstance(data, dict):
            raise ValueError("the run's position is not a JSON object")
        names = [f.name for f in fields(cls)]
        missing = [name for name in names if name not in data]
        if missing:
            raise ValueError(f"the run's position has no {missing[0]!r}")
        ints = ("epoch", "span", "words_done")
        if any(not _is_int(data[k]) or data[k] < 0 for k in ints):
            raise ValueError(f"the run's {', '.join(ints)} must be integers >= 0")
        rng = data["rng_states"]
        if not isinstance(rng, list) or not rng or any(not _is_int(x) or not 0 <= x < 2**64
                                                       for x in rng):
            raise ValueError("the run's rng_states must be a list of integers in [0, 2**64)")
        figures = data["figures"]
        if (not isinstance(figures, list) or len(figures) != 4
                or any(not _is_number(x) for x in figures)
                or not _is_number(data["epoch_seconds"])):
            raise ValueError("the run's figures must be 4 numbers, epoch_seconds a number")
        history = data["history"]
        stats_names = [f.name for f in fields(EpochStats)]
        if not isinstance(history, list) or any(
                not isinstance(h, dict) or sorted(h) != sorted(stats_names)
                or any(not _is_number(v) for v in h.values()) for h in history):
            raise ValueError(f"the run's history must be a list of objects with keys "
                             f"{', '.join(stats_names)}")
        return cls(int(data["epoch"]), int(data["span"]), int(data["words_done"]),
                   [int(x) for x in rng], [float(x) for x in figures],
                   float(data["epoch_seconds"]),
                   [EpochStats(**h) for h in history])


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


@dataclass
class RunResult:
    """What a ``TrainingRun`` hands back for the model to apply."""

    epochs: list[EpochStats]  # the figures of each epoch completed
    stopped: str | None       # why training ended early, or None if it ran all epochs


def chance_loss(n_neg: int, hs: int, tree, counts) -> float:
    """The loss per example of an untrained model, every score 0 (log 2 a target): the positive
    and ``n_neg`` noise words of negative sampling, and hierarchical softmax's path (the mean
    code length, weighted by the counts). A fresh run's first span scores about this."""
    targets = float(n_neg + 1) if n_neg else 0.0
    if hs and tree is not None:
        lengths = np.diff(np.asarray(tree.offsets, dtype=np.int64))
        weights = np.asarray(counts, dtype=np.float64)
        targets += float(np.average(lengths, weights=weights)) if weights.sum() > 0 \
            else float(lengths.mean())
    return max(targets, 1.0) * math.log(2.0)


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


class Spans(Sequence):
    """The spans of an encoded corpus, ``span_edges`` apart; item i is (tokens, bounds), the
    span's word ids and its sentence boundaries relative to it, made when asked for (a corpus
    on disk is read a span at a time)."""

    def __init__(self, encoded: EncodedCorpus, span_tokens: int = SPAN_TOKENS):
        self.encoded = encoded
        self.edges = span_edges(encoded.offsets, encoded.tokens.shape[0], span_tokens)

    def __len__(self) -> int:
        return len(self.edges) - 1

    def __getitem__(self, i):
        if not -len(self) <= i < len(self):
            raise IndexError(f"span {i} of {len(self)}")
        i %= len(self)
        lo, hi = int(self.edges[i]), int(self.edges[i + 1])
        offsets = self.encoded.offsets
        k0, k1 = np.searchsorted(offsets, [lo, hi], side="right")
        inner = np.asarray(offsets[k0:k1], dtype=np.int64)
        inner = inner[inner < hi]
        bounds = np.concatenate(([lo], inner, [hi])).astype(np.int64) - lo
        return self.encoded.read(lo, hi), bounds


def make_spans(encoded: EncodedCorpus, span_tokens: int = SPAN_TOKENS) -> Spans:
    """(tokens, bounds) for each span of the corpus (a ``Spans`` sequence)."""
    return Spans(encoded, span_tokens)


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
    threads, the learning rate decaying linearly from ``lr`` to ``min_lr`` by global progress
    (or along the schedule ``start_lr``, ``end_lr``, ``total_epochs``, ``start_epoch`` say:
    ``lr_at``).

    Every worker's kernel state is made (and so every size checked) here, in the caller's
    thread, before any thread starts. ``run`` trains; ``position()`` says where the run stands
    between spans and ``restore`` puts a new run there, so a checkpointed run continues
    exactly (with one worker, bit for bit: the same spans, learning rates and draws).

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
    settings : cw2v.params.Settings
        Every training parameter (``epochs``, ``window``, ``n_neg``, ``sample``, ``lr``,
        ``min_lr``, ``workers``, ``seed``, ``mode``, ``sg``, ``hs``, ``cbow_mean`` are read).
    span_tokens : int
        Tokens a span holds (a checkpoint records it, so a resumed run cuts the same spans).
    tree : cw2v.tables.HuffmanTree, optional
        Hierarchical softmax's tree (``settings.hs``).
    syn1 : float32 (V, d), optional
        Hierarchical softmax's inner-node weights (``settings.hs``), trained in place.
    subwords : (offsets, rows), optional
        fastText's subword model (``cw2v.FastText``): each word's input rows in CSR form
        (``cw2v.subwords.subword_table``); ``W_in`` then holds V + bucket rows.
    lockf : float32 (V,), optional
        Each word's lock factor (gensim's ``vectors_lockf``): the updates of ``W_in[w]`` are
        scaled by ``lockf[w]`` (0: the row stays as it is). None: no locking.
    """

    def __init__(self, kernel, W_in, W_out, sigmoid, noise, counts, encoded: EncodedCorpus,
                 settings: Settings, span_tokens: int = SPAN_TOKENS, *, tree=None,
                 syn1=None, subwords=None, lockf=None):
        s = self.settings = settings
        self.W_in, self.W_out, self.syn1 = W_in, W_out, syn1
        self.span_tokens = span_tokens
        self.spans = make_spans(encoded, span_tokens)
        self.total_words = int(encoded.tokens.shape[0]) * s.epochs
        # the schedule (``lr_at``): its epochs before this run, and all of them, in tokens
        self._words_before = int(encoded.tokens.shape[0]) * s.start_epoch
        self._schedule_words = int(encoded.tokens.shape[0]) * (
            s.epochs if s.total_epochs is None else s.total_epochs)
        keep_prob = keep_probabilities(counts, s.sample)
        seeds = np.random.SeedSequence(s.seed).spawn(s.workers)
        # (the compiled kernel's keyword for the mode is ``objective``)
        sub = {} if subwords is None else {"sub_offsets": subwords[0], "sub_rows": subwords[1]}
        self.states = [kernel.KernelState(W_in, W_out, sigmoid, noise, s.n_neg,
                                          int(seq.generate_state(1, np.uint64)[0]),
                                          keep_prob=keep_prob, window=s.window,
                                          objective=s.mode, sg=s.sg, hs=s.hs,
                                          cbow_mean=s.cbow_mean, tree=tree, syn1=syn1,
                                          lockf=lockf, **sub)
                       for seq in seeds]
        self.epoch = 0                 # the epoch in progress, or the last one run (1-based)
        self.span = len(self.spans)    # spans of that epoch trained (all: it is finished)
        self.words_done = 0            # tokens of spans trained, all epochs together
        self.dispatched = 0            # tokens of spans handed to the workers
        self.history: list[EpochStats] = []
        self._jobs: queue.Queue = queue.Queue(maxsize=2 * s.workers)
        self._results: queue.Queue = queue.Queue()
        self._workers: list[_Worker] = []
        self._pending = 0
        self._figures = np.zeros(4)    # words, kept, pairs, loss of the epoch so far
        self._epoch_seconds = 0.0      # time spent in the epoch before this call (a resume)
        self._bar = None
        # words on the progress bar per word trained here (a distributed rank shows the
        # group's: see cw2v.distributed)
        self._bar_scale = 1.0
        self._interrupted = False
        self._checkpoint: Callable[[RunPosition], None] | None = None
        self._checkpoint_every = math.inf
        self._last_checkpoint = 0.0
        self._checkpointed: tuple[int, int] | None = None  # (epoch, span) last written
        self._chance_loss = chance_loss(s.n_neg, s.hs, tree, counts)
        # distributed training (cw2v.distributed): ``sync`` is called, no span running, once
        # ``dispatched`` reaches ``sync_at``, and at each epoch's end; never, by default
        self.sync_at = math.inf

    @property
    def rng_states(self) -> list[int]:
        """Each worker's generator state (read between spans, when no span is running)."""
        return [state.rng_state for state in self.states]

    def position(self) -> RunPosition:
        """Where the run stands (call it when no span is running: between ``run`` calls, or
        from the ``checkpoint`` callback)."""
        return RunPosition(self.epoch, self.span, self.words_done, self.rng_states,
                           [float(x) for x in self._figures], self._epoch_seconds,
                           list(self.history))

    def restore(self, position: RunPosition) -> None:
        """Continue from ``position`` (taken from a run with the same settings and corpus).

        Raises ValueError if the position does not fit this run: an epoch outside [1, epochs],
        more spans than it has, another number of workers, words done or epochs of history
        that are not those of the spans and epochs before it.
        """
        s = self.settings
        if len(position.rng_states) != s.workers:
            raise ValueError(f"the position holds {len(position.rng_states)} generators for "
                             f"{s.workers} workers")
        n_spans, edges = len(self.spans), self.spans.edges
        fits = 1 <= position.epoch <= s.epochs and 0 <= position.span <= n_spans
        if fits:  # the spans trained are the epoch's first ones: their words, the epochs' before
            done = int(edges[position.span])
            fits = (position.figures[0] == done
                    and position.words_done == (position.epoch - 1) * int(edges[-1]) + done
                    and len(position.history) == position.epoch - (position.span < n_spans))
        if not fits:
            raise ValueError(f"the position (epoch {position.epoch}, span {position.span}, "
                             f"{position.words_done} words) does not fit a run of {s.epochs} "
                             f"epochs of {n_spans} spans")
        self.epoch, self.span = position.epoch, position.span
        self.words_done = self.dispatched = position.words_done
        for state, rng in zip(self.states, position.rng_states):
            state.rng_state = rng
        self._figures[:] = position.figures
        self._epoch_seconds = position.epoch_seconds
        self.history = list(position.history)

    @property
    def finished(self) -> bool:
        """Every epoch of the run is trained."""
        return self.epoch == self.settings.epochs and self.span == len(self.spans)

    def lr_at(self, words: int) -> float:
        """The learning rate after ``words`` tokens of this run: linear from ``start_lr``
        (None: lr) to ``end_lr`` (None: min_lr) over the schedule's ``total_epochs`` epochs
        (None: this run's), of which ``start_epoch`` came before this run (word2vec.c's and
        gensim's decay; the defaults make it one run's, from lr to min_lr).

        The share of the schedule done is (tokens of the epochs before + ``words``) / (tokens
        of all its epochs), integers divided once: a loop of runs over the same corpus, each
        with the next ``start_epoch``, gives every span the very learning rate of one run.
        """
        s = self.settings
        start = s.lr if s.start_lr is None else s.start_lr
        end = s.min_lr if s.end_lr is None else s.end_lr
        return start - (start - end) * min((self._words_before + words)
                                           / max(self._schedule_words, 1), 1.0)

    def run(self, on_epoch: Callable[[EpochStats], None] | None = None,
            progress: bool | None = None,
            checkpoint: Callable[[RunPosition], None] | None = None,
            checkpoint_every: float = math.inf) -> RunResult:
        """Train the epochs left; ``on_epoch(stats)`` is called after each one.

        Ctrl-C, or ``on_epoch`` raising ``StopTraining`` or KeyboardInterrupt, stops the
        workers after their current span (well under a second); the weights keep what was
        trained so far and the result says how far it got. A second Ctrl-C aborts at once.
        Any other exception (a worker's included) stops the workers and is re-raised. A span
        whose loss is not finite or whose loss per example is over ``DIVERGED_LOSS_FACTOR``
        times an untrained model's, or weights not finite or beyond ``DIVERGED_WEIGHT`` at a
        checkpoint or an epoch's end, raise ``TrainingDivergedError``.

        ``checkpoint(position)``, if given, is called with no span running: every
        ``checkpoint_every`` seconds (0: before every span), after each epoch (after
        ``on_epoch``, even when it raises) and after a clean stop; the weights are finite and
        within bounds whenever it is called.
        """
        s = self.settings
        if progress is None:
            progress = sys.stderr.isatty()
        self._checkpoint, self._checkpoint_every = checkpoint, checkpoint_every
        self._last_checkpoint = time.monotonic()
        self._interrupted = False
        stopped, clean = None, False
        previous_handler = self._catch_ctrl_c()
        try:
            self._start()
            self._bar = tqdm(total=round(self.total_words * self._bar_scale),
                             initial=round(self.words_done * self._bar_scale), unit="word",
                             unit_scale=True, disable=not progress, desc="cw2v",
                             dynamic_ncols=True)
            while not self.finished:
                if self.span == len(self.spans):
                    self._next_epoch()
                stats = self._run_epoch()
                self.history.append(stats)
                self._check_weights()
                log.info("epoch %d/%d: loss %.4f a pair, %.0f words/s, lr %.5f", self.epoch,
                         s.epochs, stats.loss_per_pair, stats.words_per_second, stats.lr)
                try:
                    if on_epoch is not None:
                        on_epoch(stats)
                except StopTraining:
                    raise _Stop("a callback stopped training") from None
                except KeyboardInterrupt:
                    raise _Stop("interrupted") from None
                finally:  # a callback that raises does not lose the epoch's checkpoint
                    self._write_checkpoint()
        except _Stop as stop:
            stopped, clean = stop.reason, True
        except KeyboardInterrupt:  # a second Ctrl-C, or one outside the main thread's handler
            stopped = "interrupted"
        finally:
            self._stop()
            if previous_handler is not None:
                signal.signal(signal.SIGINT, previous_handler)
        if stopped is not None:
            if clean:
                self._write_checkpoint()
            elif self._checkpoint is not None:
                log.warning("training aborted mid-span: the checkpoint was not updated")
            done = self.words_done / max(self.total_words, 1)
            log.warning("training %s during epoch %d of %d, after %.1f%% of all words; the "
                        "weights keep what was trained so far", stopped, self.epoch, s.epochs,
                        100 * done)
            stopped = f"{stopped} in epoch {self.epoch} of {s.epochs} ({100 * done:.1f}% of words)"
        return RunResult(list(self.history), stopped)

    # -- dispatch, collect, stop -------------------------------------------------------------

    def _catch_ctrl_c(self):
        """In the main thread, with Python's default SIGINT handler, make the first Ctrl-C a
        request to stop between spans (so the run's books stay whole for a checkpoint) and a
        second one a KeyboardInterrupt. Returns the handler to put back, or None."""
        if (threading.current_thread() is not threading.main_thread()
                or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
            return None

        def on_ctrl_c(signum, frame):
            if self._interrupted:
                raise KeyboardInterrupt
            self._interrupted = True
            log.warning("stopping after the current spans (Ctrl-C again to abort)")

        return signal.signal(signal.SIGINT, on_ctrl_c)

    def _start(self) -> None:
        """Start one thread per kernel state; each joins ``_workers`` once started, so a
        failed start leaves only running threads for ``_stop`` to end."""
        for state in self.states:
            worker = _Worker(state, self._jobs, self._results)
            worker.start()
            self._workers.append(worker)

    def _next_epoch(self) -> None:
        self.epoch += 1
        self.span = 0
        self._figures[:] = 0
        self._epoch_seconds = 0.0

    def _run_epoch(self) -> EpochStats:
        """Hand the epoch's spans left to the workers, collect their figures as they come."""
        start = time.perf_counter() - self._epoch_seconds
        for i in range(self.span, len(self.spans)):
            if self._interrupted:
                raise _Stop("interrupted")
            if self.dispatched >= self.sync_at:
                self._collect(block=True)
                self.sync(end_of_epoch=False)
            if time.monotonic() - self._last_checkpoint >= self._checkpoint_every:
                self._collect(block=True)
                self._epoch_seconds = time.perf_counter() - start
                self._write_checkpoint()
            tokens, bounds = self.spans[i]
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
        if self.sync_at != math.inf:
            self.sync(end_of_epoch=True)
        self._epoch_seconds = time.perf_counter() - start
        words, kept, pairs, loss = self._figures
        return EpochStats(self.epoch, float(loss), int(pairs), int(words), int(kept),
                          self._epoch_seconds, self.lr_at(self.dispatched))

    def sync(self, end_of_epoch: bool) -> None:
        """Combine with the other ranks of a distributed run (``cw2v.distributed`` overrides
        it); called with no span running once ``dispatched`` reaches ``sync_at`` and at the end
        of each epoch (only when ``sync_at`` is finite). Does nothing here."""

    def _record(self, out) -> None:
        self._pending -= 1
        self.span += 1
        self.words_done += out[0]
        self._figures[:] += out
        if self._bar is not None:
            self._bar.update(round(out[0] * self._bar_scale))

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
            if not math.isfinite(out[3]):
                self._diverged("the loss of a span became NaN or infinite")
            if out[2] and out[3] > DIVERGED_LOSS_FACTOR * self._chance_loss * out[2]:
                self._diverged(f"the loss of a span reached {out[3] / out[2]:.3g} an example, "
                               f"over {DIVERGED_LOSS_FACTOR:g} times an untrained model's "
                               f"{self._chance_loss:.3g}")
            if out[2] and self._bar is not None:
                self._bar.set_postfix(lr=f"{self.lr_at(self.dispatched):.5f}",
                                      loss=f"{out[3] / out[2]:.3f}", refresh=False)

    def _check_weights(self) -> None:
        """TrainingDivergedError unless every weight is finite and within ``DIVERGED_WEIGHT``
        (a min and a max of each array: two passes, no temporary copy)."""
        for name, w in (("W_in", self.W_in), ("W_out", self.W_out), ("syn1", self.syn1)):
            if w is None or w.size == 0:
                continue
            lo, hi = float(w.min()), float(w.max())
            if not (math.isfinite(lo) and math.isfinite(hi)):
                self._diverged(f"{name} became NaN or infinite")
            if max(-lo, hi) > DIVERGED_WEIGHT:
                self._diverged(f"{name} holds a weight of {hi if hi > -lo else lo:.3g}, beyond "
                               f"any trained model's (|w| > {DIVERGED_WEIGHT:g})")

    def _diverged(self, what: str):
        s = self.settings
        raise TrainingDivergedError(
            f"training diverged in epoch {self.epoch} of {s.epochs}: {what}; the weights are "
            f"unusable. lr={s.lr:g} is too large: train again with a smaller lr (the default "
            f"is {_DEFAULT_LR:g}; try a tenth of this one)")

    def _write_checkpoint(self) -> None:
        """Call the checkpoint callback (no span running; the weights checked finite and in
        bounds), unless this position is already written."""
        if self._checkpoint is None or self._checkpointed == (self.epoch, self.span):
            return
        self._check_weights()
        self._checkpoint(self.position())
        self._checkpointed = (self.epoch, self.span)
        self._last_checkpoint = time.monotonic()

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
        self.dispatched = self.words_done
        if self._bar is not None:
            self._bar.close()
            self._bar = None
