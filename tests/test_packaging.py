"""The package as shipped: kernel copies, type stubs, data files and metadata.

CI runs this against the installed wheel with ``CW2V_EXPECT_INSTALLED=1``, which turns on the
checks that only hold for an install (cw2v imported from outside the checkout, every kernel copy
present, distribution metadata). Without it, the remaining checks also pass on an in-place build.
"""
from __future__ import annotations

import ast
import importlib
import importlib.metadata
import importlib.util
import inspect
import os
import platform
from importlib import resources
from pathlib import Path
from types import ModuleType

import pytest

import cw2v
from cw2v import _kernel_base, _simd

REPO = Path(__file__).resolve().parents[1]
PACKAGE = Path(cw2v.__file__).resolve().parent
EXPECT_INSTALLED = os.environ.get("CW2V_EXPECT_INSTALLED", "") not in ("", "0")
X86_64 = platform.machine().lower() in ("x86_64", "amd64")

installed_only = pytest.mark.skipif(
    not EXPECT_INSTALLED, reason="checks an installed cw2v; set CW2V_EXPECT_INSTALLED=1")


def expected_levels() -> list[str]:
    """The kernel copies this CPU should get from a wheel: all up to its level on x86-64."""
    if not X86_64:
        return ["baseline"]
    return list(_simd.LEVELS[: _kernel_base.cpu_level() + 1])


def public_names(module: ModuleType) -> set[str]:
    return {name for name in dir(module)
            if not name.startswith("_") and not isinstance(getattr(module, name), ModuleType)}


@installed_only
def test_imported_from_the_install_not_the_checkout():
    assert not PACKAGE.is_relative_to(REPO), (
        f"cw2v was imported from {PACKAGE}, inside the checkout {REPO}: the tests are not "
        "running against the installed package")


@installed_only
def test_every_kernel_copy_for_this_cpu_imports():
    for level in expected_levels():
        # Imported directly: _simd.available_kernels() would quietly skip a broken copy.
        module = importlib.import_module(f"cw2v.{_simd._MODULES[level]}")
        assert Path(module.__file__).resolve().parent == PACKAGE
    if X86_64:
        # The wheel carries every copy, also those this CPU cannot run.
        for name in _simd._MODULES.values():
            assert importlib.util.find_spec(f"cw2v.{name}") is not None, f"cw2v.{name} missing"
    if not os.environ.get("CW2V_SIMD"):
        assert _simd.kernel.compiled_level() == expected_levels()[-1]


def test_each_kernel_copy_is_compiled_for_its_level():
    # The instruction-set flags reached the compiler: each copy reports the level it is named for.
    for level, module in _simd.available_kernels().items():
        assert module.compiled_level() == level


@installed_only
def test_metadata():
    meta = importlib.metadata.metadata("cw2v")
    assert meta["Version"] == cw2v.__version__
    assert meta["License-Expression"] == "MIT"
    assert any(req.startswith("numpy") for req in meta.get_all("Requires-Dist"))
    scripts = importlib.metadata.entry_points(group="console_scripts")
    assert "cw2v" in scripts.names


def test_typed_marker_and_data_files():
    assert (PACKAGE / "py.typed").is_file()
    assert resources.files("cw2v.data").joinpath("tiny_corpus.txt").is_file()


def _stub_functions(path: Path) -> dict[str, list[str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name: [a.arg for a in node.args.args]
            for node in tree.body if isinstance(node, ast.FunctionDef)}


def _stub_all(path: Path) -> set[str]:
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "__all__"
                                                for t in node.targets):
            return set(ast.literal_eval(node.value))
    raise AssertionError(f"{path.name} has no __all__")


def test_stubs_match_the_compiled_kernel():
    stub = PACKAGE / "_kernel_base.pyi"
    assert _stub_all(stub) == public_names(_kernel_base), "stub and kernel differ in names"
    for name, params in _stub_functions(stub).items():
        signature = inspect.signature(getattr(_kernel_base, name))
        assert params == list(signature.parameters), f"{name}: stub parameters differ"
    # The other copies' stubs re-export the baseline's.
    for level in ("avx2", "avx512"):
        text = (PACKAGE / f"_kernel_{level}.pyi").read_text(encoding="utf-8")
        assert "from cw2v._kernel_base import *" in text
