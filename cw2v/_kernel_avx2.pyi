"""Type stub of cw2v._kernel_avx2: the same kernel as cw2v._kernel_base, compiled for AVX2 + FMA."""
from cw2v._kernel_base import *
