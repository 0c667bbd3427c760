"""Runtime dispatch: import the copy of the word2vec kernel built for the widest instruction set
the CPU supports (AVX-512, AVX2 + FMA, or the platform baseline).

Set ``CW2V_SIMD=baseline|avx2|avx512`` to cap the level (for benchmarks and tests); a level the
CPU lacks, or a copy this build does not have, falls back to the next lower one.
"""
from __future__ import annotations

import importlib
import logging
import os
from types import ModuleType

from . import _kernel_base

log = logging.getLogger(__name__)

LEVELS = ("baseline", "avx2", "avx512")
# The vector width of each level, in bytes: weight rows start on this boundary (cw2v._rows).
_ROW_BYTES = {"baseline": 16, "avx2": 32, "avx512": 64}
_MODULES = {"baseline": "_kernel_base", "avx2": "_kernel_avx2", "avx512": "_kernel_avx512"}


def available_kernels() -> dict[str, ModuleType]:
    """Every kernel copy this build has and this CPU can run, by level name."""
    cpu = _kernel_base.cpu_level()
    found = {}
    for rank, level in enumerate(LEVELS):
        if rank > cpu:
            break
        try:
            found[level] = importlib.import_module(f"cw2v.{_MODULES[level]}")
        except ImportError:
            continue
    return found


def select_kernel(cap: str | None = None) -> ModuleType:
    """The kernel copy to use: the widest available, capped at ``cap`` (a name in LEVELS)."""
    if cap is not None and cap not in LEVELS:
        raise ValueError(f"CW2V_SIMD must be one of {', '.join(LEVELS)}, got {cap!r}")
    found = available_kernels()
    allowed = LEVELS if cap is None else LEVELS[: LEVELS.index(cap) + 1]
    level = [lv for lv in allowed if lv in found][-1]
    log.debug("cw2v kernel: %s", level)
    return found[level]


kernel = select_kernel(os.environ.get("CW2V_SIMD") or None)


def row_bytes(module: ModuleType | None = None) -> int:
    """The vector width, in bytes, of a kernel copy (default: the one in use), on which
    ``cw2v._rows`` starts the weights' rows."""
    return _ROW_BYTES[(module or kernel).compiled_level()]
