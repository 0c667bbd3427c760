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
