"""One source for every default and rule: ``cw2v.params``. No other module writes a table
default again, and what a run, a checkpoint and ``from_vocabulary`` carry is made from the table."""
from __future__ import annotations

import ast
import dataclasses
import inspect
from pathlib import Path

import pytest

import cw2v
from cw2v import Word2Vec, params, trainer

PACKAGE = Path(cw2v.__file__).parent

# Modules whose literals are a user's choices, not defaults: the demo is written exactly as a
# script for the classic NumPy class would be.
USER_SCRIPTS = {"demo.py"}


def _literal_defaults(path: Path):
    """(line, what, name, value) for each literal default in a module that names a parameter of
    the table: a function's argument default, ``mapping.get(name, literal)``, a module constant
    named after the parameter (``NS_EXPONENT = 0.75``). None is "not given", not a default."""
    names = set(params.BY_NAME)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = node.args
            positional = a.posonlyargs + a.args
            pairs = list(zip(positional[len(positional) - len(a.defaults):], a.defaults))
            pairs += [(arg, d) for arg, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None]
            for arg, d in pairs:
                if arg.arg in names and isinstance(d, ast.Constant) and d.value is not None:
                    yield d.lineno, f"def {node.name}", arg.arg, d.value
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "get" and len(node.args) == 2
              and isinstance(node.args[0], ast.Constant) and node.args[0].value in names
              and isinstance(node.args[1], ast.Constant) and node.args[1].value is not None):
            yield node.lineno, ".get", node.args[0].value, node.args[1].value
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id.lower() in names:
                    yield node.lineno, "constant", target.id.lower(), node.value.value


def test_no_module_but_params_writes_a_table_default():
    """A literal equal to a row's default, for a parameter of that name, anywhere but params.py,
    is a second copy of the default. A literal that differs is a deliberate choice of its own
    (the classic class's ``d=50``, kept for its scripts and documented in its docstring; the
    vocabulary's ``min_count=1`` filter): those are allowed."""
    found = []
    for path in sorted(PACKAGE.glob("*.py")):
        if path.name in USER_SCRIPTS | {"params.py"}:
            continue
        for line, what, name, value in _literal_defaults(path):
            default = params.BY_NAME[name].default
            if value == default and type(value) is type(default):
                found.append(f"{path.name}:{line}: {what} {name}={value!r}")
    assert not found, "table defaults written outside cw2v/params.py (use params.default):\n" \
        + "\n".join(found)


def test_the_literal_scan_sees_each_kind(tmp_path):
    """The scan above finds each form it looks for (so it can fail)."""
    module = tmp_path / "m.py"
    module.write_text("NS_EXPONENT = 0.75\n"
                      "def build(corpus, min_count=5, *, window=5, seed=None):\n"
                      "    return config.get('n_neg', 5)\n")
    assert sorted((what, name, value) for _, what, name, value in _literal_defaults(module)) \
        == [(".get", "n_neg", 5), ("constant", "ns_exponent", 0.75),
            ("def build", "min_count", 5), ("def build", "window", 5)]


def test_the_classic_d_is_the_one_documented_exception():
    assert inspect.signature(Word2Vec).parameters["d"].default == 50 != params.default("d")
    assert "classic NumPy class's default" in Word2Vec.__doc__


def test_settings_are_made_from_the_table():
    """``Settings`` has one field per row, in order, and no default of its own; the trainer,
    the checkpoint and ``from_vocabulary`` take them all."""
    fields = dataclasses.fields(params.Settings)
    assert [f.name for f in fields] == [p.name for p in params.PARAMETERS]
    assert all(f.default is dataclasses.MISSING for f in fields)
    assert params.settings().as_dict() == params.resolve({})
    signature = inspect.signature(Word2Vec.from_vocabulary).parameters
    assert {n: signature[n].default for n in params.BY_NAME} == params.defaults()
    # the trainer lists no settings of its own: the deprecated alias below adds no field
    assert [n for n in dir(trainer) if n.endswith("Settings") and not n.startswith("_")] \
        == ["Settings"] and trainer.Settings is params.Settings
    assert not vars(trainer._TrainingSettings).get("__annotations__")


def test_from_vocabulary_takes_every_parameter_with_the_table_s_rules():
    vocab = cw2v.vocab.Vocabulary.from_counts({"a": 5, "b": 3, "c": 2}, min_count=1)
    m = Word2Vec.from_vocabulary(vocab, 8, window=2, epochs=3, sg=0, hs=1)
    assert (m.vector_size, m.config["window"], m.config["epochs"], m.config["sg"]) == (8, 2, 3, 0)
    assert m.syn1 is not None
    with pytest.raises(ValueError, match="n_neg=0 with hs=0"):
        Word2Vec.from_vocabulary(vocab, n_neg=0)
    with pytest.raises(ValueError, match="min_lr"):
        Word2Vec.from_vocabulary(vocab, lr=0.01, min_lr=0.1)
    with pytest.raises(TypeError, match="unknown training parameter"):
        Word2Vec.from_vocabulary(vocab, objective="exact")


def test_training_settings_and_objective_stay_as_warning_aliases():
    with pytest.warns(DeprecationWarning, match="TrainingSettings is deprecated"):
        make = trainer.TrainingSettings
    with pytest.warns(DeprecationWarning, match="TrainingSettings is deprecated"):
        from cw2v.trainer import TrainingSettings  # noqa: F401
    s = make(epochs=2, window=3, n_neg=5, sample=0, lr=0.025, min_lr=1e-4, workers=2, seed=1,
             objective="batched")
    assert isinstance(s, params.Settings) and s.mode == "batched" and s.epochs == 2
    with pytest.warns(DeprecationWarning, match="Settings.objective is deprecated"):
        assert s.objective == "batched"
    positional = make(2, 3, 5, 0, 0.025, 1e-4, 2, 1, "batched")  # the old field order
    assert positional == s
    assert issubclass(make, params.Settings)  # its fields are still attributes of the alias
    with pytest.raises(AttributeError):
        trainer.NoSuchName  # noqa: B018
