"""The documentation's examples run: every ``>>>`` in docs/*.rst and in cw2v's docstrings."""
from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import cw2v

DOCS = Path(__file__).resolve().parents[1] / "docs"
README = DOCS.parent / "README.md"
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
PAGES = sorted(DOCS.glob("*.rst")) if DOCS.is_dir() else []
MODULES = sorted(m.name for m in pkgutil.iter_modules(cw2v.__path__)
                 if not m.name.startswith("_"))


@pytest.mark.skipif(not PAGES, reason=f"no documentation sources at {DOCS}")
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_examples(page, tmp_path, monkeypatch):
    # A page whose examples need an optional package says so in a comment, ``.. requires: X``
    # (the wheels built without gensim or matplotlib skip it).
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith(".. requires:"):
            for module in line.split(":", 1)[1].split():
                pytest.importorskip(module)
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    result = doctest.testfile(str(page), module_relative=False, optionflags=FLAGS,
                              verbose=False, report=True)
    assert result.failed == 0, f"{result.failed} example(s) of {page.name} failed (see above)"
    assert result.attempted > 0 or ">>>" not in page.read_text(encoding="utf-8")


@pytest.mark.skipif(not PAGES, reason=f"no documentation sources at {DOCS}")
def test_every_page_of_the_site_runs_its_examples_here():
    # The pages the site's table of contents lists are the pages collected above.
    index = (DOCS / "index.rst").read_text(encoding="utf-8")
    listed = re.findall(r"^   ([a-z][\w-]*)\s*$", index, re.M)  # toctree entries
    assert {"getting-started", "phrases", "performance", "api"} <= set(listed)
    assert {f"{name}.rst" for name in listed} <= {page.name for page in PAGES}


@pytest.mark.skipif(not README.is_file(), reason=f"no {README}")
def test_readme_is_a_landing_page():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250
    # .ci/run runs the second line of the first code block: the two commands stay first.
    first_block = text.split("```")[1].splitlines()
    assert first_block[1:] == ["pip install . && cw2v demo", 'pip install ".[test]" && pytest']


@pytest.mark.skipif(not (README.is_file() and PAGES), reason="no README.md or docs")
def test_every_figure_of_the_readme_is_in_performance_rst():
    # docs/performance.rst is the one home of the figures: the README quotes, never adds.
    figures = re.findall(r"\d[\d,.]*\d(?:k|x| s)\b|\d\.\d{3,4}\b",
                         README.read_text(encoding="utf-8"))
    performance = (DOCS / "performance.rst").read_text(encoding="utf-8")
    assert len(figures) > 10
    assert not [f for f in figures if f not in performance]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(f"cw2v.{name}")
    result = doctest.testmod(module, optionflags=FLAGS, verbose=False, report=True)
    assert result.failed == 0, f"{result.failed} example(s) in cw2v.{name} failed"
