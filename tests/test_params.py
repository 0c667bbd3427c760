"""The parameter table drives validation, signatures, config and the CLI; the package's shape."""
from __future__ import annotations

import ast
import inspect
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import cw2v
from cw2v import Vectors, Word2Vec, cli, params

SOURCE = Path(cw2v.__file__).parent


BAD_VALUES = [
    ("d", 0), ("d", params.MAX_DIM + 1), ("d", 2.5), ("window", 0),
    ("window", params.MAX_WINDOW + 1), ("min_count", 0), ("max_vocab", 0), ("n_neg", -1),
    ("n_neg", params.MAX_NEG + 1), ("n_neg", 2**30), ("ns_exponent", 1000),
    ("ns_exponent", float("nan")), ("sample", -1e-3), ("sample", 2.0), ("lr", 0),
    ("lr", float("inf")), ("min_lr", -1), ("epochs", 0), ("workers", 0),
    ("workers", params.MAX_WORKERS + 1), ("seed", -1), ("mode", "fast"), ("d", True),
]


@pytest.mark.parametrize("name,value", BAD_VALUES)
def test_resolve_names_the_bad_parameter(name, value):
    with pytest.raises(ValueError, match=name):
        params.resolve({name: value})


def test_resolve_ties_parameters_together():
    with pytest.raises(ValueError, match="min_lr"):
        params.resolve({"lr": 0.01, "min_lr": 0.02})
    with pytest.raises(ValueError, match="batched"):
        params.resolve({"mode": "batched", "window": params.BATCHED_MAX_WINDOW + 1})
    with pytest.raises(ValueError, match="batched"):
        params.resolve({"mode": "batched", "n_neg": params.BATCHED_MAX_NEG + 1})
    with pytest.raises(TypeError, match="windw"):
        params.resolve({"windw": 5})
    assert params.resolve({})["workers"] >= 1


def test_every_row_is_an_option_of_cw2v_train_with_the_same_default():
    parser = cli.build_parser()
    train = parser._subparsers._group_actions[0].choices["train"]
    options = {a.dest: a for a in train._actions}
    for p in params.PARAMETERS:
        assert p.name in options, p.name
        assert options[p.name].default == p.default
        assert params.option(p.name) in options[p.name].option_strings


def test_word2vec_flags_come_from_the_table():
    for p in params.PARAMETERS:
        if p.w2v_flag:
            assert cli.WORD2VEC_FLAGS[p.w2v_flag] == params.option(p.name)
    assert cli.translate_word2vec_flags(["-size", "50", "-negative", "3"]) == [
        "--d=50", "--n-neg=3"]


def test_signatures_and_docstrings_list_the_table():
    sig = inspect.signature(Word2Vec.from_corpus)
    for p in params.PARAMETERS:
        assert sig.parameters[p.name].default == p.default
        assert f"{p.name} : " in Word2Vec.from_corpus.__doc__
    train = inspect.signature(Word2Vec.train)
    assert set(params.names("train")) <= set(train.parameters)
    assert "d" not in train.parameters and "n_neg" not in train.parameters


def test_bad_parameter_fails_before_the_corpus_is_read(tmp_path):
    missing = tmp_path / "no-such-corpus.txt"
    with pytest.raises(ValueError, match="window"):
        Word2Vec.from_corpus(missing, window=0)
    with pytest.raises(ValueError, match="n_neg"):
        Word2Vec.from_corpus(missing, n_neg=2**30, window=2)
    with pytest.raises(TypeError, match="unknown"):
        Word2Vec.from_corpus(missing, vector_size=10)


def test_config_holds_every_parameter_and_is_saved(tmp_path):
    m = Word2Vec.from_corpus([["a", "b", "c", "a"]] * 30, d=8, min_count=1, epochs=1,
                             workers=1, window=3)
    assert set(m.config) >= set(params.BY_NAME)
    assert m.config["window"] == 3 and m.config["d"] == 8
    m.save(tmp_path / "m.cw2v")
    assert Word2Vec.load(tmp_path / "m.cw2v").config == m.config
    with pytest.raises(TypeError, match="n_neg"):
        m.train([["a", "b"]], n_neg=3)


