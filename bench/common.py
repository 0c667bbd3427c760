"""What the benchmarks share: where the data lives, and a clear exit when it is absent."""
from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

# ../shared/data beside the repository (or CW2V_SHARED_DATA): corpora and evaluation sets.
DATA = Path(os.environ.get("CW2V_SHARED_DATA",
                           Path(__file__).resolve().parents[1].parent / "shared" / "data"))


def require_data(*paths: Path) -> None:
    """Exit with a message naming what is missing when the shared data is not there."""
    for path in paths or (DATA,):
        if not Path(path).exists():
            sys.exit(f"benchmark data not found: {path}\n"
                     "These benchmarks read ../shared/data beside the repository "
                     "(or set CW2V_SHARED_DATA).")


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (else platform.processor()), for every figure."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"
