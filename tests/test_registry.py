"""The registry: every database registered once, reachable by its paper spellings, fully described."""

import dataclasses

import pytest

import fdsl_gen
from fdsl_gen.databases._base import DatabaseConfig
from fdsl_gen.errors import UsageError
from fdsl_gen.options import aliases_of


def test_databases_registered():
    expected = ["fractaldb", "ofdb", "onepfrac", "rcdb", "visual_atom", "ofdb3d", "exfractaldb"]
    assert fdsl_gen.list_databases() == expected


@pytest.mark.parametrize("alias,key", [("FractalDB", "fractaldb"), ("1p-frac", "onepfrac"), ("2D-OFDB", "ofdb"),
                                       ("fractal_db", "fractaldb"), ("OFDB", "ofdb")])
def test_aliases(alias, key):
    assert fdsl_gen.database_class(alias).key == key


def test_unknown_database_names_the_choices():
    with pytest.raises(UsageError, match="unknown database 'nope'.*fractaldb"):
        fdsl_gen.get_database("nope")


def test_unknown_option_is_a_usage_error():
    with pytest.raises(UsageError, match="no option sigma"):
        fdsl_gen.get_database("fractaldb", sigma=3.0)


@pytest.mark.parametrize("key", fdsl_gen.list_databases())
def test_every_database_is_complete(key):
    cls = fdsl_gen.database_class(key)
    assert cls.key == key and cls.summary and "ref" in cls.implemented_backends
    config = cls.Config()
    assert dataclasses.is_dataclass(config) and isinstance(config, DatabaseConfig)  # the shared options
    # every alias of the originals' flags names a real option
    assert set(aliases_of(cls).values()) <= {f.name for f in dataclasses.fields(config)}
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.categories = 3
    db = fdsl_gen.get_database(key, categories=2)
    assert db.n_categories == 2 and db.n_instances >= 1 and len(db.image_shape) == 3
