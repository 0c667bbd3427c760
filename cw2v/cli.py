"""The ``cw2v`` command line: train word vectors, query, evaluate and plot them.

::

    cw2v train corpus.txt -o vectors.txt --d 100 --epochs 5
    cw2v train -train corpus.txt -output vectors.bin -size 100 -binary 1   # word2vec.c's flags
    cw2v skipgram -input corpus.txt -output model -minn 3 -maxn 6   # fastText's: model.bin, .vec
    cw2v train corpus.txt -o model.bin --format fasttext --subwords --min-n 3 --max-n 6
    cw2v similar vectors.txt king queen -k 10
    cw2v analogy vectors.txt man king woman          # man : king :: woman : ?
    cw2v evaluate vectors.txt                        # Google analogies and WordSim-353
    cw2v plot vectors.txt king queen man woman -o words.png
    cw2v export vectors.txt -o projector/ --limit 10000   # TensorBoard's projector
    cw2v demo
    cw2v cache list                                  # the encoded corpora kept; cache clear
    cw2v phrases -train corpus.txt -output phrased.txt -threshold 200   # word2phrase's flags
    zcat corpus.txt.gz | cw2v train - -o vectors.txt  # "-": standard input
    cat vectors.txt | cw2v similar - king

Wherever a command takes a corpus or a vectors file, ``-`` reads standard input, and a pipe, a
FIFO or ``/dev/stdin`` works as well as a regular file (compressed or not; a corpus is streamed,
vectors that are not in a regular file are read into memory once, then recognised and parsed).

``main(argv)`` returns the exit status: 0 on success; 1 when a command fails (a missing or corrupt
file, an unknown word, a bad value), after one line ``cw2v: error: ...`` on stderr and no
traceback; 2 for a command line argparse cannot parse (also one line); 130 after Ctrl-C (when
training, after one line saying that nothing was written).

word2vec.c's flags
------------------
Scripts written for word2vec.c keep working: ``cw2v train`` (or plain ``cw2v`` followed by such a
flag) accepts word2vec.c's single-dash flags. Before argparse sees the arguments,
``translate_word2vec_flags`` rewrites each ``-flag VALUE`` pair by the table ``WORD2VEC_FLAGS``
(``-size 100`` becomes ``--d=100``); every other argument passes unchanged. A command line that
uses word2vec.c's flags gets word2vec.c's defaults where they differ from ``cw2v train``'s
(``word2vec_c_defaults``): CBOW unless ``-cbow 0``, ``-alpha`` 0.05 for CBOW and 0.025 for
skip-gram, the rate decaying to ``-alpha`` x 1e-4; so ``cw2v -train text8 -output vectors.bin``
trains what ``word2vec -train text8 -output vectors.bin`` trains (word2vec.c's 12 threads aside:
cw2v uses every core). ``cw2v train CORPUS -o OUT`` with cw2v's own options keeps cw2v's
defaults (skip-gram with negative sampling).
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from . import _mpi, cache, demo, evaluate, io, params, plot
from . import phrases as ph
from ._cluster import communicator
from ._files import (InputLike, check_distinct, check_output, check_text_encoding,
                     is_regular_file, is_stream)
from ._reader import corpus_inputs
from ._version import __version__
from .io import detect_format  # noqa: F401 (cw2v.cli.detect_format, public before cw2v.io's)
from .fasttext import FastText
from .fasttext_io import read_fasttext_bin
from .model import Word2Vec, load_vectors
from .projector import CONFIG_FILE, METADATA_FILE, VECTORS_FILE, export_projector
from .subword_vectors import mean_of_rows
from .subwords import subword_rows

if TYPE_CHECKING:
    from .vectors import Vectors


log = logging.getLogger(__name__)

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl-C
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE

# word2vec.c flag -> the cw2v option it becomes. Every word2vec.c flag takes exactly one value.
# Flags whose value decides what happens (-binary, -cbow, -classes, -debug, -save-vocab,
# -read-vocab) are handled in ``_translate_flag``.
# The training parameters' flags come from their rows in ``cw2v.params``.
WORD2VEC_FLAGS: dict[str, str | None] = {
    "-train": "--train",
    "-output": "--output",
    **params.word2vec_flags(),
    "-binary": None,
    "-cbow": None,
    "-classes": None,
    "-debug": None,
    "-save-vocab": None,
    "-read-vocab": None,
}

# word2phrase flag -> the ``cw2v phrases`` option it becomes (-debug is accepted and ignored).
WORD2PHRASE_FLAGS: dict[str, str | None] = {
    "-train": "--train",
    "-output": "--output",
    "-min-count": "--min-count",
    "-threshold": "--threshold",
    "-debug": None,
}

_WORD2PHRASE_EPILOG = """\
word2phrase's flags are accepted too (cw2v phrases -train FILE -output FILE ...):
  -train FILE     CORPUS              -output FILE   -o FILE
  -min-count N    --min-count N       -threshold X   --threshold X
  -debug N        ignored
Two passes make trigrams, as word2vec.c's demo-phrases.sh:
  cw2v phrases -train text8 -output text8-phrase0 -threshold 200
  cw2v phrases -train text8-phrase0 -output text8-phrase1 -threshold 100"""


def translate_word2phrase_flags(args: Sequence[str]) -> list[str]:
    """Rewrite word2phrase's single-dash flags in ``args`` (the arguments after ``phrases``) as
    ``cw2v phrases`` options (``-threshold 200`` becomes ``--threshold=200``; ``-debug N`` is
    dropped); every other argument, and everything after ``--``, passes unchanged.

    Raises
    ------
    UsageError
        A flag without its value.
    """
    def translate(flag: str, value: str) -> list[str]:
        option = WORD2PHRASE_FLAGS[flag]
        return [] if option is None else [f"{option}={value}"]

    return _rewrite_flags(args, WORD2PHRASE_FLAGS, translate)


def _rewrite_flags(args: Sequence[str], flags, translate) -> list[str]:
    """``args`` with each ``FLAG VALUE`` pair whose flag is in ``flags`` replaced by
    ``translate(FLAG, VALUE)``; other arguments, and all after ``--``, pass unchanged."""
    out: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            out.extend(args[i:])
            break
        if arg not in flags:
            out.append(arg)
            i += 1
            continue
        if i + 1 >= len(args):
            raise UsageError(f"{arg} needs a value")
        out.extend(translate(arg, args[i + 1]))
        i += 2
    return out


_WORD2VEC_EPILOG = """\
word2vec.c's flags are accepted too (cw2v train -train FILE -output FILE ...):
  -train FILE     CORPUS              -output FILE   -o FILE
  -size N         --d N               -window N      --window N
  -negative N     --n-neg N           -sample F      --sample F
  -threads N      --workers N         -iter N        --epochs N
  -min-count N    --min-count N       -alpha F       --lr F
  -binary 0|1     --binary when 1     -debug N       ignored
  -cbow 0|1       --sg 1|0            -hs 0|1        --hs 0|1
  -classes 0 is accepted; clustering and -save-vocab/-read-vocab are refused.
