"""The host's secret: 32 random bytes kept in a file only its owner can read, never sent anywhere.

Every hosted game is keyed by HMAC(host secret, seed) (`engine.seeding`): the same seed on the same
host replays the same game, while a spectator who knows or guesses the seed still cannot recompute the
deal. Losing the file only means that old seeds no longer give the same games on this host (their logs
still replay: each log carries its own game's key).
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path

from engine import HOST_SECRET_BYTES

logger = logging.getLogger(__name__)

#: Environment variable naming the secret's file (the `--host-secret` option wins over it).
HOST_SECRET_ENV = "LOUPGAROU_HOST_SECRET"


class HostSecretError(Exception):
    """The host secret file cannot be used (unreadable, malformed, or readable by others)."""


def default_host_secret_path() -> Path:
    """`$LOUPGAROU_HOST_SECRET`, else `$XDG_STATE_HOME/loupgarou/host-secret` (~/.local/state by default)."""
    named = os.environ.get(HOST_SECRET_ENV)
    if named:
        return Path(named)
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "loupgarou" / "host-secret"


def load_host_secret(path: Path | None = None) -> bytes:
    """Read the host secret at `path` (default: `default_host_secret_path()`), creating it if missing.

    The file holds the secret in hex and must not be readable by group or others: a secret anyone on the
    machine can read protects nothing, so such a file is refused (HostSecretError) rather than used.
    """
    path = path or default_host_secret_path()
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:  # O_EXCL: two hosts starting at once must not each write a different secret
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read(path)
    except OSError as exc:
        raise HostSecretError(f"cannot create the host secret {path}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secrets.token_hex(HOST_SECRET_BYTES) + "\n")
    logger.info("created a new host secret at %s", path)
    return _read(path)


def _read(path: Path) -> bytes:
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise HostSecretError(f"cannot read the host secret {path}: {exc}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise HostSecretError(
            f"the host secret {path} is readable by others (mode {stat.S_IMODE(mode):o}): "
            f"run `chmod 600 {path}`, or delete it to make a new one"
        )
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        secret = b""
    if len(secret) < HOST_SECRET_BYTES:
        raise HostSecretError(
            f"the host secret {path} is not {HOST_SECRET_BYTES} bytes in hex: delete it to make a new one"
        )
    return secret
