"""Training across ranks: each rank trains its own replica on its own shard, and every
``sync_tokens`` tokens (per rank) the ranks combine what they learnt by a combine rule.

A rule sees the rows of each matrix (``W_in``, ``W_out``, and hierarchical softmax's ``syn1``)
that are due at this sync and, for each, the sum over ranks of the ranks' deltas since the row
was last combined (``total``) and how many ranks changed it (``touched``); it returns the delta
every rank applies. Only rows some rank changed travel (a touched count per due row, then the
summed deltas of the touched rows); rows fall in frequency tiers, tier t due every 2**t syncs
for the tiered rules, every row at the end of an epoch. The arithmetic (``Rule.combine``) is
plain NumPy apart from the communication, so the tests check it against a reference.

The rules (``RULES``):

- ``average``: the mean of the models every sync (Spark MLlib's and Intel pWord2Vec's
  averaging, untiered): each rank's learning counts 1/K.
- ``mllib``: the mean over the ranks that touched each row (Spark MLlib since SPARK-24666).
- ``tiered_average``: Intel pWord2Vec's (Ji et al. 2016): the mean of the models, frequent rows
  every sync, rarer tiers every 2nd, 4th, 8th sync.
- ``tiered_sum``: the sum of the ranks' deltas, in the same tiers.
- ``bmuf``: block momentum over averaged deltas (Chen & Huo 2016): ``G = (1 - 1/K) G + mean
  delta; W += G``, every row every sync.

Why ``bmuf`` is the default (measured on wiki8, docs/performance.rst, "Beyond one machine:
quality per rule"): a frequent row reaches what its rank's data says within one sync period,
so each rank's delta is about the whole way there. Summing K such deltas moves the row K times
too far: its error is multiplied by (1 - K) every sync, which grows for K >= 3 (the sum
diverged at K=4). Averaging fixes those rows but keeps only 1/K of what every rarer row learnt
(it lost 18 analogy points at K=4). Block momentum averages first and gives the rest back over
the next syncs (a row one rank changed by d receives d/K, then (1 - 1/K) of that again..., d in
all), and on a frequent row it is heavy-ball momentum: in the model above its error shrinks
by sqrt(1 - 1/K) a sync, at any K.

``train_rank`` runs one rank (``cw2v.comm.LocalGroup`` or MPI's communicator supplies ``comm``).
The learning rate follows global progress: the tokens of every rank, all-reduced at each sync.
"""
from __future__ import annotations

import logging
import math
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from . import _combine, params, trainer
from ._simd import kernel as _kernel
from .comm import Communicator
from .corpus import EncodedCorpus

__all__ = ["RULES", "DEFAULT_RULE", "DEFAULT_SYNC_TOKENS", "GROUP_SYNC_TOKENS",
           "GROUP_SYNC_TOKENS_HS",
           "default_sync_tokens", "Rule", "Average", "MLlibAverage",
           "TieredAverage", "TieredSum", "BlockMomentum", "RankResult", "frequency_tiers",
           "due_rows", "combine_matrix", "train_rank"]

log = logging.getLogger(__name__)

# Tokens each rank trains between two syncs, by default: the group's GROUP_SYNC_TOKENS shared
# among its ranks, at most DEFAULT_SYNC_TOKENS (0.1-0.2 s of a 2-core node's training; Intel's
# pWord2Vec syncs every 0.1 s). Measured on wiki8 with bmuf (docs/performance.rst, medians of 3
# seeds unless said): at K=2, 200,000 lost nothing (+0.5 analogy points batched, -0.2 exact;
# 400,000: +0.3, -0.1); at K=4, 100,000 lost 0.9, 400,000 lost 3.4 (one seed); at K=8,
# 100,000 lost 6.2 (one seed), 50,000 lost 1.8.
# Hierarchical softmax syncs four times as often: the top rows of its tree lie on every word's
# path, so every token moves them, and between two combines they move further than any row
# under negative sampling. Measured (wiki8, 5 epochs, SG-HS exact): at the NS periods K=2 /
# 4 / 8 lost 2.0 / 6.7 / 5.9 analogy points (one seed); at a quarter of them (50,000 / 25,000 /
# 12,500) -0.4 / +0.3 / -0.1, WordSim -0.014 / -0.004 / -0.019 (medians of 3 seeds).
DEFAULT_SYNC_TOKENS = 200_000
GROUP_SYNC_TOKENS = 400_000
GROUP_SYNC_TOKENS_HS = 100_000


