"""Type stub of cw2v._kernel_avx512: the same kernel as cw2v._kernel_base, compiled for AVX-512 (F, VL, BW, DQ)."""
from cw2v._kernel_base import *
