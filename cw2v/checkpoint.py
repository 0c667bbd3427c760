"""Checkpoints: a training run written to disk so that it survives a crash and continues exactly.

A checkpoint is a cw2v model file (``cw2v.io`` native format, so ``Word2Vec.load`` reads it as
a model) whose metadata also holds, under ``"checkpoint"``:

- ``position``: where the run stands (``cw2v.trainer.RunPosition``: epoch, spans of it trained,
  words done -- which set the learning rate --, every worker's generator state, the epoch's
  figures so far and the finished epochs' ``EpochStats``);
- ``settings``: the run's ``cw2v.params.Settings`` (every parameter of the table, by name) and
  its span size. Read back, they go through ``cw2v.params.resolve`` as a fresh run's (a
  parameter missing, as in a checkpoint written before its row existed, takes the model's value
  or the table's default; format 1 called the mode ``objective``);
- ``corpus``: a fingerprint of the encoded corpus (token and sentence counts and a BLAKE2b
  digest of the word ids and sentence offsets), so a run resumes only on the corpus it began.

``Word2Vec.from_corpus(..., checkpoint=PATH)`` writes one every ``checkpoint_every`` seconds,
after each epoch and on Ctrl-C; ``Word2Vec.resume(PATH, corpus)`` continues it. Writes are
atomic (``cw2v._files.atomic_writer``): a run killed at any moment leaves the previous
checkpoint whole.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import io, params
from ._files import InputLike, PathLike, input_name
from .corpus import EncodedCorpus
from .trainer import RunPosition

FORMAT = 2  # the layout of the "checkpoint" entry (1: the settings of 12 parameters, the mode
            # called "objective"; still read)
READ_FORMATS = (1, 2)

# Default seconds between checkpoints (besides the one after each epoch and the one on Ctrl-C).
DEFAULT_EVERY = params.CHECKPOINT_EVERY


def check_every(value: Any) -> float:
    """``checkpoint_every`` as a float; ValueError unless it is a number >= 0 (0: before every
    span, for tests; inf: only after epochs and on Ctrl-C)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) \
            or value < 0:
        raise ValueError(f"checkpoint_every must be a number of seconds >= 0, got {value!r}")
    return float(value)


def fingerprint(encoded: EncodedCorpus) -> dict[str, Any]:
    """What identifies an encoded corpus: its sizes and a digest of its word ids and sentence
    offsets (about 0.1 s for text8's 17M tokens)."""
    if encoded.digest is not None:  # computed as the corpus was written to disk
        hexdigest = encoded.digest
    else:
        digest = hashlib.blake2b(digest_size=16)
        for block in encoded.blocks():
            digest.update(np.ascontiguousarray(block, dtype="<i4").tobytes())
        digest.update(np.ascontiguousarray(encoded.offsets, dtype="<i8").tobytes())
        hexdigest = digest.hexdigest()
    return {"tokens": int(encoded.tokens.shape[0]), "sentences": int(len(encoded.offsets)),
            "raw_words": int(encoded.raw_words), "blake2b": hexdigest}


@dataclass
class Checkpoint:
    """A checkpoint as read back: the model and how to continue its run."""

    model: Any                   # the model class given to ``read``
    position: RunPosition
    settings: params.Settings
    span_tokens: int
    corpus: dict[str, Any]       # the corpus fingerprint
    every: float                 # seconds between checkpoints


def write(path: PathLike, model, position: RunPosition, settings: params.Settings,
          span_tokens: int, corpus: dict[str, Any], every: float) -> None:
    """Write ``model`` and the run's state to ``path`` (atomically)."""
    meta, arrays = model._export_state()
    meta["checkpoint"] = {"format": FORMAT, "position": position.to_json(),
                          "settings": settings.as_dict(), "span_tokens": int(span_tokens),
                          "corpus": corpus, "every": every if math.isfinite(every) else None}
    cls = type(model)
    io.save_arrays(path, meta, arrays, extra={"class": f"{cls.__module__}.{cls.__qualname__}"})


