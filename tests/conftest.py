"""Shared fixtures: the kernel copies this CPU can run, and the data in ../shared."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from cw2v import _simd

# The repo's sibling folder shared/data holds the corpora and evaluation sets; a checkout
# outside this workplace has none, and the tests that need it skip saying so.
SHARED_DATA = Path(os.environ.get("CW2V_SHARED_DATA",
                                  Path(__file__).resolve().parents[1].parent / "shared" / "data"))

KERNELS = _simd.available_kernels()


@pytest.fixture(params=sorted(KERNELS), ids=lambda level: f"kernel-{level}")
def kernel(request):
    """Each copy of the compiled kernel (baseline, avx2, avx512) that this CPU runs."""
    return KERNELS[request.param]


def shared_file(relative: str) -> Path:
    """A file under ../shared/data, or skip the test with the reason."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"needs {relative} from the shared data folder, not found at {path} "
                    "(set CW2V_SHARED_DATA to its location)")
    return path
