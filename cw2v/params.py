"""The training parameters, declared once: default, constraint, help text, word2vec.c flag.

``PARAMETERS`` is the one table, and this module the only place a default, a limit or a rule
tying parameters together is written. It drives the validation of every entry point (``check``,
``resolve``; a checkpoint's settings go through the same ``resolve`` as a fresh run's), the
model's ``config`` and the metadata saved with it, the signatures and docstrings of
``Word2Vec.from_corpus`` / ``from_vocabulary`` / ``train``, the settings a training run and a
checkpoint carry (``Settings``: one field per row), and the options of ``cw2v train``
(``add_options``), including the word2vec.c flags they answer to. Other modules take a default
from here (``default(name)``), never write it again (``tests/test_params.py`` checks). Adding a
parameter is adding a row here (and reading it where it takes effect).

Every parameter is bounded above as well as below, so that every size the kernel allocates is
known to fit before any memory is allocated or any corpus is read.
"""
from __future__ import annotations

import argparse
import inspect
import math
import numbers
import os
import textwrap
from collections.abc import Mapping
import warnings
from dataclasses import asdict, dataclass, make_dataclass
from typing import Any

# Upper limits (the kernel checks the same ones again before its nogil code).
MAX_DIM = 100_000          # vector dimension d
MAX_WINDOW = 10_000        # window
MAX_NEG = 10_000           # n_neg
MAX_WORKERS = 1024         # training threads
MAX_EPOCHS = 1_000_000
MAX_SEED = 2**64 - 1
# fastText's subword model (cw2v.FastText): n-gram lengths and hash buckets. Input rows (words +
# buckets) are int32 ids in the kernel.
MAX_NGRAM = 100            # min_n, max_n
MAX_BUCKET = 2**30         # bucket
# The batched mode keeps a window's 2 * window inputs and n_neg + 1 outputs in stack buffers.
BATCHED_MAX_WINDOW = 32
BATCHED_MAX_NEG = 32

MODES = ("exact", "batched")


# -- constraints ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Integer:
    """An int in [low, high] (None: unbounded), optionally None."""

    low: int
    high: int | None = None
    none_ok: bool = False

    def __call__(self, name: str, value: Any) -> int | None:
        if value is None and self.none_ok:
            return None
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ValueError(f"{name} must be an integer {self.describe()}, got {value!r}")
        number = int(value)
        if number < self.low or (self.high is not None and number > self.high):
            raise ValueError(f"{name} must be {self.describe()}, got {value}")
        return number

    def describe(self) -> str:
        """The allowed range, for messages and help texts."""
        if self.high is None:
            return f">= {self.low}"
        return f"in [{self.low}, {self.high:_}]".replace("_", ",")


@dataclass(frozen=True)
class Real:
    """A finite float in [low, high] (``low_open``: > low)."""

    low: float
    high: float
    low_open: bool = False
    none_ok: bool = False

    def __call__(self, name: str, value: Any) -> float | None:
        if value is None and self.none_ok:
            return None
        if isinstance(value, bool):
            raise ValueError(f"{name} must be a number, got {value!r}")
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a number, got {value!r}") from None
        below = v <= self.low if self.low_open else v < self.low
        if not math.isfinite(v) or below or v > self.high:
            raise ValueError(f"{name} must be finite and {self.describe()}, got {value!r}")
        return v

    def describe(self) -> str:
        """The allowed range, for messages and help texts."""
        return f"{'>' if self.low_open else '>='} {self.low:g} and <= {self.high:g}"


@dataclass(frozen=True)
class OneOf:
    """One of a few strings."""

    options: tuple[str, ...]

    def __call__(self, name: str, value: Any) -> str:
        if value not in self.options:
            raise ValueError(f"{name} must be one of {self.options}, got {value!r}")
        return value

    def describe(self) -> str:
        """The allowed values, for messages and help texts."""
        return " or ".join(repr(o) for o in self.options)


# -- the table ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Parameter:
    """One row of the table.

    name : the keyword in Python and the key in ``model.config`` (the CLI option is
        ``--name`` with ``_`` as ``-``).
    default : used when the caller leaves it out (``workers=None``: the number of CPU cores).
    check : the constraint: called as ``check(name, value)``, it returns the value or raises
        ValueError naming the parameter; ``check.describe()`` says what is allowed.
    help : one line for docstrings and ``--help``.
    stage : "model" (fixed when the model is made), "vocab" (fixed when the vocabulary is
        built) or "train" (``Word2Vec.train`` may change it for a later run).
    w2v_flag : word2vec.c's flag for it, if it has one.
    gensim : gensim's name, where it differs.
    cli_aliases : more option strings for ``cw2v train``.
    per_call : it applies to one training call only: ``model.config`` keeps its default after
        the call, so the next call does not inherit it (the learning-rate schedule's bounds).
    """

    name: str
    default: Any
    check: Integer | Real | OneOf
    help: str
    stage: str
    w2v_flag: str | None = None
    gensim: str | None = None
    cli_aliases: tuple[str, ...] = ()
    per_call: bool = False


