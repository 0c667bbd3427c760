"""The lock that makes one training run the only writer of a checkpoint.

While a run may write checkpoint ``DIR/NAME``, the file ``DIR/.NAME.lock`` holds the run's
process id and host name (``"PID HOST"``). It is created atomically (``O_CREAT | O_EXCL``), so of
two runs started on one checkpoint only one gets it; the other stops before any work with
``CheckpointLockedError`` naming the owner. A lock left by a process that died without removing
it (SIGKILL, a crash) is taken over, with a warning, when its process is gone from this host; a
lock from another host cannot be tested and is refused (remove it by hand when its run is
over). The lock is removed when the run ends: normally, on an error and on Ctrl-C.
"""
from __future__ import annotations

import contextlib
import errno
import functools
import inspect
import logging
import os
import socket
from collections.abc import Iterator
from pathlib import Path

from ._files import PathLike, _process_alive, check_distinct, check_output
from ._reader import corpus_inputs

log = logging.getLogger(__name__)

SUFFIX = ".lock"


class CheckpointLockedError(OSError):
    """Another live run holds the checkpoint's lock."""


def lock_path(checkpoint: PathLike) -> Path:
    """The lock file of ``checkpoint``: ``.NAME.lock`` beside it (hidden, so that a corpus
    folder or glob holding the checkpoint never reads it), beside a symbolic link's target, so
    that two links to one checkpoint share it."""
    target = Path(os.path.realpath(os.fspath(checkpoint)))
    return target.with_name(f".{target.name}{SUFFIX}")


def _owner(text: str) -> tuple[int, str] | None:
    """(pid, host) from a lock file's text, or None if it is not ``"PID HOST"``."""
    fields = text.split()
    if len(fields) != 2 or not fields[0].isdigit():
        return None
    return int(fields[0]), fields[1]


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this host (a zombie, dead but not yet reaped, does not)."""
    if not _process_alive(pid):
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True  # no /proc (not Linux): as os.kill said


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None


def _take_over(path: Path, seen: str) -> bool:
    """Remove the stale lock ``path`` if it still holds ``seen``: renamed aside first (atomic),
    so that of two processes taking it over at once only one removes it, and a fresh lock
    created meanwhile is put back, never removed."""
    aside = path.with_name(f"{path.name}.{os.getpid()}.stale")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return True  # another process removed it: try again
    if _read(aside) == seen:
        os.unlink(aside)
        return True
    with contextlib.suppress(OSError):
        os.link(aside, path)  # not the lock judged stale: put it back (unless a new one is there)
    with contextlib.suppress(OSError):
        os.unlink(aside)
    return False


@contextlib.contextmanager
def checkpoint_lock(checkpoint: PathLike) -> Iterator[Path]:
    """Hold ``checkpoint``'s lock file for the ``with`` block (see the module's docstring).

    Raises
    ------
    CheckpointLockedError
        Another run, alive or on another host, holds the lock (the message names its PID).
    OSError
        The lock file cannot be created (the folder is missing or not writable).
    """
    path = lock_path(checkpoint)
    mine = f"{os.getpid()} {socket.gethostname()}\n"
    for _ in range(10):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            seen = _read(path)
            if seen is None:
                continue  # removed meanwhile
            owner = _owner(seen)
            if owner is not None and owner[1] == socket.gethostname() \
                    and not _alive(owner[0]):
                if _take_over(path, seen):
                    log.warning("%s: taking over the lock of process %d, which is gone (the "
                                "run it held was killed or crashed)", checkpoint, owner[0])
                continue
            who = (f"process {owner[0]} on {owner[1]}" if owner is not None
                   else f"an unknown process ({path} holds {seen[:40]!r})")
            raise CheckpointLockedError(
                errno.EBUSY, f"checkpoint in use by {who}: another run writes it; wait for "
                f"it to end, or give another checkpoint (remove {path} if no run uses it)",
                os.fspath(checkpoint)) from None
        try:
            os.write(fd, mine.encode("utf-8"))
        finally:
            os.close(fd)
        break
    else:
        raise CheckpointLockedError(errno.EBUSY, f"cannot take the lock {path}",
                                    os.fspath(checkpoint))
    try:
        yield path
    finally:
        if _read(path) == mine:
            with contextlib.suppress(OSError):
                os.unlink(path)


def owns_checkpoint(func):
    """Decorate a training method with a ``checkpoint`` parameter and a ``corpus`` one: before
    it runs, the checkpoint is checked (a writable regular file, not one of the corpus files)
    and its lock taken, released when the method returns or raises."""
    sig = inspect.signature(func)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        bound = sig.bind_partial(*args, **kwargs).arguments
        checkpoint = bound.get("checkpoint")
        if checkpoint is None:
            return func(*args, **kwargs)
        check_output(checkpoint, "checkpoint")
        check_distinct([("checkpoint", checkpoint)], corpus_inputs(bound.get("corpus")))
        with checkpoint_lock(checkpoint):
            return func(*args, **kwargs)

    return wrapper
