"""The MPI side of distributed training: a ``Communicator`` over mpi4py, the launch check, the
per-rank logging and the way a failing rank ends the whole job.

Imported only when distributed training is asked for (``Word2Vec.from_corpus(...,
distributed=True)``, ``cw2v train --distributed``): mpi4py is an extra (``pip install
"cw2v[mpi]"``), and importing ``mpi4py.MPI`` starts MPI.

A rank that raises prints one line, ``cw2v: rank R of K failed: ...``, and calls
``MPI_Abort``: the launcher (mpich's hydra, Open MPI's mpirun, Slurm's srun) then ends every
other rank at once, so the job never hangs in a collective that a dead rank will not join. A
rank killed outright (SIGKILL, the OOM killer) cannot say anything; the launcher reports its
process id, and rank 0 logs every rank's process id and host at the start so that line can be
read back to a rank.
"""
from __future__ import annotations

import logging
import os
import socket
import sys
import threading
import time

import numpy as np

from .comm import Communicator

log = logging.getLogger(__name__)

#: Environment variables one of which every common MPI launcher sets in the processes it starts
#: (mpich's hydra and Intel MPI: PMI_*; Open MPI: OMPI_*; PMIx; Slurm's srun; MVAPICH).
LAUNCHER_VARIABLES = ("PMI_RANK", "PMI_SIZE", "PMIX_RANK", "OMPI_COMM_WORLD_SIZE",
                      "OMPI_COMM_WORLD_RANK", "MPI_LOCALNRANKS", "MV2_COMM_WORLD_RANK",
                      "SLURM_PROCID")

#: How to start distributed training, for the message given outside a launcher.
LAUNCH_HINT = "mpiexec -n 4 cw2v train CORPUS -o vectors.bin --distributed"


class NotLaunchedError(RuntimeError):
    """Distributed training was asked for outside an MPI launcher, or without mpi4py."""


def launched() -> bool:
    """Whether this process was started by an MPI launcher (``mpiexec``, ``srun``...), told by
    the environment the launchers set, without starting MPI."""
    return any(name in os.environ for name in LAUNCHER_VARIABLES)


def _mpi_module():
    """``mpi4py.MPI`` (importing it starts MPI), or NotLaunchedError saying how to get it."""
    try:
        from mpi4py import MPI
    except ImportError as exc:
        raise NotLaunchedError(
            f"distributed training needs mpi4py and an MPI ({exc}): pip install "
            f"\"cw2v[mpi]\", then launch it with: {LAUNCH_HINT}") from None
    return MPI


class MPIComm(Communicator):
    """``cw2v.comm.Communicator`` over an mpi4py communicator (default ``MPI.COMM_WORLD``):
    the all-reduce sums numpy buffers in place (``Allreduce`` with ``IN_PLACE``), ``allgather``
    and ``bcast`` carry picklable objects, ``barrier`` is ``Barrier``.

    Parameters
    ----------
    comm : mpi4py.MPI.Comm, optional
        The communicator (default: ``MPI.COMM_WORLD``).
    """

    def __init__(self, comm=None):
        MPI = _mpi_module()
        self._MPI = MPI
        self._comm = MPI.COMM_WORLD if comm is None else comm
        self.rank = self._comm.Get_rank()
        self.size = self._comm.Get_size()
        self.bytes_sent = 0  # bytes this rank contributed to all-reduces

    def allreduce_sum(self, buf: np.ndarray) -> None:
        """Sum ``buf`` over all ranks, in place: every rank gets the sum (a C-contiguous array
        of a numeric dtype, the same shape and dtype on every rank)."""
        if not isinstance(buf, np.ndarray) or not buf.flags.c_contiguous:
            raise ValueError("allreduce_sum needs a C-contiguous numpy array")
        self.bytes_sent += buf.nbytes
        self._comm.Allreduce(self._MPI.IN_PLACE, buf, op=self._MPI.SUM)

    def allgather(self, obj) -> list:
        """Every rank's ``obj`` (picklable), in rank order."""
        return self._comm.allgather(obj)

    def bcast(self, obj, root: int = 0):
        """Root's ``obj`` on every rank."""
        return self._comm.bcast(obj, root=root)

    def barrier(self) -> None:
        """Wait until every rank gets here."""
        self._comm.Barrier()

    def local_size(self) -> int:
        """How many ranks run on this rank's machine (shared memory), so that each takes its
        share of the cores."""
        node = self._comm.Split_type(self._MPI.COMM_TYPE_SHARED)
        try:
            return node.Get_size()
        finally:
            node.Free()

    def abort(self, code: int = 1) -> None:
        """End every rank of the job now (``MPI_Abort``); does not return."""
        self._comm.Abort(code)