PARAMETERS: tuple[Parameter, ...] = (
    Parameter("d", 100, Integer(1, MAX_DIM), "vector dimension", "model",
              w2v_flag="-size", gensim="vector_size", cli_aliases=("--size",)),
    Parameter("window", 5, Integer(1, MAX_WINDOW),
              "maximum distance between a center and a context word; each center draws its "
              "own window from 1..window (word2vec.c)", "train", w2v_flag="-window"),
    Parameter("min_count", 5, Integer(1), "drop words rarer than this", "vocab",
              w2v_flag="-min-count"),
    Parameter("max_vocab", None, Integer(1, none_ok=True),
              "keep only the N most frequent words (None: all)", "vocab",
              gensim="max_final_vocab"),
    Parameter("max_vocab_size", None, Integer(1, none_ok=True),
              "bound the counting table: when it holds more distinct words, the rarest are "
              "dropped (word2vec.c's ReduceVocab; counts near the floor may come out lower). "
              "None: exact counts", "vocab"),
    Parameter("sg", 1, Integer(0, 1),
              "architecture: 1 skip-gram (each context word predicts the center word), 0 CBOW "
              "(the mean or sum of the window predicts it; Mikolov et al. 2013a); word2vec.c's "
              "-cbow is its inverse", "model"),
    Parameter("hs", 0, Integer(0, 1),
              "1: hierarchical softmax over a Huffman tree of the counts (Mikolov et al. 2013b), "
              "with negative sampling too when n_neg > 0; 0: negative sampling only", "model",
              w2v_flag="-hs"),
    Parameter("cbow_mean", 1, Integer(0, 1),
              "CBOW: 1 averages the context vectors (word2vec.c), 0 sums them", "model"),
    Parameter("n_neg", 5, Integer(0, MAX_NEG),
              "noise words per positive pair; 0 (with hs=1) for pure hierarchical softmax",
              "model", w2v_flag="-negative", gensim="negative"),
    Parameter("ns_exponent", 0.75, Real(-10.0, 10.0),
              "the noise distribution is count**ns_exponent", "model"),
    Parameter("sample", 1e-3, Real(0.0, 1.0),
              "subsampling threshold: a word of frequency f is kept with probability "
              "(sqrt(f / sample) + 1) * sample / f (word2vec.c); 0 turns it off", "train",
              w2v_flag="-sample"),
    Parameter("lr", 0.025, Real(0.0, 1e6, low_open=True),
              "initial learning rate; decays linearly to min_lr over all epochs", "train",
              w2v_flag="-alpha", gensim="alpha"),
    Parameter("min_lr", 1e-4, Real(0.0, 1e6), "final learning rate (<= lr)", "train",
              gensim="min_alpha"),
    Parameter("start_lr", None, Real(0.0, 1e6, low_open=True, none_ok=True),
              "learning rate where this call's schedule starts (None: lr); the rate decays "
              "linearly from it to end_lr over total_epochs epochs", "train",
              gensim="start_alpha", per_call=True),
    Parameter("end_lr", None, Real(0.0, 1e6, none_ok=True),
              "learning rate where the schedule ends (None: min_lr; <= start_lr)", "train",
              gensim="end_alpha", per_call=True),
    Parameter("total_epochs", None, Integer(1, MAX_EPOCHS, none_ok=True),
              "epochs the schedule spans, over this call and others (None: this call's "
              "epochs); with start_epoch, a loop of train() calls decays once", "train",
              per_call=True),
    Parameter("start_epoch", 0, Integer(0, MAX_EPOCHS),
              "epochs of the schedule trained before this call (start_epoch + epochs <= "
              "total_epochs)", "train", per_call=True),
    Parameter("epochs", 5, Integer(1, MAX_EPOCHS), "passes over the corpus", "train",
              w2v_flag="-iter"),
    Parameter("workers", None, Integer(1, MAX_WORKERS, none_ok=True),
              "training threads (None: the number of CPU cores)", "train", w2v_flag="-threads"),
    Parameter("seed", 1, Integer(0, MAX_SEED, none_ok=True),
              "seeds the initial weights and each worker's generator; with workers=1 training "
              "repeats bit for bit", "train"),
    Parameter("mode", "exact", OneOf(MODES),
              "'exact': word2vec.c's rule, n_neg fresh noise words per pair; 'batched': "
              "HogBatch (Ji et al. 2016), one set of noise words shared by a center's window, "
              "faster; skip-gram only, with negative sampling or hierarchical softmax alone (its "
              "window shares the center's Huffman path)", "train"),
    Parameter("min_n", 3, Integer(1, MAX_NGRAM),
              "FastText: shortest character n-gram of a word, boundary markers < > included "
              "(fastText's -minn)", "model"),
    Parameter("max_n", 6, Integer(0, MAX_NGRAM),
              "FastText: longest character n-gram (fastText's -maxn); 0 turns n-grams off, "
              "else >= min_n", "model"),
    Parameter("bucket", 2_000_000, Integer(1, MAX_BUCKET),
              "FastText: hash buckets of the n-grams, input rows beside the words' (fastText's "
              "-bucket)", "model"),
)

