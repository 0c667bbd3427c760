"""Preparation on several processes: the vocabulary pass of ``cw2v.corpus.build`` over pieces of
the corpus at once, with the result of the sequential pass.

The corpus is cut into tasks (``plan``): a plain file is cut into ``workers`` byte ranges, each
cut moved to just after an ASCII whitespace byte (never inside a token, nor inside a UTF-8
character, whose bytes are all >= 0x80); the text of a compressed file is cut into segment files as it is
decompressed here. A task runs in its own process (a ``python -c`` child) and gives its tokens
*local* ids in order of first appearance, written to a part file with its sentence ends; it
returns its words in that order and their counts.

The parent then merges the tasks in corpus order: walking each task's words in order and giving
new ones the next global id reproduces the sequential pass's order of first appearance, so the
vocabulary (ties by first appearance), the ids and the sentence offsets come out identical. A
range's end ends a sentence only where the file ends, as in the sequential pass.

Used for corpora of regular files (plain or compressed) of at least ``MIN_BYTES``, read as
UTF-8 or ASCII, when ``workers > 1`` and no ``max_vocab_size`` is set (the pruning rule depends on
the order the text is read in), except compressed files alone at ``workers <= 2`` (the
sequential pass then decompresses beside its tokenizing); anything else takes the sequential
pass.
"""
from __future__ import annotations

import codecs
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from . import cache
from ._files import (
    COMPRESSION_ERRORS,
    corrupt_stream_reason,
    is_compressed,
    is_stream,
    is_url,
    open_input,
)
from ._reader import (
    ASCII_WHITESPACE,
    CorpusDecodeError,
    CorpusError,
    FirstSeen,
    range_id_pieces,
    range_pieces,
    reads_bytes,
    to_ids,
)
from ._text import WordTable

#: Corpora smaller than this are read by one process (starting more costs ~0.5 s each).
#: (``$CW2V_PREPARE_MIN_BYTES`` sets it, for tests that run the command line on small files.)
MIN_BYTES = int(os.environ.get("CW2V_PREPARE_MIN_BYTES") or 32 << 20)


#: Decompressed text cut into segment files of about this size for the children.
SEGMENT_BYTES = 64 << 20


@dataclass(frozen=True)
class Task:
    """A piece of the corpus: ``path`` from byte ``start`` to ``end`` (None: the whole file);
    ``last``: its end is the file's end (which ends a sentence). ``path`` is absolute (a child
    runs in another folder); errors name ``origin``, the path as the caller gave it. A segment
    of a decompressed file (``segment``) names that file and where in its text it starts
    (``base``)."""

    path: str
    start: int = 0
    end: int | None = None
    last: bool = True
    origin: str | None = None
    base: int = 0
    segment: bool = False