def default_sync_tokens(size: int, hs: bool = False) -> int:
    """Tokens a rank trains between two syncs by default in a group of ``size`` ranks:
    ``min(DEFAULT_SYNC_TOKENS, GROUP_SYNC_TOKENS // size)`` (K=2: 200,000; K=4: 100,000;
    K=8: 50,000); with hierarchical softmax (``hs``) the group's ``GROUP_SYNC_TOKENS_HS``
    instead (K=2: 50,000; K=4: 25,000; K=8: 12,500). More ranks sync more often: each rank's
    delta then stays small."""
    group = GROUP_SYNC_TOKENS_HS if hs else GROUP_SYNC_TOKENS
    return max(1, min(DEFAULT_SYNC_TOKENS, group // max(int(size), 1)))


# Frequency tiers of the tiered rules: tier t (periods 1, 2, 4, 8 syncs).
N_TIERS = 4


def frequency_tiers(counts, sync_tokens: int, n_tiers: int = N_TIERS) -> np.ndarray:
    """The tier of each row (uint8): 0 for rows whose word (or tree node) is expected at least
    once per sync period of ``sync_tokens`` tokens, t for rows expected between 2**-t and
    2**(1 - t) times, at most ``n_tiers - 1``. Tier t is combined every 2**t syncs."""
    counts = np.asarray(counts, dtype=np.float64)
    total = max(float(counts.sum()), 1.0)
    per_sync = counts * (sync_tokens / total)
    with np.errstate(divide="ignore"):
        tier = np.ceil(-np.log2(np.maximum(per_sync, 1e-300)))
    return np.clip(tier, 0, n_tiers - 1).astype(np.uint8)


def node_counts(tree, counts) -> np.ndarray:
    """Hierarchical softmax's inner nodes' counts (``syn1`` row a: the counts of the words
    whose path passes through node a; the root, row V - 2, holds them all), for its tiers."""
    lengths = np.diff(np.asarray(tree.offsets, dtype=np.int64))
    weights = np.repeat(np.asarray(counts, dtype=np.float64), lengths)
    return np.bincount(np.asarray(tree.points, dtype=np.int64), weights=weights,
                       minlength=len(counts))


def due_rows(tiers: np.ndarray, index: int, full: bool) -> np.ndarray:
    """The rows combined at sync ``index`` (0-based): those of tiers t with (index + 1) a
    multiple of 2**t, or every row when ``full``."""
    if full:
        return np.arange(tiers.shape[0])
    period = np.left_shift(1, tiers.astype(np.int64))
    return np.flatnonzero((index + 1) % period == 0)


class Rule:
    """A combine rule: ``combine`` turns the ranks' summed deltas of the due rows into the delta
    each rank applies. ``tiered`` rules combine tier t every 2**t syncs; the others every row
    every sync. ``state`` holds what a rule carries from sync to sync (checkpointed)."""

    name = ""
    tiered = False
    needs_touched = False  # whether ``combine`` weighs rows by the ranks that touched them

    def __init__(self, size: int, shapes: dict[str, tuple[int, int]]):
        self.size = size
        self.state: dict[str, np.ndarray] = {}

    def combine(self, key: str, due: np.ndarray, total: np.ndarray,
                touched: np.ndarray) -> np.ndarray:
        """The delta (float32, like ``total``, which it may overwrite) to apply to rows
        ``due`` (an index array or a slice) of matrix ``key``,
        from ``total``, the sum of the ranks' deltas of those rows since they were last
        combined, and ``touched``, how many ranks changed each row (None when the matrix
        went whole, for rules without ``needs_touched``)."""
        raise NotImplementedError

    def apply(self, key: str, W: np.ndarray, R: np.ndarray, due: np.ndarray,
              where: np.ndarray, total: np.ndarray, touched: np.ndarray) -> None:
        """Apply the combine to ``R`` and set ``W`` to it, in place: ``total`` holds the summed
        deltas of rows ``due[where]`` (the rows some rank changed) and ``touched`` how many
        ranks changed each. Here: ``combine`` of those rows, the other due rows unchanged
        (their step is 0); rules that move rows nobody touched override it."""
        rows = due[where]
        if rows.size:
            _combine.add_rows(W, R, rows, self.combine(key, rows, total, touched))


class Average(Rule):
    """The mean of the models: W = mean of the ranks' W (every row, every sync)."""

    name = "average"

    def combine(self, key, due, total, touched):
        """``total / K``."""
        total /= np.float32(self.size)
        return total


class MLlibAverage(Rule):
    """Spark MLlib's: each row the mean over the ranks that touched it."""

    name = "mllib"
    needs_touched = True

    def combine(self, key, due, total, touched):
        """``total / touched`` (rows nobody touched: 0)."""
        total /= np.maximum(touched, 1).astype(np.float32)[:, None]
        return total


class TieredAverage(Average):
    """Intel pWord2Vec's: the mean of the models, rarer rows less often."""

    name = "tiered_average"
    tiered = True


class TieredSum(Rule):
    """The sum of the ranks' deltas, rarer rows less often."""

    name = "tiered_sum"
    tiered = True

    def combine(self, key, due, total, touched):
        """``total``."""
        return total


class BlockMomentum(Rule):
    """BMUF (Chen & Huo 2016), classical block momentum 1 - 1/K and block learning rate 1:
    ``G = (1 - 1/K) G + total / K``; each rank's row moves by G from where the group left it."""

    name = "bmuf"

    def __init__(self, size, shapes):
        super().__init__(size, shapes)
        self.momentum = np.float32(1.0 - 1.0 / size)
        self.state = {f"G_{key}": np.zeros(shape, dtype=np.float32)
                      for key, shape in shapes.items()}

    def combine(self, key, due, total, touched):
        """G[due] = (1 - 1/K) G[due] + total / K; returns G[due] (NumPy; ``apply`` is the
        same arithmetic, fused)."""
        G = self.state[f"G_{key}"]
        total /= np.float32(self.size)
        g = G[due] * self.momentum + total
        G[due] = g
        return g

    def apply(self, key, W, R, due, where, total, touched):
        """Every due row moves by its momentum, touched or not: one fused pass
        (``cw2v._combine.block_momentum``)."""
        _combine.block_momentum(W, R, self.state[f"G_{key}"], due, where, total,
                                self.momentum, np.float32(self.size))


RULES: dict[str, type[Rule]] = {rule.name: rule for rule in
                                (Average, MLlibAverage, TieredAverage, TieredSum, BlockMomentum)}
DEFAULT_RULE = "bmuf"


@dataclass
class RankResult(trainer.RunResult):
    """What ``train_rank`` returns: the run's epochs and stop reason, with the exchange's
    figures (this rank's)."""

    syncs: int = 0                # combines done (each: a few collectives)
    bytes_sent: int = 0           # the buffers this rank put into collectives
    tokens: int = 0               # this rank's tokens trained
    sync_seconds: float = 0.0     # time spent combining (waiting for the other ranks included)

    @property
    def bytes_per_token(self) -> float:
        """Bytes this rank put into collectives per token it trained."""
        return self.bytes_sent / max(self.tokens, 1)


# A matrix whose every due row some rank changed (the output vectors under negative sampling:
# the noise words of a sync period cover the vocabulary) is worth sending whole: no pass to
# find the changed rows, no touched counts. Rules that do not weigh by the touched counts do
# so for DENSE_RUN combines of a matrix after one where at least DENSE_SHARE of the due rows
# were touched (all ranks see the same counts, so they switch together), then look again.
DENSE_SHARE = 0.95
DENSE_RUN = 16


def combine_matrix(comm: Communicator, rule: Rule, key: str, W: np.ndarray, R: np.ndarray,
                   due: np.ndarray, scratch: dict | None = None) -> int:
    """One combine of rows ``due`` of matrix ``key`` (every rank calls it at once): which of
    those rows this rank changed (``W`` against ``R``, the weights as the group last left
    them) and the ranks' touched counts all-reduced, then the deltas ``W - R`` of the rows some
    rank changed summed over the ranks (only those rows travel), then ``rule.apply``: ``R``
    moved by the rule and ``W = R`` (the same floats on every rank). Each pass is one fused
    loop over the rows that need it (``cw2v._combine``). Returns the bytes this rank put into
    the collectives.

    ``scratch``, a dict kept from combine to combine, holds the exchange's buffers (a matrix's
    worth of deltas): allocating them anew at every combine costs a page fault a 4 KiB page
    (measured: the all-reduce of the deltas took twice as long in fresh memory); and whether
    the matrix goes whole for a while (``DENSE_SHARE``: a row nobody changed then adds a zero
    delta, which moves no rule's result)."""
    due = np.ascontiguousarray(due, dtype=np.int64)
    flags, total = _exchange_buffers(scratch, key, due.shape[0], W.shape[1])
    dense = {} if scratch is None else scratch.setdefault("dense", {})
    if dense.get(key, 0) > 0 and not rule.needs_touched:
        dense[key] -= 1
        total = total[:due.shape[0]]
        _combine.gather_deltas(W, R, due, total)
        comm.allreduce_sum(total)
        rule.apply(key, W, R, due, np.arange(due.shape[0]), total, None)
        return total.nbytes
    _combine.changed_rows(W, R, due, flags)
    touched = flags if comm.size < 256 else flags.astype(np.int32)
    comm.allreduce_sum(touched)
    where = np.flatnonzero(touched)
    total = total[:where.shape[0]]
    sent = touched.nbytes
    if where.size:
        _combine.gather_deltas(W, R, due[where], total)
        comm.allreduce_sum(total)
        sent += total.nbytes
    rule.apply(key, W, R, due, where, total, touched[where])
    if where.size >= DENSE_SHARE * due.shape[0] > 0:
        dense[key] = DENSE_RUN
    return sent


def _exchange_buffers(scratch: dict | None, key: str, rows: int,
                      d: int) -> tuple[np.ndarray, np.ndarray]:
    """Matrix ``key``'s touched flags (``rows`` of them) and a (>= ``rows``, ``d``) float32
    buffer for its deltas, from ``scratch`` (kept there, grown when too small) or new."""
    flags, total = (scratch or {}).get(key, (None, None))
    if flags is None or total.shape[0] < rows or total.shape[1] != d:
        flags = np.empty(rows, dtype=np.uint8)
        total = np.empty((rows, d), dtype=np.float32)
        if scratch is not None:
            scratch[key] = (flags, total)
    return flags[:rows], total


class _RankRun(trainer.TrainingRun):
    """A TrainingRun that combines with the other ranks at its sync points and sets the
    learning rate from the group's progress."""

    def setup(self, comm: Communicator, rule: Rule, matrices, n_syncs: int, shard: int,
              global_tokens: int, checkpoint, checkpoint_every: float) -> None:
        self.comm, self.rule, self.n_syncs = comm, rule, n_syncs
        self.shard, self.global_tokens = shard, global_tokens
        # (key, weights, reference: the weights when each row was last combined, tiers)
        self.matrices = [(key, w, w.copy(), tiers) for key, w, tiers in matrices]
        self._scratch: dict = {}     # the exchange's buffers, kept (combine_matrix)
        self.syncs = 0               # combines done, all epochs
        self.in_epoch = 0            # combines done in this epoch
        self.bytes_sent = 0
        self.sync_seconds = 0.0
        self._global_done = 0        # every rank's tokens at the last combine
        self._local_at_sync = 0      # this rank's at the last combine
        self._rank_checkpoint, self._rank_checkpoint_every = checkpoint, checkpoint_every
        self._last_rank_checkpoint = time.monotonic()
        self.sync_at = self._target(1)
        # rank 0's bar shows the group: its own words scaled to the group's until each
        # combine, which sets it to the group's count
        self._bar_scale = global_tokens / max(shard, 1)

    # A Ctrl-C must stop every rank at the same combine (a rank that stopped alone would
    # leave the others waiting in a collective): the run's flag is kept here, unseen by the
    # span loop, and carried in each combine's header.
    @property
    def _interrupted(self) -> bool:
        return False

    @_interrupted.setter
    def _interrupted(self, value: bool) -> None:
        self._ctrl_c = value

    def _target(self, j: int, epoch: int | None = None) -> float:
        """The dispatched tokens at which combine j (1-based) of ``epoch`` (default: the one
        in progress) is due; its last one (at the epoch's end) waits for
        ``sync(end_of_epoch=True)``."""
        if j >= self.n_syncs:
            return float(2 ** 62)
        epoch = max(self.epoch, 1) if epoch is None else epoch
        return (epoch - 1) * self.shard + (j * self.shard) // self.n_syncs

    def lr_at(self, words: int) -> float:
        """The learning rate at the group's progress: every rank's tokens at the last combine,
        in this rank's units (its shard's share of the group's), plus its own since."""
        group = (self._global_done * self.shard) // max(self.global_tokens, 1)
        return super().lr_at(group + words - self._local_at_sync)

    def sync(self, end_of_epoch: bool) -> None:
        """Do the combines due: those whose target ``dispatched`` has reached, or (at an
        epoch's end) every one left, the last one full."""
        while self.in_epoch < self.n_syncs - 1 and self.dispatched >= self._target(
                self.in_epoch + 1):
            self._combine(full=False)
        if end_of_epoch:
            while self.in_epoch < self.n_syncs:
                last = self.in_epoch == self.n_syncs - 1
                # (no checkpoint at the epoch's last combine: its epoch is not in the history
                # yet, so that position would not restore; the next combine writes it)
                self._combine(full=last, may_checkpoint=not last)
            self.in_epoch = 0
            self.sync_at = self._target(1, self.epoch + 1)
        else:
            self.sync_at = self._target(self.in_epoch + 1)

    def _combine(self, full: bool, may_checkpoint: bool = True) -> None:
        start = time.perf_counter()
        comm, rule = self.comm, self.rule
        want = (may_checkpoint and self._rank_checkpoint is not None and comm.rank == 0
                and time.monotonic() - self._last_rank_checkpoint >= self._rank_checkpoint_every)
        header = np.array([self.words_done, int(want), int(self._ctrl_c)], dtype=np.int64)
        comm.allreduce_sum(header)
        if header[2]:
            raise trainer._Stop("interrupted")
        checkpoint_now = bool(header[1])
        full = full or checkpoint_now
        sent = header.nbytes
        for key, W, R, tiers in self.matrices if comm.size > 1 else ():  # (one rank: as is)
            due = due_rows(tiers, self.syncs, full or not rule.tiered)
            sent += combine_matrix(comm, rule, key, W, R, due, self._scratch)
        self._global_done = int(header[0])
        self._local_at_sync = self.words_done
        if self._bar is not None:
            self._bar.n = min(self._global_done, self._bar.total)
            self._bar.refresh()
        self.syncs += 1
        self.in_epoch += 1
        self.bytes_sent += sent
        self.sync_seconds += time.perf_counter() - start
        if checkpoint_now:
            self._last_rank_checkpoint = time.monotonic()
            self._check_weights()
            self._rank_checkpoint(self.position(), self.rank_state())

    def rank_state(self) -> dict:
        """What a checkpoint needs besides the run's position: the sync counters and the
        rule's state (arrays)."""
        return {"syncs": self.syncs, "in_epoch": self.in_epoch,
                "global_done": self._global_done, "local_at_sync": self._local_at_sync,
                "rule": self.rule.name, "arrays": dict(self.rule.state)}

    def restore_rank_state(self, state: dict) -> None:
        """Continue from ``rank_state()``'s (taken at a full combine: the references are the
        weights)."""
        if state["rule"] != self.rule.name:
            raise ValueError(f"the checkpoint was written by rule {state['rule']!r}, not "
                             f"{self.rule.name!r}")
        self.syncs, self.in_epoch = int(state["syncs"]), int(state["in_epoch"])
        self._global_done = int(state["global_done"])
        self._local_at_sync = int(state["local_at_sync"])
        for name, array in state["arrays"].items():
            self.rule.state[name][...] = array
        for _, W, R, _ in self.matrices:
            R[...] = W
        if self.in_epoch >= self.n_syncs:  # written at an epoch's last combine
            self.in_epoch = 0
            self.sync_at = self._target(1, self.epoch + 1)
        else:
            self.sync_at = self._target(self.in_epoch + 1)


def _check_same(comm: Communicator, what: dict) -> None:
    """ValueError naming what differs when the ranks disagree on ``what``."""
    every = comm.allgather(what)
    for key in what:
        values = [w[key] for w in every]
        if any(v != values[0] for v in values):
            raise ValueError(f"the ranks disagree on {key}: "
                             + ", ".join(f"rank {r}: {v!r}" for r, v in enumerate(values)))


def train_rank(model, encoded: EncodedCorpus, comm: Communicator, *, rule: str = DEFAULT_RULE,
               sync_tokens: int | None = None, progress: bool | None = None,
               callbacks: Iterable[Callable] = (),
               checkpoint: Callable[[trainer.RunPosition, dict], None] | None = None,
               checkpoint_every: float = math.inf, resume=None) -> RankResult:
    """Train this rank's replica ``model`` on its shard ``encoded``, combining with the other
    ranks of ``comm`` every ``sync_tokens`` tokens (default: ``default_sync_tokens(K, hs)``) by
    ``rule``.

    Every rank calls it at once, with the same vocabulary, settings (``model.config``) and
    initial weights (ValueError naming what differs otherwise), and its own shard encoded with
    the shared vocabulary. Each trains ``epochs`` passes over its shard with its usual
    ``workers`` threads; an epoch holds the same number of combines on every rank (the group's
    tokens per rank over ``sync_tokens``), spread over each shard in proportion to its size,
    the last at the epoch's end combining every row (so after each epoch every rank holds the
    same weights). The learning rate decays by the group's progress. Rank r > 0 draws from
    ``SeedSequence([seed, r])`` (rank 0 as one process does: with one rank this is ``train``).

    ``checkpoint(position, state)``, if given, is called on every rank at a full combine,
    every ``checkpoint_every`` seconds by rank 0's clock, and ``resume=(position, state)``
    continues from it at the same number of ranks. ``callbacks`` are called on each rank as
    ``callback(model, stats)`` with that rank's epoch figures; ``StopTraining`` raised on any
    rank stops every rank after that epoch. ``progress``: a bar on rank 0 only, counting the
    group's words (its rate is the cluster's words/s), set to the exact count at each combine.
    """
    if rule not in RULES:
        raise ValueError(f"rule must be one of {', '.join(RULES)}, got {rule!r}")
    if sync_tokens is None:
        sync_tokens = default_sync_tokens(comm.size, hs=bool(model.config.get("hs")))
    if isinstance(sync_tokens, bool) or not isinstance(sync_tokens, (int, np.integer)) \
            or sync_tokens < 1:
        raise ValueError(f"sync_tokens must be an integer >= 1 (tokens each rank trains "
                         f"between two combines), got {sync_tokens!r}")
    if model.W_in.shape[0] != len(model.vocab):
        raise ValueError("distributed training of a subword model (cw2v.FastText) is not "
                         "available: train it in one process")
    model._check_weights()
    shard = int(encoded.tokens.shape[0])
    if shard and any(block.min() < 0 or block.max() >= len(model.vocab)
                     for block in encoded.blocks()):
        raise IndexError(f"rank {comm.rank}'s shard holds ids outside the vocabulary")
    c = model.config
    if c["hs"] and model.syn1 is None:
        model.syn1 = model._zeros(*model.W_out.shape)
    own = {k: v for k, v in c.items() if k in params.BY_NAME}
    settings = params.settings({"d": model.vector_size, "n_neg": model.n_neg}, base=own)
    _check_same(comm, {"rule": rule, "sync_tokens": int(sync_tokens),
                       "vocabulary": (len(model.vocab), zlib.crc32("\n".join(
                           model.vocab).encode())),
                       "settings": sorted((k, repr(v)) for k, v in own.items()
                                          if k not in ("workers",)),
                       "initial weights": zlib.crc32(np.ascontiguousarray(model.W_in))})
    sizes = np.array([shard], dtype=np.int64)
    comm.allreduce_sum(sizes)
    global_tokens = int(sizes[0])
    if shard == 0:
        raise ValueError(f"rank {comm.rank}'s shard holds no word of the vocabulary")
    n_syncs = max(1, round(global_tokens / comm.size / sync_tokens))
    span_tokens = min(trainer.SPAN_TOKENS, max(1, int(sync_tokens)))
    tree = model.tree if settings.hs else None
    run = _RankRun(_kernel, model.W_in, model.W_out, model.sigmoid_tables, model.noise_table,
                   model.counts, encoded, settings, span_tokens=span_tokens, tree=tree,
                   syn1=model.syn1 if settings.hs else None, **model._run_options())
    if comm.rank > 0:
        seeds = np.random.SeedSequence([settings.seed or 0, comm.rank]).spawn(settings.workers)
        for state, seq in zip(run.states, seeds):
            state.rng_state = int(seq.generate_state(1, np.uint64)[0])
    word_tiers = frequency_tiers(model.counts, sync_tokens)
    matrices = [("W_in", model.W_in, word_tiers)]
    if settings.n_neg:
        matrices.append(("W_out", model.W_out, word_tiers))
    if settings.hs:
        matrices.append(("syn1", model.syn1,
                         frequency_tiers(node_counts(tree, model.counts), sync_tokens)))
    combine = RULES[rule](comm.size, {key: w.shape for key, w, _ in matrices})
    run.setup(comm, combine, matrices, n_syncs, shard, global_tokens, checkpoint,
              checkpoint_every)
    if resume is not None:
        position, state = resume
        run.restore(position)
        run.restore_rank_state(state)

    log.info("rank %d of %d: %d tokens, %d combines an epoch (every %d tokens), rule %s",
             comm.rank, comm.size, shard, n_syncs, sync_tokens, rule)
    callbacks = list(callbacks)
    model.training_stopped = None
    model.raw_words = int(encoded.raw_words)

    def apply_epoch(stats: trainer.EpochStats) -> None:
        model.loss_history.append(stats.loss)
        model.epoch_history.append(stats)
        stop = np.zeros(1, dtype=np.int64)
        try:
            for callback in callbacks:
                callback(model, stats)
        except trainer.StopTraining:
            stop[0] = 1
        comm.allreduce_sum(stop)  # every rank stops, or none
        if stop[0]:
            raise trainer.StopTraining

    try:
        result = run.run(on_epoch=apply_epoch, progress=bool(progress) and comm.rank == 0)
    finally:
        model.invalidate_norms()
        model._run_rng_states = run.rng_states
    model.training_stopped = result.stopped
    return RankResult(result.epochs, result.stopped, syncs=run.syncs,
                      bytes_sent=run.bytes_sent, tokens=run.words_done,
                      sync_seconds=run.sync_seconds)