# cw2v.FastText's defaults where fastText 0.9's differ from word2vec's (its -lr and -t, and the
# noise distribution of its negative table, counts**0.5); every other default is the table's.
FASTTEXT_DEFAULTS: dict[str, Any] = {"lr": 0.05, "sample": 1e-4, "ns_exponent": 0.5}

# Seconds between checkpoints, by default (cw2v.checkpoint).
CHECKPOINT_EVERY = 600.0

BY_NAME: dict[str, Parameter] = {p.name: p for p in PARAMETERS}


def defaults() -> dict[str, Any]:
    """Every parameter's default, by name."""
    return {p.name: p.default for p in PARAMETERS}


def default(name: str) -> Any:
    """Parameter ``name``'s default (KeyError for a name that is not a parameter)."""
    return BY_NAME[name].default


def check(name: str, value: Any) -> Any:
    """``value`` checked against parameter ``name``'s constraint (ValueError naming it)."""
    return BY_NAME[name].check(name, value)


def check_positive_int(name: str, value: Any, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum``, or ValueError naming ``name`` (for a setting outside
    the table, e.g. a reader's ``workers``)."""
    return int(Integer(minimum)(name, value))  # type: ignore[arg-type]


def resolve(given: Mapping[str, Any], base: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """All parameters: ``given`` over ``base`` (default: the table's defaults), each checked,
    then the rules that tie parameters together; ``workers=None`` becomes the CPU count.

    Raises TypeError for a name that is not a parameter, ValueError naming the first bad value.
    """
    unknown = sorted(set(given) - set(BY_NAME))
    if unknown:
        raise TypeError(f"unknown training parameter(s): {', '.join(unknown)}")
    values = {**defaults(), **(base or {}), **given}
    out: dict[str, Any] = {p.name: p.check(p.name, values[p.name]) for p in PARAMETERS}
    if out["min_lr"] > out["lr"]:
        raise ValueError(f"min_lr ({out['min_lr']}) must not exceed lr ({out['lr']})")
    start_lr = out["lr"] if out["start_lr"] is None else out["start_lr"]
    end_lr = out["min_lr"] if out["end_lr"] is None else out["end_lr"]
    if end_lr > start_lr:
        raise ValueError(f"the schedule's end_lr ({end_lr}) must not exceed its start_lr "
                         f"({start_lr}) (None: min_lr and lr)")
    total = out["epochs"] if out["total_epochs"] is None else out["total_epochs"]
    if out["start_epoch"] + out["epochs"] > total:
        raise ValueError(f"start_epoch ({out['start_epoch']}) + epochs ({out['epochs']}) must "
                         f"not exceed total_epochs ({total}): the schedule ends there")
    if out["n_neg"] == 0 and out["hs"] == 0:
        raise ValueError("n_neg=0 with hs=0 trains nothing: use n_neg > 0 (negative sampling) "
                         "or hs=1 (hierarchical softmax)")
    if out["mode"] == "batched" and (out["sg"] != 1 or (out["hs"] and out["n_neg"])):
        raise ValueError(f"mode='batched' covers skip-gram with negative sampling or with "
                         f"hierarchical softmax alone (sg=1, and hs=0 or n_neg=0), got "
                         f"sg={out['sg']}, hs={out['hs']}, n_neg={out['n_neg']}; use "
                         "mode='exact'")
    if out["mode"] == "batched" and (out["window"] > BATCHED_MAX_WINDOW
                                     or out["n_neg"] > BATCHED_MAX_NEG):
        raise ValueError(f"mode='batched' takes window <= {BATCHED_MAX_WINDOW} and "
                         f"n_neg <= {BATCHED_MAX_NEG}, got window={out['window']}, "
                         f"n_neg={out['n_neg']}")
    if out["max_n"] and out["max_n"] < out["min_n"]:
        raise ValueError(f"max_n ({out['max_n']}) must be 0 (no n-grams) or >= min_n "
                         f"({out['min_n']})")
    if out["workers"] is None:
        out["workers"] = min(os.cpu_count() or 1, MAX_WORKERS)
    return out


def per_call() -> list[str]:
    """Names of the parameters that apply to one training call only (``Parameter.per_call``)."""
    return [p.name for p in PARAMETERS if p.per_call]


def names(*stages: str) -> list[str]:
    """Names of the parameters of the given stages, in table order."""
    return [p.name for p in PARAMETERS if p.stage in stages]


# -- signatures and docstrings --------------------------------------------------------------------

def _type_name(p: Parameter) -> str:
    kind = {Integer: "int", Real: "float", OneOf: "str"}[type(p.check)]
    return f"{kind} or None" if getattr(p.check, "none_ok", False) else kind


def docstring_lines(parameter_names, indent: str = "        ") -> str:
    """numpydoc lines (``name : type, default X`` and the help) for the named parameters."""
    lines = []
    for name in parameter_names:
        p = BY_NAME[name]
        also = f" (gensim: ``{p.gensim}``)" if p.gensim else ""
        lines.append(f"{name} : {_type_name(p)}, default {p.default!r}")
        text = f"{p.help[0].upper()}{p.help[1:]}{also}; {p.check.describe()}."
        lines.extend(textwrap.wrap(text, 96 - len(indent) - 4, initial_indent="    ",
                                   subsequent_indent="    "))
    return "\n".join(indent + line for line in lines)


def with_parameters(parameter_names, *, default_none: bool = False):
    """Decorate a ``f(self_or_cls, first, *, ..., **params)`` function: its signature lists the
    named parameters as keywords (with the table's defaults, or None with ``default_none``), and
    ``{parameters}`` in its docstring becomes their numpydoc entries."""
    def decorate(func):
        sig = inspect.signature(func)
        fixed = [q for q in sig.parameters.values() if q.kind is not q.VAR_KEYWORD]
        keyword = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY,
                                     default=None if default_none else BY_NAME[n].default)
                   for n in parameter_names]
        positional = [q for q in fixed if q.kind is not q.KEYWORD_ONLY]
        extra = [q for q in fixed if q.kind is q.KEYWORD_ONLY]
        func.__signature__ = sig.replace(parameters=positional + keyword + extra)
        if func.__doc__:
            func.__doc__ = func.__doc__.replace("{parameters}", docstring_lines(parameter_names))
        return func
    return decorate


# -- the command line -----------------------------------------------------------------------------

def option(name: str) -> str:
    """The ``cw2v train`` option of parameter ``name`` (``n_neg`` -> ``--n-neg``)."""
    return "--" + name.replace("_", "-")


def _argparse_type(p: Parameter):
    if isinstance(p.check, Integer):
        return int, "N"
    if isinstance(p.check, Real):
        return float, "F"
    return str, None


def add_options(parser: argparse.ArgumentParser) -> None:
    """Add one option per parameter to ``cw2v train``'s parser (values are checked later, by
    ``resolve``, so the command line and Python give the same messages)."""
    for p in PARAMETERS:
        kind, metavar = _argparse_type(p)
        kwargs: dict[str, Any] = dict(dest=p.name, type=kind, default=p.default,
                                      help=f"{p.help} (default: {p.default})")
        if isinstance(p.check, OneOf):
            kwargs["choices"] = p.check.options
        else:
            kwargs["metavar"] = metavar
        parser.add_argument(option(p.name), *p.cli_aliases, **kwargs)


def word2vec_flags() -> dict[str, str]:
    """word2vec.c flag -> cw2v option, for the parameters that have one."""
    return {p.w2v_flag: option(p.name) for p in PARAMETERS if p.w2v_flag}


# -- the settings of a run ------------------------------------------------------------------------

def _objective(self) -> str:
    warnings.warn("Settings.objective is deprecated: the mode is Settings.mode",
                  DeprecationWarning, stacklevel=2)
    return self.mode


def _as_dict(self) -> dict[str, Any]:
    """The settings as a dict, by name in table order (``Settings(**d)`` makes them again)."""
    return asdict(self)


Settings = make_dataclass(
    "Settings", [(p.name, _type_name(p)) for p in PARAMETERS], frozen=True,
    namespace={"objective": property(_objective, doc="Deprecated name of ``mode``."),
               "as_dict": _as_dict})
Settings.__module__ = __name__
Settings.__doc__ = """Every training parameter of a run, one field per row of ``PARAMETERS`` (made
    from the table: no field list or default of its own), as ``resolve`` returns them; what
    ``cw2v.trainer.TrainingRun`` trains with and a checkpoint records. Make one with
    ``settings``; ``dataclasses.replace`` changes a field (frozen)."""


def settings(given: Mapping[str, Any] | None = None,
             base: Mapping[str, Any] | None = None) -> Settings:
    """``resolve(given, base)`` as a ``Settings`` (the same checks and rules)."""
    return Settings(**resolve(given or {}, base))
