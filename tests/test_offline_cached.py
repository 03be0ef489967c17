"""Cached catalog/config with their age, and the short-lived reprint cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from offline_cache import InvalidInput, Retention

from .offline_support import PERSON_NAME, Clock, open_store, raw_db

CATALOG = {
    "domains": [{"code": "market", "name": "市场监管", "data_scope": "x", "lists": []}],
    "earliest_date": "2021-01-01",
}


def test_cached_value_comes_back_with_its_age_after_a_restart(tmp_path: Path) -> None:
    clock = Clock()
    with open_store(tmp_path, clock) as store:
        assert store.cache.get("catalog") is None
        store.cache.put("catalog", CATALOG)
        clock.advance(42.5)
        cached = store.cache.get("catalog")
        assert cached is not None and cached.value == CATALOG and cached.age == 42.5
    clock.advance(3600)
    with open_store(tmp_path, clock) as store:
        cached = store.cache.get("catalog")
        assert cached is not None and cached.age == 3642.5 and cached.value == CATALOG
        store.cache.put("catalog", {"domains": []})  # a refresh replaces it and resets the age
        cached = store.cache.get("catalog")
        assert cached is not None and cached.value == {"domains": []} and cached.age == 0


def test_age_never_negative_when_the_clock_steps_back(tmp_path: Path) -> None:
    clock = Clock()
    with open_store(tmp_path, clock) as store:
        store.cache.put("config", {"a": 1})
        clock.advance(-300)  # an NTP correction
        cached = store.cache.get("config")
        assert cached is not None and cached.age == 0


def test_cached_values_are_sealed_per_name(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        store.cache.put("catalog", CATALOG)
        store.cache.put("config", {"hall": "h1"})
        with raw_db(tmp_path / "offline.db") as conn:
            blobs = dict(conn.execute("SELECT name, value FROM cached").fetchall())
            assert "市场监管".encode() not in blobs["catalog"]
            conn.execute("UPDATE cached SET value = ? WHERE name = 'config'", (blobs["catalog"],))
        assert store.cache.get("config") is None  # a value moved under another name is refused
        cached = store.cache.get("catalog")
        assert cached is not None and cached.value == CATALOG


def test_cached_values_have_a_retention_limit(tmp_path: Path) -> None:
    clock = Clock()
    with open_store(tmp_path, clock, retention=Retention(cached=1000)) as store:
        store.cache.put("catalog", CATALOG)
        clock.advance(500)
        store.cache.put("config", {"a": 1})
        clock.advance(501)
        assert store.prune().cached == 1
        assert store.cache.get("catalog") is None and store.cache.get("config") is not None


def test_bad_cache_names_and_values_are_refused(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        with pytest.raises(InvalidInput):
            store.cache.put("../catalog", {})
        with pytest.raises(InvalidInput):
            store.cache.put("catalog", {"x": float("nan")})


def test_reprint_is_served_until_its_ttl_then_gone_and_purged(tmp_path: Path) -> None:
    clock = Clock()
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 400
    with open_store(tmp_path, clock) as store:
        store.reprints.put("R20261122ABC", pdf, {"holder": PERSON_NAME, "pages": 2}, ttl=900)
        clock.advance(899)
        entry = store.reprints.get("R20261122ABC")
        assert entry is not None and entry.pdf == pdf
        assert entry.metadata == {"holder": PERSON_NAME, "pages": 2}
        clock.advance(1)
        assert store.reprints.get("R20261122ABC") is None
        with raw_db(tmp_path / "offline.db") as conn:
            assert conn.execute("SELECT count(*) FROM reprints").fetchone()[0] == 0


def test_reprints_expire_independently_and_purge_counts(tmp_path: Path) -> None:
    clock = Clock()
    with open_store(tmp_path, clock) as store:
        store.reprints.put("A", b"%PDF-a", {}, ttl=60)
        store.reprints.put("B", b"%PDF-b", {}, ttl=600)
        clock.advance(61)
        assert store.prune().reprints == 1
        assert store.reprints.get("A") is None
        entry = store.reprints.get("B")
        assert entry is not None and entry.pdf == b"%PDF-b"
        assert store.reprints.delete("B") is True and store.reprints.get("B") is None
        with pytest.raises(InvalidInput):
            store.reprints.put("C", b"x", {}, ttl=0)
