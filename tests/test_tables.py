"""The category-table protocol (`fdsl_gen.databases.tables`): every database's table is a CategoryTable,
files round-trip byte for byte, one type's file is never read as another's, and a cached search is
continued, not redone."""

from __future__ import annotations

import numpy as np
import pytest

import fdsl_gen
from fdsl_gen.databases.tables import CategoryTable, cache
from fdsl_gen.databases.tables.contour import ContourTable
from fdsl_gen.databases.tables.ifs import IFSTable
from fdsl_gen.databases.tables.onepfrac import OnePFracTable
from fdsl_gen.errors import UsageError
from fdsl_gen.registry import database_class, list_databases

SMALL = {"categories": 3}
SMALL_2D = {"size": 64, "points": 4000}


def small(key: str) -> dict:
    """The database's first self-check configuration: a few categories, small and quick."""
    return database_class(key).check_options[0]


@pytest.mark.parametrize("key", list_databases())
def test_every_table_follows_the_protocol_and_round_trips(key, tmp_path):
    db = fdsl_gen.get_database(key, **small(key))
    table = db.table()
    assert isinstance(table, CategoryTable) and table.n_categories == db.n_categories
    assert db.table() is table  # made once
    table.save(tmp_path / "a.safetensors")
    again = type(table).load(tmp_path / "a.safetensors")
    assert again.digest() == table.digest() == db.table_digest() and again.meta == table.meta
    again.save(tmp_path / "b.safetensors")
    assert (tmp_path / "a.safetensors").read_bytes() == (tmp_path / "b.safetensors").read_bytes()
    head = table.head(2)
    assert head.n_categories == 2 and type(head) is type(table)


@pytest.mark.parametrize("writer,reader", [(IFSTable, OnePFracTable), (OnePFracTable, ContourTable),
                                           (ContourTable, IFSTable)])
def test_a_file_of_another_table_type_is_refused(writer, reader, tmp_path):
    key = {IFSTable: "ofdb", OnePFracTable: "onepfrac", ContourTable: "rcdb"}[writer]
    fdsl_gen.get_database(key, **small(key)).table().save(tmp_path / "t.safetensors")
    with pytest.raises(ValueError, match="is not a"):
        reader.load(tmp_path / "t.safetensors")


def test_user_table_errors_are_one_line_usage_errors(tmp_path):
    fdsl_gen.get_database("rcdb", categories=2).table().save(tmp_path / "contours.safetensors")
    with pytest.raises(UsageError, match="cannot read the category table"):
        fdsl_gen.get_database("onepfrac", table=str(tmp_path / "contours.safetensors")).table()
    with pytest.raises(UsageError, match="does not exist"):
        fdsl_gen.get_database("onepfrac", table=str(tmp_path / "missing.safetensors"))
    fdsl_gen.get_database("onepfrac", **SMALL, **SMALL_2D).write_table(tmp_path / "p")
    with pytest.raises(UsageError, match="has 3 categories, 4 were asked for"):
        fdsl_gen.get_database("onepfrac", categories=4, table=str(tmp_path / "p" / "table.safetensors"))


def test_a_cached_search_is_continued_and_a_damaged_cache_is_redone(tmp_path, monkeypatch):
    monkeypatch.setenv("FDSL_CACHE_DIR", str(tmp_path))
    calls = []

    def search(n, start, progress):
        calls.append((n, None if start is None else start.n_categories))
        done = 0 if start is None else start.n_categories
        systems = [np.array([[0.5, 0, 0, 0.5, k, 0, 1.0]]) for k in range(n)]
        if start is not None:
            systems[:done] = [start.system(k) for k in range(done)]
        return IFSTable.from_systems(systems)

    name = cache.cache_name("test", {"seed": 1})
    first = cache.cached_table(IFSTable, name, 3, search)
    more = cache.cached_table(IFSTable, name, 5, search)
    fewer = cache.cached_table(IFSTable, name, 2, search)
    assert calls == [(3, None), (5, 3)] and more.head(3).digest() == first.digest()
    assert fewer.digest() == more.head(2).digest()
    (tmp_path / f"{name}.safetensors").write_bytes(b"damaged")
    assert cache.cached_table(IFSTable, name, 4, search).digest() == more.head(4).digest()
    assert calls[-1] == (4, None)


def test_onepfrac_uses_the_shared_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FDSL_CACHE_DIR", str(tmp_path))
    three = fdsl_gen.get_database("onepfrac", categories=3, **SMALL_2D).table()
    files = list(tmp_path.glob("onepfrac-*.safetensors"))
    assert len(files) == 1 and OnePFracTable.load(files[0]).digest() == three.digest()
    five = fdsl_gen.get_database("onepfrac", categories=5, **SMALL_2D).table()
    np.testing.assert_array_equal(five.factors[:3], three.factors)
    assert OnePFracTable.load(files[0]).n_categories == 5
