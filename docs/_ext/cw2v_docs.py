"""Sphinx directives that generate cw2v's reference tables from the code itself.

``.. cw2v-cli::``
    The ``cw2v`` command's ``--help`` and each subcommand's, from ``cw2v.cli.build_parser()``.
``.. cw2v-parameters::``
    The training parameters (``cw2v.params.PARAMETERS``): default, allowed values, help.
``.. cw2v-gensim-names::``
    gensim's ``Word2Vec`` arguments and the cw2v parameter each becomes.
``.. cw2v-word2vec-flags::``
    word2vec.c's flags and the ``cw2v train`` option each becomes (``cw2v.cli.WORD2VEC_FLAGS``).
``.. cw2v-fasttext-flags::``
    fastText's flags, the cw2v parameter each sets and fastText's default
    (``cw2v.cli.FASTTEXT_FLAGS``, ``FASTTEXT_DEFAULTS``, ``FASTTEXT_UNSUPPORTED``).

Docstrings that carry reStructuredText section titles (``Title`` over ``-----``) are turned
into rubrics, since a title cannot sit inside an autodoc directive.
"""
from __future__ import annotations

import argparse
import os
import re

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

_UNDERLINE = re.compile(r"^([-=~^\"'`#*+])\1{2,}\s*$")


def _table(header: list[str], rows: list[list[str]], widths: list[int]) -> list[str]:
    lines = [".. list-table::", "   :header-rows: 1",
             f"   :widths: {' '.join(map(str, widths))}", ""]
    for row in [header, *rows]:
        lines.append(f"   * - {row[0]}")
        lines.extend(f"     - {cell}" for cell in row[1:])
    return lines


class _Generated(SphinxDirective):
    has_content = False

    def lines(self) -> list[str]:
        raise NotImplementedError

    def run(self) -> list[nodes.Node]:
        container = nodes.container()
        self.state.nested_parse(StringList(self.lines(), source="cw2v_docs"),
                                self.content_offset, container)
        return container.children


def _literal(value) -> str:
    return "``" + repr(value) + "``"


class ParametersDirective(_Generated):
    def lines(self) -> list[str]:
        from cw2v import params

        rows = [[f"``{p.name}``", _literal(p.default), p.check.describe(), p.stage,
                 p.help.replace("*", r"\*")] for p in params.PARAMETERS]
        return _table(["parameter", "default", "allowed", "fixed at", "meaning"], rows,
                      [12, 10, 18, 8, 52])


class GensimNamesDirective(_Generated):
    def lines(self) -> list[str]:
        from cw2v import params

        rows = [[f"``{p.gensim or p.name}``", f"``{p.name}``", p.help.replace("*", r"\*")]
                for p in params.PARAMETERS if p.name != "mode"]
        from cw2v.interop import GENSIM_OBJECTIVES

        for (sg, hs), refused in GENSIM_OBJECTIVES.items():
            what = "continued by ``Word2Vec.from_gensim``" if refused is None else (
                f"refused by ``Word2Vec.from_gensim``: {refused}")
            rows.append([f"``sg={sg}, hs={hs}``", "(the objective)", what])
        return _table(["gensim Word2Vec", "cw2v", "meaning"], rows, [25, 20, 55])


class Word2VecFlagsDirective(_Generated):
    def lines(self) -> list[str]:
        from cw2v import cli

        rows = []
        for flag, option in cli.WORD2VEC_FLAGS.items():
            if option is not None:
                rows.append([f"``{flag} VALUE``", f"``{option} VALUE``"])
            else:
                try:
                    out = cli.translate_word2vec_flags([flag, "0"])
                    meaning = f"``{flag} 0``: " + (" ".join(out) or "accepted, no effect")
                except cli.UsageError as exc:
                    meaning = str(exc)
                if flag == "-binary":
                    meaning = "``-binary 1``: ``--binary``; ``-binary 0``: text (the default)"
                rows.append([f"``{flag} VALUE``", meaning])
        return _table(["word2vec.c", "cw2v train"], rows, [25, 75])


class FastTextFlagsDirective(_Generated):
    def lines(self) -> list[str]:
        from cw2v import cli

        rows = [["``-input FILE``", "the corpus", "(required)"],
                ["``-output OUTPUT``", "writes ``OUTPUT.bin`` and ``OUTPUT.vec``", "(required)"]]
        for flag, name in cli.FASTTEXT_FLAGS.items():
            default = "12 (cw2v: every core)" if name == "workers" else _literal(
                cli.FASTTEXT_DEFAULTS[name])
            rows.append([f"``{flag} VALUE``", f"``{name}``", default])
        rows.append(["``-loss ns|hs``", "``ns``: ``hs=0``; ``hs``: ``hs=1, n_neg=0``",
                     "``'ns'``"])
        rows.append(["``-verbose 0|1|2``", "0 quiet, 1 log, 2 log and progress bar", "``2``"])
        rows.append(["(no flag)", "``min_lr``: the rate decays to 0, as fastText's",
                     _literal(cli.FASTTEXT_DEFAULTS["min_lr"])])
        for flag, why in cli.FASTTEXT_UNSUPPORTED.items():
            rows.append([f"``{flag} VALUE``", f"refused: {why}", ""])
        return _table(["fastText", "cw2v parameter", "default"], rows, [25, 50, 25])


class CliDirective(_Generated):
    def lines(self) -> list[str]:
        from cw2v import cli

        saved = os.environ.get("COLUMNS")
        os.environ["COLUMNS"] = "96"  # argparse wraps to the terminal: the same site everywhere
        try:
            parser = cli.build_parser()
            out = ["``cw2v --help``:", "", ".. code-block:: text", ""]
            out += ["   " + line for line in parser.format_help().splitlines()]
            subparsers = next(a for a in parser._actions
                              if isinstance(a, argparse._SubParsersAction))
            for name, sub in subparsers.choices.items():
                out += ["", f".. rubric:: cw2v {name}", "", ".. code-block:: text", ""]
                out += ["   " + line for line in sub.format_help().splitlines()]
        finally:
            if saved is None:
                del os.environ["COLUMNS"]
            else:
                os.environ["COLUMNS"] = saved
        return out


def _titles_to_rubrics(app, what, name, obj, options, lines: list[str]) -> None:
    """Turn ``Title`` / ``-----`` pairs in a docstring (other than numpydoc's own sections)
    into ``.. rubric:: Title``."""
    numpydoc_sections = {"parameters", "returns", "yields", "raises", "notes", "examples",
                         "attributes", "see also", "references", "warns", "other parameters",
                         "methods", "warnings", "receives"}
    i = 1
    while i < len(lines):
        title = lines[i - 1].strip()
        if (_UNDERLINE.match(lines[i]) and title and len(lines[i].strip()) >= len(title)
                and title.lower() not in numpydoc_sections):
            lines[i - 1:i + 1] = [f".. rubric:: {title}", ""]
        i += 1


def setup(app):
    app.add_directive("cw2v-cli", CliDirective)
    app.add_directive("cw2v-parameters", ParametersDirective)
    app.add_directive("cw2v-gensim-names", GensimNamesDirective)
    app.add_directive("cw2v-word2vec-flags", Word2VecFlagsDirective)
    app.add_directive("cw2v-fasttext-flags", FastTextFlagsDirective)
    app.connect("autodoc-process-docstring", _titles_to_rubrics, priority=400)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