With word2vec.c's flags, word2vec.c's defaults apply: -cbow 1, -alpha 0.05 for CBOW
(0.025 for skip-gram), decaying to alpha x 1e-4. Without them, cw2v's own defaults
(skip-gram, negative sampling, --lr 0.025)."""


#: The path that stands for standard input.
STDIN = "-"


# -- fastText's command lines (cw2v skipgram / cw2v cbow) ----------------------------------------

#: fastText flag -> the cw2v training parameter (a row of ``cw2v.params``) it sets.
FASTTEXT_FLAGS: dict[str, str] = {
    "-dim": "d",
    "-ws": "window",
    "-epoch": "epochs",
    "-neg": "n_neg",
    "-thread": "workers",
    "-lr": "lr",
    "-t": "sample",
    "-minCount": "min_count",
    "-minn": "min_n",
    "-maxn": "max_n",
    "-bucket": "bucket",
}

#: fastText's defaults for ``skipgram`` and ``cbow`` (its src/args.cc), by cw2v parameter.
#: Its learning rate decays linearly to 0 (cw2v's to ``min_lr``). Not here: ``-thread`` (12 in
#: fastText; cw2v uses every core, its ``workers`` default).
FASTTEXT_DEFAULTS: dict[str, object] = {
    "d": 100, "window": 5, "epochs": 5, "n_neg": 5, "lr": 0.05, "sample": 1e-4,
    "min_count": 5, "min_n": 3, "max_n": 6, "bucket": 2_000_000, "min_lr": 0.0,
}

#: fastText flags that ``skipgram``/``cbow`` take and cw2v does not: why, for the error.
FASTTEXT_UNSUPPORTED: dict[str, str] = {
    "-wordNgrams": "word n-grams (a supervised-model feature)",
    "-lrUpdateRate": "cw2v updates the learning rate continuously",
    "-pretrainedVectors": "starting from given vectors is not implemented for subwords",
    "-saveOutput": "the output matrix is in OUTPUT.bin",
    "-label": "a supervised-model flag", "-minCountLabel": "a supervised-model flag",
    "-cutoff": "a quantization flag", "-retrain": "a quantization flag",
    "-qnorm": "a quantization flag", "-qout": "a quantization flag", "-dsub": "a quantization flag",
}

FASTTEXT_COMMANDS = ("skipgram", "cbow")

# fastText's help line of each flag (its src/args.cc), for --help.
_FASTTEXT_HELP = {
    "-dim": "size of word vectors", "-ws": "size of the context window",
    "-epoch": "number of epochs", "-neg": "number of negatives sampled",
    "-lr": "learning rate", "-t": "sampling threshold",
    "-minCount": "minimal number of word occurences", "-minn": "min length of char ngram",
    "-maxn": "max length of char ngram (0: no subwords)", "-bucket": "number of buckets",
}


def fasttext_settings(args: argparse.Namespace) -> dict[str, object]:
    """The keyword arguments of ``FastText.from_corpus`` that a parsed ``cw2v skipgram`` or
    ``cw2v cbow`` command line asks for: fastText's defaults, the flags given (by
    ``FASTTEXT_FLAGS``), ``sg`` from the command, and ``-loss hs`` as hierarchical softmax
    alone (``hs=1, n_neg=0``, as fastText ignores ``-neg`` then)."""
    out = {**FASTTEXT_DEFAULTS, **{name: getattr(args, name) for name in FASTTEXT_FLAGS.values()}}
    out["sg"] = 1 if args.command == "skipgram" else 0
    out["hs"] = 1 if args.loss == "hs" else 0
    if out["hs"]:
        out["n_neg"] = 0
    return out


class _Unsupported(argparse.Action):
    """A fastText flag cw2v does not implement: a one-line usage error naming it and why."""

    def __call__(self, parser, namespace, values, option_string=None):
        raise UsageError(f"fastText's {option_string} is not supported by {parser.prog}: "
                         f"{FASTTEXT_UNSUPPORTED[option_string]}")


def _add_fasttext_commands(command) -> None:
    """``cw2v skipgram`` and ``cw2v cbow``: fastText's flags and defaults (``FASTTEXT_FLAGS``,
    ``FASTTEXT_DEFAULTS``), writing OUTPUT.bin and OUTPUT.vec."""
    for name, model in (("skipgram", "skip-gram"), ("cbow", "CBOW")):
        p = command(name, _cmd_fasttext, f"Train a {model} subword model with fastText's flags; "
                    "write OUTPUT.bin and OUTPUT.vec, as fastText does.")
        p.add_argument("-input", required=True, metavar="FILE",
                       help="training file path ('-' reads standard input)")
        p.add_argument("-output", required=True, metavar="OUTPUT",
                       help="output file path, without extension: writes OUTPUT.bin and "
                            "OUTPUT.vec")
        for flag, dest in FASTTEXT_FLAGS.items():
            if dest == "workers":
                p.add_argument(flag, dest=dest, type=int, default=None, metavar="N",
                               help="number of threads (fastText's default: 12; cw2v's: "
                                    "every core)")
                continue
            default = FASTTEXT_DEFAULTS[dest]
            kind = float if isinstance(default, float) else int
            p.add_argument(flag, dest=dest, type=kind, default=default,
                           metavar="F" if kind is float else "N",
                           help=f"{_FASTTEXT_HELP[flag]} (cw2v's {dest}; default: {default})")
        p.add_argument("-loss", choices=("ns", "hs"), default="ns",
                       help="ns: negative sampling, hs: hierarchical softmax (default: ns)")
        p.add_argument("-verbose", type=int, choices=(0, 1, 2), default=2, metavar="N",
                       help="0 quiet, 1 log, 2 log and a progress bar on a terminal "
                            "(default: 2)")
        for flag in FASTTEXT_UNSUPPORTED:
            p.add_argument(flag, action=_Unsupported, help=argparse.SUPPRESS)


def _write_fasttext(model, bin_path: Path | None = None,
                    vec_path: Path | None = None) -> None:
    """Write ``model`` as fastText's ``.bin`` and/or ``.vec`` (its vocabulary's vectors)."""
    if bin_path is not None:
        model.save_fasttext_bin(bin_path)
    if vec_path is not None:
        model.save_fasttext_vec(vec_path)


def _cmd_fasttext(args: argparse.Namespace) -> int:
    """``cw2v skipgram`` / ``cw2v cbow``: a subword model trained with fastText's flags, written
    to OUTPUT.bin (fastText's format) and OUTPUT.vec (its vectors, word2vec's text format)."""
    corpus = sys.stdin.buffer if args.input == STDIN else args.input
    bin_path, vec_path = Path(args.output + ".bin"), Path(args.output + ".vec")
    outputs = [("-output", bin_path), ("-output", vec_path)]
    for option, path in outputs:
        check_output(path, f"{option} {path.suffix}")
    check_distinct(outputs, corpus_inputs(corpus))
    progress = None if args.verbose == 2 else False
    try:
        model = FastText.from_corpus(corpus, progress=progress, **fasttext_settings(args))
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted; nothing was written to {bin_path}") from None
    if model.training_stopped is not None and model.training_stopped.startswith("interrupted"):
        raise Interrupted(f"training {model.training_stopped}; nothing was written to "
                          f"{bin_path}")
    _write_fasttext(model, bin_path, vec_path)
    log.info("wrote %s and %s", bin_path, vec_path)
    return 0




class UsageError(Exception):
    """A command line that cannot be carried out as given (exit status 2)."""


class Interrupted(Exception):
    """Ctrl-C stopped a command; the message says what was left undone (exit status 130)."""

    exit_status = EXIT_INTERRUPTED  # (a distributed run's rank ends the job with it)


# -- word2vec.c's flags --------------------------------------------------------------------------


def _translate_flag(flag: str, value: str) -> list[str]:
    """The cw2v arguments for one word2vec.c ``flag value`` pair; UsageError if refused."""
    if flag == "-binary":
        if value not in ("0", "1"):
            raise UsageError(f"-binary takes 0 or 1, got {value!r}")
        return ["--binary"] if value == "1" else []
    if flag == "-cbow":
        if value not in ("0", "1"):
            raise UsageError(f"-cbow takes 0 (skip-gram) or 1 (CBOW), got {value!r}")
        return [f"--sg={1 - int(value)}"]
    if flag == "-classes":
        if value != "0":
            raise UsageError("-classes (k-means clustering of the vectors) is not implemented")
        return []
    if flag == "-debug":
        return []  # word2vec.c's verbosity; cw2v logs at INFO and shows a progress bar on a tty
    if flag in ("-save-vocab", "-read-vocab"):
        raise UsageError(f"{flag} is not implemented")
    return [f"{WORD2VEC_FLAGS[flag]}={value}"]


def _word2vec_pairs(args: Sequence[str]) -> dict[str, str]:
    """The word2vec.c ``flag value`` pairs in ``args`` (before any ``--``), last one winning."""
    found: dict[str, str] = {}
    i = 0
    while i < len(args) and args[i] != "--":
        if args[i] in WORD2VEC_FLAGS and i + 1 < len(args):
            found[args[i]] = args[i + 1]
            i += 2
        else:
            i += 1
    return found


def word2vec_c_defaults(args: Sequence[str]) -> list[str]:
    """cw2v options that give word2vec.c's defaults, for a ``train`` command line written with
    word2vec.c's flags (empty for one that uses none: ``cw2v train`` keeps its own).

    word2vec.c trains CBOW unless ``-cbow 0``; its ``-alpha`` is 0.05 for CBOW and 0.025 for
    skip-gram, and its rate decays to ``alpha * 1e-4``. Its other defaults (-size 100, -window 5,
    -negative 5, -hs 0, -sample 1e-3, -iter 5, -min-count 5) are cw2v's too. The options come
    first, so the flags themselves (translated) and cw2v's own options given after override them.
    """
    given = _word2vec_pairs(args)
    if not given:
        return []
    out = []
    cbow = given.get("-cbow", "1") == "1"
    if "-cbow" not in given:
        out.append("--sg=0")
    alpha = given.get("-alpha", "0.05" if cbow else "0.025")
    if "-alpha" not in given:
        out.append(f"--lr={alpha}")
    try:
        out.append(f"--min-lr={float(alpha) * 1e-4!r}")
    except ValueError:
        pass  # a bad -alpha is reported by the parameter checks, naming lr
    return out


def translate_word2vec_flags(args: Sequence[str]) -> list[str]:
    """Rewrite word2vec.c's single-dash flags in ``args`` (the arguments after ``train``) as
    cw2v's options.

    Each ``-flag VALUE`` pair whose flag is in ``WORD2VEC_FLAGS`` becomes ``--option=VALUE``
    (the ``=`` keeps a negative value attached to its option; ``-cbow V`` becomes
    ``--sg=1-V``), or nothing for the flags cw2v accepts and ignores (``-binary 0``,
    ``-classes 0``, ``-debug N``). Every other argument, and everything after ``--``, passes
    unchanged. (``word2vec_c_defaults`` supplies word2vec.c's defaults.)

    Parameters
    ----------
    args : sequence of str
        Command-line arguments.

    Returns
    -------
    list of str

    Raises
    ------
    UsageError
        A flag without its value, a bad ``-cbow`` or ``-binary``, or one cw2v does not
        implement (``-classes N``, ``-save-vocab``, ``-read-vocab``).
    """
    return _rewrite_flags(args, WORD2VEC_FLAGS, _translate_flag)


def _check_known(vectors: Vectors, words: Sequence[str]) -> None:
    """KeyError naming every word of ``words`` that ``vectors`` does not know."""
    missing = [w for w in dict.fromkeys(words) if w not in vectors]
    if missing:
        raise KeyError("not in vocabulary: " + ", ".join(repr(w) for w in missing))


def _print_neighbours(pairs: list[tuple[str, float]]) -> None:
    width = max((len(w) for w, _ in pairs), default=0)
    for word, score in pairs:
        print(f"  {word:<{width}}  {score:.3f}")


# -- commands ------------------------------------------------------------------------------------


#: ``cw2v train --subwords``'s own parameters (issue 30's rows of ``cw2v.params``).
SUBWORD_PARAMETERS = ("min_n", "max_n", "bucket")


def _add_subword_options(p: argparse.ArgumentParser) -> None:
    """``cw2v train --subwords`` and its options (--min-n, --max-n, --bucket; those the
    parameter table already gives ``cw2v train`` are not added twice)."""
    p.add_argument("--subwords", action="store_true",
                   help="train fastText's subword model (cw2v.FastText): a word is its own row "
                        "plus its character n-grams' rows, so any word gets a vector")
    for name in SUBWORD_PARAMETERS:
        if name not in params.BY_NAME:
            p.add_argument(params.option(name), dest=name, type=int,
                           default=FASTTEXT_DEFAULTS[name], metavar="N",
                           help=f"with --subwords: {_FASTTEXT_HELP['-' + name.replace('_', '')]}"
                                f" (default: {FASTTEXT_DEFAULTS[name]})")


def _subword_settings(args: argparse.Namespace) -> dict:
    """``--min-n``, ``--max-n`` and ``--bucket`` as keyword arguments (with ``--subwords``);
    UsageError for options that need ``--subwords`` or that it cannot take."""
    given = [params.option(n) for n in SUBWORD_PARAMETERS
             if getattr(args, n) != FASTTEXT_DEFAULTS[n]]
    if not args.subwords:
        if given:
            raise UsageError(f"{', '.join(given)} applies with --subwords only")
        if args.format == "fasttext":
            raise UsageError("--format fasttext needs --subwords")
        return {}
    for option, value in (("--resume", args.resume), ("--init-vectors", args.init_vectors)):
        if value is not None:
            raise UsageError(f"{option} is not supported with --subwords")
    if args.format == "fasttext" and args.binary:
        raise UsageError("--binary applies to --format word2vec only")
    return {n: getattr(args, n) for n in SUBWORD_PARAMETERS}


def _cmd_train(args: argparse.Namespace) -> int:
    """``cw2v train``: vectors from a corpus, written in word2vec's format or as a cw2v model;
    with ``--distributed``, this process's rank of an MPI job (rank 0 writes the outputs; an
    error on any rank ends the job with one line naming it)."""
    if not args.distributed:
        if args.rule is not None or args.sync_tokens is not None:
            raise UsageError("--rule and --sync-tokens apply to --distributed training only")
        return _train(args, None)
    try:
        comm = communicator(True)
    except _mpi.NotLaunchedError as exc:
        raise UsageError(str(exc).replace("CORPUS -o vectors.bin", " ".join(
            [*map(str, args.corpus), "-o", str(args.output or "vectors.bin")]))) from None
    try:
        return _train(args, comm)
    except BaseException as exc:  # (SystemExit included: a rank must not leave the others)
        _mpi.fail(comm, exc)
        raise


def _train(args: argparse.Namespace, comm) -> int:
    """``cw2v train`` on one process (``comm`` None) or on one rank of ``comm``."""
    corpus: list[InputLike] = list(args.corpus) + ([args.train] if args.train else [])
    if not corpus:
        raise UsageError("no corpus given (cw2v train CORPUS -o OUT, or -train FILE)")
    if corpus.count(STDIN) + (args.init_vectors == STDIN) > 1:
        raise UsageError("standard input (-) can be read only once")
    corpus = [sys.stdin.buffer if c == STDIN else c for c in corpus]
    if args.output is None:
        raise UsageError("no output file given (-o OUT, or -output FILE)")
    if args.format == "cw2v" and args.binary:
        raise UsageError("--binary applies to --format word2vec only")
    subwords = _subword_settings(args)
    if args.plot_curve is not None:
        plot.image_format(args.plot_curve)  # a bad extension fails before training, not after
    output = Path(args.output)
    # Fail before a long training run, not after it: every output writable, none an input.
    outputs = [("-o", output), ("--checkpoint", args.checkpoint),
               ("--resume", args.resume), ("--plot-curve", args.plot_curve)]
    if comm is None or comm.rank == 0:  # (rank 0 alone writes)
        _check_outputs(outputs, corpus_inputs(corpus) + (
            [] if args.init_vectors in (None, STDIN) else [("vectors file", args.init_vectors)]))
    distributed = {} if comm is None else {"distributed": comm}
    rule = {} if comm is None else {"rule": args.rule, "sync_tokens": args.sync_tokens}

    if args.resume is not None:
        typed = getattr(args, "word2vec_flags", ())  # name the flags as the user typed them
        spelled = {("--sg" if flag == "-cbow" else WORD2VEC_FLAGS[flag]): flag for flag in typed
                   if flag == "-cbow" or (WORD2VEC_FLAGS[flag] or "").startswith("--")}
        changed = [spelled.get(params.option(name), params.option(name))
                   for name, p in params.BY_NAME.items()
                   if name != "workers" and getattr(args, name) != p.default]
        if changed:
            raise UsageError(f"--resume continues with the checkpoint's settings; drop "
                             f"{', '.join(changed)}")
        if args.rule is not None or args.sync_tokens is not None:
            raise UsageError("--resume continues with the checkpoint's --rule and "
                             "--sync-tokens; drop them")
        if args.checkpoint is not None:
            raise UsageError("--resume keeps writing to the checkpoint it resumes; drop "
                             "--checkpoint")
        if args.init_vectors is not None or args.lock_init:
            raise UsageError("--resume continues from the checkpoint's weights (and locked "
                             "rows); drop --init-vectors and --lock-init")
    if args.lock_init and args.init_vectors is None:
        raise UsageError("--lock-init locks the rows taken from --init-vectors FILE; give "
                         "--init-vectors too")
    checkpoint = args.resume if args.resume is not None else args.checkpoint
    if args.no_cache and args.cache_dir is not None:
        raise UsageError("--no-cache and --cache-dir exclude each other")
    cache_dir = False if args.no_cache else args.cache_dir
    trainer_log = logging.getLogger("cw2v.trainer")
    trainer_log.addFilter(_drop_interrupted_warning)
    try:
        source = corpus[0] if len(corpus) == 1 else corpus
        if args.resume is not None:
            workers = args.workers if args.workers != params.BY_NAME["workers"].default else None
            model = Word2Vec.resume(args.resume, source, progress=args.progress,
                                    encoding=args.encoding, errors=args.errors,
                                    checkpoint_every=args.checkpoint_every, workers=workers,
                                    cache_dir=cache_dir, **distributed)
        else:
            every = {} if args.checkpoint_every is None else {
                "checkpoint_every": args.checkpoint_every}
            init = {} if args.subwords else {"init_vectors": args.init_vectors}
            model = (FastText if args.subwords else Word2Vec).from_corpus(
                source, progress=args.progress, encoding=args.encoding, errors=args.errors,
                checkpoint=args.checkpoint, cache_dir=cache_dir, **every, **init,
                lock_init=args.lock_init, **distributed, **rule,
                **{name: getattr(args, name) for name in params.BY_NAME
                   if name not in SUBWORD_PARAMETERS}, **subwords)
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted; nothing was written to {output}") from None
    finally:
        trainer_log.removeFilter(_drop_interrupted_warning)
    if model.training_stopped is not None and model.training_stopped.startswith("interrupted"):
        # The trainer stops cleanly on Ctrl-C; a command line run writes nothing then, but the
        # checkpoint, if one was asked for.
        message = f"training {model.training_stopped}; nothing was written to {output}"
        if checkpoint is not None:
            message += (f"; checkpoint written to {checkpoint} (continue with: "
                        f"{_resume_command(args, checkpoint, comm)})")
        raise Interrupted(message)
    if comm is not None and comm.rank != 0:
        return 0  # every rank holds the same model: rank 0 writes it
    if args.format == "cw2v":
        model.save(output)
    elif args.format == "fasttext":
        _write_fasttext(model, bin_path=output)
    else:
        model.save_word2vec_format(output, binary=args.binary)
    kind = {"cw2v": "cw2v model", "fasttext": "fastText .bin"}.get(args.format) or (
        "word2vec binary" if args.binary else "word2vec text")
    log.info("wrote %d vectors of dimension %d to %s (%s)", len(model.vocab), model.vector_size,
             output, kind)
    if args.plot_curve is not None:
        plot.training_curve(model, args.plot_curve, title=f"cw2v train: {len(model.vocab)} words")
        log.info("wrote the training curve to %s", args.plot_curve)
    return 0


def _resume_command(args: argparse.Namespace, checkpoint: str, comm=None) -> str:
    """The ``cw2v train --resume`` command line that continues this run: its corpus, and every
    option that decides what is read and written (output, format, encoding, cache, curve);
    under ``mpiexec -n K`` for a distributed run (``comm``)."""
    import shlex

    launch = [] if comm is None else ["mpiexec", "-n", str(comm.size)]
    words = [*launch, "cw2v", "train", "--resume", checkpoint, *args.corpus,
             *([args.train] if args.train else []), "-o", args.output]
    if args.format != "word2vec":
        words += ["--format", args.format]
    if args.binary:
        words.append("--binary")
    for option, value, default in (("--encoding", args.encoding, "utf-8"),
                                   ("--errors", args.errors, "strict"),
                                   ("--cache-dir", args.cache_dir, None),
                                   ("--plot-curve", args.plot_curve, None),
                                   ("--checkpoint-every", args.checkpoint_every, None)):
        if value != default:
            words += [option, str(value)]
    if args.no_cache:
        words.append("--no-cache")
    if args.workers != params.BY_NAME["workers"].default:
        words += ["--workers", str(args.workers)]
    if args.distributed:
        words.append("--distributed")
    return shlex.join(words)


_OUTPUT_NAMES = {"-o": "output", "--checkpoint": "checkpoint", "--resume": "checkpoint",
                 "--plot-curve": "--plot-curve output"}


def _check_outputs(outputs, inputs) -> None:
    """Before any work: each output (``(option, path)``; None skipped) can be written -- a
    regular file or a new path, in a writable folder -- and none is an input (``(role, path)``)
    or another output (``cw2v._files.check_output`` and ``check_distinct``)."""
    for option, path in outputs:
        if path is not None:
            check_output(path, _OUTPUT_NAMES.get(option, f"{option} output"))
    check_distinct(outputs, inputs)


def _drop_interrupted_warning(record: logging.LogRecord) -> bool:
    """Log filter: not the trainer's warning after Ctrl-C (that the weights keep what was
    trained), since ``cw2v train`` then writes nothing, and says so itself."""
    return not (record.levelno == logging.WARNING
                and record.getMessage().startswith("training interrupted"))


def _cmd_similar(args: argparse.Namespace) -> int:
    """``cw2v similar``: the nearest neighbours of each word."""
    vectors = load_vectors(args.vectors, binary=args.binary, unicode_errors=args.unicode_errors)
    _check_known(vectors, args.words)
    results = [vectors.most_similar(w, args.k, restrict_vocab=args.restrict_vocab)
               for w in args.words]
    for word, neighbours in zip(args.words, results):
        print(word)
        _print_neighbours(neighbours)
    return 0


def _cmd_analogy(args: argparse.Namespace) -> int:
    """``cw2v analogy``: a is to b as c is to ?"""
    vectors = load_vectors(args.vectors, binary=args.binary, unicode_errors=args.unicode_errors)
    _check_known(vectors, [args.a, args.b, args.c])
    answers = vectors.analogy(args.a, args.b, args.c, args.k, method=args.method,
                              restrict_vocab=args.restrict_vocab)
    print(f"{args.a} : {args.b} :: {args.c} : ?")
    _print_neighbours(answers)
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    """``cw2v evaluate``: analogy accuracy and word-pair correlation."""
    vectors = load_vectors(args.vectors, binary=args.binary, unicode_errors=args.unicode_errors)
    restrict = args.restrict_vocab
    analogy_result = evaluate.analogies(
        vectors, args.analogies, restrict_vocab=30000 if restrict is None else restrict,
        method=args.method)
    pair_result = evaluate.word_pairs(vectors, args.pairs, restrict_vocab=restrict)
    questions = args.analogies or "packaged questions-words.txt"
    pairs = args.pairs or "packaged wordsim353.tsv"
    method = "3CosAdd" if args.method == "add" else "3CosMul"
    print(f"analogies: {questions} ({method}, {min(len(vectors), restrict or 30000)} most "
          f"frequent words)")
    print(analogy_result.summary())
    print()
    print(f"word pairs: {pairs}")
    print(f"Spearman {pair_result.spearman:.4f}  Pearson {pair_result.pearson:.4f}  "
          f"({pair_result.pairs_used} pairs used, {pair_result.pairs_oov} skipped as OOV, "
          f"{pair_result.oov_ratio:.1%})")
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    """``cw2v plot``: a PCA picture of words or analogies."""
    if args.analogy and len(args.words) % 4:
        raise UsageError(f"--analogy takes words in fours (a b c d ...), got {len(args.words)}")
    plot.image_format(args.output)  # a bad extension fails before the vectors are read
    _check_outputs([("-o", args.output)], [("vectors file", args.vectors)])
    vectors = load_vectors(args.vectors, binary=args.binary, unicode_errors=args.unicode_errors)
    if args.analogy:
        quadruples = [tuple(args.words[i:i + 4]) for i in range(0, len(args.words), 4)]
        plot.plot_analogies(vectors, quadruples, args.output, title=args.title)
    else:
        plot.plot_words(vectors, args.words, args.output, title=args.title)
    print(f"wrote {args.output}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    """``cw2v export``: vectors.tsv and metadata.tsv for TensorBoard's embedding projector."""
    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit must be >= 1, got {args.limit}")
    files = (VECTORS_FILE, METADATA_FILE) + ((CONFIG_FILE,) if args.config else ())
    targets = [("-o", Path(args.output, name)) for name in files]
    if Path(args.output).is_dir():  # (a new folder's parent is checked by export_projector)
        _check_outputs(targets, [])
    check_distinct(targets, [("vectors file", args.vectors)])
    source = io.rereadable(args.vectors)
    # A native model knows its counts, so --limit keeps its most frequent words.
    vectors = (Word2Vec.load(source) if io.detect_format(source) == "cw2v"
               else load_vectors(source, binary=args.binary,
                                  unicode_errors=args.unicode_errors))
    out = export_projector(vectors, args.output, limit=args.limit, config=args.config)
    print(f"wrote {out / 'vectors.tsv'} and {out / 'metadata.tsv'}"
          + (f" and {out / 'projector_config.pbtxt'}" if args.config else ""))
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    """``cw2v demo``: the classic tiny-corpus demo."""
    return demo.main([])


