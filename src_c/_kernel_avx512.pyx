"""cw2v's word2vec kernel compiled for AVX-512 (F, VL, BW, DQ); cw2v._simd picks the copy the CPU runs best.

The code is in kernel.pxi; this file only names the copy (setup.py sets its compiler flags).
"""
include "kernel.pxi"
