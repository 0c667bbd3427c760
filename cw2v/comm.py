"""Communicators: the few collective calls distributed training needs, and an in-process group.

A ``Communicator`` is one rank's view of a group of ``size`` ranks: a sum-all-reduce of a buffer
in place, an all-gather and a broadcast of picklable objects, and a barrier. Every rank calls the
same collectives in the same order (as MPI requires). ``cw2v._mpi`` implements it over mpi4py;
``LocalGroup`` runs K ranks as K threads of one process (the kernel releases the GIL while it
trains), so the tests and the benchmark compare combine rules on one machine, with no MPI.
"""
from __future__ import annotations

import abc
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

__all__ = ["Communicator", "LocalGroup", "RankError"]

T = TypeVar("T")


class Communicator(abc.ABC):
    """One rank's end of a group of ``size`` ranks (``rank`` in [0, size)).

    Collectives block until every rank has called them; every rank calls the same ones, in the
    same order, with buffers of the same shape and dtype.
    """

    rank: int
    size: int

    @abc.abstractmethod
    def allreduce_sum(self, buf: np.ndarray) -> None:
        """Replace ``buf`` (a contiguous array) in place by the element-wise sum of every
        rank's ``buf``; every rank gets the same sum."""

    @abc.abstractmethod
    def allgather(self, obj: Any) -> list:
        """Every rank's ``obj`` (picklable), in rank order."""

    @abc.abstractmethod
    def bcast(self, obj: Any = None, root: int = 0) -> Any:
        """``root``'s ``obj`` on every rank (the other ranks' ``obj`` is ignored)."""

    @abc.abstractmethod
    def barrier(self) -> None:
        """Return once every rank has called it."""


class RankError(RuntimeError):
    """A rank of a group raised: ``rank`` says which, ``__cause__`` holds its exception."""

    def __init__(self, rank: int, size: int, exc: BaseException):
        super().__init__(f"rank {rank} of {size} failed: {type(exc).__name__}: {exc}")
        self.rank = rank
        self.size = size


class _GroupAborted(Exception):
    """Internal: another rank of the group failed; this rank's collective gives up."""


class _LocalComm(Communicator):
    """A rank of a ``LocalGroup``: collectives through slots the group's threads share."""

    def __init__(self, group: "LocalGroup", rank: int):
        self.group, self.rank, self.size = group, rank, group.size

    def _wait(self) -> None:
        try:
            self.group._barrier.wait()
        except threading.BrokenBarrierError:
            raise _GroupAborted from None

    def allreduce_sum(self, buf: np.ndarray) -> None:
        """In place; each rank sums its share of the elements over all ranks, in rank order
        (so every rank gets the very same float sum, whatever the threads' timing)."""
        if not (isinstance(buf, np.ndarray) and buf.flags.c_contiguous):
            raise TypeError("allreduce_sum takes a C-contiguous numpy array")
        g = self.group
        flat = buf.reshape(-1)
        g._slots[self.rank] = flat
        self._wait()
        if self.rank == 0 and (g._result is None or g._result.dtype != flat.dtype
                               or g._result.shape[0] < flat.shape[0]):
            g._result = np.empty_like(flat)  # (kept: fresh memory costs a page fault a page)
        shapes = {(s.shape, s.dtype.str) for s in g._slots}
        if len(shapes) != 1:
            self._wait()
            raise ValueError(f"allreduce_sum: the ranks' buffers differ in shape or dtype "
                             f"({sorted(shapes)})")
        self._wait()
        n = flat.shape[0]
        lo, hi = n * self.rank // self.size, n * (self.rank + 1) // self.size
        result = g._result[:n]
        out = result[lo:hi]
        out[...] = g._slots[0][lo:hi]
        for other in g._slots[1:]:
            out += other[lo:hi]
        self._wait()
        flat[...] = result
        self._wait()

    def allgather(self, obj: Any) -> list:
        """Every rank's ``obj`` in rank order (the objects themselves, not copies)."""
        g = self.group
        g._slots[self.rank] = obj
        self._wait()
        out = list(g._slots)
        self._wait()
        return out

    def bcast(self, obj: Any = None, root: int = 0) -> Any:
        """``root``'s ``obj`` on every rank."""
        if not 0 <= root < self.size:
            raise IndexError(f"bcast root {root} outside the group's ranks [0, {self.size})")
        return self.allgather(obj if self.rank == root else None)[root]

    def barrier(self) -> None:
        """Return once every rank has called it."""
        self._wait()


class LocalGroup:
    """``size`` ranks as ``size`` threads of this process, for tests and benchmarks.

    ``run(fn)`` calls ``fn(comm)`` on every rank, each in its own thread, and returns their
    results in rank order. An exception on one rank breaks the group's collectives, so the
    other ranks stop at their next one (no hang), and ``run`` raises ``RankError`` naming the
    first rank that failed, its exception as the cause.
    """

    def __init__(self, size: int):
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f"LocalGroup size must be an integer >= 1, got {size!r}")
        self.size = int(size)
        self._barrier = threading.Barrier(self.size)
        self._slots: list = [None] * self.size
        self._result: np.ndarray | None = None

    def run(self, fn: Callable[[Communicator], T]) -> list[T]:
        """``[fn(comm) for each rank]``, the ranks running at once; RankError if one raises."""
        self._barrier.reset()
        results: list = [None] * self.size
        failures: list[tuple[int, BaseException]] = []
        lock = threading.Lock()

        def main(rank: int) -> None:
            try:
                results[rank] = fn(_LocalComm(self, rank))
            except _GroupAborted:
                pass
            except BaseException as exc:  # reported by run, after every rank has stopped
                with lock:
                    failures.append((rank, exc))
                self._barrier.abort()

        threads = [threading.Thread(target=main, args=(rank,), daemon=True,
                                    name=f"cw2v-rank-{rank}") for rank in range(self.size)]
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(0.1)
        self._slots = [None] * self.size
        self._result = None
        if failures:
            rank, exc = failures[0]
            raise RankError(rank, self.size, exc) from exc
        return results
