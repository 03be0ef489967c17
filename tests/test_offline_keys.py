"""The store's key: a 0600 file apart from the database, refused when unsafe; AES-GCM sealing."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from offline_cache import (
    KEY_BYTES,
    FileKeyProvider,
    KeyInvalid,
    KeyMissing,
    KeyPermissions,
    KeyProvider,
    KeyUnavailable,
    OfflineStore,
)
from offline_cache.sealing import NONCE_BYTES, Sealer, Unsealable, associated_data


def test_create_writes_a_random_owner_only_key_once(tmp_path: Path) -> None:
    path = tmp_path / "offline.key"
    provider = FileKeyProvider(path, create=True)
    key = provider.load_key()
    assert len(key) == KEY_BYTES
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert provider.load_key() == key  # not replaced on the next start
    assert FileKeyProvider(path).load_key() == key
    other = FileKeyProvider(tmp_path / "other.key", create=True).load_key()
    assert other != key


def test_create_ignores_a_loose_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        FileKeyProvider(tmp_path / "k", create=True).load_key()
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "k").stat().st_mode) == 0o600


def test_missing_key_is_refused_with_its_path_and_never_invented(tmp_path: Path) -> None:
    path = tmp_path / "offline.key"
    with pytest.raises(KeyMissing) as info:
        FileKeyProvider(path).load_key()
    assert info.value.code == "offline_cache.key_missing"
    assert str(path) in info.value.detail
    assert not path.exists()


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620, 0o660])
def test_group_or_world_accessible_key_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "offline.key"
    path.write_bytes(os.urandom(KEY_BYTES))
    path.chmod(mode)
    with pytest.raises(KeyPermissions) as info:
        FileKeyProvider(path).load_key()
    assert info.value.code == "offline_cache.key_permissions"
    assert f"{mode:04o}" in info.value.detail and "chmod 600" in info.value.detail
    with pytest.raises(KeyPermissions):  # create=True does not paper over it either
        FileKeyProvider(path, create=True).load_key()


@pytest.mark.parametrize("size", [0, 16, 31, 33, 64])
def test_key_of_the_wrong_size_is_refused(tmp_path: Path, size: int) -> None:
    path = tmp_path / "offline.key"
    path.write_bytes(os.urandom(size))
    path.chmod(0o600)
    with pytest.raises(KeyInvalid) as info:
        FileKeyProvider(path).load_key()
    assert info.value.code == "offline_cache.key_invalid"
    assert f"{size} bytes" in info.value.detail


def test_key_path_that_is_a_directory_or_in_a_missing_folder(tmp_path: Path) -> None:
    (tmp_path / "dir.key").mkdir(mode=0o700)
    with pytest.raises(KeyInvalid):
        FileKeyProvider(tmp_path / "dir.key").load_key()
    with pytest.raises(KeyUnavailable) as info:
        FileKeyProvider(tmp_path / "nowhere" / "k", create=True).load_key()
    assert "does not exist" in info.value.detail


def test_key_problem_is_reported_before_any_database_file_appears(tmp_path: Path) -> None:
    with pytest.raises(KeyMissing):
        OfflineStore.open(tmp_path / "offline.db", FileKeyProvider(tmp_path / "none.key"))
    assert list(tmp_path.iterdir()) == []


class MemoryKey:
    """What a secure-element provider looks like: any object with these two methods."""

    def __init__(self, key: bytes) -> None:
        self.key = key

    def load_key(self) -> bytes:
        return self.key

    def describe(self) -> str:
        return "test secure element"


def test_another_provider_can_replace_the_key_file(tmp_path: Path) -> None:
    provider = MemoryKey(os.urandom(KEY_BYTES))
    assert isinstance(provider, KeyProvider)
    with OfflineStore.open(tmp_path / "o.db", provider) as store:
        store.cache.put("config", {"hall": "lanzhou-01"})
    with OfflineStore.open(tmp_path / "o.db", provider) as store:
        cached = store.cache.get("config")
        assert cached is not None and cached.value == {"hall": "lanzhou-01"}


def test_every_seal_has_a_fresh_nonce() -> None:
    sealer = Sealer(os.urandom(KEY_BYTES))
    aad = associated_data("outbox.payload", 1, "report_request")
    sealed = [sealer.seal(b"same plaintext", aad) for _ in range(200)]
    nonces = {s[1 : 1 + NONCE_BYTES] for s in sealed}
    assert len(nonces) == 200
    assert all(sealer.open(s, aad) == b"same plaintext" for s in sealed)


def test_sealed_value_opens_only_for_its_row_table_and_key() -> None:
    key = os.urandom(KEY_BYTES)
    sealer = Sealer(key)
    sealed = sealer.seal(b"secret", associated_data("outbox.payload", 7, "report_request"))
    for wrong in (
        associated_data("outbox.payload", 8, "report_request"),
        associated_data("cached", 7, "report_request"),
        associated_data("outbox.payload", 7, "telemetry"),
    ):
        with pytest.raises(Unsealable):
            sealer.open(sealed, wrong)
    with pytest.raises(Unsealable):
        Sealer(os.urandom(KEY_BYTES)).open(
            sealed, associated_data("outbox.payload", 7, "report_request")
        )
    tampered = bytearray(sealed)
    tampered[-1] ^= 1
    with pytest.raises(Unsealable):
        sealer.open(bytes(tampered), associated_data("outbox.payload", 7, "report_request"))
    assert Sealer(key).open(sealed, associated_data("outbox.payload", 7, "report_request")) == (
        b"secret"
    )
