"""Personas: a line of character per seat, so that LLM speech is varied (drawn from the seed)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Persona:
    """How a player talks."""

    style: str


PERSONAS: tuple[Persona, ...] = (
    Persona("a retired schoolteacher: precise, patient, suspicious of anyone who talks too much"),
    Persona("a young baker: warm, quick to trust, slow to accuse, speaks in short sentences"),
    Persona("a former sailor: blunt, colourful, loves a hunch and says so"),
    Persona("the village notary: formal, cites what each person said earlier, word for word"),
    Persona("a shepherd: quiet, observant, notices who avoids answering"),
    Persona("the innkeeper: sociable, tries to get everyone to agree, hates wasted votes"),
    Persona("a travelling merchant: persuasive, always weighs the odds out loud"),
    Persona("the blacksmith's apprentice: eager, a little nervous, asks direct questions"),
    Persona("a herbalist: calm, speaks in images, trusts behaviour more than words"),
    Persona("the mayor's clerk: methodical, keeps a tally of votes and claims"),
)
