"""Distributed training under a real MPI launcher: ``mpiexec -n 2`` (and ``-n 4``, more processes
than this machine's cores: mpich oversubscribes without a flag) running ``cw2v train
--distributed`` and small scripts. The shared vocabulary, MPIComm's all-reduce, a trained model's
quality against one process, a rank that raises or is killed ending the job, a resumed run.

Skipped when mpi4py or ``mpiexec`` (beside this Python, as ``pip install mpich`` puts it, or on
PATH) is missing; the in-process pieces (shards, the merge, checkpoints) are tested without it.
"""
from __future__ import annotations

import json
import lzma
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import cw2v
from cw2v import Word2Vec, _shard, evaluate
from cw2v import corpus as corpus_io
from cw2v._files import open_input
from cw2v.comm import LocalGroup

from conftest import shared_file

PACKAGE_PARENT = str(Path(cw2v.__file__).resolve().parent.parent)
LAUNCHER_VARIABLES = ("PMI_RANK", "PMI_SIZE", "PMIX_RANK", "OMPI_COMM_WORLD_SIZE",
                      "OMPI_COMM_WORLD_RANK", "MPI_LOCALNRANKS", "MV2_COMM_WORLD_RANK",
                      "SLURM_PROCID")


def find_mpiexec() -> str | None:
    """``mpiexec`` beside this Python (a venv with the mpich wheel), else on PATH."""
    beside = Path(sys.executable).parent / "mpiexec"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("mpiexec")


def _mpi_missing() -> str | None:
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return "mpi4py is not installed (pip install \"cw2v[mpi]\")"
    if find_mpiexec() is None:
        return "no mpiexec beside this Python nor on PATH (pip install mpich)"
    return None


needs_mpi = pytest.mark.skipif(_mpi_missing() is not None, reason=str(_mpi_missing()))


def clean_env() -> dict:
    """This environment with PYTHONPATH at the cw2v under test and no launcher's variables
    (a test run itself under mpiexec must not look launched to its children)."""
    env = {k: v for k, v in os.environ.items() if k not in LAUNCHER_VARIABLES}
    env["PYTHONPATH"] = PACKAGE_PARENT
    return env


