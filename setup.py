"""Build cw2v: the Cython kernel in src_c/, compiled once per instruction set, and the package.

The kernel (src_c/kernel.pxi) is compiled into one extension per instruction-set level:
``cw2v._kernel_base`` (the platform's baseline, always built), and on x86-64 also
``cw2v._kernel_avx2`` (AVX2 + FMA) and ``cw2v._kernel_avx512`` (AVX-512 F/VL/BW/DQ). At import,
``cw2v._simd`` picks the widest one the CPU supports: portable wheels with wide SIMD, and
``-march=native`` only as an opt-in for local builds (below).

Switches read from the environment at build time:

* ``CW2V_DEBUG=1``   Cython bounds/wraparound checks on, no optimisation, debug symbols.
* ``CW2V_NATIVE=1``  opt-in ``-march=native`` on every copy, for a local comparison build only.
* ``CW2V_SIMD_VARIANTS=0``  build the baseline copy only.
"""
import multiprocessing
import os
import sysconfig

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


def _flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0")


DEBUG = _flag("CW2V_DEBUG")
NATIVE = _flag("CW2V_NATIVE")

# The one place for Cython directives.
DIRECTIVES = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "cdivision": not DEBUG,
    "nonecheck": False,
    "embedsignature": True,
}

# Local comparison builds only, never wheels: opt-in through CW2V_NATIVE=1.
NATIVE_FLAGS = ["-march=native"]  # opt-in (CW2V_NATIVE), GCC/Clang

# Instruction-set flags of each kernel copy, per compiler family.
ISA_FLAGS = {
    "base": {"unix": [], "msvc": []},
    "avx2": {"unix": ["-mavx2", "-mfma"], "msvc": ["/arch:AVX2"]},
    "avx512": {
        "unix": ["-mavx512f", "-mavx512vl", "-mavx512bw", "-mavx512dq", "-mavx2", "-mfma"],
        "msvc": ["/arch:AVX512"],
    },
}


def _target_is_x86_64() -> bool:
    """True when building for x86-64 (honours cibuildwheel's cross-compilation settings)."""
    plat = sysconfig.get_platform().lower()
    archflags = os.environ.get("ARCHFLAGS", "")
    if "universal2" in plat or "arm64" in archflags:
        return False
    return any(tag in plat for tag in ("x86_64", "amd64", "win-amd64")) or plat.endswith("-x86_64")


def _levels() -> list[str]:
    if not _flag("CW2V_SIMD_VARIANTS") and "CW2V_SIMD_VARIANTS" in os.environ:
        return ["base"]
    return ["base", "avx2", "avx512"] if _target_is_x86_64() else ["base"]


def _forks() -> bool:
    """True when multiprocessing starts its workers by fork (Linux before Python 3.14)."""
    return multiprocessing.get_start_method() == "fork"


class BuildExt(build_ext):
    """Pick optimisation and instruction-set flags by compiler family (GCC/Clang vs MSVC), and
    compile the extensions in parallel (one job per CPU, unless ``-j``/``--parallel`` says)."""

    def finalize_options(self):
        super().finalize_options()
        if not self.parallel:
            self.parallel = os.cpu_count() or 1

    def build_extensions(self):
        family = "msvc" if self.compiler.compiler_type == "msvc" else "unix"
        if family == "msvc":
            common = ["/Od", "/Zi"] if DEBUG else ["/O2", "/fp:contract"]
        else:
            # -g0 drops the debug information Python's own CFLAGS (-g) ask for: the same machine
            # code (objdump), a third less compile time, objects an eighth the size.
            common = (["-O0", "-g"] if DEBUG
                      else ["-O3", "-g0", "-fno-math-errno", "-fno-trapping-math"])
            common += ["-Wno-unreachable-code", "-Wno-unused-function"]
            if NATIVE:
                common += NATIVE_FLAGS
        for ext in self.extensions:
            level = ext.name.rsplit("_", 1)[-1]
            isa = ISA_FLAGS[level][family] if level in ISA_FLAGS else []  # one portable copy
            ext.extra_compile_args = common + isa
        super().build_extensions()


extensions = [
    Extension(
        f"cw2v._kernel_{level}",
        sources=[f"src_c/_kernel_{level}.pyx"],
        include_dirs=["src_c"],  # the kernel cimports no numpy: no NumPy headers needed
        depends=["src_c/kernel.pxi", "src_c/kernel_types.pxd", "src_c/vecops.pxd",
                 "src_c/vecops.h"],
    )
    for level in _levels()
]
# The phrase detector (cw2v.phrases): hashing and counting, no SIMD to gain; built once.
extensions.append(Extension("cw2v._text", sources=["src_c/_text.pyx"], include_dirs=["src_c"],
                            depends=["src_c/text_scan.h"]))
# Distributed training's combine step (cw2v.distributed): memory-bound row loops; built once.
extensions.append(Extension("cw2v._combine", sources=["src_c/_combine.pyx"]))

setup(
    # Cython's translation in parallel too, where its worker processes fork (they would run
    # this script again if started afresh).
    ext_modules=cythonize(extensions, compiler_directives=DIRECTIVES, include_path=["src_c"],
                          nthreads=(os.cpu_count() or 1) if _forks() else 0),
    cmdclass={"build_ext": BuildExt},
)