def world() -> MPIComm:
    """The job's communicator, for a process started by an MPI launcher; NotLaunchedError
    with the command that starts one otherwise (no launcher, or no mpi4py)."""
    if not launched():
        raise NotLaunchedError(f"distributed training runs under an MPI launcher, one process "
                               f"per node; start it with: {LAUNCH_HINT} (or srun under Slurm)")
    return MPIComm()


def default_workers(comm) -> int:
    """Training threads per rank when ``workers`` is not given: this machine's cores shared
    among the ranks that run on it."""
    local = comm.local_size() if hasattr(comm, "local_size") else 1
    return max(1, (os.cpu_count() or 1) // max(local, 1))


_prefix_installed = threading.Lock()
_PREFIXED = False
# Seconds a failing rank waits between its line and MPI_Abort: the launcher forwards each rank's
# stderr through a pipe, and an abort lets it kill every rank at once, the line sometimes
# unread (seen in CI under load: the job ended with no line).
_ABORT_GRACE_S = 0.5


def prefix_logs(rank: int, size: int) -> None:
    """Prefix the messages of cw2v's loggers with ``[rank R/K]`` (a log-record factory, set
    once per process), so that the ranks' interleaved output says who wrote what."""
    global _PREFIXED
    with _prefix_installed:
        if _PREFIXED:
            return
        _PREFIXED = True
        make = logging.getLogRecordFactory()
        tag = f"[rank {rank}/{size}] "

        def factory(*args, **kwargs):
            record = make(*args, **kwargs)
            if record.name == "cw2v" or record.name.startswith("cw2v."):
                record.msg = tag + str(record.msg)
            return record

        logging.setLogRecordFactory(factory)


def describe_ranks(comm) -> str:
    """``rank 0: pid 123 on node1; rank 1: ...``: every rank's process and host (gathered),
    so that a launcher's report of a dead process id names a rank."""
    where = comm.allgather((os.getpid(), socket.gethostname()))
    return "; ".join(f"rank {r}: pid {pid} on {host}" for r, (pid, host) in enumerate(where))


class RanksDisagreeError(ValueError):
    """The ranks of a job do not agree on what to train (settings, cw2v version, corpus,
    vocabulary); raised alike on every rank."""


def check_agreement(comm, **facts) -> None:
    """RanksDisagreeError naming the first of ``facts`` (name -> a JSON-able value) whose value
    differs between ranks, and the ranks' values (every rank gets the same answer)."""
    every = comm.allgather(facts)
    for name in facts:
        values = [f.get(name) for f in every]
        if any(v != values[0] for v in values):
            differ = next(r for r, v in enumerate(values) if v != values[0])
            raise RanksDisagreeError(
                f"the ranks disagree on {name}: rank 0 has {_short(values[0])}, rank {differ} "
                f"has {_short(values[differ])}; every rank must run the same cw2v with the "
                f"same settings on the same corpus")


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def fail(comm, exc: BaseException) -> None:
    """End the whole job for ``exc`` raised on this rank: one line on stderr naming the rank and
    the cause (a disagreement, raised alike everywhere, is said once, by rank 0), then
    ``MPI_Abort`` (exit status 1; 130 for Ctrl-C, or an exception whose ``exit_status`` says
    so: the command line's interruption). Does not return."""
    code = getattr(exc, "exit_status", None)
    if isinstance(exc, KeyboardInterrupt):
        message, code = "interrupted", 130
    elif code is not None:
        message = " ".join(str(exc).split())
    else:
        text = " ".join((str(exc) or type(exc).__name__).split())
        message, code = f"{type(exc).__name__}: {text}", 1
    if not isinstance(exc, RanksDisagreeError) or comm.rank == 0:
        what = "stopped" if code == 130 else "failed"
        print(f"cw2v: rank {comm.rank} of {comm.size} {what}: {message}; ending the job",
              file=sys.stderr, flush=True)
    try:
        sys.stdout.flush()
        time.sleep(_ABORT_GRACE_S)
    finally:
        comm.abort(code)
    os._exit(code)  # (an abort that returned: a communicator that cannot abort)


def install_excepthook(comm) -> None:
    """Make an exception that escapes the script on this rank end the whole job (``fail``),
    as ``python -m mpi4py`` does, instead of leaving the other ranks waiting for it."""
    previous = sys.excepthook

    def hook(kind, value, traceback):
        if issubclass(kind, SystemExit):
            previous(kind, value, traceback)
            return
        previous(kind, value, traceback)
        fail(comm, value)

    sys.excepthook = hook