def mpiexec(n: int, *args, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """``mpiexec -n N python ARGS`` in ``cwd``."""
    return subprocess.run([find_mpiexec(), "-n", str(n), sys.executable, *map(str, args)],
                          cwd=cwd, env=clean_env(), capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def cw2v_train(n: int, *args, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """``mpiexec -n N python -m cw2v train ARGS --distributed`` in ``cwd``."""
    return mpiexec(n, "-m", "cw2v", "train", *args, "--distributed", cwd=cwd, timeout=timeout)


def toy_corpus(n_tokens: int, seed: int = 0) -> bytes:
    """Zipf-like text, lines of 5-30 words: every word's count is known from the bytes."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(400)]
    p = 1.0 / np.arange(1, len(words) + 1)
    ids = rng.choice(len(words), size=n_tokens, p=p / p.sum())
    lines, i = [], 0
    while i < n_tokens:
        k = int(rng.integers(5, 31))
        lines.append(" ".join(words[j] for j in ids[i:i + k]))
        i += k
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(scope="module")
def wiki_cut(tmp_path_factory) -> Path:
    """The first 3 MB of wiki8-1m's text (about 500,000 words), plain."""
    source = shared_file("corpus/wiki8-1m.txt.xz")
    folder = tmp_path_factory.mktemp("wiki")
    path = folder / "wiki.txt"
    with lzma.open(source) as f:
        data = f.read(3_000_000)
    path.write_bytes(data[:data.rfind(b" ") + 1])
    return path


# -- without MPI: shards and the merged vocabulary (in-process ranks) ---------------------------

@pytest.mark.parametrize("size", [1, 2, 3, 4])
@pytest.mark.parametrize("kind", ["plain", "xz", "folder"])
def test_shards_cover_the_corpus_once(tmp_path, kind, size):
    """Every token of the corpus is in exactly one rank's shard, whatever the split: byte
    ranges of one plain file, dealt blocks of a compressed one, whole files of a folder."""
    data = toy_corpus(60_000)
    if kind == "folder":
        lines = data.splitlines(keepends=True)
        for i in range(7):
            (tmp_path / f"part{i}.txt").write_bytes(b"".join(lines[i::7]))
        paths = [str(p) for p in sorted(tmp_path.iterdir())]
    else:
        path = tmp_path / ("c.txt.xz" if kind == "xz" else "c.txt")
        path.write_bytes(lzma.compress(data) if kind == "xz" else data)
        paths = [str(path)]
    seen = Counter()
    for rank in range(size):
        for item in _shard.shard(paths, rank, size):
            with open_input(item) as f:  # (a whole file is the rank's: decompressed)
                seen.update(f.read().split())
    assert seen == Counter(data.split())


def test_shared_vocabulary_is_the_corpus_vocabulary(tmp_path):
    """Two in-process ranks build the same vocabulary (words, ids, counts) as each other, with
    the counts of the whole corpus; their shards together are the one-process encoding."""
    path = tmp_path / "c.txt"
    path.write_bytes(toy_corpus(50_000))
    whole, encoded = corpus_io.build(str(path), min_count=3)

    def rank(comm):
        inputs = _shard.shard([str(path)], comm.rank, comm.size)
        return _shard.build_shared(comm, inputs, min_count=3, max_vocab=None,
                                   max_vocab_size=None, encoding="utf-8", errors="strict",
                                   cache_dir=tmp_path / "cache", workers=1, progress=False)

    (v0, e0), (v1, e1) = LocalGroup(2).run(rank)
    assert v0.words == v1.words and np.array_equal(v0.counts, v1.counts)
    assert dict(zip(v0.words, v0.counts.tolist())) == dict(zip(whole.words,
                                                               whole.counts.tolist()))
    assert v0.total_words == whole.total_words
    ids = np.concatenate([e0.read(0, e0.tokens.shape[0]), e1.read(0, e1.tokens.shape[0])])
    words = [v0.words[i] for i in ids]
    assert words == [whole.words[i] for i in encoded.tokens]


def test_ranks_that_disagree_refuse_to_start(tmp_path):
    """Ranks given other settings stop before reading the corpus, saying what differs."""
    path = tmp_path / "c.txt"
    path.write_bytes(toy_corpus(5_000))

    def rank(comm):
        return Word2Vec.from_corpus(str(path), distributed=comm, epochs=1, workers=1,
                                    window=5 + comm.rank, cache_dir=False)

    with pytest.raises(cw2v.comm.RankError, match="disagree on the settings"):
        LocalGroup(2).run(rank)


@pytest.mark.parametrize("hs", [0, 1])
def test_default_sync_period_follows_the_number_of_ranks(tmp_path, monkeypatch, hs):
    """from_corpus(distributed=...) without sync_tokens combines every
    default_sync_tokens(K, hs) tokens, as train_rank does (it once used the K=2 period at
    every K)."""
    path = tmp_path / "c.txt"
    path.write_bytes(toy_corpus(4_000))
    seen = []
    train_rank = cw2v.distributed.train_rank

    def spy(model, encoded, comm, **kwargs):
        seen.append(kwargs["sync_tokens"])
        return train_rank(model, encoded, comm, **kwargs)

    monkeypatch.setattr(cw2v.distributed, "train_rank", spy)
    LocalGroup(8).run(lambda comm: Word2Vec.from_corpus(
        str(path), distributed=comm, epochs=1, workers=1, min_count=1, cache_dir=False, hs=hs,
        n_neg=0 if hs else 5))
    assert seen == [cw2v.distributed.default_sync_tokens(8, hs=bool(hs))] * 8
    assert seen[0] == (12_500 if hs else 50_000)


def test_distributed_outside_mpiexec_is_one_line(tmp_path):
    """``cw2v train --distributed`` started without a launcher says in one line how to start
    it, before reading anything."""
    (tmp_path / "c.txt").write_bytes(toy_corpus(1_000))
    result = subprocess.run([sys.executable, "-m", "cw2v", "train", "c.txt", "-o", "v.txt",
                             "--distributed"], cwd=tmp_path, env=clean_env(),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("cw2v: error: "), result.stderr
    assert "mpiexec -n 4 cw2v train c.txt -o v.txt --distributed" in lines[0]
    assert not (tmp_path / "v.txt").exists()


# -- under mpiexec ----------------------------------------------------------------------------

RANK_SCRIPT = r'''
import json, sys
import numpy as np
from cw2v import _mpi, _shard
comm = _mpi.world()
# MPIComm's all-reduce against NumPy's sum of every rank's buffer (each rank makes them all)
bufs = [np.random.default_rng(r).integers(-1000, 1000, size=(37, 5)) for r in range(comm.size)]
ints = bufs[comm.rank].astype(np.int64).copy()
comm.allreduce_sum(ints)
floats = bufs[comm.rank].astype(np.float32) / 8  # (exact binary fractions: any order sums alike)
comm.allreduce_sum(floats)
out = {"rank": comm.rank, "size": comm.size,
       "ints": bool(np.array_equal(ints, np.sum(bufs, axis=0))),
       "floats": bool(np.array_equal(floats, np.sum(bufs, axis=0).astype(np.float32) / 8)),
       "gather": comm.allgather(comm.rank * 10), "bcast": comm.bcast(comm.rank + 7, root=1)}
for name in sys.argv[1:]:
    paths = _shard.files_of(name, "utf-8", "strict")
    vocab, encoded = _shard.build_shared(
        comm, _shard.shard(paths, comm.rank, comm.size), min_count=2, max_vocab=None,
        max_vocab_size=None, encoding="utf-8", errors="strict", cache_dir=None, workers=1,
        progress=False)
    out[name] = {"words": vocab.words, "counts": vocab.counts.tolist(),
                 "tokens": [vocab.words[i] for i in encoded.read(0, encoded.tokens.shape[0])]}
with open(f"rank{comm.rank}.json", "w") as f:  # (ranks' stdout lines may interleave)
    json.dump(out, f)
'''


@needs_mpi
@pytest.mark.parametrize("n", [2, 4])
def test_allreduce_and_vocabulary_on_every_rank(tmp_path, n):
    """Under ``mpiexec -n N``: the all-reduce equals NumPy's sum, allgather and bcast carry
    objects, and every rank builds the same vocabulary -- the whole corpus's counts -- from
    its own shard, for one plain file, one compressed file and a folder of files."""
    data = toy_corpus(40_000)
    (tmp_path / "one.txt").write_bytes(data)
    (tmp_path / "one.txt.xz").write_bytes(lzma.compress(data))
    (tmp_path / "many").mkdir()
    lines = data.splitlines(keepends=True)
    for i in range(5):
        (tmp_path / "many" / f"{i}.txt").write_bytes(b"".join(lines[i::5]))
    (tmp_path / "ranks.py").write_text(RANK_SCRIPT)
    corpora = ["one.txt", "one.txt.xz", "many"]
    result = mpiexec(n, "ranks.py", *corpora, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    outs = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(n)]
    assert [o["rank"] for o in outs] == list(range(n))
    counts = Counter(data.split())
    for o in outs:
        assert o["ints"] and o["floats"]
        assert o["gather"] == [10 * r for r in range(n)] and o["bcast"] == 8
    for name in corpora:
        first = outs[0][name]
        expected = {w.decode(): c for w, c in counts.items() if c >= 2}
        assert dict(zip(first["words"], first["counts"])) == expected
        assert first["counts"] == sorted(first["counts"], reverse=True)
        shards = []
        for o in outs:
            assert o[name]["words"] == first["words"] and o[name]["counts"] == first["counts"]
            shards += o[name]["tokens"]
        assert Counter(shards) == Counter({w: c for w, c in expected.items()})


@needs_mpi
@pytest.mark.corpus
def test_trained_model_matches_one_process(wiki_cut, tmp_path):
    """``mpiexec -n 2 cw2v train --distributed`` (one worker a rank) writes finite vectors of
    the whole vocabulary whose WordSim-353 is within 0.05 of one process's on the same corpus;
    the output sits beside the corpus, by relative paths."""
    corpus = tmp_path / "wiki.txt"
    shutil.copy(wiki_cut, corpus)
    options = ["--epochs", "3", "--min-count", "5", "--no-cache", "--seed", "1"]
    result = cw2v_train(2, "wiki.txt", "-o", "dist.bin", "--binary", "--workers", "1",
                        "--sync-tokens", "10000", *options, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # (one worker in each run: both are then reproducible, bit for bit, and the comparison is
    # not at the mercy of thread timing, which moves this small corpus's WordSim by ~0.04)
    one = Word2Vec.from_corpus(str(corpus), workers=1, epochs=3, min_count=5, cache_dir=False,
                               seed=1)
    dist = cw2v.load_word2vec_format(tmp_path / "dist.bin", binary=True)
    assert sorted(dist.vocab) == sorted(one.vocab)  # (equal counts may come in other orders)
    assert np.isfinite(dist.vectors).all()
    pairs = shared_file("eval/wordsim353.tsv")
    ws_one = evaluate.word_pairs(one, pairs).spearman
    ws_dist = evaluate.word_pairs(dist, pairs).spearman
    print(f"WordSim-353: one process {ws_one:.3f}, mpiexec -n 2 {ws_dist:.3f}")
    assert abs(ws_dist - ws_one) <= 0.05, (ws_dist, ws_one)
    assert "[rank 1/2]" in result.stderr  # logs say which rank wrote them
    assert "[rank 0/2] epoch 3: " in result.stderr and "words/s over the 2 ranks" in result.stderr


@needs_mpi
def test_rank_that_raises_ends_the_job(tmp_path):
    """A rank whose shard cannot be decoded ends the whole job at once: one line naming the
    rank and the cause, a non-zero exit, no output."""
    (tmp_path / "a.txt").write_bytes(toy_corpus(20_000))
    (tmp_path / "b.txt").write_bytes(b"good words \xff\xfe bad bytes\n")  # (smaller: rank 1's)
    start = time.monotonic()
    result = cw2v_train(2, "a.txt", "b.txt", "-o", "v.txt", "--epochs", "1", "--workers", "1",
                        "--no-cache", cwd=tmp_path, timeout=90)
    assert time.monotonic() - start < 60
    assert result.returncode != 0
    ours = [line for line in result.stderr.splitlines() if line.startswith("cw2v: rank")]
    assert len(ours) == 1, result.stderr
    assert ours[0].startswith("cw2v: rank 1 of 2 failed: CorpusDecodeError") and "b.txt" in ours[0]
    assert not (tmp_path / "v.txt").exists()


@needs_mpi
def test_killed_rank_ends_the_job_and_the_run_resumes(tmp_path):
    """SIGKILL to rank 1 mid-run ends the job within 60 s with a non-zero exit, the launcher
    naming the dead process, which rank 0's log names as rank 1; no output is written. The
    checkpoint rank 0 wrote then resumes at the same number of ranks and finishes; another
    number of ranks is refused, saying why."""
    (tmp_path / "c.txt").write_bytes(toy_corpus(20_000))
    args = [find_mpiexec(), "-n", "2", sys.executable, "-m", "cw2v", "train", "c.txt", "-o",
            "v.txt", "--distributed", "--epochs", "16", "--workers", "1", "--no-cache",
            "--min-count", "1", "--checkpoint", "ck.cw2v", "--checkpoint-every", "0",
            "--sync-tokens", "4000"]
    launcher_log = open(tmp_path / "stdout.log", "w+")  # (hydra reports on stdout)
    proc = subprocess.Popen(args, cwd=tmp_path, env=clean_env(), stdin=subprocess.DEVNULL,
                            stdout=launcher_log, stderr=subprocess.PIPE, text=True)
    try:
        pid, lines = None, []
        for line in proc.stderr:
            lines.append(line)
            if "rank 1: pid " in line:
                pid = int(line.split("rank 1: pid ")[1].split()[0])
            if " epoch 2/" in line:
                break
        assert pid is not None, "".join(lines)
        assert (tmp_path / "ck.cw2v").exists()
        os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        _, rest = proc.communicate(timeout=60)
        assert time.monotonic() - killed < 60
    finally:
        proc.kill()
        proc.wait()
        launcher_log.close()
    assert proc.returncode != 0
    said = rest + (tmp_path / "stdout.log").read_text()
    assert f"PID {pid}" in said, said
    assert not (tmp_path / "v.txt").exists()

    refused = cw2v_train(3, "c.txt", "-o", "v.txt", "--resume", "ck.cw2v", "--workers", "1",
                         "--no-cache", cwd=tmp_path)
    assert refused.returncode != 0
    assert "written by a run of 2 ranks and this job has 3" in refused.stderr
    resumed = cw2v_train(2, "c.txt", "-o", "v.txt", "--resume", "ck.cw2v", "--workers", "1",
                         "--no-cache", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    vectors = cw2v.load_word2vec_format(tmp_path / "v.txt")
    assert np.isfinite(vectors.vectors).all() and len(vectors) == len(Counter(
        (tmp_path / "c.txt").read_bytes().split()))
