"""The public API is a promise: the documented modules load from ``import cw2v``, and no public
name disappears without a deprecated alias.

The public API is ``cw2v.__all__`` and, for each module that the API page (docs/api.rst)
documents, its ``__all__`` or else the names without a leading underscore that it defines at
top level (loggers aside), and the public attributes of every such class. ``PUBLIC_API``
(tests/public_api.txt) lists them, one dotted name a line. A name in the list that is gone
fails (a rename keeps the old name as an alias raising DeprecationWarning); a public name that
is not in the list fails too, so that a new name joins the list on purpose.
"""
from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import logging
import os
import re
import subprocess
import sys
import types
import warnings
from pathlib import Path

import pytest

import cw2v

HERE = Path(__file__).resolve().parent
API_PAGE = HERE.parent / "docs" / "api.rst"
PUBLIC_API = HERE / "public_api.txt"
PACKAGE = Path(cw2v.__file__).resolve().parent

needs_api_page = pytest.mark.skipif(not API_PAGE.is_file(), reason=f"no {API_PAGE}")


def documented_modules() -> list[str]:
    """The submodules that docs/api.rst documents (``.. automodule:: cw2v.NAME``), in order."""
    if not API_PAGE.is_file():
        return []
    found = re.findall(r"^\.\. automodule:: cw2v\.(\w+)\s*$",
                       API_PAGE.read_text(encoding="utf-8"), re.M)
    return list(dict.fromkeys(found))


def module_names(module: types.ModuleType) -> list[str]:
    """``__all__``, or else the public names the module's source binds at top level."""
    if hasattr(module, "__all__"):
        return list(module.__all__)
    names = []
    for node in ast.parse(Path(module.__file__).read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
    return [n for n in dict.fromkeys(names) if not n.startswith("_")
            and not isinstance(getattr(module, n, None), logging.Logger)]


def class_members(cls: type) -> set[str]:
    """Public attributes a cw2v class defines or inherits from another cw2v class (methods,
    properties, class attributes, dataclass fields); not those of builtins such as Exception."""
    names = {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set()
    for base in cls.__mro__:
        if base.__module__.split(".")[0] == "cw2v":
            names.update(vars(base))
    return {n for n in names if not n.startswith("_")}


def public_api() -> set[str]:
    """Every public name of the package as it stands, dotted (``cw2v.trainer.EpochStats.words``)."""
    modules = [("cw2v", cw2v)] + [(f"cw2v.{name}", importlib.import_module(f"cw2v.{name}"))
                                  for name in documented_modules()]
    api = set()
    for prefix, module in modules:
        for name in module_names(module):
            api.add(f"{prefix}.{name}")
            obj = getattr(module, name, None)
            if inspect.isclass(obj) and obj.__module__.split(".")[0] == "cw2v":
                api.update(f"{prefix}.{name}.{member}" for member in class_members(obj))
    return api


def listed() -> list[str]:
    lines = PUBLIC_API.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def still_there(dotted: str) -> bool:
    """Whether ``cw2v.module.Name[.member]`` can still be reached (an alias counts)."""
    parts = dotted.split(".")
    module_parts = 2 if len(parts) > 1 and parts[1] in documented_modules() else 1
    try:
        obj = importlib.import_module(".".join(parts[:module_parts]))
    except ImportError:
        return False
    for i, part in enumerate(parts[module_parts:]):
        if inspect.isclass(obj) and i == len(parts) - module_parts - 1:
            return part in class_members(obj) or hasattr(obj, part)
        if not hasattr(obj, part):
            return False
        obj = getattr(obj, part)
    return True


@needs_api_page
def test_the_api_page_documents_modules():
    # The parsing below is what the other tests rest on: it must find the page's modules.
    assert {"corpus", "phrases", "trainer", "params"} <= set(documented_modules())


@needs_api_page
@pytest.mark.parametrize("name", documented_modules())
def test_documented_module_loads_from_the_package(name):
    # The package's lazy hook itself, whether or not another import already loaded the module.
    assert name in dir(cw2v)
    assert cw2v.__getattr__(name) is importlib.import_module(f"cw2v.{name}")


@needs_api_page
def test_documented_modules_load_lazily_in_a_fresh_interpreter(tmp_path):
    names = documented_modules()
    code = ("import sys, cw2v\n"
            f"for name in {names!r}:\n"
            "    module = getattr(cw2v, name, None)\n"
            "    print(name, module is sys.modules.get(f'cw2v.{name}') is not None)\n")
    env = dict(os.environ, PYTHONPATH=str(PACKAGE.parent))  # the cw2v under test
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path, env=env, check=True).stdout
    assert out.split() == [w for name in names for w in (name, "True")]


def test_epoch_stats_raw_words_is_a_deprecated_alias_of_words():
    stats = cw2v.EpochStats(epoch=1, loss=2.0, pairs=3, words=40, kept_words=30, seconds=1.0,
                            lr=0.01)
    with pytest.warns(DeprecationWarning, match="words"):
        assert stats.raw_words == 40
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert stats.words == 40


@needs_api_page
def test_no_public_name_disappears():
    gone = [name for name in listed() if not still_there(name)]
    assert not gone, ("public names gone (keep each as an alias raising DeprecationWarning): "
                      + ", ".join(gone))


@needs_api_page
def test_every_public_name_is_listed():
    new = sorted(public_api() - set(listed()))
    assert not new, (f"public names not in {PUBLIC_API.name} (add them there on purpose, or "
                     "give them a leading underscore):\n" + "\n".join(new))


def test_the_list_is_sorted_and_unique():
    names = listed()
    assert names == sorted(set(names))
