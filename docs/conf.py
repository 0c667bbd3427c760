"""Sphinx configuration for cw2v's documentation site.

Build it with ``python -m sphinx -W -b html docs docs/_build/html`` after ``pip install
".[docs]"``. Nothing is fetched from the network while building (no intersphinx). The API pages
come from the docstrings (autodoc + napoleon, numpydoc style), the command-line page from
``cw2v.cli.build_parser()`` and the parameter tables from ``cw2v.params.PARAMETERS`` (the
``_ext/cw2v_docs.py`` directives), so the site says what the installed code does.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _prefer_installed_cw2v() -> None:
    """``python -m sphinx`` run from the checkout's root puts the source tree first on
    ``sys.path``; without its compiled kernel (a plain ``pip install .``) that copy cannot be
    imported, so take the installed one instead."""
    built = [p for pattern in ("_kernel_base*.so", "_kernel_base*.pyd")
             for p in (ROOT / "cw2v").glob(pattern)]
    if not built:
        sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT]


_prefer_installed_cw2v()
import cw2v

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "cw2v"
author = "cw2v developers"
copyright = "cw2v developers, MIT licence"
release = cw2v.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "cw2v_docs",
]

exclude_patterns = ["_build"]
templates_path: list[str] = []
html_static_path = ["_static"]
html_theme = "pydata_sphinx_theme"
html_title = f"cw2v {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"**": ["sidebar-nav-bs"]}

# No network while building: no intersphinx inventories.
intersphinx_mapping: dict = {}

autodoc_member_order = "bysource"
autodoc_typehints = "none"  # the numpydoc sections say the types
autodoc_default_options: dict = {}
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_use_ivar = True
napoleon_custom_sections = [("Limits and notes", "notes_style")]

default_role = "literal"  # `x` reads as code, as in the docstrings' habit
highlight_language = "text"  # plain `::` blocks (file layouts, shell); code says its language
