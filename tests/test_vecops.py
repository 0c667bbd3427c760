"""The C vector primitives (src_c/vecops.h) built three ways: with GCC/Clang vector extensions
(two eight-lane halves), with them for AVX-512 (one sixteen-lane register, the AVX-512 kernel
copy's build), and with the portable sixteen-float struct that MSVC builds get
(CW2V_PORTABLE_VECTORS). All must give the same bits, and must match NumPy's arithmetic."""
from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from cw2v._kernel_base import cpu_level

SRC = Path(__file__).resolve().parent.parent / "src_c"
CC = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")

pytestmark = [
    pytest.mark.skipif(not (SRC / "vecops.h").is_file(), reason="src_c/vecops.h not here"),
    pytest.mark.skipif(CC is None, reason="no C compiler on PATH"),
]

# The AVX-512 kernel copy's flags (setup.py).
AVX512_FLAGS = ["-mavx512f", "-mavx512vl", "-mavx512bw", "-mavx512dq", "-mavx2", "-mfma"]

SIZES = (1, 2, 3, 4, 7, 15, 16, 17, 20, 30, 50, 100)
ROWS = (1, 2, 3, 4, 5, 8, 9)

# For each n and m: the primitives on rows R (m x n, row k of a V x n table), x, h, y, g;
# printed as hex floats, one line per result vector.
PROGRAM = r"""
#include "vecops.h"
#include <stdio.h>

static float value(unsigned k) { return (float)((k * 2654435761u) % 2001u) / 1000.f - 1.f; }
static void put(const char *what, const float *v, ptrdiff_t n)
{
    printf("%s", what);
    for (ptrdiff_t i = 0; i < n; i++) printf(" %a", v[i]);
    printf("\n");
}

int main(void)
{
    static const int sizes[] = {@SIZES@};
    static const int rows_m[] = {@ROWS@};
    enum { V = 12, NMAX = 100 };
    for (unsigned a = 0; a < sizeof sizes / sizeof *sizes; a++)
        for (unsigned b = 0; b < sizeof rows_m / sizeof *rows_m; b++) {
            const int n = sizes[a], m = rows_m[b];
            float W[V * NMAX], x[NMAX], h[NMAX], y[NMAX], out[16], g[16];
            const float *rows[16];
            float *wrows[16];
            int32_t ids[16];
            for (int i = 0; i < V * n; i++) W[i] = value(i + 7 * n + m);
            for (int i = 0; i < n; i++) { x[i] = value(3 * i + 1); h[i] = value(5 * i + 2); y[i] = value(i + 11); }
            for (int k = 0; k < m; k++) {
                ids[k] = (k * 5 + 1) % V;          /* distinct rows for m <= V */
                rows[k] = wrows[k] = W + ids[k] * n;
                g[k] = value(k + 99) * 0.1f;
            }
            printf("case %d %d\n", n, m);
            cw2v_dots(x, rows, m, out, n);
            put("dots", out, m);
            cw2v_combine(g, 1, rows, m, y, n);
            put("combine", y, n);
            cw2v_sum_rows(W, n, ids, m, 0.25f, out[0] > 0 ? y : x, n);
            put("sum_rows", out[0] > 0 ? y : x, n);
            cw2v_hs_update(g, wrows, m, h, y, n);
            put("hs_y", y, n);
            put("hs_rows", W, V * n);
            int32_t again[16];
            for (int k = 0; k < m; k++) again[k] = (k % 3) * 4;   /* rows listed up to 3 times */
            cw2v_add_to_rows(x, W, n, again, m, n);
            put("add_rows", W, V * n);
            float g0[16];                                       /* node 1 skipped: g = 0 */
            for (int k = 0; k < m; k++) g0[k] = k == 1 ? 0.f : g[k];
            cw2v_hs_update_dots(g0, wrows, m, h, y, x, out, n);
            put("hsd_y", y, n);
            put("hsd_rows", W, V * n);
            put("hsd_dots", out, m);
            cw2v_dots(x, rows, m, out, n);
            put("hsd_dots_again", out, m);
        }
    return 0;
}
"""


