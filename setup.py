"""Build the cw2v extension: Cython kernel in src_c/, Python package in cw2v/.

Compiler flags are picked per compiler; wheels stay portable (no -march=native). Two switches,
read from the environment at build time:

* ``CW2V_DEBUG=1``  -- Cython bounds/wraparound checks on, -O0 -g: for a debug run of the tests.
* ``CW2V_NATIVE=1`` -- opt-in -march=native for a local build only (never set for wheels).
"""
import os

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

DEBUG = os.environ.get("CW2V_DEBUG", "") not in ("", "0")
NATIVE = os.environ.get("CW2V_NATIVE", "") not in ("", "0")

# The one place for Cython directives.
DIRECTIVES = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "cdivision": not DEBUG,
    "nonecheck": False,
    "embedsignature": True,
    "freethreading_compatible": True,
}


class BuildExt(build_ext):
    """Pick optimisation flags by compiler family (GCC/Clang vs MSVC)."""

    def build_extensions(self):
        if self.compiler.compiler_type == "msvc":
            flags = ["/Od", "/Zi"] if DEBUG else ["/O2", "/fp:contract"]
        else:
            flags = ["-O0", "-g"] if DEBUG else ["-O3", "-fno-math-errno", "-fno-trapping-math"]
            flags += ["-Wno-unreachable-code", "-Wno-unused-function"]
            if NATIVE:
                flags.append("-march=native")
        for ext in self.extensions:
            ext.extra_compile_args = flags + list(ext.extra_compile_args)
        super().build_extensions()


extensions = [
    Extension(
        "cw2v._kernel",
        sources=["src_c/_kernel.pyx"],
        include_dirs=[np.get_include(), "src_c"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_2_0_API_VERSION")],
        depends=["src_c/vecops.pxd", "src_c/vecops.h"],
    )
]

setup(
    ext_modules=cythonize(extensions, compiler_directives=DIRECTIVES, include_path=["src_c"]),
    cmdclass={"build_ext": BuildExt},
)
