#!/usr/bin/env bash
# The many-core run: per-epoch speed at 2 and 16 workers (does a run slow down as it goes on?),
# then thread scaling 1..16 side by side with gensim.
#
#   bash bench/many_core.sh [CORPUS] [OUT_DIR]
#
# CORPUS defaults to ../shared/data/corpus/wiki8.txt.xz; cw2v must be built in place (or
# installed) and gensim importable. Everything printed is also written to OUT_DIR/many_core.txt.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CORPUS="${1:-$HERE/../../shared/data/corpus/wiki8.txt.xz}"
OUT="${2:-.}"
PY="${PYTHON:-python3}"
export PYTHONUNBUFFERED=1
{
  echo "== $(date -u +%FT%TZ) $(nproc) CPUs"
  echo "== per epoch, exact, 2 workers, 4 epochs (lr 0.025 -> 1e-4)"
  "$PY" "$HERE/diagnose_epochs.py" --corpus "$CORPUS" --workers 2 --epochs 4 --no-stats
  for mode in exact batched; do
    echo "== per epoch, $mode, 16 workers, 2 epochs"
    "$PY" "$HERE/diagnose_epochs.py" --corpus "$CORPUS" --workers 16 --epochs 2 --no-stats \
      --mode "$mode"
  done
  echo "== scaling, 1 epoch a run"
  "$PY" "$HERE/bench_scaling.py" --corpus "$CORPUS" --workers 1,2,4,8,16 --epochs 1
} 2>&1 | tee "$OUT/many_core.txt"
