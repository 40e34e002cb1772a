"""Pure helpers for counting votes (day votes and the wolves' kill vote)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from engine.vocabulary import PlayerId


def tally(
    votes: Iterable[tuple[PlayerId, PlayerId | None]], seat: Mapping[PlayerId, int]
) -> tuple[tuple[PlayerId, int], ...]:
    """Count votes per target, most votes first, ties in seat order; abstentions (None) are not counted."""
    counts: dict[PlayerId, int] = {}
    for _, target in votes:
        if target is not None:
            counts[target] = counts.get(target, 0) + 1
    return tuple(sorted(counts.items(), key=lambda item: (-item[1], seat[item[0]])))


def leaders(counted: tuple[tuple[PlayerId, int], ...]) -> tuple[PlayerId, ...]:
    """The players tied for the most votes, in seat order (empty if nobody got a vote)."""
    if not counted:
        return ()
    top = counted[0][1]
    return tuple(p for p, n in counted if n == top)