def plan(paths, workers: int, encoding: str) -> list[Task] | None:
    """The tasks for ``workers`` processes, or None when the corpus is for the sequential pass
    (one worker, streams or URLs, another encoding, a corpus under ``MIN_BYTES``)."""
    if workers < 2 or paths is None:
        return None
    if codecs.lookup(encoding).name not in ("utf-8", "ascii"):
        return None
    if any(is_stream(p) or is_url(p) or not os.path.isfile(p) for p in paths):
        return None
    sizes = [os.path.getsize(p) for p in paths]
    if sum(sizes) < MIN_BYTES:
        return None
    compressed = [is_compressed(p) for p in paths]
    if workers <= 2 and all(compressed):
        # The sequential pass already decompresses on one core while it tokenizes on another
        # (``_files.ReadAhead``); a process pass would add its children to the same two cores.
        return None
    tasks = []
    for path, size, packed in zip(map(os.fspath, paths), sizes, compressed):
        if packed:
            tasks.append(Task(path))  # cut into segments as it is decompressed (``_expand``)
            continue
        full = os.path.abspath(path)
        if size < MIN_BYTES // workers:
            tasks.append(Task(full, 0, size, origin=path))
            continue
        cuts = sorted({0, size, *(_align(path, size * k // workers) for k in range(1, workers))})
        tasks += [Task(full, a, b, b == size, origin=path) for a, b in zip(cuts, cuts[1:])]
    return tasks


def _align(path: str, pos: int) -> int:
    """The first offset >= ``pos`` just after an ASCII whitespace byte (or the file's end)."""
    with open(path, "rb") as f:
        f.seek(pos)
        while True:
            block = f.read(1 << 16)
            if not block:
                return f.tell()
            hits = [i for i in (block.find(c) for c in ASCII_WHITESPACE) if i >= 0]
            if hits:
                return pos + min(hits) + 1
            pos += len(block)


def run(tasks: list[Task], workers: int, buffer: cache.SpillBuffer, encoding: str,
        errors: str, on_task=None):
    """Run ``tasks`` on ``workers`` processes, merge their ids into ``buffer`` (global
    provisional ids, in corpus order). Returns (words, counts, raw_words).

    Each task is a ``python -c`` child (not multiprocessing: its ``spawn`` would
    run the caller's script again in every child unless it has a ``__main__`` guard, and
    ``fork`` is unsafe in a process with threads). A failed task's error is raised here as
    the same exception (``CorpusError``, ``CorpusDecodeError``, ``OSError``); on any error or
    Ctrl-C the other children are killed.
    """
    # A child runs in the work folder: every path it is given is absolute (a relative corpus
    # path, cache folder or PYTHONPATH entry would point elsewhere there).
    work = Path(os.path.abspath(buffer.workdir))
    package_parent = str(Path(__file__).resolve().parent.parent)
    inherited = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [package_parent, *(os.path.abspath(p) for p in inherited if p)]))
    produced = _expand(tasks, work)
    ready: list[tuple[int, Task]] = []  # made, not started: decompression runs ahead
    running: dict[int, tuple[subprocess.Popen, Task]] = {}
    results: dict[int, tuple] = {}
    exhausted = False
    try:
        while True:
            if not exhausted and len(ready) < workers:
                task = next(produced, None)
                if task is None:
                    exhausted = True
                else:
                    ready.append((len(results) + len(running) + len(ready), task))
            while ready and len(running) < workers:
                i, task = ready.pop(0)
                spec = json.dumps({"task": asdict(task), "part": str(work / f"part{i}"),
                                   "encoding": encoding, "errors": errors,
                                   "parent": os.getpid()})
                # the child's stdin is a pipe whose write end only this process holds: when
                # it dies, the child reads its end (``_exit_with_parent``)
                running[i] = (subprocess.Popen([sys.executable, "-c", _CHILD, spec], cwd=work,
                                               env=env, stdin=subprocess.PIPE), task)
            for i, (proc, task) in list(running.items()):
                if proc.poll() is None:
                    continue
                del running[i]
                proc.stdin.close()
                results[i] = _task_result(work / f"part{i}", proc.returncode)
                if task.segment:
                    os.unlink(task.path)  # a segment's text, read
                if on_task is not None:
                    on_task(results[i][2])
            if exhausted and not ready and not running:
                break
            if exhausted or len(ready) >= workers:
                time.sleep(0.02)
    finally:
        for proc, _ in running.values():
            proc.kill()
            proc.wait()
            proc.stdin.close()
    global_ids: dict[str, int] = {}
    counts = np.zeros(0, dtype=np.int64)
    raw_words = 0
    for i in range(len(results)):
        words, local_counts, n_tokens = results[i]
        setdefault = global_ids.setdefault
        l2g = np.fromiter((setdefault(w, len(global_ids)) for w in words), dtype=np.int32,
                          count=len(words))
        if len(global_ids) > counts.size:
            counts.resize(len(global_ids), refcheck=False)
        np.add.at(counts, l2g, local_counts)
        part = work / f"part{i}"
        buffer.adopt(part.with_suffix(".ids"), part.with_suffix(".ends"), n_tokens, l2g)
        raw_words += n_tokens
    return list(global_ids), counts, raw_words


def _expand(tasks: list[Task], work: Path):
    """The tasks, a compressed file's cut into segment files of its decompressed text as they
    are asked for (so that decompression, in this process, runs while children count)."""
    for task in tasks:
        if task.end is not None:
            yield task
            continue
        yield from _segments(task.path, work)


def _segments(path: str, work: Path):
    """Decompress ``path`` into files of about ``SEGMENT_BYTES`` cut after ASCII whitespace;
    a corrupt stream raises ``CorpusError`` naming ``path``, as the sequential pass does."""
    carry, base, n = b"", 0, 0
    try:
        with open_input(path) as f:
            while True:
                data = f.read(SEGMENT_BYTES)
                final = not data
                data, carry = carry + data, b""
                if not final:
                    cut = max(data.rfind(c) for c in ASCII_WHITESPACE) + 1
                    if cut == 0:  # no whitespace yet: read on
                        carry = data
                        continue
                    data, carry = data[:cut], data[cut:]
                segment = work / f"segment{n}.txt"
                segment.write_bytes(data)
                yield Task(str(segment), 0, len(data), final, origin=path, base=base,
                           segment=True)
                base += len(data)
                n += 1
                if final:
                    return
    except COMPRESSION_ERRORS as e:
        reason = corrupt_stream_reason(e)
        if reason is None:
            raise
        raise CorpusError(path, f"cannot read corpus file {path!r}: {reason}") from e


def _task_result(part: Path, returncode: int) -> tuple[list[str], np.ndarray, int]:
    """A finished child's (words, counts, tokens), or its error raised again."""
    error = part.with_suffix(".err")
    if error.exists():
        raise _error_from(json.loads(error.read_text(encoding="utf-8")))
    if returncode != 0:
        raise RuntimeError(f"a worker of the parallel corpus pass died (exit status "
                           f"{returncode}); pass workers=1 to read the corpus in one process")
    with open(part.with_suffix(".words"), encoding="utf-8", newline="\n") as f:
        words = f.read().split("\n")[:-1]
    counts = np.load(part.with_suffix(".counts.npy"))
    n_tokens = int(part.with_suffix(".n").read_text())
    for suffix in (".words", ".counts.npy", ".n"):
        part.with_suffix(suffix).unlink()
    return words, counts, n_tokens


def _error_from(info: dict) -> BaseException:
    kind, args = info["type"], info["args"]
    if kind == "CorpusDecodeError":
        return CorpusDecodeError(*args)
    if kind == "CorpusError":
        return CorpusError(*args)
    if kind == "OSError":
        return OSError(*args)
    return RuntimeError(f"the parallel corpus pass failed: {info['message']}")


def _blocks(path: Path, dtype: str):
    with open(path, "rb") as f:
        while True:
            block = np.fromfile(f, dtype=dtype, count=cache.SEGMENT)
            if block.size == 0:
                return
            yield block


def _run_task(task: Task, part: str, encoding: str, errors: str) -> None:
    """In a worker process: local ids of one task to ``part.ids``, its sentence ends to
    ``part.ends``, its words in order of first appearance to ``part.words`` (a line each: a
    token never holds a newline), their counts to ``part.counts.npy``, its tokens to
    ``part.n``."""
    compiled = reads_bytes(encoding, errors)
    if compiled:
        table = WordTable()
        pieces = range_id_pieces(task, table, encoding)
    else:
        first_seen = FirstSeen()
        pieces = ((to_ids(map(first_seen.__getitem__, tokens), len(tokens)), ends)
                  for tokens, ends in range_pieces(task, encoding, errors))
    n = 0
    with open(part + ".ids", "wb") as ids_file, open(part + ".ends", "wb") as ends_file:
        for ids, ends in pieces:
            ids_file.write(ids.astype("<i4", copy=False).tobytes())
            if ends:
                ends_file.write((np.asarray(ends, dtype="<i8") + n).tobytes())
            n += ids.size
    if compiled:
        text, counts, _ = table.export_vocab()  # provisional ids 0, 1, ...: nothing is pruned
        Path(part + ".words").write_bytes(text)
    else:
        counts = np.zeros(len(first_seen), dtype=np.int64)
        for block in _blocks(Path(part + ".ids"), "<i4"):
            counts += np.bincount(block, minlength=len(first_seen))
        with open(part + ".words", "w", encoding="utf-8", newline="\n") as f:
            f.writelines(w + "\n" for w in first_seen)
    np.save(part + ".counts.npy", counts)
    Path(part + ".n").write_text(str(n))


def _exit_with_parent(parent: int) -> None:
    """Make this child exit when its parent dies (SIGKILL, SIGTERM, a crash), not when its task
    ends: on Linux, ``PR_SET_PDEATHSIG``; everywhere, a thread reading stdin (the parent holds
    the pipe's only write end: end of file means it is gone)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            import signal

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # it died before the above
        os._exit(1)

    def watch():
        # (the descriptor, not sys.stdin: a daemon thread blocked in a buffered read would
        # abort the interpreter's shutdown)
        try:
            while os.read(0, 1 << 10):
                pass
        except OSError:
            pass
        os._exit(1)

    import threading

    threading.Thread(target=watch, daemon=True).start()


def _main(spec: dict) -> int:
    """A child's work: run one task; an error goes to ``PART.err``."""
    if "parent" in spec:
        _exit_with_parent(spec["parent"])
    part = spec["part"]
    try:
        _run_task(Task(**spec["task"]), part, spec["encoding"], spec["errors"])
    except CorpusDecodeError as exc:
        info = {"type": "CorpusDecodeError",
                "args": [exc.path, exc.offset, exc.encoding, exc.reason]}
    except CorpusError as exc:
        info = {"type": "CorpusError", "args": [exc.path, str(exc)]}
    except OSError as exc:
        info = {"type": "OSError", "args": [exc.errno, exc.strerror, exc.filename]}
    except Exception as exc:  # reported to the parent, which raises it
        info = {"type": type(exc).__name__, "args": [], "message": str(exc)}
    else:
        return 0
    info.setdefault("message", str(info["args"]))
    Path(part + ".err").write_text(json.dumps(info), encoding="utf-8")
    return 1


# The child's program (``-m cw2v._prepare`` would import this module twice: the package
# imports it already).
_CHILD = ("import json, sys; from cw2v._prepare import _main; "
          "sys.exit(_main(json.loads(sys.argv[1])))")