def _human_size(n: float) -> str:
    """Bytes as ``cw2v cache list`` shows them: 512B, 213.4K, 64.3M, 1.2G."""
    for unit in ("B", "K", "M"):
        if n < 1024:
            return f"{n:.0f}B" if unit == "B" else f"{n:.1f}{unit}"
        n /= 1024
    return f"{n:.1f}G"


def _cmd_cache(args: argparse.Namespace) -> int:
    """``cw2v cache list|clear``: the encoded corpora in the cache folder."""
    import time

    folder = Path(args.dir) if args.dir is not None else cache.default_cache_dir()
    if args.action == "clear":
        removed = cache.clear_cache(folder)
        left = len(cache.list_entries(folder))
        print(f"removed {removed} encoded corpus entr{'y' if removed == 1 else 'ies'} from "
              f"{folder}" + (f"; {left} in use by running processes left" if left else ""))
        return 0
    limit = cache.size_limit()
    entries = cache.list_entries(folder)
    for e in reversed(entries):  # most recently used first
        used = time.strftime("%Y-%m-%d %H:%M", time.localtime(e.last_used))
        sources = ", ".join(e.sources) or "(unknown source: an entry of an older cw2v)"
        print(f"{e.path.name[:12]}  {_human_size(e.size):>7}  {used}  {sources}")
    total = sum(e.size for e in entries)
    print(f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}, {_human_size(total)} in "
          f"{folder} (limit {'none' if limit is None else _human_size(limit)}, "
          "CW2V_CACHE_MAX)")
    return 0