def read(path: InputLike, model_class, distributed: bool = False) -> Checkpoint:
    """The checkpoint at ``path``, its model an instance of ``model_class``.

    Raises FileNotFoundError, or ValueError naming the file: not a cw2v model, or a model
    without (or with a damaged) checkpoint entry, or the checkpoint of a distributed run
    (``cw2v._cluster``) unless ``distributed``.
    """
    name = input_name(path)
    meta, arrays = io.load_arrays(path, empty=getattr(model_class, "_read_buffer", None))
    entry = meta.get("checkpoint")
    if entry is None:
        raise ValueError(f"{name}: a cw2v model but not a checkpoint (no training position; "
                         "it was saved by Word2Vec.save, not written by checkpoint=)")
    if not distributed and isinstance(entry, dict) and isinstance(entry.get("distributed"), dict):
        size = entry["distributed"].get("size")
        raise ValueError(f"{name}: the checkpoint of a distributed run of {size} ranks; resume "
                         f"it the same way: mpiexec -n {size} cw2v train --resume {name} ... "
                         "--distributed (Word2Vec.resume(..., distributed=True))")
    try:
        if not isinstance(entry, dict) or entry.get("format") not in READ_FORMATS:
            raise ValueError(f"unknown checkpoint format {entry.get('format')!r}"
                             if isinstance(entry, dict) else "the entry is not an object")
        model = model_class._import_state(meta, arrays)
        position = RunPosition.from_json(entry.get("position"))
        settings = _settings(entry.get("settings"), model, entry["format"])
        span_tokens = entry.get("span_tokens")
        if isinstance(span_tokens, bool) or not isinstance(span_tokens, int) or span_tokens < 1:
            raise ValueError(f"span_tokens must be an integer >= 1, got {span_tokens!r}")
        corpus = entry.get("corpus")
        if not isinstance(corpus, dict) or set(corpus) != {"tokens", "sentences", "raw_words",
                                                           "blake2b"}:
            raise ValueError("the corpus fingerprint is missing or malformed")
        if any(isinstance(corpus[k], bool) or not isinstance(corpus[k], int) or corpus[k] < 1
               for k in ("tokens", "sentences", "raw_words")):
            raise ValueError("the corpus fingerprint's tokens, sentences and raw_words must be "
                             "integers >= 1")
        _check_position(position, settings, corpus["tokens"])
        if not np.asarray(model.counts).any():
            raise ValueError("the model's word counts are all 0 (every word of a trained "
                             "vocabulary occurs at least once)")
        every = entry.get("every")
        every = math.inf if every is None else check_every(every)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{name}: not a valid cw2v checkpoint: {exc}") from None
    return Checkpoint(model, position, settings, span_tokens, corpus, every)


def _settings(data, model, version: int = FORMAT) -> params.Settings:
    """The saved settings through ``params.resolve``, as a fresh run's (each value's limits and
    the rules that tie them together), over the model's own configuration; the parameters
    fixed with the model must be the model's."""
    if not isinstance(data, dict):
        raise ValueError("the settings are not an object")
    given = dict(data)
    if version == 1 and "objective" in given:  # format 1's name of the mode
        given["mode"] = given.pop("objective")
    own = {**{k: v for k, v in model.config.items() if k in params.BY_NAME},
           "d": model.vector_size, "n_neg": model.n_neg}
    resolved = params.settings(given, base=own)
    for key in params.names("model"):
        if getattr(resolved, key) != own[key]:
            raise ValueError(f"the settings say {key}={getattr(resolved, key)!r} but the model "
                             f"was made with {key}={own[key]!r}")
    return resolved


def _check_position(position: RunPosition, settings: params.Settings, tokens: int) -> None:
    """ValueError unless the position is one a run of ``settings`` over ``tokens`` tokens
    can reach: 0 < epoch <= epochs, one generator a worker, consistent finite figures."""
    if not 1 <= position.epoch <= settings.epochs:
        raise ValueError(f"the position's epoch {position.epoch} is not in [1, "
                         f"{settings.epochs}] (the run's epochs)")
    if len(position.rng_states) != settings.workers:
        raise ValueError(f"the position holds {len(position.rng_states)} generators for "
                         f"{settings.workers} workers")
    words, kept, pairs, loss = position.figures
    if not (all(math.isfinite(x) for x in position.figures)
            and 0 <= kept <= words <= tokens and pairs >= 0
            and math.isfinite(position.epoch_seconds) and position.epoch_seconds >= 0):
        raise ValueError(f"the position's figures {position.figures} (words, kept words, pairs, "
                         f"loss of the epoch so far: finite, kept <= words <= the corpus's "
                         f"{tokens} tokens) or epoch_seconds {position.epoch_seconds} are not "
                         "a run's")
    if position.words_done != (position.epoch - 1) * tokens + words:
        raise ValueError(f"the position's words_done {position.words_done} is not the "
                         f"{position.epoch - 1} epochs before this one of {tokens} tokens and "
                         f"its {words:.0f} words")
    history = position.history
    if not (len(history) in (position.epoch - 1, position.epoch)
            and [h.epoch for h in history] == list(range(1, len(history) + 1))
            and all(math.isfinite(x) for h in history for x in (h.loss, h.seconds, h.lr))
            and all(0 <= h.kept_words <= h.words == tokens and h.pairs >= 0 for h in history)):
        raise ValueError(f"the position's history ({len(history)} epochs) is not that of the "
                         f"epochs before epoch {position.epoch}")


def check_corpus(name: str, saved: dict[str, Any], encoded: EncodedCorpus) -> None:
    """ValueError unless ``encoded`` is the corpus the checkpoint ``name`` was trained on."""
    now = fingerprint(encoded)
    if now != saved:
        differs = [k for k in ("tokens", "sentences", "raw_words", "blake2b")
                   if now[k] != saved[k]]
        raise ValueError(f"{name}: the corpus differs from the one this checkpoint was "
                         f"trained on ({differs[0]}: {saved[differs[0]]} then, {now[differs[0]]} "
                         "now); resume with the same corpus")
