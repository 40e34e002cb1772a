"""The host secret file: made once, owner-only, refused when others can read it or it is malformed."""

from __future__ import annotations

import stat

import pytest

from actors.host_secret import HOST_SECRET_ENV, HostSecretError, default_host_secret_path, load_host_secret
from engine import HOST_SECRET_BYTES


def test_made_once_owner_only_and_read_back(tmp_path):
    path = tmp_path / "state" / "loupgarou" / "host-secret"
    first = load_host_secret(path)
    assert len(first) == HOST_SECRET_BYTES
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_host_secret(path) == first  # the same host keeps its secret: same seed, same game
    assert load_host_secret(tmp_path / "other") != first


def test_a_secret_others_can_read_is_refused(tmp_path):
    path = tmp_path / "host-secret"
    load_host_secret(path)
    path.chmod(0o644)
    with pytest.raises(HostSecretError, match=r"readable by others.*chmod 600"):
        load_host_secret(path)


@pytest.mark.parametrize("content", ["", "not hex at all", "abcd"])
def test_a_malformed_secret_is_refused(tmp_path, content):
    path = tmp_path / "host-secret"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(HostSecretError, match="delete it to make a new one"):
        load_host_secret(path)


def test_default_path_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(HOST_SECRET_ENV, str(tmp_path / "named"))
    assert default_host_secret_path() == tmp_path / "named"
    monkeypatch.delenv(HOST_SECRET_ENV)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert default_host_secret_path() == tmp_path / "xdg" / "loupgarou" / "host-secret"