def build_and_run(tmp_path: Path, variant: str) -> str:
    """The program's output, built as ``vector`` (vector extensions, the compiler's default
    flags), ``avx512`` (vector extensions, AVX-512 flags) or ``portable`` (the struct)."""
    source = PROGRAM.replace("@SIZES@", ", ".join(map(str, SIZES))).replace(
        "@ROWS@", ", ".join(map(str, ROWS)))
    c_file = tmp_path / "vecops_check.c"
    c_file.write_text(source)
    exe = tmp_path / variant
    # No contraction into fused multiply-adds: both builds multiply and add in separate steps
    # (a compiler may contract the two forms differently where the CPU has FMA, e.g. arm64).
    cmd = [CC, "-O2", "-ffp-contract=off", "-fno-math-errno", f"-I{SRC}", str(c_file), "-o",
           str(exe)]
    if variant == "portable":
        cmd.insert(1, "-DCW2V_PORTABLE_VECTORS")
    elif variant == "avx512":
        cmd[1:1] = AVX512_FLAGS
    subprocess.run(cmd, check=True, capture_output=True)
    return subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout


@lru_cache(maxsize=2)
def parse(text: str) -> dict:
    """{(n, m): {name: float32 array}} (parsed once for the 84 cases that read it; they only
    read the arrays)"""
    cases: dict = {}
    for line in text.splitlines():
        head, *vals = line.split()
        if head == "case":
            current = cases[(int(vals[0]), int(vals[1]))] = {}
        else:
            current[head] = np.array([float.fromhex(v) for v in vals], dtype=np.float32)
    return cases


def value(k):
    k = np.asarray(k, dtype=np.uint64)
    return ((k * 2654435761) % (1 << 32) % 2001).astype(np.float32) / np.float32(1000) - 1


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("vecops")
    return build_and_run(tmp, "vector"), build_and_run(tmp, "portable")


def test_vector_extensions_and_portable_struct_give_the_same_bits(outputs):
    vector, portable = outputs
    assert vector == portable


@pytest.mark.skipif(cpu_level() < 2, reason="this CPU cannot run AVX-512 code")
def test_avx512_registers_give_the_same_bits(outputs, tmp_path):
    assert build_and_run(tmp_path, "avx512") == outputs[1]


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("m", ROWS)
def test_primitives_match_numpy(outputs, n, m):
    got = parse(outputs[0])[(n, m)]
    V = 12
    W = value(np.arange(V * n) + 7 * n + m).reshape(V, n).astype(np.float64)
    x = value(3 * np.arange(n) + 1).astype(np.float64)
    h = value(5 * np.arange(n) + 2).astype(np.float64)
    y = value(np.arange(n) + 11).astype(np.float64)
    ids = (np.arange(m) * 5 + 1) % V
    g = value(np.arange(m) + 99).astype(np.float64) * 0.1
    R = W[ids]
    dots = R @ x
    np.testing.assert_allclose(got["dots"], dots, rtol=1e-5, atol=1e-5)
    y = y + g @ R
    np.testing.assert_allclose(got["combine"], y, rtol=1e-5, atol=1e-5)
    if got["dots"][0] > 0:
        y = 0.25 * R.sum(axis=0)
        np.testing.assert_allclose(got["sum_rows"], y, rtol=1e-5, atol=1e-5)
    else:  # (the program wrote the sum over x)
        x = 0.25 * R.sum(axis=0)
        np.testing.assert_allclose(got["sum_rows"], x, rtol=1e-5, atol=1e-5)
    y = y + g @ R                        # the rows before their update
    np.testing.assert_allclose(got["hs_y"], y, rtol=1e-5, atol=1e-5)
    W[ids] += np.outer(g, h)
    np.testing.assert_allclose(got["hs_rows"], W.ravel(), rtol=1e-5, atol=1e-5)
    np.add.at(W, (np.arange(m) % 3) * 4, x)      # a row listed twice gets x twice
    np.testing.assert_allclose(got["add_rows"], W.ravel(), rtol=1e-5, atol=1e-5)
    g[1:2] = 0                                   # a skipped node: its row stays as it is
    y = y + g @ W[ids]
    np.testing.assert_allclose(got["hsd_y"], y, rtol=1e-5, atol=1e-5)
    W[ids] += np.outer(g, h)
    np.testing.assert_allclose(got["hsd_rows"], W.ravel(), rtol=1e-5, atol=1e-5)
    before = got["add_rows"].reshape(V, n)[ids[1:2]]
    assert np.array_equal(got["hsd_rows"].reshape(V, n)[ids[1:2]], before)
    np.testing.assert_allclose(got["hsd_dots"], W[ids] @ x, rtol=1e-5, atol=1e-5)
    if n >= 16:  # (below 16 the program runs the two steps apart: nothing to compare)
        # the fused pass's dot products are the ones cw2v_dots gives on the updated rows, bit
        # for bit
        assert np.array_equal(got["hsd_dots"], got["hsd_dots_again"])
