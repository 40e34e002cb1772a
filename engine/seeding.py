"""Where a game's randomness comes from: a public seed, and a key that only the host knows.

Theory of operation
-------------------
The dealing code is public, so a deal drawn from the seed alone is no secret: anyone who knows or
guesses the seed (`--seed 42`, a tournament's seeds 1..N, or a small random one found by searching
against the first phase id a spectator sees) replays the deal. A hosted game is therefore *keyed*:

- the host keeps a secret of its own (`host_secret`, 32 random bytes it never sends);
- each game's key is HMAC-SHA256(host_secret, seed): the same seed on the same host gives the same
  game, a game's key tells nothing about the key of any other seed (a log handed out after the game,
  which records its key so that it replays, does not help with the host's other games);
- every random stream of the game (the deal, the public draws, the opaque phase ids) and each seat's
  agent is seeded from its own HMAC-SHA512 of the key with a label, so the streams are independent:
  what players see of one (speaking orders, phase ids) says nothing about another (the deal).

A game built without a key (`key=None`: engine tests, benchmarks, records made before keys existed)
draws from the seed alone, as it always did; that is reproducible but not secret.
"""

from __future__ import annotations

import hashlib
import hmac

#: Bytes of a host secret; 256 bits, the size of the HMAC-SHA256 output it keys.
HOST_SECRET_BYTES = 32
#: Bits of a default seed: too many to search (a 20-bit seed was found in seconds on two cores).
DEFAULT_SEED_BITS = 128


def game_key(host_secret: bytes, seed: int) -> bytes:
    """The secret key of game `seed` on the host holding `host_secret` (32 bytes)."""
    if len(host_secret) < HOST_SECRET_BYTES // 2:
        raise ValueError(f"a host secret needs at least {HOST_SECRET_BYTES // 2} bytes")
    return hmac.new(host_secret, f"loupgarou/game/{seed}".encode(), hashlib.sha256).digest()


def stream_seed(key: bytes, label: str) -> bytes:
    """Seed material for the random stream named `label` of the game keyed by `key`."""
    return hmac.new(key, f"loupgarou/stream/{label}".encode(), hashlib.sha512).digest()


def seat_seed(key: bytes | None, seed: int, index: int) -> int:
    """The seed of the built-in agent at seat `index` (from 0): its own stream, secret in a keyed game.

    An agent's play depends on its role; if its random choices could be recomputed (from a known game
    seed), its public speech would tell its role apart. Unkeyed games keep the old `seed * 100 + index`.
    """
    if key is None:
        return seed * 100 + index
    return int.from_bytes(stream_seed(key, f"seat/{index}")[:16], "big")
