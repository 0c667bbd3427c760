"""cw2v's SGNS kernel compiled for AVX-512 (F, VL, BW, DQ); cw2v._simd picks the copy the CPU runs best.

The code is in sgns.pxi; this file only names the copy (setup.py sets its compiler flags).
"""
include "sgns.pxi"