def test_classic_constructor_uses_the_same_checks():
    with pytest.raises(ValueError, match="n_neg"):
        Word2Vec(["a", "b"], n_neg=params.MAX_NEG + 1)
    with pytest.raises(ValueError, match="d "):
        Word2Vec(["a", "b"], d=0)


def test_io_imports_nothing_from_the_model():
    tree = ast.parse((SOURCE / "io.py").read_text())
    imported = [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    imported += [a.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for a in node.names]
    assert not [m for m in imported if m.split(".")[-1] in ("model", "trainer", "base")]


def test_check_positive_int_lives_with_the_rules():
    from cw2v import base

    assert params.check_positive_int("workers", np.int64(3)) == 3
    assert params.check_positive_int("total_words", 0, minimum=0) == 0
    for bad in (0, 2.0, True, "3"):
        with pytest.raises(ValueError, match="workers"):
            params.check_positive_int("workers", bad)
    assert base.check_positive_int is params.check_positive_int  # (its old home keeps it)


# -- the package's import graph -------------------------------------------------------------------

#: cw2v's modules, by name (a compiled one's file name ends ``.cpython-...so``).
MODULES = {p.name.split(".")[0] for p in SOURCE.iterdir()
           if p.suffix in (".py", ".so", ".pyd") and p.name[0] != "."}

#: The only imports of a cw2v module inside a function: (module, function, imported module).
#: Documented facade methods that forward to a module which imports theirs (``io`` and
#: ``interop`` import ``vectors``; ``interop`` imports ``model``). An optional dependency
#: (gensim, matplotlib, fsspec) may be imported in a function too, but it is not a cw2v module.
#: The CLI imports its commands' modules at module level: ``import cw2v`` already loads the
#: model, and the rest (projector; phrases, now loaded by the model) added 1 ms to
#: ``python -m cw2v --help`` (15-20 ms where no bytecode is cached), far below the 100 ms that
#: would have kept "the CLI loads a command's modules when the command runs" on this list.
ALLOWED_IN_FUNCTIONS = {
    ("vectors", "Vectors.load_word2vec_format", "io"),
    ("vectors", "Vectors.save_word2vec_format", "io"),
    ("vectors", "Vectors.save", "io"),
    ("vectors", "Vectors.load", "io"),
    ("vectors", "Vectors.from_gensim", "interop"),
    ("vectors", "Vectors.to_gensim", "interop"),
    ("model", "Word2Vec.to_gensim", "interop"),
    ("model", "Word2Vec.from_gensim", "interop"),
}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING"
            or isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imported_modules(node: ast.Import | ast.ImportFrom) -> list[str]:
    """The cw2v modules an import statement of a cw2v module loads (``__init__`` for a name
    taken from the package itself)."""
    if isinstance(node, ast.Import):
        dotted = [a.name for a in node.names]
    else:
        assert node.level <= 1, f"cw2v has no subpackages: from {'.' * node.level}{node.module}"
        source = "cw2v" + (f".{node.module}" if node.module else "") if node.level else (
            node.module or "")
        dotted = [f"cw2v.{a.name}" for a in node.names] if source == "cw2v" else [source]
    found = []
    for name in dotted:
        parts = name.split(".")
        if parts[0] == "cw2v":
            found.append(parts[1] if len(parts) > 1 and parts[1] in MODULES else "__init__")
    return found


def _cw2v_imports(module: str) -> list[tuple[str | None, str]]:
    """(function, imported module) for each import of a cw2v module in ``module``'s source:
    function None at module level (class bodies included), else its dotted name
    (``Class.method``). Imports under ``if TYPE_CHECKING:`` are left out: they never run."""
    found: list[tuple[str | None, str]] = []

    def visit(node: ast.AST, scope: list[str], function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.orelse:
                    visit(ast.Module(body=[stmt], type_ignores=[]), scope, function)
            elif isinstance(child, (ast.Import, ast.ImportFrom)):
                found.extend((function, m) for m in _imported_modules(child))
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = ".".join(scope + [child.name])
                visit(child, scope + [child.name], name)
            elif isinstance(child, ast.ClassDef):
                visit(child, scope + [child.name], function)
            else:
                visit(child, scope, function)

    visit(ast.parse((SOURCE / f"{module}.py").read_text(encoding="utf-8")), [], None)
    return found


def _python_modules() -> list[str]:
    return sorted(p.stem for p in SOURCE.glob("*.py"))


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of ``graph`` (its nodes, the first repeated at the end), or None."""
    done: set[str] = set()
    path: list[str] = []

    def walk(node: str) -> list[str] | None:
        if node in path:
            return path[path.index(node):] + [node]
        if node in done:
            return None
        path.append(node)
        for target in sorted(graph.get(node, ())):
            cycle = walk(target)
            if cycle:
                return cycle
        path.pop()
        done.add(node)
        return None

    return next((c for c in map(walk, sorted(graph)) if c), None)


def test_the_import_graph_helpers_see_imports_and_cycles():
    tree = ast.parse("from . import io, params, Word2Vec\nfrom .model import W\nimport cw2v.plot\n"
                     "from cw2v import vectors\nimport numpy\nfrom .io import MAGIC\n"
                     "from cw2v.phrases import Phrases\nimport cw2v")
    assert [m for node in tree.body for m in _imported_modules(node)] == [
        "io", "params", "__init__", "model", "plot", "vectors", "io", "phrases", "__init__"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None
    imports = _cw2v_imports("vectors")
    assert (None, "_rows") in imports and ("Vectors.to_gensim", "interop") in imports
    assert (None, "_files") not in imports  # (under TYPE_CHECKING)


def test_no_cycle_among_module_level_imports():
    graph = {m: {t for f, t in _cw2v_imports(m) if f is None} for m in _python_modules()}
    assert graph["model"] >= {"corpus", "trainer", "phrases"}
    assert "base" not in graph["corpus"] | graph["vocab"]  # (the model's state lends no checks)
    cycle = _cycle(graph)
    assert cycle is None, "module-level import cycle: " + " -> ".join(cycle or [])
    graph["vectors"].add("io")  # why Vectors' facade methods import io inside them
    assert set(_cycle(graph) or []) == {"io", "vectors"}


def test_only_the_allowed_imports_of_cw2v_modules_are_inside_functions():
    found = {(m, f, t) for m in _python_modules() for f, t in _cw2v_imports(m) if f is not None}
    unexpected = sorted(found - ALLOWED_IN_FUNCTIONS)
    assert not unexpected, ("import these at module level (or, for a documented facade method, "
                            f"add to ALLOWED_IN_FUNCTIONS): {unexpected}")
    assert found == ALLOWED_IN_FUNCTIONS, f"no longer imported: {ALLOWED_IN_FUNCTIONS - found}"


def test_top_level_loader_and_lazy_submodules(tmp_path):
    v = Vectors(["a", "b"], np.arange(6, dtype=np.float32).reshape(2, 3))
    v.save_word2vec_format(tmp_path / "v.txt")
    assert cw2v.load_word2vec_format(tmp_path / "v.txt").vocab == ["a", "b"]
    assert Vectors.load_word2vec_format(tmp_path / "v.txt").vectors.tolist() == v.vectors.tolist()
    code = "import cw2v; print(callable(cw2v.evaluate.analogies), callable(cw2v.corpus.build))"
    env = dict(os.environ, PYTHONPATH=str(SOURCE.parent))  # the cw2v under test, not the checkout's
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=tmp_path, env=env)
    assert out.stdout.split() == ["True", "True"]
    with pytest.raises(AttributeError):
        cw2v.no_such_module  # noqa: B018