def _read_twice(item: InputLike) -> InputLike:
    """A corpus argument of ``cw2v phrases``, which reads its corpus twice (count, then join):
    a regular file, a folder, a pattern as it is; standard input (``-``), a pipe or a FIFO
    copied first to a temporary file in the temporary folder (``$TMPDIR``), never held in
    memory."""
    import errno
    import tempfile

    if item == STDIN:
        source, name = sys.stdin.buffer, "<stdin>"
    elif os.path.isdir(item) or is_regular_file(item) or not os.path.exists(item):
        return item  # (a missing file or pattern: the reader says so)
    else:
        source, name = open(item, "rb"), os.fspath(item)
    spill = tempfile.TemporaryFile(prefix="cw2v-phrases-")
    spill.raw.name = name  # messages name the input, not the copy
    try:
        while data := source.read(1 << 20):
            try:
                spill.write(data)
            except OSError as e:
                if e.errno not in (errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", 0)):
                    raise
                raise OSError(e.errno, f"{name} is copied to a temporary file to be read "
                              f"twice, and {tempfile.gettempdir()} is full ({e.strerror}): set "
                              "TMPDIR to a folder with room, or pass a file") from None
        spill.seek(0)
    except BaseException:
        spill.close()
        raise
    finally:
        if source is not sys.stdin.buffer:
            source.close()
    return spill


def _cmd_phrases(args: argparse.Namespace) -> int:
    """``cw2v phrases``: join a corpus's collocations (word2phrase's rule) and write it out."""
    corpus: list[InputLike] = list(args.corpus) + ([args.train] if args.train else [])
    if not corpus:
        raise UsageError("no corpus given (cw2v phrases CORPUS -o OUT, or -train FILE)")
    if corpus.count(STDIN) > 1:
        raise UsageError("standard input (-) can be read only once")
    if args.output is None:
        raise UsageError("no output file given (-o OUT, or -output FILE)")
    if args.connector_words in (None, "", "none"):
        connectors: frozenset[str] | list[str] = []
    elif args.connector_words == "english":
        connectors = ph.ENGLISH_CONNECTOR_WORDS
    else:
        connectors = args.connector_words.split(",")
    settings = {"min_count": args.min_count, "threshold": args.threshold,
                "scoring": args.scoring, "connector_words": connectors,
                "delimiter": args.delimiter, "max_vocab_size": args.max_vocab_size}
    ph.Phrases(None, **settings)  # every value checked before the corpus is read
    _check_outputs([("-o", args.output), ("--save-model", args.save_model),
                    ("--export", args.export)], corpus_inputs(corpus))
    # read twice (count, then join): standard input and pipes are copied to a temporary file
    sources = [_read_twice(c) for c in corpus]
    source = sources[0] if len(sources) == 1 else sources
    try:
        model = ph.Phrases(source, progress=args.progress, **settings)
        frozen = model.freeze()
        log.info("%d phrases (min_count=%d, threshold=%g, scoring=%s) from %d tokens",
                 len(frozen), args.min_count, args.threshold, args.scoring, model.total_words)
        for stream in sources:
            if is_stream(stream):
                stream.seek(0)  # type: ignore[union-attr]
        if args.save_model:
            model.save(args.save_model)
        if args.export:
            frozen.write_phrases(args.export)
        frozen.apply_file(source, args.output, progress=args.progress)
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted; nothing was written to {args.output}") from None
    log.info("wrote %s", args.output)
    return 0


def _cmd_print_word_vectors(args: argparse.Namespace) -> int:
    """fastText's print-word-vectors: the vector of each whitespace-separated word read from
    standard input, in the vocabulary or not, as ``word v1 ... vd `` with 5 significant digits
    (a word with no row at all prints zeros, as fastText does)."""

    ft = read_fasttext_bin(args.model, mmap=is_regular_file(args.model))
    w2i = {w: i for i, w in enumerate(ft.words)}
    minn, maxn, bucket = ft.args["minn"], ft.args["maxn"], ft.args["bucket"]
    fmt = "%.5g " * ft.dim
    out = sys.stdout.buffer
    for line in sys.stdin.buffer:
        for token in line.split():
            word = token.decode("utf-8", "surrogateescape")
            rows = subword_rows(word, w2i.get(word, -1), ft.nwords, minn, maxn, bucket)
            vector = mean_of_rows(ft.input_matrix, rows)
            out.write(token + b" " + (fmt % tuple(vector.tolist())).encode("ascii") + b"\n")
    return 0


# -- the parser ----------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (raised as UsageError, printed by main)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _text_encoding(name: str) -> str:
    """argparse type of --encoding: a codec that decodes bytes to text."""
    try:
        check_text_encoding(name)
    except LookupError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return name


def _add_vectors_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("vectors", metavar="VECTORS",
                   help="word2vec text or binary file (.gz/.bz2/.xz too) or a cw2v model; "
                        "'-' reads standard input")
    p.add_argument("--binary", action="store_const", const=True, default=None,
                   help="read VECTORS as word2vec binary (default: tell by content)")
    p.add_argument("--unicode-errors", default="strict", choices=("strict", "replace", "ignore"),
                   help="words that are not valid UTF-8: fail, replace or skip the bad bytes "
                        "(default: strict)")


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of the ``cw2v`` command and its subcommands.

    Returns
    -------
    argparse.ArgumentParser
        Its ``error`` raises ``UsageError`` instead of exiting; each subcommand sets
        ``func`` (the function that runs it) on the parsed namespace.
    """
    parser = _Parser(prog="cw2v", description="Fast word2vec (skip-gram and CBOW, negative "
                     "sampling and hierarchical softmax): train, query, evaluate and plot word "
                     "vectors.", allow_abbrev=False)
    parser.add_argument("--version", action="version", version=f"cw2v {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                parser_class=_Parser)

    def command(name: str, func: Callable[[argparse.Namespace], int], help: str,
                **kwargs) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help, allow_abbrev=False, **kwargs)
        p.set_defaults(func=func)
        return p

    p = command("train", _cmd_train, "Train skip-gram vectors on a text corpus.",
                epilog=_WORD2VEC_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("corpus", nargs="*", metavar="CORPUS",
                   help="text file(s), plain or .gz/.bz2/.xz, one sentence a line or text8's "
                        "single line; '-' reads standard input")
    p.add_argument("--train", metavar="FILE", help=argparse.SUPPRESS)  # from -train FILE
    p.add_argument("-o", "--output", metavar="OUT", help="file to write (required)")
    p.add_argument("--format", choices=("word2vec", "cw2v", "fasttext"), default="word2vec",
                   help="word2vec: word2vec.c's vectors (text, or binary with --binary); cw2v: "
                        "the whole model in cw2v's native format; fasttext: fastText's .bin "
                        "(with --subwords) (default: word2vec)")
    p.add_argument("--binary", action="store_true", help="write word2vec's binary format")
    params.add_options(p)  # one option per row of cw2v.params.PARAMETERS
    _add_subword_options(p)
    p.add_argument("--encoding", default="utf-8", type=_text_encoding,
                   help="corpus encoding (default: utf-8)")
    p.add_argument("--errors", default="strict", choices=("strict", "replace", "ignore"),
                   help="undecodable bytes: fail, replace or skip them (default: strict)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="show a progress bar (default: when stderr is a terminal)")
    p.add_argument("--checkpoint", metavar="FILE",
                   help="write the model and the run's position to FILE every "
                        "--checkpoint-every seconds, after each epoch and on Ctrl-C")
    p.add_argument("--checkpoint-every", type=float, default=None, metavar="S",
                   help=f"seconds between checkpoints (default: "
                        f"{params.CHECKPOINT_EVERY:g}, "
                        "or as the resumed run had)")
    p.add_argument("--cache-dir", metavar="DIR", default=None,
                   help="where the encoded corpus is written and reused (default: "
                        "$CW2V_CACHE_DIR, else ~/.cache/cw2v)")
    p.add_argument("--no-cache", action="store_true",
                   help="encode the corpus in memory instead")
    p.add_argument("--resume", metavar="FILE",
                   help="continue the run that wrote checkpoint FILE, on the same CORPUS, "
                        "with its settings (--workers may change)")
    p.add_argument("--init-vectors", metavar="FILE", default=None,
                   help="start the words FILE holds from its vectors (word2vec text or binary, "
                        "or a cw2v model; of dimension --d), the others at random")
    p.add_argument("--lock-init", action="store_true",
                   help="keep the rows taken from --init-vectors as they are: training "
                        "updates only the other words' vectors (gensim's lockf=0.0)")
    p.add_argument("--plot-curve", metavar="FILE", default=None,
                   help="also draw the loss and words/s per epoch to FILE (.png or .svg; "
                        "needs matplotlib)")
    p.add_argument("--distributed", action="store_true",
                   help="train across the processes of an MPI job, one per node: mpiexec -n 4 "
                        "cw2v train CORPUS -o OUT --distributed (needs cw2v[mpi]; --workers "
                        "is per process; rank 0 writes the outputs)")
    p.add_argument("--sync-tokens", type=int, default=None, metavar="N",
                   help="with --distributed: tokens each process trains between two combines "
                        "(default: 400,000 shared among the processes, 100,000 with "
                        "hierarchical softmax; at most 200,000 each)")
    p.add_argument("--rule", default=None, metavar="NAME",
                   help="with --distributed: how the processes combine what they learn "
                        "(cw2v.distributed.RULES)")
    p.add_argument("-q", "--quiet", action="store_true", help="log warnings only")

    p = command("similar", _cmd_similar, "Print the nearest neighbours of words.")
    _add_vectors_argument(p)
    p.add_argument("words", nargs="+", metavar="WORD", help="word(s) to look up")
    p.add_argument("-k", type=int, default=10, metavar="N", help="neighbours (default: 10)")
    p.add_argument("--restrict-vocab", type=int, default=None, metavar="N",
                   help="search only the N most frequent words")

    p = command("analogy", _cmd_analogy, "Solve a : b :: c : ? (the words nearest b - a + c).")
    _add_vectors_argument(p)
    p.add_argument("a", metavar="A")
    p.add_argument("b", metavar="B")
    p.add_argument("c", metavar="C")
    p.add_argument("-k", type=int, default=5, metavar="N", help="answers (default: 5)")
    p.add_argument("--method", choices=("add", "mul"), default="add",
                   help="3CosAdd or 3CosMul (default: add)")
    p.add_argument("--restrict-vocab", type=int, default=None, metavar="N",
                   help="search only the N most frequent words")

    p = command("evaluate", _cmd_evaluate,
                "Analogy accuracy and word-pair correlation of word vectors.")
    _add_vectors_argument(p)
    p.add_argument("--analogies", metavar="FILE",
                   help="questions file in questions-words.txt format (default: the packaged "
                        "Google analogy set)")
    p.add_argument("--pairs", metavar="FILE",
                   help="'word1 word2 score' file (default: the packaged WordSim-353)")
    p.add_argument("--restrict-vocab", type=int, default=None, metavar="N",
                   help="use only the N most frequent words (default: 30000 for analogies, all "
                        "for word pairs)")
    p.add_argument("--method", choices=("add", "mul"), default="add",
                   help="analogy rule, 3CosAdd or 3CosMul (default: add)")

    p = command("plot", _cmd_plot, "Draw a 2-D PCA picture of words (PNG or SVG).")
    _add_vectors_argument(p)
    p.add_argument("words", nargs="+", metavar="WORD", help="words to draw")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="image file, .png or .svg")
    p.add_argument("--analogy", action="store_true",
                   help="read the words in fours a b c d and draw arrows a->b, c->d")
    p.add_argument("--title", default=None, help="figure title")

    p = command("export", _cmd_export,
                "Write vectors.tsv and metadata.tsv for TensorBoard's embedding projector.")
    _add_vectors_argument(p)
    p.add_argument("-o", "--output", required=True, metavar="DIR",
                   help="directory to write the files in (created if missing)")
    p.add_argument("--limit", type=int, default=None, metavar="N",
                   help="only the N most frequent words")
    p.add_argument("--config", action=argparse.BooleanOptionalAction, default=True,
                   help="also write projector_config.pbtxt for tensorboard --logdir DIR "
                        "(default: yes)")

    command("demo", _cmd_demo, "Train on the tiny demo corpus and print neighbours.")

    p = command("print-word-vectors", _cmd_print_word_vectors,
                "Print the vector of each word read from standard input, in the vocabulary or "
                "not (composed from its character n-grams), as fastText's print-word-vectors.")
    p.add_argument("model", metavar="MODEL", help="a fastText .bin model (fastText 0.9's "
                   "format, written by fastText or cw2v)")

    p = command("cache", _cmd_cache, "List or clear the encoded corpora that cw2v train keeps "
                "for reuse (the least recently used go beyond $CW2V_CACHE_MAX, default 10G).")
    p.add_argument("action", choices=("list", "clear"),
                   help="list: each entry's key, size, last use and source files; clear: "
                        "remove the entries (not those in use)")
    p.add_argument("--dir", metavar="DIR", default=None,
                   help="the cache folder (default: $CW2V_CACHE_DIR, else ~/.cache/cw2v; as "
                        "cw2v train --cache-dir)")

    p = command("phrases", _cmd_phrases, "Join frequent collocations (new york -> new_york) "
                "with word2phrase's rule and write the corpus out.",
                epilog=_WORD2PHRASE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("corpus", nargs="*", metavar="CORPUS",
                   help="text file(s) or folder(s), plain or .gz/.bz2/.xz; '-' reads standard "
                        "input (read twice: standard input, a pipe or a FIFO is first copied "
                        "to a temporary file in $TMPDIR, which needs room for it)")
    p.add_argument("--train", metavar="FILE", help=argparse.SUPPRESS)  # from -train FILE
    p.add_argument("-o", "--output", metavar="OUT",
                   help="phrased corpus to write (required; .gz/.bz2/.xz compress)")
    p.add_argument("--min-count", type=int, default=5, metavar="N",
                   help="ignore words and bigrams counted fewer times (default: 5)")
    p.add_argument("--threshold", type=float, default=100.0, metavar="X",
                   help="join a bigram whose score is > X (default: 100; npmi: in [-1, 1])")
    p.add_argument("--scoring", choices=("default", "npmi"), default="default",
                   help="word2phrase's score or normalised PMI (default: default)")
    p.add_argument("--connector-words", metavar="WORDS", default=None,
                   help="comma-separated words that may sit inside a phrase (of,the), or "
                        "'english' for gensim's list (default: none)")
    p.add_argument("--delimiter", default="_", help="joins a phrase's words (default: _)")
    p.add_argument("--max-vocab-size", type=int, default=40_000_000, metavar="N",
                   help="entries counted before pruning (word2phrase's rule; default: 4e7)")
    p.add_argument("--save-model", metavar="FILE", help="also save the counts (cw2v format)")
    p.add_argument("--export", metavar="FILE", help="also write 'phrase score' lines")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="show a progress bar (default: when stderr is a terminal)")
    p.add_argument("-q", "--quiet", action="store_true", help="log warnings only")

    _add_fasttext_commands(command)
    return parser


# -- entry point ---------------------------------------------------------------------------------


def _describe(exc: BaseException) -> str:
    """One line saying what went wrong."""
    if isinstance(exc, KeyError) and len(exc.args) == 1 and isinstance(exc.args[0], str):
        message = exc.args[0]
    elif isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        message = f"{exc.filename}: {exc.strerror}"
    elif isinstance(exc, MemoryError):  # cw2v's own say which matrix and what to lower
        message = str(exc) or "out of memory"
    else:
        message = str(exc) or type(exc).__name__
    return " ".join(message.split())


# The API's parameters that library messages name, as each command's options say them.
_API_TO_CLI = {
    "errors": [(r"(?<![\w-])errors='(\w+)'", r"--errors \1")],
    "cache": [(r"(?<![\w-])cache_dir=False", "--no-cache"),
              (r"(?<![\w-])cache_dir=", "--cache-dir")],
    "unicode": [(r"(?<![\w-])unicode_errors='(\w+)'(?: or '(\w+)')?",
                 lambda m: f"--unicode-errors {m[1]}"
                           + (f" or --unicode-errors {m[2]}" if m[2] else ""))],
}
_CLI_WORDS = {"train": _API_TO_CLI["errors"] + _API_TO_CLI["cache"],
              **{c: _API_TO_CLI["unicode"] for c in ("similar", "analogy", "evaluate", "plot",
                                                      "export")}}
# cw2v skipgram / cbow: a parameter named in a message is said as its fastText flag.
_CLI_WORDS.update({c: [(rf"(?<![\w-]){name}(?= must| \()", flag)
                       for flag, name in FASTTEXT_FLAGS.items()] for c in FASTTEXT_COMMANDS})


def _in_cli_words(message: str, rules) -> str:
    """``message`` with the API parameters it names (``errors='replace'``, ``cache_dir=``...)
    replaced by the command's options (``--errors replace``, ``--cache-dir``)."""
    import re

    for pattern, replacement in rules:
        message = re.sub(pattern, replacement, message)
    return message


def _configure_logging(args: argparse.Namespace) -> None:
    """Warnings from every logger; cw2v's INFO messages too when training (unless --quiet)."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s",
                        datefmt="%H:%M:%S")
    if (args.command in ("train", "phrases") and not args.quiet
            or args.command in FASTTEXT_COMMANDS and args.verbose > 0):
        logging.getLogger("cw2v").setLevel(logging.INFO)
    if args.command in _CLI_WORDS:  # warnings too name the command's options, not the API's
        rules = _CLI_WORDS[args.command]

        def in_cli_words(record: logging.LogRecord) -> bool:
            record.msg, record.args = _in_cli_words(record.getMessage(), rules), None
            return True

        for handler in logging.getLogger().handlers:
            handler.addFilter(in_cli_words)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``cw2v`` command line.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 success, 1 failure, 2 usage error, 130 interrupted (Ctrl-C).
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        if args_list and args_list[0] in WORD2VEC_FLAGS:  # `cw2v -train ...`, as word2vec.c
            args_list.insert(0, "train")
        typed: list[str] = []
        if args_list and args_list[0] == "train":
            typed = list(_word2vec_pairs(args_list[1:]))
            resumes = any(a == "--resume" or a.startswith("--resume=") for a in args_list[1:])
            # A resumed run keeps its checkpoint's settings: no defaults to add for it.
            args_list[1:] = ([] if resumes else word2vec_c_defaults(args_list[1:])) \
                + translate_word2vec_flags(args_list[1:])
        elif args_list and args_list[0] == "phrases":
            args_list[1:] = translate_word2phrase_flags(args_list[1:])
        try:
            args = build_parser().parse_args(args_list)
        except SystemExit as exc:  # --help, --version
            return exc.code if isinstance(exc.code, int) else EXIT_USAGE
        args.word2vec_flags = typed
        _configure_logging(args)
        status = args.func(args)
        sys.stdout.flush()
        return status
    except Interrupted as exc:
        print(f"cw2v: {exc}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader of our output is gone (cw2v similar ... | head); stop quietly, and keep
        # the interpreter from complaining when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except UsageError as exc:
        print(f"cw2v: error: {_describe(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except (LookupError, ValueError, OSError, ImportError, MemoryError, ArithmeticError) as exc:
        message = _describe(exc)
        if args_list and args_list[0] in _CLI_WORDS:
            message = _in_cli_words(message, _CLI_WORDS[args_list[0]])
        print(f"cw2v: error: {message}", file=sys.stderr)
        return EXIT_FAILURE
