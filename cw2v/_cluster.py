"""Distributed training, end to end, on one rank: ``Word2Vec.from_corpus(..., distributed=...)``
and ``Word2Vec.resume(..., distributed=...)`` run this on every rank of the job.

Each rank checks that the others agree on what to train (cw2v version, settings, corpus files),
reads its shard, shares the vocabulary (``cw2v._shard``), checks that every rank holds the same
vocabulary and initial weights, and trains its replica with ``cw2v.distributed.train_rank``.
Every rank returns the trained model; rank 0 alone writes the checkpoint. An exception on any
rank (of an MPI job) ends the whole job with one line naming the rank (``cw2v._mpi.fail``).

A checkpoint of a distributed run is the model (every rank holds the same weights at the full
combine where it is written) plus, for every rank, its run position, generator states, combine
counters and the rule's state; it resumes at the same number of ranks only.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import sys
import zlib

import numpy as np

from . import _mpi, _shard, io, params
from . import checkpoint as ckpt
from . import distributed as dist
from ._files import check_distinct, check_output, input_name
from ._lock import checkpoint_lock
from ._reader import corpus_inputs
from ._version import __version__
from .comm import Communicator
from .trainer import SPAN_TOKENS, RunPosition

log = logging.getLogger(__name__)


def communicator(distributed):
    """The communicator ``distributed`` asks for: ``True`` -> this MPI job's (``cw2v._mpi``),
    a ``cw2v.comm.Communicator`` -> itself."""
    if isinstance(distributed, Communicator):
        return distributed
    if distributed is True:
        comm = _mpi.world()
        _mpi.prefix_logs(comm.rank, comm.size)
        return comm
    raise TypeError(f"distributed must be True (an MPI job) or a cw2v.comm.Communicator, got "
                    f"{distributed!r}")


@contextlib.contextmanager
def _ending_the_job_on_error(comm):
    """On an MPI communicator, an exception ends every rank (``cw2v._mpi.fail``); on another
    (``LocalGroup``, whose group reports it) it propagates."""
    try:
        yield
    except BaseException as exc:
        if isinstance(comm, _mpi.MPIComm) and not isinstance(exc, SystemExit):
            _mpi.fail(comm, exc)
        raise


def _agree(comm, **facts) -> None:
    """RanksDisagreeError (a ValueError) naming the first of ``facts`` the ranks differ on."""
    _mpi.check_agreement(comm, **facts)


def _digest(value) -> str:
    return hashlib.blake2b(json.dumps(value, sort_keys=True, default=repr).encode(),
                           digest_size=8).hexdigest()


def _workers(comm, given) -> int:
    """Threads for this rank: ``given`` (per rank), else the machine's cores shared among
    its ranks."""
    if given is not None:
        return params.check("workers", given)
    return _mpi.default_workers(comm)


def _shared_corpus(comm, corpus, settings, encoding, errors, cache_dir, progress):
    """(vocab, this rank's encoded shard), the same vocabulary on every rank (checked)."""
    files = _shard.files_of(corpus, encoding, errors)
    _agree(comm, **{"the corpus files (paths and sizes)": _shard.describe(files)})
    inputs = _shard.shard(files, comm.rank, comm.size)
    vocab, encoded = _shard.build_shared(
        comm, inputs, min_count=settings["min_count"], max_vocab=settings["max_vocab"],
        max_vocab_size=settings["max_vocab_size"], encoding=encoding, errors=errors,
        cache_dir=cache_dir, workers=settings["workers"], progress=progress)
    _agree(comm, vocabulary=_digest([vocab.words, vocab.counts.tolist()]))
    log.info("vocabulary: %d words from %d tokens; this rank's shard: %d tokens",
             len(vocab), vocab.total_words, encoded.tokens.shape[0])
    return vocab, encoded


def _train_options(rule, sync_tokens):
    """The rule (default: ``DEFAULT_RULE``) and ``sync_tokens`` (None stays None: its
    default depends on the number of ranks, ``default_sync_tokens``), checked."""
    rule = dist.DEFAULT_RULE if rule is None else rule
    if rule not in dist.RULES:
        raise ValueError(f"rule must be one of {', '.join(dist.RULES)}, got {rule!r}")
    if sync_tokens is None:
        return rule, None
    if isinstance(sync_tokens, bool) or not isinstance(sync_tokens, (int, np.integer)) \
            or sync_tokens < 1:
        raise ValueError(f"sync_tokens must be an integer >= 1 (tokens each rank trains "
                         f"between two combines), got {sync_tokens!r}")
    return rule, int(sync_tokens)


def from_corpus(cls, corpus, distributed, *, progress=None, callbacks=(), encoding="utf-8",
                errors="strict", checkpoint=None, checkpoint_every=ckpt.DEFAULT_EVERY,
                cache_dir=None, phrases=None, init_vectors=None, lock=None, lock_init=False,
                rule=None, sync_tokens=None, helpers, **parameters):
    """``Word2Vec.from_corpus(corpus, distributed=...)`` on this rank (see its docstring);
    ``helpers`` are the model module's checks that the one-process path makes too
    (``cache_folder``, ``check_checkpoint``, ``pretrained``)."""
    _cache_folder, _check_checkpoint = helpers.cache_folder, helpers.check_checkpoint
    _pretrained = helpers.pretrained

    given_workers = parameters.get("workers")
    settings = params.resolve(parameters)
    every = _check_checkpoint(checkpoint, checkpoint_every)
    rule, sync_tokens = _train_options(rule, sync_tokens)
    lock_form = helpers.lock_form(lock, lock_init)
    if phrases is not None:
        raise ValueError("phrases= with distributed training: join the phrases into the corpus "
                         "files first (cw2v phrases), then train on them")
    comm = communicator(distributed)
    if sync_tokens is None:
        sync_tokens = dist.default_sync_tokens(comm.size, hs=bool(settings["hs"]))
    with _ending_the_job_on_error(comm):
        settings["workers"] = _workers(comm, given_workers)
        if checkpoint is not None and comm.rank == 0:  # (rank 0 writes it)
            check_output(checkpoint, "checkpoint")
            check_distinct([("checkpoint", checkpoint)], corpus_inputs(corpus))
        if init_vectors is not None:
            init_vectors = _pretrained(init_vectors, settings["d"])
        _announce(comm)
        _agree(comm, **{"the cw2v version": __version__,
                        "the settings": {k: v for k, v in settings.items() if k != "workers"},
                        "the combine rule and sync_tokens": [rule, sync_tokens],
                        "the checkpoint": None if checkpoint is None else str(checkpoint)})
        show = (progress if progress is not None else _tty()) and comm.rank == 0
        vocab, encoded = _shared_corpus(comm, corpus, settings, encoding, errors,
                                        _cache_folder(cache_dir), show)
        model = cls.from_vocabulary(vocab, **settings)
        model.config.update(settings)
        init_rows = None
        if init_vectors is not None:
            init_rows = model._intersect_vectors(init_vectors, return_rows=True)
        model.lockf = helpers.lock_factors(lock_form, model.vocab, model.w2i, init_rows)
        _train(model, encoded, comm, rule, sync_tokens, show, callbacks, checkpoint, every)
        return model


def resume(cls, checkpoint, corpus, distributed, *, progress=None, callbacks=(),
           encoding="utf-8", errors="strict", checkpoint_every=None, workers=None,
           cache_dir=None, phrases=None, helpers):
    """``Word2Vec.resume(checkpoint, corpus, distributed=...)`` on this rank: the run of a
    distributed checkpoint continued at the same number of ranks (``helpers`` as for
    ``from_corpus``)."""
    _cache_folder, _check_checkpoint = helpers.cache_folder, helpers.check_checkpoint

    if phrases is not None:
        raise ValueError("phrases= with distributed training: join the phrases into the corpus "
                         "files first (cw2v phrases), then train on them")
    comm = communicator(distributed)
    with _ending_the_job_on_error(comm):
        name = input_name(checkpoint)
        saved, ranks = read(checkpoint, cls)
        if ranks["size"] != comm.size:
            raise ValueError(f"{name}: the checkpoint was written by a run of {ranks['size']} "
                             f"ranks and this job has {comm.size}: a distributed run resumes "
                             f"at the same number of ranks (mpiexec -n {ranks['size']})")
        model = saved.model
        every = _check_checkpoint(checkpoint, saved.every if checkpoint_every is None
                                  else checkpoint_every)
        mine = ranks["ranks"][comm.rank]
        position = RunPosition.from_json(mine["position"])
        if workers is not None and workers != len(position.rng_states):
            workers = params.check("workers", workers)
            seeds = np.random.SeedSequence([model.config.get("seed") or 0, comm.rank,
                                            position.words_done]).spawn(workers)
            position.rng_states = [int(s.generate_state(1, np.uint64)[0]) for s in seeds]
        model.config["workers"] = len(position.rng_states)
        _announce(comm)
        _agree(comm, **{"the cw2v version": __version__, "the checkpoint": str(checkpoint)})
        show = (progress if progress is not None else _tty()) and comm.rank == 0
        settings = {k: v for k, v in model.config.items() if k in params.BY_NAME}
        vocab, encoded = _shared_corpus(comm, corpus, settings, encoding, errors,
                                        _cache_folder(cache_dir), show)
        if vocab.words != list(model.vocab) or not np.array_equal(vocab.counts, model.counts):
            raise ValueError(f"{name}: the corpus gives another vocabulary than the "
                             f"checkpoint's; resume with the same corpus")
        ckpt.check_corpus(f"{name} (rank {comm.rank})", mine["corpus"], encoded)
        state = {**mine["state"], "arrays": ranks["arrays"][comm.rank]}
        model.epoch_history = list(position.history)
        log.info("resuming %s at epoch %d (%d ranks)", name, position.epoch, comm.size)
        _train(model, encoded, comm, ranks["rule"], ranks["sync_tokens"], show, callbacks,
               checkpoint, every, resume=(position, state))
        return model


def _tty() -> bool:
    return sys.stderr.isatty()


def _announce(comm) -> None:
    """Log, on rank 0, where every rank runs (a launcher names a dead process by its id)."""
    if not isinstance(comm, _mpi.MPIComm):
        return
    where = _mpi.describe_ranks(comm)
    if comm.rank == 0:
        log.info("%d ranks: %s", comm.size, where)


def _train(model, encoded, comm, rule, sync_tokens, progress, callbacks, checkpoint, every,
           resume=None):
    write = None
    if checkpoint is not None:
        corpus_id = ckpt.fingerprint(encoded)

        def write(position, state):
            _write(checkpoint, comm, model, position, state, corpus_id, rule, sync_tokens,
                   every, int(encoded.tokens.shape[0]))

    def cluster_speed(model, stats) -> None:  # (first: every rank runs it, a collective)
        every = comm.allgather((stats.words, stats.seconds))
        if comm.rank == 0:
            words, seconds = sum(w for w, _ in every), max(s for _, s in every)
            log.info("epoch %d: %.0f words/s over the %d ranks", stats.epoch,
                     words / max(seconds, 1e-9), comm.size)

    callbacks = [cluster_speed, *callbacks]
    lock = contextlib.nullcontext()
    if checkpoint is not None and comm.rank == 0:
        lock = checkpoint_lock(checkpoint)
    with lock:
        result = dist.train_rank(model, encoded, comm, rule=rule, sync_tokens=sync_tokens,
                                 progress=progress, callbacks=callbacks, checkpoint=write,
                                 checkpoint_every=every if write is not None else math.inf,
                                 resume=resume)
    log.info("trained: %d combines, %.1f bytes exchanged a token on this rank, %.1f s "
             "combining", result.syncs, result.bytes_per_token, result.sync_seconds)
    return result


def _crc(array) -> int:
    return zlib.crc32(np.ascontiguousarray(array).view(np.uint8))


def _write(path, comm, model, position, state, corpus_id, rule, sync_tokens, every,
           shard_tokens) -> None:
    """Called on every rank at a full combine: rank 0 writes the model and every rank's
    position and state (the rule's arrays once, and again for a rank whose arrays differ)."""
    arrays = state.get("arrays", {})
    sums = {k: _crc(v) for k, v in arrays.items()}
    # A combine at an epoch's end comes before the epoch's figures join the history: that
    # position cannot be restored, so no rank writes it (the next combine's is written).
    ended = position.figures[0] == shard_tokens \
        and len(position.history) < position.epoch
    every_sum = comm.allgather((sums, ended))
    if any(e for _, e in every_sum):
        return
    first = every_sum[0][0]
    own = {k: v for k, v in arrays.items() if sums[k] != first.get(k)} if comm.rank else arrays
    small = {k: v for k, v in state.items() if k != "arrays"}
    every_rank = comm.allgather((position.to_json(), small, own, corpus_id))
    if comm.rank != 0:
        comm.barrier()
        return
    try:
        meta, data = model._export_state()
        settings = params.settings({"d": model.vector_size, "n_neg": model.n_neg},
                                   base={k: v for k, v in model.config.items()
                                         if k in params.BY_NAME})
        meta["checkpoint"] = {
            "format": ckpt.FORMAT, "position": every_rank[0][0],
            "settings": settings.as_dict(), "span_tokens": min(SPAN_TOKENS, sync_tokens),
            "corpus": corpus_id,
            "every": every if math.isfinite(every) else None,
            "distributed": {"size": comm.size, "rule": rule, "sync_tokens": sync_tokens,
                            "version": __version__,
                            "ranks": [{"position": p, "state": s, "corpus": c,
                                       "arrays": sorted(a)} for p, s, a, c in every_rank]}}
        for r, (_, _, a, _) in enumerate(every_rank):
            for k, v in a.items():
                data[f"rank{r}.{k}"] = np.ascontiguousarray(v)
        cls = type(model)
        io.save_arrays(path, meta, data, extra={"class": f"{cls.__module__}.{cls.__qualname__}"})
        log.debug("checkpoint written to %s (epoch %d)", path, position.epoch)
    finally:
        comm.barrier()


def read(path, cls):
    """(``cw2v.checkpoint.Checkpoint``, the distributed entry with each rank's arrays) of a
    distributed run's checkpoint; ValueError naming the file for one of a single process."""
    name = input_name(path)
    saved = ckpt.read(path, cls, distributed=True)
    meta, arrays = io.load_arrays(path)
    entry = meta["checkpoint"].get("distributed")
    if not isinstance(entry, dict):
        raise ValueError(f"{name}: the checkpoint of a run on one process; resume it without "
                         "distributed (Word2Vec.resume, cw2v train --resume)")
    try:
        size, ranks = entry["size"], entry["ranks"]
        if not isinstance(size, int) or size < 1 or len(ranks) != size:
            raise ValueError(f"size {size!r} for {len(ranks)} ranks")
        per_rank = []
        for r, info in enumerate(ranks):
            names = info["arrays"] if info["arrays"] else []
            base = ranks[0]["arrays"]
            per_rank.append({k: arrays[f"rank{r}.{k}"] if k in names else arrays[f"rank0.{k}"]
                             for k in base})
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{name}: not a valid cw2v checkpoint: the distributed entry is "
                         f"damaged ({exc})") from None
    return saved, {**entry, "arrays": per_rank}
